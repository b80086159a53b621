//===- AluTest.cpp - Integer, bitwise and float arithmetic ----------------===//
//
// Each test runs a kernel over random inputs (with corner values mixed in)
// and compares every result with a host reference written here from the
// PTX ISA's definition of the instruction.
//
//===----------------------------------------------------------------------===//

#include "test/unit/emu/EmuTestUtil.h"

#include <cfenv>
#include <climits>
#include <cmath>
#include <functional>

using namespace tilus::emu;
using namespace tilus::emu::test;

namespace {

struct IntCase {
  const char *instr; ///< Reads %r10 (a), %r11 (b), %r12 (c); writes %r20.
  std::function<uint32_t(uint32_t, uint32_t, uint32_t)> ref;
};

int32_t s(uint32_t v) { return int32_t(v); }

uint32_t bfeRef(uint32_t a, uint32_t pos, uint32_t len, bool sg) {
  pos &= 0xff;
  len &= 0xff;
  uint32_t field = 0;
  unsigned got = 0; // bits actually extracted
  for (uint32_t i = 0; i < len && pos + i < 32; ++i, ++got)
    field |= ((a >> (pos + i)) & 1u) << i;
  if (!sg)
    return field;
  if (len == 0)
    return 0;
  uint32_t signBit = (a >> std::min<uint32_t>(pos + len - 1, 31)) & 1;
  if (signBit)
    for (unsigned i = got; i < 32; ++i)
      field |= 1u << i;
  return field;
}

uint32_t lop3Ref(uint32_t a, uint32_t b, uint32_t c, uint32_t lut) {
  uint32_t r = 0;
  for (int j = 0; j < 32; ++j) {
    unsigned idx =
        (((a >> j) & 1) << 2) | (((b >> j) & 1) << 1) | ((c >> j) & 1);
    r |= ((lut >> idx) & 1u) << j;
  }
  return r;
}

uint32_t prmtRef(uint32_t a, uint32_t b, uint32_t c) {
  uint8_t bytes[8];
  for (int i = 0; i < 4; ++i) {
    bytes[i] = uint8_t(a >> (8 * i));
    bytes[4 + i] = uint8_t(b >> (8 * i));
  }
  uint32_t r = 0;
  for (int i = 0; i < 4; ++i) {
    unsigned sel = (c >> (4 * i)) & 7, msb = (c >> (4 * i + 3)) & 1;
    uint8_t v = bytes[sel];
    if (msb)
      v = (v & 0x80) ? 0xff : 0x00;
    r |= uint32_t(v) << (8 * i);
  }
  return r;
}

std::vector<uint32_t> randomInts(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  const uint32_t corners[] = {0,  1,  0xffffffffu, 0x80000000u, 0x7fffffffu,
                              31, 32, 33,          0x00ff00ffu, 0xdeadbeefu};
  std::vector<uint32_t> v(n);
  for (size_t i = 0; i < n; ++i) {
    switch (rng() % 4) {
    case 0:
      v[i] = corners[rng() % 10];
      break;
    case 1:
      v[i] = rng() % 40; // small values: shift amounts, bit positions
      break;
    default:
      v[i] = rng();
    }
  }
  return v;
}

TEST(EmuAlu, Integer32) {
  std::vector<IntCase> cases = {
      {"add.s32 %r20, %r10, %r11;", [](auto a, auto b, auto) { return a + b; }},
      {"sub.s32 %r20, %r10, %r11;", [](auto a, auto b, auto) { return a - b; }},
      {"add.sat.s32 %r20, %r10, %r11;",
       [](auto a, auto b, auto) {
         int64_t v = int64_t(s(a)) + s(b);
         return uint32_t(int32_t(std::clamp<int64_t>(v, INT_MIN, INT_MAX)));
       }},
      {"sub.sat.s32 %r20, %r10, %r11;",
       [](auto a, auto b, auto) {
         int64_t v = int64_t(s(a)) - s(b);
         return uint32_t(int32_t(std::clamp<int64_t>(v, INT_MIN, INT_MAX)));
       }},
      {"mul.lo.s32 %r20, %r10, %r11;",
       [](auto a, auto b, auto) { return a * b; }},
      {"mul.hi.s32 %r20, %r10, %r11;",
       [](auto a, auto b, auto) {
         return uint32_t(uint64_t(int64_t(s(a)) * int64_t(s(b))) >> 32);
       }},
      {"mul.hi.u32 %r20, %r10, %r11;",
       [](auto a, auto b, auto) { return uint32_t((uint64_t(a) * b) >> 32); }},
      {"mad.lo.s32 %r20, %r10, %r11, %r12;",
       [](auto a, auto b, auto c) { return a * b + c; }},
      {"mad.hi.u32 %r20, %r10, %r11, %r12;",
       [](auto a, auto b, auto c) {
         return uint32_t((uint64_t(a) * b) >> 32) + c;
       }},
      {"div.u32 %r20, %r10, %r13;",
       [](auto a, auto b, auto) { return a / (b | 1); }},
      {"rem.u32 %r20, %r10, %r13;",
       [](auto a, auto b, auto) { return a % (b | 1); }},
      {"div.s32 %r20, %r14, %r13;",
       [](auto a, auto b, auto) {
         return uint32_t(int32_t(a & 0x7fffffff) / s(b | 1));
       }},
      {"rem.s32 %r20, %r14, %r13;",
       [](auto a, auto b, auto) {
         return uint32_t(int32_t(a & 0x7fffffff) % s(b | 1));
       }},
      {"min.s32 %r20, %r10, %r11;",
       [](auto a, auto b, auto) { return uint32_t(std::min(s(a), s(b))); }},
      {"max.s32 %r20, %r10, %r11;",
       [](auto a, auto b, auto) { return uint32_t(std::max(s(a), s(b))); }},
      {"min.u32 %r20, %r10, %r11;",
       [](auto a, auto b, auto) { return std::min(a, b); }},
      {"max.u32 %r20, %r10, %r11;",
       [](auto a, auto b, auto) { return std::max(a, b); }},
      {"abs.s32 %r20, %r10;",
       [](auto a, auto, auto) { return s(a) < 0 ? 0u - a : a; }},
      {"neg.s32 %r20, %r10;", [](auto a, auto, auto) { return 0u - a; }},
      {"and.b32 %r20, %r10, %r11;", [](auto a, auto b, auto) { return a & b; }},
      {"or.b32 %r20, %r10, %r11;", [](auto a, auto b, auto) { return a | b; }},
      {"xor.b32 %r20, %r10, %r11;", [](auto a, auto b, auto) { return a ^ b; }},
      {"not.b32 %r20, %r10;", [](auto a, auto, auto) { return ~a; }},
      {"cnot.b32 %r20, %r10;",
       [](auto a, auto, auto) { return a == 0 ? 1u : 0u; }},
      {"shl.b32 %r20, %r10, %r11;",
       [](auto a, auto b, auto) { return b >= 32 ? 0u : a << b; }},
      {"shr.u32 %r20, %r10, %r11;",
       [](auto a, auto b, auto) { return b >= 32 ? 0u : a >> b; }},
      {"shr.s32 %r20, %r10, %r11;",
       [](auto a, auto b, auto) {
         return uint32_t(s(a) >> (b >= 32 ? 31 : b));
       }},
      {"shf.l.wrap.b32 %r20, %r10, %r11, %r12;",
       [](auto a, auto b, auto c) {
         uint32_t n = c & 31;
         return n ? (b << n) | (a >> (32 - n)) : b;
       }},
      {"shf.r.clamp.b32 %r20, %r10, %r11, %r12;",
       [](auto a, auto b, auto c) {
         uint32_t n = std::min<uint32_t>(c, 32);
         if (n == 32)
           return b;
         return n ? (a >> n) | (b << (32 - n)) : a;
       }},
      {"bfe.u32 %r20, %r10, %r11, %r12;",
       [](auto a, auto b, auto c) { return bfeRef(a, b, c, false); }},
      {"bfe.s32 %r20, %r10, %r11, %r12;",
       [](auto a, auto b, auto c) { return bfeRef(a, b, c, true); }},
      {"bfi.b32 %r20, %r10, %r11, %r12, %r13;",
       [](auto a, auto b, auto c) {
         // pos = c, len = %r13 = b | 1 (see the inputs below)
         uint32_t pos = c & 0xff, len = (b | 1) & 0xff, r = b;
         for (uint32_t i = 0; i < len && pos + i < 32; ++i)
           r = (r & ~(1u << (pos + i))) | (((a >> i) & 1u) << (pos + i));
         return r;
       }},
      {"lop3.b32 %r20, %r10, %r11, %r12, 0xe8;",
       [](auto a, auto b, auto c) { return lop3Ref(a, b, c, 0xe8); }},
      {"lop3.b32 %r20, %r10, %r11, %r12, 0x96;",
       [](auto a, auto b, auto c) { return a ^ b ^ c; }},
      {"lop3.b32 %r20, %r10, %r11, %r12, 0x3c;",
       [](auto a, auto b, auto c) { return lop3Ref(a, b, c, 0x3c); }},
      {"prmt.b32 %r20, %r10, %r11, %r12;",
       [](auto a, auto b, auto c) { return prmtRef(a, b, c); }},
      {"popc.b32 %r20, %r10;",
       [](auto a, auto, auto) {
         uint32_t n = 0;
         for (; a; a &= a - 1)
           ++n;
         return n;
       }},
      {"clz.b32 %r20, %r10;",
       [](auto a, auto, auto) {
         uint32_t n = 0;
         while (n < 32 && !((a << n) & 0x80000000u))
           ++n;
         return n;
       }},
      {"brev.b32 %r20, %r10;",
       [](auto a, auto, auto) {
         uint32_t r = 0;
         for (int i = 0; i < 32; ++i)
           if (a & (1u << i))
             r |= 1u << (31 - i);
         return r;
       }},
      {"bfind.u32 %r20, %r10;",
       [](auto a, auto, auto) {
         for (int i = 31; i >= 0; --i)
           if (a & (1u << i))
             return uint32_t(i);
         return 0xffffffffu;
       }},
      {"bfind.s32 %r20, %r10;",
       [](auto a, auto, auto) {
         uint32_t v = s(a) < 0 ? ~a : a;
         for (int i = 31; i >= 0; --i)
           if (v & (1u << i))
             return uint32_t(i);
         return 0xffffffffu;
       }},
      {"selp.b32 %r20, %r10, %r11, %p1;",
       [](auto a, auto b, auto c) { return (c & 1) ? a : b; }},
  };
  const unsigned n = 256;
  auto a = randomInts(n, 1), b = randomInts(n, 2), c = randomInts(n, 3);
  std::vector<uint32_t> in;
  for (unsigned i = 0; i < n; ++i) {
    in.push_back(a[i]);
    in.push_back(b[i]);
    in.push_back(c[i]);
    in.push_back(0);
  }
  std::string body = "  ld.global.v2.u32 {%r10, %r11}, [%rd3];\n"
                     "  ld.global.u32 %r12, [%rd3+8];\n"
                     "  or.b32 %r13, %r11, 1;\n"
                     "  and.b32 %r14, %r10, 0x7fffffff;\n"
                     "  and.b32 %r15, %r12, 1;\n"
                     "  setp.ne.u32 %p1, %r15, 0;\n";
  for (size_t i = 0; i < cases.size(); ++i)
    body += std::string("  ") + cases[i].instr + "\n  st.global.u32 [%rd5+" +
            std::to_string(4 * i) + "], %r20;\n";
  auto out = runElementwise(elementwisePtx(body, 16, 4 * cases.size()),
                            toBytes(in), n * 4 * cases.size(), n);
  for (unsigned t = 0; t < n; ++t)
    for (size_t i = 0; i < cases.size(); ++i) {
      uint32_t got = readAt<uint32_t>(out, t * cases.size() + i);
      uint32_t want = cases[i].ref(a[t], b[t], c[t]);
      ASSERT_EQ(got, want) << cases[i].instr << " a=" << a[t] << " b=" << b[t]
                           << " c=" << c[t];
    }
}

TEST(EmuAlu, Integer64AndWide) {
  const unsigned n = 128;
  std::mt19937_64 rng(7);
  std::vector<uint64_t> in(2 * n);
  for (auto &v : in)
    v = (rng() % 5 == 0) ? (rng() % 70) : rng();
  in[0] = 0x8000000000000000ull;
  in[1] = ~0ull;
  std::string body = R"(
  ld.global.v2.u64 {%rd10, %rd11}, [%rd3];
  add.s64 %rd20, %rd10, %rd11;      st.global.u64 [%rd5], %rd20;
  mul.lo.u64 %rd20, %rd10, %rd11;   st.global.u64 [%rd5+8], %rd20;
  mul.hi.u64 %rd20, %rd10, %rd11;   st.global.u64 [%rd5+16], %rd20;
  mul.hi.s64 %rd20, %rd10, %rd11;   st.global.u64 [%rd5+24], %rd20;
  cvt.u32.u64 %r10, %rd10;
  cvt.u32.u64 %r11, %rd11;
  mul.wide.s32 %rd20, %r10, %r11;   st.global.u64 [%rd5+32], %rd20;
  mul.wide.u32 %rd20, %r10, %r11;   st.global.u64 [%rd5+40], %rd20;
  shr.s64 %rd20, %rd10, %r11;       st.global.u64 [%rd5+48], %rd20;
  shl.b64 %rd20, %rd10, %r11;       st.global.u64 [%rd5+56], %rd20;
  min.s64 %rd20, %rd10, %rd11;      st.global.u64 [%rd5+64], %rd20;
  popc.b64 %r20, %rd10;             cvt.u64.u32 %rd20, %r20;
                                    st.global.u64 [%rd5+72], %rd20;
  mov.b64 {%r21, %r22}, %rd10;
  mov.b64 %rd20, {%r22, %r21};      st.global.u64 [%rd5+80], %rd20;
  mad.wide.u32 %rd20, %r10, %r11, %rd11; st.global.u64 [%rd5+88], %rd20;
)";
  const unsigned k = 12;
  auto out = runElementwise(elementwisePtx(body, 16, 8 * k), toBytes(in),
                            n * 8 * k, n);
  for (unsigned t = 0; t < n; ++t) {
    uint64_t a = in[2 * t], b = in[2 * t + 1];
    uint32_t a32 = uint32_t(a), b32 = uint32_t(b);
    uint64_t want[k] = {
        a + b,
        a * b,
        uint64_t((unsigned __int128)a * b >> 64),
        uint64_t((__int128)int64_t(a) * int64_t(b) >> 64),
        uint64_t(int64_t(int32_t(a32)) * int32_t(b32)),
        uint64_t(a32) * b32,
        uint64_t(int64_t(a) >> std::min<uint32_t>(b32, 63)),
        b32 >= 64 ? 0 : a << b32,
        uint64_t(std::min(int64_t(a), int64_t(b))),
        uint64_t(__builtin_popcountll(a)),
        (a >> 32) | (a << 32),
        uint64_t(a32) * b32 + b,
    };
    for (unsigned i = 0; i < k; ++i)
      ASSERT_EQ(readAt<uint64_t>(out, t * k + i), want[i])
          << "case " << i << " a=" << a << " b=" << b;
  }
}

