// out[block] = sum of the block's 256 inputs: a shared-memory tree.
extern "C" __global__ void block_reduce(const int *in, int *out) {
  __shared__ int s[256];
  unsigned t = threadIdx.x;
  s[t] = in[blockIdx.x * 256 + t];
  __syncthreads();
  for (unsigned o = 128; o > 0; o /= 2) {
    if (t < o)
      s[t] += s[t + o];
    __syncthreads();
  }
  if (t == 0)
    out[blockIdx.x] = s[0];
}
