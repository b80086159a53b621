//===- Paths.cpp - The divergent paths of a warp --------------------------===//
//
// From sm_70 on, PTX schedules the threads of a warp independently: a thread
// that waits at a barrier or a warp collective does not stop the warp's
// other threads, and nothing guarantees that diverged threads meet again
// where the code joins. The emulator keeps its SIMT stack (paths run one
// after the other and meet at the branch's immediate post-dominator, which
// is exact and fast for code that does not wait) and adds what independent
// scheduling allows:
//
//   - a path whose lanes reach a barrier while other lanes of the warp are
//     elsewhere parks there (its lanes have arrived) and the warp runs its
//     other paths; at an aligned barrier (bar.sync) the lanes first wait for
//     the warp's other live lanes at the same instruction, then all arrive;
//   - a path reaching a .sync collective (shfl, vote, redux, match,
//     bar.warp) while lanes of its member mask are elsewhere parks until
//     those lanes reach a collective with the same qualifiers and the same
//     member mask, at any instruction; then all execute together, each lane
//     reading its operands from and writing its result to its own
//     instruction. Exited lanes are not waited for;
//   - .aligned warp instructions (mma, ldmatrix, stmatrix, wmma) reached by
//     one path while the warp's other lanes are on other paths wait until
//     every lane is at that instruction, which then runs once for the warp;
//   - when every path of a warp waits, lanes that wait at a reconvergence
//     point for such parked paths go on alone (as lanes that returned after
//     `if (i >= n) return;` leave the kernel);
//   - a path whose mbarrier.try_wait fails while other lanes of the warp
//     are elsewhere parks at the try_wait (they may be the ones to arrive);
//     when nothing else can run, such paths run again.
//
// The stack is a tree in pre-order (Entry::depth): a reconvergence entry is
// followed by its children, the paths that meet at its pc. Any leaf may run;
// bringToTop moves the chosen one to the top, keeping the order valid. A
// warp whose paths all wait at barriers blocks until one is released; one
// whose paths wait for each other at collectives or at different aligned
// barriers (which hangs a GPU) is reported as an error naming both PTX lines.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Launch.h"

#include <algorithm>

namespace tilus::emu::exec {
namespace {

/// The first index after the subtree of s[i].
size_t subtreeEnd(const std::vector<Entry> &s, size_t i) {
  size_t j = i + 1;
  while (j < s.size() && s[j].depth > s[i].depth)
    ++j;
  return j;
}

/// The index of the parent of s[i], or -1 for an entry at the top level.
long parentOf(const std::vector<Entry> &s, size_t i) {
  for (long j = long(i) - 1; j >= 0; --j)
    if (s[size_t(j)].depth < s[i].depth)
      return j;
  return -1;
}

/// Whether lanes at \p a and at \p b execute one collective together: the
/// same instruction and qualifiers (the member masks are compared apart).
bool sameCollective(const Instr &a, const Instr &b) {
  return a.op == b.op && a.sub == b.sub && a.type == b.type;
}

/// The member-mask operand of a .sync warp instruction.
int memberOperand(const Instr &I) {
  switch (I.op) {
  case Op::Shfl:
    return 4;
  case Op::BarWarp:
    return 0;
  case Op::Elect:
    return 1;
  default: // vote, redux, match
    return 2;
  }
}

const char *collectiveName(Op op) {
  switch (op) {
  case Op::Shfl:
    return "shfl.sync";
  case Op::Vote:
    return "vote.sync";
  case Op::Redux:
    return "redux.sync";
  case Op::Match:
    return "match.sync";
  case Op::Elect:
    return "elect.sync";
  default:
    return "bar.warp.sync";
  }
}

/// What lanes parked (\p why) at \p X wait at, for messages.
const char *waitName(const Instr &X, Park why) {
  switch (X.op) {
  case Op::Bar:
    return X.has(FAligned) ? "an aligned barrier" : "a barrier";
  case Op::Mma:
    return "mma.sync.aligned";
  case Op::Ldmatrix:
    return "ldmatrix.sync.aligned";
  case Op::Stmatrix:
    return "stmatrix.sync.aligned";
  case Op::WmmaMma:
  case Op::WmmaLoad:
  case Op::WmmaStore:
    return "a wmma instruction";
  case Op::Wgmma:
    return "wgmma.mma_async.sync.aligned";
  default:
    return why == Park::Collective ? collectiveName(X.op) : "a barrier";
  }
}

std::string hexMask(uint32_t m) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", m);
  return buf;
}

} // namespace

