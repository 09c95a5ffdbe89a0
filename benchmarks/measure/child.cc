#include "benchmarks/measure/child.h"

#include <time.h>

#include <algorithm>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "benchmarks/measure/clock.h"
#include "benchmarks/measure/context.h"
#include "benchmarks/measure/heap_map_moment.h"
#include "benchmarks/measure/served_by.h"
#include "benchmarks/protocol/child_protocol.h"
#include "benchmarks/workloads/workload.h"

namespace bench {
namespace {

// In a sanitizer build, ASan's runtime is the only allocator a process can have: accepted for the
// configurations that preload nothing, and said so in the row's label.
bool served_by_address_sanitizer(const MallocLibrary& library, const ServedBy& served) {
  return kAddressSanitizerBuild && !library.preloaded && served.malloc_library.find("libasan") != std::string::npos &&
         served.new_library.find("libasan") != std::string::npos;
}

// Writes 256 KiB of stack, so that the deeper frames of the settle period (smaps_rollup's 4 KiB
// buffer, snprintf) find their stack pages already resident: a page faulted in there would count as
// memory kept.
[[gnu::noinline]] void touch_stack() {
  volatile char stack[256 * 1024];
  for (std::size_t i = 0; i < sizeof stack; i += 4096) stack[i] = 0;
}

// Forwards the options a library reports (opt_<name>) and keeps them, so that the configuration's
// expected settings can be checked against what the library says it runs with.
class OptionRecorder final : public CounterSink {
 public:
  explicit OptionRecorder(CounterSink& out) : out_(out) {}
  void counter(std::string_view name, double value, Unit unit) override {
    out_.counter(name, value, unit);
    options_.emplace_back(std::string(name), value);
  }
  const std::vector<ReportedOption>& options() const { return options_; }

 private:
  CounterSink& out_;
  std::vector<ReportedOption> options_;
};

}  // namespace

int child_main(int argc, char** argv) {
  ChildReport report(kResultFd);
  report.ready(monotonic_ns());
  try {
    const ChildArguments arguments = ChildArguments::decode(argc, argv);
    const bool probe_only = arguments.workload == "probe";  // verify and describe, measure nothing
    const Workload* workload = find_workload(arguments.workload);
    const Configuration* configuration = find_configuration(arguments.configuration);
    if (workload == nullptr && !probe_only) throw std::runtime_error("unknown workload " + arguments.workload);
    if (configuration == nullptr) throw std::runtime_error("unknown configuration " + arguments.configuration);

    // Verify before measuring: a row must never be labelled with an allocator that did not serve it.
    const ServedBy served = find_served_by();
    std::string note;
    if (const std::string problem = check_served_by(*configuration->library, served); !problem.empty()) {
      if (!served_by_address_sanitizer(*configuration->library, served)) {
        report.error(problem);
        return 3;
      }
      note = " (AddressSanitizer build: ASan's allocator serves this process; figures are not the configuration's)";
    }
    if (!served.interposer.empty()) note += " (behind the heap map's interposer " + served.interposer + ")";
    report.label("malloc=" + served.malloc_library + " new=" + served.new_library + " version=" + configuration->library->version() + note);
    if (configuration->setup != nullptr) configuration->setup();
    OptionRecorder options(report);
    configuration->library->report_options(options);
    // Under ASan the settings describe an allocator that does not serve (the note says so).
    if (const std::string problem = setting_mismatch(*configuration, options.options()); !problem.empty() && note.empty()) {
      report.error(problem);
      return 3;
    }
    if (probe_only) {
      report.done();
      return 0;
    }
    if (configuration->library->prepare != nullptr) configuration->library->prepare();
    prepare_heap_map();
    touch_stack();
    ActivitySpec activity_spec;
    if (!arguments.activity.empty()) activity_spec = ActivitySpec::parse(arguments.activity);
    activity_spec.period = arguments.activity_period;
    Activity activity(activity_spec);
    activity.prepare();        // before the baseline: the steady working set belongs to it
    TimelineSampler timeline;  // its thread too: started now, waiting, it is part of the baseline

    const auto keys = map_key_file(kKeyFd, arguments.size);
    const CgroupMemory cgroup = CgroupMemory::find();
    SpeedProbe probe(kProbeFd);
    WorkloadContext context{.configuration = *configuration,
                            .size = arguments.size,
                            .keys = keys,
                            .settle = arguments.settle,
                            .activity = activity,
                            .rounds = arguments.rounds,
                            .pause = arguments.pause,
                            .time_operations = arguments.time_operations,
                            .report = report,
                            .probe = probe,
                            .cgroup = cgroup,
                            .timeline = timeline,
                            .replay_path = arguments.replay,
                            .replay_timing = arguments.replay_timing,
                            .replay_fill = arguments.replay_fill,
                            .replay_free_phase = arguments.replay_free_phase};
    probe.run();  // the machine's speed right before the first timed phase (the last: finish_after_free)
    workload->run(context);
    probe.report(report);
    report.done();
    return 0;
  } catch (const std::exception& e) {
    report.error(e.what());
    return 1;
  }
}

}  // namespace bench
