#include "benchmarks/driver/scenarios.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "benchmarks/driver/units.h"
#include "benchmarks/protocol/program_protocol.h"

#ifndef BENCH_SCENARIO_DIR
#error "BENCH_SCENARIO_DIR must name benchmarks/scenarios of the source tree (CMakeLists.txt)"
#endif

namespace bench {
namespace {

std::string trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const std::size_t last = text.find_last_not_of(" \t\r");
  return std::string(text.substr(first, last - first + 1));
}

bool valid_scenario_name(std::string_view name) {
  if (name.empty() || name.size() > 48 || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

bool scenario_extension(const std::filesystem::path& path) {
  const std::string extension = path.extension().string();
  return extension == ".py" || extension == ".pl" || extension == ".rb" || extension == ".sh";
}

}  // namespace

std::size_t Scenario::timed_phase_count() const {
  const auto first_settling = std::find_if(phases.begin(), phases.end(), [](const ScenarioPhase& p) { return p.settling; });
  return static_cast<std::size_t>(first_settling - phases.begin());
}

std::vector<Scenario> parse_scenario_file(const std::string& given_path) {
  char resolved[PATH_MAX];
  const std::string path = ::realpath(given_path.c_str(), resolved) != nullptr ? std::string(resolved) : given_path;
  std::ifstream in(path);
  if (!in) throw UsageError("scenario file " + given_path + " cannot be read");
  Scenario scenario;
  scenario.file = path;
  scenario.name = std::filesystem::path(path).stem().string();
  std::vector<std::string> variant_lines;
  int number = 0;
  auto fail = [&](const std::string& problem) {
    throw UsageError("scenario file " + path + ", line " + std::to_string(number) + ": " + problem);
  };
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (number == 1 && line.starts_with("#!")) continue;
    if (!line.starts_with("#")) break;  // the header is the comment block at the top
    const std::string text = trim(std::string_view(line).substr(1));
    const std::size_t colon = text.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = text.substr(0, colon);
    const std::string value = trim(std::string_view(text).substr(colon + 1));
    if (key == "Scenario") {
      scenario.demonstrates = value;
    } else if (key == "Needs") {
      const std::size_t open = value.find(" (");
      if (value.empty() || value[0] != '/' || open == std::string::npos || !value.ends_with(")"))
        fail("expected '# Needs: /absolute/path (debian-package)'");
      scenario.needs.push_back({value.substr(0, open), value.substr(open + 2, value.size() - open - 3)});
    } else if (key == "Measure") {
      if (value.empty() || value.size() > 15) fail("'# Measure:' names a process as /proc/<pid>/comm does (1 to 15 characters)");
      scenario.measure = value;
    } else if (key.starts_with("Phase ")) {
      std::string name = trim(std::string_view(key).substr(6));
      bool settling = false;
      if (name.ends_with(" (settling)")) {
        settling = true;
        name = trim(std::string_view(name).substr(0, name.size() - 11));
      }
      if (!valid_report_name(name)) fail("phase name '" + name + "' is not [a-z][a-z0-9_]*");
      if (!settling && !scenario.phases.empty() && scenario.phases.back().settling)
        fail("phase " + name + " is timed but comes after a settling phase: the timed phases come first");
      for (const ScenarioPhase& p : scenario.phases)
        if (p.name == name) fail("phase " + name + " is listed twice");
      scenario.phases.push_back({name, value, settling});
    } else if (key.starts_with("Variant ")) {
      variant_lines.push_back(text);
    }
  }
  if (!valid_scenario_name(scenario.name)) throw UsageError("scenario file " + path + ": its name is not [a-z][a-z0-9-]*");
  if (scenario.demonstrates.empty()) throw UsageError("scenario file " + path + " has no '# Scenario: <what it demonstrates>' line");
  if (scenario.phases.empty()) throw UsageError("scenario file " + path + " lists no '# Phase <name>: ...' line");
  if (::access(path.c_str(), X_OK) != 0) throw UsageError("scenario file " + path + " is not executable (chmod +x)");

  std::vector<Scenario> all = {scenario};
  for (const std::string& text : variant_lines) {
    // "Variant NAME: VAR=value VAR=value - what it changes"
    Scenario variant = scenario;
    const std::size_t colon = text.find(':');
    variant.name = trim(std::string_view(text).substr(8, colon - 8));
    variant.variant_of = scenario.name;
    std::string rest = trim(std::string_view(text).substr(colon + 1));
    const std::size_t dash = rest.find(" - ");
    variant.variant_change = dash == std::string::npos ? std::string() : trim(std::string_view(rest).substr(dash + 3));
    rest = rest.substr(0, dash);
    for (std::size_t at = 0; at < rest.size();) {
      const std::size_t end = std::min(rest.find(' ', at), rest.size());
      const std::string assignment = rest.substr(at, end - at);
      at = end + 1;
      if (assignment.empty()) continue;
      const std::size_t equals = assignment.find('=');
      if (equals == std::string::npos || equals == 0)
        throw UsageError("scenario file " + path + ": variant " + variant.name + " expects 'VAR=value ... - what it changes'");
      variant.environment.emplace_back(assignment.substr(0, equals), assignment.substr(equals + 1));
    }
    if (!valid_scenario_name(variant.name) || variant.environment.empty() || variant.variant_change.empty())
      throw UsageError("scenario file " + path + ": '# Variant NAME: VAR=value ... - what it changes' expected, got '" + text + "'");
    all.push_back(std::move(variant));
  }
  return all;
}

std::vector<Scenario> load_scenarios(const std::string& directory) {
  std::vector<Scenario> scenarios;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    if (!entry.is_regular_file() || !scenario_extension(entry.path())) continue;
    std::ifstream in(entry.path());
    std::string first, second;
    std::getline(in, first);
    std::getline(in, second);
    if (first.find("# Scenario:") == std::string::npos && second.find("# Scenario:") == std::string::npos) continue;  // a helper
    for (Scenario& s : parse_scenario_file(entry.path().string())) scenarios.push_back(std::move(s));
  }
  if (error) throw UsageError("cannot read the scenario folder " + directory + ": " + error.message());
  std::sort(scenarios.begin(), scenarios.end(), [](const Scenario& a, const Scenario& b) { return a.name < b.name; });
  for (std::size_t i = 1; i < scenarios.size(); ++i)
    if (scenarios[i].name == scenarios[i - 1].name)
      throw UsageError("two scenarios are named " + scenarios[i].name + " (" + scenarios[i - 1].file + ", " + scenarios[i].file + ")");
  return scenarios;
}

