//===- MemoryControlTest.cpp - State spaces, control flow, barriers -------===//

#include "test/unit/emu/EmuTestUtil.h"

using namespace tilus::emu;
using namespace tilus::emu::test;

namespace {

/// Every state space, vector widths and generic addressing.
TEST(EmuMemory, StateSpacesAndVectors) {
  std::string prelude = R"(
.const .align 4 .u32 ctable[4] = {11, 22, 33, 44};
.global .align 8 .u64 gvar = 0x123456789;
.shared .align 16 .b8 sbuf[4096];
)";
  std::string body = R"(
  .local .align 16 .b8 depot[64];
  ld.global.nc.L1::evict_last.v4.u32 {%r10, %r11, %r12, %r13}, [%rd3];
  membar.gl;
  fence.acq_rel.gpu;
  // shared, by state-space address and through the generic window
  mov.u32 %r20, sbuf;
  shl.b32 %r21, %r0, 4;
  add.u32 %r22, %r20, %r21;
  st.shared.v4.u32 [%r22], {%r10, %r11, %r12, %r13};
  cvt.u64.u32 %rd10, %r22;
  cvta.shared.u64 %rd11, %rd10;
  ld.v2.u32 {%r30, %r31}, [%rd11+8];
  ld.shared.v2.u32 {%r32, %r33}, [%r22];
  // local, through the generic window too
  mov.u64 %rd12, depot;
  st.local.v2.u32 [depot+8], {%r13, %r12};
  cvta.local.u64 %rd13, %rd12;
  ld.u32 %r34, [%rd13+12];
  ld.local.u8 %r35, [depot+8];
  ld.local.s8 %r36, [depot+9];
  // const and initialized global variables
  and.b32 %r37, %r0, 3;
  mul.wide.u32 %rd14, %r37, 4;
  mov.u64 %rd15, ctable;
  add.s64 %rd16, %rd15, %rd14;
  ld.const.u32 %r38, [%rd16];
  ld.global.u64 %rd17, [gvar];
  ld.param.u32 %r39, [k_n];
  st.global.v4.u32 [%rd5], {%r30, %r31, %r32, %r33};
  st.global.v4.u32 [%rd5+16], {%r34, %r35, %r36, %r38};
  st.global.u64 [%rd5+32], %rd17;
  st.global.u32 [%rd5+40], %r39;
  st.global.b16 [%rd5+44], %r10;
  st.global.u8 [%rd5+46], %r11;
  st.global.u8 [%rd5+47], %r12;
)";
  const unsigned n = 128, w = 48;
  std::mt19937 rng(2);
  std::vector<uint32_t> in(4 * n);
  for (auto &v : in)
    v = rng();
  auto out = runElementwise(elementwisePtx(body, 16, w, prelude), toBytes(in),
                            n * w, n, 64);
  for (unsigned t = 0; t < n; ++t) {
    const uint32_t *v = &in[4 * t];
    auto at = [&](unsigned off, unsigned size) {
      uint64_t r = 0;
      std::memcpy(&r, out.data() + t * w + off, size);
      return r;
    };
    EXPECT_EQ(at(0, 4), v[2]);
    EXPECT_EQ(at(4, 4), v[3]);
    EXPECT_EQ(at(8, 4), v[0]);
    EXPECT_EQ(at(12, 4), v[1]);
    EXPECT_EQ(at(16, 4), v[2]);
    EXPECT_EQ(at(20, 4), v[3] & 0xff);
    EXPECT_EQ(at(24, 4), uint32_t(int32_t(int8_t(v[3] >> 8))));
    EXPECT_EQ(at(28, 4), 11u * ((t % 64) % 4 + 1));
    EXPECT_EQ(at(32, 8), 0x123456789ull);
    EXPECT_EQ(at(40, 4), n);
    EXPECT_EQ(at(44, 2), v[0] & 0xffff);
    EXPECT_EQ(at(46, 1), v[1] & 0xff);
    EXPECT_EQ(at(47, 1), v[2] & 0xff);
  }
}

/// Every cache operator of ld and st (CUDA's __ldcg/__stcg emit ld.global.cg
/// and st.global.cg, which a split-K reduction uses to read another SM's
/// partial): each moves its value like a plain access.
TEST(EmuMemory, CacheOperators) {
  std::string body = R"(
  ld.global.ca.u32 %r10, [%rd3];
  ld.global.cg.u32 %r11, [%rd3+4];
  ld.global.cs.u32 %r12, [%rd3+8];
  ld.global.lu.u32 %r13, [%rd3+12];
  ld.global.cv.v2.u32 {%r14, %r15}, [%rd3];
  ld.global.cg.v2.f32 {%f1, %f2}, [%rd3+8];
  st.global.wb.u32 [%rd5], %r13;
  st.global.cg.u32 [%rd5+4], %r12;
  st.global.cs.u32 [%rd5+8], %r11;
  st.global.wt.u32 [%rd5+12], %r10;
  st.global.cg.v2.u32 [%rd5+16], {%r15, %r14};
  st.global.cg.v2.f32 [%rd5+24], {%f2, %f1};
)";
  const unsigned n = 96, w = 32;
  std::mt19937 rng(5);
  std::vector<uint32_t> in(4 * n);
  for (auto &v : in)
    v = rng() | 1;
  auto out = runElementwise(elementwisePtx(body, 16, w), toBytes(in), n * w, n);
  for (unsigned t = 0; t < n; ++t) {
    const uint32_t *v = &in[4 * t];
    uint32_t got[8];
    std::memcpy(got, out.data() + t * w, w);
    const uint32_t want[8] = {v[3], v[2], v[1], v[0], v[1], v[0], v[3], v[2]};
    for (unsigned i = 0; i < 8; ++i)
      EXPECT_EQ(got[i], want[i]) << "thread " << t << " word " << i;
  }
}

