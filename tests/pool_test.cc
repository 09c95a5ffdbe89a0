// Unit tests for allocators/pool.h: NodePool geometry and chunk life cycle, PoolResource routing,
// PoolAllocator semantics inside std::map.

#include "allocators/pool.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define POOL_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_TEST_UNDER_ASAN 1
#endif
#endif

namespace {

constexpr std::size_t kKiB = 1024;
constexpr std::size_t kMiB = 1024 * kKiB;

// libstdc++'s std::map node for the workload: 32 B rb-tree base + 16 B key + 8 B value.
constexpr std::size_t kMapNodeBytes = 56;

struct Md5Key {
  std::array<std::uint8_t, 16> bytes;
  friend bool operator==(const Md5Key&, const Md5Key&) = default;
};

struct KeyLess {
  bool operator()(const Md5Key& a, const Md5Key& b) const noexcept {
    return std::memcmp(a.bytes.data(), b.bytes.data(), a.bytes.size()) < 0;
  }
};

using Value = std::pair<const Md5Key, std::uint64_t>;
using PoolMap = std::map<Md5Key, std::uint64_t, KeyLess, pool::PoolAllocator<Value>>;

Md5Key key_from(std::uint64_t i) {
  // A bijective mix, so distinct i give distinct, well spread keys.
  std::uint64_t x = i + 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  Md5Key key{};
  std::memcpy(key.bytes.data(), &x, sizeof x);
  std::memcpy(key.bytes.data() + 8, &i, sizeof i);
  return key;
}

std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

// Resident set size in bytes: resident pages (2nd field of /proc/self/statm, proc(5)) × page size.
std::size_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long total_pages = 0;
  unsigned long resident_pages = 0;
  const int fields = std::fscanf(f, "%lu %lu", &total_pages, &resident_pages);
  std::fclose(f);
  if (fields != 2) return 0;
  return static_cast<std::size_t>(resident_pages) * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// Whether the page holding p is mapped: mincore(2) fails with ENOMEM for unmapped memory.
bool is_mapped(const void* p) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* page_start = reinterpret_cast<void*>(address(p) & ~(std::uintptr_t{page} - 1));
  unsigned char residency = 0;
  return ::mincore(page_start, page, &residency) == 0;
}

template <std::size_t Bytes, std::size_t Align = alignof(std::max_align_t)>
struct alignas(Align) Blob {
  std::array<std::byte, Bytes> bytes;
};

// ---------------------------------------------------------------------------------------------
// NodePool

TEST(NodePool, SlotSizeIsObjectSizeRoundedToItsAlignment) {
  EXPECT_EQ(pool::NodePool(56, 8).slot_bytes(), 56u);
  EXPECT_EQ(pool::NodePool(50, 8).slot_bytes(), 56u);
  EXPECT_EQ(pool::NodePool(56, 16).slot_bytes(), 64u);
  EXPECT_EQ(pool::NodePool(64, 64).slot_bytes(), 64u);
  // A free slot holds a pointer, so slots are at least pointer-sized and pointer-aligned.
  EXPECT_EQ(pool::NodePool(1, 1).slot_bytes(), sizeof(void*));
  EXPECT_EQ(pool::NodePool(12, 4).slot_bytes(), 16u);
  EXPECT_EQ(pool::NodePool(12, 4).slot_alignment(), alignof(void*));
}

TEST(NodePool, RejectsInvalidGeometry) {
  EXPECT_THROW(pool::NodePool(0, 8), std::invalid_argument);
  EXPECT_THROW(pool::NodePool(56, 12), std::invalid_argument);
  EXPECT_THROW(pool::NodePool(56, 8, {.chunk_bytes = 3 * 4096}), std::invalid_argument);
  EXPECT_THROW(pool::NodePool(56, 8, {.chunk_bytes = 1024}), std::invalid_argument);
  EXPECT_THROW(pool::NodePool(8192, 8, {.chunk_bytes = 4096}), std::invalid_argument);
  EXPECT_THROW(pool::PoolAllocator<int>(pool::PoolOptions{.chunk_bytes = 100}), std::invalid_argument);
}

