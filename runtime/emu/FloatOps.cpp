//===- FloatOps.cpp - Floating-point instructions and conversions ---------===//
//
// f16/bf16 (scalar and packed), f32 and f64 arithmetic, the .approx
// functions, testp, and cvt between every pair of integer and float types
// (f8 included).
//
// f32 and f64 arithmetic is the host's, in the instruction's rounding mode
// (the host's rounding mode is switched for directed rounding; the library
// is built with -frounding-math); NaN results are made canonical. 16-bit
// floats are computed in double and rounded once into the format, and every
// conversion is exact on integers (Float.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Decode.h"
#include "runtime/emu/Launch.h"

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <limits>

namespace tilus::emu::exec {
namespace {

/// Runs \p f with the host rounding mode set to \p r (f32/f64 arithmetic).
template <typename F> auto withRounding(Rnd r, F f) {
  if (r == Rnd::None || r == Rnd::Rn)
    return f();
  int old = std::fegetround();
  std::fesetround(r == Rnd::Rz   ? FE_TOWARDZERO
                  : r == Rnd::Rm ? FE_DOWNWARD
                  : r == Rnd::Rp ? FE_UPWARD
                                 : FE_TONEAREST);
  auto v = f();
  std::fesetround(old);
  return v;
}

/// .sat: clamps to [+0.0, 1.0]; NaN and -0.0 become +0.0.
inline float satF(float f) {
  if (std::isnan(f) || f <= 0.0f)
    return 0.0f;
  return f > 1.0f ? 1.0f : f;
}
inline double flushHalf(double v, FloatFormat fmt) {
  int bias = (1 << (fmt.ebits - 1)) - 1;
  if (v != 0 && std::fabs(v) < std::ldexp(1.0, 1 - bias))
    return std::signbit(v) ? -0.0 : 0.0;
  return v;
}

/// Applies \p f elementwise over the halves of 16-bit float operands, in
/// double, rounding the result once (RN) into the format.
template <typename F>
uint64_t halfOp(const Half &h, const Instr &I, uint64_t a, uint64_t b,
                uint64_t c, F f) {
  unsigned n = h.packed ? 2 : 1;
  uint64_t out = 0;
  for (unsigned k = 0; k < n; ++k) {
    double x = decodeFloat((a >> (16 * k)) & 0xffff, h.fmt);
    double y = decodeFloat((b >> (16 * k)) & 0xffff, h.fmt);
    double z = decodeFloat((c >> (16 * k)) & 0xffff, h.fmt);
    if (I.has(FFtz)) {
      x = flushHalf(x, h.fmt);
      y = flushHalf(y, h.fmt);
      z = flushHalf(z, h.fmt);
    }
    double r = f(x, y, z);
    if (I.has(FSat) && !std::isnan(r))
      r = r < 0 ? 0.0 : (r > 1 ? 1.0 : r);
    else if (I.has(FSat))
      r = 0.0;
    if (I.has(FRelu) && !std::isnan(r) && r < 0)
      r = 0.0;
    uint64_t bits = roundF64To(r, h.fmt, Rnd::Rn, false);
    if (I.has(FFtz))
      bits = roundF64To(flushHalf(decodeFloat(bits, h.fmt), h.fmt), h.fmt,
                        Rnd::Rn, false);
    out |= bits << (16 * k);
  }
  return out;
}

/// x * y + z rounded to odd in double: the exact value when it fits, else
/// the neighbour with an odd last bit. Rounding that once more into a format
/// of at most 51 bits (f16, bf16) gives the exact value rounded once; a plain
/// double fma would round twice and miss by an ulp when x * y is a tie of the
/// narrow format and z is too small for a double to keep. Needs x * y exact
/// in double, which holds for 16-bit formats (at most 22-bit products).
double fmaRoundOdd(double x, double y, double z) {
  double p = x * y, s = p + z;
  if (!std::isfinite(s))
    return std::fma(x, y, z);
  double t = s - p;
  double e = (p - (s - t)) + (z - t); // TwoSum: p + z == s + e exactly
  if (e == 0 || (f64ToBits(s) & 1))
    return s;
  return std::nextafter(s, e > 0 ? INFINITY : -INFINITY);
}

} // namespace

double fminPtx(double x, double y, bool nanProp) {
  if (std::isnan(x) || std::isnan(y)) {
    if (nanProp || (std::isnan(x) && std::isnan(y)))
      return NAN;
    return std::isnan(x) ? y : x;
  }
  if (x == 0 && y == 0)
    return std::signbit(x) ? x : y;
  return x < y ? x : y;
}
double fmaxPtx(double x, double y, bool nanProp) {
  if (std::isnan(x) || std::isnan(y)) {
    if (nanProp || (std::isnan(x) && std::isnan(y)))
      return NAN;
    return std::isnan(x) ? y : x;
  }
  if (x == 0 && y == 0)
    return std::signbit(x) ? y : x;
  return x > y ? x : y;
}

//===----------------------------------------------------------------------===//
// Arithmetic
//===----------------------------------------------------------------------===//

bool Launch::execFloat(Warp &w, const Instr &I, uint32_t mask,
                       const AluArgs &args) {
  Type t = I.type;
  Half h{kF16, false};
  if (halfType(t, h))
    return execHalf(I, h, mask, args);
  if (t == Type::F32)
    return execF32(I, mask, args);
  if (t == Type::F64)
    return execF64(I, mask, args);
  return false;
}

bool Launch::execHalf(const Instr &I, const Half &h, uint32_t mask,
                      const AluArgs &args) {
  uint64_t *d = args.d;
  const uint64_t *a = args.a, *b = args.b, *c = args.c;
  switch (I.op) {
  case Op::Add:
    FOR_LANES(mask,
              d[l] = halfOp(h, I, a[l], b[l], 0,
                            [](double x, double y, double) { return x + y; }));
    return true;
  case Op::Sub:
    FOR_LANES(mask,
              d[l] = halfOp(h, I, a[l], b[l], 0,
                            [](double x, double y, double) { return x - y; }));
    return true;
  case Op::Mul:
    FOR_LANES(mask,
              d[l] = halfOp(h, I, a[l], b[l], 0,
                            [](double x, double y, double) { return x * y; }));
    return true;
  case Op::Fma:
    FOR_LANES(mask, d[l] = halfOp(h, I, a[l], b[l], c[l], fmaRoundOdd));
    return true;
  case Op::Min:
  case Op::Max: {
    bool nan = I.has(FNan), isMin = I.op == Op::Min;
    FOR_LANES(mask,
              d[l] =
                  halfOp(h, I, a[l], b[l], 0, [&](double x, double y, double) {
                    return isMin ? fminPtx(x, y, nan) : fmaxPtx(x, y, nan);
                  }));
    return true;
  }
  case Op::Neg:
  case Op::Abs: {
    uint64_t signs = h.packed ? 0x80008000u : 0x8000u;
    FOR_LANES(mask, {
      uint64_t v = a[l] & (h.packed ? 0xffffffffu : 0xffffu);
      d[l] = I.op == Op::Neg ? v ^ signs : v & ~signs;
    });
    return true;
  }
  case Op::Ex2:
  case Op::Tanh: {
    bool ex = I.op == Op::Ex2;
    FOR_LANES(mask,
              d[l] = halfOp(h, I, a[l], 0, 0, [&](double x, double, double) {
                return ex ? std::exp2(x) : std::tanh(x);
              }));
    return true;
  }
  case Op::Mov:
    FOR_LANES(mask, d[l] = a[l]);
    return true;
  default:
    return false;
  }
}

namespace {

/// f32 arithmetic rounded to nearest, with no flushing or saturation: the
/// host's own arithmetic, NaN made canonical. False if \p I is not one.
bool f32Nearest(const Instr &I, uint32_t mask, const AluArgs &args) {
  uint64_t *d = args.d;
  const uint64_t *a = args.a, *b = args.b, *c = args.c;
  switch (I.op) {
  case Op::Add:
    lanes(mask, d, a, b, c, [](uint64_t x, uint64_t y, uint64_t) -> uint64_t {
      return canonF32(bitsToF32(uint32_t(x)) + bitsToF32(uint32_t(y)));
    });
    return true;
  case Op::Sub:
    lanes(mask, d, a, b, c, [](uint64_t x, uint64_t y, uint64_t) -> uint64_t {
      return canonF32(bitsToF32(uint32_t(x)) - bitsToF32(uint32_t(y)));
    });
    return true;
  case Op::Mul:
    lanes(mask, d, a, b, c, [](uint64_t x, uint64_t y, uint64_t) -> uint64_t {
      return canonF32(bitsToF32(uint32_t(x)) * bitsToF32(uint32_t(y)));
    });
    return true;
  case Op::Fma:
  case Op::Mad:
    lanes(mask, d, a, b, c, [](uint64_t x, uint64_t y, uint64_t z) -> uint64_t {
      return canonF32(std::fma(bitsToF32(uint32_t(x)), bitsToF32(uint32_t(y)),
                               bitsToF32(uint32_t(z))));
    });
    return true;
  default:
    break;
  }
  return false;
}

/// sin.approx.f32 and cos.approx.f32 as the GPU computes them: the argument
/// becomes revolutions through an f32 multiply by 1/(2 pi) rounded toward
/// zero, and the sine of those revolutions is taken, so a large argument
/// keeps exactly the fraction the GPU keeps (none from 2^24 revolutions on).
/// Against an H200 (test/emu-hw/approx.ptx) this leaves only the GPU's own
/// approximation error, under 3.3e-7 absolute.
double sinRevolutions(float x, bool cosine) {
  if (!std::isfinite(x))
    return std::numeric_limits<double>::quiet_NaN();
  double exact = double(x) * double(0.15915494f);
  float r = float(exact);
  if (std::fabs(double(r)) > std::fabs(exact))
    r = std::nextafter(r, 0.0f);
  double frac = double(r) - std::floor(double(r));
  if (frac > 0.5)
    frac -= 1.0;
  if (frac == 0 && !cosine)
    return std::copysign(0.0, double(x));
  double angle = 2 * M_PI * frac;
  return cosine ? std::cos(angle) : std::sin(angle);
}

} // namespace

bool Launch::execF32(const Instr &I, uint32_t mask, const AluArgs &args) {
  uint64_t *d = args.d;
  const uint64_t *a = args.a, *b = args.b, *c = args.c;
  bool fz = I.has(FFtz), sat = I.has(FSat);
  auto in = [&](uint64_t v) {
    float f = bitsToF32(uint32_t(v));
    return fz ? ftz(f) : f;
  };
  auto out = [&](float r) -> uint64_t {
    if (fz)
      r = ftz(r);
    if (sat)
      r = satF(r);
    return canonF32(r);
  };
  Rnd r = I.rnd;
  if ((r == Rnd::None || r == Rnd::Rn) && !fz && !sat &&
      f32Nearest(I, mask, args))
    return true;
  switch (I.op) {
  case Op::Add:
    FOR_LANES(mask, {
      float x = in(a[l]), y = in(b[l]);
      d[l] = out(withRounding(r, [&] {
        volatile float v = x + y;
        return float(v);
      }));
    });
    return true;
  case Op::Sub:
    FOR_LANES(mask, {
      float x = in(a[l]), y = in(b[l]);
      d[l] = out(withRounding(r, [&] {
        volatile float v = x - y;
        return float(v);
      }));
    });
    return true;
  case Op::Mul:
    FOR_LANES(mask, {
      float x = in(a[l]), y = in(b[l]);
      d[l] = out(withRounding(r, [&] {
        volatile float v = x * y;
        return float(v);
      }));
    });
    return true;
  case Op::Fma:
  case Op::Mad:
    FOR_LANES(mask, {
      float x = in(a[l]), y = in(b[l]), z = in(c[l]);
      d[l] = out(withRounding(r, [&] {
        volatile float v = std::fma(x, y, z);
        return float(v);
      }));
    });
    return true;
  case Op::Div:
    FOR_LANES(mask, {
      float x = in(a[l]), y = in(b[l]);
      d[l] = out(withRounding(r, [&] {
        volatile float v = x / y;
        return float(v);
      }));
    });
    return true;
  case Op::Min:
  case Op::Max: {
    bool nan = I.has(FNan), isMin = I.op == Op::Min;
    FOR_LANES(mask, {
      double x = in(a[l]), y = in(b[l]);
      d[l] = out(float(isMin ? fminPtx(x, y, nan) : fmaxPtx(x, y, nan)));
    });
    return true;
  }
  case Op::Abs:
    FOR_LANES(mask, {
      uint32_t v = uint32_t(a[l]);
      if (fz && std::fpclassify(bitsToF32(v)) == FP_SUBNORMAL)
        v &= 0x80000000u;
      d[l] = v & 0x7fffffffu;
    });
    return true;
  case Op::Neg:
    FOR_LANES(mask, {
      uint32_t v = uint32_t(a[l]);
      if (fz && std::fpclassify(bitsToF32(v)) == FP_SUBNORMAL)
        v &= 0x80000000u;
      d[l] = v ^ 0x80000000u;
    });
    return true;
  case Op::Copysign:
    FOR_LANES(mask, d[l] = (uint32_t(b[l]) & 0x7fffffffu) |
                           (uint32_t(a[l]) & 0x80000000u));
    return true;
  case Op::Sqrt:
    FOR_LANES(mask, {
      float x = in(a[l]);
      d[l] = out(withRounding(r, [&] {
        volatile float v = std::sqrt(x);
        return float(v);
      }));
    });
    return true;
  case Op::Rcp:
    FOR_LANES(mask, {
      float x = in(a[l]);
      d[l] = out(withRounding(r, [&] {
        volatile float v = 1.0f / x;
        return float(v);
      }));
    });
    return true;
  // The .approx functions: computed in double and rounded, which is
  // within the ISA's documented error bounds.
  case Op::Rsqrt:
    FOR_LANES(mask, d[l] = out(float(1.0 / std::sqrt(double(in(a[l]))))));
    return true;
  case Op::Ex2:
    FOR_LANES(mask, d[l] = out(float(std::exp2(double(in(a[l]))))));
    return true;
  case Op::Lg2:
    FOR_LANES(mask, d[l] = out(float(std::log2(double(in(a[l]))))));
    return true;
  case Op::Sin:
    FOR_LANES(mask, d[l] = out(float(sinRevolutions(in(a[l]), false))));
    return true;
  case Op::Cos:
    FOR_LANES(mask, d[l] = out(float(sinRevolutions(in(a[l]), true))));
    return true;
  case Op::Tanh:
    FOR_LANES(mask, d[l] = out(float(std::tanh(double(in(a[l]))))));
    return true;
  default:
    return false;
  }
}

bool Launch::execF64(const Instr &I, uint32_t mask, const AluArgs &args) {
  uint64_t *d = args.d;
  const uint64_t *a = args.a, *b = args.b, *c = args.c;
  Rnd r = I.rnd;
  auto f = [](uint64_t v) { return bitsToF64(v); };
  switch (I.op) {
  case Op::Add:
    FOR_LANES(mask, d[l] = canonF64(withRounding(r, [&] {
                      volatile double v = f(a[l]) + f(b[l]);
                      return double(v);
                    })));
    return true;
  case Op::Sub:
    FOR_LANES(mask, d[l] = canonF64(withRounding(r, [&] {
                      volatile double v = f(a[l]) - f(b[l]);
                      return double(v);
                    })));
    return true;
  case Op::Mul:
    FOR_LANES(mask, d[l] = canonF64(withRounding(r, [&] {
                      volatile double v = f(a[l]) * f(b[l]);
                      return double(v);
                    })));
    return true;
  case Op::Fma:
  case Op::Mad:
    FOR_LANES(mask, d[l] = canonF64(withRounding(r, [&] {
                      volatile double v = std::fma(f(a[l]), f(b[l]), f(c[l]));
                      return double(v);
                    })));
    return true;
  case Op::Div:
    FOR_LANES(mask, d[l] = canonF64(withRounding(r, [&] {
                      volatile double v = f(a[l]) / f(b[l]);
                      return double(v);
                    })));
    return true;
  case Op::Sqrt:
    FOR_LANES(mask, d[l] = canonF64(withRounding(r, [&] {
                      volatile double v = std::sqrt(f(a[l]));
                      return double(v);
                    })));
    return true;
  case Op::Rcp:
    FOR_LANES(mask, d[l] = canonF64(withRounding(r, [&] {
                      volatile double v = 1.0 / f(a[l]);
                      return double(v);
                    })));
    return true;
  case Op::Rsqrt:
    FOR_LANES(mask, d[l] = canonF64(1.0 / std::sqrt(f(a[l]))));
    return true;
  case Op::Min:
  case Op::Max: {
    bool nan = I.has(FNan), isMin = I.op == Op::Min;
    FOR_LANES(mask, d[l] = canonF64(isMin ? fminPtx(f(a[l]), f(b[l]), nan)
                                          : fmaxPtx(f(a[l]), f(b[l]), nan)));
    return true;
  }
  case Op::Abs:
    FOR_LANES(mask, d[l] = a[l] & 0x7fffffffffffffffull);
    return true;
  case Op::Neg:
    FOR_LANES(mask, d[l] = a[l] ^ 0x8000000000000000ull);
    return true;
  case Op::Copysign:
    FOR_LANES(mask, d[l] = (b[l] & 0x7fffffffffffffffull) |
                           (a[l] & 0x8000000000000000ull));
    return true;
  default:
    return false;
  }
}

bool Launch::execTestp(Warp &w, const Instr &I, uint32_t mask,
                       const AluArgs &args) {
  uint64_t *d = args.d;
  const uint64_t *a = args.a;
  Type t = I.type;
  FOR_LANES(mask, {
    double x =
        t == Type::F32 ? double(bitsToF32(uint32_t(a[l]))) : bitsToF64(a[l]);
    int cls = std::fpclassify(x);
    if (t == Type::F32)
      cls = std::fpclassify(bitsToF32(uint32_t(a[l])));
    bool r = false;
    switch (I.sub) {
    case Sub::Finite:
      r = std::isfinite(x);
      break;
    case Sub::Infinite:
      r = std::isinf(x);
      break;
    case Sub::Number:
      r = !std::isnan(x);
      break;
    case Sub::NotANumber:
      r = std::isnan(x);
      break;
    case Sub::Normal:
      r = cls == FP_NORMAL;
      break;
    case Sub::Subnormal:
      r = cls == FP_SUBNORMAL;
      break;
    default:
      break;
    }
    d[l] = r;
  });
  return true;
}

//===----------------------------------------------------------------------===//
// cvt
//===----------------------------------------------------------------------===//

namespace {

/// Reads a float of type \p t from raw bits into a double (exact).
double readFloat(Type t, uint64_t v) {
  switch (t) {
  case Type::F16:
    return decodeFloat(v & 0xffff, kF16);
  case Type::BF16:
    return decodeFloat(v & 0xffff, kBF16);
  case Type::F32:
    return bitsToF32(uint32_t(v));
  default:
    return bitsToF64(v);
  }
}

FloatFormat formatOf(Type t) {
  switch (t) {
  case Type::F16:
    return kF16;
  case Type::BF16:
    return kBF16;
  case Type::F32:
    return kF32;
  default:
    return kF64;
  }
}

uint64_t cvtValue(const Instr &I, Type dt, Type st, uint64_t v);

/// cvt of one value. Integer results are sign-extended to the register
/// width for signed destination types, zero-extended otherwise.
uint64_t cvtOne(const Instr &I, Type dt, Type st, uint64_t v) {
  uint64_t r = cvtValue(I, dt, st, v);
  if (!isFloat(dt) && isSigned(dt))
    return uint64_t(sext(r, typeBits(dt)));
  return r;
}

uint64_t cvtValue(const Instr &I, Type dt, Type st, uint64_t v) {
  bool fz = I.has(FFtz);
  Rnd rnd = I.rnd == Rnd::None ? Rnd::Rn : I.rnd;
  if (!isFloat(dt) && !isFloat(st)) {
    unsigned sb = typeBits(st), db = typeBits(dt);
    if (I.has(FSat)) {
      // Clamp the source value into the destination range.
      __int128 x = isSigned(st) ? __int128(sext(v, sb)) : __int128(zext(v, sb));
      __int128 lo = isSigned(dt) ? -(__int128(1) << (db - 1)) : 0;
      __int128 hi = isSigned(dt) ? (__int128(1) << (db - 1)) - 1
                                 : (__int128(1) << db) - 1;
      x = std::clamp(x, lo, hi);
      return zext(uint64_t(x), db);
    }
    uint64_t x = isSigned(st) ? uint64_t(sext(v, sb)) : zext(v, sb);
    return zext(x, db);
  }
  if (isFloat(st) && !isFloat(dt)) {
    double x = readFloat(st, v);
    if (fz && st == Type::F32)
      x = ftz(float(x));
    unsigned db = typeBits(dt);
    if (std::isnan(x))
      return 0;
    double r;
    switch (rnd) {
    case Rnd::Rzi:
    case Rnd::Rz:
      r = std::trunc(x);
      break;
    case Rnd::Rmi:
    case Rnd::Rm:
      r = std::floor(x);
      break;
    case Rnd::Rpi:
    case Rnd::Rp:
      r = std::ceil(x);
      break;
    default:
      r = std::nearbyint(x);
      break;
    }
    if (isSigned(dt)) {
      double lo = -std::ldexp(1.0, db - 1), hi = std::ldexp(1.0, db - 1);
      if (r < lo)
        return zext(uint64_t(1) << (db - 1), db);
      if (r >= hi)
        return zext((uint64_t(1) << (db - 1)) - 1, db);
      return zext(uint64_t(int64_t(r)), db);
    }
    double hi = std::ldexp(1.0, db);
    if (r <= 0)
      return 0;
    if (r >= hi)
      return zext(~0ull, db);
    return uint64_t(r);
  }
  FloatFormat df = formatOf(dt);
  if (!isFloat(st)) {
    unsigned sb = typeBits(st);
    bool neg = false;
    uint64_t m;
    int e = 0;
    if (isSigned(st)) {
      int64_t x = sext(v, sb);
      neg = x < 0;
      m = neg ? uint64_t(0) - uint64_t(x) : uint64_t(x);
    } else {
      m = zext(v, sb);
    }
    if (m >> 63) {
      m = (m >> 1) | (m & 1);
      e = 1;
    }
    uint64_t bits = encodeFloat(neg, m, e, df, rnd, false);
    if (I.has(FSat)) {
      double r = decodeFloat(bits, df);
      r = r < 0 ? 0 : (r > 1 ? 1 : r);
      bits = roundF64To(r, df, Rnd::Rn, false);
    }
    return bits;
  }
  // float -> float. bf16 -> f32 is exact, a NaN's payload included: the
  // GPU moves the 16 bits up (measured on an H200).
  if (st == Type::BF16 && dt == Type::F32 && !I.has(FRelu) && !I.has(FSat) &&
      ((v & 0x7f80) == 0x7f80) && (v & 0x7f))
    return (v & 0xffff) << 16;
  double x = readFloat(st, v);
  if (fz && st == Type::F32)
    x = ftz(float(x));
  if (I.rnd == Rnd::Rni || I.rnd == Rnd::Rzi || I.rnd == Rnd::Rmi ||
      I.rnd == Rnd::Rpi) {
    if (!std::isnan(x) && !std::isinf(x)) {
      double y = I.rnd == Rnd::Rni   ? std::nearbyint(x)
                 : I.rnd == Rnd::Rzi ? std::trunc(x)
                 : I.rnd == Rnd::Rmi ? std::floor(x)
                                     : std::ceil(x);
      x = y == 0 ? std::copysign(0.0, x) : y;
    }
    rnd = Rnd::Rn;
  }
  // .relu takes -0 to +0 as well (measured on an H200).
  if (I.has(FRelu) && !std::isnan(x) && std::signbit(x))
    x = 0;
  if (I.has(FSat))
    x = (std::isnan(x) || x <= 0) ? 0.0 : (x > 1 ? 1 : x);
  uint64_t bits = roundF64To(x, df, rnd, I.has(FSatFinite));
  if (fz && dt == Type::F32)
    bits = f32ToBits(ftz(bitsToF32(uint32_t(bits))));
  return bits;
}

/// One f8 value from a double (conversions to e4m3x2/e5m2x2).
uint64_t toF8(const Instr &I, double x) {
  if (I.has(FRelu) && !std::isnan(x) && x < 0)
    x = 0;
  if (I.type == Type::E4m3x2)
    return roundF64ToE4m3(x, I.has(FSatFinite));
  return roundF64To(x, kE5M2, Rnd::Rn, I.has(FSatFinite));
}

} // namespace

bool Launch::execCvt(Warp &w, const Instr &I, uint32_t mask) {
  uint64_t ta[32], tb[32];
  const uint64_t *a = src(w, I.ops[1], ta);
  uint64_t *d = dst(w, I.ops[0]);
  if (I.type == Type::E4m3x2 || I.type == Type::E5m2x2) {
    if (I.type2 == Type::F32) {
      const uint64_t *b = src(w, I.ops[2], tb);
      FOR_LANES(mask, d[l] = (toF8(I, bitsToF32(uint32_t(a[l]))) << 8) |
                             toF8(I, bitsToF32(uint32_t(b[l]))));
    } else { // from f16x2
      FOR_LANES(mask, d[l] = (toF8(I, decodeFloat((a[l] >> 16) & 0xffff, kF16))
                              << 8) |
                             toF8(I, decodeFloat(a[l] & 0xffff, kF16)));
    }
    return true;
  }
  if (I.type2 == Type::E4m3x2 || I.type2 == Type::E5m2x2) {
    bool e4 = I.type2 == Type::E4m3x2;
    auto one = [&](uint64_t byte) {
      double x =
          e4 ? decodeE4m3(uint8_t(byte)) : decodeFloat(byte & 0xff, kE5M2);
      if (I.has(FRelu) && !std::isnan(x) && x < 0)
        x = 0;
      return roundF64To(x, kF16, Rnd::Rn, false);
    };
    FOR_LANES(mask, d[l] = (one((a[l] >> 8) & 0xff) << 16) | one(a[l] & 0xff));
    return true;
  }
  if (I.nops == 3) { // f16x2/bf16x2 from two f32: a goes to the upper half
    const uint64_t *b = src(w, I.ops[2], tb);
    Type et = I.type == Type::F16x2 ? Type::F16 : Type::BF16;
    FOR_LANES(mask, d[l] = (cvtOne(I, et, Type::F32, a[l]) << 16) |
                           cvtOne(I, et, Type::F32, b[l]));
    return true;
  }
  FOR_LANES(mask, d[l] = cvtOne(I, I.type, I.type2, a[l]));
  return true;
}

} // namespace tilus::emu::exec

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

