//===- Emulator.cpp - The device API of the PTX emulator ------------------===//

#include "runtime/emu/Emulator.h"
#include "runtime/emu/Exec.h"

#include <chrono>
#include <cstdio>

namespace tilus::emu {

std::optional<RaceCheck> parseRaceCheck(std::string_view name) {
  if (name == "off")
    return RaceCheck::Off;
  if (name == "report")
    return RaceCheck::Report;
  if (name == "stop")
    return RaceCheck::Stop;
  return std::nullopt;
}

const char *raceCheckName(RaceCheck mode) {
  switch (mode) {
  case RaceCheck::Off:
    return "off";
  case RaceCheck::Report:
    return "report";
  case RaceCheck::Stop:
    return "stop";
  }
  return "?";
}

Emulator::Emulator(EmulatorOptions options) : impl(std::make_unique<Impl>()) {
  impl->opts = std::move(options);
}
Emulator::~Emulator() = default;

Expected<DevicePtr> Emulator::allocate(uint64_t bytes) {
  if (bytes > (uint64_t(1) << 36))
    return Status::error("allocation of " + std::to_string(bytes) +
                         " bytes exceeds the emulator's 64 GiB limit");
  return impl->mem.allocate(bytes);
}

Status Emulator::free(DevicePtr ptr) {
  if (!impl->mem.free(ptr))
    return Status::error("free of 0x" + hex(ptr) +
                         ", which is not the start of an allocation");
  return Status::success();
}

Status Emulator::copyToDevice(DevicePtr dst, const void *src, uint64_t bytes) {
  if (bytes == 0)
    return Status::success();
  Allocation *a = impl->mem.find(dst, bytes);
  if (!a)
    return Status::error("copy of " + std::to_string(bytes) + " bytes to 0x" +
                         hex(dst) + " is outside every allocation");
  std::memcpy(a->data.data() + (dst - a->base), src, bytes);
  return Status::success();
}

Status Emulator::copyFromDevice(void *dst, DevicePtr src, uint64_t bytes) {
  if (bytes == 0)
    return Status::success();
  Allocation *a = impl->mem.find(src, bytes);
  if (!a)
    return Status::error("copy of " + std::to_string(bytes) + " bytes from 0x" +
                         hex(src) + " is outside every allocation");
  std::memcpy(dst, a->data.data() + (src - a->base), bytes);
  return Status::success();
}

Status Emulator::memset(DevicePtr dst, uint8_t value, uint64_t bytes) {
  if (bytes == 0)
    return Status::success();
  Allocation *a = impl->mem.find(dst, bytes);
  if (!a)
    return Status::error("memset of " + std::to_string(bytes) + " bytes at 0x" +
                         hex(dst) + " is outside every allocation");
  std::memset(a->data.data() + (dst - a->base), value, bytes);
  return Status::success();
}

Expected<Module> Emulator::loadModule(std::string_view ptx, std::string name) {
  GlobalAllocator alloc =
      [this](uint64_t bytes, uint32_t align,
             const std::vector<uint8_t> &init) -> Expected<DevicePtr> {
    uint64_t p = impl->mem.allocate(bytes ? bytes : 1, align);
    if (bytes) {
      Allocation *a = impl->mem.find(p, bytes);
      std::memcpy(a->data.data(), init.data(), bytes);
    }
    return p;
  };
  auto m = parsePtx(ptx, name, alloc);
  if (!m)
    return m.takeError();
  Module mod;
  mod.impl = *m;
  return mod;
}

Status Emulator::launch(const Kernel &kernel, Dim3 grid, Dim3 block,
                        uint32_t dynamicSmemBytes,
                        const std::vector<ParamBytes> &params) {
  impl->stats = LaunchStats();
  impl->report = Report();
  if (!kernel.impl)
    return Status::error("launch of an empty kernel handle");
  auto t0 = std::chrono::steady_clock::now();
  Status s = runKernel(*impl, *kernel.impl, kernel.index, grid, block,
                       dynamicSmemBytes, params);
  impl->stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  if (!s && impl->report.kind == ReportKind::None) {
    impl->report.kind = ReportKind::Other;
    impl->report.kernel = kernel.name();
    impl->report.message = s.message();
  }
  return s;
}

const LaunchStats &Emulator::lastLaunchStats() const { return impl->stats; }
const Report &Emulator::lastReport() const { return impl->report; }
void Emulator::setPrintfSink(std::function<void(std::string_view)> sink) {
  impl->opts.printfSink = std::move(sink);
}
void Emulator::setProfiling(bool on, std::vector<double> dramCycles,
                            uint32_t sampleCtas) {
  impl->opts.profile = on;
  impl->opts.sampleCtas = sampleCtas;
  impl->opts.profileDramCycles = std::move(dramCycles);
}

//===----------------------------------------------------------------------===//
// Module and Kernel handles
//===----------------------------------------------------------------------===//

const std::string &Module::name() const { return impl->name; }

Expected<Kernel> Module::kernel(std::string_view name) const {
  for (uint32_t k : impl->kernels)
    if (impl->funcs[k].name == name) {
      Kernel kn;
      kn.impl = impl;
      kn.index = k;
      return kn;
    }
  std::string names;
  for (uint32_t k : impl->kernels)
    names += (names.empty() ? "" : ", ") + impl->funcs[k].name;
  return Status::error("no kernel named '" + std::string(name) + "' in " +
                       impl->name +
                       " (kernels: " + (names.empty() ? "none" : names) + ")");
}

std::vector<std::string> Module::kernelNames() const {
  std::vector<std::string> out;
  for (uint32_t k : impl->kernels)
    out.push_back(impl->funcs[k].name);
  return out;
}

const std::string &Kernel::name() const { return impl->funcs[index].name; }
const std::vector<ParamInfo> &Kernel::params() const {
  return impl->funcs[index].params;
}
uint32_t Kernel::staticSharedBytes() const {
  return impl->funcs[index].staticShared;
}
uint32_t Kernel::line() const { return impl->funcs[index].line; }

} // namespace tilus::emu