TEST(NodePool, MapsNothingUntilFirstAllocation) {
  pool::NodePool nodes(kMapNodeBytes, 8);
  EXPECT_EQ(nodes.chunks_mapped(), 0u);
  EXPECT_EQ(nodes.bytes_mapped(), 0u);
  EXPECT_EQ(nodes.chunk_bytes(), pool::kDefaultChunkBytes);
}

TEST(NodePool, ConsecutiveSlotsAreAdjacentWithNoHeader) {
  pool::NodePool nodes(kMapNodeBytes, 8, {.chunk_bytes = 64 * kKiB});
  std::vector<void*> slots;
  for (int i = 0; i < 100; ++i) slots.push_back(nodes.allocate());
  for (std::size_t i = 1; i < slots.size(); ++i) {
    EXPECT_EQ(address(slots[i]) - address(slots[i - 1]), kMapNodeBytes) << "slot " << i;
  }
  for (void* p : slots) nodes.deallocate(p);
}

TEST(NodePool, ManySlotsCostTheirSizeOnly) {
  constexpr std::size_t kChunk = 64 * kKiB;
  pool::NodePool nodes(kMapNodeBytes, 8, {.chunk_bytes = kChunk});
  // The only overhead is one small header per chunk.
  EXPECT_GE(nodes.slots_per_chunk() * kMapNodeBytes, kChunk - 64 - kMapNodeBytes);

  constexpr std::size_t kSlots = 200'000;
  std::vector<void*> slots;
  slots.reserve(kSlots);
  for (std::size_t i = 0; i < kSlots; ++i) slots.push_back(nodes.allocate());

  EXPECT_EQ(nodes.live_slots(), kSlots);
  const std::size_t expected_chunks = (kSlots + nodes.slots_per_chunk() - 1) / nodes.slots_per_chunk();
  EXPECT_EQ(nodes.chunks_mapped(), expected_chunks);
  EXPECT_EQ(nodes.bytes_mapped(), expected_chunks * kChunk);
  // ≈ N × 56 B: within 0.2 % plus one partly used chunk. Any per-slot header would add ≥ 8 B (14 %).
  EXPECT_LE(nodes.bytes_mapped(), kSlots * kMapNodeBytes * 1002 / 1000 + kChunk);

  for (void* p : slots) nodes.deallocate(p);
  EXPECT_EQ(nodes.chunks_mapped(), 0u);
}

TEST(NodePool, SlotsRespectAlignment) {
  const std::pair<std::size_t, std::size_t> geometries[] = {{56, 8}, {24, 8}, {48, 16}, {40, 8}, {64, 64}, {96, 32}, {8, 1}, {200, 4096}};
  for (auto [bytes, align] : geometries) {
    pool::NodePool nodes(bytes, align, {.chunk_bytes = 64 * kKiB});
    std::vector<void*> slots;
    for (int i = 0; i < 3000; ++i) {  // spans several chunks
      void* p = nodes.allocate();
      EXPECT_EQ(address(p) % nodes.slot_alignment(), 0u) << bytes << "/" << align;
      EXPECT_EQ(address(p) % align, 0u) << bytes << "/" << align;
      slots.push_back(p);
    }
    for (void* p : slots) nodes.deallocate(p);
    EXPECT_EQ(nodes.chunks_mapped(), 0u);
  }
}

TEST(NodePool, ReusesAFreedSlot) {
  pool::NodePool nodes(kMapNodeBytes, 8);
  void* a = nodes.allocate();
  void* b = nodes.allocate();
  nodes.deallocate(a);
  EXPECT_EQ(nodes.allocate(), a);
  EXPECT_EQ(nodes.chunks_mapped(), 1u);
  nodes.deallocate(a);
  nodes.deallocate(b);
}

