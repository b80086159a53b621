//===- tilus-run.cpp - Load a PTX file and launch one kernel --------------===//
//
//   tilus-run FILE.ptx --kernel NAME --grid X[,Y[,Z]] --block X[,Y[,Z]]
//             [--smem BYTES] --arg A ... [--dump K:OUT.bin ...] [--device NAME]
//             [--racecheck stop|report|off] ...
//   tilus-run FILE.ptx --metadata FILE.json --arg A ... (kernel, grid, block
//             and shared memory from the compiler's metadata)
//
// Exit status 0 on success, 1 on any error (bad arguments, PTX the emulator
// rejects, a report that stopped the kernel, or shared-memory hazards found
// under --racecheck=report, after the dumps are written). Options take
// their values as `--opt VALUE` or `--opt=VALUE` (tools/common/ToolOptions.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/core/OutputFile.h"
#include "runtime/core/TensorMaps.h"
#include "runtime/emu/Emulator.h"
#include "runtime/emu/Float.h"
#include "runtime/emu/TensorMap.h"
#include "tilus/KernelInfo.h"
#include "tilus/Runtime.h"
#include "tools/common/ToolOptions.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

using namespace tilus::emu;

namespace {

enum OptionId {
  kKernel,
  kGrid,
  kBlock,
  kSmem,
  kArg,
  kDump,
  kMaxSteps,
  kSms,
  kScheduleSeed,
  kRacecheck,
  kDevice,
  kProfile,
  kGpu,
  kSampleCtas,
  kMetadata,
};

tilus::tools::ToolOptions toolOptions() {
  using Value = tilus::tools::OptionSpec::Value;
  tilus::tools::ToolOptions t;
  t.tool = "tilus-run";
  t.usage = R"(tilus-run FILE.ptx --kernel NAME --grid X[,Y[,Z]] --block X[,Y[,Z]]
                 [--smem BYTES] [--arg A ...] [--dump K:OUT.bin ...] [--device NAME]
       tilus-run FILE.ptx --metadata FILE.json [--kernel NAME] [--arg A ...] ...
                 [--profile[=text|json:FILE]] [--gpu NAME,...]
                 [--sample-ctas N] [--racecheck stop|report|off])";
  t.description = "Loads a PTX module and launches one of its kernels once.";
  t.options = {
      {kKernel, "kernel", Value::Required, "NAME",
       "the .entry to launch (required without --metadata)", "a name"},
      {kMetadata, "metadata", Value::Required, "FILE.json",
       R"(the compiler's metadata (tilusc --metadata): the kernel
(the only one when --kernel is not given), the grid from
its grid expressions on the --arg values, the block and
the dynamic shared memory; --grid, --block and --smem
override them. The arguments are checked against the
signature: dtypes of scalars, buffer sizes from the shapes,
divisibility facts. The tensor maps of TMA copies (hidden
parameters after the kernel's own) are built from the
tensor arguments: give only the kernel's own --arg)",
       "a metadata file (tilusc --metadata)"},
      {kGrid, "grid", Value::Required, "X[,Y[,Z]]",
       "grid dimensions in CTAs (required)",
       "X[,Y[,Z]] with positive integers"},
      {kBlock, "block", Value::Required, "X[,Y[,Z]]",
       "CTA dimensions in threads (required)",
       "X[,Y[,Z]] with positive integers"},
      {kSmem, "smem", Value::Required, "BYTES",
       "dynamic shared memory per CTA (default 0)", "a byte count"},
      {kArg, "arg", Value::Required, "A",
       R"(the next kernel parameter, in order; one per parameter:
  i32:V  u32:V  i64:V  u64:V   integers (decimal or 0x hex)
  f32:V  f16:V                 floats (f16 rounded to nearest even)
  buf:IN.bin                   a device buffer holding the file's bytes
  buf:zeros:BYTES              a device buffer of BYTES zero bytes
  tmap:BUF:TYPE:DIMS:BOX[:OPT] a 128-byte tensor map (emulator only) of
                               a buffer: BUF is IN.bin, zeros=BYTES or @K
                               (the buffer of --arg K); --dump of this
                               parameter writes that buffer. TYPE u8 u16
                               u32 i32 u64 i64 f16 bf16 f32 f64; DIMS and
                               BOX in elements, innermost first (64,32);
                               OPT: swizzle=32|64|128, strides=BYTES,...,
                               estrides=E,..., oob=nan
buffers are passed as their 64-bit device address)",
       "a value such as i32:5 or buf:in.bin"},
      {kDump, "dump", Value::Required, "K:OUT.bin",
       R"(after the launch, write the buffer passed as parameter K
(0-based, must be a buf: argument) to OUT.bin; repeatable)",
       "K:OUT.bin"},
      {kMaxSteps, "max-steps", Value::Required, "N",
       R"(emulator: stop a launch after N warp-instructions without
progress (no store, no memory-changing atomic, no barrier,
no CTA finished), naming the spinning warps; 0: never;
default 100000000)",
       "a count"},
      {kSms, "sms", Value::Required, "N",
       "emulator: SMs the CTAs are resident on (default 132)",
       "a count from 1 to 100000"},
      {kScheduleSeed, "schedule-seed", Value::Required, "N",
       R"(emulator: run the CTAs in a random order seeded by N, in
turns of a random 1 to 4096 warp-instructions, and the
warps of a CTA in a random order at every switch, to
shake out results that depend on the schedule; 0: the
fixed order (default $TILUS_EMU_SCHEDULE_SEED, else 0))",
       "a seed (a number)"},
      {kRacecheck, "racecheck", Value::Required, "MODE",
       R"(emulator: what a shared-memory hazard (a write and another
warp's read or write of the same bytes with no barrier
between) or an asynchronous one (a bulk copy's bytes
accessed before the thread observed its mbarrier phase;
a wgmma's registers or shared operands touched before
the wgmma.wait_group that covers it) does:
  stop    stop the launch at the first one (exit 1)
  report  run the launch to completion, write the dumps,
          then list each distinct hazard once (kind, both
          PTX lines, CTA, warps, bytes, count) and exit 1
  off     no race detection (no shadow state, no cost)
