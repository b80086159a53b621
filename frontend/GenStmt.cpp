//===- GenStmt.cpp - Statements, layout annotations, control flow --------===//
//
// Assignments (with their layout annotations), `if`, `for`, `while` and
// `break`. Variables live in a map from name to value; a region (a branch,
// a loop body) carries the variables assigned in it that were defined
// before, as scf.if results or loop-carried values. `break` clears a flag
// that guards the rest of the loop body and joins the loop's condition.
//
//===----------------------------------------------------------------------===//

#include "frontend/Generator.h"
#include "frontend/LayoutText.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/raw_ostream.h"

using namespace tilus;
using namespace tilus::ast;
using namespace tilus::mlirgen;
using llvm::SMLoc;
using llvm::StringRef;
using llvm::Twine;

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

static void collectAssigned(llvm::ArrayRef<StmtPtr> body,
                            llvm::SmallVectorImpl<std::string> &names) {
  for (const StmtPtr &stmt : body) {
    if (stmt->kind == Stmt::Kind::Assign &&
        !llvm::is_contained(names, stmt->name))
      names.push_back(stmt->name);
    if (stmt->kind == Stmt::Kind::Break && !llvm::is_contained(names, kRunning))
      names.push_back(kRunning);
    for (const std::string &name : stmt->assigns)
      if (!llvm::is_contained(names, name))
        names.push_back(name);
    if (stmt->kind == Stmt::Kind::For || stmt->kind == Stmt::Kind::While ||
        stmt->kind == Stmt::Kind::If) {
      collectAssigned(stmt->body, names);
      collectAssigned(stmt->elseBody, names);
    }
  }
}

static Val::Kind kindOf(mlir::Type type) {
  if (llvm::isa<TileType>(type))
    return Val::Kind::Tile;
  if (llvm::isa<SharedTensorType>(type))
    return Val::Kind::Shared;
  if (llvm::isa<BarrierType>(type))
    return Val::Kind::Barrier;
  return Val::Kind::Scalar;
}

mlir::LogicalResult Generator::genBlock(llvm::ArrayRef<StmtPtr> body) {
  bool failed = false;
  for (size_t i = 0; i < body.size(); ++i) {
    if (diags.tooManyErrors())
      return mlir::failure();
    // A statement that fails is left behind, half built (the module is
    // discarded), and the next one is generated from the state before it:
    // the insertion point and the variables, with those it assigns
    // poisoned, so that their uses fail without another error.
    mlir::OpBuilder::InsertPoint before = builder.saveInsertionPoint();
    std::map<std::string, Val> varsBefore = vars;
    if (mlir::failed(genStmt(*body[i]))) {
      failed = true;
      builder.restoreInsertionPoint(before);
      vars = std::move(varsBefore);
      llvm::SmallVector<std::string> assigned;
      collectAssigned(body.slice(i, 1), assigned);
      poisoned.insert(assigned.begin(), assigned.end());
      continue;
    }
    if (containsBreak(*body[i]) && i + 1 < body.size() &&
        body[i]->kind != Stmt::Kind::Break) {
      llvm::ArrayRef<StmtPtr> rest = body.drop_front(i + 1);
      llvm::SmallVector<std::string> assigned;
      collectAssigned(rest, assigned);
      return mlir::success(
          !failed && mlir::succeeded(genConditional(
                         body[i + 1]->loc, vars[kRunning].value,
                         [&] { return genBlock(rest); }, nullptr, assigned)));
    }
    if (body[i]->kind == Stmt::Kind::Break)
      break; // the rest of the block is dead
  }
  return mlir::success(!failed);
}

