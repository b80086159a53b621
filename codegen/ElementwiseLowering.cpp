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

using namespace mlir;
using namespace tilus;

namespace {

struct FullLowering : OpConversionPattern<FullOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(FullOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type vectorType = getTypeConverter()->convertType(op.getType());
    rewriter.replaceOpWithNewOp<vector::BroadcastOp>(op, vectorType,
                                                     adaptor.getValue());
    return success();
  }
};

/// One tile instruction to the float, signed or unsigned integer arith op.
template <typename SourceOp, typename FloatOp, typename IntOp,
          typename UnsignedOp = IntOp>
struct BinaryLowering : OpConversionPattern<SourceOp> {
  using OpConversionPattern<SourceOp>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SourceOp op, typename SourceOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    std::optional<DType> dtype = getDType(op.getType().getElementType());
    if (!dtype || dtype->bitWidth() % 8 != 0 ||
        (dtype->isFloat() && dtype->bitWidth() < 16))
      return op.emitOpError("has no lowering for elements of type ")
             << op.getType().getElementType();
    if (dtype->isFloat())
      rewriter.replaceOpWithNewOp<FloatOp>(op, adaptor.getLhs(),
                                           adaptor.getRhs());
    else if (dtype->kind() == DType::Kind::UnsignedInt)
      rewriter.replaceOpWithNewOp<UnsignedOp>(op, adaptor.getLhs(),
                                              adaptor.getRhs());
    else
      rewriter.replaceOpWithNewOp<IntOp>(op, adaptor.getLhs(),
                                         adaptor.getRhs());
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
  converter.addConversion([](GlobalTensorType global) -> Type {
    MLIRContext *context = global.getContext();
    SmallVector<Type> fields{LLVM::LLVMPointerType::get(context, 1)};
    fields.append(global.getRank(), IntegerType::get(context, 32));
    return LLVM::LLVMStructType::getLiteral(context, fields);
  });
}

void tilus::populateElementwiseLoweringPatterns(const TypeConverter &converter,
                                                RewritePatternSet &patterns) {
  patterns.add<FullLowering, ThreadIdxLowering, BlockIdxLowering,
               BinaryLowering<AddOp, arith::AddFOp, arith::AddIOp>,
               BinaryLowering<SubOp, arith::SubFOp, arith::SubIOp>,
               BinaryLowering<MulOp, arith::MulFOp, arith::MulIOp>,
               BinaryLowering<DivOp, arith::DivFOp, arith::DivSIOp,
                              arith::DivUIOp>>(
      converter, patterns.getContext());
}
