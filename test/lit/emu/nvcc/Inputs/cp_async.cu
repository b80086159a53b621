// out[t] = sum over chunks c of (c + 1) * in[c * 128 + t], the chunks staged
// into shared memory by a two-stage cp.async pipeline.
#include <cuda_pipeline.h>

extern "C" __global__ void cp_async_pipeline(const float *in, float *out,
                                             int chunks) {
  __shared__ float stage[2][128];
  unsigned t = threadIdx.x;
  __pipeline_memcpy_async(&stage[0][t], &in[t], 4);
  __pipeline_commit();
  float acc = 0;
  for (int c = 0; c < chunks; ++c) {
    if (c + 1 < chunks)
      __pipeline_memcpy_async(&stage[(c + 1) % 2][t], &in[(c + 1) * 128 + t],
                              4);
    __pipeline_commit();
    __pipeline_wait_prior(1);
    __syncthreads();
    acc += (c + 1) * stage[c % 2][127 - t];
    __syncthreads();
  }
  out[127 - t] = acc;
}