TEST(NodePool, ReleasesAChunkAsSoonAsItIsWhollyFree) {
  pool::NodePool nodes(kMapNodeBytes, 8, {.chunk_bytes = 64 * kKiB});
  const std::size_t per_chunk = nodes.slots_per_chunk();
  std::vector<void*> first_chunk;
  for (std::size_t i = 0; i < per_chunk; ++i) first_chunk.push_back(nodes.allocate());
  void* in_second_chunk = nodes.allocate();
  ASSERT_EQ(nodes.chunks_mapped(), 2u);

  // All but one slot of the first chunk freed: it must stay mapped.
  for (std::size_t i = 1; i < per_chunk; ++i) nodes.deallocate(first_chunk[i]);
  EXPECT_EQ(nodes.chunks_mapped(), 2u);
  EXPECT_EQ(nodes.chunks_released_total(), 0u);

  EXPECT_TRUE(is_mapped(first_chunk[0]));
  nodes.deallocate(first_chunk[0]);
  EXPECT_FALSE(is_mapped(first_chunk[0])) << "the chunk must be unmapped, not just counted";
  EXPECT_TRUE(is_mapped(in_second_chunk));
  EXPECT_EQ(nodes.chunks_mapped(), 1u);
  EXPECT_EQ(nodes.chunks_released_total(), 1u);
  EXPECT_EQ(nodes.live_slots(), 1u);

  nodes.deallocate(in_second_chunk);
  EXPECT_EQ(nodes.chunks_mapped(), 0u);
  EXPECT_EQ(nodes.bytes_mapped(), 0u);
  EXPECT_EQ(nodes.chunks_released_total(), 2u);
  EXPECT_EQ(nodes.live_slots(), 0u);
}

TEST(NodePool, ChunksWithFreeSlotsAreFilledBeforeMappingMore) {
  pool::NodePool nodes(kMapNodeBytes, 8, {.chunk_bytes = 64 * kKiB});
  std::vector<void*> slots;
  for (std::size_t i = 0; i < 3 * nodes.slots_per_chunk(); ++i) slots.push_back(nodes.allocate());
  ASSERT_EQ(nodes.chunks_mapped(), 3u);
  // Free one slot in each full chunk, then allocate three: no new chunk.
  const std::size_t per_chunk = nodes.slots_per_chunk();
  const std::size_t freed[] = {5, per_chunk + 5, 2 * per_chunk + 5};
  std::vector<void*> freed_slots;
  for (std::size_t i : freed) {
    freed_slots.push_back(slots[i]);
    nodes.deallocate(slots[i]);
  }
  for (std::size_t i : freed) {
    slots[i] = nodes.allocate();
    EXPECT_NE(std::find(freed_slots.begin(), freed_slots.end(), slots[i]), freed_slots.end());
  }
  EXPECT_EQ(nodes.chunks_mapped(), 3u);
  for (void* p : slots) nodes.deallocate(p);
  EXPECT_EQ(nodes.chunks_mapped(), 0u);
}

TEST(NodePool, ReturnsMemoryToTheOsAsShownByRss) {
#if defined(POOL_TEST_UNDER_ASAN)
  GTEST_SKIP() << "AddressSanitizer's allocator and shadow memory change RSS; "
                  "run the uninstrumented bench_pool_test for this check";
#endif
  for (const bool huge_pages : {false, true}) {
    SCOPED_TRACE(huge_pages ? "MADV_HUGEPAGE, 2 MiB chunks" : "1 MiB chunks");
    const pool::PoolOptions options{.chunk_bytes = huge_pages ? 2 * kMiB : kMiB, .use_huge_pages = huge_pages};
    constexpr std::size_t kNodes = 64 * kMiB / kMapNodeBytes;
    // Allocated and touched before the baseline, so that only the pool's memory differs.
    std::vector<void*> slots(kNodes, nullptr);
    const std::size_t rss_before = resident_bytes();
    ASSERT_GT(rss_before, 0u);
    {
      pool::NodePool nodes(kMapNodeBytes, 8, options);
      for (void*& slot : slots) {
        slot = nodes.allocate();
        std::memset(slot, 0xA5, kMapNodeBytes);
      }
      const std::size_t rss_full = resident_bytes();
      EXPECT_GE(rss_full, rss_before + 60 * kMiB) << "the test would not notice a missing release";

      for (void* p : slots) nodes.deallocate(p);
      EXPECT_EQ(nodes.chunks_mapped(), 0u);
      const std::size_t rss_after_free = resident_bytes();
      EXPECT_LE(rss_after_free, rss_before + kMiB)
          << "before " << rss_before << " B, full " << rss_full << " B, after free " << rss_after_free << " B";
    }
  }
}

