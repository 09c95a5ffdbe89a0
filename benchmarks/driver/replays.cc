#include "benchmarks/driver/replays.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>

#include "benchmarks/driver/units.h"
#include "benchmarks/replay/converter.h"
#include "benchmarks/replay/replayer.h"
#include "benchmarks/trace/reader.h"

namespace bench {
namespace {

std::string base_name(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool ends_with(const std::string& text, const std::string& tail) { return text.size() >= tail.size() && text.ends_with(tail); }

// A name the suite's instance names and --benchmark_filter take: letters, digits, '.', '-', '_'.
std::string instance_name(std::string name) {
  for (const char* tail : {".trace", ".workload"})
    if (ends_with(name, tail)) name.resize(name.size() - std::strlen(tail));
  for (char& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) c = '_';
  return name;
}

std::uint64_t file_bytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

}  // namespace

std::vector<ReplaySource> prepare_replays(const Flags& flags, const std::string& directory) {
  std::vector<ReplaySource> sources;
  std::set<std::string> names;
  for (const std::string& given : flags.replay) {
    ReplaySource source{.name = instance_name(base_name(given)), .given = given};
    struct stat st {};
    if (::stat(given.c_str(), &st) != 0)
      throw UsageError("--replay=" + given + ": " + std::strerror(errno) + " (a trace, a recording folder or a workload file)");
    try {
      if (S_ISDIR(st.st_mode)) {
        const std::vector<std::string> traces = trace::trace_files(given);
        if (traces.empty()) throw UsageError("--replay=" + given + ": the folder holds no trace (<pid>.<image>.trace)");
        source.trace = traces.front();
        for (const std::string& t : traces)
          if (file_bytes(t) > file_bytes(source.trace)) source.trace = t;
        if (traces.size() > 1)
          source.note = "the largest of the folder's " + std::to_string(traces.size()) + " traces, " + base_name(source.trace);
      } else if (ends_with(given, ".workload")) {
        source.workload = given;
      } else {
        source.trace = given;
      }
      if (!names.insert(source.name).second) throw UsageError("--replay: two sources are named " + source.name + " (rename one of them)");
      if (!source.trace.empty()) {
        if (::mkdir(directory.c_str(), 0777) != 0 && errno != EEXIST)
          throw UsageError("cannot create " + directory + " for the replays' workloads: " + std::strerror(errno));
        source.workload = directory + "/" + source.name + ".workload";
        const replay::Conversion conversion = replay::convert_trace(source.trace, source.workload);
        if (!conversion.warning.empty()) source.note += (source.note.empty() ? "" : "; ") + conversion.warning;
      }
      const replay::Workload workload(source.workload);  // checked whole, as a child will read it
      source.summary = workload.summary();
      for (std::size_t i = 0; i < workload.name_count(); ++i) source.phases.emplace_back(workload.name(static_cast<std::uint32_t>(i)));
      for (const std::string& phase : source.phases)
        if (phase != "exit" && source.free_phase != "cleared") source.free_phase = phase;
      if (!flags.replay_free_phase.empty()) {
        if (std::find(source.phases.begin(), source.phases.end(), flags.replay_free_phase) == source.phases.end()) {
          std::string known;
          for (const std::string& phase : source.phases) known += (known.empty() ? "" : ", ") + phase;
          throw UsageError("--replay-free-phase=" + flags.replay_free_phase + ": the recording " + source.name + " has no such phase (" +
                           (known.empty() ? std::string("it has none") : "its phases: " + known) + ")");
        }
        source.free_phase = flags.replay_free_phase;
      }
      source.anomalies = workload.anomalies();
      if (!workload.source_warning().empty() && source.note.find(workload.source_warning()) == std::string::npos)
        source.note += (source.note.empty() ? "" : "; ") + workload.source_warning();
      if (source.summary.calls == 0) throw UsageError("--replay=" + given + ": the recording holds no allocation call to replay");
    } catch (const UsageError&) {
      throw;
    } catch (const std::exception& e) {
      throw UsageError("--replay=" + given + ": " + e.what());
    }
    sources.push_back(std::move(source));
  }
  return sources;
}

}  // namespace bench
