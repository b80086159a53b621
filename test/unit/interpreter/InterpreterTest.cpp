//===- InterpreterTest.cpp - The reference interpreter of the VM ----------===//
//
// Hand-written kernels run on random inputs; every output element is
// compared with a host computation that does not go through the
// interpreter's code paths (host float arithmetic, bit extraction by hand).
//
//===----------------------------------------------------------------------===//

#include "ir/interpreter/Interpreter.h"

#include "ir/dialect/Tilus.h"
#include "ir/dtype/DType.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace tilus;

namespace {

std::string replaceAll(std::string text, const std::string &from,
                       const std::string &to) {
  for (size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

/// A kernel with the given parameters and body (the `return` is added).
std::string kernel(const std::string &params, const std::string &body) {
  return "func.func @k(" + params +
         ") attributes {tilus.kernel, tilus.num_warps = 4 : i32, "
         "tilus.grid = [\"1\", \"1\", \"1\"]} {\n" +
         body + "\n  return\n}\n";
}

uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}

float bitsFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

class InterpreterTest : public ::testing::Test {
protected:
  InterpreterTest() {
    context.loadDialect<TilusDialect, mlir::func::FuncDialect,
                        mlir::arith::ArithDialect, mlir::scf::SCFDialect,
                        mlir::LLVM::LLVMDialect>();
  }

  /// Parses, verifies and interprets `text`; diagnostics go to `diag`.
  bool run(const std::string &text, std::vector<InterpreterArg> args,
           std::array<int64_t, 3> grid = {1, 1, 1},
           std::string *printed = nullptr) {
    diag.clear();
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
      diag += d.str() + "\n";
      return mlir::success();
    });
    mlir::OwningOpRef<mlir::ModuleOp> module =
        mlir::parseSourceString<mlir::ModuleOp>(text, &context);
    if (!module || mlir::failed(mlir::verify(*module))) {
      ADD_FAILURE() << "invalid test kernel:\n" << diag << text;
      return false;
    }
    auto func = *module->getOps<mlir::func::FuncOp>().begin();
    std::string out;
    llvm::raw_string_ostream os(out);
    InterpreterOptions options;
    options.grid = grid;
    options.printStream = &os;
    bool ok = mlir::succeeded(interpretKernel(func, args, options));
    if (printed)
      *printed = out;
    return ok;
  }

  /// Random codes of `dtype`: floats uniform in [-range, range] and
  /// rounded, other types uniform over their codes.
  std::vector<uint64_t> randomCodes(DType dtype, size_t count,
                                    double range = 4.0) {
    std::uniform_real_distribution<double> real(-range, range);
    std::vector<uint64_t> codes(count);
    for (uint64_t &code : codes)
      code =
          dtype.isFloat() ? encode(dtype, real(rng)) : rng() & dtype.codeMask();
    return codes;
  }

  std::mt19937_64 rng{20251126};
  mlir::MLIRContext context;
  std::string diag;
};

InterpreterArg bufferOf(std::vector<uint8_t> &bytes) {
  return InterpreterArg::buffer(bytes.data(), bytes.size());
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic
//===----------------------------------------------------------------------===//

struct TypeCase {
  const char *mlir; ///< the MLIR element type
  DType dtype;
};

/// The host's result of `op` on two codes of `dtype`, computed without the
/// dtype library's arithmetic: f32 with float operations, f16 and bf16 with
/// float operations rounded once (exact for + - * / since float has more
/// than 2p + 2 bits), integers with C++ integer operations.
uint64_t hostBinary(const std::string &op, DType dtype, uint64_t a,
                    uint64_t b) {
  if (dtype.isFloat()) {
    DType f32 = DType::f32();
    float x = bitsFloat(uint32_t(convert(a, dtype, f32)));
    float y = bitsFloat(uint32_t(convert(b, dtype, f32)));
    float r = op == "add"   ? x + y
              : op == "sub" ? x - y
              : op == "mul" ? x * y
              : op == "div" ? x / y
              : op == "rem" ? std::fmod(x, y)
              : op == "min" ? std::fmin(x, y)
                            : std::fmax(x, y);
    return convert(floatBits(r), f32, dtype, Overflow::Infinity);
  }
  unsigned width = dtype.bitWidth();
  uint64_t mask = width == 64 ? ~0ull : (1ull << width) - 1;
  if (dtype.kind() == DType::Kind::SignedInt) {
    int64_t x = int64_t(a << (64 - width)) >> (64 - width);
    int64_t y = int64_t(b << (64 - width)) >> (64 - width);
    int64_t r = op == "add"   ? x + y
                : op == "sub" ? x - y
                : op == "mul" ? x * y
                : op == "div" ? x / y
                : op == "rem" ? x % y
                : op == "min" ? std::min(x, y)
                : op == "max" ? std::max(x, y)
                : op == "and" ? x & y
                : op == "or"  ? x | y
                              : x ^ y;
    return uint64_t(r) & mask;
  }
  uint64_t r = op == "add"   ? a + b
               : op == "sub" ? a - b
               : op == "mul" ? a * b
               : op == "div" ? a / b
               : op == "rem" ? a % b
               : op == "min" ? std::min(a, b)
               : op == "max" ? std::max(a, b)
               : op == "and" ? a & b
               : op == "or"  ? a | b
                             : a ^ b;
  return r & mask;
}

TEST_F(InterpreterTest, BinaryOpsMatchHostArithmetic) {
  const std::vector<TypeCase> types = {
      {"f32", DType::f32()},
      {"f16", DType::f16()},
      {"bf16", DType::bf16()},
      {"i32", DType::signedInt(32)},
      {"i8", DType::signedInt(8)},
      {"i16", DType::signedInt(16)},
      {"!tilus.u8", DType::unsignedInt(8)},
      {"!tilus.u16", DType::unsignedInt(16)},
  };
  const std::vector<std::string> floatOps = {"add", "sub", "mul", "div",
                                             "rem", "min", "max"};
  const std::vector<std::string> intOps = {"add", "sub", "mul", "div", "rem",
                                           "min", "max", "and", "or",  "xor"};
  const int64_t n = 300;
  for (const TypeCase &type : types) {
    for (const std::string &op : type.dtype.isFloat() ? floatOps : intOps) {
      std::string tile = "!tilus.tile<512x" + std::string(type.mlir) + ">";
      std::string global = "!tilus.global<?x" + std::string(type.mlir) + ">";
      std::string body = R"(
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %pa[%n] : !llvm.ptr<1>, i32 -> GLOBAL
  %b = tilus.global_view %pb[%n] : !llvm.ptr<1>, i32 -> GLOBAL
  %c = tilus.global_view %pc[%n] : !llvm.ptr<1>, i32 -> GLOBAL
  %x = tilus.load_global %a[%c0] : GLOBAL, i32 -> TILE
  %y = tilus.load_global %b[%c0] : GLOBAL, i32 -> TILE
  %z = tilus.OP %x, %y : TILE
  tilus.store_global %z, %c[%c0] : TILE, GLOBAL, i32)";
      body = replaceAll(
          replaceAll(replaceAll(body, "GLOBAL", global), "TILE", tile), "OP",
          op);
      std::string text = kernel(
          "%pa: !llvm.ptr<1>, %pb: !llvm.ptr<1>, %pc: !llvm.ptr<1>, %n: i32",
          body);
      std::vector<uint64_t> a = randomCodes(type.dtype, n);
      std::vector<uint64_t> b = randomCodes(type.dtype, n);
      // Overflow goes to infinity, as in IEEE arithmetic.
      if (type.dtype.isFloat())
        a[0] = b[0] = type.dtype.maxFiniteCode();
      if (!type.dtype.isFloat() && (op == "div" || op == "rem"))
        for (uint64_t &code : b)
          code = code == 0 ? 1 : code;
      unsigned bits = type.dtype.bitWidth();
      std::vector<uint8_t> ba = packBits(a, bits), bb = packBits(b, bits);
      std::vector<uint8_t> bc(ba.size(), 0xAB);
      ASSERT_TRUE(run(text, {bufferOf(ba), bufferOf(bb), bufferOf(bc),
                             InterpreterArg::integer(n)}))
          << diag;
      std::vector<uint64_t> c = unpackBits(bc, n, bits);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(c[i], hostBinary(op, type.dtype, a[i], b[i]))
            << op << " " << type.mlir << " at " << i << ": "
            << decode(type.dtype, a[i]) << ", " << decode(type.dtype, b[i]);
    }
  }
}

