//===- Profiler.cpp - Exact counters of one launch ------------------------===//
//
// The rules are in Profiler.h; this file applies them.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Profiler.h"
#include "runtime/emu/Launch.h"

#include <algorithm>
#include <tuple>

namespace tilus::emu::exec {
namespace {

/// Whether ops[0] of \p op is a destination (else every operand is read).
bool writesFirstOperand(Op op) {
  switch (op) {
  case Op::St:
  case Op::Red:
  case Op::CpAsync:
  case Op::Stmatrix:
  case Op::WmmaStore:
  case Op::Bar:
  case Op::BarWarp:
  case Op::Bra:
  case Op::Call:
  case Op::Exit:
  case Op::Ret:
  case Op::Trap:
  case Op::Membar:
  case Op::Nop:
  case Op::CpAsyncCommit:
  case Op::CpAsyncWait:
  case Op::CpBulk:
  case Op::CpBulkTensor:
  case Op::CpBulkCommit:
  case Op::CpBulkWait:
  case Op::CpBulkPrefetch:
  case Op::Setmaxnreg:
  case Op::WgmmaFence:
  case Op::WgmmaCommit:
  case Op::WgmmaWait:
    return false;
  default:
    return true;
  }
}

/// Ops of the special-function unit (transcendentals and reciprocals).
bool isSpecialFunction(Op op) {
  switch (op) {
  case Op::Ex2:
  case Op::Lg2:
  case Op::Rcp:
  case Op::Rsqrt:
  case Op::Sqrt:
  case Op::Sin:
  case Op::Cos:
  case Op::Tanh:
    return true;
  default:
    return false;
  }
}

bool isHalf(Type t) {
  return t == Type::F16 || t == Type::F16x2 || t == Type::BF16 ||
         t == Type::BF16x2;
}

/// Adds one to the counter of \p I's class.
void countClass(Counters &c, const Instr &I) {
  switch (I.op) {
  case Op::Mma:
  case Op::WmmaMma:
  case Op::Wgmma:
    ++c.instMma;
    return;
  case Op::Ld:
  case Op::St:
  case Op::CpAsync:
  case Op::CpAsyncCommit:
  case Op::CpAsyncWait:
  case Op::Atom:
  case Op::Red:
  case Op::Ldmatrix:
  case Op::Stmatrix:
  case Op::WmmaLoad:
  case Op::WmmaStore:
  case Op::Cvta:
  case Op::CvtaTo:
  case Op::Createpolicy:
    ++c.instMemory;
    return;
  case Op::Bra:
  case Op::Ret:
  case Op::Exit:
  case Op::Call:
  case Op::Trap:
  case Op::Nop:
    ++c.instControl;
    return;
  case Op::Bar:
  case Op::Membar:
    ++c.instBarrier;
    return;
  case Op::BarWarp:
  case Op::Shfl:
  case Op::Vote:
  case Op::Redux:
  case Op::Match:
  case Op::Activemask:
    ++c.instWarp;
    return;
  case Op::Cvt:
    ++c.instConversion;
    return;
  default:
    break;
  }
  if (isSpecialFunction(I.op)) {
    // The special-function unit, unless an f64 or f16 variant.
    if (I.type == Type::F64)
      ++c.instFp64;
    else if (isHalf(I.type))
      ++c.instHalf2;
    else
      ++c.instOther;
    return;
  }
  // Arithmetic, logic, comparison and moves, by the operand type (setp and
  // set compare their source type).
  Type t = (I.op == Op::Setp || I.op == Op::Set) ? I.type2 : I.type;
  if (I.op == Op::Setp && t == Type::None)
    t = I.type;
  if (t == Type::F32)
    ++c.instFp32;
  else if (t == Type::F64)
    ++c.instFp64;
  else if (isHalf(t))
    ++c.instHalf2;
  else
    ++c.instInteger;
}

uint64_t mmaFlops(const Instr &I) {
  if (I.op == Op::WmmaMma)
    return 2ull * 16 * 16 * 16;
  // wgmma m64nNk16 or m64nNk32 as each of the warpgroup's four warps
  // executes it: its 16 rows of D.
  if (I.op == Op::Wgmma)
    return 2ull * 16 * (unsigned(I.vec) * 8) * (I.has(FK32) ? 32 : 16);
  unsigned k = I.sub == Sub::M16n8k8 ? 8 : I.sub == Sub::M16n8k16 ? 16 : 32;
  return 2ull * 16 * 8 * k;
}

/// Cycles from issue until \p I's result is ready (memory instructions:
/// set when their accesses are known, in endMemory).
double resultLatency(const Instr &I) {
  switch (I.op) {
  case Op::Mma:
  case Op::WmmaMma:
    return 32;
  case Op::Cvt:
    return 6;
  case Op::Shfl:
  case Op::Vote:
  case Op::Redux:
  case Op::Activemask:
    return 24;
  default:
    return isSpecialFunction(I.op) ? 18 : 4;
  }
}

/// Cycles the tensor cores of an SM spend on one wgmma.m64nNk16 at the
/// dense f16/bf16 rate of 4096 flops per cycle (H100: 989 TFLOPS over 132
/// SMs at 1.83 GHz): 2 x 64 x N x 16 / 4096 = N / 2, 32 for N = 64.
double wgmmaCycles(const Instr &I) { return double(I.vec) * 8 / 2; }

bool setsReadyInEndMemory(Op op) {
  return op == Op::Ld || op == Op::Ldmatrix || op == Op::WmmaLoad ||
         op == Op::Atom;
}

/// The registers of operand \p o (a register, an address's base, or a
/// vector's elements), at most 4.
unsigned operandRegs(const Operand &o, uint32_t regs[4]) {
  unsigned n = 0;
  if (o.kind == Operand::Reg || o.kind == Operand::Addr) {
    if (o.reg != kNoReg)
      regs[n++] = o.reg;
  } else if (o.kind == Operand::Vec && o.count <= 4) {
    for (unsigned k = 0; k < o.count; ++k)
      if (o.regs[k] != kNoReg)
        regs[n++] = o.regs[k];
  }
  return n;
}

} // namespace

Profiler::Profiler(const std::vector<double> &latencies)
    : gpus(unsigned(std::min<size_t>(latencies.size(), kModelGpus))) {
  for (unsigned k = 0; k < gpus; ++k)
    dramCycles[k] = latencies[k];
}

void Profiler::setReadyAt(Warp &w, uint32_t reg, unsigned gpu,
                          double cycle) {
  size_t at = size_t(reg) * gpus;
  if (w.ready.size() < at + gpus)
    w.ready.resize(at + gpus, 0);
  w.ready[at + gpu] = cycle;
}

void Profiler::setReady(Warp &w, uint32_t reg, double latency) {
  size_t at = size_t(reg) * gpus;
  if (w.ready.size() < at + gpus)
    w.ready.resize(at + gpus, 0);
  for (unsigned k = 0; k < gpus; ++k)
    w.ready[at + k] = w.clock[k] + (latency < 0 ? dramCycles[k] : latency);
}

void Profiler::instruction(const detail::ModuleImpl &mod, const Instr &I,
                           uint32_t mask, Warp &w) {
  countClass(c, I);
  c.activeLanes += uint32_t(__builtin_popcount(mask));
  line = nullptr;
  if (I.srcLine) {
    auto [it, fresh] =
        lines.try_emplace(uint64_t(I.srcFile) << 32 | I.srcLine);
    if (fresh) {
      it->second.file =
          I.srcFile < mod.files.size() ? mod.files[I.srcFile] : std::string();
      it->second.line = I.srcLine;
    }
    line = &it->second;
    ++line->instructions;
  }
  if ((I.op == Op::Mma || I.op == Op::WmmaMma || I.op == Op::Wgmma) && mask)
    c.mmaFlops += mmaFlops(I);

  // The sample counts the bytes this instruction waits for as still in
  // flight; then loaded values are consumed when read, and dropped when
  // overwritten.
  inflightSum += double(w.inflight);
  ++samples;
  c.inflightMaxBytes = std::max<uint64_t>(c.inflightMaxBytes, w.inflight);

  // The critical path: issue a cycle after the previous instruction, once
  // the operands read are ready.
  {
    std::array<double, kModelGpus> t;
    for (unsigned k = 0; k < gpus; ++k)
      t[k] = w.clock[k] + 1;
    auto need = [&](uint32_t reg) {
      size_t at = size_t(reg) * gpus;
      if (at + gpus <= w.ready.size())
        for (unsigned k = 0; k < gpus; ++k)
          t[k] = std::max(t[k], w.ready[at + k]);
    };
    if (I.guard != kNoReg)
      need(I.guard);
    bool firstIsDest = writesFirstOperand(I.op);
    uint32_t regs[4];
    for (unsigned i = firstIsDest ? 1 : 0; i < I.nops; ++i)
      for (unsigned n = operandRegs(I.ops[i], regs), k = 0; k < n; ++k)
        need(regs[k]);
    if (I.op == Op::CpAsyncCommit || (I.op == Op::CpAsyncWait && I.nops == 0)) {
      w.groupReady.push_back(w.openGroup);
      w.openGroup = {};
    }
    if (I.op == Op::CpAsyncWait) {
      size_t keep = I.nops == 0 ? 0 : size_t(I.ops[0].imm);
      while (w.groupReady.size() > keep) {
        for (unsigned k = 0; k < gpus; ++k)
          t[k] = std::max(t[k], w.groupReady.front()[k]);
        w.groupReady.pop_front();
      }
    }
    if (I.op == Op::WgmmaCommit) {
      w.wgmmaGroupReady.push_back(w.wgmmaOpenGroup);
      w.wgmmaOpenGroup = {};
    }
    if (I.op == Op::WgmmaWait && I.nops == 1) {
      size_t keep = size_t(I.ops[0].imm);
      while (w.wgmmaGroupReady.size() > keep) {
        for (unsigned k = 0; k < gpus; ++k)
          t[k] = std::max(t[k], w.wgmmaGroupReady.front()[k]);
        w.wgmmaGroupReady.pop_front();
      }
    }
    if (line && gpus)
      line->pathCycles += t[0] - w.clock[0];
    w.lastLine = line;
    w.clock = t;
    if (I.op == Op::Wgmma && mask) {
      // The tensor cores run a warpgroup's wgmmas one after another, each
      // for its share of the SM's dense tensor rate; its accumulators are
      // ready, and its group complete, when it ends.
      std::array<double, kModelGpus> done{};
      for (unsigned k = 0; k < gpus; ++k) {
        done[k] = std::max(t[k], w.wgmmaBusy[k]) + wgmmaCycles(I);
        w.wgmmaBusy[k] = done[k];
        w.wgmmaOpenGroup[k] = std::max(w.wgmmaOpenGroup[k], done[k]);
      }
      const Operand &d = I.ops[0];
      std::vector<uint32_t> dest;
      if (d.kind == Operand::Vec && d.count > 4 &&
          size_t(d.imm) < mod.wideVecs.size())
        dest = mod.wideVecs[size_t(d.imm)];
      else
        dest.assign(regs, regs + operandRegs(d, regs));
      for (uint32_t reg : dest)
        if (reg != kNoReg)
          for (unsigned k = 0; k < gpus; ++k)
            setReadyAt(w, reg, k, done[k]);
    } else if (firstIsDest && I.nops && !setsReadyInEndMemory(I.op)) {
      for (unsigned n = operandRegs(I.ops[0], regs), k = 0; k < n; ++k)
        setReady(w, regs[k], resultLatency(I));
    }
  }
  if (w.inflight) {
    if (w.pendingBytes.size() < mod.numRegs)
      w.pendingBytes.resize(mod.numRegs, 0);
    auto consume = [&](uint32_t reg) {
      if (reg < w.pendingBytes.size() && w.pendingBytes[reg]) {
        w.inflight -= std::min<uint64_t>(w.inflight, w.pendingBytes[reg]);
        w.pendingBytes[reg] = 0;
      }
    };
    if (I.guard != kNoReg)
      consume(I.guard);
    bool isLoad = I.op == Op::Ld;
    for (unsigned i = 0; i < I.nops; ++i) {
      const Operand &o = I.ops[i];
      bool dest = i == 0 && writesFirstOperand(I.op);
      if (dest && isLoad)
        continue; // the load itself sets these below
      if (o.kind == Operand::Reg || o.kind == Operand::Addr)
        consume(o.reg);
      else if (o.kind == Operand::Vec && o.count <= 4)
        for (unsigned k = 0; k < o.count; ++k)
          if (!(o.immMask >> k & 1))
            consume(o.regs[k]);
    }
  }
}

void Profiler::sharedRequest(SharedKind kind, unsigned phaseLanes) {
  // Wavefronts of each phase: the most distinct words one bank is asked for.
  unsigned wavefronts = 0, phases = 0;
  for (unsigned first = 0; first < 32; first += phaseLanes) {
    // A phase asks for at most 32 words (32 lanes of 4 bytes, 16 of 8 or 8
    // of 16), so no bank sees more than 32 distinct ones.
    uint64_t words[32][32];
    unsigned count[32] = {};
    bool any = false;
    for (const Access &a : pending) {
      if (!a.shared || a.lane < first || a.lane >= first + phaseLanes)
        continue;
      any = true;
      for (uint64_t word = a.addr / 4; word <= (a.addr + a.size - 1) / 4;
           ++word) {
        unsigned bank = unsigned(word % 32);
        bool seen = false;
        for (unsigned k = 0; k < count[bank]; ++k)
          seen |= words[bank][k] == word;
        if (!seen && count[bank] < 32)
          words[bank][count[bank]++] = word;
      }
    }
    if (!any)
      continue;
    ++phases;
    wavefronts += std::max(1u, *std::max_element(count, count + 32));
  }
  if (!phases)
    return;
  if (line) {
    line->sharedWavefronts += wavefronts;
    line->sharedConflicts += wavefronts - phases;
  }
  if (kind == SharedKind::CpAsync) {
    c.sharedLdgstsWavefronts += wavefronts;
    c.sharedLdgstsConflicts += wavefronts - phases;
  } else if (kind == SharedKind::Store) {
    ++c.sharedStRequests;
    c.sharedStWavefronts += wavefronts;
    c.sharedStConflicts += wavefronts - phases;
  } else {
    ++c.sharedLdRequests;
    c.sharedLdWavefronts += wavefronts;
    c.sharedLdConflicts += wavefronts - phases;
  }
}

void Profiler::endMemory(const Instr &I, Warp &w) {
  if (pending.empty())
    return;
  // Global: the distinct sectors of this instruction, reads and writes.
  uint64_t sectorList[256];
  unsigned nsectors = 0;
  uint64_t bytes = 0;
  bool anyGlobal = false, anyShared = false, sharedWrite = false;
  unsigned maxShared = 0;
  for (const Access &a : pending) {
    if (a.shared) {
      anyShared = true;
      sharedWrite |= a.write;
      maxShared = std::max<unsigned>(maxShared, a.size);
      continue;
    }
    anyGlobal = true;
    bytes += a.size;
    for (uint64_t s = a.addr / 32; s <= (a.addr + a.size - 1) / 32; ++s) {
      bool seen = false;
      for (unsigned k = 0; k < nsectors; ++k)
        seen |= sectorList[k] == s;
      if (!seen && nsectors < 256)
        sectorList[nsectors++] = s;
      auto [it, fresh] = sectors.try_emplace(s);
      SectorState &st = it->second;
      if (fresh)
        st.cta = cta;
      else if (st.cta != cta)
        st.shared = true;
      if (a.write)
        st.state |= 2;
      else if (!st.state)
        st.state = 1;
    }
  }
  if (anyGlobal) {
    if (line)
      line->globalSectors += nsectors;
    bool isAtom = I.op == Op::Atom || I.op == Op::Red;
    if (I.op == Op::CpAsync) {
      ++c.ldgstsRequests;
      c.ldgstsSectors += nsectors;
      ++c.globalLdRequests;
      c.globalLdSectors += nsectors;
      for (unsigned k = 0; k < gpus; ++k)
        w.openGroup[k] = std::max(w.openGroup[k], w.clock[k] + dramCycles[k]);
    } else if (isAtom) {
      ++c.atomRequests;
      c.atomSectors += nsectors;
    } else if (I.op == Op::St || I.op == Op::WmmaStore) {
      ++c.globalStRequests;
      c.globalStSectors += nsectors;
    } else {
      ++c.globalLdRequests;
      c.globalLdSectors += nsectors;
    }
    if (I.op == Op::CpAsync || I.op == Op::Ld || I.op == Op::WmmaLoad) {
      c.globalLdBytes += bytes;
      w.inflight += bytes;
      // A load's bytes wait in its destination registers.
      if (I.op == Op::Ld) {
        const Operand &d = I.ops[0];
        uint32_t regs[4];
        unsigned n = 0;
        if (d.kind == Operand::Reg)
          regs[n++] = d.reg;
        else if (d.kind == Operand::Vec && d.count <= 4)
          for (unsigned k = 0; k < d.count; ++k)
            if (d.regs[k] != kNoReg)
              regs[n++] = d.regs[k];
        if (n) {
          for (unsigned k = 0; k < n; ++k) {
            if (regs[k] >= w.pendingBytes.size())
              w.pendingBytes.resize(regs[k] + 1, 0);
            w.pendingBytes[regs[k]] += uint32_t(bytes / n);
          }
        } else {
          w.inflight -= bytes;
        }
      }
    }
  }
  if (anyShared) {
    // ldmatrix/stmatrix: one phase per 8x8 matrix (8 lanes of 16 bytes).
    unsigned phaseLanes = maxShared <= 4 ? 32 : maxShared <= 8 ? 16 : 8;
    sharedRequest(I.op == Op::CpAsync ? SharedKind::CpAsync
                  : sharedWrite       ? SharedKind::Store
                                      : SharedKind::Load,
                  phaseLanes);
  }
  // The loaded registers are ready a shared-memory or a DRAM latency on.
  if (setsReadyInEndMemory(I.op) && I.nops) {
    uint32_t regs[4];
    for (unsigned n = operandRegs(I.ops[0], regs), k = 0; k < n; ++k)
      setReady(w, regs[k], anyGlobal ? -1.0 : 30.0);
  }
  pending.clear();
}

void Profiler::barrierReleased(std::vector<Warp> &warps, uint32_t id) {
  std::array<double, kModelGpus> last{};
  for (const Warp &w : warps)
    if (!w.done && w.blocked && w.barId == id)
      for (unsigned k = 0; k < gpus; ++k)
        last[k] = std::max(last[k], w.clock[k]);
  for (Warp &w : warps)
    if (!w.done && w.blocked && w.barId == id) {
      if (w.lastLine && gpus)
        w.lastLine->pathCycles += last[0] - w.clock[0];
      w.clock = last;
    }
}

void Profiler::endBulk(const Instr &I, Warp &w, uint64_t mbar) {
  // Only the DRAM sector map sees the copy's global reads; its shared writes
  // are the copy unit's, not LSU wavefronts.
  for (const Access &a : pending) {
    if (a.shared)
      continue;
    for (uint64_t s = a.addr / 32; s <= (a.addr + a.size - 1) / 32; ++s) {
      auto [it, fresh] = sectors.try_emplace(s);
      SectorState &st = it->second;
      if (fresh)
        st.cta = cta;
      else if (st.cta != cta)
        st.shared = true;
      if (!st.state)
        st.state = 1;
    }
  }
  pending.clear();
  (void)I;
  auto &landed = bulkLanded[bulkKey(mbar)];
  for (unsigned k = 0; k < gpus; ++k)
    landed[k] = std::max(landed[k], w.clock[k] + dramCycles[k]);
}

void Profiler::mbarrierWaited(const Instr &I, Warp &w, uint64_t mbar) {
  auto it = bulkLanded.find(bulkKey(mbar));
  if (it == bulkLanded.end() || !I.nops)
    return;
  uint32_t regs[4];
  for (unsigned n = operandRegs(I.ops[0], regs), r = 0; r < n; ++r)
    for (unsigned k = 0; k < gpus; ++k) {
      size_t at = size_t(regs[r]) * gpus + k;
      double now = at < w.ready.size() ? w.ready[at] : 0.0;
      setReadyAt(w, regs[r], k, std::max(now, it->second[k]));
    }
}

void Profiler::ctaDone(std::vector<Warp> &warps) {
  for (auto it = bulkLanded.begin(); it != bulkLanded.end();)
    it = (it->first >> 24) == ctaLinear ? bulkLanded.erase(it) : std::next(it);
  std::array<double, kModelGpus> slowest{};
  for (Warp &w : warps) {
    for (unsigned k = 0; k < gpus; ++k)
      slowest[k] = std::max(slowest[k], w.clock[k]);
    w.clock = {};
    w.openGroup = {};
    w.groupReady.clear();
    w.wgmmaBusy = {};
    w.wgmmaOpenGroup = {};
    w.wgmmaGroupReady.clear();
    std::fill(w.ready.begin(), w.ready.end(), 0.0);
    std::fill(w.pendingBytes.begin(), w.pendingBytes.end(), 0u);
    w.inflight = 0;
    w.lastLine = nullptr;
  }
  for (unsigned k = 0; k < gpus; ++k) {
    pathSum[k] += slowest[k];
    pathMax[k] = std::max(pathMax[k], slowest[k]);
  }
  ++ctas;
}

void Profiler::landed(Warp &w, uint64_t bytes) {
  w.inflight -= std::min<uint64_t>(w.inflight, bytes);
}

Counters Profiler::counters() const {
  Counters out = c;
  // Sampled: a sector one CTA touched stands for its share of every CTA's;
  // one that several touched is read once by all of them.
  double read = 0, written = 0;
  for (auto &[sector, st] : sectors) {
    double weight = st.shared ? 1 : scale;
    if (st.state & 1)
      read += 32 * weight;
    if (st.state & 2)
      written += 32 * weight;
  }
  out.dramReadBytes = uint64_t(read + 0.5);
  out.dramWriteBytes = uint64_t(written + 0.5);
  if (scale != 1) {
    out.sampledCtas = ctas;
    for (uint64_t *v :
         {&out.globalLdRequests, &out.globalLdSectors, &out.globalStRequests,
          &out.globalStSectors, &out.ldgstsRequests, &out.ldgstsSectors,
          &out.atomRequests, &out.atomSectors, &out.globalLdBytes,
          &out.sharedLdRequests, &out.sharedLdWavefronts,
          &out.sharedLdConflicts, &out.sharedStRequests,
          &out.sharedStWavefronts, &out.sharedStConflicts,
          &out.sharedLdgstsWavefronts, &out.sharedLdgstsConflicts,
          &out.instInteger, &out.instFp32, &out.instFp64, &out.instHalf2,
          &out.instConversion, &out.instMma, &out.instMemory,
          &out.instControl, &out.instBarrier, &out.instWarp, &out.instOther,
          &out.mmaFlops, &out.activeLanes})
      *v = uint64_t(double(*v) * scale + 0.5);
  }
  out.inflightAvgBytes = samples ? inflightSum / double(samples) : 0;
  for (auto &[key, counts] : lines) {
    LineCounters l = counts;
    for (uint64_t *v : {&l.instructions, &l.globalSectors,
                        &l.sharedWavefronts, &l.sharedConflicts})
      *v = uint64_t(double(*v) * scale + 0.5);
    l.pathCycles *= scale;
    out.lines.push_back(std::move(l));
  }
  std::sort(out.lines.begin(), out.lines.end(),
            [](const LineCounters &a, const LineCounters &b) {
              return a.instructions != b.instructions
                         ? a.instructions > b.instructions
                         : std::tie(a.file, a.line) < std::tie(b.file, b.line);
            });
  if (ctas)
    for (unsigned k = 0; k < gpus; ++k) {
      out.ctaCyclesAvg.push_back(pathSum[k] / double(ctas));
      out.ctaCyclesMax.push_back(pathMax[k]);
    }
  return out;
}

} // namespace tilus::emu::exec
