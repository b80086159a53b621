//===- ProfileTest.cpp - GPU figures, occupancy and the time model --------===//
//
// Occupancy against CUDA's occupancy rules worked by hand for (threads,
// registers, shared memory) triples on sm_80, sm_89 and sm_90; the model's
// limits against their formulas on counts chosen so each limit binds.
//
//===----------------------------------------------------------------------===//

#include "tilus/Profile.h"

#include "gtest/gtest.h"

using namespace tilus;

namespace {

const GpuSpec &gpu(const char *name) {
  const GpuSpec *g = findGpu(name);
  EXPECT_NE(g, nullptr) << name;
  return *g;
}

Occupancy occ(const char *name, int threads, int regs, int shared) {
  KernelResources r;
  r.threadsPerCta = threads;
  r.regsPerThread = regs;
  r.sharedBytesPerCta = shared;
  r.ctas = 1000;
  return computeOccupancy(gpu(name), r);
}

TEST(Profile, FindGpu) {
  EXPECT_STREQ(findGpu("h100")->name, "H100-SXM5");
  EXPECT_STREQ(findGpu("H200")->name, "H200");
  EXPECT_STREQ(findGpu("a100")->name, "A100-SXM4-80GB");
  EXPECT_STREQ(findGpu("4090")->name, "RTX-4090");
  EXPECT_STREQ(findGpu("l40s")->name, "L40S");
  EXPECT_EQ(findGpu("h"), nullptr); // H100 and H200
  EXPECT_EQ(findGpu("v100"), nullptr);
  EXPECT_EQ(findGpu(""), nullptr);
}

TEST(Profile, OccupancySm80) {
  // 8 warps of 32 registers: 64 warps by warps, 64 by registers (1024 a
  // warp): 8 CTAs, warps bind first.
  Occupancy o = occ("a100", 256, 32, 0);
  EXPECT_EQ(o.ctasPerSm, 8);
  EXPECT_EQ(o.warpsPerSm, 64);
  EXPECT_EQ(o.limiter, "warps");
  // 64 registers: 2048 a warp, 32 warps, 4 CTAs.
  o = occ("a100", 256, 64, 0);
  EXPECT_EQ(o.ctasPerSm, 4);
  EXPECT_EQ(o.limiter, "registers");
  // 48 KiB + 1 KiB reserved of 164 KiB: 3 CTAs.
  o = occ("a100", 128, 32, 48 * 1024);
  EXPECT_EQ(o.ctasPerSm, 3);
  EXPECT_EQ(o.limiter, "shared memory");
  // 255 registers round to 8192 a warp: 8 warps, not one 32-warp CTA.
  o = occ("a100", 1024, 255, 0);
  EXPECT_EQ(o.ctasPerSm, 0);
  // 33 registers: 1056 rounds up to 1280 a warp, 51 warps, 6 CTAs of 8.
  o = occ("a100", 256, 33, 0);
  EXPECT_EQ(o.ctasPerSm, 6);
  // One-warp CTAs: 32 CTAs per SM at most.
  o = occ("a100", 32, 16, 0);
  EXPECT_EQ(o.ctasPerSm, 32);
  EXPECT_EQ(o.limiter, "ctas");
  // More shared memory than a CTA may have.
  EXPECT_EQ(occ("a100", 128, 32, 200 * 1024).ctasPerSm, 0);
}

TEST(Profile, OccupancySm90) {
  // 168 registers: 5376 a warp, 12 warps, 3 CTAs of 4 warps.
  Occupancy o = occ("h100", 128, 168, 0);
  EXPECT_EQ(o.ctasPerSm, 3);
  EXPECT_EQ(o.limiter, "registers");
  // 100 KiB + 1 KiB of 228 KiB: 2 CTAs.
  o = occ("h100", 128, 64, 100 * 1024);
  EXPECT_EQ(o.ctasPerSm, 2);
  EXPECT_EQ(o.limiter, "shared memory");
  // 200 KiB fits one CTA on sm_90, none on sm_80.
  EXPECT_EQ(occ("h100", 128, 64, 200 * 1024).ctasPerSm, 1);
  // Waves: 132 SMs x 8 CTAs per wave.
  KernelResources r{256, 32, false, 0, 2112};
  EXPECT_DOUBLE_EQ(computeOccupancy(gpu("h100"), r).waves, 2.0);
}

TEST(Profile, OccupancySm89) {
  // 48 warps per SM: 6 CTAs of 8 warps.
  Occupancy o = occ("l40s", 256, 32, 0);
  EXPECT_EQ(o.ctasPerSm, 6);
  EXPECT_EQ(o.limiter, "warps");
  // 99 KiB is the most a CTA may have; 100 KiB does not fit.
  EXPECT_EQ(occ("4090", 128, 32, 99 * 1024).ctasPerSm, 1);
  EXPECT_EQ(occ("4090", 128, 32, 100 * 1024).ctasPerSm, 0);
}

double limit(const Estimate &e, const char *name) {
  for (auto &[n, t] : e.limitsUs)
    if (n == name)
      return t;
  ADD_FAILURE() << "no limit " << name;
  return 0;
}

TEST(Profile, DramBound) {
  // 1 GiB read once by 132 x 8 CTAs: DRAM binds, at the copy efficiency.
  const GpuSpec &h = gpu("h100");
  Counters c;
  c.dramReadBytes = 1ull << 30;
  c.globalLdBytes = 1ull << 30;
  c.globalLdSectors = (1ull << 30) / 32;
  c.globalLdRequests = c.globalLdSectors / 4;
  c.instMemory = c.globalLdRequests;
  c.inflightAvgBytes = 4096; // plenty in flight
  KernelResources r{256, 32, false, 0, 132 * 8};
  Estimate e = estimate(h, c, r);
  double expect = (1ull << 30) / (h.dramGBs * 1e9 * h.dramEfficiency) * 1e6;
  EXPECT_NEAR(limit(e, "dram"), expect, 1e-9 * expect);
  EXPECT_EQ(e.bound, "dram");
  EXPECT_NEAR(e.timeUs, h.launchUs + expect, 1e-6);
  EXPECT_NEAR(e.dramRooflinePct,
              100.0 * (1ull << 30) / (h.dramGBs * 1e9) * 1e6 / e.timeUs, 1e-9);
}

TEST(Profile, LatencyBound) {
  // One CTA of 4 warps, 512 bytes in flight per warp, 1 MiB to load:
  // 1 MiB * latency / 2 KiB.
  const GpuSpec &h = gpu("h100");
  Counters c;
  c.dramReadBytes = c.globalLdBytes = 1 << 20;
  c.inflightAvgBytes = 512;
  KernelResources r{128, 32, false, 0, 1};
  Estimate e = estimate(h, c, r);
  EXPECT_EQ(e.bound, "latency");
  EXPECT_NEAR(limit(e, "latency"), 512.0 * h.dramLatencyNs * 1e-3, 1e-6);
}

TEST(Profile, IssueAndTensorBound) {
  const GpuSpec &h = gpu("h100");
  KernelResources r{128, 64, false, 0, 132};
  Counters c;
  c.instInteger = 132ull * 4 * 1000000; // a million clocks of issue per SM
  Estimate e = estimate(h, c, r);
  EXPECT_EQ(e.bound, "issue");
  EXPECT_NEAR(limit(e, "issue"), 1e6 / (h.clockGHz * 1e3), 1e-6);
  c = Counters();
  c.instMma = 1000;
  c.mmaFlops = 989400000000ull; // a millisecond at the peak
  e = estimate(h, c, r);
  EXPECT_EQ(e.bound, "tensor");
  EXPECT_NEAR(limit(e, "tensor"), 1000, 1e-6);
  // One CTA more than there are SMs: the busiest SM does twice the work.
  r.ctas = 133;
  c.mmaFlops = 989400000000ull / 132 * 133;
  e = estimate(h, c, r);
  EXPECT_NEAR(limit(e, "tensor"), 2000, 1e-3);
}

TEST(Profile, JsonAndText) {
  Profile p;
  p.kernel = "k";
  p.resources = {128, 32, true, 0, 4};
  p.counters.globalLdRequests = 3;
  p.estimates.push_back(estimate(gpu("h200"), p.counters, p.resources));
  std::string j = p.toJson();
  EXPECT_NE(j.find("\"l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum\": 3"),
            std::string::npos);
  EXPECT_NE(j.find("\"H200\": {\"time_us\": "), std::string::npos);
  EXPECT_NE(j.find("\"bound\": "), std::string::npos);
  std::string t = p.toText();
  EXPECT_NE(t.find("modelled"), std::string::npos);
  EXPECT_NE(t.find("(estimated)"), std::string::npos);
}

} // namespace
