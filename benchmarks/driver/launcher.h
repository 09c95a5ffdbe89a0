// The parent's side of every measurement: starts one child process per instance and repetition
// (fork + execve of this binary with an explicit environment — no shell, no command string — or,
// for `./bench -- PROGRAM`, the user's program), watches it, and turns what it reports, or how it
// died, into an InstanceResult.
//
// Order: children run strictly in the planned order (driver/instances.h: round 1 of every instance,
// then round 2, ...), whatever order Google Benchmark asks for their results in; results that come
// early are held until they are asked for.
//
// A quiet machine for the measuring child: at most one child is in its measured phases at any time,
// and it starts beside settling children (at most `max_settling` of them) only when they are quiet:
// over the last kQuietWindow they used together less than kQuietCpuShare of one CPU (their threads'
// run time, /proc/<pid>/task/*/schedstat; a program's row, every process of it). A child that
// settles idly only sleeps and samples its own RSS; one whose settle period is active (a few malloc
// calls every 10 ms), or a program that works while it settles, is not quiet, and the next child
// waits until it has ended. Each timed phase records what the rest of the machine used meanwhile
// (<phase>_beside_cpu_s, measure/phases.h). A program run with `./bench -- PROGRAM` counts as
// measuring until it exits; a scenario's, until it reports its last timed phase.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "allocators/configuration.h"
#include "benchmarks/driver/command.h"
#include "benchmarks/driver/exact.h"
#include "benchmarks/driver/heap_map_reader.h"
#include "benchmarks/driver/instances.h"
#include "benchmarks/driver/interposition.h"
#include "benchmarks/driver/units.h"
#include "benchmarks/protocol/child_protocol.h"

namespace bench {

inline constexpr double kQuietCpuShare = 0.02;
inline constexpr std::int64_t kQuietWindowNs = 100'000'000;

struct InstanceResult {
  bool ok = false;
  std::string error;  // why the instance failed, naming the cause
  std::string label;  // malloc=<path> new=<path> version=<version>
  double measured_seconds = 0;
  std::vector<CounterValue> counters;
  std::vector<TimelineSample> samples;
  std::vector<std::pair<std::string, double>> phases = {};  // a program's phases: name, seconds after execve
  std::vector<HeapMapMoment> heap_maps = {};                // --heap-map: each moment's pinning sites
  std::vector<HeapMapMoment> trace_maps = {};               // --record: the same, from the recording
  std::vector<std::string> program_counters = {};           // counters the program reported itself
};

struct LauncherOptions {
  // This binary, resolved from /proc/self/exe at start-up: the children's argv[0]. The children
  // execute the very file the parent runs (an open descriptor, fexecve), even if the path has been
  // rebuilt or replaced since the parent started.
  std::string executable;
  Nanoseconds settle{};
  Nanoseconds timeout{};  // per instance, on top of the settle period and the cycle's pauses
  int max_settling = 8;   // 0: strictly one child at a time
  bool ignore_memory_limit = false;
  int rounds = 1;
  Nanoseconds pause{};
  bool latency = true;
  Nanoseconds activity_period{};
  std::string replay_timing = "as-recorded";  // --replay-timing, for replay instances
  std::string replay_fill = "all-bytes";      // --replay-fill
  CommandOptions command = {};                // command.program set: instances are runs of the user's program
  double scenario_scale = 1.0;                // --scenario-scale, for scenario instances
  std::optional<ExactMode> exact = {};        // --exact: every child under callgrind (driver/exact.h)
  bool heap_map = false;                      // --heap-map: children behind the heap map's interposer
  bool record = false;                        // --record: children and programs recorded
  RecordingSettings recording = {};           // --record: a folder per row below its trace_directory
  // Called as each child finishes (in measurement order), for progress reports.
  std::function<void(const InstanceSpec&, int repetition, const InstanceResult&)> on_finished = {};
};

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

// Called from the parent's signal handler (SIGINT, SIGTERM, SIGHUP, SIGPIPE): async-signal-safe. The
// launcher then stops its children and throws Interrupted from run().
void request_interrupt(int signal_number) noexcept;
bool interrupt_requested() noexcept;
int interrupt_signal() noexcept;  // the first signal that requested the interrupt; 0 if none

class Launcher {
 public:
  explicit Launcher(LauncherOptions options);
  ~Launcher();  // stops and reaps every child still running
  Launcher(const Launcher&) = delete;
  Launcher& operator=(const Launcher&) = delete;

