//===- AsyncTest.cpp - mbarrier, cp.async.bulk, elect.sync, setmaxnreg ----===//
//
// The mbarrier against a host model of the ISA's phase rules (random
// sequences of arrivals and transactions), producer/consumer rings across
// warps under seeded schedules with the race detector on, bulk copies of
// random sizes both ways, elect.sync on divergent masks, and one test per
// error the emulator reports for these instructions.
//
//===----------------------------------------------------------------------===//

#include "test/unit/emu/EmuTestUtil.h"

#include "runtime/emu/TensorMap.h"

#include <algorithm>
#include <map>

using namespace tilus::emu;
using namespace tilus::emu::test;

namespace {

const char *kHeader = ".version 8.5\n.target sm_90a\n.address_size 64\n";

/// A kernel `k(.u64 in, .u64 out)` with \p shared declarations and \p body;
/// %rd1 = in, %rd2 = out, %r0 = tid.x.
std::string kernel(const std::string &body, const std::string &shared = "") {
  return std::string(kHeader) +
         ".visible .entry k(.param .u64 k_in, .param .u64 k_out)\n{\n" + kRegs +
         shared +
         "  mov.u32 %r0, %tid.x;\n"
         "  ld.param.u64 %rd1, [k_in];\n"
         "  ld.param.u64 %rd2, [k_out];\n" +
         body + "\n  ret;\n}\n";
}

struct Outcome {
  Status status;
  Report report;
  std::vector<uint8_t> out;
};

Outcome launch(const std::string &ptx, const std::vector<uint8_t> &in,
               size_t outBytes, Dim3 grid, Dim3 block,
               EmulatorOptions opts = EmulatorOptions(), uint32_t smem = 0) {
  Emulator emu(opts);
  Outcome r;
  auto mod = emu.loadModule(ptx, "async.ptx");
  if (!mod) {
    r.status = mod.error();
    return r;
  }
  DevicePtr din = *emu.allocate(std::max<size_t>(in.size(), 16));
  DevicePtr dout = *emu.allocate(outBytes);
  EXPECT_TRUE(emu.copyToDevice(din, in.data(), in.size()).ok());
  EXPECT_TRUE(emu.memset(dout, 0, outBytes).ok());
  r.status = emu.launch(*mod->kernel("k"), grid, block, smem,
                        {ParamBytes::of(din), ParamBytes::of(dout)});
  r.report = emu.lastReport();
  r.out.resize(outBytes);
  EXPECT_TRUE(emu.copyFromDevice(r.out.data(), dout, outBytes).ok());
  return r;
}

// ---------------------------------------------------------------------------
// The phase rules, against a host model
// ---------------------------------------------------------------------------

/// The ISA's mbarrier: a phase completes when its pending arrivals and its
/// tx-count are both zero.
struct Model {
  int64_t pending, expected, tx = 0;
  unsigned phase = 0;
  void update(int64_t arrivals, int64_t txAdd) {
    tx += txAdd;
    pending -= arrivals;
    if (pending == 0 && tx == 0) {
      ++phase;
      pending = expected;
    }
  }
};

// Random sequences of arrive (with counts), arrive.expect_tx, expect_tx and
// complete_tx on one mbarrier: after each operation, test_wait.parity of
// both parities, test_wait of the state of the first arrive and
// pending_count of each arrive's state are those of the model.
TEST(EmuMbarrier, PhasesFollowTheModel) {
  std::mt19937 rng(19);
  for (int program = 0; program < 60; ++program) {
    int64_t count = 1 + rng() % 5;
    Model m{count, count};
    std::string body =
        "  mov.u32 %r1, bar;\n  mbarrier.init.shared.b64 [%r1], " +
        std::to_string(count) + ";\n";
    std::vector<uint32_t> want;
    unsigned stateTaken = 0;
    bool haveState = false;
    for (int step = 0; step < 40; ++step) {
      int kind = int(rng() % 4);
      if (m.pending == 0) {
        // Every arrival is in: only the transactions can complete the
        // phase.
        int64_t tx = m.tx > 0 ? m.tx : -m.tx;
        bool expect = m.tx < 0;
        body += std::string("  mbarrier.") +
                (expect ? "expect_tx" : "complete_tx") +
                ".relaxed.cta.shared::cta.b64 [%r1], " + std::to_string(tx) +
                ";\n";
        m.update(0, expect ? tx : -tx);
        want.push_back(0xdead);
      } else if (kind == 0) {
        int64_t n = 1 + int64_t(rng() % uint32_t(m.pending));
        body += "  mbarrier.arrive.release.cta.shared::cta.b64 %rd3, [%r1], " +
                std::to_string(n) + ";\n";
        want.push_back(uint32_t(m.pending - n));
        if (!haveState) {
          stateTaken = m.phase;
          haveState = true;
          body += "  mov.b64 %rd4, %rd3;\n";
        }
        m.update(n, 0);
      } else if (kind == 1) {
        int64_t tx = 16 * int64_t(rng() % 64);
        body += "  mbarrier.arrive.expect_tx.shared::cta.b64 %rd3, [%r1], " +
                std::to_string(tx) + ";\n";
        want.push_back(uint32_t(m.pending - 1));
        m.update(1, tx);
      } else {
        int64_t tx = 16 * int64_t(rng() % 64);
        bool expect = kind == 2;
        body += std::string("  mbarrier.") +
                (expect ? "expect_tx" : "complete_tx") +
                ".relaxed.cta.shared::cta.b64 [%r1], " + std::to_string(tx) +
                ";\n";
        m.update(0, expect ? tx : -tx);
        want.push_back(0xdead);
      }
      if (want.back() != 0xdead)
        body += "  mbarrier.pending_count.b64 %r2, %rd3;\n";
      else
        body += "  mov.u32 %r2, 0xdead;\n";
      body += "  mbarrier.test_wait.parity.shared::cta.b64 %p1, [%r1], 0;\n"
              "  mbarrier.test_wait.parity.shared::cta.b64 %p2, [%r1], 1;\n"
              "  selp.u32 %r3, 1, 0, %p1;\n"
              "  selp.u32 %r4, 2, 0, %p2;\n"
              "  or.b32 %r3, %r3, %r4;\n";
      want.push_back((m.phase & 1) ? 1 : 2);
      // A state is defined for its phase and the one after it.
      if (haveState && m.phase - stateTaken <= 1) {
        body += "  mbarrier.test_wait.shared::cta.b64 %p3, [%r1], %rd4;\n"
                "  selp.u32 %r4, 4, 0, %p3;\n"
                "  or.b32 %r3, %r3, %r4;\n";
        if (m.phase != stateTaken)
          want.back() |= 4;
      }
      body += "  st.global.u32 [%rd2], %r2;\n"
              "  st.global.u32 [%rd2+4], %r3;\n"
              "  add.s64 %rd2, %rd2, 8;\n";
    }
    std::string ptx = kernel(body, "  .shared .align 8 .b64 bar;\n");
    Outcome r = launch(ptx, {}, want.size() * 4, Dim3(1), Dim3(1));
    ASSERT_TRUE(r.status.ok()) << r.status.message() << "\n" << ptx;
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(readAt<uint32_t>(r.out, i), want[i])
          << "program " << program << ", word " << i << "\n"
          << ptx;
  }
}

// ---------------------------------------------------------------------------
// Producer and consumers
// ---------------------------------------------------------------------------

/// Warp 0 fills a ring of 2 stages of 96 words (st.shared, then an arrive on
/// full[s]); warps 1 to 3 wait on full[s] (try_wait.parity in a loop), each
/// adds its 32 words of the stage to its sum and arrives on empty[s]; the
/// producer waits on empty[s] before refilling it. 8 rounds.
std::string ringPtx() {
  return kernel(R"(
  mov.u32 %r1, full;
  mov.u32 %r2, empty;
  mov.u32 %r3, stage;
  setp.ne.u32 %p0, %r0, 0;
  @%p0 bra INITED;
  mbarrier.init.shared::cta.b64 [%r1], 1;
  mbarrier.init.shared::cta.b64 [%r1+8], 1;
  mbarrier.init.shared::cta.b64 [%r2], 96;
  mbarrier.init.shared::cta.b64 [%r2+8], 96;
INITED:
  bar.sync 0;
  mov.u32 %r10, 0;
  setp.ge.u32 %p1, %r0, 32;
  @%p1 bra CONSUMER;
PRODUCE:
  and.b32 %r11, %r10, 1;
  shr.u32 %r12, %r10, 1;
  and.b32 %r12, %r12, 1;
  setp.lt.u32 %p2, %r10, 2;
  @%p2 bra FILL;
  xor.b32 %r13, %r12, 1;
  shl.b32 %r25, %r11, 3;
  add.u32 %r25, %r25, %r2;
WAIT_EMPTY:
  mbarrier.try_wait.parity.shared::cta.b64 %p3, [%r25], %r13;
  @%p3 bra FILL;
  bra WAIT_EMPTY;
FILL:
  // words 32 * i + lane of stage s, i = 0..2: in[96 * round + ...]
  mul.lo.u32 %r14, %r10, 96;
  mov.u32 %r15, 0;
FILL_LOOP:
  mad.lo.u32 %r16, %r15, 32, %r0;
  add.u32 %r17, %r14, %r16;
  mul.wide.u32 %rd5, %r17, 4;
  add.s64 %rd6, %rd1, %rd5;
  ld.global.u32 %r18, [%rd6];
  mad.lo.u32 %r19, %r11, 96, %r16;
  shl.b32 %r19, %r19, 2;
  add.u32 %r19, %r19, %r3;
  st.shared.u32 [%r19], %r18;
  add.u32 %r15, %r15, 1;
  setp.lt.u32 %p4, %r15, 3;
  @%p4 bra FILL_LOOP;
  bar.warp.sync 0xffffffff;
  setp.ne.u32 %p5, %r0, 0;
  shl.b32 %r20, %r11, 3;
  add.u32 %r20, %r20, %r1;
  @!%p5 mbarrier.arrive.release.cta.shared::cta.b64 _, [%r20];
  add.u32 %r10, %r10, 1;
  setp.lt.u32 %p6, %r10, 8;
  @%p6 bra PRODUCE;
  bra DONE;
CONSUMER:
  mov.u32 %r30, 0;
CONSUME:
  and.b32 %r11, %r10, 1;
  shr.u32 %r12, %r10, 1;
  and.b32 %r12, %r12, 1;
  shl.b32 %r20, %r11, 3;
  add.u32 %r21, %r20, %r1;
WAIT_FULL:
  mbarrier.try_wait.parity.acquire.cta.shared::cta.b64 %p3, [%r21], %r12, 1000;
  @!%p3 bra WAIT_FULL;
  sub.u32 %r22, %r0, 32;
  mad.lo.u32 %r19, %r11, 96, %r22;
  shl.b32 %r19, %r19, 2;
  add.u32 %r19, %r19, %r3;
  ld.shared.u32 %r23, [%r19];
  add.u32 %r30, %r30, %r23;
  add.u32 %r24, %r20, %r2;
  mbarrier.arrive.shared::cta.b64 %rd7, [%r24];
  add.u32 %r10, %r10, 1;
  setp.lt.u32 %p6, %r10, 8;
  @%p6 bra CONSUME;
  mul.wide.u32 %rd5, %r22, 4;
  add.s64 %rd6, %rd2, %rd5;
  st.global.u32 [%rd6], %r30;
DONE:)",
                "  .shared .align 8 .b64 full[2];\n"
                "  .shared .align 8 .b64 empty[2];\n"
                "  .shared .align 16 .b32 stage[192];\n");
}

