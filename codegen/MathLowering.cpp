//===- MathLowering.cpp - Elementwise functions, comparisons, casts, views ===//
//
// Elementwise instructions work on the vector of registers a thread holds
// (codegen/CastCodegen.h gives the register format). Floats other than f32
// are widened to f32 exactly, computed on, and rounded back once; integers
// narrower than a byte are widened to i32 and wrapped back. The special
// functions are PTX `.approx` instructions (docs/codegen.md gives their error
// bounds), emitted as inline assembly one register at a time. A unary
// function of a float scalar is lowered as a one-register tile.
//
//===----------------------------------------------------------------------===//

#include "codegen/CastCodegen.h"
#include "codegen/FastCast.h"
#include "codegen/LayoutCodegen.h"
#include "codegen/TileLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace tilus;

namespace {

DType elementDType(TileType tile) { return *getDType(tile.getElementType()); }

/// Applies `fn` to each register of `vector` (a rank-1 vector).
Value mapRegisters(OpBuilder &builder, Location loc, Value vector,
                   Type resultElement, llvm::function_ref<Value(Value)> fn) {
  auto type = cast<VectorType>(vector.getType());
  auto resultType = VectorType::get(type.getShape(), resultElement);
  Value result =
      builder.create<arith::ConstantOp>(loc, builder.getZeroAttr(resultType));
  for (int64_t i = 0; i < type.getNumElements(); ++i) {
    Value element = builder.create<vector::ExtractOp>(loc, vector, i);
    result = builder.create<vector::InsertOp>(loc, fn(element), result, i);
  }
  return result;
}

/// One f32 PTX instruction `opcode` applied to each register.
Value emitPtxF32(OpBuilder &builder, Location loc, Value vector,
                 StringRef opcode) {
  std::string text = (opcode + " $0, $1;").str();
  return mapRegisters(
      builder, loc, vector, builder.getF32Type(), [&](Value x) -> Value {
        return builder
            .create<LLVM::InlineAsmOp>(
                loc, builder.getF32Type(), ValueRange{x}, text, "=f,f",
                /*has_side_effects=*/false, /*is_align_stack=*/false,
                LLVM::AsmDialectAttr(), ArrayAttr())
            .getResult(0);
      });
}

/// The f32 result of a float function of one f32 vector.
Value emitFloatFunction(OpBuilder &builder, Location loc, UnaryKind kind,
                        Value x) {
  auto scale = [&](Value v, double factor) -> Value {
    return builder.create<arith::MulFOp>(
        loc, v, emitFloatConstant(builder, loc, v.getType(), factor));
  };
  switch (kind) {
  case UnaryKind::exp:
    return emitPtxF32(builder, loc, scale(x, llvm::numbers::log2e),
                      "ex2.approx.f32");
  case UnaryKind::exp2:
    return emitPtxF32(builder, loc, x, "ex2.approx.f32");
  case UnaryKind::log:
    return scale(emitPtxF32(builder, loc, x, "lg2.approx.f32"),
                 llvm::numbers::ln2);
  case UnaryKind::log2:
    return emitPtxF32(builder, loc, x, "lg2.approx.f32");
  case UnaryKind::sqrt:
    return emitPtxF32(builder, loc, x, "sqrt.rn.f32");
  case UnaryKind::rsqrt:
    return emitPtxF32(builder, loc, x, "rsqrt.approx.f32");
  case UnaryKind::tanh:
    return emitPtxF32(builder, loc, x, "tanh.approx.f32");
  case UnaryKind::sin:
    return emitPtxF32(builder, loc, x, "sin.approx.f32");
  case UnaryKind::cos:
    return emitPtxF32(builder, loc, x, "cos.approx.f32");
  case UnaryKind::round:
    return emitPtxF32(builder, loc, x, "cvt.rni.f32.f32");
  case UnaryKind::floor:
    return emitPtxF32(builder, loc, x, "cvt.rmi.f32.f32");
  case UnaryKind::ceil:
    return emitPtxF32(builder, loc, x, "cvt.rpi.f32.f32");
  case UnaryKind::neg:
  case UnaryKind::abs:
  case UnaryKind::bitnot:
    break;
  }
  return {};
}

/// The wide type elementwise arithmetic on `dtype` is computed in: f32 for
/// floats other than f16, bf16 and f32; i32 for integers narrower than a
/// byte; the type itself otherwise.
DType getComputeType(DType dtype) {
  if (dtype.isFloat() && dtype.bitWidth() < 16)
    return DType::f32();
  if (dtype.isInteger() && dtype.bitWidth() < 8)
    return DType::signedInt(32);
  return dtype;
}

struct UnaryLowering : OpConversionPattern<UnaryOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(UnaryOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    DType dtype = *getDType(getTileOrScalarElementType(op.getType()));
    Value x = adaptor.getSource();
    // A scalar is computed as a one-register tile, with the same
    // instructions as an element of a tile.
    if (!isa<VectorType>(x.getType())) {
      auto type = VectorType::get({1}, x.getType());
      Value vector = rewriter.create<vector::InsertOp>(
          loc, x,
          rewriter.create<arith::ConstantOp>(loc, rewriter.getZeroAttr(type)),
          0);
      FailureOr<Value> result = lower(op, vector, dtype, rewriter);
      if (failed(result))
        return failure();
      rewriter.replaceOpWithNewOp<vector::ExtractOp>(op, *result, 0);
      return success();
    }
    FailureOr<Value> result = lower(op, x, dtype, rewriter);
    if (failed(result))
      return failure();
    rewriter.replaceOp(op, *result);
    return success();
  }

