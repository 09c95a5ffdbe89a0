// `./bench -- PROGRAM [ARGS...]` and `./bench --scenario=NAME`: a program under one configuration,
// watched from outside. The parent starts it (fork + execve, no shell; PATH looked up as execvp does)
// with the caller's environment minus every allocator variable, plus the configuration's variables
// and LD_PRELOAD of the configuration's malloc library — glibc's own libc.so.6 for the glibc
// configurations, so that a program that links another malloc library (Debian's redis-server links
// libjemalloc) still finds the configuration's malloc first. Standard input is /dev/null, standard
// output and error go to files (or nowhere).
//
// What is measured: the program and every process it starts (its tree: the parent is their child
// subreaper, so a descendant whose parent exits stays in it), or, with `measure`, the processes of
// that name in the tree and their descendants. From the program's execve on, their memory is read at
// the dense timeline's offsets (10 per decade from 1 ms), then every --sample-every: RSS with a page
// that several of them map counted once, each process's high-water mark (VmHWM), and whether the
// configuration's allocator serves each one (process_tree.h: verify_process). When the program
// exits, wait4 gives its CPU time, faults and peak RSS, and every descendant still running is
// stopped (SIGKILL) and counted.
//
// A program may report phases and figures of its own (protocol/program_protocol.h): each phase is
// read at the moment the program reaches it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "allocators/configuration.h"
#include "benchmarks/driver/heap_map_reader.h"
#include "benchmarks/driver/process_tree.h"
#include "benchmarks/protocol/child_protocol.h"
#include "benchmarks/protocol/program_protocol.h"

namespace bench {

// The program's path as execvp would find it (a name with a '/' is taken as is, else the first
// executable file of that name in $PATH). Throws UsageError naming the program if there is none.
std::string resolve_program(const std::string& program);

// What LD_PRELOAD names for `configuration` in a program: its library, or glibc's libc.so.6.
std::string command_preload(const Configuration& configuration);

// The caller's environment without the variables that choose or tune an allocator (LD_PRELOAD,
// GLIBC_TUNABLES, MALLOC_*, MIMALLOC_*, TCMALLOC_*, SCUDO_*, TBB_MALLOC_*) or that the parent sets
// for the program (BENCH_*), then `extra` (NAME=VALUE), then `configuration`'s and its LD_PRELOAD.
// With `interposer`, it comes first in LD_PRELOAD, ahead of the configuration's library.
std::vector<std::string> command_environment(char** caller_environment, const Configuration& configuration,
                                             const std::vector<std::string>& extra = {}, const std::string& interposer = {});

struct CommandOptions {
  std::string program;                        // resolved
  std::vector<std::string> argv;              // argv[0] as the user wrote it
  std::vector<std::string> environment = {};  // NAME=VALUE for the program beyond the caller's
  std::string measure = {};                   // a process name (/proc/<pid>/comm); empty: the whole tree
  std::vector<std::string> phases = {};       // the phases the program must report, in order; empty: any
  std::size_t timed_phases = 0;               // the first this many are timed; after them it settles
  bool heap_map = false;                      // behind the heap map's interposer (--heap-map)
  std::chrono::nanoseconds sample_every{};
  std::string output_directory;  // empty: output discarded
};

// What every program being watched shares: the machine's process table, read at most every 50 ms
// (it is the costliest part of a sample), and which programs run, so that an orphan of one is not
// counted in another.
struct ProgramWatch {
  std::vector<pid_t> roots;  // the running programs, in the order they started
  const std::vector<ProcessEntry>& table(std::int64_t now_ns);
  void forget_table() { table_ns_ = -1; }

 private:
  std::vector<ProcessEntry> table_;
  std::int64_t table_ns_ = -1;
};

struct CommandOutcome {
  bool ok = false;
  std::string error;
  std::string label;
  double wall_seconds = 0;
  std::vector<CounterValue> counters;
  std::vector<TimelineSample> samples;
  std::vector<std::pair<std::string, double>> phases;  // name, seconds after execve
  std::vector<HeapMapMoment> heap_maps;                // --heap-map: each moment's pinning sites
  std::vector<std::string> program_counters;           // the names of the counters it reported itself
};

class CommandRun {
 public:
  // Starts the program and returns once it has called execve (or failed to). `output_stem` names
  // its output files (<dir>/<stem>.stdout and .stderr, created exclusively). Throws
  // std::runtime_error if it cannot be started.
  CommandRun(const CommandOptions& options, const Configuration& configuration, const std::string& output_stem, ProgramWatch& watch);
  ~CommandRun();
  CommandRun(const CommandRun&) = delete;
  CommandRun& operator=(const CommandRun&) = delete;

  pid_t pid() const { return pid_; }
  // A descriptor that polls readable once the program has exited (pidfd).
  int exit_fd() const { return pidfd_; }
  // The parent's end of the program's report socket; -1 once the program closed it.
  int report_fd() const { return report_fd_; }
  // True once the program has reached its last timed phase: from then on it only waits or works
  // lightly, and another program may be measured beside it.
  bool settling() const { return settling_; }
  std::int64_t started_ns() const { return start_ns_; }
  std::int64_t next_sample_ns() const { return next_sample_ns_; }

  // Takes the samples that are due at `now_ns`.
  void sample_if_due(std::int64_t now_ns);
  // Reads what the program reported; answers its phases.
  void on_report_readable(std::int64_t now_ns);
  // Reaps the program (it has exited, or is killed with `forced_error`), stops what is left of its
  // tree, and says what it measured.
  CommandOutcome finish(const std::string& forced_error = {});

 private:
  struct Verification {
    std::string name;
    int inspections = 0;
    ProcessVerdict verdict;
  };
  // Reads the measured processes now; false if none is running.
  bool take_sample(std::int64_t now_ns);
  std::vector<pid_t> measured_pids();
  void handle(const ProgramMessage& message, std::int64_t now_ns);
  void stop_descendants();
  void request_heap_maps(const std::string& moment);
  double measured_cpu_seconds() const;

  const Configuration& configuration_;
  CommandOptions options_;
  ProgramWatch& watch_;
  std::string preload_;
  std::vector<std::string> malloc_libraries_;  // every malloc library of the table (canonical)
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int report_fd_ = -1;
  int exec_errno_ = 0;  // set when execve failed
  std::int64_t start_ns_ = 0;
  std::int64_t next_sample_ns_ = 0;
  int sample_index_ = 0;
  ProcessTree tree_;
  std::vector<pid_t> measured_;  // at the last sample
  std::vector<TimelineSample> samples_;
  TreeMemory last_memory_ = {};
  std::uint64_t high_water_mark_ = 0;  // the largest VmHWM of any measured process
  std::map<pid_t, Verification> verifications_;
  ProgramReportReader reader_;
  std::vector<CounterValue> phase_counters_, program_counters_;
  std::vector<std::pair<std::string, double>> phase_marks_;
  std::size_t next_phase_ = 0;
  std::int64_t last_phase_ns_ = 0;
  double last_phase_cpu_ = 0;
  bool settling_ = false;
  std::string program_error_, protocol_error_;
  std::vector<std::string> stopped_;  // descendants stopped when the program exited: "name (pid)"
  std::string stdout_path_, stderr_path_, scratch_directory_, heap_map_directory_;
};

}  // namespace bench
