//===- Check.cpp - Comparing a device's results with the interpreter ------===//

#include "ir/interpreter/Check.h"

#include "ir/dialect/Tilus.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace tilus;

std::string Tolerance::str() const {
  if (isExact())
    return "exact";
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "|d - r| <= " << llvm::format("%g", absolute) << " + "
     << llvm::format("%g", relative) << " * |r|";
  return text;
}

Tolerance tilus::defaultTolerance(mlir::func::FuncOp kernel, DType dtype) {
  if (!dtype.isFloat())
    return {};
  bool approx = false, tanh = false, sums = false;
  kernel.walk([&](mlir::Operation *op) {
    if (auto unary = llvm::dyn_cast<UnaryOp>(op)) {
      switch (unary.getKind()) {
      case UnaryKind::exp:
      case UnaryKind::exp2:
      case UnaryKind::log:
      case UnaryKind::log2:
      case UnaryKind::rsqrt:
      case UnaryKind::sin:
      case UnaryKind::cos:
        approx = true;
        break;
      case UnaryKind::tanh:
        approx = tanh = true;
        break;
      default:
        break;
      }
    } else if (auto reduce = llvm::dyn_cast<ReduceOp>(op)) {
      std::optional<DType> element =
          getDType(reduce.getType().getElementType());
      sums |=
          reduce.getKind() == ReduceKind::sum && element && element->isFloat();
    } else if (auto dot = llvm::dyn_cast<DotOp>(op)) {
      std::optional<DType> element = getDType(dot.getType().getElementType());
      sums |= element && element->isFloat();
    }
  });
  if (!approx && !sums)
    return {};
  // tanh.approx.f32 is good to 2^-10.987 relative; the other .approx
  // functions and reordered f32 sums of inputs in [-1, 1] stay far inside
  // 2^-16. An output narrower than f32 may round to a neighbouring code.
  double base = std::ldexp(1.0, tanh ? -10 : -16);
  double outputUlp = std::ldexp(1.0, -int(dtype.mantissaBits()));
  double bound = std::max(base, outputUlp);
  return {bound, bound};
}

bool tilus::elementsMatch(DType dtype, uint64_t device, uint64_t reference,
                          Tolerance tolerance) {
  uint64_t mask = dtype.codeMask();
  device &= mask;
  reference &= mask;
  if (dtype.isBool())
    return (device != 0) == (reference != 0);
  if (!dtype.isFloat())
    return device == reference;
  double d = decode(dtype, device), r = decode(dtype, reference);
  if (std::isnan(d) || std::isnan(r))
    return std::isnan(d) && std::isnan(r);
  if (tolerance.isExact() || std::isinf(d) || std::isinf(r))
    return device == reference || (d == r && !tolerance.isExact());
  return std::fabs(d - r) <=
         tolerance.absolute + tolerance.relative * std::fabs(r);
}

std::optional<Mismatch> tilus::compareElements(DType dtype,
                                               const uint8_t *device,
                                               const uint8_t *reference,
                                               uint64_t count,
                                               Tolerance tolerance) {
  std::optional<Mismatch> first;
  unsigned bits = dtype.bitWidth();
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t d = getPacked(device, i, bits), r = getPacked(reference, i, bits);
    if (elementsMatch(dtype, d, r, tolerance))
      continue;
    if (!first)
      first = Mismatch{i, d, r, 0};
    ++first->count;
  }
  return first;
}

std::string tilus::formatElement(DType dtype, uint64_t code) {
  std::string text;
  llvm::raw_string_ostream os(text);
  code &= dtype.codeMask();
  if (dtype.isFloat()) {
    double value = decode(dtype, code);
    if (std::isnan(value))
      os << "nan";
    else if (std::isinf(value))
      os << (value < 0 ? "-inf" : "inf");
    else
      os << llvm::format("%.9g", value);
    os << " (code " << llvm::format_hex(code, (dtype.bitWidth() + 3) / 4 + 2)
       << ")";
  } else if (dtype.kind() == DType::Kind::SignedInt) {
    unsigned shift = 64 - dtype.bitWidth();
    os << (int64_t(code << shift) >> shift);
  } else {
    os << code;
  }
  return text;
}
