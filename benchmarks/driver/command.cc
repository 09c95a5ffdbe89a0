#include "benchmarks/driver/command.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <utility>

#include "benchmarks/driver/units.h"
#include "benchmarks/measure/clock.h"
#include "benchmarks/measure/memory.h"

namespace bench {
namespace {

bool executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// A descriptor closed when it goes out of scope, unless released.
struct Descriptor {
  explicit Descriptor(int descriptor) : fd(descriptor) {}
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int release() { return std::exchange(fd, -1); }
  int fd;
};

std::string canonical(const std::string& path) {
  char resolved[PATH_MAX];
  return ::realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : path;
}

bool chooses_an_allocator(std::string_view variable_name) {
  for (std::string_view exact : {"LD_PRELOAD", "GLIBC_TUNABLES"})
    if (variable_name == exact) return true;
  for (std::string_view prefix : {"MALLOC_", "MIMALLOC_", "TCMALLOC_", "SCUDO_", "TBB_MALLOC_", "TBBMALLOC_"})
    if (variable_name.starts_with(prefix)) return true;
  for (const Configuration& c : configurations())
    for (const EnvironmentVariable& v : c.environment)
      if (variable_name == v.name) return true;
  return false;
}

// Offset of the k-th dense sample (k = 0: 1 ms), in ns: 10 per decade, as the settle timeline.
std::int64_t dense_offset_ns(int k) { return std::llround(1e6 * std::pow(10.0, k / 10.0)); }

double seconds_of(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }

int open_output(const std::string& path) {
  if (path.empty()) return ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno) + " (an existing file is never replaced)");
  return fd;
}

}  // namespace

std::string resolve_program(const std::string& program) {
  if (program.empty()) throw UsageError("the program after -- is empty");
  if (program.find('/') != std::string::npos) {
    if (!executable_file(program)) throw UsageError("program " + program + " does not exist or is not an executable file");
    return program;
  }
  const char* path = std::getenv("PATH");
  const std::string search = path != nullptr && *path != '\0' ? path : "/bin:/usr/bin";  // execvp's default
  std::size_t start = 0;
  while (start <= search.size()) {
    const std::size_t colon = search.find(':', start);
    std::string directory = search.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (directory.empty()) directory = ".";
    if (const std::string candidate = directory + "/" + program; executable_file(candidate)) return candidate;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  throw UsageError("program " + program + " was not found in PATH (" + search + ")");
}

std::vector<std::string> command_environment(char** caller_environment, const Configuration& configuration) {
  std::vector<std::string> environment;
  for (char** entry = caller_environment; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (!chooses_an_allocator(text.substr(0, text.find('=')))) environment.emplace_back(text);
  }
  for (const EnvironmentVariable& variable : configuration.environment)
    environment.push_back(std::string(variable.name) + "=" + std::string(variable.value));
  if (configuration.library->preloaded) environment.push_back("LD_PRELOAD=" + std::string(configuration.library->preload_path));
  return environment;
}

CommandRun::CommandRun(const CommandOptions& options, const Configuration& configuration, const std::string& output_stem)
    : configuration_(configuration), options_(options) {
  // The libraries /proc/<pid>/maps is searched for, resolved once: the sampling must stay cheap,
  // since the parent runs beside the program it measures.
  if (configuration.library->preloaded) own_library_ = canonical(std::string(configuration.library->preload_path));
  for (const Configuration& other : configurations())
    if (other.library->preloaded && !other.library->preload_path.empty()) {
      const std::string path = canonical(std::string(other.library->preload_path));
      if (path != own_library_ && std::find(malloc_libraries_.begin(), malloc_libraries_.end(), path) == malloc_libraries_.end())
        malloc_libraries_.push_back(path);
    }

  std::vector<std::string> environment = command_environment(::environ, configuration);
  std::vector<std::string> arguments = options.argv;
  std::vector<char*> argv, envp;
  for (std::string& a : arguments) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);

  if (!options.output_directory.empty()) {
    stdout_path_ = options.output_directory + "/" + output_stem + ".stdout";
    stderr_path_ = options.output_directory + "/" + output_stem + ".stderr";
  }
  // Each descriptor closes itself on any way out of here; the child's copies are what it keeps.
  const Descriptor input(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const Descriptor output(open_output(stdout_path_));
  const Descriptor errors(open_output(stderr_path_));
  int pipe_fds[2];
  if (input.fd < 0 || ::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("cannot prepare the program's descriptors: ") + std::strerror(errno));
  Descriptor exec_error_read(pipe_fds[0]);
  const Descriptor exec_error_write(pipe_fds[1]);
  const pid_t parent = ::getpid();
  const std::string program = options.program;
  start_ns_ = monotonic_ns();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::signal(SIGPIPE, SIG_DFL);
    // Out of the way first (the parent's own 0, 1 or 2 may be closed, and one of these sit there),
    // then onto 0, 1 and 2 (dup2 clears close-on-exec); nothing else of the parent's reaches the
    // program.
    const int in = ::fcntl(input.fd, F_DUPFD_CLOEXEC, 10);
    const int out = ::fcntl(output.fd, F_DUPFD_CLOEXEC, 10);
    const int err = ::fcntl(errors.fd, F_DUPFD_CLOEXEC, 10);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execve(program.c_str(), argv.data(), envp.data());
    const int error = errno;
    [[maybe_unused]] ssize_t ignored = ::write(exec_error_write.fd, &error, sizeof error);
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  pid_ = pid;
  exec_error_fd_ = exec_error_read.release();
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd_ < 0) {
    const std::string reason = std::strerror(errno);
    finish("pidfd_open failed: " + reason);
    ::close(exec_error_fd_);
    throw std::runtime_error("pidfd_open failed (Linux >= 5.3 is needed to watch a program): " + reason);
  }
  next_sample_ns_ = start_ns_ + dense_offset_ns(0);
}

