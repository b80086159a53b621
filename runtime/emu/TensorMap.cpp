//===- TensorMap.cpp - Encoding and decoding the emulator's tensor maps ---===//
//
// The layout is in TensorMap.h. The checks are cuTensorMapEncodeTiled's, as
// cuda.h documents them, for the element types and modes the emulator
// copies (interleave none; swizzle none, 32, 64 or 128 bytes).
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/TensorMap.h"

#include <cstring>
#include <string>

namespace tilus::emu {
namespace {

constexpr size_t kAddress = 0, kDims = 8, kStrides = 48, kBox = 80,
                 kElementStrides = 90, kRank = 95, kDataType = 96,
                 kInterleave = 97, kSwizzle = 98, kL2 = 99, kOob = 100,
                 kMagic = 124;

template <typename T> void put(uint8_t *p, size_t at, T v) {
  std::memcpy(p + at, &v, sizeof(T));
}
template <typename T> T get(const uint8_t *p, size_t at) {
  T v;
  std::memcpy(&v, p + at, sizeof(T));
  return v;
}

Status bad(const std::string &what) {
  return Status::error("encodeTensorMap: " + what);
}

bool isFloatType(TensorMapDataType t) {
  switch (t) {
  case TensorMapDataType::Float16:
  case TensorMapDataType::Float32:
  case TensorMapDataType::Float64:
  case TensorMapDataType::BFloat16:
  case TensorMapDataType::Float32Ftz:
  case TensorMapDataType::TFloat32:
  case TensorMapDataType::TFloat32Ftz:
    return true;
  default:
    return false;
  }
}

} // namespace

uint32_t tensorMapElementBytes(TensorMapDataType t) {
  switch (t) {
  case TensorMapDataType::UInt8:
    return 1;
  case TensorMapDataType::UInt16:
  case TensorMapDataType::Float16:
  case TensorMapDataType::BFloat16:
    return 2;
  case TensorMapDataType::UInt32:
  case TensorMapDataType::Int32:
  case TensorMapDataType::Float32:
  case TensorMapDataType::Float32Ftz:
  case TensorMapDataType::TFloat32:
  case TensorMapDataType::TFloat32Ftz:
    return 4;
  case TensorMapDataType::UInt64:
  case TensorMapDataType::Int64:
  case TensorMapDataType::Float64:
    return 8;
  }
  return 0;
}

Status encodeTensorMap(void *tensorMap, TensorMapDataType dataType,
                       uint32_t rank, uint64_t globalAddress,
                       const uint64_t *globalDim, const uint64_t *globalStrides,
                       const uint32_t *boxDim, const uint32_t *elementStrides,
                       TensorMapInterleave interleave, TensorMapSwizzle swizzle,
                       TensorMapL2Promotion l2Promotion,
                       TensorMapOobFill oobFill) {
  if (reinterpret_cast<uintptr_t>(tensorMap) % 64)
    return bad("the tensor map must be 64-byte aligned");
  uint32_t esize = tensorMapElementBytes(dataType);
  if (!esize)
    return bad("unsupported data type " + std::to_string(uint32_t(dataType)));
  if (rank < 1 || rank > 5)
    return bad("rank " + std::to_string(rank) + " (must be 1 to 5)");
  if (interleave != TensorMapInterleave::None)
    return bad("interleaved layouts are not supported by the emulator");
  if (uint32_t(swizzle) > uint32_t(TensorMapSwizzle::B128))
    return bad("swizzle mode " + std::to_string(uint32_t(swizzle)) +
               " is not supported by the emulator (none, 32B, 64B, 128B)");
  if (uint32_t(l2Promotion) > uint32_t(TensorMapL2Promotion::L2_256B))
    return bad("L2 promotion " + std::to_string(uint32_t(l2Promotion)));
  if (uint32_t(oobFill) > uint32_t(TensorMapOobFill::NanRequestZeroFma))
    return bad("OOB fill " + std::to_string(uint32_t(oobFill)));
  if (oobFill == TensorMapOobFill::NanRequestZeroFma && !isFloatType(dataType))
    return bad("NaN OOB fill needs a floating-point data type");
  if (globalAddress % 16)
    return bad("globalAddress " + std::to_string(globalAddress) +
               " is not 16-byte aligned");
  for (uint32_t d = 0; d < rank; ++d) {
    std::string dim = "[" + std::to_string(d) + "]";
    if (globalDim[d] == 0 || globalDim[d] > (1ull << 32))
      return bad("globalDim" + dim + " = " + std::to_string(globalDim[d]) +
                 " (must be 1 to 2^32)");
    if (boxDim[d] == 0 || boxDim[d] > 256)
      return bad("boxDim" + dim + " = " + std::to_string(boxDim[d]) +
                 " (must be 1 to 256)");
    if (elementStrides[d] == 0 || elementStrides[d] > 8)
      return bad("elementStrides" + dim + " = " +
                 std::to_string(elementStrides[d]) + " (must be 1 to 8)");
    if (d + 1 < rank &&
        (globalStrides[d] % 16 || globalStrides[d] >= (1ull << 40)))
      return bad("globalStrides" + dim + " = " +
                 std::to_string(globalStrides[d]) +
                 " (must be a multiple of 16 below 2^40)");
  }
  uint64_t inner = uint64_t(boxDim[0]) * esize;
  if (inner % 16)
    return bad("boxDim[0] * element size = " + std::to_string(inner) +
               " bytes (must be a multiple of 16)");
  uint64_t span =
      swizzle == TensorMapSwizzle::None ? 0 : 16u << uint32_t(swizzle);
  if (span && inner > span)
    return bad("the box's inner dimension is " + std::to_string(inner) +
               " bytes, more than the " + std::to_string(span) +
               "-byte swizzle span");
  auto *p = static_cast<uint8_t *>(tensorMap);
  std::memset(p, 0, kTensorMapBytes);
  put(p, kAddress, globalAddress);
  for (uint32_t d = 0; d < 5; ++d) {
    bool in = d < rank;
    put(p, kDims + 8 * d, in ? globalDim[d] : uint64_t(0));
    if (d < 4)
      put(p, kStrides + 8 * d, d + 1 < rank ? globalStrides[d] : uint64_t(0));
    put(p, kBox + 2 * d, uint16_t(in ? boxDim[d] : 0));
    put(p, kElementStrides + d, uint8_t(in ? elementStrides[d] : 1));
  }
  put(p, kRank, uint8_t(rank));
  put(p, kDataType, uint8_t(dataType));
  put(p, kInterleave, uint8_t(interleave));
  put(p, kSwizzle, uint8_t(swizzle));
  put(p, kL2, uint8_t(l2Promotion));
  put(p, kOob, uint8_t(oobFill));
  put(p, kMagic, kTensorMapMagic);
  return Status::success();
}

Expected<TensorMap> decodeTensorMap(const void *tensorMap) {
  const auto *p = static_cast<const uint8_t *>(tensorMap);
  if (get<uint32_t>(p, kMagic) != kTensorMapMagic)
    return Status::error("not a tensor map written by encodeTensorMap (no "
                         "'TMAP' mark at byte 124)");
  TensorMap m;
  m.globalAddress = get<uint64_t>(p, kAddress);
  m.rank = p[kRank];
  m.dataType = TensorMapDataType(p[kDataType]);
  m.swizzle = TensorMapSwizzle(p[kSwizzle]);
  m.oobFill = TensorMapOobFill(p[kOob]);
  m.elementBytes = tensorMapElementBytes(m.dataType);
  if (m.rank < 1 || m.rank > 5 || !m.elementBytes || p[kInterleave] ||
      p[kSwizzle] > 3 || p[kOob] > 1)
    return Status::error("a corrupt tensor map (rank, data type or mode out "
                         "of range)");
  m.strides[0] = m.elementBytes;
  for (uint32_t d = 0; d < m.rank; ++d) {
    m.globalDim[d] = get<uint64_t>(p, kDims + 8 * d);
    if (d > 0)
      m.strides[d] = get<uint64_t>(p, kStrides + 8 * (d - 1));
    m.boxDim[d] = get<uint16_t>(p, kBox + 2 * d);
    m.elementStrides[d] = p[kElementStrides + d];
    if (!m.globalDim[d] || !m.boxDim[d] || m.boxDim[d] > 256 ||
        !m.elementStrides[d] || m.elementStrides[d] > 8)
      return Status::error("a corrupt tensor map (dimension " +
                           std::to_string(d) + " out of range)");
  }
  return m;
}

} // namespace tilus::emu
