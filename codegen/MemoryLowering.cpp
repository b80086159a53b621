//===- MemoryLowering.cpp - Global tensors and their tile transfers -------===//
//
// A global tensor lowers to `!llvm.struct<(ptr<1>, i32 x rank)>`. A transfer
// moves the registers of the tile in runs of `tilus.vector` elements (chosen
// by passes/Vectorize.cpp, 1 without it): one LLVM vector load or store per
// run, aligned to the run's bytes, under one check of the tensor bounds for
// the run's first element (the pass made it stand for the whole run).
//
// Elements narrower than a byte are densely packed LSB first in memory
// (docs/dtypes.md) and kept one per i8 register (codegen/CastCodegen.h). A
// load reads the byte holding the element's first bit, and the next byte
// when the element straddles into it. A store accesses only bytes of the
// tensor. Where passes/Vectorize.cpp found that each thread holds whole bytes
// (`tilus.vector` = the elements of a byte-aligned group), it writes them
// with plain byte stores (merging a last byte that holds padding). Otherwise
// it changes only the element's bits: an atomic `and` then `or` on each
// aligned 32-bit word inside the tensor, so threads storing neighbouring
// elements of one word do not race; an `atom.cas.b16` loop on an aligned
// 16-bit word inside it where the tensor ends within the 32-bit word. A last
// byte outside any such 16-bit word (at an even address, the tensor ending
// right after it) gets a plain read-modify-write when it holds bits of a
// single element; when it holds several, which other threads may write at
// once, only an atomic is correct and the smallest one, `atom.cas.b16`,
// reaches one byte past the tensor: the one case that needs the allocation
// to extend past the tensor (device allocations always do). bool is one
// byte in memory, any nonzero byte reading as true.
//
//===----------------------------------------------------------------------===//

#include "codegen/CastCodegen.h"
#include "codegen/LayoutCodegen.h"
#include "codegen/SharedAccess.h"
#include "codegen/TileLowering.h"
#include "target/Scratch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <numeric>

using namespace mlir;
using namespace tilus;

namespace {

/// The pointer and extents of a lowered global tensor.
struct GlobalParts {
  Value ptr;
  SmallVector<Value> extents; ///< i32
};

GlobalParts unpackGlobal(OpBuilder &builder, Location loc, Value packed,
                         unsigned rank) {
  GlobalParts parts;
  parts.ptr = builder.create<LLVM::ExtractValueOp>(loc, packed, 0);
  for (unsigned dim = 0; dim < rank; ++dim)
    parts.extents.push_back(
        builder.create<LLVM::ExtractValueOp>(loc, packed, dim + 1));
  return parts;
}

/// For the element a thread holds at register `local`: whether it lies
/// inside the tensor, and its row-major element index (i64).
std::pair<Value, Value> emitElementIndex(OpBuilder &builder, Location loc,
                                         const GlobalParts &global,
                                         const RegisterLayout &layout,
                                         Value threadId, ValueRange offsets,
                                         int64_t local) {
  SmallVector<Value> coords =
      emitLayoutCoordinates(builder, loc, layout, threadId, local);
  Value inBounds, linear;
  Type i64 = builder.getI64Type();
  for (auto [dim, coord] : llvm::enumerate(coords)) {
    Value offset = offsets[dim];
    if (offset.getType() != coord.getType())
      offset = builder.create<arith::TruncIOp>(loc, coord.getType(), offset);
    Value index = builder.create<arith::AddIOp>(loc, offset, coord);
    // Unsigned comparison also rejects negative indices.
    Value ok = builder.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                             index, global.extents[dim]);
    inBounds = inBounds ? builder.create<arith::AndIOp>(loc, inBounds, ok)
                              .getResult()
                        : ok;
    Value wide = builder.create<arith::ExtUIOp>(loc, i64, index);
    if (linear) {
      Value extent =
          builder.create<arith::ExtUIOp>(loc, i64, global.extents[dim]);
      linear = builder.create<arith::MulIOp>(loc, linear, extent);
      linear = builder.create<arith::AddIOp>(loc, linear, wide);
    } else {
      linear = wide;
    }
  }
  return {inBounds, linear};
}

/// The memory type of one element of a whole-byte type.
Type getMemoryType(DType dtype, Type registerType) {
  if (dtype.isBool())
    return IntegerType::get(registerType.getContext(), 8);
  return registerType;
}

Value byteAddress(OpBuilder &builder, Location loc, Value ptr, Value offset) {
  return builder.create<LLVM::GEPOp>(loc, ptr.getType(), builder.getI8Type(),
                                     ptr, ValueRange{offset});
}

