//===- CvtTest.cpp - cvt and 16-bit float arithmetic ----------------------===//
//
// References: the host's _Float16 (round to nearest even) adjusted by one ulp
// for the directed modes, bf16 by bit manipulation, and the host's directed
// float conversions.
//
//===----------------------------------------------------------------------===//

#include "test/unit/emu/EmuTestUtil.h"

#include <cfenv>
#include <climits>
#include <cmath>

using namespace tilus::emu;
using namespace tilus::emu::test;

namespace {

enum Mode { RN, RZ, RM, RP };
const char *modeName[] = {"rn", "rz", "rm", "rp"};

uint16_t h2u(_Float16 h) {
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}
_Float16 u2h(uint16_t u) {
  _Float16 h;
  std::memcpy(&h, &u, 2);
  return h;
}

/// One step of an f16/bf16 magnitude towards (-1) or away from (+1) zero.
uint16_t stepMag(uint16_t bits, int dir) {
  uint16_t sign = bits & 0x8000, mag = bits & 0x7fff;
  return sign | uint16_t(mag + dir);
}

uint16_t refF16(float x, Mode m, bool satfinite) {
  if (std::isnan(x))
    return 0x7fff;
  uint16_t r = h2u(_Float16(x));
  double hv = double(u2h(r));
  double xv = x;
  bool neg = r & 0x8000;
  if (hv != xv && !std::isinf(xv)) {
    if (m == RZ && std::fabs(hv) > std::fabs(xv))
      r = stepMag(r, -1);
    if (m == RM && hv > xv)
      r = stepMag(r, neg ? +1 : -1);
    if (m == RP && hv < xv)
      r = stepMag(r, neg ? -1 : +1);
  }
  if (satfinite && (r & 0x7fff) == 0x7c00)
    r = (r & 0x8000) | 0x7bff;
  return r;
}

uint16_t refBF16(float x, Mode m, bool satfinite) {
  uint32_t u = f2u(x);
  if (std::isnan(x))
    return 0x7fff;
  uint16_t r;
  bool neg = u >> 31, inexact = (u & 0xffff) != 0;
  switch (m) {
  case RN:
    r = uint16_t((u + 0x7fff + ((u >> 16) & 1)) >> 16);
    break;
  case RZ:
    r = uint16_t(u >> 16);
    break;
  case RM:
    r = uint16_t(u >> 16) + (neg && inexact ? 1 : 0);
    break;
  default:
    r = uint16_t(u >> 16) + (!neg && inexact ? 1 : 0);
    break;
  }
  if (satfinite && (r & 0x7fff) == 0x7f80)
    r = (r & 0x8000) | 0x7f7f;
  return r;
}

std::vector<float> floatCorners(unsigned randomCount, unsigned seed) {
  std::vector<float> v = {0.0f,
                          -0.0f,
                          1.0f,
                          -1.0f,
                          INFINITY,
                          -INFINITY,
                          NAN,
                          65504.0f,
                          65519.0f,
                          65520.0f,
                          70000.0f,
                          -65520.0f, // f16 overflow edge
                          u2f(0x33000000),
                          u2f(0x33000001),
                          u2f(0x32ffffff), // f16 min subnormal/2
                          u2f(0x387fc000),
                          u2f(0x387fe000),
                          u2f(0x38800000), // f16 subnormal/normal
                          1.0f + u2f(0x3a800000),
                          1.0f + u2f(0x3a800000) * 3, // halfway 1 + 2^-11
                          u2f(0x3f808000),
                          u2f(0x3f818000),
                          u2f(0x3f808001), // bf16 halfway cases
                          u2f(0x7f7fffff),
                          u2f(0x00000001),
                          u2f(0x80400000), // f32 max, subnormals
                          3.0e38f,
                          -2.5f,
                          2.5f,
                          0.5f,
                          -0.5f,
                          1.5f};
  std::mt19937 rng(seed);
  for (unsigned i = 0; i < randomCount; ++i) {
    uint32_t bits = rng();
    if (i % 2) // keep exponents near the f16 range
      bits = (bits & 0x807fffffu) | ((100u + rng() % 50) << 23);
    v.push_back(u2f(bits));
  }
  return v;
}

TEST(EmuCvt, F32ToF16AndBF16AllModes) {
  auto in = floatCorners(400, 3);
  unsigned n = unsigned(in.size());
  std::string body = "  ld.global.f32 %f1, [%rd3];\n";
  unsigned k = 0;
  for (const char *t : {"f16", "bf16"})
    for (int m = 0; m < 4; ++m)
      for (bool sat : {false, true}) {
        if (sat && (m == RM || m == RP)) // .satfinite: .rn and .rz only
          continue;
        body += std::string("  cvt.") + modeName[m] +
                (sat ? ".satfinite." : ".") + t + ".f32 %h1, %f1;\n" +
                "  st.global.b16 [%rd5+" + std::to_string(2 * k++) +
                "], %h1;\n";
      }
  auto out =
      runElementwise(elementwisePtx(body, 4, 2 * k), toBytes(in), n * 2 * k, n);
  for (unsigned i = 0; i < n; ++i) {
    unsigned j = 0;
    for (int isBf = 0; isBf < 2; ++isBf)
      for (int m = 0; m < 4; ++m)
        for (bool sat : {false, true}) {
          if (sat && (m == RM || m == RP))
            continue;
          uint16_t want =
              isBf ? refBF16(in[i], Mode(m), sat) : refF16(in[i], Mode(m), sat);
          uint16_t got = readAt<uint16_t>(out, i * k + j++);
          ASSERT_EQ(got, want) << (isBf ? "bf16" : "f16") << " ." << modeName[m]
                               << (sat ? ".satfinite" : "") << " of 0x"
                               << std::hex << f2u(in[i]);
        }
  }
}

TEST(EmuCvt, F16AndBF16ToF32AndPacked) {
  std::vector<uint16_t> in;
  for (uint32_t u = 0; u < 65536; u += 7)
    in.push_back(uint16_t(u));
  in.push_back(0x7c00);
  in.push_back(0xfc00);
  in.push_back(0x0001);
  in.push_back(0x8001);
  unsigned n = unsigned(in.size());
  std::string body = R"(
  ld.global.b16 %h1, [%rd3];
  cvt.f32.f16 %f1, %h1;          st.global.f32 [%rd5], %f1;
  cvt.f32.bf16 %f2, %h1;         st.global.f32 [%rd5+4], %f2;
  cvt.rn.f16x2.f32 %r20, %f2, %f1;   st.global.b32 [%rd5+8], %r20;
  cvt.ftz.f32.bf16 %f3, %h1;     st.global.f32 [%rd5+12], %f3;
)";
  auto out =
      runElementwise(elementwisePtx(body, 2, 16), toBytes(in), n * 16, n);
  for (unsigned i = 0; i < n; ++i) {
    uint16_t h = in[i];
    float f = float(u2h(h));
    float b = u2f(uint32_t(h) << 16);
    bool fNan = std::isnan(f), bNan = std::isnan(b);
    if (!fNan)
      ASSERT_EQ(readAt<uint32_t>(out, i * 4), f2u(f)) << std::hex << h;
    else
      ASSERT_TRUE(std::isnan(readAt<float>(out, i * 4)));
    if (!bNan) {
      ASSERT_EQ(readAt<uint32_t>(out, i * 4 + 1), f2u(b)) << std::hex << h;
      uint32_t packed =
          (uint32_t(refF16(b, RN, false)) << 16) | refF16(f, RN, false);
      if (!fNan)
        ASSERT_EQ(readAt<uint32_t>(out, i * 4 + 2), packed) << std::hex << h;
      float flushed =
          std::fpclassify(b) == FP_SUBNORMAL ? std::copysign(0.0f, b) : b;
      ASSERT_EQ(readAt<uint32_t>(out, i * 4 + 3), f2u(flushed));
    }
  }
}

