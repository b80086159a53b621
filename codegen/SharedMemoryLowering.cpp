//===- SharedMemoryLowering.cpp - Shared tensors, copies, barriers -------===//
//
// All shared tensors of a kernel live in its dynamic shared memory, the
// module's `tilus_smem` array, at the byte offsets that shared-memory planning
// recorded; a shared tensor lowers to the address of its first element.
// Transfers between tiles and shared tensors move each register on its own
// through the tensor's shared layout (swizzle included), or a run of them
// with one vector access (below), except where a warp-wide matrix
// instruction applies, selected by layout division: a
// 16-bit load_shared whose layout divides by the `ldmatrix.x4.b16` (or
// `.trans`) atom becomes one `ldmatrix.sync.aligned.m8n8.x4[.trans]` per
// atom tile of the quotient, and on targets with stmatrix (sm_90) a 16-bit
// store_shared whose layout divides by a `stmatrix.{x4,x2,x1}[.trans]` atom
// one `stmatrix.sync.aligned.m8n8.xN[.trans]` per tile (warps that hold
// replicas skip it). Both need every 8-element row chunk a lane addresses
// to be contiguous and 16-byte aligned in shared memory, and offsets that
// are constants or the same in every thread; a run-time column offset is
// tested for being a multiple of 8, with the per-element path as the other
// branch. Lane l gives the address of row l % 16, columns 8 (l / 16) .. + 8
// of its warp's tile (l taken modulo the 8 N lanes that give addresses).
// An asynchronous copy splits the region into chunks of 4, 8 or 16 bytes
// that are contiguous in shared memory and hands them to the threads
// round-robin, so consecutive threads copy consecutive chunks; each chunk is
// one `cp.async` whose source size counts only the elements inside the
// global tensor (the rest are zero-filled). A chunk wider than an element needs
// a source aligned to its size: when the copy's `tilus.vector`
// (tilus-vectorize) is a multiple of the chunk, every chunk is aligned and
// wholly inside or outside the tensor, and its source size is all or nothing;
// otherwise each chunk tests its address at run time and copies element by
// element when it is misaligned.
// A load_shared or store_shared at constant offsets moves N registers with
// one access (up to 16 bytes) when every run of N locals is N consecutive
// elements along the innermost dimension (RegisterLayout::contiguity) and the
// shared layout places each such run at N consecutive offsets starting at a
// multiple of N (checked for every run of the tile; shared tensors start
// 16-byte aligned).
//
//===----------------------------------------------------------------------===//

#include "codegen/LayoutCodegen.h"
#include "codegen/SharedAccess.h"
#include "codegen/TileLowering.h"
#include "ir/layout/Atoms.h"
#include "target/Scratch.h"
#include "target/WgmmaInstructions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/FormatVariadic.h"

#include <functional>

using namespace mlir;
using namespace tilus;

/// The symbol of the kernel's dynamic shared memory.
static constexpr StringLiteral kDynamicSharedSymbol = "tilus_smem";

Value tilus::emitDynamicSharedAddress(OpBuilder &builder, Location loc,
                                      Operation *user, int64_t byteOffset) {
  MLIRContext *context = builder.getContext();
  auto module = user->getParentOfType<ModuleOp>();
  if (!module.lookupSymbol(kDynamicSharedSymbol)) {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(module.getBody());
    builder.create<LLVM::GlobalOp>(
        loc, LLVM::LLVMArrayType::get(IntegerType::get(context, 8), 0),
        /*isConstant=*/false, LLVM::Linkage::External, kDynamicSharedSymbol,
        Attribute(), /*alignment=*/128, /*addrSpace=*/3);
  }
  auto pointerType = LLVM::LLVMPointerType::get(context, 3);
  Value base =
      builder.create<LLVM::AddressOfOp>(loc, pointerType, kDynamicSharedSymbol);
  if (byteOffset == 0)
    return base;
  return builder.create<LLVM::GEPOp>(loc, pointerType, builder.getI8Type(),
                                     base, ArrayRef<LLVM::GEPArg>{byteOffset});
}

Value tilus::castToI32(OpBuilder &builder, Location loc, Value value) {
  Type i32 = builder.getI32Type();
  unsigned width = value.getType().getIntOrFloatBitWidth();
  if (width > 32)
    return builder.create<arith::TruncIOp>(loc, i32, value);
  if (width < 32)
    return builder.create<arith::ExtUIOp>(loc, i32, value);
  return value;
}

Value tilus::emitSharedOffset(OpBuilder &builder, Location loc,
                              const SharedLayout &layout, ValueRange coords) {
  auto constant = [&](int64_t value) -> Value {
    return builder.create<arith::ConstantIntOp>(loc, value, 32);
  };
  Value offset = constant(layout.offset());
  for (auto [dim, modes] : llvm::enumerate(layout.modes())) {
    int64_t inner = 1;
    for (size_t m = modes.size(); m-- > 0;) {
      Value digit = coords[dim];
      if (inner > 1)
        digit = builder.create<arith::DivUIOp>(loc, digit, constant(inner));
      // The outermost digit needs no remainder: coordinates are in bounds.
      if (m > 0)
        digit =
            builder.create<arith::RemUIOp>(loc, digit, constant(modes[m].size));
      Value term =
          builder.create<arith::MulIOp>(loc, digit, constant(modes[m].stride));
      offset = builder.create<arith::AddIOp>(loc, offset, term);
      inner *= modes[m].size;
    }
  }
  const Swizzle &swizzle = layout.swizzle();
  if (swizzle.isIdentity())
    return offset;
  Value shifted =
      builder.create<arith::ShRUIOp>(loc, offset, constant(swizzle.shift));
  Value mask = constant(((int64_t(1) << swizzle.bits) - 1) << swizzle.base);
  Value bits = builder.create<arith::AndIOp>(loc, shifted, mask);
  return builder.create<arith::XOrIOp>(loc, offset, bits);
}

