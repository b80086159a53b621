//===- Generator.h - The generator behind lowerToTilus ----------*- C++ -*-===//
//
// Private to frontend/. One pass over the tree does name resolution, type
// checking, constant folding of compile-time expressions and IR
// construction; the generator's pieces live in
//   MLIRGen.cpp   kernels, their signatures and the host-side facts;
//   GenStmt.cpp   statements, layout annotations and control flow;
//   GenExpr.cpp   expressions, operators and the argument helpers;
//   Builtins.cpp  the table of built-in functions and their builders;
//   DotAsync.cpp  the rules for the results of dot_async.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_FRONTEND_GENERATOR_H
#define TILUS_FRONTEND_GENERATOR_H

#include "frontend/MLIRGen.h"

#include "ir/dialect/Tilus.h"
#include "support/ShapeText.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace tilus::mlirgen {

/// A value during generation. Values are one of seven kinds: compile-time
/// integers and floats (folded, given a type only when they meet a run-time
/// value), run-time scalars, register tiles, global and shared tensors, and
/// mbarriers.
struct Val {
  enum class Kind { Int, Float, Scalar, Tile, Global, Shared, Barrier };
  Kind kind = Kind::Int;
  int64_t intValue = 0;
  double floatValue = 0;
  mlir::Value value; ///< Scalar, Tile, Global, Shared, Barrier

  static Val constInt(int64_t v) { return {Kind::Int, v, 0, {}}; }
  static Val constFloat(double v) { return {Kind::Float, 0, v, {}}; }
  static Val of(Kind kind, mlir::Value v) { return {kind, 0, 0, v}; }
  bool isConst() const { return kind == Kind::Int || kind == Kind::Float; }
};

/// `tile<16x64xf16>` for a tile type, the type's own spelling otherwise.
std::string typeToString(mlir::Type type);
/// `[16, 64]`.
/// A value as diagnostics name it: its kind, or a run-time value's type.
std::string describe(const Val &val);

/// A variable a wait_dot passes through (checkDotAsync): an in-flight
/// accumulator (no holders) or a register `a` held by the dot_async calls
/// `holders`.
struct WaitOperand {
  std::string name;
  std::set<const ast::Expr *> holders;
};

class Generator;

/// One built-in function. `genCall` finds the entry by name, checks the
/// argument count against [minArgs, maxArgs] (the error quotes
/// `signature`), then calls `build`, which evaluates the arguments and
/// builds the IR.
struct Builtin {
  using Build = mlir::FailureOr<Val> (Generator::*)(const ast::Expr &call);
  const char *name;
  unsigned minArgs, maxArgs;
  /// The arguments' kinds as the arity error spells them:
  /// `(tensor, [offsets], [shape])`.
  const char *signature;
  /// Whether a call may stand alone as a statement (it has an effect).
  bool standsAlone;
  Build build;
};

class Generator {
public:
  Generator(mlir::MLIRContext &context, DiagnosticEngine &diags,
            const ConstOverrides &overrides)
      : context(context), builder(&context), diags(diags),
        overrides(overrides) {}

  mlir::OwningOpRef<mlir::ModuleOp> run(const ast::Module &module);

  std::vector<KernelInfo> takeKernelInfos() { return std::move(infos); }

private:
  //===--------------------------------------------------------------------===//
  // Helpers (MLIRGen.cpp)
  //===--------------------------------------------------------------------===//

  mlir::LogicalResult error(llvm::SMLoc loc, const llvm::Twine &message) {
    diags.error(loc, message);
    return mlir::failure();
  }
  void report(llvm::SMLoc loc, const llvm::Twine &message) {
    diags.error(loc, message);
  }

  mlir::Location loc(llvm::SMLoc where);
  /// A data type name, or a compile-time parameter holding one.
  std::string resolveDType(llvm::StringRef name);
  /// The MLIR type of a dtype name (see getMLIRType), or null.
  mlir::Type parseDType(llvm::StringRef name);
  /// As parseDType, reporting an unknown name at `where`.
  mlir::Type expectDType(llvm::StringRef name, llvm::SMLoc where);
  /// Evaluates a compile-time integer expression over literals and
  /// compile-time parameters.
  mlir::FailureOr<int64_t> evalConstInt(const ast::Expr &expr,
                                        llvm::StringRef what);
  /// A tile type without a layout: layout inference gives it one.
  TileType tileType(llvm::ArrayRef<int64_t> shape, mlir::Type elementType) {
    return TileType::get(&context, shape, elementType, LayoutAttr());
  }

