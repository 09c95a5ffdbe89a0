// ./bench — a Google Benchmark binary whose every instance and repetition runs in a fresh child
// process (see launcher.h). The parent registers one benchmark per workload × configuration × size,
// lets Google Benchmark drive the run (filters, repetitions, reporters, aggregates), and fills each
// run's counters from its child.
#include <benchmark/benchmark.h>
#include <gnu/libc-version.h>
#include <regex.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include "allocators/configuration.h"
#include "benchmarks/child.h"
#include "benchmarks/launcher.h"
#include "benchmarks/options.h"
#include "benchmarks/reporting.h"
#include "benchmarks/workload.h"

namespace bench {
namespace {

struct RunState {
  Launcher* launcher = nullptr;
  int failures = 0;
  int unavailable = 0;
  bool interrupted = false;
  std::size_t planned = 0;  // instance repetitions expected, for the progress line
  std::size_t finished = 0;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};
RunState g_run;

std::string minutes_and_seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%dm%02ds", static_cast<int>(seconds) / 60, static_cast<int>(seconds) % 60);
  return text;
}

// A progress line on stderr (stdout carries the report): what finished, and the time left, estimated
// from the mean time per instance so far.
void report_progress(const InstanceSpec& spec, bool ok) {
  ++g_run.finished;
  if (g_run.planned < 2) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - g_run.start).count();
  const std::size_t left = g_run.planned > g_run.finished ? g_run.planned - g_run.finished : 0;
  std::cerr << "[" << g_run.finished << "/" << g_run.planned << "] " << spec.name << (ok ? "" : " (error)")
            << "  elapsed " << minutes_and_seconds(elapsed);
  if (left > 0) std::cerr << ", about " << minutes_and_seconds(elapsed / static_cast<double>(g_run.finished) * static_cast<double>(left)) << " left";
  std::cerr << std::endl;
}

bool is_byte_counter(const std::string& name) {
  return name.rfind("rss_", 0) == 0 || name.rfind("vsize_", 0) == 0 ||
         (name.rfind("stat_", 0) == 0 && name.find("chunks") == std::string::npos &&
          name.find("blks") == std::string::npos && name.find("slots") == std::string::npos);
}

void run_instance(benchmark::State& state, const InstanceSpec& spec) {
  for (auto _ : state) {
    if (g_run.interrupted) {
      state.SkipWithError("not run: the run was interrupted");
      break;
    }
    if (!spec.configuration->available()) {
      ++g_run.unavailable;
      state.SkipWithError(("unavailable: " + std::string(spec.configuration->library->missing_reason)).c_str());
      break;
    }
    InstanceResult result;
    try {
      result = g_run.launcher->run(spec);
    } catch (const Interrupted&) {
      g_run.interrupted = true;
      state.SkipWithError("interrupted while running");
      break;
    } catch (const std::exception& e) {
      result.error = e.what();
    }
    report_progress(spec, result.ok);
    if (!result.ok) {
      ++g_run.failures;
      std::cerr << "bench: " << spec.name << ": " << result.error << "\n";
      state.SkipWithError(result.error.c_str());
      break;
    }
    state.SetIterationTime(result.measured_seconds);
    for (const auto& [name, value] : result.counters)
      state.counters[name] = benchmark::Counter(value, benchmark::Counter::kDefaults,
                                                is_byte_counter(name) ? benchmark::Counter::kIs1024 : benchmark::Counter::kIs1000);
    state.SetLabel(result.label);
  }
}

std::vector<InstanceSpec> all_instances(const RunOptions& options) {
  std::vector<InstanceSpec> instances;
  for (const Workload& workload : workloads())
    for (const Configuration& configuration : configurations())
      if (applies(workload, configuration))
        for (std::uint64_t size : options.sizes)
          instances.push_back({std::string(workload.name) + "/" + std::string(configuration.name) + "/" + std::to_string(size),
                               &workload, &configuration, size});
  return instances;
}

// The instances Google Benchmark will run, in its order, so children can start ahead of it. Mirrors
// its filter rules (an empty filter or "all" matches everything, a leading '-' negates, extended
// regular expression searched anywhere in the name); a mismatch only costs the look-ahead.
std::vector<InstanceSpec> planned_instances(const std::vector<InstanceSpec>& instances, int repetitions, bool available_only) {
  std::string filter = benchmark::GetBenchmarkFilter();
  bool negate = false;
  if (filter.empty() || filter == "all") filter = ".";
  if (filter[0] == '-') {
    negate = true;
    filter.erase(0, 1);
  }
  regex_t regex;
  if (::regcomp(&regex, filter.c_str(), REG_EXTENDED | REG_NOSUB) != 0)
    throw UsageError("--benchmark_filter=" + benchmark::GetBenchmarkFilter() + " is not a valid regular expression");
  std::vector<InstanceSpec> plan;
  for (const InstanceSpec& spec : instances)
    if ((::regexec(&regex, spec.name.c_str(), 0, nullptr, 0) == 0) != negate && (!available_only || spec.configuration->available()))
      for (int r = 0; r < repetitions; ++r) plan.push_back(spec);
  ::regfree(&regex);
  return plan;
}

