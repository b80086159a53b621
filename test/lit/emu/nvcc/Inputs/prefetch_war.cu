// A benign write-after-read hazard: a software pipeline prefetches the next
// shared-memory value after each barrier; the prefetch of the last iteration
// is never used, but another warp overwrites its bytes with no barrier in
// between. The results do not depend on it; a race checker still sees it.
constexpr int kThreads = 256, kStages = 4;

extern "C" __global__ void prefetch_war(const int *in, int *out) {
  __shared__ int buf[kThreads];
  volatile int *vbuf = buf;
  int t = threadIdx.x;
  buf[t] = in[blockIdx.x * kThreads + t];
  __syncthreads();
  int sum = 0;
  int cur = vbuf[t];
  for (int i = 0; i < kStages; ++i) {
    __syncthreads();
    // Prefetch for the next stage; in the last stage it reads the slot of
    // the thread 128 ahead (another warp), and the value is dropped.
    int next = vbuf[(t + 32 * (i + 1)) % kThreads];
    sum += cur * (i + 1);
    cur = next;
  }
  buf[t] = sum; // the WAR: another warp's last prefetch read this slot
  __syncthreads();
  out[blockIdx.x * kThreads + t] = buf[t ^ 32];
}