mlir::LogicalResult Generator::genStmt(const Stmt &stmt) {
  switch (stmt.kind) {
  case Stmt::Kind::Assign:
    return genAssign(stmt);
  case Stmt::Kind::Expr: {
    const Builtin *builtin = stmt.value->kind == Expr::Kind::Call
                                 ? findBuiltin(stmt.value->name)
                                 : nullptr;
    if (!builtin || !builtin->standsAlone)
      return error(stmt.loc, "this expression statement has no effect; only " +
                                 standaloneBuiltins() + " may stand alone");
    return mlir::success(!mlir::failed(genExpr(*stmt.value)));
  }
  case Stmt::Kind::For:
    return genFor(stmt);
  case Stmt::Kind::If:
    return genIf(stmt);
  case Stmt::Kind::While:
    return genWhile(stmt);
  case Stmt::Kind::Group:
    return genGroup(stmt);
  case Stmt::Kind::Invalid:
    return mlir::failure(); // the parser reported it
  case Stmt::Kind::Break:
    if (!vars.count(kRunning))
      return error(stmt.loc, "'break' outside a loop");
    vars[kRunning] = Val::of(
        Val::Kind::Scalar,
        builder.create<mlir::arith::ConstantIntOp>(loc(stmt.loc), 0, 1));
    return mlir::success();
  }
  return mlir::failure();
}

mlir::LogicalResult Generator::genAssign(const Stmt &stmt) {
  if (consts.count(stmt.name))
    return error(stmt.nameLoc,
                 "cannot assign to compile-time parameter '" + stmt.name + "'");
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
  poisoned.erase(stmt.name);
  hiddenByGroup.erase(stmt.name);
  return mlir::success();
}

