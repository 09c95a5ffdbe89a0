// Counting instead of timing (`./bench --exact`, benchmarks/driver/exact.h): the child runs under
// valgrind's callgrind with collection off (--collect-atstart=no). Each timed phase switches it on
// for its body alone and then dumps what was counted under the phase's name; the parent reads the
// dumps back. callgrind does not replace malloc: the configuration's allocator serves every call.
//
// Outside valgrind RUNNING_ON_VALGRIND is 0 and a phase costs a few instructions (valgrind.h's
// client requests are a no-op sequence then), the same for every configuration.
#pragma once

#include <valgrind/callgrind.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace bench {

class CountedPhase {
 public:
  explicit CountedPhase(std::string_view name) noexcept {
    if (RUNNING_ON_VALGRIND == 0) return;
    const std::size_t length = std::min(name.size(), sizeof name_ - 1);
    std::memcpy(name_, name.data(), length);
    name_[length] = '\0';
    active_ = true;
    CALLGRIND_ZERO_STATS;
    CALLGRIND_TOGGLE_COLLECT;
  }
  ~CountedPhase() {
    if (!active_) return;
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_DUMP_STATS_AT(name_);
  }
  CountedPhase(const CountedPhase&) = delete;
  CountedPhase& operator=(const CountedPhase&) = delete;

 private:
  char name_[96] = {};  // a fixed buffer: phases run while the heap under test must not be touched
  bool active_ = false;
};

}  // namespace bench
