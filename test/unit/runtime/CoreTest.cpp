//===- CoreTest.cpp - The runtime core: expressions, metadata, launches ---===//
//
// Uses a precompiled vector_add (Inputs/vector_add.{ptx,json}, written by
// `tilusc examples/vector_add.tl -D BLOCK=256 --metadata=...`) so that it
// runs in the core-only build too.
//
//===----------------------------------------------------------------------===//

#include "runtime/core/Ptx.h"
#include "runtime/core/TensorMaps.h"
#include "runtime/emu/TensorMap.h"
#include "runtime/cuda/CudaDevice.h"
#include "tilus/Runtime.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

using namespace tilus;

namespace {

/// Device memory for a test; the test fails when there is none.
Buffer makeBuffer(Device &dev, uint64_t bytes) {
  Expected<Buffer> b = Buffer::create(dev, bytes);
  EXPECT_TRUE(b) << b.error().message();
  return b ? std::move(*b) : Buffer();
}

std::string readInput(const std::string &name) {
  std::ifstream in(std::string(TILUS_TEST_INPUTS) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using Values = std::vector<std::pair<std::string, int64_t>>;

int64_t eval(const std::string &e, const Values &v = {}) {
  Expected<int64_t> r = evaluateExpr(e, v);
  EXPECT_TRUE(r) << e << ": " << r.error().message();
  return r ? *r : INT64_MIN;
}

int64_t cdivRef(int64_t a, int64_t b) {
  return a / b + ((a % b != 0) && ((a < 0) == (b < 0)));
}

TEST(ExprTest, MatchesCOnRandomExpressions) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int64_t> small(-1000, 1000);
  for (int i = 0; i < 2000; ++i) {
    int64_t a = small(rng), b = small(rng), c = small(rng);
    if (b == 0)
      b = 7;
    if (c == 0)
      c = -3;
    Values v = {{"a", a}, {"b_1", b}};
    EXPECT_EQ(eval("a + b_1 * " + std::to_string(c), v), a + b * c);
    EXPECT_EQ(eval("(a - b_1) / " + std::to_string(c), v), (a - b) / c);
    EXPECT_EQ(eval("a % b_1", v), a % b);
    EXPECT_EQ(eval("-a - -b_1", v), -a + b);
    EXPECT_EQ(eval("cdiv(a, b_1)", v), cdivRef(a, b));
    EXPECT_EQ(eval("min(a, b_1) * max(a, 2 * b_1)", v),
              std::min(a, b) * std::max(a, 2 * b));
    EXPECT_EQ(eval("((a))*(b_1+1)-a/b_1%5", v), a * (b + 1) - a / b % 5);
  }
}

TEST(ExprTest, ErrorsNameTheProblem) {
  auto err = [](const std::string &e, const Values &v = {}) {
    Expected<int64_t> r = evaluateExpr(e, v);
    EXPECT_FALSE(r) << e;
    return r ? std::string() : r.error().message();
  };
  EXPECT_NE(err("n + 1").find("no value for 'n'"), std::string::npos);
  EXPECT_NE(err("4 / (2 - 2)").find("division by zero"), std::string::npos);
  EXPECT_NE(err("cdiv(4, 0)").find("division by zero"), std::string::npos);
  EXPECT_NE(err("9223372036854775807 + 1").find("overflow"), std::string::npos);
  // Nesting from a hostile metadata file is an error, not a stack overflow;
  // the deepest a kernel's grid may nest still evaluates.
  for (const char *open : {"(", "-", "max(1, "}) {
    std::string close = open[0] == '-' ? "" : ")";
    std::string deep, fine;
    for (int i = 0; i < 100000; ++i)
      deep += open;
    deep += "7";
    for (int i = 0; i < 100000; ++i)
      deep += close;
    EXPECT_NE(err(deep).find("nesting deeper than 256 levels"),
              std::string::npos)
        << open;
    for (int i = 0; i < 255; ++i)
      fine += open;
    fine += "7";
    for (int i = 0; i < 255; ++i)
      fine += close;
    EXPECT_EQ(eval(fine), open[0] == '-' ? -7 : 7) << open;
  }
  EXPECT_NE(err("pow(2, 3)").find("unknown function 'pow'"), std::string::npos);
  EXPECT_NE(err("1 +").find("unexpected end"), std::string::npos);
  EXPECT_NE(err("(1").find("expected ')'"), std::string::npos);
  EXPECT_NE(err("1 2").find("unexpected"), std::string::npos);
  EXPECT_NE(err("min 3").find("expected '(' after 'min'"), std::string::npos);
  EXPECT_NE(err("max(1 2)").find("max() takes two arguments"),
            std::string::npos);
  EXPECT_NE(err("99999999999999999999").find("integer literal out of range"),
            std::string::npos);
  Values most = {{"n", INT64_MIN}};
  EXPECT_NE(err("cdiv(n, -1)", most).find("overflow"), std::string::npos);
  EXPECT_NE(err("-n", most).find("overflow"), std::string::npos);
}

TEST(KernelInfoJsonTest, RoundTripsRandomKernels) {
  std::mt19937 rng(3);
  const char *names[] = {"a", "weird \"name\"\\", "tab\there", "n", "k0"};
  for (int round = 0; round < 200; ++round) {
    std::vector<KernelInfo> kernels(rng() % 3);
    for (KernelInfo &k : kernels) {
      k.name = names[rng() % 5];
      k.numThreads = rng() % 1024;
      k.sharedBytes = rng() % 200000;
      k.arch = "sm_90a";
      k.grid = {"cdiv(n, 128)", "(m / 2)", "1"};
      k.constants["BLOCK"] = int64_t(rng()) - (1 << 30);
      for (unsigned p = rng() % 5; p > 0; --p) {
        ParamInfo info;
        info.name = names[rng() % 5];
        info.isGlobal = rng() % 2;
        info.dtype = rng() % 2 ? "u4" : "f16";
        for (unsigned d = rng() % 3; d > 0; --d)
          info.shape.push_back(names[rng() % 5]);
        info.divisibility = 1 + rng() % 256;
        info.written = info.isGlobal && rng() % 2;
        k.params.push_back(info);
      }
      for (unsigned t = rng() % 3; t > 0; --t) {
        TensorMapInfo map;
        map.param = rng() % 5;
        map.dtype = rng() % 2 ? "bf16" : "f32";
        for (unsigned d = 1 + rng() % 3; d > 0; --d)
          map.box.push_back(1 + rng() % 256);
        map.swizzle = (rng() % 2) * 128;
        k.tensorMaps.push_back(map);
      }
    }
    std::string text = toJson(kernels);
    std::vector<KernelInfo> back;
    std::string error;
    ASSERT_TRUE(fromJson(text, back, error)) << error << "\n" << text;
    EXPECT_EQ(toJson(back), text);
    // Every strict prefix of the text (short of its trailing newline) is
    // rejected, never misread.
    size_t cut = rng() % (text.find_last_not_of(" \n") + 1);
    std::vector<KernelInfo> partial;
    EXPECT_FALSE(fromJson(text.substr(0, cut), partial, error)) << cut;
  }
}

TEST(KernelInfoJson, MetadataWithoutWrittenCountsEveryTensorWritten) {
  std::vector<KernelInfo> kernels;
  std::string error;
  ASSERT_TRUE(fromJson(readInput("vector_add.json"), kernels, error)) << error;
  for (const ParamInfo &p : kernels.at(0).params)
    EXPECT_TRUE(p.written) << p.name;
  std::string text = toJson(kernels);
  size_t at = text.find("\"written\": true");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 15, "\"written\": 1");
  EXPECT_FALSE(fromJson(text, kernels, error));
  EXPECT_NE(error.find("written is not a boolean"), std::string::npos) << error;
}

// The hidden tensor-map parameters of a kernel, built on the emulator from
// the tensor arguments: every field of the decoded map is the tensor's
// (dimensions and box innermost first, packed byte strides), for random
// shapes, boxes and swizzles.
TEST(TensorMaps, BuildsTheMapOfEachTensorArgument) {
  Expected<std::unique_ptr<Device>> d = createDevice("emu");
  ASSERT_TRUE(d) << d.error().message();
  Device &dev = **d;
  std::mt19937 rng(11);
  for (int round = 0; round < 50; ++round) {
    int64_t m = 1 + rng() % 300, k = 8 * (1 + rng() % 40), l = 1 + rng() % 5;
    KernelInfo info;
    info.name = "k";
    info.params = {{"x", true, "f16", {"l", "m", "k"}},
                   {"y", true, "f32", {"m", "k"}},
                   {"l", false, "i32", {}},
                   {"m", false, "i32", {}},
                   {"k", false, "i32", {}, 8}};
    static const int kSwizzles[] = {0, 32, 64, 128};
    int swizzle = kSwizzles[rng() % 4];
    int64_t inner = swizzle ? swizzle / 2 : 8 * (1 + rng() % 8);
    info.tensorMaps = {{0, "f16", {1, int64_t(1 + rng() % 64), inner}, swizzle},
                       {1, "f32", {int64_t(1 + rng() % 256), 4}, 0}};
    Expected<Buffer> x = Buffer::create(dev, uint64_t(l * m * k * 2));
    Expected<Buffer> y = Buffer::create(dev, uint64_t(m * k * 4));
    ASSERT_TRUE(x && y);
    std::vector<Arg> args = {Arg::buffer(x->ptr()), Arg::buffer(y->ptr()),
                             Arg::i32(int32_t(l)), Arg::i32(int32_t(m)),
                             Arg::i32(int32_t(k))};
    Expected<std::vector<std::vector<uint8_t>>> maps =
        buildTensorMaps(dev, info, args);
    ASSERT_TRUE(maps) << maps.error().message();
    ASSERT_EQ(maps->size(), 2u);
    alignas(64) uint8_t bytes[128];
    std::copy(maps->at(0).begin(), maps->at(0).end(), bytes);
    Expected<emu::TensorMap> a = emu::decodeTensorMap(bytes);
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_EQ(a->globalAddress, x->ptr());
    EXPECT_EQ(a->rank, 3u);
    EXPECT_EQ(a->dataType, emu::TensorMapDataType::Float16);
    EXPECT_EQ(a->globalDim[0], uint64_t(k));
    EXPECT_EQ(a->globalDim[1], uint64_t(m));
    EXPECT_EQ(a->globalDim[2], uint64_t(l));
    EXPECT_EQ(a->strides[1], uint64_t(2 * k));
    EXPECT_EQ(a->strides[2], uint64_t(2 * k * m));
    EXPECT_EQ(a->boxDim[0], uint32_t(inner));
    EXPECT_EQ(a->boxDim[1], uint32_t(info.tensorMaps[0].box[1]));
    EXPECT_EQ(a->boxDim[2], 1u);
    EXPECT_EQ(a->swizzle, swizzle == 0    ? emu::TensorMapSwizzle::None
                          : swizzle == 32 ? emu::TensorMapSwizzle::B32
                          : swizzle == 64 ? emu::TensorMapSwizzle::B64
                                          : emu::TensorMapSwizzle::B128);
    EXPECT_EQ(a->oobFill, emu::TensorMapOobFill::None);
    std::copy(maps->at(1).begin(), maps->at(1).end(), bytes);
    Expected<emu::TensorMap> b = emu::decodeTensorMap(bytes);
    ASSERT_TRUE(b) << b.error().message();
    EXPECT_EQ(b->globalAddress, y->ptr());
    EXPECT_EQ(b->dataType, emu::TensorMapDataType::Float32);
    EXPECT_EQ(b->globalDim[0], uint64_t(k));
    EXPECT_EQ(b->strides[1], uint64_t(4 * k));
    EXPECT_EQ(b->boxDim[1], uint32_t(info.tensorMaps[1].box[0]));
  }
  // The encoder's checks reach the caller, naming the parameter.
  KernelInfo bad;
  bad.name = "k";
  bad.params = {{"x", true, "f16", {"m", "k"}},
                {"m", false, "i32", {}},
                {"k", false, "i32", {}}};
  bad.tensorMaps = {{0, "f16", {8, 64}, 64}};
  Expected<Buffer> x = Buffer::create(dev, 64 * 64 * 2);
  ASSERT_TRUE(x);
  Expected<std::vector<std::vector<uint8_t>>> maps = buildTensorMaps(
      dev, bad, {Arg::buffer(x->ptr()), Arg::i32(64), Arg::i32(64)});
  ASSERT_FALSE(maps);
  EXPECT_NE(maps.error().message().find("parameter 'x': tensor map: "),
            std::string::npos)
      << maps.error().message();
}

/// vector_add (BLOCK = 256) loaded from its PTX and metadata on the emulator.
class LaunchTest : public ::testing::Test {
protected:
  void SetUp() override {
    Expected<std::unique_ptr<Device>> d = createDevice("emu");
    ASSERT_TRUE(d);
    dev = std::move(*d);
    Expected<Kernel> k = loadKernel(*dev, readInput("vector_add.ptx"),
                                    readInput("vector_add.json"));
    ASSERT_TRUE(k) << k.error().message();
    kernel.emplace(*k);
  }

