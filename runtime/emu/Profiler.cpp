//===- Profiler.cpp - Exact counters of one launch ------------------------===//
//
// The rules are in Profiler.h; this file applies them.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Profiler.h"
#include "runtime/emu/Launch.h"

#include <algorithm>

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
    return false;
  default:
    return true;
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
  case Op::Ex2:
  case Op::Lg2:
  case Op::Rcp:
  case Op::Rsqrt:
  case Op::Sqrt:
  case Op::Sin:
  case Op::Cos:
  case Op::Tanh:
    // The special-function unit, unless an f64 or f16 variant.
    if (I.type == Type::F64)
      ++c.instFp64;
    else if (isHalf(I.type))
      ++c.instHalf2;
    else
      ++c.instOther;
    return;
  default:
    break;
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
  unsigned k = I.sub == Sub::M16n8k8 ? 8 : I.sub == Sub::M16n8k16 ? 16 : 32;
  return 2ull * 16 * 8 * k;
}

} // namespace

void Profiler::instruction(const detail::ModuleImpl &mod, const Instr &I,
                           uint32_t mask, Warp &w) {
  countClass(c, I);
  c.activeLanes += uint32_t(__builtin_popcount(mask));
  if ((I.op == Op::Mma || I.op == Op::WmmaMma) && mask)
    c.mmaFlops += mmaFlops(I);

  // The sample counts the bytes this instruction waits for as still in
  // flight; then loaded values are consumed when read, and dropped when
  // overwritten.
  inflightSum += double(w.inflight);
  ++samples;
  c.inflightMaxBytes = std::max<uint64_t>(c.inflightMaxBytes, w.inflight);
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
          consume(o.regs[k]);
    }
  }
}

void Profiler::sharedRequest(bool store, unsigned phaseLanes) {
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
  if (store) {
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
      uint8_t &state = sectors[s];
      if (a.write)
        state |= 2;
      else if (!state)
        state = 1;
    }
  }
  if (anyGlobal) {
    bool isAtom = I.op == Op::Atom || I.op == Op::Red;
    if (I.op == Op::CpAsync) {
      ++c.ldgstsRequests;
      c.ldgstsSectors += nsectors;
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
    sharedRequest(sharedWrite, phaseLanes);
  }
  pending.clear();
}

void Profiler::landed(Warp &w, uint64_t bytes) {
  w.inflight -= std::min<uint64_t>(w.inflight, bytes);
}

Counters Profiler::counters() const {
  Counters out = c;
  for (auto &[sector, state] : sectors) {
    if (state & 1)
      out.dramReadBytes += 32;
    if (state & 2)
      out.dramWriteBytes += 32;
  }
  out.inflightAvgBytes = samples ? inflightSum / double(samples) : 0;
  return out;
}

} // namespace tilus::emu::exec