void Launch::bringToTop(Warp &w, size_t k) {
  std::vector<Entry> &s = w.simt;
  size_t i = k;
  // Make the subtree holding k the last child of its parent, level by level.
  for (;;) {
    long p = parentOf(s, i);
    size_t end = subtreeEnd(s, i);
    size_t parentEnd = p < 0 ? s.size() : subtreeEnd(s, size_t(p));
    if (end != parentEnd) {
      std::rotate(s.begin() + long(i), s.begin() + long(end),
                  s.begin() + long(parentEnd));
      i = parentEnd - (end - i);
    }
    if (p < 0)
      return;
    i = size_t(p);
  }
}

void Launch::parkPath(Warp &w, uint32_t lanes, uint32_t pc, Park why,
                      uint32_t barId, uint32_t member) {
  w.simt.push_back(
      {pc, lanes, w.rpc, uint16_t(w.depth), why, uint8_t(barId), member});
  ++w.parked;
  w.active &= ~lanes;
  ++w.pc;
  if (!w.active)
    w.pc = w.rpc = kNoPc;
}

bool Launch::pickPath(Warp &w) {
  std::vector<Entry> &s = w.simt;
  w.active = 0;
  w.pc = w.rpc = kNoPc;
  for (;;) {
    // The topmost path that can run; finished ones are dropped.
    for (size_t i = s.size(); i-- > 0;) {
      Entry &e = s[i];
      bool leaf = i + 1 == s.size() || s[i + 1].depth <= e.depth;
      if (!leaf || e.park != Park::None)
        continue;
      uint32_t live = e.mask & ~w.exited;
      if (!live || e.pc == e.rpc) {
        s.erase(s.begin() + long(i));
        continue;
      }
      bringToTop(w, i);
      Entry t = s.back();
      s.pop_back();
      w.pc = t.pc;
      w.active = t.mask & ~w.exited;
      w.rpc = t.rpc;
      w.depth = t.depth;
      return true;
    }
    if (s.empty()) {
      w.done = (w.valid & ~w.exited) == 0;
      return false;
    }
    if (fireCollectives(w))
      continue;
    if (failed)
      return false;
    // Every path waits: lanes waiting at a reconvergence point go on alone.
    bool split = false;
    for (size_t i = s.size(); i-- > 0 && !split;) {
      Entry &e = s[i];
      if (e.park != Park::None || e.pc == kNoPc)
        continue;
      size_t end = subtreeEnd(s, i);
      uint32_t below = 0;
      for (size_t j = i + 1; j < end; ++j)
        below |= s[j].mask;
      uint32_t ahead = e.mask & ~w.exited & ~below;
      if (!ahead || end == i + 1)
        continue;
      e.mask &= ~ahead;
      Entry a{e.pc, ahead, e.rpc, e.depth};
      s.insert(s.begin() + long(end), a);
      split = true;
    }
    if (split)
      continue;
    // Paths parked at failing try_waits run again; the first to fail again
    // goes on, so code that does not loop on try_wait is not held.
    bool resumed = false;
    for (Entry &e : s)
      if (e.park == Park::Spin) {
        e.park = Park::None;
        --w.parked;
        resumed = true;
      }
    if (resumed) {
      w.spinResumed = true;
      continue;
    }
    // Nothing can run: the warp waits for a barrier, or its paths wait for
    // each other.
    for (const Entry &e : s) {
      if (e.park == Park::Barrier && (e.mask & ~w.exited)) {
        w.blocked = true;
        w.whole = false;
        w.barId = e.barId;
        w.barPc = e.pc - 1;
        return false;
      }
    }
    pathDeadlock(w);
    return false;
  }
}

