//===- Launch.h - The state of one kernel launch ----------------*- C++ -*-===//
//
// One launch of a kernel: the resident CTAs, their warps and the SIMT stacks,
// shared and local memory and the sanitizer's shadow state. The executor is
// split by instruction family, one file each, all members of Launch:
//
//   Exec.cpp         the launch, CTA turns, the warp loop (runWarp) and the
//                    ALU dispatch (execAlu): which family runs an instruction
//   IntOps.cpp       integer arithmetic, logic, comparison, selection, mov
//   FloatOps.cpp     f16/bf16/f32/f64 arithmetic, testp, cvt
//   MemoryOps.cpp    address resolution and the sanitizer's memory checks,
//                    ld/st, cvta, cp.async, atom/red, createpolicy
//   WarpOps.cpp      shfl, vote, redux, activemask, bar.warp
//   TensorOps.cpp    ldmatrix, stmatrix, wmma, mma
//   AsyncOps.cpp     mbarrier, cp.async.bulk (sm_90's asynchronous copies)
//   WgmmaOps.cpp     wgmma (sm_90a's warpgroup matrix multiply)
//   AsyncHazards.cpp the race detector's view of the asynchronous units:
//                    bulk-copy destinations pending on an mbarrier phase,
//                    wgmma operands pending until a wgmma.wait_group
//   ControlOps.cpp   exit/ret, call (with printf and assert), bar/barrier
//
// Each family file also holds the family's decoder (Decode.h): its
// mnemonics, its modifiers and the checks of its instructions' forms.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_EMU_LAUNCH_H
#define TILUS_RUNTIME_EMU_LAUNCH_H

#include "runtime/emu/Exec.h"
#include "runtime/emu/Float.h"
#include "runtime/emu/Profiler.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace tilus::emu::exec {

constexpr uint32_t kFull = 0xffffffffu;

#define FOR_LANES(mask, ...)                                                   \
  for (uint32_t m_ = (mask); m_; m_ &= m_ - 1) {                               \
    const int l = __builtin_ctz(m_);                                           \
    __VA_ARGS__;                                                               \
  }

/// FOR_LANES inside FOR_LANES: the inner lane is k.
#define FOR_LANES_2(mask, ...)                                                 \
  for (uint32_t n_ = (mask); n_; n_ &= n_ - 1) {                               \
    const int k = __builtin_ctz(n_);                                           \
    __VA_ARGS__;                                                               \
  }

/// d[l] = f(a[l], b[l], c[l]) over the lanes of \p mask; a straight loop
/// when the whole warp is active.
template <typename F>
inline void lanes(uint32_t mask, uint64_t *d, const uint64_t *a,
                  const uint64_t *b, const uint64_t *c, F f) {
  if (mask == 0xffffffffu) {
    for (int l = 0; l < 32; ++l)
      d[l] = f(a[l], b[l], c[l]);
    return;
  }
  FOR_LANES(mask, d[l] = f(a[l], b[l], c[l]));
}

inline int64_t sext(uint64_t v, unsigned bits) {
  if (bits >= 64)
    return int64_t(v);
  unsigned s = 64 - bits;
  return int64_t(v << s) >> s;
}
inline uint64_t zext(uint64_t v, unsigned bits) {
  return bits >= 64 ? v : v & ((1ull << bits) - 1);
}

/// What the poison map (Launch::poison) says of a shared byte: a set of
/// these bits (an mbarrier's bytes hold kPoisonMbarrier alone). The last two
/// are set only under race detection (AsyncHazards.cpp), so that a byte no
/// asynchronous unit touches costs one test of a zero byte in every mode.
constexpr uint8_t kPoisonCpAsync = 1;  ///< a pending cp.async writes it
constexpr uint8_t kPoisonMbarrier = 2; ///< part of an initialized mbarrier
constexpr uint8_t kPoisonBulk = 4;     ///< a bulk copy wrote it (PendingBulk)
constexpr uint8_t kPoisonWgmma = 8;    ///< a pending wgmma reads it

/// Race detection: a bulk copy into shared memory (cp.async.bulk or
/// cp.async.bulk.tensor) whose bytes are pending until its mbarrier phase
/// completes and a thread observes that (AsyncHazards.cpp).
struct PendingBulk {
  uint32_t mbar = 0;         ///< Shared offset of its mbarrier.
  uint32_t pc = 0;           ///< Of the copy.
  uint32_t lo = ~0u, hi = 0; ///< The shared bytes it wrote, inclusive.
  /// The epoch of the first successful wait that observed the phase; 0: none.
  uint32_t obsEpoch = 0;
  uint16_t warp = 0;
  uint8_t parity = 0; ///< Of the phase its complete_tx counts on.
  bool completed = false, live = false;
  /// Per warp of the CTA: the lanes that observed the phase complete.
  std::vector<uint32_t> observed;
};

