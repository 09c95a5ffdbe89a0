#include "benchmarks/driver/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "benchmarks/measure/clock.h"
#include "benchmarks/measure/keys.h"
#include "benchmarks/measure/probe.h"

namespace bench {
namespace {

volatile sig_atomic_t g_interrupt_signal = 0;

// The kernel counts its OOM kills in /proc/vmstat (oom_kill, Linux >= 4.13); 0 if unreadable.
std::uint64_t oom_kill_count() {
  std::ifstream vmstat("/proc/vmstat");
  std::string key;
  std::uint64_t value = 0;
  while (vmstat >> key >> value)
    if (key == "oom_kill") return value;
  return 0;
}

// How a child died, in words. A SIGKILL comes from outside (kill -9) or from the OOM killer: the
// system-wide OOM kill counter tells which is likely (it may also count another process's kill).
std::string describe_signal(int signal_number, std::uint64_t oom_kills_before) {
  std::string text = "signal " + std::to_string(signal_number) + " (" + ::strsignal(signal_number) + ")";
  if (signal_number == SIGKILL) {
    const std::uint64_t oom_kills_now = oom_kill_count();
    text += oom_kills_now > oom_kills_before ? ", most likely by the kernel's OOM killer (oom_kill in /proc/vmstat rose from " +
                                                   std::to_string(oom_kills_before) + " to " + std::to_string(oom_kills_now) + " meanwhile)"
                                             : ", sent from outside (the kernel's OOM killer did not run meanwhile)";
  }
  return text;
}

// SIGKILL to the child's process group and to the child itself (the group exists as soon as either
// side's setpgid has run), then reap it.
int kill_and_reap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::uint64_t read_number(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  in >> text;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return UINT64_MAX;  // "max", absent
  return std::stoull(text);
}

// The least headroom (limit - usage) of this process's memory cgroup and its ancestors, cgroup v2
// (memory.max, memory.current) or v1 (memory.limit_in_bytes, memory.usage_in_bytes); UINT64_MAX
// when no limit applies or none can be read. In a container, MemAvailable shows the host's memory.
std::uint64_t cgroup_headroom_bytes() {
  std::ifstream membership("/proc/self/cgroup");
  std::string v2_path, v1_path;
  for (std::string line; std::getline(membership, line);) {
    if (line.rfind("0::", 0) == 0) v2_path = line.substr(3);
    const std::size_t at = line.find(":memory:");
    if (at != std::string::npos) v1_path = line.substr(at + 8);
  }
  std::uint64_t headroom = UINT64_MAX;
  auto walk = [&](std::string root, std::string path, const char* limit_file, const char* usage_file) {
    while (true) {
      const std::string directory = root + (path == "/" ? "" : path);
      const std::uint64_t limit = read_number(directory + "/" + limit_file);
      const std::uint64_t usage = read_number(directory + "/" + usage_file);
      if (limit < (1ull << 60) && usage != UINT64_MAX) headroom = std::min(headroom, limit > usage ? limit - usage : 0);
      if (path.empty() || path == "/") break;
      path = path.substr(0, path.rfind('/'));
      if (path.empty()) path = "/";
    }
  };
  if (!v1_path.empty()) walk("/sys/fs/cgroup/memory", v1_path, "memory.limit_in_bytes", "memory.usage_in_bytes");
  if (!v2_path.empty()) walk("/sys/fs/cgroup", v2_path, "memory.max", "memory.current");
  return headroom;
}

std::string gib(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f GiB", static_cast<double>(bytes) / (1u << 30));
  return text;
}

}  // namespace

void request_interrupt(int signal_number) noexcept {
  if (g_interrupt_signal == 0) g_interrupt_signal = signal_number;
}
bool interrupt_requested() noexcept { return g_interrupt_signal != 0; }
int interrupt_signal() noexcept { return g_interrupt_signal; }

std::uint64_t available_memory_bytes() {
  std::uint64_t available = 0;
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") {
      available = kib * 1024;
      break;
    }
  if (available == 0) return 0;
  return std::min(available, cgroup_headroom_bytes());
}

