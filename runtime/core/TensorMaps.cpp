//===- TensorMaps.cpp - Tensor maps of a kernel's TMA copies --------------===//

#include "runtime/core/TensorMaps.h"

#include "ir/dtype/DType.h"

#include <algorithm>

using namespace tilus;

namespace {

/// CUtensorMapDataType's value for an element type: the float types by
/// name, other types as unsigned integers of their width.
uint32_t tensorMapDataType(const DType &type) {
  std::string name = type.name();
  if (name == "f16")
    return 6; // CU_TENSOR_MAP_DATA_TYPE_FLOAT16
  if (name == "f32")
    return 7; // FLOAT32
  if (name == "bf16")
    return 9; // BFLOAT16
  if (name == "i32")
    return 3; // INT32
  if (name == "i64")
    return 5; // INT64
  switch (type.bitWidth()) {
  case 8:
    return 0; // UINT8
  case 16:
    return 1; // UINT16
  case 32:
    return 2; // UINT32
  default:
    return 4; // UINT64
  }
}

} // namespace

Expected<std::vector<uint8_t>>
tilus::buildTensorMap(Device &device, const TensorMapInfo &map, DevicePtr base,
                      const std::vector<int64_t> &extents) {
  std::string error;
  std::optional<DType> type = DType::parse(map.dtype, &error);
  if (!type)
    return Status::error("tensor map: " + error);
  unsigned bits = type->bitWidth();
  uint32_t rank = static_cast<uint32_t>(extents.size());
  if (bits % 8 != 0 || bits > 64 || rank < 1 || rank > 5 ||
      map.box.size() != rank)
    return Status::error("tensor map of " + map.dtype + "[" +
                         std::to_string(rank) +
                         " dims]: TMA needs 8 to 64-bit elements, rank 1 to "
                         "5 and a box of the tensor's rank");
  std::vector<uint8_t> bytes(128, 0);
  if (std::find(extents.begin(), extents.end(), 0) != extents.end())
    return bytes;
  uint64_t elementBytes = bits / 8;
  uint64_t dims[5] = {}, strides[4] = {};
  uint32_t box[5] = {}, elementStrides[5] = {1, 1, 1, 1, 1};
  uint64_t pitch = elementBytes;
  for (uint32_t d = 0; d < rank; ++d) {
    // Innermost first.
    dims[d] = static_cast<uint64_t>(extents[rank - 1 - d]);
    box[d] = static_cast<uint32_t>(map.box[rank - 1 - d]);
    if (d > 0)
      strides[d - 1] = pitch;
    pitch *= dims[d];
  }
  uint32_t swizzle = map.swizzle == 128 ? 3
                     : map.swizzle == 64 ? 2
                     : map.swizzle == 32 ? 1
                                         : 0;
  if (map.swizzle != 0 && swizzle == 0)
    return Status::error("tensor map: swizzle of " +
                         std::to_string(map.swizzle) +
                         " bytes (expected 0, 32, 64 or 128)");
  if (map.fill != "zero")
    return Status::error("tensor map: fill '" + map.fill +
                         "' (expected zero)");
  // CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
  // CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE (zeros).
  // CUtensorMap is 64-byte aligned, and both encoders require it.
  alignas(64) uint8_t encoded[128] = {};
  if (Status s = device.encodeTensorMapTiled(
          encoded, tensorMapDataType(*type), rank, base, dims, strides, box,
          elementStrides, /*interleave=*/0, swizzle, /*l2Promotion=*/2,
          /*oobFill=*/0);
      !s)
    return Status::error("tensor map: " + s.message());
  std::copy(encoded, encoded + 128, bytes.begin());
  return bytes;
}

Expected<std::vector<std::vector<uint8_t>>>
tilus::buildTensorMaps(Device &device, const KernelInfo &info,
                       const std::vector<Arg> &args) {
  std::vector<std::pair<std::string, int64_t>> values(info.constants.begin(),
                                                      info.constants.end());
  for (size_t i = 0; i < info.params.size() && i < args.size(); ++i)
    if (!info.params[i].isGlobal && args[i].kind == Arg::Kind::Int)
      values.emplace_back(info.params[i].name, args[i].intValue);
  std::vector<std::vector<uint8_t>> maps;
  for (const TensorMapInfo &map : info.tensorMaps) {
    if (map.param < 0 || size_t(map.param) >= info.params.size() ||
        size_t(map.param) >= args.size() || !info.params[map.param].isGlobal)
      return Status::error("kernel '" + info.name +
                           "': a tensor map names parameter " +
                           std::to_string(map.param) +
                           ", which is no global tensor");
    const ParamInfo &p = info.params[map.param];
    std::vector<int64_t> extents;
    for (const std::string &e : p.shape) {
      Expected<int64_t> v = evaluateExpr(e, values);
      if (!v)
        return Status::error("parameter '" + p.name +
                             "': " + v.error().message());
      extents.push_back(*v);
    }
    Expected<std::vector<uint8_t>> bytes =
        buildTensorMap(device, map, args[map.param].ptr, extents);
    if (!bytes)
      return Status::error("parameter '" + p.name +
                           "': " + bytes.error().message());
    maps.push_back(std::move(*bytes));
  }
  return maps;
}
