//===- Matmul.cpp - Weight packing and tile table of matmul_a16wx ---------===//

#include "tilus/Matmul.h"

#include "ir/layout/RegisterLayout.h"
#include "tilus/Profile.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

using namespace tilus;

namespace {

constexpr int64_t kThreads = 128; // four warps
constexpr int64_t kFragmentBits = 128; // one 16-byte load

/// The registers of one weight tile: the mma.m16n8k16 B-operand tiling of
/// four warps side by side along N, as matmul_a16wx writes it.
RegisterLayout weightTileLayout(const MatmulConfig &c) {
  return layout::local({c.bk / 16, 1}) * layout::spatial({1, 4}) *
         layout::local({1, c.bn / 32}) * layout::local({2, 1}) *
         layout::columnSpatial({4, 8}) * layout::local({2, 1});
}

Status checkProblem(int64_t k, int64_t n, unsigned bits) {
  if (bits < 1 || bits > 8)
    return Status::error("weights must have 1 to 8 bits, got " +
                         std::to_string(bits));
  if (k < 1 || n < 1)
    return Status::error("K and N must be positive");
  return Status::success();
}

/// Calls f(byte offset, bit offset, index into the K x N codes) for every
/// code. The tile layout is mapped once: every tile has the same offsets.
template <typename F>
void forEachCode(int64_t k, int64_t n, unsigned bits, const MatmulConfig &c,
                 F f) {
  RegisterLayout tile = weightTileLayout(c);
  int64_t tileBytes = c.bk * c.bn * bits / 8;
  int64_t runBits = tileBytes * 8 / kThreads;
  int64_t locals = tile.numLocals();
  std::vector<int64_t> offsets(kThreads * locals);
  int64_t index[2];
  for (int64_t t = 0; t < kThreads; ++t)
    for (int64_t i = 0; i < locals; ++i) {
      tile.map(t, i, index);
      offsets[t * locals + i] = index[0] * n + index[1];
    }
  for (int64_t nt = 0; nt < n / c.bn; ++nt)
    for (int64_t kt = 0; kt < k / c.bk; ++kt) {
      int64_t base = (nt * (k / c.bk) + kt) * tileBytes;
      int64_t origin = kt * c.bk * n + nt * c.bn;
      for (int64_t t = 0; t < kThreads; ++t) {
        const int64_t *run = &offsets[t * locals];
        for (int64_t i = 0; i < locals; ++i) {
          int64_t bit = t * runBits + i * bits;
          f(base + bit / 8, bit % 8, origin + run[i]);
        }
      }
    }
}

} // namespace

std::map<std::string, int64_t> MatmulConfig::defines() const {
  return {{"BM", bm}, {"BN", bn}, {"BK", bk}, {"SPLITK", splitK}};
}

Status tilus::checkMatmulConfig(const MatmulConfig &c, int64_t n, int64_t k,
                                unsigned bits, int64_t group) {
  if (Status s = checkProblem(k, n, bits); !s)
    return s;
  if (c.bm < 16 || c.bm % 16 != 0)
    return Status::error("BM must be a positive multiple of 16");
  if (c.bn < 32 || c.bn % 32 != 0)
    return Status::error("BN must be a positive multiple of 32 (4 warps of "
                         "8-column mma tiles)");
  if (c.bk < 16 || c.bk % 16 != 0)
    return Status::error("BK must be a positive multiple of 16");
  if (group < 1 || c.bk > group || group % c.bk != 0)
    return Status::error("BK (" + std::to_string(c.bk) +
                         ") must divide the group size (" +
                         std::to_string(group) + ")");
  if (k % group != 0)
    return Status::error("K (" + std::to_string(k) +
                         ") must be a multiple of the group size (" +
                         std::to_string(group) + ")");
  if (n % c.bn != 0 || k % c.bk != 0)
    return Status::error("N and K must be multiples of BN and BK (" +
                         std::to_string(c.bn) + ", " + std::to_string(c.bk) +
                         ")");
  if (c.splitK != 1 && c.splitK != 2 && c.splitK != 4)
    return Status::error("split-K must be 1, 2 or 4, got " +
                         std::to_string(c.splitK));
  if (k % (c.bk * c.splitK) != 0)
    return Status::error("K (" + std::to_string(k) +
                         ") must be a multiple of BK x split-K (" +
                         std::to_string(c.bk * c.splitK) + ")");
  if ((c.bk * c.bn * bits) % (kThreads * kFragmentBits) != 0)
    return Status::error("a " + std::to_string(c.bk) + " x " +
                         std::to_string(c.bn) + " tile of " +
                         std::to_string(bits) +
                         "-bit weights does not give every thread whole "
                         "16-byte loads");
  return Status::success();
}

