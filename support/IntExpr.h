//===- IntExpr.h - Integer expressions of names and literals ----*- C++ -*-===//
//
// The one evaluator of the small integer expressions tilus reads at run time
// and at compile time: grid extents and tensor shapes in a kernel's metadata
// (`cdiv(n, 128)`, runtime/core/Expr.cpp) and the arguments of layout
// annotations (`local(BK / 16, 1)`, frontend/LayoutText.cpp).
//
//   sum     := product (('+' | '-') product)*
//   product := unary (('*' | '/' | '%') unary)*
//   unary   := '-' unary | primary
//   primary := DECIMAL | NAME | '(' sum ')'
//            | ('min' | 'max' | 'cdiv') '(' sum ',' sum ')'
//            | F '(' NAME ')'          for F in IntExprOptions::nameCalls
//
// Arithmetic is on int64 with C semantics for / and % (truncation toward
// zero); cdiv(a, b) rounds the quotient toward +infinity. Every result that
// does not fit int64, a literal included, is an Overflow error and a zero
// divisor is a DivisionByZero error: no input has undefined behaviour.
// The text may come from a file anyone wrote, so unary minus, parentheses
// and calls nest at most IntExprOptions::maxDepth deep and the recursion is
// bounded by that, not by the input.
//
// The evaluator reports what went wrong and where as an IntExprError; each
// caller words the message for its own users. It depends on nothing but the
// standard library (layer support/, docs/architecture.md), so the runtime
// core can use it where no LLVM exists.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_SUPPORT_INTEXPR_H
#define TILUS_SUPPORT_INTEXPR_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tilus {

struct IntExprOptions {
  /// The value of a name (or, for a call `F(NAME)` of nameCalls, of the text
  /// "F(NAME)"); nullopt for a name that has none.
  std::function<std::optional<int64_t>(std::string_view)> lookup;
  /// Functions whose argument is a name, not an expression, resolved whole
  /// by lookup (the frontend's `bits(T)`).
  std::vector<std::string> nameCalls;
  /// The deepest nesting of unary minus, parentheses and calls accepted.
  unsigned maxDepth = 256;
};

enum class IntExprErrorKind {
  UnexpectedEnd,        ///< the text ends where an operand is expected
  UnexpectedChar,       ///< text[offset] cannot start an operand
  TrailingText,         ///< the expression ends at offset, the text does not
  ExpectedCloseParen,   ///< '(' sum with no ')'
  ExpectedOpenParen,    ///< a function name (in `name`) not followed by '('
  ExpectedComma,        ///< min/max/cdiv: no ',' after the first argument
  ExpectedCallClose,    ///< min/max/cdiv: no ')' after the second argument
  UnknownFunction,      ///< `name(` for a name that is no function
  UnknownName,          ///< lookup has no value for `name`
  ExpectedNameArgument, ///< a name call without `(NAME)`
  UnknownNameArgument,  ///< lookup has no value for `name`, "F(NAME)"
  LiteralOutOfRange,    ///< a decimal literal beyond int64
  Overflow,             ///< a result beyond int64
  DivisionByZero,       ///< x / 0, x % 0, cdiv(x, 0)
  NestingTooDeep,       ///< deeper than IntExprOptions::maxDepth
};

struct IntExprError {
  IntExprErrorKind kind = IntExprErrorKind::UnexpectedEnd;
  /// The offset in the text the error points at.
  size_t offset = 0;
  /// The name, the function or the call the error is about; the character
  /// at `offset` for UnexpectedChar, the text from `offset` on for
  /// TrailingText.
  std::string name;
};

/// Evaluates \p text; nullopt with \p error set on the first error.
std::optional<int64_t> evaluateIntExpr(std::string_view text,
                                       const IntExprOptions &options,
                                       IntExprError &error);

} // namespace tilus

#endif // TILUS_SUPPORT_INTEXPR_H