// Every consumer's sum over 8 rounds is right under the fixed and seeded
// schedules, with the race detector stopping at any hazard: the phases of
// full and empty order the stage's writes and reads.
TEST(EmuMbarrier, ProducerConsumerRing) {
  std::mt19937 rng(7);
  std::vector<uint32_t> in(96 * 8);
  for (uint32_t &x : in)
    x = 1 + rng() % 100000;
  std::vector<uint32_t> want(96, 0);
  for (int round = 0; round < 8; ++round)
    for (int t = 0; t < 96; ++t)
      want[size_t(t)] += in[size_t(round * 96 + t)];
  for (uint64_t seed : {0, 1, 2, 3, 4, 5}) {
    EmulatorOptions opts;
    opts.scheduleSeed = seed;
    opts.raceCheck = RaceCheck::Stop;
    Outcome r =
        launch(ringPtx(), toBytes(in), 96 * 4, Dim3(2), Dim3(128), opts);
    ASSERT_TRUE(r.status.ok()) << "seed " << seed << ": " << r.status.message();
    for (size_t t = 0; t < 96; ++t)
      ASSERT_EQ(readAt<uint32_t>(r.out, t), want[t]) << "seed " << seed;
  }
}

/// One warp: lane 0 produces 16 rounds into a 2-slot ring on its own path
/// (waiting on empty[s] before refilling a slot), lanes 1 to 31 consume
/// (wait on full[s], add the slot's word for their lane, arrive on
/// empty[s]); the paths meet only at the end, so lane 0 waits for lanes of
/// its own warp on another path, as independent thread scheduling allows.
std::string sameWarpRingPtx() {
  return kernel(R"(
  mov.u32 %r1, full;
  mov.u32 %r2, empty;
  mov.u32 %r3, slot;
  setp.ne.u32 %p0, %r0, 0;
  @%p0 bra INITED;
  mbarrier.init.shared::cta.b64 [%r1], 1;
  mbarrier.init.shared::cta.b64 [%r1+8], 1;
  mbarrier.init.shared::cta.b64 [%r2], 31;
  mbarrier.init.shared::cta.b64 [%r2+8], 31;
INITED:
  bar.warp.sync 0xffffffff;
  mov.u32 %r10, 0;
  @%p0 bra CONSUME;
PRODUCE:
  and.b32 %r11, %r10, 1;
  shr.u32 %r12, %r10, 1;
  and.b32 %r12, %r12, 1;
  shl.b32 %r20, %r11, 3;
  setp.lt.u32 %p2, %r10, 2;
  @%p2 bra FILL;
  xor.b32 %r13, %r12, 1;
  add.u32 %r25, %r20, %r2;
WAIT_EMPTY:
  mbarrier.try_wait.parity.shared::cta.b64 %p3, [%r25], %r13;
  @!%p3 bra WAIT_EMPTY;
FILL:
  // slot s holds 32 words: in[32 * round + i]
  mov.u32 %r15, 0;
FILL_LOOP:
  mad.lo.u32 %r17, %r10, 32, %r15;
  mul.wide.u32 %rd5, %r17, 4;
  add.s64 %rd6, %rd1, %rd5;
  ld.global.u32 %r18, [%rd6];
  mad.lo.u32 %r19, %r11, 32, %r15;
  shl.b32 %r19, %r19, 2;
  add.u32 %r19, %r19, %r3;
  st.shared.u32 [%r19], %r18;
  add.u32 %r15, %r15, 1;
  setp.lt.u32 %p4, %r15, 32;
  @%p4 bra FILL_LOOP;
  add.u32 %r21, %r20, %r1;
  mbarrier.arrive.release.cta.shared::cta.b64 _, [%r21];
  add.u32 %r10, %r10, 1;
  setp.lt.u32 %p6, %r10, 16;
  @%p6 bra PRODUCE;
  bra DONE;
CONSUME:
  mov.u32 %r30, 0;
CONSUME_LOOP:
  and.b32 %r11, %r10, 1;
  shr.u32 %r12, %r10, 1;
  and.b32 %r12, %r12, 1;
  shl.b32 %r20, %r11, 3;
  add.u32 %r21, %r20, %r1;
WAIT_FULL:
  mbarrier.try_wait.parity.shared::cta.b64 %p3, [%r21], %r12;
  @!%p3 bra WAIT_FULL;
  mad.lo.u32 %r19, %r11, 32, %r0;
  shl.b32 %r19, %r19, 2;
  add.u32 %r19, %r19, %r3;
  ld.shared.u32 %r23, [%r19];
  add.u32 %r30, %r30, %r23;
  add.u32 %r24, %r20, %r2;
  mbarrier.arrive.shared::cta.b64 %rd7, [%r24];
  add.u32 %r10, %r10, 1;
  setp.lt.u32 %p6, %r10, 16;
  @%p6 bra CONSUME_LOOP;
  mul.wide.u32 %rd5, %r0, 4;
  add.s64 %rd6, %rd2, %rd5;
  st.global.u32 [%rd6], %r30;
DONE:)",
                "  .shared .align 8 .b64 full[2];\n"
                "  .shared .align 8 .b64 empty[2];\n"
                "  .shared .align 16 .b32 slot[64];\n");
}

