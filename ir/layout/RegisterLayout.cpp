//===- RegisterLayout.cpp - Distribution of a tile over threads -----------===//

#include "ir/layout/RegisterLayout.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <numeric>
#include <set>

using namespace tilus;

namespace {

/// A mutable representation used while building layouts; modes are kept in
/// dimension order, spatial entries < 0 are replicated modes of size -entry.
struct Parts {
  std::vector<int64_t> shape;
  std::vector<int64_t> size;
  std::vector<int64_t> dim;
  std::vector<int64_t> spatial;
  std::vector<int64_t> local;

  /// Splits mode m into an outer mode of size size[m]/inner (index m) and an
  /// inner mode of size `inner` (index m+1), adjacent in every list.
  void split(int64_t m, int64_t inner) {
    assert(size[m] % inner == 0);
    size[m] /= inner;
    size.insert(size.begin() + m + 1, inner);
    dim.insert(dim.begin() + m + 1, dim[m]);
    for (std::vector<int64_t> *list : {&spatial, &local}) {
      for (int64_t &e : *list)
        if (e > m)
          ++e;
      auto it = std::find(list->begin(), list->end(), m);
      if (it != list->end())
        list->insert(it + 1, m + 1);
    }
  }

  RegisterLayout build() && {
    return RegisterLayout::fromParts(std::move(shape), std::move(size),
                                     std::move(dim), std::move(spatial),
                                     std::move(local));
  }
};

Parts partsOf(const RegisterLayout &l) {
  return Parts{l.shape(), l.modeShape(), l.modeDims(), l.spatialModes(),
               l.localModes()};
}

std::string joinInts(const std::vector<int64_t> &values) {
  std::string s;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i)
      s += ",";
    s += std::to_string(values[i]);
  }
  return s;
}

/// Checks that `dims` are distinct dimensions below `rank`.
std::string checkDims(const std::vector<int64_t> &dims, size_t rank) {
  std::set<int64_t> seen;
  for (int64_t d : dims) {
    if (d < 0 || d >= static_cast<int64_t>(rank))
      return "dimension " + std::to_string(d) + " out of range for rank " +
             std::to_string(rank);
    if (!seen.insert(d).second)
      return "dimension " + std::to_string(d) + " listed twice";
  }
  return "";
}

void hashCombine(size_t &seed, int64_t v) {
  seed ^= std::hash<int64_t>()(v) + 0x9e3779b97f4a7c15ULL + (seed << 6) +
          (seed >> 2);
}

} // namespace

//===----------------------------------------------------------------------===//
// Construction and canonical form
//===----------------------------------------------------------------------===//

RegisterLayout::RegisterLayout() { finalize(); }

RegisterLayout RegisterLayout::fromParts(std::vector<int64_t> shape,
                                         std::vector<int64_t> modeShape,
                                         std::vector<int64_t> modeDims,
                                         std::vector<int64_t> spatialModes,
                                         std::vector<int64_t> localModes) {
  // Drop size-1 modes and size-1 replications, in place (the common case
  // has none and allocates nothing).
  std::vector<int64_t> &size = modeShape, &dim = modeDims;
  std::vector<int64_t> &spatial = spatialModes, &local = localModes;
  if (std::find(size.begin(), size.end(), 1) != size.end()) {
    std::vector<int64_t> remap(size.size(), -1);
    size_t kept = 0;
    for (size_t m = 0; m < size.size(); ++m) {
      if (size[m] == 1)
        continue;
      remap[m] = static_cast<int64_t>(kept);
      size[kept] = size[m];
      dim[kept] = dim[m];
      ++kept;
    }
    size.resize(kept);
    dim.resize(kept);
    for (std::vector<int64_t> *list : {&spatial, &local}) {
      size_t out = 0;
      for (int64_t e : *list)
        if (e < 0 || remap[e] >= 0)
          (*list)[out++] = e < 0 ? e : remap[e];
      list->resize(out);
    }
  }
  spatial.erase(std::remove(spatial.begin(), spatial.end(), -1), spatial.end());

  // Merge consecutive replicated modes.
  for (size_t i = 0; i + 1 < spatial.size();) {
    if (spatial[i] < 0 && spatial[i + 1] < 0) {
      spatial[i] = -(spatial[i] * spatial[i + 1]);
      spatial.erase(spatial.begin() + i + 1);
    } else {
      ++i;
    }
  }

  // Merge modes m, m+1 of one dimension that are also consecutive (outer,
  // inner) in the same list.
  bool changed = true;
  while (changed) {
    changed = false;
    for (size_t m = 0; m + 1 < size.size() && !changed; ++m) {
      if (dim[m] != dim[m + 1])
        continue;
      for (std::vector<int64_t> *list : {&spatial, &local}) {
        auto it =
            std::find(list->begin(), list->end(), static_cast<int64_t>(m));
        if (it == list->end() || it + 1 == list->end() ||
            *(it + 1) != static_cast<int64_t>(m + 1))
          continue;
        size[m] *= size[m + 1];
        size.erase(size.begin() + m + 1);
        dim.erase(dim.begin() + m + 1);
        list->erase(it + 1);
        for (std::vector<int64_t> *l : {&spatial, &local})
          for (int64_t &e : *l)
            if (e > static_cast<int64_t>(m))
              --e;
        changed = true;
        break;
      }
    }
  }

  RegisterLayout result;
  result.shapeV = std::move(shape);
  result.modeShapeV = std::move(size);
  result.modeDimV = std::move(dim);
  result.spatialModesV = std::move(spatial);
  result.localModesV = std::move(local);
  result.finalize();
  return result;
}

