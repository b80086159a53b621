//===- MLIRGen.cpp - From the syntax tree to the tilus dialect ------------===//
//
// One pass over the tree does name resolution, type checking, constant
// folding of compile-time expressions and IR construction. Values are one of
// five kinds: compile-time integers and floats (folded, given a type only when
// they meet a run-time value), run-time scalars, register tiles and global
// tensors.
//
//===----------------------------------------------------------------------===//

#include "frontend/MLIRGen.h"

#include "ir/dialect/Tilus.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/ScopedHashTable.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

#include <numeric>

using namespace tilus;
using namespace tilus::ast;
using llvm::SMLoc;
using llvm::StringRef;
using llvm::Twine;

namespace {

/// A value during generation.
struct Val {
  enum class Kind { Int, Float, Scalar, Tile, Global };
  Kind kind = Kind::Int;
  int64_t intValue = 0;
  double floatValue = 0;
  mlir::Value value; ///< Scalar, Tile, Global

  static Val constInt(int64_t v) { return {Kind::Int, v, 0, {}}; }
  static Val constFloat(double v) { return {Kind::Float, 0, v, {}}; }
  static Val of(Kind kind, mlir::Value v) { return {kind, 0, 0, v}; }
  bool isConst() const { return kind == Kind::Int || kind == Kind::Float; }
};

std::string typeToString(mlir::Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto tile = llvm::dyn_cast<TileType>(type)) {
    os << "tile<";
    llvm::interleave(tile.getShape(), os, "x");
    os << "x" << tile.getElementType() << ">";
  } else {
    os << type;
  }
  return text;
}

class Generator {
public:
  Generator(mlir::MLIRContext &context, DiagnosticEngine &diags,
            const ConstOverrides &overrides)
      : context(context), builder(&context), diags(diags),
        overrides(overrides) {}

  mlir::OwningOpRef<mlir::ModuleOp> run(const Module &module) {
    mlir::OwningOpRef<mlir::ModuleOp> result =
        mlir::ModuleOp::create(builder.getUnknownLoc());
    llvm::StringSet<> constNames, kernelNames;
    for (const Kernel &kernel : module.kernels)
      for (const ConstParam &param : kernel.constParams)
        constNames.insert(param.name);
    for (const auto &[name, value] : overrides)
      if (!constNames.contains(name))
        diags.error(SMLoc(), "-D " + name + "=" + value +
                                 ": no kernel has a compile-time parameter '" +
                                 name + "'");
    if (diags.getNumErrors())
      return nullptr;
    for (const Kernel &kernel : module.kernels) {
      if (!kernelNames.insert(kernel.name).second) {
        diags.error(kernel.loc, "duplicate kernel '" + kernel.name + "'");
        return nullptr;
      }
      builder.setInsertionPointToEnd(result->getBody());
      if (mlir::failed(genKernel(kernel)))
        return nullptr;
    }
    return result;
  }

  std::vector<KernelInfo> takeKernelInfos() { return std::move(infos); }

private:
  //===--------------------------------------------------------------------===//
  // Helpers
  //===--------------------------------------------------------------------===//

  mlir::LogicalResult error(SMLoc loc, const Twine &message) {
    diags.error(loc, message);
    return mlir::failure();
  }
  void report(SMLoc loc, const Twine &message) { diags.error(loc, message); }

  static std::string quoted(char op) { return std::string("'") + op + "'"; }

  mlir::Location loc(SMLoc where) {
    llvm::SourceMgr &sm = diags.getSourceMgr();
    unsigned buffer = sm.FindBufferContainingLoc(where);
    if (!buffer)
      return builder.getUnknownLoc();
    auto [line, col] = sm.getLineAndColumn(where, buffer);
    return mlir::FileLineColLoc::get(
        &context, sm.getMemoryBuffer(buffer)->getBufferIdentifier(), line,
        col);
  }

  /// The MLIR type of a dtype name (see getMLIRType), or null.
  mlir::Type parseDType(StringRef name) {
    std::optional<DType> dtype = DType::parse(name.str());
    return dtype ? getMLIRType(&context, *dtype) : mlir::Type();
  }

  mlir::Type expectDType(StringRef name, SMLoc where) {
    std::string error;
    std::optional<DType> dtype = DType::parse(name.str(), &error);
    if (!dtype) {
      diags.error(where, "unknown data type '" + name +
                             "'; run 'tilus-dtype --list' for the valid names");
      return nullptr;
    }
    return getMLIRType(&context, *dtype);
  }

  /// Evaluates a compile-time integer expression over literals and
  /// compile-time parameters.
  mlir::FailureOr<int64_t> evalConstInt(const Expr &expr, StringRef what) {
    mlir::FailureOr<Val> val = genExpr(expr);
    if (mlir::failed(val))
      return mlir::failure();
    if (val->kind != Val::Kind::Int) {
      report(expr.loc, what + " must be a compile-time integer");
      return mlir::failure();
    }
    return val->intValue;
  }

