// C (m x n, f16) = A (m x k, f16, row-major) * W, W = (Q - 8) * S: Q holds
// 4-bit unsigned weights (zero point 8), S one f16 scale per column and per
// group of 128 rows of K. Accumulation in f32 (mma.sync m16n8k16), the
// LLM-serving shape: a small m, weights streamed once. m is a multiple of 16
// up to 64, n a multiple of 128 and k a multiple of 64 * slices; 256 threads
// and 4 * 12544 bytes of dynamic shared memory per CTA.
//
// The committed PTX (marlin_int4.ptx, run by marlin_int4.test) comes from
// nvcc 13.0, in this folder (the sed keeps the checkout's path out of it):
//   nvcc -ptx -lineinfo -arch=sm_80 marlin_int4.cu -o marlin_int4.ptx &&
//   sed -i 's|"/.*/marlin_int4.cu"|"marlin_int4.cu"|' marlin_int4.ptx
//
// Grid: (n / 128 tiles, slices). CTA (tile, y) computes the 128 columns of
// its tile over K slice `slices - 1 - y`, so the first CTAs launched hold the
// last slices and wait for CTAs launched after them: every slice of a tile
// must be resident at once. The slices of a tile add their partial sums to
// an f32 workspace in slice order (a fixed order, so the result does not
// depend on the schedule), passing a per-tile lock: slice s waits until
// lock == s (thread 0 spins on ld.acquire.gpu), then adds its partial, then
// releases with red.relaxed.gpu after a fence; the last slice writes C in f16
// and thread 0 alone puts the lock back to 0 for the next launch.
//
// Per CTA and K step of 64, a 4-stage cp.async.cg pipeline brings in shared
// memory: the A rows (64 x 64 f16, 16-byte chunks XOR-swizzled by row so the
// ldmatrix rows of a warp hit distinct banks), the packed weights (4 KiB) and
// the tile's 128 scales of the step's group.
//
// Weight packing (done on the host): one u32 per (16 rows of K, 16 columns,
// lane) holds the 8 values a lane needs for the B operands of two
// m16n8k16 mmas (column tiles j = 0, 1). Lane l = 4 g + t owns column g of a
// tile and rows 2t + 8r + h (register r, half h), and nibble j + 2r + 4h holds
// that value. The four words of a lane for the four K16 steps of a K64 step
// are one 16-byte vector. Layout: [k / 64][n / 16][lane][4] u32, so a CTA's
// weights of one K step are 4 KiB in a row.
//
// Dequantisation of a word q (lop3 computes (q & mask) | 0x64006400):
//   q & 0x000f000f | 0x64006400: f16 pair 1024 + nibble 0, 1024 + nibble 4;
//     minus 1032 gives nibble - 8 exactly;
//   q & 0x00f000f0 | 0x64006400: 1024 + 16 * nibble 1 (and 5);
//     times 1/16 minus 72 (one fma, exact) gives nibble - 8;
//   the same on q >> 8 for nibbles 2, 6 and 3, 7;
// then one multiply by the scale: W rounded once to f16.
#include <cuda_fp16.h>

namespace {

constexpr int kThreads = 256;
constexpr int kTileN = 128; // columns per CTA: 16 per warp
constexpr int kStepK = 64;  // K per pipeline stage
constexpr int kStages = 4;
constexpr int kMaxM = 64;
constexpr int kGroup = 128;
constexpr int kABytes = kMaxM * kStepK * 2;  // 8 KiB
constexpr int kBBytes = kStepK * kTileN / 2; // 4 KiB
constexpr int kSBytes = kTileN * 2;          // 256 B
constexpr int kStageBytes = kABytes + kBBytes + kSBytes;

__device__ void cpAsync16(void *smem, const void *gmem) {
  unsigned s = (unsigned)__cvta_generic_to_shared(smem);
  size_t g = __cvta_generic_to_global(gmem);
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(s), "l"(g)
               : "memory");
}

__device__ void cpAsyncCommit() {
  asm volatile("cp.async.commit_group;" ::: "memory");
}

template <int N> __device__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
}