TEST(EmuCvt, FloatToIntegerSaturates) {
  std::vector<float> in = {0.0f,   -0.0f,         2.5f,           -2.5f,
                           3.5f,   -3.5f,         0.49f,          -0.51f,
                           1e10f,  -1e10f,        INFINITY,       -INFINITY,
                           NAN,    2147483520.0f, -2147483648.0f, 4294967040.0f,
                           255.5f, 256.0f,        -129.0f,        127.4f,
                           1e-30f, -1e-30f};
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> d(-300.0f, 300.0f);
  for (int i = 0; i < 200; ++i)
    in.push_back(d(rng));
  unsigned n = unsigned(in.size());
  std::string body = R"(
  ld.global.f32 %f1, [%rd3];
  cvt.rni.s32.f32 %r20, %f1;   st.global.u32 [%rd5], %r20;
  cvt.rzi.s32.f32 %r20, %f1;   st.global.u32 [%rd5+4], %r20;
  cvt.rmi.s32.f32 %r20, %f1;   st.global.u32 [%rd5+8], %r20;
  cvt.rpi.s32.f32 %r20, %f1;   st.global.u32 [%rd5+12], %r20;
  cvt.rni.u32.f32 %r20, %f1;   st.global.u32 [%rd5+16], %r20;
  cvt.rzi.u8.f32 %r20, %f1;    st.global.u32 [%rd5+20], %r20;
  cvt.rni.s8.f32 %r20, %f1;    st.global.u32 [%rd5+24], %r20;
  cvt.rzi.s64.f32 %rd20, %f1;  st.global.u64 [%rd5+32], %rd20;
  cvt.rni.f32.f32 %f2, %f1;    st.global.f32 [%rd5+40], %f2;
  cvt.sat.f32.f32 %f2, %f1;    st.global.f32 [%rd5+44], %f2;
)";
  const unsigned w = 48;
  auto out = runElementwise(elementwisePtx(body, 4, w), toBytes(in), n * w, n);
  auto clampTo = [](double r, double lo, double hi) {
    if (std::isnan(r))
      return 0.0;
    return std::min(hi, std::max(lo, r));
  };
  for (unsigned i = 0; i < n; ++i) {
    double x = in[i];
    auto at32 = [&](unsigned off) {
      uint32_t v;
      std::memcpy(&v, out.data() + i * w + off, 4);
      return v;
    };
    uint64_t v64;
    std::memcpy(&v64, out.data() + i * w + 32, 8);
    double rn = std::nearbyint(x);
    ASSERT_EQ(int32_t(at32(0)), int32_t(clampTo(rn, INT_MIN, INT_MAX))) << x;
    ASSERT_EQ(int32_t(at32(4)),
              int32_t(clampTo(std::trunc(x), INT_MIN, INT_MAX)));
    ASSERT_EQ(int32_t(at32(8)),
              int32_t(clampTo(std::floor(x), INT_MIN, INT_MAX)));
    ASSERT_EQ(int32_t(at32(12)),
              int32_t(clampTo(std::ceil(x), INT_MIN, INT_MAX)));
    ASSERT_EQ(at32(16), uint32_t(clampTo(rn, 0, 4294967295.0))) << x;
    ASSERT_EQ(at32(20), uint32_t(clampTo(std::trunc(x), 0, 255))) << x;
    // A signed 8-bit result is sign-extended to the register width.
    ASSERT_EQ(at32(24), uint32_t(int32_t(clampTo(rn, -128, 127)))) << x;
    int64_t want64 = std::isnan(x)                            ? 0
                     : std::trunc(x) >= 9223372036854775808.0 ? INT64_MAX
                     : std::trunc(x) < -9223372036854775808.0
                         ? INT64_MIN
                         : int64_t(std::trunc(x));
    ASSERT_EQ(int64_t(v64), want64) << x;
    float rni = std::isnan(x) ? NAN : float(std::nearbyint(x));
    if (std::isnan(x))
      ASSERT_TRUE(std::isnan(u2f(at32(40))));
    else
      ASSERT_EQ(at32(40), f2u(rni)) << x;
    float sat = std::isnan(x) ? 0.0f : float(clampTo(x, 0.0, 1.0));
    ASSERT_EQ(at32(44), f2u(sat)) << x;
  }
}

