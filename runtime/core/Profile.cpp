//===- Profile.cpp - GPU figures, occupancy and the time model ------------===//
//
// The formulas are docs/profiling.md's; a change here changes that page.
//
//===----------------------------------------------------------------------===//

#include "tilus/Profile.h"

#include "runtime/core/OutputFile.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace tilus {

//===----------------------------------------------------------------------===//
// GPUs
//===----------------------------------------------------------------------===//

const std::vector<GpuSpec> &gpuSpecs() {
  // Peak figures from NVIDIA's datasheets and architecture whitepapers; the
  // limits per SM from the CUDA C++ Programming Guide's table of compute
  // capabilities. L2 bandwidth and DRAM latency are not published: they are
  // rounded microbenchmark results and are the model's least certain inputs.
  // dramEfficiency is 0.886 on the H200, where bench/gpu measured a 1 GiB
  // device copy at 4254 GB/s (bench/gpu/results); 0.9 elsewhere, assumed.
  // launchUs and the sm_90 DRAM latency are fitted to the H200 capture in
  // bench/gpu/results/h200-2026-12-04 (bench/gpu/calibrate.py: nine kernels
  // from one CTA to a 256-CTA matmul, every modelled time within 15 % of the
  // measured one); the launch figure is used for every GPU.
  static const std::vector<GpuSpec> specs = {
      {"A100-SXM4-80GB", "sm_80", 108, 1.410, 2039, 0.90, 600, 40e6, 5500,
       312, 19.5, 4, 64, 32, 65536, 255, 167936, 166912, 1024, 5.0,
       "A100 datasheet and Ampere whitepaper (108 SMs, 1410 MHz, 2039 GB/s "
       "HBM2e, 40 MB L2, 312 TFLOPS f16 tensor dense, 19.5 TFLOPS fp32)"},
      {"H100-SXM5", "sm_90", 132, 1.980, 3350, 0.90, 520, 50e6, 11000, 989.4,
       66.9, 4, 64, 32, 65536, 255, 233472, 232448, 1024, 5.0,
       "H100 datasheet and Hopper whitepaper (132 SMs, 1980 MHz, 3.35 TB/s "
       "HBM3, 50 MB L2, 989.4 TFLOPS f16 tensor dense, 66.9 TFLOPS fp32)"},
      {"H200", "sm_90", 132, 1.980, 4800, 0.886, 520, 50e6, 11000, 989.4,
       66.9, 4, 64, 32, 65536, 255, 233472, 232448, 1024, 5.0,
       "H200 datasheet (the H100's SM array and clocks, 4.8 TB/s HBM3e, "
       "141 GB); copy efficiency measured here"},
      {"L40S", "sm_89", 142, 2.520, 864, 0.90, 550, 96e6, 5000, 362.05, 91.6,
       4, 48, 24, 65536, 255, 102400, 101376, 1024, 5.0,
       "L40S datasheet and Ada whitepaper (142 SMs, 2520 MHz, 864 GB/s "
       "GDDR6, 96 MB L2, 362 TFLOPS f16 tensor dense, 91.6 TFLOPS fp32)"},
      {"RTX-4090", "sm_89", 128, 2.520, 1008, 0.90, 550, 72e6, 5000, 165.2,
       82.6, 4, 48, 24, 65536, 255, 102400, 101376, 1024, 5.0,
       "Ada whitepaper, appendix (128 SMs, 2520 MHz, 1008 GB/s GDDR6X, 72 MB "
       "L2, 165.2 TFLOPS f16 tensor with f32 accumulation, 82.6 TFLOPS fp32)"},
  };
  return specs;
}

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
} // namespace

const GpuSpec *findGpu(std::string_view name) {
  std::string want = lower(name);
  if (want.empty())
    return nullptr;
  const GpuSpec *found = nullptr;
  for (const GpuSpec &g : gpuSpecs()) {
    std::string have = lower(g.name);
    if (have == want)
      return &g;
    // "4090" names RTX-4090; "h100" names H100-SXM5.
    if (have.compare(0, want.size(), want) == 0 ||
        (have.size() > want.size() &&
         have.compare(have.size() - want.size(), want.size(), want) == 0)) {
      if (found)
        return nullptr;
      found = &g;
    }
  }
  return found;
}

