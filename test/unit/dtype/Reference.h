//===- Reference.h - Independent model of the dtype value sets --*- C++ -*-===//
//
// Part of the tilus project.
//
//===----------------------------------------------------------------------===//
//
// The tests' own model of every type, written from the format definitions and
// not from the library: the value of each code from its sign, exponent and
// mantissa fields, and rounding as a search for the nearest value in the
// whole value set. The library is checked against it.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_TEST_UNIT_DTYPE_REFERENCE_H
#define TILUS_TEST_UNIT_DTYPE_REFERENCE_H

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace tilus::reference {

/// What the all-ones exponent field means.
enum class Specials { Finite, NaNAtAllOnes, IEEE };

/// A float format as the specification states it.
struct Format {
  std::string name;
  int exponentBits;
  int mantissaBits;
  Specials specials;

  int bits() const { return 1 + exponentBits + mantissaBits; }
  int bias() const { return (1 << (exponentBits - 1)) - 1; }
};

/// Every float format: f<1+E+M>e<E>m<M> for 1 <= E <= 5, 3 <= 1+E+M <= 8,
/// then f16, bf16 and f32.
inline std::vector<Format> allFormats() {
  std::vector<Format> formats;
  for (int e = 1; e <= 5; ++e)
    for (int m = 0; 1 + e + m <= 8; ++m) {
      if (1 + e + m < 3)
        continue;
      Specials specials = Specials::Finite;
      if (e == 5)
        specials = Specials::IEEE;
      if (e == 4 && m == 3)
        specials = Specials::NaNAtAllOnes;
      formats.push_back({"f" + std::to_string(1 + e + m) + "e" +
                             std::to_string(e) + "m" + std::to_string(m),
                         e, m, specials});
    }
  formats.push_back({"f16", 5, 10, Specials::IEEE});
  formats.push_back({"bf16", 8, 7, Specials::IEEE});
  formats.push_back({"f32", 8, 23, Specials::IEEE});
  return formats;
}

inline Format formatNamed(const std::string &name) {
  for (const Format &format : allFormats())
    if (format.name == name)
      return format;
  assert(false && "no such format");
  return {};
}

/// The value of `code`: (-1)^s * 2^(e - bias) * (1 + m / 2^M) for e > 0 and
/// (-1)^s * 2^(1 - bias) * (m / 2^M) for e == 0, unless the all-ones
/// exponent denotes inf or NaN.
inline double decode(const Format &f, uint64_t code) {
  uint64_t mantissaCount = uint64_t(1) << f.mantissaBits;
  uint64_t exponentCount = uint64_t(1) << f.exponentBits;
  uint64_t m = code % mantissaCount;
  uint64_t e = (code / mantissaCount) % exponentCount;
  bool negative = (code / mantissaCount / exponentCount) % 2 == 1;
  double sign = negative ? -1.0 : 1.0;
  if (e == exponentCount - 1) {
    if (f.specials == Specials::IEEE)
      return m == 0 ? sign * std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::quiet_NaN();
    if (f.specials == Specials::NaNAtAllOnes && m == mantissaCount - 1)
      return std::numeric_limits<double>::quiet_NaN();
  }
  double fraction = double(m) / double(mantissaCount);
  if (e == 0)
    return sign * std::pow(2.0, 1 - f.bias()) * fraction;
  return sign * std::pow(2.0, double(e) - f.bias()) * (1.0 + fraction);
}

/// The value set of a format of at most 16 bits, for nearest-value search.
struct ValueSet {
  Format format;
  /// Values of the non-negative finite codes, ascending; index == code.
  std::vector<double> values;
  /// The virtual code after the largest finite one and its value: the next
  /// value of the top binade, where rounding overflows.
  double overflowValue;
  bool hasInfinity = false;
  bool hasNaN = false;
  uint64_t infinityCode = 0;
  uint64_t nanCode = 0;

  explicit ValueSet(const Format &f) : format(f) {
    assert(f.bits() <= 16 && "value set too large");
    uint64_t signBit = uint64_t(1) << (f.bits() - 1);
    for (uint64_t code = 0; code < signBit; ++code) {
      double value = decode(f, code);
      if (std::isnan(value)) {
        hasNaN = true;
        continue;
      }
      if (std::isinf(value)) {
        hasInfinity = true;
        infinityCode = code;
        continue;
      }
      if (values.size() == code)
        values.push_back(value);
    }
    // The all-ones-but-sign code is the canonical NaN (assumed by the spec).
    nanCode = signBit - 1;
    // The largest value's binade spacing: max = (2 - k ulp) * 2^emax.
    double max = values.back();
    double ulp =
        f.mantissaBits == 0
            ? max
            : std::pow(2.0, std::floor(std::log2(max)) - f.mantissaBits);
    overflowValue = max + ulp;
  }

  uint64_t signBit() const { return uint64_t(1) << (format.bits() - 1); }
  uint64_t maxCode() const { return values.size() - 1; }

  /// Rounds `x` to the nearest value, ties to the even code; beyond the
  /// range saturates, or gives inf when `overflowToInf` and there is one.
  uint64_t round(double x, bool overflowToInf = false) const {
    uint64_t sign = std::signbit(x) ? signBit() : 0;
    if (std::isnan(x))
      return hasNaN ? nanCode : maxCode();
    if (std::isinf(x))
      return sign | (hasInfinity ? infinityCode : maxCode());
    double a = std::fabs(x);
    uint64_t chosen;
    if (a >= overflowValue) {
      chosen = maxCode() + 1;
    } else {
      // Neighbours lower <= a < upper, where upper may be the overflow value.
      size_t upper =
          std::upper_bound(values.begin(), values.end(), a) - values.begin();
      size_t lower = upper - 1;
      double upperValue =
          upper == values.size() ? overflowValue : values[upper];
      double mid = (values[lower] + upperValue) / 2; // Exact: few bits.
      if (a < mid)
        chosen = lower;
      else if (a > mid)
        chosen = upper;
      else
        chosen = (lower % 2 == 0) ? lower : upper;
    }
    if (chosen > maxCode())
      return sign | (overflowToInf && hasInfinity ? infinityCode : maxCode());
    return sign | chosen;
  }
};

inline float floatFromBits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

inline uint32_t bitsOfFloat(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

} // namespace tilus::reference

#endif // TILUS_TEST_UNIT_DTYPE_REFERENCE_H
