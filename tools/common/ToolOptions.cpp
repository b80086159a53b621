//===- ToolOptions.cpp - Command-line options of the core tools -----------===//

#include "tools/common/ToolOptions.h"

#include <cstring>

using namespace tilus::tools;

namespace {

/// getopt_long's code for the option at index i of the table; below it,
/// the short options (only 'h').
constexpr int kFirstLongCode = 256;

/// The column the descriptions start at; a longer option spelling puts its
/// description on the next line.
constexpr size_t kHelpColumn = 21;

std::string spelling(const OptionSpec &spec) {
  switch (spec.value) {
  case OptionSpec::Value::None:
    return "--" + spec.name;
  case OptionSpec::Value::Required:
    return "--" + spec.name + " " + spec.valueName;
  case OptionSpec::Value::Optional:
    return "--" + spec.name + "[=" + spec.valueName + "]";
  }
  return "--" + spec.name;
}

void appendOption(std::string &out, const std::string &spelled,
                  const std::string &help) {
  out += "  " + spelled;
  size_t used = 2 + spelled.size();
  if (used + 2 > kHelpColumn) {
    out += "\n";
    used = 0;
  }
  out += std::string(kHelpColumn - used, ' ');
  for (char c : help) {
    out += c;
    if (c == '\n')
      out += std::string(kHelpColumn, ' ');
  }
  out += "\n";
}

/// The option's name as written in \p word ("--name" or "--name=value").
std::string writtenName(const char *word) {
  const char *equals = std::strchr(word, '=');
  return equals ? std::string(word, equals) : std::string(word);
}

} // namespace

std::string ToolOptions::helpText() const {
  std::string out = "usage: " + usage + "\n\n";
  if (!description.empty())
    out += description + "\n\n";
  bool optional = false;
  for (const OptionSpec &spec : options)
    optional |= spec.value == OptionSpec::Value::Optional;
  out += "Options (--opt VALUE or --opt=VALUE";
  out += optional ? "; [=VALUE] only as --opt=VALUE):\n" : "):\n";
  for (const OptionSpec &spec : options)
    appendOption(out, spelling(spec), spec.help);
  appendOption(out, "-h, --help", "print this help");
  if (!epilogue.empty())
    out += "\n" + epilogue + "\n";
  return out;
}

ArgReader::ArgReader(const ToolOptions &options, int argc, char **argv)
    : options(options), argc(argc), argv(argv) {
  // '-': operands come back in order, as code 1; ':': a missing value comes
  // back as ':' rather than as '?'.
  shortOptions = "-:h";
  for (size_t i = 0; i < options.options.size(); ++i) {
    const OptionSpec &spec = options.options[i];
    int hasArg = spec.value == OptionSpec::Value::None       ? no_argument
                 : spec.value == OptionSpec::Value::Required ? required_argument
                                                             : optional_argument;
    longOptions.push_back(
        {spec.name.c_str(), hasArg, nullptr, kFirstLongCode + int(i)});
  }
  longOptions.push_back({"help", no_argument, nullptr, 'h'});
  longOptions.push_back({nullptr, 0, nullptr, 0});
  // 0 restarts getopt_long from scratch (glibc); the reader prints nothing.
  optind = 0;
  opterr = 0;
}

ParsedArg ArgReader::error(std::string message) {
  finished = true;
  ParsedArg arg;
  arg.kind = ParsedArg::Kind::Error;
  arg.value = std::move(message);
  return arg;
}

ParsedArg ArgReader::next() {
  ParsedArg arg;
  if (finished)
    return arg;
  if (restIndex >= 0) {
    if (restIndex >= argc) {
      finished = true;
      return arg;
    }
    arg.kind = ParsedArg::Kind::Operand;
    arg.value = argv[restIndex++];
    return arg;
  }
  // Between options (the only short option, -h, ends the reading), so
  // getopt_long is at the start of a word and optind names it.
  // optind is 0 until the first call of getopt_long, which starts at word 1.
  int at = optind == 0 ? 1 : optind;
  if (operandTest && at < argc && operandTest(argv[at])) {
    optind = at + 1;
    arg.kind = ParsedArg::Kind::Operand;
    arg.value = argv[at];
    return arg;
  }
  int index = -1;
  int code = getopt_long(argc, argv, shortOptions.c_str(), longOptions.data(),
                         &index);
  if (code == -1) {
    // At the end, or past `--` with optind at the first word after it.
    restIndex = optind;
    return next();
  }
  if (code == 1) {
    arg.kind = ParsedArg::Kind::Operand;
    arg.value = optarg;
    return arg;
  }
  // The word that named the option: the one before its value when the value
  // is a word of its own.
  auto optionWord = [&]() -> const char * {
    bool separate = optarg && optind >= 2 && optarg == argv[optind - 1];
    return argv[optind - (separate ? 2 : 1)];
  };
  auto unknown = [&](const std::string &word) {
    return error("unknown option '" + word + "' (see --help)");
  };
  if (code == '?') {
    if (optopt >= kFirstLongCode)
      return error("--" + options.options[optopt - kFirstLongCode].name +
                   " takes no value");
    if (optopt == 'h')
      return error("--help takes no value");
    if (optopt)
      return unknown(std::string("-") + char(optopt));
    return unknown(writtenName(argv[optind - 1]));
  }
  if (code == ':') {
    if (optopt < kFirstLongCode)
      return unknown(writtenName(argv[optind - 1]));
    const OptionSpec &spec = options.options[optopt - kFirstLongCode];
    return error("--" + spec.name + " needs " +
                 (spec.needs.empty() ? "a value (" + spec.valueName + ")"
                                     : spec.needs));
  }
  // getopt_long takes any unique prefix of a name; only the full name counts.
  if (index >= 0) {
    std::string written = writtenName(optionWord());
    if (written != std::string("--") + longOptions[index].name)
      return unknown(written);
  }
  if (code == 'h') {
    finished = true;
    arg.kind = ParsedArg::Kind::Help;
    return arg;
  }
  const OptionSpec &spec = options.options[code - kFirstLongCode];
  arg.kind = ParsedArg::Kind::Option;
  arg.id = spec.id;
  arg.option = "--" + spec.name;
  arg.hasValue = optarg != nullptr;
  if (optarg)
    arg.value = optarg;
  return arg;
}
