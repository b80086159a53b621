//===- DTypeTest.cpp - Type queries, names and exhaustive decoding --------===//
//
// Part of the tilus project.
//
//===----------------------------------------------------------------------===//

#include "ir/dtype/DType.h"
#include "Reference.h"

#include <gtest/gtest.h>

#include <set>
#include <unordered_set>

using namespace tilus;
namespace ref = tilus::reference;

namespace {

DType parsed(const std::string &name) {
  std::optional<DType> type = DType::parse(name);
  EXPECT_TRUE(type.has_value()) << name;
  return type.value_or(DType::boolean());
}

std::vector<std::string> integerNames() {
  std::vector<std::string> names;
  for (const char *prefix : {"i", "u"})
    for (int bits : {1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64})
      names.push_back(prefix + std::to_string(bits));
  return names;
}

/// Bit-exact equality of two decoded values (so -0 != 0, NaN == NaN).
::testing::AssertionResult sameValue(double expected, double actual) {
  if (std::isnan(expected) && std::isnan(actual))
    return ::testing::AssertionSuccess();
  if (expected == actual && std::signbit(expected) == std::signbit(actual))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected " << expected << ", got " << actual;
}

} // namespace

// The set of names is exactly the specified one, and each parses back.
TEST(DTypeTest, NamesAreTheSpecifiedSet) {
  std::set<std::string> expected{"bool"};
  for (const std::string &name : integerNames())
    expected.insert(name);
  for (const ref::Format &format : ref::allFormats())
    expected.insert(format.name);
  std::vector<std::string> names = DType::allNames();
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), expected);
  EXPECT_EQ(names.size(), expected.size());
  for (const std::string &name : names)
    EXPECT_EQ(parsed(name).name(), name);
}

// Types are distinct values: equal and hashed alike only when the same type.
TEST(DTypeTest, EqualityAndHash) {
  const std::vector<DType> &all = DType::all();
  std::unordered_set<DType> hashed(all.begin(), all.end());
  std::set<DType> ordered(all.begin(), all.end());
  EXPECT_EQ(hashed.size(), all.size());
  EXPECT_EQ(ordered.size(), all.size());
  for (DType a : all)
    for (DType b : all)
      EXPECT_EQ(a == b, a.name() == b.name()) << a.name() << " " << b.name();
  EXPECT_EQ(DType::smallFloat(4, 3), parsed("f8e4m3"));
  EXPECT_EQ(DType::signedInt(4), parsed("i4"));
  EXPECT_EQ(DType::unsignedInt(32), parsed("u32"));
  EXPECT_NE(DType::signedInt(1), DType::boolean());
  EXPECT_EQ(sizeof(DType), 5u);
}

// Unknown names fail with a message that names the input and the valid set.
TEST(DTypeTest, ParseErrors) {
  for (const char *bad :
       {"f9", "", "f8e4m4", "f8e6m1", "f2e1m0", "f9e5m3", "i9", "u0", "i128",
        "F16", "f16 ", "float", "e4m3", "f8e0m7", "f3e1m1x", "bf8"}) {
    std::string error;
    EXPECT_FALSE(DType::parse(bad, &error).has_value()) << bad;
    EXPECT_EQ(error.rfind("unknown type '" + std::string(bad) + "'", 0), 0u)
        << error;
    EXPECT_NE(error.find("valid names: bool, i1,"), std::string::npos);
    EXPECT_NE(error.find("f8e5m2"), std::string::npos);
  }
  EXPECT_FALSE(DType::parse("f9").has_value());
}

