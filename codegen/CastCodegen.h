//===- CastCodegen.h - Exact element conversions as per-thread code -*- C++
//-*-===//
//
// Conversions between the element types of the dtype library, emitted as
// arith/LLVM operations on one register or on a vector of them, with exactly
// the rules of docs/dtypes.md.
//
// # Register format
//
// A thread keeps one element per register slot:
//
//   bool                      i1 (memory holds one byte; any nonzero is true)
//   f16, bf16, f32            themselves
//   other whole-byte types    the integer of the same width (u8 -> i8,
//                             f8e4m3 -> i8, u16 -> i16, ...)
//   types narrower than a     i8, one element per byte: the code in the low
//   byte (u4, i3, f4e2m1...)  bits, the bits above it zero
//
// Packing into the dense LSB-first format happens at the boundaries that
// need it: global loads and stores (codegen/MemoryLowering.cpp) and `view`.
//
// # Strategy
//
// Every float of at most 16 bits is exactly an f32, so a float source is first
// widened to f32 (NaN becomes the canonical NaN), and an integer source is
// sign- or zero-extended to i64. A target is then produced from one of those
// two with a single rounding:
//   - f16, bf16: PTX `cvt.rn`, with overflow clamped to +-max finite and
//     NaN made canonical (cvt.rn.satfinite needs a newer PTX ISA);
//   - small floats: integer rounding of the f32 fields (round to nearest,
//     ties to the even code, saturation);
//   - integers from floats: truncation with saturation, NaN to 0;
//   - floats from integers wider than an f32 significand: the integer is
//     first rounded to odd at 24 bits, which is exact for the final rounding
//     to any target of at most 22 significand bits.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_CODEGEN_CASTCODEGEN_H
#define TILUS_CODEGEN_CASTCODEGEN_H

#include "ir/dtype/DType.h"

#include "mlir/IR/Builders.h"

namespace tilus {

/// The register type of one element of `dtype` (see the file comment).
mlir::Type getRegisterElementType(mlir::MLIRContext *context, DType dtype);

/// Converts `value` (a register of `from`, or a vector of them) to the
/// register(s) of `to` by the dtype library's rules.
mlir::Value emitCast(mlir::OpBuilder &builder, mlir::Location loc,
                     mlir::Value value, DType from, DType to);

/// `emitCast`, except that equal types give `value` itself (NaN payloads
/// kept) and a float result rounds as arithmetic does (a finite value beyond
/// the largest finite one becomes infinity where the format has it): for
/// moving values into and out of the type arithmetic is computed in.
mlir::Value emitComputeCast(mlir::OpBuilder &builder, mlir::Location loc,
                            mlir::Value value, DType from, DType to);

/// The code of each element of `value` (registers of `dtype`) as an unsigned
/// integer of `width` >= dtype.bitWidth() bits (bool gives 0 or 1).
mlir::Value emitCodeOf(mlir::OpBuilder &builder, mlir::Location loc,
                       mlir::Value value, DType dtype, unsigned width);

/// The registers of `dtype` holding the codes in the low bits of `code`, an
/// integer (or vector) at least as wide as the register; higher bits ignored.
mlir::Value emitFromCode(mlir::OpBuilder &builder, mlir::Location loc,
                         mlir::Value code, DType dtype);

/// An integer or float splat constant of type `type` (scalar or vector).
mlir::Value emitConstant(mlir::OpBuilder &builder, mlir::Location loc,
                         mlir::Type type, int64_t value);
mlir::Value emitFloatConstant(mlir::OpBuilder &builder, mlir::Location loc,
                              mlir::Type type, double value);

/// `type` with its element type (or itself, if scalar) replaced by `element`.
mlir::Type withElementType(mlir::Type type, mlir::Type element);

} // namespace tilus

#endif // TILUS_CODEGEN_CASTCODEGEN_H
