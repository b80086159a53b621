//===- KernelInfo.h - What the host must know about a kernel ----*- C++ -*-===//
//
// The compiler produces one KernelInfo per kernel; the runtime uses it to
// check launch arguments and compute the grid. Standard library only: the
// runtime core reads it where no compiler exists.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_CORE_KERNELINFO_H
#define TILUS_RUNTIME_CORE_KERNELINFO_H

#include <array>
#include <cstdint>
#include <map>
#include <string>
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
};

struct KernelInfo {
  std::string name;                  ///< the PTX entry name
  std::vector<ParamInfo> params;
  /// Grid extents as expressions over integer scalar parameters, with
  /// integers, + - * / % (C semantics) and cdiv/min/max.
  std::array<std::string, 3> grid = {"1", "1", "1"};
  int numThreads = 0;                ///< threads per block (a 1-d block)
  int sharedBytes = 0;               ///< dynamic shared memory per block
  std::string arch;                  ///< "sm_80", ...
  std::map<std::string, int64_t> constants; ///< compile-time parameters
};

} // namespace tilus

#endif // TILUS_RUNTIME_CORE_KERNELINFO_H