Value tilus::emitIsFirstHolder(OpBuilder &builder, Location loc,
                               const RegisterLayout &layout, Value threadId) {
  Value result;
  int64_t threadStride = 1;
  const std::vector<int64_t> &spatial = layout.spatialModes();
  for (size_t k = spatial.size(); k-- > 0;) {
    int64_t entry = spatial[k];
    int64_t size = entry < 0 ? -entry : layout.modeShape()[entry];
    if (entry < 0) {
      Value digit = builder.create<arith::DivUIOp>(
          loc, threadId,
          builder.create<arith::ConstantIntOp>(loc, threadStride, 32));
      digit = builder.create<arith::RemUIOp>(
          loc, digit, builder.create<arith::ConstantIntOp>(loc, size, 32));
      Value isZero = builder.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::eq, digit,
          builder.create<arith::ConstantIntOp>(loc, 0, 32));
      result =
          result
              ? builder.create<arith::AndIOp>(loc, result, isZero).getResult()
              : isZero;
    }
    threadStride *= size;
  }
  return result;
}

namespace {

/// The register type of one element of `tile`, or an error: tiles need a
/// layout, and shared tensors of elements narrower than a byte are packed,
/// which per-element transfers do not handle yet.
FailureOr<Type> getTileRegisterType(Operation *op,
                                    const TypeConverter &converter,
                                    TileType tile) {
  if (!tile.getLayout())
    return op->emitOpError("needs a layout on its tile; run layout "
                           "inference before lowering");
  auto vectorType = dyn_cast_or_null<VectorType>(converter.convertType(tile));
  if (!vectorType || getDType(tile.getElementType())->bitWidth() % 8 != 0)
    return op->emitOpError("of ")
           << tile.getElementType()
           << " elements (narrower than a byte) is not supported yet";
  return vectorType.getElementType();
}

/// The byte offset planning gave `alloc`, or an error.
FailureOr<int64_t> getPlannedOffset(AllocSharedOp alloc) {
  auto offset = alloc->getAttrOfType<IntegerAttr>(plan_attr::kSharedOffset);
  if (!offset)
    return alloc.emitOpError("has no '")
           << plan_attr::kSharedOffset
           << "'; run tilus-plan-shared-memory before lowering";
  return offset.getInt();
}

struct AllocSharedLowering : OpConversionPattern<AllocSharedOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(AllocSharedOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<int64_t> offset = getPlannedOffset(op);
    if (failed(offset))
      return failure();
    rewriter.replaceOp(
        op, emitDynamicSharedAddress(rewriter, op.getLoc(), op, *offset));
    return success();
  }
};

struct FreeSharedLowering : OpConversionPattern<FreeSharedOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(FreeSharedOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // Planning already ended the tensor's lifetime here.
    rewriter.eraseOp(op);
    return success();
  }
};

/// The registers one shared-memory access moves for a tile in `layout` at
/// `offsets` of `shared` (see the file comment): a power of two, 1 when an
/// offset is not a constant or a run would not be contiguous and aligned.
int64_t sharedVectorWidth(const RegisterLayout &layout,
                          const SharedLayout &shared, ValueRange offsets,
                          int64_t elementBytes) {
  std::vector<int64_t> base;
  for (Value offset : offsets) {
    APInt value;
    if (!matchPattern(offset, m_ConstantInt(&value)))
      return 1;
    base.push_back(value.getSExtValue());
  }
  int64_t width = layout.innerContiguity();
  width &= -width;
  while (width > 1 &&
         (width * elementBytes > 16 || layout.numLocals() % width != 0))
    width /= 2;
  const std::vector<int64_t> &shape = layout.shape();
  size_t rank = shape.size();
  if (width <= 1 || rank == 0 || base.size() != rank ||
      shared.rank() != rank)
    return 1;
  // Every element whose innermost coordinate starts a run.
  std::vector<int64_t> index(rank, 0), coords(rank);
  for (;;) {
    for (size_t d = 0; d < rank; ++d) {
      coords[d] = base[d] + index[d];
      if (coords[d] < 0 || coords[d] >= shared.shape()[d])
        return 1;
    }
    int64_t first = shared.offsetOf(coords);
    while (width > 1 && first % width != 0)
      width /= 2;
    for (int64_t j = 1; j < width; ++j) {
      coords[rank - 1] = base[rank - 1] + index[rank - 1] + j;
      if (coords[rank - 1] >= shared.shape()[rank - 1] ||
          shared.offsetOf(coords) != first + j) {
        width = std::max<int64_t>(1, j & -j);
        break;
      }
    }
    if (width <= 1)
      return 1;
    // The next run start.
    size_t d = rank - 1;
    index[d] += width;
    while (index[d] >= shape[d]) {
      index[d] = 0;
      if (d == 0)
        return width;
      ++index[--d];
    }
  }
}

/// The address of the element a thread holds at register `local` of a tile
/// placed at `offsets` in a shared tensor.
Value emitTileElementAddress(OpBuilder &builder, Location loc, Value base,
                             Type elementType, const SharedLayout &shared,
                             const RegisterLayout &layout, Value threadId,
                             ValueRange offsets, int64_t local) {
  SmallVector<Value> coords =
      emitLayoutCoordinates(builder, loc, layout, threadId, local);
  for (auto [coord, offset] : llvm::zip(coords, offsets))
    coord = builder.create<arith::AddIOp>(loc, coord,
                                          castToI32(builder, loc, offset));
  Value element = emitSharedOffset(builder, loc, shared, coords);
  return builder.create<LLVM::GEPOp>(loc, base.getType(), elementType, base,
                                     ValueRange{element});
}

