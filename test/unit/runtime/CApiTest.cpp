//===- CApiTest.cpp - The C API turns every failure into -1 and a message -===//

#include "tilus/tilus.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

class CApiTest : public ::testing::Test {
protected:
  void SetUp() override {
    ::setenv("TILUS_CACHE_DIR", TILUS_TEST_CACHE_DIR, 1);
    ASSERT_EQ(tilus_device_create("emu", &device), 0) << tilus_last_error();
  }
  void TearDown() override { tilus_device_destroy(device); }

  tilus_device *device = nullptr;
};

const char *kVectorAdd = R"(
kernel vector_add<BLOCK = 1024>(
    a: global f32[n], b: global f32[n], c: global f32[n], n: i32)
  grid(cdiv(n, BLOCK)) warps(4)
{
  x = load_global(a, [blockIdx.x * BLOCK], [BLOCK]);
  store_global(c, x, [blockIdx.x * BLOCK]);
}
)";

TEST_F(CApiTest, NegativeCountsAreErrors) {
  tilus_kernel *kernel = nullptr;
  const char *defines[] = {"BLOCK=256"};
  EXPECT_EQ(tilus_compile(device, kVectorAdd, "v.tl", defines, -5, nullptr,
                          &kernel),
            -1);
  EXPECT_EQ(std::string(tilus_last_error()),
            "ndefines must not be negative, got -5");
  EXPECT_EQ(tilus_compile_file(device, "v.tl", defines, -1, nullptr, &kernel),
            -1);
  ASSERT_EQ(tilus_compile(device, kVectorAdd, "v.tl", defines, 1, nullptr,
                          &kernel),
            0)
      << tilus_last_error();
  tilus_arg args[1] = {};
  uint32_t grid[3];
  EXPECT_EQ(tilus_launch(kernel, args, -2, 0, nullptr), -1);
  EXPECT_EQ(std::string(tilus_last_error()),
            "nargs must not be negative, got -2");
  EXPECT_EQ(tilus_kernel_grid(kernel, args, -2, grid), -1);
  tilus_kernel_destroy(kernel);
}

// A tile past what a layout describes was an exception (bad_variant_access)
// thrown through the C API; it is a located error.
TEST_F(CApiTest, HugeTileIsALocatedError) {
  tilus_kernel *kernel = nullptr;
  const char *defines[] = {"BLOCK=4294967296"};
  EXPECT_EQ(tilus_compile(device, kVectorAdd, "v.tl", defines, 1, nullptr,
                          &kernel),
            -1);
  std::string error = tilus_last_error();
  EXPECT_NE(error.find("v.tl:6:7: error:"), std::string::npos) << error;
  EXPECT_NE(error.find("tile<4294967296xf32>"), std::string::npos) << error;
}

TEST_F(CApiTest, RegisterBudgetIsALocatedError) {
  tilus_kernel *kernel = nullptr;
  const char *defines[] = {"BLOCK=65536"};
  EXPECT_EQ(tilus_compile(device, kVectorAdd, "v.tl", defines, 1, nullptr,
                          &kernel),
            -1);
  std::string error = tilus_last_error();
  EXPECT_NE(error.find("v.tl:6:7: error:"), std::string::npos) << error;
  EXPECT_NE(error.find("the budget is 1024 bytes"), std::string::npos)
      << error;
}