Status checkGpuNames(const std::vector<std::string> &names) {
  for (const std::string &name : names)
    if (!findGpu(name))
      return Status::error("unknown GPU '" + name + "' (known: " + gpuNames() +
                           ")");
  return Status::success();
}

std::string gpuNames() {
  std::string out;
  for (const GpuSpec &g : gpuSpecs())
    out += (out.empty() ? "" : ", ") + std::string(g.name);
  return out;
}

//===----------------------------------------------------------------------===//
// Occupancy
//===----------------------------------------------------------------------===//

Occupancy computeOccupancy(const GpuSpec &gpu, const KernelResources &r) {
  Occupancy o;
  int warpsPerCta = std::max(1, (r.threadsPerCta + 31) / 32);
  int byWarps = gpu.maxWarpsPerSm / warpsPerCta;
  int byCtas = gpu.maxCtasPerSm;
  int byRegs = byCtas;
  if (r.regsPerThread > gpu.maxRegsPerThread) {
    byRegs = 0;
  } else if (r.regsPerThread > 0) {
    // Registers go to warps in units of 256.
    int perWarp = (r.regsPerThread * 32 + 255) / 256 * 256;
    byRegs = (gpu.regsPerSm / perWarp) / warpsPerCta;
  }
  int byShared = byCtas;
  if (r.sharedBytesPerCta > gpu.maxSharedPerCta) {
    byShared = 0;
  } else {
    int perCta =
        (r.sharedBytesPerCta + 127) / 128 * 128 + gpu.sharedReservedPerCta;
    byShared = gpu.sharedPerSm / perCta;
  }
  o.ctasPerSm = byWarps;
  o.limiter = "warps";
  auto take = [&](int limit, const char *name) {
    if (limit < o.ctasPerSm) {
      o.ctasPerSm = limit;
      o.limiter = name;
    }
  };
  take(byRegs, "registers");
  take(byShared, "shared memory");
  take(byCtas, "ctas");
  o.warpsPerSm = o.ctasPerSm * warpsPerCta;
  if (o.ctasPerSm > 0)
    o.waves = static_cast<double>(r.ctas) / (double(gpu.sms) * o.ctasPerSm);
  return o;
}

//===----------------------------------------------------------------------===//
// The model
//===----------------------------------------------------------------------===//

Estimate estimate(const GpuSpec &gpu, const Counters &c,
                  const KernelResources &r) {
  Estimate e;
  e.gpu = gpu.name;
  e.occupancy = computeOccupancy(gpu, r);
  const Occupancy &o = e.occupancy;
  if (o.ctasPerSm == 0) {
    e.bound = "does not fit (" + o.limiter + ")";
    return e;
  }
  // Throughput limits are per SM: the busiest SM runs ceil(ctas / sms) CTAs
  // in all, so a grid of 133 CTAs on 132 SMs costs what 264 do.
  double ctas = static_cast<double>(std::max<int64_t>(r.ctas, 1));
  double slots = double(gpu.sms) * o.ctasPerSm;
  double waves = std::ceil(ctas / slots);
  double imbalance = std::ceil(ctas / gpu.sms) * gpu.sms / ctas;
  double clockHz = gpu.clockGHz * 1e9;
  auto us = [](double seconds) { return seconds * 1e6; };

  double dramBytes = double(c.dramReadBytes) + double(c.dramWriteBytes);
  double tDram = us(dramBytes / (gpu.dramGBs * 1e9 * gpu.dramEfficiency));
  double l2Bytes =
      32.0 * double(c.globalLdSectors + c.globalStSectors + c.atomSectors);
  double tL2 = us(l2Bytes / (gpu.l2GBs * 1e9));
  // One wavefront per clock per SM.
  double wavefronts = double(c.sharedLdWavefronts + c.sharedStWavefronts +
                             c.sharedLdgstsWavefronts);
  double tShared = us(wavefronts / (gpu.sms * clockHz)) * imbalance;
  double tTensor = us(double(c.mmaFlops) / (gpu.tensorF16Tflops * 1e12)) *
                   imbalance;
  double tFp32 = us(2.0 * double(c.instFp32) * 32 / (gpu.fp32Tflops * 1e12)) *
                 imbalance;
  double tIssue = us(double(c.instructions()) /
                     (double(gpu.sms) * gpu.issuePerClock * clockHz)) *
                  imbalance;
  // Latency: the CTAs of a wave run side by side, the waves one after
  // another, each CTA as long as its critical path (the slowest CTA at
  // least). Without one, Little's law per CTA: a CTA whose warps keep B bytes
  // of loads in flight on average draws B / latency, so its own loads take
  // (its bytes) * latency / B.
  double tLatency = 0;
  size_t index = 0;
  while (index < gpuSpecs().size() &&
         std::string_view(gpuSpecs()[index].name) != gpu.name)
    ++index;
  if (index < c.ctaCyclesAvg.size() && index < c.ctaCyclesMax.size()) {
    tLatency = us(std::max(c.ctaCyclesMax[index],
                           waves * c.ctaCyclesAvg[index]) /
                  clockHz);
  } else if (c.globalLdBytes > 0 && c.inflightAvgBytes > 0) {
    double warpsPerCta = std::max(1, (r.threadsPerCta + 31) / 32);
    double bytesPerCta = double(c.globalLdBytes) / ctas;
    tLatency = us(waves * bytesPerCta * gpu.dramLatencyNs * 1e-9 /
                  (warpsPerCta * c.inflightAvgBytes));
  }
  e.limitsUs = {{"dram", tDram},     {"l2", tL2},       {"shared", tShared},
                {"tensor", tTensor}, {"fp32", tFp32},   {"issue", tIssue},
                {"latency", tLatency}};
  auto worst = std::max_element(
      e.limitsUs.begin(), e.limitsUs.end(),
      [](const auto &a, const auto &b) { return a.second < b.second; });
  e.bound = worst->first;
  e.timeUs = gpu.launchUs + worst->second;
  e.dramRooflinePct = 100.0 * us(dramBytes / (gpu.dramGBs * 1e9)) / e.timeUs;
  return e;
}

