//===- LayoutText.h - Compile-time arguments in layout annotations -*- C++ -*-===//
//
// A layout annotation in the tile language may write its integer arguments
// as expressions over compile-time parameters:
//
//   w: local(BK / 16, 1).spatial(1, 4).local(1, BN / 32) = ...;
//
// The layout library reads integers only, so the frontend evaluates each such
// argument first and keeps, for every character of the result, the offset of
// the source character it came from, so that the library's errors still point
// into the annotation as written.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_FRONTEND_LAYOUTTEXT_H
#define TILUS_FRONTEND_LAYOUTTEXT_H

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tilus {

struct ExpandedLayoutText {
  std::string text;
  /// origin[i] is the offset in the annotation of text[i]; one more entry
  /// maps the end of the text.
  std::vector<size_t> origin;
};

struct LayoutTextError {
  size_t offset = 0;
  std::string message;
};

/// The value of a compile-time integer parameter (or, asked as "bits(T)",
/// the bit width of a data type), or nullopt for an unknown name.
using LayoutNameLookup = std::function<std::optional<int64_t>(std::string_view)>;

/// Replaces every argument of \p text that is not a plain integer (names,
/// `+ - * / %`, parentheses, `min`/`max`/`cdiv`, `bits(T)`) with its value,
/// evaluated by support/IntExpr.h. Returns false and sets \p error on an
/// unknown name, a division by zero, an overflow or a malformed expression.
bool expandLayoutText(std::string_view text, const LayoutNameLookup &lookup,
                      ExpandedLayoutText &out, LayoutTextError &error);

} // namespace tilus

#endif // TILUS_FRONTEND_LAYOUTTEXT_H
