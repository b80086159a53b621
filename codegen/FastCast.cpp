//===- FastCast.cpp - Packed casts of small types to f16/bf16 -------------===//
//
// Each pair of registers becomes one program, four programs to an
// inline-assembly block (their lines interleaved, so that in program order
// no instruction waits on the one before it), that starts with
//
//   mov.b32 %x, {a, b};     // code of a in bits [0, 16), of b in [16, 32)
//
// (the 16-bit registers PTX keeps an i8 in may hold anything above the code,
// so every program below masks before it relies on a bit) and ends with one
// f16x2 or bf16x2 instruction whose result is the two converted values. The
// f16x2/bf16x2 operands that are constants travel as "r" operands: PTX has no
// immediate form for them, and LLVM materializes each constant once.
//
//===----------------------------------------------------------------------===//

#include "codegen/FastCast.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <array>
#include <cctype>
#include <map>

using namespace mlir;
using namespace tilus;

namespace {

/// `half` in both 16-bit halves of a word.
uint32_t both(uint32_t half) { return half | half << 16; }

/// The sign bits of both halves.
constexpr uint32_t kSigns = 0x80008000;

/// The 16-bit float formats a fast cast produces.
struct Target {
  bool isHalf;       ///< f16, else bf16
  unsigned exponent; ///< exponent bits: 5, 8
  int bias;          ///< 15, 127

