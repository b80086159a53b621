//===- GenExpr.cpp - Expressions, operators, arguments of built-ins ------===//
//
// Names, members (`blockIdx.x`), unary and binary operators, and the helpers
// that evaluate the arguments of built-in functions. Operators on two
// compile-time constants fold; otherwise a constant takes the other side's
// type and a scalar broadcasts to the other side's tile. The binary operators
// are two tables, arithmetic and comparisons, giving for each operator its
// folding and the operation it builds on tiles, integers and floats.
//
//===----------------------------------------------------------------------===//

#include "frontend/Generator.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <cstdio>
#include <limits>

using namespace tilus;
using namespace tilus::ast;
using namespace tilus::mlirgen;
using llvm::SMLoc;
using llvm::StringRef;
using llvm::Twine;

std::string mlirgen::describe(const Val &val) {
  switch (val.kind) {
  case Val::Kind::Int:
    return "an integer constant";
  case Val::Kind::Float:
    return "a float constant";
  case Val::Kind::Global:
    return "a global tensor";
  case Val::Kind::Shared:
    return "a shared tensor";
  case Val::Kind::Barrier:
    return "a barrier";
  default:
    return typeToString(val.value.getType());
  }
}

mlir::FailureOr<Val> Generator::genExpr(const Expr &expr) {
  switch (expr.kind) {
  case Expr::Kind::IntLiteral:
    return Val::constInt(expr.intValue);
  case Expr::Kind::FloatLiteral:
    return Val::constFloat(expr.floatValue);
  case Expr::Kind::Name: {
    auto c = consts.find(expr.name);
    if (c != consts.end())
      return Val::constInt(c->second);
    // A variable whose assignment failed: that error was reported.
    if (poisoned.count(expr.name))
      return mlir::failure();
    if (auto hidden = hiddenByGroup.find(expr.name);
        hidden != hiddenByGroup.end()) {
      report(expr.loc, "'" + expr.name +
                           "' was assigned in a thread group, whose values "
                           "are not visible after it");
      diags.note(hidden->second, "assigned here");
      return mlir::failure();
    }
    auto v = vars.find(expr.name);
    if (v != vars.end())
      return v->second;
    if (expr.name == "true" || expr.name == "false")
      return Val::constInt(expr.name == "true");
    if (expr.name == "inf")
      return Val::constFloat(std::numeric_limits<double>::infinity());
    if (expr.name == "nan")
      return Val::constFloat(std::numeric_limits<double>::quiet_NaN());
    report(expr.loc, "use of undefined name '" + expr.name + "'");
    return mlir::failure();
  }
  case Expr::Kind::Member:
    return genMember(expr);
  case Expr::Kind::Unary: {
    mlir::FailureOr<Val> operand = genExpr(*expr.operands[0]);
    if (mlir::failed(operand))
      return mlir::failure();
    if (expr.op == "!")
      return genNot(expr, *operand);
    if (expr.op == "~")
      return genBitNot(expr, *operand);
    if (operand->kind == Val::Kind::Int)
      return Val::constInt(-operand->intValue);
    if (operand->kind == Val::Kind::Float)
      return Val::constFloat(-operand->floatValue);
    if (operand->kind == Val::Kind::Tile)
      return genUnaryTile(expr, UnaryKind::neg, *operand);
    return genBinary("-", expr, Val::constInt(0), *operand);
  }
  case Expr::Kind::Binary: {
    mlir::FailureOr<Val> lhs = genExpr(*expr.operands[0]);
    if (mlir::failed(lhs))
      return mlir::failure();
    mlir::FailureOr<Val> rhs = genExpr(*expr.operands[1]);
    if (mlir::failed(rhs))
      return mlir::failure();
    return genBinary(expr.op, expr, *lhs, *rhs);
  }
  case Expr::Kind::Call:
    return genCall(expr);
  case Expr::Kind::List:
    report(expr.loc, "a list is allowed only as an offsets or shape "
                     "argument");
    return mlir::failure();
  case Expr::Kind::String:
    report(expr.loc, "a string is allowed only as the label of print");
    return mlir::failure();
  }
  return mlir::failure();
}

