//===- Profiler.h - Exact counters of one launch ----------------*- C++ -*-===//
//
// When EmulatorOptions::profile is set, the launch counts what Nsight Compute
// counts about memory and instructions (tilus/Profile.h has the names). The
// memory counters follow the hardware's rules, each stated here and in
// docs/profiling.md:
//
//   Global memory (ld, st, cp.async reads, atom/red): one request per warp
//   instruction that touches global memory; its sectors are the distinct
//   32-byte aligned sectors that the active lanes' bytes fall in. A warp of
//   coalesced 4-byte loads is 1 request and 4 sectors; a stride of 8 bytes
//   gives 8 sectors, a stride of 128 bytes 32.
//
//   Shared memory (ld/st.shared, ldmatrix, stmatrix, cp.async writes): 32
//   banks of 4 bytes. A warp's request is served in phases: all 32 lanes when
//   each lane accesses at most 4 bytes, half-warps for 8 bytes, quarter-warps
//   for 16 bytes (ldmatrix and stmatrix: one phase per 8x8 matrix, whose 8
//   row addresses each name 16 bytes). A phase takes as many wavefronts as
//   the most distinct 4-byte words any one bank is asked for (lanes reading
//   the same word share it: a broadcast); bank conflicts are the wavefronts
//   beyond one per phase.
//
//   DRAM: the compulsory traffic, 32 bytes per distinct sector: read when a
//   sector's first access reads it, written when any access writes it. The
//   L2 of every modelled GPU (40 MB and more) holds what one launch touches
//   twice in all but the largest problems, and a streaming kernel touches each
//   sector once, so this is the traffic below an L2 of that size.
//
//   Bytes in flight: a global load's bytes count from its issue until an
//   instruction reads (or overwrites) the register it loaded; a cp.async's
//   from its issue until the cp.async.wait that lands its group.
//
//   Critical path: each warp keeps a modelled clock per GPU. An instruction
//   issues one cycle after the warp's previous one, and not before the
//   registers it reads are ready; its result is ready a latency later
//   (cycles: integer, fp32 and f16 arithmetic 4, conversions 6, special
//   functions 18, warp shuffles and votes 24, mma 32, shared-memory loads and
//   ldmatrix 30, global loads and atomics the GPU's DRAM latency). A
//   cp.async group is ready a DRAM latency after its last copy issued, and
//   cp.async.wait waits for the groups it lands; a bulk copy lands a DRAM
//   latency after it issues, and a successful mbarrier wait on its mbarrier
//   is ready no earlier. A wgmma.m64nNk16 (f16/bf16) or m64nNk32 (8-bit
//   types, at twice the f16 rate) runs on the tensor cores for N / 2 cycles
//   (the SM's dense rate), after the
//   warp's previous wgmma; its accumulators are ready and its group
//   complete when it ends, and wgmma.wait_group waits for the groups it
//   completes. A barrier releases its
//   warps at the clock of the last to arrive. A CTA takes as long as its
//   slowest warp. What this leaves out (issue contention between warps,
//   bandwidth) the model's throughput limits cover.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_EMU_PROFILER_H
#define TILUS_RUNTIME_EMU_PROFILER_H

#include "runtime/emu/Program.h"
#include "tilus/Profile.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace tilus::emu::exec {

struct Warp;

/// The most GPUs the critical path is modelled for (gpuSpecs() has fewer).
constexpr unsigned kModelGpus = 8;

class Profiler {
public:
  /// One lane's access of an instruction, recorded as memory is touched.
  struct Access {
    uint64_t addr; ///< global: the address; shared: the offset
    uint8_t size;
    uint8_t lane;
    bool shared;
    bool write;
  };

