//===- RegisterLayout.h - Distribution of a tile over threads ---*- C++ -*-===//
//
// A register layout says which thread holds which element of a register
// tensor, and where in that thread's registers ("local index") it sits.
//
// # The model
//
// A layout of shape S = (s_0, ..., s_{n-1}) is a function
//
//     L : [0, T) x [0, M) -> [0, s_0) x ... x [0, s_{n-1})
//         (thread,  local)  ->  logical index
//
// where T is the number of threads and M the number of local elements per
// thread. Every (thread, local) pair names exactly one element; an element may
// be held by several threads (replication) but always at the same local index.
//
// The function is described by *modes*. Each dimension d of the shape is
// factored into modes, outermost first, whose sizes multiply to s_d; a
// logical coordinate along d is the row-major number formed by its mode
// digits. Each mode is either *spatial* (its digit is a digit of the thread
// index) or *local* (a digit of the local index). The thread index is the
// row-major number of the digits listed in `spatialModes`, the local index
// that of the digits listed in `localModes`. A spatial entry may also be a
// *replicated* mode: a thread digit that maps to no dimension, so threads
// differing only in it hold the same elements.
//
// # Primitives
//
//     local(2, 3)          one thread holding a 2x3 tile, local index row-major
//     column_local(2, 3)   the same, local index column-major
//     spatial(8, 4)        32 threads, one element each, thread index row-major
//     column_spatial(8, 4) 32 threads, thread index column-major
//     replicate(2)         2 threads holding the same (rank-0) element
//
// # Composition
//
// `f * g` (also written `f.spatial(...)` when g is a primitive) tiles copies of
// g according to f: with T_g, M_g and S_g the thread count, local count and
// shape of g,
//
//     (f * g)(t, i) = f(t / T_g, i / M_g) (.) S_g + g(t % T_g, i % M_g)
//
// where (.) is the elementwise product. Operands of different rank are aligned
// by prepending dimensions of size 1, so `replicate(n)` composes with anything.
//
// Worked example, the mma.m16n8 f32 accumulator:
//
//     local(2, 1).spatial(8, 4).local(1, 2)      shape (16, 8), T = 32, M = 4
//
//     dim 0 (rows):  modes [2 local][8 spatial]          row = 8 a + g
//     dim 1 (cols):  modes [4 spatial][2 local]          col = 2 q + b
//     thread = 4 g + q, local = 2 a + b
//
// so thread t holds rows t/4 and t/4 + 8, columns 2(t%4) + {0, 1}:
//
//          col 0   col 1   col 2   col 3  ...
//   row 0  T0:0    T0:1    T1:0    T1:1
//   row 1  T4:0    T4:1    T5:0    T5:1
//   ...
//   row 8  T0:2    T0:3    T1:2    T1:3
//
// # Division
//
// Right division `a / b` is the q with `q * b == a`; it exists when b is the
// innermost part of a (the b-tile sits at the inner end of every dimension,
// of the thread index and of the local index). Instruction selection asks
// "is this tensor layout a tiling of the mma fragment?", i.e. `a / atom`.
// `leftDivide(a, b)` is the q with `b * q == a`. Both are unique when they
// exist (q(t, i) = a(t * T_b, i * M_b) / S_b), and fail with a reason
// otherwise.
//
// # Canonical form
//
// Size-1 modes are dropped, and two modes are merged when they are adjacent in
// their dimension (outer then inner) and adjacent in the same list (outer
// then inner); consecutive replicated modes are merged too. Layouts are always
// stored canonical, so two layouts are equal as functions (same shape, T, M
// and map) exactly when their representations are equal; `==` and `hash`
// compare representations.
//
// # Text
//
// `str()` prints a chain of primitives that builds the layout, e.g.
// `local(2,1).spatial(8,4).local(1,2)`; layouts that no chain builds print in
// the general form `layout(shape=[...], modes=[...], spatial=[...],
// local=[...])` (modes dimension-major, outer first; spatial entries index
// `modes`, a negative entry -n is a replicated mode of size n).
// `parseRegisterLayout` reads both forms.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_IR_LAYOUT_REGISTERLAYOUT_H
#define TILUS_IR_LAYOUT_REGISTERLAYOUT_H

#include "ir/layout/LayoutResult.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tilus {

/// The threads holding one element and the local index they hold it at.
struct LayoutHolders {
  int64_t local = 0;
  /// Sorted ascending; more than one entry when the element is replicated.
  std::vector<int64_t> threads;
};

