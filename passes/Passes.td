//===- Passes.td - tilus passes ----------------------------*- tablegen -*-===//

#ifndef TILUS_PASSES_TD
#define TILUS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTilusToLLVM : Pass<"tilus-convert-to-llvm", "mlir::ModuleOp"> {
  let summary = "Lower tilus kernels to the LLVM and NVVM dialects";
  let description = [{
    Two stages. First every register tile becomes the vector of the elements
    one thread holds and every tilus instruction per-thread code (bounds-
    guarded global accesses, vector arithmetic, NVVM special registers).
    Then arith, vector, scf, cf and func lower to the LLVM dialect, and kernels
    become `llvm.func` with `nvvm.kernel` and `nvvm.maxntid` set from
    `tilus.num_warps`. Run `reconcile-unrealized-casts` afterwards.
  }];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
    "::mlir::cf::ControlFlowDialect", "::mlir::arith::ArithDialect"
  ];
  let statistics = [
    Statistic<"numKernels", "kernels", "Number of kernels lowered">
  ];
}

#endif // TILUS_PASSES_TD
