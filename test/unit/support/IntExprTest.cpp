//===- IntExprTest.cpp - The integer-expression evaluator -----------------===//
//
// Random expression trees are printed as text and evaluated; the result must
// be the tree's value computed with checked arithmetic in the same order, or
// the same first error (overflow, division by zero). Errors name the
// offending text and point at it.
//
//===----------------------------------------------------------------------===//

#include "support/IntExpr.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <random>

using namespace tilus;

namespace {

using Values = std::vector<std::pair<std::string, int64_t>>;

IntExprOptions optionsFor(const Values &values) {
  IntExprOptions options;
  options.lookup = [values](std::string_view name) -> std::optional<int64_t> {
    for (const auto &[n, v] : values)
      if (n == name)
        return v;
    return std::nullopt;
  };
  options.nameCalls = {"bits"};
  return options;
}

std::optional<int64_t> eval(std::string_view text, const Values &values,
                            IntExprError &error) {
  return evaluateIntExpr(text, optionsFor(values), error);
}

/// The value of a tree, or the error the evaluator must report first.
struct Outcome {
  std::optional<int64_t> value;
  IntExprErrorKind error = IntExprErrorKind::Overflow;
};

struct Node {
  enum Kind { Literal, Name, Neg, Binary, Call } kind;
  int64_t value = 0;
  std::string name; // Name: the variable; Call: min, max or cdiv
  char op = 0;
  std::unique_ptr<Node> lhs, rhs;
};

int64_t cdivRef(int64_t a, int64_t b) {
  return a / b + ((a % b != 0) && ((a < 0) == (b < 0)));
}

Outcome evaluateRef(const Node &n, const Values &values) {
  auto err = [](IntExprErrorKind k) { return Outcome{std::nullopt, k}; };
  switch (n.kind) {
  case Node::Literal:
    return {n.value};
  case Node::Name:
    for (const auto &[name, v] : values)
      if (name == n.name)
        return {v};
    return err(IntExprErrorKind::UnknownName);
  case Node::Neg: {
    Outcome a = evaluateRef(*n.lhs, values);
    if (!a.value)
      return a;
    int64_t out;
    if (__builtin_sub_overflow(int64_t(0), *a.value, &out))
      return err(IntExprErrorKind::Overflow);
    return {out};
  }
  case Node::Binary:
  case Node::Call: {
    Outcome a = evaluateRef(*n.lhs, values);
    if (!a.value)
      return a;
    Outcome b = evaluateRef(*n.rhs, values);
    if (!b.value)
      return b;
    int64_t x = *a.value, y = *b.value, out = 0;
    char op = n.kind == Node::Call ? (n.name == "cdiv" ? 'c' : n.name[1])
                                   : n.op;
    switch (op) {
    case '+':
      if (__builtin_add_overflow(x, y, &out))
        return err(IntExprErrorKind::Overflow);
      return {out};
    case '-':
      if (__builtin_sub_overflow(x, y, &out))
        return err(IntExprErrorKind::Overflow);
      return {out};
    case '*':
      if (__builtin_mul_overflow(x, y, &out))
        return err(IntExprErrorKind::Overflow);
      return {out};
    case 'i': // min
      return {std::min(x, y)};
    case 'a': // max
      return {std::max(x, y)};
    default: // '/', '%', cdiv
      if (y == 0)
        return err(IntExprErrorKind::DivisionByZero);
      if (x == INT64_MIN && y == -1)
        return err(IntExprErrorKind::Overflow);
      return {op == '/' ? x / y : op == '%' ? x % y : cdivRef(x, y)};
    }
  }
  }
  return {};
}

std::string print(const Node &n, std::mt19937_64 &rng) {
  auto space = [&] { return rng() % 3 == 0 ? " " : ""; };
  switch (n.kind) {
  case Node::Literal:
    return std::to_string(n.value);
  case Node::Name:
    return n.name;
  case Node::Neg:
    return std::string("-") + space() + print(*n.lhs, rng);
  case Node::Binary:
    return "(" + print(*n.lhs, rng) + space() + n.op + space() +
           print(*n.rhs, rng) + ")";
  case Node::Call:
    return n.name + space() + "(" + print(*n.lhs, rng) + "," + space() +
           print(*n.rhs, rng) + ")";
  }
  return "";
}

std::unique_ptr<Node> randomTree(std::mt19937_64 &rng, int depth) {
  auto n = std::make_unique<Node>();
  unsigned pick = depth == 0 ? rng() % 2 : rng() % 9;
  if (pick == 0) {
    n->kind = Node::Literal;
    // Mostly small, sometimes near the edges of int64.
    switch (rng() % 4) {
    case 0:
      n->value = int64_t(rng() % 8);
      break;
    case 1:
      n->value = int64_t(rng() % 100000);
      break;
    case 2:
      n->value = int64_t(rng() >> 1);
      break;
    default:
      n->value = INT64_MAX - int64_t(rng() % 4);
    }
  } else if (pick == 1) {
    n->kind = Node::Name;
    n->name = rng() % 2 ? "a" : "b_1";
  } else if (pick == 2) {
    n->kind = Node::Neg;
    n->lhs = randomTree(rng, depth - 1);
  } else if (pick <= 6) {
    n->kind = Node::Binary;
    n->op = "+-*/%"[rng() % 5];
    n->lhs = randomTree(rng, depth - 1);
    n->rhs = randomTree(rng, depth - 1);
  } else {
    n->kind = Node::Call;
    const char *names[] = {"min", "max", "cdiv"};
    n->name = names[rng() % 3];
    n->lhs = randomTree(rng, depth - 1);
    n->rhs = randomTree(rng, depth - 1);
  }
  return n;
}

TEST(IntExprTest, MatchesCheckedArithmeticOnRandomTrees) {
  std::mt19937_64 rng(7);
  int values = 0, overflows = 0, divisions = 0;
  for (int i = 0; i < 20000; ++i) {
    std::unique_ptr<Node> tree = randomTree(rng, 1 + int(rng() % 5));
    Values v = {{"a", int64_t(rng() % 2001) - 1000},
                {"b_1", rng() % 4 ? int64_t(rng() % 64) - 32 : INT64_MIN}};
    std::string text = print(*tree, rng);
    Outcome want = evaluateRef(*tree, v);
    IntExprError error;
    std::optional<int64_t> got = eval(text, v, error);
    if (want.value) {
      ASSERT_TRUE(got) << text << ": kind " << int(error.kind);
      EXPECT_EQ(*got, *want.value) << text;
      ++values;
    } else {
      ASSERT_FALSE(got) << text << " = " << *got;
      EXPECT_EQ(error.kind, want.error) << text;
      ASSERT_LT(error.offset, text.size()) << text;
      overflows += want.error == IntExprErrorKind::Overflow;
      divisions += want.error == IntExprErrorKind::DivisionByZero;
    }
  }
  // The generator reaches every outcome often.
  EXPECT_GT(values, 1000);
  EXPECT_GT(overflows, 200);
  EXPECT_GT(divisions, 100);
}

TEST(IntExprTest, ErrorsPointAtTheirText) {
  struct Case {
    const char *text;
    IntExprErrorKind kind;
    size_t offset;
    const char *name;
  };
  const Case cases[] = {
      {"n + 1", IntExprErrorKind::UnknownName, 0, "n"},
      {"1 + ", IntExprErrorKind::UnexpectedEnd, 4, ""},
      {"(1", IntExprErrorKind::ExpectedCloseParen, 2, ""},
      {"1 2", IntExprErrorKind::TrailingText, 2, "2"},
      {"1 + $x", IntExprErrorKind::UnexpectedChar, 4, "$"},
      {"4 / (2 - 2)", IntExprErrorKind::DivisionByZero, 2, ""},
      {"7 % 0", IntExprErrorKind::DivisionByZero, 2, ""},
      {"cdiv(4, 0)", IntExprErrorKind::DivisionByZero, 8, ""},
      {"9223372036854775807 + 1", IntExprErrorKind::Overflow, 20, ""},
      {"-(0 - 9223372036854775807 - 1)", IntExprErrorKind::Overflow, 0, ""},
      {"99999999999999999999", IntExprErrorKind::LiteralOutOfRange, 0, ""},
      {"pow(2, 3)", IntExprErrorKind::UnknownFunction, 0, "pow"},
      {"min 3", IntExprErrorKind::ExpectedOpenParen, 4, "min"},
      {"max(1 2)", IntExprErrorKind::ExpectedComma, 6, "max"},
      {"cdiv(1, 2", IntExprErrorKind::ExpectedCallClose, 9, "cdiv"},
      {"bits(u4", IntExprErrorKind::ExpectedNameArgument, 7, "bits"},
      {"bits()", IntExprErrorKind::ExpectedNameArgument, 5, "bits"},
      {"2 * bits(u3)", IntExprErrorKind::UnknownNameArgument, 9, "bits(u3)"},
  };
  Values v = {{"bits(u4)", 4}};
  for (const Case &c : cases) {
    IntExprError error;
    std::optional<int64_t> got = eval(c.text, v, error);
    ASSERT_FALSE(got) << c.text;
    EXPECT_EQ(error.kind, c.kind) << c.text;
    EXPECT_EQ(error.offset, c.offset) << c.text;
    EXPECT_EQ(error.name, c.name) << c.text;
  }
  IntExprError error;
  EXPECT_EQ(eval("2 * bits( u4 ) - cdiv(-7, 2)", v, error), 8 + 3);
}

TEST(IntExprTest, NestingIsBoundedNotRecursedInto) {
  for (const char *open : {"(", "-", "max(1, ", "- ("}) {
    bool minus = std::string(open) == "-";
    std::string close = minus ? "" : ")";
    // "- (" is two levels: the minus and the parenthesis.
    unsigned levels = std::string(open) == "- (" ? 2 : 1;
    for (unsigned limit : {1u, 16u, 256u}) {
      IntExprOptions options;
      options.maxDepth = limit;
      // limit - 1 levels around the literal's own one are accepted.
      unsigned fits = (limit - 1) / levels;
      std::string fine, deep;
      for (unsigned i = 0; i < fits; ++i)
        fine += open;
      fine += "7";
      for (unsigned i = 0; i < fits; ++i)
        fine += close;
      IntExprError error;
      std::optional<int64_t> got = evaluateIntExpr(fine, options, error);
      ASSERT_TRUE(got) << open << " " << limit;
      EXPECT_EQ(std::abs(*got), 7);
      // 100,000 levels: an error at the first level past the limit.
      for (int i = 0; i < 100000; ++i)
        deep += open;
      deep += "7";
      for (int i = 0; i < 100000; ++i)
        deep += close;
      EXPECT_FALSE(evaluateIntExpr(deep, options, error));
      EXPECT_EQ(error.kind, IntExprErrorKind::NestingTooDeep) << open;
    }
  }
}

} // namespace