Launcher::Launcher(LauncherOptions options) : options_(std::move(options)) {
  // Opened now, so that a rebuild of the binary during a long run cannot put a different program
  // in the children (the linker replaces the file; this descriptor keeps the original).
  executable_fd_ = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (executable_fd_ < 0) throw std::runtime_error(std::string("cannot open /proc/self/exe: ") + std::strerror(errno));
}

Launcher::~Launcher() {
  stop_all();
  for (int fd : {key_fd_, probe_fd_, executable_fd_})
    if (fd >= 0) ::close(fd);
}

void Launcher::plan(const std::vector<const InstanceSpec*>& order) {
  for (const InstanceSpec* spec : order) {
    int repetition = 0;
    for (const Slot& s : slots_) repetition += s.spec.name == spec->name ? 1 : 0;
    slots_.push_back(Slot{.spec = *spec, .repetition = repetition});
    if (spec->workload != nullptr && memory_refusal(*spec).empty()) planned_max_size_ = std::max(planned_max_size_, spec->size);
  }
}

int Launcher::key_fd_for(std::uint64_t size) {
  if (size > key_count_) {
    // Hash once, for the largest size of the run: smaller sizes read a prefix.
    const std::uint64_t count = std::max(size, planned_max_size_);
    const int fd = create_key_file(count);
    if (key_fd_ >= 0) ::close(key_fd_);
    key_fd_ = fd;
    key_count_ = count;
  }
  return key_fd_;
}

std::int64_t Launcher::budget_ns(const InstanceSpec& spec) const {
  const bool pauses = spec.workload != nullptr && spec.workload->uses_rounds;
  return options_.settle.count() + options_.timeout.count() + (pauses ? options_.rounds * options_.pause.count() : 0);
}

InstanceResult Launcher::run(const InstanceSpec& spec) {
  auto it =
      std::find_if(slots_.begin(), slots_.end(), [&](const Slot& s) { return s.spec.name == spec.name && s.state != State::claimed; });
  if (it == slots_.end()) {  // not in the plan: run it after everything planned
    slots_.push_back(Slot{.spec = spec});
    it = std::prev(slots_.end());
  }
  return wait_for(*it);
}

InstanceResult Launcher::probe(const Configuration& configuration) {
  slots_.push_back(Slot{.spec = {.name = "probe/" + std::string(configuration.name), .configuration = &configuration}});
  return wait_for(slots_.back());
}

InstanceResult Launcher::wait_for(Slot& target) {
  while (true) {
    if (interrupt_requested()) {
      stop_all();
      throw Interrupted();
    }
    if (target.state == State::finished) {
      target.state = State::claimed;
      return std::move(target.result);
    }
    maybe_launch();
    if (target.state != State::finished) wait_for_events();
  }
}

namespace {

// A workload's estimate of its child's peak, or for a replay the recording's: twice its peak live
// bytes (an allocator's overhead on small blocks is below that), the replayer's own tables, and
// 64 MiB for the process.
std::uint64_t peak_estimate(const InstanceSpec& spec) {
  if (spec.replay != nullptr)
    return 2 * spec.replay->summary.peak_live_bytes + 48 * spec.replay->summary.slots + spec.replay->summary.ops * 16 + (64ull << 20);
  return spec.workload->peak_bytes_estimate(spec.size, *spec.configuration);
}

}  // namespace

std::string Launcher::memory_refusal(const InstanceSpec& spec) const {
  if (options_.ignore_memory_limit || spec.workload == nullptr) return {};
  const std::uint64_t need = peak_estimate(spec);
  const std::uint64_t available = available_memory_bytes();
  if (available == 0) return {};  // cannot tell: do not block the run
  if (need > available / 10 * 9)
    return "refused by the memory guard: estimated peak " + gib(need) + " exceeds 90% of the " + gib(available) +
           " of memory available (MemAvailable, or the memory cgroup's headroom if lower); not run "
           "(--ignore-memory-limit runs it anyway)";
  return {};
}

