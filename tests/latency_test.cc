// Unit tests of benchmarks/measure/latency.h: the histogram's buckets, its quantiles against an
// exactly sorted reference, and that recording allocates nothing.
#include "benchmarks/measure/latency.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

namespace {
// Counts every operator new of this test binary while `g_counting` is set.
bool g_counting = false;
std::size_t g_allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace bench {
namespace {

TEST(LatencyHistogram, SmallValuesHaveABucketEach) {
  for (std::uint64_t v = 0; v < LatencyHistogram::kExactBelow; ++v) {
    EXPECT_EQ(LatencyHistogram::bucket_of(v), v);
    EXPECT_EQ(LatencyHistogram::bucket_lowest(v), v);
    EXPECT_EQ(LatencyHistogram::bucket_highest(v), v);
  }
}

TEST(LatencyHistogram, BucketsTileTheRangeAndAreAtMostOneSixtyFourthWide) {
  for (std::size_t b = LatencyHistogram::kExactBelow; b + 1 < LatencyHistogram::kBuckets; ++b) {
    const std::uint64_t low = LatencyHistogram::bucket_lowest(b), high = LatencyHistogram::bucket_highest(b);
    ASSERT_EQ(LatencyHistogram::bucket_of(low), b);
    ASSERT_EQ(LatencyHistogram::bucket_of(high), b);
    ASSERT_EQ(LatencyHistogram::bucket_lowest(b + 1), high + 1) << "no gap, no overlap";
    ASSERT_LE(static_cast<double>(high - low + 1), static_cast<double>(low) / 64 + 1e-9);
  }
  EXPECT_EQ(LatencyHistogram::bucket_of(UINT64_MAX), LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogram, QuantilesMatchASortedReferenceToTheBucket) {
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> latency(7.0, 1.2);  // a long right tail, like operation latencies
  for (std::size_t n : {1u, 2u, 10u, 999u, 100000u}) {
    LatencyHistogram histogram;
    std::vector<std::uint64_t> values(n);
    for (std::uint64_t& v : values) {
      v = static_cast<std::uint64_t>(latency(random));
      histogram.record(v);
    }
    std::sort(values.begin(), values.end());
    EXPECT_EQ(histogram.count(), n);
    EXPECT_EQ(histogram.max(), values.back());
    for (double q : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0}) {
      const std::size_t rank = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(q * static_cast<double>(n))));
      const std::uint64_t exact = values[rank - 1];
      const std::uint64_t reported = histogram.value_at_quantile(q);
      EXPECT_EQ(LatencyHistogram::bucket_of(reported), LatencyHistogram::bucket_of(exact)) << "n=" << n << " q=" << q;
      EXPECT_GE(reported, exact);
      EXPECT_LE(reported, values.back());
    }
  }
}

TEST(LatencyHistogram, EmptyAndCleared) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.value_at_quantile(0.5), 0u);
  histogram.record(1000);
  histogram.clear();
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.max(), 0u);
}

TEST(LatencyRecorder, RecordsOneIntervalPerCallAndAllocatesNothing) {
  static LatencyHistogram histogram;
  LatencyRecorder recorder(histogram);
  g_allocations = 0;
  g_counting = true;
  recorder.start();
  for (int i = 0; i < 10000; ++i) recorder();
  const double ns_per_tick = recorder.nanoseconds_per_tick();
  const std::uint64_t p50 = histogram.value_at_quantile(0.5);
  g_counting = false;
  EXPECT_EQ(g_allocations, 0u);
  EXPECT_EQ(histogram.count(), 10000u);
  EXPECT_GT(ns_per_tick, 0.0);
  EXPECT_LT(static_cast<double>(p50) * ns_per_tick, 1e6) << "an empty interval takes well under a millisecond";
}

}  // namespace
}  // namespace bench