TEST_F(InterpreterTest, IntegerDivisionByZeroAndOverflow) {
  // The ISA leaves these open; the interpreter gives what the emulator
  // gives: x / 0 is all ones, x % 0 is x, INT_MIN / -1 wraps.
  std::string text = kernel("%p: !llvm.ptr<1>", R"(
  %c0 = arith.constant 0 : i32
  %t = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<4xi32>
  %x = tilus.load_global %t[%c0] : !tilus.global<4xi32>, i32 -> !tilus.tile<2xi32>
  %c2 = arith.constant 2 : i32
  %d = tilus.load_global %t[%c2] : !tilus.global<4xi32>, i32 -> !tilus.tile<2xi32>
  %q = tilus.div %x, %d : !tilus.tile<2xi32>
  %r = tilus.rem %x, %d : !tilus.tile<2xi32>
  tilus.store_global %q, %t[%c0] : !tilus.tile<2xi32>, !tilus.global<4xi32>, i32
  tilus.store_global %r, %t[%c2] : !tilus.tile<2xi32>, !tilus.global<4xi32>, i32)");
  std::vector<int32_t> values = {7, INT32_MIN, 0, -1};
  std::vector<uint8_t> bytes(16);
  std::memcpy(bytes.data(), values.data(), 16);
  ASSERT_TRUE(run(text, {bufferOf(bytes)})) << diag;
  std::memcpy(values.data(), bytes.data(), 16);
  EXPECT_EQ(values[0], -1);        // 7 / 0
  EXPECT_EQ(values[1], INT32_MIN); // INT_MIN / -1
  EXPECT_EQ(values[2], 7);         // 7 % 0
  EXPECT_EQ(values[3], 0);         // INT_MIN % -1
}

//===----------------------------------------------------------------------===//
// Global memory: masking and packing
//===----------------------------------------------------------------------===//

TEST_F(InterpreterTest, LoadAndStoreMaskTheLastBlock) {
  // 2-d tiles of 16 x 8 over a 37 x 45 tensor: the last blocks run past both
  // extents; reads there are zero (checked through a second, padded output)
  // and writes are dropped.
  std::string text = kernel(
      "%pa: !llvm.ptr<1>, %pb: !llvm.ptr<1>, %pz: !llvm.ptr<1>, %m: i32, "
      "%n: i32",
      R"(
  %a = tilus.global_view %pa[%m, %n] : !llvm.ptr<1>, i32, i32 -> !tilus.global<?x?xf32>
  %b = tilus.global_view %pb[%m, %n] : !llvm.ptr<1>, i32, i32 -> !tilus.global<?x?xf32>
  %z = tilus.global_view %pz[] : !llvm.ptr<1> -> !tilus.global<48x48xf32>
  %bx = tilus.block_idx 0 : i32
  %by = tilus.block_idx 1 : i32
  %c16 = arith.constant 16 : i32
  %c8 = arith.constant 8 : i32
  %r = arith.muli %bx, %c16 : i32
  %c = arith.muli %by, %c8 : i32
  %x = tilus.load_global %a[%r, %c] : !tilus.global<?x?xf32>, i32, i32 -> !tilus.tile<16x8xf32>
  tilus.store_global %x, %b[%r, %c] : !tilus.tile<16x8xf32>, !tilus.global<?x?xf32>, i32, i32
  tilus.store_global %x, %z[%r, %c] : !tilus.tile<16x8xf32>, !tilus.global<48x48xf32>, i32, i32)");
  const int64_t m = 37, n = 45;
  std::vector<uint64_t> a = randomCodes(DType::f32(), m * n);
  std::vector<uint8_t> ba = packBits(a, 32);
  std::vector<uint8_t> bb(m * n * 4, 0), bz(48 * 48 * 4, 0xFF);
  ASSERT_TRUE(run(text,
                  {bufferOf(ba), bufferOf(bb), bufferOf(bz),
                   InterpreterArg::integer(m), InterpreterArg::integer(n)},
                  {3, 6, 1}))
      << diag;
  EXPECT_EQ(ba, bb);
  std::vector<uint64_t> z = unpackBits(bz, 48 * 48, 32);
  for (int64_t i = 0; i < 48; ++i)
    for (int64_t j = 0; j < 48; ++j)
      ASSERT_EQ(z[i * 48 + j], i < m && j < n ? a[i * n + j] : 0u)
          << i << ", " << j;
}

TEST_F(InterpreterTest, NegativeOffsetsReadZero) {
  std::string text = kernel("%p: !llvm.ptr<1>, %q: !llvm.ptr<1>", R"(
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<8xi32>
  %b = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<8xi32>
  %c0 = arith.constant 0 : i32
  %cm3 = arith.constant -3 : i32
  %x = tilus.load_global %a[%cm3] : !tilus.global<8xi32>, i32 -> !tilus.tile<8xi32>
  tilus.store_global %x, %b[%c0] : !tilus.tile<8xi32>, !tilus.global<8xi32>, i32)");
  std::vector<uint64_t> a = randomCodes(DType::signedInt(32), 8);
  std::vector<uint8_t> ba = packBits(a, 32), bb(32, 0x11);
  ASSERT_TRUE(run(text, {bufferOf(ba), bufferOf(bb)})) << diag;
  std::vector<uint64_t> b = unpackBits(bb, 8, 32);
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(b[i], i < 3 ? 0 : a[i - 3]) << i;
}

/// Element `i` of a packed array of `bits`-bit elements, by hand.
uint64_t extractBits(const std::vector<uint8_t> &bytes, size_t i,
                     unsigned bits) {
  uint64_t value = 0;
  for (unsigned b = 0; b < bits; ++b) {
    size_t bit = i * bits + b;
    value |= uint64_t((bytes[bit / 8] >> (bit % 8)) & 1) << b;
  }
  return value;
}