  // The order in which children run. The keys are hashed for the largest planned size that passes
  // the memory guard, so a refused instance never makes the parent hash (and hold) its keys.
  void plan(const std::vector<const InstanceSpec*>& order);

  // The next unclaimed repetition of `spec`: runs children in planned order until it has finished
  // (an instance that was not planned is appended to the plan). Throws Interrupted after stopping
  // every child.
  InstanceResult run(const InstanceSpec& spec);

  // Verifies `configuration` in a child that measures nothing (--list-configs).
  InstanceResult probe(const Configuration& configuration);

  // Kills (SIGKILL to the child's process group) and reaps every child still running.
  void stop_all() noexcept;

  // Empty when `spec` may run now; otherwise why the memory guard refuses it. Probes and programs
  // always fit.
  std::string memory_refusal(const InstanceSpec& spec) const;

 private:
  enum class State { planned, measuring, settling, finished, claimed };
  struct Slot {
    InstanceSpec spec;
    State state = State::planned;
    pid_t pid = -1;
    int fd = -1;  // the child's report pipe (a program's row is watched through its CommandRun)
    ChildReportReader reader = {};
    std::unique_ptr<CommandRun> program = {};
    std::int64_t fork_ns = 0;
    std::int64_t deadline_ns = 0;
    std::uint64_t oom_kills_at_fork = 0;  // /proc/vmstat oom_kill when the child was started
    int repetition = 0;
    InstanceResult result = {};
    std::string exact_directory = {};                      // --exact: callgrind's dumps and log, removed once read
    std::unique_ptr<Interposition> interposition = {};     // --heap-map, --record: read once the child is gone
    std::deque<std::pair<std::int64_t, double>> cpu = {};  // while settling: (when, CPU seconds used so far)
  };

  InstanceResult wait_for(Slot& target);
  void maybe_launch();
  void launch(Slot& slot);
  void launch_program(Slot& slot);
  CommandOptions program_options(const InstanceSpec& spec) const;
  void wait_for_events();
  // Reads the CPU time of every settling child now; true when together they used less than
  // kQuietCpuShare of one CPU over the last kQuietWindowNs.
  bool settlers_quiet(std::int64_t now_ns);
  void finish(Slot& slot, int wait_status, const std::string& forced_error);
  void finish_program(Slot& slot, const std::string& forced_error);
  void mark_finished(Slot& slot);
  int key_fd_for(std::uint64_t size);
  // How long a child may live: settle period, --timeout, and the cycle's pauses.
  std::int64_t budget_ns(const InstanceSpec& spec) const;

  LauncherOptions options_;
  int executable_fd_ = -1;  // /proc/self/exe, opened once: what every child executes
  std::deque<Slot> slots_;  // deque: references stay valid as slots are added
  int key_fd_ = -1;
  std::uint64_t key_count_ = 0;
  std::uint64_t planned_max_size_ = 0;
  int probe_fd_ = -1;
  ProgramWatch watch_;              // what every running program's sampling shares
  bool waiting_for_quiet_ = false;  // a child waits for the settling ones to be quiet: wake up often
};

// Memory available to a new child in bytes: MemAvailable of /proc/meminfo, or less if this process's
// memory cgroup (v1 or v2, or an ancestor) has less headroom under its limit; 0 if unreadable.
std::uint64_t available_memory_bytes();

}  // namespace bench
