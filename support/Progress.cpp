//===- Progress.cpp - "N of M" lines for long-running work ----------------===//

#include "support/Progress.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <unistd.h>

using namespace tilus;

namespace {
constexpr int64_t kDefaultAfterMs = 3000;
constexpr auto kRewriteInterval = std::chrono::milliseconds(250);
} // namespace

ProgressPolicy ProgressPolicy::fromEnvironment(std::string &error) {
  const char *value = std::getenv("TILUS_PROGRESS");
  if (!value)
    return {::isatty(2) ? kDefaultAfterMs : -1, false};
  std::string_view mode = value;
  if (mode == "0")
    return {-1, false};
  if (mode == "1")
    return {kDefaultAfterMs, false};
  if (mode == "always")
    return {0, true};
  error += (error.empty() ? "" : "; ") +
           ("TILUS_PROGRESS: unknown value '" + std::string(mode) +
            "' (expected 0, 1 or always)");
  return {-1, false};
}

Progress::Progress(ProgressPolicy policy, std::string what, uint64_t total,
                   std::string unit)
    : policy(policy), what(std::move(what)), unit(std::move(unit)),
      total(total), start(Clock::now()) {}

Progress::~Progress() {
  if (shown && !policy.lines)
    std::fputc('\n', stderr);
}

void Progress::step() {
  ++done;
  if (policy.afterMs < 0)
    return;
  Clock::time_point now = Clock::now();
  if (now - start < std::chrono::milliseconds(policy.afterMs))
    return;
  if (!policy.lines && shown && done < total && now - last < kRewriteInterval)
    return;
  last = now;
  shown = true;
  std::fprintf(stderr, "%stilus: %s: %llu of %llu %s%s",
               policy.lines ? "" : "\r", what.c_str(),
               static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total), unit.c_str(),
               policy.lines ? "\n" : "");
  std::fflush(stderr);
}
