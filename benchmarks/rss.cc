#include "benchmarks/rss.h"

#include <fcntl.h>
#include <unistd.h>

namespace bench {
namespace {

// Parses one decimal field and advances p past it and the following space.
std::size_t next_field(const char*& p, const char* end) noexcept {
  std::size_t value = 0;
  while (p < end && *p >= '0' && *p <= '9') value = value * 10 + static_cast<std::size_t>(*p++ - '0');
  while (p < end && *p == ' ') ++p;
  return value;
}

}  // namespace

MemoryFootprint read_memory_footprint() noexcept {
  const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buffer[256];
  const ssize_t n = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  if (n <= 0) return {};
  const char* p = buffer;
  const char* end = buffer + n;
  static const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  // statm: size resident shared text lib data dt, all in pages.
  const std::size_t size_pages = next_field(p, end);
  const std::size_t resident_pages = next_field(p, end);
  return {resident_pages * page, size_pages * page};
}

}  // namespace bench