/// Loads element `linear` of a packed array of `bits`-bit codes at `ptr`;
/// the code in an i8.
Value emitPackedLoad(OpBuilder &builder, Location loc, Value ptr,
                     Value linear, unsigned bits) {
  Type i8 = builder.getI8Type(), i16 = builder.getI16Type();
  auto c64 = [&](int64_t v) {
    return builder.create<arith::ConstantIntOp>(loc, v, 64);
  };
  Value bit = builder.create<arith::MulIOp>(loc, linear, c64(bits));
  Value byte = builder.create<arith::ShRUIOp>(loc, bit, c64(3));
  Value shift = builder.create<arith::AndIOp>(loc, bit, c64(7));
  Value address = byteAddress(builder, loc, ptr, byte);
  Value word = builder.create<arith::ExtUIOp>(
      loc, i16, builder.create<LLVM::LoadOp>(loc, i8, address));
  if (8 % bits != 0) {
    // Only the last element of a byte may reach into the next one.
    Value straddles = builder.create<arith::CmpIOp>(
        loc, arith::CmpIPredicate::ugt,
        builder.create<arith::AddIOp>(loc, shift, c64(bits)), c64(8));
    auto next = builder.create<scf::IfOp>(
        loc, straddles,
        [&](OpBuilder &b, Location l) {
          Value one = b.create<arith::ConstantIntOp>(l, 1, 64);
          Value nextAddress =
              byteAddress(b, l, ptr, b.create<arith::AddIOp>(l, byte, one));
          Value loaded = b.create<LLVM::LoadOp>(l, i8, nextAddress);
          b.create<scf::YieldOp>(l, loaded);
        },
        [&](OpBuilder &b, Location l) {
          b.create<scf::YieldOp>(
              l, b.create<arith::ConstantIntOp>(l, 0, 8).getResult());
        });
    Value high = builder.create<arith::ExtUIOp>(loc, i16, next.getResult(0));
    high = builder.create<arith::ShLIOp>(
        loc, high, builder.create<arith::ConstantIntOp>(loc, 8, 16));
    word = builder.create<arith::OrIOp>(loc, word, high);
  }
  word = builder.create<arith::ShRUIOp>(
      loc, word, builder.create<arith::TruncIOp>(loc, i16, shift));
  Value code = builder.create<arith::TruncIOp>(loc, i8, word);
  return builder.create<arith::AndIOp>(
      loc, code, builder.create<arith::ConstantIntOp>(loc, (1 << bits) - 1, 8));
}

/// The number of elements of a global tensor (i64).
Value emitElementCount(OpBuilder &builder, Location loc,
                       const GlobalParts &global) {
  Type i64 = builder.getI64Type();
  Value elements = builder.create<arith::ConstantIntOp>(loc, 1, 64);
  for (Value extent : global.extents)
    elements = builder.create<arith::MulIOp>(
        loc, elements, builder.create<arith::ExtUIOp>(loc, i64, extent));
  return elements;
}

/// The number of bytes of a packed tensor of `bits`-bit elements:
/// ceil(elements * bits / 8), as i64.
Value emitPackedBytes(OpBuilder &builder, Location loc,
                      const GlobalParts &global, unsigned bits) {
  Value elements = emitElementCount(builder, loc, global);
  Value totalBits = builder.create<arith::MulIOp>(
      loc, elements, builder.create<arith::ConstantIntOp>(loc, bits, 64));
  return builder.create<arith::ShRUIOp>(
      loc,
      builder.create<arith::AddIOp>(
          loc, totalBits, builder.create<arith::ConstantIntOp>(loc, 7, 64)),
      builder.create<arith::ConstantIntOp>(loc, 3, 64));
}

/// Whether more than one element of a packed tensor of `bits`-bit elements
/// with the given extents and `bytes` bytes has bits in its last byte.
Value emitLastByteShared(OpBuilder &builder, Location loc,
                         const GlobalParts &global, unsigned bits,
                         Value bytes) {
  auto c64 = [&](int64_t v) -> Value {
    return builder.create<arith::ConstantIntOp>(loc, v, 64);
  };
  Value elements = emitElementCount(builder, loc, global);
  // The last-but-one element ends past the last byte's first bit.
  Value lastButOneEnd = builder.create<arith::MulIOp>(
      loc, builder.create<arith::SubIOp>(loc, elements, c64(1)), c64(bits));
  Value lastByteBit = builder.create<arith::MulIOp>(
      loc, builder.create<arith::SubIOp>(loc, bytes, c64(1)), c64(8));
  return builder.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt,
                                       lastButOneEnd, lastByteBit);
}

