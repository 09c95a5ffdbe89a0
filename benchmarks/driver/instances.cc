#include "benchmarks/driver/instances.h"

#include <regex.h>

#include <algorithm>

namespace bench {

std::string command_skip_reason(const Configuration& configuration) {
  if (configuration.is_container_level()) return "a container-level configuration: it changes the map inside our own program";
  if (configuration.has_release_step())
    return "its release step is a call inside the process (" + std::string(configuration.release->description) + ")";
  if (configuration.setup != nullptr) return "it is set up by calls inside the process (mallopt)";
  return {};
}

std::string workload_instance_name(const Workload& workload, const std::string& activity) {
  if (activity.empty()) return std::string(workload.name);
  return std::string(workload.name) + ":" + std::string(ActivitySpec::parse(activity).name());
}

std::vector<std::string> workload_activities(const Workload& workload, const Flags& flags) {
  return workload.settle_mode == SettleMode::active ? flags.activities : std::vector<std::string>{std::string()};
}

std::string instance_workload_name(const InstanceSpec& spec) {
  if (spec.replay != nullptr) return "replay:" + spec.replay->name;
  if (spec.scenario != nullptr) return spec.scenario->name;
  if (spec.command || spec.workload == nullptr) return "command";
  return workload_instance_name(*spec.workload, spec.activity);
}

namespace {

// A program's instance, once, or once per observer with --compare-recorders.
void add_program(std::vector<InstanceSpec>& instances, const Flags& flags, InstanceSpec spec) {
  if (!flags.compare_recorders) return instances.push_back(std::move(spec));
  for (const char* observer : kObservers) {
    InstanceSpec variant = spec;
    variant.name += std::string("@") + observer;
    variant.observer = observer;
    instances.push_back(std::move(variant));
  }
}

}  // namespace

std::vector<InstanceSpec> all_instances(const Flags& flags, const std::vector<Scenario>& scenarios,
                                        const std::vector<ReplaySource>& replays) {
  std::vector<InstanceSpec> instances;
  if (!replays.empty()) {
    const Workload* replay = find_workload("replay");
    for (const ReplaySource& source : replays)
      for (const Configuration& configuration : configurations())
        if (applies(*replay, configuration))
          instances.push_back({.name = "replay:" + source.name + "/" + std::string(configuration.name),
                               .workload = replay,
                               .configuration = &configuration,
                               .size = 1,  // one key: the replay has none of the map's
                               .replay = &source});
    return instances;
  }
  if (!scenarios.empty()) {
    for (const Scenario& scenario : scenarios)
      for (const Configuration& configuration : configurations())
        if (command_skip_reason(configuration).empty())
          add_program(instances, flags,
                      {.name = scenario.name + "/" + std::string(configuration.name),
                       .configuration = &configuration,
                       .command = true,
                       .scenario = &scenario});
    return instances;
  }
  if (!flags.command.empty()) {
    for (const Configuration& configuration : configurations())
      if (command_skip_reason(configuration).empty())
        add_program(instances, flags,
                    {.name = "command/" + std::string(configuration.name), .configuration = &configuration, .command = true});
    return instances;
  }
  for (const Workload& workload : workloads())
    for (const std::string& activity : workload_activities(workload, flags))
      for (const Configuration& configuration : configurations())
        if (applies(workload, configuration) && !workload.replay)
          for (std::uint64_t size : flags.sizes)
            instances.push_back(
                {.name = workload_instance_name(workload, activity) + "/" + std::string(configuration.name) + "/" + std::to_string(size),
                 .workload = &workload,
                 .configuration = &configuration,
                 .size = size,
                 .activity = activity});
  return instances;
}

std::vector<InstanceSpec> select_instances(const std::vector<InstanceSpec>& instances, const std::string& given) {
  std::string filter = given;
  bool negate = false;
  if (filter.empty() || filter == "all") filter = ".";
  if (filter[0] == '-') {
    negate = true;
    filter.erase(0, 1);
  }
  regex_t regex;
  if (const int error = ::regcomp(&regex, filter.c_str(), REG_EXTENDED | REG_NOSUB); error != 0) {
    char message[256];
    ::regerror(error, &regex, message, sizeof message);
    throw UsageError("--benchmark_filter=" + given + " is not a valid extended regular expression: " + message);
  }
  std::vector<InstanceSpec> selected;
  for (const InstanceSpec& spec : instances)
    if ((::regexec(&regex, spec.name.c_str(), 0, nullptr, 0) == 0) != negate) selected.push_back(spec);
  ::regfree(&regex);
  if (selected.empty())
    throw UsageError("--benchmark_filter=" + given + " matches no benchmark (./bench --benchmark_list_tests lists them)");
  return selected;
}

std::vector<const InstanceSpec*> measurement_order(const std::vector<InstanceSpec>& selected, int repetitions, bool random,
                                                   std::mt19937_64::result_type seed) {
  std::vector<const InstanceSpec*> order;
  for (int round = 0; round < repetitions; ++round)
    for (const InstanceSpec& spec : selected) order.push_back(&spec);
  if (random) std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  return order;
}

}  // namespace bench