void Launcher::mark_finished(Slot& slot) {
  slot.state = State::finished;
  if (options_.on_finished) options_.on_finished(slot.spec, slot.repetition, slot.result);
}

void Launcher::maybe_launch() {
  while (true) {
    int settling = 0;
    for (const Slot& s : slots_) {
      if (s.state == State::measuring) return;  // one child measures at a time
      if (s.state == State::settling) ++settling;
    }
    const auto next = std::find_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.state == State::planned; });
    waiting_for_quiet_ = false;
    if (next == slots_.end()) return;
    if (settling > 0 && settling >= options_.max_settling) return;
    if (settling > 0 && !settlers_quiet(monotonic_ns())) {
      waiting_for_quiet_ = true;
      return;
    }
    // Checked before launch(), which hashes the keys for this size if none are hashed yet. Settling
    // children hold memory for a while: refuse only what would not fit with none of them left.
    if (std::string refusal = memory_refusal(next->spec); !refusal.empty()) {
      if (settling > 0) return;
      next->result.error = std::move(refusal);
      mark_finished(*next);
      continue;
    }
    if (next->spec.workload != nullptr && settling > 0) {
      // Started beside settling children only when it fits beside what they hold.
      const std::uint64_t need = peak_estimate(next->spec);
      if (need * 2 > available_memory_bytes()) return;
    }
    try {
      if (next->spec.command)
        launch_program(*next);
      else
        launch(*next);
    } catch (const std::exception& e) {  // the failure belongs to this instance's row
      next->result.error = std::string("could not start the child: ") + e.what();
      mark_finished(*next);
      continue;
    }
    return;
  }
}

namespace {

// An instance's name as a folder name: map/glibc/500000 -> map_glibc_500000.
std::string row_folder_name(std::string name) {
  for (char& c : name)
    if (c == '/' || c == ':' || c == ' ') c = '_';
  return name;
}

// The run time of every thread of `pid` (/proc/<pid>/task/*/schedstat: nanoseconds on a CPU), in seconds.
double threads_cpu_seconds(pid_t pid) {
  double total = 0;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  std::error_code error;
  for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
    std::ifstream in(task.path() / "schedstat");
    unsigned long long ns = 0;
    if (in >> ns) total += static_cast<double>(ns) / 1e9;
  }
  return total;
}

}  // namespace

bool Launcher::settlers_quiet(std::int64_t now) {
  double used = 0;
  for (Slot& s : slots_) {
    if (s.state != State::settling) continue;
    double cpu = 0;
    if (s.program)
      for (pid_t pid : s.program->row_pids()) cpu += threads_cpu_seconds(pid);
    else
      cpu = threads_cpu_seconds(s.pid);
    s.cpu.emplace_back(now, cpu);
    // Kept: the newest reading at least a window old, and what came after it.
    while (s.cpu.size() > 2 && s.cpu[1].first <= now - kQuietWindowNs) s.cpu.pop_front();
    if (s.cpu.front().first > now - kQuietWindowNs) return false;  // not watched for a whole window yet
    used += s.cpu.back().second - s.cpu.front().second;
  }
  return used < kQuietCpuShare * static_cast<double>(kQuietWindowNs) / 1e9;
}

