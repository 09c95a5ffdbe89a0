// The one way this suite reads a process's memory footprint.
//
// Reads /proc/self/statm (proc(5)): cheapest of the /proc interfaces and, unlike getrusage's
// ru_maxrss, current rather than peak. Resident = what `top` shows as RES (anonymous + file-backed
// pages, including the shared key table, which is part of every baseline). It does not allocate:
// safe to call during the settle period, when the heap must not be touched.
#pragma once

#include <cstddef>

namespace bench {

struct MemoryFootprint {
  std::size_t resident_bytes = 0;
  std::size_t virtual_bytes = 0;
};

// Returns zeros only if /proc is not mounted (callers treat that as an error).
MemoryFootprint read_memory_footprint() noexcept;

inline std::size_t resident_bytes() noexcept { return read_memory_footprint().resident_bytes; }

}  // namespace bench