void RegisterLayout::finalize() {
  size_t numModes = modeShapeV.size();
  sizeV = 1;
  for (int64_t s : shapeV)
    sizeV *= s;

  modeStridesV.assign(numModes, ModeStrides{0, 0, 0});
  for (size_t m = numModes; m-- > 0;) {
    bool innermost = m + 1 == numModes || modeDimV[m + 1] != modeDimV[m];
    modeStridesV[m].dim =
        innermost ? 1 : modeStridesV[m + 1].dim * modeShapeV[m + 1];
  }

  std::vector<std::pair<int64_t, int64_t>> replicas; // (size, stride)
  numThreadsV = 1;
  for (size_t k = spatialModesV.size(); k-- > 0;) {
    int64_t e = spatialModesV[k];
    if (e < 0) {
      replicas.push_back({-e, numThreadsV});
      numThreadsV *= -e;
    } else {
      modeStridesV[e].thread = numThreadsV;
      numThreadsV *= modeShapeV[e];
    }
  }
  numLocalsV = 1;
  for (size_t k = localModesV.size(); k-- > 0;) {
    modeStridesV[localModesV[k]].local = numLocalsV;
    numLocalsV *= modeShapeV[localModesV[k]];
  }

  replicaOffsetsV.assign(1, 0);
  for (auto [n, stride] : replicas) {
    std::vector<int64_t> next;
    next.reserve(replicaOffsetsV.size() * n);
    for (int64_t base : replicaOffsetsV)
      for (int64_t j = 0; j < n; ++j)
        next.push_back(base + j * stride);
    replicaOffsetsV = std::move(next);
  }
  std::sort(replicaOffsetsV.begin(), replicaOffsetsV.end());
  replicationV = static_cast<int64_t>(replicaOffsetsV.size());

  // In canonical form the innermost local digit is the only one that can be
  // contiguous with unit step: a run longer than it would need the next local
  // digit to be the next-outer mode of the same dimension, which canonical
  // form would have merged.
  contiguityV.assign(shapeV.size(), 1);
  if (!localModesV.empty()) {
    int64_t m = localModesV.back();
    if (modeStridesV[m].dim == 1)
      contiguityV[modeDimV[m]] = modeShapeV[m];
  }

  auto log2Exact = [](int64_t v) -> int64_t {
    if (v < 1 || (v & (v - 1)))
      return -1;
    int64_t e = 0;
    while ((int64_t(1) << e) < v)
      ++e;
    return e;
  };
  powerOfTwoV = true;
  for (int64_t e : spatialModesV)
    powerOfTwoV = powerOfTwoV && (e >= 0 || log2Exact(-e) >= 0);
  for (int64_t s : modeShapeV)
    powerOfTwoV = powerOfTwoV && log2Exact(s) >= 0;
  digitsV.clear();
  numThreadDigitsV = 0;
  if (powerOfTwoV) {
    digitsV.reserve(numModes);
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t m = 0; m < numModes; ++m) {
        const ModeStrides &st = modeStridesV[m];
        if ((st.thread != 0) != (pass == 0))
          continue;
        digitsV.push_back(
            ShiftDigit{modeDimV[m], log2Exact(st.dim), modeShapeV[m] - 1,
                       log2Exact(pass == 0 ? st.thread : st.local)});
      }
      if (pass == 0)
        numThreadDigitsV = digitsV.size();
    }
  }

  hashV = shapeV.size();
  for (const std::vector<int64_t> *v :
       {&shapeV, &modeShapeV, &modeDimV, &spatialModesV, &localModesV}) {
    hashCombine(hashV, static_cast<int64_t>(v->size()));
    for (int64_t x : *v)
      hashCombine(hashV, x);
  }
}

