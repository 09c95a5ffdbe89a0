// bench_replay_convert: a recording into replay workloads, outside any measured process.
//
//   bench_replay_convert TRACE WORKLOAD     one process image's trace into one workload file
//   bench_replay_convert FOLDER OUT_FOLDER  every trace of a recording folder (<pid>.<image>.trace)
//                                          into OUT_FOLDER/<pid>.<image>.workload
//
// Prints what it converted as JSON (one object per trace: the summary, the anomalies, a warning
// when the trace was cut short). Exit status 0; 1 when a trace cannot be read or a workload cannot
// be written (the message on stderr names the file and the offset; nothing is left for that trace).
#include <sys/stat.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "benchmarks/replay/converter.h"
#include "benchmarks/trace/reader.h"

namespace {

nlohmann::ordered_json describe(const bench::replay::Conversion& c) {
  nlohmann::ordered_json out;
  out["trace"] = c.trace;
  out["workload"] = c.workload;
  out["warning"] = c.warning;
  out["workload_bytes"] = c.workload_bytes;
  out["most_events_held"] = c.most_events_held;
  auto& summary = out["summary"];
  bench::replay::Summary::fields(c.summary, [&](const char* name, std::uint64_t value) { summary[name] = value; });
  auto& anomalies = out["anomalies"];
  bench::replay::Anomalies::fields(c.anomalies, [&](const char* name, std::uint64_t value) { anomalies[name] = value; });
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s TRACE WORKLOAD | %s FOLDER OUT_FOLDER\n", argv[0], argv[0]);
    return 2;
  }
  try {
    struct stat st {};
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    if (::stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode)) {
      for (const auto& c : bench::replay::convert_recording(argv[1], argv[2])) out.push_back(describe(c));
    } else {
      out.push_back(describe(bench::replay::convert_trace(argv[1], argv[2])));
    }
    for (const auto& c : out)
      if (!c["warning"].get<std::string>().empty())
        std::fprintf(stderr, "bench_replay_convert: warning: %s: %s\n", c["trace"].get<std::string>().c_str(),
                     c["warning"].get<std::string>().c_str());
    std::printf("%s\n", out.dump(2).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_replay_convert: %s\n", e.what());
    return 1;
  }
  return 0;
}
