#include "benchmarks/driver/command.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <utility>

#include "allocators/glibc.h"
#include "benchmarks/driver/units.h"
#include "benchmarks/measure/clock.h"

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
  for (std::string_view prefix : {"MALLOC_", "MIMALLOC_", "TCMALLOC_", "SCUDO_", "TBB_MALLOC_", "TBBMALLOC_", "BENCH_"})
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

// The counters a program's row always has; a figure the program reports may not reuse a name.
bool reserved_counter(std::string_view name) {
  static const std::set<std::string_view> kReserved = {"wall_seconds",
                                                       "user_seconds",
                                                       "sys_seconds",
                                                       "minflt",
                                                       "majflt",
                                                       "max_rss",
                                                       "hwm_peak",
                                                       "rss_peak",
                                                       "rss_mean",
                                                       "rss_integral_mb_s",
                                                       "rss_end",
                                                       "private_dirty_end",
                                                       "lazyfree_end",
                                                       "anonymous_end",
                                                       "exit_status",
                                                       "sample_count",
                                                       "processes_measured",
                                                       "descendants_stopped",
                                                       "samples_torn",
                                                       "heaptrack_bytes",
                                                       "pss_end"};
  return kReserved.count(name) != 0 || name.starts_with("rss_") || name.ends_with("_seconds") || name.ends_with("_cpu_s");
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

std::string command_preload(const Configuration& configuration) {
  return configuration.library->preloaded ? std::string(configuration.library->preload_path) : glibc::libc_path();
}

std::vector<std::string> command_environment(char** caller_environment, const Configuration& configuration,
                                             const std::vector<std::string>& extra, const std::string& interposer) {
  std::vector<std::string> environment;
  for (char** entry = caller_environment; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (!chooses_an_allocator(text.substr(0, text.find('=')))) environment.emplace_back(text);
  }
  environment.insert(environment.end(), extra.begin(), extra.end());
  for (const EnvironmentVariable& variable : configuration.environment)
    environment.push_back(std::string(variable.name) + "=" + std::string(variable.value));
  environment.push_back("LD_PRELOAD=" + (interposer.empty() ? std::string() : interposer + ":") + command_preload(configuration));
  return environment;
}

const std::vector<ProcessEntry>& ProgramWatch::table(std::int64_t now_ns) {
  // Scanning /proc is the costliest part of a sample (a file per process on the machine): at most
  // every 50 ms, and afresh at each phase and at the end. Between scans the members known stay
  // measured; a new descendant is found by the next scan.
  if (table_ns_ < 0 || now_ns - table_ns_ > 50'000'000) {
    table_ = read_process_table();
    table_ns_ = now_ns;
  }
  return table_;
}

CommandRun::CommandRun(const CommandOptions& options, const Configuration& configuration, const std::string& output_stem,
                       ProgramWatch& watch)
    : configuration_(configuration),
      options_(options),
      watch_(watch),
      preload_(command_preload(configuration)),
      tree_(-1),
      stem_(output_stem) {
  // The libraries /proc/<pid>/maps is searched for, resolved once.
  for (const Configuration& other : configurations())
    if (other.library->preloaded && !other.library->preload_path.empty()) {
      const std::string path = canonical(std::string(other.library->preload_path));
      if (std::find(malloc_libraries_.begin(), malloc_libraries_.end(), path) == malloc_libraries_.end()) malloc_libraries_.push_back(path);
    }

  // A folder of its own for what the program must put somewhere (a server's socket), removed after.
  char scratch[] = "/tmp/bench-program-XXXXXX";
  if (::mkdtemp(scratch) == nullptr) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  scratch_directory_ = scratch;
  std::vector<std::string> extra = options.environment;
  extra.push_back(std::string(kProgramReportFdVariable) + "=" + std::to_string(kProgramReportFd));
  extra.push_back("BENCH_SCRATCH_DIR=" + scratch_directory_);
  if (options.heap_map || options.record) {
    // Every process of the tree loads the interposer: the heap map's processes listen for their
    // phases' snapshots and take one when they exit; the recorded ones each fill a ring.
    interposition_ =
        std::make_unique<Interposition>(InterpositionOptions{.heap_map = options.heap_map,
                                                             .record = options.record,
                                                             .settings = options.recording,
                                                             .row_directory = options.recording.trace_directory + "/" + output_stem,
                                                             .program = true});
    extra.insert(extra.end(), interposition_->environment().begin(), interposition_->environment().end());
  }
  if (interposition_) front_preload_ = kInterposer;
  std::string program = options.program;
  std::vector<std::string> arguments = options.argv;
  if (options.heaptrack) {
    // heaptrack's script runs the program with its own library first in LD_PRELOAD and its
    // interpreter beside it; the program is what is measured (its name: comm's 15 bytes).
    if (::access(kHeaptrack, X_OK) != 0) throw std::runtime_error(std::string(kHeaptrack) + " is not installed (Debian package heaptrack)");
    const std::string directory = options.recording.trace_directory + "/" + output_stem;
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error) throw std::runtime_error("cannot create " + directory + ": " + error.message());
    arguments = {"heaptrack", "-o", directory + "/heaptrack", options.program};
    arguments.insert(arguments.end(), options.argv.begin() + 1, options.argv.end());
    program = kHeaptrack;
    if (options_.measure.empty()) options_.measure = options.program.substr(options.program.rfind('/') + 1).substr(0, 15);
    front_preload_ = kHeaptrackPreload;
  }
  // heaptrack's script puts its library first in LD_PRELOAD itself.
  const std::vector<std::string> environment =
      command_environment(::environ, configuration, extra, options.heaptrack ? std::string() : front_preload_);

  if (!options.output_directory.empty()) {
    stdout_path_ = options.output_directory + "/" + output_stem + ".stdout";
    stderr_path_ = options.output_directory + "/" + output_stem + ".stderr";
  }
  // Each descriptor closes itself on any way out of here; the row's reaper hands copies to the program.
  const Descriptor input(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const Descriptor output(open_output(stdout_path_));
  const Descriptor errors(open_output(stderr_path_));
  int socket_fds[2];
  if (input.fd < 0) throw std::runtime_error(std::string("cannot open /dev/null: ") + std::strerror(errno));
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, socket_fds) != 0)
    throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
  Descriptor report_parent(socket_fds[0]);
  const Descriptor report_child(socket_fds[1]);
  reaper_ = std::make_unique<RowReaper>(ProgramLaunch{.program = program,
                                                      .argv = arguments,
                                                      .envp = environment,
                                                      .input = input.fd,
                                                      .output = output.fd,
                                                      .errors = errors.fd,
                                                      .report = report_child.fd,
                                                      .report_number = kProgramReportFd});
  // The first sample comes after execve: it reads the program, never the reaper's fork copy.
  pid_ = reaper_->program_pid();
  exec_errno_ = reaper_->exec_errno();
  tree_ = ProcessTree(reaper_->reaper_pid());
  start_ns_ = monotonic_ns();
  last_phase_ns_ = start_ns_;
  report_fd_ = report_parent.release();
  ::fcntl(report_fd_, F_SETFL, O_NONBLOCK);
  next_sample_ns_ = start_ns_ + dense_offset_ns(0);
}

