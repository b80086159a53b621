//===- PTXEmitter.h - LLVM dialect to LLVM IR and PTX -----------*- C++ -*-===//

#ifndef TILUS_CODEGEN_PTXEMITTER_H
#define TILUS_CODEGEN_PTXEMITTER_H

#include "target/TargetInfo.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <memory>
#include <string>

namespace tilus {

/// Translates a module in the LLVM+NVVM dialects to LLVM IR for `target`
/// (triple and data layout set) and optimises it at O3. Errors are reported
/// on the module's context; returns null on failure.
std::unique_ptr<llvm::Module> translateToLLVMIR(mlir::ModuleOp module,
                                                llvm::LLVMContext &context,
                                                const TargetInfo &target,
                                                std::string &error);

/// Emits PTX for an LLVM module produced by translateToLLVMIR.
bool emitPTX(llvm::Module &module, const TargetInfo &target, std::string &ptx,
             std::string &error);

} // namespace tilus

#endif // TILUS_CODEGEN_PTXEMITTER_H
