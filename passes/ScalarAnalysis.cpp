//===- ScalarAnalysis.cpp - Divisibility and constants of scalars ---------===//

#include "passes/ScalarAnalysis.h"

#include "ir/dialect/Tilus.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/MathExtras.h"

#include <numeric>

using namespace mlir;
using namespace tilus;

namespace {

/// The largest power of two dividing `v` (> 0), at most the cap.
int64_t powerOfTwoPart(int64_t v) {
  return std::min<int64_t>(v & -v, ScalarAnalysis::kMaxDivisibility);
}

/// Divisibility of a constant; 0 is a multiple of everything.
int64_t divisibilityOf(int64_t c) {
  if (c == 0 || c == std::numeric_limits<int64_t>::min())
    return ScalarAnalysis::kMaxDivisibility;
  return std::min<int64_t>(std::abs(c), ScalarAnalysis::kMaxDivisibility);
}

int64_t multiply(int64_t a, int64_t b) {
  int64_t product;
  if (llvm::MulOverflow(a, b, product) ||
      product > ScalarAnalysis::kMaxDivisibility)
    return std::min(ScalarAnalysis::kMaxDivisibility,
                    powerOfTwoPart(a) * powerOfTwoPart(b));
  return product;
}

ScalarInfo constantInfo(int64_t c) { return ScalarInfo{divisibilityOf(c), c}; }

} // namespace

ScalarInfo ScalarAnalysis::get(Value value) {
  if (!value || !value.getType().isIntOrIndex())
    return {};
  auto it = cache.find(value);
  if (it != cache.end())
    return it->second;
  ScalarInfo info = compute(value);
  cache[value] = info;
  return info;
}

ScalarInfo ScalarAnalysis::compute(Value value) {
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    Operation *parent = arg.getOwner()->getParentOp();
    if (auto func = dyn_cast<func::FuncOp>(parent)) {
      if (arg.getOwner() != &func.getBody().front())
        return {};
      auto fact = func.getArgAttrOfType<IntegerAttr>(
          arg.getArgNumber(), kernel_attr::kDivisibility);
      if (fact && fact.getInt() > 0)
        return {std::min(fact.getInt(), kMaxDivisibility), std::nullopt};
      return {};
    }
    if (auto loop = dyn_cast<scf::ForOp>(parent)) {
      if (value != loop.getInductionVar())
        return {};
      return {std::gcd(get(loop.getLowerBound()).divisibility,
                       get(loop.getStep()).divisibility),
              std::nullopt};
    }
    return {};
  }

  Operation *op = value.getDefiningOp();
  if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
    auto integer = dyn_cast<IntegerAttr>(constant.getValue());
    if (!integer || integer.getValue().getSignificantBits() > 64)
      return {};
    return constantInfo(integer.getValue().getSExtValue());
  }
  // Width changes keep a multiple a multiple (truncation too, as long as the
  // value fits, which offsets and extents of i32 tensors do).
  if (isa<arith::ExtSIOp, arith::ExtUIOp, arith::TruncIOp, arith::IndexCastOp,
          arith::IndexCastUIOp>(op))
    return get(op->getOperand(0));

  auto binary = [&](auto combine, auto fold) -> ScalarInfo {
    ScalarInfo lhs = get(op->getOperand(0)), rhs = get(op->getOperand(1));
    if (lhs.constant && rhs.constant) {
      if (std::optional<int64_t> folded = fold(*lhs.constant, *rhs.constant))
        return constantInfo(*folded);
    }
    return {combine(lhs, rhs), std::nullopt};
  };
  auto none = [](int64_t, int64_t) -> std::optional<int64_t> {
    return std::nullopt;
  };

  if (isa<arith::AddIOp, arith::SubIOp>(op)) {
    bool add = isa<arith::AddIOp>(op);
    return binary(
        [](ScalarInfo a, ScalarInfo b) {
          return std::gcd(a.divisibility, b.divisibility);
        },
        [add](int64_t a, int64_t b) -> std::optional<int64_t> {
          int64_t r;
          if (add ? llvm::AddOverflow(a, b, r) : llvm::SubOverflow(a, b, r))
            return std::nullopt;
          return r;
        });
  }
  if (isa<arith::MulIOp>(op))
    return binary(
        [](ScalarInfo a, ScalarInfo b) {
          return multiply(a.divisibility, b.divisibility);
        },
        [](int64_t a, int64_t b) -> std::optional<int64_t> {
          int64_t r;
          if (llvm::MulOverflow(a, b, r))
            return std::nullopt;
          return r;
        });
  if (isa<arith::ShLIOp>(op))
    return binary(
        [](ScalarInfo a, ScalarInfo b) -> int64_t {
          if (!b.constant || *b.constant < 0 || *b.constant >= 40)
            return a.divisibility;
          return multiply(a.divisibility, int64_t(1) << *b.constant);
        },
        none);
  // A quotient by a constant divisor of the known factor keeps the rest.
  if (isa<arith::DivSIOp, arith::DivUIOp>(op))
    return binary(
        [](ScalarInfo a, ScalarInfo b) -> int64_t {
          if (!b.constant || *b.constant <= 0 || a.divisibility % *b.constant)
            return 1;
          return a.divisibility / *b.constant;
        },
        [](int64_t a, int64_t b) -> std::optional<int64_t> {
          if (b <= 0 || a < 0)
            return std::nullopt;
          return a / b;
        });
  // a - q b is a multiple of every common factor of a and b.
  if (isa<arith::RemSIOp, arith::RemUIOp>(op))
    return binary(
        [](ScalarInfo a, ScalarInfo b) {
          return std::gcd(a.divisibility, b.divisibility);
        },
        [](int64_t a, int64_t b) -> std::optional<int64_t> {
          if (b <= 0 || a < 0)
            return std::nullopt;
          return a % b;
        });
  if (auto select = dyn_cast<arith::SelectOp>(op))
    return {std::gcd(get(select.getTrueValue()).divisibility,
                     get(select.getFalseValue()).divisibility),
            std::nullopt};
  return {};
}
