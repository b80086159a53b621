//===- TileLowering.h - Lowering tilus ops to per-thread code ---*- C++ -*-===//
//
// The first stage of code generation: each register tile becomes the vector of
// the elements one thread holds (its layout's local index order), global
// tensors become an LLVM struct of a pointer and extents, and every tilus
// instruction becomes per-thread arith/scf/vector/LLVM/NVVM operations.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_CODEGEN_TILELOWERING_H
#define TILUS_CODEGEN_TILELOWERING_H

#include "mlir/Transforms/DialectConversion.h"

namespace tilus {

/// Adds the tile and global-tensor type conversions to `converter` (which
/// must already convert the scalar types it meets).
void populateTileTypeConversions(mlir::TypeConverter &converter);

/// Patterns for the global-memory instructions (codegen/MemoryLowering.cpp).
void populateMemoryLoweringPatterns(const mlir::TypeConverter &converter,
                                    mlir::RewritePatternSet &patterns);

/// Patterns for tile creation, indices and elementwise arithmetic
/// (codegen/ElementwiseLowering.cpp).
void populateElementwiseLoweringPatterns(const mlir::TypeConverter &converter,
                                         mlir::RewritePatternSet &patterns);

} // namespace tilus

#endif // TILUS_CODEGEN_TILELOWERING_H