std::string read_first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

void add_context(const RunOptions& options, int argc, char** argv) {
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  benchmark::AddCustomContext("command", command);
  std::string sizes;
  for (std::uint64_t s : options.sizes) sizes += (sizes.empty() ? "" : ",") + std::to_string(s);
  benchmark::AddCustomContext("sizes", sizes);
  benchmark::AddCustomContext("settle", format_duration(options.settle));
  benchmark::AddCustomContext("bench_build_type", BENCH_BUILD_TYPE);
  benchmark::AddCustomContext("glibc_version", gnu_get_libc_version());
  utsname uts{};
  if (::uname(&uts) == 0) benchmark::AddCustomContext("kernel", std::string(uts.sysname) + " " + uts.release + " " + uts.machine);
  benchmark::AddCustomContext("thp_enabled", read_first_line("/sys/kernel/mm/transparent_hugepage/enabled"));
  benchmark::AddCustomContext("cpu_model", [] {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return std::string("unknown");
  }());
  std::set<std::string_view> libraries;
  for (const Configuration& c : configurations())
    if (c.library->preloaded && libraries.insert(c.library->name).second)
      benchmark::AddCustomContext("library_" + std::string(c.library->name),
                                  c.available() ? std::string(c.library->preload_path) : "unavailable");
  benchmark::AddCustomContext("isolation", "one child process per instance and repetition; keys hashed once into a shared memfd");
  benchmark::AddCustomContext("incomplete", "false");
}

// One block per configuration: a header line "<name>  <kind>-level  <status>", then indented details.
// Each available configuration is verified by a probe child, exactly as a measurement would be.
int list_configs(const RunOptions& options, const std::string& executable) {
  Launcher launcher({.executable = executable, .settle = {}, .timeout = options.timeout, .max_settling = 0});
  int problems = 0;
  for (const Configuration& c : configurations()) {
    std::string environment;
    for (const EnvironmentVariable& v : c.environment) environment += std::string(v.name) + "=" + std::string(v.value) + " ";
    std::string status, served_by;
    if (!c.available()) {
      status = "UNAVAILABLE: " + std::string(c.library->missing_reason);
    } else {
      const InstanceResult probe = launcher.run({"probe/" + std::string(c.name), nullptr, &c, 1});
      status = probe.ok ? "available" : "ERROR: " + probe.error;
      served_by = probe.ok ? probe.label : "-";
      problems += probe.ok ? 0 : 1;
    }
    std::cout << c.name << "  " << (c.is_container_level() ? "container" : "process") << "-level  " << status << "\n"
              << "    " << c.summary << "\n"
              << "    allocator:    " << c.library->name
              << (c.library->preloaded ? " (LD_PRELOAD=" + std::string(c.library->preload_path) + ")" : std::string(" (the process default)")) << "\n"
              << "    environment:  " << (environment.empty() ? "-" : environment) << "\n"
              << "    release step: " << (c.release_summary.empty() ? "-" : c.release_summary) << "\n";
    if (!served_by.empty()) std::cout << "    served by:    " << served_by << "\n";
  }
  return problems == 0 ? 0 : 1;
}

// Replaces "incomplete": "false" in the partial JSON file; other formats carry the error rows only.
void mark_incomplete(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string content = text.str();
  const std::string from = "\"incomplete\": \"false\"";
  if (const auto at = content.find(from); at != std::string::npos) {
    content.replace(at, from.size(), "\"incomplete\": \"true\"");
    std::ofstream(path, std::ios::trunc) << content;
  }
}

extern "C" void on_interrupt(int) { request_interrupt(); }

