#include "benchmarks/replay/replayer.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>

#include "benchmarks/measure/clock.h"
#include "benchmarks/trace/format.h"

namespace bench::replay {

namespace {

std::int64_t now_ns() { return monotonic_ns(); }

// The futex word of a 64-bit progress counter is its low half (little-endian): the kernel compares
// those 32 bits, the waiter re-reads the whole counter after every wake.
void futex_wait(const void* word, std::uint32_t expected, std::int64_t timeout_ns) {
  const timespec timeout{static_cast<time_t>(timeout_ns / 1'000'000'000), static_cast<long>(timeout_ns % 1'000'000'000)};
  ::syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, &timeout, nullptr, 0);
}
void futex_wake(const void* word) { ::syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0); }

// A mapping of the replayer's own, written through so that every page is resident now.
void* own_mapping(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) throw ReplayError("cannot map " + std::to_string(bytes) + " bytes for the replay: " + std::strerror(errno));
  std::memset(p, 0, bytes);
  return p;
}

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

struct ChunkRef {
  const std::uint8_t* begin;
  const std::uint8_t* end;
};

struct StreamInfo {
  const ChunkRef* chunks;
  std::uint32_t chunk_count;
  std::uint32_t thread;
  std::uint64_t ops;
  bool ended;
};

// A stream's completed ops, published after each op. A waiter that sleeps first lowers `wanted` to
// the count it waits for; the stream wakes the sleepers when it reaches `wanted` (a load and a compare
// an op; no system call while nobody waits).
struct alignas(64) Progress {
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> wanted{UINT64_MAX};
};

struct Entry {
  void* block;
  std::uint64_t size;
};

struct Run;
struct ThreadCounts;

}  // namespace

// The arena's tables.
struct detail::Layout {
  std::uint32_t streams;
  std::uint64_t slots;
  StreamInfo* info;
  Progress* progress;
  ThreadCounts* counts;
  Entry* table;
};

