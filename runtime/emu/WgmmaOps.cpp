//===- WgmmaOps.cpp - Warpgroup matrix multiply (wgmma, sm_90a) -----------===//
//
// wgmma.mma_async.sync.aligned.m64nNk16 with f16 or bf16 inputs: D (64 x N)
// = A (64 x 16) * B (16 x N) + D, by a warpgroup of four warps. Warp w % 4
// of the warpgroup holds rows 16 (w % 4) to 16 (w % 4) + 15 of A (in
// registers) and of D, and reads all of B, so each warp's part depends on
// its own registers and shared memory only: the emulator runs it when the
// warp executes the instruction, and wgmma.fence, commit_group and
// wait_group have nothing to wait for (the results are there early, which
// the ISA allows). Under race detection AsyncHazards.cpp keeps each wgmma
// pending until the wait_group that covers it, and reports the accesses to
// its registers and shared operands before then.
//
// Fragments (the PTX ISA's "wgmma .m64nNk16" figures):
//   D: register i of lane l holds row 16 (w % 4) + l / 4 + 8 ((i / 2) % 2),
//      column 8 (i / 4) + 2 (l % 4) + i % 2; an f16 D packs elements 2j and
//      2j + 1 in register j, the lower half first.
//   A in registers: 4 registers of two halves, mma.m16n8k16's A fragment
//      on the warp's 16 rows: element e (register e / 2, half e % 2) is row
//      l / 4 + 8 ((e / 2) % 2), column 2 (l % 4) + e % 2 + 8 (e / 4).
//
// Shared-memory operands are matrix descriptors (64 bits): the start
// address (bits 0-13), the leading (16-29) and stride (32-45) dimension
// byte offsets, all in units of 16 bytes; the base offset (49-51) and the
// layout (62-63: 0 none, 1 128-byte, 2 64-byte, 3 32-byte swizzle). A is
// 64 x 16 and B is N x 16 (B transposed), both K-major (the transpose
// immediates 0); row r, byte b of a row's 32 bytes of K is at
//   no swizzle: start + (r / 8) SBO + (r % 8) 16 + (b / 16) LBO + b % 16
//   swizzle S:  a = start + (r / 8) SBO + (r % 8) S + b, then the 16-byte
//               chunk index (bits 4-6) XOR bits 7-9 of a, masked to
//               S / 16 - 1 (the same pattern as the TMA's swizzle).
// Products are exact and summed in double, then rounded once, as mma.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Decode.h"
#include "runtime/emu/Launch.h"

namespace tilus::emu::exec {
namespace {

/// The register of element \p k of the vector operand \p o.
uint32_t vecReg(const detail::ModuleImpl &mod, const Operand &o, unsigned k) {
  return o.count > 4 ? mod.wideVecs[size_t(o.imm)][k] : o.regs[k];
}

} // namespace

uint32_t Launch::wgmmaByte(uint64_t desc, unsigned row, unsigned b) {
  uint32_t start = uint32_t(desc & 0x3fff) << 4;
  uint32_t lbo = uint32_t(desc >> 16 & 0x3fff) << 4;
  uint32_t sbo = uint32_t(desc >> 32 & 0x3fff) << 4;
  unsigned layout = unsigned(desc >> 62);
  if (layout == 0)
    return start + row / 8 * sbo + row % 8 * 16 + b / 16 * lbo + b % 16;
  unsigned span = 128u >> (layout - 1);
  uint32_t a = start + row / 8 * sbo + row % 8 * span + b;
  return a ^ (a >> 7 & (span / 16 - 1)) << 4;
}

bool Launch::wgmmaOperand(const Instr &I, Warp &w, int lane, uint64_t desc,
                          unsigned rows, unsigned rowBase, FloatFormat fmt,
                          double *out) {
  unsigned base = unsigned(desc >> 49 & 7);
  if (base) {
    fail(ReportKind::Other, I, w, lane, ~0ull,
         "wgmma matrix descriptor with a base offset of " +
             std::to_string(base) + " (only 0 is supported)");
    return false;
  }
  for (unsigned r = 0; r < rows; ++r)
    for (unsigned k = 0; k < 16; ++k) {
      uint16_t v;
      if (!load(Space::Shared, wgmmaByte(desc, rowBase + r, 2 * k), 2, &v, I, w,
                lane))
        return false;
      out[r * 16 + k] = decodeFloat(v, fmt);
    }
  return true;
}

bool Launch::execWgmma(Warp &w, const Instr &I) {
  unsigned N = unsigned(I.vec) * 8;
  unsigned slice = w.id % 4;
  int lane0 = __builtin_ctz(w.valid);
  FloatFormat fmt = I.type2 == Type::BF16 ? kBF16 : kF16;
  const Operand &od = I.ops[0], &oa = I.ops[1], &ob = I.ops[2], &osd = I.ops[3];
  static thread_local std::vector<double> A(16 * 16), B(256 * 16);
  if (oa.kind == Operand::Vec) {
    FOR_LANES(w.valid, {
      for (unsigned e = 0; e < 8; ++e) {
        uint32_t r = uint32_t(w.regs[size_t(oa.regs[e / 2]) * 32 + l]);
        unsigned row = unsigned(l) / 4 + 8 * ((e / 2) % 2);
        unsigned col = 2 * (unsigned(l) % 4) + e % 2 + 8 * (e / 4);
        A[row * 16 + col] = decodeFloat((r >> (16 * (e % 2))) & 0xffff, fmt);
      }
    });
  } else if (!wgmmaOperand(I, w, lane0, w.regs[size_t(oa.reg) * 32 + lane0], 16,
                           16 * slice, fmt, A.data())) {
    return false;
  }
  if (!wgmmaOperand(I, w, lane0, w.regs[size_t(ob.reg) * 32 + lane0], N, 0, fmt,
                    B.data()))
    return false;
  bool scaleD =
      osd.kind == Operand::Imm
          ? osd.imm != 0
          : ((w.regs[size_t(osd.reg) * 32 + lane0] & 1) != 0) != osd.neg;
  double sign = double(I.ops[4].imm) * double(I.ops[5].imm);
  bool f16 = I.type == Type::F16;
  unsigned regs = f16 ? N / 4 : N / 2;
  FOR_LANES(w.valid, {
    for (unsigned j = 0; j < regs; ++j) {
      uint64_t &d = w.regs[size_t(vecReg(mod, od, j)) * 32 + l];
      uint32_t word = 0;
      for (unsigned h = 0; h < (f16 ? 2u : 1u); ++h) {
        unsigned i = f16 ? 2 * j + h : j;
        unsigned row = unsigned(l) / 4 + 8 * ((i / 2) % 2);
        unsigned col = 8 * (i / 4) + 2 * (unsigned(l) % 4) + i % 2;
        double s = 0;
        for (unsigned k = 0; k < 16; ++k)
          s += A[row * 16 + k] * B[col * 16 + k];
        s *= sign;
        if (scaleD)
          s += f16 ? decodeFloat(uint32_t(d >> (16 * h)) & 0xffff, kF16)
                   : double(bitsToF32(uint32_t(d)));
        if (f16)
          word |= uint32_t(roundF64To(s, kF16, Rnd::Rn, false)) << (16 * h);
        else
          word = canonF32(float(s));
      }
      d = word;
    }
  });
  // The results are in D already; under race detection the registers and
  // the shared bytes stay pending until a wgmma.wait_group covers them.
  return shadow.empty() || wgmmaIssued(w, I);
}

} // namespace tilus::emu::exec

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

