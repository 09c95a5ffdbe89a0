// ./bench — a Google Benchmark binary whose every instance and repetition runs in a fresh child
// process. main() is the whole story of a run; the rooms it walks through:
//   driver/     the parent: flags, instances and their order, the launcher, reporters, description
//   measure/    the child: phases, RSS and where it sits, served-by verification, keys, latency
//   protocol/   how the two talk: the child's arguments and its report, writer and reader together
//   workloads/  what a child does, one file per workload, each registering itself
#include <iostream>

#include "benchmarks/driver/command.h"
#include "benchmarks/driver/flags.h"
#include "benchmarks/driver/instances.h"
#include "benchmarks/driver/run.h"
#include "benchmarks/driver/scenarios.h"
#include "benchmarks/driver/trace_info.h"
#include "benchmarks/measure/child.h"
#include "benchmarks/protocol/child_protocol.h"

int main(int argc, char** argv) {
  using namespace bench;
  // A child: one measurement of one workload under one configuration, reported to the parent.
  if (is_child_invocation(argc, argv)) return child_main(argc, argv);
  try {
    // The parent. Every flag is read once, here; bad usage exits with 2 before anything is written.
    const Flags flags = parse_flags(argc, argv);
    if (flags.help) return print_help();
    if (!flags.trace_info.empty()) return print_trace_info(flags.trace_info);
    const std::string executable = this_executable();
    if (flags.list_configs != ListFormat::none) return list_configurations(flags, executable);

    // What to run: every workload x configuration x N (or the user's program, or each scenario, x
    // configuration), narrowed by --benchmark_filter.
    const std::string program = flags.command.empty() ? std::string() : resolve_program(flags.command.front());
    const std::vector<Scenario> scenarios =
        flags.scenario.empty() ? std::vector<Scenario>() : select_scenarios(flags.scenario, default_scenario_directory());
    // A recording to replay is converted here, outside every measured process.
    const std::vector<ReplaySource> replays = prepare_replays(flags, replay_directory(flags));
    const std::vector<InstanceSpec> selected = select_instances(all_instances(flags, scenarios, replays), flags.filter);
    if (flags.list_tests) return list_instances(selected);
    // A scenario whose program is not installed is bad usage, named, never a silent skip.
    for (const Scenario& scenario : scenarios)
      if (const std::string missing = missing_need(scenario); !missing.empty()) throw UsageError(missing);

    // Run: children in measurement order, Google Benchmark's reporters, the run's description.
    return run_benchmarks(flags, selected, executable, program);
  } catch (const UsageError& e) {
    std::cerr << "bench: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {  // e.g. /proc/self/exe cannot be opened for the children
    std::cerr << "bench: " << e.what() << "\n";
    return kExitUsage;
  }
}
