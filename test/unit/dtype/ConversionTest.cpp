//===- ConversionTest.cpp - Rounding, saturation and integer conversions --===//
//
// Part of the tilus project.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"
#include "ir/dtype/DType.h"

#include <gtest/gtest.h>

#include <random>

using namespace tilus;
namespace ref = tilus::reference;

namespace {

DType typeOf(const ref::Format &format) {
  return DType::parse(format.name).value_or(DType::boolean());
}

/// The formats of at most 16 bits with their value sets, built once.
const std::vector<ref::ValueSet> &smallSets() {
  static const std::vector<ref::ValueSet> sets = [] {
    std::vector<ref::ValueSet> result;
    for (const ref::Format &format : ref::allFormats())
      if (format.bits() <= 16)
        result.emplace_back(format);
    return result;
  }();
  return sets;
}

/// Checks f32 -> `set`'s type against the nearest-value search, in both
/// overflow modes.
void checkFromF32(const ref::ValueSet &set, float x) {
  DType type = typeOf(set.format);
  uint32_t bits = ref::bitsOfFloat(x);
  EXPECT_EQ(convert(bits, DType::f32(), type), set.round(x))
      << set.format.name << " from " << x << " (0x" << std::hex << bits << ")";
  EXPECT_EQ(convert(bits, DType::f32(), type, Overflow::Infinity),
            set.round(x, /*overflowToInf=*/true))
      << set.format.name << " from " << x << " (0x" << std::hex << bits
      << "), overflow to inf";
}

/// Every value where rounding changes or may go wrong: the codes' values,
/// the halfway points between neighbours and the floats next to them, the
/// range ends and the specials.
std::vector<float> boundaryValues(const ref::ValueSet &set) {
  std::vector<float> values;
  auto add = [&](double value) {
    float f = float(value);
    if (double(f) != value)
      return;
    for (float v : {f, std::nextafter(f, 0.0f),
                    std::nextafter(f, std::numeric_limits<float>::infinity())})
      for (float s : {v, -v})
        values.push_back(s);
  };
  for (size_t i = 0; i < set.values.size(); ++i) {
    add(set.values[i]);
    double upper =
        i + 1 < set.values.size() ? set.values[i + 1] : set.overflowValue;
    add((set.values[i] + upper) / 2);
  }
  double max = set.values.back();
  add(set.overflowValue);
  add(max * 2);
  add(max * 1024);
  add(set.values[1] / 2);
  add(set.values[1] / 4);
  add(set.values[1] * 0.75);
  for (float f : {0.0f, std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::max(),
                  std::numeric_limits<float>::denorm_min(),
                  std::numeric_limits<float>::quiet_NaN()}) {
    values.push_back(f);
    values.push_back(-f);
  }
  return values;
}

} // namespace

// f32 -> every float of at most 16 bits at every boundary of its value set.
TEST(ConversionTest, F32ToFloatBoundaries) {
  for (const ref::ValueSet &set : smallSets()) {
    SCOPED_TRACE(set.format.name);
    for (float x : boundaryValues(set))
      checkFromF32(set, x);
  }
}

// f32 -> every float of at most 16 bits for random bit patterns and random
// values spread over the format's range.
TEST(ConversionTest, F32ToFloatRandom) {
  std::mt19937 rng(20260101);
  std::vector<float> patterns;
  for (int i = 0; i < 100000; ++i)
    patterns.push_back(ref::floatFromBits(uint32_t(rng())));
  for (const ref::ValueSet &set : smallSets()) {
    SCOPED_TRACE(set.format.name);
    int stride = set.format.bits() > 8 ? 4 : 1;
    for (size_t i = 0; i < patterns.size(); i += stride)
      checkFromF32(set, patterns[i]);
    double low = std::log2(set.values[1]) - 3;
    double high = std::log2(set.values.back()) + 2;
    std::uniform_real_distribution<double> exponent(low, high);
    for (int i = 0; i < 20000; ++i) {
      float x = float(std::exp2(exponent(rng)));
      checkFromF32(set, (rng() & 1) ? -x : x);
    }
  }
}