uint32_t Launch::gatherParked(Warp &w, const Instr &I, uint32_t member,
                              uint32_t need, std::vector<size_t> &sites) {
  uint32_t have = 0;
  for (size_t i = 0; i < w.simt.size(); ++i) {
    const Entry &e = w.simt[i];
    uint32_t lanes = e.mask & ~w.exited;
    if (e.park != Park::Collective || e.member != member || !lanes ||
        (lanes & ~need) || !sameCollective(mod.code[e.pc], I))
      continue;
    sites.push_back(i);
    have |= lanes;
  }
  return have;
}

bool Launch::syncCollective(Warp &w, const Instr &I, uint32_t mask,
                            bool &parked) {
  parked = false;
  uint64_t tm[32];
  const uint64_t *mm = src(w, I.ops[memberOperand(I)], tm);
  uint32_t live = w.valid & ~w.exited;
  uint32_t member = uint32_t(mm[__builtin_ctz(mask)]);
  bool one = true;
  FOR_LANES(mask, one = one && uint32_t(mm[l]) == member);
  Site here{&I, mask};
  if (one && (member & live) == mask)
    return execWarpOp(w, &here, 1, mask);
  // Each member mask is one collective of the lanes naming it (logical
  // warps name 0x0000ffff in lanes 0-15 and 0xffff0000 in lanes 16-31).
  // Lanes (not exited) of a mask that are elsewhere are waited for.
  uint32_t rest = mask, waiting = 0;
  std::vector<size_t> idx;
  std::vector<Site> sites;
  std::vector<Entry> park;
  while (rest) {
    uint32_t m = uint32_t(mm[__builtin_ctz(rest)]);
    uint32_t group = 0;
    FOR_LANES(rest, if (uint32_t(mm[l]) == m) group |= 1u << l);
    rest &= ~group;
    if (group & ~m) {
      int bad = __builtin_ctz(group & ~m);
      fail(ReportKind::WrongMemberMask, I, w, bad, ~0ull,
           std::string(collectiveName(I.op)) +
               " with a wrong member mask (member mask " + hexMask(m) +
               ", executing lanes " + hexMask(group) + "): lane " +
               std::to_string(bad) + " is not in the mask it names");
      return false;
    }
    uint32_t need = m & live;
    idx.clear();
    uint32_t have = group;
    if (need != group)
      have |= gatherParked(w, I, m, need & ~group, idx);
    if (have != need) {
      park.push_back(
          {w.pc, group, w.rpc, uint16_t(w.depth), Park::Collective, 0, m});
      waiting |= group;
      continue;
    }
    sites.assign(1, {&I, group});
    for (size_t i : idx)
      sites.push_back({&mod.code[w.simt[i].pc], w.simt[i].mask & ~w.exited});
    if (!execWarpOp(w, sites.data(), int(sites.size()), have))
      return false;
    for (size_t i : idx) {
      w.simt[i].park = Park::None;
      ++w.simt[i].pc;
      --w.parked;
    }
  }
  if (!waiting)
    return true;
  // The waiting lanes park here; the path's other lanes go on.
  for (const Entry &e : park)
    w.simt.push_back(e);
  w.parked += uint32_t(park.size());
  w.active &= ~waiting;
  ++w.pc;
  if (!w.active)
    w.pc = w.rpc = kNoPc;
  parked = true;
  return true;
}

bool Launch::alignWarp(Warp &w, const Instr &I, uint32_t mask, const char *what,
                       bool &parked) {
  parked = false;
  if (mask != w.active || (w.valid & w.exited))
    return checkWholeWarp(w, I, mask, what);
  std::vector<size_t> waiting;
  uint32_t have = mask;
  for (size_t i = 0; i < w.simt.size(); ++i) {
    const Entry &e = w.simt[i];
    if (e.park == Park::Aligned && e.pc == w.pc) {
      waiting.push_back(i);
      have |= e.mask;
    }
  }
  if (have != w.valid) {
    parkPath(w, mask, w.pc, Park::Aligned, 0, 0);
    parked = true;
    return true;
  }
  // The instruction runs once, now, for the whole warp; the waiting paths
  // go on after it.
  for (size_t i : waiting) {
    Entry &e = w.simt[i];
    e.park = Park::None;
    ++e.pc;
    --w.parked;
  }
  return true;
}

