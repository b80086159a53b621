//===- KernelCache.h - Compiled kernels in memory and on disk ---*- C++ -*-===//
//
// An entry is one JSON file `<dir>/<key>.json` holding the PTX, the kernels'
// KernelInfo and a SHA-256 of both, so a truncated or corrupt entry is
// detected on read (logged, then recompiled and rewritten). Writes go to a
// unique temporary file in the same directory and are renamed over the
// entry: readers see a whole entry or none, and processes that compile the
// same kernel at once each rename a complete, identical file.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_JIT_KERNELCACHE_H
#define TILUS_RUNTIME_JIT_KERNELCACHE_H

#include "tilus/Jit.h"

#include <optional>
#include <string>

namespace tilus::jit {

/// The cache key of a compile: SHA-256 (hex) over the canonical source, the
/// defines, the target and the compiler and LLVM versions.
std::string cacheKey(std::string_view source,
                     const std::map<std::string, std::string> &defines,
                     const std::string &arch);

/// Whether TILUS_LOG asks for cache logging.
bool logCache();

/// The in-process cache; thread-safe.
std::optional<CompiledModule> memoryLookup(const std::string &key);
void memoryInsert(const CompiledModule &module);
void memoryClear();

/// Reads the entry of \p key from \p dir; std::nullopt when there is none or
/// it is corrupt (then a line says so on stderr).
std::optional<CompiledModule> diskLookup(const std::string &dir,
                                         const std::string &key);
/// Writes the entry atomically. An unwritable directory gives one warning
/// per process and leaves the cache memory-only; never an error.
void diskInsert(const std::string &dir, const CompiledModule &module);

/// The text of an entry, and its inverse (for tests of corruption).
std::string serializeEntry(const CompiledModule &module);
std::optional<CompiledModule> parseEntry(std::string_view text,
                                         std::string &error);

} // namespace tilus::jit

#endif // TILUS_RUNTIME_JIT_KERNELCACHE_H
