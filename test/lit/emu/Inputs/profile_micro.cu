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