void Launcher::launch(Slot& slot) {
  const InstanceSpec& spec = slot.spec;
  const Configuration& configuration = *spec.configuration;
  const bool measures = spec.workload != nullptr;
  const int key_fd = measures ? key_fd_for(spec.size) : -1;
  if (measures && probe_fd_ < 0) probe_fd_ = create_probe_file();
  const int probe_fd = measures ? probe_fd_ : -1;

  // Everything the child needs is built before fork: after fork the child only calls
  // async-signal-safe functions.
  const ChildArguments child_arguments{.workload = measures ? std::string(spec.workload->name) : "probe",
                                       .configuration = std::string(configuration.name),
                                       .size = spec.size,
                                       .settle = options_.settle,
                                       .rounds = options_.rounds,
                                       .pause = options_.pause,
                                       .time_operations = options_.latency,
                                       .activity = spec.activity,
                                       .activity_period = options_.activity_period,
                                       .replay = spec.replay != nullptr ? spec.replay->workload : std::string(),
                                       .replay_timing = spec.replay != nullptr ? options_.replay_timing : std::string(),
                                       .replay_fill = spec.replay != nullptr ? options_.replay_fill : std::string(),
                                       .replay_free_phase = spec.replay != nullptr ? spec.replay->free_phase : std::string()};
  // Under --exact the child is valgrind's, which runs this binary (the descriptor's copy at
  // kExactClientFd, so that a rebuild cannot change it) with the same arguments.
  constexpr int kExactClientFd = kProbeFd + 1;
  std::vector<std::string> arguments = {options_.executable};
  if (options_.exact) {
    char directory[] = "/tmp/bench-exact-XXXXXX";
    if (::mkdtemp(directory) == nullptr) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    slot.exact_directory = directory;
    arguments = callgrind_command(*options_.exact, slot.exact_directory, "/proc/self/fd/" + std::to_string(kExactClientFd));
  }
  const std::string program = options_.exact ? options_.exact->valgrind : std::string();
  const std::string stderr_path = options_.exact ? slot.exact_directory + "/output" : std::string();
  for (std::string& a : child_arguments.encode()) arguments.push_back(std::move(a));
  // An explicit environment: nothing inherited can change the allocator under test (a stray
  // MALLOC_CONF or LD_PRELOAD in the user's shell would otherwise mislabel every row).
  std::vector<std::string> environment = {"PATH=/usr/bin:/bin", "LC_ALL=C"};
  for (const EnvironmentVariable& variable : configuration.environment)
    environment.push_back(std::string(variable.name) + "=" + std::string(variable.value));
  std::string preload = configuration.library->preloaded ? std::string(configuration.library->preload_path) : std::string();
  if ((options_.heap_map || options_.record) && measures) {
    // The interposer first, so that its definitions win; it forwards to what follows.
    slot.interposition = std::make_unique<Interposition>(InterpositionOptions{
        .heap_map = options_.heap_map,
        .record = options_.record,
        .settings = options_.recording,
        .row_directory = options_.recording.trace_directory + "/" + row_folder_name(spec.name) + "." + std::to_string(slot.repetition)});
    environment.insert(environment.end(), slot.interposition->environment().begin(), slot.interposition->environment().end());
    preload = std::string(kInterposer) + (preload.empty() ? "" : ":" + preload);
  }
  if (!preload.empty()) environment.push_back("LD_PRELOAD=" + preload);
  std::vector<char*> argv, envp;
  for (std::string& a : arguments) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  const pid_t parent = ::getpid();
  const int executable_fd = executable_fd_;
  slot.oom_kills_at_fork = oom_kill_count();
  slot.fork_ns = monotonic_ns();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Its own process group: the parent stops it with its group, and a Ctrl-C meant for the parent's
    // group (the terminal's foreground group) does not reach it — the parent decides what stops.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives a parent that dies, even by SIGKILL
    if (::getppid() != parent) ::_exit(127);
    ::signal(SIGPIPE, SIG_DFL);  // execve keeps an ignored signal ignored
    // Move the descriptors out of the way first (one may sit on a fixed number), then onto their
    // fixed numbers (dup2 clears close-on-exec).
    const int executable_copy = ::fcntl(executable_fd, F_DUPFD_CLOEXEC, 10);
    const int result_copy = ::fcntl(pipe_fds[1], F_DUPFD, 10);
    const int key_copy = key_fd >= 0 ? ::fcntl(key_fd, F_DUPFD, 10) : -1;
    const int probe_copy = probe_fd >= 0 ? ::fcntl(probe_fd, F_DUPFD, 10) : -1;
    ::dup2(result_copy, kResultFd);
    if (key_copy >= 0) ::dup2(key_copy, kKeyFd);
    if (probe_copy >= 0) ::dup2(probe_copy, kProbeFd);
    for (int fd : {result_copy, key_copy, probe_copy})
      if (fd >= 0) ::close(fd);
    // Nothing else of the parent's reaches the child (Google Benchmark's output file, say, which it
    // opens without close-on-exec); the executable's copy is closed by fexecve itself.
    ::close_range(kProbeFd + 1, ~0U, CLOSE_RANGE_CLOEXEC);
    ::dup2(STDERR_FILENO, STDOUT_FILENO);  // the parent's stdout carries only its reports
    if (!program.empty()) {
      // Counts must not depend on where things land: the cache simulator sees addresses, and
      // address-space layout randomisation would move the heap, the stack and the key table.
      ::personality(ADDR_NO_RANDOMIZE);
      // What valgrind and the program print goes to a file, for the error row of a failed child.
      const int output = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (output >= 0) {
        ::dup2(output, STDOUT_FILENO);
        ::dup2(output, STDERR_FILENO);
      }
      ::dup2(executable_copy, kExactClientFd);  // kept across valgrind's execve
      ::execve(program.c_str(), argv.data(), envp.data());
    }
    ::fexecve(executable_copy, argv.data(), envp.data());
    static const char message[] = "error the child could not be executed (fexecve of /proc/self/exe, or execve of valgrind)\n";
    [[maybe_unused]] ssize_t ignored = ::write(kResultFd, message, sizeof message - 1);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so that the group exists before the parent might kill it
  ::close(pipe_fds[1]);
  ::fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
  slot.pid = pid;
  slot.fd = pipe_fds[0];
  slot.state = State::measuring;
  slot.deadline_ns = slot.fork_ns + budget_ns(spec);
}

