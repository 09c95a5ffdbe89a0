#include "benchmarks/driver/description.h"

#include <algorithm>
#include <fstream>
#include <thread>

#include "benchmarks/interposer/heap_map.h"
#include "benchmarks/measure/memory.h"
#include "benchmarks/trace/format.h"
#include "benchmarks/trace/ring.h"
#include "benchmarks/workloads/workload.h"

namespace bench {
namespace {

std::string read_first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

const std::vector<std::string> kProgramHeadline = {"wall_seconds", "user_seconds", "sys_seconds", "rss_peak", "rss_mean", "rss_end"};

// One entry per name results carry: a workload with an active settle period once per --activity
// spec (map_active:batch, ...), with the activity it ran.
nlohmann::json workloads_json(const Flags& flags) {
  nlohmann::json list = nlohmann::json::array();
  for (const Workload& w : workloads()) {
    if (w.replay) continue;  // one entry per recording, from the instances (RunDescription)
    nlohmann::json headline = nlohmann::json::array();
    for (std::string_view counter : w.headline) headline.push_back(counter);
    const bool active = w.settle_mode == SettleMode::active;
    for (const std::string& activity : workload_activities(w, flags)) {
      nlohmann::json activity_json;  // null when idle
      if (active) {
        ActivitySpec spec = ActivitySpec::parse(activity);
        spec.period = flags.activity_period;
        activity_json = {{"pattern", spec.name()},
                         {"spec", spec.text()},
                         {"period_seconds", std::chrono::duration<double>(spec.period).count()},
                         {"description", spec.description()}};
      }
      list.push_back({{"name", workload_instance_name(w, activity)},
                      {"workload", w.name},
                      {"summary", w.summary},
                      {"process_level_only", w.process_level_only},
                      {"settle", active ? "active" : "idle"},
                      {"activity", activity_json},
                      {"cleared_moment", w.cleared_moment},
                      {"uses_rounds", w.uses_rounds},
                      {"headline", headline}});
    }
  }
  return list;
}

}  // namespace

nlohmann::json configurations_json() {
  nlohmann::json list = nlohmann::json::array();
  for (const Configuration& c : configurations()) {
    nlohmann::json environment = nlohmann::json::object();
    for (const EnvironmentVariable& v : c.environment) environment[std::string(v.name)] = v.value;
    list.push_back({{"name", c.name},
                    {"summary", c.summary},
                    {"kind", kind_name(c.kind)},
                    {"library", c.library->name},
                    {"library_path", c.library->preload_path},
                    {"reference", c.reference.empty() ? nlohmann::json() : nlohmann::json(c.reference)},
                    {"release_step", c.has_release_step()},
                    {"release_call", c.release ? nlohmann::json(c.release->description) : nlohmann::json()},
                    {"huge_pages", c.huge_pages},
                    {"environment", environment},
                    {"container_level", c.is_container_level()},
                    {"available", c.available()},
                    {"unavailable_reason", c.library->missing_reason},
                    {"command_skip_reason", command_skip_reason(c)}});
  }
  return list;
}

namespace {

nlohmann::json skipped_configurations() {
  nlohmann::json skipped = nlohmann::json::array();
  for (const Configuration& c : configurations())
    if (const std::string reason = command_skip_reason(c); !reason.empty())
      skipped.push_back({{"configuration", c.name}, {"reason", reason}});
  return skipped;
}

nlohmann::json scenario_json(const Scenario& s) {
  nlohmann::json needs = nlohmann::json::array(), phases = nlohmann::json::array(), environment = nlohmann::json::object();
  for (const ScenarioNeed& n : s.needs) needs.push_back({{"program", n.program}, {"package", n.package}});
  for (const ScenarioPhase& p : s.phases) phases.push_back({{"name", p.name}, {"description", p.description}, {"settling", p.settling}});
  for (const auto& [name, value] : s.environment) environment[name] = value;
  return {{"name", s.name},
          {"file", s.file},
          {"demonstrates", s.demonstrates},
          {"needs", needs},
          {"measure", s.measure.empty() ? nlohmann::json() : nlohmann::json(s.measure)},
          {"environment", environment},
          {"variant_of", s.variant_of.empty() ? nlohmann::json() : nlohmann::json(s.variant_of)},
          {"variant_change", s.variant_change},
          {"phases", phases}};
}

}  // namespace

RunDescription::RunDescription(const Flags& flags, const std::vector<InstanceSpec>& selected, const std::string& program,
                               const std::string& command_output, const std::optional<ExactMode>& exact) {
  const CgroupMemory cgroup = CgroupMemory::find();
  nlohmann::json sizes = nlohmann::json::array();
  for (std::uint64_t size : flags.sizes) sizes.push_back(size);
  document_ = {{"schema", 1},
               {"configurations", configurations_json()},
               {"workloads", workloads_json(flags)},
               {"counters", nlohmann::json::object()},
               {"instances", nlohmann::json::object()},
               {"series", nlohmann::json::object()},
               {"order", flags.random_interleaving ? "random" : "rounds"},
               {"repetitions", flags.repetitions},
               {"sizes", sizes},
               {"settle_seconds", std::chrono::duration<double>(flags.settle).count()},
               {"rounds", flags.rounds},
               {"pause_seconds", std::chrono::duration<double>(flags.pause).count()},
               {"latency", flags.latency},
               {"machine",
                {{"cpus", std::thread::hardware_concurrency()},
                 {"cgroup_v2_memory", cgroup.present()},
                 {"cgroup_note", cgroup.present() ? "memory.current and memory.stat of " + cgroup.directory() : cgroup.absence_reason()}}}};
  if (exact) {
    std::vector<std::string> command = callgrind_command(*exact, "<dir>", "bench");
    std::string text;
    for (const std::string& part : command) text += (text.empty() ? "" : " ") + part;
    document_["measurement"] = {{"mode", "exact"},
                                {"tool", "callgrind"},
                                {"valgrind", exact->version},
                                {"command", text},
                                {"caches", {{"i1", kExactI1}, {"d1", kExactD1}, {"ll", kExactLL}}},
                                {"cycles_formula", kCyclesFormula},
                                {"rss_note",
                                 "RSS under valgrind includes valgrind's own memory, and its times are not the program's: "
                                 "neither is comparable with a timed run's"}};
  } else {
    document_["measurement"] = {{"mode", "timed"}};
  }
  document_["measurement"]["quiet"] = {
      {"cpu_share", kQuietCpuShare},
      {"window_seconds", static_cast<double>(kQuietWindowNs) / 1e9},
      {"max_settling", flags.max_settling},
      {"rule",
       "one child in its timed phases at a time, started beside settling children only when they used together less than cpu_share of "
       "one CPU over the last window_seconds; each timed phase reports the CPU the rest of the machine used meanwhile "
       "(<phase>_beside_cpu_s)"}};
  if (flags.record)
    document_["measurement"]["record"] = {
        {"interposer", kInterposer},
        {"trace_format", trace::kFileVersion},
        {"site_frames", trace::kSiteFrames},
        {"residency_every_seconds", std::chrono::duration<double>(flags.residency_every).count()},
        {"clock_source", read_first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource")},
        {"pinned_share", heap_map::kPinnedShare},
        {"granule_bytes", heap_map::kGranuleBytes}};
  if (flags.heap_map)
    document_["measurement"]["heap_map"] = {
        {"interposer", kInterposer},
        {"pinned_share", heap_map::kPinnedShare},
        {"granule_bytes", heap_map::kGranuleBytes},
        {"site_frames", heap_map::kSiteFrames},
        {"classes",
         {{"free", "resident, in malloc's ground, no live block: kept by the allocator by choice (a release call or a knob can return it)"},
          {"pinned", "resident, live blocks fill less than pinned_share of it: the rest cannot be returned while they live"},
          {"used", "resident, live blocks fill at least pinned_share of it"},
          {"outside",
           "resident anonymous memory where malloc never returned a block (stacks, static buffers, memory the program maps itself)"}}}};
  std::vector<const Scenario*> scenarios;
  for (const InstanceSpec& spec : selected) {
    if (spec.scenario != nullptr && std::find(scenarios.begin(), scenarios.end(), spec.scenario) == scenarios.end())
      scenarios.push_back(spec.scenario);
    document_["instances"][spec.name] = {{"workload", instance_workload_name(spec)},
                                         {"configuration", spec.configuration->name},
                                         {"size", spec.command || spec.replay != nullptr ? nlohmann::json() : nlohmann::json(spec.size)}};
    if (spec.replay != nullptr) {
      using namespace std::string_literals;
      document_["instances"][spec.name]["replay"] = spec.replay->name;
      nlohmann::json& replay = document_["replays"][spec.replay->name];
      if (replay.is_null()) {
        const ReplaySource& source = *spec.replay;
        nlohmann::json summary = nlohmann::json::object(), anomalies = nlohmann::json::object();
        replay::Summary::fields(source.summary, [&](const char* name, std::uint64_t v) { summary[name] = v; });
        replay::Anomalies::fields(source.anomalies, [&](const char* name, std::uint64_t v) { anomalies[name] = v; });
        replay = {{"given", source.given},
                  {"trace", source.trace},
                  {"workload", source.workload},
                  {"note", source.note},
                  {"timing", flags.replay_timing},
                  {"fill", flags.replay_fill},
                  {"free_phase", source.free_phase},
                  {"free_phase_rule",
                   "the recording's moment cleared if it has one, else its last phase but the recorder's exit snapshot, else the end of "
                   "its calls "
                   "(\"\")"},
                  {"phases", source.phases},
                  {"summary", summary},
                  {"anomalies", anomalies}};
        document_["workloads"].push_back(
            {{"name", "replay:" + source.name},
             {"workload", "replay"},
             {"summary", "the recording " + source.given + " replayed"},
             {"process_level_only", true},
             {"settle", "idle"},
             {"activity", nullptr},
             {"cleared_moment", "at the recording's free phase"},
             {"uses_rounds", false},
             {"headline", std::vector<std::string>(spec.workload->headline.begin(), spec.workload->headline.end())}});
      }
    }
    if (!spec.observer.empty()) document_["instances"][spec.name]["observer"] = spec.observer;
    std::vector<std::string>& headline = headlines_[spec.name];
    if (spec.command)
      headline = kProgramHeadline;
    else
      headline.assign(spec.workload->headline.begin(), spec.workload->headline.end());
  }
  if (!flags.command.empty())
    document_["command"] = {{"argv", flags.command},
                            {"program", program},
                            {"measure", flags.measure.empty() ? nlohmann::json() : nlohmann::json(flags.measure)},
                            {"output_directory", command_output},
                            {"skipped", skipped_configurations()}};
  if (!scenarios.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const Scenario* s : scenarios) list.push_back(scenario_json(*s));
    document_["scenarios"] = {
        {"scale", flags.scenario_scale}, {"output_directory", command_output}, {"skipped", skipped_configurations()}, {"list", list}};
  }
}

nlohmann::json RunDescription::result_part(const InstanceSpec& spec, int repetition, const InstanceResult& result) {
  nlohmann::json part = nlohmann::json::object();
  for (const CounterValue& counter : result.counters) {
    nlohmann::json& c = part["counters"][counter.name];
    c = {{"unit", unit_name(counter.unit)}};
    if (is_exact_counter(counter.name)) c["kind"] = "exact";
    if (std::find(result.program_counters.begin(), result.program_counters.end(), counter.name) != result.program_counters.end())
      c["kind"] = "program";  // reported by the program itself
  }
  // The pinning sites per moment: the heap map's ("heap_maps") and the recording's ("trace_maps").
  for (const auto& [key, list] : {std::pair{"heap_maps", &result.heap_maps}, std::pair{"trace_maps", &result.trace_maps}}) {
    if (list->empty()) continue;
    nlohmann::json moments = nlohmann::json::array();
    for (const HeapMapMoment& m : *list) {
      nlohmann::json sites = nlohmann::json::array();
      for (const HeapMapSite& site : m.sites) sites.push_back({{"bytes", site.bytes}, {"blocks", site.blocks}, {"frames", site.frames}});
      moments.push_back({{"moment", m.moment}, {"processes", m.processes}, {"sites", sites}});
    }
    part[key][spec.name] = nlohmann::json::array({{{"repetition", repetition}, {"moments", moments}}});
  }
  if (result.samples.empty()) return part;
  nlohmann::json seconds = nlohmann::json::array(), rss = nlohmann::json::array();
  for (const TimelineSample& sample : result.samples) {
    seconds.push_back(sample.seconds);
    rss.push_back(sample.rss_bytes);
  }
  nlohmann::json entry = {{"repetition", repetition}, {"seconds", seconds}, {"rss_bytes", rss}};
  if (!result.phases.empty()) {
    entry["phases"] = nlohmann::json::object();
    for (const auto& [name, at] : result.phases) entry["phases"][name] = at;
  }
  part["series"][spec.name] = nlohmann::json::array({std::move(entry)});
  return part;
}

void merge_into(nlohmann::json& document, const nlohmann::json& part) {
  for (const auto& [key, value] : part.items()) {
    nlohmann::json& into = document[key];
    if (value.is_object() && (into.is_object() || into.is_null()))
      merge_into(into, value);
    else if (value.is_array() && (into.is_array() || into.is_null()))
      for (const nlohmann::json& item : value) into.push_back(item);
    else
      into = value;
  }
}

void RunDescription::add_result(const InstanceSpec& spec, int repetition, const InstanceResult& result) {
  for (const CounterValue& counter : result.counters) units_.emplace(counter.name, counter.unit);
  merge_into(document_, result_part(spec, repetition, result));
}

std::optional<Unit> RunDescription::unit_of(const std::string& counter) const {
  const auto it = units_.find(counter);
  return it == units_.end() ? std::nullopt : std::optional<Unit>(it->second);
}

const std::vector<std::string>& RunDescription::headline_of(const std::string& run_name) const {
  static const std::vector<std::string> kNone;
  const auto it = headlines_.find(run_name);
  return it == headlines_.end() ? kNone : it->second;
}

std::string RunDescription::json() const { return document_.dump(2); }

const nlohmann::json& RunDescription::document() const { return document_; }

}  // namespace bench
