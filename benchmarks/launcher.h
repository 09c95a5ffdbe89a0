// The parent's side: starts one child process per instance and repetition (fork + execve of this
// binary with an explicit environment — no shell, no command string), watches it, and turns what it
// reports, or how it died, into an InstanceResult.
//
// Scheduling: at most one child is in its measured phases at any time, so children never compete
// for CPU or memory bandwidth while they are timed. A child that has entered its settle period only
// sleeps and samples its own RSS; while it does, up to `max_settling` children may settle at once
// and the next planned instance may start measuring. The settle timeline is unaffected (RSS is
// per-process); the published run shows the figures agree with a serial run (README).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "allocators/configuration.h"
#include "benchmarks/units.h"
#include "benchmarks/workload.h"

namespace bench {

struct InstanceSpec {
  std::string name;                  // <workload>/<configuration>/<N>
  const Workload* workload;          // null: a probe (verify and report the library, measure nothing)
  const Configuration* configuration;
  std::uint64_t size;
};

struct InstanceResult {
  bool ok = false;
  std::string error;  // why the instance failed, naming the cause
  std::string label;  // malloc=<path> new=<path> version=<version>
  double measured_seconds = 0;
  std::vector<std::pair<std::string, double>> counters;
};

struct LauncherOptions {
  // This binary, resolved from /proc/self/exe at start-up: the children's argv[0]. The children
  // execute the very file the parent runs (an open descriptor, fexecve), even if the path has been
  // rebuilt or replaced since the parent started.
  std::string executable;
  Nanoseconds settle{};
  Nanoseconds timeout{};   // per instance, on top of the settle period
  int max_settling = 4;    // 0: strictly one child at a time
  bool ignore_memory_limit = false;
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

  // The order in which run() is expected to be called; lets children start ahead. Optional.
  // The keys are hashed for the largest planned size that passes the memory guard, so a refused
  // instance never makes the parent hash (and hold) its keys.
  void plan(const std::vector<InstanceSpec>& expected);

  // Runs (or collects the already started run of) the next repetition of `spec`. Blocks until it is
  // finished. Throws Interrupted after stopping every child.
  InstanceResult run(const InstanceSpec& spec);

  // Kills (SIGKILL to the child's process group) and reaps every child still running.
  void stop_all() noexcept;

  // Empty when `spec` may run now; otherwise why the memory guard refuses it. Probes always fit.
  std::string memory_refusal(const InstanceSpec& spec) const;

 private:
  enum class State { planned, measuring, settling, finished, claimed };
  struct Slot {
    InstanceSpec spec;
    State state = State::planned;
    pid_t pid = -1;
    int fd = -1;
    std::string pending = {};  // bytes read but not yet a whole line
    std::int64_t fork_ns = 0;
    std::int64_t deadline_ns = 0;
    std::uint64_t oom_kills_at_fork = 0;  // /proc/vmstat oom_kill when the child was started
    bool saw_done = false;
    std::string child_error = {};
    InstanceResult result = {};
  };

  void maybe_launch(Slot& target);
  void launch(Slot& slot);
  void wait_for_events();
  void consume(Slot& slot, std::string_view bytes);
  void finish(Slot& slot, int wait_status, const std::string& forced_error);
  int key_fd_for(std::uint64_t size);

  LauncherOptions options_;
  int executable_fd_ = -1;  // /proc/self/exe, opened once: what every child executes
  std::deque<Slot> slots_;  // deque: references stay valid as slots are added
  int key_fd_ = -1;
  std::uint64_t key_count_ = 0;
  std::uint64_t planned_max_size_ = 0;
};

// Memory available to a new child in bytes: MemAvailable of /proc/meminfo, or less if this process's
// memory cgroup (v1 or v2, or an ancestor) has less headroom under its limit; 0 if unreadable.
std::uint64_t available_memory_bytes();

}  // namespace bench