LayoutResult<RegisterLayout> RegisterLayout::create(
    std::vector<int64_t> shape, std::vector<int64_t> modeShape,
    std::vector<int64_t> spatialModes, std::vector<int64_t> localModes) {
  using R = LayoutResult<RegisterLayout>;
  // Keep every derived index computation far from overflow.
  constexpr int64_t kLimit = int64_t(1) << 40;
  int64_t elements = 1;
  for (int64_t s : shape) {
    if (s < 1)
      return R::failure("shape entries must be positive, got " +
                        std::to_string(s));
    if (s > kLimit / elements)
      return R::failure("more than 2^40 elements");
    elements *= s;
  }
  for (int64_t s : modeShape)
    if (s < 1 || s > kLimit)
      return R::failure("mode sizes must be positive and at most 2^40, got " +
                        std::to_string(s));
  // Assign modes to dimensions by their products.
  std::vector<int64_t> dims(modeShape.size(), 0);
  size_t d = 0;
  int64_t rem = shape.empty() ? 1 : shape[0];
  for (size_t m = 0; m < modeShape.size(); ++m) {
    while (rem == 1 && d + 1 < shape.size() && modeShape[m] != 1)
      rem = shape[++d];
    if (rem % modeShape[m] != 0)
      return R::failure("modes [" + joinInts(modeShape) +
                        "] do not factor shape [" + joinInts(shape) + "]");
    rem /= modeShape[m];
    dims[m] = static_cast<int64_t>(d);
  }
  if (rem != 1)
    return R::failure("modes [" + joinInts(modeShape) +
                      "] do not factor shape [" + joinInts(shape) + "]");
  for (size_t k = d + 1; k < shape.size(); ++k)
    if (shape[k] != 1)
      return R::failure("modes [" + joinInts(modeShape) +
                        "] do not factor shape [" + joinInts(shape) + "]");
  std::vector<int> used(modeShape.size(), 0);
  for (const std::vector<int64_t> *list : {&spatialModes, &localModes}) {
    for (int64_t e : *list) {
      if (e < 0 && list == &spatialModes)
        continue;
      if (e < 0 || e >= static_cast<int64_t>(modeShape.size()))
        return R::failure("mode index " + std::to_string(e) +
                          " out of range for " +
                          std::to_string(modeShape.size()) + " modes");
      if (used[e]++)
        return R::failure("mode " + std::to_string(e) + " listed twice");
    }
  }
  for (size_t m = 0; m < modeShape.size(); ++m)
    if (!used[m])
      return R::failure("mode " + std::to_string(m) +
                        " is neither spatial nor local");
  int64_t threads = 1, locals = 1;
  for (int64_t e : spatialModes) {
    int64_t n = e < 0 ? (e < -kLimit ? kLimit + 1 : -e) : modeShape[e];
    if (n > kLimit / threads)
      return R::failure("more than 2^40 threads");
    threads *= n;
  }
  for (int64_t e : localModes) {
    if (modeShape[e] > kLimit / locals)
      return R::failure("more than 2^40 locals");
    locals *= modeShape[e];
  }
  return fromParts(std::move(shape), std::move(modeShape), std::move(dims),
                   std::move(spatialModes), std::move(localModes));
}

//===----------------------------------------------------------------------===//
// Primitives and composition
//===----------------------------------------------------------------------===//

namespace {
RegisterLayout primitive(const std::vector<int64_t> &shape, bool isSpatial,
                         bool columnMajor) {
  std::vector<int64_t> dims(shape.size());
  std::iota(dims.begin(), dims.end(), 0);
  std::vector<int64_t> order = dims;
  if (columnMajor)
    std::reverse(order.begin(), order.end());
  for ([[maybe_unused]] int64_t s : shape)
    assert(s >= 1 && "layout sizes must be positive");
  return RegisterLayout::fromParts(shape, shape, dims,
                                   isSpatial ? order : std::vector<int64_t>(),
                                   isSpatial ? std::vector<int64_t>() : order);
}
} // namespace

RegisterLayout layout::local(const std::vector<int64_t> &shape) {
  return primitive(shape, false, false);
}
RegisterLayout layout::spatial(const std::vector<int64_t> &shape) {
  return primitive(shape, true, false);
}
RegisterLayout layout::columnLocal(const std::vector<int64_t> &shape) {
  return primitive(shape, false, true);
}
RegisterLayout layout::columnSpatial(const std::vector<int64_t> &shape) {
  return primitive(shape, true, true);
}
RegisterLayout layout::replicate(int64_t n) {
  assert(n >= 1 && "replication must be positive");
  return RegisterLayout::fromParts({}, {}, {}, {-n}, {});
}

