//===- TargetInfo.h - Facts about the GPU targets ---------------*- C++ -*-===//

#ifndef TILUS_TARGET_TARGETINFO_H
#define TILUS_TARGET_TARGETINFO_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

namespace tilus {

/// One compilation target: an SM architecture and the facts code generation
/// depends on.
struct TargetInfo {
  llvm::StringRef arch;       ///< "sm_80", ..., "sm_90a"
  int computeCapability;      ///< 80, 86, 89, 90
  llvm::StringRef ptxFeature; ///< the PTX ISA version LLVM emits, "+ptx75"
  int maxSharedMemoryPerBlock; ///< bytes, with the opt-in carve-out

  /// Whether `stmatrix.sync.aligned.m8n8` exists (PTX ISA 9.7.14.5.16:
  /// sm_90 and above, PTX ISA 7.8).
  bool hasStmatrix() const { return computeCapability >= 90; }
  /// Whether `wgmma.mma_async` exists (PTX ISA 9.7.15: sm_90a only, the
  /// architecture-specific features of sm_90).
  bool hasWgmma() const { return arch == "sm_90a"; }
  /// Whether the TMA unit (`cp.async.bulk.tensor`) and mbarrier transaction
  /// counts (`mbarrier.arrive.expect_tx`, `try_wait`) exist: sm_90 and
  /// above, PTX ISA 8.0.
  bool hasTma() const { return computeCapability >= 90; }

  /// The target named `arch`, if supported.
  static std::optional<TargetInfo> lookup(llvm::StringRef arch);
  /// Every supported architecture name, in order.
  static llvm::ArrayRef<llvm::StringRef> supportedArchs();
};

} // namespace tilus

#endif // TILUS_TARGET_TARGETINFO_H
