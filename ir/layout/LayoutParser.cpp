//===- LayoutParser.cpp - Text form of register and shared layouts --------===//
//
// Grammar (whitespace is ignored between tokens):
//
//   register-expr := register-term ('*' register-term)*
//   register-term := register-atom ('.' call)*
//   register-atom := call | '(' register-expr ')'
//   call          := name '(' [int (',' int)*] ')'
//                  | 'layout' '(' 'shape' '=' list ',' 'modes' '=' list ','
//                                 'spatial' '=' list ',' 'local' '=' list ')'
//   name          := local | spatial | column_local | column_spatial
//                  | replicate
//
//   shared-expr   := shared-term ('*' shared-term)*
//   shared-term   := 'shared' '(' ints ')' ['.' form] ('.' extra)*
//   form          := row_major() | column_major() | strides(ints)
//                  | modes('[' [int ':' int (',' int ':' int)*] ']', ...)
//   extra         := offset(int) | swizzle(int, int, int)
//
// Parentheses nest at most kMaxNestingDepth (ir/Limits.h) deep, so that no
// input can overflow the stack of this recursive descent.
//
//===----------------------------------------------------------------------===//

#include "ir/Limits.h"
#include "ir/layout/RegisterLayout.h"
#include "ir/layout/SharedLayout.h"

#include <cctype>
#include <optional>

using namespace tilus;

namespace {

/// Sizes beyond this are rejected so that no product of them overflows.
constexpr int64_t kMaxExtent = int64_t(1) << 31;

struct Token {
  enum Kind { Ident, Int, Punct, End, Bad } kind = End;
  std::string_view text;
  size_t offset = 0;
  int64_t value = 0;
};

class Lexer {
public:
  explicit Lexer(std::string_view text) : text(text) { advance(); }

  const Token &peek() const { return current; }
  Token take() {
    Token t = current;
    advance();
    return t;
  }

private:
  void advance() {
    while (pos < text.size() &&
           std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
    current = Token();
    current.offset = pos;
    if (pos >= text.size()) {
      current.kind = Token::End;
      return;
    }
    char c = text[pos];
    size_t start = pos;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (pos < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[pos])) ||
              text[pos] == '_'))
        ++pos;
      current.kind = Token::Ident;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '-' && pos + 1 < text.size() &&
                std::isdigit(static_cast<unsigned char>(text[pos + 1])))) {
      bool negative = c == '-';
      if (negative)
        ++pos;
      int64_t value = 0;
      bool overflow = false;
      while (pos < text.size() &&
             std::isdigit(static_cast<unsigned char>(text[pos]))) {
        value = value * 10 + (text[pos] - '0');
        if (value > kMaxExtent)
          overflow = true, value = kMaxExtent + 1;
        ++pos;
      }
      current.kind = overflow ? Token::Bad : Token::Int;
      current.value = negative ? -value : value;
    } else if (std::string_view("()[],.*=:").find(c) !=
               std::string_view::npos) {
      ++pos;
      current.kind = Token::Punct;
    } else {
      ++pos;
      current.kind = Token::Bad;
    }
    current.text = text.substr(start, pos - start);
  }

  std::string_view text;
  size_t pos = 0;
  Token current;
};

std::string describe(const Token &t) {
  switch (t.kind) {
  case Token::End:
    return "end of input";
  case Token::Bad:
    return t.text.size() > 1
               ? "number '" + std::string(t.text) + "' too large"
               : "unexpected character '" + std::string(t.text) + "'";
  default:
    return "'" + std::string(t.text) + "'";
  }
}

/// Shared machinery of both parsers: tokens, expectations and the first error.
class ParserBase {
protected:
  explicit ParserBase(std::string_view text) : lex(text) {}