namespace tilus::emu::decode {
namespace {

bool wgmmaModifier(Decoding &d, std::string_view m) {
  Instr &ins = d.ins;
  if (m == "fence")
    ins.op = Op::WgmmaFence;
  else if (m == "commit_group")
    ins.op = Op::WgmmaCommit;
  else if (m == "wait_group")
    ins.op = Op::WgmmaWait;
  else if (m == "mma_async")
    ins.op = Op::Wgmma;
  else if (m.size() > 7 && m.substr(0, 4) == "m64n" &&
           m.substr(m.size() - 3) == "k16") {
    unsigned n = 0;
    for (char c : m.substr(4, m.size() - 7)) {
      if (c < '0' || c > '9')
        return false;
      n = n * 10 + unsigned(c - '0');
    }
    if (n < 8 || n > 256 || n % 8)
      return false;
    ins.vec = uint8_t(n / 8);
  } else {
    return false;
  }
  return true;
}

Status checkWgmma(Decoding &d) {
  Instr &ins = d.ins;
  Status st = d.need(ins.has(FSync) && ins.has(FAligned), ".sync.aligned");
  if (!st)
    return st;
  unsigned extra = ins.aux & 0xff;
  switch (ins.op) {
  case Op::WgmmaFence:
  case Op::WgmmaCommit:
    return d.need(ins.nops == 0, "no operands");
  case Op::WgmmaWait:
    return d.need(ins.nops == 1 && ins.ops[0].kind == Operand::Imm,
                  "an immediate group count");
  default:
    break;
  }
  st = d.need(ins.op == Op::Wgmma && ins.vec != 0,
              "wgmma.mma_async.sync.aligned.m64nNk16 (N a multiple of 8 up "
              "to 256)");
  if (!st)
    return st;
  Type dt = d.type(0), at = d.type(1), bt = d.type(2);
  st = d.need(at == bt &&
                  ((at == Type::F16 && (dt == Type::F32 || dt == Type::F16)) ||
                   (at == Type::BF16 && dt == Type::F32)),
              "types .f32.f16.f16, .f16.f16.f16 or .f32.bf16.bf16");
  if (!st)
    return st;
  ins.type2 = at;
  ins.type3 = bt;
  unsigned n = unsigned(ins.vec) * 8;
  unsigned dregs = dt == Type::F16 ? n / 4 : n / 2;
  const Operand &a = ins.ops[1];
  bool regA = a.kind == Operand::Vec;
  auto isReg = [&](const Operand &o) { return o.kind == Operand::Reg; };
  st = d.need(
      ins.nops == 6 && extra == (regA ? 1u : 2u) &&
          ins.ops[0].kind == Operand::Vec && ins.ops[0].count == dregs &&
          (regA ? a.count == 4 : isReg(a)) && isReg(ins.ops[2]) &&
          (isReg(ins.ops[3]) || ins.ops[3].kind == Operand::Imm) &&
          ins.ops[4].kind == Operand::Imm && ins.ops[5].kind == Operand::Imm,
      "d (" + std::to_string(dregs) +
          " registers), a-desc or {a 4 registers}, b-desc, scale-d, "
          "imm-scale-a, imm-scale-b, [imm-trans-a,] imm-trans-b");
  if (!st)
    return st;
  for (int i : {4, 5}) {
    st = d.need(ins.ops[i].imm == 1 || ins.ops[i].imm == -1,
                "imm-scale-a and imm-scale-b are 1 or -1");
    if (!st)
      return st;
  }
  for (unsigned k = 1; k <= extra; ++k) {
    st = d.need((ins.aux >> (8 * k) & 0xff) == 0,
                "transposed (MN-major) shared-memory operands are not "
                "supported");
    if (!st)
      return st;
  }
  return Status::success();
}

} // namespace

const Family &wgmmaFamily() {
  static const Family f = {
      {{"wgmma", Op::Wgmma, 0, 8}}, wgmmaModifier, checkWgmma};
  return f;
}

} // namespace tilus::emu::decode
