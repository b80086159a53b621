//===- Builtins.cpp - The built-in functions of the tile language --------===//
//
// One table lists every built-in function: its name, how many arguments it
// takes (and how the arity error spells them), whether a call may stand alone
// as a statement, and the Generator member that builds it. A call is a
// lookup, an arity check and a dispatch; each builder evaluates its own
// arguments, in the order its diagnostics expect. A new built-in is a row of
// the table and a builder (declared in Generator.h), documented in
// docs/language.md.
//
//===----------------------------------------------------------------------===//

#include "frontend/Generator.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/StringMap.h"

#include <numeric>

using namespace tilus;
using namespace tilus::ast;
using namespace tilus::mlirgen;
using llvm::SMLoc;
using llvm::StringRef;
using llvm::Twine;

/// The rank and element type of a global or shared tensor type.
static std::pair<unsigned, mlir::Type> rankAndElement(mlir::Type type) {
  if (auto global = llvm::dyn_cast<GlobalTensorType>(type))
    return {global.getRank(), global.getElementType()};
  auto shared = llvm::cast<SharedTensorType>(type);
  return {shared.getRank(), shared.getElementType()};
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

llvm::ArrayRef<Builtin> Generator::builtins() {
  using G = Generator;
  // The error for an expression statement without effect names the entries
  // that may stand alone in this order.
  static const Builtin kBuiltins[] = {
      // Tensors in memory.
      {"load_global", 3, 3, "(tensor, [offsets], [shape])", false, &G::genLoad},
      {"load_shared", 3, 3, "(tensor, [offsets], [shape])", false, &G::genLoad},
      {"store_global", 3, 3, "(tensor, tile, [offsets])", true, &G::genStore},
      {"store_shared", 3, 3, "(tensor, tile, [offsets])", true, &G::genStore},
      {"alloc_shared", 2, 2, "(dtype, [shape])", false, &G::genAllocShared},
      {"free_shared", 1, 1, "(shared tensor)", true, &G::genFreeShared},
      {"copy_async", 3, 3, "(global tensor, [offsets], shared tensor)", true,
       &G::genCopyAsync},
      {"commit", 0, 0, "no arguments", true, &G::genCommit},
      {"wait", 1, 1, "(pending groups)", true, &G::genWait},
      {"alloc_barrier", 1, 1, "(count)", false, &G::genAllocBarrier},
      {"copy_tma", 4, 4, "(global tensor, [offsets], shared tensor, barrier)",
       true, &G::genCopyTma},
      {"wait_barrier", 2, 2, "(barrier, phase)", true, &G::genWaitBarrier},
      {"arrive", 1, 1, "(barrier)", true, &G::genArrive},
      {"sync", 0, 0, "no arguments", true, &G::genSync},
      // Tiles.
      {"zeros", 2, 2, "(dtype, [shape])", false, &G::genFull},
      {"full", 3, 3, "(dtype, [shape], value)", false, &G::genFull},
      {"arange", 1, 2, "(n) or ([shape], dim)", false, &G::genArange},
      {"cast", 2, 2, "(tile, dtype)", false, &G::genCast},
      {"view", 2, 3, "(tile, dtype[, [shape]])", false, &G::genView},
      {"where", 3, 3, "(condition, a, b)", false, &G::genWhere},
      {"reduce_sum", 2, 3, "(tile, dim[, keepdim])", false, &G::genReduce},
      {"reduce_max", 2, 3, "(tile, dim[, keepdim])", false, &G::genReduce},
      {"reduce_min", 2, 3, "(tile, dim[, keepdim])", false, &G::genReduce},
      {"argmax", 2, 3, "(tile, dim[, keepdim])", false, &G::genReduce},
      {"argmin", 2, 3, "(tile, dim[, keepdim])", false, &G::genReduce},
      {"dot", 3, 3, "(a, b, c)", false, &G::genDot},
      // Asynchronous dot on wgmma (frontend/DotAsync.cpp checks its uses).
      {"dot_async", 3, 3, "(a, b, c)", false, &G::genDot},
      {"wait_dot", 1, 1, "(pending groups)", true, &G::genWaitDot},
      {"transpose", 1, 1, "(tile)", false, &G::genTranspose},
      {"slice", 3, 3, "(tile, [offsets], [shape])", false, &G::genSlice},
      {"reshape", 2, 2, "(tile, [shape])", false, &G::genReshape},
      {"expand_dims", 2, 2, "(tile, axis)", false, &G::genReshape},
      {"squeeze", 2, 2, "(tile, axis)", false, &G::genReshape},
      {"item", 1, 1, "(tile)", false, &G::genItem},
      // Elementwise functions, each named after its UnaryKind.
      {"exp", 1, 1, "(tile or scalar)", false, &G::genUnaryCall},
      {"exp2", 1, 1, "(tile or scalar)", false, &G::genUnaryCall},
      {"log", 1, 1, "(tile or scalar)", false, &G::genUnaryCall},
      {"log2", 1, 1, "(tile or scalar)", false, &G::genUnaryCall},
      {"sqrt", 1, 1, "(tile or scalar)", false, &G::genUnaryCall},
      {"rsqrt", 1, 1, "(tile or scalar)", false, &G::genUnaryCall},
      {"tanh", 1, 1, "(tile or scalar)", false, &G::genUnaryCall},
      {"sin", 1, 1, "(tile or scalar)", false, &G::genUnaryCall},
      {"cos", 1, 1, "(tile or scalar)", false, &G::genUnaryCall},
      {"abs", 1, 1, "(tile or scalar)", false, &G::genUnaryCall},
      {"round", 1, 1, "(tile or scalar)", false, &G::genUnaryCall},
      {"floor", 1, 1, "(tile or scalar)", false, &G::genUnaryCall},
      {"ceil", 1, 1, "(tile or scalar)", false, &G::genUnaryCall},
      // Integers (min and max also on floats and tiles).
      {"cdiv", 2, 2, "(a, b)", false, &G::genIntegerCall},
      {"min", 2, 2, "(a, b)", false, &G::genIntegerCall},
      {"max", 2, 2, "(a, b)", false, &G::genIntegerCall},
      {"bits", 1, 1, "(dtype)", false, &G::genBits},
      // Debugging and facts.
      {"print", 1, 2, "([\"label\",] value)", true, &G::genPrint},
      {"assume", 1, 1, "(param % N == 0)", true, &G::genAssume},
      // Global atomics.
      {"atomic_add", 3, 3, "(tensor, [indices], value)", true,
       &G::genAtomicAdd},
  };
  return kBuiltins;
}

const Builtin *Generator::findBuiltin(StringRef name) {
  static const llvm::StringMap<const Builtin *> kByName = [] {
    llvm::StringMap<const Builtin *> byName;
    for (const Builtin &builtin : builtins())
      byName[builtin.name] = &builtin;
    return byName;
  }();
  return kByName.lookup(name);
}

const std::string &Generator::standaloneBuiltins() {
  static const std::string kText = [] {
    llvm::SmallVector<StringRef> names;
    for (const Builtin &builtin : builtins())
      if (builtin.standsAlone)
        names.push_back(builtin.name);
    std::string text;
    for (size_t i = 0; i < names.size(); ++i) {
      if (i > 0)
        text += i + 1 == names.size() ? " and " : ", ";
      text += names[i];
    }
    return text;
  }();
  return kText;
}

mlir::FailureOr<Val> Generator::genCall(const Expr &call) {
  const Builtin *builtin = findBuiltin(call.name);
  if (!builtin) {
    report(call.loc, "unknown function '" + call.name +
                         "'; docs/language.md lists the built-in functions");
    return mlir::failure();
  }
  size_t count = call.operands.size();
  if (count < builtin->minArgs || count > builtin->maxArgs) {
    report(call.loc, "'" + call.name + "' expects " + builtin->signature +
                         ", got " + Twine(count) + " arguments");
    return mlir::failure();
  }
  return (this->*builtin->build)(call);
}

//===----------------------------------------------------------------------===//
// The builders
//===----------------------------------------------------------------------===//

mlir::FailureOr<Val> Generator::genUnaryCall(const Expr &call) {
  const Expr &arg = *call.operands[0];
  mlir::FailureOr<Val> x = genExpr(arg);
  if (mlir::failed(x))
    return mlir::failure();
  // Each function is named after its UnaryKind.
  UnaryKind kind = *symbolizeUnaryKind(call.name);
  if (x->kind == Val::Kind::Tile)
    return genUnaryTile(call, kind, *x);
  // A constant folds exactly and takes the type it meets, as a literal does.
  if (x->kind == Val::Kind::Int && kind == UnaryKind::abs)
    return Val::constInt(x->intValue < 0 ? -x->intValue : x->intValue);
  if (x->isConst())
    return Val::constFloat(evalFloatFunction(
        kind, x->kind == Val::Kind::Int ? static_cast<double>(x->intValue)
                                        : x->floatValue));
  if (x->kind == Val::Kind::Scalar &&
      llvm::isa<mlir::Float16Type, mlir::BFloat16Type, mlir::Float32Type>(
          x->value.getType()))
    return Val::of(Val::Kind::Scalar,
                   builder.create<UnaryOp>(loc(call.loc), kind, x->value));
  report(arg.loc, "argument 1 of '" + call.name +
                      "' must be a tile or a float scalar, got " +
                      describe(*x));
  return mlir::failure();
}

mlir::FailureOr<Val> Generator::genLoad(const Expr &call) {
  mlir::Location l = loc(call.loc);
  bool global = call.name == "load_global";
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

mlir::FailureOr<Val> Generator::genStore(const Expr &call) {
  mlir::Location l = loc(call.loc);
  bool global = call.name == "store_global";
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

mlir::FailureOr<Val> Generator::genAllocShared(const Expr &call) {
  mlir::Location l = loc(call.loc);
  mlir::FailureOr<mlir::Type> element = genDTypeArg(*call.operands[0]);
  if (mlir::failed(element))
    return mlir::failure();
  auto shape = genShape(*call.operands[1], 0);
  if (mlir::failed(shape))
    return mlir::failure();
  auto type =
      SharedTensorType::get(&context, *shape, *element, SharedLayoutAttr());
  return Val::of(Val::Kind::Shared, builder.create<AllocSharedOp>(l, type));
}

mlir::FailureOr<Val> Generator::genFreeShared(const Expr &call) {
  mlir::Location l = loc(call.loc);
  mlir::FailureOr<Val> s = genArg(call, 0, Val::Kind::Shared);
  if (mlir::failed(s))
    return mlir::failure();
  builder.create<FreeSharedOp>(l, s->value);
  return Val::constInt(0);
}

mlir::FailureOr<Val> Generator::genCopyAsync(const Expr &call) {
  mlir::Location l = loc(call.loc);
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

mlir::FailureOr<Val> Generator::genAllocBarrier(const Expr &call) {
  mlir::Location l = loc(call.loc);
  mlir::FailureOr<Val> count = genExpr(*call.operands[0]);
  if (mlir::failed(count))
    return mlir::failure();
  if (count->kind != Val::Kind::Int || count->intValue < 1 ||
      count->intValue > (1 << 20) - 1) {
    report(call.operands[0]->loc, "'alloc_barrier' needs a compile-time "
                                  "arrival count in [1, 1048575]");
    return mlir::failure();
  }
  auto op = builder.create<AllocBarrierOp>(
      l, BarrierType::get(&context), builder.getI64IntegerAttr(count->intValue));
  return Val::of(Val::Kind::Barrier, op);
}

mlir::FailureOr<Val> Generator::genCopyTma(const Expr &call) {
  mlir::Location l = loc(call.loc);
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
  mlir::FailureOr<Val> bar = genArg(call, 3, Val::Kind::Barrier);
  if (mlir::failed(bar))
    return mlir::failure();
  auto shared = llvm::cast<SharedTensorType>(dst->value.getType());
  if (shared.getRank() != global.getRank() ||
      shared.getElementType() != global.getElementType()) {
    report(call.operands[2]->loc,
           "'copy_tma' copies into a shared tensor of the global tensor's "
           "rank and element type: expected " +
               Twine(global.getRank()) + "-d " +
               typeToString(global.getElementType()) + ", got " +
               typeToString(shared));
    return mlir::failure();
  }
  std::string why;
  if (!getTmaSwizzleBytes(shared, why)) {
    report(call.operands[2]->loc, "'copy_tma' cannot write " +
                                      typeToString(shared) + ": " + why);
    return mlir::failure();
  }
  if (std::optional<std::string> error = checkTmaGlobal(src->value)) {
    report(call.operands[0]->loc, "'copy_tma' " + *error);
    return mlir::failure();
  }
  builder.create<CopyTmaOp>(l, src->value, *offsets, dst->value, bar->value);
  return Val::constInt(0);
}

mlir::FailureOr<Val> Generator::genWaitBarrier(const Expr &call) {
  mlir::Location l = loc(call.loc);
  mlir::FailureOr<Val> bar = genArg(call, 0, Val::Kind::Barrier);
  if (mlir::failed(bar))
    return mlir::failure();
  mlir::FailureOr<mlir::Value> phase =
      genIndexScalar(*call.operands[1], "the phase of 'wait_barrier'");
  if (mlir::failed(phase))
    return mlir::failure();
  builder.create<WaitBarrierOp>(l, bar->value, *phase);
  return Val::constInt(0);
}

mlir::FailureOr<Val> Generator::genArrive(const Expr &call) {
  mlir::FailureOr<Val> bar = genArg(call, 0, Val::Kind::Barrier);
  if (mlir::failed(bar))
    return mlir::failure();
  builder.create<ArriveBarrierOp>(loc(call.loc), bar->value);
  return Val::constInt(0);
}

mlir::FailureOr<Val> Generator::genCommit(const Expr &call) {
  builder.create<CopyAsyncCommitOp>(loc(call.loc));
  return Val::constInt(0);
}

mlir::FailureOr<Val> Generator::genWait(const Expr &call) {
  mlir::Location l = loc(call.loc);
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

mlir::FailureOr<Val> Generator::genSync(const Expr &call) {
  builder.create<SyncOp>(loc(call.loc));
  return Val::constInt(0);
}

mlir::FailureOr<Val> Generator::genFull(const Expr &call) {
  mlir::Location l = loc(call.loc);
  bool zeros = call.name == "zeros";
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
                 builder.create<FullOp>(l, tileType(*shape, *element), scalar));
}

mlir::FailureOr<Val> Generator::genArange(const Expr &call) {
  mlir::Location l = loc(call.loc);
  // arange(n): [0, n); arange([shape], dim): each element's index along
  // dim.
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
      report(call.operands[1]->loc, "dimension " + Twine(*d) +
                                        " is out of range for a rank-" +
                                        Twine(shape.size()) + " tile");
      return mlir::failure();
    }
    dim = *d;
  }
  return Val::of(Val::Kind::Tile, builder.create<ArangeOp>(
                                      l, tileType(shape, builder.getI32Type()),
                                      builder.getI64IntegerAttr(dim)));
}

mlir::FailureOr<Val> Generator::genCast(const Expr &call) {
  mlir::FailureOr<mlir::Type> element = genDTypeArg(*call.operands[1]);
  if (mlir::failed(element))
    return mlir::failure();
  mlir::FailureOr<Val> v = genExpr(*call.operands[0]);
  if (mlir::failed(v))
    return mlir::failure();
  if (v->kind != Val::Kind::Tile)
    return genScalarCast(*call.operands[0], *v, *element);
  // The operand is generated once: generating it again would duplicate its
  // loads (and their remarks).
  auto tile = llvm::cast<TileType>(v->value.getType());
  return Val::of(Val::Kind::Tile,
                 builder.create<CastOp>(loc(call.loc),
                                        tileType(tile.getShape(), *element),
                                        v->value));
}

mlir::FailureOr<Val> Generator::genScalarCast(const Expr &arg, const Val &value,
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
    report(arg.loc,
           "'cast' converts tiles and scalars, got " + describe(value));
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

mlir::FailureOr<Val> Generator::genView(const Expr &call) {
  mlir::Location l = loc(call.loc);
  mlir::FailureOr<mlir::Type> element = genDTypeArg(*call.operands[1]);
  if (mlir::failed(element))
    return mlir::failure();
  mlir::FailureOr<Val> x = genArg(call, 0, Val::Kind::Tile);
  if (mlir::failed(x))
    return mlir::failure();
  auto tile = llvm::cast<TileType>(x->value.getType());
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
    return Val::of(
        Val::Kind::Tile,
        builder.create<ViewOp>(l, tileType(*shape, *element), x->value));
  }
  llvm::SmallVector<int64_t> shape(tile.getShape());
  if ((shape.back() * from) % to != 0) {
    report(call.loc, "cannot view " + Twine(shape.back()) + " x " +
                         Twine(from) + " bits as elements of " + Twine(to) +
                         " bits");
    return mlir::failure();
  }
  shape.back() = shape.back() * from / to;
  return Val::of(Val::Kind::Tile, builder.create<ViewOp>(
                                      l, tileType(shape, *element), x->value));
}

mlir::FailureOr<Val> Generator::genWhere(const Expr &call) {
  mlir::Location l = loc(call.loc);
  mlir::FailureOr<Val> c = genArg(call, 0, Val::Kind::Tile);
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
  // The condition and the values share one layout (WhereOp's verifier):
  // a layout written on either side is given to the other.
  auto values = llvm::cast<TileType>(ta->value.getType());
  auto condition = llvm::cast<TileType>(cv.value.getType());
  if (values.getLayout() != condition.getLayout()) {
    if (values.getLayout()) {
      cv.value = builder.create<ConvertLayoutOp>(
          l,
          TileType::get(&context, condition.getShape(),
                        condition.getElementType(), values.getLayout()),
          cv.value);
    } else {
      auto pinned = TileType::get(&context, values.getShape(),
                                  values.getElementType(),
                                  condition.getLayout());
      ta->value = builder.create<ConvertLayoutOp>(l, pinned, ta->value);
      tb->value = builder.create<ConvertLayoutOp>(l, pinned, tb->value);
    }
  }
  c = cv;
  return Val::of(Val::Kind::Tile,
                 builder.create<WhereOp>(l, ta->value.getType(), c->value,
                                         ta->value, tb->value));
}

mlir::FailureOr<Val> Generator::genReduce(const Expr &call) {
  StringRef name = call.name;
  mlir::Location l = loc(call.loc);
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
    mlir::FailureOr<int64_t> keep = evalConstInt(*call.operands[2], "keepdim");
    if (mlir::failed(keep))
      return mlir::failure();
    keepdim = *keep != 0;
  }
  if (getDType(tile.getElementType())->isBool() ||
      mlir::failed(checkArithmeticType(name, tile.getElementType(), call.loc))) {
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
                    : name == "reduce_min" ? ReduceKind::min
                    : name == "argmax"     ? ReduceKind::argmax
                                           : ReduceKind::argmin;
  mlir::Type element = isArgReduce(kind) ? builder.getI32Type()
                                         : tile.getElementType();
  return Val::of(Val::Kind::Tile,
                 builder.create<ReduceOp>(l, tileType(shape, element), kind,
                                          x->value, *dim,
                                          keepdim || tile.getRank() == 1));
}

mlir::FailureOr<Val> Generator::genDot(const Expr &call) {
  mlir::Location l = loc(call.loc);
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
    report(call.loc, "'" + call.name +
                         "' needs (M x K) @ (K x N) + (M x N), got " +
                         shapeText(ta.getShape()) + " @ " +
                         shapeText(tb.getShape()) + " + " +
                         shapeText(tc.getShape()));
    return mlir::failure();
  }
  if (ta.getElementType() != tb.getElementType()) {
    report(call.loc, "'" + call.name +
                         "' needs a and b of one element type, got " +
                         typeToString(ta.getElementType()) + " and " +
                         typeToString(tb.getElementType()));
    return mlir::failure();
  }
  auto dot = builder.create<DotOp>(l, c->value.getType(), a->value, b->value,
                                   c->value,
                                   /*async=*/call.name == "dot_async");
  if (dotsWaitingForA.count(&call))
    dot->setAttr(kDotWaitsForA, builder.getUnitAttr());
  return Val::of(Val::Kind::Tile, dot);
}

mlir::FailureOr<Val> Generator::genWaitDot(const Expr &call) {
  mlir::Location l = loc(call.loc);
  mlir::FailureOr<Val> n = genExpr(*call.operands[0]);
  if (mlir::failed(n))
    return mlir::failure();
  if (n->kind != Val::Kind::Int || n->intValue < 0 || n->intValue > 7) {
    report(call.operands[0]->loc,
           "'wait_dot' needs a compile-time count of pending groups in "
           "[0, 7]");
    return mlir::failure();
  }
  // Every tile a dot_async may still be writing passes through the wait, so
  // that its later reads depend on the wait (docs/language.md), and so does
  // every tile an in-flight dot_async reads as its a, so that its registers
  // stay unchanged up to the wait. A shared `a` (a load_shared result, or
  // its transpose) is read by descriptor, not from registers: it is left
  // out, so that it is not loaded for the wait.
  auto sharedOperand = [](mlir::Value value) {
    if (auto transpose = value.getDefiningOp<TransposeOp>())
      value = transpose.getSource();
    return static_cast<bool>(value.getDefiningOp<LoadSharedOp>());
  };
  llvm::SmallVector<std::string> names;
  llvm::SmallVector<mlir::Value> values;
  for (const WaitOperand &operand : waitDotOperands[&call]) {
    const std::string &name = operand.name;
    // An `a` only dot_asyncs that wait for their own groups hold is free.
    if (!operand.holders.empty() &&
        llvm::all_of(operand.holders, [&](const Expr *dot) {
          return dotsWaitingForA.count(dot) != 0;
        }))
      continue;
    auto it = vars.find(name);
    // A variable not visible here (assigned only inside a loop that does
    // not carry it) cannot pass through the wait (a known gap,
    // docs/language.md).
    if (it == vars.end())
      continue;
    if (it->second.kind != Val::Kind::Tile || sharedOperand(it->second.value))
      continue;
    names.push_back(name);
    values.push_back(it->second.value);
  }
  auto wait = builder.create<WaitDotOp>(
      l, mlir::ValueRange(values).getTypes(),
      builder.getI64IntegerAttr(n->intValue), values);
  for (auto [name, result] : llvm::zip(names, wait.getResults()))
    vars[name] = Val::of(Val::Kind::Tile, result);
  return Val::constInt(0);
}

mlir::FailureOr<Val> Generator::genTranspose(const Expr &call) {
  mlir::Location l = loc(call.loc);
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

mlir::FailureOr<Val> Generator::genSlice(const Expr &call) {
  mlir::Location l = loc(call.loc);
  mlir::FailureOr<Val> x = genArg(call, 0, Val::Kind::Tile);
  if (mlir::failed(x))
    return mlir::failure();
  auto tile = llvm::cast<TileType>(x->value.getType());
  auto offsets =
      genConstList(*call.operands[1], tile.getRank(), "slice offsets", 0);
  if (mlir::failed(offsets))
    return mlir::failure();
  auto shape = genShape(*call.operands[2], tile.getRank());
  if (mlir::failed(shape))
    return mlir::failure();
  for (size_t d = 0; d < shape->size(); ++d)
    if ((*offsets)[d] + (*shape)[d] > tile.getShape()[d]) {
      report(call.loc,
             "the slice runs past the tile along dimension " + Twine(d));
      return mlir::failure();
    }
  return Val::of(Val::Kind::Tile,
                 builder.create<SliceOp>(
                     l, tileType(*shape, tile.getElementType()), x->value,
                     builder.getDenseI64ArrayAttr(*offsets)));
}

mlir::FailureOr<Val> Generator::genReshape(const Expr &call) {
  StringRef name = call.name;
  mlir::FailureOr<Val> x = genArg(call, 0, Val::Kind::Tile);
  if (mlir::failed(x))
    return mlir::failure();
  auto tile = llvm::cast<TileType>(x->value.getType());
  const Expr &arg = *call.operands[1];
  llvm::SmallVector<int64_t> shape(tile.getShape());
  if (name == "reshape") {
    mlir::FailureOr<llvm::SmallVector<int64_t>> to = genShape(arg, 0);
    if (mlir::failed(to))
      return mlir::failure();
    // 128-bit products: extents near 2^63 must not wrap into a match.
    auto count = [](llvm::ArrayRef<int64_t> extents) {
      __int128 n = 1;
      for (int64_t extent : extents)
        n = std::min<__int128>(n * extent, __int128(1) << 64);
      return n;
    };
    if (count(*to) != count(shape)) {
      report(arg.loc, "cannot reshape a tile of shape " + shapeText(shape) +
                          " to " + shapeText(*to) +
                          ": the element counts differ");
      return mlir::failure();
    }
    shape = *to;
  } else {
    bool expand = name == "expand_dims";
    mlir::FailureOr<int64_t> axis = evalConstInt(arg, "the axis");
    if (mlir::failed(axis))
      return mlir::failure();
    int64_t limit = tile.getRank() + (expand ? 1 : 0);
    if (*axis < 0 || *axis >= limit) {
      report(arg.loc, "axis " + Twine(*axis) + " is out of range for '" + name +
                          "' of a rank-" + Twine(tile.getRank()) +
                          " tile (0 to " + Twine(limit - 1) + ")");
      return mlir::failure();
    }
    if (expand) {
      shape.insert(shape.begin() + *axis, 1);
    } else if (shape[*axis] != 1) {
      report(arg.loc, "'squeeze' removes an extent-1 dimension, but "
                      "dimension " +
                          Twine(*axis) + " of " + shapeText(shape) +
                          " has extent " + Twine(shape[*axis]));
      return mlir::failure();
    } else if (shape.size() == 1) {
      report(arg.loc, "'squeeze' would leave a rank-0 tile; a tile has at "
                      "least one dimension (use 'item' for its element)");
      return mlir::failure();
    } else {
      shape.erase(shape.begin() + *axis);
    }
  }
  if (shape == tile.getShape())
    return *x;
  return Val::of(
      Val::Kind::Tile,
      builder.create<ReshapeOp>(
          loc(call.loc), tileType(shape, tile.getElementType()), x->value));
}

mlir::FailureOr<Val> Generator::genItem(const Expr &call) {
  mlir::FailureOr<Val> x = genArg(call, 0, Val::Kind::Tile);
  if (mlir::failed(x))
    return mlir::failure();
  auto tile = llvm::cast<TileType>(x->value.getType());
  if (tile.getNumElements() != 1) {
    report(call.operands[0]->loc,
           "'item' needs a tile of one element, got shape " +
               shapeText(tile.getShape()) + " (" +
               Twine(tile.getNumElements()) + " elements)");
    return mlir::failure();
  }
  mlir::Type element = tile.getElementType();
  if (!element.isSignlessInteger() && !llvm::isa<mlir::FloatType>(element)) {
    report(call.operands[0]->loc,
           "'item' gives a scalar of bool, a signed integer type, f16, bf16 "
           "or f32, not of " +
               getDType(element)->name() + "; cast the tile first");
    return mlir::failure();
  }
  return Val::of(Val::Kind::Scalar,
                 builder.create<ItemOp>(loc(call.loc), element, x->value));
}

mlir::FailureOr<Val> Generator::genIntegerCall(const Expr &call) {
  StringRef name = call.name;
  mlir::Location l = loc(call.loc);
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

mlir::FailureOr<Val> Generator::genBits(const Expr &call) {
  mlir::FailureOr<mlir::Type> type = genDTypeArg(*call.operands[0]);
  if (mlir::failed(type))
    return mlir::failure();
  return Val::constInt(getDType(*type)->bitWidth());
}

mlir::FailureOr<Val> Generator::genPrint(const Expr &call) {
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
    report(valueExpr->loc,
           "'print' prints tiles and scalars, got " + describe(*value));
    return mlir::failure();
  }
  builder.create<PrintOp>(loc(call.loc), builder.getStringAttr(label), printed);
  return Val::constInt(0);
}

mlir::FailureOr<Val> Generator::genAssume(const Expr &call) {
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

mlir::FailureOr<Val> Generator::genAtomicAdd(const Expr &call) {
  mlir::Location l = loc(call.loc);
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
                 builder
                     .create<AtomicAddOp>(l, builder.getI32Type(), dst->value,
                                          *indices, *value)
                     .getResult());
}
