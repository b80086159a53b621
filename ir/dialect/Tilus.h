//===- Tilus.h - The tilus dialect ------------------------------*- C++ -*-===//
//
// Types, attributes and operations of the tile VM. Kernels are `func.func`
// operations carrying the attributes named below.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_IR_DIALECT_TILUS_H
#define TILUS_IR_DIALECT_TILUS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "ir/dtype/DType.h"
#include "ir/layout/RegisterLayout.h"
#include "ir/layout/SharedLayout.h"

#include "ir/dialect/TilusDialect.h.inc"
#include "ir/dialect/TilusEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "ir/dialect/TilusAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "ir/dialect/TilusTypes.h.inc"

namespace tilus {
/// Fails, naming the op, unless \p op is nested in a function.
mlir::LogicalResult verifyInFunction(mlir::Operation *op);

namespace OpTrait {
/// Every tilus instruction: it must be nested in a function (a kernel or a
/// function it calls), never directly in a module.
template <typename ConcreteType>
class InFunction : public mlir::OpTrait::TraitBase<ConcreteType, InFunction> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return verifyInFunction(op);
  }
};
} // namespace OpTrait
} // namespace tilus

#define GET_OP_CLASSES
#include "ir/dialect/TilusOps.h.inc"

namespace tilus {

/// Names of the attributes that make a `func.func` a tilus kernel.
namespace kernel_attr {
/// Unit attribute marking a kernel entry point.
inline constexpr llvm::StringLiteral kKernel = "tilus.kernel";
/// i32: warps per thread block.
inline constexpr llvm::StringLiteral kNumWarps = "tilus.num_warps";
/// Array of three strings: the grid extents as expressions of the kernel's
/// scalar parameters, evaluated on the host at launch.
inline constexpr llvm::StringLiteral kGrid = "tilus.grid";
/// On an scf.for, i64: unroll the loop by this factor.
inline constexpr llvm::StringLiteral kUnroll = "tilus.unroll";
/// Argument attribute, i64: the run-time value is a multiple of this.
inline constexpr llvm::StringLiteral kDivisibility = "tilus.divisibility";
} // namespace kernel_attr

/// Unit attribute on an async `tilus.dot` whose register `a` the program
/// reads or reassigns while the dot may be in flight (frontend/DotAsync.cpp):
/// on wgmma with A from registers it waits for its own group.
inline constexpr llvm::StringLiteral kDotWaitsForA = "tilus.waits_for_a";

/// The MLIR type of a dtype: builtin where MLIR has it (f16, bf16, f32,
/// i8..i64 as signless two's complement, bool as i1), `!tilus.<name>` else.
mlir::Type getMLIRType(mlir::MLIRContext *context, DType dtype);

/// The dtype of an MLIR element type, if it is one.
std::optional<DType> getDType(mlir::Type type);

/// The element type of a tile, or a scalar type itself.
inline mlir::Type getTileOrScalarElementType(mlir::Type type) {
  if (auto tile = llvm::dyn_cast<TileType>(type))
    return tile.getElementType();
  return type;
}

/// Whether a reduction gives indices (argmax, argmin) rather than values.
inline bool isArgReduce(ReduceKind kind) {
  return kind == ReduceKind::argmax || kind == ReduceKind::argmin;
}

/// The exact value at `x` of the float function `kind` (any kind but neg,
/// abs and not, which act on the code): the reference the interpreter rounds
/// to the element type, and the folding of a constant argument.
double evalFloatFunction(UnaryKind kind, double x);

/// Threads per warp on every target tilus supports.
inline constexpr int kWarpSize = 32;

/// The thread count that runs `op`: its thread group's (`tilus.thread_group`,
/// or the branch the lowering makes of one) when it is in one, else its
/// kernel's; 0 outside a kernel.
int64_t getKernelNumThreads(mlir::Operation *op);

/// The discardable attribute that marks the branch a lowered thread group
/// becomes: [first warp, warp count, named barrier id].
inline constexpr llvm::StringLiteral kThreadGroupAttr = "tilus.thread_group";

/// The (first warp, warp count) of the thread group around `op`, if any.
std::optional<std::pair<int64_t, int64_t>>
getThreadGroup(mlir::Operation *op);

/// The layout of `tile`, which must have one.
inline RegisterLayout getLayout(TileType tile) {
  return tile.getLayout().getLayout();
}

/// The layout of `shared`: its own, or row-major when it has none.
inline SharedLayout getSharedLayout(SharedTensorType shared) {
  if (shared.getLayout())
    return shared.getLayout().getLayout();
  return SharedLayout::rowMajor(
      std::vector<int64_t>(shared.getShape().begin(), shared.getShape().end()));
}

/// The swizzle span in bytes (0 when unswizzled, else 32, 64 or 128) of
/// the TMA copies that write `shared`, or nullopt with `why` saying what
/// layout and shape TMA needs.
std::optional<int64_t> getTmaSwizzleBytes(SharedTensorType shared,
                                          std::string &why);

/// Why a TMA copy cannot read the global tensor `src`: it must be a view of
/// a kernel parameter whose rows start 16-byte aligned, as the `%` facts on
/// its innermost extent prove; nullopt when it can.
std::optional<std::string> checkTmaGlobal(mlir::Value src);

} // namespace tilus

#endif // TILUS_IR_DIALECT_TILUS_H
