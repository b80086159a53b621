// Kernels that use the parts of PTX nvcc 13 emits for sm_80/sm_90 beyond
// plain arithmetic: generic addresses into shared and global memory,
// atomics of every kind, dp4a/sad/bfind, f64, ld.acquire/st.release,
// createpolicy with cache hints, inline-asm scopes, wmma, cp.async and
// stmatrix. Compiled to isa_nvcc.ptx with
//   nvcc -ptx -arch=sm_90 isa.cu -o isa_nvcc.ptx
// and checked by isa_check.py.
#include <cuda_fp16.h>
#include <cuda_pipeline.h>
#include <mma.h>
using namespace nvcuda;

// out[i] = 2 * in[i ^ 1] read through a generic pointer that points into
// shared memory for odd i and global memory for even i; the count of odd
// threads is added through a generic pointer to shared memory.
extern "C" __global__ void generic_ptr(float *out, const float *in,
                                       int *count) {
  __shared__ float tile[64];
  __shared__ int odd;
  int i = threadIdx.x;
  if (i == 0)
    odd = 0;
  tile[i] = in[i];
  __syncthreads();
  const float *p = (i & 1) ? tile : in;
  int *q = (i & 1) ? &odd : count;
  out[i] = 2.0f * p[i ^ 1];
  atomicAdd(q, 1);
  __syncthreads();
  if (i == 0)
    count[1] = odd;
}

extern "C" __global__ void atomics(int *a, unsigned long long *b, __half2 *h,
                                   double *d, float *f, const int *v) {
  int i = threadIdx.x;
  int x = v[i];
  atomicAdd(&a[0], x);
  atomicOr(&a[1], x);
  atomicAnd(&a[2], x);
  atomicXor(&a[3], x);
  atomicInc((unsigned *)&a[4], 100u);
  atomicDec((unsigned *)&a[5], 100u);
  atomicMax(&a[6], x);
  atomicMin(&a[7], x);
  atomicAdd_block(&a[8], x);
  atomicAdd_system(&a[9], x);
  atomicAdd(&b[0], (unsigned long long)(unsigned)x);
  atomicMax(&b[1], (unsigned long long)(unsigned)x);
  atomicAdd(&h[0], __halves2half2(__int2half_rn(x & 7), __int2half_rn(x & 3)));
  atomicAdd(&d[0], 0.25 * (x & 255));
  atomicAdd(&f[0], 0.5f * (x & 15));
}

extern "C" __global__ void intmisc(const int *in, int *out, double *dout) {
  int i = threadIdx.x;
  int x = in[i], y = in[i + 32];
  out[i] = __dp4a(x, y, i);
  out[i + 32] = __dp4a((unsigned)x, (unsigned)y, (unsigned)i);
  out[i + 64] = __sad(x, y, 3u);
  out[i + 96] = __clz(x) + __ffs(y) + __popc(x);
  int r;
  asm("bfind.u32 %0, %1;" : "=r"(r) : "r"(x));
  out[i + 128] = r;
  asm("bfind.s32 %0, %1;" : "=r"(r) : "r"(y));
  out[i + 160] = r;
  double a = x * 0.125, b = y * 0.5;
  dout[i] = a * b - a / b + sqrt(fabs(a));
  unsigned v;
  asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(in + i));
  asm volatile("st.release.gpu.global.u32 [%0], %1;" ::"l"(out + 192 + i),
               "r"(v));
  asm volatile("fence.acq_rel.gpu;");
  asm volatile("{.reg .b64 p; createpolicy.fractional.L2::evict_last.b64 p, "
               "1.0; ld.global.L2::cache_hint.u32 %0, [%1], p;}"
               : "=r"(v)
               : "l"(in + 32 + i));
  // Two scopes declare 't' with different types.
  asm volatile("{.reg .f32 t; mov.b32 t, %1; add.f32 t, t, t; mov.b32 %0, t;}"
               : "=r"(v)
               : "r"(v));
  asm volatile("{.reg .b16 t; mov.b32 {t, _}, %1; cvt.u32.u16 %0, t;}"
               : "=r"(r)
               : "r"(x));
  out[224 + i] = v;
  out[256 + i] = r;
}

extern "C" __global__ void wmma_f16(const half *a, const half *b, float *c,
                                    half *c16) {
  wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fa;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::col_major> fb;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> fc;
  wmma::fragment<wmma::accumulator, 16, 16, 16, half> fh;
  wmma::load_matrix_sync(fc, c, 16, wmma::mem_col_major);
  wmma::load_matrix_sync(fa, a, 16);
  wmma::load_matrix_sync(fb, b, 16);
  wmma::fill_fragment(fh, __float2half(0.5f));
  wmma::mma_sync(fc, fa, fb, fc);
  wmma::mma_sync(fh, fa, fb, fh);
  wmma::store_matrix_sync(c, fc, 16, wmma::mem_row_major);
  wmma::store_matrix_sync(c16, fh, 16, wmma::mem_col_major);
}

// out[i] = in[127 - i] through shared memory filled by cp.async.
extern "C" __global__ void cpasync(const float *in, float *out) {
  __shared__ float s[128];
  __pipeline_memcpy_async(&s[threadIdx.x], &in[threadIdx.x], 4);
  __pipeline_commit();
  __pipeline_wait_prior(0);
  __syncthreads();
  out[threadIdx.x] = s[127 - threadIdx.x];
}

// stmatrix.x1 of the 8x8 b16 fragment held in[lane] into shared memory,
// copied out row-major; .trans transposed to out[64..127].
extern "C" __global__ void stmatrix(const unsigned *in, unsigned short *out) {
  __shared__ __align__(16) unsigned short s[2][64];
  unsigned l = threadIdx.x, v = in[l];
  unsigned a0 = (unsigned)__cvta_generic_to_shared(&s[0][(l & 7) * 8]);
  unsigned a1 = (unsigned)__cvta_generic_to_shared(&s[1][(l & 7) * 8]);
  asm volatile("stmatrix.sync.aligned.m8n8.x1.shared.b16 [%0], {%1};" ::"r"(a0),
               "r"(v));
  asm volatile(
      "stmatrix.sync.aligned.m8n8.x1.trans.shared.b16 [%0], {%1};" ::"r"(a1),
      "r"(v));
  __syncwarp();
  for (int k = 0; k < 4; ++k)
    out[l * 4 + k] = (&s[0][0])[l * 4 + k];
}
