//===- Tilus.cpp - The tilus dialect --------------------------------------===//

#include "ir/dialect/Tilus.h"
#include "support/ShapeText.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir;
using namespace tilus;

#include "ir/dialect/TilusDialect.cpp.inc"
#include "ir/dialect/TilusEnums.cpp.inc"

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

/// The value of an integer attribute that fits an int64_t, if it is one.
static std::optional<int64_t> getSmallInteger(Attribute attr) {
  auto integer = dyn_cast<IntegerAttr>(attr);
  if (!integer || !integer.getType().isInteger() ||
      integer.getValue().getSignificantBits() > 64)
    return std::nullopt;
  return integer.getType().isUnsignedInteger()
             ? static_cast<int64_t>(integer.getValue().getZExtValue())
             : integer.getValue().getSExtValue();
}

LogicalResult TilusDialect::verifyOperationAttribute(Operation *op,
                                                     NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == kernel_attr::kUnroll) {
    std::optional<int64_t> factor = getSmallInteger(attr.getValue());
    if (!isa<scf::ForOp>(op) || !factor || *factor < 1)
      return op->emitError("'")
             << name << "' expects a positive integer on an scf.for";
    return success();
  }
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
    std::optional<int64_t> warps = getSmallInteger(attr.getValue());
    if (!warps || *warps < 1 || *warps > 32)
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
  // Elements per access that tilus-vectorize chose for a global transfer;
  // on a copy, the run length known to be aligned and wholly in or out of
  // bounds.
  if (name == "tilus.vector") {
    TileType tile;
    if (auto load = dyn_cast<LoadGlobalOp>(op))
      tile = load.getResult().getType();
    else if (auto store = dyn_cast<StoreGlobalOp>(op))
      tile = store.getValue().getType();
    else if (!isa<CopyAsyncOp>(op))
      return op->emitError("'")
             << name
             << "' expects to be on a tilus.load_global, tilus.store_global "
                "or tilus.copy_async";
    std::optional<int64_t> width = getSmallInteger(attr.getValue());
    if (!width || *width < 1 || (*width & (*width - 1)))
      return op->emitError("'")
             << name << "' expects a positive power of two, got "
             << attr.getValue();
    if (tile && tile.getLayout() && tile.getRank() > 0) {
      int64_t runs = tile.getLayout().getLayout().innerContiguity();
      if (runs % *width != 0)
        return op->emitError("'")
               << name << "' of " << *width
               << " does not divide the layout's innermost contiguity " << runs;
    }
    return success();
  }
  // Layout inference's choice of wgmma.mma_async for a dot on sm_90a
  // (target/WgmmaInstructions.h), and the frontend's mark of an async dot
  // whose register `a` the program reuses while it may be in flight.
  if (name == "tilus.wgmma" || name == kDotWaitsForA) {
    if (!isa<UnitAttr>(attr.getValue()) || !isa<DotOp>(op))
      return op->emitError("'") << name << "' expects to be a unit attribute "
                                << "on a " << DotOp::getOperationName();
    return success();
  }
  // Byte offsets and sizes that shared-memory planning records.
  if (name == "tilus.shared_offset" || name == "tilus.scratch_offset" ||
      name == "tilus.shared_bytes") {
    auto bytes = dyn_cast<IntegerAttr>(attr.getValue());
    if (!bytes || !bytes.getType().isInteger(64) || bytes.getInt() < 0)
      return op->emitError("'")
             << name << "' expects a non-negative i64 byte count";
    if (name == "tilus.shared_offset" &&
        !isa<AllocSharedOp, AllocBarrierOp>(op))
      return op->emitError("'") << name << "' expects to be on a "
                                << AllocSharedOp::getOperationName() << " or "
                                << AllocBarrierOp::getOperationName();
    if (name == "tilus.shared_bytes" && !isa<FunctionOpInterface>(op))
      return op->emitError("'") << name << "' expects to be on a function";
    return success();
  }
  // The kernel argument that code generation added for a TMA copy's tensor
  // map, and the kernel's list of them (codegen/TmaLowering.cpp).
  if (name == "tilus.tensor_map") {
    if (!isa<IntegerAttr>(attr.getValue()) || !isa<CopyTmaOp>(op))
      return op->emitError("'") << name << "' expects an integer on a "
                                << CopyTmaOp::getOperationName();
    return success();
  }
  if (name == "tilus.tensor_maps") {
    if (!isa<ArrayAttr>(attr.getValue()) || !isa<FunctionOpInterface>(op))
      return op->emitError("'")
             << name << "' expects an array on a function";
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
  std::optional<int64_t> value = getSmallInteger(attr.getValue());
  if (!value || *value < 1)
    return op->emitError("'")
           << kernel_attr::kDivisibility << "' of argument " << argIndex
           << " expects a positive integer";
  return success();
}

