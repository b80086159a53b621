//===- IntOps.cpp - Integer, logic and comparison instructions ------------===//
//
// add/sub/mul/mad (with the carry flag), div, rem, min, max, abs, neg, the
// bit operations (and, or, xor, not, shl, shr, shf, bfe, bfi, lop3, prmt,
// popc, clz, brev, bfind), dp4a, sad; setp, set, selp; mov. The float forms
// of the arithmetic run in FloatOps.cpp.
//
// Registers hold raw bits, zero-extended to 64; an operation reads the low
// bits of its type and sign-extends them where the type is signed. The common
// operations take a fast path that chooses the operation once per
// instruction (fastInt, fastSetp); the others go lane by lane (intOp).
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Decode.h"
#include "runtime/emu/Launch.h"

#include <algorithm>
#include <climits>
#include <type_traits>

namespace tilus::emu::exec {
namespace {

bool compare(Cmp c, Type t, uint64_t a, uint64_t b) {
  if (isFloat(t)) {
    double x, y;
    if (t == Type::F32) {
      x = bitsToF32(uint32_t(a));
      y = bitsToF32(uint32_t(b));
    } else if (t == Type::F64) {
      x = bitsToF64(a);
      y = bitsToF64(b);
    } else {
      Half h{kF16, false};
      halfType(t, h);
      x = decodeFloat(a & 0xffff, h.fmt);
      y = decodeFloat(b & 0xffff, h.fmt);
    }
    bool un = std::isnan(x) || std::isnan(y);
    switch (c) {
    case Cmp::Eq:
      return !un && x == y;
    case Cmp::Ne:
      return !un && x != y;
    case Cmp::Lt:
      return !un && x < y;
    case Cmp::Le:
      return !un && x <= y;
    case Cmp::Gt:
      return !un && x > y;
    case Cmp::Ge:
      return !un && x >= y;
    case Cmp::Equ:
      return un || x == y;
    case Cmp::Neu:
      return un || x != y;
    case Cmp::Ltu:
      return un || x < y;
    case Cmp::Leu:
      return un || x <= y;
    case Cmp::Gtu:
      return un || x > y;
    case Cmp::Geu:
      return un || x >= y;
    case Cmp::Num:
      return !un;
    case Cmp::Nan:
      return un;
    default:
      return false;
    }
  }
  unsigned bits = typeBits(t);
  if (t == Type::Pred)
    bits = 1;
  int64_t sa = sext(a, bits), sb = sext(b, bits);
  uint64_t ua = zext(a, bits), ub = zext(b, bits);
  bool sg = isSigned(t);
  switch (c) {
  case Cmp::Eq:
    return ua == ub;
  case Cmp::Ne:
    return ua != ub;
  case Cmp::Lt:
    return sg ? sa < sb : ua < ub;
  case Cmp::Le:
    return sg ? sa <= sb : ua <= ub;
  case Cmp::Gt:
    return sg ? sa > sb : ua > ub;
  case Cmp::Ge:
    return sg ? sa >= sb : ua >= ub;
  case Cmp::Lo:
    return ua < ub;
  case Cmp::Ls:
    return ua <= ub;
  case Cmp::Hi:
    return ua > ub;
  case Cmp::Hs:
    return ua >= ub;
  default:
    return false;
  }
}

uint32_t lop3(uint32_t a, uint32_t b, uint32_t c, uint32_t lut) {
  uint32_t r = 0;
  for (int i = 0; i < 8; ++i) {
    if (!((lut >> i) & 1))
      continue;
    uint32_t x = (i & 4) ? a : ~a;
    uint32_t y = (i & 2) ? b : ~b;
    uint32_t z = (i & 1) ? c : ~c;
    r |= x & y & z;
  }
  return r;
}

uint32_t prmt(uint32_t a, uint32_t b, uint32_t c, Sub mode) {
  uint64_t bytes = (uint64_t(b) << 32) | a;
  auto byteAt = [&](unsigned i) { return uint32_t((bytes >> (8 * i)) & 0xff); };
  uint32_t r = 0;
  if (mode == Sub::None) {
    for (int i = 0; i < 4; ++i) {
      uint32_t sel = (c >> (4 * i)) & 0xf;
      uint32_t v = byteAt(sel & 7);
      if (sel & 8)
        v = (v & 0x80) ? 0xff : 0;
      r |= v << (8 * i);
    }
    return r;
  }
  unsigned s = c & 3;
  unsigned sel[4];
  switch (mode) {
  case Sub::F4e:
    for (unsigned i = 0; i < 4; ++i)
      sel[i] = (s + i) & 7;
    break;
  case Sub::B4e:
    for (unsigned i = 0; i < 4; ++i)
      sel[i] = (s + 8 - i) & 7;
    break;
  case Sub::Rc8:
    for (unsigned i = 0; i < 4; ++i)
      sel[i] = s;
    break;
  case Sub::Ecl: // bytes below byte s repeat byte s
    for (unsigned i = 0; i < 4; ++i)
      sel[i] = std::max(i, s);
    break;
  case Sub::Ecr: // bytes above byte s repeat byte s
    for (unsigned i = 0; i < 4; ++i)
      sel[i] = std::min(i, s);
    break;
  case Sub::Rc16:
    sel[0] = sel[2] = (s & 1) * 2;
    sel[1] = sel[3] = (s & 1) * 2 + 1;
    break;
  default:
    for (unsigned i = 0; i < 4; ++i)
      sel[i] = i;
  }
  for (unsigned i = 0; i < 4; ++i)
    r |= byteAt(sel[i]) << (8 * i);
  return r;
}

//===----------------------------------------------------------------------===//
// ALU
//===----------------------------------------------------------------------===//

/// Integer ALU for one lane: a, b, c are raw register values.
uint64_t intOp(const Instr &I, uint64_t a, uint64_t b, uint64_t c) {
  unsigned bits = typeBits(I.type);
  bool sg = isSigned(I.type);
  int64_t sa = sext(a, bits), sb = sext(b, bits);
  uint64_t ua = zext(a, bits), ub = zext(b, bits);
  auto satS32 = [](int64_t v) -> uint64_t {
    return uint32_t(int32_t(std::clamp<int64_t>(v, INT32_MIN, INT32_MAX)));
  };
  auto mulHi = [&]() -> uint64_t {
    if (bits == 64) {
      if (sg)
        return uint64_t((__int128(sa) * __int128(sb)) >> 64);
      return uint64_t((unsigned __int128)(ua)*ub >> 64);
    }
    if (sg)
      return zext(uint64_t((sa * sb) >> bits), bits);
    return zext((ua * ub) >> bits, bits);
  };
  switch (I.op) {
  case Op::Add:
    if (I.has(FSat) && I.type == Type::S32)
      return satS32(sext(a, 32) + sext(b, 32));
    return zext(a + b, bits);
  case Op::Sub:
    if (I.has(FSat) && I.type == Type::S32)
      return satS32(sext(a, 32) - sext(b, 32));
    return zext(a - b, bits);
  case Op::Mul:
  case Op::Mad: {
    uint64_t r;
    unsigned rbits = bits;
    if (I.has(FWide)) {
      r = sg ? uint64_t(sa * sb) : ua * ub;
      rbits = 2 * bits;
    } else if (I.has(FHi)) {
      r = mulHi();
    } else {
      r = ua * ub;
    }
    if (I.op == Op::Mad) {
      if (I.has(FSat) && I.type == Type::S32 && I.has(FHi))
        return satS32(sext(r, 32) + sext(c, 32));
      r += c;
    }
    return zext(r, rbits);
  }
  case Op::Div:
    if (sg) {
      if (sb == 0)
        return zext(~0ull, bits);
      if (sb == -1)
        return zext(uint64_t(0) - uint64_t(sa), bits);
      return zext(uint64_t(sa / sb), bits);
    }
    return ub == 0 ? zext(~0ull, bits) : ua / ub;
  case Op::Rem:
    if (sg) {
      if (sb == 0)
        return zext(a, bits);
      if (sb == -1)
        return 0;
      return zext(uint64_t(sa % sb), bits);
    }
    return ub == 0 ? ua : ua % ub;
  case Op::Min:
    return sg ? zext(uint64_t(std::min(sa, sb)), bits) : std::min(ua, ub);
  case Op::Max:
    return sg ? zext(uint64_t(std::max(sa, sb)), bits) : std::max(ua, ub);
  case Op::Abs:
    // Unsigned negation: abs of the most negative value is itself, as in PTX.
    return zext(sa < 0 ? uint64_t(0) - ua : ua, bits);
  case Op::Neg:
    return zext(uint64_t(0) - ua, bits);
  case Op::And:
    return a & b;
  case Op::Or:
    return a | b;
  case Op::Xor:
    return a ^ b;
  case Op::Not:
    return I.type == Type::Pred ? uint64_t(!(a & 1)) : zext(~a, bits);
  case Op::Cnot:
    return ua == 0 ? 1 : 0;
  case Op::Shl: {
    uint32_t n = uint32_t(b);
    return n >= bits ? 0 : zext(ua << n, bits);
  }
  case Op::Shr: {
    uint32_t n = uint32_t(b);
    if (sg)
      return zext(uint64_t(sa >> std::min<uint32_t>(n, bits - 1)), bits);
    return n >= bits ? 0 : ua >> n;
  }
  case Op::Shf: {
    uint32_t n = uint32_t(c);
    n = I.has(FWrap) ? (n & 31) : std::min<uint32_t>(n, 32);
    uint64_t v = (uint64_t(uint32_t(b)) << 32) | uint32_t(a);
    if (I.has(FLeft))
      return uint32_t((v << n) >> 32);
    return uint32_t(v >> n);
  }
  case Op::Bfe: {
    uint32_t pos = uint32_t(b) & 0xff, len = uint32_t(c) & 0xff;
    unsigned msb = bits - 1;
    uint64_t sbit = 0;
    if (sg && len != 0)
      sbit = (ua >> std::min<uint32_t>(pos + len - 1, msb)) & 1;
    uint64_t r = 0;
    for (unsigned i = 0; i < bits; ++i) {
      uint64_t bit = (i < len && pos + i <= msb) ? (ua >> (pos + i)) & 1 : sbit;
      r |= bit << i;
    }
    return r;
  }
  case Op::Popc:
    return uint64_t(__builtin_popcountll(ua));
  case Op::Clz:
    return ua == 0 ? bits : uint64_t(__builtin_clzll(ua) - (64 - bits));
  case Op::Brev: {
    uint64_t r = 0;
    for (unsigned i = 0; i < bits; ++i)
      r |= ((ua >> i) & 1) << (bits - 1 - i);
    return r;
  }
  case Op::Bfind: {
    uint64_t v = ua;
    if (sg && sa < 0)
      v = zext(~ua, bits);
    if (v == 0)
      return 0xffffffffu;
    unsigned pos = 63 - __builtin_clzll(v);
    return I.has(FShiftAmt) ? bits - 1 - pos : pos;
  }
  case Op::Dp4a: {
    // c plus the four byte products, each byte sign- or zero-extended by
    // its operand's type; wraps modulo 2^32.
    bool sa4 = I.type == Type::S32, sb4 = I.type2 == Type::S32;
    uint32_t acc = uint32_t(c);
    for (unsigned k = 0; k < 32; k += 8) {
      int64_t x = sa4 ? sext(a >> k, 8) : int64_t((a >> k) & 0xff);
      int64_t y = sb4 ? sext(b >> k, 8) : int64_t((b >> k) & 0xff);
      acc += uint32_t(x * y);
    }
    return acc;
  }
  case Op::Sad: {
    uint64_t diff = sg ? (sa > sb ? uint64_t(sa) - uint64_t(sb)
                                  : uint64_t(sb) - uint64_t(sa))
                       : (ua > ub ? ua - ub : ub - ua);
    return zext(diff + c, bits);
  }
  default:
    return 0;
  }
}

/// The common integer operations, with the operation chosen once per
/// instruction instead of once per lane.
bool fastInt(const Instr &I, uint32_t mask, uint64_t *d, const uint64_t *a,
             const uint64_t *b, const uint64_t *c) {
  unsigned bits = typeBits(I.type);
  if (bits != 32 && bits != 64 && bits != 16)
    return false;
  uint64_t m = bits == 64 ? ~0ull : (1ull << bits) - 1;
  bool sg = isSigned(I.type);
  bool plain = !(I.flags & (FSat | FHi | FWide));
  switch (I.op) {
  case Op::Add:
    if (!plain)
      return false;
    lanes(mask, d, a, b, c,
          [m](uint64_t x, uint64_t y, uint64_t) { return (x + y) & m; });
    return true;
  case Op::Sub:
    if (!plain)
      return false;
    lanes(mask, d, a, b, c,
          [m](uint64_t x, uint64_t y, uint64_t) { return (x - y) & m; });
    return true;
  case Op::Mul:
  case Op::Mad: {
    bool mad = I.op == Op::Mad;
    if (I.has(FLo)) {
      lanes(mask, d, a, b, c, [m, mad](uint64_t x, uint64_t y, uint64_t z) {
        return (x * y + (mad ? z : 0)) & m;
      });
      return true;
    }
    if (I.has(FWide) && bits == 32) {
      if (sg)
        lanes(mask, d, a, b, c, [mad](uint64_t x, uint64_t y, uint64_t z) {
          return uint64_t(int64_t(int32_t(x)) * int32_t(y)) + (mad ? z : 0);
        });
      else
        lanes(mask, d, a, b, c, [mad](uint64_t x, uint64_t y, uint64_t z) {
          return uint64_t(uint32_t(x)) * uint32_t(y) + (mad ? z : 0);
        });
      return true;
    }
    return false;
  }
  case Op::And:
    lanes(mask, d, a, b, c,
          [](uint64_t x, uint64_t y, uint64_t) { return x & y; });
    return true;
  case Op::Or:
    lanes(mask, d, a, b, c,
          [](uint64_t x, uint64_t y, uint64_t) { return x | y; });
    return true;
  case Op::Xor:
    lanes(mask, d, a, b, c,
          [](uint64_t x, uint64_t y, uint64_t) { return x ^ y; });
    return true;
  case Op::Shl:
    lanes(mask, d, a, b, c, [m, bits](uint64_t x, uint64_t y, uint64_t) {
      uint32_t n = uint32_t(y);
      return n >= bits ? 0 : (x << n) & m;
    });
    return true;
  case Op::Shr:
    if (sg)
      lanes(mask, d, a, b, c, [m, bits](uint64_t x, uint64_t y, uint64_t) {
        uint32_t n = std::min<uint32_t>(uint32_t(y), bits - 1);
        return uint64_t(sext(x, bits) >> n) & m;
      });
    else
      lanes(mask, d, a, b, c, [m, bits](uint64_t x, uint64_t y, uint64_t) {
        uint32_t n = uint32_t(y);
        return n >= bits ? 0 : (x & m) >> n;
      });
    return true;
  case Op::Shf: {
    bool wrap = I.has(FWrap), left = I.has(FLeft);
    lanes(mask, d, a, b, c, [wrap, left](uint64_t x, uint64_t y, uint64_t z) {
      uint32_t n = uint32_t(z);
      n = wrap ? (n & 31) : std::min<uint32_t>(n, 32);
      uint64_t v = (uint64_t(uint32_t(y)) << 32) | uint32_t(x);
      return left ? uint64_t(uint32_t((v << n) >> 32))
                  : uint64_t(uint32_t(v >> n));
    });
    return true;
  }
  case Op::Min:
  case Op::Max: {
    bool isMin = I.op == Op::Min;
    if (sg)
      lanes(mask, d, a, b, c,
            [m, bits, isMin](uint64_t x, uint64_t y, uint64_t) {
              int64_t p = sext(x, bits), q = sext(y, bits);
              return uint64_t(isMin ? std::min(p, q) : std::max(p, q)) & m;
            });
    else
      lanes(mask, d, a, b, c, [m, isMin](uint64_t x, uint64_t y, uint64_t) {
        x &= m;
        y &= m;
        return isMin ? std::min(x, y) : std::max(x, y);
      });
    return true;
  }
  default:
    return false;
  }
}

template <typename T> inline T asType(uint64_t v) {
  if constexpr (std::is_same_v<T, float>)
    return bitsToF32(uint32_t(v));
  else
    return T(v);
}

/// setp without a boolean operator on 32/64-bit integers and f32.
template <typename T>
void setpLanes(Cmp cmp, uint32_t mask, uint64_t *p, uint64_t *q,
               const uint64_t *a, const uint64_t *b) {
  auto run = [&](auto f) {
    if (mask == 0xffffffffu && !q) {
      for (int l = 0; l < 32; ++l)
        p[l] = f(asType<T>(a[l]), asType<T>(b[l]));
      return;
    }
    FOR_LANES(mask, {
      bool r = f(asType<T>(a[l]), asType<T>(b[l]));
      p[l] = r;
      if (q)
        q[l] = !r;
    });
  };
  switch (cmp) {
  case Cmp::Eq:
    return run([](T x, T y) { return x == y; });
  case Cmp::Ne:
    if constexpr (std::is_same_v<T, float>)
      return run([](T x, T y) { return x == x && y == y && x != y; });
    else
      return run([](T x, T y) { return x != y; });
  case Cmp::Lt:
  case Cmp::Lo:
    return run([](T x, T y) { return x < y; });
  case Cmp::Le:
  case Cmp::Ls:
    return run([](T x, T y) { return x <= y; });
  case Cmp::Gt:
  case Cmp::Hi:
    return run([](T x, T y) { return x > y; });
  case Cmp::Ge:
  case Cmp::Hs:
    return run([](T x, T y) { return x >= y; });
  default:
    return;
  }
}

} // namespace

bool Launch::fastSetp(Warp &w, const Instr &I, uint32_t mask, const uint64_t *a,
                      const uint64_t *b) {
  if (I.boolOp != BoolOp::None)
    return false;
  const Operand &o = I.ops[0];
  uint64_t *p =
      o.kind == Operand::Vec
          ? (o.regs[0] == kNoReg ? scratch : w.regs + size_t(o.regs[0]) * 32)
          : dst(w, o);
  uint64_t *q = o.kind == Operand::Vec && o.regs[1] != kNoReg
                    ? w.regs + size_t(o.regs[1]) * 32
                    : nullptr;
  bool isF = I.type == Type::F32;
  bool orderedOnly = I.cmp <= Cmp::Hs;
  if (!orderedOnly)
    return false;
  bool unsignedCmp = I.cmp >= Cmp::Lo && I.cmp <= Cmp::Hs;
  switch (I.type) {
  case Type::S32:
    if (unsignedCmp)
      setpLanes<uint32_t>(I.cmp, mask, p, q, a, b);
    else
      setpLanes<int32_t>(I.cmp, mask, p, q, a, b);
    return true;
  case Type::U32:
  case Type::B32:
    setpLanes<uint32_t>(I.cmp, mask, p, q, a, b);
    return true;
  case Type::S64:
    if (unsignedCmp)
      setpLanes<uint64_t>(I.cmp, mask, p, q, a, b);
    else
      setpLanes<int64_t>(I.cmp, mask, p, q, a, b);
    return true;
  case Type::U64:
  case Type::B64:
    setpLanes<uint64_t>(I.cmp, mask, p, q, a, b);
    return true;
  case Type::F32:
    if (isF && !I.has(FFtz) && !unsignedCmp) {
      setpLanes<float>(I.cmp, mask, p, q, a, b);
      return true;
    }
    return false;
  default:
    return false;
  }
}

void Launch::execMov(Warp &w, const Instr &I, uint32_t mask) {
  const Operand &d = I.ops[0], &s = I.ops[1];
  if (d.kind == Operand::Vec) { // unpack
    unsigned eb = typeBits(I.type) / d.count;
    uint64_t ta[32];
    const uint64_t *a = src(w, s, ta);
    for (unsigned k = 0; k < d.count; ++k) {
      if (d.regs[k] == kNoReg)
        continue;
      uint64_t *o = w.regs + size_t(d.regs[k]) * 32;
      FOR_LANES(mask, o[l] = zext(a[l] >> (eb * k), eb));
    }
  } else if (s.kind == Operand::Vec) { // pack
    unsigned eb = typeBits(I.type) / s.count;
    uint64_t tmp[4][32];
    const uint64_t *e[4];
    for (unsigned k = 0; k < s.count; ++k)
      e[k] = vecElem(w, s, k, tmp[k]);
    uint64_t *o = dst(w, d);
    FOR_LANES(mask, {
      uint64_t v = 0;
      for (unsigned k = 0; k < s.count; ++k)
        if (e[k])
          v |= zext(e[k][l], eb) << (eb * k);
      o[l] = v;
    });
  } else {
    uint64_t ta[32];
    const uint64_t *a = src(w, s, ta);
    uint64_t *o = dst(w, d);
    unsigned bits = I.type == Type::Pred ? 1 : typeBits(I.type);
    FOR_LANES(mask, o[l] = zext(a[l], bits));
  }
}

/// add, sub, min and max of two 16-bit halves (.u16x2, .s16x2; sm_90),
/// each half on its own (wrapping), and `.relu` of min/max (s16x2): a
/// negative half becomes 0.
static uint64_t pairOp(const Instr &I, uint64_t a, uint64_t b) {
  bool relu = I.has(FRelu), sg = I.type == Type::S16x2;
  uint64_t r = 0;
  for (unsigned h = 0; h < 2; ++h) {
    uint64_t x = (a >> (16 * h)) & 0xffff, y = (b >> (16 * h)) & 0xffff;
    int64_t p = sg ? sext(x, 16) : int64_t(x), q = sg ? sext(y, 16) : int64_t(y);
    int64_t v = I.op == Op::Add   ? p + q
                : I.op == Op::Sub ? p - q
                : I.op == Op::Min ? std::min(p, q)
                                  : std::max(p, q);
    if (relu && v < 0)
      v = 0;
    r |= (uint64_t(v) & 0xffff) << (16 * h);
  }
  return r;
}

bool Launch::execInt(Warp &w, const Instr &I, uint32_t mask,
                     const AluArgs &args) {
  uint64_t *d = args.d;
  const uint64_t *a = args.a, *b = args.b, *c = args.c;
  if (I.type == Type::U16x2 || I.type == Type::S16x2) {
    FOR_LANES(mask, d[l] = pairOp(I, a[l], b[l]));
    return true;
  }
  if (I.has(FRelu) && I.type == Type::S32) {
    FOR_LANES(mask, {
      int64_t v = sext(intOp(I, a[l], b[l], c[l]), 32);
      d[l] = v < 0 ? 0 : zext(uint64_t(v), 32);
    });
    return true;
  }
  if (fastInt(I, mask, d, a, b, c))
    return true;
  FOR_LANES(mask, d[l] = intOp(I, a[l], b[l], c[l]));
  return true;
}

/// Extended-precision arithmetic through the carry flag CC.CF.
bool Launch::execCarry(Warp &w, const Instr &I, uint32_t mask,
                       const AluArgs &args) {
  uint64_t *d = args.d;
  const uint64_t *a = args.a, *b = args.b, *c = args.c;
  Type t = I.type;
  uint64_t *cc = w.regs + size_t(I.aux) * 32;
  unsigned bits = typeBits(t);
  bool in = I.has(FCarryIn), out = I.has(FCarryOut);
  FOR_LANES(mask, {
    unsigned __int128 m = (unsigned __int128)1 << bits;
    unsigned __int128 x = zext(a[l], bits), y = zext(b[l], bits);
    unsigned __int128 cin = in ? (cc[l] & 1) : 0, r;
    uint64_t carry;
    if (I.op == Op::Sub) {
      r = (x - y - cin) & (m - 1);
      carry = x < y + cin; // the borrow
    } else {
      unsigned __int128 addend = y;
      if (I.op == Op::Mad) {
        uint64_t prod = intOp(I, a[l], b[l], 0); // .lo or .hi product
        addend = zext(prod, bits) + 0;
        x = zext(c[l], bits);
      }
      unsigned __int128 sum = x + addend + cin;
      r = sum & (m - 1);
      carry = uint64_t(sum >> bits) & 1;
    }
    d[l] = uint64_t(r);
    if (out)
      cc[l] = carry;
  });
  return true;
}

bool Launch::execBits(Warp &w, const Instr &I, uint32_t mask,
                      const AluArgs &args) {
  uint64_t *d = args.d;
  const uint64_t *a = args.a, *b = args.b, *c = args.c;
  switch (I.op) {
  case Op::Prmt:
    FOR_LANES(mask, d[l] = prmt(uint32_t(a[l]), uint32_t(b[l]), uint32_t(c[l]),
                                I.sub));
    return true;
  case Op::Not:
  case Op::Cnot:
    if (fastInt(I, mask, d, a, b, c))
      return true;
    FOR_LANES(mask, d[l] = intOp(I, a[l], b[l], c[l]));
    return true;
  case Op::Bfe:
  case Op::Popc:
  case Op::Clz:
  case Op::Brev:
  case Op::Bfind:
  case Op::Dp4a:
  case Op::Sad:
    FOR_LANES(mask, d[l] = intOp(I, a[l], b[l], c[l]));
    return true;
  default:
    return false;
  }
}

bool Launch::execBfi(Warp &w, const Instr &I, uint32_t mask,
                     const AluArgs &args) {
  uint64_t *d = args.d;
  const uint64_t *a = args.a, *b = args.b, *c = args.c;
  Type t = I.type;
  uint64_t te[32];
  const uint64_t *e = src(w, I.ops[4], te);
  unsigned bits = typeBits(t);
  FOR_LANES(mask, {
    uint32_t pos = uint32_t(c[l]) & 0xff, len = uint32_t(e[l]) & 0xff;
    uint64_t r = zext(b[l], bits);
    for (uint32_t i = 0; i < len && pos + i < bits; ++i)
      r = (r & ~(1ull << (pos + i))) | (((a[l] >> i) & 1) << (pos + i));
    d[l] = r;
  });
  return true;
}

bool Launch::execLop3(Warp &w, const Instr &I, uint32_t mask,
                      const AluArgs &args) {
  uint64_t *d = args.d;
  const uint64_t *a = args.a, *b = args.b, *c = args.c;
  if (I.ops[4].kind == Operand::Imm) {
    // A tree of bitwise multiplexers over the table's eight entries.
    uint32_t lut = uint32_t(I.ops[4].imm), e[8];
    for (int i = 0; i < 8; ++i)
      e[i] = ((lut >> i) & 1) ? ~0u : 0u;
    lanes(mask, d, a, b, c, [&e](uint64_t x, uint64_t y, uint64_t z) {
      uint32_t p = uint32_t(x), q = uint32_t(y), r = uint32_t(z);
      auto mux = [](uint32_t s, uint32_t one, uint32_t zero) {
        return (s & one) | (~s & zero);
      };
      uint32_t t0 = mux(r, e[1], e[0]), t1 = mux(r, e[3], e[2]);
      uint32_t t2 = mux(r, e[5], e[4]), t3 = mux(r, e[7], e[6]);
      return uint64_t(mux(p, mux(q, t3, t2), mux(q, t1, t0)));
    });
    return true;
  }
  uint64_t te[32];
  const uint64_t *e = src(w, I.ops[4], te);
  FOR_LANES(mask, d[l] = lop3(uint32_t(a[l]), uint32_t(b[l]), uint32_t(c[l]),
                              uint32_t(e[l]) & 0xff));
  return true;
}

bool Launch::execSelp(Warp &w, const Instr &I, uint32_t mask,
                      const AluArgs &args) {
  uint64_t *d = args.d;
  const uint64_t *a = args.a, *b = args.b, *c = args.c;
  FOR_LANES(mask, d[l] = (c[l] & 1) ? a[l] : b[l]);
  return true;
}

bool Launch::execSetp(Warp &w, const Instr &I, uint32_t mask,
                      const AluArgs &args) {
  const uint64_t *a = args.a, *b = args.b;
  Type t = I.type;
  if (fastSetp(w, I, mask, a, b))
    return true;
  const Operand &o = I.ops[0];
  uint64_t *p = o.kind != Operand::Vec ? dst(w, o)
                : o.regs[0] == kNoReg  ? scratch
                                       : w.regs + size_t(o.regs[0]) * 32;
  uint64_t *q = o.kind == Operand::Vec && o.regs[1] != kNoReg
                    ? w.regs + size_t(o.regs[1]) * 32
                    : nullptr;
  uint64_t tp[32];
  const uint64_t *pc = I.boolOp != BoolOp::None ? src(w, I.ops[3], tp) : tp;
  unsigned n = (t == Type::F16x2 || t == Type::BF16x2) ? 2 : 1;
  Type et = t == Type::F16x2 ? Type::F16 : t == Type::BF16x2 ? Type::BF16 : t;
  FOR_LANES(mask, {
    bool r[2];
    for (unsigned k = 0; k < n; ++k) {
      uint64_t x = a[l] >> (16 * k), y = b[l] >> (16 * k);
      if (I.has(FFtz) && et == Type::F32) {
        x = f32ToBits(ftz(bitsToF32(uint32_t(x))));
        y = f32ToBits(ftz(bitsToF32(uint32_t(y))));
      }
      r[k] = compare(I.cmp, et, x, y);
    }
    if (n == 1)
      r[1] = !r[0];
    bool cc = pc[l] & 1;
    auto comb = [&](bool x) {
      switch (I.boolOp) {
      case BoolOp::And:
        return x && cc;
      case BoolOp::Or:
        return x || cc;
      case BoolOp::Xor:
        return x != cc;
      default:
        return x;
      }
    };
    p[l] = comb(r[0]);
    if (q)
      q[l] = comb(r[1]);
  });
  return true;
}

bool Launch::execSet(Warp &w, const Instr &I, uint32_t mask,
                     const AluArgs &args) {
  uint64_t *d = args.d;
  const uint64_t *a = args.a, *b = args.b;
  uint64_t tp[32];
  const uint64_t *pc = I.boolOp != BoolOp::None ? src(w, I.ops[3], tp) : tp;
  FOR_LANES(mask, {
    bool r = compare(I.cmp, I.type2, a[l], b[l]);
    bool cc = pc[l] & 1;
    if (I.boolOp == BoolOp::And)
      r = r && cc;
    else if (I.boolOp == BoolOp::Or)
      r = r || cc;
    else if (I.boolOp == BoolOp::Xor)
      r = r != cc;
    if (I.type == Type::F32)
      d[l] = r ? 0x3f800000u : 0;
    else
      d[l] = r ? zext(~0ull, typeBits(I.type)) : 0;
  });
  return true;
}

} // namespace tilus::emu::exec

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

