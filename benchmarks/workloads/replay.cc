// The replay workload (./bench --replay=TRACE): a recording's calls (benchmarks/replay/replayer.h)
// made again in the child, under the configuration's allocator, with the recording's threads and,
// as recorded, its clock. Measured as every workload is: baseline, the timed phase "replay", peak,
// the free phase with the configuration's release step, the settle period and its timeline.
//
// The free phase of a recording is the moment its program had freed what it frees: the moment
// `cleared` when the recording has one (a workload of the suite's: the map right after clear()),
// otherwise its last phase (a program's own, as it reported them to ./bench; the recorder's `exit`
// snapshot is none), otherwise the end of the calls. The release step runs there, and the settle period and return times count from there
// while the replay goes on with the calls recorded after it; the settle ends no sooner than the
// replay.
//
// Counters besides the shared ones (phases.h): rss_at_<phase> at each of the recording's phases
// (as ./bench reads a program's: rss_<phase>), rss_peak (VmHWM at the free phase, reset at the
// baseline), replay_peak_hwm (the same),
// rss_replay_end (after the last call: a program's rss_end), replay_calls, replay_ns_per_call,
// replay_ns_per_call_in_thread, replay_threads, replay_sync_waits, replay_sleeps, replay_max_lag_s,
// replay_failed, replay_end_live_bytes, replay_own_bytes (the workload file and the live-block
// table: in the baseline, kept out of the growth), and the converter's anomalies (replay_anomaly_*).
// As recorded: replay_quiet_s, the recording's time from its free phase to its next call (or to its
// end, when it makes none), and, when it makes one, rss_resumed: the RSS just before that call (read
// by the thread that makes it, not by a sample) — what the allocator kept through the program's quiet
// period after its moment.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "benchmarks/measure/phases.h"
#include "benchmarks/replay/replayer.h"
#include "benchmarks/workloads/workload.h"

