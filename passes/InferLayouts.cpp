//===- InferLayouts.cpp - Give every register tile a layout ---------------===//
//
// Walks each kernel in program order and gives every tile result without a
// layout one, by one rule per instruction:
//
//   anchors (load_global, load_shared, full, arange, slice)
//                      the default layout of the shape: each thread holds a
//                      run of up to 16 bytes of the innermost dimension, then
//                      threads cover the dimensions innermost first, and
//                      threads left over replicate the tile
//   elementwise, cast  the layout of the first operand (for where, of the
//                      first value), skipping constants whose layout the
//                      source leaves to inference and values loops carry
//                      from them while another operand remains; other
//                      operands are converted to it (convert_layout) when
//                      they differ
//   constants (full)   never converted: a full that a rule needs in another
//                      layout takes that layout when this is its only use,
//                      else is made again in it next to the original (the
//                      cost is the same in every layout); a literal or scalar
//                      operand of a tile instruction is such a full
//   reduce             the source layout reduced over the dimension (its
//                      spatial modes become replication)
//   broadcast          the layout of the other operand of the elementwise
//                      instruction it feeds, else the default layout of the
//                      result; the source is converted to that layout
//                      reduced over the broadcast dimensions (a global load
//                      used only there, or only through a reshape that
//                      raises its rank, is loaded in it)
//   transpose          the source layout permuted
//   reshape            the source layout reshaped (the same registers) when
//                      the algebra can reshape it, else the default layout
//                      of the result (the lowering moves the elements
//                      through shared memory)
//   view               the source layout when the element widths match
//   dot                on sm_90a, when a and b are load_shared results in
//                      wgmma layouts (target/WgmmaInstructions.h) and the
//                      kernel has whole warpgroups: c takes the wgmma
//                      accumulator layout spatial(gm, gn).local(rm, rn) *
//                      wgmma(n), the dot gets `tilus.wgmma`, and a and b
//                      stay in shared memory (their loads keep the anchor
//                      layout and go unused); the same when b is such a
//                      load and a is a register tile (no load_shared),
//                      which is converted to the wgmma A fragments of the
//                      accumulator tiling (A from registers; a global load
//                      that reaches a only through single-use casts and
//                      elementwise instructions with constant or scalar
//                      other operands is loaded in them); otherwise,
//                      when the element types have an mma.sync
//                      instruction (target/MmaInstructions.h: f16/bf16 into
//                      f32, f16 into f16, i8/u8 into i32) and M, N, K are
//                      multiples of its tile (16, 8, 16 or 32): c takes the
//                      mma tiling spatial(wm, wn).local(rm, rn) * the
//                      instruction's accumulator atom over the most warps
//                      that tile M x N, the other warps replicating it (3
//                      warps on 4 x 8 atoms: one warp's tiling, replicated
//                      3 times); a zeros accumulator, also through loops, is
//                      given it before it is visited; a and b take the
//                      matching A and B atom tilings;
//                      otherwise c's layout, with a and b converted to c's
//                      layout reduced over N (resp. M) and extended along K
//                      in registers, so each thread holds the rows of a and
//                      the columns of b its accumulators need
//   scf.for, scf.if    loop-carried tiles take their initial value's layout,
//                      results the first branch's; yields are converted.
//                      A constant carried by a loop (through outer loops
//                      too) whose layout the source leaves to inference
//                      takes the layout the innermost such loop yields it
//                      in, learnt by inferring a copy of the kernel first,
//                      so that no iteration converts it; a constant that
//                      starts two loops is made once for each
//   wait_dot           each result its operand's layout
//   convert_layout     without a result layout (the frontend's conversion
//                      of a yielded value to a carried tile that has none):
//                      the source layout
//   store_global       a tile of elements narrower than a byte, whose layout
//                      was not written in the source, is converted,
//                      when its innermost extent allows, to a layout in which
//                      each thread holds runs of whole bytes (the default
//                      layout with runs of at least 8 / gcd(bits, 8)
//                      elements), so that threads do not share the bytes
//                      they store (passes/Vectorize.cpp)
//
// With `remarks` (-Rpass=layout), each conversion whose layouts differ gets
// a remark at the instruction that needed it, with the rule and its cost as
// the lowering implements it (target/Scratch.h getMoveCost).
//
// Layouts written in the source (explicit result types) are kept. A used tile
// argument of the kernel must carry its layout: no rule produces it. A rule
// that cannot apply is an error naming the instruction, the layouts involved
// and the constraint that failed.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "ir/dialect/Tilus.h"
#include "ir/layout/Atoms.h"
#include "target/MmaInstructions.h"
#include "target/Scratch.h"
#include "target/WgmmaInstructions.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/MathExtras.h"

#include <numeric>
#include <optional>

#define DEBUG_TYPE "tilus-infer-layouts"

namespace tilus {
#define GEN_PASS_DEF_INFERLAYOUTS
#include "passes/Passes.h.inc"
} // namespace tilus

using namespace mlir;
using namespace tilus;

RegisterLayout tilus::defaultLayout(ArrayRef<int64_t> shape, int64_t numThreads,
                                    unsigned elementBits, int64_t minRun) {
  size_t rank = shape.size();
  int64_t numElements = 1;
  for (int64_t extent : shape)
    numElements *= extent;
  // A run of up to 16 bytes per thread along the innermost dimension, but not
  // so long that threads would be left without elements.
  int64_t vector = std::max<int64_t>(1, 128 / std::max(1u, elementBits));
  // A run of at least minRun elements (a power of two) halves down to
  // minRun, never past it to a length that is not a multiple of it (128 / 3
  // = 42 would halve to 5 for minRun 8, and a run of 5 does not divide the
  // tile): it starts from a power of two.
  if (minRun > 1)
    vector = int64_t(llvm::bit_floor(uint64_t(vector)));
  while (vector > minRun && (shape.back() % vector != 0 ||
                             numElements / vector < numThreads))
    vector /= 2;
  std::vector<int64_t> inner(shape.begin(), shape.end());
  inner.back() /= vector;
  std::vector<int64_t> spatial(rank, 1), outer(rank, 1), run(rank, 1);
  run.back() = vector;
  int64_t remaining = numThreads;
  for (size_t i = rank; i-- > 0;) {
    spatial[i] = std::gcd(inner[i], remaining);
    remaining /= spatial[i];
    outer[i] = inner[i] / spatial[i];
  }
  RegisterLayout layout =
      layout::local(outer).spatial(spatial).local(run);
  if (remaining > 1)
    layout = layout::replicate(remaining) * layout;
  return layout;
}