Status Profile::model(const std::vector<std::string> &gpus) {
  if (Status s = checkGpuNames(gpus); !s)
    return s;
  estimates.clear();
  if (gpus.empty())
    for (const GpuSpec &g : gpuSpecs())
      estimates.push_back(estimate(g, counters, resources));
  for (const std::string &name : gpus)
    estimates.push_back(estimate(*findGpu(name), counters, resources));
  return Status::success();
}

Status checkProfileFormat(std::string_view format) {
  if (format == "text" || (format.rfind("json:", 0) == 0 && format.size() > 5))
    return Status::success();
  return Status::error("--profile takes text or json:FILE, got '" +
                       std::string(format) + "'");
}

Status emitProfile(const Profile &p, std::string_view format,
                   std::string &text) {
  if (Status s = checkProfileFormat(format); !s)
    return s;
  if (format == "text") {
    text = p.toText();
    return Status::success();
  }
  return writeOutputFile(std::string(format.substr(5)), p.toJson() + "\n");
}

//===----------------------------------------------------------------------===//
// Printing
//===----------------------------------------------------------------------===//

std::vector<std::pair<std::string, double>> Profile::metrics() const {
  const Counters &c = counters;
  auto d = [](uint64_t v) { return static_cast<double>(v); };
  return {
      {"l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum", d(c.globalLdRequests)},
      {"l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum", d(c.globalLdSectors)},
      {"l1tex__t_requests_pipe_lsu_mem_global_op_st.sum", d(c.globalStRequests)},
      {"l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum", d(c.globalStSectors)},
      {"l1tex__t_requests_pipe_lsu_mem_global_op_ldgsts.sum", d(c.ldgstsRequests)},
      {"l1tex__t_sectors_pipe_lsu_mem_global_op_ldgsts.sum", d(c.ldgstsSectors)},
      {"l1tex__t_requests_pipe_lsu_mem_global_op_atom.sum", d(c.atomRequests)},
      {"l1tex__t_sectors_pipe_lsu_mem_global_op_atom.sum", d(c.atomSectors)},
      {"l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum", d(c.sharedLdWavefronts)},
      {"l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum", d(c.sharedLdConflicts)},
      {"l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum", d(c.sharedStWavefronts)},
      {"l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum", d(c.sharedStConflicts)},
      {"l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ldgsts.sum", d(c.sharedLdgstsWavefronts)},
      {"l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ldgsts.sum", d(c.sharedLdgstsConflicts)},
      {"ptx__shared_op_ld_requests.sum", d(c.sharedLdRequests)},
      {"ptx__shared_op_st_requests.sum", d(c.sharedStRequests)},
      {"dram__bytes_read.sum", d(c.dramReadBytes)},
      {"dram__bytes_write.sum", d(c.dramWriteBytes)},
      {"ptx__inst_executed.sum", d(c.instructions())},
      {"ptx__inst_executed_integer.sum", d(c.instInteger)},
      {"ptx__inst_executed_fp32.sum", d(c.instFp32)},
      {"ptx__inst_executed_fp64.sum", d(c.instFp64)},
      {"ptx__inst_executed_half2.sum", d(c.instHalf2)},
      {"ptx__inst_executed_conversion.sum", d(c.instConversion)},
      {"ptx__inst_executed_mma.sum", d(c.instMma)},
      {"ptx__inst_executed_memory.sum", d(c.instMemory)},
      {"ptx__inst_executed_control.sum", d(c.instControl)},
      {"ptx__inst_executed_barrier.sum", d(c.instBarrier)},
      {"ptx__inst_executed_warp.sum", d(c.instWarp)},
      {"ptx__inst_executed_other.sum", d(c.instOther)},
      {"ptx__mma_flops.sum", d(c.mmaFlops)},
      {"ptx__thread_inst_executed.sum", d(c.activeLanes)},
      {"ptx__warp_lane_efficiency.pct",
       c.instructions() ? 100.0 * d(c.activeLanes) / (32.0 * d(c.instructions()))
                        : 0.0},
      {"ptx__global_ld_bytes.sum", d(c.globalLdBytes)},
      {"ptx__global_ld_inflight_bytes_per_warp.max", d(c.inflightMaxBytes)},
      {"ptx__global_ld_inflight_bytes_per_warp.avg", c.inflightAvgBytes},
  };
}

