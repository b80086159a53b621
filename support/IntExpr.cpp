//===- IntExpr.cpp - Integer expressions of names and literals ------------===//

#include "support/IntExpr.h"

#include <algorithm>
#include <cctype>

using namespace tilus;

namespace {

bool isIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool isIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

/// Recursive descent over the grammar of IntExpr.h. Every parse function
/// returns nullopt after recording the first error.
class Evaluator {
public:
  Evaluator(std::string_view text, const IntExprOptions &options,
            IntExprError &error)
      : text(text), options(options), error(error) {}

  std::optional<int64_t> run() {
    std::optional<int64_t> value = parseSum();
    if (!value)
      return std::nullopt;
    skipSpace();
    if (pos != text.size())
      return fail(IntExprErrorKind::TrailingText, pos,
                  std::string(text.substr(pos)));
    return value;
  }

private:
  std::optional<int64_t> fail(IntExprErrorKind kind, size_t at,
                              std::string name = {}) {
    error = {kind, at, std::move(name)};
    return std::nullopt;
  }
  void skipSpace() {
    while (pos < text.size() &&
           std::isspace(static_cast<unsigned char>(text[pos])))
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

  /// `lhs op rhs`, checked; \p at is the operator's offset.
  std::optional<int64_t> apply(char op, int64_t lhs, int64_t rhs, size_t at) {
    int64_t out = 0;
    switch (op) {
    case '+':
      if (__builtin_add_overflow(lhs, rhs, &out))
        return fail(IntExprErrorKind::Overflow, at);
      return out;
    case '-':
      if (__builtin_sub_overflow(lhs, rhs, &out))
        return fail(IntExprErrorKind::Overflow, at);
      return out;
    case '*':
      if (__builtin_mul_overflow(lhs, rhs, &out))
        return fail(IntExprErrorKind::Overflow, at);
      return out;
    default: // '/' and '%'
      if (rhs == 0)
        return fail(IntExprErrorKind::DivisionByZero, at);
      if (lhs == INT64_MIN && rhs == -1)
        return fail(IntExprErrorKind::Overflow, at);
      return op == '/' ? lhs / rhs : lhs % rhs;
    }
  }

  std::optional<int64_t> parseSum() {
    std::optional<int64_t> lhs = parseProduct();
    while (lhs) {
      skipSpace();
      if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-'))
        break;
      size_t at = pos;
      char op = text[pos++];
      std::optional<int64_t> rhs = parseProduct();
      if (!rhs)
        return std::nullopt;
      lhs = apply(op, *lhs, *rhs, at);
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
      lhs = apply(op, *lhs, *rhs, at);
    }
    return lhs;
  }

  std::optional<int64_t> parseUnary() {
    skipSpace();
    if (depth == options.maxDepth)
      return fail(IntExprErrorKind::NestingTooDeep, pos);
    ++depth;
    std::optional<int64_t> value;
    size_t at = pos;
    if (consume('-')) {
      value = parseUnary();
      if (value)
        value = apply('-', 0, *value, at);
    } else {
      value = parsePrimary();
    }
    --depth;
    return value;
  }

  std::optional<int64_t> parsePrimary() {
    skipSpace();
    if (pos >= text.size())
      return fail(IntExprErrorKind::UnexpectedEnd, pos);
    char c = text[pos];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t start = pos;
      int64_t value = 0;
      while (pos < text.size() &&
             std::isdigit(static_cast<unsigned char>(text[pos]))) {
        if (__builtin_mul_overflow(value, 10, &value) ||
            __builtin_add_overflow(value, text[pos] - '0', &value))
          return fail(IntExprErrorKind::LiteralOutOfRange, start);
        ++pos;
      }
      return value;
    }
    if (c == '(') {
      ++pos;
      std::optional<int64_t> value = parseSum();
      if (value && !consume(')'))
        return fail(IntExprErrorKind::ExpectedCloseParen, pos);
      return value;
    }
    if (!isIdentStart(c))
      return fail(IntExprErrorKind::UnexpectedChar, pos, std::string(1, c));
    size_t start = pos;
    while (pos < text.size() && isIdentChar(text[pos]))
      ++pos;
    std::string name(text.substr(start, pos - start));
    if (name == "min" || name == "max" || name == "cdiv")
      return parseCall(name);
    if (std::find(options.nameCalls.begin(), options.nameCalls.end(), name) !=
        options.nameCalls.end())
      return parseNameCall(name);
    skipSpace();
    if (pos < text.size() && text[pos] == '(')
      return fail(IntExprErrorKind::UnknownFunction, start, name);
    if (std::optional<int64_t> value =
            options.lookup ? options.lookup(name) : std::nullopt)
      return value;
    return fail(IntExprErrorKind::UnknownName, start, name);
  }

  /// min, max or cdiv, after the name.
  std::optional<int64_t> parseCall(const std::string &name) {
    if (!consume('('))
      return fail(IntExprErrorKind::ExpectedOpenParen, pos, name);
    std::optional<int64_t> a = parseSum();
    if (!a)
      return std::nullopt;
    if (!consume(','))
      return fail(IntExprErrorKind::ExpectedComma, pos, name);
    skipSpace();
    size_t at = pos; // a zero divisor is reported here
    std::optional<int64_t> b = parseSum();
    if (!b)
      return std::nullopt;
    if (!consume(')'))
      return fail(IntExprErrorKind::ExpectedCallClose, pos, name);
    if (name == "min")
      return std::min(*a, *b);
    if (name == "max")
      return std::max(*a, *b);
    // cdiv: the truncated quotient, one up when the exact one is positive
    // and not whole.
    std::optional<int64_t> q = apply('/', *a, *b, at);
    if (!q)
      return std::nullopt;
    return *q + ((*a % *b != 0 && (*a < 0) == (*b < 0)) ? 1 : 0);
  }

  /// `F(NAME)`, after F: asked of lookup as the text "F(NAME)".
  std::optional<int64_t> parseNameCall(const std::string &name) {
    if (!consume('('))
      return fail(IntExprErrorKind::ExpectedOpenParen, pos, name);
    skipSpace();
    size_t start = pos;
    while (pos < text.size() && isIdentChar(text[pos]))
      ++pos;
    std::string call =
        name + "(" + std::string(text.substr(start, pos - start)) + ")";
    if (pos == start || !consume(')'))
      return fail(IntExprErrorKind::ExpectedNameArgument, pos, name);
    if (std::optional<int64_t> value =
            options.lookup ? options.lookup(call) : std::nullopt)
      return value;
    return fail(IntExprErrorKind::UnknownNameArgument, start, call);
  }

  std::string_view text;
  const IntExprOptions &options;
  IntExprError &error;
  size_t pos = 0;
  unsigned depth = 0; ///< parseUnary calls in progress
};

} // namespace

std::optional<int64_t> tilus::evaluateIntExpr(std::string_view text,
                                              const IntExprOptions &options,
                                              IntExprError &error) {
  return Evaluator(text, options, error).run();
}
