//===- LayoutLowering.cpp - Moving elements between threads -------------===//
//
// convert_layout, broadcast, slice, transpose and reshape read, for each
// result element, one source element (target/Scratch.h). When every thread
// already holds the source elements of its result elements, the instruction
// is a shuffle of that thread's registers. Otherwise the source goes through
// the instruction's scratch area: a barrier (earlier users of the area may
// still read it), each element stored once at its place (row-major, wide rows
// padded against bank conflicts: getScratchLayout), a barrier, and each
// thread loads the elements it needs. `item` reads a one-element tile's
// register, which every thread holds.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayoutCodegen.h"
#include "codegen/SharedAccess.h"
#include "codegen/TileLowering.h"
#include "target/Scratch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace tilus;

namespace {

/// Stores `source` (held under `from`) into the scratch area at `base`,
/// placed by `scratch`, once per element.
void emitScratchStores(OpBuilder &builder, Location loc, Value base,
                       Type elementType, const SharedLayout &scratch,
                       const RegisterLayout &from, Value source,
                       Value threadId) {
  auto emitStores = [&](OpBuilder &b, Location l) {
    for (int64_t local = 0; local < from.numLocals(); ++local) {
      SmallVector<Value> coords =
          emitLayoutCoordinates(b, l, from, threadId, local);
      Value offset = emitSharedOffset(b, l, scratch, coords);
      Value address = b.create<LLVM::GEPOp>(l, base.getType(), elementType,
                                            base, ValueRange{offset});
      Value element = b.create<vector::ExtractOp>(l, source, local);
      b.create<LLVM::StoreOp>(l, element, address);
    }
  };
  // Replicas would write the same bytes from different warps, which is a
  // race even with equal values.
  if (Value isWriter = emitIsFirstHolder(builder, loc, from, threadId)) {
    builder.create<scf::IfOp>(loc, isWriter, [&](OpBuilder &b, Location l) {
      emitStores(b, l);
      b.create<scf::YieldOp>(l);
    });
  } else {
    emitStores(builder, loc);
  }
}

/// The source coordinates of a reshape's result element at `coords`: its
/// row-major number in the result shape, split row-major by the source
/// shape (constant divisors).
SmallVector<Value> emitReshapedCoordinates(OpBuilder &builder, Location loc,
                                           const SourceIndexMap &map,
                                           ArrayRef<Value> coords) {
  auto constant = [&](int64_t v) -> Value {
    return builder.create<arith::ConstantIntOp>(loc, v, 32);
  };
  Value linear = constant(0);
  for (auto [coord, extent] : llvm::zip(coords, map.resultShape))
    linear = builder.create<arith::AddIOp>(
        loc, builder.create<arith::MulIOp>(loc, linear, constant(extent)),
        coord);
  SmallVector<Value> source(map.sourceShape.size());
  for (size_t d = map.sourceShape.size(); d-- > 0;) {
    Value extent = constant(map.sourceShape[d]);
    source[d] = builder.create<arith::RemUIOp>(loc, linear, extent);
    linear = builder.create<arith::DivUIOp>(loc, linear, extent);
  }
  return source;
}

/// Lowers a layout-moving instruction in registers or through scratch.
template <typename Op> struct MoveLowering : OpConversionPattern<Op> {
  using OpConversionPattern<Op>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TileType source = op.getSource().getType(), result = op.getType();
    if (!source.getLayout() || !result.getLayout())
      return op.emitOpError("needs layouts on its tiles; run layout "
                            "inference before lowering");
    auto vectorType = dyn_cast_or_null<VectorType>(
        this->getTypeConverter()->convertType(result));
    if (!vectorType)
      return op.emitOpError("has no registers for elements of type ")
             << result.getElementType();
    Type elementType = vectorType.getElementType();
    RegisterLayout from = getLayout(source), to = getLayout(result);
    SourceIndexMap map = *getSourceIndexMap(op);
    Value input = adaptor.getSource();

    if (std::optional<SmallVector<int64_t>> gather =
            getRegisterGather(from, to, map)) {
      bool identity =
          from.numLocals() == to.numLocals() &&
          llvm::all_of(llvm::enumerate(*gather), [](auto entry) {
            return static_cast<int64_t>(entry.index()) == entry.value();
          });
      if (identity)
        rewriter.replaceOp(op, input);
      else
        rewriter.replaceOpWithNewOp<vector::ShuffleOp>(op, input, input,
                                                       *gather);
      return success();
    }

    auto offset =
        op->template getAttrOfType<IntegerAttr>(plan_attr::kScratchOffset);
    if (!offset)
      return op.emitOpError("moves elements between threads and needs '")
             << plan_attr::kScratchOffset
             << "'; run tilus-plan-shared-memory before lowering";
    Value base = emitDynamicSharedAddress(rewriter, loc, op, offset.getInt());
    Value threadId =
        createThreadId(rewriter, loc);
    SharedLayout scratch = getScratchLayout(source);
    createBarrier(rewriter, loc);
    emitScratchStores(rewriter, loc, base, elementType, scratch, from, input,
                      threadId);
    createBarrier(rewriter, loc);

    Value output = rewriter.create<arith::ConstantOp>(
        loc, rewriter.getZeroAttr(vectorType));
    for (int64_t local = 0; local < to.numLocals(); ++local) {
      SmallVector<Value> coords =
          emitLayoutCoordinates(rewriter, loc, to, threadId, local);
      SmallVector<Value> sourceCoords;
      if (map.isReshape())
        sourceCoords = emitReshapedCoordinates(rewriter, loc, map, coords);
      for (auto [dim, offsetInDim] : llvm::zip(map.fromDim, map.offset)) {
        Value shift =
            rewriter.create<arith::ConstantIntOp>(loc, offsetInDim, 32);
        sourceCoords.push_back(
            dim < 0 ? shift
                    : rewriter.create<arith::AddIOp>(loc, coords[dim], shift)
                          .getResult());
      }
      Value element = emitSharedOffset(rewriter, loc, scratch, sourceCoords);
      Value address = rewriter.create<LLVM::GEPOp>(
          loc, base.getType(), elementType, base, ValueRange{element});
      Value loaded = rewriter.create<LLVM::LoadOp>(loc, elementType, address);
      output = rewriter.create<vector::InsertOp>(loc, loaded, output, local);
    }
    rewriter.replaceOp(op, output);
    return success();
  }
};