// Lanes of one warp on two paths wait for each other through mbarriers: a
// path whose try_wait fails lets the warp's other paths run.
TEST(EmuMbarrier, ProducerAndConsumersInOneWarp) {
  std::mt19937 rng(5);
  std::vector<uint32_t> in(32 * 16);
  for (uint32_t &x : in)
    x = 1 + rng() % 100000;
  for (uint64_t seed : {0, 1, 2}) {
    EmulatorOptions opts;
    opts.scheduleSeed = seed;
    opts.raceCheck = RaceCheck::Off; // one warp: nothing for it to see
    Outcome r =
        launch(sameWarpRingPtx(), toBytes(in), 32 * 4, Dim3(1), Dim3(32), opts);
    ASSERT_TRUE(r.status.ok()) << "seed " << seed << ": " << r.status.message();
    for (unsigned t = 1; t < 32; ++t) {
      uint32_t want = 0;
      for (unsigned round = 0; round < 16; ++round)
        want += in[32 * round + t];
      ASSERT_EQ(readAt<uint32_t>(r.out, t), want) << "lane " << t;
    }
  }
}

// A waiter that no one releases stops with a no-progress report naming the
// waiting warps, instead of hanging.
TEST(EmuMbarrier, WaitForeverIsNoProgress) {
  std::string ptx = kernel(R"(
  mov.u32 %r1, bar;
  mbarrier.init.shared.b64 [%r1], 2;
  mbarrier.arrive.shared.b64 %rd3, [%r1];
WAIT:
  mbarrier.try_wait.shared.b64 %p1, [%r1], %rd3;
  @!%p1 bra WAIT;)",
                           "  .shared .align 8 .b64 bar;\n");
  EmulatorOptions opts;
  opts.maxSteps = 20000;
  Outcome r = launch(ptx, {}, 16, Dim3(1), Dim3(1), opts);
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.report.kind, ReportKind::NoProgress);
  EXPECT_NE(r.status.message().find("warp 0 at PTX line"), std::string::npos)
      << r.status.message();
}

