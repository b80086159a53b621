//===- Passes.h - tilus code generation passes ------------------*- C++ -*-===//
//
// The entry of code generation: the pass that lowers tilus kernels, after
// the passes of passes/, to the LLVM and NVVM dialects.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_CODEGEN_PASSES_H
#define TILUS_CODEGEN_PASSES_H

#include "mlir/Pass/Pass.h"

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
#include "codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/Passes.h.inc"

} // namespace tilus

#endif // TILUS_CODEGEN_PASSES_H