TEST(NodePool, DestructorUnmapsChunksStillHoldingSlots) {
  auto nodes = std::make_unique<pool::NodePool>(kMapNodeBytes, 8, pool::PoolOptions{.chunk_bytes = 64 * kKiB});
  std::vector<void*> slots;
  for (int i = 0; i < 5000; ++i) slots.push_back(nodes->allocate());
  ASSERT_GT(nodes->chunks_mapped(), 1u);
  nodes.reset();
  for (void* p : slots) ASSERT_FALSE(is_mapped(p));
}

// ---------------------------------------------------------------------------------------------
// PoolResource routing

TEST(PoolResource, SingleSmallObjectsArePooledAndSizesShareSlotGeometry) {
  pool::PoolResource resource;
  void* a = resource.allocate(56, 8, 1);
  void* b = resource.allocate(50, 8, 1);  // same 56-byte slots
  const pool::NodePool* nodes = resource.pool(56, 8);
  ASSERT_NE(nodes, nullptr);
  EXPECT_EQ(resource.pool(50, 8), nodes);
  EXPECT_EQ(nodes->live_slots(), 2u);
  EXPECT_EQ(resource.stats().pools, 1u);
  resource.deallocate(b, 50, 8, 1);
  resource.deallocate(a, 56, 8, 1);
  EXPECT_EQ(resource.stats().chunks_mapped, 0u);
}

TEST(PoolResource, SameSizeWithStricterAlignmentGetsItsOwnPool) {
  pool::PoolResource resource;
  void* loose = resource.allocate(48, 8, 1);
  std::vector<void*> strict;
  for (int i = 0; i < 4; ++i) {
    strict.push_back(resource.allocate(48, 16, 1));
    EXPECT_EQ(address(strict.back()) % 16, 0u);
  }
  EXPECT_NE(resource.pool(48, 8), resource.pool(48, 16));
  EXPECT_EQ(resource.stats().pools, 2u);
  for (void* p : strict) resource.deallocate(p, 48, 16, 1);
  resource.deallocate(loose, 48, 8, 1);
  EXPECT_EQ(resource.stats().chunks_mapped, 0u);
}

TEST(PoolResource, ArraysBigAndOverAlignedObjectsGoToTheFallback) {
  pool::PoolResource resource;
  struct Request {
    std::size_t bytes, align, count;
  };
  const Request requests[] = {
      {56, 8, 3},                               // n > 1
      {pool::kMaxPooledObjectBytes + 8, 8, 1},  // too big
      {64, 64, 1},                              // over-aligned
      {4096, 4096, 1},                          // both
  };
  for (const Request& r : requests) {
    void* p = resource.allocate(r.bytes, r.align, r.count);
    EXPECT_EQ(address(p) % r.align, 0u);
    std::memset(p, 0x5A, r.bytes * r.count);  // the sanitized build checks the extent
    const pool::ResourceStats s = resource.stats();
    EXPECT_EQ(s.fallback_bytes_outstanding, r.bytes * r.count);
    EXPECT_EQ(s.fallback_blocks_outstanding, 1u);
    EXPECT_EQ(s.live_slots, 0u);
    EXPECT_EQ(s.chunks_mapped, 0u);
    resource.deallocate(p, r.bytes, r.align, r.count);
    EXPECT_EQ(resource.stats().fallback_bytes_outstanding, 0u);
    EXPECT_EQ(resource.stats().fallback_blocks_outstanding, 0u);
  }
}

