//===- WgmmaTest.cpp - wgmma.mma_async against its definition -------------===//
//
// Random m64nNk16 products (N from 8 to 256; f16 and bf16 inputs; f32 and
// f16 accumulators; A from registers or shared memory; every layout of the
// matrix descriptors: no swizzle with either order of core matrices, and
// 32, 64 and 128-byte swizzles at K offsets inside the swizzle row; scale-d
// and the imm-scale negations). The test writes each operand into shared
// memory by the PTX ISA's canonical K-major layouts and distributes A and D
// by its fragment figures, independently of the emulator, and checks every
// element of D.
//
//===----------------------------------------------------------------------===//

#include "test/unit/emu/EmuTestUtil.h"

#include <cmath>

using namespace tilus::emu;
using namespace tilus::emu::test;

namespace {

uint16_t toHalf(double v, bool bf16) {
  float f = float(v);
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if (bf16)
    return uint16_t(u >> 16); // the values are exact in bf16
  // Exact small values: sign, exponent, 10 bits of mantissa.
  if (f == 0)
    return uint16_t(u >> 16 & 0x8000);
  int e;
  double m = std::frexp(std::fabs(v), &e); // v = m 2^e, m in [0.5, 1)
  uint16_t sign = v < 0 ? 0x8000 : 0;
  return uint16_t(sign | uint16_t(e + 14) << 10 |
                  uint16_t(std::lround((m * 2 - 1) * 1024)));
}

double fromHalf(uint16_t h) {
  int e = h >> 10 & 0x1f;
  double m = h & 0x3ff;
  double v = e ? std::ldexp(1 + m / 1024, e - 15) : std::ldexp(m / 1024, -14);
  return h & 0x8000 ? -v : v;
}

/// One operand in shared memory: a descriptor and the byte address of
/// row r, K byte b, by the ISA's K-major canonical layouts.
struct Operand {
  uint32_t start, lbo, sbo;
  unsigned layout; // 0 none, 1 128B, 2 64B, 3 32B
  uint32_t address(unsigned r, unsigned b) const {
    if (layout == 0)
      return start + r / 8 * sbo + r % 8 * 16 + b / 16 * lbo + b % 16;
    unsigned span = 128u >> (layout - 1);
    uint32_t a = start + r / 8 * sbo + r % 8 * span + b;
    uint32_t chunk = (a >> 4 & 7) ^ (a >> 7 & (span / 16 - 1));
    return (a & ~0x70u) | chunk << 4;
  }
  /// MN-major (16-bit elements): element (mn, k), by the ISA's CuTe
  /// layouts with T = 8 elements: ((T,1,m),(8,k)):((1,T,SBO),(1T,LBO))
  /// unswizzled, ((T,S/16,m),(8,k)):((1,T,LBO),(S/16 T,SBO)) swizzled.
  uint32_t addressMN(unsigned mn, unsigned k) const {
    if (layout == 0)
      return start + 2 * (mn % 8) + mn / 8 * sbo + 16 * (k % 8) + k / 8 * lbo;
    unsigned span = 128u >> (layout - 1), groups = span / 16;
    uint32_t a = start + 2 * (mn % 8) + 16 * (mn / 8 % groups) +
                 mn / (8 * groups) * lbo + span * (k % 8) + k / 8 * sbo;
    uint32_t chunk = (a >> 4 & 7) ^ (a >> 7 & (span / 16 - 1));
    return (a & ~0x70u) | chunk << 4;
  }
  uint64_t descriptor() const {
    return uint64_t(start >> 4) | uint64_t(lbo >> 4) << 16 |
           uint64_t(sbo >> 4) << 32 | uint64_t(layout) << 62;
  }
  /// The bytes the operand spans from its region's base (an upper bound).
  uint32_t extent(unsigned rows) const {
    uint32_t hi = 0;
    for (unsigned r = 0; r < rows; ++r)
      for (unsigned b = 0; b < 32; b += 2)
        hi = std::max(hi, (mnMajor ? addressMN(r, b / 2) : address(r, b)) + 2);
    return hi;
  }
  bool mnMajor = false;
};

/// An MN-major operand of \p rows rows at \p base (1024-aligned): 8-row
/// groups (unswizzled) or swizzle rows next to each other along MN or
/// along K, with a gap or not.
Operand randomOperandMN(std::mt19937 &rng, uint32_t base, unsigned rows) {
  Operand o;
  o.mnMajor = true;
  o.layout = rng() % 4;
  o.start = base;
  uint32_t atom = 128, along = rows / 8;
  if (o.layout) {
    unsigned span = 128u >> (o.layout - 1);
    atom = 8 * span;
    along = (2 * rows + span - 1) / span;
  }
  uint32_t gap = atom * (rng() % 2);
  if (rng() % 2) { // MN-adjacent, then the second 8 K
    (o.layout ? o.lbo : o.sbo) = atom;
    (o.layout ? o.sbo : o.lbo) = along * atom + gap;
  } else { // K-adjacent, then the next MN group
    (o.layout ? o.sbo : o.lbo) = atom;
    (o.layout ? o.lbo : o.sbo) = 2 * atom + gap;
  }
  return o;
}

Operand randomOperand(std::mt19937 &rng, uint32_t base, unsigned rows) {
  Operand o;
  o.layout = rng() % 4;
  if (o.layout == 0) {
    // Core matrices (8 rows of 16 bytes): the two K halves next to each
    // other, or all rows' first K halves, then the second ones.
    if (rng() % 2) {
      o.lbo = 128;
      o.sbo = 256 + 128 * (rng() % 2);
    } else {
      o.sbo = 128;
      o.lbo = rows / 8 * 128 + 256 * (rng() % 2);
    }
    o.start = base;
  } else {
    unsigned span = 128u >> (o.layout - 1);
    o.lbo = 16; // unused for K-major swizzled layouts
    o.sbo = 8 * span * (1 + rng() % 2);
    // The pattern repeats every 8 rows (8 * span bytes): the region is
    // aligned to 1024 and K starts at a multiple of 32 inside the row.
    o.start = base + 32 * (rng() % (span / 32));
  }
  return o;
}

struct Config {
  unsigned n;
  bool bf16, f16Acc, regA, scaleD;
  int scaleA, scaleB;
  // The other forms: the type suffix (".f32.e4m3.e5m2", ".satfinite.s32.s8
  // .u8"; empty: f16/bf16 as above), the shape's K and the transposes.
  std::string types = "";
  unsigned k = 16;
  bool transA = false, transB = false;
  /// PTX between the commit_group and the wait_group (hazard tests).
  std::string inFlight = "";
};

std::string wgmmaPtx(const Config &c) {
  unsigned dregs = c.f16Acc ? c.n / 4 : c.n / 2;
  std::string d = "{";
  for (unsigned j = 0; j < dregs; ++j)
    d += (j ? ", %d" : "%d") + std::to_string(j);
  d += "}";
  std::string types = !c.types.empty() ? c.types
                      : c.f16Acc       ? ".f16.f16.f16"
                      : c.bf16         ? ".f32.bf16.bf16"
                                       : ".f32.f16.f16";
  std::string loadD, storeD;
  for (unsigned j = 0; j < dregs; ++j) {
    loadD += "  ld.global.u32 %d" + std::to_string(j) + ", [%rd6+" +
             std::to_string(4 * j) + "];\n";
    storeD += "  st.global.u32 [%rd7+" + std::to_string(4 * j) + "], %d" +
              std::to_string(j) + ";\n";
  }
  std::string a = c.regA ? "{%a0, %a1, %a2, %a3}" : "%rd3";
  std::string ta = c.transA ? "1" : "0", tb = c.transB ? "1" : "0";
  bool integer = types.find(".s32") != std::string::npos;
  bool half = c.k == 16;
  std::string imm = integer ? ""
                            : ", " + std::to_string(c.scaleA) + ", " +
                                  std::to_string(c.scaleB) +
                                  (!half    ? ""
                                   : c.regA ? ", " + tb
                                            : ", " + ta + ", " + tb);
  return R"(.version 8.5
.target sm_90a
.address_size 64
.visible .entry k(.param .u64 k_img, .param .u64 k_frag, .param .u64 k_out,
                  .param .u64 k_da, .param .u64 k_db, .param .u32 k_bytes,
                  .param .u32 k_scaled)
{
  .reg .pred %p<4>;
  .reg .b32 %r<16>;
  .reg .b32 %a<4>;
  .reg .b32 %d<128>;
  .reg .b64 %rd<16>;
  .shared .align 1024 .b8 smem[131072];
  ld.param.u64 %rd1, [k_img];
  ld.param.u64 %rd2, [k_frag];
  ld.param.u64 %rd3, [k_da];
  ld.param.u64 %rd4, [k_db];
  ld.param.u64 %rd5, [k_out];
  ld.param.u32 %r1, [k_bytes];
  ld.param.u32 %r2, [k_scaled];
  setp.ne.u32 %p1, %r2, 0;
  mov.u32 %r3, %tid.x;
  shl.b32 %r4, %r3, 2;
COPY:
  setp.ge.u32 %p2, %r4, %r1;
  @%p2 bra COPIED;
  cvt.u64.u32 %rd8, %r4;
  add.s64 %rd9, %rd1, %rd8;
  ld.global.u32 %r5, [%rd9];
  mov.u32 %r6, smem;
  add.u32 %r6, %r6, %r4;
  st.shared.u32 [%r6], %r5;
  add.u32 %r4, %r4, 512;
  bra COPY;
COPIED:
  bar.sync 0;
  // this thread's fragment: )" +
         std::to_string(dregs) + R"( D registers, then 4 A registers
  mul.wide.u32 %rd10, %r3, )" +
         std::to_string(4 * (dregs + 4)) + R"(;
  add.s64 %rd6, %rd2, %rd10;
  mul.wide.u32 %rd11, %r3, )" +
         std::to_string(4 * dregs) + R"(;
  add.s64 %rd7, %rd5, %rd11;
)" + loadD +
         "  ld.global.u32 %a0, [%rd6+" + std::to_string(4 * dregs) +
         "];\n  ld.global.u32 %a1, [%rd6+" + std::to_string(4 * dregs + 4) +
         "];\n  ld.global.u32 %a2, [%rd6+" + std::to_string(4 * dregs + 8) +
         "];\n  ld.global.u32 %a3, [%rd6+" + std::to_string(4 * dregs + 12) +
         R"(];
  wgmma.fence.sync.aligned;
  wgmma.mma_async.sync.aligned.m64n)" +
         std::to_string(c.n) + "k" + std::to_string(c.k) + types + " " + d +
         ", " + a + ", %rd4, %p1" + imm + R"(;
  wgmma.commit_group.sync.aligned;
)" + c.inFlight +
         "  wgmma.wait_group.sync.aligned 0;\n" + storeD + "  ret;\n}\n";
}

