//===- Tilus.cpp - The tilus dialect --------------------------------------===//

#include "ir/dialect/Tilus.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace tilus;

#include "ir/dialect/TilusDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "ir/dialect/TilusAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "ir/dialect/TilusTypes.cpp.inc"

#define GET_OP_CLASSES
#include "ir/dialect/TilusOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Dialect
//===----------------------------------------------------------------------===//

void TilusDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "ir/dialect/TilusAttrs.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "ir/dialect/TilusTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "ir/dialect/TilusOps.cpp.inc"
      >();
}

LogicalResult TilusDialect::verifyOperationAttribute(Operation *op,
                                                     NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == kernel_attr::kKernel) {
    if (!isa<func::FuncOp>(op))
      return op->emitError("'") << name << "' expects to be on a func.func";
    auto warps = op->getAttrOfType<IntegerAttr>(kernel_attr::kNumWarps);
    if (!warps)
      return op->emitError("kernel expects an integer '")
             << kernel_attr::kNumWarps << "' attribute";
    return success();
  }
  if (name == kernel_attr::kNumWarps) {
    auto warps = dyn_cast<IntegerAttr>(attr.getValue());
    if (!warps || warps.getInt() < 1 || warps.getInt() > 32)
      return op->emitError("'")
             << name << "' expects an integer in [1, 32], got "
             << attr.getValue();
    return success();
  }
  if (name == kernel_attr::kGrid) {
    auto grid = dyn_cast<ArrayAttr>(attr.getValue());
    if (!grid || grid.size() != 3 ||
        !llvm::all_of(grid, [](Attribute a) { return isa<StringAttr>(a); }))
      return op->emitError("'")
             << name << "' expects an array of three expression strings";
    return success();
  }
  return op->emitError("unknown tilus attribute '") << name << "'";
}

LogicalResult TilusDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                     unsigned argIndex,
                                                     NamedAttribute attr) {
  if (attr.getName().getValue() != kernel_attr::kDivisibility)
    return op->emitError("unknown tilus argument attribute '")
           << attr.getName().getValue() << "'";
  auto value = dyn_cast<IntegerAttr>(attr.getValue());
  if (!value || value.getInt() < 1)
    return op->emitError("'")
           << kernel_attr::kDivisibility << "' of argument " << argIndex
           << " expects a positive integer";
  return success();
}

int64_t tilus::getKernelNumThreads(Operation *op) {
  auto func = op->getParentOfType<func::FuncOp>();
  if (!func)
    return 0;
  auto warps = func->getAttrOfType<IntegerAttr>(kernel_attr::kNumWarps);
  return warps ? warps.getInt() * kWarpSize : 0;
}

//===----------------------------------------------------------------------===//
// Layouts
//===----------------------------------------------------------------------===//

FailureOr<LayoutSummary> tilus::summarizeLayout(StringRef expr,
                                                std::string &error) {
  LayoutSummary summary;
  StringRef rest = expr.trim();
  auto fail = [&](const Twine &message) -> FailureOr<LayoutSummary> {
    error = message.str();
    return failure();
  };
  if (rest.empty())
    return fail("empty layout expression");
  while (!rest.empty()) {
    size_t open = rest.find('(');
    if (open == StringRef::npos)
      return fail("expected '(' after '" + rest + "'");
    StringRef name = rest.take_front(open).trim();
    LayoutSummary::Primitive prim;
    if (name == "local" || name == "column_local") {
      prim.spatial = false;
    } else if (name == "spatial" || name == "column_spatial") {
      prim.spatial = true;
    } else {
      return fail("unknown layout primitive '" + name +
                  "'; expected local, spatial, column_local or "
                  "column_spatial");
    }
    prim.columnMajor = name.starts_with("column_");
    size_t close = rest.find(')', open);
    if (close == StringRef::npos)
      return fail("expected ')' to close '" + name + "('");
    SmallVector<StringRef> parts;
    rest.slice(open + 1, close).split(parts, ',');
    for (StringRef part : parts) {
      int64_t extent;
      if (part.trim().getAsInteger(10, extent) || extent < 1)
        return fail("expected a positive extent in '" + name + "(', got '" +
                    part.trim() + "'");
      prim.shape.push_back(extent);
    }
    if (summary.primitives.empty())
      summary.shape.assign(prim.shape.size(), 1);
    else if (prim.shape.size() != summary.shape.size())
      return fail("layout primitives have different ranks");
    for (auto [dim, extent] : llvm::enumerate(prim.shape))
      summary.shape[dim] *= extent;
    int64_t size = 1;
    for (int64_t extent : prim.shape)
      size *= extent;
    (prim.spatial ? summary.numThreads : summary.numLocals) *= size;
    summary.primitives.push_back(std::move(prim));
    rest = rest.drop_front(close + 1).trim();
    if (!rest.empty() && !rest.consume_front("."))
      return fail("expected '.' between layout primitives");
  }
  return summary;
}

