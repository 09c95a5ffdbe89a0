// The machine-speed probe: how fast this machine walks memory right now.
//
// This machine's speed drifts by tens of percent over spells of seconds (measured: a plain program
// inserting 1M keys into a std::map took 1.24 to 2.55 s over 30 runs, with its CPU time equal to
// its wall time), and the spells last longer than one child. Every child therefore times a fixed,
// allocation-free memory walk right before its first timed phase and right after its last one: a
// chase of dependent loads through a random cycle over 32 MiB (beyond the caches, like a large
// map's nodes), whose table the parent builds once into a memfd that every child maps read-only.
// The mean, `probe_ns` (nanoseconds per load), lets the scripts tell a slow machine from a slow
// allocator (the probe's time and a map's insert time correlate at 0.83, median over the
// configurations of results/noise-1M: README, "How far to trust a speed figure").
//
// The walk's table is mapped only while it runs, and no RSS figure is read meanwhile, so the probe
// changes none: the main thread reads none while it runs, and the timeline's sampler thread
// (timeline.h), which may be sampling then, waits for probe_epoch() to be even and unchanged
// around its reading.
#pragma once

#include <cstddef>
#include <cstdint>

#include "allocators/configuration.h"

namespace bench {

inline constexpr std::size_t kProbeTableBytes = 32u << 20;
inline constexpr std::uint32_t kProbeSteps = 500'000;

// Parent side: a memfd holding a random cyclic permutation of the indices of a 32 MiB uint32 table
// (Sattolo's algorithm with a fixed seed). Close-on-exec; the launcher hands each child a copy.
// Throws std::runtime_error on failure.
int create_probe_file();

// Odd while a probe's table is mapped in this process, even otherwise; one more at each map and
// each unmap, so a reading taken between two equal even values saw no table.
std::uint32_t probe_epoch() noexcept;

class SpeedProbe {
 public:
  explicit SpeedProbe(int fd) : fd_(fd) {}
  // Maps the table, walks kProbeSteps loads, unmaps it; returns nanoseconds per load. Allocates
  // nothing on the heap. Throws std::runtime_error if the table cannot be mapped.
  double run();
  // probe_ns: the mean of every run so far (nothing if none ran).
  void report(CounterSink& out) const;

 private:
  int fd_;
  double total_ns_per_load_ = 0;
  int runs_ = 0;
};

}  // namespace bench
