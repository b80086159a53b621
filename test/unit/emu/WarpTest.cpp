//===- WarpTest.cpp - Warp collectives, atomics, cp.async, ldmatrix, mma --===//
//
// The fragment layouts are written here from the PTX ISA tables ("Matrix
// Fragments for mma.m16n8k*", "ldmatrix"), independently of the emulator:
//   groupID = laneid >> 2, threadID_in_group = laneid % 4.
//
//===----------------------------------------------------------------------===//

#include "test/unit/emu/EmuTestUtil.h"

#include <algorithm>
#include <map>

using namespace tilus::emu;
using namespace tilus::emu::test;

namespace {

TEST(EmuWarp, ShuffleVoteRedux) {
  std::string body = R"(
  ld.global.u32 %r10, [%rd3];
  and.b32 %r11, %r10, 31;
  shfl.sync.up.b32 %r20|%p1, %r10, 3, 0, -1;
  selp.u32 %r21, 1, 0, %p1;
  st.global.v2.u32 [%rd5], {%r20, %r21};
  shfl.sync.down.b32 %r20|%p1, %r10, 5, 31, -1;
  selp.u32 %r21, 1, 0, %p1;
  st.global.v2.u32 [%rd5+8], {%r20, %r21};
  shfl.sync.bfly.b32 %r20, %r10, 6, 31, -1;
  st.global.u32 [%rd5+16], %r20;
  shfl.sync.idx.b32 %r20, %r10, %r11, 31, -1;
  st.global.u32 [%rd5+20], %r20;
  shfl.sync.idx.b32 %r20, %r10, %r11, 0x181f, -1;
  st.global.u32 [%rd5+24], %r20;
  shfl.sync.down.b32 %r20, %r10, 2, 0x1c1f, -1;
  st.global.u32 [%rd5+28], %r20;
  and.b32 %r12, %r10, 1;
  setp.ne.u32 %p2, %r12, 0;
  vote.sync.ballot.b32 %r20, %p2, -1;
  st.global.u32 [%rd5+32], %r20;
  vote.sync.any.pred %p3, %p2, -1;
  vote.sync.all.pred %p4, %p2, -1;
  vote.sync.uni.pred %p5, %p2, -1;
  selp.u32 %r21, 1, 0, %p3;
  selp.u32 %r22, 1, 0, %p4;
  selp.u32 %r23, 1, 0, %p5;
  st.global.v4.u32 [%rd5+48], {%r21, %r22, %r23, %r21};
  redux.sync.add.u32 %r20, %r10, -1;    st.global.u32 [%rd5+64], %r20;
  redux.sync.min.s32 %r20, %r10, -1;    st.global.u32 [%rd5+68], %r20;
  redux.sync.max.u32 %r20, %r10, -1;    st.global.u32 [%rd5+72], %r20;
  redux.sync.xor.b32 %r20, %r10, -1;    st.global.u32 [%rd5+76], %r20;
  // activemask inside a branch taken by the odd lanes
  mov.u32 %r24, 0;
  @!%p2 bra SKIP;
  activemask.b32 %r24;
SKIP:
  st.global.u32 [%rd5+36], %r24;
)";
  const unsigned n = 128, w = 80;
  std::mt19937 rng(17);
  std::vector<uint32_t> in(n);
  for (auto &v : in)
    v = rng();
  auto out = runElementwise(elementwisePtx(body, 4, w), toBytes(in), n * w, n);
  // PTX ISA shfl.sync pseudo-code.
  auto shfl = [&](unsigned warp, unsigned lane, int mode, uint32_t b,
                  uint32_t c, bool &pval) {
    uint32_t bval = b & 31, cval = c & 31, segmask = (c >> 8) & 31;
    uint32_t maxLane = (lane & segmask) | (cval & ~segmask);
    uint32_t minLane = lane & segmask;
    int j;
    if (mode == 0) {
      j = int(lane) - int(bval);
      pval = j >= int(maxLane);
    } else if (mode == 1) {
      j = int(lane + bval);
      pval = j <= int(maxLane);
    } else if (mode == 2) {
      j = int(lane ^ bval);
      pval = j <= int(maxLane);
    } else {
      j = int(minLane | (bval & ~segmask));
      pval = j <= int(maxLane);
    }
    if (!pval)
      j = int(lane);
    return in[warp * 32 + unsigned(j)];
  };
  for (unsigned t = 0; t < n; ++t) {
    unsigned warp = t / 32, lane = t % 32;
    auto at = [&](unsigned off) {
      return readAt<uint32_t>(out, (t * w + off) / 4);
    };
    bool p;
    EXPECT_EQ(at(0), shfl(warp, lane, 0, 3, 0, p));
    EXPECT_EQ(at(4), uint32_t(p));
    EXPECT_EQ(at(8), shfl(warp, lane, 1, 5, 31, p));
    EXPECT_EQ(at(12), uint32_t(p));
    EXPECT_EQ(at(16), shfl(warp, lane, 2, 6, 31, p));
    EXPECT_EQ(at(20), shfl(warp, lane, 3, in[t] & 31, 31, p));
    EXPECT_EQ(at(24), shfl(warp, lane, 3, in[t] & 31, 0x181f, p));
    EXPECT_EQ(at(28), shfl(warp, lane, 1, 2, 0x1c1f, p));
    uint32_t ballot = 0, sum = 0, mx = 0, x = 0;
    int32_t mn = INT32_MAX;
    for (unsigned l = 0; l < 32; ++l) {
      uint32_t v = in[warp * 32 + l];
      ballot |= (v & 1) << l;
      sum += v;
      mx = std::max(mx, v);
      mn = std::min(mn, int32_t(v));
      x ^= v;
    }
    EXPECT_EQ(at(32), ballot);
    EXPECT_EQ(at(48), uint32_t(ballot != 0));
    EXPECT_EQ(at(52), uint32_t(ballot == ~0u));
    EXPECT_EQ(at(56), uint32_t(ballot == 0 || ballot == ~0u));
    EXPECT_EQ(at(64), sum);
    EXPECT_EQ(at(68), uint32_t(mn));
    EXPECT_EQ(at(72), mx);
    EXPECT_EQ(at(76), x);
    EXPECT_EQ(at(36), (in[t] & 1) ? ballot : 0u);
  }
}

