//===- Ptx.h - What a PTX module asks of the driver -------------*- C++ -*-===//

#ifndef TILUS_RUNTIME_CORE_PTX_H
#define TILUS_RUNTIME_CORE_PTX_H

#include <optional>
#include <string>
#include <string_view>

namespace tilus {

/// Whether \p image is PTX text rather than an ELF cubin.
bool isPtx(std::string_view image);

/// The `.version` and `.target` directives of a PTX module.
struct PtxHeader {
  int major = 0, minor = 0; ///< PTX ISA version
  std::string target;       ///< "sm_80", "sm_90a", ...
};

/// Reads the header; std::nullopt when `.version` is missing.
std::optional<PtxHeader> parsePtxHeader(std::string_view ptx);

/// The oldest driver (cuDriverGetVersion encoding: 1000 * major + 10 *
/// minor) whose JIT accepts PTX ISA \p major.\p minor; 0 when unknown.
int minimumDriverForPtx(int major, int minor);

/// "12.4" for 12040.
std::string driverVersionText(int version);

/// The ptxas to run: $TILUS_PTXAS, else the first on PATH, else the
/// toolkit's /usr/local/cuda/bin/ptxas; "" when there is none.
std::string findPtxas();

/// The registers per thread that ptxas (findPtxas) gives kernel \p kernel
/// of \p ptx (`ptxas -v`), or std::nullopt when there is no ptxas or it
/// fails. Takes a second or so: cache the answer.
std::optional<int> ptxasRegisters(std::string_view ptx,
                                  const std::string &kernel);

} // namespace tilus

#endif // TILUS_RUNTIME_CORE_PTX_H
