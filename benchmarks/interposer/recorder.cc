// The recorder (trace/ring.h), one observer of the interposer's forwarding layer (core.h): every
// call becomes a 32-byte RawEvent appended to a chunk its thread owns in the process's ring, a file
// both it and the trace writer map. Appending is a time-stamp read and a few stores; nothing is
// locked on the way, nothing is allocated, nothing is written to a file here: the writer, a process
// of its own, drains the chunks, encodes, compresses and writes the trace.
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <cstdlib>
#include <cstring>

#include "benchmarks/interposer/core.h"

extern "C" int bench_record_phase(const char* name);

namespace bench::interposer {
namespace {

using trace::ChunkSlot;
using trace::ChunkState;
using trace::EventKind;
using trace::RawEvent;
using trace::RingHeader;

RingHeader* g_ring = nullptr;
ChunkSlot* g_slots = nullptr;
RawEvent* g_chunks = nullptr;
std::atomic<bool> g_stopped{false};  // a thread waited kGiveUpNs for a chunk: recording is over
pthread_key_t g_thread_key;
pthread_once_t g_thread_once = PTHREAD_ONCE_INIT;

// This thread's chunk. All plain thread-local words (initial-exec: no allocation on first use).
struct ThreadRecord {
  ChunkSlot* slot;
  RawEvent* events;
  std::uint32_t used;
  std::uint32_t thread;  // 0 until the thread's first event
  std::uint32_t chunks;  // chunks it has taken
  bool exited;           // past its thread_exit event: each later event is handed over at once
  std::uint64_t count;   // events so far
};
thread_local ThreadRecord t_record __attribute__((tls_model("initial-exec"))) = {};

std::int64_t monotonic_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The unwinder's counts, copied where the writer reads them.
void publish_counts() {
  const UnwindCounts c = unwind_counts();
  g_ring->unwind_misses.store(c.misses, std::memory_order_relaxed);
  g_ring->unwind_checked.store(c.checked, std::memory_order_relaxed);
  g_ring->unwind_disagreed.store(c.disagreed, std::memory_order_relaxed);
  g_ring->one_frame_sites.store(c.one_frame, std::memory_order_relaxed);
}

void hand_over(ThreadRecord& r) {
  if (r.slot == nullptr) return;
  publish_counts();
  r.slot->used.store(r.used, std::memory_order_release);
  r.slot->state.store(static_cast<std::uint32_t>(ChunkState::ready), std::memory_order_release);
  r.slot = nullptr;
  r.events = nullptr;
}

// A free chunk for this thread; waits (counted) while the writer has fallen behind. False once
// recording has stopped.
bool take_chunk(ThreadRecord& r) {
  std::int64_t waited_since = 0;
  while (!g_stopped.load(std::memory_order_relaxed)) {
    // The lowest free chunk: the same few chunks serve while the writer keeps up, so the ring's
    // resident part stays small (the writer gives back the ones a burst used).
    for (std::uint32_t index = 0; index < trace::kChunks; ++index) {
      ChunkSlot& slot = g_slots[index];
      std::uint32_t expected = static_cast<std::uint32_t>(ChunkState::free);
      if (slot.state.load(std::memory_order_relaxed) != expected ||
          !slot.state.compare_exchange_strong(expected, static_cast<std::uint32_t>(ChunkState::filling), std::memory_order_acquire))
        continue;
      slot.thread = r.thread;
      slot.thread_seq = r.chunks++;
      slot.first_event = r.count;
      slot.used.store(0, std::memory_order_relaxed);
      r.slot = &slot;
      r.events = g_chunks + std::uint64_t{index} * trace::kEventsPerChunk;
      r.used = 0;
      if (waited_since != 0) {
        g_ring->waits.fetch_add(1, std::memory_order_relaxed);
        g_ring->wait_ns.fetch_add(static_cast<std::uint64_t>(monotonic_now() - waited_since), std::memory_order_relaxed);
      }
      return true;
    }
    // Every chunk is full or being filled: the writer is behind. Wait for it.
    const std::int64_t now = monotonic_now();
    if (waited_since == 0) waited_since = now;
    if (now - waited_since > trace::kGiveUpNs) g_stopped.store(true);
    const timespec pause{0, 100'000};
    ::nanosleep(&pause, nullptr);
  }
  return false;
}

void thread_ended(void*);

void make_thread_key() { ::pthread_key_create(&g_thread_key, thread_ended); }

void emit(EventKind kind, std::uint64_t address, std::uint64_t size, std::uint32_t site, std::uint8_t align_log2, std::uint16_t slack,
          std::uint64_t tsc);

void thread_ended(void*) {
  ThreadRecord& r = t_record;
  if (g_ring == nullptr || r.thread == 0) return;
  emit(EventKind::thread_exit, 0, 0, 0, 0, 0, __rdtsc());
  hand_over(r);
  r.exited = true;
}

void emit(EventKind kind, std::uint64_t address, std::uint64_t size, std::uint32_t site, std::uint8_t align_log2, std::uint16_t slack,
          std::uint64_t tsc) {
  if (g_ring == nullptr || g_stopped.load(std::memory_order_relaxed)) return;
  ThreadRecord& r = t_record;
  if (r.thread == 0) {  // this thread's first event
    r.thread = static_cast<std::uint32_t>(::syscall(SYS_gettid));
    ::pthread_once(&g_thread_once, make_thread_key);
    ::pthread_setspecific(g_thread_key, reinterpret_cast<void*>(1));  // thread_ended runs at its exit
    emit(EventKind::thread_start, 0, 0, 0, 0, 0, tsc);
  }
  if (r.events == nullptr || r.used == trace::kEventsPerChunk) {
    hand_over(r);
    if (!take_chunk(r)) {
      g_ring->dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  r.events[r.used] = {tsc, address, size, site, static_cast<std::uint8_t>(kind), align_log2, slack};
  ++r.used;
  ++r.count;
  r.slot->used.store(r.used, std::memory_order_release);  // the writer reads filling chunks too
  if (r.exited) hand_over(r);
}

std::uint8_t log2_of(std::size_t alignment) { return alignment <= 1 ? 0 : static_cast<std::uint8_t>(63 - __builtin_clzll(alignment)); }

// Maps a new ring <BENCH_RECORD_DIR>/<pid>.<n>.ring, n the first free number (a pid's later images
// after execve take the next). Returns null when it cannot (recording is then off for this process).
RingHeader* open_ring(std::uint32_t* exec_seq) {
  const char* directory = std::getenv("BENCH_RECORD_DIR");
  if (directory == nullptr || *directory == '\0') return nullptr;
  const std::size_t length = std::strlen(directory);
  if (length > 400) return nullptr;
  char path[512];
  int fd = -1;
  for (std::uint32_t n = 0; n < 1000 && fd < 0; ++n) {
    std::memcpy(path, directory, length);
    char* at = path + length;
    *at++ = '/';
    char digits[24];
    int count = 0;
    for (std::uint64_t v = static_cast<std::uint64_t>(::getpid());; v /= 10) {
      digits[count++] = static_cast<char>('0' + v % 10);
      if (v < 10) break;
    }
    while (count > 0) *at++ = digits[--count];
    *at++ = '.';
    for (std::uint64_t v = n;; v /= 10) {
      digits[count++] = static_cast<char>('0' + v % 10);
      if (v < 10) break;
    }
    while (count > 0) *at++ = digits[--count];
    std::memcpy(at, ".ring", 6);
    fd = ::open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) *exec_seq = n;
  }
  if (fd < 0) return nullptr;
  if (::ftruncate(fd, static_cast<off_t>(trace::ring_bytes())) != 0) {
    ::close(fd);
    return nullptr;
  }
  void* memory = ::mmap(nullptr, trace::ring_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  ::close(fd);
  return memory == MAP_FAILED ? nullptr : static_cast<RingHeader*>(memory);
}

// Fills a new ring's header; the magic last, so that the writer reads a whole header or none.
void start_ring(RingHeader* ring, std::uint32_t exec_seq) {
  ring->version = trace::kRingVersion;
  ring->chunk_bytes = trace::kChunkBytes;
  ring->chunks = trace::kChunks;
  ring->max_sites = trace::kMaxSites;
  ring->site_frames = trace::kSiteFrames;
  ring->pid = static_cast<std::int32_t>(::getpid());
  ring->parent = static_cast<std::int32_t>(::getppid());
  ring->exec_seq = exec_seq;
  ring->start_monotonic_ns = monotonic_now();
  ring->start_tsc = __rdtsc();
  const ssize_t n = ::readlink("/proc/self/exe", ring->executable, sizeof ring->executable - 1);
  ring->executable[n > 0 ? n : 0] = '\0';
  std::strncpy(ring->unwinder, unwinder_name(), sizeof ring->unwinder - 1);
  g_slots = reinterpret_cast<ChunkSlot*>(reinterpret_cast<char*>(ring) + trace::ring_chunk_slots_offset());
  g_chunks = reinterpret_cast<RawEvent*>(reinterpret_cast<char*>(ring) + trace::ring_chunks_offset());
  g_ring = ring;
  for_each_own_region(recorder_note_region);
  std::atomic_thread_fence(std::memory_order_release);
  reinterpret_cast<std::atomic<std::uint64_t>*>(&ring->magic)->store(trace::kRingMagic, std::memory_order_release);
}

trace::Site* sites_of(RingHeader* ring) {
  return reinterpret_cast<trace::Site*>(reinterpret_cast<char*>(ring) + trace::ring_sites_offset());
}

}  // namespace

void recorder_start() {
  std::uint32_t seq = 0;
  RingHeader* ring = open_ring(&seq);
  if (ring == nullptr) {
    g_on.record = false;
    return;
  }
  place_sites(sites_of(ring), &ring->sites_published);
  start_ring(ring, seq);
}

void recorder_after_fork() {
  // The ring is shared with the parent: the child takes one of its own, with the sites so far (the
  // stack caches name them), and forgets the chunk its thread was filling (the parent's).
  RingHeader* parent = g_ring;
  g_ring = nullptr;
  t_record = {};
  std::uint32_t seq = 0;
  RingHeader* ring = open_ring(&seq);
  if (ring == nullptr) {
    g_on.record = false;
    return;
  }
  const std::uint32_t sites = parent->sites_published.load();
  std::memcpy(sites_of(ring), sites_of(parent), sizeof(trace::Site) * sites);
  ring->sites_published.store(sites);
  place_sites(sites_of(ring), &ring->sites_published);
  start_ring(ring, seq);
  ::munmap(parent, trace::ring_bytes());
}

void recorder_added(EventKind kind, void* p, std::size_t size, std::size_t usable, std::size_t alignment, std::uint32_t site) {
  const std::uint64_t tsc = __rdtsc();  // after the allocator returned
  const std::size_t slack = usable >= size ? usable - size : 0;
  emit(kind, reinterpret_cast<std::uint64_t>(p), size, site, log2_of(alignment),
       slack > 0xffff ? 0xffff : static_cast<std::uint16_t>(slack), tsc);
}

void recorder_removed(EventKind kind, void* p) { emit(kind, reinterpret_cast<std::uint64_t>(p), 0, 0, 0, 0, __rdtsc()); }

void recorder_control(EventKind kind, std::uint64_t address, std::uint64_t size, std::uint32_t site) {
  Busy busy;
  emit(kind, address, size, site, 0, 0, __rdtsc());
}

void recorder_note_region(std::uintptr_t start, std::uintptr_t end) {
  if (g_ring == nullptr) return;
  const std::uint32_t i = g_ring->own_region_count.load(std::memory_order_relaxed);
  for (std::uint32_t k = 0; k < i && k < 64; ++k)
    if (g_ring->own_regions[k].start == start) {
      g_ring->own_regions[k].end = end;
      return;
    }
  if (i >= 64) return;
  g_ring->own_regions[i].start = start;
  g_ring->own_regions[i].end = end;
  g_ring->own_region_count.store(i + 1, std::memory_order_release);
}

void recorder_forget_region(std::uintptr_t start) {
  if (g_ring == nullptr) return;
  for (std::uint32_t k = 0; k < g_ring->own_region_count.load() && k < 64; ++k)
    if (g_ring->own_regions[k].start == start) g_ring->own_regions[k].end = start;  // empty: nothing left out
}

void recorder_at_exit() {
  if (g_ring == nullptr) return;
  const char* at_exit = std::getenv("BENCH_RECORD_AT_EXIT");
  if (at_exit != nullptr && std::strcmp(at_exit, "1") == 0) bench_record_phase("exit");  // a program's last moment, read from outside
  hand_over(t_record);
  publish_counts();
  g_ring->ended.store(1, std::memory_order_release);  // the writer now drains the chunks still filling, too
}

}  // namespace bench::interposer

// A named moment of a workload's (the child's phases): an event of the recording. 0, or -1 when the
// process is not recorded or the names are full.
extern "C" __attribute__((visibility("default"))) int bench_record_phase(const char* name) {
  using namespace bench::interposer;
  if (g_ring == nullptr) return -1;
  const std::size_t length = std::strlen(name) + 1;
  const std::uint32_t at = g_ring->names_bytes.fetch_add(static_cast<std::uint32_t>(length));
  if (at + length > sizeof g_ring->names) return -1;
  std::memcpy(g_ring->names + at, name, length);
  recorder_control(bench::trace::EventKind::phase, 0, 0, at);
  // The writer reads the process's resident pages at this moment, from outside: wait for it (5 s at
  // most: a writer that is gone must not hold the workload).
  g_ring->snapshot_request.store(at + 1, std::memory_order_release);
  for (int i = 0; i < 50'000 && g_ring->snapshot_done.load(std::memory_order_acquire) != at + 1; ++i) {
    const timespec pause{0, 100'000};
    ::nanosleep(&pause, nullptr);
  }
  return 0;
}
