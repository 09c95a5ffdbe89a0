// The converter: one recorded process image's trace (benchmarks/trace/reader.h) into a replay
// workload (workload.h), outside any measured process.
//
// It streams. The trace's events come a thread's chunk at a time, nearly in time order; the
// converter merges the threads by time in bounded memory: when the writer's next drain pass begins
// (an events block with a later `pass`), every event stamped before the pass before that one has
// been read, so those are converted, in time order, and the rest wait. What it holds is the events
// of about two drain passes, the live blocks (by address) and each stream's last 32 KiB of ops;
// never the whole trace. An event that arrives after later events of another thread were converted
// is converted where it arrives, and counted (Anomalies::late_events).
//
// The one global order it converts in is the order of the ops' syncs: each sync names an op
// converted before its own (workload.h), so a replay of its output never deadlocks. Within that
// order:
//  - an allocation at an address still live (its free, another thread's, not converted yet) is
//    deferred, and its thread's later events with it, until that free; then it follows the free
//    with a sync on it (deferred_allocations). A free of an address whose allocation is still
//    deferred in another thread waits for it likewise (deferred_frees). A deferral the recording
//    never resolves (1 s on the recording's clock, or 1M events held) is given up: the live block
//    is freed where the new one is allocated (reused_live), or the free dropped (unknown_frees).
//  - a realloc is the trace's realloc_free of the old block and the realloc of the new one, one op
//    on the old block's slot; a realloc_free with no realloc after it (realloc(p, 0) freed p) is a
//    free; a realloc of a block the trace never allocated is realloc(NULL, size).
//  - frees of blocks it never saw, double frees and frees stamped before their block's allocation
//    are dropped and counted; so are a thread without an end, and the recorder's lost events.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "benchmarks/replay/workload.h"

namespace bench::replay {

struct Conversion {
  std::string trace, workload;  // the paths read and written
  std::string warning;          // empty, or where the trace was cut short (its clean prefix was converted)
  Summary summary;
  Anomalies anomalies;
  std::uint64_t most_events_held = 0;  // the most trace events the merge held at once (its bounded memory)
  std::uint64_t workload_bytes = 0;
};

// Converts the trace at `trace` into the workload `workload`. It is written as `workload`.partial
// and renamed when whole: on any error nothing is left. Throws trace::TraceError for a trace it
// cannot read (a foreign file, another version, a torn block, a bad checksum: the message names the
// offset) and std::runtime_error when it cannot write.
Conversion convert_trace(const std::string& trace, const std::string& workload);

// Every trace of a recording folder (trace::trace_files: one per process image), each into
// `output_directory`/<pid>.<image>.workload (the folder is created). Throws as convert_trace, for
// the first trace that fails; the workloads converted before it stay.
std::vector<Conversion> convert_recording(const std::string& directory, const std::string& output_directory);

}  // namespace bench::replay
