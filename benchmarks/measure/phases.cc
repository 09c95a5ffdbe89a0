#include "benchmarks/measure/phases.h"
#include "benchmarks/measure/clock.h"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace bench {
namespace {

void sleep_until(std::int64_t deadline_ns) noexcept {
  timespec ts{};
  ts.tv_sec = deadline_ns / 1'000'000'000;
  ts.tv_nsec = deadline_ns % 1'000'000'000;
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
  }
}

double seconds_of(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }

// Offset of the k-th log-spaced sample (k = 0: 1 ms), in ns: 10 per decade, 10^(k/10) ms rounded to
// the microsecond. Integer arithmetic from a table on purpose: the first call of libm's pow() during
// the settle period would fault in its code pages, and RSS would grow by the pages mapped around
// them (about 128 KiB measured) while nothing else happens.
std::int64_t sample_offset_ns(int k) {
  static constexpr std::int64_t kDecadeMicroseconds[10] = {1000, 1259, 1585, 1995, 2512, 3162, 3981, 5012, 6310, 7943};
  std::int64_t scale = 1;
  for (int decade = k / 10; decade > 0; --decade) scale *= 10;
  return kDecadeMicroseconds[k % 10] * scale * 1000;
}

}  // namespace

CounterName::CounterName(std::string_view first, std::string_view second) noexcept {
  const int n = std::snprintf(text_, sizeof text_, "%.*s_%.*s", static_cast<int>(first.size()), first.data(),
                              static_cast<int>(second.size()), second.data());
  length_ = n < 0 ? 0 : std::min(static_cast<std::size_t>(n), sizeof text_ - 1);
}

ResourceUsage process_usage() noexcept {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return {seconds_of(usage.ru_utime), seconds_of(usage.ru_stime), static_cast<double>(usage.ru_minflt),
          static_cast<double>(usage.ru_majflt)};
}

ResourceUsage operator-(const ResourceUsage& after, const ResourceUsage& before) noexcept {
  return {after.user_seconds - before.user_seconds, after.system_seconds - before.system_seconds, after.minor_faults - before.minor_faults,
          after.major_faults - before.major_faults};
}

void report_usage(CounterSink& out, std::string_view prefix, const ResourceUsage& usage) {
  out.counter(CounterName(prefix, "user_s"), usage.user_seconds, Unit::seconds);
  out.counter(CounterName(prefix, "sys_s"), usage.system_seconds, Unit::seconds);
  out.counter(CounterName(prefix, "minflt"), usage.minor_faults, Unit::count);
  out.counter(CounterName(prefix, "majflt"), usage.major_faults, Unit::count);
}

void report_rate(CounterSink& out, std::string_view phase, double items, double seconds) {
  out.counter(CounterName(phase, "rate"), seconds > 0 ? items / seconds : 0, Unit::items_per_second);
}

void report_latency(CounterSink& out, std::string_view phase, const LatencyHistogram& histogram, double nanoseconds_per_tick) {
  if (histogram.count() == 0) return;
  auto ns = [&](std::uint64_t ticks) { return static_cast<double>(ticks) * nanoseconds_per_tick; };
  out.counter(CounterName(phase, "p50_ns"), ns(histogram.value_at_quantile(0.50)), Unit::nanoseconds);
  out.counter(CounterName(phase, "p99_ns"), ns(histogram.value_at_quantile(0.99)), Unit::nanoseconds);
  out.counter(CounterName(phase, "p999_ns"), ns(histogram.value_at_quantile(0.999)), Unit::nanoseconds);
  out.counter(CounterName(phase, "max_ns"), ns(histogram.max()), Unit::nanoseconds);
}