TEST_F(InterpreterTest, SubByteLoadsCastAndStores) {
  // u4, i3 and f4e2m1 tensors of 37 elements in tiles of 16: each block
  // casts its tile to f32 and also copies it one element further into a
  // packed output, so elements straddle bytes differently on the way out.
  const std::vector<TypeCase> types = {
      {"!tilus.u4", DType::unsignedInt(4)},
      {"!tilus.i3", DType::signedInt(3)},
      {"!tilus.f4e2m1", DType::smallFloat(2, 1)}};
  const int64_t n = 37;
  for (const TypeCase &type : types) {
    std::string body = R"(
  %c1 = arith.constant 1 : i32
  %c16 = arith.constant 16 : i32
  %n1 = arith.addi %n, %c1 : i32
  %a = tilus.global_view %pa[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xT>
  %f = tilus.global_view %pf[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xf32>
  %s = tilus.global_view %ps[%n1] : !llvm.ptr<1>, i32 -> !tilus.global<?xT>
  %bx = tilus.block_idx 0 : i32
  %o = arith.muli %bx, %c16 : i32
  %o1 = arith.addi %o, %c1 : i32
  %x = tilus.load_global %a[%o] : !tilus.global<?xT>, i32 -> !tilus.tile<16xT>
  %y = tilus.cast %x : !tilus.tile<16xT> -> !tilus.tile<16xf32>
  tilus.store_global %y, %f[%o] : !tilus.tile<16xf32>, !tilus.global<?xf32>, i32
  tilus.store_global %x, %s[%o1] : !tilus.tile<16xT>, !tilus.global<?xT>, i32)";
    body = replaceAll(body, "T>", std::string(type.mlir) + ">");
    std::string text = kernel(
        "%pa: !llvm.ptr<1>, %pf: !llvm.ptr<1>, %ps: !llvm.ptr<1>, %n: i32",
        body);
    unsigned bits = type.dtype.bitWidth();
    std::vector<uint8_t> ba(packedSize(n, bits));
    for (uint8_t &byte : ba)
      byte = uint8_t(rng());
    std::vector<uint8_t> bf(n * 4, 0), bs(packedSize(n + 1, bits), 0);
    ASSERT_TRUE(run(
        text,
        {bufferOf(ba), bufferOf(bf), bufferOf(bs), InterpreterArg::integer(n)},
        {3, 1, 1}))
        << diag;
    for (int64_t i = 0; i < n; ++i) {
      uint64_t code = extractBits(ba, i, bits);
      double expected;
      if (type.dtype.isFloat()) {
        // f4e2m1 by its definition: sign, 2 exponent bits (bias 1), 1
        // mantissa bit.
        int e = (code >> 1) & 3, mant = code & 1;
        double magnitude =
            e == 0 ? mant * 0.5 : (1 + mant * 0.5) * std::ldexp(1.0, e - 1);
        expected = (code & 8) ? -magnitude : magnitude;
      } else if (type.dtype.isSigned()) {
        expected = code >= 4 ? double(code) - 8 : double(code);
      } else {
        expected = double(code);
      }
      float got;
      std::memcpy(&got, &bf[i * 4], 4);
      ASSERT_EQ(got, expected) << type.mlir << " element " << i;
      ASSERT_EQ(extractBits(bs, i + 1, bits), code) << type.mlir << " " << i;
    }
    EXPECT_EQ(extractBits(bs, 0, bits), 0u) << "element 0 is not written";
  }
}

TEST_F(InterpreterTest, BoolTensorsAreBytes) {
  // A bool byte with any nonzero value is true; a stored bool is 0 or 1.
  std::string text = kernel("%p: !llvm.ptr<1>, %q: !llvm.ptr<1>", R"(
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64xi1>
  %b = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<64xi1>
  %x = tilus.load_global %a[%c0] : !tilus.global<64xi1>, i32 -> !tilus.tile<64xi1>
  %y = tilus.unary not %x : !tilus.tile<64xi1>
  tilus.store_global %y, %b[%c0] : !tilus.tile<64xi1>, !tilus.global<64xi1>, i32)");
  std::vector<uint8_t> a(64), b(64, 7);
  for (uint8_t &byte : a)
    byte = rng() % 3 == 0 ? 0 : uint8_t(rng());
  ASSERT_TRUE(run(text, {bufferOf(a), bufferOf(b)})) << diag;
  for (int i = 0; i < 64; ++i)
    EXPECT_EQ(b[i], a[i] == 0 ? 1 : 0) << i;
}

TEST_F(InterpreterTest, BufferTooSmallIsAnError) {
  std::string text = kernel("%p: !llvm.ptr<1>, %n: i32", R"(
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %p[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xf32>
  %x = tilus.load_global %a[%c0] : !tilus.global<?xf32>, i32 -> !tilus.tile<16xf32>)");
  std::vector<uint8_t> bytes(40);
  EXPECT_FALSE(run(text, {bufferOf(bytes), InterpreterArg::integer(16)}));
  EXPECT_NE(diag.find("element 10 of the global tensor of shape [16] lies "
                      "beyond its 40-byte buffer"),
            std::string::npos)
      << diag;
}

//===----------------------------------------------------------------------===//
// Casts, unary functions, comparisons
//===----------------------------------------------------------------------===//

TEST_F(InterpreterTest, CastFollowsTheDTypeLibrary) {
  const std::vector<TypeCase> types = {
      {"f32", DType::f32()},
      {"f16", DType::f16()},
      {"bf16", DType::bf16()},
      {"!tilus.f8e4m3", DType::smallFloat(4, 3)},
      {"!tilus.f6e3m2", DType::smallFloat(3, 2)},
      {"i8", DType::signedInt(8)},
      {"i32", DType::signedInt(32)},
      {"!tilus.u4", DType::unsignedInt(4)},
      {"i1", DType::boolean()},
  };
  const int64_t n = 64;
  for (const TypeCase &from : types) {
    for (const TypeCase &to : types) {
      std::string body = R"(
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %pa[] : !llvm.ptr<1> -> !tilus.global<64xA>
  %b = tilus.global_view %pb[] : !llvm.ptr<1> -> !tilus.global<64xB>
  %x = tilus.load_global %a[%c0] : !tilus.global<64xA>, i32 -> !tilus.tile<64xA>
  %y = tilus.cast %x : !tilus.tile<64xA> -> !tilus.tile<64xB>
  tilus.store_global %y, %b[%c0] : !tilus.tile<64xB>, !tilus.global<64xB>, i32)";
      body = replaceAll(replaceAll(body, "A>", std::string(from.mlir) + ">"),
                        "B>", std::string(to.mlir) + ">");
      std::string text = kernel("%pa: !llvm.ptr<1>, %pb: !llvm.ptr<1>", body);
      // Wide ranges so that narrowing saturates, with NaN and inf codes.
      std::vector<uint64_t> a = randomCodes(from.dtype, n, 1000.0);
      if (from.dtype.isBool())
        for (uint64_t &code : a)
          code &= 1;
      if (from.dtype.hasNaN())
        a[0] = from.dtype.nanCode();
      if (from.dtype.hasInfinity())
        a[1] = from.dtype.infinityCode(true);
      std::vector<uint8_t> ba = packBits(a, from.dtype.bitWidth());
      std::vector<uint8_t> bb(packedSize(n, to.dtype.bitWidth()));
      ASSERT_TRUE(run(text, {bufferOf(ba), bufferOf(bb)})) << diag;
      std::vector<uint64_t> b = unpackBits(bb, n, to.dtype.bitWidth());
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(b[i], convert(a[i], from.dtype, to.dtype))
            << from.mlir << " -> " << to.mlir << " at " << i;
    }
  }
}

TEST_F(InterpreterTest, UnaryFunctionsOnF32) {
  struct Case {
    const char *kind;
    std::function<float(float)> host;
    bool exact; ///< else within 2 ulp of the host's libm (glibc's bound)
    double lo, hi;
  };
  const std::vector<Case> cases = {
      {"neg", [](float x) { return -x; }, true, -8, 8},
      {"abs", [](float x) { return std::fabs(x); }, true, -8, 8},
      {"sqrt", [](float x) { return std::sqrt(x); }, true, 0, 100},
      {"round", [](float x) { return std::nearbyint(x); }, true, -8, 8},
      {"floor", [](float x) { return std::floor(x); }, true, -8, 8},
      {"ceil", [](float x) { return std::ceil(x); }, true, -8, 8},
      {"exp", [](float x) { return std::exp(x); }, false, -20, 20},
      {"exp2", [](float x) { return std::exp2(x); }, false, -20, 20},
      {"log", [](float x) { return std::log(x); }, false, 1e-3, 100},
      {"log2", [](float x) { return std::log2(x); }, false, 1e-3, 100},
      {"rsqrt", [](float x) { return 1 / std::sqrt(x); }, false, 1e-3, 100},
      {"tanh", [](float x) { return std::tanh(x); }, false, -5, 5},
      {"sin", [](float x) { return std::sin(x); }, false, -6, 6},
      {"cos", [](float x) { return std::cos(x); }, false, -6, 6},
  };
  const int64_t n = 256;
  for (const Case &c : cases) {
    std::string text = kernel("%p: !llvm.ptr<1>, %q: !llvm.ptr<1>",
                              R"(
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<256xf32>
  %b = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<256xf32>
  %x = tilus.load_global %a[%c0] : !tilus.global<256xf32>, i32 -> !tilus.tile<256xf32>
  %y = tilus.unary )" + std::string(c.kind) +
                                  R"( %x : !tilus.tile<256xf32>
  tilus.store_global %y, %b[%c0] : !tilus.tile<256xf32>, !tilus.global<256xf32>, i32)");
    std::uniform_real_distribution<float> dist(float(c.lo), float(c.hi));
    std::vector<float> a(n), b(n);
    for (float &x : a)
      x = dist(rng);
    a[0] = 2.5f; // a tie for round
    a[1] = -0.5f;
    std::vector<uint8_t> ba(n * 4), bb(n * 4);
    std::memcpy(ba.data(), a.data(), n * 4);
    ASSERT_TRUE(run(text, {bufferOf(ba), bufferOf(bb)})) << diag;
    std::memcpy(b.data(), bb.data(), n * 4);
    for (int64_t i = 0; i < n; ++i) {
      float expected = c.host(a[i]);
      if (std::isnan(expected)) {
        ASSERT_TRUE(std::isnan(b[i])) << c.kind << "(" << a[i] << ")";
        continue;
      }
      if (c.exact) {
        ASSERT_EQ(floatBits(b[i]), floatBits(expected))
            << c.kind << "(" << a[i] << ")";
        continue;
      }
      float ulp =
          std::nextafter(std::fabs(expected), INFINITY) - std::fabs(expected);
      ASSERT_LE(std::fabs(b[i] - expected), 2 * ulp)
          << c.kind << "(" << a[i] << ") = " << b[i] << ", host " << expected;
    }
  }
}

