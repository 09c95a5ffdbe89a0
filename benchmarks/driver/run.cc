#include "benchmarks/driver/run.h"

#include <benchmark/benchmark.h>
#include <gnu/libc-version.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "benchmarks/driver/description.h"
#include "benchmarks/driver/journal.h"
#include "benchmarks/driver/launcher.h"
#include "benchmarks/driver/output_file.h"
#include "benchmarks/driver/reporters.h"
#include "benchmarks/measure/child.h"

namespace bench {
namespace {

// What the benchmark functions share with the run: Google Benchmark calls them, not us.
struct RunState {
  Launcher* launcher = nullptr;
  RunDescription* description = nullptr;
  RunJournal* journal = nullptr;  // with --benchmark_out: every finished row, as it finishes
  int repetitions = 1;
  std::map<std::string, int> repetitions_seen;
  int failures = 0;
  int unavailable = 0;
  bool interrupted = false;
  std::size_t planned = 0;  // children expected, for the progress line
  std::size_t finished = 0;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};
RunState g_run;

std::string minutes_and_seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%dm%02ds", static_cast<int>(seconds) / 60, static_cast<int>(seconds) % 60);
  return text;
}

// As each child finishes: its row into the journal, and a progress line on stderr (stdout carries
// the report): which one, and the time left, estimated from the mean time per child so far.
void on_finished(const InstanceSpec& spec, int repetition, const InstanceResult& result) {
  if (g_run.journal != nullptr) g_run.journal->row(spec, repetition, g_run.repetitions, result);
  ++g_run.finished;
  if (g_run.planned < 2) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - g_run.start).count();
  const std::size_t left = g_run.planned > g_run.finished ? g_run.planned - g_run.finished : 0;
  std::cerr << "[" << g_run.finished << "/" << g_run.planned << "] " << spec.name << (result.ok ? "" : " (error)") << "  elapsed "
            << minutes_and_seconds(elapsed);
  if (left > 0)
    std::cerr << ", about " << minutes_and_seconds(elapsed / static_cast<double>(g_run.finished) * static_cast<double>(left)) << " left";
  std::cerr << std::endl;
}

// Empty when the configuration can run in this build; otherwise why not.
std::string unavailable_reason(const Configuration& configuration) {
  if (!configuration.available()) return std::string(configuration.library->missing_reason);
  if (kAddressSanitizerBuild && configuration.library->preloaded)
    return "this is an AddressSanitizer build, whose runtime must be the process's allocator (LD_PRELOAD of " +
           std::string(configuration.library->name) + " conflicts with it)";
  return {};
}

std::string signal_name(int signal_number) {
  switch (signal_number) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    case SIGPIPE: return "SIGPIPE (its output was closed)";
    default: return "signal " + std::to_string(signal_number);
  }
}

// One repetition of one instance, as Google Benchmark asks for it: its figures come from the child
// the launcher ran for it (in measurement order, maybe long before this call).
void run_instance(benchmark::State& state, const InstanceSpec& spec) {
  for (auto _ : state) {
    if (g_run.interrupted) {
      state.SkipWithError(("not run: the run was interrupted by " + signal_name(interrupt_signal())).c_str());
      break;
    }
    if (const std::string reason = unavailable_reason(*spec.configuration); !reason.empty()) {
      ++g_run.unavailable;
      std::cerr << "bench: " << spec.name << ": configuration " << spec.configuration->name << " is unavailable: " << reason << "\n";
      state.SkipWithError(("unavailable: " + reason).c_str());
      break;
    }
    InstanceResult result;
    try {
      result = g_run.launcher->run(spec);
    } catch (const Interrupted&) {
      g_run.interrupted = true;
      state.SkipWithError(("interrupted by " + signal_name(interrupt_signal()) + " while running: its child was stopped").c_str());
      break;
    } catch (const std::exception& e) {
      result.error = e.what();
    }
    g_run.description->add_result(spec, g_run.repetitions_seen[spec.name]++, result);
    if (!result.ok) {
      ++g_run.failures;
      std::cerr << "bench: " << spec.name << ": " << result.error << "\n";
      state.SkipWithError(result.error.c_str());
      break;
    }
    state.SetIterationTime(result.measured_seconds);
    for (const CounterValue& counter : result.counters)
      state.counters[counter.name] =
          benchmark::Counter(counter.value, benchmark::Counter::kDefaults,
                             counter.unit == Unit::bytes ? benchmark::Counter::kIs1024 : benchmark::Counter::kIs1000);
    state.SetLabel(result.label);
  }
}