/// Race detection: a wgmma.mma_async that no wgmma.wait_group covers yet.
struct PendingWgmma {
  uint32_t seq = 0; ///< Unique in the launch (RegOwner::seq).
  uint32_t pc = 0;
  uint32_t group = ~0u; ///< The warp's commit_group ordinal; ~0u: open.
  std::vector<uint32_t> dRegs;
  std::vector<uint32_t> aRegs;  ///< A in registers, else empty.
  std::vector<uint32_t> chunks; ///< 16-byte shared chunks read (offset / 16).
};

/// Race detection: the pending wgmma of a warp that holds a register slot.
struct RegOwner {
  uint32_t seq = 0;   ///< PendingWgmma::seq; 0: none.
  uint16_t index = 0; ///< In its d (or a) operand.
  bool isA = false;   ///< A register operand, not the accumulator.
};

struct CpOp {
  uint32_t dst; ///< Shared offset.
  uint32_t pc;  ///< Of the cp.async, for RaceCheck::Report.
  uint8_t size;
  uint8_t lane; ///< The issuing lane, the writer the race detector records.
  uint8_t data[16];
};

struct Frame {
  uint32_t retPc;
  uint32_t call; ///< Index into ModuleImpl::calls.
};

/// Why the lanes of a parked SIMT stack entry wait.
enum class Park : uint8_t {
  None,
  Barrier,    ///< arrived at bar/barrier barId; pc is the next instruction
  Collective, ///< at the .sync warp instruction at pc, not yet executed
  Aligned,    ///< at the .aligned instruction at pc (a barrier, mma, ...),
              ///< not yet executed: waits for the warp's other lanes
  Spin,       ///< failed the mbarrier.try_wait at pc (executed again when
              ///< it runs): the warp's other paths run first
};

/// A SIMT stack entry: lanes that continue at pc until they reach rpc.
///
/// The stack is a tree in pre-order: an entry's children (the paths that
/// meet again at its pc) follow it with a greater depth. Leaves are paths
/// that can run; an entry with children waits for them (a reconvergence
/// point). Paths parked at a barrier or a warp collective stay in the tree
/// while the warp runs its other paths (PTX's independent thread scheduling;
/// Paths.cpp).
struct Entry {
  uint32_t pc, mask, rpc;
  uint16_t depth = 0;
  Park park = Park::None;
  uint8_t barId = 0;
  uint32_t member = 0; ///< Park::Collective: the member mask the lanes named.
};

/// A bar.red result that reaches lanes \p mask at the release of barrier id.
struct PendingRed {
  uint32_t id, dst, mask;
  Sub op;
};

struct Warp {
  uint32_t id = 0;
  // The current SIMT stack entry.
  uint32_t pc = 0;
  uint32_t active = 0;
  uint32_t rpc = kNoPc;
  uint32_t depth = 0;      ///< The current entry's depth in the tree.
  std::vector<Entry> simt; ///< The entries below the current one.
  uint32_t parked = 0;     ///< Entries of simt parked (Park::Barrier, ...).
  uint32_t valid = 0;
  uint32_t exited = 0;
  /// The warp cannot run: all its live lanes wait at barrier barId (whole:
  /// the current entry; else every path is parked, some at a barrier).
  bool blocked = false;
  bool whole = false;
  /// Paths parked at failing try_waits were made runnable because nothing
  /// else could run: the next failing try_wait goes on instead of parking.
  bool spinResumed = false;
  /// Race detection: the warp has wgmma.mma_async that no wgmma.wait_group
  /// covers yet (wgmmaOpen, wgmmaGroups below); near pc and active, since
  /// the warp loop tests it at every instruction.
  bool wgmmaPending = false;
  /// Race detection: the step (Shadow) of the warp's last bar.warp.sync;
  /// its lanes' accesses before it are ordered with those after it.
  uint32_t syncStep = 0;
  uint32_t barId = 0;
  uint32_t barPc = 0;
  std::vector<PendingRed> reds;
  bool done = false;
  uint32_t tid[3][32];
  uint64_t *regs = nullptr;
  std::vector<Frame> stack[32];
  std::vector<CpOp> uncommitted;
  std::deque<std::vector<CpOp>> groups;
  // Profiling: bytes of global loads waiting in each register, and in all.
  std::vector<uint32_t> pendingBytes;
  uint64_t inflight = 0;
  // Profiling, the critical path (Profiler.h): the warp's modelled clock on
  // each GPU, the cycle each register's value is ready (register * GPUs +
  // GPU), and the ready cycles of its committed cp.async groups and of the
  // group still open.
  std::array<double, kModelGpus> clock{};
  std::vector<double> ready;
  std::deque<std::array<double, kModelGpus>> groupReady;
  std::array<double, kModelGpus> openGroup{};
  // The same for wgmma: the cycle the warpgroup's tensor cores finish the
  // last wgmma issued, the completion of each committed group and of the
  // group still open.
  std::array<double, kModelGpus> wgmmaBusy{};
  std::deque<std::array<double, kModelGpus>> wgmmaGroupReady;
  std::array<double, kModelGpus> wgmmaOpenGroup{};
  /// The source line of the warp's last instruction: a barrier's wait is
  /// added to it when the barrier releases.
  LineCounters *lastLine = nullptr;
  // Race detection (AsyncHazards.cpp): the warp's wgmma.mma_async that no
  // wgmma.wait_group covers, issued since the last commit_group and in
  // committed groups (oldest first), and the registers they hold.
  uint32_t wgmmaCommits = 0;
  std::vector<PendingWgmma> wgmmaOpen;
  std::deque<std::vector<PendingWgmma>> wgmmaGroups;
  std::vector<RegOwner> regOwner; ///< Per register slot, once used.
};