LogicalResult
LayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                   StringRef expr) {
  std::string error;
  if (failed(summarizeLayout(expr, error)))
    return emitError() << "invalid layout \"" << expr << "\": " << error;
  return success();
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

/// Whether MLIR has a builtin type with `dtype`'s meaning.
static bool hasBuiltinType(DType dtype) {
  unsigned bits = dtype.bitWidth();
  return dtype == DType::f16() || dtype == DType::bf16() ||
         dtype == DType::f32() || dtype.isBool() ||
         (dtype.kind() == DType::Kind::SignedInt &&
          (bits == 8 || bits == 16 || bits == 32 || bits == 64));
}

mlir::Type tilus::getMLIRType(MLIRContext *context, DType dtype) {
  if (!hasBuiltinType(dtype))
    return ElementType::get(context, dtype.name());
  Builder builder(context);
  if (dtype == DType::f16())
    return builder.getF16Type();
  if (dtype == DType::bf16())
    return builder.getBF16Type();
  if (dtype == DType::f32())
    return builder.getF32Type();
  if (dtype.isBool())
    return builder.getI1Type();
  return builder.getIntegerType(dtype.bitWidth());
}

std::optional<DType> tilus::getDType(Type type) {
  if (type.isF16())
    return DType::f16();
  if (type.isBF16())
    return DType::bf16();
  if (type.isF32())
    return DType::f32();
  if (type.isSignlessInteger(1))
    return DType::boolean();
  for (unsigned bits : {8u, 16u, 32u, 64u})
    if (type.isSignlessInteger(bits))
      return DType::signedInt(bits);
  if (auto element = dyn_cast<ElementType>(type))
    return element.getDType();
  return std::nullopt;
}

DType ElementType::getDType() const {
  // The verifier accepted the name.
  return *DType::parse(getName().str());
}

LogicalResult ElementType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  StringRef name) {
  std::optional<DType> dtype = DType::parse(name.str());
  if (!dtype)
    return emitError() << "unknown data type '" << name << "'";
  if (hasBuiltinType(*dtype))
    return emitError() << "'" << name
                       << "' has a builtin MLIR type; use that instead";
  return success();
}

Type TilusDialect::parseType(DialectAsmParser &parser) const {
  StringRef keyword;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseKeyword(&keyword))
    return {};
  if (keyword == GlobalTensorType::getMnemonic())
    return GlobalTensorType::parse(parser);
  if (keyword == TileType::getMnemonic())
    return TileType::parse(parser);
  std::string error;
  if (!DType::parse(keyword.str(), &error)) {
    parser.emitError(loc, "unknown tilus type '") << keyword << "'";
    return {};
  }
  return parser.getChecked<ElementType>(loc, getContext(), keyword);
}

void TilusDialect::printType(Type type, DialectAsmPrinter &printer) const {
  if (auto global = dyn_cast<GlobalTensorType>(type)) {
    printer << GlobalTensorType::getMnemonic();
    global.print(printer);
  } else if (auto tile = dyn_cast<TileType>(type)) {
    printer << TileType::getMnemonic();
    tile.print(printer);
  } else {
    printer << cast<ElementType>(type).getName();
  }
}

static bool isTileElementType(Type type) {
  return getDType(type).has_value();
}

/// Parses `<` dims `x` element-type, the common prefix of both types.
static ParseResult parseShapeAndElement(AsmParser &parser,
                                        SmallVectorImpl<int64_t> &shape,
                                        Type &elementType, bool allowDynamic) {
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, allowDynamic, /*withTrailingX=*/true) ||
      parser.parseType(elementType))
    return failure();
  return success();
}

static void printShapeAndElement(AsmPrinter &printer, ArrayRef<int64_t> shape,
                                 Type elementType) {
  printer << "<";
  for (int64_t extent : shape) {
    if (ShapedType::isDynamic(extent))
      printer << "?";
    else
      printer << extent;
    printer << "x";
  }
  printer << elementType;
}

Type GlobalTensorType::parse(AsmParser &parser) {
  SmallVector<int64_t> shape;
  Type elementType;
  if (parseShapeAndElement(parser, shape, elementType, /*allowDynamic=*/true) ||
      parser.parseGreater())
    return {};
  return parser.getChecked<GlobalTensorType>(parser.getContext(), shape,
                                              elementType);
}

void GlobalTensorType::print(AsmPrinter &printer) const {
  printShapeAndElement(printer, getShape(), getElementType());
  printer << ">";
}