TEST_F(InterpreterTest, ExactUnaryOnHalfTypes) {
  // Correctly rounded functions of f16 and bf16: the host computes in float
  // and rounds once to the type, which equals rounding the exact value
  // since float has more than 2p + 2 bits for both.
  const std::vector<TypeCase> types = {{"f16", DType::f16()},
                                       {"bf16", DType::bf16()}};
  const std::vector<std::pair<std::string, float (*)(float)>> kinds = {
      {"sqrt", [](float x) { return std::sqrt(x); }},
      {"round", [](float x) { return std::nearbyint(x); }},
      {"floor", [](float x) { return std::floor(x); }},
      {"ceil", [](float x) { return std::ceil(x); }},
      {"neg", [](float x) { return -x; }},
      {"abs", [](float x) { return std::fabs(x); }},
  };
  DType f32 = DType::f32();
  for (const TypeCase &type : types) {
    for (const auto &[kind, host] : kinds) {
      std::string body = R"(
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<128xT>
  %b = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<128xT>
  %x = tilus.load_global %a[%c0] : !tilus.global<128xT>, i32 -> !tilus.tile<128xT>
  %y = tilus.unary KIND %x : !tilus.tile<128xT>
  tilus.store_global %y, %b[%c0] : !tilus.tile<128xT>, !tilus.global<128xT>, i32)";
      body = replaceAll(
          replaceAll(body, "xT>", "x" + std::string(type.mlir) + ">"), "KIND",
          kind);
      std::string text = kernel("%p: !llvm.ptr<1>, %q: !llvm.ptr<1>", body);
      std::vector<uint64_t> a = randomCodes(type.dtype, 128, 300.0);
      if (kind == "sqrt")
        for (uint64_t &code : a)
          code &= 0x7fff; // non-negative
      std::vector<uint8_t> ba = packBits(a, 16), bb(256);
      ASSERT_TRUE(run(text, {bufferOf(ba), bufferOf(bb)})) << diag;
      std::vector<uint64_t> b = unpackBits(bb, 128, 16);
      for (int i = 0; i < 128; ++i) {
        float x = bitsFloat(uint32_t(convert(a[i], type.dtype, f32)));
        uint64_t expected = convert(floatBits(host(x)), f32, type.dtype);
        ASSERT_EQ(b[i], expected) << kind << " " << type.mlir << " of " << x;
      }
    }
  }
}

TEST_F(InterpreterTest, UnaryOnIntegers) {
  std::string text = kernel("%p: !llvm.ptr<1>, %q: !llvm.ptr<1>", R"(
  %c0 = arith.constant 0 : i32
  %c64 = arith.constant 64 : i32
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64xi8>
  %b = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<192xi8>
  %x = tilus.load_global %a[%c0] : !tilus.global<64xi8>, i32 -> !tilus.tile<64xi8>
  %n = tilus.unary neg %x : !tilus.tile<64xi8>
  %m = tilus.unary abs %x : !tilus.tile<64xi8>
  %o = tilus.unary not %x : !tilus.tile<64xi8>
  %c128 = arith.constant 128 : i32
  tilus.store_global %n, %b[%c0] : !tilus.tile<64xi8>, !tilus.global<192xi8>, i32
  tilus.store_global %m, %b[%c64] : !tilus.tile<64xi8>, !tilus.global<192xi8>, i32
  tilus.store_global %o, %b[%c128] : !tilus.tile<64xi8>, !tilus.global<192xi8>, i32)");
  std::vector<uint8_t> a(64), b(192);
  for (uint8_t &byte : a)
    byte = uint8_t(rng());
  a[0] = 0x80;
  ASSERT_TRUE(run(text, {bufferOf(a), bufferOf(b)})) << diag;
  for (int i = 0; i < 64; ++i) {
    int8_t x = int8_t(a[i]);
    EXPECT_EQ(int8_t(b[i]), int8_t(-int(x))) << i;
    EXPECT_EQ(int8_t(b[64 + i]), int8_t(std::abs(int(x)))) << i;
    EXPECT_EQ(int8_t(b[128 + i]), int8_t(~x)) << i;
  }
}

