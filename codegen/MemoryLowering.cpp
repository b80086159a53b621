//===- MemoryLowering.cpp - Global tensors and their tile transfers -------===//
//
// A global tensor lowers to `!llvm.struct<(ptr<1>, i32 x rank)>`. A transfer
// moves each register of the tile on its own, guarded by the tensor bounds;
// the vectorization pass is what later widens these accesses.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayoutCodegen.h"
#include "codegen/TileLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace tilus;

namespace {

/// The pointer and extents of a lowered global tensor.
struct GlobalParts {
  Value ptr;
  SmallVector<Value> extents; ///< i32
};

GlobalParts unpackGlobal(OpBuilder &builder, Location loc, Value packed,
                         unsigned rank) {
  GlobalParts parts;
  parts.ptr = builder.create<LLVM::ExtractValueOp>(loc, packed, 0);
  for (unsigned dim = 0; dim < rank; ++dim)
    parts.extents.push_back(
        builder.create<LLVM::ExtractValueOp>(loc, packed, dim + 1));
  return parts;
}

/// For the element a thread holds at register `local`: whether it lies
/// inside the tensor, and its address.
std::pair<Value, Value> emitElementAddress(OpBuilder &builder, Location loc,
                                           const GlobalParts &global,
                                           Type elementType,
                                           const RegisterLayout &layout,
                                           Value threadId,
                                           ValueRange offsets, int64_t local) {
  SmallVector<Value> coords =
      emitLayoutCoordinates(builder, loc, layout, threadId, local);
  Value inBounds, linear;
  Type i64 = builder.getI64Type();
  for (auto [dim, coord] : llvm::enumerate(coords)) {
    Value offset = offsets[dim];
    if (offset.getType() != coord.getType())
      offset = builder.create<arith::TruncIOp>(loc, coord.getType(), offset);
    Value index = builder.create<arith::AddIOp>(loc, offset, coord);
    // Unsigned comparison also rejects negative indices.
    Value ok = builder.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                             index, global.extents[dim]);
    inBounds = inBounds ? builder.create<arith::AndIOp>(loc, inBounds, ok)
                              .getResult()
                        : ok;
    Value wide = builder.create<arith::ExtUIOp>(loc, i64, index);
    if (linear) {
      Value extent =
          builder.create<arith::ExtUIOp>(loc, i64, global.extents[dim]);
      linear = builder.create<arith::MulIOp>(loc, linear, extent);
      linear = builder.create<arith::AddIOp>(loc, linear, wide);
    } else {
      linear = wide;
    }
  }
  Value address = builder.create<LLVM::GEPOp>(
      loc, global.ptr.getType(), elementType, global.ptr, ValueRange{linear});
  return {inBounds, address};
}

struct GlobalViewLowering : OpConversionPattern<GlobalViewOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GlobalViewOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type packedType = getTypeConverter()->convertType(op.getType());
    Value packed = rewriter.create<LLVM::UndefOp>(loc, packedType);
    packed = rewriter.create<LLVM::InsertValueOp>(loc, packed, adaptor.getPtr(),
                                                  0);
    auto dynamic = adaptor.getDynamicExtents().begin();
    Type i32 = rewriter.getI32Type();
    for (auto [dim, extent] : llvm::enumerate(op.getType().getShape())) {
      Value value;
      if (ShapedType::isDynamic(extent)) {
        value = *dynamic++;
        if (value.getType() != i32)
          value = rewriter.create<arith::TruncIOp>(loc, i32, value);
      } else {
        value = rewriter.create<arith::ConstantIntOp>(loc, extent, 32);
      }
      packed = rewriter.create<LLVM::InsertValueOp>(loc, packed, value, dim + 1);
    }
    rewriter.replaceOp(op, packed);
    return success();
  }
};

struct LoadGlobalLowering : OpConversionPattern<LoadGlobalOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LoadGlobalOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TileType tile = op.getResult().getType();
    auto vectorType =
        dyn_cast_or_null<VectorType>(getTypeConverter()->convertType(tile));
    if (!vectorType)
      return op.emitOpError("of ")
             << tile.getElementType()
             << " elements (narrower than a byte) is not supported yet";
    Type elementType = vectorType.getElementType();
    RegisterLayout layout = getLayout(tile);
    GlobalParts global =
        unpackGlobal(rewriter, loc, adaptor.getSrc(), tile.getRank());
    Value threadId = rewriter.create<NVVM::ThreadIdXOp>(loc, rewriter.getI32Type());
    Value zero = rewriter.create<arith::ConstantOp>(
        loc, rewriter.getZeroAttr(elementType));
    Value result = rewriter.create<arith::ConstantOp>(
        loc, rewriter.getZeroAttr(vectorType));
    for (int64_t local = 0; local < layout.numLocals(); ++local) {
      auto [inBounds, address] =
          emitElementAddress(rewriter, loc, global, elementType, layout,
                             threadId, adaptor.getOffsets(), local);
      auto guarded = rewriter.create<scf::IfOp>(
          loc, inBounds,
          [&](OpBuilder &b, Location l) {
            Value loaded = b.create<LLVM::LoadOp>(l, elementType, address);
            b.create<scf::YieldOp>(l, loaded);
          },
          [&](OpBuilder &b, Location l) { b.create<scf::YieldOp>(l, zero); });
      result = rewriter.create<vector::InsertOp>(loc, guarded.getResult(0),
                                                 result, local);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct StoreGlobalLowering : OpConversionPattern<StoreGlobalOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(StoreGlobalOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TileType tile = op.getValue().getType();
    auto vectorType =
        dyn_cast_or_null<VectorType>(getTypeConverter()->convertType(tile));
    if (!vectorType)
      return op.emitOpError("of ")
             << tile.getElementType()
             << " elements (narrower than a byte) is not supported yet";
    Type elementType = vectorType.getElementType();
    RegisterLayout layout = getLayout(tile);
    GlobalParts global =
        unpackGlobal(rewriter, loc, adaptor.getDst(), tile.getRank());
    Value threadId = rewriter.create<NVVM::ThreadIdXOp>(loc, rewriter.getI32Type());
    for (int64_t local = 0; local < layout.numLocals(); ++local) {
      auto [inBounds, address] =
          emitElementAddress(rewriter, loc, global, elementType, layout,
                             threadId, adaptor.getOffsets(), local);
      Value element =
          rewriter.create<vector::ExtractOp>(loc, adaptor.getValue(), local);
      rewriter.create<scf::IfOp>(loc, inBounds, [&](OpBuilder &b, Location l) {
        b.create<LLVM::StoreOp>(l, element, address);
        b.create<scf::YieldOp>(l);
      });
    }
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void tilus::populateMemoryLoweringPatterns(const TypeConverter &converter,
                                           RewritePatternSet &patterns) {
  patterns.add<GlobalViewLowering, LoadGlobalLowering, StoreGlobalLowering>(
      converter, patterns.getContext());
}