bool Launch::fireCollectives(Warp &w) {
  std::vector<size_t> idx;
  std::vector<Site> sites;
  uint32_t live = w.valid & ~w.exited;
  for (size_t i = 0; i < w.simt.size(); ++i) {
    Entry &e = w.simt[i];
    if (e.park == Park::Aligned) {
      // Every live lane waits at this aligned instruction: one of its paths
      // runs it again, now with the others there (execBar, alignWarp).
      uint32_t have = 0;
      for (const Entry &f : w.simt)
        if (f.park == Park::Aligned && f.pc == e.pc)
          have |= f.mask & ~w.exited;
      if (have != live)
        continue;
      e.park = Park::None;
      --w.parked;
      return true;
    }
    if (e.park != Park::Collective)
      continue;
    const Instr &I = mod.code[e.pc];
    uint32_t need = e.member & w.valid & ~w.exited;
    idx.clear();
    if (gatherParked(w, I, e.member, need, idx) != need || !need)
      continue;
    sites.clear();
    for (size_t j : idx)
      sites.push_back({&mod.code[w.simt[j].pc], w.simt[j].mask & ~w.exited});
    if (!execWarpOp(w, sites.data(), int(sites.size()), need))
      return false;
    for (size_t j : idx) {
      w.simt[j].park = Park::None;
      ++w.simt[j].pc;
      --w.parked;
    }
    return true;
  }
  return false;
}

void Launch::pathDeadlock(Warp &w) {
  const Entry *waiting = nullptr;
  for (const Entry &e : w.simt)
    if ((e.park == Park::Collective || e.park == Park::Aligned) &&
        (e.mask & ~w.exited))
      waiting = &e;
  if (!waiting) {
    fail(ReportKind::Other, mod.code[fn.begin], w, 0, ~0ull,
         "internal error: a warp has no path to run");
    return;
  }
  const Instr &I = mod.code[waiting->pc];
  uint32_t live = w.valid & ~w.exited;
  uint32_t need =
      waiting->park == Park::Aligned ? live : waiting->member & live;
  uint32_t have = 0;
  for (const Entry &e : w.simt)
    if (e.park == waiting->park && e.pc == waiting->pc)
      have |= e.mask & ~w.exited;
  std::vector<size_t> idx;
  if (waiting->park == Park::Collective)
    have = gatherParked(w, I, waiting->member, need, idx);
  uint32_t missing = need & ~have;
  int lane = __builtin_ctz(missing);
  // Where the first missing lane waits.
  std::string where;
  for (const Entry &e : w.simt) {
    if (!(e.mask >> lane & 1) || e.park == Park::None)
      continue;
    const Instr &X = mod.code[e.park == Park::Barrier ? e.pc - 1 : e.pc];
    where = ", which waits at " + std::string(waitName(X, e.park)) +
            " at PTX line " + std::to_string(X.line);
  }
  if (waiting->park == Park::Aligned && I.op == Op::Bar) {
    fail(ReportKind::PartialWarp, I, w, __builtin_ctz(waiting->mask), ~0ull,
         "aligned barrier (bar.sync, barrier.sync.aligned) reached by part of "
         "a warp (lanes " +
             hexMask(have) + ") while lanes " + hexMask(missing) +
             " never get there (lane " + std::to_string(lane) + where +
             "): the warp's threads must execute the same aligned barrier; "
             "a GPU hangs here (barrier.sync without .aligned lets them "
             "arrive apart)");
    return;
  }
  if (waiting->park == Park::Aligned) {
    fail(ReportKind::PartialWarp, I, w, __builtin_ctz(waiting->mask), ~0ull,
         std::string(waitName(I, Park::Aligned)) +
             " reached by part of a warp (lanes " + hexMask(have) +
             ") while lanes " + hexMask(missing) + " never get there (lane " +
             std::to_string(lane) + where +
             "): .aligned warp instructions need every thread of the warp at "
             "the same instruction");
    return;
  }
  fail(ReportKind::WrongMemberMask, I, w, __builtin_ctz(waiting->mask), ~0ull,
       std::string(collectiveName(I.op)) + " with member mask " +
           hexMask(waiting->member) + " waits for lanes " + hexMask(missing) +
           " that never execute a matching collective (lane " +
           std::to_string(lane) + where +
           "): the warp's threads wait for each other");
}

} // namespace tilus::emu::exec
