//===- ParserTest.cpp - Text form of layouts ------------------------------===//

#include "LayoutTestUtils.h"

#include "ir/layout/RegisterLayout.h"
#include "ir/layout/SharedLayout.h"

#include <gtest/gtest.h>

#include <iterator>
#include <random>

using namespace tilus;

namespace {

TEST(LayoutParser, ChainsProductsAndParentheses) {
  RegisterLayout c = layout::local({2, 1}).spatial({8, 4}).local({1, 2});
  EXPECT_EQ(*parseRegisterLayout("local(2,1).spatial(8,4).local(1,2)"), c);
  EXPECT_EQ(
      *parseRegisterLayout(" local( 2 , 1 ) * spatial(8,4) . local(1,2) "), c);
  EXPECT_EQ(*parseRegisterLayout("local(2,1) * (spatial(8,4) * local(1,2))"),
            c);
  EXPECT_EQ(*parseRegisterLayout("column_spatial(4,8)"),
            layout::columnSpatial({4, 8}));
  EXPECT_EQ(*parseRegisterLayout("column_local(2,2)"),
            layout::columnLocal({2, 2}));
  EXPECT_EQ(*parseRegisterLayout("replicate(2).spatial(4)"),
            layout::replicate(2) * layout::spatial({4}));
  EXPECT_EQ(*parseRegisterLayout("local()"), RegisterLayout());
  EXPECT_EQ(
      *parseRegisterLayout(
          "layout(shape=[16,8],modes=[2,8,4,2],spatial=[1,2],local=[0,3])"),
      c);
}

struct ErrorCase {
  const char *text;
  size_t offset;
  const char *message;
};

TEST(LayoutParser, ErrorsPointAtTheOffendingToken) {
  const ErrorCase cases[] = {
      {"locl(2,1)", 0, "unknown layout primitive 'locl'"},
      {"local(2,1).spatail(8,4)", 11, "unknown layout primitive 'spatail'"},
      {"local(2,1", 9, "expected ')'"},
      {"local(2,,1)", 8, "expected an integer"},
      {"local(2,0)", 8, "sizes must be positive"},
      {"local(2,-3)", 8, "sizes must be positive"},
      {"local(2,1) spatial(8,4)", 11, "unexpected 'spatial'"},
      {"", 0, "expected a layout primitive"},
      {"local(2,1).", 11, "end of input"},
      {"replicate(2,2)", 12, "exactly one size"},
      {"local(2) $ local(2)", 9, "unexpected character '$'"},
      {"local(99999999999)", 6, "too large"},
      {"spatial(65536).spatial(65536)", 14, "layout too large"},
      {"(local(2)", 9, "expected ')'"},
      {"layout(shape=[4],modes=[3],spatial=[0],local=[])", 0, "do not factor"},
      {"layout(shape=[4],modes=[4],spatial=[],local=[])", 0,
       "neither spatial nor local"},
      {"layout(shape=[4],mode=[4],spatial=[0],local=[])", 17,
       "expected 'modes='"},
  };
  for (const ErrorCase &c : cases) {
    LayoutResult<RegisterLayout> r = parseRegisterLayout(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().offset, c.offset)
        << c.text << ": " << r.error().message;
    EXPECT_NE(r.error().message.find(c.message), std::string::npos)
        << c.text << ": " << r.error().message;
  }
}

TEST(LayoutParser, SharedLayouts) {
  EXPECT_EQ(*parseSharedLayout("shared(8,64).row_major()"),
            SharedLayout::rowMajor({8, 64}));
  EXPECT_EQ(*parseSharedLayout("shared(8,64)"),
            SharedLayout::rowMajor({8, 64}));
  EXPECT_EQ(*parseSharedLayout("shared(8,64).column_major()"),
            SharedLayout::columnMajor({8, 64}));
  EXPECT_EQ(*parseSharedLayout("shared(8,64).strides(72,1)"),
            *SharedLayout::strided({8, 64}, {72, 1}));
  EXPECT_EQ(*parseSharedLayout("shared(8,64).row_major().swizzle(3,3,3)"),
            *SharedLayout::swizzledRowMajor(8, 64, 2));
  SharedLayout tiled = *parseSharedLayout(
      "shared(2,1).row_major() * shared(8,64).row_major().swizzle(3,3,3)");
  EXPECT_EQ(tiled.shape(), (std::vector<int64_t>{16, 64}));
  EXPECT_EQ(*parseSharedLayout(tiled.str()), tiled);

  const ErrorCase cases[] = {
      {"shared(8,64).row_mjr()", 13, "unknown shared layout method"},
      {"shared(8,64).strides(1)", 13, "takes 2 arguments"},
      {"shared(8,64).swizzle(3,3,0)", 13, "positive shift"},
      {"shared(8,64).swizzle(3,3,3).row_major()", 28, "must come first"},
      {"shared(8,64).modes([8:64],[32:1])", 13, "multiply to 32"},
      {"local(8)", 0, "expected 'shared(...)'"},
      {"shared(8,64).swizzle(3,3,3) * shared(2,2)", 28, "must not be swizzled"},
      {"shared(8,0)", 9, "positive"},
  };
  for (const ErrorCase &c : cases) {
    LayoutResult<SharedLayout> r = parseSharedLayout(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().offset, c.offset)
        << c.text << ": " << r.error().message;
    EXPECT_NE(r.error().message.find(c.message), std::string::npos)
        << c.text << ": " << r.error().message;
  }
}

} // namespace