namespace {

/// One tile's profile (bench/model/a16wx_table.py): one CTA's counts and
/// critical path, a fixed part and a part per k-step.
struct TileProfile {
  int bits, bm, bn, bk, registers, sharedBytes;
  /// l2 sectors, shared wavefronts, mma flops, fp32 and all instructions.
  double fixed[5], perStep[5];
  /// Critical-path cycles on each GPU of gpuSpecs() (-1: does not fit).
  double pathFixed[5], pathPerStep[5];
};

const TileProfile kTileProfiles[] = {
#include "runtime/core/MatmulModelTable.inc"
};

const TileProfile *findTile(unsigned bits, const MatmulConfig &c) {
  for (const TileProfile &t : kTileProfiles)
    if (unsigned(t.bits) == bits && t.bm == c.bm && t.bn == c.bn &&
        t.bk == c.bk)
      return &t;
  return nullptr;
}

/// The modelled time of \p c: the kernel's counters composed from its
/// tile's profile, the model's estimate, and with split-K the tail of the
/// last block of each tile to arrive (its atomic add and its reads of the
/// slices: two DRAM latencies, or the slices' bytes, whichever is longer;
/// the same launch, so no launch overhead).
std::optional<MatmulEstimate> modelConfig(const GpuSpec &gpu, size_t gpuIndex,
                                          const TileProfile &t,
                                          const MatmulConfig &c, int64_t m,
                                          int64_t n, int64_t k, unsigned bits,
                                          int64_t group) {
  if (t.pathFixed[gpuIndex] < 0)
    return std::nullopt;
  double steps = double(k / (c.bk * c.splitK));
  double ctas = double((m + c.bm - 1) / c.bm * (n / c.bn) * c.splitK);
  auto total = [&](int i) { return ctas * (t.fixed[i] + steps * t.perStep[i]); };
  Counters counters;
  counters.globalLdSectors = uint64_t(total(0));
  counters.sharedLdWavefronts = uint64_t(total(1));
  counters.mmaFlops = uint64_t(total(2));
  counters.instFp32 = uint64_t(total(3));
  counters.instInteger = uint64_t(std::max(0.0, total(4) - total(3)));
  // Compulsory DRAM traffic: the weights, scales and activations once, the
  // output, and with split-K the slices' f32 products.
  double partialBytes = c.splitK > 1 ? double(c.splitK * m * n * 4) : 0;
  double outBytes = double(m * n * 2) + partialBytes;
  counters.dramReadBytes =
      uint64_t(n * k * int64_t(bits) / 8 + (k + group - 1) / group * n * 2 +
               m * k * 2);
  counters.dramWriteBytes = uint64_t(outBytes);
  double path = t.pathFixed[gpuIndex] + steps * t.pathPerStep[gpuIndex];
  counters.ctaCyclesAvg.assign(gpuSpecs().size(), 0);
  counters.ctaCyclesMax.assign(gpuSpecs().size(), 0);
  counters.ctaCyclesAvg[gpuIndex] = counters.ctaCyclesMax[gpuIndex] = path;
  KernelResources r;
  r.threadsPerCta = 128;
  r.regsPerThread = t.registers;
  r.sharedBytesPerCta = t.sharedBytes;
  r.ctas = int64_t(ctas);
  Estimate e = estimate(gpu, counters, r);
  if (e.occupancy.ctasPerSm == 0)
    return std::nullopt;
  MatmulEstimate out;
  out.config = c;
  out.kernelUs = e.timeUs;
  out.timeUs = e.timeUs;
  out.bound = e.bound;
  out.registers = t.registers;
  out.waves = e.occupancy.waves;
  if (c.splitK > 1) {
    double dram = partialBytes / (gpu.dramGBs * 1e3 * gpu.dramEfficiency);
    out.timeUs += std::max(dram, 2 * gpu.dramLatencyNs * 1e-3);
  }
  double dramAtPeak =
      double(counters.dramReadBytes + counters.dramWriteBytes) /
      (gpu.dramGBs * 1e3);
  out.dramRooflinePct = 100 * dramAtPeak / out.timeUs;
  return out;
}

/// The fastest configuration of each tile (BM, split-K by the model) for one
/// M, over the tiles with the given BN and BK.
std::optional<MatmulEstimate>
bestFor(const GpuSpec &gpu, size_t gpuIndex, int64_t m, int64_t n, int64_t k,
        unsigned bits, int64_t group, int64_t bn, int64_t bk,
        std::vector<MatmulEstimate> *all) {
  std::optional<MatmulEstimate> best;
  for (int64_t bm : {16, 32, 64}) {
    if (bm > 16 && bm / 2 >= m)
      continue; // a taller tile than M needs only multiplies zeros
    for (int64_t splitK : {1, 2, 4}) {
      MatmulConfig c;
      c.bm = bm, c.bn = bn, c.bk = bk, c.splitK = splitK;
      if (!checkMatmulConfig(c, n, k, bits, group))
        continue;
      if (k / (bk * splitK) < 2 && splitK > 1)
        continue; // each slice keeps two k-steps
      const TileProfile *t = findTile(bits, c);
      if (!t)
        continue;
      std::optional<MatmulEstimate> e =
          modelConfig(gpu, gpuIndex, *t, c, m, n, k, bits, group);
      if (!e)
        continue;
      if (all)
        all->push_back(*e);
      if (!best || e->timeUs < best->timeUs)
        best = e;
    }
  }
  return best;
}

} // namespace

