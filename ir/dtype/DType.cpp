//===- DType.cpp - Exact low-precision data types -------------------------===//
//
// Part of the tilus project.
//
//===----------------------------------------------------------------------===//
//
// Every conversion goes through `Exact`, the value of a code as
// (-1)^negative * significand * 2^exponent with a 64-bit significand, which
// holds every value of every type (and of double) without rounding. Rounding
// happens once, on integers, when an `Exact` becomes a code of the target.
//
//===----------------------------------------------------------------------===//

#include "ir/dtype/DType.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

using namespace tilus;

//===----------------------------------------------------------------------===//
// DType
//===----------------------------------------------------------------------===//

DType DType::boolean() {
  return DType(Kind::Bool, 8, 0, 0, FloatSpecials::Finite);
}

DType DType::signedInt(unsigned bits) {
  assert(isValidIntWidth(bits) && "no such integer width");
  return DType(Kind::SignedInt, bits, 0, 0, FloatSpecials::Finite);
}

DType DType::unsignedInt(unsigned bits) {
  assert(isValidIntWidth(bits) && "no such integer width");
  return DType(Kind::UnsignedInt, bits, 0, 0, FloatSpecials::Finite);
}

DType DType::smallFloat(unsigned exponentBits, unsigned mantissaBits) {
  assert(isValidSmallFloat(exponentBits, mantissaBits) && "no such float");
  FloatSpecials specials = FloatSpecials::Finite;
  if (exponentBits == 5)
    specials = FloatSpecials::IEEE;
  else if (exponentBits == 4 && mantissaBits == 3)
    specials = FloatSpecials::NaNOnly;
  return DType(Kind::Float, 1 + exponentBits + mantissaBits, exponentBits,
               mantissaBits, specials);
}

DType DType::f16() {
  return DType(Kind::Float, 16, 5, 10, FloatSpecials::IEEE);
}
DType DType::bf16() {
  return DType(Kind::Float, 16, 8, 7, FloatSpecials::IEEE);
}
DType DType::f32() {
  return DType(Kind::Float, 32, 8, 23, FloatSpecials::IEEE);
}

bool DType::isValidIntWidth(unsigned bits) {
  return (bits >= 1 && bits <= 8) || bits == 16 || bits == 32 || bits == 64;
}

bool DType::isValidSmallFloat(unsigned exponentBits, unsigned mantissaBits) {
  unsigned total = 1 + exponentBits + mantissaBits;
  return exponentBits >= 1 && exponentBits <= 5 && total >= 3 && total <= 8;
}

const std::vector<DType> &DType::all() {
  static const std::vector<DType> types = [] {
    std::vector<DType> result{boolean()};
    const unsigned intWidths[] = {1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64};
    for (unsigned bits : intWidths)
      result.push_back(signedInt(bits));
    for (unsigned bits : intWidths)
      result.push_back(unsignedInt(bits));
    for (unsigned total = 3; total <= 8; ++total)
      for (unsigned e = 1; e <= 5; ++e)
        if (e + 1 <= total && isValidSmallFloat(e, total - 1 - e))
          result.push_back(smallFloat(e, total - 1 - e));
    result.push_back(f16());
    result.push_back(bf16());
    result.push_back(f32());
    return result;
  }();
  return types;
}

std::vector<std::string> DType::allNames() {
  std::vector<std::string> names;
  for (DType type : all())
    names.push_back(type.name());
  return names;
}

std::string DType::name() const {
  switch (kindField) {
  case Kind::Bool:
    return "bool";
  case Kind::SignedInt:
    return "i" + std::to_string(bits);
  case Kind::UnsignedInt:
    return "u" + std::to_string(bits);
  case Kind::Float:
    break;
  }
  if (*this == f16())
    return "f16";
  if (*this == bf16())
    return "bf16";
  if (*this == f32())
    return "f32";
  return "f" + std::to_string(bits) + "e" + std::to_string(expBits) + "m" +
         std::to_string(manBits);
}

