//===- GpuCheck.cpp - End-to-end kernel checks on a device ----------------===//
//
//   tilus-gpu-check CASES_DIR --device cuda|emu [--record] [--repeat N]
//                   [--profile FILE] [--times FILE]
//
// CASES_DIR/cases.txt has one case per line:
//
//   NAME PTX JSON SCALARS OUTPUTS TOLERANCE
//   vector_add_1m vector_add.ptx vector_add.json n=1048576 c 0
//
// (SCALARS: NAME=VALUE,... for the integer scalars; OUTPUTS: the global
// parameters the kernel writes.) With --record (on the emulator, where the
// bundle is made) every input parameter gets random contents and every
// output the kernel's result, written to NAME/PARAM.bin. Without it, the
// kernel runs on the device from those inputs and each output is compared
// with the recorded one; a table prints status, largest error, and the
// median kernel time over --repeat launches (GPU) or instruction count
// (emulator). --profile FILE (emulator) writes one JSON object mapping each
// case to its profile (docs/profiling.md), modelled on the H100 and H200;
// --times FILE (GPU) writes "NAME MEDIAN_US" lines, the measured times
// bench/gpu/calibrate.py sets beside the model. Uses the runtime core only:
// no LLVM.
//
//===----------------------------------------------------------------------===//

#include "ir/dtype/DType.h"
#include "runtime/core/OutputFile.h"
#include "tilus/KernelInfo.h"
#include "tilus/Runtime.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

using namespace tilus;

namespace {

struct Case {
  std::string name, ptx, json;
  std::vector<std::pair<std::string, int64_t>> scalars;
  std::vector<std::string> outputs;
  double tolerance = 0;
};

std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> parts;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, sep))
    if (!part.empty())
      parts.push_back(part);
  return parts;
}

bool readFile(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

bool writeFile(const std::string &path, const std::vector<uint8_t> &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
  return bool(out);
}

Expected<std::vector<Case>> readCases(const std::string &dir) {
  std::string text;
  if (!readFile(dir + "/cases.txt", text))
    return Status::error("cannot read " + dir + "/cases.txt");
  std::vector<Case> cases;
  for (const std::string &line : split(text, '\n')) {
    if (line[0] == '#')
      continue;
    std::istringstream ss(line);
    Case c;
    std::string scalars, outputs;
    if (!(ss >> c.name >> c.ptx >> c.json >> scalars >> outputs >> c.tolerance))
      return Status::error("bad line in cases.txt: " + line);
    for (const std::string &kv : split(scalars, ',')) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos)
        return Status::error("bad scalar '" + kv + "' in " + c.name);
      c.scalars.emplace_back(kv.substr(0, eq), std::stoll(kv.substr(eq + 1)));
    }
    c.outputs = split(outputs, ',');
    cases.push_back(std::move(c));
  }
  return cases;
}

/// The largest difference between two arrays of `type`, as values; NaN
/// matches NaN, and a NaN against a number counts as infinite.
double maxError(DType type, const std::vector<uint8_t> &got,
                const std::vector<uint8_t> &want, uint64_t count,
                double tolerance, uint64_t &bad) {
  double worst = 0;
  bad = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t g = getPacked(got.data(), i, type.bitWidth());
    uint64_t w = getPacked(want.data(), i, type.bitWidth());
    if (g == w)
      continue;
    double gv = decode(type, g), wv = decode(type, w);
    double err = (std::isnan(gv) && std::isnan(wv))   ? 0
                 : (std::isnan(gv) || std::isnan(wv)) ? INFINITY
                                                      : std::fabs(gv - wv);
    worst = std::max(worst, err);
    if (err > tolerance * std::max(1.0, std::fabs(wv)))
      ++bad;
  }
  return worst;
}

struct Row {
  std::string name, status, error, time;
  std::string profile; // JSON, with --profile on the emulator
  double medianUs = 0; // GPU
};