/// A distribution of an N-d tile over threads; see the file comment.
class RegisterLayout {
public:
  /// The trivial rank-0 layout: one thread holding one element.
  RegisterLayout();

  /// Builds a layout from its representation: `modeShape` lists the modes
  /// dimension-major (outer first within a dimension; the modes of dimension d
  /// multiply to shape[d]); `spatialModes` and `localModes` index modeShape,
  /// outer digit first; a spatial entry -n is a replicated mode of size n.
  /// Every mode must be listed exactly once; thread and local counts must
  /// stay below 2^40.
  static LayoutResult<RegisterLayout> create(std::vector<int64_t> shape,
                                             std::vector<int64_t> modeShape,
                                             std::vector<int64_t> spatialModes,
                                             std::vector<int64_t> localModes);

  //===--------------------------------------------------------------------===//
  // Composition and chained primitives
  //===--------------------------------------------------------------------===//

  /// `*this * inner`; see the file comment.
  RegisterLayout compose(const RegisterLayout &inner) const;
  RegisterLayout local(const std::vector<int64_t> &shape) const;
  RegisterLayout spatial(const std::vector<int64_t> &shape) const;
  RegisterLayout columnLocal(const std::vector<int64_t> &shape) const;
  RegisterLayout columnSpatial(const std::vector<int64_t> &shape) const;
  RegisterLayout replicate(int64_t n) const;

  /// The q with `q * divisor == *this`.
  LayoutResult<RegisterLayout> divide(const RegisterLayout &divisor) const;
  /// The q with `divisor * q == *this`.
  LayoutResult<RegisterLayout> leftDivide(const RegisterLayout &divisor) const;

  //===--------------------------------------------------------------------===//
  // Shape transformations
  //===--------------------------------------------------------------------===//

  /// Dimension i of the result is dimension perm[i] of this layout.
  LayoutResult<RegisterLayout> permute(const std::vector<int64_t> &perm) const;
  /// Collapses `dims` to size 1 (removed unless keepDims): their spatial modes
  /// become replicated modes, their local modes are dropped. The threads that
  /// held any element of a reduced slice hold the reduced element.
  LayoutResult<RegisterLayout> reduce(const std::vector<int64_t> &dims,
                                      bool keepDims = false) const;
  /// Reinterprets the row-major linearisation of the tile with a new shape of
  /// the same size; fails when a mode straddles a new dimension boundary
  /// without dividing it.
  LayoutResult<RegisterLayout> reshape(const std::vector<int64_t> &shape) const;
  /// `reshape({size()})`; always succeeds.
  RegisterLayout flatten() const;
  /// Removes the listed dimensions, which must have size 1.
  LayoutResult<RegisterLayout> squeeze(const std::vector<int64_t> &dims) const;
  /// Inserts size-1 dimensions at the listed positions of the result.
  LayoutResult<RegisterLayout>
  unsqueeze(const std::vector<int64_t> &dims) const;
  /// The layout of shape (this->shape ++ other.shape) whose thread index is
  /// (this thread, other thread) and local index (this local, other local).
  RegisterLayout concat(const RegisterLayout &other) const;

  //===--------------------------------------------------------------------===//
  // Queries
  //===--------------------------------------------------------------------===//

  size_t rank() const { return shapeV.size(); }
  const std::vector<int64_t> &shape() const { return shapeV; }
  /// Number of elements of the tile.
  int64_t size() const { return sizeV; }
  int64_t numThreads() const { return numThreadsV; }
  int64_t numLocals() const { return numLocalsV; }
  /// Threads holding each element (product of the replicated modes).
  int64_t replication() const { return replicationV; }

  /// The logical index held by `thread` at `local`; out has rank() entries.
  /// Requires 0 <= thread < numThreads(), 0 <= local < numLocals().
  void map(int64_t thread, int64_t local, int64_t *out) const;
  std::vector<int64_t> map(int64_t thread, int64_t local) const;

  /// The local index at which `index` is held (rank() entries, in bounds).
  int64_t localIndexOf(const int64_t *index) const;
  /// The lowest thread holding `index`; the others add replicaOffsets().
  int64_t firstThreadOf(const int64_t *index) const;
  /// Thread-index offsets from firstThreadOf to every holder, ascending,
  /// starting with 0.
  const std::vector<int64_t> &replicaOffsets() const { return replicaOffsetsV; }
  /// Inverse map: every holder of `index` and its local index.
  LayoutHolders holders(const std::vector<int64_t> &index) const;

