// A row behind the interposer (benchmarks/interposer/core.h): --heap-map, --record, or both. What the
// row's processes are given — the interposer first in LD_PRELOAD, the folders its observers write to
// — and what they leave behind, read once every process of the row is gone: the heap map's
// snapshots, the recording's traces (written by the row's trace writer, trace/writer.h) and their
// analysis (trace/analysis.h), as counters and pinning sites.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "benchmarks/driver/heap_map_reader.h"
#include "benchmarks/driver/units.h"
#include "benchmarks/protocol/child_protocol.h"
#include "benchmarks/trace/writer.h"

namespace bench {

// The run's recording flags (--record-dir, --residency-every, --unwind, --check-unwind).
struct RecordingSettings {
  std::string trace_directory;  // the run's: each row's folder goes below it
  Nanoseconds residency_every{};
  std::string unwind = "cache";
  bool check_unwind = false;
};

struct InterpositionOptions {
  bool heap_map = false;
  bool record = false;
  RecordingSettings settings;
  std::string row_directory;  // with record: the row's traces go here (created, must not exist)
  bool program = false;       // a program's processes: the heap map listens for phases and snapshots at exit
};

struct InterpositionReading {
  std::vector<CounterValue> counters;
  std::vector<HeapMapMoment> heap_maps;   // the heap map's pinning sites per moment
  std::vector<HeapMapMoment> trace_maps;  // the recording's
  std::string error;                      // a recording that could not be written
  std::vector<std::string> notes;         // what the label should say (a trace cut short, pages unreadable)
};

class Interposition {
 public:
  // Makes the folders and, with record, starts the row's trace writer. Throws std::runtime_error.
  explicit Interposition(InterpositionOptions options);
  ~Interposition();  // removes the temporary folders
  Interposition(const Interposition&) = delete;
  Interposition& operator=(const Interposition&) = delete;

  // NAME=VALUE for the row's processes (LD_PRELOAD is the caller's: interposer() goes first in it).
  const std::vector<std::string>& environment() const { return environment_; }
  // Where each process wrote which allocator the interposer forwards to (<pid>.forward).
  const std::string& forward_directory() const { return forward_directory_; }
  const std::string& heap_map_directory() const { return heap_map_directory_; }
  bool records() const { return writer_ != nullptr; }

  // A program's phase: a phase mark in every recorded process's trace, and the recording's residency
  // snapshot of the `measured` ones (those whose RSS the row reads and the heap map asks), now.
  void phase(const std::string& name, const std::vector<pid_t>& measured);
  // Once every process of the row is gone.
  InterpositionReading finish();

 private:
  InterpositionOptions options_;
  std::vector<std::string> environment_;
  std::string heap_map_directory_, ring_directory_, forward_directory_;
  std::unique_ptr<trace::TraceWriter> writer_;
  bool finished_ = false;
};

}  // namespace bench
