//===- Pipeline.h - The compiler's dialects and pass pipeline ---*- C++ -*-===//
//
// What every entry to the compiler (tilusc, tilus-opt, the JIT) shares: the
// dialects a tilus module may contain, and the pipeline from the tilus
// dialect through passes/ and codegen/ to LLVM + NVVM.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_COMPILER_PIPELINE_H
#define TILUS_COMPILER_PIPELINE_H

#include "llvm/ADT/StringRef.h"

namespace mlir {
class DialectRegistry;
class MLIRContext;
class OpPassManager;
} // namespace mlir

namespace tilus {

/// Adds every dialect a tilus module may contain, from the tilus dialect to
/// LLVM and NVVM, to `registry`.
void registerDialects(mlir::DialectRegistry &registry);

/// Loads the dialects of registerDialects into `context`.
void registerDialects(mlir::MLIRContext &context);

/// Which passes of the pipeline explain their decisions as remarks.
struct PipelineRemarks {
  bool vectorize = false; ///< the width of every global access, and why
  bool mma = false;       ///< the instruction of every dot (wgmma, mma, SIMT)
  bool layout = false;    ///< every conversion layout inference inserts
  bool lowering = false;  ///< the pattern that lowered each tilus op
};

/// The passes from the tilus dialect to LLVM+NVVM ready for translation,
/// for the target `arch` (its shared-memory limit and the instructions it
/// offers), with the remarks `remarks` asks for.
void buildLowerToLLVMPipeline(mlir::OpPassManager &pm,
                              llvm::StringRef arch = "sm_80",
                              const PipelineRemarks &remarks = {});

/// Registers the passes of passes/ and codegen/ and the
/// `tilus-lower-to-llvm` pipeline.
void registerAllPasses();

} // namespace tilus

#endif // TILUS_COMPILER_PIPELINE_H
