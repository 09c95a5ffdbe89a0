#include "benchmarks/options.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace bench {
namespace {

bool take_value(std::string_view argument, std::string_view flag, std::string_view* value) {
  if (argument.substr(0, flag.size()) != flag) return false;
  if (argument.size() == flag.size()) throw UsageError(std::string(flag) + " needs a value: " + std::string(flag) + "=...");
  if (argument[flag.size()] != '=') return false;
  *value = argument.substr(flag.size() + 1);
  return true;
}

int parse_count(std::string_view flag, std::string_view text, int max) {
  int value = 0;
  if (text.empty()) throw UsageError(std::string(flag) + " is empty");
  for (char c : text) {
    if (c < '0' || c > '9' || value > max) throw UsageError(std::string(flag) + "=" + std::string(text) + " is not a whole number from 0 to " + std::to_string(max));
    value = value * 10 + (c - '0');
  }
  if (value > max) throw UsageError(std::string(flag) + "=" + std::string(text) + " is more than " + std::to_string(max));
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

}  // namespace

const char* const kOptionsHelp =
    "bench: how much memory does each allocator keep after a std::map is cleared?\n"
    "\n"
    "Every instance and every repetition runs in a fresh child process with its allocator verified.\n"
    "Benchmarks are named <workload>/<configuration>/<N>, e.g. map/glibc/5000000.\n"
    "\n"
    "Suite flags:\n"
    "  --sizes=N[,N...]        entry counts to run (default 5000000; k and M suffixes: 500k, 5M)\n"
    "                          --sizes=scaling: 10000,30000,100000,300000,1000000,3000000,5000000\n"
    "  --settle=DURATION       how long RSS is watched after clear and release (default 15s;\n"
    "                          e.g. 500ms, 2s, 1m)\n"
    "  --timeout=DURATION      per-instance limit on top of the settle period (default 10m)\n"
    "  --max-settling=N        children that may settle while the next one measures (default 4;\n"
    "                          0 runs one child at a time)\n"
    "  --ignore-memory-limit   run instances whose estimated peak exceeds the available memory\n"
    "  --list-configs          print every allocator configuration and whether it is available\n"
    "  --help                  this text\n"
    "\n"
    "Every Google Benchmark flag works (--benchmark_filter, --benchmark_list_tests,\n"
    "--benchmark_repetitions, --benchmark_out, --benchmark_out_format, --benchmark_format, ...).\n"
    "--benchmark_out refuses to replace an existing file; it is written as <out>.partial-<pid> and\n"
    "renamed when the run ends. Ctrl-C (or SIGTERM) stops the children and keeps what finished,\n"
    "marked \"incomplete\" in the JSON.\n"
    "\n"
    "Exit status: 0 every instance measured; 1 some rows are error rows (a child that died or\n"
    "overran --timeout, an instance refused by the memory guard, an unavailable configuration);\n"
    "2 bad usage, nothing run; 130 interrupted.\n";

RunOptions parse_run_options(int& argc, char** argv) {
  RunOptions options;
  if (const char* env = std::getenv("BENCHMARK_REPETITIONS")) options.repetitions = std::max(1, std::atoi(env));
  // Google Benchmark takes --benchmark_out from BENCHMARK_OUT too: the same rules apply to it.
  if (const char* env = std::getenv("BENCHMARK_OUT"); env != nullptr && *env != '\0') options.benchmark_out = env;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    std::string_view value;
    bool consumed = true;
    if (take_value(argument, "--sizes", &value)) {
      options.sizes = parse_flag("--sizes", value, parse_size_list);
    } else if (take_value(argument, "--settle", &value)) {
      options.settle = parse_flag("--settle", value, parse_duration);
    } else if (take_value(argument, "--timeout", &value)) {
      options.timeout = parse_flag("--timeout", value, parse_duration);
      if (options.timeout.count() == 0) throw UsageError("--timeout=0 would stop every instance at once");
    } else if (take_value(argument, "--max-settling", &value)) {
      options.max_settling = parse_count("--max-settling", value, 64);
    } else if (argument == "--ignore-memory-limit") {
      options.ignore_memory_limit = true;
    } else if (argument == "--list-configs") {
      options.list_configs = true;
    } else if (argument == "--help" || argument == "-h") {
      options.help = true;
    } else {
      consumed = false;
      if (take_value(argument, "--benchmark_repetitions", &value)) options.repetitions = std::max(1, std::atoi(std::string(value).c_str()));
      if (take_value(argument, "--benchmark_out", &value)) {
        if (value.empty()) throw UsageError("--benchmark_out is empty");
        options.benchmark_out = std::string(value);
      }
    }
    if (!consumed) argv[kept++] = argv[i];
  }
  if (!options.benchmark_out.empty())
    options.benchmark_out_partial = options.benchmark_out + ".partial-" + std::to_string(::getpid());
  argc = kept;
  argv[argc] = nullptr;
  return options;
}

}  // namespace bench
