//===- PrintLowering.cpp - Printing from the device -----------------------===//
//
// `tilus.print` calls CUDA's `vprintf(format, args)`: the format is a module
// constant, the arguments a buffer on the stack laid out like C varargs
// (i32 indices, then the value: floats as double, integers as 32 or 64-bit).
// Each element of a tile is printed by the thread that holds it whose
// replicated thread digits are 0 (its first holder), as `label[i, j] = v`;
// a scalar as `label = v`, by thread 0. Every block prints.
//
//===----------------------------------------------------------------------===//

#include "codegen/CastCodegen.h"
#include "codegen/LayoutCodegen.h"
#include "codegen/SharedAccess.h"
#include "codegen/TileLowering.h"
#include "target/Scratch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace tilus;

namespace {

constexpr StringLiteral kVprintf = "vprintf";

/// Declares `vprintf` in `module` if it is not there.
void declareVprintf(OpBuilder &builder, ModuleOp module) {
  if (module.lookupSymbol(kVprintf))
    return;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(module.getBody());
  MLIRContext *context = builder.getContext();
  auto ptr = LLVM::LLVMPointerType::get(context);
  builder.create<LLVM::LLVMFuncOp>(
      module.getLoc(), kVprintf,
      LLVM::LLVMFunctionType::get(IntegerType::get(context, 32), {ptr, ptr}));
}

/// The address of a module constant holding `text` and a terminating NUL.
Value getStringAddress(OpBuilder &builder, Location loc, ModuleOp module,
                       StringRef text) {
  std::string name;
  for (unsigned i = 0;; ++i) {
    name = "tilus_print_format_" + std::to_string(i);
    auto existing = module.lookupSymbol<LLVM::GlobalOp>(name);
    if (!existing)
      break;
    auto value = dyn_cast_or_null<StringAttr>(existing.getValueAttr());
    if (value && value.getValue().drop_back() == text)
      return builder.create<LLVM::AddressOfOp>(loc, existing);
  }
  std::string data = text.str();
  data.push_back('\0');
  LLVM::GlobalOp global;
  {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(module.getBody());
    auto type = LLVM::LLVMArrayType::get(builder.getI8Type(), data.size());
    global = builder.create<LLVM::GlobalOp>(loc, type, /*isConstant=*/true,
                                            LLVM::Linkage::Internal, name,
                                            builder.getStringAttr(data));
  }
  return builder.create<LLVM::AddressOfOp>(loc, global);
}

/// The printf conversion of `dtype` and the type its values are passed as.
std::pair<StringRef, Type> getConversion(OpBuilder &builder, DType dtype) {
  if (dtype.isFloat())
    return {"%g", builder.getF64Type()};
  if (dtype.bitWidth() == 64)
    return {dtype.isSigned() ? "%lld" : "%llu", builder.getI64Type()};
  return {dtype.isSigned() ? "%d" : "%u", builder.getI32Type()};
}

/// One register of `dtype` as its printf argument.
Value promote(OpBuilder &builder, Location loc, Value value, DType dtype) {
  if (dtype.isFloat())
    return builder.create<arith::ExtFOp>(
        loc, builder.getF64Type(),
        emitComputeCast(builder, loc, value, dtype, DType::f32()));
  if (dtype.bitWidth() == 64)
    return value;
  DType wide = dtype.isSigned() ? DType::signedInt(32) : DType::unsignedInt(32);
  return emitComputeCast(builder, loc, value, dtype, wide);
}

std::string escape(StringRef label) {
  std::string text;
  for (char c : label) {
    text.push_back(c);
    if (c == '%')
      text.push_back('%');
  }
  return text;
}

struct PrintLowering : OpConversionPattern<PrintOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(PrintOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto module = op->getParentOfType<ModuleOp>();
    auto func = op->getParentOfType<FunctionOpInterface>();
    if (!module || !func)
      return op.emitOpError("must be inside a function of a module");
    declareVprintf(rewriter, module);
    Type i32 = rewriter.getI32Type();
    auto ptr = LLVM::LLVMPointerType::get(rewriter.getContext());
    Value threadId = createThreadId(rewriter, loc);
    auto c32 = [&](int64_t v) -> Value {
      return rewriter.create<arith::ConstantIntOp>(loc, v, 32);
    };

    Type valueType = op.getValue().getType();
    auto tile = dyn_cast<TileType>(valueType);
    if (tile && !tile.getLayout())
      return op.emitOpError("needs a tile with a layout");
    DType dtype = *getDType(tile ? tile.getElementType() : valueType);
    int64_t rank = tile ? tile.getRank() : 0;

    // The argument buffer: the indices, then the value.
    auto [conversion, promotedType] = getConversion(rewriter, dtype);
    SmallVector<Type> fields(rank, i32);
    fields.push_back(promotedType);
    auto argsType =
        LLVM::LLVMStructType::getLiteral(rewriter.getContext(), fields);
    Value args;
    {
      // A static alloca, in the entry block.
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(&func.getFunctionBody().front());
      Value one = rewriter.create<arith::ConstantIntOp>(loc, 1, 32);
      args = rewriter.create<LLVM::AllocaOp>(loc, ptr, argsType, one);
    }

    std::string text = escape(op.getLabel());
    if (rank > 0) {
      text += "[";
      for (int64_t d = 0; d < rank; ++d)
        text += d ? ", %d" : "%d";
      text += "]";
    }
    text += (" = " + conversion + "\n").str();
    Value format = getStringAddress(rewriter, loc, module, text);

    auto emitPrint = [&](OpBuilder &b, Location l, ValueRange coords,
                         Value reg) {
      for (auto [d, coord] : llvm::enumerate(coords)) {
        Value field = b.create<LLVM::GEPOp>(
            l, ptr, argsType, args,
            ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(d)});
        b.create<LLVM::StoreOp>(l, coord, field);
      }
      Value field = b.create<LLVM::GEPOp>(
          l, ptr, argsType, args,
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(coords.size())});
      b.create<LLVM::StoreOp>(l, promote(b, l, reg, dtype), field);
      b.create<LLVM::CallOp>(l, TypeRange{i32}, kVprintf,
                             ValueRange{format, args});
    };

    if (!tile) {
      Value first = rewriter.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::eq, threadId, c32(0));
      rewriter.create<scf::IfOp>(loc, first, [&](OpBuilder &b, Location l) {
        emitPrint(b, l, {}, adaptor.getValue());
        b.create<scf::YieldOp>(l);
      });
      rewriter.eraseOp(op);
      return success();
    }

    // The first holder of each element prints it.
    RegisterLayout layout = getLayout(tile);
    Value first = emitIsFirstHolder(rewriter, loc, layout, threadId);
    if (!first)
      first = rewriter.create<arith::ConstantIntOp>(loc, 1, 1);
    // Threads beyond the layout's (when the block is larger) print nothing.
    first = rewriter.create<arith::AndIOp>(
        loc, first,
        rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, threadId,
                                       c32(layout.numThreads())));
    for (int64_t local = 0; local < layout.numLocals(); ++local) {
      SmallVector<Value> coords =
          emitLayoutCoordinates(rewriter, loc, layout, threadId, local);
      Value reg =
          rewriter.create<vector::ExtractOp>(loc, adaptor.getValue(), local);
      rewriter.create<scf::IfOp>(loc, first, [&](OpBuilder &b, Location l) {
        emitPrint(b, l, coords, reg);
        b.create<scf::YieldOp>(l);
      });
    }
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void tilus::populatePrintLoweringPatterns(const TypeConverter &converter,
                                          RewritePatternSet &patterns) {
  patterns.add<PrintLowering>(converter, patterns.getContext());
}