/// Whether the `size` bytes at byte offset `offset` (i64, from the tensor's
/// pointer) lie inside the tensor's `bytes`.
Value emitBytesInside(OpBuilder &b, Location l, Value offset, int64_t size,
                      Value bytes) {
  Value lowOk = b.create<arith::CmpIOp>(
      l, arith::CmpIPredicate::sge, offset,
      b.create<arith::ConstantIntOp>(l, 0, 64));
  Value end = b.create<arith::AddIOp>(
      l, offset, b.create<arith::ConstantIntOp>(l, size, 64));
  Value highOk =
      b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sle, end, bytes);
  return b.create<arith::AndIOp>(l, lowOk, highOk);
}

/// Replaces the bits `mask` of the 16-bit word at `address` by those of
/// `value`, with an `atom.global.cas.b16` loop (sm_70 and later). The loop's
/// first guess is the word read with a plain load when `wordInside`, else
/// its first byte alone (the second lies past the tensor: only the atomic,
/// which leaves it as it is, reaches it).
void emitCas16Update(OpBuilder &b, Location l, Value address, Value mask,
                     Value value, Value wordInside) {
  Type i16 = b.getI16Type();
  Value keep =
      b.create<arith::XOrIOp>(l, mask, b.create<arith::ConstantIntOp>(l, -1, 16));
  Value bits = b.create<arith::AndIOp>(l, value, mask);
  Value initial =
      b.create<scf::IfOp>(
           l, wordInside,
           [&](OpBuilder &t, Location tl) {
             t.create<scf::YieldOp>(
                 tl, ValueRange{t.create<LLVM::LoadOp>(tl, i16, address)});
           },
           [&](OpBuilder &e, Location el) {
             Value byte = e.create<LLVM::LoadOp>(el, e.getI8Type(), address);
             e.create<scf::YieldOp>(
                 el, ValueRange{e.create<arith::ExtUIOp>(el, i16, byte)});
           })
          .getResult(0);
  b.create<scf::WhileOp>(
      l, TypeRange{i16}, ValueRange{initial},
      [&](OpBuilder &w, Location wl, ValueRange args) {
        Value old = args[0];
        Value desired = w.create<arith::OrIOp>(
            wl, w.create<arith::AndIOp>(wl, old, keep), bits);
        Value seen =
            w.create<LLVM::InlineAsmOp>(
                 wl, TypeRange{i16}, ValueRange{address, old, desired},
                 "atom.global.cas.b16 $0, [$1], $2, $3;", "=h,l,h,h,~{memory}",
                 /*has_side_effects=*/true, /*is_align_stack=*/false,
                 LLVM::AsmDialectAttr(), ArrayAttr())
                .getResult(0);
        Value retry = w.create<arith::CmpIOp>(wl, arith::CmpIPredicate::ne,
                                              seen, old);
        w.create<scf::ConditionOp>(wl, retry, ValueRange{seen});
      },
      [&](OpBuilder &w, Location wl, ValueRange args) {
        w.create<scf::YieldOp>(wl, args);
      });
}

/// Replaces the bits `mask` (i8) of the byte at `address` by those of
/// `value` with a plain load and store: only for bytes no other thread
/// writes at the same time.
void emitByteUpdate(OpBuilder &b, Location l, Value address, Value mask,
                    Value value) {
  Type i8 = b.getI8Type();
  Value old = b.create<LLVM::LoadOp>(l, i8, address);
  Value keep =
      b.create<arith::XOrIOp>(l, mask, b.create<arith::ConstantIntOp>(l, -1, 8));
  Value merged = b.create<arith::OrIOp>(
      l, b.create<arith::AndIOp>(l, old, keep),
      b.create<arith::AndIOp>(l, value, mask));
  b.create<LLVM::StoreOp>(l, merged, address);
}