// 200 random products: every element of D as the definition gives it.
TEST(EmuWgmma, MatchesTheDefinition) {
  std::mt19937 rng(64);
  for (int trial = 0; trial < 200; ++trial) {
    Config c;
    c.n = 8 * (1 + rng() % 32);
    c.bf16 = rng() % 3 == 0;
    c.f16Acc = !c.bf16 && rng() % 3 == 0;
    c.regA = rng() % 3 == 0;
    c.scaleD = rng() % 2;
    c.scaleA = rng() % 4 == 0 ? -1 : 1;
    c.scaleB = rng() % 4 == 0 ? -1 : 1;
    // Values exact in f16 and bf16 whose products and sums are exact.
    auto value = [&] { return double(int(rng() % 17) - 8) / 4; };
    std::vector<double> A(64 * 16), B(size_t(c.n) * 16), D(64 * size_t(c.n));
    for (double &x : A)
      x = value();
    for (double &x : B)
      x = value();
    for (double &x : D)
      x = value();
    Operand oa = randomOperand(rng, 0, 64);
    uint32_t bBase = (c.regA ? 0 : (oa.extent(64) + 1023) / 1024 * 1024);
    Operand ob = randomOperand(rng, bBase, c.n);
    uint32_t bytes = (ob.extent(c.n) + 511) / 512 * 512;
    ASSERT_LE(bytes, 131072u);
    std::vector<uint8_t> img(bytes);
    for (uint8_t &x : img)
      x = uint8_t(rng()); // what no operand covers is garbage
    auto put = [&](const Operand &o, unsigned r, unsigned k, double v) {
      uint16_t h = toHalf(v, c.bf16);
      std::memcpy(img.data() + o.address(r, 2 * k), &h, 2);
    };
    for (unsigned r = 0; r < 64 && !c.regA; ++r)
      for (unsigned k = 0; k < 16; ++k)
        put(oa, r, k, A[r * 16 + k]);
    for (unsigned r = 0; r < c.n; ++r)
      for (unsigned k = 0; k < 16; ++k)
        put(ob, r, k, B[r * 16 + k]);
    // Fragments, by the ISA's figures.
    unsigned dregs = c.f16Acc ? c.n / 4 : c.n / 2;
    auto dRowCol = [&](unsigned t, unsigned i, unsigned &row, unsigned &col) {
      unsigned w = t / 32, l = t % 32;
      row = 16 * w + l / 4 + 8 * ((i / 2) % 2);
      col = 8 * (i / 4) + 2 * (l % 4) + i % 2;
    };
    std::vector<uint32_t> frag(128 * (dregs + 4));
    for (unsigned t = 0; t < 128; ++t) {
      uint32_t *f = &frag[t * (dregs + 4)];
      for (unsigned j = 0; j < dregs; ++j) {
        if (c.f16Acc) {
          uint32_t word = 0;
          for (unsigned h = 0; h < 2; ++h) {
            unsigned row, col;
            dRowCol(t, 2 * j + h, row, col);
            word |= uint32_t(toHalf(D[row * c.n + col], false)) << (16 * h);
          }
          f[j] = word;
        } else {
          unsigned row, col;
          dRowCol(t, j, row, col);
          f[j] = f2u(float(D[row * c.n + col]));
        }
      }
      for (unsigned e = 0; e < 8; ++e) {
        unsigned w = t / 32, l = t % 32;
        unsigned row = 16 * w + l / 4 + 8 * ((e / 2) % 2);
        unsigned col = 2 * (l % 4) + e % 2 + 8 * (e / 4);
        uint32_t h = toHalf(A[row * 16 + col], c.bf16);
        f[dregs + e / 2] |= h << (16 * (e % 2));
      }
    }
    Emulator emu;
    std::string ptx = wgmmaPtx(c);
    auto mod = emu.loadModule(ptx, "wgmma.ptx");
    ASSERT_TRUE(mod.ok()) << mod.error().message() << "\n" << ptx;
    DevicePtr dimg = *emu.allocate(bytes),
              dfrag = *emu.allocate(frag.size() * 4),
              dout = *emu.allocate(128 * dregs * 4);
    ASSERT_TRUE(emu.copyToDevice(dimg, img.data(), bytes).ok());
    ASSERT_TRUE(emu.copyToDevice(dfrag, frag.data(), frag.size() * 4).ok());
    Status s = emu.launch(
        *mod->kernel("k"), Dim3(1), Dim3(128), 0,
        {ParamBytes::of(dimg), ParamBytes::of(dfrag), ParamBytes::of(dout),
         ParamBytes::of(oa.descriptor()), ParamBytes::of(ob.descriptor()),
         ParamBytes::of(bytes), ParamBytes::of(uint32_t(c.scaleD))});
    ASSERT_TRUE(s.ok()) << "trial " << trial << ": " << s.message();
    std::vector<uint32_t> out(128 * dregs);
    ASSERT_TRUE(emu.copyFromDevice(out.data(), dout, out.size() * 4).ok());
    for (unsigned t = 0; t < 128; ++t)
      for (unsigned i = 0; i < (c.f16Acc ? c.n / 2 : c.n / 2); ++i) {
        unsigned row, col;
        dRowCol(t, i, row, col);
        double want = 0;
        for (unsigned k = 0; k < 16; ++k)
          want += A[row * 16 + k] * B[col * 16 + k];
        want *= c.scaleA * c.scaleB;
        if (c.scaleD)
          want += D[row * c.n + col];
        double got =
            c.f16Acc
                ? fromHalf(uint16_t(out[t * dregs + i / 2] >> (16 * (i % 2))))
                : double(u2f(out[t * dregs + i]));
        ASSERT_EQ(got, want)
            << "trial " << trial << ": n " << c.n << (c.bf16 ? " bf16" : " f16")
            << (c.f16Acc ? " f16 acc" : "") << (c.regA ? " A in registers" : "")
            << ", layouts " << oa.layout << "/" << ob.layout << ", thread " << t
            << ", element " << i << " (row " << row << ", column " << col
            << ")";
      }
  }
}