std::size_t memory_at(WorkloadContext& context, std::string_view point) {
  CounterSink& out = context.report;
  if (const std::optional<SmapsRollup> smaps = read_smaps_rollup()) {
    out.counter(CounterName("smaps_rss", point), static_cast<double>(smaps->rss), Unit::bytes);
    out.counter(CounterName("private_dirty", point), static_cast<double>(smaps->private_dirty), Unit::bytes);
    out.counter(CounterName("anonymous", point), static_cast<double>(smaps->anonymous), Unit::bytes);
    out.counter(CounterName("anon_huge", point), static_cast<double>(smaps->anon_huge_pages), Unit::bytes);
    out.counter(CounterName("lazyfree", point), static_cast<double>(smaps->lazy_free), Unit::bytes);
    out.counter(CounterName("swap", point), static_cast<double>(smaps->swap), Unit::bytes);
  }
  if (const std::optional<CgroupMemory::Reading> cgroup = context.cgroup.read()) {
    out.counter(CounterName("cgroup_current", point), static_cast<double>(cgroup->current), Unit::bytes);
    out.counter(CounterName("cgroup_anon", point), static_cast<double>(cgroup->anon), Unit::bytes);
    out.counter(CounterName("cgroup_file", point), static_cast<double>(cgroup->file), Unit::bytes);
  }
  return resident_bytes();  // last: the statm figure belongs to this moment, after the slower reads
}

std::size_t settle(WorkloadContext& context, const Growth& growth, std::int64_t time_zero_ns) {
  ChildReport& report = context.report;
  report.settling();
  const ResourceUsage usage_before = process_usage();
  const std::int64_t start = time_zero_ns;
  const std::int64_t end = start + context.settle.count();
  Activity& activity = context.activity;
  const std::int64_t period = activity.spec().period.count();
  const double grown = static_cast<double>(growth.peak) - static_cast<double>(growth.base);
  double return_50 = -1, return_90 = -1;

  auto take_sample = [&] {
    const std::int64_t at = monotonic_ns();
    const auto rss = static_cast<double>(resident_bytes());
    const double seconds = static_cast<double>(at - start) / 1e9;
    report.sample(seconds, rss);
    const double above = rss - static_cast<double>(growth.base);
    if (return_50 < 0 && (grown <= 4096 || above <= 0.5 * grown)) return_50 = seconds;
    if (return_90 < 0 && (grown <= 4096 || above <= 0.1 * grown)) return_90 = seconds;
  };

  take_sample();  // the first moment the settle period can sample: offsets already passed are skipped
  int k = 0;
  while (start + sample_offset_ns(k) <= monotonic_ns()) ++k;
  std::int64_t next_activity = monotonic_ns() + period;
  while (true) {
    std::int64_t next_sample = start + sample_offset_ns(k);
    if (next_sample >= end) next_sample = end;
    const bool activity_first = activity.spec().busy() && next_activity < next_sample;
    sleep_until(activity_first ? next_activity : next_sample);
    if (activity_first) {
      activity.step();
      next_activity += period;
      continue;
    }
    if (next_sample == end) break;
    take_sample();
    ++k;
  }
  take_sample();  // the end of the period

  const std::size_t final_rss = memory_at(context, "final");
  const ResourceUsage used = process_usage() - usage_before;
  report.counter("rss_final", static_cast<double>(final_rss), Unit::bytes);
  report.counter("settle_seconds", std::chrono::duration<double>(context.settle).count(), Unit::seconds);
  report.counter("settle_cpu_s", used.user_seconds + used.system_seconds, Unit::seconds);
  report.counter("return_50pct_s", return_50, Unit::seconds);
  report.counter("return_90pct_s", return_90, Unit::seconds);
  activity.report(report);
  return final_rss;
}

void report_retention(WorkloadContext& context, const Growth& growth, std::size_t final_rss) {
  CounterSink& out = context.report;
  out.counter("rss_base", static_cast<double>(growth.base), Unit::bytes);
  out.counter("rss_peak", static_cast<double>(growth.peak), Unit::bytes);
  out.counter("rss_cleared", static_cast<double>(growth.cleared), Unit::bytes);
  const double grown = static_cast<double>(growth.peak) - static_cast<double>(growth.base);
  const double kept = static_cast<double>(final_rss) - static_cast<double>(growth.base);
  // A workload that grew by less than a page retains nothing measurable.
  out.counter("retained_pct", grown > 4096 ? 100.0 * kept / grown : 0.0, Unit::percent);
}

std::size_t finish_after_free(WorkloadContext& context, const Growth& growth) {
  struct NoContainer {
    void release() {}
    void report_stats(CounterSink&) const {}
  } none;
  return finish_after_free(context, none, growth);
}

}  // namespace bench
