//===- CastCodegen.cpp - Exact element conversions as per-thread code -----===//

#include "codegen/CastCodegen.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <cmath>

using namespace mlir;
using namespace tilus;

Type tilus::withElementType(Type type, Type element) {
  if (auto vector = dyn_cast<VectorType>(type))
    return VectorType::get(vector.getShape(), element);
  return element;
}

static Type elementOf(Type type) {
  if (auto vector = dyn_cast<VectorType>(type))
    return vector.getElementType();
  return type;
}

static Attribute splat(Type type, Attribute scalar) {
  if (auto vector = dyn_cast<VectorType>(type))
    return SplatElementsAttr::get(vector, scalar);
  return scalar;
}

Value tilus::emitConstant(OpBuilder &builder, Location loc, Type type,
                          int64_t value) {
  auto element = cast<IntegerType>(elementOf(type));
  Attribute scalar = builder.getIntegerAttr(
      element, APInt(element.getWidth(), static_cast<uint64_t>(value),
                     /*isSigned=*/true));
  return builder.create<arith::ConstantOp>(
      loc, cast<TypedAttr>(splat(type, scalar)));
}

Value tilus::emitFloatConstant(OpBuilder &builder, Location loc, Type type,
                               double value) {
  Attribute scalar = builder.getFloatAttr(elementOf(type), value);
  return builder.create<arith::ConstantOp>(
      loc, cast<TypedAttr>(splat(type, scalar)));
}

Type tilus::getRegisterElementType(MLIRContext *context, DType dtype) {
  if (dtype.isBool())
    return IntegerType::get(context, 1);
  if (dtype == DType::f16())
    return Float16Type::get(context);
  if (dtype == DType::bf16())
    return BFloat16Type::get(context);
  if (dtype == DType::f32())
    return Float32Type::get(context);
  return IntegerType::get(context, std::max(8u, dtype.bitWidth()));
}

namespace {

/// The emitter of one conversion: small helpers over a builder, all working
/// on scalars or vectors of the shape of the value being converted.
struct CastEmitter {
  OpBuilder &b;
  Location loc;
  Type shape; ///< any type of the converted value's shape
  /// Rounds as arithmetic does: a finite value beyond the largest finite one
  /// of a format with infinities becomes infinity. A cast saturates instead.
  bool overflowToInfinity = false;

  Type intType(unsigned width) {
    return withElementType(shape, b.getIntegerType(width));
  }
  Type f32Type() { return withElementType(shape, b.getF32Type()); }
  Value c(unsigned width, int64_t value) {
    return emitConstant(b, loc, intType(width), value);
  }
  Value f(double value) { return emitFloatConstant(b, loc, f32Type(), value); }
  Value bitcast(Value v, Type element) {
    return b.create<arith::BitcastOp>(loc, withElementType(shape, element), v);
  }
  Value select(Value cond, Value t, Value e) {
    return b.create<arith::SelectOp>(loc, cond, t, e);
  }
  Value cmpi(arith::CmpIPredicate p, Value x, Value y) {
    return b.create<arith::CmpIOp>(loc, p, x, y);
  }
  Value cmpf(arith::CmpFPredicate p, Value x, Value y) {
    return b.create<arith::CmpFOp>(loc, p, x, y);
  }
  Value andi(Value x, Value y) { return b.create<arith::AndIOp>(loc, x, y); }
  Value ori(Value x, Value y) { return b.create<arith::OrIOp>(loc, x, y); }
  Value addi(Value x, Value y) { return b.create<arith::AddIOp>(loc, x, y); }
  Value subi(Value x, Value y) { return b.create<arith::SubIOp>(loc, x, y); }
  Value shl(Value x, Value y) { return b.create<arith::ShLIOp>(loc, x, y); }
  Value lshr(Value x, Value y) { return b.create<arith::ShRUIOp>(loc, x, y); }
  Value extui(Value x, unsigned width) {
    return b.create<arith::ExtUIOp>(loc, intType(width), x);
  }
  Value trunci(Value x, unsigned width) {
    return b.create<arith::TruncIOp>(loc, intType(width), x);
  }
  /// Resizes an integer to `width`, zero-extending.
  Value resize(Value x, unsigned width) {
    unsigned from = elementOf(x.getType()).getIntOrFloatBitWidth();
    if (from == width)
      return x;
    return from < width ? extui(x, width) : trunci(x, width);
  }

  Value isNaN(Value x) { return cmpf(arith::CmpFPredicate::UNO, x, x); }

  /// Makes a NaN f32 the canonical NaN.
  Value canonicalizeF32(Value x) {
    return select(isNaN(x), bitcast(c(32, 0x7fffffff), b.getF32Type()), x);
  }

