//===- AsyncHazardTest.cpp - The race detector on TMA and wgmma -----------===//
//
// One kernel per hazard of the asynchronous units (runtime/emu/
// AsyncHazards.cpp), each checked for its report under racecheck=stop (kind,
// PTX line, thread, what the message names) and under report (the launch
// completes, the hazard is listed once with its count), and silent under
// off; and one kernel per legal pattern that must not report, with every
// output element compared against a host reference on random inputs:
// a bulk copy read after try_wait.parity (by every thread, or by one thread
// and then the CTA after a barrier; a swizzled TMA box), chained wgmma on
// one accumulator (in one group, and across two: then only wait_group 0
// frees it), and wait_group 1 with two groups in flight reading only the
// older group's registers.
//
//===----------------------------------------------------------------------===//

#include "test/unit/emu/EmuTestUtil.h"

#include "runtime/emu/TensorMap.h"

#include <algorithm>

using namespace tilus::emu;
using namespace tilus::emu::test;

namespace {

const char *kHeader = ".version 8.5\n.target sm_90a\n.address_size 64\n";

/// The 1-based line of the first line of \p ptx that contains \p needle.
unsigned lineOf(const std::string &ptx, const std::string &needle) {
  size_t at = ptx.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return 1 + unsigned(std::count(ptx.begin(), ptx.begin() + long(at), '\n'));
}

EmulatorOptions withRaceCheck(RaceCheck mode) {
  EmulatorOptions o;
  o.raceCheck = mode;
  return o;
}

struct Outcome {
  Status status;
  Report report;
  std::vector<uint8_t> out;
};

Outcome run(const std::string &ptx, const std::vector<ParamBytes> &tail,
            const std::vector<uint8_t> &in, size_t outBytes, unsigned threads,
            RaceCheck mode) {
  Emulator emu(withRaceCheck(mode));
  Outcome r;
  auto mod = emu.loadModule(ptx, "hazard.ptx");
  EXPECT_TRUE(mod.ok()) << mod.error().message() << "\n" << ptx;
  if (!mod)
    return r;
  DevicePtr din = *emu.allocate(in.size());
  DevicePtr dout = *emu.allocate(outBytes);
  EXPECT_TRUE(emu.copyToDevice(din, in.data(), in.size()).ok());
  EXPECT_TRUE(emu.memset(dout, 0, outBytes).ok());
  std::vector<ParamBytes> params = {ParamBytes::of(din), ParamBytes::of(dout)};
  params.insert(params.end(), tail.begin(), tail.end());
  r.status = emu.launch(*mod->kernel("k"), Dim3(1), Dim3(threads), 0, params);
  r.report = emu.lastReport();
  r.out.resize(outBytes);
  EXPECT_TRUE(emu.copyFromDevice(r.out.data(), dout, outBytes).ok());
  return r;
}

void expectHazard(const Outcome &o, unsigned line, Dim3 thread,
                  const std::vector<std::string> &says) {
  ASSERT_FALSE(o.status.ok());
  EXPECT_EQ(o.report.kind, ReportKind::AsyncHazard) << o.status.message();
  EXPECT_EQ(o.report.ptxLine, line) << o.status.message();
  EXPECT_EQ(o.report.thread.x, thread.x) << o.status.message();
  for (const std::string &s : says)
    EXPECT_NE(o.status.message().find(s), std::string::npos)
        << "missing '" << s << "' in: " << o.status.message();
}

// ---------------------------------------------------------------------------
// Bulk copies
// ---------------------------------------------------------------------------

/// Thread 0 copies 1024 bytes of in into buf (shared offset 128) with
/// cp.async.bulk on mbarrier bar (offset 0; the arrive.expect_tx first
/// unless \p copyFirst), then \p wait runs, then thread t reads word t of
/// buf (the line with "READ") and writes it to out.
std::string bulkKernel(const std::string &wait, bool copyFirst = false) {
  std::string arrive =
      "  @%p1 mbarrier.arrive.expect_tx.shared::cta.b64 %rd3, [%r2], 1024;\n";
  std::string copy = "  @%p1 cp.async.bulk.shared::cluster.global.mbarrier::"
                     "complete_tx::bytes [%r3], [%rd1], 1024, [%r2];\n";
  return std::string(kHeader) +
         ".visible .entry k(.param .u64 k_in, .param .u64 k_out)\n{\n" + kRegs +
         "  .shared .align 8 .b64 bar;\n"
         "  .shared .align 128 .b8 buf[1024];\n"
         "  mov.u32 %r0, %tid.x;\n"
         "  ld.param.u64 %rd1, [k_in];\n"
         "  ld.param.u64 %rd2, [k_out];\n"
         "  mov.u32 %r2, bar;\n"
         "  mov.u32 %r3, buf;\n"
         "  setp.eq.u32 %p1, %r0, 0;\n"
         "  @%p1 mbarrier.init.shared::cta.b64 [%r2], 1;\n"
         "  bar.sync 0;\n" +
         (copyFirst ? copy + arrive : arrive + copy) + wait +
         "\n  shl.b32 %r4, %r0, 2;\n"
         "  add.u32 %r5, %r3, %r4;\n"
         "  ld.shared.u32 %r6, [%r5]; // READ\n"
         "  mul.wide.u32 %rd4, %r0, 4;\n"
         "  add.s64 %rd5, %rd2, %rd4;\n"
         "  st.global.u32 [%rd5], %r6;\n"
         "  ret;\n}\n";
}

const char *kEveryThreadWaits = R"(WAIT:
  mbarrier.try_wait.parity.shared::cta.b64 %p2, [%r2], 0;
  @!%p2 bra WAIT;)";

