// The trace file (`<pid>.<image>.trace`): what the trace writer (writer.h) makes of one recorded
// process image, and everything the analysis and the replay read (reader.h). Versioned; every block
// checksummed, so that a recording cut short keeps a clean prefix:
//
//   file header   "BNCHTRC\n" (8 bytes), version (u32), text length (u32), CRC-32C of the text (u32),
//                 then the text: `key value` lines — pid, parent, image (0 for the first, one more
//                 after each execve), executable, unwinder, site_frames, start_tsc,
//                 start_monotonic_ns, clock_source, tsc_per_ns (the writer's calibration), and
//                 whatever the writer adds
//   blocks        each: magic "TBLK" (u32), type (u8), compression (u8: 0 none, 1 zstd), 2 bytes 0,
//                 stored length (u32), raw length (u32), CRC-32C of the header's 16 bytes before it
//                 and then of the stored bytes (u32: block_crc), the bytes
//
// A file that ends at a block boundary without an `end` block, or inside its last block, was cut
// short (the process, or the writer, was killed): its whole blocks are a clean prefix, readable with
// a warning naming the offset where it stops. A block whose checksum or magic is wrong is an error
// naming its offset. All integers little-endian; varint = LEB128, zigzag for signed.
//
// The writer drains every chunk as far as it is filled, every millisecond, and holds each thread's
// events until it has a block's worth (kEventsABlock) or flushes (every second or 4 blocks' worth of
// events, and at the image's end), so a thread's events come in several blocks (in its order) and the file is in time order
// across threads to within a flush.
//
// Block payloads (raw):
//   events     varint thread (the kernel's tid), varint thread_seq (its first chunk's), varint first event
//              number (the thread's), varint count, varint pass (monotonic ns when the writer began
//              the first drain after its previous flush: the writer holds a thread's drained events
//              until it has a block's worth or flushes (a second, or 131072 events, later), and every block
//              between two flushes carries that one pass; so once a block with a later pass comes,
//              every event stamped before the pass before it has come), then the events as EventCodec encodes
//              them (EventCodec), field by field in eight streams, each as varint length, varint
//              stored length (0: not compressed) and its bytes (zstd when it pays): 0 one byte an
//              event, kind (low 5 bits), address mode (bits 5-6) and "the slack the last
//              allocation of this size had" (bit 7); 1 zigzag time deltas from the previous event
//              (the first: from the header's start_tsc) in units of 2^kTickShift TSC ticks; 2 the
//              allocations' sizes; 3 their sites; 4 their slacks (usable - size) unless predicted,
//              and for memalign and new_aligned u8 align_log2; 5 addresses as zigzag deltas from
//              the previous allocation's: an allocation's in mode 0 (mode 1: the address last
//              freed with this usable size; 2: right after the previous allocation's usable end),
//              a free's of a block the image never saw allocated (mode 1); 6 a free's slot + 1 (the
//              live block's, mode 0); 7 a control kind's size, site, address. The slots and the
//              predictions are the image's, kept alike by the writer and every reader in file
//              order: a block depends on the image's blocks before it.
//   sites      varint first index, varint count, per site: varint depth, depth x u64 return address
//   maps       u64 monotonic ns, then /proc/<pid>/maps as the writer read it (for symbols)
//   names      varint offset, then NUL-terminated names (a workload's phase names)
//   phase      u64 monotonic ns, the name (bench's phases of a program)
//   residency  u64 monotonic ns, varint name length, the name, varint range count, per range:
//              varint first page, varint page count, then ceil(count / 8) bytes of bits, one a page
//              (1: resident) — the process's anonymous private writable mappings, the interposer's
//              own regions left out
//   clock      pairs of u64 tsc, u64 monotonic ns, read together by the writer
//   end        text `key value` lines: reason (exit: it ran its exit handlers; exec: replaced by
//              execve; gone: it ended without exit handlers — killed, or _exit — and its chunks
//              were drained after, so only an event being written at that instant can be lost;
//              stopped: still running when the row ended), events, waits, wait_ns,
//              dropped, unwind_misses, unwind_checked, unwind_disagreed, one_frame_sites
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bench::trace {

inline constexpr char kFileMagic[8] = {'B', 'N', 'C', 'H', 'T', 'R', 'C', '\n'};
inline constexpr std::uint32_t kFileVersion = 4;          // 2: a block's checksum covers its header; 3: an events block
                                                          // holds up to kEventsABlock events (a thread's chunks together);
                                                          // 4: time in ticks of 2^8 TSC cycles (was 2^4)
inline constexpr std::uint32_t kBlockMagic = 0x4b4c4254;  // "TBLK"
// An event's time in ticks of 256 TSC cycles (91 ns at 2.8 GHz): finer than anything that reads it
// (the replay's ops carry microseconds, its gaps start at 1 ms), and 4 bits an event fewer than 16
// cycles cost in the time stream (perl-hash 2.34 -> 1.83 bytes an event). A thread's events keep
// their order in the file whatever their ticks; two threads' events in one tick are ordered by what
// they do (an allocation before a free: the analysis's and the converter's merges).
inline constexpr int kTickShift = 8;

enum class BlockType : std::uint8_t { events = 1, sites = 2, maps = 3, names = 4, phase = 5, residency = 6, clock = 7, end = 8 };

struct BlockHeader {
  std::uint32_t magic;
  std::uint8_t type;
  std::uint8_t compression;
  std::uint16_t zero;
  std::uint32_t stored_bytes;
  std::uint32_t raw_bytes;
  std::uint32_t crc;
};
static_assert(sizeof(BlockHeader) == 20);

// CRC-32C (Castagnoli's polynomial, the CPU's crc32 instruction), continuing from `crc` (0 to start).
std::uint32_t crc32(const void* data, std::size_t length, std::uint32_t crc = 0);

// The checksum a block (or a replay workload's chunk) carries: of its header up to the checksum
// field, then of its bytes — so that a flipped type, length or stream is as torn as a flipped byte.
template <class Header>
std::uint32_t block_crc(const Header& header, const void* bytes, std::size_t length) {
  return crc32(bytes, length, crc32(&header, offsetof(Header, crc)));
}

// LEB128 varints and zigzag, appended to / read from a byte string.
void put_varint(std::string& out, std::uint64_t value);
inline void put_signed(std::string& out, std::int64_t value) {
  put_varint(out, (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63));
}
void put_u64(std::string& out, std::uint64_t value);

// A cursor over a payload; reading past its end sets `bad` and yields 0.
struct Cursor {
  std::string_view bytes;
  std::size_t at = 0;
  bool bad = false;
  std::uint64_t varint();
  std::int64_t signed_varint() {
    const std::uint64_t v = varint();
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
  }
  std::uint64_t u64();
  std::uint8_t u8();
  std::string_view take(std::size_t n);
  bool done() const { return at >= bytes.size(); }
};

struct RawEvent;
struct Event;

// A hash map from 64-bit keys (never ~0) to 64-bit values, open addressing with linear probing and
// backward-shift deletion: the codec's maps, touched once or twice an event.
class FlatMap {
 public:
  FlatMap() { slots_.assign(1024, {kEmpty, 0}); }
  const std::uint64_t* find(std::uint64_t key) const {
    for (std::size_t i = index(key);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].first == key) return &slots_[i].second;
      if (slots_[i].first == kEmpty) return nullptr;
    }
  }
  // The key's value, put as `value` if the key was not there (`found` says which): one probe for
  // "look up, then set". The reference holds until the next put.
  std::uint64_t& find_or_put(std::uint64_t key, std::uint64_t value, bool& found);
  void put(std::uint64_t key, std::uint64_t value) {
    bool found;
    find_or_put(key, value, found) = value;
  }
  // Erases the key; its value, if it was there. One probe for "look up, then erase".
  bool take(std::uint64_t key, std::uint64_t& value);
  void erase(std::uint64_t key) {
    std::uint64_t value;
    take(key, value);
  }
  // Brings the key's first slot into the cache ahead of its use.
  void prefetch(std::uint64_t key) const { __builtin_prefetch(&slots_[index(key)]); }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  std::size_t index(std::uint64_t key) const { return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_); }
  void grow();
  std::vector<std::pair<std::uint64_t, std::uint64_t>> slots_;
  std::size_t used_ = 0;
  int shift_ = 54;  // 64 - log2(size)
};

