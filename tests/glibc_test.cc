// Unit tests of allocators/glibc.cc, in a process that glibc's malloc serves.
#include "allocators/glibc.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <string_view>
#include <vector>

namespace bench {
namespace {

// Keeps the arena count and counts the counters, allocating nothing.
class ArenaSink final : public CounterSink {
 public:
  void counter(std::string_view name, double value, Unit) override {
    ++counters;
    if (name == "stat_arenas") arenas = value;
  }
  int counters = 0;
  double arenas = -1;
};

// glibc's statistics are read after clear() and before the release step: reading them must not do
// the release step's work. A stdio buffer allocated on the heap is a large request, which makes malloc
// consolidate every fastbin chunk (malloc.c, _int_malloc): malloc_trim would then look nearly free.
TEST(GlibcStatistics, ReadingThemConsolidatesNoFastbinChunk) {
  glibc::kLibrary.prepare();  // as the child does before its baseline
  std::vector<void*> blocks(20000);
  for (void*& block : blocks) block = std::malloc(40);  // 48-byte chunks: tcache takes 7, fastbins the rest
  for (void* block : blocks) std::free(block);
  const std::size_t fastbin_bytes = mallinfo2().fsmblks;
  ASSERT_GT(fastbin_bytes, 19000u * 48);
  ArenaSink sink;
  glibc::kLibrary.report_stats(sink);
  EXPECT_EQ(mallinfo2().fsmblks, fastbin_bytes);
  const std::size_t in_use = mallinfo2().uordblks;
  glibc::kLibrary.report_stats(sink);
  EXPECT_EQ(mallinfo2().uordblks, in_use) << "reading the statistics allocates nothing that stays";
  EXPECT_EQ(sink.arenas, 1) << "a single-threaded process has the main arena only";
  EXPECT_EQ(sink.counters, 20) << "two readings of 10 counters";
}

}  // namespace
}  // namespace bench
