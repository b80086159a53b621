//===- KernelCache.cpp - Compiled kernels in memory and on disk -----------===//

#include "runtime/jit/KernelCache.h"

#include "ir/Limits.h"

#include "tilus/Version.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Base64.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <dlfcn.h>
#include <sys/stat.h>
#include <mutex>
#include <set>
#include <unordered_map>

using namespace tilus;
using namespace tilus::jit;

namespace {

constexpr int kFormat = 1;

/// Feeds a length-prefixed field, so that no two field lists hash alike.
void feed(llvm::SHA256 &hash, llvm::StringRef field) {
  std::string length = std::to_string(field.size()) + ":";
  hash.update(length);
  hash.update(field);
}

/// Whether arrays and objects in \p text nest deeper than \p limit.
/// llvm::json::parse recurses once per level with no limit of its own, so a
/// file of brackets would overflow the stack before it could be rejected.
bool nestsDeeperThan(std::string_view text, unsigned limit) {
  unsigned depth = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit)
        return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

std::string hexDigest(llvm::SHA256 &hash) {
  return llvm::toHex(hash.final(), /*LowerCase=*/true);
}

/// Sources that differ only in line endings or trailing blanks compile
/// alike and share an entry.
std::string canonicalSource(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  size_t pos = 0;
  while (pos <= source.size()) {
    size_t end = source.find('\n', pos);
    if (end == std::string_view::npos)
      end = source.size();
    std::string_view line = source.substr(pos, end - pos);
    size_t last = line.find_last_not_of(" \t\r");
    out += line.substr(0, last == std::string_view::npos ? 0 : last + 1);
    out += '\n';
    pos = end + 1;
  }
  while (out.size() > 1 && out[out.size() - 1] == '\n' &&
         out[out.size() - 2] == '\n')
    out.pop_back();
  return out;
}

std::string contentHash(const CompiledModule &module) {
  llvm::SHA256 hash;
  feed(hash, module.ptx);
  feed(hash, toJson(module.kernels));
  feed(hash, module.cubin);
  return hexDigest(hash);
}

struct MemoryCache {
  std::mutex mutex;
  std::unordered_map<std::string, CompiledModule> entries;
  std::set<std::string> warnedDirs;
};

MemoryCache &memory() {
  static MemoryCache cache;
  return cache;
}

/// One warning per directory and process.
void warnOnce(const std::string &dir, const std::string &message) {
  MemoryCache &m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  if (m.warnedDirs.insert(dir).second)
    llvm::errs() << "tilus: warning: " << message << "\n";
}

/// The file holding this compiler (tilusc, libtilus, a test) with its size
/// and modification time: a rebuild from an uncommitted tree keeps the
/// version and commit but changes these, so it does not read entries that
/// an older build of the same commit wrote.
const std::string &buildIdentity() {
  static const std::string identity = [] {
    Dl_info info;
    struct stat st;
    if (!dladdr(reinterpret_cast<void *>(&buildIdentity), &info) ||
        !info.dli_fname || stat(info.dli_fname, &st) != 0)
      return std::string("unknown");
    return std::string(info.dli_fname) + ":" + std::to_string(st.st_size) +
           ":" + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec);
  }();
  return identity;
}

} // namespace

std::string jit::cacheKey(std::string_view source,
                          const std::map<std::string, std::string> &defines,
                          const std::string &arch) {
  llvm::SHA256 hash;
  feed(hash, "tilus-kernel-cache");
  feed(hash, std::to_string(kFormat));
  feed(hash, TILUS_VERSION);
  feed(hash, TILUS_GIT_COMMIT);
  feed(hash, buildIdentity());
  feed(hash, LLVM_VERSION_STRING);
  feed(hash, arch);
  for (const auto &[name, value] : defines) {
    feed(hash, name);
    feed(hash, value);
  }
  feed(hash, "source");
  feed(hash, canonicalSource(source));
  return hexDigest(hash);
}

bool jit::logCache() {
  const char *log = std::getenv("TILUS_LOG");
  return log && llvm::StringRef(log).split(',').first.contains("cache");
}

std::optional<CompiledModule> jit::memoryLookup(const std::string &key) {
  MemoryCache &m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  auto it = m.entries.find(key);
  if (it == m.entries.end())
    return std::nullopt;
  return it->second;
}

void jit::memoryInsert(const CompiledModule &module) {
  MemoryCache &m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  m.entries[module.key] = module;
}

void jit::memoryClear() {
  MemoryCache &m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  m.entries.clear();
}