std::string read_first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The run's own context (Google Benchmark's "context" section): added to Google Benchmark's, and
// returned for the journal.
std::vector<std::pair<std::string, std::string>> add_context(const Flags& flags, std::mt19937_64::result_type seed) {
  std::vector<std::pair<std::string, std::string>> added;
  auto add = [&](const std::string& key, const std::string& value) {
    benchmark::AddCustomContext(key, value);
    added.emplace_back(key, value);
  };
  add("command", flags.invocation);
  std::string sizes;
  for (std::uint64_t s : flags.sizes) sizes += (sizes.empty() ? "" : ",") + std::to_string(s);
  add("sizes", sizes);
  add("settle", format_duration(flags.settle));
  add("bench_build_type", BENCH_BUILD_TYPE);
  add("glibc_version", gnu_get_libc_version());
  utsname uts{};
  if (::uname(&uts) == 0) add("kernel", std::string(uts.sysname) + " " + uts.release + " " + uts.machine);
  add("thp_enabled", read_first_line("/sys/kernel/mm/transparent_hugepage/enabled"));
  add("cpu_model", [] {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return std::string("unknown");
  }());
  std::set<std::string_view> libraries;
  for (const Configuration& c : configurations())
    if (c.library->preloaded && libraries.insert(c.library->name).second)
      add("library_" + std::string(c.library->name), c.available() ? std::string(c.library->preload_path) : "unavailable");
  add("isolation", "one child process per instance and repetition; keys hashed once into a shared memfd");
  add("order",
      flags.random_interleaving ? "random (seed " + std::to_string(seed) + ")" : "rounds: repetition r of every instance before r + 1");
  if (kAddressSanitizerBuild)
    add("sanitized", "AddressSanitizer build: rows are served by ASan's allocator; for checking the harness, not for figures");
  add("incomplete", "false");
  return added;
}

// Google Benchmark's context as it will write it, for the journal: the machine, then the suite's.
nlohmann::json journal_context(const std::vector<std::pair<std::string, std::string>>& added, const std::string& executable) {
  const benchmark::CPUInfo& cpu = benchmark::CPUInfo::Get();
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%FT%T%z", std::localtime(&now));
  std::string iso = date;
  if (iso.size() > 5) iso.insert(iso.size() - 2, ":");  // +0000 -> +00:00, as Google Benchmark writes it
  nlohmann::json context = {{"date", iso},
                            {"host_name", benchmark::SystemInfo::Get().name},
                            {"executable", executable},
                            {"num_cpus", cpu.num_cpus},
                            {"mhz_per_cpu", static_cast<long>(cpu.cycles_per_second / 1e6)},
                            {"cpu_scaling_enabled", cpu.scaling == benchmark::CPUInfo::ENABLED},
                            {"load_avg", cpu.load_avg}};
  for (const auto& [key, value] : added) context[key] = value;
  context["incomplete"] = "true";  // a journal is read only when the run did not end
  return context;
}

extern "C" void on_interrupt(int signal_number) { request_interrupt(signal_number); }

// The first of BASE, BASE-2, ... that does not exist, made: nothing an earlier run wrote is written into.
std::string new_folder(const std::string& base_path, const std::string& what, const char* flag) {
  std::error_code error;
  const std::filesystem::path base(base_path);
  if (base.has_parent_path()) std::filesystem::create_directories(base.parent_path(), error);
  for (int n = 1; n < 1000; ++n) {
    const std::string candidate = n == 1 ? base.string() : base.string() + "-" + std::to_string(n);
    if (::mkdir(candidate.c_str(), 0755) == 0) return candidate;
    if (errno != EEXIST) throw UsageError("cannot create " + candidate + " for " + what + ": " + std::strerror(errno));
  }
  throw UsageError(base.string() + " ... " + base.string() + "-999 all exist: pick a folder with " + flag);
}