std::vector<uint8_t> randomWords(unsigned n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<uint32_t> v(n);
  for (uint32_t &x : v)
    x = rng() | 1; // never zero
  return toBytes(v);
}

void expectCopied(const Outcome &o, const std::vector<uint8_t> &in) {
  ASSERT_TRUE(o.status.ok()) << o.status.message();
  for (unsigned t = 0; t < 256; ++t)
    ASSERT_EQ(readAt<uint32_t>(o.out, t), readAt<uint32_t>(in, t))
        << "thread " << t;
}

} // namespace

// Legal: every thread reads the destination after its own successful
// try_wait.parity on the copy's phase.
TEST(EmuAsyncHazard, BulkReadAfterTryWaitParity) {
  std::vector<uint8_t> in = randomWords(256, 1);
  for (RaceCheck mode : {RaceCheck::Stop, RaceCheck::Report})
    expectCopied(run(bulkKernel(kEveryThreadWaits), {}, in, 1024, 256, mode),
                 in);
  // The copy issued before the arrive completes the phase at the arrive.
  expectCopied(run(bulkKernel(kEveryThreadWaits, true), {}, in, 1024, 256,
                   RaceCheck::Stop),
               in);
}

// Legal: one thread observes the phase, then a barrier orders the CTA.
TEST(EmuAsyncHazard, BulkReadAfterOneWaitAndABarrier) {
  std::vector<uint8_t> in = randomWords(256, 2);
  std::string wait = R"(  @!%p1 bra WAITED;
WAIT:
  mbarrier.try_wait.parity.shared::cta.b64 %p2, [%r2], 0;
  @!%p2 bra WAIT;
WAITED:
  barrier.sync 0;)";
  expectCopied(run(bulkKernel(wait), {}, in, 1024, 256, RaceCheck::Stop), in);
}

// The issuing thread reads its own destination without waiting: the phase
// is complete (the arrive came first) but the thread has not observed it.
TEST(EmuAsyncHazard, BulkReadByTheIssuingThreadWithoutWait) {
  std::string ptx = bulkKernel("");
  std::vector<uint8_t> in = randomWords(256, 3);
  Outcome o = run(ptx, {}, in, 1024, 32, RaceCheck::Stop);
  expectHazard(o, lineOf(ptx, "READ"), Dim3(0, 0, 0),
               {"bulk-copy hazard: read of shared byte",
                "the cp.async.bulk at PTX line " +
                    std::to_string(lineOf(ptx, "cp.async.bulk")),
                "by warp 0", "mbarrier at shared offset 0",
                "phase of parity 0, complete but not waited on"});
}

// Read before the phase completes: the copy is issued, the arrive (the
// phase's last) has not happened yet.
TEST(EmuAsyncHazard, BulkReadBeforeThePhaseCompletes) {
  std::string ptx = bulkKernel("", true);
  // Read before the arrive: move the READ lines up, between copy and arrive.
  std::string read = "  shl.b32 %r4, %r0, 2;\n  add.u32 %r5, %r3, %r4;\n"
                     "  ld.shared.u32 %r6, [%r5]; // READ\n";
  ptx.replace(ptx.find(read), read.size(), "");
  size_t arrive = ptx.find("  @%p1 mbarrier.arrive");
  ptx.insert(arrive, read);
  Outcome o = run(ptx, {}, randomWords(256, 4), 1024, 32, RaceCheck::Stop);
  expectHazard(o, lineOf(ptx, "READ"), Dim3(0, 0, 0),
               {"phase of parity 0, not complete"});
}

// Warp 0 waits; the other warps read without waiting (no barrier between).
TEST(EmuAsyncHazard, BulkReadByAWarpThatDidNotWait) {
  std::string wait = R"(  bar.sync 0;
  setp.lt.u32 %p3, %r0, 32;
  @!%p3 bra WAITED;
WAIT:
  mbarrier.try_wait.parity.shared::cta.b64 %p2, [%r2], 0;
  @!%p2 bra WAIT;
WAITED:)";
  std::string ptx = bulkKernel(wait);
  Outcome o = run(ptx, {}, randomWords(256, 5), 1024, 256, RaceCheck::Stop);
  expectHazard(o, lineOf(ptx, "READ"), Dim3(32, 0, 0),
               {"read of shared byte 256", "not waited on by this thread"});
}

