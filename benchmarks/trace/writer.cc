#include "benchmarks/trace/writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "benchmarks/trace/format.h"
#include "benchmarks/trace/ring.h"

namespace bench::trace {
namespace {

std::int64_t monotonic_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// One trace file being written: blocks appended, the first failure remembered (and then nothing more
// is written, while the rings are still drained).
class OutputTrace {
 public:
  bool open(const std::string& path, const std::string& header_text) {
    path_ = path;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) return fail("cannot create " + path);
    std::string head(kFileMagic, sizeof kFileMagic);
    auto u32 = [&](std::uint32_t v) { head.append(reinterpret_cast<const char*>(&v), 4); };
    u32(kFileVersion);
    u32(static_cast<std::uint32_t>(header_text.size()));
    u32(crc32(header_text.data(), header_text.size()));
    head += header_text;
    return put(head);
  }

  void block(BlockType type, std::string_view raw, bool compress = true) {
    if (fd_ < 0 || !problem_.empty()) return;
    std::string_view stored = raw;
    std::uint8_t compression = 0;
    if (compress && raw.size() > 64) {
      if (context_ == nullptr) context_ = ZSTD_createCCtx();
      compressed_.resize(ZSTD_compressBound(raw.size()));
      const std::size_t n = ZSTD_compressCCtx(context_, compressed_.data(), compressed_.size(), raw.data(), raw.size(), 1);
      if (!ZSTD_isError(n) && n < raw.size()) {
        stored = std::string_view(compressed_.data(), n);
        compression = 1;
      }
    }
    BlockHeader header{kBlockMagic,
                       static_cast<std::uint8_t>(type),
                       compression,
                       0,
                       static_cast<std::uint32_t>(stored.size()),
                       static_cast<std::uint32_t>(raw.size()),
                       0};
    header.crc = block_crc(header, stored.data(), stored.size());
    out_.assign(reinterpret_cast<const char*>(&header), sizeof header);
    out_.append(stored);
    put(out_);
  }

  ~OutputTrace() {
    if (context_ != nullptr) ZSTD_freeCCtx(context_);
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  std::uint64_t bytes() const { return bytes_; }
  const std::string& problem() const { return problem_; }

 private:
  bool fail(const std::string& what) {
    if (problem_.empty()) problem_ = what + ": " + std::strerror(errno);
    return false;
  }
  bool put(const std::string& data) {
    const char* at = data.data();
    std::size_t left = data.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_, at, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (n == 0) errno = ENOSPC;
        return fail("writing " + path_);
      }
      at += n;
      left -= static_cast<std::size_t>(n);
      bytes_ += static_cast<std::uint64_t>(n);
    }
    return true;
  }
  std::string path_;
  int fd_ = -1;
  std::uint64_t bytes_ = 0;
  std::string problem_;
  ZSTD_CCtx* context_ = nullptr;  // one compression context a trace, reused for every block
  std::string compressed_, out_;  // reused buffers
};

// A process image being recorded: its ring, mapped, and its trace.
struct Image {
  std::string ring_path;
  int ring_fd = -1;
  RingHeader* ring = nullptr;
  pid_t pid = 0;
  std::uint32_t seq = 0;
  bool started = false, over = false;
  std::string reason;
  OutputTrace file;
  std::uint32_t sites_written = 1, names_written = 0;
  std::string last_maps;
  std::uint64_t events = 0;
  std::uint32_t drained[kChunks] = {};  // how far each chunk has been drained
  EventCodec codec;                     // the image's encoding state (format.h)
  std::uint32_t chunks_touched = 0;     // one more than the highest chunk a thread ever took
  // Events drained but not yet written: a thread's run of them, copied out of its chunks (which go
  // back to the process at once), written as one block once it holds kEventsABlock events or at the
  // image's next flush (Writer::kFlushEveryNs, kPeriodEvents). One pass value labels every block
  // written between two flushes: the start of the first drain after the earlier flush (format.h).
  struct Staged {
    std::uint32_t thread = 0, thread_seq = 0;
    std::uint64_t first_event = 0;
    std::vector<RawEvent> events;
  };
  std::vector<Staged> staged;
  std::size_t period_events = 0;
  std::int64_t period_pass = -1, period_start = 0;
};

