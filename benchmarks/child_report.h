// The child's side of the parent-child protocol: one text line per fact, written with write(2) to
// the descriptor the parent passed, so reporting never touches the heap under test.
//
//   ready <monotonic ns>      the child started (spawn overhead = this - the parent's fork time)
//   label <text>              who served malloc and operator new, and their version
//   counter <name> <value>    one Google Benchmark counter
//   time <seconds>            the timed phases' total, the row's manual time
//   settling                  the measured phases are over; only idle RSS sampling follows
//   error <text>              the instance failed; its row becomes an error row
//   done                      the last line of a successful child
#pragma once

#include <cstdint>
#include <string_view>

#include "allocators/configuration.h"

namespace bench {

class ChildReport final : public CounterSink {
 public:
  explicit ChildReport(int fd) : fd_(fd) {}
  void counter(std::string_view name, double value) override;
  void ready(std::int64_t monotonic_ns);
  void label(std::string_view text);
  void time(double seconds);
  void settling();
  void error(std::string_view text);
  void done();

 private:
  void line(std::string_view verb, std::string_view text);
  int fd_;
};

std::int64_t monotonic_ns() noexcept;

}  // namespace bench