  std::string launchError(const std::vector<Arg> &args) {
    Status s = kernel->launch(args);
    EXPECT_FALSE(s);
    return s.message();
  }

  std::unique_ptr<Device> dev;
  std::optional<Kernel> kernel;
};

TEST_F(LaunchTest, MetadataIsQueryable) {
  const KernelInfo &info = kernel->info();
  EXPECT_EQ(info.name, "vector_add");
  ASSERT_EQ(info.params.size(), 4u);
  EXPECT_TRUE(info.params[0].isGlobal);
  EXPECT_EQ(info.params[0].dtype, "f32");
  EXPECT_EQ(info.params[0].shape, std::vector<std::string>{"n"});
  EXPECT_EQ(info.params[3].dtype, "i32");
  EXPECT_EQ(info.numThreads, 128);
  EXPECT_EQ(info.arch, "sm_80");
  for (int64_t n : {1, 255, 256, 257, 100000}) {
    Expected<Dim3> g = kernel->grid(
        {Arg::buffer(0), Arg::buffer(0), Arg::buffer(0), Arg::i32(int32_t(n))});
    ASSERT_TRUE(g);
    EXPECT_EQ(g->x, uint32_t((n + 255) / 256));
    EXPECT_EQ(g->y, 1u);
  }
}

TEST_F(LaunchTest, RunsOnRandomInputs) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-1e3f, 1e3f);
  for (int round = 0; round < 5; ++round) {
    int n = 1 + rng() % 3000;
    std::vector<float> a(n), b(n), c(n);
    for (int i = 0; i < n; ++i) {
      a[i] = dist(rng);
      b[i] = dist(rng);
    }
    Buffer da = makeBuffer(*dev, 4 * n), db = makeBuffer(*dev, 4 * n),
           dc = makeBuffer(*dev, 4 * n);
    ASSERT_TRUE(da.copyFrom(a.data()));
    ASSERT_TRUE(db.copyFrom(b.data()));
    Status s = kernel->launch(
        {da.arg("f32"), db.arg(), dc.arg("f32"), Arg::integer(n)});
    ASSERT_TRUE(s) << s.message();
    ASSERT_TRUE(dc.copyTo(c.data()));
    for (int i = 0; i < n; ++i)
      ASSERT_EQ(c[i], a[i] + b[i]) << i;
  }
}