  /// A register layout for `shape` over `numThreads` threads: threads first
  /// cover the innermost dimension (coalesced rows), registers repeat it.
  mlir::FailureOr<LayoutAttr> defaultLayout(llvm::ArrayRef<int64_t> shape,
                                            SMLoc where) {
    std::vector<int64_t> spatial(shape.size(), 1), local(shape.size());
    int64_t remaining = numThreads;
    for (size_t i = shape.size(); i-- > 0;) {
      spatial[i] = std::gcd(shape[i], remaining);
      remaining /= spatial[i];
      local[i] = shape[i] / spatial[i];
    }
    if (remaining != 1) {
      std::string dims;
      llvm::raw_string_ostream os(dims);
      llvm::interleaveComma(shape, os);
      report(where, "a tile of shape [" + dims + "] cannot be spread over " +
                       Twine(numThreads) +
                       " threads without replication; use a tile with a "
                       "multiple of " +
                       Twine(numThreads) + " elements");
      return mlir::failure();
    }
    return LayoutAttr::get(&context, layout::local(local).spatial(spatial));
  }

  //===--------------------------------------------------------------------===//
  // Kernels
  //===--------------------------------------------------------------------===//

  mlir::LogicalResult genKernel(const Kernel &kernel) {
    consts.clear();
    vars.clear();
    for (const ConstParam &param : kernel.constParams) {
      if (consts.count(param.name))
        return error(param.loc,
                     "duplicate compile-time parameter '" + param.name + "'");
      auto it = overrides.find(param.name);
      int64_t value;
      if (it != overrides.end()) {
        if (StringRef(it->second).getAsInteger(0, value))
          return error(param.loc, "-D " + param.name + "=" + it->second +
                                      ": expected an integer value");
      } else {
        mlir::FailureOr<int64_t> folded = evalConstInt(
            *param.defaultValue,
            "the default of '" + param.name + "'");
        if (mlir::failed(folded))
          return mlir::failure();
        value = *folded;
      }
      consts[param.name] = value;
    }

    mlir::FailureOr<int64_t> warps = evalConstInt(*kernel.warps, "'warps'");
    if (mlir::failed(warps))
      return mlir::failure();
    if (*warps < 1 || *warps > 32)
      return error(kernel.warps->loc, "'warps' must be between 1 and 32, got " +
                                          Twine(*warps));
    numThreads = *warps * kWarpSize;

    // Signature: pointers for global tensors, scalars as themselves.
    llvm::SmallVector<mlir::Type> argTypes;
    llvm::StringMap<const Param *> paramByName;
    for (const Param &param : kernel.params) {
      if (consts.count(param.name) || !paramByName.insert({param.name, &param}).second)
        return error(param.loc, "duplicate parameter '" + param.name + "'");
      mlir::Type type = expectDType(param.dtype, param.dtypeLoc);
      if (!type)
        return mlir::failure();
      if (param.isGlobal) {
        argTypes.push_back(mlir::LLVM::LLVMPointerType::get(&context, 1));
        continue;
      }
      if (!type.isSignlessInteger(32) && !type.isSignlessInteger(64) &&
          !type.isF32())
        return error(param.dtypeLoc, "scalar parameter '" + param.name +
                                         "' must be i32, i64 or f32, got '" +
                                         param.dtype + "'");
      if (param.divisibility && !type.isSignlessInteger())
        return error(param.loc, "divisibility '%" +
                                    Twine(*param.divisibility) +
                                    "' applies only to integer parameters");
      argTypes.push_back(type);
    }

    auto funcType = builder.getFunctionType(argTypes, {});
    auto func = builder.create<mlir::func::FuncOp>(loc(kernel.loc),
                                                   kernel.name, funcType);
    func->setAttr(kernel_attr::kKernel, builder.getUnitAttr());
    func->setAttr(kernel_attr::kNumWarps, builder.getI32IntegerAttr(*warps));
    mlir::Block *entry = func.addEntryBlock();
    builder.setInsertionPointToStart(entry);

    for (auto [index, param] : llvm::enumerate(kernel.params))
      if (param.divisibility)
        func.setArgAttr(index, kernel_attr::kDivisibility,
                        builder.getI64IntegerAttr(*param.divisibility));

    // Scalars first, so global shapes can name them.
    for (auto [index, param] : llvm::enumerate(kernel.params))
      if (!param.isGlobal)
        vars[param.name] = Val::of(Val::Kind::Scalar, entry->getArgument(index));
    for (auto [index, param] : llvm::enumerate(kernel.params)) {
      if (!param.isGlobal)
        continue;
      llvm::SmallVector<int64_t> shape;
      llvm::SmallVector<mlir::Value> dynamic;
      for (const ExprPtr &extent : param.shape) {
        mlir::FailureOr<Val> val = genExpr(*extent);
        if (mlir::failed(val))
          return mlir::failure();
        if (val->kind == Val::Kind::Int) {
          if (val->intValue < 1)
            return error(extent->loc, "tensor extent must be positive, got " +
                                          Twine(val->intValue));
          shape.push_back(val->intValue);
        } else if (val->kind == Val::Kind::Scalar &&
                   val->value.getType().isSignlessInteger()) {
          shape.push_back(mlir::ShapedType::kDynamic);
          dynamic.push_back(val->value);
        } else {
          return error(extent->loc,
                       "tensor extent must be an integer parameter or a "
                       "compile-time integer");
        }
      }
      auto type =
          GlobalTensorType::get(&context, shape, parseDType(param.dtype));
      mlir::Value view = builder.create<GlobalViewOp>(
          loc(param.loc), type, entry->getArgument(index), dynamic);
      vars[param.name] = Val::of(Val::Kind::Global, view);
    }

    // The grid is evaluated on the host at launch: keep it as text.
    llvm::SmallVector<mlir::Attribute> grid;
    for (const ExprPtr &extent : kernel.grid) {
      std::string text;
      llvm::raw_string_ostream os(text);
      if (mlir::failed(renderHostExpr(*extent, kernel, os)))
        return mlir::failure();
      grid.push_back(builder.getStringAttr(text));
    }
    while (grid.size() < 3)
      grid.push_back(builder.getStringAttr("1"));
    func->setAttr(kernel_attr::kGrid, builder.getArrayAttr(grid));

    if (mlir::failed(genBlock(kernel.body)))
      return mlir::failure();
    builder.create<mlir::func::ReturnOp>(loc(kernel.loc));
    return recordKernelInfo(kernel, grid);
  }