  /// The registers of the result, from the registers `x` of the operand.
  static FailureOr<Value> lower(UnaryOp op, Value x, DType dtype,
                                ConversionPatternRewriter &rewriter) {
    Location loc = op.getLoc();
    UnaryKind kind = op.getKind();
    if (dtype.isFloat() && (kind == UnaryKind::neg || kind == UnaryKind::abs)) {
      // The sign bit, exactly, in every format (NaN included).
      unsigned bits = dtype.bitWidth();
      Type regType = cast<VectorType>(x.getType()).getElementType();
      Type intType = withElementType(
          x.getType(),
          rewriter.getIntegerType(regType.getIntOrFloatBitWidth()));
      Value code = isa<FloatType>(regType)
                       ? rewriter.create<arith::BitcastOp>(loc, intType, x)
                       : x;
      int64_t sign = int64_t(1) << (bits - 1);
      Value result =
          kind == UnaryKind::neg
              ? rewriter
                    .create<arith::XOrIOp>(
                        loc, code, emitConstant(rewriter, loc, intType, sign))
                    .getResult()
              : rewriter
                    .create<arith::AndIOp>(
                        loc, code,
                        emitConstant(rewriter, loc, intType, sign - 1))
                    .getResult();
      if (isa<FloatType>(regType))
        result = rewriter.create<arith::BitcastOp>(loc, x.getType(), result);
      return result;
    }
    if (dtype.isFloat()) {
      Value wide = emitComputeCast(rewriter, loc, x, dtype, DType::f32());
      Value result = emitFloatFunction(rewriter, loc, kind, wide);
      if (!result) {
        op.emitOpError("has no lowering for ")
            << stringifyUnaryKind(kind) << " of floats";
        return failure();
      }
      return emitComputeCast(rewriter, loc, result, DType::f32(), dtype);
    }
    DType compute = getComputeType(dtype);
    Value wide = emitComputeCast(rewriter, loc, x, dtype, compute);
    Value result;
    switch (kind) {
    case UnaryKind::neg:
      result = rewriter.create<arith::SubIOp>(
          loc, emitConstant(rewriter, loc, wide.getType(), 0), wide);
      break;
    case UnaryKind::abs:
      result = wide;
      if (dtype.isSigned()) {
        Value zero = emitConstant(rewriter, loc, wide.getType(), 0);
        Value negative = rewriter.create<arith::CmpIOp>(
            loc, arith::CmpIPredicate::slt, wide, zero);
        result = rewriter.create<arith::SelectOp>(
            loc, negative, rewriter.create<arith::SubIOp>(loc, zero, wide),
            wide);
      }
      break;
    case UnaryKind::bitnot:
      result = rewriter.create<arith::XOrIOp>(
          loc, wide, emitConstant(rewriter, loc, wide.getType(), -1));
      break;
    default:
      op.emitOpError("'") << stringifyUnaryKind(kind) << "' expects floats";
      return failure();
    }
    return emitComputeCast(rewriter, loc, result, compute, dtype);
  }
};