/// Threads diverge in a data-dependent loop and an if/else, then reconverge:
/// the warp-wide shuffle after them sees the whole warp.
TEST(EmuControl, DivergenceAndReconvergence) {
  std::string body = R"(
  ld.global.u32 %r10, [%rd3];
  and.b32 %r11, %r10, 7;        // trip count 0..7
  mov.u32 %r12, 0;
  mov.u32 %r13, 0;
  setp.eq.u32 %p1, %r11, 0;
  @%p1 bra SKIP;
LOOP:
  add.u32 %r12, %r12, %r13;
  add.u32 %r13, %r13, 1;
  setp.lt.u32 %p2, %r13, %r11;
  @%p2 bra LOOP;
SKIP:
  and.b32 %r14, %r10, 8;
  setp.ne.u32 %p3, %r14, 0;
  @%p3 bra ELSE;
  mul.lo.u32 %r15, %r12, 3;
  bra.uni JOIN;
ELSE:
  add.u32 %r15, %r12, 1000;
JOIN:
  shfl.sync.bfly.b32 %r16, %r15, 1, 31, -1;
  st.global.v2.u32 [%rd5], {%r15, %r16};
)";
  const unsigned n = 256;
  std::mt19937 rng(8);
  std::vector<uint32_t> in(n);
  for (auto &v : in)
    v = rng();
  auto out = runElementwise(elementwisePtx(body, 4, 8), toBytes(in), n * 8, n);
  auto ref = [&](uint32_t v) {
    uint32_t trips = v & 7, acc = 0;
    for (uint32_t i = 0; i < trips; ++i)
      acc += i;
    return (v & 8) ? acc + 1000 : acc * 3;
  };
  for (unsigned t = 0; t < n; ++t) {
    EXPECT_EQ(readAt<uint32_t>(out, 2 * t), ref(in[t]));
    EXPECT_EQ(readAt<uint32_t>(out, 2 * t + 1), ref(in[t ^ 1]));
  }
}

/// A tree reduction in shared memory with bar.sync between the levels.
TEST(EmuControl, BarrierReduction) {
  std::string ptx = R"(
.version 8.0
.target sm_80
.address_size 64
.extern .shared .align 16 .b8 smem[];
.visible .entry reduce(.param .u64 in, .param .u64 out)
{
  .reg .pred %p<4>;
  .reg .b32 %r<32>;
  .reg .b64 %rd<8>;
  mov.u32 %r0, %tid.x;
  mov.u32 %r1, %ctaid.x;
  mov.u32 %r2, %ntid.x;
  mad.lo.u32 %r3, %r1, %r2, %r0;
  ld.param.u64 %rd0, [in];
  mul.wide.u32 %rd1, %r3, 4;
  add.s64 %rd2, %rd0, %rd1;
  ld.global.u32 %r4, [%rd2];
  mov.u32 %r5, smem;
  shl.b32 %r6, %r0, 2;
  add.u32 %r7, %r5, %r6;
  st.shared.u32 [%r7], %r4;
  bar.sync 0;
  shr.u32 %r8, %r2, 1;
LOOP:
  setp.ge.u32 %p1, %r0, %r8;
  @%p1 bra NEXT;
  shl.b32 %r9, %r8, 2;
  add.u32 %r10, %r7, %r9;
  ld.shared.u32 %r11, [%r10];
  ld.shared.u32 %r12, [%r7];
  add.u32 %r12, %r12, %r11;
  st.shared.u32 [%r7], %r12;
NEXT:
  barrier.sync 0;
  shr.u32 %r8, %r8, 1;
  setp.ne.u32 %p2, %r8, 0;
  @%p2 bra LOOP;
  setp.ne.u32 %p3, %r0, 0;
  @%p3 bra DONE;
  ld.shared.u32 %r13, [%r5];
  ld.param.u64 %rd3, [out];
  mul.wide.u32 %rd4, %r1, 4;
  add.s64 %rd5, %rd3, %rd4;
  st.global.u32 [%rd5], %r13;
DONE:
  ret;
}
)";
  // The fixed order, and random orders of CTAs and warps: same results.
  for (uint64_t seed : {0, 1, 2, 3}) {
    EmulatorOptions opts;
    opts.scheduleSeed = seed;
    Emulator emu(opts);
    auto mod = emu.loadModule(ptx, "reduce.ptx");
    ASSERT_TRUE(mod.ok()) << mod.error().message();
    auto k = mod->kernel("reduce");
    ASSERT_TRUE(k.ok());
    const unsigned blocks = 3, threads = 256;
    std::mt19937 rng(1);
    std::vector<uint32_t> in(blocks * threads);
    for (auto &v : in)
      v = rng() % 100000;
    DevicePtr din = *emu.allocate(in.size() * 4),
              dout = *emu.allocate(blocks * 4);
    ASSERT_TRUE(emu.copyToDevice(din, in.data(), in.size() * 4).ok());
    Status s = emu.launch(*k, Dim3(blocks), Dim3(threads), threads * 4,
                          {ParamBytes::of(din), ParamBytes::of(dout)});
    ASSERT_TRUE(s.ok()) << s.message();
    std::vector<uint32_t> out(blocks);
    ASSERT_TRUE(emu.copyFromDevice(out.data(), dout, blocks * 4).ok());
    for (unsigned b = 0; b < blocks; ++b) {
      uint32_t sum = 0;
      for (unsigned t = 0; t < threads; ++t)
        sum += in[b * threads + t];
      EXPECT_EQ(out[b], sum);
    }
    EXPECT_GT(emu.lastLaunchStats().warpInstructions, 0u);
    EXPECT_EQ(emu.lastLaunchStats().ctas, blocks);
  }
}

