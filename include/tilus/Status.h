//===- Status.h - Errors as values ------------------------------*- C++ -*-===//
//
// The error types of the runtime core and the emulator: standard library
// only, so they serve where no LLVM exists.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_STATUS_H
#define TILUS_STATUS_H

#include <optional>
#include <string>
#include <utility>

namespace tilus {

/// Success, or an error with a message (lowercase, no trailing period) that
/// carries everything needed to act on it.
class [[nodiscard]] Status {
public:
  Status() = default;
  static Status success() { return Status(); }
  static Status error(std::string message) {
    Status s;
    s.failed = true;
    s.msg = std::move(message);
    return s;
  }
  bool ok() const { return !failed; }
  explicit operator bool() const { return ok(); }
  const std::string &message() const { return msg; }

private:
  bool failed = false;
  std::string msg;
};

/// A value or the Status saying why there is none.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : val(std::move(value)) {}
  Expected(Status error) : err(std::move(error)) {}
  bool ok() const { return val.has_value(); }
  explicit operator bool() const { return ok(); }
  T &operator*() { return *val; }
  const T &operator*() const { return *val; }
  T *operator->() { return &*val; }
  const T *operator->() const { return &*val; }
  /// The error; only meaningful when !ok().
  const Status &error() const { return err; }
  /// Moves the error out, for propagation: `if (!x) return x.takeError();`.
  Status takeError() { return std::move(err); }

private:
  std::optional<T> val;
  Status err;
};

} // namespace tilus

#endif // TILUS_STATUS_H
