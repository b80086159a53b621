//===- EmuTestUtil.h - Helpers for the emulator's unit tests ----*- C++ -*-===//

#ifndef TILUS_TEST_UNIT_EMU_EMUTESTUTIL_H
#define TILUS_TEST_UNIT_EMU_EMUTESTUTIL_H

#include "runtime/emu/Emulator.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace tilus::emu::test {

/// The registers every test kernel declares.
inline const char *kRegs = R"(
  .reg .pred %p<16>;
  .reg .b16 %h<32>;
  .reg .b32 %r<96>;
  .reg .b64 %rd<32>;
  .reg .f32 %f<32>;
  .reg .f64 %fd<16>;
)";

/// A module with one kernel `k(.u64 in, .u64 out, .u32 n)`. Threads with a
/// global index of n or more return at once; before \p body, %r3 holds the
/// global thread index, %rd3 = in + %r3 * inStride and
/// %rd5 = out + %r3 * outStride. %r95 and %p15 are taken.
inline std::string elementwisePtx(const std::string &body, unsigned inStride,
                                  unsigned outStride,
                                  const std::string &prelude = "") {
  // sm_90 and ISA 8.5: the newest LLVM 19 emits, and the oldest that has
  // every instruction the tests use (bf16 arithmetic, f8 conversions).
  return std::string(".version 8.5\n.target sm_90\n.address_size 64\n") +
         prelude +
         ".visible .entry k(.param .u64 k_in, .param .u64 k_out, .param .u32 "
         "k_n)\n{\n" +
         kRegs +
         "  mov.u32 %r0, %tid.x;\n"
         "  mov.u32 %r1, %ctaid.x;\n"
         "  mov.u32 %r2, %ntid.x;\n"
         "  mad.lo.u32 %r3, %r1, %r2, %r0;\n"
         "  ld.param.u32 %r95, [k_n];\n"
         "  setp.ge.u32 %p15, %r3, %r95;\n"
         "  @%p15 bra $L__end;\n"
         "  ld.param.u64 %rd0, [k_in];\n"
         "  ld.param.u64 %rd1, [k_out];\n"
         "  mul.wide.u32 %rd2, %r3, " +
         std::to_string(inStride) +
         ";\n"
         "  add.s64 %rd3, %rd0, %rd2;\n"
         "  mul.wide.u32 %rd4, %r3, " +
         std::to_string(outStride) +
         ";\n"
         "  add.s64 %rd5, %rd1, %rd4;\n" +
         body + "\n$L__end:\n  ret;\n}\n";
}

/// Loads \p ptx, runs kernel k over \p threads threads (blocks of
/// \p blockSize) with an input buffer and an output buffer; returns the
/// output bytes. Fails the test on any error.
inline std::vector<uint8_t> runElementwise(const std::string &ptx,
                                           const std::vector<uint8_t> &in,
                                           size_t outBytes, unsigned threads,
                                           unsigned blockSize = 64,
                                           Emulator *useEmu = nullptr) {
  Emulator local;
  Emulator &emu = useEmu ? *useEmu : local;
  std::vector<uint8_t> out(outBytes, 0);
  auto mod = emu.loadModule(ptx, "test.ptx");
  EXPECT_TRUE(mod.ok()) << mod.error().message();
  if (!mod)
    return out;
  auto k = mod->kernel("k");
  EXPECT_TRUE(k.ok());
  DevicePtr din = *emu.allocate(in.size() ? in.size() : 1);
  DevicePtr dout = *emu.allocate(outBytes);
  EXPECT_TRUE(emu.copyToDevice(din, in.data(), in.size()).ok());
  std::vector<ParamBytes> params = {ParamBytes::of(din), ParamBytes::of(dout),
                                    ParamBytes::of(uint32_t(threads))};
  unsigned blocks = (threads + blockSize - 1) / blockSize;
  Status s = emu.launch(*k, Dim3(blocks), Dim3(blockSize), 0, params);
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(emu.copyFromDevice(out.data(), dout, outBytes).ok());
  return out;
}

template <typename T> std::vector<uint8_t> toBytes(const std::vector<T> &v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}
template <typename T> T readAt(const std::vector<uint8_t> &b, size_t index) {
  T v;
  std::memcpy(&v, b.data() + index * sizeof(T), sizeof(T));
  return v;
}
inline uint32_t f2u(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float u2f(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

} // namespace tilus::emu::test

#endif // TILUS_TEST_UNIT_EMU_EMUTESTUTIL_H