TEST_F(LaunchTest, WrongArgumentsNameTheParameter) {
  Buffer a = makeBuffer(*dev, 4000), b = makeBuffer(*dev, 4000),
         c = makeBuffer(*dev, 3996);
  std::string e;
  e = launchError({a.arg("f32"), b.arg("f32"), Arg::i32(1000)});
  EXPECT_NE(e.find("takes 4 arguments (a, b, c, n), got 3"), std::string::npos)
      << e;
  e = launchError({a.arg("f32"), b.arg("f16"), c.arg("f32"), Arg::i32(999)});
  EXPECT_NE(e.find("parameter 'b'"), std::string::npos) << e;
  EXPECT_NE(e.find("expected a buffer of f32, got a buffer of f16"),
            std::string::npos)
      << e;
  e = launchError({a.arg("f32"), b.arg("f32"), c.arg("f32"), Arg::i32(1000)});
  EXPECT_NE(e.find("parameter 'c'"), std::string::npos) << e;
  EXPECT_NE(e.find("holds 3996 bytes; f32[1000] needs 4000"), std::string::npos)
      << e;
  e = launchError({a.arg(), b.arg(), Arg::i32(3), Arg::i32(999)});
  EXPECT_NE(e.find("parameter 'c'"), std::string::npos) << e;
  EXPECT_NE(e.find("expected a buffer of f32, got an integer"),
            std::string::npos)
      << e;
  e = launchError({a.arg(), b.arg(), c.arg(), Arg::i64(999)});
  EXPECT_NE(e.find("parameter 'n' (n: i32): expected i32, got i64"),
            std::string::npos)
      << e;
  e = launchError({a.arg(), b.arg(), c.arg(), Arg::integer(int64_t(1) << 31)});
  EXPECT_NE(e.find("parameter 'n'"), std::string::npos) << e;
  EXPECT_NE(e.find("out of the range of i32"), std::string::npos) << e;
  e = launchError({a.arg(), b.arg(), c.arg(), Arg::real(3.5)});
  EXPECT_NE(e.find("expected an integer, got a float"), std::string::npos) << e;
  EXPECT_TRUE(kernel->launch({a.arg(), b.arg(), c.arg("f32"), Arg::i32(999)}));
}