// Field queries of floats agree with the specification's formats, and the
// range queries with the extremes of the value set.
TEST(DTypeTest, FloatQueries) {
  for (const ref::Format &format : ref::allFormats()) {
    SCOPED_TRACE(format.name);
    DType type = parsed(format.name);
    EXPECT_TRUE(type.isFloat());
    EXPECT_TRUE(type.isSigned());
    EXPECT_FALSE(type.isInteger());
    EXPECT_EQ(int(type.bitWidth()), format.bits());
    EXPECT_EQ(int(type.exponentBits()), format.exponentBits);
    EXPECT_EQ(int(type.mantissaBits()), format.mantissaBits);
    EXPECT_EQ(type.exponentBias(), format.bias());
    if (format.bits() > 16)
      continue;
    ref::ValueSet set(format);
    EXPECT_EQ(type.hasInfinity(), set.hasInfinity);
    EXPECT_EQ(type.hasNaN(), set.hasNaN);
    EXPECT_EQ(type.maxFinite(), set.values.back());
    EXPECT_EQ(type.lowest(), -set.values.back());
    EXPECT_EQ(type.minSubnormal(), set.values[1]);
    EXPECT_EQ(type.maxFiniteCode(), set.maxCode());
    EXPECT_EQ(type.maxFiniteCode(true), set.maxCode() | set.signBit());
    double minNormal = std::pow(2.0, 1 - format.bias());
    EXPECT_EQ(type.minNormal(), minNormal);
    if (set.hasInfinity) {
      EXPECT_EQ(type.infinityCode(), set.infinityCode);
      EXPECT_EQ(type.infinityCode(true), set.infinityCode | set.signBit());
    }
    if (set.hasNaN) {
      EXPECT_EQ(type.nanCode(), set.nanCode);
      EXPECT_TRUE(std::isnan(ref::decode(format, type.nanCode())));
    }
  }
}

// The extremes that kernels rely on, as published for each format.
TEST(DTypeTest, KnownExtremes) {
  EXPECT_EQ(parsed("f8e4m3").maxFinite(), 448.0);
  EXPECT_EQ(parsed("f8e5m2").maxFinite(), 57344.0);
  EXPECT_EQ(parsed("f4e2m1").maxFinite(), 6.0);
  EXPECT_EQ(parsed("f6e3m2").maxFinite(), 28.0);
  EXPECT_EQ(parsed("f6e2m3").maxFinite(), 7.5);
  EXPECT_EQ(parsed("f16").maxFinite(), 65504.0);
  EXPECT_EQ(parsed("f32").maxFinite(),
            double(std::numeric_limits<float>::max()));
  EXPECT_EQ(parsed("f16").minSubnormal(), std::ldexp(1.0, -24));
  EXPECT_EQ(parsed("bf16").minSubnormal(), std::ldexp(1.0, -133));
  EXPECT_EQ(parsed("f32").minSubnormal(),
            double(std::numeric_limits<float>::denorm_min()));
  EXPECT_EQ(parsed("f8e4m3").nanCode(), 0x7fu);
  EXPECT_EQ(parsed("f8e5m2").nanCode(), 0x7fu);
  EXPECT_EQ(parsed("f16").nanCode(), 0x7fffu);
  EXPECT_EQ(parsed("f8e5m2").infinityCode(), 0x7cu);
  EXPECT_FALSE(parsed("f6e5m0").hasNaN());
  EXPECT_TRUE(parsed("f6e5m0").hasInfinity());
  EXPECT_FALSE(parsed("f8e4m3").hasInfinity());
  EXPECT_FALSE(parsed("f8e3m4").hasNaN());
}

TEST(DTypeTest, IntegerQueries) {
  for (const std::string &name : integerNames()) {
    SCOPED_TRACE(name);
    DType type = parsed(name);
    int bits = std::stoi(name.substr(1));
    bool isSigned = name[0] == 'i';
    EXPECT_TRUE(type.isInteger());
    EXPECT_FALSE(type.isFloat());
    EXPECT_EQ(type.isSigned(), isSigned);
    EXPECT_EQ(int(type.bitWidth()), bits);
    EXPECT_FALSE(type.hasInfinity());
    EXPECT_FALSE(type.hasNaN());
    double max =
        isSigned ? std::ldexp(1.0, bits - 1) - 1 : std::ldexp(1.0, bits) - 1;
    double lowest = isSigned ? -std::ldexp(1.0, bits - 1) : 0.0;
    EXPECT_EQ(type.maxFinite(), max);
    EXPECT_EQ(type.lowest(), lowest);
  }
  DType boolean = parsed("bool");
  EXPECT_TRUE(boolean.isBool());
  EXPECT_FALSE(boolean.isInteger());
  EXPECT_EQ(boolean.bitWidth(), 8u);
  EXPECT_EQ(boolean.maxFinite(), 1.0);
  EXPECT_EQ(boolean.lowest(), 0.0);
}