RegisterLayout RegisterLayout::compose(const RegisterLayout &inner) const {
  const RegisterLayout &outer = *this;
  size_t rank = std::max(outer.rank(), inner.rank());
  size_t padO = rank - outer.rank(), padI = rank - inner.rank();
  Parts p;
  p.shape.assign(rank, 1);
  std::vector<int64_t> mapO(outer.modeShapeV.size()),
      mapI(inner.modeShapeV.size());
  size_t mo = 0, mi = 0;
  for (size_t d = 0; d < rank; ++d) {
    if (d >= padO)
      p.shape[d] *= outer.shapeV[d - padO];
    if (d >= padI)
      p.shape[d] *= inner.shapeV[d - padI];
    for (; mo < outer.modeShapeV.size() &&
           static_cast<size_t>(outer.modeDimV[mo]) + padO == d;
         ++mo) {
      mapO[mo] = static_cast<int64_t>(p.size.size());
      p.size.push_back(outer.modeShapeV[mo]);
      p.dim.push_back(static_cast<int64_t>(d));
    }
    for (; mi < inner.modeShapeV.size() &&
           static_cast<size_t>(inner.modeDimV[mi]) + padI == d;
         ++mi) {
      mapI[mi] = static_cast<int64_t>(p.size.size());
      p.size.push_back(inner.modeShapeV[mi]);
      p.dim.push_back(static_cast<int64_t>(d));
    }
  }
  for (int64_t e : outer.spatialModesV)
    p.spatial.push_back(e < 0 ? e : mapO[e]);
  for (int64_t e : inner.spatialModesV)
    p.spatial.push_back(e < 0 ? e : mapI[e]);
  for (int64_t e : outer.localModesV)
    p.local.push_back(mapO[e]);
  for (int64_t e : inner.localModesV)
    p.local.push_back(mapI[e]);
  return std::move(p).build();
}

RegisterLayout RegisterLayout::local(const std::vector<int64_t> &shape) const {
  return compose(layout::local(shape));
}
RegisterLayout
RegisterLayout::spatial(const std::vector<int64_t> &shape) const {
  return compose(layout::spatial(shape));
}
RegisterLayout
RegisterLayout::columnLocal(const std::vector<int64_t> &shape) const {
  return compose(layout::columnLocal(shape));
}
RegisterLayout
RegisterLayout::columnSpatial(const std::vector<int64_t> &shape) const {
  return compose(layout::columnSpatial(shape));
}
RegisterLayout RegisterLayout::replicate(int64_t n) const {
  return compose(layout::replicate(n));
}

//===----------------------------------------------------------------------===//
// Division
//===----------------------------------------------------------------------===//