/// Rounds the exactly representable double \p x to float in mode \p mode.
float roundTo(double x, int mode) {
  float r = float(x); // nearest-even
  if (double(r) == x || std::isnan(x))
    return r;
  bool tooBig = double(r) > x;
  if (mode == FE_TOWARDZERO && std::fabs(double(r)) > std::fabs(x))
    r = std::nextafter(r, 0.0f);
  if (mode == FE_DOWNWARD && tooBig)
    r = std::nextafter(r, -INFINITY);
  if (mode == FE_UPWARD && !tooBig)
    r = std::nextafter(r, INFINITY);
  return r;
}

/// The float quotient a/b rounded in \p mode, found by comparing candidates
/// with the exact quotient through r*b - a in long double (exact here: the
/// operands are floats of similar magnitude).
float divRef(double a, double b, int mode) {
  auto sideOf = [&](float r) { // sign of r - a/b
    long double d = (long double)r * (long double)b - (long double)a;
    int s = d > 0 ? 1 : d < 0 ? -1 : 0;
    return b > 0 ? s : -s;
  };
  float r = float(a / b);
  for (int iter = 0; iter < 4; ++iter) {
    if (mode == FE_UPWARD || (mode == FE_TOWARDZERO && a / b < 0)) {
      if (sideOf(r) < 0)
        r = std::nextafter(r, INFINITY);
      else if (sideOf(std::nextafter(r, -INFINITY)) >= 0)
        r = std::nextafter(r, -INFINITY);
    } else if (mode == FE_DOWNWARD || mode == FE_TOWARDZERO) {
      if (sideOf(r) > 0)
        r = std::nextafter(r, -INFINITY);
      else if (sideOf(std::nextafter(r, INFINITY)) <= 0)
        r = std::nextafter(r, INFINITY);
    }
  }
  return r;
}

