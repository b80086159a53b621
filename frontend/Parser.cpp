//===- Parser.cpp - Lexer and recursive-descent parser --------------------===//
//
// The grammar is documented in docs/language.md. After an error the parser
// recovers at the next statement (it skips past the next `;` at the
// statement's brace depth, or past the braces the statement opened) and, for
// an error in a kernel's header, at the next `kernel NAME`, so that one run
// reports every independent error; the module is returned only without any.
//
// Nesting is bounded by kMaxNestingDepth (ir/Limits.h) twice over: the
// parser's own recursion (blocks, else-if chains, parentheses, brackets,
// call arguments, unary operators) and the height of every expression tree
// it builds, since a flat chain `a + a + ... + a` is parsed by a loop but
// builds a tree as deep as it is long, and MLIRGen, the printers and the
// destructors recurse on that tree.
//
//===----------------------------------------------------------------------===//

#include "frontend/Parser.h"

#include "ir/Limits.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

using namespace tilus;
using namespace tilus::ast;
using llvm::SMLoc;
using llvm::StringRef;

namespace {

enum class Tok {
  Eof,
  Error,
  Ident,
  Int,
  Float,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Less,
  Greater,
  Comma,
  Colon,
  Semi,
  Assign,
  Dot,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  EqEq,
  NotEq,
  LessEq,
  GreaterEq,
  AndAnd,
  OrOr,
  Bang,
  Amp,
  Pipe,
  Caret,
  Tilde,
  Shl,
  Shr,
  String,
};

struct Token {
  Tok kind = Tok::Eof;
  StringRef text;
  SMLoc loc() const { return SMLoc::getFromPointer(text.data()); }
};

const char *describe(Tok kind) {
  switch (kind) {
  case Tok::Eof:
    return "end of file";
  case Tok::Error:
    return "invalid character";
  case Tok::Ident:
    return "identifier";
  case Tok::Int:
    return "integer";
  case Tok::Float:
    return "number";
  case Tok::LParen:
    return "'('";
  case Tok::RParen:
    return "')'";
  case Tok::LBracket:
    return "'['";
  case Tok::RBracket:
    return "']'";
  case Tok::LBrace:
    return "'{'";
  case Tok::RBrace:
    return "'}'";
  case Tok::Less:
    return "'<'";
  case Tok::Greater:
    return "'>'";
  case Tok::Comma:
    return "','";
  case Tok::Colon:
    return "':'";
  case Tok::Semi:
    return "';'";
  case Tok::Assign:
    return "'='";
  case Tok::Dot:
    return "'.'";
  case Tok::Plus:
    return "'+'";
  case Tok::Minus:
    return "'-'";
  case Tok::Star:
    return "'*'";
  case Tok::Slash:
    return "'/'";
  case Tok::Percent:
    return "'%'";
  case Tok::EqEq:
    return "'=='";
  case Tok::NotEq:
    return "'!='";
  case Tok::LessEq:
    return "'<='";
  case Tok::GreaterEq:
    return "'>='";
  case Tok::AndAnd:
    return "'&&'";
  case Tok::OrOr:
    return "'||'";
  case Tok::Bang:
    return "'!'";
  case Tok::Amp:
    return "'&'";
  case Tok::Pipe:
    return "'|'";
  case Tok::Caret:
    return "'^'";
  case Tok::Tilde:
    return "'~'";
  case Tok::Shl:
    return "'<<'";
  case Tok::Shr:
    return "'>>'";
  case Tok::String:
    return "string";
  }
  return "token";
}

class Lexer {
public:
  explicit Lexer(StringRef buffer) : cur(buffer.begin()), end(buffer.end()) {}