  //===--------------------------------------------------------------------===//
  // Kernels (MLIRGen.cpp)
  //===--------------------------------------------------------------------===//

  mlir::LogicalResult genKernel(const ast::Kernel &kernel);
  /// The host-side facts of `kernel`, for the runtime.
  mlir::LogicalResult recordKernelInfo(const ast::Kernel &kernel,
                                       llvm::ArrayRef<mlir::Attribute> grid);
  /// Writes a grid extent as a host expression over the scalar parameters,
  /// with compile-time parameters replaced by their values.
  mlir::LogicalResult renderHostExpr(const ast::Expr &expr,
                                     const ast::Kernel &kernel,
                                     llvm::raw_ostream &os);

  //===--------------------------------------------------------------------===//
  // Statements (GenStmt.cpp)
  //===--------------------------------------------------------------------===//

  /// Generates `body`; once a statement may have run `break`, the rest of
  /// the block runs only while the loop is still running.
  mlir::LogicalResult genBlock(llvm::ArrayRef<ast::StmtPtr> body);
  mlir::LogicalResult genStmt(const ast::Stmt &stmt);
  mlir::LogicalResult genAssign(const ast::Stmt &stmt);
  /// Pins the layout written in `name: layout = value;` on `value`: the
  /// instruction that made it produces that layout, or, for a value that
  /// already has one, a convert_layout moves it.
  mlir::LogicalResult applyLayout(const ast::Stmt &stmt, Val &value);
  /// Materialises a value that must exist at run time (loop bounds and
  /// loop-carried variables). Integers become i32, floats f32.
  mlir::Value materialize(const Val &val, llvm::SMLoc where);
  /// The variables of `names` defined now (and not compile-time constants),
  /// with their run-time values: what a region carries.
  void collectCarried(llvm::ArrayRef<std::string> names, llvm::SMLoc where,
                      llvm::SmallVectorImpl<std::string> &carried,
                      llvm::SmallVectorImpl<mlir::Value> &values);
  /// The values of `carried` at the end of a region, checked against the
  /// types they entered it with.
  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  carriedValues(llvm::ArrayRef<std::string> carried, mlir::TypeRange types,
                llvm::StringRef what);
  void bindResults(llvm::ArrayRef<std::string> carried,
                   mlir::ValueRange results);
  /// `if cond { then } else { otherwise }` over the variables `assigned` in
  /// either branch: those defined before become the results of an scf.if.
  mlir::LogicalResult
  genConditional(llvm::SMLoc where, mlir::Value cond,
                 llvm::function_ref<mlir::LogicalResult()> genThen,
                 llvm::function_ref<mlir::LogicalResult()> genElse,
                 llvm::ArrayRef<std::string> assigned);
  mlir::FailureOr<mlir::Value> genCondition(const ast::Expr &expr,
                                            llvm::StringRef what);
  mlir::LogicalResult genIf(const ast::Stmt &stmt);
  mlir::FailureOr<mlir::Value> genIndexScalar(const ast::Expr &expr,
                                              llvm::StringRef what);
  /// A loop as scf.while: `cond` is evaluated on the carried variables
  /// before each iteration, `body` runs after. `break` clears the running
  /// flag, which joins the condition.
  mlir::LogicalResult
  genWhileLoop(llvm::SMLoc where,
               llvm::function_ref<mlir::FailureOr<mlir::Value>()> cond,
               llvm::function_ref<mlir::LogicalResult()> body,
               llvm::SmallVectorImpl<std::string> &assigned, bool breaks);
  mlir::LogicalResult genWhile(const ast::Stmt &stmt);
  mlir::LogicalResult genFor(const ast::Stmt &stmt);
  /// thread_group(first_warp, num_warps) { ... }: a tilus.thread_group;
  /// inside it `numThreads` is the group's, and the variables it assigns
  /// are hidden after it (hiddenByGroup).
  mlir::LogicalResult genGroup(const ast::Stmt &stmt);

  //===--------------------------------------------------------------------===//
  // Expressions (GenExpr.cpp)
  //===--------------------------------------------------------------------===//

