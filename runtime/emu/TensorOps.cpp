//===- TensorOps.cpp - Matrix instructions --------------------------------===//
//
// ldmatrix, stmatrix, wmma (load, store, mma) and mma.sync: whole-warp
// instructions whose operands are fragments of a matrix spread over the
// lanes' registers. Products are summed exactly in double (f16/bf16) or in
// 64-bit integers (s8/u8) and rounded once into the result type.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Decode.h"
#include "runtime/emu/Launch.h"

#include <algorithm>
#include <climits>
#include <cstring>

namespace tilus::emu::exec {
namespace {

/// Register slot \p r of a fragment operand; vectors of more than four
/// registers are kept in ModuleImpl::wideVecs.
uint32_t fragReg(const detail::ModuleImpl &mod, const Operand &o, unsigned r) {
  return o.count > 4 ? mod.wideVecs[size_t(o.imm)][r] : o.regs[r];
}

} // namespace

bool Launch::execLdmatrix(Warp &w, const Instr &I) {
  unsigned num = I.vec;
  uint64_t rowAddr[32];
  for (unsigned r = 0; r < 8 * num; ++r) {
    rowAddr[r] = addrOf(w, I.ops[1], int(r));
    uint8_t tmp[16];
    if (!load(Space::Shared, rowAddr[r], 16, tmp, I, w, int(r)))
      return false;
  }
  auto half = [&](unsigned m, unsigned row, unsigned col) {
    uint16_t v;
    bool sh;
    uint32_t off;
    uint8_t *p = resolve(Space::Shared, rowAddr[m * 8 + row], 16, false, I, w,
                         int(m * 8 + row), sh, off);
    std::memcpy(&v, p + 2 * col, 2);
    return uint32_t(v);
  };
  const Operand &d = I.ops[0];
  for (unsigned m = 0; m < num; ++m) {
    uint64_t *out =
        d.regs[m] == kNoReg ? scratch : w.regs + size_t(d.regs[m]) * 32;
    for (int l = 0; l < 32; ++l) {
      unsigned g = unsigned(l) >> 2, t = unsigned(l) & 3;
      uint32_t lo, hi;
      if (I.has(FTrans)) {
        lo = half(m, 2 * t, g);
        hi = half(m, 2 * t + 1, g);
      } else {
        lo = half(m, g, 2 * t);
        hi = half(m, g, 2 * t + 1);
      }
      out[l] = lo | (hi << 16);
    }
  }
  return true;
}

bool Launch::execStmatrix(Warp &w, const Instr &I) {
  // The inverse of ldmatrix: lanes 8m..8m+7 give the row addresses of
  // matrix m, and each lane's register m holds two of its elements.
  unsigned num = I.vec;
  const Operand &v = I.ops[1];
  for (unsigned m = 0; m < num; ++m) {
    for (unsigned row = 0; row < 8; ++row) {
      uint64_t ra = addrOf(w, I.ops[0], int(m * 8 + row));
      uint16_t data[8];
      for (unsigned col = 0; col < 8; ++col) {
        unsigned r = I.has(FTrans) ? col : row, c = I.has(FTrans) ? row : col;
        unsigned lane = r * 4 + c / 2;
        uint64_t x =
            v.regs[m] == kNoReg ? 0 : w.regs[size_t(v.regs[m]) * 32 + lane];
        data[col] = uint16_t(x >> (16 * (c % 2)));
      }
      if (!store(Space::Shared, ra, 16, data, I, w, int(m * 8 + row)))
        return false;
    }
  }
  return true;
}

/// wmma.m16n16k16 fragments (their layout is unspecified by the ISA; this
/// is the emulator's choice): element e of a lane's fragment, counted in
/// register order with the low half of a register first, is element
/// idx = 8 * lane + e % 8 of the matrix in row-major order (row idx / 16,
/// column idx % 16). A and B fragments have 16 elements: 8 to 15 repeat 0
/// to 7. Loads write both copies; mma reads the first.
bool Launch::execWmma(Warp &w, const Instr &I) {
  if (I.op == Op::WmmaMma)
    return execWmmaMma(w, I);
  auto regOf = [&](const Operand &o, unsigned r) { return fragReg(mod, o, r); };
  bool load = I.op == Op::WmmaLoad;
  const Operand &frag = I.ops[load ? 0 : 1], &addr = I.ops[load ? 1 : 0];
  bool f16 = I.type == Type::F16;
  unsigned esize = f16 ? 2 : 4;
  uint64_t ts[32];
  const uint64_t *stride = I.nops == 3 ? src(w, I.ops[2], ts) : nullptr;
  unsigned elems = I.sub == Sub::WmmaC ? 8 : 16;
  for (int l = 0; l < 32; ++l) {
    uint64_t base = addrOf(w, addr, l);
    uint64_t ld = stride ? uint32_t(stride[l]) : 16;
    for (unsigned e = 0; e < elems; ++e) {
      unsigned idx = 8 * unsigned(l) + e % 8, row = idx / 16, col = idx % 16;
      uint64_t off = I.has(FTrans) ? col * ld + row : row * ld + col;
      uint64_t a = base + off * esize;
      unsigned r = f16 ? e / 2 : e, shift = f16 ? 16 * (e % 2) : 0;
      if (regOf(frag, r) == kNoReg)
        continue;
      uint64_t &reg = w.regs[size_t(regOf(frag, r)) * 32 + l];
      uint64_t mask = f16 ? 0xffffull << shift : 0xffffffffull;
      if (load) {
        uint32_t v = 0;
        if (!this->load(I.space, a, esize, &v, I, w, l))
          return false;
        reg = (reg & ~mask & 0xffffffffull) | (uint64_t(v) << shift);
      } else {
        uint32_t v = uint32_t((reg & mask) >> shift);
        if (!store(I.space, a, esize, &v, I, w, l))
          return false;
      }
    }
  }
  return true;
}

bool Launch::execWmmaMma(Warp &w, const Instr &I) {
  auto regOf = [&](const Operand &o, unsigned r) { return fragReg(mod, o, r); };
  auto fragElem = [&](const Operand &o, bool f16, unsigned e, int l) {
    unsigned r = f16 ? e / 2 : e;
    uint32_t slot = regOf(o, r);
    uint64_t x = slot == kNoReg ? 0 : w.regs[size_t(slot) * 32 + l];
    if (!f16)
      return double(bitsToF32(uint32_t(x)));
    return decodeFloat((x >> (16 * (e % 2))) & 0xffff, kF16);
  };
  double A[16][16], B[16][16], C[16][16];
  const Operand &od = I.ops[0], &oa = I.ops[1], &ob = I.ops[2], &oc = I.ops[3];
  bool cf16 = I.type2 == Type::F16;
  for (int l = 0; l < 32; ++l)
    for (unsigned e = 0; e < 8; ++e) {
      unsigned idx = 8 * unsigned(l) + e;
      A[idx / 16][idx % 16] = fragElem(oa, true, e, l);
      B[idx / 16][idx % 16] = fragElem(ob, true, e, l);
      C[idx / 16][idx % 16] = fragElem(oc, cf16, e, l);
    }
  bool df16 = I.type == Type::F16;
  uint64_t out[8][32] = {};
  for (int l = 0; l < 32; ++l)
    for (unsigned e = 0; e < 8; ++e) {
      unsigned idx = 8 * unsigned(l) + e, m = idx / 16, n = idx % 16;
      double acc = 0;
      for (unsigned k = 0; k < 16; ++k)
        acc += A[m][k] * B[k][n];
      acc += C[m][n];
      if (df16)
        out[e / 2][l] |= roundF64To(acc, kF16, Rnd::Rn, false)
                         << (16 * (e % 2));
      else
        out[e][l] = canonF32(float(acc));
    }
  for (unsigned r = 0; r < od.count; ++r)
    if (regOf(od, r) != kNoReg)
      std::memcpy(w.regs + size_t(regOf(od, r)) * 32, out[r], sizeof(out[r]));
  return true;
}

bool Launch::execMma(Warp &w, const Instr &I) {
  bool isInt = I.type2 == Type::S8 || I.type2 == Type::U8;
  unsigned K = I.sub == Sub::M16n8k8 ? 8 : I.sub == Sub::M16n8k16 ? 16 : 32;
  double A[16][32], B[32][8], C[16][8];
  int64_t Ai[16][32], Bi[32][8], Ci[16][8];
  const Operand &od = I.ops[0], &oa = I.ops[1], &ob = I.ops[2], &oc = I.ops[3];
  auto reg = [&](const Operand &o, unsigned k, int l) -> uint32_t {
    if (k >= o.count || o.regs[k] == kNoReg)
      return 0;
    return uint32_t(w.regs[size_t(o.regs[k]) * 32 + l]);
  };
  FloatFormat inFmt = I.type2 == Type::BF16 ? kBF16 : kF16;
  unsigned aElems = isInt ? (K == 16 ? 8 : 16) : (K == 8 ? 4 : 8);
  unsigned bElems = isInt ? (K == 16 ? 4 : 8) : (K == 8 ? 2 : 4);
  unsigned perReg = isInt ? 4 : 2;
  for (int l = 0; l < 32; ++l) {
    unsigned g = unsigned(l) >> 2, t = unsigned(l) & 3;
    for (unsigned i = 0; i < aElems; ++i) {
      unsigned row, col;
      if (!isInt) {
        row = g + 8 * ((i >> 1) & 1);
        col = t * 2 + (i & 1) + 8 * (i >> 2);
      } else {
        row = g + 8 * ((i >> 2) & 1);
        col = t * 4 + (i & 3) + 16 * (i >> 3);
      }
      uint32_t r = reg(oa, i / perReg, l);
      uint32_t e =
          isInt ? (r >> (8 * (i % 4))) & 0xff : (r >> (16 * (i % 2))) & 0xffff;
      if (isInt)
        Ai[row][col] = I.type2 == Type::S8 ? int64_t(int8_t(e)) : int64_t(e);
      else
        A[row][col] = decodeFloat(e, inFmt);
    }
    for (unsigned i = 0; i < bElems; ++i) {
      unsigned k;
      if (!isInt)
        k = t * 2 + (i & 1) + 8 * (i >> 1);
      else
        k = t * 4 + (i & 3) + 16 * (i >> 2);
      uint32_t r = reg(ob, i / perReg, l);
      uint32_t e =
          isInt ? (r >> (8 * (i % 4))) & 0xff : (r >> (16 * (i % 2))) & 0xffff;
      if (isInt)
        Bi[k][g] = I.type3 == Type::S8 ? int64_t(int8_t(e)) : int64_t(e);
      else
        B[k][g] = decodeFloat(e, inFmt);
    }
    for (unsigned i = 0; i < 4; ++i) {
      unsigned row = g + 8 * (i >> 1), col = t * 2 + (i & 1);
      if (I.type4 == Type::F16) {
        uint32_t r = reg(oc, i / 2, l);
        C[row][col] = decodeFloat((r >> (16 * (i % 2))) & 0xffff, kF16);
      } else if (isInt) {
        Ci[row][col] = int32_t(reg(oc, i, l));
      } else {
        C[row][col] = bitsToF32(reg(oc, i, l));
      }
    }
  }
  uint32_t out[32][4] = {};
  for (int l = 0; l < 32; ++l) {
    unsigned g = unsigned(l) >> 2, t = unsigned(l) & 3;
    for (unsigned i = 0; i < 4; ++i) {
      unsigned row = g + 8 * (i >> 1), col = t * 2 + (i & 1);
      if (isInt) {
        int64_t s = Ci[row][col];
        for (unsigned k = 0; k < K; ++k)
          s += Ai[row][k] * Bi[k][col];
        if (I.has(FSatFinite))
          s = std::clamp<int64_t>(s, INT32_MIN, INT32_MAX);
        out[l][i] = uint32_t(s);
      } else {
        double s = 0;
        for (unsigned k = 0; k < K; ++k)
          s += A[row][k] * B[k][col];
        s += C[row][col];
        if (I.type == Type::F16) {
          uint32_t h = uint32_t(roundF64To(s, kF16, Rnd::Rn, false));
          out[l][i / 2] |= h << (16 * (i % 2));
        } else {
          out[l][i] = canonF32(float(s));
        }
      }
    }
  }
  unsigned nd = I.type == Type::F16 ? 2 : 4;
  for (unsigned i = 0; i < nd && i < od.count; ++i) {
    if (od.regs[i] == kNoReg)
      continue;
    uint64_t *d = w.regs + size_t(od.regs[i]) * 32;
    for (int l = 0; l < 32; ++l)
      d[l] = out[l][i];
  }
  return true;
}

} // namespace tilus::emu::exec

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

