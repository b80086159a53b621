//===- Jit.h - Compile tilus kernels at run time, with a cache --*- C++ -*-===//
//
// The JIT library (tilus_jit, or libtilus built with the compiler): `.tl`
// source and parameter values in, a launchable Kernel out. Results are kept
// in memory for the process and on disk across processes:
//
//   $TILUS_CACHE_DIR, else $XDG_CACHE_HOME/tilus, else ~/.cache/tilus
//
// keyed by SHA-256 over the canonical source, the parameter values, the
// target and the compiler and LLVM versions. `TILUS_CACHE=0` turns the disk
// cache off; `TILUS_LOG=cache` logs hits and misses on stderr.
//
//   tilus::JitOptions options;
//   options.defines["BLOCK"] = "512";
//   auto kernel = tilus::compileFile(*dev, "vector_add.tl", options);
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_JIT_H
#define TILUS_JIT_H

#include "tilus/Runtime.h"

#include <map>

namespace tilus {

struct JitOptions {
  /// Values of compile-time parameters, as `-D NAME=VALUE` would give them.
  std::map<std::string, std::string> defines;
  /// The target; empty means the device's (`Device::arch()`).
  std::string arch;
  /// The kernel to return; empty means the module's only kernel (the first
  /// when it has several).
  std::string kernel;
  /// The cache directory; empty means the environment's default.
  std::string cacheDir;
  /// Whether to read and write the disk cache; the default follows
  /// TILUS_CACHE (off when it is "0").
  std::optional<bool> diskCache;
  /// Also assemble a cubin with ptxas (TILUS_PTXAS, else on PATH, else in
  /// /usr/local/cuda/bin) when one is found; compile() asks for it on GPUs.
  bool cubin = false;
};

/// Where a compiled module came from.
enum class CacheOutcome { Compiled, MemoryHit, DiskHit };

/// A module compiled to PTX, with its kernels' host facts.
struct CompiledModule {
  std::string ptx;
  /// The PTX assembled for the target (an ELF image); empty when not asked
  /// for or when no ptxas was found.
  std::string cubin;
  std::vector<KernelInfo> kernels;
  std::string key; ///< the cache key, 64 hex digits
  CacheOutcome outcome = CacheOutcome::Compiled;
};

/// Compiles \p source (named \p filename in diagnostics) for \p options.arch
/// (sm_80 when empty), or fetches it from the cache. Compile errors come
/// back as the compiler's diagnostics, `file:line:col: error: ...`.
Expected<CompiledModule> compileModule(std::string_view source,
                                       std::string_view filename,
                                       const JitOptions &options = {});

/// compileModule for the device's architecture, then loadKernel.
Expected<Kernel> compile(Device &device, std::string_view source,
                         std::string_view filename = "<source>",
                         const JitOptions &options = {});
/// compile() of the file at \p path.
Expected<Kernel> compileFile(Device &device, const std::string &path,
                             const JitOptions &options = {});

/// The disk cache directory the environment selects.
std::string defaultCacheDir();
/// Forgets the in-memory cache (the disk cache stays).
void clearMemoryCache();

} // namespace tilus

#endif // TILUS_JIT_H