// ---------------------------------------------------------------------------
// Bulk copies
// ---------------------------------------------------------------------------

// Each CTA copies a random number of 16-byte chunks global -> shared with
// complete_tx on an mbarrier (the arrive.expect_tx after the copy, so the
// tx-count goes below zero first), its warps wait on the phase, add one to
// every word, and one thread copies the block back shared -> global with a
// bulk group.
TEST(EmuBulk, RoundTripOfRandomSizes) {
  std::string ptx = kernel(R"(
  mov.u32 %r1, bar;
  mov.u32 %r2, buf;
  mov.u32 %r5, %ctaid.x;
  mul.wide.u32 %rd5, %r5, 4096;
  add.s64 %rd6, %rd1, %rd5;
  add.s64 %rd7, %rd2, %rd5;
  // the size in bytes: in[cta * 1024] * 16
  ld.global.u32 %r6, [%rd6];
  shl.b32 %r6, %r6, 4;
  setp.ne.u32 %p0, %r0, 0;
  @%p0 bra WAIT;
  mbarrier.init.shared::cta.b64 [%r1], 1;
  cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%r2], [%rd6], %r6, [%r1];
  mbarrier.arrive.expect_tx.release.cta.shared::cta.b64 _, [%r1], %r6;
WAIT:
  bar.sync 0;
WAIT_LOOP:
  mbarrier.try_wait.parity.shared::cta.b64 %p1, [%r1], 0;
  @!%p1 bra WAIT_LOOP;
  shr.u32 %r7, %r6, 2;
  mov.u32 %r8, %r0;
ADD:
  setp.ge.u32 %p2, %r8, %r7;
  @%p2 bra ADDED;
  shl.b32 %r9, %r8, 2;
  add.u32 %r9, %r9, %r2;
  ld.shared.u32 %r10, [%r9];
  add.u32 %r10, %r10, 1;
  st.shared.u32 [%r9], %r10;
  add.u32 %r8, %r8, 64;
  bra ADD;
ADDED:
  fence.proxy.async.shared::cta;
  bar.sync 0;
  @%p0 bra DONE;
  cp.async.bulk.global.shared::cta.bulk_group [%rd7], [%r2], %r6;
  cp.async.bulk.commit_group;
  cp.async.bulk.wait_group.read 0;
  cp.async.bulk.wait_group 0;
  mbarrier.inval.shared::cta.b64 [%r1];
DONE:)",
                           "  .shared .align 8 .b64 bar;\n"
                           "  .shared .align 128 .b32 buf[1024];\n");
  std::mt19937 rng(3);
  const unsigned ctas = 16;
  std::vector<uint32_t> in(1024 * ctas);
  for (uint32_t &x : in)
    x = 1 + rng() % 1000000;
  for (unsigned c = 0; c < ctas; ++c)
    in[c * 1024] = 1 + rng() % 256; // 16 to 4096 bytes
  Outcome r = launch(ptx, toBytes(in), in.size() * 4, Dim3(ctas), Dim3(64));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  for (unsigned c = 0; c < ctas; ++c) {
    unsigned words = in[c * 1024] * 4;
    for (unsigned i = 0; i < 1024; ++i)
      ASSERT_EQ(readAt<uint32_t>(r.out, c * 1024 + i),
                i < words ? in[c * 1024 + i] + 1 : 0)
          << "CTA " << c << ", word " << i;
  }
}

// ---------------------------------------------------------------------------
// elect.sync, setmaxnreg
// ---------------------------------------------------------------------------

