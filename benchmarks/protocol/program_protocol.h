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
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "benchmarks/protocol/child_protocol.h"

namespace bench {

inline constexpr int kProgramReportFd = 3;
inline constexpr const char* kProgramReportFdVariable = "BENCH_REPORT_FD";

struct ProgramMessage {
  enum class Kind { phase, counter, error, malformed };
  Kind kind;
  std::string text;  // the phase's name, the error's text, or the malformed line
  std::optional<CounterValue> counter = {};
};

// True for a phase or counter name the protocol allows.
bool valid_report_name(std::string_view name);

// The parent's side: fed the socket's bytes as they come; whole lines become messages.
class ProgramReportReader {
 public:
  std::vector<ProgramMessage> consume(std::string_view bytes);

 private:
  ProgramMessage parse_line(std::string_view line) const;
  std::string pending_;
};

}  // namespace bench
