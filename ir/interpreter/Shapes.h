//===- Shapes.h - Row-major indexing of the interpreter's tiles -*- C++ -*-===//
//
// Private to ir/interpreter: tiles and shared tensors hold their elements
// row-major, and these helpers walk and number their multi-indices.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_IR_INTERPRETER_SHAPES_H
#define TILUS_IR_INTERPRETER_SHAPES_H

#include "support/ShapeText.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>

namespace tilus::interp {

using llvm::ArrayRef;
using llvm::MutableArrayRef;
using llvm::SmallVector;

inline int64_t numElements(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t extent : shape)
    count *= extent;
  return count;
}

/// Advances a row-major multi-index; false after the last one.
inline bool nextIndex(MutableArrayRef<int64_t> index, ArrayRef<int64_t> shape) {
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    if (++index[d] < shape[d])
      return true;
    index[d] = 0;
  }
  return false;
}

inline int64_t linearIndex(ArrayRef<int64_t> index, ArrayRef<int64_t> shape) {
  int64_t linear = 0;
  for (auto [i, extent] : llvm::zip(index, shape))
    linear = linear * extent + i;
  return linear;
}

/// Calls `fn(index, linear)` for every row-major index of `shape`.
template <typename Fn> void forEachIndex(ArrayRef<int64_t> shape, Fn fn) {
  if (numElements(shape) == 0)
    return;
  SmallVector<int64_t, 4> index(shape.size(), 0);
  int64_t linear = 0;
  do {
    fn(ArrayRef<int64_t>(index), linear++);
  } while (nextIndex(index, shape));
}

} // namespace tilus::interp

#endif // TILUS_IR_INTERPRETER_SHAPES_H
