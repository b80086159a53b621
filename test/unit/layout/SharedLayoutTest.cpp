//===- SharedLayoutTest.cpp - Properties of shared layouts ----------------===//

#include "LayoutTestUtils.h"

#include "ir/layout/SharedLayout.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

using namespace tilus;

namespace {

using Index = std::vector<int64_t>;

Index delinearize(int64_t linear, const Index &shape) {
  Index index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = linear % shape[d];
    linear /= shape[d];
  }
  return index;
}

TEST(Swizzle, IsABijectionOfEveryAlignedBlock) {
  for (int64_t bits = 0; bits <= 3; ++bits)
    for (int64_t base = 0; base <= 4; ++base)
      for (int64_t shift = bits ? 1 : 0; shift <= 5; ++shift) {
        Swizzle s{bits, base, shift};
        int64_t span = s.span();
        std::set<int64_t> image;
        for (int64_t x = 0; x < 4 * span; ++x) {
          int64_t y = s.apply(x);
          EXPECT_EQ(y / span, x / span) << "stays in its block";
          image.insert(y);
        }
        EXPECT_EQ(static_cast<int64_t>(image.size()), 4 * span)
            << bits << "," << base << "," << shift;
      }
}

TEST(Swizzle, MatchesTheCuteConventionOnBytes) {
  // Swizzle<3,4,3> on byte offsets: bits [7,10) XORed into bits [4,7).
  Swizzle sw128 = *bankConflictFreeSwizzle(128, 1);
  EXPECT_EQ(sw128, (Swizzle{3, 4, 3}));
  EXPECT_EQ(*bankConflictFreeSwizzle(64, 1), (Swizzle{2, 4, 3}));
  EXPECT_EQ(*bankConflictFreeSwizzle(32, 1), (Swizzle{1, 4, 3}));
  EXPECT_EQ(*bankConflictFreeSwizzle(16, 1), Swizzle{});
  // On f16 elements the chunk bits start one lower.
  EXPECT_EQ(*bankConflictFreeSwizzle(128, 2), (Swizzle{3, 3, 3}));
  for (int64_t byte = 0; byte < 2048; ++byte) {
    int64_t chunk = (byte >> 4) & 7, row = (byte >> 7) & 7;
    int64_t expected = (byte & ~int64_t(0x70)) | ((chunk ^ row) << 4);
    ASSERT_EQ(sw128.apply(byte), expected);
  }
  EXPECT_FALSE(bankConflictFreeSwizzle(96, 2));
  EXPECT_FALSE(bankConflictFreeSwizzle(128, 32));
}

TEST(SharedLayout, SwizzledTilesAreBankConflictFreeForLdmatrix) {
  // An ldmatrix phase reads one 16-byte chunk from each of 8 consecutive
  // rows; with the swizzle the 8 chunks fall into 8 distinct 16-byte bank
  // groups of a 128-byte line, for every starting row and chunk column.
  for (int64_t elementBytes : {1, 2, 4}) {
    for (int64_t rowBytes : {32, 64, 128, 256}) {
      int64_t cols = rowBytes / elementBytes, rows = 32;
      SharedLayout l =
          *SharedLayout::swizzledRowMajor(rows, cols, elementBytes);
      int64_t perChunk = 16 / elementBytes;
      for (int64_t r0 = 0; r0 < rows; r0 += 8)
        for (int64_t chunk = 0; chunk < rowBytes / 16; ++chunk) {
          std::set<int64_t> groups;
          for (int64_t r = r0; r < r0 + 8; ++r) {
            int64_t byte = l.offsetOf({r, chunk * perChunk}) * elementBytes;
            EXPECT_EQ(byte % 16, 0);
            groups.insert((byte / 16) % 8);
          }
          EXPECT_EQ(groups.size(), 8u)
              << rowBytes << "-byte rows of " << elementBytes
              << "-byte elements, rows " << r0 << ", chunk " << chunk;
        }
      // And it is a permutation of the tile's storage.
      std::set<int64_t> offsets;
      for (int64_t e = 0; e < rows * cols; ++e)
        offsets.insert(l.offsetOf(delinearize(e, {rows, cols})));
      EXPECT_EQ(static_cast<int64_t>(offsets.size()), rows * cols);
      EXPECT_EQ(*offsets.rbegin(), rows * cols - 1);
    }
  }
}

