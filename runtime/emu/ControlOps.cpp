//===- ControlOps.cpp - Control flow, calls and barriers ------------------===//
//
// exit and ret (a ret with no call frame leaves the kernel), call (with the
// vprintf and __assertfail builtins), bar/barrier with .sync, .arrive and
// .red. bra is in runWarp (Exec.cpp), next to the SIMT stack it drives.
//
// A barrier counts arriving threads, as from sm_70 on; threads that exited
// count as arrived unless the barrier names a thread count. Lanes of a warp
// may arrive along different paths: at a non-aligned barrier.sync each path
// arrives and waits while the warp runs its other paths; an aligned one
// (bar.sync, __syncthreads) is executed by the warp's threads together, so a
// path that gets there first waits at the instruction for the others (as
// after `if (tid == 0) { ... if (...) return; } __syncthreads();`, whose
// paths meet only at the exit). Paths.cpp runs the paths.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Decode.h"
#include "runtime/emu/Launch.h"

#include <cstring>

namespace tilus::emu::exec {

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
      uint8_t *loc = local.data() + t * localBytes;
      // A call that passes no argument buffer (one operand) prints the
      // format alone, as a null buffer does.
      if (!ci.args.empty())
        std::memcpy(&fmt, loc + ci.args[0], 8);
      if (ci.args.size() > 1)
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
    uint8_t *loc = local.data() + t * localBytes;
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
    uint8_t *loc = local.data() + t * localBytes;
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
  if (prof)
    prof->barrierReleased(warps, id);
  arrived[id] = 0;
  ++epoch;
  for (Warp &w : warps) {
    if (w.done)
      continue;
    if (w.blocked && w.whole && w.barId == id)
      w.blocked = false;
    if (w.parked) {
      bool any = false;
      for (Entry &e : w.simt) {
        if (e.park == Park::Barrier && e.barId == id) {
          e.park = Park::None;
          --w.parked;
          any = true;
        }
      }
      if (any && w.blocked && !w.whole)
        w.blocked = false;
    }
    if (w.reds.empty())
      continue;
    size_t kept = 0;
    for (const PendingRed &r : w.reds) {
      if (r.id != id) {
        w.reds[kept++] = r;
        continue;
      }
      uint64_t v = r.op == Sub::APopc  ? redPopc[id]
                   : r.op == Sub::AAnd ? uint64_t(redAnd[id])
                                       : uint64_t(redOr[id]);
      if (r.dst != kNoReg)
        FOR_LANES(r.mask, w.regs[size_t(r.dst) * 32 + l] = v);
    }
    w.reds.resize(kept);
  }
  redPopc[id] = 0;
  redAnd[id] = true;
  redOr[id] = false;
}

void Launch::execExit(Warp &w, const Instr &I, uint32_t mask) {
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
    uint8_t *loc = local.data() + t * localBytes;
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
      w.simt.push_back({retPc, w.active, w.rpc, uint16_t(w.depth)});
      ++w.depth;
      w.active &= ~returning;
      w.pc = w.pc + 1;
      w.rpc = retPc;
    }
  } else {
    ++w.pc;
  }
  // Barriers may be waiting only for the threads that exited.
  if (exiting)
    for (uint32_t b = 0; b < 16; ++b)
      if (arrived[b] && barrierComplete(b))
        releaseBarrier(b);
  if (!w.active)
    popEntry(w);
}

Yield Launch::execBar(Warp &w, const Instr &I, uint32_t mask) {
  int first = __builtin_ctz(mask);
  // A guard that skips an aligned barrier in some lanes of the path that
  // reaches it breaks the ISA's rule (every thread of the warp executes the
  // same aligned barrier); what a GPU then does is undefined.
  if (I.has(FAligned) && mask != w.active) {
    uint32_t skipping = w.active & ~mask;
    char buf[64];
    std::snprintf(buf, sizeof(buf), "0x%08x of 0x%08x", mask, w.active);
    fail(ReportKind::PartialWarp, I, w, __builtin_ctz(skipping), ~0ull,
         "aligned barrier (bar.sync, barrier.sync.aligned) executed by part "
         "of a warp: its guard is false in lane " +
             std::to_string(__builtin_ctz(skipping)) + " (executing lanes " +
             buf +
             "); the warp's threads must execute the same aligned barrier "
             "(barrier.sync without .aligned lets them arrive apart)");
    return Yield::Error;
  }
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
  // An aligned barrier (bar.sync, barrier.sync.aligned, bar.arrive, bar.red)
  // is executed by all the warp's threads together: lanes that get here
  // while others of the warp are on other paths wait for them at this
  // instruction before arriving.
  uint32_t live = w.valid & ~w.exited;
  uint32_t arriving = mask;
  if (I.has(FAligned) && mask != live) {
    std::vector<size_t> waiting;
    for (size_t i = 0; i < w.simt.size(); ++i) {
      const Entry &e = w.simt[i];
      if (e.park == Park::Aligned && e.pc == w.pc) {
        waiting.push_back(i);
        arriving |= e.mask & ~w.exited;
      }
    }
    if (arriving != live) {
      parkPath(w, mask, w.pc, Park::Aligned, 0, 0);
      if (!w.active && !popEntry(w))
        return failed ? Yield::Error : w.done ? Yield::Done : Yield::Blocked;
      return Yield::Again;
    }
    for (size_t i : waiting) {
      Entry &e = w.simt[i];
      ++e.pc;
      e.barId = uint8_t(id);
      e.park = I.has(FArrive) ? Park::None : Park::Barrier;
      if (I.has(FArrive))
        --w.parked;
    }
  }
  barCount[id] = count;
  arrived[id] += uint32_t(__builtin_popcount(arriving));
  if (I.has(FRed)) {
    // bar.red: combine the predicate over the arriving threads; the
    // result reaches every waiting thread at the release.
    uint64_t tc[32];
    const uint64_t *pc = src(w, I.ops[I.nops - 1], tc);
    FOR_LANES(arriving, {
      bool v = pc[l] & 1;
      redPopc[id] += v;
      redAnd[id] = redAnd[id] && v;
      redOr[id] = redOr[id] || v;
    });
    w.reds.push_back({id, I.ops[0].kind == Operand::Reg ? I.ops[0].reg : kNoReg,
                      arriving, I.sub});
  }
  if (I.has(FArrive)) {
    ++w.pc;
  } else if (mask == live) {
    w.blocked = true;
    w.whole = true;
    w.barId = id;
    w.barPc = w.pc;
    ++w.pc;
  } else {
    // Lanes of the warp are on other paths (or skip the instruction, or
    // arrived with this path at an aligned barrier): the arriving lanes wait
    // here while the warp runs those paths.
    parkPath(w, mask, w.pc + 1, Park::Barrier, id, 0);
  }
  if (barrierComplete(id))
    releaseBarrier(id);
  if (!w.blocked && !w.active && !popEntry(w))
    return failed ? Yield::Error : w.done ? Yield::Done : Yield::Blocked;
  return w.blocked ? Yield::Blocked : Yield::Again;
}

} // namespace tilus::emu::exec

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