namespace {

std::string layoutString(LayoutAttr attr) {
  return attr ? attr.getExpr().str() : std::string("<none>");
}

class LayoutInference {
public:
  LayoutInference(func::FuncOp func, int64_t numThreads,
                  const TargetInfo &target, bool remarks,
                  bool learning = false)
      : func(func), numThreads(numThreads), target(target), remarks(remarks),
        learning(learning), builder(func.getContext()) {}

  LogicalResult run() {
    // The rules give layouts to instruction results; an argument has no
    // instruction, so a tile argument that is used must come with one.
    for (BlockArgument arg : func.getArguments()) {
      auto tile = dyn_cast<TileType>(arg.getType());
      if (tile && !tile.getLayout() && !arg.use_empty())
        return emitError(arg.getLoc())
               << "tile argument #" << arg.getArgNumber() << " of '@"
               << func.getSymName() << "' has no layout; layout inference "
               << "gives layouts to instruction results only, so a tile "
               << "argument must carry one";
    }
    func.walk([&](LoadSharedOp load) {
      if (!tileOf(load.getResult()).getLayout())
        unpinnedLoads.insert(load.getResult());
    });
    func.walk([&](LoadGlobalOp load) {
      if (!tileOf(load.getResult()).getLayout())
        unpinnedGlobalLoads.insert(load.getResult());
    });
    func.walk([&](ReshapeOp reshape) {
      if (!tileOf(reshape.getResult()).getLayout())
        unpinnedReshapes.insert(reshape.getResult());
    });
    func.walk([&](StoreGlobalOp store) {
      if (!tileOf(store.getValue()).getLayout())
        unpinnedStoredTiles.insert(store.getValue());
    });
    func.walk([&](FullOp full) {
      if (!tileOf(full.getResult()).getLayout())
        weakValues.insert(full.getResult());
    });
    seedMmaAccumulators();
    seedRegisterOperandsA();
    if (!learning)
      seedCarriedConstants();
    if (failed(visitRegion(func.getBody())))
      return failure();
    // Constants that were made again in the layouts of all their uses.
    for (FullOp full : replacedConstants)
      if (full.getResult().use_empty())
        full.erase();
    if (remarks)
      emitConversionRemarks();
    return success();
  }

private:
  LogicalResult visitRegion(Region &region) {
    for (Block &block : region)
      for (Operation &op : llvm::make_early_inc_range(block)) {
        if (failed(visit(&op)))
          return failure();
        for (Value result : op.getResults())
          if (failed(checkRegisters(&op, tileOf(result))))
            return failure();
      }
    return success();
  }

  /// A tile without a layout gets one only if the layout algebra can
  /// describe it: at most kMaxTileElements elements.
  LogicalResult checkExtent(Operation *op, TileType tile) {
    int64_t elements = 1;
    for (int64_t extent : tile.getShape())
      if (extent <= 0 || llvm::MulOverflow(elements, extent, elements) ||
          elements > kMaxTileElements)
        return op->emitOpError("tile ")
               << tile << " has more than " << kMaxTileElements
               << " elements, the most a layout describes";
    return success();
  }

  /// A tile with a layout fits the register budget of a thread.
  LogicalResult checkRegisters(Operation *op, TileType tile) {
    if (!tile || !tile.getLayout())
      return success();
    auto layout = parseRegisterLayout(tile.getLayout().getExpr());
    if (!layout)
      return op->emitOpError("tile ")
             << tile << " has an invalid layout: " << layout.error().message;
    int64_t bits = getDType(tile.getElementType())->bitWidth();
    TileType plain = TileType::get(tile.getContext(), tile.getShape(),
                                   tile.getElementType(), LayoutAttr());
    int64_t bytes = (layout->numLocals() * bits + 7) / 8;
    if (bytes <= kMaxTileBytesPerThread)
      return success();
    InFlightDiagnostic diag =
        op->emitOpError("tile ")
        << plain << " in layout " << layout->str() << " needs " << bytes
        << " bytes of registers per thread (" << layout->numLocals()
        << " elements); the budget is " << kMaxTileBytesPerThread
        << " bytes (256 32-bit registers)";
    // An extent with a small power-of-two factor spreads over few threads
    // (1000 = 8 x 125: the other threads hold copies). Say what to write.
    for (int64_t extent : tile.getShape())
      if (!llvm::isPowerOf2_64(extent) && extent > 32) {
        diag << "; the extent " << extent
             << " is not a power of two, so it spreads over few threads: use "
             << llvm::PowerOf2Ceil(extent)
             << " (loads and stores leave out what lies past the tensor) or "
                "annotate a layout";
        break;
      }
    return diag;
  }

  static TileType tileOf(Value value) {
    return dyn_cast<TileType>(value.getType());
  }

  TileType withLayout(TileType tile, const RegisterLayout &layout) {
    return TileType::get(tile.getContext(), tile.getShape(),
                         tile.getElementType(),
                         LayoutAttr::get(tile.getContext(), layout));
  }