  Token next() {
    skipSpaceAndComments();
    const char *start = cur;
    if (cur == end)
      return {Tok::Eof, StringRef(cur, 0)};
    char c = *cur++;
    if (isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (cur != end && (isalnum(static_cast<unsigned char>(*cur)) ||
                            *cur == '_'))
        ++cur;
      return make(Tok::Ident, start);
    }
    if (isdigit(static_cast<unsigned char>(c)))
      return lexNumber(start);
    switch (c) {
    case '(':
      return make(Tok::LParen, start);
    case ')':
      return make(Tok::RParen, start);
    case '[':
      return make(Tok::LBracket, start);
    case ']':
      return make(Tok::RBracket, start);
    case '{':
      return make(Tok::LBrace, start);
    case '}':
      return make(Tok::RBrace, start);
    case '<':
      if (follows('<'))
        return make(Tok::Shl, start);
      return make(follows('=') ? Tok::LessEq : Tok::Less, start);
    case '>':
      if (follows('>'))
        return make(Tok::Shr, start);
      return make(follows('=') ? Tok::GreaterEq : Tok::Greater, start);
    case '!':
      return make(follows('=') ? Tok::NotEq : Tok::Bang, start);
    case '&':
      return make(follows('&') ? Tok::AndAnd : Tok::Amp, start);
    case '|':
      return make(follows('|') ? Tok::OrOr : Tok::Pipe, start);
    case '^':
      return make(Tok::Caret, start);
    case '~':
      return make(Tok::Tilde, start);
    case '"':
      while (cur != end && *cur != '"' && *cur != '\n')
        ++cur;
      if (cur == end || *cur != '"')
        return make(Tok::Error, start);
      ++cur;
      return make(Tok::String, start);
    case ',':
      return make(Tok::Comma, start);
    case ':':
      return make(Tok::Colon, start);
    case ';':
      return make(Tok::Semi, start);
    case '=':
      return make(follows('=') ? Tok::EqEq : Tok::Assign, start);
    case '.':
      return make(Tok::Dot, start);
    case '+':
      return make(Tok::Plus, start);
    case '-':
      return make(Tok::Minus, start);
    case '*':
      return make(Tok::Star, start);
    case '/':
      return make(Tok::Slash, start);
    case '%':
      return make(Tok::Percent, start);
    default:
      return make(Tok::Error, start);
    }
  }

private:
  /// Consumes `c` if it is the next character.
  bool follows(char c) {
    if (cur != end && *cur == c) {
      ++cur;
      return true;
    }
    return false;
  }

  Token make(Tok kind, const char *start) {
    return {kind, StringRef(start, cur - start)};
  }

  void skipSpaceAndComments() {
    while (cur != end) {
      if (isspace(static_cast<unsigned char>(*cur))) {
        ++cur;
      } else if (*cur == '/' && cur + 1 != end && cur[1] == '/') {
        while (cur != end && *cur != '\n')
          ++cur;
      } else {
        return;
      }
    }
  }

  Token lexNumber(const char *start) {
    bool isFloat = false;
    auto digits = [&] {
      while (cur != end && isdigit(static_cast<unsigned char>(*cur)))
        ++cur;
    };
    digits();
    if (cur != end && *cur == '.' && cur + 1 != end &&
        isdigit(static_cast<unsigned char>(cur[1]))) {
      isFloat = true;
      ++cur;
      digits();
    }
    if (cur != end && (*cur == 'e' || *cur == 'E')) {
      const char *save = cur++;
      if (cur != end && (*cur == '+' || *cur == '-'))
        ++cur;
      if (cur != end && isdigit(static_cast<unsigned char>(*cur))) {
        isFloat = true;
        digits();
      } else {
        cur = save;
      }
    }
    return make(isFloat ? Tok::Float : Tok::Int, start);
  }

  const char *cur;
  const char *end;
};

class Parser {
public:
  Parser(StringRef buffer, DiagnosticEngine &diags)
      : lexer(buffer), diags(diags) {
    tok = lexer.next();
  }

  std::optional<Module> parseModule() {
    Module module;
    if (tok.kind == Tok::Eof) {
      diags.error(tok.loc(), "expected 'kernel'; the file defines no kernel");
      return std::nullopt;
    }
    unsigned errorsBefore = diags.getNumErrors();
    while (tok.kind != Tok::Eof && !diags.tooManyErrors()) {
      std::optional<Kernel> kernel = parseKernel();
      if (!kernel) {
        skipToKernel();
        continue;
      }
      module.kernels.push_back(std::move(*kernel));
    }
    module.recovered = diags.getNumErrors() != errorsBefore;
    return module;
  }

private:
  //===--------------------------------------------------------------------===//
  // Token helpers
  //===--------------------------------------------------------------------===//