  /// The host-side facts of `kernel`, for the runtime.
  mlir::LogicalResult recordKernelInfo(const Kernel &kernel,
                                       llvm::ArrayRef<mlir::Attribute> grid) {
    KernelInfo info;
    info.name = kernel.name;
    info.numThreads = static_cast<int>(numThreads);
    info.constants.insert(consts.begin(), consts.end());
    for (auto [dim, extent] : llvm::enumerate(grid))
      info.grid[dim] = llvm::cast<mlir::StringAttr>(extent).str();
    for (const Param &param : kernel.params) {
      ParamInfo p;
      p.name = param.name;
      p.isGlobal = param.isGlobal;
      p.dtype = param.dtype;
      p.divisibility = param.divisibility.value_or(1);
      for (const ExprPtr &extent : param.shape) {
        std::string text;
        llvm::raw_string_ostream os(text);
        if (mlir::failed(renderHostExpr(*extent, kernel, os)))
          return mlir::failure();
        p.shape.push_back(text);
      }
      info.params.push_back(std::move(p));
    }
    infos.push_back(std::move(info));
    return mlir::success();
  }

  /// Writes a grid extent as a host expression over the scalar parameters,
  /// with compile-time parameters replaced by their values.
  mlir::LogicalResult renderHostExpr(const Expr &expr, const Kernel &kernel,
                                     llvm::raw_ostream &os) {
    switch (expr.kind) {
    case Expr::Kind::IntLiteral:
      os << expr.intValue;
      return mlir::success();
    case Expr::Kind::Name: {
      auto it = consts.find(expr.name);
      if (it != consts.end()) {
        os << it->second;
        return mlir::success();
      }
      for (const Param &param : kernel.params)
        if (param.name == expr.name && !param.isGlobal &&
            parseDType(param.dtype).isSignlessInteger()) {
          os << expr.name;
          return mlir::success();
        }
      return error(expr.loc, "grid extents may use only integer scalar "
                             "parameters and compile-time parameters; '" +
                                 expr.name + "' is neither");
    }
    case Expr::Kind::Binary:
      os << "(";
      if (mlir::failed(renderHostExpr(*expr.operands[0], kernel, os)))
        return mlir::failure();
      os << " " << expr.op << " ";
      if (mlir::failed(renderHostExpr(*expr.operands[1], kernel, os)))
        return mlir::failure();
      os << ")";
      return mlir::success();
    case Expr::Kind::Call:
      if ((expr.name == "cdiv" || expr.name == "min" || expr.name == "max") &&
          expr.operands.size() == 2) {
        os << expr.name << "(";
        if (mlir::failed(renderHostExpr(*expr.operands[0], kernel, os)))
          return mlir::failure();
        os << ", ";
        if (mlir::failed(renderHostExpr(*expr.operands[1], kernel, os)))
          return mlir::failure();
        os << ")";
        return mlir::success();
      }
      break;
    default:
      break;
    }
    return error(expr.loc, "grid extents may use integers, integer "
                           "parameters, + - * / % and cdiv/min/max");
  }

  //===--------------------------------------------------------------------===//
  // Statements
  //===--------------------------------------------------------------------===//

  mlir::LogicalResult genBlock(const std::vector<StmtPtr> &body) {
    for (const StmtPtr &stmt : body)
      if (mlir::failed(genStmt(*stmt)))
        return mlir::failure();
    return mlir::success();
  }