Row runCase(Device &dev, const std::string &dir, const Case &c, bool record,
            int repeat) {
  Row row{c.name, "FAIL", "-", "-"};
  std::string ptx, json;
  if (!readFile(dir + "/" + c.ptx, ptx) ||
      !readFile(dir + "/" + c.json, json)) {
    row.status = "FAIL: cannot read " + c.ptx + " or " + c.json;
    return row;
  }
  // A file with several kernels runs its first.
  std::vector<KernelInfo> kernels;
  std::string parseError;
  std::string first = fromJson(json, kernels, parseError) && !kernels.empty()
                          ? kernels.front().name
                          : std::string();
  Expected<Kernel> kernel = loadKernel(dev, ptx, json, first);
  if (!kernel) {
    row.status = "FAIL: " + kernel.error().message();
    return row;
  }
  const KernelInfo &info = kernel->info();
  std::mt19937_64 rng(0x7115);
  std::vector<Arg> args;
  std::vector<Buffer> buffers;
  struct Out {
    size_t buffer;
    std::string param;
    DType type;
    uint64_t count;
  };
  std::vector<Out> outs;
  if (record)
    std::filesystem::create_directories(dir + "/" + c.name);
  for (const ParamInfo &p : info.params) {
    std::optional<DType> type = DType::parse(p.dtype);
    if (!type) {
      row.status = "FAIL: unknown type " + p.dtype;
      return row;
    }
    if (!p.isGlobal) {
      auto it = std::find_if(c.scalars.begin(), c.scalars.end(),
                             [&](const auto &s) { return s.first == p.name; });
      if (it == c.scalars.end()) {
        row.status = "FAIL: no value for scalar " + p.name;
        return row;
      }
      args.push_back(Arg::integer(it->second));
      continue;
    }
    uint64_t count = 1;
    for (const std::string &e : p.shape) {
      Expected<int64_t> v = evaluateExpr(e, c.scalars);
      if (!v) {
        row.status = "FAIL: " + v.error().message();
        return row;
      }
      count *= uint64_t(*v);
    }
    uint64_t bytes = *storageBytes(p.dtype, count);
    bool isOutput = std::find(c.outputs.begin(), c.outputs.end(), p.name) !=
                    c.outputs.end();
    std::string file = dir + "/" + c.name + "/" + p.name + ".bin";
    std::vector<uint8_t> host(bytes, 0);
    if (!isOutput && record) {
      std::vector<uint64_t> codes(count);
      std::uniform_real_distribution<double> unit(-1, 1);
      for (uint64_t &code : codes)
        code = type->isFloat() ? encode(*type, unit(rng))
                               : rng() & type->codeMask();
      host = packBits(codes, type->bitWidth());
      if (!writeFile(file, host)) {
        row.status = "FAIL: cannot write " + file;
        return row;
      }
    } else if (!isOutput) {
      std::string data;
      if (!readFile(file, data) || data.size() != bytes) {
        row.status = "FAIL: missing or short input " + file;
        return row;
      }
      host.assign(data.begin(), data.end());
    }
    Expected<Buffer> buf = Buffer::create(dev, std::max<uint64_t>(bytes, 1));
    if (!buf) {
      row.status = "FAIL: " + buf.error().message();
      return row;
    }
    if (isOutput) {
      // Poison, so that an element the kernel misses shows.
      if (Status s = dev.memset(buf->ptr(), 0xff, bytes); !s) {
        row.status = "FAIL: " + s.message();
        return row;
      }
      outs.push_back({buffers.size(), p.name, *type, count});
    } else if (Status s = dev.copyToDevice(buf->ptr(), host.data(), bytes);
               !s) {
      row.status = "FAIL: " + s.message();
      return row;
    }
    args.push_back(Arg::buffer(buf->ptr(), bytes, p.dtype));
    buffers.push_back(std::move(*buf));
  }

  LaunchStats stats;
  if (Status s = kernel->launch(args, 0, &stats); !s) {
    row.status = "FAIL: " + s.message();
    return row;
  }
  double worst = 0;
  for (const Out &o : outs) {
    std::vector<uint8_t> got(buffers[o.buffer].bytes());
    if (Status s = buffers[o.buffer].copyTo(got.data()); !s) {
      row.status = "FAIL: " + s.message();
      return row;
    }
    std::string file = dir + "/" + c.name + "/" + o.param + ".bin";
    if (record) {
      if (!writeFile(file, got)) {
        row.status = "FAIL: cannot write " + file;
        return row;
      }
      continue;
    }
    std::string want;
    if (!readFile(file, want) || want.size() < got.size()) {
      row.status = "FAIL: missing expected output " + file;
      return row;
    }
    uint64_t bad = 0;
    worst =
        std::max(worst, maxError(o.type, got,
                                 std::vector<uint8_t>(want.begin(), want.end()),
                                 o.count, c.tolerance, bad));
    if (bad) {
      row.status = "FAIL: " + std::to_string(bad) + " of " +
                   std::to_string(o.count) + " elements of " + o.param +
                   " differ";
      row.error = std::to_string(worst);
      return row;
    }
  }
  row.status = record ? "recorded" : "ok";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g", worst);
  row.error = buf;
  if (dev.name() == "emu") {
    row.time = std::to_string(stats.warpInstructions) + " warp instr";
    if (Expected<Profile> p = dev.lastProfile({"H100-SXM5", "H200"}))
      row.profile = p->toJson();
    return row;
  }
  std::vector<double> times;
  for (int i = 0; i < repeat; ++i) {
    if (Status s = kernel->launch(args, 0, &stats); !s) {
      row.status = "FAIL: " + s.message();
      return row;
    }
    times.push_back(stats.milliseconds);
  }
  std::sort(times.begin(), times.end());
  uint64_t totalBytes = 0;
  for (const Buffer &b : buffers)
    totalBytes += b.bytes();
  double ms = times[times.size() / 2];
  std::snprintf(buf, sizeof buf, "%.4f ms, %.0f GB/s", ms,
                totalBytes / (ms * 1e6));
  row.time = buf;
  row.medianUs = ms * 1000;
  return row;
}

} // namespace