  /// Gives `value` (a tile result without a layout) `layout`.
  void assign(Value value, const RegisterLayout &layout) {
    value.setType(withLayout(tileOf(value), layout));
  }

  RegisterLayout defaultFor(TileType tile) {
    return defaultLayout(tile.getShape(), numThreads,
                         getDType(tile.getElementType())->bitWidth());
  }

  /// Makes operand `index` of `op` have `layout`, converting it if needed;
  /// `why` says which rule of `op` needs the layout (for -Rpass=layout).
  void convertOperand(Operation *op, unsigned index,
                      const RegisterLayout &layout, const Twine &why) {
    Value operand = op->getOperand(index);
    TileType tile = tileOf(operand);
    LayoutAttr wanted = LayoutAttr::get(op->getContext(), layout);
    if (tile.getLayout() == wanted)
      return;
    // A constant tile is made in any layout at the cost of one in the
    // layout it has: no conversion. One used here alone whose layout
    // inference chose takes the layout; otherwise it is made again.
    if (auto full = operand.getDefiningOp<FullOp>()) {
      if (operand.hasOneUse() && weakValues.contains(operand)) {
        assign(operand, layout);
        return;
      }
      Value &copy = constantCopies[{full, wanted}];
      if (!copy) {
        builder.setInsertionPointAfter(full);
        copy = builder.create<FullOp>(full.getLoc(), withLayout(tile, layout),
                                      full.getValue());
        weakValues.insert(copy);
        replacedConstants.insert(full);
      }
      op->setOperand(index, copy);
      return;
    }
    builder.setInsertionPoint(op);
    auto converted = builder.create<ConvertLayoutOp>(
        op->getLoc(), withLayout(tile, layout), operand);
    op->setOperand(index, converted);
    if (remarks)
      conversions[converted] = {op, index, why.str()};
  }

  /// Why inference inserted a conversion.
  struct Conversion {
    Operation *user;
    unsigned operand;
    std::string why;
  };

  /// -Rpass=layout: a remark for each conversion, in program order, at the
  /// instruction that needed it, with its layouts, the rule and the cost of
  /// the lowering; conversions that the source wrote at their own place.
  void emitConversionRemarks() {
    auto count = [](int64_t n, StringRef what) {
      return (Twine(n) + " " + what + (n == 1 ? "" : "s")).str();
    };
    func.walk([&](ConvertLayoutOp convert) {
      Conversion c{nullptr, 0,
                   "written in the source (a layout annotation, or operands "
                   "whose written layouts differ)"};
      if (auto it = conversions.find(convert); it != conversions.end())
        c = it->second;
      TileType source = convert.getSource().getType();
      if (source.getLayout() == convert.getType().getLayout())
        return;
      MoveCost cost = getMoveCost(convert);
      std::string tile;
      llvm::raw_string_ostream os(tile);
      llvm::interleave(source.getShape(), os, "x");
      os << "x" << source.getElementType();
      InFlightDiagnostic remark =
          (c.user ? c.user : convert.getOperation())->emitRemark();
      remark << "layout conversion";
      if (c.user)
        remark << " of operand #" << c.operand << " of '" << c.user->getName()
               << "'";
      remark << " (" << tile << ") from "
             << getLayout(source).str() << " to "
             << getLayout(convert.getType()).str() << ": " << c.why
             << "; ";
      if (cost.isFree())
        remark << "free (each thread holds its elements at the same local "
                  "indices)";
      else if (cost.inRegisters())
        remark << "free (a permutation of the "
               << count(cost.registerMoves, "element")
               << " each thread holds)";
      else
        remark << "through shared memory: " << cost.scratchBytes
               << " bytes of scratch, " << count(cost.barriers, "barrier")
               << ", " << count(cost.sharedStores, "store") << " and "
               << count(cost.sharedLoads, "load")
               << " of shared memory per thread";
    });
  }

  LogicalResult fail(Operation *op, const Twine &constraint) {
    return op->emitOpError("layout inference failed: ") << constraint;
  }