  /// One level of the parser's recursion, entered at the current token.
  /// Only the innermost level past the limit reports; the callers unwind.
  class Nesting {
  public:
    Nesting(Parser &parser, const char *what) : parser(parser) {
      if (++parser.depth == kMaxNestingDepth + 1)
        parser.error(llvm::Twine(what) + " nest deeper than " +
                     llvm::Twine(kMaxNestingDepth) + " levels");
    }
    ~Nesting() { --parser.depth; }
    Nesting(const Nesting &) = delete;
    Nesting &operator=(const Nesting &) = delete;
    bool tooDeep() const { return parser.depth > kMaxNestingDepth; }

  private:
    Parser &parser;
  };

  /// Sets \p expr's height from its operands; false, with an error at the
  /// node, when it exceeds the limit.
  bool seal(Expr &expr) {
    expr.height = 1;
    for (const ExprPtr &operand : expr.operands)
      expr.height = std::max(expr.height, operand->height + 1);
    if (expr.height <= kMaxNestingDepth)
      return true;
    diags.error(expr.loc, "expression nests deeper than " +
                              llvm::Twine(kMaxNestingDepth) +
                              " levels; split it with intermediate variables");
    return false;
  }

  void consume() { tok = lexer.next(); }

  bool isKeyword(StringRef word) const {
    return tok.kind == Tok::Ident && tok.text == word;
  }

  /// The token after the current one, without consuming anything.
  Token peek() {
    Lexer saved = lexer;
    Token next = lexer.next();
    lexer = saved;
    return next;
  }

  bool error(const llvm::Twine &message) {
    if (tok.kind == Tok::Error && tok.text.starts_with("\""))
      diags.error(tok.loc(), "unterminated string");
    else if (tok.kind == Tok::Error)
      diags.error(tok.loc(), "invalid character '" + tok.text + "'");
    else
      diags.error(tok.loc(), message);
    return false;
  }

  //===--------------------------------------------------------------------===//
  // Recovery
  //===--------------------------------------------------------------------===//

  /// `kernel NAME`: where a kernel starts, and where recovery stops.
  bool atKernelStart() {
    return isKeyword("kernel") && peek().kind == Tok::Ident;
  }

  /// After an error in a statement, skips the rest of it: up to and past
  /// the next `;` outside the braces it opened, or past the `}` that closes
  /// the first brace it opened (and an `else` branch after it); stops
  /// before a `}` that closes the enclosing block, a `kernel NAME` and the
  /// end of the file.
  void skipStatement() {
    int braces = 0;
    while (tok.kind != Tok::Eof && !(braces == 0 && atKernelStart())) {
      switch (tok.kind) {
      case Tok::Semi:
        consume();
        if (braces == 0)
          return;
        break;
      case Tok::LBrace:
        ++braces;
        consume();
        break;
      case Tok::RBrace:
        if (braces == 0)
          return;
        consume();
        if (--braces == 0 && !isKeyword("else"))
          return;
        break;
      default:
        consume();
      }
    }
  }

  /// The Invalid statement standing for the source from `first` (lexed
  /// on by `lexer`) to the current token: it assigns each name written
  /// before a `=` or a `:` there.
  StmtPtr invalidStmt(Lexer lexer, Token first) {
    auto stmt = std::make_unique<Stmt>(Stmt::Kind::Invalid, first.loc());
    const char *stop = tok.text.data();
    for (Token t = first; t.kind != Tok::Eof && t.text.data() < stop;) {
      Token next = lexer.next();
      if (t.kind == Tok::Ident &&
          (next.kind == Tok::Assign || next.kind == Tok::Colon) &&
          !llvm::is_contained(stmt->assigns, t.text))
        stmt->assigns.push_back(t.text.str());
      t = next;
    }
    return stmt;
  }

  /// After an error in a kernel's header, skips to the next kernel.
  void skipToKernel() {
    while (tok.kind != Tok::Eof && !atKernelStart())
      consume();
  }

  bool expected(const llvm::Twine &what) {
    std::string found = tok.kind == Tok::Eof
                            ? std::string("end of file")
                            : ("'" + tok.text + "'").str();
    return error("expected " + what + ", found " + found);
  }

  bool expect(Tok kind, StringRef context = "") {
    if (tok.kind == kind) {
      consume();
      return true;
    }
    return expected(context.empty() ? llvm::Twine(describe(kind))
                                    : llvm::Twine(describe(kind)) + " " +
                                          context);
  }

  bool expectIdent(std::string &out, SMLoc &loc, StringRef what) {
    if (tok.kind != Tok::Ident)
      return expected(what);
    out = tok.text.str();
    loc = tok.loc();
    consume();
    return true;
  }