/// Atomics on global and shared memory: every returned old value is
/// distinct and the final values match the host.
TEST(EmuWarp, Atomics) {
  std::string ptx = R"(
.version 8.0
.target sm_80
.address_size 64
.shared .align 4 .u32 scount[8];
.visible .entry k(.param .u64 in, .param .u64 ctr, .param .u64 olds)
{
  .reg .pred %p<4>;
  .reg .b32 %r<32>;
  .reg .f32 %f<4>;
  .reg .b64 %rd<16>;
  mov.u32 %r0, %tid.x;
  mov.u32 %r1, %ctaid.x;
  mov.u32 %r2, %ntid.x;
  mad.lo.u32 %r3, %r1, %r2, %r0;
  ld.param.u64 %rd0, [in];
  ld.param.u64 %rd1, [ctr];
  ld.param.u64 %rd2, [olds];
  mul.wide.u32 %rd3, %r3, 4;
  add.s64 %rd4, %rd0, %rd3;
  ld.global.u32 %r4, [%rd4];
  // shared counters start at zero
  setp.lt.u32 %p1, %r0, 8;
  shl.b32 %r20, %r0, 2;
  mov.u32 %r21, scount;
  add.u32 %r22, %r21, %r20;
  @%p1 st.shared.u32 [%r22], 0;
  bar.sync 0;
  and.b32 %r5, %r4, 3;
  mul.wide.u32 %rd5, %r5, 4;
  add.s64 %rd6, %rd1, %rd5;
  atom.global.add.u32 %r6, [%rd6], 1;
  add.s64 %rd7, %rd2, %rd3;
  st.global.u32 [%rd7], %r6;
  atom.global.max.s32 %r7, [%rd1+16], %r4;
  atom.global.min.u32 %r7, [%rd1+20], %r4;
  red.global.add.u64 [%rd1+24], 3;
  cvt.rn.f32.u32 %f1, %r5;
  atom.global.add.f32 %f2, [%rd1+32], %f1;
  atom.global.exch.b32 %r8, [%rd1+36], %r3;
  atom.global.or.b32 %r8, [%rd1+40], %r4;
  // a spin-free cas: only the thread whose id matches the value succeeds
  atom.global.cas.b32 %r9, [%rd1+44], %r3, 1000;
  and.b32 %r10, %r4, 7;
  shl.b32 %r11, %r10, 2;
  add.u32 %r12, %r21, %r11;
  red.shared.add.u32 [%r12], 2;
  atom.shared.inc.u32 %r13, [%r21+28], 5;
  bar.sync 0;
  @%p1 ld.shared.u32 %r14, [%r22];
  shl.b32 %r15, %r1, 5;
  add.u32 %r16, %r15, %r20;
  cvt.u64.u32 %rd8, %r16;
  add.s64 %rd9, %rd1, %rd8;
  @%p1 st.global.u32 [%rd9+64], %r14;
  ret;
}
)";
  Emulator emu;
  auto mod = emu.loadModule(ptx, "atom.ptx");
  ASSERT_TRUE(mod.ok()) << mod.error().message();
  const unsigned blocks = 2, threads = 96, n = blocks * threads;
  std::mt19937 rng(3);
  std::vector<uint32_t> in(n);
  for (auto &v : in)
    v = rng();
  std::vector<uint32_t> ctr(16 + 16, 0);
  ctr[4] = 0x80000000u; // max.s32 starts at INT_MIN
  ctr[5] = 0xffffffffu; // min.u32 starts at UINT_MAX
  ctr[11] = 0;          // cas compare: thread 0 succeeds
  DevicePtr din = *emu.allocate(n * 4), dctr = *emu.allocate(ctr.size() * 4),
            dold = *emu.allocate(n * 4);
  ASSERT_TRUE(emu.copyToDevice(din, in.data(), n * 4).ok());
  ASSERT_TRUE(emu.copyToDevice(dctr, ctr.data(), ctr.size() * 4).ok());
  Status s = emu.launch(
      *mod->kernel("k"), Dim3(blocks), Dim3(threads), 0,
      {ParamBytes::of(din), ParamBytes::of(dctr), ParamBytes::of(dold)});
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<uint32_t> outCtr(ctr.size()), olds(n);
  ASSERT_TRUE(emu.copyFromDevice(outCtr.data(), dctr, ctr.size() * 4).ok());
  ASSERT_TRUE(emu.copyFromDevice(olds.data(), dold, n * 4).ok());
  uint32_t count[4] = {}, orAll = 0, mn = ~0u;
  int32_t mx = INT32_MIN;
  float fsum = 0;
  std::map<uint32_t, std::vector<uint32_t>> oldsBy;
  for (unsigned t = 0; t < n; ++t) {
    count[in[t] & 3]++;
    oldsBy[in[t] & 3].push_back(olds[t]);
    mx = std::max(mx, int32_t(in[t]));
    mn = std::min(mn, in[t]);
    orAll |= in[t];
    fsum += float(in[t] & 3);
  }
  for (unsigned c = 0; c < 4; ++c) {
    EXPECT_EQ(outCtr[c], count[c]);
    auto v = oldsBy[c];
    std::sort(v.begin(), v.end());
    for (size_t i = 0; i < v.size(); ++i)
      EXPECT_EQ(v[i], i); // each old value seen exactly once
  }
  EXPECT_EQ(int32_t(outCtr[4]), mx);
  EXPECT_EQ(outCtr[5], mn);
  EXPECT_EQ(uint64_t(outCtr[6]) | (uint64_t(outCtr[7]) << 32), 3ull * n);
  EXPECT_EQ(outCtr[8], f2u(fsum));
  EXPECT_LT(outCtr[9], n);
  EXPECT_EQ(outCtr[10], orAll);
  EXPECT_EQ(outCtr[11], 1000u);
  for (unsigned b = 0; b < blocks; ++b) {
    uint32_t shared[8] = {};
    for (unsigned t = 0; t < threads; ++t)
      shared[in[b * threads + t] & 7] += 2;
    // Slot 7 also took `threads` atom.inc with limit 5 (wraps to 0 after 5).
    uint32_t inc = 0;
    for (unsigned t = 0; t < threads; ++t)
      inc = inc >= 5 ? 0 : inc + 1;
    for (unsigned i = 0; i < 8; ++i) {
      if (i == 7)
        continue; // the two updates of slot 7 interleave
      EXPECT_EQ(outCtr[16 + b * 8 + i], shared[i]) << "block " << b;
    }
  }
}