CommandRun::~CommandRun() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  for (int fd : {pidfd_, exec_error_fd_})
    if (fd >= 0) ::close(fd);
}

void CommandRun::sample_if_due(std::int64_t now) {
  if (pid_ <= 0 || now < next_sample_ns_) return;
  take_sample(now);
  // Dense while the log-spaced offsets are closer than --sample-every, then every --sample-every.
  ++sample_index_;
  const std::int64_t step = dense_offset_ns(sample_index_) - dense_offset_ns(sample_index_ - 1);
  if (step <= options_.sample_every.count())
    next_sample_ns_ = start_ns_ + dense_offset_ns(sample_index_);
  else
    next_sample_ns_ += options_.sample_every.count();
  if (next_sample_ns_ <= now) next_sample_ns_ = now + 1'000'000;  // fell behind: do not sample in a burst
}

void CommandRun::take_sample(std::int64_t now) {
  const std::optional<SmapsRollup> smaps = read_smaps_rollup(pid_);
  if (!smaps || smaps->rss == 0) return;  // exited (a zombie has no memory), or not readable
  samples_.push_back({static_cast<double>(now - start_ns_) / 1e9, static_cast<double>(smaps->rss)});
  private_dirty_end_ = smaps->private_dirty;
  lazy_free_end_ = smaps->lazy_free;
  // Which malloc libraries are mapped: at every one of the first 20 samples (the program's start,
  // where the dynamic linker maps them), then at every 10th (a library loaded later).
  if (sample_index_ < 20 || sample_index_ % 10 == 0) inspect_maps();
}

void CommandRun::inspect_maps() {
  std::ifstream maps("/proc/" + std::to_string(pid_) + "/maps");
  for (std::string line; std::getline(maps, line);) {
    const std::size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string_view path = std::string_view(line).substr(slash);
    if (!own_library_.empty() && path == own_library_) saw_library_ = true;
    for (const std::string& other : malloc_libraries_)
      if (path == other) foreign_malloc_library_ = other;
  }
  if (own_library_.empty()) saw_library_ = true;  // glibc: the process default, once it runs
}