  bool failed() const { return error.has_value(); }
  bool fail(size_t offset, std::string message) {
    if (!error)
      error = LayoutError{offset, std::move(message)};
    return false;
  }
  bool isPunct(char c) const {
    return lex.peek().kind == Token::Punct && lex.peek().text[0] == c;
  }
  bool consumePunct(char c) {
    if (!isPunct(c))
      return false;
    lex.take();
    return true;
  }
  bool expectPunct(char c, const char *context) {
    if (consumePunct(c))
      return true;
    return fail(lex.peek().offset, std::string("expected '") + c + "' " +
                                       context + ", got " +
                                       describe(lex.peek()));
  }
  bool expectInt(int64_t &value, const char *context) {
    if (lex.peek().kind != Token::Int)
      return fail(lex.peek().offset, std::string("expected an integer ") +
                                         context + ", got " +
                                         describe(lex.peek()));
    value = lex.take().value;
    return true;
  }
  /// Parses `int (',' int)*` up to (not including) `close`.
  bool parseInts(char close, std::vector<int64_t> &values,
                 std::vector<size_t> *offsets = nullptr) {
    if (isPunct(close))
      return true;
    do {
      size_t offset = lex.peek().offset;
      int64_t v;
      if (!expectInt(v, "in the argument list"))
        return false;
      values.push_back(v);
      if (offsets)
        offsets->push_back(offset);
    } while (consumePunct(','));
    return true;
  }
  bool expectEnd() {
    if (lex.peek().kind == Token::End)
      return true;
    return fail(lex.peek().offset,
                "unexpected " + describe(lex.peek()) + " after the layout");
  }

  Lexer lex;
  std::optional<LayoutError> error;
};

bool checkedMul(int64_t a, int64_t b, int64_t &out) {
  if (a != 0 && b > kMaxExtent / a)
    return false;
  out = a * b;
  return true;
}

class RegisterParser : ParserBase {
public:
  explicit RegisterParser(std::string_view text) : ParserBase(text) {}

  LayoutResult<RegisterLayout> run() {
    std::optional<RegisterLayout> result = parseExpr();
    if (result && expectEnd())
      return *result;
    return *error;
  }

private:
  std::optional<RegisterLayout> parseExpr() {
    std::optional<RegisterLayout> lhs = parseTerm();
    while (lhs && isPunct('*')) {
      size_t offset = lex.take().offset;
      std::optional<RegisterLayout> rhs = parseTerm();
      if (!rhs)
        return std::nullopt;
      lhs = compose(*lhs, *rhs, offset);
    }
    return lhs;
  }

  std::optional<RegisterLayout> parseTerm() {
    std::optional<RegisterLayout> lhs;
    if (isPunct('(')) {
      if (depth == kMaxNestingDepth) {
        fail(lex.peek().offset, "parentheses nest deeper than " +
                                    std::to_string(kMaxNestingDepth) +
                                    " levels");
        return std::nullopt;
      }
      lex.take();
      ++depth;
      lhs = parseExpr();
      --depth;
      if (!lhs || !expectPunct(')', "to close the parenthesis"))
        return std::nullopt;
    } else {
      lhs = parseCall();
    }
    while (lhs && isPunct('.')) {
      size_t offset = lex.take().offset;
      std::optional<RegisterLayout> rhs = parseCall();
      if (!rhs)
        return std::nullopt;
      lhs = compose(*lhs, *rhs, offset);
    }
    return lhs;
  }

  unsigned depth = 0; ///< open parentheses

  std::optional<RegisterLayout>
  compose(const RegisterLayout &a, const RegisterLayout &b, size_t offset) {
    int64_t t, m, s;
    bool ok = checkedMul(a.numThreads(), b.numThreads(), t) &&
              checkedMul(a.numLocals(), b.numLocals(), m) &&
              checkedMul(a.size(), b.size(), s);
    if (!ok) {
      fail(offset, "layout too large: more than 2^31 threads, locals or "
                   "elements");
      return std::nullopt;
    }
    return a * b;
  }