/// Stores the code `code` (i8) as element `linear` of a packed array of
/// `bits`-bit codes at `ptr` holding `bytes` bytes, changing only the
/// element's bits, atomically where threads may share bytes: an atomic
/// `and` then `or` on each aligned 32-bit word that lies inside the array,
/// an `atom.cas.b16` loop on an aligned 16-bit word inside it where the
/// 32-bit word is not. A last byte that no aligned 16-bit word inside the
/// array holds gets a plain read-modify-write when it holds bits of one
/// element only (`lastShared` false: no other thread writes it), else an
/// `atom.cas.b16` on the word it starts, the one access that reaches past
/// the array (by one byte).
void emitPackedStore(OpBuilder &builder, Location loc, Value ptr, Value linear,
                     unsigned bits, Value code, Value bytes,
                     Value lastShared) {
  Type i8 = builder.getI8Type(), i16 = builder.getI16Type();
  Type i32 = builder.getI32Type(), i64 = builder.getI64Type();
  auto c64 = [&](int64_t v) -> Value {
    return builder.create<arith::ConstantIntOp>(loc, v, 64);
  };
  // Bits are counted from the aligned word at or below `ptr`.
  Value misalign = builder.create<arith::AndIOp>(
      loc, builder.create<LLVM::PtrToIntOp>(loc, i64, ptr), c64(3));
  Value bit = builder.create<arith::AddIOp>(
      loc, builder.create<arith::MulIOp>(loc, misalign, c64(8)),
      builder.create<arith::MulIOp>(loc, linear, c64(bits)));
  Value word = builder.create<arith::ShRUIOp>(loc, bit, c64(5));
  Value shift = builder.create<arith::AndIOp>(loc, bit, c64(31));
  Value wordByte = builder.create<arith::SubIOp>(
      loc, builder.create<arith::MulIOp>(loc, word, c64(4)), misalign);
  Value mask = builder.create<arith::ShLIOp>(loc, c64((1 << bits) - 1), shift);
  Value value = builder.create<arith::ShLIOp>(
      loc, builder.create<arith::ExtUIOp>(loc, i64, code), shift);
  // The part of the element in the 32-bit word at `byteOffset` (the low 32
  // bits of `mask64` and `value64`).
  auto update = [&](OpBuilder &b, Location l, Value byteOffset, Value mask64,
                    Value value64) {
    Value mask32 = b.create<arith::TruncIOp>(l, i32, mask64);
    Value value32 = b.create<arith::TruncIOp>(l, i32, value64);
    Value wordInside = emitBytesInside(b, l, byteOffset, 4, bytes);
    b.create<scf::IfOp>(
        l, wordInside,
        [&](OpBuilder &t, Location tl) {
          Value address = byteAddress(t, tl, ptr, byteOffset);
          Value keep = t.create<arith::XOrIOp>(
              tl, mask32, t.create<arith::ConstantIntOp>(tl, -1, 32));
          t.create<LLVM::AtomicRMWOp>(tl, LLVM::AtomicBinOp::_and, address,
                                      keep, LLVM::AtomicOrdering::monotonic);
          t.create<LLVM::AtomicRMWOp>(tl, LLVM::AtomicBinOp::_or, address,
                                      value32,
                                      LLVM::AtomicOrdering::monotonic);
          t.create<scf::YieldOp>(tl);
        },
        [&](OpBuilder &e, Location el) {
          // The tensor ends (or starts) inside this word.
          for (int64_t half = 0; half < 2; ++half) {
            Value halfOffset = e.create<arith::AddIOp>(
                el, byteOffset, e.create<arith::ConstantIntOp>(el, 2 * half, 64));
            auto part = [&](OpBuilder &p, Value v, int64_t shiftBits,
                            Type type) -> Value {
              Value shifted = p.create<arith::ShRUIOp>(
                  el, v, p.create<arith::ConstantIntOp>(el, shiftBits, 32));
              return p.create<arith::TruncIOp>(el, type, shifted);
            };
            Value mask16 = part(e, mask32, 16 * half, i16);
            Value value16 = part(e, value32, 16 * half, i16);
            Value touched = e.create<arith::CmpIOp>(
                el, arith::CmpIPredicate::ne, mask16,
                e.create<arith::ConstantIntOp>(el, 0, 16));
            Value sharedLast = e.create<arith::AndIOp>(
                el, lastShared, emitBytesInside(e, el, halfOffset, 1, bytes));
            Value wordInside = emitBytesInside(e, el, halfOffset, 2, bytes);
            Value halfInside = e.create<arith::AndIOp>(
                el, touched,
                e.create<arith::OrIOp>(el, wordInside, sharedLast));
            e.create<scf::IfOp>(
                el, halfInside,
                [&](OpBuilder &t, Location tl) {
                  emitCas16Update(t, tl, byteAddress(t, tl, ptr, halfOffset),
                                  mask16, value16, wordInside);
                  t.create<scf::YieldOp>(tl);
                },
                [&](OpBuilder &t, Location tl) {
                  for (int64_t k = 0; k < 2; ++k) {
                    Value byteOff = t.create<arith::AddIOp>(
                        tl, halfOffset,
                        t.create<arith::ConstantIntOp>(tl, k, 64));
                    Value mask8 = part(t, mask32, 16 * half + 8 * k, i8);
                    Value value8 = part(t, value32, 16 * half + 8 * k, i8);
                    Value byteTouched = t.create<arith::AndIOp>(
                        tl,
                        t.create<arith::CmpIOp>(
                            tl, arith::CmpIPredicate::ne, mask8,
                            t.create<arith::ConstantIntOp>(tl, 0, 8)),
                        emitBytesInside(t, tl, byteOff, 1, bytes));
                    t.create<scf::IfOp>(
                        tl, byteTouched, [&](OpBuilder &u, Location ul) {
                          emitByteUpdate(u, ul, byteAddress(u, ul, ptr, byteOff),
                                         mask8, value8);
                          u.create<scf::YieldOp>(ul);
                        });
                  }
                  t.create<scf::YieldOp>(tl);
                });
          }
          e.create<scf::YieldOp>(el);
        });
  };
  update(builder, loc, wordByte, mask, value);
  if (32 % bits != 0) {
    Value straddles = builder.create<arith::CmpIOp>(
        loc, arith::CmpIPredicate::ugt,
        builder.create<arith::AddIOp>(loc, shift, c64(bits)), c64(32));
    builder.create<scf::IfOp>(loc, straddles, [&](OpBuilder &b, Location l) {
      Value c32 = b.create<arith::ConstantIntOp>(l, 32, 64);
      Value four = b.create<arith::ConstantIntOp>(l, 4, 64);
      update(b, l, b.create<arith::AddIOp>(l, wordByte, four),
             b.create<arith::ShRUIOp>(l, mask, c32),
             b.create<arith::ShRUIOp>(l, value, c32));
      b.create<scf::YieldOp>(l);
    });
  }
}