default: $TILUS_EMU_RACECHECK, else stop. Out-of-bounds
and misaligned accesses always stop)",
       "a mode (stop, report or off)"},
      {kDevice, "device", Value::Required, "NAME",
       R"(the device to run on: emu (the CPU emulator), cuda or
cuda:N (a GPU through the CUDA driver); default emu)",
       "a name"},
      {kProfile, "profile", Value::Optional, "text|json:FILE",
       R"(emulator: count what the launch does (memory requests,
sectors, shared-memory wavefronts and bank conflicts,
DRAM bytes, instructions by class, bytes in flight) and
model its time on named GPUs; text goes to stdout after
the kernel's output, json:FILE writes one JSON object
(docs/profiling.md). Counts are exact; times are modelled)"},
      {kGpu, "gpu", Value::Required, "NAME,...",
       "the GPUs the profile models (default: every known one:\n" +
           tilus::gpuNames() + ")",
       "a GPU name (" + tilus::gpuNames() + ")"},
      {kSampleCtas, "sample-ctas", Value::Required, "N",
       R"(with --profile: run only N CTAs of the grid, evenly
spaced, and scale the counts to the whole grid (exact
when the CTAs do the same work; they must not wait for
each other); the other CTAs' outputs are not written)",
       "a count of CTAs (1 or more)"},
  };
  t.epilogue = R"(The emulator's host memory (buffers, module variables, the state of the
resident CTAs) is bounded by $TILUS_EMU_MAX_MEMORY: bytes, with an optional K,
M or G suffix; default half of the physical memory. A buffer or declaration
beyond it is an error.

The arguments are checked against the kernel's parameter list (count and
sizes). Kernel printf output goes to stdout; errors, including the emulator's
sanitizer reports (kernel, PTX line, CTA, thread, address), go to stderr.
Exit status: 0 on success, 1 on any error.)";
  return t;
}

int fail(const std::string &msg) {
  std::cerr << "tilus-run: error: " << msg << "\n";
  return 1;
}

