//===- tilus-pack-weights.cpp - Weights and tiles for matmul_a16wx --------===//
//
//   tilus-pack-weights --bits B --k K --n N --group G [--m M]
//                      [--tile BMxBNxBK[xS]] [--unpack] [IN OUT]
//
// Prints the tile the configuration table picks for the problem (or checks
// the one given with --tile) as the compiler's -D flags, e.g.
// `-D BM=16 -D BN=128 -D BK=32`, plus `-D SPLITK=S` when the table splits K
// into S slices (the kernel then needs its partial and arrivals buffers).
// With IN and OUT it also packs IN (K x N codes, one per byte) into OUT in
// matmul_a16wx's weight layout, or with
// --unpack does the reverse. OUT is written whole or not at all.
//
//===----------------------------------------------------------------------===//

#include "runtime/core/OutputFile.h"
#include "tilus/Matmul.h"
#include "tilus/Profile.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>


using namespace tilus;

namespace {

constexpr const char *kUsage =
    "usage: tilus-pack-weights --bits B --k K --n N --group G [--m M]\n"
    "                          [--gpu NAME] [--explain]\n"
    "                          [--tile BMxBNxBK[xS]] [--unpack] [IN OUT]\n"
    "\n"
    "Chooses (or, with --tile, checks) the block tile and split-K of\n"
    "matmul_a16wx for an M x K by K x N product with B-bit weights in groups\n"
    "of G rows, by the performance model's time on a GPU (docs/matmul.md),\n"
    "and prints them as compiler flags (-D BM=.. -D BN=.. -D BK=..,\n"
    "and with S > 1 slices of K, -D SPLITK=S). With IN and OUT,\n"
    "packs IN (K x N codes, one per byte, row-major) into OUT in the kernel's\n"
    "weight layout (docs/matmul.md; BN and BK decide it, not M or S);\n"
    "--unpack reverses it.\n"
    "\n"
    "  --m M      rows of the activations (default 1)\n"
    "  --gpu NAME the GPU the model chooses for (default H100-SXM5; one of\n"
    "             A100-SXM4-80GB, H100-SXM5, H200, L40S, RTX-4090)\n"
    "  --explain  print every candidate with its modelled time, the limit that\n"
    "             binds and the % of the DRAM roofline, fastest first, the\n"
    "             chosen one marked (times are modelled, not measured)\n";

int fail(const std::string &message) {
  std::cerr << "tilus-pack-weights: error: " << message << "\n";
  return 1;
}

bool parseInt(const char *text, int64_t &out) {
  char *end = nullptr;
  long long v = std::strtoll(text, &end, 10);
  if (!*text || *end)
    return false;
  out = v;
  return true;
}

} // namespace