LogicalResult tilus::verifyInFunction(Operation *op) {
  if (op->getParentOfType<FunctionOpInterface>())
    return success();
  return op->emitOpError("must be inside a function");
}

double tilus::evalFloatFunction(UnaryKind kind, double x) {
  switch (kind) {
  case UnaryKind::exp:
    return std::exp(x);
  case UnaryKind::exp2:
    return std::exp2(x);
  case UnaryKind::log:
    return std::log(x);
  case UnaryKind::log2:
    return std::log2(x);
  case UnaryKind::sqrt:
    return std::sqrt(x);
  case UnaryKind::rsqrt:
    return 1.0 / std::sqrt(x);
  case UnaryKind::tanh:
    return std::tanh(x);
  case UnaryKind::sin:
    return std::sin(x);
  case UnaryKind::cos:
    return std::cos(x);
  case UnaryKind::round:
    return std::nearbyint(x);
  case UnaryKind::floor:
    return std::floor(x);
  case UnaryKind::ceil:
    return std::ceil(x);
  case UnaryKind::neg:
    return -x;
  case UnaryKind::abs:
    return std::fabs(x);
  case UnaryKind::bitnot:
    break;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

std::optional<std::pair<int64_t, int64_t>>
tilus::getThreadGroup(Operation *op) {
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp()) {
    if (auto group = dyn_cast<ThreadGroupOp>(parent))
      return std::make_pair(int64_t(group.getFirstWarp()),
                            int64_t(group.getNumWarps()));
    // After the lowering turns a group into a branch on the warp index.
    if (auto bounds =
            parent->getAttrOfType<DenseI64ArrayAttr>(kThreadGroupAttr);
        bounds && bounds.size() == 3)
      return std::make_pair(bounds[0], bounds[1]);
  }
  return std::nullopt;
}

int64_t tilus::getKernelNumThreads(Operation *op) {
  if (auto group = getThreadGroup(op))
    return group->second * kWarpSize;
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
  if (keyword == SharedTensorType::getMnemonic())
    return SharedTensorType::parse(parser);
  if (keyword == BarrierType::getMnemonic())
    return BarrierType::get(getContext());
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
  } else if (auto shared = dyn_cast<SharedTensorType>(type)) {
    printer << SharedTensorType::getMnemonic();
    shared.print(printer);
  } else if (isa<BarrierType>(type)) {
    printer << BarrierType::getMnemonic();
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
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, allowDynamic, /*withTrailingX=*/true) ||
      parser.parseType(elementType))
    return failure();
  if (llvm::any_of(shape, [](int64_t extent) { return extent == 0; }))
    return parser.emitError(loc, "extents must be positive");
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

/// `<shape x element [, layout]>`: the form of tiles and shared tensors,
/// whose layout attribute is optional until layout inference.
template <typename TensorType, typename LayoutType>
static Type parseTensorWithLayout(AsmParser &parser) {
  SmallVector<int64_t> shape;
  Type elementType;
  LayoutType layout;
  if (parseShapeAndElement(parser, shape, elementType,
                           /*allowDynamic=*/false))
    return {};
  if (succeeded(parser.parseOptionalComma()) && parser.parseAttribute(layout))
    return {};
  if (parser.parseGreater())
    return {};
  return parser.getChecked<TensorType>(parser.getContext(), shape,
                                       elementType, layout);
}

