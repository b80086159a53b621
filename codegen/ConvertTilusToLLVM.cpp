//===- ConvertTilusToLLVM.cpp - tilus kernels to LLVM + NVVM --------------===//

#include "codegen/Passes.h"

#include "codegen/TileLowering.h"
#include "ir/dialect/Tilus.h"
#include "target/TargetInfo.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVM.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "mlir/Rewrite/PatternApplicator.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"

namespace tilus {
#define GEN_PASS_DEF_CONVERTTILUSTOLLVM
#include "codegen/Passes.h.inc"
} // namespace tilus

using namespace mlir;
using namespace tilus;

/// The [first warp, warp count, barrier id] of the thread group whose
/// branch holds `block`, if any.
static DenseI64ArrayAttr groupAround(Block *block) {
  for (Operation *op = block ? block->getParentOp() : nullptr; op;
       op = op->getParentOp())
    if (auto bounds = op->getAttrOfType<DenseI64ArrayAttr>(kThreadGroupAttr))
      return bounds;
  return {};
}

Value tilus::createThreadId(OpBuilder &b, Location loc) {
  Value tid = b.create<NVVM::ThreadIdXOp>(loc, b.getI32Type());
  DenseI64ArrayAttr group = groupAround(b.getInsertionBlock());
  if (!group || group[0] == 0)
    return tid;
  return b.create<arith::SubIOp>(
      loc, tid,
      b.create<arith::ConstantIntOp>(loc, group[0] * kWarpSize, 32));
}

void tilus::createBarrier(OpBuilder &b, Location loc) {
  DenseI64ArrayAttr group = groupAround(b.getInsertionBlock());
  if (!group) {
    b.create<NVVM::Barrier0Op>(loc);
    return;
  }
  b.create<NVVM::BarrierOp>(
      loc, b.create<arith::ConstantIntOp>(loc, group[2], 32).getResult(),
      b.create<arith::ConstantIntOp>(loc, group[1] * kWarpSize, 32)
          .getResult());
}

void tilus::lowerThreadGroups(ModuleOp module) {
  SmallVector<std::pair<ThreadGroupOp, unsigned>> groups;
  module.walk([&](ThreadGroupOp group) {
    groups.push_back({group, group.getBarrierId()});
  });
  for (auto [group, barrierId] : groups) {
    OpBuilder b(group);
    Location loc = group.getLoc();
    // The warp index is uniform in a warp, so the branch never splits one:
    // (tid - 32 * first) < 32 * count, unsigned.
    Value tid = b.create<NVVM::ThreadIdXOp>(loc, b.getI32Type());
    Value offset = b.create<arith::SubIOp>(
        loc, tid,
        b.create<arith::ConstantIntOp>(loc, group.getFirstWarp() * kWarpSize,
                                       32));
    Value inside = b.create<arith::CmpIOp>(
        loc, arith::CmpIPredicate::ult, offset,
        b.create<arith::ConstantIntOp>(loc, group.getNumWarps() * kWarpSize,
                                       32));
    auto branch = b.create<scf::IfOp>(loc, inside, /*withElseRegion=*/false);
    branch->setAttr(kThreadGroupAttr,
                    b.getDenseI64ArrayAttr(
                        {int64_t(group.getFirstWarp()),
                         int64_t(group.getNumWarps()),
                         int64_t(barrierId)}));
    Block &body = group.getBody().front();
    Block *then = branch.thenBlock();
    then->getOperations().splice(then->begin(), body.getOperations());
    group.erase();
  }
}

