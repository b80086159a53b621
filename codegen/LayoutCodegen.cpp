//===- LayoutCodegen.cpp - Layout maps as per-thread arithmetic -----------===//

#include "codegen/LayoutCodegen.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace tilus;

LayoutSummary tilus::getLayout(TileType tile) {
  std::string error;
  FailureOr<LayoutSummary> summary =
      summarizeLayout(tile.getLayout().getExpr(), error);
  assert(succeeded(summary) && "tile types carry verified layouts");
  return *summary;
}

SmallVector<Value> tilus::emitLayoutCoordinates(OpBuilder &builder,
                                                Location loc,
                                                const LayoutSummary &layout,
                                                Value threadId,
                                                int64_t local) {
  size_t rank = layout.shape.size();
  auto constant = [&](int64_t value) -> Value {
    return builder.create<arith::ConstantIntOp>(loc, value, 32);
  };
  SmallVector<Value> coords(rank);
  SmallVector<int64_t> stride(rank, 1);
  Value threadRest = threadId;
  int64_t localRest = local;
  // The last factor of a composition varies fastest in both indices, and its
  // coordinates are the least significant.
  for (const LayoutSummary::Primitive &prim : llvm::reverse(layout.primitives)) {
    int64_t size = 1;
    for (int64_t extent : prim.shape)
      size *= extent;
    // The factor's own flat index: a run-time value for threads, a constant
    // for registers.
    Value threadIndex;
    int64_t localIndex = 0;
    if (prim.spatial) {
      threadIndex =
          builder.create<arith::RemUIOp>(loc, threadRest, constant(size));
      threadRest =
          builder.create<arith::DivUIOp>(loc, threadRest, constant(size));
    } else {
      localIndex = localRest % size;
      localRest /= size;
    }
    // Unravel it over the factor's shape.
    int64_t inner = 1;
    SmallVector<int64_t> order(rank);
    for (size_t i = 0; i < rank; ++i)
      order[i] = prim.columnMajor ? i : rank - 1 - i;
    for (int64_t dim : order) {
      int64_t extent = prim.shape[dim];
      Value coord;
      if (extent == 1) {
        inner *= extent;
        continue;
      }
      if (prim.spatial) {
        Value shifted =
            inner == 1 ? threadIndex
                       : builder.create<arith::DivUIOp>(loc, threadIndex,
                                                        constant(inner))
                             .getResult();
        coord = builder.create<arith::RemUIOp>(loc, shifted, constant(extent));
      } else {
        coord = constant((localIndex / inner) % extent);
      }
      inner *= extent;
      Value scaled =
          stride[dim] == 1
              ? coord
              : builder.create<arith::MulIOp>(loc, coord, constant(stride[dim]))
                    .getResult();
      coords[dim] = coords[dim]
                        ? builder.create<arith::AddIOp>(loc, coords[dim], scaled)
                              .getResult()
                        : scaled;
    }
    for (size_t dim = 0; dim < rank; ++dim)
      stride[dim] *= prim.shape[dim];
  }
  for (Value &coord : coords)
    if (!coord)
      coord = constant(0);
  return coords;
}
