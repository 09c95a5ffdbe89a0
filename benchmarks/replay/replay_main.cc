// bench_replay: one workload (workload.h) replayed in this process, under whatever allocator is
// preloaded — a user's and the tests' entry point to the engine that ./bench's children call.
//
//   bench_replay WORKLOAD [--timing=fast|as-recorded] [--fill=all-bytes|one-write-a-page|none]
//                         [--calls=allocator|none] [--no-hold]
//
// --no-hold: the threads run on through ./bench's program phases (ReplayOptions::hold_at_program_phases).
//
// Prints the result as JSON: the ReplayResult's figures, the anomalies the converter counted, the
// phases as they were delivered, the replayer's own memory. Exit status 0; 1 when the workload
// cannot be read (the message names the offset); 2 for a usage error.
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "benchmarks/replay/replayer.h"

namespace {

bool option(const char* argument, const char* name, std::string& value) {
  const std::size_t length = std::strlen(name);
  if (std::strncmp(argument, name, length) != 0 || argument[length] != '=') return false;
  value = argument + length + 1;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace bench::replay;
  std::string path, value;
  ReplayOptions options;
  for (int i = 1; i < argc; ++i) {
    if (option(argv[i], "--timing", value) && (value == "fast" || value == "as-recorded")) {
      options.timing = value == "fast" ? Timing::fast : Timing::as_recorded;
    } else if (option(argv[i], "--fill", value) && (value == "all-bytes" || value == "one-write-a-page" || value == "none")) {
      options.fill = value == "all-bytes" ? Fill::all_bytes : value == "none" ? Fill::none : Fill::one_write_a_page;
    } else if (option(argv[i], "--calls", value) && (value == "allocator" || value == "none")) {
      options.calls = value == "allocator" ? Calls::allocator : Calls::none;
    } else if (std::strcmp(argv[i], "--no-hold") == 0) {
      options.hold_at_program_phases = false;
    } else if (argv[i][0] != '-' && path.empty()) {
      path = argv[i];
    } else {
      std::fprintf(stderr,
                   "usage: %s WORKLOAD [--timing=fast|as-recorded] [--fill=all-bytes|one-write-a-page|none] [--calls=allocator|none]\n",
                   argv[0]);
      return 2;
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "usage: %s WORKLOAD [options]\n", argv[0]);
    return 2;
  }
  try {
    Workload workload(path);
    struct Delivered {
      PhaseEvent::Kind kind;
      std::string_view name;
      double recorded_s, replay_s;
    };
    std::vector<Delivered> phases;
    phases.reserve(workload.summary().phases + 1);  // nothing allocated while the replay runs
    options.on_phase = [&](const PhaseEvent& p) { phases.push_back({p.kind, p.name, p.recorded_s, p.replay_s}); };
    const ReplayResult r = workload.replay(options);
    nlohmann::ordered_json out;
    out["workload"] = path;
    out["source_warning"] = workload.source_warning();
    out["own_bytes"] = workload.own_bytes();
    out["calls"] = r.calls;
    CallCounts::fields(r.kinds, [&](const char* name, std::uint64_t v) { out[name] = v; });
    out["phases"] = r.phases;
    out["failed"] = r.failed;
    out["threads"] = r.threads;
    out["sync_waits"] = r.sync_waits;
    out["sleeps"] = r.sleeps;
    out["end_live_bytes"] = r.end_live_bytes;
    out["end_live_blocks"] = r.end_live_blocks;
    out["bad_ops"] = r.bad_ops;
    out["seconds"] = r.seconds;
    out["ns_per_call"] = r.ns_per_call;
    out["thread_seconds"] = r.thread_seconds;
    out["ns_per_call_in_thread"] = r.ns_per_call_in_thread;
    out["sync_wait_seconds"] = r.sync_wait_seconds;
    out["max_lag_s"] = r.max_lag_s;
    auto& anomalies = out["anomalies"];
    Anomalies::fields(r.anomalies, [&](const char* name, std::uint64_t v) { anomalies[name] = v; });
    auto& delivered = out["phase_list"];
    delivered = nlohmann::ordered_json::array();
    for (const Delivered& p : phases)
      delivered.push_back({{"kind", p.kind == PhaseEvent::Kind::moment ? "moment"
                                    : p.kind == PhaseEvent::Kind::end  ? "end"
                                                                       : "program_phase"},
                           {"name", std::string(p.name)},
                           {"recorded_s", p.recorded_s},
                           {"replay_s", p.replay_s}});
    std::printf("%s\n", out.dump(2).c_str());
  } catch (const ReplayError& e) {
    std::fprintf(stderr, "bench_replay: %s\n", e.what());
    return 1;
  }
  return 0;
}
