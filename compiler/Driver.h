//===- Driver.h - The whole compiler behind one call ------------*- C++ -*-===//
//
// What `tilusc` and the JIT library both run: source text in, the requested
// stage's text and the kernels' host-side facts out. Errors come back as
// text in clang's format, never as a crash or an exit.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_COMPILER_DRIVER_H
#define TILUS_COMPILER_DRIVER_H

#include "runtime/core/KernelInfo.h"

#include "llvm/ADT/StringRef.h"

#include <map>
#include <string>
#include <vector>

namespace tilus {

enum class Stage { AST, Tilus, LLVM, PTX };

struct CompileOptions {
  std::string arch = "sm_80";
  /// `-D NAME=VALUE` overrides of compile-time parameters.
  std::map<std::string, std::string> defines;
  Stage stage = Stage::PTX;
  /// Report the vectorizer's decisions as remarks in the diagnostics.
  bool vectorizeRemarks = false;
  /// Report the instruction chosen for each dot (mma.sync or SIMT) likewise.
  bool mmaRemarks = false;
  /// Report each layout conversion that inference inserts, why and its cost.
  bool layoutRemarks = false;
  /// Report the code generator's pattern that lowered each tilus op.
  bool loweringRemarks = false;
  /// Verify the IR after every pass, as mlir-opt does. Off (the default),
  /// the generated dialect is verified before the passes and the LLVM
  /// dialect once after them: the checks in between cost about 7 % of a
  /// compile and only find bugs in the passes themselves.
  bool verifyEachPass = false;
  /// At Stage::Tilus, print each op's source location (`loc(...)`), so that
  /// the module parsed back (the interpreter's) reports at the .tl source.
  bool printLocations = false;
  /// The frontend stops after this many errors (0: never), as clang's
  /// `-ferror-limit`; it reports every independent error up to it.
  unsigned errorLimit = 20;
};

struct CompileResult {
  bool ok = false;
  std::string output;      ///< the text of the requested stage
  std::vector<KernelInfo> kernels; ///< filled from the Tilus stage on
  std::string diagnostics; ///< errors, `file:line:col: error: ...`
};

/// Compiles `source` (named `filename` in diagnostics): the tile language,
/// or, when `filename` ends in `.mlir`, the tilus dialect.
CompileResult compile(llvm::StringRef source, llvm::StringRef filename,
                      const CompileOptions &options);

/// The architectures `CompileOptions::arch` accepts, comma separated.
std::string supportedArchList();

} // namespace tilus

#endif // TILUS_COMPILER_DRIVER_H
