//===- LayoutCodegen.h - Layout maps as per-thread arithmetic ---*- C++ -*-===//

#ifndef TILUS_CODEGEN_LAYOUTCODEGEN_H
#define TILUS_CODEGEN_LAYOUTCODEGEN_H

#include "ir/dialect/Tilus.h"

#include "mlir/IR/Builders.h"

namespace tilus {

/// Emits the logical coordinates (i32, one per dimension) of the element that
/// thread `threadId` holds at register `local` under `layout`: each spatial
/// mode's digit is extracted from the thread index with a division and a
/// remainder by constants, each local mode's digit is a constant.
llvm::SmallVector<mlir::Value>
emitLayoutCoordinates(mlir::OpBuilder &builder, mlir::Location loc,
                      const RegisterLayout &layout, mlir::Value threadId,
                      int64_t local);

} // namespace tilus

#endif // TILUS_CODEGEN_LAYOUTCODEGEN_H
