// C (32x32 f32) = A (32x32 f16, row-major) * B (32x32 f16, row-major) with
// wmma: four warps, one 16x16 tile each, two k-steps.
#include <cuda_fp16.h>
#include <mma.h>
using namespace nvcuda;

extern "C" __global__ void wmma_gemm(const half *a, const half *b, float *c) {
  unsigned warp = threadIdx.x / 32, tm = warp / 2, tn = warp % 2;
  wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fa;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::row_major> fb;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> fc;
  wmma::fill_fragment(fc, 0.0f);
  for (unsigned k = 0; k < 32; k += 16) {
    wmma::load_matrix_sync(fa, a + tm * 16 * 32 + k, 32);
    wmma::load_matrix_sync(fb, b + k * 32 + tn * 16, 32);
    wmma::mma_sync(fc, fa, fb, fc);
  }
  for (int i = 0; i < fc.num_elements; ++i)
    fc.x[i] *= 2.0f;
  wmma::store_matrix_sync(c + tm * 16 * 32 + tn * 16, fc, 32,
                          wmma::mem_row_major);
}