TEST(EmuCvt, IntegerToFloatAndF64Rounding) {
  std::mt19937 rng(21);
  std::vector<int32_t> ints = {0,        1,        -1,        16777216,
                               16777217, 16777219, -16777217, INT_MAX,
                               INT_MIN,  33554435};
  for (int i = 0; i < 200; ++i)
    ints.push_back(int32_t(rng()));
  unsigned n = unsigned(ints.size());
  std::string body = R"(
  ld.global.u32 %r10, [%rd3];
  cvt.rn.f32.s32 %f1, %r10;   st.global.f32 [%rd5], %f1;
  cvt.rz.f32.s32 %f1, %r10;   st.global.f32 [%rd5+4], %f1;
  cvt.rm.f32.s32 %f1, %r10;   st.global.f32 [%rd5+8], %f1;
  cvt.rp.f32.s32 %f1, %r10;   st.global.f32 [%rd5+12], %f1;
  cvt.rn.f32.u32 %f1, %r10;   st.global.f32 [%rd5+16], %f1;
  cvt.rn.f16.s32 %h1, %r10;   st.global.b16 [%rd5+20], %h1;
  cvt.s16.s32 %h2, %r10;      st.global.b16 [%rd5+22], %h2;
  cvt.sat.s16.s32 %h2, %r10;  st.global.b16 [%rd5+24], %h2;
  cvt.sat.u8.s32 %r20, %r10;  st.global.u32 [%rd5+28], %r20;
  cvt.s64.s32 %rd20, %r10;    st.global.u64 [%rd5+32], %rd20;
  cvt.rn.f64.s32 %fd1, %r10;
  mul.f64 %fd1, %fd1, 0d3FB999999999999A;
  cvt.rz.f32.f64 %f2, %fd1;   st.global.f32 [%rd5+40], %f2;
  cvt.rp.f32.f64 %f2, %fd1;   st.global.f32 [%rd5+44], %f2;
  cvt.f64.f32 %fd2, %f2;      st.global.f64 [%rd5+48], %fd2;
)";
  const unsigned w = 56;
  auto out =
      runElementwise(elementwisePtx(body, 4, w), toBytes(ints), n * w, n);
  auto conv = [](double x, int mode) {
    std::fesetround(mode);
    volatile double vx = x;
    volatile float f = float(vx);
    std::fesetround(FE_TONEAREST);
    return f;
  };
  for (unsigned i = 0; i < n; ++i) {
    int32_t v = ints[i];
    auto at = [&](unsigned off, unsigned size) {
      uint64_t r = 0;
      std::memcpy(&r, out.data() + i * w + off, size);
      return r;
    };
    ASSERT_EQ(at(0, 4), f2u(conv(v, FE_TONEAREST))) << v;
    ASSERT_EQ(at(4, 4), f2u(conv(v, FE_TOWARDZERO))) << v;
    ASSERT_EQ(at(8, 4), f2u(conv(v, FE_DOWNWARD))) << v;
    ASSERT_EQ(at(12, 4), f2u(conv(v, FE_UPWARD))) << v;
    ASSERT_EQ(at(16, 4), f2u(conv(double(uint32_t(v)), FE_TONEAREST)));
    ASSERT_EQ(at(20, 2), h2u(_Float16(double(v)))) << v;
    ASSERT_EQ(at(22, 2), uint16_t(v));
    ASSERT_EQ(at(24, 2),
              uint16_t(int16_t(std::clamp<int32_t>(v, -32768, 32767))));
    ASSERT_EQ(at(28, 4), uint32_t(std::clamp<int32_t>(v, 0, 255)));
    ASSERT_EQ(at(32, 8), uint64_t(int64_t(v)));
    double d = double(v) * 0.1;
    ASSERT_EQ(at(40, 4), f2u(conv(d, FE_TOWARDZERO))) << v;
    ASSERT_EQ(at(44, 4), f2u(conv(d, FE_UPWARD))) << v;
    double back;
    uint64_t bb = at(48, 8);
    std::memcpy(&back, &bb, 8);
    ASSERT_EQ(back, double(conv(d, FE_UPWARD)));
  }
}

