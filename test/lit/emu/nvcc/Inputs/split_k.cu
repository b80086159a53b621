// y = A x (A: rows x k, row-major) split over K: CTA (tile, s) computes the
// partial sums of 64 rows over slice s and adds them to y in slice order,
// passing a per-tile lock: slice s waits until lock[tile] == s. The slice
// is reversed against the launch order (blockIdx.y = 0 does the last
// slice), so the first CTAs launched wait for ones launched after them.
extern "C" __global__ void split_k(const float *a, const float *x, float *y,
                                   int *lock, int k) {
  unsigned tile = blockIdx.x, splits = gridDim.y;
  unsigned s = splits - 1 - blockIdx.y;
  unsigned row = tile * 64 + threadIdx.x, len = k / splits;
  float acc = 0;
  for (unsigned j = s * len; j < (s + 1) * len; ++j)
    acc += a[row * k + j] * x[j];
  if (threadIdx.x == 0)
    while (atomicAdd(&lock[tile], 0) != (int)s)
      ;
  __syncthreads();
  volatile float *vy = y;
  vy[row] = s == 0 ? acc : vy[row] + acc;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0)
    atomicExch(&lock[tile], (int)s + 1);
}
