//===- Device.cpp - Choosing a device by name -----------------------------===//

#include "runtime/core/EmuDevice.h"
#include "runtime/cuda/CudaDevice.h"

#include <cstdlib>
#include <iostream>
#include <mutex>

using namespace tilus;

Expected<std::unique_ptr<Device>> tilus::createDevice(std::string_view name) {
  std::string chosen(name);
  if (chosen.empty())
    if (const char *env = std::getenv("TILUS_DEVICE"))
      chosen = env;
  if (chosen == "emu")
    return createEmuDevice();
  if (chosen == "cuda")
    return createCudaDevice(0);
  if (chosen.rfind("cuda:", 0) == 0) {
    std::string ordinal = chosen.substr(5);
    if (ordinal.empty() ||
        ordinal.find_first_not_of("0123456789") != std::string::npos ||
        ordinal.size() > 4)
      return Status::error("bad device '" + chosen + "'; expected cuda:N");
    return createCudaDevice(std::stoi(ordinal));
  }
  if (!chosen.empty())
    return Status::error("unknown device '" + chosen +
                         "'; expected cuda, cuda:N or emu");
  Expected<std::unique_ptr<Device>> cuda = createCudaDevice(0);
  if (cuda)
    return cuda;
  // Once per process: a program may create many devices.
  static std::once_flag noted;
  std::call_once(noted, [&] {
    std::cerr << "tilus: note: running on the emulator (" +
                     cuda.error().message() + ")\n";
  });
  return createEmuDevice();
}
