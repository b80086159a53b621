//===- ParserTest.cpp - Loading PTX: syntax, declarations, load errors ----===//

#include "test/unit/emu/EmuTestUtil.h"

using namespace tilus::emu;
using namespace tilus::emu::test;

namespace {

std::string wrap(const std::string &body, const std::string &target = "sm_80",
                 const std::string &version = "8.0") {
  return ".version " + version + "\n.target " + target +
         "\n.address_size 64\n"
         ".visible .entry k(.param .u64 out)\n{\n"
         "  .reg .b32 %r<8>;\n"
         "  .reg .b64 %rd<4>;\n" +
         body + "\n  ret;\n}\n";
}

Status loadError(const std::string &ptx) {
  Emulator emu;
  auto m = emu.loadModule(ptx, "bad.ptx");
  EXPECT_FALSE(m.ok());
  return m.ok() ? Status::success() : m.error();
}

TEST(EmuParser, UnsupportedInstructionNamedWithLine) {
  Status s =
      loadError(wrap("  mov.u32 %r1, 1;\n"
                     "  tex.1d.v4.s32.s32 {%r1, %r2, %r3, %r4}, [t, {%r1}];"));
  EXPECT_NE(s.message().find("bad.ptx:9:"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("unsupported PTX instruction 'tex.1d.v4.s32.s32'"),
            std::string::npos)
      << s.message();
}

TEST(EmuParser, UnsupportedFormsAreLoadErrors) {
  struct Case {
    const char *body;
    const char *message;
  } cases[] = {
      {"  add.foo.s32 %r1, %r2, %r3;", "unsupported modifier '.foo'"},
      {"  mma.sync.aligned.m8n8k4.row.col.f32.f16.f16.f32 {%r0,%r1,%r2,%r3}, "
       "{%r0,%r1}, {%r0,%r1}, {%r0,%r1,%r2,%r3};",
       "unsupported modifier '.m8n8k4'"},
      {"  mma.sync.aligned.m16n8k16.row.col.f64.f16.f16.f64 {%r0,%r1,%r2,%r3}, "
       "{%r0,%r1,%r2,%r3}, {%r0,%r1}, {%r0,%r1,%r2,%r3};",
       "shape/type combination"},
      {"  ex2.f32 %r1, %r2;", "only the .approx form exists"},
      {"  mul.s32 %r1, %r2, %r3;", "needs .lo, .hi or .wide"},
      {"  add.s32 %r1, %r9, %r3;", "unknown register '%r9'"},
      {"  add.s32 %r1, %r2;", "wrong number of operands"},
      {"  bra NOWHERE;", "unknown label 'NOWHERE'"},
      {"  bar.red.popc.u32 %r1, 0, 1;", "bar.red takes d, a{, b}, {!}c"},
      {"  add.s32 %r1, [%r2], 1;", "cannot be an [address]"},
      {"  mov.u32 5, %r1;", "the destination of 'mov.u32' must be a register"},
      {"  shfl.idx.b32 %r1, %r2, 0, 31;", "wrong number of operands"},
      {"  vote.ballot.b32 %r1, 1;", "wrong number of operands"},
      {"  mov.b64 %rd1, {%r0,%r1,%r2,%r3,%r4};",
       "vector operand with more than 4 elements in 'mov.b64'"},
      {"  ld.global.L2::cache_hint.u32 %r1, [%rd1], [%rd2];",
       "needs a cache policy register as its last operand"},
      {"  atom.global.max.f16x2 %r1, [%rd1], %r2;",
       "f16/bf16 atomics support add"},
      {"  dp4a.s32.f32 %r1, %r2, %r3, %r4;", "dp4a.{u32,s32}.{u32,s32}"},
      {"  sad.f32 %r1, %r2, %r3, %r4;", "sad with a 16/32/64-bit integer"},
      {"  createpolicy.fractional.L2::evict_last.b32 %r1, 1.0;",
       "createpolicy with a .b64 destination"},
      {"  wmma.load.a.sync.aligned.row.m16n16k16.global.f16 "
       "{%r0,%r1,%r2,%r3}, [%rd1], 16;",
       "a fragment of 8 registers"},
      {"  wmma.store.a.sync.aligned.row.m16n16k16.global.f16 [%rd1], "
       "{%r0,%r1,%r2,%r3,%r4,%r5,%r6,%r7}, 16;",
       "m16n16k16 .a/.b .f16 or .c/.d .f16/.f32"},
      {"  wmma.mma.sync.aligned.row.col.m16n16k16.f32.f32 {%r0,%r1,%r2,%r3}, "
       "{%r0,%r1,%r2,%r3,%r4,%r5,%r6,%r7}, {%r0,%r1,%r2,%r3,%r4,%r5,%r6,%r7}, "
       "{%r0,%r1,%r2,%r3,%r4,%r5,%r6,%r7};",
       "operand 0 must be a vector of 8 registers"},
      {"  stmatrix.sync.aligned.m8n8.x2.shared.b16 [%rd1], {%r1};",
       ".m8n8 .x1/.x2/.x4 .shared .b16 with a matching vector"},
      {"  mov.b64 {%r1, 0}, %rd1;",
       "operand 0 of 'mov.b64' is a vector with immediate elements"},
      {"  mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%r0,%r1,%r2,%r3}, "
       "{%r0,%r1,%r2,0}, {%r0,%r1}, {%r0,%r1,%r2,%r3};",
       "supported only as the source of mov and st"},
      {"  mov.b32 %r1, {-%r2, %r3};", "malformed vector element '-%r2'"},
      {"  match.any.sync.b32 %r1|%r3, %r2, -1;",
       "match.any.sync takes d, a, membermask"},
      {"  match.all.sync.u16 %r1, %r2, -1;", "match.{any,all}.sync.{b32,b64}"},
      {"  bar.red.popc.u32 %r1, 0, %r2;",
       "bar.red takes d, a{, b}, {!}c with a predicate c"},
  };
  for (const Case &c : cases) {
    Status s = loadError(wrap(c.body));
    EXPECT_NE(s.message().find(c.message), std::string::npos)
        << c.body << "\n  -> " << s.message();
    EXPECT_NE(s.message().find("bad.ptx:8:"), std::string::npos) << s.message();
  }
  Status s = loadError(wrap("", "sm_60"));
  EXPECT_NE(s.message().find("unsupported target sm_60"), std::string::npos);
  s = loadError(wrap("", "sm_80", "10.1"));
  EXPECT_NE(s.message().find("unsupported PTX ISA version"), std::string::npos);
}

/// Vector operands take immediate elements where they are read (mov packing,
/// st data), as cuda_bf16.hpp's `mov.b32 %f, {0, %rs}` does.
TEST(EmuParser, VectorOperandsWithImmediates) {
  std::string body = R"(
  .reg .b16 %h<4>;
  mov.b16 %h1, 0x3f80;
  mov.b32 %r1, {0, %h1};
  mov.b32 %r2, {%h1, 0x1234};
  mov.b64 %rd2, {%r2, -2};
  mov.b64 %rd3, {0f3F800000, 1};
  ld.param.u64 %rd1, [out];
  st.global.v4.u32 [%rd1], {%r1, %r2, 7, 0};
  st.global.v2.u64 [%rd1+16], {%rd2, -1};
  st.global.v4.b16 [%rd1+32], {%h1, 0x8001, -3, _};
  st.global.u64 [%rd1+40], %rd3;)";
  Emulator emu;
  auto mod = emu.loadModule(wrap(body), "vec.ptx");
  ASSERT_TRUE(mod.ok()) << mod.error().message();
  DevicePtr out = *emu.allocate(48);
  ASSERT_TRUE(emu.memset(out, 0xee, 48).ok());
  Status s = emu.launch(*mod->kernel("k"), Dim3(1), Dim3(32), 0,
                        {ParamBytes::of(out)});
  ASSERT_TRUE(s.ok()) << s.message();
  uint32_t w[4];
  uint64_t q[2];
  uint16_t h[4];
  uint64_t f;
  ASSERT_TRUE(emu.copyFromDevice(w, out, 16).ok());
  ASSERT_TRUE(emu.copyFromDevice(q, out + 16, 16).ok());
  ASSERT_TRUE(emu.copyFromDevice(h, out + 32, 8).ok());
  ASSERT_TRUE(emu.copyFromDevice(&f, out + 40, 8).ok());
  EXPECT_EQ(w[0], 0x3f800000u); // {0, %h1}: 1.0f from a bf16
  EXPECT_EQ(w[1], 0x12343f80u);
  EXPECT_EQ(w[2], 7u);
  EXPECT_EQ(w[3], 0u);
  EXPECT_EQ(q[0], 0xfffffffe12343f80ull);
  EXPECT_EQ(q[1], ~0ull);
  EXPECT_EQ(h[0], 0x3f80);
  EXPECT_EQ(h[1], 0x8001);
  EXPECT_EQ(h[2], 0xfffd);
  EXPECT_EQ(h[3], 0);
  EXPECT_EQ(f, 0x000000013f800000ull);
}

TEST(EmuParser, VersionsTargetsAndParams) {
  std::string ptx = R"(
.version 9.0
.target sm_90a
.address_size 64
.visible .entry first(
	.param .u64 .ptr .global .align 16 first_param_0,
	.param .align 8 .b8 first_param_1[24],
	.param .u16 first_param_2,
	.param .f32 first_param_3
)
.maxntid 128, 1, 1
{
  ret;
}
.entry second() { exit; }
)";
  Emulator emu;
  auto m = emu.loadModule(ptx, "p.ptx");
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->kernelNames(), (std::vector<std::string>{"first", "second"}));
  auto k = m->kernel("first");
  ASSERT_TRUE(k.ok());
  const auto &p = k->params();
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].name, "first_param_0");
  EXPECT_EQ(p[0].size, 8u);
  EXPECT_EQ(p[0].align, 16u);
  EXPECT_EQ(p[1].size, 24u);
  EXPECT_EQ(p[1].align, 8u);
  EXPECT_EQ(p[2].size, 2u);
  EXPECT_EQ(p[3].size, 4u);
  auto missing = m->kernel("third");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("kernels: first, second"),
            std::string::npos);
  // Parameter count and sizes are checked at launch.
  Status s = emu.launch(*k, Dim3(1), Dim3(1), 0, {ParamBytes::of(uint64_t(0))});
  EXPECT_NE(s.message().find("takes 4 parameters, the launch passes 1"),
            std::string::npos)
      << s.message();
  s = emu.launch(*k, Dim3(1), Dim3(1), 0,
                 {ParamBytes::of(uint64_t(0)), ParamBytes::of(uint64_t(0)),
                  ParamBytes::of(uint16_t(0)), ParamBytes::of(0.0f)});
  EXPECT_NE(s.message().find("parameter 1 ('first_param_1')"),
            std::string::npos)
      << s.message();
}

