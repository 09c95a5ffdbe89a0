// The run's journal: every finished row, written the moment its child or program finished (in
// measurement order, before Google Benchmark asks for it), so that a ./bench killed by SIGKILL
// leaves every finished row behind. It is <out>.rows-<pid>.jsonl beside --benchmark_out, created
// exclusively, flushed a line at a time, and removed when the run ends in any way ./bench controls
// (the JSON then holds everything). scripts/recover.py turns one into a run's JSON, marked
// incomplete. One JSON object a line:
//
//   {"journal": 1, "context": {...}, "suite": {...}}       first: Google Benchmark's context as far
//                                                          as it is known, and the description as
//                                                          the run starts (driver/description.h)
//   {"benchmark": {...}, "suite": {...}}                   a finished repetition: its entry of
//                                                          "benchmarks", as Google Benchmark writes
//                                                          it, and its part of the description,
//                                                          merged in by merge_into()'s rule
//
// A line cut short by the kill is not valid JSON: recover.py leaves it out and says so.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "benchmarks/driver/instances.h"
#include "benchmarks/driver/launcher.h"

namespace bench {

class RunJournal {
 public:
  // Creates `path` exclusively. Throws UsageError if it cannot.
  explicit RunJournal(std::string path);
  ~RunJournal();  // removes the file unless keep() was called
  RunJournal(const RunJournal&) = delete;
  RunJournal& operator=(const RunJournal&) = delete;

  void header(const nlohmann::json& context, const nlohmann::json& suite);
  void row(const InstanceSpec& spec, int repetition, int repetitions, const InstanceResult& result);
  const std::string& path() const { return path_; }

 private:
  void line(const nlohmann::json& value);
  std::string path_;
  int fd_ = -1;
};

// The entry Google Benchmark 1.7.1 writes into "benchmarks" for one repetition of an instance run
// with Iterations(1) and UseManualTime(), as the suite's reporters name it.
nlohmann::json benchmark_entry(const InstanceSpec& spec, int repetition, int repetitions, const InstanceResult& result);

}  // namespace bench