// f32 -> f16 agrees with the compiler's IEEE conversion and f32 -> bf16 with
// the usual integer rounding of the top half (both overflow to inf), and
// f16 -> f32 / bf16 -> f32 are exact.
TEST(ConversionTest, F16AndBF16AgainstCompiler) {
  std::mt19937 rng(7);
  DType f16 = DType::f16(), bf16 = DType::bf16(), f32 = DType::f32();
  for (int i = 0; i < 300000; ++i) {
    uint32_t bits = uint32_t(rng());
    if (i % 2)
      bits = (bits & 0x83ffffffu) | 0x38000000u; // Near the f16 range.
    float x = ref::floatFromBits(bits);
    if (std::isnan(x))
      continue;
    _Float16 h = static_cast<_Float16>(x);
    uint16_t hBits;
    std::memcpy(&hBits, &h, 2);
    EXPECT_EQ(convert(bits, f32, f16, Overflow::Infinity), hBits) << x;
    // The classic rounding of the top half: add 0x7fff plus the kept LSB.
    uint16_t bBits = uint16_t((bits + 0x7fffu + ((bits >> 16) & 1)) >> 16);
    EXPECT_EQ(convert(bits, f32, bf16, Overflow::Infinity), bBits) << x;
  }
  for (uint32_t code = 0; code < 0x10000; ++code) {
    uint16_t c16 = uint16_t(code);
    _Float16 h;
    std::memcpy(&h, &c16, 2);
    float wide = static_cast<float>(h);
    uint64_t viaLibrary = convert(code, f16, f32);
    if (std::isnan(wide)) {
      EXPECT_EQ(viaLibrary, 0x7fffffffu);
      continue;
    }
    EXPECT_EQ(viaLibrary, ref::bitsOfFloat(wide)) << code;
    EXPECT_EQ(convert(viaLibrary, f32, f16), code);
    // bf16 is the top half of f32.
    uint64_t bfWide = convert(code, bf16, f32);
    if (!isNaN(bf16, code)) {
      EXPECT_EQ(bfWide, uint64_t(code) << 16);
      EXPECT_EQ(convert(bfWide, f32, bf16), code);
    }
  }
}

// double -> f32 rounds once, like the compiler's conversion; under the
// default overflow rule finite values saturate to +-FLT_MAX.
TEST(ConversionTest, DoubleToF32) {
  std::mt19937_64 rng(99);
  DType f32 = DType::f32();
  for (int i = 0; i < 200000; ++i) {
    uint64_t bits = rng();
    if (i % 2)
      bits = (bits & 0x800fffffffffffffull) |
             (uint64_t(1023 - 160 + rng() % 300) << 52);
    double x;
    std::memcpy(&x, &bits, 8);
    if (std::isnan(x))
      continue;
    float f = static_cast<float>(x);
    EXPECT_EQ(encode(f32, x, Overflow::Infinity), ref::bitsOfFloat(f)) << x;
    if (std::isinf(f) && !std::isinf(x))
      f = std::copysign(std::numeric_limits<float>::max(), f);
    EXPECT_EQ(encode(f32, x), ref::bitsOfFloat(f)) << x;
  }
}

// Every code of every float of at most 8 bits into every float of at most
// 16 bits: the nearest value of the target (widening is then exact).
TEST(ConversionTest, FloatToFloatExhaustive) {
  for (const ref::ValueSet &from : smallSets()) {
    if (from.format.bits() > 8)
      continue;
    DType fromType = typeOf(from.format);
    for (const ref::ValueSet &to : smallSets()) {
      DType toType = typeOf(to.format);
      for (uint64_t code = 0; code < (uint64_t(1) << from.format.bits());
           ++code) {
        double value = ref::decode(from.format, code);
        EXPECT_EQ(convert(code, fromType, toType), to.round(value))
            << from.format.name << " -> " << to.format.name << " code " << code;
      }
    }
    // To f32, which holds every value exactly.
    for (uint64_t code = 0; code < (uint64_t(1) << from.format.bits());
         ++code) {
      double value = ref::decode(from.format, code);
      uint64_t wide = convert(code, fromType, DType::f32());
      if (std::isnan(value))
        EXPECT_EQ(wide, 0x7fffffffu);
      else
        EXPECT_EQ(wide, ref::bitsOfFloat(float(value)));
    }
  }
}