namespace {

using detail::Layout;

// One replay thread's counts (its own cache lines).
struct alignas(64) ThreadCounts {
  Run* run;
  std::uint32_t stream;
  bool started;
  pthread_t handle;
  CallCounts kinds;
  std::uint64_t failed, bad_ops;
  std::uint64_t sync_waits, sleeps;
  std::int64_t wait_ns, sleep_ns, max_lag_ns, run_ns;
  std::int64_t live_bytes, live_blocks;  // this thread's allocations less its frees (of any thread's blocks)
};

struct Run {
  const Layout& layout;
  const ReplayOptions& options;
  const std::vector<std::string>& names;
  std::int64_t t0;
  std::atomic<std::uint32_t> release{0};         // the parked threads may exit
  std::uint32_t caller_stream = 0;               // the stream the caller's thread runs (the others: threads of their own)
  std::atomic<std::uint32_t> caller_started{0};  // the timeline reached caller_stream's start
  std::uint32_t phases = 0;
  std::atomic<bool> watching{false};            // resume_after was delivered: the next call reports on_resume
  std::atomic<bool> resumed{false};             // on_resume was called (once)
  std::exception_ptr failure = nullptr;         // the first exception the caller's callback threw
  std::exception_ptr resume_failure = nullptr;  // on_resume's (another thread's: kept apart, read after the join)
};

void wait_for(const Layout& parts, ThreadCounts& c, std::uint64_t stream, std::uint64_t count, bool counted) {
  if (stream >= parts.streams || count > parts.info[stream].ops) {
    ++c.bad_ops;
    return;
  }
  Progress& p = parts.progress[stream];
  if (p.done.load(std::memory_order_acquire) >= count) return;
  const std::int64_t began = now_ns();
  for (int i = 0; i < 128 && p.done.load(std::memory_order_acquire) < count; ++i) _mm_pause();
  while (p.done.load(std::memory_order_acquire) < count) {
    // A wake can be missed (the stream's store of `done` and its look at `wanted` may pass this
    // thread's lowering of `wanted` and its look at `done`; the stream may reset `wanted` just after
    // another waiter lowered it): the timeout bounds what a miss costs.
    std::uint64_t wanted = p.wanted.load();
    while (count < wanted && !p.wanted.compare_exchange_weak(wanted, count)) {
    }
    const std::uint64_t seen = p.done.load();
    if (seen < count) futex_wait(&p.done, static_cast<std::uint32_t>(seen), 1'000'000);
  }
  if (counted) {
    ++c.sync_waits;
    c.wait_ns += now_ns() - began;
  }
}

// As-recorded: an op after a gap waits for its time on the recording's clock.
void sleep_until(const Run& run, ThreadCounts& c, std::int64_t recorded_us) {
  const std::int64_t target = run.t0 + recorded_us * 1000;
  const std::int64_t now = now_ns();
  if (now >= target) {
    c.max_lag_ns = std::max(c.max_lag_ns, now - target);
    return;
  }
  const timespec until{static_cast<time_t>(target / 1'000'000'000), static_cast<long>(target % 1'000'000'000)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
  }
  ++c.sleeps;
  c.sleep_ns += now_ns() - now;
}

// Writes [from, to) of a new block as the options say. The barrier keeps the compiler from dropping
// stores to a block it may see freed later.
inline void fill(void* block, std::uint64_t from, std::uint64_t to, Fill how) {
  if (block == nullptr || to <= from || how == Fill::none) return;
  char* bytes = static_cast<char*>(block);
  if (how == Fill::all_bytes) {
    std::memset(bytes + from, 0xa5, to - from);
  } else {
    const auto first = reinterpret_cast<std::uintptr_t>(bytes + from), last = reinterpret_cast<std::uintptr_t>(bytes + to);
    *reinterpret_cast<char*>(first) = static_cast<char>(0xa5);
    for (std::uintptr_t page = (first | 4095) + 1; page < last; page += 4096) *reinterpret_cast<char*>(page) = static_cast<char>(0xa5);
  }
  asm volatile("" : : "r"(block) : "memory");
}

void deliver(Run& run, PhaseEvent::Kind kind, std::string_view name, std::int64_t recorded_us) {
  const PhaseEvent event{kind, name, run.phases++, static_cast<double>(recorded_us) / 1e6, static_cast<double>(now_ns() - run.t0) / 1e9};
  if (!run.options.on_phase) return;
  // The replay threads run on while the callback does: an exception cannot leave here before they
  // are joined. The first is rethrown by replay() once they are.
  try {
    run.options.on_phase(event);
  } catch (...) {
    if (!run.failure) run.failure = std::current_exception();
  }
  // Armed after the callback (a release step run there is before the quiet period ends) and before
  // the timeline's progress is stored, which the threads held at this phase wait for.
  if (kind != PhaseEvent::Kind::end && run.options.on_resume && run.options.timing == Timing::as_recorded &&
      !run.options.resume_after.empty() && name == run.options.resume_after && !run.resumed.load(std::memory_order_relaxed))
    run.watching.store(true, std::memory_order_release);
}

// The first allocator call after resume_after's phase: its caller reports it, once. An exception
// is kept as on_phase's are.
void resume(Run& run, std::int64_t recorded_us) {
  bool expected = true;
  if (!run.watching.compare_exchange_strong(expected, false)) return;
  run.resumed.store(true, std::memory_order_relaxed);
  try {
    run.options.on_resume(static_cast<double>(recorded_us) / 1e6);
  } catch (...) {
    run.resume_failure = std::current_exception();  // only one thread gets here: the exchange let one in
  }
}

void* thread_main(void* argument);
void* thread_main_null(void* argument);

// The op loop of one stream. `kCalls` false: the null allocator (Calls::none).
template <bool kCalls>
void run_stream(const Layout& parts, Run& run, std::uint32_t index) {
  const StreamInfo& info = parts.info[index];
  ThreadCounts& c = parts.counts[index];
  Progress& mine = parts.progress[index];
  Entry* const table = parts.table;
  const std::uint64_t slots = parts.slots;
  const bool as_recorded = run.options.timing == Timing::as_recorded;
  const Fill how = run.options.fill;
  Entry scratch{};
  std::uint64_t done = 0;
  std::int64_t recorded_us = 0, last_slot = 0;
  const std::int64_t began = now_ns();
  for (std::uint32_t k = 0; k < info.chunk_count; ++k) {
    const std::uint8_t* at = info.chunks[k].begin;
    const std::uint8_t* const end = info.chunks[k].end;
    while (at < end) {
      const std::uint8_t op = *at++;
      std::uint64_t gap = op >> kOpTimeShift;
      if (gap == kOpTimeVarint) gap = read_varint(at);
      recorded_us += static_cast<std::int64_t>(gap);
      const auto kind = static_cast<OpKind>(op & kOpKindMask);
      if ((op & kOpSync) != 0) {
        const bool honoured = kind != OpKind::hold || run.options.hold_at_program_phases;
        for (std::uint64_t n = read_varint(at); n > 0; --n) {
          const std::uint64_t stream = read_varint(at), count = read_varint(at);
          if (honoured) wait_for(parts, c, stream, count, true);
        }
      }
      if (as_recorded && gap >= 1000) sleep_until(run, c, recorded_us);
      if (as_recorded && kind >= OpKind::malloc && kind <= OpKind::mallopt && run.watching.load(std::memory_order_acquire)) [[unlikely]]
        resume(run, recorded_us);
      auto slot = [&]() -> Entry& {
        last_slot += unzigzag(read_varint(at));
        if (static_cast<std::uint64_t>(last_slot) < slots) return table[last_slot];
        ++c.bad_ops;
        return scratch;
      };
      // A distinct non-null address per slot, never dereferenced: the null allocator's blocks.
      auto fake = [&](const Entry& e) { return reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(&e) | 1); };
      auto allocated = [&](Entry& e, void* block, std::uint64_t size, std::uint64_t& kind_count) {
        e = {block, block != nullptr ? size : 0};
        if (block == nullptr) {
          ++c.failed;
        } else {
          c.live_bytes += static_cast<std::int64_t>(size);
          ++c.live_blocks;
          if (kCalls) fill(block, 0, size, how);
        }
        ++kind_count;
      };
      auto released = [&](Entry& e, std::uint64_t& kind_count) {
        if (e.block != nullptr) {
          c.live_bytes -= static_cast<std::int64_t>(e.size);
          --c.live_blocks;
        }
        e = {nullptr, 0};
        ++kind_count;
      };
      switch (kind) {
        case OpKind::wait:
        case OpKind::hold: break;
        case OpKind::malloc: {
          Entry& e = slot();
          const std::uint64_t size = read_varint(at);
          allocated(e, kCalls ? std::malloc(size) : fake(e), size, c.kinds.mallocs);
          break;
        }
        case OpKind::calloc: {
          Entry& e = slot();
          const std::uint64_t size = read_varint(at);
          allocated(e, kCalls ? std::calloc(1, size) : fake(e), size, c.kinds.callocs);
          break;
        }
        case OpKind::memalign: {
          Entry& e = slot();
          const std::uint64_t size = read_varint(at);
          const std::size_t alignment = std::max<std::size_t>(std::size_t{1} << (*at++ & 63), sizeof(void*));
          void* block = fake(e);
          if (kCalls && ::posix_memalign(&block, alignment, size) != 0) block = nullptr;
          allocated(e, block, size, c.kinds.memaligns);
          break;
        }
        case OpKind::new_: {
          Entry& e = slot();
          const std::uint64_t size = read_varint(at);
          allocated(e, kCalls ? ::operator new(size, std::nothrow) : fake(e), size, c.kinds.news);
          break;
        }
        case OpKind::new_aligned: {
          Entry& e = slot();
          const std::uint64_t size = read_varint(at);
          const auto alignment = static_cast<std::align_val_t>(std::size_t{1} << (*at++ & 63));
          allocated(e, kCalls ? ::operator new(size, alignment, std::nothrow) : fake(e), size, c.kinds.new_aligneds);
          break;
        }
        case OpKind::realloc: {
          Entry& old = slot();
          Entry& fresh = slot();
          const std::uint64_t size = read_varint(at);
          const Entry was = old;
          void* block = kCalls ? std::realloc(was.block, size) : fake(fresh);
          old = {nullptr, 0};
          ++c.kinds.reallocs;
          if (block == nullptr && size != 0) {  // failed: the old block lives on, in the new slot
            fresh = was;
            ++c.failed;
            break;
          }
          fresh = {block, size};
          c.live_bytes += static_cast<std::int64_t>(size) - static_cast<std::int64_t>(was.size);
          c.live_blocks += (block != nullptr ? 1 : 0) - (was.block != nullptr ? 1 : 0);
          if (kCalls) fill(block, was.size, size, how);
          break;
        }
        case OpKind::realloc_null: {
          Entry& e = slot();
          const std::uint64_t size = read_varint(at);
          allocated(e, kCalls ? std::realloc(nullptr, size) : fake(e), size, c.kinds.reallocs);
          break;
        }
        case OpKind::free: {
          Entry& e = slot();
          if (kCalls) std::free(e.block);
          released(e, c.kinds.frees);
          break;
        }
        case OpKind::delete_: {
          Entry& e = slot();
          if (kCalls) ::operator delete(e.block);
          released(e, c.kinds.deletes);
          break;
        }
        case OpKind::delete_aligned: {
          Entry& e = slot();
          const auto alignment = static_cast<std::align_val_t>(std::size_t{1} << (*at++ & 63));
          if (kCalls) ::operator delete(e.block, alignment);
          released(e, c.kinds.deletes);
          break;
        }
        case OpKind::malloc_trim: {
          const std::uint64_t pad = read_varint(at);
          if (kCalls) ::malloc_trim(pad);
          ++c.kinds.controls;
          break;
        }
        case OpKind::mallopt: {
          const auto parameter = static_cast<int>(unzigzag(read_varint(at)));
          const auto value = static_cast<int>(unzigzag(read_varint(at)));
          if (kCalls) ::mallopt(parameter, value);
          ++c.kinds.controls;
          break;
        }
        case OpKind::phase: {
          const std::uint64_t name = read_varint(at);
          const auto phase_kind = static_cast<PhaseKind>(*at++);
          if (index != 0 || name >= run.names.size()) {
            ++c.bad_ops;
            break;
          }
          deliver(run, phase_kind == PhaseKind::moment ? PhaseEvent::Kind::moment : PhaseEvent::Kind::program_phase, run.names[name],
                  recorded_us);
          break;
        }
        case OpKind::start: {
          const std::uint64_t stream = read_varint(at);
          if (index != 0 || stream == 0 || stream >= parts.streams || parts.counts[stream].started) {
            ++c.bad_ops;
            break;
          }
          ThreadCounts& t = parts.counts[stream];
          t.started = true;
          if (stream == run.caller_stream) {  // the recorded main thread: the caller's, waiting for this
            run.caller_started.store(1, std::memory_order_release);
            futex_wake(&run.caller_started);
            break;
          }
          if (::pthread_create(&t.handle, nullptr, kCalls ? thread_main : thread_main_null, &t) != 0) {
            // No thread: its ops cannot run. They count as done, so that no sync on them waits forever.
            t.started = false;
            c.bad_ops += parts.info[stream].ops;
            parts.progress[stream].done.store(parts.info[stream].ops, std::memory_order_release);
            futex_wake(&parts.progress[stream].done);
          }
          break;
        }
        default: ++c.bad_ops; break;
      }
      mine.done.store(++done, std::memory_order_release);
      if (done >= mine.wanted.load(std::memory_order_relaxed)) {
        mine.wanted.store(UINT64_MAX, std::memory_order_relaxed);
        futex_wake(&mine.done);  // every sleeper looks again, and lowers `wanted` again if it must wait on
      }
    }
  }
  c.run_ns = now_ns() - began - c.sleep_ns - c.wait_ns;
  // A thread the recording never saw end stays alive (its allocator's thread cache with it) until
  // the end has been delivered.
  if (index != 0 && index != run.caller_stream && !info.ended)
    while (run.release.load(std::memory_order_acquire) == 0) futex_wait(&run.release, 0, 100'000'000);
}