struct Writer {
  std::string rings, traces;
  std::int64_t residency_every_ns;
  std::map<std::string, std::unique_ptr<Image>> images;  // by ring file name
  WriterStats stats;
  std::int64_t next_scan = 0, next_residency = 0, next_clock = 0;
  std::string scratch;  // an events block being encoded (reused)
  struct Part {         // a chunk with events to drain
    std::uint32_t thread, seq, index, used;
    bool ready;
  };
  std::vector<Span> spans_, staged_spans_;
  std::vector<Part> parts_;

  void scan() {
    DIR* dir = ::opendir(rings.c_str());
    if (dir == nullptr) return;
    while (const dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name.size() < 6 || name.compare(name.size() - 5, 5, ".ring") != 0 || images.count(name) != 0) continue;
      auto image = std::make_unique<Image>();
      image->ring_path = rings + "/" + name;
      image->pid = static_cast<pid_t>(std::atol(name.c_str()));
      image->seq = static_cast<std::uint32_t>(std::atol(name.c_str() + name.find('.') + 1));
      image->ring_fd = ::open(image->ring_path.c_str(), O_RDWR | O_CLOEXEC);
      if (image->ring_fd < 0) continue;
      void* memory = ::mmap(nullptr, ring_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, image->ring_fd, 0);
      if (memory == MAP_FAILED) {
        ::close(image->ring_fd);
        continue;
      }
      image->ring = static_cast<RingHeader*>(memory);
      images.emplace(name, std::move(image));
    }
    ::closedir(dir);
    // A later image of the same pid: the earlier one was replaced by execve.
    for (auto& [name, image] : images)
      for (auto& [other_name, other] : images)
        if (other->pid == image->pid && other->seq > image->seq && !image->over && image->reason.empty()) image->reason = "exec";
  }

  void start(Image& image) {
    const RingHeader& r = *image.ring;
    char executable[sizeof r.executable + 1] = {};
    std::memcpy(executable, r.executable, sizeof r.executable);
    char unwinder[sizeof r.unwinder + 1] = {};
    std::memcpy(unwinder, r.unwinder, sizeof r.unwinder);
    std::ostringstream header;
    header << "pid " << r.pid << "\nparent " << r.parent << "\nimage " << r.exec_seq << "\nexecutable " << executable << "\nunwinder "
           << unwinder << "\nsite_frames " << r.site_frames << "\nstart_tsc " << r.start_tsc << "\nstart_monotonic_ns "
           << r.start_monotonic_ns << "\nclock_source " << first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource")
           << "\ntick_shift " << kTickShift << "\n";
    const std::string path = traces + "/" + std::to_string(r.pid) + "." + std::to_string(r.exec_seq) + ".trace";
    image.file.open(path, header.str());
    image.started = true;
    ++stats.traces;
    clock(image);
  }

  static void clock(Image& image) {
    std::string raw;
    for (int i = 0; i < 3; ++i) {  // the closest pair of three
      put_u64(raw, __rdtsc());
      put_u64(raw, static_cast<std::uint64_t>(monotonic_now()));
    }
    image.file.block(BlockType::clock, raw);
  }

  void sites(Image& image) {
    const std::uint32_t published = std::min(image.ring->sites_published.load(std::memory_order_acquire), kMaxSites);
    if (published <= image.sites_written) return;
    const auto* table = reinterpret_cast<const Site*>(reinterpret_cast<const char*>(image.ring) + ring_sites_offset());
    std::string raw;
    put_varint(raw, image.sites_written);
    put_varint(raw, published - image.sites_written);
    for (std::uint32_t i = image.sites_written; i < published; ++i) {
      const std::uint32_t depth = std::min(table[i].depth, kSiteFrames);
      put_varint(raw, depth);
      for (std::uint32_t f = 0; f < depth; ++f) put_u64(raw, table[i].frames[f]);
    }
    image.file.block(BlockType::sites, raw);
    stats.sites += published - image.sites_written;
    image.sites_written = published;
    // The objects those addresses fall in, while the process is there to be read.
    const std::string maps = read_file("/proc/" + std::to_string(image.pid) + "/maps");
    if (!maps.empty() && maps != image.last_maps) {
      std::string block;
      put_u64(block, static_cast<std::uint64_t>(monotonic_now()));
      block += maps;
      image.file.block(BlockType::maps, block);
      image.last_maps = maps;
    }
  }

  void names(Image& image) {
    const std::uint32_t used = std::min<std::uint32_t>(image.ring->names_bytes.load(std::memory_order_acquire), sizeof image.ring->names);
    if (used <= image.names_written) return;
    std::string raw;
    put_varint(raw, image.names_written);
    raw.append(image.ring->names + image.names_written, used - image.names_written);
    image.file.block(BlockType::names, raw);
    image.names_written = used;
  }

  const RawEvent* chunk_events(const Image& image, std::uint32_t index) const {
    return reinterpret_cast<const RawEvent*>(reinterpret_cast<const char*>(image.ring) + ring_chunks_offset() +
                                             std::uint64_t{index} * kChunkBytes);
  }

  // A slow program's drains find a few hundred events a thread each millisecond; each block's streams
  // compressed apart cost it 4-5 bytes an event (python-churn). Held to a flush, a thread's events
  // are one block of up to kEventsABlock. What the writer holds is lost only if the writer itself is
  // killed: at most kFlushEveryNs of events (a program killed is drained after, as before).
  static constexpr std::int64_t kFlushEveryNs = 1'000'000'000;
  // A period also ends after this many events (held or written): a reader that orders the threads'
  // events by the pass (the replay's converter) holds at most about two periods of them, whatever the
  // program's rate.
  static constexpr std::size_t kPeriodEvents = 4 * kEventsABlock;

  // One events block: a thread's events from `first_event` on, in the spans' order.
  void events(Image& image, std::uint32_t thread, std::uint32_t thread_seq, std::uint64_t first_event, const std::vector<Span>& spans) {
    std::uint64_t count = 0;
    for (const Span& s : spans) count += s.count;
    std::string& raw = scratch;
    raw.clear();
    raw.reserve(count * 24 + 64);
    put_varint(raw, thread);
    put_varint(raw, thread_seq);
    put_varint(raw, first_event);
    put_varint(raw, count);
    put_varint(raw, static_cast<std::uint64_t>(image.period_pass));
    image.codec.encode_block(spans.data(), spans.size(), image.ring->start_tsc, raw);
    image.file.block(BlockType::events, raw, /*compress=*/false);  // its streams are, each apart
    image.events += count;
    stats.events += count;
    stats.raw_bytes += count * sizeof(RawEvent);
  }

  void write_staged(Image& image, Image::Staged& run) {
    if (run.events.empty()) return;
    staged_spans_.assign(1, Span{run.events.data(), run.events.size()});
    events(image, run.thread, run.thread_seq, run.first_event, staged_spans_);
    run.events.clear();
  }

  // Writes what the image holds; the next drain starts a new period.
  void flush(Image& image) {
    for (Image::Staged& run : image.staged) write_staged(image, run);
    image.staged.clear();  // the threads of the next period (one that ended is not held for)
    image.period_pass = -1;
    image.period_events = 0;
  }

  // A thread's run of events drained in this pass: added to what the image holds of that thread, or
  // written at once when it alone is an eighth of a block (4096 events: compressed as well as more,
  // and not copied) and nothing of the thread is held.
  void take(Image& image, const ChunkSlot& head, std::uint64_t first_event, const std::vector<Span>& spans) {
    std::size_t count = 0;
    for (const Span& s : spans) count += s.count;
    image.period_events += count;
    Image::Staged* run = nullptr;
    for (Image::Staged& r : image.staged)
      if (r.thread == head.thread) run = &r;
    if (run == nullptr) {
      image.staged.emplace_back();
      run = &image.staged.back();
      run->thread = head.thread;
    }
    if (!run->events.empty() && (run->first_event + run->events.size() != first_event || run->events.size() + count > kEventsABlock))
      write_staged(image, *run);
    if (run->events.empty() && count >= kEventsABlock / 8) {
      events(image, head.thread, head.thread_seq, first_event, spans);
      return;
    }
    if (run->events.empty()) {
      run->thread_seq = head.thread_seq;
      run->first_event = first_event;
    }
    for (const Span& s : spans) run->events.insert(run->events.end(), s.events, s.events + s.count);
  }

  // Every chunk as far as it is filled, a thread's in the order it filled them, its consecutive
  // chunks taken together (take(): held, or written as one block of up to kEventsABlock events); a
  // chunk handed over (ready) is given back to the process once its events are taken. Its pages
  // stay: punching them out of the file cost the program a fault a page and every CPU a TLB
  // shootdown, measured; threads take the lowest free chunk, so the ring's resident part is what the
  // longest burst used (record_ring_bytes).
  void drain(Image& image) {
    const std::int64_t pass = monotonic_now();  // what this pass has read was written before it
    if (image.period_pass < 0) {
      image.period_pass = pass;
      image.period_start = pass;
    }
    ChunkSlot* slots = reinterpret_cast<ChunkSlot*>(reinterpret_cast<char*>(image.ring) + ring_chunk_slots_offset());
    std::vector<Part>& parts = parts_;
    parts.clear();
    for (std::uint32_t i = 0; i < kChunks; ++i) {
      const auto state = static_cast<ChunkState>(slots[i].state.load(std::memory_order_acquire));
      if (state == ChunkState::free) continue;
      const std::uint32_t used = std::min(slots[i].used.load(std::memory_order_acquire), kEventsPerChunk);
      image.chunks_touched = std::max(image.chunks_touched, i + 1);
      if (state == ChunkState::ready || used > image.drained[i])
        parts.push_back({slots[i].thread, slots[i].thread_seq, i, used, state == ChunkState::ready});
    }
    if (!parts.empty()) {
      sites(image);  // first: every site an event names is published before its chunk
      std::sort(parts.begin(), parts.end(),
                [](const Part& a, const Part& b) { return a.thread != b.thread ? a.thread < b.thread : a.seq < b.seq; });
    }
    constexpr std::size_t kChunksABlock = kEventsABlock / kEventsPerChunk;
    for (std::size_t i = 0; i < parts.size();) {
      // A run of one thread's parts whose events follow each other: taken together.
      const ChunkSlot& head = slots[parts[i].index];
      const std::uint64_t first_event = head.first_event + image.drained[parts[i].index];
      std::uint64_t next_event = first_event;
      spans_.clear();
      std::size_t j = i;
      for (; j < parts.size() && j - i < kChunksABlock; ++j) {
        const Part& p = parts[j];
        const std::uint32_t from = image.drained[p.index];
        if (p.thread != parts[i].thread || slots[p.index].first_event + from != next_event) break;
        if (p.used > from) spans_.push_back({chunk_events(image, p.index) + from, p.used - from});
        next_event = slots[p.index].first_event + p.used;
      }
      if (!spans_.empty()) take(image, head, first_event, spans_);
      for (; i < j; ++i) {
        const Part& p = parts[i];
        image.drained[p.index] = p.used;
        if (!p.ready) continue;
        image.drained[p.index] = 0;
        slots[p.index].used.store(0, std::memory_order_relaxed);  // before it is free: a new owner's chunk starts empty
        slots[p.index].state.store(static_cast<std::uint32_t>(ChunkState::free), std::memory_order_release);
      }
    }
    if (image.period_events >= kPeriodEvents || pass - image.period_start >= kFlushEveryNs) flush(image);
  }

  // The process's resident anonymous private writable pages, its interposer's own memory left out.
  void residency(Image& image, std::string_view moment) {
    const std::string base = "/proc/" + std::to_string(image.pid);
    std::ifstream maps(base + "/maps");
    const int pagemap = ::open((base + "/pagemap").c_str(), O_RDONLY | O_CLOEXEC);
    if (pagemap < 0) {
      if (errno != ENOENT)
        note("cannot read " + base + "/pagemap for the residency of the recording: " + std::strerror(errno) +
             " (it needs the right to ptrace the process)");
      return;
    }
    std::vector<std::pair<std::uint64_t, std::uint64_t>> own;
    for (std::uint32_t k = 0; k < std::min<std::uint32_t>(image.ring->own_region_count.load(), 64); ++k)
      own.emplace_back(image.ring->own_regions[k].start / 4096, (image.ring->own_regions[k].end + 4095) / 4096);
    std::string ranges;
    std::uint64_t count = 0;
    std::vector<std::uint64_t> entries;
    for (std::string line; std::getline(maps, line);) {
      unsigned long long start = 0, end = 0;
      char perms[8] = {};
      if (std::sscanf(line.c_str(), "%llx-%llx %7s", &start, &end, perms) != 3) continue;
      const std::size_t slash = line.find('/'), bracket = line.find('[');
      const bool anonymous = slash == std::string::npos && (bracket == std::string::npos || line.compare(bracket, 6, "[heap]") == 0 ||
                                                            line.compare(bracket, 5, "[anon") == 0);
      if (!anonymous || perms[0] != 'r' || perms[1] != 'w' || perms[3] != 'p') continue;
      const std::uint64_t first = start / 4096, pages = (end - start) / 4096;
      entries.resize(pages);
      const ssize_t n = ::pread(pagemap, entries.data(), pages * 8, static_cast<off_t>(first * 8));
      if (n < static_cast<ssize_t>(pages * 8)) continue;
      std::string bits((pages + 7) / 8, '\0');
      bool any = false;
      for (std::uint64_t p = 0; p < pages; ++p) {
        if ((entries[p] >> 63) == 0) continue;
        const std::uint64_t page = first + p;
        if (std::any_of(own.begin(), own.end(), [&](const auto& r) { return page >= r.first && page < r.second; })) continue;
        bits[p / 8] = static_cast<char>(bits[p / 8] | (1 << (p % 8)));
        any = true;
      }
      if (!any) continue;
      put_varint(ranges, first);
      put_varint(ranges, pages);
      ranges += bits;
      ++count;
    }
    ::close(pagemap);
    std::string raw;
    put_u64(raw, static_cast<std::uint64_t>(monotonic_now()));
    put_varint(raw, moment.size());
    raw.append(moment);
    put_varint(raw, count);
    raw += ranges;
    image.file.block(BlockType::residency, raw);
    ++stats.residency_snapshots;
  }

  void note(const std::string& problem) {
    if (std::find(stats.problems.begin(), stats.problems.end(), problem) == stats.problems.end()) stats.problems.push_back(problem);
  }

  static bool process_gone(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(stat, text)) return true;
    const std::size_t close = text.rfind(')');
    return close == std::string::npos || close + 2 >= text.size() || text[close + 2] == 'Z' || text[close + 2] == 'X';
  }

  void finish_image(Image& image, const std::string& reason) {
    drain(image);
    flush(image);
    names(image);
    sites(image);
    const RingHeader& r = *image.ring;
    std::ostringstream end;
    end << "reason " << reason << "\nevents " << image.events << "\nwaits " << r.waits.load() << "\nwait_ns " << r.wait_ns.load()
        << "\ndropped " << r.dropped.load() << "\nunwind_misses " << r.unwind_misses.load() << "\nunwind_checked "
        << r.unwind_checked.load() << "\nunwind_disagreed " << r.unwind_disagreed.load() << "\none_frame_sites " << r.one_frame_sites.load()
        << "\n";
    clock(image);
    image.file.block(BlockType::end, end.str());
    image.file.close();
    stats.waits += r.waits.load();
    stats.wait_ns += r.wait_ns.load();
    stats.dropped += r.dropped.load();
    stats.unwind_misses += r.unwind_misses.load();
    stats.unwind_checked += r.unwind_checked.load();
    stats.unwind_disagreed += r.unwind_disagreed.load();
    stats.one_frame_sites += r.one_frame_sites.load();
    stats.bytes += image.file.bytes();
    // What the ring held in the process: its header, the chunk slots, the chunks threads used, the sites.
    stats.ring_bytes +=
        ring_chunks_offset() + std::uint64_t{image.chunks_touched} * kChunkBytes + sizeof(Site) * std::uint64_t{image.sites_written};
    if (reason == "gone") ++stats.cut_short;
    if (!image.file.problem().empty()) note(image.file.problem());
    ::munmap(image.ring, ring_bytes());
    ::close(image.ring_fd);
    ::unlink(image.ring_path.c_str());
    image.ring = nullptr;
    image.over = true;
  }

  // One pass over every image: new sites and names, ready chunks, a moment it asked for, its end.
  void service(Image& image, bool final) {
    if (image.over) return;
    if (reinterpret_cast<std::atomic<std::uint64_t>*>(&image.ring->magic)->load(std::memory_order_acquire) != kRingMagic) {
      if (final || process_gone(image.pid)) {  // it died before its ring was ready: nothing was recorded
        ::munmap(image.ring, ring_bytes());
        ::close(image.ring_fd);
        ::unlink(image.ring_path.c_str());
        image.ring = nullptr;
        image.over = true;
      }
      return;
    }
    if (!image.started) start(image);
    names(image);
    const std::uint32_t request = image.ring->snapshot_request.load(std::memory_order_acquire);
    if (request != 0 && request != image.ring->snapshot_done.load(std::memory_order_relaxed)) {
      drain(image);
      names(image);
      const std::uint32_t at = std::min<std::uint32_t>(request - 1, sizeof image.ring->names - 1);
      residency(image, std::string_view(image.ring->names + at, ::strnlen(image.ring->names + at, sizeof image.ring->names - at)));
      image.ring->snapshot_done.store(request, std::memory_order_release);
    }
    drain(image);
    if (image.ring->ended.load(std::memory_order_acquire) != 0)
      finish_image(image, "exit");
    else if (!image.reason.empty())
      finish_image(image, image.reason);
    else if (process_gone(image.pid))  // it may have reached its exit since `ended` was read
      finish_image(image, image.ring->ended.load(std::memory_order_acquire) != 0 ? "exit" : "gone");
    else if (final)
      finish_image(image, "stopped");
  }

  // Every image gets the phase mark (a replay of any of them keeps the program's phases); the
  // residency snapshot is the measured processes' only, so that the recording's classes at a phase
  // cover what the row's RSS and the heap map's moments cover (Redis's client is recorded too).
  void phase(const std::string& name, const std::vector<pid_t>& measured) {
    for (auto& [ring_name, image] : images) {
      if (image->over || !image->started) continue;
      std::string raw;
      put_u64(raw, static_cast<std::uint64_t>(monotonic_now()));
      raw += name;
      image->file.block(BlockType::phase, raw);
      drain(*image);
      if (measured.empty() || std::find(measured.begin(), measured.end(), image->pid) != measured.end()) residency(*image, name);
    }
  }

  void tick(std::int64_t now, bool final) {
    if (now >= next_scan || final) {
      scan();
      next_scan = now + 20'000'000;
    }
    for (auto& [name, image] : images) service(*image, final);
    if (now >= next_clock) {
      for (auto& [name, image] : images)
        if (!image->over && image->started) clock(*image);
      next_clock = now + 500'000'000;
    }
    if (residency_every_ns > 0 && now >= next_residency) {
      for (auto& [name, image] : images)
        if (!image->over && image->started) residency(*image, "timer");
      next_residency = now + residency_every_ns;
    }
  }
};

