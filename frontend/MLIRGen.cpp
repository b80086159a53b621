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
#include "frontend/LayoutText.h"

#include "ir/dialect/Tilus.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSwitch.h"
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
  enum class Kind { Int, Float, Scalar, Tile, Global, Shared };
  Kind kind = Kind::Int;
  int64_t intValue = 0;
  double floatValue = 0;
  mlir::Value value; ///< Scalar, Tile, Global, Shared

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
  /// A data type name, or a compile-time parameter holding one.
  std::string resolveDType(StringRef name) {
    auto it = typeConsts.find(name.str());
    return it != typeConsts.end() ? it->second : name.str();
  }

  mlir::Type parseDType(StringRef name) {
    std::optional<DType> dtype = DType::parse(resolveDType(name));
    return dtype ? getMLIRType(&context, *dtype) : mlir::Type();
  }

  mlir::Type expectDType(StringRef name, SMLoc where) {
    std::string error;
    std::optional<DType> dtype = DType::parse(resolveDType(name), &error);
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

  /// A tile type without a layout: layout inference gives it one.
  TileType tileType(llvm::ArrayRef<int64_t> shape, mlir::Type elementType) {
    return TileType::get(&context, shape, elementType, LayoutAttr());
  }

  //===--------------------------------------------------------------------===//
  // Kernels
  //===--------------------------------------------------------------------===//

  mlir::LogicalResult genKernel(const Kernel &kernel) {
    consts.clear();
    vars.clear();
    typeConsts.clear();
    for (const ConstParam &param : kernel.constParams) {
      if (consts.count(param.name) || typeConsts.count(param.name))
        return error(param.loc,
                     "duplicate compile-time parameter '" + param.name + "'");
      auto it = overrides.find(param.name);
      // A parameter whose default names a data type holds a type (`T = f16`).
      const Expr &init = *param.defaultValue;
      if (init.kind == Expr::Kind::Name && !consts.count(init.name) &&
          DType::parse(resolveDType(init.name))) {
        std::string type =
            it != overrides.end() ? it->second : resolveDType(init.name);
        if (!DType::parse(type))
          return error(param.loc, "-D " + param.name + "=" + type +
                                      ": expected a data type name");
        typeConsts[param.name] = type;
        continue;
      }
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
        return error(param.loc, "a divisibility fact '%' applies only to "
                                "integer parameters");
      argTypes.push_back(type);
    }

    auto funcType = builder.getFunctionType(argTypes, {});
    auto func = builder.create<mlir::func::FuncOp>(loc(kernel.loc),
                                                   kernel.name, funcType);
    currentFunc = func;
    currentKernel = &kernel;
    func->setAttr(kernel_attr::kKernel, builder.getUnitAttr());
    func->setAttr(kernel_attr::kNumWarps, builder.getI32IntegerAttr(*warps));
    mlir::Block *entry = func.addEntryBlock();
    builder.setInsertionPointToStart(entry);

    for (auto [index, param] : llvm::enumerate(kernel.params)) {
      if (!param.divisibility)
        continue;
      mlir::FailureOr<int64_t> divisor =
          evalConstInt(*param.divisibility, "a divisibility fact");
      if (mlir::failed(divisor))
        return mlir::failure();
      if (*divisor < 1)
        return error(param.divisibility->loc,
                     "divisibility must be a positive integer, got " +
                         Twine(*divisor));
      func.setArgAttr(index, kernel_attr::kDivisibility,
                      builder.getI64IntegerAttr(*divisor));
    }

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
      p.dtype = resolveDType(param.dtype);
      if (auto fact = currentFunc.getArgAttrOfType<mlir::IntegerAttr>(
              &param - kernel.params.data(), kernel_attr::kDivisibility))
        p.divisibility = fact.getInt();
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
      if (expr.name == "bits") {
        mlir::FailureOr<int64_t> width = bitsOf(expr);
        if (mlir::failed(width))
          return mlir::failure();
        os << *width;
        return mlir::success();
      }
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

  /// The name of the flag that `break` clears; not a valid identifier.
  static constexpr const char *kRunning = "$running";

  static bool containsBreak(const Stmt &stmt) {
    if (stmt.kind == Stmt::Kind::Break)
      return true;
    // A break belongs to the innermost loop, so nested loops hide theirs.
    if (stmt.kind != Stmt::Kind::If)
      return false;
    for (const StmtPtr &inner : stmt.body)
      if (containsBreak(*inner))
        return true;
    for (const StmtPtr &inner : stmt.elseBody)
      if (containsBreak(*inner))
        return true;
    return false;
  }

  static bool bodyBreaks(const std::vector<StmtPtr> &body) {
    return llvm::any_of(body, [](const StmtPtr &s) { return containsBreak(*s); });
  }

  /// Generates `body`; once a statement may have run `break`, the rest of
  /// the block runs only while the loop is still running.
  mlir::LogicalResult genBlock(llvm::ArrayRef<StmtPtr> body) {
    for (size_t i = 0; i < body.size(); ++i) {
      if (mlir::failed(genStmt(*body[i])))
        return mlir::failure();
      if (containsBreak(*body[i]) && i + 1 < body.size() &&
          body[i]->kind != Stmt::Kind::Break) {
        llvm::ArrayRef<StmtPtr> rest = body.drop_front(i + 1);
        llvm::SmallVector<std::string> assigned;
        collectAssigned(rest, assigned);
        return genConditional(
            body[i + 1]->loc, vars[kRunning].value,
            [&] { return genBlock(rest); }, nullptr, assigned);
      }
      if (body[i]->kind == Stmt::Kind::Break)
        return mlir::success(); // the rest of the block is dead
    }
    return mlir::success();
  }

  mlir::LogicalResult genStmt(const Stmt &stmt) {
    switch (stmt.kind) {
    case Stmt::Kind::Assign:
      return genAssign(stmt);
    case Stmt::Kind::Expr: {
      static const char *const kStatements[] = {
          "store_global", "store_shared", "free_shared", "copy_async",
          "commit",       "wait",         "sync",        "print",
          "assume",       "atomic_add"};
      if (stmt.value->kind != Expr::Kind::Call ||
          !llvm::is_contained(kStatements, llvm::StringRef(stmt.value->name)))
        return error(stmt.loc, "this expression statement has no effect; only "
                               "store_global, store_shared, free_shared, "
                               "copy_async, commit, wait, sync, print, "
                               "assume and atomic_add may stand alone");
      return mlir::success(!mlir::failed(genExpr(*stmt.value)));
    }
    case Stmt::Kind::For:
      return genFor(stmt);
    case Stmt::Kind::If:
      return genIf(stmt);
    case Stmt::Kind::While:
      return genWhile(stmt);
    case Stmt::Kind::Break:
      if (!vars.count(kRunning))
        return error(stmt.loc, "'break' outside a loop");
      vars[kRunning] =
          Val::of(Val::Kind::Scalar, builder.create<mlir::arith::ConstantIntOp>(
                                         loc(stmt.loc), 0, 1));
      return mlir::success();
    }
    return mlir::failure();
  }

  mlir::LogicalResult genAssign(const Stmt &stmt) {
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
      return error(stmt.nameLoc,
                   "cannot assign to global tensor '" + stmt.name + "'");
    if (!stmt.layout.empty() && mlir::failed(applyLayout(stmt, *value)))
      return mlir::failure();
    vars[stmt.name] = *value;
    assignLocs[stmt.name] = stmt.nameLoc;
    return mlir::success();
  }

  /// Pins the layout written in `name: layout = value;` on `value`: the
  /// instruction that made it produces that layout, or, for a value that
  /// already has one, a convert_layout moves it.
  mlir::LogicalResult applyLayout(const Stmt &stmt, Val &value) {
    // Arguments written over compile-time parameters become integers first;
    // offsets into the expanded text map back to the annotation.
    ExpandedLayoutText expanded;
    LayoutTextError textError;
    auto lookup = [&](std::string_view name) -> std::optional<int64_t> {
      if (name.substr(0, 5) == "bits(") {
        std::string type(name.substr(5, name.size() - 6));
        std::optional<DType> dtype = DType::parse(resolveDType(type));
        return dtype ? std::optional<int64_t>(dtype->bitWidth())
                     : std::nullopt;
      }
      auto it = consts.find(std::string(name));
      return it != consts.end() ? std::optional<int64_t>(it->second)
                                : std::nullopt;
    };
    auto source = [&](size_t offset) {
      return SMLoc::getFromPointer(stmt.layoutLoc.getPointer() + offset);
    };
    if (!expandLayoutText(stmt.layout, lookup, expanded, textError))
      return error(source(textError.offset),
                   "invalid layout: " + textError.message);
    auto at = [&](size_t offset) {
      return source(expanded.origin[std::min(offset,
                                             expanded.origin.size() - 1)]);
    };
    if (value.kind == Val::Kind::Shared) {
      auto layout = parseSharedLayout(expanded.text);
      if (!layout)
        return error(at(layout.error().offset),
                     "invalid shared layout: " + layout.error().message);
      auto type = llvm::cast<SharedTensorType>(value.value.getType());
      if (llvm::ArrayRef<int64_t>(layout->shape()) != type.getShape())
        return error(stmt.layoutLoc,
                     "the shared layout's shape does not match the tensor's");
      value.value.setType(SharedTensorType::get(
          &context, type.getShape(), type.getElementType(),
          SharedLayoutAttr::get(&context, *layout)));
      return mlir::success();
    }
    if (value.kind != Val::Kind::Tile)
      return error(stmt.layoutLoc, "only tiles and shared tensors have layouts");
    auto layout = parseRegisterLayout(expanded.text);
    if (!layout)
      return error(at(layout.error().offset),
                   "invalid layout: " + layout.error().message);
    auto tile = llvm::cast<TileType>(value.value.getType());
    if (llvm::ArrayRef<int64_t>(layout->shape()) != tile.getShape())
      return error(stmt.layoutLoc,
                   "layout shape " + shapeText(layout->shape()) +
                       " does not match the tile shape " +
                       shapeText(tile.getShape()));
    if (layout->numThreads() != numThreads)
      return error(stmt.layoutLoc, "layout spans " +
                                       Twine(layout->numThreads()) +
                                       " threads but the kernel has " +
                                       Twine(numThreads));
    auto pinned = TileType::get(&context, tile.getShape(),
                                tile.getElementType(),
                                LayoutAttr::get(&context, *layout));
    // Instructions with no tile operand produce the layout directly, and so
    // does a view, whose result layout says how it reinterprets the bits;
    // any other value is converted to it.
    mlir::Operation *producer = value.value.getDefiningOp();
    if (!tile.getLayout() && producer && value.value.use_empty() &&
        llvm::isa<LoadGlobalOp, LoadSharedOp, FullOp, ArangeOp, ViewOp>(
            producer)) {
      value.value.setType(pinned);
      return mlir::success();
    }
    value.value = builder.create<ConvertLayoutOp>(loc(stmt.layoutLoc), pinned,
                                                  value.value);
    return mlir::success();
  }

  static std::string shapeText(llvm::ArrayRef<int64_t> shape) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << "[";
    llvm::interleaveComma(shape, os);
    os << "]";
    return text;
  }

  static void collectAssigned(llvm::ArrayRef<StmtPtr> body,
                              llvm::SmallVectorImpl<std::string> &names) {
    for (const StmtPtr &stmt : body) {
      if (stmt->kind == Stmt::Kind::Assign &&
          !llvm::is_contained(names, stmt->name))
        names.push_back(stmt->name);
      if (stmt->kind == Stmt::Kind::Break &&
          !llvm::is_contained(names, kRunning))
        names.push_back(kRunning);
      if (stmt->kind == Stmt::Kind::For || stmt->kind == Stmt::Kind::While ||
          stmt->kind == Stmt::Kind::If) {
        collectAssigned(stmt->body, names);
        collectAssigned(stmt->elseBody, names);
      }
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

  static Val::Kind kindOf(mlir::Type type) {
    if (llvm::isa<TileType>(type))
      return Val::Kind::Tile;
    if (llvm::isa<SharedTensorType>(type))
      return Val::Kind::Shared;
    return Val::Kind::Scalar;
  }

  /// The variables of `names` defined now (and not compile-time constants),
  /// with their run-time values: what a region carries.
  void collectCarried(llvm::ArrayRef<std::string> names, SMLoc where,
                      llvm::SmallVectorImpl<std::string> &carried,
                      llvm::SmallVectorImpl<mlir::Value> &values) {
    for (const std::string &name : names) {
      auto it = vars.find(name);
      if (it == vars.end() || it->second.kind == Val::Kind::Global)
        continue;
      carried.push_back(name);
      values.push_back(materialize(it->second, where));
    }
  }

  /// The values of `carried` at the end of a region, checked against the
  /// types they entered it with.
  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  carriedValues(llvm::ArrayRef<std::string> carried, mlir::TypeRange types,
                StringRef what) {
    llvm::SmallVector<mlir::Value> values;
    for (auto [name, type] : llvm::zip(carried, types)) {
      SMLoc where = assignLocs.count(name) ? assignLocs[name] : SMLoc();
      mlir::Value value = materialize(vars[name], where);
      if (value.getType() != type) {
        report(where, "variable '" + name + "' is carried " + what + " as " +
                          typeToString(type) + " but assigned " +
                          typeToString(value.getType()) + " in it");
        return mlir::failure();
      }
      values.push_back(value);
    }
    return values;
  }

  void bindResults(llvm::ArrayRef<std::string> carried, mlir::ValueRange results) {
    for (auto [name, result] : llvm::zip(carried, results))
      vars[name] = Val::of(kindOf(result.getType()), result);
  }

  /// `if cond { then } else { otherwise }` over the variables `assigned` in
  /// either branch: those defined before become the results of an scf.if.
  mlir::LogicalResult
  genConditional(SMLoc where, mlir::Value cond,
                 llvm::function_ref<mlir::LogicalResult()> genThen,
                 llvm::function_ref<mlir::LogicalResult()> genElse,
                 llvm::ArrayRef<std::string> assigned) {
    llvm::SmallVector<std::string> carried;
    llvm::SmallVector<mlir::Value> before;
    collectCarried(assigned, where, carried, before);
    llvm::SmallVector<mlir::Type> types;
    for (mlir::Value value : before)
      types.push_back(value.getType());
    auto ifOp = builder.create<mlir::scf::IfOp>(loc(where), types, cond,
                                                /*withElseRegion=*/true);
    std::map<std::string, Val> outer = vars;
    auto genBranch = [&](mlir::Block *block,
                         llvm::function_ref<mlir::LogicalResult()> gen)
        -> mlir::LogicalResult {
      mlir::OpBuilder::InsertionGuard guard(builder);
      // scf.if's builder gives a result-less if an scf.yield already; the
      // branch is generated into an empty block and yields once at its end.
      block->clear();
      builder.setInsertionPointToEnd(block);
      vars = outer;
      if (gen && mlir::failed(gen()))
        return mlir::failure();
      auto values = carriedValues(carried, types, "out of the 'if'");
      if (mlir::failed(values))
        return mlir::failure();
      builder.create<mlir::scf::YieldOp>(loc(where), *values);
      return mlir::success();
    };
    if (mlir::failed(genBranch(ifOp.thenBlock(), genThen)) ||
        mlir::failed(genBranch(ifOp.elseBlock(), genElse)))
      return mlir::failure();
    vars = std::move(outer);
    bindResults(carried, ifOp.getResults());
    return mlir::success();
  }

  mlir::FailureOr<mlir::Value> genCondition(const Expr &expr, StringRef what) {
    mlir::FailureOr<Val> cond = genExpr(expr);
    if (mlir::failed(cond))
      return mlir::failure();
    if (cond->kind == Val::Kind::Int)
      return builder
          .create<mlir::arith::ConstantIntOp>(loc(expr.loc),
                                              cond->intValue != 0, 1)
          .getResult();
    if (cond->kind == Val::Kind::Scalar &&
        cond->value.getType().isSignlessInteger(1))
      return cond->value;
    report(expr.loc, what + " must be a scalar comparison (bool), got " +
                         describe(*cond));
    return mlir::failure();
  }

  mlir::LogicalResult genIf(const Stmt &stmt) {
    mlir::FailureOr<mlir::Value> cond =
        genCondition(*stmt.value, "the condition of 'if'");
    if (mlir::failed(cond))
      return mlir::failure();
    llvm::SmallVector<std::string> assigned;
    collectAssigned(stmt.body, assigned);
    collectAssigned(stmt.elseBody, assigned);
    return genConditional(
        stmt.loc, *cond, [&] { return genBlock(stmt.body); },
        [&] { return genBlock(stmt.elseBody); }, assigned);
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

  /// A loop as scf.while: `cond` is evaluated on the carried variables
  /// before each iteration, `body` runs after. `break` clears the running
  /// flag, which joins the condition.
  mlir::LogicalResult
  genWhileLoop(SMLoc where, llvm::function_ref<mlir::FailureOr<mlir::Value>()> cond,
               llvm::function_ref<mlir::LogicalResult()> body,
               llvm::SmallVectorImpl<std::string> &assigned, bool breaks) {
    if (breaks) {
      vars[kRunning] = Val::of(
          Val::Kind::Scalar,
          builder.create<mlir::arith::ConstantIntOp>(loc(where), 1, 1));
      if (!llvm::is_contained(assigned, kRunning))
        assigned.push_back(kRunning);
    }
    llvm::SmallVector<std::string> carried;
    llvm::SmallVector<mlir::Value> inits;
    collectCarried(assigned, where, carried, inits);
    llvm::SmallVector<mlir::Type> types;
    for (mlir::Value value : inits)
      types.push_back(value.getType());
    llvm::SmallVector<mlir::Location> locs(types.size(), loc(where));
    auto whileOp = builder.create<mlir::scf::WhileOp>(loc(where), types, inits);
    std::map<std::string, Val> outer = vars;
    {
      mlir::OpBuilder::InsertionGuard guard(builder);
      mlir::Block *before =
          builder.createBlock(&whileOp.getBefore(), {}, types, locs);
      bindResults(carried, before->getArguments());
      mlir::FailureOr<mlir::Value> test = cond();
      if (mlir::failed(test))
        return mlir::failure();
      mlir::Value go = *test;
      if (breaks)
        go = builder.create<mlir::arith::AndIOp>(loc(where), go,
                                                 vars[kRunning].value);
      builder.create<mlir::scf::ConditionOp>(loc(where), go,
                                             before->getArguments());
      mlir::Block *after =
          builder.createBlock(&whileOp.getAfter(), {}, types, locs);
      vars = outer;
      bindResults(carried, after->getArguments());
      if (mlir::failed(body()))
        return mlir::failure();
      auto values = carriedValues(carried, types, "around the loop");
      if (mlir::failed(values))
        return mlir::failure();
      builder.create<mlir::scf::YieldOp>(loc(where), *values);
    }
    vars = std::move(outer);
    vars.erase(kRunning);
    bindResults(carried, whileOp.getResults());
    vars.erase(kRunning);
    return mlir::success();
  }

  mlir::LogicalResult genWhile(const Stmt &stmt) {
    llvm::SmallVector<std::string> assigned;
    collectAssigned(stmt.body, assigned);
    std::optional<Val> savedRunning;
    if (vars.count(kRunning))
      savedRunning = vars[kRunning];
    mlir::LogicalResult result = genWhileLoop(
        stmt.loc,
        [&] { return genCondition(*stmt.value, "the condition of 'while'"); },
        [&] { return genBlock(stmt.body); }, assigned, bodyBreaks(stmt.body));
    if (savedRunning)
      vars[kRunning] = *savedRunning;
    return result;
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
    int64_t stepValue = 1;
    if (stmt.step) {
      mlir::FailureOr<Val> stepVal = genExpr(*stmt.step);
      if (mlir::failed(stepVal))
        return mlir::failure();
      if (stepVal->kind != Val::Kind::Int || stepVal->intValue < 1)
        return error(stmt.step->loc,
                     "the loop step must be a positive compile-time integer");
      stepValue = stepVal->intValue;
    }
    mlir::Value step = materialize(Val::constInt(stepValue), stmt.loc);

    llvm::SmallVector<std::string> assigned;
    collectAssigned(stmt.body, assigned);
    llvm::erase(assigned, stmt.name);
    std::optional<Val> savedRunning;
    if (vars.count(kRunning))
      savedRunning = vars[kRunning];
    std::optional<Val> shadowed;
    if (vars.count(stmt.name))
      shadowed = vars[stmt.name];

    if (bodyBreaks(stmt.body)) {
      // A loop that can break is a while loop over its induction variable.
      vars[stmt.name] = Val::of(Val::Kind::Scalar, *start);
      assigned.push_back(stmt.name);
      mlir::Value bound = *stop;
      mlir::LogicalResult result = genWhileLoop(
          stmt.loc,
          [&]() -> mlir::FailureOr<mlir::Value> {
            return builder
                .create<mlir::arith::CmpIOp>(loc(stmt.loc),
                                             mlir::arith::CmpIPredicate::slt,
                                             vars[stmt.name].value, bound)
                .getResult();
          },
          [&]() -> mlir::LogicalResult {
            mlir::Value index = vars[stmt.name].value;
            if (mlir::failed(genBlock(stmt.body)))
              return mlir::failure();
            vars[stmt.name] = Val::of(
                Val::Kind::Scalar,
                builder.create<mlir::arith::AddIOp>(loc(stmt.loc), index, step));
            return mlir::success();
          },
          assigned, /*breaks=*/true);
      vars.erase(stmt.name);
      if (shadowed)
        vars[stmt.name] = *shadowed;
      if (savedRunning)
        vars[kRunning] = *savedRunning;
      return result;
    }

    llvm::SmallVector<std::string> carried;
    llvm::SmallVector<mlir::Value> inits;
    collectCarried(assigned, stmt.loc, carried, inits);
    auto forOp = builder.create<mlir::scf::ForOp>(loc(stmt.loc), *start, *stop,
                                                  step, inits);
    if (stmt.unroll)
      forOp->setAttr(kernel_attr::kUnroll,
                     builder.getI64IntegerAttr(*stmt.unroll));
    std::map<std::string, Val> outer = vars;
    {
      mlir::OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToStart(forOp.getBody());
      vars[stmt.name] = Val::of(Val::Kind::Scalar, forOp.getInductionVar());
      bindResults(carried, forOp.getRegionIterArgs());
      if (mlir::failed(genBlock(stmt.body)))
        return mlir::failure();
      llvm::SmallVector<mlir::Type> types;
      for (mlir::Value init : inits)
        types.push_back(init.getType());
      auto values = carriedValues(carried, types, "around the loop");
      if (mlir::failed(values))
        return mlir::failure();
      // scf.for builds an empty yield when there are no iter_args.
      if (!carried.empty())
        builder.create<mlir::scf::YieldOp>(loc(stmt.loc), *values);
    }
    vars = std::move(outer);
    bindResults(carried, forOp.getResults());
    return mlir::success();
  }

  //===--------------------------------------------------------------------===//
  // Expressions
  //===--------------------------------------------------------------------===//

  static std::string describe(const Val &val) {
    switch (val.kind) {
    case Val::Kind::Int:
      return "an integer constant";
    case Val::Kind::Float:
      return "a float constant";
    case Val::Kind::Global:
      return "a global tensor";
    case Val::Kind::Shared:
      return "a shared tensor";
    default:
      return typeToString(val.value.getType());
    }
  }

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
      if (expr.name == "true" || expr.name == "false")
        return Val::constInt(expr.name == "true");
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

  mlir::FailureOr<Val> genNot(const Expr &expr, const Val &operand) {
    if (operand.kind == Val::Kind::Int)
      return Val::constInt(operand.intValue == 0);
    if (operand.kind == Val::Kind::Tile)
      return genUnaryTile(expr, UnaryKind::bitnot, operand);
    if (operand.kind == Val::Kind::Scalar &&
        operand.value.getType().isSignlessInteger(1)) {
      mlir::Value one =
          builder.create<mlir::arith::ConstantIntOp>(loc(expr.loc), 1, 1);
      return Val::of(Val::Kind::Scalar,
                     builder.create<mlir::arith::XOrIOp>(loc(expr.loc),
                                                         operand.value, one));
    }
    report(expr.loc, "'!' expects a bool or a tile, got " + describe(operand));
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
                        " are not supported; write a cast");
      return mlir::failure();
    }
    double value = val.kind == Val::Kind::Int
                       ? static_cast<double>(val.intValue)
                       : val.floatValue;
    mlir::Value constant = builder.create<mlir::arith::ConstantOp>(
        l, builder.getFloatAttr(floatType, value));
    return constant;
  }

  static bool isComparison(StringRef op) {
    return op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" ||
           op == ">=";
  }

  mlir::FailureOr<Val> foldConstants(StringRef op, const Expr &expr,
                                     const Val &lhs, const Val &rhs) {
    if (lhs.kind == Val::Kind::Int && rhs.kind == Val::Kind::Int) {
      int64_t a = lhs.intValue, b = rhs.intValue;
      if ((op == "/" || op == "%") && b == 0) {
        report(expr.loc, "division by zero in a constant expression");
        return mlir::failure();
      }
      int64_t r = llvm::StringSwitch<int64_t>(op)
                      .Case("+", a + b)
                      .Case("-", a - b)
                      .Case("*", a * b)
                      .Case("/", b ? a / b : 0)
                      .Case("%", b ? a % b : 0)
                      .Case("==", a == b)
                      .Case("!=", a != b)
                      .Case("<", a < b)
                      .Case("<=", a <= b)
                      .Case(">", a > b)
                      .Case(">=", a >= b)
                      .Case("&&", a && b)
                      .Case("||", a || b)
                      .Default(0);
      return Val::constInt(r);
    }
    double a = lhs.kind == Val::Kind::Int ? lhs.intValue : lhs.floatValue;
    double b = rhs.kind == Val::Kind::Int ? rhs.intValue : rhs.floatValue;
    if (op == "+")
      return Val::constFloat(a + b);
    if (op == "-")
      return Val::constFloat(a - b);
    if (op == "*")
      return Val::constFloat(a * b);
    if (op == "/")
      return Val::constFloat(a / b);
    if (isComparison(op))
      return Val::constInt(llvm::StringSwitch<bool>(op)
                               .Case("==", a == b)
                               .Case("!=", a != b)
                               .Case("<", a < b)
                               .Case("<=", a <= b)
                               .Case(">", a > b)
                               .Default(a >= b));
    report(expr.loc, "'" + op + "' needs integer operands");
    return mlir::failure();
  }

  /// Checks that arithmetic on tiles of `elementType` is possible.
  mlir::LogicalResult checkArithmeticType(StringRef op, mlir::Type elementType,
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
    return mlir::success();
  }

  /// Broadcasts tile `val` to `shape` (same rank, extent-1 dims repeat).
  Val broadcastTo(const Val &val, llvm::ArrayRef<int64_t> shape, SMLoc where) {
    auto tile = llvm::cast<TileType>(val.value.getType());
    if (tile.getShape() == shape)
      return val;
    return Val::of(Val::Kind::Tile,
                   builder.create<BroadcastOp>(
                       loc(where), tileType(shape, tile.getElementType()),
                       val.value));
  }

  /// Gives two tiles of one shape and element type one type: where only
  /// one has a layout (written in the source), the other is converted to it.
  void unifyLayouts(Val &a, Val &b, SMLoc where) {
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

  /// Brings two tiles to one shape by broadcasting extent-1 dimensions.
  mlir::LogicalResult broadcastPair(const Expr &expr, Val &a, Val &b) {
    auto ta = llvm::cast<TileType>(a.value.getType());
    auto tb = llvm::cast<TileType>(b.value.getType());
    if (ta.getShape() == tb.getShape())
      return mlir::success();
    if (ta.getRank() != tb.getRank())
      return error(expr.loc, "cannot broadcast tiles of shapes " +
                                 shapeText(ta.getShape()) + " and " +
                                 shapeText(tb.getShape()) +
                                 " (ranks differ)");
    llvm::SmallVector<int64_t> shape;
    for (auto [x, y] : llvm::zip(ta.getShape(), tb.getShape())) {
      if (x != y && x != 1 && y != 1)
        return error(expr.loc, "cannot broadcast tiles of shapes " +
                                   shapeText(ta.getShape()) + " and " +
                                   shapeText(tb.getShape()));
      shape.push_back(std::max(x, y));
    }
    a = broadcastTo(a, shape, expr.loc);
    b = broadcastTo(b, shape, expr.loc);
    return mlir::success();
  }

  mlir::FailureOr<Val> genBinary(StringRef op, const Expr &expr, Val lhs,
                                 Val rhs) {
    if (lhs.isConst() && rhs.isConst())
      return foldConstants(op, expr, lhs, rhs);
    for (const Val *side : {&lhs, &rhs})
      if (side->kind == Val::Kind::Global || side->kind == Val::Kind::Shared) {
        report(expr.loc, "'" + op + "' cannot take " + describe(*side) +
                             "; load a tile first");
        return mlir::failure();
      }
    bool isTile = lhs.kind == Val::Kind::Tile || rhs.kind == Val::Kind::Tile;
    mlir::Type elementType =
        isTile ? llvm::cast<TileType>((lhs.kind == Val::Kind::Tile ? lhs : rhs)
                                          .value.getType())
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
        if (val.value.getType() != elementType)
          return error(expr.loc, "'" + op + "' between " +
                                     typeToString(val.value.getType()) +
                                     " and a tile of " +
                                     typeToString(elementType) +
                                     " needs a cast");
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
    if (isTile) {
      if (mlir::failed(checkArithmeticType(op, elementType, expr.loc)))
        return mlir::failure();
      mlir::Value result;
      if (isComparison(op)) {
        auto tile = llvm::cast<TileType>(a.getType());
        auto predicate = llvm::StringSwitch<CmpPredicate>(op)
                             .Case("==", CmpPredicate::eq)
                             .Case("!=", CmpPredicate::ne)
                             .Case("<", CmpPredicate::lt)
                             .Case("<=", CmpPredicate::le)
                             .Case(">", CmpPredicate::gt)
                             .Default(CmpPredicate::ge);
        result = builder.create<CmpOp>(
            l, tileType(tile.getShape(), builder.getI1Type()), predicate, a, b);
      } else if (op == "+") {
        result = builder.create<AddOp>(l, a, b);
      } else if (op == "-") {
        result = builder.create<SubOp>(l, a, b);
      } else if (op == "*") {
        result = builder.create<MulOp>(l, a, b);
      } else if (op == "/") {
        result = builder.create<DivOp>(l, a, b);
      } else if (op == "%") {
        result = builder.create<RemOp>(l, a, b);
      } else if (op == "&&") {
        result = builder.create<AndOp>(l, a, b);
      } else {
        result = builder.create<OrOp>(l, a, b);
      }
      return Val::of(Val::Kind::Tile, result);
    }

    mlir::Type type = a.getType();
    bool isFloat = llvm::isa<mlir::FloatType>(type);
    if (op == "&&" || op == "||") {
      if (!type.isSignlessInteger(1)) {
        report(expr.loc, "'" + op + "' needs bool operands, got " +
                             typeToString(type));
        return mlir::failure();
      }
      return Val::of(Val::Kind::Scalar,
                     op == "&&" ? builder.create<mlir::arith::AndIOp>(l, a, b)
                                      .getResult()
                                : builder.create<mlir::arith::OrIOp>(l, a, b)
                                      .getResult());
    }
    if (isComparison(op)) {
      mlir::Value result;
      if (isFloat) {
        using P = mlir::arith::CmpFPredicate;
        P predicate = llvm::StringSwitch<P>(op)
                          .Case("==", P::OEQ)
                          .Case("!=", P::UNE)
                          .Case("<", P::OLT)
                          .Case("<=", P::OLE)
                          .Case(">", P::OGT)
                          .Default(P::OGE);
        result = builder.create<mlir::arith::CmpFOp>(l, predicate, a, b);
      } else {
        using P = mlir::arith::CmpIPredicate;
        P predicate = llvm::StringSwitch<P>(op)
                          .Case("==", P::eq)
                          .Case("!=", P::ne)
                          .Case("<", P::slt)
                          .Case("<=", P::sle)
                          .Case(">", P::sgt)
                          .Default(P::sge);
        result = builder.create<mlir::arith::CmpIOp>(l, predicate, a, b);
      }
      return Val::of(Val::Kind::Scalar, result);
    }
    if (type.isSignlessInteger(1)) {
      report(expr.loc, "'" + op + "' is not defined on bool values");
      return mlir::failure();
    }
    mlir::Value result;
    if (op == "+")
      result = isFloat ? builder.create<mlir::arith::AddFOp>(l, a, b).getResult()
                       : builder.create<mlir::arith::AddIOp>(l, a, b).getResult();
    else if (op == "-")
      result = isFloat ? builder.create<mlir::arith::SubFOp>(l, a, b).getResult()
                       : builder.create<mlir::arith::SubIOp>(l, a, b).getResult();
    else if (op == "*")
      result = isFloat ? builder.create<mlir::arith::MulFOp>(l, a, b).getResult()
                       : builder.create<mlir::arith::MulIOp>(l, a, b).getResult();
    else if (op == "/")
      result = isFloat ? builder.create<mlir::arith::DivFOp>(l, a, b).getResult()
                       : builder.create<mlir::arith::DivSIOp>(l, a, b).getResult();
    else if (!isFloat)
      result = builder.create<mlir::arith::RemSIOp>(l, a, b);
    else {
      report(expr.loc, "'%' needs integer operands");
      return mlir::failure();
    }
    return Val::of(Val::Kind::Scalar, result);
  }

  mlir::FailureOr<Val> genUnaryTile(const Expr &expr, UnaryKind kind,
                                    const Val &operand) {
    auto tile = llvm::cast<TileType>(operand.value.getType());
    std::optional<DType> dtype = getDType(tile.getElementType());
    StringRef name = stringifyUnaryKind(kind);
    bool floatOnly = kind != UnaryKind::neg && kind != UnaryKind::abs &&
                     kind != UnaryKind::bitnot;
    if ((floatOnly && !dtype->isFloat()) ||
        (kind == UnaryKind::bitnot && dtype->isFloat()) ||
        (!floatOnly && kind != UnaryKind::bitnot && dtype->isBool())) {
      report(expr.loc, "'" + name + "' is not defined on tiles of " +
                           dtype->name());
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

  //===--------------------------------------------------------------------===//
  // Built-in functions
  //===--------------------------------------------------------------------===//

  mlir::LogicalResult checkArgCount(const Expr &call, size_t min, size_t max,
                                    StringRef signature) {
    if (call.operands.size() < min || call.operands.size() > max)
      return error(call.loc, "'" + call.name + "' expects " + signature +
                                 ", got " + Twine(call.operands.size()) +
                                 " arguments");
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

  /// A list of compile-time integers (`[16, 64]`); `rank` 0 accepts any.
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  genConstList(const Expr &expr, size_t rank, StringRef what, int64_t min) {
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
               what + " must be " +
                   (min > 0 ? "positive" : "non-negative") +
                   " compile-time integers");
        return mlir::failure();
      }
      result.push_back(val.intValue);
    }
    return result;
  }

  mlir::FailureOr<llvm::SmallVector<int64_t>> genShape(const Expr &expr,
                                                       size_t rank) {
    return genConstList(expr, rank, "tile extents", 1);
  }

  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  genOffsets(const Expr &expr, size_t rank) {
    mlir::FailureOr<llvm::SmallVector<Val>> values =
        genList(expr, "the offsets");
    if (mlir::failed(values))
      return mlir::failure();
    if (values->size() != rank) {
      report(expr.loc, "expected " + Twine(rank) + " offsets for a rank-" +
                           Twine(rank) + " tensor, got " +
                           Twine(values->size()));
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

  /// An argument that must be of `kind` (a global or shared tensor, a tile).
  mlir::FailureOr<Val> genArg(const Expr &call, size_t index, Val::Kind kind) {
    const Expr &arg = *call.operands[index];
    mlir::FailureOr<Val> val = genExpr(arg);
    if (mlir::failed(val))
      return mlir::failure();
    if (val->kind == kind)
      return val;
    static const char *const kNames[] = {"",     "",  "",
                                         "a tile", "a global tensor parameter",
                                         "a shared tensor"};
    report(arg.loc, "argument " + Twine(index + 1) + " of '" + call.name +
                        "' must be " + kNames[static_cast<int>(kind)] +
                        ", got " + describe(*val));
    return mlir::failure();
  }

  /// The rank and element type of a global or shared tensor type.
  static std::pair<unsigned, mlir::Type> rankAndElement(mlir::Type type) {
    if (auto global = llvm::dyn_cast<GlobalTensorType>(type))
      return {global.getRank(), global.getElementType()};
    auto shared = llvm::cast<SharedTensorType>(type);
    return {shared.getRank(), shared.getElementType()};
  }

  mlir::FailureOr<mlir::Type> genDTypeArg(const Expr &arg) {
    if (arg.kind != Expr::Kind::Name) {
      report(arg.loc, "expected a data type name");
      return mlir::failure();
    }
    mlir::Type type = expectDType(arg.name, arg.loc);
    if (!type)
      return mlir::failure();
    return type;
  }

  mlir::FailureOr<mlir::Value> genIntScalar(const Val &val, SMLoc where) {
    if (val.kind == Val::Kind::Int)
      return materialize(val, where);
    if (val.kind == Val::Kind::Scalar &&
        val.value.getType().isSignlessInteger() &&
        !val.value.getType().isSignlessInteger(1))
      return val.value;
    report(where, "expected an integer scalar");
    return mlir::failure();
  }

  /// A tile, or a scalar or constant broadcast to `like`'s shape.
  mlir::FailureOr<Val> asTile(const Expr &arg, const Val &val,
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
        scalar.value.getType() != like.getElementType()) {
      report(arg.loc, "expected a tile or a " +
                          typeToString(like.getElementType()) + " value, got " +
                          describe(val));
      return mlir::failure();
    }
    return Val::of(Val::Kind::Tile,
                   builder.create<FullOp>(
                       loc(arg.loc),
                       tileType(like.getShape(), like.getElementType()),
                       scalar.value));
  }

  mlir::FailureOr<Val> genCall(const Expr &call) {
    StringRef name = call.name;
    mlir::Location l = loc(call.loc);
    static const std::pair<const char *, UnaryKind> kUnary[] = {
        {"exp", UnaryKind::exp},     {"exp2", UnaryKind::exp2},
        {"log", UnaryKind::log},     {"log2", UnaryKind::log2},
        {"sqrt", UnaryKind::sqrt},   {"rsqrt", UnaryKind::rsqrt},
        {"tanh", UnaryKind::tanh},   {"sin", UnaryKind::sin},
        {"cos", UnaryKind::cos},     {"abs", UnaryKind::abs},
        {"round", UnaryKind::round}, {"floor", UnaryKind::floor},
        {"ceil", UnaryKind::ceil}};
    for (auto [fn, kind] : kUnary) {
      if (name != fn)
        continue;
      if (mlir::failed(checkArgCount(call, 1, 1, "(tile)")))
        return mlir::failure();
      mlir::FailureOr<Val> x = genArg(call, 0, Val::Kind::Tile);
      if (mlir::failed(x))
        return mlir::failure();
      return genUnaryTile(call, kind, *x);
    }

    if (name == "load_global" || name == "load_shared") {
      bool global = name == "load_global";
      if (mlir::failed(checkArgCount(call, 3, 3,
                                     "(tensor, [offsets], [shape])")))
        return mlir::failure();
      mlir::FailureOr<Val> src =
          genArg(call, 0, global ? Val::Kind::Global : Val::Kind::Shared);
      if (mlir::failed(src))
        return mlir::failure();
      auto [rank, element] = rankAndElement(src->value.getType());
      auto offsets = genOffsets(*call.operands[1], rank);
      if (mlir::failed(offsets))
        return mlir::failure();
      auto shape = genShape(*call.operands[2], rank);
      if (mlir::failed(shape))
        return mlir::failure();
      TileType tile = tileType(*shape, element);
      mlir::Value loaded =
          global ? builder.create<LoadGlobalOp>(l, tile, src->value, *offsets)
                       .getResult()
                 : builder.create<LoadSharedOp>(l, tile, src->value, *offsets)
                       .getResult();
      return Val::of(Val::Kind::Tile, loaded);
    }
    if (name == "store_global" || name == "store_shared") {
      bool global = name == "store_global";
      if (mlir::failed(checkArgCount(call, 3, 3, "(tensor, tile, [offsets])")))
        return mlir::failure();
      mlir::FailureOr<Val> dst =
          genArg(call, 0, global ? Val::Kind::Global : Val::Kind::Shared);
      if (mlir::failed(dst))
        return mlir::failure();
      mlir::FailureOr<Val> value = genArg(call, 1, Val::Kind::Tile);
      if (mlir::failed(value))
        return mlir::failure();
      auto tile = llvm::cast<TileType>(value->value.getType());
      auto [rank, element] = rankAndElement(dst->value.getType());
      if (tile.getElementType() != element || tile.getRank() != rank) {
        report(call.operands[1]->loc,
               "cannot store a " + typeToString(tile) + " into a tensor of " +
                   typeToString(element) + " with rank " + Twine(rank));
        return mlir::failure();
      }
      auto offsets = genOffsets(*call.operands[2], rank);
      if (mlir::failed(offsets))
        return mlir::failure();
      if (global)
        builder.create<StoreGlobalOp>(l, value->value, dst->value, *offsets);
      else
        builder.create<StoreSharedOp>(l, value->value, dst->value, *offsets);
      return Val::constInt(0);
    }
    if (name == "atomic_add") {
      if (mlir::failed(checkArgCount(call, 3, 3, "(tensor, [indices], value)")))
        return mlir::failure();
      mlir::FailureOr<Val> dst = genArg(call, 0, Val::Kind::Global);
      if (mlir::failed(dst))
        return mlir::failure();
      auto [rank, element] = rankAndElement(dst->value.getType());
      if (!element.isSignlessInteger(32)) {
        report(call.operands[0]->loc,
               "atomic_add adds to a tensor of i32, got a tensor of " +
                   typeToString(element));
        return mlir::failure();
      }
      auto indices = genOffsets(*call.operands[1], rank);
      if (mlir::failed(indices))
        return mlir::failure();
      mlir::FailureOr<mlir::Value> value =
          genIndexScalar(*call.operands[2], "the value added");
      if (mlir::failed(value))
        return mlir::failure();
      return Val::of(Val::Kind::Scalar,
                     builder.create<AtomicAddOp>(l, builder.getI32Type(),
                                                 dst->value, *indices, *value)
                         .getResult());
    }
    if (name == "zeros" || name == "full") {
      bool zeros = name == "zeros";
      if (mlir::failed(checkArgCount(call, zeros ? 2 : 3, zeros ? 2 : 3,
                                     zeros ? "(dtype, [shape])"
                                           : "(dtype, [shape], value)")))
        return mlir::failure();
      mlir::FailureOr<mlir::Type> element = genDTypeArg(*call.operands[0]);
      if (mlir::failed(element))
        return mlir::failure();
      auto shape = genShape(*call.operands[1], 0);
      if (mlir::failed(shape))
        return mlir::failure();
      Val fill = Val::constInt(0);
      if (!zeros) {
        mlir::FailureOr<Val> v = genExpr(*call.operands[2]);
        if (mlir::failed(v))
          return mlir::failure();
        fill = *v;
      }
      mlir::Value scalar;
      if (fill.isConst()) {
        mlir::FailureOr<mlir::Value> c = constantOf(fill, *element, call.loc);
        if (mlir::failed(c))
          return mlir::failure();
        scalar = *c;
      } else if (fill.kind == Val::Kind::Scalar &&
                 fill.value.getType() == *element) {
        scalar = fill.value;
      } else {
        report(call.operands[2]->loc, "the fill value must be a constant or a " +
                                          typeToString(*element) + " scalar");
        return mlir::failure();
      }
      return Val::of(Val::Kind::Tile,
                     builder.create<FullOp>(l, tileType(*shape, *element),
                                            scalar));
    }
    if (name == "arange") {
      // arange(n): [0, n); arange([shape], dim): each element's index along
      // dim.
      if (mlir::failed(checkArgCount(call, 1, 2, "(n) or ([shape], dim)")))
        return mlir::failure();
      llvm::SmallVector<int64_t> shape;
      int64_t dim = 0;
      if (call.operands.size() == 1) {
        mlir::FailureOr<int64_t> n =
            evalConstInt(*call.operands[0], "the extent of 'arange'");
        if (mlir::failed(n))
          return mlir::failure();
        if (*n < 1) {
          report(call.operands[0]->loc, "the extent of 'arange' must be "
                                        "positive");
          return mlir::failure();
        }
        shape.push_back(*n);
      } else {
        auto extents = genShape(*call.operands[0], 0);
        if (mlir::failed(extents))
          return mlir::failure();
        shape = *extents;
        mlir::FailureOr<int64_t> d =
            evalConstInt(*call.operands[1], "the dimension of 'arange'");
        if (mlir::failed(d))
          return mlir::failure();
        if (*d < 0 || *d >= static_cast<int64_t>(shape.size())) {
          report(call.operands[1]->loc,
                 "dimension " + Twine(*d) + " is out of range for a rank-" +
                     Twine(shape.size()) + " tile");
          return mlir::failure();
        }
        dim = *d;
      }
      return Val::of(Val::Kind::Tile,
                     builder.create<ArangeOp>(
                         l, tileType(shape, builder.getI32Type()),
                         builder.getI64IntegerAttr(dim)));
    }
    if (name == "alloc_shared") {
      if (mlir::failed(checkArgCount(call, 2, 2, "(dtype, [shape])")))
        return mlir::failure();
      mlir::FailureOr<mlir::Type> element = genDTypeArg(*call.operands[0]);
      if (mlir::failed(element))
        return mlir::failure();
      auto shape = genShape(*call.operands[1], 0);
      if (mlir::failed(shape))
        return mlir::failure();
      auto type = SharedTensorType::get(&context, *shape, *element,
                                        SharedLayoutAttr());
      return Val::of(Val::Kind::Shared, builder.create<AllocSharedOp>(l, type));
    }
    if (name == "free_shared") {
      if (mlir::failed(checkArgCount(call, 1, 1, "(shared tensor)")))
        return mlir::failure();
      mlir::FailureOr<Val> s = genArg(call, 0, Val::Kind::Shared);
      if (mlir::failed(s))
        return mlir::failure();
      builder.create<FreeSharedOp>(l, s->value);
      return Val::constInt(0);
    }
    if (name == "copy_async") {
      if (mlir::failed(checkArgCount(call, 3, 3,
                                     "(global tensor, [offsets], shared tensor)")))
        return mlir::failure();
      mlir::FailureOr<Val> src = genArg(call, 0, Val::Kind::Global);
      if (mlir::failed(src))
        return mlir::failure();
      auto global = llvm::cast<GlobalTensorType>(src->value.getType());
      auto offsets = genOffsets(*call.operands[1], global.getRank());
      if (mlir::failed(offsets))
        return mlir::failure();
      mlir::FailureOr<Val> dst = genArg(call, 2, Val::Kind::Shared);
      if (mlir::failed(dst))
        return mlir::failure();
      builder.create<CopyAsyncOp>(l, src->value, *offsets, dst->value);
      return Val::constInt(0);
    }
    if (name == "commit" || name == "sync") {
      if (mlir::failed(checkArgCount(call, 0, 0, "no arguments")))
        return mlir::failure();
      if (name == "commit")
        builder.create<CopyAsyncCommitOp>(l);
      else
        builder.create<SyncOp>(l);
      return Val::constInt(0);
    }
    if (name == "wait") {
      if (mlir::failed(checkArgCount(call, 1, 1, "(pending groups)")))
        return mlir::failure();
      mlir::FailureOr<Val> n = genExpr(*call.operands[0]);
      if (mlir::failed(n))
        return mlir::failure();
      if (n->kind != Val::Kind::Int || n->intValue < 0 || n->intValue > 7) {
        report(call.operands[0]->loc,
               "'wait' needs a compile-time count of pending groups in [0, 7]");
        return mlir::failure();
      }
      builder.create<CopyAsyncWaitOp>(l, builder.getI64IntegerAttr(n->intValue));
      return Val::constInt(0);
    }
    if (name == "cast" || name == "view") {
      if (mlir::failed(name == "cast"
                           ? checkArgCount(call, 2, 2, "(tile, dtype)")
                           : checkArgCount(call, 2, 3,
                                           "(tile, dtype[, [shape]])")))
        return mlir::failure();
      mlir::FailureOr<mlir::Type> element = genDTypeArg(*call.operands[1]);
      if (mlir::failed(element))
        return mlir::failure();
      if (name == "cast") {
        mlir::FailureOr<Val> v = genExpr(*call.operands[0]);
        if (mlir::failed(v))
          return mlir::failure();
        if (v->kind != Val::Kind::Tile)
          return genScalarCast(*call.operands[0], *v, *element);
      }
      mlir::FailureOr<Val> x = genArg(call, 0, Val::Kind::Tile);
      if (mlir::failed(x))
        return mlir::failure();
      auto tile = llvm::cast<TileType>(x->value.getType());
      if (name == "cast")
        return Val::of(Val::Kind::Tile,
                       builder.create<CastOp>(
                           l, tileType(tile.getShape(), *element), x->value));
      // A view keeps the bits: the innermost extent scales with the widths,
      // or the shape is given and holds as many bits.
      unsigned from = getDType(tile.getElementType())->bitWidth();
      unsigned to = getDType(*element)->bitWidth();
      if (call.operands.size() == 3) {
        auto shape = genShape(*call.operands[2], 0);
        if (mlir::failed(shape))
          return mlir::failure();
        int64_t count = 1;
        for (int64_t extent : *shape)
          count *= extent;
        if (count * to != tile.getNumElements() * from) {
          report(call.operands[2]->loc,
                 "a view as " + Twine(count) + " elements of " + Twine(to) +
                     " bits does not hold the " +
                     Twine(tile.getNumElements() * from) + " bits of the tile");
          return mlir::failure();
        }
        return Val::of(Val::Kind::Tile,
                       builder.create<ViewOp>(l, tileType(*shape, *element),
                                              x->value));
      }
      llvm::SmallVector<int64_t> shape(tile.getShape());
      if ((shape.back() * from) % to != 0) {
        report(call.loc, "cannot view " + Twine(shape.back()) + " x " +
                             Twine(from) + " bits as elements of " +
                             Twine(to) + " bits");
        return mlir::failure();
      }
      shape.back() = shape.back() * from / to;
      return Val::of(Val::Kind::Tile,
                     builder.create<ViewOp>(l, tileType(shape, *element),
                                            x->value));
    }
    if (name == "where") {
      if (mlir::failed(checkArgCount(call, 3, 3, "(condition, a, b)")))
        return mlir::failure();
      mlir::FailureOr<Val> c = genArg(call, 0, Val::Kind::Tile);
      if (mlir::failed(c))
        return mlir::failure();
      if (mlir::failed(c))
        return mlir::failure();
      auto cond = llvm::cast<TileType>(c->value.getType());
      if (!cond.getElementType().isSignlessInteger(1)) {
        report(call.operands[0]->loc,
               "the condition of 'where' must be a bool tile, got " +
                   typeToString(cond));
        return mlir::failure();
      }
      mlir::FailureOr<Val> a = genExpr(*call.operands[1]);
      mlir::FailureOr<Val> b = mlir::failed(a) ? a : genExpr(*call.operands[2]);
      if (mlir::failed(a) || mlir::failed(b))
        return mlir::failure();
      const Val &typed = a->kind == Val::Kind::Tile ? *a : *b;
      if (typed.kind != Val::Kind::Tile) {
        report(call.loc, "'where' needs at least one tile value");
        return mlir::failure();
      }
      auto like = llvm::cast<TileType>(typed.value.getType());
      mlir::FailureOr<Val> ta = asTile(*call.operands[1], *a, like);
      mlir::FailureOr<Val> tb =
          mlir::failed(ta) ? ta : asTile(*call.operands[2], *b, like);
      if (mlir::failed(ta) || mlir::failed(tb))
        return mlir::failure();
      // The condition and both values broadcast to one shape.
      Val cv = *c;
      if (mlir::failed(broadcastPair(call, *ta, *tb)) ||
          mlir::failed(broadcastPair(call, cv, *ta)) ||
          mlir::failed(broadcastPair(call, *ta, *tb)))
        return mlir::failure();
      unifyLayouts(*ta, *tb, call.loc);
      if (ta->value.getType() != tb->value.getType()) {
        report(call.loc, "the values of 'where' must have one type, got " +
                             describe(*ta) + " and " + describe(*tb));
        return mlir::failure();
      }
      c = cv;
      return Val::of(Val::Kind::Tile,
                     builder.create<WhereOp>(l, ta->value.getType(), c->value,
                                             ta->value, tb->value));
    }
    if (name == "reduce_sum" || name == "reduce_max" || name == "reduce_min") {
      if (mlir::failed(checkArgCount(call, 2, 3, "(tile, dim[, keepdim])")))
        return mlir::failure();
      mlir::FailureOr<Val> x = genArg(call, 0, Val::Kind::Tile);
      if (mlir::failed(x))
        return mlir::failure();
      auto tile = llvm::cast<TileType>(x->value.getType());
      mlir::FailureOr<int64_t> dim =
          evalConstInt(*call.operands[1], "the reduced dimension");
      if (mlir::failed(dim))
        return mlir::failure();
      if (*dim < 0 || *dim >= tile.getRank()) {
        report(call.operands[1]->loc, "dimension " + Twine(*dim) +
                                          " is out of range for a rank-" +
                                          Twine(tile.getRank()) + " tile");
        return mlir::failure();
      }
      bool keepdim = false;
      if (call.operands.size() == 3) {
        mlir::FailureOr<int64_t> keep =
            evalConstInt(*call.operands[2], "keepdim");
        if (mlir::failed(keep))
          return mlir::failure();
        keepdim = *keep != 0;
      }
      if (getDType(tile.getElementType())->isBool() ||
          mlir::failed(checkArithmeticType("+", tile.getElementType(),
                                           call.loc))) {
        if (getDType(tile.getElementType())->isBool())
          report(call.loc, "cannot reduce bool tiles");
        return mlir::failure();
      }
      llvm::SmallVector<int64_t> shape(tile.getShape());
      if (keepdim || shape.size() == 1)
        shape[*dim] = 1;
      else
        shape.erase(shape.begin() + *dim);
      ReduceKind kind = name == "reduce_sum"   ? ReduceKind::sum
                        : name == "reduce_max" ? ReduceKind::max
                                               : ReduceKind::min;
      return Val::of(Val::Kind::Tile,
                     builder.create<ReduceOp>(
                         l, tileType(shape, tile.getElementType()), kind,
                         x->value, *dim, keepdim || tile.getRank() == 1));
    }
    if (name == "dot") {
      if (mlir::failed(checkArgCount(call, 3, 3, "(a, b, c)")))
        return mlir::failure();
      mlir::FailureOr<Val> a = genArg(call, 0, Val::Kind::Tile);
      mlir::FailureOr<Val> b =
          mlir::failed(a) ? a : genArg(call, 1, Val::Kind::Tile);
      mlir::FailureOr<Val> c =
          mlir::failed(b) ? b : genArg(call, 2, Val::Kind::Tile);
      if (mlir::failed(c))
        return mlir::failure();
      auto ta = llvm::cast<TileType>(a->value.getType());
      auto tb = llvm::cast<TileType>(b->value.getType());
      auto tc = llvm::cast<TileType>(c->value.getType());
      if (ta.getRank() != 2 || tb.getRank() != 2 || tc.getRank() != 2 ||
          ta.getShape()[1] != tb.getShape()[0] ||
          ta.getShape()[0] != tc.getShape()[0] ||
          tb.getShape()[1] != tc.getShape()[1]) {
        report(call.loc, "'dot' needs (M x K) @ (K x N) + (M x N), got " +
                             shapeText(ta.getShape()) + " @ " +
                             shapeText(tb.getShape()) + " + " +
                             shapeText(tc.getShape()));
        return mlir::failure();
      }
      if (ta.getElementType() != tb.getElementType()) {
        report(call.loc, "'dot' needs a and b of one element type, got " +
                             typeToString(ta.getElementType()) + " and " +
                             typeToString(tb.getElementType()));
        return mlir::failure();
      }
      return Val::of(Val::Kind::Tile,
                     builder.create<DotOp>(l, c->value.getType(), a->value,
                                           b->value, c->value));
    }
    if (name == "transpose") {
      if (mlir::failed(checkArgCount(call, 1, 1, "(tile)")))
        return mlir::failure();
      mlir::FailureOr<Val> x = genArg(call, 0, Val::Kind::Tile);
      if (mlir::failed(x))
        return mlir::failure();
      auto tile = llvm::cast<TileType>(x->value.getType());
      if (tile.getRank() != 2) {
        report(call.loc, "'transpose' needs a rank-2 tile");
        return mlir::failure();
      }
      return Val::of(Val::Kind::Tile,
                     builder.create<TransposeOp>(
                         l,
                         tileType({tile.getShape()[1], tile.getShape()[0]},
                                  tile.getElementType()),
                         x->value, builder.getDenseI64ArrayAttr({1, 0})));
    }
    if (name == "slice") {
      if (mlir::failed(checkArgCount(call, 3, 3, "(tile, [offsets], [shape])")))
        return mlir::failure();
      mlir::FailureOr<Val> x = genArg(call, 0, Val::Kind::Tile);
      if (mlir::failed(x))
        return mlir::failure();
      auto tile = llvm::cast<TileType>(x->value.getType());
      auto offsets = genConstList(*call.operands[1], tile.getRank(),
                                  "slice offsets", 0);
      if (mlir::failed(offsets))
        return mlir::failure();
      auto shape = genShape(*call.operands[2], tile.getRank());
      if (mlir::failed(shape))
        return mlir::failure();
      for (size_t d = 0; d < shape->size(); ++d)
        if ((*offsets)[d] + (*shape)[d] > tile.getShape()[d]) {
          report(call.loc, "the slice runs past the tile along dimension " +
                               Twine(d));
          return mlir::failure();
        }
      return Val::of(Val::Kind::Tile,
                     builder.create<SliceOp>(
                         l, tileType(*shape, tile.getElementType()), x->value,
                         builder.getDenseI64ArrayAttr(*offsets)));
    }
    if (name == "print")
      return genPrint(call);
    if (name == "assume")
      return genAssume(call);
    if (name == "cdiv" || name == "min" || name == "max")
      return genIntegerCall(call);
    if (name == "bits") {
      mlir::FailureOr<int64_t> width = bitsOf(call);
      if (mlir::failed(width))
        return mlir::failure();
      return Val::constInt(*width);
    }
    report(call.loc, "unknown function '" + name +
                         "'; docs/language.md lists the built-in functions");
    return mlir::failure();
  }

  /// cast of a scalar: integer widths and i <-> f conversions with the
  /// arith semantics (truncation toward zero for float to integer).
  mlir::FailureOr<Val> genScalarCast(const Expr &arg, const Val &value,
                                     mlir::Type to) {
    mlir::Location l = loc(arg.loc);
    if (value.isConst()) {
      mlir::FailureOr<mlir::Value> c = constantOf(
          value.kind == Val::Kind::Float && llvm::isa<mlir::IntegerType>(to)
              ? Val::constInt(static_cast<int64_t>(value.floatValue))
              : value,
          to, arg.loc);
      if (mlir::failed(c))
        return mlir::failure();
      return Val::of(Val::Kind::Scalar, *c);
    }
    if (value.kind != Val::Kind::Scalar) {
      report(arg.loc, "'cast' converts tiles and scalars, got " +
                          describe(value));
      return mlir::failure();
    }
    mlir::Type from = value.value.getType();
    auto fromInt = llvm::dyn_cast<mlir::IntegerType>(from);
    auto toInt = llvm::dyn_cast<mlir::IntegerType>(to);
    auto toFloat = llvm::dyn_cast<mlir::FloatType>(to);
    mlir::Value result;
    if (from == to)
      result = value.value;
    else if (fromInt && toInt)
      result = toInt.getWidth() > fromInt.getWidth()
                   ? builder.create<mlir::arith::ExtSIOp>(l, to, value.value)
                         .getResult()
                   : builder.create<mlir::arith::TruncIOp>(l, to, value.value)
                         .getResult();
    else if (fromInt && toFloat)
      result = builder.create<mlir::arith::SIToFPOp>(l, to, value.value);
    else if (!fromInt && toInt)
      result = builder.create<mlir::arith::FPToSIOp>(l, to, value.value);
    else if (!fromInt && toFloat)
      result = to.getIntOrFloatBitWidth() > from.getIntOrFloatBitWidth()
                   ? builder.create<mlir::arith::ExtFOp>(l, to, value.value)
                         .getResult()
                   : builder.create<mlir::arith::TruncFOp>(l, to, value.value)
                         .getResult();
    else {
      report(arg.loc, "cannot cast a " + typeToString(from) + " scalar to " +
                          typeToString(to));
      return mlir::failure();
    }
    return Val::of(Val::Kind::Scalar, result);
  }

  mlir::FailureOr<Val> genPrint(const Expr &call) {
    if (mlir::failed(checkArgCount(call, 1, 2, "([\"label\",] value)")))
      return mlir::failure();
    std::string label = "value";
    const Expr *valueExpr = call.operands.back().get();
    if (call.operands.size() == 2) {
      if (call.operands[0]->kind != Expr::Kind::String) {
        report(call.operands[0]->loc, "the label of 'print' must be a string");
        return mlir::failure();
      }
      label = call.operands[0]->name;
    } else if (valueExpr->kind == Expr::Kind::Name) {
      label = valueExpr->name;
    }
    mlir::FailureOr<Val> value = genExpr(*valueExpr);
    if (mlir::failed(value))
      return mlir::failure();
    mlir::Value printed = materialize(*value, valueExpr->loc);
    if (value->kind != Val::Kind::Tile && value->kind != Val::Kind::Scalar &&
        !value->isConst()) {
      report(valueExpr->loc, "'print' prints tiles and scalars, got " +
                                 describe(*value));
      return mlir::failure();
    }
    builder.create<PrintOp>(loc(call.loc), builder.getStringAttr(label),
                            printed);
    return Val::constInt(0);
  }

  /// `assume(n % 128 == 0)`: a divisibility fact about an integer parameter.
  mlir::FailureOr<Val> genAssume(const Expr &call) {
    if (mlir::failed(checkArgCount(call, 1, 1, "(param % N == 0)")))
      return mlir::failure();
    const Expr &fact = *call.operands[0];
    auto isZero = [](const Expr &e) {
      return e.kind == Expr::Kind::IntLiteral && e.intValue == 0;
    };
    const Expr *mod = nullptr;
    if (fact.kind == Expr::Kind::Binary && fact.op == "==") {
      if (isZero(*fact.operands[1]))
        mod = fact.operands[0].get();
      else if (isZero(*fact.operands[0]))
        mod = fact.operands[1].get();
    }
    if (!mod || mod->kind != Expr::Kind::Binary || mod->op != "%" ||
        mod->operands[0]->kind != Expr::Kind::Name) {
      report(fact.loc, "'assume' states facts of the form 'param % N == 0'");
      return mlir::failure();
    }
    const std::string &param = mod->operands[0]->name;
    int index = -1;
    for (auto [i, p] : llvm::enumerate(currentKernel->params))
      if (p.name == param && !p.isGlobal &&
          parseDType(p.dtype).isSignlessInteger())
        index = i;
    if (index < 0) {
      report(mod->operands[0]->loc,
             "'" + param + "' is not an integer scalar parameter");
      return mlir::failure();
    }
    mlir::FailureOr<int64_t> divisor =
        evalConstInt(*mod->operands[1], "the divisor of 'assume'");
    if (mlir::failed(divisor))
      return mlir::failure();
    if (*divisor < 1) {
      report(mod->operands[1]->loc, "the divisor must be positive");
      return mlir::failure();
    }
    int64_t known = 1;
    if (auto fact = currentFunc.getArgAttrOfType<mlir::IntegerAttr>(
            index, kernel_attr::kDivisibility))
      known = fact.getInt();
    currentFunc.setArgAttr(index, kernel_attr::kDivisibility,
                           builder.getI64IntegerAttr(std::lcm(known, *divisor)));
    return Val::constInt(0);
  }

  /// `bits(T)`: the bit width of a data type, a compile-time integer.
  mlir::FailureOr<int64_t> bitsOf(const Expr &call) {
    if (mlir::failed(checkArgCount(call, 1, 1, "(dtype)")))
      return mlir::failure();
    mlir::FailureOr<mlir::Type> type = genDTypeArg(*call.operands[0]);
    if (mlir::failed(type))
      return mlir::failure();
    return static_cast<int64_t>(getDType(*type)->bitWidth());
  }

  mlir::FailureOr<Val> genIntegerCall(const Expr &call) {
    StringRef name = call.name;
    mlir::Location l = loc(call.loc);
    if (mlir::failed(checkArgCount(call, 2, 2, "(a, b)")))
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
    if (name != "cdiv" &&
        (a->kind == Val::Kind::Tile || b->kind == Val::Kind::Tile)) {
      const Val &tile = a->kind == Val::Kind::Tile ? *a : *b;
      auto like = llvm::cast<TileType>(tile.value.getType());
      mlir::FailureOr<Val> ta = asTile(*call.operands[0], *a, like);
      mlir::FailureOr<Val> tb =
          mlir::failed(ta) ? ta : asTile(*call.operands[1], *b, like);
      if (mlir::failed(ta) || mlir::failed(tb))
        return mlir::failure();
      if (mlir::failed(broadcastPair(call, *ta, *tb)))
        return mlir::failure();
      unifyLayouts(*ta, *tb, call.loc);
      if (ta->value.getType() != tb->value.getType()) {
        report(call.loc, "'" + name + "' has mismatched operand types " +
                             describe(*ta) + " and " + describe(*tb));
        return mlir::failure();
      }
      if (mlir::failed(checkArithmeticType(
              name, llvm::cast<TileType>(ta->value.getType()).getElementType(),
              call.loc)))
        return mlir::failure();
      mlir::Value result =
          name == "min"
              ? builder.create<MinOp>(l, ta->value, tb->value).getResult()
              : builder.create<MaxOp>(l, ta->value, tb->value).getResult();
      return Val::of(Val::Kind::Tile, result);
    }
    if ((a->kind == Val::Kind::Float || b->kind == Val::Kind::Float ||
         (a->kind == Val::Kind::Scalar &&
          llvm::isa<mlir::FloatType>(a->value.getType())) ||
         (b->kind == Val::Kind::Scalar &&
          llvm::isa<mlir::FloatType>(b->value.getType()))) &&
        name != "cdiv") {
      mlir::Type type = (a->kind == Val::Kind::Scalar ? *a : *b).value.getType();
      mlir::FailureOr<mlir::Value> x =
          a->isConst() ? constantOf(*a, type, call.loc)
                       : mlir::FailureOr<mlir::Value>(a->value);
      mlir::FailureOr<mlir::Value> y =
          b->isConst() ? constantOf(*b, type, call.loc)
                       : mlir::FailureOr<mlir::Value>(b->value);
      if (mlir::failed(x) || mlir::failed(y))
        return mlir::failure();
      if ((*x).getType() != (*y).getType()) {
        report(call.loc, "'" + name + "' has mismatched operand types");
        return mlir::failure();
      }
      mlir::Value result =
          name == "min"
              ? builder.create<mlir::arith::MinimumFOp>(l, *x, *y).getResult()
              : builder.create<mlir::arith::MaximumFOp>(l, *x, *y).getResult();
      return Val::of(Val::Kind::Scalar, result);
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

  mlir::MLIRContext &context;
  mlir::OpBuilder builder;
  DiagnosticEngine &diags;
  const ConstOverrides &overrides;
  std::map<std::string, int64_t> consts;
  /// Compile-time parameters that hold data types, with their names.
  std::map<std::string, std::string> typeConsts;
  std::map<std::string, Val> vars;
  std::map<std::string, SMLoc> assignLocs;
  int64_t numThreads = 0;
  std::vector<KernelInfo> infos;
  mlir::func::FuncOp currentFunc;
  const Kernel *currentKernel = nullptr;
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
