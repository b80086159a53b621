//===- CApi.cpp - The C API (tilus.h) over the C++ runtime ----------------===//
//
// Built into libtilus only. With TILUS_WITH_JIT the compile functions call
// the JIT library; without it (the core-only build) they report that the
// library has no compiler.
//
//===----------------------------------------------------------------------===//

#include "tilus/tilus.h"

#include "ir/dtype/DType.h"
#include "tilus/Matmul.h"
#include "tilus/Runtime.h"
#include "tilus/Version.h"
#if TILUS_WITH_JIT
#include "tilus/Autotune.h"
#include "tilus/Jit.h"
#include "tilus/MatmulJit.h"
#endif

#include <memory>
#include <sstream>

using namespace tilus;

struct tilus_device {
  std::unique_ptr<Device> device;
  std::string name, description, arch;
  std::string lastProfile; ///< tilus_device_last_profile's JSON
};

struct tilus_kernel {
  Kernel kernel;
  std::string infoJson;
};

struct tilus_autotuner {
#if TILUS_WITH_JIT
  std::unique_ptr<Autotuner> tuner;
#endif
  std::vector<std::unique_ptr<tilus_kernel>> kernels; ///< null: not compiled
  std::string choiceJson;
};

namespace {

thread_local std::string lastError;
thread_local int lastCode = TILUS_SUCCESS;

int fail(tilus_error_code code, const std::string &message) {
  lastError = message;
  lastCode = code;
  return -1;
}

int fail(tilus_error_code code, const Status &status) {
  return fail(code, status.message());
}

/// A failure the caller's arguments caused.
int failArg(const std::string &message) {
  return fail(TILUS_ERROR_INVALID_ARGUMENT, message);
}
int failArg(const Status &status) { return failArg(status.message()); }

int succeed() {
  lastError.clear();
  lastCode = TILUS_SUCCESS;
  return 0;
}

/// Runs the body of a C API function: an exception from the library below
/// (out of memory, a library bug) becomes a failure with its message, never
/// an unwind into a C caller.
template <typename F> int guarded(F &&body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return fail(TILUS_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
  } catch (const std::exception &e) {
    return fail(TILUS_ERROR_INTERNAL,
                std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(TILUS_ERROR_INTERNAL, "internal error: unknown exception");
  }
}

int badCount(const char *what, int count) {
  return failArg(std::string(what) + " must not be negative, got " +
                 std::to_string(count));
}

/// Refuses arguments whose reserved fields are set (tilus.h, "Room to
/// grow"): they may mean something to a later library.
Status checkReserved(const tilus_arg *args, int nargs) {
  for (int i = 0; i < nargs; ++i)
    for (uint64_t r : args[i].reserved)
      if (r != 0)
        return Status::error(
            "args[" + std::to_string(i) +
            "].reserved is not zero: zero-initialise tilus_arg (its "
            "reserved fields are for later versions of the library)");
  return Status::success();
}

std::vector<Arg> toArgs(const tilus_arg *args, int nargs) {
  std::vector<Arg> out;
  for (int i = 0; i < nargs; ++i) {
    const tilus_arg &a = args[i];
    std::string dtype = a.dtype ? a.dtype : "";
    switch (a.kind) {
    case TILUS_ARG_BUFFER:
      out.push_back(Arg::buffer(a.ptr, a.bytes, dtype));
      break;
    case TILUS_ARG_FLOAT:
      out.push_back(Arg::real(a.float_value, dtype));
      break;
    default:
      out.push_back(Arg::integer(a.int_value, dtype));
    }
  }
  return out;
}

int makeKernel(Expected<Kernel> kernel, tilus_error_code onError,
               tilus_kernel **out) {
  if (!kernel)
    return fail(onError, kernel.error());
  std::string json = toJson({kernel->info()});
  *out = new tilus_kernel{std::move(*kernel), std::move(json)};
  return succeed();
}

std::optional<DType> parseType(const char *name) {
  std::string error;
  std::optional<DType> type = DType::parse(name ? name : "", &error);
  if (!type)
    failArg(error);
  return type;
}

/// Fails on the first code with bits outside \p type's width: codes are
/// refused, never masked.
bool codesFit(DType type, const uint64_t *codes, size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (codes[i] & ~type.codeMask()) {
      failArg("code " + std::to_string(codes[i]) + " at index " +
              std::to_string(i) + " does not fit " + type.name());
      return false;
    }
  return true;
}

#if TILUS_WITH_JIT
JitOptions jitOptions(const char *const *defines, int ndefines,
                      const char *kernelName, std::string &error) {
  JitOptions options;
  for (int i = 0; i < ndefines; ++i) {
    std::string d = defines[i] ? defines[i] : "";
    size_t eq = d.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == d.size()) {
      error = "define expects NAME=VALUE, got '" + d + "'";
      break;
    }
    options.defines[d.substr(0, eq)] = d.substr(eq + 1);
  }
  if (kernelName)
    options.kernel = kernelName;
  return options;
}

/// "A=1,B=2" as a map; an item that is not NAME=VALUE sets \p error.
std::map<std::string, std::string> parseSettings(const char *text,
                                                 const char *what,
                                                 std::string &error) {
  std::map<std::string, std::string> out;
  std::stringstream items(text ? text : "");
  for (std::string item; std::getline(items, item, ',');) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      error = std::string(what) + " expects NAME=VALUE items separated by "
              "commas, got '" + item + "'";
      break;
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

/// \p value as a count in [0, 1 << 30]; otherwise sets \p error.
int settingCount(const std::string &name, const std::string &value,
                 std::string &error) {
  char *end = nullptr;
  long long v = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end || v < 0 || v > (1 << 30)) {
    error = "autotune option " + name + " expects a count, got '" + value +
            "'";
    return 0;
  }
  return int(v);
}

/// The options string of tilus_autotune_create.
bool applyAutotuneOptions(const char *text, AutotuneOptions &options,
                          std::string &error) {
  for (const auto &[name, value] : parseSettings(text, "options", error)) {
    if (name == "gpu")
      options.gpu = value;
    else if (name == "sample_ctas")
      options.sampleCtas = uint32_t(settingCount(name, value, error));
    else if (name == "warmup")
      options.warmup = settingCount(name, value, error);
    else if (name == "reps")
      options.reps = settingCount(name, value, error);
    else if (name == "kernel")
      options.jit.kernel = value;
    else if (name == "cache" && (value == "0" || value == "1"))
      options.diskCache = value == "1";
    else
      error = "unknown autotune option '" + name + "=" + value +
              "' (gpu, sample_ctas, warmup, reps, kernel, cache=0|1)";
    if (!error.empty())
      return false;
  }
  return error.empty();
}

std::string choiceJson(const AutotuneChoice &choice, const Autotuner &tuner) {
  auto quote = [](const std::string &text) {
    std::string out = "\"";
    for (char c : text) {
      if (c == '"' || c == '\\')
        out += '\\';
      if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
        continue;
      }
      out += c;
    }
    return out + "\"";
  };
  std::ostringstream os;
  os.precision(17);
  os << "{\"bucket\": " << quote(choice.bucket)
     << ", \"index\": " << choice.index
     << ", \"config\": " << quote(tuner.configText(choice.index))
     << ", \"basis\": " << quote(choice.basis) << ", \"trials\": [";
  for (size_t i = 0; i < choice.trials.size(); ++i) {
    const AutotuneTrial &t = choice.trials[i];
    os << (i ? ", " : "") << "{\"config\": " << quote(t.config)
       << ", \"time_us\": ";
    if (t.timeUs < 0)
      os << "null";
    else
      os << t.timeUs;
    os << ", \"error\": " << quote(t.error) << "}";
  }
  os << "]}";
  return os.str();
}
#endif

} // namespace

