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

/// Parses `<"text">` with `parse`, reporting errors at the string with the
/// column of the offending character, and returns the canonical text.
template <typename ParseFn>
static FailureOr<std::string> parseLayoutText(AsmParser &parser,
                                              ParseFn parse) {
  std::string text;
  SMLoc loc;
  if (parser.parseLess())
    return failure();
  loc = parser.getCurrentLocation();
  if (parser.parseString(&text) || parser.parseGreater())
    return failure();
  auto layout = parse(text);
  if (!layout) {
    parser.emitError(loc, "invalid layout \"")
        << text << "\" at column " << layout.error().offset + 1 << ": "
        << layout.error().message;
    return failure();
  }
  return layout->str();
}

Attribute LayoutAttr::parse(AsmParser &parser, Type) {
  FailureOr<std::string> text = parseLayoutText(parser, parseRegisterLayout);
  if (failed(text))
    return {};
  return LayoutAttr::get(parser.getContext(), *text);
}

void LayoutAttr::print(AsmPrinter &printer) const {
  printer << "<\"" << getExpr() << "\">";
}

LogicalResult LayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef expr) {
  auto layout = parseRegisterLayout(expr);
  if (!layout)
    return emitError() << "invalid layout \"" << expr << "\": "
                       << layout.error().message;
  return success();
}

RegisterLayout LayoutAttr::getLayout() const {
  return *parseRegisterLayout(getExpr());
}

Attribute SharedLayoutAttr::parse(AsmParser &parser, Type) {
  FailureOr<std::string> text = parseLayoutText(parser, parseSharedLayout);
  if (failed(text))
    return {};
  return SharedLayoutAttr::get(parser.getContext(), *text);
}

void SharedLayoutAttr::print(AsmPrinter &printer) const {
  printer << "<\"" << getExpr() << "\">";
}

LogicalResult
SharedLayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         StringRef expr) {
  auto layout = parseSharedLayout(expr);
  if (!layout)
    return emitError() << "invalid shared layout \"" << expr << "\": "
                       << layout.error().message;
  return success();
}

SharedLayout SharedLayoutAttr::getLayout() const {
  return *parseSharedLayout(getExpr());
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
  if (failed(LayoutAttr::verify(emitError, layout.getExpr())))
    return failure();
  RegisterLayout registers = layout.getLayout();
  if (ArrayRef<int64_t>(registers.shape()) != shape) {
    InFlightDiagnostic diag = emitError() << "layout shape [";
    llvm::interleaveComma(registers.shape(), diag);
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
  int64_t threads = tile.getLayout().getLayout().numThreads();
  if (threads != kernelThreads)
    return op->emitOpError("layout spans ")
           << threads << " threads but the kernel has " << kernelThreads;
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