/// f16, f16x2, bf16 and bf16x2 arithmetic rounds once, to nearest even.
/// x * y + z rounded to odd in float by its definition: truncated, with the
/// last bit set when inexact (the double fma in round-toward-zero raises
/// FE_INEXACT exactly when it is, and truncating a truncation to float is the
/// truncation of the exact value). Rounding that into bf16 rounds the exact
/// value once; a double fma rounded again can miss by an ulp when x * y is a
/// tie of bf16.
float fmaToOddF32(double x, double y, double z) {
  std::feclearexcept(FE_INEXACT);
  std::fesetround(FE_TOWARDZERO);
  volatile double vx = x, vy = y, vz = z;
  volatile double d = std::fma(vx, vy, vz);
  volatile float f = float(d);
  volatile double back = f;
  std::fesetround(FE_TONEAREST);
  bool inexact = std::fetestexcept(FE_INEXACT) || back != d;
  float r = f;
  if (!inexact || !std::isfinite(r))
    return r;
  uint32_t bits;
  std::memcpy(&bits, &r, 4);
  bits |= 1;
  std::memcpy(&r, &bits, 4);
  return r;
}

TEST(EmuCvt, HalfArithmetic) {
  std::mt19937 rng(4);
  const unsigned n = 300;
  std::vector<uint16_t> in(4 * n);
  for (auto &v : in) {
    v = uint16_t(rng());
    if (rng() % 8 == 0)
      v = (v & 0x8000) | 0x7c00; // inf
    if (rng() % 8 == 0)
      v &= 0x83ff; // subnormal
  }
  std::string body = R"(
  ld.global.v2.b32 {%r10, %r11}, [%rd3];
  mov.b32 {%h1, %h2}, %r10;
  add.f16 %h3, %h1, %h2;            st.global.b16 [%rd5], %h3;
  mul.f16 %h3, %h1, %h2;            st.global.b16 [%rd5+2], %h3;
  sub.f16 %h3, %h1, %h2;            st.global.b16 [%rd5+4], %h3;
  fma.rn.f16 %h3, %h1, %h2, %h1;    st.global.b16 [%rd5+6], %h3;
  add.f16x2 %r20, %r10, %r11;       st.global.b32 [%rd5+8], %r20;
  mul.f16x2 %r20, %r10, %r11;       st.global.b32 [%rd5+12], %r20;
  fma.rn.bf16x2 %r20, %r10, %r11, %r10; st.global.b32 [%rd5+16], %r20;
  add.rn.bf16 %h3, %h1, %h2;        st.global.b16 [%rd5+20], %h3;
  max.f16 %h3, %h1, %h2;            st.global.b16 [%rd5+22], %h3;
  neg.f16x2 %r20, %r10;             st.global.b32 [%rd5+24], %r20;
  setp.lt.f16 %p1, %h1, %h2;        selp.u32 %r21, 1, 0, %p1;
                                    st.global.u32 [%rd5+28], %r21;
  add.sat.f16 %h3, %h1, %h2;        st.global.b16 [%rd5+32], %h3;
)";
  const unsigned w = 36;
  auto out = runElementwise(elementwisePtx(body, 8, w), toBytes(in), n * w, n);
  auto bf = [](uint16_t u) { return double(u2f(uint32_t(u) << 16)); };
  auto hf = [](uint16_t u) { return double(u2h(u)); };
  auto toH = [](double x) { return refF16(float(x), RN, false); };
  auto toB = [](double x) { return refBF16(float(x), RN, false); };
  for (unsigned i = 0; i < n; ++i) {
    uint16_t a0 = in[4 * i], a1 = in[4 * i + 1], b0 = in[4 * i + 2],
             b1 = in[4 * i + 3];
    auto at = [&](unsigned off, unsigned size) {
      uint32_t r = 0;
      std::memcpy(&r, out.data() + i * w + off, size);
      return r;
    };
    double x = hf(a0), y = hf(a1);
    // Exact double results of f16 operands round once to f16 (the float
    // conversion in between is exact or innocuous: 53 >= 2*11+2).
    ASSERT_EQ(at(0, 2), toH(x + y)) << std::hex << a0 << " " << a1;
    ASSERT_EQ(at(2, 2), toH(x * y));
    ASSERT_EQ(at(4, 2), toH(x - y));
    ASSERT_EQ(at(6, 2), toH(x * y + x));
    ASSERT_EQ(at(8, 4),
              (uint32_t(toH(hf(a1) + hf(b1))) << 16) | toH(hf(a0) + hf(b0)));
    ASSERT_EQ(at(12, 4),
              (uint32_t(toH(hf(a1) * hf(b1))) << 16) | toH(hf(a0) * hf(b0)));
    ASSERT_EQ(at(16, 4),
              (uint32_t(toB(fmaToOddF32(bf(a1), bf(b1), bf(a1)))) << 16) |
                  toB(fmaToOddF32(bf(a0), bf(b0), bf(a0))))
        << std::hex << a0 << " " << a1 << " " << b0 << " " << b1;
    ASSERT_EQ(at(20, 2), toB(bf(a0) + bf(a1)));
    double mx = std::isnan(x) ? y : std::isnan(y) ? x : std::max(x, y);
    if (!std::isnan(mx) && !(x == 0 && y == 0))
      ASSERT_EQ(at(22, 2), toH(mx));
    ASSERT_EQ(at(24, 4), (uint32_t(a0) | (uint32_t(a1) << 16)) ^ 0x80008000u);
    ASSERT_EQ(at(28, 4), uint32_t(x < y));
    double s = x + y;
    s = std::isnan(s) ? 0 : std::min(1.0, std::max(0.0, s));
    ASSERT_EQ(at(32, 2), toH(s));
  }
}

