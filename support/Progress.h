//===- Progress.h - "N of M" lines for long-running work --------*- C++ -*-===//
//
// Long work (an emulated launch, an autotuning run) says how far it is on
// stderr: `tilus: emulating K: 12 of 96 CTAs`. $TILUS_PROGRESS decides when:
//
//   unset   after 3 s, and only when stderr is a terminal, on one line that
//           is rewritten a few times a second;
//   1       after 3 s wherever stderr goes (same rewritten line);
//   always  one line per step from the start (for logs and tests);
//   0       never.
//
// Standard library and POSIX only (layer support/).
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_SUPPORT_PROGRESS_H
#define TILUS_SUPPORT_PROGRESS_H

#include <chrono>
#include <cstdint>
#include <string>

namespace tilus {

/// When progress is shown.
struct ProgressPolicy {
  /// Shown once the work has run this many milliseconds; -1: never.
  int64_t afterMs = -1;
  /// One line per update instead of one rewritten line.
  bool lines = false;

  /// $TILUS_PROGRESS as above; an unknown value is appended to \p error
  /// ("; " between messages) and gives never.
  static ProgressPolicy fromEnvironment(std::string &error);
};

/// Counts the steps of one piece of work and prints "tilus: WHAT: N of
/// TOTAL UNIT" as the policy says. The line is finished when it goes away.
class Progress {
public:
  Progress(ProgressPolicy policy, std::string what, uint64_t total,
           std::string unit);
  ~Progress();
  Progress(const Progress &) = delete;
  Progress &operator=(const Progress &) = delete;

  /// One more step done.
  void step();

private:
  using Clock = std::chrono::steady_clock;
  ProgressPolicy policy;
  std::string what, unit;
  uint64_t total, done = 0;
  Clock::time_point start, last;
  bool shown = false;
};

} // namespace tilus

#endif // TILUS_SUPPORT_PROGRESS_H
