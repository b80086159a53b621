//===- FastCast.h - Packed casts of small types to f16/bf16 -----*- C++ -*-===//
//
// `tilus.cast` from a type of at most 8 bits to f16 or bf16 two elements per
// instruction: the codes of two registers are packed into the halves of one
// 32-bit register, moved into position with integer `shl`/`and`/`lop3.b32`,
// and turned into values by one f16x2/bf16x2 instruction with a magic
// number (docs/codegen.md, "Fast casts to f16 and bf16"). Every result is
// the dtype library's, bit for bit; the generic path of
// codegen/CastCodegen.h stays the reference for the other pairs of types.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_CODEGEN_FASTCAST_H
#define TILUS_CODEGEN_FASTCAST_H

#include "ir/dtype/DType.h"

#include "mlir/IR/Builders.h"

namespace tilus {

/// Whether `emitFastCast` converts `count` registers of `from` to `to`: `to`
/// is f16 or bf16, `count` is even and the pair of types has a packed
/// conversion.
bool hasFastCast(DType from, DType to, int64_t count);

/// Converts `value`, a rank-1 vector of the registers of `from`, to the
/// registers of `to` with packed instructions.
/// @pre `hasFastCast(from, to, number of elements of value)`
mlir::Value emitFastCast(mlir::OpBuilder &builder, mlir::Location loc,
                         mlir::Value value, DType from, DType to);

/// The same conversion of the first `count` codes of a thread's bit string,
/// read straight from `words` (a rank-1 vector of i32, the bits LSB first:
/// code i at bits [i * b, (i + 1) * b)), as a view of bytes followed by a
/// cast presents them: each pair of codes is moved into place with shifts
/// (a funnel shift where a code straddles two words) instead of being taken
/// apart into registers and packed again.
/// @pre `hasFastCast(from, to, count)`, count * b <= 32 * words
mlir::Value emitFastCastFromWords(mlir::OpBuilder &builder, mlir::Location loc,
                                  mlir::Value words, int64_t count, DType from,
                                  DType to);

} // namespace tilus

#endif // TILUS_CODEGEN_FASTCAST_H
