//===- ScheduleTest.cpp - Resident CTAs and the no-progress limit ---------===//
//
// CTAs that wait for each other through global memory finish, in any order
// the schedule picks, as long as they fit on the device at once; a kernel
// that spins forever stops with an error naming its warps.
//
//===----------------------------------------------------------------------===//

#include "EmuTestUtil.h"

#include <algorithm>

using namespace tilus::emu;

namespace {

const char *kHeader = ".version 8.5\n.target sm_90\n.address_size 64\n";

/// CTA 0 waits for the flag CTA 1 sets, then writes flag + 1 to out. CTA 0
/// runs first in the default schedule.
std::string waitPtx() {
  return std::string(kHeader) +
         R"(.visible .entry k(.param .u64 k_flag, .param .u64 k_out)
{
  .reg .pred %p<4>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd0, [k_flag];
  ld.param.u64 %rd1, [k_out];
  mov.u32 %r0, %ctaid.x;
  mov.u32 %r1, %tid.x;
  setp.ne.u32 %p0, %r1, 0;
  @%p0 bra DONE;
  setp.eq.u32 %p1, %r0, 1;
  @%p1 bra SETTER;
WAIT:
  ld.volatile.global.u32 %r2, [%rd0];
  setp.eq.u32 %p2, %r2, 0;
  @%p2 bra WAIT;
  add.u32 %r3, %r2, 1;
  st.global.u32 [%rd1], %r3;
  bra DONE;
SETTER:
  mov.u32 %r4, 41;
  st.volatile.global.u32 [%rd0], %r4;
DONE:
  ret;
}
)";
}

/// CTA i waits until the counter reaches n - 1 - i, records the value and
/// increments it: the CTAs finish in the reverse of their launch order.
std::string ticketPtx() {
  return std::string(kHeader) +
         R"(.visible .entry k(.param .u64 k_ctr, .param .u64 k_out)
{
  .reg .pred %p<4>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<6>;
  ld.param.u64 %rd0, [k_ctr];
  ld.param.u64 %rd1, [k_out];
  mov.u32 %r0, %ctaid.x;
  mov.u32 %r1, %nctaid.x;
  mov.u32 %r2, %tid.x;
  setp.ne.u32 %p0, %r2, 0;
  @%p0 bra DONE;
  sub.u32 %r3, %r1, %r0;
  sub.u32 %r3, %r3, 1;
WAIT:
  atom.global.cas.b32 %r4, [%rd0], %r3, %r3;
  setp.ne.u32 %p1, %r4, %r3;
  @%p1 bra WAIT;
  mul.wide.u32 %rd2, %r0, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r4;
  atom.global.add.u32 %r5, [%rd0], 1;
DONE:
  ret;
}
)";
}

/// The 1-based line of the first line of \p ptx containing \p text.
unsigned lineOf(const std::string &ptx, const std::string &text) {
  size_t at = ptx.find(text);
  return unsigned(std::count(ptx.begin(), ptx.begin() + at, '\n')) + 1;
}

struct Outcome {
  Status status;
  std::vector<uint32_t> out;
};

Outcome launchK(Emulator &emu, const std::string &ptx, uint32_t ctas,
                uint32_t threads) {
  Outcome r;
  auto mod = emu.loadModule(ptx, "sched.ptx");
  EXPECT_TRUE(mod.ok()) << mod.error().message();
  if (!mod)
    return r;
  auto k = mod->kernel("k");
  DevicePtr flag = *emu.allocate(4);
  DevicePtr out = *emu.allocate(4 * ctas);
  EXPECT_TRUE(emu.memset(flag, 0, 4).ok());
  EXPECT_TRUE(emu.memset(out, 0xff, 4 * ctas).ok());
  r.status = emu.launch(*k, Dim3(ctas), Dim3(threads), 0,
                        {ParamBytes::of(flag), ParamBytes::of(out)});
  r.out.resize(ctas);
  EXPECT_TRUE(emu.copyFromDevice(r.out.data(), out, 4 * ctas).ok());
  return r;
}

// A CTA that waits for a CTA launched after it finishes, with a fixed and
// with seeded schedules.
TEST(EmuSchedule, WaitForLaterCta) {
  for (uint64_t seed : {0, 1, 2, 3, 4, 5, 6, 7}) {
    EmulatorOptions opts;
    opts.scheduleSeed = seed;
    Emulator emu(opts);
    Outcome r = launchK(emu, waitPtx(), 2, 64);
    ASSERT_TRUE(r.status.ok()) << "seed " << seed << ": " << r.status.message();
    EXPECT_EQ(r.out[0], 42u) << "seed " << seed;
  }
}

