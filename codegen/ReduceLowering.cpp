//===- ReduceLowering.cpp - Reductions and the SIMT dot -------------------===//
//
// A reduction over dimension `dim` combines, in this order:
//   1. the elements a thread holds itself (the local modes of `dim`);
//   2. across the lanes of a warp whose thread-index digits are the spatial
//      modes of `dim` inside the warp, with `shfl.sync.bfly` (power-of-two
//      modes);
//   3. across warps, when a spatial mode of `dim` reaches beyond a warp:
//      each warp writes its partial results to the instruction's scratch
//      area of shared memory (at `tilus.scratch_offset`; slot
//      `warp * resultElements + linearResultIndex`, one element of the tile's
//      type each), and every thread combines the slots of the warps that
//      differ from its own only in the digits of `dim`. Barriers come before
//      the writes, between writes and reads, and after the reads.
// argmax and argmin carry (value, index) pairs through the same steps: a
// thread's elements get their index along `dim` from the layout, shuffles
// move both halves, and the scratch area holds the indices after the values
// (target/Scratch.h). A pair replaces another when its value is beyond (or
// equal with a smaller index), NaN being beyond every number; that order
// is total, so the combination order does not change the result.
// Values are combined in a wide type: f32 for every float type, i32/u32 for
// integers narrower than 32 bits (sums wrap to the type at the end), the
// type itself for 32- and 64-bit integers. Partial results that cross warps
// are stored in the tile's own type, so a float sum of f16 is rounded to f16
// once per warp.
//
// The result layout must be the source layout reduced (RegisterLayout::reduce:
// the spatial modes of `dim` become replication).
//
// The SIMT dot computes, for each accumulator element (i, j) a thread holds,
// c[i, j] + sum over k of a[i, k] * b[k, j] in the accumulator's type (the
// wide type above for accumulators of fewer bits than f16 or i32), k
// ascending; the thread must hold row i of `a` and column j of `b` at local
// indices that are the same in every thread.
//
//===----------------------------------------------------------------------===//

#include "codegen/CastCodegen.h"
#include "codegen/LayoutCodegen.h"
#include "codegen/SharedAccess.h"
#include "codegen/TileLowering.h"
#include "target/Scratch.h"
#include "target/WgmmaInstructions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace mlir;
using namespace tilus;

namespace {

/// The type values are combined in (see the file comment).
DType getAccumulateType(DType dtype) {
  if (dtype.isFloat())
    return DType::f32();
  if (dtype.bitWidth() < 32)
    return dtype.isSigned() ? DType::signedInt(32) : DType::unsignedInt(32);
  return dtype;
}

Value combine(OpBuilder &builder, Location loc, ReduceKind kind, DType type,
              Value x, Value y) {
  bool isFloat = type.isFloat(), isSigned = type.isSigned();
  switch (kind) {
  case ReduceKind::sum:
    if (isFloat)
      return builder.create<arith::AddFOp>(loc, x, y);
    return builder.create<arith::AddIOp>(loc, x, y);
  case ReduceKind::max:
    if (isFloat)
      return builder.create<arith::MaximumFOp>(loc, x, y);
    if (isSigned)
      return builder.create<arith::MaxSIOp>(loc, x, y);
    return builder.create<arith::MaxUIOp>(loc, x, y);
  case ReduceKind::min:
    if (isFloat)
      return builder.create<arith::MinimumFOp>(loc, x, y);
    if (isSigned)
      return builder.create<arith::MinSIOp>(loc, x, y);
    return builder.create<arith::MinUIOp>(loc, x, y);
  case ReduceKind::argmax:
  case ReduceKind::argmin:
    break; // Pairs: combinePartial.
  }
  return {};
}

/// A partial result: a value, and for argmax/argmin its index (i32).
struct Partial {
  Value value, index;
};

/// Whether (y, j) replaces (x, i) as the partial result of an argmax or
/// argmin (see the file comment).
Value replaces(OpBuilder &builder, Location loc, ReduceKind kind, DType type,
               Value x, Value i, Value y, Value j) {
  bool max = kind == ReduceKind::argmax;
  Value earlier =
      builder.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, j, i);
  Value beyond, equal;
  if (type.isFloat()) {
    using P = arith::CmpFPredicate;
    beyond = builder.create<arith::CmpFOp>(loc, max ? P::OGT : P::OLT, y, x);
    equal = builder.create<arith::CmpFOp>(loc, P::OEQ, y, x);
    // A NaN y replaces any number, and an earlier NaN.
    Value yNan = builder.create<arith::CmpFOp>(loc, P::UNO, y, y);
    Value xNumber = builder.create<arith::CmpFOp>(loc, P::ORD, x, x);
    beyond = builder.create<arith::OrIOp>(
        loc, beyond,
        builder.create<arith::AndIOp>(
            loc, yNan, builder.create<arith::OrIOp>(loc, xNumber, earlier)));
  } else {
    using P = arith::CmpIPredicate;
    P predicate = type.isSigned() ? (max ? P::sgt : P::slt)
                                  : (max ? P::ugt : P::ult);
    beyond = builder.create<arith::CmpIOp>(loc, predicate, y, x);
    equal = builder.create<arith::CmpIOp>(loc, P::eq, y, x);
  }
  return builder.create<arith::OrIOp>(
      loc, beyond, builder.create<arith::AndIOp>(loc, equal, earlier));
}