  mlir::LogicalResult genStmt(const Stmt &stmt) {
    switch (stmt.kind) {
    case Stmt::Kind::Assign: {
      if (consts.count(stmt.name))
        return error(stmt.nameLoc, "cannot assign to compile-time parameter '" +
                                       stmt.name + "'");
      mlir::FailureOr<Val> value = genExpr(*stmt.value);
      if (mlir::failed(value))
        return mlir::failure();
      if (value->kind == Val::Kind::Global)
        return error(stmt.value->loc,
                     "global tensors cannot be assigned to variables");
      auto it = vars.find(stmt.name);
      if (it != vars.end() && it->second.kind == Val::Kind::Global)
        return error(stmt.nameLoc, "cannot assign to global tensor '" +
                                       stmt.name + "'");
      vars[stmt.name] = *value;
      assignLocs[stmt.name] = stmt.nameLoc;
      return mlir::success();
    }
    case Stmt::Kind::Expr: {
      if (stmt.value->kind != Expr::Kind::Call ||
          stmt.value->name != "store_global")
        return error(stmt.loc, "this expression statement has no effect; "
                               "only store_global(...) may stand alone");
      return mlir::success(!mlir::failed(genExpr(*stmt.value)));
    }
    case Stmt::Kind::For:
      return genFor(stmt);
    }
    return mlir::failure();
  }

  static void collectAssigned(const std::vector<StmtPtr> &body,
                              llvm::SmallVectorImpl<std::string> &names) {
    for (const StmtPtr &stmt : body) {
      if (stmt->kind == Stmt::Kind::Assign &&
          !llvm::is_contained(names, stmt->name))
        names.push_back(stmt->name);
      if (stmt->kind == Stmt::Kind::For)
        collectAssigned(stmt->body, names);
    }
  }

  /// Materialises a value that must exist at run time (loop bounds and
  /// loop-carried variables). Integers become i32, floats f32.
  mlir::Value materialize(const Val &val, SMLoc where) {
    if (val.kind == Val::Kind::Int)
      return builder.create<mlir::arith::ConstantIntOp>(loc(where),
                                                        val.intValue, 32);
    if (val.kind == Val::Kind::Float)
      return builder.create<mlir::arith::ConstantFloatOp>(
          loc(where), llvm::APFloat(static_cast<float>(val.floatValue)),
          builder.getF32Type());
    return val.value;
  }

  mlir::FailureOr<mlir::Value> genIndexScalar(const Expr &expr,
                                              StringRef what) {
    mlir::FailureOr<Val> val = genExpr(expr);
    if (mlir::failed(val))
      return mlir::failure();
    if (val->kind == Val::Kind::Int)
      return materialize(*val, expr.loc);
    if (val->kind == Val::Kind::Scalar &&
        val->value.getType().isSignlessInteger(32))
      return val->value;
    report(expr.loc, what + " must be an i32 value");
    return mlir::failure();
  }

  mlir::LogicalResult genFor(const Stmt &stmt) {
    mlir::FailureOr<mlir::Value> start =
        genIndexScalar(*stmt.start, "the loop start");
    if (mlir::failed(start))
      return mlir::failure();
    mlir::FailureOr<mlir::Value> stop =
        genIndexScalar(*stmt.stop, "the loop bound");
    if (mlir::failed(stop))
      return mlir::failure();
    mlir::Value step;
    if (stmt.step) {
      mlir::FailureOr<Val> stepVal = genExpr(*stmt.step);
      if (mlir::failed(stepVal))
        return mlir::failure();
      if (stepVal->kind != Val::Kind::Int || stepVal->intValue < 1)
        return error(stmt.step->loc,
                     "the loop step must be a positive compile-time integer");
      step = materialize(*stepVal, stmt.step->loc);
    } else {
      step = materialize(Val::constInt(1), stmt.loc);
    }

    // Variables defined before the loop and assigned in it are carried.
    llvm::SmallVector<std::string> assigned, carried;
    collectAssigned(stmt.body, assigned);
    llvm::SmallVector<mlir::Value> inits;
    for (const std::string &name : assigned) {
      auto it = vars.find(name);
      if (it == vars.end() || name == stmt.name)
        continue;
      carried.push_back(name);
      inits.push_back(materialize(it->second, stmt.loc));
    }

    auto forOp = builder.create<mlir::scf::ForOp>(loc(stmt.loc), *start, *stop,
                                                  step, inits);
    std::map<std::string, Val> outer = vars;
    mlir::OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(forOp.getBody());
    vars[stmt.name] = Val::of(Val::Kind::Scalar, forOp.getInductionVar());
    for (auto [name, arg] : llvm::zip(carried, forOp.getRegionIterArgs()))
      vars[name] = Val::of(outer[name].isConst() ? Val::Kind::Scalar
                                                 : outer[name].kind,
                           arg);
    if (mlir::failed(genBlock(stmt.body)))
      return mlir::failure();
    llvm::SmallVector<mlir::Value> yields;
    for (auto [name, init] : llvm::zip(carried, inits)) {
      Val &now = vars[name];
      mlir::Value value = materialize(now, assignLocs[name]);
      if (value.getType() != init.getType())
        return error(assignLocs[name],
                     "variable '" + name + "' is carried around the loop as " +
                         typeToString(init.getType()) + " but assigned " +
                         typeToString(value.getType()) + " in it");
      yields.push_back(value);
    }
    // scf.for builds an empty yield when there are no iter_args.
    if (!carried.empty())
      builder.create<mlir::scf::YieldOp>(loc(stmt.loc), yields);
    builder.setInsertionPointAfter(forOp);
    vars = std::move(outer);
    for (auto [name, result] : llvm::zip(carried, forOp.getResults()))
      vars[name] = Val::of(llvm::isa<TileType>(result.getType()) ? Val::Kind::Tile
                                                           : Val::Kind::Scalar,
                           result);
    return mlir::success();
  }

