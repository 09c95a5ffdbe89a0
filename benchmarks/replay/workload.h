// The replay workload file (`<pid>.<image>.workload`): what the converter (converter.h) makes of one
// recorded process image's trace (benchmarks/trace/format.h), and all the replayer (replayer.h)
// reads. Versioned; the header and every chunk checksummed; written under a temporary name and
// renamed when whole, so a file of this name is complete or absent.
//
//   file header  "BNCHRPL\n" (8 bytes), version (u32), text length (u32), CRC-32 of the text (u32),
//                then the text: `key value` lines — source (the trace's path), pid, parent, image,
//                executable, origin_ns (the recording's CLOCK_MONOTONIC ns that is time 0 of every
//                stream), converter (the version of the converter's rules)
//   chunks       each: magic "RCHK" (u32), type (u8), 3 bytes 0, stream (u32), ops (u32), payload
//                length (u32), CRC-32 of the payload (u32), the payload
//       ops      type 1: consecutive ops of one stream; a stream's chunks, in file order, are its ops
//                in order; no op straddles two chunks
//       summary  type 2: the last chunk, exactly one: text, `key value` lines (the counts of the
//                Summary below and of Anomalies, by their names), then one line per stream
//                `stream <index> <thread> <ops> <calls> <ended>` and one per phase name
//                `name <id> <text>`; a file without it is not a workload (the converter did not
//                finish)
//
// Streams. Stream 0 is the timeline: it holds the recording's phases and the starts of the threads.
// Streams 1.. are the recorded threads, one each (a thread id the kernel reused is a new stream).
// A stream's ops run in order in one replay thread (replayer.h says which runs in the caller's).
//
// Op encoding: a byte — kind (bits 0-3), bit 4 set when a sync list follows, bits 5-7 the
// microseconds since the stream's previous op (0-6; 7: a varint follows with them) — then the
// varint microseconds if bits 5-7 are 7, the sync list if bit 4 is set (varint n, then n pairs
// varint stream, varint count), then the kind's fields. Varints are LEB128 (format.h); a slot is a
// zigzag varint delta from the stream's previous slot. A stream's first op's microseconds count from
// the origin, so a stream's running sum is the op's time on the recording's clock.
//
// Sync (stream s, count n): the op runs only once stream s has completed n ops. The converter writes
// one wherever a block passes between threads (a free or realloc of a block another stream
// allocated, or a slot reused that another stream freed), before each thread's start and each phase
// (every stream's ops before it in time), and after a moment a thread reported (it waits for the
// timeline to deliver it, as the program waited for its snapshot); at a program phase every thread
// not ended gets a hold, a sync the replay may honour. Every sync names an op that comes
// before its own in the converter's one global order, so a replay cannot deadlock.
//
// Slots are the ids of blocks: the index of a block in the replay's live-block table. A slot is
// reused only by the stream that freed it, or by another after a sync on that free.
#pragma once

#include <cstdint>

namespace bench::replay {

inline constexpr char kWorkloadMagic[8] = {'B', 'N', 'C', 'H', 'R', 'P', 'L', '\n'};
inline constexpr std::uint32_t kWorkloadVersion = 2;      // 2: a chunk's checksum covers its header
inline constexpr std::uint32_t kChunkMagic = 0x4b484352;  // "RCHK"
inline constexpr std::uint32_t kChunkPayloadLimit = 32 * 1024;

enum class ChunkType : std::uint8_t { ops = 1, summary = 2 };

struct ChunkHeader {
  std::uint32_t magic;
  std::uint8_t type;
  std::uint8_t zero[3];
  std::uint32_t stream;
  std::uint32_t ops;
  std::uint32_t bytes;
  std::uint32_t crc;
};
static_assert(sizeof(ChunkHeader) == 24);

// What an op does, and its fields after the op byte, the time and the syncs.
enum class OpKind : std::uint8_t {
  wait = 0,             // nothing: only its syncs (a thread waiting for a moment it reported)
  malloc = 1,           // slot, size
  calloc = 2,           // slot, size (count * size as recorded: calloc(1, size))
  memalign = 3,         // slot, size, u8 align_log2 (memalign, posix_memalign, aligned_alloc, valloc, pvalloc)
  new_ = 4,             // slot, size (operator new, new[], nothrow: the trace does not say which)
  new_aligned = 5,      // slot, size, u8 align_log2
  realloc = 6,          // old slot, new slot, size (the old block's size is in the live-block table)
  realloc_null = 7,     // slot, size (realloc(NULL, size), or realloc of a block the trace never allocated)
  free = 8,             // slot (also a realloc(p, 0) that freed p)
  delete_ = 9,          // slot (every form of operator delete: the trace does not say which, nor a size)
  delete_aligned = 10,  // slot, u8 align_log2 (a block from new_aligned)
  malloc_trim = 11,     // varint pad
  mallopt = 12,         // zigzag param, zigzag value
  phase = 13,           // timeline only: varint name id, u8 PhaseKind
  start = 14,           // timeline only: varint stream (the thread's first op follows its syncs)
  hold = 15,            // nothing: a sync on the timeline just after a program phase, honoured when the replay holds its
                        // threads at program phases (the trace does not say which thread waited for ./bench)
};
inline constexpr std::uint8_t kOpKindMask = 0x0f;
inline constexpr std::uint8_t kOpSync = 0x10;
inline constexpr int kOpTimeShift = 5;
inline constexpr std::uint8_t kOpTimeVarint = 7;

enum class PhaseKind : std::uint8_t {
  moment = 1,         // a workload's moment: the program reported it (bench_record_phase) and waited
  program_phase = 2,  // one of ./bench's phases of a program, marked from outside (a trace phase block)
};

// What a recording held that a replay cannot reproduce call for call, counted by the converter.
struct Anomalies {
  std::uint64_t unknown_frees = 0;         // a free of an address no live block of the trace had (dropped)
  std::uint64_t double_frees = 0;          // a free of an address freed before and not allocated since (dropped; of the
                                           // last 262,144 frees: one older counts as unknown)
  std::uint64_t stale_frees = 0;           // a free stamped before the allocation of the live block at its address (dropped)
  std::uint64_t reused_live = 0;           // an allocation at a live block's address whose free never came: freed there
  std::uint64_t deferred_allocations = 0;  // an allocation seen before the free that made room for it: deferred after it
  std::uint64_t deferred_frees = 0;        // a free seen before its block's allocation (another thread's, late): deferred
  std::uint64_t late_events = 0;           // events that arrived after later events of other threads were converted
  std::uint64_t clock_steps_back = 0;      // a thread's event stamped before its previous one (its time clamped)
  std::uint64_t threads_never_ended = 0;   // streams without a thread_exit (the main thread is one; a cut recording)
  std::uint64_t dropped_events = 0;        // events the recorder lost (a thread gave up waiting for the writer)
  std::uint64_t forks = 0, execs = 0;      // the image forked (the child is a trace of its own) or was replaced

