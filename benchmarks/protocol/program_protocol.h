// What a program run by `./bench -- PROGRAM` or `./bench --scenario=NAME` may tell the parent, and
// the parent's answers. Optional for a program: one that says nothing is watched from outside only.
//
// The program finds a connected Unix stream socket at the descriptor named by the environment
// variable BENCH_REPORT_FD (kProgramReportFd) and writes one text line per message:
//
//   phase <name>                   the program has reached a moment worth reading (built, freed, ...):
//                                  the parent reads the measured processes now (RSS, high-water mark,
//                                  CPU time) and answers "ok <name>\n" once it has; a program that
//                                  waits for the answer is read exactly there
//   counter <unit> <name> <value>  a figure of the program's own (Redis's INFO memory, say); unit is
//                                  one of unit_name()'s words
//   error <text>                   the program failed (a server that did not start): its row becomes
//                                  an error row with this text
//
// Names are [a-z][a-z0-9_]*, at most 48 characters. A line is at most kMaxLine bytes; a longer one,
// or one that breaks these rules, makes the row an error row naming it.
//
// Bounds (ProgramLimits): a program reports at most kMaxProgramPhases phases (each makes the parent
// scan the process table and, under --heap-map, take a snapshot in every measured process), at most
// kMaxProgramCounters distinct counters, and at most kMaxProgramMessagesPerWindow messages within any
// kProgramMessageWindowNs. The first message past a bound makes the row an error row naming the
// bound; the parent then closes the socket and reads nothing more from it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "benchmarks/protocol/child_protocol.h"

namespace bench {

inline constexpr int kProgramReportFd = 3;
inline constexpr const char* kProgramReportFdVariable = "BENCH_REPORT_FD";

inline constexpr std::size_t kMaxProgramPhases = 32;
inline constexpr std::size_t kMaxProgramCounters = 256;
inline constexpr std::size_t kMaxProgramMessagesPerWindow = 1000;
inline constexpr std::int64_t kProgramMessageWindowNs = 1'000'000'000;

struct ProgramMessage {
  enum class Kind { phase, counter, error, malformed, over_limit };
  Kind kind;
  std::string text;  // the phase's name, the error's text, or the malformed line
  std::optional<CounterValue> counter = {};
};

// True for a phase or counter name the protocol allows.
bool valid_report_name(std::string_view name);

// The parent's side: fed the socket's bytes as they come (at `now_ns`); whole lines become messages.
// Past a bound it returns one over_limit message, naming it, and nothing after.
class ProgramReportReader {
 public:
  std::vector<ProgramMessage> consume(std::string_view bytes, std::int64_t now_ns);

 private:
  ProgramMessage parse_line(std::string_view line) const;
  // Empty while `message` keeps within the bounds; else which bound it breaks.
  std::string limit_broken(const ProgramMessage& message, std::int64_t now_ns);
  std::string pending_;
  bool over_ = false;
  std::size_t phases_ = 0;
  std::set<std::string> counters_;
  std::deque<std::int64_t> recent_;  // the arrival times of the last messages, up to the rate bound
};

}  // namespace bench