// The leader is the lowest lane of those executing; every lane gets its
// lane id, the leader alone the predicate; lanes on two paths elect one
// leader together.
TEST(EmuElect, LowestExecutingLane) {
  std::string ptx = kernel(R"(
  mul.wide.u32 %rd5, %r0, 8;
  add.s64 %rd6, %rd2, %rd5;
  add.s64 %rd7, %rd1, %rd5;
  ld.global.u32 %r1, [%rd7];
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bra OTHER;
  activemask.b32 %r2;
  ld.global.u32 %r6, [%rd7+4];
  elect.sync %r3|%p2, %r6;
  bra JOIN;
OTHER:
  ld.global.u32 %r6, [%rd7+4];
  elect.sync %r3|%p2, %r6;
JOIN:
  selp.u32 %r4, 1, 0, %p2;
  st.global.v2.u32 [%rd6], {%r3, %r4};)");
  std::mt19937 rng(11);
  for (int trial = 0; trial < 50; ++trial) {
    // Lanes of `skip` leave first; the others split over two paths.
    uint32_t skip = trial == 0 ? 0 : rng() & rng();
    uint32_t members = ~skip;
    if (!members)
      continue;
    std::string body = ptx;
    std::vector<uint32_t> in(64);
    for (int l = 0; l < 32; ++l) {
      in[size_t(2 * l)] = rng() & 1;
      in[size_t(2 * l + 1)] = members;
    }
    std::string guarded = body;
    size_t at = guarded.find("  mul.wide.u32 %rd5");
    guarded.insert(at, "  mov.u32 %r20, " + std::to_string(skip) +
                           ";\n  shr.b32 %r20, %r20, %r0;\n  and.b32 %r20, "
                           "%r20, 1;\n  setp.ne.u32 %p9, %r20, 0;\n  @%p9 "
                           "bra $SKIP;\n");
    guarded.replace(guarded.rfind("\n  ret;"), 7, "\n$SKIP:\n  ret;");
    Outcome r = launch(guarded, toBytes(in), 256, Dim3(1), Dim3(32));
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    int leader = __builtin_ctz(members);
    for (int l = 0; l < 32; ++l) {
      if (skip >> l & 1)
        continue;
      EXPECT_EQ(readAt<uint32_t>(r.out, size_t(2 * l)), uint32_t(leader));
      EXPECT_EQ(readAt<uint32_t>(r.out, size_t(2 * l + 1)),
                uint32_t(l == leader));
    }
  }
}

// The L2 prefetches (a bulk range, a tensor box, a tensor map) are hints:
// accepted, no effect.
TEST(EmuBulk, PrefetchesAreHints) {
  std::string ptx = kernel(
      "  cp.async.bulk.prefetch.L2.global [%rd1], 64;\n"
      "  cp.async.bulk.prefetch.tensor.2d.L2.global.tile [%rd1, {%r0, %r0}];\n"
      "  prefetch.tensormap [%rd1];\n"
      "  st.global.u32 [%rd2], 7;");
  Outcome r = launch(ptx, std::vector<uint8_t>(64, 1), 16, Dim3(1), Dim3(1));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(readAt<uint32_t>(r.out, 0), 7u);
}

