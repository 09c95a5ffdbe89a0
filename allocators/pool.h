// Node pool allocator for node-based containers (std::map and friends).
//
// Why it exists: glibc spends 64 B on every 56-byte std::map node of the workload (malloc.c:
// request2size adds the 8-byte size field and rounds to 16) and keeps them all after clear(). This
// pool spends 56 B per node and hands a chunk back to the OS the moment its last slot is freed, so
// clear() or destruction of the map returns everything without any call by the user.
//
// Alignment: every pointer returned is aligned to the alignment asked for (alignof(T) through the
// allocator). Pool slots are aligned to max(alignof(T), alignof(void*)), deliberately not to
// alignof(std::max_align_t); see NodePool::slot_alignment_for().
//
// Layers, bottom up:
//   NodePool         fixed-size slots carved from chunk-aligned chunks mapped with mmap.
//   PoolResource     one NodePool per slot geometry asked of it, plus a fallback for the rest.
//   PoolAllocator<T> stateful C++ allocator sharing one PoolResource among its copies and rebinds.
//
// Thread safety: none. One container, one thread. Distinct resources may be used from distinct
// threads; allocator copies sharing a resource (including their reference count) may not.

#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>

#if defined(__SANITIZE_ADDRESS__)
#define POOL_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ADDRESS_SANITIZER 1
#endif
#endif
#if defined(POOL_ADDRESS_SANITIZER)
#include <sanitizer/asan_interface.h>
#endif

namespace pool {

// Bytes per chunk unless a caller says otherwise. Measured with 1M and 5M map nodes: 64 KiB to 2 MiB
// insert, look up and clear at the same rate (±5 %). The benchmark uses 2 MiB chunks
// (allocators/containers.h), which use_huge_pages can back with one transparent huge page each; what
// that gains is measured, not assumed (pool-thp against pool: +0.2 % insert in
// results/seed-scale-5M-v2, within the noise). 1 MiB keeps a small map's last, partly used chunk
// small when huge pages are not asked for.
inline constexpr std::size_t kDefaultChunkBytes = std::size_t{1} << 20;

// PoolResource pools single objects up to this size; larger ones go to the fallback. Keeps at
// least three slots per chunk even at the smallest chunk (one 4 KiB page).
inline constexpr std::size_t kMaxPooledObjectBytes = 1024;

// PoolResource pools objects aligned up to this; over-aligned types go to the fallback.
inline constexpr std::size_t kMaxPooledAlignment = alignof(std::max_align_t);

// Distinct slot geometries one PoolResource pools. std::map needs one (its node); the rest absorb
// other rebinds. Once all are taken, new geometries go to the fallback for the resource's life.
inline constexpr std::size_t kMaxPoolsPerResource = 4;

struct PoolOptions {
  // Size of each chunk mapped from the OS, and its alignment. Power of two, >= the page size.
  std::size_t chunk_bytes = kDefaultChunkBytes;
  // madvise(MADV_HUGEPAGE) on every chunk. Effective only for chunk_bytes >= 2 MiB (the x86-64
  // PMD size) and when /sys/kernel/mm/transparent_hugepage/enabled is not "never".
  bool use_huge_pages = false;
};

namespace detail {

// AddressSanitizer does not know about memory we carve from mmap; poisoning free slots lets the
// sanitized test build catch use-after-free and overflows into neighbouring slots.
#if defined(POOL_ADDRESS_SANITIZER)
inline void poison(const void* p, std::size_t n) noexcept { __asan_poison_memory_region(p, n); }
inline void unpoison(const void* p, std::size_t n) noexcept { __asan_unpoison_memory_region(p, n); }
#else
inline void poison(const void*, std::size_t) noexcept {}
inline void unpoison(const void*, std::size_t) noexcept {}
#endif

constexpr bool is_power_of_two(std::size_t x) noexcept { return x != 0 && (x & (x - 1)) == 0; }

// Precondition: align is a power of two.
constexpr std::size_t round_up(std::size_t x, std::size_t align) noexcept { return (x + align - 1) & ~(align - 1); }

inline std::size_t page_bytes() noexcept {
  static const std::size_t bytes = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return bytes;
}

inline void validate_options(const PoolOptions& options) {
  if (!is_power_of_two(options.chunk_bytes) || options.chunk_bytes < page_bytes()) {
    throw std::invalid_argument("pool: chunk_bytes must be a power of two >= the page size");
  }
}

}  // namespace detail

// Fixed-size slots carved from chunks of options.chunk_bytes, each aligned to its own size so that
// deallocate() finds the chunk header by masking the pointer. No per-slot header: a slot costs
// exactly slot_bytes(). Chunk layout: [ChunkHeader | padding to slot alignment | slot 0 | slot 1 …].
// A chunk is handed out slot by slot from a bump pointer (pages are touched only when used), freed
// slots go to the chunk's own free list, and the chunk is unmapped as soon as its last slot is freed.
//
// Chunks live on one doubly linked list with every chunk that has a free slot ahead of every full
// chunk, so allocate() looks only at the head.
//
// Trade-off: a workload that keeps allocating and freeing one slot across a chunk boundary maps and
// unmaps a chunk each time. The target workload (fill a map, clear it) never does.
class NodePool {
 public:
  // Slot geometry for an object of object_bytes / object_align: slots hold a free-list link when
  // free, so they are at least pointer-sized and pointer-aligned; otherwise they are aligned to the
  // object's own alignment, not to alignof(std::max_align_t): rounding a 56-byte std::map node up
  // to 16 would cost 64 B, what glibc spends.
  static constexpr std::size_t slot_alignment_for(std::size_t object_align) noexcept {
    return object_align > alignof(FreeSlot) ? object_align : alignof(FreeSlot);
  }
  static constexpr std::size_t slot_bytes_for(std::size_t object_bytes, std::size_t object_align) noexcept {
    const std::size_t at_least = object_bytes > sizeof(FreeSlot) ? object_bytes : sizeof(FreeSlot);
    return detail::round_up(at_least, slot_alignment_for(object_align));
  }

