//===- TensorIsaTest.cpp - wmma, stmatrix, dp4a, sad ----------------------===//
//
// Checks against their definitions on random inputs: wmma D = A B + C for
// every layout combination (the fragment layout is the emulator's choice, so
// only what goes through memory is checked), stmatrix as the inverse of
// ldmatrix, dp4a and sad against host formulas.
//
//===----------------------------------------------------------------------===//

#include "EmuTestUtil.h"

#include "runtime/emu/Float.h"

using namespace tilus::emu;
using namespace tilus::emu::test;

namespace {

const char *kHeader = ".version 8.5\n.target sm_90\n.address_size 64\n";

/// One warp: wmma loads A, B (f16) and C (f32) with the given layouts and
/// stride 16, computes D = A B + C and stores it row-major.
std::string wmmaPtx(const char *la, const char *lb, const char *lc) {
  std::string s = kHeader;
  s += ".visible .entry k(.param .u64 pa, .param .u64 pb, .param .u64 pc, "
       ".param .u64 pd)\n{\n  .reg .b32 %r<24>;\n  .reg .f32 %f<20>;\n"
       "  .reg .b64 %rd<4>;\n"
       "  ld.param.u64 %rd0, [pa];\n  ld.param.u64 %rd1, [pb];\n"
       "  ld.param.u64 %rd2, [pc];\n  ld.param.u64 %rd3, [pd];\n";
  s += std::string("  wmma.load.a.sync.aligned.") + la +
       ".m16n16k16.global.f16 {%r0,%r1,%r2,%r3,%r4,%r5,%r6,%r7}, [%rd0], 16;\n";
  s += std::string("  wmma.load.b.sync.aligned.") + lb +
       ".m16n16k16.global.f16 {%r8,%r9,%r10,%r11,%r12,%r13,%r14,%r15}, "
       "[%rd1];\n";
  s += std::string("  wmma.load.c.sync.aligned.") + lc +
       ".m16n16k16.global.f32 {%f0,%f1,%f2,%f3,%f4,%f5,%f6,%f7}, [%rd2], 16;\n";
  s += std::string("  wmma.mma.sync.aligned.") + la + "." + lb +
       ".m16n16k16.f32.f32 {%f8,%f9,%f10,%f11,%f12,%f13,%f14,%f15}, "
       "{%r0,%r1,%r2,%r3,%r4,%r5,%r6,%r7}, "
       "{%r8,%r9,%r10,%r11,%r12,%r13,%r14,%r15}, "
       "{%f0,%f1,%f2,%f3,%f4,%f5,%f6,%f7};\n"
       "  wmma.store.d.sync.aligned.row.m16n16k16.global.f32 [%rd3], "
       "{%f8,%f9,%f10,%f11,%f12,%f13,%f14,%f15}, 16;\n  ret;\n}\n";
  return s;
}

// D = A B + C for every combination of row/col layouts of A, B and C.
TEST(EmuTensorIsa, WmmaMatchesMatmul) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-2, 2);
  for (const char *la : {"row", "col"})
    for (const char *lb : {"row", "col"})
      for (const char *lc : {"row", "col"}) {
        Emulator emu;
        auto mod = emu.loadModule(wmmaPtx(la, lb, lc), "wmma.ptx");
        ASSERT_TRUE(mod.ok()) << mod.error().message();
        // Logical matrices; memory holds them in the requested layouts.
        double A[16][16], B[16][16], C[16][16];
        std::vector<uint16_t> ma(256), mb(256);
        std::vector<float> mc(256);
        bool ac = la[0] == 'c', bc = lb[0] == 'c', cc = lc[0] == 'c';
        for (int i = 0; i < 16; ++i)
          for (int j = 0; j < 16; ++j) {
            uint16_t ha = f32ToF16(dist(rng)), hb = f32ToF16(dist(rng));
            float c = dist(rng);
            A[i][j] = f16ToF32(ha);
            B[i][j] = f16ToF32(hb);
            C[i][j] = c;
            ma[ac ? j * 16 + i : i * 16 + j] = ha;
            mb[bc ? j * 16 + i : i * 16 + j] = hb;
            mc[cc ? j * 16 + i : i * 16 + j] = c;
          }
        DevicePtr pa = *emu.allocate(512), pb = *emu.allocate(512),
                  pc = *emu.allocate(1024), pd = *emu.allocate(1024);
        ASSERT_TRUE(emu.copyToDevice(pa, ma.data(), 512).ok());
        ASSERT_TRUE(emu.copyToDevice(pb, mb.data(), 512).ok());
        ASSERT_TRUE(emu.copyToDevice(pc, mc.data(), 1024).ok());
        Status s = emu.launch(*mod->kernel("k"), Dim3(1), Dim3(32), 0,
                              {ParamBytes::of(pa), ParamBytes::of(pb),
                               ParamBytes::of(pc), ParamBytes::of(pd)});
        ASSERT_TRUE(s.ok()) << s.message();
        std::vector<float> d(256);
        ASSERT_TRUE(emu.copyFromDevice(d.data(), pd, 1024).ok());
        for (int i = 0; i < 16; ++i)
          for (int j = 0; j < 16; ++j) {
            double want = C[i][j];
            for (int k = 0; k < 16; ++k)
              want += A[i][k] * B[k][j];
            EXPECT_EQ(d[i * 16 + j], float(want))
                << la << "." << lb << " c " << lc << " at " << i << "," << j;
          }
      }
}