// A write to the destination before the wait.
TEST(EmuAsyncHazard, BulkWriteBeforeWait) {
  std::string ptx =
      bulkKernel("  @%p1 st.shared.u32 [%r3+64], %r0; // WRITE\n" +
                 std::string(kEveryThreadWaits));
  Outcome o = run(ptx, {}, randomWords(256, 6), 1024, 64, RaceCheck::Stop);
  expectHazard(o, lineOf(ptx, "WRITE"), Dim3(0, 0, 0),
               {"write of shared byte 192"});
}

// racecheck=report lists the hazard once with its count and range, and
// the launch completes; off reports nothing.
TEST(EmuAsyncHazard, BulkReportAndOff) {
  std::string ptx = bulkKernel("  bar.sync 0;");
  std::vector<uint8_t> in = randomWords(256, 7);
  Outcome o = run(ptx, {}, in, 1024, 256, RaceCheck::Report);
  ASSERT_FALSE(o.status.ok());
  EXPECT_TRUE(o.report.completed);
  EXPECT_EQ(o.report.hazards, 1u);
  EXPECT_EQ(o.report.kind, ReportKind::AsyncHazard);
  const std::string &m = o.status.message();
  EXPECT_NE(m.find("1 distinct hazard in kernel 'k'"), std::string::npos) << m;
  // buf is at shared offset 128, after the mbarrier.
  EXPECT_NE(m.find("TMA: at PTX line " + std::to_string(lineOf(ptx, "READ")) +
                   " (hazard.ptx:" + std::to_string(lineOf(ptx, "READ")) +
                   ") by warp "),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("shared bytes 128 to 1151, 256 times"), std::string::npos)
      << m;
  // The launch ran on: every thread read the copied word.
  for (unsigned t = 0; t < 256; ++t)
    ASSERT_EQ(readAt<uint32_t>(o.out, t), readAt<uint32_t>(in, t));
  expectCopied(run(ptx, {}, in, 1024, 256, RaceCheck::Off), in);
}

namespace {

/// A TMA load: thread 0 copies the 32 x 8 f32 box of the map (128-byte
/// swizzle) into box with cp.async.bulk.tensor.2d, all threads pass a
/// barrier, wait for the phase when k_wait is not 0, and thread t writes
/// word t of box to out.
std::string tensorKernel() {
  return std::string(kHeader) +
         ".visible .entry k(.param .align 64 .b8 k_map[128], .param .u64 "
         "k_out, .param .u32 k_wait)\n{\n" +
         kRegs + R"(  .shared .align 8 .b64 bar;
  .shared .align 1024 .b8 box[1024];
  mov.u32 %r0, %tid.x;
  mov.b64 %rd0, k_map;
  cvta.param.u64 %rd1, %rd0;
  ld.param.u64 %rd2, [k_out];
  ld.param.u32 %r1, [k_wait];
  mov.u32 %r2, bar;
  mov.u32 %r3, box;
  mov.u32 %r10, 0;
  setp.eq.u32 %p1, %r0, 0;
  @%p1 mbarrier.init.shared::cta.b64 [%r2], 1;
  bar.sync 0;
  @%p1 mbarrier.arrive.expect_tx.shared::cta.b64 %rd3, [%r2], 1024;
  @%p1 cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%r3], [%rd1, {%r10, %r10}], [%r2];
  bar.sync 0;
  setp.eq.u32 %p2, %r1, 0;
  @%p2 bra READ;
WAIT:
  mbarrier.try_wait.parity.shared::cta.b64 %p3, [%r2], 0;
  @!%p3 bra WAIT;
READ:
  shl.b32 %r4, %r0, 2;
  add.u32 %r5, %r3, %r4;
  ld.shared.u32 %r6, [%r5]; // READ
  mul.wide.u32 %rd4, %r0, 4;
  add.s64 %rd5, %rd2, %rd4;
  st.global.u32 [%rd5], %r6;
  ret;
}
)";
}

Outcome runTensor(const std::string &ptx, const std::vector<uint8_t> &in,
                  uint32_t wait, RaceCheck mode) {
  Emulator emu(withRaceCheck(mode));
  Outcome r;
  auto mod = emu.loadModule(ptx, "hazard.ptx");
  EXPECT_TRUE(mod.ok()) << mod.error().message();
  if (!mod)
    return r;
  DevicePtr g = *emu.allocate(in.size()), out = *emu.allocate(1024);
  EXPECT_TRUE(emu.copyToDevice(g, in.data(), in.size()).ok());
  alignas(64) uint8_t map[kTensorMapBytes];
  uint64_t dims[2] = {32, 8}, strides[1] = {128};
  uint32_t box[2] = {32, 8}, estrides[2] = {1, 1};
  Status enc = encodeTensorMap(
      map, TensorMapDataType::Float32, 2, g, dims, strides, box, estrides,
      TensorMapInterleave::None, TensorMapSwizzle::B128,
      TensorMapL2Promotion::None, TensorMapOobFill::None);
  EXPECT_TRUE(enc.ok()) << enc.message();
  ParamBytes mp;
  mp.bytes.assign(map, map + kTensorMapBytes);
  r.status = emu.launch(*mod->kernel("k"), Dim3(1), Dim3(256), 0,
                        {mp, ParamBytes::of(out), ParamBytes::of(wait)});
  r.report = emu.lastReport();
  r.out.resize(1024);
  EXPECT_TRUE(emu.copyFromDevice(r.out.data(), out, 1024).ok());
  return r;
}

} // namespace