  // Throws std::invalid_argument unless object_bytes > 0, object_align is a power of two no larger
  // than the page size, options.chunk_bytes is a power of two >= the page size, and at least one
  // slot fits in a chunk after its header. Maps nothing until the first allocate().
  NodePool(std::size_t object_bytes, std::size_t object_align, PoolOptions options = {})
      : slot_bytes_(slot_bytes_for(object_bytes, object_align)),
        slot_alignment_(slot_alignment_for(object_align)),
        chunk_bytes_(options.chunk_bytes),
        use_huge_pages_(options.use_huge_pages) {
    detail::validate_options(options);
    if (object_bytes == 0 || !detail::is_power_of_two(object_align) || object_align > detail::page_bytes()) {
      throw std::invalid_argument("pool: object size must be > 0, alignment a power of two");
    }
    slots_offset_ = detail::round_up(sizeof(ChunkHeader), slot_alignment_);
    if (slots_offset_ >= chunk_bytes_ || (chunk_bytes_ - slots_offset_) / slot_bytes_ == 0) {
      throw std::invalid_argument("pool: chunk_bytes too small for one slot");
    }
    slots_per_chunk_ = (chunk_bytes_ - slots_offset_) / slot_bytes_;
    slots_end_offset_ = slots_offset_ + slots_per_chunk_ * slot_bytes_;
  }

  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;

  // Unmaps every chunk, including chunks that still hold live slots (those pointers dangle).
  ~NodePool() {
    while (head_ != nullptr) {
      ChunkHeader* chunk = head_;
      head_ = chunk->next;
      detail::unpoison(chunk, chunk_bytes_);
      ::munmap(chunk, chunk_bytes_);
    }
  }

  // Returns an uninitialized slot of slot_bytes() bytes aligned to slot_alignment(). O(1); makes a
  // system call only when every mapped chunk is full. Throws std::bad_alloc if mmap fails.
  [[nodiscard]] void* allocate() {
    ChunkHeader* chunk = head_;
    if (chunk == nullptr || is_full(chunk)) chunk = map_chunk();
    void* slot;
    if (chunk->free_list != nullptr) {
      FreeSlot* free_slot = chunk->free_list;
      detail::unpoison(free_slot, slot_bytes_);
      chunk->free_list = free_slot->next;
      slot = free_slot;
    } else {
      slot = chunk->bump;
      chunk->bump += slot_bytes_;
      detail::unpoison(slot, slot_bytes_);
    }
    ++chunk->live;
    ++live_slots_;
    if (is_full(chunk) && chunk->next != nullptr) {
      unlink(chunk);
      push_back(chunk);
    }
    return slot;
  }

