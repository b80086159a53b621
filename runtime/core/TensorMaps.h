//===- TensorMaps.h - Tensor maps of a kernel's TMA copies ------*- C++ -*-===//
//
// A kernel whose copy_tma ops read global tensors takes one hidden
// 128-byte parameter per (tensor, box, swizzle) after its own
// (KernelInfo::tensorMaps). These build them at launch from the tensor
// arguments, through Device::encodeTensorMapTiled: the driver's
// cuTensorMapEncodeTiled on a GPU, the emulator's encoding on emu.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_CORE_TENSORMAPS_H
#define TILUS_RUNTIME_CORE_TENSORMAPS_H

#include "tilus/KernelInfo.h"
#include "tilus/Runtime.h"

#include <cstdint>
#include <vector>

namespace tilus {

/// The 128 bytes of the tensor map \p map describes over the global tensor
/// at \p base with \p extents (elements, outermost first, as the parameter's
/// shape): a row-major tensor, box and swizzle from \p map, zero fill out of
/// bounds. A tensor with an empty extent gets a map of zeros (a launch that
/// copies from it has nothing to copy).
Expected<std::vector<uint8_t>> buildTensorMap(Device &device,
                                              const TensorMapInfo &map,
                                              DevicePtr base,
                                              const std::vector<int64_t> &extents);

/// The hidden parameters of \p info for a launch with \p args (already
/// checked against \p info's params), in order.
Expected<std::vector<std::vector<uint8_t>>>
buildTensorMaps(Device &device, const KernelInfo &info,
                const std::vector<Arg> &args);

} // namespace tilus

#endif // TILUS_RUNTIME_CORE_TENSORMAPS_H
