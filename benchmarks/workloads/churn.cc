// Churn: five rounds of insert N / look up / clear in the same map. An allocator that reuses what
// the previous round freed peaks at the same RSS every round; one that does not grows round to round.
// Per round: rss_peak_round<i> (after insert) and rss_cleared_round<i> (after clear). The usual
// retention counters describe the last round against the baseline taken before the first; the rates
// cover all rounds.
#include <array>
#include <string>

#include "benchmarks/map_workload.h"
#include "benchmarks/workloads/entry_points.h"

namespace bench {
namespace {

constexpr int kRounds = 5;
// Spelled out: counter names built at run time would allocate between the samples.
constexpr std::array<const char*, kRounds> kPeakCounters = {"rss_peak_round1", "rss_peak_round2", "rss_peak_round3",
                                                            "rss_peak_round4", "rss_peak_round5"};
constexpr std::array<const char*, kRounds> kClearedCounters = {"rss_cleared_round1", "rss_cleared_round2", "rss_cleared_round3",
                                                               "rss_cleared_round4", "rss_cleared_round5"};

template <class Adapter>
void churn(WorkloadContext& context) {
  auto& report = context.report;
  Adapter container;

  const std::size_t base = resident_bytes();
  std::size_t peak = base, cleared = base;
  double insert_seconds = 0, lookup_seconds = 0, clear_seconds = 0;
  for (int round = 0; round < kRounds; ++round) {
    insert_seconds += timed_seconds([&] { container.load(context.keys); });
    peak = resident_bytes();
    std::uint64_t wrong = 0;
    lookup_seconds += timed_seconds([&] { wrong = wrong_lookups(container, context.keys); });
    if (wrong != 0)
      throw WorkloadFailure(std::to_string(wrong) + " of " + std::to_string(context.size) + " keys were not found in round " +
                            std::to_string(round + 1));
    clear_seconds += timed_seconds([&] { container.clear(); });
    cleared = resident_bytes();
    report.counter(kPeakCounters[static_cast<std::size_t>(round)], static_cast<double>(peak));
    report.counter(kClearedCounters[static_cast<std::size_t>(round)], static_cast<double>(cleared));
  }

  const double entries = static_cast<double>(context.size) * kRounds;
  report.counter("insert_rate", entries / insert_seconds);
  report.counter("lookup_rate", entries / lookup_seconds);
  report.counter("clear_rate", entries / clear_seconds);
  report.time(insert_seconds + lookup_seconds + clear_seconds);
  finish_after_free(context, container, base, peak, cleared);
}

}  // namespace

void run_churn(WorkloadContext& context) {
  with_container<std::uint64_t>(context.configuration.container, [&]<class Adapter>() { churn<Adapter>(context); });
}

}  // namespace bench