  // Precondition: p came from allocate() on this pool and has not been deallocated since.
  // O(1); makes a system call only when p's chunk becomes wholly free, and then unmaps it.
  void deallocate(void* p) noexcept {
    ChunkHeader* chunk = chunk_of(p);
    assert(is_slot_of(chunk, p));
    assert(chunk->live > 0);
    const bool was_full = is_full(chunk);
    chunk->free_list = ::new (p) FreeSlot{chunk->free_list};
    detail::poison(p, slot_bytes_);
    --chunk->live;
    --live_slots_;
    if (chunk->live == 0) {
      release_chunk(chunk);
    } else if (was_full && chunk != head_) {
      unlink(chunk);
      push_front(chunk);
    }
  }

  std::size_t slot_bytes() const noexcept { return slot_bytes_; }
  std::size_t slot_alignment() const noexcept { return slot_alignment_; }
  std::size_t chunk_bytes() const noexcept { return chunk_bytes_; }
  std::size_t slots_per_chunk() const noexcept { return slots_per_chunk_; }
  // Chunks currently mapped. Every mapped chunk holds at least one live slot (barring the rare
  // munmap failure described at release_chunk()).
  std::size_t chunks_mapped() const noexcept { return chunks_mapped_; }
  std::size_t bytes_mapped() const noexcept { return chunks_mapped_ * chunk_bytes_; }
  std::size_t live_slots() const noexcept { return live_slots_; }
  std::size_t chunks_released_total() const noexcept { return chunks_released_total_; }

 private:
  struct FreeSlot {
    FreeSlot* next;
  };

  struct ChunkHeader {
    ChunkHeader* prev;
    ChunkHeader* next;
    FreeSlot* free_list;  // slots freed since the chunk was mapped
    std::byte* bump;      // first never-used slot; == slots end when all were handed out once
    std::size_t live;     // slots handed out and not yet freed
  };

  ChunkHeader* chunk_of(const void* p) const noexcept {
    const auto address = reinterpret_cast<std::uintptr_t>(p);
    return reinterpret_cast<ChunkHeader*>(address & ~(std::uintptr_t{chunk_bytes_} - 1));
  }

  std::byte* slots_begin(ChunkHeader* chunk) const noexcept { return reinterpret_cast<std::byte*>(chunk) + slots_offset_; }
  std::byte* slots_end(ChunkHeader* chunk) const noexcept { return reinterpret_cast<std::byte*>(chunk) + slots_end_offset_; }

  bool is_full(ChunkHeader* chunk) const noexcept { return chunk->free_list == nullptr && chunk->bump == slots_end(chunk); }

  bool is_slot_of(ChunkHeader* chunk, const void* p) const noexcept {
    const auto* byte = static_cast<const std::byte*>(p);
    return byte >= slots_begin(chunk) && byte < chunk->bump && static_cast<std::size_t>(byte - slots_begin(chunk)) % slot_bytes_ == 0;
  }

