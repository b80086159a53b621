//===- ParseInstruction.cpp - One PTX instruction and its operands --------===//
//
// The second half of the PTX parser (Parser.cpp has the first): an
// instruction's guard, mnemonic and modifiers, its operands (registers,
// vectors, immediates, addresses, labels), and its decoding by the family
// that executes it (Decode.h). The modifiers every family shares (types,
// state spaces, rounding, flags, ignored cache qualifiers) are read here.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/ParserImpl.h"

#include "runtime/emu/Float.h"

#include <array>
#include <cctype>
#include <cstdlib>

namespace tilus::emu::ptxparse {

//===----------------------------------------------------------------------===//
// Modifier tables
//===----------------------------------------------------------------------===//

Type typeByName(std::string_view s) {
  static const std::unordered_map<std::string_view, Type> m = {
      {"b8", Type::B8},         {"b16", Type::B16},
      {"b32", Type::B32},       {"b64", Type::B64},
      {"b128", Type::B128},     {"u8", Type::U8},
      {"u16", Type::U16},       {"u32", Type::U32},
      {"u64", Type::U64},       {"s8", Type::S8},
      {"s16", Type::S16},       {"s32", Type::S32},
      {"s64", Type::S64},       {"f16", Type::F16},
      {"f16x2", Type::F16x2},   {"bf16", Type::BF16},
      {"bf16x2", Type::BF16x2}, {"f32", Type::F32},
      {"f64", Type::F64},       {"pred", Type::Pred},
      {"e4m3x2", Type::E4m3x2}, {"e5m2x2", Type::E5m2x2},
      {"u16x2", Type::U16x2},   {"s16x2", Type::S16x2},
      {"e4m3", Type::E4m3},     {"e5m2", Type::E5m2}};
  auto it = m.find(s);
  return it == m.end() ? Type::None : it->second;
}

bool spaceByName(std::string_view s, Space &sp) {
  if (s == "global")
    sp = Space::Global;
  else if (s == "shared" || s == "shared::cta" || s == "shared::cluster")
    sp = Space::Shared;
  else if (s == "local")
    sp = Space::Local;
  else if (s == "param" || s == "param::entry" || s == "param::func")
    sp = Space::Param;
  else if (s == "const")
    sp = Space::Const;
  else
    return false;
  return true;
}

namespace {

bool rndByName(std::string_view s, Rnd &r) {
  static const std::unordered_map<std::string_view, Rnd> m = {
      {"rn", Rnd::Rn},   {"rz", Rnd::Rz},   {"rm", Rnd::Rm},
      {"rp", Rnd::Rp},   {"rni", Rnd::Rni}, {"rzi", Rnd::Rzi},
      {"rmi", Rnd::Rmi}, {"rpi", Rnd::Rpi}, {"rna", Rnd::Rna}};
  auto it = m.find(s);
  if (it == m.end())
    return false;
  r = it->second;
  return true;
}

/// Cache, eviction and memory-ordering qualifiers: accepted, no effect on a
/// sequentially consistent single-threaded emulation. cp.async's own "cg"
/// (16-byte copies only) is decoded by its family before this list is seen.
bool isIgnoredQualifier(std::string_view s) {
  static const char *const names[] = {"ca",
                                      "cg",
                                      "cs",
                                      "lu",
                                      "cv",
                                      "wb",
                                      "wt",
                                      "nc",
                                      "volatile",
                                      "relaxed",
                                      "acquire",
                                      "release",
                                      "acq_rel",
                                      "sc",
                                      "weak",
                                      "cta",
                                      "gpu",
                                      "sys",
                                      "L1::evict_normal",
                                      "L1::evict_unchanged",
                                      "L1::evict_first",
                                      "L1::evict_last",
                                      "L1::no_allocate",
                                      "L2::evict_normal",
                                      "L2::evict_first",
                                      "L2::evict_last",
                                      "L2::evict_unchanged",
                                      "fractional",
                                      "range",
                                      "L2::64B",
                                      "L2::128B",
                                      "L2::256B",
                                      "L2::cache_hint",
                                      "unified",
                                      "to",
                                      "uni",
                                      "proxy",
                                      "async",
                                      "mbarrier_init",
                                      "noftz",
                                      "alias"};
  for (const char *n : names)
    if (s == n)
      return true;
  return false;
}

/// A mnemonic and the family that decodes it.
struct OpInfo {
  const decode::Mnemonic *mnemonic;
  const decode::Family *family;
};

const std::unordered_map<std::string_view, OpInfo> &opTable() {
  static const std::unordered_map<std::string_view, OpInfo> m = [] {
    std::unordered_map<std::string_view, OpInfo> t;
    for (const decode::Family *f :
         {&decode::intFamily(), &decode::floatFamily(), &decode::memoryFamily(),
          &decode::warpFamily(), &decode::tensorFamily(),
          &decode::controlFamily(), &decode::mbarrierFamily(),
          &decode::wgmmaFamily()})
      for (const decode::Mnemonic &mn : f->mnemonics)
        t.emplace(mn.name, OpInfo{&mn, f});
    return t;
  }();
  return m;
}

/// Modifiers that set a flag on any instruction.
bool flagByName(std::string_view s, Flag &f) {
  static const std::unordered_map<std::string_view, Flag> m = {
      {"sat", FSat},     {"satfinite", FSatFinite},
      {"ftz", FFtz},     {"approx", FApprox},
      {"full", FFull},   {"hi", FHi},
      {"lo", FLo},       {"wide", FWide},
      {"trans", FTrans}, {"relu", FRelu},
      {"NaN", FNan},     {"xorsign", FXorSign},
      {"abs", FAbs},     {"aligned", FAligned},
      {"sync", FSync}};
  auto it = m.find(s);
  if (it == m.end())
    return false;
  f = it->second;
  return true;
}

/// Reads modifier \p m in the order of Decode.h; false if nothing takes it.
bool readModifier(decode::Decoding &d, const decode::Family &family,
                  std::string_view m) {
  Instr &ins = d.ins;
  Type t = typeByName(m);
  Space sp;
  Rnd r;
  Flag f;
  if (t != Type::None)
    d.types.push_back(t);
  else if (spaceByName(m, sp))
    ins.space = sp;
  else if (rndByName(m, r))
    ins.rnd = r;
  else if (m == "v2" || m == "v4" || m == "x1" || m == "x2" || m == "x4")
    ins.vec = uint8_t(m[1] - '0');
  // `.hi` and `.lo` are comparisons of set and setp (unsigned > and <), not
  // the flags of mul and mad.
  else if ((ins.op == Op::Setp || ins.op == Op::Set) && family.modifier(d, m))
    return true;
  else if (flagByName(m, f))
    ins.flags |= f;
  else
    return family.modifier(d, m) || isIgnoredQualifier(m);
  return true;
}

/// Addresses only where an instruction reads or writes memory, labels only
/// as branch targets; vectors only where an instruction takes them:
/// anything else would silently read as zero.
Status checkOperandKinds(const decode::Decoding &d) {
  const Instr &ins = d.ins;
  std::string_view full = d.full;
  bool memOp = ins.op == Op::Ld || ins.op == Op::St || ins.op == Op::Atom ||
               ins.op == Op::Red || ins.op == Op::CpAsync ||
               ins.op == Op::Ldmatrix || ins.op == Op::Stmatrix ||
               ins.op == Op::WmmaLoad || ins.op == Op::WmmaStore ||
               ins.op == Op::Nop || ins.op == Op::Mbarrier ||
               ins.op == Op::CpBulk || ins.op == Op::CpBulkTensor ||
               ins.op == Op::CpBulkPrefetch;
  for (int i = 0; i < ins.nops; ++i) {
    const Operand &o = ins.ops[i];
    if (o.kind == Operand::Addr && !memOp)
      return d.error("operand " + std::to_string(i) + " of '" +
                     std::string(full) + "' cannot be an [address]");
    if (o.kind == Operand::Label && ins.op != Op::Bra)
      return d.error("operand " + std::to_string(i) + " of '" +
                     std::string(full) + "' cannot be a label");
  }
  bool vecDst =
      ins.op == Op::Mov || ins.op == Op::Ld || ins.op == Op::Ldmatrix ||
      ins.op == Op::Mma || ins.op == Op::Setp || ins.op == Op::Shfl ||
      ins.op == Op::Match || ins.op == Op::WmmaLoad || ins.op == Op::WmmaMma ||
      ins.op == Op::Elect || ins.op == Op::Wgmma;
  bool vecSrc = ins.op == Op::Mov || ins.op == Op::St || ins.op == Op::Mma ||
                ins.op == Op::Wgmma || ins.op == Op::WmmaStore ||
                ins.op == Op::WmmaMma || ins.op == Op::Stmatrix;
  // The coordinates of a tensor copy follow its tensor-map address.
  auto isCoords = [&](int i) {
    return (ins.op == Op::CpBulkTensor || ins.op == Op::CpBulkPrefetch) &&
           i > 0 && ins.ops[i - 1].kind == Operand::Addr;
  };
  for (int i = 0; i < ins.nops; ++i)
    if (ins.ops[i].kind == Operand::Vec && !isCoords(i) &&
        !(i == 0 ? vecDst
                 : (vecSrc &&
                    (ins.op == Op::Mma || ins.op == Op::WmmaMma || i == 1))))
      return d.error("operand " + std::to_string(i) + " of '" +
                     std::string(full) + "' cannot be a vector");
  for (int i = 0; i < ins.nops; ++i)
    if (ins.ops[i].kind == Operand::Vec && ins.ops[i].immMask &&
        !(i == 1 && (ins.op == Op::Mov || ins.op == Op::St)))
      return d.error("operand " + std::to_string(i) + " of '" +
                     std::string(full) +
                     "' is a vector with immediate elements (supported only "
                     "as the source of mov and st)");
  if (!decode::isWmma(ins.op))
    for (int i = 0; i < ins.nops; ++i)
      if (ins.ops[i].kind == Operand::Vec && ins.ops[i].count > 4 &&
          !isCoords(i) && !(ins.op == Op::Wgmma && i == 0))
        return d.error("vector operand with more than 4 elements in '" +
                       std::string(full) + "'");
  bool writesFirst =
      ins.op != Op::St && ins.op != Op::Red && ins.op != Op::Bra &&
      ins.op != Op::Bar && ins.op != Op::BarWarp && ins.op != Op::CpAsync &&
      ins.op != Op::WmmaStore && ins.op != Op::Stmatrix &&
      ins.op != Op::CpAsyncWait && ins.op != Op::Nop && ins.op != Op::Membar &&
      ins.op != Op::Mbarrier && !decode::isBulk(ins.op) &&
      ins.op != Op::Setmaxnreg && ins.op != Op::WgmmaFence &&
      ins.op != Op::WgmmaCommit && ins.op != Op::WgmmaWait;
  if (writesFirst && ins.nops > 0 && ins.ops[0].kind != Operand::Reg &&
      ins.ops[0].kind != Operand::Vec && ins.ops[0].kind != Operand::Sink)
    return d.error("the destination of '" + std::string(full) +
                   "' must be a register");
  return Status::success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Instructions
//===----------------------------------------------------------------------===//

Status Parser::parseOperand(Operand &o, Instr &ins, int idx, Space &symSpace) {
  const Tok &t = peek();
  auto regOf = [&](const Tok &rt, uint32_t &slot) -> Status {
    std::optional<Sym> s = lookup(std::string(rt.text));
    if (!s || s->kind != Sym::Reg)
      return err(rt, "unknown register '" + std::string(rt.text) + "'");
    slot = s->reg;
    return Status::success();
  };
  if (t.is('{')) {
    next();
    o.kind = Operand::Vec;
    // Up to 128 elements: wgmma's accumulators (m64n256, f32).
    std::vector<uint32_t> regs(4, kNoReg);
    while (!peek().is('}')) {
      if (o.count == 128)
        return err(peek(), "vector operand with more than 128 elements");
      bool negImm = peek().is('-');
      if (negImm)
        next();
      const Tok &r = next();
      if (o.count >= regs.size())
        regs.push_back(kNoReg);
      if ((r.kind == Tok::Int || r.kind == Tok::F32Bits ||
           r.kind == Tok::F64Bits) &&
          o.count >= 8)
        return err(r, "immediate elements in a vector operand of more than 4 "
                      "elements are not supported");
      if (r.kind == Tok::Int || r.kind == Tok::F32Bits ||
          r.kind == Tok::F64Bits) {
        // An immediate element, as cuda_bf16.hpp writes `{0, %rs2}`.
        uint64_t v = r.ival;
        if (negImm)
          v = r.kind == Tok::Int       ? negateLiteral(v)
              : r.kind == Tok::F32Bits ? v ^ 0x80000000ull
                                       : v ^ 0x8000000000000000ull;
        o.immMask |= uint8_t(1u << o.count);
        regs[o.count++] = uint32_t(mod->vecImms.size());
        mod->vecImms.push_back(v);
      } else if (negImm) {
        return err(r,
                   "malformed vector element '-" + std::string(r.text) + "'");
      } else if (r.text == "_") {
        regs[o.count++] = kNoReg;
      } else {
        Status s = regOf(r, regs[o.count++]);
        if (!s)
          return s;
      }
      if (peek().is(','))
        next();
      if (peek().kind == Tok::End)
        return err(peek(), "unterminated vector operand");
    }
    next();
    if (o.immMask && o.count > 4)
      return err(t, "immediate elements in a vector operand of more than 4 "
                    "elements are not supported");
    if (o.count <= 4) {
      std::copy(regs.begin(), regs.begin() + 4, o.regs);
    } else {
      o.imm = int64_t(mod->wideVecs.size());
      mod->wideVecs.push_back(regs);
    }
    return Status::success();
  }
  if (t.is('[')) {
    next();
    o.kind = Operand::Addr;
    const Tok &b = next();
    if (b.kind == Tok::Int) {
      o.imm = int64_t(b.ival);
    } else if (b.kind == Tok::Ident) {
      std::optional<Sym> s = lookup(std::string(b.text));
      if (!s)
        return err(b, "unknown symbol '" + std::string(b.text) + "'");
      if (s->kind == Sym::Reg) {
        o.reg = s->reg;
      } else if (s->kind == Sym::Var) {
        o.imm = int64_t(s->addr);
        symSpace = s->space;
        noteSymRef(*s, idx);
      } else {
        return err(b, "'" + std::string(b.text) + "' is not an address");
      }
    } else {
      return err(b, "malformed address");
    }
    while (peek().is('+') || peek().is('-')) {
      bool neg = next().is('-');
      if (peek().is('-')) {
        neg = !neg;
        next();
      }
      const Tok &x = next();
      if (x.kind != Tok::Int)
        return err(x, "malformed address offset");
      // Offsets add modulo 2^64, as the address arithmetic does.
      o.imm = int64_t(uint64_t(o.imm) + (neg ? negateLiteral(x.ival) : x.ival));
    }
    if (peek().is(',')) {
      // [tensorMap, {c0, ...}] of cp.async.bulk.tensor: the coordinates
      // become the next operand.
      next();
      if (idx + 1 >= 6 || !peek().is('{'))
        return err(peek(), "malformed tensor address");
      Status s = parseOperand(ins.ops[idx + 1], ins, idx + 1, symSpace);
      if (!s)
        return s;
      ++ins.nops;
    }
    return expect(']');
  }
  bool neg = false;
  if (t.is('!')) {
    next();
    const Tok &r = next();
    o.kind = Operand::Reg;
    o.neg = true;
    return regOf(r, o.reg);
  }
  if (t.is('-')) {
    next();
    neg = true;
  }
  const Tok &x = next();
  switch (x.kind) {
  case Tok::Int:
    o.kind = Operand::Imm;
    o.imm = int64_t(neg ? negateLiteral(x.ival) : x.ival);
    return Status::success();
  case Tok::F32Bits:
    o.kind = Operand::Imm;
    o.imm = int64_t(x.ival ^ (neg ? 0x80000000ull : 0));
    return Status::success();
  case Tok::F64Bits:
    o.kind = Operand::Imm;
    o.imm = int64_t(x.ival ^ (neg ? 0x8000000000000000ull : 0));
    return Status::success();
  case Tok::Decimal:
    o.kind = Operand::Imm;
    o.isDoubleLiteral = true;
    o.imm = int64_t(f64ToBits(neg ? -x.fval : x.fval));
    return Status::success();
  case Tok::Ident:
    break;
  default:
    return err(x, "malformed operand '" + std::string(x.text) + "'");
  }
  std::string id(x.text);
  static const std::unordered_map<std::string, Special> specials = {
      {"%tid.x", Special::TidX},
      {"%tid.y", Special::TidY},
      {"%tid.z", Special::TidZ},
      {"%ntid.x", Special::NtidX},
      {"%ntid.y", Special::NtidY},
      {"%ntid.z", Special::NtidZ},
      {"%ctaid.x", Special::CtaidX},
      {"%ctaid.y", Special::CtaidY},
      {"%ctaid.z", Special::CtaidZ},
      {"%nctaid.x", Special::NctaidX},
      {"%nctaid.y", Special::NctaidY},
      {"%nctaid.z", Special::NctaidZ},
      {"%laneid", Special::Laneid},
      {"%warpid", Special::Warpid},
      {"%nwarpid", Special::Nwarpid},
      {"%smid", Special::Smid},
      {"%nsmid", Special::Nsmid},
      {"%gridid", Special::Gridid},
      {"%clock", Special::Clock},
      {"%clock64", Special::Clock64},
      {"%globaltimer", Special::Globaltimer},
      {"%dynamic_smem_size", Special::DynSmem},
      {"%total_smem_size", Special::TotalSmem},
      {"%lanemask_eq", Special::LanemaskEq},
      {"%lanemask_lt", Special::LanemaskLt},
      {"%lanemask_le", Special::LanemaskLe},
      {"%lanemask_gt", Special::LanemaskGt},
      {"%lanemask_ge", Special::LanemaskGe},
  };
  // `first|q` (setp's two predicates): a pair whose first may be the sink.
  auto pairWith = [&](uint32_t first) -> Status {
    if (!peek().is('|'))
      return Status::success();
    next();
    uint32_t second;
    if (Status st = regOf(next(), second); !st)
      return st;
    o.kind = Operand::Vec;
    o.count = 2;
    o.regs[0] = first;
    o.regs[1] = second;
    return Status::success();
  };
  if (id == "_") {
    o.kind = Operand::Sink;
    return pairWith(kNoReg); // _|p
  }
  auto sp = specials.find(id);
  if (sp != specials.end()) {
    o.kind = Operand::Spec;
    o.special = sp->second;
    return Status::success();
  }
  std::optional<Sym> s = lookup(id);
  if (s && s->kind == Sym::Reg) {
    o.kind = Operand::Reg;
    o.reg = s->reg;
    return pairWith(s->reg); // p|q or r|p
  }
  if (s && s->kind == Sym::Var) {
    o.kind = Operand::Imm;
    o.imm = int64_t(s->addr);
    symSpace = s->space;
    noteSymRef(*s, idx);
    return Status::success();
  }
  if (ins.op == Op::Bra && !s) {
    o.kind = Operand::Label;
    fixupScopes.back().push_back({uint32_t(mod->code.size()), id});
    return Status::success();
  }
  if (id[0] == '%')
    return err(x, "unknown register '" + id + "'");
  return err(x, "unknown symbol '" + id + "'");
}

Status Parser::parseInstruction() {
  Instr ins;
  const Tok *first = &peek();
  if (first->is('@')) {
    next();
    bool neg = false;
    if (peek().is('!')) {
      next();
      neg = true;
    }
    const Tok &p = next();
    std::optional<Sym> s = lookup(std::string(p.text));
    if (!s || s->kind != Sym::Reg)
      return err(p, "unknown predicate '" + std::string(p.text) + "'");
    ins.guard = s->reg;
    ins.guardNeg = neg;
    first = &peek();
  }
  const Tok &opTok = next();
  if (opTok.kind != Tok::Ident)
    return err(opTok, "expected an instruction, found '" +
                          std::string(opTok.text) + "'");
  ins.line = opTok.line;
  ins.srcFile = locFile;
  ins.srcLine = locLine;
  std::string_view full = opTok.text;
  std::vector<std::string_view> parts;
  size_t b = 0;
  for (size_t i = 0; i <= full.size(); ++i) {
    if (i == full.size() ||
        (full[i] == '.' && !(i > 0 && full[i - 1] == ':'))) {
      // Split on '.', but keep "::" qualifiers whole ("shared::cta").
      parts.push_back(full.substr(b, i - b));
      b = i + 1;
    }
  }
  std::string_view base = parts[0];
  std::vector<std::string_view> mods(parts.begin() + 1, parts.end());

  if (base == "call")
    return parseCall(ins, mods, opTok);
  auto &table = opTable();
  auto it = table.find(base);
  if (it == table.end())
    return err(opTok,
               "unsupported PTX instruction '" + std::string(full) + "'");
  const decode::Mnemonic &mn = *it->second.mnemonic;
  ins.op = mn.op;

  Space symSpace = Space::Generic;
  std::vector<Space> symSpaces;
  // Operands past the sixth (wgmma's trailing immediates) are immediates
  // kept in ins.aux, a byte each above a count in its low byte.
  unsigned extra = 0;
  while (!peek().is(';')) {
    if (ins.nops == 6) {
      Operand x;
      Space ss = Space::Generic;
      if (mn.maxOps <= 6 || extra == 3)
        return err(peek(), "too many operands for '" + std::string(full) + "'");
      const Tok &at = peek();
      Status s = parseOperand(x, ins, 6, ss);
      if (!s)
        return s;
      if (x.kind != Operand::Imm || uint64_t(x.imm) > 255)
        return err(at, "operand " + std::to_string(6 + extra) + " of '" +
                           std::string(full) + "' must be a small immediate");
      ++extra;
      ins.aux = (ins.aux & ~0xffu) | extra;
      ins.aux |= uint32_t(x.imm) << (8 * extra);
      if (peek().is(','))
        next();
      continue;
    }
    Space ss = Space::Generic;
    Status s = parseOperand(ins.ops[ins.nops], ins, ins.nops, ss);
    if (!s)
      return s;
    if (ss != Space::Generic)
      symSpace = ss;
    ins.nops++;
    if (peek().is(','))
      next();
    else if (!peek().is(';'))
      return err(peek(), "expected ',' or ';' after an operand of '" +
                             std::string(full) + "', found '" +
                             std::string(peek().text) + "'");
  }
  next(); // ;
  // The cache policy operand of .L2::cache_hint is a hint: dropped.
  bool hinted =
      std::find(mods.begin(), mods.end(), "L2::cache_hint") != mods.end();
  if (hinted) {
    if (ins.nops == 0 || (ins.ops[ins.nops - 1].kind != Operand::Reg &&
                          ins.ops[ins.nops - 1].kind != Operand::Imm))
      return err(opTok, "'" + std::string(full) +
                            "' needs a cache policy register as its last "
                            "operand");
    --ins.nops;
  }
  if (ins.nops + extra < mn.minOps || ins.nops + extra > mn.maxOps)
    return err(opTok, "wrong number of operands (" +
                          std::to_string(ins.nops + extra) + ") for '" +
                          std::string(full) + "'");
  ins.flags |= mn.flags;
  Status s = decode(ins, *it->second.family, full, mods, opTok);
  if (!s)
    return s;
  if (ins.flags & (FCarryIn | FCarryOut)) {
    // The carry flag (CC.CF) is a hidden per-thread register of the module.
    if (ccReg == kNoReg) {
      ccReg = mod->numRegs++;
      regTypes.push_back(Type::Pred);
    }
    ins.aux = ccReg;
  }
  // The address of a variable in a generic access is its generic address.
  (void)symSpace;
  mod->code.push_back(ins);
  return Status::success();
}

/// `call[.uni] [(ret),] func[, (args)];` with .param symbols of the call
/// scope as arguments.
Status Parser::parseCall(Instr &ins, const std::vector<std::string_view> &mods,
                         const Tok &at) {
  ins.op = Op::Call;
  for (auto m : mods)
    if (m != "uni")
      return err(at,
                 "unsupported modifier '." + std::string(m) + "' in 'call'");
  detail::CallInfo ci;
  detail::LayoutInput::CallPieces pieces;
  auto parseList = [&](std::vector<uint32_t> &out,
                       std::vector<int32_t> &outPieces) -> Status {
    Status s = expect('(');
    if (!s)
      return s;
    while (!peek().is(')')) {
      const Tok &n = next();
      std::optional<Sym> sym = lookup(std::string(n.text));
      if (!sym || sym->kind != Sym::Var || sym->space != Space::Param)
        return err(n, "call argument '" + std::string(n.text) +
                          "' is not a .param variable of the call scope");
      out.push_back(uint32_t(sym->addr));
      outPieces.push_back(sym->localPiece);
      if (peek().is(','))
        next();
      if (peek().kind == Tok::End)
        return err(peek(), "unterminated call argument list");
    }
    next();
    return Status::success();
  };
  Status s;
  if (peek().is('(')) {
    s = parseList(ci.rets, pieces.rets);
    if (!s)
      return s;
    s = expect(',');
    if (!s)
      return s;
  }
  const Tok &fn = next();
  std::optional<Sym> f = lookup(std::string(fn.text));
  if (!f || f->kind != Sym::Func)
    return err(fn, "call of '" + std::string(fn.text) +
                       "', which is not a declared function (indirect calls "
                       "are not supported)");
  ci.callee = f->reg;
  if (peek().is(',')) {
    next();
    s = parseList(ci.args, pieces.args);
    if (!s)
      return s;
  }
  if (peek().is(','))
    return err(peek(), "indirect calls with prototypes are not supported");
  s = expect(';');
  if (!s)
    return s;
  const Function &callee = mod->funcs[ci.callee];
  if (ci.args.size() != callee.params.size() ||
      ci.rets.size() != callee.rets.size())
    return err(fn, "call of '" + callee.name +
                       "' with the wrong number of arguments or results");
  ins.aux = uint32_t(mod->calls.size());
  mod->calls.push_back(ci);
  layoutIn.callPieces.push_back(std::move(pieces));
  mod->code.push_back(ins);
  return Status::success();
}

Status Parser::decode(Instr &ins, const decode::Family &family,
                      std::string_view full,
                      const std::vector<std::string_view> &mods,
                      const Tok &at) {
  decode::Decoding d{ins, full, mods, regTypes, name, at.line, {}, false};
  for (std::string_view m : mods)
    if (!readModifier(d, family, m))
      return err(at, "unsupported modifier '." + std::string(m) + "' in '" +
                         std::string(full) + "'");
  Status st = checkOperandKinds(d);
  if (!st)
    return st;
  ins.type = d.type(0);
  return family.check(d);
}

} // namespace tilus::emu::ptxparse

namespace tilus::emu {

bool decode::reductionByName(std::string_view m, Sub &sub) {
  static const std::unordered_map<std::string_view, Sub> am = {
      {"add", Sub::AAdd},   {"min", Sub::AMin},  {"max", Sub::AMax},
      {"exch", Sub::AExch}, {"cas", Sub::ACas},  {"and", Sub::AAnd},
      {"or", Sub::AOr},     {"xor", Sub::AXor},  {"inc", Sub::AInc},
      {"dec", Sub::ADec},   {"popc", Sub::APopc}};
  auto it = am.find(m);
  if (it == am.end())
    return false;
  sub = it->second;
  return true;
}

void decode::Decoding::fixDoubleLiterals(Type ty) {
  for (auto &o : ins.ops)
    if (o.kind == Operand::Imm && o.isDoubleLiteral) {
      double v = bitsToF64(uint64_t(o.imm));
      if (ty == Type::F32)
        o.imm = f32ToBits(float(v));
      else if (ty != Type::F64)
        o.imm = int64_t(v);
      o.isDoubleLiteral = false;
    }
}

Status decode::Decoding::typed() {
  Status st = need(type(0) != Type::None, "expected a type");
  if (!st)
    return st;
  fixDoubleLiterals(type(0));
  return Status::success();
}

} // namespace tilus::emu
