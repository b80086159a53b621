//===- Driver.cpp - The whole compiler behind one call --------------------===//

#include "compiler/Driver.h"

#include "codegen/PTXEmitter.h"
#include "compiler/Pipeline.h"
#include "frontend/MLIRGen.h"
#include "frontend/Parser.h"
#include "ir/Limits.h"
#include "ir/dialect/Tilus.h"
#include "target/TargetInfo.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

using namespace tilus;

namespace {

/// Where the brackets of MLIR text (`(` `[` `{` `<`, outside strings and
/// comments) first nest deeper than kMaxNestingDepth, or nullptr. MLIR's
/// parser recurses once per level of attributes, types and regions with no
/// limit of its own, so deeper text is refused before it is parsed. An
/// arrow's `>` closes nothing.
const char *findTooDeepNesting(llvm::StringRef text) {
  unsigned depth = 0;
  for (const char *p = text.begin(), *end = text.end(); p < end; ++p) {
    switch (*p) {
    case '"':
      for (++p; p < end && *p != '"'; ++p)
        if (*p == '\\')
          ++p;
      break;
    case '/':
      if (p + 1 < end && p[1] == '/')
        while (p < end && *p != '\n')
          ++p;
      break;
    case '(':
    case '[':
    case '{':
    case '<':
      if (++depth > kMaxNestingDepth)
        return p;
      break;
    case '>':
      if (p > text.begin() && p[-1] == '-')
        break;
      [[fallthrough]];
    case ')':
    case ']':
    case '}':
      depth -= depth > 0;
      break;
    }
  }
  return nullptr;
}

} // namespace

std::string tilus::supportedArchList() {
  return llvm::join(TargetInfo::supportedArchs(), ", ");
}

