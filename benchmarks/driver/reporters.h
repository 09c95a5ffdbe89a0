// The parent's reporters. Every instance is registered with Iterations(1) and UseManualTime() (one
// child = one iteration, timed by the child), and Google Benchmark spells those settings into each
// name ("/iterations:1/manual_time"); every reporter here drops those two name parts, so rows are
// named <workload>/<configuration>/<N>.
//
//  - console (the default display): one line per row with the workload's few headline figures in
//    aligned columns — rates, growth, what is kept after clear and at the end, the release step —
//    and, for a repeated instance, its median; --benchmark_counters_tabular=true shows Google
//    Benchmark's own console with every counter instead.
//  - json: Google Benchmark's, plus the section "suite" after "benchmarks": the run's description
//    (driver/description.h), which the scripts read.
//  - csv: Google Benchmark's, held back and written in one call at the end, so that its single header
//    covers every counter (configurations report different ones).
#pragma once

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "benchmarks/driver/description.h"
#include "benchmarks/driver/flags.h"

namespace bench {

// `for_file`: no colour, as Google Benchmark does for --benchmark_out.
std::unique_ptr<benchmark::BenchmarkReporter> make_reporter(const std::string& format, const Flags& flags, bool for_file,
                                                            const RunDescription& description);

}  // namespace bench
