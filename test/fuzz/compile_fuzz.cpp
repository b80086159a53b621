//===- compile_fuzz.cpp - libFuzzer target: .tl source to PTX -------------===//
//
// The whole compiler behind tilusc and the JIT (compiler/Driver.h): the input
// as a .tl module compiled for sm_80 to PTX. An input that makes a valid
// kernel runs every pass and the NVPTX backend. The time limit of a run is
// libFuzzer's -timeout (test/fuzz/CMakeLists.txt sets 10 s).
//
//===----------------------------------------------------------------------===//

#include "compiler/Driver.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tilus::CompileOptions options;
  options.arch = "sm_80";
  options.stage = tilus::Stage::PTX;
  // A pass that breaks the IR is a bug to find here, not only a crash.
  options.verifyEachPass = true;
  tilus::CompileResult result = tilus::compile(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), "fuzz.tl",
      options);
  // A failed compile must say why.
  if (!result.ok && result.diagnostics.empty())
    __builtin_trap();
  return 0;
}
