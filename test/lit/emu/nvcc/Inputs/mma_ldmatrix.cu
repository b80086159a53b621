// One warp: D (16x8 f32) = A (16x16 f16, row-major) * B (16x8 f16,
// row-major K x N) + C through ldmatrix.x4, ldmatrix.x2.trans and
// mma.sync.m16n8k16 in inline PTX.
#include <cuda_fp16.h>

extern "C" __global__ void mma_ldmatrix(const half *a, const half *b,
                                        const float *c, float *d) {
  __shared__ __align__(16) half sa[16 * 16];
  __shared__ __align__(16) half sb[16 * 8];
  unsigned l = threadIdx.x;
  for (unsigned i = l; i < 256; i += 32)
    sa[i] = a[i];
  for (unsigned i = l; i < 128; i += 32)
    sb[i] = b[i];
  __syncwarp();
  unsigned m = l / 8, row = l % 8 + 8 * (m % 2), col = 8 * (m / 2);
  unsigned pa = (unsigned)__cvta_generic_to_shared(&sa[row * 16 + col]);
  unsigned pb = (unsigned)__cvta_generic_to_shared(&sb[(l % 16) * 8]);
  unsigned a0, a1, a2, a3, b0, b1;
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(a0), "=r"(a1), "=r"(a2), "=r"(a3)
               : "r"(pa));
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];"
               : "=r"(b0), "=r"(b1)
               : "r"(pb));
  unsigned g = l / 4, t = l % 4;
  float c0 = c[g * 8 + 2 * t], c1 = c[g * 8 + 2 * t + 1];
  float c2 = c[(g + 8) * 8 + 2 * t], c3 = c[(g + 8) * 8 + 2 * t + 1];
  float d0, d1, d2, d3;
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
               "{%10, %11, %12, %13};"
               : "=f"(d0), "=f"(d1), "=f"(d2), "=f"(d3)
               : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1),
                 "f"(c0), "f"(c1), "f"(c2), "f"(c3));
  d[g * 8 + 2 * t] = d0;
  d[g * 8 + 2 * t + 1] = d1;
  d[(g + 8) * 8 + 2 * t] = d2;
  d[(g + 8) * 8 + 2 * t + 1] = d3;
}
