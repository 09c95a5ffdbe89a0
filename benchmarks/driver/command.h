// `./bench -- PROGRAM [ARGS...]` and `./bench --scenario=NAME`: a program under one configuration,
// watched from outside. The parent starts it (fork + execve, no shell; PATH looked up as execvp does)
// with the caller's environment minus every allocator variable, plus the configuration's variables
// and LD_PRELOAD of the configuration's malloc library — glibc's own libc.so.6 for the glibc
// configurations, so that a program that links another malloc library (Debian's redis-server links
// libjemalloc) still finds the configuration's malloc first. Standard input is /dev/null, standard
// output and error go to files (or nowhere).
//
// The row is sealed (driver/row_reaper.h): the program runs below a reaper process of its own, so
// every process it starts — a daemon that calls setsid() and forks — stays in the row, is stopped
// when the row ends (SIGKILL), counted and named, and can never appear in another row.
//
// What is measured: every process below the reaper, or, with `measure`, the processes of that name
// and their descendants. From the program's execve on, their memory is read at the dense timeline's
// offsets (10 per decade from 1 ms), then every --sample-every: RSS with a page that several of them
// map counted once, each process's high-water mark (VmHWM), and whether the configuration's
// allocator serves each one (process_tree.h: verify_process). A process that has begun to exit
// (PF_EXITING: its memory is being torn down) is left out of a sample. The row ends when the program
// exits — with `measure`, once no measured process is left — and wait4 gives its CPU time, faults
// and peak RSS.
//
// "At the end" (rss_end, pss_end, anonymous_end, private_dirty_end, lazyfree_end) is the last
// sample in which the measured process with the largest peak (with `measure`: the largest of that
// name) was read and not yet exiting — never a wrapper's memory after the program left, never a
// sample of an exiting process — and end_sample_age_seconds says how long before that process was
// last seen running (or before the row ended) it was taken.
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
#include "benchmarks/driver/interposition.h"
#include "benchmarks/driver/process_tree.h"
#include "benchmarks/driver/row_reaper.h"
#include "benchmarks/protocol/child_protocol.h"
#include "benchmarks/protocol/program_protocol.h"

namespace bench {

// The program's path as execvp would find it (a name with a '/' is taken as is, else the first
// executable file of that name in $PATH). Throws UsageError naming the program if there is none.
std::string resolve_program(const std::string& program);

// Debian's heaptrack: the script, and the library it preloads ahead of the program's LD_PRELOAD.
inline constexpr const char* kHeaptrack = "/usr/bin/heaptrack";
inline constexpr const char* kHeaptrackPreload = "/usr/lib/heaptrack/libheaptrack_preload.so";

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
  bool record = false;                        // recorded (--record): traces into trace_directory/<stem>
  bool heaptrack = false;                     // under Debian's heaptrack (--compare-recorders): its file there too
  RecordingSettings recording = {};
  std::chrono::nanoseconds sample_every{};
  std::string output_directory;  // empty: output discarded
};

// What every program being watched shares: the machine's process table, read at most every 50 ms
// (it is the costliest part of a sample).
struct ProgramWatch {
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
  std::vector<HeapMapMoment> trace_maps;               // --record: the same, from the recording
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
  // Every process of the row at the last sample (its reaper's descendants).
  std::vector<pid_t> row_pids() const;
  // A descriptor that polls readable when the row's reaper reports (the program exited).
  int exit_fd() const { return reaper_ ? reaper_->event_fd() : -1; }
  // Reads the reaper's report. True once the row is over: the program has exited and, with
  // `measure`, no measured process is left (or the reaper is gone).
  bool on_exit_readable(std::int64_t now_ns);
  // After a sample: true once the program has exited and no measured process is left (`measure`).
  bool over_after_sample(std::int64_t now_ns);
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
  // Ends the row (the program has exited, or is killed with `forced_error`): stops what is left of
  // it, and says what it measured.
  CommandOutcome finish(const std::string& forced_error = {});

 private:
  struct Verification {
    std::string name;
    int inspections = 0;
    ProcessVerdict verdict;
    bool confirmed = false;  // a "not served" verdict seen again at a later sample
  };
  // One measured process across the samples: its peak, and the last sample it was read in, alive.
  struct Track {
    std::uint64_t high_water_mark = 0;
    int last_sample = -1;       // index into samples_
    std::int64_t gone_ns = -1;  // the first sample without it after it had been read
  };
  // Reads the measured processes now; false if none is running.
  bool take_sample(std::int64_t now_ns);
  std::vector<pid_t> measured_pids();
  void handle(const ProgramMessage& message, std::int64_t now_ns);
  bool over(std::int64_t now_ns);
  void request_heap_maps(const std::string& moment);
  double measured_cpu_seconds() const;

  const Configuration& configuration_;
  CommandOptions options_;
  ProgramWatch& watch_;
  std::string preload_;
  std::vector<std::string> malloc_libraries_;     // every malloc library of the table (canonical)
  std::unique_ptr<Interposition> interposition_;  // --heap-map, --record
  std::unique_ptr<RowReaper> reaper_;
  pid_t pid_ = -1;
  int report_fd_ = -1;
  int exec_errno_ = 0;  // set when execve failed
  std::int64_t start_ns_ = 0;
  std::int64_t next_sample_ns_ = 0;
  int sample_index_ = 0;
  ProcessTree tree_;
  std::vector<pid_t> measured_;  // at the last sample
  std::vector<TimelineSample> samples_;
  std::vector<TreeMemory> sample_memory_;  // what each of samples_ read
  TreeMemory last_memory_ = {};
  std::uint64_t high_water_mark_ = 0;  // the largest VmHWM of any measured process
  int samples_torn_ = 0;               // samples dropped: a process began to exit while it was read
  std::map<pid_t, Verification> verifications_;
  std::map<pid_t, Track> tracks_;
  ProgramReportReader reader_;
  std::vector<CounterValue> phase_counters_, program_counters_;
  std::vector<std::pair<std::string, double>> phase_marks_;
  std::size_t next_phase_ = 0;
  std::int64_t last_phase_ns_ = 0;
  double last_phase_cpu_ = 0;
  bool settling_ = false;
  std::string program_error_, protocol_error_, protocol_limit_;
  std::vector<std::string> stopped_;  // processes of the row stopped when it ended: "name (pid)"
  std::string stdout_path_, stderr_path_, scratch_directory_, stem_;
  std::string front_preload_;  // ahead of the configuration's in LD_PRELOAD: the interposer, or heaptrack's
};

}  // namespace bench
