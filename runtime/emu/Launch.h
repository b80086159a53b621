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

struct CpOp {
  uint32_t dst; ///< Shared offset.
  uint32_t pc;  ///< Of the cp.async, for RaceCheck::Report.
  uint8_t size;
  uint8_t data[16];
};

struct Frame {
  uint32_t retPc;
  uint32_t call; ///< Index into ModuleImpl::calls.
};

/// A SIMT stack entry: lanes that continue at pc until they reach rpc.
struct Entry {
  uint32_t pc, mask, rpc;
};

struct Warp {
  uint32_t id = 0;
  // The current SIMT stack entry.
  uint32_t pc = 0;
  uint32_t active = 0;
  uint32_t rpc = kNoPc;
  std::vector<Entry> simt; ///< The entries below the current one.
  uint32_t valid = 0;
  uint32_t exited = 0;
  bool blocked = false; ///< Waiting at a barrier.
  uint32_t barId = 0;
  uint32_t barPc = 0;
  // A pending bar.red result.
  uint32_t redDst = kNoReg;
  uint32_t redMask = 0;
  Sub redOp = Sub::None;
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
};

/// Per-byte shadow of shared memory for the race detector.
struct Shadow {
  uint32_t wEpoch;
  uint32_t rEpoch;
  uint16_t writer;
  uint16_t reader; ///< 0xffff: several warps.
};

/// RaceCheck::Report: the pcs of the last write and read of each byte, so a
/// hazard names both instructions (kept only in that mode).
struct ShadowPc {
  uint32_t wPc = 0, rPc = 0;
};

/// One distinct shared-memory hazard (RaceCheck::Report): a kind and the
/// pair of instructions; where it was first seen, and how often.
struct Hazard {
  enum Kind : uint8_t { Raw, War, Waw } kind;
  uint32_t pc, otherPc; ///< The later access and the earlier one.
  Dim3 cta, thread;     ///< Of the first occurrence (the later access).
  uint32_t warp;
  uint16_t otherWarp; ///< 0xffff: several warps read.
  uint32_t lo, hi;    ///< Shared byte offsets, inclusive.
  uint64_t count = 0; ///< Accesses (one per thread) that hit it.
};

enum class Yield { Again, Blocked, Done, Error };

/// A resident CTA that is not running. The running CTA's state lives in
/// Launch's members; a switch swaps them with the slot, which is O(1): the
/// vectors trade buffers, so the warps' register pointers stay valid.
struct CtaSlot {
  Dim3 cta;
  std::vector<uint8_t> shared, poison, local;
  std::vector<Shadow> shadow;
  std::vector<ShadowPc> shadowPc;
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
  /// Counts a hazard at shared byte \p byte; \p lastKey and \p last carry
  /// the hazard already counted for this access, so an access counts once.
  void noteHazard(Hazard::Kind kind, uint32_t pc, uint32_t otherPc,
                  const Warp &w, int lane, uint16_t other, uint32_t byte,
                  uint64_t &lastKey, Hazard *&last);
  /// The launch's result with the hazards found: \p s if there are none,
  /// else a failure listing each once.
  Status withHazards(Status s);
  Status runLaunch(const std::vector<ParamBytes> &params);

  // Scheduling -----------------------------------------------------------
  /// The current entry is finished (its lanes reached its reconvergence pc
  /// or left): the next entry with live lanes becomes current.
  void popEntry(Warp &w) {
    for (;;) {
      if (w.simt.empty()) {
        w.active = 0;
        w.done = (w.valid & ~w.exited) == 0;
        return;
      }
      Entry e = w.simt.back();
      w.simt.pop_back();
      uint32_t m = e.mask & ~w.exited;
      if (!m || e.pc == e.rpc)
        continue;
      w.pc = e.pc;
      w.active = m;
      w.rpc = e.rpc;
      return;
    }
  }
  /// Lanes \p taken go to \p target, the other active lanes to \p next;
  /// both meet at \p rpc.
  void diverge(Warp &w, uint32_t taken, uint32_t target, uint32_t next,
               uint32_t rpc) {
    if (rpc != w.rpc)
      w.simt.push_back({rpc, w.active, w.rpc});
    w.simt.push_back({target, taken, rpc});
    w.active &= ~taken;
    w.pc = next;
    w.rpc = rpc;
  }

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
  template <bool Report>
  bool checkRaces(uint32_t off, uint32_t size, bool write, const Instr &I,
                  Warp &w, int lane, uint64_t addr);
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
  bool execWarpOp(Warp &w, const Instr &I, uint32_t mask);
  bool execShfl(Warp &w, const Instr &I, uint32_t mask);
  bool execVote(Warp &w, const Instr &I, uint32_t mask);
  bool execRedux(Warp &w, const Instr &I, uint32_t mask);
  bool execMatch(Warp &w, const Instr &I, uint32_t mask);
  bool checkWholeWarp(Warp &w, const Instr &I, uint32_t mask, const char *what);
  bool checkMemberMask(Warp &w, const Instr &I, uint32_t mask,
                       const uint64_t *memberMask, const char *what);

  // Tensor instructions (TensorOps.cpp) -------------------------------------
  bool execMma(Warp &w, const Instr &I);
  bool execLdmatrix(Warp &w, const Instr &I);
  bool execStmatrix(Warp &w, const Instr &I);
  bool execWmma(Warp &w, const Instr &I);
  bool execWmmaMma(Warp &w, const Instr &I);

  // Control flow and barriers (ControlOps.cpp) ------------------------------
  /// exit, or ret: lanes with no call frame exit, the others return.
  void execExit(Warp &w, const Instr &I, uint32_t mask);
  bool execCall(Warp &w, const Instr &I, uint32_t mask);
  bool doPrintf(Warp &w, const Instr &I, int lane, uint64_t fmt, uint64_t args,
                int32_t &count);
  /// bar/barrier: arrives, and blocks the warp unless .arrive.
  Yield execBar(Warp &w, const Instr &I, uint32_t mask);
  void releaseBarrier(uint32_t id);
  /// Lanes of \p lanes parked on the SIMT stack at an unpredicated exit (or a
  /// kernel-level ret) exit now. True if any did.
  bool retireParkedAtExit(Warp &w, uint32_t lanes);
  bool barrierComplete(uint32_t id) const {
    if (barCount[id])
      return arrived[id] >= barCount[id];
    return arrived[id] + exitedThreads >= ctaThreads;
  }
};

} // namespace tilus::emu::exec

#endif // TILUS_RUNTIME_EMU_LAUNCH_H