  // Maps chunk_bytes_ aligned to chunk_bytes_. mmap returns page-aligned memory, so first try an
  // exact mapping (Linux places consecutive anonymous mappings next to each other, top down, so
  // after the first chunk this usually lands aligned); otherwise map twice the size and trim.
  void* map_aligned() {
    const std::uintptr_t mask = std::uintptr_t{chunk_bytes_} - 1;
    void* p = ::mmap(nullptr, chunk_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    if ((reinterpret_cast<std::uintptr_t>(p) & mask) == 0) return p;
    ::munmap(p, chunk_bytes_);

    const std::size_t span = 2 * chunk_bytes_;
    p = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    const auto raw = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t aligned = (raw + mask) & ~mask;
    const std::size_t head = aligned - raw;
    const std::size_t tail = span - head - chunk_bytes_;
    if (head != 0) ::munmap(p, head);
    if (tail != 0) ::munmap(reinterpret_cast<void*>(aligned + chunk_bytes_), tail);
    return reinterpret_cast<void*>(aligned);
  }

  ChunkHeader* map_chunk() {
    void* memory = map_aligned();
    if (use_huge_pages_) ::madvise(memory, chunk_bytes_, MADV_HUGEPAGE);  // advisory: ignore errors
    ChunkHeader* chunk = init_chunk(memory);
    ++chunks_mapped_;
    return chunk;
  }

  ChunkHeader* init_chunk(void* memory) noexcept {
    auto* chunk = ::new (memory) ChunkHeader{nullptr, nullptr, nullptr, nullptr, 0};
    chunk->bump = slots_begin(chunk);
    detail::poison(slots_begin(chunk), slots_end_offset_ - slots_offset_);
    push_front(chunk);
    return chunk;
  }

  // munmap can fail with ENOMEM when unmapping the middle of a merged mapping would exceed
  // vm.max_map_count. The pages are then still returned with MADV_DONTNEED and the chunk stays
  // mapped as an empty chunk, first in line for reuse.
  void release_chunk(ChunkHeader* chunk) noexcept {
    unlink(chunk);
    detail::unpoison(chunk, chunk_bytes_);
    if (::munmap(chunk, chunk_bytes_) == 0) {
      --chunks_mapped_;
      ++chunks_released_total_;
      return;
    }
    ::madvise(chunk, chunk_bytes_, MADV_DONTNEED);
    init_chunk(chunk);
  }

  void unlink(ChunkHeader* chunk) noexcept {
    if (chunk->prev != nullptr) {
      chunk->prev->next = chunk->next;
    } else {
      head_ = chunk->next;
    }
    if (chunk->next != nullptr) {
      chunk->next->prev = chunk->prev;
    } else {
      tail_ = chunk->prev;
    }
    chunk->prev = chunk->next = nullptr;
  }

  void push_front(ChunkHeader* chunk) noexcept {
    chunk->prev = nullptr;
    chunk->next = head_;
    if (head_ != nullptr) {
      head_->prev = chunk;
    } else {
      tail_ = chunk;
    }
    head_ = chunk;
  }

  void push_back(ChunkHeader* chunk) noexcept {
    chunk->next = nullptr;
    chunk->prev = tail_;
    if (tail_ != nullptr) {
      tail_->next = chunk;
    } else {
      head_ = chunk;
    }
    tail_ = chunk;
  }

  std::size_t slot_bytes_;
  std::size_t slot_alignment_;
  std::size_t chunk_bytes_;
  bool use_huge_pages_;
  std::size_t slots_offset_ = 0;
  std::size_t slots_end_offset_ = 0;
  std::size_t slots_per_chunk_ = 0;
  ChunkHeader* head_ = nullptr;  // chunks with a free slot come before full chunks
  ChunkHeader* tail_ = nullptr;
  std::size_t chunks_mapped_ = 0;
  std::size_t live_slots_ = 0;
  std::size_t chunks_released_total_ = 0;
};

// Counters of one PoolResource, summed over its pools.
struct ResourceStats {
  std::size_t chunks_mapped = 0;
  std::size_t bytes_mapped = 0;
  std::size_t live_slots = 0;
  std::size_t live_slot_bytes = 0;  // live slots × their slot size: the payload of bytes_mapped
  std::size_t chunks_released_total = 0;
  std::size_t pools = 0;
  std::size_t fallback_bytes_outstanding = 0;  // from ::operator new, not yet deleted
  std::size_t fallback_blocks_outstanding = 0;
};

template <class T>
class PoolAllocator;

// Serves single objects (count == 1) of up to kMaxPooledObjectBytes and kMaxPooledAlignment from a
// NodePool per slot geometry, created on first use (at most kMaxPoolsPerResource). Everything
// else (arrays, bigger or over-aligned objects, geometries beyond the pool limit) goes to the
// fallback: ::operator new / ::operator delete, aligned when the alignment needs it. Which of the
// two serves a given (object_bytes, object_align, count) never changes over the resource's life,
// so deallocate() routes exactly as allocate() did.
//
// Destruction unmaps every pool chunk. Fallback blocks are not tracked: any still outstanding
// leak (a container frees all its memory before its allocator goes away, so none are).
class PoolResource {
 public:
  explicit PoolResource(PoolOptions options = {}) : options_(options) { detail::validate_options(options_); }