  LogicalResult visit(Operation *op) {
    // Results that already have layouts are pinned.
    auto needsLayout = [&](Value v) {
      TileType tile = tileOf(v);
      return tile && !tile.getLayout();
    };
    // Tiles are spread over the threads that run the instruction: its
    // thread group's, or the block's.
    numThreads = getKernelNumThreads(op);
    bool anyMissing = llvm::any_of(op->getResults(), needsLayout);
    for (Value result : op->getResults())
      if (needsLayout(result) && failed(checkExtent(op, tileOf(result))))
        return failure();

    if (auto forOp = dyn_cast<scf::ForOp>(op))
      return visitFor(forOp);
    if (auto ifOp = dyn_cast<scf::IfOp>(op))
      return visitIf(ifOp);
    if (auto whileOp = dyn_cast<scf::WhileOp>(op))
      return visitWhile(whileOp);
    for (Region &region : op->getRegions())
      if (failed(visitRegion(region)))
        return failure();
    if (auto store = dyn_cast<StoreGlobalOp>(op))
      return visitSubByteStore(store);
    if (!anyMissing &&
        !isa<DotOp, AddOp, SubOp, MulOp, DivOp, RemOp, MinOp, MaxOp, AndOp,
             OrOp, XorOp, ShlOp, ShrOp, CmpOp, WhereOp>(op))
      return success();

    return TypeSwitch<Operation *, LogicalResult>(op)
        .Case<LoadGlobalOp, LoadSharedOp, FullOp, ArangeOp, SliceOp>(
            [&](Operation *anchor) {
              assign(anchor->getResult(0), defaultFor(tileOf(anchor->getResult(0))));
              return success();
            })
        .Case<AddOp, SubOp, MulOp, DivOp, RemOp, MinOp, MaxOp, AndOp, OrOp,
              XorOp, ShlOp, ShrOp, CmpOp, WhereOp, UnaryOp, CastOp>(
            [&](Operation *elementwise) { return visitElementwise(elementwise); })
        .Case<ReduceOp>([&](ReduceOp reduce) {
          RegisterLayout source =
              tileOf(reduce.getSource()).getLayout().getLayout();
          auto reduced = source.reduce({static_cast<int64_t>(reduce.getDim())},
                                       reduce.getKeepdim() ||
                                           source.rank() == 1);
          if (!reduced)
            return fail(reduce, "cannot reduce layout " + source.str() +
                                    " over dimension " +
                                    Twine(reduce.getDim()) + ": " +
                                    reduced.error().message);
          assign(reduce.getResult(), *reduced);
          return success();
        })
        .Case<BroadcastOp>([&](BroadcastOp broadcast) {
          TileType result = tileOf(broadcast.getResult());
          RegisterLayout layout =
              partnerLayout(broadcast).value_or(defaultFor(result));
          std::vector<int64_t> dims;
          for (auto [d, extents] : llvm::enumerate(
                   llvm::zip(tileOf(broadcast.getSource()).getShape(),
                             result.getShape())))
            if (std::get<0>(extents) != std::get<1>(extents))
              dims.push_back(d);
          auto source = layout.reduce(dims, /*keepDims=*/true);
          if (!source)
            return fail(broadcast, "cannot reduce layout " + layout.str() +
                                       ": " + source.error().message);
          assign(broadcast.getResult(), layout);
          Value operand = broadcast.getSource();
          if (unpinnedGlobalLoads.contains(operand) && operand.hasOneUse()) {
            assign(operand, *source);
            return success();
          }
          // A load raised to the result's rank (`[n] + [m, n]`) is loaded in
          // the layout that reshapes to the broadcast's source layout.
          auto reshape = operand.getDefiningOp<ReshapeOp>();
          if (reshape && operand.hasOneUse() &&
              unpinnedReshapes.contains(operand) &&
              unpinnedGlobalLoads.contains(reshape.getSource()) &&
              reshape.getSource().hasOneUse()) {
            ArrayRef<int64_t> loaded = tileOf(reshape.getSource()).getShape();
            if (auto layout = source->reshape(
                    std::vector<int64_t>(loaded.begin(), loaded.end()))) {
              assign(reshape.getSource(), *layout);
              assign(operand, *source);
              return success();
            }
          }
          convertOperand(broadcast, 0, *source,
                         "the broadcast reads its source in its result's "
                         "layout reduced over the broadcast dimensions");
          return success();
        })
        .Case<TransposeOp>([&](TransposeOp transpose) {
          RegisterLayout source =
              tileOf(transpose.getSource()).getLayout().getLayout();
          std::vector<int64_t> perm(transpose.getPermutation().begin(),
                                    transpose.getPermutation().end());
          auto permuted = source.permute(perm);
          if (!permuted)
            return fail(transpose, "cannot permute layout " + source.str() +
                                       ": " + permuted.error().message);
          assign(transpose.getResult(), *permuted);
          return success();
        })
        .Case<ReshapeOp>([&](ReshapeOp reshape) {
          // The reshaped source layout keeps every element in its register
          // (no code); a layout the algebra cannot reshape gives the result
          // the default layout, and the lowering moves the elements.
          TileType result = tileOf(reshape.getResult());
          RegisterLayout source =
              tileOf(reshape.getSource()).getLayout().getLayout();
          auto reshaped = source.reshape(std::vector<int64_t>(
              result.getShape().begin(), result.getShape().end()));
          if (reshaped) {
            assign(reshape.getResult(), *reshaped);
          } else {
            LLVM_DEBUG(llvm::dbgs()
                       << "reshape of " << source.str() << " moves elements: "
                       << reshaped.error().message << "\n");
            assign(reshape.getResult(), defaultFor(result));
          }
          return success();
        })
        .Case<ViewOp>([&](ViewOp view) {
          TileType source = tileOf(view.getSource());
          TileType result = tileOf(view.getResult());
          if (source.getShape() != result.getShape() ||
              getDType(source.getElementType())->bitWidth() !=
                  getDType(result.getElementType())->bitWidth())
            return fail(view, "a view that changes the element width or the "
                              "shape needs an explicit result layout "
                              "(source layout " +
                                  layoutString(source.getLayout()) + ")");
          assign(view.getResult(), source.getLayout().getLayout());
          return success();
        })
        .Case<DotOp>([&](DotOp dot) { return visitDot(dot); })
        .Case<WaitDotOp>([&](WaitDotOp wait) {
          for (auto [operand, result] :
               llvm::zip(wait.getAccumulators(), wait.getResults()))
            assign(result, tileOf(operand).getLayout().getLayout());
          return success();
        })
        .Case<ConvertLayoutOp>([&](ConvertLayoutOp convert) {
          // The frontend converts a value yielded with a layout to a
          // carried tile that has none yet; the loop or if converts the
          // yield to the carried layout once it is known.
          assign(convert.getResult(),
                 tileOf(convert.getSource()).getLayout().getLayout());
          return success();
        })
        .Default([&](Operation *other) {
          return fail(other, "no layout rule for this instruction");
        });
  }

  /// A stored tile of elements narrower than a byte whose layout inference
  /// chose (a written layout is kept) gets runs of whole bytes per thread
  /// when its innermost extent holds such runs.
  LogicalResult visitSubByteStore(StoreGlobalOp store) {
    TileType tile = tileOf(store.getValue());
    unsigned bits = getDType(tile.getElementType())->bitWidth();
    if (bits >= 8 || tile.getRank() == 0 || !tile.getLayout() ||
        !unpinnedStoredTiles.contains(store.getValue()))
      return success();
    int64_t group = 8 / std::gcd(bits, 8u);
    RegisterLayout layout = tile.getLayout().getLayout();
    if (layout.innerContiguity() % group == 0 ||
        tile.getShape().back() % group != 0)
      return success();
    convertOperand(store, store.getValueMutable().getOperandNumber(),
                   defaultLayout(tile.getShape(), numThreads, bits, group),
                   "a stored tile of sub-byte elements needs whole bytes "
                   "in each thread");
    return success();
  }

