//===- Diagnostics.h - Located errors of the frontend -----------*- C++ -*-===//

#ifndef TILUS_FRONTEND_DIAGNOSTICS_H
#define TILUS_FRONTEND_DIAGNOSTICS_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/SourceMgr.h"

namespace tilus {

/// Reports errors in clang's form (`file:line:col: error: message`, then the
/// source line and a caret) and remembers whether any was reported.
class DiagnosticEngine {
public:
  DiagnosticEngine(llvm::SourceMgr &sourceMgr, llvm::raw_ostream &os)
      : sourceMgr(sourceMgr), os(os) {}

  void error(llvm::SMLoc loc, const llvm::Twine &message) {
    ++numErrors;
    sourceMgr.PrintMessage(os, loc, llvm::SourceMgr::DK_Error, message);
  }
  void note(llvm::SMLoc loc, const llvm::Twine &message) {
    sourceMgr.PrintMessage(os, loc, llvm::SourceMgr::DK_Note, message);
  }
  unsigned getNumErrors() const { return numErrors; }
  llvm::SourceMgr &getSourceMgr() { return sourceMgr; }

private:
  llvm::SourceMgr &sourceMgr;
  llvm::raw_ostream &os;
  unsigned numErrors = 0;
};

} // namespace tilus

#endif // TILUS_FRONTEND_DIAGNOSTICS_H
