// The latency of single operations: a log-bucketed histogram in the style of HdrHistogram (fixed
// buckets, nothing allocated while recording) and the clock it is fed from.
//
// Debian 12 ships no HdrHistogram for C or C++, hence this one. Values below 128 have a bucket each;
// above, every power of two is split into 64 buckets, so a bucket is at most 1/64 (1.6 %) of its
// values wide. A quantile is reported as the highest value of its bucket (never above the largest
// value recorded), as HdrHistogram's "highest equivalent value" does.
//
// The clock: one reading per operation, taken right after it, so the interval between two readings
// is one operation plus one histogram update (a few ns). On x86-64 the reading is the time-stamp
// counter (rdtsc, about 11 ns here against about 26 ns for clock_gettime); ticks become nanoseconds
// with the ratio of CLOCK_MONOTONIC to ticks over the whole phase. The TSC is used only where the
// CPU says it runs at a constant rate (constant_tsc and nonstop_tsc in /proc/cpuinfo).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace bench {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 6;                            // 64 buckets per power of two
  static constexpr std::uint64_t kExactBelow = 2u << kSubBucketBits;  // 128: one bucket per value
  static constexpr std::size_t kBuckets = kExactBelow + (63 - kSubBucketBits) * (1u << kSubBucketBits);

  void record(std::uint64_t value) noexcept {
    ++counts_[bucket_of(value)];
    ++total_;
    if (value > max_) max_ = value;
  }

  std::uint64_t count() const noexcept { return total_; }
  std::uint64_t max() const noexcept { return max_; }
  void clear() noexcept;

  // The nearest-rank quantile: the smallest recorded value v such that at least q * count() values
  // are <= v, to the bucket's resolution (the bucket's highest value, at most max()). 0 when empty.
  std::uint64_t value_at_quantile(double q) const noexcept;

  static std::size_t bucket_of(std::uint64_t value) noexcept {
    if (value < kExactBelow) return static_cast<std::size_t>(value);
    const int exponent = 63 - __builtin_clzll(value);  // >= kSubBucketBits + 1
    const int shift = exponent - kSubBucketBits;
    const std::uint64_t sub_bucket = (value >> shift) & ((1u << kSubBucketBits) - 1);
    return kExactBelow + static_cast<std::size_t>(exponent - kSubBucketBits - 1) * (1u << kSubBucketBits) + sub_bucket;
  }
  static std::uint64_t bucket_lowest(std::size_t bucket) noexcept;
  static std::uint64_t bucket_highest(std::size_t bucket) noexcept;

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

// A clock for intervals of a microsecond or so: ticks() is cheap; the conversion to nanoseconds is
// measured over the phase (see the header comment).
class TickClock {
 public:
  static std::uint64_t ticks() noexcept {
#if defined(__x86_64__)
    if (kUseTsc) return __builtin_ia32_rdtsc();
#endif
    return steady_ns();
  }
  static std::uint64_t steady_ns() noexcept;
  // Whether ticks() reads the TSC on this machine (decided once, from /proc/cpuinfo).
  static const bool kUseTsc;
};

// Records the interval since the previous call into a histogram: call start() right before the first
// operation, then the recorder after each one. At the end, nanoseconds_per_tick() converts.
class LatencyRecorder {
 public:
  explicit LatencyRecorder(LatencyHistogram& histogram) noexcept : histogram_(histogram) {}
  void start() noexcept {
    start_ns_ = TickClock::steady_ns();
    start_ticks_ = last_ = TickClock::ticks();
  }
  void operator()() noexcept {
    const std::uint64_t now = TickClock::ticks();
    histogram_.record(now - last_);
    last_ = now;
  }
  // Measured from start() to this call, so call it right after the last operation.
  double nanoseconds_per_tick() const noexcept;

  // What one call costs, in nanoseconds: the time of `calls` calls with nothing between them, into
  // a histogram of its own. The share of a phase that the timing takes is calls x this / phase time.
  static double cost_per_call_ns(std::uint32_t calls = 200'000) noexcept;

 private:
  LatencyHistogram& histogram_;
  std::uint64_t start_ns_ = 0;
  std::uint64_t start_ticks_ = 0;
  std::uint64_t last_ = 0;
};

}  // namespace bench