std::string jit::serializeEntry(const CompiledModule &module) {
  llvm::Expected<llvm::json::Value> kernels =
      llvm::json::parse(toJson(module.kernels));
  llvm::json::Object entry{
      {"format", kFormat},
      {"key", module.key},
      {"tilus", std::string(TILUS_VERSION) + " " + TILUS_GIT_COMMIT},
      {"llvm", LLVM_VERSION_STRING},
      {"sha256", contentHash(module)},
      {"kernels", kernels ? std::move(*kernels) : llvm::json::Value(nullptr)},
      {"ptx", module.ptx}};
  if (!module.cubin.empty())
    entry["cubin"] = llvm::encodeBase64(module.cubin);
  if (!kernels)
    llvm::consumeError(kernels.takeError());
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(entry)) << "\n";
  return text;
}

std::optional<CompiledModule> jit::parseEntry(std::string_view text,
                                              std::string &error) {
  if (nestsDeeperThan(text, kMaxNestingDepth)) {
    error =
        "nesting deeper than " + std::to_string(kMaxNestingDepth) + " levels";
    return std::nullopt;
  }
  llvm::Expected<llvm::json::Value> value =
      llvm::json::parse(llvm::StringRef(text.data(), text.size()));
  if (!value) {
    error = "not JSON (" + llvm::toString(value.takeError()) + ")";
    return std::nullopt;
  }
  const llvm::json::Object *obj = value->getAsObject();
  if (!obj) {
    error = "not a JSON object";
    return std::nullopt;
  }
  std::optional<int64_t> format = obj->getInteger("format");
  std::optional<llvm::StringRef> key = obj->getString("key");
  std::optional<llvm::StringRef> sha = obj->getString("sha256");
  std::optional<llvm::StringRef> ptx = obj->getString("ptx");
  const llvm::json::Value *kernels = obj->get("kernels");
  if (!format || *format != kFormat || !key || !sha || !ptx || !kernels) {
    error = "missing fields or another format";
    return std::nullopt;
  }
  CompiledModule module;
  module.key = key->str();
  module.ptx = ptx->str();
  std::string kernelsText;
  llvm::raw_string_ostream os(kernelsText);
  os << *kernels;
  if (!fromJson(kernelsText, module.kernels, error))
    return std::nullopt;
  if (std::optional<llvm::StringRef> cubin = obj->getString("cubin")) {
    std::vector<char> bytes;
    if (llvm::Error e = llvm::decodeBase64(*cubin, bytes)) {
      error = "bad cubin (" + llvm::toString(std::move(e)) + ")";
      return std::nullopt;
    }
    module.cubin.assign(bytes.begin(), bytes.end());
  }
  if (contentHash(module) != *sha) {
    error = "content hash mismatch";
    return std::nullopt;
  }
  return module;
}

std::optional<CompiledModule> jit::diskLookup(const std::string &dir,
                                              const std::string &key) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, key + ".json");
  // Only a regular file is read: a FIFO would block and a link to a device
  // never ends. Anything else is left to diskInsert's rename to replace.
  llvm::sys::fs::file_status st;
  if (llvm::sys::fs::status(path, st, /*Follow=*/false))
    return std::nullopt;
  if (st.type() != llvm::sys::fs::file_type::regular_file) {
    llvm::errs() << "tilus: cache: entry " << path
                 << " is not a regular file; recompiling\n";
    return std::nullopt;
  }
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!file)
    return std::nullopt;
  std::string error;
  std::optional<CompiledModule> module =
      parseEntry((*file)->getBuffer().str(), error);
  if (module && module->key != key) {
    error = "it holds the key " + module->key;
    module.reset();
  }
  if (!module) {
    llvm::errs() << "tilus: cache: corrupt entry " << path << " (" << error
                 << "); recompiling\n";
    return std::nullopt;
  }
  return module;
}

void jit::diskInsert(const std::string &dir, const CompiledModule &module) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
    warnOnce(dir, "kernel cache directory '" + dir + "' cannot be created (" +
                      ec.message() + "); caching in memory only");
    return;
  }
  llvm::SmallString<256> model(dir);
  llvm::sys::path::append(model, module.key + ".tmp-%%%%%%%%");
  int fd;
  llvm::SmallString<256> temp;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, temp)) {
    warnOnce(dir, "kernel cache directory '" + dir + "' is not writable (" +
                      ec.message() + "); caching in memory only");
    return;
  }
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << serializeEntry(module);
    os.close();
    if (os.has_error()) {
      os.clear_error();
      llvm::sys::fs::remove(temp);
      warnOnce(dir, "cannot write to the kernel cache '" + dir +
                        "'; caching in memory only");
      return;
    }
  }
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, module.key + ".json");
  if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
    llvm::sys::fs::remove(temp);
    warnOnce(dir, "cannot write to the kernel cache '" + dir + "' (" +
                      ec.message() + "); caching in memory only");
  }
}
