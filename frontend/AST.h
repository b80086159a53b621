//===- AST.h - Syntax tree of the tile language -----------------*- C++ -*-===//
//
// The tree the parser builds from a `.tl` file. Every node carries the
// location of its first token, so later stages report errors in the source.
//
//   kernel vector_add<BLOCK = 256>(a: global f32[n], c: global f32[n], n: i32)
//     grid(cdiv(n, BLOCK)) warps(BLOCK / 32)
//   {
//     x = load_global(a, [blockIdx.x * BLOCK], [BLOCK]);
//     store_global(c, x * 2.0, [blockIdx.x * BLOCK]);
//   }
//
// is a Kernel with one compile-time parameter, three parameters, a grid and
// warps clause and a body of two statements.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_FRONTEND_AST_H
#define TILUS_FRONTEND_AST_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tilus::ast {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

/// An expression. One struct with a kind keeps the tree easy to walk.
struct Expr {
  enum class Kind {
    IntLiteral,   ///< 42
    FloatLiteral, ///< 1.5, 2e-3
    Name,         ///< x
    Member,       ///< blockIdx.x: `name` is "blockIdx", `member` is "x"
    Unary,        ///< -x
    Binary,       ///< x + y
    Call,         ///< f(a, b)
    List,         ///< [a, b]
    String,       ///< "text" (print labels)
  };
  Kind kind;
  llvm::SMLoc loc;
  int64_t intValue = 0;
  double floatValue = 0;
  std::string name;   ///< Name, Member (object), Call (callee), String
  std::string member; ///< Member
  /// Unary: `-` or `!`; Binary: + - * / % < > and the two-character
  /// operators, encoded by binaryOpName's inverse (see kBinaryOps).
  std::string op;
  std::vector<ExprPtr> operands; ///< Unary, Binary, Call, List
  /// Levels of the tree from this node down (a leaf is 1). The parser keeps
  /// it within kMaxNestingDepth (ir/Limits.h), which bounds every recursive
  /// walk over the tree.
  unsigned height = 1;

  Expr(Kind kind, llvm::SMLoc loc) : kind(kind), loc(loc) {}
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;

/// A statement of a kernel body.
struct Stmt {
  enum class Kind {
    Assign, ///< name [: layout] = value;
    Expr,   ///< call(...);
    For,    ///< for var in range(start, stop[, step]) [unroll(N)] { body }
    If,     ///< if cond { body } [else { elseBody }]
    While,  ///< while cond { body }
    Break,  ///< break;
    /// thread_group(first_warp, num_warps) { body }: `start` and `stop`
    /// hold the two bounds.
    Group,
    /// A statement with a syntax error, left out; `assigns` names the
    /// variables its text assigns, so that their uses raise no more errors.
    Invalid,
  };
  Kind kind;
  llvm::SMLoc loc;
  std::string name;         ///< Assign target, For variable
  llvm::SMLoc nameLoc;      ///< where `name` is written
  std::string layout;       ///< Assign: the layout annotation's text, if any
  llvm::SMLoc layoutLoc;    ///< where the annotation starts
  ExprPtr value;            ///< Assign, Expr, If/While condition
  ExprPtr start, stop, step; ///< For (step may be null)
  std::optional<int64_t> unroll; ///< For
  std::vector<StmtPtr> body;     ///< For, If (then), While
  std::vector<StmtPtr> elseBody; ///< If
  std::vector<std::string> assigns; ///< Invalid

  Stmt(Kind kind, llvm::SMLoc loc) : kind(kind), loc(loc) {}
};

/// `NAME = default` between the kernel's angle brackets.
struct ConstParam {
  std::string name;
  llvm::SMLoc loc;
  ExprPtr defaultValue;
};

/// A run-time parameter: a global tensor (`a: global f16[m, k]`) or a
/// scalar (`n: i32 %128`).
struct Param {
  std::string name;
  llvm::SMLoc loc;
  bool isGlobal = false;
  std::string dtype;
  llvm::SMLoc dtypeLoc;
  std::vector<ExprPtr> shape; ///< global tensors only
  /// Scalars only: `%N`, a positive integer or a compile-time parameter.
  ExprPtr divisibility;
};

struct Kernel {
  std::string name;
  llvm::SMLoc loc;
  std::vector<ConstParam> constParams;
  std::vector<Param> params;
  std::vector<ExprPtr> grid; ///< one to three extents
  llvm::SMLoc gridLoc;
  ExprPtr warps;
  std::vector<StmtPtr> body;
};

/// A `.tl` file: one or more kernels.
struct Module {
  std::vector<Kernel> kernels;
  /// The parser reported errors and recovered: statements it could not
  /// parse are Invalid, kernels whose header it could not parse are left
  /// out. Such a module is only checked for more errors, never compiled.
  bool recovered = false;
};

/// Prints the tree as indented S-expressions (`tilusc --emit=ast`).
void print(const Module &module, llvm::raw_ostream &os);
/// The binding strength of a binary operator: `||` 1, `&&` 2, comparisons
/// 3, `+ -` 4, `* / %` 5; 0 for anything else.
int binaryPrecedence(llvm::StringRef op);

/// Prints an expression in source syntax, fully parenthesised where needed.
void printExpr(const Expr &expr, llvm::raw_ostream &os);

} // namespace tilus::ast

#endif // TILUS_FRONTEND_AST_H
