//===- SharedLayout.cpp - Placement of a tile in shared memory ------------===//

#include "ir/layout/SharedLayout.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

using namespace tilus;

namespace {

int64_t log2Exact(int64_t v) {
  if (v < 1 || (v & (v - 1)))
    return -1;
  int64_t e = 0;
  while ((int64_t(1) << e) < v)
    ++e;
  return e;
}

std::string joinInts(const std::vector<int64_t> &values) {
  std::string s;
  for (size_t i = 0; i < values.size(); ++i)
    s += (i ? "," : "") + std::to_string(values[i]);
  return s;
}

} // namespace

LayoutResult<Swizzle> tilus::bankConflictFreeSwizzle(int64_t rowBytes,
                                                     int64_t elementBytes) {
  using R = LayoutResult<Swizzle>;
  int64_t rowLog = log2Exact(rowBytes), elemLog = log2Exact(elementBytes);
  if (rowLog < 0)
    return R::failure("row width " + std::to_string(rowBytes) +
                      " bytes is not a power of two");
  if (elemLog < 0 || elemLog > 4)
    return R::failure("element size " + std::to_string(elementBytes) +
                      " bytes is not a power of two up to 16");
  // Byte offsets: 16-byte chunks are bits [4, 7) of a 128-byte line; the row
  // index starts at bit rowLog. XOR the row bits into the chunk bits.
  if (rowLog <= 4)
    return Swizzle{};
  int64_t bits = std::min<int64_t>(3, rowLog - 4);
  int64_t shift = std::max<int64_t>(3, rowLog - 4);
  return Swizzle{bits, 4 - elemLog, shift};
}

SharedLayout SharedLayout::rowMajor(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    strides[d] = stride;
    stride *= shape[d];
  }
  return *strided(shape, strides);
}

SharedLayout SharedLayout::columnMajor(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    strides[d] = stride;
    stride *= shape[d];
  }
  return *strided(shape, strides);
}

LayoutResult<SharedLayout>
SharedLayout::strided(const std::vector<int64_t> &shape,
                      const std::vector<int64_t> &strides) {
  if (shape.size() != strides.size())
    return LayoutResult<SharedLayout>::failure(std::to_string(strides.size()) +
                                               " strides for a shape of rank " +
                                               std::to_string(shape.size()));
  std::vector<std::vector<SharedMode>> modes;
  for (size_t d = 0; d < shape.size(); ++d)
    modes.push_back({SharedMode{shape[d], strides[d]}});
  return create(shape, std::move(modes));
}

LayoutResult<SharedLayout>
SharedLayout::create(std::vector<int64_t> shape,
                     std::vector<std::vector<SharedMode>> modes, int64_t offset,
                     Swizzle swizzle) {
  using R = LayoutResult<SharedLayout>;
  if (modes.size() != shape.size())
    return R::failure(std::to_string(modes.size()) +
                      " mode lists for a shape of rank " +
                      std::to_string(shape.size()));
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 1)
      return R::failure("shape entries must be positive, got " +
                        std::to_string(shape[d]));
    int64_t product = 1;
    for (const SharedMode &m : modes[d]) {
      if (m.size < 1 || m.stride < 0)
        return R::failure("mode " + std::to_string(m.size) + ":" +
                          std::to_string(m.stride) +
                          " needs a positive size and a non-negative stride");
      product *= m.size;
    }
    if (product != shape[d])
      return R::failure("modes of dimension " + std::to_string(d) +
                        " multiply to " + std::to_string(product) +
                        ", not its size " + std::to_string(shape[d]));
  }
  if (offset < 0)
    return R::failure("offset must be non-negative, got " +
                      std::to_string(offset));
  SharedLayout layout;
  layout.shapeV = std::move(shape);
  layout.modesV = std::move(modes);
  layout.offsetV = offset;
  layout.canonicalize();
  return layout.withSwizzle(swizzle);
}

LayoutResult<SharedLayout>
SharedLayout::swizzledRowMajor(int64_t rows, int64_t cols,
                               int64_t elementBytes) {
  LayoutResult<Swizzle> swizzle =
      bankConflictFreeSwizzle(cols * elementBytes, elementBytes);
  if (!swizzle)
    return swizzle.error();
  return rowMajor({rows, cols}).withSwizzle(*swizzle);
}