/// cp.async of 4, 8 and 16 bytes with src-size zero fill, committed in two
/// groups; the data is read after the wait and a barrier. The data lands the
/// same with the race detector off (its shadow state is then empty).
void checkCpAsync(const EmulatorOptions &opts) {
  std::string ptx = R"(
.version 8.0
.target sm_80
.address_size 64
.shared .align 16 .b8 buf[4096];
.visible .entry k(.param .u64 in, .param .u64 out)
{
  .reg .pred %p<4>;
  .reg .b32 %r<32>;
  .reg .b64 %rd<16>;
  mov.u32 %r0, %tid.x;
  ld.param.u64 %rd0, [in];
  ld.param.u64 %rd1, [out];
  mul.wide.u32 %rd2, %r0, 16;
  add.s64 %rd3, %rd0, %rd2;
  mov.u32 %r1, buf;
  shl.b32 %r2, %r0, 4;
  add.u32 %r3, %r1, %r2;
  rem.u32 %r4, %r0, 17;      // src-size 0..16
  cp.async.cg.shared.global [%r3], [%rd3], 16, %r4;
  cp.async.commit_group;
  add.u32 %r5, %r3, 2048;
  cp.async.ca.shared.global [%r5], [%rd3], 4;
  cp.async.ca.shared.global [%r5+8], [%rd3+8], 8;
  cp.async.commit_group;
  cp.async.wait_group 1;
  bar.sync 0;
  // read a neighbour's first copy
  add.u32 %r6, %r0, 1;
  and.b32 %r6, %r6, 63;
  shl.b32 %r7, %r6, 4;
  add.u32 %r8, %r1, %r7;
  ld.shared.v4.u32 {%r10, %r11, %r12, %r13}, [%r8];
  cp.async.wait_all;
  ld.shared.u32 %r14, [%r5];
  ld.shared.u64 %rd4, [%r5+8];
  mul.wide.u32 %rd5, %r0, 32;
  add.s64 %rd6, %rd1, %rd5;
  st.global.v4.u32 [%rd6], {%r10, %r11, %r12, %r13};
  st.global.u32 [%rd6+16], %r14;
  st.global.u64 [%rd6+24], %rd4;
  ret;
}
)";
  Emulator emu(opts);
  auto mod = emu.loadModule(ptx, "cpasync.ptx");
  ASSERT_TRUE(mod.ok()) << mod.error().message();
  const unsigned n = 64;
  std::vector<uint8_t> in(n * 16);
  std::mt19937 rng(5);
  for (auto &b : in)
    b = uint8_t(rng() | 1);
  DevicePtr din = *emu.allocate(in.size()), dout = *emu.allocate(n * 32);
  ASSERT_TRUE(emu.copyToDevice(din, in.data(), in.size()).ok());
  Status s = emu.launch(*mod->kernel("k"), Dim3(1), Dim3(n), 0,
                        {ParamBytes::of(din), ParamBytes::of(dout)});
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<uint8_t> out(n * 32);
  ASSERT_TRUE(emu.copyFromDevice(out.data(), dout, out.size()).ok());
  for (unsigned t = 0; t < n; ++t) {
    unsigned nb = (t + 1) % 64, srcSize = nb % 17;
    for (unsigned b = 0; b < 16; ++b)
      EXPECT_EQ(out[t * 32 + b], b < srcSize ? in[nb * 16 + b] : 0)
          << "thread " << t << " byte " << b;
    for (unsigned b = 0; b < 4; ++b)
      EXPECT_EQ(out[t * 32 + 16 + b], in[t * 16 + b]);
    for (unsigned b = 0; b < 8; ++b)
      EXPECT_EQ(out[t * 32 + 24 + b], in[t * 16 + 8 + b]);
  }
}