TEST_F(InterpreterTest, CompareAndWhere) {
  // For each predicate, where(cmp(x, y), x, y) against the host.
  const std::vector<std::pair<std::string, std::function<bool(float, float)>>>
      predicates = {
          {"eq", [](float x, float y) { return x == y; }},
          {"ne", [](float x, float y) { return x != y; }},
          {"lt", [](float x, float y) { return x < y; }},
          {"le", [](float x, float y) { return x <= y; }},
          {"gt", [](float x, float y) { return x > y; }},
          {"ge", [](float x, float y) { return x >= y; }},
      };
  const int64_t n = 128;
  for (const auto &[name, host] : predicates) {
    std::string text = kernel(
        "%p: !llvm.ptr<1>, %q: !llvm.ptr<1>, %r: !llvm.ptr<1>",
        R"(
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<128xf32>
  %b = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<128xf32>
  %c = tilus.global_view %r[] : !llvm.ptr<1> -> !tilus.global<128xf32>
  %x = tilus.load_global %a[%c0] : !tilus.global<128xf32>, i32 -> !tilus.tile<128xf32>
  %y = tilus.load_global %b[%c0] : !tilus.global<128xf32>, i32 -> !tilus.tile<128xf32>
  %m = tilus.cmp )" +
            name + R"( %x, %y : !tilus.tile<128xf32> -> !tilus.tile<128xi1>
  %z = tilus.where %m, %x, %y : !tilus.tile<128xi1>, !tilus.tile<128xf32>
  tilus.store_global %z, %c[%c0] : !tilus.tile<128xf32>, !tilus.global<128xf32>, i32)");
    std::vector<float> a(n), b(n), c(n);
    std::uniform_int_distribution<int> small(-3, 3);
    for (int64_t i = 0; i < n; ++i) {
      // Small integers, so that equal pairs are common.
      a[i] = float(small(rng));
      b[i] = float(small(rng));
    }
    a[0] = NAN;
    b[1] = NAN;
    std::vector<uint8_t> ba(n * 4), bb(n * 4), bc(n * 4);
    std::memcpy(ba.data(), a.data(), n * 4);
    std::memcpy(bb.data(), b.data(), n * 4);
    ASSERT_TRUE(run(text, {bufferOf(ba), bufferOf(bb), bufferOf(bc)})) << diag;
    std::memcpy(c.data(), bc.data(), n * 4);
    for (int64_t i = 0; i < n; ++i) {
      float expected = host(a[i], b[i]) ? a[i] : b[i];
      ASSERT_EQ(floatBits(c[i]) & 0x7fffffffu,
                floatBits(expected) & 0x7fffffffu)
          << name << " " << a[i] << ", " << b[i];
    }
  }
}

//===----------------------------------------------------------------------===//
// Creation and data movement within tiles
//===----------------------------------------------------------------------===//

TEST_F(InterpreterTest, ArangeBroadcastSliceTransposeConvertLayout) {
  // out[i, j] = in[0, j + 2] (broadcast of a sliced row) + 100 * i (arange),
  // written transposed, through a convert_layout.
  std::string text = kernel("%p: !llvm.ptr<1>, %q: !llvm.ptr<1>", R"(
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<4x16xi32>
  %b = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<8x6xi32>
  %x = tilus.load_global %a[%c0, %c0] : !tilus.global<4x16xi32>, i32, i32 -> !tilus.tile<4x16xi32>
  %row = tilus.slice %x [0, 2] : !tilus.tile<4x16xi32> -> !tilus.tile<1x8xi32>
  %rows = tilus.broadcast %row : !tilus.tile<1x8xi32> -> !tilus.tile<6x8xi32>
  %i = tilus.arange 0 : !tilus.tile<6x8xi32>
  %c100 = arith.constant 100 : i32
  %h = tilus.full %c100 : i32 -> !tilus.tile<6x8xi32>
  %ih = tilus.mul %i, %h : !tilus.tile<6x8xi32>
  %s = tilus.add %rows, %ih : !tilus.tile<6x8xi32>
  %t = tilus.transpose %s [1, 0] : !tilus.tile<6x8xi32> -> !tilus.tile<8x6xi32>
  %u = tilus.convert_layout %t : !tilus.tile<8x6xi32> -> !tilus.tile<8x6xi32>
  tilus.store_global %u, %b[%c0, %c0] : !tilus.tile<8x6xi32>, !tilus.global<8x6xi32>, i32, i32)");
  std::vector<int32_t> a(64), b(48);
  for (int32_t &v : a)
    v = int32_t(rng() % 1000);
  std::vector<uint8_t> ba(256), bb(192);
  std::memcpy(ba.data(), a.data(), 256);
  ASSERT_TRUE(run(text, {bufferOf(ba), bufferOf(bb)})) << diag;
  std::memcpy(b.data(), bb.data(), 192);
  for (int j = 0; j < 8; ++j)
    for (int i = 0; i < 6; ++i)
      ASSERT_EQ(b[j * 6 + i], a[j + 2] + 100 * i) << i << ", " << j;
}

TEST_F(InterpreterTest, ViewReinterpretsRowMajorBits) {
  // 32 bytes viewed as 64 u4: element 2k is the low nibble of byte k.
  std::string text = kernel("%p: !llvm.ptr<1>, %q: !llvm.ptr<1>", R"(
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<32xi8>
  %b = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<64xi8>
  %x = tilus.load_global %a[%c0] : !tilus.global<32xi8>, i32 -> !tilus.tile<32xi8>
  %v = tilus.view %x : !tilus.tile<32xi8> -> !tilus.tile<64x!tilus.u4>
  %w = tilus.cast %v : !tilus.tile<64x!tilus.u4> -> !tilus.tile<64xi8>
  tilus.store_global %w, %b[%c0] : !tilus.tile<64xi8>, !tilus.global<64xi8>, i32)");
  std::vector<uint8_t> a(32), b(64);
  for (uint8_t &byte : a)
    byte = uint8_t(rng());
  ASSERT_TRUE(run(text, {bufferOf(a), bufferOf(b)})) << diag;
  for (int k = 0; k < 32; ++k) {
    EXPECT_EQ(b[2 * k], a[k] & 0xF) << k;
    EXPECT_EQ(b[2 * k + 1], a[k] >> 4) << k;
  }
}

//===----------------------------------------------------------------------===//
// Reductions and dot
//===----------------------------------------------------------------------===//