namespace {

std::string number(double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\')
      out += '\\';
    out += ch;
  }
  return out + "\"";
}

constexpr const char *kModelNote =
    "metrics are exact counts from the emulator; model times are modelled, "
    "not measured (docs/profiling.md)";

} // namespace

std::string Profile::toJson() const {
  std::string out = "{\"kernel\": " + quoted(kernel);
  out += ", \"grid\": [" + number(grid[0]) + ", " + number(grid[1]) + ", " +
         number(grid[2]) + "]";
  out += ", \"block\": [" + number(block[0]) + ", " + number(block[1]) + ", " +
         number(block[2]) + "]";
  out += ", \"resources\": {\"threads_per_cta\": " +
         number(resources.threadsPerCta) +
         ", \"registers_per_thread\": " + number(resources.regsPerThread) +
         ", \"registers_estimated\": " +
         (resources.regsEstimated ? "true" : "false") +
         ", \"shared_bytes_per_cta\": " + number(resources.sharedBytesPerCta) +
         ", \"ctas\": " + number(double(resources.ctas)) + "}";
  if (counters.sampledCtas)
    out += ", \"sampled_ctas\": " + number(double(counters.sampledCtas));
  out += ", \"metrics\": {";
  bool first = true;
  for (auto &[name, value] : metrics()) {
    out += (first ? "" : ", ") + quoted(name) + ": " + number(value);
    first = false;
  }
  out += "}, \"model\": {";
  first = true;
  for (const Estimate &e : estimates) {
    out += (first ? "" : ", ") + quoted(e.gpu) + ": {\"time_us\": " +
           number(e.timeUs) + ", \"bound\": " + quoted(e.bound) +
           ", \"limits_us\": {";
    first = false;
    bool firstLimit = true;
    for (auto &[name, t] : e.limitsUs) {
      out += (firstLimit ? "" : ", ") + quoted(name) + ": " + number(t);
      firstLimit = false;
    }
    out += "}, \"dram_roofline_pct\": " + number(e.dramRooflinePct) +
           ", \"occupancy\": {\"ctas_per_sm\": " +
           number(e.occupancy.ctasPerSm) +
           ", \"warps_per_sm\": " + number(e.occupancy.warpsPerSm) +
           ", \"limiter\": " + quoted(e.occupancy.limiter) +
           ", \"waves\": " + number(e.occupancy.waves) + "}}";
  }
  out += "}, \"lines\": [";
  first = true;
  for (const LineCounters &l : counters.lines) {
    out += std::string(first ? "" : ", ") + "{\"file\": " + quoted(l.file) +
           ", \"line\": " + number(l.line) +
           ", \"instructions\": " + number(double(l.instructions)) +
           ", \"global_sectors\": " + number(double(l.globalSectors)) +
           ", \"shared_wavefronts\": " + number(double(l.sharedWavefronts)) +
           ", \"shared_bank_conflicts\": " +
           number(double(l.sharedConflicts)) +
           ", \"path_cycles\": " + number(l.pathCycles) + "}";
    first = false;
  }
  out += "], \"note\": " + quoted(kModelNote) + "}";
  return out;
}