TEST(EmuWarp, CpAsync) {
  checkCpAsync(EmulatorOptions());
  EmulatorOptions noRaces;
  noRaces.raceCheck = RaceCheck::Off;
  checkCpAsync(noRaces);
}

//===----------------------------------------------------------------------===//
// ldmatrix
//===----------------------------------------------------------------------===//

std::string ldmatrixPtx(unsigned num, bool trans) {
  std::string regs, stores;
  for (unsigned i = 0; i < num; ++i) {
    regs += (i ? ", " : "") + std::string("%r") + std::to_string(20 + i);
    stores += "  st.global.u32 [%rd4+" + std::to_string(4 * i) + "], %r" +
              std::to_string(20 + i) + ";\n";
  }
  return std::string(R"(
.version 8.0
.target sm_80
.address_size 64
.shared .align 16 .b8 tile[512];
.visible .entry k(.param .u64 in, .param .u64 rows, .param .u64 out)
{
  .reg .b32 %r<32>;
  .reg .b64 %rd<16>;
  mov.u32 %r0, %tid.x;
  ld.param.u64 %rd0, [in];
  ld.param.u64 %rd1, [rows];
  ld.param.u64 %rd2, [out];
  mov.u32 %r1, tile;
  // copy the 512-byte tile: 16 bytes per lane
  mul.wide.u32 %rd3, %r0, 16;
  add.s64 %rd5, %rd0, %rd3;
  ld.global.v4.u32 {%r4, %r5, %r6, %r7}, [%rd5];
  shl.b32 %r2, %r0, 4;
  add.u32 %r3, %r1, %r2;
  st.shared.v4.u32 [%r3], {%r4, %r5, %r6, %r7};
  bar.sync 0;
  // this lane's row address: tile + rows[lane] * 16
  mul.wide.u32 %rd6, %r0, 4;
  add.s64 %rd7, %rd1, %rd6;
  ld.global.u32 %r8, [%rd7];
  shl.b32 %r9, %r8, 4;
  add.u32 %r10, %r1, %r9;
  ldmatrix.sync.aligned.m8n8.x)") +
         std::to_string(num) + (trans ? ".trans" : "") + ".shared.b16 {" +
         regs + R"(}, [%r10];
  mul.wide.u32 %rd8, %r0, 16;
  add.s64 %rd4, %rd2, %rd8;
)" + stores +
         "  ret;\n}\n";
}

