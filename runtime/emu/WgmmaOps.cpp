//===- WgmmaOps.cpp - Warpgroup matrix multiply (wgmma, sm_90a) -----------===//
//
// wgmma.mma_async.sync.aligned: D (64 x N) = A (64 x K) * B (K x N) + D, by
// a warpgroup of four warps, in the forms
//   .m64nNk16 .f32/.f16 .f16.f16, .f32 .bf16.bf16 (N = 8, 16, ..., 256);
//   .m64nNk32 .f32/.f16 with A and B each .e4m3 or .e5m2 (N as above);
//   .m64nNk32{.satfinite} .s32 with A and B each .s8 or .u8 (N = 8, 16, 24
//     and the multiples of 16 up to 256).
// Warp w % 4 of the warpgroup holds rows 16 (w % 4) to 16 (w % 4) + 15 of A
// (in registers) and of D, and reads all of B, so each warp's part depends
// on its own registers and shared memory only: the emulator runs it when
// the warp executes the instruction, and wgmma.fence, commit_group and
// wait_group have nothing to wait for (the results are there early, which
// the ISA allows). Under race detection AsyncHazards.cpp keeps each wgmma
// pending until the wait_group that covers it, and reports the accesses to
// its registers and shared operands before then.
//
// Fragments (the PTX ISA's "wgmma .m64nNk16" and ".m64nNk32" figures):
//   D: register i of lane l holds row 16 (w % 4) + l / 4 + 8 ((i / 2) % 2),
//      column 8 (i / 4) + 2 (l % 4) + i % 2; an f16 D packs elements 2j and
//      2j + 1 in register j, the lower half first; s32 is laid out as f32.
//   A in registers: 4 registers of P = 4 / (element bytes) elements (2 for
//      f16/bf16, 4 for the 8-bit types), mma.m16n8k16's or m16n8k32's A
//      fragment on the warp's 16 rows: element e (register e / P, part
//      e % P from the low bits) is row l / 4 + 8 ((e / P) % 2), column
//      P (l % 4) + e % P + 4 P (e / (2 P)).
//
// Shared-memory operands are matrix descriptors (64 bits): the start
// address (bits 0-13), the leading (16-29) and stride (32-45) dimension
// byte offsets LBO and SBO, all in units of 16 bytes; the base offset
// (49-51) and the layout (62-63: 0 none, 1 128-byte, 2 64-byte, 3 32-byte
// swizzle, S below). A is 64 x K and B is N x K (B transposed); a row
// ("MN" index) of either holds K elements, 32 bytes in every form. The
// address of element (mn, k), from the ISA's canonical layouts (in CuTe
// notation, T = 16 bytes of elements):
//   K-major (imm-trans 0), byte b = k * (element bytes) of the row:
//     ((8,m),(T,2k)):((1T,SBO),(1,LBO)) no swizzle,
//     ((8,m),(T,2k)):((S/16 T,SBO),(1,T)) swizzle S, that is
//       none: start + (mn / 8) SBO + (mn % 8) 16 + (b / 16) LBO + b % 16
//       S:    a = start + (mn / 8) SBO + (mn % 8) S + b
//   MN-major (imm-trans 1; f16 and bf16 only), byte c = 2 mn of the column:
//     ((T,1,m),(8,k)):((1,T,SBO),(1T,LBO)) no swizzle,
//     ((T,S/16,m),(8,k)):((1,T,LBO),(S/16 T,SBO)) swizzle S, that is
//       none: start + (c / 16) SBO + c % 16 + (k % 8) 16 + (k / 8) LBO
//       S:    a = start + (c / S) LBO + c % S + (k % 8) S + (k / 8) SBO
//     (LBO steps along MN and SBO along K when swizzled, the reverse of
//     the unswizzled layout, as the ISA's table has it);
//   with a swizzle, the 16-byte chunk index (bits 4-6 of a) is XORed with
//   bits 7-9 of a, masked to S / 16 - 1 (the same pattern as the TMA's).
// imm-trans-a applies to A from shared memory only; e4m3/e5m2 and s8/u8
// take no transpose immediates (their operands are K-major).
//
// Arithmetic: every product is exact in double (at most 11 x 11 significand
// bits); the K products are summed in double, scaled by imm-scale-a *
// imm-scale-b, D added (scale-d), and the sum rounded once to the
// accumulator type, to nearest even. The ISA leaves the order and the
// internal precision of the sum open; this is exact whenever the terms'
// magnitudes span under 53 bits, as with the test data. Integer forms are
// exact: the sum of the 32 products (at most 2^21 in magnitude) plus D in
// 64 bits, then wrapped to 32 bits, or clamped to [-2^31, 2^31 - 1] under
// .satfinite.
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