TEST(PoolResource, GeometriesBeyondThePoolLimitGoToTheFallback) {
  pool::PoolResource resource;
  std::vector<std::pair<void*, std::size_t>> blocks;
  for (std::size_t i = 0; i < pool::kMaxPoolsPerResource + 2; ++i) {
    const std::size_t bytes = 16 * (i + 1);
    blocks.emplace_back(resource.allocate(bytes, 8, 1), bytes);
  }
  const pool::ResourceStats s = resource.stats();
  EXPECT_EQ(s.pools, pool::kMaxPoolsPerResource);
  EXPECT_EQ(s.live_slots, pool::kMaxPoolsPerResource);
  EXPECT_EQ(s.fallback_blocks_outstanding, 2u);
  for (auto [p, bytes] : blocks) resource.deallocate(p, bytes, 8, 1);
  EXPECT_EQ(resource.stats().chunks_mapped, 0u);
  EXPECT_EQ(resource.stats().fallback_bytes_outstanding, 0u);
}

// ---------------------------------------------------------------------------------------------
// PoolAllocator

TEST(PoolAllocator, RebindSharesTheResource) {
  pool::PoolAllocator<int> ints;
  using Rebound = std::allocator_traits<pool::PoolAllocator<int>>::rebind_alloc<double>;
  static_assert(std::is_same_v<Rebound, pool::PoolAllocator<double>>);
  Rebound doubles(ints);
  EXPECT_TRUE(doubles == ints);
  EXPECT_EQ(&doubles.resource(), &ints.resource());

  double* d = doubles.allocate(1);
  EXPECT_EQ(address(d) % alignof(double), 0u);
  EXPECT_EQ(pool::stats(ints).live_slots, 1u);
  pool::PoolAllocator<int> back(doubles);
  EXPECT_TRUE(back == ints);
  doubles.deallocate(d, 1);
  EXPECT_EQ(pool::stats(ints).live_slots, 0u);
}

TEST(PoolAllocator, EqualIffSameResource) {
  pool::PoolAllocator<int> a;
  pool::PoolAllocator<int> b;
  EXPECT_FALSE(a == b);
  EXPECT_TRUE(a != b);
  pool::PoolAllocator<int> a_copy(a);
  EXPECT_TRUE(a_copy == a);
  pool::PoolAllocator<int> a_moved(std::move(a_copy));
  EXPECT_TRUE(a_moved == a);
  b = a;
  EXPECT_TRUE(b == a);
  const pool::PoolAllocator<int>& also_b = b;
  b = also_b;  // self-assignment keeps the resource alive
  EXPECT_TRUE(b == a);
  static_assert(!std::allocator_traits<pool::PoolAllocator<int>>::is_always_equal::value);
}

TEST(PoolAllocator, CopyForAContainerGetsAFreshResourceWithTheSameOptions) {
  pool::PoolAllocator<int> a(pool::PoolOptions{.chunk_bytes = 64 * kKiB, .use_huge_pages = true});
  auto copy = std::allocator_traits<pool::PoolAllocator<int>>::select_on_container_copy_construction(a);
  EXPECT_FALSE(copy == a);
  EXPECT_EQ(copy.resource().options().chunk_bytes, 64 * kKiB);
  EXPECT_TRUE(copy.resource().options().use_huge_pages);
}

TEST(PoolAllocator, ArraysAndBigTypesUseTheFallbackAndAreFreed) {
  pool::PoolAllocator<std::uint64_t> words;
  std::uint64_t* array = words.allocate(10);
  std::fill(array, array + 10, 7u);
  EXPECT_EQ(pool::stats(words).fallback_bytes_outstanding, 10 * sizeof(std::uint64_t));
  EXPECT_EQ(pool::stats(words).live_slots, 0u);

  using Big = Blob<4000>;
  pool::PoolAllocator<Big> bigs(words);
  Big* big = bigs.allocate(1);
  EXPECT_EQ(address(big) % alignof(Big), 0u);
  EXPECT_EQ(pool::stats(words).fallback_bytes_outstanding, 10 * sizeof(std::uint64_t) + sizeof(Big));

  using OverAligned = Blob<64, 64>;
  pool::PoolAllocator<OverAligned> aligned(words);
  OverAligned* o = aligned.allocate(1);
  EXPECT_EQ(address(o) % 64, 0u);

  aligned.deallocate(o, 1);
  bigs.deallocate(big, 1);
  words.deallocate(array, 10);
  const pool::ResourceStats s = pool::stats(words);
  EXPECT_EQ(s.fallback_bytes_outstanding, 0u);
  EXPECT_EQ(s.fallback_blocks_outstanding, 0u);
  EXPECT_EQ(s.chunks_mapped, 0u);
}