/// Whether the scalar `value` is the same in every thread of the block: built
/// by arith from constants, kernel parameters, block indices and induction
/// variables of loops with such starts and steps. A matrix instruction takes
/// each row's address from one lane, so a run-time offset must be the same
/// in every lane. Values are looked up through the conversion's replacements
/// (a converted loop's body has new block arguments).
bool isBlockUniform(ConversionPatternRewriter &rewriter, Value value,
                    unsigned depth = 0) {
  if (depth > 64)
    return false;
  if (Value remapped = rewriter.getRemappedValue(value))
    value = remapped;
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    Operation *owner = arg.getOwner()->getParentOp();
    if (isa_and_nonnull<func::FuncOp>(owner))
      return arg.getOwner()->isEntryBlock();
    if (auto loop = dyn_cast_or_null<scf::ForOp>(owner))
      return arg == loop.getInductionVar() &&
             isBlockUniform(rewriter, loop.getLowerBound(), depth + 1) &&
             isBlockUniform(rewriter, loop.getStep(), depth + 1);
    return false;
  }
  Operation *def = value.getDefiningOp();
  if (isa<BlockIdxOp, NVVM::BlockIdXOp, NVVM::BlockIdYOp, NVVM::BlockIdZOp>(
          def))
    return true;
  if (!isa<arith::ArithDialect>(def->getDialect()) || def->getNumRegions())
    return false;
  return llvm::all_of(def->getOperands(), [&](Value operand) {
    return isBlockUniform(rewriter, operand, depth + 1);
  });
}

/// A warp-wide matrix instruction (ldmatrix for load_shared, stmatrix for
/// store_shared) chosen for a shared access by layout division.
struct MatrixAccess {
  const LayoutAtom *atom;
  /// The tile layout divided by the atom: thread = warp, local = which of
  /// the warp's atom tiles.
  RegisterLayout quotient;
  /// `.x1`, `.x2` or `.x4`: the 8x8 matrices, one register each.
  int64_t matrices;
  bool trans;
  /// The innermost offset is known only at run time: the instruction is
  /// right where it is a multiple of 8, which the code tests.
  bool testAlignment;
};

/// The first atom of `atomNames` the tile's layout divides by (over whole
/// warps) such that every 8-element row chunk a lane addresses is contiguous
/// and 16-byte aligned in `shared`, or none. Offsets are constants (checked
/// exactly) or block-uniform values (every row, every chunk starting at a
/// multiple of 8 is checked).
std::optional<MatrixAccess>
selectMatrixAccess(ConversionPatternRewriter &rewriter, TileType tile,
                   Type elementType, ValueRange offsets,
                   const SharedLayout &shared, ArrayRef<StringRef> atomNames) {
  if (tile.getRank() != 2 || elementType.getIntOrFloatBitWidth() != 16)
    return std::nullopt;
  SmallVector<std::optional<int64_t>, 2> known;
  for (Value offset : offsets) {
    APInt value;
    if (matchPattern(offset, m_ConstantInt(&value)))
      known.push_back(value.getSExtValue());
    else if (isBlockUniform(rewriter, offset))
      known.push_back(std::nullopt);
    else
      return std::nullopt;
  }
  RegisterLayout layout = getLayout(tile);
  std::optional<MatrixAccess> access;
  for (StringRef name : atomNames) {
    const LayoutAtom *atom = findLayoutAtom(name);
    assert(atom && "matrix atoms are in the catalog");
    LayoutResult<RegisterLayout> quotient = layout.divide(atom->layout);
    if (quotient && quotient->numThreads() * kWarpSize == layout.numThreads()) {
      access = MatrixAccess{atom, *quotient, atom->layout.numLocals() / 2,
                            name.contains(".trans"), !known[1]};
      break;
    }
  }
  if (!access)
    return std::nullopt;
  ArrayRef<int64_t> shape = tile.getShape();
  const std::vector<int64_t> &extent = shared.shape();
  int64_t rowBegin = known[0] ? *known[0] : 0;
  int64_t rowEnd = known[0] ? *known[0] + shape[0] : extent[0];
  int64_t colBegin = known[1] ? *known[1] : 0;
  int64_t colEnd = known[1] ? *known[1] + shape[1] : extent[1] / 8 * 8;
  for (int64_t row = rowBegin; row < rowEnd; ++row)
    for (int64_t col = colBegin; col < colEnd; col += 8) {
      std::vector<int64_t> index = {row, col};
      int64_t first = shared.offsetOf(index);
      if (first % 8 != 0)
        return std::nullopt;
      for (int64_t i = 1; i < 8; ++i) {
        ++index[1];
        if (shared.offsetOf(index) != first + i)
          return std::nullopt;
      }
    }
  return access;
}

