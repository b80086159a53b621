// Warp collectives called from divergent sites: lane 0 of each warp calls
// each intrinsic in one branch, lanes 1-31 the same intrinsic (other
// arguments) in the other. On sm_70+ the threads of the member mask wait for
// each other and execute the collective together. 2 CTAs of 64 threads.
#define FULL 0xffffffffu

// o[0..5]: ballot, any, all, shfl, reduce add, reduce max.
extern "C" __global__ void vote_sites(const unsigned *in, unsigned *out) {
  unsigned t = threadIdx.x, g = blockIdx.x * blockDim.x + t;
  unsigned x = in[g];
  unsigned *o = out + 6 * g;
  if ((t & 31) == 0) {
    o[0] = __ballot_sync(FULL, x & 2u);
    o[1] = __any_sync(FULL, x & 4u);
    o[2] = __all_sync(FULL, x & 0x40000000u);
    o[3] = __shfl_sync(FULL, x * 7u, 5);
    o[4] = __reduce_add_sync(FULL, x & 0xffu);
    o[5] = __reduce_max_sync(FULL, x >> 4);
  } else {
    o[0] = __ballot_sync(FULL, x & 1u);
    o[1] = __any_sync(FULL, (x & 0xffu) == 0u);
    o[2] = __all_sync(FULL, x != 0u);
    o[3] = __shfl_sync(FULL, x + 9u, (t + 1) & 31);
    o[4] = __reduce_add_sync(FULL, x & 0xffffu);
    o[5] = __reduce_max_sync(FULL, x >> 8);
  }
}

// o[0..2]: match.any, match.all on equal values (k == k2 at launch) and its
// predicate, match.all on lane-dependent values and its predicate.
extern "C" __global__ void match_sites(const unsigned *in, unsigned *out,
                                       unsigned k, unsigned k2) {
  unsigned t = threadIdx.x, g = blockIdx.x * blockDim.x + t;
  unsigned x = in[g];
  unsigned *o = out + 3 * g;
  int p1, p2;
  unsigned m1, m2;
  if ((t & 31) == 0) {
    o[0] = __match_any_sync(FULL, x & 3u);
    m1 = __match_all_sync(FULL, k, &p1);
    m2 = __match_all_sync(FULL, x, &p2);
  } else {
    o[0] = __match_any_sync(FULL, (x >> 2) & 3u);
    m1 = __match_all_sync(FULL, k2, &p1);
    m2 = __match_all_sync(FULL, x + 1u, &p2);
  }
  o[1] = m1 ^ (unsigned(p1) << 31);
  o[2] = m2 | unsigned(p2);
}

// __syncwarp from two sites: lane 0 and lane 1 each write a word before
// the warp barrier and read the other's after it.
extern "C" __global__ void syncwarp_sites(const unsigned *in, unsigned *out) {
  __shared__ unsigned s[64];
  unsigned t = threadIdx.x, g = blockIdx.x * blockDim.x + t;
  unsigned x = in[g];
  unsigned w = t & ~31u;
  if ((t & 31) == 0) {
    s[w] = x ^ 0xabcu;
    __syncwarp();
    out[g] = s[w + 1];
  } else {
    if ((t & 31) == 1)
      s[w + 1] = x + 77u;
    __syncwarp();
    out[g] = s[w] + t;
  }
}
