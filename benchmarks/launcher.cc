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

volatile sig_atomic_t g_interrupt = 0;

std::string describe_signal(int signal_number) {
  std::string text = "signal " + std::to_string(signal_number) + " (" + ::strsignal(signal_number) + ")";
  if (signal_number == SIGKILL) text += ": killed from outside, or by the kernel's OOM killer";
  return text;
}

std::string gib(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f GiB", static_cast<double>(bytes) / (1u << 30));
  return text;
}

}  // namespace

void request_interrupt() noexcept { g_interrupt = 1; }
bool interrupt_requested() noexcept { return g_interrupt != 0; }

std::uint64_t available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return 0;
}

Launcher::Launcher(LauncherOptions options) : options_(std::move(options)) {}

Launcher::~Launcher() {
  stop_all();
  if (key_fd_ >= 0) ::close(key_fd_);
}

void Launcher::plan(const std::vector<InstanceSpec>& expected) {
  for (const InstanceSpec& spec : expected) {
    slots_.push_back(Slot{.spec = spec});
    planned_max_size_ = std::max(planned_max_size_, spec.size);
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

bool Launcher::fits_in_memory(const Slot& slot, std::string* refusal) const {
  if (options_.ignore_memory_limit || slot.spec.workload == nullptr) return true;
  const std::uint64_t need = slot.spec.workload->peak_bytes_estimate(slot.spec.size, *slot.spec.configuration);
  const std::uint64_t available = available_memory_bytes();
  if (available == 0) return true;  // cannot tell: do not block the run
  if (need > available / 10 * 9) {
    *refusal = "refused: estimated peak " + gib(need) + " exceeds the " + gib(available) +
               " of memory available (pass --ignore-memory-limit to run it anyway)";
    return false;
  }
  return true;
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
  std::string refusal;
  if (!fits_in_memory(*candidate, &refusal)) {
    candidate->result.error = refusal;
    candidate->state = State::finished;
    return;
  }
  if (candidate != &target && candidate->spec.workload != nullptr && any_alive) {
    // Look-ahead only when it fits beside the children already holding memory.
    const std::uint64_t need = candidate->spec.workload->peak_bytes_estimate(candidate->spec.size, *candidate->spec.configuration);
    if (need * 2 > available_memory_bytes()) return;
  }
  launch(*candidate);
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
  slot.fork_ns = monotonic_ns();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);                       // its own group: the parent stops it (and nothing else)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);    // never outlives a parent that dies
    if (::getppid() != parent) ::_exit(127);
    // Move the descriptors out of the way first, then onto their fixed numbers (dup2 clears CLOEXEC).
    const int result_copy = ::fcntl(pipe_fds[1], F_DUPFD, 10);
    const int key_copy = key_fd >= 0 ? ::fcntl(key_fd, F_DUPFD, 10) : -1;
    ::dup2(result_copy, kChildResultFd);
    if (key_copy >= 0) ::dup2(key_copy, kChildKeyFd);
    ::close(result_copy);
    if (key_copy >= 0) ::close(key_copy);
    ::dup2(STDERR_FILENO, STDOUT_FILENO);  // the parent's stdout carries only its reports
    ::execve(argv[0], argv.data(), envp.data());
    static const char message[] = "error execve failed\n";
    [[maybe_unused]] ssize_t ignored = ::write(kChildResultFd, message, sizeof message - 1);
    ::_exit(127);
  }
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
      ::kill(-slot->pid, SIGKILL);
      int status = 0;
      while (::waitpid(slot->pid, &status, 0) < 0 && errno == EINTR) {
      }
      finish(*slot, status,
             "exceeded the per-instance time limit of " + format_duration(options_.timeout) + " beyond the " +
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
  const char* phase = slot.state == State::settling ? "while settling" : "during the measured phases";
  std::string& error = slot.result.error;
  if (!forced_error.empty()) {
    error = forced_error;
  } else if (WIFSIGNALED(status)) {
    error = "child killed by " + describe_signal(WTERMSIG(status)) + " " + phase;
  } else if (!slot.child_error.empty()) {
    error = slot.child_error;
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = "child exited with status " + std::to_string(WEXITSTATUS(status)) + " " + phase;
  } else if (!slot.saw_done) {
    error = "child exited without reporting its results";
  }
  slot.result.ok = error.empty();
  slot.pid = -1;
  slot.state = State::finished;
}

void Launcher::stop_all() noexcept {
  for (Slot& s : slots_) {
    if (s.pid <= 0) continue;
    ::kill(-s.pid, SIGKILL);
    int status = 0;
    while (::waitpid(s.pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (s.fd >= 0) ::close(s.fd);
    s.fd = -1;
    s.pid = -1;
    s.result.error = "stopped: the run was interrupted";
    s.state = State::finished;
  }
}

}  // namespace bench
