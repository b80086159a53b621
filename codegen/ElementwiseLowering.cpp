//===- ElementwiseLowering.cpp - Tile creation, indices, arithmetic -------===//
//
// A tile is the vector of the elements one thread holds, so elementwise
// instructions are vector arithmetic on those registers.
//
//===----------------------------------------------------------------------===//

#include "codegen/CastCodegen.h"
#include "codegen/LayoutCodegen.h"
#include "codegen/TileLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <type_traits>

using namespace mlir;
using namespace tilus;

namespace {

struct FullLowering : OpConversionPattern<FullOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(FullOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type vectorType = getTypeConverter()->convertType(op.getType());
    // vector.splat, unlike vector.broadcast, has a direct LLVM lowering.
    rewriter.replaceOpWithNewOp<vector::SplatOp>(op, vectorType,
                                                 adaptor.getValue());
    return success();
  }
};

/// Integer division and remainder with every divisor defined, as the
/// language defines them (docs/interpreter.md) and PTX's div and rem give
/// them: `x / 0` is all ones, `x % 0` is `x`, and `INT_MIN / -1` wraps to
/// INT_MIN with remainder 0. LLVM's sdiv, udiv, srem and urem are undefined
/// for those divisors, so that LLVM may fold `0 / y` to 0 or `x % x` to 0;
/// the divisor is made 1 where it is not defined and the result selected
/// afterwards.
template <typename IntOp>
static Value emitDefinedDivision(OpBuilder &builder, Location loc, Value lhs,
                                 Value rhs, bool isSigned, bool isRem) {
  auto type = cast<VectorType>(lhs.getType());
  unsigned width = type.getElementType().getIntOrFloatBitWidth();
  auto splat = [&](const APInt &v) -> Value {
    return builder.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(
                 type, builder.getIntegerAttr(type.getElementType(), v)));
  };
  Value zero = splat(APInt::getZero(width));
  Value one = splat(APInt(width, 1));
  Value allOnes = splat(APInt::getAllOnes(width));
  Value byZero = builder.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                               rhs, zero);
  Value undefined = byZero;
  if (isSigned) {
    Value minLhs = builder.create<arith::CmpIOp>(
        loc, arith::CmpIPredicate::eq, lhs,
        splat(APInt::getSignedMinValue(width)));
    Value minusOne = builder.create<arith::CmpIOp>(
        loc, arith::CmpIPredicate::eq, rhs, allOnes);
    Value overflow = builder.create<arith::AndIOp>(loc, minLhs, minusOne);
    undefined = builder.create<arith::OrIOp>(loc, byZero, overflow);
  }
  Value divisor = builder.create<arith::SelectOp>(loc, undefined, one, rhs);
  // INT_MIN / 1 and INT_MIN % 1 are the wrapped results of INT_MIN / -1.
  Value result = builder.create<IntOp>(loc, lhs, divisor);
  return builder.create<arith::SelectOp>(loc, byZero, isRem ? lhs : allOnes,
                                         result);
}

/// One tile instruction to the float, signed or unsigned integer arith op.
/// Types without arithmetic of their own are computed in a wider type and
/// converted back exactly (codegen/CastCodegen.h): small floats in f32 (one
/// rounding of the exact result, as f32 has more than twice their
/// significand bits), integers narrower than a byte in i32 (wrapping back).
/// `WideFloat` computes f16 and bf16 in f32 too (for `rem`, which has no
/// f16 instruction; its result is exact).
template <typename SourceOp, typename FloatOp, typename IntOp,
          typename UnsignedOp = IntOp, bool WideFloat = false>
struct BinaryLowering : OpConversionPattern<SourceOp> {
  using OpConversionPattern<SourceOp>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    std::optional<DType> dtype = getDType(op.getType().getElementType());
    if (!dtype)
      return op.emitOpError("has no lowering for elements of type ")
             << op.getType().getElementType();
    DType compute = *dtype;
    if (dtype->isFloat() && (dtype->bitWidth() < 16 || WideFloat))
      compute = DType::f32();
    else if (dtype->isInteger() && dtype->bitWidth() < 8)
      compute =
          dtype->isSigned() ? DType::signedInt(32) : DType::unsignedInt(32);
    Value lhs =
        emitComputeCast(rewriter, loc, adaptor.getLhs(), *dtype, compute);
    Value rhs =
        emitComputeCast(rewriter, loc, adaptor.getRhs(), *dtype, compute);
    Value result;
    if (compute.isFloat())
      result = rewriter.create<FloatOp>(loc, lhs, rhs);
    else if constexpr (std::is_same_v<SourceOp, DivOp> ||
                       std::is_same_v<SourceOp, RemOp>) {
      constexpr bool isRem = std::is_same_v<SourceOp, RemOp>;
      result = compute.kind() == DType::Kind::UnsignedInt
                   ? emitDefinedDivision<UnsignedOp>(rewriter, loc, lhs, rhs,
                                                     /*isSigned=*/false, isRem)
                   : emitDefinedDivision<IntOp>(rewriter, loc, lhs, rhs,
                                                /*isSigned=*/true, isRem);
    } else if (compute.kind() == DType::Kind::UnsignedInt)
      result = rewriter.create<UnsignedOp>(loc, lhs, rhs);
    else
      result = rewriter.create<IntOp>(loc, lhs, rhs);
    rewriter.replaceOp(op,
                       emitComputeCast(rewriter, loc, result, compute, *dtype));
    return success();
  }
};