CommandOptions Launcher::program_options(const InstanceSpec& spec) const {
  CommandOptions options = options_.command;
  options.heap_map = spec.observer.empty() ? options_.heap_map : spec.observer == "heap-map";
  options.record = spec.observer.empty() ? options_.record : spec.observer == "record";
  options.heaptrack = spec.observer == "heaptrack";
  options.recording = options_.recording;
  const Scenario* scenario = spec.scenario;
  if (scenario == nullptr) return options;
  options.program = scenario->file;
  options.argv = {scenario->file};
  options.measure = scenario->measure;
  for (const ScenarioPhase& phase : scenario->phases) options.phases.push_back(phase.name);
  options.timed_phases = scenario->timed_phase_count();
  char scale[32], settle[32];
  std::snprintf(scale, sizeof scale, "%.17g", options_.scenario_scale);
  std::snprintf(settle, sizeof settle, "%.17g", std::chrono::duration<double>(options_.settle).count());
  options.environment = {std::string("BENCH_SCALE=") + scale, std::string("BENCH_SETTLE_SECONDS=") + settle};
  for (const auto& [name, value] : scenario->environment) options.environment.push_back(name + "=" + value);
  return options;
}

void Launcher::launch_program(Slot& slot) {
  const InstanceSpec& spec = slot.spec;
  const std::string stem = (spec.scenario != nullptr ? spec.scenario->name + "." : std::string()) + std::string(spec.configuration->name) +
                           (spec.observer.empty() ? std::string() : "@" + spec.observer) + "." + std::to_string(slot.repetition);
  slot.program = std::make_unique<CommandRun>(program_options(spec), *spec.configuration, stem, watch_);
  slot.pid = slot.program->pid();
  slot.fork_ns = slot.program->started_ns();
  slot.state = State::measuring;
  // A scenario waits --settle after its timed phases.
  slot.deadline_ns = slot.fork_ns + options_.timeout.count() + (spec.scenario != nullptr ? options_.settle.count() : 0);
}