LayoutResult<SharedLayout> SharedLayout::withSwizzle(Swizzle swizzle) const {
  using R = LayoutResult<SharedLayout>;
  if (swizzle.bits < 0 || swizzle.base < 0 || swizzle.shift < 0 ||
      swizzle.bits + swizzle.base + swizzle.shift > 40)
    return R::failure("swizzle parameters must be non-negative and small");
  if (swizzle.bits > 0 && swizzle.shift == 0)
    return R::failure("a swizzle with bits > 0 needs a positive shift");
  SharedLayout result = *this;
  result.swizzleV = swizzle.bits ? swizzle : Swizzle{};
  return result;
}

LayoutResult<SharedLayout> SharedLayout::withOffset(int64_t offset) const {
  if (offset < 0)
    return LayoutResult<SharedLayout>::failure(
        "offset must be non-negative, got " + std::to_string(offset));
  SharedLayout result = *this;
  result.offsetV = offset;
  return result;
}

void SharedLayout::canonicalize() {
  for (std::vector<SharedMode> &dimModes : modesV) {
    std::vector<SharedMode> merged;
    for (const SharedMode &m : dimModes) {
      if (m.size == 1)
        continue;
      if (!merged.empty() && merged.back().stride == m.size * m.stride) {
        merged.back() = SharedMode{merged.back().size * m.size, m.stride};
        continue;
      }
      merged.push_back(m);
    }
    dimModes = std::move(merged);
  }
}

int64_t SharedLayout::size() const {
  int64_t n = 1;
  for (int64_t s : shapeV)
    n *= s;
  return n;
}

int64_t SharedLayout::offsetOf(const int64_t *index) const {
  int64_t offset = offsetV;
  for (size_t d = 0; d < modesV.size(); ++d) {
    int64_t x = index[d];
    for (size_t k = modesV[d].size(); k-- > 0;) {
      const SharedMode &m = modesV[d][k];
      offset += x % m.size * m.stride;
      x /= m.size;
    }
  }
  return swizzleV.apply(offset);
}

int64_t SharedLayout::cosize() const {
  int64_t last = offsetV;
  for (const std::vector<SharedMode> &dimModes : modesV)
    for (const SharedMode &m : dimModes)
      last += (m.size - 1) * m.stride;
  return last + 1;
}

std::optional<SharedLayout::Collision> SharedLayout::findCollision() const {
  int64_t n = size();
  if (n > kMaxCheckedElements)
    return std::nullopt;
  std::unordered_map<int64_t, int64_t> owner; // offset -> linear index
  owner.reserve(n);
  std::vector<int64_t> index(rank(), 0);
  auto delinearize = [&](int64_t linear) {
    std::vector<int64_t> result(rank());
    for (size_t d = rank(); d-- > 0;) {
      result[d] = linear % shapeV[d];
      linear /= shapeV[d];
    }
    return result;
  };
  for (int64_t linear = 0; linear < n; ++linear) {
    int64_t offset = offsetOf(index.data());
    auto [it, inserted] = owner.try_emplace(offset, linear);
    if (!inserted)
      return Collision{index, delinearize(it->second), offset};
    for (size_t d = rank(); d-- > 0;) {
      if (++index[d] < shapeV[d])
        break;
      index[d] = 0;
    }
  }
  return std::nullopt;
}

LayoutResult<SharedLayout>
SharedLayout::compose(const SharedLayout &inner) const {
  using R = LayoutResult<SharedLayout>;
  if (!swizzleV.isIdentity())
    return R::failure("the outer layout of a composition must not be swizzled");
  if (offsetV != 0 || inner.offsetV != 0)
    return R::failure("layouts with an offset cannot be composed");
  int64_t innerCosize = inner.cosize();
  if (innerCosize % inner.swizzleV.span() != 0)
    return R::failure("the inner layout's swizzle span " +
                      std::to_string(inner.swizzleV.span()) +
                      " does not divide its extent " +
                      std::to_string(innerCosize));
  size_t rank = std::max(this->rank(), inner.rank());
  size_t padO = rank - this->rank(), padI = rank - inner.rank();
  std::vector<int64_t> shape(rank, 1);
  std::vector<std::vector<SharedMode>> modes(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (d >= padO) {
      shape[d] *= shapeV[d - padO];
      for (const SharedMode &m : modesV[d - padO])
        modes[d].push_back(SharedMode{m.size, m.stride * innerCosize});
    }
    if (d >= padI) {
      shape[d] *= inner.shapeV[d - padI];
      for (const SharedMode &m : inner.modesV[d - padI])
        modes[d].push_back(m);
    }
  }
  return create(std::move(shape), std::move(modes), 0, inner.swizzleV);
}