  /// The exact f32 value of a small float code (i8 register).
  Value decodeSmallFloat(Value reg, DType from) {
    unsigned bits = from.bitWidth(), man = from.mantissaBits();
    int bias = from.exponentBias();
    Value code = extui(reg, 32);
    Value mag = andi(code, c(32, (1 << (bits - 1)) - 1));
    Value negative = cmpi(arith::CmpIPredicate::ne, mag, code);
    Value field = lshr(mag, c(32, man));
    Value frac = andi(mag, c(32, (1 << man) - 1));
    Value isNormal = cmpi(arith::CmpIPredicate::ne, field, c(32, 0));
    Value sig = select(isNormal, ori(frac, c(32, 1 << man)), frac);
    // 2^(max(field, 1) - bias - man) as the f32 of that biased exponent.
    Value exponent = b.create<arith::MaxUIOp>(loc, field, c(32, 1));
    exponent = addi(exponent, c(32, 127 - bias - static_cast<int>(man)));
    Value scale = bitcast(shl(exponent, c(32, 23)), b.getF32Type());
    Value value = b.create<arith::MulFOp>(
        loc, b.create<arith::UIToFPOp>(loc, f32Type(), sig), scale);
    value = select(negative, b.create<arith::NegFOp>(loc, value), value);
    Value nan = bitcast(c(32, 0x7fffffff), b.getF32Type());
    int64_t allOnes = (int64_t(1) << from.exponentBits()) - 1;
    switch (from.floatSpecials()) {
    case DType::FloatSpecials::Finite:
      break;
    case DType::FloatSpecials::NaNOnly:
      value = select(
          cmpi(arith::CmpIPredicate::eq, mag, c(32, (1 << (bits - 1)) - 1)),
          nan, value);
      break;
    case DType::FloatSpecials::IEEE: {
      Value top = cmpi(arith::CmpIPredicate::eq, field, c(32, allOnes));
      Value inf = select(negative, f(-INFINITY), f(INFINITY));
      Value special =
          select(cmpi(arith::CmpIPredicate::eq, frac, c(32, 0)), inf, nan);
      value = select(top, special, value);
      break;
    }
    }
    return value;
  }

  /// The exact f32 of a float register, NaN canonical.
  Value floatToF32(Value reg, DType from) {
    if (from == DType::f32())
      return canonicalizeF32(reg);
    if (from == DType::f16())
      return canonicalizeF32(b.create<arith::ExtFOp>(loc, f32Type(), reg));
    if (from == DType::bf16()) {
      Value wide = shl(extui(bitcast(reg, b.getI16Type()), 32), c(32, 16));
      return canonicalizeF32(bitcast(wide, b.getF32Type()));
    }
    return decodeSmallFloat(reg, from);
  }

  /// Rounds an f32 to a float format by integer arithmetic on its fields;
  /// the code, in an i32.
  Value encodeFloat(Value x, DType to) {
    unsigned bits = to.bitWidth(), man = to.mantissaBits();
    int bias = to.exponentBias();
    int minExponent = 1 - bias;
    int64_t maxMag = static_cast<int64_t>(to.maxFiniteCode());
    Value xb = bitcast(x, b.getI32Type());
    Value sign = lshr(xb, c(32, 31));
    Value abs = andi(xb, c(32, 0x7fffffff));
    Value field = lshr(abs, c(32, 23));
    Value frac = andi(abs, c(32, 0x7fffff));
    Value sig = select(cmpi(arith::CmpIPredicate::ne, field, c(32, 0)),
                       ori(frac, c(32, 0x800000)), frac);
    // x = sig * 2^(e - 23); the target quantum there is 2^(te - man).
    Value e = subi(b.create<arith::MaxSIOp>(loc, field, c(32, 1)), c(32, 127));
    Value te = b.create<arith::MaxSIOp>(loc, e, c(32, minExponent));
    Value shift = addi(subi(te, e), c(32, 23 - static_cast<int>(man)));
    // Beyond 25 every significand rounds to 0 (it is below half a quantum).
    shift = b.create<arith::MinSIOp>(loc, shift, c(32, 26));
    Value q = lshr(sig, shift);
    Value rem = andi(sig, subi(shl(c(32, 1), shift), c(32, 1)));
    Value half = shl(c(32, 1), subi(shift, c(32, 1)));
    // Exponent field and significand add up to the code (a carry out of
    // the significand is the next binade).
    Value code = addi(shl(addi(te, c(32, bias - 1)), c(32, man)), q);
    Value tieUp =
        andi(cmpi(arith::CmpIPredicate::eq, rem, half),
             cmpi(arith::CmpIPredicate::ne, andi(code, c(32, 1)), c(32, 0)));
    Value up = b.create<arith::OrIOp>(
        loc, cmpi(arith::CmpIPredicate::ugt, rem, half), tieUp);
    code = addi(code, extui(up, 32));
    if (overflowToInfinity && to.hasInfinity())
      code = select(cmpi(arith::CmpIPredicate::ugt, code, c(32, maxMag)),
                    c(32, static_cast<int64_t>(to.infinityCode())), code);
    else
      code = b.create<arith::MinUIOp>(loc, code, c(32, maxMag));
    Value isInf = cmpi(arith::CmpIPredicate::eq, abs, c(32, 0x7f800000));
    code =
        select(isInf,
               c(32, to.hasInfinity() ? static_cast<int64_t>(to.infinityCode())
                                      : maxMag),
               code);
    code = ori(code, shl(sign, c(32, bits - 1)));
    Value isNaN = cmpi(arith::CmpIPredicate::ugt, abs, c(32, 0x7f800000));
    return select(
        isNaN, c(32, to.hasNaN() ? static_cast<int64_t>(to.nanCode()) : maxMag),
        code);
  }