// Each failure says what kind it is beside its message; a success resets
// the code.
TEST_F(CApiTest, ErrorCodesNameTheKindOfFailure) {
  tilus_kernel *kernel = nullptr;
  const char *defines[] = {"BLOCK=256"};
  EXPECT_EQ(tilus_compile(device, kVectorAdd, "v.tl", defines, 1, nullptr,
                          nullptr),
            -1);
  EXPECT_EQ(tilus_last_error_code(), TILUS_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(tilus_compile(device, "kernel broken(", "b.tl", nullptr, 0,
                          nullptr, &kernel),
            -1);
  EXPECT_EQ(tilus_last_error_code(), TILUS_ERROR_COMPILE);
  EXPECT_EQ(tilus_load(device, "garbage", 7, "{}", nullptr, &kernel), -1);
  EXPECT_EQ(tilus_last_error_code(), TILUS_ERROR_LOAD);
  tilus_device *other = nullptr;
  EXPECT_EQ(tilus_device_create("tpu", &other), -1);
  EXPECT_EQ(tilus_last_error_code(), TILUS_ERROR_NO_DEVICE);
  double value = 0;
  uint64_t code = 1ull << 40;
  EXPECT_EQ(tilus_decode("u4", &code, 1, &value), -1);
  EXPECT_EQ(tilus_last_error_code(), TILUS_ERROR_INVALID_ARGUMENT);

  ASSERT_EQ(tilus_compile(device, kVectorAdd, "v.tl", defines, 1, nullptr,
                          &kernel),
            0)
      << tilus_last_error();
  EXPECT_EQ(tilus_last_error_code(), TILUS_SUCCESS);
  // Arguments that do not match the signature, then a launch that the
  // device refuses: an address nothing was allocated at.
  uint64_t a = 0;
  ASSERT_EQ(tilus_malloc(device, 1024, &a), 0) << tilus_last_error();
  tilus_arg args[4] = {};
  for (int i = 0; i < 3; ++i) {
    args[i].kind = TILUS_ARG_BUFFER;
    args[i].dtype = "f32";
    args[i].ptr = a;
    args[i].bytes = 1024;
  }
  args[3].kind = TILUS_ARG_INT;
  args[3].int_value = 1000;
  EXPECT_EQ(tilus_launch(kernel, args, 4, 0, nullptr), -1);
  EXPECT_EQ(tilus_last_error_code(), TILUS_ERROR_INVALID_ARGUMENT)
      << tilus_last_error();
  args[3].int_value = 256;
  args[2].ptr = 0x7f0000000000ull;
  EXPECT_EQ(tilus_launch(kernel, args, 4, 0, nullptr), -1);
  EXPECT_EQ(tilus_last_error_code(), TILUS_ERROR_DEVICE) << tilus_last_error();
  tilus_free(device, a);
  tilus_kernel_destroy(kernel);
}

// The structs' reserved fields (tilus.h, "Room to grow"): an argument with
// one set is refused, naming it; a launch writes zeros into the stats'.
TEST_F(CApiTest, ReservedFieldsAreZero) {
  tilus_kernel *kernel = nullptr;
  const char *defines[] = {"BLOCK=256"};
  ASSERT_EQ(tilus_compile(device, kVectorAdd, "v.tl", defines, 1, nullptr,
                          &kernel),
            0)
      << tilus_last_error();
  uint64_t buf = 0;
  ASSERT_EQ(tilus_malloc(device, 1024, &buf), 0) << tilus_last_error();
  tilus_arg args[4] = {};
  for (int i = 0; i < 3; ++i) {
    args[i].kind = TILUS_ARG_BUFFER;
    args[i].dtype = "f32";
    args[i].ptr = buf;
    args[i].bytes = 1024;
  }
  args[3].kind = TILUS_ARG_INT;
  args[3].int_value = 256;
  args[1].reserved[1] = 7;
  EXPECT_EQ(tilus_launch(kernel, args, 4, 0, nullptr), -1);
  EXPECT_EQ(tilus_last_error_code(), TILUS_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tilus_last_error()).find("args[1].reserved"),
            std::string::npos)
      << tilus_last_error();
  uint32_t grid[3];
  EXPECT_EQ(tilus_kernel_grid(kernel, args, 4, grid), -1);
  args[1].reserved[1] = 0;
  tilus_launch_stats stats;
  std::memset(&stats, 0xff, sizeof stats);
  ASSERT_EQ(tilus_launch(kernel, args, 4, 0, &stats), 0) << tilus_last_error();
  for (uint64_t r : stats.reserved)
    EXPECT_EQ(r, 0u);
  EXPECT_GT(stats.warp_instructions, 0u);
  tilus_free(device, buf);
  tilus_kernel_destroy(kernel);
}

} // namespace