TEST_F(LaunchTest, DivisibilityFactsAreChecked) {
  KernelInfo info = kernel->info();
  info.params[3].divisibility = 128;
  Expected<Kernel> k = loadKernel(*dev, readInput("vector_add.ptx"), info);
  ASSERT_TRUE(k);
  Buffer a = makeBuffer(*dev, 4096), b = makeBuffer(*dev, 4096),
         c = makeBuffer(*dev, 4096);
  std::mt19937 rng(9);
  for (int round = 0; round < 50; ++round) {
    int n = 1 + rng() % 1024;
    Status s = k->launch({a.arg(), b.arg(), c.arg(), Arg::i32(n)});
    if (n % 128 == 0) {
      EXPECT_TRUE(s) << s.message();
    } else {
      ASSERT_FALSE(s);
      EXPECT_NE(
          s.message().find("parameter 'n' (n: i32 %128): " + std::to_string(n) +
                           " is not a multiple of 128"),
          std::string::npos)
          << s.message();
    }
  }
}

TEST_F(LaunchTest, LoadErrors) {
  Expected<Kernel> k = loadKernel(*dev, readInput("vector_add.ptx"),
                                  readInput("vector_add.json"), "nope");
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message().find("no kernel 'nope' in the metadata"),
            std::string::npos);
  k = loadKernel(*dev, readInput("vector_add.ptx"), "{\"kernels\": [");
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message().find("kernel metadata: "), std::string::npos);
  k = loadKernel(*dev,
                 std::string("\x7f"
                             "ELF....",
                             8),
                 readInput("vector_add.json"));
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message().find("runs PTX, not cubin"), std::string::npos);
}