  static Target get(DType to) {
    if (to == DType::f16())
      return {true, 5, 15};
    return {false, 8, 127};
  }
  /// The code of 2^e, for the e that occur here (normal in both formats).
  uint32_t powerOfTwo(int e) const {
    return static_cast<uint32_t>(e + bias) << (15 - exponent);
  }
};

/// The PTX of one packed conversion: instructions on %x (the packed codes)
/// and the scratch registers %t and %m, result in $0; `constants` are the
/// words of the "r" operands $3, $4, ...
struct Program {
  std::string body;
  llvm::SmallVector<uint32_t, 2> constants;
};

/// The final instruction: `$0 = %x * scale` for f16, and for bf16 (sm_80 has
/// no bf16x2 multiply) `$0 = %x * scale + (-0)`. Adding -0 keeps every
/// product, -0 included, so both are one exact rounding-free step.
void scaleBy(Program &p, Target target, uint32_t scale) {
  if (target.isHalf) {
    p.body += "mul.rn.f16x2 $0, %x, $3;\n";
    p.constants = {both(scale)};
    return;
  }
  p.body += "fma.rn.bf16x2 $0, %x, $3, $4;\n";
  p.constants = {both(scale), kSigns};
}

/// Integers of at most 8 bits: the code goes into the low mantissa bits of
/// a power of two P whose mantissa is wide enough (f16: 1024 = 0x6400, ten
/// bits; bf16: 128 = 0x4300, seven bits), so the half reads P + code; one
/// subtraction of P leaves the value exactly. A signed code first has its
/// sign bit flipped, which adds 2^(K-1) to the value (two's complement,
/// modulo 2^K), and then P + 2^(K-1) is subtracted.
/// 8-bit integers to bf16, whose seven mantissa bits cannot hold the code
/// under a power of two: each code goes under the exponent of 2^23 in an f32
/// (prmt with the magic word $3, 0x4b000000), one f32 subtraction leaves the
/// value exactly, and cvt.rn.bf16x2.f32 packs both (exact: every 8-bit
/// integer is a bf16). A signed code has its sign bit flipped first, which
/// adds 128, and 2^23 + 128 is subtracted.
Program byteToBf16Program(DType from) {
  bool isSigned = from.isSigned();
  const char *bias = isSigned ? "0f4B000080" : "0f4B000000";
  Program p;
  if (isSigned)
    p.body = "xor.b32 %x, %x, 0x00800080;\n";
  p.body += llvm::formatv("prmt.b32 %t, %x, $3, 0x7650;\n"
                          "prmt.b32 %m, %x, $3, 0x7652;\n"
                          "sub.rn.f32 %t, %t, {0};\n"
                          "sub.rn.f32 %m, %m, {0};\n"
                          "cvt.rn.bf16x2.f32 $0, %m, %t;\n",
                          bias)
                .str();
  p.constants = {0x4b000000};
  return p;
}

std::optional<Program> integerProgram(DType from, Target target) {
  unsigned bits = from.bitWidth();
  if (!target.isHalf && bits == 8)
    return byteToBf16Program(from);
  if (bits > (target.isHalf ? 8u : 7u))
    return std::nullopt;
  uint32_t magic = target.isHalf ? 0x6400 : 0x4300;
  uint32_t offset = from.isSigned() ? 1u << (bits - 1) : 0;
  uint32_t mask = both((1u << bits) - 1);
  Program p;
  // LUT 0xea is (a & b) | c: the masked code under the exponent of P.
  // LUT 0x6a is b ? a ^ c : c: the same with the sign bit (set in c) flipped.
  p.body =
      llvm::formatv("lop3.b32 %x, %x, {0:x8}, {1:x8}, {2};\n", mask,
                    both(magic | offset), from.isSigned() ? "0x6a" : "0xea")
          .str();
  uint32_t biased = magic + offset;
  if (target.isHalf) {
    p.body += "sub.rn.f16x2 $0, %x, $3;\n";
    p.constants = {both(biased)};
  } else {
    // 0x3f80 is 1.0; the sign bit makes the addend -(P + offset).
    p.body += "fma.rn.bf16x2 $0, %x, $3, $4;\n";
    p.constants = {both(0x3f80), both(0x8000 | biased)};
  }
  return p;
}

/// Floats (bias b) to f16 or bf16, but E = 5 to f16: with the sign in bit 15,
/// the exponent and mantissa fields moved so that the mantissa's top bit is the
/// target's, the half is the target float of value * 2^(b - target bias),
/// for normal and subnormal codes alike (both scale by the same power of
/// two); one exact multiplication by 2^(target bias - b) gives the value.
/// Codes of infinity or NaN (f8e4m3's all-ones magnitude, an all-ones
/// exponent for E = 5) get an all-ones target exponent first, so the
/// multiplication keeps infinity and returns the canonical NaN.
std::optional<Program> smallFloatProgram(DType from, Target target) {
  unsigned bits = from.bitWidth(), exponent = from.exponentBits();
  bool specials = from.floatSpecials() != DType::FloatSpecials::Finite;
  // The shift that puts the exponent field right below the target's top
  // exponent bits.
  unsigned k = target.exponent - exponent;
  unsigned up = 16 - bits;
  uint32_t magnitude = both(((1u << (bits - 1)) - 1) << up);
  Program p;
  // %t: each code at the top of its half (sign in bit 15); the garbage above
  // the first code lands below the second and is masked off in %m.
  p.body = llvm::formatv("shl.b32 %t, %x, {0};\n"
                         "and.b32 %m, %t, {1:x8};\n",
                         up, magnitude)
               .str();
  // Adding 1 at the lowest bit of the part that is all ones for exactly the
  // special codes (the magnitude for NaN-only f8e4m3, the exponent field for
  // E = 5) carries into bit 15 only for them; no half carries into the next.
  unsigned lowest = from.floatSpecials() == DType::FloatSpecials::NaNOnly
                        ? up
                        : up + from.mantissaBits();
  if (specials)
    p.body +=
        llvm::formatv("add.u32 %x, %m, {0:x8};\n", both(1u << lowest)).str();
  if (specials && k == 1)
    // The carry, kept with the magnitude, becomes the fifth f16 exponent bit.
    p.body +=
        llvm::formatv("lop3.b32 %m, %x, {0:x8}, %m, 0xea;\n", kSigns).str();
  p.body += llvm::formatv("shr.b32 %m, %m, {0};\n", k).str();
  if (specials && k != 1)
    // The carry c (bit 15) becomes c - (c >> target exponent bits): ones in
    // exactly the target's exponent field (0x7f80 for bf16).
    p.body += llvm::formatv("and.b32 %x, %x, {0:x8};\n"
                            "shr.b32 %s, %x, {1};\n"
                            "sub.u32 %x, %x, %s;\n"
                            "or.b32 %m, %m, %x;\n",
                            kSigns, target.exponent)
                  .str();
  // LUT 0xea: (a & b) | c, the sign of %t over the shifted magnitude.
  p.body += llvm::formatv("lop3.b32 %x, %t, {0:x8}, %m, 0xea;\n", kSigns).str();
  scaleBy(p, target, target.powerOfTwo(target.bias - from.exponentBias()));
  return p;
}

/// Floats of 5 exponent bits to f16: the same bias, so the code shifted
/// into place is the f16 of the same value, infinities and NaN included. A
/// format with NaN codes is multiplied by 1.0 (0x3c00), which changes no
/// number and makes every NaN the canonical one. To bf16 they take the
/// general program.
std::optional<Program> ieeeFloatProgram(DType from, Target target) {
  if (!target.isHalf)
    return smallFloatProgram(from, target);
  unsigned bits = from.bitWidth(), up = 16 - bits;
  Program p;
  p.body = llvm::formatv("shl.b32 %t, %x, {0};\n"
                         "and.b32 {1}, %t, {2:x8};\n",
                         up, from.hasNaN() ? "%x" : "$0",
                         both(((1u << bits) - 1) << up))
               .str();
  if (from.hasNaN())
    scaleBy(p, target, 0x3c00);
  return p;
}

std::optional<Program> getProgram(DType from, DType to) {
  if ((to != DType::f16() && to != DType::bf16()) || from.bitWidth() > 8 ||
      from.isBool())
    return std::nullopt;
  Target target = Target::get(to);
  if (from.isInteger())
    return integerProgram(from, target);
  if (from.exponentBits() == 5)
    return ieeeFloatProgram(from, target);
  return smallFloatProgram(from, target);
}

} // namespace

