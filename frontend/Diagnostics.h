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
  DiagnosticEngine(llvm::SourceMgr &sourceMgr, llvm::raw_ostream &os,
                   llvm::StringRef programName = "tilus")
      : sourceMgr(sourceMgr), os(os), programName(programName.str()) {}

  /// Reports `message` at `loc`; an invalid `loc` (an error about the
  /// command line, say) is reported without a position.
  void error(llvm::SMLoc loc, const llvm::Twine &message) {
    ++numErrors;
    if (!loc.isValid()) {
      llvm::SMDiagnostic(programName, llvm::SourceMgr::DK_Error, message.str())
          .print(nullptr, os);
      return;
    }
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
  std::string programName;
  unsigned numErrors = 0;
};

} // namespace tilus

#endif // TILUS_FRONTEND_DIAGNOSTICS_H
