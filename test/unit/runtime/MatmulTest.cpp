//===- MatmulTest.cpp - MatmulA16Wx: table dispatch and results -----------===//
//
// Runs the library's low-precision matmul on the emulator with random
// inputs and checks every element of c against a double-precision product of
// the dequantized weights, computed here from the dtype library's values.
//
//===----------------------------------------------------------------------===//

#include "tilus/MatmulJit.h"

#include "ir/dtype/DType.h"

#include "gtest/gtest.h"

#include <cmath>
#include <filesystem>
#include <random>

using namespace tilus;
namespace fs = std::filesystem;

namespace {

struct Problem {
  const char *weight;
  const char *activation;
  int64_t group;
  bool zeroPoints;
  int64_t m, n, k;
};

class MatmulTest : public ::testing::TestWithParam<Problem> {
protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("tilus-matmul-test-" + std::to_string(::getpid()));
    clearMemoryCache();
    auto created = createDevice("emu");
    ASSERT_TRUE(created) << created.error().message();
    device = std::move(*created);
  }
  void TearDown() override { fs::remove_all(dir); }

  fs::path dir;
  std::unique_ptr<Device> device;
};

/// A device buffer holding \p host.
template <typename T> Buffer upload(Device &dev, const std::vector<T> &host) {
  Expected<Buffer> b = Buffer::create(dev, host.size() * sizeof(T));
  EXPECT_TRUE(b) << b.error().message();
  EXPECT_TRUE(b->copyFrom(host.data()));
  return std::move(*b);
}

TEST_P(MatmulTest, MatchesTheDequantizedProduct) {
  const Problem &p = GetParam();
  DType w = *DType::parse(p.weight), t = *DType::parse(p.activation);
  MatmulA16WxOptions options;
  options.weightType = p.weight;
  options.activationType = p.activation;
  options.group = p.group;
  options.zeroPoints = p.zeroPoints;
  options.jit.cacheDir = dir.string();
  MatmulA16Wx mm(*device, options);
  Expected<MatmulConfig> tile = mm.config(p.m, p.n, p.k);
  ASSERT_TRUE(tile) << tile.error().message();
  // A single column of blocks with 64 or 128 k-steps: the model splits K.
  if (p.k >= 8192)
    EXPECT_EQ(tile->splitK, 4);

  std::mt19937 rng(7);
  // Codes whose values are finite in T; scales keep |w| near 1.
  std::vector<uint8_t> usable;
  double largest = 0;
  for (uint64_t code = 0; code < (1u << w.bitWidth()); ++code) {
    double v = decode(w, code);
    if (std::isfinite(v) && std::abs(v) < 60000) {
      usable.push_back(static_cast<uint8_t>(code));
      largest = std::max(largest, std::abs(v));
    }
  }
  auto roundT = [&](double v) { return decode(t, encode(t, v)); };
  std::uniform_real_distribution<double> unit(-1, 1), half(0.5, 1.5);
  int64_t groups = (p.k + p.group - 1) / p.group;
  std::vector<uint8_t> codes(p.k * p.n);
  std::vector<uint16_t> a(p.m * p.k), scales(groups * p.n), zeros(groups * p.n);
  std::vector<double> av(a.size()), sv(scales.size()), zv(zeros.size());
  for (uint8_t &c : codes)
    c = usable[rng() % usable.size()];
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = encode(t, unit(rng)), av[i] = decode(t, a[i]);
  for (size_t i = 0; i < scales.size(); ++i) {
    scales[i] = encode(t, half(rng) / std::max(largest, 1.0));
    sv[i] = decode(t, scales[i]);
    zeros[i] = encode(t, (unit(rng) + 1) * ((1 << w.bitWidth()) - 1) / 2);
    zv[i] = decode(t, zeros[i]);
  }
  std::vector<uint8_t> packed(packedWeightBytes(p.k, p.n, w.bitWidth()));
  ASSERT_TRUE(packWeights(codes.data(), p.k, p.n, w.bitWidth(), *tile,
                          packed.data()));

  Buffer da = upload(*device, a), db = upload(*device, packed),
         ds = upload(*device, scales), dz = upload(*device, zeros),
         dc = upload(*device, std::vector<uint16_t>(p.m * p.n, 0));
  // Twice, c cleared in between: with split-K the second launch finds the
  // tiles' arrival counts where the first left them, at 0, or c stays 0.
  for (int launch = 0; launch < 2; ++launch) {
    ASSERT_TRUE(device->memset(dc.ptr(), 0, dc.bytes()));
    Status launched = mm.launch(p.m, p.n, p.k, da.ptr(), db.ptr(), ds.ptr(),
                                p.zeroPoints ? dz.ptr() : 0, dc.ptr());
    ASSERT_TRUE(launched) << launched.message();
  }
  std::vector<uint16_t> c(p.m * p.n);
  ASSERT_TRUE(dc.copyTo(c.data()));

  // The specification: w = round_T(round_T(value - zero) * scale), c in f32
  // sums rounded once to T.
  double halfUlp = t == DType::f16() ? std::ldexp(1.0, -11) : std::ldexp(1.0, -8);
  int64_t bad = 0;
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.n; ++j) {
      double want = 0, magnitude = 0;
      for (int64_t kk = 0; kk < p.k; ++kk) {
        int64_t g = (kk / p.group) * p.n + j;
        double v = roundT(decode(w, codes[kk * p.n + j]));
        if (p.zeroPoints)
          v = roundT(v - zv[g]);
        double wq = roundT(v * sv[g]);
        want += av[i * p.k + kk] * wq;
        magnitude += std::abs(av[i * p.k + kk] * wq);
      }
      double got = decode(t, c[i * p.n + j]);
      double bound = halfUlp * std::abs(want) +
                     p.k * std::ldexp(1.0, -23) * magnitude +
                     std::ldexp(1.0, -24);
      if (!(std::abs(got - want) <= bound) && bad++ < 3)
        ADD_FAILURE() << "c[" << i << ", " << j << "] = " << got
                      << ", expected " << want << " (bound " << bound << ")";
    }
  EXPECT_EQ(bad, 0) << "of " << p.m * p.n << " elements";
}

