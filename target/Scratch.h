//===- Scratch.h - Shared memory that instructions borrow -------*- C++ -*-===//
//
// Some instructions move elements between threads: layout conversion,
// broadcast, slice and transpose read, for each result element, one source
// element. When every thread already holds the source elements of the result
// elements it holds, the move is a shuffle of its registers; otherwise the
// elements travel through a scratch area of shared memory that the
// shared-memory planning pass reserves (`getScratchBytes`) and the lowering
// finds at the `tilus.scratch_offset` attribute.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_TARGET_SCRATCH_H
#define TILUS_TARGET_SCRATCH_H

#include "ir/dialect/Tilus.h"

#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace tilus {

/// Attributes that shared-memory planning records.
namespace plan_attr {
/// On tilus.alloc_shared, i64: byte offset of the tensor in dynamic shared
/// memory.
inline constexpr llvm::StringLiteral kSharedOffset = "tilus.shared_offset";
/// On an instruction with scratch, i64: byte offset of its scratch area.
inline constexpr llvm::StringLiteral kScratchOffset = "tilus.scratch_offset";
/// On a kernel, i64: the dynamic shared memory it needs, scratch included.
inline constexpr llvm::StringLiteral kSharedBytes = "tilus.shared_bytes";
} // namespace plan_attr

/// Which source element a result element of a layout-moving instruction
/// reads: source coordinate d is result coordinate `fromDim[d]` plus
/// `offset[d]`, or just `offset[d]` where `fromDim[d]` is -1 (a broadcast
/// dimension). A reshape instead sets `reshape`, `resultShape` and
/// `sourceShape`: the result coordinates, numbered row-major in `resultShape`,
/// give the same number row-major in `sourceShape` (and fromDim and offset are
/// empty).
struct SourceIndexMap {
  llvm::SmallVector<int64_t> fromDim;
  llvm::SmallVector<int64_t> offset;
  llvm::SmallVector<int64_t> resultShape;
  llvm::SmallVector<int64_t> sourceShape;
  bool reshape = false;

  bool isReshape() const { return reshape; }

  /// The source coordinates of result element `resultIndex`.
  void apply(const int64_t *resultIndex, int64_t *sourceIndex) const {
    if (isReshape()) {
      int64_t linear = 0;
      for (size_t d = 0; d < resultShape.size(); ++d)
        linear = linear * resultShape[d] + resultIndex[d];
      for (size_t d = sourceShape.size(); d-- > 0;) {
        sourceIndex[d] = linear % sourceShape[d];
        linear /= sourceShape[d];
      }
      return;
    }
    for (size_t d = 0; d < fromDim.size(); ++d)
      sourceIndex[d] =
          (fromDim[d] < 0 ? 0 : resultIndex[fromDim[d]]) + offset[d];
  }
};

/// The source index map of convert_layout, broadcast, slice, transpose and
/// reshape; none for other operations.
std::optional<SourceIndexMap> getSourceIndexMap(mlir::Operation *op);

/// For each local index of `result`, the local index at which every thread
/// holds (under `source`) the source element of the result element it holds
/// there; none when some thread does not hold it, and then the move needs
/// scratch. Both layouts must span the same threads.
std::optional<llvm::SmallVector<int64_t>>
getRegisterGather(const RegisterLayout &source, const RegisterLayout &result,
                  const SourceIndexMap &map);

/// What a layout-moving instruction costs as the lowering implements it
/// (codegen/LayoutLowering.cpp): nothing, a permutation of each thread's
/// registers, or a round trip through its scratch area, fenced by a barrier
/// on each side, in which each thread stores the elements it holds (its
/// replicas leave it to the first holder) and loads the ones it needs, one
/// shared-memory access per element.
struct MoveCost {
  /// Bytes of scratch; 0 when the move stays in registers.
  int64_t scratchBytes = 0;
  /// bar.sync instructions: 2 through scratch, else 0.
  int64_t barriers = 0;
  /// Shared-memory stores and loads per thread.
  int64_t sharedStores = 0;
  int64_t sharedLoads = 0;
  /// Registers a thread moves when the move is a permutation of them; 0
  /// when every thread holds its elements at the same local indices.
  int64_t registerMoves = 0;

  bool inRegisters() const { return scratchBytes == 0; }
  bool isFree() const { return inRegisters() && registerMoves == 0; }
};

/// The cost of `op` (convert_layout, broadcast, slice or transpose) with
/// layouts on its source and result.
MoveCost getMoveCost(mlir::Operation *op);

/// Bytes of a tile's elements stored densely, one byte or more each.
int64_t getTileBytes(TileType tile);

/// Where layout movement puts the elements of `tile` in its scratch area:
/// row-major, one byte or more per element, with rows of a multiple of 128
/// bytes padded by 4 bytes so that threads walking down a column hit
/// different banks.
SharedLayout getScratchLayout(TileType tile);

/// A reduction across warps keeps each warp's partial results in its
/// scratch area at slot `warp * resultElements + linearResultIndex`: values
/// as elements of the source type from byte 0, and for argmax/argmin the
/// i32 indices of the same slots from this byte offset (4-byte aligned).
int64_t getReduceIndexScratchOffset(ReduceOp reduce);

/// Bytes of shared memory `op` needs as scratch while it runs (0 for most
/// operations); the shared-memory planning pass reserves them and records
/// the offset in the `tilus.scratch_offset` attribute.
int64_t getScratchBytes(mlir::Operation *op);

} // namespace tilus

#endif // TILUS_TARGET_SCRATCH_H
