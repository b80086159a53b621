//===- Exec.cpp - Executing decoded PTX: warps, memory, sanitizer ---------===//
//
// Resident CTAs take turns (Launch::run); within a CTA, each warp runs a SIMT
// stack: after a divergent branch the two paths run one after the other, and
// the lanes meet again at the branch's immediate post-dominator, computed when
// the module is loaded (the branch's reconvergence pc). Warps are switched
// after every global or shared memory operation and at barriers, in a fixed
// round-robin order.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Exec.h"
#include "runtime/emu/Float.h"

#include <algorithm>
#include <cfenv>
#include <climits>
#include <cmath>
#include <deque>
#include <sstream>
#include <type_traits>

namespace tilus::emu {
namespace {

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
};

/// Per-byte shadow of shared memory for the race detector.
struct Shadow {
  uint32_t wEpoch;
  uint32_t rEpoch;
  uint16_t writer;
  uint16_t reader; ///< 0xffff: several warps.
};

enum class Yield { Again, Blocked, Done, Error };

/// A resident CTA that is not running. The running CTA's state lives in
/// Launch's members; a switch swaps them with the slot, which is O(1): the
/// vectors trade buffers, so the warps' register pointers stay valid.
struct CtaSlot {
  Dim3 cta;
  std::vector<uint8_t> shared, poison, local;
  std::vector<Shadow> shadow;
  std::vector<uint64_t> regFile;
  std::vector<Warp> warps;
  std::vector<uint32_t> order;
  uint32_t ctaThreads = 0, exitedThreads = 0;
  uint32_t arrived[16] = {}, barCount[16] = {}, redPopc[16] = {};
  bool redAnd[16] = {}, redOr[16] = {};
  uint32_t epoch = 1;
};

class Launch {
public:
  Launch(Emulator::Impl &dev, const detail::ModuleImpl &mod, uint32_t kidx,
         Dim3 grid, Dim3 block, uint32_t dyn)
      : dev(dev), mod(mod), fn(mod.funcs[kidx]), grid(grid), block(block),
        dynSmem(dyn) {}

  Status run(const std::vector<ParamBytes> &params);

private:
  Emulator::Impl &dev;
  const detail::ModuleImpl &mod;
  const Function &fn;
  Dim3 grid, block;
  uint32_t dynSmem;
  Dim3 cta;
  std::vector<uint8_t> paramBuf;
  std::vector<uint8_t> shared;
  std::vector<Shadow> shadow;
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
  uint64_t scratch[32];
  std::string printfOut;

  // Reports --------------------------------------------------------------
  Dim3 threadOf(const Warp &w, int lane) const {
    return Dim3(w.tid[0][lane], w.tid[1][lane], w.tid[2][lane]);
  }
  void fail(ReportKind kind, const Instr &I, const Warp &w, int lane,
            uint64_t addr, const std::string &what) {
    if (failed)
      return;
    failed = true;
    Dim3 t = threadOf(w, lane < 0 ? 0 : lane);
    std::ostringstream os;
    os << what << " in kernel '" << fn.name << "' at PTX line " << I.line
       << " (" << mod.name << ":" << I.line << "), CTA (" << cta.x << ","
       << cta.y << "," << cta.z << "), thread (" << t.x << "," << t.y << ","
       << t.z << ")";
    if (addr != ~0ull)
      os << ", address 0x" << hex(addr);
    if (I.srcLine && I.srcFile < mod.files.size() &&
        !mod.files[I.srcFile].empty())
      os << ", source " << mod.files[I.srcFile] << ":" << I.srcLine;
    Report &r = dev.report;
    r.kind = kind;
    r.kernel = fn.name;
    r.ptxLine = I.line;
    r.cta = cta;
    r.thread = t;
    r.address = addr == ~0ull ? 0 : addr;
    r.message = os.str();
    error = Status::error(r.message);
  }

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
  uint8_t *resolve(Space sp, uint64_t addr, uint32_t size, bool write,
                   const Instr &I, Warp &w, int lane, bool &isShared,
                   uint32_t &sharedOff);
  bool checkShared(uint32_t off, uint32_t size, bool write, const Instr &I,
                   Warp &w, int lane, uint64_t addr);
  bool load(Space sp, uint64_t addr, uint32_t size, void *out, const Instr &I,
            Warp &w, int lane);
  bool store(Space sp, uint64_t addr, uint32_t size, const void *in,
             const Instr &I, Warp &w, int lane);
  void landGroup(Warp &w, std::vector<CpOp> &g);
  std::string readCString(uint64_t addr, const Instr &I, Warp &w, int lane,
                          bool &ok);

  // Operands ---------------------------------------------------------------
  const uint64_t *src(const Warp &w, const Operand &o, uint64_t *tmp);
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

