//===- Autotune.cpp - Choose among kernel variants by time ----------------===//

#include "tilus/Autotune.h"

#include "runtime/core/OutputFile.h"
#include "runtime/jit/KernelCache.h"
#include "support/Progress.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>

using namespace tilus;

namespace {

constexpr int kFormat = 1;

std::string defineText(const std::map<std::string, std::string> &defines) {
  std::string text;
  for (const auto &[name, value] : defines)
    text += (text.empty() ? "" : ",") + name + "=" + value;
  return text;
}

/// \p v rounded up to a power of two (values below 1 stay as they are).
int64_t bucketOf(int64_t v) {
  if (v <= 1)
    return v;
  int64_t p = 1;
  while (p < v && p <= INT64_MAX / 2)
    p *= 2;
  return p < v ? v : p;
}

bool diskEnabled(const AutotuneOptions &options) {
  if (options.diskCache)
    return *options.diskCache;
  const char *env = std::getenv("TILUS_CACHE");
  return !(env && std::string_view(env) == "0");
}

/// Scratch copies of the buffers a kernel may write, with their initial
/// bytes, so that every trial starts from the caller's data and none
/// changes it.
class Scratch {
public:
  Status init(Device &device, const KernelInfo &info,
              const std::vector<Arg> &args) {
    trialArgs = args;
    for (size_t i = 0; i < args.size() && i < info.params.size(); ++i) {
      const ParamInfo &p = info.params[i];
      if (!p.isGlobal || !p.written || args[i].kind != Arg::Kind::Buffer)
        continue;
      if (args[i].bytes == 0)
        return Status::error("autotuning needs the size of '" + p.name +
                             "', which the kernel may write: pass it with "
                             "the buffer");
      std::vector<uint8_t> bytes(args[i].bytes);
      if (Status s = device.copyFromDevice(bytes.data(), args[i].ptr,
                                           bytes.size());
          !s)
        return s;
      Expected<Buffer> copy = Buffer::create(device, bytes.size());
      if (!copy)
        return copy.error();
      trialArgs[i].ptr = copy->ptr();
      copies.push_back({std::move(*copy), std::move(bytes)});
    }
    return restore();
  }
  /// Puts the initial bytes back.
  Status restore() {
    for (auto &[buffer, bytes] : copies)
      if (Status s = buffer.copyFrom(bytes.data()); !s)
        return s;
    return Status::success();
  }
  std::vector<Arg> trialArgs;

private:
  std::vector<std::pair<Buffer, std::vector<uint8_t>>> copies;
};

} // namespace

struct Autotuner::Impl {
  Device &device;
  AutotuneOptions options;
  std::vector<std::optional<Kernel>> kernels;
  std::vector<std::string> errors;
  const Kernel *first = nullptr; ///< the first candidate that compiled
  std::vector<size_t> keyParams; ///< indices of the key parameters
  std::string tunerKey;          ///< names the disk file
  std::map<std::string, AutotuneChoice> choices;
  std::mutex mutex;

  Impl(Device &device, AutotuneOptions options)
      : device(device), options(std::move(options)) {}

  bool emulated() const { return device.name() == "emu"; }

  std::string basis() const {
    return emulated() ? "modelled " + options.gpu : "measured";
  }

  std::string diskPath() const {
    std::string dir = options.jit.cacheDir.empty() ? defaultCacheDir()
                                                   : options.jit.cacheDir;
    if (dir.empty())
      return "";
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, "autotune", tunerKey + ".json");
    return std::string(path);
  }

  std::string bucketOf(const std::vector<Arg> &args) const {
    std::string text;
    for (size_t i : keyParams)
      text += (text.empty() ? "" : ",") + first->info().params[i].name + "=" +
              std::to_string(::bucketOf(args[i].intValue));
    return text;
  }

  std::optional<AutotuneChoice> readDisk(const std::string &bucket);
  void writeDisk(const AutotuneChoice &choice);
  Expected<AutotuneChoice> run(const std::string &bucket,
                               const std::vector<Arg> &args);
  Expected<double> trial(const Kernel &kernel, Scratch &scratch);
};