  std::optional<RegisterLayout> parseCall() {
    Token name = lex.peek();
    if (name.kind != Token::Ident) {
      fail(name.offset, "expected a layout primitive (local, spatial, "
                        "column_local, column_spatial, replicate, layout), "
                        "got " +
                            describe(name));
      return std::nullopt;
    }
    lex.take();
    if (name.text == "layout")
      return parseGeneral(name);
    bool known = name.text == "local" || name.text == "spatial" ||
                 name.text == "column_local" || name.text == "column_spatial" ||
                 name.text == "replicate";
    if (!known) {
      fail(name.offset, "unknown layout primitive '" + std::string(name.text) +
                            "'; expected local, spatial, column_local, "
                            "column_spatial, replicate or layout");
      return std::nullopt;
    }
    if (!expectPunct('(', ("after '" + std::string(name.text) + "'").c_str()))
      return std::nullopt;
    std::vector<int64_t> args;
    std::vector<size_t> offsets;
    if (!parseInts(')', args, &offsets))
      return std::nullopt;
    size_t close = lex.peek().offset;
    if (!expectPunct(')', "to close the argument list"))
      return std::nullopt;
    int64_t product = 1;
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i] < 1) {
        fail(offsets[i],
             "layout sizes must be positive, got " + std::to_string(args[i]));
        return std::nullopt;
      }
      if (!checkedMul(product, args[i], product)) {
        fail(offsets[i], "layout too large: more than 2^31 elements");
        return std::nullopt;
      }
    }
    if (name.text == "replicate") {
      if (args.size() != 1) {
        fail(args.empty() ? close : offsets[1],
             "replicate takes exactly one size, got " +
                 std::to_string(args.size()));
        return std::nullopt;
      }
      return layout::replicate(args[0]);
    }
    if (name.text == "local")
      return layout::local(args);
    if (name.text == "spatial")
      return layout::spatial(args);
    if (name.text == "column_local")
      return layout::columnLocal(args);
    return layout::columnSpatial(args);
  }

  /// `layout(shape=[..], modes=[..], spatial=[..], local=[..])`.
  std::optional<RegisterLayout> parseGeneral(const Token &name) {
    if (!expectPunct('(', "after 'layout'"))
      return std::nullopt;
    static const char *const keys[] = {"shape", "modes", "spatial", "local"};
    std::vector<int64_t> lists[4];
    for (int k = 0; k < 4; ++k) {
      if (k && !expectPunct(',', "between the fields of 'layout'"))
        return std::nullopt;
      Token key = lex.peek();
      if (key.kind != Token::Ident || key.text != keys[k]) {
        fail(key.offset, std::string("expected '") + keys[k] +
                             "=' in 'layout', got " + describe(key));
        return std::nullopt;
      }
      lex.take();
      if (!expectPunct('=', "after the field name") ||
          !expectPunct('[', "to open the list") || !parseInts(']', lists[k]) ||
          !expectPunct(']', "to close the list"))
        return std::nullopt;
    }
    if (!expectPunct(')', "to close 'layout'"))
      return std::nullopt;
    int64_t threads = 1, elements = 1;
    for (int64_t s : lists[0])
      if (s < 1 || !checkedMul(elements, s, elements)) {
        fail(name.offset, "layout shape entries must be positive and multiply "
                          "to at most 2^31");
        return std::nullopt;
      }
    for (int64_t e : lists[2])
      if (e < 0 && !checkedMul(threads, -e, threads)) {
        fail(name.offset, "layout too large: more than 2^31 threads");
        return std::nullopt;
      }
    LayoutResult<RegisterLayout> layout =
        RegisterLayout::create(lists[0], lists[1], lists[2], lists[3]);
    if (!layout) {
      fail(name.offset, "invalid layout: " + layout.error().message);
      return std::nullopt;
    }
    return *layout;
  }
};

class SharedParser : ParserBase {
public:
  explicit SharedParser(std::string_view text) : ParserBase(text) {}