/// Per-byte shadow of shared memory for the race detector: the last write
/// and the reads since it, each by barrier epoch, warp, lane and step (the
/// warp instruction that made it: LaunchStats::warpInstructions, truncated;
/// steps are compared only within an epoch).
struct Shadow {
  uint32_t wEpoch;
  uint32_t rEpoch;
  uint32_t wStep;
  uint32_t rStep; ///< The last read's.
  uint16_t writer;
  uint16_t reader; ///< 0xffff: several warps.
  uint8_t wLane;
  uint8_t rLane; ///< kSeveralLanes: several lanes of the reader warp.
};

/// Shadow::rLane and Hazard::otherLane: more than one lane.
constexpr uint8_t kSeveralLanes = 0xff;

/// RaceCheck::Report: the pcs of the last write and read of each byte, so a
/// hazard names both instructions (kept only in that mode).
struct ShadowPc {
  uint32_t wPc = 0, rPc = 0;
};

/// One distinct hazard (RaceCheck::Report): a kind and the pair of
/// instructions; where it was first seen, and how often. The asynchronous
/// kinds (AsyncHazards.cpp) carry their description in text.
struct Hazard {
  enum Kind : uint8_t {
    Raw,
    War,
    Waw,
    Bulk,      ///< an access to a bulk copy's pending destination
    WgmmaD,    ///< a pending wgmma's accumulator read or written
    WgmmaSmem, ///< a write to shared bytes a pending wgmma reads
    WgmmaA,    ///< a write to a pending wgmma's A registers
    WgmmaExit, ///< a warp exits with wgmma not waited for
  } kind;
  std::string text;
  bool hasBytes = true;
  uint32_t pc, otherPc; ///< The later access and the earlier one.
  Dim3 cta, thread;     ///< Of the first occurrence (the later access).
  uint32_t warp;
  uint16_t otherWarp; ///< 0xffff: several warps read.
  /// When otherWarp is warp (lanes of one warp race): the other lane, or
  /// kSeveralLanes.
  uint8_t otherLane = kSeveralLanes;
  uint32_t lo, hi;    ///< Shared byte offsets, inclusive.
  uint64_t count = 0; ///< Accesses (one per thread) that hit it.
};

/// The other party of a shared-memory race, as its message names it: "warp
/// 3", "other warps", "lane 5 of the same warp", "other lanes of the same
/// warp"; and what is missing between the two accesses.
std::string racePeer(uint32_t warp, uint16_t otherWarp, uint8_t otherLane);
const char *raceGap(uint32_t warp, uint16_t otherWarp);

/// Hazards are distinct by kind and pair of instructions (pcs below 2^30).
inline uint64_t hazardKey(Hazard::Kind kind, uint32_t pc, uint32_t otherPc) {
  return uint64_t(kind) | uint64_t(pc) << 4 | uint64_t(otherPc) << 34;
}

enum class Yield { Again, Blocked, Done, Error };

/// A resident CTA that is not running. The running CTA's state lives in
/// Launch's members; a switch swaps them with the slot, which is O(1): the
/// vectors trade buffers, so the warps' register pointers stay valid.
struct CtaSlot {
  Dim3 cta;
  std::vector<uint8_t> shared, poison, local;
  std::vector<Shadow> shadow;
  std::vector<ShadowPc> shadowPc;
  std::vector<uint16_t> bulkOwner, wgmmaReaders;
  std::vector<PendingBulk> bulks;
  std::vector<uint64_t> regFile;
  std::vector<Warp> warps;
  std::vector<uint32_t> order;
  uint32_t ctaThreads = 0, exitedThreads = 0;
  uint32_t arrived[16] = {}, barCount[16] = {}, redPopc[16] = {};
  bool redAnd[16] = {}, redOr[16] = {};
  uint32_t epoch = 1;
};

/// Float results with a canonical NaN, as the GPU writes them.
inline uint32_t canonF32(float f) {
  return std::isnan(f) ? 0x7fffffffu : f32ToBits(f);
}
inline uint64_t canonF64(double f) {
  return std::isnan(f) ? 0x7fffffffffffffffull : f64ToBits(f);
}

/// A 16-bit float lane of a packed or scalar half type.
struct Half {
  FloatFormat fmt;
  bool packed;
};
inline bool halfType(Type t, Half &h) {
  switch (t) {
  case Type::F16:
    h = {kF16, false};
    return true;
  case Type::F16x2:
    h = {kF16, true};
    return true;
  case Type::BF16:
    h = {kBF16, false};
    return true;
  case Type::BF16x2:
    h = {kBF16, true};
    return true;
  default:
    return false;
  }
}

