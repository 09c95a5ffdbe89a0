// What a workload is given in the child: the configuration it runs under, its keys, the settle
// period, where to report, and the probe. Built by child.cc once the allocator has been verified.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <stdexcept>

#include "allocators/configuration.h"
#include "benchmarks/measure/activity.h"
#include "benchmarks/measure/keys.h"
#include "benchmarks/measure/memory.h"
#include "benchmarks/measure/probe.h"
#include "benchmarks/measure/timeline.h"
#include "benchmarks/protocol/child_protocol.h"

namespace bench {

// What the process does during the settle period. idle: sleeps and reads /proc/self/statm, nothing
// else, so whatever happens is the allocator's own doing (a background thread, a timer). active:
// besides, the allocator activity of a busy process (activity.h, --activity): an allocator that
// returns memory only when it is called (jemalloc's decay without its thread, mimalloc's delayed
// decommit) gets called.
enum class SettleMode { idle, active };

struct WorkloadContext {
  const Configuration& configuration;
  std::uint64_t size;
  std::span<const Md5Key> keys;  // exactly `size` keys, resident before the baseline sample
  std::chrono::nanoseconds settle;
  Activity& activity;              // what the settle period does besides sampling (pattern none when idle)
  int rounds;                      // the cycle workload's
  std::chrono::nanoseconds pause;  // the cycle workload's
  bool time_operations;            // feed the latency histograms (off only to measure their cost)
  ChildReport& report;
  SpeedProbe& probe;
  const CgroupMemory& cgroup;
  TimelineSampler& timeline;  // the settle period's RSS, sampled from time zero by a thread of its own
  // The replay workload's (ChildArguments::replay...): empty for every other workload.
  std::string_view replay_path = {};
  std::string_view replay_timing = {};
  std::string_view replay_fill = {};
  std::string_view replay_free_phase = {};  // empty: the end of the calls
};

// Thrown by a workload when its own check fails (e.g. a key not found): the row becomes an error.
struct WorkloadFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace bench
