//===- Passes.h - tilus passes ----------------------------------*- C++ -*-===//

#ifndef TILUS_PASSES_PASSES_H
#define TILUS_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include "ir/layout/RegisterLayout.h"

namespace mlir {
namespace LLVM {
class LLVMDialect;
}
namespace NVVM {
class NVVMDialect;
}
namespace scf {
class SCFDialect;
}
namespace vector {
class VectorDialect;
}
namespace cf {
class ControlFlowDialect;
}
namespace arith {
class ArithDialect;
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
RegisterLayout defaultLayout(llvm::ArrayRef<int64_t> shape,
                             int64_t numThreads, unsigned elementBits);

/// The most register bytes one thread may hold for one tile: 256 32-bit
/// registers, a thread's whole register file in hardware (255 registers).
/// A tile past it spills to local memory at best, and code generation grows
/// with it (compiling 1024 f32 per thread takes minutes), so it is a mistake
/// (a tile extent meant for another dimension, a -D value too large) that
/// layout inference reports before code generation starts.
constexpr int64_t kMaxTileBytesPerThread = 1024;

/// The most elements a tile may have: the layout algebra's extent limit.
constexpr int64_t kMaxTileElements = int64_t(1) << 31;

/// The passes from the tilus dialect to LLVM+NVVM ready for translation,
/// for the target `arch` (its shared-memory limit and the instructions it
/// offers). `vectorizeRemarks` makes the vectorizer explain the width of
/// every access, `mmaRemarks` the lowering the instruction of every dot.
void buildLowerToLLVMPipeline(mlir::OpPassManager &pm,
                              llvm::StringRef arch = "sm_80",
                              bool vectorizeRemarks = false,
                              bool mmaRemarks = false);

/// Registers the passes and the `tilus-lower-to-llvm` pipeline.
void registerAllPasses();

} // namespace tilus

#endif // TILUS_PASSES_PASSES_H
