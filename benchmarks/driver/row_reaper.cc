#include "benchmarks/driver/row_reaper.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>

#include "benchmarks/driver/process_tree.h"
#include "benchmarks/measure/clock.h"

namespace bench {
namespace {

// What the reaper tells ./bench: fixed-size records on a pipe (each write is atomic: < PIPE_BUF).
struct Message {
  enum Kind : std::int32_t { started = 1, exited = 2, stopped = 3, done = 4 };
  std::int32_t kind = 0;
  std::int32_t pid = 0;
  std::int32_t status = 0;
  std::int32_t reserved = 0;
  rusage usage{};
  char name[16] = {};
};

void send(int fd, const Message& m) {
  // EPIPE (./bench is gone) is ignored: the reaper goes on stopping its row.
  while (::write(fd, &m, sizeof m) < 0 && errno == EINTR) {
  }
}

// Closes every descriptor from 3 up, except those in `keep`.
void close_all_but(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned next = 3;
  for (int fd : keep) {
    if (fd < 3) continue;
    if (static_cast<unsigned>(fd) > next) ::close_range(next, static_cast<unsigned>(fd) - 1, 0);
    next = static_cast<unsigned>(fd) + 1;
  }
  ::close_range(next, ~0U, 0);
}

struct ReaperSide {
  int control, events, exec_error;
  pid_t program = -1;
  bool program_reported = false;

  void reap() {
    int status = 0;
    rusage usage{};
    for (pid_t pid; (pid = ::wait4(-1, &status, WNOHANG, &usage)) > 0;)
      if (pid == program && !program_reported) {
        Message m;
        m.kind = Message::exited;
        m.pid = pid;
        m.status = status;
        m.usage = usage;
        send(events, m);
        program_reported = true;
      }
  }

  // Kills every process below this one until none is left; reports each it found running.
  void end_row() {
    const pid_t self = ::getpid();
    std::set<pid_t> counted;
    for (int round = 0; round < 2000; ++round) {
      const std::vector<ProcessEntry> below = descendants(read_process_table(), self);
      for (const ProcessEntry& e : below) {
        if (e.state == 'Z' || e.state == 'X') continue;
        if (e.pid != program && counted.insert(e.pid).second) {
          Message m;
          m.kind = Message::stopped;
          m.pid = e.pid;
          std::strncpy(m.name, e.name.c_str(), sizeof m.name - 1);
          send(events, m);
        }
        ::kill(e.pid, SIGKILL);
      }
      if (program > 0) ::kill(-program, SIGKILL);  // the program's group: a child forked since the scan
      reap();
      if (below.empty()) break;
      const timespec pause{0, 1'000'000};
      ::nanosleep(&pause, nullptr);
    }
    reap();
    Message m;
    m.kind = Message::done;
    send(events, m);
  }
};

[[noreturn]] void reaper_main(const ProgramLaunch& launch, const char* program, char* const* argv, char* const* envp, int control,
                              int events, int exec_error) {
  ::setpgid(0, 0);  // a group of its own: neither the terminal's Ctrl-C nor a kill of the program's group reaches it
  close_all_but({control, events, exec_error, launch.input, launch.output, launch.errors, launch.report});
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, nullptr);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) ::signal(s, SIG_DFL);
  sigset_t child, original;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &child, &original);
  const int signals = ::signalfd(-1, &child, SFD_CLOEXEC | SFD_NONBLOCK);

  ReaperSide side{control, events, exec_error};
  const pid_t reaper = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != reaper) ::_exit(127);
    ::signal(SIGPIPE, SIG_DFL);  // execve keeps an ignored signal ignored
    ::sigprocmask(SIG_SETMASK, &original, nullptr);
    // Out of the way first (one may sit on 0..report_number), then onto their numbers (dup2 clears
    // close-on-exec); nothing else reaches the program.
    const int in = ::fcntl(launch.input, F_DUPFD_CLOEXEC, 10);
    const int out = ::fcntl(launch.output, F_DUPFD_CLOEXEC, 10);
    const int err = ::fcntl(launch.errors, F_DUPFD_CLOEXEC, 10);
    const int report = launch.report >= 0 ? ::fcntl(launch.report, F_DUPFD_CLOEXEC, 10) : -1;
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    if (report >= 0) ::dup2(report, launch.report_number);
    ::close_range(static_cast<unsigned>(report >= 0 ? launch.report_number + 1 : 3), ~0U, CLOSE_RANGE_CLOEXEC);
    ::fcntl(exec_error, F_SETFD, FD_CLOEXEC);
    ::execve(program, argv, envp);
    const int error = errno;
    [[maybe_unused]] const ssize_t ignored = ::write(exec_error, &error, sizeof error);
    ::_exit(127);
  }
  Message started;
  started.kind = Message::started;
  started.pid = pid;
  started.status = pid < 0 ? errno : 0;
  send(events, started);
  // What the program has is the program's: the reaper keeps none of it (a report socket held here
  // would never read EOF in ./bench).
  for (int fd : {exec_error, launch.input, launch.output, launch.errors, launch.report})
    if (fd >= 0) ::close(fd);
  side.program = pid;
  if (pid < 0) {
    side.end_row();
    ::_exit(0);
  }
  pollfd fds[2] = {{control, POLLIN, 0}, {signals, POLLIN, 0}};
  while (true) {
    if (::poll(fds, signals >= 0 ? 2 : 1, signals >= 0 ? -1 : 10) < 0 && errno != EINTR) break;
    if (signals >= 0 && (fds[1].revents & POLLIN) != 0) {
      signalfd_siginfo info;
      while (::read(signals, &info, sizeof info) > 0) {
      }
    }
    side.reap();
    if (fds[0].revents != 0) break;  // ./bench ends the row, or is gone (EOF)
  }
  side.end_row();
  ::_exit(0);
}

}  // namespace