/// Special registers over a 3-D grid of 3-D blocks.
TEST(EmuControl, SpecialRegisters) {
  std::string ptx = R"(
.version 8.0
.target sm_80
.address_size 64
.visible .entry ids(.param .u64 out)
{
  .reg .b32 %r<40>;
  .reg .b64 %rd<8>;
  mov.u32 %r1, %tid.x;  mov.u32 %r2, %tid.y;  mov.u32 %r3, %tid.z;
  mov.u32 %r4, %ntid.x; mov.u32 %r5, %ntid.y; mov.u32 %r6, %ntid.z;
  mov.u32 %r7, %ctaid.x; mov.u32 %r8, %ctaid.y; mov.u32 %r9, %ctaid.z;
  mov.u32 %r10, %nctaid.x; mov.u32 %r11, %nctaid.y;
  mov.u32 %r12, %laneid; mov.u32 %r13, %warpid;
  mov.u32 %r14, %dynamic_smem_size;
  // linear thread id and block id
  mad.lo.u32 %r20, %r3, %r5, %r2;
  mad.lo.u32 %r20, %r20, %r4, %r1;
  mad.lo.u32 %r21, %r9, %r11, %r8;
  mad.lo.u32 %r21, %r21, %r10, %r7;
  mul.lo.u32 %r22, %r4, %r5;
  mul.lo.u32 %r22, %r22, %r6;
  mad.lo.u32 %r23, %r21, %r22, %r20;
  ld.param.u64 %rd1, [out];
  mul.wide.u32 %rd2, %r23, 16;
  add.s64 %rd3, %rd1, %rd2;
  st.global.v4.u32 [%rd3], {%r20, %r21, %r12, %r13};
  mov.u32 %r15, %lanemask_lt;
  st.global.u32 [%rd3+12], %r15;
  st.global.u32 [%rd3+8], %r14;
  ret;
}
)";
  Emulator emu;
  auto mod = emu.loadModule(ptx, "ids.ptx");
  ASSERT_TRUE(mod.ok()) << mod.error().message();
  Dim3 grid(2, 3, 2), block(5, 4, 3);
  unsigned total = unsigned(grid.count() * block.count());
  DevicePtr dout = *emu.allocate(total * 16);
  ASSERT_TRUE(
      emu.launch(*mod->kernel("ids"), grid, block, 48, {ParamBytes::of(dout)})
          .ok());
  std::vector<uint32_t> out(total * 4);
  ASSERT_TRUE(emu.copyFromDevice(out.data(), dout, total * 16).ok());
  for (unsigned i = 0; i < total; ++i) {
    unsigned t = i % block.count(), b = i / block.count();
    EXPECT_EQ(out[4 * i], t);
    EXPECT_EQ(out[4 * i + 1], b);
    EXPECT_EQ(out[4 * i + 2], 48u);
    EXPECT_EQ(out[4 * i + 3], (1u << (t % 32)) - 1);
  }
}

/// LLVM-style calls of a .func, printf through vprintf.
TEST(EmuControl, CallsAndPrintf) {
  std::string ptx = R"(
.version 8.5
.target sm_80
.address_size 64
.extern .func (.param .b32 func_retval0) vprintf
(
	.param .b64 vprintf_param_0,
	.param .b64 vprintf_param_1
)
;
.global .align 1 .b8 $str[22] = {116, 61, 37, 100, 32, 120, 61, 37, 46, 50, 102, 32, 115, 61, 37, 115, 32, 37, 120, 10, 0, 0};
.global .align 1 .b8 $str1[3] = {104, 105, 0};
.func  (.param .b32 func_retval0) square(
	.param .b32 square_param_0
)
{
	.reg .b32 	%r<3>;
	ld.param.u32 	%r1, [square_param_0];
	mul.lo.s32 	%r2, %r1, %r1;
	st.param.b32 	[func_retval0+0], %r2;
	ret;
}
.visible .entry k(.param .u64 out)
{
	.local .align 8 .b8 	__local_depot0[32];
	.reg .b64 	%SP;
	.reg .b64 	%SPL;
	.reg .b32 	%r<8>;
	.reg .b64 	%rd<12>;
	.reg .f64 	%fd<2>;
	mov.u64 	%SPL, __local_depot0;
	cvta.local.u64 	%SP, %SPL;
	mov.u32 	%r1, %tid.x;
	{ // callseq 0, 0
	.param .b32 param0;
	st.param.b32 	[param0+0], %r1;
	.param .b32 retval0;
	call.uni (retval0),
	square,
	(
	param0
	);
	ld.param.b32 	%r2, [retval0+0];
	} // callseq 0
	ld.param.u64 	%rd1, [out];
	mul.wide.u32 	%rd2, %r1, 4;
	add.s64 	%rd3, %rd1, %rd2;
	st.global.u32 	[%rd3], %r2;
	setp.ne.u32 %p1, %r1, 2;
	@%p1 bra 	$L__done;
	cvt.rn.f64.s32 	%fd1, %r2;
	mul.f64 %fd1, %fd1, 0d3FE0000000000000;
	add.u64 	%rd4, %SP, 0;
	st.local.u32 	[%SPL], %r2;
	st.local.f64 	[%SPL+8], %fd1;
	mov.u64 	%rd5, $str1;
	cvta.global.u64 	%rd6, %rd5;
	st.local.u64 	[%SPL+16], %rd6;
	mov.u32 %r3, 255;
	st.local.u32 	[%SPL+24], %r3;
	mov.u64 	%rd7, $str;
	cvta.global.u64 	%rd8, %rd7;
	{ // callseq 1, 0
	.param .b64 param0;
	st.param.b64 	[param0+0], %rd8;
	.param .b64 param1;
	st.param.b64 	[param1+0], %rd4;
	.param .b32 retval0;
	call.uni (retval0),
	vprintf,
	(
	param0,
	param1
	);
	ld.param.b32 	%r4, [retval0+0];
	} // callseq 1
	st.global.u32 	[%rd3], %r4;
$L__done:
	ret;
}
)";
  // The reg %p1 is not declared above: declare it by rewriting.
  ptx.replace(ptx.find(".reg .b64 \t%SP;"), 0, ".reg .pred %p<2>;\n\t");
  std::string printed;
  EmulatorOptions opts;
  opts.printfSink = [&](std::string_view s) { printed += s; };
  Emulator emu(opts);
  auto mod = emu.loadModule(ptx, "call.ptx");
  ASSERT_TRUE(mod.ok()) << mod.error().message();
  DevicePtr dout = *emu.allocate(32 * 4);
  Status s = emu.launch(*mod->kernel("k"), Dim3(1), Dim3(32), 0,
                        {ParamBytes::of(dout)});
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(printed, "t=4 x=2.00 s=hi ff\n");
  std::vector<uint32_t> out(32);
  ASSERT_TRUE(emu.copyFromDevice(out.data(), dout, 128).ok());
  for (uint32_t t = 0; t < 32; ++t)
    EXPECT_EQ(out[t], t == 2 ? uint32_t(printed.size()) : t * t);
}

