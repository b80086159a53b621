//===- LayoutTestUtils.h - Generators and brute-force references -*- C++
//-*-===//
//
// The property tests compare the library against definitions evaluated by
// brute force here, never against the library's own helpers.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_TEST_UNIT_LAYOUT_LAYOUTTESTUTILS_H
#define TILUS_TEST_UNIT_LAYOUT_LAYOUTTESTUTILS_H

#include "ir/layout/RegisterLayout.h"
#include "ir/layout/SharedLayout.h"

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <random>
#include <vector>

namespace tilus {
/// gtest prints layouts in their text form.
inline void PrintTo(const RegisterLayout &layout, std::ostream *os) {
  *os << layout.str();
}
inline void PrintTo(const SharedLayout &layout, std::ostream *os) {
  *os << layout.str();
}
} // namespace tilus

namespace tilus::test {

using Index = std::vector<int64_t>;

inline int64_t product(const Index &v) {
  int64_t p = 1;
  for (int64_t x : v)
    p *= x;
  return p;
}

/// Row-major linear index of `index` in `shape`.
inline int64_t linearize(const Index &index, const Index &shape) {
  int64_t linear = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    linear = linear * shape[d] + index[d];
  return linear;
}

inline Index delinearize(int64_t linear, const Index &shape) {
  Index index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = linear % shape[d];
    linear /= shape[d];
  }
  return index;
}

/// The function of a layout as a table: entry t * numLocals + i is the
/// linear index of the element that thread t holds at local i.
struct FunctionTable {
  Index shape;
  int64_t threads = 0, locals = 0;
  std::vector<int64_t> table;
  bool operator==(const FunctionTable &o) const {
    return shape == o.shape && threads == o.threads && locals == o.locals &&
           table == o.table;
  }
  bool operator<(const FunctionTable &o) const {
    if (shape != o.shape)
      return shape < o.shape;
    if (threads != o.threads)
      return threads < o.threads;
    if (locals != o.locals)
      return locals < o.locals;
    return table < o.table;
  }
};

inline FunctionTable tableOf(const RegisterLayout &l) {
  FunctionTable f{l.shape(), l.numThreads(), l.numLocals(), {}};
  for (int64_t t = 0; t < l.numThreads(); ++t)
    for (int64_t i = 0; i < l.numLocals(); ++i)
      f.table.push_back(linearize(l.map(t, i), l.shape()));
  return f;
}

/// A layout representation evaluated directly from the definition: the
/// thread and local indices are row-major numbers over the listed modes; a
/// dimension coordinate is the row-major number of its modes' digits.
struct RawLayout {
  Index shape;
  Index modeShape; ///< dimension-major, outer first
  Index modeDim;
  Index spatial; ///< < 0: replicated of size -entry
  Index local;

  int64_t threads() const {
    int64_t n = 1;
    for (int64_t e : spatial)
      n *= e < 0 ? -e : modeShape[e];
    return n;
  }
  int64_t locals() const {
    int64_t n = 1;
    for (int64_t e : local)
      n *= modeShape[e];
    return n;
  }
  Index map(int64_t thread, int64_t localIndex) const {
    Index digit(modeShape.size(), 0);
    for (size_t k = spatial.size(); k-- > 0;) {
      int64_t n = spatial[k] < 0 ? -spatial[k] : modeShape[spatial[k]];
      if (spatial[k] >= 0)
        digit[spatial[k]] = thread % n;
      thread /= n;
    }
    for (size_t k = local.size(); k-- > 0;) {
      digit[local[k]] = localIndex % modeShape[local[k]];
      localIndex /= modeShape[local[k]];
    }
    Index index(shape.size(), 0);
    for (size_t m = 0; m < modeShape.size(); ++m)
      index[modeDim[m]] = index[modeDim[m]] * modeShape[m] + digit[m];
    return index;
  }
  FunctionTable table() const {
    FunctionTable f{shape, threads(), locals(), {}};
    for (int64_t t = 0; t < f.threads; ++t)
      for (int64_t i = 0; i < f.locals; ++i)
        f.table.push_back(linearize(map(t, i), shape));
    return f;
  }
};

