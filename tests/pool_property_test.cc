// Randomized property tests for allocators/pool.h: long random sequences of allocations and frees,
// checked after every step against a reference model of what must be live.
//
// Properties: every returned block is aligned, lies inside one chunk's slot area (NodePool) and
// overlaps no live block; the byte pattern written into a block survives until it is freed; the
// pool's counters equal the model's; a chunk is mapped exactly while it holds a live slot; after
// freeing everything nothing stays mapped.
//
// The seed is fixed and printed; set POOL_PROPERTY_SEED to replay another one.

#include "allocators/pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <random>
#include <unordered_map>
#include <vector>

namespace {

constexpr std::uint64_t kDefaultSeed = 20240611;

std::uint64_t seed() {
  const char* env = std::getenv("POOL_PROPERTY_SEED");
  const std::uint64_t value = env != nullptr ? std::strtoull(env, nullptr, 10) : kDefaultSeed;
  std::printf("pool property test seed: %llu (POOL_PROPERTY_SEED)\n", static_cast<unsigned long long>(value));
  return value;
}

std::uint64_t mix(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Fills [p, p + bytes) with a pattern derived from tag; bytes need not be a multiple of 8.
void write_pattern(void* p, std::size_t bytes, std::uint64_t tag) {
  auto* out = static_cast<unsigned char*>(p);
  for (std::size_t i = 0; i < bytes; ++i) {
    out[i] = static_cast<unsigned char>(mix(tag + i / 8) >> (8 * (i % 8)));
  }
}

bool has_pattern(const void* p, std::size_t bytes, std::uint64_t tag) {
  const auto* in = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < bytes; ++i) {
    if (in[i] != static_cast<unsigned char>(mix(tag + i / 8) >> (8 * (i % 8)))) return false;
  }
  return true;
}

struct LiveBlock {
  std::size_t bytes;
  std::uint64_t tag;
};

// Reference model: live blocks ordered by address, so overlap checks look at the neighbours only.
class LiveSet {
 public:
  // Checks that [p, p + bytes) overlaps no live block, then records it.
  ::testing::AssertionResult add(void* p, std::size_t bytes, std::uint64_t tag) {
    const auto start = reinterpret_cast<std::uintptr_t>(p);
    auto next = blocks_.lower_bound(start);
    if (next != blocks_.end() && next->first < start + bytes) {
      return ::testing::AssertionFailure() << "block at " << p << " overlaps the live block at " << reinterpret_cast<void*>(next->first);
    }
    if (next != blocks_.begin()) {
      auto previous = std::prev(next);
      if (previous->first + previous->second.bytes > start) {
        return ::testing::AssertionFailure() << "block at " << p << " overlaps the live block at "
                                             << reinterpret_cast<void*>(previous->first);
      }
    }
    blocks_.emplace_hint(next, start, LiveBlock{bytes, tag});
    return ::testing::AssertionSuccess();
  }

  const std::map<std::uintptr_t, LiveBlock>& blocks() const { return blocks_; }
  void remove(std::uintptr_t start) { blocks_.erase(start); }

 private:
  std::map<std::uintptr_t, LiveBlock> blocks_;
};

// Live count drifts between empty and a few chunks' worth so that chunks keep being mapped,
// partly freed, refilled and released. Returns true when the next step should allocate.
class Drift {
 public:
  Drift(std::mt19937_64& rng, std::size_t high_water) : rng_(rng), high_water_(high_water) {}

  bool allocate_next(std::size_t live) {
    if (live == 0) growing_ = true;
    if (live >= high_water_) growing_ = false;
    if (std::uniform_int_distribution<int>(0, 999)(rng_) == 0) growing_ = !growing_;
    const int allocate_percent = growing_ ? 65 : 35;
    return std::uniform_int_distribution<int>(0, 99)(rng_) < allocate_percent;
  }