/// One element of A or B, of type \p t, from its low bits \p bits.
double wgmmaElement(uint32_t bits, Type t) {
  switch (t) {
  case Type::F16:
    return decodeFloat(bits & 0xffff, kF16);
  case Type::BF16:
    return decodeFloat(bits & 0xffff, kBF16);
  case Type::E4m3:
    return decodeE4m3(uint8_t(bits));
  case Type::E5m2:
    return decodeFloat(bits & 0xff, kE5M2);
  case Type::S8:
    return double(int8_t(bits & 0xff));
  default:
    return double(bits & 0xff);
  }
}

} // namespace

bool Launch::wgmmaTransposed(const Instr &I, bool b) {
  // The transpose immediates follow imm-scale-b (the parser keeps them in
  // Instr::aux): imm-trans-a and imm-trans-b with A in shared memory,
  // imm-trans-b alone with A in registers.
  unsigned extra = I.aux & 0xff;
  unsigned idx = b ? extra : (extra == 2 ? 1u : 0u);
  return idx != 0 && (I.aux >> (8 * idx) & 0xff) != 0;
}

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

uint32_t Launch::wgmmaByteMN(uint64_t desc, unsigned c, unsigned k) {
  uint32_t start = uint32_t(desc & 0x3fff) << 4;
  uint32_t lbo = uint32_t(desc >> 16 & 0x3fff) << 4;
  uint32_t sbo = uint32_t(desc >> 32 & 0x3fff) << 4;
  unsigned layout = unsigned(desc >> 62);
  if (layout == 0)
    return start + c / 16 * sbo + c % 16 + k % 8 * 16 + k / 8 * lbo;
  unsigned span = 128u >> (layout - 1);
  uint32_t a = start + c / span * lbo + c % span + k % 8 * span + k / 8 * sbo;
  return a ^ (a >> 7 & (span / 16 - 1)) << 4;
}

bool Launch::wgmmaOperand(const Instr &I, Warp &w, int lane, uint64_t desc,
                          unsigned rows, unsigned rowBase, Type t, bool mnMajor,
                          double *out) {
  unsigned base = unsigned(desc >> 49 & 7);
  if (base) {
    fail(ReportKind::Other, I, w, lane, ~0ull,
         "wgmma matrix descriptor with a base offset of " +
             std::to_string(base) + " (only 0 is supported)");
    return false;
  }
  unsigned bytes = typeBits(t) / 8, K = 32 / bytes;
  for (unsigned r = 0; r < rows; ++r)
    for (unsigned k = 0; k < K; ++k) {
      unsigned mn = rowBase + r;
      uint32_t addr = mnMajor ? wgmmaByteMN(desc, mn * bytes, k)
                              : wgmmaByte(desc, mn, k * bytes);
      uint32_t v = 0;
      if (!load(Space::Shared, addr, bytes, &v, I, w, lane))
        return false;
      out[r * K + k] = wgmmaElement(v, t);
    }
  return true;
}

bool Launch::execWgmma(Warp &w, const Instr &I) {
  unsigned N = unsigned(I.vec) * 8;
  unsigned slice = w.id % 4;
  int lane0 = __builtin_ctz(w.valid);
  Type at = I.type2, bt = I.type3;
  unsigned K = I.has(FK32) ? 32 : 16;
  const Operand &od = I.ops[0], &oa = I.ops[1], &ob = I.ops[2], &osd = I.ops[3];
  static thread_local std::vector<double> A(16 * 32), B(256 * 32);
  if (oa.kind == Operand::Vec) {
    unsigned per = 32 / typeBits(at), bits = typeBits(at);
    FOR_LANES(w.valid, {
      for (unsigned e = 0; e < 4 * per; ++e) {
        uint32_t r = uint32_t(w.regs[size_t(oa.regs[e / per]) * 32 + l]);
        unsigned row = unsigned(l) / 4 + 8 * ((e / per) % 2);
        unsigned col =
            per * (unsigned(l) % 4) + e % per + 4 * per * (e / (2 * per));
        A[row * K + col] = wgmmaElement(r >> (bits * (e % per)), at);
      }
    });
  } else if (!wgmmaOperand(I, w, lane0, w.regs[size_t(oa.reg) * 32 + lane0], 16,
                           16 * slice, at, wgmmaTransposed(I, false),
                           A.data())) {
    return false;
  }
  if (!wgmmaOperand(I, w, lane0, w.regs[size_t(ob.reg) * 32 + lane0], N, 0, bt,
                    wgmmaTransposed(I, true), B.data()))
    return false;
  bool scaleD =
      osd.kind == Operand::Imm
          ? osd.imm != 0
          : ((w.regs[size_t(osd.reg) * 32 + lane0] & 1) != 0) != osd.neg;
  bool integer = I.type == Type::S32;
  double sign = integer ? 1 : double(I.ops[4].imm) * double(I.ops[5].imm);
  bool f16 = I.type == Type::F16;
  bool sat = I.has(FSatFinite);
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
        for (unsigned k = 0; k < K; ++k)
          s += A[row * K + k] * B[col * K + k];
        if (integer) {
          int64_t v = int64_t(s) + (scaleD ? int64_t(int32_t(d)) : 0);
          if (sat)
            v = std::min<int64_t>(std::max<int64_t>(v, INT32_MIN), INT32_MAX);
          word = uint32_t(v);
          continue;
        }
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
           (m.substr(m.size() - 3) == "k16" ||
            m.substr(m.size() - 3) == "k32")) {
    unsigned n = 0;
    for (char c : m.substr(4, m.size() - 7)) {
      if (c < '0' || c > '9')
        return false;
      n = n * 10 + unsigned(c - '0');
    }
    if (n < 8 || n > 256 || n % 8)
      return false;
    ins.vec = uint8_t(n / 8);
    if (m.substr(m.size() - 3) == "k32")
      ins.flags |= FK32;
  } else {
    return false;
  }
  return true;
}

