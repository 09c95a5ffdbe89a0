// The phases every workload shares: timing with CPU time and faults, latency percentiles, memory
// snapshots, the release step, the settle period and the retention counters. One implementation,
// so every workload's counters mean the same thing.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

#include "benchmarks/measure/clock.h"
#include "benchmarks/measure/context.h"
#include "benchmarks/measure/exact.h"
#include "benchmarks/measure/heap_map_moment.h"
#include "benchmarks/measure/latency.h"
#include "benchmarks/measure/memory.h"

namespace bench {

using Clock = std::chrono::steady_clock;

// Runs `function` as the timed (or, under --exact, counted: exact.h) phase `phase`; returns its
// wall time.
template <class Function>
double timed_seconds(std::string_view phase, Function&& function) {
  const auto start = Clock::now();
  {
    const CountedPhase counted(phase);  // the body alone: not the clock reads around it
    function();
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A counter name "<first>_<second>" built in a fixed buffer: counters are named while the heap
// under test must not be touched.
class CounterName {
 public:
  CounterName(std::string_view first, std::string_view second) noexcept;
  operator std::string_view() const noexcept { return {text_, length_}; }

 private:
  char text_[96];
  std::size_t length_;
};

// CPU time and page faults of the whole process (every thread, getrusage(RUSAGE_SELF)), and the CPU
// time the whole machine was busy (every CPU, /proc/stat's first line: all but idle and iowait, in
// clock ticks of 10 ms).
struct ResourceUsage {
  double user_seconds = 0;
  double system_seconds = 0;
  double minor_faults = 0;
  double major_faults = 0;
  double machine_busy_seconds = 0;
};
ResourceUsage process_usage() noexcept;
ResourceUsage operator-(const ResourceUsage& after, const ResourceUsage& before) noexcept;
ResourceUsage operator+(const ResourceUsage& a, const ResourceUsage& b) noexcept;

// <prefix>_user_s, <prefix>_sys_s, <prefix>_minflt, <prefix>_majflt, and <prefix>_beside_cpu_s: the
// CPU time the rest of the machine used meanwhile (the machine's busy time less this process's) —
// other children, ./bench, anything else — so that a timed phase says how quiet it was.
void report_usage(CounterSink& out, std::string_view prefix, const ResourceUsage& usage);

// Runs `body` as the timed phase `phase`: returns its wall time and reports <phase>_seconds and
// the phase's CPU time and faults (report_usage).
template <class Body>
double timed_phase(CounterSink& out, std::string_view phase, Body&& body) {
  const ResourceUsage before = process_usage();
  const double seconds = timed_seconds(phase, body);
  report_usage(out, phase, process_usage() - before);
  out.counter(CounterName(phase, "seconds"), seconds, Unit::seconds);
  return seconds;
}

// <phase>_rate: items per second.
void report_rate(CounterSink& out, std::string_view phase, double items, double seconds);

// <phase>_p50_ns, <phase>_p99_ns, <phase>_p999_ns, <phase>_max_ns from a histogram of ticks.
void report_latency(CounterSink& out, std::string_view phase, const LatencyHistogram& histogram, double nanoseconds_per_tick);

// RSS (statm) at a named point of the experiment, and where its bytes are: smaps_rss_<point>,
// private_dirty_<point>, anonymous_<point>, anon_huge_<point>, lazyfree_<point>, swap_<point>,
// and in a cgroup v2 with memory accounting cgroup_current_<point>, cgroup_anon_<point>,
// cgroup_file_<point>. Returns the statm RSS in bytes.
std::size_t memory_at(WorkloadContext& context, std::string_view point);

// The RSS figures that define the growth a workload's free phase should undo.
struct Growth {
  std::size_t base;     // before the container is filled
  std::size_t peak;     // filled
  std::size_t cleared;  // right after the free phase (clear, erase, free)
};

// Runs the container's own release step, then the configuration's, as the timed phase "release";
// reports `rss_released` (and its memory_at snapshot "released") and returns it. A configuration
// without a release step reports release_seconds = 0 and rss_released = rss_cleared.
template <class Container>
std::size_t release_step(WorkloadContext& context, Container& container, std::size_t rss_cleared) {
  if (!context.configuration.has_release_step()) {
    context.report.counter("release_seconds", 0, Unit::seconds);
    context.report.counter("rss_released", static_cast<double>(rss_cleared), Unit::bytes);
    return rss_cleared;
  }
  timed_phase(context.report, "release", [&] {
    container.release();
    if (context.configuration.release->process_call != nullptr) context.configuration.release->process_call();
  });
  const std::size_t released = memory_at(context, "released");
  context.report.counter("rss_released", static_cast<double>(released), Unit::bytes);
  return released;
}

// Time zero of the settle period: the end of the free phase, or of the release step when there is
// one. The timeline's own thread (timeline.h) samples RSS from then on — at once, then at the
// log-spaced offsets from time zero (10 per decade from 1 ms) and at its end, `context.settle`
// later — whatever the main thread does meanwhile.
void start_timeline(WorkloadContext& context, std::int64_t time_zero_ns);

// Tells the parent the measured phases are over, then lets the settle period run to its end (with a
// busy activity, context.h, one activity step every period) and reports the timeline (started at
// time zero by start_timeline, or here), each sample as a `sample` line with its offset from time
// zero. Reports rss_final (with its memory_at snapshot "final"), settle_seconds, settle_cpu_s (the
// CPU time the process used meanwhile, its background threads included), first_sample_s (the first
// sample's offset from time zero), return_50pct_s / return_90pct_s: seconds after time zero until
// RSS above the baseline first fell to 50 % / 10 % of the growth (-1: not within the period), and
// the activity's counters. Idle, it touches neither the heap nor the allocator. Returns rss_final.
std::size_t settle(WorkloadContext& context, const Growth& growth, std::int64_t time_zero_ns);

// rss_base, rss_peak, rss_cleared and retained_pct = 100 * (final - base) / (peak - base).
void report_retention(WorkloadContext& context, const Growth& growth, std::size_t final_rss);

// The end every build-use-free workload shares once its measured phases are over: the machine-speed
// probe's second run, where the bytes sit (the serving allocator's statistics, then the
// container's), the release step, the settle period and the retention counters. Returns rss_final.
// Under --heap-map, the heap map's snapshots are taken right after the free phase ("cleared"),
// after the release step ("released", when there is one) and at the end of the settle period
// ("final").
template <class Container>
std::size_t finish_after_free(WorkloadContext& context, Container& container, const Growth& growth) {
  std::int64_t time_zero = monotonic_ns();  // the free phase is over
  if (!context.configuration.has_release_step()) start_timeline(context, time_zero);
  heap_map_moment("cleared");
  context.probe.run();
  context.configuration.library->report_stats(context.report);
  container.report_stats(context.report);
  release_step(context, container, growth.cleared);
  if (context.configuration.has_release_step()) {
    time_zero = monotonic_ns();
    start_timeline(context, time_zero);
    heap_map_moment("released");
  }
  const std::size_t final_rss = settle(context, growth, time_zero);
  heap_map_moment("final");
  report_retention(context, growth, final_rss);
  return final_rss;
}

// The same for a workload that holds no container adapter (it calls malloc itself, or builds a
// container of its own and frees it before this): only the configuration's release step runs.
std::size_t finish_after_free(WorkloadContext& context, const Growth& growth);

}  // namespace bench
