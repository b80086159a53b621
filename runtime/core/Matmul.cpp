//===- Matmul.cpp - Weight packing and tile table of matmul_a16wx ---------===//

#include "tilus/Matmul.h"

#include "ir/layout/RegisterLayout.h"

#include <algorithm>
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

Expected<MatmulConfig> tilus::selectMatmulConfig(int64_t m, int64_t n,
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
  std::fill(out, out + packedWeightBytes(k, n, bits), 0);
  unsigned mask = (1u << bits) - 1;
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
