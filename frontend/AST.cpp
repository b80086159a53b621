//===- AST.cpp - Printing the syntax tree ---------------------------------===//

#include "frontend/AST.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstdlib>

using namespace tilus::ast;

static int precedence(const Expr &expr) {
  if (expr.kind == Expr::Kind::Binary)
    return (expr.op == '+' || expr.op == '-') ? 1 : 2;
  if (expr.kind == Expr::Kind::Unary)
    return 3;
  return 4;
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
    printOperand(*expr.operands[0], 3, false);
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
      os << ")\n";
      printStmts(stmt->body, os, indent + 2);
      os.indent(indent) << ")\n";
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
      if (param.divisibility)
        os << " %" << *param.divisibility;
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
