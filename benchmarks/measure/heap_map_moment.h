// The child's side of --heap-map (benchmarks/heapmap/heap_map.h): when the process runs behind the
// heap map's interposer, a snapshot at each named moment of the experiment ("cleared",
// "released", "final"); otherwise nothing.
#pragma once

namespace bench {

// Finds the interposer's entry point, if it is loaded. Call before the baseline (dlsym may allocate).
void prepare_heap_map() noexcept;

// True when the process runs behind the interposer.
bool heap_map_active() noexcept;

// Takes the snapshot `moment` (allocation-free: the interposer uses memory of its own).
void heap_map_moment(const char* moment) noexcept;

}  // namespace bench
