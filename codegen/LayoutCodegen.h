//===- LayoutCodegen.h - Layout maps as per-thread arithmetic ---*- C++ -*-===//

#ifndef TILUS_CODEGEN_LAYOUTCODEGEN_H
#define TILUS_CODEGEN_LAYOUTCODEGEN_H

#include "ir/dialect/Tilus.h"

#include "mlir/IR/Builders.h"

namespace tilus {

/// Emits the logical coordinates (i32, one per dimension) of the element that
/// thread `threadId` holds at register `local` under `layout`.
llvm::SmallVector<mlir::Value> emitLayoutCoordinates(mlir::OpBuilder &builder,
                                                     mlir::Location loc,
                                                     const LayoutSummary &layout,
                                                     mlir::Value threadId,
                                                     int64_t local);

/// The layout of `tile`, which the type verifier has already accepted.
LayoutSummary getLayout(TileType tile);

} // namespace tilus

#endif // TILUS_CODEGEN_LAYOUTCODEGEN_H
