//===- Profile.h - Counters of a launch and a model of its time -*- C++ -*-===//
//
// What the emulator counts while it runs a kernel, and what a model of named
// GPUs makes of those counts. The two are kept apart on purpose:
//
//   - Counters are exact. The emulator sees every access and instruction of
//     every thread, and counts them under the names Nsight Compute gives the
//     same quantities (`l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum`, ...)
//     so that `ncu --metrics NAME` on a GPU can be set beside them. Where the
//     GPU's counter counts SASS, which the emulator never sees, the emulator's
//     count is of PTX and carries a `ptx__` name instead.
//   - Time is a model: a table of each GPU's public figures (GpuSpec) and a
//     handful of limits (DRAM, L2, shared memory, tensor cores, instruction
//     issue, memory latency) of which the largest binds. It is an estimate,
//     and every printed form of it says "modelled".
//
// docs/profiling.md states each counting rule with its public source, the
// model's formulas, what the model ignores, and the JSON schema.
//
// Plain C++17: the emulator fills Counters, the runtime core models them.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_PROFILE_H
#define TILUS_PROFILE_H

#include "tilus/Status.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tilus {

//===----------------------------------------------------------------------===//
// GPUs
//===----------------------------------------------------------------------===//

/// The public figures of one GPU that the model uses. Throughputs are peak
/// (dense, boost clock); `source` names where each came from.
struct GpuSpec {
  const char *name;     ///< "H100-SXM5"
  const char *arch;     ///< "sm_90"
  int sms;              ///< streaming multiprocessors
  double clockGHz;      ///< SM boost clock
  double dramGBs;       ///< DRAM bandwidth, GB/s (10^9 bytes)
  double dramEfficiency;///< fraction of dramGBs a streaming copy reaches
  double dramLatencyNs; ///< an L2 miss served from DRAM, unloaded
  double l2Bytes;       ///< L2 capacity
  double l2GBs;         ///< L2 bandwidth, GB/s (approximate, measured)
  double tensorF16Tflops; ///< dense mma f16 -> f32
  double fp32Tflops;    ///< non-tensor fp32 (an FMA is 2 flops)
  int issuePerClock;    ///< warp instructions issued per SM per clock
  int maxWarpsPerSm;
  int maxCtasPerSm;
  int regsPerSm;          ///< 32-bit registers
  int maxRegsPerThread;
  int sharedPerSm;        ///< bytes usable by CTAs, per SM
  int maxSharedPerCta;    ///< bytes, static + dynamic, opt-in maximum
  int sharedReservedPerCta; ///< bytes the driver reserves per CTA
  double launchUs;        ///< launch and event-timing overhead of one kernel
  const char *source;
};

/// Every GPU the model knows, in a fixed order.
const std::vector<GpuSpec> &gpuSpecs();

/// The GPU named \p name, case-insensitively, by its full name or by a
/// prefix that names one GPU ("h100", "a100", "4090"); nullptr when none or
/// more than one matches.
const GpuSpec *findGpu(std::string_view name);

/// The names of gpuSpecs(), comma-separated, for error messages and --help.
std::string gpuNames();

/// Success when findGpu knows every name in \p names; else an error naming
/// the first it does not, and the known ones.
Status checkGpuNames(const std::vector<std::string> &names);

//===----------------------------------------------------------------------===//
// Occupancy
//===----------------------------------------------------------------------===//

/// What a launch asks of an SM.
struct KernelResources {
  int threadsPerCta = 0;
  int regsPerThread = 0;     ///< 0: unknown (then estimated, see below)
  bool regsEstimated = false;///< regsPerThread is a guess, not from ptxas
  int sharedBytesPerCta = 0; ///< static + dynamic
  int64_t ctas = 0;          ///< CTAs in the grid
};

/// Resident CTAs per SM under CUDA's occupancy rules (the CUDA Occupancy
/// Calculator's: registers allocated per warp in units of 256, shared memory
/// in units of 128 bytes plus the driver's reservation per CTA, warps and
/// CTAs per SM), and the waves the grid needs.
struct Occupancy {
  int ctasPerSm = 0;
  int warpsPerSm = 0;
  std::string limiter; ///< "warps", "registers", "shared memory", "ctas"
  double waves = 0;    ///< ctas / (sms * ctasPerSm)
};

Occupancy computeOccupancy(const GpuSpec &gpu, const KernelResources &r);

//===----------------------------------------------------------------------===//
// Counters
//===----------------------------------------------------------------------===//

/// The exact counts of one launch (summed over every CTA). Requests are
/// warp-level instructions; sectors are 32-byte; wavefronts are the shared
/// memory's passes of 128 bytes (32 banks of 4 bytes).
/// The counters of the instructions of one source line (their last `.loc`).
struct LineCounters {
  std::string file;
  uint32_t line = 0;
  uint64_t instructions = 0;     ///< warp-level PTX instructions
  uint64_t globalSectors = 0;    ///< of its global loads, stores, cp.async, atomics
  uint64_t sharedWavefronts = 0; ///< of its shared loads, stores, cp.async writes
  uint64_t sharedConflicts = 0;  ///< wavefronts beyond one per phase
  /// Modelled, not counted: the cycles the warps' critical-path clocks
  /// advanced at this line's instructions on the first GPU modelled (one
  /// to issue, plus the wait for operands, cp.async groups or a barrier),
  /// summed over the warps. Its share of all lines' cycles says where a
  /// warp's time goes.
  double pathCycles = 0;
};

