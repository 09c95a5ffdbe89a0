// Churn: five rounds of insert N / look up / clear in the same map. An allocator that reuses what
// the previous round freed peaks at the same RSS every round; one that does not grows round to round.
// Per round: rss_peak_round<i> (after insert) and rss_cleared_round<i> (after clear). The usual
// retention counters describe the last round against the baseline taken before the first; the rates
// and the latency percentiles cover all rounds.
#include <array>
#include <string>

#include "benchmarks/workloads/map_phases.h"

namespace bench {
namespace {

constexpr int kRounds = 5;
// Spelled out: counter names built at run time would allocate between the samples.
constexpr std::array<const char*, kRounds> kPeakCounters = {"rss_peak_round1", "rss_peak_round2", "rss_peak_round3", "rss_peak_round4",
                                                            "rss_peak_round5"};
constexpr std::array<const char*, kRounds> kClearedCounters = {"rss_cleared_round1", "rss_cleared_round2", "rss_cleared_round3",
                                                               "rss_cleared_round4", "rss_cleared_round5"};

template <class Adapter>
void churn(WorkloadContext& context) {
  auto& report = context.report;
  static LatencyHistogram insert_latency, lookup_latency;  // accumulate over the rounds
  insert_latency.clear();
  lookup_latency.clear();
  Adapter container;

  const std::size_t base = resident_bytes();
  MapPass total;
  for (int round = 0; round < kRounds; ++round) {
    const MapPass pass = insert_lookup_clear(context, container, insert_latency, lookup_latency, /*snapshots=*/false);
    total.insert_seconds += pass.insert_seconds;
    total.lookup_seconds += pass.lookup_seconds;
    total.clear_seconds += pass.clear_seconds;
    total.peak = pass.peak;
    total.cleared = pass.cleared;
    total.insert_ns_per_tick = pass.insert_ns_per_tick;
    total.lookup_ns_per_tick = pass.lookup_ns_per_tick;
    report.counter(kPeakCounters[static_cast<std::size_t>(round)], static_cast<double>(pass.peak), Unit::bytes);
    report.counter(kClearedCounters[static_cast<std::size_t>(round)], static_cast<double>(pass.cleared), Unit::bytes);
  }

  const double entries = static_cast<double>(context.size) * kRounds;
  report_rate(report, "insert", entries, total.insert_seconds);
  report_rate(report, "lookup", entries, total.lookup_seconds);
  if (!Adapter::kClearIsConstantTime) report_rate(report, "clear", entries, total.clear_seconds);
  report_latency(report, "insert", insert_latency, total.insert_ns_per_tick);
  report_latency(report, "lookup", lookup_latency, total.lookup_ns_per_tick);
  report.time(total.seconds());
  finish_after_free(context, container, {base, total.peak, total.cleared});
}

void run_churn(WorkloadContext& context) {
  with_map_container<std::uint64_t>(context.configuration, [&]<class Adapter>() { churn<Adapter>(context); });
}

std::uint64_t churn_peak_estimate(std::uint64_t size, const Configuration& configuration) {
  return node_container_peak_estimate(size, kStdMapNodeBytes<std::uint64_t>, configuration);
}

const WorkloadRegistration kChurn{{
    .name = "churn",
    .summary = "5 rounds of insert N / look up / clear in the same map: does the peak grow round to round?",
    .order = 40,
    .headline = {"insert_rate", "lookup_rate", "clear_rate", "rss_peak_round1", "rss_peak_round5", "rss_final"},
    .run = run_churn,
    .peak_bytes_estimate = churn_peak_estimate,
}};

}  // namespace
}  // namespace bench
