//===- EmuDevice.cpp - The PTX emulator as a runtime device ---------------===//

#include "runtime/core/EmuDevice.h"

#include "runtime/core/Ptx.h"
#include "runtime/emu/Emulator.h"
#include "runtime/emu/TensorMap.h"

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>

using namespace tilus;

namespace {

class EmuFunction final : public DeviceFunction {
public:
  EmuFunction(emu::Kernel kernel, std::shared_ptr<const std::string> ptx)
      : kernel(std::move(kernel)), ptx(std::move(ptx)) {}
  const std::string &name() const override { return kernel.name(); }
  emu::Kernel kernel;
  std::shared_ptr<const std::string> ptx; ///< the module's text, for ptxas
};

class EmuModule final : public DeviceModule {
public:
  EmuModule(emu::Module module, std::shared_ptr<const std::string> ptx)
      : module(std::move(module)), ptx(std::move(ptx)) {}
  Expected<std::shared_ptr<DeviceFunction>>
  function(std::string_view name) override {
    emu::Expected<emu::Kernel> k = module.kernel(name);
    if (!k)
      return Status::error(k.error().message());
    return std::shared_ptr<DeviceFunction>(
        std::make_shared<EmuFunction>(*k, ptx));
  }

private:
  emu::Module module;
  std::shared_ptr<const std::string> ptx;
};

/// Whether TILUS_PROFILE asks for profiling.
bool profilingFromEnv() {
  const char *v = std::getenv("TILUS_PROFILE");
  return v && *v && std::string_view(v) != "0";
}

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
  Status encodeTensorMapTiled(void *tensorMap, uint32_t dataType,
                              uint32_t rank, DevicePtr globalAddress,
                              const uint64_t *globalDim,
                              const uint64_t *globalStrides,
                              const uint32_t *boxDim,
                              const uint32_t *elementStrides,
                              uint32_t interleave, uint32_t swizzle,
                              uint32_t l2Promotion,
                              uint32_t oobFill) override {
    return emu::encodeTensorMap(
        tensorMap, emu::TensorMapDataType(dataType), rank, globalAddress,
        globalDim, globalStrides, boxDim, elementStrides,
        emu::TensorMapInterleave(interleave), emu::TensorMapSwizzle(swizzle),
        emu::TensorMapL2Promotion(l2Promotion),
        emu::TensorMapOobFill(oobFill));
  }
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
    return std::shared_ptr<DeviceModule>(std::make_shared<EmuModule>(
        *m, std::make_shared<const std::string>(image)));
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
    last = Launched{f->kernel, f->ptx, grid, block, dynamicSharedBytes};
    if (stats) {
      stats->milliseconds = std::chrono::duration<double, std::milli>(
                                std::chrono::steady_clock::now() - start)
                                .count();
      stats->warpInstructions = emu.lastLaunchStats().warpInstructions;
    }
    return s;
  }
  bool lastLaunchCompleted() const override {
    return emu.lastReport().completed;
  }
  Expected<Stream> createStream() override { return ++lastStream; }
  Status destroyStream(Stream) override { return Status::success(); }
  Status synchronize(Stream) override { return Status::success(); }

  EmuDevice() : emu(options) {
    emu.setProfiling(profilingFromEnv(), dramCycles());
  }
  const std::string &environmentError() const {
    return options.environmentError;
  }
  Status enableProfiling(bool on, uint32_t sampleCtas) override {
    emu.setProfiling(on, dramCycles(), sampleCtas);
    return Status::success();
  }
  /// The DRAM latency of every known GPU in its cycles, for the critical
  /// path (Counters::ctaCyclesAvg follows gpuSpecs()'s order).
  static std::vector<double> dramCycles() {
    std::vector<double> cycles;
    for (const GpuSpec &g : gpuSpecs())
      cycles.push_back(g.dramLatencyNs * g.clockGHz);
    return cycles;
  }
  Expected<Profile> lastProfile(const std::vector<std::string> &gpus) override {
    const emu::LaunchStats &st = emu.lastLaunchStats();
    if (!last || !st.profiled)
      return Status::error("no profile: no launch ran with profiling on "
                           "(enableProfiling, or TILUS_PROFILE=1)");
    Profile p;
    p.kernel = last->kernel.name();
    p.grid[0] = last->grid.x, p.grid[1] = last->grid.y, p.grid[2] = last->grid.z;
    p.block[0] = last->block.x, p.block[1] = last->block.y,
    p.block[2] = last->block.z;
    p.resources.threadsPerCta =
        int(last->block.x * last->block.y * last->block.z);
    p.resources.sharedBytesPerCta =
        int(last->kernel.staticSharedBytes() + last->dynamicShared);
    p.resources.ctas = int64_t(last->grid.x) * last->grid.y * last->grid.z;
    p.resources.regsPerThread = registers(*last);
    p.resources.regsEstimated = p.resources.regsPerThread < 0;
    if (p.resources.regsEstimated)
      p.resources.regsPerThread = kEstimatedRegisters;
    p.counters = st.counters;
    if (Status s = p.model(gpus); !s)
      return s;
    return p;
  }

private:
  /// Without ptxas, a kernel is assumed to use this many registers a thread
  /// (and the profile says so).
  static constexpr int kEstimatedRegisters = 64;
  struct Launched {
    emu::Kernel kernel;
    std::shared_ptr<const std::string> ptx;
    Dim3 grid, block;
    uint32_t dynamicShared;
  };
  /// ptxas's count for the launched kernel, cached; -1 without ptxas.
  int registers(const Launched &l) {
    auto key = std::make_pair(std::hash<std::string>{}(*l.ptx), l.kernel.name());
    auto it = regCache.find(key);
    if (it == regCache.end()) {
      std::optional<int> r = ptxasRegisters(*l.ptx, l.kernel.name());
      it = regCache.emplace(key, r ? *r : -1).first;
    }
    return it->second;
  }
  emu::EmulatorOptions options;
  emu::Emulator emu;
  Stream lastStream = 0;
  std::optional<Launched> last;
  std::map<std::pair<size_t, std::string>, int> regCache;
};

} // namespace

Expected<std::unique_ptr<Device>> tilus::createEmuDevice() {
  auto dev = std::make_unique<EmuDevice>();
  if (!dev->environmentError().empty())
    return Status::error(dev->environmentError());
  return std::unique_ptr<Device>(std::move(dev));
}