std::optional<DType> DType::parse(std::string_view name, std::string *error) {
  for (DType type : all())
    if (type.name() == name)
      return type;
  if (error) {
    std::string message =
        "unknown type '" + std::string(name) + "'; valid names: ";
    bool first = true;
    for (const std::string &valid : allNames()) {
      message += (first ? "" : ", ") + valid;
      first = false;
    }
    *error = message;
  }
  return std::nullopt;
}

uint64_t DType::codeMask() const {
  return bits == 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1;
}

int DType::exponentBias() const {
  return isFloat() ? (1 << (expBits - 1)) - 1 : 0;
}

bool DType::hasInfinity() const {
  return isFloat() && specials == FloatSpecials::IEEE;
}

bool DType::hasNaN() const {
  if (!isFloat() || specials == FloatSpecials::Finite)
    return false;
  // With no mantissa bits the IEEE all-ones exponent holds only infinities.
  return specials == FloatSpecials::NaNOnly || manBits > 0;
}

uint64_t DType::maxFiniteCode(bool negative) const {
  switch (kindField) {
  case Kind::Bool:
    return negative ? 0 : 1;
  case Kind::UnsignedInt:
    return negative ? 0 : codeMask();
  case Kind::SignedInt:
    return negative ? uint64_t(1) << (bits - 1) : codeMask() >> 1;
  case Kind::Float:
    break;
  }
  uint64_t allOnes = codeMask() >> 1;
  uint64_t code = allOnes;
  if (specials == FloatSpecials::NaNOnly)
    code = allOnes - 1;
  else if (specials == FloatSpecials::IEEE)
    code = allOnes - (uint64_t(1) << manBits);
  return negative ? code | uint64_t(1) << (bits - 1) : code;
}

uint64_t DType::infinityCode(bool negative) const {
  assert(hasInfinity() && "type has no infinity");
  uint64_t code = ((uint64_t(1) << expBits) - 1) << manBits;
  return negative ? code | uint64_t(1) << (bits - 1) : code;
}

uint64_t DType::nanCode() const {
  assert(hasNaN() && "type has no NaN");
  return codeMask() >> 1;
}

double DType::maxFinite() const { return decode(*this, maxFiniteCode()); }

double DType::lowest() const { return decode(*this, maxFiniteCode(true)); }

double DType::minNormal() const {
  return isFloat() ? decode(*this, uint64_t(1) << manBits) : 1.0;
}

double DType::minSubnormal() const {
  return isFloat() ? decode(*this, 1) : 1.0;
}

//===----------------------------------------------------------------------===//
// Exact values
//===----------------------------------------------------------------------===//

