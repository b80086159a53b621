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
// --unpack does the reverse. OUT is written whole or not at all. Options take
// their values as `--opt VALUE` or `--opt=VALUE` (tools/common/ToolOptions.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/core/OutputFile.h"
#include "tilus/Matmul.h"
#include "tilus/Profile.h"
#include "tools/common/ToolOptions.h"

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

enum OptionId { kBits, kK, kN, kGroup, kM, kGpu, kExplain, kTile, kUnpack };

tools::ToolOptions toolOptions() {
  using Value = tools::OptionSpec::Value;
  tools::ToolOptions t;
  t.tool = "tilus-pack-weights";
  t.usage = R"(tilus-pack-weights --bits B --k K --n N --group G [--m M]
                          [--gpu NAME] [--explain]
                          [--tile BMxBNxBK[xS]] [--unpack] [IN OUT])";
  t.description =
      R"(Chooses (or, with --tile, checks) the block tile and split-K of
matmul_a16wx for an M x K by K x N product with B-bit weights in groups
of G rows, by the performance model's time on a GPU (docs/matmul.md),
and prints them as compiler flags (-D BM=.. -D BN=.. -D BK=..,
and with S > 1 slices of K, -D SPLITK=S). With IN and OUT,
packs IN (K x N codes, one per byte, row-major) into OUT in the kernel's
weight layout (docs/matmul.md; BN and BK decide it, not M or S);
--unpack reverses it. OUT is written whole or not at all.)";
  t.options = {
      {kBits, "bits", Value::Required, "B", "bits per weight code (required)",
       "a value (B)"},
      {kK, "k", Value::Required, "K",
       "rows of the weights, the length of the dot products\n(required)",
       "a value (K)"},
      {kN, "n", Value::Required, "N", "columns of the weights (required)",
       "a value (N)"},
      {kGroup, "group", Value::Required, "G",
       "rows of weights that share one scale (required)", "a value (G)"},
      {kM, "m", Value::Required, "M", "rows of the activations (default 1)",
       "a value (M)"},
      {kGpu, "gpu", Value::Required, "NAME",
       "the GPU the model chooses for (default H100-SXM5; one of\n" +
           gpuNames() + ")",
       "a GPU name (" + gpuNames() + ")"},
      {kExplain, "explain", Value::None, "",
       R"(print every candidate with its modelled time, the limit
that binds and the % of the DRAM roofline, fastest first,
the chosen one marked (times are modelled, not measured))"},
      {kTile, "tile", Value::Required, "BMxBNxBK[xS]",
       R"(check this tile (and S slices of K, default 1) instead of
choosing one)",
       "a value (BMxBNxBK[xS])"},
      {kUnpack, "unpack", Value::None, "",
       "read IN as packed weights and write the codes to OUT"},
  };
  t.epilogue = "Exit status: 0 on success, 1 on any error.";
  return t;
}

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
  tools::ToolOptions options = toolOptions();
  tools::ArgReader reader(options, argc, argv);
  for (tools::ParsedArg a = reader.next();
       a.kind != tools::ParsedArg::Kind::End; a = reader.next()) {
    using Kind = tools::ParsedArg::Kind;
    if (a.kind == Kind::Help) {
      std::cout << options.helpText();
      return 0;
    }
    if (a.kind == Kind::Error)
      return fail(a.value);
    if (a.kind == Kind::Operand) {
      files.push_back(a.value);
      continue;
    }
    int64_t *target = nullptr;
    switch (OptionId(a.id)) {
    case kUnpack:
      unpack = true;
      continue;
    case kExplain:
      explain = true;
      continue;
    case kTile:
      tile = a.value;
      continue;
    case kGpu: {
      const GpuSpec *spec = findGpu(a.value);
      if (!spec)
        return fail("--gpu: unknown GPU '" + a.value + "' (" + gpuNames() +
                    ")");
      gpu = spec->name;
      continue;
    }
    case kBits:
      target = &bits;
      break;
    case kK:
      target = &k;
      break;
    case kN:
      target = &n;
      break;
    case kGroup:
      target = &group;
      break;
    case kM:
      target = &m;
      break;
    }
    if (!parseInt(a.value.c_str(), *target))
      return fail(a.option + " expects an integer, got '" + a.value + "'");
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
