//===- tilusc.cpp - The tilus compiler driver -----------------------------===//
//
//   tilusc FILE.tl [-o OUT] [--emit=ast|tilus|llvm|ptx] [--arch=sm_80]
//          [-D NAME=VALUE]...
//
// Each --emit level runs the pipeline one stage further. Output is written
// to a temporary file beside OUT and renamed into place only on success, so
// a failed compile never leaves a partial file behind.
//
//===----------------------------------------------------------------------===//

#include "codegen/Driver.h"
#include "codegen/TargetInfo.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

#include "tilus/Version.h"

using namespace llvm;

namespace {

using EmitKind = tilus::Stage;

cl::OptionCategory category("tilusc options");

cl::opt<std::string> inputFilename(cl::Positional,
                                   cl::desc("<input .tl file, or - for stdin>"),
                                   cl::init("-"), cl::cat(category));

cl::opt<std::string> outputFilename("o",
                                    cl::desc("Output file (- for stdout, the "
                                             "default)"),
                                    cl::value_desc("file"), cl::init("-"),
                                    cl::cat(category));

cl::opt<EmitKind> emitKind(
    "emit", cl::desc("What to produce"), cl::init(EmitKind::PTX),
    cl::values(clEnumValN(tilus::Stage::AST, "ast", "the syntax tree"),
               clEnumValN(tilus::Stage::Tilus, "tilus", "the tilus dialect"),
               clEnumValN(EmitKind::LLVM, "llvm", "optimised LLVM IR"),
               clEnumValN(EmitKind::PTX, "ptx", "PTX assembly (default)")),
    cl::cat(category));

cl::opt<std::string>
    arch("arch",
         cl::desc("Target architecture: sm_80 (default), sm_86, sm_89, sm_90, "
                  "sm_90a"),
         cl::value_desc("sm_XX"), cl::init("sm_80"), cl::cat(category));

cl::list<std::string>
    defines("D", cl::desc("Override the compile-time parameter NAME"),
            cl::value_desc("NAME=VALUE"), cl::Prefix, cl::cat(category));

int fail(const Twine &message) {
  WithColor::error(errs(), "tilusc") << message << "\n";
  return 1;
}

/// Writes `text` to the output: stdout, or a temporary file renamed over the
/// destination once complete.
int writeOutput(StringRef text) {
  if (outputFilename == "-") {
    outs() << text;
    outs().flush();
    return 0;
  }
  SmallString<256> dir = StringRef(outputFilename);
  sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  SmallString<256> model = dir;
  sys::path::append(model, sys::path::filename(outputFilename) + ".tmp-%%%%%%");
  int fd;
  SmallString<256> tempPath;
  if (std::error_code ec = sys::fs::createUniqueFile(model, fd, tempPath))
    return fail("cannot write '" + outputFilename + "': " + ec.message());
  {
    raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << text;
    os.close();
    if (os.has_error()) {
      os.clear_error();
      sys::fs::remove(tempPath);
      return fail("cannot write '" + outputFilename + "'");
    }
  }
  if (std::error_code ec = sys::fs::rename(tempPath, outputFilename)) {
    sys::fs::remove(tempPath);
    return fail("cannot write '" + outputFilename + "': " + ec.message());
  }
  return 0;
}

void printVersion(raw_ostream &os) {
  os << "tilus " << TILUS_VERSION << " (commit " << TILUS_GIT_COMMIT
     << ")\nLLVM " << LLVM_VERSION_STRING << "\n";
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::SetVersionPrinter(printVersion);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tilus compiler: tile programs (.tl) to PTX\n\n"
      "  tilusc kernel.tl -o kernel.ptx --arch=sm_90a -D BLOCK=512\n");

  if (!tilus::TargetInfo::lookup(arch))
    return fail("unknown architecture '" + arch + "'; expected one of " +
                tilus::supportedArchList());

  tilus::CompileOptions options;
  options.arch = arch;
  options.stage = static_cast<tilus::Stage>(emitKind.getValue());
  for (const std::string &define : defines) {
    auto [name, value] = StringRef(define).split('=');
    if (name.empty() || value.empty() || !StringRef(define).contains('='))
      return fail("-D expects NAME=VALUE, got '" + define + "'");
    if (!options.defines.emplace(name.str(), value.str()).second)
      return fail("-D " + name + " is given twice");
  }

  ErrorOr<std::unique_ptr<MemoryBuffer>> file =
      MemoryBuffer::getFileOrSTDIN(inputFilename, /*IsText=*/true);
  if (std::error_code ec = file.getError())
    return fail("cannot read '" + inputFilename + "': " + ec.message());

  tilus::CompileResult result = tilus::compile(
      (*file)->getBuffer(), (*file)->getBufferIdentifier(), options);
  errs() << result.diagnostics;
  if (!result.ok)
    return 1;
  return writeOutput(result.output);
}
