// The recording's transport: a file every recorded process maps (MAP_SHARED) and the trace writer
// (trace/writer.h), a process of its own, maps too. The recorder in the process (interposer/
// recorder.cc) only fills it; the writer drains it, encodes, compresses and writes the trace file,
// and hands the drained chunks back; a thread takes the lowest free chunk, so what a recorded
// process holds for the recorder is the chunks its longest burst used (record_ring_bytes).
//
// Layout (every offset a multiple of 4096):
//
//   RingHeader                       one page: what the process is, counters, the publication words
//   ChunkSlot[kChunks]               one per chunk: who fills it, how far, and whether it is ready
//   chunk data[kChunks][kChunkBytes] RawEvent records, filled by one thread at a time
//   Site[kMaxSites]                  the allocation sites, appended under a lock, published by count
//
// A thread takes a free chunk (state free -> filling, a CAS), appends RawEvents to it, bumping
// `used` after each (a release store: the writer may read a filling chunk of a process that is
// gone), and hands it over when full, when the thread exits, and when the process exits (state
// ready, with a per-thread sequence number). When no chunk is free the thread waits (the writer
// has fallen behind): the waits and their time are counted in the header and reported.
//
// Contract with the writer: a chunk in state `ready` belongs to the writer until it sets it `free`;
// a site whose index is below `sites_published` is complete; `ended` is set when the process
// reached its exit (a process killed by SIGKILL never sets it: the writer then drains what the
// chunks hold, filling ones too, and marks the trace cut short).
#pragma once

#include <atomic>
#include <cstdint>