// A swizzled TMA box: read after try_wait.parity it is legal (word t of the
// box is element swizzle(4 t) / 4 of the tensor); without the wait, the
// report names the tensor copy.
TEST(EmuAsyncHazard, TensorCopyBeforeAndAfterTheWait) {
  std::string ptx = tensorKernel();
  std::vector<uint8_t> in = randomWords(256, 8);
  for (RaceCheck mode : {RaceCheck::Stop, RaceCheck::Report}) {
    Outcome o = runTensor(ptx, in, 1, mode);
    ASSERT_TRUE(o.status.ok()) << o.status.message();
    for (uint32_t t = 0; t < 256; ++t) {
      uint32_t off = 4 * t;
      uint32_t from = off ^ ((off >> 7 & 7) << 4);
      ASSERT_EQ(readAt<uint32_t>(o.out, t), readAt<uint32_t>(in, from / 4))
          << "thread " << t;
    }
  }
  Outcome o = runTensor(ptx, in, 0, RaceCheck::Stop);
  ASSERT_FALSE(o.status.ok());
  EXPECT_EQ(o.report.kind, ReportKind::AsyncHazard);
  EXPECT_EQ(o.report.ptxLine, lineOf(ptx, "// READ"));
  EXPECT_NE(o.status.message().find(
                "that the cp.async.bulk.tensor at PTX line " +
                std::to_string(lineOf(ptx, "cp.async.bulk.tensor"))),
            std::string::npos)
      << o.status.message();
  EXPECT_TRUE(runTensor(ptx, in, 0, RaceCheck::Off).status.ok());
}

// ---------------------------------------------------------------------------
// wgmma
// ---------------------------------------------------------------------------