/// Inline-assembly scopes declare their own registers, which shadow and
/// outlive nothing; dynamic shared memory follows the aligned static part.
TEST(EmuParser, ScopesAndSharedLayout) {
  std::string prelude = R"(
.shared .align 4 .b8 small[6];
.extern .shared .align 16 .b8 dyn[];
)";
  std::string body = R"(
  .reg .pred %p<2>;
  mov.u32 %r0, %tid.x;
  { .reg .pred p; .reg .b32 t;
    setp.ne.u32 p, %r0, 0;
    selp.u32 t, 5, 7, p;
    mov.u32 %r1, t; }
  { .reg .b32 t;
    add.u32 t, %r1, 100;
    mov.u32 %r2, t; }
  mov.u32 %r3, dyn;
  mov.u32 %r4, small;
  ld.param.u64 %rd1, [k_out];
  mul.wide.u32 %rd2, %r0, 16;
  add.s64 %rd3, %rd1, %rd2;
  st.global.v4.u32 [%rd3], {%r1, %r2, %r3, %r4};
)";
  std::string ptx = ".version 8.0\n.target sm_80\n.address_size 64\n" +
                    prelude +
                    ".visible .entry k(.param .u64 k_out)\n{\n"
                    "  .reg .b32 %r<8>;\n  .reg .b64 %rd<4>;\n" +
                    body + "  ret;\n}\n";
  Emulator emu;
  auto m = emu.loadModule(ptx, "scope.ptx");
  ASSERT_TRUE(m.ok()) << m.error().message();
  auto k = *m->kernel("k");
  EXPECT_EQ(k.staticSharedBytes(), 16u);
  DevicePtr out = *emu.allocate(64);
  ASSERT_TRUE(emu.launch(k, Dim3(1), Dim3(4), 64, {ParamBytes::of(out)}).ok());
  uint32_t v[16];
  ASSERT_TRUE(emu.copyFromDevice(v, out, 64).ok());
  for (unsigned t = 0; t < 4; ++t) {
    EXPECT_EQ(v[4 * t], t ? 5u : 7u);
    EXPECT_EQ(v[4 * t + 1], (t ? 5u : 7u) + 100);
    EXPECT_EQ(v[4 * t + 2], 16u); // aligned after the 6 static bytes
    EXPECT_EQ(v[4 * t + 3], 0u);
  }
}

