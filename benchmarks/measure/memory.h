// How this suite reads a process's memory. Three readers, all allocation-free (safe during the
// settle period, when the heap under test must not be touched):
//
//  - resident_bytes() / read_memory_footprint(): /proc/self/statm (proc(5)), the cheapest: what
//    `top` shows as RES (anonymous + file-backed pages, including the shared key table, which is part
//    of every baseline). Used for every RSS counter and for the dense timeline.
//  - read_smaps_rollup(): /proc/<pid>/smaps_rollup, which walks the page tables and says where the
//    resident bytes are: private dirty, anonymous, transparent huge pages, lazily freed (MADV_FREE:
//    still counted in RSS until the kernel needs the memory) and swapped out.
//  - CgroupMemory: memory.current and memory.stat's anon/file of a cgroup v2 with memory
//    accounting, where the process runs in one (not on cgroup v1 machines; says so).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace bench {

struct MemoryFootprint {
  std::size_t resident_bytes = 0;
  std::size_t virtual_bytes = 0;
};

// Returns zeros only if /proc is not mounted (callers treat that as an error).
MemoryFootprint read_memory_footprint() noexcept;

inline std::size_t resident_bytes() noexcept { return read_memory_footprint().resident_bytes; }

// The fields of smaps_rollup this suite reports, in bytes.
struct SmapsRollup {
  std::uint64_t rss = 0;
  std::uint64_t pss = 0;  // each page divided by the number of processes that map it
  std::uint64_t private_dirty = 0;
  std::uint64_t anonymous = 0;
  std::uint64_t anon_huge_pages = 0;
  std::uint64_t lazy_free = 0;
  std::uint64_t swap = 0;
};

// /proc/self/smaps_rollup (pid 0) or /proc/<pid>/smaps_rollup. std::nullopt when it cannot be read
// (the process is gone, or a kernel before 4.14).
std::optional<SmapsRollup> read_smaps_rollup(pid_t pid = 0) noexcept;

// Parses smaps_rollup text ("Rss:  1234 kB" lines); fields it lacks stay 0. Exposed for tests.
SmapsRollup parse_smaps_rollup(const char* text, std::size_t length) noexcept;

// The memory cgroup v2 this process belongs to, when there is one with memory accounting.
class CgroupMemory {
 public:
  struct Reading {
    std::uint64_t current = 0;  // memory.current: every byte charged to the cgroup (incl. page cache)
    std::uint64_t anon = 0;     // memory.stat anon
    std::uint64_t file = 0;     // memory.stat file
  };

  // Finds this process's cgroup v2 (the "0::<path>" line of /proc/self/cgroup) under `root`
  // (the cgroup2 mount, /sys/fs/cgroup). Absent when the machine uses cgroup v1 for memory, or the
  // cgroup has no memory controller: then absence_reason() says which.
  static CgroupMemory find(const char* proc_self_cgroup = "/proc/self/cgroup", const char* root = "/sys/fs/cgroup");

  bool present() const { return !directory_.empty(); }
  const std::string& directory() const { return directory_; }
  const std::string& absence_reason() const { return absence_reason_; }

  // Allocation-free; std::nullopt if the files cannot be read.
  std::optional<Reading> read() const noexcept;

 private:
  std::string directory_;
  std::string absence_reason_;
  char current_path_[512] = {};
  char stat_path_[512] = {};
};

}  // namespace bench