Expected<std::vector<MatmulEstimate>>
tilus::estimateMatmulConfigs(int64_t m, int64_t n, int64_t k, unsigned bits,
                             int64_t group, const std::string &gpuName) {
  if (m < 1)
    return Status::error("M must be positive");
  if (Status s = checkProblem(k, n, bits); !s)
    return s;
  const GpuSpec *gpu = findGpu(gpuName);
  if (!gpu)
    return Status::error("unknown GPU '" + gpuName + "' (" + gpuNames() + ")");
  size_t gpuIndex = size_t(gpu - gpuSpecs().data());
  if (gpuIndex >= 5)
    return Status::error("the matmul tile profiles do not cover " + gpuName);
  // BN and BK: the least sum over M = 1, 16 and 64 of the time relative
  // to that M's best, so that each M counts alike.
  const int64_t ms[] = {1, 16, 64};
  double fastest[3] = {0, 0, 0};
  std::vector<std::pair<std::pair<int64_t, int64_t>, std::vector<double>>>
      pairs;
  for (int64_t bn : {32, 64, 128, 256})
    for (int64_t bk : {16, 32, 64, 128}) {
      std::vector<double> times;
      for (int64_t mm : ms) {
        std::optional<MatmulEstimate> e = bestFor(
            *gpu, gpuIndex, mm, n, k, bits, group, bn, bk, nullptr);
        if (!e)
          break;
        times.push_back(e->timeUs);
      }
      if (times.size() != 3)
        continue;
      for (int i = 0; i < 3; ++i)
        if (!fastest[i] || times[i] < fastest[i])
          fastest[i] = times[i];
      pairs.push_back({{bn, bk}, times});
    }
  double bestScore = 0;
  int64_t bestBn = 0, bestBk = 0;
  for (auto &[tile, times] : pairs) {
    double score = 0;
    for (int i = 0; i < 3; ++i)
      score += times[i] / fastest[i];
    if (!bestBn || score < bestScore)
      bestScore = score, bestBn = tile.first, bestBk = tile.second;
  }
  std::vector<MatmulEstimate> chosen, others;
  if (bestBn) {
    std::optional<MatmulEstimate> best = bestFor(
        *gpu, gpuIndex, m, n, k, bits, group, bestBn, bestBk, nullptr);
    chosen.push_back(*best);
  }
  for (int64_t bn : {32, 64, 128, 256})
    for (int64_t bk : {16, 32, 64, 128})
      bestFor(*gpu, gpuIndex, m, n, k, bits, group, bn, bk, &others);
  std::sort(others.begin(), others.end(),
            [](const MatmulEstimate &a, const MatmulEstimate &b) {
              return a.timeUs < b.timeUs;
            });
  for (const MatmulEstimate &e : others) {
    const MatmulConfig &a = e.config, &b = chosen.empty() ? a : chosen[0].config;
    if (!chosen.empty() && a.bm == b.bm && a.bn == b.bn && a.bk == b.bk &&
        a.splitK == b.splitK)
      continue;
    chosen.push_back(e);
  }
  return chosen;
}

