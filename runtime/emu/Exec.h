//===- Exec.h - The emulator's private state and executor -------*- C++ -*-===//

#ifndef TILUS_RUNTIME_EMU_EXEC_H
#define TILUS_RUNTIME_EMU_EXEC_H

#include "runtime/emu/Emulator.h"
#include "runtime/emu/Memory.h"
#include "runtime/emu/Program.h"

namespace tilus::emu {

struct Emulator::Impl {
  EmulatorOptions opts;
  GlobalMemory mem;
  LaunchStats stats;
  Report report;
  /// The environment errors of opts (EmulatorOptions::environmentError).
  Status checkEnvironment() const;
  /// Whether \p bytes more of global memory fit in the memory budget; the
  /// error says how much and names the budget.
  Status reserveGlobal(uint64_t bytes) const;
};

inline std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%llx", (unsigned long long)v);
  return buf;
}

/// Runs one launch of funcs[kernelIndex] of \p mod on \p dev.
Status runKernel(Emulator::Impl &dev, const detail::ModuleImpl &mod,
                 uint32_t kernelIndex, Dim3 grid, Dim3 block,
                 uint32_t dynamicSmemBytes,
                 const std::vector<ParamBytes> &params);

} // namespace tilus::emu

#endif // TILUS_RUNTIME_EMU_EXEC_H