namespace tilus::emu::decode {
namespace {

bool controlModifier(Decoding &d, std::string_view m) {
  Instr &ins = d.ins;
  if (m == "uni" && ins.op == Op::Bra) {
    ins.flags |= FUni;
  } else if (ins.op == Op::Bar && reductionByName(m, ins.sub)) {
  } else if (ins.op == Op::Bar &&
             (m == "arrive" || m == "red" || m == "warp" || m == "cta")) {
    if (m == "arrive")
      ins.flags |= FArrive;
    if (m == "red")
      ins.flags |= FRed;
    if (m == "warp")
      ins.op = Op::BarWarp;
  } else if (ins.op == Op::Setmaxnreg && (m == "inc" || m == "dec")) {
    if (m == "inc")
      ins.flags |= FInc;
  } else {
    return false;
  }
  return true;
}

Status checkControl(Decoding &d) {
  Instr &ins = d.ins;
  Type t0 = d.type(0);
  Status st;
  switch (ins.op) {
  case Op::Bra:
    return d.need(ins.ops[0].kind == Operand::Label, "a label target");
  case Op::Bar:
    if (ins.has(FRed)) {
      st = d.need((ins.sub == Sub::APopc && t0 == Type::U32) ||
                      ((ins.sub == Sub::AAnd || ins.sub == Sub::AOr) &&
                       t0 == Type::Pred),
                  "bar.red.popc.u32 or bar.red.{and,or}.pred");
      if (!st)
        return st;
      const Operand &c = ins.ops[ins.nops - 1];
      st = d.need(ins.nops >= 3 && c.kind == Operand::Reg &&
                      c.reg < d.regTypes.size() &&
                      d.regTypes[c.reg] == Type::Pred,
                  "bar.red takes d, a{, b}, {!}c with a predicate c");
      if (!st)
        return st;
    }
    // bar.sync is barrier.sync.aligned; bar.arrive is barrier.arrive.aligned.
    if (d.full.rfind("bar.", 0) == 0)
      ins.flags |= FAligned;
    return d.need(ins.has(FSync) || ins.has(FArrive) || ins.has(FRed),
                  ".sync, .arrive or .red");
  case Op::Nop: // nanosleep
    return d.typed();
  case Op::Setmaxnreg: {
    // A hint on the register file's split between warpgroups: the emulator
    // gives every warp its kernel's frame, so only the form is checked.
    st = d.need(t0 == Type::U32 && ins.has(FSync) && ins.has(FAligned) &&
                    ins.ops[0].kind == Operand::Imm && d.mods.size() >= 1 &&
                    (d.mods[0] == "inc" || d.mods[0] == "dec"),
                "setmaxnreg.{inc,dec}.sync.aligned.u32 imm-reg-count");
    if (!st)
      return st;
    int64_t n = ins.ops[0].imm;
    return d.need(n >= 24 && n <= 256 && n % 8 == 0,
                  "the register count " + std::to_string(n) +
                      " is not a multiple of 8 in 24 to 256");
  }
  default: // ret, exit, trap, bar.warp
    return Status::success();
  }
}

} // namespace

const Family &controlFamily() {
  static const Family f = {{{"bra", Op::Bra, 1, 1},
                            {"ret", Op::Ret, 0, 0},
                            {"exit", Op::Exit, 0, 0},
                            {"bar", Op::Bar, 1, 4},
                            {"barrier", Op::Bar, 1, 4},
                            {"trap", Op::Trap, 0, 0},
                            {"nanosleep", Op::Nop, 1, 1},
                            {"setmaxnreg", Op::Setmaxnreg, 1, 1}},
                           controlModifier,
                           checkControl};
  return f;
}

} // namespace tilus::emu::decode