  // Execution --------------------------------------------------------------
  Yield runWarp(Warp &w);
  bool execAlu(Warp &w, const Instr &I, uint32_t mask);
  bool fastSetp(Warp &w, const Instr &I, uint32_t mask, const uint64_t *a,
                const uint64_t *b);
  bool execCvt(Warp &w, const Instr &I, uint32_t mask);
  bool execMemory(Warp &w, const Instr &I, uint32_t mask);
  bool execMma(Warp &w, const Instr &I);
  bool execLdmatrix(Warp &w, const Instr &I);
  bool execStmatrix(Warp &w, const Instr &I);
  bool execWmma(Warp &w, const Instr &I);
  bool execWarpOp(Warp &w, const Instr &I, uint32_t mask);
  bool execAtom(Warp &w, const Instr &I, uint32_t mask);
  bool execCall(Warp &w, const Instr &I, uint32_t mask);
  bool doPrintf(Warp &w, const Instr &I, int lane, uint64_t fmt, uint64_t args,
                int32_t &count);
  bool checkWholeWarp(Warp &w, const Instr &I, uint32_t mask, const char *what);
  bool checkMemberMask(Warp &w, const Instr &I, uint32_t mask,
                       const uint64_t *memberMask, const char *what);
  void releaseBarrier(uint32_t id);
  /// Lanes of \p lanes parked on the SIMT stack at an unpredicated exit (or a
  /// kernel-level ret) exit now. True if any did.
  bool retireParkedAtExit(Warp &w, uint32_t lanes) {
    uint32_t gone = 0;
    for (const Entry &e : w.simt) {
      uint32_t m = e.mask & lanes & ~w.exited & ~gone;
      if (!m || e.pc >= mod.code.size())
        continue;
      const Instr &X = mod.code[e.pc];
      if (X.guard != kNoReg || (X.op != Op::Exit && X.op != Op::Ret))
        continue;
      FOR_LANES(m, {
        if (X.op == Op::Exit || w.stack[l].empty())
          gone |= 1u << l;
      });
    }
    if (!gone)
      return false;
    w.exited |= gone;
    exitedThreads += uint32_t(__builtin_popcount(gone));
    for (uint32_t b = 0; b < 16; ++b)
      if (arrived[b] && barrierComplete(b))
        releaseBarrier(b);
    return true;
  }
  bool barrierComplete(uint32_t id) const {
    if (barCount[id])
      return arrived[id] >= barCount[id];
    return arrived[id] + exitedThreads >= ctaThreads;
  }
};

//===----------------------------------------------------------------------===//
// Operands
//===----------------------------------------------------------------------===//

uint64_t Launch::specialValue(const Warp &w, Special s, int lane) {
  switch (s) {
  case Special::TidX:
    return w.tid[0][lane];
  case Special::TidY:
    return w.tid[1][lane];
  case Special::TidZ:
    return w.tid[2][lane];
  case Special::NtidX:
    return block.x;
  case Special::NtidY:
    return block.y;
  case Special::NtidZ:
    return block.z;
  case Special::CtaidX:
    return cta.x;
  case Special::CtaidY:
    return cta.y;
  case Special::CtaidZ:
    return cta.z;
  case Special::NctaidX:
    return grid.x;
  case Special::NctaidY:
    return grid.y;
  case Special::NctaidZ:
    return grid.z;
  case Special::Laneid:
    return uint64_t(lane);
  case Special::Warpid:
    return w.id;
  case Special::Nwarpid:
    return warps.size();
  case Special::Smid:
  case Special::Gridid:
    return 0;
  case Special::Nsmid:
    return 1;
  case Special::Clock:
    return uint32_t(dev.stats.warpInstructions);
  case Special::Clock64:
  case Special::Globaltimer:
    return dev.stats.warpInstructions;
  case Special::DynSmem:
    return dynSmem;
  case Special::TotalSmem:
    return shared.size();
  case Special::LanemaskEq:
    return 1u << lane;
  case Special::LanemaskLt:
    return (1u << lane) - 1;
  case Special::LanemaskLe:
    return (2ull << lane) - 1;
  case Special::LanemaskGt:
    return uint32_t(~((2ull << lane) - 1));
  case Special::LanemaskGe:
    return uint32_t(~((1ull << lane) - 1));
  }
  return 0;
}

const uint64_t *Launch::src(const Warp &w, const Operand &o, uint64_t *tmp) {
  switch (o.kind) {
  case Operand::Reg:
    if (o.neg) {
      const uint64_t *r = w.regs + size_t(o.reg) * 32;
      for (int l = 0; l < 32; ++l)
        tmp[l] = !(r[l] & 1);
      return tmp;
    }
    return w.regs + size_t(o.reg) * 32;
  case Operand::Imm:
    for (int l = 0; l < 32; ++l)
      tmp[l] = uint64_t(o.imm);
    return tmp;
  case Operand::Spec:
    for (int l = 0; l < 32; ++l)
      tmp[l] = specialValue(w, o.special, l);
    return tmp;
  default:
    for (int l = 0; l < 32; ++l)
      tmp[l] = 0;
    return tmp;
  }
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

const char *spaceName(Space s) {
  switch (s) {
  case Space::Generic:
    return "generic";
  case Space::Global:
    return "global";
  case Space::Shared:
    return "shared";
  case Space::Local:
    return "local";
  case Space::Param:
    return "param";
  case Space::Const:
    return "const";
  }
  return "?";
}

uint8_t *Launch::resolve(Space sp, uint64_t addr, uint32_t size, bool write,
                         const Instr &I, Warp &w, int lane, bool &isShared,
                         uint32_t &sharedOff) {
  isShared = false;
  // Only built when a report needs it.
  auto what = [&] {
    return std::to_string(size) + "-byte " + (write ? "write" : "read");
  };
  if (size > 1 && (addr & (size - 1))) {
    fail(ReportKind::Misaligned, I, w, lane, addr,
         "misaligned " + std::string(spaceName(sp)) + " " + what() +
             " (address not a multiple of " + std::to_string(size) + ")");
    return nullptr;
  }
  Space real = sp;
  uint64_t off = addr;
  if (sp == Space::Generic) {
    if (addr >= kSharedWindow && addr < kSharedWindow + kWindowSize) {
      real = Space::Shared;
      off = addr - kSharedWindow;
    } else if (addr >= kLocalWindow && addr < kLocalWindow + kWindowSize) {
      real = Space::Local;
      off = addr - kLocalWindow;
    } else if (addr >= kParamWindow && addr < kParamWindow + kWindowSize) {
      real = Space::Param;
      off = addr - kParamWindow;
    } else {
      real = Space::Global;
    }
  }
  switch (real) {
  case Space::Global:
  case Space::Const: {
    Allocation *a = dev.mem.find(addr, size);
    if (!a) {
      std::string detail;
      const Allocation *n = dev.mem.nearest(addr);
      if (addr == 0 || addr < 4096)
        detail = " (null pointer)";
      else if (n && addr < n->base + n->size + 65536 && addr >= n->base)
        detail = " (" + std::to_string(addr + size - (n->base + n->size)) +
                 " bytes past the end of the " + std::to_string(n->size) +
                 "-byte allocation at 0x" + hex(n->base) + ")";
      else
        detail = " (outside every allocation)";
      fail(ReportKind::OutOfBounds, I, w, lane, addr,
           "out-of-bounds global " + what() + detail);
      return nullptr;
    }
    return a->data.data() + (addr - a->base);
  }
  case Space::Shared:
    if (off + size > shared.size()) {
      fail(ReportKind::OutOfBounds, I, w, lane, addr,
           "out-of-bounds shared " + what() + " at offset " +
               std::to_string(off) + " (the CTA has " +
               std::to_string(shared.size()) + " bytes of shared memory)");
      return nullptr;
    }
    isShared = true;
    sharedOff = uint32_t(off);
    return shared.data() + off;
  case Space::Local: {
    if (off + size > mod.localBytes) {
      fail(ReportKind::OutOfBounds, I, w, lane, addr,
           "out-of-bounds local " + what() + " at offset " +
               std::to_string(off) + " (each thread has " +
               std::to_string(mod.localBytes) + " bytes of local memory)");
      return nullptr;
    }
    size_t t = size_t(w.id) * 32 + size_t(lane);
    return local.data() + t * mod.localBytes + off;
  }
  case Space::Param:
    if (off >= kKernelParamBase) {
      uint64_t p = off - kKernelParamBase;
      if (write) {
        fail(ReportKind::Other, I, w, lane, addr,
             "write to a kernel parameter");
        return nullptr;
      }
      if (p + size > paramBuf.size()) {
        fail(ReportKind::OutOfBounds, I, w, lane, addr,
             "out-of-bounds param " + what() + " at offset " +
                 std::to_string(p) + " (the kernel has " +
                 std::to_string(paramBuf.size()) + " bytes of parameters)");
        return nullptr;
      }
      return paramBuf.data() + p;
    }
    return resolve(Space::Local, off, size, write, I, w, lane, isShared,
                   sharedOff);
  default:
    break;
  }
  fail(ReportKind::Other, I, w, lane, addr, "access to an unknown space");
  return nullptr;
}

bool Launch::checkShared(uint32_t off, uint32_t size, bool write,
                         const Instr &I, Warp &w, int lane, uint64_t addr) {
  for (uint32_t b = 0; b < size; ++b)
    if (poison[off + b]) {
      fail(ReportKind::CpAsyncUnwaited, I, w, lane, addr,
           std::string(write ? "write to" : "read of") +
               " shared memory at offset " + std::to_string(off + b) +
               " before the cp.async.wait_group that covers its pending "
               "cp.async");
      return false;
    }
  if (!dev.opts.detectRaces)
    return true;
  uint16_t me = uint16_t(w.id);
  for (uint32_t b = 0; b < size; ++b) {
    Shadow &s = shadow[off + b];
    if (write) {
      bool raceW = s.wEpoch == epoch && s.writer != me;
      bool raceR = s.rEpoch == epoch && s.reader != me;
      if (raceW || raceR) {
        uint16_t other = raceW ? s.writer : s.reader;
        fail(ReportKind::SharedRace, I, w, lane, addr,
             "shared-memory race: write of offset " + std::to_string(off + b) +
                 " by warp " + std::to_string(w.id) + " after a " +
                 (raceW ? "write" : "read") + " by " +
                 (other == 0xffff ? std::string("other warps")
                                  : "warp " + std::to_string(other)) +
                 " with no barrier between");
        return false;
      }
      s.wEpoch = epoch;
      s.writer = me;
    } else {
      if (s.wEpoch == epoch && s.writer != me) {
        fail(ReportKind::SharedRace, I, w, lane, addr,
             "shared-memory race: read of offset " + std::to_string(off + b) +
                 " by warp " + std::to_string(w.id) +
                 " after a write by warp " + std::to_string(s.writer) +
                 " with no barrier between");
        return false;
      }
      if (s.rEpoch == epoch && s.reader != me)
        s.reader = 0xffff;
      else if (s.rEpoch != epoch) {
        s.rEpoch = epoch;
        s.reader = me;
      }
    }
  }
  return true;
}

bool Launch::load(Space sp, uint64_t addr, uint32_t size, void *out,
                  const Instr &I, Warp &w, int lane) {
  bool sh;
  uint32_t off;
  uint8_t *p = resolve(sp, addr, size, false, I, w, lane, sh, off);
  if (!p)
    return false;
  if (sh && !checkShared(off, size, false, I, w, lane, addr))
    return false;
  std::memcpy(out, p, size);
  return true;
}

bool Launch::store(Space sp, uint64_t addr, uint32_t size, const void *in,
                   const Instr &I, Warp &w, int lane) {
  bool sh;
  uint32_t off;
  uint8_t *p = resolve(sp, addr, size, true, I, w, lane, sh, off);
  if (!p)
    return false;
  if (sh && !checkShared(off, size, true, I, w, lane, addr))
    return false;
  std::memcpy(p, in, size);
  return true;
}

void Launch::landGroup(Warp &w, std::vector<CpOp> &g) {
  uint16_t me = uint16_t(w.id);
  for (CpOp &op : g) {
    std::memcpy(shared.data() + op.dst, op.data, op.size);
    for (uint32_t b = 0; b < op.size; ++b) {
      poison[op.dst + b] = 0;
      Shadow &s = shadow[op.dst + b];
      s.wEpoch = epoch;
      s.writer = me;
    }
  }
  g.clear();
}

std::string Launch::readCString(uint64_t addr, const Instr &I, Warp &w,
                                int lane, bool &ok) {
  std::string s;
  ok = true;
  for (;;) {
    char c;
    if (!load(Space::Generic, addr + s.size(), 1, &c, I, w, lane)) {
      ok = false;
      return s;
    }
    if (!c)
      return s;
    s.push_back(c);
    if (s.size() > 65536)
      return s;
  }
}

//===----------------------------------------------------------------------===//
// Float helpers
//===----------------------------------------------------------------------===//

/// Runs \p f with the host rounding mode set to \p r (f32/f64 arithmetic).
template <typename F> auto withRounding(Rnd r, F f) {
  if (r == Rnd::None || r == Rnd::Rn)
    return f();
  int old = std::fegetround();
  std::fesetround(r == Rnd::Rz   ? FE_TOWARDZERO
                  : r == Rnd::Rm ? FE_DOWNWARD
                  : r == Rnd::Rp ? FE_UPWARD
                                 : FE_TONEAREST);
  auto v = f();
  std::fesetround(old);
  return v;
}

inline uint32_t canonF32(float f) {
  return std::isnan(f) ? 0x7fffffffu : f32ToBits(f);
}
inline uint64_t canonF64(double f) {
  return std::isnan(f) ? 0x7fffffffffffffffull : f64ToBits(f);
}
/// .sat: clamps to [+0.0, 1.0]; NaN and -0.0 become +0.0.
inline float satF(float f) {
  if (std::isnan(f) || f <= 0.0f)
    return 0.0f;
  return f > 1.0f ? 1.0f : f;
}
inline double flushHalf(double v, FloatFormat fmt) {
  int bias = (1 << (fmt.ebits - 1)) - 1;
  if (v != 0 && std::fabs(v) < std::ldexp(1.0, 1 - bias))
    return std::signbit(v) ? -0.0 : 0.0;
  return v;
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

/// Applies \p f elementwise over the halves of 16-bit float operands, in
/// double, rounding the result once (RN) into the format.
template <typename F>
uint64_t halfOp(const Half &h, const Instr &I, uint64_t a, uint64_t b,
                uint64_t c, F f) {
  unsigned n = h.packed ? 2 : 1;
  uint64_t out = 0;
  for (unsigned k = 0; k < n; ++k) {
    double x = decodeFloat((a >> (16 * k)) & 0xffff, h.fmt);
    double y = decodeFloat((b >> (16 * k)) & 0xffff, h.fmt);
    double z = decodeFloat((c >> (16 * k)) & 0xffff, h.fmt);
    if (I.has(FFtz)) {
      x = flushHalf(x, h.fmt);
      y = flushHalf(y, h.fmt);
      z = flushHalf(z, h.fmt);
    }
    double r = f(x, y, z);
    if (I.has(FSat) && !std::isnan(r))
      r = r < 0 ? 0.0 : (r > 1 ? 1.0 : r);
    else if (I.has(FSat))
      r = 0.0;
    if (I.has(FRelu) && !std::isnan(r) && r < 0)
      r = 0.0;
    uint64_t bits = roundF64To(r, h.fmt, Rnd::Rn, false);
    if (I.has(FFtz))
      bits = roundF64To(flushHalf(decodeFloat(bits, h.fmt), h.fmt), h.fmt,
                        Rnd::Rn, false);
    out |= bits << (16 * k);
  }
  return out;
}

double fminPtx(double x, double y, bool nanProp) {
  if (std::isnan(x) || std::isnan(y)) {
    if (nanProp || (std::isnan(x) && std::isnan(y)))
      return NAN;
    return std::isnan(x) ? y : x;
  }
  if (x == 0 && y == 0)
    return std::signbit(x) ? x : y;
  return x < y ? x : y;
}
double fmaxPtx(double x, double y, bool nanProp) {
  if (std::isnan(x) || std::isnan(y)) {
    if (nanProp || (std::isnan(x) && std::isnan(y)))
      return NAN;
    return std::isnan(x) ? y : x;
  }
  if (x == 0 && y == 0)
    return std::signbit(x) ? y : x;
  return x > y ? x : y;
}

bool compare(Cmp c, Type t, uint64_t a, uint64_t b) {
  if (isFloat(t)) {
    double x, y;
    if (t == Type::F32) {
      x = bitsToF32(uint32_t(a));
      y = bitsToF32(uint32_t(b));
    } else if (t == Type::F64) {
      x = bitsToF64(a);
      y = bitsToF64(b);
    } else {
      Half h{kF16, false};
      halfType(t, h);
      x = decodeFloat(a & 0xffff, h.fmt);
      y = decodeFloat(b & 0xffff, h.fmt);
    }
    bool un = std::isnan(x) || std::isnan(y);
    switch (c) {
    case Cmp::Eq:
      return !un && x == y;
    case Cmp::Ne:
      return !un && x != y;
    case Cmp::Lt:
      return !un && x < y;
    case Cmp::Le:
      return !un && x <= y;
    case Cmp::Gt:
      return !un && x > y;
    case Cmp::Ge:
      return !un && x >= y;
    case Cmp::Equ:
      return un || x == y;
    case Cmp::Neu:
      return un || x != y;
    case Cmp::Ltu:
      return un || x < y;
    case Cmp::Leu:
      return un || x <= y;
    case Cmp::Gtu:
      return un || x > y;
    case Cmp::Geu:
      return un || x >= y;
    case Cmp::Num:
      return !un;
    case Cmp::Nan:
      return un;
    default:
      return false;
    }
  }
  unsigned bits = typeBits(t);
  if (t == Type::Pred)
    bits = 1;
  int64_t sa = sext(a, bits), sb = sext(b, bits);
  uint64_t ua = zext(a, bits), ub = zext(b, bits);
  bool sg = isSigned(t);
  switch (c) {
  case Cmp::Eq:
    return ua == ub;
  case Cmp::Ne:
    return ua != ub;
  case Cmp::Lt:
    return sg ? sa < sb : ua < ub;
  case Cmp::Le:
    return sg ? sa <= sb : ua <= ub;
  case Cmp::Gt:
    return sg ? sa > sb : ua > ub;
  case Cmp::Ge:
    return sg ? sa >= sb : ua >= ub;
  case Cmp::Lo:
    return ua < ub;
  case Cmp::Ls:
    return ua <= ub;
  case Cmp::Hi:
    return ua > ub;
  case Cmp::Hs:
    return ua >= ub;
  default:
    return false;
  }
}

uint32_t lop3(uint32_t a, uint32_t b, uint32_t c, uint32_t lut) {
  uint32_t r = 0;
  for (int i = 0; i < 8; ++i) {
    if (!((lut >> i) & 1))
      continue;
    uint32_t x = (i & 4) ? a : ~a;
    uint32_t y = (i & 2) ? b : ~b;
    uint32_t z = (i & 1) ? c : ~c;
    r |= x & y & z;
  }
  return r;
}

uint32_t prmt(uint32_t a, uint32_t b, uint32_t c, Sub mode) {
  uint64_t bytes = (uint64_t(b) << 32) | a;
  auto byteAt = [&](unsigned i) { return uint32_t((bytes >> (8 * i)) & 0xff); };
  uint32_t r = 0;
  if (mode == Sub::None) {
    for (int i = 0; i < 4; ++i) {
      uint32_t sel = (c >> (4 * i)) & 0xf;
      uint32_t v = byteAt(sel & 7);
      if (sel & 8)
        v = (v & 0x80) ? 0xff : 0;
      r |= v << (8 * i);
    }
    return r;
  }
  unsigned s = c & 3;
  unsigned sel[4];
  switch (mode) {
  case Sub::F4e:
    for (unsigned i = 0; i < 4; ++i)
      sel[i] = (s + i) & 7;
    break;
  case Sub::B4e:
    for (unsigned i = 0; i < 4; ++i)
      sel[i] = (s + 8 - i) & 7;
    break;
  case Sub::Rc8:
    for (unsigned i = 0; i < 4; ++i)
      sel[i] = s;
    break;
  case Sub::Ecl: // bytes below byte s repeat byte s
    for (unsigned i = 0; i < 4; ++i)
      sel[i] = std::max(i, s);
    break;
  case Sub::Ecr: // bytes above byte s repeat byte s
    for (unsigned i = 0; i < 4; ++i)
      sel[i] = std::min(i, s);
    break;
  case Sub::Rc16:
    sel[0] = sel[2] = (s & 1) * 2;
    sel[1] = sel[3] = (s & 1) * 2 + 1;
    break;
  default:
    for (unsigned i = 0; i < 4; ++i)
      sel[i] = i;
  }
  for (unsigned i = 0; i < 4; ++i)
    r |= byteAt(sel[i]) << (8 * i);
  return r;
}

//===----------------------------------------------------------------------===//
// ALU
//===----------------------------------------------------------------------===//

/// Integer ALU for one lane: a, b, c are raw register values.
uint64_t intOp(const Instr &I, uint64_t a, uint64_t b, uint64_t c) {
  unsigned bits = typeBits(I.type);
  bool sg = isSigned(I.type);
  int64_t sa = sext(a, bits), sb = sext(b, bits);
  uint64_t ua = zext(a, bits), ub = zext(b, bits);
  auto satS32 = [](int64_t v) -> uint64_t {
    return uint32_t(int32_t(std::clamp<int64_t>(v, INT32_MIN, INT32_MAX)));
  };
  auto mulHi = [&]() -> uint64_t {
    if (bits == 64) {
      if (sg)
        return uint64_t((__int128(sa) * __int128(sb)) >> 64);
      return uint64_t((unsigned __int128)(ua)*ub >> 64);
    }
    if (sg)
      return zext(uint64_t((sa * sb) >> bits), bits);
    return zext((ua * ub) >> bits, bits);
  };
  switch (I.op) {
  case Op::Add:
    if (I.has(FSat) && I.type == Type::S32)
      return satS32(sext(a, 32) + sext(b, 32));
    return zext(a + b, bits);
  case Op::Sub:
    if (I.has(FSat) && I.type == Type::S32)
      return satS32(sext(a, 32) - sext(b, 32));
    return zext(a - b, bits);
  case Op::Mul:
  case Op::Mad: {
    uint64_t r;
    unsigned rbits = bits;
    if (I.has(FWide)) {
      r = sg ? uint64_t(sa * sb) : ua * ub;
      rbits = 2 * bits;
    } else if (I.has(FHi)) {
      r = mulHi();
    } else {
      r = ua * ub;
    }
    if (I.op == Op::Mad) {
      if (I.has(FSat) && I.type == Type::S32 && I.has(FHi))
        return satS32(sext(r, 32) + sext(c, 32));
      r += c;
    }
    return zext(r, rbits);
  }
  case Op::Div:
    if (sg) {
      if (sb == 0)
        return zext(~0ull, bits);
      if (sb == -1)
        return zext(uint64_t(0) - uint64_t(sa), bits);
      return zext(uint64_t(sa / sb), bits);
    }
    return ub == 0 ? zext(~0ull, bits) : ua / ub;
  case Op::Rem:
    if (sg) {
      if (sb == 0)
        return zext(a, bits);
      if (sb == -1)
        return 0;
      return zext(uint64_t(sa % sb), bits);
    }
    return ub == 0 ? ua : ua % ub;
  case Op::Min:
    return sg ? zext(uint64_t(std::min(sa, sb)), bits) : std::min(ua, ub);
  case Op::Max:
    return sg ? zext(uint64_t(std::max(sa, sb)), bits) : std::max(ua, ub);
  case Op::Abs:
    return zext(uint64_t(sa < 0 ? -sa : sa), bits);
  case Op::Neg:
    return zext(uint64_t(0) - ua, bits);
  case Op::And:
    return a & b;
  case Op::Or:
    return a | b;
  case Op::Xor:
    return a ^ b;
  case Op::Not:
    return I.type == Type::Pred ? uint64_t(!(a & 1)) : zext(~a, bits);
  case Op::Cnot:
    return ua == 0 ? 1 : 0;
  case Op::Shl: {
    uint32_t n = uint32_t(b);
    return n >= bits ? 0 : zext(ua << n, bits);
  }
  case Op::Shr: {
    uint32_t n = uint32_t(b);
    if (sg)
      return zext(uint64_t(sa >> std::min<uint32_t>(n, bits - 1)), bits);
    return n >= bits ? 0 : ua >> n;
  }
  case Op::Shf: {
    uint32_t n = uint32_t(c);
    n = I.has(FWrap) ? (n & 31) : std::min<uint32_t>(n, 32);
    uint64_t v = (uint64_t(uint32_t(b)) << 32) | uint32_t(a);
    if (I.has(FLeft))
      return uint32_t((v << n) >> 32);
    return uint32_t(v >> n);
  }
  case Op::Bfe: {
    uint32_t pos = uint32_t(b) & 0xff, len = uint32_t(c) & 0xff;
    unsigned msb = bits - 1;
    uint64_t sbit = 0;
    if (sg && len != 0)
      sbit = (ua >> std::min<uint32_t>(pos + len - 1, msb)) & 1;
    uint64_t r = 0;
    for (unsigned i = 0; i < bits; ++i) {
      uint64_t bit = (i < len && pos + i <= msb) ? (ua >> (pos + i)) & 1 : sbit;
      r |= bit << i;
    }
    return r;
  }
  case Op::Popc:
    return uint64_t(__builtin_popcountll(ua));
  case Op::Clz:
    return ua == 0 ? bits : uint64_t(__builtin_clzll(ua) - (64 - bits));
  case Op::Brev: {
    uint64_t r = 0;
    for (unsigned i = 0; i < bits; ++i)
      r |= ((ua >> i) & 1) << (bits - 1 - i);
    return r;
  }
  case Op::Bfind: {
    uint64_t v = ua;
    if (sg && sa < 0)
      v = zext(~ua, bits);
    if (v == 0)
      return 0xffffffffu;
    unsigned pos = 63 - __builtin_clzll(v);
    return I.has(FShiftAmt) ? bits - 1 - pos : pos;
  }
  case Op::Dp4a: {
    // c plus the four byte products, each byte sign- or zero-extended by
    // its operand's type; wraps modulo 2^32.
    bool sa4 = I.type == Type::S32, sb4 = I.type2 == Type::S32;
    uint32_t acc = uint32_t(c);
    for (unsigned k = 0; k < 32; k += 8) {
      int64_t x = sa4 ? sext(a >> k, 8) : int64_t((a >> k) & 0xff);
      int64_t y = sb4 ? sext(b >> k, 8) : int64_t((b >> k) & 0xff);
      acc += uint32_t(x * y);
    }
    return acc;
  }
  case Op::Sad: {
    uint64_t diff = sg ? (sa > sb ? uint64_t(sa) - uint64_t(sb)
                                  : uint64_t(sb) - uint64_t(sa))
                       : (ua > ub ? ua - ub : ub - ua);
    return zext(diff + c, bits);
  }
  default:
    return 0;
  }
}

/// The common integer operations, with the operation chosen once per
/// instruction instead of once per lane.
bool fastInt(const Instr &I, uint32_t mask, uint64_t *d, const uint64_t *a,
             const uint64_t *b, const uint64_t *c) {
  unsigned bits = typeBits(I.type);
  if (bits != 32 && bits != 64 && bits != 16)
    return false;
  uint64_t m = bits == 64 ? ~0ull : (1ull << bits) - 1;
  bool sg = isSigned(I.type);
  bool plain = !(I.flags & (FSat | FHi | FWide));
  switch (I.op) {
  case Op::Add:
    if (!plain)
      return false;
    lanes(mask, d, a, b, c,
          [m](uint64_t x, uint64_t y, uint64_t) { return (x + y) & m; });
    return true;
  case Op::Sub:
    if (!plain)
      return false;
    lanes(mask, d, a, b, c,
          [m](uint64_t x, uint64_t y, uint64_t) { return (x - y) & m; });
    return true;
  case Op::Mul:
  case Op::Mad: {
    bool mad = I.op == Op::Mad;
    if (I.has(FLo)) {
      lanes(mask, d, a, b, c, [m, mad](uint64_t x, uint64_t y, uint64_t z) {
        return (x * y + (mad ? z : 0)) & m;
      });
      return true;
    }
    if (I.has(FWide) && bits == 32) {
      if (sg)
        lanes(mask, d, a, b, c, [mad](uint64_t x, uint64_t y, uint64_t z) {
          return uint64_t(int64_t(int32_t(x)) * int32_t(y)) + (mad ? z : 0);
        });
      else
        lanes(mask, d, a, b, c, [mad](uint64_t x, uint64_t y, uint64_t z) {
          return uint64_t(uint32_t(x)) * uint32_t(y) + (mad ? z : 0);
        });
      return true;
    }
    return false;
  }
  case Op::And:
    lanes(mask, d, a, b, c,
          [](uint64_t x, uint64_t y, uint64_t) { return x & y; });
    return true;
  case Op::Or:
    lanes(mask, d, a, b, c,
          [](uint64_t x, uint64_t y, uint64_t) { return x | y; });
    return true;
  case Op::Xor:
    lanes(mask, d, a, b, c,
          [](uint64_t x, uint64_t y, uint64_t) { return x ^ y; });
    return true;
  case Op::Shl:
    lanes(mask, d, a, b, c, [m, bits](uint64_t x, uint64_t y, uint64_t) {
      uint32_t n = uint32_t(y);
      return n >= bits ? 0 : (x << n) & m;
    });
    return true;
  case Op::Shr:
    if (sg)
      lanes(mask, d, a, b, c, [m, bits](uint64_t x, uint64_t y, uint64_t) {
        uint32_t n = std::min<uint32_t>(uint32_t(y), bits - 1);
        return uint64_t(sext(x, bits) >> n) & m;
      });
    else
      lanes(mask, d, a, b, c, [m, bits](uint64_t x, uint64_t y, uint64_t) {
        uint32_t n = uint32_t(y);
        return n >= bits ? 0 : (x & m) >> n;
      });
    return true;
  case Op::Shf: {
    bool wrap = I.has(FWrap), left = I.has(FLeft);
    lanes(mask, d, a, b, c, [wrap, left](uint64_t x, uint64_t y, uint64_t z) {
      uint32_t n = uint32_t(z);
      n = wrap ? (n & 31) : std::min<uint32_t>(n, 32);
      uint64_t v = (uint64_t(uint32_t(y)) << 32) | uint32_t(x);
      return left ? uint64_t(uint32_t((v << n) >> 32))
                  : uint64_t(uint32_t(v >> n));
    });
    return true;
  }
  case Op::Min:
  case Op::Max: {
    bool isMin = I.op == Op::Min;
    if (sg)
      lanes(mask, d, a, b, c,
            [m, bits, isMin](uint64_t x, uint64_t y, uint64_t) {
              int64_t p = sext(x, bits), q = sext(y, bits);
              return uint64_t(isMin ? std::min(p, q) : std::max(p, q)) & m;
            });
    else
      lanes(mask, d, a, b, c, [m, isMin](uint64_t x, uint64_t y, uint64_t) {
        x &= m;
        y &= m;
        return isMin ? std::min(x, y) : std::max(x, y);
      });
    return true;
  }
  default:
    return false;
  }
}

template <typename T> inline T asType(uint64_t v) {
  if constexpr (std::is_same_v<T, float>)
    return bitsToF32(uint32_t(v));
  else
    return T(v);
}

/// setp without a boolean operator on 32/64-bit integers and f32.
template <typename T>
void setpLanes(Cmp cmp, uint32_t mask, uint64_t *p, uint64_t *q,
               const uint64_t *a, const uint64_t *b) {
  auto run = [&](auto f) {
    if (mask == 0xffffffffu && !q) {
      for (int l = 0; l < 32; ++l)
        p[l] = f(asType<T>(a[l]), asType<T>(b[l]));
      return;
    }
    FOR_LANES(mask, {
      bool r = f(asType<T>(a[l]), asType<T>(b[l]));
      p[l] = r;
      if (q)
        q[l] = !r;
    });
  };
  switch (cmp) {
  case Cmp::Eq:
    return run([](T x, T y) { return x == y; });
  case Cmp::Ne:
    if constexpr (std::is_same_v<T, float>)
      return run([](T x, T y) { return x == x && y == y && x != y; });
    else
      return run([](T x, T y) { return x != y; });
  case Cmp::Lt:
  case Cmp::Lo:
    return run([](T x, T y) { return x < y; });
  case Cmp::Le:
  case Cmp::Ls:
    return run([](T x, T y) { return x <= y; });
  case Cmp::Gt:
  case Cmp::Hi:
    return run([](T x, T y) { return x > y; });
  case Cmp::Ge:
  case Cmp::Hs:
    return run([](T x, T y) { return x >= y; });
  default:
    return;
  }
}

bool Launch::fastSetp(Warp &w, const Instr &I, uint32_t mask, const uint64_t *a,
                      const uint64_t *b) {
  if (I.boolOp != BoolOp::None)
    return false;
  const Operand &o = I.ops[0];
  uint64_t *p =
      o.kind == Operand::Vec
          ? (o.regs[0] == kNoReg ? scratch : w.regs + size_t(o.regs[0]) * 32)
          : dst(w, o);
  uint64_t *q = o.kind == Operand::Vec && o.regs[1] != kNoReg
                    ? w.regs + size_t(o.regs[1]) * 32
                    : nullptr;
  bool isF = I.type == Type::F32;
  bool orderedOnly = I.cmp <= Cmp::Hs;
  if (!orderedOnly)
    return false;
  bool unsignedCmp = I.cmp >= Cmp::Lo && I.cmp <= Cmp::Hs;
  switch (I.type) {
  case Type::S32:
    if (unsignedCmp)
      setpLanes<uint32_t>(I.cmp, mask, p, q, a, b);
    else
      setpLanes<int32_t>(I.cmp, mask, p, q, a, b);
    return true;
  case Type::U32:
  case Type::B32:
    setpLanes<uint32_t>(I.cmp, mask, p, q, a, b);
    return true;
  case Type::S64:
    if (unsignedCmp)
      setpLanes<uint64_t>(I.cmp, mask, p, q, a, b);
    else
      setpLanes<int64_t>(I.cmp, mask, p, q, a, b);
    return true;
  case Type::U64:
  case Type::B64:
    setpLanes<uint64_t>(I.cmp, mask, p, q, a, b);
    return true;
  case Type::F32:
    if (isF && !I.has(FFtz) && !unsignedCmp) {
      setpLanes<float>(I.cmp, mask, p, q, a, b);
      return true;
    }
    return false;
  default:
    return false;
  }
}

bool Launch::execAlu(Warp &w, const Instr &I, uint32_t mask) {
  uint64_t ta[32], tb[32], tc[32];
  const uint64_t *a = I.nops > 1 ? src(w, I.ops[1], ta) : ta;
  const uint64_t *b = I.nops > 2 ? src(w, I.ops[2], tb) : tb;
  const uint64_t *c = I.nops > 3 ? src(w, I.ops[3], tc) : tc;
  uint64_t *d = dst(w, I.ops[0]);
  Type t = I.type;
  Half h{kF16, false};
  // Bitwise and special ops that ignore the float type.
  switch (I.op) {
  case Op::Createpolicy:
    FOR_LANES(mask, d[l] = 0x1000000000000000ull);
    return true;
  case Op::Bfi: {
    uint64_t te[32];
    const uint64_t *e = src(w, I.ops[4], te);
    unsigned bits = typeBits(t);
    FOR_LANES(mask, {
      uint32_t pos = uint32_t(c[l]) & 0xff, len = uint32_t(e[l]) & 0xff;
      uint64_t r = zext(b[l], bits);
      for (uint32_t i = 0; i < len && pos + i < bits; ++i)
        r = (r & ~(1ull << (pos + i))) | (((a[l] >> i) & 1) << (pos + i));
      d[l] = r;
    });
    return true;
  }
  case Op::Lop3: {
    if (I.ops[4].kind == Operand::Imm) {
      // A tree of bitwise multiplexers over the table's eight entries.
      uint32_t lut = uint32_t(I.ops[4].imm), e[8];
      for (int i = 0; i < 8; ++i)
        e[i] = ((lut >> i) & 1) ? ~0u : 0u;
      lanes(mask, d, a, b, c, [&e](uint64_t x, uint64_t y, uint64_t z) {
        uint32_t p = uint32_t(x), q = uint32_t(y), r = uint32_t(z);
        auto mux = [](uint32_t s, uint32_t one, uint32_t zero) {
          return (s & one) | (~s & zero);
        };
        uint32_t t0 = mux(r, e[1], e[0]), t1 = mux(r, e[3], e[2]);
        uint32_t t2 = mux(r, e[5], e[4]), t3 = mux(r, e[7], e[6]);
        return uint64_t(mux(p, mux(q, t3, t2), mux(q, t1, t0)));
      });
      return true;
    }
    uint64_t te[32];
    const uint64_t *e = src(w, I.ops[4], te);
    FOR_LANES(mask, d[l] = lop3(uint32_t(a[l]), uint32_t(b[l]), uint32_t(c[l]),
                                uint32_t(e[l]) & 0xff));
    return true;
  }
  case Op::Prmt:
    FOR_LANES(mask, d[l] = prmt(uint32_t(a[l]), uint32_t(b[l]), uint32_t(c[l]),
                                I.sub));
    return true;
  case Op::Not:
  case Op::Cnot:
    if (fastInt(I, mask, d, a, b, c))
      return true;
    FOR_LANES(mask, d[l] = intOp(I, a[l], b[l], c[l]));
    return true;
  case Op::Bfe:
  case Op::Popc:
  case Op::Clz:
  case Op::Brev:
  case Op::Bfind:
  case Op::Dp4a:
  case Op::Sad:
    FOR_LANES(mask, d[l] = intOp(I, a[l], b[l], c[l]));
    return true;
  case Op::Selp:
    FOR_LANES(mask, d[l] = (c[l] & 1) ? a[l] : b[l]);
    return true;
  case Op::Setp: {
    if (fastSetp(w, I, mask, a, b))
      return true;
    const Operand &o = I.ops[0];
    uint64_t *p = o.kind != Operand::Vec ? dst(w, o)
                  : o.regs[0] == kNoReg  ? scratch
                                         : w.regs + size_t(o.regs[0]) * 32;
    uint64_t *q = o.kind == Operand::Vec && o.regs[1] != kNoReg
                      ? w.regs + size_t(o.regs[1]) * 32
                      : nullptr;
    uint64_t tp[32];
    const uint64_t *pc = I.boolOp != BoolOp::None ? src(w, I.ops[3], tp) : tp;
    unsigned n = (t == Type::F16x2 || t == Type::BF16x2) ? 2 : 1;
    Type et = t == Type::F16x2 ? Type::F16 : t == Type::BF16x2 ? Type::BF16 : t;
    FOR_LANES(mask, {
      bool r[2];
      for (unsigned k = 0; k < n; ++k) {
        uint64_t x = a[l] >> (16 * k), y = b[l] >> (16 * k);
        if (I.has(FFtz) && et == Type::F32) {
          x = f32ToBits(ftz(bitsToF32(uint32_t(x))));
          y = f32ToBits(ftz(bitsToF32(uint32_t(y))));
        }
        r[k] = compare(I.cmp, et, x, y);
      }
      if (n == 1)
        r[1] = !r[0];
      bool cc = pc[l] & 1;
      auto comb = [&](bool x) {
        switch (I.boolOp) {
        case BoolOp::And:
          return x && cc;
        case BoolOp::Or:
          return x || cc;
        case BoolOp::Xor:
          return x != cc;
        default:
          return x;
        }
      };
      p[l] = comb(r[0]);
      if (q)
        q[l] = comb(r[1]);
    });
    return true;
  }
  case Op::Set: {
    uint64_t tp[32];
    const uint64_t *pc = I.boolOp != BoolOp::None ? src(w, I.ops[3], tp) : tp;
    FOR_LANES(mask, {
      bool r = compare(I.cmp, I.type2, a[l], b[l]);
      bool cc = pc[l] & 1;
      if (I.boolOp == BoolOp::And)
        r = r && cc;
      else if (I.boolOp == BoolOp::Or)
        r = r || cc;
      else if (I.boolOp == BoolOp::Xor)
        r = r != cc;
      if (I.type == Type::F32)
        d[l] = r ? 0x3f800000u : 0;
      else
        d[l] = r ? zext(~0ull, typeBits(I.type)) : 0;
    });
    return true;
  }
  case Op::Testp:
    FOR_LANES(mask, {
      double x =
          t == Type::F32 ? double(bitsToF32(uint32_t(a[l]))) : bitsToF64(a[l]);
      int cls = std::fpclassify(x);
      if (t == Type::F32)
        cls = std::fpclassify(bitsToF32(uint32_t(a[l])));
      bool r = false;
      switch (I.sub) {
      case Sub::Finite:
        r = std::isfinite(x);
        break;
      case Sub::Infinite:
        r = std::isinf(x);
        break;
      case Sub::Number:
        r = !std::isnan(x);
        break;
      case Sub::NotANumber:
        r = std::isnan(x);
        break;
      case Sub::Normal:
        r = cls == FP_NORMAL;
        break;
      case Sub::Subnormal:
        r = cls == FP_SUBNORMAL;
        break;
      default:
        break;
      }
      d[l] = r;
    });
    return true;
  default:
    break;
  }

  if (I.flags & (FCarryIn | FCarryOut)) {
    // Extended-precision arithmetic through the carry flag CC.CF.
    uint64_t *cc = w.regs + size_t(I.aux) * 32;
    unsigned bits = typeBits(t);
    bool in = I.has(FCarryIn), out = I.has(FCarryOut);
    FOR_LANES(mask, {
      unsigned __int128 m = (unsigned __int128)1 << bits;
      unsigned __int128 x = zext(a[l], bits), y = zext(b[l], bits);
      unsigned __int128 cin = in ? (cc[l] & 1) : 0, r;
      uint64_t carry;
      if (I.op == Op::Sub) {
        r = (x - y - cin) & (m - 1);
        carry = x < y + cin; // the borrow
      } else {
        unsigned __int128 addend = y;
        if (I.op == Op::Mad) {
          uint64_t prod = intOp(I, a[l], b[l], 0); // .lo or .hi product
          addend = zext(prod, bits) + 0;
          x = zext(c[l], bits);
        }
        unsigned __int128 sum = x + addend + cin;
        r = sum & (m - 1);
        carry = uint64_t(sum >> bits) & 1;
      }
      d[l] = uint64_t(r);
      if (out)
        cc[l] = carry;
    });
    return true;
  }
  if (!isFloat(t)) {
    if (fastInt(I, mask, d, a, b, c))
      return true;
    FOR_LANES(mask, d[l] = intOp(I, a[l], b[l], c[l]));
    return true;
  }

  if (halfType(t, h)) {
    switch (I.op) {
    case Op::Add:
      FOR_LANES(mask, d[l] = halfOp(
                          h, I, a[l], b[l], 0,
                          [](double x, double y, double) { return x + y; }));
      return true;
    case Op::Sub:
      FOR_LANES(mask, d[l] = halfOp(
                          h, I, a[l], b[l], 0,
                          [](double x, double y, double) { return x - y; }));
      return true;
    case Op::Mul:
      FOR_LANES(mask, d[l] = halfOp(
                          h, I, a[l], b[l], 0,
                          [](double x, double y, double) { return x * y; }));
      return true;
    case Op::Fma:
      FOR_LANES(mask, d[l] = halfOp(h, I, a[l], b[l], c[l],
                                    [](double x, double y, double z) {
                                      return std::fma(x, y, z);
                                    }));
      return true;
    case Op::Min:
    case Op::Max: {
      bool nan = I.has(FNan), isMin = I.op == Op::Min;
      FOR_LANES(mask, d[l] = halfOp(h, I, a[l], b[l], 0,
                                    [&](double x, double y, double) {
                                      return isMin ? fminPtx(x, y, nan)
                                                   : fmaxPtx(x, y, nan);
                                    }));
      return true;
    }
    case Op::Neg:
    case Op::Abs: {
      uint64_t signs = h.packed ? 0x80008000u : 0x8000u;
      FOR_LANES(mask, {
        uint64_t v = a[l] & (h.packed ? 0xffffffffu : 0xffffu);
        d[l] = I.op == Op::Neg ? v ^ signs : v & ~signs;
      });
      return true;
    }
    case Op::Ex2:
    case Op::Tanh: {
      bool ex = I.op == Op::Ex2;
      FOR_LANES(mask,
                d[l] = halfOp(h, I, a[l], 0, 0, [&](double x, double, double) {
                  return ex ? std::exp2(x) : std::tanh(x);
                }));
      return true;
    }
    case Op::Mov:
      FOR_LANES(mask, d[l] = a[l]);
      return true;
    default:
      return false;
    }
  }

  if (t == Type::F32) {
    bool fz = I.has(FFtz), sat = I.has(FSat);
    auto in = [&](uint64_t v) {
      float f = bitsToF32(uint32_t(v));
      return fz ? ftz(f) : f;
    };
    auto out = [&](float r) -> uint64_t {
      if (fz)
        r = ftz(r);
      if (sat)
        r = satF(r);
      return canonF32(r);
    };
    Rnd r = I.rnd;
    if ((r == Rnd::None || r == Rnd::Rn) && !fz && !sat) {
      // Round to nearest, no flushing or saturation: the host's own
      // arithmetic, NaN made canonical.
      switch (I.op) {
      case Op::Add:
        lanes(
            mask, d, a, b, c, [](uint64_t x, uint64_t y, uint64_t) -> uint64_t {
              return canonF32(bitsToF32(uint32_t(x)) + bitsToF32(uint32_t(y)));
            });
        return true;
      case Op::Sub:
        lanes(
            mask, d, a, b, c, [](uint64_t x, uint64_t y, uint64_t) -> uint64_t {
              return canonF32(bitsToF32(uint32_t(x)) - bitsToF32(uint32_t(y)));
            });
        return true;
      case Op::Mul:
        lanes(
            mask, d, a, b, c, [](uint64_t x, uint64_t y, uint64_t) -> uint64_t {
              return canonF32(bitsToF32(uint32_t(x)) * bitsToF32(uint32_t(y)));
            });
        return true;
      case Op::Fma:
      case Op::Mad:
        lanes(mask, d, a, b, c,
              [](uint64_t x, uint64_t y, uint64_t z) -> uint64_t {
                return canonF32(std::fma(bitsToF32(uint32_t(x)),
                                         bitsToF32(uint32_t(y)),
                                         bitsToF32(uint32_t(z))));
              });
        return true;
      default:
        break;
      }
    }
    switch (I.op) {
    case Op::Add:
      FOR_LANES(mask, {
        float x = in(a[l]), y = in(b[l]);
        d[l] = out(withRounding(r, [&] {
          volatile float v = x + y;
          return float(v);
        }));
      });
      return true;
    case Op::Sub:
      FOR_LANES(mask, {
        float x = in(a[l]), y = in(b[l]);
        d[l] = out(withRounding(r, [&] {
          volatile float v = x - y;
          return float(v);
        }));
      });
      return true;
    case Op::Mul:
      FOR_LANES(mask, {
        float x = in(a[l]), y = in(b[l]);
        d[l] = out(withRounding(r, [&] {
          volatile float v = x * y;
          return float(v);
        }));
      });
      return true;
    case Op::Fma:
    case Op::Mad:
      FOR_LANES(mask, {
        float x = in(a[l]), y = in(b[l]), z = in(c[l]);
        d[l] = out(withRounding(r, [&] {
          volatile float v = std::fma(x, y, z);
          return float(v);
        }));
      });
      return true;
    case Op::Div:
      FOR_LANES(mask, {
        float x = in(a[l]), y = in(b[l]);
        d[l] = out(withRounding(r, [&] {
          volatile float v = x / y;
          return float(v);
        }));
      });
      return true;
    case Op::Min:
    case Op::Max: {
      bool nan = I.has(FNan), isMin = I.op == Op::Min;
      FOR_LANES(mask, {
        double x = in(a[l]), y = in(b[l]);
        d[l] = out(float(isMin ? fminPtx(x, y, nan) : fmaxPtx(x, y, nan)));
      });
      return true;
    }
    case Op::Abs:
      FOR_LANES(mask, {
        uint32_t v = uint32_t(a[l]);
        if (fz && std::fpclassify(bitsToF32(v)) == FP_SUBNORMAL)
          v &= 0x80000000u;
        d[l] = v & 0x7fffffffu;
      });
      return true;
    case Op::Neg:
      FOR_LANES(mask, {
        uint32_t v = uint32_t(a[l]);
        if (fz && std::fpclassify(bitsToF32(v)) == FP_SUBNORMAL)
          v &= 0x80000000u;
        d[l] = v ^ 0x80000000u;
      });
      return true;
    case Op::Copysign:
      FOR_LANES(mask, d[l] = (uint32_t(b[l]) & 0x7fffffffu) |
                             (uint32_t(a[l]) & 0x80000000u));
      return true;
    case Op::Sqrt:
      FOR_LANES(mask, {
        float x = in(a[l]);
        d[l] = out(withRounding(r, [&] {
          volatile float v = std::sqrt(x);
          return float(v);
        }));
      });
      return true;
    case Op::Rcp:
      FOR_LANES(mask, {
        float x = in(a[l]);
        d[l] = out(withRounding(r, [&] {
          volatile float v = 1.0f / x;
          return float(v);
        }));
      });
      return true;
    // The .approx functions: computed in double and rounded, which is
    // within the ISA's documented error bounds.
    case Op::Rsqrt:
      FOR_LANES(mask, d[l] = out(float(1.0 / std::sqrt(double(in(a[l]))))));
      return true;
    case Op::Ex2:
      FOR_LANES(mask, d[l] = out(float(std::exp2(double(in(a[l]))))));
      return true;
    case Op::Lg2:
      FOR_LANES(mask, d[l] = out(float(std::log2(double(in(a[l]))))));
      return true;
    case Op::Sin:
      FOR_LANES(mask, d[l] = out(float(std::sin(double(in(a[l]))))));
      return true;
    case Op::Cos:
      FOR_LANES(mask, d[l] = out(float(std::cos(double(in(a[l]))))));
      return true;
    case Op::Tanh:
      FOR_LANES(mask, d[l] = out(float(std::tanh(double(in(a[l]))))));
      return true;
    default:
      return false;
    }
  }

  if (t == Type::F64) {
    Rnd r = I.rnd;
    auto f = [](uint64_t v) { return bitsToF64(v); };
    switch (I.op) {
    case Op::Add:
      FOR_LANES(mask, d[l] = canonF64(withRounding(r, [&] {
                        volatile double v = f(a[l]) + f(b[l]);
                        return double(v);
                      })));
      return true;
    case Op::Sub:
      FOR_LANES(mask, d[l] = canonF64(withRounding(r, [&] {
                        volatile double v = f(a[l]) - f(b[l]);
                        return double(v);
                      })));
      return true;
    case Op::Mul:
      FOR_LANES(mask, d[l] = canonF64(withRounding(r, [&] {
                        volatile double v = f(a[l]) * f(b[l]);
                        return double(v);
                      })));
      return true;
    case Op::Fma:
    case Op::Mad:
      FOR_LANES(mask, d[l] = canonF64(withRounding(r, [&] {
                        volatile double v = std::fma(f(a[l]), f(b[l]), f(c[l]));
                        return double(v);
                      })));
      return true;
    case Op::Div:
      FOR_LANES(mask, d[l] = canonF64(withRounding(r, [&] {
                        volatile double v = f(a[l]) / f(b[l]);
                        return double(v);
                      })));
      return true;
    case Op::Sqrt:
      FOR_LANES(mask, d[l] = canonF64(withRounding(r, [&] {
                        volatile double v = std::sqrt(f(a[l]));
                        return double(v);
                      })));
      return true;
    case Op::Rcp:
      FOR_LANES(mask, d[l] = canonF64(withRounding(r, [&] {
                        volatile double v = 1.0 / f(a[l]);
                        return double(v);
                      })));
      return true;
    case Op::Rsqrt:
      FOR_LANES(mask, d[l] = canonF64(1.0 / std::sqrt(f(a[l]))));
      return true;
    case Op::Min:
    case Op::Max: {
      bool nan = I.has(FNan), isMin = I.op == Op::Min;
      FOR_LANES(mask, d[l] = canonF64(isMin ? fminPtx(f(a[l]), f(b[l]), nan)
                                            : fmaxPtx(f(a[l]), f(b[l]), nan)));
      return true;
    }
    case Op::Abs:
      FOR_LANES(mask, d[l] = a[l] & 0x7fffffffffffffffull);
      return true;
    case Op::Neg:
      FOR_LANES(mask, d[l] = a[l] ^ 0x8000000000000000ull);
      return true;
    case Op::Copysign:
      FOR_LANES(mask, d[l] = (b[l] & 0x7fffffffffffffffull) |
                             (a[l] & 0x8000000000000000ull));
      return true;
    default:
      return false;
    }
  }
  return false;
}

//===----------------------------------------------------------------------===//
// cvt
//===----------------------------------------------------------------------===//

/// Reads a float of type \p t from raw bits into a double (exact).
double readFloat(Type t, uint64_t v) {
  switch (t) {
  case Type::F16:
    return decodeFloat(v & 0xffff, kF16);
  case Type::BF16:
    return decodeFloat(v & 0xffff, kBF16);
  case Type::F32:
    return bitsToF32(uint32_t(v));
  default:
    return bitsToF64(v);
  }
}

FloatFormat formatOf(Type t) {
  switch (t) {
  case Type::F16:
    return kF16;
  case Type::BF16:
    return kBF16;
  case Type::F32:
    return kF32;
  default:
    return kF64;
  }
}

uint64_t cvtValue(const Instr &I, Type dt, Type st, uint64_t v);

/// cvt of one value. Integer results are sign-extended to the register
/// width for signed destination types, zero-extended otherwise.
uint64_t cvtOne(const Instr &I, Type dt, Type st, uint64_t v) {
  uint64_t r = cvtValue(I, dt, st, v);
  if (!isFloat(dt) && isSigned(dt))
    return uint64_t(sext(r, typeBits(dt)));
  return r;
}

uint64_t cvtValue(const Instr &I, Type dt, Type st, uint64_t v) {
  bool fz = I.has(FFtz);
  Rnd rnd = I.rnd == Rnd::None ? Rnd::Rn : I.rnd;
  if (!isFloat(dt) && !isFloat(st)) {
    unsigned sb = typeBits(st), db = typeBits(dt);
    if (I.has(FSat)) {
      // Clamp the source value into the destination range.
      __int128 x = isSigned(st) ? __int128(sext(v, sb)) : __int128(zext(v, sb));
      __int128 lo = isSigned(dt) ? -(__int128(1) << (db - 1)) : 0;
      __int128 hi = isSigned(dt) ? (__int128(1) << (db - 1)) - 1
                                 : (__int128(1) << db) - 1;
      x = std::clamp(x, lo, hi);
      return zext(uint64_t(x), db);
    }
    uint64_t x = isSigned(st) ? uint64_t(sext(v, sb)) : zext(v, sb);
    return zext(x, db);
  }
  if (isFloat(st) && !isFloat(dt)) {
    double x = readFloat(st, v);
    if (fz && st == Type::F32)
      x = ftz(float(x));
    unsigned db = typeBits(dt);
    if (std::isnan(x))
      return 0;
    double r;
    switch (rnd) {
    case Rnd::Rzi:
    case Rnd::Rz:
      r = std::trunc(x);
      break;
    case Rnd::Rmi:
    case Rnd::Rm:
      r = std::floor(x);
      break;
    case Rnd::Rpi:
    case Rnd::Rp:
      r = std::ceil(x);
      break;
    default:
      r = std::nearbyint(x);
      break;
    }
    if (isSigned(dt)) {
      double lo = -std::ldexp(1.0, db - 1), hi = std::ldexp(1.0, db - 1);
      if (r < lo)
        return zext(uint64_t(1) << (db - 1), db);
      if (r >= hi)
        return zext((uint64_t(1) << (db - 1)) - 1, db);
      return zext(uint64_t(int64_t(r)), db);
    }
    double hi = std::ldexp(1.0, db);
    if (r <= 0)
      return 0;
    if (r >= hi)
      return zext(~0ull, db);
    return uint64_t(r);
  }
  FloatFormat df = formatOf(dt);
  if (!isFloat(st)) {
    unsigned sb = typeBits(st);
    bool neg = false;
    uint64_t m;
    int e = 0;
    if (isSigned(st)) {
      int64_t x = sext(v, sb);
      neg = x < 0;
      m = neg ? uint64_t(0) - uint64_t(x) : uint64_t(x);
    } else {
      m = zext(v, sb);
    }
    if (m >> 63) {
      m = (m >> 1) | (m & 1);
      e = 1;
    }
    uint64_t bits = encodeFloat(neg, m, e, df, rnd, false);
    if (I.has(FSat)) {
      double r = decodeFloat(bits, df);
      r = r < 0 ? 0 : (r > 1 ? 1 : r);
      bits = roundF64To(r, df, Rnd::Rn, false);
    }
    return bits;
  }
  // float -> float
  double x = readFloat(st, v);
  if (fz && st == Type::F32)
    x = ftz(float(x));
  if (I.rnd == Rnd::Rni || I.rnd == Rnd::Rzi || I.rnd == Rnd::Rmi ||
      I.rnd == Rnd::Rpi) {
    if (!std::isnan(x) && !std::isinf(x)) {
      double y = I.rnd == Rnd::Rni   ? std::nearbyint(x)
                 : I.rnd == Rnd::Rzi ? std::trunc(x)
                 : I.rnd == Rnd::Rmi ? std::floor(x)
                                     : std::ceil(x);
      x = y == 0 ? std::copysign(0.0, x) : y;
    }
    rnd = Rnd::Rn;
  }
  if (I.has(FRelu) && !std::isnan(x) && x < 0)
    x = 0;
  if (I.has(FSat))
    x = (std::isnan(x) || x <= 0) ? 0.0 : (x > 1 ? 1 : x);
  uint64_t bits = roundF64To(x, df, rnd, I.has(FSatFinite));
  if (fz && dt == Type::F32)
    bits = f32ToBits(ftz(bitsToF32(uint32_t(bits))));
  return bits;
}

/// One f8 value from a double (conversions to e4m3x2/e5m2x2).
uint64_t toF8(const Instr &I, double x) {
  if (I.has(FRelu) && !std::isnan(x) && x < 0)
    x = 0;
  if (I.type == Type::E4m3x2)
    return roundF64ToE4m3(x, I.has(FSatFinite));
  return roundF64To(x, kE5M2, Rnd::Rn, I.has(FSatFinite));
}

bool Launch::execCvt(Warp &w, const Instr &I, uint32_t mask) {
  uint64_t ta[32], tb[32];
  const uint64_t *a = src(w, I.ops[1], ta);
  uint64_t *d = dst(w, I.ops[0]);
  if (I.type == Type::E4m3x2 || I.type == Type::E5m2x2) {
    if (I.type2 == Type::F32) {
      const uint64_t *b = src(w, I.ops[2], tb);
      FOR_LANES(mask, d[l] = (toF8(I, bitsToF32(uint32_t(a[l]))) << 8) |
                             toF8(I, bitsToF32(uint32_t(b[l]))));
    } else { // from f16x2
      FOR_LANES(mask, d[l] = (toF8(I, decodeFloat((a[l] >> 16) & 0xffff, kF16))
                              << 8) |
                             toF8(I, decodeFloat(a[l] & 0xffff, kF16)));
    }
    return true;
  }
  if (I.type2 == Type::E4m3x2 || I.type2 == Type::E5m2x2) {
    bool e4 = I.type2 == Type::E4m3x2;
    auto one = [&](uint64_t byte) {
      double x =
          e4 ? decodeE4m3(uint8_t(byte)) : decodeFloat(byte & 0xff, kE5M2);
      if (I.has(FRelu) && !std::isnan(x) && x < 0)
        x = 0;
      return roundF64To(x, kF16, Rnd::Rn, false);
    };
    FOR_LANES(mask, d[l] = (one((a[l] >> 8) & 0xff) << 16) | one(a[l] & 0xff));
    return true;
  }
  if (I.nops == 3) { // f16x2/bf16x2 from two f32: a goes to the upper half
    const uint64_t *b = src(w, I.ops[2], tb);
    Type et = I.type == Type::F16x2 ? Type::F16 : Type::BF16;
    FOR_LANES(mask, d[l] = (cvtOne(I, et, Type::F32, a[l]) << 16) |
                           cvtOne(I, et, Type::F32, b[l]));
    return true;
  }
  FOR_LANES(mask, d[l] = cvtOne(I, I.type, I.type2, a[l]));
  return true;
}

//===----------------------------------------------------------------------===//
// Memory instructions
//===----------------------------------------------------------------------===//

bool Launch::execMemory(Warp &w, const Instr &I, uint32_t mask) {
  switch (I.op) {
  case Op::Ld:
  case Op::St: {
    bool isLd = I.op == Op::Ld;
    const Operand &data = I.ops[isLd ? 0 : 1];
    const Operand &addr = I.ops[isLd ? 1 : 0];
    unsigned eb = typeBits(I.type) / 8;
    unsigned n = I.vec;
    uint32_t total = eb * n;
    uint64_t tv[4][32];
    const uint64_t *vals[4];
    if (!isLd) {
      if (data.kind == Operand::Vec)
        for (unsigned k = 0; k < n; ++k) {
          Operand r;
          r.kind = data.regs[k] == kNoReg ? Operand::None : Operand::Reg;
          r.reg = data.regs[k];
          vals[k] = src(w, r, tv[k]);
        }
      else
        vals[0] = src(w, data, tv[0]);
    }
    FOR_LANES(mask, {
      uint64_t ad = addrOf(w, addr, l);
      uint8_t buf[32];
      if (isLd) {
        if (!load(I.space, ad, total, buf, I, w, l))
          return false;
        for (unsigned k = 0; k < n; ++k) {
          uint64_t v = 0;
          std::memcpy(&v, buf + k * eb, eb);
          if (isSigned(I.type))
            v = zext(uint64_t(sext(v, eb * 8)), 64);
          uint32_t reg = data.kind == Operand::Vec ? data.regs[k] : data.reg;
          if (reg != kNoReg)
            w.regs[size_t(reg) * 32 + l] = v;
        }
      } else {
        for (unsigned k = 0; k < n; ++k) {
          uint64_t v = vals[k][l];
          std::memcpy(buf + k * eb, &v, eb);
        }
        if (!store(I.space, ad, total, buf, I, w, l))
          return false;
      }
    });
    return true;
  }
  case Op::CpAsync: {
    unsigned size = unsigned(I.ops[2].imm);
    if (size != 4 && size != 8 && size != 16) {
      fail(ReportKind::Other, I, w, -1, ~0ull,
           "cp.async copy size must be 4, 8 or 16 bytes");
      return false;
    }
    if (I.has(FCg) && size != 16) {
      fail(ReportKind::Other, I, w, -1, ~0ull,
           "cp.async.cg copies exactly 16 bytes");
      return false;
    }
    uint64_t ts[32];
    const uint64_t *srcSize = nullptr;
    bool ignorePred = false;
    if (I.nops == 4) {
      srcSize = src(w, I.ops[3], ts);
      ignorePred = I.has(FIgnoreSrc);
    }
    FOR_LANES(mask, {
      uint64_t da = addrOf(w, I.ops[0], l), sa = addrOf(w, I.ops[1], l);
      uint32_t ss = srcSize ? uint32_t(srcSize[l]) : size;
      if (ignorePred)
        ss = (srcSize[l] & 1) ? 0 : size;
      if (ss > size) {
        fail(ReportKind::Other, I, w, l, sa,
             "cp.async src-size larger than the copy size");
        return false;
      }
      CpOp op;
      op.size = uint8_t(size);
      std::memset(op.data, 0, sizeof(op.data));
      if (ss) {
        bool sh;
        uint32_t off;
        if (sa % size) {
          fail(ReportKind::Misaligned, I, w, l, sa,
               "misaligned cp.async global source (address not a multiple "
               "of " +
                   std::to_string(size) + ")");
          return false;
        }
        uint8_t *p = resolve(Space::Global, sa, ss, false, I, w, l, sh, off);
        if (!p)
          return false;
        std::memcpy(op.data, p, ss);
      }
      bool sh;
      uint32_t off;
      uint8_t *q = resolve(Space::Shared, da, size, true, I, w, l, sh, off);
      if (!q)
        return false;
      if (!checkShared(off, size, true, I, w, l, da))
        return false;
      op.dst = off;
      for (unsigned b = 0; b < size; ++b)
        poison[off + b] = 1;
      w.uncommitted.push_back(op);
    });
    return true;
  }
  default:
    return false;
  }
}

bool Launch::execAtom(Warp &w, const Instr &I, uint32_t mask) {
  bool isAtom = I.op == Op::Atom;
  const Operand &addr = I.ops[isAtom ? 1 : 0];
  uint64_t tb[32], tc[32];
  const uint64_t *b = src(w, I.ops[isAtom ? 2 : 1], tb);
  const uint64_t *c = isAtom && I.nops == 4 ? src(w, I.ops[3], tc) : tc;
  uint64_t *d = isAtom ? dst(w, I.ops[0]) : scratch;
  unsigned bits = typeBits(I.type);
  unsigned size = bits / 8;
  FOR_LANES(mask, {
    uint64_t ad = addrOf(w, addr, l);
    bool sh;
    uint32_t off;
    uint8_t *p = resolve(I.space, ad, size, true, I, w, l, sh, off);
    if (!p)
      return false;
    if (sh) {
      for (unsigned k = 0; k < size; ++k)
        if (poison[off + k]) {
          fail(ReportKind::CpAsyncUnwaited, I, w, l, ad,
               "atomic on shared memory before the cp.async.wait_group that "
               "covers its pending cp.async");
          return false;
        }
    }
    uint64_t old = 0;
    std::memcpy(&old, p, size);
    uint64_t x = b[l], nv = old;
    if (I.type == Type::F32) {
      float o = bitsToF32(uint32_t(old)), y = bitsToF32(uint32_t(x));
      switch (I.sub) {
      case Sub::AAdd:
        nv = f32ToBits(o + y);
        break;
      case Sub::AMin:
        nv = f32ToBits(float(fminPtx(o, y, false)));
        break;
      case Sub::AMax:
        nv = f32ToBits(float(fmaxPtx(o, y, false)));
        break;
      default:
        nv = x;
      }
    } else if (I.type == Type::F16 || I.type == Type::F16x2 ||
               I.type == Type::BF16 || I.type == Type::BF16x2) {
      // add.noftz: each 16-bit half rounded to nearest even on its own.
      bool bf = I.type == Type::BF16 || I.type == Type::BF16x2;
      nv = 0;
      for (unsigned h = 0; h < bits; h += 16) {
        uint16_t o = uint16_t(old >> h), y = uint16_t(x >> h);
        float sum =
            bf ? bf16ToF32(o) + bf16ToF32(y) : f16ToF32(o) + f16ToF32(y);
        uint16_t r = bf ? f32ToBF16(sum) : f32ToF16(sum);
        nv |= uint64_t(r) << h;
      }
    } else if (I.type == Type::F64) {
      double o = bitsToF64(old), y = bitsToF64(x);
      nv = I.sub == Sub::AAdd   ? f64ToBits(o + y)
           : I.sub == Sub::AMin ? f64ToBits(fminPtx(o, y, false))
           : I.sub == Sub::AMax ? f64ToBits(fmaxPtx(o, y, false))
                                : x;
    } else {
      bool sg = isSigned(I.type);
      int64_t so = sext(old, bits), sx = sext(x, bits);
      uint64_t uo = zext(old, bits), ux = zext(x, bits);
      switch (I.sub) {
      case Sub::AAdd:
        nv = uo + ux;
        break;
      case Sub::AMin:
        nv = sg ? uint64_t(std::min(so, sx)) : std::min(uo, ux);
        break;
      case Sub::AMax:
        nv = sg ? uint64_t(std::max(so, sx)) : std::max(uo, ux);
        break;
      case Sub::AExch:
        nv = x;
        break;
      case Sub::ACas:
        nv = uo == ux ? c[l] : uo;
        break;
      case Sub::AAnd:
        nv = uo & ux;
        break;
      case Sub::AOr:
        nv = uo | ux;
        break;
      case Sub::AXor:
        nv = uo ^ ux;
        break;
      case Sub::AInc:
        nv = uo >= ux ? 0 : uo + 1;
        break;
      case Sub::ADec:
        nv = (uo == 0 || uo > ux) ? ux : uo - 1;
        break;
      default:
        break;
      }
      nv = zext(nv, bits);
    }
    if (std::memcmp(p, &nv, size))
      madeProgress();
    std::memcpy(p, &nv, size);
    d[l] = zext(old, bits);
  });
  return true;
}

//===----------------------------------------------------------------------===//
// Warp-wide instructions
//===----------------------------------------------------------------------===//

bool Launch::checkWholeWarp(Warp &w, const Instr &I, uint32_t mask,
                            const char *what) {
  if (mask == w.valid)
    return true;
  uint32_t missing = w.valid & ~mask;
  int lane = __builtin_ctz(missing);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "0x%08x of 0x%08x", mask, w.valid);
  fail(ReportKind::PartialWarp, I, w, lane, ~0ull,
       std::string(what) + " executed by part of a warp (active lanes " + buf +
           "; lane " + std::to_string(lane) +
           " is missing): .aligned warp instructions need every thread of "
           "the warp");
  return false;
}

bool Launch::checkMemberMask(Warp &w, const Instr &I, uint32_t mask,
                             const uint64_t *memberMask, const char *what) {
  // Every executing lane must name the same mask, which must be exactly the
  // set of executing lanes.
  uint32_t mm = 0;
  bool first = true;
  bool ok = true;
  int badLane = -1;
  FOR_LANES(mask, {
    uint32_t v = uint32_t(memberMask[l]);
    if (first) {
      mm = v;
      first = false;
    } else if (v != mm && ok) {
      ok = false;
      badLane = l;
    }
  });
  // Lanes that do not exist (a partial last warp) or have exited are not
  // waited for, so a full mask is fine there.
  uint32_t live = w.valid & ~w.exited;
  if (ok && (mm & live) == mask)
    return true;
  // Named lanes that only wait to leave the kernel (parked at an exit) are
  // not waited for on a GPU either: they leave now.
  if (ok && !(mask & ~mm) && retireParkedAtExit(w, mm & live & ~mask) &&
      (mm & (w.valid & ~w.exited)) == mask)
    return true;
  live = w.valid & ~w.exited;
  char buf[96];
  std::snprintf(buf, sizeof(buf), "member mask 0x%08x, executing lanes 0x%08x",
                mm, mask);
  int lane = badLane >= 0 ? badLane : __builtin_ctz(mask ? mask : 1);
  if (ok) {
    uint32_t diff = (mm & live) ^ mask;
    lane = __builtin_ctz(diff);
  }
  fail(ReportKind::WrongMemberMask, I, w, lane, ~0ull,
       std::string(what) + " with a wrong member mask (" + buf +
           "): the mask must name exactly the threads that execute it");
  return false;
}

bool Launch::execWarpOp(Warp &w, const Instr &I, uint32_t mask) {
  uint64_t ta[32], tb[32], tc[32], tm[32];
  switch (I.op) {
  case Op::Shfl: {
    const uint64_t *a = src(w, I.ops[1], ta);
    const uint64_t *b = src(w, I.ops[2], tb);
    const uint64_t *c = src(w, I.ops[3], tc);
    const uint64_t *mm = src(w, I.ops[4], tm);
    if (!checkMemberMask(w, I, mask, mm, "shfl.sync"))
      return false;
    const Operand &o = I.ops[0];
    uint64_t *d = o.kind != Operand::Vec ? dst(w, o)
                  : o.regs[0] == kNoReg  ? scratch
                                         : w.regs + size_t(o.regs[0]) * 32;
    uint64_t *p = o.kind == Operand::Vec && o.regs[1] != kNoReg
                      ? w.regs + size_t(o.regs[1]) * 32
                      : nullptr;
    uint64_t res[32], pv[32];
    FOR_LANES(mask, {
      uint32_t lane = uint32_t(l);
      uint32_t bval = uint32_t(b[l]) & 31, cval = uint32_t(c[l]) & 31;
      uint32_t segmask = (uint32_t(c[l]) >> 8) & 31;
      uint32_t maxLane = (lane & segmask) | (cval & ~segmask);
      uint32_t minLane = lane & segmask;
      int32_t j;
      bool ok;
      switch (I.sub) {
      case Sub::Up:
        j = int32_t(lane) - int32_t(bval);
        ok = j >= int32_t(maxLane);
        break;
      case Sub::Down:
        j = int32_t(lane + bval);
        ok = j <= int32_t(maxLane);
        break;
      case Sub::Bfly:
        j = int32_t(lane ^ bval);
        ok = j <= int32_t(maxLane);
        break;
      default:
        j = int32_t(minLane | (bval & ~segmask));
        ok = j <= int32_t(maxLane);
        break;
      }
      if (!ok)
        j = int32_t(lane);
      res[l] = uint32_t(a[j]);
      pv[l] = ok;
    });
    FOR_LANES(mask, {
      d[l] = res[l];
      if (p)
        p[l] = pv[l];
    });
    return true;
  }
  case Op::Vote: {
    const uint64_t *a = src(w, I.ops[1], ta);
    const uint64_t *mm = src(w, I.ops[2], tm);
    if (!checkMemberMask(w, I, mask, mm, "vote.sync"))
      return false;
    uint32_t ballot = 0;
    FOR_LANES(mask, if (a[l] & 1) ballot |= 1u << l);
    uint64_t *d = dst(w, I.ops[0]);
    uint64_t v;
    switch (I.sub) {
    case Sub::Ballot:
      v = ballot;
      break;
    case Sub::All:
      v = ballot == mask;
      break;
    case Sub::Any:
      v = ballot != 0;
      break;
    default:
      v = ballot == 0 || ballot == mask;
      break;
    }
    FOR_LANES(mask, d[l] = v);
    return true;
  }
  case Op::Redux: {
    const uint64_t *a = src(w, I.ops[1], ta);
    const uint64_t *mm = src(w, I.ops[2], tm);
    if (!checkMemberMask(w, I, mask, mm, "redux.sync"))
      return false;
    bool sg = I.type == Type::S32;
    int64_t acc = 0;
    bool first = true;
    FOR_LANES(mask, {
      int64_t v = sg ? int64_t(int32_t(a[l])) : int64_t(uint32_t(a[l]));
      if (first) {
        acc = v;
        first = false;
        continue;
      }
      switch (I.sub) {
      case Sub::AAdd:
        acc += v;
        break;
      case Sub::AMin:
        acc = std::min(acc, v);
        break;
      case Sub::AMax:
        acc = std::max(acc, v);
        break;
      case Sub::AAnd:
        acc &= v;
        break;
      case Sub::AOr:
        acc |= v;
        break;
      case Sub::AXor:
        acc ^= v;
        break;
      default:
        break;
      }
    });
    uint64_t *d = dst(w, I.ops[0]);
    FOR_LANES(mask, d[l] = uint32_t(acc));
    return true;
  }
  case Op::Activemask: {
    uint64_t *d = dst(w, I.ops[0]);
    FOR_LANES(mask, d[l] = mask);
    return true;
  }
  case Op::BarWarp: {
    const uint64_t *mm = src(w, I.ops[0], tm);
    return checkMemberMask(w, I, mask, mm, "bar.warp.sync");
  }
  default:
    return false;
  }
}

bool Launch::execLdmatrix(Warp &w, const Instr &I) {
  unsigned num = I.vec;
  uint64_t rowAddr[32];
  for (unsigned r = 0; r < 8 * num; ++r) {
    rowAddr[r] = addrOf(w, I.ops[1], int(r));
    uint8_t tmp[16];
    if (!load(Space::Shared, rowAddr[r], 16, tmp, I, w, int(r)))
      return false;
  }
  auto half = [&](unsigned m, unsigned row, unsigned col) {
    uint16_t v;
    bool sh;
    uint32_t off;
    uint8_t *p = resolve(Space::Shared, rowAddr[m * 8 + row], 16, false, I, w,
                         int(m * 8 + row), sh, off);
    std::memcpy(&v, p + 2 * col, 2);
    return uint32_t(v);
  };
  const Operand &d = I.ops[0];
  for (unsigned m = 0; m < num; ++m) {
    uint64_t *out =
        d.regs[m] == kNoReg ? scratch : w.regs + size_t(d.regs[m]) * 32;
    for (int l = 0; l < 32; ++l) {
      unsigned g = unsigned(l) >> 2, t = unsigned(l) & 3;
      uint32_t lo, hi;
      if (I.has(FTrans)) {
        lo = half(m, 2 * t, g);
        hi = half(m, 2 * t + 1, g);
      } else {
        lo = half(m, g, 2 * t);
        hi = half(m, g, 2 * t + 1);
      }
      out[l] = lo | (hi << 16);
    }
  }
  return true;
}

bool Launch::execStmatrix(Warp &w, const Instr &I) {
  // The inverse of ldmatrix: lanes 8m..8m+7 give the row addresses of
  // matrix m, and each lane's register m holds two of its elements.
  unsigned num = I.vec;
  const Operand &v = I.ops[1];
  for (unsigned m = 0; m < num; ++m) {
    for (unsigned row = 0; row < 8; ++row) {
      uint64_t ra = addrOf(w, I.ops[0], int(m * 8 + row));
      uint16_t data[8];
      for (unsigned col = 0; col < 8; ++col) {
        unsigned r = I.has(FTrans) ? col : row, c = I.has(FTrans) ? row : col;
        unsigned lane = r * 4 + c / 2;
        uint64_t x =
            v.regs[m] == kNoReg ? 0 : w.regs[size_t(v.regs[m]) * 32 + lane];
        data[col] = uint16_t(x >> (16 * (c % 2)));
      }
      if (!store(Space::Shared, ra, 16, data, I, w, int(m * 8 + row)))
        return false;
    }
  }
  return true;
}

/// wmma.m16n16k16 fragments (their layout is unspecified by the ISA; this
/// is the emulator's choice): element e of a lane's fragment, counted in
/// register order with the low half of a register first, is element
/// idx = 8 * lane + e % 8 of the matrix in row-major order (row idx / 16,
/// column idx % 16). A and B fragments have 16 elements: 8 to 15 repeat 0
/// to 7. Loads write both copies; mma reads the first.
bool Launch::execWmma(Warp &w, const Instr &I) {
  auto regOf = [&](const Operand &o, unsigned r) {
    return o.count > 4 ? mod.wideVecs[size_t(o.imm)][r] : o.regs[r];
  };
  auto fragElem = [&](const Operand &o, bool f16, unsigned e, int l) {
    unsigned r = f16 ? e / 2 : e;
    uint32_t slot = regOf(o, r);
    uint64_t x = slot == kNoReg ? 0 : w.regs[size_t(slot) * 32 + l];
    if (!f16)
      return double(bitsToF32(uint32_t(x)));
    return decodeFloat((x >> (16 * (e % 2))) & 0xffff, kF16);
  };
  if (I.op == Op::WmmaMma) {
    double A[16][16], B[16][16], C[16][16];
    const Operand &od = I.ops[0], &oa = I.ops[1], &ob = I.ops[2],
                  &oc = I.ops[3];
    bool cf16 = I.type2 == Type::F16;
    for (int l = 0; l < 32; ++l)
      for (unsigned e = 0; e < 8; ++e) {
        unsigned idx = 8 * unsigned(l) + e;
        A[idx / 16][idx % 16] = fragElem(oa, true, e, l);
        B[idx / 16][idx % 16] = fragElem(ob, true, e, l);
        C[idx / 16][idx % 16] = fragElem(oc, cf16, e, l);
      }
    bool df16 = I.type == Type::F16;
    uint64_t out[8][32] = {};
    for (int l = 0; l < 32; ++l)
      for (unsigned e = 0; e < 8; ++e) {
        unsigned idx = 8 * unsigned(l) + e, m = idx / 16, n = idx % 16;
        double acc = 0;
        for (unsigned k = 0; k < 16; ++k)
          acc += A[m][k] * B[k][n];
        acc += C[m][n];
        if (df16)
          out[e / 2][l] |= roundF64To(acc, kF16, Rnd::Rn, false)
                           << (16 * (e % 2));
        else
          out[e][l] = canonF32(float(acc));
      }
    for (unsigned r = 0; r < od.count; ++r)
      if (regOf(od, r) != kNoReg)
        std::memcpy(w.regs + size_t(regOf(od, r)) * 32, out[r], sizeof(out[r]));
    return true;
  }
  bool load = I.op == Op::WmmaLoad;
  const Operand &frag = I.ops[load ? 0 : 1], &addr = I.ops[load ? 1 : 0];
  bool f16 = I.type == Type::F16;
  unsigned esize = f16 ? 2 : 4;
  uint64_t ts[32];
  const uint64_t *stride = I.nops == 3 ? src(w, I.ops[2], ts) : nullptr;
  unsigned elems = I.sub == Sub::WmmaC ? 8 : 16;
  for (int l = 0; l < 32; ++l) {
    uint64_t base = addrOf(w, addr, l);
    uint64_t ld = stride ? uint32_t(stride[l]) : 16;
    for (unsigned e = 0; e < elems; ++e) {
      unsigned idx = 8 * unsigned(l) + e % 8, row = idx / 16, col = idx % 16;
      uint64_t off = I.has(FTrans) ? col * ld + row : row * ld + col;
      uint64_t a = base + off * esize;
      unsigned r = f16 ? e / 2 : e, shift = f16 ? 16 * (e % 2) : 0;
      if (regOf(frag, r) == kNoReg)
        continue;
      uint64_t &reg = w.regs[size_t(regOf(frag, r)) * 32 + l];
      uint64_t mask = f16 ? 0xffffull << shift : 0xffffffffull;
      if (load) {
        uint32_t v = 0;
        if (!this->load(I.space, a, esize, &v, I, w, l))
          return false;
        reg = (reg & ~mask & 0xffffffffull) | (uint64_t(v) << shift);
      } else {
        uint32_t v = uint32_t((reg & mask) >> shift);
        if (!store(I.space, a, esize, &v, I, w, l))
          return false;
      }
    }
  }
  return true;
}

/// Fragment coordinates of mma.sync operands (PTX ISA, "Matrix Fragments for
/// mma.m16n8k*"): element i held by lane l.
struct FragCoord {
  unsigned row, col;
};

bool Launch::execMma(Warp &w, const Instr &I) {
  bool isInt = I.type2 == Type::S8 || I.type2 == Type::U8;
  unsigned K = I.sub == Sub::M16n8k8 ? 8 : I.sub == Sub::M16n8k16 ? 16 : 32;
  double A[16][32], B[32][8], C[16][8];
  int64_t Ai[16][32], Bi[32][8], Ci[16][8];
  const Operand &od = I.ops[0], &oa = I.ops[1], &ob = I.ops[2], &oc = I.ops[3];
  auto reg = [&](const Operand &o, unsigned k, int l) -> uint32_t {
    if (k >= o.count || o.regs[k] == kNoReg)
      return 0;
    return uint32_t(w.regs[size_t(o.regs[k]) * 32 + l]);
  };
  FloatFormat inFmt = I.type2 == Type::BF16 ? kBF16 : kF16;
  unsigned aElems = isInt ? (K == 16 ? 8 : 16) : (K == 8 ? 4 : 8);
  unsigned bElems = isInt ? (K == 16 ? 4 : 8) : (K == 8 ? 2 : 4);
  unsigned perReg = isInt ? 4 : 2;
  for (int l = 0; l < 32; ++l) {
    unsigned g = unsigned(l) >> 2, t = unsigned(l) & 3;
    for (unsigned i = 0; i < aElems; ++i) {
      unsigned row, col;
      if (!isInt) {
        row = g + 8 * ((i >> 1) & 1);
        col = t * 2 + (i & 1) + 8 * (i >> 2);
      } else {
        row = g + 8 * ((i >> 2) & 1);
        col = t * 4 + (i & 3) + 16 * (i >> 3);
      }
      uint32_t r = reg(oa, i / perReg, l);
      uint32_t e =
          isInt ? (r >> (8 * (i % 4))) & 0xff : (r >> (16 * (i % 2))) & 0xffff;
      if (isInt)
        Ai[row][col] = I.type2 == Type::S8 ? int64_t(int8_t(e)) : int64_t(e);
      else
        A[row][col] = decodeFloat(e, inFmt);
    }
    for (unsigned i = 0; i < bElems; ++i) {
      unsigned k;
      if (!isInt)
        k = t * 2 + (i & 1) + 8 * (i >> 1);
      else
        k = t * 4 + (i & 3) + 16 * (i >> 2);
      uint32_t r = reg(ob, i / perReg, l);
      uint32_t e =
          isInt ? (r >> (8 * (i % 4))) & 0xff : (r >> (16 * (i % 2))) & 0xffff;
      if (isInt)
        Bi[k][g] = I.type3 == Type::S8 ? int64_t(int8_t(e)) : int64_t(e);
      else
        B[k][g] = decodeFloat(e, inFmt);
    }
    for (unsigned i = 0; i < 4; ++i) {
      unsigned row = g + 8 * (i >> 1), col = t * 2 + (i & 1);
      if (I.type4 == Type::F16) {
        uint32_t r = reg(oc, i / 2, l);
        C[row][col] = decodeFloat((r >> (16 * (i % 2))) & 0xffff, kF16);
      } else if (isInt) {
        Ci[row][col] = int32_t(reg(oc, i, l));
      } else {
        C[row][col] = bitsToF32(reg(oc, i, l));
      }
    }
  }
  uint32_t out[32][4] = {};
  for (int l = 0; l < 32; ++l) {
    unsigned g = unsigned(l) >> 2, t = unsigned(l) & 3;
    for (unsigned i = 0; i < 4; ++i) {
      unsigned row = g + 8 * (i >> 1), col = t * 2 + (i & 1);
      if (isInt) {
        int64_t s = Ci[row][col];
        for (unsigned k = 0; k < K; ++k)
          s += Ai[row][k] * Bi[k][col];
        if (I.has(FSatFinite))
          s = std::clamp<int64_t>(s, INT32_MIN, INT32_MAX);
        out[l][i] = uint32_t(s);
      } else {
        double s = 0;
        for (unsigned k = 0; k < K; ++k)
          s += A[row][k] * B[k][col];
        s += C[row][col];
        if (I.type == Type::F16) {
          uint32_t h = uint32_t(roundF64To(s, kF16, Rnd::Rn, false));
          out[l][i / 2] |= h << (16 * (i % 2));
        } else {
          out[l][i] = canonF32(float(s));
        }
      }
    }
  }
  unsigned nd = I.type == Type::F16 ? 2 : 4;
  for (unsigned i = 0; i < nd && i < od.count; ++i) {
    if (od.regs[i] == kNoReg)
      continue;
    uint64_t *d = w.regs + size_t(od.regs[i]) * 32;
    for (int l = 0; l < 32; ++l)
      d[l] = out[l][i];
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Calls, printf, assert
//===----------------------------------------------------------------------===//

bool Launch::doPrintf(Warp &w, const Instr &I, int lane, uint64_t fmtAddr,
                      uint64_t args, int32_t &count) {
  bool ok;
  std::string fmt = readCString(fmtAddr, I, w, lane, ok);
  if (!ok)
    return false;
  std::string out;
  uint64_t off = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out.push_back(fmt[i]);
      continue;
    }
    size_t j = i + 1;
    if (j < fmt.size() && fmt[j] == '%') {
      out.push_back('%');
      i = j;
      continue;
    }
    while (j < fmt.size() && std::strchr("-+ #0123456789.*", fmt[j]))
      ++j;
    int longs = 0;
    while (j < fmt.size() && std::strchr("hlLzjt", fmt[j])) {
      if (fmt[j] == 'l' || fmt[j] == 'z' || fmt[j] == 'j' || fmt[j] == 't')
        ++longs;
      ++j;
    }
    if (j >= fmt.size())
      break;
    char conv = fmt[j];
    std::string spec = fmt.substr(i, j - i + 1);
    // Conversions the host's printf would misread (%n, '*' widths, unknown
    // letters) are printed as they are, consuming no argument.
    if (!std::strchr("diouxXcsfFeEgGaAp", conv) ||
        spec.find('*') != std::string::npos || spec.size() > 32) {
      out += spec;
      i = j;
      continue;
    }
    // Drop length modifiers; pass the value at its promoted width.
    std::string clean;
    for (char ch : spec)
      if (!std::strchr("hlLzjt", ch))
        clean.push_back(ch);
    char buf[512];
    unsigned size = 4;
    if (std::strchr("fFeEgGaA", conv) || conv == 's' || conv == 'p' ||
        longs > 0)
      size = 8;
    off = (off + size - 1) / size * size;
    uint64_t v = 0;
    if (!load(Space::Generic, args + off, size, &v, I, w, lane))
      return false;
    off += size;
    if (std::strchr("fFeEgGaA", conv)) {
      std::snprintf(buf, sizeof(buf), clean.c_str(), bitsToF64(v));
    } else if (conv == 's') {
      std::string s = readCString(v, I, w, lane, ok);
      if (!ok)
        return false;
      std::snprintf(buf, sizeof(buf), clean.c_str(), s.c_str());
    } else if (conv == 'p') {
      std::snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
    } else if (conv == 'c') {
      std::snprintf(buf, sizeof(buf), clean.c_str(), int(v));
    } else if (std::strchr("di", conv)) {
      std::string c2 = clean.substr(0, clean.size() - 1) + "lld";
      long long x = size == 8 ? (long long)(int64_t)v : (long long)(int32_t)v;
      std::snprintf(buf, sizeof(buf), c2.c_str(), x);
    } else {
      std::string c2 =
          clean.substr(0, clean.size() - 1) + "ll" + std::string(1, conv);
      unsigned long long x = size == 8 ? v : uint32_t(v);
      std::snprintf(buf, sizeof(buf), c2.c_str(), x);
    }
    out += buf;
    i = j;
  }
  count = int32_t(out.size());
  if (dev.opts.printfSink)
    dev.opts.printfSink(out);
  else
    std::fwrite(out.data(), 1, out.size(), stdout);
  return true;
}

bool Launch::execCall(Warp &w, const Instr &I, uint32_t mask) {
  const detail::CallInfo &ci = mod.calls[I.aux];
  const Function &callee = mod.funcs[ci.callee];
  if (callee.builtin == Function::Builtin::Vprintf) {
    FOR_LANES(mask, {
      uint64_t fmt = 0, args = 0;
      size_t t = size_t(w.id) * 32 + size_t(l);
      uint8_t *loc = local.data() + t * mod.localBytes;
      std::memcpy(&fmt, loc + ci.args[0], 8);
      std::memcpy(&args, loc + ci.args[1], 8);
      int32_t n = 0;
      if (!doPrintf(w, I, l, fmt, args, n))
        return false;
      if (!ci.rets.empty())
        std::memcpy(loc + ci.rets[0], &n, 4);
    });
    return true;
  }
  if (callee.builtin == Function::Builtin::AssertFail) {
    int l = __builtin_ctz(mask);
    size_t t = size_t(w.id) * 32 + size_t(l);
    uint8_t *loc = local.data() + t * mod.localBytes;
    uint64_t msg = 0, file = 0, func = 0;
    uint32_t line = 0;
    std::memcpy(&msg, loc + ci.args[0], 8);
    std::memcpy(&file, loc + ci.args[1], 8);
    std::memcpy(&line, loc + ci.args[2], 4);
    std::memcpy(&func, loc + ci.args[3], 8);
    bool ok1, ok2, ok3;
    std::string m = readCString(msg, I, w, l, ok1);
    std::string f = ok1 ? readCString(file, I, w, l, ok2) : "";
    std::string fn2 = ok1 ? readCString(func, I, w, l, ok3) : "";
    if (failed)
      return false;
    fail(ReportKind::Assertion, I, w, l, ~0ull,
         "assertion '" + m + "' failed at " + f + ":" + std::to_string(line) +
             " in " + fn2);
    return false;
  }
  if (callee.isExtern || callee.begin == callee.end) {
    fail(ReportKind::Other, I, w, -1, ~0ull,
         "call of the undefined function '" + callee.name + "'");
    return false;
  }
  // Copy arguments into the callee's parameter slots of each thread.
  FOR_LANES(mask, {
    size_t t = size_t(w.id) * 32 + size_t(l);
    uint8_t *loc = local.data() + t * mod.localBytes;
    for (size_t k = 0; k < ci.args.size(); ++k)
      std::memmove(loc + callee.paramOffsets[k], loc + ci.args[k],
                   callee.params[k].size);
    if (w.stack[l].size() > 1024) {
      fail(ReportKind::Other, I, w, l, ~0ull, "call stack overflow");
      return false;
    }
    w.stack[l].push_back({w.pc + 1, I.aux});
  });
  return true;
}

void Launch::releaseBarrier(uint32_t id) {
  madeProgress();
  arrived[id] = 0;
  ++epoch;
  for (Warp &w : warps) {
    if (w.done || !w.blocked || w.barId != id)
      continue;
    w.blocked = false;
    if (w.redMask) {
      uint64_t v = w.redOp == Sub::APopc  ? redPopc[id]
                   : w.redOp == Sub::AAnd ? uint64_t(redAnd[id])
                                          : uint64_t(redOr[id]);
      if (w.redDst != kNoReg)
        FOR_LANES(w.redMask, w.regs[size_t(w.redDst) * 32 + l] = v);
      w.redMask = 0;
    }
  }
  redPopc[id] = 0;
  redAnd[id] = true;
  redOr[id] = false;
}

//===----------------------------------------------------------------------===//
// The warp loop
//===----------------------------------------------------------------------===//

Yield Launch::runWarp(Warp &w) {
  const Instr *code = mod.code.data();
  LaunchStats &st = dev.stats;
  for (;;) {
    while (w.pc == w.rpc) {
      popEntry(w);
      if (w.done)
        return Yield::Done;
    }
    const Instr &I = code[w.pc];
    uint32_t mask = w.active;
    if (I.guard != kNoReg) {
      // Branch-free: the predicate's bits of all 32 lanes, then the mask.
      const uint64_t *p = w.regs + size_t(I.guard) * 32;
      uint32_t m = 0;
      for (int l = 0; l < 32; ++l)
        m |= uint32_t(p[l] & 1) << l;
      mask &= I.guardNeg ? ~m : m;
    }
    ++st.warpInstructions;
    st.threadInstructions += uint32_t(__builtin_popcount(mask));
    if (st.warpInstructions > instrLimit) {
      stopAtLimit(I, w, mask);
      return Yield::Error;
    }
    switch (I.op) {
    case Op::Nop:
    case Op::Membar:
      break;
    case Op::Mov: {
      const Operand &d = I.ops[0], &s = I.ops[1];
      if (d.kind == Operand::Vec) { // unpack
        unsigned eb = typeBits(I.type) / d.count;
        uint64_t ta[32];
        const uint64_t *a = src(w, s, ta);
        for (unsigned k = 0; k < d.count; ++k) {
          if (d.regs[k] == kNoReg)
            continue;
          uint64_t *o = w.regs + size_t(d.regs[k]) * 32;
          FOR_LANES(mask, o[l] = zext(a[l] >> (eb * k), eb));
        }
      } else if (s.kind == Operand::Vec) { // pack
        unsigned eb = typeBits(I.type) / s.count;
        uint64_t *o = dst(w, d);
        FOR_LANES(mask, {
          uint64_t v = 0;
          for (unsigned k = 0; k < s.count; ++k)
            if (s.regs[k] != kNoReg)
              v |= zext(w.regs[size_t(s.regs[k]) * 32 + l], eb) << (eb * k);
          o[l] = v;
        });
      } else {
        uint64_t ta[32];
        const uint64_t *a = src(w, s, ta);
        uint64_t *o = dst(w, d);
        unsigned bits = I.type == Type::Pred ? 1 : typeBits(I.type);
        FOR_LANES(mask, o[l] = zext(a[l], bits));
      }
      break;
    }
    case Op::Cvt:
      execCvt(w, I, mask);
      break;
    case Op::Cvta:
    case Op::CvtaTo: {
      uint64_t ta[32];
      const uint64_t *a = src(w, I.ops[1], ta);
      uint64_t *d = dst(w, I.ops[0]);
      uint64_t base = I.space == Space::Shared  ? kSharedWindow
                      : I.space == Space::Local ? kLocalWindow
                      : I.space == Space::Param ? kParamWindow
                                                : 0;
      bool to = I.op == Op::CvtaTo;
      unsigned bits = typeBits(I.type) ? typeBits(I.type) : 64;
      FOR_LANES(mask, d[l] = zext(to ? a[l] - base : a[l] + base, bits));
      break;
    }
    case Op::Ld:
    case Op::St:
    case Op::CpAsync: {
      if (!mask)
        break;
      if (!execMemory(w, I, mask))
        return Yield::Error;
      bool visible = I.op == Op::CpAsync || I.space == Space::Global ||
                     I.space == Space::Shared || I.space == Space::Generic;
      if (visible) {
        if (I.op != Op::Ld)
          madeProgress();
        ++w.pc;
        return Yield::Again;
      }
      break;
    }
    case Op::Atom:
    case Op::Red:
      if (!mask)
        break;
      if (!execAtom(w, I, mask))
        return Yield::Error;
      ++w.pc;
      return Yield::Again;
    case Op::CpAsyncCommit:
      w.groups.push_back(std::move(w.uncommitted));
      w.uncommitted.clear();
      break;
    case Op::CpAsyncWait: {
      uint64_t n = uint64_t(I.ops[0].imm);
      if (I.nops == 0) { // wait_all: commit, then wait for everything
        w.groups.push_back(std::move(w.uncommitted));
        w.uncommitted.clear();
        n = 0;
      }
      while (w.groups.size() > n) {
        landGroup(w, w.groups.front());
        w.groups.pop_front();
      }
      break;
    }
    case Op::Ldmatrix:
      if (!checkWholeWarp(w, I, mask, "ldmatrix.sync.aligned") ||
          !execLdmatrix(w, I))
        return Yield::Error;
      ++w.pc;
      return Yield::Again;
    case Op::Mma:
      if (!checkWholeWarp(w, I, mask, "mma.sync.aligned") || !execMma(w, I))
        return Yield::Error;
      break;
    case Op::Stmatrix:
      if (!checkWholeWarp(w, I, mask, "stmatrix.sync.aligned") ||
          !execStmatrix(w, I))
        return Yield::Error;
      madeProgress();
      ++w.pc;
      return Yield::Again;
    case Op::WmmaMma:
      if (!checkWholeWarp(w, I, mask, "wmma.mma.sync.aligned") ||
          !execWmma(w, I))
        return Yield::Error;
      break;
    case Op::WmmaLoad:
    case Op::WmmaStore:
      if (!checkWholeWarp(w, I, mask, "wmma.load/store.sync.aligned") ||
          !execWmma(w, I))
        return Yield::Error;
      if (I.op == Op::WmmaStore)
        madeProgress();
      ++w.pc;
      return Yield::Again;
    case Op::Shfl:
    case Op::Vote:
    case Op::Redux:
    case Op::Activemask:
    case Op::BarWarp:
      if (!mask)
        break;
      if (I.has(FAligned) && !checkWholeWarp(w, I, mask, "warp instruction"))
        return Yield::Error;
      if (!execWarpOp(w, I, mask))
        return Yield::Error;
      break;
    case Op::Bra: {
      uint32_t target = uint32_t(I.ops[0].imm);
      uint32_t notTaken = w.active & ~mask;
      if (!notTaken) {
        w.pc = target;
        continue;
      }
      if (!mask)
        break;
      diverge(w, mask, target, w.pc + 1, I.aux);
      continue;
    }
    case Op::Exit:
    case Op::Ret: {
      if (!mask)
        break;
      uint32_t exiting = 0, returning = 0, retPc = kNoPc;
      FOR_LANES(mask, {
        if (I.op == Op::Exit || w.stack[l].empty())
          exiting |= 1u << l;
        else
          returning |= 1u << l;
      });
      FOR_LANES(returning, {
        Frame f = w.stack[l].back();
        w.stack[l].pop_back();
        const detail::CallInfo &ci = mod.calls[f.call];
        const Function &callee = mod.funcs[ci.callee];
        size_t t = size_t(w.id) * 32 + size_t(l);
        uint8_t *loc = local.data() + t * mod.localBytes;
        for (size_t k = 0; k < ci.rets.size(); ++k)
          std::memmove(loc + ci.rets[k], loc + callee.retOffsets[k],
                       callee.rets[k].size);
        retPc = f.retPc;
      });
      if (exiting) {
        w.exited |= exiting;
        exitedThreads += uint32_t(__builtin_popcount(exiting));
        if ((w.valid & ~w.exited) == 0) {
          // Copies still in flight land before the warp retires.
          w.groups.push_back(std::move(w.uncommitted));
          w.uncommitted.clear();
          for (auto &g : w.groups)
            landGroup(w, g);
          w.groups.clear();
        }
      }
      w.active &= ~exiting;
      if (returning) {
        if (returning == w.active) {
          w.pc = retPc;
        } else {
          // Part of the lanes return: they wait at the return address for
          // the others.
          w.simt.push_back({retPc, w.active, w.rpc});
          w.active &= ~returning;
          w.pc = w.pc + 1;
          w.rpc = retPc;
        }
      } else {
        ++w.pc;
      }
      if (!w.active)
        popEntry(w);
      // Barriers may be waiting only for the threads that exited.
      if (exiting)
        for (uint32_t b = 0; b < 16; ++b)
          if (arrived[b] && barrierComplete(b))
            releaseBarrier(b);
      if (w.done)
        return Yield::Done;
      continue;
    }
    case Op::Call:
      if (!mask)
        break;
      if (!execCall(w, I, mask))
        return Yield::Error;
      if (mod.funcs[mod.calls[I.aux].callee].builtin ==
          Function::Builtin::None) {
        const Function &callee = mod.funcs[mod.calls[I.aux].callee];
        if (mask == w.active)
          w.pc = callee.begin;
        else
          diverge(w, mask, callee.begin, w.pc + 1, w.pc + 1);
        continue;
      }
      break;
    case Op::Bar: {
      if (!mask)
        break;
      int first = __builtin_ctz(mask);
      uint64_t ta[32], tb[32];
      uint64_t idv = src(w, I.ops[I.has(FRed) ? 1 : 0], ta)[first];
      if (idv >= 16) {
        fail(ReportKind::Other, I, w, first, ~0ull,
             "barrier id " + std::to_string(idv) + " is out of range 0..15");
        return Yield::Error;
      }
      uint32_t id = uint32_t(idv);
      uint32_t count = 0;
      if (I.nops >= 2 && !(I.has(FRed) && I.nops == 3)) {
        count = uint32_t(src(w, I.ops[I.has(FRed) ? 2 : 1], tb)[first]);
        if (count % 32 || count == 0) {
          fail(ReportKind::Other, I, w, first, ~0ull,
               "barrier thread count " + std::to_string(count) +
                   " is not a positive multiple of the warp size");
          return Yield::Error;
        }
      }
      // bar.sync is barrier.sync.aligned: every live thread of the warp.
      uint32_t live = w.valid & ~w.exited;
      // Lanes waiting only to leave the kernel count as exited, as on a GPU
      // (`if (i >= n) return; __syncthreads();`).
      if (I.has(FAligned) && mask != live &&
          retireParkedAtExit(w, live & ~mask))
        live = w.valid & ~w.exited;
      if (I.has(FAligned) && mask != live) {
        int lane = __builtin_ctz(live & ~mask);
        char buf[64];
        std::snprintf(buf, sizeof(buf), "0x%08x of 0x%08x", mask, live);
        fail(ReportKind::PartialWarp, I, w, lane, ~0ull,
             std::string("bar.sync/barrier.sync.aligned executed by part of "
                         "a warp (active lanes ") +
                 buf + "; lane " + std::to_string(lane) + " is missing)");
        return Yield::Error;
      }
      barCount[id] = count;
      arrived[id] += uint32_t(__builtin_popcount(mask));
      if (I.has(FRed)) {
        // bar.red: combine the predicate over the arriving threads; the
        // result reaches every waiting thread at the release.
        uint64_t tc[32];
        const uint64_t *pc = src(w, I.ops[I.nops - 1], tc);
        FOR_LANES(mask, {
          bool v = pc[l] & 1;
          redPopc[id] += v;
          redAnd[id] = redAnd[id] && v;
          redOr[id] = redOr[id] || v;
        });
        w.redDst = I.ops[0].kind == Operand::Reg ? I.ops[0].reg : kNoReg;
        w.redMask = mask;
        w.redOp = I.sub;
      }
      if (!I.has(FArrive)) {
        w.blocked = true;
        w.barId = id;
        w.barPc = w.pc;
      }
      ++w.pc;
      if (barrierComplete(id))
        releaseBarrier(id);
      return w.blocked ? Yield::Blocked : Yield::Again;
    }
    case Op::Trap:
      if (!mask)
        break;
      fail(ReportKind::Trap, I, w, __builtin_ctz(mask), ~0ull,
           "trap instruction executed");
      return Yield::Error;
    default:
      if (!mask)
        break;
      if (!execAlu(w, I, mask)) {
        fail(ReportKind::Other, I, w, __builtin_ctz(mask), ~0ull,
             "internal error: instruction not implemented");
        return Yield::Error;
      }
      break;
    }
    ++w.pc;
  }
}

void Launch::stopAtLimit(const Instr &I, const Warp &w, uint32_t mask) {
  int lane = mask ? __builtin_ctz(mask) : 0;
  if (dev.stats.warpInstructions > totalLimit) {
    fail(ReportKind::Other, I, w, lane, ~0ull,
         "the launch exceeded the limit of " +
             std::to_string(dev.opts.maxWarpInstructions) +
             " warp-instructions (an endless loop?)");
    return;
  }
  // Name every live warp of the resident CTAs, the running one first.
  std::ostringstream os;
  unsigned listed = 0, more = 0;
  auto list = [&](const Dim3 &c, const std::vector<Warp> &ws) {
    for (const Warp &x : ws) {
      if (x.done)
        continue;
      if (listed == 8) {
        ++more;
        continue;
      }
      os << (listed++ ? "; " : "") << "CTA (" << c.x << "," << c.y << "," << c.z
         << ") warp " << x.id << " at PTX line "
         << mod.code[x.blocked ? x.barPc : x.pc].line
         << (x.blocked ? " (at a barrier)" : "");
    }
  };
  list(cta, warps);
  for (const CtaSlot *s : resident)
    list(s->cta, s->warps);
  if (more)
    os << "; and " << more << " more";
  fail(ReportKind::NoProgress, I, w, lane, ~0ull,
       "no progress in " + std::to_string(dev.opts.maxSteps) +
           " warp-instructions (no store, no atomic that changes memory, no "
           "barrier, no CTA finished); spinning warps: " +
           os.str());
}

void Launch::startCta(uint64_t linear, uint64_t smem) {
  cta = Dim3(uint32_t(linear % grid.x), uint32_t(linear / grid.x % grid.y),
             uint32_t(linear / (uint64_t(grid.x) * grid.y)));
  uint32_t nthreads = uint32_t(block.count());
  uint32_t nwarps = (nthreads + 31) / 32;
  if (warps.size() != nwarps) {
    shared.assign(smem, 0);
    shadow.assign(dev.opts.detectRaces ? smem : 0, Shadow{0, 0, 0, 0});
    poison.assign(smem, 0);
    local.assign(size_t(nwarps) * 32 * mod.localBytes, 0);
    regFile.assign(size_t(nwarps) * 32 * mod.numRegs, 0);
    warps.assign(nwarps, Warp());
    order.resize(nwarps);
  }
  ctaThreads = nthreads;
  exitedThreads = 0;
  std::fill(std::begin(arrived), std::end(arrived), 0);
  std::fill(std::begin(barCount), std::end(barCount), 0);
  std::fill(std::begin(redPopc), std::end(redPopc), 0);
  std::fill(std::begin(redAnd), std::end(redAnd), true);
  std::fill(std::begin(redOr), std::end(redOr), false);
  ++epoch;
  // Shared memory starts with random bytes, never zeros.
  uint64_t x = rng ^ (uint64_t(cta.x) * 0x9e3779b97f4a7c15ull) ^
               (uint64_t(cta.y) << 21) ^ (uint64_t(cta.z) << 42);
  for (size_t i = 0; i < shared.size(); i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(shared.data() + i, &x, std::min<size_t>(8, shared.size() - i));
  }
  std::fill(poison.begin(), poison.end(), 0);
  for (size_t i = 0; i < local.size(); ++i)
    local[i] = uint8_t(0xa5 ^ i);
  for (uint32_t wi = 0; wi < nwarps; ++wi) {
    Warp &w = warps[wi];
    w.id = wi;
    w.pc = fn.begin;
    uint32_t n = std::min<uint32_t>(32, nthreads - wi * 32);
    w.valid = n == 32 ? kFull : ((1u << n) - 1);
    w.active = w.valid;
    w.exited = 0;
    w.blocked = false;
    w.redMask = 0;
    w.rpc = kNoPc;
    w.simt.clear();
    w.done = false;
    w.regs = regFile.data() + size_t(wi) * mod.numRegs * 32;
    w.uncommitted.clear();
    w.groups.clear();
    for (int l = 0; l < 32; ++l) {
      uint32_t lin = wi * 32 + uint32_t(l);
      w.tid[0][l] = lin % block.x;
      w.tid[1][l] = (lin / block.x) % block.y;
      w.tid[2][l] = lin / (block.x * block.y);
      w.stack[l].clear();
    }
    order[wi] = wi;
  }
}

Status Launch::runCtaTurn(uint64_t quantum, bool &done) {
  uint64_t stop = dev.stats.warpInstructions + quantum;
  done = false;
  while (dev.stats.warpInstructions < stop) {
    bool progress = false, allDone = true;
    if (dev.opts.scheduleSeed)
      shuffle(order);
    for (uint32_t wi : order) {
      Warp &w = warps[wi];
      if (w.done)
        continue;
      allDone = false;
      if (w.blocked)
        continue;
      progress = true;
      Yield y = runWarp(w);
      if (y == Yield::Error)
        return error;
    }
    if (allDone) {
      done = true;
      return Status::success();
    }
    if (progress)
      continue;
    // Only the CTA's own warps can release its barriers.
    for (Warp &w : warps) {
      if (!w.done && w.blocked) {
        const Instr &I = mod.code[w.barPc];
        fail(ReportKind::BarrierDeadlock, I, w, __builtin_ctz(w.active), ~0ull,
             "barrier deadlock: warp " + std::to_string(w.id) +
                 " waits at barrier " + std::to_string(w.barId) + " (" +
                 std::to_string(arrived[w.barId]) + " of " +
                 std::to_string(ctaThreads - exitedThreads) +
                 " threads arrived) and no other warp can run");
        return error;
      }
    }
    return Status::error("internal error: no warp can run");
  }
  return Status::success();
}

Status Launch::run(const std::vector<ParamBytes> &params) {
  if (!fn.isEntry)
    return Status::error("'" + fn.name + "' is not a kernel");
  if (params.size() != fn.params.size())
    return Status::error(
        "kernel '" + fn.name + "' takes " + std::to_string(fn.params.size()) +
        " parameters, the launch passes " + std::to_string(params.size()));
  paramBuf.assign(fn.paramBytes, 0);
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].bytes.size() != fn.params[i].size)
      return Status::error("parameter " + std::to_string(i) + " ('" +
                           fn.params[i].name + "') of kernel '" + fn.name +
                           "' is " + std::to_string(fn.params[i].size) +
                           " bytes, the launch passes " +
                           std::to_string(params[i].bytes.size()));
    std::memcpy(paramBuf.data() + fn.paramOffsets[i], params[i].bytes.data(),
                params[i].bytes.size());
  }
  if (block.count() == 0 || block.count() > 1024)
    return Status::error("block of " + std::to_string(block.count()) +
                         " threads (must be 1 to 1024)");
  if (grid.count() == 0)
    return Status::error("empty grid");
  if (grid.y > 65535 || grid.z > 65535 || block.z > 64)
    return Status::error("grid or block dimensions exceed the device limits");
  uint64_t smem = uint64_t(mod.staticShared) + dynSmem;
  if (smem > 228 * 1024)
    return Status::error("kernel '" + fn.name + "' needs " +
                         std::to_string(smem) +
                         " bytes of shared memory (the limit is 227 KiB)");
  rng = dev.opts.seed * 0x2545f4914f6cdd1dull + 1;
  if (dev.opts.maxWarpInstructions)
    totalLimit = dev.opts.maxWarpInstructions;
  madeProgress();
  schedRng = dev.opts.scheduleSeed * 0x9e3779b97f4a7c15ull + 7;
  // Occupancy as on an H100 SM: 32 CTAs, 64 warps, 228 KiB of shared
  // memory with 1 KiB reserved per CTA.
  uint64_t nwarps = (block.count() + 31) / 32;
  uint64_t perSm = std::min<uint64_t>(32, 64 / nwarps);
  perSm = std::min<uint64_t>(perSm, (228 * 1024) / (smem + 1024));
  if (dev.opts.maxCtasPerSm)
    perSm = std::min<uint64_t>(perSm, dev.opts.maxCtasPerSm);
  uint64_t maxResident =
      std::max<uint64_t>(1, perSm) * std::max<uint32_t>(1, dev.opts.numSms);
  std::vector<uint64_t> ctas(grid.count());
  for (uint64_t i = 0; i < ctas.size(); ++i)
    ctas[i] = i;
  if (dev.opts.scheduleSeed)
    shuffle(ctas);
  // A CTA runs for a turn of warp-instructions (4096 per warp), then the
  // next resident one;
  // one more CTA becomes resident at every turn while there is room, so CTAs
  // that finish within a turn run one after the other (and stay in cache),
  // and CTAs that wait for each other all get to run. A seeded schedule
  // uses short random turns.
  // Turns are shorter than the no-progress limit, so that every resident CTA
  // runs before a spin is declared.
  uint64_t kTurn = 4096 * nwarps;
  if (dev.opts.maxSteps)
    kTurn = std::max<uint64_t>(1, std::min(kTurn, dev.opts.maxSteps / 4));
  std::vector<std::unique_ptr<CtaSlot>> slots;
  std::vector<CtaSlot *> pool;
  size_t next = 0;
  resident.clear();
  for (;;) {
    if (next < ctas.size() && resident.size() < maxResident) {
      CtaSlot *s;
      if (pool.empty()) {
        slots.push_back(std::make_unique<CtaSlot>());
        s = slots.back().get();
      } else {
        s = pool.back();
        pool.pop_back();
      }
      swapCta(*s);
      startCta(ctas[next++], smem);
      swapCta(*s);
      resident.push_back(s);
    }
    if (resident.empty())
      break;
    CtaSlot *s = resident.front();
    resident.pop_front();
    swapCta(*s);
    uint64_t turn = kTurn;
    if (dev.opts.scheduleSeed) {
      schedRng ^= schedRng << 13;
      schedRng ^= schedRng >> 7;
      schedRng ^= schedRng << 17;
      turn = 1 + schedRng % 4096;
    }
    bool done = false;
    Status st = runCtaTurn(turn, done);
    swapCta(*s);
    if (!st)
      return st;
    if (done) {
      dev.stats.ctas++;
      madeProgress();
      pool.push_back(s);
    } else {
      resident.push_back(s);
    }
  }
  return Status::success();
}

} // namespace

Status runKernel(Emulator::Impl &dev, const detail::ModuleImpl &mod,
                 uint32_t kernelIndex, Dim3 grid, Dim3 block,
                 uint32_t dynamicSmemBytes,
                 const std::vector<ParamBytes> &params) {
  if (kernelIndex >= mod.funcs.size())
    return Status::error("invalid kernel handle");
  Launch launch(dev, mod, kernelIndex, grid, block, dynamicSmemBytes);
  return launch.run(params);
}

} // namespace tilus::emu