  mlir::FailureOr<Val> genExpr(const ast::Expr &expr);
  mlir::FailureOr<Val> genNot(const ast::Expr &expr, const Val &operand);
  mlir::FailureOr<Val> genBitNot(const ast::Expr &expr, const Val &operand);
  mlir::FailureOr<Val> genMember(const ast::Expr &expr);
  /// Gives a compile-time constant the type `type` (a scalar type).
  mlir::FailureOr<mlir::Value> constantOf(const Val &val, mlir::Type type,
                                          llvm::SMLoc where);
  mlir::FailureOr<Val> foldConstants(llvm::StringRef op, const ast::Expr &expr,
                                     const Val &lhs, const Val &rhs);
  /// Checks that arithmetic on tiles of `elementType` is possible.
  mlir::LogicalResult checkArithmeticType(llvm::StringRef op,
                                          mlir::Type elementType,
                                          llvm::SMLoc where);
  /// Broadcasts tile `val` to `shape` (same rank, extent-1 dims repeat).
  Val broadcastTo(const Val &val, llvm::ArrayRef<int64_t> shape,
                  llvm::SMLoc where);
  /// Gives two tiles of one shape and element type one type: where only
  /// one has a layout (written in the source), the other is converted to it.
  void unifyLayouts(Val &a, Val &b, llvm::SMLoc where);
  /// Brings two tiles to one shape by numpy's rule: the lower rank gets
  /// extent-1 dimensions in front (a reshape), then extent-1 dimensions
  /// broadcast.
  mlir::LogicalResult broadcastPair(const ast::Expr &expr, Val &a, Val &b);
  /// `lhs op rhs` for the operators of the binary-operator tables.
  mlir::FailureOr<Val> genBinary(llvm::StringRef op, const ast::Expr &expr,
                                 Val lhs, Val rhs);
  mlir::FailureOr<Val> genUnaryTile(const ast::Expr &expr, UnaryKind kind,
                                    const Val &operand);

  //===--------------------------------------------------------------------===//
  // Arguments of built-in functions (GenExpr.cpp)
  //===--------------------------------------------------------------------===//

  /// Evaluates a `[a, b, ...]` argument into values (constants folded).
  mlir::FailureOr<llvm::SmallVector<Val>> genList(const ast::Expr &expr,
                                                  llvm::StringRef what);
  /// A list of compile-time integers (`[16, 64]`); `rank` 0 accepts any.
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  genConstList(const ast::Expr &expr, size_t rank, llvm::StringRef what,
               int64_t min);
  mlir::FailureOr<llvm::SmallVector<int64_t>> genShape(const ast::Expr &expr,
                                                       size_t rank);
  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  genOffsets(const ast::Expr &expr, size_t rank);
  /// An argument that must be of `kind` (a global or shared tensor, a tile).
  mlir::FailureOr<Val> genArg(const ast::Expr &call, size_t index,
                              Val::Kind kind);
  mlir::FailureOr<mlir::Type> genDTypeArg(const ast::Expr &arg);
  mlir::FailureOr<mlir::Value> genIntScalar(const Val &val, llvm::SMLoc where);
  /// A tile, or a scalar or constant broadcast to `like`'s shape.
  mlir::FailureOr<Val> asTile(const ast::Expr &arg, const Val &val,
                              TileType like);

  //===--------------------------------------------------------------------===//
  // Built-in functions (Builtins.cpp)
  //===--------------------------------------------------------------------===//

  /// Every built-in function, grouped by what it works on.
  static llvm::ArrayRef<Builtin> builtins();
  /// The built-in function called `name`, or null.
  static const Builtin *findBuiltin(llvm::StringRef name);
  /// The built-ins that may stand alone, as a sentence: `a, b and c`.
  static const std::string &standaloneBuiltins();
  mlir::FailureOr<Val> genCall(const ast::Expr &call);

