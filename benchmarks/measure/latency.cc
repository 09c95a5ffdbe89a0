#include "benchmarks/measure/latency.h"

#include "benchmarks/measure/clock.h"

#include <cmath>
#include <fstream>
#include <string>

namespace bench {
namespace {

bool cpu_has_invariant_tsc() {
#if defined(__x86_64__)
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("flags", 0) == 0)
      return line.find(" constant_tsc") != std::string::npos && line.find(" nonstop_tsc") != std::string::npos;
#endif
  return false;
}

}  // namespace

const bool TickClock::kUseTsc = cpu_has_invariant_tsc();

std::uint64_t TickClock::steady_ns() noexcept { return static_cast<std::uint64_t>(monotonic_ns()); }

double LatencyRecorder::nanoseconds_per_tick() const noexcept {
  const std::uint64_t ns = TickClock::steady_ns() - start_ns_;
  const std::uint64_t ticks = TickClock::ticks() - start_ticks_;
  return ticks == 0 ? 1.0 : static_cast<double>(ns) / static_cast<double>(ticks);
}

double LatencyRecorder::cost_per_call_ns(std::uint32_t calls) noexcept {
  static LatencyHistogram scratch;
  scratch.clear();
  LatencyRecorder recorder(scratch);
  const std::uint64_t start = TickClock::steady_ns();
  recorder.start();
  for (std::uint32_t i = 0; i < calls; ++i) recorder();
  return static_cast<double>(TickClock::steady_ns() - start) / calls;
}

void LatencyHistogram::clear() noexcept {
  counts_.fill(0);
  total_ = 0;
  max_ = 0;
}

std::uint64_t LatencyHistogram::bucket_lowest(std::size_t bucket) noexcept {
  if (bucket < kExactBelow) return bucket;
  const std::size_t above = bucket - kExactBelow;
  const int shift = static_cast<int>(above >> kSubBucketBits) + 1;  // exponent - kSubBucketBits
  const std::uint64_t sub_bucket = above & ((1u << kSubBucketBits) - 1);
  return ((1ull << kSubBucketBits) + sub_bucket) << shift;
}

std::uint64_t LatencyHistogram::bucket_highest(std::size_t bucket) noexcept {
  if (bucket < kExactBelow) return bucket;
  if (bucket + 1 == kBuckets) return UINT64_MAX;
  return bucket_lowest(bucket + 1) - 1;
}

std::uint64_t LatencyHistogram::value_at_quantile(double q) const noexcept {
  if (total_ == 0) return 0;
  const double clamped = q < 0 ? 0 : (q > 1 ? 1 : q);
  std::uint64_t rank = static_cast<std::uint64_t>(std::ceil(clamped * static_cast<double>(total_)));
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t bucket = 0; bucket < kBuckets; ++bucket) {
    seen += counts_[bucket];
    if (seen >= rank) {
      const std::uint64_t highest = bucket_highest(bucket);
      return highest < max_ ? highest : max_;
    }
  }
  return max_;
}

}  // namespace bench