mlir::FailureOr<Val> Generator::genNot(const Expr &expr, const Val &operand) {
  if (operand.kind == Val::Kind::Int)
    return Val::constInt(operand.intValue == 0);
  if (operand.kind == Val::Kind::Tile)
    return genUnaryTile(expr, UnaryKind::bitnot, operand);
  if (operand.kind == Val::Kind::Scalar &&
      operand.value.getType().isSignlessInteger(1)) {
    mlir::Value one =
        builder.create<mlir::arith::ConstantIntOp>(loc(expr.loc), 1, 1);
    return Val::of(Val::Kind::Scalar, builder.create<mlir::arith::XOrIOp>(
                                          loc(expr.loc), operand.value, one));
  }
  report(expr.loc, "'!' expects a bool or a tile, got " + describe(operand));
  return mlir::failure();
}

mlir::FailureOr<Val> Generator::genBitNot(const Expr &expr,
                                          const Val &operand) {
  if (operand.kind == Val::Kind::Int)
    return Val::constInt(~operand.intValue);
  if (operand.kind == Val::Kind::Tile) {
    std::optional<DType> dtype = getDType(
        llvm::cast<TileType>(operand.value.getType()).getElementType());
    if (dtype && dtype->isInteger())
      return genUnaryTile(expr, UnaryKind::bitnot, operand);
  }
  if (operand.kind == Val::Kind::Scalar &&
      llvm::isa<mlir::IntegerType>(operand.value.getType()) &&
      !operand.value.getType().isSignlessInteger(1)) {
    mlir::Value ones = builder.create<mlir::arith::ConstantOp>(
        loc(expr.loc), builder.getIntegerAttr(operand.value.getType(), -1));
    return Val::of(Val::Kind::Scalar,
                   builder.create<mlir::arith::XOrIOp>(loc(expr.loc),
                                                       operand.value, ones));
  }
  report(expr.loc, "'~' expects an integer, got " + describe(operand) +
                       " ('!' negates a bool)");
  return mlir::failure();
}

mlir::FailureOr<Val> Generator::genMember(const Expr &expr) {
  static const char *const kDims[] = {"x", "y", "z"};
  int dim = -1;
  for (int i = 0; i < 3; ++i)
    if (expr.member == kDims[i])
      dim = i;
  if (expr.name == "blockIdx" && dim >= 0)
    return Val::of(
        Val::Kind::Scalar,
        builder.create<BlockIdxOp>(loc(expr.loc), builder.getI32Type(), dim));
  if (expr.name == "threadIdx" && dim == 0)
    return Val::of(Val::Kind::Scalar, builder.create<ThreadIdxOp>(
                                          loc(expr.loc), builder.getI32Type()));
  if (expr.name == "blockIdx" || expr.name == "threadIdx") {
    report(expr.loc, "'" + expr.name + "." + expr.member +
                         "' is not defined; use " +
                         (expr.name == "blockIdx"
                              ? "blockIdx.x, blockIdx.y or blockIdx.z"
                              : "threadIdx.x (blocks are one-dimensional)"));
    return mlir::failure();
  }
  report(expr.loc, "unknown name '" + expr.name + "." + expr.member + "'");
  return mlir::failure();
}

namespace {
/// \p v as C's %g writes it (1e+39, 65504).
std::string formatDouble(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}
} // namespace

