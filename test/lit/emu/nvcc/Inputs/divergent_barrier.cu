// Barriers reached along different paths of a warp (sm_70+: a barrier counts
// threads, and threads of a warp may arrive along different paths). Each
// kernel runs as 2 CTAs of 128 threads.

// Non-aligned barrier.sync with an optional thread count.
__device__ __forceinline__ void barrierSync(unsigned id) {
  asm volatile("barrier.sync %0;" ::"r"(id) : "memory");
}
__device__ __forceinline__ void barrierSync(unsigned id, unsigned count) {
  asm volatile("barrier.sync %0, %1;" ::"r"(id), "r"(count) : "memory");
}
// bar.sync with a thread count (barrier.sync.aligned).
__device__ __forceinline__ void barSync(unsigned id, unsigned count) {
  asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(count) : "memory");
}

// Thread 0 takes its own path to __syncthreads: it may leave, so the paths
// meet only at the kernel's exit and reach the barrier one after the other.
extern "C" __global__ void tail_sync(const unsigned *in, unsigned *out,
                                     unsigned *lock) {
  __shared__ unsigned s[128];
  unsigned t = threadIdx.x, g = blockIdx.x * blockDim.x + t;
  unsigned x = in[g];
  if (t == 0) {
    lock[blockIdx.x] = 0;
    if (x == 0x5a5a5a5au)
      return;
    x ^= 0x5a5au;
  }
  s[t] = x * 3u;
  __syncthreads();
  out[g] = s[(t + 1) & 127] + s[0];
}

// __syncthreads written into both paths of `if (t == 0)`: two aligned
// barriers, each reached by part of warp 0. Undefined in CUDA; an H200
// hangs. The emulator reports it.
extern "C" __global__ void split_sync(const unsigned *in, unsigned *out) {
  __shared__ unsigned s[128];
  unsigned t = threadIdx.x, g = blockIdx.x * blockDim.x + t;
  unsigned x = in[g];
  if (t == 0) {
    s[127] = x ^ 0x5a5au;
    __syncthreads();
    out[g] = s[1] * 5u;
  } else {
    s[t - 1] = x * 3u;
    __syncthreads();
    out[g] = s[(t + 1) & 127] + s[127];
  }
}

// A non-aligned barrier in a loop, reached from both sides of a branch
// that splits every warp.
extern "C" __global__ void loop_branches(const unsigned *in, unsigned *out) {
  __shared__ unsigned b[128];
  unsigned t = threadIdx.x, g = blockIdx.x * blockDim.x + t;
  unsigned x = in[g];
  unsigned acc = 0;
  for (unsigned i = 0; i < 4; ++i) {
    if (t & 1) {
      b[t] = x + i;
      barrierSync(1);
      acc += b[t ^ 1] * 3u;
    } else {
      b[t] = x * (i + 1);
      barrierSync(1);
      acc ^= b[t ^ 1];
    }
    barrierSync(1);
  }
  out[g] = acc;
}

// Threads leave (some after work of their own) while the others go on to
// use __syncthreads.
extern "C" __global__ void early_exit(const unsigned *in, unsigned *out) {
  __shared__ unsigned s[128], total;
  unsigned t = threadIdx.x, g = blockIdx.x * blockDim.x + t;
  unsigned x = in[g];
  if (t == 0)
    total = 0;
  s[t] = x;
  __syncthreads();
  if ((x & 7) == 0) {
    out[g] = x * 5u;
    return;
  }
  atomicAdd(&total, x & 0xffffu);
  __syncthreads();
  unsigned sum = total;
  if (x & 8)
    return;
  __syncthreads();
  out[g] = sum + s[(t + 5) & 127];
}

// Barriers with a thread count: warps 0-1 meet at barrier 1 from two paths
// of each warp, warps 2-3 at barrier 2 with bar.sync.
extern "C" __global__ void counted(const unsigned *in, unsigned *out) {
  __shared__ unsigned a[128];
  unsigned t = threadIdx.x, g = blockIdx.x * blockDim.x + t;
  unsigned x = in[g];
  unsigned r;
  if (t < 64) {
    if (t & 1) {
      a[t] = x + 17u;
      barrierSync(1, 64);
      r = a[63 - t];
    } else {
      a[t] = x ^ 0x33u;
      barrierSync(1, 64);
      r = a[63 - t] + 1u;
    }
  } else {
    a[t] = x * 5u;
    barSync(2, 64);
    r = a[191 - t];
  }
  __syncthreads();
  out[g] = r;
}