/// Random layouts built from chains of primitives, bounded in size.
class LayoutGenerator {
public:
  explicit LayoutGenerator(uint32_t seed) : rng(seed) {}

  int64_t uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  }

  /// A chain of up to `maxPrims` primitives of rank `rank`, with at most
  /// `maxThreads` threads and `maxLocals` locals.
  RegisterLayout chain(size_t rank, int maxPrims = 4, int64_t maxThreads = 64,
                       int64_t maxLocals = 16) {
    RegisterLayout l = layout::local(Index(rank, 1));
    int prims = static_cast<int>(uniform(1, maxPrims));
    for (int p = 0; p < prims; ++p) {
      int kind = static_cast<int>(uniform(0, 4));
      if (kind == 4) {
        int64_t n = uniform(2, 3);
        if (l.numThreads() * n <= maxThreads)
          l = l.replicate(n);
        continue;
      }
      bool isSpatial = kind == 1 || kind == 3;
      int64_t budget =
          isSpatial ? maxThreads / l.numThreads() : maxLocals / l.numLocals();
      Index shape(rank, 1);
      for (size_t d = 0; d < rank; ++d) {
        int64_t s = uniform(1, 4);
        if (s <= budget) {
          shape[d] = s;
          budget /= s;
        }
      }
      switch (kind) {
      case 0:
        l = l.local(shape);
        break;
      case 1:
        l = l.spatial(shape);
        break;
      case 2:
        l = l.columnLocal(shape);
        break;
      default:
        l = l.columnSpatial(shape);
        break;
      }
    }
    return l;
  }

  RegisterLayout chain() { return chain(static_cast<size_t>(uniform(1, 4))); }

  /// A random, usually non-canonical, representation: random shape, each
  /// dimension split into random modes (some of size 1), modes dealt into
  /// the thread and local lists in random order, plus replicated modes.
  RawLayout raw(size_t rank, int64_t maxExtent = 8) {
    RawLayout r;
    for (size_t d = 0; d < rank; ++d) {
      int64_t extent = uniform(1, maxExtent);
      r.shape.push_back(extent);
      // Factor the extent into modes, outer first.
      Index factors;
      int64_t rest = extent;
      for (int64_t f = 2; f <= rest;) {
        if (rest % f == 0) {
          factors.push_back(f);
          rest /= f;
        } else {
          ++f;
        }
      }
      std::shuffle(factors.begin(), factors.end(), rng);
      if (uniform(0, 2) == 0)
        factors.insert(factors.begin() + uniform(0, factors.size()), 1);
      // Randomly merge neighbouring factors.
      Index modes;
      for (int64_t f : factors) {
        if (!modes.empty() && uniform(0, 2) == 0)
          modes.back() *= f;
        else
          modes.push_back(f);
      }
      for (int64_t m : modes) {
        r.modeShape.push_back(m);
        r.modeDim.push_back(static_cast<int64_t>(d));
      }
    }
    Index order(r.modeShape.size());
    for (size_t m = 0; m < order.size(); ++m)
      order[m] = static_cast<int64_t>(m);
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t m : order)
      (uniform(0, 1) ? r.spatial : r.local).push_back(m);
    int reps = static_cast<int>(uniform(0, 2));
    for (int k = 0; k < reps; ++k)
      r.spatial.insert(r.spatial.begin() + uniform(0, r.spatial.size()),
                       -uniform(1, 3));
    return r;
  }

  std::mt19937 &engine() { return rng; }

private:
  std::mt19937 rng;
};

} // namespace tilus::test

#endif // TILUS_TEST_UNIT_LAYOUT_LAYOUTTESTUTILS_H
