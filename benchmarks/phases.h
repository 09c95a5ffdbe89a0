// The phases every workload shares: timing, the release step, the settle period and the
// retention counters. One implementation, so every workload's counters mean the same thing.
#pragma once

#include <chrono>
#include <cstddef>

#include "benchmarks/rss.h"
#include "benchmarks/workload.h"

namespace bench {

using Clock = std::chrono::steady_clock;

template <class Function>
double timed_seconds(Function&& function) {
  const auto start = Clock::now();
  function();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs the container's own release step, then the configuration's, timed together as
// `release_seconds`; reports `rss_released` (RSS right after it) and returns it. A configuration
// without a release step reports 0 s and `rss_cleared`, the RSS it was given.
template <class Container>
std::size_t release_step(WorkloadContext& context, Container& container, std::size_t rss_cleared) {
  double seconds = 0;
  std::size_t released = rss_cleared;
  if (context.configuration.has_release_step()) {
    seconds = timed_seconds([&] {
      container.release();
      if (context.configuration.release != nullptr) context.configuration.release();
    });
    released = resident_bytes();
  }
  context.report.counter("release_seconds", seconds);
  context.report.counter("rss_released", static_cast<double>(released));
  return released;
}

// Tells the parent the measured phases are over, then sleeps through the settle period, sampling
// RSS at the fixed offsets (0, 10 ms, 100 ms, 1 s, 5 s, 15 s) that fall within it, each reported as
// rss_at_<offset>. Reports and returns `rss_final`, sampled at the end of the period.
// Touches neither the heap nor the allocator: an idle process is exactly what is being observed.
std::size_t settle(WorkloadContext& context);

// Reports the RSS counters of a build-use-free workload and `retained_pct` =
// 100 * (final - base) / (peak - base).
void report_retention(WorkloadContext& context, std::size_t base, std::size_t peak, std::size_t cleared,
                      std::size_t final_rss);

// The end every build-use-free workload shares once its measured phases are over: where the bytes
// sit (the serving allocator's statistics, then the container's), the release step, the settle
// period and the retention counters. `cleared` is RSS right after the free phase. Returns rss_final.
template <class Container>
std::size_t finish_after_free(WorkloadContext& context, Container& container, std::size_t base, std::size_t peak,
                              std::size_t cleared) {
  context.configuration.library->report_stats(context.report);
  container.report_stats(context.report);
  release_step(context, container, cleared);
  const std::size_t final_rss = settle(context);
  report_retention(context, base, peak, cleared, final_rss);
  return final_rss;
}

// The same for a workload that holds no container adapter (it calls malloc itself, or builds a
// container of its own and frees it before this): only the configuration's release step runs.
std::size_t finish_after_free(WorkloadContext& context, std::size_t base, std::size_t peak, std::size_t cleared);

}  // namespace bench