  /// The layout of the other tile operand of the one elementwise
  /// instruction that uses `broadcast`, when it already has one: broadcasting
  /// straight into it saves a conversion (`cast(w, f16) * scales` keeps w's
  /// layout).
  std::optional<RegisterLayout> partnerLayout(BroadcastOp broadcast) {
    Value result = broadcast.getResult();
    if (!result.hasOneUse())
      return std::nullopt;
    Operation *user = *result.getUsers().begin();
    if (!isa<AddOp, SubOp, MulOp, DivOp, RemOp, MinOp, MaxOp, AndOp, OrOp,
             XorOp, ShlOp, ShrOp, CmpOp, WhereOp>(user))
      return std::nullopt;
    for (Value operand : user->getOperands()) {
      TileType tile = tileOf(operand);
      if (operand != result && tile && tile.getLayout() &&
          tile.getShape() == tileOf(result).getShape())
        return tile.getLayout().getLayout();
    }
    return std::nullopt;
  }

  LogicalResult visitElementwise(Operation *op) {
    // The first operand's layout wins and the others follow it; the
    // condition of a where decides only the selection, so the values come
    // first. A constant, and a value carried from one, follows the others.
    SmallVector<unsigned> order;
    if (isa<WhereOp>(op))
      order = {1, 2, 0};
    for (unsigned i = 0; i < op->getNumOperands(); ++i)
      if (tileOf(op->getOperand(i)) && !llvm::is_contained(order, i))
        order.push_back(i);
    unsigned leader = order.front();
    for (unsigned i : order)
      if (!weakValues.contains(op->getOperand(i))) {
        leader = i;
        break;
      }
    RegisterLayout layout = getLayout(tileOf(op->getOperand(leader)));
    std::string why = (Twine("'") + op->getName().getStringRef() +
                       "' computes in the layout of operand #" + Twine(leader))
                          .str();
    for (unsigned i = 0; i < op->getNumOperands(); ++i)
      if (tileOf(op->getOperand(i)))
        convertOperand(op, i, layout, why);
    if (tileOf(op->getResult(0)) && !tileOf(op->getResult(0)).getLayout())
      assign(op->getResult(0), layout);
    return success();
  }

  /// The mma.sync instruction for `dot`'s element types and shape
  /// (target/MmaInstructions.h), if any.
  static std::optional<MmaInstruction> mmaInstruction(DotOp dot) {
    std::string reason;
    FailureOr<MmaInstruction> instruction = selectMmaInstruction(dot, reason);
    if (failed(instruction)) {
      LLVM_DEBUG(llvm::dbgs() << "dot at " << dot.getLoc()
                              << " has no mma: " << reason << "\n");
      return std::nullopt;
    }
    return *instruction;
  }

  /// The accumulator layout of an mma dot: `used` warps split the M x N tile
  /// wm x wn, each holding rm x rn accumulator atoms, and the other warps
  /// replicate them; or none when the shapes do not tile. `used` is the
  /// largest divisor of the warp count that tiles (all warps unless, e.g., 3
  /// warps meet a 4 x 8 grid of atoms: one warp's tiling replicated by 3
  /// stays on tensor cores, where the SIMT dot would hold 128 elements per
  /// thread, fully unrolled). Among the splits, an even rn (so b loads with
  /// ldmatrix.x4.trans) and then the fewest operand tiles per warp win.
  std::optional<RegisterLayout> mmaAccumulatorLayout(DotOp dot) {
    std::optional<MmaInstruction> mma = mmaInstruction(dot);
    int64_t threads = getKernelNumThreads(dot);
    if (!mma || threads % kWarpSize != 0)
      return std::nullopt;
    ArrayRef<int64_t> shape = tileOf(dot.getC()).getShape();
    int64_t warps = threads / kWarpSize;
    int64_t mTiles = shape[0] / mma->m, nTiles = shape[1] / mma->n;
    for (int64_t used = warps; used >= 1; --used) {
      if (warps % used != 0)
        continue;
      std::optional<std::pair<int64_t, int64_t>> best;
      int64_t bestScore = 0;
      for (int64_t wm = 1; wm <= used; ++wm) {
        if (used % wm != 0 || mTiles % wm != 0 || nTiles % (used / wm) != 0)
          continue;
        int64_t rm = mTiles / wm, rn = nTiles / (used / wm);
        int64_t score = (rn % 2 != 0) * (1 << 20) + rm * 2 + rn;
        if (!best || score < bestScore) {
          best = {wm, used / wm};
          bestScore = score;
        }
      }
      if (!best)
        continue;
      auto [wm, wn] = *best;
      RegisterLayout layout =
          layout::spatial({wm, wn}).local({mTiles / wm, nTiles / wn}) *
          mma->c->layout;
      if (used < warps)
        layout = layout::replicate(warps / used) * layout;
      return layout;
    }
    return std::nullopt;
  }

  /// The wgmma plan of `dot` for the accumulator layout `layout` (or one the
  /// plan chooses), if the target and the dot allow one.
  std::optional<WgmmaPlan>
  wgmmaPlan(DotOp dot, const std::optional<RegisterLayout> &layout) {
    std::string reason;
    FailureOr<WgmmaPlan> plan =
        planWgmma(dot, target, getKernelNumThreads(dot) / kWarpSize, layout,
                  reason);
    if (failed(plan)) {
      LLVM_DEBUG(llvm::dbgs() << "dot at " << dot.getLoc()
                              << " has no wgmma: " << reason << "\n");
      return std::nullopt;
    }
    return *plan;
  }

