// The maps the map workloads build, one adapter per `Container`, all with the same interface:
//
//   load(keys, after_each)  insert keys[i] -> i for i = 0 .. size-1 (the timed insert phase),
//                           calling after_each() after every single insert (the latency histogram's
//                           clock); an adapter that loads in bulk (kInsertsOneByOne == false) calls
//                           it never
//   find(key) -> value*     nullptr when absent
//   clear()                 the container's clear()
//   erase_if(pred) -> n     erases every entry for which pred(key, value) is true, in one pass over
//                           the container (O(N) or O(N log N), never O(N^2)); returns how many
//   release()               the container-level release step after clear or erase (no-op for most);
//                           must leave the live entries intact
//   report_stats(sink)      in-container allocator statistics (stat_<name>), if it has any
//   kClearIsConstantTime    clear() does not depend on the number of entries: it has no rate
//
// The adapters are templates over the key type and its ordering; they know nothing of the keys the
// workloads use. with_container<Key, Value, Less>(kind, f) calls f.template operator()<Adapter>()
// for the adapter of `kind`: the one place where a Container value becomes a type.
#pragma once

#include <algorithm>
#include <boost/container/adaptive_pool.hpp>
#include <boost/container/flat_map.hpp>
#include <boost/container/map.hpp>
#include <boost/container/node_allocator.hpp>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory_resource>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "allocators/configuration.h"
#include "allocators/pool.h"

namespace bench {

template <class Key, class Value>
using Entry = std::pair<const Key, Value>;

// A node-based map (std::map or boost::container::map) with allocator A.
template <class Map>
struct NodeMapAdapter {
  using key_type = typename Map::key_type;
  using mapped_type = typename Map::mapped_type;
  static constexpr bool kInsertsOneByOne = true;
  static constexpr bool kClearIsConstantTime = false;
  Map map;

  template <class AfterEach>
  void load(std::span<const key_type> keys, AfterEach&& after_each) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      map.try_emplace(keys[i], mapped_type(i));
      after_each();
    }
  }
  const mapped_type* find(const key_type& key) const {
    const auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
  }
  void clear() { map.clear(); }
  template <class Predicate>
  std::size_t erase_if(Predicate erase) {
    std::size_t erased = 0;
    for (auto it = map.begin(); it != map.end();) {
      if (erase(it->first, it->second)) {
        it = map.erase(it);
        ++erased;
      } else {
        ++it;
      }
    }
    return erased;
  }
  void release() {}
  void report_stats(CounterSink&) const {}
};

template <class Key, class Value, class Less>
using StdMapAdapter = NodeMapAdapter<std::map<Key, Value, Less>>;

// 2 MiB chunks: measured at 1M and 5M nodes, chunk sizes from 64 KiB to 2 MiB insert and look up
// at the same rate (within ±5 %, the noise of that measurement); 2 MiB is also the size at which
// MADV_HUGEPAGE can give a chunk a huge page (the pool-thp configuration).
template <class Key, class Value, class Less, bool HugePages>
struct PoolMapAdapter : NodeMapAdapter<std::map<Key, Value, Less, pool::PoolAllocator<Entry<Key, Value>>>> {
  using Map = std::map<Key, Value, Less, pool::PoolAllocator<Entry<Key, Value>>>;
  PoolMapAdapter()
      : NodeMapAdapter<Map>{
            Map(pool::PoolAllocator<Entry<Key, Value>>(pool::PoolOptions{.chunk_bytes = 2u << 20, .use_huge_pages = HugePages}))} {}
  // Nothing to release: the pool unmaps each chunk as its last node is freed.
  void report_stats(CounterSink& out) const {
    const pool::ResourceStats s = pool::stats(this->map.get_allocator());
    out.counter("stat_pool_chunks_mapped", static_cast<double>(s.chunks_mapped), Unit::count);
    out.counter("stat_pool_bytes_mapped", static_cast<double>(s.bytes_mapped), Unit::bytes);
    out.counter("stat_pool_live_slots", static_cast<double>(s.live_slots), Unit::count);
    out.counter("stat_pool_chunks_released_total", static_cast<double>(s.chunks_released_total), Unit::count);
    out.counter("stat_pool_fallback_bytes", static_cast<double>(s.fallback_bytes_outstanding), Unit::bytes);
  }
};

// Boost's pools keep their blocks in Boost's own dlmalloc (mmap-backed), invisible to mallinfo2:
// its footprint is the only place they show (boost/container/detail/dlmalloc and alloc_lib.h).
inline void report_boost_footprint(CounterSink& out) {
  out.counter("stat_boost_dlmalloc_footprint", static_cast<double>(boost::container::dlmalloc_footprint()), Unit::bytes);
}

template <class Key, class Value, class Less>
struct BoostAdaptivePoolAdapter
    : NodeMapAdapter<boost::container::map<Key, Value, Less, boost::container::adaptive_pool<Entry<Key, Value>>>> {
  // adaptive_pool returns wholly free blocks beyond MaxFreeBlocks by itself.
  void report_stats(CounterSink& out) const { report_boost_footprint(out); }
};

// Boost's node_allocator<T>::deallocate_free_blocks() scans the whole free list once per block
// (boost/container/detail/node_pool_impl.hpp): O(blocks × free nodes). At the default 256 nodes per
// block it took 19 s for 300,000 freed nodes here and grows quadratically (hours at 5M); with 65,536
// nodes (3 MiB) per block, 0.6 s at 1M. Large blocks are what makes the release step usable at all.
inline constexpr std::size_t kBoostNodesPerBlock = 65536;