CommandRun::~CommandRun() {
  reaper_.reset();  // stops and reaps whatever of the row still runs
  if (report_fd_ >= 0) ::close(report_fd_);
  interposition_.reset();
  for (const std::string& directory : {scratch_directory_})
    if (!directory.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(directory, ignored);
    }
}

std::vector<pid_t> CommandRun::row_pids() const {
  std::vector<pid_t> pids;
  for (const ProcessEntry& e : tree_.alive())
    if (e.state != 'Z') pids.push_back(e.pid);
  return pids;
}

std::vector<pid_t> CommandRun::measured_pids() {
  std::vector<pid_t> pids;
  std::set<pid_t> chosen;
  for (const ProcessEntry& e : tree_.alive()) {
    if (e.state == 'Z') continue;
    // With a name: the processes of that name and their descendants (the tree lists parents first).
    if (options_.measure.empty() || e.name == options_.measure || chosen.count(e.parent) != 0) {
      chosen.insert(e.pid);
      pids.push_back(e.pid);
    }
  }
  return pids;
}

bool CommandRun::take_sample(std::int64_t now) {
  tree_.update(watch_.table(now));
  measured_ = measured_pids();
  // A process that has begun to exit is left out: the kernel is freeing its memory, and what it
  // holds then stands for nothing. One that begins to exit while it is read spoils the sample.
  std::vector<pid_t> running;
  for (pid_t pid : measured_) {
    const std::optional<ProcessEntry> entry = read_process_entry(pid);
    if (entry && !entry->exiting()) running.push_back(pid);
  }
  if (running.empty()) return false;
  const TreeMemory memory = read_tree_memory(running);
  std::vector<pid_t> read;
  for (pid_t pid : running) {
    const std::optional<ProcessEntry> entry = read_process_entry(pid);
    if (!entry || entry->exiting()) {
      ++samples_torn_;
      return false;
    }
    read.push_back(pid);
  }
  if (memory.processes == 0) return false;  // exited meanwhile
  for (auto& [pid, track] : tracks_)
    if (track.gone_ns < 0 && std::find(read.begin(), read.end(), pid) == read.end()) track.gone_ns = now;
  samples_.push_back({static_cast<double>(now - start_ns_) / 1e9, static_cast<double>(memory.rss)});
  sample_memory_.push_back(memory);
  last_memory_ = memory;
  for (pid_t pid : read) {
    Track& track = tracks_[pid];
    track.high_water_mark = std::max(track.high_water_mark, read_high_water_mark(pid).value_or(0));
    track.last_sample = static_cast<int>(samples_.size()) - 1;
    high_water_mark_ = std::max(high_water_mark_, track.high_water_mark);
    // Named as it is now: a fork of the shell that execve'd the program is the program from then
    // on, and what serves it is verified afresh.
    Verification& v = verifications_[pid];
    for (const ProcessEntry& e : tree_.alive())
      if (e.pid == pid && e.name != v.name) v = Verification{.name = e.name, .inspections = 0, .verdict = {}, .confirmed = false};
    // Which allocator serves it: at each of its first 20 readings (the loader maps the libraries at
    // its start), then at every 10th, until it is known. "Not served" is looked at twice: a process
    // read from outside while it rewrites its environment block (a server setting its title) or
    // while it is between fork and execve can look unserved for a moment.
    const bool unconfirmed = v.verdict.conclusive && !v.verdict.served && !v.confirmed;
    if ((!v.verdict.conclusive && (v.inspections < 20 || sample_index_ % 10 == 0)) || unconfirmed) {
      ++v.inspections;
      ProcessVerdict verdict = verify_process(pid, configuration_, preload_, malloc_libraries_, front_preload_,
                                              interposition_ ? interposition_->forward_directory() : std::string());
      v.confirmed = unconfirmed && verdict.conclusive && !verdict.served;
      if (!unconfirmed || verdict.conclusive) v.verdict = std::move(verdict);
    }
  }
  return true;
}