namespace tilus::emu::decode {
namespace {

bool tensorModifier(Decoding &d, std::string_view m) {
  Instr &ins = d.ins;
  if (ins.op == Op::Mma &&
      (m == "m16n8k16" || m == "m16n8k8" || m == "m16n8k32")) {
    ins.sub = m == "m16n8k16"  ? Sub::M16n8k16
              : m == "m16n8k8" ? Sub::M16n8k8
                               : Sub::M16n8k32;
  } else if (ins.op == Op::Mma && (m == "row" || m == "col")) {
    // Checked below: only .row.col exists for these shapes.
  } else if ((ins.op == Op::Ldmatrix || ins.op == Op::Stmatrix) &&
             m == "m8n8") {
  } else if (isWmma(ins.op) && (m == "load" || m == "store" || m == "mma")) {
    ins.op = m == "load"    ? Op::WmmaLoad
             : m == "store" ? Op::WmmaStore
                            : Op::WmmaMma;
  } else if (isWmma(ins.op) && (m == "a" || m == "b" || m == "c" || m == "d")) {
    ins.sub = m == "a" ? Sub::WmmaA : m == "b" ? Sub::WmmaB : Sub::WmmaC;
  } else if (isWmma(ins.op) && (m == "row" || m == "col")) {
    // Fragments hold logical coordinates: only load/store see the layout.
    if (m == "col" && ins.op != Op::WmmaMma)
      ins.flags |= FTrans;
  } else if (isWmma(ins.op) && m == "m16n16k16") {
  } else {
    return false;
  }
  return true;
}

Status checkTensor(Decoding &d) {
  Instr &ins = d.ins;
  Type t0 = d.type(0), t1 = d.type(1);
  Status st;
  switch (ins.op) {
  case Op::Mma: {
    st = d.need(d.types.size() == 4 && ins.sub != Sub::None,
                "expected a shape and four types");
    if (!st)
      return st;
    ins.type2 = d.types[1];
    ins.type3 = d.types[2];
    ins.type4 = d.types[3];
    bool f16in = (d.types[1] == Type::F16 && d.types[2] == Type::F16) ||
                 (d.types[1] == Type::BF16 && d.types[2] == Type::BF16);
    bool i8in = (d.types[1] == Type::S8 || d.types[1] == Type::U8) &&
                (d.types[2] == Type::S8 || d.types[2] == Type::U8);
    bool ok = false;
    if (ins.sub == Sub::M16n8k16 && f16in)
      ok = (t0 == Type::F32 && d.types[3] == Type::F32) ||
           (d.types[1] == Type::F16 && t0 == Type::F16 &&
            d.types[3] == Type::F16);
    if (ins.sub == Sub::M16n8k8 && d.types[1] == Type::F16 &&
        d.types[2] == Type::F16)
      ok = (t0 == Type::F32 && d.types[3] == Type::F32) ||
           (t0 == Type::F16 && d.types[3] == Type::F16);
    if ((ins.sub == Sub::M16n8k16 || ins.sub == Sub::M16n8k32) && i8in)
      ok = t0 == Type::S32 && d.types[3] == Type::S32;
    st = d.need(ok, "shape/type combination");
    if (!st)
      return st;
    for (int i = 0; i < 4; ++i)
      if (ins.ops[i].kind != Operand::Vec)
        return d.need(false, "mma operands must be register vectors");
    return Status::success();
  }
  case Op::Stmatrix:
    return d.need(t0 == Type::B16 && ins.space == Space::Shared &&
                      ins.ops[1].kind == Operand::Vec &&
                      ins.ops[1].count == ins.vec &&
                      ins.ops[0].kind == Operand::Addr,
                  ".m8n8 .x1/.x2/.x4 .shared .b16 with a matching vector");
  case Op::WmmaLoad:
  case Op::WmmaStore: {
    bool load = ins.op == Op::WmmaLoad;
    const Operand &frag = ins.ops[load ? 0 : 1], &addr = ins.ops[load ? 1 : 0];
    unsigned want = ins.sub == Sub::WmmaC && t0 == Type::F16 ? 4 : 8;
    st = d.need(d.types.size() == 1 && ins.sub != Sub::None &&
                    (load || ins.sub == Sub::WmmaC) &&
                    (ins.sub == Sub::WmmaC ? t0 == Type::F16 || t0 == Type::F32
                                           : t0 == Type::F16),
                "m16n16k16 .a/.b .f16 or .c/.d .f16/.f32");
    if (!st)
      return st;
    st = d.need(frag.kind == Operand::Vec && frag.count == want &&
                    addr.kind == Operand::Addr && ins.nops <= 3 &&
                    (ins.nops < 3 || ins.ops[2].kind == Operand::Reg ||
                     ins.ops[2].kind == Operand::Imm),
                "a fragment of " + std::to_string(want) +
                    " registers, an [address] and an optional stride");
    if (!st)
      return st;
    return d.need(ins.space == Space::Generic || ins.space == Space::Global ||
                      ins.space == Space::Shared,
                  "global, shared or generic memory");
  }
  case Op::WmmaMma: {
    auto isF = [](Type t) { return t == Type::F16 || t == Type::F32; };
    st = d.need(d.types.size() == 2 && isF(t0) && isF(t1) && ins.nops == 4,
                "m16n16k16 f16 inputs with .f16/.f32 d and c types");
    if (!st)
      return st;
    ins.type2 = t1;
    unsigned counts[4] = {t0 == Type::F16 ? 4u : 8u, 8, 8,
                          t1 == Type::F16 ? 4u : 8u};
    for (int i = 0; i < 4; ++i)
      if (ins.ops[i].kind != Operand::Vec || ins.ops[i].count != counts[i])
        return d.need(false, "operand " + std::to_string(i) +
                                 " must be a vector of " +
                                 std::to_string(counts[i]) + " registers");
    return Status::success();
  }
  case Op::Ldmatrix:
    return d.need(t0 == Type::B16 && ins.space == Space::Shared &&
                      ins.ops[0].kind == Operand::Vec &&
                      ins.ops[0].count == ins.vec &&
                      ins.ops[1].kind == Operand::Addr,
                  ".m8n8 .x1/.x2/.x4 .shared .b16 with a matching vector");
  default:
    return d.need(false, "unknown matrix instruction");
  }
}

} // namespace

const Family &tensorFamily() {
  static const Family f = {{{"ldmatrix", Op::Ldmatrix, 2, 2},
                            {"stmatrix", Op::Stmatrix, 2, 2},
                            {"wmma", Op::WmmaLoad, 2, 4},
                            {"mma", Op::Mma, 4, 4}},
                           tensorModifier,
                           checkTensor};
  return f;
}

} // namespace tilus::emu::decode