uint32_t canon(float f) { return std::isnan(f) ? 0x7fffffffu : f2u(f); }

TEST(EmuAlu, Float32RoundingModes) {
  // Operands within a few binades, so that the double sum and product are
  // exact and the reference can round them itself.
  const unsigned n = 256;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
  std::vector<float> in(2 * n);
  for (auto &v : in)
    v = dist(rng);
  std::string body = "  ld.global.v2.f32 {%f1, %f2}, [%rd3];\n";
  const char *ops[] = {"add", "sub", "mul"};
  const char *modes[] = {"rn", "rz", "rm", "rp"};
  int fe[] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};
  unsigned k = 0;
  for (auto op : ops)
    for (auto m : modes)
      body += std::string("  ") + op + "." + m + ".f32 %f3, %f1, %f2;\n" +
              "  st.global.f32 [%rd5+" + std::to_string(4 * k++) + "], %f3;\n";
  for (auto m : modes)
    body += std::string("  fma.") + m + ".f32 %f3, %f1, %f2, %f1;\n" +
            "  st.global.f32 [%rd5+" + std::to_string(4 * k++) + "], %f3;\n";
  for (auto m : modes)
    body += std::string("  div.") + m + ".f32 %f3, %f1, %f2;\n" +
            "  st.global.f32 [%rd5+" + std::to_string(4 * k++) + "], %f3;\n";
  auto out =
      runElementwise(elementwisePtx(body, 8, 4 * k), toBytes(in), n * 4 * k, n);
  for (unsigned t = 0; t < n; ++t) {
    double a = in[2 * t], b = in[2 * t + 1];
    unsigned i = 0;
    for (int op = 0; op < 3; ++op)
      for (int m = 0; m < 4; ++m) {
        double exact = op == 0 ? a + b : op == 1 ? a - b : a * b;
        ASSERT_EQ(readAt<uint32_t>(out, t * k + i), f2u(roundTo(exact, fe[m])))
            << ops[op] << "." << modes[m] << " " << a << " " << b;
        ++i;
      }
    for (int m = 0; m < 4; ++m) {
      double exact = a * b + a; // exact: 48-bit product plus a
      ASSERT_EQ(readAt<uint32_t>(out, t * k + i++), f2u(roundTo(exact, fe[m])));
    }
    for (int m = 0; m < 4; ++m)
      ASSERT_EQ(readAt<uint32_t>(out, t * k + i++), f2u(divRef(a, b, fe[m])))
          << "div." << modes[m] << " " << a << " " << b;
  }
}