/// (a & b) | c in one instruction.
__device__ unsigned andOr(unsigned a, unsigned b, unsigned c) {
  unsigned r;
  // The truth table of (a & b) | c over the lop3 inputs 0xf0, 0xcc, 0xaa.
  asm("lop3.b32 %0, %1, %2, %3, 0xea;" : "=r"(r) : "r"(a), "r"(b), "r"(c));
  return r;
}

__device__ __half2 bitsToHalf2(unsigned v) {
  return *reinterpret_cast<__half2 *>(&v);
}

__device__ unsigned half2ToBits(__half2 v) {
  return *reinterpret_cast<unsigned *>(&v);
}

/// The four B registers of a word: b[j][r] for column tile j, register r.
__device__ void dequant(unsigned q, __half2 s0, __half2 s1, unsigned b[2][2]) {
  const unsigned lowMask = 0x000f000f, highMask = 0x00f000f0,
                 exponent = 0x64006400;
  const __half2 bias = bitsToHalf2(0x64086408);      // 1032
  const __half2 sixteenth = bitsToHalf2(0x2c002c00); // 1/16
  const __half2 minus72 = bitsToHalf2(0xd480d480);   // -72
  unsigned q2 = q >> 8;
  __half2 n0 = __hsub2(bitsToHalf2(andOr(q, lowMask, exponent)), bias);
  __half2 n1 =
      __hfma2(bitsToHalf2(andOr(q, highMask, exponent)), sixteenth, minus72);
  __half2 n2 = __hsub2(bitsToHalf2(andOr(q2, lowMask, exponent)), bias);
  __half2 n3 =
      __hfma2(bitsToHalf2(andOr(q2, highMask, exponent)), sixteenth, minus72);
  b[0][0] = half2ToBits(__hmul2(n0, s0));
  b[1][0] = half2ToBits(__hmul2(n1, s1));
  b[0][1] = half2ToBits(__hmul2(n2, s0));
  b[1][1] = half2ToBits(__hmul2(n3, s1));
}

__device__ void mma(float d[4], const unsigned a[4], const unsigned b[2]) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
               "{%0, %1, %2, %3};"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]),
                 "r"(b[1]));
}

__device__ void ldmatrixX4(unsigned a[4], unsigned addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, "
               "[%4];"
               : "=r"(a[0]), "=r"(a[1]), "=r"(a[2]), "=r"(a[3])
               : "r"(addr));
}

/// Byte offset of 16-byte chunk c (8 f16 of K) of row r in an A stage.
__device__ unsigned aChunk(unsigned r, unsigned c) {
  return r * (kStepK * 2) + ((c ^ (r & 7)) << 4);
}

__device__ int loadAcquire(const int *p) {
  int v;
  asm volatile("ld.acquire.gpu.global.b32 %0, [%1];"
               : "=r"(v)
               : "l"(__cvta_generic_to_global(p))
               : "memory");
  return v;
}

__device__ void addRelaxed(int *p, int v) {
  asm volatile("red.relaxed.gpu.global.add.s32 [%0], %1;" ::"l"(
                   __cvta_generic_to_global(p)),
               "r"(v)
               : "memory");
}

__device__ void storeRelaxed(int *p, int v) {
  asm volatile(
      "st.relaxed.gpu.global.b32 [%0], %1;" ::"l"(__cvta_generic_to_global(p)),
      "r"(v)
      : "memory");
}

} // namespace