Partial combinePartial(OpBuilder &builder, Location loc, ReduceKind kind,
                       DType type, Partial a, Partial b) {
  if (!isArgReduce(kind))
    return {combine(builder, loc, kind, type, a.value, b.value), {}};
  Value take =
      replaces(builder, loc, kind, type, a.value, a.index, b.value, b.index);
  return {builder.create<arith::SelectOp>(loc, take, b.value, a.value),
          builder.create<arith::SelectOp>(loc, take, b.index, a.index)};
}

/// `value` (32 or 64 bits) from the lane `laneMask` away (xor).
Value shuffleXor(OpBuilder &builder, Location loc, Value value,
                 int64_t laneMask) {
  Type i32 = builder.getI32Type();
  auto c32 = [&](int64_t v) -> Value {
    return builder.create<arith::ConstantIntOp>(loc, v, 32);
  };
  auto shuffle = [&](Value word) -> Value {
    return builder.create<NVVM::ShflOp>(loc, i32, c32(-1), word, c32(laneMask),
                                        c32(0x1f), NVVM::ShflKind::bfly,
                                        UnitAttr());
  };
  Type type = value.getType();
  unsigned bits = type.getIntOrFloatBitWidth();
  Type intType = builder.getIntegerType(bits);
  Value word = isa<FloatType>(type)
                   ? builder.create<arith::BitcastOp>(loc, intType, value)
                   : value;
  Value result;
  if (bits == 64) {
    Value low = builder.create<arith::TruncIOp>(loc, i32, word);
    Value high = builder.create<arith::TruncIOp>(
        loc, i32,
        builder.create<arith::ShRUIOp>(
            loc, word, builder.create<arith::ConstantIntOp>(loc, 32, 64)));
    Type i64 = builder.getI64Type();
    Value lowOut = builder.create<arith::ExtUIOp>(loc, i64, shuffle(low));
    Value highOut = builder.create<arith::ShLIOp>(
        loc, builder.create<arith::ExtUIOp>(loc, i64, shuffle(high)),
        builder.create<arith::ConstantIntOp>(loc, 32, 64));
    result = builder.create<arith::OrIOp>(loc, lowOut, highOut);
  } else {
    result = shuffle(word);
  }
  if (isa<FloatType>(type))
    result = builder.create<arith::BitcastOp>(loc, type, result);
  return result;
}

