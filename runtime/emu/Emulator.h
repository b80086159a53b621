//===- Emulator.h - PTX emulator: a CPU device that runs PTX ----*- C++ -*-===//
//
// The emulator executes PTX kernels on the host CPU, looking at every access
// the way a sanitizer does. It has the shape of a small device API (`Device`
// below: memory, modules, launches); the runtime wraps it in its own device
// abstraction (runtime/core/EmuDevice.cpp), next to the CUDA Driver API one.
//
// Usage:
//
//   tilus::emu::Emulator dev;
//   auto mod = dev.loadModule(ptxText, "vector_add.ptx");
//   if (!mod) { report(mod.error()); return; }
//   auto kernel = mod->kernel("vector_add");
//   DevicePtr a = *dev.allocate(4096);
//   dev.copyToDevice(a, host, 4096);
//   std::vector<ParamBytes> params = {ParamBytes::of(a), ParamBytes::of(n)};
//   Status s = dev.launch(*kernel, {4}, {256}, 0, params);
//   if (!s) std::cerr << s.message() << "\n"; // kernel, PTX line, CTA, thread
//
// Everything here is plain C++17: the emulator builds without LLVM or CUDA.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_EMU_EMULATOR_H
#define TILUS_RUNTIME_EMU_EMULATOR_H

#include "support/Progress.h"
#include "tilus/Profile.h"
#include "tilus/Status.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tilus::emu {

//===----------------------------------------------------------------------===//
// Errors as values
//===----------------------------------------------------------------------===//

/// The runtime's error types (tilus/Status.h): messages start lowercase and
/// name the kernel, PTX line, CTA, thread and address where they apply.
using tilus::Expected;
using tilus::Status;

//===----------------------------------------------------------------------===//
// Launch vocabulary
//===----------------------------------------------------------------------===//

/// A device address (generic address space).
using DevicePtr = uint64_t;

struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
  Dim3() = default;
  Dim3(uint32_t x, uint32_t y = 1, uint32_t z = 1) : x(x), y(y), z(z) {}
  uint64_t count() const { return uint64_t(x) * y * z; }
};

/// The bytes of one kernel parameter, in the kernel's parameter order.
struct ParamBytes {
  std::vector<uint8_t> bytes;
  template <typename T> static ParamBytes of(const T &value) {
    ParamBytes p;
    p.bytes.resize(sizeof(T));
    std::memcpy(p.bytes.data(), &value, sizeof(T));
    return p;
  }
};

/// One declared parameter of a kernel.
struct ParamInfo {
  std::string name;
  uint32_t size = 0;  ///< Bytes.
  uint32_t align = 0; ///< Bytes.
};

/// Counters of the last launch.
struct LaunchStats {
  uint64_t warpInstructions = 0;   ///< Instructions issued per warp.
  uint64_t threadInstructions = 0; ///< Sum of active lanes over them.
  uint64_t ctas = 0;
  double seconds = 0; ///< Host wall time of the launch.
  /// Host memory the launch held for its CTAs at its peak: registers, shared
  /// memory with the sanitizer's shadow state, local memory, warp state.
  uint64_t hostBytes = 0;
  /// EmulatorOptions::profile: the launch's counters (runtime/emu/Profiler.h
  /// states how each is counted).
  bool profiled = false;
  tilus::Counters counters;
};

/// What a sanitizer report is about.
enum class ReportKind {
  None,
  OutOfBounds,
  Misaligned,
  SharedRace,
  CpAsyncUnwaited,
  /// A bulk copy's destination accessed before its mbarrier phase was
  /// observed, or a wgmma operand touched before its wgmma.wait_group.
  AsyncHazard,
  PartialWarp,
  WrongMemberMask,
  BarrierDeadlock,
  NoProgress,
  Assertion,
  Trap,
  Other,
};

/// A structured view of the error that stopped the last launch, next to the
/// message of the Status that launch() returned.
struct Report {
  ReportKind kind = ReportKind::None;
  /// The launch failed but ran every CTA to its end (RaceCheck::Report found
  /// hazards and nothing stopped it): memory holds its results.
  bool completed = false;
  /// RaceCheck::Report: the distinct shared-memory hazards found; the
  /// location fields above are those of the first one.
  uint32_t hazards = 0;
  std::string kernel;
  uint32_t ptxLine = 0;
  Dim3 cta, thread;
  uint64_t address = 0;
  std::string message; ///< Same text as the Status.
};

namespace detail {
struct ModuleImpl;
} // namespace detail

/// A kernel of a loaded module: a cheap handle that keeps its module alive.
class Kernel {
public:
  const std::string &name() const;
  const std::vector<ParamInfo> &params() const;
  /// Bytes of statically declared shared memory the kernel uses.
  uint32_t staticSharedBytes() const;
  /// The PTX line of the `.entry` directive.
  uint32_t line() const;

private:
  friend class Module;
  friend class Emulator;
  std::shared_ptr<const detail::ModuleImpl> impl;
  uint32_t index = 0;
};

