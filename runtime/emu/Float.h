//===- Float.h - Bit-exact float formats for the emulator -------*- C++ -*-===//
//
// Conversions between the float formats PTX uses (f64, f32, f16, bf16) with
// every rounding mode, done on integers so that they are exact and do not
// depend on the host's rounding state.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_EMU_FLOAT_H
#define TILUS_RUNTIME_EMU_FLOAT_H

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
  int biasOverride = -1; ///< Exponent bias, when not 2^(ebits-1) - 1.
  int bias() const {
    return biasOverride >= 0 ? biasOverride : (1 << (ebits - 1)) - 1;
  }
  uint64_t signBit() const { return 1ull << (ebits + mbits); }
  uint64_t maxFinite() const {
    return ((((1ull << ebits) - 2)) << mbits) | ((1ull << mbits) - 1);
  }
  uint64_t inf() const { return ((1ull << ebits) - 1) << mbits; }
  /// The canonical NaN PTX produces: all exponent and fraction bits set.
  uint64_t canonicalNan() const { return ((1ull << (ebits + mbits)) - 1); }
};
constexpr FloatFormat kF16{5, 10};
constexpr FloatFormat kBF16{8, 7};
constexpr FloatFormat kF32{8, 23};
constexpr FloatFormat kF64{11, 52};

/// Encodes (-1)^sign * m * 2^e (m < 2^63) in \p fmt, rounded by \p rnd
/// (Rn/Rz/Rm/Rp or the integer variants, treated alike); \p satFinite turns
/// overflow into the largest finite value.
inline uint64_t encodeFloat(bool sign, uint64_t m, int e, FloatFormat fmt,
                            Rnd rnd, bool satFinite) {
  uint64_t s = sign ? fmt.signBit() : 0;
  if (m == 0)
    return s;
  int p = 63 - __builtin_clzll(m);
  int bigE = p + e;
  int bias = fmt.bias();
  int emin = 1 - bias;
  int qe = (bigE < emin ? emin : bigE) - fmt.mbits; // quantum exponent
  int shift = qe - e;
  uint64_t q;
  bool up = false;
  if (shift <= 0) {
    q = m << (-shift);
  } else {
    uint64_t rem;
    bool half, above;
    if (shift >= 64) {
      q = 0;
      rem = m;
      half = false;
      above = false; // m < 2^63 <= 2^(shift-1): below half, nonzero
    } else {
      q = m >> shift;
      rem = m & ((1ull << shift) - 1);
      uint64_t h = 1ull << (shift - 1);
      half = rem == h;
      above = rem > h;
    }
    switch (rnd) {
    case Rnd::Rz:
    case Rnd::Rzi:
      break;
    case Rnd::Rm:
    case Rnd::Rmi:
      up = sign && rem != 0;
      break;
    case Rnd::Rp:
    case Rnd::Rpi:
      up = !sign && rem != 0;
      break;
    case Rnd::Rna:
      up = above || half;
      break;
    default:
      up = above || (half && (q & 1));
      break;
    }
  }
  if (up)
    ++q;
  uint64_t bits;
  if (qe == emin - fmt.mbits && q <= (1ull << fmt.mbits)) {
    bits = q; // subnormal, or rounded up into the smallest normal
  } else {
    if (q >= (2ull << fmt.mbits)) {
      q >>= 1;
      ++qe;
    }
    int biased = qe + fmt.mbits + bias;
    if (biased >= (1 << fmt.ebits) - 1) {
      bool toInf;
      switch (rnd) {
      case Rnd::Rz:
      case Rnd::Rzi:
        toInf = false;
        break;
      case Rnd::Rm:
      case Rnd::Rmi:
        toInf = sign;
        break;
      case Rnd::Rp:
      case Rnd::Rpi:
        toInf = !sign;
        break;
      default:
        toInf = true;
      }
      if (satFinite)
        toInf = false;
      return s | (toInf ? fmt.inf() : fmt.maxFinite());
    }
    bits = (uint64_t(biased) << fmt.mbits) | (q & ((1ull << fmt.mbits) - 1));
  }
  return s | bits;
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

/// Decodes \p bits of \p fmt exactly into a double.
inline double decodeFloat(uint64_t bits, FloatFormat fmt) {
  bool sign = bits & fmt.signBit();
  uint64_t ex = (bits >> fmt.mbits) & ((1ull << fmt.ebits) - 1);
  uint64_t man = bits & ((1ull << fmt.mbits) - 1);
  int bias = fmt.bias();
  double v;
  if (ex == (1ull << fmt.ebits) - 1)
    v = man ? std::nan("") : INFINITY;
  else if (ex == 0)
    v = std::ldexp(double(man), 1 - bias - fmt.mbits);
  else
    v = std::ldexp(double(man | (1ull << fmt.mbits)),
                   int(ex) - bias - fmt.mbits);
  return sign ? -v : v;
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
  // Encode with a wider exponent field and the e4m3 bias, then check the
  // e4m3 range.
  uint64_t wide =
      roundF64To(std::fabs(x), FloatFormat{5, 3, 7}, Rnd::Rn, false);
  if (wide > 0x7e)
    return sign | (satFinite ? 0x7e : 0x7f);
  return sign | uint8_t(wide);
}

inline double decodeE4m3(uint8_t b) {
  if ((b & 0x7f) == 0x7f)
    return std::nan("");
  // A wider exponent field, so that exponent 15 is an ordinary exponent.
  double v = decodeFloat(b & 0x7f, FloatFormat{5, 3, 7});
  return (b & 0x80) ? -v : v;
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