/// A thread-index digit: stride and size.
struct ThreadDigit {
  int64_t stride;
  int64_t size;
};

struct ReduceLowering : OpConversionPattern<ReduceOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ReduceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TileType sourceTile = op.getSource().getType(), resultTile = op.getType();
    if (!sourceTile.getLayout() || !resultTile.getLayout())
      return op.emitOpError("needs tiles with layouts");
    RegisterLayout layout = getLayout(sourceTile);
    RegisterLayout resultLayout = getLayout(resultTile);
    int64_t dim = op.getDim();
    bool keep = op.getKeepdim() || sourceTile.getRank() == 1;
    LayoutResult<RegisterLayout> expected = layout.reduce({dim}, keep);
    if (!expected || *expected != resultLayout)
      return op.emitOpError("result layout ")
             << resultLayout.str()
             << " must be the source layout reduced over dimension " << dim
             << (expected ? " (" + expected->str() + ")" : std::string());

    DType dtype = *getDType(sourceTile.getElementType());
    DType acc = getAccumulateType(dtype);
    ReduceKind kind = op.getKind();
    bool arg = isArgReduce(kind);
    Value source =
        emitComputeCast(rewriter, loc, adaptor.getSource(), dtype, acc);

    // 1. The thread's own elements. Local digits do not depend on the
    // thread, so thread 0's map tells which result local each one feeds.
    SmallVector<Partial> partial(resultLayout.numLocals());
    Value threadId =
        arg ? createThreadId(rewriter, loc) : Value();
    for (int64_t local = 0; local < layout.numLocals(); ++local) {
      std::vector<int64_t> index = layout.map(0, local);
      index[dim] = 0;
      if (!keep)
        index.erase(index.begin() + dim);
      int64_t target = resultLayout.localIndexOf(index.data());
      Partial element{rewriter.create<vector::ExtractOp>(loc, source, local),
                      arg ? emitLayoutCoordinates(rewriter, loc, layout,
                                                  threadId, local)[dim]
                          : Value()};
      partial[target] =
          partial[target].value
              ? combinePartial(rewriter, loc, kind, acc, partial[target],
                               element)
              : element;
    }

    // The thread digits of `dim` inside and across warps, and the replicated
    // digits inside a warp.
    SmallVector<ThreadDigit> laneDigits, warpDigits, replicaLaneDigits;
    int64_t stride = 1;
    const std::vector<int64_t> &spatial = layout.spatialModes();
    for (size_t k = spatial.size(); k-- > 0;) {
      int64_t entry = spatial[k];
      int64_t size = entry < 0 ? -entry : layout.modeShape()[entry];
      bool ofDim = entry >= 0 && layout.modeDims()[entry] == dim;
      if (size > 1 && (ofDim || entry < 0)) {
        int64_t end = stride * size;
        if (stride < kWarpSize) {
          if (!llvm::isPowerOf2_64(stride) || !llvm::isPowerOf2_64(size))
            return op.emitOpError("reduces over a thread digit of size ")
                   << size << " at thread stride " << stride
                   << "; inside a warp only powers of two are supported";
          int64_t inWarp = std::min(end, int64_t(kWarpSize)) / stride;
          (ofDim ? laneDigits : replicaLaneDigits).push_back({stride, inWarp});
          if (ofDim && end > kWarpSize)
            warpDigits.push_back({1, end / kWarpSize});
        } else if (ofDim) {
          if (stride % kWarpSize != 0)
            return op.emitOpError("reduces over a thread digit at stride ")
                   << stride << ", which is not a whole number of warps";
          warpDigits.push_back({stride / kWarpSize, size});
        }
      }
      stride *= size;
    }

    // 2. Across lanes.
    for (ThreadDigit digit : laneDigits)
      for (int64_t mask = digit.stride; mask < digit.stride * digit.size;
           mask *= 2)
        for (Partial &value : partial) {
          Partial other{shuffleXor(rewriter, loc, value.value, mask),
                        arg ? shuffleXor(rewriter, loc, value.index, mask)
                            : Value()};
          value = combinePartial(rewriter, loc, kind, acc, value, other);
        }

    // 3. Across warps.
    if (!warpDigits.empty()) {
      auto offsetAttr =
          op->getAttrOfType<IntegerAttr>(plan_attr::kScratchOffset);
      if (!offsetAttr)
        return op.emitOpError("reduces across warps and needs scratch "
                              "shared memory, but has no '")
               << plan_attr::kScratchOffset << "' (run shared-memory planning)";
      if (failed(emitCrossWarp(rewriter, loc, op, offsetAttr.getInt(),
                               resultLayout, resultTile.getShape(), dtype, acc,
                               kind, laneDigits, replicaLaneDigits, warpDigits,
                               partial)))
        return failure();
    }

    auto resultType =
        cast<VectorType>(getTypeConverter()->convertType(resultTile));
    Value result = rewriter.create<arith::ConstantOp>(
        loc, rewriter.getZeroAttr(resultType));
    for (auto [local, value] : llvm::enumerate(partial))
      result = rewriter.create<vector::InsertOp>(
          loc,
          arg ? value.index
              : emitComputeCast(rewriter, loc, value.value, acc, dtype),
          result, local);
    rewriter.replaceOp(op, result);
    return success();
  }

  static LogicalResult emitCrossWarp(
      OpBuilder &builder, Location loc, ReduceOp op, int64_t offset,
      const RegisterLayout &resultLayout, ArrayRef<int64_t> shape, DType dtype,
      DType acc, ReduceKind kind, ArrayRef<ThreadDigit> laneDigits,
      ArrayRef<ThreadDigit> replicaLaneDigits, ArrayRef<ThreadDigit> warpDigits,
      MutableArrayRef<Partial> partial) {
    bool arg = isArgReduce(kind);
    auto c32 = [&](int64_t v) -> Value {
      return builder.create<arith::ConstantIntOp>(loc, v, 32);
    };
    Type i8 = builder.getI8Type();
    Type registerType = getRegisterElementType(builder.getContext(), dtype);
    int64_t elementBytes = (dtype.bitWidth() + 7) / 8;
    int64_t resultElements = 1;
    for (int64_t extent : shape)
      resultElements *= extent;
    Value threadId =
        createThreadId(builder, loc);
    Value warp = builder.create<arith::DivUIOp>(loc, threadId, c32(kWarpSize));
    Value base = emitDynamicSharedAddress(builder, loc, op, offset);
    auto digitOf = [&](Value index, ThreadDigit digit) -> Value {
      Value q = builder.create<arith::DivUIOp>(loc, index, c32(digit.stride));
      return builder.create<arith::RemUIOp>(loc, q, c32(digit.size));
    };
    int64_t indexOffset = arg ? getReduceIndexScratchOffset(op) : 0;
    // The address of a slot's value, or of its index.
    auto slotAddress = [&](Value warpIndex, Value linear,
                           bool index = false) -> Value {
      Value slot = builder.create<arith::AddIOp>(
          loc,
          builder.create<arith::MulIOp>(loc, warpIndex, c32(resultElements)),
          linear);
      slot = builder.create<arith::MulIOp>(loc, slot,
                                           c32(index ? 4 : elementBytes));
      if (index)
        slot = builder.create<arith::AddIOp>(loc, slot, c32(indexOffset));
      return builder.create<LLVM::GEPOp>(loc, base.getType(), i8, base,
                                         ValueRange{slot});
    };
    SmallVector<Value> linears;
    for (int64_t local = 0; local < resultLayout.numLocals(); ++local) {
      SmallVector<Value> coords =
          emitLayoutCoordinates(builder, loc, resultLayout, threadId, local);
      Value linear;
      for (auto [d, coord] : llvm::enumerate(coords))
        linear =
            linear
                ? builder.create<arith::AddIOp>(
                      loc,
                      builder.create<arith::MulIOp>(loc, linear, c32(shape[d])),
                      coord)
                : coord;
      linears.push_back(linear);
    }

    // One lane per warp and result element writes: the lane whose digits of
    // `dim` and of replication inside the warp are 0.
    Value writer = builder.create<arith::ConstantIntOp>(loc, 1, 1);
    for (ArrayRef<ThreadDigit> digits : {laneDigits, replicaLaneDigits})
      for (ThreadDigit digit : digits)
        writer = builder.create<arith::AndIOp>(
            loc, writer,
            builder.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                          digitOf(threadId, digit), c32(0)));
    createBarrier(builder, loc);
    builder.create<scf::IfOp>(loc, writer, [&](OpBuilder &b, Location l) {
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPoint(b.getInsertionBlock(), b.getInsertionPoint());
      for (auto [local, value] : llvm::enumerate(partial)) {
        Value stored = emitComputeCast(builder, l, value.value, acc, dtype);
        builder.create<LLVM::StoreOp>(l, stored,
                                      slotAddress(warp, linears[local]));
        if (arg)
          builder.create<LLVM::StoreOp>(
              l, value.index, slotAddress(warp, linears[local], true));
      }
      builder.create<scf::YieldOp>(l);
    });
    createBarrier(builder, loc);

    // Every combination of the digits of `dim` across warps.
    SmallVector<Value> warpBase(1, warp);
    for (ThreadDigit digit : warpDigits) {
      Value own = builder.create<arith::MulIOp>(loc, digitOf(warp, digit),
                                                c32(digit.stride));
      Value cleared = builder.create<arith::SubIOp>(loc, warpBase[0], own);
      warpBase[0] = cleared;
    }
    SmallVector<int64_t> offsets(1, 0);
    for (ThreadDigit digit : warpDigits) {
      SmallVector<int64_t> next;
      for (int64_t o : offsets)
        for (int64_t v = 0; v < digit.size; ++v)
          next.push_back(o + v * digit.stride);
      offsets = std::move(next);
    }
    for (auto [local, value] : llvm::enumerate(partial)) {
      Partial total;
      for (int64_t o : offsets) {
        Value source = builder.create<arith::AddIOp>(loc, warpBase[0], c32(o));
        Value loaded = builder.create<LLVM::LoadOp>(
            loc, registerType, slotAddress(source, linears[local]));
        Partial other{emitComputeCast(builder, loc, loaded, dtype, acc),
                      arg ? builder
                                .create<LLVM::LoadOp>(
                                    loc, builder.getI32Type(),
                                    slotAddress(source, linears[local], true))
                                .getResult()
                          : Value()};
        total = total.value
                    ? combinePartial(builder, loc, kind, acc, total, other)
                    : other;
      }
      value = total;
    }
    createBarrier(builder, loc);
    return success();
  }
};

