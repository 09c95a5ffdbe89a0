// What the interposer's parts share inside a measured process (libbench_interposer.so): its own
// memory, the allocator behind it, the guards every entry point keeps, and the two observers the
// forwarding layer calls — the heap map (heap_map.cc) and the recorder (recorder.cc), each on only
// when its environment variable names a folder. Nothing here allocates from the allocator under test.
//
// Contracts every entry point keeps (interposer.cc):
//  - a call made while this thread is already inside the interposer (the unwinder, dlsym,
//    pthread_create calling malloc) is forwarded without being observed;
//  - a call the allocator behind makes back into an entry point (libstdc++'s operator new calling
//    malloc) is part of the one call observed;
//  - before the next allocator is resolved (dlsym itself may call calloc), requests are served from a
//    static bootstrap arena, whose blocks are never freed;
//  - a block is observed gone before it is freed, and new after it was returned: a new block at the
//    same address (another thread's) is never ordered before the free that made room for it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "benchmarks/trace/ring.h"

namespace bench::interposer {

// ---- memory of its own (left out of every heap-map class; the recorder's ring is a file mapping)
void* own_map(std::size_t bytes);
void own_unmap(void* p, std::size_t bytes);
bool is_own(std::uintptr_t address);
void for_each_own_region(void (*visit)(std::uintptr_t start, std::uintptr_t end));

// ---- the allocator behind, resolved once with dlsym(RTLD_NEXT)
struct Next {
  void* (*malloc)(std::size_t) = nullptr;
  void (*free)(void*) = nullptr;
  void* (*calloc)(std::size_t, std::size_t) = nullptr;
  void* (*realloc)(void*, std::size_t) = nullptr;
  int (*posix_memalign)(void**, std::size_t, std::size_t) = nullptr;
  void* (*memalign)(std::size_t, std::size_t) = nullptr;
  void* (*aligned_alloc)(std::size_t, std::size_t) = nullptr;
  void* (*valloc)(std::size_t) = nullptr;
  void* (*pvalloc)(std::size_t) = nullptr;
  std::size_t (*usable)(void*) = nullptr;
  int (*malloc_trim)(std::size_t) = nullptr;
  int (*mallopt)(int, int) = nullptr;
  int (*fork)() = nullptr;
  void* (*new_)(std::size_t) = nullptr;
  void* (*new_array)(std::size_t) = nullptr;
  void* (*new_aligned)(std::size_t, std::align_val_t) = nullptr;
  void* (*new_array_aligned)(std::size_t, std::align_val_t) = nullptr;
  void (*delete_)(void*) = nullptr;
  void (*delete_array)(void*) = nullptr;
  void (*delete_aligned)(void*, std::align_val_t) = nullptr;
  void (*delete_array_aligned)(void*, std::align_val_t) = nullptr;
};
extern Next g_next;

// write(2) until done; 0, or -1 on an error.
int write_all(int fd, const char* data, std::size_t length);
extern char g_next_malloc_path[512], g_next_new_path[512];
// True once the allocator behind is resolved (resolves it on the first call).
bool ready();

// ---- this thread's guards
// Inside the interposer: calls are forwarded, not observed.
extern thread_local bool t_busy __attribute__((tls_model("initial-exec")));
// Inside a call forwarded to the allocator behind: what it calls back is part of that call.
extern thread_local bool t_forwarding __attribute__((tls_model("initial-exec")));
struct Busy {
  bool was;
  Busy() : was(t_busy) { t_busy = true; }
  ~Busy() { t_busy = was; }
};

// ---- where a call came from: the return address into the caller and the caller's stack pointer at
// the call (the entry point's canonical frame address). Taken in the entry point itself.
struct Caller {
  std::uintptr_t ip, sp;
};
#define BENCH_CALLER()                                                                                                               \
  ::bench::interposer::Caller {                                                                                                      \
    reinterpret_cast<std::uintptr_t>(__builtin_return_address(0)), reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)) + 16 \
  }

// ---- allocation sites (sites.cc): interned stacks of up to trace::kSiteFrames return addresses
// The site of the current call (0 when it cannot be unwound); frames are looked up through the
// stack cache, the unwinder's own choice (BENCH_RECORD_UNWIND: cache, libgcc, fp).
std::uint32_t site_of(const Caller& caller);
const trace::Site& site_at(std::uint32_t index);
std::uint32_t site_count();
// Where the site table lives: the recorder's ring when it records (its sites are published there),
// else memory of its own. Called once, before the first site is interned.
void place_sites(trace::Site* table, std::atomic<std::uint32_t>* published);
const char* unwinder_name();
struct UnwindCounts {
  std::uint64_t misses, checked, disagreed, one_frame;
};
UnwindCounts unwind_counts();

// ---- the observers: each a no-op unless it is on
struct Observer {
  bool heap_map = false;  // BENCH_HEAPMAP_DIR
  bool record = false;    // BENCH_RECORD_DIR
  bool sites() const { return heap_map || record; }
};
extern Observer g_on;

// The heap map (heap_map.cc).
void heap_map_start();
void heap_map_after_fork();
// `started_ns` (heap_map_clock()) is when the layer began observing the call: what keeping the map
// costs a call (heap_record_ns) counts the unwinding too.
std::uint64_t heap_map_clock();
void heap_map_added(void* p, std::size_t usable, std::uint32_t site, std::uint64_t started_ns);
void heap_map_removed(void* p, std::uint64_t started_ns);
void heap_map_at_exit();

// The recorder (recorder.cc).
void recorder_start();
void recorder_after_fork();
void recorder_added(trace::EventKind kind, void* p, std::size_t size, std::size_t usable, std::size_t alignment, std::uint32_t site);
void recorder_removed(trace::EventKind kind, void* p);
void recorder_control(trace::EventKind kind, std::uint64_t address, std::uint64_t size, std::uint32_t site);
void recorder_at_exit();
void recorder_note_region(std::uintptr_t start, std::uintptr_t end);  // own memory, left out of residency
void recorder_forget_region(std::uintptr_t start);

}  // namespace bench::interposer