// Where the programs' output goes ("" when discarded or when no program runs). Given a folder, its
// files must not exist yet; by default a new folder is made, the first of command-output,
// command-output-2, ... that does not exist: nothing already written is replaced.
std::string prepare_command_output(const Flags& flags, const std::vector<InstanceSpec>& selected) {
  const bool programs = std::any_of(selected.begin(), selected.end(), [](const InstanceSpec& s) { return s.command; });
  if (!programs || flags.command_output == "discard") return {};
  std::error_code error;
  if (flags.command_output_given) {
    for (const InstanceSpec& spec : selected)
      for (int r = 0; r < flags.repetitions; ++r)
        for (const char* stream : {".stdout", ".stderr"}) {
          const std::string path = flags.command_output + "/" + (spec.scenario != nullptr ? spec.scenario->name + "." : std::string()) +
                                   std::string(spec.configuration->name) + "." + std::to_string(r) + stream;
          struct stat st {};
          if (::lstat(path.c_str(), &st) == 0)
            throw UsageError(path +
                             " already exists; the program's output is never written over it (--command-output=DIR picks another folder)");
        }
    std::filesystem::create_directories(flags.command_output, error);
    if (error) throw UsageError("cannot create --command-output=" + flags.command_output + ": " + error.message());
    return flags.command_output;
  }
  return new_folder(flags.command_output, "the program's output", "--command-output=DIR");
}

// Where the traces go (--record): the folder given (made if missing; each row's own folder in it
// must not exist), or a new one next to --benchmark_out.
std::string prepare_record_directory(const Flags& flags) {
  if (!flags.record && !flags.compare_recorders) return {};
  if (flags.record_dir_given) {
    std::error_code error;
    std::filesystem::create_directories(flags.record_dir, error);
    if (error) throw UsageError("cannot create --record-dir=" + flags.record_dir + ": " + error.message());
    return flags.record_dir;
  }
  return new_folder(flags.record_dir, "the traces", "--record-dir=DIR");
}

}  // namespace

std::string replay_directory(const Flags& flags) {
  if (flags.replay.empty()) return {};
  const std::size_t slash = flags.out.rfind('/');
  const std::string base = (slash == std::string::npos ? std::string() : flags.out.substr(0, slash + 1)) + "replays";
  if (!flags.out.empty()) return new_folder(base, "the replays' workloads", "--benchmark_out=FILE");
  char temporary[] = "/tmp/bench-replays-XXXXXX";
  if (::mkdtemp(temporary) == nullptr) throw UsageError(std::string("cannot create /tmp/bench-replays-XXXXXX: ") + std::strerror(errno));
  return temporary;
}

std::string this_executable() {
  char path[4096];
  const ssize_t length = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (length <= 0) throw UsageError("cannot resolve /proc/self/exe");
  path[length] = '\0';
  return path;
}

int print_help() {
  std::fputs(kFlagsHelp, stdout);
  std::fputs("\nGoogle Benchmark flags:\n", stdout);
  benchmark::PrintDefaultHelp();
  return 0;
}

int list_instances(const std::vector<InstanceSpec>& selected) {
  for (const InstanceSpec& spec : selected) std::printf("%s\n", spec.name.c_str());
  return 0;
}