/// Emits a matrix instruction per atom tile of the calling thread's warp:
/// `emit(address, local)` with the address this lane gives for the
/// quotient's tile `local`. Lanes 8k .. 8k + 7 give the rows of matrix k,
/// which sits at row block k % 2 and column block k / 2 of a 16x16 tile
/// (rows 0..15 of a 16x8 one, 0..7 of an 8x8 one), so lane l, taken modulo
/// the lanes that give addresses, names row l % 16, column 8 (l / 16).
void emitMatrixTiles(OpBuilder &builder, Location loc,
                     const MatrixAccess &access, const SharedLayout &shared,
                     Value base, Type elementType, ValueRange offsets,
                     function_ref<void(Value, int64_t)> emit) {
  auto constant = [&](int64_t value) -> Value {
    return builder.create<arith::ConstantIntOp>(loc, value, 32);
  };
  Type i32 = builder.getI32Type();
  Value threadId = createThreadId(builder, loc);
  Value warp =
      builder.create<arith::DivUIOp>(loc, threadId, constant(kWarpSize));
  Value lane =
      builder.create<arith::RemUIOp>(loc, threadId, constant(kWarpSize));
  if (access.matrices < 4)
    lane = builder.create<arith::RemUIOp>(loc, lane,
                                          constant(8 * access.matrices));
  Value rowInTile = builder.create<arith::RemUIOp>(loc, lane, constant(16));
  Value colInTile = builder.create<arith::MulIOp>(
      loc, builder.create<arith::DivUIOp>(loc, lane, constant(16)),
      constant(8));
  Value rowOffset = castToI32(builder, loc, offsets[0]);
  Value colOffset = castToI32(builder, loc, offsets[1]);
  const std::vector<int64_t> &atomShape = access.atom->layout.shape();
  for (int64_t local = 0; local < access.quotient.numLocals(); ++local) {
    SmallVector<Value> tileCoords =
        emitLayoutCoordinates(builder, loc, access.quotient, warp, local);
    Value row = builder.create<arith::AddIOp>(
        loc,
        builder.create<arith::MulIOp>(loc, tileCoords[0],
                                      constant(atomShape[0])),
        rowInTile);
    Value col = builder.create<arith::AddIOp>(
        loc,
        builder.create<arith::MulIOp>(loc, tileCoords[1],
                                      constant(atomShape[1])),
        colInTile);
    row = builder.create<arith::AddIOp>(loc, row, rowOffset);
    col = builder.create<arith::AddIOp>(loc, col, colOffset);
    Value element = emitSharedOffset(builder, loc, shared, {row, col});
    emit(builder.create<LLVM::GEPOp>(loc, base.getType(), elementType, base,
                                     ValueRange{element}),
         local);
  }
}

/// Whether the innermost offset is a multiple of 8 (the condition of a
/// matrix access whose `testAlignment` is set).
Value emitInnerOffsetAligned(OpBuilder &builder, Location loc,
                             ValueRange offsets) {
  Value inner = castToI32(builder, loc, offsets.back());
  Value low = builder.create<arith::AndIOp>(
      loc, inner, builder.create<arith::ConstantIntOp>(loc, 7, 32));
  return builder.create<arith::CmpIOp>(
      loc, arith::CmpIPredicate::eq, low,
      builder.create<arith::ConstantIntOp>(loc, 0, 32));
}

/// The tile loaded with one ldmatrix per atom tile: register k of the
/// instruction holds the atom's locals 2k and 2k + 1, so quotient local q
/// fills the tile's locals q M .. q M + M - 1 (M the atom's locals).
Value emitLdmatrixLoad(OpBuilder &builder, Location loc,
                       const MatrixAccess &access, const SharedLayout &shared,
                       Value base, Type elementType, Type resultType,
                       ValueRange offsets) {
  Type i32 = builder.getI32Type();
  std::string intrinsic =
      llvm::formatv("llvm.nvvm.ldmatrix.sync.aligned.m8n8.x{0}{1}.b16",
                    access.matrices, access.trans ? ".trans" : "")
          .str();
  Type loadedType =
      access.matrices == 1
          ? i32
          : Type(LLVM::LLVMStructType::getLiteral(
                builder.getContext(), SmallVector<Type>(access.matrices, i32)));
  auto pairType = VectorType::get({2}, elementType);
  int64_t atomLocals = access.atom->layout.numLocals();
  Value result =
      builder.create<arith::ConstantOp>(loc, builder.getZeroAttr(resultType));
  emitMatrixTiles(
      builder, loc, access, shared, base, elementType, offsets,
      [&](Value address, int64_t local) {
        Value loaded =
            builder
                .create<LLVM::CallIntrinsicOp>(loc, TypeRange{loadedType},
                                               builder.getStringAttr(intrinsic),
                                               ValueRange{address})
                .getResult(0);
        for (int64_t reg = 0; reg < access.matrices; ++reg) {
          Value word =
              access.matrices == 1
                  ? loaded
                  : builder.create<LLVM::ExtractValueOp>(loc, loaded, reg);
          Value pair = builder.create<LLVM::BitcastOp>(loc, pairType, word);
          for (int64_t j = 0; j < 2; ++j)
            result = builder.create<vector::InsertOp>(
                loc, builder.create<vector::ExtractOp>(loc, pair, j), result,
                local * atomLocals + 2 * reg + j);
        }
      });
  return result;
}

