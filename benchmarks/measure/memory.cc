#include "benchmarks/measure/memory.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>

namespace bench {
namespace {

// Parses one decimal field and advances p past it and the following space.
std::size_t next_field(const char*& p, const char* end) noexcept {
  std::size_t value = 0;
  while (p < end && *p >= '0' && *p <= '9') value = value * 10 + static_cast<std::size_t>(*p++ - '0');
  while (p < end && *p == ' ') ++p;
  return value;
}

// Reads a small /proc or /sys file into `buffer` (NUL-terminated); returns its length, -1 on failure.
ssize_t read_small_file(const char* path, char* buffer, std::size_t size) noexcept {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  std::size_t used = 0;
  while (used + 1 < size) {
    const ssize_t n = ::read(fd, buffer + used, size - 1 - used);
    if (n <= 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  buffer[used] = '\0';
  return static_cast<ssize_t>(used);
}

std::uint64_t parse_number(const char* p) noexcept {
  std::uint64_t value = 0;
  while (*p == ' ' || *p == '\t') ++p;
  while (*p >= '0' && *p <= '9') value = value * 10 + static_cast<std::uint64_t>(*p++ - '0');
  return value;
}

// The value of "<key> <number>" at the start of a line of `text`, or 0.
std::uint64_t keyed_value(const char* text, const char* key) noexcept {
  const std::size_t key_length = std::strlen(key);
  for (const char* line = text; *line != '\0';) {
    if (std::strncmp(line, key, key_length) == 0 && line[key_length] == ' ') return parse_number(line + key_length);
    const char* next = std::strchr(line, '\n');
    if (next == nullptr) break;
    line = next + 1;
  }
  return 0;
}

}  // namespace

MemoryFootprint read_memory_footprint() noexcept {
  char buffer[256];
  const ssize_t n = read_small_file("/proc/self/statm", buffer, sizeof buffer);
  if (n <= 0) return {};
  const char* p = buffer;
  const char* end = buffer + n;
  static const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  // statm: size resident shared text lib data dt, all in pages.
  const std::size_t size_pages = next_field(p, end);
  const std::size_t resident_pages = next_field(p, end);
  return {resident_pages * page, size_pages * page};
}

SmapsRollup parse_smaps_rollup(const char* text, std::size_t length) noexcept {
  struct Field {
    const char* key;
    std::uint64_t SmapsRollup::*member;
  };
  static constexpr Field kFields[] = {
      {"Rss:", &SmapsRollup::rss},
      {"Pss:", &SmapsRollup::pss},
      {"Private_Dirty:", &SmapsRollup::private_dirty},
      {"Anonymous:", &SmapsRollup::anonymous},
      {"AnonHugePages:", &SmapsRollup::anon_huge_pages},
      {"LazyFree:", &SmapsRollup::lazy_free},
      {"Swap:", &SmapsRollup::swap},
  };
  SmapsRollup out;
  const char* end = text + length;
  for (const char* line = text; line < end;) {
    const char* next = static_cast<const char*>(std::memchr(line, '\n', static_cast<std::size_t>(end - line)));
    const char* line_end = next != nullptr ? next : end;
    for (const Field& field : kFields) {
      const std::size_t key_length = std::strlen(field.key);
      if (static_cast<std::size_t>(line_end - line) > key_length && std::strncmp(line, field.key, key_length) == 0) {
        std::uint64_t kib = 0;
        for (const char* p = line + key_length; p < line_end; ++p) {
          if (*p >= '0' && *p <= '9')
            kib = kib * 10 + static_cast<std::uint64_t>(*p - '0');
          else if (kib != 0)
            break;
        }
        out.*field.member = kib * 1024;  // smaps reports kB = KiB (proc(5))
      }
    }
    line = line_end + 1;
  }
  return out;
}

std::optional<SmapsRollup> read_smaps_rollup(pid_t pid) noexcept {
  char path[64];
  if (pid == 0)
    std::snprintf(path, sizeof path, "/proc/self/smaps_rollup");
  else
    std::snprintf(path, sizeof path, "/proc/%d/smaps_rollup", static_cast<int>(pid));
  char buffer[4096];
  const ssize_t n = read_small_file(path, buffer, sizeof buffer);
  if (n <= 0) return std::nullopt;
  return parse_smaps_rollup(buffer, static_cast<std::size_t>(n));
}

CgroupMemory CgroupMemory::find(const char* proc_self_cgroup, const char* root) {
  CgroupMemory cgroup;
  std::ifstream membership(proc_self_cgroup);
  std::string line, v2_path;
  bool v1_memory = false;
  while (std::getline(membership, line)) {
    if (line.rfind("0::", 0) == 0) v2_path = line.substr(3);
    if (line.find(":memory:") != std::string::npos) v1_memory = true;
  }
  if (v1_memory) {
    cgroup.absence_reason_ = "memory is accounted by a cgroup v1 hierarchy on this machine (no cgroup v2 memory.current)";
    return cgroup;
  }
  if (v2_path.empty()) {
    cgroup.absence_reason_ = "this process is in no cgroup v2";
    return cgroup;
  }
  const std::string directory = std::string(root) + (v2_path == "/" ? "" : v2_path);
  if (!std::ifstream(directory + "/memory.current")) {
    cgroup.absence_reason_ = "the cgroup v2 " + v2_path + " has no memory controller (no memory.current)";
    return cgroup;
  }
  cgroup.directory_ = directory;
  std::snprintf(cgroup.current_path_, sizeof cgroup.current_path_, "%s/memory.current", directory.c_str());
  std::snprintf(cgroup.stat_path_, sizeof cgroup.stat_path_, "%s/memory.stat", directory.c_str());
  return cgroup;
}

std::optional<CgroupMemory::Reading> CgroupMemory::read() const noexcept {
  if (!present()) return std::nullopt;
  char buffer[8192];
  if (read_small_file(current_path_, buffer, sizeof buffer) <= 0) return std::nullopt;
  Reading reading;
  reading.current = parse_number(buffer);
  if (read_small_file(stat_path_, buffer, sizeof buffer) <= 0) return std::nullopt;
  reading.anon = keyed_value(buffer, "anon");
  reading.file = keyed_value(buffer, "file");
  return reading;
}

}  // namespace bench
