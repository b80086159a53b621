//===- Expr.cpp - Integer expressions of KernelInfo -----------------------===//
//
// Grid extents and tensor shapes reach the host as text such as
// `cdiv(n, 1024)` or `(k / 128)`, evaluated by support/IntExpr.h over the
// kernel's scalar values. The text may come from a metadata file, so it
// nests at most kMaxNestingDepth deep (ir/Limits.h); every error names the
// text and what is wrong with it.
//
//===----------------------------------------------------------------------===//

#include "tilus/Runtime.h"

#include "ir/Limits.h"
#include "support/IntExpr.h"

using namespace tilus;

namespace {

std::string describe(const IntExprError &error) {
  switch (error.kind) {
  case IntExprErrorKind::UnexpectedEnd:
    return "unexpected end";
  case IntExprErrorKind::UnexpectedChar:
  case IntExprErrorKind::TrailingText:
    return "unexpected '" + error.name + "'";
  case IntExprErrorKind::ExpectedCloseParen:
    return "expected ')'";
  case IntExprErrorKind::ExpectedOpenParen:
    return "expected '(' after '" + error.name + "'";
  case IntExprErrorKind::ExpectedComma:
  case IntExprErrorKind::ExpectedCallClose:
    return error.name + "() takes two arguments";
  case IntExprErrorKind::UnknownFunction:
    return "unknown function '" + error.name + "'";
  case IntExprErrorKind::UnknownName:
  case IntExprErrorKind::UnknownNameArgument:
    return "no value for '" + error.name + "'";
  case IntExprErrorKind::ExpectedNameArgument:
    return "expected a name in '" + error.name + "()'";
  case IntExprErrorKind::LiteralOutOfRange:
    return "integer literal out of range";
  case IntExprErrorKind::Overflow:
    return "overflow";
  case IntExprErrorKind::DivisionByZero:
    return "division by zero";
  case IntExprErrorKind::NestingTooDeep:
    return "nesting deeper than " + std::to_string(kMaxNestingDepth) +
           " levels";
  }
  return "invalid expression";
}

} // namespace

Expected<int64_t> tilus::evaluateExpr(
    std::string_view expr,
    const std::vector<std::pair<std::string, int64_t>> &values) {
  IntExprOptions options;
  options.maxDepth = kMaxNestingDepth;
  options.lookup = [&](std::string_view name) -> std::optional<int64_t> {
    for (const auto &[n, value] : values)
      if (n == name)
        return value;
    return std::nullopt;
  };
  IntExprError error;
  std::optional<int64_t> value = evaluateIntExpr(expr, options, error);
  if (!value)
    return Status::error("in '" + std::string(expr) + "': " + describe(error));
  return *value;
}