/// Stores `value` with one stmatrix per atom tile, its registers packed as
/// ldmatrix's are unpacked. LLVM 19 has no stmatrix intrinsic, so each is
/// inline PTX.
void emitStmatrixStore(OpBuilder &builder, Location loc,
                       const MatrixAccess &access, const SharedLayout &shared,
                       Value base, Type elementType, Value value,
                       ValueRange offsets) {
  std::string text =
      llvm::formatv("stmatrix.sync.aligned.m8n8.x{0}{1}.shared.b16 [$0], {{",
                    access.matrices, access.trans ? ".trans" : "")
          .str();
  std::string constraints = "l";
  for (int64_t reg = 0; reg < access.matrices; ++reg) {
    text += llvm::formatv("{0}${1}", reg ? ", " : "", reg + 1).str();
    constraints += ",r";
  }
  text += "};";
  Type i32 = builder.getI32Type();
  int64_t atomLocals = access.atom->layout.numLocals();
  emitMatrixTiles(
      builder, loc, access, shared, base, elementType, offsets,
      [&](Value address, int64_t local) {
        SmallVector<Value> operands = {address};
        for (int64_t reg = 0; reg < access.matrices; ++reg) {
          int64_t first = local * atomLocals + 2 * reg;
          Value pair = builder.create<vector::ShuffleOp>(
              loc, value, value, ArrayRef<int64_t>{first, first + 1});
          operands.push_back(builder.create<LLVM::BitcastOp>(loc, i32, pair));
        }
        builder.create<LLVM::InlineAsmOp>(
            loc, TypeRange{}, operands, text, constraints,
            /*has_side_effects=*/true, /*is_align_stack=*/false,
            LLVM::AsmDialectAttr(), ArrayAttr());
      });
}

/// Emits `matrix` where `access` needs no run-time test, else a branch on
/// the innermost offset's alignment between `matrix` and `elements`, which
/// yield the op's results.
SmallVector<Value>
emitMatrixOrElements(OpBuilder &builder, Location loc,
                     const MatrixAccess &access, ValueRange offsets,
                     function_ref<SmallVector<Value>(OpBuilder &)> matrix,
                     function_ref<SmallVector<Value>(OpBuilder &)> elements) {
  if (!access.testAlignment)
    return matrix(builder);
  auto branch = builder.create<scf::IfOp>(
      loc, emitInnerOffsetAligned(builder, loc, offsets),
      [&](OpBuilder &b, Location l) { b.create<scf::YieldOp>(l, matrix(b)); },
      [&](OpBuilder &b, Location l) {
        b.create<scf::YieldOp>(l, elements(b));
      });
  return SmallVector<Value>(branch.getResults());
}

struct LoadSharedLowering : OpConversionPattern<LoadSharedOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LoadSharedOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TileType tile = op.getType();
    FailureOr<Type> registerType =
        getTileRegisterType(op, *getTypeConverter(), tile);
    if (failed(registerType))
      return failure();
    Type elementType = *registerType;
    Type resultType = getTypeConverter()->convertType(tile);
    // A wgmma dot reads its operands from shared memory itself, also
    // through a transpose.
    std::function<bool(Operation *)> feedsWgmma = [&](Operation *user) {
      if (isa<TransposeOp>(user))
        return !user->use_empty() &&
               llvm::all_of(user->getUsers(), feedsWgmma);
      return isa<DotOp>(user) && user->hasAttr(kWgmmaAttr);
    };
    if (!op->use_empty() && llvm::all_of(op->getUsers(), feedsWgmma)) {
      rewriter.replaceOpWithNewOp<arith::ConstantOp>(
          op, rewriter.getZeroAttr(resultType));
      return success();
    }
    RegisterLayout layout = getLayout(tile);
    SharedLayout shared = getSharedLayout(op.getSrc().getType());
    int64_t width = sharedVectorWidth(
        layout, shared, op.getOffsets(),
        std::max<int64_t>(1, elementType.getIntOrFloatBitWidth() / 8));
    auto emitElements = [&](OpBuilder &b) -> SmallVector<Value> {
      Value threadId = createThreadId(b, loc);
      Value result =
          b.create<arith::ConstantOp>(loc, b.getZeroAttr(resultType));
      if (width > 1) {
        // A bool takes a byte in shared memory (as a scalar `store i1`
        // writes it), but LLVM packs a vector of i1 into bits: the run is
        // loaded as bytes and narrowed.
        bool isBool = elementType.isInteger(1);
        Type memoryType = isBool ? b.getI8Type() : elementType;
        auto memoryRunType = VectorType::get({width}, memoryType);
        auto runType = VectorType::get({width}, elementType);
        unsigned alignment =
            unsigned(width * memoryType.getIntOrFloatBitWidth() / 8);
        for (int64_t local = 0; local < layout.numLocals(); local += width) {
          Value address = emitTileElementAddress(
              b, loc, adaptor.getSrc(), elementType, shared, layout, threadId,
              adaptor.getOffsets(), local);
          Value run =
              b.create<LLVM::LoadOp>(loc, memoryRunType, address, alignment);
          if (isBool)
            run = b.create<LLVM::TruncOp>(loc, runType, run);
          result = b.create<vector::InsertStridedSliceOp>(
              loc, run, result, ArrayRef<int64_t>{local}, ArrayRef<int64_t>{1});
        }
        return {result};
      }
      for (int64_t local = 0; local < layout.numLocals(); ++local) {
        Value address = emitTileElementAddress(
            b, loc, adaptor.getSrc(), elementType, shared, layout, threadId,
            adaptor.getOffsets(), local);
        Value loaded = b.create<LLVM::LoadOp>(loc, elementType, address);
        result = b.create<vector::InsertOp>(loc, loaded, result, local);
      }
      return {result};
    };
    std::optional<MatrixAccess> access =
        selectMatrixAccess(rewriter, tile, elementType, op.getOffsets(), shared,
                           {"ldmatrix.x4.b16", "ldmatrix.x4.trans.b16"});
    if (!access) {
      rewriter.replaceOp(op, emitElements(rewriter));
      return success();
    }
    rewriter.replaceOp(
        op, emitMatrixOrElements(
                rewriter, loc, *access, adaptor.getOffsets(),
                [&](OpBuilder &b) -> SmallVector<Value> {
                  return {emitLdmatrixLoad(b, loc, *access, shared,
                                           adaptor.getSrc(), elementType,
                                           resultType, adaptor.getOffsets())};
                },
                emitElements));
    return success();
  }
};

