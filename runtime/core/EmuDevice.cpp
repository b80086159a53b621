//===- EmuDevice.cpp - The PTX emulator as a runtime device ---------------===//

#include "runtime/core/EmuDevice.h"

#include "runtime/core/Ptx.h"
#include "runtime/emu/Emulator.h"

#include <chrono>

using namespace tilus;

namespace {

class EmuFunction final : public DeviceFunction {
public:
  explicit EmuFunction(emu::Kernel kernel) : kernel(std::move(kernel)) {}
  const std::string &name() const override { return kernel.name(); }
  emu::Kernel kernel;
};

class EmuModule final : public DeviceModule {
public:
  explicit EmuModule(emu::Module module) : module(std::move(module)) {}
  Expected<std::shared_ptr<DeviceFunction>>
  function(std::string_view name) override {
    emu::Expected<emu::Kernel> k = module.kernel(name);
    if (!k)
      return Status::error(k.error().message());
    return std::shared_ptr<DeviceFunction>(std::make_shared<EmuFunction>(*k));
  }

private:
  emu::Module module;
};

class EmuDevice final : public Device {
public:
  std::string name() const override { return "emu"; }
  std::string description() const override {
    return "PTX emulator on the host CPU";
  }
  // The emulator executes any sm_80 PTX; newer targets' instructions are
  // the emulator's to accept or reject at load.
  std::string arch() const override { return "sm_80"; }
  Expected<DevicePtr> allocate(uint64_t bytes) override {
    emu::Expected<emu::DevicePtr> p = emu.allocate(bytes);
    if (!p)
      return Status::error(p.error().message());
    return DevicePtr(*p);
  }
  Status free(DevicePtr ptr) override { return emu.free(ptr); }
  Status copyToDevice(DevicePtr dst, const void *src, uint64_t bytes) override {
    return emu.copyToDevice(dst, src, bytes);
  }
  Status copyFromDevice(void *dst, DevicePtr src, uint64_t bytes) override {
    return emu.copyFromDevice(dst, src, bytes);
  }
  Status memset(DevicePtr dst, uint8_t value, uint64_t bytes) override {
    return emu.memset(dst, value, bytes);
  }
  Expected<std::shared_ptr<DeviceModule>>
  loadModule(std::string_view image, std::string name) override {
    if (!isPtx(image))
      return Status::error("cannot load '" + name +
                           "': the emulator runs PTX, not cubin");
    emu::Expected<emu::Module> m = emu.loadModule(image, name);
    if (!m)
      return Status::error(m.error().message());
    return std::shared_ptr<DeviceModule>(std::make_shared<EmuModule>(*m));
  }
  Status launch(const DeviceFunction &fn, Dim3 grid, Dim3 block,
                uint32_t dynamicSharedBytes,
                const std::vector<std::vector<uint8_t>> &params, Stream stream,
                LaunchStats *stats) override {
    const auto *f = dynamic_cast<const EmuFunction *>(&fn);
    if (!f)
      return Status::error("'" + fn.name() +
                           "' was not loaded on the emulator");
    std::vector<emu::ParamBytes> bytes(params.size());
    for (size_t i = 0; i < params.size(); ++i)
      bytes[i].bytes = params[i];
    auto start = std::chrono::steady_clock::now();
    emu::Status s = emu.launch(f->kernel, emu::Dim3(grid.x, grid.y, grid.z),
                               emu::Dim3(block.x, block.y, block.z),
                               dynamicSharedBytes, bytes);
    if (stats) {
      stats->milliseconds = std::chrono::duration<double, std::milli>(
                                std::chrono::steady_clock::now() - start)
                                .count();
      stats->warpInstructions = emu.lastLaunchStats().warpInstructions;
    }
    return s;
  }
  Expected<Stream> createStream() override { return ++lastStream; }
  Status destroyStream(Stream) override { return Status::success(); }
  Status synchronize(Stream) override { return Status::success(); }

private:
  emu::Emulator emu;
  Stream lastStream = 0;
};

} // namespace

std::unique_ptr<Device> tilus::createEmuDevice() {
  return std::make_unique<EmuDevice>();
}