TEST(EmuWarp, LdmatrixOneHot) {
  Emulator emu;
  std::mt19937 rng(12);
  for (unsigned num : {1u, 2u, 4u})
    for (bool trans : {false, true}) {
      auto mod = emu.loadModule(ldmatrixPtx(num, trans), "ldmatrix.ptx");
      ASSERT_TRUE(mod.ok()) << mod.error().message();
      auto k = *mod->kernel("k");
      // Rows of the matrices sit at shuffled 16-byte slots of the tile.
      std::vector<uint32_t> rows(32);
      for (unsigned i = 0; i < 32; ++i)
        rows[i] = i;
      std::shuffle(rows.begin(), rows.end(), rng);
      DevicePtr din = *emu.allocate(512), drows = *emu.allocate(128),
                dout = *emu.allocate(512);
      ASSERT_TRUE(emu.copyToDevice(drows, rows.data(), 128).ok());
      for (unsigned m = 0; m < num; ++m)
        for (unsigned r = 0; r < 8; ++r)
          for (unsigned c = 0; c < 8; ++c) {
            // One-hot: element (r, c) of matrix m is 1, everything else 0.
            std::vector<uint16_t> tile(256, 0);
            tile[rows[m * 8 + r] * 8 + c] = 0x3c00;
            ASSERT_TRUE(emu.copyToDevice(din, tile.data(), 512).ok());
            Status s = emu.launch(k, Dim3(1), Dim3(32), 0,
                                  {ParamBytes::of(din), ParamBytes::of(drows),
                                   ParamBytes::of(dout)});
            ASSERT_TRUE(s.ok()) << s.message();
            std::vector<uint16_t> out(256);
            ASSERT_TRUE(emu.copyFromDevice(out.data(), dout, 512).ok());
            // ISA: lane holds row lane/4, columns 2*(lane%4) and +1 of
            // fragment m; with .trans the fragment is of the transpose.
            unsigned fr = trans ? c : r, fc = trans ? r : c;
            unsigned lane = fr * 4 + fc / 2, half = fc % 2;
            for (unsigned l = 0; l < 32; ++l)
              for (unsigned i = 0; i < num; ++i)
                for (unsigned h = 0; h < 2; ++h) {
                  bool hot = l == lane && i == m && h == half;
                  ASSERT_EQ(out[l * 8 + i * 2 + h], hot ? 0x3c00 : 0)
                      << "x" << num << (trans ? ".trans" : "") << " m=" << m
                      << " r=" << r << " c=" << c << " lane " << l;
                }
          }
    }
}