bool isF8(Type t) { return t == Type::E4m3 || t == Type::E5m2; }
bool isI8(Type t) { return t == Type::S8 || t == Type::U8; }

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
              "wgmma.mma_async.sync.aligned.m64nNk16 or .m64nNk32 (N a "
              "multiple of 8 up to 256)");
  if (!st)
    return st;
  Type dt = d.type(0), at = d.type(1), bt = d.type(2);
  bool f8 = isF8(at) && isF8(bt), i8 = isI8(at) && isI8(bt);
  bool half = at == bt && (at == Type::F16 || at == Type::BF16);
  st = d.need(
      (half && (dt == Type::F32 || (dt == Type::F16 && at == Type::F16))) ||
          (f8 && (dt == Type::F32 || dt == Type::F16)) ||
          (i8 && dt == Type::S32),
      "types .f32.f16.f16, .f16.f16.f16, .f32.bf16.bf16, .f32 or .f16 "
      "with .e4m3/.e5m2 A and B, or .s32 with .s8/.u8 A and B");
  if (!st)
    return st;
  bool k32 = ins.has(FK32);
  st = d.need(k32 == !half, half ? "shape .m64nNk16 for .f16 and .bf16"
                                 : "shape .m64nNk32 for .e4m3, .e5m2, .s8 and "
                                   ".u8");
  if (!st)
    return st;
  unsigned n = unsigned(ins.vec) * 8;
  if (i8) {
    st = d.need(n <= 24 || n % 16 == 0,
                "N of 8, 16, 24 or a multiple of 16 up to 256 with .s32");
    if (!st)
      return st;
  }
  st = d.need(!ins.has(FSatFinite) || i8, ".satfinite only with .s32");
  if (!st)
    return st;
  ins.type2 = at;
  ins.type3 = bt;
  unsigned dregs = dt == Type::F16 ? n / 4 : n / 2;
  const Operand &a = ins.ops[1];
  bool regA = a.kind == Operand::Vec;
  auto isReg = [&](const Operand &o) { return o.kind == Operand::Reg; };
  bool common = ins.ops[0].kind == Operand::Vec && ins.ops[0].count == dregs &&
                (regA ? a.count == 4 : isReg(a)) && isReg(ins.ops[2]) &&
                (isReg(ins.ops[3]) || ins.ops[3].kind == Operand::Imm);
  std::string dText = "d (" + std::to_string(dregs) +
                      " registers), a-desc or {a 4 registers}, b-desc, scale-d";
  if (i8)
    return d.need(ins.nops == 4 && extra == 0 && common,
                  dText + " (no scale or transpose immediates with .s32)");
  if (f8) {
    st = d.need(ins.nops == 6 && extra == 0 && common &&
                    ins.ops[4].kind == Operand::Imm &&
                    ins.ops[5].kind == Operand::Imm,
                dText + ", imm-scale-a, imm-scale-b (no transpose immediates "
                        "with .e4m3/.e5m2)");
  } else {
    st = d.need(
        ins.nops == 6 && extra == (regA ? 1u : 2u) && common &&
            ins.ops[4].kind == Operand::Imm && ins.ops[5].kind == Operand::Imm,
        dText + ", imm-scale-a, imm-scale-b, [imm-trans-a,] imm-trans-b");
  }
  if (!st)
    return st;
  for (int i : {4, 5}) {
    st = d.need(ins.ops[i].imm == 1 || ins.ops[i].imm == -1,
                "imm-scale-a and imm-scale-b are 1 or -1");
    if (!st)
      return st;
  }
  for (unsigned k = 1; k <= extra; ++k) {
    st = d.need((ins.aux >> (8 * k) & 0xff) <= 1,
                "imm-trans-a and imm-trans-b are 0 or 1");
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
