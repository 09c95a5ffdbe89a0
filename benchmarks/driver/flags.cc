#include "benchmarks/driver/flags.h"

#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace bench {
namespace {

// "--flag=value": true and the value; "--flag" alone with a value required: UsageError.
bool take_value(std::string_view argument, std::string_view flag, std::string_view* value) {
  if (argument.substr(0, flag.size()) != flag) return false;
  if (argument.size() == flag.size()) throw UsageError(std::string(flag) + " needs a value: " + std::string(flag) + "=...");
  if (argument[flag.size()] != '=') return false;
  *value = argument.substr(flag.size() + 1);
  return true;
}

int parse_count(std::string_view flag, std::string_view text, int min, int max) {
  int value = 0;
  if (text.empty()) throw UsageError(std::string(flag) + " is empty");
  for (char c : text) {
    if (c < '0' || c > '9' || value > max)
      throw UsageError(std::string(flag) + "=" + std::string(text) + " is not a whole number from " + std::to_string(min) + " to " +
                       std::to_string(max));
    value = value * 10 + (c - '0');
  }
  if (value > max || value < min)
    throw UsageError(std::string(flag) + "=" + std::string(text) + " is not a whole number from " + std::to_string(min) + " to " +
                     std::to_string(max));
  return value;
}

// Runs `parse` on the flag's value; a UsageError names the flag and the value it was given.
template <class Parse>
auto parse_flag(std::string_view flag, std::string_view value, Parse parse) {
  try {
    return parse(value);
  } catch (const UsageError& e) {
    throw UsageError(std::string(flag) + "=" + std::string(value) + ": " + e.what());
  }
}

const char* environment_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : fallback;
}

// One of Google Benchmark's flags the suite reads: "--benchmark_x" or "--benchmark_x=value".
// Returns true and the value ("true" when bare) if `argument` is that flag.
bool google_flag(std::string_view argument, std::string_view flag, std::string* value) {
  if (argument.substr(0, flag.size()) != flag) return false;
  if (argument.size() == flag.size())
    *value = "true";
  else if (argument[flag.size()] == '=')
    *value = std::string(argument.substr(flag.size() + 1));
  else
    return false;
  return true;
}

// "batch,steady:bytes=8M": each spec parsed (its errors named), each pattern at most once (the
// pattern names the benchmark: map_active:batch/...).
std::vector<std::string> parse_activities(std::string_view text) {
  std::vector<std::string> specs;
  std::vector<std::string_view> names;
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    try {
      const ActivitySpec spec = ActivitySpec::parse(item);
      if (std::find(names.begin(), names.end(), spec.name()) != names.end())
        throw UsageError(std::string(spec.name()) + " is given twice: each pattern names its benchmarks, so once each");
      names.push_back(spec.name());
      specs.push_back(spec.text());
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return specs;
}

}  // namespace

bool is_truthy(std::string_view value) {
  if (value.size() == 1) return value != "0" && value != "f" && value != "F" && value != "n" && value != "N";
  for (const char* no : {"false", "no", "off"})
    if (value.size() == std::string_view(no).size() && ::strncasecmp(value.data(), no, value.size()) == 0) return false;
  return true;
}