/// bar.red (__syncthreads_count/_and/_or): every thread gets the combined
/// predicate of all threads.
TEST(EmuControl, BarrierReduce) {
  std::string body = R"(
  ld.global.u32 %r10, [%rd3];
  and.b32 %r11, %r10, 1;
  setp.ne.u32 %p1, %r11, 0;
  bar.red.popc.u32 %r20, 0, %p1;
  bar.red.and.pred %p2, 0, %p1;
  bar.red.or.pred %p3, 1, !%p1;
  selp.u32 %r21, 1, 0, %p2;
  selp.u32 %r22, 1, 0, %p3;
  st.global.v2.u32 [%rd5], {%r20, %r21};
  st.global.u32 [%rd5+8], %r22;
)";
  const unsigned n = 128;
  std::mt19937 rng(31);
  std::vector<uint32_t> in(n);
  for (auto &v : in)
    v = rng();
  for (unsigned t = 64; t < 128; ++t)
    in[t] |= 1; // the second block: all odd
  auto out =
      runElementwise(elementwisePtx(body, 4, 16), toBytes(in), n * 16, n, 64);
  for (unsigned b = 0; b < 2; ++b) {
    uint32_t count = 0;
    for (unsigned t = 0; t < 64; ++t)
      count += in[b * 64 + t] & 1;
    for (unsigned t = 0; t < 64; ++t) {
      unsigned i = b * 64 + t;
      EXPECT_EQ(readAt<uint32_t>(out, 4 * i), count);
      EXPECT_EQ(readAt<uint32_t>(out, 4 * i + 1), uint32_t(count == 64));
      EXPECT_EQ(readAt<uint32_t>(out, 4 * i + 2), uint32_t(count < 64));
    }
  }
}

/// cp.async with an ignore-src predicate fills the destination with zeros.
TEST(EmuControl, CpAsyncIgnoreSrc) {
  std::string prelude = ".shared .align 16 .b8 stage[2048];\n";
  std::string body = R"(
  mov.u32 %r10, stage;
  shl.b32 %r11, %r0, 4;
  add.u32 %r12, %r10, %r11;
  and.b32 %r13, %r0, 1;
  setp.ne.u32 %p1, %r13, 0;
  cp.async.ca.shared.global [%r12], [%rd3], 16, %p1;
  cp.async.wait_all;
  ld.shared.v4.u32 {%r20, %r21, %r22, %r23}, [%r12];
  st.global.v4.u32 [%rd5], {%r20, %r21, %r22, %r23};
)";
  const unsigned n = 64;
  std::vector<uint32_t> in(4 * n);
  std::mt19937 rng(2);
  for (auto &v : in)
    v = rng() | 1;
  auto out = runElementwise(elementwisePtx(body, 16, 16, prelude), toBytes(in),
                            n * 16, n, 64);
  for (unsigned t = 0; t < n; ++t)
    for (unsigned k = 0; k < 4; ++k)
      EXPECT_EQ(readAt<uint32_t>(out, 4 * t + k), (t & 1) ? 0u : in[4 * t + k]);
}

/// Nested loops with data-dependent trip counts and breaks, and lanes that
/// leave early: the lanes that stay meet again after the outer loop, where a
/// warp reduction over the active mask sees all of them.
TEST(EmuControl, NestedLoopsBreaksAndEarlyExit) {
  std::string body = R"(
  ld.global.u32 %r10, [%rd3];
  and.b32 %r11, %r10, 3;
  mov.u32 %r12, 0;
  mov.u32 %r13, 0;
  and.b32 %r20, %r10, 0x30;
  setp.eq.u32 %p5, %r20, 0x30;
  @%p5 bra EARLY;
OUTER:
  setp.ge.u32 %p1, %r13, %r11;
  @%p1 bra OUTER_END;
  mov.u32 %r14, 0;
INNER:
  add.u32 %r12, %r12, %r14;
  shr.u32 %r15, %r10, %r14;
  and.b32 %r15, %r15, 1;
  setp.ne.u32 %p2, %r15, 0;
  @%p2 bra INNER_BREAK;
  add.u32 %r14, %r14, 1;
  setp.lt.u32 %p3, %r14, 5;
  @%p3 bra INNER;
INNER_BREAK:
  add.u32 %r12, %r12, 100;
  add.u32 %r13, %r13, 1;
  bra.uni OUTER;
OUTER_END:
  activemask.b32 %r16;
  redux.sync.add.u32 %r17, %r12, %r16;
  st.global.v4.u32 [%rd5], {%r12, %r17, %r16, %r16};
  bra.uni END;
EARLY:
  mov.u32 %r18, 7;
  st.global.v4.u32 [%rd5], {%r18, %r18, %r18, %r18};
  exit;
END:
)";
  const unsigned n = 128;
  std::mt19937 rng(77);
  std::vector<uint32_t> in(n);
  for (auto &v : in)
    v = rng();
  auto out =
      runElementwise(elementwisePtx(body, 4, 16), toBytes(in), n * 16, n, 64);
  auto acc = [](uint32_t v) {
    uint32_t a = 0;
    for (uint32_t i = 0; i < (v & 3); ++i) {
      for (uint32_t j = 0; j < 5; ++j) {
        a += j;
        if ((v >> j) & 1)
          break;
      }
      a += 100;
    }
    return a;
  };
  for (unsigned w = 0; w < n / 32; ++w) {
    uint32_t mask = 0, sum = 0;
    for (unsigned l = 0; l < 32; ++l) {
      uint32_t v = in[w * 32 + l];
      if ((v & 0x30) != 0x30) {
        mask |= 1u << l;
        sum += acc(v);
      }
    }
    for (unsigned l = 0; l < 32; ++l) {
      unsigned t = w * 32 + l;
      uint32_t v = in[t];
      if ((v & 0x30) == 0x30) {
        EXPECT_EQ(readAt<uint32_t>(out, 4 * t), 7u);
        continue;
      }
      EXPECT_EQ(readAt<uint32_t>(out, 4 * t), acc(v)) << t;
      EXPECT_EQ(readAt<uint32_t>(out, 4 * t + 1), sum) << t;
      EXPECT_EQ(readAt<uint32_t>(out, 4 * t + 2), mask) << t;
    }
  }
}