TEST(EmuSetmaxnreg, AcceptedInRange) {
  std::string ok = kernel("  setmaxnreg.inc.sync.aligned.u32 240;\n"
                          "  setmaxnreg.dec.sync.aligned.u32 24;");
  Outcome r = launch(ok, {}, 16, Dim3(1), Dim3(128));
  EXPECT_TRUE(r.status.ok()) << r.status.message();
  for (const char *bad : {"16", "260", "100"}) {
    Outcome e = launch(
        kernel(std::string("  setmaxnreg.inc.sync.aligned.u32 ") + bad + ";"),
        {}, 16, Dim3(1), Dim3(32));
    ASSERT_FALSE(e.status.ok());
    EXPECT_NE(e.status.message().find("is not a multiple of 8 in 24 to 256"),
              std::string::npos)
        << e.status.message();
  }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

struct ErrorCase {
  const char *name;
  std::string body;
  const char *message;
  ReportKind kind;
};

// Each undefined use of an mbarrier or a bulk copy stops the launch with a
// report that names the rule.
TEST(EmuAsyncErrors, Reported) {
  const std::string init = "  mov.u32 %r1, bar;\n"
                           "  mov.u32 %r2, buf;\n"
                           "  mbarrier.init.shared.b64 [%r1], 2;\n";
  std::vector<ErrorCase> cases = {
      {"uninitialized",
       "  mov.u32 %r1, bar;\n"
       "  mbarrier.arrive.shared.b64 %rd3, [%r1];",
       "holds no initialized mbarrier", ReportKind::Other},
      {"after inval",
       init + "  mbarrier.inval.shared.b64 [%r1];\n"
              "  mbarrier.arrive.shared.b64 %rd3, [%r1];",
       "holds no initialized mbarrier", ReportKind::Other},
      {"init twice", init + "  mbarrier.init.shared.b64 [%r1], 1;",
       "on an initialized mbarrier", ReportKind::Other},
      {"store to a live mbarrier", init + "  st.shared.u32 [%r1], 0;",
       "which holds an initialized mbarrier", ReportKind::Other},
      {"count zero",
       "  mov.u32 %r1, bar;\n  mbarrier.init.shared.b64 [%r1], 0;",
       "with a count of 0", ReportKind::Other},
      {"too many arrivals",
       init + "  mbarrier.arrive.shared::cta.b64 %rd3, [%r1], 3;",
       "3 arrivals on an mbarrier with 2 pending", ReportKind::Other},
      {"noComplete completes",
       init + "  mbarrier.arrive.noComplete.shared.b64 %rd3, [%r1], 2;",
       "noComplete completes", ReportKind::Other},
      {"tx-count range",
       init + "  mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%r1], "
              "1000000;\n"
              "  mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%r1], "
              "1000000;",
       "tx-count to 2000000", ReportKind::Other},
      {"misaligned mbarrier",
       "  mov.u32 %r1, bar;\n  mbarrier.init.shared.b64 [%r1+4], 1;",
       "misaligned mbarrier", ReportKind::Misaligned},
      {"bulk size",
       init + "  mov.u32 %r5, 24;\n"
              "  cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::"
              "bytes [%r2], [%rd1], %r5, [%r1];",
       "of 24 bytes (the size must be a multiple of 16)", ReportKind::Other},
      {"bulk alignment",
       init + "  cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::"
              "bytes [%r2+8], [%rd1], 32, [%r1];",
       "misaligned address (not a multiple of 16)", ReportKind::Misaligned},
      {"generic address outside shared memory",
       "  mbarrier.init.b64 [%rd1], 1;",
       "mbarrier.init on an address outside shared memory", ReportKind::Other},
      {"out-of-bounds mbarrier",
       "  mov.u32 %r1, 4096;\n  mbarrier.init.shared.b64 [%r1], 1;",
       "out-of-bounds mbarrier at offset 4096", ReportKind::OutOfBounds},
      {"tx count range",
       init + "  mbarrier.complete_tx.relaxed.cta.shared::cta.b64 [%r1], "
              "1048576;",
       "with a tx count of 1048576 (the range is 0 to 2^20-1)",
       ReportKind::Other},
      {"tensor map alignment",
       init + "  cp.async.bulk.tensor.1d.shared::cluster.global.tile."
              "mbarrier::complete_tx::bytes [%r2], [%rd1+8, {%r0}], [%r1];",
       "tensor map that is not 64-byte aligned", ReportKind::Misaligned},
      {"bulk out of bounds",
       init + "  cp.async.bulk.global.shared::cta.bulk_group [%rd2], [%r2], "
              "512;",
       "out-of-bounds global", ReportKind::OutOfBounds},
  };
  for (const ErrorCase &c : cases) {
    std::string ptx = kernel(c.body, "  .shared .align 8 .b64 bar;\n"
                                     "  .shared .align 16 .b8 buf[1024];\n");
    Outcome r = launch(ptx, std::vector<uint8_t>(64, 1), 256, Dim3(1), Dim3(1));
    ASSERT_FALSE(r.status.ok()) << c.name;
    EXPECT_NE(r.status.message().find(c.message), std::string::npos)
        << c.name << ": " << r.status.message();
    EXPECT_NE(r.status.message().find("at PTX line"), std::string::npos)
        << c.name;
    EXPECT_EQ(r.report.kind, c.kind) << c.name << ": " << r.status.message();
  }
}

// Malformed forms are load errors naming the instruction.
TEST(EmuAsyncErrors, LoadErrors) {
  std::vector<std::pair<std::string, const char *>> cases = {
      {"  mbarrier.init.shared.b32 [%r1], 1;", "expected .b64"},
      {"  mbarrier.arrive.parity.shared.b64 %rd1, [%r1];",
       ".parity on test_wait and try_wait only"},
      {"  mbarrier.init.global.b64 [%rd1], 1;",
       "mbarrier objects are in shared memory"},
      {"  cp.async.bulk.shared::cluster.global [%r1], [%rd1], 16;",
       "mbarrier::complete_tx::bytes [dst], [src], size, [mbar]"},
      {"  cp.async.bulk.global.shared::cta [%rd1], [%r1], 16;",
       "bulk_group [dst], [src], size"},
      {"  elect.sync %r1, 0xffffffff;", "elect.sync d|p, membermask"},
      {"  cp.async.bulk.global.shared::cta.bulk_group [%rd1], [%r1], 24;",
       "the size 24 is not a multiple of 16"},
  };
  for (const auto &[body, message] : cases) {
    Emulator emu;
    auto mod = emu.loadModule(kernel(body), "bad.ptx");
    ASSERT_FALSE(mod.ok()) << body;
    EXPECT_NE(mod.error().message().find(message), std::string::npos)
        << body << ": " << mod.error().message();
  }
}

} // namespace

// ---------------------------------------------------------------------------
// Tensor maps and cp.async.bulk.tensor
// ---------------------------------------------------------------------------

