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
// Divisibility comes from ScalarAnalysis. Types narrower than a byte are
// left at width 1 (their element accesses are bit-exact but not byte
// vectors yet).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/ScalarAnalysis.h"

#include "ir/dialect/Tilus.h"

#include "mlir/IR/BuiltinOps.h"

#include "llvm/Support/Debug.h"

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

Decision decide(TileType tile, Value global, ValueRange offsets,
                ScalarAnalysis &analysis) {
  Decision decision;
  std::optional<DType> dtype = getDType(tile.getElementType());
  if (!dtype || !tile.getLayout() || tile.getRank() == 0)
    return decision;
  unsigned bits = dtype->isBool() ? 8 : dtype->bitWidth();
  if (bits < 8) {
    decision.refusal = "wider refused: elements narrower than a byte are "
                       "moved one at a time";
    return decision;
  }
  int64_t bytes = bits / 8;
  int64_t widest = std::max<int64_t>(1, kMaxVectorBytes / bytes);
  unsigned inner = tile.getRank() - 1;
  RegisterLayout layout = tile.getLayout().getLayout();

  int64_t contiguity = powerOfTwoPart(layout.innerContiguity());
  int64_t offsetDiv = powerOfTwoPart(analysis.divisibility(offsets[inner]));
  int64_t extentDiv =
      powerOfTwoPart(extentDivisibility(global, inner, analysis));

  auto explain = [](int64_t refused, StringRef rule, const Twine &why) {
    return (Twine("width ") + Twine(refused) + " refused by " + rule + " (" +
            why + ")")
        .str();
  };
  int64_t width = widest;
  if (contiguity < width) {
    decision.refusal =
        explain(width, "contiguity",
                "the layout holds runs of " + Twine(layout.innerContiguity()) +
                    " consecutive elements");
    width = contiguity;
  }
  int64_t alignment = offsetDiv;
  if (tile.getRank() > 1)
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

struct VectorizePass : tilus::impl::VectorizeBase<VectorizePass> {
  using VectorizeBase::VectorizeBase;

  void runOnOperation() override {
    ScalarAnalysis analysis;
    MLIRContext *context = &getContext();
    getOperation().walk([&](Operation *op) {
      TileType tile;
      Value global;
      ValueRange offsets;
      StringRef what;
      if (auto load = dyn_cast<LoadGlobalOp>(op)) {
        tile = load.getResult().getType();
        global = load.getSrc();
        offsets = load.getOffsets();
        what = "load_global";
      } else if (auto store = dyn_cast<StoreGlobalOp>(op)) {
        tile = store.getValue().getType();
        global = store.getDst();
        offsets = store.getOffsets();
        what = "store_global";
      } else {
        return;
      }
      Decision decision = decide(tile, global, offsets, analysis);
      op->setAttr(
          kVectorAttrName,
          IntegerAttr::get(IntegerType::get(context, 64), decision.width));
      if (decision.width > 1)
        ++numVectorized;
      LLVM_DEBUG(llvm::dbgs() << what << ": width " << decision.width << "\n");
      if (!remarks)
        return;
      std::optional<DType> dtype = getDType(tile.getElementType());
      unsigned bits = dtype ? (dtype->isBool() ? 8 : dtype->bitWidth()) : 0;
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