/// Named barriers with thread counts: warps 0-1 and warps 2-3 exchange data
/// through shared memory, each pair on its own barrier.
TEST(EmuControl, NamedBarriersWithCounts) {
  std::string prelude = ".shared .align 4 .b32 slots[128];\n";
  std::string body = R"(
  mov.u32 %r10, slots;
  shl.b32 %r11, %r0, 2;
  add.u32 %r12, %r10, %r11;
  st.shared.u32 [%r12], %r3;
  // warps 0,1 use barrier 1; warps 2,3 barrier 2; 64 threads each
  shr.u32 %r13, %r0, 6;
  add.u32 %r14, %r13, 1;
  bar.sync %r14, 64;
  // read the slot of the same lane in the other warp of the pair
  xor.b32 %r15, %r11, 128;
  add.u32 %r16, %r10, %r15;
  ld.shared.u32 %r17, [%r16];
  st.global.u32 [%rd5], %r17;
  barrier.sync.aligned %r14, 64;
  bar.arrive 3, 128;
)";
  const unsigned n = 128;
  std::vector<uint32_t> in(n, 1);
  auto out = runElementwise(elementwisePtx(body, 4, 4, prelude), toBytes(in),
                            n * 4, n, 128);
  for (unsigned t = 0; t < n; ++t)
    EXPECT_EQ(readAt<uint32_t>(out, t), t ^ 32u);
}

//===----------------------------------------------------------------------===//
// Random control flow
//===----------------------------------------------------------------------===//

/// A random structured program over a per-thread value v and accumulator
/// acc: arithmetic, if/else on a bit of v, loops with data-dependent trip
/// counts and breaks, and early exits. It is printed as PTX (with labels and
/// predicated branches) and interpreted on the host per thread.
struct Node {
  enum Kind { Arith, If, Loop, Exit, Ballot, Barrier } kind;
  unsigned a = 0, b = 0; // Arith: op, constant. If/Exit: bit. Loop: shift, break bit
  std::vector<Node> body, other;
};

/// \p syncs: also ballots (1) or barriers (2), anywhere (RandomPathsMeet).
/// Not both: lanes at a ballot wait for the warp's live lanes, which may
/// wait at a barrier for them (a deadlock on a GPU too).
std::vector<Node> randomBlock(std::mt19937 &rng, unsigned depth,
                              int syncs = 0) {
  std::vector<Node> out;
  unsigned n = 1 + rng() % 3;
  for (unsigned i = 0; i < n; ++i) {
    unsigned r = rng() % 10;
    Node x;
    if (syncs && rng() % 4 == 0) {
      x.kind = syncs == 1 ? Node::Ballot : Node::Barrier;
      out.push_back(x);
      continue;
    }
    if (depth < 3 && r < 3) {
      x.kind = Node::If;
      x.a = rng() % 16;
      x.body = randomBlock(rng, depth + 1, syncs);
      if (rng() % 2)
        x.other = randomBlock(rng, depth + 1, syncs);
    } else if (depth < 3 && r < 5) {
      x.kind = Node::Loop;
      x.a = rng() % 14;
      x.b = rng() % 3 ? 16 + rng() % 16 : 99; // 99: no break
      x.body = randomBlock(rng, depth + 1, syncs);
    } else if (r == 5 && rng() % 3 == 0) {
      x.kind = Node::Exit;
      x.a = rng() % 16;
    } else {
      x.kind = Node::Arith;
      x.a = rng() % 3;
      x.b = 1 + rng() % 1000;
    }
    out.push_back(x);
  }
  return out;
}