namespace {

/// Splits `a` into a quotient and the divisor's tile. `inner` selects right
/// division (the divisor is the inner part of every dimension and list) or
/// left division (the outer part). The divisor's part of `a` is then compared
/// with the divisor, which also rejects divisors whose internal order
/// differs.
LayoutResult<RegisterLayout> divideImpl(const RegisterLayout &a,
                                        const RegisterLayout &b, bool inner) {
  using R = LayoutResult<RegisterLayout>;
  if (b.rank() > a.rank())
    return R::failure("divisor rank " + std::to_string(b.rank()) +
                      " exceeds layout rank " + std::to_string(a.rank()));
  size_t rank = a.rank(), pad = rank - b.rank();
  std::vector<int64_t> bShape(rank, 1);
  for (size_t d = 0; d < b.rank(); ++d)
    bShape[d + pad] = b.shape()[d];
  for (size_t d = 0; d < rank; ++d)
    if (a.shape()[d] % bShape[d] != 0)
      return R::failure("dimension " + std::to_string(d) + " of size " +
                        std::to_string(a.shape()[d]) +
                        " is not divisible by the divisor's " +
                        std::to_string(bShape[d]));
  if (a.numThreads() % b.numThreads() != 0)
    return R::failure("thread count " + std::to_string(a.numThreads()) +
                      " is not divisible by the divisor's " +
                      std::to_string(b.numThreads()));
  if (a.numLocals() % b.numLocals() != 0)
    return R::failure("local count " + std::to_string(a.numLocals()) +
                      " is not divisible by the divisor's " +
                      std::to_string(b.numLocals()));

  const std::vector<int64_t> &size = a.modeShape();
  const std::vector<int64_t> &dim = a.modeDims();
  size_t numModes = size.size();

  // The divisor's share of each mode, found along the dimensions.
  std::vector<int64_t> share(numModes, 1);
  for (size_t d = 0; d < rank; ++d) {
    std::vector<size_t> modes;
    for (size_t m = 0; m < numModes; ++m)
      if (static_cast<size_t>(dim[m]) == d)
        modes.push_back(m);
    if (inner)
      std::reverse(modes.begin(), modes.end());
    int64_t rem = bShape[d];
    for (size_t m : modes) {
      if (rem == 1)
        break;
      if (rem % size[m] == 0) {
        share[m] = size[m];
        rem /= size[m];
      } else if (size[m] % rem == 0) {
        share[m] = rem;
        rem = 1;
      } else {
        return R::failure("a mode of size " + std::to_string(size[m]) +
                          " in dimension " + std::to_string(d) +
                          " straddles the divisor's extent " +
                          std::to_string(bShape[d]));
      }
    }
  }

  // The divisor's share of each thread and local digit must agree with it.
  auto peel = [&](const std::vector<int64_t> &list, int64_t total,
                  const char *what, std::vector<int64_t> &taken,
                  std::vector<int64_t> &quotient) -> std::string {
    taken.assign(list.size(), 1);
    int64_t rem = total;
    for (size_t j = 0; j < list.size(); ++j) {
      size_t k = inner ? list.size() - 1 - j : j;
      int64_t e = list[k];
      int64_t n = e < 0 ? -e : size[e];
      int64_t take = 1;
      if (rem % n == 0)
        take = n;
      else if (n % rem == 0)
        take = rem;
      else
        return std::string("a ") + what + " digit of size " +
               std::to_string(n) + " straddles the divisor's " + what +
               " count " + std::to_string(total);
      rem /= take;
      if (e >= 0 && share[e] != take)
        return std::string("the divisor's ") + what +
               " digits do not match the layout's modes";
      taken[k] = take;
    }
    if (rem != 1)
      return std::string("the divisor's ") + what +
             " digits do not match the layout's modes";
    for (size_t k = 0; k < list.size(); ++k)
      quotient.push_back(list[k] < 0 ? -(-list[k] / taken[k]) : list[k]);
    return "";
  };
  Parts q;
  std::vector<int64_t> takenS, takenL;
  if (std::string err =
          peel(a.spatialModes(), b.numThreads(), "thread", takenS, q.spatial);
      !err.empty())
    return R::failure(err);
  if (std::string err =
          peel(a.localModes(), b.numLocals(), "local", takenL, q.local);
      !err.empty())
    return R::failure(err);

  // The divisor's part of `a` (the shares, in a's order) must be b itself.
  // It is canonical: two of its modes adjacent in a dimension and a list
  // would have been merged in `a` too. With it equal to b, q * b
  // re-merges each split mode and gives back a.
  std::vector<int64_t> partIndex(numModes, -1);
  size_t numParts = 0;
  for (size_t m = 0; m < numModes; ++m) {
    if (share[m] == 1)
      continue;
    if (numParts >= b.modeShape().size() ||
        b.modeShape()[numParts] != share[m] ||
        b.modeDims()[numParts] + static_cast<int64_t>(pad) != dim[m])
      return R::failure("the divisor is not the " +
                        std::string(inner ? "inner" : "outer") +
                        " tile of the layout");
    partIndex[m] = static_cast<int64_t>(numParts++);
  }
  auto sameList = [&](const std::vector<int64_t> &list,
                      const std::vector<int64_t> &taken,
                      const std::vector<int64_t> &expected) {
    size_t j = 0;
    for (size_t k = 0; k < list.size(); ++k) {
      if (taken[k] == 1)
        continue;
      int64_t part = list[k] < 0 ? -taken[k] : partIndex[list[k]];
      if (j >= expected.size() || expected[j++] != part)
        return false;
    }
    return j == expected.size();
  };
  if (numParts != b.modeShape().size() ||
      !sameList(a.spatialModes(), takenS, b.spatialModes()) ||
      !sameList(a.localModes(), takenL, b.localModes()))
    return R::failure("the divisor is not the " +
                      std::string(inner ? "inner" : "outer") +
                      " tile of the layout");

  for (size_t d = 0; d < rank; ++d)
    q.shape.push_back(a.shape()[d] / bShape[d]);
  for (size_t m = 0; m < numModes; ++m) {
    q.size.push_back(size[m] / share[m]);
    q.dim.push_back(dim[m]);
  }
  RegisterLayout quotient = std::move(q).build();
  assert((inner ? quotient * b : b * quotient) == a &&
         "the quotient satisfies the definition");
  return quotient;
}

} // namespace

LayoutResult<RegisterLayout>
RegisterLayout::divide(const RegisterLayout &divisor) const {
  return divideImpl(*this, divisor, /*inner=*/true);
}

LayoutResult<RegisterLayout>
RegisterLayout::leftDivide(const RegisterLayout &divisor) const {
  return divideImpl(*this, divisor, /*inner=*/false);
}

//===----------------------------------------------------------------------===//
// Shape transformations
//===----------------------------------------------------------------------===//

LayoutResult<RegisterLayout>
RegisterLayout::permute(const std::vector<int64_t> &perm) const {
  using R = LayoutResult<RegisterLayout>;
  if (perm.size() != rank())
    return R::failure("permutation of " + std::to_string(perm.size()) +
                      " dimensions for a layout of rank " +
                      std::to_string(rank()));
  if (std::string err = checkDims(perm, rank()); !err.empty())
    return R::failure(err);
  Parts p;
  std::vector<int64_t> remap(modeShapeV.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    p.shape.push_back(shapeV[perm[i]]);
    for (size_t m = 0; m < modeShapeV.size(); ++m) {
      if (modeDimV[m] != perm[i])
        continue;
      remap[m] = static_cast<int64_t>(p.size.size());
      p.size.push_back(modeShapeV[m]);
      p.dim.push_back(static_cast<int64_t>(i));
    }
  }
  for (int64_t e : spatialModesV)
    p.spatial.push_back(e < 0 ? e : remap[e]);
  for (int64_t e : localModesV)
    p.local.push_back(remap[e]);
  return std::move(p).build();
}

