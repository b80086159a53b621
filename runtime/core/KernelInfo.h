//===- KernelInfo.h - What the host must know about a kernel ----*- C++ -*-===//
//
// The definition is public (include/tilus/KernelInfo.h), installed with the
// runtime's API; the compiler includes it from here.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_CORE_KERNELINFO_H
#define TILUS_RUNTIME_CORE_KERNELINFO_H

#include "tilus/KernelInfo.h"

#endif // TILUS_RUNTIME_CORE_KERNELINFO_H
