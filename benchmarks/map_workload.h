// The seed's experiment: insert N MD5 keys into a map, look every key up, clear the map, release,
// settle. Templated on the value type for the value-size sweep.
#pragma once

#include <string>

#include "allocators/containers.h"
#include "benchmarks/phases.h"
#include "benchmarks/workload.h"

namespace bench {

template <class Value>
std::uint64_t value_id(const Value& v) { return static_cast<std::uint64_t>(v); }

template <class Adapter>
void run_map(WorkloadContext& context) {
  auto& report = context.report;
  const double n = static_cast<double>(context.size);
  Adapter container;  // constructed (empty) before the baseline: its own bookkeeping is not growth

  const std::size_t base = resident_bytes();
  const double insert_seconds = timed_seconds([&] { container.load(context.keys); });
  const std::size_t peak = resident_bytes();

  std::uint64_t wrong = 0;
  const double lookup_seconds = timed_seconds([&] {
    for (std::uint64_t i = 0; i < context.size; ++i) {
      const auto* value = container.find(context.keys[i]);
      wrong += (value == nullptr || value_id(*value) != i) ? 1 : 0;
    }
  });
  if (wrong != 0) throw WorkloadFailure(std::to_string(wrong) + " of " + std::to_string(context.size) + " keys were not found after insert");

  const double clear_seconds = timed_seconds([&] { container.clear(); });
  const std::size_t cleared = resident_bytes();

  report.counter("insert_rate", n / insert_seconds);
  report.counter("lookup_rate", n / lookup_seconds);
  report.counter("clear_rate", n / clear_seconds);
  report.time(insert_seconds + lookup_seconds + clear_seconds);

  // Where the bytes sit right after clear, in the allocator's own words.
  context.configuration.library->report_stats(report);
  container.report_stats(report);

  release_step(context, container, cleared);
  const std::size_t final_rss = settle(context);
  report_retention(context, base, peak, cleared, final_rss);
}

}  // namespace bench
