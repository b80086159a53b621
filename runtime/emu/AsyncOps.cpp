//===- AsyncOps.cpp - mbarrier and the bulk asynchronous copies -----------===//
//
// sm_90's asynchronous machinery: mbarrier objects in shared memory, and the
// bulk copies (cp.async.bulk, the TMA unit's copies) that complete
// transactions on them.
//
// An mbarrier is the 8 bytes it lives in. The emulator keeps its state
// there (the ISA calls the object opaque):
//
//   bits  0-19  pending arrivals of the current phase
//   bits 20-39  expected arrivals of each phase (mbarrier.init's count)
//   bits 40-60  tx-count, 21-bit two's complement (-(2^20-1) to 2^20-1)
//   bit  63     the current phase's parity
//
// and marks the bytes in the poison map (Launch.h, kPoisonMbarrier) from
// mbarrier.init to mbarrier.inval: any other access to them is reported, as
// is an mbarrier operation on bytes that hold no initialized mbarrier (both
// undefined in the ISA). A phase completes when its pending arrivals and its
// tx-count are both zero: the parity flips, the pending count is reset to
// the expected count and the tx-count to zero. Completion synchronizes the
// CTA for the race detector, as a barrier does.
//
// The state an arrive returns is the parity of the phase it arrived on (bit
// 63) and the pending count that the arrive left (bits 0-19):
// test_wait/try_wait with a state succeed once the current parity differs;
// with .parity P, once the phase of parity P is complete (the current
// parity is not P). try_wait does not block: a warp whose lanes see an
// incomplete phase yields, so the warps that arrive or copy run; when other
// lanes of the warp are on other paths, the waiting lanes park at the
// try_wait (Park::Spin) and those paths run first, as independent thread
// scheduling lets them (a producer lane and consumer lanes of one warp).
//
// A bulk copy is done when it executes, and complete_tx of its size follows
// on its mbarrier (a legal order: the ISA only orders the copy before the
// complete_tx). cp.async.bulk.commit_group and wait_group therefore have
// nothing to wait for. Under race detection the bytes a copy into shared
// memory wrote stay pending until its phase completes and a thread observes
// that (AsyncHazards.cpp): any other access to them is a hazard.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Decode.h"
#include "runtime/emu/Launch.h"
#include "runtime/emu/TensorMap.h"

#include <algorithm>
#include <cstring>