LayoutResult<RegisterLayout>
RegisterLayout::reduce(const std::vector<int64_t> &dims, bool keepDims) const {
  using R = LayoutResult<RegisterLayout>;
  if (std::string err = checkDims(dims, rank()); !err.empty())
    return R::failure(err);
  std::vector<bool> reduced(rank(), false);
  for (int64_t d : dims)
    reduced[d] = true;
  std::vector<int64_t> newDim(rank(), -1);
  Parts p;
  for (size_t d = 0; d < rank(); ++d) {
    if (!reduced[d] || keepDims) {
      newDim[d] = static_cast<int64_t>(p.shape.size());
      p.shape.push_back(reduced[d] ? 1 : shapeV[d]);
    }
  }
  std::vector<int64_t> remap(modeShapeV.size(), -1);
  for (size_t m = 0; m < modeShapeV.size(); ++m) {
    if (reduced[modeDimV[m]])
      continue;
    remap[m] = static_cast<int64_t>(p.size.size());
    p.size.push_back(modeShapeV[m]);
    p.dim.push_back(newDim[modeDimV[m]]);
  }
  for (int64_t e : spatialModesV)
    p.spatial.push_back(e < 0 ? e : remap[e] < 0 ? -modeShapeV[e] : remap[e]);
  for (int64_t e : localModesV)
    if (remap[e] >= 0)
      p.local.push_back(remap[e]);
  return std::move(p).build();
}

LayoutResult<RegisterLayout>
RegisterLayout::reshape(const std::vector<int64_t> &shape) const {
  using R = LayoutResult<RegisterLayout>;
  int64_t total = 1;
  for (int64_t s : shape) {
    if (s < 1)
      return R::failure("shape entries must be positive, got " +
                        std::to_string(s));
    total *= s;
  }
  if (total != sizeV)
    return R::failure("cannot reshape " + std::to_string(sizeV) +
                      " elements to shape [" + joinInts(shape) + "]");
  Parts p = partsOf(*this);
  p.shape = shape;
  // Modes in dimension order are the digits of the row-major linear index;
  // regroup them from the innermost digit, splitting where a new dimension
  // boundary falls inside a mode.
  int64_t d = static_cast<int64_t>(shape.size()) - 1;
  int64_t rem = d >= 0 ? shape[d] : 1;
  for (int64_t m = static_cast<int64_t>(p.size.size()) - 1; m >= 0; --m) {
    while (rem == 1 && d > 0)
      rem = shape[--d];
    int64_t s = p.size[m];
    if (rem % s == 0) {
      p.dim[m] = d;
      rem /= s;
    } else if (s % rem == 0 && rem > 1) {
      p.split(m, rem);
      p.dim[m + 1] = d;
      rem = 1;
      ++m; // Revisit the outer part.
    } else {
      return R::failure("cannot reshape [" + joinInts(shapeV) + "] to [" +
                        joinInts(shape) + "]: a mode of size " +
                        std::to_string(s) + " straddles a dimension of size " +
                        std::to_string(shape[d]));
    }
  }
  return std::move(p).build();
}

RegisterLayout RegisterLayout::flatten() const { return *reshape({sizeV}); }

LayoutResult<RegisterLayout>
RegisterLayout::squeeze(const std::vector<int64_t> &dims) const {
  using R = LayoutResult<RegisterLayout>;
  if (std::string err = checkDims(dims, rank()); !err.empty())
    return R::failure(err);
  std::vector<bool> drop(rank(), false);
  for (int64_t d : dims) {
    if (shapeV[d] != 1)
      return R::failure("cannot squeeze dimension " + std::to_string(d) +
                        " of size " + std::to_string(shapeV[d]));
    drop[d] = true;
  }
  std::vector<int64_t> newDim(rank(), -1);
  Parts p = partsOf(*this);
  p.shape.clear();
  for (size_t d = 0; d < rank(); ++d) {
    if (drop[d])
      continue;
    newDim[d] = static_cast<int64_t>(p.shape.size());
    p.shape.push_back(shapeV[d]);
  }
  for (int64_t &d : p.dim)
    d = newDim[d];
  return std::move(p).build();
}