const char* const kFlagsHelp =
    "bench: how much memory does each allocator keep after a std::map is cleared, and what does giving it back cost?\n"
    "\n"
    "Every instance and every repetition runs in a fresh child process with its allocator verified.\n"
    "Benchmarks are named <workload>/<configuration>/<N>, e.g. map/glibc/5000000; repetitions are\n"
    "interleaved (round 1 of every instance, then round 2, ...).\n"
    "\n"
    "  bench [flags]                  the workloads on the configurations they apply to\n"
    "  bench [flags] -- PROGRAM ARGS  PROGRAM under every process-level configuration, its memory\n"
    "                                 sampled from outside (instances command/<configuration>)\n"
    "  bench [flags] --scenario=NAME  a scenario (a real program driven through phases) likewise\n"
    "\n"
    "Suite flags:\n"
    "  --sizes=N[,N...]        entry counts to run (default 5000000; k and M suffixes: 500k, 5M)\n"
    "                          --sizes=scaling: 10000,30000,100000,300000,1000000,3000000,5000000\n"
    "  --settle=DURATION       how long RSS is watched after clear and release (default 15s;\n"
    "                          e.g. 500ms, 2s, 1m)\n"
    "  --rounds=R              the cycle workload's rounds (default 3)\n"
    "  --pause=DURATION        the cycle workload's idle pause after each round (default 1s)\n"
    "  --timeout=DURATION      per-instance limit on top of the settle period (default 10m)\n"
    "  --max-settling=N        children that may settle while the next one measures (default 8;\n"
    "                          0 runs one child at a time)\n"
    "  --activity=SPEC[,SPEC]  what a busy settle period does (workloads such as map_active run\n"
    "                          once per SPEC, named map_active:<pattern>): pairs, batch (default)\n"
    "                          or steady, with parameters: batch:count=1000:size=64,\n"
    "                          pairs:count=1000:size=64, steady:bytes=4M:replace=5%\n"
    "  --activity-period=DURATION  how often the activity runs (default 10ms)\n"
    "  --latency=on|off        time every insert and lookup (default on; off measures its cost)\n"
    "  --sample-every=DURATION a program's memory after the dense offsets (default 100ms)\n"
    "  --measure=NAME          measure only the processes of this name in the program's tree\n"
    "                          (as /proc/<pid>/comm names them: a server it starts)\n"
    "  --command-output=DIR    where a program's output goes (default: a new folder next to\n"
    "                          --benchmark_out, the first free of command-output, command-output-2,\n"
    "                          ...); --command-output=discard drops it\n"
    "  --scenario=NAME[,NAME]  real programs Debian ships (benchmarks/scenarios/: python3, ruby,\n"
    "                          perl, redis-server, ...) under every process-level configuration;\n"
    "                          all runs every one; instances <scenario>/<configuration>\n"
    "  --scenario-scale=F      how much each scenario builds, as a share of its full size (default 1)\n"
    "  --exact                 count instead of time: every child under valgrind's callgrind with a\n"
    "                          fixed simulated cache; instructions and cache misses per phase\n"
    "                          (latency off, settle 0 unless given)\n"
    "  --heap-map              every child and program behind the heap map's interposer: which\n"
    "                          resident pages are free but kept, pinned by live blocks, or used,\n"
    "                          and the allocation sites that pin them (heap_<moment>_* counters)\n"
    "  --record                every child and program recorded: each allocation call into a trace\n"
    "                          per process (written outside it), resident pages read from outside at\n"
    "                          each phase; free or pinned, by which sites (trace_<moment>_* counters)\n"
    "  --record-dir=DIR        where the traces go (default: traces/ next to --benchmark_out)\n"
    "  --unwind=cache|libgcc|fp  how allocation sites are unwound (default cache: a cache of unwound\n"
    "                          stacks in front of libgcc's _Unwind_Backtrace)\n"
    "  --check-unwind          every site also unwound by libgcc and compared (record_unwind_*)\n"
    "  --trace-info=DIR        what a recording folder holds, and its analysis, as JSON; then exit\n"
    "  --compare-recorders     every program plain, recorded, behind the heap map and under Debian's\n"
    "                          heaptrack: what each costs, side by side (instances <name>@<observer>)\n"
    "  --residency-every=DURATION  resident pages of a recorded process read this often besides its\n"
    "                          phases (default 1s; 0: only at phases)\n"
    "  --replay=TRACE[,TRACE]  each recording (a trace, a row's recording folder, or a workload from\n"
    "                          bench_replay_convert) replayed under every process-level configuration,\n"
    "                          release steps and mallopt rows included: instances replay:<name>/<c>\n"
    "  --replay-timing=as-recorded|fast  the recording's clock (gaps of 1 ms or more kept; default)\n"
    "                          or none: the allocator's own speed\n"
    "  --replay-fill=all-bytes|one-write-a-page  how each new block is written (default all-bytes)\n"
    "  --replay-free-phase=PHASE  the recording's phase where the release steps run and the settle\n"
    "                          period counts from (default: its moment cleared, else its last phase)\n"
    "  --ignore-memory-limit   run instances whose estimated peak exceeds the available memory\n"
    "  --list-configs[=json]   print every allocator configuration, verified, and whether it is\n"
    "                          available (json: the same for tools)\n"
    "  --help                  this text\n"
    "\n"
    "Every Google Benchmark flag works (--benchmark_filter, --benchmark_list_tests,\n"
    "--benchmark_repetitions, --benchmark_enable_random_interleaving, --benchmark_out,\n"
    "--benchmark_out_format, --benchmark_format, --benchmark_counters_tabular, ...). The console shows\n"
    "a few headline figures per row; --benchmark_counters_tabular=true shows every counter, and\n"
    "--benchmark_out has them all, with the run's description (section \"suite\" of the JSON).\n"
    "--benchmark_out refuses to replace an existing file; it is written as <out>.partial-<pid> and\n"
    "renamed when the run ends. Ctrl-C (or SIGTERM) stops the children and keeps what finished,\n"
    "marked \"incomplete\" in the JSON.\n"
    "\n"
    "Exit status: 0 every instance measured; 1 some rows are error rows (a child that died or\n"
    "overran --timeout, a program that failed, an instance refused by the memory guard, an\n"
    "unavailable configuration); 2 bad usage, nothing run; 130 interrupted.\n";

