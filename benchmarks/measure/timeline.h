// The settle period's RSS timeline, sampled by a thread of its own from time zero on: what the main
// thread does between the free phase and the settle period (the machine-speed probe's second run,
// the allocator's statistics — glibc's walk a million free chunks for tenths of a second) hides no
// sample, so every configuration's timeline starts at the same offsets.
//
// The thread is started before the workload's baseline and never exits (a thread's exit frees its
// TLS, and under glibc a thread's first free builds a tcache and takes an arena): it waits on a
// semaphore, then only sleeps and reads /proc/self/statm, into a fixed array. It calls no allocation
// function, so no allocator sees it.
#pragma once

#include <pthread.h>
#include <semaphore.h>

#include <atomic>
#include <cstdint>
#include <span>

namespace bench {

class TimelineSampler {
 public:
  struct Sample {
    std::int64_t at_ns;  // monotonic_ns()
    std::uint64_t rss_bytes;
  };

  // Starts the thread (waiting). Throws std::runtime_error if it cannot.
  TimelineSampler();
  TimelineSampler(const TimelineSampler&) = delete;
  TimelineSampler& operator=(const TimelineSampler&) = delete;

  // Begins sampling: at once (returns once that sample is taken), then at the log-spaced offsets from
  // `time_zero_ns` (10 per decade from 1 ms) that are still ahead, and at `end_ns`; never while the
  // speed probe's table is mapped (probe.h: such a reading waits for the probe's end). Once per
  // process.
  void start(std::int64_t time_zero_ns, std::int64_t end_ns);
  bool started() const { return started_; }
  // Waits for the sample at end_ns; the samples in time order.
  std::span<const Sample> finish();

  static constexpr int kCapacity = 512;

 private:
  static void* run(void* self);
  pthread_t thread_{};
  sem_t go_{}, done_{};
  std::atomic<std::int64_t> time_zero_{0}, end_{0};
  std::atomic<bool> first_taken_{false};
  Sample samples_[kCapacity] = {};
  int count_ = 0;
  bool started_ = false;
};

// Offset of the k-th log-spaced sample (k = 0: 1 ms), in ns: 10 per decade.
std::int64_t sample_offset_ns(int k);

}  // namespace bench
