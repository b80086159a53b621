//===- SanitizerTest.cpp - One test per sanitizer report ------------------===//
//
// Each test provokes one report, checks that it names the kernel, the PTX
// line, the CTA, the thread (and the address where there is one), and then
// runs a correct kernel on the same emulator: the process and the device
// survive a report.
//
//===----------------------------------------------------------------------===//

#include "test/unit/emu/EmuTestUtil.h"

#include <algorithm>

using namespace tilus::emu;
using namespace tilus::emu::test;

namespace {

/// A kernel `k(.u64 buf)` running \p body; `%r0` = tid.x, `%rd1` = buf.
std::string kernel(const std::string &body, const std::string &prelude = "") {
  return std::string(".version 8.0\n.target sm_80\n.address_size 64\n") +
         prelude + ".visible .entry k(.param .u64 buf)\n{\n" + kRegs +
         "  mov.u32 %r0, %tid.x;\n"      // line 13
         "  ld.param.u64 %rd1, [buf];\n" // line 14
         + body + "\n  ret;\n}\n";
}

/// \p body with its placeholder \p mark (a line such as BARRIER) replaced
/// by \p text.
std::string fill(std::string body, const std::string &mark,
                 const std::string &text) {
  body.replace(body.find(mark), mark.size(), text);
  return body;
}

/// The PTX line of the first line of the body in kernel(body, prelude).
unsigned bodyLine(const std::string &prelude = "") {
  return 15 + unsigned(std::count(prelude.begin(), prelude.end(), '\n'));
}

struct Outcome {
  Status status;
  Report report;
  DevicePtr buf = 0;
};

Outcome launch(Emulator &emu, const std::string &ptx, Dim3 grid, Dim3 block,
               uint64_t bufBytes = 1024, uint32_t smem = 0) {
  auto mod = emu.loadModule(ptx, "san.ptx");
  EXPECT_TRUE(mod.ok()) << mod.error().message();
  if (!mod)
    return {mod.error(), Report(), 0};
  DevicePtr buf = *emu.allocate(bufBytes);
  std::vector<uint8_t> init(bufBytes, 1);
  EXPECT_TRUE(emu.copyToDevice(buf, init.data(), bufBytes).ok());
  Status s =
      emu.launch(*mod->kernel("k"), grid, block, smem, {ParamBytes::of(buf)});
  return {s, emu.lastReport(), buf};
}

/// The device still works after a report.
void expectSurvives(Emulator &emu) {
  std::string ok = kernel("  mul.wide.u32 %rd2, %r0, 4;\n"
                          "  add.s64 %rd3, %rd1, %rd2;\n"
                          "  st.global.u32 [%rd3], %r0;");
  Outcome o = launch(emu, ok, Dim3(1), Dim3(64), 256);
  EXPECT_TRUE(o.status.ok()) << o.status.message();
  EXPECT_EQ(o.report.kind, ReportKind::None);
}

void expectReport(const Outcome &o, ReportKind kind, unsigned line, Dim3 cta,
                  Dim3 thread, const std::string &what) {
  ASSERT_FALSE(o.status.ok());
  const std::string &m = o.status.message();
  EXPECT_EQ(o.report.kind, kind) << m;
  EXPECT_EQ(o.report.ptxLine, line) << m;
  EXPECT_EQ(o.report.kernel, "k");
  EXPECT_NE(m.find(what), std::string::npos) << m;
  EXPECT_NE(m.find("kernel 'k'"), std::string::npos) << m;
  EXPECT_NE(m.find("PTX line " + std::to_string(line)), std::string::npos) << m;
  std::string c = "CTA (" + std::to_string(cta.x) + "," +
                  std::to_string(cta.y) + "," + std::to_string(cta.z) + ")";
  std::string t = "thread (" + std::to_string(thread.x) + "," +
                  std::to_string(thread.y) + "," + std::to_string(thread.z) +
                  ")";
  EXPECT_NE(m.find(c), std::string::npos) << m;
  EXPECT_NE(m.find(t), std::string::npos) << m;
  EXPECT_EQ(o.report.message, m);
}

TEST(EmuSanitizer, GlobalOutOfBounds) {
  Emulator emu;
  // 64 threads per CTA read 4 bytes each from a 200-byte buffer: thread 50 of
  // CTA 0 is the first past the end.
  std::string body = "  mul.wide.u32 %rd2, %r0, 4;\n"
                     "  add.s64 %rd3, %rd1, %rd2;\n"
                     "  ld.global.u32 %r1, [%rd3];";
  Outcome o = launch(emu, kernel(body), Dim3(2), Dim3(64), 200);
  expectReport(o, ReportKind::OutOfBounds, bodyLine() + 2, Dim3(0, 0, 0),
               Dim3(50, 0, 0), "out-of-bounds global 4-byte read");
  EXPECT_NE(o.status.message().find("bytes past the end of the 200-byte "
                                    "allocation"),
            std::string::npos);
  EXPECT_NE(o.status.message().find("address 0x"), std::string::npos);
  EXPECT_EQ(o.report.address % 4, 0u);
  expectSurvives(emu);
}

// A device allocation has bytes up to the next multiple of 256, so an
// aligned atomic on a tensor's last byte may reach one past it (the code
// generator's atom.cas.b16 on an odd-sized packed tensor does), as long as
// it leaves that byte as it is; a plain access there is still reported.
TEST(EmuSanitizer, AtomicIntoAllocationPadding) {
  Emulator emu;
  // Byte 200 (the last of 201, initialized to 1) becomes 5; the padding
  // byte 201 reads 0 and is written back as 0.
  std::string keeps = "  setp.eq.u32 %p1, %r0, 0;\n"
                      "  mov.b16 %h1, 1;\n"
                      "  mov.b16 %h2, 5;\n"
                      "  @%p1 atom.global.cas.b16 %h3, [%rd1+200], %h1, %h2;";
  Outcome o = launch(emu, kernel(keeps), Dim3(1), Dim3(32), 201);
  ASSERT_TRUE(o.status.ok()) << o.status.message();
  uint8_t last = 0;
  ASSERT_TRUE(emu.copyFromDevice(&last, o.buf + 200, 1).ok());
  EXPECT_EQ(last, 5);

  std::string changes = "  setp.eq.u32 %p1, %r0, 3;\n"
                        "  mov.b16 %h1, 1;\n"
                        "  mov.b16 %h2, 0x0105;\n"
                        "  @%p1 atom.global.cas.b16 %h3, [%rd1+200], %h1, %h2;";
  o = launch(emu, kernel(changes), Dim3(1), Dim3(32), 201);
  expectReport(o, ReportKind::OutOfBounds, bodyLine() + 3, Dim3(0, 0, 0),
               Dim3(3, 0, 0), "changes bytes up to 1 past the end");

  std::string reads = "  setp.eq.u32 %p1, %r0, 0;\n"
                      "  @%p1 ld.global.u16 %h1, [%rd1+200];";
  o = launch(emu, kernel(reads), Dim3(1), Dim3(32), 201);
  expectReport(o, ReportKind::OutOfBounds, bodyLine() + 1, Dim3(0, 0, 0),
               Dim3(0, 0, 0), "1 bytes past the end of the 201-byte");
  expectSurvives(emu);
}

TEST(EmuSanitizer, NullPointer) {
  Emulator emu;
  Outcome o = launch(emu,
                     kernel("  mov.u64 %rd2, 0;\n"
                            "  st.global.u32 [%rd2+8], %r0;"),
                     Dim3(1), Dim3(32));
  expectReport(o, ReportKind::OutOfBounds, bodyLine() + 1, Dim3(0, 0, 0),
               Dim3(0, 0, 0), "null pointer");
  expectSurvives(emu);
}

TEST(EmuSanitizer, MisalignedGlobal) {
  Emulator emu;
  Outcome o = launch(emu,
                     kernel("  setp.eq.u32 %p1, %r0, 7;\n"
                            "  @%p1 ld.global.u32 %r1, [%rd1+2];"),
                     Dim3(1), Dim3(32));
  expectReport(o, ReportKind::Misaligned, bodyLine() + 1, Dim3(0, 0, 0),
               Dim3(7, 0, 0), "misaligned global 4-byte read");
  expectSurvives(emu);
}

TEST(EmuSanitizer, SharedOutOfBoundsAndMisaligned) {
  Emulator emu;
  std::string prelude = ".shared .align 16 .b8 sm[256];\n";
  // Thread 16 of a 2-D block (8x4) writes at offset 256.
  Outcome o = launch(emu,
                     kernel("  mov.u32 %r1, %tid.y;\n"
                            "  mov.u32 %r2, %ntid.x;\n"
                            "  mad.lo.u32 %r3, %r1, %r2, %r0;\n"
                            "  shl.b32 %r4, %r3, 4;\n"
                            "  mov.u32 %r5, sm;\n"
                            "  add.u32 %r6, %r5, %r4;\n"
                            "  st.shared.v4.u32 [%r6], {%r0, %r0, %r0, %r0};",
                            prelude),
                     Dim3(3, 2), Dim3(8, 4));
  expectReport(o, ReportKind::OutOfBounds, bodyLine(prelude) + 6, Dim3(0, 0, 0),
               Dim3(0, 2, 0), "out-of-bounds shared 16-byte write");
  expectSurvives(emu);

  o = launch(emu,
             kernel("  mov.u32 %r5, sm;\n"
                    "  ld.shared.v2.u32 {%r1, %r2}, [%r5+4];",
                    prelude),
             Dim3(1), Dim3(32));
  expectReport(o, ReportKind::Misaligned, bodyLine(prelude) + 1, Dim3(0, 0, 0),
               Dim3(0, 0, 0), "misaligned shared 8-byte read");
  expectSurvives(emu);
}

TEST(EmuSanitizer, LocalOutOfBounds) {
  Emulator emu;
  Outcome o = launch(emu,
                     kernel("  .local .align 4 .b8 depot[16];\n"
                            "  mov.u64 %rd2, depot;\n"
                            "  shl.b32 %r1, %r0, 2;\n"
                            "  cvt.u64.u32 %rd3, %r1;\n"
                            "  add.s64 %rd4, %rd2, %rd3;\n"
                            "  st.local.u32 [%rd4], %r0;"),
                     Dim3(1), Dim3(32));
  expectReport(o, ReportKind::OutOfBounds, bodyLine() + 5, Dim3(0, 0, 0),
               Dim3(4, 0, 0), "out-of-bounds local 4-byte write");
  expectSurvives(emu);
}

TEST(EmuSanitizer, SharedRace) {
  Emulator emu;
  std::string prelude = ".shared .align 4 .b32 slot[64];\n";
  // Every thread writes its slot; then (without a barrier) reads the slot
  // of the thread 32 ahead, which another warp writes.
  std::string body = "  mov.u32 %r1, slot;\n"
                     "  shl.b32 %r2, %r0, 2;\n"
                     "  add.u32 %r3, %r1, %r2;\n"
                     "  st.shared.u32 [%r3], %r0;\n"
                     "  xor.b32 %r4, %r2, 128;\n"
                     "  add.u32 %r5, %r1, %r4;\n"
                     "  BARRIER\n"
                     "  ld.shared.u32 %r6, [%r5];\n"
                     "  mul.wide.u32 %rd2, %r0, 4;\n"
                     "  add.s64 %rd3, %rd1, %rd2;\n"
                     "  st.global.u32 [%rd3], %r6;";
  std::string racy = fill(body, "BARRIER", "// no barrier");
  Outcome o = launch(emu, kernel(racy, prelude), Dim3(1), Dim3(64));
  expectReport(o, ReportKind::SharedRace, bodyLine(prelude) + 7, Dim3(0, 0, 0),
               Dim3(0, 0, 0), "shared-memory race");
  EXPECT_NE(o.status.message().find("after a write by warp 1"),
            std::string::npos)
      << o.status.message();
  expectSurvives(emu);
  // Whatever the order of the warps, the race is found.
  for (uint64_t seed : {1, 2, 3}) {
    EmulatorOptions opts;
    opts.scheduleSeed = seed;
    Emulator shuffled(opts);
    Outcome r = launch(shuffled, kernel(racy, prelude), Dim3(1), Dim3(64));
    EXPECT_EQ(r.report.kind, ReportKind::SharedRace) << "seed " << seed;
  }
  // The same kernel with the barrier is clean and exchanges the halves.
  o = launch(emu, kernel(fill(body, "BARRIER", "bar.sync 0;"), prelude),
             Dim3(1), Dim3(64));
  EXPECT_TRUE(o.status.ok()) << o.status.message();
}

/// RaceCheck::Report runs the racy exchange above to its end, fails it with
/// the hazard listed once (both lines, warps, bytes, count) and leaves the
/// results in memory; RaceCheck::Off runs it clean.
TEST(EmuSanitizer, SharedRaceReportAndOff) {
  std::string prelude = ".shared .align 4 .b32 slot[64];\n";
  std::string body = "  mov.u32 %r1, slot;\n"
                     "  shl.b32 %r2, %r0, 2;\n"
                     "  add.u32 %r3, %r1, %r2;\n"
                     "  st.shared.u32 [%r3], %r0;\n"
                     "  xor.b32 %r4, %r2, 128;\n"
                     "  add.u32 %r5, %r1, %r4;\n"
                     "  ld.shared.u32 %r6, [%r5];\n"
                     "  mul.wide.u32 %rd2, %r0, 4;\n"
                     "  add.s64 %rd3, %rd1, %rd2;\n"
                     "  st.global.u32 [%rd3], %r6;";
  unsigned st = bodyLine(prelude) + 3, ld = bodyLine(prelude) + 6;
  for (RaceCheck mode : {RaceCheck::Report, RaceCheck::Off}) {
    EmulatorOptions opts;
    opts.raceCheck = mode;
    Emulator emu(opts);
    Outcome o = launch(emu, kernel(body, prelude), Dim3(1), Dim3(64), 256);
    if (mode == RaceCheck::Report) {
      ASSERT_FALSE(o.status.ok());
      const std::string &m = o.status.message();
      EXPECT_EQ(o.report.kind, ReportKind::SharedRace);
      EXPECT_TRUE(o.report.completed);
      EXPECT_EQ(o.report.hazards, 1u) << m;
      EXPECT_EQ(o.report.ptxLine, ld);
      EXPECT_NE(m.find("1 distinct shared-memory hazard in kernel 'k'"),
                std::string::npos)
          << m;
      std::string pair = "RAW: read at PTX line " + std::to_string(ld) +
                         " (san.ptx:" + std::to_string(ld) +
                         ") by warp 0 after a write at PTX line " +
                         std::to_string(st) +
                         " (san.ptx:" + std::to_string(st) + ") by warp 1";
      EXPECT_NE(m.find(pair), std::string::npos) << m;
      EXPECT_NE(m.find("shared bytes 0 to 255, 64 times"), std::string::npos)
          << m;
    } else {
      EXPECT_TRUE(o.status.ok()) << o.status.message();
    }
    std::vector<uint32_t> out(64);
    ASSERT_TRUE(emu.copyFromDevice(out.data(), o.buf, 256).ok());
    for (uint32_t t = 0; t < 64; ++t)
      EXPECT_EQ(out[t], t ^ 32) << "thread " << t;
    expectSurvives(emu);
  }
}

/// Lanes of one warp are threads: a lane's access to a byte another lane of
/// the warp wrote (or read) in another instruction races unless a barrier
/// or a bar.warp.sync of the warp comes between. The lanes of one
/// instruction are one access (a replicated store of equal values).
TEST(EmuSanitizer, SharedRaceBetweenLanes) {
  std::string prelude = ".shared .align 4 .b32 slot[32];\n";
  // Lane t writes slot t, then reads slot t ^ 1: its neighbour's.
  std::string body = "  mov.u32 %r1, slot;\n"
                     "  shl.b32 %r2, %r0, 2;\n"
                     "  add.u32 %r3, %r1, %r2;\n"
                     "  st.shared.u32 [%r3], %r0;\n"
                     "  xor.b32 %r4, %r2, 4;\n"
                     "  add.u32 %r5, %r1, %r4;\n"
                     "  SYNC\n"
                     "  ld.shared.u32 %r6, [%r5];\n"
                     "  mul.wide.u32 %rd2, %r0, 4;\n"
                     "  add.s64 %rd3, %rd1, %rd2;\n"
                     "  st.global.u32 [%rd3], %r6;";
  auto with = [&](const std::string &sync) {
    return kernel(fill(body, "SYNC", sync), prelude);
  };
  Emulator emu;
  Outcome o = launch(emu, with("// no sync"), Dim3(1), Dim3(32), 128);
  expectReport(o, ReportKind::SharedRace, bodyLine(prelude) + 7, Dim3(0, 0, 0),
               Dim3(0, 0, 0),
               "shared-memory race: read of offset 4 by warp 0 after a write "
               "by lane 1 of the same warp with no barrier or bar.warp.sync "
               "between");
  expectSurvives(emu);
  for (const char *sync : {"bar.warp.sync -1;", "bar.sync 0;"}) {
    o = launch(emu, with(sync), Dim3(1), Dim3(32), 128);
    ASSERT_TRUE(o.status.ok()) << sync << ": " << o.status.message();
    std::vector<uint32_t> out(32);
    ASSERT_TRUE(emu.copyFromDevice(out.data(), o.buf, 128).ok());
    for (uint32_t t = 0; t < 32; ++t)
      EXPECT_EQ(out[t], t ^ 1) << sync << ", thread " << t;
  }

  // Every lane stores 7 to slot 0 in one instruction (no race), reads it
  // (no race: after a bar.warp.sync), then lane 5 overwrites it: the reads
  // of the other lanes are unordered with that write.
  std::string broadcast = "  mov.u32 %r1, slot;\n"
                          "  mov.u32 %r2, 7;\n"
                          "  st.shared.u32 [%r1], %r2;\n"
                          "  bar.warp.sync -1;\n"
                          "  ld.shared.u32 %r6, [%r1];\n"
                          "  setp.eq.u32 %p1, %r0, 5;\n"
                          "  SYNC\n"
                          "  @%p1 st.shared.u32 [%r1], %r0;";
  auto overwrite = [&](const std::string &sync) {
    return kernel(fill(broadcast, "SYNC", sync), prelude);
  };
  o = launch(emu, overwrite("// no sync"), Dim3(1), Dim3(32), 128);
  expectReport(o, ReportKind::SharedRace, bodyLine(prelude) + 7, Dim3(0, 0, 0),
               Dim3(5, 0, 0),
               "write of offset 0 by warp 0 after a read by other lanes of the "
               "same warp with no barrier or bar.warp.sync between");
  o = launch(emu, overwrite("bar.warp.sync -1;"), Dim3(1), Dim3(32), 128);
  EXPECT_TRUE(o.status.ok()) << o.status.message();

  // RaceCheck::Report lists the lane race once, with both lines.
  EmulatorOptions opts;
  opts.raceCheck = RaceCheck::Report;
  Emulator reporting(opts);
  o = launch(reporting, with("// no sync"), Dim3(1), Dim3(32), 128);
  ASSERT_FALSE(o.status.ok());
  unsigned st = bodyLine(prelude) + 3, ld = bodyLine(prelude) + 7;
  std::string pair = "RAW: read at PTX line " + std::to_string(ld) +
                     " (san.ptx:" + std::to_string(ld) +
                     ") by warp 0 after a write at PTX line " +
                     std::to_string(st) + " (san.ptx:" + std::to_string(st) +
                     ") by lane 1 of the same warp with no barrier or "
                     "bar.warp.sync between";
  EXPECT_EQ(o.report.hazards, 1u) << o.status.message();
  EXPECT_NE(o.status.message().find(pair), std::string::npos)
      << o.status.message();
  EXPECT_NE(o.status.message().find("shared bytes 0 to 127, 32 times"),
            std::string::npos)
      << o.status.message();
}

TEST(EmuSanitizer, CpAsyncReadBeforeWait) {
  Emulator emu;
  std::string prelude = ".shared .align 16 .b8 stage[1024];\n";
  std::string body = "  mov.u32 %r1, stage;\n"
                     "  shl.b32 %r2, %r0, 4;\n"
                     "  add.u32 %r3, %r1, %r2;\n"
                     "  cvt.u64.u32 %rd2, %r2;\n"
                     "  add.s64 %rd3, %rd1, %rd2;\n"
                     "  cp.async.cg.shared.global [%r3], [%rd3], 16;\n"
                     "  cp.async.commit_group;\n"
                     "  WAIT\n"
                     "  ld.shared.u32 %r4, [%r3+4];";
  Outcome o = launch(emu, kernel(fill(body, "WAIT", "// no wait"), prelude),
                     Dim3(1), Dim3(32));
  expectReport(o, ReportKind::CpAsyncUnwaited, bodyLine(prelude) + 8,
               Dim3(0, 0, 0), Dim3(0, 0, 0), "before the cp.async.wait_group");
  expectSurvives(emu);
  o = launch(emu, kernel(fill(body, "WAIT", "cp.async.wait_group 0;"), prelude),
             Dim3(1), Dim3(32));
  EXPECT_TRUE(o.status.ok()) << o.status.message();
}

TEST(EmuSanitizer, PartialWarpMma) {
  Emulator emu;
  std::string body = "  .reg .b32 %a<4>;\n"
                     "  mov.u32 %a0, 0;\n"
                     "  setp.lt.u32 %p1, %r0, 20;\n"
                     "  @%p1 mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                     "{%f0, %f1, %f2, %f3}, {%a0, %a0, %a0, %a0}, {%a0, %a0}, "
                     "{%f0, %f1, %f2, %f3};";
  Outcome o = launch(emu, kernel(body), Dim3(1), Dim3(64));
  expectReport(o, ReportKind::PartialWarp, bodyLine() + 3, Dim3(0, 0, 0),
               Dim3(20, 0, 0), "mma.sync.aligned executed by part of a warp");
  expectSurvives(emu);
}

TEST(EmuSanitizer, AlignedFromTwoPaths) {
  Emulator emu;
  // Lane 0 reaches the mma along its own path (it may leave, so the paths
  // meet only at the exit): the warp executes it together, once.
  std::string body = "  .reg .b32 %a<4>;\n"
                     "  mov.u32 %a0, 0x3c003c00;\n"
                     "  mov.f32 %f0, 0f3F800000;\n"
                     "  mov.f32 %f1, 0f00000000;\n"
                     "  mov.f32 %f2, 0f00000000;\n"
                     "  mov.f32 %f3, 0f00000000;\n"
                     "  setp.ne.u32 %p1, %r0, 0;\n"
                     "  @%p1 bra REST;\n"
                     "  setp.eq.u32 %p2, %r0, LEAVER;\n"
                     "  @%p2 bra DONE;\n"
                     "REST:\n"
                     "  mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                     "{%f0, %f1, %f2, %f3}, {%a0, %a0, %a0, %a0}, {%a0, %a0}, "
                     "{%f0, %f1, %f2, %f3};\n"
                     "  mul.wide.u32 %rd2, %r0, 4;\n"
                     "  add.s64 %rd3, %rd1, %rd2;\n"
                     "  st.global.f32 [%rd3], %f0;\n"
                     "DONE:";
  Outcome o =
      launch(emu, kernel(fill(body, "LEAVER", "77")), Dim3(1), Dim3(32));
  ASSERT_TRUE(o.status.ok()) << o.status.message();
  float got[32];
  ASSERT_TRUE(emu.copyFromDevice(got, o.buf, sizeof(got)).ok());
  // A row of ones times a column of ones over k = 16, plus c = 1.
  for (int l = 0; l < 32; ++l)
    EXPECT_EQ(got[l], 17.0f) << "lane " << l;
  // Lane 0 leaves instead: the others can never run it with the whole warp.
  o = launch(emu, kernel(fill(body, "LEAVER", "0")), Dim3(1), Dim3(32));
  expectReport(o, ReportKind::PartialWarp, bodyLine() + 11, Dim3(0, 0, 0),
               Dim3(0, 0, 0), "mma.sync.aligned executed by part of a warp");
  expectSurvives(emu);
}

TEST(EmuSanitizer, DivergentBarrier) {
  Emulator emu;
  // Lanes that returned early count as arrived: no report.
  Outcome early = launch(emu,
                         kernel("  setp.lt.u32 %p1, %r0, 8;\n"
                                "  @%p1 bra DONE;\n"
                                "  bar.sync 0;\n"
                                "DONE:"),
                         Dim3(1), Dim3(64));
  EXPECT_TRUE(early.status.ok()) << early.status.message();
  // Lanes that skip the barrier, do other work and exit: the waiting lanes
  // let them run (independent thread scheduling), then they count as
  // arrived.
  Outcome skip = launch(emu,
                        kernel("  setp.lt.u32 %p1, %r0, 8;\n"
                               "  @%p1 bra SKIP;\n"
                               "  bar.sync 0;\n"
                               "SKIP:\n"
                               "  add.u32 %r1, %r0, 1;"),
                        Dim3(1), Dim3(32));
  EXPECT_TRUE(skip.status.ok()) << skip.status.message();
  // Lanes of one warp at two different aligned barriers: each part waits
  // for the other (a GPU hangs), named with both lines.
  std::string body = "  setp.lt.u32 %p1, %r0, 8;\n"
                     "  @%p1 bra SKIP;\n"
                     "  bar.sync 0;\n"
                     "  bra.uni DONE;\n"
                     "SKIP:\n"
                     "  bar.sync 0;\n"
                     "DONE:";
  Outcome o = launch(emu, kernel(body), Dim3(1), Dim3(32));
  expectReport(o, ReportKind::PartialWarp, bodyLine() + 5, Dim3(0, 0, 0),
               Dim3(0, 0, 0),
               "aligned barrier (bar.sync, barrier.sync.aligned) reached by "
               "part of a warp (lanes 0x000000ff) while lanes 0xffffff00 "
               "never get there (lane 8, which waits at an aligned barrier at "
               "PTX line " +
                   std::to_string(bodyLine() + 2));
  expectSurvives(emu);
  // Non-aligned barriers let them arrive apart: lanes waiting at two
  // different barriers are a barrier deadlock.
  std::string apart = body;
  for (size_t at; (at = apart.find("bar.sync 0")) != std::string::npos;)
    apart.replace(at, 10, "barrier.sync 0");
  apart.replace(apart.rfind("barrier.sync 0"), 14, "barrier.sync 1");
  o = launch(emu, kernel(apart), Dim3(1), Dim3(32));
  ASSERT_FALSE(o.status.ok());
  EXPECT_EQ(o.report.kind, ReportKind::BarrierDeadlock);
  EXPECT_NE(o.status.message().find("of 32 threads arrived"), std::string::npos)
      << o.status.message();
  expectSurvives(emu);
}

TEST(EmuSanitizer, WrongMemberMask) {
  Emulator emu;
  Outcome o =
      launch(emu, kernel("  shfl.sync.bfly.b32 %r1, %r0, 1, 31, 0xffff;"),
             Dim3(1), Dim3(32));
  expectReport(o, ReportKind::WrongMemberMask, bodyLine(), Dim3(0, 0, 0),
               Dim3(16, 0, 0), "shfl.sync with a wrong member mask");
  expectSurvives(emu);
  // A full mask after some lanes have exited is correct: exited lanes are
  // not waited for.
  o = launch(emu,
             kernel("  setp.ge.u32 %p1, %r0, 20;\n"
                    "  @%p1 exit;\n"
                    "  shfl.sync.bfly.b32 %r1, %r0, 1, 31, -1;"),
             Dim3(1), Dim3(32));
  EXPECT_TRUE(o.status.ok()) << o.status.message();
  // ... and so is a full mask while lanes wait at the kernel's exit, as
  // after `if (i >= n) return;` compiled to a branch to the final ret.
  o = launch(emu,
             kernel("  setp.ge.u32 %p1, %r0, 20;\n"
                    "  @%p1 bra DONE;\n"
                    "  shfl.sync.bfly.b32 %r1, %r0, 1, 31, -1;\n"
                    "  mul.wide.u32 %rd2, %r0, 4;\n"
                    "  add.s64 %rd3, %rd1, %rd2;\n"
                    "  st.global.u32 [%rd3], %r1;\n"
                    "DONE:"),
             Dim3(1), Dim3(32));
  EXPECT_TRUE(o.status.ok()) << o.status.message();
  uint32_t got[20];
  ASSERT_TRUE(emu.copyFromDevice(got, o.buf, sizeof(got)).ok());
  for (uint32_t t = 0; t < 20; ++t)
    EXPECT_EQ(got[t], t ^ 1u);
  // Lanes of the member mask at collectives that never match (other
  // qualifiers) wait for each other: an error naming both lines.
  std::string body = "  setp.eq.u32 %p1, %r0, 0;\n"
                     "  @%p1 bra ZERO;\n"
                     "  vote.sync.all.pred %p2, %p1, -1;\n"
                     "  bra.uni DONE;\n"
                     "ZERO:\n"
                     "  vote.sync.any.pred %p2, %p1, -1;\n"
                     "DONE:";
  o = launch(emu, kernel(body), Dim3(1), Dim3(32));
  expectReport(o, ReportKind::WrongMemberMask, bodyLine() + 5, Dim3(0, 0, 0),
               Dim3(0, 0, 0),
               "vote.sync with member mask 0xffffffff waits for lanes "
               "0xfffffffe that never execute a matching collective (lane 1, "
               "which waits at vote.sync at PTX line " +
                   std::to_string(bodyLine() + 2));
  expectSurvives(emu);
  // Lanes naming different masks in one instruction (logical warps of 16
  // lanes) run one collective per mask, also when the lanes of one mask
  // arrive along two paths.
  for (const char *split : {"0", "24"}) {
    o = launch(emu,
               kernel(std::string("  setp.lt.u32 %p1, %r0, 16;\n"
                                  "  selp.b32 %r2, 0xffff, 0xffff0000, %p1;\n"
                                  "  setp.lt.u32 %p2, %r0, ") +
                      split +
                      ";\n"
                      "  @%p2 bra LOW;\n"
                      "  shfl.sync.bfly.b32 %r1, %r0, 2, 31, %r2;\n"
                      "  bra.uni DONE;\n"
                      "LOW:\n"
                      "  shfl.sync.bfly.b32 %r1, %r0, 2, 31, %r2;\n"
                      "DONE:\n"
                      "  mul.wide.u32 %rd2, %r0, 4;\n"
                      "  add.s64 %rd3, %rd1, %rd2;\n"
                      "  st.global.u32 [%rd3], %r1;"),
               Dim3(1), Dim3(32));
    ASSERT_TRUE(o.status.ok()) << o.status.message();
    uint32_t lanes[32];
    ASSERT_TRUE(emu.copyFromDevice(lanes, o.buf, sizeof(lanes)).ok());
    for (uint32_t t = 0; t < 32; ++t)
      EXPECT_EQ(lanes[t], t ^ 2u) << "split at " << split;
  }
  // A mask naming exactly the lanes of a divergent branch is correct.
  o = launch(emu,
             kernel("  setp.lt.u32 %p1, %r0, 16;\n"
                    "  @!%p1 bra SKIP;\n"
                    "  shfl.sync.bfly.b32 %r1, %r0, 1, 31, 0xffff;\n"
                    "SKIP:"),
             Dim3(1), Dim3(32));
  EXPECT_TRUE(o.status.ok()) << o.status.message();
}

TEST(EmuSanitizer, BarrierDeadlock) {
  Emulator emu;
  Outcome o = launch(emu,
                     kernel("  setp.lt.u32 %p1, %r0, 32;\n"
                            "  @%p1 bra FIRST;\n"
                            "  bar.sync 1;\n"
                            "  bra.uni DONE;\n"
                            "FIRST:\n"
                            "  bar.sync 0;\n"
                            "DONE:"),
                     Dim3(1), Dim3(64));
  ASSERT_FALSE(o.status.ok());
  EXPECT_EQ(o.report.kind, ReportKind::BarrierDeadlock);
  EXPECT_NE(o.status.message().find("barrier deadlock"), std::string::npos);
  expectSurvives(emu);
}

TEST(EmuSanitizer, AssertAndTrap) {
  Emulator emu;
  std::string prelude = R"(
.extern .func __assertfail
(
	.param .b64 __assertfail_param_0,
	.param .b64 __assertfail_param_1,
	.param .b32 __assertfail_param_2,
	.param .b64 __assertfail_param_3,
	.param .b64 __assertfail_param_4
)
;
.global .align 1 .b8 $msg[6] = {120, 32, 62, 32, 48, 0};
.global .align 1 .b8 $file[5] = {97, 46, 99, 117, 0};
.global .align 1 .b8 $fn[2] = {107, 0};
)";
  std::string body = R"(
  setp.ne.u32 %p1, %r0, 3;
  @%p1 bra OK;
  mov.u64 %rd2, $msg;
  cvta.global.u64 %rd3, %rd2;
  mov.u64 %rd4, $file;
  cvta.global.u64 %rd5, %rd4;
  mov.u64 %rd6, $fn;
  cvta.global.u64 %rd7, %rd6;
  { // callseq
  .param .b64 param0;
  st.param.b64 [param0+0], %rd3;
  .param .b64 param1;
  st.param.b64 [param1+0], %rd5;
  .param .b32 param2;
  st.param.b32 [param2+0], 42;
  .param .b64 param3;
  st.param.b64 [param3+0], %rd7;
  .param .b64 param4;
  st.param.b64 [param4+0], 1;
  call.uni __assertfail, (param0, param1, param2, param3, param4);
  }
OK:)";
  Outcome o = launch(emu, kernel(body, prelude), Dim3(1), Dim3(32));
  ASSERT_FALSE(o.status.ok());
  EXPECT_EQ(o.report.kind, ReportKind::Assertion);
  EXPECT_NE(o.status.message().find("assertion 'x > 0' failed at a.cu:42 in k"),
            std::string::npos)
      << o.status.message();
  EXPECT_NE(o.status.message().find("thread (3,0,0)"), std::string::npos);
  expectSurvives(emu);

  o = launch(emu, kernel("  trap;"), Dim3(1), Dim3(32));
  EXPECT_EQ(o.report.kind, ReportKind::Trap);
  expectSurvives(emu);
}