/// Shifts with every count defined (PTX's shl/shr clamp, LLVM's shifts do
/// not): a count (the rhs, unsigned) of the element width or more gives 0,
/// or the sign fill for a right shift of a signed type. Integers narrower
/// than a byte shift in i32 and wrap back, as BinaryLowering computes them.
template <typename SourceOp, bool Left>
struct ShiftLowering : OpConversionPattern<SourceOp> {
  using OpConversionPattern<SourceOp>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    DType dtype = *getDType(op.getType().getElementType());
    DType compute = dtype;
    if (dtype.bitWidth() < 8)
      compute =
          dtype.isSigned() ? DType::signedInt(32) : DType::unsignedInt(32);
    Value x = emitComputeCast(rewriter, loc, adaptor.getLhs(), dtype, compute);
    Value count =
        emitComputeCast(rewriter, loc, adaptor.getRhs(), dtype, compute);
    auto splat = [&](int64_t v) -> Value {
      auto type = cast<VectorType>(x.getType());
      return rewriter.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(
                   type, rewriter.getIntegerAttr(type.getElementType(), v)));
    };
    int64_t width = dtype.bitWidth();
    Value result;
    if (!Left && dtype.isSigned()) {
      Value clamped = rewriter.create<arith::MinUIOp>(loc, count,
                                                      splat(width - 1));
      result = rewriter.create<arith::ShRSIOp>(loc, x, clamped);
    } else {
      Value inRange = rewriter.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::ult, count, splat(width));
      // The shift amount is kept in range so that it is never poison.
      Value amount = rewriter.create<arith::MinUIOp>(loc, count,
                                                     splat(width - 1));
      Value shifted =
          Left ? rewriter.create<arith::ShLIOp>(loc, x, amount).getResult()
               : rewriter.create<arith::ShRUIOp>(loc, x, amount).getResult();
      result = rewriter.create<arith::SelectOp>(loc, inRange, shifted,
                                                splat(0));
    }
    rewriter.replaceOp(op,
                       emitComputeCast(rewriter, loc, result, compute, dtype));
    return success();
  }
};

struct ThreadIdxLowering : OpConversionPattern<ThreadIdxOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ThreadIdxOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<NVVM::ThreadIdXOp>(op, rewriter.getI32Type());
    return success();
  }
};

struct BlockIdxLowering : OpConversionPattern<BlockIdxOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(BlockIdxOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type i32 = rewriter.getI32Type();
    switch (op.getDim()) {
    case 0:
      rewriter.replaceOpWithNewOp<NVVM::BlockIdXOp>(op, i32);
      break;
    case 1:
      rewriter.replaceOpWithNewOp<NVVM::BlockIdYOp>(op, i32);
      break;
    default:
      rewriter.replaceOpWithNewOp<NVVM::BlockIdZOp>(op, i32);
      break;
    }
    return success();
  }
};

} // namespace

/// The type a thread keeps one element in (codegen/CastCodegen.h).
static Type getRegisterType(Type element) {
  std::optional<DType> dtype = getDType(element);
  if (!dtype)
    return element;
  return getRegisterElementType(element.getContext(), *dtype);
}

void tilus::populateTileTypeConversions(TypeConverter &converter) {
  // Tiles without a layout (layout inference has not run) do not convert.
  converter.addConversion([](TileType tile) -> std::optional<Type> {
    Type element = getRegisterType(tile.getElementType());
    if (!element || !tile.getLayout())
      return std::nullopt;
    return VectorType::get({getLayout(tile).numLocals()}, element);
  });
  // A shared tensor is the address of its first element in shared memory.
  converter.addConversion([](SharedTensorType shared) -> Type {
    return LLVM::LLVMPointerType::get(shared.getContext(), 3);
  });
  // An mbarrier is its address in shared memory.
  converter.addConversion([](BarrierType barrier) -> Type {
    return LLVM::LLVMPointerType::get(barrier.getContext(), 3);
  });
  converter.addConversion([](GlobalTensorType global) -> Type {
    MLIRContext *context = global.getContext();
    SmallVector<Type> fields{LLVM::LLVMPointerType::get(context, 1)};
    fields.append(global.getRank(), IntegerType::get(context, 32));
    return LLVM::LLVMStructType::getLiteral(context, fields);
  });
}

void tilus::populateElementwiseLoweringPatterns(const TypeConverter &converter,
                                                RewritePatternSet &patterns) {
  patterns.add<
      FullLowering, ThreadIdxLowering, BlockIdxLowering,
      BinaryLowering<AddOp, arith::AddFOp, arith::AddIOp>,
      BinaryLowering<SubOp, arith::SubFOp, arith::SubIOp>,
      BinaryLowering<MulOp, arith::MulFOp, arith::MulIOp>,
      BinaryLowering<DivOp, arith::DivFOp, arith::DivSIOp, arith::DivUIOp>,
      BinaryLowering<RemOp, arith::RemFOp, arith::RemSIOp, arith::RemUIOp,
                     /*WideFloat=*/true>,
      BinaryLowering<MinOp, arith::MinimumFOp, arith::MinSIOp, arith::MinUIOp>,
      BinaryLowering<MaxOp, arith::MaximumFOp, arith::MaxSIOp, arith::MaxUIOp>,
      BinaryLowering<AndOp, arith::AndIOp, arith::AndIOp>,
      BinaryLowering<OrOp, arith::OrIOp, arith::OrIOp>,
      BinaryLowering<XorOp, arith::XOrIOp, arith::XOrIOp>,
      ShiftLowering<ShlOp, /*Left=*/true>,
      ShiftLowering<ShrOp, /*Left=*/false>>(
      converter, patterns.getContext());
}