// A run of events one thread wrote in order (a chunk, or the part of it not yet drained).
struct Span {
  const RawEvent* events;
  std::size_t count;
};

// The most events one events block holds: a thread's consecutive chunks drained together are one
// block, so that each stream is compressed once per 32768 events rather than once per chunk.
inline constexpr std::uint32_t kEventsABlock = 32768;

// The events' encoding (above), with the state one process image's blocks share: its live blocks'
// slots and the addresses last freed by usable size. One codec an image, fed in file order.
class EventCodec {
 public:
  EventCodec() = default;
  ~EventCodec();
  EventCodec(const EventCodec&) = delete;
  EventCodec& operator=(const EventCodec&) = delete;
  // Appends the block of the spans' events (one thread's, in its order), encoded and compressed
  // stream by stream at zstd `level`.
  void encode_block(const Span* spans, std::size_t span_count, std::uint64_t start_tsc, std::string& out, int level = 1);
  void encode_block(const RawEvent* events, std::size_t count, std::uint64_t start_tsc, std::string& out) {
    const Span span{events, count};
    encode_block(&span, 1, start_tsc, out);
  }
  // Appends `count` decoded events (time_ns in TSC ticks: the caller turns them into time). False
  // when the bytes do not decode.
  bool decode_block(Cursor& in, std::size_t count, std::uint64_t start_tsc, std::vector<Event>& events);

 private:
  static constexpr int kStreams = 8;
  // The most bytes one event adds to each stream (varints of 64 bits take 10).
  static constexpr std::size_t kStreamBytesPerEvent[kStreams] = {1, 10, 10, 5, 11, 10, 5, 30};
  struct Live {
    std::uint64_t address, usable;
  };
  void encode(const RawEvent& event);
  bool decode(Cursor* streams, Event& event);
  std::uint32_t allocate(std::uint64_t address, std::uint64_t usable);
  void release(std::uint32_t slot);  // the slot's block ended (its address already out of by_address_)
  std::uint64_t previous_time_ = 0;
  std::uint64_t previous_allocation_ = 0, previous_end_ = 0;
  std::vector<Live> slots_;
  std::vector<std::uint32_t> free_slots_;
  FlatMap by_address_;             // address -> slot
  FlatMap last_freed_;             // usable size -> the address last freed with it
  FlatMap slack_;                  // size -> the slack its last allocation had
  std::string streams_[kStreams];  // decoding: the block's streams, decompressed
  // Encoding: each stream written through a cursor into a buffer sized for the block's events
  // (kStreamBytesPerEvent), not appended byte by byte.
  std::vector<char> buffers_[kStreams];
  char* put_[kStreams] = {};
  std::string packed_;
  void* compressor_ = nullptr;    // ZSTD_CCtx
  void* decompressor_ = nullptr;  // ZSTD_DCtx
};

}  // namespace bench::trace