/// A loaded PTX module: its text parsed and decoded once.
class Module {
public:
  const std::string &name() const;
  /// The entry (`.entry`) named \p name, or an error listing the kernels.
  Expected<Kernel> kernel(std::string_view name) const;
  std::vector<std::string> kernelNames() const;

private:
  friend class Emulator;
  std::shared_ptr<const detail::ModuleImpl> impl;
};

//===----------------------------------------------------------------------===//
// The device interface
//===----------------------------------------------------------------------===//

/// What the runtime needs from a device: memory, modules, launches. Module
/// and Kernel are the emulator's handles; the runtime's own device layer
/// (runtime/core) maps its abstraction onto this one and onto CUDA.
class Device {
public:
  virtual ~Device() = default;
  /// A short name: "emu", "cuda".
  virtual std::string name() const = 0;
  virtual Expected<DevicePtr> allocate(uint64_t bytes) = 0;
  virtual Status free(DevicePtr ptr) = 0;
  virtual Status copyToDevice(DevicePtr dst, const void *src,
                              uint64_t bytes) = 0;
  virtual Status copyFromDevice(void *dst, DevicePtr src, uint64_t bytes) = 0;
  virtual Status memset(DevicePtr dst, uint8_t value, uint64_t bytes) = 0;
  /// Parses and decodes \p ptx. \p name names it in messages.
  virtual Expected<Module> loadModule(std::string_view ptx,
                                      std::string name) = 0;
  /// Runs \p kernel to completion. \p params hold each parameter's bytes in
  /// order; their count and sizes must match the kernel's parameter list.
  virtual Status launch(const Kernel &kernel, Dim3 grid, Dim3 block,
                        uint32_t dynamicSmemBytes,
                        const std::vector<ParamBytes> &params) = 0;
};

/// What the race detector does with a shared-memory hazard (a write and
/// another warp's read or write of the same byte with no barrier between)
/// and with a hazard of the asynchronous units (a bulk copy's destination
/// accessed before the thread observed its mbarrier phase, a wgmma's
/// registers or shared operands touched before the wgmma.wait_group that
/// covers it; ReportKind::AsyncHazard). Out-of-bounds and misaligned
/// accesses, and reads of pending cp.async destinations, always stop the
/// launch.
enum class RaceCheck : uint8_t {
  /// No shadow state is kept and no time is spent on it.
  Off,
  /// The launch runs to completion; then it fails with every distinct hazard
  /// listed once (kind, both PTX lines, CTA, warps, byte range, count).
  Report,
  /// The launch stops at the first hazard.
  Stop,
};

/// "off", "report" or "stop"; nullopt for anything else.
std::optional<RaceCheck> parseRaceCheck(std::string_view name);
const char *raceCheckName(RaceCheck mode);

/// A byte count: a decimal number with an optional K, M or G suffix (powers
/// of 1024); nullopt for anything else or more than 2^64 - 1.
std::optional<uint64_t> parseByteCount(std::string_view text);

/// The default host-memory budget: half of the physical memory (or of the
/// cgroup's memory limit, if lower).
uint64_t defaultMaxMemory();