TEST(PoolAllocator, ThrowsOnArraySizeOverflow) {
  pool::PoolAllocator<std::uint64_t> words;
  EXPECT_THROW((void)words.allocate(std::numeric_limits<std::size_t>::max() / 4), std::bad_array_new_length);
}

// ---------------------------------------------------------------------------------------------
// std::map with PoolAllocator

PoolMap make_map(std::size_t n, pool::PoolAllocator<Value> allocator = {}) {
  PoolMap m(allocator);
  for (std::size_t i = 0; i < n; ++i) m.emplace(key_from(i), i);
  return m;
}

TEST(PoolMap, InsertLookUpClearReleasesEverything) {
  constexpr std::size_t kItems = 100'000;
  PoolMap m;
  for (std::size_t i = 0; i < kItems; ++i) ASSERT_TRUE(m.emplace(key_from(i), i).second);
  ASSERT_EQ(m.size(), kItems);
  for (std::size_t i = 0; i < kItems; ++i) {
    auto it = m.find(key_from(i));
    ASSERT_NE(it, m.end());
    ASSERT_EQ(it->second, i);
  }
  EXPECT_EQ(m.find(key_from(kItems)), m.end());

  const pool::ResourceStats full = pool::stats(m.get_allocator());
  EXPECT_EQ(full.live_slots, kItems);
  EXPECT_EQ(full.pools, 1u);
  EXPECT_EQ(full.fallback_blocks_outstanding, 0u);
#if defined(__GLIBCXX__) && __SIZEOF_POINTER__ == 8
  EXPECT_EQ(full.live_slot_bytes, kItems * kMapNodeBytes) << "libstdc++ node is 56 B";
#endif
  EXPECT_LE(full.bytes_mapped, full.live_slot_bytes * 1002 / 1000 + pool::kDefaultChunkBytes);

  m.clear();
  const pool::ResourceStats cleared = pool::stats(m.get_allocator());
  EXPECT_EQ(cleared.chunks_mapped, 0u);
  EXPECT_EQ(cleared.bytes_mapped, 0u);
  EXPECT_EQ(cleared.live_slots, 0u);
  EXPECT_EQ(cleared.chunks_released_total, full.chunks_mapped);
}

