//===- Jit.cpp - Compile tilus kernels at run time, with a cache ----------===//

#include "tilus/Jit.h"

#include "compiler/Driver.h"
#include "runtime/core/Ptx.h"
#include "runtime/jit/KernelCache.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace tilus;

std::string tilus::defaultCacheDir() {
  if (const char *dir = std::getenv("TILUS_CACHE_DIR"); dir && *dir)
    return dir;
  llvm::SmallString<256> path;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    path = xdg;
  } else if (const char *home = std::getenv("HOME"); home && *home) {
    path = home;
    llvm::sys::path::append(path, ".cache");
  } else {
    return "";
  }
  llvm::sys::path::append(path, "tilus");
  return std::string(path);
}

void tilus::clearMemoryCache() { jit::memoryClear(); }

namespace {

bool diskCacheEnabled(const JitOptions &options) {
  if (options.diskCache)
    return *options.diskCache;
  const char *env = std::getenv("TILUS_CACHE");
  return !(env && std::string_view(env) == "0");
}

const char *outcomeName(CacheOutcome outcome) {
  switch (outcome) {
  case CacheOutcome::Compiled:
    return "miss";
  case CacheOutcome::MemoryHit:
    return "hit (memory)";
  case CacheOutcome::DiskHit:
    return "hit (disk)";
  }
  return "?";
}

void log(const CompiledModule &module, std::string_view filename,
         const std::string &dir) {
  if (!jit::logCache())
    return;
  llvm::errs() << "tilus: cache: " << outcomeName(module.outcome) << " "
               << filename << " " << module.key.substr(0, 16);
  if (!dir.empty())
    llvm::errs() << " in " << dir;
  llvm::errs() << "\n";
}

/// Assembles \p ptx for \p arch; "" (with a reason in \p why) when there is
/// no ptxas or it fails, and the PTX alone is used.
std::string assembleCubin(const std::string &ptx, const std::string &arch,
                          std::string &why) {
  std::string ptxas = findPtxas();
  if (ptxas.empty()) {
    why = "no ptxas";
    return "";
  }
  llvm::SmallString<128> in, out, err;
  if (llvm::sys::fs::createTemporaryFile("tilus", "ptx", in) ||
      llvm::sys::fs::createTemporaryFile("tilus", "cubin", out) ||
      llvm::sys::fs::createTemporaryFile("tilus", "log", err)) {
    why = "cannot create temporary files";
    return "";
  }
  std::string cubin;
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(in, ec);
    os << ptx;
  }
  std::string archFlag = "-arch=" + arch;
  llvm::StringRef args[] = {ptxas, archFlag, in, "-o", out};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, err, err};
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects, 0, 0,
                                     &execError);
  if (rc == 0) {
    if (auto buf = llvm::MemoryBuffer::getFile(out, /*IsText=*/false))
      cubin = (*buf)->getBuffer().str();
  } else if (auto log = llvm::MemoryBuffer::getFile(err)) {
    why = "ptxas failed: " + (*log)->getBuffer().trim().str();
  } else {
    why = "ptxas failed: " + execError;
  }
  llvm::sys::fs::remove(in);
  llvm::sys::fs::remove(out);
  llvm::sys::fs::remove(err);
  return cubin;
}

} // namespace

Expected<CompiledModule> tilus::compileModule(std::string_view source,
                                              std::string_view filename,
                                              const JitOptions &options) {
  std::string arch = options.arch.empty() ? "sm_80" : options.arch;
  std::string key = jit::cacheKey(source, options.defines, arch);
  std::string dir;
  if (diskCacheEnabled(options))
    dir = options.cacheDir.empty() ? defaultCacheDir() : options.cacheDir;

  if (std::optional<CompiledModule> hit = jit::memoryLookup(key)) {
    hit->outcome = CacheOutcome::MemoryHit;
    log(*hit, filename, "");
    return *hit;
  }
  if (!dir.empty()) {
    if (std::optional<CompiledModule> hit = jit::diskLookup(dir, key)) {
      hit->outcome = CacheOutcome::DiskHit;
      jit::memoryInsert(*hit);
      log(*hit, filename, dir);
      return *hit;
    }
  }

  CompileOptions compileOptions;
  compileOptions.arch = arch;
  compileOptions.defines = options.defines;
  compileOptions.stage = Stage::PTX;
  CompileResult result = tilus::compile(
      llvm::StringRef(source.data(), source.size()),
      llvm::StringRef(filename.data(), filename.size()), compileOptions);
  if (!result.ok) {
    std::string msg = result.diagnostics;
    while (!msg.empty() && msg.back() == '\n')
      msg.pop_back();
    return Status::error(msg.empty() ? "compilation failed" : msg);
  }
  CompiledModule module;
  module.ptx = std::move(result.output);
  module.kernels = std::move(result.kernels);
  module.key = key;
  module.outcome = CacheOutcome::Compiled;
  if (options.cubin) {
    std::string why;
    module.cubin = assembleCubin(module.ptx, arch, why);
    if (module.cubin.empty() && jit::logCache())
      llvm::errs() << "tilus: cache: no cubin for " << filename << " (" << why
                   << "); the driver compiles the PTX\n";
  }
  jit::memoryInsert(module);
  if (!dir.empty())
    jit::diskInsert(dir, module);
  log(module, filename, dir);
  return module;
}

Expected<Kernel> tilus::compile(Device &device, std::string_view source,
                                std::string_view filename,
                                const JitOptions &options) {
  JitOptions withArch = options;
  if (withArch.arch.empty())
    withArch.arch = device.arch();
  // A cubin saves the driver's PTX compile at load, where there is a driver.
  if (device.name() != "emu")
    withArch.cubin = true;
  Expected<CompiledModule> module = compileModule(source, filename, withArch);
  if (!module)
    return module.takeError();
  const KernelInfo *chosen = nullptr;
  std::string names;
  for (const KernelInfo &k : module->kernels) {
    names += (names.empty() ? "" : ", ") + k.name;
    if (!chosen && (options.kernel.empty() || k.name == options.kernel))
      chosen = &k;
  }
  if (!chosen)
    return Status::error(module->kernels.empty()
                             ? std::string(filename) + " defines no kernel"
                             : "no kernel '" + options.kernel + "' in " +
                                   std::string(filename) + "; it has " + names);
  if (!module->cubin.empty() && device.name() != "emu") {
    // A cubin another GPU cannot run still leaves the PTX.
    Expected<Kernel> kernel = loadKernel(device, module->cubin, *chosen);
    if (kernel)
      return kernel;
  }
  return loadKernel(device, module->ptx, *chosen);
}

Expected<Kernel> tilus::compileFile(Device &device, const std::string &path,
                                    const JitOptions &options) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (std::error_code ec = file.getError())
    return Status::error("cannot read '" + path + "': " + ec.message());
  return compile(device, (*file)->getBuffer().str(), path, options);
}