TEST(DeviceTest, Selection) {
  Expected<std::unique_ptr<Device>> d = createDevice("emu");
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)->name(), "emu");
  d = createDevice("tpu");
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message().find("unknown device 'tpu'"),
            std::string::npos);
  d = createDevice("cuda:x");
  ASSERT_FALSE(d);
}

TEST(DeviceTest, EnvironmentSelects) {
  ::setenv("TILUS_DEVICE", "emu", 1);
  testing::internal::CaptureStderr();
  Expected<std::unique_ptr<Device>> d = createDevice();
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)->name(), "emu");
  ::setenv("TILUS_DEVICE", "gpu0", 1);
  d = createDevice();
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message().find("unknown device 'gpu0'"),
            std::string::npos);
  // An explicit name wins over the environment.
  EXPECT_TRUE(createDevice("emu"));
  ::unsetenv("TILUS_DEVICE");
}

TEST(PtxTest, HeaderAndDriverVersions) {
  std::optional<PtxHeader> h = parsePtxHeader(readInput("vector_add.ptx"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->major, 7);
  EXPECT_EQ(h->target, "sm_80");
  h = parsePtxHeader("//\n.version 8.5\n.target sm_90a, debug\n");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->major * 10 + h->minor, 85);
  EXPECT_EQ(h->target, "sm_90a");
  EXPECT_FALSE(parsePtxHeader("// .version 8.5 in a comment\n"));
  EXPECT_EQ(minimumDriverForPtx(7, 0), 11000);
  EXPECT_EQ(minimumDriverForPtx(7, 8), 11080);
  EXPECT_EQ(minimumDriverForPtx(8, 0), 12000);
  EXPECT_EQ(minimumDriverForPtx(8, 5), 12050);
  EXPECT_EQ(minimumDriverForPtx(8, 6), 12070);
  EXPECT_EQ(minimumDriverForPtx(8, 8), 12090);
  EXPECT_EQ(minimumDriverForPtx(9, 0), 13000);
  EXPECT_EQ(minimumDriverForPtx(9, 9), 0);
  EXPECT_EQ(driverVersionText(12040), "12.4");
  EXPECT_TRUE(isPtx("//\n.version 7.0"));
  EXPECT_FALSE(isPtx(std::string("\x7f"
                                 "ELF\x02",
                                 5)));
}

/// The driver is loaded once per process, so each library path is tried in
/// a child process (a death test's fork).
void expectDriverError(const char *library, const std::string &expected) {
  EXPECT_EXIT(
      {
        ::setenv("TILUS_LIBCUDA", library, 1);
        Expected<std::unique_ptr<Device>> d = createCudaDevice(0);
        bool ok = !d && d.error().message().find(expected) == 0;
        if (!ok)
          fprintf(stderr, "got: %s\n",
                  d ? "a device" : d.error().message().c_str());
        std::exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(CudaDeviceTest, NoDriverIsReported) {
  expectDriverError("/nonexistent/libcuda.so.1",
                    "NVIDIA driver not available: /nonexistent/libcuda.so.1: "
                    "cannot open shared object file");
}

TEST(CudaDeviceTest, StubLibraryIsReported) {
  const char *stub = "/usr/local/cuda/lib64/stubs/libcuda.so";
  if (!std::ifstream(stub))
    GTEST_SKIP() << "no CUDA toolkit stub library at " << stub;
  expectDriverError(stub, "NVIDIA driver not available: cuInit failed with "
                          "CUDA_ERROR_STUB_LIBRARY (34)");
}

} // namespace