/// Stores `group` consecutive elements of a packed array of `bits`-bit
/// codes, `codes` (i8 each), the first at element `linear` on a byte
/// boundary, held by this thread alone: whole bytes with plain stores, a
/// byte with elements outside the tensor (`inBounds` false) merged with its
/// old contents.
void emitPackedGroupStore(OpBuilder &builder, Location loc, Value ptr,
                          Value linear, unsigned bits, ArrayRef<Value> codes,
                          ArrayRef<Value> inBounds) {
  Type i8 = builder.getI8Type(), i64 = builder.getI64Type();
  auto c64 = [&](int64_t v) -> Value {
    return builder.create<arith::ConstantIntOp>(loc, v, 64);
  };
  Value packed = c64(0), valid = c64(0);
  for (auto [j, code] : llvm::enumerate(codes)) {
    Value shift = c64(j * bits);
    packed = builder.create<arith::OrIOp>(
        loc, packed,
        builder.create<arith::ShLIOp>(
            loc, builder.create<arith::ExtUIOp>(loc, i64, code), shift));
    // Up to eight 7-bit codes: the mask is shifted as a 64-bit value.
    uint64_t elementMask = ((uint64_t{1} << bits) - 1) << (j * bits);
    Value bitsOf = builder.create<arith::SelectOp>(
        loc, inBounds[j], c64(static_cast<int64_t>(elementMask)), c64(0));
    valid = builder.create<arith::OrIOp>(loc, valid, bitsOf);
  }
  Value first = builder.create<arith::DivUIOp>(
      loc, builder.create<arith::MulIOp>(loc, linear, c64(bits)), c64(8));
  int64_t numBytes = codes.size() * bits / 8;
  for (int64_t k = 0; k < numBytes; ++k) {
    auto byteOf = [&](Value v) -> Value {
      return builder.create<arith::TruncIOp>(
          loc, i8, builder.create<arith::ShRUIOp>(loc, v, c64(8 * k)));
    };
    Value value8 = byteOf(packed), mask8 = byteOf(valid);
    Value address = byteAddress(builder, loc, ptr,
                                builder.create<arith::AddIOp>(loc, first, c64(k)));
    Value full = builder.create<arith::CmpIOp>(
        loc, arith::CmpIPredicate::eq, mask8,
        builder.create<arith::ConstantIntOp>(loc, -1, 8));
    builder.create<scf::IfOp>(
        loc, full,
        [&](OpBuilder &b, Location l) {
          b.create<LLVM::StoreOp>(l, value8, address);
          b.create<scf::YieldOp>(l);
        },
        [&](OpBuilder &b, Location l) {
          Value some = b.create<arith::CmpIOp>(
              l, arith::CmpIPredicate::ne, mask8,
              b.create<arith::ConstantIntOp>(l, 0, 8));
          b.create<scf::IfOp>(l, some, [&](OpBuilder &t, Location tl) {
            emitByteUpdate(t, tl, address, mask8, value8);
            t.create<scf::YieldOp>(tl);
          });
          b.create<scf::YieldOp>(l);
        });
  }
}

/// The number of elements moved per access: the `tilus.vector` width for
/// whole-byte types, else 1.
int64_t getVectorWidth(Operation *op, DType dtype,
                       const RegisterLayout &layout) {
  auto attr = op->getAttrOfType<IntegerAttr>("tilus.vector");
  if (!attr || dtype.bitWidth() < 8 || attr.getInt() < 1 ||
      layout.numLocals() % attr.getInt() != 0)
    return 1;
  return attr.getInt();
}