std::string Profile::toText() const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line,
                "profile of %s: grid (%u, %u, %u), block (%u, %u, %u), %d "
                "registers/thread%s, %d B shared/CTA\n",
                kernel.c_str(), grid[0], grid[1], grid[2], block[0], block[1],
                block[2], resources.regsPerThread,
                resources.regsEstimated ? " (estimated)" : " (ptxas)",
                resources.sharedBytesPerCta);
  out += line;
  if (counters.sampledCtas) {
    std::snprintf(line, sizeof line,
                  "counters (emulator; %llu of %lld CTAs ran, scaled to the "
                  "grid: docs/profiling.md):\n",
                  (unsigned long long)counters.sampledCtas,
                  (long long)resources.ctas);
    out += line;
  } else {
    out += "counters (exact, emulator):\n";
  }
  for (auto &[name, value] : metrics()) {
    std::snprintf(line, sizeof line, "  %-60s %s\n", name.c_str(),
                  number(value).c_str());
    out += line;
  }
  if (!counters.lines.empty()) {
    uint64_t total = counters.instructions();
    double cycles = 0;
    for (const LineCounters &l : counters.lines)
      cycles += l.pathCycles;
    out += "hot spots (exact, by source line; the 10 with the most "
           "instructions; path %: the line's share of the warps' modelled "
           "critical path):\n";
    std::snprintf(line, sizeof line, "  %-40s %12s %6s %12s %12s %10s %7s\n",
                  "line", "instructions", "%", "gl sectors", "sh wavefronts",
                  "conflicts", "path %");
    out += line;
    size_t shown = 0;
    for (const LineCounters &l : counters.lines) {
      if (shown++ == 10)
        break;
      std::string where = l.file;
      if (size_t slash = where.rfind('/'); slash != std::string::npos)
        where = where.substr(slash + 1);
      where += ":" + std::to_string(l.line);
      std::snprintf(line, sizeof line,
                    "  %-40s %12llu %5.1f%% %12llu %12llu %10llu %6.1f%%\n",
                    where.c_str(), (unsigned long long)l.instructions,
                    total ? 100.0 * double(l.instructions) / double(total) : 0,
                    (unsigned long long)l.globalSectors,
                    (unsigned long long)l.sharedWavefronts,
                    (unsigned long long)l.sharedConflicts,
                    cycles > 0 ? 100.0 * l.pathCycles / cycles : 0);
      out += line;
    }
  }
  if (!estimates.empty()) {
    out += "model (modelled time, not measured):\n";
    std::snprintf(line, sizeof line,
                  "  %-15s %10s  %-9s %6s  %5s  %s\n", "gpu", "time us",
                  "bound", "%dram", "waves", "limits us (dram l2 shared "
                  "tensor fp32 issue latency)");
    out += line;
    for (const Estimate &e : estimates) {
      std::string limits;
      for (auto &[name, t] : e.limitsUs) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%s%.2f", limits.empty() ? "" : " ", t);
        limits += buf;
      }
      std::snprintf(line, sizeof line, "  %-15s %10.2f  %-9s %5.1f%%  %5.2f  %s\n",
                    e.gpu.c_str(), e.timeUs, e.bound.c_str(),
                    e.dramRooflinePct, e.occupancy.waves, limits.c_str());
      out += line;
    }
  }
  return out;
}

} // namespace tilus