INSTANTIATE_TEST_SUITE_P(
    Problems, MatmulTest,
    ::testing::Values(Problem{"u4", "f16", 128, false, 5, 128, 256},
                      Problem{"i3", "f16", 128, false, 17, 128, 256},
                      Problem{"f6e3m2", "f16", 128, false, 1, 128, 128},
                      Problem{"u8", "bf16", 64, true, 33, 64, 128},
                      Problem{"f4e2m1", "bf16", 32, false, 64, 128, 64},
                      // Split into 4 slices of K, summed by the last to arrive.
                      Problem{"u4", "f16", 128, false, 3, 128, 8192},
                      Problem{"u8", "bf16", 64, true, 17, 64, 8192}));

TEST(MatmulDispatchTest, OneWeightTileForEveryM) {
  auto device = createDevice("emu");
  ASSERT_TRUE(device);
  MatmulA16Wx mm(**device, {});
  auto small = mm.config(1, 8192, 8192), large = mm.config(300, 8192, 8192);
  ASSERT_TRUE(small && large);
  EXPECT_EQ(small->bm, 16);
  EXPECT_GE(large->bm, 32);
  EXPECT_EQ(small->bn, large->bn);
  EXPECT_EQ(small->bk, large->bk);
  // At M = 1 the blocks of 4096 x 4096 leave most of a GPU idle: the model
  // splits K.
  auto narrow = mm.config(1, 4096, 4096);
  ASSERT_TRUE(narrow);
  EXPECT_GT(narrow->splitK, 1);
}

TEST(MatmulDispatchTest, ErrorsNameTheRule) {
  auto device = createDevice("emu");
  ASSERT_TRUE(device);
  MatmulA16WxOptions bf;
  bf.weightType = "f16";
  auto wide = MatmulA16Wx(**device, bf).config(1, 128, 128);
  ASSERT_FALSE(wide);
  EXPECT_NE(wide.error().message().find("weight type 'f16'"), std::string::npos);
  MatmulA16WxOptions zp;
  zp.weightType = "i4";
  zp.zeroPoints = true;
  auto signedZp = MatmulA16Wx(**device, zp).config(1, 128, 128);
  ASSERT_FALSE(signedZp);
  EXPECT_NE(signedZp.error().message().find("zero points"), std::string::npos);
  auto odd = MatmulA16Wx(**device, {}).config(1, 100, 128);
  ASSERT_FALSE(odd);
  EXPECT_NE(odd.error().message().find("no matmul_a16wx tile fits N=100"),
            std::string::npos);
}

} // namespace
