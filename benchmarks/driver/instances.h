// The instances of a run: every workload on every configuration it applies to, at every size — or,
// for `./bench -- PROGRAM`, the program under every process-level configuration — the ones
// --benchmark_filter selects, and the order in which their children run.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "allocators/configuration.h"
#include "benchmarks/driver/flags.h"
#include "benchmarks/driver/replays.h"
#include "benchmarks/driver/scenarios.h"
#include "benchmarks/workloads/workload.h"

namespace bench {

struct InstanceSpec {
  std::string name;                    // <workload>/<configuration>/<N>, command/<configuration> or <scenario>/<configuration>
  const Workload* workload = nullptr;  // null for a program or a probe
  const Configuration* configuration = nullptr;
  std::uint64_t size = 0;  // 0 for a program
  bool command = false;    // a program: the user's (after --) or a scenario's
  const Scenario* scenario = nullptr;
  // The settle period's activity (activity.h spelling) for a workload whose settle is active; empty
  // for an idle one. Its pattern is part of the name: map_active:batch/glibc/1000000.
  std::string activity = {};
  // With --compare-recorders, how a program is watched: "plain", "record", "heap-map" or
  // "heaptrack" (Debian's profiler, wrapped around it); part of the name: command/glibc@record.
  // Empty: as the run's --record and --heap-map say.
  std::string observer = {};
  // The recording a replay instance replays (replay:<name>/<configuration>); null otherwise.
  const ReplaySource* replay = nullptr;
};

// The observers --compare-recorders runs every program under, in this order.
inline constexpr const char* kObservers[] = {"plain", "record", "heap-map", "heaptrack"};

// The name a workload's results carry: the workload's own, or <workload>:<pattern> when its settle
// period is active (one per --activity spec).
std::string workload_instance_name(const Workload& workload, const std::string& activity);

// The activities `workload` runs with: every --activity spec when its settle period is active, one
// empty one (idle) otherwise. Instances and the run's description both iterate over this.
std::vector<std::string> workload_activities(const Workload& workload, const Flags& flags);

// The name results of `spec` carry as their workload: the workload's (with its pattern), "command"
// for the user's program, the scenario's name for a scenario.
std::string instance_workload_name(const InstanceSpec& spec);

// Why `configuration` cannot run an outside program (it needs a call inside the process: a release
// step, mallopt, a container of ours); empty when it can.
std::string command_skip_reason(const Configuration& configuration);

// Every instance the flags describe, in registration order; `scenarios` are those --scenario
// selected (they must outlive the instances).
// With `replays` (--replay), only their instances: every recording under every configuration that
// replaces malloc for the process, release steps and mallopt rows included.
std::vector<InstanceSpec> all_instances(const Flags& flags, const std::vector<Scenario>& scenarios = {},
                                        const std::vector<ReplaySource>& replays = {});

// The instances --benchmark_filter selects, with Google Benchmark's rules: an empty filter or "all"
// matches everything, a leading '-' negates, an extended regular expression is searched anywhere in
// the name (the suite's names, so that '$' works). Throws UsageError for an invalid expression or
// one that selects nothing.
std::vector<InstanceSpec> select_instances(const std::vector<InstanceSpec>& instances, const std::string& filter);

// The order in which the children run: every instance's first repetition, then every instance's
// second, and so on — so that a slow spell of the machine falls on every configuration alike — or,
// with `random`, all repetitions shuffled (Google Benchmark's --benchmark_enable_random_interleaving).
std::vector<const InstanceSpec*> measurement_order(const std::vector<InstanceSpec>& selected, int repetitions, bool random,
                                                   std::mt19937_64::result_type seed);

}  // namespace bench