  bool parseInteger(int64_t &value) {
    if (tok.kind != Tok::Int)
      return expected("an integer");
    if (tok.text.getAsInteger(10, value))
      return error("integer '" + tok.text + "' is too large");
    consume();
    return true;
  }

  //===--------------------------------------------------------------------===//
  // Declarations
  //===--------------------------------------------------------------------===//

  std::optional<Kernel> parseKernel() {
    unclosedReported = false;
    Kernel kernel;
    kernel.loc = tok.loc();
    if (!isKeyword("kernel")) {
      expected("'kernel'");
      return std::nullopt;
    }
    consume();
    SMLoc nameLoc;
    if (!expectIdent(kernel.name, nameLoc, "a kernel name"))
      return std::nullopt;
    if (tok.kind == Tok::Less) {
      consume();
      do {
        ConstParam param;
        if (!expectIdent(param.name, param.loc,
                         "a compile-time parameter name") ||
            !expect(Tok::Assign, "after the compile-time parameter name"))
          return std::nullopt;
        // `>` closes the list, so defaults are arithmetic, not comparisons.
        param.defaultValue = parseBinary(binaryPrecedence("+"));
        if (!param.defaultValue)
          return std::nullopt;
        kernel.constParams.push_back(std::move(param));
      } while (tok.kind == Tok::Comma && (consume(), true));
      if (!expect(Tok::Greater, "to close the compile-time parameters"))
        return std::nullopt;
    }
    if (!expect(Tok::LParen, "to open the parameter list"))
      return std::nullopt;
    if (tok.kind != Tok::RParen) {
      do {
        std::optional<Param> param = parseParam();
        if (!param)
          return std::nullopt;
        kernel.params.push_back(std::move(*param));
      } while (tok.kind == Tok::Comma && (consume(), true));
    }
    if (!expect(Tok::RParen, "to close the parameter list"))
      return std::nullopt;
    while (isKeyword("grid") || isKeyword("warps")) {
      bool isGrid = tok.text == "grid";
      SMLoc clauseLoc = tok.loc();
      consume();
      if ((isGrid && !kernel.grid.empty()) || (!isGrid && kernel.warps)) {
        diags.error(clauseLoc, llvm::Twine("duplicate '") +
                                   (isGrid ? "grid" : "warps") + "' clause");
        return std::nullopt;
      }
      if (!expect(Tok::LParen))
        return std::nullopt;
      if (isGrid) {
        kernel.gridLoc = clauseLoc;
        if (!parseExprList(kernel.grid, Tok::RParen))
          return std::nullopt;
        if (kernel.grid.empty() || kernel.grid.size() > 3) {
          diags.error(clauseLoc, "'grid' expects one to three extents");
          return std::nullopt;
        }
      } else {
        kernel.warps = parseExpr();
        if (!kernel.warps || !expect(Tok::RParen))
          return std::nullopt;
      }
    }
    if (kernel.grid.empty()) {
      expected("a 'grid(...)' clause");
      return std::nullopt;
    }
    if (!kernel.warps) {
      expected("a 'warps(...)' clause");
      return std::nullopt;
    }
    if (!parseBlock(kernel.body))
      return std::nullopt;
    return kernel;
  }

  std::optional<Param> parseParam() {
    Param param;
    if (!expectIdent(param.name, param.loc, "a parameter name") ||
        !expect(Tok::Colon, "after the parameter name"))
      return std::nullopt;
    if (isKeyword("global")) {
      param.isGlobal = true;
      consume();
    }
    if (!expectIdent(param.dtype, param.dtypeLoc, "a data type"))
      return std::nullopt;
    if (param.isGlobal) {
      if (!expect(Tok::LBracket, "to open the tensor's shape") ||
          !parseExprList(param.shape, Tok::RBracket))
        return std::nullopt;
      if (param.shape.empty()) {
        diags.error(param.loc, "global tensor '" + param.name +
                                   "' needs at least one extent");
        return std::nullopt;
      }
    } else if (tok.kind == Tok::Percent) {
      // `%128`, `%BN` or `%(2 * BN)`; the value is checked where the
      // compile-time parameters are known.
      consume();
      param.divisibility = parsePrimary();
      if (!param.divisibility)
        return std::nullopt;
    }
    return param;
  }

