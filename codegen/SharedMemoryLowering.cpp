//===- SharedMemoryLowering.cpp - Shared tensors, copies, barriers -------===//
//
// All shared tensors of a kernel live in its dynamic shared memory, the
// module's `tilus_smem` array, at the byte offsets that shared-memory planning
// recorded; a shared tensor lowers to the address of its first element.
// Transfers between tiles and shared tensors move each register on its own
// through the tensor's shared layout (swizzle included), except that a 16-bit
// load_shared whose layout divides by the `ldmatrix.x4.b16` (or `.trans`)
// atom, at constant offsets where every 8-element row chunk it reads is
// contiguous and 16-byte aligned in shared memory, becomes one
// `ldmatrix.sync.aligned.m8n8.x4[.trans].shared.b16` per 16x16 tile of the
// quotient: lane l gives the address of row l % 16, columns 8 (l / 16) ..
// + 8 of its warp's tile. An asynchronous copy
// splits the region into chunks of 4, 8 or 16 bytes that are contiguous in
// shared memory and hands them to the threads round-robin, so consecutive
// threads copy consecutive chunks; each chunk is one `cp.async` whose source
// size counts only the elements inside the global tensor (the rest are
// zero-filled). A chunk wider than an element needs a source aligned to its
// size: when the copy's `tilus.vector` (tilus-vectorize) is a multiple of the
// chunk, every chunk is aligned and wholly inside or outside the tensor, and
// its source size is all or nothing; otherwise each chunk tests its address
// at run time and copies element by element when it is misaligned.
//
//===----------------------------------------------------------------------===//

#include "codegen/LayoutCodegen.h"
#include "codegen/Scratch.h"
#include "codegen/TileLowering.h"
#include "ir/layout/Atoms.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace tilus;

/// The symbol of the kernel's dynamic shared memory.
static constexpr StringLiteral kDynamicSharedSymbol = "tilus_smem";

SharedLayout tilus::getSharedLayout(SharedTensorType shared) {
  if (shared.getLayout())
    return shared.getLayout().getLayout();
  return SharedLayout::rowMajor(
      std::vector<int64_t>(shared.getShape().begin(), shared.getShape().end()));
}

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

