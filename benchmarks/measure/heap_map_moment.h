// The child's side of --heap-map and --record (benchmarks/interposer/): when the process runs behind
// the interposer, at each named moment of the experiment ("cleared", "released", "final") a heap-map
// snapshot and a phase of the recording (the writer reads the resident pages from outside then);
// otherwise nothing.
#pragma once

namespace bench {

// Finds the interposer's entry points, if it is loaded. Call before the baseline (dlsym may allocate).
void prepare_heap_map() noexcept;

// True when the process runs behind the interposer.
bool heap_map_active() noexcept;

// Takes the snapshot and marks the phase `moment` (allocation-free: the interposer uses memory of its own).
void heap_map_moment(const char* moment) noexcept;

}  // namespace bench