  //===--------------------------------------------------------------------===//
  // Statements
  //===--------------------------------------------------------------------===//

  /// Parses `{ stmt* }`. A statement with an error is reported, skipped and
  /// left out (an Invalid statement stands for it); the block fails only
  /// where it cannot be closed (the end of the file, a `kernel NAME`, the
  /// nesting limit, the error limit). Past the nesting limit, the statement that crossed it is
  /// skipped like any other.
  bool parseBlock(std::vector<StmtPtr> &body) {
    Nesting nesting(*this, "blocks");
    if (nesting.tooDeep() || !expect(Tok::LBrace, "to open a block"))
      return false;
    while (tok.kind != Tok::RBrace) {
      // The innermost open block reports the missing `}`; the blocks around
      // it (and the kernel) fail without another error.
      if (tok.kind == Tok::Eof || atKernelStart()) {
        if (!unclosedReported)
          expected("'}' to close the block");
        unclosedReported = true;
        return false;
      }
      Lexer lexerAtStmt = lexer;
      Token tokAtStmt = tok;
      StmtPtr stmt = parseStmt();
      if (!stmt) {
        if (diags.tooManyErrors())
          return false;
        skipStatement();
        body.push_back(invalidStmt(lexerAtStmt, tokAtStmt));
        continue;
      }
      body.push_back(std::move(stmt));
    }
    consume();
    return true;
  }

  StmtPtr parseStmt() {
    SMLoc loc = tok.loc();
    if (isKeyword("if"))
      return parseIf();
    if (isKeyword("while")) {
      consume();
      auto stmt = std::make_unique<Stmt>(Stmt::Kind::While, loc);
      stmt->value = parseExpr();
      if (!stmt->value || !parseBlock(stmt->body))
        return nullptr;
      return stmt;
    }
    if (isKeyword("thread_group") && peek().kind == Tok::LParen) {
      consume();
      auto stmt = std::make_unique<Stmt>(Stmt::Kind::Group, loc);
      std::vector<ExprPtr> bounds;
      SMLoc boundsLoc = tok.loc();
      if (!expect(Tok::LParen) || !parseExprList(bounds, Tok::RParen))
        return nullptr;
      if (bounds.size() != 2) {
        diags.error(boundsLoc,
                    "'thread_group' expects (first_warp, num_warps)");
        return nullptr;
      }
      stmt->start = std::move(bounds[0]);
      stmt->stop = std::move(bounds[1]);
      if (!parseBlock(stmt->body))
        return nullptr;
      return stmt;
    }
    if (isKeyword("break")) {
      consume();
      if (!expect(Tok::Semi, "after 'break'"))
        return nullptr;
      return std::make_unique<Stmt>(Stmt::Kind::Break, loc);
    }
    if (tok.kind == Tok::Ident && peek().kind == Tok::Colon)
      return parseAnnotatedAssign();
    if (isKeyword("for")) {
      consume();
      auto stmt = std::make_unique<Stmt>(Stmt::Kind::For, loc);
      if (!expectIdent(stmt->name, stmt->nameLoc, "a loop variable"))
        return nullptr;
      if (!isKeyword("in")) {
        expected("'in'");
        return nullptr;
      }
      consume();
      if (!isKeyword("range")) {
        expected("'range'");
        return nullptr;
      }
      SMLoc rangeLoc = tok.loc();
      consume();
      std::vector<ExprPtr> bounds;
      if (!expect(Tok::LParen) || !parseExprList(bounds, Tok::RParen))
        return nullptr;
      if (bounds.size() < 2 || bounds.size() > 3) {
        diags.error(rangeLoc,
                    "'range' expects (start, stop) or (start, stop, step)");
        return nullptr;
      }
      stmt->start = std::move(bounds[0]);
      stmt->stop = std::move(bounds[1]);
      if (bounds.size() == 3)
        stmt->step = std::move(bounds[2]);
      if (isKeyword("unroll")) {
        consume();
        int64_t factor;
        SMLoc factorLoc = tok.loc();
        if (!expect(Tok::LParen, "after 'unroll'") || !parseInteger(factor) ||
            !expect(Tok::RParen, "to close 'unroll('"))
          return nullptr;
        if (factor < 1) {
          diags.error(factorLoc, "the unroll factor must be positive");
          return nullptr;
        }
        stmt->unroll = factor;
      }
      if (!parseBlock(stmt->body))
        return nullptr;
      return stmt;
    }
    ExprPtr expr = parseExpr();
    if (!expr)
      return nullptr;
    StmtPtr stmt;
    if (tok.kind == Tok::Assign) {
      if (expr->kind != Expr::Kind::Name) {
        error("the left side of '=' must be a variable name");
        return nullptr;
      }
      consume();
      stmt = std::make_unique<Stmt>(Stmt::Kind::Assign, loc);
      stmt->name = expr->name;
      stmt->nameLoc = expr->loc;
      stmt->value = parseExpr();
      if (!stmt->value)
        return nullptr;
    } else {
      stmt = std::make_unique<Stmt>(Stmt::Kind::Expr, loc);
      stmt->value = std::move(expr);
    }
    if (!expect(Tok::Semi, "after the statement"))
      return nullptr;
    return stmt;
  }