extern "C" {

const char *tilus_last_error(void) { return lastError.c_str(); }

int tilus_last_error_code(void) { return lastCode; }

const char *tilus_version(void) {
  return TILUS_VERSION " (commit " TILUS_GIT_COMMIT ")";
}

int tilus_has_compiler(void) { return TILUS_WITH_JIT ? 1 : 0; }

int tilus_device_create(const char *name, tilus_device **out) {
  return guarded([&] {
    if (!(out))
      return failArg("null argument");
    Expected<std::unique_ptr<Device>> dev = createDevice(name ? name : "");
    if (!dev)
      return fail(TILUS_ERROR_NO_DEVICE, dev.error());
    auto *d = new tilus_device;
    d->device = std::move(*dev);
    d->name = d->device->name();
    d->description = d->device->description();
    d->arch = d->device->arch();
    *out = d;
    return succeed();
  });
}

void tilus_device_destroy(tilus_device *device) { delete device; }

const char *tilus_device_name(tilus_device *device) {
  return device ? device->name.c_str() : "";
}

const char *tilus_device_description(tilus_device *device) {
  return device ? device->description.c_str() : "";
}

const char *tilus_device_arch(tilus_device *device) {
  return device ? device->arch.c_str() : "";
}

int tilus_device_enable_profiling(tilus_device *device, int on,
                                  int sample_ctas) {
  return guarded([&] {
    if (!device)
      return failArg("null argument");
    if (sample_ctas < 0)
      return failArg("sample_ctas must be 0 (every CTA) or a count of CTAs");
    if (Status s = device->device->enableProfiling(on != 0,
                                                   uint32_t(sample_ctas));
        !s)
      return fail(TILUS_ERROR_DEVICE, s);
    return succeed();
  });
}

int tilus_device_last_profile(tilus_device *device, const char *gpus,
                              const char **json) {
  return guarded([&] {
    if (!device || !json)
      return failArg("null argument");
    std::vector<std::string> names;
    std::string list = gpus ? gpus : "";
    for (size_t at = 0; at < list.size();) {
      size_t comma = list.find(',', at);
      if (comma == std::string::npos)
        comma = list.size();
      if (comma > at)
        names.push_back(list.substr(at, comma - at));
      at = comma + 1;
    }
    if (Status s = checkGpuNames(names); !s)
      return failArg(s);
    Expected<Profile> p = device->device->lastProfile(names);
    if (!p)
      return fail(TILUS_ERROR_DEVICE, p.error());
    device->lastProfile = p->toJson();
    *json = device->lastProfile.c_str();
    return succeed();
  });
}

int tilus_malloc(tilus_device *device, uint64_t bytes, uint64_t *out) {
  return guarded([&] {
    if (!(device && out))
      return failArg("null argument");
    Expected<DevicePtr> p = device->device->allocate(bytes);
    if (!p)
      return fail(TILUS_ERROR_DEVICE, p.error());
    *out = *p;
    return succeed();
  });
}

int tilus_free(tilus_device *device, uint64_t ptr) {
  return guarded([&] {
    if (!(device))
      return failArg("null argument");
    if (Status s = device->device->free(ptr); !s)
      return fail(TILUS_ERROR_DEVICE, s);
    return succeed();
  });
}

int tilus_memcpy_htod(tilus_device *device, uint64_t dst, const void *src,
                      uint64_t bytes) {
  return guarded([&] {
    if (!device || (!src && bytes))
      return failArg("null argument");
    if (Status s = device->device->copyToDevice(dst, src, bytes); !s)
      return fail(TILUS_ERROR_DEVICE, s);
    return succeed();
  });
}

int tilus_memcpy_dtoh(tilus_device *device, void *dst, uint64_t src,
                      uint64_t bytes) {
  return guarded([&] {
    if (!device || (!dst && bytes))
      return failArg("null argument");
    if (Status s = device->device->copyFromDevice(dst, src, bytes); !s)
      return fail(TILUS_ERROR_DEVICE, s);
    return succeed();
  });
}

int tilus_synchronize(tilus_device *device, uint64_t stream) {
  return guarded([&] {
    if (!(device))
      return failArg("null argument");
    if (Status s = device->device->synchronize(stream); !s)
      return fail(TILUS_ERROR_DEVICE, s);
    return succeed();
  });
}

int tilus_compile(tilus_device *device, const char *source,
                  const char *filename, const char *const *defines,
                  int ndefines, const char *kernel_name, tilus_kernel **out) {
  return guarded([&] {
    if (!device || !out || (ndefines > 0 && !defines))
      return failArg("null argument");
    if (ndefines < 0)
      return badCount("ndefines", ndefines);
  #if TILUS_WITH_JIT
    std::string error;
    JitOptions options = jitOptions(defines, ndefines, kernel_name, error);
    if (!error.empty())
      return failArg(error);
    return makeKernel(compile(*device->device, source ? source : "",
                              filename ? filename : "<source>", options),
                      TILUS_ERROR_COMPILE, out);
  #else
    return fail(TILUS_ERROR_NO_COMPILER,
                "this libtilus is the runtime core, built without the "
                "compiler: load precompiled kernels with tilus_load");
  #endif
  });
}

int tilus_compile_file(tilus_device *device, const char *path,
                       const char *const *defines, int ndefines,
                       const char *kernel_name, tilus_kernel **out) {
  return guarded([&] {
    if (!device || !out || (ndefines > 0 && !defines))
      return failArg("null argument");
    if (ndefines < 0)
      return badCount("ndefines", ndefines);
  #if TILUS_WITH_JIT
    std::string error;
    JitOptions options = jitOptions(defines, ndefines, kernel_name, error);
    if (!error.empty())
      return failArg(error);
    return makeKernel(compileFile(*device->device, path ? path : "", options),
                      TILUS_ERROR_COMPILE, out);
  #else
    return tilus_compile(device, nullptr, path, defines, ndefines, kernel_name,
                         out);
  #endif
  });
}

int tilus_load(tilus_device *device, const void *image, size_t size,
               const char *metadata_json, const char *kernel_name,
               tilus_kernel **out) {
  return guarded([&] {
    if (!device || !out || (!image && size))
      return failArg("null argument");
    return makeKernel(
        loadKernel(*device->device,
                   std::string_view(static_cast<const char *>(image), size),
                   metadata_json ? metadata_json : "",
                   kernel_name ? kernel_name : ""),
        TILUS_ERROR_LOAD, out);
  });
}

void tilus_kernel_destroy(tilus_kernel *kernel) { delete kernel; }

const char *tilus_kernel_info(tilus_kernel *kernel) {
  return kernel ? kernel->infoJson.c_str() : "";
}

int tilus_launch(tilus_kernel *kernel, const tilus_arg *args, int nargs,
                 uint64_t stream, tilus_launch_stats *stats) {
  return guarded([&] {
    if (!kernel || (nargs > 0 && !args))
      return failArg("null argument");
    if (nargs < 0)
      return badCount("nargs", nargs);
    if (Status st = checkReserved(args, nargs); !st)
      return failArg(st);
    std::vector<Arg> checked = toArgs(args, nargs);
    if (Status st = kernel->kernel.check(checked); !st)
      return failArg(st);
    LaunchStats s;
    if (Status st = kernel->kernel.launch(checked, stream,
                                          stats ? &s : nullptr);
        !st)
      return fail(TILUS_ERROR_DEVICE, st);
    if (stats) {
      *stats = tilus_launch_stats{};
      stats->milliseconds = s.milliseconds;
      stats->warp_instructions = s.warpInstructions;
    }
    return succeed();
  });
}

int tilus_kernel_grid(tilus_kernel *kernel, const tilus_arg *args, int nargs,
                      uint32_t grid[3]) {
  return guarded([&] {
    if (!kernel || !grid || (nargs > 0 && !args))
      return failArg("null argument");
    if (nargs < 0)
      return badCount("nargs", nargs);
    if (Status st = checkReserved(args, nargs); !st)
      return failArg(st);
    Expected<Dim3> g = kernel->kernel.grid(toArgs(args, nargs));
    if (!g)
      return failArg(g.error());
    grid[0] = g->x;
    grid[1] = g->y;
    grid[2] = g->z;
    return succeed();
  });
}

int tilus_encode(const char *dtype, const double *values, size_t count,
                 uint64_t *codes) {
  return guarded([&] {
    if (count && (!values || !codes))
      return failArg("null argument");
    std::optional<DType> type = parseType(dtype);
    if (!type)
      return -1;
    for (size_t i = 0; i < count; ++i)
      codes[i] = encode(*type, values[i]);
    return succeed();
  });
}

int tilus_decode(const char *dtype, const uint64_t *codes, size_t count,
                 double *values) {
  return guarded([&] {
    if (count && (!codes || !values))
      return failArg("null argument");
    std::optional<DType> type = parseType(dtype);
    if (!type)
      return -1;
    if (!codesFit(*type, codes, count))
      return -1;
    for (size_t i = 0; i < count; ++i)
      values[i] = decode(*type, codes[i]);
    return succeed();
  });
}

int tilus_packed_size(const char *dtype, uint64_t count, uint64_t *out) {
  return guarded([&] {
    if (!out)
      return failArg("null argument");
    Expected<uint64_t> n = storageBytes(dtype ? dtype : "", count);
    if (!n)
      return failArg(n.error());
    *out = *n;
    return succeed();
  });
}

int tilus_pack(const char *dtype, const uint64_t *codes, size_t count,
               uint8_t *out) {
  return guarded([&] {
    if (count && (!codes || !out))
      return failArg("null argument");
    std::optional<DType> type = parseType(dtype);
    if (!type)
      return -1;
    if (!codesFit(*type, codes, count))
      return -1;
    packBits(codes, count, type->bitWidth(), out);
    return succeed();
  });
}

int tilus_unpack(const char *dtype, const uint8_t *in, size_t count,
                 uint64_t *codes) {
  return guarded([&] {
    if (count && (!in || !codes))
      return failArg("null argument");
    std::optional<DType> type = parseType(dtype);
    if (!type)
      return -1;
    unpackBits(in, count, type->bitWidth(), codes);
    return succeed();
  });
}

} // extern "C"

