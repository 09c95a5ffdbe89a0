#include "benchmarks/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "benchmarks/child.h"
#include "benchmarks/child_report.h"
#include "benchmarks/keys.h"

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
    text += oom_kills_now > oom_kills_before
                ? ", most likely by the kernel's OOM killer (oom_kill in /proc/vmstat rose from " +
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
  if (key_fd_ >= 0) ::close(key_fd_);
  if (executable_fd_ >= 0) ::close(executable_fd_);
}

void Launcher::plan(const std::vector<InstanceSpec>& expected) {
  for (const InstanceSpec& spec : expected) {
    slots_.push_back(Slot{.spec = spec});
    if (spec.workload != nullptr && memory_refusal(spec).empty()) planned_max_size_ = std::max(planned_max_size_, spec.size);
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

InstanceResult Launcher::run(const InstanceSpec& spec) {
  auto it = std::find_if(slots_.begin(), slots_.end(),
                         [&](const Slot& s) { return s.spec.name == spec.name && s.state != State::claimed; });
  if (it == slots_.end()) {  // not in the plan (e.g. random interleaving): run it now
    slots_.push_back(Slot{.spec = spec});
    it = std::prev(slots_.end());
  }
  Slot& target = *it;
  while (true) {
    if (interrupt_requested()) {
      stop_all();
      throw Interrupted();
    }
    if (target.state == State::finished) {
      target.state = State::claimed;
      return std::move(target.result);
    }
    maybe_launch(target);
    if (target.state != State::finished) wait_for_events();
  }
}

std::string Launcher::memory_refusal(const InstanceSpec& spec) const {
  if (options_.ignore_memory_limit || spec.workload == nullptr) return {};
  const std::uint64_t need = spec.workload->peak_bytes_estimate(spec.size, *spec.configuration);
  const std::uint64_t available = available_memory_bytes();
  if (available == 0) return {};  // cannot tell: do not block the run
  if (need > available / 10 * 9)
    return "refused by the memory guard: estimated peak " + gib(need) + " exceeds 90% of the " + gib(available) +
           " of memory available (MemAvailable, or the memory cgroup's headroom if lower); not run "
           "(--ignore-memory-limit runs it anyway)";
  return {};
}

void Launcher::maybe_launch(Slot& target) {
  bool any_alive = false;
  int settling = 0;
  for (const Slot& s : slots_) {
    if (s.state == State::measuring) return;  // one child measures at a time
    if (s.state == State::settling) {
      any_alive = true;
      ++settling;
    }
  }
  Slot* candidate = nullptr;
  if (target.state == State::planned) {
    if (!any_alive || options_.max_settling > 0) candidate = &target;
  } else if (options_.max_settling > 0 && settling < options_.max_settling) {
    // Start the next planned instance while the target settles.
    for (Slot& s : slots_)
      if (s.state == State::planned) {
        candidate = &s;
        break;
      }
  }
  if (candidate == nullptr) return;
  // Checked before launch(), which hashes the keys for this size if none are hashed yet.
  if (std::string refusal = memory_refusal(candidate->spec); !refusal.empty()) {
    candidate->result.error = std::move(refusal);
    candidate->state = State::finished;
    return;
  }
  if (candidate != &target && candidate->spec.workload != nullptr && any_alive) {
    // Look-ahead only when it fits beside the children already holding memory.
    const std::uint64_t need = candidate->spec.workload->peak_bytes_estimate(candidate->spec.size, *candidate->spec.configuration);
    if (need * 2 > available_memory_bytes()) return;
  }
  try {
    launch(*candidate);
  } catch (const std::exception& e) {  // the failure belongs to the candidate's row, not the target's
    candidate->result.error = std::string("could not start the child: ") + e.what();
    candidate->state = State::finished;
  }
}

void Launcher::launch(Slot& slot) {
  const InstanceSpec& spec = slot.spec;
  const Configuration& configuration = *spec.configuration;
  const int key_fd = spec.workload != nullptr ? key_fd_for(spec.size) : -1;

  // Everything the child needs is built before fork: after fork the child only calls
  // async-signal-safe functions.
  std::vector<std::string> arguments = {options_.executable, kChildFlag,
                                        std::string(spec.workload != nullptr ? spec.workload->name : "probe"),
                                        std::string(configuration.name), std::to_string(spec.size),
                                        std::to_string(options_.settle.count())};
  // An explicit environment: nothing inherited can change the allocator under test (a stray
  // MALLOC_CONF or LD_PRELOAD in the user's shell would otherwise mislabel every row).
  std::vector<std::string> environment = {"PATH=/usr/bin:/bin", "LC_ALL=C"};
  for (const EnvironmentVariable& variable : configuration.environment)
    environment.push_back(std::string(variable.name) + "=" + std::string(variable.value));
  if (configuration.library->preloaded)
    environment.push_back("LD_PRELOAD=" + std::string(configuration.library->preload_path));
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
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);    // never outlives a parent that dies, even by SIGKILL
    if (::getppid() != parent) ::_exit(127);
    ::signal(SIGPIPE, SIG_DFL);            // execve keeps an ignored signal ignored
    // Move the descriptors out of the way first (the executable's may sit on a fixed number), then
    // onto their fixed numbers (dup2 clears CLOEXEC).
    const int executable_copy = ::fcntl(executable_fd, F_DUPFD_CLOEXEC, 10);
    const int result_copy = ::fcntl(pipe_fds[1], F_DUPFD, 10);
    const int key_copy = key_fd >= 0 ? ::fcntl(key_fd, F_DUPFD, 10) : -1;
    ::dup2(result_copy, kChildResultFd);
    if (key_copy >= 0) ::dup2(key_copy, kChildKeyFd);
    ::close(result_copy);
    if (key_copy >= 0) ::close(key_copy);
    ::dup2(STDERR_FILENO, STDOUT_FILENO);  // the parent's stdout carries only its reports
    ::fexecve(executable_copy, argv.data(), envp.data());
    static const char message[] = "error fexecve of /proc/self/exe failed\n";
    [[maybe_unused]] ssize_t ignored = ::write(kChildResultFd, message, sizeof message - 1);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so that the group exists before the parent might kill it
  ::close(pipe_fds[1]);
  ::fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
  slot.pid = pid;
  slot.fd = pipe_fds[0];
  slot.state = State::measuring;
  slot.deadline_ns = slot.fork_ns + options_.settle.count() + options_.timeout.count();
}

void Launcher::wait_for_events() {
  std::vector<pollfd> fds;
  std::vector<Slot*> owners;
  std::int64_t next_deadline = INT64_MAX;
  for (Slot& s : slots_)
    if (s.state == State::measuring || s.state == State::settling) {
      fds.push_back({s.fd, POLLIN, 0});
      owners.push_back(&s);
      next_deadline = std::min(next_deadline, s.deadline_ns);
    }
  if (fds.empty()) return;
  const std::int64_t now = monotonic_ns();
  const int timeout_ms = static_cast<int>(std::clamp<std::int64_t>((next_deadline - now) / 1'000'000 + 1, 0, 200));
  const int ready = ::poll(fds.data(), fds.size(), timeout_ms);  // EINTR: the loop checks the interrupt flag
  for (std::size_t i = 0; ready > 0 && i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    Slot& slot = *owners[i];
    char buffer[8192];
    ssize_t n;
    while ((n = ::read(slot.fd, buffer, sizeof buffer)) > 0) consume(slot, std::string_view(buffer, static_cast<std::size_t>(n)));
    if (n == 0) {  // the child closed its end: it is exiting
      int status = 0;
      while (::waitpid(slot.pid, &status, 0) < 0 && errno == EINTR) {
      }
      finish(slot, status, {});
    }
  }
  const std::int64_t after = monotonic_ns();
  for (Slot* slot : owners)
    if ((slot->state == State::measuring || slot->state == State::settling) && after > slot->deadline_ns) {
      const pid_t pid = slot->pid;
      finish(*slot, kill_and_reap(pid),
             "child " + std::to_string(pid) + " stopped (SIGKILL) " +
                 (slot->state == State::settling ? "while settling" : "during the measured phases") +
                 ": it exceeded the per-instance time limit of " + format_duration(options_.timeout) + " beyond the " +
                 format_duration(options_.settle) + " settle period (--timeout)");
    }
}

void Launcher::consume(Slot& slot, std::string_view bytes) {
  slot.pending.append(bytes);
  std::size_t newline;
  while ((newline = slot.pending.find('\n')) != std::string::npos) {
    const std::string line = slot.pending.substr(0, newline);
    slot.pending.erase(0, newline + 1);
    const std::size_t space = line.find(' ');
    const std::string verb = line.substr(0, space);
    const std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
    InstanceResult& result = slot.result;
    if (verb == "counter") {
      const std::size_t split = rest.rfind(' ');
      if (split != std::string::npos) result.counters.emplace_back(rest.substr(0, split), std::strtod(rest.c_str() + split + 1, nullptr));
    } else if (verb == "ready") {
      result.counters.emplace_back("spawn_seconds", static_cast<double>(std::stoll(rest) - slot.fork_ns) / 1e9);
    } else if (verb == "label") {
      result.label = rest;
    } else if (verb == "time") {
      result.measured_seconds = std::strtod(rest.c_str(), nullptr);
    } else if (verb == "settling") {
      if (slot.state == State::measuring) slot.state = State::settling;
    } else if (verb == "error") {
      slot.child_error = rest;
    } else if (verb == "done") {
      slot.saw_done = true;
    }
  }
}

void Launcher::finish(Slot& slot, int status, const std::string& forced_error) {
  ::close(slot.fd);
  slot.fd = -1;
  const std::string child = "child " + std::to_string(slot.pid);
  const char* phase = slot.state == State::settling ? "while settling" : "during the measured phases";
  std::string& error = slot.result.error;
  if (!forced_error.empty()) {
    error = forced_error;
  } else if (WIFSIGNALED(status)) {
    error = child + " killed " + phase + " by " + describe_signal(WTERMSIG(status), slot.oom_kills_at_fork);
  } else if (!slot.child_error.empty()) {
    error = slot.child_error;
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = child + " exited with status " + std::to_string(WEXITSTATUS(status)) + " " + phase;
  } else if (!slot.saw_done) {
    error = child + " exited without reporting its results";
  }
  slot.result.ok = error.empty();
  slot.pid = -1;
  slot.state = State::finished;
}

void Launcher::stop_all() noexcept {
  for (Slot& s : slots_) {
    if (s.pid <= 0) continue;
    kill_and_reap(s.pid);
    if (s.fd >= 0) ::close(s.fd);
    s.fd = -1;
    s.pid = -1;
    s.result.error = "stopped: the run was interrupted";
    s.state = State::finished;
  }
}

}  // namespace bench