/// Shared memory starts with random bytes, never zeros.
TEST(EmuSanitizer, SharedMemoryStartsRandom) {
  Emulator emu;
  std::string prelude = ".shared .align 16 .b8 sm[512];\n";
  Outcome o = launch(emu,
                     kernel("  mov.u32 %r1, sm;\n"
                            "  shl.b32 %r2, %r0, 4;\n"
                            "  add.u32 %r3, %r1, %r2;\n"
                            "  ld.shared.v4.u32 {%r4, %r5, %r6, %r7}, [%r3];\n"
                            "  cvt.u64.u32 %rd2, %r2;\n"
                            "  add.s64 %rd3, %rd1, %rd2;\n"
                            "  st.global.v4.u32 [%rd3], {%r4, %r5, %r6, %r7};",
                            prelude),
                     Dim3(1), Dim3(32), 512);
  ASSERT_TRUE(o.status.ok()) << o.status.message();
  std::vector<uint8_t> got(512);
  ASSERT_TRUE(emu.copyFromDevice(got.data(), o.buf, 512).ok());
  unsigned zeros = 0, ones = 0;
  for (uint8_t b : got) {
    zeros += b == 0;
    ones += b == 1; // the buffer's initial bytes
  }
  EXPECT_LT(zeros, 16u);
  EXPECT_LT(ones, 16u);
}