TEST(EmuAlu, Float32SpecialValues) {
  const float inf = INFINITY, nan = NAN, denorm = 1e-40f;
  std::vector<float> vals = {0.0f, -0.0f,  1.0f,    -1.5f,   inf,    -inf,
                             nan,  denorm, -denorm, 3.0e38f, 1e-38f, 0.5f};
  std::vector<float> in;
  for (float a : vals)
    for (float b : vals) {
      in.push_back(a);
      in.push_back(b);
    }
  unsigned n = unsigned(in.size() / 2);
  std::string body = R"(
  ld.global.v2.f32 {%f1, %f2}, [%rd3];
  add.f32 %f3, %f1, %f2;          st.global.f32 [%rd5], %f3;
  mul.f32 %f3, %f1, %f2;          st.global.f32 [%rd5+4], %f3;
  min.f32 %f3, %f1, %f2;          st.global.f32 [%rd5+8], %f3;
  max.f32 %f3, %f1, %f2;          st.global.f32 [%rd5+12], %f3;
  add.ftz.f32 %f3, %f1, %f2;      st.global.f32 [%rd5+16], %f3;
  mul.sat.f32 %f3, %f1, %f2;      st.global.f32 [%rd5+20], %f3;
  abs.f32 %f3, %f1;               st.global.f32 [%rd5+24], %f3;
  neg.f32 %f3, %f1;               st.global.f32 [%rd5+28], %f3;
  sqrt.rn.f32 %f3, %f1;           st.global.f32 [%rd5+32], %f3;
  rcp.rn.f32 %f3, %f1;            st.global.f32 [%rd5+36], %f3;
  div.rn.f32 %f3, %f1, %f2;       st.global.f32 [%rd5+40], %f3;
  setp.lt.f32 %p1, %f1, %f2;      selp.u32 %r20, 1, 0, %p1; st.global.u32 [%rd5+44], %r20;
  setp.ltu.f32 %p1, %f1, %f2;     selp.u32 %r20, 1, 0, %p1; st.global.u32 [%rd5+48], %r20;
  setp.nan.f32 %p1, %f1, %f2;     selp.u32 %r20, 1, 0, %p1; st.global.u32 [%rd5+52], %r20;
  set.ge.u32.f32 %r20, %f1, %f2;  st.global.u32 [%rd5+56], %r20;
  min.NaN.f32 %f3, %f1, %f2;      st.global.f32 [%rd5+60], %f3;
  copysign.f32 %f3, %f1, %f2;     st.global.f32 [%rd5+64], %f3;
  testp.subnormal.f32 %p1, %f1;   selp.u32 %r20, 1, 0, %p1; st.global.u32 [%rd5+68], %r20;
)";
  const unsigned k = 18;
  auto out =
      runElementwise(elementwisePtx(body, 8, 4 * k), toBytes(in), n * 4 * k, n);
  auto flush = [](float f) {
    return std::fpclassify(f) == FP_SUBNORMAL ? std::copysign(0.0f, f) : f;
  };
  auto fmin = [](float a, float b, bool nanProp) {
    if (std::isnan(a) || std::isnan(b))
      return (nanProp || (std::isnan(a) && std::isnan(b))) ? NAN
             : std::isnan(a)                               ? b
                                                           : a;
    if (a == 0 && b == 0)
      return std::signbit(a) ? a : b;
    return a < b ? a : b;
  };
  auto fmax = [](float a, float b) {
    if (std::isnan(a) || std::isnan(b))
      return std::isnan(a) && std::isnan(b) ? NAN : std::isnan(a) ? b : a;
    if (a == 0 && b == 0)
      return std::signbit(a) ? b : a;
    return a > b ? a : b;
  };
  for (unsigned t = 0; t < n; ++t) {
    float a = in[2 * t], b = in[2 * t + 1];
    float sat = a * b;
    sat = std::isnan(sat) ? 0.0f : std::min(1.0f, std::max(0.0f, sat));
    bool un = std::isnan(a) || std::isnan(b);
    uint32_t want[k] = {
        canon(a + b),
        canon(a * b),
        canon(fmin(a, b, false)),
        canon(fmax(a, b)),
        canon(flush(flush(a) + flush(b))),
        f2u(sat),
        f2u(a) & 0x7fffffffu,
        f2u(a) ^ 0x80000000u,
        canon(std::sqrt(a)),
        canon(1.0f / a),
        canon(a / b),
        uint32_t(!un && a < b),
        uint32_t(un || a < b),
        uint32_t(un),
        (!un && a >= b) ? 0xffffffffu : 0u,
        canon(fmin(a, b, true)),
        (f2u(b) & 0x7fffffffu) | (f2u(a) & 0x80000000u),
        uint32_t(std::fpclassify(a) == FP_SUBNORMAL),
    };
    for (unsigned i = 0; i < k; ++i)
      ASSERT_EQ(readAt<uint32_t>(out, t * k + i), want[i])
          << "case " << i << " a=" << a << " b=" << b;
  }
}

