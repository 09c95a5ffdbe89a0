#include "benchmarks/trace/format.h"

#include "benchmarks/trace/reader.h"
#include "benchmarks/trace/ring.h"

#include <zstd.h>

#include <array>

namespace bench::trace {
namespace {

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;  // CRC-32C, reflected
    table[n] = c;
  }
  return table;
}
constexpr std::array<std::uint32_t, 256> kTable = make_table();

}  // namespace

namespace {

// CRC-32C (Castagnoli) with the CPU's crc32 instruction (SSE 4.2: every x86-64 server of the last
// decade), eight bytes at a time; the table's byte-wise form where it is missing.
__attribute__((target("sse4.2"))) std::uint32_t crc32c_hardware(const unsigned char* p, std::size_t length, std::uint32_t crc) {
  std::uint64_t c = crc;
  for (; length >= 8; p += 8, length -= 8) {
    std::uint64_t word;
    __builtin_memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
  }
  auto c32 = static_cast<std::uint32_t>(c);
  for (; length > 0; ++p, --length) c32 = __builtin_ia32_crc32qi(c32, *p);
  return c32;
}

}  // namespace

std::uint32_t crc32(const void* data, std::size_t length, std::uint32_t crc) {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  if (hardware) return ~crc32c_hardware(p, length, crc);
  for (std::size_t i = 0; i < length; ++i) crc = kTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

void put_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_u64(std::string& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

std::uint64_t Cursor::varint() {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (at >= bytes.size()) {
      bad = true;
      return 0;
    }
    const auto byte = static_cast<unsigned char>(bytes[at++]);
    value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  bad = true;
  return 0;
}

std::uint64_t Cursor::u64() {
  if (at + 8 > bytes.size()) {
    bad = true;
    at = bytes.size();
    return 0;
  }
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  at += 8;
  return value;
}

std::uint8_t Cursor::u8() {
  if (at >= bytes.size()) {
    bad = true;
    return 0;
  }
  return static_cast<std::uint8_t>(bytes[at++]);
}

std::string_view Cursor::take(std::size_t n) {
  if (at + n > bytes.size()) {
    bad = true;
    at = bytes.size();
    return {};
  }
  const std::string_view part = bytes.substr(at, n);
  at += n;
  return part;
}

namespace {

bool aligned_kind(EventKind k) { return k == EventKind::memalign || k == EventKind::new_aligned; }

}  // namespace

std::uint64_t& FlatMap::find_or_put(std::uint64_t key, std::uint64_t value, bool& found) {
  if ((used_ + 1) * 2 > slots_.size()) grow();  // at most half full: short probes
  for (std::size_t i = index(key);; i = (i + 1) & (slots_.size() - 1)) {
    if (slots_[i].first == key) {
      found = true;
      return slots_[i].second;
    }
    if (slots_[i].first == kEmpty) {
      slots_[i] = {key, value};
      ++used_;
      found = false;
      return slots_[i].second;
    }
  }
}

bool FlatMap::take(std::uint64_t key, std::uint64_t& value) {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = index(key);
  while (slots_[i].first != key) {
    if (slots_[i].first == kEmpty) return false;
    i = (i + 1) & mask;
  }
  value = slots_[i].second;
  // Backward shift: move up every later entry of the run that may sit at i.
  for (std::size_t j = (i + 1) & mask; slots_[j].first != kEmpty; j = (j + 1) & mask) {
    const std::size_t home = index(slots_[j].first);
    if (((j - home) & mask) >= ((j - i) & mask)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = {kEmpty, 0};
  --used_;
  return true;
}

void FlatMap::grow() {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> old;
  old.swap(slots_);
  slots_.assign(old.size() * 2, {kEmpty, 0});
  --shift_;
  used_ = 0;
  for (const auto& [key, value] : old)
    if (key != kEmpty) put(key, value);
}

std::uint32_t EventCodec::allocate(std::uint64_t address, std::uint64_t usable) {
  bool found;
  std::uint64_t& entry = by_address_.find_or_put(address, 0, found);
  if (found) free_slots_.push_back(static_cast<std::uint32_t>(entry));  // still live here: it is this block again
  std::uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back({});
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  slots_[slot] = {address, usable};
  entry = slot;
  previous_allocation_ = address;
  previous_end_ = address + usable;
  return slot;
}

void EventCodec::release(std::uint32_t slot) {
  const Live& live = slots_[slot];
  last_freed_.put(live.usable, live.address);
  free_slots_.push_back(slot);
}

namespace {

inline char* write_varint(char* p, std::uint64_t value) {
  while (value >= 0x80) {
    *p++ = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  *p++ = static_cast<char>(value);
  return p;
}
inline char* write_signed(char* p, std::int64_t value) {
  return write_varint(p, (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63));
}

}  // namespace

// The streams of a block, each compressed apart (their values differ in kind, so each its own
// entropy table): 0 heads, 1 times, 2 sizes, 3 sites, 4 slacks and alignments, 5 addresses,
// 6 slots, 7 control kinds' values.
void EventCodec::encode(const RawEvent& e) {
  const auto kind = static_cast<EventKind>(e.kind);
  const std::uint64_t time = e.tsc >> kTickShift;
  std::uint8_t head = e.kind;
  put_[1] = write_signed(put_[1], static_cast<std::int64_t>(time - previous_time_));
  previous_time_ = time;
  if (is_allocation(kind)) {
    put_[2] = write_varint(put_[2], e.size);
    put_[3] = write_varint(put_[3], e.site);
    bool found;
    std::uint64_t& slack = slack_.find_or_put(e.size, e.slack, found);
    if (found && slack == e.slack) {
      head |= 0x80;
    } else {
      put_[4] = write_varint(put_[4], e.slack);
      slack = e.slack;
    }
    if (aligned_kind(kind)) *put_[4]++ = static_cast<char>(e.align_log2);
    const std::uint64_t usable = e.size + e.slack;
    const std::uint64_t* freed = last_freed_.find(usable);
    if (freed != nullptr && *freed == e.address)
      head |= 1 << 5;
    else if (e.address == previous_end_ && previous_end_ != 0)
      head |= 2 << 5;
    else
      put_[5] = write_signed(put_[5], static_cast<std::int64_t>(e.address - previous_allocation_));
    allocate(e.address, usable);
  } else if (is_free(kind)) {
    std::uint64_t slot;
    if (by_address_.take(e.address, slot)) {
      put_[6] = write_varint(put_[6], slot + 1);
      release(static_cast<std::uint32_t>(slot));
    } else {
      head |= 1 << 5;
      put_[5] = write_signed(put_[5], static_cast<std::int64_t>(e.address - previous_allocation_));
    }
  } else {
    put_[7] = write_varint(put_[7], e.size);
    put_[7] = write_varint(put_[7], e.site);
    put_[7] = write_varint(put_[7], e.address);
  }
  *put_[0]++ = static_cast<char>(head);
}

void EventCodec::encode_block(const Span* spans, std::size_t span_count, std::uint64_t start_tsc, std::string& out, int level) {
  previous_time_ = start_tsc >> kTickShift;
  std::size_t count = 0;
  for (std::size_t s = 0; s < span_count; ++s) count += spans[s].count;
  for (int k = 0; k < kStreams; ++k) {
    if (buffers_[k].size() < count * kStreamBytesPerEvent[k]) buffers_[k].resize(count * kStreamBytesPerEvent[k]);
    put_[k] = buffers_[k].data();
  }
  constexpr std::size_t kAhead = 8;  // the maps' slots of the event this far ahead, fetched while this one is encoded
  for (std::size_t s = 0; s < span_count; ++s) {
    const RawEvent* events = spans[s].events;
    const std::size_t n = spans[s].count;
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) {
        const RawEvent& next = events[i + kAhead];
        by_address_.prefetch(next.address);
        if (is_allocation(static_cast<EventKind>(next.kind))) {
          slack_.prefetch(next.size);
          last_freed_.prefetch(next.size + next.slack);
        }
      }
      encode(events[i]);
    }
  }
  if (compressor_ == nullptr) compressor_ = ZSTD_createCCtx();
  for (int k = 0; k < kStreams; ++k) {
    const char* stream = buffers_[k].data();
    const auto size = static_cast<std::size_t>(put_[k] - stream);
    put_varint(out, size);
    if (size <= 32) {
      put_varint(out, 0);  // stored as it is
      out.append(stream, size);
      continue;
    }
    packed_.resize(ZSTD_compressBound(size));
    const std::size_t n = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(compressor_), packed_.data(), packed_.size(), stream, size, level);
    if (ZSTD_isError(n) || n >= size) {
      put_varint(out, 0);
      out.append(stream, size);
    } else {
      put_varint(out, n);
      out.append(packed_.data(), n);
    }
  }
}

bool EventCodec::decode_block(Cursor& in, std::size_t count, std::uint64_t start_tsc, std::vector<Event>& events) {
  previous_time_ = start_tsc >> kTickShift;
  if (decompressor_ == nullptr) decompressor_ = ZSTD_createDCtx();
  Cursor cursors[kStreams];
  for (int k = 0; k < kStreams; ++k) {
    const std::uint64_t raw = in.varint(), stored = in.varint();
    if (in.bad || raw > (64u << 20)) return false;
    const std::string_view bytes = in.take(stored == 0 ? raw : stored);
    if (in.bad) return false;
    if (stored == 0) {
      streams_[k].assign(bytes);
    } else {
      streams_[k].resize(raw);
      const std::size_t n =
          ZSTD_decompressDCtx(static_cast<ZSTD_DCtx*>(decompressor_), streams_[k].data(), raw, bytes.data(), bytes.size());
      if (ZSTD_isError(n) || n != raw) return false;
    }
    cursors[k] = Cursor{streams_[k]};
  }
  for (std::size_t i = 0; i < count; ++i) {
    Event e{};
    if (!decode(cursors, e)) return false;
    events.push_back(e);
  }
  return true;
}

bool EventCodec::decode(Cursor* s, Event& e) {
  const std::uint8_t head = s[0].u8();
  const std::uint8_t mode = (head >> 5) & 3;
  e.kind = static_cast<EventKind>(head & 0x1f);
  previous_time_ += static_cast<std::uint64_t>(s[1].signed_varint());
  e.time_ns = static_cast<std::int64_t>(previous_time_ << kTickShift);  // ticks: the caller turns them into time
  if (is_allocation(e.kind)) {
    e.size = s[2].varint();
    e.site = static_cast<std::uint32_t>(s[3].varint());
    if ((head & 0x80) != 0) {
      const std::uint64_t* slack = slack_.find(e.size);
      if (slack == nullptr) return false;
      e.slack = *slack;
    } else {
      e.slack = s[4].varint();
      slack_.put(e.size, e.slack);
    }
    if (aligned_kind(e.kind)) e.align_log2 = s[4].u8();
    const std::uint64_t usable = e.size + e.slack;
    if (mode == 1) {
      const std::uint64_t* freed = last_freed_.find(usable);
      if (freed == nullptr) return false;
      e.address = *freed;
    } else if (mode == 2) {
      e.address = previous_end_;
    } else if (mode == 0) {
      e.address = previous_allocation_ + static_cast<std::uint64_t>(s[5].signed_varint());
    } else {
      return false;
    }
    allocate(e.address, usable);
  } else if (is_free(e.kind)) {
    if (mode == 0) {
      const std::uint64_t slot = s[6].varint();
      if (slot == 0 || slot > slots_.size()) return false;
      e.address = slots_[slot - 1].address;
      by_address_.erase(e.address);
      release(static_cast<std::uint32_t>(slot - 1));
    } else {
      e.address = previous_allocation_ + static_cast<std::uint64_t>(s[5].signed_varint());
    }
  } else {
    e.size = s[7].varint();
    e.site = static_cast<std::uint32_t>(s[7].varint());
    e.address = s[7].varint();
  }
  for (int k = 0; k < kStreams; ++k)
    if (s[k].bad) return false;
  return true;
}

EventCodec::~EventCodec() {
  if (compressor_ != nullptr) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(compressor_));
  if (decompressor_ != nullptr) ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(decompressor_));
}

}  // namespace bench::trace