bool tilus::hasFastCast(DType from, DType to, int64_t count) {
  return count > 0 && count % 2 == 0 && getProgram(from, to).has_value();
}

namespace {

/// Pairs converted by one inline-assembly block. The pairs' programs are
/// interleaved line by line, so that in program order no instruction waits
/// on the one just before it (four independent chains); a block of one pair
/// would stall at every step of its chain.
constexpr size_t kPairsPerBlock = 4;

/// The lines of `text` for pair `lane` of a block of `lanes` pairs: scratch
/// registers get the lane's suffix, and the operands are renumbered from
/// one pair's ($0 result, $1 and $2 inputs, $3... constants) to the block's
/// (results, then two inputs per pair, then the shared constants).
SmallVector<std::string> lanePart(StringRef text, size_t lane, size_t lanes) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 1 < text.size() &&
        StringRef("xtms").contains(text[i + 1]) &&
        (i + 2 >= text.size() ||
         !isalnum(static_cast<unsigned char>(text[i + 2])))) {
      out += std::string("%") + text[i + 1] + std::to_string(lane);
      ++i;
    } else if (c == '$' && i + 1 < text.size() &&
               isdigit(static_cast<unsigned char>(text[i + 1]))) {
      size_t n = 0, j = i + 1;
      for (; j < text.size() && isdigit(static_cast<unsigned char>(text[j]));
           ++j)
        n = n * 10 + size_t(text[j] - '0');
      size_t mapped = n == 0   ? lane
                      : n <= 2 ? lanes + 2 * lane + (n - 1)
                               : 3 * lanes + (n - 3);
      out += "$" + std::to_string(mapped);
      i = j - 1;
    } else {
      out += c;
    }
  }
  SmallVector<std::string> lines;
  for (StringRef rest = out; !rest.empty();) {
    auto [line, tail] = rest.split('\n');
    if (!line.trim().empty())
      lines.push_back(line.trim().str());
    rest = tail;
  }
  return lines;
}

/// Emits `program` once per pair of codes, kPairsPerBlock pairs to an
/// inline-assembly block, and gathers the f16x2/bf16x2 results into one
/// vector of `to`. `inputs` holds each pair's two asm operands and `loads`
/// the instruction that puts the pair into %x (first code at bits [0, b),
/// second at [16, 16 + b), anything elsewhere).
Value emitPrograms(OpBuilder &builder, Location loc,
                   ArrayRef<std::array<Value, 2>> inputs,
                   ArrayRef<std::string> loads, StringRef inputConstraint,
                   DType from, DType to) {
  Program program = *getProgram(from, to);
  SmallVector<Value> constants;
  for (uint32_t word : program.constants)
    constants.push_back(builder.create<arith::ConstantIntOp>(
        loc, static_cast<int64_t>(word), 32));
  Type element =
      to == DType::f16() ? builder.getF16Type() : builder.getBF16Type();
  Type i32 = builder.getI32Type();
  int64_t count = 2 * static_cast<int64_t>(inputs.size());
  auto wordsType = VectorType::get({count / 2}, i32);
  Value words =
      builder.create<arith::ConstantOp>(loc, builder.getZeroAttr(wordsType));
  for (size_t first = 0; first < inputs.size(); first += kPairsPerBlock) {
    size_t lanes = std::min(kPairsPerBlock, inputs.size() - first);
    SmallVector<std::string> constraints(lanes, "=r");
    SmallVector<Value> operands;
    SmallVector<SmallVector<std::string>> parts;
    std::string text = "{\n";
    for (size_t lane = 0; lane < lanes; ++lane) {
      operands.append(inputs[first + lane].begin(), inputs[first + lane].end());
      constraints.append(2, inputConstraint.str());
      parts.push_back(
          lanePart(loads[first + lane] + "\n" + program.body, lane, lanes));
      text += llvm::formatv(".reg .b32 %x{0}, %t{0}, %m{0}, %s{0};\n", lane);
    }
    operands.append(constants);
    constraints.append(constants.size(), "r");
    for (size_t line = 0; line < parts[0].size(); ++line)
      for (size_t lane = 0; lane < lanes; ++lane)
        text += parts[lane][line] + "\n";
    text += "}";
    Type resultType =
        lanes == 1 ? i32
                   : LLVM::LLVMStructType::getLiteral(
                         builder.getContext(), SmallVector<Type>(lanes, i32));
    Value block =
        builder
            .create<LLVM::InlineAsmOp>(
                loc, resultType, operands, text, llvm::join(constraints, ","),
                /*has_side_effects=*/false, /*is_align_stack=*/false,
                LLVM::AsmDialectAttr(), ArrayAttr())
            .getResult(0);
    for (size_t lane = 0; lane < lanes; ++lane) {
      Value word =
          lanes == 1
              ? block
              : builder.create<LLVM::ExtractValueOp>(loc, block, int64_t(lane));
      words = builder.create<vector::InsertOp>(
          loc, word, words, static_cast<int64_t>(first + lane));
    }
  }
  return builder.create<vector::BitCastOp>(
      loc, VectorType::get({count}, element), words);
}

} // namespace