namespace tilus::emu::decode {
namespace {

bool floatModifier(Decoding &d, std::string_view m) {
  Instr &ins = d.ins;
  if (ins.op == Op::Testp &&
      (m == "finite" || m == "infinite" || m == "number" || m == "notanumber" ||
       m == "normal" || m == "subnormal")) {
    ins.sub = m == "finite"       ? Sub::Finite
              : m == "infinite"   ? Sub::Infinite
              : m == "number"     ? Sub::Number
              : m == "notanumber" ? Sub::NotANumber
              : m == "normal"     ? Sub::Normal
                                  : Sub::Subnormal;
    return true;
  }
  return false;
}

Status checkFloat(Decoding &d) {
  Instr &ins = d.ins;
  Type t0 = d.type(0), t1 = d.type(1);
  Status st;
  switch (ins.op) {
  case Op::Cvt:
    st = d.need(d.types.size() == 2, "expected a destination and source type");
    if (!st)
      return st;
    ins.type2 = t1;
    d.fixDoubleLiterals(t1);
    st = d.need(!ins.has(FSatFinite) ||
                    (ins.rnd != Rnd::Rm && ins.rnd != Rnd::Rp),
                ".satfinite goes with .rn or .rz only");
    if (!st)
      return st;
    if ((t0 == Type::F16x2 || t0 == Type::BF16x2) && t1 == Type::F32)
      return d.need(ins.nops == 3, "f16x2/bf16x2 from two f32 operands");
    if (t0 == Type::E4m3x2 || t0 == Type::E5m2x2) {
      st = d.need(ins.rnd == Rnd::Rn && ins.has(FSatFinite),
                  "conversions to f8 need .rn.satfinite");
      if (!st)
        return st;
      if (t1 == Type::F32)
        return d.need(ins.nops == 3, "e4m3x2/e5m2x2 from two f32 operands");
      return d.need(t1 == Type::F16x2 && ins.nops == 2,
                    "e4m3x2/e5m2x2 from f32 or f16x2");
    }
    if (t1 == Type::E4m3x2 || t1 == Type::E5m2x2)
      return d.need(t0 == Type::F16x2 && ins.nops == 2 &&
                        (ins.rnd == Rnd::Rn || ins.rnd == Rnd::None),
                    "f16x2 from e4m3x2/e5m2x2");
    return d.need(ins.nops == 2 && t0 != Type::F16x2 && t0 != Type::BF16x2 &&
                      t1 != Type::F16x2 && t1 != Type::BF16x2 &&
                      t0 != Type::Pred && t1 != Type::Pred,
                  "conversion pair ." + std::string(d.mods.back()));
  default:
    break;
  }
  st = d.typed();
  if (!st)
    return st;
  if ((ins.op == Op::Ex2 || ins.op == Op::Lg2 || ins.op == Op::Rsqrt ||
       ins.op == Op::Sin || ins.op == Op::Cos || ins.op == Op::Tanh) &&
      !ins.has(FApprox))
    return d.need(false, "only the .approx form exists");
  return Status::success();
}

} // namespace

const Family &floatFamily() {
  static const Family f = {{{"fma", Op::Fma, 4, 4},
                            {"copysign", Op::Copysign, 3, 3},
                            {"testp", Op::Testp, 2, 2},
                            {"ex2", Op::Ex2, 2, 2},
                            {"lg2", Op::Lg2, 2, 2},
                            {"rcp", Op::Rcp, 2, 2},
                            {"rsqrt", Op::Rsqrt, 2, 2},
                            {"sqrt", Op::Sqrt, 2, 2},
                            {"sin", Op::Sin, 2, 2},
                            {"cos", Op::Cos, 2, 2},
                            {"tanh", Op::Tanh, 2, 2},
                            {"cvt", Op::Cvt, 2, 3}},
                           floatModifier,
                           checkFloat};
  return f;
}

} // namespace tilus::emu::decode
