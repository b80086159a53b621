//===- MmaLowering.cpp - dot on tensor cores through mma.sync -------------===//
//
// Instruction selection by layout division. A dot whose element types have
// an mma.sync instruction (f16 or bf16 into f32, f16 into f16, i8 or u8 into
// i32; the table in target/MmaInstructions.cpp) and whose M, N, K are
// multiples of its tile lowers to that instruction when each operand layout
// divides by its fragment atom
// (ir/layout/Atoms.h), e.g. for f16 into f32:
//
//   a = qa * mma.m16n8k16.f16.a      (16x16 tiles)
//   b = qb * mma.m16n8k16.f16.b      (16x8 tiles)
//   c = qc * mma.m16n8k16.f32.c      (16x8 tiles)
//
// The quotients are layouts over warps and tiles: warp w holds tile
// qc(w, i) of c at the atom's registers of quotient local i. For each such
// tile (m, n) and each k-tile, the warp must hold tile (m, k) of a and (k, n)
// of b, at quotient locals that are the same in every warp; then one mma per
// (i, k) takes the registers in fragment order (the atom's local index is the
// fragment position), k ascending. The intrinsic's 32-bit registers pack
// consecutive locals: two 16-bit or four 8-bit elements each. Any other dot
// is left to the SIMT pattern.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayoutCodegen.h"
#include "codegen/TileLowering.h"
#include "target/MmaInstructions.h"
#include "target/WgmmaInstructions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/Debug.h"

#include <algorithm>
#include <set>

#define DEBUG_TYPE "tilus-mma-lowering"

using namespace mlir;
using namespace tilus;