struct Printer {
  std::string s;
  unsigned label = 0;
  void block(const std::vector<Node> &b, unsigned depth) {
    for (const Node &x : b)
      node(x, depth);
  }
  void node(const Node &x, unsigned depth) {
    std::string p = "%p" + std::to_string(depth);
    std::string t = "%r" + std::to_string(30 + depth);
    switch (x.kind) {
    case Node::Arith: {
      const char *op[] = {"add.u32", "xor.b32", "mul.lo.u32"};
      s += std::string("  ") + op[x.a] + " %r12, %r12, " + std::to_string(x.b) +
           ";\n";
      return;
    }
    case Node::Exit:
      s += "  and.b32 " + t + ", %r10, " + std::to_string(1u << x.a) +
           ";\n  setp.ne.u32 " + p + ", " + t + ", 0;\n  @" + p + " exit;\n";
      return;
    case Node::Ballot:
      // out[t][n] = ballot of (acc & 1); n counts this thread's ballots.
      s += "  and.b32 %r60, %r12, 1;\n  setp.ne.u32 %p10, %r60, 0;\n"
           "  vote.sync.ballot.b32 %r61, %p10, -1;\n"
           "  mul.wide.u32 %rd10, %r20, 4;\n  add.s64 %rd11, %rd5, %rd10;\n"
           "  st.global.u32 [%rd11], %r61;\n  add.u32 %r20, %r20, 1;\n";
      return;
    case Node::Barrier:
      // Before its n-th barrier a thread writes n * 7919 + t to its slot of
      // S[n % 2]; after it, out[t][64 + n] = the other warp's partner's slot.
      s += "  and.b32 %r62, %r21, 1;\n  mad.lo.u32 %r63, %r62, 64, %r0;\n"
           "  shl.b32 %r63, %r63, 2;\n  mov.u32 %r64, S;\n"
           "  add.u32 %r63, %r63, %r64;\n  mad.lo.u32 %r65, %r21, 7919, %r0;\n"
           "  st.shared.u32 [%r63], %r65;\n  barrier.sync 1;\n"
           "  xor.b32 %r66, %r0, 32;\n  mad.lo.u32 %r66, %r62, 64, %r66;\n"
           "  shl.b32 %r66, %r66, 2;\n  add.u32 %r66, %r66, %r64;\n"
           "  ld.shared.u32 %r67, [%r66];\n"
           "  mul.wide.u32 %rd10, %r21, 4;\n  add.s64 %rd11, %rd5, %rd10;\n"
           "  st.global.u32 [%rd11+256], %r67;\n  add.u32 %r21, %r21, 1;\n";
      return;
    case Node::If: {
      std::string l = std::to_string(label++);
      s += "  and.b32 " + t + ", %r10, " + std::to_string(1u << x.a) +
           ";\n  setp.ne.u32 " + p + ", " + t + ", 0;\n  @" + p +
           " bra ELSE" + l + ";\n";
      block(x.body, depth + 1);
      s += "  bra.uni END" + l + ";\nELSE" + l + ":\n";
      block(x.other, depth + 1);
      s += "END" + l + ":\n";
      return;
    }
    case Node::Loop: {
      std::string l = std::to_string(label++);
      std::string i = "%r" + std::to_string(40 + depth);
      std::string n = "%r" + std::to_string(50 + depth);
      s += "  shr.u32 " + n + ", %r10, " + std::to_string(x.a) + ";\n  and.b32 " +
           n + ", " + n + ", 3;\n  mov.u32 " + i + ", 0;\nLOOP" + l +
           ":\n  setp.ge.u32 " + p + ", " + i + ", " + n + ";\n  @" + p +
           " bra EXIT" + l + ";\n";
      block(x.body, depth + 1);
      if (x.b != 99)
        s += "  add.u32 " + t + ", %r12, " + i + ";\n  and.b32 " + t + ", " + t +
             ", " + std::to_string(1u << (x.b - 16)) + ";\n  setp.ne.u32 " + p +
             ", " + t + ", 0;\n  @" + p + " bra EXIT" + l + ";\n";
      s += "  add.u32 " + i + ", " + i + ", 1;\n  bra.uni LOOP" + l + ";\nEXIT" +
           l + ":\n";
      return;
    }
    }
  }
};

/// What a thread did at its ballots (the predicate of each) and how many
/// barriers it passed.
struct Trace {
  std::vector<bool> ballots;
  unsigned barriers = 0;
};

/// Returns false if the thread exited.
bool interpret(const std::vector<Node> &b, uint32_t v, uint32_t &acc,
               Trace *trace = nullptr) {
  for (const Node &x : b) {
    switch (x.kind) {
    case Node::Arith:
      acc = x.a == 0 ? acc + x.b : x.a == 1 ? acc ^ x.b : acc * x.b;
      break;
    case Node::Ballot:
      trace->ballots.push_back(acc & 1);
      break;
    case Node::Barrier:
      ++trace->barriers;
      break;
    case Node::Exit:
      if (v & (1u << x.a))
        return false;
      break;
    case Node::If:
      if (!interpret((v & (1u << x.a)) ? x.other : x.body, v, acc, trace))
        return false;
      break;
    case Node::Loop: {
      uint32_t n = (v >> x.a) & 3;
      for (uint32_t i = 0; i < n; ++i) {
        if (!interpret(x.body, v, acc, trace))
          return false;
        if (x.b != 99 && ((acc + i) & (1u << (x.b - 16))))
          break;
      }
      break;
    }
    }
  }
  return true;
}

/// Whatever the nesting of branches, loops, breaks and exits, every thread
/// computes its own result and the live lanes of each warp meet again at
/// the end, where a warp reduction over the active mask sees all of them.
TEST(EmuControl, RandomControlFlowReconverges) {
  std::mt19937 rng(2024);
  Emulator emu;
  for (int prog = 0; prog < 200; ++prog) {
    std::vector<Node> program = randomBlock(rng, 0);
    Printer pr;
    pr.block(program, 0);
    std::string body = "  ld.global.u32 %r10, [%rd3];\n  mov.u32 %r12, %r10;\n" +
                       pr.s +
                       "  activemask.b32 %r13;\n"
                       "  redux.sync.add.u32 %r14, %r12, %r13;\n"
                       "  st.global.v4.u32 [%rd5], {%r12, %r14, %r13, %r13};\n";
    const unsigned n = 64;
    std::vector<uint32_t> in(n);
    for (auto &v : in)
      v = rng();
    auto out = runElementwise(elementwisePtx(body, 4, 16), toBytes(in),
                              n * 16, n, 64, &emu);
    for (unsigned w = 0; w < n / 32; ++w) {
      uint32_t mask = 0, sum = 0, acc[32];
      bool live[32];
      for (unsigned l = 0; l < 32; ++l) {
        acc[l] = in[w * 32 + l];
        live[l] = interpret(program, in[w * 32 + l], acc[l]);
        if (live[l]) {
          mask |= 1u << l;
          sum += acc[l];
        }
      }
      for (unsigned l = 0; l < 32; ++l) {
        if (!live[l])
          continue;
        unsigned t = w * 32 + l;
        ASSERT_EQ(readAt<uint32_t>(out, 4 * t), acc[l])
            << "program " << prog << " thread " << t << "\n" << pr.s;
        ASSERT_EQ(readAt<uint32_t>(out, 4 * t + 2), mask)
            << "program " << prog << "\n" << pr.s;
        ASSERT_EQ(readAt<uint32_t>(out, 4 * t + 1), sum);
      }
    }
  }
}