CompileResult tilus::compile(llvm::StringRef source, llvm::StringRef filename,
                             const CompileOptions &options) {
  CompileResult result;
  llvm::raw_string_ostream errs(result.diagnostics);
  std::optional<TargetInfo> target = TargetInfo::lookup(options.arch);
  if (!target) {
    errs << "error: unknown architecture '" << options.arch
         << "'; expected one of " << supportedArchList() << "\n";
    return result;
  }

  // Phase times (`tilusc --mlir-timing`): the frontend, each pass, LLVM IR
  // translation and the NVPTX backend. Without the command-line options
  // (the JIT) timing stays off and costs nothing.
  mlir::DefaultTimingManager timing;
  mlir::applyDefaultTimingManagerCLOptions(timing);
  mlir::TimingScope root = timing.getRootScope();

  llvm::SourceMgr sourceMgr;
  unsigned bufferId = sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(source, filename), llvm::SMLoc());
  DiagnosticEngine diags(sourceMgr, errs, "tilusc", options.errorLimit);
  llvm::raw_string_ostream out(result.output);
  mlir::MLIRContext context;
  // Diagnostics point into the source; a dump of the IR op is noise there.
  context.printOpOnDiagnostic(false);
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, errs);
  mlir::OwningOpRef<mlir::ModuleOp> module;

  if (filename.ends_with(".mlir")) {
    // Kernels written directly in the tilus dialect start after the frontend.
    if (options.stage == Stage::AST) {
      errs << "error: --emit=ast needs a .tl source\n";
      return result;
    }
    mlir::TimingScope phase = root.nest("parse the tilus dialect");
    llvm::StringRef text = sourceMgr.getMemoryBuffer(bufferId)->getBuffer();
    if (const char *deep = findTooDeepNesting(text)) {
      diags.error(llvm::SMLoc::getFromPointer(deep),
                  "nesting deeper than " + llvm::Twine(kMaxNestingDepth) +
                      " levels");
      return result;
    }
    registerDialects(context);
    module = mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
    if (!module)
      return result;
  } else {
    mlir::TimingScope phase = root.nest("parse");
    std::optional<ast::Module> ast = parseModule(bufferId, diags);
    phase.stop();
    // A recovered module goes on to the generator only to report the
    // semantic errors of what parsed.
    if (!ast || (ast->recovered && options.stage == Stage::AST)) {
      diags.printSummary();
      return result;
    }
    if (options.stage == Stage::AST) {
      ast::print(*ast, out);
      result.ok = true;
      return result;
    }
    phase = root.nest("generate the tilus dialect");
    module = lowerToTilus(*ast, context, diags, options.defines,
                          &result.kernels);
    if (!module)
      diags.printSummary();
  }
  if (!module || mlir::failed(mlir::verify(*module)))
    return result;
  for (KernelInfo &kernel : result.kernels)
    kernel.arch = options.arch;
  if (options.stage == Stage::Tilus) {
    mlir::OpPrintingFlags flags;
    if (options.printLocations)
      flags.enableDebugInfo();
    module->print(out, flags);
    out << "\n";
    result.ok = true;
    return result;
  }

  mlir::PassManager pm(&context);
  PipelineRemarks remarks;
  remarks.vectorize = options.vectorizeRemarks;
  remarks.mma = options.mmaRemarks;
  remarks.layout = options.layoutRemarks;
  remarks.lowering = options.loweringRemarks;
  buildLowerToLLVMPipeline(pm, options.arch, remarks);
  // --mlir-print-ir-after-all, --mlir-pass-statistics, ... when tilusc
  // registered them; a failure only means they were not.
  (void)mlir::applyPassManagerCLOptions(pm);
  pm.enableVerifier(options.verifyEachPass);
  mlir::TimingScope passes = root.nest("passes");
  pm.enableTiming(passes);
  if (mlir::failed(pm.run(*module)))
    return result;
  passes.stop();
  if (!options.verifyEachPass) {
    mlir::TimingScope phase = root.nest("verify the LLVM dialect");
    if (mlir::failed(mlir::verify(*module)))
      return result;
  }
  // The runtime launches each kernel with the shared memory planning gave it.
  module->walk([&](mlir::LLVM::LLVMFuncOp func) {
    auto bytes = func->getAttrOfType<mlir::IntegerAttr>("tilus.shared_bytes");
    for (KernelInfo &kernel : result.kernels)
      if (bytes && kernel.name == func.getSymName())
        kernel.sharedBytes = static_cast<int>(bytes.getInt());
  });
  // ... and the tensor maps its TMA copies read (codegen/TmaLowering.cpp).
  module->walk([&](mlir::LLVM::LLVMFuncOp func) {
    auto maps = func->getAttrOfType<mlir::ArrayAttr>("tilus.tensor_maps");
    if (!maps)
      return;
    for (KernelInfo &kernel : result.kernels) {
      if (kernel.name != func.getSymName())
        continue;
      for (mlir::Attribute attr : maps) {
        auto dict = llvm::cast<mlir::DictionaryAttr>(attr);
        TensorMapInfo map;
        map.param = static_cast<int>(
            dict.getAs<mlir::IntegerAttr>("param").getInt());
        map.dtype = dict.getAs<mlir::StringAttr>("dtype").str();
        auto box = dict.getAs<mlir::DenseI64ArrayAttr>("box");
        map.box.assign(box.asArrayRef().begin(), box.asArrayRef().end());
        map.swizzle = static_cast<int>(
            dict.getAs<mlir::IntegerAttr>("swizzle").getInt());
        kernel.tensorMaps.push_back(std::move(map));
      }
    }
  });
  llvm::LLVMContext llvmContext;
  std::string error;
  mlir::TimingScope translate = root.nest("translate to LLVM IR");
  std::unique_ptr<llvm::Module> llvmModule =
      translateToLLVMIR(*module, llvmContext, *target, error);
  translate.stop();
  if (!llvmModule) {
    errs << "error: " << error << "\n";
    return result;
  }
  if (options.stage == Stage::LLVM) {
    llvmModule->print(out, nullptr);
  } else {
    mlir::TimingScope backend = root.nest("NVPTX backend");
    if (!emitPTX(*llvmModule, *target, result.output, error)) {
      errs << "error: " << error << "\n";
      return result;
    }
  }
  result.ok = true;
  return result;
}