int tilus_matmul_config(int64_t m, int64_t n, int64_t k, int bits,
                        int64_t group, int64_t tile[4]) {
  return guarded([&] {
    if (!tile)
      return failArg("null argument");
    if (bits < 1 || bits > 8)
      return failArg("weights must have 1 to 8 bits, got " +
                     std::to_string(bits));
    Expected<MatmulConfig> config =
        selectMatmulConfig(m, n, k, static_cast<unsigned>(bits), group);
    if (!config)
      return failArg(config.error());
    tile[0] = config->bm, tile[1] = config->bn, tile[2] = config->bk;
    tile[3] = config->splitK;
    return succeed();
  });
}

const char *tilus_matmul_source(void) {
#if TILUS_WITH_JIT
  // A string view of a NUL-terminated array compiled into the library.
  return MatmulA16Wx::source().data();
#else
  return nullptr;
#endif
}

int tilus_pack_weights(const uint8_t *codes, int64_t k, int64_t n, int bits,
                       int64_t bn, int64_t bk, uint8_t *out) {
  return guarded([&] {
    if (!codes || !out)
      return failArg("null argument");
    if (bits < 1 || bits > 8)
      return failArg("weights must have 1 to 8 bits, got " +
                     std::to_string(bits));
    MatmulConfig config;
    config.bn = bn, config.bk = bk;
    Status s =
        packWeights(codes, k, n, static_cast<unsigned>(bits), config, out);
    return s ? succeed() : failArg(s);
  });
}