  /// Gives the zeros (or full) accumulator of each mma or wgmma dot, seen
  /// through loop-carried values, the accumulator layout before the walk,
  /// so loops carry it without conversions.
  void seedMmaAccumulators() {
    func.walk([&](DotOp dot) {
      std::optional<RegisterLayout> layout;
      if (std::optional<WgmmaPlan> plan = wgmmaPlan(dot, std::nullopt))
        layout = plan->layout;
      else
        layout = mmaAccumulatorLayout(dot);
      if (!layout)
        return;
      Value c = dot.getC();
      while (auto arg = dyn_cast<BlockArgument>(c)) {
        auto forOp = dyn_cast<scf::ForOp>(arg.getOwner()->getParentOp());
        if (!forOp || arg.getArgNumber() == 0)
          return;
        c = forOp.getInitArgs()[arg.getArgNumber() - 1];
      }
      if (isa_and_nonnull<FullOp>(c.getDefiningOp()) &&
          !tileOf(c).getLayout()) {
        assign(c, *layout);
        weakValues.erase(c);
      }
    });
  }

  /// For a wgmma dot with a from registers whose a is computed from one
  /// global load through single-use casts and elementwise instructions (the
  /// other operands constants or scalars), makes the load in the A fragment
  /// layout, which those instructions then keep: a needs no conversion.
  void seedRegisterOperandsA() {
    func.walk([&](DotOp dot) {
      std::optional<RegisterLayout> cLayout;
      if (LayoutAttr attr = tileOf(dot.getC()).getLayout())
        cLayout = attr.getLayout();
      std::optional<WgmmaPlan> plan = wgmmaPlan(dot, cLayout);
      if (!plan || !plan->aFromRegisters)
        return;
      Value value = dot.getA();
      while (!tileOf(value).getLayout() && value.hasOneUse()) {
        Operation *def = value.getDefiningOp();
        if (!def)
          return;
        if (isa<LoadGlobalOp>(def)) {
          if (unpinnedGlobalLoads.erase(value))
            assign(value, plan->aLayout);
          return;
        }
        if (!isa<AddOp, SubOp, MulOp, DivOp, MinOp, MaxOp, UnaryOp, CastOp>(
                def))
          return;
        Value next;
        for (Value operand : def->getOperands()) {
          if (!tileOf(operand) || weakValues.contains(operand))
            continue;
          if (next)
            return;
          next = operand;
        }
        if (!next || tileOf(next).getShape() != tileOf(value).getShape())
          return;
        value = next;
      }
    });
  }

  /// Like convertOperand, but an operand loaded from shared memory for this
  /// dot alone is loaded in `layout` directly (so it can use ldmatrix).
  void assignOrConvertOperand(DotOp dot, unsigned index,
                              const RegisterLayout &layout, const Twine &why) {
    Value operand = dot->getOperand(index);
    auto load = operand.getDefiningOp<LoadSharedOp>();
    if (load && operand.hasOneUse() && unpinnedLoads.contains(operand)) {
      assign(operand, layout);
      return;
    }
    convertOperand(dot, index, layout, why);
  }

  LogicalResult visitDot(DotOp dot) {
    TileType c = tileOf(dot.getC());
    RegisterLayout cLayout = c.getLayout().getLayout();
    int64_t k = tileOf(dot.getA()).getShape()[1];
    // wgmma reads b (and a, unless a is a register tile) from shared
    // memory: c's layout decides, and a from registers follows it.
    std::optional<WgmmaPlan> wgmma = wgmmaPlan(dot, cLayout);
    if (!wgmma && !tileOf(dot.getResult()).getLayout())
      wgmma = wgmmaPlan(dot, std::nullopt);
    if (wgmma) {
      dot->setAttr(kWgmmaAttr, builder.getUnitAttr());
      if (wgmma->aFromRegisters)
        convertOperand(dot, 0, wgmma->aLayout,
                       "a wgmma dot with a in registers needs a in the "
                       "wgmma A fragments of its accumulator tiling");
      convertOperand(dot, 2, wgmma->layout,
                     "a wgmma dot accumulates in the wgmma accumulator "
                     "layout");
      if (!tileOf(dot.getResult()).getLayout())
        assign(dot.getResult(), wgmma->layout);
      return success();
    }
    if (std::optional<MmaInstruction> instruction = mmaInstruction(dot)) {
      const RegisterLayout &cAtom = instruction->c->layout;
      std::optional<RegisterLayout> mma;
      if (auto q = cLayout.divide(cAtom);
          q && q->numThreads() * kWarpSize == numThreads)
        mma = cLayout;
      else if (!tileOf(dot.getResult()).getLayout())
        mma = mmaAccumulatorLayout(dot);
      if (mma) {
        RegisterLayout quotient = *mma->divide(cAtom);
        auto rows = quotient.reduce({1}, /*keepDims=*/true);
        auto cols = quotient.reduce({0}, /*keepDims=*/true);
        if (rows && cols) {
          int64_t kTiles = k / instruction->k;
          assignOrConvertOperand(dot, 0,
                                 *rows * layout::local({1, kTiles}) *
                                     instruction->a->layout,
                                 "an mma.sync dot needs a in the A fragments "
                                 "of its accumulator tiling");
          assignOrConvertOperand(dot, 1,
                                 layout::local({kTiles, 1}) * *cols *
                                     instruction->b->layout,
                                 "an mma.sync dot needs b in the B fragments "
                                 "of its accumulator tiling");
          convertOperand(dot, 2, *mma,
                         "an mma.sync dot accumulates in the mma "
                         "accumulator layout");
          if (!tileOf(dot.getResult()).getLayout())
            assign(dot.getResult(), *mma);
          return success();
        }
      }
    }
    auto rows = cLayout.reduce({1}, /*keepDims=*/true);
    auto cols = cLayout.reduce({0}, /*keepDims=*/true);
    if (!rows || !cols)
      return fail(dot, "cannot derive operand layouts from accumulator "
                       "layout " +
                           cLayout.str());
    RegisterLayout aLayout = *rows * layout::local({1, k});
    RegisterLayout bLayout = layout::local({k, 1}) * *cols;
    convertOperand(dot, 0, aLayout,
                   "a SIMT dot needs in each thread the rows of a that its "
                   "accumulators use");
    convertOperand(dot, 1, bLayout,
                   "a SIMT dot needs in each thread the columns of b that "
                   "its accumulators use");
    if (!tileOf(dot.getResult()).getLayout())
      assign(dot.getResult(), cLayout);
    return success();
  }