int list_configurations(const Flags& flags, const std::string& executable) {
  const std::optional<ExactMode> exact = flags.exact ? std::optional<ExactMode>(find_valgrind()) : std::nullopt;
  Launcher launcher({.executable = executable, .timeout = flags.timeout, .max_settling = 0});
  nlohmann::json listing = configurations_json();
  int problems = 0;
  std::size_t index = 0;
  for (const Configuration& c : configurations()) {
    nlohmann::json& row = listing[index++];
    std::string status;
    if (const std::string reason = unavailable_reason(c); !reason.empty()) {
      status = "UNAVAILABLE: " + reason;
      row["available"] = false;
      row["unavailable_reason"] = reason;
    } else {
      const InstanceResult probe = launcher.probe(c);
      status = probe.ok ? "available" : "ERROR: " + probe.error;
      row["verified"] = probe.ok;
      row["served_by"] = probe.ok ? probe.label : "";
      if (!probe.ok) row["error"] = probe.error;
      problems += probe.ok ? 0 : 1;
    }
    if (flags.list_configs != ListFormat::text) continue;
    std::string environment;
    for (const EnvironmentVariable& v : c.environment) environment += std::string(v.name) + "=" + std::string(v.value) + " ";
    std::cout << c.name << "  " << (c.is_container_level() ? "container" : "process") << "-level  " << status << "\n"
              << "    " << c.summary << "\n"
              << "    kind:         " << kind_name(c.kind) << (c.reference.empty() ? "" : ", compared with " + std::string(c.reference))
              << "\n"
              << "    allocator:    " << c.library->name
              << (c.library->preloaded ? " (LD_PRELOAD=" + std::string(c.library->preload_path) + ")"
                                       : std::string(" (the process default)"))
              << "\n"
              << "    environment:  " << (environment.empty() ? "-" : environment) << "\n"
              << "    release step: " << (c.release ? c.release->description : "-") << "\n";
    if (row.contains("served_by") && !row["served_by"].get<std::string>().empty())
      std::cout << "    served by:    " << row["served_by"].get<std::string>() << "\n";
  }
  if (flags.list_configs == ListFormat::json) std::cout << listing.dump(2) << "\n";
  return problems == 0 ? 0 : kExitErrorRows;
}

