// A 64-bin histogram: shared-memory atomics per block, then global ones;
// also the global maximum and a 64-bit sum.
extern "C" __global__ void histogram(const unsigned *in, unsigned *hist,
                                     int *mx, unsigned long long *sum) {
  __shared__ unsigned h[64];
  unsigned t = threadIdx.x, i = blockIdx.x * blockDim.x + t;
  if (t < 64)
    h[t] = 0;
  __syncthreads();
  unsigned v = in[i];
  atomicAdd(&h[v % 64], 1u);
  atomicMax(mx, (int)(v >> 1));
  atomicAdd(sum, (unsigned long long)v);
  __syncthreads();
  if (t < 64)
    atomicAdd(&hist[t], h[t]);
}