/// An e4m3 code's value by the format: bias 7, 3 fraction bits (the codes
/// drawn exclude NaN).
double e4m3Value(uint8_t b) {
  int e = b >> 3 & 15, m = b & 7;
  double v = e ? std::ldexp(1 + m / 8.0, e - 7) : std::ldexp(m / 8.0, -6);
  return b & 0x80 ? -v : v;
}

/// An e5m2 code's value: bias 15, 2 fraction bits (finite codes only).
double e5m2Value(uint8_t b) {
  int e = b >> 2 & 31, m = b & 3;
  double v = e ? std::ldexp(1 + m / 4.0, e - 15) : std::ldexp(m / 4.0, -14);
  return b & 0x80 ? -v : v;
}

enum class Kind { F8, I8, Trans };

struct Case {
  Config c;
  Kind kind;
  std::string at, bt, dt;
  bool sat = false;
  Operand oa, ob;
  // Codes and values of A (64 x K), B (N x K) and D (64 x N).
  std::vector<uint16_t> aCode, bCode;
  std::vector<double> A, B, D;
  std::vector<uint8_t> img;
  std::vector<uint32_t> frag;
  unsigned dregs = 0;
};

Case randomCase(std::mt19937 &rng, Kind kind) {
  Case t;
  t.kind = kind;
  Config &c = t.c;
  c.regA = rng() % 3 == 0;
  c.scaleD = rng() % 2;
  c.scaleA = rng() % 4 == 0 ? -1 : 1;
  c.scaleB = rng() % 4 == 0 ? -1 : 1;
  c.bf16 = false;
  c.f16Acc = false;
  if (kind == Kind::F8) {
    t.at = rng() % 2 ? "e4m3" : "e5m2";
    t.bt = rng() % 2 ? "e4m3" : "e5m2";
    c.f16Acc = rng() % 3 == 0;
    t.dt = c.f16Acc ? "f16" : "f32";
    c.n = 8 * (1 + rng() % 32);
    c.k = 32;
  } else if (kind == Kind::I8) {
    t.at = rng() % 2 ? "s8" : "u8";
    t.bt = rng() % 2 ? "s8" : "u8";
    t.dt = "s32";
    t.sat = rng() % 2;
    static const unsigned ns[] = {8,   16,  24,  32,  48,  64,  80,  96,  112,
                                  128, 144, 160, 176, 192, 208, 224, 240, 256};
    c.n = ns[rng() % 18];
    c.k = 32;
  } else {
    c.bf16 = rng() % 3 == 0;
    c.f16Acc = !c.bf16 && rng() % 3 == 0;
    t.at = t.bt = c.bf16 ? "bf16" : "f16";
    t.dt = c.f16Acc ? "f16" : "f32";
    c.n = 8 * (1 + rng() % 32);
    c.transA = !c.regA && rng() % 2;
    c.transB = !c.transA || rng() % 2;
  }
  c.types = (t.sat ? ".satfinite." : ".") + t.dt + "." + t.at + "." + t.bt;
  unsigned K = c.k;
  auto code = [&](const std::string &type, double &v) -> uint16_t {
    if (type == "e4m3") {
      // Exponent fields 0-9: subnormals to 2^2, products and sums exact.
      uint8_t b = uint8_t((rng() % 2) << 7 | (rng() % 10) << 3 | rng() % 8);
      v = e4m3Value(b);
      return b;
    }
    if (type == "e5m2") {
      uint8_t b = uint8_t((rng() % 2) << 7 | (rng() % 18) << 2 | rng() % 4);
      v = e5m2Value(b);
      return b;
    }
    if (type == "s8" || type == "u8") {
      uint8_t b = uint8_t(rng());
      v = type == "s8" ? double(int8_t(b)) : double(b);
      return b;
    }
    v = double(int(rng() % 17) - 8) / 4;
    return toHalf(v, type == "bf16");
  };
  t.aCode.resize(64 * K);
  t.A.resize(64 * K);
  t.bCode.resize(size_t(c.n) * K);
  t.B.resize(size_t(c.n) * K);
  t.D.resize(64 * size_t(c.n));
  for (size_t i = 0; i < t.A.size(); ++i)
    t.aCode[i] = code(t.at, t.A[i]);
  for (size_t i = 0; i < t.B.size(); ++i)
    t.bCode[i] = code(t.bt, t.B[i]);
  for (double &x : t.D) {
    if (kind != Kind::I8)
      x = double(int(rng() % 17) - 8) / 4;
    else if (rng() % 4 == 0) // near the limits: .satfinite and wrapping
      x = rng() % 2 ? double(INT32_MAX - int32_t(rng() % (1 << 21)))
                    : double(INT32_MIN + int32_t(rng() % (1 << 21)));
    else
      x = double(int32_t(rng()));
  }
  t.oa = c.transA ? randomOperandMN(rng, 0, 64) : randomOperand(rng, 0, 64);
  uint32_t bBase = c.regA ? 0 : (t.oa.extent(64) + 1023) / 1024 * 1024;
  t.ob = c.transB ? randomOperandMN(rng, bBase, c.n)
                  : randomOperand(rng, bBase, c.n);
  uint32_t bytes = (t.ob.extent(c.n) + 511) / 512 * 512;
  t.img.resize(bytes);
  for (uint8_t &x : t.img)
    x = uint8_t(rng());
  unsigned eb = 32 / K;
  auto put = [&](const Operand &o, unsigned r, unsigned k, uint16_t v) {
    uint32_t at = o.mnMajor ? o.addressMN(r, k) : o.address(r, eb * k);
    std::memcpy(t.img.data() + at, &v, eb);
  };
  for (unsigned r = 0; r < 64 && !c.regA; ++r)
    for (unsigned k = 0; k < K; ++k)
      put(t.oa, r, k, t.aCode[r * K + k]);
  for (unsigned r = 0; r < c.n; ++r)
    for (unsigned k = 0; k < K; ++k)
      put(t.ob, r, k, t.bCode[r * K + k]);
  // Fragments, by the ISA's figures (k32 A: 4 one-byte elements a register).
  t.dregs = c.f16Acc ? c.n / 4 : c.n / 2;
  t.frag.assign(128 * (t.dregs + 4), 0);
  for (unsigned th = 0; th < 128; ++th) {
    uint32_t *f = &t.frag[th * (t.dregs + 4)];
    unsigned w = th / 32, l = th % 32;
    for (unsigned i = 0; i < c.n / 2; ++i) {
      unsigned row = 16 * w + l / 4 + 8 * ((i / 2) % 2);
      unsigned col = 8 * (i / 4) + 2 * (l % 4) + i % 2;
      double v = t.D[row * c.n + col];
      if (c.f16Acc)
        f[i / 2] |= uint32_t(toHalf(v, false)) << (16 * (i % 2));
      else if (kind == Kind::I8)
        f[i] = uint32_t(int32_t(v));
      else
        f[i] = f2u(float(v));
    }
    for (unsigned e = 0; e < (K == 32 ? 16u : 8u); ++e) {
      unsigned row, col, reg, shift;
      if (K == 32) {
        row = 16 * w + l / 4 + 8 * ((e / 4) % 2);
        col = 4 * (l % 4) + e % 4 + 16 * (e / 8);
        reg = e / 4;
        shift = 8 * (e % 4);
      } else {
        row = 16 * w + l / 4 + 8 * ((e / 2) % 2);
        col = 2 * (l % 4) + e % 2 + 8 * (e / 4);
        reg = e / 2;
        shift = 16 * (e % 2);
      }
      f[t.dregs + reg] |= uint32_t(t.aCode[row * K + col]) << shift;
    }
  }
  return t;
}