  LayoutResult<SharedLayout> run() {
    std::optional<SharedLayout> lhs = parseTerm();
    while (lhs && isPunct('*')) {
      size_t offset = lex.take().offset;
      std::optional<SharedLayout> rhs = parseTerm();
      if (!rhs)
        return *error;
      LayoutResult<SharedLayout> composed = lhs->compose(*rhs);
      if (!composed) {
        fail(offset, composed.error().message);
        return *error;
      }
      if (composed->cosize() > kMaxExtent) {
        fail(offset, "layout too large: offsets beyond 2^31");
        return *error;
      }
      lhs = *composed;
    }
    if (lhs && expectEnd())
      return *lhs;
    return *error;
  }

private:
  std::optional<SharedLayout> parseTerm() {
    Token head = lex.peek();
    if (head.kind != Token::Ident || head.text != "shared") {
      fail(head.offset, "expected 'shared(...)', got " + describe(head));
      return std::nullopt;
    }
    lex.take();
    std::vector<int64_t> shape;
    std::vector<size_t> offsets;
    if (!expectPunct('(', "after 'shared'") ||
        !parseInts(')', shape, &offsets) ||
        !expectPunct(')', "to close the shape"))
      return std::nullopt;
    int64_t elements = 1;
    for (size_t i = 0; i < shape.size(); ++i)
      if (shape[i] < 1 || !checkedMul(elements, shape[i], elements)) {
        fail(offsets[i], "shape entries must be positive and multiply to at "
                         "most 2^31");
        return std::nullopt;
      }
    SharedLayout layout = SharedLayout::rowMajor(shape);
    bool formSeen = false, extraSeen = false;
    while (isPunct('.')) {
      lex.take();
      Token method = lex.peek();
      if (method.kind != Token::Ident) {
        fail(method.offset, "expected a method name, got " + describe(method));
        return std::nullopt;
      }
      lex.take();
      std::string_view m = method.text;
      bool isForm = m == "row_major" || m == "column_major" || m == "strides" ||
                    m == "modes";
      if (!isForm && m != "offset" && m != "swizzle") {
        fail(method.offset,
             "unknown shared layout method '" + std::string(m) +
                 "'; expected row_major, column_major, strides, modes, "
                 "offset or swizzle");
        return std::nullopt;
      }
      if (isForm && (formSeen || extraSeen)) {
        fail(method.offset, "'" + std::string(m) +
                                "' must come first and only once after "
                                "'shared(...)'");
        return std::nullopt;
      }
      formSeen = formSeen || isForm;
      extraSeen = extraSeen || !isForm;
      if (!expectPunct('(', "after the method name"))
        return std::nullopt;
      LayoutResult<SharedLayout> next = layout;
      if (m == "modes") {
        std::vector<std::vector<SharedMode>> modes;
        if (!parseModes(modes))
          return std::nullopt;
        next = SharedLayout::create(shape, modes, layout.offset(),
                                    layout.swizzle());
      } else {
        std::vector<int64_t> args;
        std::vector<size_t> argOffsets;
        if (!parseInts(')', args, &argOffsets))
          return std::nullopt;
        size_t expected = m == "strides"   ? shape.size()
                          : m == "offset"  ? 1
                          : m == "swizzle" ? 3
                                           : 0;
        if (args.size() != expected) {
          fail(method.offset,
               "'" + std::string(m) + "' takes " + std::to_string(expected) +
                   " arguments, got " + std::to_string(args.size()));
          return std::nullopt;
        }
        for (size_t i = 0; i < args.size(); ++i)
          if (args[i] < 0) {
            fail(argOffsets[i],
                 "arguments of '" + std::string(m) + "' must be non-negative");
            return std::nullopt;
          }
        if (m == "row_major")
          next = SharedLayout::rowMajor(shape);
        else if (m == "column_major")
          next = SharedLayout::columnMajor(shape);
        else if (m == "strides")
          next = SharedLayout::strided(shape, args);
        else if (m == "offset")
          next = layout.withOffset(args[0]);
        else
          next = layout.withSwizzle(Swizzle{args[0], args[1], args[2]});
      }
      if (!expectPunct(')', "to close the argument list"))
        return std::nullopt;
      if (!next) {
        fail(method.offset, next.error().message);
        return std::nullopt;
      }
      if (next->cosize() > kMaxExtent) {
        fail(method.offset, "layout too large: offsets beyond 2^31");
        return std::nullopt;
      }
      layout = *next;
    }
    return layout;
  }

  /// `[size:stride, ...], [...]` up to the closing parenthesis.
  bool parseModes(std::vector<std::vector<SharedMode>> &modes) {
    if (isPunct(')'))
      return true;
    do {
      if (!expectPunct('[', "to open a dimension's mode list"))
        return false;
      modes.emplace_back();
      if (!isPunct(']')) {
        do {
          SharedMode mode;
          size_t offset = lex.peek().offset;
          if (!expectInt(mode.size, "(mode size)") ||
              !expectPunct(':', "between mode size and stride") ||
              !expectInt(mode.stride, "(mode stride)"))
            return false;
          if (mode.size < 1 || mode.stride < 0)
            return fail(offset, "a mode needs a positive size and a "
                                "non-negative stride");
          modes.back().push_back(mode);
        } while (consumePunct(','));
      }
      if (!expectPunct(']', "to close a dimension's mode list"))
        return false;
    } while (consumePunct(','));
    return true;
  }
};

} // namespace

LayoutResult<RegisterLayout> tilus::parseRegisterLayout(std::string_view text) {
  return RegisterParser(text).run();
}

LayoutResult<SharedLayout> tilus::parseSharedLayout(std::string_view text) {
  return SharedParser(text).run();
}
