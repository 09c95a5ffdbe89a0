// The contract between the parent (benchmarks/driver) and a measuring child (benchmarks/measure):
// how the parent starts a child, and what the child tells it. Writer and reader live here together,
// so that a change to one is a change to both.
//
// Starting a child. The parent executes its own binary with
//
//   bench --child <workload> <configuration> --size=<N> --settle-ns=<ns> --rounds=<R> --pause-ns=<ns>
//         --latency=<0|1>
//
// (ChildArguments::encode / decode), an explicit environment, and these descriptors:
//   kResultFd (3)  the write end of a pipe: the child's report, below
//   kKeyFd    (4)  the key table (measure/keys.h), a memfd, read-only
//   kProbeFd  (5)  the machine-speed probe's table (measure/probe.h), a memfd, read-only
// "probe" as <workload> asks the child to verify and describe its allocator and measure nothing.
//
// The report: one text line per fact, written with write(2), so reporting never touches the heap
// under test. In the order a child writes them:
//
//   ready <monotonic ns>                 the child started (spawn overhead = this - the fork time)
//   label <text>                         who served malloc and operator new, and their version
//   counter <unit> <name> <value>        one counter; unit is one of unit_name()'s words
//   time <seconds>                       the timed phases' total: the row's manual time
//   settling                             the measured phases are over: from here the child only
//                                        sleeps and samples (or, for an active settle, calls malloc
//                                        lightly); the parent may let the next child measure
//   sample <seconds> <rss bytes>         one point of the settle timeline, seconds after the release
//                                        step (any number, in time order)
//   error <text>                         the instance failed; its row becomes an error row
//   done                                 the last line of a successful child
//
// A line is at most kMaxLine bytes (longer text is cut, keeping the newline); numbers are written
// with 17 significant digits, so doubles survive the trip exactly.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "allocators/configuration.h"

namespace bench {

inline constexpr const char* kChildFlag = "--child";
inline constexpr int kResultFd = 3;
inline constexpr int kKeyFd = 4;
inline constexpr int kProbeFd = 5;
inline constexpr std::size_t kMaxLine = 4096;

struct ChildArguments {
  std::string workload;  // a workload's name, or "probe"
  std::string configuration;
  std::uint64_t size = 0;
  std::chrono::nanoseconds settle{};
  int rounds = 1;                    // the cycle workload's rounds
  std::chrono::nanoseconds pause{};  // the cycle workload's pause after each round
  bool time_operations = true;       // the latency histograms
  std::string activity = {};         // the settle period's activity (activity.h spelling); empty: idle
  std::chrono::nanoseconds activity_period{10'000'000};
  // The replay workload's (./bench --replay): the workload file, its timing and its fill
  // (benchmarks/replay/replayer.h spellings: fast|as-recorded, all-bytes|one-write-a-page). Empty
  // for every other workload.
  std::string replay = {};
  std::string replay_timing = {};
  std::string replay_fill = {};
  std::string replay_free_phase = {};  // the phase where the release step runs; empty: the end

  // argv[1...] for execve (argv[0], the program, is the caller's).
  std::vector<std::string> encode() const;
  // Throws std::runtime_error naming what is missing or malformed.
  static ChildArguments decode(int argc, char** argv);
};

bool is_child_invocation(int argc, char** argv);

// The child's side.
class ChildReport final : public CounterSink {
 public:
  explicit ChildReport(int fd) : fd_(fd) {}
  void ready(std::int64_t monotonic_ns);
  void label(std::string_view text);
  void counter(std::string_view name, double value, Unit unit) override;
  void time(double seconds);
  void settling();
  void sample(double seconds, double rss_bytes);
  void error(std::string_view text);
  void done();

 private:
  void line(std::string_view verb, std::string_view text);
  int fd_;
};

struct CounterValue {
  std::string name;
  double value;
  Unit unit;
};

struct TimelineSample {
  double seconds;
  double rss_bytes;
};

// Everything a child said, as the parent reads it.
struct ChildMessages {
  std::optional<std::int64_t> ready_ns;
  std::string label;
  std::vector<CounterValue> counters;
  std::optional<double> time;
  bool settling = false;
  std::vector<TimelineSample> samples;
  std::string error;
  bool done = false;
  std::vector<std::string> malformed;  // lines that broke the contract (reported as an error)
};

// The parent's side: fed the pipe's bytes as they come.
class ChildReportReader {
 public:
  void consume(std::string_view bytes);
  const ChildMessages& messages() const { return messages_; }
  ChildMessages& messages() { return messages_; }

 private:
  void parse_line(std::string_view line);
  std::string pending_;  // bytes read but not yet a whole line
  ChildMessages messages_;
};

}  // namespace bench