  // The builders of the table; each sees a call with a valid argument count.
  mlir::FailureOr<Val> genUnaryCall(const ast::Expr &call);
  mlir::FailureOr<Val> genLoad(const ast::Expr &call);
  mlir::FailureOr<Val> genStore(const ast::Expr &call);
  mlir::FailureOr<Val> genAtomicAdd(const ast::Expr &call);
  mlir::FailureOr<Val> genFull(const ast::Expr &call);
  mlir::FailureOr<Val> genArange(const ast::Expr &call);
  mlir::FailureOr<Val> genAllocShared(const ast::Expr &call);
  mlir::FailureOr<Val> genFreeShared(const ast::Expr &call);
  mlir::FailureOr<Val> genCopyAsync(const ast::Expr &call);
  mlir::FailureOr<Val> genAllocBarrier(const ast::Expr &call);
  mlir::FailureOr<Val> genCopyTma(const ast::Expr &call);
  mlir::FailureOr<Val> genWaitBarrier(const ast::Expr &call);
  mlir::FailureOr<Val> genArrive(const ast::Expr &call);
  mlir::FailureOr<Val> genCommit(const ast::Expr &call);
  mlir::FailureOr<Val> genSync(const ast::Expr &call);
  mlir::FailureOr<Val> genWait(const ast::Expr &call);
  mlir::FailureOr<Val> genCast(const ast::Expr &call);
  mlir::FailureOr<Val> genView(const ast::Expr &call);
  mlir::FailureOr<Val> genWhere(const ast::Expr &call);
  mlir::FailureOr<Val> genReduce(const ast::Expr &call);
  /// `dot(a, b, c)` and `dot_async(a, b, c)`.
  mlir::FailureOr<Val> genDot(const ast::Expr &call);
  /// `wait_dot(n)`: passes the variables waitDotOperands names through it.
  mlir::FailureOr<Val> genWaitDot(const ast::Expr &call);
  mlir::FailureOr<Val> genTranspose(const ast::Expr &call);
  mlir::FailureOr<Val> genSlice(const ast::Expr &call);
  /// `reshape(x, [shape])`, `expand_dims(x, axis)`, `squeeze(x, axis)`.
  mlir::FailureOr<Val> genReshape(const ast::Expr &call);
  /// `item(x)`: the one element of a tile as a scalar.
  mlir::FailureOr<Val> genItem(const ast::Expr &call);
  mlir::FailureOr<Val> genPrint(const ast::Expr &call);
  /// `assume(n % 128 == 0)`: a divisibility fact about an integer parameter.
  mlir::FailureOr<Val> genAssume(const ast::Expr &call);
  /// `bits(T)`: the bit width of a data type, a compile-time integer.
  mlir::FailureOr<Val> genBits(const ast::Expr &call);
  /// `cdiv`, `min` and `max` on integers, floats and tiles.
  mlir::FailureOr<Val> genIntegerCall(const ast::Expr &call);
  /// cast of a scalar: integer widths and i <-> f conversions with the
  /// arith semantics (truncation toward zero for float to integer).
  mlir::FailureOr<Val> genScalarCast(const ast::Expr &arg, const Val &value,
                                     mlir::Type to);

  //===--------------------------------------------------------------------===//
  // Asynchronous dots (DotAsync.cpp)
  //===--------------------------------------------------------------------===//

  /// Checks the uses of dot_async results in `kernel` (reporting each rule
  /// broken at its use) and fills waitDotOperands.
  mlir::LogicalResult checkDotAsync(const ast::Kernel &kernel);

  //===--------------------------------------------------------------------===//
  // State
  //===--------------------------------------------------------------------===//

  mlir::MLIRContext &context;
  mlir::OpBuilder builder;
  DiagnosticEngine &diags;
  const ConstOverrides &overrides;
  std::map<std::string, int64_t> consts;
  /// Compile-time parameters that hold data types, with their names.
  std::map<std::string, std::string> typeConsts;
  std::map<std::string, Val> vars;
  /// Variables whose last assignment failed: a use fails without an error
  /// of its own (the assignment's was reported).
  std::set<std::string> poisoned;
  std::map<std::string, llvm::SMLoc> assignLocs;
  /// Variables a thread group assigned, with where: a group's values are not
  /// visible after it, so a later use is an error until they are assigned.
  std::map<std::string, llvm::SMLoc> hiddenByGroup;
  /// For each wait_dot call, the variables whose dot_async may be in flight
  /// there (checkDotAsync).
  std::map<const ast::Expr *, std::vector<WaitOperand>> waitDotOperands;
  /// The dot_async calls whose bare-variable `a` is read or reassigned while
  /// they may be in flight: they wait for their own groups (checkDotAsync).
  std::set<const ast::Expr *> dotsWaitingForA;
  int64_t numThreads = 0;
  std::vector<KernelInfo> infos;
  mlir::func::FuncOp currentFunc;
  const ast::Kernel *currentKernel = nullptr;
};

} // namespace tilus::mlirgen

#endif // TILUS_FRONTEND_GENERATOR_H