struct StoreSharedLowering : OpConversionPattern<StoreSharedOp> {
  StoreSharedLowering(const TypeConverter &converter, MLIRContext *context,
                      const TargetInfo &target)
      : OpConversionPattern(converter, context), target(target) {}

  LogicalResult
  matchAndRewrite(StoreSharedOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TileType tile = op.getValue().getType();
    FailureOr<Type> registerType =
        getTileRegisterType(op, *getTypeConverter(), tile);
    if (failed(registerType))
      return failure();
    Type elementType = *registerType;
    RegisterLayout layout = getLayout(tile);
    SharedLayout shared = getSharedLayout(op.getDst().getType());
    // Replicas hold equal values; one write per element keeps the other
    // warps' writes from racing with it.
    auto guardReplicas = [&](OpBuilder &b, Value isWriter,
                             function_ref<void(OpBuilder &)> emit) {
      if (!isWriter)
        return emit(b);
      b.create<scf::IfOp>(loc, isWriter, [&](OpBuilder &ib, Location l) {
        emit(ib);
        ib.create<scf::YieldOp>(l);
      });
    };
    auto emitElements = [&](OpBuilder &b) -> SmallVector<Value> {
      Value threadId = createThreadId(b, loc);
      guardReplicas(
          b, emitIsFirstHolder(b, loc, layout, threadId), [&](OpBuilder &sb) {
            for (int64_t local = 0; local < layout.numLocals(); ++local) {
              Value address = emitTileElementAddress(
                  sb, loc, adaptor.getDst(), elementType, shared, layout,
                  threadId, adaptor.getOffsets(), local);
              Value element =
                  sb.create<vector::ExtractOp>(loc, adaptor.getValue(), local);
              sb.create<LLVM::StoreOp>(loc, element, address);
            }
          });
      return {};
    };
    std::optional<MatrixAccess> access;
    if (target.hasStmatrix())
      access = selectMatrixAccess(rewriter, tile, elementType, op.getOffsets(),
                                  shared,
                                  {"stmatrix.x4.b16", "stmatrix.x4.trans.b16",
                                   "stmatrix.x2.b16", "stmatrix.x2.trans.b16",
                                   "stmatrix.x1.b16", "stmatrix.x1.trans.b16"});
    if (!access) {
      emitElements(rewriter);
      rewriter.eraseOp(op);
      return success();
    }
    emitMatrixOrElements(
        rewriter, loc, *access, adaptor.getOffsets(),
        [&](OpBuilder &b) -> SmallVector<Value> {
          // Replication is over whole warps here (the atom has none), so
          // the test is the same in every lane of a warp.
          Value warp = b.create<arith::DivUIOp>(
              loc, createThreadId(b, loc),
              b.create<arith::ConstantIntOp>(loc, kWarpSize, 32));
          guardReplicas(b, emitIsFirstHolder(b, loc, access->quotient, warp),
                        [&](OpBuilder &sb) {
                          emitStmatrixStore(sb, loc, *access, shared,
                                            adaptor.getDst(), elementType,
                                            adaptor.getValue(),
                                            adaptor.getOffsets());
                        });
          return {};
        },
        emitElements);
    rewriter.eraseOp(op);
    return success();
  }

private:
  TargetInfo target;
};

/// The widest chunk (in elements) of 4, 8 or 16 bytes that `layout` keeps
/// contiguous and aligned in shared memory along the innermost dimension, or
/// 0 when there is none.
int64_t getCopyChunkElements(const SharedLayout &layout, int64_t elementBytes) {
  const std::vector<int64_t> &shape = layout.shape();
  int64_t size = layout.size();
  for (int64_t chunkBytes : {16, 8, 4}) {
    if (chunkBytes % elementBytes != 0)
      continue;
    int64_t chunk = chunkBytes / elementBytes;
    if (shape.back() % chunk != 0)
      continue;
    bool ok = true;
    std::vector<int64_t> index(shape.size());
    for (int64_t linear = 0; linear < size && ok; linear += chunk) {
      int64_t rest = linear;
      for (size_t d = shape.size(); d-- > 0;) {
        index[d] = rest % shape[d];
        rest /= shape[d];
      }
      int64_t first = layout.offsetOf(index);
      ok = first % chunk == 0;
      for (int64_t i = 1; i < chunk && ok; ++i) {
        ++index.back();
        ok = layout.offsetOf(index) == first + i;
      }
    }
    if (ok)
      return chunk;
  }
  return 0;
}

