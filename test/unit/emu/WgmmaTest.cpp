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
  uint64_t descriptor() const {
    return uint64_t(start >> 4) | uint64_t(lbo >> 4) << 16 |
           uint64_t(sbo >> 4) << 32 | uint64_t(layout) << 62;
  }
  /// The bytes the operand spans from its region's base (an upper bound).
  uint32_t extent(unsigned rows) const {
    uint32_t hi = 0;
    for (unsigned r = 0; r < rows; ++r)
      for (unsigned b = 0; b < 32; b += 2)
        hi = std::max(hi, address(r, b) + 2);
    return hi;
  }
};

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
};

std::string wgmmaPtx(const Config &c) {
  unsigned dregs = c.f16Acc ? c.n / 4 : c.n / 2;
  std::string d = "{";
  for (unsigned j = 0; j < dregs; ++j)
    d += (j ? ", %d" : "%d") + std::to_string(j);
  d += "}";
  std::string types = c.f16Acc ? ".f16.f16.f16"
                      : c.bf16 ? ".f32.bf16.bf16"
                               : ".f32.f16.f16";
  std::string loadD, storeD;
  for (unsigned j = 0; j < dregs; ++j) {
    loadD += "  ld.global.u32 %d" + std::to_string(j) + ", [%rd6+" +
             std::to_string(4 * j) + "];\n";
    storeD += "  st.global.u32 [%rd7+" + std::to_string(4 * j) + "], %d" +
              std::to_string(j) + ";\n";
  }
  std::string a = c.regA ? "{%a0, %a1, %a2, %a3}" : "%rd3";
  std::string imm = std::to_string(c.scaleA) + ", " + std::to_string(c.scaleB) +
                    (c.regA ? ", 0" : ", 0, 0");
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
         std::to_string(c.n) + "k16" + types + " " + d + ", " + a +
         ", %rd4, %p1, " + imm + R"(;
  wgmma.commit_group.sync.aligned;
  wgmma.wait_group.sync.aligned 0;
)" + storeD +
         "  ret;\n}\n";
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
  std::vector<std::pair<std::string, const char *>> cases = {
      {replace("%p1, 1, 1, 0, 0;", "%p1, 1, 1, 1, 0;"),
       "transposed (MN-major) shared-memory operands are not supported"},
      {replace("%p1, 1, 1, 0, 0;", "%p1, 2, 1, 0, 0;"),
       "imm-scale-a and imm-scale-b are 1 or -1"},
      {replace(".f32.f16.f16", ".f32.f16.bf16"),
       "types .f32.f16.f16, .f16.f16.f16 or .f32.bf16.bf16"},
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