/// An endless loop stops at the instruction limit, when one is set.
TEST(EmuSanitizer, InstructionLimit) {
  EmulatorOptions opts;
  opts.maxWarpInstructions = 100000;
  Emulator emu(opts);
  Outcome o = launch(emu, kernel("SPIN:\n  add.u32 %r1, %r1, 1;\n  bra SPIN;"),
                     Dim3(1), Dim3(64));
  ASSERT_FALSE(o.status.ok());
  EXPECT_NE(o.status.message().find("exceeded the limit of 100000 "
                                    "warp-instructions"),
            std::string::npos)
      << o.status.message();
  expectSurvives(emu);
}

} // namespace

/// The race-check mode defaults to $TILUS_EMU_RACECHECK, else stop; an
/// unknown value leaves the default.
TEST(EmuSanitizer, RaceCheckFromEnvironment) {
  const char *saved = std::getenv("TILUS_EMU_RACECHECK");
  std::string keep = saved ? saved : "";
  struct Case {
    const char *value;
    RaceCheck want;
  } cases[] = {{"off", RaceCheck::Off},
               {"report", RaceCheck::Report},
               {"stop", RaceCheck::Stop},
               {"sometimes", RaceCheck::Stop},
               {nullptr, RaceCheck::Stop}};
  for (const Case &c : cases) {
    if (c.value)
      ::setenv("TILUS_EMU_RACECHECK", c.value, 1);
    else
      ::unsetenv("TILUS_EMU_RACECHECK");
    EXPECT_EQ(EmulatorOptions().raceCheck, c.want)
        << (c.value ? c.value : "(unset)");
  }
  if (saved)
    ::setenv("TILUS_EMU_RACECHECK", keep.c_str(), 1);
  else
    ::unsetenv("TILUS_EMU_RACECHECK");
  EXPECT_EQ(parseRaceCheck("report"), RaceCheck::Report);
  EXPECT_FALSE(parseRaceCheck("Report").has_value());
  EXPECT_STREQ(raceCheckName(RaceCheck::Off), "off");
}
