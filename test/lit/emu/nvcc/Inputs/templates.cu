// One kernel template, ten instances in one module: each has its own static
// shared memory size and loop count, so the module holds kernels of
// different register and shared-memory sizes.
template <int N>
__global__ void stencil(const int *in, int *out, int n) {
  __shared__ int tile[64 * N];
  int t = threadIdx.x;
  for (int i = t; i < 64 * N; i += blockDim.x)
    tile[i] = in[(blockIdx.x * 64 * N + i) % n];
  __syncthreads();
  int acc = 0;
#pragma unroll
  for (int k = 0; k < N; ++k)
    acc += (k + 1) * tile[(t * N + k * 7) % (64 * N)];
  out[blockIdx.x * blockDim.x + t] = acc + N;
}

template __global__ void stencil<1>(const int *, int *, int);
template __global__ void stencil<2>(const int *, int *, int);
template __global__ void stencil<3>(const int *, int *, int);
template __global__ void stencil<4>(const int *, int *, int);
template __global__ void stencil<5>(const int *, int *, int);
template __global__ void stencil<6>(const int *, int *, int);
template __global__ void stencil<7>(const int *, int *, int);
template __global__ void stencil<8>(const int *, int *, int);
template __global__ void stencil<9>(const int *, int *, int);
template __global__ void stencil<10>(const int *, int *, int);
