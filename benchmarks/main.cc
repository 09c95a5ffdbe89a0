// ./bench — a Google Benchmark binary whose every instance and repetition runs in a fresh child
// process (see launcher.h). The parent registers one benchmark per workload × configuration × size,
// lets Google Benchmark drive the run (filters, repetitions, reporters, aggregates), and fills each
// run's counters from its child.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <regex.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "allocators/configuration.h"
#include "benchmarks/child.h"
#include "benchmarks/launcher.h"
#include "benchmarks/options.h"
#include "benchmarks/reporting.h"
#include "benchmarks/workload.h"

namespace bench {
namespace {

// Exit statuses: 0 every selected instance measured; 1 some rows are error rows (a failed, refused or
// unavailable instance); 2 bad usage, nothing run; 130 interrupted (SIGINT, SIGTERM, SIGHUP, SIGPIPE).
constexpr int kExitErrorRows = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

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

// The instances --benchmark_filter (or BENCHMARK_FILTER) selects, with Google Benchmark's rules: an
// empty filter or "all" matches everything, a leading '-' negates, an extended regular expression is
// searched anywhere in the name. Matched here against the suite's names (<workload>/<configuration>/<N>,
// so that '$' works), and only these are registered: Google Benchmark never sees another name.
// Throws UsageError for an invalid expression or one that selects nothing.
std::vector<InstanceSpec> selected_instances(const std::vector<InstanceSpec>& instances) {
  const std::string given = benchmark::GetBenchmarkFilter();
  std::string filter = given;
  bool negate = false;
  if (filter.empty() || filter == "all") filter = ".";
  if (filter[0] == '-') {
    negate = true;
    filter.erase(0, 1);
  }
  regex_t regex;
  if (const int error = ::regcomp(&regex, filter.c_str(), REG_EXTENDED | REG_NOSUB); error != 0) {
    char message[256];
    ::regerror(error, &regex, message, sizeof message);
    throw UsageError("--benchmark_filter=" + given + " is not a valid extended regular expression: " + message);
  }
  std::vector<InstanceSpec> selected;
  for (const InstanceSpec& spec : instances)
    if ((::regexec(&regex, spec.name.c_str(), 0, nullptr, 0) == 0) != negate) selected.push_back(spec);
  ::regfree(&regex);
  if (selected.empty())
    throw UsageError("--benchmark_filter=" + given + " matches no benchmark (./bench --benchmark_list_tests lists them)");
  return selected;
}

// The order in which Google Benchmark will run the selected instances, so children can start ahead
// of it (a different order, e.g. random interleaving, only costs the look-ahead).
std::vector<InstanceSpec> planned_instances(const std::vector<InstanceSpec>& selected, int repetitions) {
  std::vector<InstanceSpec> plan;
  for (const InstanceSpec& spec : selected)
    if (unavailable_reason(*spec.configuration).empty())
      for (int r = 0; r < repetitions; ++r) plan.push_back(spec);
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
  if (kAddressSanitizerBuild)
    benchmark::AddCustomContext("sanitized", "AddressSanitizer build: rows are served by ASan's allocator; for checking the harness, not for figures");
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
    if (const std::string reason = unavailable_reason(c); !reason.empty()) {
      status = "UNAVAILABLE: " + reason;
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

// Replaces "incomplete": "false" in the partial JSON file (not yet under its final name); other
// formats carry the error rows only.
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

extern "C" void on_interrupt(int signal_number) { request_interrupt(signal_number); }

// The file Google Benchmark writes: `<out>.partial-<pid>`, created exclusively before anything runs,
// renamed to `<out>` only at the end, removed on any early exit. Only a parent killed by SIGKILL (or
// a crash) leaves it behind; the next run with the same --benchmark_out names such leftovers.
class PartialOutput {
 public:
  PartialOutput(std::string final_path, std::string partial_path) : final_(std::move(final_path)), partial_(std::move(partial_path)) {}
  ~PartialOutput() {
    if (created_ && !committed_) ::unlink(partial_.c_str());
  }
  PartialOutput(const PartialOutput&) = delete;
  PartialOutput& operator=(const PartialOutput&) = delete;

  // Refuses an existing final file (even a dangling symlink) and checks that the location is writable
  // by creating the partial file. Returns an error message, empty on success.
  std::string create() {
    struct stat st {};
    if (::lstat(final_.c_str(), &st) == 0)
      return "--benchmark_out=" + final_ + " already exists; it is not replaced (remove it or pick another name)";
    const int fd = ::open(partial_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return "cannot write --benchmark_out=" + final_ + " (creating " + partial_ + "): " + std::strerror(errno);
    ::close(fd);
    created_ = true;
    return {};
  }

  // Moves the partial file to the final name, never replacing a file that appeared meanwhile.
  std::string commit() {
    committed_ = true;
    if (::renameat2(AT_FDCWD, partial_.c_str(), AT_FDCWD, final_.c_str(), RENAME_NOREPLACE) == 0) return {};
    if (errno == EINVAL || errno == ENOSYS) {  // a file system without RENAME_NOREPLACE: link fails on EEXIST too
      if (::link(partial_.c_str(), final_.c_str()) == 0) {
        ::unlink(partial_.c_str());
        return {};
      }
    }
    return "cannot move the results to --benchmark_out=" + final_ + ": " + std::strerror(errno) + "; they are in " + partial_;
  }

  // `<out>.partial-<pid>` files whose process no longer exists: left by a parent that was killed.
  std::vector<std::string> leftovers() const {
    namespace fs = std::filesystem;
    const fs::path final_path(final_);
    const fs::path directory = final_path.has_parent_path() ? final_path.parent_path() : fs::path(".");
    const std::string prefix = final_path.filename().string() + ".partial-";
    std::vector<std::string> found;
    std::error_code error;
    for (const fs::directory_entry& entry : fs::directory_iterator(directory, error)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) != 0) continue;
      const std::string pid = name.substr(prefix.size());
      if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
      if (::kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH) found.push_back(entry.path().string());
    }
    return found;
  }

 private:
  std::string final_, partial_;
  bool created_ = false;
  bool committed_ = false;
};

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
    return kExitUsage;
  }
  char executable[4096];
  const ssize_t length = ::readlink("/proc/self/exe", executable, sizeof executable - 1);
  if (length <= 0) {
    std::cerr << "bench: cannot resolve /proc/self/exe\n";
    return kExitUsage;
  }
  executable[length] = '\0';
  if (options.help) {
    std::fputs(kOptionsHelp, stdout);
    std::fputs("\nGoogle Benchmark flags:\n", stdout);
    benchmark::PrintDefaultHelp();
    return 0;
  }
  if (options.list_configs) return list_configs(options, executable);