int main(int argc, char **argv) {
  std::string dir, deviceName;
  std::string profileFile, timesFile;
  bool record = false;
  int repeat = 20;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--device" && i + 1 < argc)
      deviceName = argv[++i];
    else if (a == "--record")
      record = true;
    else if (a == "--repeat" && i + 1 < argc)
      repeat = std::max(1, std::atoi(argv[++i]));
    else if (a == "--profile" && i + 1 < argc)
      profileFile = argv[++i];
    else if (a == "--times" && i + 1 < argc)
      timesFile = argv[++i];
    else
      dir = a;
  }
  if (dir.empty()) {
    std::cerr << "usage: tilus-gpu-check CASES_DIR --device cuda|emu "
                 "[--record] [--repeat N] [--profile FILE] [--times FILE]\n";
    return 1;
  }
  Expected<std::unique_ptr<Device>> dev = createDevice(deviceName);
  if (!dev) {
    std::cerr << "tilus-gpu-check: " << dev.error().message() << "\n";
    return 1;
  }
  Expected<std::vector<Case>> cases = readCases(dir);
  if (!cases) {
    std::cerr << "tilus-gpu-check: " << cases.error().message() << "\n";
    return 1;
  }
  std::cout << "device: " << (*dev)->name() << " (" << (*dev)->description()
            << ")\n";
  if (!profileFile.empty()) {
    if (Status s = (*dev)->enableProfiling(true); !s) {
      std::cerr << "tilus-gpu-check: --profile: " << s.message() << "\n";
      return 1;
    }
  }
  std::printf("%-28s %-10s %-10s %s\n", "case", "status", "max err",
              (*dev)->name() == "emu" ? "work" : "time (median)");
  int failures = 0;
  std::string profiles = "{", times;
  for (const Case &c : *cases) {
    Row row = runCase(**dev, dir, c, record, repeat);
    if (!row.profile.empty())
      profiles += std::string(profiles.size() > 1 ? ",\n" : "\n") + "\"" +
                  row.name + "\": " + row.profile;
    if (row.medianUs > 0) {
      char line[128];
      std::snprintf(line, sizeof line, "%s %.3f\n", row.name.c_str(),
                    row.medianUs);
      times += line;
    }
    if (row.status.rfind("FAIL", 0) == 0)
      ++failures;
    std::printf("%-28s %-10s %-10s %s\n", row.name.c_str(),
                row.status.substr(0, 4) == "FAIL" ? "FAIL" : row.status.c_str(),
                row.error.c_str(), row.time.c_str());
    if (row.status.rfind("FAIL", 0) == 0)
      std::printf("  %s\n", row.status.c_str());
  }
  std::printf("%d of %zu cases passed\n", int(cases->size()) - failures,
              cases->size());
  if (!profileFile.empty()) {
    if (Status s = writeOutputFile(profileFile, profiles + "\n}\n"); !s) {
      std::cerr << "tilus-gpu-check: " << s.message() << "\n";
      return 1;
    }
  }
  if (!timesFile.empty()) {
    if (Status s = writeOutputFile(
            timesFile, "# case median_us (CUDA events, L2 flushed)\n" + times);
        !s) {
      std::cerr << "tilus-gpu-check: " << s.message() << "\n";
      return 1;
    }
  }
  return failures ? 1 : 0;
}