  /// An f32 (NaN canonical) to a float register of `to`.
  Value f32ToFloat(Value x, DType to) {
    if (to == DType::f32())
      return x;
    if (to == DType::f16() || to == DType::bf16()) {
      bool half = to == DType::f16();
      Type element = half ? Type(b.getF16Type()) : Type(b.getBF16Type());
      Value rounded =
          b.create<arith::TruncFOp>(loc, withElementType(shape, element), x);
      Value rb = bitcast(rounded, b.getI16Type());
      Value xb = bitcast(x, b.getI32Type());
      Value xabs = andi(xb, c(32, 0x7fffffff));
      int64_t inf = half ? 0x7c00 : 0x7f80;
      if (!overflowToInfinity) {
        Value overflow = andi(
            cmpi(arith::CmpIPredicate::eq, andi(rb, c(16, 0x7fff)), c(16, inf)),
            cmpi(arith::CmpIPredicate::ult, xabs, c(32, 0x7f800000)));
        Value saturated = ori(andi(rb, c(16, 0x8000)), c(16, inf - 1));
        rb = select(overflow, saturated, rb);
      }
      rb = select(cmpi(arith::CmpIPredicate::ugt, xabs, c(32, 0x7f800000)),
                  c(16, 0x7fff), rb);
      return bitcast(rb, element);
    }
    return trunci(encodeFloat(x, to), 8);
  }

  /// An integer register of `from` as an i64 value.
  Value intToI64(Value reg, DType from) {
    unsigned bits = from.isBool() ? 1 : from.bitWidth();
    if (from.isBool() || !from.isSigned())
      return resize(from.isBool() ? reg : maskCode(reg, bits), 64);
    unsigned regBits = elementOf(reg.getType()).getIntOrFloatBitWidth();
    if (bits < regBits) {
      Value amount = c(regBits, regBits - bits);
      reg = b.create<arith::ShRSIOp>(loc, shl(reg, amount), amount);
    }
    if (regBits == 64)
      return reg;
    return b.create<arith::ExtSIOp>(loc, intType(64), reg);
  }

  Value maskCode(Value reg, unsigned bits) {
    unsigned regBits = elementOf(reg.getType()).getIntOrFloatBitWidth();
    if (bits >= regBits)
      return reg;
    return andi(reg, c(regBits, (int64_t(1) << bits) - 1));
  }

  /// An i64 value to an integer register of `to`: the low bits (wrap).
  Value i64ToInt(Value v, DType to) {
    if (to.isBool())
      return cmpi(arith::CmpIPredicate::ne, v, c(64, 0));
    unsigned bits = to.bitWidth();
    Value reg = resize(v, std::max(8u, bits));
    return maskCode(reg, bits);
  }