// Worked cases of the rules, each stated in the header and in the docs.
TEST(ConversionTest, DocumentedCases) {
  DType f4 = DType::smallFloat(2, 1), e4m3 = DType::smallFloat(4, 3);
  DType e5m2 = DType::smallFloat(5, 2), e5m0 = DType::smallFloat(5, 0);
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(encode(f4, 7.0), 0x7u);   // Ties to 8, which saturates to 6.
  EXPECT_EQ(encode(f4, 5.0), 0x6u);   // Tie between 4 and 6: even code 4.
  EXPECT_EQ(encode(f4, 0.25), 0x0u);  // Tie between 0 and 0.5: 0.
  EXPECT_EQ(encode(f4, -0.25), 0x8u); // -0.
  EXPECT_EQ(encode(f4, 0.75), 0x2u);  // Tie between 0.5 and 1: 1.
  EXPECT_EQ(encode(f4, inf), 0x7u);   // No inf: max finite.
  EXPECT_EQ(encode(f4, -inf), 0xfu);
  EXPECT_EQ(encode(f4, nan), 0x7u); // No NaN: +max finite.
  EXPECT_EQ(encode(f4, -nan), 0x7u);
  EXPECT_EQ(encode(e4m3, 464.0), 0x7eu); // Tie between 448 and 480: 448.
  EXPECT_EQ(encode(e4m3, 1e6), 0x7eu);
  EXPECT_EQ(encode(e4m3, 1e6, Overflow::Infinity), 0x7eu); // No inf.
  EXPECT_EQ(encode(e4m3, inf), 0x7eu);
  EXPECT_EQ(encode(e4m3, -inf), 0xfeu);
  EXPECT_EQ(encode(e4m3, nan), 0x7fu);
  EXPECT_EQ(encode(e5m2, 61440.0), 0x7bu); // Halfway above max: saturates.
  EXPECT_EQ(encode(e5m2, 61440.0, Overflow::Infinity), 0x7cu);
  EXPECT_EQ(encode(e5m2, inf), 0x7cu);
  EXPECT_EQ(encode(e5m2, -inf), 0xfcu);
  EXPECT_EQ(encode(e5m2, nan), 0x7fu);
  EXPECT_EQ(encode(e5m0, nan), 0x1eu); // Has inf but no NaN: +max finite.
  EXPECT_EQ(encode(e5m0, inf), 0x1fu);
  EXPECT_EQ(encode(DType::f16(), 1e5), 0x7bffu);
  EXPECT_EQ(encode(DType::f16(), 1e5, Overflow::Infinity), 0x7c00u);
  EXPECT_EQ(encode(DType::f16(), -nan), 0x7fffu); // Canonical, sign dropped.
}

// Float -> integer truncates toward zero and saturates; NaN gives 0.
TEST(ConversionTest, FloatToInteger) {
  std::vector<DType> targets;
  for (int bits : {1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64}) {
    targets.push_back(DType::signedInt(bits));
    targets.push_back(DType::unsignedInt(bits));
  }
  auto expected = [](DType to, double value) -> uint64_t {
    if (std::isnan(value))
      return 0;
    int bits = int(to.bitWidth());
    double t = std::trunc(value);
    double max = to.isSigned() ? std::ldexp(1.0, bits - 1) - 1
                               : std::ldexp(1.0, bits) - 1;
    double min = to.isSigned() ? -std::ldexp(1.0, bits - 1) : 0.0;
    uint64_t mask = bits == 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1;
    // max is not a double for 64 bits; compare against max + 1 instead.
    if (t >= max + 1 || (bits < 64 && t > max))
      return (to.isSigned() ? (uint64_t(1) << (bits - 1)) - 1 : mask) & mask;
    if (t <= min)
      return uint64_t(int64_t(min)) & mask;
    return (t < 0 ? uint64_t(int64_t(t)) : uint64_t(t)) & mask;
  };
  std::vector<std::pair<DType, double>> sources;
  for (const ref::ValueSet &set : smallSets())
    for (uint64_t code = 0;
         code<(uint64_t(1) << set.format.bits()); code += set.format.bits()> 8
             ? 7
             : 1)
      sources.push_back({typeOf(set.format), ref::decode(set.format, code)});
  for (auto [from, value] : sources)
    for (DType to : targets) {
      uint64_t code = encode(from, value);
      if (std::isnan(value))
        code = from.nanCode();
      EXPECT_EQ(convert(code, from, to), expected(to, value))
          << from.name() << " " << value << " -> " << to.name();
    }
  std::mt19937 rng(3);
  for (int i = 0; i < 50000; ++i) {
    float x = ref::floatFromBits(uint32_t(rng()));
    for (DType to : targets)
      EXPECT_EQ(convert(ref::bitsOfFloat(x), DType::f32(), to), expected(to, x))
          << x << " -> " << to.name();
  }
  EXPECT_EQ(encode(DType::signedInt(4), -8.9), 0x8u);
  EXPECT_EQ(encode(DType::signedInt(4), 7.9), 0x7u);
  EXPECT_EQ(encode(DType::unsignedInt(4), -3.0), 0x0u);
  EXPECT_EQ(encode(DType::signedInt(64), 1e30), 0x7fffffffffffffffu);
  EXPECT_EQ(encode(DType::signedInt(64), -1e30), 0x8000000000000000u);
  EXPECT_EQ(encode(DType::unsignedInt(64), 1e30), ~uint64_t(0));
  EXPECT_EQ(
      encode(DType::signedInt(8), std::numeric_limits<double>::infinity()),
      0x7fu);
}