struct Counters {
  // Global memory through L1TEX. Loads include cp.async's global reads, as
  // Nsight Compute counts them on sm_90 (measured: docs/profiling.md); the
  // ldgsts counts are that part of them.
  uint64_t globalLdRequests = 0, globalLdSectors = 0;
  uint64_t globalStRequests = 0, globalStSectors = 0;
  uint64_t ldgstsRequests = 0, ldgstsSectors = 0; ///< cp.async global reads
  uint64_t atomRequests = 0, atomSectors = 0;     ///< atom and red, global
  uint64_t globalLdBytes = 0;  ///< bytes asked for by ld.global and cp.async
  // Shared memory.
  uint64_t sharedLdRequests = 0, sharedLdWavefronts = 0, sharedLdConflicts = 0;
  uint64_t sharedStRequests = 0, sharedStWavefronts = 0, sharedStConflicts = 0;
  /// cp.async's shared-memory writes (not part of the st counts).
  uint64_t sharedLdgstsWavefronts = 0, sharedLdgstsConflicts = 0;
  // DRAM below an L2 of the modelled GPU's capacity (see docs/profiling.md).
  uint64_t dramReadBytes = 0, dramWriteBytes = 0;
  // Warp-level PTX instructions by class.
  uint64_t instInteger = 0, instFp32 = 0, instFp64 = 0, instHalf2 = 0;
  uint64_t instConversion = 0, instMma = 0, instMemory = 0, instControl = 0;
  uint64_t instBarrier = 0, instWarp = 0, instOther = 0;
  uint64_t mmaFlops = 0;       ///< 2 * M * N * K per mma, summed
  uint64_t activeLanes = 0;    ///< lanes that executed, summed over instructions
  // Memory-level parallelism: bytes of global loads issued and not yet used,
  // per warp, sampled at each of the warp's instructions.
  uint64_t inflightMaxBytes = 0;  ///< the largest over all warps
  double inflightAvgBytes = 0;    ///< the average over warps' instructions
  // The critical path: for each GPU of gpuSpecs() (same order), the modelled
  // cycles of a CTA's slowest warp, averaged over CTAs and their maximum.
  // Each warp issues one instruction a cycle and waits for its operands
  // (latencies: docs/profiling.md); barriers wait for the last warp. Empty
  // when not measured.
  std::vector<double> ctaCyclesAvg, ctaCyclesMax;
  /// When only some CTAs ran (EmulatorOptions::sampleCtas): how many. The
  /// counts above are then scaled to the whole grid. 0: every CTA ran.
  uint64_t sampledCtas = 0;
  /// Per source line of the kernel (through the PTX's `.loc`), the most
  /// instructions first; instructions without a `.loc` are not listed.
  std::vector<LineCounters> lines;

  uint64_t instructions() const {
    return instInteger + instFp32 + instFp64 + instHalf2 + instConversion +
           instMma + instMemory + instControl + instBarrier + instWarp +
           instOther;
  }
};

//===----------------------------------------------------------------------===//
// The model
//===----------------------------------------------------------------------===//

/// The modelled time of one launch on one GPU.
struct Estimate {
  std::string gpu;
  Occupancy occupancy;
  /// The time each limit implies, microseconds, in a fixed order: "dram",
  /// "l2", "shared", "tensor", "fp32", "issue", "latency".
  std::vector<std::pair<std::string, double>> limitsUs;
  std::string bound;          ///< the limit that binds
  double timeUs = 0;          ///< launchUs + the binding limit
  double dramRooflinePct = 0; ///< DRAM bytes at peak bandwidth / timeUs
};

/// Models \p c on \p gpu. When \p c has no DRAM counts for this GPU's L2,
/// pass the compulsory traffic there (the caller decides; see the docs).
Estimate estimate(const GpuSpec &gpu, const Counters &c,
                  const KernelResources &r);

/// A launch's profile: where it ran, its counters, and the model's estimate
/// for each GPU asked for.
struct Profile {
  std::string kernel;
  uint32_t grid[3] = {1, 1, 1}, block[3] = {1, 1, 1};
  KernelResources resources;
  Counters counters;
  std::vector<Estimate> estimates;

  /// The counters under their metric names, in a fixed order.
  std::vector<std::pair<std::string, double>> metrics() const;
  /// One JSON object: {"kernel", "grid", "block", "resources", "metrics":
  /// {NAME: value}, "model": {GPU: {"time_us", "bound", "limits_us": {...},
  /// "dram_roofline_pct", "occupancy": {...}}}, "note"}.
  std::string toJson() const;
  /// A readable table, counters first, then the model (marked modelled).
  std::string toText() const;
  /// Fills `estimates` for the GPUs named in \p gpus (findGpu's names;
  /// empty: every known GPU); an error names an unknown one.
  Status model(const std::vector<std::string> &gpus);
};

/// The tools' profile destinations (--profile=FORMAT): "text" (a table for
/// the caller to print) or "json:FILE". Checks \p format before a launch.
Status checkProfileFormat(std::string_view format);
/// Writes \p p as \p format asks: the JSON object to FILE, or the table
/// into \p text.
Status emitProfile(const Profile &p, std::string_view format,
                   std::string &text);

} // namespace tilus

#endif // TILUS_PROFILE_H