  /// Converts the tile operands of `yield` to the layouts of `targets`.
  void matchYield(Operation *yield, TypeRange targets, const Twine &why) {
    for (auto [i, target] : llvm::enumerate(targets))
      if (auto tile = dyn_cast<TileType>(target))
        convertOperand(yield, i, tile.getLayout().getLayout(), why);
  }

  /// The layout each loop yields its carried tiles in, before they are
  /// converted back to the carried layout; filled when learning.
  void recordYield(Operation *loop, Operation *yield) {
    if (!learning)
      return;
    SmallVector<LayoutAttr> &layouts = yieldedLayouts[loop];
    for (Value value : yield->getOperands())
      layouts.push_back(tileOf(value) ? tileOf(value).getLayout()
                                      : LayoutAttr());
  }

  /// Gives each constant (zeros, full) that a loop carries, whose layout
  /// the source leaves to inference, the layout the loop body yields the
  /// tile in, so that neither the body nor the yield converts it on every
  /// iteration. The layouts are learnt by inferring a copy of the kernel
  /// first; the innermost loop that carries a constant decides its layout.
  void seedCarriedConstants() {
    auto constantOf = [&](Value init) -> FullOp {
      while (auto arg = dyn_cast<BlockArgument>(init)) {
        Operation *loop = arg.getOwner()->getParentOp();
        if (auto forOp = dyn_cast<scf::ForOp>(loop);
            forOp && arg.getArgNumber() > 0)
          init = forOp.getInitArgs()[arg.getArgNumber() - 1];
        else if (auto whileOp = dyn_cast<scf::WhileOp>(loop);
                 whileOp && arg.getOwner() == whileOp.getBeforeBody())
          init = whileOp.getInits()[arg.getArgNumber()];
        else if (whileOp && arg.getOwner() == whileOp.getAfterBody())
          init = whileOp.getConditionOp().getArgs()[arg.getArgNumber()];
        else
          return nullptr;
      }
      auto full = init.getDefiningOp<FullOp>();
      return full && weakValues.contains(full.getResult()) ? full : nullptr;
    };
    auto initsOf = [](Operation *loop) -> OperandRange {
      if (auto forOp = dyn_cast<scf::ForOp>(loop))
        return forOp.getInitArgs();
      return cast<scf::WhileOp>(loop).getInits();
    };
    // Every loop, inner ones first, here and in the copy before inference
    // changes it: the two lists match one to one.
    auto loopsOf = [](func::FuncOp f) {
      SmallVector<Operation *> loops;
      f.walk([&](Operation *op) {
        if (isa<scf::ForOp, scf::WhileOp>(op))
          loops.push_back(op);
      });
      return loops;
    };
    SmallVector<Operation *> loops = loopsOf(func);
    if (llvm::none_of(loops, [&](Operation *loop) {
          return llvm::any_of(initsOf(loop),
                              [&](Value v) { return bool(constantOf(v)); });
        }))
      return;
    func::FuncOp copy = func.clone();
    SmallVector<Operation *> copyLoops = loopsOf(copy);
    LayoutInference learner(copy, numThreads, target, /*remarks=*/false,
                            /*learning=*/true);
    {
      // The real run reports whatever fails.
      ScopedDiagnosticHandler silence(func.getContext(),
                                      [](Diagnostic &) { return success(); });
      if (failed(learner.run()) || copyLoops.size() != loops.size()) {
        copy.erase();
        return;
      }
    }
    // The loop that decided each constant's layout.
    llvm::DenseMap<Operation *, Operation *> seededBy;
    for (auto [loop, copyLoop] : llvm::zip(loops, copyLoops)) {
      auto it = learner.yieldedLayouts.find(copyLoop);
      if (it == learner.yieldedLayouts.end())
        continue;
      learntYields[loop] = it->second;
      OperandRange inits = initsOf(loop);
      for (auto [i, init, layout] : llvm::enumerate(inits, it->second)) {
        FullOp full = constantOf(init);
        if (!full || !layout)
          continue;
        auto [decider, first] = seededBy.try_emplace(full, loop);
        if (first) {
          if (tileOf(full.getResult()).getLayout() != layout)
            assign(full.getResult(), layout.getLayout());
          continue;
        }
        // A constant that an earlier loop, not one inside this one,
        // decided starts this loop too: this loop gets its own, in the
        // layout it yields.
        if (init != full.getResult() || loop->isAncestor(decider->second) ||
            tileOf(init).getLayout() == layout)
          continue;
        builder.setInsertionPointAfter(full);
        auto own = builder.create<FullOp>(
            full.getLoc(), withLayout(tileOf(init), layout.getLayout()),
            full.getValue());
        weakValues.insert(own);
        loop->setOperand(inits.getBeginOperandIndex() + i, own);
      }
    }
    copy.erase();
  }

