// Cycle: what giving memory back costs the next time the memory is needed. One process runs the map
// workload's phases --rounds times with the same keys: insert N, look up, clear, the configuration's
// release step, a pause of --pause (idle), then the next round. Memory an allocator kept is reused
// (its later rounds fault little); memory a knob gave back faults in again (page faults and system
// time in every round). Per round k (1-based):
//   round<k>_insert_rate, _lookup_rate, _clear_rate   items per second
//   round<k>_release_seconds                         the release step (0 without one)
//   round<k>_user_s, _sys_s, _minflt, _majflt         CPU time and faults of the round's phases
//   round<k>_rss_peak, round<k>_rss_after             RSS after insert; after release and pause
//   round<k>_insert_p50_ns ... _max_ns, round<k>_lookup_...   latency of single operations
// The retention counters (rss_base before round 1, rss_peak, rss_cleared, rss_released of the last
// round) and the settle period follow the last round as in every workload.
#include <time.h>

#include <cstdio>

#include "benchmarks/workloads/map_phases.h"

namespace bench {
namespace {

void sleep_for(std::chrono::nanoseconds duration) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(duration.count() / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(duration.count() % 1'000'000'000);
  while (::nanosleep(&ts, &ts) != 0) {
  }
}

template <class Adapter>
void cycle(WorkloadContext& context) {
  ChildReport& report = context.report;
  static LatencyHistogram insert_latency, lookup_latency;  // 30 KB each, touched (cleared) before the baseline
  insert_latency.clear();
  lookup_latency.clear();
  Adapter container;

  const std::size_t base = resident_bytes();
  double measured_seconds = 0;
  Growth last{base, base, base};
  std::size_t released = base;
  for (int round = 1; round <= context.rounds; ++round) {
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "round%d", round);
    insert_latency.clear();
    lookup_latency.clear();
    const MapPass pass = insert_lookup_clear(context, container, insert_latency, lookup_latency, /*snapshots=*/false, prefix);

    ResourceUsage usage = pass.usage();
    double release_seconds = 0;
    released = pass.cleared;
    if (context.configuration.has_release_step()) {
      const ResourceUsage before = process_usage();
      release_seconds = timed_seconds(CounterName(prefix, "release"), [&] {
        container.release();
        if (context.configuration.release->process_call != nullptr) context.configuration.release->process_call();
      });
      const ResourceUsage release_usage = process_usage() - before;
      usage = usage + release_usage;
      released = resident_bytes();
    }
    sleep_for(context.pause);
    const std::size_t after = resident_bytes();

    const auto n = static_cast<double>(context.size);
    report_rate(report, CounterName(prefix, "insert"), n, pass.insert_seconds);
    report_rate(report, CounterName(prefix, "lookup"), n, pass.lookup_seconds);
    if (!Adapter::kClearIsConstantTime) report_rate(report, CounterName(prefix, "clear"), n, pass.clear_seconds);
    report.counter(CounterName(prefix, "clear_seconds"), pass.clear_seconds, Unit::seconds);
    report.counter(CounterName(prefix, "release_seconds"), release_seconds, Unit::seconds);
    report_usage(report, prefix, usage);
    report.counter(CounterName(prefix, "rss_peak"), static_cast<double>(pass.peak), Unit::bytes);
    report.counter(CounterName(prefix, "rss_after"), static_cast<double>(after), Unit::bytes);
    report_latency(report, CounterName(prefix, "insert"), insert_latency, pass.insert_ns_per_tick);
    report_latency(report, CounterName(prefix, "lookup"), lookup_latency, pass.lookup_ns_per_tick);
    measured_seconds += pass.seconds() + release_seconds;
    last = {base, pass.peak, pass.cleared};
  }
  report.time(measured_seconds);

  const std::int64_t time_zero = monotonic_ns();  // the last round's pause is over
  start_timeline(context, time_zero);
  context.probe.run();
  context.configuration.library->report_stats(report);
  container.report_stats(report);
  report.counter("rss_released", static_cast<double>(released), Unit::bytes);
  const std::size_t final_rss = settle(context, last, time_zero);
  report_retention(context, last, final_rss);
}

void run_cycle(WorkloadContext& context) {
  with_map_container<std::uint64_t>(context.configuration, [&]<class Adapter>() { cycle<Adapter>(context); });
}

std::uint64_t cycle_peak_estimate(std::uint64_t size, const Configuration& configuration) {
  return node_container_peak_estimate(size, kStdMapNodeBytes<std::uint64_t>, configuration);
}

const WorkloadRegistration kCycle{{
    .name = "cycle",
    .summary = "--rounds x (insert N, look up, clear, release step, --pause) in one process: the price of giving memory back",
    .order = 2,
    .uses_rounds = true,
    .headline = {"round1_insert_rate", "round2_insert_rate", "round3_insert_rate", "round2_minflt", "round2_sys_s", "round2_rss_peak",
                 "round2_rss_after", "rss_final"},
    .run = run_cycle,
    .peak_bytes_estimate = cycle_peak_estimate,
}};

}  // namespace
}  // namespace bench
