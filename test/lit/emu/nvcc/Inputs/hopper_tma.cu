// Tensor-memory-access copies (cp.async.bulk.tensor) from CUDA, with the
// tensor maps passed as __grid_constant__ kernel parameters (compile with
// -arch=sm_90a; tilus-run builds the maps with tmap: arguments).
//
// tma2d_<T>: each CTA loads the box at (blockIdx.x * bw, blockIdx.y * bh)
// of `in` into shared memory (mbarrier::complete_tx), copies the box's raw
// shared bytes (swizzled as the map says) to `raw`, computes x * 2 + 1 on
// every element in place and stores the box to `out` through out_map
// (bulk_group). Boxes at the edges are partly outside the tensor.
//
// tma3d: a 3-d box with an element stride, its raw shared bytes to `raw`.
#include <cuda.h>
#include <cuda/ptx>
#include <cuda_fp16.h>

#include <cstdint>

namespace ptx = cuda::ptx;

template <typename T>
__device__ void tma2d(const CUtensorMap &inMap, const CUtensorMap &outMap,
                      T *raw, int bw, int bh) {
  __shared__ alignas(1024) T tile[8192 / sizeof(T)];
  __shared__ uint64_t bar;
  int x0 = blockIdx.x * bw, y0 = blockIdx.y * bh, n = bw * bh;
  if (threadIdx.x == 0) {
    ptx::mbarrier_init(&bar, 1);
    ptx::fence_proxy_async(ptx::space_shared);
    int c[2] = {x0, y0};
    ptx::cp_async_bulk_tensor(ptx::space_shared, ptx::space_global, tile,
                              &inMap, c, &bar);
    ptx::mbarrier_arrive_expect_tx(ptx::sem_release, ptx::scope_cta,
                                   ptx::space_shared, &bar, n * sizeof(T));
  }
  __syncthreads();
  while (!ptx::mbarrier_try_wait_parity(&bar, 0)) {
  }
  T *r = raw + (blockIdx.y * gridDim.x + blockIdx.x) * n;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    r[i] = tile[i];
    tile[i] = tile[i] * T(2) + T(1);
  }
  ptx::fence_proxy_async(ptx::space_shared);
  __syncthreads();
  if (threadIdx.x == 0) {
    int c[2] = {x0, y0};
    ptx::cp_async_bulk_tensor(ptx::space_global, ptx::space_shared, &outMap,
                              c, tile);
    ptx::cp_async_bulk_commit_group();
    ptx::cp_async_bulk_wait_group_read(ptx::n32_t<0>());
  }
}

extern "C" __global__ void tma2d_f32(const __grid_constant__ CUtensorMap in,
                                     const __grid_constant__ CUtensorMap out,
                                     float *raw, int bw, int bh) {
  tma2d(in, out, raw, bw, bh);
}

extern "C" __global__ void tma2d_f16(const __grid_constant__ CUtensorMap in,
                                     const __grid_constant__ CUtensorMap out,
                                     __half *raw, int bw, int bh) {
  tma2d(in, out, raw, bw, bh);
}

extern "C" __global__ void tma3d(const __grid_constant__ CUtensorMap in,
                                 float *raw, int x, int y, int z, int bytes) {
  __shared__ alignas(128) float box[4096];
  __shared__ uint64_t bar;
  if (threadIdx.x == 0) {
    ptx::mbarrier_init(&bar, 1);
    int c[3] = {x, y, z};
    ptx::cp_async_bulk_tensor(ptx::space_shared, ptx::space_global, box, &in,
                              c, &bar);
    ptx::mbarrier_arrive_expect_tx(ptx::sem_release, ptx::scope_cta,
                                   ptx::space_shared, &bar, bytes);
  }
  __syncthreads();
  while (!ptx::mbarrier_try_wait_parity(&bar, 0)) {
  }
  for (int i = threadIdx.x; i < bytes / 4; i += blockDim.x)
    raw[i] = box[i];
}
