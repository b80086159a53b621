//===- Passes.td - tilus code generation passes ------------*- tablegen -*-===//

#ifndef TILUS_CODEGEN_PASSES_TD
#define TILUS_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTilusToLLVM : Pass<"tilus-convert-to-llvm", "mlir::ModuleOp"> {
  let summary = "Lower tilus kernels to the LLVM and NVVM dialects";
  let description = [{
    Two stages. First every register tile becomes the vector of the elements
    one thread holds and every tilus instruction per-thread code (bounds-
    guarded global accesses, vector arithmetic, NVVM special registers).
    Then arith, vector, scf, cf and func lower to the LLVM dialect, and kernels
    become `llvm.func` with `nvvm.kernel` and `nvvm.maxntid` set from
    `tilus.num_warps`. Run `reconcile-unrealized-casts` afterwards. The
    target decides which instructions may be selected (`stmatrix` for
    `store_shared` from sm_90 on).
  }];
  let options = [
    Option<"arch", "arch", "std::string", /*default=*/"\"sm_80\"",
           "Target architecture, for the instructions it offers">,
    Option<"mmaRemarks", "mma-remarks", "bool", /*default=*/"false",
           "Emit a remark per dot with the mma.sync instruction, warp tiling "
           "and operand loads chosen, or why it stays SIMT">,
    Option<"loweringRemarks", "lowering-remarks", "bool",
           /*default=*/"false",
           "Emit a remark per tilus op with the pattern that lowered it">
  ];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
    "::mlir::cf::ControlFlowDialect", "::mlir::arith::ArithDialect"
  ];
  let statistics = [
    Statistic<"numKernels", "kernels", "Number of kernels lowered">
  ];
}

#endif // TILUS_CODEGEN_PASSES_TD