  //===--------------------------------------------------------------------===//
  // Expressions
  //===--------------------------------------------------------------------===//

  mlir::FailureOr<Val> genExpr(const Expr &expr) {
    switch (expr.kind) {
    case Expr::Kind::IntLiteral:
      return Val::constInt(expr.intValue);
    case Expr::Kind::FloatLiteral:
      return Val::constFloat(expr.floatValue);
    case Expr::Kind::Name: {
      auto c = consts.find(expr.name);
      if (c != consts.end())
        return Val::constInt(c->second);
      auto v = vars.find(expr.name);
      if (v != vars.end())
        return v->second;
      report(expr.loc, "use of undefined name '" + expr.name + "'");
      return mlir::failure();
    }
    case Expr::Kind::Member:
      return genMember(expr);
    case Expr::Kind::Unary: {
      mlir::FailureOr<Val> operand = genExpr(*expr.operands[0]);
      if (mlir::failed(operand))
        return mlir::failure();
      if (operand->kind == Val::Kind::Int)
        return Val::constInt(-operand->intValue);
      if (operand->kind == Val::Kind::Float)
        return Val::constFloat(-operand->floatValue);
      return genBinary('-', expr, Val::constInt(0), *operand);
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
    }
    return mlir::failure();
  }

  mlir::FailureOr<Val> genMember(const Expr &expr) {
    static const char *const kDims[] = {"x", "y", "z"};
    int dim = -1;
    for (int i = 0; i < 3; ++i)
      if (expr.member == kDims[i])
        dim = i;
    if (expr.name == "blockIdx" && dim >= 0)
      return Val::of(Val::Kind::Scalar,
                     builder.create<BlockIdxOp>(loc(expr.loc),
                                                builder.getI32Type(), dim));
    if (expr.name == "threadIdx" && dim == 0)
      return Val::of(Val::Kind::Scalar,
                     builder.create<ThreadIdxOp>(loc(expr.loc),
                                                 builder.getI32Type()));
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

  /// Gives a compile-time constant the type `type` (a scalar type).
  mlir::FailureOr<mlir::Value> constantOf(const Val &val, mlir::Type type,
                                          SMLoc where) {
    mlir::Location l = loc(where);
    if (auto intType = llvm::dyn_cast<mlir::IntegerType>(type)) {
      if (val.kind == Val::Kind::Float) {
        report(where, "a float constant cannot be used as " +
                         typeToString(type));
        return mlir::failure();
      }
      mlir::Value constant = builder.create<mlir::arith::ConstantOp>(
          l, builder.getIntegerAttr(intType, val.intValue));
      return constant;
    }
    auto floatType = llvm::dyn_cast<mlir::FloatType>(type);
    if (!floatType) {
      report(where, "constants of type " + typeToString(type) +
                        " are not supported yet");
      return mlir::failure();
    }
    double value = val.kind == Val::Kind::Int
                       ? static_cast<double>(val.intValue)
                       : val.floatValue;
    mlir::Value constant = builder.create<mlir::arith::ConstantOp>(
        l, builder.getFloatAttr(floatType, value));
    return constant;
  }

  mlir::FailureOr<Val> foldConstants(char op, const Expr &expr, const Val &lhs,
                                     const Val &rhs) {
    if (lhs.kind == Val::Kind::Int && rhs.kind == Val::Kind::Int) {
      int64_t a = lhs.intValue, b = rhs.intValue;
      switch (op) {
      case '+':
        return Val::constInt(a + b);
      case '-':
        return Val::constInt(a - b);
      case '*':
        return Val::constInt(a * b);
      case '/':
      case '%':
        if (b == 0) {
          report(expr.loc, "division by zero in a constant expression");
          return mlir::failure();
        }
        return Val::constInt(op == '/' ? a / b : a % b);
      }
    }
    double a = lhs.kind == Val::Kind::Int ? lhs.intValue : lhs.floatValue;
    double b = rhs.kind == Val::Kind::Int ? rhs.intValue : rhs.floatValue;
    switch (op) {
    case '+':
      return Val::constFloat(a + b);
    case '-':
      return Val::constFloat(a - b);
    case '*':
      return Val::constFloat(a * b);
    case '/':
      return Val::constFloat(a / b);
    }
    report(expr.loc, "'%' needs integer operands");
    return mlir::failure();
  }

  mlir::FailureOr<Val> genBinary(char op, const Expr &expr, Val lhs, Val rhs) {
    if (lhs.isConst() && rhs.isConst())
      return foldConstants(op, expr, lhs, rhs);
    if (lhs.kind == Val::Kind::Global || rhs.kind == Val::Kind::Global) {
      report(expr.loc, quoted(op) +
                          " cannot take a global tensor; load a tile "
                          "with load_global first");
      return mlir::failure();
    }
    // Broadcast scalars to tiles, give constants the other side's type.
    bool isTile = lhs.kind == Val::Kind::Tile || rhs.kind == Val::Kind::Tile;
    mlir::Type type = (lhs.isConst() ? rhs : lhs).value.getType();
    mlir::Type elementType =
        isTile ? llvm::cast<TileType>(lhs.kind == Val::Kind::Tile
                                          ? lhs.value.getType()
                                          : rhs.value.getType())
                     .getElementType()
               : type;
    auto coerce = [&](Val &val, SMLoc where) -> mlir::LogicalResult {
      if (val.isConst()) {
        mlir::FailureOr<mlir::Value> c = constantOf(val, elementType, where);
        if (mlir::failed(c))
          return mlir::failure();
        val = Val::of(Val::Kind::Scalar, *c);
      }
      if (val.kind == Val::Kind::Scalar && isTile) {
        if (val.value.getType() != elementType)
          return error(expr.loc, quoted(op) + " between " +
                                     typeToString(val.value.getType()) +
                                     " and a tile of " +
                                     typeToString(elementType) +
                                     " needs a cast");
        auto tileType = llvm::cast<TileType>(
            (lhs.kind == Val::Kind::Tile ? lhs : rhs).value.getType());
        val = Val::of(Val::Kind::Tile, builder.create<FullOp>(
                                           loc(where), tileType, val.value));
      }
      return mlir::success();
    };
    if (mlir::failed(coerce(lhs, expr.operands.empty() ? expr.loc
                                                       : expr.operands[0]->loc)) ||
        mlir::failed(coerce(rhs, expr.operands.size() < 2
                                     ? expr.loc
                                     : expr.operands[1]->loc)))
      return mlir::failure();
    if (lhs.value.getType() != rhs.value.getType()) {
      report(expr.loc, quoted(op) + " has mismatched operand types " +
                          typeToString(lhs.value.getType()) + " and " +
                          typeToString(rhs.value.getType()));
      return mlir::failure();
    }
    mlir::Location l = loc(expr.loc);
    if (isTile) {
      std::optional<DType> dtype = getDType(elementType);
      if (dtype && (dtype->bitWidth() % 8 != 0 ||
                    (dtype->isFloat() && dtype->bitWidth() < 16))) {
        report(expr.loc, quoted(op) + " on tiles of " + dtype->name() +
                             " is not supported; arithmetic needs a type of "
                             "whole bytes such as f16, f32 or an integer");
        return mlir::failure();
      }
      mlir::Value result;
      switch (op) {
      case '+':
        result = builder.create<AddOp>(l, lhs.value, rhs.value);
        break;
      case '-':
        result = builder.create<SubOp>(l, lhs.value, rhs.value);
        break;
      case '*':
        result = builder.create<MulOp>(l, lhs.value, rhs.value);
        break;
      case '/':
        result = builder.create<DivOp>(l, lhs.value, rhs.value);
        break;
      default:
        report(expr.loc, quoted(op) + " is not defined on tiles yet");
        return mlir::failure();
      }
      return Val::of(Val::Kind::Tile, result);
    }
    mlir::Value a = lhs.value, b = rhs.value, result;
    bool isFloat = llvm::isa<mlir::FloatType>(a.getType());
    switch (op) {
    case '+':
      result = isFloat ? builder.create<mlir::arith::AddFOp>(l, a, b).getResult()
                       : builder.create<mlir::arith::AddIOp>(l, a, b).getResult();
      break;
    case '-':
      result = isFloat ? builder.create<mlir::arith::SubFOp>(l, a, b).getResult()
                       : builder.create<mlir::arith::SubIOp>(l, a, b).getResult();
      break;
    case '*':
      result = isFloat ? builder.create<mlir::arith::MulFOp>(l, a, b).getResult()
                       : builder.create<mlir::arith::MulIOp>(l, a, b).getResult();
      break;
    case '/':
      result = isFloat ? builder.create<mlir::arith::DivFOp>(l, a, b).getResult()
                       : builder.create<mlir::arith::DivSIOp>(l, a, b).getResult();
      break;
    case '%':
      if (isFloat) {
        report(expr.loc, "'%' needs integer operands");
        return mlir::failure();
      }
      result = builder.create<mlir::arith::RemSIOp>(l, a, b);
      break;
    }
    return Val::of(Val::Kind::Scalar, result);
  }

  mlir::LogicalResult checkArgCount(const Expr &call, size_t count,
                                    StringRef signature) {
    if (call.operands.size() != count)
      return error(call.loc, "'" + call.name + "' expects " + Twine(count) +
                                 " arguments (" + signature + "), got " +
                                 Twine(call.operands.size()));
    return mlir::success();
  }

  /// Evaluates a `[a, b, ...]` argument into values (constants folded).
  mlir::FailureOr<llvm::SmallVector<Val>> genList(const Expr &expr,
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

  mlir::FailureOr<llvm::SmallVector<int64_t>> genShape(const Expr &expr,
                                                       size_t rank) {
    mlir::FailureOr<llvm::SmallVector<Val>> values = genList(expr, "the shape");
    if (mlir::failed(values))
      return mlir::failure();
    if (rank && values->size() != rank) {
      report(expr.loc, "expected a shape of " + Twine(rank) + " extents, got " +
                          Twine(values->size()));
      return mlir::failure();
    }
    if (values->empty()) {
      report(expr.loc, "a tile shape needs at least one extent");
      return mlir::failure();
    }
    llvm::SmallVector<int64_t> shape;
    for (auto [i, val] : llvm::enumerate(*values)) {
      if (val.kind != Val::Kind::Int || val.intValue < 1) {
        report(expr.operands[i]->loc,
              "tile extents must be positive compile-time integers");
        return mlir::failure();
      }
      shape.push_back(val.intValue);
    }
    return shape;
  }

  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  genOffsets(const Expr &expr, size_t rank) {
    mlir::FailureOr<llvm::SmallVector<Val>> values =
        genList(expr, "the offsets");
    if (mlir::failed(values))
      return mlir::failure();
    if (values->size() != rank) {
      report(expr.loc, "expected " + Twine(rank) +
                          " offsets for a rank-" + Twine(rank) +
                          " tensor, got " + Twine(values->size()));
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

  mlir::FailureOr<Val> genGlobalArg(const Expr &expr, StringRef callee) {
    mlir::FailureOr<Val> val = genExpr(expr);
    if (mlir::failed(val))
      return mlir::failure();
    if (val->kind != Val::Kind::Global) {
      report(expr.loc, "the first argument of '" + callee +
                          "' must be a global tensor parameter");
      return mlir::failure();
    }
    return val;
  }

  mlir::FailureOr<Val> genCall(const Expr &call) {
    StringRef name = call.name;
    mlir::Location l = loc(call.loc);
    if (name == "load_global") {
      if (mlir::failed(checkArgCount(call, 3, "tensor, [offsets], [shape]")))
        return mlir::failure();
      mlir::FailureOr<Val> src = genGlobalArg(*call.operands[0], name);
      if (mlir::failed(src))
        return mlir::failure();
      auto global = llvm::cast<GlobalTensorType>(src->value.getType());
      mlir::FailureOr<llvm::SmallVector<mlir::Value>> offsets =
          genOffsets(*call.operands[1], global.getRank());
      if (mlir::failed(offsets))
        return mlir::failure();
      mlir::FailureOr<llvm::SmallVector<int64_t>> shape =
          genShape(*call.operands[2], global.getRank());
      if (mlir::failed(shape))
        return mlir::failure();
      mlir::FailureOr<LayoutAttr> layout = defaultLayout(*shape, call.loc);
      if (mlir::failed(layout))
        return mlir::failure();
      auto tile =
          TileType::get(&context, *shape, global.getElementType(), *layout);
      return Val::of(Val::Kind::Tile, builder.create<LoadGlobalOp>(
                                          l, tile, src->value, *offsets));
    }
    if (name == "store_global") {
      if (mlir::failed(checkArgCount(call, 3, "tensor, tile, [offsets]")))
        return mlir::failure();
      mlir::FailureOr<Val> dst = genGlobalArg(*call.operands[0], name);
      if (mlir::failed(dst))
        return mlir::failure();
      auto global = llvm::cast<GlobalTensorType>(dst->value.getType());
      mlir::FailureOr<Val> value = genExpr(*call.operands[1]);
      if (mlir::failed(value))
        return mlir::failure();
      if (value->kind != Val::Kind::Tile) {
        report(call.operands[1]->loc, "the value stored by 'store_global' "
                                     "must be a tile");
        return mlir::failure();
      }
      auto tile = llvm::cast<TileType>(value->value.getType());
      if (tile.getElementType() != global.getElementType() ||
          tile.getRank() != global.getRank()) {
        report(call.operands[1]->loc,
              "cannot store a " + typeToString(tile) + " into a tensor of " +
                  typeToString(global.getElementType()) + " with rank " +
                  Twine(global.getRank()));
        return mlir::failure();
      }
      mlir::FailureOr<llvm::SmallVector<mlir::Value>> offsets =
          genOffsets(*call.operands[2], global.getRank());
      if (mlir::failed(offsets))
        return mlir::failure();
      builder.create<StoreGlobalOp>(l, value->value, dst->value, *offsets);
      return Val::constInt(0);
    }
    if (name == "zeros") {
      if (mlir::failed(checkArgCount(call, 2, "dtype, [shape]")))
        return mlir::failure();
      const Expr &dtypeExpr = *call.operands[0];
      if (dtypeExpr.kind != Expr::Kind::Name) {
        report(dtypeExpr.loc, "expected a data type name");
        return mlir::failure();
      }
      mlir::Type elementType = expectDType(dtypeExpr.name, dtypeExpr.loc);
      if (!elementType)
        return mlir::failure();
      mlir::FailureOr<llvm::SmallVector<int64_t>> shape =
          genShape(*call.operands[1], 0);
      if (mlir::failed(shape))
        return mlir::failure();
      mlir::FailureOr<LayoutAttr> layout = defaultLayout(*shape, call.loc);
      if (mlir::failed(layout))
        return mlir::failure();
      mlir::FailureOr<mlir::Value> zero =
          constantOf(Val::constInt(0), elementType, call.loc);
      if (mlir::failed(zero))
        return mlir::failure();
      auto tile = TileType::get(&context, *shape, elementType, *layout);
      return Val::of(Val::Kind::Tile, builder.create<FullOp>(l, tile, *zero));
    }
    if (name == "cdiv" || name == "min" || name == "max") {
      if (mlir::failed(checkArgCount(call, 2, "a, b")))
        return mlir::failure();
      mlir::FailureOr<Val> a = genExpr(*call.operands[0]);
      if (mlir::failed(a))
        return mlir::failure();
      mlir::FailureOr<Val> b = genExpr(*call.operands[1]);
      if (mlir::failed(b))
        return mlir::failure();
      if (a->kind == Val::Kind::Int && b->kind == Val::Kind::Int) {
        if (name == "cdiv") {
          if (b->intValue <= 0) {
            report(call.loc, "'cdiv' needs a positive divisor");
            return mlir::failure();
          }
          return Val::constInt((a->intValue + b->intValue - 1) / b->intValue);
        }
        return Val::constInt(name == "min" ? std::min(a->intValue, b->intValue)
                                           : std::max(a->intValue, b->intValue));
      }
      mlir::FailureOr<mlir::Value> x = genIntScalar(*a, call.operands[0]->loc);
      mlir::FailureOr<mlir::Value> y = genIntScalar(*b, call.operands[1]->loc);
      if (mlir::failed(x) || mlir::failed(y))
        return mlir::failure();
      if ((*x).getType() != (*y).getType()) {
        report(call.loc, "'" + name + "' has mismatched operand types");
        return mlir::failure();
      }
      mlir::Value result;
      if (name == "min")
        result = builder.create<mlir::arith::MinSIOp>(l, *x, *y);
      else if (name == "max")
        result = builder.create<mlir::arith::MaxSIOp>(l, *x, *y);
      else
        result = builder.create<mlir::arith::CeilDivSIOp>(l, *x, *y);
      return Val::of(Val::Kind::Scalar, result);
    }
    report(call.loc, "unknown function '" + name +
                        "'; expected load_global, store_global, zeros, "
                        "cdiv, min or max");
    return mlir::failure();
  }

  mlir::FailureOr<mlir::Value> genIntScalar(const Val &val, SMLoc where) {
    if (val.kind == Val::Kind::Int)
      return materialize(val, where);
    if (val.kind == Val::Kind::Scalar &&
        val.value.getType().isSignlessInteger())
      return val.value;
    report(where, "expected an integer scalar");
    return mlir::failure();
  }

  mlir::MLIRContext &context;
  mlir::OpBuilder builder;
  DiagnosticEngine &diags;
  const ConstOverrides &overrides;
  std::map<std::string, int64_t> consts;
  std::map<std::string, Val> vars;
  std::map<std::string, SMLoc> assignLocs;
  int64_t numThreads = 0;
  std::vector<KernelInfo> infos;
};

} // namespace

mlir::OwningOpRef<mlir::ModuleOp>
tilus::lowerToTilus(const Module &module, mlir::MLIRContext &context,
                    DiagnosticEngine &diags, const ConstOverrides &overrides,
                    std::vector<KernelInfo> *kernels) {
  context.loadDialect<TilusDialect, mlir::func::FuncDialect,
                      mlir::arith::ArithDialect, mlir::scf::SCFDialect,
                      mlir::LLVM::LLVMDialect>();
  Generator generator(context, diags, overrides);
  mlir::OwningOpRef<mlir::ModuleOp> result = generator.run(module);
  if (!result || diags.getNumErrors())
    return nullptr;
  if (kernels)
    *kernels = generator.takeKernelInfos();
  return result;
}
