//===- MemoryOps.cpp - Memory instructions and the memory checks ----------===//
//
// Address resolution for every state space, with the sanitizer's checks on
// each access (bounds, alignment, shared-memory races, reads of cp.async
// destinations before their wait); ld, st, cvta, cp.async and its groups,
// atom and red, createpolicy.
//
// A cp.async copies its source when it executes and lands in shared memory
// at the cp.async.wait_group that covers its group; until then its
// destination bytes are poisoned, and any access to them is reported.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Decode.h"
#include "runtime/emu/Launch.h"

#include <algorithm>
#include <cstring>

namespace tilus::emu::exec {
namespace {

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

} // namespace

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
  // Shared-space addresses are 32 bits: a base register that went below 0
  // and an offset that brings it back wrap as on the GPU.
  if (sp == Space::Shared)
    off = uint32_t(addr);
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
    if (off + size > localBytes) {
      fail(ReportKind::OutOfBounds, I, w, lane, addr,
           "out-of-bounds local " + what() + " at offset " +
               std::to_string(off) + " (each thread has " +
               std::to_string(localBytes) + " bytes of local memory)");
      return nullptr;
    }
    size_t t = size_t(w.id) * 32 + size_t(lane);
    return local.data() + t * localBytes + off;
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
    if (uint8_t bits = poison[off + b])
      if (!poisonedAccess(bits, off + b, write, I, w, lane, addr))
        return false;
  if (shadow.empty()) // RaceCheck::Off
    return true;
  if (dev.opts.raceCheck == RaceCheck::Report)
    return checkRaces<true>(off, size, write, I, w, lane, addr);
  return checkRaces<false>(off, size, write, I, w, lane, addr);
}

bool Launch::poisonedAccess(uint8_t bits, uint32_t byte, bool write,
                            const Instr &I, Warp &w, int lane, uint64_t addr) {
  if (bits == kPoisonMbarrier) {
    fail(ReportKind::Other, I, w, lane, addr,
         std::string(write ? "write to" : "read of") +
             " shared memory at offset " + std::to_string(byte) +
             ", which holds an initialized mbarrier (only mbarrier "
             "instructions may access it until mbarrier.inval)");
    return false;
  }
  if (bits & kPoisonCpAsync) {
    fail(ReportKind::CpAsyncUnwaited, I, w, lane, addr,
         std::string(write ? "write to" : "read of") +
             " shared memory at offset " + std::to_string(byte) +
             " before the cp.async.wait_group that covers its pending "
             "cp.async");
    return false;
  }
  return asyncAccess(bits, byte, write, I, w, lane, addr);
}