/// min/max with PTX's NaN and signed-zero rules (FloatOps.cpp).
double fminPtx(double x, double y, bool nanProp);
double fmaxPtx(double x, double y, bool nanProp);

/// The register operands of an ALU instruction: d = f(a, b, c) lane by lane.
struct AluArgs {
  uint64_t *d;
  const uint64_t *a, *b, *c;
};

class Launch {
public:
  Launch(Emulator::Impl &dev, const detail::ModuleImpl &mod, uint32_t kidx,
         Dim3 grid, Dim3 block, uint32_t dyn)
      : dev(dev), mod(mod), fn(mod.funcs[kidx]), grid(grid), block(block),
        dynSmem(dyn), localBytes(fn.localFrame) {}

  Status run(const std::vector<ParamBytes> &params);
  /// Counts into \p p (EmulatorOptions::profile).
  void setProfiler(Profiler *p) { prof = p; }

private:
  Emulator::Impl &dev;
  const detail::ModuleImpl &mod;
  const Function &fn;
  Dim3 grid, block;
  uint32_t dynSmem;
  /// Local memory per thread: the kernel's frame (Layout.h).
  uint32_t localBytes;
  Dim3 cta;
  std::vector<uint8_t> paramBuf;
  std::vector<uint8_t> shared;
  std::vector<Shadow> shadow;     ///< Empty under RaceCheck::Off.
  std::vector<ShadowPc> shadowPc; ///< Only under RaceCheck::Report.
  std::vector<uint8_t> poison;
  // Race detection of the asynchronous units (AsyncHazards.cpp); empty
  // under RaceCheck::Off. Per shared byte, 1 + the index in bulks of the
  // bulk copy that wrote it; per 16-byte chunk, how many pending wgmma
  // read it.
  std::vector<uint16_t> bulkOwner, wgmmaReaders;
  std::vector<PendingBulk> bulks;
  uint32_t wgmmaSeq = 0;
  /// kPoisonBulk or kPoisonWgmma was set in this launch.
  bool asyncPoison = false;
  std::vector<uint8_t> local;
  std::vector<uint64_t> regFile;
  std::vector<Warp> warps;
  uint32_t ctaThreads = 0;
  uint32_t exitedThreads = 0;
  uint32_t arrived[16] = {};
  uint32_t barCount[16] = {}; ///< 0: every thread of the CTA.
  // bar.red accumulators.
  uint32_t redPopc[16] = {};
  bool redAnd[16] = {};
  bool redOr[16] = {};
  uint32_t epoch = 1;
  std::vector<uint32_t> order; ///< The order the warps run in.
  uint64_t rng = 0;
  /// The warp-instruction count at which runWarp stops: the smaller of the
  /// launch limit and the no-progress limit.
  uint64_t instrLimit = ~0ull;
  uint64_t totalLimit = ~0ull;
  uint64_t schedRng = 0;
  /// The resident CTAs that are not running, in turn order.
  std::deque<CtaSlot *> resident;
  /// Every CTA slot of the launch (a finished CTA's slot is reused).
  std::vector<std::unique_ptr<CtaSlot>> slots;

  /// Something happened that a spinning warp may wait for.
  void madeProgress() {
    uint64_t now = dev.stats.warpInstructions;
    instrLimit = totalLimit;
    if (dev.opts.maxSteps && now + dev.opts.maxSteps < instrLimit)
      instrLimit = now + dev.opts.maxSteps;
  }
  /// Exchanges the running CTA's state with \p s.
  void swapCta(CtaSlot &s) {
    std::swap(cta, s.cta);
    shared.swap(s.shared);
    poison.swap(s.poison);
    local.swap(s.local);
    shadow.swap(s.shadow);
    shadowPc.swap(s.shadowPc);
    bulkOwner.swap(s.bulkOwner);
    wgmmaReaders.swap(s.wgmmaReaders);
    bulks.swap(s.bulks);
    regFile.swap(s.regFile);
    warps.swap(s.warps);
    order.swap(s.order);
    std::swap(ctaThreads, s.ctaThreads);
    std::swap(exitedThreads, s.exitedThreads);
    std::swap(arrived, s.arrived);
    std::swap(barCount, s.barCount);
    std::swap(redPopc, s.redPopc);
    std::swap(redAnd, s.redAnd);
    std::swap(redOr, s.redOr);
    std::swap(epoch, s.epoch);
  }
  void stopAtLimit(const Instr &I, const Warp &w, uint32_t mask);
  void startCta(uint64_t linear, uint64_t smem);
  /// Runs the current CTA for about \p quantum warp-instructions; sets
  /// \p done when it finished.
  Status runCtaTurn(uint64_t quantum, bool &done);
  /// A seeded Fisher-Yates shuffle (EmulatorOptions::scheduleSeed).
  template <typename T> void shuffle(std::vector<T> &v) {
    for (size_t i = v.size(); i > 1; --i) {
      schedRng ^= schedRng << 13;
      schedRng ^= schedRng >> 7;
      schedRng ^= schedRng << 17;
      std::swap(v[i - 1], v[schedRng % i]);
    }
  }
  bool failed = false;
  Status error;
  /// The counters, when EmulatorOptions::profile is set; else null.
  Profiler *prof = nullptr;
  uint64_t scratch[32];
  std::string printfOut;

