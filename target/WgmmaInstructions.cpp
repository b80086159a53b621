//===- WgmmaInstructions.cpp - wgmma.mma_async on shared tiles ------------===//

#include "target/WgmmaInstructions.h"

#include "mlir/IR/Matchers.h"

#include <functional>

using namespace mlir;
using namespace tilus;

RegisterLayout tilus::wgmmaAccumulatorAtom(int64_t n) {
  return layout::spatial({4, 1}).local({1, n / 8}) *
         layout::local({2, 1}).spatial({8, 4}).local({1, 2});
}

RegisterLayout tilus::wgmmaOperandAAtom() {
  return layout::spatial({4, 1}) *
         layout::columnLocal({2, 2}).spatial({8, 4}).local({1, 2});
}

uint64_t WgmmaDescriptor::encode() const {
  uint64_t mode = swizzle == 128 ? 1 : swizzle == 64 ? 2 : swizzle == 32 ? 3 : 0;
  return (uint64_t(start >> 4) & 0x3fff) |
         (uint64_t(leadingBytes >> 4) & 0x3fff) << 16 |
         (uint64_t(strideBytes >> 4) & 0x3fff) << 32 | mode << 62;
}

std::string WgmmaDescriptor::describe() const {
  if (swizzle)
    return std::to_string(swizzle) + "-byte swizzle";
  return "no swizzle (LBO " + std::to_string(leadingBytes) + ", SBO " +
         std::to_string(strideBytes) + ")";
}

std::string WgmmaPlan::describe() const {
  return "wgmma.m64n" + std::to_string(n) + "k16 " + input.name() + " x " +
         input.name() + " -> " + accumulator.name();
}

namespace {

/// The byte address, relative to the tensor's base, of element (r, k) of an
/// instruction operand: r its row (M of A, N of B), k its K index.
using OperandAddress = std::function<int64_t(int64_t r, int64_t k)>;

/// The descriptor placing `rows` x 16 elements of 2 bytes as `address` does,
/// checked at every element; `swizzleSpanBytes` is the alignment the tensor
/// gets (its layout's swizzle span), which a swizzled placement needs to be
/// a multiple of 8 S.
std::optional<WgmmaDescriptor> matchDescriptor(const OperandAddress &address,
                                               int64_t rows,
                                               int64_t swizzleSpanBytes) {
  int64_t start = address(0, 0);
  if (start % 16 != 0 || start < 0)
    return std::nullopt;
  auto fits = [](int64_t bytes) {
    return bytes >= 0 && bytes % 16 == 0 && (bytes >> 4) < (1 << 14);
  };
  for (int64_t swizzle : {128, 64, 32, 0}) {
    WgmmaDescriptor d;
    d.start = start;
    d.swizzle = swizzle;
    if (swizzle) {
      if (swizzleSpanBytes % (8 * swizzle) != 0)
        continue;
      // Unused for K-major swizzled operands (16 elements of K lie inside
      // one swizzled row); 1 as CUTLASS writes it.
      d.leadingBytes = 16;
      d.strideBytes = rows > 8 ? address(8, 0) - start : 8 * swizzle;
    } else {
      d.leadingBytes = address(0, 8) - start;
      d.strideBytes = rows > 8 ? address(8, 0) - start : 0;
    }
    if (!fits(d.leadingBytes) || !fits(d.strideBytes))
      continue;
    bool ok = true;
    for (int64_t r = 0; r < rows && ok; ++r)
      for (int64_t k = 0; k < 16 && ok; ++k) {
        int64_t b = 2 * k, expected;
        if (swizzle) {
          int64_t a = start + r / 8 * d.strideBytes + r % 8 * swizzle + b;
          expected = a ^ (((a >> 7) & (swizzle / 16 - 1)) << 4);
        } else {
          expected = start + r / 8 * d.strideBytes + r % 8 * 16 +
                     b / 16 * d.leadingBytes + b % 16;
        }
        ok = address(r, k) == expected;
      }
    if (ok)
      return d;
  }
  return std::nullopt;
}

/// The constant offsets of a `load_shared`, if all are constants.
std::optional<std::vector<int64_t>> constantOffsets(LoadSharedOp load) {
  std::vector<int64_t> offsets;
  for (Value offset : load.getOffsets()) {
    APInt value;
    if (!matchPattern(offset, m_ConstantInt(&value)))
      return std::nullopt;
    offsets.push_back(value.getSExtValue());
  }
  return offsets;
}

} // namespace

