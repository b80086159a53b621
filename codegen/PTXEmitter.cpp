//===- PTXEmitter.cpp - LLVM dialect to LLVM IR and PTX -------------------===//

#include "codegen/PTXEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/BinaryFormat/Dwarf.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InlineAsm.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"

#include <mutex>

using namespace tilus;

static constexpr const char *kTriple = "nvptx64-nvidia-cuda";

static std::unique_ptr<llvm::TargetMachine>
createTargetMachine(const TargetInfo &target, std::string &error) {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
#if LLVM_VERSION_MAJOR < 20
    // LLVM 19's DAG combiner merges adjacent stores into one whose memory
    // operand can lose its IR pointer (when it reassociates the address into
    // a base and a constant), and NVPTX then takes the store for a generic
    // one: `st.u32` on a shared-window offset, a write far outside shared
    // memory (test/lit/codegen/shared-store-merge.tl). NVPTX reads the
    // address space from the memory operand from LLVM 20 on. The code
    // generator vectorizes the accesses it can prove contiguous itself, so
    // the merge is turned off unless the command line sets it.
    auto &registered = llvm::cl::getRegisteredOptions();
    auto merging = registered.find("combiner-store-merging");
    if (merging != registered.end() &&
        merging->second->getNumOccurrences() == 0)
      merging->second->addOccurrence(0, "combiner-store-merging", "false");
#endif
  });
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(kTriple, error);
  if (!llvmTarget)
    return nullptr;
  llvm::TargetOptions options;
  return std::unique_ptr<llvm::TargetMachine>(llvmTarget->createTargetMachine(
      kTriple, target.arch, target.ptxFeature, options, std::nullopt,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
}

/// Gives every kernel a debug scope so that the source locations of its
/// operations (the .tl file's lines) reach the PTX as `.file`/`.loc`
/// directives. DebugDirectivesOnly keeps `.target ..., debug` out of the
/// PTX: that flag makes ptxas keep debug-friendly code (measured: 98 instead
/// of 56 registers for matmul_simt).
static void attachLineInfo(mlir::ModuleOp module) {
  mlir::MLIRContext *context = module.getContext();
  module.walk([&](mlir::LLVM::LLVMFuncOp func) {
    if (func.isExternal())
      return;
    mlir::FileLineColLoc fileLoc;
    func.getLoc()->walk([&](mlir::Location loc) {
      if (auto l = mlir::dyn_cast<mlir::FileLineColLoc>(loc)) {
        fileLoc = l;
        return mlir::WalkResult::interrupt();
      }
      return mlir::WalkResult::advance();
    });
    if (!fileLoc)
      return;
    llvm::StringRef path = fileLoc.getFilename();
    auto file = mlir::LLVM::DIFileAttr::get(
        context, llvm::sys::path::filename(path),
        llvm::sys::path::parent_path(path));
    auto unit = mlir::LLVM::DICompileUnitAttr::get(
        mlir::DistinctAttr::create(mlir::UnitAttr::get(context)),
        llvm::dwarf::DW_LANG_C, file, mlir::StringAttr::get(context, "tilus"),
        /*isOptimized=*/true, mlir::LLVM::DIEmissionKind::DebugDirectivesOnly);
    auto type = mlir::LLVM::DISubroutineTypeAttr::get(
        context, llvm::dwarf::DW_CC_normal, {});
    auto name = mlir::StringAttr::get(context, func.getName());
    auto subprogram = mlir::LLVM::DISubprogramAttr::get(
        context, mlir::DistinctAttr::create(mlir::UnitAttr::get(context)),
        unit, file, name, name, file, fileLoc.getLine(), fileLoc.getLine(),
        mlir::LLVM::DISubprogramFlags::Definition |
            mlir::LLVM::DISubprogramFlags::Optimized,
        type);
    func->setLoc(mlir::FusedLoc::get(context, {func.getLoc()}, subprogram));
  });
}

/// Whether `value` reaches a call (the inline PTX of mma and wgmma, an
/// intrinsic) through at most `depth` shuffles, extracts and bitcasts.
static bool feedsCall(llvm::Value *value, int depth) {
  for (llvm::User *user : value->users()) {
    if (llvm::isa<llvm::CallBase>(user))
      return true;
    if (depth > 0 &&
        (llvm::isa<llvm::ShuffleVectorInst, llvm::ExtractElementInst,
                   llvm::BitCastInst>(user)) &&
        feedsCall(user, depth - 1))
      return true;
  }
  return false;
}

/// Replaces every phi of a fixed-width vector by phis of its elements.
///
/// LLVM 19's InstCombine scalarizes a vector phi whose other users are
/// extracts of one element and whose back edge is a binary operation on the
/// phi (InstCombinerImpl::scalarizePHI), and rebuilds that operation with
/// the phi as its first operand whatever its position: `x = c - x` in a loop
/// becomes `x = x - c` (test/lit/e2e/smith/loop-carried-sub.tl, found by
/// tilus-smith). Tiles carried through loops are vectors, so the code
/// generator hands O3 phis of single elements only, except for the operands
/// and accumulators of mma and wgmma (a phi that feeds a call), whose 16- and
/// 8-bit elements stay in phis of the 32-bit registers the instructions
/// read: splitting those pairs would cost moves between iterations, and the
/// moves would read wgmma accumulators in flight. Such a phi is not exposed:
/// its users are the call's shuffles, not extracts of one element.
static void splitVectorPhis(llvm::Module &module) {
  for (llvm::Function &function : module) {
    for (llvm::BasicBlock &block : function) {
      llvm::SmallVector<llvm::PHINode *> vectorPhis;
      for (llvm::PHINode &phi : block.phis())
        if (llvm::isa<llvm::FixedVectorType>(phi.getType()))
          vectorPhis.push_back(&phi);
      for (llvm::PHINode *phi : vectorPhis) {
        auto *type = llvm::cast<llvm::FixedVectorType>(phi->getType());
        unsigned count = type->getNumElements();
        unsigned bits = type->getScalarSizeInBits();
        unsigned lanes = 1;
        if ((bits == 8 || bits == 16) && feedsCall(phi, 3))
          lanes = 32 / bits;
        if (count % lanes != 0)
          lanes = 1;
        if (lanes > 1 && lanes == count)
          continue;
        llvm::Type *partType =
            lanes == 1 ? type->getElementType()
                       : llvm::FixedVectorType::get(type->getElementType(),
                                                    lanes);
        auto partMask = [&](unsigned part) {
          llvm::SmallVector<int> mask;
          for (unsigned j = 0; j < lanes; ++j)
            mask.push_back(static_cast<int>(part * lanes + j));
          return mask;
        };
        unsigned numParts = count / lanes;
        llvm::SmallVector<llvm::PHINode *> parts;
        for (unsigned i = 0; i < numParts; ++i)
          parts.push_back(llvm::PHINode::Create(
              partType, phi->getNumIncomingValues(),
              phi->getName() + ".p" + llvm::Twine(i), phi->getIterator()));
        // A predecessor listed twice must bring the same values both times.
        llvm::DenseMap<llvm::BasicBlock *, llvm::SmallVector<llvm::Value *>>
            split;
        for (unsigned in = 0; in < phi->getNumIncomingValues(); ++in) {
          llvm::BasicBlock *from = phi->getIncomingBlock(in);
          auto [it, inserted] = split.try_emplace(from);
          if (inserted) {
            llvm::IRBuilder<> builder(from->getTerminator());
            llvm::Value *incoming = phi->getIncomingValue(in);
            for (unsigned i = 0; i < numParts; ++i)
              it->second.push_back(
                  lanes == 1
                      ? builder.CreateExtractElement(incoming,
                                                     builder.getInt64(i))
                      : builder.CreateShuffleVector(incoming, partMask(i)));
          }
          for (unsigned i = 0; i < numParts; ++i)
            parts[i]->addIncoming(it->second[i], from);
        }
        llvm::IRBuilder<> builder(&*block.getFirstInsertionPt());
        llvm::Value *vector = llvm::PoisonValue::get(type);
        for (unsigned i = 0; i < numParts; ++i)
          for (unsigned j = 0; j < lanes; ++j) {
            llvm::Value *element =
                lanes == 1 ? parts[i]
                           : builder.CreateExtractElement(parts[i],
                                                          builder.getInt64(j));
            vector = builder.CreateInsertElement(
                vector, element, builder.getInt64(i * lanes + j));
          }
        phi->replaceAllUsesWith(vector);
        phi->eraseFromParent();
      }
    }
  }
}

/// The instructions of `module` of class `Inst` that satisfy `wanted`,
/// collected before a rewrite changes the instruction lists.
template <typename Inst, typename Predicate>
static llvm::SmallVector<Inst *> collect(llvm::Module &module,
                                         Predicate wanted) {
  llvm::SmallVector<Inst *> found;
  for (llvm::Function &function : module)
    for (llvm::Instruction &instruction : llvm::instructions(function))
      if (auto *inst = llvm::dyn_cast<Inst>(&instruction))
        if (wanted(inst))
          found.push_back(inst);
  return found;
}

/// Rewrites `sext <N x i1> to <N x i16>` as a select of all-ones and zero.
///
/// O3 turns a select of -1 and 0 on a comparison of 16-bit pairs into that
/// extension, and LLVM 19's NVPTX back end combines the two into a comparison
/// with a `v2i16` result that it cannot select ("Cannot select: v2i16 =
/// setcc", test/lit/e2e/smith/packed-compare-mask.tl, found by tilus-smith).
/// Runs after the optimisation pipeline, which would fold the select back.
static void selectPackedMasks(llvm::Module &module) {
  auto extensions = collect<llvm::SExtInst>(module, [](llvm::SExtInst *sext) {
    auto *type = llvm::dyn_cast<llvm::FixedVectorType>(sext->getType());
    return type && type->getElementType()->isIntegerTy(16) &&
           sext->getSrcTy()->getScalarType()->isIntegerTy(1);
  });
  for (llvm::SExtInst *sext : extensions) {
    llvm::IRBuilder<> builder(sext);
    llvm::Value *select = builder.CreateSelect(
        sext->getOperand(0), llvm::Constant::getAllOnesValue(sext->getType()),
        llvm::Constant::getNullValue(sext->getType()));
    sext->replaceAllUsesWith(select);
    sext->eraseFromParent();
  }
}

/// Rewrites a load of an `i1` as a load of its byte and a truncation.
///
/// LLVM 19's NVPTX back end lowers an `i1` load to a new byte load into a
/// 16-bit register but gives its users the chain the old load took: nothing
/// then orders the load before the barriers and stores that follow it, and the
/// scheduler moved the loads of a boolean tile's layout conversion through
/// shared memory past the barrier and the stores of the next conversion,
/// which reused the scratch (test/lit/e2e/smith/bool-load-order.tl, found by
/// tilus-smith). An `i1` is stored as a byte holding 0 or 1, so the byte's
/// low bit is the value; a byte load keeps its chain.
static void loadBoolsAsBytes(llvm::Module &module) {
  auto loads = collect<llvm::LoadInst>(module, [](llvm::LoadInst *load) {
    return load->getType()->isIntegerTy(1);
  });
  for (llvm::LoadInst *load : loads) {
    llvm::IRBuilder<> builder(load);
    llvm::LoadInst *byte = builder.CreateAlignedLoad(
        builder.getInt8Ty(), load->getPointerOperand(), load->getAlign(),
        load->isVolatile());
    byte->setAtomic(load->getOrdering(), load->getSyncScopeID());
    byte->copyMetadata(*load);
    byte->setMetadata(llvm::LLVMContext::MD_range, nullptr); // of an i1
    byte->takeName(load);
    load->replaceAllUsesWith(builder.CreateTrunc(byte, builder.getInt1Ty()));
    load->eraseFromParent();
  }
}

/// The 16-bit floating-point type `type` is or holds as its one element.
static llvm::Type *halfWidthFloat(llvm::Type *type) {
  if (auto *vector = llvm::dyn_cast<llvm::FixedVectorType>(type))
    type = vector->getNumElements() == 1 ? vector->getElementType() : nullptr;
  return type && type->isFloatingPointTy() &&
                 type->getPrimitiveSizeInBits() == 16
             ? type
             : nullptr;
}

/// Rewrites a bitcast between f16 and bf16 (scalars or one-element vectors)
/// as a `mov.b16` of their bits.
///
/// O3 folds `view`s such as f16 -> u16 -> bf16 into one bitcast, and LLVM
/// 19's NVPTX back end has no pattern for a bitcast between its two 16-bit
/// floating-point types: one it cannot fold into a load or store (an operand
/// in a register) fails with "Cannot select: bf16 = bitcast"
/// (test/lit/e2e/smith/bitcast-f16-bf16.tl, found by tilus-smith). Pairs
/// (v2f16 to v2bf16) are selected. Two bitcasts through i16 are not enough,
/// nor is a freeze between them: the DAG combiner folds both away. The move
/// is opaque to it; it is one register copy in PTX. Runs after the
/// optimisation pipeline, which would fold the bitcasts back into one.
static void moveHalfFloatBitcasts(llvm::Module &module) {
  auto bitcasts =
      collect<llvm::BitCastInst>(module, [](llvm::BitCastInst *bitcast) {
        llvm::Type *from = halfWidthFloat(bitcast->getSrcTy());
        llvm::Type *to = halfWidthFloat(bitcast->getDestTy());
        return from && to && from != to;
      });
  if (bitcasts.empty())
    return;
  llvm::Type *i16 = llvm::Type::getInt16Ty(module.getContext());
  llvm::InlineAsm *move =
      llvm::InlineAsm::get(llvm::FunctionType::get(i16, {i16}, false),
                           "mov.b16 $0, $1;", "=h,h", /*hasSideEffects=*/false);
  for (llvm::BitCastInst *bitcast : bitcasts) {
    llvm::IRBuilder<> builder(bitcast);
    llvm::Value *bits = builder.CreateCall(
        move, {builder.CreateBitCast(bitcast->getOperand(0), i16)});
    bitcast->replaceAllUsesWith(
        builder.CreateBitCast(bits, bitcast->getDestTy()));
    bitcast->eraseFromParent();
  }
}

std::unique_ptr<llvm::Module>
tilus::translateToLLVMIR(mlir::ModuleOp module, llvm::LLVMContext &context,
                         const TargetInfo &target, std::string &error) {
  mlir::DialectRegistry registry;
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerNVVMDialectTranslation(registry);
  module->getContext()->appendDialectRegistry(registry);

  attachLineInfo(module);
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, context, "tilus");
  if (!llvmModule) {
    error = "translation to LLVM IR failed";
    return nullptr;
  }
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(target, error);
  if (!machine)
    return nullptr;
  llvmModule->setTargetTriple(kTriple);
  llvmModule->setDataLayout(machine->createDataLayout());
  splitVectorPhis(*llvmModule);

  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(machine.get());
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager passes =
      builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  passes.run(*llvmModule, mam);
  selectPackedMasks(*llvmModule);
  moveHalfFloatBitcasts(*llvmModule);
  loadBoolsAsBytes(*llvmModule);
  return llvmModule;
}

bool tilus::emitPTX(llvm::Module &module, const TargetInfo &target,
                    std::string &ptx, std::string &error) {
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(target, error);
  if (!machine)
    return false;
  llvm::raw_string_ostream os(ptx);
  llvm::buffer_ostream stream(os);
  llvm::legacy::PassManager passes;
  if (machine->addPassesToEmitFile(passes, stream, nullptr,
                                   llvm::CodeGenFileType::AssemblyFile)) {
    error = "the NVPTX target cannot emit assembly";
    return false;
  }
  passes.run(module);
  return true;
}
