//===- LayoutResult.h - Value-or-error for layout operations ----*- C++ -*-===//
//
// Layout operations that can fail on valid operands (division, reshape,
// parsing, ...) return a LayoutResult: either the value or a LayoutError with a
// message and, for the parser, the offset of the offending character. The
// library never throws and never aborts on user input.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_IR_LAYOUT_LAYOUTRESULT_H
#define TILUS_IR_LAYOUT_LAYOUTRESULT_H

#include <cassert>
#include <cstddef>
#include <string>
#include <utility>
#include <variant>

namespace tilus {

/// Why a layout operation failed. `offset` is the byte offset into the parsed
/// text for parse errors (so a caller can print a caret) and 0 otherwise.
struct LayoutError {
  size_t offset = 0;
  std::string message;
};

/// Either a value of type T or a LayoutError.
template <typename T> class LayoutResult {
public:
  LayoutResult(T value) : storage(std::move(value)) {}
  LayoutResult(LayoutError error) : storage(std::move(error)) {}

  /// Builds a failed result with `message` at `offset`.
  static LayoutResult failure(std::string message, size_t offset = 0) {
    return LayoutResult(LayoutError{offset, std::move(message)});
  }

  explicit operator bool() const { return storage.index() == 0; }
  bool ok() const { return storage.index() == 0; }

  const T &value() const & {
    assert(ok() && "value() of a failed LayoutResult");
    return std::get<0>(storage);
  }
  T &value() & {
    assert(ok() && "value() of a failed LayoutResult");
    return std::get<0>(storage);
  }
  T &&value() && {
    assert(ok() && "value() of a failed LayoutResult");
    return std::get<0>(std::move(storage));
  }
  const T &operator*() const & { return value(); }
  T &operator*() & { return value(); }
  T &&operator*() && { return std::move(*this).value(); }
  const T *operator->() const { return &value(); }
  T *operator->() { return &value(); }

  const LayoutError &error() const {
    assert(!ok() && "error() of a successful LayoutResult");
    return std::get<1>(storage);
  }

private:
  std::variant<T, LayoutError> storage;
};

} // namespace tilus

#endif // TILUS_IR_LAYOUT_LAYOUTRESULT_H
