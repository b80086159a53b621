//===- matmul.cpp - The low-precision matmul as a library call ------------===//
//
//   embed_matmul [DEVICE]
//
// Multiplies random f16 activations by random 4-bit weights (one f16 scale
// per 128 rows and column) with tilus::MatmulA16Wx, which picks the tile
// from the configuration table and compiles matmul_a16wx through the JIT;
// the weights are packed once with tilus::packWeights. Every element of c
// is checked against a double-precision product on the host. Exit status 0
// when all match.
//
//===----------------------------------------------------------------------===//

#include "tilus/MatmulJit.h"
#include "tilus/tilus.h"

#include <cmath>
#include <iostream>
#include <random>

namespace {

int fail(const std::string &message) {
  std::cerr << "embed_matmul: error: " << message << "\n";
  return 1;
}

/// f16 codes of \p values (rounded to nearest even) and their exact values.
std::vector<uint16_t> toF16(std::vector<double> &values) {
  std::vector<uint64_t> codes(values.size());
  tilus_encode("f16", values.data(), values.size(), codes.data());
  tilus_decode("f16", codes.data(), codes.size(), values.data());
  return std::vector<uint16_t>(codes.begin(), codes.end());
}

} // namespace

int main(int argc, char **argv) {
  auto device = tilus::createDevice(argc > 1 ? argv[1] : "emu");
  if (!device)
    return fail(device.error().message());
  tilus::Device &dev = **device;
  const int64_t m = 5, n = 256, k = 512, group = 128;

  tilus::MatmulA16WxOptions options;
  options.weightType = "u4";
  options.group = group;
  tilus::MatmulA16Wx matmul(dev, options);
  auto tile = matmul.config(m, n, k);
  if (!tile)
    return fail(tile.error().message());

  std::mt19937 rng(7);
  std::uniform_real_distribution<double> unit(-1, 1), scale(0.01, 0.1);
  std::vector<uint8_t> codes(k * n);
  for (uint8_t &c : codes)
    c = static_cast<uint8_t>(rng() % 16);
  std::vector<double> a(m * k), s((k / group) * n);
  for (double &x : a)
    x = unit(rng);
  for (double &x : s)
    x = scale(rng);
  std::vector<uint16_t> a16 = toF16(a), s16 = toF16(s);
  std::vector<uint8_t> packed(tilus::packedWeightBytes(k, n, 4));
  if (auto st = tilus::packWeights(codes.data(), k, n, 4, *tile, packed.data());
      !st)
    return fail(st.message());

  auto upload = [&](const void *data, uint64_t bytes) {
    auto buf = tilus::Buffer::create(dev, bytes);
    if (buf && data)
      (void)buf->copyFrom(data);
    return buf;
  };
  auto da = upload(a16.data(), a16.size() * 2);
  auto db = upload(packed.data(), packed.size());
  auto ds = upload(s16.data(), s16.size() * 2);
  auto dc = upload(nullptr, m * n * 2);
  if (!da || !db || !ds || !dc)
    return fail("cannot allocate device memory");
  if (auto st = matmul.launch(m, n, k, da->ptr(), db->ptr(), ds->ptr(),
                              /*zeros=*/0, dc->ptr());
      !st)
    return fail(st.message());
  std::vector<uint16_t> c16(m * n);
  if (auto st = dc->copyTo(c16.data()); !st)
    return fail(st.message());
  std::vector<uint64_t> cCodes(c16.begin(), c16.end());
  std::vector<double> c(m * n);
  tilus_decode("f16", cCodes.data(), cCodes.size(), c.data());

  // w = round_f16(code * scale); c = a @ w in f32, rounded to f16 once.
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double want = 0, magnitude = 0;
      for (int64_t p = 0; p < k; ++p) {
        std::vector<double> w = {codes[p * n + j] * s[(p / group) * n + j]};
        toF16(w);
        want += a[i * k + p] * w[0];
        magnitude += std::fabs(a[i * k + p] * w[0]);
      }
      double bound = std::ldexp(std::fabs(want), -11) +
                     k * std::ldexp(magnitude, -23) + std::ldexp(1.0, -24);
      if (!(std::fabs(c[i * n + j] - want) <= bound))
        return fail("c[" + std::to_string(i) + ", " + std::to_string(j) +
                    "] = " + std::to_string(c[i * n + j]) + ", expected " +
                    std::to_string(want));
    }
  std::cout << "embed_matmul: u4 weights, tile " << tile->bm << "x" << tile->bn
            << "x" << tile->bk << " on " << dev.name() << ": " << m * n
            << " elements match the host\n";
  return 0;
}