/// `item`: the layout algebra names an element for every (thread, local)
/// pair, so every thread of the block holds a one-element tile (the
/// element replicated over all threads) and reads its own register; the
/// copies are equal, so the scalar is uniform.
struct ItemLowering : OpConversionPattern<ItemOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ItemOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    TileType source = op.getSource().getType();
    if (!source.getLayout())
      return op.emitOpError("needs a layout on its tile; run layout "
                            "inference before lowering");
    int64_t numThreads = getKernelNumThreads(op);
    if (numThreads != 0 && getLayout(source).replication() != numThreads)
      return op.emitOpError("needs the element held by all ")
             << numThreads << " threads of the block, but its layout "
             << getLayout(source).str() << " gives it to "
             << getLayout(source).replication();
    rewriter.replaceOpWithNewOp<vector::ExtractOp>(op, adaptor.getSource(), 0);
    return success();
  }
};

struct ArangeLowering : OpConversionPattern<ArangeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ArangeOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TileType tile = op.getType();
    if (!tile.getLayout())
      return op.emitOpError("needs a layout on its tile; run layout "
                            "inference before lowering");
    Type vectorType = getTypeConverter()->convertType(tile);
    RegisterLayout layout = getLayout(tile);
    Value threadId =
        createThreadId(rewriter, loc);
    Value result = rewriter.create<arith::ConstantOp>(
        loc, rewriter.getZeroAttr(vectorType));
    for (int64_t local = 0; local < layout.numLocals(); ++local) {
      SmallVector<Value> coords =
          emitLayoutCoordinates(rewriter, loc, layout, threadId, local);
      result = rewriter.create<vector::InsertOp>(loc, coords[op.getDim()],
                                                 result, local);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void tilus::populateLayoutLoweringPatterns(const TypeConverter &converter,
                                           RewritePatternSet &patterns) {
  patterns.add<MoveLowering<ConvertLayoutOp>, MoveLowering<BroadcastOp>,
               MoveLowering<SliceOp>, MoveLowering<TransposeOp>,
               MoveLowering<ReshapeOp>, ItemLowering, ArangeLowering>(
      converter, patterns.getContext());
}
