//===- MLIRGen.h - From the syntax tree to the tilus dialect ----*- C++ -*-===//

#ifndef TILUS_FRONTEND_MLIRGEN_H
#define TILUS_FRONTEND_MLIRGEN_H

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"
#include "runtime/core/KernelInfo.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <string>

namespace tilus {

/// `-D NAME=VALUE` overrides of compile-time parameters, by name.
using ConstOverrides = std::map<std::string, std::string>;

/// Checks `module` (names, types, shapes, constants) and builds the tilus
/// dialect. Errors are reported through `diags`; on error the result is null.
/// Every override must name a compile-time parameter of some kernel. When
/// `kernels` is given, it receives each kernel's host-side facts.
mlir::OwningOpRef<mlir::ModuleOp>
lowerToTilus(const ast::Module &module, mlir::MLIRContext &context,
             DiagnosticEngine &diags, const ConstOverrides &overrides,
             std::vector<KernelInfo> *kernels = nullptr);

} // namespace tilus

#endif // TILUS_FRONTEND_MLIRGEN_H
