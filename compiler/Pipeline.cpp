//===- Pipeline.cpp - The compiler's dialects and pass pipeline -----------===//

#include "compiler/Pipeline.h"

#include "codegen/Passes.h"
#include "ir/dialect/Tilus.h"
#include "passes/Passes.h"

#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void tilus::registerDialects(DialectRegistry &registry) {
  registry.insert<TilusDialect, func::FuncDialect, arith::ArithDialect,
                  scf::SCFDialect, cf::ControlFlowDialect,
                  vector::VectorDialect, LLVM::LLVMDialect,
                  NVVM::NVVMDialect>();
}

void tilus::registerDialects(MLIRContext &context) {
  DialectRegistry registry;
  registerDialects(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
}

void tilus::buildLowerToLLVMPipeline(OpPassManager &pm, StringRef arch,
                                     const PipelineRemarks &remarks) {
  pm.addPass(
      createInferLayouts(InferLayoutsOptions{arch.str(), remarks.layout}));
  pm.addPass(createVectorize(VectorizeOptions{remarks.vectorize}));
  pm.addPass(createPlanSharedMemory({arch.str()}));
  pm.addPass(
      createConvertTilusToLLVM({arch.str(), remarks.mma, remarks.lowering}));
  pm.addPass(createReconcileUnrealizedCastsPass());
  // No canonicalizer: LLVM's InstCombine folds what it would (the PTX of
  // every example and matmul tile is the same without it) and it cost 3 %
  // of a compile (docs/building.md).
  // The lowering recomputes the same thread coordinates and addresses for
  // every element it touches; removing the copies here halves the IR that
  // translation, LLVM's optimizer and the NVPTX backend then work through.
  pm.addPass(createCSEPass());
}

void tilus::registerAllPasses() {
  registerTilusPasses();
  registerTilusCodegenPasses();
  PassPipelineRegistration<>(
      "tilus-lower-to-llvm",
      "Lower tilus kernels to LLVM + NVVM ready for translation",
      [](OpPassManager &pm) { buildLowerToLLVMPipeline(pm); });
}
