// The row's reaper (benchmarks/driver/row_reaper.h): every process a program starts stays below it
// and is stopped with the row, a daemon that leaves its session included, and nothing of a row
// outlives a parent killed by SIGKILL.
#include "benchmarks/driver/row_reaper.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "benchmarks/driver/process_tree.h"

namespace bench {
namespace {

ProgramLaunch shell(const std::string& script, int input, int output) {
  return {.program = "/bin/sh",
          .argv = {"sh", "-c", script},
          .envp = {"PATH=/usr/bin:/bin"},
          .input = input,
          .output = output,
          .errors = output};
}

bool running(pid_t pid) {
  const std::optional<ProcessEntry> e = read_process_entry(pid);
  return e && !e->exiting();
}

void wait_ms(int ms) {
  const timespec pause{ms / 1000, (ms % 1000) * 1'000'000L};
  ::nanosleep(&pause, nullptr);
}

// The pid the script printed on its standard output (a file), once it is there.
pid_t printed_pid(const std::string& path) {
  for (int i = 0; i < 500; ++i) {
    std::ifstream in(path);
    pid_t pid = 0;
    if (in >> pid && pid > 0) return pid;
    wait_ms(10);
  }
  return -1;
}

TEST(RowReaper, ADaemonThatLeavesItsSessionIsStoppedWithTheRowAndNamed) {
  const std::string out = ::testing::TempDir() + "reaper-daemon.out";
  const int input = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int output = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  // setsid + a fork whose parent exits at once: the sleep is nobody's child but the reaper's.
  RowReaper row(shell("setsid sh -c 'sleep 41.5 & echo $!' ; exit 0", input, output));
  ::close(input);
  ::close(output);
  const pid_t daemon = printed_pid(out);
  ASSERT_GT(daemon, 0);
  for (int i = 0; i < 500 && !row.program_exit(); ++i) {
    wait_ms(10);
    row.on_readable();
  }
  ASSERT_TRUE(row.program_exit().has_value());
  EXPECT_TRUE(WIFEXITED(row.program_exit()->status));
  const std::optional<ProcessEntry> e = read_process_entry(daemon);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->parent, row.reaper_pid()) << "the orphan is the reaper's, not init's nor ./bench's";
  const std::vector<std::string> stopped = row.end();
  ASSERT_EQ(stopped.size(), 1u);
  EXPECT_EQ(stopped[0], "sleep (" + std::to_string(daemon) + ")");
  EXPECT_FALSE(running(daemon));
}

TEST(RowReaper, AFailedExecveIsReportedAndTheRowEnds) {
  const int input = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int output = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  RowReaper row({.program = "/nonexistent/program", .argv = {"x"}, .envp = {}, .input = input, .output = output, .errors = output});
  ::close(input);
  ::close(output);
  EXPECT_EQ(row.exec_errno(), ENOENT);
  EXPECT_TRUE(row.end().empty());
}

TEST(RowReaper, NothingOfTheRowOutlivesAParentKilledBySigkill) {
  const std::string out = ::testing::TempDir() + "reaper-orphaned.out";
  ::unlink(out.c_str());
  // A stand-in for ./bench: it starts a row whose program forks a daemon, then is killed by SIGKILL.
  const pid_t parent = ::fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {
    const int input = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const int output = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    RowReaper row(shell("setsid sh -c 'sleep 42.5 & echo $!'; sleep 43.5", input, output));
    ::pause();
    ::_exit(0);
  }
  const pid_t daemon = printed_pid(out);
  ASSERT_GT(daemon, 0);
  ASSERT_TRUE(running(daemon));
  ::kill(parent, SIGKILL);
  ::waitpid(parent, nullptr, 0);
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {  // the reaper sees its control pipe close
    gone = !running(daemon);
    if (!gone) wait_ms(10);
  }
  EXPECT_TRUE(gone) << "the daemon " << daemon << " outlived the killed parent by 5 s";
  // The program (the outer sh, in its sleep) is gone too: no "sleep 43.5" is left. The reaper kills
  // the whole subtree at once, but each process takes its own moment to exit: look again until none
  // is left, for at most 5 s.
  auto left = [] {
    pid_t found = 0;
    for (const ProcessEntry& e : read_process_table())
      if (e.name == "sleep" && !e.exiting()) {
        std::ifstream cmdline("/proc/" + std::to_string(e.pid) + "/cmdline");
        std::string text((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
        if (text.find("43.5") != std::string::npos) found = e.pid;
      }
    return found;
  };
  pid_t program = left();
  for (int i = 0; i < 500 && program != 0; ++i) {
    wait_ms(10);
    program = left();
  }
  EXPECT_EQ(program, 0) << "the program's sleep 43.5 outlived the killed parent by 5 s";
}

}  // namespace
}  // namespace bench