// Every code of every float of at most 8 bits, and of f16 and bf16, decodes
// to the value of its fields.
TEST(DTypeTest, DecodeEveryFloatCode) {
  for (const ref::Format &format : ref::allFormats()) {
    if (format.bits() > 16)
      continue;
    SCOPED_TRACE(format.name);
    DType type = parsed(format.name);
    for (uint64_t code = 0; code < (uint64_t(1) << format.bits()); ++code) {
      double expected = ref::decode(format, code);
      EXPECT_TRUE(sameValue(expected, decode(type, code))) << "code " << code;
      ValueClass cls = classify(type, code);
      EXPECT_EQ(cls == ValueClass::NaN, std::isnan(expected));
      EXPECT_EQ(cls == ValueClass::Infinity, std::isinf(expected));
      EXPECT_EQ(cls == ValueClass::Zero, expected == 0.0);
      // Bits above the width are ignored.
      EXPECT_TRUE(sameValue(expected,
                            decode(type, code | uint64_t(1) << format.bits())));
    }
  }
}

// f4e2m1 holds exactly 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives.
TEST(DTypeTest, F4E2M1ValueSet) {
  DType type = parsed("f4e2m1");
  const double expected[] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (uint64_t code = 0; code < 8; ++code) {
    EXPECT_EQ(decode(type, code), expected[code]);
    EXPECT_EQ(decode(type, code | 8), -expected[code]);
  }
}

// Every code of every integer of at most 8 bits decodes to its two's
// complement or unsigned value.
TEST(DTypeTest, DecodeEveryIntegerCode) {
  for (int bits = 1; bits <= 8; ++bits) {
    DType s = DType::signedInt(bits), u = DType::unsignedInt(bits);
    for (int64_t code = 0; code < (int64_t(1) << bits); ++code) {
      int64_t signedValue = code >= (int64_t(1) << (bits - 1))
                                ? code - (int64_t(1) << bits)
                                : code;
      EXPECT_EQ(decode(s, code), double(signedValue)) << bits << " " << code;
      EXPECT_EQ(decode(u, code), double(code)) << bits << " " << code;
    }
  }
  EXPECT_EQ(decode(DType::signedInt(64), uint64_t(1) << 63),
            -std::ldexp(1, 63));
  EXPECT_EQ(decode(DType::signedInt(32), 0xffffffffu), -1.0);
  EXPECT_EQ(decode(DType::unsignedInt(16), 0xffffu), 65535.0);
  for (uint64_t code = 0; code < 256; ++code)
    EXPECT_EQ(decode(DType::boolean(), code), code != 0 ? 1.0 : 0.0);
}

// encode(decode(c)) == c for every non-NaN code (both zeros included), and
// NaN codes encode to the canonical NaN.
TEST(DTypeTest, EncodeDecodeRoundTrip) {
  for (DType type : DType::all()) {
    if (type.bitWidth() > 16 || type.isBool())
      continue;
    SCOPED_TRACE(type.name());
    for (uint64_t code = 0; code < (uint64_t(1) << type.bitWidth()); ++code) {
      double value = decode(type, code);
      if (std::isnan(value))
        EXPECT_EQ(encode(type, value), type.nanCode());
      else
        EXPECT_EQ(encode(type, value), code) << "code " << code;
    }
  }
  EXPECT_EQ(encode(DType::boolean(), 1.0), 1u);
  EXPECT_EQ(encode(DType::boolean(), 0.0), 0u);
}

// f32 codes decode to the float with those bits, and back.
TEST(DTypeTest, F32DecodeEncodeMatchesHardware) {
  DType f32 = DType::f32();
  uint32_t state = 12345;
  for (int i = 0; i < 200000; ++i) {
    state = state * 1664525u + 1013904223u;
    uint32_t bits = state ^ (state >> 13) * 0x9e3779b9u;
    float value = ref::floatFromBits(bits);
    EXPECT_TRUE(sameValue(double(value), decode(f32, bits)));
    if (std::isnan(value))
      EXPECT_EQ(encode(f32, value), 0x7fffffffu);
    else
      EXPECT_EQ(encode(f32, value), bits);
  }
  for (uint32_t bits :
       {0u, 0x80000000u, 1u, 0x80000001u, 0x007fffffu, 0x00800000u, 0x7f7fffffu,
        0xff7fffffu, 0x7f800000u, 0xff800000u})
    EXPECT_EQ(encode(f32, ref::floatFromBits(bits)), bits);
}