void* thread_main(void* argument) {
  auto* counts = static_cast<ThreadCounts*>(argument);
  run_stream<true>(counts->run->layout, *counts->run, counts->stream);
  return nullptr;
}
void* thread_main_null(void* argument) {
  auto* counts = static_cast<ThreadCounts*>(argument);
  run_stream<false>(counts->run->layout, *counts->run, counts->stream);
  return nullptr;
}

// ---- loading

[[noreturn]] void fail(const std::string& path, std::uint64_t offset, const std::string& what) {
  throw ReplayError(path + ": offset " + std::to_string(offset) + ": " + what);
}

bool number(std::string_view text, std::uint64_t& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

std::string_view next_word(std::string_view& line) {
  const std::size_t space = line.find(' ');
  const std::string_view word = line.substr(0, space);
  line = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  return word;
}

}  // namespace

Workload::Workload(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ReplayError(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  ::fstat(fd, &st);
  file_bytes_ = round_up(static_cast<std::size_t>(st.st_size) + 64, 4096);  // zero padding after the last op: read_varint never leaves it
  try {
    file_ = own_mapping(file_bytes_);
  } catch (...) {
    ::close(fd);
    throw;
  }
  auto* bytes = static_cast<std::uint8_t*>(file_);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  for (std::uint64_t at = 0; at < size;) {
    const ssize_t n = ::pread(fd, bytes + at, size - at, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      fail(path, at, "cannot read the workload");
    }
    at += static_cast<std::uint64_t>(n);
  }
  ::close(fd);

  if (size < 20 || std::memcmp(bytes, kWorkloadMagic, 8) != 0) fail(path, 0, "not a replay workload of this suite (no \"BNCHRPL\" magic)");
  std::uint32_t fixed[3];
  std::memcpy(fixed, bytes + 8, sizeof fixed);
  if (fixed[0] != kWorkloadVersion)
    fail(path, 8, "workload format version " + std::to_string(fixed[0]) + ", this build reads version " + std::to_string(kWorkloadVersion));
  if (20 + std::uint64_t{fixed[1]} > size) fail(path, 20, "the header is cut short");
  const std::string_view header_text(reinterpret_cast<const char*>(bytes + 20), fixed[1]);
  if (trace::crc32(header_text.data(), header_text.size()) != fixed[2]) fail(path, 20, "the header's checksum does not match");
  for (std::string_view text = header_text; !text.empty();) {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    const std::string_view key = next_word(line);
    header_[std::string(key)] = std::string(line);
  }

  // Every chunk checked; the summary last.
  std::vector<std::uint64_t> chunks_per_stream, ops_per_stream;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> chunk_list;  // stream, offset
  std::string_view summary;
  std::uint64_t offset = 20 + fixed[1];
  while (offset < size) {
    if (!summary.empty()) fail(path, offset, "a chunk after the summary");
    ChunkHeader h{};
    if (offset + sizeof h > size) fail(path, offset, "the workload is cut short inside a chunk header");
    std::memcpy(&h, bytes + offset, sizeof h);
    if (h.magic != kChunkMagic ||
        (h.type != static_cast<std::uint8_t>(ChunkType::ops) && h.type != static_cast<std::uint8_t>(ChunkType::summary)))
      fail(path, offset, "no chunk starts here (a torn or foreign chunk)");
    if (offset + sizeof h + h.bytes > size) fail(path, offset, "the workload is cut short inside this chunk");
    if (trace::block_crc(h, bytes + offset + sizeof h, h.bytes) != h.crc)
      fail(path, offset, "the chunk's checksum does not match (a torn chunk)");
    if (h.type == static_cast<std::uint8_t>(ChunkType::summary)) {
      summary = std::string_view(reinterpret_cast<const char*>(bytes + offset + sizeof h), h.bytes);
      if (summary.empty()) fail(path, offset, "an empty summary");
    } else {
      if (h.stream >= chunks_per_stream.size()) {
        chunks_per_stream.resize(h.stream + 1);
        ops_per_stream.resize(h.stream + 1);
      }
      ++chunks_per_stream[h.stream];
      ops_per_stream[h.stream] += h.ops;
      chunk_list.emplace_back(h.stream, offset);
    }
    offset += sizeof h + h.bytes;
  }
  if (summary.empty()) fail(path, offset, "the workload ends without its summary (the converter did not finish)");

  struct StreamLine {
    std::uint64_t thread = 0, ops = 0, ended = 0;
  };
  std::vector<StreamLine> stream_lines;
  const std::uint64_t summary_offset = offset - summary.size() - sizeof(ChunkHeader);
  for (std::string_view text = summary; !text.empty();) {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    const std::string_view key = next_word(line);
    std::uint64_t value = 0;
    if (key == "source_warning") {
      source_warning_ = std::string(line);
    } else if (key == "name") {
      std::uint64_t id = 0;
      if (!number(next_word(line), id) || id != names_.size()) fail(path, summary_offset, "a name line out of order in the summary");
      names_.emplace_back(line);
    } else if (key == "stream") {
      std::uint64_t index = 0, calls = 0;
      StreamLine s;
      if (!number(next_word(line), index) || index != stream_lines.size() || !number(next_word(line), s.thread) ||
          !number(next_word(line), s.ops) || !number(next_word(line), calls) || !number(next_word(line), s.ended))
        fail(path, summary_offset, "a stream line the summary cannot be read by");
      stream_lines.push_back(s);
    } else if (number(line, value)) {
      auto take = [&](const char* name, std::uint64_t& field) {
        if (key == name) field = value;
      };
      Summary::fields(summary_, take);
      Anomalies::fields(anomalies_, take);
    }
  }
  if (stream_lines.empty() || stream_lines.size() != summary_.streams)
    fail(path, summary_offset, "the summary's streams do not match its stream lines");
  chunks_per_stream.resize(stream_lines.size());
  ops_per_stream.resize(stream_lines.size());
  for (std::size_t s = 0; s < stream_lines.size(); ++s)
    if (ops_per_stream[s] != stream_lines[s].ops)
      fail(path, summary_offset,
           "stream " + std::to_string(s) + " has " + std::to_string(ops_per_stream[s]) + " ops in its chunks, the summary says " +
               std::to_string(stream_lines[s].ops));

  // The arena: the layout, the stream table, the chunk lists, progress, counts, the live-block table.
  const std::size_t streams = stream_lines.size();
  std::size_t at = 0;
  auto reserve = [&](std::size_t length) {
    const std::size_t start = at;
    at = round_up(at + length, 64);
    return start;
  };
  const std::size_t layout_at = reserve(sizeof(Layout)), info_at = reserve(sizeof(StreamInfo) * streams),
                    chunks_at = reserve(sizeof(ChunkRef) * chunk_list.size()), progress_at = reserve(sizeof(Progress) * streams),
                    counts_at = reserve(sizeof(ThreadCounts) * streams),
                    table_at = reserve(sizeof(Entry) * std::max<std::uint64_t>(summary_.slots, 1));
  arena_bytes_ = round_up(at, 4096);
  arena_ = own_mapping(arena_bytes_);
  auto* base = static_cast<char*>(arena_);
  layout_ = new (base + layout_at) Layout{static_cast<std::uint32_t>(streams),
                                          summary_.slots,
                                          reinterpret_cast<StreamInfo*>(base + info_at),
                                          new (base + progress_at) Progress[streams],
                                          new (base + counts_at) ThreadCounts[streams](),
                                          reinterpret_cast<Entry*>(base + table_at)};
  auto* chunk_refs = reinterpret_cast<ChunkRef*>(base + chunks_at);
  std::vector<std::size_t> first_chunk(streams, 0);
  for (std::size_t s = 1; s < streams; ++s) first_chunk[s] = first_chunk[s - 1] + chunks_per_stream[s - 1];
  std::vector<std::size_t> filled(streams, 0);
  for (const auto& [stream, chunk_offset] : chunk_list) {
    ChunkHeader h{};
    std::memcpy(&h, bytes + chunk_offset, sizeof h);
    chunk_refs[first_chunk[stream] + filled[stream]++] = {bytes + chunk_offset + sizeof h, bytes + chunk_offset + sizeof h + h.bytes};
  }
  for (std::size_t s = 0; s < streams; ++s)
    layout_->info[s] = {chunk_refs + first_chunk[s], static_cast<std::uint32_t>(chunks_per_stream[s]),
                        static_cast<std::uint32_t>(stream_lines[s].thread), stream_lines[s].ops, stream_lines[s].ended != 0};
}

Workload::~Workload() {
  if (file_ != nullptr) ::munmap(file_, file_bytes_);
  if (arena_ != nullptr) ::munmap(arena_, arena_bytes_);
}

std::string Workload::header_value(const std::string& key) const {
  const auto it = header_.find(key);
  return it == header_.end() ? std::string() : it->second;
}

std::string_view Workload::name(std::uint32_t id) const { return id < names_.size() ? std::string_view(names_[id]) : std::string_view(); }

std::vector<Region> Workload::regions() const {
  return {{reinterpret_cast<std::uintptr_t>(file_), reinterpret_cast<std::uintptr_t>(file_) + file_bytes_},
          {reinterpret_cast<std::uintptr_t>(arena_), reinterpret_cast<std::uintptr_t>(arena_) + arena_bytes_}};
}

std::uint64_t Workload::own_bytes() const { return file_bytes_ + arena_bytes_; }

// The stream of the recorded process's main thread (its thread id is the process's), else 0.
std::uint32_t Workload::main_stream() const {
  const std::string pid = header_value("pid");
  for (std::uint32_t s = 1; s < layout_->streams; ++s)
    if (!pid.empty() && std::to_string(layout_->info[s].thread) == pid) return s;
  return 0;
}

ReplayResult Workload::replay(const ReplayOptions& options) {
  if (replayed_) throw ReplayError(path_ + ": a workload is replayed once per process (its blocks live on after it)");
  replayed_ = true;
  Layout& layout = *layout_;
  const Layout& parts = layout;
  Run run{layout, options, names_, now_ns()};
  for (std::uint32_t s = 0; s < layout.streams; ++s) {
    layout.counts[s].run = &run;
    layout.counts[s].stream = s;
  }
  // The recorded process's main thread is replayed on the caller's (the replay child's main thread),
  // the timeline on a thread of its own: an allocator that serves its main thread apart (glibc's main
  // arena, which sbrk grows and trims itself; a new thread gets an arena of its own) serves the
  // program's main-thread calls as it served them live.
  const bool calls = options.calls == Calls::allocator;
  layout.counts[0].started = true;
  run.caller_stream = main_stream();
  if (run.caller_stream != 0 &&
      ::pthread_create(&layout.counts[0].handle, nullptr, calls ? thread_main : thread_main_null, &layout.counts[0]) != 0)
    run.caller_stream = 0;  // no thread for the timeline: the caller runs it, and the main thread gets one
  const std::uint32_t mine = run.caller_stream;
  if (mine != 0)  // it starts where the timeline starts it, as any thread (or never, if no start op names it)
    while (run.caller_started.load(std::memory_order_acquire) == 0 &&
           layout.progress[0].done.load(std::memory_order_acquire) < layout.info[0].ops)
      futex_wait(&run.caller_started, 0, 10'000'000);
  if (mine == 0 || run.caller_started.load(std::memory_order_acquire) != 0) {
    if (calls)
      run_stream<true>(parts, run, mine);
    else
      run_stream<false>(parts, run, mine);
  }
  if (mine != 0) ::pthread_join(layout.counts[0].handle, nullptr);
  for (std::uint32_t s = 1; s < layout.streams; ++s)
    if (s != mine && layout.counts[s].started) wait_for(parts, layout.counts[mine], s, layout.info[s].ops, false);
  const std::int64_t ended = now_ns();
  deliver(run, PhaseEvent::Kind::end, "end", static_cast<std::int64_t>(summary_.duration_us));
  run.release.store(1, std::memory_order_release);
  futex_wake(&run.release);
  ReplayResult r;
  std::int64_t live_bytes = 0, live_blocks = 0;
  for (std::uint32_t s = 0; s < layout.streams; ++s) {
    ThreadCounts& c = layout.counts[s];
    if (s != 0 && c.started) {
      if (s != mine) ::pthread_join(c.handle, nullptr);
      ++r.threads;
    }
    if (s != 0 && !c.started) r.bad_ops += layout.info[s].ops;  // a stream no start op named
    r.kinds += c.kinds;
    r.failed += c.failed;
    r.bad_ops += c.bad_ops;
    if (s != 0) {  // the timeline's waits are its phases and starts, not the threads'
      r.sync_waits += c.sync_waits;
      r.sync_wait_seconds += static_cast<double>(c.wait_ns) / 1e9;
    }
    r.sleeps += c.sleeps;
    r.max_lag_s = std::max(r.max_lag_s, static_cast<double>(c.max_lag_ns) / 1e9);
    if (s != 0) r.thread_seconds += static_cast<double>(c.run_ns) / 1e9;
    live_bytes += c.live_bytes;
    live_blocks += c.live_blocks;
  }
  r.end_live_bytes = static_cast<std::uint64_t>(std::max<std::int64_t>(live_bytes, 0));
  r.end_live_blocks = static_cast<std::uint64_t>(std::max<std::int64_t>(live_blocks, 0));
  r.calls = r.kinds.calls();
  r.phases = run.phases;
  r.seconds = static_cast<double>(ended - run.t0) / 1e9;
  r.ns_per_call = r.calls > 0 ? r.seconds * 1e9 / static_cast<double>(r.calls) : 0;
  r.ns_per_call_in_thread = r.calls > 0 ? r.thread_seconds * 1e9 / static_cast<double>(r.calls) : 0;
  r.anomalies = anomalies_;
  if (run.failure) std::rethrow_exception(run.failure);
  if (run.resume_failure) std::rethrow_exception(run.resume_failure);
  return r;
}

}  // namespace bench::replay
