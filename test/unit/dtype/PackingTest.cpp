//===- PackingTest.cpp - Dense LSB-first bit packing ----------------------===//
//
// Part of the tilus project.
//
//===----------------------------------------------------------------------===//

#include "ir/dtype/DType.h"

#include <gtest/gtest.h>

#include <random>

using namespace tilus;

namespace {

const unsigned widths[] = {1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64};
const size_t lengths[] = {0, 1, 2, 3, 5, 7, 9, 13, 31, 33, 100, 1001};

uint64_t maskOf(unsigned bits) {
  return bits == 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1;
}

/// Bit `bit` of the little-endian byte stream.
int streamBit(const std::vector<uint8_t> &bytes, size_t bit) {
  return (bytes[bit / 8] >> (bit % 8)) & 1;
}

} // namespace

// Element i occupies bits [i*n, (i+1)*n) of the stream, LSB first; the
// padding is zero and the size is the bits rounded up to bytes.
TEST(PackingTest, BitPositionsAndRoundTrip) {
  std::mt19937_64 rng(1);
  for (unsigned bits : widths)
    for (size_t count : lengths) {
      SCOPED_TRACE("bits " + std::to_string(bits) + " count " +
                   std::to_string(count));
      std::vector<uint64_t> codes(count);
      for (uint64_t &code : codes)
        code = rng() & maskOf(bits);
      std::vector<uint8_t> packed = packBits(codes, bits);
      ASSERT_EQ(packed.size(), (count * bits + 7) / 8);
      ASSERT_EQ(packedSize(count, bits), packed.size());
      for (size_t i = 0; i < count; ++i)
        for (unsigned j = 0; j < bits; ++j)
          ASSERT_EQ(streamBit(packed, i * bits + j), int((codes[i] >> j) & 1))
              << "element " << i << " bit " << j;
      for (size_t bit = count * bits; bit < packed.size() * 8; ++bit)
        ASSERT_EQ(streamBit(packed, bit), 0) << "padding bit " << bit;
      EXPECT_EQ(unpackBits(packed, count, bits), codes);
      for (size_t i = 0; i < count; ++i)
        ASSERT_EQ(getPacked(packed.data(), i, bits), codes[i]);
    }
}

// Bits above the width are dropped, not spilled into the next element.
TEST(PackingTest, HighBitsIgnored) {
  for (unsigned bits : widths) {
    if (bits == 64)
      continue;
    std::vector<uint64_t> codes(11, ~uint64_t(0) << bits | 1);
    std::vector<uint8_t> packed = packBits(codes, bits);
    for (uint64_t code : unpackBits(packed, codes.size(), bits))
      EXPECT_EQ(code, 1u) << bits;
  }
}

// setPacked changes one element and leaves its neighbours alone.
TEST(PackingTest, SetPackedIsLocal) {
  std::mt19937_64 rng(2);
  for (unsigned bits : widths) {
    std::vector<uint64_t> codes(37);
    for (uint64_t &code : codes)
      code = rng() & maskOf(bits);
    std::vector<uint8_t> packed = packBits(codes, bits);
    for (size_t i = 0; i < codes.size(); i += 5) {
      codes[i] = rng() & maskOf(bits);
      setPacked(packed.data(), i, bits, codes[i]);
      EXPECT_EQ(unpackBits(packed, codes.size(), bits), codes) << bits;
    }
  }
}

// Known layouts: u4 {1, 2} is the byte 0x21; u3 {5, 3, 7} spans two bytes.
TEST(PackingTest, KnownBytes) {
  EXPECT_EQ(packBits({0x1, 0x2}, 4), (std::vector<uint8_t>{0x21}));
  EXPECT_EQ(packBits({5, 3, 7}, 3), (std::vector<uint8_t>{0xdd, 0x01}));
  EXPECT_EQ(packBits({1, 0, 1, 1, 0, 0, 0, 1, 1}, 1),
            (std::vector<uint8_t>{0x8d, 0x01}));
  EXPECT_EQ(packBits({0x3f, 0x01}, 6), (std::vector<uint8_t>{0x7f, 0x00}));
  EXPECT_EQ(packBits({0x1234, 0xabcd}, 16),
            (std::vector<uint8_t>{0x34, 0x12, 0xcd, 0xab}));
  EXPECT_EQ(packBits({0x1234567}, 32),
            (std::vector<uint8_t>{0x67, 0x45, 0x23, 0x01}));
  uint8_t raw[] = {0xdd, 0x01};
  uint64_t out[3];
  unpackBits(raw, 3, 3, out);
  EXPECT_EQ(out[0], 5u);
  EXPECT_EQ(out[1], 3u);
  EXPECT_EQ(out[2], 7u);
}
