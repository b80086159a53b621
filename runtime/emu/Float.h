//===- Float.h - Bit-exact float formats for the emulator -------*- C++ -*-===//
//
// Conversions between the float formats PTX uses (f64, f32, f16, bf16, f8)
// with every rounding mode, done on integers so that they are exact and do
// not depend on the host's rounding state. The encoding and decoding are the
// dtype library's (ir/dtype/DType.h), the one float codec of the core; this
// header adds PTX's rounding modifiers and special values.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_EMU_FLOAT_H
#define TILUS_RUNTIME_EMU_FLOAT_H

#include "ir/dtype/DType.h"
#include "runtime/emu/Program.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace tilus::emu {

inline float bitsToF32(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
inline uint32_t f32ToBits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
inline double bitsToF64(uint64_t b) {
  double f;
  std::memcpy(&f, &b, 8);
  return f;
}
inline uint64_t f64ToBits(double f) {
  uint64_t b;
  std::memcpy(&b, &f, 8);
  return b;
}

/// An IEEE-style binary format: `ebits` exponent bits, `mbits` fraction bits.
struct FloatFormat {
  int ebits, mbits;
  uint64_t signBit() const { return 1ull << (ebits + mbits); }
  uint64_t maxFinite() const {
    return ((((1ull << ebits) - 2)) << mbits) | ((1ull << mbits) - 1);
  }
  uint64_t inf() const { return ((1ull << ebits) - 1) << mbits; }
  /// The canonical NaN PTX produces: all exponent and fraction bits set.
  uint64_t canonicalNan() const { return ((1ull << (ebits + mbits)) - 1); }
  tilus::FloatFormat format() const {
    return {unsigned(ebits), unsigned(mbits),
            tilus::DType::FloatSpecials::IEEE};
  }
};
constexpr FloatFormat kF16{5, 10};
constexpr FloatFormat kBF16{8, 7};
constexpr FloatFormat kF32{8, 23};
constexpr FloatFormat kF64{11, 52};

inline tilus::Rounding roundingOf(Rnd rnd) {
  switch (rnd) {
  case Rnd::Rz:
  case Rnd::Rzi:
    return tilus::Rounding::TowardZero;
  case Rnd::Rm:
  case Rnd::Rmi:
    return tilus::Rounding::Down;
  case Rnd::Rp:
  case Rnd::Rpi:
    return tilus::Rounding::Up;
  case Rnd::Rna:
    return tilus::Rounding::NearestAway;
  default:
    return tilus::Rounding::NearestEven;
  }
}

/// Encodes (-1)^sign * m * 2^e in \p fmt, rounded by \p rnd (Rn/Rz/Rm/Rp or
/// the integer variants, treated alike); overflow gives infinity or the
/// largest finite value as the rounding direction says, and always the
/// largest finite value under \p satFinite.
inline uint64_t encodeFloat(bool sign, uint64_t m, int e, FloatFormat fmt,
                            Rnd rnd, bool satFinite) {
  return tilus::encodeFinite(fmt.format(), sign, m, e, roundingOf(rnd),
                             satFinite ? tilus::Overflow::Saturate
                                       : tilus::Overflow::Infinity);
}

/// Decomposes a finite double into sign, integer significand and exponent.
inline void decomposeF64(double x, bool &sign, uint64_t &m, int &e) {
  uint64_t b = f64ToBits(x);
  sign = b >> 63;
  int ex = int((b >> 52) & 0x7ff);
  m = b & ((1ull << 52) - 1);
  if (ex == 0) {
    e = -1074;
  } else {
    m |= 1ull << 52;
    e = ex - 1075;
  }
}

/// Rounds a double into \p fmt, with PTX's special values: NaN becomes the
/// canonical NaN, infinities stay (or saturate under \p satFinite).
inline uint64_t roundF64To(double x, FloatFormat fmt, Rnd rnd, bool satFinite) {
  if (std::isnan(x))
    return fmt.canonicalNan();
  if (std::isinf(x))
    return (x < 0 ? fmt.signBit() : 0) |
           (satFinite ? fmt.maxFinite() : fmt.inf());
  bool sign;
  uint64_t m;
  int e;
  decomposeF64(x, sign, m, e);
  return encodeFloat(sign, m, e, fmt, rnd, satFinite);
}

/// Decodes \p bits of \p fmt exactly into a double; a NaN keeps its sign.
inline double decodeFloat(uint64_t bits, FloatFormat fmt) {
  double v = tilus::decodeFormat(fmt.format(), bits);
  return std::isnan(v) && (bits & fmt.signBit()) ? -v : v;
}

constexpr FloatFormat kE5M2{5, 2};

/// f8 e4m3 ("fn"): bias 7, no infinities, 0x7f/0xff are NaN, 448 the
/// largest finite value. Rounded to nearest even; overflow gives the largest
/// finite value under \p satFinite, NaN otherwise.
inline uint8_t roundF64ToE4m3(double x, bool satFinite) {
  if (std::isnan(x))
    return 0x7f;
  uint8_t sign = std::signbit(x) ? 0x80 : 0;
  if (std::isinf(x))
    return sign | (satFinite ? 0x7e : 0x7f);
  // Encode with the all-ones exponent as an ordinary binade, then check the
  // e4m3 range.
  bool negative;
  uint64_t m;
  int e;
  decomposeF64(std::fabs(x), negative, m, e);
  uint64_t wide = tilus::encodeFinite(
      {4, 3, tilus::DType::FloatSpecials::Finite}, false, m, e);
  if (wide > 0x7e)
    return sign | (satFinite ? 0x7e : 0x7f);
  return sign | uint8_t(wide);
}

inline double decodeE4m3(uint8_t b) {
  return tilus::decodeFormat({4, 3, tilus::DType::FloatSpecials::NaNOnly}, b);
}

inline float f16ToF32(uint16_t h) { return float(decodeFloat(h, kF16)); }
inline float bf16ToF32(uint16_t h) { return bitsToF32(uint32_t(h) << 16); }
inline uint16_t f32ToF16(float f, Rnd rnd = Rnd::Rn, bool sat = false) {
  return uint16_t(roundF64To(f, kF16, rnd, sat));
}
inline uint16_t f32ToBF16(float f, Rnd rnd = Rnd::Rn, bool sat = false) {
  return uint16_t(roundF64To(f, kBF16, rnd, sat));
}

/// Flushes a subnormal float to a zero of the same sign.
inline float ftz(float f) {
  if (std::fpclassify(f) == FP_SUBNORMAL)
    return std::signbit(f) ? -0.0f : 0.0f;
  return f;
}

} // namespace tilus::emu

#endif // TILUS_RUNTIME_EMU_FLOAT_H
