//===- CudaDevice.h - A GPU through the CUDA Driver API ---------*- C++ -*-===//

#ifndef TILUS_RUNTIME_CUDA_CUDADEVICE_H
#define TILUS_RUNTIME_CUDA_CUDADEVICE_H

#include "tilus/Runtime.h"

namespace tilus {

/// The GPU of ordinal \p ordinal, in its primary context (the one PyTorch
/// uses, so device pointers are shared). The driver is loaded with dlopen
/// on first use, from `TILUS_LIBCUDA` when set, else libcuda.so.1. Without a
/// usable driver or GPU the error starts "NVIDIA driver not available: " or
/// "no NVIDIA GPU: " and says what is missing.
Expected<std::unique_ptr<Device>> createCudaDevice(int ordinal);

} // namespace tilus

#endif // TILUS_RUNTIME_CUDA_CUDADEVICE_H