  // Reports --------------------------------------------------------------
  Dim3 threadOf(const Warp &w, int lane) const {
    return Dim3(w.tid[0][lane], w.tid[1][lane], w.tid[2][lane]);
  }
  /// Records the first error of the launch (later ones are dropped).
  void fail(ReportKind kind, const Instr &I, const Warp &w, int lane,
            uint64_t addr, const std::string &what);
  /// "PTX line L (module:L, source F:S)" for the instruction at \p pc.
  std::string where(uint32_t pc) const;

  // Hazards (RaceCheck::Report) -------------------------------------------
  std::vector<Hazard> hazards;
  std::unordered_map<uint64_t, size_t> hazardIndex;
  /// The hazard of \p kind between \p pc and \p otherPc, first seen now by
  /// lane \p lane of \p w against \p otherWarp when \p added.
  Hazard &hazardAt(Hazard::Kind kind, uint32_t pc, uint32_t otherPc,
                   const Warp &w, int lane, uint16_t otherWarp, bool &added);
  /// Counts a hazard at shared byte \p byte; \p lastKey and \p last carry
  /// the hazard already counted for this access, so an access counts once.
  void noteHazard(Hazard::Kind kind, uint32_t pc, uint32_t otherPc,
                  const Warp &w, int lane, uint16_t other, uint8_t otherLane,
                  uint32_t byte, uint64_t &lastKey, Hazard *&last);
  /// An asynchronous hazard (AsyncHazards.cpp) of \p I at shared byte
  /// \p byte (~0u: none): under RaceCheck::Stop the launch stops with
  /// \p what; under Report it is counted and the launch goes on (true).
  /// \p what is only called when the text is needed.
  bool asyncHazard(Hazard::Kind kind, const Instr &I, Warp &w, int lane,
                   uint64_t addr, uint32_t otherPc, uint16_t otherWarp,
                   uint32_t byte, const std::function<std::string()> &what);
  /// The launch's result with the hazards found: \p s if there are none,
  /// else a failure listing each once.
  Status withHazards(Status s);
  Status runLaunch(const std::vector<ParamBytes> &params);

  // Scheduling -----------------------------------------------------------
  /// The current entry is finished (its lanes reached its reconvergence pc,
  /// left, or were parked): the next path with live lanes becomes current.
  /// False when none can run now: the warp is done, blocked at barriers, or
  /// (an error is reported) its paths wait for each other.
  bool popEntry(Warp &w) {
    if (w.parked)
      return pickPath(w);
    for (;;) {
      if (w.simt.empty()) {
        w.active = 0;
        w.pc = w.rpc = kNoPc;
        w.done = (w.valid & ~w.exited) == 0;
        return false;
      }
      Entry e = w.simt.back();
      w.simt.pop_back();
      uint32_t m = e.mask & ~w.exited;
      if (!m || e.pc == e.rpc)
        continue;
      w.pc = e.pc;
      w.active = m;
      w.rpc = e.rpc;
      w.depth = e.depth;
      return true;
    }
  }
  /// Lanes \p taken go to \p target, the other active lanes to \p next;
  /// both meet at \p rpc.
  void diverge(Warp &w, uint32_t taken, uint32_t target, uint32_t next,
               uint32_t rpc) {
    if (rpc != w.rpc) {
      w.simt.push_back({rpc, w.active, w.rpc, uint16_t(w.depth)});
      ++w.depth;
    }
    w.simt.push_back({target, taken, rpc, uint16_t(w.depth)});
    w.active &= ~taken;
    w.pc = next;
    w.rpc = rpc;
  }
  // Divergent paths (Paths.cpp).
  /// The slow popEntry: the topmost runnable path; else a warp collective
  /// whose lanes have all arrived; else lanes waiting at a reconvergence
  /// point go on alone (nothing guarantees that they wait there).
  bool pickPath(Warp &w);
  /// Lanes \p lanes of the current path wait (\p why) at \p pc; the
  /// path's other lanes go on at the next instruction.
  void parkPath(Warp &w, uint32_t lanes, uint32_t pc, Park why, uint32_t barId,
                uint32_t member);
  /// Moves the path at simt[k] (a leaf) to the top of the stack.
  void bringToTop(Warp &w, size_t k);
  /// Runs a .sync warp collective (shfl, vote, redux, match, bar.warp) for
  /// the executing lanes \p mask, one collective per member mask the lanes
  /// name. Lanes of a member mask that are on other paths are waited for:
  /// the lanes naming it park until those arrive at a matching collective,
  /// then all execute together. \p parked: lanes parked, and the path's
  /// others moved past the instruction.
  bool syncCollective(Warp &w, const Instr &I, uint32_t mask, bool &parked);
  /// An .aligned warp instruction (mma, ldmatrix, stmatrix, wmma) executed
  /// by \p mask, not the whole warp: if the warp's other lanes are on other
  /// paths, the path parks (\p parked) until all are at this instruction,
  /// which then runs once for the warp; lanes of the path that skip it or
  /// exited lanes are a partial-warp report (false).
  bool alignWarp(Warp &w, const Instr &I, uint32_t mask, const char *what,
                 bool &parked);
  /// Executes the parked collectives that can complete now. True if any.
  bool fireCollectives(Warp &w);
  /// Lanes of \p need waiting at collectives that match \p I; adds them to
  /// \p sites (as indices into simt).
  uint32_t gatherParked(Warp &w, const Instr &I, uint32_t member, uint32_t need,
                        std::vector<size_t> &sites);
  /// The error when a warp's paths wait for each other at collectives or
  /// aligned barriers.
  void pathDeadlock(Warp &w);

