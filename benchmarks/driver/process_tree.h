// Other processes, read from /proc (proc(5)), for `./bench -- PROGRAM`: which processes belong to
// the program's tree, how much memory the tree holds without counting a shared page twice, each
// process's own high-water mark, and whether the configuration's allocator can serve a process.
//
// The parent (not a measured process) calls all of this; it may allocate.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "allocators/configuration.h"

namespace bench {

// One line of the machine's process table: /proc/<pid>/stat's pid, ppid, pgrp, flags and comm.
struct ProcessEntry {
  pid_t pid = 0;
  pid_t parent = 0;
  pid_t group = 0;
  char state = 0;      // R, S, D, Z (a zombie: exited, not yet reaped), ...
  std::string name;    // comm: at most 15 characters of the executable's name (or what prctl set)
  unsigned flags = 0;  // the kernel's task flags (PF_*)
  // The kernel sets PF_EXITING when the task starts to exit and frees its memory before it becomes a
  // zombie (include/linux/sched.h): from then on its memory reads as it is being torn down.
  bool exiting() const { return (flags & 0x4u) != 0 || state == 'Z' || state == 'X'; }
};

// Every process on the machine; a process that exits while the table is read is left out.
std::vector<ProcessEntry> read_process_table();

// Parses the text of /proc/<pid>/stat (comm may hold spaces and parentheses). Exposed for tests.
std::optional<ProcessEntry> parse_process_stat(std::string_view text);

// /proc/<pid>/stat of one process, read now; std::nullopt once it is gone.
std::optional<ProcessEntry> read_process_entry(pid_t pid);

// The processes of `table` below `ancestor` (not `ancestor` itself), parents before their children.
std::vector<ProcessEntry> descendants(const std::vector<ProcessEntry>& table, pid_t ancestor);

// The processes of one row, followed from sample to sample: every process below `root`, the row's
// reaper (driver/row_reaper.h), which is not a member itself. An orphan of the row is handed to the
// reaper by the kernel, so it stays below it: membership is the parent chain alone.
class ProcessTree {
 public:
  explicit ProcessTree(pid_t root) : root_(root) {}

  void update(const std::vector<ProcessEntry>& table);

  // The members alive at the last update, parents before their children.
  const std::vector<ProcessEntry>& alive() const { return alive_; }
  // Every pid that was ever a member.
  const std::unordered_set<pid_t>& ever() const { return members_; }
  pid_t root() const { return root_; }

 private:
  pid_t root_;
  std::unordered_set<pid_t> members_;
  std::vector<ProcessEntry> alive_;
};

// What a set of processes holds, read at one moment.
struct TreeMemory {
  std::uint64_t rss = 0;        // resident bytes, a page mapped by several of the processes counted once
  std::uint64_t rss_sum = 0;    // the processes' Rss added up (what top's RES column adds to)
  std::uint64_t pss_sum = 0;    // their Pss added up: each shared page divided among its sharers
  std::uint64_t anonymous = 0;  // summed: anonymous pages are shared only after fork, copy-on-write
  std::uint64_t private_dirty = 0;
  std::uint64_t lazy_free = 0;
  std::uint64_t swap = 0;
  int processes = 0;  // how many were read
  // How `rss` was counted: "single" (one process: its Rss), "page frames" (the shared mappings'
  // page frame numbers from /proc/<pid>/pagemap, each counted once), or "pss" (page frame numbers
  // unreadable without CAP_SYS_ADMIN: the sum of Pss, which counts a page shared within the set once
  // but one shared with processes outside it less than once).
  const char* method = "single";
};

TreeMemory read_tree_memory(const std::vector<pid_t>& pids);

// /proc/<pid>/status's VmHWM (the kernel's high-water mark of the process's RSS), in bytes.
std::optional<std::uint64_t> read_high_water_mark(pid_t pid);

// utime + stime of /proc/<pid>/stat, in seconds.
std::optional<double> read_cpu_seconds(pid_t pid);

// Whether a configuration's allocator serves a process, decided from outside: the process's
// executable is dynamically linked (PT_INTERP), its environment (/proc/<pid>/environ: what it was
// started with) holds the configuration's LD_PRELOAD and variables, and its maps show the library
// mapped. `conclusive` is false while the dynamic linker may still be mapping libraries (glibc's
// libc.so.6 not mapped yet) or when the files cannot be read.
struct ProcessVerdict {
  bool conclusive = false;
  bool served = false;
  std::string reason;                               // when not served: why
  std::vector<std::string> other_malloc_libraries;  // mapped besides the configuration's (file names)
};

// `preload` is the LD_PRELOAD value the configuration gives the program; `malloc_libraries` every
// malloc library of the table (canonical paths), the configuration's own among them.
// With `interposer` (--heap-map, --record; heaptrack's preload) the process must have it first in
// LD_PRELOAD, and a malloc that resolves to it is followed to what it forwards to
// (<heap_map_directory>/<pid>.forward; with no directory, to the configuration's library after it).
ProcessVerdict verify_process(pid_t pid, const Configuration& configuration, const std::string& preload,
                              const std::vector<std::string>& malloc_libraries, const std::string& interposer = {},
                              const std::string& heap_map_directory = {});

// True when the ELF file at `path` has a PT_INTERP program header (a dynamically linked executable);
// false for a static one; std::nullopt when it is not a readable ELF file.
std::optional<bool> elf_is_dynamic(const std::string& path);

}  // namespace bench