struct Result {
  Status status;
  std::vector<uint32_t> out;
};

Result runCase(const Case &t, RaceCheck mode = RaceCheck::Stop) {
  EmulatorOptions opts;
  opts.raceCheck = mode;
  Emulator emu(opts);
  Result r;
  std::string ptx = wgmmaPtx(t.c);
  auto mod = emu.loadModule(ptx, "wgmma.ptx");
  EXPECT_TRUE(mod.ok()) << mod.error().message() << "\n" << ptx;
  if (!mod) {
    r.status = Status::error("load");
    return r;
  }
  uint32_t bytes = uint32_t(t.img.size());
  DevicePtr dimg = *emu.allocate(bytes),
            dfrag = *emu.allocate(t.frag.size() * 4),
            dout = *emu.allocate(128 * t.dregs * 4);
  EXPECT_TRUE(emu.copyToDevice(dimg, t.img.data(), bytes).ok());
  EXPECT_TRUE(emu.copyToDevice(dfrag, t.frag.data(), t.frag.size() * 4).ok());
  r.status = emu.launch(
      *mod->kernel("k"), Dim3(1), Dim3(128), 0,
      {ParamBytes::of(dimg), ParamBytes::of(dfrag), ParamBytes::of(dout),
       ParamBytes::of(t.oa.descriptor()), ParamBytes::of(t.ob.descriptor()),
       ParamBytes::of(bytes), ParamBytes::of(uint32_t(t.c.scaleD))});
  r.out.resize(128 * t.dregs);
  EXPECT_TRUE(emu.copyFromDevice(r.out.data(), dout, r.out.size() * 4).ok());
  return r;
}