void send_line(int fd, const std::string& line) {
  const std::string text = line + "\n";
  [[maybe_unused]] const ssize_t n = ::write(fd, text.data(), text.size());
}

[[noreturn]] void writer_main(Writer& writer, int control, int status) {
  ::setpgid(0, 0);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, nullptr);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) ::signal(s, SIG_DFL);
  std::string pending;
  writer.next_residency = monotonic_now() + writer.residency_every_ns;
  bool finishing = false;
  while (!finishing) {
    pollfd fd{control, POLLIN, 0};
    ::poll(&fd, 1, 1);
    if (fd.revents != 0) {
      char buffer[4096];
      const ssize_t n = ::read(control, buffer, sizeof buffer);
      if (n <= 0) {
        finishing = true;  // ./bench asked, or is gone
      } else {
        pending.append(buffer, static_cast<std::size_t>(n));
        for (std::size_t newline; (newline = pending.find('\n')) != std::string::npos;) {
          const std::string line = pending.substr(0, newline);
          pending.erase(0, newline + 1);
          if (line == "finish") {
            finishing = true;
          } else if (line.rfind("phase ", 0) == 0) {
            // phase COUNT PID... NAME
            std::istringstream in(line.substr(6));
            std::size_t count = 0;
            in >> count;
            std::vector<pid_t> measured(count);
            for (pid_t& pid : measured) in >> pid;
            std::string name;
            std::getline(in >> std::ws, name);
            writer.tick(monotonic_now(), false);
            writer.phase(name, measured);
            send_line(status, "ok");
          }
        }
      }
    }
    writer.tick(monotonic_now(), false);
  }
  writer.tick(monotonic_now(), true);
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  const WriterStats& s = writer.stats;
  std::ostringstream out;
  out << "stats " << s.traces << " " << s.events << " " << s.bytes << " " << s.raw_bytes << " " << s.waits << " " << s.wait_ns << " "
      << s.dropped << " " << s.residency_snapshots << " " << s.unwind_misses << " " << s.unwind_checked << " " << s.unwind_disagreed << " "
      << s.one_frame_sites << " " << s.sites << " " << s.cut_short << " " << cpu << " " << usage.ru_maxrss * 1024 << " " << s.ring_bytes;
  send_line(status, out.str());
  for (const std::string& problem : s.problems) send_line(status, "problem " + problem);
  send_line(status, "done");
  ::_exit(0);
}