mlir::FailureOr<mlir::Value>
Generator::constantOf(const Val &val, mlir::Type type, SMLoc where) {
  mlir::Location l = loc(where);
  if (auto intType = llvm::dyn_cast<mlir::IntegerType>(type)) {
    if (val.kind == Val::Kind::Float) {
      report(where, "a float constant cannot be used as " + typeToString(type));
      return mlir::failure();
    }
    mlir::Value constant = builder.create<mlir::arith::ConstantOp>(
        l, builder.getIntegerAttr(intType, val.intValue));
    return constant;
  }
  std::optional<DType> dtype = getDType(type);
  if (dtype && dtype->isInteger() && !dtype->isSigned()) {
    // Unsigned types have no scalars of their own: the constant is the
    // signless integer with the same bits, which fills tiles of them.
    if (val.kind == Val::Kind::Float) {
      report(where, "a float constant cannot be used as " + typeToString(type));
      return mlir::failure();
    }
    unsigned bits = dtype->bitWidth();
    if (val.intValue < 0 ||
        (bits < 64 && uint64_t(val.intValue) >> bits != 0)) {
      report(where, "the constant " + std::to_string(val.intValue) +
                        " does not fit " + dtype->name() + " (0 to " +
                        std::to_string(bits >= 64 ? UINT64_MAX
                                                  : (uint64_t(1) << bits) - 1) +
                        ")");
      return mlir::failure();
    }
    mlir::Value constant = builder.create<mlir::arith::ConstantOp>(
        l, builder.getIntegerAttr(builder.getIntegerType(bits),
                                  llvm::APInt(bits, uint64_t(val.intValue))));
    return constant;
  }
  auto floatType = llvm::dyn_cast<mlir::FloatType>(type);
  if (!floatType) {
    report(where, "constants of type " + typeToString(type) +
                      " are not supported; write a cast");
    return mlir::failure();
  }
  double value = val.kind == Val::Kind::Int ? static_cast<double>(val.intValue)
                                            : val.floatValue;
  // A finite constant that rounds to an infinity is an error, not a silent
  // infinity: `inf` says so when one is meant.
  llvm::APFloat rounded(value);
  bool lostInfo = false;
  if (std::isfinite(value) &&
      (rounded.convert(floatType.getFloatSemantics(),
                       llvm::APFloat::rmNearestTiesToEven, &lostInfo) &
       llvm::APFloat::opOverflow)) {
    llvm::APFloat largest =
        llvm::APFloat::getLargest(floatType.getFloatSemantics());
    report(where, "the constant " + formatDouble(value) + " overflows " +
                      typeToString(type) + " (largest finite " +
                      formatDouble(largest.convertToDouble()) +
                      "); write inf for an infinity");
    return mlir::failure();
  }
  mlir::Value constant = builder.create<mlir::arith::ConstantOp>(
      l, builder.getFloatAttr(floatType, value));
  return constant;
}

