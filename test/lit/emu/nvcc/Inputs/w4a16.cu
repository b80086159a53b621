// C = A * dequant(B): A is M x K f16 (row-major), B holds 4-bit codes q with
// zero point 8 and one f16 scale per 128 rows of K and column, so the weight
// at (k, n) is f16((q - 8) * scale[k / 128][n]); products accumulate in f32
// and C is M x N f16 (row-major).
//
// Work split. CTA (blockIdx.x, blockIdx.y) owns the BM x BN output tile
// blockIdx.x (row-major over the tiles, N fastest) and one of SPLITK slices of
// K. Slices are taken in reverse launch order (blockIdx.y = 0 does the last
// one), so the first CTAs launched wait for CTAs launched after them: the
// launch is correct only while enough CTAs are co-resident.
//
// Main loop. A STAGES-deep cp.async pipeline (16-byte cp.async.cg, one group
// per stage, wait_group STAGES - 2, one barrier per iteration) brings a stage
// of A (BM x BK, its 16-byte chunks XOR-swizzled by row so that the eight
// row addresses of an ldmatrix phase hit distinct banks), the packed codes of
// BK x BN and the stage's BN scales into shared memory. Each of the 8 warps
// owns BN / 8 columns; per 16-deep step it loads the A fragments with
// ldmatrix.x4, dequantises one 32-bit word of codes per 16 columns into the
// B fragments of two mma.m16n8k16 and issues the mmas.
//
// Code layout (chosen so that a lane's word is exactly its B fragments):
// for the 16 x 16 block (kb, nb) of codes, lane l = 4 g + t holds word
// B[(kb * N / 16 + nb) * 32 + l], whose nibbles 0..7 are the codes at
// (k, n) = (2t, g), (2t + 8, g), (2t, g + 8), (2t + 8, g + 8), then the same
// with k + 1, relative to the block. Nibbles i and i + 4 land in the two
// halves of one f16x2 register, which is one B fragment register of
// mma.m16n8k16 (rows 2t and 2t + 1, or 2t + 8 and 2t + 9, column g).
//
// Dequantisation. lop3 ORs a nibble pair into the mantissa of 1024.0
// (0x6400): the low nibble gives 1024 + q, exactly, and subtracting 1032
// leaves q - 8; the high nibble (bits 4-7) gives 1024 + 16 q and an fma with
// 1/16 and -72 leaves q - 8, also exactly. One multiplication by the scale
// rounds once.
//
// Reduction across CTAs. After its main loop, thread 0 spins with
// ld.acquire.gpu until the tile's lock equals the CTA's slice; a barrier
// passes that on to the other threads, which add the f32 partial sums of the
// slices before (a workspace of M x N floats) to their own. Every slice but
// the last writes the sum back, and thread 0 releases the next slice after a
// barrier and a fence with red.relaxed.gpu.global.add. The last slice resets
// the lock to 0 from thread 0 (a path of its own that joins code with a
// barrier), rounds the sums to f16 and writes C through shared memory in
// 16-byte rows.
//
// The tile is a compile-time choice (-DBM= -DBN= -DBK= -DSPLITK=, and
// -DSTAGES=); 256 threads per CTA, BM a multiple of 16 up to 64, BN a multiple
// of 128, BK a multiple of 16 dividing 128. M, N and K must be multiples of
// BM, BN and BK * SPLITK. The configuration and the dynamic shared memory a
// launch needs are in w4a16_config.
#include <cstdint>
#include <cuda_fp16.h>

#ifndef BM
#define BM 16
#endif
#ifndef BN
#define BN 256
#endif
#ifndef BK
#define BK 64
#endif
#ifndef SPLITK
#define SPLITK 4
#endif
#ifndef STAGES
#define STAGES 4
#endif

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kGroup = 128; // rows of K per scale
static_assert(BM % 16 == 0 && BM <= 64, "BM: a multiple of 16 up to 64");
static_assert(BN % (16 * kWarps) == 0, "BN: a multiple of 128");
static_assert(BK % 16 == 0 && kGroup % BK == 0,
              "BK: a multiple of 16 dividing 128");
static_assert(STAGES >= 2 && SPLITK >= 1, "STAGES >= 2, SPLITK >= 1");

constexpr int kMTiles = BM / 16;             // m16 tiles per CTA
constexpr int kNBlocks = BN / (16 * kWarps); // n16 blocks per warp
constexpr int kKSteps = BK / 16;             // k16 steps per stage
constexpr int kChunksPerRow = BK / 8;        // 16-byte chunks in a row of A
constexpr int kABytes = BM * BK * 2;
constexpr int kBBytes = BK * BN / 2;
constexpr int kSBytes = BN * 2;
constexpr int kStageBytes = kABytes + kBBytes + kSBytes;
constexpr int kCBytes = BM * BN * 2; // the f16 tile staged for its stores
constexpr int kPipeBytes = STAGES * kStageBytes;
constexpr int kSmemBytes = kPipeBytes > kCBytes ? kPipeBytes : kCBytes;