// Random m64nNk32 e4m3/e5m2 (f32 and f16 accumulators) and s8/u8 (.s32,
// wrapping and .satfinite) products, and f16/bf16 products with MN-major
// (transposed) A and B in every layout, under race detection: every element
// of D against the definition. The fp8 values (exponent fields 0-9 for
// e4m3, 0-17 for e5m2, subnormals included) keep the sums exact in double,
// so the one rounding to f32 or f16 is the reference's (the host's
// double-to-float and double-to-_Float16 conversions, to nearest even).
TEST(EmuWgmma, EightBitAndTransposedMatchTheDefinition) {
  std::mt19937 rng(90);
  for (int trial = 0; trial < 240; ++trial) {
    Kind kind = Kind(trial % 3);
    Case t = randomCase(rng, kind);
    const Config &c = t.c;
    Result r = runCase(t);
    ASSERT_TRUE(r.status.ok())
        << "trial " << trial << ": " << r.status.message();
    unsigned K = c.k;
    for (unsigned th = 0; th < 128; ++th)
      for (unsigned i = 0; i < c.n / 2; ++i) {
        unsigned w = th / 32, l = th % 32;
        unsigned row = 16 * w + l / 4 + 8 * ((i / 2) % 2);
        unsigned col = 8 * (i / 4) + 2 * (l % 4) + i % 2;
        double sum = 0;
        for (unsigned k = 0; k < K; ++k)
          sum += t.A[row * K + k] * t.B[col * K + k];
        uint32_t want, got;
        if (kind == Kind::I8) {
          int64_t v =
              int64_t(sum) + (c.scaleD ? int64_t(t.D[row * c.n + col]) : 0);
          if (t.sat)
            v = std::min<int64_t>(std::max<int64_t>(v, INT32_MIN), INT32_MAX);
          want = uint32_t(uint64_t(v));
          got = r.out[th * t.dregs + i];
        } else {
          // D = A B (times the imm-scales), plus D under scale-d (a zero
          // product negated by an imm-scale stays -0 without it).
          double v = sum * c.scaleA * c.scaleB;
          if (c.scaleD)
            v += t.D[row * c.n + col];
          if (c.f16Acc) {
            _Float16 h = _Float16(v);
            uint16_t bits;
            std::memcpy(&bits, &h, 2);
            want = bits;
            got = r.out[th * t.dregs + i / 2] >> (16 * (i % 2)) & 0xffff;
          } else {
            want = f2u(float(v));
            got = r.out[th * t.dregs + i];
          }
        }
        ASSERT_EQ(got, want)
            << "trial " << trial << ": n " << c.n << " " << c.types
            << (c.regA ? " A in registers" : "") << (c.transA ? " A^T" : "")
            << (c.transB ? " B^T" : "") << ", layouts " << t.oa.layout << "/"
            << t.ob.layout << ", thread " << th << ", element " << i << " (row "
            << row << ", column " << col << ")";
      }
  }
}