  PoolResource(const PoolResource&) = delete;
  PoolResource& operator=(const PoolResource&) = delete;

  // Returns memory for count objects of object_bytes each, aligned to object_align (a power of
  // two). Throws std::bad_alloc. Precondition: count * object_bytes does not overflow.
  [[nodiscard]] void* allocate(std::size_t object_bytes, std::size_t object_align, std::size_t count) {
    if (NodePool* node_pool = pool_for(object_bytes, object_align, count)) {
      return node_pool->allocate();
    }
    const std::size_t bytes = count * object_bytes;
    void* p =
        object_align > __STDCPP_DEFAULT_NEW_ALIGNMENT__ ? ::operator new (bytes, std::align_val_t{object_align}) : ::operator new(bytes);
    fallback_bytes_outstanding_ += bytes;
    ++fallback_blocks_outstanding_;
    return p;
  }

  // Precondition: p came from allocate() with the same arguments and was not deallocated since.
  void deallocate(void* p, std::size_t object_bytes, std::size_t object_align, std::size_t count) noexcept {
    if (NodePool* node_pool = find_pool(object_bytes, object_align, count)) {
      node_pool->deallocate(p);
      return;
    }
    // Unsized forms: Clang provides the sized ones only with -fsized-deallocation.
    if (object_align > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      ::operator delete (p, std::align_val_t{object_align});
    } else {
      ::operator delete(p);
    }
    fallback_bytes_outstanding_ -= count * object_bytes;
    --fallback_blocks_outstanding_;
  }

  // The pool serving single objects of this size and alignment, or nullptr if none does (yet).
  const NodePool* pool(std::size_t object_bytes, std::size_t object_align) const noexcept {
    const std::size_t i = pool_index(object_bytes, object_align, 1);
    return i < pool_count_ ? &*pools_[i] : nullptr;
  }

  ResourceStats stats() const noexcept {
    ResourceStats s;
    for (std::size_t i = 0; i < pool_count_; ++i) {
      const NodePool& p = *pools_[i];
      s.chunks_mapped += p.chunks_mapped();
      s.bytes_mapped += p.bytes_mapped();
      s.live_slots += p.live_slots();
      s.live_slot_bytes += p.live_slots() * p.slot_bytes();
      s.chunks_released_total += p.chunks_released_total();
    }
    s.pools = pool_count_;
    s.fallback_bytes_outstanding = fallback_bytes_outstanding_;
    s.fallback_blocks_outstanding = fallback_blocks_outstanding_;
    return s;
  }

  const PoolOptions& options() const noexcept { return options_; }

 private:
  template <class>
  friend class PoolAllocator;

  static constexpr bool poolable(std::size_t object_bytes, std::size_t object_align, std::size_t count) noexcept {
    return count == 1 && object_bytes <= kMaxPooledObjectBytes && object_align <= kMaxPooledAlignment;
  }

  // Index of the pool serving these arguments, or pool_count_ if none does.
  std::size_t pool_index(std::size_t object_bytes, std::size_t object_align, std::size_t count) const noexcept {
    if (!poolable(object_bytes, object_align, count)) return pool_count_;
    const std::size_t slot_bytes = NodePool::slot_bytes_for(object_bytes, object_align);
    const std::size_t slot_alignment = NodePool::slot_alignment_for(object_align);
    std::size_t i = 0;
    while (i < pool_count_ && (pools_[i]->slot_bytes() != slot_bytes || pools_[i]->slot_alignment() != slot_alignment)) {
      ++i;
    }
    return i;
  }

  NodePool* find_pool(std::size_t object_bytes, std::size_t object_align, std::size_t count) noexcept {
    const std::size_t i = pool_index(object_bytes, object_align, count);
    return i < pool_count_ ? &*pools_[i] : nullptr;
  }