int run_benchmarks(const Flags& flags, const std::vector<InstanceSpec>& selected, const std::string& executable,
                   const std::string& program) {
  // 1. The output file exists (as <out>.partial-<pid>) before anything runs, and the program's
  //    output files do not: a run never replaces what an earlier one wrote.
  std::optional<OutputFile> output;
  if (!flags.out.empty()) {
    output.emplace(flags.out, flags.out_partial);
    if (const std::string problem = output->create(); !problem.empty()) throw UsageError(problem);
    for (const std::string& leftover : output->leftovers()) {
      std::cerr << "bench: note: " << leftover << " was left by an earlier bench that was killed before it could finish "
                << "(unfinished output, not valid JSON); it is kept, remove it when you no longer need it\n";
      const std::string journal = flags.out + ".rows-" + leftover.substr(leftover.rfind('-') + 1) + ".jsonl";
      if (std::filesystem::exists(journal))
        std::cerr << "bench: note: that bench's finished rows are in " << journal << ": scripts/recover.py " << journal
                  << " -o RUN.json turns them into a run's JSON\n";
    }
  }
  const std::string command_output = prepare_command_output(flags, selected);
  if (!command_output.empty()) std::cerr << "bench: the programs' standard output and error go to " << command_output << "/\n";
  const std::string record_directory = prepare_record_directory(flags);
  if (!record_directory.empty()) std::cerr << "bench: the recordings go to " << record_directory << "/\n";

  // 2. Google Benchmark reads its own flags; it is given only the selected instances.
  std::vector<std::string> arguments = google_benchmark_arguments(flags);
  std::vector<char*> gb_argv;
  for (std::string& a : arguments) gb_argv.push_back(a.data());
  gb_argv.push_back(nullptr);
  int gb_argc = static_cast<int>(arguments.size());
  benchmark::Initialize(&gb_argc, gb_argv.data());
  if (benchmark::ReportUnrecognizedArguments(gb_argc, gb_argv.data())) return kExitUsage;
  for (const InstanceSpec& spec : selected)
    benchmark::RegisterBenchmark(spec.name.c_str(), [&spec](benchmark::State& state) { run_instance(state, spec); })
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  const auto seed = std::random_device{}();
  const std::vector<std::pair<std::string, std::string>> context = add_context(flags, seed);

  // 3. The children, in measurement order: repetitions interleaved, one child measuring at a time.
  std::vector<InstanceSpec> runnable;
  for (const InstanceSpec& spec : selected)
    if (unavailable_reason(*spec.configuration).empty()) runnable.push_back(spec);
  const std::optional<ExactMode> exact = flags.exact ? std::optional<ExactMode>(find_valgrind()) : std::nullopt;
  Launcher launcher({.executable = executable,
                     .settle = flags.settle,
                     .timeout = flags.timeout,
                     .max_settling = flags.max_settling,
                     .ignore_memory_limit = flags.ignore_memory_limit,
                     .rounds = flags.rounds,
                     .pause = flags.pause,
                     .latency = flags.latency,
                     .activity_period = flags.activity_period,
                     .replay_timing = flags.replay_timing,
                     .replay_fill = flags.replay_fill,
                     .command = {.program = program,
                                 .argv = flags.command,
                                 .measure = flags.measure,
                                 .heap_map = flags.heap_map,
                                 .sample_every = flags.sample_every,
                                 .output_directory = command_output},
                     .scenario_scale = flags.scenario_scale,
                     .exact = exact,
                     .heap_map = flags.heap_map,
                     .record = flags.record,
                     .recording = {.trace_directory = record_directory,
                                   .residency_every = flags.residency_every,
                                   .unwind = flags.unwind,
                                   .check_unwind = flags.check_unwind},
                     .on_finished = on_finished});
  const std::vector<const InstanceSpec*> order = measurement_order(runnable, flags.repetitions, flags.random_interleaving, seed);
  launcher.plan(order);
  RunDescription description(flags, selected, program, command_output, exact);
  std::optional<RunJournal> journal;
  if (output) {
    journal.emplace(flags.out + ".rows-" + std::to_string(::getpid()) + ".jsonl");
    journal->header(journal_context(context, executable), description.document());
    g_run.journal = &*journal;
  }
  g_run.repetitions = flags.repetitions;
  g_run.planned = order.size();
  g_run.launcher = &launcher;
  g_run.description = &description;

  // 4. Interrupts stop the children and keep what finished. No SA_RESTART: poll() returns and the
  //    launcher stops the children. A closed stdout (SIGPIPE, e.g. `./bench | head`) or a closed
  //    terminal (SIGHUP) ends the run the same way.
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::sigaction(signal_number, &action, nullptr);

  // 5. Google Benchmark drives the run and its reporters; the description closes the JSON.
  const auto display = make_reporter(flags.display_format, flags, /*for_file=*/false, description);
  const auto file = output ? make_reporter(flags.file_format, flags, /*for_file=*/true, description) : nullptr;
  g_run.start = std::chrono::steady_clock::now();
  benchmark::RunSpecifiedBenchmarks(display.get(), file.get(), ".");
  launcher.stop_all();
  benchmark::Shutdown();

  // 6. The output appears under its final name; the exit status says what happened.
  if (output) {
    if (g_run.interrupted) output->mark_incomplete();
    if (const std::string problem = output->commit(); !problem.empty()) {
      std::cerr << "bench: " << problem << "\n";
      return kExitUsage;
    }
  }
  if (g_run.interrupted) {
    std::cerr << "bench: interrupted by " << signal_name(interrupt_signal()) << "; children stopped; finished rows were kept"
              << (flags.out.empty() ? "" : " in " + flags.out + " (marked \"incomplete\": \"true\")") << "\n";
    return kExitInterrupted;
  }
  if (g_run.failures > 0 || g_run.unavailable > 0) {
    std::cerr << "bench: error rows: " << g_run.failures << " failed or refused instance(s), " << g_run.unavailable
              << " unavailable (see the messages above and each row's error_message)\n";
    return kExitErrorRows;
  }
  return 0;
}

}  // namespace bench