template <class Key, class Value, class Less>
struct BoostNodeAllocatorAdapter
    : NodeMapAdapter<boost::container::map<Key, Value, Less, boost::container::node_allocator<Entry<Key, Value>, kBoostNodesPerBlock>>> {
  // node_allocator never returns blocks by itself; its pool is a singleton per node size, reached
  // through the allocator rebound to the node type, which is the map's stored_allocator_type.
  // Only once the map is empty: with live nodes, Boost 1.74's deallocate_free_blocks() drops the free
  // nodes of partly used blocks from its free list (and asserts in a debug build) when the first such
  // block it meets holds all the remaining free nodes — node_pool_impl.hpp sets backup_list_last
  // only while m_freelist is non-empty. With 65,536 nodes per block, no block empties while one node
  // in 64 lives (fragment), so the call could free nothing there anyway.
  void release() {
    using NodeAllocator = typename decltype(this->map)::stored_allocator_type;
    if (this->map.empty()) NodeAllocator::deallocate_free_blocks();
  }
  void report_stats(CounterSink& out) const { report_boost_footprint(out); }
};

// boost::container::flat_map is one sorted vector: loaded with a single range insert of every pair
// (which appends and sorts), cleared, and shrunk so that its buffer is freed.
template <class Key, class Value, class Less>
struct FlatMapAdapter {
  using key_type = Key;
  using mapped_type = Value;
  static constexpr bool kInsertsOneByOne = false;  // one range insert: append, then sort
  static constexpr bool kClearIsConstantTime = std::is_trivially_destructible_v<std::pair<Key, Value>>;
  boost::container::flat_map<Key, Value, Less> map;

  // Yields (keys[i], i) by value, so the input pairs never sit on the heap.
  struct PairIterator {
    using iterator_category = std::random_access_iterator_tag;
    using value_type = std::pair<Key, Value>;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = value_type;
    const Key* keys;
    std::size_t index;
    value_type operator*() const { return {keys[index], Value(index)}; }
    value_type operator[](difference_type n) const { return *(*this + n); }
    PairIterator& operator++() {
      ++index;
      return *this;
    }
    PairIterator operator++(int) {
      PairIterator old = *this;
      ++index;
      return old;
    }
    PairIterator& operator--() {
      --index;
      return *this;
    }
    PairIterator& operator+=(difference_type n) {
      index = static_cast<std::size_t>(static_cast<difference_type>(index) + n);
      return *this;
    }
    PairIterator operator+(difference_type n) const {
      PairIterator r = *this;
      return r += n;
    }
    difference_type operator-(const PairIterator& other) const {
      return static_cast<difference_type>(index) - static_cast<difference_type>(other.index);
    }
    bool operator==(const PairIterator& other) const { return index == other.index; }
    bool operator!=(const PairIterator& other) const { return index != other.index; }
    bool operator<(const PairIterator& other) const { return index < other.index; }
  };

  template <class AfterEach>
  void load(std::span<const Key> keys, AfterEach&&) {
    map.insert(PairIterator{keys.data(), 0}, PairIterator{keys.data(), keys.size()});
  }
  const Value* find(const Key& key) const {
    const auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
  }
  void clear() { map.clear(); }
  // Compacts the sorted sequence in one pass (std::remove_if keeps the order) and adopts it back as
  // already ordered and unique: erasing entry by entry would shift the tail each time, O(N^2). The
  // capacity stays, as with vector::erase; the release step (shrink_to_fit) gives the surplus back.
  template <class Predicate>
  std::size_t erase_if(Predicate erase) {
    auto sequence = map.extract_sequence();
    const auto kept_end =
        std::remove_if(sequence.begin(), sequence.end(), [&](const auto& entry) { return erase(entry.first, entry.second); });
    const auto erased = static_cast<std::size_t>(sequence.end() - kept_end);
    sequence.erase(kept_end, sequence.end());
    map.adopt_sequence(boost::container::ordered_unique_range, std::move(sequence));
    return erased;
  }
  void release() { map.shrink_to_fit(); }
  void report_stats(CounterSink&) const {}
};

// std::pmr map over an unsynchronized_pool_resource, which keeps its chunks until release().
struct PmrPoolResource {
  std::pmr::unsynchronized_pool_resource resource;  // a base listed first: outlives the map
};

template <class Key, class Value, class Less>
struct PmrPoolAdapter : PmrPoolResource, NodeMapAdapter<std::pmr::map<Key, Value, Less>> {
  PmrPoolAdapter() : NodeMapAdapter<std::pmr::map<Key, Value, Less>>{std::pmr::map<Key, Value, Less>(&resource)} {}
  // release() frees every block of the resource, including those still in use: with live entries
  // (fragment's survivors) there is no safe release, and the step does nothing.
  void release() {
    if (this->map.empty()) resource.release();
  }
};

template <class Key, class Value, class Less, class Function>
decltype(auto) with_container(Container kind, Function&& function) {
  switch (kind) {
    case Container::std_map: return function.template operator()<StdMapAdapter<Key, Value, Less>>();
    case Container::pool_map: return function.template operator()<PoolMapAdapter<Key, Value, Less, false>>();
    case Container::pool_map_huge_pages: return function.template operator()<PoolMapAdapter<Key, Value, Less, true>>();
    case Container::boost_adaptive_pool: return function.template operator()<BoostAdaptivePoolAdapter<Key, Value, Less>>();
    case Container::boost_node_allocator: return function.template operator()<BoostNodeAllocatorAdapter<Key, Value, Less>>();
    case Container::boost_flat_map: return function.template operator()<FlatMapAdapter<Key, Value, Less>>();
    case Container::pmr_pool: return function.template operator()<PmrPoolAdapter<Key, Value, Less>>();
  }
  throw std::logic_error("unknown container kind");
}

}  // namespace bench