  // Calls f(name, field) for each count (the summary's keys, the names a caller reports).
  template <class Self, class F>
  static void fields(Self& self, F&& f) {
    f("unknown_frees", self.unknown_frees);
    f("double_frees", self.double_frees);
    f("stale_frees", self.stale_frees);
    f("reused_live", self.reused_live);
    f("deferred_allocations", self.deferred_allocations);
    f("deferred_frees", self.deferred_frees);
    f("late_events", self.late_events);
    f("clock_steps_back", self.clock_steps_back);
    f("threads_never_ended", self.threads_never_ended);
    f("dropped_events", self.dropped_events);
    f("forks", self.forks);
    f("execs", self.execs);
  }
};

// Calls by kind: what a recording made (Summary) and what a replay made (ReplayResult).
struct CallCounts {
  std::uint64_t mallocs = 0, callocs = 0, memaligns = 0, news = 0, new_aligneds = 0;
  std::uint64_t reallocs = 0;  // realloc, and realloc(NULL, size)
  std::uint64_t frees = 0;     // free, and a realloc(p, 0) that freed p
  std::uint64_t deletes = 0;   // operator delete, every form
  std::uint64_t controls = 0;  // malloc_trim and mallopt (not counted in calls(): they allocate nothing)

  // The allocation and free calls.
  std::uint64_t calls() const { return mallocs + callocs + memaligns + news + new_aligneds + reallocs + frees + deletes; }
  template <class Self, class F>
  static void fields(Self& self, F&& f) {
    f("mallocs", self.mallocs);
    f("callocs", self.callocs);
    f("memaligns", self.memaligns);
    f("news", self.news);
    f("new_aligneds", self.new_aligneds);
    f("reallocs", self.reallocs);
    f("frees", self.frees);
    f("deletes", self.deletes);
    f("controls", self.controls);
  }
  CallCounts& operator+=(const CallCounts& o) {
    mallocs += o.mallocs, callocs += o.callocs, memaligns += o.memaligns, news += o.news, new_aligneds += o.new_aligneds;
    reallocs += o.reallocs, frees += o.frees, deletes += o.deletes, controls += o.controls;
    return *this;
  }
  bool operator==(const CallCounts&) const = default;
};

// The recording's counts, as the converter found them (the summary's other keys).
struct Summary {
  std::uint64_t streams = 0;  // the timeline and one per thread
  std::uint64_t slots = 0;    // entries of the live-block table a replay needs
  std::uint64_t ops = 0;      // every op of every stream
  std::uint64_t calls = 0;    // allocation and free calls (what a replay makes)
  CallCounts kinds;
  std::uint64_t phases = 0;        // phase ops of the timeline
  std::uint64_t syncs = 0;         // sync pairs in all streams
  std::uint64_t cross_thread = 0;  // blocks freed (or reallocated) by another thread than the one that allocated them
  std::uint64_t end_live_bytes = 0, end_live_blocks = 0;  // what the recording leaves live (sizes as asked)
  std::uint64_t peak_live_bytes = 0;
  std::uint64_t duration_us = 0;  // the last op's time
  std::uint64_t events = 0;       // trace events read

  template <class Self, class F>
  static void fields(Self& self, F&& f) {
    f("streams", self.streams);
    f("slots", self.slots);
    f("ops", self.ops);
    f("calls", self.calls);
    CallCounts::fields(self.kinds, f);
    f("phases", self.phases);
    f("syncs", self.syncs);
    f("cross_thread", self.cross_thread);
    f("end_live_bytes", self.end_live_bytes);
    f("end_live_blocks", self.end_live_blocks);
    f("peak_live_bytes", self.peak_live_bytes);
    f("duration_us", self.duration_us);
    f("events", self.events);
  }
};

// The op stream's varints, unchecked: a workload's chunks are checksummed when it is loaded, and the
// replayer's buffer ends in zero padding, so a read never leaves the mapping.
inline std::uint64_t read_varint(const std::uint8_t*& at) {
  std::uint64_t value = *at & 0x7f;
  if ((*at++ & 0x80) == 0) return value;
  for (int shift = 7; shift < 64; shift += 7) {
    const std::uint8_t byte = *at++;
    value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  return value;
}
inline std::int64_t unzigzag(std::uint64_t v) { return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1); }
inline std::uint64_t zigzag(std::int64_t v) { return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63); }

}  // namespace bench::replay