struct DotLowering : OpConversionPattern<DotOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DotOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // Its operand loads are gone: only the wgmma pattern may lower it.
    if (op->hasAttr(kWgmmaAttr))
      return rewriter.notifyMatchFailure(op, "marked for wgmma");
    Location loc = op.getLoc();
    TileType aTile = op.getA().getType(), bTile = op.getB().getType(),
             cTile = op.getC().getType();
    if (!aTile.getLayout() || !bTile.getLayout() || !cTile.getLayout())
      return op.emitOpError("needs tiles with layouts");
    RegisterLayout a = getLayout(aTile), b = getLayout(bTile),
                   c = getLayout(cTile);
    if (a.numThreads() != c.numThreads() || b.numThreads() != c.numThreads())
      return op.emitOpError("operand layouts span different thread counts");
    int64_t depth = aTile.getShape()[1];

    // For each accumulator local and k: the locals of a[i, k] and b[k, j],
    // which must be held by the same thread at the same local everywhere.
    SmallVector<SmallVector<std::pair<int64_t, int64_t>>> operands(
        c.numLocals(),
        SmallVector<std::pair<int64_t, int64_t>>(depth, {-1, -1}));
    auto holdsAt = [](const RegisterLayout &layout, int64_t thread,
                      const int64_t *index) -> int64_t {
      int64_t first = layout.firstThreadOf(index);
      const std::vector<int64_t> &replicas = layout.replicaOffsets();
      if (!std::binary_search(replicas.begin(), replicas.end(), thread - first))
        return -1;
      return layout.localIndexOf(index);
    };
    for (int64_t thread = 0; thread < c.numThreads(); ++thread) {
      for (int64_t local = 0; local < c.numLocals(); ++local) {
        std::vector<int64_t> ij = c.map(thread, local);
        for (int64_t k = 0; k < depth; ++k) {
          int64_t ik[2] = {ij[0], k}, kj[2] = {k, ij[1]};
          int64_t la = holdsAt(a, thread, ik), lb = holdsAt(b, thread, kj);
          auto &slot = operands[local][k];
          if (la < 0 || lb < 0 ||
              (thread > 0 && slot != std::make_pair(la, lb)))
            return op.emitOpError("SIMT dot needs every thread to hold row i "
                                  "of a and column j of b for each element "
                                  "(i, j) of c it holds, at the same local "
                                  "indices in every thread; thread ")
                   << thread << " fails at (" << ij[0] << ", " << ij[1]
                   << ") with k = " << k;
          slot = {la, lb};
        }
      }
    }

    DType inType = *getDType(aTile.getElementType());
    DType accType = *getDType(cTile.getElementType());
    // f16/bf16/f32 and 32/64-bit integers accumulate in their own type.
    bool native =
        accType.isFloat() ? accType.bitWidth() >= 16 : accType.bitWidth() >= 32;
    DType compute = native ? accType : getAccumulateType(accType);
    Value av = emitComputeCast(rewriter, loc, adaptor.getA(), inType, compute);
    Value bv = emitComputeCast(rewriter, loc, adaptor.getB(), inType, compute);
    Value cv = emitComputeCast(rewriter, loc, adaptor.getC(), accType, compute);
    bool isFloat = compute.isFloat();
    SmallVector<Value> aElements, bElements;
    for (int64_t i = 0; i < a.numLocals(); ++i)
      aElements.push_back(rewriter.create<vector::ExtractOp>(loc, av, i));
    for (int64_t i = 0; i < b.numLocals(); ++i)
      bElements.push_back(rewriter.create<vector::ExtractOp>(loc, bv, i));
    Value result = cv;
    for (int64_t local = 0; local < c.numLocals(); ++local) {
      Value sum = rewriter.create<vector::ExtractOp>(loc, cv, local);
      for (int64_t k = 0; k < depth; ++k) {
        auto [la, lb] = operands[local][k];
        Value x = aElements[la], y = bElements[lb];
        Value product =
            isFloat ? rewriter.create<arith::MulFOp>(loc, x, y).getResult()
                    : rewriter.create<arith::MulIOp>(loc, x, y).getResult();
        sum =
            isFloat
                ? rewriter.create<arith::AddFOp>(loc, sum, product).getResult()
                : rewriter.create<arith::AddIOp>(loc, sum, product).getResult();
      }
      result = rewriter.create<vector::InsertOp>(loc, sum, result, local);
    }
    rewriter.replaceOp(
        op, emitComputeCast(rewriter, loc, result, compute, accType));
    return success();
  }
};

} // namespace

void tilus::populateReduceLoweringPatterns(const TypeConverter &converter,
                                           RewritePatternSet &patterns) {
  patterns.add<ReduceLowering, DotLowering>(converter, patterns.getContext());
}
