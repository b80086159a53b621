//===- WarpOps.cpp - Warp-wide instructions -------------------------------===//
//
// shfl.sync, vote.sync, redux.sync, match.sync, elect.sync, activemask and
// bar.warp.sync, and the check .aligned warp instructions make: they run on
// the whole warp. A .sync collective may be executed by lanes of several
// paths from several instructions together (Paths.cpp waits for the lanes of
// the member mask): each executor reads a lane's operands from its own site
// (gather) and writes its result there (scatter).
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

const uint64_t *Launch::gather(const Warp &w, const Site *s, int n, int k,
                               uint64_t *buf) {
  if (n == 1)
    return src(w, s[0].I->ops[k], buf);
  // Lanes outside every site (a shuffle may read them) read the first
  // site's operand, as with one site.
  uint64_t tmp[32];
  const uint64_t *p = src(w, s[0].I->ops[k], tmp);
  std::copy(p, p + 32, buf);
  for (int g = 1; g < n; ++g) {
    p = src(w, s[g].I->ops[k], tmp);
    FOR_LANES(s[g].mask, buf[l] = p[l]);
  }
  return buf;
}

void Launch::scatter(Warp &w, const Site *s, int n, const uint64_t *v,
                     const uint64_t *p) {
  for (int g = 0; g < n; ++g) {
    const Operand &o = s[g].I->ops[0];
    uint64_t *d = o.kind != Operand::Vec ? dst(w, o)
                  : o.regs[0] == kNoReg  ? nullptr
                                         : w.regs + size_t(o.regs[0]) * 32;
    uint64_t *dp = o.kind == Operand::Vec && o.regs[1] != kNoReg && p
                       ? w.regs + size_t(o.regs[1]) * 32
                       : nullptr;
    FOR_LANES(s[g].mask, {
      if (d)
        d[l] = v[l];
      if (dp)
        dp[l] = p[l];
    });
  }
}

bool Launch::execWarpOp(Warp &w, const Site *s, int n, uint32_t mask) {
  switch (s[0].I->op) {
  case Op::Shfl:
    return execShfl(w, s, n, mask);
  case Op::Vote:
    return execVote(w, s, n, mask);
  case Op::Redux:
    return execRedux(w, s, n, mask);
  case Op::Match:
    return execMatch(w, s, n, mask);
  case Op::Elect: {
    // The lowest executing lane leads: deterministic, as the ISA asks.
    int leader = __builtin_ctz(mask);
    uint64_t d[32], p[32];
    FOR_LANES(mask, {
      d[l] = uint64_t(leader);
      p[l] = l == leader;
    });
    scatter(w, s, n, d, p);
    return true;
  }
  case Op::BarWarp:
    // Orders the shared-memory accesses of the warp's lanes (Shadow).
    w.syncStep = raceStep();
    return true;
  default:
    return false;
  }
}

bool Launch::execShfl(Warp &w, const Site *s, int n, uint32_t mask) {
  uint64_t ta[32], tb[32], tc[32];
  const uint64_t *a = gather(w, s, n, 1, ta);
  const uint64_t *b = gather(w, s, n, 2, tb);
  const uint64_t *c = gather(w, s, n, 3, tc);
  Sub mode = s[0].I->sub;
  uint64_t res[32], pv[32];
  FOR_LANES(mask, {
    uint32_t lane = uint32_t(l);
    uint32_t bval = uint32_t(b[l]) & 31, cval = uint32_t(c[l]) & 31;
    uint32_t segmask = (uint32_t(c[l]) >> 8) & 31;
    uint32_t maxLane = (lane & segmask) | (cval & ~segmask);
    uint32_t minLane = lane & segmask;
    int32_t j;
    bool ok;
    switch (mode) {
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
  scatter(w, s, n, res, pv);
  return true;
}

bool Launch::execVote(Warp &w, const Site *s, int n, uint32_t mask) {
  uint64_t ta[32];
  const uint64_t *a = gather(w, s, n, 1, ta);
  uint32_t ballot = 0;
  FOR_LANES(mask, if (a[l] & 1) ballot |= 1u << l);
  uint64_t v;
  switch (s[0].I->sub) {
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
  uint64_t res[32];
  std::fill(res, res + 32, v);
  scatter(w, s, n, res, nullptr);
  return true;
}

bool Launch::execRedux(Warp &w, const Site *s, int n, uint32_t mask) {
  uint64_t ta[32];
  const uint64_t *a = gather(w, s, n, 1, ta);
  bool sg = s[0].I->type == Type::S32;
  Sub op = s[0].I->sub;
  int64_t acc = 0;
  bool first = true;
  FOR_LANES(mask, {
    int64_t v = sg ? int64_t(int32_t(a[l])) : int64_t(uint32_t(a[l]));
    if (first) {
      acc = v;
      first = false;
      continue;
    }
    switch (op) {
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
  uint64_t res[32];
  std::fill(res, res + 32, uint64_t(uint32_t(acc)));
  scatter(w, s, n, res, nullptr);
  return true;
}

bool Launch::execMatch(Warp &w, const Site *s, int n, uint32_t mask) {
  uint64_t ta[32];
  const uint64_t *a = gather(w, s, n, 1, ta);
  uint64_t keep = s[0].I->type == Type::B64 ? ~0ull : 0xffffffffull;
  uint64_t res[32], pv[32];
  if (s[0].I->sub == Sub::Any) {
    // d: the lanes whose value equals this lane's.
    FOR_LANES(mask, {
      uint32_t same = 0;
      uint64_t x = a[l] & keep;
      FOR_LANES_2(mask, if ((a[k] & keep) == x) same |= 1u << k);
      res[l] = same;
    });
  } else {
    // d: all the lanes if every value is equal, else 0; p: whether equal.
    uint64_t x = a[__builtin_ctz(mask)] & keep;
    bool all = true;
    FOR_LANES(mask, all = all && (a[l] & keep) == x);
    FOR_LANES(mask, {
      res[l] = all ? mask : 0;
      pv[l] = all;
    });
  }
  scatter(w, s, n, res, s[0].I->sub == Sub::Any ? nullptr : pv);
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
  case Op::Match:
    if (!ins.has(FSync) || ins.sub == Sub::None ||
        (t0 != Type::B32 && t0 != Type::B64))
      return d.need(false, "match.{any,all}.sync.{b32,b64}");
    // Only match.all has the predicate destination d|p.
    return d.need(ins.ops[0].kind == Operand::Reg ||
                      (ins.sub == Sub::All && ins.ops[0].kind == Operand::Vec),
                  "match.any.sync takes d, a, membermask");
  case Op::Elect:
    return d.need(ins.has(FSync) && ins.ops[0].kind == Operand::Vec &&
                      ins.ops[0].regs[1] != kNoReg,
                  "elect.sync d|p, membermask");
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
                            {"activemask", Op::Activemask, 1, 1},
                            {"elect", Op::Elect, 2, 2}},
                           warpModifier,
                           checkWarp};
  return f;
}

} // namespace tilus::emu::decode
