// One process per row between ./bench and the program it runs: the row's subreaper. Every process
// the program starts stays below it — a daemon that calls setsid() and forks twice, a child whose
// parent exits, a server the program forgot — because the kernel hands an orphan to its nearest
// subreaper ancestor (prctl(2), PR_SET_CHILD_SUBREAPER). So a row's processes are exactly the
// reaper's descendants: no row can see another's, and none outlives its row:
//
//   ./bench ── reaper (a fork of ./bench, no exec) ── PROGRAM ── ...every process it starts
//
//  - the reaper reaps every orphan of its row, and reports the program's exit status and resource
//    usage (wait4: CPU time, faults, peak RSS of the program and of the children it waited for);
//  - when ./bench ends the row, or dies in any way (SIGKILL included: its end of the control pipe
//    closes), the reaper kills every process left below it (SIGKILL, again until none is left),
//    reports each one it stopped, and exits;
//  - the program is the reaper's child with PR_SET_PDEATHSIG = SIGKILL: it cannot outlive the
//    reaper either.
//
// No PID namespace: the heap map's and the recorder's files are named by the process's own getpid().
// The reaper runs only this file's code after fork (./bench is single-threaded, so it may allocate).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bench {

// What the program is started with. Every descriptor is the parent's; the program gets `input`,
// `output`, `errors` as 0, 1, 2 and `report` as `report_number`, and nothing else of the parent's.
struct ProgramLaunch {
  std::string program;            // the file to execve
  std::vector<std::string> argv;  // argv[0] first
  std::vector<std::string> envp;  // NAME=VALUE, the whole environment
  int input = -1, output = -1, errors = -1;
  int report = -1;  // -1: none
  int report_number = 3;
};

// How the program ended, as wait4 said it to the reaper.
struct ProgramExit {
  int status = 0;  // waitpid(2)'s status word
  rusage usage{};
};

class RowReaper {
 public:
  // Starts the reaper, which starts the program, and returns once the program has called execve.
  // Throws std::runtime_error when the reaper or the program cannot be started; an execve that
  // failed is not thrown: exec_errno() says it (the program then exits 127).
  explicit RowReaper(const ProgramLaunch& launch);
  ~RowReaper();  // ends the row if end() was not called
  RowReaper(const RowReaper&) = delete;
  RowReaper& operator=(const RowReaper&) = delete;

  pid_t reaper_pid() const { return reaper_; }
  pid_t program_pid() const { return program_; }
  int exec_errno() const { return exec_errno_; }
  // Polls readable when the reaper has something to say (the program exited; the reaper is gone).
  int event_fd() const { return events_; }

  // Reads what the reaper said; call when event_fd() is readable. Never blocks.
  void on_readable();
  const std::optional<ProgramExit>& program_exit() const { return exit_; }
  // True when the reaper is gone without having been asked to end (killed from outside).
  bool reaper_lost() const { return lost_; }

  // Stops every process of the row (the program too, if it still runs), waits until the reaper has
  // reported each and exited, and returns them as "name (pid)", the program not among them.
  // Bounded: a row that keeps forking while it is killed is given up on after a few seconds.
  std::vector<std::string> end();

 private:
  pid_t reaper_ = -1, program_ = -1;
  int control_ = -1, events_ = -1;
  int exec_errno_ = 0;
  bool ended_ = false, lost_ = false;
  std::optional<ProgramExit> exit_;
  std::vector<std::string> stopped_;
  std::string pending_;  // a message read in part
};

}  // namespace bench