TEST_F(InterpreterTest, ReduceOverEachDimension) {
  // Sums round once from the exact sum (long double on the host is exact
  // enough for 24 values of [-4, 4]); max and min exactly; i32 sums wrap.
  for (const char *kind : {"sum", "max", "min"}) {
    for (int dim : {0, 1}) {
      for (const char *type : {"f32", "i32"}) {
        std::string t = type;
        std::string rshape = dim == 0 ? "1x24" : "16";
        std::string body = R"(
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<16x24xT>
  %x = tilus.load_global %a[%c0, %c0] : !tilus.global<16x24xT>, i32, i32 -> !tilus.tile<16x24xT>
  %r = tilus.reduce KIND %x {dim = DIM : i64, keepdim = KEEP} : !tilus.tile<16x24xT> -> !tilus.tile<RxT>
  %b = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<RxT>
  tilus.store_global %r, %b[IDX] : !tilus.tile<RxT>, !tilus.global<RxT>, I32S)";
        body = replaceAll(body, "KIND", kind);
        body = replaceAll(body, "DIM", std::to_string(dim));
        body = replaceAll(body, "KEEP", dim == 0 ? "true" : "false");
        body = replaceAll(body, "IDX", dim == 0 ? "%c0, %c0" : "%c0");
        body = replaceAll(body, "I32S", dim == 0 ? "i32, i32" : "i32");
        body = replaceAll(body, "RxT", rshape + "x" + t);
        body = replaceAll(body, "xT>", "x" + t + ">");
        std::string text = kernel("%p: !llvm.ptr<1>, %q: !llvm.ptr<1>", body);
        DType dtype = t == "f32" ? DType::f32() : DType::signedInt(32);
        std::vector<uint64_t> a = randomCodes(dtype, 16 * 24);
        std::vector<uint8_t> ba = packBits(a, 32);
        int64_t count = dim == 0 ? 24 : 16;
        std::vector<uint8_t> bb(count * 4);
        ASSERT_TRUE(run(text, {bufferOf(ba), bufferOf(bb)})) << diag;
        std::vector<uint64_t> b = unpackBits(bb, count, 32);
        for (int64_t o = 0; o < count; ++o) {
          long double fsum = 0;
          float fbest = 0;
          uint32_t isum = 0;
          int32_t ibest = 0;
          for (int64_t k = 0; k < (dim == 0 ? 16 : 24); ++k) {
            int64_t i = dim == 0 ? k * 24 + o : o * 24 + k;
            float f = bitsFloat(uint32_t(a[i]));
            int32_t v = int32_t(uint32_t(a[i]));
            fsum += f;
            isum += uint32_t(v);
            bool first = k == 0;
            if (std::string(kind) == "max") {
              fbest = first ? f : std::max(fbest, f);
              ibest = first ? v : std::max(ibest, v);
            } else {
              fbest = first ? f : std::min(fbest, f);
              ibest = first ? v : std::min(ibest, v);
            }
          }
          uint64_t expected;
          if (t == "f32")
            expected = std::string(kind) == "sum" ? floatBits(float(fsum))
                                                  : floatBits(fbest);
          else
            expected = std::string(kind) == "sum" ? isum : uint32_t(ibest);
          ASSERT_EQ(b[o], expected)
              << kind << " dim " << dim << " " << t << " at " << o;
        }
      }
    }
  }
}

TEST_F(InterpreterTest, DotF16AccumulatesInF32) {
  std::string text =
      kernel("%pa: !llvm.ptr<1>, %pb: !llvm.ptr<1>, %pc: !llvm.ptr<1>", R"(
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %pa[] : !llvm.ptr<1> -> !tilus.global<16x32xf16>
  %b = tilus.global_view %pb[] : !llvm.ptr<1> -> !tilus.global<32x8xf16>
  %c = tilus.global_view %pc[] : !llvm.ptr<1> -> !tilus.global<16x8xf32>
  %x = tilus.load_global %a[%c0, %c0] : !tilus.global<16x32xf16>, i32, i32 -> !tilus.tile<16x32xf16>
  %y = tilus.load_global %b[%c0, %c0] : !tilus.global<32x8xf16>, i32, i32 -> !tilus.tile<32x8xf16>
  %z = tilus.load_global %c[%c0, %c0] : !tilus.global<16x8xf32>, i32, i32 -> !tilus.tile<16x8xf32>
  %d = tilus.dot %x, %y, %z : !tilus.tile<16x32xf16>, !tilus.tile<32x8xf16>, !tilus.tile<16x8xf32>
  tilus.store_global %d, %c[%c0, %c0] : !tilus.tile<16x8xf32>, !tilus.global<16x8xf32>, i32, i32)");
  std::vector<uint64_t> a = randomCodes(DType::f16(), 16 * 32);
  std::vector<uint64_t> b = randomCodes(DType::f16(), 32 * 8);
  std::vector<uint64_t> c = randomCodes(DType::f32(), 16 * 8);
  std::vector<uint8_t> ba = packBits(a, 16), bb = packBits(b, 16),
                       bc = packBits(c, 32);
  ASSERT_TRUE(run(text, {bufferOf(ba), bufferOf(bb), bufferOf(bc)})) << diag;
  std::vector<uint64_t> d = unpackBits(bc, 16 * 8, 32);
  auto half = [](uint64_t code) {
    return bitsFloat(uint32_t(convert(code, DType::f16(), DType::f32())));
  };
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 8; ++j) {
      long double sum = bitsFloat(uint32_t(c[i * 8 + j]));
      for (int k = 0; k < 32; ++k)
        sum += (long double)half(a[i * 32 + k]) * half(b[k * 8 + j]);
      ASSERT_EQ(d[i * 8 + j], floatBits(float(sum))) << i << ", " << j;
    }
}

TEST_F(InterpreterTest, DotI8AccumulatesInI32) {
  std::string text =
      kernel("%pa: !llvm.ptr<1>, %pb: !llvm.ptr<1>, %pc: !llvm.ptr<1>", R"(
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %pa[] : !llvm.ptr<1> -> !tilus.global<8x64xi8>
  %b = tilus.global_view %pb[] : !llvm.ptr<1> -> !tilus.global<64x8x!tilus.u8>
  %c = tilus.global_view %pc[] : !llvm.ptr<1> -> !tilus.global<8x8xi32>
  %x = tilus.load_global %a[%c0, %c0] : !tilus.global<8x64xi8>, i32, i32 -> !tilus.tile<8x64xi8>
  %y = tilus.load_global %b[%c0, %c0] : !tilus.global<64x8x!tilus.u8>, i32, i32 -> !tilus.tile<64x8x!tilus.u8>
  %ys = tilus.cast %y : !tilus.tile<64x8x!tilus.u8> -> !tilus.tile<64x8xi8>
  %z = tilus.load_global %c[%c0, %c0] : !tilus.global<8x8xi32>, i32, i32 -> !tilus.tile<8x8xi32>
  %d = tilus.dot %x, %ys, %z : !tilus.tile<8x64xi8>, !tilus.tile<64x8xi8>, !tilus.tile<8x8xi32>
  tilus.store_global %d, %c[%c0, %c0] : !tilus.tile<8x8xi32>, !tilus.global<8x8xi32>, i32, i32)");
  std::vector<uint8_t> a(512), b(512), bc(256);
  for (uint8_t &v : a)
    v = uint8_t(rng());
  for (uint8_t &v : b)
    v = uint8_t(rng());
  std::vector<int32_t> c(64);
  for (int32_t &v : c)
    v = int32_t(rng());
  std::memcpy(bc.data(), c.data(), 256);
  ASSERT_TRUE(run(text, {bufferOf(a), bufferOf(b), bufferOf(bc)})) << diag;
  std::vector<int32_t> d(64);
  std::memcpy(d.data(), bc.data(), 256);
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) {
      uint32_t sum = uint32_t(c[i * 8 + j]);
      for (int k = 0; k < 64; ++k)
        sum += uint32_t(int8_t(a[i * 64 + k]) * int8_t(b[k * 8 + j]));
      ASSERT_EQ(uint32_t(d[i * 8 + j]), sum) << i << ", " << j;
    }
}