namespace {

/// The local index at which `thread` holds `index` under `layout`, or -1.
int64_t holdsAt(const RegisterLayout &layout, int64_t thread,
                const int64_t *index) {
  int64_t first = layout.firstThreadOf(index);
  const std::vector<int64_t> &replicas = layout.replicaOffsets();
  if (!std::binary_search(replicas.begin(), replicas.end(), thread - first))
    return -1;
  return layout.localIndexOf(index);
}

/// For each accumulator tile (quotient local of c) and k-tile: the quotient
/// locals of the a and b tiles, or a reason why the dot is no mma.
struct MmaPlan {
  MmaInstruction instruction;
  /// c's quotient: warps over accumulator tiles.
  RegisterLayout qc;
  /// operands[i][k] = {local of a's tile, local of b's tile}.
  SmallVector<SmallVector<std::pair<int64_t, int64_t>>> operands;
};

FailureOr<MmaPlan> planMma(DotOp op, std::string &reason) {
  TileType aTile = op.getA().getType(), bTile = op.getB().getType(),
           cTile = op.getC().getType();
  if (!aTile.getLayout() || !bTile.getLayout() || !cTile.getLayout()) {
    reason = "operands have no layouts";
    return failure();
  }
  FailureOr<MmaInstruction> instruction = selectMmaInstruction(op, reason);
  if (failed(instruction))
    return failure();
  struct Operand {
    const char *name;
    TileType tile;
    const LayoutAtom *atom;
  };
  // The accumulator first: its tiling decides the operands'.
  SmallVector<RegisterLayout, 3> quotients;
  for (Operand operand : {Operand{"c", cTile, instruction->c},
                          Operand{"a", aTile, instruction->a},
                          Operand{"b", bTile, instruction->b}}) {
    RegisterLayout layout = getLayout(operand.tile);
    auto q = layout.divide(operand.atom->layout);
    if (!q) {
      reason = std::string(operand.name) + "'s layout " + layout.str() +
               " does not divide by " + operand.atom->name + ": " +
               q.error().message;
      return failure();
    }
    quotients.push_back(*q);
  }
  const RegisterLayout &qa = quotients[1], &qb = quotients[2];
  MmaPlan plan{*instruction, quotients[0], {}};
  int64_t warps = plan.qc.numThreads();
  if (qa.numThreads() != warps || qb.numThreads() != warps) {
    reason = "the quotients span different warp counts";
    return failure();
  }
  int64_t kTiles = qa.shape()[1];
  plan.operands.assign(
      plan.qc.numLocals(),
      SmallVector<std::pair<int64_t, int64_t>>(kTiles, std::make_pair(-1, -1)));
  for (int64_t warp = 0; warp < warps; ++warp)
    for (int64_t i = 0; i < plan.qc.numLocals(); ++i) {
      std::vector<int64_t> mn = plan.qc.map(warp, i);
      for (int64_t k = 0; k < kTiles; ++k) {
        int64_t mk[2] = {mn[0], k}, kn[2] = {k, mn[1]};
        int64_t la = holdsAt(qa, warp, mk), lb = holdsAt(qb, warp, kn);
        auto &slot = plan.operands[i][k];
        if (la < 0 || lb < 0 || (warp > 0 && slot != std::make_pair(la, lb))) {
          reason = "warp " + std::to_string(warp) +
                   " does not hold the a and b tiles of its accumulator tile "
                   "at the same locals as warp 0";
          return failure();
        }
        slot = {la, lb};
      }
    }
  return plan;
}

/// How the elements of one operand travel in the intrinsic's registers:
/// `perRegister` consecutive locals in one `type` (f32 or i32 alone, two f16
/// as <2 x half>, any other pair or quadruple of 16- or 8-bit elements as
/// i32).
struct Fragment {
  int64_t perRegister;
  Type type;
};

Fragment fragmentOf(Value lowered) {
  Type element = cast<VectorType>(lowered.getType()).getElementType();
  unsigned bits = element.getIntOrFloatBitWidth();
  if (bits == 32)
    return {1, element};
  if (element.isF16())
    return {2, VectorType::get({2}, element)};
  return {32 / bits, IntegerType::get(element.getContext(), 32)};
}

/// The ldmatrix form ("ldmatrix.x4.trans") whose results a lowered load
/// assembled into `value` (codegen/SharedMemoryLowering.cpp inserts each
/// half of each result register), if any.
std::optional<std::string> ldmatrixSource(Value value) {
  auto insert = value.getDefiningOp<vector::InsertOp>();
  auto extract = insert ? insert.getSource().getDefiningOp<vector::ExtractOp>()
                        : vector::ExtractOp();
  auto bitcast = extract ? extract.getVector().getDefiningOp<LLVM::BitcastOp>()
                         : LLVM::BitcastOp();
  auto field = bitcast ? bitcast.getArg().getDefiningOp<LLVM::ExtractValueOp>()
                       : LLVM::ExtractValueOp();
  auto call = field
                  ? field.getContainer().getDefiningOp<LLVM::CallIntrinsicOp>()
                  : LLVM::CallIntrinsicOp();
  if (!call || !call.getIntrin().starts_with("llvm.nvvm.ldmatrix"))
    return std::nullopt;
  StringRef intrinsic = call.getIntrin();
  std::string form = "ldmatrix";
  for (StringRef count : {".x1", ".x2", ".x4"})
    if (intrinsic.contains(count))
      form += count;
  if (intrinsic.contains(".trans"))
    form += ".trans";
  return form;
}

/// How operand `original` (lowered to `lowered`) reaches its registers.
std::string operandSource(Value original, Value lowered) {
  if (std::optional<std::string> form = ldmatrixSource(lowered))
    return "by " + *form;
  Operation *def = original.getDefiningOp();
  if (isa_and_nonnull<LoadSharedOp>(def))
    return "by ld.shared";
  if (isa_and_nonnull<LoadGlobalOp>(def))
    return "by ld.global";
  if (isa_and_nonnull<ConvertLayoutOp>(def))
    return "by convert_layout";
  return "in registers";
}

/// "dot: mma.m16n8k16 f16 x f16 -> f32, warps 2x2, 2x4 atoms per warp, a by
/// ldmatrix.x4, b by ldmatrix.x4.trans".
std::string describePlan(const MmaPlan &plan, DotOp op,
                         DotOp::Adaptor adaptor) {
  ArrayRef<int64_t> shape = op.getC().getType().getShape();
  std::set<int64_t> rows, cols;
  for (int64_t i = 0; i < plan.qc.numLocals(); ++i) {
    std::vector<int64_t> mn = plan.qc.map(0, i);
    rows.insert(mn[0]);
    cols.insert(mn[1]);
  }
  int64_t rm = rows.size(), rn = cols.size();
  int64_t wm = shape[0] / plan.instruction.m / rm;
  int64_t wn = shape[1] / plan.instruction.n / rn;
  std::string text = "dot: " + plan.instruction.describe() + ", warps " +
                     std::to_string(wm) + "x" + std::to_string(wn);
  if (wm * wn != plan.qc.numThreads())
    text += " (each tile on " +
            std::to_string(plan.qc.numThreads() / (wm * wn)) + " warps)";
  text += ", " + std::to_string(rm) + "x" + std::to_string(rn) +
          " atoms per warp, a " + operandSource(op.getA(), adaptor.getA()) +
          ", b " + operandSource(op.getB(), adaptor.getB());
  return text;
}

struct MmaDotLowering : OpConversionPattern<DotOp> {
  MmaDotLowering(const TypeConverter &converter, MLIRContext *context,
                 const TargetInfo &target, bool remarks)
      : OpConversionPattern(converter, context, /*benefit=*/2),
        target(target), remarks(remarks) {}

