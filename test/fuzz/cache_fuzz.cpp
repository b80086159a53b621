//===- cache_fuzz.cpp - libFuzzer target: kernel cache entries ------------===//
//
// Reads the input as an on-disk kernel cache entry (runtime/jit/KernelCache:
// JSON, the kernels' KernelInfo, the content hash) and as the KernelInfo JSON
// alone (the runtime core's reader, also used for a precompiled kernel's
// metadata), and evaluates each kernel's grid expressions as a launch would.
// An entry that is read must write back to an entry that reads the same.
//
//===----------------------------------------------------------------------===//

#include "runtime/jit/KernelCache.h"
#include "tilus/KernelInfo.h"
#include "tilus/Runtime.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

/// Grid and shape expressions name integer parameters: give every parameter
/// a value, and size each tensor as a launch's checks do.
void evaluateGrids(const std::vector<tilus::KernelInfo> &kernels) {
  for (const tilus::KernelInfo &kernel : kernels) {
    std::vector<std::pair<std::string, int64_t>> values;
    int64_t value = 1;
    for (const auto &param : kernel.params)
      values.emplace_back(param.name, value++);
    for (const std::string &extent : kernel.grid)
      (void)tilus::evaluateExpr(extent, values);
    for (const auto &param : kernel.params) {
      uint64_t count = 1;
      for (const std::string &extent : param.shape) {
        tilus::Expected<int64_t> n = tilus::evaluateExpr(extent, values);
        if (n && *n > 0 && *n < (int64_t(1) << 20))
          count = std::min(count * uint64_t(*n), uint64_t(1) << 40);
      }
      (void)tilus::storageBytes(param.dtype, count);
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  std::string error;
  if (std::optional<tilus::CompiledModule> module =
          tilus::jit::parseEntry(text, error)) {
    evaluateGrids(module->kernels);
    std::string again = tilus::jit::serializeEntry(*module);
    std::optional<tilus::CompiledModule> reread =
        tilus::jit::parseEntry(again, error);
    if (!reread || reread->ptx != module->ptx ||
        tilus::toJson(reread->kernels) != tilus::toJson(module->kernels))
      __builtin_trap();
  } else if (error.empty()) {
    // A rejected entry is reported with its reason.
    __builtin_trap();
  }
  std::vector<tilus::KernelInfo> kernels;
  if (tilus::fromJson(text, kernels, error))
    evaluateGrids(kernels);
  return 0;
}