// The race detector keeps an fp8 wgmma's and a transposed one's shared
// operands and registers pending until the wait_group: a write to the last
// byte of B (an MN-major B's last chunk) or to d[0] in flight is reported.
TEST(EmuWgmma, PendingEightBitAndTransposedOperandsAreTracked) {
  std::mt19937 rng(91);
  for (Kind kind : {Kind::F8, Kind::I8, Kind::Trans}) {
    Case t;
    // fp8: A from registers; transposed: B MN-major.
    do
      t = randomCase(rng, kind);
    while ((kind == Kind::F8 && !t.c.regA) ||
           (kind == Kind::Trans && !t.c.transB));
    t.c.scaleD = true;
    unsigned last = t.c.n - 1, K = t.c.k;
    uint32_t byte =
        t.ob.mnMajor ? t.ob.addressMN(last, K - 1) : t.ob.address(last, 31);
    Case bad = t;
    bad.c.inFlight = "  setp.eq.u32 %p3, %r3, 32;\n"
                     "  mov.u32 %r7, smem;\n"
                     "  @%p3 st.shared.u8 [%r7+" +
                     std::to_string(byte) + "], %r3;\n";
    Result r = runCase(bad);
    ASSERT_FALSE(r.status.ok());
    EXPECT_NE(r.status.message().find("wgmma hazard: write of shared byte " +
                                      std::to_string(byte)),
              std::string::npos)
        << r.status.message();
    bad.c.inFlight = "  mov.b32 %d0, 0;\n";
    r = runCase(bad);
    ASSERT_FALSE(r.status.ok());
    EXPECT_NE(r.status.message().find("wgmma hazard: write of register d[0]"),
              std::string::npos)
        << r.status.message();
    if (t.c.regA) {
      bad.c.inFlight = "  mov.b32 %a2, 0;\n";
      r = runCase(bad);
      ASSERT_FALSE(r.status.ok());
      EXPECT_NE(r.status.message().find("a[2]"), std::string::npos)
          << r.status.message();
    }
    // The same writes after the wait_group are legal.
    EXPECT_TRUE(runCase(t).status.ok());
  }
}