/// f8 values from the formats' definitions: e4m3 (bias 7, no infinities,
/// S.1111.111 is NaN) and e5m2 (bias 15, IEEE-like).
double e4m3Value(unsigned b) {
  unsigned e = (b >> 3) & 15, m = b & 7;
  if (e == 15 && m == 7)
    return NAN;
  double v =
      e == 0 ? std::ldexp(double(m), -9) : std::ldexp(8.0 + m, int(e) - 10);
  return (b & 0x80) ? -v : v;
}
double e5m2Value(unsigned b) {
  unsigned e = (b >> 2) & 31, m = b & 3;
  double v = e == 31  ? (m ? NAN : INFINITY)
             : e == 0 ? std::ldexp(double(m), -16)
                      : std::ldexp(4.0 + m, int(e) - 17);
  return (b & 0x80) ? -v : v;
}

/// The nearest of all finite f8 values (ties to an even code), saturating.
unsigned nearestF8(double x, bool e4) {
  if (std::isnan(x))
    return 0x7f;
  if (std::isinf(x)) // .satfinite: infinities become the largest finite value
    return (x < 0 ? 0x80u : 0u) | (e4 ? 0x7eu : 0x7bu);
  unsigned best = 0;
  double bestErr = INFINITY;
  for (unsigned b = 0; b < 256; ++b) {
    double v = e4 ? e4m3Value(b) : e5m2Value(b);
    if (std::isnan(v) || std::isinf(v))
      continue;
    double err = std::fabs(v - x);
    if (err < bestErr || (err == bestErr && (b & 1) == 0 &&
                          std::signbit(v) == std::signbit(x))) {
      best = b;
      bestErr = err;
    }
  }
  if (x == 0)
    return std::signbit(x) ? 0x80 : 0;
  return best;
}