/// The approximate functions: the ISA gives error bounds, not results.
TEST(EmuAlu, ApproxFunctionsWithinBounds) {
  const unsigned n = 256;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  std::vector<float> in(n);
  for (auto &v : in)
    v = dist(rng);
  std::string body = R"(
  ld.global.f32 %f1, [%rd3];
  abs.f32 %f2, %f1;
  add.f32 %f2, %f2, 0f3C23D70A;
  ex2.approx.ftz.f32 %f3, %f1;    st.global.f32 [%rd5], %f3;
  lg2.approx.ftz.f32 %f3, %f2;    st.global.f32 [%rd5+4], %f3;
  rcp.approx.ftz.f32 %f3, %f1;    st.global.f32 [%rd5+8], %f3;
  rsqrt.approx.ftz.f32 %f3, %f2;  st.global.f32 [%rd5+12], %f3;
  sqrt.approx.f32 %f3, %f2;       st.global.f32 [%rd5+16], %f3;
  sin.approx.f32 %f3, %f1;        st.global.f32 [%rd5+20], %f3;
  cos.approx.f32 %f3, %f1;        st.global.f32 [%rd5+24], %f3;
  tanh.approx.f32 %f3, %f1;       st.global.f32 [%rd5+28], %f3;
  div.approx.f32 %f3, %f1, %f2;   st.global.f32 [%rd5+32], %f3;
)";
  const unsigned k = 9;
  auto out =
      runElementwise(elementwisePtx(body, 4, 4 * k), toBytes(in), n * 4 * k, n);
  for (unsigned t = 0; t < n; ++t) {
    double x = in[t], y = std::fabs(double(in[t])) + double(u2f(0x3C23D70A));
    double ref[k] = {std::exp2(x),       std::log2(y), 1.0 / x,
                     1.0 / std::sqrt(y), std::sqrt(y), std::sin(x),
                     std::cos(x),        std::tanh(x), x / y};
    // Relative bounds from the ISA (ex2: 2 ulp, rcp/rsqrt/sqrt: 1 ulp,
    // tanh: 2^-10.987 relative, div.approx: 2 ulp), absolute for lg2 and
    // sin/cos (2^-22.6 and 2^-20.9 on the range used here).
    double rel[k] = {3e-7, 0, 2e-7, 2e-7, 2e-7, 0, 0, 5e-4, 3e-7};
    double abs_[k] = {0, 2e-7, 0, 0, 0, 6e-7, 6e-7, 0, 0};
    for (unsigned i = 0; i < k; ++i) {
      double got = readAt<float>(out, t * k + i);
      double tol = rel[i] * std::fabs(ref[i]) + abs_[i];
      ASSERT_LE(std::fabs(got - ref[i]), tol) << "case " << i << " x=" << x;
    }
  }
}