 private:
  std::mt19937_64& rng_;
  std::size_t high_water_;
  bool growing_ = true;
};

std::uintptr_t pick_live(const std::vector<std::uintptr_t>& live, std::mt19937_64& rng, std::size_t& index) {
  index = std::uniform_int_distribution<std::size_t>(0, live.size() - 1)(rng);
  return live[index];
}

void swap_remove(std::vector<std::uintptr_t>& live, std::size_t index) {
  live[index] = live.back();
  live.pop_back();
}

TEST(NodePoolProperty, RandomAllocateFreeMatchesReference) {
  constexpr std::size_t kOperations = 1'200'000;
  constexpr std::size_t kChunkBytes = 64 * 1024;
  constexpr std::size_t kObjectBytes = 56;
  std::mt19937_64 rng(seed());

  pool::NodePool nodes(kObjectBytes, 8, {.chunk_bytes = kChunkBytes});
  const std::size_t slot = nodes.slot_bytes();
  LiveSet reference;
  std::vector<std::uintptr_t> live;                           // for uniform random picks
  std::unordered_map<std::uintptr_t, std::size_t> per_chunk;  // live slots per chunk base
  Drift drift(rng, 6 * nodes.slots_per_chunk());
  std::size_t released_by_reference = 0;
  std::uintptr_t first_slot_offset = 0;

  for (std::size_t op = 0; op < kOperations; ++op) {
    if (live.empty() || drift.allocate_next(live.size())) {
      void* p = nodes.allocate();
      const auto start = reinterpret_cast<std::uintptr_t>(p);
      const std::uintptr_t chunk = start & ~(std::uintptr_t{kChunkBytes} - 1);
      ASSERT_EQ(start % nodes.slot_alignment(), 0u) << "op " << op;
      if (op == 0) {  // a fresh pool starts at a chunk's first slot, right after the header
        first_slot_offset = start - chunk;
        ASSERT_GT(first_slot_offset, 0u);
      }
      ASSERT_GE(start - chunk, first_slot_offset) << "slot overlaps the chunk header, op " << op;
      ASSERT_EQ((start - chunk - first_slot_offset) % slot, 0u) << "slot off the grid, op " << op;
      ASSERT_LE(start + kObjectBytes, chunk + kChunkBytes) << "slot crosses its chunk, op " << op;
      // The caller's extent, not slot_bytes(): a pool with too-small slots must fail here.
      ASSERT_TRUE(reference.add(p, kObjectBytes, op)) << "op " << op;
      write_pattern(p, kObjectBytes, op);
      live.push_back(start);
      ++per_chunk[chunk];
    } else {
      std::size_t index = 0;
      const std::uintptr_t start = pick_live(live, rng, index);
      const LiveBlock block = reference.blocks().at(start);
      ASSERT_TRUE(has_pattern(reinterpret_cast<void*>(start), block.bytes, block.tag))
          << "pattern of the block allocated at op " << block.tag << " was overwritten, op " << op;
      nodes.deallocate(reinterpret_cast<void*>(start));
      reference.remove(start);
      swap_remove(live, index);
      const std::uintptr_t chunk = start & ~(std::uintptr_t{kChunkBytes} - 1);
      if (--per_chunk[chunk] == 0) {
        per_chunk.erase(chunk);
        ++released_by_reference;
      }
    }
    // A chunk is mapped exactly while it holds a live slot.
    ASSERT_EQ(nodes.live_slots(), live.size()) << "op " << op;
    ASSERT_EQ(nodes.chunks_mapped(), per_chunk.size()) << "op " << op;
    ASSERT_EQ(nodes.chunks_released_total(), released_by_reference) << "op " << op;
    ASSERT_EQ(nodes.bytes_mapped(), per_chunk.size() * kChunkBytes) << "op " << op;

    if (op % 100'000 == 0) {
      for (const auto& [start, block] : reference.blocks()) {
        ASSERT_TRUE(has_pattern(reinterpret_cast<void*>(start), block.bytes, block.tag)) << "full sweep at op " << op;
      }
    }
  }
  EXPECT_GT(released_by_reference, 10u) << "the run should release chunks along the way";

  for (const auto& [start, block] : reference.blocks()) {
    ASSERT_TRUE(has_pattern(reinterpret_cast<void*>(start), block.bytes, block.tag));
    nodes.deallocate(reinterpret_cast<void*>(start));
  }
  EXPECT_EQ(nodes.live_slots(), 0u);
  EXPECT_EQ(nodes.chunks_mapped(), 0u);
  EXPECT_EQ(nodes.bytes_mapped(), 0u);
}

// Mixed requests through one PoolResource: pooled geometries, arrays, big and over-aligned
// objects, so routing mistakes (freeing into the wrong pool or the fallback) surface.
TEST(PoolResourceProperty, MixedRequestsMatchReference) {
  constexpr std::size_t kOperations = 400'000;
  struct Shape {
    std::size_t bytes, align, count;
  };
  const Shape shapes[] = {
      {56, 8, 1}, {56, 8, 1},   {56, 8, 1},  {24, 8, 1}, {48, 16, 1}, {100, 4, 1},
      {56, 8, 4}, {2000, 8, 1}, {64, 64, 1}, {16, 8, 1}, {40, 8, 1},
  };
  std::mt19937_64 rng(seed() + 1);

  pool::PoolResource resource({.chunk_bytes = 64 * 1024});
  LiveSet reference;
  std::vector<std::uintptr_t> live;
  std::unordered_map<std::uintptr_t, std::size_t> shape_of;
  Drift drift(rng, 20'000);
  std::size_t fallback_bytes = 0;

  for (std::size_t op = 0; op < kOperations; ++op) {
    if (live.empty() || drift.allocate_next(live.size())) {
      const std::size_t s = std::uniform_int_distribution<std::size_t>(0, std::size(shapes) - 1)(rng);
      const Shape& shape = shapes[s];
      void* p = resource.allocate(shape.bytes, shape.align, shape.count);
      const std::size_t bytes = shape.bytes * shape.count;
      ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p) % shape.align, 0u) << "op " << op;
      ASSERT_TRUE(reference.add(p, bytes, op)) << "op " << op;
      write_pattern(p, bytes, op);
      live.push_back(reinterpret_cast<std::uintptr_t>(p));
      shape_of[live.back()] = s;
      if (resource.pool(shape.bytes, shape.align) == nullptr || shape.count != 1) fallback_bytes += bytes;
    } else {
      std::size_t index = 0;
      const std::uintptr_t start = pick_live(live, rng, index);
      const LiveBlock block = reference.blocks().at(start);
      ASSERT_TRUE(has_pattern(reinterpret_cast<void*>(start), block.bytes, block.tag)) << "op " << op;
      const Shape& shape = shapes[shape_of.at(start)];
      if (resource.pool(shape.bytes, shape.align) == nullptr || shape.count != 1) {
        fallback_bytes -= block.bytes;
      }
      resource.deallocate(reinterpret_cast<void*>(start), shape.bytes, shape.align, shape.count);
      reference.remove(start);
      shape_of.erase(start);
      swap_remove(live, index);
    }
    const pool::ResourceStats stats = resource.stats();
    ASSERT_EQ(stats.fallback_bytes_outstanding, fallback_bytes) << "op " << op;
    ASSERT_EQ(stats.live_slots + stats.fallback_blocks_outstanding, live.size()) << "op " << op;
  }
  EXPECT_EQ(resource.stats().pools, pool::kMaxPoolsPerResource);

  for (const auto& [start, block] : reference.blocks()) {
    ASSERT_TRUE(has_pattern(reinterpret_cast<void*>(start), block.bytes, block.tag));
    const Shape& shape = shapes[shape_of.at(start)];
    resource.deallocate(reinterpret_cast<void*>(start), shape.bytes, shape.align, shape.count);
  }
  const pool::ResourceStats stats = resource.stats();
  EXPECT_EQ(stats.live_slots, 0u);
  EXPECT_EQ(stats.chunks_mapped, 0u);
  EXPECT_EQ(stats.fallback_bytes_outstanding, 0u);
  EXPECT_EQ(stats.fallback_blocks_outstanding, 0u);
}

}  // namespace