namespace {

using BuildBinary = mlir::Value (*)(mlir::OpBuilder &, mlir::Location,
                                    mlir::Value, mlir::Value);

template <typename OpTy>
mlir::Value buildBinary(mlir::OpBuilder &builder, mlir::Location loc,
                        mlir::Value lhs, mlir::Value rhs) {
  return builder.create<OpTy>(loc, lhs, rhs);
}

/// An arithmetic or logical operator: how it folds and what it builds. A
/// null entry means the operator is not defined on that kind of operand.
struct ArithmeticOp {
  llvm::StringLiteral op;
  /// Logical operators take bools; the others anything but bools.
  bool logical;
  int64_t (*foldInt)(int64_t, int64_t);
  double (*foldFloat)(double, double);
  BuildBinary tile, integer, floating;
};

/// Scalar shifts with the tiles' rule (ShlOp, ShrOp): a count of the width
/// or more, or a negative one (taken as unsigned), gives 0, or the sign fill
/// for `>>` (scalars are signed).
mlir::Value buildScalarShift(mlir::OpBuilder &builder, mlir::Location loc,
                             mlir::Value x, mlir::Value count, bool left) {
  mlir::Type type = x.getType();
  unsigned width = type.getIntOrFloatBitWidth();
  auto constant = [&](int64_t v) -> mlir::Value {
    return builder.create<mlir::arith::ConstantOp>(
        loc, builder.getIntegerAttr(type, v));
  };
  mlir::Value amount =
      builder.create<mlir::arith::MinUIOp>(loc, count, constant(width - 1));
  if (!left)
    return builder.create<mlir::arith::ShRSIOp>(loc, x, amount);
  mlir::Value inRange = builder.create<mlir::arith::CmpIOp>(
      loc, mlir::arith::CmpIPredicate::ult, count, constant(width));
  return builder.create<mlir::arith::SelectOp>(
      loc, inRange, builder.create<mlir::arith::ShLIOp>(loc, x, amount),
      constant(0));
}

mlir::Value buildScalarShl(mlir::OpBuilder &builder, mlir::Location loc,
                           mlir::Value x, mlir::Value count) {
  return buildScalarShift(builder, loc, x, count, /*left=*/true);
}

mlir::Value buildScalarShr(mlir::OpBuilder &builder, mlir::Location loc,
                           mlir::Value x, mlir::Value count) {
  return buildScalarShift(builder, loc, x, count, /*left=*/false);
}

/// The same rule on compile-time (int64) constants.
int64_t foldShl(int64_t a, int64_t b) {
  return b < 0 || b >= 64 ? 0 : int64_t(uint64_t(a) << b);
}
int64_t foldShr(int64_t a, int64_t b) {
  return a >> (b < 0 || b >= 64 ? 63 : b);
}

// Integer division and remainder truncate toward zero, as arith's divsi and
// remsi do; a zero divisor is reported before folding. The bitwise operators
// and shifts take integers (bools only where the operator is logical).
const ArithmeticOp kArithmetic[] = {
    {"+", false, [](int64_t a, int64_t b) { return a + b; },
     [](double a, double b) { return a + b; }, buildBinary<AddOp>,
     buildBinary<mlir::arith::AddIOp>, buildBinary<mlir::arith::AddFOp>},
    {"-", false, [](int64_t a, int64_t b) { return a - b; },
     [](double a, double b) { return a - b; }, buildBinary<SubOp>,
     buildBinary<mlir::arith::SubIOp>, buildBinary<mlir::arith::SubFOp>},
    {"*", false, [](int64_t a, int64_t b) { return a * b; },
     [](double a, double b) { return a * b; }, buildBinary<MulOp>,
     buildBinary<mlir::arith::MulIOp>, buildBinary<mlir::arith::MulFOp>},
    {"/", false, [](int64_t a, int64_t b) { return a / b; },
     [](double a, double b) { return a / b; }, buildBinary<DivOp>,
     buildBinary<mlir::arith::DivSIOp>, buildBinary<mlir::arith::DivFOp>},
    {"%", false, [](int64_t a, int64_t b) { return a % b; }, nullptr,
     buildBinary<RemOp>, buildBinary<mlir::arith::RemSIOp>, nullptr},
    {"&&", true, [](int64_t a, int64_t b) -> int64_t { return a && b; },
     nullptr, buildBinary<AndOp>, buildBinary<mlir::arith::AndIOp>, nullptr},
    {"||", true, [](int64_t a, int64_t b) -> int64_t { return a || b; },
     nullptr, buildBinary<OrOp>, buildBinary<mlir::arith::OrIOp>, nullptr},
    {"&", false, [](int64_t a, int64_t b) { return a & b; }, nullptr,
     buildBinary<AndOp>, buildBinary<mlir::arith::AndIOp>, nullptr},
    {"|", false, [](int64_t a, int64_t b) { return a | b; }, nullptr,
     buildBinary<OrOp>, buildBinary<mlir::arith::OrIOp>, nullptr},
    {"^", false, [](int64_t a, int64_t b) { return a ^ b; }, nullptr,
     buildBinary<XorOp>, buildBinary<mlir::arith::XOrIOp>, nullptr},
    {"<<", false, foldShl, nullptr, buildBinary<ShlOp>, buildScalarShl,
     nullptr},
    {">>", false, foldShr, nullptr, buildBinary<ShrOp>, buildScalarShr,
     nullptr},
};

/// A comparison: its predicate on tiles, integers (signed) and floats
/// (ordered, except `!=`, which holds for NaN as in C). Constants fold with
/// the predicate they would build.
struct ComparisonOp {
  llvm::StringLiteral op;
  CmpPredicate tile;
  mlir::arith::CmpIPredicate integer;
  mlir::arith::CmpFPredicate floating;
};

using IP = mlir::arith::CmpIPredicate;
using FP = mlir::arith::CmpFPredicate;
const ComparisonOp kComparisons[] = {
    {"==", CmpPredicate::eq, IP::eq, FP::OEQ},
    {"!=", CmpPredicate::ne, IP::ne, FP::UNE},
    {"<", CmpPredicate::lt, IP::slt, FP::OLT},
    {"<=", CmpPredicate::le, IP::sle, FP::OLE},
    {">", CmpPredicate::gt, IP::sgt, FP::OGT},
    {">=", CmpPredicate::ge, IP::sge, FP::OGE},
};

template <typename Table>
const auto *findOperator(const Table &table, StringRef op) {
  const auto *it =
      llvm::find_if(table, [&](const auto &entry) { return entry.op == op; });
  return it != std::end(table) ? it : nullptr;
}

bool isComparison(StringRef op) {
  return findOperator(kComparisons, op) != nullptr;
}

double asDouble(const Val &val) {
  return val.kind == Val::Kind::Int ? val.intValue : val.floatValue;
}

} // namespace

