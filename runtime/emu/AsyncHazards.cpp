//===- AsyncHazards.cpp - The race detector on the asynchronous units -----===//
//
// The emulator runs a bulk copy and a wgmma.mma_async when they are issued
// (AsyncOps.cpp, WgmmaOps.cpp), which the ISA allows; what it may not do is
// let a kernel depend on that. Under race detection (RaceCheck::Stop and
// Report; nothing here runs under Off) this file keeps the state the
// hardware would still have in flight and reports every access that the
// ISA does not order after the asynchronous operation:
//
// Bulk copies into shared memory (cp.async.bulk, cp.async.bulk.tensor). The
// bytes a copy wrote are pending (kPoisonBulk, and bulkOwner names its
// PendingBulk) on its mbarrier's current phase. Any access to them is a
// hazard (read or write, by any thread, the issuing one included, and
// wgmma's descriptor reads), except by a thread that observed the phase
// complete: a successful mbarrier.test_wait or try_wait on that mbarrier
// after the phase completed. Once one thread has observed it, the next
// synchronization of the CTA (a barrier, or the completion of any mbarrier
// phase: the race detector's epoch) orders every thread after the copy, and
// the bytes are no longer pending.
//
// wgmma.mma_async. A wgmma is pending, in the group its warp's next
// wgmma.commit_group closes, until a wgmma.wait_group N of that warp
// leaves at most N newer groups. While it is pending:
//   - its accumulator registers (d) may be neither read nor written by
//     another instruction of the warp, except a wgmma.mma_async that uses
//     them as its own accumulator (chaining, as the ISA allows);
//   - its A registers may not be written (read is fine);
//   - the shared bytes it reads through its descriptors (16-byte chunks,
//     counted in wgmmaReaders, kPoisonWgmma) may not be written by any
//     thread of the CTA;
//   - the warp may not exit.
// Registers are per warp, so the check of (a) and (c) runs for the warp's
// instructions only while it has wgmma pending (Warp::wgmmaPending).
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Launch.h"

#include <algorithm>