std::vector<Scenario> select_scenarios(const std::string& spec, const std::string& directory) {
  if (spec.empty()) throw UsageError("--scenario is empty (a name, several separated by commas, or all)");
  const std::vector<Scenario> known = load_scenarios(directory);
  if (spec == "all") {
    if (known.empty()) throw UsageError("no scenario in " + directory);
    return known;
  }
  std::vector<Scenario> selected;
  for (std::size_t at = 0; at <= spec.size();) {
    const std::size_t comma = std::min(spec.find(',', at), spec.size());
    const std::string item = spec.substr(at, comma - at);
    at = comma + 1;
    if (item.find('/') != std::string::npos) {
      for (Scenario& s : parse_scenario_file(item)) selected.push_back(std::move(s));
      continue;
    }
    const auto it = std::find_if(known.begin(), known.end(), [&](const Scenario& s) { return s.name == item; });
    if (it == known.end()) {
      std::string names;
      for (const Scenario& s : known) names += (names.empty() ? "" : ", ") + s.name;
      throw UsageError("no scenario named '" + item + "' in " + directory + " (there are: " + names + "; or all)");
    }
    selected.push_back(*it);
  }
  for (std::size_t i = 0; i < selected.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (selected[i].name == selected[j].name) throw UsageError("--scenario names " + selected[i].name + " twice");
  return selected;
}

std::string missing_need(const Scenario& scenario) {
  for (const ScenarioNeed& need : scenario.needs) {
    struct stat st {};
    if (::stat(need.program.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || ::access(need.program.c_str(), X_OK) != 0)
      return "scenario " + scenario.name + " needs " + need.program + ", which is not installed (Debian package " + need.package +
             ": scripts/setup.sh installs it)";
  }
  return {};
}

std::string default_scenario_directory() { return BENCH_SCENARIO_DIR; }

}  // namespace bench