int tilus_autotune_create(tilus_device *device, const char *source,
                          const char *filename, const char *const *defines,
                          int ndefines, const char *const *configs,
                          int nconfigs, const char *key, const char *options,
                          tilus_autotuner **out) {
  return guarded([&] {
    if (!device || !source || !out || (ndefines > 0 && !defines) ||
        (nconfigs > 0 && !configs))
      return failArg("null argument");
    if (ndefines < 0)
      return badCount("ndefines", ndefines);
    if (nconfigs < 0)
      return badCount("nconfigs", nconfigs);
#if TILUS_WITH_JIT
    std::string error;
    AutotuneOptions tune;
    tune.jit = jitOptions(defines, ndefines, nullptr, error);
    for (int i = 0; i < nconfigs && error.empty(); ++i)
      tune.configs.push_back(parseSettings(configs[i], "a config", error));
    std::stringstream names(key ? key : "");
    for (std::string name; std::getline(names, name, ',');)
      tune.key.push_back(name);
    if (error.empty())
      applyAutotuneOptions(options, tune, error);
    if (!error.empty())
      return failArg(error);
    Expected<std::unique_ptr<Autotuner>> tuner =
        Autotuner::create(*device->device, source,
                          filename ? filename : "<source>", std::move(tune));
    if (!tuner)
      return fail(TILUS_ERROR_COMPILE, tuner.error());
    auto result = std::make_unique<tilus_autotuner>();
    for (size_t i = 0; i < (*tuner)->size(); ++i) {
      const Kernel *k = (*tuner)->kernel(i);
      result->kernels.push_back(
          k ? std::make_unique<tilus_kernel>(
                  tilus_kernel{*k, toJson({k->info()})})
            : nullptr);
    }
    result->tuner = std::move(*tuner);
    *out = result.release();
    return succeed();
#else
    return fail(TILUS_ERROR_NO_COMPILER,
                "this libtilus is the runtime core, built without the "
                "compiler: autotuning compiles its candidates");
#endif
  });
}