namespace bench {
namespace {

constexpr std::size_t kMaxPhases = 32;  // as a program may report (program_protocol.h)

// Resets this process's VmHWM to its RSS now (proc(5): 5 written to clear_refs), so that the peak
// read later is the replay's; false where the kernel refuses.
bool reset_high_water_mark() noexcept {
  const int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, "5", 1) == 1;
  ::close(fd);
  return ok;
}

// VmHWM of this process, in bytes (0 when it cannot be read); no allocation.
std::size_t high_water_mark() noexcept {
  char buffer[4096];
  const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  const ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buffer[n] = '\0';
  const char* line = std::strstr(buffer, "VmHWM:");
  return line == nullptr ? 0 : std::strtoull(line + 6, nullptr, 10) * 1024;  // "VmHWM:   1234 kB"
}

replay::Timing timing_of(std::string_view text) {
  if (text == "fast") return replay::Timing::fast;
  if (text == "as-recorded" || text.empty()) return replay::Timing::as_recorded;
  throw WorkloadFailure("replay timing '" + std::string(text) + "': expected fast or as-recorded");
}

replay::Fill fill_of(std::string_view text) {
  if (text == "all-bytes" || text.empty()) return replay::Fill::all_bytes;
  if (text == "one-write-a-page") return replay::Fill::one_write_a_page;
  throw WorkloadFailure("replay fill '" + std::string(text) + "': expected all-bytes or one-write-a-page");
}

void run_replay(WorkloadContext& context) {
  if (context.replay_path.empty()) throw WorkloadFailure("the replay workload runs only under ./bench --replay=TRACE");
  ChildReport& report = context.report;
  replay::Workload workload{std::string(context.replay_path)};  // its own mappings, pre-faulted: in the baseline
  const replay::Summary& summary = workload.summary();

  // The free phase (the parent's choice, by the rule above: driver/replays.h): the first phase of
  // that name, or the end.
  auto is_free_phase = [&](const replay::PhaseEvent& phase) {
    return phase.kind == replay::PhaseEvent::Kind::end || (!context.replay_free_phase.empty() && phase.name == context.replay_free_phase);
  };

  struct PhaseReading {
    std::string_view name;
    std::size_t rss;
  };
  PhaseReading readings[kMaxPhases];
  std::size_t read = 0, unread = 0;
  Growth growth{};
  std::int64_t time_zero = 0;
  bool freed = false;
  bool freed_by_phase = false;
  double free_phase_s = 0, resumed_s = -1;
  std::size_t resumed_rss = 0;
  auto at_free_phase = [&] {
    growth.cleared = resident_bytes();
    growth.peak = std::max(high_water_mark(), growth.cleared);
    time_zero = monotonic_ns();
    if (!context.configuration.has_release_step()) start_timeline(context, time_zero);
    heap_map_moment("cleared");
    context.configuration.library->report_stats(context.report);
    struct NoContainer {
      void release() {}
    } none;
    release_step(context, none, growth.cleared);
    if (context.configuration.has_release_step()) {
      time_zero = monotonic_ns();
      start_timeline(context, time_zero);
      heap_map_moment("released");
    }
    freed = true;
  };

  replay::ReplayOptions options{.timing = timing_of(context.replay_timing), .fill = fill_of(context.replay_fill)};
  options.on_phase = [&](const replay::PhaseEvent& phase) {
    if (phase.kind != replay::PhaseEvent::Kind::end) {
      if (read < kMaxPhases)
        readings[read++] = {phase.name, resident_bytes()};
      else
        ++unread;
    }
    if (!freed && is_free_phase(phase)) {
      free_phase_s = phase.recorded_s;
      freed_by_phase = true;
      at_free_phase();
    }
  };
  // The end of the program's quiet period after the free phase: the RSS just before its next call
  // (as recorded; a program that calls on at once has none worth the name, and one that never calls
  // again has none).
  options.resume_after = context.replay_free_phase;
  options.on_resume = [&](double recorded_s) {
    resumed_rss = resident_bytes();
    resumed_s = recorded_s;
  };

  growth.base = resident_bytes();
  if (!reset_high_water_mark()) throw WorkloadFailure("cannot reset VmHWM (/proc/self/clear_refs): the replay's peak would be another's");
  replay::ReplayResult result;
  timed_phase(report, "replay", [&] { result = workload.replay(options); });
  const std::size_t end_rss = resident_bytes();
  if (!freed) at_free_phase();  // a workload without an end event (none is written without one)

  for (std::size_t i = 0; i < read; ++i)
    report.counter(CounterName("rss_at", readings[i].name), static_cast<double>(readings[i].rss), Unit::bytes);
  report.counter("replay_phases_unread", static_cast<double>(unread), Unit::count);
  if (resumed_s >= 0) report.counter("rss_resumed", static_cast<double>(resumed_rss), Unit::bytes);
  if (options.timing == replay::Timing::as_recorded && freed_by_phase)
    report.counter("replay_quiet_s", (resumed_s >= 0 ? resumed_s : static_cast<double>(summary.duration_us) / 1e6) - free_phase_s,
                   Unit::seconds);
  report.counter("rss_replay_end", static_cast<double>(end_rss), Unit::bytes);
  report.counter("replay_peak_hwm", static_cast<double>(growth.peak), Unit::bytes);
  report.counter("replay_own_bytes", static_cast<double>(workload.own_bytes()), Unit::bytes);
  report.counter("replay_calls", static_cast<double>(result.calls), Unit::count);
  report.counter("replay_ns_per_call", result.ns_per_call, Unit::nanoseconds);
  report.counter("replay_ns_per_call_in_thread", result.ns_per_call_in_thread, Unit::nanoseconds);
  report.counter("replay_threads", static_cast<double>(result.threads), Unit::count);
  report.counter("replay_sync_waits", static_cast<double>(result.sync_waits), Unit::count);
  report.counter("replay_sync_wait_seconds", result.sync_wait_seconds, Unit::seconds);
  report.counter("replay_sleeps", static_cast<double>(result.sleeps), Unit::count);
  report.counter("replay_max_lag_s", result.max_lag_s, Unit::seconds);
  report.counter("replay_failed", static_cast<double>(result.failed), Unit::count);
  report.counter("replay_bad_ops", static_cast<double>(result.bad_ops), Unit::count);
  report.counter("replay_end_live_bytes", static_cast<double>(result.end_live_bytes), Unit::bytes);
  report.counter("replay_recorded_seconds", static_cast<double>(summary.duration_us) / 1e6, Unit::seconds);
  replay::Anomalies::fields(result.anomalies, [&](const char* name, std::uint64_t v) {
    report.counter(CounterName("replay_anomaly", name), static_cast<double>(v), Unit::count);
  });
  if (result.calls > 0) report_rate(report, "replay", static_cast<double>(result.calls), result.seconds);
  report.time(result.seconds);
  if (result.bad_ops != 0) throw WorkloadFailure(std::to_string(result.bad_ops) + " ops of the workload were out of its range");

  context.probe.run();
  const std::size_t final_rss = settle(context, growth, time_zero);
  heap_map_moment("final");
  report_retention(context, growth, final_rss);
}

const WorkloadRegistration kReplay{{
    .name = "replay",
    .summary = "a recording's calls made again, with its threads and its clock (./bench --replay=TRACE)",
    .order = 90,
    .process_level_only = true,
    .replay = true,
    .cleared_moment = "at the recording's free phase",
    .headline = {"replay_ns_per_call", "rss_base", "rss_peak", "rss_cleared", "rss_final", "release_seconds", "return_50pct_s"},
    .run = run_replay,
    // No peak_bytes_estimate: the launcher estimates a replay's peak from its recording (its peak live
    // bytes, driver/launcher.cc), which the workload's size cannot give.
}};

}  // namespace
}  // namespace bench