struct GlobalViewLowering : OpConversionPattern<GlobalViewOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GlobalViewOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type packedType = getTypeConverter()->convertType(op.getType());
    Value packed = rewriter.create<LLVM::UndefOp>(loc, packedType);
    packed = rewriter.create<LLVM::InsertValueOp>(loc, packed, adaptor.getPtr(),
                                                  0);
    auto dynamic = adaptor.getDynamicExtents().begin();
    Type i32 = rewriter.getI32Type();
    for (auto [dim, extent] : llvm::enumerate(op.getType().getShape())) {
      Value value;
      if (ShapedType::isDynamic(extent)) {
        value = *dynamic++;
        if (value.getType() != i32)
          value = rewriter.create<arith::TruncIOp>(loc, i32, value);
      } else {
        value = rewriter.create<arith::ConstantIntOp>(loc, extent, 32);
      }
      packed = rewriter.create<LLVM::InsertValueOp>(loc, packed, value, dim + 1);
    }
    rewriter.replaceOp(op, packed);
    return success();
  }
};

/// What loads and stores of a tile derive alike from its type and tensor.
struct Transfer {
  VectorType vectorType;
  std::optional<DType> dtype;
  Type elementType; ///< of a register
  Type memoryType;  ///< of an element in memory
  unsigned bits;
  bool packed; ///< narrower than a byte
  RegisterLayout layout;
  GlobalParts global;
  Value threadId;
};

FailureOr<Transfer> prepareTransfer(Operation *op, TileType tile,
                                    Value packedGlobal,
                                    const TypeConverter &converter,
                                    ConversionPatternRewriter &rewriter) {
  Location loc = op->getLoc();
  auto vectorType = dyn_cast_or_null<VectorType>(converter.convertType(tile));
  std::optional<DType> dtype = getDType(tile.getElementType());
  if (!vectorType || !dtype)
    return op->emitOpError("needs a tile with a layout");
  Transfer t;
  t.vectorType = vectorType;
  t.dtype = dtype;
  t.elementType = vectorType.getElementType();
  t.memoryType = getMemoryType(*dtype, t.elementType);
  t.bits = dtype->bitWidth();
  t.packed = t.bits < 8;
  t.layout = getLayout(tile);
  t.global = unpackGlobal(rewriter, loc, packedGlobal, tile.getRank());
  t.threadId = createThreadId(rewriter, loc);
  return t;
}