LayoutResult<SharedLayout>
SharedLayout::slice(const std::vector<int64_t> &begin,
                    const std::vector<int64_t> &extent) const {
  using R = LayoutResult<SharedLayout>;
  if (begin.size() != rank() || extent.size() != rank())
    return R::failure("slice of rank " + std::to_string(begin.size()) + "/" +
                      std::to_string(extent.size()) + " for a layout of rank " +
                      std::to_string(rank()));
  std::vector<std::vector<SharedMode>> modes(rank());
  std::vector<int64_t> origin(rank());
  for (size_t d = 0; d < rank(); ++d) {
    if (extent[d] < 1 || begin[d] < 0 || begin[d] + extent[d] > shapeV[d])
      return R::failure("slice [" + std::to_string(begin[d]) + ", " +
                        std::to_string(begin[d] + extent[d]) +
                        ") is out of range for dimension " + std::to_string(d) +
                        " of size " + std::to_string(shapeV[d]));
    if (begin[d] % extent[d] != 0)
      return R::failure("slice start " + std::to_string(begin[d]) +
                        " of dimension " + std::to_string(d) +
                        " is not a multiple of its extent " +
                        std::to_string(extent[d]));
    int64_t rem = extent[d];
    for (size_t k = modesV[d].size(); k-- > 0 && rem > 1;) {
      const SharedMode &m = modesV[d][k];
      if (rem % m.size == 0) {
        modes[d].insert(modes[d].begin(), m);
        rem /= m.size;
      } else if (m.size % rem == 0) {
        modes[d].insert(modes[d].begin(), SharedMode{rem, m.stride});
        rem = 1;
      } else {
        return R::failure("slice extent " + std::to_string(extent[d]) +
                          " straddles a mode of size " +
                          std::to_string(m.size) + " in dimension " +
                          std::to_string(d));
      }
    }
    origin[d] = begin[d];
  }
  // The sub-tile's inner digits start at zero, so its base is the unswizzled
  // offset of `begin`.
  int64_t base = offsetV;
  for (size_t d = 0; d < rank(); ++d) {
    int64_t x = origin[d];
    for (size_t k = modesV[d].size(); k-- > 0;) {
      base += x % modesV[d][k].size * modesV[d][k].stride;
      x /= modesV[d][k].size;
    }
  }
  return create(extent, std::move(modes), base, swizzleV);
}

size_t SharedLayout::hash() const {
  size_t seed = shapeV.size();
  auto mix = [&](int64_t v) {
    seed ^= std::hash<int64_t>()(v) + 0x9e3779b97f4a7c15ULL + (seed << 6) +
            (seed >> 2);
  };
  for (int64_t s : shapeV)
    mix(s);
  for (const std::vector<SharedMode> &dimModes : modesV) {
    mix(static_cast<int64_t>(dimModes.size()));
    for (const SharedMode &m : dimModes) {
      mix(m.size);
      mix(m.stride);
    }
  }
  mix(offsetV);
  mix(swizzleV.bits);
  mix(swizzleV.base);
  mix(swizzleV.shift);
  return seed;
}

std::string SharedLayout::str() const {
  std::string s = "shared(" + joinInts(shapeV) + ")";
  bool simple = true;
  std::vector<int64_t> strides;
  for (size_t d = 0; d < rank(); ++d) {
    if (modesV[d].size() > 1)
      simple = false;
    strides.push_back(modesV[d].empty() ? 0 : modesV[d][0].stride);
  }
  auto sameStrides = [&](const SharedLayout &ref) {
    for (size_t d = 0; d < rank(); ++d)
      if (shapeV[d] > 1 && strides[d] != ref.modesV[d][0].stride)
        return false;
    return true;
  };
  if (simple && sameStrides(rowMajor(shapeV))) {
    s += ".row_major()";
  } else if (simple && sameStrides(columnMajor(shapeV))) {
    s += ".column_major()";
  } else if (simple) {
    s += ".strides(" + joinInts(strides) + ")";
  } else {
    s += ".modes(";
    for (size_t d = 0; d < rank(); ++d) {
      s += d ? ",[" : "[";
      for (size_t k = 0; k < modesV[d].size(); ++k)
        s += (k ? "," : "") + std::to_string(modesV[d][k].size) + ":" +
             std::to_string(modesV[d][k].stride);
      s += "]";
    }
    s += ")";
  }
  if (offsetV)
    s += ".offset(" + std::to_string(offsetV) + ")";
  if (!swizzleV.isIdentity())
    s += ".swizzle(" + std::to_string(swizzleV.bits) + "," +
         std::to_string(swizzleV.base) + "," + std::to_string(swizzleV.shift) +
         ")";
  return s;
}