  /// On a target with wgmma, why `op` is no wgmma: the rule that ruled
  /// out the layout inference would choose, else the one that rules out
  /// the accumulator layout it has.
  std::string noWgmma(DotOp op) const {
    if (!target.hasWgmma())
      return "";
    std::string reason;
    int64_t warps = getKernelNumThreads(op) / kWarpSize;
    if (succeeded(planWgmma(op, target, warps, std::nullopt, reason)))
      (void)planWgmma(op, target, warps, getLayout(op.getC().getType()),
                      reason);
    return " (no wgmma: " + reason + ")";
  }

  LogicalResult
  matchAndRewrite(DotOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // Its operand loads are gone: only the wgmma pattern may lower it.
    if (op->hasAttr(kWgmmaAttr))
      return rewriter.notifyMatchFailure(op, "marked for wgmma");
    std::string reason;
    FailureOr<MmaPlan> plan = planMma(op, reason);
    if (failed(plan)) {
      LLVM_DEBUG(llvm::dbgs() << "dot at " << op.getLoc()
                              << " stays SIMT: " << reason << "\n");
      if (remarks)
        op.emitRemark() << "dot: no mma atom divides the tiles (" << reason
                        << "); generic FMA code" << noWgmma(op);
      return rewriter.notifyMatchFailure(op, reason);
    }
    if (remarks)
      op.emitRemark() << describePlan(*plan, op, adaptor) << noWgmma(op);
    Location loc = op.getLoc();
    const MmaInstruction &instruction = plan->instruction;
    Fragment fa = fragmentOf(adaptor.getA()), fb = fragmentOf(adaptor.getB()),
             fc = fragmentOf(adaptor.getC());
    int64_t aLocals = instruction.a->layout.numLocals(),
            bLocals = instruction.b->layout.numLocals(),
            cLocals = instruction.c->layout.numLocals();
    // Locals [first, first + perRegister) of `vector` as one register.
    auto pack = [&](Value vector, const Fragment &fragment,
                    int64_t first) -> Value {
      if (fragment.perRegister == 1)
        return rewriter.create<vector::ExtractOp>(loc, vector, first);
      SmallVector<int64_t> positions;
      for (int64_t j = 0; j < fragment.perRegister; ++j)
        positions.push_back(first + j);
      Value part =
          rewriter.create<vector::ShuffleOp>(loc, vector, vector, positions);
      if (isa<VectorType>(fragment.type))
        return part;
      Value word = rewriter.create<vector::BitCastOp>(
          loc, VectorType::get({1}, fragment.type), part);
      return rewriter.create<vector::ExtractOp>(loc, word, 0);
    };
    auto resultType = LLVM::LLVMStructType::getLiteral(
        rewriter.getContext(),
        SmallVector<Type>(cLocals / fc.perRegister, fc.type));

    // k-outer order: each accumulator tile's chain of dependent mma is
    // interleaved with the other tiles' chains, so that in program order a
    // warp issues independent mma back to back instead of waiting on each
    // tile's previous one (the order a scheduler would pick; the profiler
    // issues in program order).
    SmallVector<SmallVector<Value>> accs;
    for (size_t i = 0; i < plan->operands.size(); ++i) {
      SmallVector<Value> &acc = accs.emplace_back();
      for (int64_t r = 0; r < cLocals / fc.perRegister; ++r)
        acc.push_back(pack(adaptor.getC(), fc,
                           int64_t(i) * cLocals + r * fc.perRegister));
    }
    size_t kTiles = plan->operands.empty() ? 0 : plan->operands[0].size();
    for (size_t k = 0; k < kTiles; ++k)
      for (auto [i, tiles] : llvm::enumerate(plan->operands)) {
        auto [la, lb] = tiles[k];
        SmallVector<Value> args;
        for (int64_t r = 0; r < aLocals / fa.perRegister; ++r)
          args.push_back(
              pack(adaptor.getA(), fa, la * aLocals + r * fa.perRegister));
        for (int64_t r = 0; r < bLocals / fb.perRegister; ++r)
          args.push_back(
              pack(adaptor.getB(), fb, lb * bLocals + r * fb.perRegister));
        args.append(accs[i]);
        auto mma = rewriter.create<LLVM::CallIntrinsicOp>(
            loc, TypeRange{resultType},
            rewriter.getStringAttr(instruction.intrinsic), args);
        for (auto [r, reg] : llvm::enumerate(accs[i]))
          reg = rewriter.create<LLVM::ExtractValueOp>(loc, mma.getResult(0),
                                                      int64_t(r));
      }
    rewriter.replaceOp(
        op, insertAccumulatorRegisters(
                rewriter, loc, adaptor.getC(), accs, cLocals, fc.perRegister,
                cast<VectorType>(adaptor.getC().getType()).getElementType()));
    return success();
  }