  /// Largest k such that, in every thread, local indices k*j .. k*j+k-1 hold
  /// elements that are consecutive along `dim` (other coordinates equal).
  int64_t contiguity(size_t dim) const { return contiguityV[dim]; }
  /// contiguity(rank() - 1), or 1 for rank 0: the vector width the layout
  /// allows along the innermost dimension.
  int64_t innerContiguity() const {
    return contiguityV.empty() ? 1 : contiguityV.back();
  }

  /// The representation (canonical); see create().
  const std::vector<int64_t> &modeShape() const { return modeShapeV; }
  const std::vector<int64_t> &spatialModes() const { return spatialModesV; }
  const std::vector<int64_t> &localModes() const { return localModesV; }
  /// Dimension of each mode.
  const std::vector<int64_t> &modeDims() const { return modeDimV; }

  bool operator==(const RegisterLayout &other) const;
  bool operator!=(const RegisterLayout &other) const {
    return !(*this == other);
  }
  size_t hash() const { return hashV; }

  /// The text form; parseRegisterLayout(str()) == *this.
  std::string str() const;
  /// A grid of `T<thread>:<local>` cells for rank <= 2 (higher ranks print
  /// one grid per leading index).
  std::string picture() const;

  /// Builds from a representation known to be valid (modes in dimension
  /// order, `modeDims` giving each mode's dimension); canonicalises.
  static RegisterLayout fromParts(std::vector<int64_t> shape,
                                  std::vector<int64_t> modeShape,
                                  std::vector<int64_t> modeDims,
                                  std::vector<int64_t> spatialModes,
                                  std::vector<int64_t> localModes);

private:
  void finalize();

  std::vector<int64_t> shapeV;
  std::vector<int64_t> modeShapeV;
  std::vector<int64_t> modeDimV;
  std::vector<int64_t> spatialModesV;
  std::vector<int64_t> localModesV;

  // Derived by finalize().
  int64_t sizeV = 1, numThreadsV = 1, numLocalsV = 1, replicationV = 1;
  /// Per mode: its digit weight in its dimension coordinate, in the thread
  /// index (0 for local modes) and in the local index (0 for spatial modes).
  struct ModeStrides {
    int64_t dim;
    int64_t thread;
    int64_t local;
  };
  std::vector<ModeStrides> modeStridesV;
  std::vector<int64_t> replicaOffsetsV;
  std::vector<int64_t> contiguityV;
  /// When every mode size is a power of two (the common case), the inverse
  /// map is a few shifts and masks per mode: digit = (x[dim] >> in) & mask,
  /// contributing digit << out to the thread or local index.
  struct ShiftDigit {
    int64_t dim;
    int64_t in;
    int64_t mask;
    int64_t out;
  };
  bool powerOfTwoV = false;
  /// The thread digits, then the local digits.
  std::vector<ShiftDigit> digitsV;
  size_t numThreadDigitsV = 0;
  size_t hashV = 0;
};

inline RegisterLayout operator*(const RegisterLayout &outer,
                                const RegisterLayout &inner) {
  return outer.compose(inner);
}

/// Primitive layouts; sizes must be positive.
namespace layout {
RegisterLayout local(const std::vector<int64_t> &shape);
RegisterLayout spatial(const std::vector<int64_t> &shape);
RegisterLayout columnLocal(const std::vector<int64_t> &shape);
RegisterLayout columnSpatial(const std::vector<int64_t> &shape);
/// Rank 0: n threads holding the single element.
RegisterLayout replicate(int64_t n);
} // namespace layout

/// Parses the text form (see docs/layouts.md): a `*`-separated product of
/// chains `prim(args).prim(args)...`, parenthesised sub-expressions, or the
/// general `layout(shape=[..], modes=[..], spatial=[..], local=[..])`.
/// Errors carry the byte offset of the offending token.
LayoutResult<RegisterLayout> parseRegisterLayout(std::string_view text);

} // namespace tilus

namespace std {
template <> struct hash<tilus::RegisterLayout> {
  size_t operator()(const tilus::RegisterLayout &layout) const {
    return layout.hash();
  }
};
} // namespace std

#endif // TILUS_IR_LAYOUT_REGISTERLAYOUT_H