namespace tilus::emu::exec {
namespace {

const char *bulkName(const Instr &I) {
  return I.op == Op::CpBulkTensor ? "cp.async.bulk.tensor" : "cp.async.bulk";
}

/// Register \p k of the vector operand \p o, or kNoReg for `_` and
/// immediates.
uint32_t vecRegister(const detail::ModuleImpl &mod, const Operand &o,
                     unsigned k) {
  if (o.count > 4)
    return mod.wideVecs[size_t(o.imm)][k];
  return (o.immMask >> k & 1) ? kNoReg : o.regs[k];
}

/// Whether the instruction writes its first operand (when that is a
/// register): the instructions whose first operand is read are these.
bool writesFirstOperand(Op op) {
  switch (op) {
  case Op::St:
  case Op::Red:
  case Op::Bar:
  case Op::BarWarp:
  case Op::Nop:
  case Op::Membar:
  case Op::Setmaxnreg:
  case Op::CpAsync:
  case Op::Stmatrix:
  case Op::WmmaStore:
  case Op::Bra:
  case Op::Call:
  case Op::Exit:
  case Op::Ret:
  case Op::Trap:
    return false;
  default:
    return true;
  }
}

/// "in group G of warp W, which wgmma.wait_group N covers", or that no
/// commit_group has closed a group around the wgmma yet.
std::string groupText(const Warp &w, const PendingWgmma &p) {
  if (p.group == ~0u)
    return "not yet committed by a wgmma.commit_group";
  return "in group " + std::to_string(p.group) + " of warp " +
         std::to_string(w.id) + ", which wgmma.wait_group " +
         std::to_string(w.wgmmaCommits - 1 - p.group) + " covers";
}

/// The pending wgmma of \p w with sequence number \p seq, or null.
const PendingWgmma *findWgmma(const Warp &w, uint32_t seq) {
  for (const auto &g : w.wgmmaGroups)
    for (const PendingWgmma &p : g)
      if (p.seq == seq)
        return &p;
  for (const PendingWgmma &p : w.wgmmaOpen)
    if (p.seq == seq)
      return &p;
  return nullptr;
}

} // namespace

//===----------------------------------------------------------------------===//
// Reports
//===----------------------------------------------------------------------===//

bool Launch::asyncHazard(Hazard::Kind kind, const Instr &I, Warp &w, int lane,
                         uint64_t addr, uint32_t otherPc, uint16_t otherWarp,
                         uint32_t byte,
                         const std::function<std::string()> &what) {
  static const char *labels[] = {
      "", "", "", "TMA", "WGMMA-D", "WGMMA-SMEM", "WGMMA-A", "WGMMA-EXIT"};
  if (dev.opts.raceCheck != RaceCheck::Report) {
    fail(ReportKind::AsyncHazard, I, w, lane, addr,
         std::string(kind == Hazard::Bulk ? "bulk-copy hazard: "
                                          : "wgmma hazard: ") +
             what());
    return false;
  }
  uint32_t pc = uint32_t(&I - mod.code.data());
  uint64_t key = hazardKey(kind, pc, otherPc);
  bool added;
  Hazard &h = hazardAt(kind, pc, otherPc, w, lane, otherWarp, added);
  if (added) {
    h.hasBytes = byte != ~0u;
    h.lo = h.hi = h.hasBytes ? byte : 0;
    h.text = std::string(labels[kind]) + ": at " + where(pc) + " by warp " +
             std::to_string(w.id) + ", " + what();
  }
  // One access (a thread's, or a warp's for registers) counts once.
  uint64_t step = dev.stats.warpInstructions;
  if (added || step != lastAsyncStep || lane != lastAsyncLane ||
      key != lastAsyncKey)
    ++h.count;
  lastAsyncStep = step;
  lastAsyncLane = lane;
  lastAsyncKey = key;
  if (h.hasBytes) {
    h.lo = std::min(h.lo, byte);
    h.hi = std::max(h.hi, byte);
  }
  return true;
}

bool Launch::asyncAccess(uint8_t bits, uint32_t byte, bool write,
                         const Instr &I, Warp &w, int lane, uint64_t addr) {
  if ((bits & kPoisonBulk) && bulkOwner[byte]) {
    uint32_t rec = bulkOwner[byte] - 1u;
    const PendingBulk &r = bulks[rec];
    if (r.completed && r.obsEpoch && epoch > r.obsEpoch) {
      retireBulk(rec);
    } else if (!(r.completed && (r.observed[w.id] >> lane & 1))) {
      const Instr &copy = mod.code[r.pc];
      if (!asyncHazard(Hazard::Bulk, I, w, lane, addr, r.pc, r.warp, byte, [&] {
            return std::string(write ? "write" : "read") + " of shared byte " +
                   std::to_string(byte) + " that the " + bulkName(copy) +
                   " at " + where(r.pc) + " by warp " + std::to_string(r.warp) +
                   " wrote, before this thread observed the mbarrier "
                   "phase that completes the copy (mbarrier at shared "
                   "offset " +
                   std::to_string(r.mbar) + ", phase of parity " +
                   std::to_string(r.parity) +
                   (r.completed
                        ? ", complete but not waited on by this thread: a "
                          "successful mbarrier.try_wait or test_wait "
                          "orders it after the copy)"
                        : ", not complete)");
          }))
        return false;
    }
  }
  if (!(bits & kPoisonWgmma) || !write)
    return true;
  // Which pending wgmma reads the chunk: the oldest of the first warp.
  uint32_t chunk = byte / 16;
  auto reads = [&](const PendingWgmma &p) {
    return std::binary_search(p.chunks.begin(), p.chunks.end(), chunk);
  };
  for (Warp &o : warps) {
    if (!o.wgmmaPending)
      continue;
    const PendingWgmma *p = nullptr;
    for (const auto &g : o.wgmmaGroups)
      for (const PendingWgmma &q : g)
        if (!p && reads(q))
          p = &q;
    for (const PendingWgmma &q : o.wgmmaOpen)
      if (!p && reads(q))
        p = &q;
    if (!p)
      continue;
    return asyncHazard(
        Hazard::WgmmaSmem, I, w, lane, addr, p->pc, uint16_t(o.id), byte, [&] {
          return "write of shared byte " + std::to_string(byte) +
                 " that the pending wgmma.mma_async at " + where(p->pc) +
                 " of warp " + std::to_string(o.id) + " reads (" +
                 groupText(o, *p) + "), before a wgmma.wait_group of warp " +
                 std::to_string(o.id) + " covers it";
        });
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Bulk copies
//===----------------------------------------------------------------------===//

void Launch::resetAsyncShadow() {
  std::fill(bulkOwner.begin(), bulkOwner.end(), 0);
  std::fill(wgmmaReaders.begin(), wgmmaReaders.end(), 0);
  bulks.clear();
}

uint32_t Launch::bulkBegin(const Instr &I, Warp &w, uint64_t mbarAddr) {
  if (bulkOwner.empty())
    bulkOwner.assign(shared.size(), 0);
  uint32_t rec = ~0u;
  for (uint32_t k = 0; k < bulks.size(); ++k) {
    PendingBulk &r = bulks[k];
    if (r.live && r.completed && r.obsEpoch && epoch > r.obsEpoch)
      retireBulk(k);
    if (!r.live && rec == ~0u)
      rec = k;
  }
  if (rec == ~0u) {
    // bulkOwner holds 1 + the index in 16 bits; beyond that many copies
    // in flight, a copy is not tracked.
    if (bulks.size() >= 0xffff)
      return ~0u;
    rec = uint32_t(bulks.size());
    bulks.emplace_back();
  }
  PendingBulk &r = bulks[rec];
  uint64_t off = I.space == Space::Generic ? mbarAddr - kSharedWindow
                                           : uint64_t(uint32_t(mbarAddr));
  r.mbar = uint32_t(off);
  r.pc = uint32_t(&I - mod.code.data());
  r.lo = ~0u;
  r.hi = 0;
  r.obsEpoch = 0;
  r.warp = uint16_t(w.id);
  r.parity = 0;
  if (off + 8 <= shared.size())
    r.parity = shared[off + 7] >> 7;
  r.completed = false;
  r.live = true;
  r.observed.assign(warps.size(), 0);
  return rec;
}

void Launch::bulkWrote(uint32_t rec, uint32_t off, uint32_t size) {
  PendingBulk &r = bulks[rec];
  asyncPoison = true;
  for (uint32_t b = off; b < off + size; ++b) {
    bulkOwner[b] = uint16_t(rec + 1);
    poison[b] |= kPoisonBulk;
  }
  r.lo = std::min(r.lo, off);
  r.hi = std::max(r.hi, off + size - 1);
}

void Launch::bulkPhaseCompleted(uint32_t mbar) {
  for (PendingBulk &r : bulks)
    if (r.live && r.mbar == mbar)
      r.completed = true;
}

void Launch::bulkObserved(uint32_t mbar, const Warp &w, int lane) {
  for (PendingBulk &r : bulks)
    if (r.live && r.completed && r.mbar == mbar) {
      r.observed[w.id] |= 1u << lane;
      if (!r.obsEpoch)
        r.obsEpoch = epoch;
    }
}

void Launch::retireBulk(uint32_t rec) {
  PendingBulk &r = bulks[rec];
  for (uint32_t b = r.lo; b <= r.hi && r.lo <= r.hi; ++b)
    if (bulkOwner[b] == rec + 1) {
      bulkOwner[b] = 0;
      poison[b] &= uint8_t(~kPoisonBulk);
    }
  r.live = false;
}

//===----------------------------------------------------------------------===//
// wgmma
//===----------------------------------------------------------------------===//

void Launch::wgmmaChunks(uint64_t desc, unsigned rows, unsigned rowBase,
                         bool mnMajor, std::vector<uint32_t> &out) {
  // K-major: K bytes 0-15 and 16-31 of a row are one 16-byte chunk each, in
  // every layout (the swizzle moves whole chunks). MN-major: the 16 bytes
  // of 8 rows (from a multiple of 8) at one K are one chunk.
  if (mnMajor) {
    for (unsigned r = 0; r < rows; r += 8)
      for (unsigned k = 0; k < 16; ++k)
        out.push_back(wgmmaByteMN(desc, 2 * (rowBase + r), k) / 16);
    return;
  }
  for (unsigned r = 0; r < rows; ++r)
    for (unsigned b : {0u, 16u})
      out.push_back(wgmmaByte(desc, rowBase + r, b) / 16);
}

bool Launch::wgmmaIssued(Warp &w, const Instr &I) {
  PendingWgmma p;
  p.seq = ++wgmmaSeq;
  p.pc = uint32_t(&I - mod.code.data());
  const Operand &od = I.ops[0], &oa = I.ops[1], &ob = I.ops[2];
  int lane0 = __builtin_ctz(w.valid);
  for (unsigned j = 0; j < od.count; ++j)
    p.dRegs.push_back(vecRegister(mod, od, j));
  if (oa.kind == Operand::Vec) {
    for (unsigned k = 0; k < oa.count; ++k)
      p.aRegs.push_back(vecRegister(mod, oa, k));
  } else {
    wgmmaChunks(w.regs[size_t(oa.reg) * 32 + lane0], 16, 16 * (w.id % 4),
                wgmmaTransposed(I, false), p.chunks);
  }
  wgmmaChunks(w.regs[size_t(ob.reg) * 32 + lane0], unsigned(I.vec) * 8, 0,
              wgmmaTransposed(I, true), p.chunks);
  std::sort(p.chunks.begin(), p.chunks.end());
  p.chunks.erase(std::unique(p.chunks.begin(), p.chunks.end()), p.chunks.end());
  if (w.regOwner.empty())
    w.regOwner.resize(fn.regFrame);
  int lane = lane0;
  // Its accumulator over a pending wgmma's A registers (c), its A
  // registers from a pending accumulator (a); chaining a pending
  // accumulator into this one is allowed.
  auto check = [&](uint32_t reg, bool asD, unsigned idx) {
    if (reg == kNoReg || reg >= w.regOwner.size())
      return true;
    const RegOwner o = w.regOwner[reg];
    if (!o.seq || o.isA == !asD)
      return true;
    const PendingWgmma *q = findWgmma(w, o.seq);
    if (!q)
      return true;
    return asyncHazard(
        asD ? Hazard::WgmmaA : Hazard::WgmmaD, I, w, lane, ~0ull, q->pc,
        uint16_t(w.id), ~0u, [&] {
          return std::string(asD ? "its accumulator d[" : "its A operand a[") +
                 std::to_string(idx) + "] is register " + (asD ? "a[" : "d[") +
                 std::to_string(o.index) +
                 "] of the pending wgmma.mma_async at " + where(q->pc) + " (" +
                 groupText(w, *q) + "), " + (asD ? "written" : "read") +
                 " before a wgmma.wait_group covers it";
        });
  };
  for (unsigned j = 0; j < p.dRegs.size(); ++j)
    if (!check(p.dRegs[j], true, j))
      return false;
  for (unsigned k = 0; k < p.aRegs.size(); ++k)
    if (!check(p.aRegs[k], false, k))
      return false;
  for (unsigned k = 0; k < p.aRegs.size(); ++k)
    if (p.aRegs[k] != kNoReg && p.aRegs[k] < w.regOwner.size())
      w.regOwner[p.aRegs[k]] = {p.seq, uint16_t(k), true};
  for (unsigned j = 0; j < p.dRegs.size(); ++j)
    if (p.dRegs[j] != kNoReg && p.dRegs[j] < w.regOwner.size())
      w.regOwner[p.dRegs[j]] = {p.seq, uint16_t(j), false};
  if (wgmmaReaders.empty())
    wgmmaReaders.assign(shared.size() / 16 + 1, 0);
  asyncPoison = true;
  for (uint32_t c : p.chunks)
    if (c < wgmmaReaders.size() && wgmmaReaders[c]++ == 0)
      for (uint32_t b = 16 * c; b < 16 * c + 16 && b < shared.size(); ++b)
        poison[b] |= kPoisonWgmma;
  w.wgmmaOpen.push_back(std::move(p));
  w.wgmmaPending = true;
  return true;
}

void Launch::wgmmaCommit(Warp &w) {
  for (PendingWgmma &p : w.wgmmaOpen)
    p.group = w.wgmmaCommits;
  ++w.wgmmaCommits;
  w.wgmmaGroups.push_back(std::move(w.wgmmaOpen));
  w.wgmmaOpen.clear();
}

void Launch::wgmmaWait(Warp &w, uint32_t n) {
  auto retire = [&](PendingWgmma &p) {
    for (uint32_t r : p.dRegs)
      if (r < w.regOwner.size() && w.regOwner[r].seq == p.seq)
        w.regOwner[r] = RegOwner();
    for (uint32_t r : p.aRegs)
      if (r < w.regOwner.size() && w.regOwner[r].seq == p.seq)
        w.regOwner[r] = RegOwner();
    for (uint32_t c : p.chunks)
      if (c < wgmmaReaders.size() && --wgmmaReaders[c] == 0)
        for (uint32_t b = 16 * c; b < 16 * c + 16 && b < shared.size(); ++b)
          poison[b] &= uint8_t(~kPoisonWgmma);
  };
  uint32_t keep = n == ~0u ? 0 : n;
  while (w.wgmmaGroups.size() > keep) {
    for (PendingWgmma &p : w.wgmmaGroups.front())
      retire(p);
    w.wgmmaGroups.pop_front();
  }
  // ~0u (wgmmaAtExit): every group and the uncommitted wgmma too.
  if (n == ~0u) {
    for (PendingWgmma &p : w.wgmmaOpen)
      retire(p);
    w.wgmmaOpen.clear();
  }
  bool pending = !w.wgmmaOpen.empty();
  for (const auto &g : w.wgmmaGroups)
    pending = pending || !g.empty();
  w.wgmmaPending = pending;
}

bool Launch::checkWgmmaRegs(Warp &w, const Instr &I, uint32_t mask) {
  int lane = __builtin_ctz(mask);
  bool writes = writesFirstOperand(I.op);
  auto check = [&](uint32_t reg, bool write) {
    if (reg == kNoReg || reg >= w.regOwner.size())
      return true;
    const RegOwner o = w.regOwner[reg];
    if (!o.seq || (o.isA && !write))
      return true;
    const PendingWgmma *p = findWgmma(w, o.seq);
    if (!p)
      return true;
    return asyncHazard(o.isA ? Hazard::WgmmaA : Hazard::WgmmaD, I, w, lane,
                       ~0ull, p->pc, uint16_t(w.id), ~0u, [&] {
                         return std::string(write ? "write" : "read") +
                                " of register " + (o.isA ? "a[" : "d[") +
                                std::to_string(o.index) +
                                "] of the pending wgmma.mma_async at " +
                                where(p->pc) + " (" + groupText(w, *p) +
                                ") before a wgmma.wait_group covers it";
                       });
  };
  for (unsigned k = 0; k < I.nops; ++k) {
    const Operand &o = I.ops[k];
    bool write = k == 0 && writes;
    switch (o.kind) {
    case Operand::Reg:
      if (!check(o.reg, write))
        return false;
      break;
    case Operand::Addr:
      if (!check(o.reg, false))
        return false;
      break;
    case Operand::Vec:
      for (unsigned j = 0; j < o.count; ++j)
        if (!check(vecRegister(mod, o, j), write))
          return false;
      break;
    default:
      break;
    }
  }
  return true;
}

bool Launch::wgmmaAtExit(Warp &w, const Instr &I) {
  const PendingWgmma *p = nullptr;
  size_t n = w.wgmmaOpen.size();
  for (const auto &g : w.wgmmaGroups) {
    n += g.size();
    if (!p && !g.empty())
      p = &g.front();
  }
  if (!p && !w.wgmmaOpen.empty())
    p = &w.wgmmaOpen.front();
  int lane = __builtin_ctz(w.valid);
  bool ok = !p || asyncHazard(Hazard::WgmmaExit, I, w, lane, ~0ull, p->pc,
                              uint16_t(w.id), ~0u, [&] {
                                return "exit of warp " + std::to_string(w.id) +
                                       " with " + std::to_string(n) +
                                       " wgmma.mma_async pending, the oldest "
                                       "at " +
                                       where(p->pc) + " (" + groupText(w, *p) +
                                       "): wgmma.wait_group 0 first";
                              });
  wgmmaWait(w, ~0u);
  return ok;
}

} // namespace tilus::emu::exec
