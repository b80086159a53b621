//===- Interpreter.h - The reference interpreter of the VM ------*- C++ -*-===//
//
// Executes a tilus kernel on the host, at tile level, instruction by
// instruction, with the meaning the dialect's op descriptions give and
// nothing else: no layouts, no vectorization, no instruction selection. It
// is the oracle that `tilusc --run --check` compares a device's results
// against, and it runs kernels (and their `tilus.print`s) where no device
// exists (`tilusc --interpret`).
//
// Values
// ------
// A tile is a dense row-major array of element *codes* (DType.h): every
// element holds exactly the bits its type can hold, and arithmetic is
// computed from the decoded values and rounded once into the result type,
// so f16, bf16 and f32 results are those of IEEE arithmetic with one
// rounding (a double computation followed by one rounding is exact for
// + - * / and sqrt of these types, since double has more than 2p + 2
// bits). Integers wrap. Scalars (arith, scf) are bit patterns of their MLIR
// type. docs/interpreter.md defines the choices where the VM leaves freedom:
// float reduction and dot order, transcendental functions, `view`.
//
// Memory
// ------
// A pointer parameter is a host byte buffer holding the tensor densely
// bit-packed, LSB first (docs/dtypes.md). Global loads read zero outside a
// tensor's extents and stores drop such elements; a tensor element beyond
// the buffer's bytes is an error. Shared tensors are per-block arrays;
// asynchronous copies complete at once, so commit, wait and sync do
// nothing. A TMA copy completes at once too and arrives on its mbarrier; an
// mbarrier counts arrivals and completed phases, and a wait for a phase
// that has not completed is an error (a device would hang).
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_IR_INTERPRETER_INTERPRETER_H
#define TILUS_IR_INTERPRETER_INTERPRETER_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
#include <cstdint>

namespace tilus {

/// One argument of an interpreted kernel, in the order of its parameters.
struct InterpreterArg {
  enum class Kind { Buffer, Int, Float };
  Kind kind = Kind::Int;
  /// A pointer parameter's memory: `bytes` bytes at `data`, read and written
  /// in place.
  uint8_t *data = nullptr;
  uint64_t bytes = 0;
  /// An integer scalar's value; it is truncated to the parameter's width.
  int64_t intValue = 0;
  /// A float scalar's value; it is rounded to the parameter's type.
  double floatValue = 0;

  static InterpreterArg buffer(uint8_t *data, uint64_t bytes) {
    InterpreterArg arg;
    arg.kind = Kind::Buffer;
    arg.data = data;
    arg.bytes = bytes;
    return arg;
  }
  static InterpreterArg integer(int64_t value) {
    InterpreterArg arg;
    arg.intValue = value;
    return arg;
  }
  static InterpreterArg real(double value) {
    InterpreterArg arg;
    arg.kind = Kind::Float;
    arg.floatValue = value;
    return arg;
  }
};

struct InterpreterOptions {
  /// The number of blocks along x, y and z (the kernel's `tilus.grid`
  /// evaluated on its scalar arguments; the caller knows the parameters'
  /// names, the IR does not).
  std::array<int64_t, 3> grid = {1, 1, 1};
  /// Where `tilus.print` writes; nothing is printed when null.
  llvm::raw_ostream *printStream = nullptr;
};

/// Runs `kernel` (a verified `func.func` with the `tilus.kernel` attribute)
/// once for every block of `options.grid`, blocks in order x fastest, then
/// y, then z. Buffers are updated in place. A failure (an op the
/// interpreter does not implement, arguments that do not match the
/// parameters, a tensor element beyond its buffer, a shared-memory access
/// out of bounds) is emitted as an error diagnostic at the op's location.
mlir::LogicalResult interpretKernel(mlir::func::FuncOp kernel,
                                    llvm::ArrayRef<InterpreterArg> args,
                                    const InterpreterOptions &options);

} // namespace tilus

#endif // TILUS_IR_INTERPRETER_INTERPRETER_H