Flags parse_flags(int argc, char** argv) {
  Flags flags;
  // Google Benchmark's environment defaults (BENCHMARK_<NAME>), as it reads them.
  flags.filter = environment_or("BENCHMARK_FILTER", "");
  flags.repetitions = std::max(1, std::atoi(environment_or("BENCHMARK_REPETITIONS", "1")));
  flags.random_interleaving = is_truthy(environment_or("BENCHMARK_ENABLE_RANDOM_INTERLEAVING", "false"));
  flags.display_format = environment_or("BENCHMARK_FORMAT", "console");
  flags.file_format = environment_or("BENCHMARK_OUT_FORMAT", "json");
  flags.color = environment_or("BENCHMARK_COLOR", "auto");
  flags.tabular = is_truthy(environment_or("BENCHMARK_COUNTERS_TABULAR", "false"));
  flags.list_tests = is_truthy(environment_or("BENCHMARK_LIST_TESTS", "false"));
  flags.out = environment_or("BENCHMARK_OUT", "");

  for (int i = 0; i < argc; ++i) flags.invocation += (i ? " " : "") + std::string(argv[i]);
  flags.passed_on.push_back(argc > 0 ? argv[0] : "bench");
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    std::string_view value;
    std::string google;
    if (argument == "--") {
      for (int j = i + 1; j < argc; ++j) flags.command.emplace_back(argv[j]);
      if (flags.command.empty()) throw UsageError("-- must be followed by a program to run (./bench -- PROGRAM [ARGS...])");
      break;
    } else if (take_value(argument, "--sizes", &value)) {
      flags.sizes = parse_flag("--sizes", value, parse_size_list);
    } else if (take_value(argument, "--settle", &value)) {
      flags.settle = parse_flag("--settle", value, parse_duration);
      flags.settle_given = true;
    } else if (take_value(argument, "--timeout", &value)) {
      flags.timeout = parse_flag("--timeout", value, parse_duration);
      if (flags.timeout.count() == 0) throw UsageError("--timeout=0 would stop every instance at once");
    } else if (take_value(argument, "--max-settling", &value)) {
      flags.max_settling = parse_count("--max-settling", value, 0, 64);
    } else if (take_value(argument, "--rounds", &value)) {
      flags.rounds = parse_count("--rounds", value, 1, 9);
    } else if (take_value(argument, "--pause", &value)) {
      flags.pause = parse_flag("--pause", value, parse_duration);
    } else if (take_value(argument, "--activity", &value)) {
      flags.activities = parse_flag("--activity", value, parse_activities);
    } else if (take_value(argument, "--activity-period", &value)) {
      flags.activity_period = parse_flag("--activity-period", value, parse_duration);
      if (flags.activity_period < std::chrono::milliseconds{1})
        throw UsageError("--activity-period=" + std::string(value) + " is below 1ms");
    } else if (take_value(argument, "--latency", &value)) {
      if (value != "on" && value != "off") throw UsageError("--latency=" + std::string(value) + ": expected on or off");
      flags.latency = value == "on";
      flags.latency_given = true;
    } else if (take_value(argument, "--sample-every", &value)) {
      flags.sample_every = parse_flag("--sample-every", value, parse_duration);
      if (flags.sample_every < std::chrono::milliseconds{1}) throw UsageError("--sample-every=" + std::string(value) + " is below 1ms");
    } else if (take_value(argument, "--command-output", &value)) {
      if (value.empty()) throw UsageError("--command-output is empty (a folder, or discard)");
      flags.command_output = std::string(value);
      flags.command_output_given = true;
    } else if (take_value(argument, "--scenario-scale", &value)) {
      flags.scenario_scale = parse_flag("--scenario-scale", value, [](std::string_view text) {
        const std::string copy(text);
        char* end = nullptr;
        const double scale = std::strtod(copy.c_str(), &end);
        if (copy.empty() || end != copy.c_str() + copy.size() || !(scale > 0) || scale > 100)
          throw UsageError("expected a number above 0 and at most 100");
        return scale;
      });
    } else if (take_value(argument, "--scenario", &value)) {
      if (value.empty()) throw UsageError("--scenario is empty (a name, several separated by commas, or all)");
      flags.scenario = std::string(value);
    } else if (take_value(argument, "--measure", &value)) {
      if (value.empty() || value.size() > 15)
        throw UsageError("--measure=" + std::string(value) + ": a process name as /proc/<pid>/comm shows it (1 to 15 characters)");
      flags.measure = std::string(value);
    } else if (argument == "--exact") {
      flags.exact = true;
    } else if (argument == "--heap-map") {
      flags.heap_map = true;
    } else if (argument == "--record") {
      flags.record = true;
    } else if (argument == "--compare-recorders") {
      flags.compare_recorders = true;
    } else if (take_value(argument, "--unwind", &value)) {
      if (value != "cache" && value != "libgcc" && value != "fp")
        throw UsageError("--unwind=" + std::string(value) + ": one of cache, libgcc, fp");
      flags.unwind = std::string(value);
    } else if (argument == "--check-unwind") {
      flags.check_unwind = true;
    } else if (take_value(argument, "--replay", &value)) {
      if (value.empty()) throw UsageError("--replay=: a trace, a recording folder or a workload file is needed");
      std::string list(value);
      for (std::size_t start = 0; start <= list.size();) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        if (comma == start) throw UsageError("--replay=" + list + ": an empty name between commas");
        flags.replay.push_back(list.substr(start, comma - start));
        start = comma + 1;
      }
    } else if (take_value(argument, "--replay-timing", &value)) {
      if (value != "as-recorded" && value != "fast")
        throw UsageError("--replay-timing=" + std::string(value) + ": one of as-recorded, fast");
      flags.replay_timing = std::string(value);
    } else if (take_value(argument, "--replay-fill", &value)) {
      if (value != "all-bytes" && value != "one-write-a-page")
        throw UsageError("--replay-fill=" + std::string(value) + ": one of all-bytes, one-write-a-page");
      flags.replay_fill = std::string(value);
    } else if (take_value(argument, "--replay-free-phase", &value)) {
      if (value.empty()) throw UsageError("--replay-free-phase=: a phase of the recording is needed");
      flags.replay_free_phase = std::string(value);
    } else if (take_value(argument, "--trace-info", &value)) {
      if (value.empty()) throw UsageError("--trace-info=: a recording folder is needed");
      flags.trace_info = std::string(value);
    } else if (take_value(argument, "--record-dir", &value)) {
      if (value.empty()) throw UsageError("--record-dir=: a folder is needed");
      flags.record_dir = std::string(value);
    } else if (take_value(argument, "--residency-every", &value)) {
      flags.residency_every = parse_flag("--residency-every", value, parse_duration);
    } else if (argument == "--ignore-memory-limit") {
      flags.ignore_memory_limit = true;
    } else if (argument == "--list-configs" || argument == "--list-configs=text") {
      flags.list_configs = ListFormat::text;
    } else if (argument == "--list-configs=json") {
      flags.list_configs = ListFormat::json;
    } else if (argument.starts_with("--list-configs=")) {
      throw UsageError(std::string(argument) + ": expected --list-configs or --list-configs=json");
    } else if (argument == "--help" || argument == "-h") {
      flags.help = true;
    } else if (google_flag(argument, "--benchmark_filter", &google)) {
      flags.filter = google;  // selected here (instances.h): Google Benchmark never sees another name
    } else if (google_flag(argument, "--benchmark_list_tests", &google)) {
      flags.list_tests = is_truthy(google);  // listed here, with the suite's names
    } else if (google_flag(argument, "--benchmark_out_format", &google)) {
      flags.file_format = google;
      flags.passed_on.emplace_back(argument);
    } else if (google_flag(argument, "--benchmark_out", &google)) {
      if (google.empty() || google == "true") throw UsageError("--benchmark_out needs a file name: --benchmark_out=FILE");
      flags.out = google;  // Google Benchmark is given the partial file instead
    } else {
      if (google_flag(argument, "--benchmark_repetitions", &google)) flags.repetitions = std::max(1, std::atoi(google.c_str()));
      if (google_flag(argument, "--benchmark_enable_random_interleaving", &google)) flags.random_interleaving = is_truthy(google);
      if (google_flag(argument, "--benchmark_format", &google)) flags.display_format = google;
      if (google_flag(argument, "--benchmark_color", &google)) flags.color = google;
      if (google_flag(argument, "--benchmark_counters_tabular", &google)) flags.tabular = is_truthy(google);
      flags.passed_on.emplace_back(argument);
    }
  }
  for (const std::string* format : {&flags.display_format, &flags.file_format})
    if (*format != "console" && *format != "json" && *format != "csv")
      throw UsageError("unknown output format '" + *format + "' (expected console, json or csv)");
  if (!flags.out.empty()) flags.out_partial = flags.out + ".partial-" + std::to_string(::getpid());
  if (!flags.command_output_given) {
    const std::size_t slash = flags.out.rfind('/');
    flags.command_output = (slash == std::string::npos ? std::string() : flags.out.substr(0, slash + 1)) + "command-output";
  }
  if ((flags.record || flags.compare_recorders) && flags.record_dir.empty()) {
    const std::size_t slash = flags.out.rfind('/');
    flags.record_dir = (slash == std::string::npos ? std::string() : flags.out.substr(0, slash + 1)) + "traces";
  } else if (flags.record || flags.compare_recorders) {
    flags.record_dir_given = true;
  }

  if (!flags.scenario.empty() && !flags.command.empty())
    throw UsageError("--scenario and -- PROGRAM are two kinds of run: give one of them");
  if (flags.exact && (!flags.command.empty() || !flags.scenario.empty()))
    throw UsageError("--exact counts the workloads' timed phases; a program (-- PROGRAM, --scenario) has none to count");
  if (flags.exact && flags.heap_map)
    throw UsageError("--exact and --heap-map: the interposer's own instructions would be counted in every phase");
  if (flags.exact && flags.record)
    throw UsageError("--exact and --record: the recorder's own instructions would be counted in every phase");
  if (!flags.record_dir.empty() && !flags.record && !flags.compare_recorders)
    throw UsageError("--record-dir=" + flags.record_dir + " without --record");
  if (flags.compare_recorders && (flags.record || flags.heap_map))
    throw UsageError(
        "--compare-recorders runs every program plain, recorded, behind the heap map and under heaptrack itself: not with --record or "
        "--heap-map");
  if (flags.compare_recorders && flags.command.empty() && flags.scenario.empty())
    throw UsageError("--compare-recorders measures programs: give -- PROGRAM or --scenario=NAME");
  if (flags.exact && flags.latency_given && flags.latency)
    throw UsageError("--exact and --latency=on: timing every operation would add its own instructions to every count");
  if (flags.exact) {
    flags.latency = false;
    if (!flags.settle_given) flags.settle = Nanoseconds{0};
  }
  if (!flags.replay.empty() && (!flags.command.empty() || !flags.scenario.empty()))
    throw UsageError("--replay replays recordings instead of running a program: not with -- PROGRAM or --scenario");
  if (!flags.replay_free_phase.empty() && flags.replay.empty())
    throw UsageError("--replay-free-phase=" + flags.replay_free_phase + " applies to replays (--replay=TRACE)");
  if (!flags.replay.empty() && flags.compare_recorders)
    throw UsageError("--replay and --compare-recorders: a replay is no program to watch four ways");
  if (!flags.measure.empty() && flags.command.empty())
    throw UsageError("--measure=" + flags.measure + " applies to a program (-- PROGRAM); a scenario names what it measures itself");
  return flags;
}

std::vector<std::string> google_benchmark_arguments(const Flags& flags) {
  std::vector<std::string> arguments = flags.passed_on;
  if (!flags.out_partial.empty()) arguments.push_back("--benchmark_out=" + flags.out_partial);
  return arguments;
}

}  // namespace bench
