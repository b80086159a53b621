//===- SharedLayout.h - Placement of a tile in shared memory ----*- C++ -*-===//
//
// A shared layout maps the logical index of an N-d tile to an element offset
// in shared memory:
//
//     offset(x) = swizzle(base + sum over modes m of digit_m(x) * stride_m)
//
// Each dimension is factored into modes (outer first) as in RegisterLayout;
// digit_m(x) is the digit of x[dim(m)] for mode m. Row-major (8, 64) is one
// mode per dimension, (8:64, 64:1).
//
// # Swizzle
//
// Swizzle(bits, base, shift) is CuTe's Swizzle<B, M, S> applied to the
// element offset:
//
//     swizzle(o) = o ^ ((o >> shift) & (((1 << bits) - 1) << base))
//
// i.e. the `bits` bits starting at bit base+shift are XORed into the `bits`
// bits starting at bit `base`. It permutes every aligned block of
// 2^(bits+base+shift) offsets, so it is a bijection of [0, n) whenever n is a
// multiple of that span.
//
// The bank-conflict-free swizzles for ldmatrix tiles are stated on *byte*
// offsets, with 16-byte chunks (M = 4) and the row index as the XOR source:
//
//     row bytes   byte swizzle       f16 element swizzle
//       128       Swizzle<3,4,3>     Swizzle(3,3,3)
//        64       Swizzle<2,4,3>     Swizzle(2,3,3)
//        32       Swizzle<1,4,3>     Swizzle(1,3,3)
//       256       Swizzle<3,4,4>     Swizzle(3,3,4)
//
// (CuTe's SW128/SW64/SW32 atoms); on elements of 2^e bytes the base becomes
// 4 - e. bankConflictFreeSwizzle() computes it: the eight 16-byte chunks that
// an ldmatrix phase reads from eight consecutive rows land in eight different
// bank groups.
//
// # Composition
//
// `f * g` tiles copies of g (a compact, unswizzled-above-its-span tile)
// according to f: offset(x) = f(x / S_g) * cosize(g) + g(x % S_g). The
// swizzle of g is kept, which is exact when cosize(g) is a multiple of the
// swizzle span; f must be unswizzled.
//
// # Text
//
//     shared(8,64).row_major().swizzle(3,3,3)
//     shared(64,8).column_major()
//     shared(8,64).strides(72,1)
//     shared(16,64).modes([2:512,8:64],[64:1]).offset(128)
//     shared(2,1).row_major() * shared(8,64).row_major().swizzle(3,3,3)
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_IR_LAYOUT_SHAREDLAYOUT_H
#define TILUS_IR_LAYOUT_SHAREDLAYOUT_H

#include "ir/layout/LayoutResult.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tilus {

/// CuTe-style XOR swizzle on element offsets; see the file comment.
struct Swizzle {
  int64_t bits = 0;
  int64_t base = 0;
  int64_t shift = 0;

  bool isIdentity() const { return bits == 0; }
  int64_t apply(int64_t offset) const {
    return offset ^ ((offset >> shift) & (((int64_t(1) << bits) - 1) << base));
  }
  /// The size of the aligned blocks that the swizzle permutes.
  int64_t span() const {
    return bits ? int64_t(1) << (bits + base + shift) : 1;
  }
  bool operator==(const Swizzle &o) const {
    return bits == o.bits && base == o.base && shift == o.shift;
  }
  bool operator!=(const Swizzle &o) const { return !(*this == o); }
};

/// The bank-conflict-free swizzle for rows of `rowBytes` bytes of elements of
/// `elementBytes` bytes (both powers of two, elementBytes <= 16); identity for
/// rows of 16 bytes or less.
LayoutResult<Swizzle> bankConflictFreeSwizzle(int64_t rowBytes,
                                              int64_t elementBytes);

/// One factor of a dimension: `size` digits, each step `stride` elements.
struct SharedMode {
  int64_t size = 1;
  int64_t stride = 0;
  bool operator==(const SharedMode &o) const {
    return size == o.size && stride == o.stride;
  }
};