std::optional<WgmmaOperand> tilus::getWgmmaOperand(Value value) {
  bool transposed = false;
  if (auto transpose = value.getDefiningOp<TransposeOp>()) {
    value = transpose.getSource();
    transposed = true;
  }
  auto load = value.getDefiningOp<LoadSharedOp>();
  if (!load)
    return std::nullopt;
  return WgmmaOperand{load, transposed};
}

namespace {

/// The accumulator layout for an M x N dot on `groups` warpgroups: the most
/// warpgroups that split it (M first), the others replicating them, each
/// warpgroup's N in instructions of up to 256 columns.
std::optional<RegisterLayout> chooseLayout(int64_t m, int64_t n,
                                           int64_t groups) {
  for (int64_t used = groups; used >= 1; --used) {
    if (groups % used != 0)
      continue;
    for (int64_t gm = used; gm >= 1; --gm) {
      int64_t gn = used / gm;
      if (used % gm != 0 || (m / 64) % gm != 0 || n % gn != 0 ||
          (n / gn) % 8 != 0)
        continue;
      int64_t nw = n / gn, width = 256;
      while (nw % width != 0)
        width -= 8;
      RegisterLayout layout =
          layout::spatial({gm, gn}).local({m / 64 / gm, nw / width}) *
          wgmmaAccumulatorAtom(width);
      if (used < groups)
        layout = layout::replicate(groups / used) * layout;
      return layout;
    }
  }
  return std::nullopt;
}

} // namespace

namespace {

/// For A from registers: a's layout (the accumulator's warpgroup tiling
/// reduced over N, all k-steps, the A atom) and where each instruction's
/// fragment lies in it, checked at every element of every thread.
LogicalResult planRegisterA(WgmmaPlan &plan, int64_t m, int64_t k,
                            std::string &reason) {
  auto rows = plan.quotient.reduce({1}, /*keepDims=*/true);
  if (!rows) {
    reason = "the accumulator tiling " + plan.quotient.str() +
             " does not reduce over N";
    return failure();
  }
  RegisterLayout atom = wgmmaOperandAAtom();
  plan.aLayout = *rows * layout::local({1, plan.kSteps}) * atom;
  if (plan.aLayout.shape() != std::vector<int64_t>{m, k}) {
    reason = "a in registers would be " + plan.aLayout.str() +
             ", not of the shape of a";
    return failure();
  }
  int64_t locals = plan.quotient.numLocals();
  int64_t threads = plan.quotient.numThreads() * kWarpgroupThreads;
  plan.aLocals.assign(locals, {});
  for (int64_t i = 0; i < locals; ++i) {
    int64_t m0 = plan.quotient.map(0, i)[0] * 64;
    for (int64_t s = 0; s < plan.kSteps; ++s) {
      std::vector<int64_t> fragment;
      for (int64_t l = 0; l < atom.numLocals(); ++l) {
        std::vector<int64_t> rk = atom.map(0, l);
        int64_t index[2] = {m0 + rk[0], 16 * s + rk[1]};
        fragment.push_back(plan.aLayout.localIndexOf(index));
      }
      // Every thread must hold its fragment at these locals.
      for (int64_t t = 0; t < threads; ++t) {
        int64_t g = t / kWarpgroupThreads, lane = t % kWarpgroupThreads;
        int64_t tileRow = plan.quotient.map(g, i)[0] * 64;
        for (int64_t l = 0; l < atom.numLocals(); ++l) {
          std::vector<int64_t> rk = atom.map(lane, l);
          if (plan.aLayout.map(t, fragment[l]) !=
              std::vector<int64_t>{tileRow + rk[0], 16 * s + rk[1]}) {
            reason = "a's register layout " + plan.aLayout.str() +
                     " does not hold each thread's A fragments at the same "
                     "locals";
            return failure();
          }
        }
      }
      plan.aLocals[i].push_back(std::move(fragment));
    }
  }
  return success();
}

} // namespace