  /// Whether `loop` carries a weak value as its tile `index`, started by
  /// `init`: a constant (or a value carried from one) in the layout the
  /// loop yields it in (seedCarriedConstants), or any such value while
  /// learning. Otherwise the carried tile leads as any other, so a constant
  /// whose layout this loop did not decide costs what it did before.
  bool carriesWeak(Operation *loop, unsigned index, Value init) {
    if (!weakValues.contains(init))
      return false;
    if (learning)
      return true;
    auto it = learntYields.find(loop);
    return it != learntYields.end() &&
           it->second[index] == tileOf(init).getLayout();
  }

  LogicalResult visitFor(scf::ForOp forOp) {
    for (auto [init, arg, result] :
         llvm::zip(forOp.getInitArgs(), forOp.getRegionIterArgs(),
                   forOp.getResults()))
      if (TileType tile = tileOf(init)) {
        arg.setType(tile);
        result.setType(tile);
        if (carriesWeak(forOp, arg.getArgNumber() - 1, init))
          weakValues.insert(arg);
      }
    if (failed(visitRegion(forOp.getRegion())))
      return failure();
    recordYield(forOp, forOp.getBody()->getTerminator());
    matchYield(forOp.getBody()->getTerminator(), forOp.getResultTypes(),
               kCarriedWhy);
    return success();
  }

  LogicalResult visitIf(scf::IfOp ifOp) {
    if (failed(visitRegion(ifOp.getThenRegion())) ||
        failed(visitRegion(ifOp.getElseRegion())))
      return failure();
    if (ifOp.getNumResults() == 0)
      return success();
    Operation *thenYield = ifOp.thenYield();
    for (auto [result, value] :
         llvm::zip(ifOp.getResults(), thenYield->getOperands()))
      if (tileOf(value))
        result.setType(value.getType());
    matchYield(ifOp.elseYield(), ifOp.getResultTypes(),
               "the results of an if take the layouts of the values the "
               "then branch yields");
    return success();
  }

  LogicalResult visitWhile(scf::WhileOp whileOp) {
    // Loop-carried tiles keep their initial layout in both regions.
    for (auto [init, before, after, result] :
         llvm::zip(whileOp.getInits(), whileOp.getBeforeArguments(),
                   whileOp.getAfterArguments(), whileOp.getResults()))
      if (TileType tile = tileOf(init)) {
        before.setType(tile);
        after.setType(tile);
        result.setType(tile);
        if (carriesWeak(whileOp, before.getArgNumber(), init)) {
          weakValues.insert(before);
          weakValues.insert(after);
        }
      }
    if (failed(visitRegion(whileOp.getBefore())) ||
        failed(visitRegion(whileOp.getAfter())))
      return failure();
    Operation *condition = whileOp.getConditionOp();
    for (auto [i, target] : llvm::enumerate(whileOp.getResultTypes()))
      if (auto tile = dyn_cast<TileType>(target))
        convertOperand(condition, i + 1, tile.getLayout().getLayout(),
                       kCarriedWhy);
    recordYield(whileOp, whileOp.getYieldOp());
    matchYield(whileOp.getYieldOp(), whileOp.getResultTypes(), kCarriedWhy);
    return success();
  }

  static constexpr const char *kCarriedWhy =
      "a loop carries a tile in the layout of its initial value";

  func::FuncOp func;
  /// The threads of the instruction being visited (its thread group's or
  /// the kernel's): the default layouts spread over them.
  int64_t numThreads;
  TargetInfo target;
  /// Whether to report the conversions (-Rpass=layout).
  bool remarks;
  /// Whether this run infers a copy of the kernel only to learn the layouts
  /// loops yield (seedCarriedConstants).
  bool learning;
  /// When learning, per loop, the layout of each value its body yields
  /// (none for scalars).
  llvm::DenseMap<Operation *, SmallVector<LayoutAttr>> yieldedLayouts;
  OpBuilder builder;
  /// The conversions inserted, with reasons, when reporting them.
  llvm::DenseMap<Operation *, Conversion> conversions;
  /// Shared loads whose layout the source leaves to inference.
  llvm::DenseSet<Value> unpinnedLoads;
  /// Global loads likewise: one that only feeds a broadcast is loaded in the
  /// layout the broadcast needs.
  llvm::DenseSet<Value> unpinnedGlobalLoads;
  /// Reshape results without a written layout: one that only raises such a
  /// load's rank for a broadcast takes the layout the broadcast needs.
  llvm::DenseSet<Value> unpinnedReshapes;
  /// Stored tiles whose layout the source leaves to inference.
  llvm::DenseSet<Value> unpinnedStoredTiles;
  /// Tiles whose layout says nothing about their use: constants whose
  /// layout the source leaves to inference (the default layout of their
  /// shape) and values carried by loops from them. An elementwise
  /// instruction takes another operand's layout before theirs.
  llvm::DenseSet<Value> weakValues;
  /// Constants made again in another layout, erased at the end if no use
  /// is left.
  llvm::SetVector<FullOp> replacedConstants;
  /// Per loop, the layout the learning run saw it yield each value in.
  llvm::DenseMap<Operation *, SmallVector<LayoutAttr>> learntYields;
  /// The constant made again for each (constant, layout).
  llvm::DenseMap<std::pair<Operation *, Attribute>, Value> constantCopies;
};

struct InferLayoutsPass : tilus::impl::InferLayoutsBase<InferLayoutsPass> {
  using InferLayoutsBase::InferLayoutsBase;

  void runOnOperation() override {
    std::optional<TargetInfo> targetInfo = TargetInfo::lookup(arch);
    if (!targetInfo) {
      getOperation().emitError("unknown architecture '") << arch << "'";
      return signalPassFailure();
    }
    getOperation().walk([&](func::FuncOp func) {
      auto warps = func->getAttrOfType<IntegerAttr>(kernel_attr::kNumWarps);
      if (!warps)
        return;
      LayoutInference inference(func, warps.getInt() * kWarpSize,
                                *targetInfo, remarks);
      if (failed(inference.run()))
        signalPassFailure();
    });
  }
};

} // namespace