  std::optional<PartialOutput> output;
  std::vector<std::string> arguments(argv, argv + argc);
  if (!options.benchmark_out.empty()) {
    output.emplace(options.benchmark_out, options.benchmark_out_partial);
    if (const std::string problem = output->create(); !problem.empty()) {
      std::cerr << "bench: " << problem << "\n";
      return kExitUsage;
    }
    for (const std::string& leftover : output->leftovers())
      std::cerr << "bench: note: " << leftover << " was left by an earlier bench that was killed before it could finish "
                << "(unfinished output, not valid JSON); it is kept, remove it when you no longer need it\n";
    // Google Benchmark writes the partial file (--benchmark_out from the command line or BENCHMARK_OUT).
    std::erase_if(arguments, [](const std::string& a) { return a.rfind("--benchmark_out=", 0) == 0; });
    arguments.push_back("--benchmark_out=" + options.benchmark_out_partial);
  }
  std::vector<char*> gb_argv;
  for (std::string& a : arguments) gb_argv.push_back(a.data());
  gb_argv.push_back(nullptr);
  int gb_argc = static_cast<int>(arguments.size());

  benchmark::Initialize(&gb_argc, gb_argv.data());
  if (benchmark::ReportUnrecognizedArguments(gb_argc, gb_argv.data())) return kExitUsage;

  const std::vector<InstanceSpec> instances = all_instances(options);
  std::vector<InstanceSpec> selected;
  try {
    selected = selected_instances(instances);
  } catch (const UsageError& e) {
    std::cerr << "bench: " << e.what() << "\n";
    return kExitUsage;
  }
  if (reporter_flags.list_tests) {  // listed here so that names carry no Google Benchmark suffixes
    for (const InstanceSpec& spec : selected) std::printf("%s\n", spec.name.c_str());
    return 0;
  }
  for (const InstanceSpec& spec : selected)
    benchmark::RegisterBenchmark(spec.name.c_str(), [&spec](benchmark::State& state) { run_instance(state, spec); })
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  add_context(options, original_argc, original_argv.data());

  Launcher launcher({.executable = executable, .settle = options.settle, .timeout = options.timeout,
                     .max_settling = options.max_settling, .ignore_memory_limit = options.ignore_memory_limit});
  const std::vector<InstanceSpec> plan = planned_instances(selected, options.repetitions);
  launcher.plan(plan);
  g_run.planned = plan.size();
  g_run.launcher = &launcher;

  // No SA_RESTART: poll() returns and the launcher stops the children. A closed stdout (SIGPIPE, e.g.
  // `./bench | head`) or a closed terminal (SIGHUP) ends the run the same way: what finished is kept.
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::sigaction(signal_number, &action, nullptr);

  const auto display = make_reporter(reporter_flags.display_format, reporter_flags, /*for_file=*/false);
  const auto file = output ? make_reporter(reporter_flags.file_format, reporter_flags, /*for_file=*/true) : nullptr;
  g_run.start = std::chrono::steady_clock::now();
  const std::size_t matched = benchmark::RunSpecifiedBenchmarks(display.get(), file.get(), ".");
  launcher.stop_all();
  benchmark::Shutdown();

  if (output) {
    if (g_run.interrupted) mark_incomplete(options.benchmark_out_partial);
    if (const std::string problem = output->commit(); !problem.empty()) {
      std::cerr << "bench: " << problem << "\n";
      return kExitUsage;
    }
  }
  if (matched == 0) return kExitUsage;  // not reached: selected_instances refuses an empty selection
  if (g_run.interrupted) {
    std::cerr << "bench: interrupted by " << signal_name(interrupt_signal()) << "; children stopped; finished rows were kept"
              << (options.benchmark_out.empty() ? "" : " in " + options.benchmark_out + " (marked \"incomplete\": \"true\")") << "\n";
    return kExitInterrupted;
  }
  if (g_run.failures > 0 || g_run.unavailable > 0) {
    std::cerr << "bench: error rows: " << g_run.failures << " failed or refused instance(s), " << g_run.unavailable
              << " unavailable (see the messages above and each row's error_message)\n";
    return kExitErrorRows;
  }
  return 0;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == bench::kChildFlag) return bench::child_main(argc, argv);
  try {
    return bench::main_parent(argc, argv);
  } catch (const std::exception& e) {  // e.g. /proc/self/exe cannot be opened for the children
    std::cerr << "bench: " << e.what() << "\n";
    return bench::kExitUsage;
  }
}