/// Ballots (or barriers) anywhere in random divergent code (branches,
/// loops, breaks, exits): as under independent thread scheduling, the n-th
/// ballot of every live lane of a warp is one collective, whichever
/// instructions the lanes are at, and the n-th barrier of every thread of
/// the CTA one phase (exited threads count as arrived). Checked against a
/// host model of each thread.
TEST(EmuControl, RandomPathsMeetAtBallotsAndBarriers) {
  std::mt19937 rng(77);
  Emulator emu;
  int ran = 0;
  for (int prog = 0; prog < 300 && ran < 150; ++prog) {
    std::vector<Node> program = randomBlock(rng, 0, 1 + prog % 2);
    const unsigned n = 64;
    std::vector<uint32_t> in(n);
    for (auto &v : in)
      v = rng();
    std::vector<uint32_t> acc(n);
    std::vector<Trace> tr(n);
    std::vector<bool> live(n);
    bool fits = true, syncs = false;
    for (unsigned t = 0; t < n; ++t) {
      acc[t] = in[t];
      live[t] = interpret(program, in[t], acc[t], &tr[t]);
      fits = fits && tr[t].ballots.size() <= 64 && tr[t].barriers <= 64;
      syncs = syncs || !tr[t].ballots.empty() || tr[t].barriers;
    }
    if (!fits || !syncs)
      continue;
    ++ran;
    Printer pr;
    pr.block(program, 0);
    std::string body = "  ld.global.u32 %r10, [%rd3];\n  mov.u32 %r12, %r10;\n"
                       "  mov.u32 %r20, 0;\n  mov.u32 %r21, 0;\n" +
                       pr.s + "  st.global.u32 [%rd5+508], %r12;\n";
    auto out = runElementwise(
        elementwisePtx(body, 4, 512, ".shared .align 4 .b8 S[512];\n"),
        toBytes(in), n * 512, n, 64, &emu);
    for (unsigned t = 0; t < n; ++t) {
      unsigned w = t / 32;
      for (size_t k = 0; k < tr[t].ballots.size(); ++k) {
        uint32_t want = 0;
        for (unsigned l = 0; l < 32; ++l)
          if (tr[w * 32 + l].ballots.size() > k && tr[w * 32 + l].ballots[k])
            want |= 1u << l;
        ASSERT_EQ(readAt<uint32_t>(out, 128 * t + k), want)
            << "program " << prog << " thread " << t << " ballot " << k
            << "\n" << pr.s;
      }
      unsigned partner = t ^ 32;
      for (unsigned k = 0; k < tr[t].barriers; ++k)
        if (tr[partner].barriers > k)
          ASSERT_EQ(readAt<uint32_t>(out, 128 * t + 64 + k),
                    k * 7919 + partner)
              << "program " << prog << " thread " << t << " barrier " << k
              << "\n" << pr.s;
      if (live[t])
        ASSERT_EQ(readAt<uint32_t>(out, 128 * t + 127), acc[t])
            << "program " << prog << " thread " << t << "\n" << pr.s;
    }
  }
  EXPECT_GE(ran, 100);
}

} // namespace

//===----------------------------------------------------------------------===//
// Per-kernel registers and shared memory (runtime/emu/Layout.h)
//===----------------------------------------------------------------------===//

namespace {

/// Kernel a: 8 registers and a_smem. Kernels b and c call helper, which has
/// 3000 registers and 4000 bytes of local memory and uses common; b also uses
/// b_smem and keeps registers and a local variable live across the call.
const char *kLayoutPtx = R"(
.version 8.5
.target sm_90
.address_size 64
.shared .align 4 .b8 a_smem[4096];
.shared .align 4 .b8 b_smem[256];
.shared .align 4 .b8 common[64];

.func (.param .b32 r) helper(.param .b32 x)
{
  .reg .b32 %h<3000>;
  .local .align 4 .b8 scratch[4000];
  ld.param.b32 %h0, [x];
  and.b32 %h1, %h0, 15;
  shl.b32 %h1, %h1, 2;
  mov.u32 %h3, scratch;
  add.u32 %h3, %h3, %h1;
  st.local.u32 [%h3], 12345;
  st.local.u32 [scratch], 777;
  mov.u32 %h2, common;
  add.u32 %h2, %h2, %h1;
  st.shared.u32 [%h2], %h0;
  ld.shared.u32 %h2999, [%h2];
  add.u32 %h2999, %h2999, 1;
  st.param.b32 [r], %h2999;
  ret;
}

.visible .entry a(.param .u64 out)
{
  .reg .b32 %r<8>;
  .reg .b64 %rd<4>;
  mov.u32 %r0, %tid.x;
  shl.b32 %r1, %r0, 2;
  mov.u32 %r2, a_smem;
  add.u32 %r2, %r2, %r1;
  mul.lo.u32 %r3, %r0, 5;
  st.shared.u32 [%r2], %r3;
  ld.shared.u32 %r4, [%r2];
  ld.param.u64 %rd0, [out];
  mul.wide.u32 %rd1, %r0, 4;
  add.s64 %rd2, %rd0, %rd1;
  st.global.u32 [%rd2], %r4;
  ret;
}

.visible .entry b(.param .u64 out)
{
  .reg .b32 %r<8>;
  .reg .b64 %rd<4>;
  .local .align 4 .b8 keep[64];
  mov.u32 %r0, %tid.x;
  mul.lo.u32 %r5, %r0, 7;
  st.local.u32 [keep], %r5;
  st.local.u32 [keep+60], %r5;
  shl.b32 %r1, %r0, 2;
  mov.u32 %r2, b_smem;
  add.u32 %r2, %r2, %r1;
  st.shared.u32 [%r2], %r5;
  mul.lo.u32 %r3, %r0, 3;
  {
  .param .b32 x;
  .param .b32 r;
  st.param.b32 [x], %r3;
  call (r), helper, (x);
  ld.param.b32 %r4, [r];
  }
  ld.shared.u32 %r6, [%r2];
  add.u32 %r4, %r4, %r5;
  add.u32 %r4, %r4, %r6;
  ld.local.u32 %r7, [keep];
  add.u32 %r4, %r4, %r7;
  ld.local.u32 %r7, [keep+60];
  add.u32 %r4, %r4, %r7;
  ld.param.u64 %rd0, [out];
  mul.wide.u32 %rd1, %r0, 4;
  add.s64 %rd2, %rd0, %rd1;
  st.global.u32 [%rd2], %r4;
  ret;
}

.visible .entry c(.param .u64 out)
{
  .reg .b32 %r<4>;
  .reg .b64 %rd<4>;
  mov.u32 %r0, %tid.x;
  {
  .param .b32 x;
  .param .b32 r;
  st.param.b32 [x], %r0;
  call (r), helper, (x);
  ld.param.b32 %r1, [r];
  }
  ld.param.u64 %rd0, [out];
  mul.wide.u32 %rd1, %r0, 4;
  add.s64 %rd2, %rd0, %rd1;
  st.global.u32 [%rd2], %r1;
  ret;
}
)";

} // namespace