void tilus_autotune_destroy(tilus_autotuner *tuner) { delete tuner; }

int tilus_autotune_kernel(tilus_autotuner *tuner, int index,
                          tilus_kernel **out) {
  return guarded([&] {
    if (!tuner || !out)
      return failArg("null argument");
    if (index < 0 || size_t(index) >= tuner->kernels.size())
      return failArg("configuration index " + std::to_string(index) +
                     " out of range (" +
                     std::to_string(tuner->kernels.size()) + " configs)");
#if TILUS_WITH_JIT
    if (!tuner->kernels[index])
      return fail(TILUS_ERROR_COMPILE, tuner->tuner->compileError(index));
#endif
    *out = tuner->kernels[index].get();
    return succeed();
  });
}

int tilus_autotune_choose(tilus_autotuner *tuner, const tilus_arg *args,
                          int nargs, const char **json) {
  return guarded([&] {
    if (!tuner || !json || (nargs > 0 && !args))
      return failArg("null argument");
    if (nargs < 0)
      return badCount("nargs", nargs);
#if TILUS_WITH_JIT
    if (Status st = checkReserved(args, nargs); !st)
      return failArg(st);
    std::vector<Arg> checked = toArgs(args, nargs);
    for (const auto &k : tuner->kernels)
      if (k) {
        if (Status st = k->kernel.check(checked); !st)
          return failArg(st);
        break;
      }
    Expected<AutotuneChoice> choice = tuner->tuner->choose(checked);
    if (!choice)
      return fail(TILUS_ERROR_DEVICE, choice.error());
    tuner->choiceJson = choiceJson(*choice, *tuner->tuner);
    *json = tuner->choiceJson.c_str();
    return succeed();
#else
    return fail(TILUS_ERROR_NO_COMPILER, "no compiler");
#endif
  });
}

int tilus_autotune_launch(tilus_autotuner *tuner, const tilus_arg *args,
                          int nargs, uint64_t stream,
                          tilus_launch_stats *stats) {
  return guarded([&] {
    const char *json = nullptr;
    if (tilus_autotune_choose(tuner, args, nargs, &json) != 0)
      return -1;
#if TILUS_WITH_JIT
    // The choice is in the tuner's memory now.
    Expected<AutotuneChoice> choice = tuner->tuner->choose(toArgs(args, nargs));
    if (!choice)
      return fail(TILUS_ERROR_DEVICE, choice.error());
    return tilus_launch(tuner->kernels[choice->index].get(), args, nargs,
                        stream, stats);
#else
    return -1;
#endif
  });
}