namespace tilus::emu::exec {
namespace {

constexpr uint32_t kMaxCount = (1u << 20) - 1;

struct MbarState {
  uint32_t pending, expected;
  int32_t tx;
  uint32_t parity;
};

MbarState unpack(uint64_t v) {
  MbarState s;
  s.pending = uint32_t(v & kMaxCount);
  s.expected = uint32_t(v >> 20 & kMaxCount);
  s.tx = int32_t(uint32_t(v >> 40 & 0x1fffff) << 11) >> 11;
  s.parity = uint32_t(v >> 63);
  return s;
}

uint64_t pack(const MbarState &s) {
  return uint64_t(s.pending) | uint64_t(s.expected) << 20 |
         uint64_t(uint32_t(s.tx) & 0x1fffff) << 40 | uint64_t(s.parity) << 63;
}

const char *mbarName(Sub s) {
  switch (s) {
  case Sub::MbInit:
    return "mbarrier.init";
  case Sub::MbArrive:
    return "mbarrier.arrive";
  case Sub::MbExpectTx:
    return "mbarrier.expect_tx";
  case Sub::MbCompleteTx:
    return "mbarrier.complete_tx";
  case Sub::MbTestWait:
    return "mbarrier.test_wait";
  case Sub::MbTryWait:
    return "mbarrier.try_wait";
  case Sub::MbInval:
    return "mbarrier.inval";
  default:
    return "mbarrier";
  }
}

} // namespace

uint8_t *Launch::mbarrierAt(const Instr &I, Warp &w, int lane, uint64_t addr,
                            const char *what, bool init) {
  uint64_t off = addr;
  if (I.space == Space::Generic) {
    if (addr < kSharedWindow || addr >= kSharedWindow + kWindowSize) {
      fail(ReportKind::Other, I, w, lane, addr,
           std::string(what) + " on an address outside shared memory");
      return nullptr;
    }
    off = addr - kSharedWindow;
  } else {
    off = uint32_t(addr);
  }
  if (off % 8) {
    fail(ReportKind::Misaligned, I, w, lane, addr,
         std::string(what) +
             " on a misaligned mbarrier (address not a multiple of 8)");
    return nullptr;
  }
  if (off + 8 > shared.size()) {
    fail(ReportKind::OutOfBounds, I, w, lane, addr,
         std::string(what) + " on an out-of-bounds mbarrier at offset " +
             std::to_string(off) + " (the CTA has " +
             std::to_string(shared.size()) + " bytes of shared memory)");
    return nullptr;
  }
  bool live = poison[off] == kPoisonMbarrier;
  if (init && live) {
    fail(ReportKind::Other, I, w, lane, addr,
         std::string(what) + " on an initialized mbarrier at offset " +
             std::to_string(off) + " (mbarrier.inval it first)");
    return nullptr;
  }
  if (!init && !live) {
    fail(ReportKind::Other, I, w, lane, addr,
         std::string(what) + " on shared memory at offset " +
             std::to_string(off) +
             ", which holds no initialized mbarrier (mbarrier.init)");
    return nullptr;
  }
  return shared.data() + off;
}

bool Launch::mbarrierUpdate(const Instr &I, Warp &w, int lane, uint64_t addr,
                            uint8_t *p, uint32_t arrivals, int64_t txAdd) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  MbarState s = unpack(v);
  int64_t tx = int64_t(s.tx) + txAdd;
  if (tx > int64_t(kMaxCount) || tx < -int64_t(kMaxCount)) {
    fail(ReportKind::Other, I, w, lane, addr,
         std::string(mbarName(I.sub)) + " takes the mbarrier's tx-count to " +
             std::to_string(tx) + " (the range is -(2^20-1) to 2^20-1)");
    return false;
  }
  if (arrivals > s.pending) {
    fail(ReportKind::Other, I, w, lane, addr,
         "mbarrier.arrive of " + std::to_string(arrivals) +
             " arrivals on an mbarrier with " + std::to_string(s.pending) +
             " pending in its current phase");
    return false;
  }
  s.tx = int32_t(tx);
  s.pending -= arrivals;
  if (s.pending == 0 && s.tx == 0) {
    if (I.has(FNoComplete)) {
      fail(ReportKind::Other, I, w, lane, addr,
           "mbarrier.arrive.noComplete completes the current phase");
      return false;
    }
    s.parity ^= 1;
    s.pending = s.expected;
    ++epoch;
    if (!bulks.empty())
      bulkPhaseCompleted(uint32_t(p - shared.data()));
  }
  v = pack(s);
  std::memcpy(p, &v, 8);
  madeProgress();
  return true;
}