CommandOutcome CommandRun::finish(const std::string& forced_error) {
  CommandOutcome outcome;
  if (pid_ <= 0) {
    outcome.error = "the program was already reaped";
    return outcome;
  }
  const std::int64_t end = monotonic_ns();
  if (!forced_error.empty()) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
  }
  int status = 0;
  rusage usage{};
  while (::wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  const pid_t pid = pid_;
  pid_ = -1;
  int exec_errno = 0;
  const bool exec_failed = ::read(exec_error_fd_, &exec_errno, sizeof exec_errno) == static_cast<ssize_t>(sizeof exec_errno);
  outcome.wall_seconds = static_cast<double>(end - start_ns_) / 1e9;

  const std::string outputs =
      stderr_path_.empty() ? std::string(" (its output was discarded)") : " (its standard error: " + stderr_path_ + ")";
  if (exec_failed) {
    outcome.error = "cannot execute " + options_.program + ": " + std::strerror(exec_errno);
  } else if (!forced_error.empty()) {
    outcome.error = "program " + std::to_string(pid) + " " + forced_error;
  } else if (WIFSIGNALED(status)) {
    outcome.error = "program " + std::to_string(pid) + " was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                    ::strsignal(WTERMSIG(status)) + ")" + outputs;
  } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    outcome.error = "program exited with status " + std::to_string(WEXITSTATUS(status)) + outputs;
  } else if (samples_.empty()) {
    outcome.error = "program exited after " + std::to_string(outcome.wall_seconds * 1e3) +
                    " ms, before its memory could be sampled (the first sample is at 1 ms)";
  } else if (!saw_library_) {
    outcome.error = std::string(configuration_.library->preload_path) +
                    " never appeared in the program's /proc/<pid>/maps: it was not served by the configuration's allocator "
                    "(a statically linked program, or one that clears LD_PRELOAD?)";
  } else if (!foreign_malloc_library_.empty()) {
    outcome.error = "the program mapped " + foreign_malloc_library_ + " besides the configuration's allocator: not a clean " +
                    std::string(configuration_.name) + " row";
  }
  if (!outcome.error.empty()) return outcome;

  double integral = 0, peak = 0;
  for (std::size_t i = 0; i < samples_.size(); ++i) {
    peak = std::max(peak, samples_[i].rss_bytes);
    if (i > 0) integral += (samples_[i].seconds - samples_[i - 1].seconds) * (samples_[i].rss_bytes + samples_[i - 1].rss_bytes) / 2;
  }
  const double span = samples_.back().seconds - samples_.front().seconds;
  auto add = [&](const char* name, double value, Unit unit) { outcome.counters.push_back({name, value, unit}); };
  add("wall_seconds", outcome.wall_seconds, Unit::seconds);
  add("user_seconds", seconds_of(usage.ru_utime), Unit::seconds);
  add("sys_seconds", seconds_of(usage.ru_stime), Unit::seconds);
  add("minflt", static_cast<double>(usage.ru_minflt), Unit::count);
  add("majflt", static_cast<double>(usage.ru_majflt), Unit::count);
  add("max_rss", static_cast<double>(usage.ru_maxrss) * 1024, Unit::bytes);  // getrusage(2): kilobytes
  add("rss_peak", peak, Unit::bytes);
  add("rss_mean", span > 0 ? integral / span : samples_.front().rss_bytes, Unit::bytes);
  add("rss_integral_mb_s", integral / 1e6, Unit::megabyte_seconds);
  add("rss_end", samples_.back().rss_bytes, Unit::bytes);
  add("private_dirty_end", static_cast<double>(private_dirty_end_), Unit::bytes);
  add("lazyfree_end", static_cast<double>(lazy_free_end_), Unit::bytes);
  add("exit_status", 0, Unit::count);
  add("sample_count", static_cast<double>(samples_.size()), Unit::count);
  outcome.samples = std::move(samples_);
  outcome.label =
      configuration_.library->preloaded
          ? "malloc=" + canonical(std::string(configuration_.library->preload_path)) + " (mapped in the program: /proc/<pid>/maps)"
          : std::string("malloc=glibc (no other malloc library mapped in the program: /proc/<pid>/maps)");
  outcome.ok = true;
  return outcome;
}

}  // namespace bench