struct CopyAsyncLowering : OpConversionPattern<CopyAsyncOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(CopyAsyncOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    SharedTensorType dst = op.getDst().getType();
    unsigned bits = getDType(dst.getElementType())->bitWidth();
    if (bits % 8 != 0)
      return op.emitOpError("of ")
             << dst.getElementType()
             << " elements (narrower than a byte) is not supported yet";
    int64_t numThreads = getKernelNumThreads(op);
    if (numThreads == 0)
      return op.emitOpError("must be inside a kernel");
    int64_t elementBytes = bits / 8;
    // Copies move bits; integers of the element width carry any type.
    Type elementType = rewriter.getIntegerType(bits);
    SharedLayout shared = getSharedLayout(dst);
    int64_t chunk = getCopyChunkElements(shared, elementBytes);
    auto proven = op->getAttrOfType<IntegerAttr>("tilus.vector");
    ArrayRef<int64_t> shape = dst.getShape();
    unsigned rank = dst.getRank();

    Type i32 = rewriter.getI32Type(), i64 = rewriter.getI64Type();
    auto constant = [&](int64_t value) -> Value {
      return rewriter.create<arith::ConstantIntOp>(loc, value, 32);
    };
    Value packed = adaptor.getSrc();
    Value basePtr = rewriter.create<LLVM::ExtractValueOp>(loc, packed, 0);
    SmallVector<Value> extents;
    for (unsigned d = 0; d < rank; ++d)
      extents.push_back(
          rewriter.create<LLVM::ExtractValueOp>(loc, packed, d + 1));
    SmallVector<Value> offsets;
    for (Value offset : adaptor.getOffsets())
      offsets.push_back(castToI32(rewriter, loc, offset));
    Value threadId = createThreadId(rewriter, loc);

    int64_t width = std::max<int64_t>(chunk, 1);
    // Whole chunks: aligned to their size and never cut by the extent.
    bool wholeChunks = width == 1 || (proven && proven.getInt() % width == 0);
    int64_t numChunks = dst.getNumElements() / width;
    int64_t rounds = (numChunks + numThreads - 1) / numThreads;
    for (int64_t round = 0; round < rounds; ++round) {
      Value chunkId = rewriter.create<arith::AddIOp>(
          loc, threadId, constant(round * numThreads));
      auto emitChunk = [&](OpBuilder &b, Location l) {
        // Shared coordinates of the chunk's first element, row-major.
        SmallVector<Value> coords(rank);
        Value rest = chunkId;
        for (unsigned d = rank; d-- > 0;) {
          int64_t extent = d + 1 == rank ? shape[d] / width : shape[d];
          Value digit =
              d == 0 ? rest
                     : b.create<arith::RemUIOp>(l, rest, constant(extent))
                           .getResult();
          if (d + 1 == rank && width > 1)
            digit = b.create<arith::MulIOp>(l, digit, constant(width));
          coords[d] = digit;
          if (d > 0)
            rest = b.create<arith::DivUIOp>(l, rest, constant(extent));
        }
        Value element = emitSharedOffset(b, l, shared, coords);
        Value dstAddress =
            b.create<LLVM::GEPOp>(l, adaptor.getDst().getType(), elementType,
                                  adaptor.getDst(), ValueRange{element});

        // Elements of the chunk inside the global tensor: the outer
        // coordinates must be in bounds, and of the innermost ones those
        // below the extent.
        Value rowsInBounds, linear;
        Value innerIndex;
        for (unsigned d = 0; d < rank; ++d) {
          Value index = b.create<arith::AddIOp>(l, offsets[d], coords[d]);
          if (d + 1 < rank) {
            Value ok = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ult,
                                               index, extents[d]);
            rowsInBounds =
                rowsInBounds
                    ? b.create<arith::AndIOp>(l, rowsInBounds, ok).getResult()
                    : ok;
          } else {
            innerIndex = index;
          }
          // The innermost index may lie before the tensor (a negative
          // offset): sign-extended, element i of the chunk is linear + i.
          Value wide =
              d + 1 == rank
                  ? b.create<arith::ExtSIOp>(l, i64, index).getResult()
                  : b.create<arith::ExtUIOp>(l, i64, index).getResult();
          if (linear) {
            Value extent = b.create<arith::ExtUIOp>(l, i64, extents[d]);
            linear = b.create<arith::AddIOp>(
                l, b.create<arith::MulIOp>(l, linear, extent), wide);
          } else {
            linear = wide;
          }
        }
        Value innerOk = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ult,
                                                innerIndex, extents.back());
        Value inBounds =
            rowsInBounds
                ? b.create<arith::AndIOp>(l, rowsInBounds, innerOk).getResult()
                : innerOk;
        Value available = constant(width);
        if (!wholeChunks)
          available = b.create<arith::MinUIOp>(
              l, b.create<arith::SubIOp>(l, extents.back(), innerIndex),
              available);
        Value count =
            b.create<arith::SelectOp>(l, inBounds, available, constant(0));
        // A chunk wholly outside reads nothing; it names the tensor's first
        // element so that no address outside the tensor is formed.
        Value computed = b.create<LLVM::GEPOp>(
            l, basePtr.getType(), elementType, basePtr, ValueRange{linear});
        Value srcAddress =
            b.create<arith::SelectOp>(l, inBounds, computed, basePtr);

        // Element by element, each checked on its own: a chunk that starts
        // before the tensor (a negative offset) and ends inside it copies
        // its elements from index 0 on.
        auto emitSyncCopy = [&](OpBuilder &sb, Location sl) {
          Value zero =
              sb.create<arith::ConstantOp>(sl, sb.getZeroAttr(elementType));
          for (int64_t i = 0; i < width; ++i) {
            Value inside = sb.create<arith::CmpIOp>(
                sl, arith::CmpIPredicate::ult,
                sb.create<arith::AddIOp>(sl, innerIndex, constant(i)),
                extents.back());
            if (rowsInBounds)
              inside = sb.create<arith::AndIOp>(sl, rowsInBounds, inside);
            Value elementLinear = sb.create<arith::AddIOp>(
                sl, linear, sb.create<arith::ConstantIntOp>(sl, i, 64));
            Value src = sb.create<arith::SelectOp>(
                sl, inside,
                sb.create<LLVM::GEPOp>(sl, basePtr.getType(), elementType,
                                       basePtr, ValueRange{elementLinear}),
                basePtr);
            auto load = sb.create<scf::IfOp>(
                sl, inside,
                [&](OpBuilder &ib, Location il) {
                  ib.create<scf::YieldOp>(
                      il, ValueRange{
                              ib.create<LLVM::LoadOp>(il, elementType, src)});
                },
                [&](OpBuilder &ib, Location il) {
                  ib.create<scf::YieldOp>(il, zero);
                });
            Value dstElement =
                sb.create<LLVM::GEPOp>(sl, dstAddress.getType(), elementType,
                                       dstAddress, ArrayRef<LLVM::GEPArg>{i});
            sb.create<LLVM::StoreOp>(sl, load.getResult(0), dstElement);
          }
        };
        if (chunk == 0) {
          emitSyncCopy(b, l);
          return;
        }
        int64_t chunkBytes = width * elementBytes;
        std::string name =
            llvm::formatv("llvm.nvvm.cp.async.{0}.shared.global.{1}.s",
                          chunkBytes == 16 ? "cg" : "ca", chunkBytes)
                .str();
        auto emitAsyncCopy = [&](OpBuilder &ab, Location al) {
          Value srcBytes =
              ab.create<arith::MulIOp>(al, count, constant(elementBytes));
          ab.create<LLVM::CallIntrinsicOp>(
              al, TypeRange{}, ab.getStringAttr(name),
              ValueRange{dstAddress, srcAddress, srcBytes});
        };
        // A one-element chunk is aligned like every element, and a proven
        // whole chunk like its first.
        if (wholeChunks) {
          emitAsyncCopy(b, l);
          return;
        }
        // Otherwise the extents and offsets decide the alignment only at run
        // time.
        Value address = b.create<LLVM::PtrToIntOp>(l, i64, srcAddress);
        Value misalignment = b.create<arith::AndIOp>(
            l, address, b.create<arith::ConstantIntOp>(l, chunkBytes - 1, 64));
        Value aligned =
            b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, misalignment,
                                    b.create<arith::ConstantIntOp>(l, 0, 64));
        // cp.async zero-fills only a chunk's tail: one that starts before
        // the tensor and ends inside it is copied element by element.
        Value straddles = b.create<arith::AndIOp>(
            l,
            b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, innerIndex,
                                    constant(0)),
            b.create<arith::CmpIOp>(
                l, arith::CmpIPredicate::sgt,
                b.create<arith::AddIOp>(l, innerIndex, constant(width)),
                constant(0)));
        aligned = b.create<arith::AndIOp>(
            l, aligned,
            b.create<arith::XOrIOp>(
                l, straddles,
                b.create<arith::ConstantIntOp>(l, 1, 1)));
        b.create<scf::IfOp>(
            l, aligned,
            [&](OpBuilder &ab, Location al) {
              emitAsyncCopy(ab, al);
              ab.create<scf::YieldOp>(al);
            },
            [&](OpBuilder &sb, Location sl) {
              emitSyncCopy(sb, sl);
              sb.create<scf::YieldOp>(sl);
            });
      };
      if ((round + 1) * numThreads > numChunks) {
        Value active = rewriter.create<arith::CmpIOp>(
            loc, arith::CmpIPredicate::ult, chunkId, constant(numChunks));
        rewriter.create<scf::IfOp>(loc, active, [&](OpBuilder &b, Location l) {
          emitChunk(b, l);
          b.create<scf::YieldOp>(l);
        });
      } else {
        emitChunk(rewriter, loc);
      }
    }
    rewriter.eraseOp(op);
    return success();
  }
};