LogicalResult
GlobalTensorType::verify(function_ref<InFlightDiagnostic()> emitError,
                         ArrayRef<int64_t> shape, Type elementType) {
  if (shape.empty())
    return emitError() << "global tensor expects rank >= 1";
  if (!isTileElementType(elementType))
    return emitError() << "global tensor expects a tilus data type, got "
                       << elementType;
  return success();
}

Type TileType::parse(AsmParser &parser) {
  SmallVector<int64_t> shape;
  Type elementType;
  LayoutAttr layout;
  if (parseShapeAndElement(parser, shape, elementType,
                           /*allowDynamic=*/false) ||
      parser.parseComma() || parser.parseAttribute(layout) ||
      parser.parseGreater())
    return {};
  return parser.getChecked<TileType>(parser.getContext(), shape, elementType,
                                      layout);
}

void TileType::print(AsmPrinter &printer) const {
  printShapeAndElement(printer, getShape(), getElementType());
  printer << ", " << getLayout() << ">";
}

int64_t TileType::getNumElements() const {
  int64_t count = 1;
  for (int64_t extent : getShape())
    count *= extent;
  return count;
}

LogicalResult TileType::verify(function_ref<InFlightDiagnostic()> emitError,
                               ArrayRef<int64_t> shape, Type elementType,
                               LayoutAttr layout) {
  if (shape.empty())
    return emitError() << "tile expects rank >= 1";
  if (!isTileElementType(elementType))
    return emitError() << "tile expects a tilus data type, got "
                       << elementType;
  std::string error;
  FailureOr<LayoutSummary> summary = summarizeLayout(layout.getExpr(), error);
  if (failed(summary))
    return emitError() << "invalid layout: " << error;
  if (ArrayRef<int64_t>(summary->shape) != shape) {
    InFlightDiagnostic diag = emitError() << "layout shape [";
    llvm::interleaveComma(summary->shape, diag);
    diag << "] does not match tile shape [";
    llvm::interleaveComma(shape, diag);
    return diag << "]";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Operations
//===----------------------------------------------------------------------===//

/// A tile must be spread over exactly the threads of its kernel.
static LogicalResult verifyTileThreads(Operation *op, TileType tile) {
  int64_t kernelThreads = getKernelNumThreads(op);
  if (kernelThreads == 0)
    return success();
  std::string error;
  FailureOr<LayoutSummary> summary =
      summarizeLayout(tile.getLayout().getExpr(), error);
  if (succeeded(summary) && summary->numThreads != kernelThreads)
    return op->emitOpError("layout spans ")
           << summary->numThreads << " threads but the kernel has "
           << kernelThreads;
  return success();
}

LogicalResult GlobalViewOp::verify() {
  auto type = getResult().getType();
  int64_t dynamic = llvm::count_if(type.getShape(), ShapedType::isDynamic);
  if (static_cast<int64_t>(getDynamicExtents().size()) != dynamic)
    return emitOpError("expects ")
           << dynamic << " dynamic extents, got "
           << getDynamicExtents().size();
  return success();
}

LogicalResult FullOp::verify() {
  auto tile = getResult().getType();
  if (getValue().getType() != tile.getElementType())
    return emitOpError("value type ")
           << getValue().getType() << " does not match tile element type "
           << tile.getElementType();
  return verifyTileThreads(*this, tile);
}

/// Shared rules of tile <-> global transfers.
static LogicalResult verifyTransfer(Operation *op, GlobalTensorType global,
                                    TileType tile, size_t numOffsets) {
  if (numOffsets != global.getRank())
    return op->emitOpError("expects ")
           << global.getRank() << " offsets for a rank-" << global.getRank()
           << " tensor, got " << numOffsets;
  if (tile.getRank() != global.getRank())
    return op->emitOpError("tile rank ")
           << tile.getRank() << " does not match tensor rank "
           << global.getRank();
  if (tile.getElementType() != global.getElementType())
    return op->emitOpError("tile element type ")
           << tile.getElementType() << " does not match tensor element type "
           << global.getElementType();
  return verifyTileThreads(op, tile);
}

LogicalResult LoadGlobalOp::verify() {
  return verifyTransfer(*this, getSrc().getType(), getResult().getType(),
                        getOffsets().size());
}

LogicalResult StoreGlobalOp::verify() {
  return verifyTransfer(*this, getDst().getType(), getValue().getType(),
                        getOffsets().size());
}

template <typename Op> static LogicalResult verifyBinary(Op op) {
  return verifyTileThreads(op, op.getResult().getType());
}

LogicalResult AddOp::verify() { return verifyBinary(*this); }
LogicalResult SubOp::verify() { return verifyBinary(*this); }
LogicalResult MulOp::verify() { return verifyBinary(*this); }
LogicalResult DivOp::verify() { return verifyBinary(*this); }