struct LoadGlobalLowering : OpConversionPattern<LoadGlobalOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LoadGlobalOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TileType tile = op.getResult().getType();
    FailureOr<Transfer> prepared = prepareTransfer(
        op, tile, adaptor.getSrc(), *getTypeConverter(), rewriter);
    if (failed(prepared))
      return failure();
    // Plain locals, which the guarded-access lambdas below capture.
    VectorType vectorType = prepared->vectorType;
    std::optional<DType> dtype = prepared->dtype;
    Type elementType = prepared->elementType, memoryType = prepared->memoryType;
    unsigned bits = prepared->bits;
    bool packed = prepared->packed;
    RegisterLayout layout = prepared->layout;
    GlobalParts global = prepared->global;
    Value threadId = prepared->threadId;
    Value zero = rewriter.create<arith::ConstantOp>(
        loc, rewriter.getZeroAttr(elementType));
    Value result = rewriter.create<arith::ConstantOp>(
        loc, rewriter.getZeroAttr(vectorType));
    int64_t width = getVectorWidth(op, *dtype, layout);
    if (width > 1) {
      auto runType = VectorType::get({width}, memoryType);
      unsigned alignment = width * memoryType.getIntOrFloatBitWidth() / 8;
      Value zeroRun = rewriter.create<arith::ConstantOp>(
          loc, rewriter.getZeroAttr(runType));
      for (int64_t local = 0; local < layout.numLocals(); local += width) {
        auto [inBounds, linear] =
            emitElementIndex(rewriter, loc, global, layout, threadId,
                             adaptor.getOffsets(), local);
        auto guarded = rewriter.create<scf::IfOp>(
            loc, inBounds,
            [&](OpBuilder &b, Location l) {
              Value address =
                  b.create<LLVM::GEPOp>(l, global.ptr.getType(), memoryType,
                                        global.ptr, ValueRange{linear});
              Value loaded =
                  b.create<LLVM::LoadOp>(l, runType, address, alignment);
              b.create<scf::YieldOp>(l, loaded);
            },
            [&](OpBuilder &b, Location l) {
              b.create<scf::YieldOp>(l, zeroRun);
            });
        Value run = guarded.getResult(0);
        if (dtype->isBool())
          run = emitFromCode(rewriter, loc, run, *dtype);
        result = rewriter.create<vector::InsertStridedSliceOp>(
            loc, run, result, ArrayRef<int64_t>{local}, ArrayRef<int64_t>{1});
      }
      rewriter.replaceOp(op, result);
      return success();
    }
    for (int64_t local = 0; local < layout.numLocals(); ++local) {
      auto [inBounds, index] =
          emitElementIndex(rewriter, loc, global, layout, threadId,
                           adaptor.getOffsets(), local);
      Value linear = index;
      auto guarded = rewriter.create<scf::IfOp>(
          loc, inBounds,
          [&](OpBuilder &b, Location l) {
            Value loaded;
            if (packed) {
              loaded = emitPackedLoad(b, l, global.ptr, linear, bits);
            } else {
              Value address = b.create<LLVM::GEPOp>(
                  l, global.ptr.getType(), memoryType, global.ptr,
                  ValueRange{linear});
              loaded = b.create<LLVM::LoadOp>(l, memoryType, address);
              if (dtype->isBool())
                loaded = emitFromCode(b, l, loaded, *dtype);
            }
            b.create<scf::YieldOp>(l, loaded);
          },
          [&](OpBuilder &b, Location l) { b.create<scf::YieldOp>(l, zero); });
      result = rewriter.create<vector::InsertOp>(loc, guarded.getResult(0),
                                                 result, local);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct StoreGlobalLowering : OpConversionPattern<StoreGlobalOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(StoreGlobalOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TileType tile = op.getValue().getType();
    FailureOr<Transfer> prepared = prepareTransfer(
        op, tile, adaptor.getDst(), *getTypeConverter(), rewriter);
    if (failed(prepared))
      return failure();
    // Plain locals, which the guarded-access lambdas below capture.
    std::optional<DType> dtype = prepared->dtype;
    Type memoryType = prepared->memoryType;
    unsigned bits = prepared->bits;
    bool packed = prepared->packed;
    RegisterLayout layout = prepared->layout;
    GlobalParts global = prepared->global;
    Value threadId = prepared->threadId;
    int64_t width = getVectorWidth(op, *dtype, layout);
    if (width > 1) {
      unsigned alignment = width * memoryType.getIntOrFloatBitWidth() / 8;
      for (int64_t local = 0; local < layout.numLocals(); local += width) {
        auto [inBounds, linear] =
            emitElementIndex(rewriter, loc, global, layout, threadId,
                             adaptor.getOffsets(), local);
        Value run = rewriter.create<vector::ExtractStridedSliceOp>(
            loc, adaptor.getValue(), ArrayRef<int64_t>{local},
            ArrayRef<int64_t>{width}, ArrayRef<int64_t>{1});
        if (dtype->isBool())
          run = emitCodeOf(rewriter, loc, run, *dtype, 8);
        rewriter.create<scf::IfOp>(
            loc, inBounds, [&](OpBuilder &b, Location l) {
              Value address =
                  b.create<LLVM::GEPOp>(l, global.ptr.getType(), memoryType,
                                        global.ptr, ValueRange{linear});
              b.create<LLVM::StoreOp>(l, run, address, alignment);
              b.create<scf::YieldOp>(l);
            });
      }
      rewriter.eraseOp(op);
      return success();
    }
    Value packedBytes, lastShared;
    if (packed) {
      auto attr = op->getAttrOfType<IntegerAttr>("tilus.vector");
      int64_t group = 8 / std::gcd(bits, 8u);
      if (attr && attr.getInt() == group &&
          layout.numLocals() % group == 0) {
        // passes/Vectorize.cpp found that this thread's runs of `group`
        // elements fill whole bytes of the tensor that no other thread
        // writes.
        for (int64_t local = 0; local < layout.numLocals(); local += group) {
          SmallVector<Value> codes, inBounds;
          Value firstLinear;
          for (int64_t j = 0; j < group; ++j) {
            auto [ok, index] =
                emitElementIndex(rewriter, loc, global, layout, threadId,
                                 adaptor.getOffsets(), local + j);
            if (j == 0)
              firstLinear = index;
            inBounds.push_back(ok);
            codes.push_back(rewriter.create<vector::ExtractOp>(
                loc, adaptor.getValue(), local + j));
          }
          emitPackedGroupStore(rewriter, loc, global.ptr, firstLinear, bits,
                               codes, inBounds);
        }
        rewriter.eraseOp(op);
        return success();
      }
      packedBytes = emitPackedBytes(rewriter, loc, global, bits);
      lastShared =
          emitLastByteShared(rewriter, loc, global, bits, packedBytes);
    }
    for (int64_t local = 0; local < layout.numLocals(); ++local) {
      auto [inBounds, index] =
          emitElementIndex(rewriter, loc, global, layout, threadId,
                           adaptor.getOffsets(), local);
      Value linear = index;
      Value element =
          rewriter.create<vector::ExtractOp>(loc, adaptor.getValue(), local);
      rewriter.create<scf::IfOp>(loc, inBounds, [&](OpBuilder &b, Location l) {
        if (packed) {
          emitPackedStore(b, l, global.ptr, linear, bits, element,
                          packedBytes, lastShared);
        } else {
          Value address = b.create<LLVM::GEPOp>(
              l, global.ptr.getType(), memoryType, global.ptr,
              ValueRange{linear});
          Value stored = dtype->isBool()
                             ? emitCodeOf(b, l, element, *dtype, 8)
                             : element;
          b.create<LLVM::StoreOp>(l, stored, address);
        }
        b.create<scf::YieldOp>(l);
      });
    }
    rewriter.eraseOp(op);
    return success();
  }
};