/// Chunk c of row r of the A tile sits at chunk swizzle(r, c): rows that an
/// ldmatrix phase reads together (8 consecutive rows, one chunk column) fall
/// into 8 different 16-byte bank groups of a 128-byte line.
__device__ __forceinline__ int swizzle(int r, int c) {
  constexpr int rowsPerLine = kChunksPerRow >= 8 ? 1 : 8 / kChunksPerRow;
  constexpr int mask = (kChunksPerRow >= 8 ? 8 : kChunksPerRow) - 1;
  return c ^ ((r / rowsPerLine) & mask);
}

__device__ __forceinline__ uint32_t smemAddr(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void cpAsync16(uint32_t dst, const void *src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(dst), "l"(src)
               : "memory");
}

__device__ __forceinline__ void cpAsyncCommit() {
  asm volatile("cp.async.commit_group;" ::: "memory");
}

template <int N> __device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
}

__device__ __forceinline__ void ldmatrixX4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
      : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
      : "r"(addr)
      : "memory");
}

__device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4],
                                         uint32_t b0, uint32_t b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
               "{%0, %1, %2, %3};"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/// (a & b) | c in one instruction: 0xf0 & 0xcc | 0xaa = 0xea.
__device__ __forceinline__ uint32_t andOr(uint32_t a, uint32_t b, uint32_t c) {
  uint32_t d;
  asm("lop3.b32 %0, %1, %2, %3, 0xea;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}

__device__ __forceinline__ __half2 asHalf2(uint32_t u) {
  __half2 h;
  memcpy(&h, &u, 4);
  return h;
}

__device__ __forceinline__ uint32_t asU32(__half2 h) {
  uint32_t u;
  memcpy(&u, &h, 4);
  return u;
}

/// The B fragments of the two n8 tiles of one 16 x 16 block from the lane's
/// word of codes, scaled: b[h][0] holds rows 2t, 2t + 1 and b[h][1] rows
/// 2t + 8, 2t + 9 of column 8 h + g.
__device__ __forceinline__ void dequant(uint32_t q, __half2 s0, __half2 s1,
                                        uint32_t (&b)[2][2]) {
  const uint32_t one1024 = 0x64006400u;
  const __half2 bias = asHalf2(0x64086408u);      // 1032 = 1024 + 8
  const __half2 sixteenth = asHalf2(0x2c002c00u); // 1/16
  const __half2 highBias = asHalf2(0xd480d480u);  // -72 = -1024/16 - 8
  uint32_t lo0 = andOr(q, 0x000f000fu, one1024);
  uint32_t hi0 = andOr(q, 0x00f000f0u, one1024);
  q >>= 8;
  uint32_t lo1 = andOr(q, 0x000f000fu, one1024);
  uint32_t hi1 = andOr(q, 0x00f000f0u, one1024);
  b[0][0] = asU32(__hmul2(__hsub2(asHalf2(lo0), bias), s0));
  b[0][1] = asU32(__hmul2(__hfma2(asHalf2(hi0), sixteenth, highBias), s0));
  b[1][0] = asU32(__hmul2(__hsub2(asHalf2(lo1), bias), s1));
  b[1][1] = asU32(__hmul2(__hfma2(asHalf2(hi1), sixteenth, highBias), s1));
}

__device__ __forceinline__ int ldAcquire(const int *p) {
  int v;
  asm volatile("ld.acquire.gpu.global.b32 %0, [%1];"
               : "=r"(v)
               : "l"(p)
               : "memory");
  return v;
}

__device__ __forceinline__ void redRelaxedAdd(int *p, int v) {
  asm volatile("red.relaxed.gpu.global.add.s32 [%0], %1;" ::"l"(p), "r"(v)
               : "memory");
}

} // namespace

/// BM, BN, BK, SPLITK, STAGES and the dynamic shared memory in bytes.
extern "C" __device__ const int w4a16_config[6] = {BM,     BN,     BK,
                                                   SPLITK, STAGES, kSmemBytes};

extern "C" __global__ void __launch_bounds__(kThreads)
    w4a16_matmul(const __half *__restrict__ a, const uint32_t *__restrict__ b,
                 const __half *__restrict__ scales, __half *c, float *work,
                 int *locks, int m, int n, int k) {
  extern __shared__ __align__(16) unsigned char smem[];
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int g = lane / 4, t = lane % 4;
  const int tile = blockIdx.x, nTiles = n / BN;
  const int m0 = tile / nTiles * BM, n0 = tile % nTiles * BN;
  const int slice = SPLITK - 1 - blockIdx.y;
  const int sliceLen = k / SPLITK, kBegin = slice * sliceLen;
  const int iters = sliceLen / BK;

  auto stageBase = [&](int s) { return smem + s * kStageBytes; };

  // One stage: A rows m0.., codes and scales of columns n0.., from kBegin +
  // it * BK on.
  auto load = [&](int it) {
    unsigned char *base = stageBase(it % STAGES);
    const int k0 = kBegin + it * BK;
    for (int i = tid; i < BM * kChunksPerRow; i += kThreads) {
      int r = i / kChunksPerRow, ch = i % kChunksPerRow;
      cpAsync16(smemAddr(base + r * BK * 2 + swizzle(r, ch) * 16),
                a + (size_t)(m0 + r) * k + k0 + ch * 8);
    }
    constexpr int rowChunks = BN / 16 * 8; // a k16 row of blocks, 16 B each
    for (int i = tid; i < kKSteps * rowChunks; i += kThreads) {
      int kb = i / rowChunks, j = i % rowChunks;
      cpAsync16(smemAddr(base + kABytes + kb * rowChunks * 16 + j * 16),
                b + ((size_t)(k0 / 16 + kb) * (n / 16) + n0 / 16) * 32 + j * 4);
    }
    for (int i = tid; i < BN / 8; i += kThreads)
      cpAsync16(smemAddr(base + kABytes + kBBytes + i * 16),
                scales + (size_t)(k0 / kGroup) * n + n0 + i * 8);
  };

  float acc[kMTiles][2 * kNBlocks][4] = {};

  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < iters)
      load(s);
    cpAsyncCommit();
  }
  for (int it = 0; it < iters; ++it) {
    cpAsyncWait<STAGES - 2>();
    __syncthreads();
    // The stage consumed in the previous iteration is free: every warp has
    // passed the barrier above since.
    if (it + STAGES - 1 < iters)
      load(it + STAGES - 1);
    cpAsyncCommit();

    const unsigned char *base = stageBase(it % STAGES);
    const uint32_t aBase = smemAddr(base);
    const uint32_t *codes = reinterpret_cast<const uint32_t *>(base + kABytes);
    const __half *sc =
        reinterpret_cast<const __half *>(base + kABytes + kBBytes);
    __half2 s[kNBlocks][2];
    for (int j = 0; j < kNBlocks; ++j)
      for (int h = 0; h < 2; ++h)
        s[j][h] = __half2half2(sc[(warp * kNBlocks + j) * 16 + 8 * h + g]);
#pragma unroll
    for (int kk = 0; kk < kKSteps; ++kk) {
      uint32_t af[kMTiles][4];
      for (int mi = 0; mi < kMTiles; ++mi) {
        // Lanes 8 i .. 8 i + 7 address the rows of matrix i: rows 0-7 and
        // 8-15 of the m16 tile, at k 0-7 (matrices 0, 1) and 8-15 (2, 3).
        int r = mi * 16 + lane % 8 + 8 * (lane / 8 % 2);
        int ch = kk * 2 + lane / 16;
        ldmatrixX4(af[mi], aBase + r * BK * 2 + swizzle(r, ch) * 16);
      }
      for (int j = 0; j < kNBlocks; ++j) {
        uint32_t q = codes[(kk * (BN / 16) + warp * kNBlocks + j) * 32 + lane];
        uint32_t bf[2][2];
        dequant(q, s[j][0], s[j][1], bf);
        for (int mi = 0; mi < kMTiles; ++mi)
          for (int h = 0; h < 2; ++h)
            mma16816(acc[mi][2 * j + h], af[mi], bf[h][0], bf[h][1]);
      }
    }
  }
  cpAsyncWait<0>();

  // Slices of a tile add up in slice order.
  int *lock = locks + tile;
  if (tid == 0)
    while (ldAcquire(lock) != slice)
      ;
  __syncthreads();
  const bool last = slice == SPLITK - 1;
  for (int mi = 0; mi < kMTiles; ++mi)
    for (int jj = 0; jj < 2 * kNBlocks; ++jj)
      for (int half = 0; half < 2; ++half) {
        int row = mi * 16 + g + 8 * half;
        int col = (warp * kNBlocks + jj / 2) * 16 + jj % 2 * 8 + 2 * t;
        float2 *p = reinterpret_cast<float2 *>(work + (size_t)(m0 + row) * n +
                                               n0 + col);
        float *v = &acc[mi][jj][2 * half];
        if (slice > 0) {
          float2 prev = *p;
          v[0] += prev.x;
          v[1] += prev.y;
        }
        if (!last)
          *p = make_float2(v[0], v[1]);
      }
  if (!last) {
    __syncthreads();
    if (tid == 0) {
      __threadfence();
      redRelaxedAdd(lock, 1);
    }
    return;
  }

  // This CTA was the tile's last user of the lock in this launch.
  if (tid == 0)
    *lock = 0;
  uint32_t *ct = reinterpret_cast<uint32_t *>(smem);
  for (int mi = 0; mi < kMTiles; ++mi)
    for (int jj = 0; jj < 2 * kNBlocks; ++jj)
      for (int half = 0; half < 2; ++half) {
        int row = mi * 16 + g + 8 * half;
        int col = (warp * kNBlocks + jj / 2) * 16 + jj % 2 * 8 + 2 * t;
        const float *v = &acc[mi][jj][2 * half];
        ct[(row * BN + col) / 2] = asU32(__floats2half2_rn(v[0], v[1]));
      }
  __syncthreads();
  for (int i = tid; i < BM * BN / 8; i += kThreads) {
    int row = i / (BN / 8), ch = i % (BN / 8);
    *reinterpret_cast<uint4 *>(c + (size_t)(m0 + row) * n + n0 + ch * 8) =
        reinterpret_cast<const uint4 *>(smem)[i];
  }
}