bool Launch::execMbarrier(Warp &w, const Instr &I, uint32_t mask,
                          uint32_t &waiting) {
  const char *what = mbarName(I.sub);
  uint64_t ta[32], tb[32];
  uint64_t *d = dst(w, I.ops[0]);
  if (I.sub == Sub::MbPendingCount) {
    const uint64_t *st = src(w, I.ops[1], ta);
    FOR_LANES(mask, d[l] = st[l] & kMaxCount);
    return true;
  }
  // init, expect_tx, complete_tx and inval name the mbarrier first.
  bool addrFirst = I.ops[0].kind == Operand::Addr;
  const Operand &at = I.ops[addrFirst ? 0 : 1];
  int valueIdx = addrFirst ? 1 : 2;
  const uint64_t *x = I.nops > valueIdx ? src(w, I.ops[valueIdx], ta) : nullptr;
  const uint64_t *y =
      I.nops > valueIdx + 1 ? src(w, I.ops[valueIdx + 1], tb) : nullptr;
  FOR_LANES(mask, {
    uint64_t addr = addrOf(w, at, l);
    uint8_t *p = mbarrierAt(I, w, l, addr, what, I.sub == Sub::MbInit);
    if (!p)
      return false;
    uint32_t off = uint32_t(p - shared.data());
    switch (I.sub) {
    case Sub::MbInit: {
      uint32_t count = uint32_t(x[l]);
      if (count < 1 || count > kMaxCount) {
        fail(ReportKind::Other, I, w, l, addr,
             "mbarrier.init with a count of " + std::to_string(count) +
                 " (the range is 1 to 2^20-1)");
        return false;
      }
      if (!checkShared(off, 8, true, I, w, l, addr))
        return false;
      uint64_t v = pack({count, count, 0, 0});
      std::memcpy(p, &v, 8);
      std::memset(poison.data() + off, kPoisonMbarrier, 8);
      madeProgress();
      break;
    }
    case Sub::MbInval:
      std::memset(poison.data() + off, 0, 8);
      madeProgress();
      break;
    case Sub::MbArrive: {
      // arrive.expect_tx: the expect-tx operation, then the arrive-on.
      uint32_t count = I.has(FExpectTx) ? (y ? uint32_t(y[l]) : 1)
                                        : (x ? uint32_t(x[l]) : 1);
      uint32_t tx = I.has(FExpectTx) ? uint32_t(x[l]) : 0;
      if (count < 1 || count > kMaxCount || tx > kMaxCount) {
        fail(ReportKind::Other, I, w, l, addr,
             std::string(what) + " with " +
                 (tx > kMaxCount ? "a tx count of " + std::to_string(tx)
                                 : "a count of " + std::to_string(count)) +
                 " (the range is " + (tx > kMaxCount ? "0" : "1") +
                 " to 2^20-1)");
        return false;
      }
      uint64_t v;
      std::memcpy(&v, p, 8);
      MbarState before = unpack(v);
      if (!mbarrierUpdate(I, w, l, addr, p, count, int64_t(tx)))
        return false;
      d[l] = uint64_t(before.parity) << 63 | (before.pending - count);
      break;
    }
    case Sub::MbExpectTx:
    case Sub::MbCompleteTx: {
      uint32_t tx = uint32_t(x[l]);
      if (tx > kMaxCount) {
        fail(ReportKind::Other, I, w, l, addr,
             std::string(what) + " with a tx count of " + std::to_string(tx) +
                 " (the range is 0 to 2^20-1)");
        return false;
      }
      if (!mbarrierUpdate(I, w, l, addr, p, 0,
                          I.sub == Sub::MbExpectTx ? int64_t(tx)
                                                   : -int64_t(tx)))
        return false;
      break;
    }
    default: { // test_wait, try_wait
      uint64_t v;
      std::memcpy(&v, p, 8);
      uint32_t parity = unpack(v).parity;
      uint32_t waitOn =
          I.has(FParity) ? uint32_t(x[l] & 1) : uint32_t(x[l] >> 63);
      bool done = parity != waitOn;
      d[l] = done;
      if (!done)
        waiting |= 1u << l;
      else if (!bulks.empty())
        bulkObserved(off, w, l);
      break;
    }
    }
  });
  return true;
}

bool Launch::completeTx(const Instr &I, Warp &w, int lane, uint64_t mbar,
                        uint32_t bytes) {
  uint8_t *p = mbarrierAt(I, w, lane, mbar, "complete_tx", false);
  return p && mbarrierUpdate(I, w, lane, mbar, p, 0, -int64_t(bytes));
}

