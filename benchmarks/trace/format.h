// The trace file (`<pid>.<image>.trace`): what the trace writer (writer.h) makes of one recorded
// process image, and everything the analysis and the replay read (reader.h). Versioned; every block
// checksummed, so that a recording cut short keeps a clean prefix:
//
//   file header   "BNCHTRC\n" (8 bytes), version (u32), text length (u32), CRC-32 of the text (u32),
//                 then the text: `key value` lines — pid, parent, image (0 for the first, one more
//                 after each execve), executable, unwinder, site_frames, start_tsc,
//                 start_monotonic_ns, clock_source, tsc_per_ns (the writer's calibration), and
//                 whatever the writer adds
//   blocks        each: magic "TBLK" (u32), type (u8), compression (u8: 0 none, 1 zstd), 2 bytes 0,
//                 stored length (u32), raw length (u32), CRC-32 of the stored bytes (u32), the bytes
//
// A file that ends at a block boundary without an `end` block, or inside its last block, was cut
// short (the process, or the writer, was killed): its whole blocks are a clean prefix, readable with
// a warning naming the offset where it stops. A block whose checksum or magic is wrong is an error
// naming its offset. All integers little-endian; varint = LEB128, zigzag for signed.
//
// The writer drains every chunk as far as it is filled, every millisecond, so a thread's events come
// in several blocks (in its order) and the file is close to time order across threads.
//
// Block payloads (raw):
//   events     varint thread (the kernel's tid), varint thread_seq (its chunk), varint first event
//              number (the thread's), varint count, varint pass (monotonic ns when the writer began
//              the drain that read these: every event an image's threads had finished writing by
//              then is in this block or an earlier one), then per event: u8 kind (ring.h EventKind), varint zigzag time delta
//              from the thread's previous event in this block (the first: from start_tsc) in
//              units of kTickShift-shifted TSC ticks, varint zigzag address delta from the block's
//              previous address; allocations then: varint size, varint site, varint slack, and
//              for memalign and new_aligned u8 align_log2; frees nothing more; control kinds:
//              varint size, varint site
//   sites      varint first index, varint count, per site: varint depth, depth x u64 return address
//   maps       u64 monotonic ns, then /proc/<pid>/maps as the writer read it (for symbols)
//   names      varint offset, then NUL-terminated names (a workload's phase names)
//   phase      u64 monotonic ns, the name (bench's phases of a program)
//   residency  u64 monotonic ns, varint name length, the name, varint range count, per range:
//              varint first page, varint page count, then ceil(count / 8) bytes of bits, one a page
//              (1: resident) — the process's anonymous private writable mappings, the interposer's
//              own regions left out
//   clock      pairs of u64 tsc, u64 monotonic ns, read together by the writer
//   end        text `key value` lines: reason (exit, exec, gone, stopped), events, waits, wait_ns,
//              dropped, unwind_misses, unwind_checked, unwind_disagreed, one_frame_sites
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bench::trace {

inline constexpr char kFileMagic[8] = {'B', 'N', 'C', 'H', 'T', 'R', 'C', '\n'};
inline constexpr std::uint32_t kFileVersion = 1;
inline constexpr std::uint32_t kBlockMagic = 0x4b4c4254;  // "TBLK"
inline constexpr int kTickShift = 4;                      // time in units of 16 TSC ticks (about 6 ns here): a free
                                                          // stamped before it is forwarded stays before an allocation of
                                                          // the same block stamped after the allocator returned

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

// CRC-32 (the polynomial of zlib and PNG), continuing from `crc` (0 to start).
std::uint32_t crc32(const void* data, std::size_t length, std::uint32_t crc = 0);

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

}  // namespace bench::trace
