//===- MatmulJit.h - matmul_a16wx compiled and dispatched by shape -*- C++ -*-===//
//
// The low-precision matmul as a library call: MatmulA16Wx holds the kernel
// source (examples/matmul_a16wx.tl, built into the library), picks the tile
// of each problem from the configuration table (selectMatmulConfig), compiles
// each tile it meets once through the JIT's kernel cache, and launches.
//
//   auto dev = tilus::createDevice("emu");
//   tilus::MatmulA16Wx mm(**dev, {.weightType = "u4", .group = 128});
//   auto tile = mm.config(m, n, k);          // BN, BK: how to pack b
//   tilus::packWeights(codes, k, n, 4, *tile, packed.data());
//   mm.launch(m, n, k, a, b, scales, /*zeros=*/0, c);
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_MATMULJIT_H
#define TILUS_MATMULJIT_H

#include "tilus/Jit.h"
#include "tilus/Matmul.h"

#include <map>
#include <optional>
#include <tuple>

namespace tilus {

struct MatmulA16WxOptions {
  std::string weightType = "u4";     ///< u1..u8, i2..i8, f3e1m1..f8e5m2
  std::string activationType = "f16"; ///< f16 or bf16: a, scales, zeros, c
  int64_t group = 128;                ///< rows of K per scale
  bool zeroPoints = false;            ///< subtract zeros (unsigned types)
  JitOptions jit;                     ///< arch, cache; defines are ignored
};

class MatmulA16Wx {
public:
  MatmulA16Wx(Device &device, MatmulA16WxOptions options = {});

  /// The tile of an M x N x K problem. Its BN and BK depend only on N, K,
  /// the weight type and the group: pack b for them once, for every M.
  Expected<MatmulConfig> config(int64_t m, int64_t n, int64_t k) const;

  /// The compiled kernel for an M x N x K problem (compiled on first use).
  Expected<Kernel> kernel(int64_t m, int64_t n, int64_t k);

  /// c = a @ dequantize(b). a: M x K, scales and zeros: cdiv(K, G) x N, c:
  /// M x N, all of the activation type; b: packWeights' bytes for
  /// config(m, n, k). zeros may be 0 without zero points. With split-K the
  /// slices' f32 products and the tiles' arrival counts go to a workspace
  /// the object keeps (grown as needed; the counts start at 0 and every
  /// launch leaves them at 0), and the last slice of each tile sums them
  /// into c in the same launch. One launch on \p stream (\p stats, when
  /// given, measures it); launches of one object must not run concurrently.
  Status launch(int64_t m, int64_t n, int64_t k, DevicePtr a, DevicePtr b,
                DevicePtr scales, DevicePtr zeros, DevicePtr c,
                Stream stream = 0, LaunchStats *stats = nullptr);

  /// The source the kernels are compiled from.
  static std::string_view source();

private:
  /// The kernel of one configuration.
  Expected<Kernel> kernelFor(const MatmulConfig &tile);

  Device *device;
  MatmulA16WxOptions options;
  unsigned bits = 0;
  Status optionsError;
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t>, Kernel> kernels;
  std::optional<Buffer> workspace;
};

} // namespace tilus

#endif // TILUS_MATMULJIT_H
