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

/// Float `rem` as C's fmodf, exactly: the result has the dividend's sign and
/// is x - n * y for the integer n = trunc(x / y) of the exact quotient.
/// LLVM's frem is expanded by NVPTX to x - trunc(x / y) * y with a rounded
/// quotient, which is wrong for most quotients of more than 24 bits and
/// gives +0 for -y % y. Here, with x = mx * 2^ex and y = my * 2^ey (integer
/// significands below 2^24, ex >= ey when |x| >= |y|), the remainder is
/// (mx * 2^(ex - ey) mod my) * 2^ey: the power of two is applied 40 bits at
/// a time in 64-bit integers (ex - ey <= 253, so seven steps), and the
/// remainder, below my, is exact in f32. A NaN operand, an infinite x or a
/// zero y give NaN; |x| < |y| (an infinite y among them) gives x.
static Value emitExactFloatRem(OpBuilder &builder, Location loc, Value x,
                               Value y) {
  auto floatType = cast<VectorType>(x.getType());
  auto shapeOf = [&](Type element) {
    return VectorType::get(floatType.getShape(), element);
  };
  Type i32 = builder.getI32Type(), i64 = builder.getI64Type();
  VectorType v32 = shapeOf(i32), v64 = shapeOf(i64), vf64 = shapeOf(builder.getF64Type());
  auto splat32 = [&](uint32_t v) -> Value {
    return builder.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(v32, builder.getIntegerAttr(i32, v)));
  };
  auto splat64 = [&](uint64_t v) -> Value {
    return builder.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(v64, builder.getIntegerAttr(i64, v)));
  };
  auto cmp = [&](arith::CmpIPredicate predicate, Value a, Value b) -> Value {
    return builder.create<arith::CmpIOp>(loc, predicate, a, b);
  };
  Value bx = builder.create<arith::BitcastOp>(loc, v32, x);
  Value by = builder.create<arith::BitcastOp>(loc, v32, y);
  Value magnitudeMask = splat32(0x7fffffffu);
  Value ax = builder.create<arith::AndIOp>(loc, bx, magnitudeMask);
  Value ay = builder.create<arith::AndIOp>(loc, by, magnitudeMask);

  // Significand and exponent of a finite magnitude: m * 2^(e - 150), with
  // the implicit bit in m and e = 1 for subnormals.
  auto decompose = [&](Value a) -> std::pair<Value, Value> {
    Value biased = builder.create<arith::ShRUIOp>(loc, a, splat32(23));
    Value fraction = builder.create<arith::AndIOp>(loc, a, splat32(0x7fffffu));
    Value normal =
        cmp(arith::CmpIPredicate::ne, biased, splat32(0));
    Value withBit = builder.create<arith::OrIOp>(loc, fraction,
                                                 splat32(0x800000u));
    Value significand =
        builder.create<arith::SelectOp>(loc, normal, withBit, fraction);
    Value exponent = builder.create<arith::MaxUIOp>(loc, biased, splat32(1));
    return {significand, exponent};
  };
  auto [mx, ex] = decompose(ax);
  auto [my, ey] = decompose(ay);

  Value xSmaller = cmp(arith::CmpIPredicate::ult, ax, ay);
  // Lanes whose result is not computed here get harmless operands.
  Value divisor = builder.create<arith::MaxUIOp>(loc, my, splat32(1));
  Value steps = builder.create<arith::SelectOp>(
      loc, xSmaller, splat32(0), builder.create<arith::SubIOp>(loc, ex, ey));
  steps = builder.create<arith::MinUIOp>(loc, steps, splat32(280));
  Value divisor64 = builder.create<arith::ExtUIOp>(loc, v64, divisor);
  Value remainder = builder.create<arith::RemUIOp>(
      loc, builder.create<arith::ExtUIOp>(loc, v64, mx), divisor64);
  constexpr unsigned kStep = 40; // remainder < 2^24, shifted below 2^64
  for (unsigned i = 0; i < 7; ++i) {
    Value shift = builder.create<arith::MinUIOp>(loc, steps, splat32(kStep));
    steps = builder.create<arith::SubIOp>(loc, steps, shift);
    Value shifted = builder.create<arith::ShLIOp>(
        loc, remainder, builder.create<arith::ExtUIOp>(loc, v64, shift));
    remainder = builder.create<arith::RemUIOp>(loc, shifted, divisor64);
  }
  // remainder * 2^(ey - 150), exact in f64 and then in f32 (it is a
  // multiple of y's last place below |y|).
  Value scaleBits = builder.create<arith::ShLIOp>(
      loc,
      builder.create<arith::AddIOp>(
          loc, builder.create<arith::ExtUIOp>(loc, v64, ey),
          splat64(1023 - 150)),
      splat64(52));
  Value scale = builder.create<arith::BitcastOp>(loc, vf64, scaleBits);
  Value magnitude = builder.create<arith::MulFOp>(
      loc, builder.create<arith::UIToFPOp>(loc, vf64, remainder), scale);
  Value narrowed = builder.create<arith::TruncFOp>(loc, floatType, magnitude);
  Value signed_ = builder.create<arith::OrIOp>(
      loc, builder.create<arith::BitcastOp>(loc, v32, narrowed),
      builder.create<arith::AndIOp>(loc, bx, splat32(0x80000000u)));
  Value result = builder.create<arith::SelectOp>(
      loc, xSmaller, bx, signed_);

  Value infinity = splat32(0x7f800000u);
  Value invalid = builder.create<arith::OrIOp>(
      loc,
      builder.create<arith::OrIOp>(loc, cmp(arith::CmpIPredicate::uge, ax, infinity),
                                   cmp(arith::CmpIPredicate::ugt, ay, infinity)),
      cmp(arith::CmpIPredicate::eq, ay, splat32(0)));
  result = builder.create<arith::SelectOp>(loc, invalid, splat32(0x7fffffffu),
                                           result);
  return builder.create<arith::BitcastOp>(loc, floatType, result);
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
    if (compute.isFloat() && std::is_same_v<SourceOp, RemOp>)
      result = emitExactFloatRem(rewriter, loc, lhs, rhs);
    else if (compute.isFloat())
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
