//===- Layout.cpp - Per-kernel register frames and shared memory ----------===//
//
// Layout.h states the rules. Everything here runs once per module load.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Layout.h"

#include <algorithm>
#include <functional>
#include <numeric>

namespace tilus::emu::detail {
namespace {

bool hasBody(const Function &f) {
  return !f.isExtern && f.builtin == Function::Builtin::None &&
         f.begin != f.end;
}

/// Union-find over kernel indices.
struct Groups {
  std::vector<uint32_t> parent;
  explicit Groups(size_t n) : parent(n) {
    std::iota(parent.begin(), parent.end(), 0);
  }
  uint32_t find(uint32_t x) {
    while (parent[x] != x)
      x = parent[x] = parent[parent[x]];
    return x;
  }
  void join(uint32_t a, uint32_t b) { parent[find(a)] = find(b); }
};

class Layouter {
public:
  Layouter(ModuleImpl &mod, const LayoutInput &in) : mod(mod), in(in) {}
  Status run();

private:
  ModuleImpl &mod;
  const LayoutInput &in;
  std::vector<std::vector<uint32_t>> callees; ///< Per function.
  std::vector<int> funcOfPc;
  enum State : uint8_t { Unvisited, Active, Done };
  std::vector<State> state;

  Status frame(uint32_t f, uint32_t callerLine);
  void renumber(uint32_t f, uint32_t oldBase);
  void layoutLocal();
  void reach(uint32_t f, std::vector<bool> &seen) const;
  Status layoutShared();
};

/// Frames bottom-up: base(f) is the largest frame among f's callees.
Status Layouter::frame(uint32_t f, uint32_t callerLine) {
  Function &fn = mod.funcs[f];
  if (state[f] == Done)
    return Status::success();
  if (state[f] == Active)
    return Status::error(in.name + ":" + std::to_string(callerLine) +
                         ": recursive call of '" + fn.name +
                         "' (recursion is not supported)");
  state[f] = Active;
  uint32_t base = 0;
  for (uint32_t pc = fn.begin; pc < fn.end; ++pc) {
    const Instr &I = mod.code[pc];
    if (I.op != Op::Call)
      continue;
    uint32_t g = mod.calls[I.aux].callee;
    if (!hasBody(mod.funcs[g]))
      continue;
    Status s = frame(g, I.line);
    if (!s)
      return s;
    base = std::max(base, mod.funcs[g].regFrame);
  }
  uint32_t oldBase = fn.regBase;
  fn.regBase = base;
  fn.regFrame = base + fn.ownRegs;
  renumber(f, oldBase);
  state[f] = Done;
  return Status::success();
}

/// Moves every register operand of f's code from the module-wide slot to
/// f's frame.
void Layouter::renumber(uint32_t f, uint32_t oldBase) {
  const Function &fn = mod.funcs[f];
  auto move = [&](uint32_t &r) {
    if (r != kNoReg)
      r = r - oldBase + fn.regBase;
  };
  for (uint32_t pc = fn.begin; pc < fn.end; ++pc) {
    Instr &I = mod.code[pc];
    move(I.guard);
    if (I.flags & (FCarryIn | FCarryOut))
      move(I.aux);
    for (unsigned i = 0; i < I.nops; ++i) {
      Operand &o = I.ops[i];
      switch (o.kind) {
      case Operand::Reg:
      case Operand::Addr:
        move(o.reg);
        break;
      case Operand::Vec:
        if (o.count > 4) {
          for (uint32_t &r : mod.wideVecs[size_t(o.imm)])
            move(r);
        } else {
          for (unsigned k = 0; k < o.count; ++k)
            if (!(o.immMask >> k & 1))
              move(o.regs[k]);
        }
        break;
      default:
        break;
      }
    }
  }
}

void Layouter::reach(uint32_t f, std::vector<bool> &seen) const {
  if (seen[f])
    return;
  seen[f] = true;
  for (uint32_t g : callees[f])
    reach(g, seen);
}

Status Layouter::layoutShared() {
  size_t nk = mod.kernels.size(), nv = in.sharedVars.size();
  uint32_t a = in.dynAlign;
  auto alignUp = [](uint64_t x, uint64_t al) { return (x + al - 1) / al * al; };
  uint64_t moduleStatic = 0;
  for (const auto &v : in.sharedVars)
    moduleStatic = std::max(moduleStatic, v.offset + v.size);
  moduleStatic = alignUp(moduleStatic, a);
  // Which functions each kernel reaches; which variables (and whether
  // dynamic shared memory) each function's code refers to.
  std::vector<std::vector<bool>> reaches(nk);
  for (size_t k = 0; k < nk; ++k) {
    reaches[k].assign(mod.funcs.size(), false);
    reach(mod.kernels[k], reaches[k]);
  }
  std::vector<std::vector<int32_t>> refs(mod.funcs.size());
  for (const auto &fx : in.fixups)
    if (funcOfPc[fx.pc] >= 0)
      refs[size_t(funcOfPc[fx.pc])].push_back(fx.var);
  // Kernels meet in a group through a common function that refers to shared
  // memory, or a common variable.
  Groups groups(nk);
  std::vector<int> firstUser(nv, -1);
  std::vector<int> funcUser(mod.funcs.size(), -1);
  for (size_t k = 0; k < nk; ++k)
    for (size_t f = 0; f < mod.funcs.size(); ++f) {
      if (!reaches[k][f] || refs[f].empty())
        continue;
      if (funcUser[f] >= 0)
        groups.join(uint32_t(k), uint32_t(funcUser[f]));
      funcUser[f] = int(k);
      for (int32_t v : refs[f]) {
        if (v < 0)
          continue;
        if (firstUser[size_t(v)] >= 0)
          groups.join(uint32_t(k), uint32_t(firstUser[size_t(v)]));
        firstUser[size_t(v)] = int(k);
      }
    }
  // Each group's layout: its variables in declaration order, from 0.
  std::vector<uint64_t> newOffset(nv, 0);
  std::vector<uint64_t> groupStatic(nk, 0);
  std::vector<std::vector<bool>> groupUses(nk);
  for (size_t k = 0; k < nk; ++k) {
    uint32_t g = groups.find(uint32_t(k));
    groupUses[g].resize(nv, false);
    for (size_t f = 0; f < mod.funcs.size(); ++f)
      if (reaches[k][f])
        for (int32_t v : refs[f])
          if (v >= 0)
            groupUses[g][size_t(v)] = true;
  }
  for (size_t g = 0; g < nk; ++g) {
    if (groupUses[g].empty())
      continue;
    uint64_t off = 0;
    for (size_t v = 0; v < nv; ++v) {
      if (!groupUses[g][v])
        continue;
      const auto &var = in.sharedVars[v];
      off = alignUp(off, var.align);
      newOffset[v] = in.pinned ? var.offset : off;
      off += var.size;
    }
    groupStatic[g] = in.pinned ? moduleStatic : alignUp(off, a);
  }
  // Relocate: a function takes the layout of the group of the kernels that
  // reach it (one group, by construction); unreachable code keeps the
  // module-wide layout.
  std::vector<int64_t> funcDynBase(mod.funcs.size(), int64_t(moduleStatic));
  for (size_t k = 0; k < nk; ++k) {
    uint64_t base = groupStatic[groups.find(uint32_t(k))];
    mod.funcs[mod.kernels[k]].staticShared = uint32_t(base);
    for (size_t f = 0; f < mod.funcs.size(); ++f)
      if (reaches[k][f])
        funcDynBase[f] = int64_t(base);
  }
  for (const auto &fx : in.fixups) {
    int f = funcOfPc[fx.pc];
    int64_t &imm = mod.code[fx.pc].ops[fx.operand].imm;
    bool reached = f >= 0 && funcUser[size_t(f)] >= 0;
    if (fx.var < 0)
      imm += f >= 0 ? funcDynBase[size_t(f)] : int64_t(moduleStatic);
    else if (reached)
      imm += int64_t(newOffset[size_t(fx.var)]) -
             int64_t(in.sharedVars[size_t(fx.var)].offset);
  }
  mod.staticShared = uint32_t(moduleStatic);
  return Status::success();
}

/// Local frames bottom-up, as registers: f's pieces, in the order they were
/// declared, above the largest frame among f's callees. The frames are
/// computed in an order where callees come first (frame() above has made
/// every function Done, so a depth-first walk suffices).
void Layouter::layoutLocal() {
  size_t nf = mod.funcs.size();
  std::vector<std::vector<uint32_t>> pieces(nf);
  for (size_t p = 0; p < in.localPieces.size(); ++p)
    pieces[in.localPieces[p].owner].push_back(uint32_t(p));
  std::vector<uint64_t> newOffset(in.localPieces.size(), 0);
  std::vector<bool> done(nf, false);
  std::function<void(uint32_t)> visit = [&](uint32_t f) {
    if (done[f])
      return;
    done[f] = true;
    uint64_t off = 0;
    for (uint32_t g : callees[f]) {
      visit(g);
      off = std::max<uint64_t>(off, mod.funcs[g].localFrame);
    }
    for (uint32_t p : pieces[f]) {
      const auto &piece = in.localPieces[p];
      off = (off + piece.align - 1) / piece.align * piece.align;
      newOffset[p] = off;
      off += piece.size;
    }
    mod.funcs[f].localFrame = uint32_t(off);
  };
  uint32_t maxFrame = 0;
  for (size_t f = 0; f < nf; ++f) {
    visit(uint32_t(f));
    maxFrame = std::max(maxFrame, mod.funcs[f].localFrame);
  }
  auto moved = [&](int32_t piece, uint32_t old) {
    return piece < 0 ? old : uint32_t(newOffset[size_t(piece)]);
  };
  for (const auto &fx : in.localFixups)
    mod.code[fx.pc].ops[fx.operand].imm +=
        int64_t(newOffset[size_t(fx.var)]) -
        int64_t(in.localPieces[size_t(fx.var)].offset);
  for (size_t c = 0; c < mod.calls.size() && c < in.callPieces.size(); ++c) {
    CallInfo &ci = mod.calls[c];
    const auto &cp = in.callPieces[c];
    for (size_t k = 0; k < ci.rets.size() && k < cp.rets.size(); ++k)
      ci.rets[k] = moved(cp.rets[k], ci.rets[k]);
    for (size_t k = 0; k < ci.args.size() && k < cp.args.size(); ++k)
      ci.args[k] = moved(cp.args[k], ci.args[k]);
  }
  for (const auto &[f, fp] : in.funcPieces) {
    Function &fn = mod.funcs[f];
    for (size_t k = 0; k < fn.paramOffsets.size() && k < fp.params.size(); ++k)
      fn.paramOffsets[k] = moved(fp.params[k], fn.paramOffsets[k]);
    for (size_t k = 0; k < fn.retOffsets.size() && k < fp.rets.size(); ++k)
      fn.retOffsets[k] = moved(fp.rets[k], fn.retOffsets[k]);
  }
  mod.localBytes = maxFrame;
}

Status Layouter::run() {
  size_t nf = mod.funcs.size();
  callees.assign(nf, {});
  funcOfPc.assign(mod.code.size(), -1);
  for (size_t f = 0; f < nf; ++f) {
    const Function &fn = mod.funcs[f];
    if (!hasBody(fn))
      continue;
    for (uint32_t pc = fn.begin; pc < fn.end; ++pc) {
      funcOfPc[pc] = int(f);
      const Instr &I = mod.code[pc];
      if (I.op == Op::Call && hasBody(mod.funcs[mod.calls[I.aux].callee]))
        callees[f].push_back(mod.calls[I.aux].callee);
    }
  }
  state.assign(nf, Unvisited);
  uint32_t maxFrame = 0;
  for (size_t f = 0; f < nf; ++f) {
    if (!hasBody(mod.funcs[f]))
      continue;
    Status s = frame(uint32_t(f), mod.funcs[f].line);
    if (!s)
      return s;
    maxFrame = std::max(maxFrame, mod.funcs[f].regFrame);
  }
  mod.numRegs = maxFrame;
  layoutLocal();
  return layoutShared();
}

} // namespace

Status layoutKernels(ModuleImpl &mod, const LayoutInput &in) {
  return Layouter(mod, in).run();
}

} // namespace tilus::emu::detail