  StmtPtr parseIf() {
    auto stmt = std::make_unique<Stmt>(Stmt::Kind::If, tok.loc());
    consume();
    stmt->value = parseExpr();
    if (!stmt->value || !parseBlock(stmt->body))
      return nullptr;
    if (!isKeyword("else"))
      return stmt;
    consume();
    if (isKeyword("if")) {
      // An else-if chain is an if nested in the else branch.
      Nesting nesting(*this, "blocks");
      if (nesting.tooDeep())
        return nullptr;
      StmtPtr nested = parseIf();
      if (!nested)
        return nullptr;
      stmt->elseBody.push_back(std::move(nested));
      return stmt;
    }
    if (!parseBlock(stmt->elseBody))
      return nullptr;
    return stmt;
  }

  /// `name: layout = value;`: the layout is kept as text for the layout
  /// parser, which reports its own errors at an offset into it.
  StmtPtr parseAnnotatedAssign() {
    auto stmt = std::make_unique<Stmt>(Stmt::Kind::Assign, tok.loc());
    stmt->name = tok.text.str();
    stmt->nameLoc = tok.loc();
    consume();
    consume(); // ':'
    stmt->layoutLoc = tok.loc();
    const char *begin = tok.text.data();
    while (tok.kind != Tok::Assign && tok.kind != Tok::Semi &&
           tok.kind != Tok::Eof && tok.kind != Tok::Error)
      consume();
    if (tok.kind != Tok::Assign) {
      expected("'=' after the layout annotation");
      return nullptr;
    }
    stmt->layout = StringRef(begin, tok.text.data() - begin).rtrim().str();
    if (stmt->layout.empty()) {
      error("expected a layout after ':'");
      return nullptr;
    }
    consume();
    stmt->value = parseExpr();
    if (!stmt->value || !expect(Tok::Semi, "after the statement"))
      return nullptr;
    return stmt;
  }

  //===--------------------------------------------------------------------===//
  // Expressions
  //===--------------------------------------------------------------------===//

  /// Parses `expr (, expr)* close`, allowing an empty list.
  bool parseExprList(std::vector<ExprPtr> &out, Tok close) {
    if (tok.kind != close) {
      do {
        ExprPtr expr = parseExpr();
        if (!expr)
          return false;
        out.push_back(std::move(expr));
      } while (tok.kind == Tok::Comma && (consume(), true));
    }
    return expect(close, "to close the list");
  }

  ExprPtr parseExpr() { return parseBinary(1); }

  static bool isBinaryOperator(Tok kind) {
    switch (kind) {
    case Tok::Plus:
    case Tok::Minus:
    case Tok::Star:
    case Tok::Slash:
    case Tok::Percent:
    case Tok::Less:
    case Tok::Greater:
    case Tok::LessEq:
    case Tok::GreaterEq:
    case Tok::EqEq:
    case Tok::NotEq:
    case Tok::AndAnd:
    case Tok::OrOr:
    case Tok::Amp:
    case Tok::Pipe:
    case Tok::Caret:
    case Tok::Shl:
    case Tok::Shr:
      return true;
    default:
      return false;
    }
  }

