// The parent's steps, as main() calls them: listings, and the run itself — instances registered with
// Google Benchmark, which drives repetitions, aggregates and reporters, while every repetition's
// figures come from a child the launcher ran.
#pragma once

#include <string>
#include <vector>

#include "benchmarks/driver/flags.h"
#include "benchmarks/driver/instances.h"

namespace bench {

// Exit statuses: 0 every selected instance measured; 1 some rows are error rows (a failed, refused or
// unavailable instance); 2 bad usage, nothing run; 130 interrupted (SIGINT, SIGTERM, SIGHUP, SIGPIPE).
inline constexpr int kExitErrorRows = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;

// This binary's path, from /proc/self/exe.
std::string this_executable();

// Where --replay's converted workloads go: a new folder next to --benchmark_out (replays,
// replays-2, ...), or a new /tmp/bench-replays-XXXXXX without it; "" when nothing is replayed.
std::string replay_directory(const Flags& flags);

int print_help();

// --list-configs[=json]: every configuration, each available one verified in a probe child.
int list_configurations(const Flags& flags, const std::string& executable);

// --benchmark_list_tests: the selected instances' names.
int list_instances(const std::vector<InstanceSpec>& selected);

// Runs the selected instances (children in measurement order) and writes the reports. `program` is
// the resolved path of the program after `--`, empty for the workloads.
int run_benchmarks(const Flags& flags, const std::vector<InstanceSpec>& selected, const std::string& executable,
                   const std::string& program);

}  // namespace bench
