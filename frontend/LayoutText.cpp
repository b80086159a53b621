//===- LayoutText.cpp - Compile-time arguments in layout annotations ------===//

#include "frontend/LayoutText.h"

#include "ir/Limits.h"

#include <cctype>

using namespace tilus;

namespace {

bool isIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool isIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

/// Recursive descent over one argument: integers, names, + - * / %, unary
/// minus, parentheses and min/max/cdiv calls, with C semantics for / and %.
/// Unary minus, parentheses and calls nest at most kMaxNestingDepth deep.
class ArgEvaluator {
public:
  ArgEvaluator(std::string_view text, size_t base,
               const LayoutNameLookup &lookup, LayoutTextError &error)
      : text(text), base(base), lookup(lookup), error(error) {}

  std::optional<int64_t> run() {
    std::optional<int64_t> value = parseSum();
    skipSpace();
    if (value && pos != text.size())
      return fail("unexpected '" + std::string(1, text[pos]) +
                  "' in a layout argument");
    return value;
  }

private:
  std::optional<int64_t> fail(std::string message) {
    if (error.message.empty())
      error = {base + pos, std::move(message)};
    return std::nullopt;
  }
  void skipSpace() {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
  }
  bool consume(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }

  std::optional<int64_t> parseSum() {
    std::optional<int64_t> lhs = parseProduct();
    while (lhs) {
      skipSpace();
      if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-'))
        break;
      char op = text[pos++];
      std::optional<int64_t> rhs = parseProduct();
      if (!rhs)
        return std::nullopt;
      lhs = op == '+' ? *lhs + *rhs : *lhs - *rhs;
    }
    return lhs;
  }

  std::optional<int64_t> parseProduct() {
    std::optional<int64_t> lhs = parseUnary();
    while (lhs) {
      skipSpace();
      if (pos >= text.size() ||
          (text[pos] != '*' && text[pos] != '/' && text[pos] != '%'))
        break;
      size_t at = pos;
      char op = text[pos++];
      std::optional<int64_t> rhs = parseUnary();
      if (!rhs)
        return std::nullopt;
      if (op != '*' && *rhs == 0) {
        pos = at;
        return fail("division by zero in a layout argument");
      }
      lhs = op == '*' ? *lhs * *rhs : op == '/' ? *lhs / *rhs : *lhs % *rhs;
    }
    return lhs;
  }

  std::optional<int64_t> parseUnary() {
    skipSpace();
    if (++depth > kMaxNestingDepth)
      return fail("layout argument nests deeper than " +
                  std::to_string(kMaxNestingDepth) + " levels");
    std::optional<int64_t> v;
    if (consume('-')) {
      v = parseUnary();
      if (v)
        v = -*v;
    } else {
      v = parsePrimary();
    }
    --depth;
    return v;
  }

  std::optional<int64_t> parsePrimary() {
    skipSpace();
    if (pos >= text.size())
      return fail("expected an integer expression in a layout argument");
    char c = text[pos];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      int64_t value = 0;
      while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
        value = value * 10 + (text[pos++] - '0');
        if (value > (int64_t(1) << 40))
          return fail("integer too large in a layout argument");
      }
      return value;
    }
    if (c == '(') {
      ++pos;
      std::optional<int64_t> v = parseSum();
      if (v && !consume(')'))
        return fail("expected ')' in a layout argument");
      return v;
    }
    if (!isIdentStart(c))
      return fail("unexpected '" + std::string(1, c) + "' in a layout argument");
    size_t start = pos;
    while (pos < text.size() && isIdentChar(text[pos]))
      ++pos;
    std::string_view name = text.substr(start, pos - start);
    if (name == "bits") {
      // `bits(T)`: asked of the lookup as the text "bits(T)".
      if (!consume('('))
        return fail("expected '(' after 'bits'");
      skipSpace();
      size_t typeStart = pos;
      while (pos < text.size() && isIdentChar(text[pos]))
        ++pos;
      std::string query =
          "bits(" + std::string(text.substr(typeStart, pos - typeStart)) + ")";
      if (pos == typeStart || !consume(')'))
        return fail("expected a data type name in 'bits'");
      if (std::optional<int64_t> value = lookup(query))
        return value;
      pos = typeStart;
      return fail("unknown data type in '" + query + "'");
    }
    if (name == "min" || name == "max" || name == "cdiv") {
      if (!consume('('))
        return fail("expected '(' after '" + std::string(name) + "'");
      std::optional<int64_t> a = parseSum();
      if (!a || !consume(','))
        return a ? fail("expected ',' in '" + std::string(name) + "'")
                 : std::nullopt;
      size_t at = pos;
      std::optional<int64_t> b = parseSum();
      if (!b || !consume(')'))
        return b ? fail("expected ')' to close '" + std::string(name) + "'")
                 : std::nullopt;
      if (name == "min")
        return std::min(*a, *b);
      if (name == "max")
        return std::max(*a, *b);
      if (*b <= 0) {
        pos = at;
        return fail("'cdiv' needs a positive divisor");
      }
      return (*a + *b - 1) / *b;
    }
    if (std::optional<int64_t> value = lookup(name))
      return value;
    pos = start;
    return fail("'" + std::string(name) +
                "' is not a compile-time integer parameter");
  }

  std::string_view text;
  size_t base;
  const LayoutNameLookup &lookup;
  LayoutTextError &error;
  size_t pos = 0;
  unsigned depth = 0; ///< parseUnary calls in progress
};

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
    ArgEvaluator evaluator(arg, i, lookup, error);
    std::optional<int64_t> value = evaluator.run();
    if (!value)
      return false;
    size_t lead = arg.find_first_not_of(" \t\r\n");
    emit(std::to_string(*value), i + lead, true);
    previous = '0';
    i = end;
  }
  out.origin.push_back(text.size());
  return true;
}
