#include "benchmarks/measure/phases.h"
#include "benchmarks/measure/clock.h"
#include "benchmarks/measure/exact.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
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

}  // namespace

CounterName::CounterName(std::string_view first, std::string_view second) noexcept {
  const int n = std::snprintf(text_, sizeof text_, "%.*s_%.*s", static_cast<int>(first.size()), first.data(),
                              static_cast<int>(second.size()), second.data());
  length_ = n < 0 ? 0 : std::min(static_cast<std::size_t>(n), sizeof text_ - 1);
}

// The machine's busy CPU time so far: /proc/stat's "cpu" line, user nice system idle iowait irq
// softirq steal ... (proc(5)); guest time is part of user. Read into a fixed buffer: no allocation.
double machine_busy_seconds() noexcept {
  // Under valgrind (--exact) the machine's time means nothing, and reading a file of varying text
  // between counted phases would leave a varying cache behind for the next one.
  if (RUNNING_ON_VALGRIND != 0) return 0;
  const int fd = ::open("/proc/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[512];
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 4) return 0;
  text[n] = '\0';
  unsigned long long field[8] = {};
  if (std::sscanf(text, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &field[0], &field[1], &field[2], &field[3], &field[4], &field[5],
                  &field[6], &field[7]) < 4)
    return 0;
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return static_cast<double>(field[0] + field[1] + field[2] + field[5] + field[6] + field[7]) / ticks;
}

ResourceUsage process_usage() noexcept {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return {seconds_of(usage.ru_utime), seconds_of(usage.ru_stime), static_cast<double>(usage.ru_minflt),
          static_cast<double>(usage.ru_majflt), machine_busy_seconds()};
}

ResourceUsage operator-(const ResourceUsage& after, const ResourceUsage& before) noexcept {
  return {after.user_seconds - before.user_seconds, after.system_seconds - before.system_seconds, after.minor_faults - before.minor_faults,
          after.major_faults - before.major_faults, after.machine_busy_seconds - before.machine_busy_seconds};
}

ResourceUsage operator+(const ResourceUsage& a, const ResourceUsage& b) noexcept {
  return {a.user_seconds + b.user_seconds, a.system_seconds + b.system_seconds, a.minor_faults + b.minor_faults,
          a.major_faults + b.major_faults, a.machine_busy_seconds + b.machine_busy_seconds};
}

void report_usage(CounterSink& out, std::string_view prefix, const ResourceUsage& usage) {
  out.counter(CounterName(prefix, "user_s"), usage.user_seconds, Unit::seconds);
  out.counter(CounterName(prefix, "sys_s"), usage.system_seconds, Unit::seconds);
  out.counter(CounterName(prefix, "minflt"), usage.minor_faults, Unit::count);
  out.counter(CounterName(prefix, "majflt"), usage.major_faults, Unit::count);
  out.counter(CounterName(prefix, "beside_cpu_s"), std::max(0.0, usage.machine_busy_seconds - usage.user_seconds - usage.system_seconds),
              Unit::seconds);
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

void start_timeline(WorkloadContext& context, std::int64_t time_zero_ns) {
  context.timeline.start(time_zero_ns, time_zero_ns + context.settle.count());
}

std::size_t settle(WorkloadContext& context, const Growth& growth, std::int64_t time_zero_ns) {
  ChildReport& report = context.report;
  report.settling();
  const ResourceUsage usage_before = process_usage();
  if (!context.timeline.started()) start_timeline(context, time_zero_ns);
  const std::int64_t start = time_zero_ns;
  const std::int64_t end = start + context.settle.count();
  Activity& activity = context.activity;
  if (activity.spec().busy())
    for (std::int64_t next = monotonic_ns() + activity.spec().period.count(); next < end; next += activity.spec().period.count()) {
      sleep_until(next);
      activity.step();
    }
  const double grown = static_cast<double>(growth.peak) - static_cast<double>(growth.base);
  double return_50 = -1, return_90 = -1, first = -1;
  for (const TimelineSampler::Sample& sample : context.timeline.finish()) {
    const double seconds = static_cast<double>(sample.at_ns - start) / 1e9;
    const auto rss = static_cast<double>(sample.rss_bytes);
    report.sample(seconds, rss);
    if (first < 0) first = seconds;
    const double above = rss - static_cast<double>(growth.base);
    if (return_50 < 0 && (grown <= 4096 || above <= 0.5 * grown)) return_50 = seconds;
    if (return_90 < 0 && (grown <= 4096 || above <= 0.1 * grown)) return_90 = seconds;
  }

  const std::size_t final_rss = memory_at(context, "final");
  const ResourceUsage used = process_usage() - usage_before;
  report.counter("rss_final", static_cast<double>(final_rss), Unit::bytes);
  report.counter("settle_seconds", std::chrono::duration<double>(context.settle).count(), Unit::seconds);
  report.counter("settle_cpu_s", used.user_seconds + used.system_seconds, Unit::seconds);
  report.counter("first_sample_s", first, Unit::seconds);
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
