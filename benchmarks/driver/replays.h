// The recordings a run replays (./bench --replay=TRACE[,TRACE]): each a trace file (converted here,
// in ./bench, outside any measured process), a recording folder (its largest trace: the image that
// made the most calls, as a wrapper's shell is small), or a workload file already converted
// (bench_replay_convert). Each becomes the instances replay:<name>/<configuration>.
#pragma once

#include <string>
#include <vector>

#include "benchmarks/driver/flags.h"
#include "benchmarks/replay/workload.h"

namespace bench {

struct ReplaySource {
  std::string name = {};      // replay:<name>: the file's name without .trace/.workload, or the folder's
  std::string given = {};     // as --replay gave it
  std::string trace = {};     // the trace converted; empty when a workload was given
  std::string workload = {};  // the workload file the children replay
  std::string note = {};      // which trace of a folder was taken, and why; a cut-short trace's warning
  // The recording's free phase (the release step and the settle period start there): its moment
  // `cleared` if it has one (the suite's workloads: the map right after clear()), else its last
  // phase that is not the recorder's `exit` snapshot (a program's own), else "" (the end of its calls).
  std::string free_phase = {};
  std::vector<std::string> phases = {};  // the recording's phase names, in their order
  replay::Summary summary = {};
  replay::Anomalies anomalies = {};
};

// Resolves and converts every --replay source, converted workloads into `directory` (created).
// Throws UsageError naming the source that is missing, unreadable, not a trace, or a name given twice.
std::vector<ReplaySource> prepare_replays(const Flags& flags, const std::string& directory);

}  // namespace bench