mlir::FailureOr<Val> Generator::foldConstants(StringRef op, const Expr &expr,
                                              const Val &lhs, const Val &rhs) {
  bool ints = lhs.kind == Val::Kind::Int && rhs.kind == Val::Kind::Int;
  if (const ComparisonOp *cmp = findOperator(kComparisons, op)) {
    if (ints)
      return Val::constInt(mlir::arith::applyCmpPredicate(
          cmp->integer, llvm::APInt(64, lhs.intValue, /*isSigned=*/true),
          llvm::APInt(64, rhs.intValue, /*isSigned=*/true)));
    return Val::constInt(mlir::arith::applyCmpPredicate(
        cmp->floating, llvm::APFloat(asDouble(lhs)),
        llvm::APFloat(asDouble(rhs))));
  }
  const ArithmeticOp *arith = findOperator(kArithmetic, op);
  assert(arith && "the parser makes only the operators of the tables");
  if (ints) {
    if ((op == "/" || op == "%") && rhs.intValue == 0) {
      report(expr.loc, "division by zero in a constant expression");
      return mlir::failure();
    }
    return Val::constInt(arith->foldInt(lhs.intValue, rhs.intValue));
  }
  if (!arith->foldFloat) {
    report(expr.loc, "'" + op + "' needs integer operands");
    return mlir::failure();
  }
  return Val::constFloat(arith->foldFloat(asDouble(lhs), asDouble(rhs)));
}

mlir::LogicalResult Generator::checkArithmeticType(StringRef op,
                                                   mlir::Type elementType,
                                                   SMLoc where) {
  std::optional<DType> dtype = getDType(elementType);
  bool logical = op == "&&" || op == "||";
  if (logical) {
    if (dtype && dtype->isBool())
      return mlir::success();
    return error(where, "'" + op + "' needs bool operands, got " +
                            typeToString(elementType));
  }
  if (dtype && (dtype->bitWidth() % 8 != 0 ||
                (dtype->isFloat() && dtype->bitWidth() < 16)))
    return error(where, "'" + op + "' on tiles of " + dtype->name() +
                            " is not supported; arithmetic needs a type of "
                            "whole bytes such as f16, f32 or an integer");
  if (dtype && dtype->isBool() && !isComparison(op))
    return error(where, "'" + op + "' is not defined on bool tiles");
  bool bitwise = op == "&" || op == "|" || op == "^" || op == "<<" ||
                 op == ">>";
  if (dtype && bitwise && dtype->isFloat())
    return error(where, "'" + op + "' needs integer operands, got tiles of " +
                            dtype->name());
  return mlir::success();
}

Val Generator::broadcastTo(const Val &val, llvm::ArrayRef<int64_t> shape,
                           SMLoc where) {
  auto tile = llvm::cast<TileType>(val.value.getType());
  if (tile.getShape() == shape)
    return val;
  return Val::of(
      Val::Kind::Tile,
      builder.create<BroadcastOp>(
          loc(where), tileType(shape, tile.getElementType()), val.value));
}

void Generator::unifyLayouts(Val &a, Val &b, SMLoc where) {
  auto ta = llvm::dyn_cast<TileType>(a.value.getType());
  auto tb = llvm::dyn_cast<TileType>(b.value.getType());
  if (!ta || !tb || ta == tb || ta.getShape() != tb.getShape() ||
      ta.getElementType() != tb.getElementType())
    return;
  if (ta.getLayout())
    b.value = builder.create<ConvertLayoutOp>(loc(where), ta, b.value);
  else
    a.value = builder.create<ConvertLayoutOp>(loc(where), tb, a.value);
}

