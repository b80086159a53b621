//===- Emulator.cpp - The device API of the PTX emulator ------------------===//

#include "runtime/emu/Emulator.h"
#include "runtime/emu/Exec.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <unistd.h>

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

std::optional<uint64_t> parseByteCount(std::string_view text) {
  uint64_t scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
    case 'K':
    case 'k':
      scale = uint64_t(1) << 10;
      break;
    case 'M':
    case 'm':
      scale = uint64_t(1) << 20;
      break;
    case 'G':
    case 'g':
      scale = uint64_t(1) << 30;
      break;
    }
    if (scale != 1)
      text.remove_suffix(1);
  }
  if (text.empty() || text.size() > 20)
    return std::nullopt;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || n > (UINT64_MAX - uint64_t(c - '0')) / 10)
      return std::nullopt;
    n = n * 10 + uint64_t(c - '0');
  }
  if (n > UINT64_MAX / scale)
    return std::nullopt;
  return n * scale;
}

uint64_t defaultMaxMemory() {
  long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  uint64_t phys = pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page)
                                        : uint64_t(8) << 30;
  // In a container the cgroup's limit is what the process may really use.
  std::ifstream cg("/sys/fs/cgroup/memory.max");
  std::string limit;
  if (cg >> limit)
    if (std::optional<uint64_t> n = parseByteCount(limit); n && *n < phys)
      phys = *n;
  return phys / 2;
}

namespace {
/// Appends \p message to the environment errors in \p error.
void noteEnvError(std::string &error, const std::string &message) {
  error += (error.empty() ? "" : "; ") + message;
}
const char *envValue(const char *name) {
  const char *v = std::getenv(name);
  return v && *v ? v : nullptr;
}
} // namespace

RaceCheck EmulatorOptions::envRaceCheck(std::string &error) {
  const char *v = envValue("TILUS_EMU_RACECHECK");
  if (!v)
    return RaceCheck::Stop;
  if (std::optional<RaceCheck> mode = parseRaceCheck(v))
    return *mode;
  noteEnvError(error, "TILUS_EMU_RACECHECK: unknown mode '" + std::string(v) +
                          "' (expected stop, report or off)");
  return RaceCheck::Stop;
}

uint64_t EmulatorOptions::envCount(const char *name, uint64_t fallback,
                                   uint64_t lo, uint64_t hi,
                                   std::string &error) {
  const char *v = envValue(name);
  if (!v)
    return fallback;
  std::optional<uint64_t> n;
  if (std::string_view(v).find_first_not_of("0123456789") ==
      std::string_view::npos)
    n = parseByteCount(v);
  if (n && *n >= lo && *n <= hi)
    return *n;
  noteEnvError(error, std::string(name) + ": '" + v +
                          "' is not a count from " + std::to_string(lo) +
                          " to " + std::to_string(hi));
  return fallback;
}

uint64_t EmulatorOptions::envMaxMemory(std::string &error) {
  const char *v = envValue("TILUS_EMU_MAX_MEMORY");
  if (!v)
    return defaultMaxMemory();
  std::optional<uint64_t> n = parseByteCount(v);
  if (n && *n > 0)
    return *n;
  noteEnvError(error, "TILUS_EMU_MAX_MEMORY: '" + std::string(v) +
                          "' is not a byte count (a positive number with an "
                          "optional K, M or G suffix)");
  return defaultMaxMemory();
}

std::string budgetText(uint64_t budget) {
  std::string size;
  if (budget % (uint64_t(1) << 30) == 0)
    size = std::to_string(budget >> 30) + " GiB, ";
  else if (budget % (uint64_t(1) << 20) == 0)
    size = std::to_string(budget >> 20) + " MiB, ";
  return "the emulator's memory budget of " + std::to_string(budget) +
         " bytes (" + size + "TILUS_EMU_MAX_MEMORY)";
}

Emulator::Emulator(EmulatorOptions options) : impl(std::make_unique<Impl>()) {
  impl->opts = std::move(options);
}
Emulator::~Emulator() = default;

Status Emulator::Impl::checkEnvironment() const {
  if (!opts.environmentError.empty())
    return Status::error(opts.environmentError);
  return Status::success();
}

Status Emulator::Impl::reserveGlobal(uint64_t bytes) const {
  uint64_t used = mem.bytes();
  if (bytes > opts.maxMemory || used > opts.maxMemory - bytes)
    return Status::error(std::to_string(bytes) + " bytes of global memory" +
                         (used ? " (with the " + std::to_string(used) +
                                     " bytes allocated before)"
                               : std::string()) +
                         " exceed " + budgetText(opts.maxMemory));
  return Status::success();
}

Expected<DevicePtr> Emulator::allocate(uint64_t bytes) {
  if (Status s = impl->checkEnvironment(); !s)
    return s;
  if (Status s = impl->reserveGlobal(bytes); !s)
    return Status::error("cannot allocate " + std::to_string(bytes) +
                         " bytes: " + s.message());
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
  if (Status s = impl->checkEnvironment(); !s)
    return s;
  GlobalAllocator alloc =
      [this](uint64_t bytes, uint32_t align,
             const std::vector<uint8_t> &init) -> Expected<DevicePtr> {
    if (Status s = impl->reserveGlobal(bytes); !s)
      return s;
    uint64_t p = impl->mem.allocate(bytes ? bytes : 1, align);
    // The bytes past the initializer are the allocation's zeros.
    if (!init.empty())
      std::memcpy(impl->mem.find(p, bytes)->data.data(), init.data(),
                  std::min<uint64_t>(init.size(), bytes));
    return p;
  };
  auto m = parsePtx(ptx, name, alloc, impl->opts.maxMemory);
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
  if (Status s = impl->checkEnvironment(); !s)
    return s;
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
