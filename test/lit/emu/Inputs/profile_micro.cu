// Microkernels for the profiler's counters (test/lit/emu/profile.test);
// profile_micro.ptx is `nvcc -ptx -arch=sm_80 -O3 profile_micro.cu`.
#include <cstdint>
// Global access patterns (one warp each): coalesced, stride 2, stride 32,
// 16-byte vectors, a row starting 4 bytes into a sector.
extern "C" __global__ void g_coalesced(const float* in, float* out) { out[threadIdx.x] = in[threadIdx.x]; }
extern "C" __global__ void g_stride2(const float* in, float* out) { out[threadIdx.x] = in[2 * threadIdx.x]; }
extern "C" __global__ void g_stride32(const float* in, float* out) { out[threadIdx.x] = in[32 * threadIdx.x]; }
extern "C" __global__ void g_vec16(const float4* in, float4* out) { out[threadIdx.x] = in[threadIdx.x]; }
extern "C" __global__ void g_misaligned(const float* in, float* out) { out[threadIdx.x] = in[threadIdx.x + 1]; }
// Shared memory patterns: each thread writes then reads one word.
extern "C" __global__ void s_patterns(float* out, int mode) {
  __shared__ float s[32 * 33 * 4];
  unsigned t = threadIdx.x;
  unsigned idx = mode == 0 ? t            // conflict-free
               : mode == 1 ? 2 * t        // 2-way
               : mode == 2 ? 32 * t       // 32-way
               : 0;                       // broadcast (read), all to one word
  s[t] = float(t);
  __syncthreads();
  out[t] = s[idx];
}
extern "C" __global__ void s_vec16(float4* out) {
  __shared__ float4 s[64];
  unsigned t = threadIdx.x;
  s[t] = make_float4(t, t, t, t);
  __syncthreads();
  out[t] = s[t];
}
// ldmatrix from an 8 x 64 f16 tile (rows of 128 bytes): matrix m is the
// 16-byte chunk m of rows 0..7; lane l gives the address of row l % 8 of
// matrix l / 8. Unswizzled, chunk m of every row sits in the same 4 banks;
// swizzled (swz = 1), chunk m of row r is stored at chunk m ^ r.
__device__ unsigned ldm_row(unsigned short* s, int swz) {
  unsigned t = threadIdx.x;
  for (unsigned i = t; i < 8 * 64; i += 32)
    s[i] = (unsigned short)i;
  __syncthreads();
  unsigned r = t % 8, m = t / 8;
  unsigned chunk = swz ? (m ^ r) : m;
  return (unsigned)__cvta_generic_to_shared(s + r * 64 + chunk * 8);
}
extern "C" __global__ void ldm_x1(unsigned* out, int swz) {
  __shared__ __align__(128) unsigned short s[8 * 64];
  unsigned a = ldm_row(s, swz), d0;
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];" : "=r"(d0) : "r"(a));
  out[threadIdx.x] = d0;
}
extern "C" __global__ void ldm_x4(unsigned* out, int swz) {
  __shared__ __align__(128) unsigned short s[8 * 64];
  unsigned a = ldm_row(s, swz), d0, d1, d2, d3;
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(d0), "=r"(d1), "=r"(d2), "=r"(d3) : "r"(a));
  out[threadIdx.x] = d0 + d1 + d2 + d3;
}
extern "C" __global__ void ldm_x4_trans(unsigned* out, int swz) {
  __shared__ __align__(128) unsigned short s[8 * 64];
  unsigned a = ldm_row(s, swz), d0, d1, d2, d3;
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(d0), "=r"(d1), "=r"(d2), "=r"(d3) : "r"(a));
  out[threadIdx.x] = d0 + d1 + d2 + d3;
}
// 16-byte cp.async: lane t copies in[stride * t] to s[stride * t] (stride in
// 16-byte chunks; 1: contiguous, 8: every lane at a 128-byte step).
extern "C" __global__ void cp_async16(const int4* in, int4* out, int stride) {
  __shared__ __align__(128) int4 s[32 * 8];
  unsigned t = threadIdx.x;
  unsigned dst = (unsigned)__cvta_generic_to_shared(s + stride * t);
  size_t src;
  asm("cvta.to.global.u64 %0, %1;" : "=l"(src) : "l"(in + stride * t));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(dst), "l"(src) : "memory");
  asm volatile("cp.async.wait_all;" ::: "memory");
  __syncthreads();
  out[t] = s[stride * t];
}