mlir::LogicalResult Generator::broadcastPair(const Expr &expr, Val &a, Val &b) {
  auto ta = llvm::cast<TileType>(a.value.getType());
  auto tb = llvm::cast<TileType>(b.value.getType());
  if (ta.getShape() == tb.getShape())
    return mlir::success();
  // numpy's rule: trailing dimensions align, and the tile of lower rank
  // gets extent-1 dimensions in front.
  size_t rank = std::max(ta.getRank(), tb.getRank());
  auto aligned = [&](TileType tile) {
    llvm::SmallVector<int64_t> extents(rank - tile.getRank(), 1);
    extents.append(tile.getShape().begin(), tile.getShape().end());
    return extents;
  };
  llvm::SmallVector<int64_t> sa = aligned(ta), sb = aligned(tb);
  llvm::SmallVector<int64_t> shape;
  for (auto [x, y] : llvm::zip(sa, sb)) {
    if (x != y && x != 1 && y != 1)
      return error(expr.loc, "cannot broadcast tiles of shapes " +
                                 shapeText(ta.getShape()) + " and " +
                                 shapeText(tb.getShape()) +
                                 " (trailing dimensions align; each pair of "
                                 "extents must be equal or one of them 1)");
    shape.push_back(std::max(x, y));
  }
  auto raise = [&](Val &val, TileType tile, llvm::ArrayRef<int64_t> extents) {
    if (tile.getRank() != rank)
      val = Val::of(Val::Kind::Tile,
                    builder.create<ReshapeOp>(
                        loc(expr.loc), tileType(extents, tile.getElementType()),
                        val.value));
  };
  raise(a, ta, sa);
  raise(b, tb, sb);
  a = broadcastTo(a, shape, expr.loc);
  b = broadcastTo(b, shape, expr.loc);
  return mlir::success();
}

mlir::FailureOr<Val> Generator::genBinary(StringRef op, const Expr &expr,
                                          Val lhs, Val rhs) {
  if (lhs.isConst() && rhs.isConst())
    return foldConstants(op, expr, lhs, rhs);
  for (const Val *side : {&lhs, &rhs})
    if (side->kind == Val::Kind::Global || side->kind == Val::Kind::Shared ||
        side->kind == Val::Kind::Barrier) {
      report(expr.loc, "'" + op + "' cannot take " + describe(*side) +
                           (side->kind == Val::Kind::Barrier
                                ? ""
                                : "; load a tile first"));
      return mlir::failure();
    }
  bool isTile = lhs.kind == Val::Kind::Tile || rhs.kind == Val::Kind::Tile;
  mlir::Type elementType =
      isTile ? llvm::cast<TileType>(
                   (lhs.kind == Val::Kind::Tile ? lhs : rhs).value.getType())
                   .getElementType()
             : (lhs.isConst() ? rhs : lhs).value.getType();
  // Constants take the other side's type; scalars broadcast to tiles.
  auto coerce = [&](Val &val, const Val &other,
                    SMLoc where) -> mlir::LogicalResult {
    if (val.isConst()) {
      mlir::FailureOr<mlir::Value> c = constantOf(val, elementType, where);
      if (mlir::failed(c))
        return mlir::failure();
      val = Val::of(Val::Kind::Scalar, *c);
    }
    if (val.kind == Val::Kind::Scalar && isTile) {
      if (!FullOp::canFill(val.value.getType(), elementType))
        return error(expr.loc, "'" + op + "' between " +
                                   typeToString(val.value.getType()) +
                                   " and a tile of " +
                                   typeToString(elementType) + " needs a cast");
      auto shape = llvm::cast<TileType>(other.value.getType()).getShape();
      val = Val::of(Val::Kind::Tile,
                    builder.create<FullOp>(
                        loc(where), tileType(shape, elementType), val.value));
    }
    return mlir::success();
  };
  // A unary minus arrives here as `0 - x`: only binary expressions have
  // two operand locations.
  bool binary = expr.operands.size() == 2;
  SMLoc lhsLoc = binary ? expr.operands[0]->loc : expr.loc;
  SMLoc rhsLoc = binary ? expr.operands[1]->loc : expr.loc;
  if (mlir::failed(coerce(lhs, rhs, lhsLoc)) ||
      mlir::failed(coerce(rhs, lhs, rhsLoc)))
    return mlir::failure();
  if (isTile && mlir::failed(broadcastPair(expr, lhs, rhs)))
    return mlir::failure();
  if (isTile)
    unifyLayouts(lhs, rhs, expr.loc);
  if (lhs.value.getType() != rhs.value.getType()) {
    report(expr.loc, "'" + op + "' has mismatched operand types " +
                         typeToString(lhs.value.getType()) + " and " +
                         typeToString(rhs.value.getType()));
    return mlir::failure();
  }
  mlir::Location l = loc(expr.loc);
  mlir::Value a = lhs.value, b = rhs.value;
  const ComparisonOp *cmp = findOperator(kComparisons, op);
  const ArithmeticOp *arith = cmp ? nullptr : findOperator(kArithmetic, op);
  assert((cmp || arith) && "the parser makes only the operators of the tables");
  if (isTile) {
    if (mlir::failed(checkArithmeticType(op, elementType, expr.loc)))
      return mlir::failure();
    if (!cmp)
      return Val::of(Val::Kind::Tile, arith->tile(builder, l, a, b));
    auto tile = llvm::cast<TileType>(a.getType());
    return Val::of(
        Val::Kind::Tile,
        builder.create<CmpOp>(l, tileType(tile.getShape(), builder.getI1Type()),
                              cmp->tile, a, b));
  }

  mlir::Type type = a.getType();
  bool isFloat = llvm::isa<mlir::FloatType>(type);
  if (cmp)
    return Val::of(
        Val::Kind::Scalar,
        isFloat ? builder.create<mlir::arith::CmpFOp>(l, cmp->floating, a, b)
                      .getResult()
                : builder.create<mlir::arith::CmpIOp>(l, cmp->integer, a, b)
                      .getResult());
  if (arith->logical && !type.isSignlessInteger(1)) {
    report(expr.loc,
           "'" + op + "' needs bool operands, got " + typeToString(type));
    return mlir::failure();
  }
  if (!arith->logical && type.isSignlessInteger(1)) {
    report(expr.loc, "'" + op + "' is not defined on bool values");
    return mlir::failure();
  }
  BuildBinary build = isFloat ? arith->floating : arith->integer;
  if (!build) {
    report(expr.loc, "'" + op + "' needs integer operands");
    return mlir::failure();
  }
  return Val::of(Val::Kind::Scalar, build(builder, l, a, b));
}

