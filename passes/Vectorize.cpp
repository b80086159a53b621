//===- Vectorize.cpp - Vector widths of global memory accesses ------------===//
//
// Chooses, for every `tilus.load_global` and `tilus.store_global`, how many
// consecutive elements one thread moves with one instruction, and records it
// as `tilus.vector = N` (elements) for the lowering. The width is the largest
// power of two that every rule allows:
//
//   bytes:       N elements take at most 16 bytes;
//   contiguity:  the layout's local indices hold runs of consecutive
//                elements along the innermost dimension, each run starting
//                at a multiple of its length (RegisterLayout::contiguity);
//                N divides the run length;
//   alignment:   the first element of each run sits at a multiple of N
//                elements from the (16-byte aligned) base pointer: N divides
//                the innermost offset and, for rank > 1, the innermost
//                extent (the row stride);
//   mask:        the bound check is the same for the N elements: N divides
//                the innermost extent (the innermost offset already does).
//
// A `tilus.copy_async` gets the same attribute from the rules other than
// contiguity: its lowering cuts the region into chunks by the shared layout,
// and a chunk of N elements or a divisor of N is then known to start at an
// address aligned to its size and to lie wholly inside or outside the
// tensor, which saves the run-time alignment test and its element-wise
// fallback.
//
// Divisibility comes from ScalarAnalysis. Loads of types narrower than a
// byte are left at width 1 (their element accesses are bit-exact but not
// byte vectors yet). A store of such a type is either
//
//   whole bytes: each thread holds runs of E = 8 / gcd(bits, 8) elements
//                that start on a byte of the tensor (the rules above with
//                E for N, bytes aside), so it writes those bytes with plain
//                byte stores; `tilus.vector = E`;
//   atomic:      otherwise, since threads share bytes: each element's bits
//                are updated atomically (`tilus.vector = 1`, see
//                codegen/MemoryLowering.cpp).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/ScalarAnalysis.h"

#include "ir/dialect/Tilus.h"

#include "mlir/IR/BuiltinOps.h"

#include "llvm/Support/Debug.h"

#include <numeric>

#define DEBUG_TYPE "tilus-vectorize"

namespace tilus {
#define GEN_PASS_DEF_VECTORIZE
#include "passes/Passes.h.inc"
} // namespace tilus

using namespace mlir;
using namespace tilus;

namespace {

constexpr int64_t kMaxVectorBytes = 16;

/// The largest power of two dividing `v` (> 0).
int64_t powerOfTwoPart(int64_t v) { return v & -v; }

/// A chosen width and, when a wider one was possible in bytes, the rule
/// that refused it.
struct Decision {
  int64_t width = 1;
  std::string refusal;
  bool wholeBytes = false; ///< a sub-byte store of whole bytes
};

/// The divisibility of the extent of dimension `dim` of `global`.
int64_t extentDivisibility(Value global, unsigned dim,
                           ScalarAnalysis &analysis) {
  auto type = cast<GlobalTensorType>(global.getType());
  ArrayRef<int64_t> shape = type.getShape();
  if (!ShapedType::isDynamic(shape[dim]))
    return shape[dim] == 0 ? ScalarAnalysis::kMaxDivisibility : shape[dim];
  auto view = global.getDefiningOp<GlobalViewOp>();
  if (!view)
    return 1;
  unsigned dynamicIndex = llvm::count_if(shape.take_front(dim), [](int64_t e) {
    return ShapedType::isDynamic(e);
  });
  return analysis.divisibility(view.getDynamicExtents()[dynamicIndex]);
}

/// Whether a store of `bits`-bit elements (bits < 8) from `layout` to
/// `global` at `offsets` writes whole bytes of the tensor per thread.
Decision decideSubByteStore(unsigned bits, const RegisterLayout &layout,
                            Value global, ValueRange offsets,
                            ScalarAnalysis &analysis) {
  Decision decision;
  int64_t group = 8 / std::gcd(bits, 8u);
  unsigned inner = offsets.size() - 1;
  auto refuse = [&](StringRef rule, const Twine &why) {
    decision.refusal =
        ("whole bytes refused by " + rule + " (" + why + ")").str();
    return decision;
  };
  if (layout.innerContiguity() % group != 0)
    return refuse("contiguity", "the layout holds runs of " +
                                    Twine(layout.innerContiguity()) +
                                    " consecutive elements, not of " +
                                    Twine(group));
  int64_t offsetDiv = analysis.divisibility(offsets[inner]);
  if (offsetDiv % group != 0)
    return refuse("alignment",
                  "innermost offset divisible by " + Twine(offsetDiv));
  if (offsets.size() > 1) {
    int64_t extentDiv = extentDivisibility(global, inner, analysis);
    if (extentDiv % group != 0)
      return refuse("alignment",
                    "row stride divisible by " + Twine(extentDiv));
  }
  decision.width = group;
  decision.wholeBytes = true;
  return decision;
}

/// The width for moving elements of `elementType` between `global` at
/// `offsets` and registers held in `layout`, or, for a copy without
/// registers (`layout` null), the widest aligned, mask-constant run.
Decision decide(Type elementType, const RegisterLayout *layout, Value global,
                ValueRange offsets, ScalarAnalysis &analysis,
                bool isStore = false) {
  Decision decision;
  std::optional<DType> dtype = getDType(elementType);
  if (!dtype || offsets.empty())
    return decision;
  unsigned bits = dtype->isBool() ? 8 : dtype->bitWidth();
  if (bits < 8 && isStore && layout)
    return decideSubByteStore(bits, *layout, global, offsets, analysis);
  if (bits < 8) {
    decision.refusal = "wider refused: elements narrower than a byte are "
                       "moved one at a time";
    return decision;
  }
  int64_t bytes = bits / 8;
  int64_t widest = std::max<int64_t>(1, kMaxVectorBytes / bytes);
  unsigned inner = offsets.size() - 1;

  int64_t offsetDiv = powerOfTwoPart(analysis.divisibility(offsets[inner]));
  int64_t extentDiv =
      powerOfTwoPart(extentDivisibility(global, inner, analysis));

  auto explain = [](int64_t refused, StringRef rule, const Twine &why) {
    return (Twine("width ") + Twine(refused) + " refused by " + rule + " (" +
            why + ")")
        .str();
  };
  int64_t width = widest;
  if (layout) {
    int64_t contiguity = powerOfTwoPart(layout->innerContiguity());
    if (contiguity < width) {
      decision.refusal = explain(width, "contiguity",
                                 "the layout holds runs of " +
                                     Twine(layout->innerContiguity()) +
                                     " consecutive elements");
      width = contiguity;
    }
  }
  int64_t alignment = offsetDiv;
  if (offsets.size() > 1)
    alignment = std::min(alignment, extentDiv);
  if (alignment < width) {
    decision.refusal = explain(
        width, "alignment",
        offsetDiv < width ? "innermost offset divisible by " + Twine(offsetDiv)
                          : "row stride divisible by " + Twine(extentDiv));
    width = alignment;
  }
  if (extentDiv < width) {
    decision.refusal = explain(
        width, "mask", "innermost extent divisible by " + Twine(extentDiv));
    width = extentDiv;
  }
  decision.width = width;
  return decision;
}

/// The width of a transfer between `global` and a tile: width 1 without a
/// layout or for a scalar tile.
Decision decideTile(TileType tile, Value global, ValueRange offsets,
                    ScalarAnalysis &analysis, bool isStore) {
  if (!tile.getLayout() || tile.getRank() == 0)
    return {};
  RegisterLayout layout = tile.getLayout().getLayout();
  return decide(tile.getElementType(), &layout, global, offsets, analysis,
                isStore);
}

struct VectorizePass : tilus::impl::VectorizeBase<VectorizePass> {
  using VectorizeBase::VectorizeBase;

