//===- Autotune.h - Choose among kernel variants by time --------*- C++ -*-===//
//
// An Autotuner compiles one `.tl` source once per configuration (a set of
// compile-time parameter values), in parallel, and launches the fastest
// variant for the arguments it is given. Which one is fastest is decided
// once per key bucket: the values of the `key` scalar parameters, each
// rounded up to a power of two. On a GPU every candidate is timed with CUDA
// events (the median of several launches); on the emulator the candidates
// run once with profiling on and the performance model's time on one named
// GPU decides (docs/profiling.md); the result says which.
//
// Trial launches never touch the caller's outputs: every buffer the kernel
// may write gets a scratch copy for the trials, and only the chosen kernel
// then runs on the real arguments. Choices are kept in memory and on disk
// beside the kernel cache, `<cache dir>/autotune/<key>.json`, keyed by the
// source, the configurations, the target and what decided (the GPU model,
// or the modelled GPU), and written atomically.
//
//   tilus::AutotuneOptions options;
//   options.configs = {{{"BM", "16"}, {"BN", "128"}}, {{"BM", "32"}, ...}};
//   options.key = {"m", "n", "k"};
//   auto tuner = tilus::Autotuner::create(*dev, source, "mm.tl", options);
//   tuner->launch(args);   // tunes for this bucket first, then launches
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_AUTOTUNE_H
#define TILUS_AUTOTUNE_H

#include "tilus/Jit.h"

#include <map>
#include <memory>

namespace tilus {

struct AutotuneOptions {
  /// The candidates: compile-time parameter values, each added to
  /// `jit.defines` (a value here wins).
  std::vector<std::map<std::string, std::string>> configs;
  /// Names of integer scalar parameters whose values select the bucket.
  std::vector<std::string> key;
  /// Defines common to all candidates, the kernel, the cache directory.
  JitOptions jit;
  /// The emulator: the GPU whose modelled time decides (Profile.h names).
  std::string gpu = "H100";
  /// The emulator: run only this many CTAs of each trial grid and scale
  /// (0: all); see Device::enableProfiling.
  uint32_t sampleCtas = 0;
  /// A GPU: launches before timing, and timed launches (the median wins).
  int warmup = 2, reps = 10;
  /// Keep and reuse choices on disk; the default follows TILUS_CACHE.
  std::optional<bool> diskCache;
};

/// One candidate's outcome in one bucket.
struct AutotuneTrial {
  std::string config; ///< "BM=16,BN=128"
  /// Microseconds: measured (GPU) or modelled (emulator); negative when the
  /// candidate failed.
  double timeUs = -1;
  std::string error; ///< why it failed (compile or launch), else empty
};

/// The choice for one bucket.
struct AutotuneChoice {
  std::string bucket; ///< "m=16,n=8192,k=8192"
  size_t index = 0;   ///< into AutotuneOptions::configs
  /// "measured" (CUDA events), "modelled GPU" (the emulator's model), or
  /// "cache" when it was read from disk.
  std::string basis;
  /// Every candidate, in configuration order; empty for a cached choice.
  std::vector<AutotuneTrial> trials;
};

class Autotuner {
public:
  /// Compiles every configuration (in parallel, through the kernel cache).
  /// Fails when none compiles, when the candidates' signatures differ, or
  /// when a key name is not an integer scalar parameter. Candidates that
  /// fail to compile are kept out of every choice, with their error.
  static Expected<std::unique_ptr<Autotuner>>
  create(Device &device, std::string_view source, std::string_view filename,
         AutotuneOptions options);
  ~Autotuner();

  /// The choice for \p args' bucket: from memory, from disk, or by running
  /// every candidate now (with progress on stderr per TILUS_PROGRESS).
  Expected<AutotuneChoice> choose(const std::vector<Arg> &args);
  /// choose(), then launches the chosen kernel on \p args.
  Status launch(const std::vector<Arg> &args, Stream stream = 0,
                LaunchStats *stats = nullptr);

  /// The number of configurations, and candidate \p index's kernel (null
  /// when it failed to compile, then compileError says why).
  size_t size() const;
  const Kernel *kernel(size_t index) const;
  const std::string &compileError(size_t index) const;
  /// "BM=16,BN=128" for configuration \p index.
  std::string configText(size_t index) const;

private:
  struct Impl;
  explicit Autotuner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace tilus

#endif // TILUS_AUTOTUNE_H