mlir::FailureOr<Val> Generator::genUnaryTile(const Expr &expr, UnaryKind kind,
                                             const Val &operand) {
  auto tile = llvm::cast<TileType>(operand.value.getType());
  std::optional<DType> dtype = getDType(tile.getElementType());
  StringRef name = stringifyUnaryKind(kind);
  bool floatOnly = kind != UnaryKind::neg && kind != UnaryKind::abs &&
                   kind != UnaryKind::bitnot;
  if ((floatOnly && !dtype->isFloat()) ||
      (kind == UnaryKind::bitnot && dtype->isFloat()) ||
      (!floatOnly && kind != UnaryKind::bitnot && dtype->isBool())) {
    report(expr.loc,
           "'" + name + "' is not defined on tiles of " + dtype->name());
    return mlir::failure();
  }
  if (dtype->bitWidth() % 8 != 0 ||
      (dtype->isFloat() && dtype->bitWidth() < 16)) {
    report(expr.loc, "'" + name + "' on tiles of " + dtype->name() +
                         " needs a cast to f16 or f32 first");
    return mlir::failure();
  }
  return Val::of(Val::Kind::Tile,
                 builder.create<UnaryOp>(loc(expr.loc), kind, operand.value));
}

//===----------------------------------------------------------------------===//
// Arguments of built-in functions
//===----------------------------------------------------------------------===//

mlir::FailureOr<llvm::SmallVector<Val>> Generator::genList(const Expr &expr,
                                                           StringRef what) {
  if (expr.kind != Expr::Kind::List) {
    report(expr.loc, "expected a list [...] for " + what);
    return mlir::failure();
  }
  llvm::SmallVector<Val> values;
  for (const ExprPtr &element : expr.operands) {
    mlir::FailureOr<Val> val = genExpr(*element);
    if (mlir::failed(val))
      return mlir::failure();
    values.push_back(*val);
  }
  return values;
}