SharedLayout randomLayout(std::mt19937 &rng, bool swizzle) {
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  size_t rank = static_cast<size_t>(uniform(1, 3));
  Index shape;
  for (size_t d = 0; d < rank; ++d)
    shape.push_back(int64_t(1) << uniform(0, 3));
  SharedLayout l = uniform(0, 1) ? SharedLayout::rowMajor(shape)
                                 : SharedLayout::columnMajor(shape);
  if (swizzle) {
    int64_t bits = uniform(0, 2), base = uniform(0, 2), shift = uniform(1, 2);
    if ((int64_t(1) << (bits + base + shift)) <= l.size() || bits == 0)
      l = *l.withSwizzle(Swizzle{bits, base, bits ? shift : 0});
  }
  return l;
}

TEST(SharedLayout, SwizzledLayoutsAreBijections) {
  std::mt19937 rng(21);
  for (int n = 0; n < 300; ++n) {
    SharedLayout l = randomLayout(rng, true);
    std::set<int64_t> offsets;
    for (int64_t e = 0; e < l.size(); ++e)
      offsets.insert(l.offsetOf(delinearize(e, l.shape())));
    EXPECT_EQ(static_cast<int64_t>(offsets.size()), l.size()) << l.str();
    EXPECT_EQ(*offsets.rbegin(), l.size() - 1) << l.str();
  }
}

TEST(SharedLayout, CompositionMatchesDefinition) {
  std::mt19937 rng(22);
  for (int n = 0; n < 300; ++n) {
    SharedLayout f = randomLayout(rng, false), g = randomLayout(rng, true);
    LayoutResult<SharedLayout> h = f.compose(g);
    ASSERT_TRUE(h) << f.str() << " * " << g.str() << ": " << h.error().message;
    size_t rank = std::max(f.rank(), g.rank());
    Index sf(rank, 1), sg(rank, 1);
    for (size_t d = 0; d < f.rank(); ++d)
      sf[rank - f.rank() + d] = f.shape()[d];
    for (size_t d = 0; d < g.rank(); ++d)
      sg[rank - g.rank() + d] = g.shape()[d];
    for (int64_t e = 0; e < h->size(); ++e) {
      Index x = delinearize(e, h->shape());
      Index xf, xg;
      for (size_t d = rank - f.rank(); d < rank; ++d)
        xf.push_back(x[d] / sg[d]);
      for (size_t d = rank - g.rank(); d < rank; ++d)
        xg.push_back(x[d] % sg[d]);
      ASSERT_EQ(h->offsetOf(x), f.offsetOf(xf) * g.cosize() + g.offsetOf(xg))
          << h->str();
    }
    EXPECT_EQ(*parseSharedLayout(h->str()), *h) << h->str();
  }
}

TEST(SharedLayout, SlicesAddressTheSameMemory) {
  std::mt19937 rng(23);
  int sliced = 0;
  for (int n = 0; n < 300; ++n) {
    SharedLayout l = randomLayout(rng, true);
    Index begin, extent;
    for (int64_t s : l.shape()) {
      int64_t e = s >> std::uniform_int_distribution<int>(0, 2)(rng);
      e = std::max<int64_t>(e, 1);
      extent.push_back(e);
      begin.push_back(
          e * std::uniform_int_distribution<int64_t>(0, s / e - 1)(rng));
    }
    LayoutResult<SharedLayout> s = l.slice(begin, extent);
    ASSERT_TRUE(s) << l.str() << ": " << s.error().message;
    ++sliced;
    for (int64_t e = 0; e < s->size(); ++e) {
      Index x = delinearize(e, extent), y = x;
      for (size_t d = 0; d < x.size(); ++d)
        y[d] += begin[d];
      ASSERT_EQ(s->offsetOf(x), l.offsetOf(y)) << l.str() << " -> " << s->str();
    }
    EXPECT_EQ(*parseSharedLayout(s->str()), *s) << s->str();
  }
  EXPECT_EQ(sliced, 300);
  SharedLayout l = SharedLayout::rowMajor({8, 8});
  EXPECT_FALSE(l.slice({0, 3}, {8, 2}));
  EXPECT_FALSE(l.slice({0, 0}, {9, 8}));
  EXPECT_FALSE(SharedLayout::rowMajor({6}).slice({0}, {4}));
}

TEST(SharedLayout, PrintParseRoundTrip) {
  std::mt19937 rng(24);
  for (int n = 0; n < 300; ++n) {
    SharedLayout l = randomLayout(rng, true);
    if (n % 3 == 0)
      l = *l.withOffset(n);
    LayoutResult<SharedLayout> p = parseSharedLayout(l.str());
    ASSERT_TRUE(p) << l.str() << ": " << p.error().message;
    EXPECT_EQ(*p, l) << l.str();
  }
  EXPECT_EQ(SharedLayout::rowMajor({8, 64}).str(), "shared(8,64).row_major()");
  EXPECT_EQ(SharedLayout::swizzledRowMajor(8, 64, 2)->str(),
            "shared(8,64).row_major().swizzle(3,3,3)");
}

} // namespace
