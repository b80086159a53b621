//===- KernelInfo.h - What the host must know about a kernel ----*- C++ -*-===//
//
// The compiler produces one KernelInfo per kernel; the runtime uses it to
// check launch arguments and compute the grid. Standard library only: the
// runtime core reads it where no compiler exists, from the JSON form that
// `toJson` writes next to a kernel's PTX.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_KERNELINFO_H
#define TILUS_KERNELINFO_H

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tilus {

/// One run-time parameter of a kernel, in order.
struct ParamInfo {
  std::string name;
  bool isGlobal = false; ///< a pointer to a global tensor, else a scalar
  std::string dtype;     ///< element type of a tensor, type of a scalar
  /// Extents of a global tensor, outermost first, each an expression like
  /// the grid's: a decimal integer, an integer scalar parameter's name, ...
  std::vector<std::string> shape;
  /// A scalar's value is a multiple of this (`n: i32 %128`); 1 when unstated.
  int64_t divisibility = 1;
  /// A global tensor the kernel may store to. False only when the compiler
  /// saw that the kernel reads it alone; metadata without the field (older
  /// files, hand-written ones) counts as written.
  bool written = true;
};

/// A CUtensorMap that the kernel takes as a hidden parameter, after its
/// `params`, in this order: a 128-byte, 64-byte aligned by-value parameter
/// that the runtime builds at launch (runtime/core/TensorMaps.cpp) from the
/// buffer and shape of a global tensor parameter. Used by copy_tma.
struct TensorMapInfo {
  int param = 0;     ///< index in `params` of the global tensor it maps
  std::string dtype; ///< element type (8, 16, 32 or 64 bits)
  /// The box a copy moves, in elements, outermost first (the shared
  /// tensor's shape).
  std::vector<int64_t> box;
  int swizzle = 0; ///< TMA swizzle span in bytes: 0, 32, 64 or 128
  /// Out-of-bounds elements: "zero" (TMA's FLOAT_OOB_FILL_NONE).
  std::string fill = "zero";
};

struct KernelInfo {
  std::string name; ///< the PTX entry name
  std::vector<ParamInfo> params;
  /// Grid extents as expressions over integer scalar parameters, with
  /// integers, + - * / % (C semantics) and cdiv/min/max.
  std::array<std::string, 3> grid = {"1", "1", "1"};
  int numThreads = 0;                       ///< threads per block (a 1-d block)
  int sharedBytes = 0;                      ///< dynamic shared memory per block
  std::string arch;                         ///< "sm_80", ...
  std::map<std::string, int64_t> constants; ///< compile-time parameters
  std::vector<TensorMapInfo> tensorMaps;    ///< hidden parameters, in order
};

/// The JSON form of \p kernels: `{"kernels": [{"name": ..., "params": [...],
/// "grid": [...], "numThreads": N, "sharedBytes": N, "arch": ...,
/// "constants": {...}, "tensorMaps": [{"param": N, "dtype": ..., "box": [...],
/// "swizzle": N, "fill": "zero"}]}]}` ("tensorMaps" only when there are
/// some), keys in a fixed order so equal kernels give equal text.
std::string toJson(const std::vector<KernelInfo> &kernels);

/// Parses what `toJson` writes. On failure returns false and sets \p error
/// to a one-line message (what is wrong, and where).
bool fromJson(std::string_view text, std::vector<KernelInfo> &kernels,
              std::string &error);

} // namespace tilus

#endif // TILUS_KERNELINFO_H