bool CommandRun::on_exit_readable(std::int64_t now) {
  if (!reaper_) return true;
  reaper_->on_readable();
  return over(now);
}

bool CommandRun::over_after_sample(std::int64_t now) { return reaper_ && (reaper_->program_exit() || reaper_->reaper_lost()) && over(now); }

bool CommandRun::over(std::int64_t now) {
  if (reaper_->reaper_lost()) return true;
  if (!reaper_->program_exit()) return false;
  if (options_.measure.empty()) return true;
  // A launcher that daemonized its server: the row lasts while a measured process runs — and, until
  // one has been seen, while anything of the row runs (the server may not have called execve yet).
  watch_.forget_table();
  tree_.update(watch_.table(now));
  if (!measured_pids().empty()) return false;
  const bool seen =
      std::any_of(verifications_.begin(), verifications_.end(), [&](const auto& v) { return v.second.name == options_.measure; });
  return seen || std::all_of(tree_.alive().begin(), tree_.alive().end(), [](const ProcessEntry& e) { return e.exiting(); });
}

double CommandRun::measured_cpu_seconds() const {
  double total = 0;
  for (pid_t pid : measured_) total += read_cpu_seconds(pid).value_or(0);
  return total;
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

void CommandRun::on_report_readable(std::int64_t now) {
  if (report_fd_ < 0) return;
  char buffer[8192];
  ssize_t n = 0;
  while (protocol_limit_.empty() && (n = ::read(report_fd_, buffer, sizeof buffer)) > 0)
    for (const ProgramMessage& message : reader_.consume(std::string_view(buffer, static_cast<std::size_t>(n)), now)) handle(message, now);
  if (!protocol_limit_.empty() && report_fd_ >= 0) {  // past a bound: nothing more is read from it
    ::shutdown(report_fd_, SHUT_RDWR);
    ::close(report_fd_);
    report_fd_ = -1;
    return;
  }
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {  // every holder of the program's end closed it
    ::close(report_fd_);
    report_fd_ = -1;
  }
}

void CommandRun::handle(const ProgramMessage& message, std::int64_t now) {
  switch (message.kind) {
    case ProgramMessage::Kind::over_limit: protocol_limit_ = message.text; return;
    case ProgramMessage::Kind::malformed:
      if (protocol_error_.empty())
        protocol_error_ = "the program broke the report protocol (protocol/program_protocol.h): '" + message.text + "'";
      return;
    case ProgramMessage::Kind::error:
      if (program_error_.empty()) program_error_ = message.text;
      return;
    case ProgramMessage::Kind::counter:
      if (reserved_counter(message.counter->name)) {
        if (protocol_error_.empty())
          protocol_error_ = "the program reported a counter named " + message.text + ", a name bench uses itself";
      } else {
        std::erase_if(program_counters_, [&](const CounterValue& c) { return c.name == message.counter->name; });
        program_counters_.push_back(*message.counter);
      }
      return;
    case ProgramMessage::Kind::phase: break;
  }
  const std::string& name = message.text;
  const bool expected = options_.phases.empty() || (next_phase_ < options_.phases.size() && options_.phases[next_phase_] == name);
  const bool repeated = std::any_of(phase_marks_.begin(), phase_marks_.end(), [&](const auto& mark) { return mark.first == name; });
  if ((!expected || repeated) && protocol_error_.empty())
    protocol_error_ = "phase " + name + " came " +
                      (repeated                               ? std::string("twice")
                       : next_phase_ < options_.phases.size() ? "where phase " + options_.phases[next_phase_] + " was expected"
                                                              : std::string("after the last phase the scenario lists"));
  watch_.forget_table();  // the process table as it is now: a server the program just started counts
  if (!take_sample(now)) {
    if (program_error_.empty())
      program_error_ = "at phase " + name + " no " +
                       (options_.measure.empty() ? std::string("process of the program") : "process named " + options_.measure) +
                       " was running";
  } else {
    const double seconds = static_cast<double>(now - start_ns_) / 1e9;
    phase_marks_.emplace_back(name, seconds);
    phase_counters_.push_back({"rss_" + name, static_cast<double>(last_memory_.rss), Unit::bytes});
    const bool timed = options_.phases.empty() ? !settling_ : next_phase_ < options_.timed_phases;
    const double cpu = measured_cpu_seconds();
    if (timed) {
      phase_counters_.push_back({name + "_seconds", static_cast<double>(now - last_phase_ns_) / 1e9, Unit::seconds});
      phase_counters_.push_back({name + "_cpu_s", std::max(0.0, cpu - last_phase_cpu_), Unit::seconds});
    }
    last_phase_ns_ = now;
    last_phase_cpu_ = cpu;
    if (options_.heap_map) request_heap_maps(name);
    if (interposition_) interposition_->phase(name, measured_);
  }
  if (expected && !repeated) ++next_phase_;
  if (!options_.phases.empty() && next_phase_ >= options_.timed_phases) settling_ = true;
  const std::string answer = "ok " + name + "\n";
  if (report_fd_ >= 0) {
    [[maybe_unused]] const ssize_t ignored = ::send(report_fd_, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
}

// Asks the interposer of every measured process for its snapshot `moment` and waits for each answer
// (bounded: 30 s a process; a process that has none, or exits meanwhile, is skipped).
void CommandRun::request_heap_maps(const std::string& moment) {
  for (pid_t pid : measured_) {
    const std::string path = interposition_->heap_map_directory() + "/" + std::to_string(pid) + ".sock";
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path) continue;
    std::memcpy(address.sun_path, path.c_str(), path.size());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const timeval limit{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      const std::string request = "snapshot " + moment + "\n";
      if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
        char answer[128];
        [[maybe_unused]] const ssize_t n = ::recv(fd, answer, sizeof answer, 0);
      }
    }
    ::close(fd);
  }
}

CommandOutcome CommandRun::finish(const std::string& forced_error) {
  CommandOutcome outcome;
  if (pid_ <= 0) {
    outcome.error = "the program was already reaped";
    return outcome;
  }
  const std::int64_t end = monotonic_ns();
  on_report_readable(end);  // what it wrote just before it exited
  // Everything of the row still running is stopped now (the program too, when it is forced).
  stopped_ = reaper_->end();
  const bool lost = reaper_->reaper_lost() && !reaper_->program_exit();
  const ProgramExit exit = reaper_->program_exit().value_or(ProgramExit{});
  const int status = exit.status;
  const rusage& usage = exit.usage;
  const pid_t pid = pid_;
  pid_ = -1;
  outcome.wall_seconds = static_cast<double>(end - start_ns_) / 1e9;
  // Every process of the row is gone: what the interposer's observers left.
  InterpositionReading interposed = interposition_ ? interposition_->finish() : InterpositionReading{};

  const std::string outputs =
      stderr_path_.empty() ? std::string(" (its output was discarded)") : " (its standard error: " + stderr_path_ + ")";
  std::string not_served;
  int verified = 0;
  std::set<std::string> names, others;
  for (const auto& [process, v] : verifications_) {
    if (!v.verdict.conclusive) continue;
    if (!v.verdict.served && not_served.empty())
      not_served = "not served by " + std::string(configuration_.name) + ": " + v.name + " (pid " + std::to_string(process) + ") " +
                   v.verdict.reason;
    if (v.verdict.served) {
      ++verified;
      names.insert(v.name);
      others.insert(v.verdict.other_malloc_libraries.begin(), v.verdict.other_malloc_libraries.end());
    }
  }
  if (exec_errno_ != 0) {
    outcome.error = "cannot execute " + options_.program + ": " + std::strerror(exec_errno_);
  } else if (!forced_error.empty()) {
    outcome.error = "program " + std::to_string(pid) + " " + forced_error;
  } else if (lost) {
    outcome.error = "the row's reaper (pid " + std::to_string(reaper_->reaper_pid()) +
                    ") ended before the program did (killed from outside?): the program's exit was not seen";
  } else if (!protocol_limit_.empty()) {
    outcome.error = protocol_limit_;
  } else if (WIFSIGNALED(status)) {
    outcome.error = "program " + std::to_string(pid) + " was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                    ::strsignal(WTERMSIG(status)) + ")" + outputs;
  } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    outcome.error = "program exited with status " + std::to_string(WEXITSTATUS(status)) +
                    (program_error_.empty() ? "" : " after reporting: " + program_error_) + outputs;
  } else if (!program_error_.empty()) {
    outcome.error = "the program reported an error: " + program_error_;
  } else if (!protocol_error_.empty()) {
    outcome.error = protocol_error_;
  } else if (next_phase_ < options_.phases.size()) {
    outcome.error = "the program exited before it reported phase " + options_.phases[next_phase_];
  } else if (!not_served.empty()) {
    outcome.error = not_served;
  } else if (!interposed.error.empty()) {
    outcome.error = interposed.error;
  } else if (!options_.measure.empty() && verifications_.empty()) {
    outcome.error = "no process named " + options_.measure + " ran in the program's tree (--measure)";
  }
  if (!outcome.error.empty()) return outcome;

  double integral = 0, sampled_peak = 0;
  for (std::size_t i = 0; i < samples_.size(); ++i) {
    sampled_peak = std::max(sampled_peak, samples_[i].rss_bytes);
    if (i > 0) integral += (samples_[i].seconds - samples_[i - 1].seconds) * (samples_[i].rss_bytes + samples_[i - 1].rss_bytes) / 2;
  }
  // The kernel's high-water marks see what sampling misses between two samples. wait4's maxrss is the
  // program's own (and its waited-for children's): only a peak of what is measured without --measure.
  const double max_rss = static_cast<double>(usage.ru_maxrss) * 1024;  // getrusage(2): kilobytes
  const double high_water = std::max(static_cast<double>(high_water_mark_), options_.measure.empty() ? max_rss : 0.0);
  auto add = [&](const char* name, double value, Unit unit) { outcome.counters.push_back({name, value, unit}); };
  add("wall_seconds", outcome.wall_seconds, Unit::seconds);
  add("user_seconds", seconds_of(usage.ru_utime), Unit::seconds);
  add("sys_seconds", seconds_of(usage.ru_stime), Unit::seconds);
  add("minflt", static_cast<double>(usage.ru_minflt), Unit::count);
  add("majflt", static_cast<double>(usage.ru_majflt), Unit::count);
  add("max_rss", max_rss, Unit::bytes);
  add("hwm_peak", high_water, Unit::bytes);
  add("rss_peak", std::max(sampled_peak, high_water), Unit::bytes);
  // The end: the last sample that read the measured process with the largest peak alive.
  pid_t end_pid = -1;
  for (const auto& [process, track] : tracks_) {
    const bool named = options_.measure.empty() || verifications_[process].name == options_.measure;
    if (named && track.last_sample >= 0 && (end_pid < 0 || track.high_water_mark > tracks_[end_pid].high_water_mark)) end_pid = process;
  }
  if (!samples_.empty() && end_pid > 0) {
    const Track& track = tracks_[end_pid];
    const TreeMemory& at_end = sample_memory_[static_cast<std::size_t>(track.last_sample)];
    const double span = samples_.back().seconds - samples_.front().seconds;
    // Until it was seen gone (a later sample without it) or the row ended: how stale the end can be.
    const std::int64_t gone = track.gone_ns >= 0 ? track.gone_ns : end;
    add("rss_mean", span > 0 ? integral / span : samples_.front().rss_bytes, Unit::bytes);
    add("rss_integral_mb_s", integral / 1e6, Unit::megabyte_seconds);
    add("rss_end", static_cast<double>(at_end.rss), Unit::bytes);
    add("pss_end", static_cast<double>(at_end.pss_sum), Unit::bytes);
    add("anonymous_end", static_cast<double>(at_end.anonymous), Unit::bytes);
    add("private_dirty_end", static_cast<double>(at_end.private_dirty), Unit::bytes);
    add("lazyfree_end", static_cast<double>(at_end.lazy_free), Unit::bytes);
    add("end_sample_age_seconds",
        static_cast<double>(gone - start_ns_) / 1e9 - samples_[static_cast<std::size_t>(track.last_sample)].seconds, Unit::seconds);
  }
  add("samples_torn", static_cast<double>(samples_torn_), Unit::count);
  add("exit_status", 0, Unit::count);
  add("sample_count", static_cast<double>(samples_.size()), Unit::count);
  add("processes_measured", static_cast<double>(verifications_.size()), Unit::count);
  add("descendants_stopped", static_cast<double>(stopped_.size()), Unit::count);
  outcome.counters.insert(outcome.counters.end(), phase_counters_.begin(), phase_counters_.end());
  outcome.counters.insert(outcome.counters.end(), program_counters_.begin(), program_counters_.end());
  for (const CounterValue& c : program_counters_) outcome.program_counters.push_back(c.name);
  outcome.samples = std::move(samples_);
  outcome.phases = std::move(phase_marks_);
  outcome.counters.insert(outcome.counters.end(), interposed.counters.begin(), interposed.counters.end());
  if (options_.heaptrack) {  // what heaptrack wrote (its interpreter's output, compressed)
    std::error_code error;
    std::uintmax_t bytes = 0;
    for (const auto& entry : std::filesystem::directory_iterator(options_.recording.trace_directory + "/" + stem_, error))
      if (entry.path().filename().string().starts_with("heaptrack.")) bytes += entry.file_size(error);
    add("heaptrack_bytes", static_cast<double>(bytes), Unit::bytes);
  }
  outcome.heap_maps = std::move(interposed.heap_maps);
  outcome.trace_maps = std::move(interposed.trace_maps);

  std::string label = "malloc=" + preload_ + " (";
  if (verified > 0) {
    std::string list;
    for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
    label += "verified in " + std::to_string(verified) + " measured process" + (verified == 1 ? "" : "es") + ": " + list +
             " (their calls to malloc resolve to it: read from their GOT)";
  } else {
    label += "not verified: the row ended after " + std::to_string(static_cast<int>(outcome.wall_seconds * 1e3)) +
             " ms, before any measured process had its libraries mapped and had called malloc";
  }
  label += ")";
  if (!others.empty()) {
    std::string list;
    for (const std::string& o : others) list += (list.empty() ? "" : ", ") + o;
    label += "; also mapped: " + list + " (linked by the program: LD_PRELOAD puts " + std::string(configuration_.library->name) +
             "'s malloc ahead of it; calls only it provides, such as mallctl, still reach it)";
  }
  if (end_pid > 0 && tracks_.size() > 1)
    label += "; the end is " + verifications_[end_pid].name + " (pid " + std::to_string(end_pid) + ")'s last sample, the largest peak";
  if (std::string_view(last_memory_.method) != "single")
    label += "; RSS of several processes: " + std::string(last_memory_.method) + " (a page they share counted once)";
  if (!stopped_.empty()) {
    std::string list;
    for (const std::string& s : stopped_) list += (list.empty() ? "" : ", ") + s;
    label += "; stopped when the row ended: " + list;
  }
  for (const std::string& note : interposed.notes) label += "; " + note;
  if (interposition_ && interposition_->records()) label += "; recorded into " + options_.recording.trace_directory + "/" + stem_;
  outcome.label = label;
  outcome.ok = true;
  return outcome;
}

}  // namespace bench
