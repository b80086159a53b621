//===- tilus-dtype.cpp - Value tables and conversions of element types ----===//
//
// Part of the tilus project.
//
//===----------------------------------------------------------------------===//
//
// Prints the value of every code of a type, or converts values into a type,
// with the exact rules of ir/dtype/DType.h. Standard library only, so it runs
// wherever the runtime core builds.
//
//===----------------------------------------------------------------------===//

#include "ir/dtype/DType.h"
#include "tools/common/ToolOptions.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace tilus;

namespace {

enum OptionId { kList, kFormat, kFrom };

tools::ToolOptions toolOptions() {
  using Value = tools::OptionSpec::Value;
  tools::ToolOptions t;
  t.tool = "tilus-dtype";
  t.usage = R"(tilus-dtype [options] NAME
       tilus-dtype NAME --from TYPE VALUE...
       tilus-dtype --list)";
  t.description = R"(Prints the value set of the element type NAME, or converts values into it,
with the exact rules of the tilus dtype library (docs/dtypes.md).

Modes:
  NAME               print every code of NAME (at most 16 bits) with its
                     value: code, hex, bits and value columns
  NAME --from TYPE V...
                     read each V as a value of TYPE and convert it to NAME;
                     prints the CSV header `input,code,value` and one line
                     per V (code in unsigned decimal). A float V is a
                     decimal or hex float, `nan`, `inf` or `-inf`; for f32
                     it is rounded to nearest f32 (saturating to +-max
                     finite), for other float types it is read as the
                     nearest double first. An integer V must lie in TYPE's
                     range; bool takes 0, 1, false, true. After NAME, a
                     word starting with a single '-' is a value, not an
                     option.)";
  t.options = {
      {kList, "list", Value::None, "", "print every type name, one a line"},
      {kFormat, "format", Value::Required, "table|csv",
       R"(output of the table mode (default table); csv prints
the header `code,hex,value`, code in unsigned decimal
and hex with one digit per 4 bits)"},
      {kFrom, "from", Value::Required, "TYPE",
       "convert the values after NAME from TYPE (see Modes)"},
  };
  t.epilogue = R"(Values print as the shortest decimal that reads back as the same double
(0.5, -6, 448), or nan, inf, -inf; integers print exactly.

Types: bool, i1..i8, i16, i32, i64, u1..u8, u16, u32, u64, f<B>e<E>m<M> for
1 <= E <= 5 and 3 <= B = 1+E+M <= 8 (f3e1m1 ... f8e5m2), f16, bf16, f32.
Exit status: 0 on success, 1 on any error.)";
  return t;
}

/// Prints `message` as the tool's one-line error and returns exit status 1.
int error(const std::string &message) {
  std::fprintf(stderr, "tilus-dtype: error: %s\n", message.c_str());
  return 1;
}

/// The shortest decimal that reads back as `value`, or nan, inf, -inf.
std::string formatDouble(double value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value < 0 ? "-inf" : "inf";
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

/// The value of `code` in `type`: integers exactly, floats as formatDouble.
std::string formatValue(DType type, uint64_t code) {
  code &= type.codeMask();
  if (type.isBool())
    return code != 0 ? "1" : "0";
  if (type.kind() == DType::Kind::UnsignedInt)
    return std::to_string(code);
  if (type.kind() == DType::Kind::SignedInt) {
    uint64_t signBit = uint64_t(1) << (type.bitWidth() - 1);
    if (!(code & signBit))
      return std::to_string(code);
    return "-" + std::to_string(type.codeMask() & (0 - code));
  }
  return formatDouble(decode(type, code));
}

std::string formatHex(DType type, uint64_t code) {
  unsigned digits = (type.bitWidth() + 3) / 4;
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "0x%0*llx", int(digits),
                static_cast<unsigned long long>(code));
  return buffer;
}

std::string formatBinary(DType type, uint64_t code) {
  std::string bits;
  for (unsigned i = type.bitWidth(); i-- > 0;)
    bits += ((code >> i) & 1) ? '1' : '0';
  return bits;
}

std::string describe(DType type) {
  std::string width = std::to_string(type.bitWidth()) + "-bit ";
  switch (type.kind()) {
  case DType::Kind::Bool:
    return width + "boolean: 0 is false, any other code is true";
  case DType::Kind::SignedInt:
    return width + "two's complement integer, range " +
           formatValue(type, type.maxFiniteCode(true)) + " to " +
           formatValue(type, type.maxFiniteCode());
  case DType::Kind::UnsignedInt:
    return width + "unsigned integer, range 0 to " +
           formatValue(type, type.maxFiniteCode());
  case DType::Kind::Float:
    break;
  }
  std::string specials = "no infinity, no nan";
  if (type.hasInfinity() && type.hasNaN())
    specials = "infinity and nan";
  else if (type.hasInfinity())
    specials = "infinity, no nan";
  else if (type.hasNaN())
    specials = "nan, no infinity";
  return width + "float: 1 sign, " + std::to_string(type.exponentBits()) +
         " exponent, " + std::to_string(type.mantissaBits()) +
         " mantissa bits, bias " + std::to_string(type.exponentBias()) + ", " +
         specials + "; max finite " + formatDouble(type.maxFinite()) +
         ", min normal " + formatDouble(type.minNormal()) + ", min subnormal " +
         formatDouble(type.minSubnormal());
}