/// prmt's modes select bytes by the ISA's table (d.b3 d.b2 d.b1 d.b0 for
/// c[1:0] = 0, 1, 2, 3).
TEST(EmuAlu, PrmtModes) {
  struct Mode {
    const char *name;
    const char *table[4];
  } modes[] = {
      {"f4e", {"3210", "4321", "5432", "6543"}},
      {"b4e", {"5670", "6701", "7012", "0123"}},
      {"rc8", {"0000", "1111", "2222", "3333"}},
      {"ecl", {"3210", "3211", "3222", "3333"}},
      {"ecr", {"0000", "1110", "2210", "3210"}},
      {"rc16", {"1010", "3232", "1010", "3232"}},
  };
  std::string body = "  ld.global.v2.u32 {%r10, %r11}, [%rd3];\n";
  unsigned k = 0;
  for (const Mode &m : modes)
    for (unsigned c = 0; c < 4; ++c)
      body += std::string("  prmt.b32.") + m.name + " %r20, %r10, %r11, " +
              std::to_string(c | 0x7740) + ";\n  st.global.u32 [%rd5+" +
              std::to_string(4 * k++) + "], %r20;\n";
  std::vector<uint32_t> in = {0x33221100u, 0x77665544u};
  auto out =
      runElementwise(elementwisePtx(body, 8, 4 * k), toBytes(in), 4 * k, 1, 32);
  k = 0;
  for (const Mode &m : modes)
    for (unsigned c = 0; c < 4; ++c) {
      uint32_t want = 0;
      for (int i = 0; i < 4; ++i) {
        unsigned sel = unsigned(m.table[c][3 - i] - '0');
        want |= (sel * 0x11u) << (8 * i); // byte n of {b, a} is 0xnn
      }
      EXPECT_EQ(readAt<uint32_t>(out, k++), want) << m.name << " c=" << c;
    }
}

