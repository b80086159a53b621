// Warp intrinsics with computed masks, all convergent.

// Masks computed at run time with __activemask() (a partial last warp
// included): out[8 * t + k] is ballot, match_any, match_all, and the
// reductions add, min, max, and, xor.
extern "C" __global__ void warp_masks(const int *in, unsigned *out, int n) {
  int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= n)
    return;
  int v = in[t];
  unsigned active = __activemask();
  unsigned *o = out + 8 * t;
  o[0] = __ballot_sync(active, v > 0);
  o[1] = __match_any_sync(active, v & 7);
  int pred;
  unsigned all = __match_all_sync(active, v >> 30, &pred);
  o[2] = all + unsigned(pred);
  o[3] = unsigned(__reduce_add_sync(active, v));
  o[4] = __reduce_min_sync(active, unsigned(v) & 0xffffu);
  o[5] = unsigned(__reduce_max_sync(active, v));
  o[6] = __reduce_and_sync(active, unsigned(v) | 0xf0u);
  o[7] = __reduce_xor_sync(active, unsigned(v));
}

// A mask per half-warp, computed from the lane id: both halves execute each
// intrinsic together, each with its own mask (the warp is partitioned, not
// divergent). out[4 * t + k]: ballot, reductions add, max, or.
extern "C" __global__ void half_masks(const int *in, unsigned *out) {
  int t = blockIdx.x * blockDim.x + threadIdx.x;
  int lane = threadIdx.x % 32;
  int v = in[t];
  unsigned half = 0xffffu << (16 * (lane / 16));
  unsigned *o = out + 4 * t;
  o[0] = __ballot_sync(half, v > 0);
  o[1] = unsigned(__reduce_add_sync(half, v));
  o[2] = unsigned(__reduce_max_sync(half, v));
  o[3] = __reduce_or_sync(half, unsigned(v) & 0x0f0fu);
}