// Reads status lines until one that `stop` accepts, bounded by `limit_ns`.
std::vector<std::string> read_until(int fd, const char* last, std::int64_t limit_ns) {
  std::vector<std::string> lines;
  std::string pending;
  const std::int64_t give_up = monotonic_now() + limit_ns;
  while (true) {
    for (std::size_t newline; (newline = pending.find('\n')) != std::string::npos;) {
      lines.push_back(pending.substr(0, newline));
      pending.erase(0, newline + 1);
      if (lines.back() == last) return lines;
    }
    const std::int64_t left = (give_up - monotonic_now()) / 1'000'000;
    if (left <= 0) return lines;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return lines;
    pending.append(buffer, static_cast<std::size_t>(n));
  }
}

}  // namespace

TraceWriter::TraceWriter(std::string ring_directory, std::string trace_directory, std::chrono::nanoseconds residency_every) {
  int control[2], status[2];
  if (::pipe2(control, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  if (::pipe2(status, O_CLOEXEC) != 0) {
    ::close(control[0]);
    ::close(control[1]);
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  Writer writer{std::move(ring_directory), std::move(trace_directory), residency_every.count(), {}, {}, 0, 0, 0, {}, {}, {}, {}};
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork (the trace writer): ") + std::strerror(errno));
  if (pid == 0) {
    ::close(control[1]);
    ::close(status[0]);
    writer_main(writer, control[0], status[1]);
  }
  ::close(control[0]);
  ::close(status[1]);
  pid_ = pid;
  control_ = control[1];
  status_ = status[0];
}

TraceWriter::~TraceWriter() {
  if (!finished_) finish();
}

void TraceWriter::phase(const std::string& name, const std::vector<pid_t>& measured) {
  if (finished_ || control_ < 0) return;
  std::string line = "phase " + std::to_string(measured.size());
  for (pid_t pid : measured) line += " " + std::to_string(pid);
  line += " " + name + "\n";
  if (::write(control_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return;
  read_until(status_, "ok", 30'000'000'000);
}

WriterStats TraceWriter::finish() {
  if (finished_) return stats_;
  finished_ = true;
  const char line[] = "finish\n";
  [[maybe_unused]] const ssize_t n = ::write(control_, line, sizeof line - 1);
  for (const std::string& reply : read_until(status_, "done", 120'000'000'000)) {
    if (reply.rfind("problem ", 0) == 0) stats_.problems.push_back(reply.substr(8));
    if (reply.rfind("stats ", 0) != 0) continue;
    std::istringstream in(reply.substr(6));
    in >> stats_.traces >> stats_.events >> stats_.bytes >> stats_.raw_bytes >> stats_.waits >> stats_.wait_ns >> stats_.dropped >>
        stats_.residency_snapshots >> stats_.unwind_misses >> stats_.unwind_checked >> stats_.unwind_disagreed >> stats_.one_frame_sites >>
        stats_.sites >> stats_.cut_short >> stats_.cpu_seconds >> stats_.max_rss >> stats_.ring_bytes;
  }
  ::close(control_);
  ::close(status_);
  control_ = status_ = -1;
  ::kill(pid_, SIGKILL);  // it has exited by now, or is stuck: either way it is reaped
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  return stats_;
}

}  // namespace bench::trace