namespace {

/// A random tensor map that encodeTensorMap accepts, and coordinates that
/// put the box partly outside the tensor now and then.
struct TmaCase {
  TensorMapDataType type;
  uint32_t rank, esize;
  uint64_t dims[5], strides[4];
  uint32_t box[5], estrides[5];
  TensorMapSwizzle swizzle;
  TensorMapOobFill oob;
  int32_t coords[5];
  uint64_t bytes; ///< of the global buffer
};

TmaCase randomTma(std::mt19937 &rng) {
  static const TensorMapDataType types[] = {
      TensorMapDataType::UInt8, TensorMapDataType::Float16,
      TensorMapDataType::Float32, TensorMapDataType::Float64,
      TensorMapDataType::BFloat16};
  TmaCase c;
  c.type = types[rng() % 5];
  c.esize = tensorMapElementBytes(c.type);
  c.rank = 1 + rng() % 5;
  c.swizzle = TensorMapSwizzle(rng() % 4);
  bool isFloat = c.type != TensorMapDataType::UInt8;
  c.oob = isFloat && rng() % 3 == 0 ? TensorMapOobFill::NanRequestZeroFma
                                    : TensorMapOobFill::None;
  uint32_t span =
      c.swizzle == TensorMapSwizzle::None ? 128 : 16u << uint32_t(c.swizzle);
  // The inner box: a multiple of 16 bytes within the swizzle span.
  c.box[0] = (16 * (1 + rng() % (span / 16))) / c.esize;
  uint64_t boxBytes = uint64_t(c.box[0]) * c.esize;
  for (uint32_t d = 0; d < c.rank; ++d) {
    if (d > 0) {
      c.estrides[d] = 1 + rng() % 3;
      c.box[d] = 1 + rng() % 4;
      boxBytes *= (c.box[d] + c.estrides[d] - 1) / c.estrides[d];
    } else {
      c.estrides[0] = 1 + rng() % 2; // ignored in dimension 0
    }
    c.dims[d] = 1 + rng() % (d == 0 ? 80 : 9);
  }
  // Row strides: the packed size rounded up to 16 bytes, plus some padding.
  uint64_t s = (c.dims[0] * c.esize + 15) / 16 * 16 + 16 * (rng() % 2);
  for (uint32_t d = 0; d + 1 < c.rank; ++d) {
    c.strides[d] = s;
    s = s * c.dims[d + 1] + 16 * (rng() % 2);
  }
  c.bytes = s;
  for (uint32_t d = 0; d < c.rank; ++d)
    c.coords[d] = int32_t(rng() % (c.dims[d] + 4)) - 2;
  (void)boxBytes;
  return c;
}

/// The box in shared memory by the definition: element e of the dense box
/// (innermost dimension first) at byte e * esize, each 16-byte chunk moved
/// by the swizzle (chunk index XOR row-of-128-bytes index, masked to the
/// span; the last row of a box that does not fill it may move past its
/// dense size, so the result is rounded up to 128 bytes and \p written
/// says which bytes the copy writes); elements outside the tensor are
/// zero, or NaN with oob=nan.
std::vector<uint8_t> expectedBox(const TmaCase &c,
                                 const std::vector<uint8_t> &global,
                                 std::vector<bool> &written,
                                 uint64_t &boxBytes) {
  uint64_t n[5], total = 1;
  for (uint32_t d = 0; d < c.rank; ++d) {
    n[d] = d == 0 ? c.box[0] : (c.box[d] + c.estrides[d] - 1) / c.estrides[d];
    total *= n[d];
  }
  boxBytes = total * c.esize;
  std::vector<uint8_t> box((boxBytes + 127) / 128 * 128);
  written.assign(box.size(), false);
  uint32_t mask = (1u << uint32_t(c.swizzle)) - 1;
  for (uint64_t e = 0; e < total; ++e) {
    uint64_t rem = e, at = 0;
    bool inside = true;
    for (uint32_t d = 0; d < c.rank; ++d) {
      int64_t g = c.coords[d] + int64_t(rem % n[d]) * (d ? c.estrides[d] : 1);
      rem /= n[d];
      inside = inside && g >= 0 && uint64_t(g) < c.dims[d];
      at += uint64_t(g) * (d ? c.strides[d - 1] : c.esize);
    }
    uint64_t off = e * c.esize;
    uint64_t chunk = (off >> 4 & 7) ^ (off >> 7 & mask);
    uint64_t to = (off & ~uint64_t(0x70)) | chunk << 4;
    uint64_t fill = c.oob == TensorMapOobFill::NanRequestZeroFma
                        ? (c.esize == 2   ? 0x7fff
                           : c.esize == 4 ? 0x7fffffff
                                          : 0x7fffffffffffffffull)
                        : 0;
    std::fill(written.begin() + long(to), written.begin() + long(to + c.esize),
              true);
    if (inside)
      std::memcpy(box.data() + to, global.data() + at, c.esize);
    else
      std::memcpy(box.data() + to, &fill, c.esize);
  }
  return box;
}

/// Thread 0 loads the box at the coordinates (params c0..c4) into shared
/// memory with cp.async.bulk.tensor.Nd, arrives with the box's bytes as
/// expected transactions, waits, and copies k_copy bytes of shared memory
/// from the box on to out.
std::string tmaLoadPtx(uint32_t rank) {
  std::string coords = "{%r10";
  for (uint32_t d = 1; d < rank; ++d)
    coords += ", %r" + std::to_string(10 + d);
  coords += "}";
  return std::string(kHeader) +
         ".visible .entry k(.param .align 64 .b8 k_map[128], .param .u64 "
         "k_out, .param .u32 k_bytes, .param .u32 k_copy, .param .u32 k_c0, "
         ".param .u32 k_c1, "
         ".param .u32 k_c2, .param .u32 k_c3, .param .u32 k_c4)\n{\n" +
         kRegs + R"(  .shared .align 8 .b64 bar;
  .shared .align 1024 .b8 box[65536];
  mov.b64 %rd0, k_map;
  cvta.param.u64 %rd1, %rd0;
  ld.param.u64 %rd2, [k_out];
  ld.param.u32 %r1, [k_bytes];
  ld.param.u32 %r7, [k_copy];
  ld.param.u32 %r10, [k_c0];
  ld.param.u32 %r11, [k_c1];
  ld.param.u32 %r12, [k_c2];
  ld.param.u32 %r13, [k_c3];
  ld.param.u32 %r14, [k_c4];
  mov.u32 %r2, bar;
  mov.u32 %r3, box;
  mbarrier.init.shared::cta.b64 [%r2], 1;
  cp.async.bulk.tensor.)" +
         std::to_string(rank) +
         "d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%r3], "
         "[%rd1, " +
         coords + R"(], [%r2];
  mbarrier.arrive.expect_tx.shared::cta.b64 %rd3, [%r2], %r1;
WAIT:
  mbarrier.try_wait.shared::cta.b64 %p1, [%r2], %rd3;
  @!%p1 bra WAIT;
  mov.u32 %r4, 0;
COPY:
  add.u32 %r5, %r3, %r4;
  ld.shared.u8 %r6, [%r5];
  cvt.u64.u32 %rd4, %r4;
  add.s64 %rd5, %rd2, %rd4;
  st.global.u8 [%rd5], %r6;
  add.u32 %r4, %r4, 1;
  setp.lt.u32 %p2, %r4, %r7;
  @%p2 bra COPY;
  ret;
}
)";
}

} // namespace