// A descriptor with a base offset (for operands not aligned to their
// swizzle pattern) is reported at the instruction.
TEST(EmuWgmma, BaseOffsetIsReported) {
  Config c{8, false, false, false, false, 1, 1};
  Emulator emu;
  auto mod = emu.loadModule(wgmmaPtx(c), "wgmma.ptx");
  ASSERT_TRUE(mod.ok()) << mod.error().message();
  DevicePtr buf = *emu.allocate(65536);
  ASSERT_TRUE(emu.memset(buf, 0, 65536).ok());
  uint64_t desc = 1ull << 49 | 1ull << 62 | (1024ull >> 4) << 32;
  Status s =
      emu.launch(*mod->kernel("k"), Dim3(1), Dim3(128), 0,
                 {ParamBytes::of(buf), ParamBytes::of(buf), ParamBytes::of(buf),
                  ParamBytes::of(desc), ParamBytes::of(desc),
                  ParamBytes::of(uint32_t(512)), ParamBytes::of(uint32_t(0))});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("wgmma matrix descriptor with a base offset of 1 "
                             "(only 0 is supported)"),
            std::string::npos)
      << s.message();
}

// Forms the emulator does not run are load errors naming the rule.
TEST(EmuWgmma, LoadErrors) {
  Config c{64, false, false, false, true, 1, 1};
  std::string ptx = wgmmaPtx(c);
  auto replace = [&](const std::string &from, const std::string &to) {
    std::string p = ptx;
    p.replace(p.find(from), from.size(), to);
    return p;
  };
  auto replace2 = [&](const std::string &from, const std::string &to,
                      const std::string &from2, const std::string &to2) {
    std::string p = replace(from, to);
    p.replace(p.find(from2), from2.size(), to2);
    return p;
  };
  std::vector<std::pair<std::string, const char *>> cases = {
      {replace("%p1, 1, 1, 0, 0;", "%p1, 1, 1, 2, 0;"),
       "imm-trans-a and imm-trans-b are 0 or 1"},
      {replace("%p1, 1, 1, 0, 0;", "%p1, 2, 1, 0, 0;"),
       "imm-scale-a and imm-scale-b are 1 or -1"},
      {replace(".f32.f16.f16", ".f32.f16.bf16"),
       "types .f32.f16.f16, .f16.f16.f16, .f32.bf16.bf16, .f32 or .f16 with "
       ".e4m3/.e5m2 A and B, or .s32 with .s8/.u8 A and B"},
      // 8-bit types: the k32 shape, no transposes, no scales for .s32,
      // the integer N values, .satfinite for .s32 only.
      {replace("k16.f32.f16.f16", "k16.f32.e4m3.e4m3"),
       "shape .m64nNk32 for .e4m3, .e5m2, .s8 and .u8"},
      {replace("k16.f32.f16.f16", "k32.f32.f16.f16"),
       "shape .m64nNk16 for .f16 and .bf16"},
      {replace("k16.f32.f16.f16", "k32.f32.e4m3.e5m2"),
       "imm-scale-a, imm-scale-b (no transpose immediates with "
       ".e4m3/.e5m2)"},
      {replace("k16.f32.f16.f16", "k32.s32.s8.u8"),
       "(no scale or transpose immediates with .s32)"},
      {replace2("m64n64k16.f32.f16.f16", "m64n40k32.s32.s8.s8",
                "%p1, 1, 1, 0, 0;", "%p1;"),
       "N of 8, 16, 24 or a multiple of 16 up to 256 with .s32"},
      {replace2("k16.f32.f16.f16", "k32.satfinite.f32.e4m3.e4m3",
                "%p1, 1, 1, 0, 0;", "%p1, 1, 1;"),
       ".satfinite only with .s32"},
      {replace2("k16.f32.f16.f16", "k32.s32.s8.u8", "%p1, 1, 1, 0, 0;",
                "%p1, 0;"),
       "(no scale or transpose immediates with .s32)"},
      {replace("m64n64k16", "m64n60k16"), "unsupported modifier '.m64n60k16'"},
      {replace("%p1, 1, 1, 0, 0;", "%p1, 1, 1, 0, 0, 0;"),
       "wrong number of operands (9)"},
  };
  for (const auto &[p, message] : cases) {
    Emulator emu;
    auto mod = emu.loadModule(p, "bad.ptx");
    ASSERT_FALSE(mod.ok()) << message;
    EXPECT_NE(mod.error().message().find(message), std::string::npos)
        << mod.error().message();
  }
}

} // namespace
