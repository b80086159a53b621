//===- Passes.h - tilus passes ----------------------------------*- C++ -*-===//
//
// The passes over the tilus dialect before code generation: layout
// inference, vectorization and shared-memory planning. They depend on ir/ and
// target/ only; code generation (codegen/) runs after them.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_PASSES_PASSES_H
#define TILUS_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include "ir/layout/RegisterLayout.h"

namespace mlir {
namespace scf {
class SCFDialect;
}
} // namespace mlir

namespace tilus {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// The default layout of a tile of `shape` over `numThreads` threads: each
/// thread holds a run of up to 16 bytes along the innermost dimension,
/// threads cover the dimensions innermost first, left-over threads replicate.
/// The run is at least `minRun` elements (a power of two dividing the
/// innermost extent), even if threads are then left without elements.
RegisterLayout defaultLayout(llvm::ArrayRef<int64_t> shape,
                             int64_t numThreads, unsigned elementBits,
                             int64_t minRun = 1);

/// The most register bytes one thread may hold for one tile: 256 32-bit
/// registers, a thread's whole register file in hardware (255 registers).
/// A tile past it spills to local memory at best, and code generation grows
/// with it (compiling 1024 f32 per thread takes minutes), so it is a mistake
/// (a tile extent meant for another dimension, a -D value too large) that
/// layout inference reports before code generation starts.
constexpr int64_t kMaxTileBytesPerThread = 1024;

/// The most elements a tile may have: the layout algebra's extent limit.
constexpr int64_t kMaxTileElements = int64_t(1) << 31;

} // namespace tilus

#endif // TILUS_PASSES_PASSES_H