// stmatrix writes back exactly what ldmatrix of the same addresses read,
// with and without .trans, for x1, x2 and x4.
TEST(EmuTensorIsa, StmatrixInvertsLdmatrix) {
  for (const char *x : {"x1", "x2", "x4"})
    for (const char *trans : {"", ".trans"}) {
      unsigned n = x[1] - '0';
      std::string regs = "{%r10";
      for (unsigned m = 1; m < n; ++m)
        regs += ", %r" + std::to_string(10 + m);
      regs += "}";
      std::string ptx = std::string(kHeader) +
                        ".visible .entry k(.param .u64 in, .param .u64 out)\n"
                        "{\n  .reg .b32 %r<20>;\n  .reg .b64 %rd<4>;\n"
                        "  .shared .align 16 .b8 a[512];\n"
                        "  .shared .align 16 .b8 b[512];\n"
                        "  ld.param.u64 %rd0, [in];\n"
                        "  ld.param.u64 %rd1, [out];\n"
                        "  mov.u32 %r0, %tid.x;\n"
                        "  mul.wide.u32 %rd2, %r0, 16;\n"
                        "  add.s64 %rd3, %rd0, %rd2;\n"
                        "  ld.global.v4.u32 {%r1, %r2, %r3, %r4}, [%rd3];\n"
                        "  shl.b32 %r5, %r0, 4;\n"
                        "  mov.u32 %r6, a;\n  add.u32 %r6, %r6, %r5;\n"
                        "  mov.u32 %r7, b;\n  add.u32 %r7, %r7, %r5;\n"
                        "  st.shared.v4.u32 [%r6], {%r1, %r2, %r3, %r4};\n"
                        "  bar.sync 0;\n"
                        "  ldmatrix.sync.aligned.m8n8." +
                        x + trans + ".shared.b16 " + regs +
                        ", [%r6];\n"
                        "  stmatrix.sync.aligned.m8n8." +
                        x + trans + ".shared.b16 [%r7], " + regs +
                        ";\n  bar.sync 0;\n"
                        "  ld.shared.v4.u32 {%r1, %r2, %r3, %r4}, [%r7];\n"
                        "  add.s64 %rd3, %rd1, %rd2;\n"
                        "  st.global.v4.u32 [%rd3], {%r1, %r2, %r3, %r4};\n"
                        "  ret;\n}\n";
      Emulator emu;
      auto mod = emu.loadModule(ptx, "st.ptx");
      ASSERT_TRUE(mod.ok()) << mod.error().message();
      std::vector<uint16_t> in(256);
      for (unsigned i = 0; i < 256; ++i)
        in[i] = uint16_t(0x1234 + 977 * i);
      DevicePtr pi = *emu.allocate(512), po = *emu.allocate(512);
      ASSERT_TRUE(emu.copyToDevice(pi, in.data(), 512).ok());
      ASSERT_TRUE(emu.memset(po, 0, 512).ok());
      Status s = emu.launch(*mod->kernel("k"), Dim3(1), Dim3(32), 0,
                            {ParamBytes::of(pi), ParamBytes::of(po)});
      ASSERT_TRUE(s.ok()) << s.message();
      std::vector<uint16_t> out(256);
      ASSERT_TRUE(emu.copyFromDevice(out.data(), po, 512).ok());
      // Rows given by lanes 0..8n-1 round-trip; the rest of b is untouched
      // shared memory, written by the st.shared copy only.
      for (unsigned i = 0; i < 64 * n; ++i)
        EXPECT_EQ(out[i], in[i]) << x << trans << " element " << i;
    }
}

int64_t sext8(uint32_t v, unsigned k) { return int8_t(v >> (8 * k)); }

// dp4a and sad against their definitions on random inputs.
TEST(EmuTensorIsa, Dp4aAndSad) {
  std::mt19937 rng(9);
  std::vector<uint32_t> in(3 * 256);
  for (auto &v : in)
    v = rng();
  for (const char *form : {"dp4a.s32.s32", "dp4a.u32.s32", "dp4a.s32.u32",
                           "dp4a.u32.u32", "sad.s32", "sad.u32"}) {
    std::string body =
        std::string("  ld.global.u32 %r10, [%rd3];\n"
                    "  ld.global.u32 %r11, [%rd3+4];\n"
                    "  ld.global.u32 %r12, [%rd3+8];\n  ") +
        form + " %r13, %r10, %r11, %r12;\n  st.global.u32 [%rd5], %r13;";
    auto out =
        runElementwise(elementwisePtx(body, 12, 4), toBytes(in), 256 * 4, 256);
    bool dp = form[0] == 'd';
    bool sa = std::string(form).find(dp ? "dp4a.s32" : "sad.s32") == 0;
    bool sb = dp && std::string(form).substr(9) == "s32";
    for (unsigned i = 0; i < 256; ++i) {
      uint32_t a = in[3 * i], b = in[3 * i + 1], c = in[3 * i + 2];
      uint32_t want;
      if (dp) {
        int64_t acc = int32_t(c);
        for (unsigned k = 0; k < 4; ++k)
          acc += (sa ? sext8(a, k) : (a >> (8 * k)) & 0xff) *
                 (sb ? sext8(b, k) : (b >> (8 * k)) & 0xff);
        want = uint32_t(acc);
      } else {
        int64_t x = sa ? int64_t(int32_t(a)) : int64_t(a);
        int64_t y = sa ? int64_t(int32_t(b)) : int64_t(b);
        want = uint32_t(uint64_t(x > y ? x - y : y - x) + c);
      }
      EXPECT_EQ(readAt<uint32_t>(out, i), want) << form << " element " << i;
    }
  }
}

} // namespace