/// The race detector on bytes [off, off + size): stops at the first hazard,
/// or (\p Report) counts every hazard and goes on. Instantiated per mode so
/// that stop pays nothing for report's bookkeeping.
///
/// Two accesses of one epoch (no barrier completed between them) race when
/// another warp made the earlier one, or another lane of the same warp in
/// another instruction with no bar.warp.sync of the warp between: lanes of a
/// warp are threads, and only a barrier orders their shared-memory accesses
/// (the warp's lanes of one instruction are one access, as replicated
/// stores of equal values are).
template <bool Report>
bool Launch::checkRaces(uint32_t off, uint32_t size, bool write, const Instr &I,
                        Warp &w, int lane, uint64_t addr) {
  uint16_t me = uint16_t(w.id);
  uint8_t myLane = uint8_t(lane);
  uint32_t step = raceStep();
  // Whether an access of this warp at step \p at came after the warp's last
  // bar.warp.sync; and, by another lane, is unordered with this one (made
  // after that, in another instruction).
  auto afterSync = [&](uint32_t at) { return int32_t(at - w.syncStep) > 0; };
  auto unordered = [&](uint32_t at) { return at != step && afterSync(at); };
  uint32_t pc = Report ? uint32_t(&I - mod.code.data()) : 0;
  uint64_t lastKey = ~0ull;
  Hazard *last = nullptr;
  for (uint32_t b = 0; b < size; ++b) {
    Shadow &s = shadow[off + b];
    bool raceW = s.wEpoch == epoch &&
                 (s.writer != me || (s.wLane != myLane && unordered(s.wStep)));
    if (write) {
      bool raceR =
          s.rEpoch == epoch &&
          (s.reader != me || (s.rLane != myLane && unordered(s.rStep)));
      if (raceW || raceR) {
        uint16_t other = raceW ? s.writer : s.reader;
        uint8_t otherLane = raceW ? s.wLane : s.rLane;
        if (!Report) {
          fail(ReportKind::SharedRace, I, w, lane, addr,
               "shared-memory race: write of offset " +
                   std::to_string(off + b) + " by warp " +
                   std::to_string(w.id) + " after a " +
                   (raceW ? "write" : "read") + " by " +
                   racePeer(w.id, other, otherLane) + raceGap(w.id, other));
          return false;
        }
        const ShadowPc &sp = shadowPc[off + b];
        noteHazard(raceW ? Hazard::Waw : Hazard::War, pc,
                   raceW ? sp.wPc : sp.rPc, w, lane, other, otherLane, off + b,
                   lastKey, last);
      }
      s.wEpoch = epoch;
      s.writer = me;
      s.wLane = myLane;
      s.wStep = step;
      if (Report)
        shadowPc[off + b].wPc = pc;
    } else {
      if (raceW) {
        if (!Report) {
          fail(ReportKind::SharedRace, I, w, lane, addr,
               "shared-memory race: read of offset " + std::to_string(off + b) +
                   " by warp " + std::to_string(w.id) + " after a write by " +
                   racePeer(w.id, s.writer, s.wLane) + raceGap(w.id, s.writer));
          return false;
        }
        noteHazard(Hazard::Raw, pc, shadowPc[off + b].wPc, w, lane, s.writer,
                   s.wLane, off + b, lastKey, last);
      }
      if (s.rEpoch != epoch) {
        s.rEpoch = epoch;
        s.reader = me;
        s.rLane = myLane;
      } else if (s.reader != me) {
        s.reader = 0xffff;
      } else if (s.rLane != myLane) {
        // Reads of this warp that a bar.warp.sync ordered before this one
        // no longer race with its lanes' writes.
        s.rLane = afterSync(s.rStep) ? kSeveralLanes : myLane;
      }
      s.rStep = step;
      if (Report)
        shadowPc[off + b].rPc = pc;
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
  if (prof && (sh || isGlobal(sp, addr)))
    prof->access(sh ? off : addr, size, lane, sh, false);
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
  if (prof && (sh || isGlobal(sp, addr)))
    prof->access(sh ? off : addr, size, lane, sh, true);
  std::memcpy(p, in, size);
  return true;
}

void Launch::landGroup(Warp &w, std::vector<CpOp> &g) {
  uint16_t me = uint16_t(w.id);
  for (CpOp &op : g) {
    if (prof)
      prof->landed(w, op.size);
    std::memcpy(shared.data() + op.dst, op.data, op.size);
    // The cp.async bit is the only one there is unless the race detector
    // has marked bulk-copy or wgmma bytes in this launch.
    if (!asyncPoison)
      std::memset(poison.data() + op.dst, 0, op.size);
    else
      for (uint32_t b = 0; b < op.size; ++b)
        poison[op.dst + b] &= uint8_t(~kPoisonCpAsync);
    // Without race detection there is no shadow to update.
    if (shadow.empty())
      continue;
    for (uint32_t b = 0; b < op.size; ++b) {
      Shadow &s = shadow[op.dst + b];
      s.wEpoch = epoch;
      s.writer = me;
      s.wLane = op.lane;
      s.wStep = raceStep();
    }
    if (!shadowPc.empty())
      for (uint32_t b = 0; b < op.size; ++b)
        shadowPc[op.dst + b].wPc = op.pc;
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
// Memory instructions
//===----------------------------------------------------------------------===//

bool Launch::execMemory(Warp &w, const Instr &I, uint32_t mask) {
  switch (I.op) {
  case Op::Ld:
  case Op::St:
    return execLdSt(w, I, mask);
  case Op::CpAsync:
    return execCpAsync(w, I, mask);
  default:
    return false;
  }
}

bool Launch::execLdSt(Warp &w, const Instr &I, uint32_t mask) {
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
        vals[k] = vecElem(w, data, k, tv[k]);
        if (!vals[k]) { // `_` stores zero
          std::fill(tv[k], tv[k] + 32, 0);
          vals[k] = tv[k];
        }
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

bool Launch::execCpAsync(Warp &w, const Instr &I, uint32_t mask) {
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
    op.pc = uint32_t(&I - mod.code.data());
    op.size = uint8_t(size);
    op.lane = uint8_t(l);
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
      if (prof)
        prof->access(sa, ss, l, false, false);
      std::memcpy(op.data, p, ss);
    }
    bool sh;
    uint32_t off;
    uint8_t *q = resolve(Space::Shared, da, size, true, I, w, l, sh, off);
    if (!q)
      return false;
    if (!checkShared(off, size, true, I, w, l, da))
      return false;
    if (prof)
      prof->access(off, size, l, true, true);
    op.dst = off;
    for (unsigned b = 0; b < size; ++b)
      poison[off + b] |= kPoisonCpAsync;
    w.uncommitted.push_back(op);
  });
  return true;
}

/// cp.async.commit_group, cp.async.wait_group and wait_all.
void Launch::execCpAsyncGroup(Warp &w, const Instr &I) {
  if (I.op == Op::CpAsyncCommit) {
    w.groups.push_back(std::move(w.uncommitted));
    w.uncommitted.clear();
    return;
  }
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
}

void Launch::execCvta(Warp &w, const Instr &I, uint32_t mask) {
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
}

bool Launch::execCreatepolicy(Warp &w, const Instr &I, uint32_t mask,
                              const AluArgs &args) {
  uint64_t *d = args.d;
  // The policy is opaque: any value.
  FOR_LANES(mask, d[l] = 0x1000000000000000ull);
  return true;
}

namespace {

/// The value an atomic leaves in memory: \p old combined with \p x (and,
/// for cas, replaced by \p cas).
uint64_t atomValue(const Instr &I, uint64_t old, uint64_t x,
                   const uint64_t &cas) {
  unsigned bits = typeBits(I.type);
  uint64_t nv = old;
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
      float sum = bf ? bf16ToF32(o) + bf16ToF32(y) : f16ToF32(o) + f16ToF32(y);
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
      nv = uo == ux ? cas : uo;
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
  return nv;
}

} // namespace

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
    bool sh = false;
    uint32_t off = 0;
    // An aligned atomic on the last bytes of a global allocation may reach
    // into its padding (GlobalMemory::straddling) if it leaves those bytes
    // as they are: the code generator's atom.cas.b16 on a tensor's last
    // byte does (docs/codegen.md, sub-byte stores).
    uint64_t past = 0;
    uint8_t *p = nullptr;
    if (Allocation *a = (ad % size == 0 && isGlobal(I.space, ad))
                            ? dev.mem.straddling(ad, size)
                            : nullptr) {
      past = ad + size - (a->base + a->size);
      p = a->data.data() + (ad - a->base);
    } else {
      p = resolve(I.space, ad, size, true, I, w, l, sh, off);
    }
    if (!p)
      return false;
    if (prof && (sh || isGlobal(I.space, ad)))
      prof->access(sh ? off : ad, size, l, sh, true);
    if (sh) {
      for (unsigned k = 0; k < size; ++k)
        if (poison[off + k] == kPoisonMbarrier) {
          fail(ReportKind::Other, I, w, l, ad,
               "atomic on shared memory at offset " + std::to_string(off + k) +
                   ", which holds an initialized mbarrier");
          return false;
        } else if (poison[off + k] & kPoisonCpAsync) {
          fail(ReportKind::CpAsyncUnwaited, I, w, l, ad,
               "atomic on shared memory before the cp.async.wait_group that "
               "covers its pending cp.async");
          return false;
        } else if (poison[off + k] &&
                   !asyncAccess(poison[off + k], off + k, true, I, w, l, ad)) {
          return false;
        }
    }
    uint64_t old = 0;
    std::memcpy(&old, p, size);
    uint64_t nv = atomValue(I, old, b[l], c[l]);
    if (past && std::memcmp(p + size - past,
                            reinterpret_cast<uint8_t *>(&nv) + size - past,
                            past)) {
      fail(ReportKind::OutOfBounds, I, w, l, ad,
           "out-of-bounds global " + std::to_string(size) +
               "-byte atomic write (it changes bytes up to " +
               std::to_string(past) + " past the end of the allocation)");
      return false;
    }
    if (std::memcmp(p, &nv, size))
      madeProgress();
    std::memcpy(p, &nv, size);
    d[l] = zext(old, bits);
  });
  return true;
}

} // namespace tilus::emu::exec

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