struct CmpLowering : OpConversionPattern<CmpOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(CmpOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    DType dtype = elementDType(op.getLhs().getType());
    DType compute = getComputeType(dtype);
    Value lhs =
        emitComputeCast(rewriter, loc, adaptor.getLhs(), dtype, compute);
    Value rhs =
        emitComputeCast(rewriter, loc, adaptor.getRhs(), dtype, compute);
    CmpPredicate predicate = op.getPredicate();
    if (compute.isFloat()) {
      // Ordered, except `ne`: any comparison with NaN is false but `ne`.
      arith::CmpFPredicate p;
      switch (predicate) {
      case CmpPredicate::eq:
        p = arith::CmpFPredicate::OEQ;
        break;
      case CmpPredicate::ne:
        p = arith::CmpFPredicate::UNE;
        break;
      case CmpPredicate::lt:
        p = arith::CmpFPredicate::OLT;
        break;
      case CmpPredicate::le:
        p = arith::CmpFPredicate::OLE;
        break;
      case CmpPredicate::gt:
        p = arith::CmpFPredicate::OGT;
        break;
      case CmpPredicate::ge:
        p = arith::CmpFPredicate::OGE;
        break;
      }
      rewriter.replaceOpWithNewOp<arith::CmpFOp>(op, p, lhs, rhs);
      return success();
    }
    bool isSigned = compute.isSigned();
    arith::CmpIPredicate p;
    switch (predicate) {
    case CmpPredicate::eq:
      p = arith::CmpIPredicate::eq;
      break;
    case CmpPredicate::ne:
      p = arith::CmpIPredicate::ne;
      break;
    case CmpPredicate::lt:
      p = isSigned ? arith::CmpIPredicate::slt : arith::CmpIPredicate::ult;
      break;
    case CmpPredicate::le:
      p = isSigned ? arith::CmpIPredicate::sle : arith::CmpIPredicate::ule;
      break;
    case CmpPredicate::gt:
      p = isSigned ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::ugt;
      break;
    case CmpPredicate::ge:
      p = isSigned ? arith::CmpIPredicate::sge : arith::CmpIPredicate::uge;
      break;
    }
    rewriter.replaceOpWithNewOp<arith::CmpIOp>(op, p, lhs, rhs);
    return success();
  }
};

struct WhereLowering : OpConversionPattern<WhereOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(WhereOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<arith::SelectOp>(op, adaptor.getCondition(),
                                                 adaptor.getTrueValue(),
                                                 adaptor.getFalseValue());
    return success();
  }
};

struct CastLowering : OpConversionPattern<CastOp> {
  using OpConversionPattern::OpConversionPattern;

  /// For a cast of a view of whole-register elements (bytes viewed as u4,
  /// say), the viewed registers as 32-bit words, so the fast cast reads the
  /// codes where they are; else null.
  static Value viewedWords(CastOp op, ConversionPatternRewriter &rewriter) {
    auto view = op.getSource().getDefiningOp<ViewOp>();
    if (!view)
      return nullptr;
    Value source = rewriter.getRemappedValue(view.getSource());
    auto type = source ? dyn_cast<VectorType>(source.getType()) : nullptr;
    DType element = elementDType(view.getSource().getType());
    if (!type || type.getRank() != 1 || element.isBool() ||
        !type.getElementType().isIntOrFloat() ||
        type.getElementType().getIntOrFloatBitWidth() != element.bitWidth() ||
        (type.getNumElements() * element.bitWidth()) % 32 != 0)
      return nullptr;
    Location loc = op.getLoc();
    int64_t words = type.getNumElements() * element.bitWidth() / 32;
    if (!type.getElementType().isInteger(element.bitWidth()))
      source = rewriter.create<vector::BitCastOp>(
          loc,
          VectorType::get({type.getNumElements()},
                          rewriter.getIntegerType(element.bitWidth())),
          source);
    return rewriter.create<vector::BitCastOp>(
        loc, VectorType::get({words}, rewriter.getI32Type()), source);
  }

  LogicalResult
  matchAndRewrite(CastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    DType from = elementDType(op.getSource().getType());
    DType to = elementDType(op.getType());
    Value source = adaptor.getSource();
    auto type = dyn_cast<VectorType>(source.getType());
    if (Value words = viewedWords(op, rewriter);
        words && type && type.getRank() == 1 &&
        hasFastCast(from, to, type.getNumElements())) {
      rewriter.replaceOp(op, emitFastCastFromWords(rewriter, op.getLoc(), words,
                                                   type.getNumElements(), from,
                                                   to));
      return success();
    }
    if (type && type.getRank() == 1 &&
        hasFastCast(from, to, type.getNumElements())) {
      rewriter.replaceOp(op,
                         emitFastCast(rewriter, op.getLoc(), source, from, to));
      return success();
    }
    rewriter.replaceOp(op, emitCast(rewriter, op.getLoc(), source, from, to));
    return success();
  }
};