Value tilus::emitFastCast(OpBuilder &builder, Location loc, Value value,
                          DType from, DType to) {
  auto type = cast<VectorType>(value.getType());
  SmallVector<std::array<Value, 2>> inputs;
  for (int64_t i = 0; i < type.getNumElements(); i += 2)
    inputs.push_back({builder.create<vector::ExtractOp>(loc, value, i),
                      builder.create<vector::ExtractOp>(loc, value, i + 1)});
  SmallVector<std::string> loads(inputs.size(), "mov.b32 %x, {$1, $2};");
  return emitPrograms(builder, loc, inputs, loads, "c", from, to);
}

Value tilus::emitFastCastFromWords(OpBuilder &builder, Location loc,
                                   Value words, int64_t count, DType from,
                                   DType to) {
  unsigned bits = from.bitWidth();
  auto type = cast<VectorType>(words.getType());
  Type i32 = builder.getI32Type();
  auto constant = [&](int64_t v) -> Value {
    return builder.create<arith::ConstantIntOp>(loc, v, 32);
  };
  SmallVector<Value> wordValues;
  for (int64_t w = 0; w < type.getNumElements(); ++w)
    wordValues.push_back(builder.create<vector::ExtractOp>(loc, words, w));
  // A code at bit p is byte (p % 32) / 8 of its word shifted right by p % 8,
  // or, where it straddles two words, byte 0 of a funnel shift. The shifted
  // words are made once and shared by the codes they hold.
  std::map<std::pair<int64_t, int64_t>, Value> shifted;
  auto byteOf = [&](int64_t p) -> std::pair<Value, int64_t> {
    int64_t word = p / 32, offset = p % 32;
    bool straddles = offset + bits > 32 &&
                     word + 1 < static_cast<int64_t>(wordValues.size());
    int64_t shift = straddles ? offset : offset % 8;
    Value &value = shifted[{word, shift + (straddles ? 32 : 0)}];
    if (!value)
      value = shift == 0 ? wordValues[word]
              : straddles
                  ? builder
                        .create<LLVM::FshrOp>(loc, i32, wordValues[word + 1],
                                              wordValues[word], constant(shift))
                        .getResult()
                  : builder
                        .create<arith::ShRUIOp>(loc, wordValues[word],
                                                constant(shift))
                        .getResult();
    return {value, straddles ? 0 : offset / 8};
  };
  // prmt puts the first code's byte in byte 0 (and 1) of %x and the
  // second's in byte 2 (and 3).
  SmallVector<std::array<Value, 2>> inputs;
  SmallVector<std::string> loads;
  for (int64_t i = 0; i < count; i += 2) {
    auto [first, a] = byteOf(i * bits);
    auto [second, b] = byteOf((i + 1) * bits);
    unsigned selector = a | a << 4 | (4 + b) << 8 | (4 + b) << 12;
    inputs.push_back({first, second});
    loads.push_back(
        llvm::formatv("prmt.b32 %x, $1, $2, {0:x4};", selector).str());
  }
  return emitPrograms(builder, loc, inputs, loads, "r", from, to);
}
