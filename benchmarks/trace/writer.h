// The trace writer: one process of its own per recorded row (a fork of ./bench, no exec), outside
// every recorded process. It finds each recorded process image's ring (ring.h) in the row's ring
// folder, drains its chunks every millisecond, encodes and compresses them (zstd) into that image's
// trace file (format.h) in the row's trace folder, and hands the drained chunks back. It also reads, from outside, each recorded process's
// resident anonymous pages (/proc/<pid>/pagemap's present bits) — at each phase, at a moment a workload asks for, and every
// `residency_every` — and writes them into the trace on the trace's clock.
//
// A recorded process that exits, is replaced by execve, or is killed is drained to its last event
// and its trace closed with an `end` block saying which; when ./bench asks it to finish, or dies
// (the control pipe closes), it drains every ring and exits. If a write fails (a full disk) it goes
// on draining — a recorded program is never held by a writer that cannot write — and says so.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace bench::trace {

struct WriterStats {
  std::uint64_t traces = 0;     // process images recorded
  std::uint64_t events = 0;     // events written
  std::uint64_t bytes = 0;      // trace bytes written
  std::uint64_t raw_bytes = 0;  // the events as the processes wrote them (32 bytes each)
  std::uint64_t waits = 0;      // times a recorded thread found no free chunk
  std::uint64_t wait_ns = 0;    // ... and waited for one
  std::uint64_t dropped = 0;    // events lost (a thread gave up waiting)
  std::uint64_t residency_snapshots = 0;
  std::uint64_t unwind_misses = 0, unwind_checked = 0, unwind_disagreed = 0, one_frame_sites = 0;
  std::uint64_t sites = 0;
  std::uint64_t cut_short = 0;        // images whose process was killed before it reached exit
  double cpu_seconds = 0;             // the writer's own CPU time
  std::uint64_t max_rss = 0;          // ... and its peak RSS (bytes): bounded, whatever the events
  std::uint64_t ring_bytes = 0;       // what the rings held in the recorded processes at most (summed)
  std::vector<std::string> problems;  // a write that failed, pages that could not be read
};

class TraceWriter {
 public:
  // Starts the writer process. Throws std::runtime_error if it cannot.
  TraceWriter(std::string ring_directory, std::string trace_directory, std::chrono::nanoseconds residency_every);
  ~TraceWriter();  // finishes if finish() was not called
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // A program's phase: a phase mark in every recorded process's trace and a residency snapshot,
  // named `name`, of the processes in `measured` (the row's: the heap map's moments are theirs too),
  // or of every one when it is empty; returns once they are written (bounded: 30 s).
  void phase(const std::string& name, const std::vector<pid_t>& measured = {});
  // Drains every ring, closes every trace, stops the writer; what it wrote.
  WriterStats finish();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int control_ = -1, status_ = -1;
  bool finished_ = false;
  WriterStats stats_;
};

}  // namespace bench::trace
