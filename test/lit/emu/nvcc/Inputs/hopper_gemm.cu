// A Hopper GEMM tile the way CUTLASS and DeepGEMM build one (compile with
// -arch=sm_90a): C (M x N, f32) = A (M x K) * B^T, with A and B (N x K) f16
// and K-major. Each CTA of 128 threads (one warpgroup) computes a 64 x 64
// tile: per 64-wide K block, one thread loads the A and B boxes (64 rows of
// 128 bytes) with TMA under the 128-byte swizzle and arrives on an mbarrier
// with their bytes as transactions; the warpgroup waits on the phase, then
// issues four wgmma.mma_async m64n64k16 whose matrix descriptors (128-byte
// swizzle, 1024-byte stride between 8-row groups) start 32 bytes further
// into the swizzled rows at each K step.
#include <cuda.h>
#include <cuda/ptx>
#include <cuda_fp16.h>

#include <cstdint>

namespace ptx = cuda::ptx;

__device__ uint64_t descriptor(const void *smem) {
  uint64_t a = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  return ((a & 0x3ffff) >> 4) | 1ull << 16 | (1024ull >> 4) << 32 |
         1ull << 62;
}

#define D8(i) "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3]), \
              "+f"(d[i + 4]), "+f"(d[i + 5]), "+f"(d[i + 6]), "+f"(d[i + 7])

__device__ void wgmma64(float *d, uint64_t da, uint64_t db) {
  asm volatile(
      "{\n"
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, "
      "%15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, "
      "%29, %30, %31}, %32, %33, 1, 1, 1, 0, 0;\n"
      "}\n"
      : D8(0), D8(8), D8(16), D8(24)
      : "l"(da), "l"(db));
}

extern "C" __global__ void __launch_bounds__(128)
    wgmma_gemm(const __grid_constant__ CUtensorMap mapA,
               const __grid_constant__ CUtensorMap mapB, float *c, int n,
               int k) {
  __shared__ alignas(1024) __half sa[64 * 64];
  __shared__ alignas(1024) __half sb[64 * 64];
  __shared__ uint64_t bar;
  int m0 = blockIdx.y * 64, n0 = blockIdx.x * 64;
  float d[32];
  for (int i = 0; i < 32; ++i)
    d[i] = 0;
  if (threadIdx.x == 0) {
    ptx::mbarrier_init(&bar, 1);
    ptx::fence_proxy_async(ptx::space_shared);
  }
  __syncthreads();
  int phase = 0;
  for (int kb = 0; kb < k; kb += 64, phase ^= 1) {
    if (threadIdx.x == 0) {
      int ca[2] = {kb, m0}, cb[2] = {kb, n0};
      ptx::cp_async_bulk_tensor(ptx::space_shared, ptx::space_global, sa,
                                &mapA, ca, &bar);
      ptx::cp_async_bulk_tensor(ptx::space_shared, ptx::space_global, sb,
                                &mapB, cb, &bar);
      ptx::mbarrier_arrive_expect_tx(ptx::sem_release, ptx::scope_cta,
                                     ptx::space_shared, &bar,
                                     2 * 64 * 64 * sizeof(__half));
    }
    while (!ptx::mbarrier_try_wait_parity(&bar, phase)) {
    }
    asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
    for (int ks = 0; ks < 4; ++ks)
      wgmma64(d, descriptor(sa + 16 * ks), descriptor(sb + 16 * ks));
    asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
    // The next K block's TMA overwrites the tiles.
    __syncthreads();
  }
  unsigned w = threadIdx.x / 32, l = threadIdx.x % 32;
  for (int i = 0; i < 32; ++i) {
    int row = m0 + 16 * w + l / 4 + 8 * ((i / 2) % 2);
    int col = n0 + 8 * (i / 4) + 2 * (l % 4) + i % 2;
    c[row * n + col] = d[i];
  }
}
