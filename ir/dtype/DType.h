//===- DType.h - Exact low-precision data types -----------------*- C++ -*-===//
//
// Part of the tilus project.
//
//===----------------------------------------------------------------------===//
//
// The element types of tilus and exact conversions between them.
//
// A `DType` names a bit-level encoding of numbers. A value of a type is held as
// its *code*: the unsigned integer made of the type's `bitWidth()` bits, kept
// in the low bits of a `uint64_t`. The library turns codes into the numbers
// they denote (`decode`), numbers into codes (`encode`), and codes of one type
// into codes of another (`convert`), with every rounding decision defined, so
// the emulator, the reference interpreter, the tools and the tests agree on
// every bit.
//
// Types
// -----
//   bool                 one byte, 0 is false and any other code is true
//   i1..i8 i16 i32 i64   two's complement integers
//   u1..u8 u16 u32 u64   unsigned integers
//   f<B>e<E>m<M>         B = 1 + E + M bits: sign, E exponent bits, M mantissa
//                        bits; every 1 <= E <= 5, M >= 0 with 3 <= B <= 8
//   f16 bf16 f32         IEEE-754 binary16, bfloat16, IEEE-754 binary32
//
// A float code is the fields `sign | exponent | mantissa`, mantissa in the low
// bits. With bias = 2^(E-1) - 1, an exponent field e > 0 denotes
// (-1)^sign * 1.mantissa * 2^(e - bias), and e == 0 denotes the subnormal
// (-1)^sign * 0.mantissa * 2^(1 - bias). The all-ones exponent field depends
// on the format's `FloatSpecials`:
//   - `Finite` (every eXmY with E <= 4 except f8e4m3): an ordinary binade; the
//     format has no infinity and no NaN.
//   - `NaNOnly` (f8e4m3, the OCP "E4M3FN" encoding): only S.1111.111 is NaN;
//     there is no infinity and the largest finite value is 448.
//   - `IEEE` (E == 5 formats, f16, bf16, f32): mantissa 0 is infinity, any
//     other mantissa is NaN. f6e5m0 has infinities but no NaN code.
//
// Worked examples
// ---------------
// f4e2m1 (bias 1) has the eight magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6:
//   code 0b0001 = 0.1b * 2^0 = 0.5   (subnormal)
//   code 0b0011 = 1.1b * 2^0 = 1.5
//   code 0b0111 = 1.1b * 2^2 = 6     (all-ones exponent, still finite)
//   code 0b1101 = -(1.0b * 2^2) = -4
// f8e4m3 (bias 7): 0x7e = 1.110b * 2^8 = 448, 0x7f and 0xff are NaN.
// f8e5m2 (bias 15): 0x7b = 1.11b * 2^15 = 57344, 0x7c = +inf, 0x7d..0x7f NaN.
//
// Conversions
// -----------
// Every conversion is computed on integers from the exact value of the source
// code, never through an intermediate type, so there is no double rounding:
//   - to a float type: round to nearest, ties to even: of the two nearest
//     codes, the one whose last bit is 0 (the even mantissa; for the M = 0
//     formats, the even exponent field). A finite value beyond the largest
//     finite value becomes +-max finite (PTX `.satfinite`) under the default
//     `Overflow::Saturate`; under `Overflow::Infinity` it becomes +-inf
//     where the target has infinities (IEEE `cvt.rn`). +-inf becomes
//     +-inf where the target has it, else +-max finite. NaN becomes the
//     target's canonical NaN (sign 0, every other bit 1: 0x7fff for f16,
//     0x7fffffff for f32, 0x7f for f8e4m3 and f8e5m2) where the target has
//     NaN, else +max finite. Zero keeps its sign, and so does a value that
//     rounds to zero.
//   - float to integer: truncation toward zero, then saturation to the
//     target's range; NaN becomes 0 (PTX `cvt.rzi.sat`).
//   - integer to integer: the low bits of the two's complement value are kept
//     (wrap), so widening preserves the value and narrowing wraps.
//   - to bool: any nonzero value, and NaN, is true (code 1); bool is 0 or 1
//     as a source.
// Example: 7.0 -> f4e2m1 is halfway between 6 and 8 and ties to 8, which
// overflows: the result is 6 (code 0b0111). 0.25 -> f4e2m1 is halfway
// between 0 and 0.5 and ties to 0 (code 0b0000), -0.25 to -0 (0b1000).
//
// Packing
// -------
// Arrays are densely bit-packed, LSB first: element i occupies bits
// [i * n, (i + 1) * n) of a little-endian byte stream, so u4 elements 0x1, 0x2
// pack into the byte 0x21. `packBits` and `unpackBits` handle any width from
// 1 to 64 bits and any element count; padding bits of the last byte are 0.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_IR_DTYPE_DTYPE_H
#define TILUS_IR_DTYPE_DTYPE_H

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tilus {

/// An element type: a small value type, compared and hashed by its encoding.
class DType {
public:
  enum class Kind : uint8_t { Bool, SignedInt, UnsignedInt, Float };

  /// What the all-ones exponent field of a float format means.
  enum class FloatSpecials : uint8_t {
    /// An ordinary finite binade: no infinity, no NaN.
    Finite,
    /// Only the all-ones exponent with the all-ones mantissa is NaN (E4M3FN).
    NaNOnly,
    /// Mantissa 0 is infinity, any other mantissa is NaN (IEEE-754).
    IEEE,
  };

  /// The one-byte boolean type.
  static DType boolean();
  /// Two's complement integer of `bits` in 1..8, 16, 32 or 64.
  /// @pre `isValidIntWidth(bits)`
  static DType signedInt(unsigned bits);
  /// Unsigned integer of `bits` in 1..8, 16, 32 or 64.
  /// @pre `isValidIntWidth(bits)`
  static DType unsignedInt(unsigned bits);
  /// The float f<1+E+M>e<E>m<M>.
  /// @pre `isValidSmallFloat(exponentBits, mantissaBits)`
  static DType smallFloat(unsigned exponentBits, unsigned mantissaBits);
  static DType f16();
  static DType bf16();
  static DType f32();

  /// Whether `bits` is the width of an integer type.
  static bool isValidIntWidth(unsigned bits);
  /// Whether f<1+E+M>e<E>m<M> is a type: 1 <= E <= 5, 3 <= 1+E+M <= 8.
  static bool isValidSmallFloat(unsigned exponentBits, unsigned mantissaBits);

  /// Parses a type name ("u4", "f6e3m2", "bf16", ...). On failure returns
  /// std::nullopt and, when `error` is given, stores a one-line message that
  /// names the valid types.
  static std::optional<DType> parse(std::string_view name,
                                    std::string *error = nullptr);
  /// Every type, in the order of `--list`: bool, signed, unsigned, floats.
  static const std::vector<DType> &all();
  /// The names of `all()`, in the same order.
  static std::vector<std::string> allNames();

  /// The canonical name, the inverse of `parse`.
  std::string name() const;
  Kind kind() const { return kindField; }
  /// Bits of one element; the code of a value is that many low bits.
  unsigned bitWidth() const { return bits; }
  /// The mask of the code's bits.
  uint64_t codeMask() const;

  bool isBool() const { return kindField == Kind::Bool; }
  /// Signed or unsigned integer (bool is not an integer).
  bool isInteger() const {
    return kindField == Kind::SignedInt || kindField == Kind::UnsignedInt;
  }
  bool isFloat() const { return kindField == Kind::Float; }
  /// Floats and two's complement integers are signed.
  bool isSigned() const {
    return kindField == Kind::SignedInt || kindField == Kind::Float;
  }

  /// Exponent field bits of a float; 0 for the other kinds.
  unsigned exponentBits() const { return expBits; }
  /// Mantissa field bits of a float (without the implicit bit); 0 otherwise.
  unsigned mantissaBits() const { return manBits; }
  /// 2^(E-1) - 1 for a float; 0 otherwise.
  int exponentBias() const;
  /// The meaning of the all-ones exponent; `Finite` for non-floats.
  FloatSpecials floatSpecials() const { return specials; }
  bool hasInfinity() const;
  bool hasNaN() const;

  /// The largest finite value: for i64 and u64 the nearest double.
  double maxFinite() const;
  /// The most negative finite value (0 for unsigned and bool).
  double lowest() const;
  /// The smallest positive normal value of a float; 1 for integers and bool.
  double minNormal() const;
  /// The smallest positive value: the smallest subnormal of a float (the
  /// smallest normal when it has no mantissa bits); 1 for integers and bool.
  double minSubnormal() const;

  /// The code of the largest finite value, or of its negation.
  uint64_t maxFiniteCode(bool negative = false) const;
  /// The code of +-inf. @pre `hasInfinity()`
  uint64_t infinityCode(bool negative = false) const;
  /// The canonical NaN: sign 0 and every other bit 1. @pre `hasNaN()`
  uint64_t nanCode() const;

  friend bool operator==(DType a, DType b) {
    return a.kindField == b.kindField && a.bits == b.bits &&
           a.expBits == b.expBits && a.manBits == b.manBits &&
           a.specials == b.specials;
  }
  friend bool operator!=(DType a, DType b) { return !(a == b); }
  /// An arbitrary strict total order, for ordered containers.
  friend bool operator<(DType a, DType b) { return a.key() < b.key(); }

  /// A 40-bit summary that identifies the type; the basis of == and hash.
  uint64_t key() const {
    return uint64_t(kindField) | uint64_t(bits) << 8 | uint64_t(expBits) << 16 |
           uint64_t(manBits) << 24 | uint64_t(specials) << 32;
  }

private:
  DType(Kind kind, unsigned bits, unsigned expBits, unsigned manBits,
        FloatSpecials specials)
      : kindField(kind), bits(bits), expBits(expBits), manBits(manBits),
        specials(specials) {}

  Kind kindField;
  uint8_t bits;
  uint8_t expBits;
  uint8_t manBits;
  FloatSpecials specials;
};

/// What a finite value beyond a float target's range becomes.
enum class Overflow {
  /// +-max finite in every format (PTX `.satfinite`).
  Saturate,
  /// +-inf where the target has infinities, else +-max finite (IEEE `cvt.rn`).
  Infinity,
};

/// How a value between two codes of a float target is rounded.
enum class Rounding {
  /// To the nearer code, ties to the even one (the rule of this header).
  NearestEven,
  /// To the nearer code, ties away from zero.
  NearestAway,
  TowardZero,
  /// Toward -inf.
  Down,
  /// Toward +inf.
  Up,
};

/// The shape of a float encoding: a float type's (`formatOf`), or one that
/// is no type, such as double's {11, 52, IEEE}. The code is `sign | exponent |
/// mantissa` as for the float types, with bias 2^(E-1) - 1.
struct FloatFormat {
  unsigned exponentBits;
  unsigned mantissaBits;
  DType::FloatSpecials specials;
};

/// The format of the float `type`. @pre `type.isFloat()`
FloatFormat formatOf(DType type);

/// The class of the value a code denotes.
enum class ValueClass { Zero, Finite, Infinity, NaN };

/// The class of `code`'s value in `type` (Finite means finite and nonzero).
ValueClass classify(DType type, uint64_t code);
/// Whether `code` is a NaN of `type`.
inline bool isNaN(DType type, uint64_t code) {
  return classify(type, code) == ValueClass::NaN;
}

/// The value of `code`. Exact for every type except i64 and u64 magnitudes
/// above 2^53, which round to nearest even. NaN codes give a quiet NaN; bits
/// of `code` above the type's width are ignored.
double decode(DType type, uint64_t code);

/// The code nearest to `value` under the conversion rules of this header, as
/// if `value` were a code of a 64-bit IEEE float.
uint64_t encode(DType type, double value,
                Overflow overflow = Overflow::Saturate);

/// Converts `code` of type `from` into a code of type `to`, exactly by the
/// conversion rules of this header.
uint64_t convert(uint64_t code, DType from, DType to,
                 Overflow overflow = Overflow::Saturate);

/// The code of (-1)^negative * significand * 2^exponent in `format`, rounded
/// by `rounding`: the one rounding step of every conversion to a float. Under
/// `Overflow::Infinity`, a value beyond the largest finite one becomes +-inf
/// only where `rounding` rounds away from zero on its side (nearest, Up for
/// positive values, Down for negative ones), else +-max finite, as in
/// IEEE-754.
uint64_t encodeFinite(FloatFormat format, bool negative, uint64_t significand,
                      int exponent, Rounding rounding = Rounding::NearestEven,
                      Overflow overflow = Overflow::Saturate);

/// The value of `code` in `format`, exact for formats no wider than double;
/// NaN codes give a quiet NaN. Inline, and without libm: the emulator decodes
/// every element of its matrix operands.
inline double decodeFormat(FloatFormat format, uint64_t code) {
  unsigned m = format.mantissaBits, e = format.exponentBits;
  uint64_t mantissa = code & ((uint64_t(1) << m) - 1);
  uint64_t expField = (code >> m) & ((uint64_t(1) << e) - 1);
  uint64_t expOnes = (uint64_t(1) << e) - 1;
  bool negative = (code >> (m + e)) & 1;
  double magnitude;
  if (expField == expOnes && format.specials == DType::FloatSpecials::IEEE) {
    if (mantissa != 0)
      return std::numeric_limits<double>::quiet_NaN();
    magnitude = std::numeric_limits<double>::infinity();
  } else if (expField == expOnes &&
             format.specials == DType::FloatSpecials::NaNOnly &&
             mantissa == (uint64_t(1) << m) - 1) {
    return std::numeric_limits<double>::quiet_NaN();
  } else {
    // significand * 2^power, both exact doubles, so the product is exact.
    int bias = (1 << (e - 1)) - 1;
    uint64_t significand =
        expField == 0 ? mantissa : mantissa | uint64_t(1) << m;
    int power = int(expField == 0 ? 1 : expField) - bias - int(m);
    uint64_t powerBits = power >= -1022 ? uint64_t(power + 1023) << 52
                                        : uint64_t(1) << (power + 1074);
    double scale;
    std::memcpy(&scale, &powerBits, sizeof(scale));
    magnitude = double(significand) * scale;
  }
  return negative ? -magnitude : magnitude;
}

/// Bytes holding `count` densely packed elements of `bits` each.
size_t packedSize(size_t count, unsigned bits);

/// Writes the low `bits` (1..64) of each of `count` codes LSB first into
/// `packedSize(count, bits)` bytes at `out`; padding bits are 0.
void packBits(const uint64_t *codes, size_t count, unsigned bits, uint8_t *out);
/// Reads `count` elements of `bits` (1..64) each from the packed bytes at
/// `in`, which hold at least `packedSize(count, bits)` bytes.
void unpackBits(const uint8_t *in, size_t count, unsigned bits,
                uint64_t *codes);

std::vector<uint8_t> packBits(const std::vector<uint64_t> &codes,
                              unsigned bits);
/// @pre `in.size() >= packedSize(count, bits)`
std::vector<uint64_t> unpackBits(const std::vector<uint8_t> &in, size_t count,
                                 unsigned bits);

/// Element `index` of a packed array.
uint64_t getPacked(const uint8_t *in, size_t index, unsigned bits);
/// Replaces element `index` of a packed array, leaving the other bits alone.
void setPacked(uint8_t *out, size_t index, unsigned bits, uint64_t code);

} // namespace tilus

namespace std {
template <> struct hash<tilus::DType> {
  size_t operator()(tilus::DType type) const {
    return hash<uint64_t>()(type.key());
  }
};
} // namespace std

#endif // TILUS_IR_DTYPE_DTYPE_H