namespace bench::trace {

inline constexpr std::uint64_t kRingMagic = 0x31474e4952435442ull;  // "BTCRING1"
inline constexpr std::uint32_t kRingVersion = 1;
inline constexpr std::uint32_t kChunkBytes = 64 * 1024;
inline constexpr std::uint32_t kChunks = 128;  // 8 MiB of chunks at most in flight: a burst the writer absorbs
inline constexpr std::uint32_t kSiteFrames = 6;
inline constexpr std::uint32_t kMaxSites = 1u << 20;
// A thread that waits this long for a free chunk stops recording (the writer is gone): the program
// is never held forever by its recorder.
inline constexpr std::int64_t kGiveUpNs = 30'000'000'000;

// What one event is. The kinds a program's calls make, and the ones the recorder adds.
enum class EventKind : std::uint8_t {
  malloc = 1,
  calloc = 2,
  realloc = 3,       // address: the new block (or 0 if it failed); size: the size asked for
  realloc_free = 4,  // the old block of a realloc, stamped before it is forwarded
  free = 5,
  memalign = 6,       // memalign, posix_memalign, aligned_alloc, valloc, pvalloc: align_log2 set
  new_ = 7,           // operator new (and new[])
  delete_ = 8,        // operator delete (every form)
  new_aligned = 9,    // operator new with std::align_val_t: align_log2 set
  thread_start = 16,  // the first event of a thread
  thread_exit = 17,
  fork = 18,         // in the parent, after fork() returned: size = the child's pid
  exec = 19,         // execve() is about to replace the image (size: 0)
  malloc_trim = 20,  // size = pad; address = what it returned
  mallopt = 21,      // size = param; address = value (as unsigned); site = what it returned
  phase = 22,        // a named moment the workload reported (site: index of the name in `names`)
};

// Kinds that return a block, and kinds that end one.
constexpr bool is_allocation(EventKind k) {
  return k == EventKind::malloc || k == EventKind::calloc || k == EventKind::realloc || k == EventKind::memalign || k == EventKind::new_ ||
         k == EventKind::new_aligned;
}
constexpr bool is_free(EventKind k) { return k == EventKind::free || k == EventKind::delete_ || k == EventKind::realloc_free; }

// One event as the process writes it: 32 bytes, no pointers to chase.
struct RawEvent {
  std::uint64_t tsc;      // the CPU's time-stamp counter: invariant and shared by every CPU here
  std::uint64_t address;  // the block in (free, realloc_free) or out (allocations)
  std::uint64_t size;     // the size asked for (calloc: count * size), or the kind's own value
  std::uint32_t site;     // allocation site (index into the sites; 0: none)
  std::uint8_t kind;      // EventKind
  std::uint8_t align_log2;
  std::uint16_t slack;  // usable size - size, saturated at 0xffff (then unknown)
};
static_assert(sizeof(RawEvent) == 32);
inline constexpr std::uint32_t kEventsPerChunk = kChunkBytes / sizeof(RawEvent);

// A call site: the return addresses of the frames above the allocation function, innermost first.
struct Site {
  std::uint64_t frames[kSiteFrames];
  std::uint32_t depth;
  std::uint32_t reserved;
};
static_assert(sizeof(Site) == 56);

enum class ChunkState : std::uint32_t { free = 0, filling = 1, ready = 2 };

struct alignas(64) ChunkSlot {
  std::atomic<std::uint32_t> state;  // ChunkState
  std::atomic<std::uint32_t> used;   // events written
  std::uint32_t thread;              // the kernel's thread id of the writer thread
  std::uint32_t thread_seq;          // the thread's n-th chunk (its chunks are its events in order)
  std::uint64_t first_event;         // the thread's event number of the chunk's first event
};

struct alignas(4096) RingHeader {
  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t chunk_bytes, chunks, max_sites, site_frames;
  std::int32_t pid, parent;
  std::uint32_t exec_seq;   // which image of this pid (0: the first; after each execve, one more)
  std::uint64_t start_tsc;  // a calibration pair read together at the start
  std::int64_t start_monotonic_ns;
  char executable[512];  // /proc/self/exe at the start
  char unwinder[16];     // how sites were unwound ("cache", "libgcc", "fp")
  std::atomic<std::uint32_t> sites_published;
  std::atomic<std::uint32_t> ended;             // 1: the process reached exit (every chunk handed over)
  std::atomic<std::uint64_t> waits;             // times a thread found no free chunk
  std::atomic<std::uint64_t> wait_ns;           // how long threads waited for one
  std::atomic<std::uint64_t> events;            // events written
  std::atomic<std::uint64_t> unwind_misses;     // site lookups the stack cache could not answer
  std::atomic<std::uint64_t> unwind_checked;    // validation mode: sites compared with _Unwind_Backtrace's
  std::atomic<std::uint64_t> unwind_disagreed;  // ... and found different
  std::atomic<std::uint64_t> one_frame_sites;   // sites the unwinder found only one frame for
  std::atomic<std::uint64_t> dropped;           // events lost: the writer stayed away for kGiveUpNs
  std::atomic<std::uint32_t> names_bytes;       // bytes of `names` used
  char names[2048];                             // phase names, NUL-terminated, appended
  // A residency snapshot the process asks for itself (a workload's moment, bench_record_phase): it
  // stores the name's offset in `names` + 1 in snapshot_request and waits until the writer, having
  // read the process's pages from outside, stores the same value in snapshot_done.
  std::atomic<std::uint32_t> snapshot_request;
  std::atomic<std::uint32_t> snapshot_done;
  // The interposer's own anonymous memory (its tables, the stack caches): left out of residency.
  std::atomic<std::uint32_t> own_region_count;
  struct {
    std::uint64_t start, end;
  } own_regions[64];
};
static_assert(sizeof(RingHeader) == 4096);

inline constexpr std::uint64_t ring_chunk_slots_offset() { return sizeof(RingHeader); }
inline constexpr std::uint64_t ring_chunks_offset() {
  return (ring_chunk_slots_offset() + sizeof(ChunkSlot) * kChunks + 4095) / 4096 * 4096;
}
inline constexpr std::uint64_t ring_sites_offset() { return ring_chunks_offset() + std::uint64_t{kChunkBytes} * kChunks; }
inline constexpr std::uint64_t ring_bytes() { return ring_sites_offset() + sizeof(Site) * std::uint64_t{kMaxSites}; }

}  // namespace bench::trace
