#include "benchmarks/child_report.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>

namespace bench {

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void ChildReport::line(std::string_view verb, std::string_view text) {
  char buffer[4096];
  int n = std::snprintf(buffer, sizeof buffer, "%.*s%s%.*s\n", static_cast<int>(verb.size()), verb.data(),
                        text.empty() ? "" : " ", static_cast<int>(text.size()), text.data());
  if (n < 0) return;
  if (static_cast<std::size_t>(n) >= sizeof buffer) {  // truncate, keeping the newline
    n = static_cast<int>(sizeof buffer);
    buffer[n - 1] = '\n';
  }
  for (const char* p = buffer; n > 0;) {
    const ssize_t written = ::write(fd_, p, static_cast<std::size_t>(n));
    if (written <= 0) return;  // the parent is gone; nothing useful left to do
    p += written;
    n -= static_cast<int>(written);
  }
}

void ChildReport::counter(std::string_view name, double value) {
  char text[256];
  std::snprintf(text, sizeof text, "%.*s %.17g", static_cast<int>(name.size()), name.data(), value);
  line("counter", text);
}

void ChildReport::ready(std::int64_t ns) { line("ready", std::to_string(ns)); }
void ChildReport::label(std::string_view text) { line("label", text); }
void ChildReport::time(double seconds) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", seconds);
  line("time", text);
}
void ChildReport::settling() { line("settling", {}); }
void ChildReport::error(std::string_view text) {
  // One line per message: newlines inside would split it.
  char clean[2048];
  std::size_t n = 0;
  for (char c : text) {
    if (n + 1 >= sizeof clean) break;
    clean[n++] = (c == '\n' || c == '\r') ? ' ' : c;
  }
  line("error", std::string_view(clean, n));
}
void ChildReport::done() { line("done", {}); }

}  // namespace bench