namespace {

/// A (64 x 16) and B (8 x 16, N = 8) f16 in the no-swizzle K-major layout:
/// core matrices of 8 rows of 16 bytes, LBO 128 (the K halves), SBO 256
/// (8-row groups); A at 0, B at 2048; 2304 bytes.
constexpr uint32_t kImageBytes = 2304, kBBase = 2048;
uint32_t imageByte(uint32_t base, unsigned r, unsigned b) {
  return base + r / 8 * 256 + r % 8 * 16 + b / 16 * 128 + b % 16;
}
uint64_t descriptor(uint32_t base) {
  return uint64_t(base >> 4) | uint64_t(128 >> 4) << 16 |
         uint64_t(256 >> 4) << 32;
}

struct Gemm {
  std::vector<double> A, B; // 64 x 16, 8 x 16
  std::vector<uint8_t> image;
};

/// Values exact in f16 (quarters from -2 to 2, never all zero) whose
/// products and sums are exact in f32.
Gemm randomGemm(unsigned seed) {
  std::mt19937 rng(seed);
  Gemm g;
  g.A.resize(64 * 16);
  g.B.resize(8 * 16);
  g.image.resize(kImageBytes);
  auto half = [](double v) {
    // v = m / 4 with |m| <= 8: sign, exponent and 10 bits of mantissa.
    if (v == 0)
      return uint16_t(0);
    int e;
    double f = std::frexp(std::fabs(v), &e);
    return uint16_t((v < 0 ? 0x8000 : 0) | uint16_t(e + 14) << 10 |
                    uint16_t(std::lround((f * 2 - 1) * 1024)));
  };
  auto put = [&](uint32_t base, unsigned r, unsigned k, double v) {
    uint16_t h = half(v);
    std::memcpy(g.image.data() + imageByte(base, r, 2 * k), &h, 2);
  };
  for (unsigned r = 0; r < 64; ++r)
    for (unsigned k = 0; k < 16; ++k)
      put(0, r, k, g.A[r * 16 + k] = double(int(rng() % 17) - 8) / 4);
  for (unsigned r = 0; r < 8; ++r)
    for (unsigned k = 0; k < 16; ++k)
      put(kBBase, r, k, g.B[r * 16 + k] = double(int(rng() % 17) - 8) / 4);
  return g;
}

/// Element i (0 to 3) of thread t's D fragment of the m64n8k16 product.
double want(const Gemm &g, unsigned t, unsigned i) {
  unsigned w = t / 32, l = t % 32;
  unsigned row = 16 * w + l / 4 + 8 * ((i / 2) % 2);
  unsigned col = 2 * (l % 4) + i % 2;
  double s = 0;
  for (unsigned k = 0; k < 16; ++k)
    s += g.A[row * 16 + k] * g.B[col * 16 + k];
  return s;
}

const char *kWgmmaD =
    "wgmma.mma_async.sync.aligned.m64n8k16.f32.f16.f16 {%f0, %f1, %f2, %f3}, "
    "%rd3, %rd4, ";
const char *kWgmmaE =
    "wgmma.mma_async.sync.aligned.m64n8k16.f32.f16.f16 {%f4, %f5, %f6, %f7}, "
    "%rd3, %rd4, ";

/// One warpgroup: the image (in) is copied to shared memory (by the threads
/// and a barrier, or with \p bulk by thread 0's cp.async.bulk, waited for
/// when \p bulkWait), %rd3 and %rd4 hold the descriptors of A and B, then
/// \p body runs and thread t writes %f0 to %f11 to out[12 t ...].
std::string wgmmaKernel(const std::string &body, bool bulk = false,
                        bool bulkWait = true) {
  std::string load =
      bulk ? std::string(
                 "  setp.eq.u32 %p1, %r0, 0;\n"
                 "  @%p1 mbarrier.init.shared::cta.b64 [%r2], 1;\n"
                 "  bar.sync 0;\n"
                 "  @%p1 mbarrier.arrive.expect_tx.shared::cta.b64 %rd9, "
                 "[%r2], 2304;\n"
                 "  @%p1 cp.async.bulk.shared::cluster.global.mbarrier::"
                 "complete_tx::bytes [%r3], [%rd1], 2304, [%r2];\n") +
                 (bulkWait ? "WAIT:\n  mbarrier.try_wait.parity.shared::cta."
                             "b64 %p2, [%r2], 0;\n  @!%p2 bra WAIT;\n"
                           : "  bar.sync 0;\n")
           : "  shl.b32 %r4, %r0, 2;\n"
             "COPY:\n"
             "  setp.ge.u32 %p2, %r4, 2304;\n"
             "  @%p2 bra COPIED;\n"
             "  cvt.u64.u32 %rd5, %r4;\n"
             "  add.s64 %rd6, %rd1, %rd5;\n"
             "  ld.global.u32 %r5, [%rd6];\n"
             "  add.u32 %r6, %r3, %r4;\n"
             "  st.shared.u32 [%r6], %r5;\n"
             "  add.u32 %r4, %r4, 512;\n"
             "  bra COPY;\n"
             "COPIED:\n"
             "  bar.sync 0;\n";
  std::string store;
  for (unsigned j = 0; j < 12; ++j)
    store += "  st.global.f32 [%rd8+" + std::to_string(4 * j) + "], %f" +
             std::to_string(j) + ";\n";
  return std::string(kHeader) +
         ".visible .entry k(.param .u64 k_in, .param .u64 k_out, .param .u64 "
         "k_da, .param .u64 k_db)\n{\n" +
         kRegs +
         "  .shared .align 8 .b64 bar;\n"
         "  .shared .align 1024 .b8 smem[2304];\n"
         "  mov.u32 %r0, %tid.x;\n"
         "  ld.param.u64 %rd1, [k_in];\n"
         "  ld.param.u64 %rd2, [k_out];\n"
         "  ld.param.u64 %rd3, [k_da];\n"
         "  ld.param.u64 %rd4, [k_db];\n"
         "  mov.u32 %r2, bar;\n"
         "  mov.u32 %r3, smem;\n"
         "  mul.wide.u32 %rd7, %r0, 48;\n"
         "  add.s64 %rd8, %rd2, %rd7;\n"
         "  mov.f32 %f8, 0f3F800000;\n"
         "  mov.f32 %f9, 0f3F800000;\n"
         "  mov.f32 %f10, 0f3F800000;\n"
         "  mov.f32 %f11, 0f3F800000;\n" +
         load + "  wgmma.fence.sync.aligned;\n" + body + "\n" + store +
         "  ret;\n}\n";
}

Outcome runWgmma(const std::string &ptx, const Gemm &g, RaceCheck mode) {
  // smem is 1024-aligned after the 8-byte bar: it starts at offset 1024.
  return run(ptx,
             {ParamBytes::of(descriptor(1024)),
              ParamBytes::of(descriptor(1024 + kBBase))},
             g.image, 128 * 48, 128, mode);
}

/// Thread t's output word j.
float outAt(const Outcome &o, unsigned t, unsigned j) {
  return u2f(readAt<uint32_t>(o.out, t * 12 + j));
}

} // namespace

// Legal: two wgmma chained on one accumulator in one group, read after
// wait_group 0; D = 2 A B exactly. Also with the operands from a bulk copy
// waited for with try_wait.parity.
TEST(EmuAsyncHazard, WgmmaChainedOnOneAccumulator) {
  Gemm g = randomGemm(11);
  std::string body = std::string(kWgmmaD) + "0, 1, 1, 0, 0;\n" + kWgmmaD +
                     "1, 1, 1, 0, 0;\n"
                     "  wgmma.commit_group.sync.aligned;\n"
                     "  wgmma.wait_group.sync.aligned 0;\n";
  for (bool bulk : {false, true})
    for (RaceCheck mode : {RaceCheck::Stop, RaceCheck::Report}) {
      Outcome o = runWgmma(wgmmaKernel(body, bulk), g, mode);
      ASSERT_TRUE(o.status.ok()) << o.status.message();
      for (unsigned t = 0; t < 128; ++t)
        for (unsigned i = 0; i < 4; ++i)
          ASSERT_EQ(double(outAt(o, t, i)), 2 * want(g, t, i))
              << "thread " << t << ", element " << i;
    }
}