int main(int argc, char **argv) {
  int64_t bits = 0, k = 0, n = 0, group = 0, m = 1;
  std::string tile, gpu = "H100-SXM5";
  bool unpack = false, explain = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--unpack" || arg == "--explain") {
      (arg == "--unpack" ? unpack : explain) = true;
      continue;
    }
    if (arg == "--gpu") {
      if (i + 1 >= argc)
        return fail("--gpu needs a GPU name (" + gpuNames() + ")");
      const GpuSpec *spec = findGpu(argv[++i]);
      if (!spec)
        return fail("--gpu: unknown GPU '" + std::string(argv[i]) + "' (" +
                    gpuNames() + ")");
      gpu = spec->name;
      continue;
    }
    int64_t *target = arg == "--bits"    ? &bits
                      : arg == "--k"     ? &k
                      : arg == "--n"     ? &n
                      : arg == "--group" ? &group
                      : arg == "--m"     ? &m
                                         : nullptr;
    if (target || arg == "--tile") {
      if (i + 1 >= argc)
        return fail(arg + " needs a value");
      if (!target) {
        tile = argv[++i];
        continue;
      }
      if (!parseInt(argv[++i], *target))
        return fail(arg + " expects an integer, got '" + argv[i] + "'");
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-')
      return fail("unknown option '" + arg + "' (see --help)");
    files.push_back(arg);
  }
  if (!bits || !k || !n || !group)
    return fail("--bits, --k, --n and --group are required (see --help)");
  if (!files.empty() && files.size() != 2)
    return fail("expected both IN and OUT, or neither");

  MatmulConfig config;
  if (!tile.empty()) {
    long long bm, bn, bk, split = 1;
    char tail;
    int fields = std::sscanf(tile.c_str(), "%lldx%lldx%lldx%lld%c", &bm, &bn,
                             &bk, &split, &tail);
    if (fields != 3 && fields != 4)
      return fail("--tile expects BMxBNxBK or BMxBNxBKxS, got '" + tile + "'");
    config.bm = bm, config.bn = bn, config.bk = bk, config.splitK = split;
    if (Status s = checkMatmulConfig(config, n, k, static_cast<unsigned>(bits),
                                     group);
        !s)
      return fail("tile " + tile + ": " + s.message());
  } else {
    Expected<MatmulConfig> chosen =
        selectMatmulConfig(m, n, k, static_cast<unsigned>(bits), group, gpu);
    if (!chosen)
      return fail(chosen.error().message());
    config = *chosen;
  }
  if (explain) {
    Expected<std::vector<MatmulEstimate>> all = estimateMatmulConfigs(
        m, n, k, static_cast<unsigned>(bits), group, gpu);
    if (!all)
      return fail(all.error().message());
    std::printf("matmul_a16wx M=%lld N=%lld K=%lld, %lld-bit weights, group "
                "%lld, on %s (modelled, not measured; BN x BK fix the weight "
                "storage: chosen for the least relative time over M = 1, 16, 64)\n",
                (long long)m, (long long)n, (long long)k, (long long)bits,
                (long long)group, gpu.c_str());
    std::printf("  %-16s %6s %10s %10s %-8s %6s %5s\n", "BMxBNxBKxS", "regs",
                "time us", "kernel us", "bound", "%dram", "waves");
    for (const MatmulEstimate &e : *all) {
      const MatmulConfig &c = e.config;
      char name[64];
      std::snprintf(name, sizeof name, "%lldx%lldx%lldx%lld", (long long)c.bm,
                    (long long)c.bn, (long long)c.bk, (long long)c.splitK);
      bool isChosen = c.bm == config.bm && c.bn == config.bn &&
                      c.bk == config.bk && c.splitK == config.splitK;
      std::printf("%s %-16s %6d %10.1f %10.1f %-8s %5.1f%% %5.2f\n",
                  isChosen ? "*" : " ", name, e.registers, e.timeUs,
                  e.kernelUs, e.bound.c_str(), e.dramRooflinePct, e.waves);
    }
    if (all->empty())
      std::printf("  no profiled tile fits: the fixed order chose\n");
  }
  std::cout << "-D BM=" << config.bm << " -D BN=" << config.bn
            << " -D BK=" << config.bk;
  if (config.splitK > 1)
    std::cout << " -D SPLITK=" << config.splitK;
  std::cout << "\n";
  if (files.empty())
    return 0;

  std::ifstream in(files[0], std::ios::binary);
  if (!in)
    return fail("cannot read '" + files[0] + "'");
  std::vector<uint8_t> input((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  int64_t codesBytes = k * n;
  int64_t packedBytes = packedWeightBytes(k, n, static_cast<unsigned>(bits));
  int64_t expected = unpack ? packedBytes : codesBytes;
  if (static_cast<int64_t>(input.size()) != expected)
    return fail("'" + files[0] + "' holds " + std::to_string(input.size()) +
                " bytes, expected " + std::to_string(expected));
  std::vector<uint8_t> output(unpack ? codesBytes : packedBytes);
  Status s = unpack ? unpackWeights(input.data(), k, n,
                                    static_cast<unsigned>(bits), config,
                                    output.data())
                    : packWeights(input.data(), k, n,
                                  static_cast<unsigned>(bits), config,
                                  output.data());
  if (!s)
    return fail(s.message());
  if (Status w = writeOutputFile(
          files[1], std::string_view(reinterpret_cast<const char *>(output.data()),
                                     output.size()));
      !w)
    return fail(w.message());
  return 0;
}
