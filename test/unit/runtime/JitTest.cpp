//===- JitTest.cpp - Compile, cache and run kernels on the emulator -------===//

#include "tilus/Jit.h"
#include "runtime/jit/KernelCache.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

using namespace tilus;
namespace fs = std::filesystem;

namespace {

/// Device memory for a test; the test fails when there is none.
Buffer makeBuffer(Device &dev, uint64_t bytes) {
  Expected<Buffer> b = Buffer::create(dev, bytes);
  EXPECT_TRUE(b) << b.error().message();
  return b ? std::move(*b) : Buffer();
}

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string vectorAddSource() {
  return readFile(std::string(TILUS_SOURCE_DIR) + "/examples/vector_add.tl");
}

/// A fresh cache directory per test.
class JitTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("tilus-jit-test-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    clearMemoryCache();
    options.cacheDir = dir.string();
    options.diskCache = true;
  }
  void TearDown() override { fs::remove_all(dir); }

  fs::path dir;
  JitOptions options;
};

/// Runs vector_add on \p n random floats and checks every element of c
/// against the host sum.
void runVectorAdd(Kernel &kernel, Device &dev, int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1000, 1000);
  std::vector<float> a(n), b(n), c(n, 0);
  for (int i = 0; i < n; ++i) {
    a[i] = dist(rng);
    b[i] = dist(rng);
  }
  uint64_t bytes = uint64_t(n) * 4;
  Buffer da = makeBuffer(dev, bytes), db = makeBuffer(dev, bytes),
         dc = makeBuffer(dev, bytes);
  ASSERT_TRUE(da.copyFrom(a.data()));
  ASSERT_TRUE(db.copyFrom(b.data()));
  ASSERT_TRUE(dev.memset(dc.ptr(), 0xff, bytes));
  LaunchStats stats;
  Status s = kernel.launch(
      {da.arg("f32"), db.arg("f32"), dc.arg("f32"), Arg::i32(n)}, 0, &stats);
  ASSERT_TRUE(s) << s.message();
  ASSERT_TRUE(dc.copyTo(c.data()));
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(c[i], a[i] + b[i]) << "element " << i << " of " << n;
  EXPECT_GT(stats.warpInstructions, 0u);
}

TEST_F(JitTest, VectorAddOnEmulatorMatchesHostReference) {
  std::unique_ptr<Device> dev = std::move(*createDevice("emu"));
  std::mt19937 rng(42);
  for (int block : {1024, 256}) {
    options.defines["BLOCK"] = std::to_string(block);
    Expected<Kernel> kernel =
        compile(*dev, vectorAddSource(), "vector_add.tl", options);
    ASSERT_TRUE(kernel) << kernel.error().message();
    EXPECT_EQ(kernel->info().name, "vector_add");
    EXPECT_EQ(kernel->info().constants.at("BLOCK"), block);
    for (int n : {1, 1000, block, 3 * block + 17, int(rng() % 5000) + 1})
      runVectorAdd(*kernel, *dev, n, rng());
  }
}

TEST_F(JitTest, SecondCompileHitsMemoryThenDisk) {
  std::string src = vectorAddSource();
  Expected<CompiledModule> first = compileModule(src, "va.tl", options);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->outcome, CacheOutcome::Compiled);
  Expected<CompiledModule> second = compileModule(src, "va.tl", options);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->outcome, CacheOutcome::MemoryHit);
  EXPECT_EQ(second->ptx, first->ptx);
  clearMemoryCache();
  Expected<CompiledModule> third = compileModule(src, "va.tl", options);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->outcome, CacheOutcome::DiskHit);
  EXPECT_EQ(third->ptx, first->ptx);
  EXPECT_EQ(toJson(third->kernels), toJson(first->kernels));
  // Line endings and trailing blanks do not change the key; a define does.
  std::string crlf;
  for (char c : src)
    crlf += c == '\n' ? std::string(" \r\n") : std::string(1, c);
  EXPECT_EQ(jit::cacheKey(crlf, {}, "sm_80"), jit::cacheKey(src, {}, "sm_80"));
  EXPECT_NE(jit::cacheKey(src, {{"BLOCK", "512"}}, "sm_80"),
            jit::cacheKey(src, {}, "sm_80"));
  EXPECT_NE(jit::cacheKey(src, {}, "sm_90a"), jit::cacheKey(src, {}, "sm_80"));
}