  // Memory ---------------------------------------------------------------
  /// Whether an access of space \p sp at \p addr goes to global memory (a
  /// generic address outside the shared, local and parameter windows).
  static bool isGlobal(Space sp, uint64_t addr) {
    if (sp != Space::Generic)
      return sp == Space::Global;
    auto in = [&](uint64_t base) {
      return addr >= base && addr < base + kWindowSize;
    };
    return !in(kSharedWindow) && !in(kLocalWindow) && !in(kParamWindow);
  }
  uint8_t *resolve(Space sp, uint64_t addr, uint32_t size, bool write,
                   const Instr &I, Warp &w, int lane, bool &isShared,
                   uint32_t &sharedOff);
  bool checkShared(uint32_t off, uint32_t size, bool write, const Instr &I,
                   Warp &w, int lane, uint64_t addr);
  /// checkShared's slow path: shared byte \p byte is poisoned (\p bits).
  bool poisonedAccess(uint8_t bits, uint32_t byte, bool write, const Instr &I,
                      Warp &w, int lane, uint64_t addr);
  /// Its part for the asynchronous units (kPoisonBulk, kPoisonWgmma).
  bool asyncAccess(uint8_t bits, uint32_t byte, bool write, const Instr &I,
                   Warp &w, int lane, uint64_t addr);
  template <bool Report>
  bool checkRaces(uint32_t off, uint32_t size, bool write, const Instr &I,
                  Warp &w, int lane, uint64_t addr);
  /// The warp instruction running now, as the race shadow's step (Shadow).
  uint32_t raceStep() const { return uint32_t(dev.stats.warpInstructions); }
  bool load(Space sp, uint64_t addr, uint32_t size, void *out, const Instr &I,
            Warp &w, int lane);
  bool store(Space sp, uint64_t addr, uint32_t size, const void *in,
             const Instr &I, Warp &w, int lane);
  void landGroup(Warp &w, std::vector<CpOp> &g);
  std::string readCString(uint64_t addr, const Instr &I, Warp &w, int lane,
                          bool &ok);

  // Operands ---------------------------------------------------------------
  /// The 32 lane values of \p o: the register itself, or \p tmp filled.
  const uint64_t *src(const Warp &w, const Operand &o, uint64_t *tmp) {
    if (o.kind == Operand::Reg && !o.neg)
      return w.regs + size_t(o.reg) * 32;
    return srcSlow(w, o, tmp);
  }
  const uint64_t *srcSlow(const Warp &w, const Operand &o, uint64_t *tmp);
  /// Element \p k of the vector operand \p o: its register, \p tmp filled
  /// with an immediate element, or null for `_`.
  const uint64_t *vecElem(const Warp &w, const Operand &o, unsigned k,
                          uint64_t *tmp) const {
    if (o.immMask >> k & 1) {
      std::fill(tmp, tmp + 32, mod.vecImms[o.regs[k]]);
      return tmp;
    }
    return o.regs[k] == kNoReg ? nullptr : w.regs + size_t(o.regs[k]) * 32;
  }
  uint64_t *dst(Warp &w, const Operand &o) {
    if (o.kind == Operand::Reg)
      return w.regs + size_t(o.reg) * 32;
    return scratch;
  }
  uint64_t specialValue(const Warp &w, Special s, int lane);
  uint64_t addrOf(const Warp &w, const Operand &o, int lane) const {
    uint64_t base = o.reg == kNoReg ? 0 : w.regs[size_t(o.reg) * 32 + lane];
    return base + uint64_t(o.imm);
  }

  // The warp loop and the ALU dispatch (Exec.cpp) ---------------------------
  Yield runWarp(Warp &w);
  bool execAlu(Warp &w, const Instr &I, uint32_t mask);