namespace {

/// func.func stays legal in stage 1 and its signature is not converted, so a
/// tile, shared or global tensor in it would be left behind as an unresolved
/// cast, or fail to legalize the function: a function's signature holds
/// scalars and pointers only.
LogicalResult checkSignatures(ModuleOp module) {
  auto isTensor = [](Type type) {
    return isa<TileType, SharedTensorType, GlobalTensorType>(type);
  };
  WalkResult walk = module.walk([&](func::FuncOp func) {
    auto refuse = [&](Location loc, StringRef what, unsigned index, Type type) {
      emitError(loc) << what << " #" << index << " of '@" << func.getSymName()
                     << "' has type " << type
                     << ", which a function cannot pass; a function takes "
                        "and returns scalars and pointers only (a kernel "
                        "builds its tensors in its body)";
      return WalkResult::interrupt();
    };
    FunctionType type = func.getFunctionType();
    for (auto [index, input] : llvm::enumerate(type.getInputs()))
      if (isTensor(input))
        return refuse(func.isExternal() ? func.getLoc()
                                        : func.getArgument(index).getLoc(),
                      "argument", index, input);
    for (auto [index, result] : llvm::enumerate(type.getResults()))
      if (isTensor(result))
        return refuse(func.getLoc(), "result", index, result);
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

/// Lowers the scf.if and scf.for operations of `module` to cf branches ahead
/// of stage 2. Lowering one splits its block; inside a dialect conversion
/// every operation a split moves is recorded as a rewrite to undo, so the k
/// ifs of a block of n operations cost k * n records, most of the compile
/// time of a large kernel (a 64x64 i8 mma dot on one warp: 1.7 of 2.6 s).
/// Here the same patterns run without a listener, innermost and last first,
/// so each split moves only the operations up to the next lowered one.
/// scf.while, with everything inside it, stays in stage 2: its pattern uses
/// the condition op after replacing it, which only the conversion's deferred
/// erasure allows.
LogicalResult lowerStructuredControlFlow(ModuleOp module) {
  MLIRContext *context = module.getContext();
  RewritePatternSet set(context);
  populateSCFToControlFlowConversionPatterns(set);
  FrozenRewritePatternSet frozen(std::move(set));
  PatternApplicator applicator(frozen);
  applicator.applyDefaultCostModel();
  SmallVector<Operation *> ops;
  module.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isa<scf::IfOp, scf::ForOp>(op))
      ops.push_back(op);
    else if (op->getNumRegions() && isa<scf::SCFDialect>(op->getDialect()))
      return WalkResult::skip(); // with everything inside it
    return WalkResult::advance();
  });
  PatternRewriter rewriter(context);
  for (Operation *op : llvm::reverse(ops)) {
    rewriter.setInsertionPoint(op);
    if (failed(applicator.matchAndRewrite(op, rewriter)))
      return op->emitOpError("could not be lowered to cf branches");
  }
  return success();
}

/// -Rpass=lowering: a remark at each tilus op that a pattern lowered, naming
/// the pattern (its class, without namespaces or template arguments), so
/// that tests and tilus-smith can see which lowerings a kernel reaches.
class LoweringRemarks : public RewriterBase::Listener {
public:
  void notifyPatternBegin(const Pattern &pattern, Operation *op) override {
    stack.push_back({op->getLoc(), op->getName().getStringRef().str()});
  }
  void notifyPatternEnd(const Pattern &pattern, LogicalResult status) override {
    if (stack.empty())
      return;
    auto [loc, opName] = stack.pop_back_val();
    if (succeeded(status) && StringRef(opName).starts_with("tilus."))
      emitRemark(loc) << opName << ": lowered by "
                      << patternName(pattern.getDebugName());
  }

private:
  static StringRef patternName(StringRef debugName) {
    StringRef name = debugName.take_until([](char c) { return c == '<'; });
    size_t colon = name.rfind("::");
    return colon == StringRef::npos ? name : name.drop_front(colon + 2);
  }
  SmallVector<std::pair<Location, std::string>> stack;
};

struct ConvertTilusToLLVMPass
    : tilus::impl::ConvertTilusToLLVMBase<ConvertTilusToLLVMPass> {
  using ConvertTilusToLLVMBase::ConvertTilusToLLVMBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    std::optional<TargetInfo> targetInfo = TargetInfo::lookup(arch);
    if (!targetInfo) {
      module.emitError("unknown architecture '")
          << arch << "'; expected one of "
          << llvm::join(TargetInfo::supportedArchs(), ", ");
      return signalPassFailure();
    }

    // Stage 1: tiles and tilus instructions to per-thread code.
    {
      TypeConverter converter;
      converter.addConversion([](Type type) { return type; });
      populateTileTypeConversions(converter);
      if (failed(checkSignatures(module)) ||
          failed(addTensorMapArguments(module, *targetInfo)))
        return signalPassFailure();
      lowerThreadGroups(module);
      ConversionTarget target(*context);
      target.addIllegalDialect<TilusDialect>();
      target.addLegalDialect<arith::ArithDialect, scf::SCFDialect,
                             vector::VectorDialect, LLVM::LLVMDialect,
                             NVVM::NVVMDialect, func::FuncDialect>();
      RewritePatternSet patterns(context);
      populateMemoryLoweringPatterns(converter, patterns);
      populateElementwiseLoweringPatterns(converter, patterns);
      populateSharedMemoryLoweringPatterns(converter, patterns, *targetInfo);
      populateLayoutLoweringPatterns(converter, patterns);
      populateMathLoweringPatterns(converter, patterns);
      populateWgmmaLoweringPatterns(converter, patterns, *targetInfo,
                                    mmaRemarks);
      populateMmaLoweringPatterns(converter, patterns, *targetInfo,
                                  mmaRemarks);
      populateReduceLoweringPatterns(converter, patterns);
      populatePrintLoweringPatterns(converter, patterns);
      populateTmaLoweringPatterns(converter, patterns, *targetInfo);
      scf::populateSCFStructuralTypeConversionsAndLegality(converter, patterns,
                                                           target);
      LoweringRemarks remarks;
      ConversionConfig config;
      if (loweringRemarks)
        config.listener = &remarks;
      if (failed(applyPartialConversion(module, target, std::move(patterns),
                                        config)))
        return signalPassFailure();
    }

    // Kernel facts move to the NVVM attributes before func lowers.
    SmallVector<int64_t> kernelThreads;
    module.walk([&](func::FuncOp func) {
      if (!func->hasAttr(kernel_attr::kKernel))
        return;
      ++numKernels;
      auto warps = func->getAttrOfType<IntegerAttr>(kernel_attr::kNumWarps);
      func->setAttr(NVVM::NVVMDialect::getKernelFuncAttrName(),
                    UnitAttr::get(context));
      func->setAttr(NVVM::NVVMDialect::getMaxntidAttrName(),
                    DenseI32ArrayAttr::get(
                        context, {static_cast<int32_t>(warps.getInt() *
                                                       kWarpSize),
                                  1, 1}));
      for (StringRef name :
           {kernel_attr::kKernel, kernel_attr::kNumWarps, kernel_attr::kGrid})
        func->removeAttr(name);
      for (unsigned i = 0; i < func.getNumArguments(); ++i)
        func.removeArgAttr(i, kernel_attr::kDivisibility);
    });

    if (failed(lowerStructuredControlFlow(module)))
      return signalPassFailure();

    // Stage 2: everything to the LLVM dialect.
    LowerToLLVMOptions options(context);
    LLVMTypeConverter converter(context, options);
    LLVMConversionTarget target(*context);
    target.addLegalDialect<NVVM::NVVMDialect>();
    target.addLegalOp<ModuleOp>();
    RewritePatternSet patterns(context);
    arith::populateArithExpandOpsPatterns(patterns);
    populateSCFToControlFlowConversionPatterns(patterns);
    arith::populateArithToLLVMConversionPatterns(converter, patterns);
    populateVectorToLLVMConversionPatterns(converter, patterns);
    cf::populateControlFlowToLLVMConversionPatterns(converter, patterns);
    populateFuncToLLVMConversionPatterns(converter, patterns);
    if (failed(applyFullConversion(module, target, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