mlir::LogicalResult Generator::applyLayout(const Stmt &stmt, Val &value) {
  // Arguments written over compile-time parameters become integers first;
  // offsets into the expanded text map back to the annotation.
  ExpandedLayoutText expanded;
  LayoutTextError textError;
  auto lookup = [&](std::string_view name) -> std::optional<int64_t> {
    if (name.substr(0, 5) == "bits(") {
      std::string type(name.substr(5, name.size() - 6));
      std::optional<DType> dtype = DType::parse(resolveDType(type));
      return dtype ? std::optional<int64_t>(dtype->bitWidth()) : std::nullopt;
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
    return source(
        expanded.origin[std::min(offset, expanded.origin.size() - 1)]);
  };
  if (value.kind == Val::Kind::Shared) {
    auto layout = parseSharedLayout(expanded.text);
    if (!layout)
      return error(at(layout.error().offset),
                   "invalid shared layout: " + layout.error().message);
    auto type = llvm::cast<SharedTensorType>(value.value.getType());
    if (llvm::ArrayRef<int64_t>(layout->shape()) != type.getShape())
      return error(stmt.layoutLoc,
                   "the shared layout's shape " + shapeText(layout->shape()) +
                       " does not match the tensor's " +
                       shapeText(type.getShape()));
    if (auto collision = layout->findCollision())
      return error(stmt.layoutLoc,
                   "shared layout " + layout->str() + " places indices " +
                       shapeText(collision->second) + " and " +
                       shapeText(collision->first) + " at the same offset " +
                       Twine(collision->offset) +
                       "; every element needs its own address");
    value.value.setType(
        SharedTensorType::get(&context, type.getShape(), type.getElementType(),
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
    return error(stmt.layoutLoc, "layout shape " + shapeText(layout->shape()) +
                                     " does not match the tile shape " +
                                     shapeText(tile.getShape()));
  if (layout->numThreads() != numThreads)
    return error(stmt.layoutLoc, "layout spans " + Twine(layout->numThreads()) +
                                     " threads but the " +
                                     (getThreadGroup(
                                          builder.getInsertionBlock()
                                              ->getParentOp()) ||
                                              llvm::isa<ThreadGroupOp>(
                                                  builder.getInsertionBlock()
                                                      ->getParentOp())
                                          ? "thread group"
                                          : "kernel") +
                                     " has " + Twine(numThreads));
  auto pinned = TileType::get(&context, tile.getShape(), tile.getElementType(),
                              LayoutAttr::get(&context, *layout));
  // Instructions with no tile operand produce the layout directly, and so
  // does a view, whose result layout says how it reinterprets the bits;
  // any other value is converted to it. Only the instruction the statement
  // itself writes: `y: L = x;` converts x, also when x is an unused view,
  // whose values the layout would otherwise change.
  mlir::Operation *producer = value.value.getDefiningOp();
  if (!tile.getLayout() && producer && value.value.use_empty() &&
      stmt.value->kind != Expr::Kind::Name &&
      llvm::isa<LoadGlobalOp, LoadSharedOp, FullOp, ArangeOp, ViewOp>(
          producer)) {
    value.value.setType(pinned);
    return mlir::success();
  }
  value.value =
      builder.create<ConvertLayoutOp>(loc(stmt.layoutLoc), pinned, value.value);
  return mlir::success();
}

mlir::Value Generator::materialize(const Val &val, SMLoc where) {
  if (val.kind == Val::Kind::Int)
    return builder.create<mlir::arith::ConstantIntOp>(loc(where), val.intValue,
                                                      32);
  if (val.kind == Val::Kind::Float)
    return builder.create<mlir::arith::ConstantFloatOp>(
        loc(where), llvm::APFloat(static_cast<float>(val.floatValue)),
        builder.getF32Type());
  return val.value;
}

void Generator::collectCarried(llvm::ArrayRef<std::string> names, SMLoc where,
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

mlir::FailureOr<llvm::SmallVector<mlir::Value>>
Generator::carriedValues(llvm::ArrayRef<std::string> carried,
                         mlir::TypeRange types, StringRef what) {
  llvm::SmallVector<mlir::Value> values;
  for (auto [name, type] : llvm::zip(carried, types)) {
    SMLoc where = assignLocs.count(name) ? assignLocs[name] : SMLoc();
    mlir::Value value = materialize(vars[name], where);
    // A tile that differs only in its layout (one written in the body, or
    // taken from an operand that has one) is converted to the carried
    // type: to its layout, or, when the carried value has none yet, to
    // whatever layout inference gives it (docs/language.md, "Layouts").
    auto tile = llvm::dyn_cast<TileType>(value.getType());
    auto carriedTile = llvm::dyn_cast<TileType>(type);
    if (tile && carriedTile && tile != carriedTile &&
        tile.getShape() == carriedTile.getShape() &&
        tile.getElementType() == carriedTile.getElementType())
      value = builder.create<ConvertLayoutOp>(loc(where), carriedTile, value);
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

void Generator::bindResults(llvm::ArrayRef<std::string> carried,
                            mlir::ValueRange results) {
  for (auto [name, result] : llvm::zip(carried, results))
    vars[name] = Val::of(kindOf(result.getType()), result);
}

mlir::LogicalResult
Generator::genConditional(SMLoc where, mlir::Value cond,
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

mlir::FailureOr<mlir::Value> Generator::genCondition(const Expr &expr,
                                                     StringRef what) {
  mlir::FailureOr<Val> cond = genExpr(expr);
  if (mlir::failed(cond))
    return mlir::failure();
  if (cond->kind == Val::Kind::Int)
    return builder
        .create<mlir::arith::ConstantIntOp>(loc(expr.loc), cond->intValue != 0,
                                            1)
        .getResult();
  if (cond->kind == Val::Kind::Scalar &&
      cond->value.getType().isSignlessInteger(1))
    return cond->value;
  auto tile = cond->kind == Val::Kind::Tile
                  ? llvm::cast<TileType>(cond->value.getType())
                  : TileType();
  report(expr.loc,
         what + " must be a scalar comparison (bool), got " + describe(*cond) +
             (tile && tile.getNumElements() == 1
                  ? "; item(t) gives a one-element tile's value as a scalar"
                  : ""));
  return mlir::failure();
}

mlir::LogicalResult Generator::genIf(const Stmt &stmt) {
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

mlir::FailureOr<mlir::Value> Generator::genIndexScalar(const Expr &expr,
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

mlir::LogicalResult Generator::genWhileLoop(
    SMLoc where, llvm::function_ref<mlir::FailureOr<mlir::Value>()> cond,
    llvm::function_ref<mlir::LogicalResult()> body,
    llvm::SmallVectorImpl<std::string> &assigned, bool breaks) {
  if (breaks) {
    vars[kRunning] =
        Val::of(Val::Kind::Scalar,
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

mlir::LogicalResult Generator::genWhile(const Stmt &stmt) {
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

mlir::LogicalResult Generator::genFor(const Stmt &stmt) {
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

/// The first assignment in `body` (at any depth), for locating errors.
static void collectAssignLocs(llvm::ArrayRef<StmtPtr> body,
                              std::map<std::string, SMLoc> &locs) {
  for (const StmtPtr &stmt : body) {
    if (stmt->kind == Stmt::Kind::Assign)
      locs.emplace(stmt->name, stmt->nameLoc);
    for (const std::string &name : stmt->assigns)
      locs.emplace(name, stmt->loc);
    collectAssignLocs(stmt->body, locs);
    collectAssignLocs(stmt->elseBody, locs);
  }
}

mlir::LogicalResult Generator::genGroup(const Stmt &stmt) {
  auto func = llvm::dyn_cast_or_null<mlir::func::FuncOp>(
      builder.getInsertionBlock()->getParentOp());
  if (!func)
    return error(stmt.loc, "'thread_group' must be a statement of the "
                           "kernel's body, not inside a loop, a branch or "
                           "another thread group");
  int64_t kernelWarps = numThreads / kWarpSize;
  int64_t bounds[2];
  const ExprPtr *exprs[2] = {&stmt.start, &stmt.stop};
  for (int i = 0; i < 2; ++i) {
    mlir::FailureOr<Val> bound = genExpr(**exprs[i]);
    if (mlir::failed(bound))
      return mlir::failure();
    if (bound->kind != Val::Kind::Int)
      return error((*exprs[i])->loc,
                   Twine("the ") + (i == 0 ? "first warp" : "warp count") +
                       " of a thread group must be a compile-time integer");
    bounds[i] = bound->intValue;
  }
  auto [first, count] = bounds;
  if (first < 0 || first >= kernelWarps)
    return error(stmt.start->loc,
                 "the first warp " + Twine(first) +
                     " of the thread group lies outside the block's " +
                     Twine(kernelWarps) + " warps");
  if (count < 1 || first + count > kernelWarps)
    return error(stmt.stop->loc,
                 "a thread group of " + Twine(count) + " warps from warp " +
                     Twine(first) + " does not fit in the block's " +
                     Twine(kernelWarps) + " warps");
  int64_t groups = 1;
  for (mlir::Operation &op : *builder.getInsertionBlock())
    groups += llvm::isa<ThreadGroupOp>(op);
  if (groups > 15)
    return error(stmt.loc, "a kernel has at most 15 thread groups (named "
                           "barriers 1 to 15)");

  auto group = builder.create<ThreadGroupOp>(loc(stmt.loc), first, count);
  mlir::Block *body = new mlir::Block();
  group.getBody().push_back(body);
  std::map<std::string, Val> outer = vars;
  int64_t outerThreads = numThreads;
  mlir::LogicalResult result = mlir::success();
  {
    mlir::OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(body);
    numThreads = count * kWarpSize;
    result = genBlock(stmt.body);
  }
  numThreads = outerThreads;
  vars = std::move(outer);
  std::map<std::string, SMLoc> assigned;
  collectAssignLocs(stmt.body, assigned);
  // A variable defined before the group keeps its value from before (what
  // the group assigned it stays in the group's warps); one the group
  // defined is gone.
  for (auto &[name, where] : assigned)
    if (!vars.count(name))
      hiddenByGroup[name] = where;
  return result;
}