  /// Before each warp instruction: its class, lanes and the registers it
  /// reads, and a sample of the warp's bytes in flight.
  void instruction(const detail::ModuleImpl &mod, const Instr &I,
                   uint32_t mask, Warp &w);
  /// A lane's access; the instruction's requests are tallied by endMemory.
  void access(uint64_t addr, uint32_t size, int lane, bool shared,
              bool write) {
    pending.push_back(
        {addr, uint8_t(size > 255 ? 255 : size), uint8_t(lane), shared, write});
  }
  /// After a memory instruction: its recorded accesses become requests,
  /// sectors, wavefronts, and (for global loads) bytes in flight.
  void endMemory(const Instr &I, Warp &w);
  /// After an mbarrier operation: its accesses of the mbarrier's 8 bytes are
  /// not counted (they are not load or store requests).
  void dropAccesses() { pending.clear(); }
  /// After a bulk copy (cp.async.bulk, the TMA's cp.async.bulk.tensor) onto
  /// the mbarrier at shared offset \p mbar: its global reads count as DRAM
  /// sectors (not as LSU requests: the copy unit is not the LSU), and the
  /// mbarrier's phase completes a DRAM latency after the warp's clock.
  void endBulk(const Instr &I, Warp &w, uint64_t mbar);
  /// mbarrier.try_wait or test_wait on the mbarrier at shared offset \p mbar
  /// succeeded: its result (ops[0]) is ready no earlier than the bulk copies
  /// onto that mbarrier land.
  void mbarrierWaited(const Instr &I, Warp &w, uint64_t mbar);
  /// A cp.async group landed: its bytes are no longer in flight.
  void landed(Warp &w, uint64_t bytes);
  /// Barrier \p id releases its waiting warps: they go on at the clock of
  /// the last one to arrive.
  void barrierReleased(std::vector<Warp> &warps, uint32_t id);
  /// Every warp of the CTA is done: its critical path is the slowest
  /// warp's clock. Resets the warps' profiling state for the next CTA.
  void ctaDone(std::vector<Warp> &warps);
  /// The counters of the launch so far (scaled to the grid when sampled).
  Counters counters() const;
  /// The linear index of the CTA whose warps run next (its sampling group's,
  /// for DRAM sectors).
  void setCta(uint64_t linear) {
    cta = uint32_t(linear / groupWidth);
    ctaLinear = linear;
  }
  /// Only some CTAs run: counts are multiplied by \p s (CTAs / sampled),
  /// and they run in whole groups of \p width consecutive CTAs (grid
  /// columns): a DRAM sector touched by one group only counts as that
  /// group's share of the grid, one touched by several groups once.
  void setSampling(double s, uint64_t width) {
    scale = s;
    groupWidth = std::max<uint64_t>(1, width);
  }

  /// \p dramCycles: the DRAM latency of each GPU the critical path is
  /// modelled for (at most kModelGpus).
  explicit Profiler(const std::vector<double> &dramCycles);

private:
  enum class SharedKind { Load, Store, CpAsync };
  void sharedRequest(SharedKind kind, unsigned phaseLanes);
  /// Sets \p reg's value of warp \p w ready \p latency cycles after the
  /// warp's clock (the DRAM latency when \p latency is negative).
  void setReady(Warp &w, uint32_t reg, double latency);
  /// Register \p reg of \p w is ready at \p cycle on GPU \p gpu.
  void setReadyAt(Warp &w, uint32_t reg, unsigned gpu, double cycle);
  /// The mbarriers of the CTAs that run (CTAs take turns), by bulkKey:
  /// when the latest bulk copy onto each lands, per GPU.
  std::unordered_map<uint64_t, std::array<double, kModelGpus>> bulkLanded;
  /// The key of the mbarrier at shared offset \p mbar of the running CTA.
  uint64_t bulkKey(uint64_t mbar) const {
    return (ctaLinear << 24) ^ (mbar & 0xffffff);
  }
  uint64_t ctaLinear = 0; ///< the running CTA's linear index
  unsigned gpus;                          ///< gpuSpecs().size()
  std::array<double, kModelGpus> dramCycles{};
  std::array<double, kModelGpus> pathSum{}, pathMax{};
  uint64_t ctas = 0;
  Counters c;
  std::vector<Access> pending;
  /// Per 32-byte sector: 1 when first read, 2 when written (bits), the CTA
  /// that touched it first, and whether another CTA touched it too.
  struct SectorState {
    uint8_t state = 0;
    bool shared = false;
    uint32_t cta = 0;
  };
  std::unordered_map<uint64_t, SectorState> sectors;
  /// Per (file, line) of the instructions' `.loc`: the counts, and the key
  /// of the instruction being counted.
  std::unordered_map<uint64_t, LineCounters> lines;
  LineCounters *line = nullptr;
  uint32_t cta = 0;
  double scale = 1;
  uint64_t groupWidth = 1;
  double inflightSum = 0;
  uint64_t samples = 0;
};

} // namespace tilus::emu::exec

#endif // TILUS_RUNTIME_EMU_PROFILER_H