bool parseDim(const std::string &s, Dim3 &d) {
  uint32_t v[3] = {1, 1, 1};
  std::stringstream ss(s);
  std::string part;
  int i = 0;
  while (std::getline(ss, part, ',')) {
    if (i == 3 || part.empty())
      return false;
    char *end;
    errno = 0;
    unsigned long x = std::strtoul(part.c_str(), &end, 10);
    if (*end || errno || x == 0 || x > 0xffffffffUL)
      return false;
    v[i++] = uint32_t(x);
  }
  if (i == 0)
    return false;
  d = Dim3(v[0], v[1], v[2]);
  return true;
}

bool parseInt(const std::string &s, bool isSigned, int bits, uint64_t &out) {
  if (s.empty())
    return false;
  char *end;
  errno = 0;
  if (isSigned) {
    long long v = std::strtoll(s.c_str(), &end, 0);
    if (*end || errno)
      return false;
    if (bits == 32 && (v < INT32_MIN || v > INT32_MAX))
      return false;
    out = uint64_t(v);
  } else {
    if (s[0] == '-')
      return false;
    unsigned long long v = std::strtoull(s.c_str(), &end, 0);
    if (*end || errno)
      return false;
    if (bits == 32 && v > UINT32_MAX)
      return false;
    out = v;
  }
  return true;
}

bool readFile(const std::string &path, std::string &out) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return false;
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

struct Arg {
  std::string text;
  ParamBytes bytes;
  tilus::Arg checked; ///< the same argument for the metadata's checks
  bool isBuffer = false;
  DevicePtr ptr = 0;
  uint64_t size = 0;
};

/// Splits \p s at \p sep.
std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep))
    parts.push_back(part);
  return parts;
}

/// `tmap:BUF:TYPE:DIMS:BOX[:OPT...]` (the text after `tmap:`; BUF is read
/// by the caller): a tensor map of the buffer at \p base in the emulator's
/// encoding.
bool encodeTensorMapArg(const std::string &text, DevicePtr base,
                        ParamBytes &bytes, std::string &error) {
  using namespace tilus::emu;
  std::vector<std::string> f = split(text, ':');
  if (f.size() < 4) {
    error = "expected tmap:BUF:TYPE:DIMS:BOX[:OPT...]";
    return false;
  }
  static const std::pair<const char *, TensorMapDataType> types[] = {
      {"u8", TensorMapDataType::UInt8},
      {"u16", TensorMapDataType::UInt16},
      {"u32", TensorMapDataType::UInt32},
      {"i32", TensorMapDataType::Int32},
      {"u64", TensorMapDataType::UInt64},
      {"i64", TensorMapDataType::Int64},
      {"f16", TensorMapDataType::Float16},
      {"f32", TensorMapDataType::Float32},
      {"f64", TensorMapDataType::Float64},
      {"bf16", TensorMapDataType::BFloat16}};
  const TensorMapDataType *type = nullptr;
  for (const auto &t : types)
    if (f[1] == t.first)
      type = &t.second;
  if (!type) {
    error = "unknown element type '" + f[1] + "'";
    return false;
  }
  auto numbers = [&](const std::string &s, std::vector<uint64_t> &out) {
    for (const std::string &p : split(s, ',')) {
      uint64_t v;
      if (!parseInt(p, false, 64, v))
        return false;
      out.push_back(v);
    }
    return !out.empty() && out.size() <= 5;
  };
  std::vector<uint64_t> dims, box, strides, estrides;
  if (!numbers(f[2], dims) || !numbers(f[3], box) ||
      box.size() != dims.size()) {
    error = "DIMS and BOX must be 1 to 5 numbers each, as many of both";
    return false;
  }
  uint32_t rank = uint32_t(dims.size());
  TensorMapSwizzle swizzle = TensorMapSwizzle::None;
  TensorMapOobFill oob = TensorMapOobFill::None;
  for (size_t i = 4; i < f.size(); ++i) {
    const std::string &o = f[i];
    if (o == "swizzle=32" || o == "swizzle=64" || o == "swizzle=128")
      swizzle = o == "swizzle=32"   ? TensorMapSwizzle::B32
                : o == "swizzle=64" ? TensorMapSwizzle::B64
                                    : TensorMapSwizzle::B128;
    else if (o == "oob=nan")
      oob = TensorMapOobFill::NanRequestZeroFma;
    else if (o.rfind("strides=", 0) == 0 && numbers(o.substr(8), strides))
      ;
    else if (o.rfind("estrides=", 0) == 0 && numbers(o.substr(9), estrides))
      ;
    else {
      error = "unknown option '" + o + "'";
      return false;
    }
  }
  if (strides.empty()) { // packed, innermost dimension first
    uint64_t s = tensorMapElementBytes(*type);
    for (uint32_t d = 0; d + 1 < rank; ++d)
      strides.push_back(s *= dims[d]);
  }
  estrides.resize(rank, 1);
  if (strides.size() + 1 != rank) {
    error = "strides= needs rank - 1 numbers";
    return false;
  }
  uint32_t box32[5], es32[5];
  for (uint32_t d = 0; d < rank; ++d) {
    box32[d] = uint32_t(std::min<uint64_t>(box[d], ~0u));
    es32[d] = uint32_t(std::min<uint64_t>(estrides[d], ~0u));
  }
  alignas(64) uint8_t map[kTensorMapBytes];
  tilus::Status s = encodeTensorMap(
      map, *type, rank, base, dims.data(), strides.data(), box32, es32,
      TensorMapInterleave::None, swizzle, TensorMapL2Promotion::None, oob);
  if (!s) {
    error = s.message();
    return false;
  }
  bytes.bytes.assign(map, map + kTensorMapBytes);
  return true;
}

} // namespace