Autotuner::Autotuner(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Autotuner::~Autotuner() = default;

size_t Autotuner::size() const { return impl->kernels.size(); }
const Kernel *Autotuner::kernel(size_t index) const {
  return index < impl->kernels.size() && impl->kernels[index]
             ? &*impl->kernels[index]
             : nullptr;
}
const std::string &Autotuner::compileError(size_t index) const {
  return impl->errors.at(index);
}
std::string Autotuner::configText(size_t index) const {
  return defineText(impl->options.configs.at(index));
}

Expected<std::unique_ptr<Autotuner>>
Autotuner::create(Device &device, std::string_view source,
                  std::string_view filename, AutotuneOptions options) {
  if (options.configs.empty())
    return Status::error("autotune: no configurations to choose from");
  if (device.name() == "emu" && !findGpu(options.gpu))
    return Status::error("autotune: unknown GPU '" + options.gpu +
                         "' for the emulator's model (known: " + gpuNames() +
                         ")");
  if (options.warmup < 0 || options.reps < 1)
    return Status::error("autotune: warmup must be >= 0 and reps >= 1");
  auto impl = std::make_unique<Impl>(device, std::move(options));
  AutotuneOptions &opts = impl->options;
  size_t n = opts.configs.size();
  impl->kernels.resize(n);
  impl->errors.resize(n);

  // Compile in parallel; the kernel cache is thread-safe.
  std::string sourceText(source), name(filename);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < n;) {
      JitOptions jit = opts.jit;
      for (const auto &[k, v] : opts.configs[i])
        jit.defines[k] = v;
      Expected<Kernel> kernel = compile(device, sourceText, name, jit);
      if (kernel)
        impl->kernels[i] = std::move(*kernel);
      else
        impl->errors[i] = kernel.error().message();
    }
  };
  size_t threads =
      std::min<size_t>(n, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t)
    pool.emplace_back(worker);
  worker();
  for (std::thread &t : pool)
    t.join();

  std::string failures;
  for (size_t i = 0; i < n; ++i) {
    if (impl->kernels[i]) {
      if (!impl->first)
        impl->first = &*impl->kernels[i];
      continue;
    }
    failures += "\n  " + defineText(opts.configs[i]) + ": " + impl->errors[i];
  }
  if (!impl->first)
    return Status::error("autotune: no configuration compiles:" + failures);
  const KernelInfo &info = impl->first->info();
  for (const std::optional<Kernel> &k : impl->kernels) {
    if (!k)
      continue;
    const KernelInfo &other = k->info();
    bool same = other.params.size() == info.params.size();
    for (size_t i = 0; same && i < info.params.size(); ++i)
      same = other.params[i].name == info.params[i].name &&
             other.params[i].dtype == info.params[i].dtype &&
             other.params[i].isGlobal == info.params[i].isGlobal;
    if (!same)
      return Status::error("autotune: the configurations give kernels with "
                           "different parameters ('" + info.name + "')");
  }
  for (const std::string &k : opts.key) {
    auto it = std::find_if(info.params.begin(), info.params.end(),
                           [&](const ParamInfo &p) { return p.name == k; });
    if (it == info.params.end() || it->isGlobal ||
        !(it->dtype[0] == 'i' || it->dtype[0] == 'u'))
      return Status::error("autotune: key '" + k + "' is not an integer "
                           "scalar parameter of '" + info.name + "'");
    impl->keyParams.push_back(size_t(it - info.params.begin()));
  }

  // The file of choices is named by what decides them: every candidate's
  // compile (source, defines, target, compiler versions) and the basis.
  llvm::SHA256 hash;
  auto feed = [&](std::string_view field) {
    hash.update(llvm::StringRef(field.data(), field.size()));
    hash.update(llvm::ArrayRef<uint8_t>{0});
  };
  feed("tilus-autotune");
  feed(impl->basis());
  feed(std::to_string(opts.sampleCtas));
  if (!impl->emulated())
    feed(device.description());
  std::string arch = opts.jit.arch.empty() ? device.arch() : opts.jit.arch;
  for (const auto &config : opts.configs) {
    std::map<std::string, std::string> defines = opts.jit.defines;
    for (const auto &[k, v] : config)
      defines[k] = v;
    feed(jit::cacheKey(sourceText, defines, arch));
  }
  feed(defineText({{"kernel", opts.jit.kernel}}));
  impl->tunerKey = llvm::toHex(hash.final(), /*LowerCase=*/true);
  return std::unique_ptr<Autotuner>(new Autotuner(std::move(impl)));
}

std::optional<AutotuneChoice>
Autotuner::Impl::readDisk(const std::string &bucket) {
  std::string path = diskPath();
  if (path.empty())
    return std::nullopt;
  llvm::sys::fs::file_status st;
  if (llvm::sys::fs::status(path, st, /*Follow=*/false) ||
      st.type() != llvm::sys::fs::file_type::regular_file)
    return std::nullopt;
  auto file = llvm::MemoryBuffer::getFile(path);
  if (!file)
    return std::nullopt;
  llvm::Expected<llvm::json::Value> value =
      llvm::json::parse((*file)->getBuffer());
  if (!value) {
    llvm::consumeError(value.takeError());
    return std::nullopt;
  }
  const llvm::json::Object *root = value->getAsObject();
  const llvm::json::Object *buckets =
      root ? root->getObject("buckets") : nullptr;
  const llvm::json::Object *entry =
      buckets ? buckets->getObject(bucket) : nullptr;
  if (!entry || root->getInteger("format") != kFormat)
    return std::nullopt;
  std::optional<int64_t> index = entry->getInteger("index");
  std::optional<llvm::StringRef> config = entry->getString("config");
  if (!index || !config || *index < 0 || size_t(*index) >= kernels.size() ||
      !kernels[*index] || *config != defineText(options.configs[*index]))
    return std::nullopt;
  AutotuneChoice choice;
  choice.bucket = bucket;
  choice.index = size_t(*index);
  choice.basis = "cache";
  return choice;
}