// Legal: two groups in flight; wait_group 1 retires the older, whose
// registers are read (copied to %f8..%f11) before wait_group 0.
TEST(EmuAsyncHazard, WgmmaWaitGroupOneReadsTheOlderGroup) {
  Gemm g = randomGemm(12);
  std::string body = std::string(kWgmmaD) +
                     "0, 1, 1, 0, 0;\n"
                     "  wgmma.commit_group.sync.aligned;\n" +
                     kWgmmaE +
                     "0, -1, 1, 0, 0;\n"
                     "  wgmma.commit_group.sync.aligned;\n"
                     "  wgmma.wait_group.sync.aligned 1;\n"
                     "  add.f32 %f8, %f0, %f8;\n"
                     "  mov.f32 %f9, %f1;\n"
                     "  mov.f32 %f10, %f2;\n"
                     "  mov.f32 %f11, %f3;\n"
                     "  wgmma.wait_group.sync.aligned 0;\n";
  Outcome o = runWgmma(wgmmaKernel(body), g, RaceCheck::Stop);
  ASSERT_TRUE(o.status.ok()) << o.status.message();
  for (unsigned t = 0; t < 128; ++t)
    for (unsigned i = 0; i < 4; ++i) {
      double d = want(g, t, i);
      ASSERT_EQ(double(outAt(o, t, i)), d) << t;
      ASSERT_EQ(double(outAt(o, t, 4 + i)), -d) << t;
      ASSERT_EQ(double(outAt(o, t, 8 + i)), i == 0 ? double(float(d + 1)) : d)
          << t;
    }
}

/// The warp whose first lane a wgmma hazard names (the four warps of the
/// warpgroup run the same code; which reaches it first is the schedule's).
unsigned reportedWarp(const Outcome &o) {
  EXPECT_EQ(o.report.thread.x % 32, 0u) << o.status.message();
  return o.report.thread.x / 32;
}

// (a) Reading the newer group's accumulator after wait_group 1: the report
// names the register, the wgmma's line and the wait that covers it.
TEST(EmuAsyncHazard, WgmmaAccumulatorReadBeforeItsWait) {
  Gemm g = randomGemm(13);
  std::string body = std::string(kWgmmaD) +
                     "0, 1, 1, 0, 0;\n"
                     "  wgmma.commit_group.sync.aligned;\n  " +
                     kWgmmaE +
                     "0, 1, 1, 0, 0; // SECOND\n"
                     "  wgmma.commit_group.sync.aligned;\n"
                     "  wgmma.wait_group.sync.aligned 1;\n"
                     "  mov.f32 %f8, %f0;\n"
                     "  mov.f32 %f9, %f6; // BAD\n"
                     "  wgmma.wait_group.sync.aligned 0;\n";
  std::string ptx = wgmmaKernel(body);
  unsigned second = lineOf(ptx, "SECOND");
  Outcome o = runWgmma(ptx, g, RaceCheck::Stop);
  unsigned w = reportedWarp(o);
  expectHazard(o, lineOf(ptx, "BAD"), Dim3(32 * w, 0, 0),
               {"wgmma hazard: read of register d[2] of the pending "
                "wgmma.mma_async at PTX line " +
                    std::to_string(second),
                "in group 1 of warp " + std::to_string(w) +
                    ", which wgmma.wait_group 0 covers"});
  // Writing it, before any commit.
  std::string early = std::string(kWgmmaD) +
                      "0, 1, 1, 0, 0;\n"
                      "  mov.f32 %f3, 0f00000000; // BAD\n"
                      "  wgmma.commit_group.sync.aligned;\n"
                      "  wgmma.wait_group.sync.aligned 0;\n";
  ptx = wgmmaKernel(early);
  o = runWgmma(ptx, g, RaceCheck::Stop);
  expectHazard(
      o, lineOf(ptx, "BAD"), Dim3(32 * reportedWarp(o), 0, 0),
      {"write of register d[3]", "not yet committed by a wgmma.commit_group"});
}

// (b) A write to the shared bytes a pending wgmma reads, by another warp.
TEST(EmuAsyncHazard, WgmmaOperandWrittenBeforeTheWait) {
  Gemm g = randomGemm(14);
  // Byte 16 of B (row 1 of B's first core matrix) at shared 1024 + 2048.
  std::string body = std::string(kWgmmaD) +
                     "0, 1, 1, 0, 0;\n"
                     "  wgmma.commit_group.sync.aligned;\n"
                     "  setp.eq.u32 %p3, %r0, 32;\n"
                     "  @%p3 st.shared.u32 [%r3+2064], %r0; // BAD\n"
                     "  wgmma.wait_group.sync.aligned 0;\n";
  std::string ptx = wgmmaKernel(body);
  Outcome o = runWgmma(ptx, g, RaceCheck::Stop);
  expectHazard(
      o, lineOf(ptx, "BAD"), Dim3(32, 0, 0),
      {"write of shared byte 3088 that the pending wgmma.mma_async "
       "at PTX line " +
           std::to_string(lineOf(ptx, "wgmma.mma_async")) + " (hazard.ptx:" +
           std::to_string(lineOf(ptx, "wgmma.mma_async")) + ") of warp ",
       "which wgmma.wait_group 0 covers), before a wgmma.wait_group of "
       "warp "});
}