  /// Precedence climbing over the operators of binaryPrecedence; all are
  /// left-associative.
  ExprPtr parseBinary(int minPrecedence) {
    ExprPtr lhs = parseUnary();
    while (lhs && isBinaryOperator(tok.kind) &&
           binaryPrecedence(tok.text) >= minPrecedence) {
      std::string op = tok.text.str();
      SMLoc loc = tok.loc();
      consume();
      ExprPtr rhs = parseBinary(binaryPrecedence(op) + 1);
      if (!rhs)
        return nullptr;
      auto expr = std::make_unique<Expr>(Expr::Kind::Binary, loc);
      expr->op = op;
      expr->operands.push_back(std::move(lhs));
      expr->operands.push_back(std::move(rhs));
      if (!seal(*expr))
        return nullptr;
      lhs = std::move(expr);
    }
    return lhs;
  }

  ExprPtr parseUnary() {
    if (tok.kind == Tok::Minus || tok.kind == Tok::Bang ||
        tok.kind == Tok::Tilde) {
      Nesting nesting(*this, "expressions");
      if (nesting.tooDeep())
        return nullptr;
      SMLoc loc = tok.loc();
      std::string op = tok.text.str();
      consume();
      ExprPtr operand = parseUnary();
      if (!operand)
        return nullptr;
      auto expr = std::make_unique<Expr>(Expr::Kind::Unary, loc);
      expr->op = op;
      expr->operands.push_back(std::move(operand));
      if (!seal(*expr))
        return nullptr;
      return expr;
    }
    return parsePostfix();
  }

  ExprPtr parsePostfix() {
    ExprPtr expr = parsePrimary();
    if (!expr || expr->kind != Expr::Kind::Name)
      return expr;
    if (tok.kind == Tok::LParen) {
      Nesting nesting(*this, "expressions");
      if (nesting.tooDeep())
        return nullptr;
      consume();
      expr->kind = Expr::Kind::Call;
      if (!parseExprList(expr->operands, Tok::RParen) || !seal(*expr))
        return nullptr;
    } else if (tok.kind == Tok::Dot) {
      consume();
      if (tok.kind != Tok::Ident) {
        expected("a member name after '.'");
        return nullptr;
      }
      expr->kind = Expr::Kind::Member;
      expr->member = tok.text.str();
      consume();
    }
    return expr;
  }

  ExprPtr parsePrimary() {
    SMLoc loc = tok.loc();
    switch (tok.kind) {
    case Tok::Int: {
      auto expr = std::make_unique<Expr>(Expr::Kind::IntLiteral, loc);
      if (!parseInteger(expr->intValue))
        return nullptr;
      return expr;
    }
    case Tok::Float: {
      auto expr = std::make_unique<Expr>(Expr::Kind::FloatLiteral, loc);
      std::string text = tok.text.str();
      errno = 0;
      expr->floatValue = std::strtod(text.c_str(), nullptr);
      if (errno == ERANGE) {
        error("number '" + tok.text + "' is out of range");
        return nullptr;
      }
      consume();
      return expr;
    }
    case Tok::Ident: {
      auto expr = std::make_unique<Expr>(Expr::Kind::Name, loc);
      expr->name = tok.text.str();
      consume();
      return expr;
    }
    case Tok::String: {
      auto expr = std::make_unique<Expr>(Expr::Kind::String, loc);
      expr->name = tok.text.drop_front().drop_back().str();
      consume();
      return expr;
    }
    case Tok::LBracket: {
      Nesting nesting(*this, "expressions");
      if (nesting.tooDeep())
        return nullptr;
      consume();
      auto expr = std::make_unique<Expr>(Expr::Kind::List, loc);
      if (!parseExprList(expr->operands, Tok::RBracket) || !seal(*expr))
        return nullptr;
      return expr;
    }
    case Tok::LParen: {
      Nesting nesting(*this, "expressions");
      if (nesting.tooDeep())
        return nullptr;
      consume();
      ExprPtr expr = parseExpr();
      if (!expr || !expect(Tok::RParen, "to close the parenthesis"))
        return nullptr;
      return expr;
    }
    default:
      expected("an expression");
      return nullptr;
    }
  }

  Lexer lexer;
  DiagnosticEngine &diags;
  Token tok;
  unsigned depth = 0; ///< levels of Nesting entered
  /// The current kernel's missing `}` was reported.
  bool unclosedReported = false;
};

} // namespace

std::optional<Module> tilus::parseModule(unsigned bufferId,
                                         DiagnosticEngine &diags) {
  const llvm::MemoryBuffer *buffer =
      diags.getSourceMgr().getMemoryBuffer(bufferId);
  Parser parser(buffer->getBuffer(), diags);
  return parser.parseModule();
}
