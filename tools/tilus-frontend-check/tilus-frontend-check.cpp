//===- tilus-frontend-check.cpp - The frontend alone, for sanitizers ------===//
//
//   tilus-frontend-check FILE.tl [-D NAME=VALUE]...
//
// Parses, checks and lowers a .tl file to the tilus dialect and verifies it,
// printing the frontend's diagnostics; nothing is written. The test suite
// builds it with AddressSanitizer and UndefinedBehaviorSanitizer and runs
// every frontend test through it.
//
//===----------------------------------------------------------------------===//

#include "frontend/MLIRGen.h"
#include "frontend/Parser.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

int main(int argc, char **argv) {
  const char *input = nullptr;
  tilus::ConstOverrides overrides;
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef arg = argv[i];
    if (arg == "-D" && i + 1 < argc) {
      auto [name, value] = llvm::StringRef(argv[++i]).split('=');
      overrides[name.str()] = value.str();
    } else if (arg.starts_with("-D")) {
      auto [name, value] = arg.drop_front(2).split('=');
      overrides[name.str()] = value.str();
    } else if (!input) {
      input = argv[i];
    } else {
      llvm::errs() << "usage: tilus-frontend-check FILE.tl [-D NAME=VALUE]...\n";
      return 2;
    }
  }
  if (!input) {
    llvm::errs() << "usage: tilus-frontend-check FILE.tl [-D NAME=VALUE]...\n";
    return 2;
  }
  auto file = llvm::MemoryBuffer::getFileOrSTDIN(input, /*IsText=*/true);
  if (!file) {
    llvm::errs() << "tilus-frontend-check: error: cannot read '" << input
                 << "'\n";
    return 1;
  }
  llvm::SourceMgr sourceMgr;
  unsigned buffer = sourceMgr.AddNewSourceBuffer(std::move(*file), llvm::SMLoc());
  tilus::DiagnosticEngine diags(sourceMgr, llvm::errs(), "tilus-frontend-check");
  std::optional<tilus::ast::Module> ast = tilus::parseModule(buffer, diags);
  if (!ast) {
    diags.printSummary();
    return 1;
  }
  mlir::MLIRContext context;
  context.printOpOnDiagnostic(false);
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, llvm::errs());
  mlir::OwningOpRef<mlir::ModuleOp> module =
      tilus::lowerToTilus(*ast, context, diags, overrides);
  if (!module) {
    diags.printSummary();
    return 1;
  }
  if (mlir::failed(mlir::verify(*module)))
    return 1;
  return 0;
}