LayoutResult<RegisterLayout>
RegisterLayout::unsqueeze(const std::vector<int64_t> &dims) const {
  using R = LayoutResult<RegisterLayout>;
  size_t newRank = rank() + dims.size();
  if (std::string err = checkDims(dims, newRank); !err.empty())
    return R::failure(err);
  std::vector<bool> inserted(newRank, false);
  for (int64_t d : dims)
    inserted[d] = true;
  Parts p = partsOf(*this);
  p.shape.clear();
  std::vector<int64_t> newDim;
  for (size_t d = 0, old = 0; d < newRank; ++d) {
    if (inserted[d]) {
      p.shape.push_back(1);
    } else {
      newDim.push_back(static_cast<int64_t>(d));
      p.shape.push_back(shapeV[old++]);
    }
  }
  for (int64_t &d : p.dim)
    d = newDim[d];
  return std::move(p).build();
}

RegisterLayout RegisterLayout::concat(const RegisterLayout &other) const {
  Parts p = partsOf(*this);
  int64_t offset = static_cast<int64_t>(modeShapeV.size());
  p.shape.insert(p.shape.end(), other.shapeV.begin(), other.shapeV.end());
  p.size.insert(p.size.end(), other.modeShapeV.begin(), other.modeShapeV.end());
  for (int64_t d : other.modeDimV)
    p.dim.push_back(d + static_cast<int64_t>(rank()));
  for (int64_t e : other.spatialModesV)
    p.spatial.push_back(e < 0 ? e : e + offset);
  for (int64_t e : other.localModesV)
    p.local.push_back(e + offset);
  return std::move(p).build();
}

//===----------------------------------------------------------------------===//
// Queries
//===----------------------------------------------------------------------===//

void RegisterLayout::map(int64_t thread, int64_t local, int64_t *out) const {
  std::fill(out, out + rank(), 0);
  if (powerOfTwoV) {
    for (size_t k = 0; k < digitsV.size(); ++k) {
      const ShiftDigit &d = digitsV[k];
      int64_t source = k < numThreadDigitsV ? thread : local;
      out[d.dim] |= ((source >> d.out) & d.mask) << d.in;
    }
    return;
  }
  for (size_t m = 0; m < modeShapeV.size(); ++m) {
    const ModeStrides &st = modeStridesV[m];
    int64_t digit = st.thread ? thread / st.thread % modeShapeV[m]
                              : local / st.local % modeShapeV[m];
    out[modeDimV[m]] += digit * st.dim;
  }
}

std::vector<int64_t> RegisterLayout::map(int64_t thread, int64_t local) const {
  std::vector<int64_t> out(rank());
  map(thread, local, out.data());
  return out;
}

int64_t RegisterLayout::localIndexOf(const int64_t *index) const {
  int64_t local = 0;
  if (powerOfTwoV) {
    for (size_t k = numThreadDigitsV; k < digitsV.size(); ++k) {
      const ShiftDigit &d = digitsV[k];
      local |= ((index[d.dim] >> d.in) & d.mask) << d.out;
    }
    return local;
  }
  for (size_t m = 0; m < modeShapeV.size(); ++m)
    local += index[modeDimV[m]] / modeStridesV[m].dim % modeShapeV[m] *
             modeStridesV[m].local;
  return local;
}

int64_t RegisterLayout::firstThreadOf(const int64_t *index) const {
  int64_t thread = 0;
  if (powerOfTwoV) {
    for (size_t k = 0; k < numThreadDigitsV; ++k) {
      const ShiftDigit &d = digitsV[k];
      thread |= ((index[d.dim] >> d.in) & d.mask) << d.out;
    }
    return thread;
  }
  for (size_t m = 0; m < modeShapeV.size(); ++m)
    thread += index[modeDimV[m]] / modeStridesV[m].dim % modeShapeV[m] *
              modeStridesV[m].thread;
  return thread;
}

LayoutHolders RegisterLayout::holders(const std::vector<int64_t> &index) const {
  assert(index.size() == rank());
  LayoutHolders result;
  result.local = localIndexOf(index.data());
  int64_t first = firstThreadOf(index.data());
  result.threads.reserve(replicaOffsetsV.size());
  for (int64_t offset : replicaOffsetsV)
    result.threads.push_back(first + offset);
  return result;
}

bool RegisterLayout::operator==(const RegisterLayout &other) const {
  return hashV == other.hashV && shapeV == other.shapeV &&
         modeShapeV == other.modeShapeV && modeDimV == other.modeDimV &&
         spatialModesV == other.spatialModesV &&
         localModesV == other.localModesV;
}

//===----------------------------------------------------------------------===//
// Printing
//===----------------------------------------------------------------------===//