TEST(EmuParser, DeviceMemoryApi) {
  Emulator emu;
  auto a = emu.allocate(100);
  ASSERT_TRUE(a.ok());
  uint8_t buf[100];
  EXPECT_FALSE(emu.copyToDevice(*a + 50, buf, 51).ok());
  EXPECT_TRUE(emu.copyToDevice(*a + 50, buf, 50).ok());
  EXPECT_TRUE(emu.memset(*a, 7, 100).ok());
  EXPECT_TRUE(emu.copyFromDevice(buf, *a, 100).ok());
  EXPECT_EQ(buf[99], 7);
  EXPECT_FALSE(emu.free(*a + 1).ok());
  EXPECT_TRUE(emu.free(*a).ok());
  EXPECT_FALSE(emu.copyFromDevice(buf, *a, 1).ok());
  EXPECT_EQ(emu.name(), "emu");
}

/// Labels are local to their { } block, as in inline assembly that is
/// expanded twice with the same label names.
TEST(EmuParser, BlockScopedLabels) {
  std::string body = R"(
  mov.u32 %r0, %tid.x;
  mov.u32 %r1, 0;
  { .reg .pred p;
    setp.eq.u32 p, %r0, 0;
    @p bra SKIP;
    add.u32 %r1, %r1, 1;
  SKIP:
  }
  { .reg .pred p;
    setp.eq.u32 p, %r0, 1;
    @p bra SKIP;
    add.u32 %r1, %r1, 10;
  SKIP:
  }
  bra.uni DONE;
  { DONE: }
DONE:
  ld.param.u64 %rd1, [k_out];
  mul.wide.u32 %rd2, %r0, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r1;
)";
  std::string ptx = ".version 8.0\n.target sm_80\n.address_size 64\n"
                    ".visible .entry k(.param .u64 k_out)\n{\n"
                    "  .reg .b32 %r<8>;\n  .reg .b64 %rd<4>;\n" +
                    body + "  ret;\n}\n";
  Emulator emu;
  auto m = emu.loadModule(ptx, "labels.ptx");
  ASSERT_TRUE(m.ok()) << m.error().message();
  DevicePtr out = *emu.allocate(12);
  ASSERT_TRUE(
      emu.launch(*m->kernel("k"), Dim3(1), Dim3(3), 0, {ParamBytes::of(out)})
          .ok());
  uint32_t v[3];
  ASSERT_TRUE(emu.copyFromDevice(v, out, 12).ok());
  EXPECT_EQ(v[0], 10u);
  EXPECT_EQ(v[1], 1u);
  EXPECT_EQ(v[2], 11u);
  Status s = loadError(wrap("L:\n  L:\n  mov.u32 %r1, 1;"));
  EXPECT_NE(s.message().find("label 'L' defined twice"), std::string::npos)
      << s.message();
}

} // namespace