int main(int argc, char **argv) {
  std::string file, kernelName, device = "emu";
  Dim3 grid, block;
  bool haveGrid = false, haveBlock = false, haveSmem = false;
  uint64_t smem = 0;
  std::string metadataFile;
  std::vector<std::string> argTexts;
  std::vector<std::pair<long, std::string>> dumps;
  std::string profile; // "", "text" or "json:FILE"
  uint32_t sampleCtas = 0; // --sample-ctas
  std::vector<std::string> gpus;
  tilus::tools::ToolOptions options = toolOptions();
  tilus::tools::ArgReader reader(options, argc, argv);
  for (tilus::tools::ParsedArg a = reader.next();
       a.kind != tilus::tools::ParsedArg::Kind::End; a = reader.next()) {
    using Kind = tilus::tools::ParsedArg::Kind;
    if (a.kind == Kind::Help) {
      std::cout << options.helpText();
      return 0;
    }
    if (a.kind == Kind::Error)
      return fail(a.value);
    if (a.kind == Kind::Operand) {
      if (!file.empty())
        return fail("more than one input file ('" + file + "', '" + a.value +
                    "')");
      file = a.value;
      continue;
    }
    const std::string &v = a.value;
    switch (OptionId(a.id)) {
    case kKernel:
      kernelName = v;
      break;
    case kGrid:
      if (!parseDim(v, grid))
        return fail("--grid needs X[,Y[,Z]] with positive integers");
      haveGrid = true;
      break;
    case kBlock:
      if (!parseDim(v, block))
        return fail("--block needs X[,Y[,Z]] with positive integers");
      haveBlock = true;
      break;
    case kSmem:
      if (!parseInt(v, false, 32, smem))
        return fail("--smem needs a byte count");
      haveSmem = true;
      break;
    case kMetadata:
      metadataFile = v;
      break;
    case kArg:
      argTexts.push_back(v);
      break;
    case kDump: {
      size_t c = v.find(':');
      // strtol's end pointer points into the index text, which must outlive
      // the check of *end.
      std::string index = c == std::string::npos ? "" : v.substr(0, c);
      char *end = nullptr;
      long k = c == std::string::npos ? -1
                                      : std::strtol(index.c_str(), &end, 10);
      if (c == std::string::npos || c == 0 || *end || k < 0 ||
          c + 1 == v.size())
        return fail("--dump needs K:OUT.bin with a parameter index K, got '" +
                    v + "'");
      dumps.push_back({k, v.substr(c + 1)});
      break;
    }
    case kMaxSteps:
    case kSms:
    case kScheduleSeed: {
      uint64_t n = 0;
      if (!parseInt(v, false, 64, n) || (a.id == kSms && (n == 0 || n > 100000)))
        return fail(a.option + " needs a " +
                    (a.id == kSms            ? "count from 1 to 100000"
                     : a.id == kScheduleSeed ? "seed (a number)"
                                             : "count"));
      // The emulator device takes its settings from the environment.
      ::setenv(a.id == kSms            ? "TILUS_EMU_SMS"
               : a.id == kScheduleSeed ? "TILUS_EMU_SCHEDULE_SEED"
                                       : "TILUS_EMU_MAX_STEPS",
               std::to_string(n).c_str(), 1);
      break;
    }
    case kRacecheck:
      if (!parseRaceCheck(v))
        return fail("--racecheck: unknown mode '" + v +
                    "' (expected stop, report or off)");
      ::setenv("TILUS_EMU_RACECHECK", v.c_str(), 1);
      break;
    case kDevice:
      device = v;
      break;
    case kProfile:
      profile = a.hasValue ? v : "text";
      if (tilus::Status s = tilus::checkProfileFormat(profile); !s)
        return fail(s.message());
      break;
    case kSampleCtas: {
      uint64_t n = 0;
      if (!parseInt(v, false, 32, n) || n == 0)
        return fail("--sample-ctas needs a count of CTAs (1 or more)");
      sampleCtas = uint32_t(n);
      break;
    }
    case kGpu: {
      if (v.empty())
        return fail("--gpu needs a GPU name (" + tilus::gpuNames() + ")");
      std::istringstream names(v);
      for (std::string name; std::getline(names, name, ',');)
        gpus.push_back(name);
      if (tilus::Status s = tilus::checkGpuNames(gpus); !s)
        return fail("--gpu: " + s.message());
      break;
    }
    }
  }
  if (file.empty())
    return fail("no input file (see --help)");
  if (metadataFile.empty() && kernelName.empty())
    return fail("--kernel is required (or --metadata)");
  if (metadataFile.empty() && (!haveGrid || !haveBlock))
    return fail("--grid and --block are required (or --metadata)");

  std::string text;
  if (!readFile(file, text))
    return fail("cannot read '" + file + "'");
  std::optional<tilus::KernelInfo> info;
  if (!metadataFile.empty()) {
    std::string json;
    if (!readFile(metadataFile, json))
      return fail("--metadata: cannot read '" + metadataFile + "'");
    std::vector<tilus::KernelInfo> kernels;
    std::string error;
    if (!tilus::fromJson(json, kernels, error))
      return fail("--metadata: " + metadataFile + ": " + error);
    for (tilus::KernelInfo &k : kernels)
      if (k.name == kernelName || (kernelName.empty() && kernels.size() == 1))
        info = std::move(k);
    if (!info)
      return fail("--metadata: " + metadataFile +
                  (kernelName.empty()
                       ? " describes " + std::to_string(kernels.size()) +
                             " kernels: name one with --kernel"
                       : " does not describe kernel '" + kernelName + "'"));
    kernelName = info->name;
  }
  // The emulator's parser gives the parameter list on every device.
  Emulator parser;
  auto mod = parser.loadModule(text, file);
  if (!mod)
    return fail(mod.error().message());
  auto created = tilus::createDevice(device);
  if (!created)
    return fail(created.error().message());
  tilus::Device &dev = **created;
  auto kernel = mod->kernel(kernelName);
  if (!kernel)
    return fail(kernel.error().message());
  const auto &params = kernel->params();
  // The tensor maps of TMA copies (hidden, last) are built from the
  // metadata, not given on the command line.
  size_t hidden = info ? info->tensorMaps.size() : 0;
  if (argTexts.size() + hidden != params.size())
    return fail("kernel '" + kernelName + "' takes " +
                std::to_string(params.size() - std::min(hidden, params.size())) +
                " parameters" +
                (hidden ? " (and " + std::to_string(hidden) +
                              " tensor maps built from them)"
                        : std::string()) +
                ", " + std::to_string(argTexts.size()) + " --arg given");

  std::vector<Arg> args(argTexts.size());
  for (size_t i = 0; i < argTexts.size(); ++i) {
    Arg &arg = args[i];
    const std::string &t = argTexts[i];
    arg.text = t;
    size_t c = t.find(':');
    std::string kind = c == std::string::npos ? t : t.substr(0, c);
    std::string val = c == std::string::npos ? "" : t.substr(c + 1);
    std::string where = "--arg " + std::to_string(i) + " ('" + t + "')";
    uint64_t x;
    if (kind == "i32" || kind == "u32" || kind == "i64" || kind == "u64") {
      bool sg = kind[0] == 'i';
      int bits = kind[1] == '3' ? 32 : 64;
      if (!parseInt(val, sg, bits, x))
        return fail(where + ": not a valid " + kind + " value");
      if (bits == 32)
        arg.bytes = ParamBytes::of(uint32_t(x));
      else
        arg.bytes = ParamBytes::of(x);
      arg.checked = tilus::Arg::integer(
          sg ? int64_t(x) : int64_t(std::min<uint64_t>(x, INT64_MAX)), kind);
    } else if (kind == "f32" || kind == "f16") {
      char *end;
      errno = 0;
      double d = std::strtod(val.c_str(), &end);
      if (val.empty() || *end)
        return fail(where + ": not a valid number");
      if (kind == "f32")
        arg.bytes = ParamBytes::of(float(d));
      else
        arg.bytes =
            ParamBytes::of(uint16_t(roundF64To(d, kF16, Rnd::Rn, false)));
      arg.checked = tilus::Arg::real(d, kind);
    } else if (kind == "buf") {
      // Zeros are set on the device: the device's allocation (within the
      // emulator's memory budget) is the only copy.
      std::string data;
      uint64_t n = 0;
      bool zeros = val.rfind("zeros:", 0) == 0;
      if (zeros) {
        if (!parseInt(val.substr(6), false, 64, n))
          return fail(where + ": buf:zeros: needs a byte count");
      } else if (!readFile(val, data)) {
        return fail(where + ": cannot read '" + val +
                    "' (not a readable regular file)");
      } else {
        n = data.size();
      }
      auto p = dev.allocate(n);
      if (!p)
        return fail(where + ": " + p.error().message());
      arg.ptr = *p;
      arg.size = n;
      arg.isBuffer = true;
      tilus::Status s = zeros ? dev.memset(arg.ptr, 0, n)
                              : dev.copyToDevice(arg.ptr, data.data(), n);
      if (!s)
        return fail(s.message());
      arg.bytes = ParamBytes::of(arg.ptr);
      arg.checked = tilus::Arg::buffer(arg.ptr, n);
    } else if (kind == "tmap") {
      if (device != "emu")
        return fail(where + ": tensor maps are the emulator's encoding "
                            "(--device emu)");
      std::string buf = val.substr(0, val.find(':')), data, error;
      uint64_t n = 0, k;
      if (buf.rfind("@", 0) == 0) {
        if (!parseInt(buf.substr(1), false, 32, k) || k >= i ||
            !args[k].isBuffer)
          return fail(where + ": @K must name an earlier buf: argument");
        arg.ptr = args[k].ptr;
        arg.size = args[k].size;
      } else {
        bool zeros = buf.rfind("zeros=", 0) == 0;
        if (zeros ? !parseInt(buf.substr(6), false, 64, n)
                  : !readFile(buf, data))
          return fail(where + ": BUF must be IN.bin, zeros=BYTES or @K");
        if (!zeros)
          n = data.size();
        auto p = dev.allocate(n);
        if (!p)
          return fail(where + ": " + p.error().message());
        arg.ptr = *p;
        arg.size = n;
        tilus::Status s = zeros ? dev.memset(arg.ptr, 0, n)
                                : dev.copyToDevice(arg.ptr, data.data(), n);
        if (!s)
          return fail(s.message());
      }
      arg.isBuffer = true;
      if (!encodeTensorMapArg(val, arg.ptr, arg.bytes, error))
        return fail(where + ": " + error);
    } else {
      return fail(where + ": unknown kind '" + kind +
                  "' (expected i32, u32, i64, u64, f32, f16, buf or tmap)");
    }
    if (arg.bytes.bytes.size() != params[i].size)
      return fail(where + ": parameter " + std::to_string(i) + " ('" +
                  params[i].name + "') of kernel '" + kernelName + "' is " +
                  std::to_string(params[i].size) + " bytes, the argument is " +
                  std::to_string(arg.bytes.bytes.size()));
  }
  std::vector<std::vector<uint8_t>> tensorMaps;
  if (info) {
    // The metadata's view of the same launch: the kernel's checks, then
    // whatever the command line did not set.
    tilus::Kernel checker(dev, nullptr, nullptr, *info);
    std::vector<tilus::Arg> checked;
    for (const Arg &a : args)
      checked.push_back(a.checked);
    if (tilus::Status s = checker.check(checked); !s)
      return fail(s.message());
    tilus::Expected<std::vector<std::vector<uint8_t>>> maps =
        tilus::buildTensorMaps(dev, *info, checked);
    if (!maps)
      return fail(maps.error().message());
    tensorMaps = std::move(*maps);
    if (!haveGrid) {
      tilus::Expected<tilus::Dim3> g = checker.grid(checked);
      if (!g)
        return fail(g.error().message());
      grid = Dim3(g->x, g->y, g->z);
    }
    if (!haveBlock)
      block = Dim3(uint32_t(info->numThreads), 1, 1);
    if (!haveSmem)
      smem = uint64_t(info->sharedBytes);
  }
  for (auto &[k, path] : dumps) {
    if (size_t(k) >= args.size())
      return fail("--dump " + std::to_string(k) + ": the kernel has " +
                  std::to_string(args.size()) + " parameters");
    if (!args[k].isBuffer)
      return fail("--dump " + std::to_string(k) + ": parameter " +
                  std::to_string(k) + " is not a buf: argument");
  }

  std::vector<std::vector<uint8_t>> pb;
  for (auto &a : args)
    pb.push_back(a.bytes.bytes);
  for (auto &map : tensorMaps)
    pb.push_back(map);
  auto loaded = dev.loadModule(text, file);
  if (!loaded)
    return fail(loaded.error().message());
  auto function = (*loaded)->function(kernelName);
  if (!function)
    return fail(function.error().message());
  if (sampleCtas && profile.empty())
    return fail("--sample-ctas counts for a profile: add --profile");
  if (!profile.empty())
    if (tilus::Status p = dev.enableProfiling(true, sampleCtas); !p)
      return fail("--profile: " + p.message());
  std::cout.flush();
  tilus::Status s = dev.launch(**function, {grid.x, grid.y, grid.z},
                               {block.x, block.y, block.z}, uint32_t(smem), pb);
  if (s)
    s = dev.synchronize();
  std::fflush(stdout);
  // A launch that failed only after running to its end (hazards under
  // --racecheck=report) still writes its dumps, then fails.
  if (!s && !dev.lastLaunchCompleted())
    return fail(s.message());
  for (auto &[k, path] : dumps) {
    std::string data(args[k].size, '\0');
    tilus::Status c =
        dev.copyFromDevice(data.data(), args[k].ptr, args[k].size);
    if (!c)
      return fail(c.message());
    if (tilus::Status w = tilus::writeOutputFile(path, data); !w)
      return fail(w.message());
  }
  if (!s)
    return fail(s.message());
  if (!profile.empty()) {
    tilus::Expected<tilus::Profile> p = dev.lastProfile(gpus);
    if (!p)
      return fail(p.error().message());
    std::string text;
    if (tilus::Status w = tilus::emitProfile(*p, profile, text); !w)
      return fail(w.message());
    std::cout << text;
  }
  return 0;
}
