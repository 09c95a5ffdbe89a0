#include "benchmarks/driver/trace_info.h"

#include <nlohmann/json.hpp>

#include <iostream>
#include <map>

#include "benchmarks/driver/run.h"
#include "benchmarks/trace/analysis.h"
#include "benchmarks/trace/reader.h"

namespace bench {
namespace {

const char* kind_name(trace::EventKind kind) {
  switch (kind) {
    case trace::EventKind::malloc: return "malloc";
    case trace::EventKind::calloc: return "calloc";
    case trace::EventKind::realloc: return "realloc";
    case trace::EventKind::realloc_free: return "realloc_free";
    case trace::EventKind::free: return "free";
    case trace::EventKind::memalign: return "memalign";
    case trace::EventKind::new_: return "new";
    case trace::EventKind::delete_: return "delete";
    case trace::EventKind::new_aligned: return "new_aligned";
    case trace::EventKind::thread_start: return "thread_start";
    case trace::EventKind::thread_exit: return "thread_exit";
    case trace::EventKind::fork: return "fork";
    case trace::EventKind::exec: return "exec";
    case trace::EventKind::malloc_trim: return "malloc_trim";
    case trace::EventKind::mallopt: return "mallopt";
    case trace::EventKind::phase: return "phase";
  }
  return "unknown";
}

class Summary : public trace::TraceVisitor {
 public:
  std::map<std::string, std::uint64_t> kinds;
  std::map<std::uint32_t, std::uint64_t> threads;
  std::uint64_t event_count = 0, sites = 0;
  nlohmann::json moments = nlohmann::json::array(), phases = nlohmann::json::array();
  std::map<std::string, std::string> end_fields;
  void events(std::uint32_t thread, const std::vector<trace::Event>& list, std::int64_t) override {
    for (const trace::Event& e : list) ++kinds[kind_name(e.kind)];
    threads[thread] += list.size();
    event_count += list.size();
  }
  void site(std::uint32_t, const trace::Site&) override { ++sites; }
  void residency(const trace::Residency& r) override {
    moments.push_back({{"moment", r.moment}, {"time_ns", r.time_ns}, {"resident_pages", r.pages.size()}});
  }
  void phase(std::int64_t time_ns, std::string_view name) override { phases.push_back({{"phase", name}, {"time_ns", time_ns}}); }
  void end(const std::map<std::string, std::string>& fields) override { end_fields = fields; }
};

}  // namespace

int print_trace_info(const std::string& directory) {
  const std::vector<std::string> paths = trace::trace_files(directory);
  if (paths.empty()) {
    std::cerr << "bench: --trace-info=" << directory << ": no trace (<pid>.<image>.trace) in that folder\n";
    return kExitUsage;
  }
  nlohmann::json out = {{"directory", directory}, {"traces", nlohmann::json::array()}};
  try {
    for (const std::string& path : paths) {
      const trace::TraceFile file(path);
      Summary summary;
      file.read(summary);
      nlohmann::json t = {{"path", path},
                          {"pid", file.pid()},
                          {"parent", file.parent()},
                          {"image", file.image()},
                          {"executable", file.header_value("executable")},
                          {"unwinder", file.header_value("unwinder")},
                          {"clock_source", file.header_value("clock_source")},
                          {"bytes", file.bytes()},
                          {"ended", file.ended()},
                          {"warning", file.warning()},
                          {"events", summary.event_count},
                          {"kinds", summary.kinds},
                          {"threads", summary.threads.size()},
                          {"sites", summary.sites},
                          {"residency", summary.moments},
                          {"phases", summary.phases},
                          {"end", summary.end_fields}};
      out["traces"].push_back(std::move(t));
    }
    const trace::TraceAnalysis analysis = trace::analyse_recording(directory);
    nlohmann::json counters = nlohmann::json::object();
    for (const CounterValue& c : analysis.counters) counters[c.name] = c.value;
    out["analysis"] = counters;
    nlohmann::json moments = nlohmann::json::array();
    for (const HeapMapMoment& m : analysis.moments) {
      nlohmann::json sites = nlohmann::json::array();
      for (const HeapMapSite& s : m.sites) sites.push_back({{"bytes", s.bytes}, {"blocks", s.blocks}, {"frames", s.frames}});
      moments.push_back({{"moment", m.moment}, {"processes", m.processes}, {"sites", sites}});
    }
    out["pinning_sites"] = moments;
  } catch (const trace::TraceError& e) {
    std::cerr << "bench: --trace-info: " << e.what() << "\n";
    return kExitUsage;
  }
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace bench
