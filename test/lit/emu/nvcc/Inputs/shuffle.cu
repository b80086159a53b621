// Per warp: the sum (shfl.down), the maximum (shfl.xor), an inclusive
// prefix sum (shfl.up) and lane 3's value broadcast (shfl.idx).
extern "C" __global__ void shuffles(const int *in, int *out) {
  unsigned i = blockIdx.x * blockDim.x + threadIdx.x, lane = threadIdx.x % 32;
  int v = in[i], sum = v, mx = v, scan = v;
  for (int o = 16; o > 0; o /= 2)
    sum += __shfl_down_sync(0xffffffff, sum, o);
  for (int o = 16; o > 0; o /= 2)
    mx = max(mx, __shfl_xor_sync(0xffffffff, mx, o));
  for (int o = 1; o < 32; o *= 2) {
    int x = __shfl_up_sync(0xffffffff, scan, o);
    if (lane >= o)
      scan += x;
  }
  int b = __shfl_sync(0xffffffff, v, 3);
  unsigned n = gridDim.x * blockDim.x;
  out[i] = scan;
  out[n + i] = mx;
  out[2 * n + i] = b;
  if (lane == 0)
    out[3 * n + i / 32] = sum;
}
