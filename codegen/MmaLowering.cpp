//===- MmaLowering.cpp - dot on tensor cores through mma.sync -------------===//
//
// Instruction selection by layout division. A dot whose operands are
// f16 (or bf16) and whose accumulator is f32 lowers to
// `mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}.{f16,bf16}.f32` when each
// operand layout divides by its fragment atom (ir/layout/Atoms.h):
//
//   a = qa * mma.m16n8k16.f16.a      (16x16 tiles)
//   b = qb * mma.m16n8k16.f16.b      (16x8 tiles)
//   c = qc * mma.m16n8k16.f32.c      (16x8 tiles)
//
// The quotients are layouts over warps and tiles: warp w holds tile
// qc(w, i) of c at registers [4i, 4i + 4). For each such tile (m, n) and each
// k-tile, the warp must hold tile (m, k) of a and (k, n) of b, at quotient
// locals that are the same in every warp; then one mma per (i, k) takes the
// registers in fragment order (the atom's local index is the fragment
// position), k ascending. Any other dot is left to the SIMT pattern.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayoutCodegen.h"
#include "codegen/TileLowering.h"

#include "ir/layout/Atoms.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/Debug.h"

#include <algorithm>

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
  int64_t kTiles = 0;
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
  DType in = *getDType(aTile.getElementType());
  if ((in != DType::f16() && in != DType::bf16()) ||
      aTile.getElementType() != bTile.getElementType() ||
      *getDType(cTile.getElementType()) != DType::f32()) {
    reason = "needs f16 or bf16 a and b and an f32 accumulator";
    return failure();
  }
  std::string prefix = in == DType::f16() ? "mma.m16n8k16.f16"
                                          : "mma.m16n8k16.bf16";
  const LayoutAtom *aAtom = findLayoutAtom(prefix + ".a");
  const LayoutAtom *bAtom = findLayoutAtom(prefix + ".b");
  const LayoutAtom *cAtom = findLayoutAtom("mma.m16n8k16.f32.c");
  if (!aAtom || !bAtom || !cAtom) {
    reason = "the mma atoms are missing from the catalog";
    return failure();
  }
  auto qa = getLayout(aTile).divide(aAtom->layout);
  auto qb = getLayout(bTile).divide(bAtom->layout);
  auto qc = getLayout(cTile).divide(cAtom->layout);
  if (!qa || !qb || !qc) {
    reason = "a layout does not divide by its mma atom: " +
             (!qa ? qa.error().message
                  : !qb ? qb.error().message : qc.error().message);
    return failure();
  }
  int64_t warps = qc->numThreads();
  if (qa->numThreads() != warps || qb->numThreads() != warps) {
    reason = "the quotients span different warp counts";
    return failure();
  }
  MmaPlan plan;
  plan.kTiles = qa->shape()[1];
  plan.operands.assign(qc->numLocals(),
                       SmallVector<std::pair<int64_t, int64_t>>(
                           plan.kTiles, std::make_pair(-1, -1)));
  for (int64_t warp = 0; warp < warps; ++warp)
    for (int64_t i = 0; i < qc->numLocals(); ++i) {
      std::vector<int64_t> mn = qc->map(warp, i);
      for (int64_t k = 0; k < plan.kTiles; ++k) {
        int64_t mk[2] = {mn[0], k}, kn[2] = {k, mn[1]};
        int64_t la = holdsAt(*qa, warp, mk), lb = holdsAt(*qb, warp, kn);
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

struct MmaDotLowering : OpConversionPattern<DotOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DotOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    std::string reason;
    FailureOr<MmaPlan> plan = planMma(op, reason);
    if (failed(plan)) {
      LLVM_DEBUG(llvm::dbgs() << "dot at " << op.getLoc()
                              << " stays SIMT: " << reason << "\n");
      return rewriter.notifyMatchFailure(op, reason);
    }
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    bool isF16 = *getDType(op.getA().getType().getElementType()) == DType::f16();
    Type f32 = rewriter.getF32Type(), i32 = rewriter.getI32Type();
    // The f16 intrinsic takes <2 x half> registers, the bf16 one i32.
    auto pack = [&](Value vector, int64_t first) -> Value {
      Value pair = rewriter.create<vector::ShuffleOp>(
          loc, vector, vector, ArrayRef<int64_t>{first, first + 1});
      if (isF16)
        return pair;
      Value word = rewriter.create<vector::BitCastOp>(
          loc, VectorType::get({1}, i32), pair);
      return rewriter.create<vector::ExtractOp>(loc, word, 0);
    };
    StringRef name = isF16 ? "llvm.nvvm.mma.m16n8k16.row.col.f32.f32"
                           : "llvm.nvvm.mma.m16n8k16.row.col.bf16";
    auto resultType = LLVM::LLVMStructType::getLiteral(
        context, SmallVector<Type>(4, f32));

    Value result = adaptor.getC();
    for (auto [i, tiles] : llvm::enumerate(plan->operands)) {
      SmallVector<Value> acc;
      for (int64_t j = 0; j < 4; ++j)
        acc.push_back(rewriter.create<vector::ExtractOp>(loc, adaptor.getC(),
                                                         int64_t(i * 4 + j)));
      for (auto [la, lb] : tiles) {
        SmallVector<Value> args;
        for (int64_t r = 0; r < 4; ++r)
          args.push_back(pack(adaptor.getA(), la * 8 + 2 * r));
        for (int64_t r = 0; r < 2; ++r)
          args.push_back(pack(adaptor.getB(), lb * 4 + 2 * r));
        args.append(acc);
        auto mma = rewriter.create<LLVM::CallIntrinsicOp>(
            loc, TypeRange{resultType}, rewriter.getStringAttr(name), args);
        for (int64_t j = 0; j < 4; ++j)
          acc[j] = rewriter.create<LLVM::ExtractValueOp>(loc, mma.getResult(0),
                                                         j);
      }
      for (int64_t j = 0; j < 4; ++j)
        result = rewriter.create<vector::InsertOp>(loc, acc[j], result,
                                                   int64_t(i * 4 + j));
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void tilus::populateMmaLoweringPatterns(const TypeConverter &converter,
                                        RewritePatternSet &patterns) {
  // Ahead of the SIMT dot, which takes what this pattern declines.
  patterns.add<MmaDotLowering>(converter, patterns.getContext(),
                               /*benefit=*/2);
}