bool Launch::bulkChecks(const Instr &I, Warp &w, int lane, uint64_t dstAddr,
                        uint64_t srcAddr, uint64_t size) {
  const char *what = "cp.async.bulk";
  if (size % 16) {
    fail(ReportKind::Other, I, w, lane, ~0ull,
         std::string(what) + " of " + std::to_string(size) +
             " bytes (the size must be a multiple of 16)");
    return false;
  }
  for (uint64_t a : {dstAddr, srcAddr})
    if (a % 16) {
      fail(ReportKind::Misaligned, I, w, lane, a,
           std::string(what) +
               " with a misaligned address (not a multiple of 16)");
      return false;
    }
  return true;
}

bool Launch::execCpBulk(Warp &w, const Instr &I, uint32_t mask) {
  bool toShared = I.sub == Sub::BulkToShared;
  Space dstSpace = toShared ? Space::Shared : Space::Global;
  Space srcSpace = toShared ? Space::Global : Space::Shared;
  uint64_t ts[32];
  const uint64_t *size = src(w, I.ops[2], ts);
  FOR_LANES(mask, {
    uint64_t da = addrOf(w, I.ops[0], l), sa = addrOf(w, I.ops[1], l);
    uint32_t n = uint32_t(size[l]);
    if (!bulkChecks(I, w, l, da, sa, n))
      return false;
    uint32_t rec = toShared && !shadow.empty()
                       ? bulkBegin(I, w, addrOf(w, I.ops[3], l))
                       : ~0u;
    uint8_t chunk[16];
    for (uint32_t k = 0; k < n; k += 16) {
      if (!load(srcSpace, sa + k, 16, chunk, I, w, l) ||
          !store(dstSpace, da + k, 16, chunk, I, w, l))
        return false;
      if (rec != ~0u)
        bulkWrote(rec, uint32_t(da + k), 16);
    }
    if (toShared && !completeTx(I, w, l, addrOf(w, I.ops[3], l), n))
      return false;
  });
  return true;
}

bool Launch::execCpBulkTensor(Warp &w, const Instr &I, uint32_t mask) {
  bool toShared = I.sub == Sub::BulkToShared;
  const Operand &mapOp = I.ops[toShared ? 1 : 0];
  const Operand &coords = I.ops[toShared ? 2 : 1];
  const Operand &smemOp = I.ops[toShared ? 0 : 2];
  const uint32_t *coordRegs =
      coords.count <= 4 ? coords.regs : mod.wideVecs[size_t(coords.imm)].data();
  unsigned rank = I.vec;
  FOR_LANES(mask, {
    uint64_t mapAddr = addrOf(w, mapOp, l);
    if (mapAddr % 64) {
      fail(ReportKind::Misaligned, I, w, l, mapAddr,
           "cp.async.bulk.tensor with a tensor map that is not 64-byte "
           "aligned");
      return false;
    }
    uint8_t raw[kTensorMapBytes];
    for (uint32_t k = 0; k < kTensorMapBytes; k += 16)
      if (!load(Space::Generic, mapAddr + k, 16, raw + k, I, w, l))
        return false;
    Expected<TensorMap> tm = decodeTensorMap(raw);
    if (!tm) {
      fail(ReportKind::Other, I, w, l, mapAddr,
           "cp.async.bulk.tensor: " + tm.error().message());
      return false;
    }
    if (tm->rank != rank) {
      fail(ReportKind::Other, I, w, l, mapAddr,
           "cp.async.bulk.tensor." + std::to_string(rank) +
               "d with a tensor map of rank " + std::to_string(tm->rank));
      return false;
    }
    uint64_t smem = addrOf(w, smemOp, l);
    if (smem % 128) {
      fail(ReportKind::Misaligned, I, w, l, smem,
           "cp.async.bulk.tensor with a shared address that is not 128-byte "
           "aligned");
      return false;
    }
    int64_t c[5];
    uint64_t n[5], total = 1;
    for (unsigned d = 0; d < rank; ++d) {
      c[d] = int32_t(w.regs[size_t(coordRegs[d]) * 32 + l]);
      n[d] = tm->boxElements(d);
      total *= n[d];
    }
    uint32_t esize = tm->elementBytes;
    // The swizzle XORs the 16-byte chunk index (address bits 4 and up)
    // with the 128-byte row index (bits 7 and up): 1, 2 or 3 bits of it
    // for the 32, 64 and 128-byte spans.
    uint32_t swizzleMask = (1u << uint32_t(tm->swizzle)) - 1;
    uint32_t rec = toShared && !shadow.empty()
                       ? bulkBegin(I, w, addrOf(w, I.ops[3], l))
                       : ~0u;
    uint64_t fill = 0;
    if (tm->oobFill == TensorMapOobFill::NanRequestZeroFma)
      fill = esize == 2 ? 0x7fff : esize == 4 ? 0x7fffffff : ~0ull >> 1;
    for (uint64_t e = 0; e < total; ++e) {
      uint64_t rem = e, gaddr = tm->globalAddress;
      bool inside = true;
      for (unsigned d = 0; d < rank; ++d) {
        uint64_t i = rem % n[d];
        rem /= n[d];
        int64_t g = c[d] + int64_t(i) * (d ? tm->elementStrides[d] : 1);
        if (g < 0 || uint64_t(g) >= tm->globalDim[d])
          inside = false;
        else
          gaddr += uint64_t(g) * tm->strides[d];
      }
      uint32_t off = uint32_t(smem + e * esize);
      off ^= (off >> 7 & swizzleMask) << 4;
      uint8_t v[8];
      if (toShared) {
        if (inside) {
          if (!load(Space::Global, gaddr, esize, v, I, w, l))
            return false;
        } else {
          std::memcpy(v, &fill, esize);
        }
        if (!store(Space::Shared, off, esize, v, I, w, l))
          return false;
        if (rec != ~0u)
          bulkWrote(rec, off, esize);
      } else if (inside) {
        if (!load(Space::Shared, off, esize, v, I, w, l) ||
            !store(Space::Global, gaddr, esize, v, I, w, l))
          return false;
      }
    }
    if (toShared &&
        !completeTx(I, w, l, addrOf(w, I.ops[3], l), uint32_t(total * esize)))
      return false;
  });
  return true;
}

} // namespace tilus::emu::exec

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