/// The block's one atomic add: every thread fences its global writes (so the
/// release covers the whole block's), a barrier, thread 0 adds with
/// acquire-release semantics at GPU scope and leaves the previous value in
/// scratch, a barrier, every thread reads it. The next execution's first
/// barrier keeps thread 0 from overwriting the scratch word before every
/// thread has read it.
struct AtomicAddLowering : OpConversionPattern<AtomicAddOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(AtomicAddOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto offsetAttr = op->getAttrOfType<IntegerAttr>(plan_attr::kScratchOffset);
    if (!offsetAttr)
      return op.emitOpError("needs scratch shared memory, but has no '")
             << plan_attr::kScratchOffset << "' (run shared-memory planning)";
    auto type = cast<GlobalTensorType>(op.getDst().getType());
    GlobalParts global =
        unpackGlobal(rewriter, loc, adaptor.getDst(), type.getRank());
    Type i32 = rewriter.getI32Type(), i64 = rewriter.getI64Type();
    auto c32 = [&](int64_t v) -> Value {
      return rewriter.create<arith::ConstantIntOp>(loc, v, 32);
    };
    Value inBounds, linear;
    for (auto [dim, index] : llvm::enumerate(adaptor.getIndices())) {
      // Unsigned comparison also rejects negative indices.
      Value ok = rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                                index, global.extents[dim]);
      inBounds =
          inBounds
              ? rewriter.create<arith::AndIOp>(loc, inBounds, ok).getResult()
              : ok;
      Value wide = rewriter.create<arith::ExtUIOp>(loc, i64, index);
      if (linear) {
        Value extent =
            rewriter.create<arith::ExtUIOp>(loc, i64, global.extents[dim]);
        linear = rewriter.create<arith::AddIOp>(
            loc, rewriter.create<arith::MulIOp>(loc, linear, extent), wide);
      } else {
        linear = wide;
      }
    }
    Value address = rewriter.create<LLVM::GEPOp>(
        loc, global.ptr.getType(), i32, global.ptr, ValueRange{linear});
    Value scratch =
        emitDynamicSharedAddress(rewriter, loc, op, offsetAttr.getInt());
    auto asmOp = [&](OpBuilder &b, Type result, ValueRange operands,
                     StringRef text, StringRef constraints) {
      return b.create<LLVM::InlineAsmOp>(
          loc, result ? TypeRange{result} : TypeRange{}, operands, text,
          constraints, /*has_side_effects=*/true, /*is_align_stack=*/false,
          LLVM::AsmDialectAttr(), ArrayAttr());
    };
    asmOp(rewriter, nullptr, {}, "fence.acq_rel.gpu;", "~{memory}");
    createBarrier(rewriter, loc);
    Value threadId = createThreadId(rewriter, loc);
    Value first = rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                                 threadId, c32(0));
    rewriter.create<scf::IfOp>(loc, first, [&](OpBuilder &b, Location l) {
      Value old =
          b.create<scf::IfOp>(
               l, inBounds,
               [&](OpBuilder &t, Location tl) {
                 Value v = asmOp(t, i32, {address, adaptor.getValue()},
                                 "atom.acq_rel.gpu.global.add.u32 $0, [$1], "
                                 "$2;",
                                 "=r,l,r,~{memory}")
                               .getResult(0);
                 t.create<scf::YieldOp>(tl, v);
               },
               [&](OpBuilder &e, Location el) {
                 e.create<scf::YieldOp>(
                     el, ValueRange{e.create<arith::ConstantIntOp>(el, 0, 32)});
               })
              .getResult(0);
      b.create<LLVM::StoreOp>(l, old, scratch);
      b.create<scf::YieldOp>(l);
    });
    createBarrier(rewriter, loc);
    rewriter.replaceOp(op, rewriter.create<LLVM::LoadOp>(loc, i32, scratch));
    return success();
  }
};

} // namespace

void tilus::populateMemoryLoweringPatterns(const TypeConverter &converter,
                                           RewritePatternSet &patterns) {
  patterns.add<GlobalViewLowering, LoadGlobalLowering, StoreGlobalLowering,
               AtomicAddLowering>(converter, patterns.getContext());
}
