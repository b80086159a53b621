//===- TargetInfo.cpp - Facts about the GPU targets -----------------------===//

#include "target/TargetInfo.h"

using namespace tilus;

// PTX ISA 7.8 is the first with sm_89, 8.0 the first with sm_90/sm_90a; 7.5
// covers sm_80/sm_86 and every instruction tilus emits there. Shared memory
// limits are from the CUDA programming guide's table of compute capabilities.
static const TargetInfo kTargets[] = {
    {"sm_80", 80, "+ptx75", 163 * 1024},
    {"sm_86", 86, "+ptx75", 99 * 1024},
    {"sm_89", 89, "+ptx78", 99 * 1024},
    {"sm_90", 90, "+ptx80", 227 * 1024},
    {"sm_90a", 90, "+ptx80", 227 * 1024},
};

std::optional<TargetInfo> TargetInfo::lookup(llvm::StringRef arch) {
  for (const TargetInfo &target : kTargets)
    if (target.arch == arch)
      return target;
  return std::nullopt;
}

llvm::ArrayRef<llvm::StringRef> TargetInfo::supportedArchs() {
  static const llvm::StringRef kNames[] = {"sm_80", "sm_86", "sm_89", "sm_90",
                                           "sm_90a"};
  return kNames;
}
