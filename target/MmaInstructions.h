//===- MmaInstructions.h - The mma.sync instruction table -------*- C++ -*-===//
//
// The mma.sync instructions a dot can use, shared by layout inference (which
// tiles the accumulator by the chosen instruction's atoms) and the lowering
// (codegen/MmaLowering.cpp, which checks the layouts divide and emits the
// instructions).
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_TARGET_MMAINSTRUCTIONS_H
#define TILUS_TARGET_MMAINSTRUCTIONS_H

#include "ir/dialect/Tilus.h"
#include "ir/layout/Atoms.h"

#include "mlir/Support/LogicalResult.h"

#include <string>

namespace tilus {

/// One mma.sync instruction: the element types it multiplies and
/// accumulates, its tile, the fragment atoms of its operands
/// (ir/layout/Atoms.h) and the NVVM intrinsic that emits it.
struct MmaInstruction {
  /// PTX name and shape, "mma.m16n8k16".
  llvm::StringRef name;
  DType input, accumulator;
  int64_t m, n, k;
  const LayoutAtom *a, *b, *c;
  llvm::StringRef intrinsic;

  /// "mma.m16n8k16 f16 x f16 -> f32", for remarks.
  std::string describe() const;
};

/// The mma.sync instruction for `dot` by its element types and shape: f16 or
/// bf16 inputs into f32, f16 into f16, i8 or u8 into i32, with M, N, K
/// multiples of the instruction's tile. Otherwise failure, with `reason`
/// naming the types or the extent that rule it out.
mlir::FailureOr<MmaInstruction> selectMmaInstruction(DotOp dot,
                                                     std::string &reason);

} // namespace tilus

#endif // TILUS_TARGET_MMAINSTRUCTIONS_H