//===----------------------------------------------------------------------===//
// Shared memory and asynchronous copies
//===----------------------------------------------------------------------===//

TEST_F(InterpreterTest, SharedTensorsAndAsyncCopies) {
  // A 20 x 12 tensor; the block copies the 8 x 8 region at (16, 8) into
  // shared memory (zero outside the tensor), stores a tile of its own at
  // rows 8..15 and writes the whole 16 x 8 shared tensor out.
  // copy_async in the generic form, which does not depend on its assembly
  // format.
  std::string text = kernel("%pa: !llvm.ptr<1>, %pb: !llvm.ptr<1>", R"(
  %c0 = arith.constant 0 : i32
  %c8 = arith.constant 8 : i32
  %c16 = arith.constant 16 : i32
  %a = tilus.global_view %pa[] : !llvm.ptr<1> -> !tilus.global<20x12xf16>
  %b = tilus.global_view %pb[] : !llvm.ptr<1> -> !tilus.global<16x8xf16>
  %s = tilus.alloc_shared : !tilus.shared<16x8xf16>
  %t = tilus.alloc_shared : !tilus.shared<8x8xf16>
  "tilus.copy_async"(%a, %c16, %c8, %t) : (!tilus.global<20x12xf16>, i32, i32, !tilus.shared<8x8xf16>) -> ()
  tilus.copy_async_commit
  tilus.copy_async_wait 0
  tilus.sync
  %x = tilus.load_shared %t[%c0, %c0] : !tilus.shared<8x8xf16>, i32, i32 -> !tilus.tile<8x8xf16>
  tilus.store_shared %x, %s[%c0, %c0] : !tilus.tile<8x8xf16>, !tilus.shared<16x8xf16>, i32, i32
  %y = tilus.load_global %a[%c0, %c0] : !tilus.global<20x12xf16>, i32, i32 -> !tilus.tile<8x8xf16>
  tilus.store_shared %y, %s[%c8, %c0] : !tilus.tile<8x8xf16>, !tilus.shared<16x8xf16>, i32, i32
  tilus.sync
  %z = tilus.load_shared %s[%c0, %c0] : !tilus.shared<16x8xf16>, i32, i32 -> !tilus.tile<16x8xf16>
  tilus.free_shared %t : !tilus.shared<8x8xf16>
  tilus.free_shared %s : !tilus.shared<16x8xf16>
  tilus.store_global %z, %b[%c0, %c0] : !tilus.tile<16x8xf16>, !tilus.global<16x8xf16>, i32, i32)");
  std::vector<uint64_t> a = randomCodes(DType::f16(), 20 * 12);
  std::vector<uint8_t> ba = packBits(a, 16), bb(16 * 8 * 2, 0xEE);
  ASSERT_TRUE(run(text, {bufferOf(ba), bufferOf(bb)})) << diag;
  std::vector<uint64_t> b = unpackBits(bb, 16 * 8, 16);
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 8; ++j) {
      uint64_t expected;
      if (i < 8)
        expected = (16 + i < 20 && 8 + j < 12) ? a[(16 + i) * 12 + 8 + j] : 0;
      else
        expected = a[(i - 8) * 12 + j];
      ASSERT_EQ(b[i * 8 + j], expected) << i << ", " << j;
    }
}

TEST_F(InterpreterTest, SharedAccessOutsideIsAnError) {
  std::string text = kernel("", R"(
  %c4 = arith.constant 4 : i32
  %c0 = arith.constant 0 : i32
  %s = tilus.alloc_shared : !tilus.shared<8x8xf32>
  %x = tilus.load_shared %s[%c4, %c0] : !tilus.shared<8x8xf32>, i32, i32 -> !tilus.tile<8x8xf32>)");
  EXPECT_FALSE(run(text, {}));
  EXPECT_NE(diag.find("tile of shape [8, 8] at [4, 0] does not lie inside "
                      "the shared tensor of shape [8, 8]"),
            std::string::npos)
      << diag;
}

TEST_F(InterpreterTest, UseAfterFreeIsAnError) {
  std::string text = kernel("", R"(
  %c0 = arith.constant 0 : i32
  %s = tilus.alloc_shared : !tilus.shared<8xf32>
  tilus.free_shared %s : !tilus.shared<8xf32>
  %x = tilus.load_shared %s[%c0] : !tilus.shared<8xf32>, i32 -> !tilus.tile<8xf32>)");
  EXPECT_FALSE(run(text, {}));
  EXPECT_NE(diag.find("shared tensor is used after free_shared"),
            std::string::npos)
      << diag;
}

//===----------------------------------------------------------------------===//
// Scalars and control flow
//===----------------------------------------------------------------------===//