namespace {

/// (-1)^negative * significand * 2^exponent, or a zero, infinity or NaN.
struct Exact {
  ValueClass cls = ValueClass::Zero;
  bool negative = false;
  uint64_t significand = 0;
  int exponent = 0;
};

constexpr FloatFormat doubleFormat{11, 52, DType::FloatSpecials::IEEE};

int biasOf(const FloatFormat &format) {
  return (1 << (format.exponentBits - 1)) - 1;
}

int msbIndex(uint64_t value) { return 63 - __builtin_clzll(value); }

Exact unpackFloat(uint64_t code, const FloatFormat &format) {
  unsigned m = format.mantissaBits, e = format.exponentBits;
  uint64_t mantissa = code & ((uint64_t(1) << m) - 1);
  uint64_t expField = (code >> m) & ((uint64_t(1) << e) - 1);
  uint64_t expOnes = (uint64_t(1) << e) - 1;
  Exact value;
  value.negative = (code >> (m + e)) & 1;
  if (expField == expOnes) {
    if (format.specials == DType::FloatSpecials::IEEE) {
      value.cls = mantissa == 0 ? ValueClass::Infinity : ValueClass::NaN;
      return value;
    }
    if (format.specials == DType::FloatSpecials::NaNOnly &&
        mantissa == (uint64_t(1) << m) - 1) {
      value.cls = ValueClass::NaN;
      return value;
    }
  }
  int minExponent = 1 - biasOf(format);
  if (expField == 0) {
    value.cls = mantissa == 0 ? ValueClass::Zero : ValueClass::Finite;
    value.significand = mantissa;
    value.exponent = minExponent - int(m);
    return value;
  }
  value.cls = ValueClass::Finite;
  value.significand = mantissa | uint64_t(1) << m;
  value.exponent = int(expField) - biasOf(format) - int(m);
  return value;
}

Exact unpack(DType type, uint64_t code) {
  code &= type.codeMask();
  Exact value;
  switch (type.kind()) {
  case DType::Kind::Bool:
  case DType::Kind::UnsignedInt:
    value.significand = type.isBool() ? code != 0 : code;
    break;
  case DType::Kind::SignedInt: {
    uint64_t signBit = uint64_t(1) << (type.bitWidth() - 1);
    value.negative = code & signBit;
    // Two's complement magnitude; 2^63 for the most negative i64 fits.
    value.significand = value.negative ? (type.codeMask() & (0 - code)) : code;
    break;
  }
  case DType::Kind::Float:
    return unpackFloat(code, formatOf(type));
  }
  value.cls = value.significand == 0 ? ValueClass::Zero : ValueClass::Finite;
  return value;
}

/// Rounds `value` to `format` by `rounding`, as an encoding of `bits` total
/// bits (sign included).
uint64_t packFloat(const Exact &value, const FloatFormat &format, unsigned bits,
                   Overflow overflow, Rounding rounding) {
  unsigned m = format.mantissaBits, e = format.exponentBits;
  uint64_t signBit = uint64_t(1) << (bits - 1);
  uint64_t sign = value.negative ? signBit : 0;
  uint64_t expOnes = (uint64_t(1) << e) - 1;
  uint64_t mantOnes = (uint64_t(1) << m) - 1;
  bool hasInf = format.specials == DType::FloatSpecials::IEEE;
  bool hasNaN =
      format.specials == DType::FloatSpecials::NaNOnly || (hasInf && m > 0);

  // The largest finite encoding, by the meaning of the all-ones exponent.
  uint64_t maxExpField = hasInf ? expOnes - 1 : expOnes;
  uint64_t maxMantissa = format.specials == DType::FloatSpecials::NaNOnly
                             ? mantOnes - 1
                             : mantOnes;
  uint64_t maxFinite = maxExpField << m | maxMantissa;
  uint64_t infinity = expOnes << m;

  switch (value.cls) {
  case ValueClass::NaN:
    return hasNaN ? (signBit - 1) : maxFinite;
  case ValueClass::Infinity:
    return sign | (hasInf ? infinity : maxFinite);
  case ValueClass::Zero:
    return sign;
  case ValueClass::Finite:
    break;
  }

  int minExponent = 1 - biasOf(format);
  int top = msbIndex(value.significand) + value.exponent;
  // The weight of the last mantissa bit at the value's binade.
  int quantum = std::max(top, minExponent) - int(m);
  int shift = quantum - value.exponent;
  uint64_t rounded;
  if (shift <= 0) {
    rounded = value.significand << -shift;
  } else {
    uint64_t kept = shift >= 64 ? 0 : value.significand >> shift;
    uint64_t rest =
        shift >= 64 ? value.significand : value.significand - (kept << shift);
    bool above, tie;
    if (shift > 64) {
      above = tie = false;
    } else {
      uint64_t half = uint64_t(1) << (shift - 1);
      above = rest > half;
      tie = rest == half;
    }
    bool up = false;
    switch (rounding) {
    case Rounding::NearestEven: {
      // Ties go to the even code. With mantissa bits that is the even
      // significand; without, the code's last bit is the exponent's.
      bool oddCode = m == 0 && kept != 0
                         ? ((long(quantum) + biasOf(format)) & 1) != 0
                         : (kept & 1) != 0;
      up = above || (tie && oddCode);
      break;
    }
    case Rounding::NearestAway:
      up = above || tie;
      break;
    case Rounding::TowardZero:
      break;
    case Rounding::Down:
      up = value.negative && rest != 0;
      break;
    case Rounding::Up:
      up = !value.negative && rest != 0;
      break;
    }
    rounded = kept + (up ? 1 : 0);
  }
  if (rounded == 0)
    return sign;
  if (rounded >> (m + 1)) {
    rounded >>= 1;
    ++quantum;
  }
  uint64_t expField, mantissa;
  if (rounded >> m) {
    long biased = long(quantum) + long(m) + biasOf(format);
    mantissa = rounded & mantOnes;
    if (biased > long(maxExpField) ||
        (uint64_t(biased) == maxExpField && mantissa > maxMantissa)) {
      bool away = rounding == Rounding::NearestEven ||
                  rounding == Rounding::NearestAway ||
                  (rounding == Rounding::Up && !value.negative) ||
                  (rounding == Rounding::Down && value.negative);
      bool toInfinity = overflow == Overflow::Infinity && hasInf && away;
      return sign | (toInfinity ? infinity : maxFinite);
    }
    expField = uint64_t(biased);
  } else {
    expField = 0;
    mantissa = rounded;
  }
  return sign | expField << m | mantissa;
}

/// The code of `value` in the integer `type`: truncated and saturated when
/// `saturate`, else the low bits of its two's complement form.
uint64_t packInteger(const Exact &value, DType type, bool saturate) {
  if (type.isBool())
    return value.cls != ValueClass::Zero;
  if (value.cls == ValueClass::NaN)
    return 0;
  uint64_t mask = type.codeMask();
  uint64_t maxPositive = type.maxFiniteCode();
  uint64_t maxNegative =
      type.isSigned() ? uint64_t(1) << (type.bitWidth() - 1) : 0;
  uint64_t limit = value.negative ? maxNegative : maxPositive;
  if (value.cls == ValueClass::Infinity)
    return value.negative ? (0 - limit) & mask : limit;
  if (value.cls == ValueClass::Zero)
    return 0;

  // Truncate toward zero; `huge` means the magnitude needs more than 64 bits.
  uint64_t magnitude;
  bool huge = false;
  if (value.exponent >= 0) {
    huge = msbIndex(value.significand) + value.exponent >= 64;
    magnitude = huge ? 0 : value.significand << value.exponent;
  } else {
    magnitude =
        value.exponent <= -64 ? 0 : value.significand >> -value.exponent;
  }
  if (saturate && (huge || magnitude > limit))
    magnitude = limit;
  return (value.negative ? 0 - magnitude : magnitude) & mask;
}

uint64_t pack(const Exact &value, DType type, bool fromFloat,
              Overflow overflow) {
  if (type.isFloat())
    return packFloat(value, formatOf(type), type.bitWidth(), overflow,
                     Rounding::NearestEven);
  return packInteger(value, type, fromFloat);
}

uint64_t doubleBits(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

} // namespace

//===----------------------------------------------------------------------===//
// Conversions
//===----------------------------------------------------------------------===//

ValueClass tilus::classify(DType type, uint64_t code) {
  return unpack(type, code).cls;
}

namespace {

double valueOf(const Exact &value) {
  double magnitude = 0.0;
  switch (value.cls) {
  case ValueClass::NaN:
    return std::numeric_limits<double>::quiet_NaN();
  case ValueClass::Infinity:
    magnitude = std::numeric_limits<double>::infinity();
    break;
  case ValueClass::Zero:
    break;
  case ValueClass::Finite:
    // Exact: every significand here has at most 53 bits except those of
    // 64-bit integers, which the conversion to double rounds to nearest even.
    magnitude = std::ldexp(double(value.significand), value.exponent);
    break;
  }
  return value.negative ? -magnitude : magnitude;
}

} // namespace

FloatFormat tilus::formatOf(DType type) {
  assert(type.isFloat() && "not a float type");
  return {type.exponentBits(), type.mantissaBits(), type.floatSpecials()};
}

double tilus::decode(DType type, uint64_t code) {
  if (type.isFloat())
    return decodeFormat(formatOf(type), code);
  return valueOf(unpack(type, code));
}

uint64_t tilus::encodeFinite(FloatFormat format, bool negative,
                             uint64_t significand, int exponent,
                             Rounding rounding, Overflow overflow) {
  Exact value;
  value.cls = significand == 0 ? ValueClass::Zero : ValueClass::Finite;
  value.negative = negative;
  value.significand = significand;
  value.exponent = exponent;
  return packFloat(value, format, 1 + format.exponentBits + format.mantissaBits,
                   overflow, rounding);
}

uint64_t tilus::encode(DType type, double value, Overflow overflow) {
  Exact exact = unpackFloat(doubleBits(value), doubleFormat);
  return pack(exact, type, /*fromFloat=*/true, overflow);
}

uint64_t tilus::convert(uint64_t code, DType from, DType to,
                        Overflow overflow) {
  return pack(unpack(from, code), to, from.isFloat(), overflow);
}

//===----------------------------------------------------------------------===//
// Packing
//===----------------------------------------------------------------------===//

size_t tilus::packedSize(size_t count, unsigned bits) {
  return (count * bits + 7) / 8;
}

uint64_t tilus::getPacked(const uint8_t *in, size_t index, unsigned bits) {
  assert(bits >= 1 && bits <= 64 && "element width out of range");
  size_t bit = index * bits;
  uint64_t result = 0;
  unsigned done = 0;
  while (done < bits) {
    size_t byte = (bit + done) / 8;
    unsigned offset = (bit + done) % 8;
    unsigned take = std::min(8 - offset, bits - done);
    uint64_t chunk = (in[byte] >> offset) & ((1u << take) - 1);
    result |= chunk << done;
    done += take;
  }
  return result;
}

void tilus::setPacked(uint8_t *out, size_t index, unsigned bits,
                      uint64_t code) {
  assert(bits >= 1 && bits <= 64 && "element width out of range");
  size_t bit = index * bits;
  unsigned done = 0;
  while (done < bits) {
    size_t byte = (bit + done) / 8;
    unsigned offset = (bit + done) % 8;
    unsigned take = std::min(8 - offset, bits - done);
    unsigned mask = ((1u << take) - 1) << offset;
    unsigned chunk = unsigned((code >> done) << offset) & mask;
    out[byte] = uint8_t((out[byte] & ~mask) | chunk);
    done += take;
  }
}

void tilus::packBits(const uint64_t *codes, size_t count, unsigned bits,
                     uint8_t *out) {
  std::fill(out, out + packedSize(count, bits), uint8_t(0));
  for (size_t i = 0; i < count; ++i)
    setPacked(out, i, bits, codes[i]);
}

void tilus::unpackBits(const uint8_t *in, size_t count, unsigned bits,
                       uint64_t *codes) {
  for (size_t i = 0; i < count; ++i)
    codes[i] = getPacked(in, i, bits);
}

std::vector<uint8_t> tilus::packBits(const std::vector<uint64_t> &codes,
                                     unsigned bits) {
  std::vector<uint8_t> out(packedSize(codes.size(), bits));
  packBits(codes.data(), codes.size(), bits, out.data());
  return out;
}

std::vector<uint64_t> tilus::unpackBits(const std::vector<uint8_t> &in,
                                        size_t count, unsigned bits) {
  assert(in.size() >= packedSize(count, bits) && "packed input too short");
  std::vector<uint64_t> codes(count);
  unpackBits(in.data(), count, bits, codes.data());
  return codes;
}