/// The bits of each thread's registers, in local-index order, LSB first,
/// reinterpreted. Registers whose width is their type's exactly reinterpret
/// as a vector bitcast; otherwise (bool, types narrower than a byte) the
/// codes are assembled into 64-bit words and taken apart again.
struct ViewLowering : OpConversionPattern<ViewOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ViewOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TileType sourceTile = op.getSource().getType(), resultTile = op.getType();
    if (!sourceTile.getLayout() || !resultTile.getLayout())
      return op.emitOpError("needs tiles with layouts");
    DType from = elementDType(sourceTile), to = elementDType(resultTile);
    auto sourceType = cast<VectorType>(adaptor.getSource().getType());
    auto resultType =
        cast<VectorType>(getTypeConverter()->convertType(resultTile));
    auto exact = [](DType dtype, VectorType type) {
      return !dtype.isBool() &&
             type.getElementType().getIntOrFloatBitWidth() == dtype.bitWidth();
    };
    if (exact(from, sourceType) && exact(to, resultType)) {
      Value source = adaptor.getSource();
      Type fromElement = sourceType.getElementType();
      Type toElement = resultType.getElementType();
      // LLVM 19's NVPTX backend cannot select a bitcast between f16 and
      // bf16 (one reaches instruction selection whenever the value is
      // computed, not loaded), and InstCombine folds a detour through i16
      // back into one: the bits pass an opaque 16-bit move, which ptxas
      // removes.
      if (fromElement != toElement && isa<FloatType>(fromElement) &&
          isa<FloatType>(toElement) &&
          fromElement.getIntOrFloatBitWidth() == 16) {
        Type i16 = rewriter.getIntegerType(16);
        Value bits = rewriter.create<vector::BitCastOp>(
            loc, VectorType::get(sourceType.getShape(), i16), source);
        source = mapRegisters(rewriter, loc, bits, i16, [&](Value x) -> Value {
          return rewriter
              .create<LLVM::InlineAsmOp>(
                  loc, i16, ValueRange{x}, "mov.b16 $0, $1;", "=h,h",
                  /*has_side_effects=*/false, /*is_align_stack=*/false,
                  LLVM::AsmDialectAttr(), ArrayAttr())
              .getResult(0);
        });
      }
      rewriter.replaceOpWithNewOp<vector::BitCastOp>(op, resultType, source);
      return success();
    }
    unsigned fromBits = from.bitWidth(), toBits = to.bitWidth();
    int64_t totalBits = sourceType.getNumElements() * fromBits;
    SmallVector<Value> words((totalBits + 63) / 64,
                             rewriter.create<arith::ConstantIntOp>(loc, 0, 64));
    auto c64 = [&](int64_t v) -> Value {
      return rewriter.create<arith::ConstantIntOp>(loc, v, 64);
    };
    for (int64_t i = 0; i < sourceType.getNumElements(); ++i) {
      Value element =
          rewriter.create<vector::ExtractOp>(loc, adaptor.getSource(), i);
      Value code = emitCodeOf(rewriter, loc, element, from, 64);
      int64_t bit = i * fromBits, word = bit / 64, shift = bit % 64;
      words[word] = rewriter.create<arith::OrIOp>(
          loc, words[word],
          rewriter.create<arith::ShLIOp>(loc, code, c64(shift)));
      if (shift + fromBits > 64)
        words[word + 1] = rewriter.create<arith::OrIOp>(
            loc, words[word + 1],
            rewriter.create<arith::ShRUIOp>(loc, code, c64(64 - shift)));
    }
    Value result = rewriter.create<arith::ConstantOp>(
        loc, rewriter.getZeroAttr(resultType));
    for (int64_t j = 0; j < resultType.getNumElements(); ++j) {
      int64_t bit = j * toBits, word = bit / 64, shift = bit % 64;
      Value code =
          rewriter.create<arith::ShRUIOp>(loc, words[word], c64(shift));
      if (shift + toBits > 64)
        code = rewriter.create<arith::OrIOp>(
            loc, code,
            rewriter.create<arith::ShLIOp>(loc, words[word + 1],
                                           c64(64 - shift)));
      result = rewriter.create<vector::InsertOp>(
          loc, emitFromCode(rewriter, loc, code, to), result, j);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void tilus::populateMathLoweringPatterns(const TypeConverter &converter,
                                         RewritePatternSet &patterns) {
  patterns.add<UnaryLowering, CmpLowering, WhereLowering, CastLowering,
               ViewLowering>(converter, patterns.getContext());
}
