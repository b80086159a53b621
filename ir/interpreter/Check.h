//===- Check.h - Comparing a device's results with the interpreter -*- C++ -*-//
//
// `tilusc --run --check` runs a kernel on a device and on the reference
// interpreter with the same inputs and compares every element of every
// buffer. Integers, bool, and floats computed only by correctly rounded
// instructions must match bit for bit (NaN matches any NaN). Where the VM
// leaves the device freedom, floats match within a tolerance chosen from
// what the kernel does (docs/interpreter.md derives the numbers):
//   - special functions (exp, log, tanh, ...) lower to PTX `.approx`
//     instructions with documented error bounds;
//   - float sums (`reduce sum`, `dot`) add in an order the layout or the
//     tensor core decides, while the interpreter adds in index order.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_IR_INTERPRETER_CHECK_H
#define TILUS_IR_INTERPRETER_CHECK_H

#include "ir/dtype/DType.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cstdint>
#include <optional>
#include <string>

namespace tilus {

/// Two float values d (device) and r (reference) match when
/// |d - r| <= absolute + relative * |r|; zero for both means bit-exact.
struct Tolerance {
  double relative = 0;
  double absolute = 0;
  bool isExact() const { return relative == 0 && absolute == 0; }
  /// "exact" or "|d - r| <= A + R * |r|".
  std::string str() const;
};

/// The tolerance for float outputs of `dtype` written by `kernel`: exact
/// when the kernel uses no special function and no float sum, else wide
/// enough for the `.approx` error bounds and summation order (with the
/// random inputs of `tilusc --run`, which lie in [-1, 1]).
Tolerance defaultTolerance(mlir::func::FuncOp kernel, DType dtype);

/// Whether the codes `device` and `reference` of `dtype` match: integers
/// and bool exactly (bool by truth), floats within `tolerance`.
bool elementsMatch(DType dtype, uint64_t device, uint64_t reference,
                   Tolerance tolerance);

struct Mismatch {
  uint64_t index = 0;         ///< of the first mismatching element
  uint64_t deviceCode = 0;    ///< its code on the device
  uint64_t referenceCode = 0; ///< and in the interpreter
  uint64_t count = 0;         ///< of mismatching elements in all
};

/// Compares `count` densely packed elements of `dtype`; the first mismatch,
/// or nothing when every element matches.
std::optional<Mismatch> compareElements(DType dtype, const uint8_t *device,
                                        const uint8_t *reference,
                                        uint64_t count, Tolerance tolerance);

/// A code's value for messages: floats with 9 significant digits, integers
/// in decimal.
std::string formatElement(DType dtype, uint64_t code);

} // namespace tilus

#endif // TILUS_IR_INTERPRETER_CHECK_H
