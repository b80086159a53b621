//===- AST.cpp - Printing the syntax tree ---------------------------------===//

#include "frontend/AST.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstdlib>

using namespace tilus::ast;

int tilus::ast::binaryPrecedence(llvm::StringRef op) {
  return llvm::StringSwitch<int>(op)
      .Case("||", 1)
      .Case("&&", 2)
      .Case("|", 3)
      .Case("^", 4)
      .Case("&", 5)
      .Cases("==", "!=", "<", "<=", ">", ">=", 6)
      .Cases("<<", ">>", 7)
      .Cases("+", "-", 8)
      .Cases("*", "/", "%", 9)
      .Default(0);
}

static int precedence(const Expr &expr) {
  if (expr.kind == Expr::Kind::Binary)
    return binaryPrecedence(expr.op);
  if (expr.kind == Expr::Kind::Unary)
    return 10;
  return 11;
}

void tilus::ast::printExpr(const Expr &expr, llvm::raw_ostream &os) {
  auto printOperand = [&](const Expr &operand, int parentPrecedence,
                          bool isRight) {
    int own = precedence(operand);
    bool parens = own < parentPrecedence || (isRight && own == parentPrecedence);
    if (parens)
      os << "(";
    printExpr(operand, os);
    if (parens)
      os << ")";
  };
  auto printList = [&](const std::vector<ExprPtr> &list) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (i)
        os << ", ";
      printExpr(*list[i], os);
    }
  };
  switch (expr.kind) {
  case Expr::Kind::IntLiteral:
    os << expr.intValue;
    return;
  case Expr::Kind::FloatLiteral: {
    // The shortest decimal that reads back as the same double.
    std::string text;
    for (int precision = 1; precision <= 17; ++precision) {
      text = llvm::formatv("{0}", llvm::format("%.*g", precision,
                                               expr.floatValue))
                 .str();
      if (std::strtod(text.c_str(), nullptr) == expr.floatValue)
        break;
    }
    os << text;
    if (text.find_first_of(".en") == std::string::npos)
      os << ".0";
    return;
  }
  case Expr::Kind::Name:
    os << expr.name;
    return;
  case Expr::Kind::Member:
    os << expr.name << "." << expr.member;
    return;
  case Expr::Kind::Unary:
    os << expr.op;
    printOperand(*expr.operands[0], 10, false);
    return;
  case Expr::Kind::String:
    os << '"' << expr.name << '"';
    return;
  case Expr::Kind::Binary: {
    int own = precedence(expr);
    printOperand(*expr.operands[0], own, false);
    os << " " << expr.op << " ";
    printOperand(*expr.operands[1], own, true);
    return;
  }
  case Expr::Kind::Call:
    os << expr.name << "(";
    printList(expr.operands);
    os << ")";
    return;
  case Expr::Kind::List:
    os << "[";
    printList(expr.operands);
    os << "]";
    return;
  }
}

static void printStmts(const std::vector<StmtPtr> &body, llvm::raw_ostream &os,
                       unsigned indent) {
  for (const StmtPtr &stmt : body) {
    os.indent(indent);
    switch (stmt->kind) {
    case Stmt::Kind::Assign:
      os << "(assign " << stmt->name << " ";
      if (!stmt->layout.empty())
        os << "(layout " << stmt->layout << ") ";
      printExpr(*stmt->value, os);
      os << ")\n";
      break;
    case Stmt::Kind::Expr:
      os << "(expr ";
      printExpr(*stmt->value, os);
      os << ")\n";
      break;
    case Stmt::Kind::For:
      os << "(for " << stmt->name << " (range ";
      printExpr(*stmt->start, os);
      os << " ";
      printExpr(*stmt->stop, os);
      if (stmt->step) {
        os << " ";
        printExpr(*stmt->step, os);
      }
      os << ")";
      if (stmt->unroll)
        os << " (unroll " << *stmt->unroll << ")";
      os << "\n";
      printStmts(stmt->body, os, indent + 2);
      os.indent(indent) << ")\n";
      break;
    case Stmt::Kind::If:
      os << "(if ";
      printExpr(*stmt->value, os);
      os << "\n";
      printStmts(stmt->body, os, indent + 2);
      if (!stmt->elseBody.empty()) {
        os.indent(indent) << " else\n";
        printStmts(stmt->elseBody, os, indent + 2);
      }
      os.indent(indent) << ")\n";
      break;
    case Stmt::Kind::While:
      os << "(while ";
      printExpr(*stmt->value, os);
      os << "\n";
      printStmts(stmt->body, os, indent + 2);
      os.indent(indent) << ")\n";
      break;
    case Stmt::Kind::Group:
      os << "(thread_group ";
      printExpr(*stmt->start, os);
      os << " ";
      printExpr(*stmt->stop, os);
      os << "\n";
      printStmts(stmt->body, os, indent + 2);
      os.indent(indent) << ")\n";
      break;
    case Stmt::Kind::Break:
      os << "(break)\n";
      break;
    case Stmt::Kind::Invalid:
      os << "(invalid)\n";
      break;
    }
  }
}

void tilus::ast::print(const Module &module, llvm::raw_ostream &os) {
  for (const Kernel &kernel : module.kernels) {
    os << "(kernel " << kernel.name << "\n";
    for (const ConstParam &param : kernel.constParams) {
      os << "  (const " << param.name << " ";
      printExpr(*param.defaultValue, os);
      os << ")\n";
    }
    for (const Param &param : kernel.params) {
      os << "  (param " << param.name << " "
         << (param.isGlobal ? "global " : "") << param.dtype;
      if (param.isGlobal) {
        os << " [";
        for (size_t i = 0; i < param.shape.size(); ++i) {
          if (i)
            os << ", ";
          printExpr(*param.shape[i], os);
        }
        os << "]";
      }
      if (param.divisibility) {
        os << " %";
        printExpr(*param.divisibility, os);
      }
      os << ")\n";
    }
    os << "  (grid";
    for (const ExprPtr &extent : kernel.grid) {
      os << " ";
      printExpr(*extent, os);
    }
    os << ")\n  (warps ";
    printExpr(*kernel.warps, os);
    os << ")\n";
    printStmts(kernel.body, os, 2);
    os << ")\n";
  }
}