/// Multi-word arithmetic through the carry flag: 128-bit add and subtract
/// from 32-bit pieces, and a 64x32-bit multiply-accumulate with mad.cc/madc.
TEST(EmuAlu, CarryChains) {
  std::string body = R"(
  ld.global.v4.u32 {%r10, %r11, %r12, %r13}, [%rd3];
  ld.global.v4.u32 {%r14, %r15, %r16, %r17}, [%rd3+16];
  add.cc.u32 %r20, %r10, %r14;
  addc.cc.u32 %r21, %r11, %r15;
  addc.cc.u32 %r22, %r12, %r16;
  addc.u32 %r23, %r13, %r17;
  st.global.v4.u32 [%rd5], {%r20, %r21, %r22, %r23};
  sub.cc.u32 %r20, %r10, %r14;
  subc.cc.u32 %r21, %r11, %r15;
  subc.cc.u32 %r22, %r12, %r16;
  subc.u32 %r23, %r13, %r17;
  st.global.v4.u32 [%rd5+16], {%r20, %r21, %r22, %r23};
  // (r11:r10) * r14 + (r13:r12) as a 96-bit value
  mad.lo.cc.u32 %r20, %r10, %r14, %r12;
  madc.hi.cc.u32 %r21, %r10, %r14, %r13;
  addc.u32 %r22, 0, 0;
  mad.lo.cc.u32 %r21, %r11, %r14, %r21;
  madc.hi.u32 %r22, %r11, %r14, %r22;
  st.global.v4.u32 [%rd5+32], {%r20, %r21, %r22, %r22};
  add.cc.u64 %rd20, %rd3, -1;
  addc.u64 %rd21, 0, 0;
  st.global.u64 [%rd5+48], %rd21;
)";
  const unsigned n = 128, w = 64;
  std::mt19937 rng(12);
  std::vector<uint32_t> in(8 * n);
  for (auto &v : in)
    v = (rng() % 4 == 0) ? 0xffffffffu : rng();
  auto out = runElementwise(elementwisePtx(body, 32, w), toBytes(in), n * w, n);
  for (unsigned t = 0; t < n; ++t) {
    const uint32_t *v = &in[8 * t];
    auto wide = [](const uint32_t *p) {
      return (unsigned __int128)p[0] | ((unsigned __int128)p[1] << 32) |
             ((unsigned __int128)p[2] << 64) | ((unsigned __int128)p[3] << 96);
    };
    unsigned __int128 x = wide(v), y = wide(v + 4), sum = x + y, diff = x - y;
    for (int k = 0; k < 4; ++k) {
      EXPECT_EQ(readAt<uint32_t>(out, t * 16 + k), uint32_t(sum >> (32 * k)));
      EXPECT_EQ(readAt<uint32_t>(out, t * 16 + 4 + k),
                uint32_t(diff >> (32 * k)));
    }
    unsigned __int128 mac =
        (unsigned __int128)((uint64_t(v[1]) << 32) | v[0]) * v[4] +
        ((uint64_t(v[3]) << 32) | v[2]);
    for (int k = 0; k < 3; ++k)
      EXPECT_EQ(readAt<uint32_t>(out, t * 16 + 8 + k), uint32_t(mac >> (32 * k)))
          << "thread " << t << " word " << k;
    // rd3 + (-1) carries out for every non-zero address
    EXPECT_EQ(readAt<uint64_t>(out, t * 8 + 6), 1u);
  }
}