  // Integer, logic, comparison (IntOps.cpp) --------------------------------
  void execMov(Warp &w, const Instr &I, uint32_t mask);
  bool execInt(Warp &w, const Instr &I, uint32_t mask, const AluArgs &args);
  bool execCarry(Warp &w, const Instr &I, uint32_t mask, const AluArgs &args);
  bool execBits(Warp &w, const Instr &I, uint32_t mask, const AluArgs &args);
  bool execBfi(Warp &w, const Instr &I, uint32_t mask, const AluArgs &args);
  bool execLop3(Warp &w, const Instr &I, uint32_t mask, const AluArgs &args);
  bool execSelp(Warp &w, const Instr &I, uint32_t mask, const AluArgs &args);
  bool execSetp(Warp &w, const Instr &I, uint32_t mask, const AluArgs &args);
  bool fastSetp(Warp &w, const Instr &I, uint32_t mask, const uint64_t *a,
                const uint64_t *b);
  bool execSet(Warp &w, const Instr &I, uint32_t mask, const AluArgs &args);

  // Floating point and conversions (FloatOps.cpp) ---------------------------
  bool execFloat(Warp &w, const Instr &I, uint32_t mask, const AluArgs &args);
  bool execHalf(const Instr &I, const Half &h, uint32_t mask,
                const AluArgs &args);
  bool execF32(const Instr &I, uint32_t mask, const AluArgs &args);
  bool execF64(const Instr &I, uint32_t mask, const AluArgs &args);
  bool execTestp(Warp &w, const Instr &I, uint32_t mask, const AluArgs &args);
  bool execCvt(Warp &w, const Instr &I, uint32_t mask);

  // Memory instructions (MemoryOps.cpp) -------------------------------------
  bool execMemory(Warp &w, const Instr &I, uint32_t mask);
  bool execLdSt(Warp &w, const Instr &I, uint32_t mask);
  bool execCpAsync(Warp &w, const Instr &I, uint32_t mask);
  void execCpAsyncGroup(Warp &w, const Instr &I);
  bool execAtom(Warp &w, const Instr &I, uint32_t mask);
  void execCvta(Warp &w, const Instr &I, uint32_t mask);
  bool execCreatepolicy(Warp &w, const Instr &I, uint32_t mask,
                        const AluArgs &args);

  // Warp-wide instructions (WarpOps.cpp) ------------------------------------
  /// One site of a warp collective: an instruction and the lanes executing
  /// it. Lanes of divergent paths execute a collective together from
  /// different sites (instructions with the same qualifiers).
  struct Site {
    const Instr *I;
    uint32_t mask;
  };
  /// Executes a collective for the lanes of all \p n sites (\p mask).
  bool execWarpOp(Warp &w, const Site *s, int n, uint32_t mask);
  bool execShfl(Warp &w, const Site *s, int n, uint32_t mask);
  bool execVote(Warp &w, const Site *s, int n, uint32_t mask);
  bool execRedux(Warp &w, const Site *s, int n, uint32_t mask);
  bool execMatch(Warp &w, const Site *s, int n, uint32_t mask);
  /// Operand \p k of each lane, read from the lane's own site.
  const uint64_t *gather(const Warp &w, const Site *s, int n, int k,
                         uint64_t *buf);
  /// Writes \p v (and the predicate \p p, when the destination is `d|p`)
  /// to each site's destination, for the site's lanes.
  void scatter(Warp &w, const Site *s, int n, const uint64_t *v,
               const uint64_t *p);
  bool checkWholeWarp(Warp &w, const Instr &I, uint32_t mask, const char *what);

  // Tensor instructions (TensorOps.cpp) -------------------------------------
  bool execMma(Warp &w, const Instr &I);
  bool execLdmatrix(Warp &w, const Instr &I);
  bool execStmatrix(Warp &w, const Instr &I);
  bool execWmma(Warp &w, const Instr &I);
  bool execWmmaMma(Warp &w, const Instr &I);

  // mbarrier and bulk copies (AsyncOps.cpp) ---------------------------------
  /// The mbarrier at \p addr (I.space: shared or generic), checked: in
  /// shared memory, aligned, initialized (not yet, when \p init).
  uint8_t *mbarrierAt(const Instr &I, Warp &w, int lane, uint64_t addr,
                      const char *what, bool init);
  /// Adds \p txAdd to the tx-count of the mbarrier at \p p, then takes
  /// \p arrivals arrivals; completes the phase when both reach zero.
  bool mbarrierUpdate(const Instr &I, Warp &w, int lane, uint64_t addr,
                      uint8_t *p, uint32_t arrivals, int64_t txAdd);
  /// mbarrier.*: \p waiting gets the test_wait/try_wait lanes that found
  /// their phase incomplete.
  bool execMbarrier(Warp &w, const Instr &I, uint32_t mask, uint32_t &waiting);
  /// complete_tx of \p bytes on the shared mbarrier at \p mbar.
  bool completeTx(const Instr &I, Warp &w, int lane, uint64_t mbar,
                  uint32_t bytes);
  /// A bulk copy's size and addresses: multiples of 16.
  bool bulkChecks(const Instr &I, Warp &w, int lane, uint64_t dstAddr,
                  uint64_t srcAddr, uint64_t size);
  bool execCpBulk(Warp &w, const Instr &I, uint32_t mask);
  /// cp.async.bulk.tensor: the box of the tensor map (TensorMap.h) at the
  /// coordinates, with out-of-bounds elements filled (loads) or skipped
  /// (stores), swizzled in shared memory as the map says.
  bool execCpBulkTensor(Warp &w, const Instr &I, uint32_t mask);