// (b) through cp.async, as a pipeline that refills a stage while the
// group reading it is in flight: the copy is the hazard, at its issue.
TEST(EmuAsyncHazard, WgmmaOperandRefilledByCpAsync) {
  Gemm g = randomGemm(19);
  std::string body =
      std::string(kWgmmaD) +
      "0, 1, 1, 0, 0;\n"
      "  wgmma.commit_group.sync.aligned;\n"
      "  setp.lt.u32 %p3, %r0, 32;\n"
      "  shl.b32 %r7, %r0, 4;\n"
      "  add.u32 %r8, %r3, %r7;\n"
      "  cvt.u64.u32 %rd9, %r7;\n"
      "  add.s64 %rd10, %rd1, %rd9;\n"
      "  @%p3 cp.async.cg.shared.global [%r8], [%rd10], 16; // BAD\n"
      "  cp.async.wait_all;\n"
      "  wgmma.wait_group.sync.aligned 0;\n";
  std::string ptx = wgmmaKernel(body);
  Outcome o = runWgmma(ptx, g, RaceCheck::Stop);
  // Lane 0 of warp 0 refills bytes 0-15 of A: rows 0 of warp 0's part.
  expectHazard(
      o, lineOf(ptx, "BAD"), Dim3(0, 0, 0),
      {"wgmma hazard: write of shared byte 1024 that the pending "
       "wgmma.mma_async at PTX line " +
       std::to_string(lineOf(ptx, "wgmma.mma_async")) +
       " (hazard.ptx:" + std::to_string(lineOf(ptx, "wgmma.mma_async")) +
       ") of warp 0 reads (in group 0 of warp 0"});
}

// A chain across groups: the accumulator belongs to the newest wgmma on
// it, so wait_group 1 (which retires only the older group) does not free
// it; wait_group 0 does, and then D = 2 A B.
TEST(EmuAsyncHazard, WgmmaChainAcrossGroups) {
  Gemm g = randomGemm(20);
  auto body = [](unsigned wait) {
    return std::string(kWgmmaD) + "0, 1, 1, 0, 0;\n" +
           "  wgmma.commit_group.sync.aligned;\n  " + kWgmmaD +
           "1, 1, 1, 0, 0; // SECOND\n"
           "  wgmma.commit_group.sync.aligned;\n"
           "  wgmma.wait_group.sync.aligned " +
           std::to_string(wait) +
           ";\n"
           "  mov.f32 %f8, %f0; // READ\n"
           "  wgmma.wait_group.sync.aligned 0;\n";
  };
  std::string bad = wgmmaKernel(body(1));
  Outcome o = runWgmma(bad, g, RaceCheck::Stop);
  unsigned w = reportedWarp(o);
  expectHazard(o, lineOf(bad, "// READ"), Dim3(32 * w, 0, 0),
               {"read of register d[0] of the pending wgmma.mma_async at PTX "
                "line " +
                std::to_string(lineOf(bad, "SECOND")) + " (hazard.ptx:" +
                std::to_string(lineOf(bad, "SECOND")) + ") (in group 1"});
  Outcome ok = runWgmma(wgmmaKernel(body(0)), g, RaceCheck::Stop);
  ASSERT_TRUE(ok.status.ok()) << ok.status.message();
  for (unsigned t = 0; t < 128; ++t)
    for (unsigned i = 0; i < 4; ++i)
      ASSERT_EQ(double(outAt(ok, t, i)), 2 * want(g, t, i)) << t;
}

// (c) The A registers of a pending wgmma written before the wait.
TEST(EmuAsyncHazard, WgmmaRegisterAWrittenBeforeTheWait) {
  Gemm g = randomGemm(15);
  std::string body =
      "  mov.b32 %r20, 0x3c003c00;\n  mov.b32 %r21, %r20;\n"
      "  mov.b32 %r22, %r20;\n  mov.b32 %r23, %r20;\n"
      "  wgmma.mma_async.sync.aligned.m64n8k16.f32.f16.f16 {%f0, %f1, %f2, "
      "%f3}, {%r20, %r21, %r22, %r23}, %rd4, 0, 1, 1, 0;\n"
      "  add.u32 %r21, %r21, 1; // BAD\n"
      "  wgmma.commit_group.sync.aligned;\n"
      "  wgmma.wait_group.sync.aligned 0;\n";
  std::string ptx = wgmmaKernel(body);
  Outcome o = runWgmma(ptx, g, RaceCheck::Stop);
  expectHazard(o, lineOf(ptx, "BAD"), Dim3(32 * reportedWarp(o), 0, 0),
               {"write of register a[1] of the pending wgmma.mma_async at "
                "PTX line " +
                std::to_string(lineOf(ptx, "wgmma.mma_async"))});
  // Reading them is legal.
  std::string read = body;
  read.replace(read.find("add.u32 %r21, %r21, 1"), 21, "add.u32 %r24, %r21, 1");
  Outcome ok = runWgmma(wgmmaKernel(read), g, RaceCheck::Stop);
  EXPECT_TRUE(ok.status.ok()) << ok.status.message();
}

