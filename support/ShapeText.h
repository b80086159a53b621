//===- ShapeText.h - A shape as diagnostics print it ------------*- C++ -*-===//
//
// One spelling of a shape in every message: the frontend's, the dialect
// verifiers' and the interpreter's.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_SUPPORT_SHAPETEXT_H
#define TILUS_SUPPORT_SHAPETEXT_H

#include <string>

namespace tilus {

/// `[a, b, c]`: a shape, or any list of integers, as every diagnostic of
/// the frontend, the dialect and the interpreter prints it.
template <typename Range> std::string shapeText(const Range &values) {
  std::string text = "[";
  bool first = true;
  for (const auto &value : values) {
    if (!first)
      text += ", ";
    first = false;
    text += std::to_string(value);
  }
  return text + "]";
}

} // namespace tilus

#endif // TILUS_SUPPORT_SHAPETEXT_H