int main_parent(int argc, char** argv) {
  const int original_argc = argc;
  std::vector<char*> original_argv(argv, argv + argc);
  RunOptions options;
  ReporterFlags reporter_flags;
  try {
    options = parse_run_options(argc, argv);
    reporter_flags = read_reporter_flags(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "bench: " << e.what() << "\n";
    return 2;
  }
  char executable[4096];
  const ssize_t length = ::readlink("/proc/self/exe", executable, sizeof executable - 1);
  if (length <= 0) {
    std::cerr << "bench: cannot resolve /proc/self/exe\n";
    return 2;
  }
  executable[length] = '\0';
  if (options.help) {
    std::fputs(kOptionsHelp, stdout);
    std::fputs("\nGoogle Benchmark flags:\n", stdout);
    benchmark::PrintDefaultHelp();
    return 0;
  }
  if (options.list_configs) return list_configs(options, executable);

  std::string out_flag;
  if (!options.benchmark_out.empty()) {
    struct stat st {};
    if (::stat(options.benchmark_out.c_str(), &st) == 0) {
      std::cerr << "bench: --benchmark_out=" << options.benchmark_out << " already exists; it is not replaced (remove it or pick another name)\n";
      return 2;
    }
    if (FILE* probe = std::fopen(options.benchmark_out_partial.c_str(), "wx")) {
      std::fclose(probe);
    } else {
      std::cerr << "bench: cannot write --benchmark_out=" << options.benchmark_out << ": " << std::strerror(errno) << "\n";
      return 2;
    }
    out_flag = "--benchmark_out=" + options.benchmark_out_partial;
    for (int i = 1; i < argc; ++i)
      if (std::string_view(argv[i]).rfind("--benchmark_out=", 0) == 0) argv[i] = out_flag.data();
  }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    if (!options.benchmark_out_partial.empty()) ::unlink(options.benchmark_out_partial.c_str());
    return 2;
  }

  const std::vector<InstanceSpec> instances = all_instances(options);
  std::vector<InstanceSpec> plan;
  try {
    plan = planned_instances(instances, options.repetitions, /*available_only=*/true);
  } catch (const UsageError& e) {
    std::cerr << "bench: " << e.what() << "\n";
    if (!options.benchmark_out_partial.empty()) ::unlink(options.benchmark_out_partial.c_str());
    return 2;
  }
  if (reporter_flags.list_tests) {  // listed here so that names carry no Google Benchmark suffixes
    const std::vector<InstanceSpec> listed = planned_instances(instances, 1, /*available_only=*/false);
    for (const InstanceSpec& spec : listed) std::printf("%s\n", spec.name.c_str());
    if (!options.benchmark_out_partial.empty()) ::unlink(options.benchmark_out_partial.c_str());
    if (listed.empty()) std::fprintf(stderr, "bench: no benchmark matches --benchmark_filter=%s\n", benchmark::GetBenchmarkFilter().c_str());
    return listed.empty() ? 2 : 0;
  }
  for (const InstanceSpec& spec : instances)
    benchmark::RegisterBenchmark(spec.name.c_str(), [&spec](benchmark::State& state) { run_instance(state, spec); })
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  for (const Configuration& c : configurations())
    if (!c.available()) std::cerr << "bench: configuration " << c.name << " is unavailable: " << c.library->missing_reason << "\n";
  add_context(options, original_argc, original_argv.data());

  Launcher launcher({.executable = executable, .settle = options.settle, .timeout = options.timeout,
                     .max_settling = options.max_settling, .ignore_memory_limit = options.ignore_memory_limit});
  launcher.plan(plan);
  g_run.planned = plan.size();
  g_run.launcher = &launcher;

  struct sigaction action {};
  action.sa_handler = on_interrupt;  // no SA_RESTART: poll() returns and the launcher stops the children
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);

  const auto display = make_reporter(reporter_flags.display_format, reporter_flags, /*for_file=*/false);
  const auto file = options.benchmark_out.empty() ? nullptr : make_reporter(reporter_flags.file_format, reporter_flags, /*for_file=*/true);
  g_run.start = std::chrono::steady_clock::now();
  const std::size_t matched = benchmark::RunSpecifiedBenchmarks(display.get(), file.get());
  launcher.stop_all();
  benchmark::Shutdown();

  if (!options.benchmark_out.empty()) {
    if (g_run.interrupted) mark_incomplete(options.benchmark_out_partial);
    if (matched == 0) {
      ::unlink(options.benchmark_out_partial.c_str());
    } else if (::rename(options.benchmark_out_partial.c_str(), options.benchmark_out.c_str()) != 0) {
      std::cerr << "bench: cannot move results to " << options.benchmark_out << ": " << std::strerror(errno) << "\n";
      return 2;
    }
  }
  if (matched == 0) return 2;  // Google Benchmark printed which filter matched nothing
  if (g_run.interrupted) {
    std::cerr << "bench: interrupted; finished rows were kept" << (options.benchmark_out.empty() ? "" : " in " + options.benchmark_out)
              << " (marked incomplete)\n";
    return 130;
  }
  if (g_run.failures > 0) {
    std::cerr << "bench: " << g_run.failures << " instance(s) failed; their rows are error rows\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == bench::kChildFlag) return bench::child_main(argc, argv);
  return bench::main_parent(argc, argv);
}