/// Placement of a tile in shared memory; see the file comment.
class SharedLayout {
public:
  /// Rank 0, one element at offset 0.
  SharedLayout() = default;

  static SharedLayout rowMajor(const std::vector<int64_t> &shape);
  static SharedLayout columnMajor(const std::vector<int64_t> &shape);
  static LayoutResult<SharedLayout>
  strided(const std::vector<int64_t> &shape,
          const std::vector<int64_t> &strides);
  /// General form: modes[d] lists the modes of dimension d, outer first,
  /// multiplying to shape[d]; strides and offset non-negative.
  static LayoutResult<SharedLayout>
  create(std::vector<int64_t> shape, std::vector<std::vector<SharedMode>> modes,
         int64_t offset = 0, Swizzle swizzle = {});
  /// Row-major rows x cols with the bank-conflict-free swizzle for its row
  /// width.
  static LayoutResult<SharedLayout> swizzledRowMajor(int64_t rows, int64_t cols,
                                                     int64_t elementBytes);

  /// Replaces the swizzle (bits, base >= 0, shift > 0 unless bits == 0).
  LayoutResult<SharedLayout> withSwizzle(Swizzle swizzle) const;
  /// Adds `offset` before the swizzle.
  LayoutResult<SharedLayout> withOffset(int64_t offset) const;

  size_t rank() const { return shapeV.size(); }
  const std::vector<int64_t> &shape() const { return shapeV; }
  int64_t size() const;
  const std::vector<std::vector<SharedMode>> &modes() const { return modesV; }
  int64_t offset() const { return offsetV; }
  const Swizzle &swizzle() const { return swizzleV; }

  /// Element offset of `index` (rank() entries, in bounds).
  int64_t offsetOf(const int64_t *index) const;
  int64_t offsetOf(const std::vector<int64_t> &index) const {
    return offsetOf(index.data());
  }
  /// One past the largest unswizzled offset.
  int64_t cosize() const;

  /// Two indices that the layout places at one offset, the later one in
  /// row-major order first found (so `second` precedes `first`), or nothing
  /// when every element has its own offset. Layouts of more than
  /// kMaxCheckedElements elements (more than shared memory holds) are not
  /// checked.
  struct Collision {
    std::vector<int64_t> first, second;
    int64_t offset;
  };
  std::optional<Collision> findCollision() const;
  static constexpr int64_t kMaxCheckedElements = int64_t(1) << 22;

  /// `*this * inner`; see the file comment.
  LayoutResult<SharedLayout> compose(const SharedLayout &inner) const;
  /// The sub-tile [begin, begin + extent); each begin[d] must be a multiple
  /// of extent[d] and extent[d] must be a product of inner modes (splitting
  /// one), so the sub-tile is again a layout of the same memory.
  LayoutResult<SharedLayout> slice(const std::vector<int64_t> &begin,
                                   const std::vector<int64_t> &extent) const;

  /// Compares canonical representations (size-1 modes dropped, modes that
  /// continue each other merged).
  bool operator==(const SharedLayout &o) const {
    return shapeV == o.shapeV && modesV == o.modesV && offsetV == o.offsetV &&
           swizzleV == o.swizzleV;
  }
  bool operator!=(const SharedLayout &o) const { return !(*this == o); }
  size_t hash() const;
  /// The text form; parseSharedLayout(str()) == *this.
  std::string str() const;

private:
  void canonicalize();

  std::vector<int64_t> shapeV;
  std::vector<std::vector<SharedMode>> modesV;
  int64_t offsetV = 0;
  Swizzle swizzleV;
};

/// Parses the shared-layout text form (see the file comment and
/// docs/layouts.md); errors carry the byte offset of the offending token.
LayoutResult<SharedLayout> parseSharedLayout(std::string_view text);

} // namespace tilus

#endif // TILUS_IR_LAYOUT_SHAREDLAYOUT_H