TEST_F(JitTest, CorruptEntriesAreRecompiled) {
  std::string src = vectorAddSource();
  Expected<CompiledModule> first = compileModule(src, "va.tl", options);
  ASSERT_TRUE(first);
  fs::path entry = dir / (first->key + ".json");
  ASSERT_TRUE(fs::exists(entry));
  std::string good = readFile(entry.string());
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    std::string bad = good;
    if (round % 2 == 0) {
      bad.resize(rng() % good.size()); // truncated
    } else {
      // One flipped character inside the PTX text keeps valid JSON; only
      // the content hash catches it.
      size_t ptxAt = good.find(".entry");
      ASSERT_NE(ptxAt, std::string::npos);
      bad[ptxAt + 1 + rng() % 5] ^= 0x01;
    }
    std::ofstream(entry, std::ios::trunc) << bad;
    clearMemoryCache();
    testing::internal::CaptureStderr();
    Expected<CompiledModule> again = compileModule(src, "va.tl", options);
    std::string log = testing::internal::GetCapturedStderr();
    EXPECT_NE(log.find("tilus: cache: corrupt entry " + entry.string()),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("recompiling"), std::string::npos) << log;
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(again->outcome, CacheOutcome::Compiled) << "round " << round;
    EXPECT_EQ(again->ptx, first->ptx);
    EXPECT_EQ(readFile(entry.string()), good) << "entry rewritten whole";
  }
}

TEST_F(JitTest, CubinIsCachedWithThePtx) {
  if (!std::getenv("TILUS_PTXAS") && !fs::exists("/usr/local/cuda/bin/ptxas") &&
      std::system("command -v ptxas > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "no ptxas";
  options.cubin = true;
  Expected<CompiledModule> first =
      compileModule(vectorAddSource(), "va.tl", options);
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_GE(first->cubin.size(), 4u);
  EXPECT_EQ(first->cubin.substr(0, 4), "\x7f"
                                       "ELF");
  clearMemoryCache();
  Expected<CompiledModule> hit =
      compileModule(vectorAddSource(), "va.tl", options);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->outcome, CacheOutcome::DiskHit);
  EXPECT_EQ(hit->cubin, first->cubin);
  // The emulator is given the PTX of an entry that has a cubin.
  std::unique_ptr<Device> dev = std::move(*createDevice("emu"));
  Expected<Kernel> kernel = compile(*dev, vectorAddSource(), "va.tl", options);
  ASSERT_TRUE(kernel) << kernel.error().message();
  runVectorAdd(*kernel, *dev, 1000, 3);
}

TEST_F(JitTest, UnwritableCacheDegradesToMemory) {
  // A directory below a regular file cannot be created, even by root.
  fs::create_directories(dir);
  std::ofstream(dir / "file") << "x";
  options.cacheDir = (dir / "file" / "cache").string();
  std::string src = vectorAddSource();
  testing::internal::CaptureStderr();
  Expected<CompiledModule> first = compileModule(src, "va.tl", options);
  options.defines["BLOCK"] = "512";
  Expected<CompiledModule> other = compileModule(src, "va.tl", options);
  std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_TRUE(other) << other.error().message();
  EXPECT_NE(err.find("caching in memory only"), std::string::npos) << err;
  EXPECT_EQ(err.find("warning"), err.rfind("warning"))
      << "one warning: " << err;
  options.defines.clear();
  Expected<CompiledModule> again = compileModule(src, "va.tl", options);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->outcome, CacheOutcome::MemoryHit);
}

TEST_F(JitTest, CompileErrorsComeBackAsValues) {
  std::unique_ptr<Device> dev = std::move(*createDevice("emu"));
  Expected<Kernel> k = compile(*dev, "kernel oops(", "bad.tl", options);
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message().find("bad.tl:1:"), std::string::npos)
      << k.error().message();
  options.kernel = "nope";
  Expected<Kernel> missing = compile(*dev, vectorAddSource(), "va.tl", options);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("no kernel 'nope'"),
            std::string::npos);
}

TEST_F(JitTest, DefaultCacheDirFollowsEnvironment) {
  const char *saved = std::getenv("TILUS_CACHE_DIR");
  std::string keep = saved ? saved : "";
  std::string home = std::getenv("HOME") ? std::getenv("HOME") : "";
  ::setenv("TILUS_CACHE_DIR", "/a/b", 1);
  EXPECT_EQ(defaultCacheDir(), "/a/b");
  ::unsetenv("TILUS_CACHE_DIR");
  ::setenv("XDG_CACHE_HOME", "/x", 1);
  EXPECT_EQ(defaultCacheDir(), "/x/tilus");
  ::unsetenv("XDG_CACHE_HOME");
  ::setenv("HOME", "/h", 1);
  EXPECT_EQ(defaultCacheDir(), "/h/.cache/tilus");
  ::setenv("HOME", home.c_str(), 1);
  if (saved)
    ::setenv("TILUS_CACHE_DIR", keep.c_str(), 1);
}

} // namespace
