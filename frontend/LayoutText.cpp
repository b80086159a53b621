//===- LayoutText.cpp - Compile-time arguments in layout annotations ------===//

#include "frontend/LayoutText.h"

#include "ir/Limits.h"
#include "support/IntExpr.h"

#include <cctype>

using namespace tilus;

namespace {

bool isIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

/// The message of an argument's error, in the words of the frontend.
std::string describe(const IntExprError &error) {
  const std::string where = " in a layout argument";
  switch (error.kind) {
  case IntExprErrorKind::UnexpectedEnd:
    return "expected an integer expression" + where;
  case IntExprErrorKind::UnexpectedChar:
  case IntExprErrorKind::TrailingText:
    return "unexpected '" + error.name.substr(0, 1) + "'" + where;
  case IntExprErrorKind::ExpectedCloseParen:
    return "expected ')'" + where;
  case IntExprErrorKind::ExpectedOpenParen:
    return "expected '(' after '" + error.name + "'";
  case IntExprErrorKind::ExpectedComma:
    return "expected ',' in '" + error.name + "'";
  case IntExprErrorKind::ExpectedCallClose:
    return "expected ')' to close '" + error.name + "'";
  case IntExprErrorKind::UnknownFunction:
    return "unknown function '" + error.name + "'" + where;
  case IntExprErrorKind::UnknownName:
    return "'" + error.name + "' is not a compile-time integer parameter";
  case IntExprErrorKind::ExpectedNameArgument:
    return "expected a data type name in '" + error.name + "'";
  case IntExprErrorKind::UnknownNameArgument:
    return "unknown data type in '" + error.name + "'";
  case IntExprErrorKind::LiteralOutOfRange:
    return "integer too large" + where;
  case IntExprErrorKind::Overflow:
    return "integer overflow" + where;
  case IntExprErrorKind::DivisionByZero:
    return "division by zero" + where;
  case IntExprErrorKind::NestingTooDeep:
    return "layout argument nests deeper than " +
           std::to_string(kMaxNestingDepth) + " levels";
  }
  return "invalid layout argument";
}

bool isPlainInteger(std::string_view arg) {
  size_t b = 0, e = arg.size();
  while (b < e && std::isspace(static_cast<unsigned char>(arg[b])))
    ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(arg[e - 1])))
    --e;
  if (b < e && arg[b] == '-')
    ++b;
  if (b == e)
    return false;
  for (size_t i = b; i < e; ++i)
    if (!std::isdigit(static_cast<unsigned char>(arg[i])))
      return false;
  return true;
}

} // namespace

bool tilus::expandLayoutText(std::string_view text,
                             const LayoutNameLookup &lookup,
                             ExpandedLayoutText &out, LayoutTextError &error) {
  out = {};
  error = {};
  auto emit = [&](std::string_view s, size_t from, bool sameOrigin) {
    for (size_t k = 0; k < s.size(); ++k) {
      out.text += s[k];
      out.origin.push_back(sameOrigin ? from : from + k);
    }
  };
  // Closers of the argument lists we are in: ')' of a call, ']' of a list.
  std::vector<char> open;
  char previous = 0; // the last non-space character copied
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    bool argumentStarts = false;
    if (c == '(' && isIdentChar(previous)) {
      open.push_back(')');
      argumentStarts = true;
    } else if (c == '(') {
      open.push_back(0); // a parenthesised layout expression
    } else if (c == '[') {
      open.push_back(']');
      argumentStarts = true;
    } else if (!open.empty() && (c == ')' || c == ']')) {
      open.pop_back();
    } else if (!open.empty() && open.back() != 0 &&
               (c == ',' || c == ':' || c == '=')) {
      argumentStarts = true;
    }
    emit(text.substr(i, 1), i, false);
    if (!std::isspace(static_cast<unsigned char>(c)))
      previous = c;
    ++i;
    if (!argumentStarts)
      continue;
    // The argument runs to the next ',' ':' '=' or closer outside its own
    // parentheses.
    size_t end = i;
    int depth = 0;
    while (end < text.size()) {
      char d = text[end];
      if (d == '(')
        ++depth;
      else if (d == ')' && depth > 0)
        --depth;
      else if (depth == 0 && (d == ',' || d == ':' || d == '=' || d == ')' ||
                              d == ']' || d == '['))
        break;
      ++end;
    }
    std::string_view arg = text.substr(i, end - i);
    bool blank = arg.find_first_not_of(" \t\r\n") == std::string_view::npos;
    // Lists, keys (`shape=`) and plain integers are the library's business.
    if (blank || (end < text.size() && (text[end] == '=' || text[end] == '[')) ||
        isPlainInteger(arg))
      continue;
    IntExprOptions options;
    options.lookup = lookup;
    options.nameCalls = {"bits"};
    options.maxDepth = kMaxNestingDepth;
    IntExprError argError;
    std::optional<int64_t> value = evaluateIntExpr(arg, options, argError);
    if (!value) {
      error = {i + argError.offset, describe(argError)};
      return false;
    }
    size_t lead = arg.find_first_not_of(" \t\r\n");
    emit(std::to_string(*value), i + lead, true);
    previous = '0';
    i = end;
  }
  out.origin.push_back(text.size());
  return true;
}
