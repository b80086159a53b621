//===- Matmul.h - Host side of the low-precision matmul ---------*- C++ -*-===//
//
// examples/matmul_a16wx.tl multiplies f16/bf16 activations by weights of
// any 1..8-bit type. Two host pieces go with it:
//
//  - packWeights: the weights' storage. The K x N matrix of codes is cut
//    into BK x BN tiles, stored n-tile by n-tile and, within one, k-tile by
//    k-tile; a tile is BK * BN * bits / 8 bytes, 128 runs of equal length,
//    run t holding the codes that thread t of the kernel multiplies, in the
//    order of its registers (the mma.m16n8k16 B-fragment tiling of the four
//    warps: local(BK/16, 1).spatial(1, 4).local(1, BN/32) * the B atom),
//    packed LSB first. So each thread loads its fragment with 16-byte loads.
//
//  - selectMatmulConfig: the tile shape and split-K for a problem, chosen
//    by the performance model (tilus/Profile.h) for a target GPU among the
//    legal tiles, from per-k-step profiles of every tile measured on the
//    emulator (bench/model/a16wx_table.py; docs/matmul.md); the values to
//    pass as -D to the compiler.
//
// Standard C++ only (part of the runtime core).
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_MATMUL_H
#define TILUS_MATMUL_H

#include "tilus/Status.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tilus {

/// The tile of one thread block of matmul_a16wx.
struct MatmulConfig {
  int64_t bm = 16;  ///< rows of a and c per block: 16, 32 or 64
  int64_t bn = 128; ///< columns per block: a multiple of 128 (4 warps x 32)
  int64_t bk = 32;  ///< depth of one k step: a multiple of 16, at most G
  /// Slices of K computed by separate blocks (1, 2 or 4); above 1 each block
  /// writes its f32 product and the last of a tile's blocks to arrive sums
  /// them (docs/matmul.md).
  int64_t splitK = 1;
  /// The compile-time parameters to give the compiler (`BM`, `BN`, `BK`,
  /// `SPLITK`).
  std::map<std::string, int64_t> defines() const;
};

/// Whether \p config can run a problem with N = \p n, K = \p k, weights of
/// \p bits bits and groups of \p group rows; the error says which rule
/// fails (N % BN, K % BK, BK <= G, K % G, 16-byte fragments, ...).
Status checkMatmulConfig(const MatmulConfig &config, int64_t n, int64_t k,
                         unsigned bits, int64_t group);

/// One candidate configuration and its modelled time.
struct MatmulEstimate {
  MatmulConfig config;
  double timeUs = 0;    ///< modelled: the kernel, and the split-K tail
  double kernelUs = 0;  ///< modelled: the main kernel alone
  std::string bound;    ///< the main kernel's binding limit
  double dramRooflinePct = 0; ///< compulsory DRAM bytes at peak / timeUs
  int registers = 0;    ///< per thread, ptxas
  double waves = 0;
};

/// Models every legal configuration for an M x K by K x N problem with
/// \p bits-bit weights in groups of \p group on \p gpu (a name findGpu
/// accepts), fastest first. BN and BK decide the weights' storage; their
/// best is the one with the least sum over M = 1, 16 and 64 of the modelled
/// time relative to that M's fastest (the first estimate is that choice's
/// best for \p m). Tiles with no profile in the table are left out.
Expected<std::vector<MatmulEstimate>>
estimateMatmulConfigs(int64_t m, int64_t n, int64_t k, unsigned bits,
                      int64_t group, const std::string &gpu = "H100-SXM5");

/// The configuration for a problem: the model's choice on \p gpu (see
/// estimateMatmulConfigs); when no profiled tile fits, the first legal one of
/// the fixed preference order in docs/matmul.md. An error when no tile fits
/// (N not a multiple of 32, ...).
Expected<MatmulConfig> selectMatmulConfig(int64_t m, int64_t n, int64_t k,
                                          unsigned bits, int64_t group,
                                          const std::string &gpu = "H100-SXM5");

/// The fixed preference order (docs/matmul.md): BM by M, the first legal
/// BN and BK of a list chosen by N, split-K while the grid leaves a 132-SM
/// GPU idle. selectMatmulConfig's fallback.
Expected<MatmulConfig> fixedMatmulConfig(int64_t m, int64_t n, int64_t k,
                                         unsigned bits, int64_t group);

/// The bytes packWeights writes for a K x N matrix of \p bits-bit codes.
int64_t packedWeightBytes(int64_t k, int64_t n, unsigned bits);

/// Packs \p codes (K x N row-major, one code per byte in its low \p bits
/// bits) into \p out (packedWeightBytes bytes) for tiles of \p config.
Status packWeights(const uint8_t *codes, int64_t k, int64_t n, unsigned bits,
                   const MatmulConfig &config, uint8_t *out);

/// The inverse of packWeights.
Status unpackWeights(const uint8_t *packed, int64_t k, int64_t n,
                     unsigned bits, const MatmulConfig &config,
                     uint8_t *codes);

} // namespace tilus

#endif // TILUS_MATMUL_H
