// The suite's own command-line flags (everything else goes to Google Benchmark unchanged).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "benchmarks/units.h"

namespace bench {

struct RunOptions {
  // --sizes=N[,N...]: entry counts; replaces the default list.
  std::vector<std::uint64_t> sizes = {5'000'000};
  // --settle=DURATION: how long RSS is watched after clear (the seed looked at 15 s).
  Nanoseconds settle = std::chrono::seconds{15};
  // --timeout=DURATION: per-instance limit on top of the settle period.
  Nanoseconds timeout = std::chrono::minutes{10};
  // --max-settling=N: children allowed to sit in their settle period while the next one measures.
  int max_settling = 4;
  // --ignore-memory-limit: run instances whose estimated peak exceeds the available memory.
  bool ignore_memory_limit = false;
  // --list-configs: print the configuration table and exit.
  bool list_configs = false;
  bool help = false;
  // --benchmark_out (or BENCHMARK_OUT) as the user gave it; Google Benchmark is pointed at
  // `benchmark_out_partial` instead, renamed to the final name only when the run has ended (an
  // interrupted write never leaves a half file under the final name).
  std::string benchmark_out;
  std::string benchmark_out_partial;
  int repetitions = 1;  // --benchmark_repetitions (read, not consumed), for planning only
};

// Parses and removes the suite's flags from argv (argc is updated); reads --benchmark_out (left in
// argv: main() points Google Benchmark at the partial file). Throws UsageError naming the bad flag
// and its value.
RunOptions parse_run_options(int& argc, char** argv);

extern const char* const kOptionsHelp;

}  // namespace bench