  TargetInfo target;
  bool remarks;
};

} // namespace

Value tilus::insertAccumulatorRegisters(OpBuilder &b, Location loc, Value c,
                                        ArrayRef<SmallVector<Value>> accs,
                                        int64_t tileLocals, int64_t perRegister,
                                        Type elementType) {
  Value result = c;
  for (auto [i, acc] : llvm::enumerate(accs))
    for (auto [r, reg] : llvm::enumerate(acc)) {
      int64_t first = int64_t(i) * tileLocals + int64_t(r) * perRegister;
      if (perRegister == 1) {
        result = b.create<vector::InsertOp>(loc, reg, result, first);
        continue;
      }
      Value run = reg;
      if (!isa<VectorType>(reg.getType()))
        run = b.create<LLVM::BitcastOp>(
            loc, VectorType::get({perRegister}, elementType), reg);
      for (int64_t j = 0; j < perRegister; ++j)
        result = b.create<vector::InsertOp>(
            loc, b.create<vector::ExtractOp>(loc, run, j), result, first + j);
    }
  return result;
}

void tilus::populateMmaLoweringPatterns(const TypeConverter &converter,
                                        RewritePatternSet &patterns,
                                        const TargetInfo &target,
                                        bool remarks) {
  // Ahead of the SIMT dot (benefit 2), which takes what this pattern declines.
  patterns.add<MmaDotLowering>(converter, patterns.getContext(), target,
                               remarks);
}
