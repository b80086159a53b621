//===- CacheBench.cpp - Compile time against kernel cache hits ------------===//
//
//   tilus-bench-cache [KERNEL.tl] [--device emu|cuda] [--rounds N <= 20]
//
// For N distinct parameter values (so each round is a new kernel) measures,
// up to a launchable Kernel (module load included):
//   compile     a miss: the whole compiler, then the entry written to disk
//   memory hit  the same kernel again in this process
//   disk hit    after forgetting the memory cache, as a new process would
// in a fresh cache directory, and prints the medians. A program, not a test.
//
//===----------------------------------------------------------------------===//

#include "tilus/Jit.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <unistd.h>

using namespace tilus;

namespace {

double millis(const std::function<bool()> &fn, bool &ok) {
  auto start = std::chrono::steady_clock::now();
  ok = fn();
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  std::string path = std::string(TILUS_SOURCE_DIR) + "/examples/vector_add.tl";
  std::string deviceName = "emu";
  int rounds = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--device" && i + 1 < argc)
      deviceName = argv[++i];
    else if (a == "--rounds" && i + 1 < argc)
      rounds = std::min(20, std::max(1, std::atoi(argv[++i])));
    else
      path = a;
  }
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string source = ss.str();
  if (source.empty()) {
    std::fprintf(stderr, "tilus-bench-cache: cannot read %s\n", path.c_str());
    return 1;
  }
  Expected<std::unique_ptr<Device>> dev = createDevice(deviceName);
  if (!dev) {
    std::fprintf(stderr, "tilus-bench-cache: %s\n",
                 dev.error().message().c_str());
    return 1;
  }
  if ((*dev)->name() != "emu")
    rounds = std::min(rounds, 4);
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("tilus-bench-cache-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);

  std::vector<double> compileMs, memoryMs, diskMs;
  for (int r = 0; r < rounds; ++r) {
    JitOptions options;
    options.cacheDir = dir.string();
    options.diskCache = true;
    // Block sizes and targets make each round a new kernel.
    const char *archs[] = {"sm_80", "sm_86", "sm_89", "sm_90", "sm_90a"};
    options.defines["BLOCK"] = std::to_string(128 << (r % 4));
    // A GPU loads only its own target: there, the rounds are the 4 blocks.
    options.arch = (*dev)->name() == "emu" ? archs[r / 4] : (*dev)->arch();
    std::string error;
    // What compile() does, with the outcome checked so each number is what
    // its row says.
    auto run = [&](CacheOutcome expect) {
      Expected<CompiledModule> m = compileModule(source, path, options);
      if (!m) {
        error = m.error().message();
        return false;
      }
      if (m->outcome != expect || m->kernels.empty()) {
        error = "unexpected cache outcome";
        return false;
      }
      Expected<Kernel> k = loadKernel(**dev, m->ptx, m->kernels.front());
      if (!k)
        error = k.error().message();
      return bool(k);
    };
    bool ok1, ok2, ok3;
    compileMs.push_back(
        millis([&] { return run(CacheOutcome::Compiled); }, ok1));
    memoryMs.push_back(
        millis([&] { return run(CacheOutcome::MemoryHit); }, ok2));
    clearMemoryCache();
    diskMs.push_back(millis([&] { return run(CacheOutcome::DiskHit); }, ok3));
    if (!ok1 || !ok2 || !ok3) {
      std::fprintf(stderr, "tilus-bench-cache: %s\n", error.c_str());
      return 1;
    }
  }
  std::filesystem::remove_all(dir);

  std::printf("kernel cache, %s on %s (%s), median of %d kernels, up to a "
              "launchable kernel:\n",
              path.c_str(), (*dev)->name().c_str(),
              (*dev)->description().c_str(), rounds);
  std::printf("  %-28s %10.3f ms\n", "compile (miss)", median(compileMs));
  std::printf("  %-28s %10.3f ms\n", "memory hit", median(memoryMs));
  std::printf("  %-28s %10.3f ms\n", "disk hit (new process)", median(diskMs));
  std::printf("  %-28s %10.1fx\n", "compile / disk hit",
              median(compileMs) / median(diskMs));
  return 0;
}
