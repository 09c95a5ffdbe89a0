// `./bench -- PROGRAM [ARGS...]`: the user's own program under one configuration, watched from
// outside. The parent starts it (fork + execve, no shell; PATH looked up as execvp does) with the
// caller's environment minus every allocator variable, plus the configuration's variables and
// LD_PRELOAD; standard input is /dev/null, standard output and error go to files (or nowhere).
// While it runs, its memory is read from /proc/<pid>/smaps_rollup at the dense timeline's offsets
// (10 per decade from 1 ms), then every --sample-every, and /proc/<pid>/maps shows which malloc
// library is really mapped. When it exits, wait4 gives its CPU time, faults and peak RSS.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "allocators/configuration.h"
#include "benchmarks/protocol/child_protocol.h"

namespace bench {

// The program's path as execvp would find it (a name with a '/' is taken as is, else the first
// executable file of that name in $PATH). Throws UsageError naming the program if there is none.
std::string resolve_program(const std::string& program);

// The caller's environment without the variables that choose or tune an allocator (LD_PRELOAD,
// GLIBC_TUNABLES, MALLOC_*, MIMALLOC_*, TCMALLOC_*, SCUDO_*, TBB_MALLOC_*), then `configuration`'s.
std::vector<std::string> command_environment(char** caller_environment, const Configuration& configuration);

struct CommandOptions {
  std::string program;            // resolved
  std::vector<std::string> argv;  // argv[0] as the user wrote it
  std::chrono::nanoseconds sample_every{};
  std::string output_directory;  // empty: output discarded
};

struct CommandOutcome {
  bool ok = false;
  std::string error;
  std::string label;
  double wall_seconds = 0;
  std::vector<CounterValue> counters;
  std::vector<TimelineSample> samples;
};

class CommandRun {
 public:
  // Starts the program. `output_stem` names its output files (<dir>/<stem>.stdout and .stderr,
  // created exclusively). Throws std::runtime_error if it cannot be started.
  CommandRun(const CommandOptions& options, const Configuration& configuration, const std::string& output_stem);
  ~CommandRun();
  CommandRun(const CommandRun&) = delete;
  CommandRun& operator=(const CommandRun&) = delete;

  pid_t pid() const { return pid_; }
  // A descriptor that polls readable once the program has exited (pidfd).
  int exit_fd() const { return pidfd_; }
  std::int64_t started_ns() const { return start_ns_; }
  std::int64_t next_sample_ns() const { return next_sample_ns_; }

  // Takes the samples that are due at `now_ns`.
  void sample_if_due(std::int64_t now_ns);
  // Reaps the program (it has exited, or is killed with `forced_error`) and says what it measured.
  CommandOutcome finish(const std::string& forced_error = {});

 private:
  void take_sample(std::int64_t now_ns);
  void inspect_maps();

  const Configuration& configuration_;
  CommandOptions options_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int exec_error_fd_ = -1;  // close-on-exec pipe: EOF once execve succeeded, errno if it failed
  std::int64_t start_ns_ = 0;
  std::int64_t next_sample_ns_ = 0;
  int sample_index_ = 0;
  std::vector<TimelineSample> samples_;
  std::uint64_t private_dirty_end_ = 0, lazy_free_end_ = 0;
  std::string own_library_;                    // the configuration's library (canonical); empty for glibc
  std::vector<std::string> malloc_libraries_;  // every other malloc library of the table (canonical)
  bool saw_library_ = false;                   // own_library_ seen in /proc/<pid>/maps
  std::string foreign_malloc_library_;         // one of malloc_libraries_ seen there
  std::string stdout_path_, stderr_path_;
};

}  // namespace bench