std::string RegisterLayout::str() const {
  // Peel primitive layers off the front of the thread and local lists: a
  // layer may take a run of list entries whose modes are each the outermost
  // not yet taken in their dimension, in increasing (row-major) or decreasing
  // (column-major) dimension order.
  std::vector<size_t> next(rank(), modeShapeV.size());
  for (size_t m = modeShapeV.size(); m-- > 0;)
    next[modeDimV[m]] = m;
  auto available = [&](int64_t e) {
    return e >= 0 && next[modeDimV[e]] == static_cast<size_t>(e);
  };
  auto take = [&](int64_t e) {
    size_t d = modeDimV[e];
    ++next[d];
    if (next[d] < modeShapeV.size() && modeDimV[next[d]] != modeDimV[e])
      next[d] = modeShapeV.size();
  };
  std::vector<std::string> layers;
  bool onlyReplicate = true;
  size_t pos[2] = {0, 0};
  const std::vector<int64_t> *lists[2] = {&localModesV, &spatialModesV};
  while (pos[0] < lists[0]->size() || pos[1] < lists[1]->size()) {
    if (pos[1] < spatialModesV.size() && spatialModesV[pos[1]] < 0) {
      layers.push_back("replicate(" + std::to_string(-spatialModesV[pos[1]++]) +
                       ")");
      continue;
    }
    bool progressed = false;
    for (int kind = 0; kind < 2 && !progressed; ++kind) {
      const std::vector<int64_t> &list = *lists[kind];
      size_t &k = pos[kind];
      if (k >= list.size() || !available(list[k]))
        continue;
      std::vector<int64_t> sizes(rank(), 1);
      int64_t prevDim = modeDimV[list[k]];
      int direction = 0;
      sizes[prevDim] = modeShapeV[list[k]];
      take(list[k++]);
      while (k < list.size() && available(list[k])) {
        int64_t d = modeDimV[list[k]];
        int dir = d > prevDim ? 1 : -1;
        if (d == prevDim || (direction && dir != direction))
          break;
        direction = dir;
        sizes[d] = modeShapeV[list[k]];
        prevDim = d;
        take(list[k++]);
      }
      layers.push_back(std::string(direction < 0 ? "column_" : "") +
                       (kind == 0 ? "local(" : "spatial(") + joinInts(sizes) +
                       ")");
      onlyReplicate = false;
      progressed = true;
    }
    if (!progressed) {
      std::string s = "layout(shape=[" + joinInts(shapeV) + "],modes=[" +
                      joinInts(modeShapeV) + "],spatial=[" +
                      joinInts(spatialModesV) + "],local=[" +
                      joinInts(localModesV) + "])";
      return s;
    }
  }
  if (onlyReplicate && (rank() > 0 || layers.empty()))
    layers.insert(layers.begin(),
                  "local(" + joinInts(std::vector<int64_t>(rank(), 1)) + ")");
  std::string s;
  for (size_t i = 0; i < layers.size(); ++i)
    s += (i ? "." : "") + layers[i];
  return s;
}

std::string RegisterLayout::picture() const {
  // Treat the layout as a stack of 2-d grids over the last two dimensions.
  int64_t rows = rank() >= 2 ? shapeV[rank() - 2] : 1;
  int64_t cols = rank() >= 1 ? shapeV[rank() - 1] : 1;
  int64_t grids = rows * cols ? sizeV / (rows * cols) : 0;
  std::vector<std::string> cells(sizeV);
  std::vector<int64_t> index(rank());
  size_t width = 1;
  for (int64_t linear = 0; linear < sizeV; ++linear) {
    int64_t rest = linear;
    for (size_t d = rank(); d-- > 0;) {
      index[d] = rest % shapeV[d];
      rest /= shapeV[d];
    }
    LayoutHolders h = holders(index);
    std::string cell = "T";
    if (h.threads.size() == 1) {
      cell += std::to_string(h.threads[0]);
    } else {
      cell += "{" + joinInts(h.threads) + "}";
    }
    cell += ":" + std::to_string(h.local);
    width = std::max(width, cell.size());
    cells[linear] = std::move(cell);
  }
  std::string out;
  auto pad = [](std::string s, size_t w) {
    return std::string(w - std::min(w, s.size()), ' ') + s;
  };
  size_t rowLabel = std::to_string(rows - 1).size();
  for (int64_t g = 0; g < grids; ++g) {
    if (rank() > 2) {
      int64_t rest = g;
      std::vector<int64_t> lead(rank() - 2);
      for (size_t d = rank() - 2; d-- > 0;) {
        lead[d] = rest % shapeV[d];
        rest /= shapeV[d];
      }
      out += (g ? "\n" : "") + std::string("[") + joinInts(lead) + ",:,:]\n";
    }
    out += std::string(rowLabel, ' ');
    for (int64_t c = 0; c < cols; ++c)
      out += " " + pad(std::to_string(c), width);
    out += "\n";
    for (int64_t r = 0; r < rows; ++r) {
      out += pad(std::to_string(r), rowLabel);
      for (int64_t c = 0; c < cols; ++c)
        out += " " + pad(cells[(g * rows + r) * cols + c], width);
      out += "\n";
    }
  }
  return out;
}