// (d) A warp exits with a group that no wait covered.
TEST(EmuAsyncHazard, WgmmaPendingAtExit) {
  Gemm g = randomGemm(16);
  std::string body = std::string(kWgmmaD) +
                     "0, 1, 1, 0, 0;\n"
                     "  wgmma.commit_group.sync.aligned;\n"
                     "  ret; // EXIT\n";
  std::string ptx = wgmmaKernel(body);
  Outcome o = runWgmma(ptx, g, RaceCheck::Stop);
  unsigned w = reportedWarp(o);
  expectHazard(
      o, lineOf(ptx, "EXIT"), Dim3(32 * w, 0, 0),
      {"exit of warp " + std::to_string(w) + " with 1 wgmma.mma_async pending",
       "wgmma.wait_group 0 first"});
}

// wgmma's descriptor reads of a bulk copy's destination before the wait
// (the barrier after the copy orders nothing: no thread observed the phase).
TEST(EmuAsyncHazard, WgmmaReadsABulkCopyBeforeTheWait) {
  Gemm g = randomGemm(17);
  std::string body = std::string(kWgmmaD) +
                     "0, 1, 1, 0, 0;\n"
                     "  wgmma.commit_group.sync.aligned;\n"
                     "  wgmma.wait_group.sync.aligned 0;\n";
  std::string ptx = wgmmaKernel(body, true, false);
  Outcome o = runWgmma(ptx, g, RaceCheck::Stop);
  unsigned w = reportedWarp(o);
  // The warp's first byte: row 16 w of A.
  expectHazard(o, lineOf(ptx, "wgmma.mma_async"), Dim3(32 * w, 0, 0),
               {"bulk-copy hazard: read of shared byte " +
                    std::to_string(1024 + 512 * w),
                "the cp.async.bulk at PTX line " +
                    std::to_string(lineOf(ptx, "cp.async.bulk"))});
}

// racecheck=report: every kind once, with counts; the launch completes and
// its results are those of the emulation. off: nothing.
TEST(EmuAsyncHazard, WgmmaReportAndOff) {
  Gemm g = randomGemm(18);
  std::string body = std::string(kWgmmaD) +
                     "0, 1, 1, 0, 0;\n"
                     "  mov.f32 %f8, %f0; // BAD1\n"
                     "  wgmma.commit_group.sync.aligned;\n"
                     "  @%p3 st.shared.u32 [%r3+2064], %r0; // BAD2\n";
  std::string ptx = wgmmaKernel(body);
  ptx.replace(ptx.find("  wgmma.fence"), 0, "  setp.eq.u32 %p3, %r0, 32;\n");
  Outcome o = runWgmma(ptx, g, RaceCheck::Report);
  ASSERT_FALSE(o.status.ok());
  EXPECT_TRUE(o.report.completed);
  const std::string &m = o.status.message();
  // d[0] read at BAD1 and by the four stores of d, the shared write (also
  // a WAR race with the other warps' wgmma reads), the exits: 8 pairs of
  // instructions, each counted once per warp that ran it.
  EXPECT_EQ(o.report.hazards, 8u) << m;
  auto at = [&](const char *what) { return std::to_string(lineOf(ptx, what)); };
  for (const std::string &s : std::vector<std::string>{
           "8 distinct hazards in kernel 'k'",
           "WGMMA-D: at PTX line " + at("BAD1"),
           "read of register d[0] of the pending wgmma.mma_async at PTX line " +
               at("wgmma.mma_async"),
           "WGMMA-D: at PTX line " + at("st.global.f32 [%rd8+12]"),
           "read of register d[3]", "WGMMA-SMEM: at PTX line " + at("BAD2"),
           "shared bytes 3088 to 3091, 1 time",
           "WAR: write at PTX line " + at("BAD2"),
           "WGMMA-EXIT: at PTX line " + at("ret;"),
           "with 1 wgmma.mma_async pending"})
    EXPECT_NE(m.find(s), std::string::npos) << "missing '" << s << "' in " << m;
  for (size_t at = m.find("WGMMA-"); at != std::string::npos;
       at = m.find("WGMMA-", at + 1)) {
    size_t end = std::min(m.find('\n', at), m.size());
    if (m.compare(at, 10, "WGMMA-SMEM") != 0)
      EXPECT_EQ(m.compare(end - 7, 7, "4 times"), 0) << m.substr(at, end - at);
  }
  for (unsigned t = 0; t < 128; ++t)
    for (unsigned i = 0; i < 4; ++i)
      ASSERT_EQ(double(outAt(o, t, i)), want(g, t, i));
  EXPECT_TRUE(runWgmma(ptx, g, RaceCheck::Off).status.ok());
}