struct CopyAsyncCommitLowering : OpConversionPattern<CopyAsyncCommitOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(CopyAsyncCommitOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<NVVM::CpAsyncCommitGroupOp>(op);
    return success();
  }
};

struct CopyAsyncWaitLowering : OpConversionPattern<CopyAsyncWaitOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(CopyAsyncWaitOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<NVVM::CpAsyncWaitGroupOp>(op, op.getPending());
    return success();
  }
};

/// Whether the kernel enclosing `op` uses shared memory through the async
/// proxy: a dot lowered to wgmma (which reads it) or a TMA copy (which
/// writes it).
bool kernelUsesAsyncProxy(Operation *op) {
  auto func = op->getParentOfType<func::FuncOp>();
  if (!func)
    return false;
  return func
      .walk([](Operation *nested) {
        bool async = isa<CopyTmaOp>(nested) ||
                     (isa<DotOp>(nested) && nested->hasAttr(kWgmmaAttr));
        return async ? WalkResult::interrupt() : WalkResult::advance();
      })
      .wasInterrupted();
}

struct SyncLowering : OpConversionPattern<SyncOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SyncOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // The generic-proxy accesses (st.shared, cp.async, ld.shared) of each
    // thread are ordered with the async proxy (wgmma's descriptor reads,
    // TMA's writes) before the barrier that hands the tiles over
    // (codegen/WgmmaLowering.cpp, TmaLowering.cpp).
    if (kernelUsesAsyncProxy(op))
      rewriter.create<LLVM::InlineAsmOp>(
          op.getLoc(), TypeRange{}, ValueRange{},
          "fence.proxy.async.shared::cta;", "", /*has_side_effects=*/true,
          /*is_align_stack=*/false, LLVM::AsmDialectAttr(), ArrayAttr());
    createBarrier(rewriter, op.getLoc());
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void tilus::populateSharedMemoryLoweringPatterns(const TypeConverter &converter,
                                                 RewritePatternSet &patterns,
                                                 const TargetInfo &target) {
  patterns.add<AllocSharedLowering, FreeSharedLowering, LoadSharedLowering,
               CopyAsyncLowering, CopyAsyncCommitLowering,
               CopyAsyncWaitLowering, SyncLowering>(converter,
                                                    patterns.getContext());
  patterns.add<StoreSharedLowering>(converter, patterns.getContext(), target);
}