mlir::FailureOr<llvm::SmallVector<int64_t>>
Generator::genConstList(const Expr &expr, size_t rank, StringRef what,
                        int64_t min) {
  mlir::FailureOr<llvm::SmallVector<Val>> values = genList(expr, what);
  if (mlir::failed(values))
    return mlir::failure();
  if (rank && values->size() != rank) {
    report(expr.loc, "expected " + Twine(rank) + " extents for " + what +
                         ", got " + Twine(values->size()));
    return mlir::failure();
  }
  if (values->empty()) {
    report(expr.loc, what + " needs at least one extent");
    return mlir::failure();
  }
  llvm::SmallVector<int64_t> result;
  for (auto [i, val] : llvm::enumerate(*values)) {
    if (val.kind != Val::Kind::Int || val.intValue < min) {
      report(expr.operands[i]->loc,
             what + " must be " + (min > 0 ? "positive" : "non-negative") +
                 " compile-time integers");
      return mlir::failure();
    }
    result.push_back(val.intValue);
  }
  return result;
}

mlir::FailureOr<llvm::SmallVector<int64_t>>
Generator::genShape(const Expr &expr, size_t rank) {
  return genConstList(expr, rank, "tile extents", 1);
}

mlir::FailureOr<llvm::SmallVector<mlir::Value>>
Generator::genOffsets(const Expr &expr, size_t rank) {
  mlir::FailureOr<llvm::SmallVector<Val>> values = genList(expr, "the offsets");
  if (mlir::failed(values))
    return mlir::failure();
  if (values->size() != rank) {
    report(expr.loc, "expected " + Twine(rank) + " offsets for a rank-" +
                         Twine(rank) + " tensor, got " + Twine(values->size()));
    return mlir::failure();
  }
  llvm::SmallVector<mlir::Value> offsets;
  for (auto [i, val] : llvm::enumerate(*values)) {
    if (val.kind == Val::Kind::Int) {
      offsets.push_back(materialize(val, expr.operands[i]->loc));
    } else if (val.kind == Val::Kind::Scalar &&
               val.value.getType().isSignlessInteger(32)) {
      offsets.push_back(val.value);
    } else {
      report(expr.operands[i]->loc, "offsets must be i32 values");
      return mlir::failure();
    }
  }
  return offsets;
}

mlir::FailureOr<Val> Generator::genArg(const Expr &call, size_t index,
                                       Val::Kind kind) {
  const Expr &arg = *call.operands[index];
  mlir::FailureOr<Val> val = genExpr(arg);
  if (mlir::failed(val))
    return mlir::failure();
  if (val->kind == kind)
    return val;
  static const char *const kNames[] = {
      "",         "", "", "a tile", "a global tensor parameter", "a shared tensor",
      "a barrier"};
  report(arg.loc, "argument " + Twine(index + 1) + " of '" + call.name +
                      "' must be " + kNames[static_cast<int>(kind)] + ", got " +
                      describe(*val));
  return mlir::failure();
}

mlir::FailureOr<mlir::Type> Generator::genDTypeArg(const Expr &arg) {
  if (arg.kind != Expr::Kind::Name) {
    report(arg.loc, "expected a data type name");
    return mlir::failure();
  }
  mlir::Type type = expectDType(arg.name, arg.loc);
  if (!type)
    return mlir::failure();
  return type;
}

mlir::FailureOr<mlir::Value> Generator::genIntScalar(const Val &val,
                                                     SMLoc where) {
  if (val.kind == Val::Kind::Int)
    return materialize(val, where);
  if (val.kind == Val::Kind::Scalar &&
      val.value.getType().isSignlessInteger() &&
      !val.value.getType().isSignlessInteger(1))
    return val.value;
  report(where, "expected an integer scalar");
  return mlir::failure();
}

mlir::FailureOr<Val> Generator::asTile(const Expr &arg, const Val &val,
                                       TileType like) {
  if (val.kind == Val::Kind::Tile)
    return val;
  Val scalar = val;
  if (scalar.isConst()) {
    mlir::FailureOr<mlir::Value> c =
        constantOf(scalar, like.getElementType(), arg.loc);
    if (mlir::failed(c))
      return mlir::failure();
    scalar = Val::of(Val::Kind::Scalar, *c);
  }
  if (scalar.kind != Val::Kind::Scalar ||
      !FullOp::canFill(scalar.value.getType(), like.getElementType())) {
    report(arg.loc, "expected a tile or a " +
                        typeToString(like.getElementType()) + " value, got " +
                        describe(val));
    return mlir::failure();
  }
  return Val::of(
      Val::Kind::Tile,
      builder.create<FullOp>(loc(arg.loc),
                             tileType(like.getShape(), like.getElementType()),
                             scalar.value));
}
