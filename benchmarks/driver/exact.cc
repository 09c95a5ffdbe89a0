#include "benchmarks/driver/exact.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "benchmarks/driver/command.h"
#include "benchmarks/driver/units.h"

namespace bench {
namespace {

constexpr const char* kDumpName = "callgrind.out";

// The events callgrind writes with --cache-sim=yes, in its order ("events:" line).
constexpr std::array<const char*, 9> kEvents = {"Ir", "Dr", "Dw", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw"};
constexpr std::array<const char*, 7> kCounted = {"instructions", "data_reads", "data_writes",    "i1_misses",
                                                 "d1_misses",    "ll_misses",  "cycles_estimate"};

}  // namespace

ExactMode find_valgrind() {
  ExactMode mode;
  try {
    mode.valgrind = resolve_program("valgrind");
  } catch (const UsageError&) {
    throw UsageError(
        "--exact runs every child under valgrind's callgrind, and valgrind is not installed (Debian package valgrind: "
        "scripts/setup.sh installs it)");
  }
  // `valgrind --version` prints one line: "valgrind-3.19.0".
  const std::string command = "'" + mode.valgrind + "' --version";
  if (std::FILE* pipe = ::popen(command.c_str(), "r")) {
    char line[128] = {};
    if (std::fgets(line, sizeof line, pipe) != nullptr) mode.version = line;
    ::pclose(pipe);
  }
  while (!mode.version.empty() && (mode.version.back() == '\n' || mode.version.back() == '\r')) mode.version.pop_back();
  if (mode.version.empty()) throw UsageError(mode.valgrind + " --version printed nothing: is it a working valgrind?");
  return mode;
}

std::vector<std::string> callgrind_command(const ExactMode& mode, const std::string& directory, const std::string& client) {
  return {mode.valgrind,
          "--tool=callgrind",
          "--collect-atstart=no",  // only the phases count (measure/exact.h switches collection on)
          "--cache-sim=yes",
          std::string("--I1=") + kExactI1,
          std::string("--D1=") + kExactD1,
          std::string("--LL=") + kExactLL,
          "--callgrind-out-file=" + directory + "/" + kDumpName,
          "--log-file=" + directory + "/valgrind.log",
          client};
}

std::vector<CounterValue> read_callgrind_dumps(const std::string& directory, std::string* problem) {
  std::vector<CounterValue> counters;
  std::error_code error;
  std::vector<std::filesystem::path> dumps;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error))
    if (entry.path().filename().string().starts_with(std::string(kDumpName) + ".")) dumps.push_back(entry.path());
  if (error) {
    *problem = "cannot read callgrind's dumps in " + directory + ": " + error.message();
    return counters;
  }
  // In dump order (callgrind.out.1, .2, ...): a phase dumped twice would keep its last counts.
  std::sort(dumps.begin(), dumps.end(), [](const auto& a, const auto& b) {
    return std::stoul(a.extension().string().substr(1)) < std::stoul(b.extension().string().substr(1));
  });
  for (const std::filesystem::path& path : dumps) {
    std::ifstream in(path);
    std::string phase, events, summary;
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("desc: Trigger: Client Request: ")) phase = line.substr(31);
      if (line.starts_with("events: ")) events = line.substr(8);
      if (line.starts_with("summary: ")) summary = line.substr(9);
    }
    if (phase.empty()) continue;  // not a phase's dump
    // "summary:" lists the events of "events:" in order; trailing zeros may be left out.
    std::istringstream names(events), values(summary);
    std::array<double, kEvents.size()> counts{};
    for (std::string name; names >> name;) {
      double value = 0;
      values >> value;
      for (std::size_t i = 0; i < kEvents.size(); ++i)
        if (name == kEvents[i]) counts[i] = value;
    }
    if (events.find("I1mr") == std::string::npos) {
      *problem = path.string() + " has no cache events (was callgrind run without --cache-sim=yes?)";
      return counters;
    }
    const double ir = counts[0], l1 = counts[3] + counts[4] + counts[5], ll = counts[6] + counts[7] + counts[8];
    const double counted[kCounted.size()] = {ir, counts[1], counts[2], counts[3], counts[4] + counts[5], ll, ir + 10 * l1 + 100 * ll};
    for (std::size_t i = 0; i < kCounted.size(); ++i) counters.push_back({phase + "_" + kCounted[i], counted[i], Unit::count});
  }
  return counters;
}

bool is_exact_counter(std::string_view name) {
  for (const char* suffix : kCounted)
    if (name.ends_with(std::string("_") + suffix)) return true;
  return false;
}

std::string valgrind_messages(const std::string& directory, std::size_t lines) {
  std::deque<std::string> said;
  auto keep = [&](const std::string& line) {
    said.push_back(line);
    if (said.size() > lines) said.pop_front();
  };
  std::ifstream output(directory + "/output");
  for (std::string line; std::getline(output, line);)
    if (!line.empty()) keep(line);
  // The log's "==pid==" lines are its banner and summary; "--pid--" lines and others are warnings.
  std::ifstream log(directory + "/valgrind.log");
  for (std::string line; std::getline(log, line);)
    if (!line.empty() && line.find("== ") == std::string::npos && line.find("cache") == std::string::npos) keep(line);
  std::string text;
  for (const std::string& line : said) text += (text.empty() ? "" : " | ") + line;
  return text;
}

}  // namespace bench