template <typename TensorType>
static void printTensorWithLayout(AsmPrinter &printer, TensorType type) {
  printShapeAndElement(printer, type.getShape(), type.getElementType());
  if (type.getLayout())
    printer << ", " << type.getLayout();
  printer << ">";
}

static int64_t productOf(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t extent : shape)
    count *= extent;
  return count;
}

Type TileType::parse(AsmParser &parser) {
  return parseTensorWithLayout<TileType, LayoutAttr>(parser);
}

void TileType::print(AsmPrinter &printer) const {
  printTensorWithLayout(printer, *this);
}

int64_t TileType::getNumElements() const { return productOf(getShape()); }

LogicalResult TileType::verify(function_ref<InFlightDiagnostic()> emitError,
                               ArrayRef<int64_t> shape, Type elementType,
                               LayoutAttr layout) {
  if (shape.empty())
    return emitError() << "tile expects rank >= 1";
  if (!isTileElementType(elementType))
    return emitError() << "tile expects a tilus data type, got "
                       << elementType;
  if (!layout)
    return success();
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

Type SharedTensorType::parse(AsmParser &parser) {
  return parseTensorWithLayout<SharedTensorType, SharedLayoutAttr>(parser);
}

void SharedTensorType::print(AsmPrinter &printer) const {
  printTensorWithLayout(printer, *this);
}

int64_t SharedTensorType::getNumElements() const {
  return productOf(getShape());
}

LogicalResult
SharedTensorType::verify(function_ref<InFlightDiagnostic()> emitError,
                         ArrayRef<int64_t> shape, Type elementType,
                         SharedLayoutAttr layout) {
  if (shape.empty())
    return emitError() << "shared tensor expects rank >= 1";
  if (!isTileElementType(elementType))
    return emitError() << "shared tensor expects a tilus data type, got "
                       << elementType;
  if (!layout)
    return success();
  SharedLayout placement = layout.getLayout();
  if (ArrayRef<int64_t>(placement.shape()) != shape) {
    InFlightDiagnostic diag = emitError() << "shared layout shape [";
    llvm::interleaveComma(placement.shape(), diag);
    diag << "] does not match tensor shape [";
    llvm::interleaveComma(shape, diag);
    return diag << "]";
  }
  if (std::optional<SharedLayout::Collision> collision =
          placement.findCollision()) {
    InFlightDiagnostic diag = emitError()
                              << "shared layout " << placement.str()
                              << " places indices [";
    llvm::interleaveComma(collision->second, diag);
    diag << "] and [";
    llvm::interleaveComma(collision->first, diag);
    return diag << "] at the same offset " << collision->offset
                << "; every element needs its own address";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Operations
//===----------------------------------------------------------------------===//

/// A tile must be spread over exactly the threads of its kernel.
static LogicalResult verifyTileThreads(Operation *op, TileType tile) {
  int64_t kernelThreads = getKernelNumThreads(op);
  if (kernelThreads == 0 || !tile.getLayout())
    return success();
  int64_t threads = tile.getLayout().getLayout().numThreads();
  if (threads != kernelThreads)
    return op->emitOpError("layout spans ")
           << threads << " threads but "
           << (getThreadGroup(op) ? "its thread group" : "the kernel")
           << " has " << kernelThreads;
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

bool FullOp::canFill(Type value, Type element) {
  if (value == element)
    return true;
  std::optional<DType> dtype = getDType(element);
  return dtype && dtype->isInteger() && !dtype->isSigned() &&
         value.isSignlessInteger(dtype->bitWidth());
}

LogicalResult FullOp::verify() {
  auto tile = getResult().getType();
  if (!canFill(getValue().getType(), tile.getElementType()))
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

LogicalResult AtomicAddOp::verify() {
  auto dst = cast<GlobalTensorType>(getDst().getType());
  if (dst.getElementType() != IntegerType::get(getContext(), 32))
    return emitOpError("adds to i32 tensors, got a tensor of ")
           << dst.getElementType();
  if (getIndices().size() != size_t(dst.getRank()))
    return emitOpError("expects ")
           << dst.getRank() << " indices for a rank-" << dst.getRank()
           << " tensor, got " << getIndices().size();
  return success();
}

template <typename Op> static LogicalResult verifyArithmetic(Op op) {
  if (getDType(op.getType().getElementType())->isBool())
    return op.emitOpError("expects numbers, got bool");
  return verifyTileThreads(op, op.getResult().getType());
}

template <typename Op> static LogicalResult verifyBitwise(Op op) {
  if (getDType(op.getType().getElementType())->isFloat())
    return op.emitOpError("expects integers or bool, got ")
           << op.getType().getElementType();
  return verifyTileThreads(op, op.getResult().getType());
}

LogicalResult AddOp::verify() { return verifyArithmetic(*this); }
LogicalResult SubOp::verify() { return verifyArithmetic(*this); }
LogicalResult MulOp::verify() { return verifyArithmetic(*this); }
LogicalResult DivOp::verify() { return verifyArithmetic(*this); }
LogicalResult RemOp::verify() { return verifyArithmetic(*this); }
LogicalResult MinOp::verify() { return verifyArithmetic(*this); }
LogicalResult MaxOp::verify() { return verifyArithmetic(*this); }
LogicalResult AndOp::verify() { return verifyBitwise(*this); }
LogicalResult OrOp::verify() { return verifyBitwise(*this); }
LogicalResult XorOp::verify() { return verifyBitwise(*this); }

/// Shifts take integers (not bool); counts are the rhs elements, taken as
/// unsigned numbers of the element width.
template <typename Op> static LogicalResult verifyShift(Op op) {
  std::optional<DType> dtype = getDType(op.getType().getElementType());
  if (!dtype || !dtype->isInteger())
    return op.emitOpError("expects integers, got ")
           << op.getType().getElementType();
  return verifyTileThreads(op, op.getResult().getType());
}

LogicalResult ShlOp::verify() { return verifyShift(*this); }
LogicalResult ShrOp::verify() { return verifyShift(*this); }

//===----------------------------------------------------------------------===//
// VM instructions
//===----------------------------------------------------------------------===//

/// Same shape and layout, any element types: the rule of cast and cmp.
static LogicalResult verifySameShapeAndLayout(Operation *op, TileType a,
                                              TileType b) {
  if (a.getShape() != b.getShape())
    return op->emitOpError("result shape ")
           << shapeText(b.getShape()) << " does not match operand shape "
           << shapeText(a.getShape());
  // Before layout inference a result may still lack the layout its operand
  // has; inference gives it that one.
  if (a.getLayout() && b.getLayout() && a.getLayout() != b.getLayout())
    return op->emitOpError("result layout must equal the operand layout");
  return verifyTileThreads(op, b);
}

LogicalResult ArangeOp::verify() {
  TileType tile = getType();
  if (getDim() < 0 || getDim() >= tile.getRank())
    return emitOpError("dimension ")
           << getDim() << " is out of range for a rank-" << tile.getRank()
           << " tile";
  if (!tile.getElementType().isSignlessInteger(32))
    return emitOpError("expects an i32 tile, got ") << tile.getElementType();
  return verifyTileThreads(*this, tile);
}

LogicalResult BroadcastOp::verify() {
  TileType source = getSource().getType(), result = getType();
  if (source.getElementType() != result.getElementType() ||
      source.getRank() != result.getRank())
    return emitOpError("expects the same element type and rank");
  for (auto [from, to] : llvm::zip(source.getShape(), result.getShape()))
    if (from != to && from != 1)
      return emitOpError("cannot broadcast shape ")
             << shapeText(source.getShape()) << " to "
             << shapeText(result.getShape());
  return verifyTileThreads(*this, result);
}

LogicalResult ConvertLayoutOp::verify() {
  TileType source = getSource().getType(), result = getType();
  if (source.getShape() != result.getShape() ||
      source.getElementType() != result.getElementType())
    return emitOpError("changes only the layout; shape and element type "
                       "must match");
  return verifyTileThreads(*this, result);
}

LogicalResult CastOp::verify() {
  return verifySameShapeAndLayout(*this, getSource().getType(), getType());
}

LogicalResult ViewOp::verify() {
  TileType source = getSource().getType(), result = getType();
  if (!source.getLayout() || !result.getLayout()) {
    // 128-bit products: element counts near 2^63 must not wrap.
    auto bits = [](TileType tile) {
      return static_cast<__int128>(tile.getNumElements()) *
             getDType(tile.getElementType())->bitWidth();
    };
    if (bits(source) != bits(result))
      return emitOpError("source and result hold different numbers of bits");
    return success();
  }
  RegisterLayout from = source.getLayout().getLayout();
  RegisterLayout to = result.getLayout().getLayout();
  if (from.numThreads() != to.numThreads())
    return emitOpError("source and result layouts span different thread "
                       "counts (")
           << from.numThreads() << " and " << to.numThreads() << ")";
  int64_t fromBits =
      from.numLocals() * getDType(source.getElementType())->bitWidth();
  int64_t toBits = to.numLocals() * getDType(result.getElementType())->bitWidth();
  if (fromBits != toBits)
    return emitOpError("each thread holds ")
           << fromBits << " bits of the source but " << toBits
           << " bits of the result";
  return verifyTileThreads(*this, result);
}

LogicalResult SliceOp::verify() {
  TileType source = getSource().getType(), result = getType();
  ArrayRef<int64_t> offsets = getOffsets();
  if (offsets.size() != source.getRank() || result.getRank() != source.getRank())
    return emitOpError("expects ")
           << source.getRank() << " offsets and a result of the same rank";
  if (source.getElementType() != result.getElementType())
    return emitOpError("expects the same element type");
  for (size_t d = 0; d < offsets.size(); ++d)
    if (offsets[d] < 0 ||
        offsets[d] > source.getShape()[d] - result.getShape()[d])
      return emitOpError("slice at ")
             << shapeText(offsets) << " of shape "
             << shapeText(result.getShape()) << " is outside the tile of shape "
             << shapeText(source.getShape());
  return verifyTileThreads(*this, result);
}

LogicalResult TransposeOp::verify() {
  TileType source = getSource().getType(), result = getType();
  ArrayRef<int64_t> perm = getPermutation();
  if (perm.size() != source.getRank() || result.getRank() != source.getRank())
    return emitOpError("expects a permutation of ") << source.getRank()
                                                    << " dimensions";
  llvm::SmallVector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(perm.size()) || seen[p])
      return emitOpError("permutation ") << shapeText(perm)
                                         << " is not a permutation";
    seen[p] = true;
  }
  for (size_t d = 0; d < perm.size(); ++d)
    if (result.getShape()[d] != source.getShape()[perm[d]])
      return emitOpError("result shape ")
             << shapeText(result.getShape())
             << " is not the permuted source shape";
  if (source.getElementType() != result.getElementType())
    return emitOpError("expects the same element type");
  return verifyTileThreads(*this, result);
}

LogicalResult ReshapeOp::verify() {
  TileType source = getSource().getType(), result = getType();
  if (source.getElementType() != result.getElementType())
    return emitOpError("expects the same element type");
  if (source.getNumElements() != result.getNumElements())
    return emitOpError("cannot reshape ")
           << shapeText(source.getShape()) << " (" << source.getNumElements()
           << " elements) to " << shapeText(result.getShape()) << " ("
           << result.getNumElements() << " elements)";
  return verifyTileThreads(*this, result);
}

LogicalResult ItemOp::verify() {
  TileType source = getSource().getType();
  if (source.getNumElements() != 1)
    return emitOpError("needs a tile of one element, got shape ")
           << shapeText(source.getShape());
  if (getType() != source.getElementType())
    return emitOpError("result type ")
           << getType() << " is not the element type "
           << source.getElementType();
  return verifyTileThreads(*this, source);
}

LogicalResult UnaryOp::verify() {
  Type element = getTileOrScalarElementType(getType());
  std::optional<DType> dtype = getDType(element);
  switch (getKind()) {
  case UnaryKind::neg:
  case UnaryKind::abs:
    if (dtype->isBool())
      return emitOpError("'") << stringifyUnaryKind(getKind())
                              << "' expects numbers, got bool";
    break;
  case UnaryKind::bitnot:
    if (dtype->isFloat())
      return emitOpError("'not' expects integers or bool, got ") << element;
    break;
  default:
    if (!dtype->isFloat())
      return emitOpError("'") << stringifyUnaryKind(getKind())
                              << "' expects floats, got " << element;
  }
  if (auto tile = dyn_cast<TileType>(getType()))
    return verifyTileThreads(*this, tile);
  return success();
}

LogicalResult CmpOp::verify() {
  TileType lhs = getLhs().getType(), result = getType();
  if (!result.getElementType().isSignlessInteger(1))
    return emitOpError("result must be a tile of i1, got ")
           << result.getElementType();
  return verifySameShapeAndLayout(*this, lhs, result);
}

LogicalResult WhereOp::verify() {
  TileType cond = getCondition().getType(), result = getType();
  if (!cond.getElementType().isSignlessInteger(1))
    return emitOpError("condition must be a tile of i1, got ")
           << cond.getElementType();
  if (cond.getShape() != result.getShape() ||
      cond.getLayout() != result.getLayout())
    return emitOpError("condition must have the result's shape and layout");
  return verifyTileThreads(*this, result);
}

LogicalResult ReduceOp::verify() {
  TileType source = getSource().getType(), result = getType();
  int64_t dim = getDim();
  if (dim < 0 || dim >= source.getRank())
    return emitOpError("dimension ") << dim << " is out of range for a rank-"
                                     << source.getRank() << " tile";
  SmallVector<int64_t> expected(source.getShape());
  if (getKeepdim() || source.getRank() == 1)
    expected[dim] = 1;
  else
    expected.erase(expected.begin() + dim);
  if (ArrayRef<int64_t>(expected) != result.getShape())
    return emitOpError("result shape ")
           << shapeText(result.getShape()) << " should be "
           << shapeText(expected);
  if (isArgReduce(getKind())) {
    if (!result.getElementType().isSignlessInteger(32))
      return emitOpError("'")
             << stringifyReduceKind(getKind())
             << "' gives i32 indices, got a result of "
             << result.getElementType();
  } else if (source.getElementType() != result.getElementType()) {
    return emitOpError("expects the same element type");
  }
  if (getDType(source.getElementType())->isBool())
    return emitOpError("cannot reduce bool tiles");
  return verifyTileThreads(*this, result);
}

LogicalResult DotOp::verify() {
  TileType a = getA().getType(), b = getB().getType(), c = getC().getType();
  if (a.getRank() != 2 || b.getRank() != 2 || c.getRank() != 2)
    return emitOpError("expects rank-2 tiles");
  if (a.getShape()[1] != b.getShape()[0] || a.getShape()[0] != c.getShape()[0] ||
      b.getShape()[1] != c.getShape()[1])
    return emitOpError("shapes ")
           << shapeText(a.getShape()) << " x " << shapeText(b.getShape())
           << " + " << shapeText(c.getShape())
           << " do not form (M x K) @ (K x N) + (M x N)";
  if (a.getElementType() != b.getElementType())
    return emitOpError("a and b must have one element type");
  return verifyTileThreads(*this, c);
}

LogicalResult ThreadGroupOp::verify() {
  auto func = dyn_cast_or_null<func::FuncOp>((*this)->getParentOp());
  if (!func)
    return emitOpError("must be a statement of a kernel's body, not inside "
                       "a loop, a branch or another group");
  int64_t warps = 0;
  if (auto attr = func->getAttrOfType<IntegerAttr>(kernel_attr::kNumWarps))
    warps = attr.getInt();
  int64_t first = getFirstWarp(), count = getNumWarps();
  if (warps && first + count > warps)
    return emitOpError("warps ")
           << first << " .. " << first + count - 1
           << " lie outside the block's " << warps << " warps";
  if (getBarrierId() > 15)
    return emitOpError("a kernel has at most 15 thread groups (named "
                       "barriers 1 to 15)");
  WalkResult walk = getBody().walk([&](DotOp dot) {
    if (dot.getAsync() && (count % 4 != 0 || first % 4 != 0)) {
      dot.emitOpError("an async dot in the thread group of warps ")
          << first << " .. " << first + count - 1
          << "; wgmma needs whole warpgroups (4 warps from a multiple of 4)";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

unsigned ThreadGroupOp::getBarrierId() {
  unsigned id = 1;
  for (Operation *op = (*this)->getPrevNode(); op; op = op->getPrevNode())
    if (isa<ThreadGroupOp>(op))
      ++id;
  return id;
}

LogicalResult WaitDotOp::verify() {
  if (getAccumulators().getTypes() != getResults().getTypes())
    return emitOpError("expects one result of its operand's type per operand");
  return success();
}

LogicalResult AllocSharedOp::verify() { return success(); }

/// Offsets count and bounds of shared-tensor transfers.
static LogicalResult verifySharedTransfer(Operation *op,
                                          SharedTensorType shared,
                                          TileType tile, size_t numOffsets) {
  if (numOffsets != shared.getRank() || tile.getRank() != shared.getRank())
    return op->emitOpError("expects ")
           << shared.getRank() << " offsets and a tile of rank "
           << shared.getRank();
  if (tile.getElementType() != shared.getElementType())
    return op->emitOpError("tile element type ")
           << tile.getElementType() << " does not match shared element type "
           << shared.getElementType();
  for (auto [inner, outer] : llvm::zip(tile.getShape(), shared.getShape()))
    if (inner > outer)
      return op->emitOpError("tile shape ")
             << shapeText(tile.getShape()) << " exceeds shared shape "
             << shapeText(shared.getShape());
  return verifyTileThreads(op, tile);
}

LogicalResult LoadSharedOp::verify() {
  return verifySharedTransfer(*this, getSrc().getType(), getType(),
                              getOffsets().size());
}

LogicalResult StoreSharedOp::verify() {
  return verifySharedTransfer(*this, getDst().getType(), getValue().getType(),
                              getOffsets().size());
}

/// The rank and element-type rules every global-to-shared box copy shares
/// (copy_async, copy_tma).
template <typename CopyOp> static LogicalResult verifyBoxCopy(CopyOp op) {
  GlobalTensorType src = op.getSrc().getType();
  SharedTensorType dst = op.getDst().getType();
  if (op.getOffsets().size() != src.getRank() || dst.getRank() != src.getRank())
    return op.emitOpError("expects ")
           << src.getRank() << " offsets and a shared tensor of rank "
           << src.getRank();
  if (src.getElementType() != dst.getElementType())
    return op.emitOpError("element types of the global (")
           << src.getElementType() << ") and shared (" << dst.getElementType()
           << ") tensors differ";
  return success();
}

LogicalResult CopyAsyncOp::verify() {
  return verifyBoxCopy(*this);
}

std::optional<int64_t> tilus::getTmaSwizzleBytes(SharedTensorType shared,
                                                 std::string &why) {
  std::optional<DType> dtype = getDType(shared.getElementType());
  int64_t bits = dtype ? dtype->bitWidth() : 0;
  if (bits != 8 && bits != 16 && bits != 32 && bits != 64) {
    why = "TMA copies elements of 8, 16, 32 or 64 bits";
    return std::nullopt;
  }
  int64_t elementBytes = bits / 8;
  ArrayRef<int64_t> shape = shared.getShape();
  if (shape.empty() || shape.size() > 5) {
    why = "TMA copies boxes of rank 1 to 5";
    return std::nullopt;
  }
  for (int64_t extent : shape)
    if (extent > 256) {
      why = "a TMA box has at most 256 elements along each dimension";
      return std::nullopt;
    }
  int64_t innerBytes = shape.back() * elementBytes;
  if (innerBytes % 16 != 0) {
    why = "a TMA box's rows must be multiples of 16 bytes";
    return std::nullopt;
  }
  SharedLayout layout = getSharedLayout(shared);
  SharedLayout dense = SharedLayout::rowMajor(
      std::vector<int64_t>(shape.begin(), shape.end()));
  int64_t base = llvm::Log2_64(16 / elementBytes);
  std::string needed =
      "TMA writes a row-major box, unswizzled or with swizzle(S, " +
      std::to_string(base) + ", 3) for S = 1, 2, 3 (its 32, 64 and 128-byte "
      "swizzles)";
  if (layout.modes() != dense.modes() || layout.offset() != 0) {
    why = needed;
    return std::nullopt;
  }
  const Swizzle &swizzle = layout.swizzle();
  if (swizzle.isIdentity())
    return 0;
  if (swizzle.bits < 1 || swizzle.bits > 3 || swizzle.base != base ||
      swizzle.shift != 3) {
    why = needed;
    return std::nullopt;
  }
  int64_t span = int64_t(16) << swizzle.bits;
  if (innerBytes > span) {
    why = "a TMA box's rows (" + std::to_string(innerBytes) +
          " bytes) must fit its " + std::to_string(span) + "-byte swizzle";
    return std::nullopt;
  }
  return span;
}

/// The known divisibility of a global tensor's extent: a constant, or a
/// kernel parameter's `%` fact.
static int64_t extentDivisibility(GlobalViewOp view, unsigned dim) {
  GlobalTensorType type = view.getType();
  if (!ShapedType::isDynamic(type.getShape()[dim]))
    return type.getShape()[dim];
  unsigned dynamicIndex = 0;
  for (unsigned d = 0; d < dim; ++d)
    dynamicIndex += ShapedType::isDynamic(type.getShape()[d]);
  Value extent = view.getDynamicExtents()[dynamicIndex];
  auto arg = dyn_cast<BlockArgument>(extent);
  if (!arg)
    return 1;
  auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
  if (!func)
    return 1;
  if (auto fact = func.getArgAttrOfType<IntegerAttr>(
          arg.getArgNumber(), kernel_attr::kDivisibility))
    return fact.getInt();
  return 1;
}

std::optional<std::string> tilus::checkTmaGlobal(Value src) {
  auto view = src.getDefiningOp<GlobalViewOp>();
  if (!view || !isa<BlockArgument>(view.getPtr()))
    return std::string("needs a global tensor that is a kernel parameter (its "
                       "tensor map is built at launch)");
  GlobalTensorType type = view.getType();
  int64_t elementBytes = getDType(type.getElementType())->bitWidth() / 8;
  if (type.getRank() < 2 || elementBytes == 0)
    return std::nullopt;
  int64_t divisibility = extentDivisibility(view, type.getRank() - 1);
  if (divisibility * elementBytes % 16 == 0)
    return std::nullopt;
  std::string element;
  llvm::raw_string_ostream os(element);
  os << type.getElementType();
  int64_t need = 16 / std::gcd<int64_t>(16, elementBytes);
  return "needs the rows of the global tensor to start 16-byte aligned (a "
         "TMA rule): its innermost extent must be a multiple of " +
         std::to_string(need) + " elements of " + element +
         " (a constant, or a parameter with a fact like 'k: i32 %" +
         std::to_string(need) + "')";
}

LogicalResult CopyTmaOp::verify() {
  if (failed(verifyBoxCopy(*this)))
    return failure();
  SharedTensorType dst = getDst().getType();
  std::string why;
  if (!getTmaSwizzleBytes(dst, why))
    return emitOpError("cannot write shared tensor ") << dst << ": " << why;
  if (std::optional<std::string> error = checkTmaGlobal(getSrc()))
    return emitOpError(*error);
  return success();
}

LogicalResult PrintOp::verify() {
  Type type = getValue().getType();
  if (auto tile = dyn_cast<TileType>(type))
    return verifyTileThreads(*this, tile);
  if (!getDType(type))
    return emitOpError("prints tiles and scalars, got ") << type;
  return success();
}