// Every CTA waits for all CTAs launched after it: the whole grid must be
// resident at once, which 2 SMs of 32 CTAs allow for 64 CTAs of one warp.
TEST(EmuSchedule, ReverseOrderTickets) {
  for (uint64_t seed : {0, 11, 12}) {
    EmulatorOptions opts;
    opts.numSms = 2;
    opts.scheduleSeed = seed;
    Emulator emu(opts);
    Outcome r = launchK(emu, ticketPtx(), 64, 32);
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    for (uint32_t i = 0; i < 64; ++i)
      EXPECT_EQ(r.out[i], 63 - i) << "CTA " << i << " seed " << seed;
  }
}

// When the CTAs a waiting CTA needs cannot be resident, the launch stops
// with the no-progress error naming the spinning warp and its PTX line.
TEST(EmuSchedule, WaitWithoutRoomStops) {
  EmulatorOptions opts;
  opts.numSms = 1;
  opts.maxCtasPerSm = 1;
  opts.maxSteps = 50000;
  Emulator emu(opts);
  std::string ptx = waitPtx();
  Outcome r = launchK(emu, ptx, 2, 64);
  ASSERT_FALSE(r.status.ok());
  const std::string &m = r.status.message();
  EXPECT_NE(m.find("no progress in 50000 warp-instructions"), std::string::npos)
      << m;
  std::string warp = "CTA (0,0,0) warp 0 at PTX line ";
  size_t at = m.find(warp);
  ASSERT_NE(at, std::string::npos) << m;
  unsigned line = unsigned(std::stoul(m.substr(at + warp.size())));
  EXPECT_GE(line, lineOf(ptx, "WAIT:"));
  EXPECT_LE(line, lineOf(ptx, "@%p2 bra WAIT;"));
  EXPECT_NE(m.find("in kernel 'k'"), std::string::npos) << m;
  EXPECT_EQ(emu.lastReport().kind, ReportKind::NoProgress);
}

// A kernel that spins forever in registers stops at the step limit, with
// every live warp of the resident CTAs named (a warp that never touches
// memory keeps running, so only the first CTA became resident).
TEST(EmuSchedule, SpinForeverStops) {
  std::string ptx = std::string(kHeader) +
                    R"(.visible .entry k(.param .u64 k_flag, .param .u64 k_out)
{
  .reg .b32 %r<4>;
SPIN:
  add.u32 %r1, %r1, 1;
  bra SPIN;
}
)";
  EmulatorOptions opts;
  opts.maxSteps = 200000;
  Emulator emu(opts);
  Outcome r = launchK(emu, ptx, 3, 64);
  ASSERT_FALSE(r.status.ok());
  const std::string &m = r.status.message();
  EXPECT_NE(m.find("no progress in 200000 warp-instructions"),
            std::string::npos)
      << m;
  for (const char *w : {" warp 0 at PTX line 8", " warp 1 at PTX line 8"})
    EXPECT_NE(m.find(std::string("CTA (0,0,0)") + w), std::string::npos) << m;
  EXPECT_EQ(emu.lastReport().kind, ReportKind::NoProgress);
}

// Long work is not mistaken for a spin: the step count restarts at every
// store.
TEST(EmuSchedule, StoresRestartTheStepCount) {
  std::string ptx = std::string(kHeader) +
                    R"(.visible .entry k(.param .u64 k_flag, .param .u64 k_out)
{
  .reg .pred %p<2>;
  .reg .b32 %r<4>;
  .reg .b64 %rd<2>;
  ld.param.u64 %rd0, [k_flag];
  mov.u32 %r1, 0;
LOOP:
  add.u32 %r1, %r1, 1;
  st.global.u32 [%rd0], %r1;
  setp.lt.u32 %p0, %r1, 100000;
  @%p0 bra LOOP;
  ret;
}
)";
  EmulatorOptions opts;
  opts.maxSteps = 1000;
  Emulator emu(opts);
  Outcome r = launchK(emu, ptx, 1, 32);
  EXPECT_TRUE(r.status.ok()) << r.status.message();
}

} // namespace
