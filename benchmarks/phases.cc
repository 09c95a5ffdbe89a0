#include "benchmarks/phases.h"

#include <time.h>

#include <array>

namespace bench {
namespace {

struct SettleSample {
  std::chrono::milliseconds offset;
  const char* counter;
};
// The seed's own observation point is 15 s.
constexpr std::array<SettleSample, 6> kSettleSamples = {{{std::chrono::milliseconds{0}, "rss_at_0ms"},
                                                         {std::chrono::milliseconds{10}, "rss_at_10ms"},
                                                         {std::chrono::milliseconds{100}, "rss_at_100ms"},
                                                         {std::chrono::milliseconds{1000}, "rss_at_1s"},
                                                         {std::chrono::milliseconds{5000}, "rss_at_5s"},
                                                         {std::chrono::milliseconds{15000}, "rss_at_15s"}}};

void sleep_until(std::int64_t deadline_ns) {
  timespec ts{};
  ts.tv_sec = deadline_ns / 1'000'000'000;
  ts.tv_nsec = deadline_ns % 1'000'000'000;
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
  }
}

}  // namespace

std::size_t finish_after_free(WorkloadContext& context, std::size_t base, std::size_t peak, std::size_t cleared) {
  struct NoContainer {
    void release() {}
    void report_stats(CounterSink&) const {}
  } none;
  return finish_after_free(context, none, base, peak, cleared);
}

std::size_t settle(WorkloadContext& context) {
  context.report.settling();
  const std::int64_t start = monotonic_ns();
  for (const SettleSample& sample : kSettleSamples) {
    const Nanoseconds at = sample.offset;
    if (at > context.settle) break;
    sleep_until(start + at.count());
    context.report.counter(sample.counter, static_cast<double>(resident_bytes()));
  }
  sleep_until(start + context.settle.count());
  const std::size_t final_rss = resident_bytes();
  context.report.counter("settle_seconds", std::chrono::duration<double>(context.settle).count());
  context.report.counter("rss_final", static_cast<double>(final_rss));
  return final_rss;
}

void report_retention(WorkloadContext& context, std::size_t base, std::size_t peak, std::size_t cleared,
                      std::size_t final_rss) {
  context.report.counter("rss_base", static_cast<double>(base));
  context.report.counter("rss_peak", static_cast<double>(peak));
  context.report.counter("rss_cleared", static_cast<double>(cleared));
  const double growth = static_cast<double>(peak) - static_cast<double>(base);
  const double kept = static_cast<double>(final_rss) - static_cast<double>(base);
  // A workload that grew by less than a page retains nothing measurable.
  context.report.counter("retained_pct", growth > 4096 ? 100.0 * kept / growth : 0.0);
}

}  // namespace bench
