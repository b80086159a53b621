//===- frontend_fuzz.cpp - libFuzzer target: .tl source to the dialect ----===//
//
// Parses the input as a .tl module and lowers it to the tilus dialect, then
// verifies the result: the path of tilus-frontend-check. Any input must end
// in a module or in located diagnostics, never a crash or a sanitizer report.
//
//===----------------------------------------------------------------------===//

#include "frontend/MLIRGen.h"
#include "frontend/Parser.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::SourceMgr sourceMgr;
  unsigned buffer = sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size),
          "fuzz.tl"),
      llvm::SMLoc());
  tilus::DiagnosticEngine diags(sourceMgr, llvm::nulls(), "frontend-fuzz");
  std::optional<tilus::ast::Module> ast = tilus::parseModule(buffer, diags);
  if (!ast)
    return 0;
  // One context for the whole run: making one (and loading its dialects)
  // costs more than the frontend itself. What an input leaves behind in it
  // is uniqued types, attributes and locations, which later inputs may
  // reuse as any caller of the frontend would.
  static mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  context.printOpOnDiagnostic(false);
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context, llvm::nulls());
  mlir::OwningOpRef<mlir::ModuleOp> module =
      tilus::lowerToTilus(*ast, context, diags, {});
  if (module)
    (void)mlir::verify(*module);
  return 0;
}
