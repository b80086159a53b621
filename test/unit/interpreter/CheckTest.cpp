//===- CheckTest.cpp - Comparing device results with the interpreter ------===//

#include "ir/interpreter/Check.h"

#include "ir/dialect/Tilus.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace tilus;

namespace {

TEST(CheckTest, IntegersAndBoolMatchExactly) {
  DType i8 = DType::signedInt(8);
  Tolerance loose{0.5, 0.5};
  for (uint64_t a = 0; a < 256; ++a)
    for (uint64_t b = 0; b < 256; ++b)
      ASSERT_EQ(elementsMatch(i8, a, b, loose), a == b);
  DType boolean = DType::boolean();
  EXPECT_TRUE(elementsMatch(boolean, 1, 7, {}));
  EXPECT_FALSE(elementsMatch(boolean, 0, 1, {}));
}

TEST(CheckTest, FloatTolerance) {
  // Every pair of f16 codes from a random sample: the rule of the header,
  // recomputed from the decoded values.
  DType f16 = DType::f16();
  std::mt19937_64 rng(7);
  Tolerance tolerance{std::ldexp(1.0, -8), std::ldexp(1.0, -10)};
  for (int trial = 0; trial < 200000; ++trial) {
    uint64_t d = rng() & 0xffff;
    // Nearby codes, so that both outcomes are common.
    uint64_t r = (d + (rng() % 64) - 32) & 0xffff;
    double x = decode(f16, d), y = decode(f16, r);
    bool expected;
    if (std::isnan(x) || std::isnan(y))
      expected = std::isnan(x) && std::isnan(y);
    else if (std::isinf(x) || std::isinf(y))
      expected = x == y;
    else
      expected = std::fabs(x - y) <=
                 tolerance.absolute + tolerance.relative * std::fabs(y);
    ASSERT_EQ(elementsMatch(f16, d, r, tolerance), expected) << d << " " << r;
    // Exact: equal codes, or two NaNs.
    ASSERT_EQ(elementsMatch(f16, d, r, {}),
              d == r || (std::isnan(x) && std::isnan(y)));
  }
}

TEST(CheckTest, FirstMismatchAndCount) {
  DType u4 = DType::unsignedInt(4);
  std::vector<uint64_t> a(37), b(37);
  std::mt19937_64 rng(3);
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = b[i] = rng() & 0xf;
  std::vector<uint8_t> pa = packBits(a, 4);
  EXPECT_FALSE(compareElements(u4, pa.data(), pa.data(), 37, {}));
  b[5] ^= 1;
  b[30] ^= 8;
  std::vector<uint8_t> pb = packBits(b, 4);
  std::optional<Mismatch> m = compareElements(u4, pa.data(), pb.data(), 37, {});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->index, 5u);
  EXPECT_EQ(m->deviceCode, a[5]);
  EXPECT_EQ(m->referenceCode, b[5]);
  EXPECT_EQ(m->count, 2u);
}

TEST(CheckTest, DefaultToleranceFollowsTheKernel) {
  mlir::MLIRContext context;
  context.loadDialect<TilusDialect, mlir::func::FuncDialect,
                      mlir::arith::ArithDialect, mlir::scf::SCFDialect,
                      mlir::LLVM::LLVMDialect>();
  auto toleranceOf = [&](const std::string &body, DType dtype) {
    std::string text = "func.func @k(%x: !tilus.tile<16x16xf32>) attributes "
                       "{tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid "
                       "= [\"1\", \"1\", \"1\"]} {\n" +
                       body + "\n  return\n}\n";
    mlir::OwningOpRef<mlir::ModuleOp> module =
        mlir::parseSourceString<mlir::ModuleOp>(text, &context);
    EXPECT_TRUE(module) << text;
    return defaultTolerance(*module->getOps<mlir::func::FuncOp>().begin(),
                            dtype);
  };
  DType f32 = DType::f32(), f16 = DType::f16();
  // Correctly rounded instructions only: bit-exact.
  std::string exact = R"(
  %y = tilus.add %x, %x : !tilus.tile<16x16xf32>
  %z = tilus.unary sqrt %y : !tilus.tile<16x16xf32>)";
  EXPECT_TRUE(toleranceOf(exact, f32).isExact());
  EXPECT_TRUE(toleranceOf(exact, f16).isExact());
  std::string approx = R"(
  %y = tilus.unary exp %x : !tilus.tile<16x16xf32>)";
  EXPECT_EQ(toleranceOf(approx, f32).relative, std::ldexp(1.0, -16));
  EXPECT_EQ(toleranceOf(approx, f16).relative, std::ldexp(1.0, -10));
  EXPECT_TRUE(toleranceOf(approx, DType::signedInt(32)).isExact());
  std::string tanh = R"(
  %y = tilus.unary tanh %x : !tilus.tile<16x16xf32>)";
  EXPECT_EQ(toleranceOf(tanh, f32).absolute, std::ldexp(1.0, -10));
  std::string sum = R"(
  %y = tilus.reduce sum %x {dim = 1 : i64, keepdim = false} : !tilus.tile<16x16xf32> -> !tilus.tile<16xf32>)";
  EXPECT_EQ(toleranceOf(sum, f32).relative, std::ldexp(1.0, -16));
  std::string max = R"(
  %y = tilus.reduce max %x {dim = 1 : i64, keepdim = false} : !tilus.tile<16x16xf32> -> !tilus.tile<16xf32>)";
  EXPECT_TRUE(toleranceOf(max, f32).isExact());
  std::string dot = R"(
  %y = tilus.dot %x, %x, %x : !tilus.tile<16x16xf32>, !tilus.tile<16x16xf32>, !tilus.tile<16x16xf32>)";
  EXPECT_FALSE(toleranceOf(dot, f32).isExact());
}

TEST(CheckTest, FormatElement) {
  EXPECT_EQ(formatElement(DType::f32(), 0x3eaaaaab),
            "0.333333343 (code 0x3eaaaaab)");
  EXPECT_EQ(formatElement(DType::f16(), 0x7fff), "nan (code 0x7fff)");
  EXPECT_EQ(formatElement(DType::signedInt(3), 0x5), "-3");
  EXPECT_EQ(formatElement(DType::signedInt(64), ~0ull), "-1");
  EXPECT_EQ(formatElement(DType::unsignedInt(64), ~0ull),
            "18446744073709551615");
}

} // namespace
