// The suite's own programs report their phases to ./bench (protocol/program_protocol.h): one line
// "phase NAME" on the descriptor BENCH_REPORT_FD names, then they wait for the answer ("ok NAME"),
// so that ./bench reads their memory exactly there. Run without ./bench, a phase is nothing.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace bench_program {

inline void phase(const char* name) {
  const char* fd_text = std::getenv("BENCH_REPORT_FD");
  if (fd_text == nullptr) return;
  const int fd = std::atoi(fd_text);
  char line[64];
  const int n = std::snprintf(line, sizeof line, "phase %s\n", name);
  if (::write(fd, line, static_cast<std::size_t>(n)) != n) return;
  char answer[64];
  [[maybe_unused]] const ssize_t got = ::read(fd, answer, sizeof answer);
}

}  // namespace bench_program