  NodePool* pool_for(std::size_t object_bytes, std::size_t object_align, std::size_t count) {
    if (NodePool* found = find_pool(object_bytes, object_align, count)) return found;
    if (!poolable(object_bytes, object_align, count) || pool_count_ == kMaxPoolsPerResource) {
      return nullptr;
    }
    return &pools_[pool_count_++].emplace(object_bytes, object_align, options_);
  }

  PoolOptions options_;
  std::array<std::optional<NodePool>, kMaxPoolsPerResource> pools_;
  std::size_t pool_count_ = 0;
  std::size_t fallback_bytes_outstanding_ = 0;
  std::size_t fallback_blocks_outstanding_ = 0;
  // Owners among PoolAllocator copies. An intrusive, non-atomic count rather than std::shared_ptr:
  // the allocator stays one pointer wide, copies and rebinds (which containers make freely) cost a
  // plain increment instead of an atomic one, and there is no separate control block — all
  // consistent with the resource being single-threaded anyway.
  std::size_t owners_ = 0;
};

// Stateful allocator over a shared PoolResource. Copies and rebinds share the resource; the last
// one destroyed deletes it, unmapping every chunk.
//
// Container propagation, chosen so that each container owns its pool and its nodes stay valid:
// - copy construction (select_on_container_copy_construction): the copy gets a fresh resource with
//   the same options. Two maps never interleave nodes in one chunk, so clearing either one
//   releases its chunks.
// - copy assignment: not propagated, for the same reason; the target copies elements into its own
//   pool.
// - move assignment: propagated. The target adopts the source's resource along with its nodes in
//   O(1); nothing is reallocated and pointers to elements stay valid.
// - swap: propagated. Swapping containers with unequal, non-propagating allocators is undefined.
// - move construction of the allocator copies it: the moved-from container keeps a working
//   resource (the standard requires moved-from containers to stay usable).
template <class T>
class PoolAllocator {
 public:
  using value_type = T;
  using propagate_on_container_copy_assignment = std::false_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  using is_always_equal = std::false_type;

  template <class U>
  struct rebind {
    using other = PoolAllocator<U>;
  };

  // A fresh resource with default options: `std::map<K, V, Less, PoolAllocator<…>> m;` just works.
  PoolAllocator() : PoolAllocator(PoolOptions{}) {}

  // A fresh resource with the given options. Throws std::invalid_argument for bad options.
  explicit PoolAllocator(PoolOptions options) : resource_(new PoolResource(options)) { resource_->owners_ = 1; }

  PoolAllocator(const PoolAllocator& other) noexcept : resource_(other.resource_) { ++resource_->owners_; }

  template <class U>
  PoolAllocator(const PoolAllocator<U>& other) noexcept : resource_(other.resource_) {
    ++resource_->owners_;
  }

  PoolAllocator& operator=(const PoolAllocator& other) noexcept {
    ++other.resource_->owners_;  // first, so that self-assignment keeps the resource alive
    drop();
    resource_ = other.resource_;
    return *this;
  }

  ~PoolAllocator() { drop(); }

  [[nodiscard]] T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(resource_->allocate(sizeof(T), alignof(T), n));
  }

  void deallocate(T* p, std::size_t n) noexcept { resource_->deallocate(p, sizeof(T), alignof(T), n); }

  PoolAllocator select_on_container_copy_construction() const { return PoolAllocator(resource_->options()); }

  PoolResource& resource() const noexcept { return *resource_; }

 private:
  template <class>
  friend class PoolAllocator;

  void drop() noexcept {
    if (--resource_->owners_ == 0) destroy(resource_);
  }

  // Out of line so that GCC 12 does not see the delete next to the decrement: its
  // -Wuse-after-free cannot reason about reference counts and warns falsely (GCC PR 106776).
  [[gnu::noinline, gnu::cold]] static void destroy(PoolResource* resource) noexcept { delete resource; }

  PoolResource* resource_;  // never null
};

// Equal iff they share a resource, i.e. each can free what the other allocated.
template <class T, class U>
bool operator==(const PoolAllocator<T>& a, const PoolAllocator<U>& b) noexcept {
  return &a.resource() == &b.resource();
}

template <class T>
ResourceStats stats(const PoolAllocator<T>& allocator) noexcept {
  return allocator.resource().stats();
}

}  // namespace pool