//===----------------------------------------------------------------------===//
// mma.sync
//===----------------------------------------------------------------------===//

struct MmaShape {
  const char *name; ///< shape and types, as in the instruction
  unsigned K;
  bool isInt; ///< s8/u8 inputs, s32 accumulators
  bool bf16;
  bool f16Acc; ///< f16 C and D (two f16x2 registers)
  bool aSigned, bSigned;
};

struct Coord {
  unsigned row, col;
};

// The ISA's fragment tables, element i of lane l.
Coord aCoord(const MmaShape &s, unsigned l, unsigned i) {
  unsigned g = l >> 2, t = l % 4;
  if (!s.isInt && s.K == 16)
    return {(i < 2 || (i >= 4 && i < 6)) ? g : g + 8,
            i < 4 ? t * 2 + (i & 1) : t * 2 + (i & 1) + 8};
  if (!s.isInt && s.K == 8)
    return {i < 2 ? g : g + 8, t * 2 + (i & 1)};
  if (s.isInt && s.K == 16)
    return {i < 4 ? g : g + 8, t * 4 + (i & 3)};
  return {(i < 4 || (i >= 8 && i < 12)) ? g : g + 8,
          i < 8 ? t * 4 + (i & 3) : t * 4 + (i & 3) + 16};
}
Coord bCoord(const MmaShape &s, unsigned l, unsigned i) { // (k, n)
  unsigned g = l >> 2, t = l % 4;
  if (!s.isInt && s.K == 16)
    return {i < 2 ? t * 2 + (i & 1) : t * 2 + (i & 1) + 8, g};
  if (!s.isInt && s.K == 8)
    return {t * 2 + i, g};
  if (s.isInt && s.K == 16)
    return {t * 4 + i, g};
  return {i < 4 ? t * 4 + (i & 3) : t * 4 + (i & 3) + 16, g};
}
Coord cCoord(unsigned l, unsigned i) {
  unsigned g = l >> 2, t = l % 4;
  return {i < 2 ? g : g + 8, t * 2 + (i & 1)};
}

unsigned aElems(const MmaShape &s) { return 16 * s.K / 32; }
unsigned bElems(const MmaShape &s) { return 8 * s.K / 32; }
unsigned perReg(const MmaShape &s) { return s.isInt ? 4 : 2; }