void Autotuner::Impl::writeDisk(const AutotuneChoice &choice) {
  std::string path = diskPath();
  if (path.empty())
    return;
  llvm::json::Object root{{"format", kFormat}};
  llvm::json::Object buckets;
  // Keep the other buckets' choices (a reader sees the old file or the new).
  if (auto file = llvm::MemoryBuffer::getFile(path)) {
    llvm::Expected<llvm::json::Value> old =
        llvm::json::parse((*file)->getBuffer());
    if (!old)
      llvm::consumeError(old.takeError());
    else if (const llvm::json::Object *o = old->getAsObject())
      if (const llvm::json::Object *b = o->getObject("buckets"))
        buckets = *b;
  }
  double best = choice.trials[choice.index].timeUs;
  buckets[choice.bucket] =
      llvm::json::Object{{"index", int64_t(choice.index)},
                         {"config", defineText(options.configs[choice.index])},
                         {"basis", choice.basis},
                         {"time_us", best}};
  root["buckets"] = std::move(buckets);
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(root)) << "\n";
  llvm::sys::fs::create_directories(llvm::sys::path::parent_path(path));
  if (Status s = writeOutputFile(path, text); !s)
    llvm::errs() << "tilus: autotune: cannot keep the choice: "
                 << s.message() << "\n";
}

Expected<double> Autotuner::Impl::trial(const Kernel &kernel,
                                        Scratch &scratch) {
  if (emulated()) {
    if (Status s = device.enableProfiling(true, options.sampleCtas); !s)
      return s;
    Status launched = kernel.launch(scratch.trialArgs);
    Expected<Profile> profile =
        launched ? device.lastProfile({options.gpu}) : Expected<Profile>(launched);
    if (!profile)
      return profile.error();
    if (profile->estimates.empty())
      return Status::error("the model gave no estimate for " + options.gpu);
    return profile->estimates.front().timeUs;
  }
  for (int i = 0; i < options.warmup; ++i)
    if (Status s = kernel.launch(scratch.trialArgs); !s)
      return s;
  std::vector<double> times;
  for (int i = 0; i < options.reps; ++i) {
    LaunchStats stats;
    if (Status s = kernel.launch(scratch.trialArgs, 0, &stats); !s)
      return s;
    times.push_back(stats.milliseconds * 1000);
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2,
                   times.end());
  return times[times.size() / 2];
}

Expected<AutotuneChoice> Autotuner::Impl::run(const std::string &bucket,
                                              const std::vector<Arg> &args) {
  Scratch scratch;
  if (Status s = scratch.init(device, first->info(), args); !s)
    return s;
  std::string progressError;
  Progress progress(ProgressPolicy::fromEnvironment(progressError),
                    "autotuning " + first->info().name + " (" + bucket + ")",
                    kernels.size(), "configs");
  AutotuneChoice choice;
  choice.bucket = bucket;
  choice.basis = basis();
  std::optional<size_t> best;
  for (size_t i = 0; i < kernels.size(); ++i) {
    AutotuneTrial t;
    t.config = defineText(options.configs[i]);
    if (!kernels[i]) {
      t.error = errors[i];
    } else if (Expected<double> us = trial(*kernels[i], scratch); us) {
      t.timeUs = *us;
      if (!best || t.timeUs < choice.trials[*best].timeUs)
        best = i;
    } else {
      t.error = us.error().message();
    }
    choice.trials.push_back(std::move(t));
    if (Status s = scratch.restore(); !s)
      return s;
    progress.step();
  }
  if (emulated()) {
    const char *env = std::getenv("TILUS_PROFILE");
    (void)device.enableProfiling(env && *env && std::string_view(env) != "0");
  }
  if (!best) {
    std::string failures;
    for (const AutotuneTrial &t : choice.trials)
      failures += "\n  " + t.config + ": " + t.error;
    return Status::error("autotune: no configuration runs:" + failures);
  }
  choice.index = *best;
  return choice;
}

Expected<AutotuneChoice> Autotuner::choose(const std::vector<Arg> &args) {
  if (Status s = impl->first->check(args); !s)
    return s;
  std::lock_guard<std::mutex> lock(impl->mutex);
  std::string bucket = impl->bucketOf(args);
  if (auto it = impl->choices.find(bucket); it != impl->choices.end())
    return it->second;
  bool disk = diskEnabled(impl->options);
  std::optional<AutotuneChoice> choice;
  if (disk)
    choice = impl->readDisk(bucket);
  if (!choice) {
    Expected<AutotuneChoice> ran = impl->run(bucket, args);
    if (!ran)
      return ran.error();
    choice = std::move(*ran);
    if (disk)
      impl->writeDisk(*choice);
  }
  impl->choices[bucket] = *choice;
  return *choice;
}

Status Autotuner::launch(const std::vector<Arg> &args, Stream stream,
                         LaunchStats *stats) {
  Expected<AutotuneChoice> choice = choose(args);
  if (!choice)
    return choice.error();
  return impl->kernels[choice->index]->launch(args, stream, stats);
}
