// The one monotonic clock of the suite, in nanoseconds since an arbitrary point (CLOCK_MONOTONIC:
// unaffected by changes of the wall clock; clock_gettime goes through the vDSO, no system call).
// Parent and children read the same clock, so the parent can subtract a child's reading from its own.
#pragma once

#include <time.h>

#include <cstdint>

namespace bench {

inline std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace bench