/// Each kernel gets the registers, local memory and static shared memory it
/// reaches, not the module's; a caller's registers and local variables
/// survive a callee with large frames; kernels that call a common function
/// using shared memory share a layout.
TEST(EmuMemory, PerKernelRegistersAndSharedMemory) {
  Emulator emu;
  auto mod = emu.loadModule(kLayoutPtx, "layout.ptx");
  ASSERT_TRUE(mod.ok()) << mod.error().message();
  EXPECT_EQ(mod->kernel("a")->staticSharedBytes(), 4096u);
  EXPECT_EQ(mod->kernel("b")->staticSharedBytes(), 320u); // b_smem, common
  EXPECT_EQ(mod->kernel("c")->staticSharedBytes(), 320u); // b's group
  const unsigned n = 16;
  DevicePtr out = *emu.allocate(n * 4);
  struct Want {
    const char *kernel;
    uint32_t (*value)(uint32_t);
  } cases[] = {
      {"a", [](uint32_t t) { return 5 * t; }},
      {"b", [](uint32_t t) { return 3 * t + 1 + 4 * 7 * t; }},
      {"c", [](uint32_t t) { return t + 1; }},
  };
  uint64_t bytesA = 0, bytesB = 0;
  for (const Want &c : cases) {
    ASSERT_TRUE(emu.memset(out, 0xee, n * 4).ok());
    Status s = emu.launch(*mod->kernel(c.kernel), Dim3(1), Dim3(n), 0,
                          {ParamBytes::of(out)});
    ASSERT_TRUE(s.ok()) << c.kernel << ": " << s.message();
    std::vector<uint32_t> got(n);
    ASSERT_TRUE(emu.copyFromDevice(got.data(), out, n * 4).ok());
    for (uint32_t t = 0; t < n; ++t)
      EXPECT_EQ(got[t], c.value(t)) << "kernel " << c.kernel << " thread " << t;
    (std::string(c.kernel) == "a" ? bytesA : bytesB) =
        emu.lastLaunchStats().hostBytes;
  }
  // One warp: a's 8 registers and 4 KiB of shared memory (with its poison
  // byte and 24-byte race shadow per byte: 104 KiB) stay far below helper's
  // 3000 registers (32 lanes x 8 bytes x 3000 = 750 KiB) and 4000 bytes of
  // local memory per thread, which b needs.
  EXPECT_LT(bytesA, 128u * 1024) << bytesA;
  EXPECT_GT(bytesB, 750u * 1024) << bytesB;
}

/// Recursion has no register frame: a load error naming the call.
TEST(EmuMemory, RecursionIsALoadError) {
  std::string ptx = R"(.version 8.5
.target sm_90
.address_size 64
.func f()
{
  call f, ();
  ret;
}
.visible .entry k()
{
  call f, ();
  ret;
}
)";
  Emulator emu;
  auto mod = emu.loadModule(ptx, "rec.ptx");
  ASSERT_FALSE(mod.ok());
  EXPECT_EQ(mod.error().message(),
            "rec.ptx:6: recursive call of 'f' (recursion is not supported)");
}

namespace {

/// parseByteCount is the definition: digits times 1024^k for K, M, G, and
/// nothing else (no sign, no space, no other suffix, no overflow).
TEST(EmuBudget, ByteCounts) {
  uint64_t rng = 12345;
  for (int i = 0; i < 5000; ++i) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t n = rng >> (rng % 64);
    const char *suffixes[] = {"", "K", "M", "G", "k", "m", "g"};
    uint64_t shifts[] = {0, 10, 20, 30, 10, 20, 30};
    int k = int((rng >> 7) % 7);
    std::optional<uint64_t> got =
        parseByteCount(std::to_string(n) + suffixes[k]);
    if (shifts[k] && n > (UINT64_MAX >> shifts[k]))
      EXPECT_FALSE(got) << n << suffixes[k];
    else
      EXPECT_EQ(got, n << shifts[k]) << n << suffixes[k];
  }
  for (const char *bad : {"", "K", "-1", " 1", "1 ", "1T", "1KB", "0x10",
                          "18446744073709551616", "1.5G"})
    EXPECT_FALSE(parseByteCount(bad)) << bad;
  EXPECT_EQ(parseByteCount("18446744073709551615"), UINT64_MAX);
}

/// Allocations, module variables and register declarations share the
/// budget; an error leaves the device usable.
TEST(EmuBudget, AllocationsAndDeclarations) {
  EmulatorOptions opts;
  opts.maxMemory = 1 << 20;
  Emulator emu(opts);
  Expected<DevicePtr> a = emu.allocate(600 << 10);
  ASSERT_TRUE(a.ok());
  Expected<DevicePtr> b = emu.allocate(600 << 10);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message().find("with the 614400 bytes allocated before"),
            std::string::npos)
      << b.error().message();
  std::string ptx = ".version 8.5\n.target sm_90\n.address_size 64\n"
                    ".global .align 4 .b8 g[500000];\n"
                    ".visible .entry k()\n{\n\tret;\n}\n";
  Expected<Module> m = emu.loadModule(ptx, "g.ptx");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message().find("g.ptx:4: '.global' variable 'g'"),
            std::string::npos)
      << m.error().message();
  ASSERT_TRUE(emu.free(*a).ok());
  EXPECT_TRUE(emu.loadModule(ptx, "g.ptx").ok());
  std::string regs = ".version 8.5\n.target sm_90\n.address_size 64\n"
                     ".visible .entry k()\n{\n\t.reg .b32 %r<5000>;\n\tret;\n}\n";
  Expected<Module> r = emu.loadModule(regs, "r.ptx");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("r.ptx:6: '.reg %r<5000>'"),
            std::string::npos)
      << r.error().message();
}

} // namespace
