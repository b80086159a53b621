// Collatz steps of each input (a data-dependent trip count per lane), with
// a break at 1000 steps and odd steps counted apart.
extern "C" __global__ void collatz(const unsigned *in, unsigned *steps,
                                   unsigned *odd) {
  unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  unsigned long long x = in[i];
  unsigned n = 0, o = 0;
  while (x != 1) {
    if (n == 1000)
      break;
    ++n;
    if (x & 1) {
      ++o;
      x = 3 * x + 1;
      continue;
    }
    x /= 2;
  }
  steps[i] = n;
  odd[i] = o;
}