RowReaper::RowReaper(const ProgramLaunch& launch) {
  std::vector<std::string> arguments = launch.argv, environment = launch.envp;
  std::vector<char*> argv, envp;
  for (std::string& a : arguments) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);
  int control[2], events[2], exec_error[2];
  if (::pipe2(control, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  if (::pipe2(events, O_CLOEXEC) != 0) {
    ::close(control[0]);
    ::close(control[1]);
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  if (::pipe2(exec_error, O_CLOEXEC) != 0) {
    for (int fd : {control[0], control[1], events[0], events[1]}) ::close(fd);
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {control[0], control[1], events[0], events[1], exec_error[0], exec_error[1]}) ::close(fd);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) reaper_main(launch, launch.program.c_str(), argv.data(), envp.data(), control[0], events[1], exec_error[1]);
  reaper_ = pid;
  ::close(control[0]);
  ::close(events[1]);
  ::close(exec_error[1]);
  control_ = control[1];
  events_ = events[0];
  Message started;
  ssize_t n;
  while ((n = ::read(events_, &started, sizeof started)) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof started) || started.kind != Message::started || started.pid <= 0) {
    ::close(exec_error[0]);
    const std::string why =
        n == static_cast<ssize_t>(sizeof started) && started.status != 0 ? std::strerror(started.status) : "it said nothing";
    end();
    throw std::runtime_error("the row's reaper could not start the program (fork: " + why + ")");
  }
  program_ = started.pid;
  // The close-on-exec pipe reads EOF the moment execve succeeds, or an errno if it failed.
  int error = 0;
  while ((n = ::read(exec_error[0], &error, sizeof error)) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof error)) exec_errno_ = error;
  ::close(exec_error[0]);
  ::fcntl(events_, F_SETFL, O_NONBLOCK);
}

RowReaper::~RowReaper() {
  if (!ended_) end();
}

void RowReaper::on_readable() {
  if (events_ < 0) return;
  char buffer[sizeof(Message) * 16];
  ssize_t n;
  while ((n = ::read(events_, buffer, sizeof buffer)) > 0) {
    pending_.append(buffer, static_cast<std::size_t>(n));
    while (pending_.size() >= sizeof(Message)) {
      Message m;
      std::memcpy(&m, pending_.data(), sizeof m);
      pending_.erase(0, sizeof m);
      if (m.kind == Message::exited) {
        exit_ = ProgramExit{m.status, m.usage};
      } else if (m.kind == Message::stopped) {
        m.name[sizeof m.name - 1] = '\0';
        stopped_.push_back(std::string(m.name) + " (" + std::to_string(m.pid) + ")");
      }
    }
  }
  if (n == 0) {  // the reaper is gone
    ::close(events_);
    events_ = -1;
    if (!ended_) lost_ = true;
  }
}

std::vector<std::string> RowReaper::end() {
  if (ended_) return stopped_;
  ended_ = true;
  if (control_ >= 0) {
    [[maybe_unused]] const ssize_t ignored = ::write(control_, "E", 1);
    ::close(control_);
    control_ = -1;
  }
  // What the reaper reports until it exits (EOF), bounded.
  const std::int64_t give_up = monotonic_ns() + 20'000'000'000;
  while (events_ >= 0) {
    pollfd fd{events_, POLLIN, 0};
    const std::int64_t left_ms = (give_up - monotonic_ns()) / 1'000'000;
    if (left_ms <= 0) break;
    if (::poll(&fd, 1, static_cast<int>(left_ms)) < 0 && errno != EINTR) break;
    on_readable();
  }
  if (events_ >= 0) {  // it did not finish in time: stop it (its row may be left behind: PDEATHSIG takes the program)
    ::kill(reaper_, SIGKILL);
    ::close(events_);
    events_ = -1;
  }
  if (reaper_ > 0)
    while (::waitpid(reaper_, nullptr, 0) < 0 && errno == EINTR) {
    }
  return stopped_;
}

}  // namespace bench
