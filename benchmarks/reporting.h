// Reporters for the parent. Every instance is registered with Iterations(1) and UseManualTime()
// (one child = one iteration, timed by the child), and Google Benchmark spells those settings into
// each name ("/iterations:1/manual_time"). The suite's names are <workload>/<configuration>/<N>,
// so the reporters here wrap Google Benchmark's own ones and drop those two name parts; everything
// else — formats, colours, tabular counters, aggregates — is Google Benchmark's.
// CSV output is also collected into one call, so that its single header covers every counter.
#pragma once

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

namespace bench {

struct ReporterFlags {
  std::string display_format = "console";  // --benchmark_format
  std::string file_format = "json";        // --benchmark_out_format
  std::string color = "auto";              // --benchmark_color
  bool tabular = false;                    // --benchmark_counters_tabular
  bool list_tests = false;                 // --benchmark_list_tests
};

// Reads the reporter flags from argv (leaving them for Google Benchmark) with the same rules, and the
// BENCHMARK_* environment variables as their defaults. Throws UsageError for an unknown format.
ReporterFlags read_reporter_flags(int argc, char** argv);

// `for_file`: no colour, as Google Benchmark does for --benchmark_out.
std::unique_ptr<benchmark::BenchmarkReporter> make_reporter(const std::string& format, const ReporterFlags& flags, bool for_file);

}  // namespace bench
