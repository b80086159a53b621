//===- MLIRGen.cpp - From the syntax tree to the tilus dialect ------------===//
//
// The driver of the generator (Generator.h): kernels, their signatures and
// the host-side facts the runtime needs. Statements, expressions and the
// built-in functions are generated in GenStmt.cpp, GenExpr.cpp and
// Builtins.cpp.
//
//===----------------------------------------------------------------------===//

#include "frontend/Generator.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

using namespace tilus;
using namespace tilus::ast;
using namespace tilus::mlirgen;
using llvm::SMLoc;
using llvm::StringRef;
using llvm::Twine;

namespace {

/// The arguments of \p func that a store or an atomic may write through; a
/// destination the walk cannot trace to an argument marks them all.
llvm::SmallBitVector writtenArguments(mlir::func::FuncOp func) {
  llvm::SmallBitVector written(func.getNumArguments());
  func.walk([&](mlir::Operation *op) {
    mlir::Value dst;
    if (auto store = llvm::dyn_cast<StoreGlobalOp>(op))
      dst = store.getDst();
    else if (auto add = llvm::dyn_cast<AtomicAddOp>(op))
      dst = add.getDst();
    else
      return;
    auto view = dst.getDefiningOp<GlobalViewOp>();
    auto arg = view ? llvm::dyn_cast<mlir::BlockArgument>(view.getPtr())
                    : mlir::BlockArgument();
    if (arg && arg.getOwner() == &func.getBody().front())
      written.set(arg.getArgNumber());
    else
      written.set();
  });
  return written;
}

} // namespace

std::string mlirgen::typeToString(mlir::Type type) {
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

mlir::OwningOpRef<mlir::ModuleOp> Generator::run(const Module &module) {
  mlir::OwningOpRef<mlir::ModuleOp> result =
      mlir::ModuleOp::create(builder.getUnknownLoc());
  llvm::StringSet<> constNames, kernelNames;
  for (const Kernel &kernel : module.kernels)
    for (const ConstParam &param : kernel.constParams)
      constNames.insert(param.name);
  // A kernel the parser left out may have had the parameter.
  bool badOverride = false;
  for (const auto &[name, value] : overrides)
    if (!module.recovered && !constNames.contains(name)) {
      diags.error(SMLoc(), "-D " + name + "=" + value +
                               ": no kernel has a compile-time parameter '" +
                               name + "'");
      badOverride = true;
    }
  if (badOverride)
    return nullptr;
  // A kernel that fails is left half built and the next one is generated:
  // every kernel's errors are reported, and the module only without any.
  bool failed = false;
  for (const Kernel &kernel : module.kernels) {
    if (diags.tooManyErrors())
      break;
    if (!kernelNames.insert(kernel.name).second) {
      diags.error(kernel.loc, "duplicate kernel '" + kernel.name + "'");
      failed = true;
      continue;
    }
    builder.setInsertionPointToEnd(result->getBody());
    if (mlir::failed(genKernel(kernel)))
      failed = true;
  }
  if (failed)
    return nullptr;
  return result;
}

mlir::Location Generator::loc(SMLoc where) {
  llvm::SourceMgr &sm = diags.getSourceMgr();
  unsigned buffer = sm.FindBufferContainingLoc(where);
  if (!buffer)
    return builder.getUnknownLoc();
  auto [line, col] = sm.getLineAndColumn(where, buffer);
  return mlir::FileLineColLoc::get(
      &context, sm.getMemoryBuffer(buffer)->getBufferIdentifier(), line, col);
}

std::string Generator::resolveDType(StringRef name) {
  auto it = typeConsts.find(name.str());
  return it != typeConsts.end() ? it->second : name.str();
}

mlir::Type Generator::parseDType(StringRef name) {
  std::optional<DType> dtype = DType::parse(resolveDType(name));
  return dtype ? getMLIRType(&context, *dtype) : mlir::Type();
}

mlir::Type Generator::expectDType(StringRef name, SMLoc where) {
  std::string error;
  std::optional<DType> dtype = DType::parse(resolveDType(name), &error);
  if (!dtype) {
    diags.error(where, "unknown data type '" + name +
                           "'; run 'tilus-dtype --list' for the valid names");
    return nullptr;
  }
  return getMLIRType(&context, *dtype);
}

mlir::FailureOr<int64_t> Generator::evalConstInt(const Expr &expr,
                                                 StringRef what) {
  mlir::FailureOr<Val> val = genExpr(expr);
  if (mlir::failed(val))
    return mlir::failure();
  if (val->kind != Val::Kind::Int) {
    report(expr.loc, what + " must be a compile-time integer");
    return mlir::failure();
  }
  return val->intValue;
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

mlir::LogicalResult Generator::genKernel(const Kernel &kernel) {
  consts.clear();
  vars.clear();
  poisoned.clear();
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
          *param.defaultValue, "the default of '" + param.name + "'");
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
    return error(kernel.warps->loc,
                 "'warps' must be between 1 and 32, got " + Twine(*warps));
  numThreads = *warps * kWarpSize;

  // Signature: pointers for global tensors, scalars as themselves.
  llvm::SmallVector<mlir::Type> argTypes;
  llvm::StringMap<const Param *> paramByName;
  for (const Param &param : kernel.params) {
    if (consts.count(param.name) ||
        !paramByName.insert({param.name, &param}).second)
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
  auto func = builder.create<mlir::func::FuncOp>(loc(kernel.loc), kernel.name,
                                                 funcType);
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
    auto type = GlobalTensorType::get(&context, shape, parseDType(param.dtype));
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

  // The body is generated also after a dot_async error, for its other
  // errors; the walk fills waitDotOperands, which generation reads.
  bool asyncChecked = mlir::succeeded(checkDotAsync(kernel));
  if (mlir::failed(genBlock(kernel.body)) || !asyncChecked)
    return mlir::failure();
  builder.create<mlir::func::ReturnOp>(loc(kernel.loc));
  return recordKernelInfo(kernel, grid);
}

mlir::LogicalResult
Generator::recordKernelInfo(const Kernel &kernel,
                            llvm::ArrayRef<mlir::Attribute> grid) {
  KernelInfo info;
  info.name = kernel.name;
  info.numThreads = static_cast<int>(numThreads);
  info.constants.insert(consts.begin(), consts.end());
  for (auto [dim, extent] : llvm::enumerate(grid))
    info.grid[dim] = llvm::cast<mlir::StringAttr>(extent).str();
  llvm::SmallBitVector written = writtenArguments(currentFunc);
  for (const Param &param : kernel.params) {
    ParamInfo p;
    p.name = param.name;
    p.isGlobal = param.isGlobal;
    p.written = param.isGlobal && written.test(&param - kernel.params.data());
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

mlir::LogicalResult Generator::renderHostExpr(const Expr &expr,
                                              const Kernel &kernel,
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
      // A compile-time integer: the call builds no IR.
      mlir::FailureOr<Val> width = genCall(expr);
      if (mlir::failed(width))
        return mlir::failure();
      os << width->intValue;
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
