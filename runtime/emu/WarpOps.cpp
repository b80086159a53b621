//===- WarpOps.cpp - Warp-wide instructions -------------------------------===//
//
// shfl.sync, vote.sync, redux.sync, match.sync, activemask and bar.warp.sync,
// and the
// checks every .sync and .aligned warp instruction makes: the member mask
// names exactly the executing threads, and .aligned instructions run on the
// whole warp.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Decode.h"
#include "runtime/emu/Launch.h"

#include <algorithm>

namespace tilus::emu::exec {

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
  switch (I.op) {
  case Op::Shfl:
    return execShfl(w, I, mask);
  case Op::Vote:
    return execVote(w, I, mask);
  case Op::Redux:
    return execRedux(w, I, mask);
  case Op::Match:
    return execMatch(w, I, mask);
  case Op::Activemask: {
    uint64_t *d = dst(w, I.ops[0]);
    FOR_LANES(mask, d[l] = mask);
    return true;
  }
  case Op::BarWarp: {
    uint64_t tm[32];
    const uint64_t *mm = src(w, I.ops[0], tm);
    return checkMemberMask(w, I, mask, mm, "bar.warp.sync");
  }
  default:
    return false;
  }
}

bool Launch::execShfl(Warp &w, const Instr &I, uint32_t mask) {
  uint64_t ta[32], tb[32], tc[32], tm[32];
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

bool Launch::execVote(Warp &w, const Instr &I, uint32_t mask) {
  uint64_t ta[32], tm[32];
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

bool Launch::execRedux(Warp &w, const Instr &I, uint32_t mask) {
  uint64_t ta[32], tm[32];
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

/// match.any: the lanes whose value equals this lane's; match.all: the member
/// mask if every lane's value is the same (and p set), else 0.
bool Launch::execMatch(Warp &w, const Instr &I, uint32_t mask) {
  uint64_t ta[32], tm[32];
  const uint64_t *a = src(w, I.ops[1], ta);
  const uint64_t *mm = src(w, I.ops[2], tm);
  if (!checkMemberMask(w, I, mask, mm, "match.sync"))
    return false;
  unsigned bits = typeBits(I.type);
  const Operand &o = I.ops[0];
  uint64_t *d = o.kind != Operand::Vec ? dst(w, o)
                : o.regs[0] == kNoReg  ? scratch
                                       : w.regs + size_t(o.regs[0]) * 32;
  uint64_t *p = o.kind == Operand::Vec && o.regs[1] != kNoReg
                    ? w.regs + size_t(o.regs[1]) * 32
                    : nullptr;
  uint64_t v[32];
  FOR_LANES(mask, v[l] = zext(a[l], bits));
  uint64_t first = v[__builtin_ctz(mask)];
  bool same = true;
  FOR_LANES(mask, same = same && v[l] == first);
  uint64_t res[32];
  FOR_LANES(mask, {
    if (I.sub == Sub::All) {
      res[l] = same ? mask : 0;
      continue;
    }
    uint32_t eq = 0;
    for (uint32_t rest = mask; rest; rest &= rest - 1) {
      int j = __builtin_ctz(rest);
      if (v[j] == v[l])
        eq |= 1u << j;
    }
    res[l] = eq;
  });
  FOR_LANES(mask, {
    d[l] = res[l];
    if (p)
      p[l] = same;
  });
  return true;
}

} // namespace tilus::emu::exec

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

namespace tilus::emu::decode {
namespace {

bool warpModifier(Decoding &d, std::string_view m) {
  Instr &ins = d.ins;
  if (m == "uni" && ins.op == Op::Vote) {
    ins.sub = Sub::Uni;
  } else if ((m == "up" || m == "down" || m == "bfly" || m == "idx") &&
             ins.op == Op::Shfl) {
    ins.sub = m == "up"     ? Sub::Up
              : m == "down" ? Sub::Down
              : m == "bfly" ? Sub::Bfly
                            : Sub::Idx;
  } else if ((m == "all" || m == "any" || m == "ballot") &&
             ins.op == Op::Vote) {
    ins.sub = m == "all" ? Sub::All : m == "any" ? Sub::Any : Sub::Ballot;
  } else if ((m == "all" || m == "any") && ins.op == Op::Match) {
    ins.sub = m == "all" ? Sub::All : Sub::Any;
  } else if (ins.op == Op::Redux && reductionByName(m, ins.sub)) {
  } else {
    return false;
  }
  return true;
}

Status checkWarp(Decoding &d) {
  Instr &ins = d.ins;
  Type t0 = d.type(0);
  switch (ins.op) {
  case Op::Shfl:
    return d.need(ins.sub != Sub::None && t0 == Type::B32 && ins.has(FSync),
                  "only shfl.sync.{up,down,bfly,idx}.b32");
  case Op::Vote:
    if (ins.sub == Sub::Ballot)
      return d.need(t0 == Type::B32 && ins.has(FSync), "vote.sync.ballot.b32");
    return d.need(ins.sub != Sub::None && t0 == Type::Pred && ins.has(FSync),
                  "vote.sync.{all,any,uni}.pred");
  case Op::Redux:
    return d.need(ins.has(FSync) && ins.sub != Sub::None &&
                      (t0 == Type::U32 || t0 == Type::S32 || t0 == Type::B32),
                  "redux.sync with a 32-bit integer type");
  case Op::Match: {
    Status st = d.need(ins.sub != Sub::None && ins.has(FSync) &&
                           (t0 == Type::B32 || t0 == Type::B64),
                       "match.sync.{any,all}.{b32,b64}");
    if (!st)
      return st;
    const Operand &o = ins.ops[0];
    return d.need(o.kind != Operand::Vec ||
                      (ins.sub == Sub::All && o.count == 2),
                  "match.sync.any takes one destination, match.sync.all d "
                  "or d|p");
  }
  default: // activemask
    return Status::success();
  }
}

} // namespace

const Family &warpFamily() {
  static const Family f = {{{"shfl", Op::Shfl, 5, 5},
                            {"vote", Op::Vote, 3, 3},
                            {"redux", Op::Redux, 3, 3},
                            {"match", Op::Match, 3, 3},
                            {"activemask", Op::Activemask, 1, 1}},
                           warpModifier,
                           checkWarp};
  return f;
}

} // namespace tilus::emu::decode
