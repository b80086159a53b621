//===- Diagnostics.h - Located errors of the frontend -----------*- C++ -*-===//

#ifndef TILUS_FRONTEND_DIAGNOSTICS_H
#define TILUS_FRONTEND_DIAGNOSTICS_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/SourceMgr.h"

#include <algorithm>

namespace tilus {

/// Reports errors in clang's form (`file:line:col: error: message`, then the
/// source line and a caret) and remembers whether any was reported.
///
/// The parser and the generator recover after an error and go on, so that
/// one run reports every independent error of a file. Past `errorLimit`
/// errors (0: no limit) the engine says so once and prints no more, and
/// `tooManyErrors()` tells the phases to stop.
class DiagnosticEngine {
public:
  /// The default of `errorLimit`, as clang's `-ferror-limit`.
  static constexpr unsigned kDefaultErrorLimit = 20;

  DiagnosticEngine(llvm::SourceMgr &sourceMgr, llvm::raw_ostream &os,
                   llvm::StringRef programName = "tilus",
                   unsigned errorLimit = kDefaultErrorLimit)
      : sourceMgr(sourceMgr), os(os), programName(programName.str()),
        errorLimit(errorLimit) {}

  /// Reports `message` at `loc`; an invalid `loc` (an error about the
  /// command line, say) is reported without a position.
  void error(llvm::SMLoc loc, const llvm::Twine &message) {
    ++numErrors;
    if (tooManyErrors())
      return;
    if (errorLimit && numErrors > errorLimit) {
      limitReached = true;
      printUnlocated("too many errors emitted, stopping now; "
                     "--error-limit=0 reports all of them");
      return;
    }
    if (!loc.isValid()) {
      printUnlocated(message);
      return;
    }
    sourceMgr.PrintMessage(os, loc, llvm::SourceMgr::DK_Error, message);
  }
  void note(llvm::SMLoc loc, const llvm::Twine &message) {
    sourceMgr.PrintMessage(os, loc, llvm::SourceMgr::DK_Note, message);
  }
  /// Errors reported, those past the limit included.
  unsigned getNumErrors() const { return numErrors; }
  /// Whether the limit was passed: the phases stop at their next statement.
  bool tooManyErrors() const { return limitReached; }
  /// `N errors generated` when more than one error was printed.
  void printSummary() {
    unsigned printed =
        errorLimit ? std::min(numErrors, errorLimit) : numErrors;
    if (printed > 1)
      os << printed << " errors generated\n";
  }
  llvm::SourceMgr &getSourceMgr() { return sourceMgr; }

private:
  void printUnlocated(const llvm::Twine &message) {
    llvm::SMDiagnostic(programName, llvm::SourceMgr::DK_Error, message.str())
        .print(nullptr, os);
  }

  llvm::SourceMgr &sourceMgr;
  llvm::raw_ostream &os;
  std::string programName;
  unsigned errorLimit;
  unsigned numErrors = 0;
  bool limitReached = false;
};

} // namespace tilus

#endif // TILUS_FRONTEND_DIAGNOSTICS_H