TEST(EmuCvt, Fp8) {
  std::vector<float> in = {0.0f,
                           -0.0f,
                           1.0f,
                           448.0f,
                           464.0f,
                           480.0f,
                           1e6f,
                           -1e6f,
                           INFINITY,
                           -INFINITY,
                           NAN,
                           57344.0f,
                           61440.0f,
                           std::ldexp(1.0f, -9),
                           std::ldexp(1.0f, -10),
                           std::ldexp(3.0f, -11),
                           std::ldexp(1.0f, -16),
                           std::ldexp(1.0f, -17),
                           0.3f,
                           -2.75f};
  std::mt19937 rng(6);
  for (int i = 0; i < 300; ++i)
    in.push_back(
        std::ldexp(float(int(rng() % 2000) - 1000), int(rng() % 30) - 22));
  unsigned n = unsigned(in.size());
  std::string body = R"(
  ld.global.f32 %f1, [%rd3];
  cvt.rn.satfinite.e4m3x2.f32 %h1, %f1, %f1;   st.global.b16 [%rd5], %h1;
  cvt.rn.satfinite.e5m2x2.f32 %h1, %f1, %f1;   st.global.b16 [%rd5+2], %h1;
  cvt.rn.satfinite.relu.e4m3x2.f32 %h1, %f1, %f1; st.global.b16 [%rd5+4], %h1;
  // every f8 code (from the thread index) back to f16x2
  and.b32 %r10, %r3, 255;
  mov.b16 %h2, 0;
  cvt.u16.u32 %h2, %r10;
  cvt.rn.f16x2.e4m3x2 %r11, %h2;               st.global.b32 [%rd5+8], %r11;
  cvt.rn.f16x2.e5m2x2 %r12, %h2;               st.global.b32 [%rd5+12], %r12;
)";
  const unsigned w = 16;
  auto out = runElementwise(elementwisePtx(body, 4, w), toBytes(in), n * w, n);
  for (unsigned i = 0; i < n; ++i) {
    double x = in[i];
    auto at = [&](unsigned off, unsigned size) {
      uint32_t r = 0;
      std::memcpy(&r, out.data() + i * w + off, size);
      return r;
    };
    unsigned e4 = nearestF8(x, true), e5 = nearestF8(x, false);
    if (std::isnan(x))
      e5 = 0x7f;
    ASSERT_EQ(at(0, 2), e4 * 0x101u) << x;
    ASSERT_EQ(at(2, 2), e5 * 0x101u) << x;
    unsigned relu = (x < 0) ? 0 : e4;
    ASSERT_EQ(at(4, 2), relu * 0x101u) << x;
    if (i < 256) {
      unsigned b = i & 255;
      uint32_t lo4 = at(8, 4) & 0xffff, hi4 = at(8, 4) >> 16;
      uint32_t lo5 = at(12, 4) & 0xffff;
      double v4 = e4m3Value(b), v5 = e5m2Value(b);
      if (std::isnan(v4))
        ASSERT_EQ(lo4, 0x7fffu);
      else
        ASSERT_EQ(lo4, h2u(_Float16(v4))) << b;
      ASSERT_EQ(hi4, h2u(_Float16(0.0))) << b; // upper byte is 0
      if (std::isnan(v5))
        ASSERT_EQ(lo5, 0x7fffu);
      else
        ASSERT_EQ(lo5, h2u(_Float16(v5))) << b;
    }
  }
}

} // namespace
