// Every command-line flag of ./bench, read once, here: the suite's own flags, the Google Benchmark
// flags the suite itself needs (with Google Benchmark's spelling rules and its BENCHMARK_<NAME>
// environment variables as defaults), and the program after `--`. What Google Benchmark parses for
// itself is handed on unchanged by google_benchmark_arguments().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "benchmarks/driver/units.h"
#include "benchmarks/measure/activity.h"

namespace bench {

enum class ListFormat { none, text, json };

struct Flags {
  // --sizes=N[,N...]: entry counts; replaces the default list.
  std::vector<std::uint64_t> sizes = {5'000'000};
  // --settle=DURATION: how long RSS is watched after clear and release (the seed looked at 15 s).
  Nanoseconds settle = std::chrono::seconds{15};
  // --timeout=DURATION: per-instance limit on top of the settle period (and the cycle's pauses).
  Nanoseconds timeout = std::chrono::minutes{10};
  // --max-settling=N: children allowed to sit in their settle period while the next one measures.
  int max_settling = 8;
  // --ignore-memory-limit: run instances whose estimated peak exceeds the available memory.
  bool ignore_memory_limit = false;
  // --rounds=R: the cycle workload's rounds.
  int rounds = 3;
  // --pause=DURATION: the cycle workload's idle pause after each round's release step.
  Nanoseconds pause = std::chrono::seconds{1};
  // --activity=SPEC[,SPEC...]: what a busy settle period does (benchmarks/measure/activity.h);
  // every workload whose settle period is active runs once per spec.
  std::vector<std::string> activities = {std::string(kDefaultActivity)};
  // --activity-period=DURATION: how often the activity runs one step.
  Nanoseconds activity_period = std::chrono::milliseconds{10};
  // --latency=on|off: time every insert and lookup into a histogram (off only to measure its cost).
  bool latency = true;
  // --sample-every=DURATION: a program's memory is sampled at the dense timeline's offsets, then at
  // this interval until it exits.
  Nanoseconds sample_every = std::chrono::milliseconds{100};
  // --command-output=DIR|discard: where a program's standard output and error go. Default: a new
  // folder next to --benchmark_out (or in the current directory), the first of command-output,
  // command-output-2, ... that does not exist yet, so that no run writes into another's.
  std::string command_output;
  bool command_output_given = false;
  // --scenario=NAME[,NAME...]|all: real programs Debian ships (benchmarks/scenarios/), each under
  // every process-level configuration.
  std::string scenario;
  // --scenario-scale=F: multiplies how much each scenario builds (1: its full size; tests use less).
  double scenario_scale = 1.0;
  // --measure=NAME: in the program's tree, measure only the processes of this name (as
  // /proc/<pid>/comm shows it) and their descendants: a server the program starts.
  std::string measure;
  // --exact: count instead of time: every child under valgrind's callgrind, instructions and cache
  // misses per phase (driver/exact.h). Latency timing is off then, and the settle period 0 unless
  // --settle is given.
  bool exact = false;
  // --heap-map: every child and program behind the heap map's interposer (benchmarks/heapmap/):
  // which resident pages are free but kept, pinned by live blocks, or used, and which allocation
  // sites pin them.
  bool heap_map = false;
  // --record: every child and program behind the interposer's recorder (benchmarks/trace/): every
  // allocation call into a trace per process image, written by a process of its own, and the
  // resident pages read from outside at each phase and every --residency-every; free or pinned, and
  // by which sites, from the recording (trace_<moment>_* counters).
  bool record = false;
  // --record-dir=DIR: where the traces go, a folder per row (<instance>.<repetition>). Default: a new
  // folder next to --benchmark_out, the first free of traces, traces-2, ...
  std::string record_dir;
  bool record_dir_given = false;
  // --residency-every=DURATION: how often the writer reads the recorded processes' resident pages
  // besides the phases (default 1s; 0: only at the phases).
  Nanoseconds residency_every = std::chrono::seconds{1};
  // --compare-recorders: every program (-- PROGRAM, --scenario) four times — plain, recorded, behind
  // the heap map, and under Debian's heaptrack — so what each costs is measured side by side.
  bool compare_recorders = false;
  // --unwind=cache|libgcc|fp: how the interposer unwinds allocation sites (benchmarks/interposer/
  // sites.cc): the cache of unwound stacks in front of libgcc (the default), libgcc on every call,
  // or the frame-pointer chain.
  std::string unwind = "cache";
  // --check-unwind: every site also unwound by libgcc and the two compared (record_unwind_checked,
  // record_unwind_disagreed): the evidence for the chosen unwinder.
  bool check_unwind = false;
  // --replay=TRACE[,TRACE]: each recording (a trace, a recording folder or a converted workload)
  // replayed under every process-level configuration, instead of the workloads: replay:<name>/<c>.
  std::vector<std::string> replay;
  // --replay-timing=as-recorded|fast: the recording's clock (gaps of 1 ms or more kept) or none.
  std::string replay_timing = "as-recorded";
  // --replay-fill=all-bytes|one-write-a-page: how each new block is written.
  std::string replay_fill = "all-bytes";
  // --replay-free-phase=PHASE: the recording's phase where the release steps run and the settle
  // period counts from (default: its moment `cleared`, else its last phase, else the end).
  std::string replay_free_phase;
  // --trace-info=DIR: print what a recording folder holds (JSON) and exit.
  std::string trace_info;
  bool settle_given = false;
  bool latency_given = false;
  // --list-configs[=text|json]: print the configuration table, each row verified, and exit.
  ListFormat list_configs = ListFormat::none;
  bool help = false;
  // Everything after `--`: a program to run under every process-level configuration.
  std::vector<std::string> command;

  // Google Benchmark's flags, as it reads them.
  std::string filter;                      // --benchmark_filter
  int repetitions = 1;                     // --benchmark_repetitions
  bool random_interleaving = false;        // --benchmark_enable_random_interleaving
  std::string display_format = "console";  // --benchmark_format
  std::string file_format = "json";        // --benchmark_out_format
  std::string color = "auto";              // --benchmark_color
  bool tabular = false;                    // --benchmark_counters_tabular
  bool list_tests = false;                 // --benchmark_list_tests
  // --benchmark_out (or BENCHMARK_OUT) as given; Google Benchmark is pointed at `out_partial`
  // instead, renamed to the final name only when the run has ended.
  std::string out;
  std::string out_partial;

  // The command line as given, for the run's context.
  std::string invocation;
  // The arguments left for Google Benchmark's own parser (argv[0] first).
  std::vector<std::string> passed_on;
};

// Parses argv. Throws UsageError naming the bad flag and its value.
Flags parse_flags(int argc, char** argv);

// Google Benchmark's argv: the arguments passed on, and --benchmark_out=<out_partial> when there is
// an output file (Google Benchmark opens it).
std::vector<std::string> google_benchmark_arguments(const Flags& flags);

// Google Benchmark's spelling of a boolean (IsTruthyFlagValue): a bare flag or any value is true but
// "false", "no", "off" (any case) and the single characters 0, f, F, n, N.
bool is_truthy(std::string_view value);

extern const char* const kFlagsHelp;

}  // namespace bench