  // Warpgroup matrix multiply (WgmmaOps.cpp) --------------------------------
  /// Reads \p rows rows (from \p rowBase) of the 32 bytes of K elements of
  /// type \p t of the shared-memory operand that matrix descriptor \p desc
  /// describes, K-major or (\p mnMajor) MN-major.
  bool wgmmaOperand(const Instr &I, Warp &w, int lane, uint64_t desc,
                    unsigned rows, unsigned rowBase, Type t, bool mnMajor,
                    double *out);
  /// wgmma.mma_async: the warp's 16 rows of D.
  bool execWgmma(Warp &w, const Instr &I);
  /// Whether wgmma \p I's B (\p b) or A operand is transposed (MN-major).
  static bool wgmmaTransposed(const Instr &I, bool b);

  /// The shared byte of row \p row, K byte \p b (0 to 31) of the K-major
  /// operand that matrix descriptor \p desc describes.
  static uint32_t wgmmaByte(uint64_t desc, unsigned row, unsigned b);
  /// The shared byte of MN byte \p c, K index \p k (0 to 15) of the
  /// MN-major operand that \p desc describes.
  static uint32_t wgmmaByteMN(uint64_t desc, unsigned c, unsigned k);

  // Hazards of the asynchronous units (AsyncHazards.cpp); called only under
  // race detection ---------------------------------------------------------
  /// Forgets the last CTA's pending bulk copies and wgmma reads.
  void resetAsyncShadow();
  /// RaceCheck::Report: the last asynchronous hazard counted (the step,
  /// lane and key), so that an access of many bytes counts once.
  uint64_t lastAsyncStep = ~0ull, lastAsyncKey = 0;
  int lastAsyncLane = -1;
  /// A bulk copy by lane \p lane into shared memory, counting on the
  /// mbarrier at \p mbarAddr, begins: the index of its record.
  uint32_t bulkBegin(const Instr &I, Warp &w, uint64_t mbarAddr);
  /// The bulk copy \p rec wrote shared bytes [off, off + size).
  void bulkWrote(uint32_t rec, uint32_t off, uint32_t size);
  /// The phase of the mbarrier at shared offset \p mbar completed.
  void bulkPhaseCompleted(uint32_t mbar);
  /// Lane \p lane of \p w saw the mbarrier at \p mbar complete a phase.
  void bulkObserved(uint32_t mbar, const Warp &w, int lane);
  void retireBulk(uint32_t rec);
  /// A wgmma.mma_async of \p w (already executed): checks its registers
  /// against the warp's pending wgmma and records it as pending.
  bool wgmmaIssued(Warp &w, const Instr &I);
  /// wgmma.commit_group and wgmma.wait_group \p n (~0u: every wgmma of
  /// the warp, committed or not).
  void wgmmaCommit(Warp &w);
  void wgmmaWait(Warp &w, uint32_t n);
  /// A non-wgmma instruction of a warp with pending wgmma: its registers.
  bool checkWgmmaRegs(Warp &w, const Instr &I, uint32_t mask);
  /// The warp exited: its pending wgmma are reported and forgotten.
  bool wgmmaAtExit(Warp &w, const Instr &I);
  /// The 16-byte shared chunks a matrix descriptor's \p rows rows (from
  /// \p rowBase) span, K-major or (\p mnMajor, 16-bit elements) MN-major,
  /// appended to \p out.
  static void wgmmaChunks(uint64_t desc, unsigned rows, unsigned rowBase,
                          bool mnMajor, std::vector<uint32_t> &out);

  // Control flow and barriers (ControlOps.cpp) ------------------------------
  /// exit, or ret: lanes with no call frame exit, the others return.
  void execExit(Warp &w, const Instr &I, uint32_t mask);
  bool execCall(Warp &w, const Instr &I, uint32_t mask);
  bool doPrintf(Warp &w, const Instr &I, int lane, uint64_t fmt, uint64_t args,
                int32_t &count);
  /// bar/barrier: the executing lanes arrive and, unless .arrive, wait:
  /// the warp blocks, or only their path when other lanes of the warp are
  /// on other paths.
  Yield execBar(Warp &w, const Instr &I, uint32_t mask);
  void releaseBarrier(uint32_t id);
  bool barrierComplete(uint32_t id) const {
    if (barCount[id])
      return arrived[id] >= barCount[id];
    return arrived[id] + exitedThreads >= ctaThreads;
  }
};

} // namespace tilus::emu::exec

#endif // TILUS_RUNTIME_EMU_LAUNCH_H
