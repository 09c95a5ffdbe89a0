// A workload: what a child does between its baseline sample and the end of its settle period.
// Workloads see the configuration only through allocators/configuration.h; the map workloads reach
// the container type through allocators/containers.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

#include "allocators/configuration.h"
#include "benchmarks/child_report.h"
#include "benchmarks/keys.h"
#include "benchmarks/units.h"

namespace bench {

struct WorkloadContext {
  const Configuration& configuration;
  std::uint64_t size;
  std::span<const Md5Key> keys;  // exactly `size` keys, resident before the baseline sample
  Nanoseconds settle;
  ChildReport& report;
};

struct Workload {
  std::string_view name;
  std::string_view summary;
  // False: the workload calls malloc itself and is meaningful only for process-level configurations.
  bool uses_container;
  void (*run)(WorkloadContext&);
  // Upper estimate of the child's peak RSS in bytes, for the memory guard.
  std::uint64_t (*peak_bytes_estimate)(std::uint64_t size, const Configuration&);
};

std::span<const Workload> workloads();
const Workload* find_workload(std::string_view name);
bool applies(const Workload& workload, const Configuration& configuration);

// Thrown by a workload when its own check fails (e.g. a key not found): the row becomes an error.
struct WorkloadFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace bench
