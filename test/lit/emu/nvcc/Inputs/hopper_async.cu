// sm_90 asynchronous copies and mbarriers, as warp-specialized kernels use
// them (compile with -arch=sm_90a).
//
// bulk_pipeline: out[r][i] = scale[r] * sum over 4 warps' views of the row.
// A producer warp (one lane picked by elect.sync, registers lowered by
// setmaxnreg) streams rows of `in` into a ring of STAGES shared buffers with
// cp.async.bulk and mbarrier::complete_tx; 4 consumer warps wait on the
// stage's full barrier (try_wait.parity), each computes its quarter of
// out's row into a shared output row, arrives on the stage's empty barrier,
// and after a named barrier among the consumers one thread stores the row
// with cp.async.bulk to global memory (bulk_group, wait_group.read).
//
// block_barrier: cuda::barrier<thread_scope_block> (mbarrier.arrive and
// try_wait underneath) between two phases of a shared-memory transpose.
#include <cuda/barrier>
#include <cuda/ptx>

#include <cstdint>

namespace ptx = cuda::ptx;

#define STAGES 3
#define ROW 256 // floats per row: 1 KiB

__device__ bool electOne() {
  uint32_t pred;
  asm volatile("{\n .reg .pred p;\n elect.sync _|p, 0xffffffff;\n"
               " selp.u32 %0, 1, 0, p;\n}"
               : "=r"(pred));
  return pred;
}

extern "C" __global__ void __launch_bounds__(160)
    bulk_pipeline(const float *in, const float *scale, float *out, int rows) {
  __shared__ alignas(128) float stage[STAGES][ROW];
  __shared__ alignas(128) float result[2][ROW];
  __shared__ uint64_t full[STAGES], empty[STAGES];
  unsigned warp = threadIdx.x / 32;
  if (threadIdx.x == 0) {
    for (int s = 0; s < STAGES; ++s) {
      ptx::mbarrier_init(&full[s], 1);
      ptx::mbarrier_init(&empty[s], 128);
    }
    ptx::fence_mbarrier_init(ptx::sem_release, ptx::scope_cluster);
  }
  __syncthreads();
  if (warp == 4) {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;");
    if (electOne()) {
      for (int r = 0; r < rows; ++r) {
        int s = r % STAGES;
        if (r >= STAGES)
          while (!ptx::mbarrier_try_wait_parity(&empty[s],
                                                 ((r / STAGES) - 1) & 1)) {
          }
        ptx::cp_async_bulk(ptx::space_shared, ptx::space_global, stage[s],
                           in + size_t(r) * ROW, ROW * 4, &full[s]);
        ptx::mbarrier_arrive_expect_tx(ptx::sem_release, ptx::scope_cta,
                                       ptx::space_shared, &full[s], ROW * 4);
      }
    }
    return;
  }
  asm volatile("setmaxnreg.inc.sync.aligned.u32 232;");
  for (int r = 0; r < rows; ++r) {
    int s = r % STAGES;
    while (!ptx::mbarrier_try_wait_parity(ptx::sem_acquire, ptx::scope_cta,
                                          &full[s], (r / STAGES) & 1)) {
    }
    // Thread t of the 128 consumers owns columns t and t + 128; each adds
    // the column as seen from the four warps' rotations of the row.
    float *res = result[r & 1];
    for (int c = threadIdx.x; c < ROW; c += 128) {
      float acc = 0;
      for (int k = 0; k < 4; ++k)
        acc += stage[s][(c + 64 * k) % ROW] * float(k + 1);
      res[c] = acc * scale[r];
    }
    ptx::mbarrier_arrive(&empty[s]);
    ptx::fence_proxy_async(ptx::space_shared);
    asm volatile("bar.sync 1, 128;");
    if (threadIdx.x == 0) {
      ptx::cp_async_bulk(ptx::space_global, ptx::space_shared,
                         out + size_t(r) * ROW, res, ROW * 4);
      ptx::cp_async_bulk_commit_group();
      // result[r & 1] is written again two rows later.
      ptx::cp_async_bulk_wait_group_read(ptx::n32_t<1>());
    }
    asm volatile("bar.sync 1, 128;");
  }
  if (threadIdx.x == 0)
    ptx::cp_async_bulk_wait_group(ptx::n32_t<0>());
}

// The barrier is initialized by init() below, not by a constructor.
#pragma nv_diag_suppress static_var_with_dynamic_init
extern "C" __global__ void block_barrier(const int *in, int *out) {
  __shared__ int tile[32][33];
  __shared__ cuda::barrier<cuda::thread_scope_block> bar;
  unsigned x = threadIdx.x % 32, y = threadIdx.x / 32;
  if (threadIdx.x == 0)
    init(&bar, blockDim.x);
  __syncthreads();
  const int *src = in + blockIdx.x * 1024;
  for (unsigned r = y; r < 32; r += blockDim.x / 32)
    tile[r][x] = src[r * 32 + x];
  bar.arrive_and_wait();
  for (unsigned r = y; r < 32; r += blockDim.x / 32)
    tile[r][x] += 0; // keep the tile live across the phases
  auto token = bar.arrive();
  bar.wait(std::move(token));
  for (unsigned r = y; r < 32; r += blockDim.x / 32)
    out[blockIdx.x * 1024 + r * 32 + x] = tile[x][r] * 3 + int(r);
}
