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
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_EMU_PROFILER_H
#define TILUS_RUNTIME_EMU_PROFILER_H

#include "runtime/emu/Program.h"
#include "tilus/Profile.h"

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace tilus::emu::exec {

struct Warp;

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
  /// A cp.async group landed: its bytes are no longer in flight.
  void landed(Warp &w, uint64_t bytes);
  /// The counters of the launch so far.
  Counters counters() const;

private:
  void sharedRequest(bool store, unsigned phaseLanes);
  Counters c;
  std::vector<Access> pending;
  /// Sector -> 1 when first read, 2 when written (bits).
  std::unordered_map<uint64_t, uint8_t> sectors;
  double inflightSum = 0;
  uint64_t samples = 0;
};

} // namespace tilus::emu::exec

#endif // TILUS_RUNTIME_EMU_PROFILER_H
