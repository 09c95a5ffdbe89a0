// The run's description: everything the tables in C++ know about the numbers, written into the
// run's JSON as the section "suite" (after Google Benchmark's "benchmarks"), so that the scripts
// read it and never guess from names:
//
//   schema                 this layout's version (1)
//   configurations[]       per configuration: name, summary, kind ("allocator", "container
//                          allocator", "different container"), library, library_path, reference,
//                          release_step (bool) and release_call, huge_pages, environment,
//                          available / unavailable_reason, command_skip_reason
//   workloads[]            per workload: name, summary, process_level_only, settle ("idle" or
//                          "active"), uses_rounds, headline (counters shown first)
//   counters{}             per counter name: its unit (bytes, seconds, items_per_second, count,
//                          percent, nanoseconds, megabyte_seconds), as the child reported it, and
//                          kind "exact" for a count callgrind made (driver/exact.h), "program" for a
//                          figure the program reported itself (protocol/program_protocol.h)
//   measurement            mode "timed", or "exact" with tool, valgrind, command, the simulated
//                          caches (i1, d1, ll), cycles_formula and rss_note; quiet: the rule that
//                          keeps timed phases apart from busy settling children (cpu_share,
//                          window_seconds, max_settling, rule)
//   instances{}            per benchmark name: workload (the scenario's name for a scenario),
//                          configuration, size (null for a program)
//   series{}               per benchmark name: one entry per repetition {repetition, seconds[],
//                          rss_bytes[], phases{}}: the settle timeline, or a program's RSS over its
//                          life (phases: each reported phase's seconds after execve)
//   order                  "rounds" or "random": how repetitions were interleaved
//   repetitions, sizes, settle_seconds, rounds, pause_seconds, latency
//   machine                cpus, cgroup_v2_memory (bool) and cgroup_note
//   command                for ./bench -- PROGRAM: argv, program (resolved), measure, output_directory,
//                          skipped[] with reasons
//   scenarios              for ./bench --scenario: scale, output_directory, skipped[], list[]: per
//                          scenario name, file, demonstrates, needs[], measure, environment,
//                          variant_of, variant_change, phases[] {name, description, settling}
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "allocators/configuration.h"
#include "benchmarks/driver/exact.h"
#include "benchmarks/driver/flags.h"
#include "benchmarks/driver/instances.h"
#include "benchmarks/driver/launcher.h"

namespace bench {

// Every configuration of the table, as the description lists them (also `--list-configs=json`).
nlohmann::json configurations_json();

// Merges `part` into `document`: objects key by key, arrays appended, anything else replaced. The
// rule scripts/benchlib/journal.py applies to a journal's parts.
void merge_into(nlohmann::json& document, const nlohmann::json& part);

class RunDescription {
 public:
  RunDescription(const Flags& flags, const std::vector<InstanceSpec>& selected, const std::string& program,
                 const std::string& command_output = {}, const std::optional<ExactMode>& exact = std::nullopt);

  // Records a finished repetition's counter units and timeline: merges result_part() in.
  void add_result(const InstanceSpec& spec, int repetition, const InstanceResult& result);
  // What one finished repetition adds to the section (counters, series, heap_maps), as a part that
  // merge_into() merges: the run journal (driver/journal.h) writes the same part.
  static nlohmann::json result_part(const InstanceSpec& spec, int repetition, const InstanceResult& result);

  std::optional<Unit> unit_of(const std::string& counter) const;
  // The headline counters of a benchmark's workload (its name is the run name); empty if unknown.
  const std::vector<std::string>& headline_of(const std::string& run_name) const;

  // The section "suite", as JSON text, and as it stands.
  std::string json() const;
  const nlohmann::json& document() const;

 private:
  nlohmann::json document_;
  std::map<std::string, Unit> units_;
  std::map<std::string, std::vector<std::string>> headlines_;  // run name -> headline counters
};

}  // namespace bench