/// f64 arithmetic (round to nearest, special values), 16-bit integers and
/// setp with a boolean combination.
TEST(EmuAlu, Float64SixteenBitAndBoolSetp) {
  std::vector<double> vals = {0.0, -0.0, 1.0, -2.5, 1e300, -1e-310, INFINITY,
                              NAN, 3.0, 0.1};
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<double> dist(-1e3, 1e3);
  for (int i = 0; i < 60; ++i)
    vals.push_back(dist(rng));
  std::vector<double> in;
  for (size_t i = 0; i < vals.size(); ++i) {
    in.push_back(vals[i]);
    in.push_back(vals[(i * 7 + 3) % vals.size()]);
  }
  unsigned n = unsigned(in.size() / 2);
  std::string body = R"(
  ld.global.v2.f64 {%fd1, %fd2}, [%rd3];
  add.f64 %fd3, %fd1, %fd2;          st.global.f64 [%rd5], %fd3;
  mul.rn.f64 %fd3, %fd1, %fd2;       st.global.f64 [%rd5+8], %fd3;
  fma.rn.f64 %fd3, %fd1, %fd2, %fd1; st.global.f64 [%rd5+16], %fd3;
  div.rn.f64 %fd3, %fd1, %fd2;       st.global.f64 [%rd5+24], %fd3;
  sqrt.rn.f64 %fd3, %fd1;            st.global.f64 [%rd5+32], %fd3;
  min.f64 %fd3, %fd1, %fd2;          st.global.f64 [%rd5+40], %fd3;
  // 16-bit integers from the low bits of the operands
  mov.b64 {%r10, %r11}, %fd1;
  mov.b64 {%r12, %r13}, %fd2;
  cvt.u16.u32 %h1, %r11;
  cvt.u16.u32 %h2, %r13;
  add.u16 %h3, %h1, %h2;             st.global.b16 [%rd5+48], %h3;
  mul.lo.u16 %h3, %h1, %h2;          st.global.b16 [%rd5+50], %h3;
  shr.s16 %h3, %h1, 3;               st.global.b16 [%rd5+52], %h3;
  max.s16 %h3, %h1, %h2;             st.global.b16 [%rd5+54], %h3;
  // p = (a < b) and (c != 0); q = !(a < b) and (c != 0)
  setp.ne.u32 %p1, %r10, 0;
  setp.lt.and.f64 %p2|%p3, %fd1, %fd2, %p1;
  setp.ge.or.s16 %p4, %h1, %h2, !%p1;
  selp.u32 %r20, 1, 0, %p2;
  selp.u32 %r21, 2, 0, %p3;
  selp.u32 %r22, 4, 0, %p4;
  or.b32 %r23, %r20, %r21;
  or.b32 %r23, %r23, %r22;
  st.global.u32 [%rd5+56], %r23;
)";
  const unsigned w = 64;
  auto out = runElementwise(elementwisePtx(body, 16, w), toBytes(in), n * w, n);
  auto bits = [](double d) {
    uint64_t u;
    std::memcpy(&u, &d, 8);
    return u;
  };
  auto canonD = [&](double d) {
    return std::isnan(d) ? 0x7fffffffffffffffull : bits(d);
  };
  for (unsigned t = 0; t < n; ++t) {
    double a = in[2 * t], b = in[2 * t + 1];
    auto at = [&](unsigned off, unsigned size) {
      uint64_t r = 0;
      std::memcpy(&r, out.data() + t * w + off, size);
      return r;
    };
    EXPECT_EQ(at(0, 8), canonD(a + b)) << a << " " << b;
    EXPECT_EQ(at(8, 8), canonD(a * b));
    EXPECT_EQ(at(16, 8), canonD(std::fma(a, b, a)));
    EXPECT_EQ(at(24, 8), canonD(a / b));
    EXPECT_EQ(at(32, 8), canonD(std::sqrt(a)));
    double mn = std::isnan(a) ? b : std::isnan(b) ? a
                : (a == 0 && b == 0) ? (std::signbit(a) ? a : b)
                                     : std::min(a, b);
    EXPECT_EQ(at(40, 8), canonD(mn));
    uint16_t h1 = uint16_t(bits(a) >> 32), h2 = uint16_t(bits(b) >> 32);
    EXPECT_EQ(at(48, 2), uint16_t(h1 + h2));
    EXPECT_EQ(at(50, 2), uint16_t(uint32_t(h1) * h2)); // int * int overflows
    EXPECT_EQ(at(52, 2), uint16_t(int16_t(h1) >> 3));
    EXPECT_EQ(at(54, 2), uint16_t(std::max(int16_t(h1), int16_t(h2))));
    // PTX: p = t AND c, q = (NOT t) AND c for the comparison t (false
    // when unordered, so q is true then).
    bool c = uint32_t(bits(a)) != 0, lt = a < b;
    bool p = lt && c, q = !lt && c;
    bool r = int16_t(h1) >= int16_t(h2) || !c;
    EXPECT_EQ(at(56, 4), uint32_t(p) | (uint32_t(q) << 1) | (uint32_t(r) << 2))
        << a << " " << b;
  }
}

} // namespace