TEST_F(InterpreterTest, ScalarArithmeticAndControlFlow) {
  // Every result is written as one element of an i32 output; inputs are
  // the scalar arguments.
  std::string text = kernel("%p: !llvm.ptr<1>, %a: i32, %b: i32, %f: f32", R"(
  %o = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<16xi32>
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %r0 = arith.ceildivsi %a, %b : i32
  %r1 = arith.remsi %a, %b : i32
  %r2 = arith.divsi %a, %b : i32
  %r3 = arith.minsi %a, %b : i32
  %r4 = arith.maxsi %a, %b : i32
  %lt = arith.cmpi slt, %a, %b : i32
  %r5 = arith.select %lt, %c1, %c0 : i32
  %fb = arith.sitofp %b : i32 to f32
  %fs = arith.mulf %f, %fb : f32
  %r6 = arith.fptosi %fs : f32 to i32
  %a64 = arith.extsi %a : i32 to i64
  %sq = arith.muli %a64, %a64 : i64
  %r7 = arith.trunci %sq : i64 to i32
  %idx = arith.index_cast %a : i32 to index
  %r8 = arith.index_cast %idx : index to i32
  %r9 = arith.subi %a, %b : i32
  // A loop summing 0..a-1 by 3 and a while loop doubling 1 until > b.
  %c3 = arith.constant 3 : i32
  %r10 = scf.for %i = %c0 to %a step %c3 iter_args(%acc = %c0) -> (i32) : i32 {
    %s = arith.addi %acc, %i : i32
    scf.yield %s : i32
  }
  %r11 = scf.while (%x = %c1) : (i32) -> i32 {
    %go = arith.cmpi sle, %x, %b : i32
    scf.condition(%go) %x : i32
  } do {
  ^bb0(%x: i32):
    %y = arith.addi %x, %x : i32
    scf.yield %y : i32
  }
  %r12 = scf.if %lt -> (i32) {
    scf.yield %a : i32
  } else {
    scf.yield %b : i32
  }
  %fc = arith.cmpf olt, %f, %fb : f32
  %r13 = arith.extui %fc : i1 to i32
  %r14 = arith.ceildivsi %r9, %c3 : i32
  %cm1 = arith.constant -1 : i32
  %r15 = arith.shrsi %cm1, %c3 : i32
  %t = tilus.full %c0 : i32 -> !tilus.tile<1xi32>
  tilus.store_global %t, %o[%c0] : !tilus.tile<1xi32>, !tilus.global<16xi32>, i32
  REPLACE)");
  std::string stores;
  for (int i = 0; i < 16; ++i)
    stores += "%c" + std::to_string(i) + "_ = arith.constant " +
              std::to_string(i) + " : i32\n  %t" + std::to_string(i) +
              " = tilus.full %r" + std::to_string(i) +
              " : i32 -> !tilus.tile<1xi32>\n  tilus.store_global %t" +
              std::to_string(i) + ", %o[%c" + std::to_string(i) +
              "_] : !tilus.tile<1xi32>, !tilus.global<16xi32>, i32\n  ";
  text = replaceAll(text, "REPLACE", stores);
  std::uniform_int_distribution<int32_t> dist(-1000, 1000);
  for (int trial = 0; trial < 50; ++trial) {
    int32_t a = dist(rng), b = dist(rng);
    if (b == 0)
      b = 7;
    if (trial == 0)
      a = 17, b = 5;
    float f = float(dist(rng)) / 8;
    std::vector<uint8_t> out(64);
    ASSERT_TRUE(
        run(text, {bufferOf(out), InterpreterArg::integer(a),
                   InterpreterArg::integer(b), InterpreterArg::real(f)}))
        << diag;
    std::vector<int32_t> r(16);
    std::memcpy(r.data(), out.data(), 64);
    int32_t ceil = a / b + ((a % b != 0) && ((a < 0) == (b < 0)) ? 1 : 0);
    int32_t loop = 0;
    for (int32_t i = 0; i < a; i += 3)
      loop += i;
    int32_t doubled = 1;
    while (doubled <= b)
      doubled *= 2;
    int32_t diff = a - b;
    int32_t ceil3 = diff / 3 + ((diff % 3 != 0) && diff > 0 ? 1 : 0);
    std::vector<int32_t> expected = {ceil,
                                     a % b,
                                     a / b,
                                     std::min(a, b),
                                     std::max(a, b),
                                     a < b,
                                     int32_t(f * float(b)),
                                     int32_t(int64_t(a) * a),
                                     a,
                                     diff,
                                     loop,
                                     doubled,
                                     a < b ? a : b,
                                     f < float(b),
                                     ceil3,
                                     -1};
    for (int i = 0; i < 16; ++i)
      ASSERT_EQ(r[i], expected[i]) << "result " << i << " for a = " << a
                                   << ", b = " << b << ", f = " << f;
  }
}

TEST_F(InterpreterTest, GridAndBlockIndices) {
  // Each block of a 3 x 2 x 2 grid writes bx + 10 by + 100 bz at its own
  // linear position.
  std::string text = kernel("%p: !llvm.ptr<1>", R"(
  %o = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<12xi32>
  %bx = tilus.block_idx 0 : i32
  %by = tilus.block_idx 1 : i32
  %bz = tilus.block_idx 2 : i32
  %c3 = arith.constant 3 : i32
  %c6 = arith.constant 6 : i32
  %c10 = arith.constant 10 : i32
  %c100 = arith.constant 100 : i32
  %y3 = arith.muli %by, %c3 : i32
  %z6 = arith.muli %bz, %c6 : i32
  %l0 = arith.addi %bx, %y3 : i32
  %l = arith.addi %l0, %z6 : i32
  %y10 = arith.muli %by, %c10 : i32
  %z100 = arith.muli %bz, %c100 : i32
  %v0 = arith.addi %bx, %y10 : i32
  %v = arith.addi %v0, %z100 : i32
  %t = tilus.full %v : i32 -> !tilus.tile<1xi32>
  tilus.store_global %t, %o[%l] : !tilus.tile<1xi32>, !tilus.global<12xi32>, i32)");
  std::vector<uint8_t> out(48);
  ASSERT_TRUE(run(text, {bufferOf(out)}, {3, 2, 2})) << diag;
  std::vector<int32_t> r(12);
  std::memcpy(r.data(), out.data(), 48);
  for (int z = 0; z < 2; ++z)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x)
        EXPECT_EQ(r[x + 3 * y + 6 * z], x + 10 * y + 100 * z);
}

//===----------------------------------------------------------------------===//
// Print and errors
//===----------------------------------------------------------------------===//

TEST_F(InterpreterTest, PrintFormat) {
  std::string text = kernel("%n: i32", R"(
  %c = arith.constant 1.5 : f16
  %x = tilus.full %c : f16 -> !tilus.tile<2x2xf16>
  %i = tilus.arange 1 : !tilus.tile<2x2xi32>
  %m = tilus.cmp lt %i, %i : !tilus.tile<2x2xi32> -> !tilus.tile<2x2xi1>
  tilus.print "x" %x : !tilus.tile<2x2xf16>
  tilus.print "i" %i : !tilus.tile<2x2xi32>
  tilus.print "m" %m : !tilus.tile<2x2xi1>
  tilus.print "n" %n : i32
  %third = arith.constant 0.333333343 : f32
  tilus.print "t" %third : f32)");
  std::string printed;
  ASSERT_TRUE(run(text, {InterpreterArg::integer(-7)}, {1, 1, 1}, &printed))
      << diag;
  EXPECT_EQ(printed, "x[0, 0] = 1.5\nx[0, 1] = 1.5\nx[1, 0] = 1.5\n"
                     "x[1, 1] = 1.5\ni[0, 0] = 0\ni[0, 1] = 1\ni[1, 0] = 0\n"
                     "i[1, 1] = 1\nm[0, 0] = 0\nm[0, 1] = 0\nm[1, 0] = 0\n"
                     "m[1, 1] = 0\nn = -7\nt = 0.333333\n");
}

TEST_F(InterpreterTest, UnsupportedOpsAreNamed) {
  std::string text = kernel("%a: i32", R"(
  %r:2 = arith.mulsi_extended %a, %a : i32)");
  EXPECT_FALSE(run(text, {InterpreterArg::integer(3)}));
  EXPECT_NE(diag.find("the interpreter does not support op "
                      "'arith.mulsi_extended'"),
            std::string::npos)
      << diag;

  text = kernel("", R"(
  %t = tilus.thread_idx : i32)");
  EXPECT_FALSE(run(text, {}));
  EXPECT_NE(diag.find("does not support op 'tilus.thread_idx'"),
            std::string::npos)
      << diag;
}

TEST_F(InterpreterTest, ArgumentsMustMatchParameters) {
  std::string text = kernel("%p: !llvm.ptr<1>, %n: i32", "");
  EXPECT_FALSE(run(text, {InterpreterArg::integer(1)}));
  EXPECT_NE(diag.find("the kernel has 2 parameters but 1 arguments were given"),
            std::string::npos)
      << diag;
  EXPECT_FALSE(
      run(text, {InterpreterArg::integer(1), InterpreterArg::integer(1)}));
  EXPECT_NE(diag.find("argument 0 must be a buffer"), std::string::npos)
      << diag;
}

} // namespace