  void runOnOperation() override {
    ScalarAnalysis analysis;
    MLIRContext *context = &getContext();
    getOperation().walk([&](Operation *op) {
      Type elementType;
      Decision decision;
      StringRef what;
      if (auto load = dyn_cast<LoadGlobalOp>(op)) {
        TileType tile = load.getResult().getType();
        elementType = tile.getElementType();
        decision = decideTile(tile, load.getSrc(), load.getOffsets(), analysis,
                              /*isStore=*/false);
        what = "load_global";
      } else if (auto store = dyn_cast<StoreGlobalOp>(op)) {
        TileType tile = store.getValue().getType();
        elementType = tile.getElementType();
        decision = decideTile(tile, store.getDst(), store.getOffsets(),
                              analysis, /*isStore=*/true);
        what = "store_global";
      } else if (auto copy = dyn_cast<CopyAsyncOp>(op)) {
        elementType = copy.getDst().getType().getElementType();
        decision = decide(elementType, /*layout=*/nullptr, copy.getSrc(),
                          copy.getOffsets(), analysis);
        what = "copy_async";
      } else {
        return;
      }
      op->setAttr(
          kVectorAttrName,
          IntegerAttr::get(IntegerType::get(context, 64), decision.width));
      if (decision.width > 1)
        ++numVectorized;
      LLVM_DEBUG(llvm::dbgs() << what << ": width " << decision.width << "\n");
      if (!remarks)
        return;
      std::optional<DType> dtype = getDType(elementType);
      unsigned bits = dtype ? (dtype->isBool() ? 8 : dtype->bitWidth()) : 0;
      if (isa<StoreGlobalOp>(op) && bits > 0 && bits < 8) {
        InFlightDiagnostic remark = op->emitRemark() << what << ": ";
        if (decision.wholeBytes) {
          int64_t bytes = decision.width * bits / 8;
          remark << "whole bytes (" << bytes
                 << (bytes == 1 ? " byte" : " bytes")
                 << " per access, plain byte stores)";
        } else {
          remark << "atomic updates of shared bytes (32-bit and/or inside "
                    "the tensor, 16-bit compare-and-swap at its end)";
        }
        if (!decision.refusal.empty())
          remark << "; " << decision.refusal;
        return;
      }
      InFlightDiagnostic remark = op->emitRemark() << what << ": vector width "
                                                   << decision.width;
      if (bits >= 8)
        remark << " (" << decision.width * bits / 8 << " bytes)";
      if (!decision.refusal.empty())
        remark << "; " << decision.refusal;
    });
  }

  static constexpr StringLiteral kVectorAttrName = "tilus.vector";
};

} // namespace