int printTable(DType type, bool csv) {
  if (type.bitWidth() > 16)
    return error("type '" + type.name() + "' has " +
                 std::to_string(type.bitWidth()) +
                 " bits; the table lists types of at most 16 bits (use "
                 "--from to convert values)");
  uint64_t count = uint64_t(1) << type.bitWidth();
  std::string out;
  if (csv) {
    out += "code,hex,value\n";
    for (uint64_t code = 0; code < count; ++code)
      out += std::to_string(code) + "," + formatHex(type, code) + "," +
             formatValue(type, code) + "\n";
  } else {
    out += type.name() + ": " + describe(type) + "\n";
    int codeWidth = int(std::max<size_t>(4, std::to_string(count - 1).size()));
    int hexWidth = int(formatHex(type, 0).size());
    int bitsWidth = int(std::max(4u, type.bitWidth()));
    char line[256];
    std::snprintf(line, sizeof(line), "%*s  %-*s  %-*s  %s\n", codeWidth,
                  "code", hexWidth, "hex", bitsWidth, "bits", "value");
    out += line;
    for (uint64_t code = 0; code < count; ++code) {
      std::snprintf(line, sizeof(line), "%*llu  %-*s  %-*s  %s\n", codeWidth,
                    static_cast<unsigned long long>(code), hexWidth,
                    formatHex(type, code).c_str(), bitsWidth,
                    formatBinary(type, code).c_str(),
                    formatValue(type, code).c_str());
      out += line;
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

/// Reads `text` as a value of `type`; std::nullopt when it is not one.
std::optional<uint64_t> parseValue(DType type, const std::string &text) {
  if (text.empty())
    return std::nullopt;
  const char *begin = text.c_str();
  char *end = nullptr;
  errno = 0;
  if (type.isBool()) {
    if (text == "0" || text == "false")
      return 0;
    if (text == "1" || text == "true")
      return 1;
    return std::nullopt;
  }
  if (type.kind() == DType::Kind::UnsignedInt) {
    if (text[0] == '-' || text[0] == '+' || text[0] == ' ')
      return std::nullopt;
    unsigned long long value = std::strtoull(begin, &end, 0);
    if (*end != '\0' || errno == ERANGE || value > type.codeMask())
      return std::nullopt;
    return value;
  }
  if (type.kind() == DType::Kind::SignedInt) {
    if (text[0] == ' ')
      return std::nullopt;
    long long value = std::strtoll(begin, &end, 0);
    long long max = static_cast<long long>(type.codeMask() >> 1);
    if (*end != '\0' || errno == ERANGE || value > max || value < -max - 1)
      return std::nullopt;
    return static_cast<uint64_t>(value) & type.codeMask();
  }
  if (std::isspace(static_cast<unsigned char>(text[0])))
    return std::nullopt;
  if (type == DType::f32()) {
    float value = std::strtof(begin, &end);
    if (*end != '\0')
      return std::nullopt;
    // strtof rounds to nearest; a finite decimal beyond the range saturates
    // like every other conversion of the library.
    if (std::isinf(value) && errno == ERANGE)
      value = std::copysign(std::numeric_limits<float>::max(), value);
    return encode(type, value);
  }
  double value = std::strtod(begin, &end);
  if (*end != '\0')
    return std::nullopt;
  if (std::isinf(value) && errno == ERANGE)
    value = std::copysign(std::numeric_limits<double>::max(), value);
  return encode(type, value);
}

int convertValues(DType to, DType from,
                  const std::vector<std::string> &values) {
  if (values.empty())
    return error("--from needs at least one value to convert");
  std::string out = "input,code,value\n";
  for (const std::string &text : values) {
    std::optional<uint64_t> code = parseValue(from, text);
    if (!code)
      return error("invalid " + from.name() + " value '" + text + "'");
    uint64_t result = convert(*code, from, to);
    out += text + "," + std::to_string(result) + "," + formatValue(to, result) +
           "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> positional;
  std::optional<std::string> fromName;
  std::string format = "table";
  bool list = false;
  tools::ToolOptions options = toolOptions();
  tools::ArgReader reader(options, argc, argv);
  // After the type name, "-1.5" and "-inf" are values, not options.
  reader.setOperandTest([&](std::string_view word) {
    return !positional.empty() && word.size() > 1 && word[0] == '-' &&
           word[1] != '-' && word != "-h";
  });
  for (tools::ParsedArg a = reader.next();
       a.kind != tools::ParsedArg::Kind::End; a = reader.next()) {
    using Kind = tools::ParsedArg::Kind;
    if (a.kind == Kind::Help) {
      std::fputs(options.helpText().c_str(), stdout);
      return 0;
    }
    if (a.kind == Kind::Error)
      return error(a.value);
    if (a.kind == Kind::Operand) {
      positional.push_back(a.value);
      continue;
    }
    switch (OptionId(a.id)) {
    case kList:
      list = true;
      break;
    case kFormat:
      if (a.value != "table" && a.value != "csv")
        return error("unknown format '" + a.value +
                     "'; valid formats: table, csv");
      format = a.value;
      break;
    case kFrom:
      fromName = a.value;
      break;
    }
  }

  if (list) {
    if (!positional.empty() || fromName)
      return error("--list takes no other arguments");
    for (const std::string &name : DType::allNames())
      std::printf("%s\n", name.c_str());
    return 0;
  }
  if (positional.empty())
    return error("no type name given; see --help");

  std::string message;
  std::optional<DType> type = DType::parse(positional[0], &message);
  if (!type)
    return error(message);
  std::vector<std::string> rest(positional.begin() + 1, positional.end());
  if (fromName) {
    std::optional<DType> from = DType::parse(*fromName, &message);
    if (!from)
      return error(message);
    return convertValues(*type, *from, rest);
  }
  if (!rest.empty())
    return error("unexpected argument '" + rest[0] +
                 "'; values need --from TYPE");
  return printTable(*type, format == "csv");
}