namespace tilus::emu::decode {
namespace {

bool mbarrierModifier(Decoding &d, std::string_view m) {
  Instr &ins = d.ins;
  static const std::pair<std::string_view, Sub> subs[] = {
      {"init", Sub::MbInit},          {"arrive", Sub::MbArrive},
      {"expect_tx", Sub::MbExpectTx}, {"complete_tx", Sub::MbCompleteTx},
      {"test_wait", Sub::MbTestWait}, {"try_wait", Sub::MbTryWait},
      {"inval", Sub::MbInval},        {"pending_count", Sub::MbPendingCount}};
  for (const auto &[name, sub] : subs)
    if (m == name) {
      // arrive.expect_tx is an arrive that expects transactions first.
      if (sub == Sub::MbExpectTx && ins.sub == Sub::MbArrive)
        ins.flags |= FExpectTx;
      else if (ins.sub != Sub::None)
        return false;
      else
        ins.sub = sub;
      return true;
    }
  if (m == "parity")
    ins.flags |= FParity;
  else if (m == "noComplete")
    ins.flags |= FNoComplete;
  else if (m != "cluster" && m != "shared::cluster")
    return false;
  return true;
}

Status checkMbarrier(Decoding &d) {
  Instr &ins = d.ins;
  Status st = d.need(ins.sub != Sub::None, "expected an operation");
  if (!st)
    return st;
  st = d.need(ins.space == Space::Shared || ins.space == Space::Generic,
              "mbarrier objects are in shared memory");
  if (!st)
    return st;
  st = d.need(d.type(0) == Type::B64, "expected .b64");
  if (!st)
    return st;
  auto isAddr = [&](int i) { return ins.ops[i].kind == Operand::Addr; };
  auto isValue = [&](int i) {
    return ins.ops[i].kind == Operand::Reg || ins.ops[i].kind == Operand::Imm;
  };
  auto isDest = [&](int i) {
    return ins.ops[i].kind == Operand::Reg || ins.ops[i].kind == Operand::Sink;
  };
  bool arrive = ins.sub == Sub::MbArrive;
  st = d.need(!ins.has(FParity) || ins.sub == Sub::MbTestWait ||
                  ins.sub == Sub::MbTryWait,
              ".parity on test_wait and try_wait only");
  if (!st)
    return st;
  st = d.need(arrive || !(ins.flags & (FNoComplete | FExpectTx)),
              ".noComplete and .expect_tx on arrive only");
  if (!st)
    return st;
  switch (ins.sub) {
  case Sub::MbInit:
  case Sub::MbExpectTx:
  case Sub::MbCompleteTx:
    return d.need(ins.nops == 2 && isAddr(0) && isValue(1), "[addr], count");
  case Sub::MbInval:
    return d.need(ins.nops == 1 && isAddr(0), "[addr]");
  case Sub::MbArrive:
    if (ins.has(FExpectTx))
      return d.need(ins.nops == 3 && isDest(0) && isAddr(1) && isValue(2),
                    "state, [addr], txCount");
    if (ins.has(FNoComplete))
      return d.need(ins.nops == 3 && isDest(0) && isAddr(1) && isValue(2),
                    "state, [addr], count");
    return d.need((ins.nops == 2 || ins.nops == 3) && isDest(0) && isAddr(1) &&
                      (ins.nops == 2 || isValue(2)),
                  "state, [addr]{, count}");
  case Sub::MbTestWait:
  case Sub::MbTryWait:
    // try_wait's optional suspend-time hint is a hint.
    if (ins.sub == Sub::MbTryWait && ins.nops == 4)
      ins.nops = 3;
    return d.need(ins.nops == 3 && ins.ops[0].kind == Operand::Reg &&
                      isAddr(1) && isValue(2),
                  "waitComplete, [addr], state or phaseParity");
  default: // pending_count
    return d.need(ins.nops == 2 && ins.ops[0].kind == Operand::Reg &&
                      isValue(1),
                  "count, state");
  }
}

} // namespace

const Family &mbarrierFamily() {
  static const Family f = {
      {{"mbarrier", Op::Mbarrier, 1, 4}}, mbarrierModifier, checkMbarrier};
  return f;
}

bool bulkModifier(Decoding &d, std::string_view m) {
  Instr &ins = d.ins;
  if (m == "commit_group")
    ins.op = Op::CpBulkCommit;
  else if (m == "wait_group")
    ins.op = Op::CpBulkWait;
  else if (m == "read" && ins.op == Op::CpBulkWait)
    ins.flags |= FRead;
  else if (m == "prefetch" && ins.op == Op::CpBulk)
    ins.op = Op::CpBulkPrefetch;
  else if (m == "L2" && ins.op == Op::CpBulkPrefetch)
    ;
  else if (m == "tensor" && ins.op == Op::CpBulk)
    ins.op = Op::CpBulkTensor;
  else if (m == "tensor" && ins.op == Op::CpBulkPrefetch)
    ins.sub = Sub::BulkPrefetchTensor;
  else if ((ins.op == Op::CpBulkTensor || ins.op == Op::CpBulkPrefetch) &&
           m.size() == 2 && m[1] == 'd' && m[0] >= '1' && m[0] <= '5')
    ins.vec = uint8_t(m[0] - '0');
  else if ((ins.op == Op::CpBulkTensor || ins.op == Op::CpBulkPrefetch) &&
           m == "tile")
    ;
  else if (m != "mbarrier::complete_tx::bytes" && m != "bulk_group" &&
           m != "shared::cluster")
    return false;
  return true;
}

Status checkBulk(Decoding &d) {
  Instr &ins = d.ins;
  switch (ins.op) {
  case Op::CpBulkCommit:
    return d.need(ins.nops == 0, "no operands");
  case Op::CpBulkWait:
    return d.need(ins.nops == 1 && ins.ops[0].kind == Operand::Imm,
                  "an immediate group count");
  case Op::CpBulkPrefetch:
    // A hint to L2: checked for its form only.
    if (ins.sub == Sub::BulkPrefetchTensor)
      return d.need(ins.nops == 2 && ins.ops[0].kind == Operand::Addr &&
                        ins.ops[1].kind == Operand::Vec &&
                        ins.ops[1].count == ins.vec,
                    "cp.async.bulk.prefetch.tensor.Nd.L2.global [tensorMap, "
                    "{N coordinates}]");
    return d.need(ins.nops == 2 && ins.ops[0].kind == Operand::Addr &&
                      (ins.ops[1].kind == Operand::Reg ||
                       ins.ops[1].kind == Operand::Imm),
                  "cp.async.bulk.prefetch.L2.global [src], size");
  default:
    break;
  }
  // The first state space named is the destination's.
  std::string_view first;
  for (std::string_view m : d.mods)
    if (m == "global" || m.rfind("shared", 0) == 0) {
      first = m;
      break;
    }
  bool toShared = first != "global";
  ins.sub = toShared ? Sub::BulkToShared : Sub::BulkToGlobal;
  bool completes = std::find(d.mods.begin(), d.mods.end(),
                             "mbarrier::complete_tx::bytes") != d.mods.end();
  bool grouped =
      std::find(d.mods.begin(), d.mods.end(), "bulk_group") != d.mods.end();
  auto isValue = [&](int i) {
    return ins.ops[i].kind == Operand::Reg || ins.ops[i].kind == Operand::Imm;
  };
  // A size written as a number is checked now, as ptxas does.
  if (ins.op == Op::CpBulk && ins.nops >= 3 &&
      ins.ops[2].kind == Operand::Imm && ins.ops[2].imm % 16)
    return d.need(false, "the size " + std::to_string(ins.ops[2].imm) +
                             " is not a multiple of 16");
  if (ins.op == Op::CpBulkTensor) {
    // [tensorMap, {coordinates}] is two operands (the parser splits it).
    int map = toShared ? 1 : 0;
    Status st = d.need(ins.vec >= 1 && ins.vec <= 5 &&
                           std::find(d.mods.begin(), d.mods.end(), "tile") !=
                               d.mods.end(),
                       "cp.async.bulk.tensor.{1d..5d} with .tile");
    if (!st)
      return st;
    st = d.need(ins.nops == (toShared ? 4 : 3) &&
                    ins.ops[map].kind == Operand::Addr &&
                    ins.ops[map + 1].kind == Operand::Vec &&
                    ins.ops[map + 1].count == ins.vec &&
                    ins.ops[toShared ? 0 : 2].kind == Operand::Addr &&
                    (!toShared || ins.ops[3].kind == Operand::Addr) &&
                    (toShared ? completes : grouped),
                toShared ? "cp.async.bulk.tensor.Nd.shared::cluster.global."
                           "tile.mbarrier::complete_tx::bytes [dst], "
                           "[tensorMap, {N coordinates}], [mbar]"
                         : "cp.async.bulk.tensor.Nd.global.shared::cta.tile."
                           "bulk_group [tensorMap, {N coordinates}], [src]");
    return st;
  }
  if (toShared)
    return d.need(completes && ins.nops == 4 &&
                      ins.ops[0].kind == Operand::Addr &&
                      ins.ops[1].kind == Operand::Addr && isValue(2) &&
                      ins.ops[3].kind == Operand::Addr,
                  "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::"
                  "bytes [dst], [src], size, [mbar]");
  return d.need(grouped && ins.nops == 3 && ins.ops[0].kind == Operand::Addr &&
                    ins.ops[1].kind == Operand::Addr && isValue(2),
                "cp.async.bulk.global.shared::cta.bulk_group [dst], [src], "
                "size");
}

} // namespace tilus::emu::decode