std::string mmaPtx(const MmaShape &s) {
  unsigned na = aElems(s) / perReg(s), nb = bElems(s) / perReg(s);
  unsigned nc = s.f16Acc ? 2 : 4;
  auto list = [](const char *p, unsigned n) {
    std::string r = "{";
    for (unsigned i = 0; i < n; ++i)
      r += (i ? ", %" : "%") + std::string(p) + std::to_string(i);
    return r + "}";
  };
  std::string loads;
  auto load = [&](const char *p, unsigned n, const char *base) {
    for (unsigned i = 0; i < n; ++i)
      loads += "  ld.global.u32 %" + std::string(p) + std::to_string(i) +
               ", [" + base + "+" + std::to_string(4 * i) + "];\n";
  };
  load("a", na, "%rd4");
  load("b", nb, "%rd5");
  load("c", nc, "%rd6");
  std::string stores;
  for (unsigned i = 0; i < nc; ++i)
    stores += "  st.global.u32 [%rd7+" + std::to_string(4 * i) + "], %d" +
              std::to_string(i) + ";\n";
  return std::string(R"(
.version 8.0
.target sm_80
.address_size 64
.visible .entry k(.param .u64 a, .param .u64 b, .param .u64 c, .param .u64 d)
{
  .reg .b32 %a<4>;
  .reg .b32 %b<2>;
  .reg .b32 %c<4>;
  .reg .b32 %d<4>;
  .reg .b32 %r<4>;
  .reg .b64 %rd<16>;
  mov.u32 %r0, %tid.x;
  mul.wide.u32 %rd0, %r0, 16;
  ld.param.u64 %rd1, [a];
  add.s64 %rd4, %rd1, %rd0;
  ld.param.u64 %rd1, [b];
  add.s64 %rd5, %rd1, %rd0;
  ld.param.u64 %rd1, [c];
  add.s64 %rd6, %rd1, %rd0;
  ld.param.u64 %rd1, [d];
  add.s64 %rd7, %rd1, %rd0;
)") + loads +
         "  mma.sync.aligned." + s.name + " " + list("d", nc) + ", " +
         list("a", na) + ", " + list("b", nb) + ", " + list("c", nc) + ";\n" +
         stores + "  ret;\n}\n";
}

uint16_t toF16(double v) {
  _Float16 h = _Float16(v);
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}
uint16_t toBF16(double v) { return uint16_t(f2u(float(v)) >> 16); }

/// Runs one mma with matrices A (16xK), B (Kx8), C (16x8) given as small
/// integers (exact in every input type) and returns D as doubles.
std::vector<double> runMma(Emulator &emu, const Kernel &k, const MmaShape &s,
                           const std::vector<int> &A, const std::vector<int> &B,
                           const std::vector<int> &C) {
  std::vector<uint32_t> af(32 * 4, 0), bf(32 * 4, 0), cf(32 * 4, 0);
  auto enc = [&](int v) -> uint32_t {
    if (s.isInt)
      return uint32_t(uint8_t(v));
    return s.bf16 ? toBF16(v) : toF16(v);
  };
  unsigned bits = s.isInt ? 8 : 16;
  for (unsigned l = 0; l < 32; ++l) {
    for (unsigned i = 0; i < aElems(s); ++i) {
      Coord c = aCoord(s, l, i);
      af[l * 4 + i / perReg(s)] |= enc(A[c.row * s.K + c.col])
                                   << (bits * (i % perReg(s)));
    }
    for (unsigned i = 0; i < bElems(s); ++i) {
      Coord c = bCoord(s, l, i);
      bf[l * 4 + i / perReg(s)] |= enc(B[c.row * 8 + c.col])
                                   << (bits * (i % perReg(s)));
    }
    for (unsigned i = 0; i < 4; ++i) {
      Coord c = cCoord(l, i);
      int v = C[c.row * 8 + c.col];
      if (s.f16Acc)
        cf[l * 4 + i / 2] |= uint32_t(toF16(v)) << (16 * (i % 2));
      else
        cf[l * 4 + i] = s.isInt ? uint32_t(v) : f2u(float(v));
    }
  }
  DevicePtr da = *emu.allocate(512), db = *emu.allocate(512),
            dc = *emu.allocate(512), dd = *emu.allocate(512);
  EXPECT_TRUE(emu.copyToDevice(da, af.data(), 512).ok());
  EXPECT_TRUE(emu.copyToDevice(db, bf.data(), 512).ok());
  EXPECT_TRUE(emu.copyToDevice(dc, cf.data(), 512).ok());
  Status st = emu.launch(k, Dim3(1), Dim3(32), 0,
                         {ParamBytes::of(da), ParamBytes::of(db),
                          ParamBytes::of(dc), ParamBytes::of(dd)});
  EXPECT_TRUE(st.ok()) << st.message();
  std::vector<uint32_t> df(32 * 4);
  EXPECT_TRUE(emu.copyFromDevice(df.data(), dd, 512).ok());
  for (DevicePtr p : {da, db, dc, dd})
    EXPECT_TRUE(emu.free(p).ok());
  std::vector<double> D(16 * 8, -12345);
  for (unsigned l = 0; l < 32; ++l)
    for (unsigned i = 0; i < 4; ++i) {
      Coord c = cCoord(l, i);
      double v;
      if (s.f16Acc) {
        uint16_t h = uint16_t(df[l * 4 + i / 2] >> (16 * (i % 2)));
        _Float16 hf;
        std::memcpy(&hf, &h, 2);
        v = double(hf);
      } else if (s.isInt) {
        v = double(int32_t(df[l * 4 + i]));
      } else {
        v = u2f(df[l * 4 + i]);
      }
      D[c.row * 8 + c.col] = v;
    }
  return D;
}

const MmaShape kShapes[] = {
    {"m16n8k16.row.col.f32.f16.f16.f32", 16, false, false, false, true, true},
    {"m16n8k16.row.col.f32.bf16.bf16.f32", 16, false, true, false, true, true},
    {"m16n8k16.row.col.f16.f16.f16.f16", 16, false, false, true, true, true},
    {"m16n8k8.row.col.f32.f16.f16.f32", 8, false, false, false, true, true},
    {"m16n8k16.row.col.s32.s8.s8.s32", 16, true, false, false, true, true},
    {"m16n8k32.row.col.s32.s8.u8.s32", 32, true, false, false, true, false},
    {"m16n8k32.row.col.satfinite.s32.u8.s8.s32", 32, true, false, false, false,
     true},
};

class EmuMma : public ::testing::TestWithParam<int> {};

TEST_P(EmuMma, OneHotFragments) {
  const MmaShape &s = kShapes[GetParam()];
  Emulator emu;
  auto mod = emu.loadModule(mmaPtx(s), "mma.ptx");
  ASSERT_TRUE(mod.ok()) << mod.error().message();
  auto k = *mod->kernel("k");
  std::mt19937 rng(GetParam() + 1);
  auto small = [&](bool sg) {
    return sg ? int(rng() % 15) - 7 : int(rng() % 15);
  };
  std::vector<int> zeroC(128, 0);
  // One-hot A at (i, kk) against a random B: row i of D is row kk of B.
  for (unsigned i = 0; i < 16; ++i)
    for (unsigned kk = 0; kk < s.K; ++kk) {
      std::vector<int> A(16 * s.K, 0), B(s.K * 8);
      A[i * s.K + kk] = 1;
      for (auto &v : B)
        v = small(s.bSigned) | 1;
      auto D = runMma(emu, k, s, A, B, zeroC);
      for (unsigned r = 0; r < 16; ++r)
        for (unsigned c = 0; c < 8; ++c)
          ASSERT_EQ(D[r * 8 + c], r == i ? B[kk * 8 + c] : 0)
              << s.name << " A one-hot at (" << i << "," << kk << ")";
    }
  // One-hot B at (kk, j) against a random A: column j of D is column kk of A.
  for (unsigned kk = 0; kk < s.K; ++kk)
    for (unsigned j = 0; j < 8; ++j) {
      std::vector<int> A(16 * s.K), B(s.K * 8, 0);
      B[kk * 8 + j] = 1;
      for (auto &v : A)
        v = small(s.aSigned) | 1;
      auto D = runMma(emu, k, s, A, B, zeroC);
      for (unsigned r = 0; r < 16; ++r)
        for (unsigned c = 0; c < 8; ++c)
          ASSERT_EQ(D[r * 8 + c], c == j ? A[r * s.K + kk] : 0)
              << s.name << " B one-hot at (" << kk << "," << j << ")";
    }
  // One-hot C with A = 0: D is C.
  std::vector<int> zeroA(16 * s.K, 0), zeroB(s.K * 8, 0);
  for (unsigned i = 0; i < 128; i += 5) {
    std::vector<int> C(128, 0);
    C[i] = 3;
    auto D = runMma(emu, k, s, zeroA, zeroB, C);
    for (unsigned e = 0; e < 128; ++e)
      ASSERT_EQ(D[e], e == i ? 3 : 0) << s.name << " C one-hot at " << i;
  }
  // Random A, B, C against a host matrix product.
  std::vector<int> A(16 * s.K), B(s.K * 8), C(128);
  for (auto &v : A)
    v = small(s.aSigned);
  for (auto &v : B)
    v = small(s.bSigned);
  for (auto &v : C)
    v = int(rng() % 200) - 100;
  auto D = runMma(emu, k, s, A, B, C);
  for (unsigned r = 0; r < 16; ++r)
    for (unsigned c = 0; c < 8; ++c) {
      int ref = C[r * 8 + c];
      for (unsigned kk = 0; kk < s.K; ++kk)
        ref += A[r * s.K + kk] * B[kk * 8 + c];
      ASSERT_EQ(D[r * 8 + c], ref) << s.name << " at (" << r << "," << c << ")";
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, EmuMma,
                         ::testing::Range(0, int(std::size(kShapes))));

} // namespace