/// Loads `op`'s tile with ldmatrix.x4 (see the file comment), or returns
/// null when its layout, offsets or shared layout do not allow it.
Value emitLdmatrixLoad(OpBuilder &builder, LoadSharedOp op, Value base,
                       Type elementType, Type resultType) {
  TileType tile = op.getType();
  RegisterLayout layout = getLayout(tile);
  if (tile.getRank() != 2 || elementType.getIntOrFloatBitWidth() != 16)
    return {};
  SmallVector<int64_t, 2> offsets;
  for (Value offset : op.getOffsets()) {
    APInt value;
    if (!matchPattern(offset, m_ConstantInt(&value)))
      return {};
    offsets.push_back(value.getSExtValue());
  }
  const LayoutAtom *atom = nullptr;
  std::optional<RegisterLayout> quotient;
  for (StringRef name : {"ldmatrix.x4.b16", "ldmatrix.x4.trans.b16"}) {
    const LayoutAtom *candidate = findLayoutAtom(name.str());
    if (!candidate)
      continue;
    auto q = layout.divide(candidate->layout);
    if (q && q->numThreads() * kWarpSize == layout.numThreads()) {
      atom = candidate;
      quotient = *q;
      break;
    }
  }
  if (!atom)
    return {};
  // Each lane's 8-element row chunk must be contiguous and 16-byte aligned.
  SharedLayout shared = getSharedLayout(op.getSrc().getType());
  ArrayRef<int64_t> shape = tile.getShape();
  for (int64_t row = 0; row < shape[0]; ++row)
    for (int64_t col = 0; col < shape[1]; col += 8) {
      std::vector<int64_t> index = {offsets[0] + row, offsets[1] + col};
      int64_t first = shared.offsetOf(index);
      if (first % 8 != 0)
        return {};
      for (int64_t i = 1; i < 8; ++i) {
        ++index[1];
        if (shared.offsetOf(index) != first + i)
          return {};
      }
    }

  Location loc = op.getLoc();
  auto constant = [&](int64_t value) -> Value {
    return builder.create<arith::ConstantIntOp>(loc, value, 32);
  };
  Type i32 = builder.getI32Type();
  Value threadId = builder.create<NVVM::ThreadIdXOp>(loc, i32);
  Value warp = builder.create<arith::DivUIOp>(loc, threadId, constant(kWarpSize));
  Value lane = builder.create<arith::RemUIOp>(loc, threadId, constant(kWarpSize));
  Value rowInTile = builder.create<arith::RemUIOp>(loc, lane, constant(16));
  Value colInTile = builder.create<arith::MulIOp>(
      loc, builder.create<arith::DivUIOp>(loc, lane, constant(16)),
      constant(8));
  bool trans = atom->name.find(".trans") != std::string::npos;
  StringRef intrinsic =
      trans ? "llvm.nvvm.ldmatrix.sync.aligned.m8n8.x4.trans.b16"
            : "llvm.nvvm.ldmatrix.sync.aligned.m8n8.x4.b16";
  auto structType = LLVM::LLVMStructType::getLiteral(
      builder.getContext(), SmallVector<Type>(4, i32));
  auto pairType = VectorType::get({2}, elementType);
  int64_t atomLocals = atom->layout.numLocals();
  Value result = builder.create<arith::ConstantOp>(
      loc, builder.getZeroAttr(resultType));
  for (int64_t local = 0; local < quotient->numLocals(); ++local) {
    SmallVector<Value> tileCoords =
        emitLayoutCoordinates(builder, loc, *quotient, warp, local);
    Value row = builder.create<arith::AddIOp>(
        loc, builder.create<arith::MulIOp>(loc, tileCoords[0], constant(16)),
        rowInTile);
    Value col = builder.create<arith::AddIOp>(
        loc, builder.create<arith::MulIOp>(loc, tileCoords[1], constant(16)),
        colInTile);
    row = builder.create<arith::AddIOp>(loc, row, constant(offsets[0]));
    col = builder.create<arith::AddIOp>(loc, col, constant(offsets[1]));
    Value element = emitSharedOffset(builder, loc, shared, {row, col});
    Value address = builder.create<LLVM::GEPOp>(
        loc, base.getType(), elementType, base, ValueRange{element});
    auto load = builder.create<LLVM::CallIntrinsicOp>(
        loc, TypeRange{structType}, builder.getStringAttr(intrinsic),
        ValueRange{address});
    for (int64_t reg = 0; reg < 4; ++reg) {
      Value word = builder.create<LLVM::ExtractValueOp>(loc, load.getResult(0),
                                                        reg);
      Value pair = builder.create<LLVM::BitcastOp>(loc, pairType, word);
      for (int64_t j = 0; j < 2; ++j)
        result = builder.create<vector::InsertOp>(
            loc, builder.create<vector::ExtractOp>(loc, pair, j), result,
            local * atomLocals + 2 * reg + j);
    }
  }
  return result;
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
    if (Value loaded = emitLdmatrixLoad(
            rewriter, op, adaptor.getSrc(), elementType,
            getTypeConverter()->convertType(tile))) {
      rewriter.replaceOp(op, loaded);
      return success();
    }
    RegisterLayout layout = getLayout(tile);
    SharedLayout shared = getSharedLayout(op.getSrc().getType());
    Value threadId =
        rewriter.create<NVVM::ThreadIdXOp>(loc, rewriter.getI32Type());
    Value result = rewriter.create<arith::ConstantOp>(
        loc, rewriter.getZeroAttr(getTypeConverter()->convertType(tile)));
    for (int64_t local = 0; local < layout.numLocals(); ++local) {
      Value address = emitTileElementAddress(
          rewriter, loc, adaptor.getSrc(), elementType, shared, layout,
          threadId, adaptor.getOffsets(), local);
      Value loaded = rewriter.create<LLVM::LoadOp>(loc, elementType, address);
      result = rewriter.create<vector::InsertOp>(loc, loaded, result, local);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct StoreSharedLowering : OpConversionPattern<StoreSharedOp> {
  using OpConversionPattern::OpConversionPattern;

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
    Value threadId =
        rewriter.create<NVVM::ThreadIdXOp>(loc, rewriter.getI32Type());
    // Replicas hold equal values; one write per element keeps the other
    // warps' writes from racing with it.
    Value isWriter = emitIsFirstHolder(rewriter, loc, layout, threadId);
    auto emitStores = [&](OpBuilder &builder, Location l) {
      for (int64_t local = 0; local < layout.numLocals(); ++local) {
        Value address = emitTileElementAddress(
            builder, l, adaptor.getDst(), elementType, shared, layout, threadId,
            adaptor.getOffsets(), local);
        Value element =
            builder.create<vector::ExtractOp>(l, adaptor.getValue(), local);
        builder.create<LLVM::StoreOp>(l, element, address);
      }
    };
    if (isWriter) {
      rewriter.create<scf::IfOp>(loc, isWriter, [&](OpBuilder &b, Location l) {
        emitStores(b, l);
        b.create<scf::YieldOp>(l);
      });
    } else {
      emitStores(rewriter, loc);
    }
    rewriter.eraseOp(op);
    return success();
  }
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
    Value threadId = rewriter.create<NVVM::ThreadIdXOp>(loc, i32);

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
          Value wide = b.create<arith::ExtUIOp>(l, i64, index);
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

        auto emitSyncCopy = [&](OpBuilder &sb, Location sl) {
          Value zero =
              sb.create<arith::ConstantOp>(sl, sb.getZeroAttr(elementType));
          for (int64_t i = 0; i < width; ++i) {
            Value inside = sb.create<arith::CmpIOp>(
                sl, arith::CmpIPredicate::ult, constant(i), count);
            Value src =
                sb.create<LLVM::GEPOp>(sl, basePtr.getType(), elementType,
                                       srcAddress, ArrayRef<LLVM::GEPArg>{i});
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

struct SyncLowering : OpConversionPattern<SyncOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SyncOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<NVVM::Barrier0Op>(op);
    return success();
  }
};

} // namespace

void tilus::populateSharedMemoryLoweringPatterns(const TypeConverter &converter,
                                                 RewritePatternSet &patterns) {
  patterns.add<AllocSharedLowering, FreeSharedLowering, LoadSharedLowering,
               StoreSharedLowering, CopyAsyncLowering, CopyAsyncCommitLowering,
               CopyAsyncWaitLowering, SyncLowering>(converter,
                                                    patterns.getContext());
}
