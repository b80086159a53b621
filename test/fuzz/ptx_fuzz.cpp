//===- ptx_fuzz.cpp - libFuzzer target: the PTX parser and the emulator ---===//
//
// Loads the input as a PTX module into the emulator and launches its first
// kernel on one CTA of 64 threads, every pointer parameter a small zeroed
// buffer and every other parameter zero bytes. Steps are bounded (the
// no-progress limit and a cap on warp-instructions), so a spinning kernel
// ends with an error, not a timeout. A failed load or launch must say why.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Emulator.h"

#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>
#include <vector>

using namespace tilus::emu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view ptx(reinterpret_cast<const char *>(data), size);
  EmulatorOptions options;
  options.maxSteps = 5000;
  options.maxWarpInstructions = 20000;
  options.printfSink = [](std::string_view) {};
  options.numSms = 1;
  Emulator emu(options);
  Expected<Module> module = emu.loadModule(ptx, "fuzz.ptx");
  if (!module) {
    if (module.error().message().empty())
      __builtin_trap();
    return 0;
  }
  std::vector<std::string> names = module->kernelNames();
  if (names.empty())
    return 0;
  Expected<Kernel> kernel = module->kernel(names.front());
  if (!kernel)
    return 0;
  std::vector<ParamBytes> params;
  for (const ParamInfo &info : kernel->params()) {
    ParamBytes p;
    if (info.size == 8) {
      // Pointers are 8 bytes; so are other 8-byte scalars, for which an
      // address is as good a value as zero.
      Expected<DevicePtr> buffer = emu.allocate(4096);
      if (!buffer)
        return 0;
      (void)emu.memset(*buffer, 0, 4096);
      p = ParamBytes::of(*buffer);
    } else {
      p.bytes.assign(info.size, 0);
    }
    params.push_back(std::move(p));
  }
  Status status = emu.launch(*kernel, Dim3(1), Dim3(64), 0, params);
  if (!status && status.message().empty())
    __builtin_trap();
  return 0;
}