namespace tilus::emu::decode {
namespace {

bool cmpByName(std::string_view s, Cmp &c) {
  static const std::unordered_map<std::string_view, Cmp> m = {
      {"eq", Cmp::Eq},   {"ne", Cmp::Ne},   {"lt", Cmp::Lt},
      {"le", Cmp::Le},   {"gt", Cmp::Gt},   {"ge", Cmp::Ge},
      {"lo", Cmp::Lo},   {"ls", Cmp::Ls},   {"hi", Cmp::Hi},
      {"hs", Cmp::Hs},   {"equ", Cmp::Equ}, {"neu", Cmp::Neu},
      {"ltu", Cmp::Ltu}, {"leu", Cmp::Leu}, {"gtu", Cmp::Gtu},
      {"geu", Cmp::Geu}, {"num", Cmp::Num}, {"nan", Cmp::Nan}};
  auto it = m.find(s);
  if (it == m.end())
    return false;
  c = it->second;
  return true;
}

bool intModifier(Decoding &d, std::string_view m) {
  Instr &ins = d.ins;
  Cmp c;
  if (m == "cc" &&
      (ins.op == Op::Add || ins.op == Op::Sub || ins.op == Op::Mad)) {
    ins.flags |= FCarryOut;
  } else if ((m == "wrap" || m == "clamp") && ins.op == Op::Shf) {
    if (m == "wrap")
      ins.flags |= FWrap;
  } else if ((m == "l" || m == "r") && ins.op == Op::Shf) {
    if (m == "l")
      ins.flags |= FLeft;
  } else if (m == "shiftamt" && ins.op == Op::Bfind) {
    ins.flags |= FShiftAmt;
  } else if ((ins.op == Op::Setp || ins.op == Op::Set) && cmpByName(m, c) &&
             !d.sawCmp && ins.boolOp == BoolOp::None) {
    ins.cmp = c;
    d.sawCmp = true;
  } else if ((ins.op == Op::Setp || ins.op == Op::Set) &&
             (m == "and" || m == "or" || m == "xor")) {
    ins.boolOp = m == "and"  ? BoolOp::And
                 : m == "or" ? BoolOp::Or
                             : BoolOp::Xor;
  } else if (ins.op == Op::Prmt && (m == "f4e" || m == "b4e" || m == "rc8" ||
                                    m == "ecl" || m == "ecr" || m == "rc16")) {
    ins.sub = m == "f4e"   ? Sub::F4e
              : m == "b4e" ? Sub::B4e
              : m == "rc8" ? Sub::Rc8
              : m == "ecl" ? Sub::Ecl
              : m == "ecr" ? Sub::Ecr
                           : Sub::Rc16;
  } else {
    return false;
  }
  return true;
}

Status checkInt(Decoding &d) {
  Instr &ins = d.ins;
  Type t0 = d.type(0), t1 = d.type(1);
  Status st;
  switch (ins.op) {
  case Op::Set:
    st = d.need(d.types.size() == 2 && d.sawCmp,
                "expected a comparison, destination and source type");
    if (!st)
      return st;
    ins.type2 = t1;
    d.fixDoubleLiterals(t1);
    return Status::success();
  case Op::Setp:
    st = d.need(d.types.size() == 1 && d.sawCmp,
                "expected a comparison and a type");
    if (!st)
      return st;
    d.fixDoubleLiterals(t0);
    if (ins.boolOp != BoolOp::None)
      return d.need(ins.nops == 4,
                    "a boolean setp takes a predicate operand c");
    return d.need(ins.nops == 3, "three operands");
  case Op::Mov:
    d.fixDoubleLiterals(t0);
    return d.need(t0 != Type::None, "expected a type");
  case Op::Dp4a: {
    auto is32 = [](Type t) { return t == Type::U32 || t == Type::S32; };
    ins.type2 = t1;
    return d.need(d.types.size() == 2 && is32(t0) && is32(t1),
                  "dp4a.{u32,s32}.{u32,s32}");
  }
  case Op::Sad:
    return d.need(d.types.size() == 1 && !isFloat(t0) && typeBits(t0) >= 16 &&
                      t0 != Type::Pred,
                  "sad with a 16/32/64-bit integer type");
  default:
    break;
  }
  st = d.typed();
  if (!st)
    return st;
  if (t0 == Type::U16x2 || t0 == Type::S16x2) {
    st = d.need((ins.op == Op::Add || ins.op == Op::Sub || ins.op == Op::Min ||
                 ins.op == Op::Max) &&
                    !(ins.flags & (FSat | FCarryIn | FCarryOut)),
                "the .u16x2 and .s16x2 types are for add, sub, min and max");
    if (!st)
      return st;
  }
  if (ins.has(FRelu))
    return d.need((ins.op == Op::Min || ins.op == Op::Max) &&
                      (t0 == Type::S32 || t0 == Type::S16x2),
                  ".relu is for min and max of .s32 or .s16x2");
  if (ins.flags & (FCarryIn | FCarryOut)) {
    st = d.need((t0 == Type::U32 || t0 == Type::S32 || t0 == Type::U64 ||
                 t0 == Type::S64) &&
                    !ins.has(FSat) && !ins.has(FWide),
                "carry arithmetic on 32/64-bit integers");
    if (!st)
      return st;
  }
  if (ins.op == Op::Mul || ins.op == Op::Mad) {
    if (!isFloat(t0) && !(ins.flags & (FHi | FLo | FWide)))
      return d.need(false, "integer mul/mad needs .lo, .hi or .wide");
  }
  return Status::success();
}

} // namespace

const Family &intFamily() {
  static const Family f = {{{"add", Op::Add, 3, 3},
                            {"sub", Op::Sub, 3, 3},
                            {"mul", Op::Mul, 3, 3},
                            {"mad", Op::Mad, 4, 4},
                            {"addc", Op::Add, 3, 3, FCarryIn},
                            {"subc", Op::Sub, 3, 3, FCarryIn},
                            {"madc", Op::Mad, 4, 4, FCarryIn},
                            {"div", Op::Div, 3, 3},
                            {"rem", Op::Rem, 3, 3},
                            {"min", Op::Min, 3, 3},
                            {"max", Op::Max, 3, 3},
                            {"abs", Op::Abs, 2, 2},
                            {"neg", Op::Neg, 2, 2},
                            {"and", Op::And, 3, 3},
                            {"or", Op::Or, 3, 3},
                            {"xor", Op::Xor, 3, 3},
                            {"not", Op::Not, 2, 2},
                            {"cnot", Op::Cnot, 2, 2},
                            {"shl", Op::Shl, 3, 3},
                            {"shr", Op::Shr, 3, 3},
                            {"shf", Op::Shf, 4, 4},
                            {"bfe", Op::Bfe, 4, 4},
                            {"bfi", Op::Bfi, 5, 5},
                            {"lop3", Op::Lop3, 5, 5},
                            {"prmt", Op::Prmt, 4, 4},
                            {"popc", Op::Popc, 2, 2},
                            {"clz", Op::Clz, 2, 2},
                            {"brev", Op::Brev, 2, 2},
                            {"bfind", Op::Bfind, 2, 2},
                            {"dp4a", Op::Dp4a, 4, 4},
                            {"sad", Op::Sad, 4, 4},
                            {"setp", Op::Setp, 3, 4},
                            {"selp", Op::Selp, 4, 4},
                            {"set", Op::Set, 3, 4},
                            {"mov", Op::Mov, 2, 2}},
                           intModifier,
                           checkInt};
  return f;
}

} // namespace tilus::emu::decode
