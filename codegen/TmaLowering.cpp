//===- TmaLowering.cpp - mbarriers and TMA copies -------------------------===//
//
// A `!tilus.barrier` is the address of its 8 bytes in the kernel's dynamic
// shared memory (shared-memory planning places it). The instructions, all
// sm_90 (PTX ISA 8.0), written as inline PTX:
//
//   alloc_barrier N   thread 0: mbarrier.init [bar], N and
//                     fence.mbarrier_init.release.cluster; then bar.sync, so
//                     every thread (and the TMA unit) sees the barrier
//   copy_tma          thread 0: mbarrier.arrive.expect_tx [bar], BYTES, then
//                     cp.async.bulk.tensor.Nd.shared::cluster.global.tile
//                     .mbarrier::complete_tx::bytes [dst], [map, {c0..}],
//                     [bar]; c0 is the innermost coordinate
//   wait_barrier      every thread: a loop on mbarrier.try_wait.parity
//   arrive            every thread: mbarrier.arrive [bar]
//
// Tensor maps: before the conversion, each kernel gets one hidden argument
// per distinct (global tensor parameter, box, swizzle) that its copy_tma
// ops read: a `!llvm.ptr` with `llvm.byval = !llvm.array<128 x i8>`,
// `llvm.align = 64` and `nvvm.grid_constant`, which NVPTX emits as
// `.param .align 64 .b8 NAME[128]` whose generic address (`cvta.param`) the
// copy passes as its tensor map. The kernel's `tilus.tensor_maps` lists
// them in argument order (param: the global tensor's argument, box: the
// shared tensor's shape, outermost first, swizzle: bytes); the compiler
// driver copies it into KernelInfo::tensorMaps and the runtime builds each
// map at launch (runtime/core/TensorMaps.cpp).
//
//===----------------------------------------------------------------------===//

#include "codegen/SharedAccess.h"
#include "codegen/TileLowering.h"
#include "ir/dialect/Tilus.h"
#include "target/Scratch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace tilus;

namespace {

constexpr StringLiteral kTensorMapAttr = "tilus.tensor_map";
constexpr StringLiteral kTensorMapsAttr = "tilus.tensor_maps";

/// Inline PTX with side effects; `result` may be null.
Value emitAsm(OpBuilder &builder, Location loc, Type result,
              ValueRange operands, StringRef text, StringRef constraints) {
  auto op = builder.create<LLVM::InlineAsmOp>(
      loc, result ? TypeRange{result} : TypeRange{}, operands, text,
      constraints, /*has_side_effects=*/true, /*is_align_stack=*/false,
      LLVM::AsmDialectAttr(), ArrayAttr());
  return result ? op.getResult(0) : Value();
}

/// Runs `body` in thread 0 of the block only.
void inFirstThread(OpBuilder &builder, Location loc,
                   function_ref<void(OpBuilder &)> body) {
  Value tid = createThreadId(builder, loc);
  Value zero = builder.create<arith::ConstantIntOp>(loc, 0, 32);
  Value first = builder.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                              tid, zero);
  auto branch = builder.create<scf::IfOp>(loc, first, /*withElse=*/false);
  OpBuilder inside = OpBuilder::atBlockBegin(&branch.getThenRegion().front());
  inside.setInsertionPoint(branch.getThenRegion().front().getTerminator());
  body(inside);
}

LogicalResult requireTma(Operation *op, const TargetInfo &target) {
  if (target.hasTma())
    return success();
  return op->emitOpError("needs sm_90 or later (mbarrier transactions and "
                         "the TMA unit); the target is ")
         << target.arch;
}

template <typename Op> struct TmaPattern : OpConversionPattern<Op> {
  TmaPattern(const TypeConverter &converter, MLIRContext *context,
             const TargetInfo &target)
      : OpConversionPattern<Op>(converter, context), target(target) {}
  const TargetInfo &target;
};

struct AllocBarrierLowering : TmaPattern<AllocBarrierOp> {
  using TmaPattern::TmaPattern;