namespace {

/// Random token soup: every input either parses to a layout that prints
/// back to itself or fails with an offset inside the text.
TEST(LayoutParser, ArbitraryInputNeverCrashes) {
  const char *const pieces[] = {"local",
                                "spatial",
                                "column_local",
                                "column_spatial",
                                "replicate",
                                "layout",
                                "shape",
                                "modes",
                                "local=",
                                "spatial=",
                                "shared",
                                "row_major",
                                "column_major",
                                "strides",
                                "swizzle",
                                "offset",
                                "(",
                                ")",
                                "[",
                                "]",
                                ",",
                                ".",
                                "*",
                                "=",
                                ":",
                                "0",
                                "1",
                                "2",
                                "3",
                                "4",
                                "8",
                                "-1",
                                "-2",
                                "99999999999",
                                " ",
                                "#",
                                "1:2",
                                "65536"};
  std::mt19937 rng(31);
  int parsedRegister = 0, parsedShared = 0;
  for (int n = 0; n < 20000; ++n) {
    std::string text;
    int len = std::uniform_int_distribution<int>(0, 14)(rng);
    // Start from a valid prefix half of the time, so deeper states are hit.
    const char *const prefixes[] = {"", "local(2,1).spatial(", "spatial(2,2)",
                                    "shared(8,8)"};
    text = prefixes[n % 4];
    for (int k = 0; k < len; ++k)
      text += pieces[std::uniform_int_distribution<size_t>(
          0, std::size(pieces) - 1)(rng)];
    LayoutResult<RegisterLayout> r = parseRegisterLayout(text);
    if (r) {
      ++parsedRegister;
      EXPECT_EQ(*parseRegisterLayout(r->str()), *r) << text;
    } else {
      EXPECT_LE(r.error().offset, text.size()) << text;
      EXPECT_FALSE(r.error().message.empty());
    }
    LayoutResult<SharedLayout> s = parseSharedLayout(text);
    if (s) {
      ++parsedShared;
      EXPECT_EQ(*parseSharedLayout(s->str()), *s) << text;
    } else {
      EXPECT_LE(s.error().offset, text.size()) << text;
    }
  }
  EXPECT_GT(parsedRegister, 0);
  EXPECT_GT(parsedShared, 0);
}

} // namespace
