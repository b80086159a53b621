//===- SharedAccess.h - Code generation of shared-memory accesses -*- C++ -*-===//
//
// Addresses and offsets into the kernel's dynamic shared memory, as the
// lowering of shared tensors and of scratch areas (target/Scratch.h) emits
// them (codegen/SharedMemoryLowering.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_CODEGEN_SHAREDACCESS_H
#define TILUS_CODEGEN_SHAREDACCESS_H

#include "ir/dialect/Tilus.h"

#include "mlir/IR/Builders.h"

namespace tilus {

/// The address `byteOffset` bytes into the kernel's dynamic shared memory
/// (`!llvm.ptr<3>`); declares the module's `tilus_smem` array on first use.
mlir::Value emitDynamicSharedAddress(mlir::OpBuilder &builder,
                                     mlir::Location loc, mlir::Operation *user,
                                     int64_t byteOffset);

/// The element offset (i32) of the element at `coords` (i32, in bounds)
/// under `layout`, swizzle included.
mlir::Value emitSharedOffset(mlir::OpBuilder &builder, mlir::Location loc,
                             const SharedLayout &layout,
                             mlir::ValueRange coords);

/// An i1 that is true in the lowest thread holding each of its elements
/// under `layout`, so replicated elements are written once; null when
/// `layout` has no replication.
mlir::Value emitIsFirstHolder(mlir::OpBuilder &builder, mlir::Location loc,
                              const RegisterLayout &layout,
                              mlir::Value threadId);

/// `value` as an i32 (indices: narrower integers are zero-extended).
mlir::Value castToI32(mlir::OpBuilder &builder, mlir::Location loc,
                      mlir::Value value);

} // namespace tilus

#endif // TILUS_CODEGEN_SHAREDACCESS_H