// Integer -> integer keeps the low bits of the two's complement value.
TEST(ConversionTest, IntegerToIntegerWraps) {
  std::vector<DType> types;
  for (int bits : {1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64}) {
    types.push_back(DType::signedInt(bits));
    types.push_back(DType::unsignedInt(bits));
  }
  auto valueOf = [](DType type, uint64_t code) -> int64_t {
    int bits = int(type.bitWidth());
    if (type.isSigned() && bits < 64 && (code >> (bits - 1)) & 1)
      return int64_t(code) - (int64_t(1) << bits);
    return int64_t(code);
  };
  std::mt19937_64 rng(5);
  for (DType from : types)
    for (DType to : types) {
      uint64_t fromMask = from.codeMask(), toMask = to.codeMask();
      std::vector<uint64_t> codes;
      if (from.bitWidth() <= 8)
        for (uint64_t c = 0; c <= fromMask; ++c)
          codes.push_back(c);
      for (int i = 0; i < 300; ++i)
        codes.push_back(rng() & fromMask);
      codes.push_back(fromMask);
      codes.push_back(fromMask >> 1);
      codes.push_back((fromMask >> 1) + 1);
      for (uint64_t code : codes) {
        uint64_t want = uint64_t(valueOf(from, code)) & toMask;
        ASSERT_EQ(convert(code, from, to), want)
            << from.name() << " " << code << " -> " << to.name();
        // Widening to a type that holds the value preserves it.
        if (to.bitWidth() > from.bitWidth() &&
            (to.isSigned() || !from.isSigned()))
          EXPECT_EQ(valueOf(to, want), valueOf(from, code));
      }
    }
  EXPECT_EQ(convert(0x8, DType::signedInt(4), DType::signedInt(8)), 0xf8u);
  EXPECT_EQ(convert(0x8, DType::unsignedInt(4), DType::signedInt(8)), 0x08u);
  EXPECT_EQ(convert(300, DType::signedInt(16), DType::unsignedInt(8)), 44u);
  EXPECT_EQ(convert(0xff, DType::signedInt(8), DType::unsignedInt(64)),
            ~uint64_t(0));
}

// Integer -> float rounds to nearest even, saturating; exact when it fits.
TEST(ConversionTest, IntegerToFloat) {
  for (int bits : {1, 2, 3, 4, 5, 6, 7, 8, 16}) {
    for (DType from : {DType::signedInt(bits), DType::unsignedInt(bits)}) {
      for (uint64_t code = 0; code <= from.codeMask(); ++code) {
        double value = decode(from, code);
        ASSERT_EQ(value, from.isSigned() && (code >> (bits - 1))
                             ? double(int64_t(code) - (int64_t(1) << bits))
                             : double(code));
        for (const ref::ValueSet &set : smallSets())
          EXPECT_EQ(convert(code, from, typeOf(set.format)), set.round(value))
              << from.name() << " " << code << " -> " << set.format.name;
        EXPECT_EQ(convert(code, from, DType::f32()),
                  ref::bitsOfFloat(float(value)));
      }
    }
  }
  std::mt19937_64 rng(11);
  for (int i = 0; i < 20000; ++i) {
    uint64_t code = rng() >> (rng() % 64);
    int64_t s = int64_t(code);
    EXPECT_EQ(convert(code, DType::signedInt(64), DType::f32()),
              ref::bitsOfFloat(float(s)));
    EXPECT_EQ(convert(code, DType::unsignedInt(64), DType::f32()),
              ref::bitsOfFloat(float(code)));
    uint32_t c32 = uint32_t(code);
    for (const ref::ValueSet &set : smallSets())
      if (set.format.bits() == 16 || set.format.bits() == 8)
        EXPECT_EQ(convert(c32, DType::signedInt(32), typeOf(set.format)),
                  set.round(double(int32_t(c32))));
  }
}

// bool is 0 or 1 as a source; any nonzero value or NaN is true as a target.
TEST(ConversionTest, Bool) {
  DType b = DType::boolean(), f32 = DType::f32();
  EXPECT_EQ(convert(2, b, f32), ref::bitsOfFloat(1.0f));
  EXPECT_EQ(convert(0, b, f32), 0u);
  EXPECT_EQ(convert(1, b, DType::signedInt(8)), 1u);
  EXPECT_EQ(convert(ref::bitsOfFloat(0.25f), f32, b), 1u);
  EXPECT_EQ(convert(ref::bitsOfFloat(-0.0f), f32, b), 0u);
  EXPECT_EQ(encode(b, std::numeric_limits<double>::quiet_NaN()), 1u);
  EXPECT_EQ(convert(0x100, DType::unsignedInt(16), b), 1u);
  EXPECT_EQ(convert(0, DType::unsignedInt(16), b), 0u);
  EXPECT_EQ(convert(0x80, DType::smallFloat(4, 3), b), 0u); // -0 is false.
}
