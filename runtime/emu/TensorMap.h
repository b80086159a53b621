//===- TensorMap.h - The emulator's encoding of a CUtensorMap ---*- C++ -*-===//
//
// cp.async.bulk.tensor (the TMA unit) reads a 128-byte tensor map, 64-byte
// aligned, in global, constant or kernel-parameter memory. On a GPU it is
// written by the driver's cuTensorMapEncodeTiled and its layout is opaque;
// the emulator defines its own, written by encodeTensorMap with the same
// arguments (and the same checks on them) as cuTensorMapEncodeTiled.
// Little-endian, offsets in bytes:
//
//     0  u64  globalAddress
//     8  u64  globalDim[5]         elements, innermost dimension first
//    48  u64  globalStrides[4]     bytes, of dimensions 1 to rank-1
//    80  u16  boxDim[5]            elements
//    90  u8   elementStrides[5]
//    95  u8   rank                 1 to 5
//    96  u8   dataType             CUtensorMapDataType's value
//    97  u8   interleave           CUtensorMapInterleave's value (0 only)
//    98  u8   swizzle              CUtensorMapSwizzle's value (0 to 3)
//    99  u8   l2Promotion          CUtensorMapL2promotion's value (a hint)
//   100  u8   oobFill              CUtensorMapFloatOOBfill's value
//   101       zeros
//   124  u32  0x50414d54 ("TMAP"), which marks an encoded map
//
// Dimensions past the rank hold 0 (globalDim, boxDim) and 1
// (elementStrides). The enums have the values of cuda.h's, so a host
// program passes the same arguments to either.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_EMU_TENSORMAP_H
#define TILUS_RUNTIME_EMU_TENSORMAP_H

#include "tilus/Status.h"

#include <cstdint>

namespace tilus::emu {

/// CUtensorMapDataType (the element types up to TFLOAT32_FTZ).
enum class TensorMapDataType : uint32_t {
  UInt8 = 0,
  UInt16,
  UInt32,
  Int32,
  UInt64,
  Int64,
  Float16,
  Float32,
  Float64,
  BFloat16,
  Float32Ftz,
  TFloat32,
  TFloat32Ftz,
};
/// CUtensorMapInterleave.
enum class TensorMapInterleave : uint32_t { None = 0, B16, B32 };
/// CUtensorMapSwizzle: 16-byte chunks swizzled within a 32, 64 or 128-byte
/// span (the sm_100 atom variants are not supported).
enum class TensorMapSwizzle : uint32_t { None = 0, B32, B64, B128 };
/// CUtensorMapL2promotion.
enum class TensorMapL2Promotion : uint32_t {
  None = 0,
  L2_64B,
  L2_128B,
  L2_256B
};
/// CUtensorMapFloatOOBfill.
enum class TensorMapOobFill : uint32_t { None = 0, NanRequestZeroFma };

constexpr uint32_t kTensorMapBytes = 128;
constexpr uint32_t kTensorMapMagic = 0x50414d54;

/// A decoded tensor map.
struct TensorMap {
  uint64_t globalAddress = 0;
  uint32_t rank = 0;
  uint64_t globalDim[5] = {};
  /// Bytes between consecutive elements of each dimension (strides[0] is
  /// the element size).
  uint64_t strides[5] = {};
  uint32_t boxDim[5] = {};
  uint32_t elementStrides[5] = {1, 1, 1, 1, 1};
  TensorMapDataType dataType = TensorMapDataType::UInt8;
  TensorMapSwizzle swizzle = TensorMapSwizzle::None;
  TensorMapOobFill oobFill = TensorMapOobFill::None;
  uint32_t elementBytes = 1;
  /// Elements a copy moves along dimension d: boxDim[d] for d = 0 (TMA has
  /// no stride in the innermost dimension), else ceil(boxDim / stride).
  uint32_t boxElements(uint32_t d) const {
    return d == 0 ? boxDim[0]
                  : (boxDim[d] + elementStrides[d] - 1) / elementStrides[d];
  }
};

/// The size in bytes of an element of \p t (0 for a value outside the enum).
uint32_t tensorMapElementBytes(TensorMapDataType t);

/// Writes the 128 bytes of \p tensorMap as the layout above, after the
/// checks cuTensorMapEncodeTiled makes on its arguments (rank, alignment of
/// the address and strides, ranges of the dimensions, box and element
/// strides, the swizzle span); an error names the rule and the value.
Status encodeTensorMap(void *tensorMap, TensorMapDataType dataType,
                       uint32_t rank, uint64_t globalAddress,
                       const uint64_t *globalDim, const uint64_t *globalStrides,
                       const uint32_t *boxDim, const uint32_t *elementStrides,
                       TensorMapInterleave interleave, TensorMapSwizzle swizzle,
                       TensorMapL2Promotion l2Promotion,
                       TensorMapOobFill oobFill);

/// Reads the 128 bytes at \p tensorMap; an error if they are not a map
/// that encodeTensorMap wrote.
Expected<TensorMap> decodeTensorMap(const void *tensorMap);

} // namespace tilus::emu

#endif // TILUS_RUNTIME_EMU_TENSORMAP_H