/// Emulator settings. The defaults of some fields come from TILUS_EMU_*
/// environment variables; a value there that does not parse is recorded in
/// environmentError (naming the variable and what it accepts), and an
/// Emulator built from these options fails every load, allocation and
/// launch with it instead of silently using a default.
struct EmulatorOptions {
  /// Set while the defaults below are read; empty if every variable parsed.
  std::string environmentError;
  /// Seed of the random bytes that shared memory starts with (local memory
  /// starts with a fixed non-zero pattern).
  uint64_t seed = 0x5eed;
  /// Shared-memory race detection between warps (RaceCheck above).
  /// Default: $TILUS_EMU_RACECHECK (off, report or stop), else stop.
  RaceCheck raceCheck = envRaceCheck(environmentError);
  /// Where kernel printf output goes, one call per printf; stdout if empty.
  std::function<void(std::string_view)> printfSink;
  /// Stop a launch after this many warp-instructions (0: no limit).
  uint64_t maxWarpInstructions = 0;
  /// 0: CTAs in order and warps in a fixed round-robin order. Otherwise the
  /// seed of a random (still reproducible) order of the CTAs and of the warps
  /// at every switch, to shake out results that depend on the order.
  /// Default: $TILUS_EMU_SCHEDULE_SEED, else 0.
  uint64_t scheduleSeed = envCount("TILUS_EMU_SCHEDULE_SEED", 0, 0, UINT64_MAX,
                                   environmentError);
  /// Streaming multiprocessors of the emulated device: CTAs are resident on
  /// them as on a GPU (H100 SXM: 132 SMs; per SM at most 32 CTAs, 64 warps
  /// and 228 KiB of shared memory), and resident CTAs take turns, so CTAs
  /// that wait for each other through global memory make progress.
  /// Default: $TILUS_EMU_SMS (1 to 100000), else 132.
  uint32_t numSms =
      uint32_t(envCount("TILUS_EMU_SMS", 132, 1, 100000, environmentError));
  /// At most this many CTAs resident per SM (0: as many as the limits above
  /// allow).
  uint32_t maxCtasPerSm = 0;
  /// Stop a launch that runs this many warp-instructions without progress
  /// (no store, no atomic that changes memory, no barrier release, no CTA
  /// finishing), naming the spinning warps; 0: no limit.
  /// Default: $TILUS_EMU_MAX_STEPS, else 100'000'000.
  uint64_t maxSteps = envCount("TILUS_EMU_MAX_STEPS", 100000000, 0,
                               UINT64_MAX, environmentError);
  /// The host memory the emulator may use, in bytes: global allocations and
  /// module variables together, and at a launch the state of its resident
  /// CTAs (registers, shared and local memory, shadow state). A declaration
  /// or an allocation beyond it is an error naming it, before anything is
  /// allocated; a launch holds fewer CTAs resident at once if all would not
  /// fit. Default: $TILUS_EMU_MAX_MEMORY (bytes, with an optional K, M or G
  /// suffix), else defaultMaxMemory().
  uint64_t maxMemory = envMaxMemory(environmentError);
  /// Count memory requests, sectors, wavefronts, DRAM bytes, instructions by
  /// class and bytes in flight (LaunchStats::counters). Off, it costs nothing.
  bool profile = false;
  /// With profile: the DRAM latency, in cycles, of each GPU the critical
  /// path is modelled for (Profiler.h); LaunchStats::counters' ctaCyclesAvg
  /// and ctaCyclesMax get one entry per element, in this order. Empty: no
  /// critical path.
  std::vector<double> profileDramCycles;
  /// With profile: run only this many CTAs of the grid, evenly spaced, and
  /// scale the counts to the whole grid (0: run every CTA). Per-CTA counts
  /// scale exactly when CTAs do the same work; DRAM bytes count sectors that
  /// one sampled CTA touches as that CTA's share and sectors several touch
  /// once (docs/profiling.md). The other CTAs' outputs are not written, and
  /// CTAs must not wait for each other.
  uint32_t sampleCtas = 0;
  /// When long launches show progress on stderr ("tilus: emulating K: N of
  /// M CTAs"); default from $TILUS_PROGRESS (support/Progress.h).
  ProgressPolicy progress = ProgressPolicy::fromEnvironment(environmentError);

  /// $TILUS_EMU_RACECHECK, else stop; an unknown mode is noted in \p error.
  static RaceCheck envRaceCheck(std::string &error);
  /// The environment variable \p name as a decimal count in [lo, hi], else
  /// \p fallback; a value that is not one is noted in \p error.
  static uint64_t envCount(const char *name, uint64_t fallback, uint64_t lo,
                           uint64_t hi, std::string &error);
  /// $TILUS_EMU_MAX_MEMORY, else defaultMaxMemory(); a value that is not a
  /// byte count is noted in \p error.
  static uint64_t envMaxMemory(std::string &error);
};

/// The CPU device: runs PTX on the calling thread; resident CTAs take turns
/// and the warps of a CTA interleave in a fixed order at every memory
/// operation and barrier. One Emulator is used by one host thread at a time.
class Emulator final : public Device {
public:
  explicit Emulator(EmulatorOptions options = {});
  ~Emulator() override;
  Emulator(const Emulator &) = delete;
  Emulator &operator=(const Emulator &) = delete;

  std::string name() const override { return "emu"; }
  Expected<DevicePtr> allocate(uint64_t bytes) override;
  Status free(DevicePtr ptr) override;
  Status copyToDevice(DevicePtr dst, const void *src, uint64_t bytes) override;
  Status copyFromDevice(void *dst, DevicePtr src, uint64_t bytes) override;
  Status memset(DevicePtr dst, uint8_t value, uint64_t bytes) override;
  Expected<Module> loadModule(std::string_view ptx, std::string name) override;
  Status launch(const Kernel &kernel, Dim3 grid, Dim3 block,
                uint32_t dynamicSmemBytes,
                const std::vector<ParamBytes> &params) override;

  /// Counters of the last launch.
  const LaunchStats &lastLaunchStats() const;
  /// The structured error of the last launch (kind None if it succeeded).
  const Report &lastReport() const;
  /// Replaces the printf sink.
  void setPrintfSink(std::function<void(std::string_view)> sink);
  /// Turns EmulatorOptions::profile on or off for later launches, with the
  /// critical path modelled for GPUs of these DRAM latencies (cycles).
  void setProfiling(bool on, std::vector<double> dramCycles = {},
                    uint32_t sampleCtas = 0);

  struct Impl;

private:
  std::unique_ptr<Impl> impl;
};

} // namespace tilus::emu

#endif // TILUS_RUNTIME_EMU_EMULATOR_H