FailureOr<WgmmaPlan>
tilus::planWgmma(DotOp dot, const TargetInfo &target, int64_t numWarps,
                 const std::optional<RegisterLayout> &accumulator,
                 std::string &reason) {
  if (!target.hasWgmma()) {
    reason = "wgmma needs sm_90a, the target is " + target.arch.str();
    return failure();
  }
  TileType aTile = dot.getA().getType(), cTile = dot.getC().getType();
  std::optional<DType> input = getDType(aTile.getElementType());
  std::optional<DType> acc = getDType(cTile.getElementType());
  bool types = input && acc &&
               ((*input == DType::f16() &&
                 (*acc == DType::f32() || *acc == DType::f16())) ||
                (*input == DType::bf16() && *acc == DType::f32()));
  if (!types) {
    reason = "wgmma multiplies f16 or bf16 into f32 and f16 into f16 only";
    return failure();
  }
  if (numWarps % 4 != 0) {
    reason = std::to_string(numWarps) +
             " warps are no whole warpgroups (a multiple of 4)";
    return failure();
  }
  int64_t m = cTile.getShape()[0], n = cTile.getShape()[1],
          k = aTile.getShape()[1];
  if (m % 64 != 0 || n % 8 != 0 || k % 16 != 0) {
    reason = "M = " + std::to_string(m) + ", N = " + std::to_string(n) +
             ", K = " + std::to_string(k) +
             " are not multiples of 64, 8 and 16";
    return failure();
  }
  std::optional<WgmmaOperand> operandA = getWgmmaOperand(dot.getA()),
                              operandB = getWgmmaOperand(dot.getB());
  if (!operandB) {
    reason = "b is no load_shared result (or its transpose)";
    return failure();
  }
  // a from registers when it is no load_shared (or its transpose).
  bool aFromRegisters = !operandA;
  LoadSharedOp loadA = operandA ? operandA->load : LoadSharedOp(),
               loadB = operandB->load;
  std::optional<std::vector<int64_t>> offA = aFromRegisters
                                                 ? std::vector<int64_t>{0, 0}
                                                 : constantOffsets(loadA),
                                      offB = constantOffsets(loadB);
  if (!offA || !offB) {
    reason = "a load_shared offset is not a constant";
    return failure();
  }
  // The descriptors are computed from the layouts at every element read.
  for (auto [load, offsets] : {std::make_pair(loadA, *offA),
                               std::make_pair(loadB, *offB)}) {
    if (!load)
      continue;
    ArrayRef<int64_t> shape = load.getSrc().getType().getShape();
    ArrayRef<int64_t> extent = load.getResult().getType().getShape();
    for (size_t d = 0; d < 2; ++d)
      if (offsets[d] < 0 || offsets[d] + extent[d] > shape[d]) {
        reason = "a load_shared region lies outside its shared tensor";
        return failure();
      }
  }
  // Offsets in the operand's own (m, k) or (k, n) order.
  if (operandA && operandA->transposed)
    std::swap((*offA)[0], (*offA)[1]);
  if (operandB->transposed)
    std::swap((*offB)[0], (*offB)[1]);
  int64_t groups = numWarps / 4;
  WgmmaPlan plan;
  plan.input = *input;
  plan.accumulator = *acc;
  plan.kSteps = k / 16;
  std::optional<RegisterLayout> layout =
      accumulator ? accumulator : chooseLayout(m, n, groups);
  if (!layout) {
    reason = "no split of the " + std::to_string(m) + "x" + std::to_string(n) +
             " accumulator over " + std::to_string(groups) +
             " warpgroups into 64 x 8k tiles";
    return failure();
  }
  for (int64_t width = std::min<int64_t>(256, n) / 8 * 8; width >= 8;
       width -= 8) {
    if (n % width != 0)
      continue;
    auto q = layout->divide(wgmmaAccumulatorAtom(width));
    if (q && q->numThreads() == groups) {
      plan.n = width;
      plan.quotient = *q;
      break;
    }
  }
  if (!plan.n) {
    reason = "the accumulator layout " + layout->str() +
             " does not divide by a wgmma accumulator atom over " +
             std::to_string(groups) + " warpgroups";
    return failure();
  }
  plan.layout = *layout;
  plan.aFromRegisters = aFromRegisters;
  if (aFromRegisters && failed(planRegisterA(plan, m, k, reason)))
    return failure();

  SharedLayout sharedA = aFromRegisters
                             ? SharedLayout()
                             : getSharedLayout(loadA.getSrc().getType());
  SharedLayout sharedB = getSharedLayout(loadB.getSrc().getType());
  auto spanBytes = [](const SharedLayout &s) {
    return s.swizzle().isIdentity() ? 0 : s.swizzle().span() * 2;
  };
  // Element (i, j) of an operand, through its transpose if any.
  auto bytesAt = [](const SharedLayout &s, bool transposed, int64_t i,
                    int64_t j) {
    int64_t index[2] = {transposed ? j : i, transposed ? i : j};
    return 2 * s.offsetOf(index);
  };
  // The descriptors of every warpgroup's tiles; warpgroup g's must be those
  // of warpgroup 0 moved by one offset per operand.
  int64_t locals = plan.quotient.numLocals();
  plan.a.assign(locals, {});
  plan.b.assign(locals, {});
  for (int64_t g = 0; g < groups; ++g) {
    int64_t deltaA = 0, deltaB = 0;
    for (int64_t i = 0; i < locals; ++i) {
      std::vector<int64_t> tile = plan.quotient.map(g, i);
      int64_t m0 = (*offA)[0] + tile[0] * 64, n0 = (*offB)[1] + tile[1] * plan.n;
      for (int64_t s = 0; s < plan.kSteps; ++s) {
        int64_t ka = (*offA)[1] + 16 * s, kb = (*offB)[0] + 16 * s;
        std::optional<WgmmaDescriptor> da;
        if (!aFromRegisters)
          da = matchDescriptor(
              [&](int64_t r, int64_t kk) {
                return bytesAt(sharedA, operandA->transposed, m0 + r, ka + kk);
              },
              64, spanBytes(sharedA));
        if (!aFromRegisters && !da) {
          reason = "a's shared layout " + sharedA.str() +
                   (operandA->transposed ? " (transposed)" : "") +
                   " is not a K-major wgmma layout at rows " +
                   std::to_string(m0) + ".., k " + std::to_string(ka) +
                   ".. (row-major, rows of 32, 64 or 128 bytes swizzled to "
                   "match, or 8x8 core matrices)";
          return failure();
        }
        std::optional<WgmmaDescriptor> db = matchDescriptor(
            [&](int64_t r, int64_t kk) {
              return bytesAt(sharedB, operandB->transposed, kb + kk, n0 + r);
            },
            plan.n, spanBytes(sharedB));
        if (!db) {
          reason = "b's shared layout " + sharedB.str() +
                   (operandB->transposed ? " (transposed)" : "") +
                   " is not a K-major wgmma layout at k " + std::to_string(kb) +
                   ".., columns " + std::to_string(n0) +
                   ".. (column-major, or row-major under a transpose, with "
                   "columns of 32, 64 or 128 bytes swizzled to match, or 8x8 "
                   "core matrices)";
          return failure();
        }
        if (aFromRegisters)
          da = WgmmaDescriptor();
        if (g == 0) {
          plan.a[i].push_back(*da);
          plan.b[i].push_back(*db);
          continue;
        }
        const WgmmaDescriptor &a0 = plan.a[i][s], &b0 = plan.b[i][s];
        if (i == 0 && s == 0) {
          deltaA = da->start - a0.start;
          deltaB = db->start - b0.start;
        }
        auto moved = [](const WgmmaDescriptor &x, const WgmmaDescriptor &y,
                        int64_t delta) {
          return x.start + delta == y.start &&
                 x.leadingBytes == y.leadingBytes &&
                 x.strideBytes == y.strideBytes && x.swizzle == y.swizzle;
        };
        if (!moved(a0, *da, deltaA) || !moved(b0, *db, deltaB)) {
          reason = "warpgroup " + std::to_string(g) +
                   "'s descriptors are not warpgroup 0's moved by one offset";
          return failure();
        }
      }
    }
    plan.aDelta.push_back(deltaA);
    plan.bDelta.push_back(deltaB);
  }
  if (aFromRegisters) {
    plan.a.clear();
    plan.aDelta.clear();
  }
  return plan;
}
