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

/// The passes from the tilus dialect to LLVM+NVVM ready for translation,
/// for the target `arch` (its shared-memory limit and the instructions it
/// offers). `vectorizeRemarks` makes the vectorizer explain the width of
/// every access, `mmaRemarks` the lowering the instruction of every dot,
/// `layoutRemarks` layout inference every conversion it inserts.
void buildLowerToLLVMPipeline(mlir::OpPassManager &pm,
                              llvm::StringRef arch = "sm_80",
                              bool vectorizeRemarks = false,
                              bool mmaRemarks = false,
                              bool layoutRemarks = false);

/// Registers the passes of passes/ and codegen/ and the
/// `tilus-lower-to-llvm` pipeline.
void registerAllPasses();

} // namespace tilus

#endif // TILUS_COMPILER_PIPELINE_H
