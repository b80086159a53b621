//===- ToolOptions.h - Command-line options of the core tools ---*- C++ -*-===//
//
// tilus-run, tilus-pack-weights, tilus-dtype and tilus-layout build where no
// LLVM exists (the runtime core's machines), so they cannot use llvm::cl.
// They read their command lines with getopt_long through this one reader,
// which gives all four the same rules and the same help layout:
//
//   - every option has a long name; a value follows it as `--opt VALUE` or
//     `--opt=VALUE`, an optional value only as `--opt=VALUE`;
//   - an option is written out in full: getopt_long's unique abbreviations
//     are refused, so that a new option never changes what an existing
//     command line means;
//   - `-h` and `--help` ask for the help, which is generated from the same
//     table the reader uses, so it lists every option the tool accepts;
//   - the other words are operands, in the order given; `--` ends the
//     options.
//
// The reader prints nothing and never exits: it hands each argument, the
// help request and every error back to the tool, which reports them as
// `TOOL: error: MESSAGE`.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_TOOLS_COMMON_TOOLOPTIONS_H
#define TILUS_TOOLS_COMMON_TOOLOPTIONS_H

#include <getopt.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tilus::tools {

/// One option of a tool.
struct OptionSpec {
  enum class Value { None, Required, Optional };
  OptionSpec(int id, std::string name, Value value, std::string valueName,
             std::string help, std::string needs = {})
      : id(id), name(std::move(name)), value(value),
        valueName(std::move(valueName)), help(std::move(help)),
        needs(std::move(needs)) {}
  /// What the reader reports for the option; non-negative.
  int id = 0;
  /// The long name, without "--".
  std::string name;
  Value value = Value::None;
  /// The value as the help shows it: "NAME", "X[,Y[,Z]]".
  std::string valueName;
  /// The description; each '\n' starts a line indented under the first.
  std::string help;
  /// What a missing value is reported as: "--NAME needs " + needs. Empty:
  /// "a value (VALUENAME)".
  std::string needs;
};

/// A tool's options and the text of its help around them.
struct ToolOptions {
  /// The tool's name, as errors and the usage line start.
  std::string tool;
  /// The synopsis after "usage: "; further lines carry their own indent.
  std::string usage;
  /// Paragraphs between the synopsis and the options.
  std::string description;
  std::vector<OptionSpec> options;
  /// Paragraphs after the options.
  std::string epilogue;

  /// The help: usage, description, the options (with `-h, --help` last)
  /// in one layout, epilogue.
  std::string helpText() const;
};

/// One argument of the command line, as the reader saw it.
struct ParsedArg {
  enum class Kind { Option, Operand, Help, Error, End };
  Kind kind = Kind::End;
  /// Option: its OptionSpec::id.
  int id = -1;
  /// Option: how it is written in messages, "--name".
  std::string option;
  /// Option: its value, if it has one; Operand: the word; Error: the message.
  std::string value;
  /// Option: whether a value was given.
  bool hasValue = false;
};

/// Reads a command line argument by argument with getopt_long. One reader
/// at a time: getopt_long keeps its position in globals.
class ArgReader {
public:
  ArgReader(const ToolOptions &options, int argc, char **argv);

  /// Words that \p test accepts are operands even where they start with '-'
  /// (tilus-dtype's negative values); asked only between options.
  void setOperandTest(std::function<bool(std::string_view)> test) {
    operandTest = std::move(test);
  }

  /// The next argument; End after the last, and after an Error or Help.
  ParsedArg next();

private:
  ParsedArg error(std::string message);

  const ToolOptions &options;
  int argc;
  char **argv;
  std::string shortOptions;
  std::vector<option> longOptions;
  std::function<bool(std::string_view)> operandTest;
  /// After `--`: the rest are operands, read from here.
  int restIndex = -1;
  bool finished = false;
};

} // namespace tilus::tools

#endif // TILUS_TOOLS_COMMON_TOOLOPTIONS_H