  /// An f32 to an integer register of `to`: truncation toward zero with
  /// saturation, NaN to 0.
  Value f32ToInt(Value x, DType to) {
    if (to.isBool())
      return cmpf(arith::CmpFPredicate::UNE, x, f(0.0));
    Value zero = c(64, 0);
    Value v;
    if (to == DType::unsignedInt(64)) {
      v = b.create<arith::FPToUIOp>(loc, intType(64), x);
      v = select(cmpf(arith::CmpFPredicate::OGE, x, f(std::ldexp(1.0, 64))),
                 c(64, -1), v);
      return select(cmpf(arith::CmpFPredicate::ULT, x, f(1.0)), zero, v);
    }
    v = b.create<arith::FPToSIOp>(loc, intType(64), x);
    v = select(cmpf(arith::CmpFPredicate::OGE, x, f(std::ldexp(1.0, 63))),
               c(64, INT64_MAX), v);
    v = select(cmpf(arith::CmpFPredicate::OLT, x, f(-std::ldexp(1.0, 63))),
               c(64, INT64_MIN), v);
    v = select(isNaN(x), zero, v);
    if (to != DType::signedInt(64)) {
      v = b.create<arith::MaxSIOp>(loc, v,
                                   c(64, static_cast<int64_t>(to.lowest())));
      v = b.create<arith::MinSIOp>(
          loc, v, c(64, static_cast<int64_t>(to.maxFiniteCode())));
    }
    return i64ToInt(v, to);
  }

  /// An i64 integer value (of type `from`) to a float register of `to`.
  Value i64ToFloat(Value v, DType from, DType to) {
    bool isSigned = from.isSigned();
    auto toF32 = [&](Value i) -> Value {
      if (isSigned)
        return b.create<arith::SIToFPOp>(loc, f32Type(), i);
      return b.create<arith::UIToFPOp>(loc, f32Type(), i);
    };
    unsigned bits = from.isBool() ? 1 : from.bitWidth();
    if (to == DType::f32() || bits <= 24)
      return f32ToFloat(toF32(v), to);
    // Round the magnitude to odd at 24 bits: exact in an f32, and the final
    // rounding to a format of at most 22 significand bits is then correct.
    Value negative =
        isSigned ? cmpi(arith::CmpIPredicate::slt, v, c(64, 0)) : c(1, 0);
    Value mag = select(negative, subi(c(64, 0), v), v);
    Value zeros = b.create<LLVM::CountLeadingZerosOp>(loc, intType(64), mag,
                                                      /*is_zero_poison=*/false);
    Value k = b.create<arith::MaxSIOp>(loc, subi(c(64, 40), zeros), c(64, 0));
    Value lost = andi(mag, subi(shl(c(64, 1), k), c(64, 1)));
    Value sticky = extui(cmpi(arith::CmpIPredicate::ne, lost, c(64, 0)), 64);
    Value odd = ori(lshr(mag, k), sticky);
    Value scale = bitcast(shl(addi(trunci(k, 32), c(32, 127)), c(32, 23)),
                          b.getF32Type());
    Value x = b.create<arith::MulFOp>(
        loc, b.create<arith::UIToFPOp>(loc, f32Type(), odd), scale);
    x = select(negative, b.create<arith::NegFOp>(loc, x), x);
    return f32ToFloat(x, to);
  }
};

} // namespace

Value tilus::emitCast(OpBuilder &builder, Location loc, Value value, DType from,
                      DType to) {
  CastEmitter e{builder, loc, value.getType()};
  if (from == to && !from.isFloat())
    return value;
  if (from.isFloat()) {
    Value x = e.floatToF32(value, from);
    return to.isFloat() ? e.f32ToFloat(x, to) : e.f32ToInt(x, to);
  }
  Value v = e.intToI64(value, from);
  return to.isFloat() ? e.i64ToFloat(v, from, to) : e.i64ToInt(v, to);
}

Value tilus::emitComputeCast(OpBuilder &builder, Location loc, Value value,
                             DType from, DType to) {
  if (from == to)
    return value;
  if (!from.isFloat() || !to.isFloat())
    return emitCast(builder, loc, value, from, to);
  CastEmitter e{builder, loc, value.getType()};
  e.overflowToInfinity = true;
  return e.f32ToFloat(e.floatToF32(value, from), to);
}

Value tilus::emitCodeOf(OpBuilder &builder, Location loc, Value value,
                        DType dtype, unsigned width) {
  CastEmitter e{builder, loc, value.getType()};
  Type element = elementOf(value.getType());
  if (isa<FloatType>(element))
    value = e.bitcast(value,
                      builder.getIntegerType(element.getIntOrFloatBitWidth()));
  return e.resize(value, width);
}

Value tilus::emitFromCode(OpBuilder &builder, Location loc, Value code,
                          DType dtype) {
  CastEmitter e{builder, loc, code.getType()};
  Type element = getRegisterElementType(builder.getContext(), dtype);
  if (dtype.isBool()) {
    Value low = e.resize(code, 8);
    return e.cmpi(arith::CmpIPredicate::ne, low, e.c(8, 0));
  }
  unsigned regBits = element.getIntOrFloatBitWidth();
  Value reg = e.maskCode(e.resize(code, regBits), dtype.bitWidth());
  if (isa<FloatType>(element))
    reg = e.bitcast(reg, element);
  return reg;
}