// 300 random tensor maps (ranks 1 to 5, 1 to 8-byte elements, every
// swizzle, element strides, padded rows, boxes partly outside the tensor):
// the shared box is the definition's, byte for byte.
TEST(EmuTma, LoadsMatchTheDefinition) {
  std::mt19937 rng(90);
  Emulator emu;
  std::map<uint32_t, Kernel> kernels;
  std::vector<Module> modules;
  for (int trial = 0; trial < 300; ++trial) {
    TmaCase c = randomTma(rng);
    if (!kernels.count(c.rank)) {
      auto mod = emu.loadModule(tmaLoadPtx(c.rank), "tma.ptx");
      ASSERT_TRUE(mod.ok()) << mod.error().message();
      modules.push_back(*mod);
      kernels.emplace(c.rank, *modules.back().kernel("k"));
    }
    std::vector<uint8_t> global(c.bytes);
    for (uint8_t &b : global)
      b = uint8_t(1 + rng() % 255);
    DevicePtr g = *emu.allocate(c.bytes);
    ASSERT_TRUE(emu.copyToDevice(g, global.data(), c.bytes).ok());
    alignas(64) uint8_t map[kTensorMapBytes];
    Status enc =
        encodeTensorMap(map, c.type, c.rank, g, c.dims, c.strides, c.box,
                        c.estrides, TensorMapInterleave::None, c.swizzle,
                        TensorMapL2Promotion::L2_128B, c.oob);
    ASSERT_TRUE(enc.ok()) << enc.message();
    std::vector<bool> written;
    uint64_t boxBytes;
    std::vector<uint8_t> want = expectedBox(c, global, written, boxBytes);
    DevicePtr out = *emu.allocate(want.size());
    ParamBytes mp;
    mp.bytes.assign(map, map + kTensorMapBytes);
    std::vector<ParamBytes> params = {mp, ParamBytes::of(out),
                                      ParamBytes::of(uint32_t(boxBytes)),
                                      ParamBytes::of(uint32_t(want.size()))};
    for (int d = 0; d < 5; ++d)
      params.push_back(ParamBytes::of(c.coords[d % c.rank]));
    Status s = emu.launch(kernels.at(c.rank), Dim3(1), Dim3(1), 0, params);
    ASSERT_TRUE(s.ok()) << "trial " << trial << ": " << s.message();
    std::vector<uint8_t> got(want.size());
    ASSERT_TRUE(emu.copyFromDevice(got.data(), out, got.size()).ok());
    for (size_t i = 0; i < want.size(); ++i)
      if (written[i])
        ASSERT_EQ(got[i], want[i])
            << "trial " << trial << ", rank " << c.rank << ", element size "
            << c.esize << ", swizzle " << uint32_t(c.swizzle) << ", byte " << i;
  }
}

// encodeTensorMap refuses what cuTensorMapEncodeTiled refuses, naming the
// argument; decoding refuses bytes it did not write.
TEST(EmuTma, EncodeChecks) {
  alignas(64) uint8_t map[kTensorMapBytes];
  uint64_t dims[2] = {64, 8}, strides[1] = {256};
  uint32_t box[2] = {32, 4}, es[2] = {1, 1};
  auto encode = [&](TensorMapSwizzle sw, uint64_t addr) {
    return encodeTensorMap(map, TensorMapDataType::Float32, 2, addr, dims,
                           strides, box, es, TensorMapInterleave::None, sw,
                           TensorMapL2Promotion::None, TensorMapOobFill::None);
  };
  EXPECT_TRUE(encode(TensorMapSwizzle::B128, 0x1000).ok());
  Status s = encode(TensorMapSwizzle::B64, 0x1000);
  EXPECT_NE(s.message().find("more than the 64-byte swizzle span"),
            std::string::npos)
      << s.message();
  EXPECT_NE(encode(TensorMapSwizzle::None, 0x1008)
                .message()
                .find("not 16-byte aligned"),
            std::string::npos);
  strides[0] = 260;
  EXPECT_NE(encode(TensorMapSwizzle::None, 0x1000)
                .message()
                .find("globalStrides[0] = 260"),
            std::string::npos);
  strides[0] = 256;
  box[1] = 300;
  EXPECT_NE(
      encode(TensorMapSwizzle::None, 0x1000).message().find("boxDim[1] = 300"),
      std::string::npos);
  box[1] = 4;
  box[0] = 3;
  EXPECT_NE(
      encode(TensorMapSwizzle::None, 0x1000).message().find("multiple of 16"),
      std::string::npos);
  box[0] = 32;
  ASSERT_TRUE(encode(TensorMapSwizzle::None, 0x1000).ok());
  Expected<TensorMap> m = decodeTensorMap(map);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->rank, 2u);
  EXPECT_EQ(m->strides[1], 256u);
  EXPECT_EQ(m->boxElements(1), 4u);
  map[124] = 0;
  EXPECT_FALSE(decodeTensorMap(map).ok());
}