namespace tilus::emu::decode {
namespace {

bool memoryModifier(Decoding &d, std::string_view m) {
  Instr &ins = d.ins;
  if (isBulk(ins.op))
    return bulkModifier(d, m);
  if (ins.op == Op::CpAsync && m == "bulk") {
    ins.op = Op::CpBulk;
  } else if ((ins.op == Op::Atom || ins.op == Op::Red) &&
             reductionByName(m, ins.sub)) {
  } else if (ins.op == Op::CpAsync &&
             (m == "async" || m == "ca" || m == "cg" || m == "commit_group" ||
              m == "wait_group" || m == "wait_all" || m == "shared::cta" ||
              m == "L2::128B" || m == "L2::64B" || m == "L2::256B")) {
    if (m == "cg")
      ins.flags |= FCg;
    if (m == "commit_group")
      ins.op = Op::CpAsyncCommit;
    if (m == "wait_group")
      ins.op = Op::CpAsyncWait;
    if (m == "wait_all") {
      ins.op = Op::CpAsyncWait;
      ins.ops[0].kind = Operand::Imm;
      ins.ops[0].imm = 0;
    }
  } else if (ins.op == Op::Membar &&
             (m == "gl" || m == "cta" || m == "sys" || m == "sc" ||
              m == "acq_rel" || m == "gpu" || m == "proxy" || m == "async" ||
              m == "cluster")) {
  } else if (ins.op == Op::Nop && m == "tensormap") {
    // prefetch.tensormap: a hint, as prefetch is.
  } else if (ins.op == Op::Cvta && m == "to") {
    ins.op = Op::CvtaTo;
  } else {
    return false;
  }
  return true;
}

Status checkMemory(Decoding &d) {
  Instr &ins = d.ins;
  Type t0 = d.type(0);
  Status st;
  if (isBulk(ins.op))
    return checkBulk(d);
  switch (ins.op) {
  case Op::Atom:
  case Op::Red: {
    st = d.need(ins.sub != Sub::None && t0 != Type::None,
                "expected an operation and a type");
    if (!st)
      return st;
    st = d.need(ins.space == Space::Generic || ins.space == Space::Global ||
                    ins.space == Space::Shared,
                "atomics on global or shared memory only");
    if (!st)
      return st;
    bool isF = t0 == Type::F32 || t0 == Type::F64;
    st = d.need(!isF || ins.sub == Sub::AAdd || ins.sub == Sub::AExch ||
                    ins.sub == Sub::AMin || ins.sub == Sub::AMax,
                "float atomics support add/min/max/exch");
    if (!st)
      return st;
    bool isHalf = t0 == Type::F16 || t0 == Type::F16x2 || t0 == Type::BF16 ||
                  t0 == Type::BF16x2;
    if (isHalf)
      return d.need(ins.sub == Sub::AAdd &&
                        ins.nops == (ins.op == Op::Atom ? 3 : 2),
                    "f16/bf16 atomics support add");
    // atom.cas.b16 (sm_70) updates 16-bit words; every other integer atomic
    // is 32 or 64 bits wide.
    st = d.need(typeBits(t0) == 32 || typeBits(t0) == 64 ||
                    (typeBits(t0) == 16 && ins.op == Op::Atom &&
                     ins.sub == Sub::ACas),
                "32/64-bit types (16-bit for atom.cas)");
    if (!st)
      return st;
    if (ins.op == Op::Atom)
      return d.need(ins.nops == (ins.sub == Sub::ACas ? 4 : 3),
                    "operand count");
    return Status::success();
  }
  case Op::CpAsync:
    // The fourth operand is a src-size, or an ignore-src predicate.
    if (ins.nops == 4 && ins.ops[3].kind == Operand::Reg &&
        ins.ops[3].reg < d.regTypes.size() &&
        d.regTypes[ins.ops[3].reg] == Type::Pred)
      ins.flags |= FIgnoreSrc;
    if (ins.op == Op::CpAsync)
      return d.need(ins.nops >= 3 && ins.ops[0].kind == Operand::Addr &&
                        ins.ops[1].kind == Operand::Addr &&
                        ins.ops[2].kind == Operand::Imm,
                    "cp.async.{ca,cg}.shared.global [dst], [src], size[, "
                    "src-size]");
    return Status::success();
  case Op::CpAsyncWait:
  case Op::CpAsyncCommit:
    return Status::success();
  case Op::Ld:
  case Op::St: {
    int addrIdx = ins.op == Op::Ld ? 1 : 0;
    st = d.need(t0 != Type::None && ins.ops[addrIdx].kind == Operand::Addr,
                "expected a type and an [address]");
    if (!st)
      return st;
    st = d.need(t0 != Type::B128 && t0 != Type::Pred, "type");
    if (!st)
      return st;
    d.fixDoubleLiterals(t0);
    int dataIdx = 1 - addrIdx;
    if (ins.vec > 1)
      return d.need(ins.ops[dataIdx].kind == Operand::Vec &&
                        ins.ops[dataIdx].count == ins.vec,
                    "vector operand size");
    return Status::success();
  }
  case Op::Createpolicy:
    // The policy is opaque; only its register is written.
    ins.nops = 1;
    return d.need(t0 == Type::B64, "createpolicy with a .b64 destination");
  case Op::Cvta:
  case Op::CvtaTo:
  case Op::Membar:
    return Status::success();
  default: // prefetch
    if (std::find(d.mods.begin(), d.mods.end(), "tensormap") != d.mods.end())
      return Status::success();
    return d.typed();
  }
}

} // namespace

const Family &memoryFamily() {
  static const Family f = {{{"ld", Op::Ld, 2, 2},
                            {"ldu", Op::Ld, 2, 2},
                            {"st", Op::St, 2, 2},
                            {"cvta", Op::Cvta, 2, 2},
                            {"cp", Op::CpAsync, 0, 4},
                            {"atom", Op::Atom, 3, 4},
                            {"red", Op::Red, 2, 2},
                            {"createpolicy", Op::Createpolicy, 2, 4},
                            {"membar", Op::Membar, 0, 0},
                            {"fence", Op::Membar, 0, 0},
                            {"prefetch", Op::Nop, 1, 1},
                            {"prefetchu", Op::Nop, 1, 1}},
                           memoryModifier,
                           checkMemory};
  return f;
}

} // namespace tilus::emu::decode