  LogicalResult
  matchAndRewrite(AllocBarrierOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireTma(op, target)))
      return failure();
    auto offset = op->getAttrOfType<IntegerAttr>(plan_attr::kSharedOffset);
    if (!offset)
      return op.emitOpError("has no '")
             << plan_attr::kSharedOffset
             << "'; run tilus-plan-shared-memory before lowering";
    Location loc = op.getLoc();
    Value address =
        emitDynamicSharedAddress(rewriter, loc, op, offset.getInt());
    std::string init =
        llvm::formatv("mbarrier.init.shared.b64 [$0], {0};", op.getCount());
    inFirstThread(rewriter, loc, [&](OpBuilder &b) {
      emitAsm(b, loc, nullptr, {address}, init, "l,~{memory}");
      emitAsm(b, loc, nullptr, {}, "fence.mbarrier_init.release.cluster;",
              "~{memory}");
    });
    createBarrier(rewriter, loc);
    rewriter.replaceOp(op, address);
    return success();
  }
};

struct CopyTmaLowering : TmaPattern<CopyTmaOp> {
  using TmaPattern::TmaPattern;

  LogicalResult
  matchAndRewrite(CopyTmaOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireTma(op, target)))
      return failure();
    auto mapIndex = op->getAttrOfType<IntegerAttr>(kTensorMapAttr);
    auto func = op->getParentOfType<func::FuncOp>();
    if (!mapIndex || !func ||
        mapIndex.getInt() >= int64_t(func.getNumArguments()))
      return op.emitOpError("has no tensor-map argument; the kernel's tensor "
                            "maps are added by convert-tilus-to-llvm");
    Location loc = op.getLoc();
    Value map = func.getArgument(mapIndex.getInt());
    SharedTensorType dst = op.getDst().getType();
    int64_t bytes =
        dst.getNumElements() * getDType(dst.getElementType())->bitWidth() / 8;
    unsigned rank = dst.getRank();
    SmallVector<Value> operands = {adaptor.getDst(), map,
                                   adaptor.getBarrier()};
    std::string coords;
    // TMA coordinates run innermost first.
    for (unsigned d = 0; d < rank; ++d) {
      operands.push_back(
          castToI32(rewriter, loc, adaptor.getOffsets()[rank - 1 - d]));
      coords += llvm::formatv("{0}${1}", d ? ", " : "", 3 + d).str();
    }
    std::string copy = llvm::formatv(
        "cp.async.bulk.tensor.{0}d.shared::cluster.global.tile.mbarrier::"
        "complete_tx::bytes [$0], [$1, {{{1}}], [$2];",
        rank, coords);
    std::string constraints = "l,l,l";
    for (unsigned d = 0; d < rank; ++d)
      constraints += ",r";
    constraints += ",~{memory}";
    std::string expect = llvm::formatv(
        "mbarrier.arrive.expect_tx.shared.b64 _, [$0], {0};", bytes);
    Value barrier = adaptor.getBarrier();
    inFirstThread(rewriter, loc, [&](OpBuilder &b) {
      emitAsm(b, loc, nullptr, {barrier}, expect, "l,~{memory}");
      emitAsm(b, loc, nullptr, operands, copy, constraints);
    });
    rewriter.eraseOp(op);
    return success();
  }
};

struct WaitBarrierLowering : TmaPattern<WaitBarrierOp> {
  using TmaPattern::TmaPattern;

  LogicalResult
  matchAndRewrite(WaitBarrierOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireTma(op, target)))
      return failure();
    Location loc = op.getLoc();
    Type i32 = rewriter.getI32Type();
    Value parity = rewriter.create<arith::AndIOp>(
        loc, castToI32(rewriter, loc, adaptor.getPhase()),
        rewriter.create<arith::ConstantIntOp>(loc, 1, 32));
    Value barrier = adaptor.getBarrier();
    auto loop = rewriter.create<scf::WhileOp>(loc, TypeRange{}, ValueRange{});
    {
      Block *before = rewriter.createBlock(&loop.getBefore());
      OpBuilder b = OpBuilder::atBlockEnd(before);
      Value done = emitAsm(
          b, loc, i32, {barrier, parity},
          "{\n.reg .pred p;\nmbarrier.try_wait.parity.shared.b64 p, [$1], "
          "$2;\nselp.u32 $0, 1, 0, p;\n}",
          "=r,l,r,~{memory}");
      Value pending = b.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::eq, done,
          b.create<arith::ConstantIntOp>(loc, 0, 32));
      b.create<scf::ConditionOp>(loc, pending, ValueRange{});
      Block *after = rewriter.createBlock(&loop.getAfter());
      OpBuilder::atBlockEnd(after).create<scf::YieldOp>(loc);
    }
    rewriter.setInsertionPointAfter(loop);
    rewriter.eraseOp(op);
    return success();
  }
};

