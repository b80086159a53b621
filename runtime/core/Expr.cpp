//===- Expr.cpp - Integer expressions of KernelInfo -----------------------===//
//
// Grid extents and tensor shapes reach the host as text such as
// `cdiv(n, 1024)` or `(k / 128)`. A recursive-descent evaluator over int64
// with C semantics for / and %; overflow and division by zero are errors.
// The text may come from a metadata file, so unary minus, parentheses and
// calls nest at most kMaxNestingDepth deep (ir/Limits.h) and no input can
// overflow the stack.
//
//===----------------------------------------------------------------------===//

#include "tilus/Runtime.h"

#include "ir/Limits.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

using namespace tilus;

namespace {

class Evaluator {
public:
  Evaluator(std::string_view text,
            const std::vector<std::pair<std::string, int64_t>> &values)
      : text(text), values(values) {}

  Expected<int64_t> run() {
    int64_t v = 0;
    if (!parseSum(v))
      return Status::error(err);
    skipSpace();
    if (pos != text.size())
      return fail("unexpected '" + std::string(text.substr(pos)) + "'");
    return v;
  }

private:
  Status fail(const std::string &what) {
    err = "in '" + std::string(text) + "': " + what;
    return Status::error(err);
  }
  bool error(const std::string &what) {
    (void)fail(what);
    return false;
  }
  void skipSpace() {
    while (pos < text.size() &&
           std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
  }
  bool accept(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool binary(char op, int64_t a, int64_t b, int64_t &out) {
    switch (op) {
    case '+':
      if (__builtin_add_overflow(a, b, &out))
        return error("overflow");
      return true;
    case '-':
      if (__builtin_sub_overflow(a, b, &out))
        return error("overflow");
      return true;
    case '*':
      if (__builtin_mul_overflow(a, b, &out))
        return error("overflow");
      return true;
    case '/':
    case '%':
      if (b == 0)
        return error("division by zero");
      if (a == INT64_MIN && b == -1)
        return error("overflow");
      out = op == '/' ? a / b : a % b;
      return true;
    }
    return error("unknown operator");
  }
  bool parseSum(int64_t &v) {
    if (!parseProduct(v))
      return false;
    while (true) {
      skipSpace();
      if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-'))
        return true;
      char op = text[pos++];
      int64_t rhs;
      if (!parseProduct(rhs) || !binary(op, v, rhs, v))
        return false;
    }
  }
  bool parseProduct(int64_t &v) {
    if (!parseUnary(v))
      return false;
    while (true) {
      skipSpace();
      if (pos >= text.size() ||
          (text[pos] != '*' && text[pos] != '/' && text[pos] != '%'))
        return true;
      char op = text[pos++];
      int64_t rhs;
      if (!parseUnary(rhs) || !binary(op, v, rhs, v))
        return false;
    }
  }
  bool parseUnary(int64_t &v) {
    if (depth == kMaxNestingDepth)
      return error("nesting deeper than " + std::to_string(kMaxNestingDepth) +
                   " levels");
    ++depth;
    bool ok = accept('-') ? parseUnary(v) && binary('-', 0, v, v)
                          : parsePrimary(v);
    --depth;
    return ok;
  }
  bool parsePrimary(int64_t &v) {
    skipSpace();
    if (pos >= text.size())
      return error("unexpected end");
    if (accept('(')) {
      if (!parseSum(v))
        return false;
      if (!accept(')'))
        return error("expected ')'");
      return true;
    }
    char c = text[pos];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      v = 0;
      while (pos < text.size() &&
             std::isdigit(static_cast<unsigned char>(text[pos]))) {
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, text[pos] - '0', &v))
          return error("integer literal out of range");
        ++pos;
      }
      return true;
    }
    if (!std::isalpha(static_cast<unsigned char>(c)) && c != '_')
      return error("unexpected '" + std::string(1, c) + "'");
    size_t start = pos;
    while (pos < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[pos])) ||
            text[pos] == '_'))
      ++pos;
    std::string name(text.substr(start, pos - start));
    if (accept('('))
      return parseCall(name, v);
    for (const auto &[n, value] : values)
      if (n == name) {
        v = value;
        return true;
      }
    return error("no value for '" + name + "'");
  }
  bool parseCall(const std::string &name, int64_t &v) {
    int64_t a, b;
    // An error inside an argument keeps its own message.
    if (!parseSum(a))
      return false;
    if (!accept(','))
      return error(name + "() takes two arguments");
    if (!parseSum(b))
      return false;
    if (!accept(')'))
      return error(name + "() takes two arguments");
    if (name == "min") {
      v = std::min(a, b);
      return true;
    }
    if (name == "max") {
      v = std::max(a, b);
      return true;
    }
    if (name == "cdiv") {
      // Ceiling division of non-negative extents; rounds toward +inf.
      if (b == 0)
        return error("division by zero");
      int64_t q = a / b;
      v = (a % b != 0 && ((a < 0) == (b < 0))) ? q + 1 : q;
      return true;
    }
    return error("unknown function '" + name + "'");
  }

  std::string_view text;
  const std::vector<std::pair<std::string, int64_t>> &values;
  size_t pos = 0;
  unsigned depth = 0; ///< parseUnary calls in progress
  std::string err;
};

} // namespace

Expected<int64_t> tilus::evaluateExpr(
    std::string_view expr,
    const std::vector<std::pair<std::string, int64_t>> &values) {
  return Evaluator(expr, values).run();
}
