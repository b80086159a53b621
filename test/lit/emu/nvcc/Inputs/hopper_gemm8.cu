// 8-bit Hopper GEMM tiles (compile with -arch=sm_90a): C (M x N) = A (M x K)
// * B^T with A and B (N x K) K-major, as s8 x s8 -> s32 and e4m3 x e4m3 ->
// f32. Each CTA of 128 threads (one warpgroup) computes a 64 x 64 tile: per
// 128-byte K block the threads copy the A and B rows into shared memory
// under the 128-byte swizzle (16-byte chunk j of row r at chunk j ^ (r % 8)),
// then issue four wgmma.mma_async m64n64k32 whose matrix descriptors
// (128-byte swizzle, 1024-byte stride between 8-row groups) start 32 bytes
// further into the swizzled rows at each K step.
#include <cstdint>

__device__ uint64_t descriptor(const void *smem) {
  uint64_t a = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  return ((a & 0x3ffff) >> 4) | 1ull << 16 | (1024ull >> 4) << 32 |
         1ull << 62;
}

#define R8(i) "+r"(d[i]), "+r"(d[i + 1]), "+r"(d[i + 2]), "+r"(d[i + 3]), \
              "+r"(d[i + 4]), "+r"(d[i + 5]), "+r"(d[i + 6]), "+r"(d[i + 7])
#define F8(i) "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3]), \
              "+f"(d[i + 4]), "+f"(d[i + 5]), "+f"(d[i + 6]), "+f"(d[i + 7])
#define DREGS                                                              \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, "  \
  "%30, %31}"

__device__ void wgmma(int *d, uint64_t da, uint64_t db) {
  asm volatile("wgmma.mma_async.sync.aligned.m64n64k32.s32.s8.s8 " DREGS
               ", %32, %33, 1;\n"
               : R8(0), R8(8), R8(16), R8(24)
               : "l"(da), "l"(db));
}

__device__ void wgmma(float *d, uint64_t da, uint64_t db) {
  asm volatile("wgmma.mma_async.sync.aligned.m64n64k32.f32.e4m3.e4m3 " DREGS
               ", %32, %33, 1, 1, 1;\n"
               : F8(0), F8(8), F8(16), F8(24)
               : "l"(da), "l"(db));
}

template <typename T>
__device__ void gemm8(const uint8_t *a, const uint8_t *b, T *c, int n,
                      int k) {
  __shared__ alignas(1024) uint8_t sa[64 * 128];
  __shared__ alignas(1024) uint8_t sb[64 * 128];
  int m0 = blockIdx.y * 64, n0 = blockIdx.x * 64;
  T d[32];
  for (int i = 0; i < 32; ++i)
    d[i] = 0;
  for (int kb = 0; kb < k; kb += 128) {
    for (int q = threadIdx.x; q < 512; q += 128) {
      int r = q / 8, j = q % 8, at = r * 128 + 16 * (j ^ (r % 8));
      *reinterpret_cast<uint4 *>(sa + at) =
          *reinterpret_cast<const uint4 *>(a + (m0 + r) * k + kb + 16 * j);
      *reinterpret_cast<uint4 *>(sb + at) =
          *reinterpret_cast<const uint4 *>(b + (n0 + r) * k + kb + 16 * j);
    }
    // The generic-proxy writes become visible to wgmma's async proxy.
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
    __syncthreads();
    asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
    for (int ks = 0; ks < 4; ++ks)
      wgmma(d, descriptor(sa + 32 * ks), descriptor(sb + 32 * ks));
    asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
    // The next K block overwrites the tiles.
    __syncthreads();
  }
  unsigned w = threadIdx.x / 32, l = threadIdx.x % 32;
  for (int i = 0; i < 32; ++i) {
    int row = m0 + 16 * w + l / 4 + 8 * ((i / 2) % 2);
    int col = n0 + 8 * (i / 4) + 2 * (l % 4) + i % 2;
    c[row * n + col] = d[i];
  }
}

extern "C" __global__ void __launch_bounds__(128)
    gemm_s8(const uint8_t *a, const uint8_t *b, int *c, int n, int k) {
  gemm8(a, b, c, n, k);
}

extern "C" __global__ void __launch_bounds__(128)
    gemm_e4m3(const uint8_t *a, const uint8_t *b, float *c, int n, int k) {
  gemm8(a, b, c, n, k);
}
