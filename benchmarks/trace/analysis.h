// Why memory stays, from a recording, outside every recorded process: the live blocks at each named
// residency snapshot (a phase, a workload's moment, a process's exit) joined with the resident pages
// the writer read from outside at that moment, by the heap map's own rules (interposer/heap_map.h):
//
//   free     resident, in malloc's ground (a 64 KiB granule where malloc had returned a block by
//            then), no live block on it
//   pinned   live blocks fill less than kPinnedShare of it
//   used     live blocks fill at least kPinnedShare of it
//   outside  resident anonymous memory malloc never returned a block in
//
// and the allocation sites of the blocks on pinned pages, ranked by the bytes they pin (a page's
// 4 KiB shared among its blocks by their live bytes). A block is live at a moment T when it was
// allocated at or before T and not freed by then. The threads' events of one writer's period (the
// blocks that carry one pass, format.h) are taken together in time order; a block allocated at an
// address that is still live (another thread's free, in a later period) ends the earlier block there.
//
// Memory: the live blocks, and each named moment's pages; of the events, one writer's period at most
// (a second, or 131072 events); two passes over each trace, streamed.
#pragma once

#include <string>
#include <vector>

#include "benchmarks/driver/heap_map_reader.h"
#include "benchmarks/protocol/child_protocol.h"

namespace bench::trace {

struct TraceAnalysis {
  // trace_<m>_free, _pinned, _used, _outside, _live (bytes) and _live_blocks per named moment m,
  // summed over the recording's process images; trace_unknown_frees, trace_reused_live (row).
  std::vector<CounterValue> counters;
  std::vector<HeapMapMoment> moments;  // the pinning sites at each moment, most first (20 at most)
  std::vector<std::string> warnings;   // traces cut short, with where
};

// Analyses every trace of a recording folder. Throws TraceError for a trace it cannot read.
TraceAnalysis analyse_recording(const std::string& directory);

}  // namespace bench::trace
