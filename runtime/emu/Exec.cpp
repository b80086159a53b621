//===- Exec.cpp - Executing decoded PTX: the launch and the warp loop -----===//
//
// Resident CTAs take turns (Launch::run); within a CTA, each warp runs a SIMT
// stack: after a divergent branch the two paths run one after the other, and
// the lanes meet again at the branch's immediate post-dominator, computed when
// the module is loaded (the branch's reconvergence pc); a path that waits at a
// barrier or a warp collective lets the warp's other paths run (Paths.cpp).
// Warps are switched after every global or shared memory operation and at
// barriers, in a fixed round-robin order.
//
// runWarp and execAlu are the dispatch: they name the family function that
// runs each instruction (Launch.h lists the family files).
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Launch.h"

#include "support/Progress.h"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace tilus::emu::exec {

void Launch::fail(ReportKind kind, const Instr &I, const Warp &w, int lane,
                  uint64_t addr, const std::string &what) {
  if (failed)
    return;
  failed = true;
  Dim3 t = threadOf(w, lane < 0 ? 0 : lane);
  std::ostringstream os;
  os << what << " in kernel '" << fn.name << "' at PTX line " << I.line << " ("
     << mod.name << ":" << I.line << "), CTA (" << cta.x << "," << cta.y << ","
     << cta.z << "), thread (" << t.x << "," << t.y << "," << t.z << ")";
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

std::string Launch::where(uint32_t pc) const {
  const Instr &I = mod.code[pc];
  std::string s = "PTX line " + std::to_string(I.line) + " (" + mod.name + ":" +
                  std::to_string(I.line);
  if (I.srcLine && I.srcFile < mod.files.size() &&
      !mod.files[I.srcFile].empty())
    s += ", source " + mod.files[I.srcFile] + ":" + std::to_string(I.srcLine);
  return s + ")";
}

Hazard &Launch::hazardAt(Hazard::Kind kind, uint32_t pc, uint32_t otherPc,
                         const Warp &w, int lane, uint16_t otherWarp,
                         bool &added) {
  auto [it, fresh] = hazardIndex.try_emplace(hazardKey(kind, pc, otherPc),
                                             hazards.size());
  added = fresh;
  if (fresh) {
    Hazard h;
    h.kind = kind;
    h.pc = pc;
    h.otherPc = otherPc;
    h.cta = cta;
    h.thread = threadOf(w, lane);
    h.warp = w.id;
    h.otherWarp = otherWarp;
    hazards.push_back(std::move(h));
  }
  return hazards[it->second];
}

void Launch::noteHazard(Hazard::Kind kind, uint32_t pc, uint32_t otherPc,
                        const Warp &w, int lane, uint16_t other,
                        uint8_t otherLane, uint32_t byte, uint64_t &lastKey,
                        Hazard *&last) {
  uint64_t key = hazardKey(kind, pc, otherPc);
  if (key != lastKey) {
    bool added;
    last = &hazardAt(kind, pc, otherPc, w, lane, other, added);
    if (added) {
      last->lo = last->hi = byte;
      last->otherLane = otherLane;
    }
    ++last->count;
    lastKey = key;
  }
  last->lo = std::min(last->lo, byte);
  last->hi = std::max(last->hi, byte);
}

std::string racePeer(uint32_t warp, uint16_t otherWarp, uint8_t otherLane) {
  if (otherWarp == warp)
    return otherLane == kSeveralLanes
               ? std::string("other lanes of the same warp")
               : "lane " + std::to_string(otherLane) + " of the same warp";
  return otherWarp == 0xffff ? std::string("other warps")
                             : "warp " + std::to_string(otherWarp);
}

const char *raceGap(uint32_t warp, uint16_t otherWarp) {
  return otherWarp == warp ? " with no barrier or bar.warp.sync between"
                           : " with no barrier between";
}

Status Launch::withHazards(Status s) {
  if (hazards.empty())
    return s;
  static const char *kinds[] = {"RAW", "WAR", "WAW"};
  static const char *verbs[] = {"read", "write", "write"};
  static const char *otherVerbs[] = {"write", "read", "write"};
  bool onlyShared =
      std::all_of(hazards.begin(), hazards.end(),
                  [](const Hazard &h) { return h.kind <= Hazard::Waw; });
  std::ostringstream os;
  os << hazards.size() << " distinct " << (onlyShared ? "shared-memory " : "")
     << "hazard" << (hazards.size() == 1 ? "" : "s") << " in kernel '"
     << fn.name << "' (racecheck=report; "
     << (s ? "the launch ran to completion" : "then the launch stopped")
     << "):";
  for (const Hazard &h : hazards) {
    os << "\n  ";
    if (h.kind <= Hazard::Waw)
      os << kinds[h.kind] << ": " << verbs[h.kind] << " at " << where(h.pc)
         << " by warp " << h.warp << " after a " << otherVerbs[h.kind] << " at "
         << where(h.otherPc) << " by "
         << racePeer(h.warp, h.otherWarp, h.otherLane)
         << raceGap(h.warp, h.otherWarp);
    else
      os << h.text;
    os << "; first in CTA (" << h.cta.x << "," << h.cta.y << "," << h.cta.z
       << "), thread (" << h.thread.x << "," << h.thread.y << "," << h.thread.z
       << ")";
    if (h.hasBytes)
      os << ", shared bytes " << h.lo << " to " << h.hi;
    os << ", " << h.count << (h.count == 1 ? " time" : " times");
  }
  Report &r = dev.report;
  r.hazards = uint32_t(hazards.size());
  if (s) {
    const Hazard &h = hazards.front();
    r.kind = h.kind <= Hazard::Waw ? ReportKind::SharedRace
                                   : ReportKind::AsyncHazard;
    r.completed = true;
    r.kernel = fn.name;
    r.ptxLine = mod.code[h.pc].line;
    r.cta = h.cta;
    r.thread = h.thread;
    r.address = h.hasBytes ? kSharedWindow + h.lo : 0;
    r.message = os.str();
  } else {
    r.message = s.message() + "\n" + os.str();
  }
  return Status::error(r.message);
}

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

const uint64_t *Launch::srcSlow(const Warp &w, const Operand &o,
                                uint64_t *tmp) {
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
// The warp loop
//===----------------------------------------------------------------------===//

Yield Launch::runWarp(Warp &w) {
  const Instr *code = mod.code.data();
  LaunchStats &st = dev.stats;
  for (;;) {
    while (w.pc == w.rpc) {
      if (!popEntry(w))
        return failed ? Yield::Error : w.done ? Yield::Done : Yield::Blocked;
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
    if (prof)
      prof->instruction(mod, I, mask, w);
    if (st.warpInstructions > instrLimit) {
      stopAtLimit(I, w, mask);
      return Yield::Error;
    }
    // Only under race detection, with wgmma in flight (AsyncHazards.cpp).
    if (__builtin_expect(w.wgmmaPending, 0) && mask && I.op != Op::Wgmma &&
        !checkWgmmaRegs(w, I, mask))
      return Yield::Error;
    switch (I.op) {
    case Op::Nop:
    case Op::Membar:
      break;
    case Op::Mov:
      execMov(w, I, mask);
      break;
    case Op::Cvt:
      execCvt(w, I, mask);
      break;
    case Op::Cvta:
    case Op::CvtaTo:
      execCvta(w, I, mask);
      break;
    case Op::Ld:
    case Op::St:
    case Op::CpAsync: {
      if (!mask)
        break;
      if (!execMemory(w, I, mask))
        return Yield::Error;
      if (prof)
        prof->endMemory(I, w);
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
      if (prof)
        prof->endMemory(I, w);
      ++w.pc;
      return Yield::Again;
    case Op::CpAsyncCommit:
    case Op::CpAsyncWait:
      execCpAsyncGroup(w, I);
      break;
    case Op::Mbarrier: {
      if (!mask)
        break;
      uint32_t waiting = 0;
      if (!execMbarrier(w, I, mask, waiting))
        return Yield::Error;
      if (I.sub == Sub::MbPendingCount)
        break;
      // Lanes of this warp on other paths may be the ones to arrive: lanes
      // whose try_wait failed park there and the other paths run (once
      // nothing else can run they go on, Paths.cpp).
      if (waiting && I.sub == Sub::MbTryWait && !w.spinResumed &&
          (w.valid & ~w.exited & ~w.active)) {
        parkPath(w, waiting, w.pc, Park::Spin, 0, 0);
        return Yield::Again;
      }
      if (waiting)
        w.spinResumed = false;
      if (prof) {
        // The mbarrier's own accesses are not LSU requests of the next
        // memory instruction; a successful wait is ready when the bulk
        // copies onto the mbarrier land.
        prof->dropAccesses();
        bool wait = I.sub == Sub::MbTryWait || I.sub == Sub::MbTestWait;
        if (wait && (mask & ~waiting))
          prof->mbarrierWaited(
              I, w, addrOf(w, I.ops[1], __builtin_ctz(mask & ~waiting)));
      }
      // Every other mbarrier operation is a shared-memory access; a lane
      // that waits for a phase lets the warps that complete it run.
      ++w.pc;
      return Yield::Again;
    }
    case Op::CpBulk:
    case Op::CpBulkTensor:
      if (!mask)
        break;
      if (!(I.op == Op::CpBulk ? execCpBulk(w, I, mask)
                               : execCpBulkTensor(w, I, mask)))
        return Yield::Error;
      if (prof)
        prof->endBulk(I, w, addrOf(w, I.ops[3], __builtin_ctz(mask)));
      madeProgress();
      ++w.pc;
      return Yield::Again;
    case Op::CpBulkCommit:
    case Op::CpBulkWait: // bulk copies are done when they execute
    case Op::CpBulkPrefetch:
      break;
    case Op::Wgmma: {
      bool parked = false;
      if (mask != w.valid &&
          !alignWarp(w, I, mask, "wgmma.mma_async.sync.aligned", parked))
        return Yield::Error;
      if (parked)
        continue;
      if (!execWgmma(w, I))
        return Yield::Error;
      ++w.pc;
      return Yield::Again;
    }
    case Op::WgmmaFence:
    case Op::WgmmaCommit:
    case Op::WgmmaWait: // wgmma.mma_async is done when it executes
      if (!checkWholeWarp(w, I, mask, "wgmma.sync.aligned"))
        return Yield::Error;
      // Under race detection its operands stay pending until the wait.
      if (!shadow.empty() && I.op == Op::WgmmaCommit)
        wgmmaCommit(w);
      else if (!shadow.empty() && I.op == Op::WgmmaWait)
        wgmmaWait(w, uint32_t(I.ops[0].imm));
      break;
    case Op::Setmaxnreg:
      if (!checkWholeWarp(w, I, mask, "setmaxnreg.sync.aligned"))
        return Yield::Error;
      break;
    case Op::Ldmatrix: {
      bool parked = false;
      if (mask != w.valid &&
          !alignWarp(w, I, mask, "ldmatrix.sync.aligned", parked))
        return Yield::Error;
      if (parked)
        continue;
      if (!execLdmatrix(w, I))
        return Yield::Error;
      if (prof)
        prof->endMemory(I, w);
      ++w.pc;
      return Yield::Again;
    }
    case Op::Mma: {
      bool parked = false;
      if (mask != w.valid && !alignWarp(w, I, mask, "mma.sync.aligned", parked))
        return Yield::Error;
      if (parked)
        continue;
      if (!execMma(w, I))
        return Yield::Error;
      break;
    }
    case Op::Stmatrix: {
      bool parked = false;
      if (mask != w.valid &&
          !alignWarp(w, I, mask, "stmatrix.sync.aligned", parked))
        return Yield::Error;
      if (parked)
        continue;
      if (!execStmatrix(w, I))
        return Yield::Error;
      if (prof)
        prof->endMemory(I, w);
      madeProgress();
      ++w.pc;
      return Yield::Again;
    }
    case Op::WmmaMma: {
      bool parked = false;
      if (mask != w.valid &&
          !alignWarp(w, I, mask, "wmma.mma.sync.aligned", parked))
        return Yield::Error;
      if (parked)
        continue;
      if (!execWmma(w, I))
        return Yield::Error;
      break;
    }
    case Op::WmmaLoad:
    case Op::WmmaStore: {
      bool parked = false;
      if (mask != w.valid &&
          !alignWarp(w, I, mask, "wmma.load/store.sync.aligned", parked))
        return Yield::Error;
      if (parked)
        continue;
      if (!execWmma(w, I))
        return Yield::Error;
      if (prof)
        prof->endMemory(I, w);
      if (I.op == Op::WmmaStore)
        madeProgress();
      ++w.pc;
      return Yield::Again;
    }
    case Op::Shfl:
    case Op::Vote:
    case Op::Redux:
    case Op::Match:
    case Op::Elect:
    case Op::BarWarp: {
      if (!mask)
        break;
      if (I.has(FAligned) && !checkWholeWarp(w, I, mask, "warp instruction"))
        return Yield::Error;
      bool parked;
      if (!syncCollective(w, I, mask, parked))
        return Yield::Error;
      if (parked)
        continue;
      break;
    }
    case Op::Activemask: {
      uint64_t *d = dst(w, I.ops[0]);
      FOR_LANES(mask, d[l] = mask);
      break;
    }
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
    case Op::Ret:
      if (!mask)
        break;
      execExit(w, I, mask);
      if (w.wgmmaPending && (w.valid & ~w.exited) == 0 && !wgmmaAtExit(w, I))
        return Yield::Error;
      if (w.done)
        return Yield::Done;
      continue;
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
    case Op::Bar:
      if (!mask)
        break;
      return execBar(w, I, mask);
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

/// The arithmetic, logic and comparison instructions: a, b and c are the
/// operands after the destination.
bool Launch::execAlu(Warp &w, const Instr &I, uint32_t mask) {
  uint64_t ta[32], tb[32], tc[32];
  AluArgs args;
  args.a = I.nops > 1 ? src(w, I.ops[1], ta) : ta;
  args.b = I.nops > 2 ? src(w, I.ops[2], tb) : tb;
  args.c = I.nops > 3 ? src(w, I.ops[3], tc) : tc;
  args.d = dst(w, I.ops[0]);
  // Instructions whose type does not choose the family.
  switch (I.op) {
  case Op::Createpolicy:
    return execCreatepolicy(w, I, mask, args);
  case Op::Bfi:
    return execBfi(w, I, mask, args);
  case Op::Lop3:
    return execLop3(w, I, mask, args);
  case Op::Prmt:
  case Op::Not:
  case Op::Cnot:
  case Op::Bfe:
  case Op::Popc:
  case Op::Clz:
  case Op::Brev:
  case Op::Bfind:
  case Op::Dp4a:
  case Op::Sad:
    return execBits(w, I, mask, args);
  case Op::Selp:
    return execSelp(w, I, mask, args);
  case Op::Setp:
    return execSetp(w, I, mask, args);
  case Op::Set:
    return execSet(w, I, mask, args);
  case Op::Testp:
    return execTestp(w, I, mask, args);
  default:
    break;
  }
  if (I.flags & (FCarryIn | FCarryOut))
    return execCarry(w, I, mask, args);
  if (!isFloat(I.type))
    return execInt(w, I, mask, args);
  return execFloat(w, I, mask, args);
}

//===----------------------------------------------------------------------===//
// CTAs and the launch
//===----------------------------------------------------------------------===//

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
         << mod.code[x.blocked                ? x.barPc
                     : x.pc < mod.code.size() ? x.pc
                                              : fn.begin]
                .line
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
  bool races = dev.opts.raceCheck != RaceCheck::Off;
  if (warps.size() != nwarps) {
    shared.assign(smem, 0);
    shadow.assign(races ? smem : 0, Shadow{});
    shadowPc.assign(dev.opts.raceCheck == RaceCheck::Report ? smem : 0,
                    ShadowPc());
    poison.assign(smem, 0);
    local.assign(size_t(nwarps) * 32 * localBytes, 0);
    regFile.assign(size_t(nwarps) * 32 * fn.regFrame, 0);
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
  if (races)
    resetAsyncShadow();
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
    w.whole = false;
    w.spinResumed = false;
    w.syncStep = raceStep();
    w.reds.clear();
    w.rpc = kNoPc;
    w.depth = 0;
    w.simt.clear();
    w.parked = 0;
    w.done = false;
    w.regs = regFile.data() + size_t(wi) * fn.regFrame * 32;
    w.uncommitted.clear();
    w.groups.clear();
    w.wgmmaPending = false;
    w.wgmmaCommits = 0;
    w.wgmmaOpen.clear();
    w.wgmmaGroups.clear();
    w.regOwner.clear();
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
  if (prof)
    prof->setCta(cta.x + uint64_t(grid.x) * (cta.y + uint64_t(grid.y) * cta.z));
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
      if (prof)
        prof->ctaDone(warps);
      done = true;
      return Status::success();
    }
    if (progress)
      continue;
    // Only the CTA's own warps can release its barriers.
    for (Warp &w : warps) {
      if (!w.done && w.blocked) {
        const Instr &I = mod.code[w.barPc];
        uint32_t lanes = w.active;
        for (const Entry &e : w.simt)
          if (!lanes && e.park == Park::Barrier)
            lanes = e.mask;
        fail(ReportKind::BarrierDeadlock, I, w, __builtin_ctz(lanes | 1u << 31),
             ~0ull,
             "barrier deadlock: warp " + std::to_string(w.id) +
                 " waits at barrier " + std::to_string(w.barId) + " (" +
                 std::to_string(arrived[w.barId]) + " of " +
                 std::to_string(barCount[w.barId]
                                    ? barCount[w.barId]
                                    : ctaThreads - exitedThreads) +
                 " threads arrived) and no other warp can run");
        return error;
      }
    }
    return Status::error("internal error: no warp can run");
  }
  return Status::success();
}

Status Launch::run(const std::vector<ParamBytes> &params) {
  Status s = runLaunch(params);
  // Slots are reused, never freed, during a launch: their sum is the peak.
  uint64_t bytes = 0;
  for (const auto &slot : slots) {
    const CtaSlot &c = *slot;
    bytes += c.shared.capacity() + c.poison.capacity() + c.local.capacity() +
             c.shadow.capacity() * sizeof(Shadow) +
             c.shadowPc.capacity() * sizeof(ShadowPc) +
             (c.bulkOwner.capacity() + c.wgmmaReaders.capacity()) *
                 sizeof(uint16_t) +
             c.regFile.capacity() * sizeof(uint64_t) +
             c.warps.capacity() * sizeof(Warp) +
             c.order.capacity() * sizeof(uint32_t) + sizeof(CtaSlot);
  }
  dev.stats.hostBytes = bytes;
  return withHazards(std::move(s));
}

Status Launch::runLaunch(const std::vector<ParamBytes> &params) {
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
  auto dims = [](Dim3 d) {
    return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," +
           std::to_string(d.z) + ")";
  };
  // A GPU refuses a launch whose block breaks the kernel's .maxntid or
  // .reqntid (CUDA_ERROR_INVALID_VALUE).
  if (fn.maxntid.x && block.count() > fn.maxntid.count())
    return Status::error(
        "kernel '" + fn.name + "' declares .maxntid " + dims(fn.maxntid) +
        ", at most " + std::to_string(fn.maxntid.count()) +
        " threads per block; the launch's block " + dims(block) + " has " +
        std::to_string(block.count()));
  if (fn.reqntid.x &&
      (block.x != fn.reqntid.x || block.y != fn.reqntid.y ||
       block.z != fn.reqntid.z))
    return Status::error("kernel '" + fn.name + "' declares .reqntid " +
                         dims(fn.reqntid) +
                         ", the block it must be launched with; the launch's "
                         "block is " +
                         dims(block));
  uint64_t smem = uint64_t(fn.staticShared) + dynSmem;
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
  // The host memory of a resident CTA (docs/emulator.md, host memory per
  // CTA) against what the budget leaves next to global memory: a CTA that
  // does not fit is an error, and fewer CTAs are resident at once if all
  // would not fit.
  uint64_t shadowPerByte = dev.opts.raceCheck == RaceCheck::Off      ? 0
                           : dev.opts.raceCheck == RaceCheck::Report ? 20
                                                                     : 12;
  uint64_t ctaBytes = nwarps * (256 * uint64_t(fn.regFrame) +
                                32 * uint64_t(fn.localFrame) + 2048) +
                      smem * (2 + shadowPerByte);
  uint64_t budget = dev.opts.maxMemory,
           globalBytes = std::min(dev.mem.bytes(), budget);
  if (ctaBytes > budget - globalBytes)
    return Status::error(
        "kernel '" + fn.name + "' needs " + std::to_string(ctaBytes) +
        " bytes of host memory for a CTA (" + std::to_string(nwarps) +
        (nwarps == 1 ? " warp" : " warps") + " of " +
        std::to_string(fn.regFrame) + " registers and " +
        std::to_string(fn.localFrame) + " bytes of local memory per thread, " +
        std::to_string(smem) + " bytes of shared memory), more than the " +
        std::to_string(budget - globalBytes) + " bytes left of " +
        budgetText(budget) + " next to " + std::to_string(globalBytes) +
        " bytes of global memory");
  maxResident = std::min(maxResident, (budget - globalBytes) / ctaBytes);
  std::vector<uint64_t> ctas(grid.count());
  for (uint64_t i = 0; i < ctas.size(); ++i)
    ctas[i] = i;
  if (prof && dev.opts.sampleCtas && dev.opts.sampleCtas < grid.count()) {
    uint64_t n = dev.opts.sampleCtas, all = grid.count();
    // Whole columns (every x of a y, z) when N holds one: the CTAs of a
    // column share data (a matmul's weights) that one CTA of each column
    // alone would count once per CTA. Else N CTAs evenly spaced.
    uint64_t width = n >= grid.x ? grid.x : 1;
    uint64_t columns = all / width, taken = n / width;
    ctas.clear();
    for (uint64_t c = 0; c < taken; ++c)
      for (uint64_t x = 0; x < width; ++x)
        ctas.push_back(c * columns / taken * width + x);
    prof->setSampling(double(all) / double(ctas.size()), width);
  }
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
  std::vector<CtaSlot *> pool;
  size_t next = 0;
  resident.clear();
  Progress progress(dev.opts.progress, "emulating " + fn.name, ctas.size(),
                    "CTAs");
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
      progress.step();
      pool.push_back(s);
    } else {
      resident.push_back(s);
    }
  }
  return Status::success();
}

} // namespace tilus::emu::exec

namespace tilus::emu {

Status runKernel(Emulator::Impl &dev, const detail::ModuleImpl &mod,
                 uint32_t kernelIndex, Dim3 grid, Dim3 block,
                 uint32_t dynamicSmemBytes,
                 const std::vector<ParamBytes> &params) {
  if (kernelIndex >= mod.funcs.size())
    return Status::error("invalid kernel handle");
  exec::Launch launch(dev, mod, kernelIndex, grid, block, dynamicSmemBytes);
  if (!dev.opts.profile)
    return launch.run(params);
  exec::Profiler profiler(dev.opts.profileDramCycles);
  launch.setProfiler(&profiler);
  Status s = launch.run(params);
  dev.stats.profiled = true;
  dev.stats.counters = profiler.counters();
  return s;
}

} // namespace tilus::emu