Expected<MatmulConfig> tilus::selectMatmulConfig(int64_t m, int64_t n,
                                                 int64_t k, unsigned bits,
                                                 int64_t group,
                                                 const std::string &gpu) {
  if (m < 1)
    return Status::error("M must be positive");
  Expected<std::vector<MatmulEstimate>> estimates =
      estimateMatmulConfigs(m, n, k, bits, group, gpu);
  if (!estimates)
    return estimates.error();
  if (!estimates->empty())
    return estimates->front().config;
  return fixedMatmulConfig(m, n, k, bits, group);
}

Expected<MatmulConfig> tilus::fixedMatmulConfig(int64_t m, int64_t n,
                                                int64_t k, unsigned bits,
                                                int64_t group) {
  if (m < 1)
    return Status::error("M must be positive");
  MatmulConfig c;
  c.bm = m <= 16 ? 16 : m <= 32 ? 32 : 64;
  // BN and BK fix the weights' storage, so they follow from N, K, the type
  // and the group alone: weights packed once serve every M. The narrowest
  // preferred BN still gives a 132-SM GPU two blocks per SM at small M.
  std::vector<int64_t> widths;
  if (n / 128 >= 264)
    widths = {128, 64, 256, 32, 512};
  else if (n / 64 >= 132)
    widths = {64, 128, 32, 256, 512};
  else
    widths = {32, 64, 128, 256, 512};
  const int64_t depths[] = {64, 32, 128, 16};
  std::string last;
  for (int64_t bn : widths)
    for (int64_t bk : depths) {
      c.bn = bn;
      c.bk = bk;
      Status s = checkMatmulConfig(c, n, k, bits, group);
      if (!s) {
        last = s.message();
        continue;
      }
      // Split K while the grid leaves a 132-SM GPU idle and each slice keeps
      // at least two k-steps.
      int64_t blocks = (m + c.bm - 1) / c.bm * (n / c.bn);
      while (c.splitK < 4 && blocks * c.splitK < 132 &&
             k % (c.bk * c.splitK * 2) == 0 &&
             k / (c.bk * c.splitK * 2) >= 2)
        c.splitK *= 2;
      return c;
    }
  return Status::error("no matmul_a16wx tile fits N=" + std::to_string(n) +
                       ", K=" + std::to_string(k) + ", " +
                       std::to_string(bits) + "-bit weights in groups of " +
                       std::to_string(group) + " (last rule: " + last + ")");
}

int64_t tilus::packedWeightBytes(int64_t k, int64_t n, unsigned bits) {
  return k * n * bits / 8;
}

Status tilus::packWeights(const uint8_t *codes, int64_t k, int64_t n,
                          unsigned bits, const MatmulConfig &config,
                          uint8_t *out) {
  // Split-K does not change the storage.
  MatmulConfig tile = config;
  tile.splitK = 1;
  if (Status s = checkMatmulConfig(tile, n, k, bits, tile.bk); !s)
    return s;
  unsigned mask = (1u << bits) - 1;
  // A code that does not fit is refused, not masked: masking would change
  // the weight silently.
  for (int64_t i = 0; i < k * n; ++i)
    if (codes[i] & ~mask)
      return Status::error("weight code " + std::to_string(codes[i]) +
                           " at row " + std::to_string(i / n) + ", column " +
                           std::to_string(i % n) + " does not fit " +
                           std::to_string(bits) + " bits");
  std::fill(out, out + packedWeightBytes(k, n, bits), 0);
  forEachCode(k, n, bits, config,
              [&](int64_t byte, int64_t shift, int64_t at) {
                unsigned code = (codes[at] & mask) << shift;
                out[byte] |= static_cast<uint8_t>(code);
                if (shift + bits > 8)
                  out[byte + 1] |= static_cast<uint8_t>(code >> 8);
              });
  return Status::success();
}

Status tilus::unpackWeights(const uint8_t *packed, int64_t k, int64_t n,
                            unsigned bits, const MatmulConfig &config,
                            uint8_t *codes) {
  MatmulConfig tile = config;
  tile.splitK = 1;
  if (Status s = checkMatmulConfig(tile, n, k, bits, tile.bk); !s)
    return s;
  unsigned mask = (1u << bits) - 1;
  forEachCode(k, n, bits, config,
              [&](int64_t byte, int64_t shift, int64_t at) {
                unsigned word = packed[byte];
                if (shift + bits > 8)
                  word |= unsigned(packed[byte + 1]) << 8;
                codes[at] = static_cast<uint8_t>((word >> shift) & mask);
              });
  return Status::success();
}
