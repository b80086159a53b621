//===- ScalarAnalysis.h - Divisibility and constants of scalars -*- C++ -*-===//
//
// What the compiler knows about an integer scalar of a kernel: a number it
// is a multiple of and, when it has one, its constant value. The facts come
// from constants, the `tilus.divisibility` attributes of kernel parameters,
// `scf.for` induction variables (start + k step) and the arith operations
// combining them:
//
//     %bx = tilus.block_idx 0             divisible by 1
//     %o  = arith.muli %bx, %c1024        divisible by 1024
//     %n  (argument, tilus.divisibility = 4)   divisible by 4
//     %e  = arith.addi %o, %n             divisible by gcd(1024, 4) = 4
//
// Divisibility is a lower bound on the truth: 1 is always sound. Zero is a
// multiple of everything; it is recorded as `kMaxDivisibility`.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_PASSES_SCALARANALYSIS_H
#define TILUS_PASSES_SCALARANALYSIS_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"

#include <optional>

namespace tilus {

/// The facts known about one integer scalar.
struct ScalarInfo {
  /// The scalar is a multiple of this (positive).
  int64_t divisibility = 1;
  /// Its value, when it is a compile-time constant.
  std::optional<int64_t> constant;
};

/// Computes ScalarInfo on demand, memoised per value; valid as long as the
/// IR it looked at does not change.
class ScalarAnalysis {
public:
  /// The largest divisibility recorded; products saturate to a power of two
  /// at most this.
  static constexpr int64_t kMaxDivisibility = int64_t(1) << 40;

  /// The facts about `value`; anything not integer gives the default.
  ScalarInfo get(mlir::Value value);

  /// Shorthand for get(value).divisibility.
  int64_t divisibility(mlir::Value value) { return get(value).divisibility; }

private:
  ScalarInfo compute(mlir::Value value);

  llvm::DenseMap<mlir::Value, ScalarInfo> cache;
};

} // namespace tilus

#endif // TILUS_PASSES_SCALARANALYSIS_H