extern "C" __global__ void __launch_bounds__(kThreads)
    marlin_int4(const __half *a, const uint4 *qw, const __half *scales,
                __half *c, float *work, int *locks, int m, int n, int k,
                int slices) {
  extern __shared__ __align__(16) unsigned char smem[];
  const unsigned tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const unsigned g = lane / 4, t = lane % 4;
  const int tile = blockIdx.x, slice = slices - 1 - (int)blockIdx.y;
  const int sliceK = k / slices, steps = sliceK / kStepK;
  const int k0 = slice * sliceK, mTiles = m / 16;

  auto load = [&](int stage, int step) {
    unsigned char *base = smem + stage * kStageBytes;
    int kk = k0 + step * kStepK;
    for (unsigned id = tid; id < (unsigned)m * 8; id += kThreads) {
      unsigned r = id / 8, ch = id % 8;
      cpAsync16(base + aChunk(r, ch), a + (size_t)r * k + kk + ch * 8);
    }
    // The 16 bytes of weights this thread itself reads back (its warp's 16
    // columns, its lane).
    cpAsync16(base + kABytes + tid * 16,
              qw + ((size_t)(kk / kStepK) * (n / 16) + tile * 8) * 32 + tid);
    if (tid < kSBytes / 16)
      cpAsync16(base + kABytes + kBBytes + tid * 16,
                scales + (size_t)(kk / kGroup) * n + tile * kTileN + tid * 8);
  };

  float acc[4][2][4] = {};

  for (int s = 0; s < kStages - 1; ++s) {
    if (s < steps)
      load(s, s);
    cpAsyncCommit();
  }
  for (int step = 0; step < steps; ++step) {
    cpAsyncWait<kStages - 2>();
    // Makes every thread's copies of this step visible, and fences the
    // buffer refilled below: all warps have finished the step that read it.
    __syncthreads();
    int next = step + kStages - 1;
    if (next < steps)
      load(next % kStages, next);
    cpAsyncCommit();

    unsigned char *base = smem + (step % kStages) * kStageBytes;
    unsigned aBase = (unsigned)__cvta_generic_to_shared(base);
    uint4 words = reinterpret_cast<const uint4 *>(base + kABytes)[tid];
    const __half *sc =
        reinterpret_cast<const __half *>(base + kABytes + kBBytes);
    __half2 s0 = __half2half2(sc[warp * 16 + g]);
    __half2 s1 = __half2half2(sc[warp * 16 + 8 + g]);
    const unsigned q[4] = {words.x, words.y, words.z, words.w};
#pragma unroll
    for (int k16 = 0; k16 < 4; ++k16) {
      unsigned b[2][2];
      dequant(q[k16], s0, s1, b);
      // ldmatrix: lanes 0-7 address the rows of the top-left 8x8 matrix
      // (a0), 8-15 bottom-left (a1), 16-23 top-right (a2), 24-31
      // bottom-right (a3).
      unsigned row = (lane % 8) + 8 * ((lane / 8) % 2);
      unsigned chunk = 2 * k16 + lane / 16;
#pragma unroll
      for (int mt = 0; mt < 4; ++mt) {
        if (mt < mTiles) {
          unsigned af[4];
          ldmatrixX4(af, aBase + aChunk(mt * 16 + row, chunk));
          mma(acc[mt][0], af, b[0]);
          mma(acc[mt][1], af, b[1]);
        }
      }
    }
  }

  int *lock = &locks[tile];
  if (tid == 0)
    while (loadAcquire(lock) != slice)
      ;
  __syncthreads();
  const bool last = slice == slices - 1;
#pragma unroll
  for (int mt = 0; mt < 4; ++mt) {
    if (mt >= mTiles)
      continue;
#pragma unroll
    for (int j = 0; j < 2; ++j) {
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        unsigned row = mt * 16 + g + 8 * half;
        unsigned col = tile * kTileN + warp * 16 + j * 8 + 2 * t;
        float2 p = make_float2(acc[mt][j][2 * half], acc[mt][j][2 * half + 1]);
        float2 *w = reinterpret_cast<float2 *>(work + (size_t)row * n + col);
        if (slice > 0) {
          // L2, not L1: the partial was written by another SM.
          float2 o = __ldcg(w);
          p.x += o.x;
          p.y += o.y;
        }
        if (last)
          *reinterpret_cast<__half2 *>(c + (size_t)row * n + col) =
              __floats2half2_rn(p.x, p.y);
        else
          __stcg(w, p);
      }
    }
  }
  __syncthreads();
  if (tid == 0) {
    if (last) {
      storeRelaxed(lock, 0);
    } else {
      // Orders this CTA's partial (ordered before thread 0 by the barrier)
      // before the lock passes to the next slice.
      __threadfence();
      addRelaxed(lock, 1);
    }
  }
}