TEST(PoolMap, DestructionReleasesEverything) {
  pool::PoolAllocator<Value> observer;
  {
    PoolMap m = make_map(20'000, observer);
    EXPECT_GT(pool::stats(observer).chunks_mapped, 0u);
  }
  EXPECT_EQ(pool::stats(observer).chunks_mapped, 0u);
  EXPECT_EQ(pool::stats(observer).live_slots, 0u);
}

TEST(PoolMap, CopyConstructionGetsItsOwnPool) {
  PoolMap original = make_map(10'000);
  PoolMap copy(original);
  EXPECT_FALSE(copy.get_allocator() == original.get_allocator());
  EXPECT_EQ(copy, original);
  original.clear();
  EXPECT_EQ(pool::stats(original.get_allocator()).chunks_mapped, 0u);
  EXPECT_EQ(pool::stats(copy.get_allocator()).live_slots, 10'000u);
  EXPECT_EQ(copy.size(), 10'000u);
  EXPECT_EQ(copy.at(key_from(1234)), 1234u);
}

TEST(PoolMap, MoveConstructionKeepsNodesAndTheMovedFromMapUsable) {
  PoolMap source = make_map(10'000);
  const auto source_allocator = source.get_allocator();
  const std::uint64_t* element = &source.at(key_from(42));

  PoolMap target(std::move(source));
  EXPECT_TRUE(target.get_allocator() == source_allocator);
  EXPECT_EQ(&target.at(key_from(42)), element);
  EXPECT_EQ(*element, 42u);

  source.clear();  // NOLINT(bugprone-use-after-move): moved-from maps stay valid
  source.emplace(key_from(1), 1);
  EXPECT_EQ(source.size(), 1u);
  EXPECT_EQ(target.size(), 10'000u);
}

TEST(PoolMap, MoveAssignmentAdoptsTheSourcePoolAndFreesTheOldOne) {
  PoolMap source = make_map(10'000);
  PoolMap target = make_map(5'000);
  const auto old_target_allocator = target.get_allocator();
  const std::uint64_t* element = &source.at(key_from(7));

  target = std::move(source);
  EXPECT_TRUE(target.get_allocator() == source.get_allocator());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(&target.at(key_from(7)), element);
  EXPECT_EQ(target.size(), 10'000u);
  EXPECT_EQ(pool::stats(old_target_allocator).chunks_mapped, 0u);
  EXPECT_EQ(pool::stats(target.get_allocator()).live_slots, 10'000u);
}

TEST(PoolMap, CopyAssignmentKeepsTheTargetPool) {
  PoolMap source = make_map(10'000);
  PoolMap target = make_map(100);
  const auto target_allocator = target.get_allocator();
  target = source;
  EXPECT_TRUE(target.get_allocator() == target_allocator);
  EXPECT_FALSE(target.get_allocator() == source.get_allocator());
  EXPECT_EQ(target, source);
  EXPECT_EQ(pool::stats(target_allocator).live_slots, 10'000u);
  source.clear();
  EXPECT_EQ(pool::stats(source.get_allocator()).chunks_mapped, 0u);
  EXPECT_EQ(target.size(), 10'000u);
}

TEST(PoolMap, SwapExchangesPoolsWithNodes) {
  PoolMap a = make_map(3'000);
  PoolMap b = make_map(7'000);
  const auto a_allocator = a.get_allocator();
  const auto b_allocator = b.get_allocator();
  const std::uint64_t* in_a = &a.at(key_from(5));
  a.swap(b);
  EXPECT_TRUE(a.get_allocator() == b_allocator);
  EXPECT_TRUE(b.get_allocator() == a_allocator);
  EXPECT_EQ(&b.at(key_from(5)), in_a);
  EXPECT_EQ(a.size(), 7'000u);
  b.clear();
  EXPECT_EQ(pool::stats(a_allocator).chunks_mapped, 0u);
  EXPECT_EQ(pool::stats(b_allocator).live_slots, 7'000u);
  using std::swap;
  swap(a, b);
  EXPECT_TRUE(b.get_allocator() == b_allocator);
}

TEST(PoolMap, EraseInRandomOrderReleasesChunksAsTheyEmpty) {
  PoolMap m(pool::PoolAllocator<Value>(pool::PoolOptions{.chunk_bytes = 64 * kKiB}));
  constexpr std::size_t kItems = 50'000;
  for (std::size_t i = 0; i < kItems; ++i) m.emplace(key_from(i), i);
  std::vector<std::size_t> order(kItems);
  for (std::size_t i = 0; i < kItems; ++i) order[i] = i;
  std::mt19937_64 rng(12345);
  std::shuffle(order.begin(), order.end(), rng);
  const std::size_t chunks_full = pool::stats(m.get_allocator()).chunks_mapped;
  for (std::size_t i = 0; i < kItems / 2; ++i) m.erase(key_from(order[i]));
  EXPECT_LE(pool::stats(m.get_allocator()).chunks_mapped, chunks_full);
  for (std::size_t i = kItems / 2; i < kItems; ++i) m.erase(key_from(order[i]));
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(pool::stats(m.get_allocator()).chunks_mapped, 0u);
  EXPECT_EQ(pool::stats(m.get_allocator()).chunks_released_total, chunks_full);
}

}  // namespace