struct ArriveBarrierLowering : TmaPattern<ArriveBarrierOp> {
  using TmaPattern::TmaPattern;

  LogicalResult
  matchAndRewrite(ArriveBarrierOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (failed(requireTma(op, target)))
      return failure();
    emitAsm(rewriter, op.getLoc(), nullptr, {adaptor.getBarrier()},
            "mbarrier.arrive.shared.b64 _, [$0];", "l,~{memory}");
    rewriter.eraseOp(op);
    return success();
  }
};

/// The dtype name KernelInfo uses for a TMA element type.
std::string dtypeName(Type type) { return getDType(type)->name(); }

} // namespace

LogicalResult tilus::addTensorMapArguments(ModuleOp module,
                                           const TargetInfo &target) {
  MLIRContext *context = module.getContext();
  Builder builder(context);
  bool failed = false;
  module.walk([&](func::FuncOp func) {
    if (!func->hasAttr(kernel_attr::kKernel))
      return;
    struct Map {
      unsigned param;
      SmallVector<int64_t> box;
      int64_t swizzle;
      unsigned argument;
    };
    SmallVector<Map> maps;
    SmallVector<Attribute> records;
    func.walk([&](CopyTmaOp op) {
      if (mlir::failed(requireTma(op, target))) {
        failed = true;
        return;
      }
      SharedTensorType dst = op.getDst().getType();
      std::string why;
      std::optional<int64_t> swizzle = getTmaSwizzleBytes(dst, why);
      if (!swizzle) {
        op.emitOpError("cannot write shared tensor ") << dst << ": " << why;
        failed = true;
        return;
      }
      auto view = op.getSrc().getDefiningOp<GlobalViewOp>();
      auto param = view ? dyn_cast<BlockArgument>(view.getPtr()) : nullptr;
      if (!param) {
        op.emitOpError("needs a global tensor that is a kernel parameter");
        failed = true;
        return;
      }
      SmallVector<int64_t> box(dst.getShape());
      const Map *found = nullptr;
      for (const Map &map : maps)
        if (map.param == param.getArgNumber() && map.box == box &&
            map.swizzle == *swizzle)
          found = &map;
      if (!found) {
        unsigned argument = func.getNumArguments();
        NamedAttrList attrs;
        attrs.set(LLVM::LLVMDialect::getByValAttrName(),
                  TypeAttr::get(LLVM::LLVMArrayType::get(
                      IntegerType::get(context, 8), 128)));
        attrs.set(LLVM::LLVMDialect::getAlignAttrName(),
                  builder.getI64IntegerAttr(64));
        attrs.set("nvvm.grid_constant", builder.getUnitAttr());
        func.insertArgument(argument, LLVM::LLVMPointerType::get(context),
                            attrs.getDictionary(context), op.getLoc());
        maps.push_back({param.getArgNumber(), box, *swizzle, argument});
        found = &maps.back();
        records.push_back(builder.getDictionaryAttr({
            builder.getNamedAttr("param",
                                 builder.getI64IntegerAttr(found->param)),
            builder.getNamedAttr(
                "dtype", builder.getStringAttr(dtypeName(dst.getElementType()))),
            builder.getNamedAttr("box", builder.getDenseI64ArrayAttr(box)),
            builder.getNamedAttr("swizzle",
                                 builder.getI64IntegerAttr(*swizzle)),
        }));
      }
      op->setAttr(kTensorMapAttr, builder.getI64IntegerAttr(found->argument));
    });
    if (!records.empty())
      func->setAttr(kTensorMapsAttr, builder.getArrayAttr(records));
  });
  return failure(failed);
}

void tilus::populateTmaLoweringPatterns(const TypeConverter &converter,
                                        RewritePatternSet &patterns,
                                        const TargetInfo &target) {
  patterns.add<AllocBarrierLowering, CopyTmaLowering, WaitBarrierLowering,
               ArriveBarrierLowering>(converter, patterns.getContext(),
                                      target);
}
