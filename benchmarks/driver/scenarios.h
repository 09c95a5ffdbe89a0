// Scenarios: real programs Debian ships, each driven through phases that build memory, free it,
// then wait or keep working (benchmarks/scenarios/, one executable file each). `./bench
// --scenario=NAME` runs one under every process-level configuration, as `./bench -- FILE` would,
// with the phases it reports read at the moment it reaches them (protocol/program_protocol.h).
//
// A scenario describes itself in the comment block at its top (after the #! line):
//
//   # Scenario: <one line: what it demonstrates>
//   # Needs: /usr/bin/redis-server (redis-server)      a program it runs, and its Debian package
//   # Measure: redis-server                            the process to measure (its name, as in
//                                                      /proc/<pid>/comm) and its descendants;
//                                                      without this line, the whole tree
//   # Phase <name>: <what the program has done by then>          timed: nothing else measures
//   # Phase <name> (settling): <...>                   from the first such phase on, the program
//                                                      only waits or works lightly, and the next
//                                                      program may start beside it (not timed)
//   # Variant <name>: VAR=value ... - <what it changes>   the same file again with more environment
//
// The phases are listed in the order the program reports them; a run that misses one is an error row.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace bench {

struct ScenarioPhase {
  std::string name;
  std::string description;
  bool settling = false;
};

struct ScenarioNeed {
  std::string program;  // an absolute path
  std::string package;  // the Debian package that provides it
};

struct Scenario {
  std::string name;  // the file's name without its extension, or the variant's name
  std::string file;  // absolute path of the executable file
  std::string demonstrates;
  std::vector<ScenarioNeed> needs;
  std::string measure;                                           // empty: the whole process tree
  std::vector<std::pair<std::string, std::string>> environment;  // a variant's variables
  std::string variant_of;                                        // empty unless a variant
  std::string variant_change;                                    // a variant's "what it changes"
  std::vector<ScenarioPhase> phases;

  // The phases before the first settling one: timed, with nothing else measuring.
  std::size_t timed_phase_count() const;
};

// The scenarios (and their variants) of the *.py, *.pl, *.rb and *.sh files in `directory` with a
// "# Scenario:" header, sorted by name. Throws UsageError naming a file whose header is malformed.
std::vector<Scenario> load_scenarios(const std::string& directory);

// Parses one file's header (and its variants). Throws UsageError naming the file and the line.
std::vector<Scenario> parse_scenario_file(const std::string& path);

// What --scenario=SPEC selects: "all", or names (and paths of scenario files) separated by commas.
// Throws UsageError for an unknown name, listing the known ones.
std::vector<Scenario> select_scenarios(const std::string& spec, const std::string& directory);

// Empty when every program the scenario needs is present; otherwise a message naming the missing
// program and its package.
std::string missing_need(const Scenario& scenario);

// The built-in scenarios' folder (benchmarks/scenarios of the source tree this binary was built from).
std::string default_scenario_directory();

}  // namespace bench