void Launcher::wait_for_events() {
  std::vector<pollfd> fds;
  std::vector<Slot*> owners;
  std::int64_t next_deadline = INT64_MAX;
  for (Slot& s : slots_)
    if (s.state == State::measuring || s.state == State::settling) {
      fds.push_back({s.program ? s.program->exit_fd() : s.fd, POLLIN, 0});
      owners.push_back(&s);
      next_deadline = std::min(next_deadline, s.deadline_ns);
      if (s.program) {
        next_deadline = std::min(next_deadline, s.program->next_sample_ns());
        if (s.program->report_fd() >= 0) {  // what the program reports, polled beside its reaper
          fds.push_back({s.program->report_fd(), POLLIN, 0});
          owners.push_back(&s);
        }
      }
    }
  if (fds.empty()) return;
  const std::int64_t now = monotonic_ns();
  // Waiting for settling children to be quiet: look again soon.
  const std::int64_t longest = waiting_for_quiet_ ? 10 : 200;
  const int timeout_ms = static_cast<int>(std::clamp<std::int64_t>((next_deadline - now + 999'999) / 1'000'000, 0, longest));
  const int ready = ::poll(fds.data(), fds.size(), timeout_ms);  // EINTR: the loop checks the interrupt flag
  const std::int64_t woken = monotonic_ns();
  for (std::size_t i = 0; ready > 0 && i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    Slot& slot = *owners[i];
    if (slot.state != State::measuring && slot.state != State::settling) continue;  // finished by an earlier entry
    if (slot.program) {
      if (fds[i].fd == slot.program->exit_fd()) {  // the row's reaper: the program has exited
        if (slot.program->on_exit_readable(woken)) finish_program(slot, {});
      } else {
        slot.program->on_report_readable(woken);
        if (slot.program->settling() && slot.state == State::measuring) slot.state = State::settling;
      }
      continue;
    }
    char buffer[8192];
    ssize_t n;
    while ((n = ::read(slot.fd, buffer, sizeof buffer)) > 0) slot.reader.consume(std::string_view(buffer, static_cast<std::size_t>(n)));
    if (slot.reader.messages().settling && slot.state == State::measuring) slot.state = State::settling;
    if (n == 0) {  // the child closed its end: it is exiting
      int status = 0;
      while (::waitpid(slot.pid, &status, 0) < 0 && errno == EINTR) {
      }
      finish(slot, status, {});
    }
  }
  const std::int64_t after = monotonic_ns();
  for (Slot* slot : owners) {
    if (slot->state != State::measuring && slot->state != State::settling) continue;
    if (slot->program) {
      slot->program->sample_if_due(after);
      if (slot->program->over_after_sample(after)) {
        finish_program(*slot, {});
        continue;
      }
    }
    if (after <= slot->deadline_ns) continue;
    if (slot->program) {
      finish_program(*slot,
                     "stopped (SIGKILL): it ran past the per-instance time limit of " + format_duration(options_.timeout) + " (--timeout)");
      continue;
    }
    const pid_t pid = slot->pid;
    finish(*slot, kill_and_reap(pid),
           "child " + std::to_string(pid) + " stopped (SIGKILL) " +
               (slot->state == State::settling ? "while settling" : "during the measured phases") +
               ": it exceeded the per-instance time limit of " + format_duration(options_.timeout) + " beyond the " +
               format_duration(options_.settle) + " settle period (--timeout)");
  }
}

void Launcher::finish(Slot& slot, int status, const std::string& forced_error) {
  ::close(slot.fd);
  slot.fd = -1;
  const std::string child = "child " + std::to_string(slot.pid);
  const char* phase = slot.state == State::settling ? "while settling" : "during the measured phases";
  ChildMessages& m = slot.reader.messages();
  InstanceResult& result = slot.result;
  std::string& error = result.error;
  if (!forced_error.empty()) {
    error = forced_error;
  } else if (WIFSIGNALED(status)) {
    error = child + " killed " + phase + " by " + describe_signal(WTERMSIG(status), slot.oom_kills_at_fork);
  } else if (!m.error.empty()) {
    error = m.error;
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = child + " exited with status " + std::to_string(WEXITSTATUS(status)) + " " + phase;
  } else if (!m.malformed.empty()) {
    error = child + " broke the report protocol (protocol/child_protocol.h): '" + m.malformed.front() + "'";
  } else if (!m.done) {
    error = child + " exited without reporting its results";
  }
  result.ok = error.empty();
  result.label = m.label;
  result.measured_seconds = m.time.value_or(0);
  result.counters = std::move(m.counters);
  if (m.ready_ns) result.counters.push_back({"spawn_seconds", static_cast<double>(*m.ready_ns - slot.fork_ns) / 1e9, Unit::seconds});
  result.samples = std::move(m.samples);
  if (slot.interposition) {
    InterpositionReading interposed = slot.interposition->finish();
    result.counters.insert(result.counters.end(), interposed.counters.begin(), interposed.counters.end());
    result.heap_maps = std::move(interposed.heap_maps);
    result.trace_maps = std::move(interposed.trace_maps);
    if (result.ok && !interposed.error.empty()) {
      result.ok = false;
      error = interposed.error;
    }
    for (const std::string& note : interposed.notes) result.label += " (" + note + ")";
    slot.interposition.reset();
  }
  if (!slot.exact_directory.empty()) {
    std::string problem;
    std::vector<CounterValue> counts = read_callgrind_dumps(slot.exact_directory, &problem);
    if (result.ok && !problem.empty()) {
      result.ok = false;
      error = problem;
    }
    if (!result.ok) {
      const std::string said = valgrind_messages(slot.exact_directory);
      if (!said.empty()) error += " (under valgrind: " + said + ")";
    }
    result.counters.insert(result.counters.end(), counts.begin(), counts.end());
    std::error_code ignored;
    std::filesystem::remove_all(slot.exact_directory, ignored);
    slot.exact_directory.clear();
  }
  slot.pid = -1;
  mark_finished(slot);
}

void Launcher::finish_program(Slot& slot, const std::string& forced_error) {
  CommandOutcome outcome = slot.program->finish(forced_error);
  slot.result = {.ok = outcome.ok,
                 .error = std::move(outcome.error),
                 .label = std::move(outcome.label),
                 .measured_seconds = outcome.wall_seconds,
                 .counters = std::move(outcome.counters),
                 .samples = std::move(outcome.samples),
                 .phases = std::move(outcome.phases),
                 .heap_maps = std::move(outcome.heap_maps),
                 .trace_maps = std::move(outcome.trace_maps),
                 .program_counters = std::move(outcome.program_counters)};
  slot.program.reset();
  slot.fd = -1;
  slot.pid = -1;
  mark_finished(slot);
}

void Launcher::stop_all() noexcept {
  for (Slot& s : slots_) {
    if (s.pid <= 0) continue;
    if (s.program) {
      s.program.reset();  // kills and reaps
    } else {
      kill_and_reap(s.pid);
      if (s.fd >= 0) ::close(s.fd);
    }
    s.fd = -1;
    s.pid = -1;
    s.result.error = "stopped: the run was interrupted";
    s.state = State::finished;
    s.interposition.reset();
    for (std::string* directory : {&s.exact_directory})
      if (!directory->empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(*directory, ignored);
        directory->clear();
      }
  }
}

}  // namespace bench
