//===- Scratch.cpp - Shared memory that instructions borrow ---------------===//

#include "target/Scratch.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace mlir;
using namespace tilus;

std::optional<SourceIndexMap> tilus::getSourceIndexMap(Operation *op) {
  auto identity = [](unsigned rank) {
    SourceIndexMap map;
    for (unsigned d = 0; d < rank; ++d)
      map.fromDim.push_back(d);
    map.offset.assign(rank, 0);
    return map;
  };
  return llvm::TypeSwitch<Operation *, std::optional<SourceIndexMap>>(op)
      .Case(
          [&](ConvertLayoutOp op) { return identity(op.getType().getRank()); })
      .Case([&](BroadcastOp op) {
        SourceIndexMap map = identity(op.getType().getRank());
        ArrayRef<int64_t> from = op.getSource().getType().getShape();
        for (auto [d, extent] : llvm::enumerate(from))
          if (extent == 1)
            map.fromDim[d] = -1;
        return map;
      })
      .Case([&](SliceOp op) {
        SourceIndexMap map = identity(op.getType().getRank());
        map.offset.assign(op.getOffsets().begin(), op.getOffsets().end());
        return map;
      })
      .Case([&](TransposeOp op) {
        SourceIndexMap map = identity(op.getType().getRank());
        // Result dimension d is source dimension permutation[d].
        for (auto [d, p] : llvm::enumerate(op.getPermutation()))
          map.fromDim[p] = d;
        return map;
      })
      .Case([&](ReshapeOp op) {
        SourceIndexMap map;
        ArrayRef<int64_t> to = op.getType().getShape(),
                          from = op.getSource().getType().getShape();
        map.resultShape.assign(to.begin(), to.end());
        map.sourceShape.assign(from.begin(), from.end());
        map.reshape = true;
        return map;
      })
      .Default([](Operation *) { return std::nullopt; });
}

std::optional<SmallVector<int64_t>>
tilus::getRegisterGather(const RegisterLayout &source,
                         const RegisterLayout &result,
                         const SourceIndexMap &map) {
  if (source.numThreads() != result.numThreads())
    return std::nullopt;
  const std::vector<int64_t> &replicas = source.replicaOffsets();
  std::vector<int64_t> resultIndex(result.rank()), sourceIndex(source.rank());
  SmallVector<int64_t> gather;
  for (int64_t local = 0; local < result.numLocals(); ++local) {
    int64_t sourceLocal = -1;
    for (int64_t thread = 0; thread < result.numThreads(); ++thread) {
      result.map(thread, local, resultIndex.data());
      map.apply(resultIndex.data(), sourceIndex.data());
      int64_t held = source.localIndexOf(sourceIndex.data());
      if (sourceLocal >= 0 && held != sourceLocal)
        return std::nullopt;
      sourceLocal = held;
      int64_t first = source.firstThreadOf(sourceIndex.data());
      if (!std::binary_search(replicas.begin(), replicas.end(), thread - first))
        return std::nullopt;
    }
    gather.push_back(sourceLocal);
  }
  return gather;
}

/// Bytes of one element of `tile` in registers and scratch.
static int64_t getElementBytes(TileType tile) {
  return (getDType(tile.getElementType())->bitWidth() + 7) / 8;
}

SharedLayout tilus::getScratchLayout(TileType tile) {
  std::vector<int64_t> shape(tile.getShape().begin(), tile.getShape().end());
  int64_t elementBytes = getElementBytes(tile);
  if (shape.size() < 2 || (shape.back() * elementBytes) % 128 != 0)
    return SharedLayout::rowMajor(shape);
  std::vector<int64_t> strides(shape.size(), 1);
  strides[shape.size() - 2] =
      shape.back() + std::max<int64_t>(1, 4 / elementBytes);
  for (size_t d = shape.size() - 2; d-- > 0;)
    strides[d] = strides[d + 1] * shape[d + 1];
  return *SharedLayout::strided(shape, strides);
}

int64_t tilus::getTileBytes(TileType tile) {
  return tile.getNumElements() * getElementBytes(tile);
}

/// Whether threads of different warps hold elements that differ only in
/// their coordinate along `dim`, so a reduction over it crosses warps.
static bool spansWarps(const RegisterLayout &layout, int64_t dim) {
  int64_t threadStride = 1;
  const std::vector<int64_t> &spatial = layout.spatialModes();
  for (size_t k = spatial.size(); k-- > 0;) {
    int64_t entry = spatial[k];
    int64_t size = entry < 0 ? -entry : layout.modeShape()[entry];
    if (entry >= 0 && layout.modeDims()[entry] == dim &&
        threadStride * size > kWarpSize)
      return true;
    threadStride *= size;
  }
  return false;
}

/// Warps the source of a reduction spans.
static int64_t reduceWarps(ReduceOp reduce) {
  return std::max<int64_t>(
      1, getLayout(reduce.getSource().getType()).numThreads() / kWarpSize);
}

int64_t tilus::getReduceIndexScratchOffset(ReduceOp reduce) {
  TileType result = reduce.getType();
  int64_t valueBytes = result.getNumElements() *
                       getElementBytes(reduce.getSource().getType()) *
                       reduceWarps(reduce);
  return llvm::alignTo(valueBytes, 4);
}

int64_t tilus::getScratchBytes(Operation *op) {
  // The previous value, from the thread that adds to every thread.
  if (isa<AtomicAddOp>(op))
    return 4;
  if (auto reduce = dyn_cast<ReduceOp>(op)) {
    TileType source = reduce.getSource().getType();
    if (!source.getLayout() || !spansWarps(getLayout(source), reduce.getDim()))
      return 0;
    if (isArgReduce(reduce.getKind()))
      return getReduceIndexScratchOffset(reduce) +
             reduce.getType().getNumElements() * 4 * reduceWarps(reduce);
    return getTileBytes(reduce.getType()) * reduceWarps(reduce);
  }
  std::optional<SourceIndexMap> map = getSourceIndexMap(op);
  if (!map)
    return 0;
  auto source = cast<TileType>(op->getOperand(0).getType());
  auto result = cast<TileType>(op->getResult(0).getType());
  if (!source.getLayout() || !result.getLayout() ||
      getRegisterGather(getLayout(source), getLayout(result), *map))
    return 0;
  return getScratchLayout(source).cosize() * getElementBytes(source);
}

MoveCost tilus::getMoveCost(Operation *op) {
  MoveCost cost;
  auto source = cast<TileType>(op->getOperand(0).getType());
  auto result = cast<TileType>(op->getResult(0).getType());
  RegisterLayout from = getLayout(source), to = getLayout(result);
  std::optional<SourceIndexMap> map = getSourceIndexMap(op);
  if (std::optional<SmallVector<int64_t>> gather =
          getRegisterGather(from, to, *map)) {
    // The lowering forwards the registers as they are when each result
    // local index reads the same source local index, else shuffles them.
    bool identity =
        from.numLocals() == to.numLocals() &&
        llvm::all_of(llvm::enumerate(*gather), [](auto entry) {
          return static_cast<int64_t>(entry.index()) == entry.value();
        });
    if (!identity)
      cost.registerMoves = to.numLocals();
    return cost;
  }
  cost.scratchBytes =
      getScratchLayout(source).cosize() * getElementBytes(source);
  cost.barriers = 2;
  cost.sharedStores = from.numLocals();
  cost.sharedLoads = to.numLocals();
  return cost;
}
