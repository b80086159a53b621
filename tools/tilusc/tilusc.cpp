//===- tilusc.cpp - The tilus compiler driver -----------------------------===//
//
//   tilusc FILE.tl [-o OUT] [--emit=ast|tilus|llvm|ptx] [--arch=sm_80]
//          [-D NAME=VALUE]... [--metadata=FILE.json]
//   tilusc FILE.tl --run [--shape NAME=VALUE]... [--device=emu|cuda]
//          [--kernel=NAME] [--cache-dir=DIR] [--no-cache] [--seed=N]
//          [--check [--check-tolerance=T] [--check-reference=FILE.tl]]
//   tilusc FILE.tl --interpret [--shape NAME=VALUE]... [--kernel=NAME]
//          [--seed=N]
//
// Each --emit level runs the pipeline one stage further. A regular (or new)
// OUT is written to a temporary file beside it and renamed into place only
// on success, so a failed compile never leaves a partial file behind; a
// device or FIFO (-o /dev/null) is written in place, never replaced.
//
//===----------------------------------------------------------------------===//

#include "compiler/Driver.h"
#include "compiler/Pipeline.h"
#include "ir/dtype/DType.h"
#include "ir/interpreter/Check.h"
#include "ir/interpreter/Interpreter.h"
#include "runtime/core/OutputFile.h"
#include "target/TargetInfo.h"
#include "tilus/Jit.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

#include "tilus/Version.h"

#include <algorithm>
#include <map>
#include <random>
#include <sstream>
#include <unistd.h>

using namespace llvm;

namespace {

using EmitKind = tilus::Stage;

cl::OptionCategory category("tilusc options");

cl::opt<std::string> inputFilename(
    cl::Positional,
    cl::desc("<input .tl (or tilus dialect .mlir) file, or - for stdin>"),
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
    remarkPasses("Rpass",
                 cl::desc("Print the remarks of a pass as it compiles "
                          "(vectorize: the width of each global access and "
                          "why a wider one was refused; mma: the tensor-core "
                          "instruction of each dot (mma.sync, or wgmma on "
                          "sm_90a) and its tiling, or why it stays SIMT; "
                          "layout: each layout conversion "
                          "that inference inserts, why, and its cost; "
                          "lowering: the code generator's pattern that "
                          "lowered each tilus op)"),
                 cl::value_desc("pass"), cl::cat(category));

cl::opt<unsigned>
    errorLimit("error-limit",
               cl::desc("Stop after this many errors of the source (default "
                        "20; 0: report all of them)"),
               cl::value_desc("N"), cl::init(20), cl::cat(category));

cl::list<std::string>
    defines("D", cl::desc("Override the compile-time parameter NAME"),
            cl::value_desc("NAME=VALUE"), cl::Prefix, cl::cat(category));

cl::opt<std::string>
    metadataFilename("metadata",
                     cl::desc("Also write the kernels' host facts (parameters, "
                              "grid, block, shared memory) as JSON"),
                     cl::value_desc("file"), cl::cat(category));

cl::OptionCategory runCategory("tilusc --run options");
cl::OptionCategory debugCategory(
    "compiler debugging and timing options (MLIR's and LLVM's)");

cl::opt<bool> verifyEach("verify-each",
                         cl::desc("Verify the IR after every pass (default: "
                                  "before the passes and after the last)"),
                         cl::cat(debugCategory));

cl::opt<bool> run("run",
                  cl::desc("Compile (through the kernel cache), then run the "
                           "kernel once on random inputs and print its time "
                           "(GPU) or instruction count (emulator)"),
                  cl::cat(runCategory));

cl::list<std::string>
    shapes("shape",
           cl::desc("Value of a scalar parameter for --run and --interpret: "
                    "integers size the random inputs (e.g. --shape "
                    "n=1000), float parameters take floats (eps=1e-6)"),
           cl::value_desc("NAME=VALUE[,NAME=VALUE...]"), cl::CommaSeparated,
           cl::cat(runCategory));

cl::opt<std::string> device("device",
                            cl::desc("Device for --run: emu or cuda (default: "
                                     "$TILUS_DEVICE, else cuda when a GPU is "
                                     "present, else emu)"),
                            cl::value_desc("name"), cl::cat(runCategory));

cl::opt<std::string> kernelName("kernel",
                                cl::desc("The kernel to run (default: the "
                                         "first)"),
                                cl::value_desc("name"), cl::cat(runCategory));

cl::opt<std::string> cacheDir("cache-dir",
                              cl::desc("Kernel cache directory for --run "
                                       "(default: $TILUS_CACHE_DIR, else "
                                       "$XDG_CACHE_HOME/tilus, else "
                                       "~/.cache/tilus)"),
                              cl::value_desc("dir"), cl::cat(runCategory));

cl::opt<bool> noCache("no-cache",
                      cl::desc("Do not read or write the disk kernel cache"),
                      cl::cat(runCategory));

cl::opt<unsigned> seed("seed", cl::desc("Seed of the random inputs of --run"),
                       cl::init(1), cl::cat(runCategory));

cl::opt<std::string> profileOpt(
    "profile", cl::ValueOptional,
    cl::desc("With --run on the emulator: print the launch's exact counters "
             "and its modelled time on named GPUs (text, the default), or "
             "write them as JSON (json:FILE); docs/profiling.md"),
    cl::value_desc("text|json:FILE"), cl::cat(runCategory));

cl::list<std::string> gpuOpt(
    "gpu", cl::CommaSeparated,
    cl::desc("The GPUs --profile models (default: every known one)"),
    cl::value_desc("name,..."), cl::cat(runCategory));

cl::opt<bool>
    check("check",
          cl::desc("With --run: also run the reference interpreter on the "
                   "same inputs and compare every element of every buffer; "
                   "exit status 1 on a mismatch"),
          cl::cat(runCategory));

cl::opt<double> checkTolerance(
    "check-tolerance",
    cl::desc("With --check: floats match when |d - r| <= T + T * |r| (0: "
             "bit-exact), instead of the tolerance the kernel's instructions "
             "call for (docs/interpreter.md)"),
    cl::value_desc("T"), cl::init(0), cl::cat(runCategory));

cl::opt<std::string> checkReference(
    "check-reference",
    cl::desc("With --check: the reference interpreter runs the kernel of the "
             "same name and parameters in this .tl file instead, for a kernel "
             "it cannot run as written (one that reads thread_idx in a way "
             "that does not change its results)"),
    cl::value_desc("FILE.tl"), cl::cat(runCategory));

cl::opt<bool> interpret(
    "interpret",
    cl::desc("Run the kernel on the reference interpreter (no device) with "
             "the random inputs of --run and print its tilus.print output"),
    cl::cat(runCategory));

int fail(const Twine &message) {
  WithColor::error(errs(), "tilusc") << message << "\n";
  return 1;
}

/// Writes `text` to `path` (runtime/core/OutputFile.h: stdout for "-",
/// devices and FIFOs in place, regular files through a temporary file and a
/// rename, so a failed write leaves nothing half written).
int writeFile(StringRef path, StringRef text) {
  tilus::Status s = tilus::writeOutputFile(path.str(), text);
  return s ? 0 : fail(s.message());
}

int writeOutput(StringRef text) { return writeFile(outputFilename, text); }

/// Random codes of `count` elements of `type`, densely packed: floats drawn
/// uniformly from [-1, 1] and rounded, integers uniform over their range.
std::vector<uint8_t> randomElements(tilus::DType type, uint64_t count,
                                    std::mt19937_64 &rng) {
  std::vector<uint64_t> codes(count);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  for (uint64_t &code : codes)
    code = type.isFloat() ? tilus::encode(type, unit(rng))
                          : rng() & type.codeMask();
  return tilus::packBits(codes, type.bitWidth());
}

using ShapeValues = std::vector<std::pair<std::string, int64_t>>;

/// The --shape values that are not integers, for float scalar parameters
/// (`eps=1e-6`).
std::map<std::string, double> floatShapes;

/// The --shape values: integers into \p values (shapes and grids are
/// computed from them), others into floatShapes.
int parseShapes(ShapeValues &values) {
  for (const std::string &shape : shapes) {
    auto [name, value] = StringRef(shape).split('=');
    int64_t v;
    double d;
    if (!name.empty() && !value.getAsInteger(10, v))
      values.emplace_back(name.str(), v);
    else if (!name.empty() && !value.getAsDouble(d))
      floatShapes[name.str()] = d;
    else
      return fail("--shape expects NAME=VALUE with an integer or a float "
                  "value, got '" + shape + "'");
  }
  return 0;
}

/// The value of scalar parameter \p p from --shape, checked against its
/// type by makeHostInputs.
double floatShape(const ShapeValues &values, const tilus::ParamInfo &p) {
  if (auto it = floatShapes.find(p.name); it != floatShapes.end())
    return it->second;
  for (const auto &[n, v] : values)
    if (n == p.name)
      return double(v);
  return 0;
}

std::optional<int64_t> shapeValue(const ShapeValues &values,
                                  const std::string &name) {
  for (const auto &[n, v] : values)
    if (n == name)
      return v;
  return std::nullopt;
}

/// The inputs of --run and --interpret: per parameter, a tensor's random
/// bytes (empty for a scalar, whose value --shape gives). The same seed
/// gives the same bytes in both modes.
int makeHostInputs(const tilus::KernelInfo &info, const ShapeValues &values,
                   StringRef mode, std::vector<std::vector<uint8_t>> &host) {
  for (const tilus::ParamInfo &p : info.params) {
    if (p.isGlobal)
      continue;
    std::optional<tilus::DType> type = tilus::DType::parse(p.dtype);
    if (type && type->isFloat() && floatShapes.count(p.name))
      continue;
    std::optional<int64_t> v = shapeValue(values, p.name);
    if (!v && floatShapes.count(p.name))
      return fail("--shape " + p.name + ": '" + p.name + "' is " + p.dtype +
                  ", which takes an integer, not " +
                  (std::ostringstream() << floatShapes[p.name]).str());
    if (!v)
      return fail(mode + " needs a value for '" + p.name + "' (--shape " +
                  p.name + "=VALUE)");
    // The value must fit the parameter's type.
    if (type && type->isInteger() && type->bitWidth() < 64) {
      int bits = int(type->bitWidth());
      int64_t lo = type->isSigned() ? -(int64_t(1) << (bits - 1)) : 0;
      int64_t hi = type->isSigned() ? (int64_t(1) << (bits - 1)) - 1
                                    : (int64_t(1) << bits) - 1;
      if (*v < lo || *v > hi)
        return fail("--shape " + p.name + "=" + std::to_string(*v) +
                    " is out of the range of " + p.dtype + " (" +
                    std::to_string(lo) + " to " + std::to_string(hi) + ")");
    }
  }
  // Every tensor's size, before any is made: the inputs must fit in half
  // of this machine's memory.
  uint64_t total = 0;
  std::vector<uint64_t> counts(info.params.size(), 0);
  for (size_t i = 0; i < info.params.size(); ++i) {
    const tilus::ParamInfo &p = info.params[i];
    if (!p.isGlobal)
      continue;
    uint64_t &count = counts[i];
    count = 1;
    for (const std::string &extent : p.shape) {
      tilus::Expected<int64_t> e = tilus::evaluateExpr(extent, values);
      if (!e)
        return fail("shape of '" + p.name + "': " + e.error().message());
      if (*e < 0)
        return fail("shape of '" + p.name + "' is negative");
      if (*e && count > (uint64_t(1) << 62) / uint64_t(*e))
        return fail("shape of '" + p.name + "' is too large");
      count *= uint64_t(*e);
    }
    tilus::Expected<uint64_t> bytes = tilus::storageBytes(p.dtype, count);
    if (!bytes)
      return fail("parameter '" + p.name + "': " + bytes.error().message());
    total += *bytes;
  }
  uint64_t memory = uint64_t(sysconf(_SC_PHYS_PAGES)) *
                    uint64_t(sysconf(_SC_PAGE_SIZE));
  if (memory && total > memory / 2)
    return fail(mode + ": the inputs need " + std::to_string(total) +
                " bytes, more than half of this machine's " +
                std::to_string(memory) + " bytes of memory");
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < info.params.size(); ++i) {
    const tilus::ParamInfo &p = info.params[i];
    std::optional<tilus::DType> type = tilus::DType::parse(p.dtype);
    if (!type)
      return fail("parameter '" + p.name + "' has unknown type " + p.dtype);
    host.emplace_back();
    if (p.isGlobal)
      host.back() = randomElements(*type, counts[i], rng);
  }
  return 0;
}

/// A kernel in the tilus dialect, for the interpreter.
struct InterpretedKernel {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp func;
  std::vector<tilus::KernelInfo> kernels;
};

/// Compiles `source` to the tilus dialect and parses it back; the kernel
/// named `name` (the first when empty) becomes `out.func`, its facts
/// `info`.
int loadForInterpreter(StringRef source, StringRef filename,
                       const std::map<std::string, std::string> &defineMap,
                       const std::string &targetArch, const std::string &name,
                       InterpretedKernel &out, tilus::KernelInfo &info) {
  tilus::CompileOptions options;
  options.arch = targetArch;
  options.defines = defineMap;
  options.stage = tilus::Stage::Tilus;
  options.printLocations = true;
  tilus::CompileResult result = tilus::compile(source, filename, options);
  errs() << result.diagnostics;
  if (!result.ok)
    return 1;
  auto chosen = std::find_if(result.kernels.begin(), result.kernels.end(),
                             [&](const tilus::KernelInfo &k) {
                               return name.empty() || k.name == name;
                             });
  if (chosen == result.kernels.end())
    return fail(result.kernels.empty()
                    ? Twine("the interpreter needs the kernels' parameter "
                            "names and shapes, which only a .tl source gives")
                    : Twine("no kernel named '" + name + "'"));
  info = *chosen;
  tilus::registerDialects(out.context);
  out.module =
      mlir::parseSourceString<mlir::ModuleOp>(result.output, &out.context);
  if (!out.module)
    return fail("cannot parse the tilus dialect of '" + filename + "'");
  out.func = out.module->lookupSymbol<mlir::func::FuncOp>(info.name);
  if (!out.func)
    return fail("no function '" + info.name + "' in the tilus dialect");
  return 0;
}

/// "file:line:col: " of the .tl source a location names, or "".
std::string sourcePosition(mlir::Location loc) {
  std::string text;
  loc->walk([&](mlir::Location inner) {
    if (auto file = mlir::dyn_cast<mlir::FileLineColLoc>(inner)) {
      text = (file.getFilename().getValue() + ":" + Twine(file.getLine()) +
              ":" + Twine(file.getColumn()) + ": ")
                 .str();
      return mlir::WalkResult::interrupt();
    }
    return mlir::WalkResult::advance();
  });
  return text;
}

/// Runs the interpreter on `buffers` (one per parameter, updated in place)
/// and the --shape scalars.
int runInterpreter(InterpretedKernel &kernel, const tilus::KernelInfo &info,
                   const ShapeValues &values,
                   std::vector<std::vector<uint8_t>> &buffers,
                   std::array<int64_t, 3> grid, raw_ostream *printStream) {
  std::vector<tilus::InterpreterArg> args;
  for (auto [p, bytes] : llvm::zip(info.params, buffers)) {
    if (p.isGlobal) {
      args.push_back(tilus::InterpreterArg::buffer(bytes.data(), bytes.size()));
      continue;
    }
    args.push_back(tilus::DType::parse(p.dtype)->isFloat()
                       ? tilus::InterpreterArg::real(floatShape(values, p))
                       : tilus::InterpreterArg::integer(
                             *shapeValue(values, p.name)));
  }
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(
      &kernel.context, [&](mlir::Diagnostic &d) {
        diagnostics += sourcePosition(d.getLocation()) + d.str();
        return mlir::success();
      });
  tilus::InterpreterOptions options;
  options.grid = grid;
  options.printStream = printStream;
  if (mlir::failed(tilus::interpretKernel(kernel.func, args, options)))
    return fail("interpreter: " + diagnostics);
  return 0;
}

/// --interpret: the kernel on the reference interpreter with the inputs
/// --run would give it.
int interpretKernel(StringRef source, StringRef filename,
                    const std::map<std::string, std::string> &defineMap) {
  ShapeValues values;
  if (int rc = parseShapes(values))
    return rc;
  InterpretedKernel kernel;
  tilus::KernelInfo info;
  if (int rc = loadForInterpreter(source, filename, defineMap, arch, kernelName,
                                  kernel, info))
    return rc;
  std::vector<std::vector<uint8_t>> buffers;
  if (int rc = makeHostInputs(info, values, "--interpret", buffers))
    return rc;
  std::array<int64_t, 3> grid;
  for (int d = 0; d < 3; ++d) {
    tilus::Expected<int64_t> e = tilus::evaluateExpr(info.grid[d], values);
    if (!e)
      return fail("grid: " + e.error().message());
    grid[d] = *e;
  }
  outs() << info.name << ": grid (" << grid[0] << ", " << grid[1] << ", "
         << grid[2] << ") on the reference interpreter\n";
  return runInterpreter(kernel, info, values, buffers, grid, &outs());
}

/// --check: runs the interpreter on `inputs` and compares every element of
/// every tensor with `outputs`, what the device left in its buffers.
int checkAgainstInterpreter(StringRef source, StringRef filename,
                            const std::map<std::string, std::string> &defineMap,
                            const std::string &targetArch,
                            const tilus::KernelInfo &info,
                            const ShapeValues &values,
                            std::vector<std::vector<uint8_t>> inputs,
                            const std::vector<std::vector<uint8_t>> &outputs,
                            tilus::Dim3 grid) {
  InterpretedKernel kernel;
  tilus::KernelInfo interpreted;
  std::unique_ptr<MemoryBuffer> reference;
  if (!checkReference.empty()) {
    ErrorOr<std::unique_ptr<MemoryBuffer>> file =
        MemoryBuffer::getFile(checkReference, /*IsText=*/true);
    if (!file)
      return fail("cannot read the --check-reference file '" +
                  checkReference + "': " + file.getError().message());
    reference = std::move(*file);
    source = reference->getBuffer();
    filename = checkReference;
  }
  if (int rc = loadForInterpreter(source, filename, defineMap, targetArch,
                                  info.name, kernel, interpreted))
    return rc;
  auto sameParam = [](const tilus::ParamInfo &a, const tilus::ParamInfo &b) {
    return a.name == b.name && a.isGlobal == b.isGlobal &&
           a.dtype == b.dtype && a.shape == b.shape;
  };
  if (interpreted.params.size() != info.params.size() ||
      !std::equal(info.params.begin(), info.params.end(),
                  interpreted.params.begin(), sameParam))
    return fail("the kernel '" + info.name + "' of '" + filename +
                "' does not have the parameters of the compiled one");
  if (int rc = runInterpreter(kernel, info, values, inputs,
                              {grid.x, grid.y, grid.z}, nullptr))
    return rc;
  uint64_t elements = 0;
  for (size_t i = 0; i < info.params.size(); ++i) {
    const tilus::ParamInfo &p = info.params[i];
    if (!p.isGlobal)
      continue;
    tilus::DType type = *tilus::DType::parse(p.dtype);
    std::vector<int64_t> extents;
    uint64_t count = 1;
    for (const std::string &extent : p.shape) {
      extents.push_back(*tilus::evaluateExpr(extent, values));
      count *= uint64_t(extents.back());
    }
    tilus::Tolerance tolerance =
        checkTolerance.getNumOccurrences()
            ? tilus::Tolerance{checkTolerance, checkTolerance}
            : tilus::defaultTolerance(kernel.func, type);
    if (!type.isFloat())
      tolerance = {};
    std::optional<tilus::Mismatch> mismatch = tilus::compareElements(
        type, outputs[i].data(), inputs[i].data(), count, tolerance);
    elements += count;
    if (!mismatch)
      continue;
    // The element's coordinates, from its row-major index.
    std::vector<int64_t> coords(extents.size());
    uint64_t rest = mismatch->index;
    for (size_t d = extents.size(); d-- > 0;) {
      coords[d] = extents[d] ? int64_t(rest % uint64_t(extents[d])) : 0;
      rest = extents[d] ? rest / uint64_t(extents[d]) : 0;
    }
    std::string where;
    raw_string_ostream os(where);
    os << p.name << "[";
    interleaveComma(coords, os);
    os << "]";
    return fail("check failed: " + where + " is " +
                tilus::formatElement(type, mismatch->deviceCode) + " on " +
                "the device but " +
                tilus::formatElement(type, mismatch->referenceCode) +
                " in the interpreter (tolerance: " + tolerance.str() + "); " +
                Twine(mismatch->count) + " of " + Twine(count) +
                " elements of '" + p.name + "' differ");
  }
  outs() << info.name << ": check passed: " << elements
         << " elements match the reference interpreter\n";
  return 0;
}

/// --run: compile through the cache, allocate random inputs sized by
/// --shape, launch once (GPU: after a warm-up, the median of 10) and report.
int runKernel(StringRef source, StringRef filename,
              const std::map<std::string, std::string> &defineMap) {
  ShapeValues values;
  if (int rc = parseShapes(values))
    return rc;
  tilus::Expected<std::unique_ptr<tilus::Device>> dev =
      tilus::createDevice(device);
  if (!dev)
    return fail(dev.error().message());
  tilus::JitOptions options;
  options.defines = defineMap;
  options.arch = arch.getNumOccurrences() ? arch.getValue() : (*dev)->arch();
  options.cacheDir = cacheDir;
  if (noCache)
    options.diskCache = false;
  options.kernel = kernelName;
  tilus::Expected<tilus::Kernel> kernel = tilus::compile(
      **dev, std::string_view(source.data(), source.size()),
      std::string_view(filename.data(), filename.size()), options);
  if (!kernel)
    return fail(kernel.error().message());
  const tilus::KernelInfo &info = kernel->info();

  std::vector<std::vector<uint8_t>> inputs;
  if (int rc = makeHostInputs(info, values, "--run", inputs))
    return rc;
  std::vector<tilus::Arg> args;
  std::vector<tilus::Buffer> buffers;
  for (auto [p, host] : llvm::zip(info.params, inputs)) {
    if (!p.isGlobal) {
      args.push_back(tilus::DType::parse(p.dtype)->isFloat()
                         ? tilus::Arg::real(floatShape(values, p))
                         : tilus::Arg::integer(*shapeValue(values, p.name)));
      continue;
    }
    tilus::Expected<tilus::Buffer> buffer =
        tilus::Buffer::create(**dev, std::max<uint64_t>(host.size(), 1));
    if (!buffer)
      return fail(buffer.error().message());
    if (!host.empty())
      if (tilus::Status s =
              (*dev)->copyToDevice(buffer->ptr(), host.data(), host.size());
          !s)
        return fail(s.message());
    args.push_back(tilus::Arg::buffer(buffer->ptr(), host.size(), p.dtype));
    buffers.push_back(std::move(*buffer));
  }
  tilus::Expected<tilus::Dim3> grid = kernel->grid(args);
  if (!grid)
    return fail(grid.error().message());
  outs() << info.name << ": grid (" << grid->x << ", " << grid->y << ", "
         << grid->z << "), " << info.numThreads << " threads, "
         << info.sharedBytes << " bytes of shared memory, on " << (*dev)->name()
         << " (" << (*dev)->description() << ")\n";
  bool gpu = (*dev)->name() != "emu";
  std::string profile;
  if (profileOpt.getNumOccurrences()) {
    profile = profileOpt.empty() ? "text" : profileOpt.getValue();
    if (tilus::Status s = tilus::checkProfileFormat(profile); !s)
      return fail(s.message());
    if (tilus::Status s = tilus::checkGpuNames(
            std::vector<std::string>(gpuOpt.begin(), gpuOpt.end()));
        !s)
      return fail("--gpu: " + s.message());
    if (tilus::Status s = (*dev)->enableProfiling(true); !s)
      return fail("--profile: " + s.message());
  }
  std::vector<double> times;
  tilus::LaunchStats stats;
  for (int i = 0; i < (gpu ? 11 : 1); ++i) {
    if (tilus::Status s = kernel->launch(args, 0, &stats); !s)
      return fail(s.message());
    times.push_back(stats.milliseconds);
  }
  if (gpu) {
    times.erase(times.begin()); // the warm-up
    std::sort(times.begin(), times.end());
    outs() << info.name << ": " << format("%.4f", times[times.size() / 2])
           << " ms (median of " << times.size() << " launches)\n";
  } else {
    outs() << info.name << ": " << stats.warpInstructions
           << " warp instructions (emulated in "
           << format("%.1f", stats.milliseconds) << " ms)\n";
  }
  if (!profile.empty()) {
    std::vector<std::string> gpus(gpuOpt.begin(), gpuOpt.end());
    tilus::Expected<tilus::Profile> p = (*dev)->lastProfile(gpus);
    if (!p)
      return fail(p.error().message());
    std::string text;
    if (tilus::Status w = tilus::emitProfile(*p, profile, text); !w)
      return fail(w.message());
    outs() << text;
  }
  if (!check)
    return 0;
  // Timing launched several times; a kernel that updates its inputs in
  // place must be compared after exactly one launch.
  if (times.size() > 1) {
    size_t b = 0;
    for (auto [p, host] : llvm::zip(info.params, inputs)) {
      if (!p.isGlobal)
        continue;
      const tilus::Buffer &buffer = buffers[b++];
      if (!host.empty())
        if (tilus::Status s =
                (*dev)->copyToDevice(buffer.ptr(), host.data(), host.size());
            !s)
          return fail(s.message());
    }
    if (tilus::Status s = kernel->launch(args, 0, &stats); !s)
      return fail(s.message());
  }
  std::vector<std::vector<uint8_t>> outputs;
  size_t b = 0;
  for (auto [p, host] : llvm::zip(info.params, inputs)) {
    outputs.emplace_back(host.size());
    if (!p.isGlobal)
      continue;
    const tilus::Buffer &buffer = buffers[b++];
    if (!host.empty())
      if (tilus::Status s = (*dev)->copyFromDevice(outputs.back().data(),
                                                   buffer.ptr(), host.size());
          !s)
        return fail(s.message());
  }
  return checkAgainstInterpreter(source, filename, defineMap, options.arch,
                                 info, values, std::move(inputs), outputs,
                                 *grid);
}

void printVersion(raw_ostream &os) {
  os << "tilus " << TILUS_VERSION << " (commit " << TILUS_GIT_COMMIT
     << ")\nLLVM " << LLVM_VERSION_STRING << "\n";
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::SetVersionPrinter(printVersion);
  // MLIR's pass-manager and timing options, and LLVM's -time-passes, shown
  // in their own section of --help.
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  mlir::registerMLIRContextCLOptions();
  for (auto &[name, option] : cl::getRegisteredOptions())
    if (name.starts_with("mlir-") || name == "time-passes")
      option->addCategory(debugCategory);
  cl::HideUnrelatedOptions({&category, &runCategory, &debugCategory});
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
  options.verifyEachPass = verifyEach;
  options.errorLimit = errorLimit;
  for (const std::string &pass : remarkPasses) {
    if (pass == "vectorize")
      options.vectorizeRemarks = true;
    else if (pass == "mma")
      options.mmaRemarks = true;
    else if (pass == "layout")
      options.layoutRemarks = true;
    else if (pass == "lowering")
      options.loweringRemarks = true;
    else
      return fail("-Rpass=" + pass + ": no remarks for this pass; "
                  "expected vectorize, mma, layout or lowering");
  }
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

  if (check && !run)
    return fail("--check needs --run");
  if (!checkReference.empty() && !check)
    return fail("--check-reference needs --check");
  if (interpret)
    return interpretKernel((*file)->getBuffer(), (*file)->getBufferIdentifier(),
                           options.defines);
  if (run)
    return runKernel((*file)->getBuffer(), (*file)->getBufferIdentifier(),
                     options.defines);

  tilus::CompileResult result = tilus::compile(
      (*file)->getBuffer(), (*file)->getBufferIdentifier(), options);
  errs() << result.diagnostics;
  if (!result.ok)
    return 1;
  // The output first: a compile that cannot write -o leaves no metadata.
  if (int rc = writeOutput(result.output))
    return rc;
  if (!metadataFilename.empty() && options.stage != tilus::Stage::AST)
    return writeFile(metadataFilename, tilus::toJson(result.kernels));
  return 0;
}
