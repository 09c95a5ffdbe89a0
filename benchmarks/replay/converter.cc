#include "benchmarks/replay/converter.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <memory>
#include <queue>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

#include "benchmarks/trace/format.h"
#include "benchmarks/trace/reader.h"

namespace bench::replay {
namespace {

using trace::EventKind;

constexpr std::int64_t kDeferLimitNs = 1'000'000'000;            // a deferral unresolved for this long on the recording's clock is given up
constexpr std::size_t kDeferLimitEvents = std::size_t{1} << 20;  // ... or once its thread holds this many events behind it
constexpr std::uint64_t kSlotReuseAge = std::uint64_t{1} << 16;  // a slot another stream freed is reused this many ops later
constexpr std::size_t kRecentFrees = std::size_t{1} << 18;       // freed addresses remembered (double frees), then forgotten
constexpr std::size_t kBufferedOps = std::size_t{16} << 20;      // op bytes held across streams before every chunk is written
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

bool allocates(EventKind k) {
  return k == EventKind::malloc || k == EventKind::calloc || k == EventKind::realloc || k == EventKind::memalign || k == EventKind::new_ ||
         k == EventKind::new_aligned;
}
bool frees(EventKind k) { return k == EventKind::free || k == EventKind::delete_ || k == EventKind::realloc_free; }

// An open-addressing map from a non-zero 64-bit key (an address: the trace never records a null
// block) to V, with backward-shift deletion: no allocation per entry, unlike std::unordered_map,
// for the live blocks of a program that may hold tens of millions.
template <class V>
class AddressMap {
 public:
  AddressMap() { rehash(1024); }
  V* find(std::uint64_t key) {
    for (std::size_t i = slot(key);; i = (i + 1) & mask_) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == 0) return nullptr;
    }
  }
  V& insert(std::uint64_t key, const V& value) {
    if ((size_ + 1) * 10 > keys_.size() * 7) rehash(keys_.size() * 2);
    std::size_t i = slot(key);
    while (keys_[i] != 0 && keys_[i] != key) i = (i + 1) & mask_;
    if (keys_[i] == 0) ++size_;
    keys_[i] = key;
    values_[i] = value;
    return values_[i];
  }
  bool erase(std::uint64_t key) {
    std::size_t i = slot(key);
    while (keys_[i] != key) {
      if (keys_[i] == 0) return false;
      i = (i + 1) & mask_;
    }
    // Shift back the entries after it that probed past it, so that no lookup stops at a hole.
    for (std::size_t j = (i + 1) & mask_; keys_[j] != 0; j = (j + 1) & mask_) {
      const std::size_t home = slot(keys_[j]);
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        keys_[i] = keys_[j];
        values_[i] = values_[j];
        i = j;
      }
    }
    keys_[i] = 0;
    --size_;
    return true;
  }
  std::size_t size() const { return size_; }
  void clear() {
    std::fill(keys_.begin(), keys_.end(), 0);
    size_ = 0;
  }
  template <class F>
  void each(F&& f) {
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] != 0) f(keys_[i], values_[i]);
  }

 private:
  std::size_t slot(std::uint64_t key) const { return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_); }
  void rehash(std::size_t capacity) {
    std::vector<std::uint64_t> keys = std::move(keys_);
    std::vector<V> values = std::move(values_);
    keys_.assign(capacity, 0);
    values_.assign(capacity, V{});
    mask_ = capacity - 1;
    shift_ = 64 - __builtin_ctzll(capacity);
    size_ = 0;
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (keys[i] != 0) insert(keys[i], values[i]);
  }
  std::vector<std::uint64_t> keys_;
  std::vector<V> values_;
  std::size_t mask_ = 0, size_ = 0;
  int shift_ = 64;
};

// One trace event, as the merge holds it (the thread is its queue's).
struct Held {
  std::int64_t time;
  std::uint64_t address, size;
  std::uint32_t site;
  EventKind kind;
  std::uint8_t align_log2;
};

struct Sync {
  std::uint32_t stream;
  std::uint64_t count;
};

// A live block: its slot, who allocated it and when (the allocating stream's op count once it was).
// 32 bytes: a program may hold tens of millions.
constexpr std::uint64_t kSizeMask = (std::uint64_t{1} << 48) - 1;
struct Block {
  std::uint32_t slot = 0, stream = 0;
  std::uint64_t count = 0;
  std::int64_t time = 0;
  std::uint64_t size : 48 = 0;        // as asked (a size of 256 TiB or more is cut to 48 bits)
  std::uint64_t align_log2 : 6 = 0;   // of a block from operator new with an alignment ...
  std::uint64_t aligned_new : 1 = 0;  // ... whose delete is then the aligned one
  std::uint64_t held : 1 = 0;         // its realloc_free was seen; the realloc that frees it is its thread's next event
};
static_assert(sizeof(Block) == 32);

struct Stream {
  std::uint32_t index = 0, thread = 0;
  std::string chunk;  // ops not written yet
  std::uint32_t chunk_ops = 0;
  std::uint64_t ops = 0, calls = 0;
  std::int64_t last_us = 0;
  std::int64_t last_slot = 0;
  bool ended = false;
  std::vector<std::uint32_t> free_slots;                    // slots it freed of its own blocks: it reuses them without a sync
  std::unordered_map<std::uint32_t, std::uint64_t> waited;  // the syncs it has waited for, by stream: later ones implied are left out
};

enum class Waiting : std::uint8_t { none, free_of, allocation_of };

// The conversion state of one recorded thread id.
struct Thread {
  std::uint32_t tid = 0;
  Stream* stream = nullptr;
  std::uint64_t handled = 0;  // events of its current stream handled
  // Deferred: events that wait behind the one at the front, which waits for `address`.
  std::deque<Held> pending;
  Waiting waiting = Waiting::none;
  std::uint64_t address = 0;
  bool queued = false;        // on the wake list
  Sync woken_by{0, 0};        // the free its deferred allocation follows (stream 0: none)
  std::uint64_t held = 0;     // the address of the block whose realloc_free came last (0: none)
  bool held_unknown = false;  // a realloc_free of a block the trace never allocated
};

// One source of the merge: a thread id's events in its order.
struct Source {
  std::deque<Held> queue;
  std::int64_t last_time = std::numeric_limits<std::int64_t>::min();
  bool listed = false;
};

// The workload file, written as `path`.partial and renamed by finish().
class Output {
 public:
  Output(std::string path, const std::string& header_text) : path_(std::move(path)), partial_(path_ + ".partial") {
    file_ = std::fopen(partial_.c_str(), "wb");
    if (file_ == nullptr) throw std::runtime_error("cannot create " + partial_ + ": " + std::strerror(errno));
    std::string head(kWorkloadMagic, sizeof kWorkloadMagic);
    auto u32 = [&](std::uint32_t v) { head.append(reinterpret_cast<const char*>(&v), 4); };
    u32(kWorkloadVersion);
    u32(static_cast<std::uint32_t>(header_text.size()));
    u32(trace::crc32(header_text.data(), header_text.size()));
    head += header_text;
    put(head);
  }
  ~Output() {
    if (file_ != nullptr) {
      std::fclose(file_);
      std::remove(partial_.c_str());
    }
  }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  void chunk(ChunkType type, std::uint32_t stream, std::uint32_t ops, const std::string& payload) {
    ChunkHeader header{kChunkMagic, static_cast<std::uint8_t>(type), {0, 0, 0}, stream, ops, static_cast<std::uint32_t>(payload.size()), 0};
    header.crc = trace::block_crc(header, payload.data(), payload.size());
    put(std::string(reinterpret_cast<const char*>(&header), sizeof header));
    put(payload);
  }
  std::uint64_t finish() {
    if (std::fclose(file_) != 0) {
      file_ = nullptr;
      std::remove(partial_.c_str());
      throw std::runtime_error("cannot write " + partial_ + ": " + std::strerror(errno));
    }
    file_ = nullptr;
    if (std::rename(partial_.c_str(), path_.c_str()) != 0) {
      std::remove(partial_.c_str());
      throw std::runtime_error("cannot rename " + partial_ + " to " + path_ + ": " + std::strerror(errno));
    }
    return bytes_;
  }

 private:
  void put(const std::string& data) {
    if (std::fwrite(data.data(), 1, data.size(), file_) != data.size())
      throw std::runtime_error("cannot write " + partial_ + ": " + std::strerror(errno));
    bytes_ += data.size();
  }
  std::string path_, partial_;
  std::FILE* file_ = nullptr;
  std::uint64_t bytes_ = 0;
};

class Converter : public trace::TraceVisitor {
 public:
  Converter(const trace::TraceFile& trace, Output& out, Conversion& result) : out_(out), result_(result) {
    const std::string origin = trace.header_value("start_monotonic_ns");
    origin_ns_ = origin.empty() ? 0 : std::stoll(origin);
    streams_.push_back(std::make_unique<Stream>());  // the timeline
  }

  // ---- the merge (TraceVisitor): events queued per thread, converted in time order up to the
  // watermark (format.h: everything stamped before the pass before the latest one is in).
  void events(std::uint32_t tid, const std::vector<trace::Event>& events, std::int64_t pass_ns) override {
    if (pass_ns > pass_) {
      const std::int64_t watermark = previous_pass_;
      previous_pass_ = pass_;
      pass_ = pass_ns;
      enqueue(tid, events);
      release(watermark);
    } else {
      enqueue(tid, events);
    }
  }
  void name(std::uint32_t offset, std::string_view text) override { name_text_[offset] = std::string(text); }
  void phase(std::int64_t time_ns, std::string_view text) override {
    timeline_queue_.push_back({time_ns, name_id(std::string(text)), PhaseKind::program_phase});
  }
  void end(const std::map<std::string, std::string>& fields) override {
    const auto dropped = fields.find("dropped");
    if (dropped != fields.end()) result_.anomalies.dropped_events += std::stoull(dropped->second);
  }

  void finish() {
    release(kNever);
    while (give_up_one(kNever)) {
    }
    for (auto& [tid, thread] : threads_)
      if (thread.held != 0 || thread.held_unknown) settle_held(thread);
    resolve_names();  // last: a deferral given up above may still convert a moment
    Summary& s = result_.summary;
    live_.each([&](std::uint64_t, Block& b) {
      s.end_live_bytes += b.size;
      ++s.end_live_blocks;
    });
    for (auto& stream : streams_) {
      flush(*stream);
      if (stream->index != 0 && !stream->ended) ++result_.anomalies.threads_never_ended;
      s.duration_us = std::max<std::uint64_t>(s.duration_us, static_cast<std::uint64_t>(stream->last_us));
    }
    s.streams = streams_.size();
    s.slots = next_slot_;
    std::string text;
    auto line = [&](const char* key, std::uint64_t value) { text += std::string(key) + " " + std::to_string(value) + "\n"; };
    Summary::fields(s, line);
    Anomalies::fields(result_.anomalies, line);
    if (!result_.warning.empty()) {
      std::string warning = result_.warning;
      std::replace(warning.begin(), warning.end(), '\n', ' ');
      text += "source_warning " + warning + "\n";
    }
    for (const auto& stream : streams_)
      text += "stream " + std::to_string(stream->index) + " " + std::to_string(stream->thread) + " " + std::to_string(stream->ops) + " " +
              std::to_string(stream->calls) + " " + (stream->ended ? "1" : "0") + "\n";
    for (std::size_t id = 0; id < names_.size(); ++id) {
      std::string text_of = names_[id].resolved ? names_[id].text : "name@" + std::to_string(names_[id].offset);
      std::replace(text_of.begin(), text_of.end(), '\n', ' ');
      text += "name " + std::to_string(id) + " " + text_of + "\n";
    }
    out_.chunk(ChunkType::summary, 0, 0, text);
  }

 private:
  struct Phase {
    std::int64_t time;
    std::uint32_t name;
    PhaseKind kind;
  };
  struct Name {
    std::string text;
    bool resolved = false;
    std::uint32_t offset = 0;
  };

  void enqueue(std::uint32_t tid, const std::vector<trace::Event>& events) {
    Source& source = sources_[tid];
    for (const trace::Event& e : events) {
      std::int64_t time = e.time_ns;
      if (time < source.last_time) {  // the TSC is invariant here: a thread's own events never go back, but a trace may say so
        ++result_.anomalies.clock_steps_back;
        time = source.last_time;
      }
      source.last_time = time;
      source.queue.push_back({time, e.address, e.size, e.site, e.kind, e.align_log2});
    }
    held_events_ += events.size();
    result_.most_events_held = std::max<std::uint64_t>(result_.most_events_held, held_events_);
    result_.summary.events += events.size();
    if (!source.listed && !source.queue.empty()) {
      source.listed = true;
      listed_.push_back(tid);
    }
  }

  // Converts, in time order (a tie: thread events before a phase), everything stamped before
  // `watermark`, then gives up the deferrals that have waited too long.
  void release(std::int64_t watermark) {
    // Time, a free?, thread id: the trace's times are ticks of 2^kTickShift TSC cycles, and at a tie
    // an allocation goes before another thread's free, so that a block handed over and freed within
    // a tick is freed after it was allocated (a free and another thread's reuse of the address in one
    // tick: the reuse is deferred to the free, below).
    using Head = std::tuple<std::int64_t, int, std::uint32_t>;
    std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
    auto head_of = [&](std::uint32_t tid) {
      const Held& front = sources_[tid].queue.front();
      return Head{front.time, frees(front.kind) ? 1 : 0, tid};
    };
    for (std::uint32_t tid : listed_) heads.push(head_of(tid));
    while (true) {
      const std::int64_t next_event = heads.empty() ? kNever : std::get<0>(heads.top());
      const std::int64_t next_phase = timeline_queue_.empty() ? kNever : timeline_queue_.front().time;
      if (next_phase < next_event && next_phase < watermark) {
        const Phase p = timeline_queue_.front();
        timeline_queue_.pop_front();
        timeline_phase(p.time, p.name, p.kind, nullptr);
        continue;
      }
      if (heads.empty() || next_event >= watermark) break;
      const std::uint32_t tid = std::get<2>(heads.top());
      heads.pop();
      Source& source = sources_[tid];
      const Held e = source.queue.front();
      source.queue.pop_front();
      --held_events_;
      if (e.time < released_) ++result_.anomalies.late_events;
      released_ = std::max(released_, e.time);
      arrive(thread_of(tid), e);
      if (!source.queue.empty()) heads.push(head_of(tid));
    }
    std::erase_if(listed_, [&](std::uint32_t tid) {
      Source& source = sources_[tid];
      source.listed = !source.queue.empty();
      return !source.listed;
    });
    if (watermark != kNever)
      while (give_up_one(watermark)) {
      }
  }

  Thread& thread_of(std::uint32_t tid) {
    Thread& t = threads_[tid];
    t.tid = tid;
    return t;
  }

  // ---- conversion, in the global order

  void arrive(Thread& t, const Held& e) {
    if (!t.pending.empty()) {
      hold(t, e);
      return;
    }
    if (!handle(t, e)) {
      hold(t, e);
      blocked_.push_back(&t);
    }
  }

  void hold(Thread& t, const Held& e) {
    t.pending.push_back(e);
    if (allocates(e.kind)) ++deferred_at_[e.address];
  }

  // Runs a deferred thread's events from its front until one waits again.
  void resume(Thread& t) {
    while (!t.pending.empty()) {
      const Held e = t.pending.front();
      if (!handle(t, e)) return;
      t.pending.pop_front();
      if (allocates(e.kind)) unhold_address(e.address);
    }
    std::erase(blocked_, &t);
  }

  void unhold_address(std::uint64_t address) {
    const auto it = deferred_at_.find(address);
    if (it != deferred_at_.end() && --it->second == 0) deferred_at_.erase(it);
  }

  // The deferred threads waiting for `address` to be freed (or allocated) may go on.
  void wake(std::uint64_t address, Waiting what, const Stream& by) {
    const auto it = waiters_.find(address);
    if (it == waiters_.end()) return;
    std::vector<Thread*> woken;
    std::erase_if(it->second, [&](Thread* t) {
      if (t->waiting != what) return false;
      t->waiting = Waiting::none;
      if (what == Waiting::free_of) t->woken_by = {by.index, by.ops};
      woken.push_back(t);
      return true;
    });
    if (it->second.empty()) waiters_.erase(it);
    for (Thread* t : woken)
      if (!t->queued) {
        t->queued = true;
        wake_list_.push_back(t);
      }
    if (waking_) return;
    waking_ = true;
    while (!wake_list_.empty()) {
      Thread* t = wake_list_.front();
      wake_list_.pop_front();
      t->queued = false;
      resume(*t);
    }
    waking_ = false;
  }

  bool wait_for(Thread& t, std::uint64_t address, Waiting what, std::int64_t time) {
    if (t.waiting == Waiting::none) {
      t.waiting = what;
      t.address = address;
      waiters_[address].push_back(&t);
      (what == Waiting::free_of ? result_.anomalies.deferred_allocations : result_.anomalies.deferred_frees) += 1;
      t.woken_by = {0, 0};
      since_[&t] = time;
    }
    return false;
  }

  // The oldest deferral past its limit (all, at the end) given up; false when there is none.
  bool give_up_one(std::int64_t watermark) {
    Thread* oldest = nullptr;
    for (Thread* t : blocked_) {
      const std::int64_t since = since_[t];
      const bool due = watermark == kNever || watermark - since > kDeferLimitNs || t->pending.size() > kDeferLimitEvents;
      if (due && (oldest == nullptr || since < since_[oldest])) oldest = t;
    }
    if (oldest == nullptr) return false;
    Thread& t = *oldest;
    const std::uint64_t address = t.address;
    auto& list = waiters_[address];
    std::erase(list, &t);
    if (list.empty()) waiters_.erase(address);
    if (t.waiting == Waiting::free_of) {
      // The live block's free never came: it ends here, where its address was allocated again.
      ++result_.anomalies.reused_live;
      Block* live = live_.find(address);
      t.waiting = Waiting::none;
      if (live != nullptr && live->held != 0)  // its realloc is under way: that realloc becomes realloc(NULL, size)
        for (auto& [tid, holder] : threads_)
          if (holder.held == address) {
            holder.held = 0;
            holder.held_unknown = true;
          }
      if (live != nullptr) free_block(stream_of(t, t.pending.front().time), address, *live, OpKind::free, t.pending.front().time);
    } else {
      ++result_.anomalies.unknown_frees;  // its allocation never came
      t.waiting = Waiting::none;
      t.pending.pop_front();
    }
    resume(t);
    return true;
  }

  // The thread's stream, made when its first event is handled: a start on the timeline, after
  // every stream's ops stamped before it (what its creator did before creating it is among them).
  Stream& stream_of(Thread& t, std::int64_t time) {
    if (t.stream != nullptr) return *t.stream;
    auto stream = std::make_unique<Stream>();
    stream->index = static_cast<std::uint32_t>(streams_.size());
    stream->thread = t.tid;
    t.stream = stream.get();
    t.handled = 0;
    streams_.push_back(std::move(stream));
    std::string fields;
    put_varint(fields, t.stream->index);
    timeline_op(OpKind::start, time, all_streams_except(t.stream->index), fields);
    return *t.stream;
  }

  std::vector<Sync> all_streams_except(std::uint32_t except) const {
    std::vector<Sync> syncs;
    for (const auto& s : streams_)
      if (s->index != 0 && s->index != except && s->ops > 0) syncs.push_back({s->index, s->ops});
    return syncs;
  }

  // Handles one event of `t` in the global order; false when it must wait (deferred).
  bool handle(Thread& t, const Held& e) {
    if (e.kind == EventKind::thread_start && t.stream != nullptr && t.handled > 0) {
      // The kernel gave a new thread the id of one that had its events: a stream of its own.
      if (t.held != 0 || t.held_unknown) settle_held(t);
      t.stream = nullptr;
    }
    Stream& s = stream_of(t, e.time);
    ++t.handled;
    if (allocates(e.kind)) return allocation(t, s, e);
    if (frees(e.kind)) return deallocation(t, s, e);
    if (t.held != 0 || t.held_unknown) settle_held(t);
    switch (e.kind) {
      case EventKind::thread_exit: s.ended = true; break;
      case EventKind::malloc_trim: {
        std::string fields;
        put_varint(fields, e.size);
        op(s, OpKind::malloc_trim, e.time, {}, fields);
        ++result_.summary.kinds.controls;
        break;
      }
      case EventKind::mallopt: {
        std::string fields;
        put_varint(fields, zigzag(static_cast<std::int32_t>(e.size)));
        put_varint(fields, zigzag(static_cast<std::int32_t>(e.address)));
        op(s, OpKind::mallopt, e.time, {}, fields);
        ++result_.summary.kinds.controls;
        break;
      }
      case EventKind::phase: {
        // A moment the program reported and waited for: on the timeline, and this thread waits
        // there until it is delivered.
        const auto it = trace_names_.find(e.site);
        std::uint32_t id = 0;
        if (it != trace_names_.end()) {
          id = it->second;
        } else {
          id = static_cast<std::uint32_t>(names_.size());
          names_.push_back({"", false, e.site});
          trace_names_[e.site] = id;
        }
        timeline_phase(e.time, id, PhaseKind::moment, &s);
        break;
      }
      case EventKind::fork: ++result_.anomalies.forks; break;
      case EventKind::exec: ++result_.anomalies.execs; break;
      default: break;  // thread_start
    }
    return true;
  }

  bool allocation(Thread& t, Stream& s, const Held& e) {
    if (e.kind != EventKind::realloc && (t.held != 0 || t.held_unknown)) settle_held(t);
    Block* live = live_.find(e.address);
    if (live != nullptr && !(e.kind == EventKind::realloc && t.held == e.address)) return wait_for(t, e.address, Waiting::free_of, e.time);
    std::vector<Sync> syncs;
    if (t.woken_by.stream != 0) {
      syncs.push_back(t.woken_by);  // deferred: it follows the free that made room for it
      t.woken_by = {0, 0};
    }
    Block b;
    b.stream = s.index;
    b.time = e.time;
    b.size = e.size & kSizeMask;
    b.aligned_new = e.kind == EventKind::new_aligned ? 1 : 0;
    b.align_log2 = e.align_log2 & 63u;
    std::string fields;
    OpKind kind = OpKind::malloc;
    Summary& sum = result_.summary;
    if (e.kind == EventKind::realloc && t.held != 0) {
      // One op on the old block: its free (the realloc_free before) and the new block.
      const Block old = *live_.find(t.held);
      const std::uint64_t old_address = t.held;
      t.held = 0;
      if (old.stream != s.index) {
        syncs.push_back({old.stream, old.count});
        ++sum.cross_thread;
      }
      live_.erase(old_address);
      live_bytes_ -= old.size;
      b.slot = take_slot(s, syncs);
      put_slot(fields, s, old.slot);
      put_slot(fields, s, b.slot);
      put_varint(fields, e.size);
      op(s, OpKind::realloc, e.time, syncs, fields);
      give_slot(s, old);
      ++sum.kinds.reallocs;
      add_live(s, e.address, b);
      if (old_address != e.address) {
        recent_.insert(old_address, 1);
        wake(old_address, Waiting::free_of, s);
      }
      wake(e.address, Waiting::allocation_of, s);
      return true;
    }
    if (e.kind == EventKind::realloc) t.held_unknown = false;  // realloc(NULL, n), or of a block never seen
    b.slot = take_slot(s, syncs);
    put_slot(fields, s, b.slot);
    put_varint(fields, e.size);
    switch (e.kind) {
      case EventKind::malloc: kind = OpKind::malloc, ++sum.kinds.mallocs; break;
      case EventKind::calloc: kind = OpKind::calloc, ++sum.kinds.callocs; break;
      case EventKind::memalign:
        kind = OpKind::memalign, ++sum.kinds.memaligns;
        fields.push_back(static_cast<char>(e.align_log2));
        break;
      case EventKind::new_: kind = OpKind::new_, ++sum.kinds.news; break;
      case EventKind::new_aligned:
        kind = OpKind::new_aligned, ++sum.kinds.new_aligneds;
        fields.push_back(static_cast<char>(e.align_log2));
        break;
      default: kind = OpKind::realloc_null, ++sum.kinds.reallocs; break;
    }
    op(s, kind, e.time, syncs, fields);
    add_live(s, e.address, b);
    wake(e.address, Waiting::allocation_of, s);
    return true;
  }

  bool deallocation(Thread& t, Stream& s, const Held& e) {
    if (t.held != 0 || t.held_unknown) settle_held(t);  // the realloc_free before had no realloc: realloc(p, 0)
    Block* live = live_.find(e.address);
    if (live == nullptr) {
      if (deferred_at_.count(e.address) != 0) return wait_for(t, e.address, Waiting::allocation_of, e.time);
      (recent_.find(e.address) != nullptr ? result_.anomalies.double_frees : result_.anomalies.unknown_frees) += 1;
      if (e.kind == EventKind::realloc_free) t.held_unknown = true;
      return true;
    }
    if (live->held != 0) {  // freed while its realloc is under way in another thread: the program freed it twice
      ++result_.anomalies.double_frees;
      if (e.kind == EventKind::realloc_free) t.held_unknown = true;
      return true;
    }
    if (live->time > e.time) {  // stamped before the live block at its address was allocated: not its free
      ++result_.anomalies.stale_frees;
      if (e.kind == EventKind::realloc_free) t.held_unknown = true;
      return true;
    }
    if (e.kind == EventKind::realloc_free) {
      live->held = 1;
      t.held = e.address;
      held_time_[t.tid] = e.time;
      return true;
    }
    const OpKind kind = e.kind == EventKind::free ? OpKind::free : live->aligned_new != 0 ? OpKind::delete_aligned : OpKind::delete_;
    free_block(s, e.address, *live, kind, e.time);
    return true;
  }

  // A realloc_free whose realloc did not follow: realloc(p, 0) freed p (or, of an unknown block, nothing).
  void settle_held(Thread& t) {
    if (t.held != 0) {
      const std::uint64_t address = t.held;
      t.held = 0;
      Block* live = live_.find(address);
      if (live != nullptr) free_block(*t.stream, address, *live, OpKind::free, held_time_[t.tid]);
    }
    t.held_unknown = false;
  }

  void free_block(Stream& s, std::uint64_t address, Block block, OpKind kind, std::int64_t time) {
    std::vector<Sync> syncs;
    Summary& sum = result_.summary;
    if (block.stream != s.index) {
      syncs.push_back({block.stream, block.count});
      ++sum.cross_thread;
    }
    std::string fields;
    put_slot(fields, s, block.slot);
    if (kind == OpKind::delete_aligned) fields.push_back(static_cast<char>(block.align_log2));
    op(s, kind, time, syncs, fields);
    (kind == OpKind::free ? sum.kinds.frees : sum.kinds.deletes) += 1;
    live_.erase(address);
    live_bytes_ -= block.size;
    give_slot(s, block);
    if (recent_.size() >= kRecentFrees) recent_.clear();
    recent_.insert(address, 1);
    wake(address, Waiting::free_of, s);
  }

  void add_live(Stream& s, std::uint64_t address, Block b) {
    b.count = s.ops;
    live_.insert(address, b);
    recent_.erase(address);
    live_bytes_ += b.size;
    result_.summary.peak_live_bytes = std::max(result_.summary.peak_live_bytes, live_bytes_);
  }

  // ---- slots: a stream's own freed slots first; one another stream freed long enough ago, with a
  // sync on that free; else a new one.
  std::uint32_t take_slot(Stream& s, std::vector<Sync>& syncs) {
    if (!s.free_slots.empty()) {
      const std::uint32_t slot = s.free_slots.back();
      s.free_slots.pop_back();
      return slot;
    }
    if (!shared_slots_.empty() && shared_slots_.front().seq + kSlotReuseAge <= seq_) {
      const SharedSlot f = shared_slots_.front();
      shared_slots_.pop_front();
      if (f.stream != s.index) syncs.push_back({f.stream, f.count});
      return f.slot;
    }
    return next_slot_++;
  }
  void give_slot(Stream& s, const Block& b) {
    if (b.stream == s.index)
      s.free_slots.push_back(b.slot);
    else
      shared_slots_.push_back({b.slot, s.index, s.ops, seq_});
  }
  void put_slot(std::string& fields, Stream& s, std::uint32_t slot) {
    put_varint(fields, zigzag(static_cast<std::int64_t>(slot) - s.last_slot));
    s.last_slot = slot;
  }

  // ---- the timeline
  void timeline_phase(std::int64_t time, std::uint32_t name, PhaseKind kind, Stream* reporter) {
    std::string fields;
    put_varint(fields, name);
    fields.push_back(static_cast<char>(kind));
    timeline_op(OpKind::phase, time, all_streams_except(0), fields);
    ++result_.summary.phases;
    if (reporter != nullptr) {
      op(*reporter, OpKind::wait, time, {{0, streams_[0]->ops}}, {});
      return;
    }
    // A program phase: the thread that reported it to ./bench waited for the answer, and the trace
    // does not say which one. Every thread not ended gets a hold there, which the replay honours or
    // not (ReplayOptions::hold_at_program_phases). A deferred thread's hold comes before the events
    // it still holds back, though they were stamped before the phase.
    for (const auto& stream : streams_)
      if (stream->index != 0 && !stream->ended) op(*stream, OpKind::hold, time, {{0, streams_[0]->ops}}, {});
  }
  void timeline_op(OpKind kind, std::int64_t time, const std::vector<Sync>& syncs, const std::string& fields) {
    op(*streams_[0], kind, time, syncs, fields);
  }

  std::uint32_t name_id(const std::string& text) {
    names_.push_back({text, true, 0});
    return static_cast<std::uint32_t>(names_.size() - 1);
  }

  // ---- ops
  void op(Stream& s, OpKind kind, std::int64_t time_ns, const std::vector<Sync>& syncs, const std::string& fields) {
    std::int64_t us = time_ns > origin_ns_ ? (time_ns - origin_ns_) / 1000 : 0;
    if (us < s.last_us) us = s.last_us;  // a late event: its stream's time does not go back
    const std::uint64_t delta = static_cast<std::uint64_t>(us - s.last_us);
    s.last_us = us;
    std::vector<Sync> kept;
    for (const Sync& sync : syncs) {
      if (sync.stream == s.index || sync.count == 0) continue;
      std::uint64_t& waited = s.waited[sync.stream];
      if (waited >= sync.count) continue;  // implied by one it waited for before
      waited = sync.count;
      kept.push_back(sync);
    }
    std::string& chunk = op_bytes_;
    chunk.clear();
    const std::uint8_t time_bits = delta < kOpTimeVarint ? static_cast<std::uint8_t>(delta) : kOpTimeVarint;
    chunk.push_back(static_cast<char>(static_cast<std::uint8_t>(kind) | (kept.empty() ? 0 : kOpSync) | (time_bits << kOpTimeShift)));
    if (time_bits == kOpTimeVarint) put_varint(chunk, delta);
    if (!kept.empty()) {
      put_varint(chunk, kept.size());
      for (const Sync& sync : kept) {
        put_varint(chunk, sync.stream);
        put_varint(chunk, sync.count);
      }
      result_.summary.syncs += kept.size();
    }
    chunk += fields;
    if (s.chunk.size() + chunk.size() > kChunkPayloadLimit) flush(s);
    s.chunk += chunk;
    buffered_ += chunk.size();
    ++s.chunk_ops;
    ++s.ops;
    ++seq_;
    ++result_.summary.ops;
    if (kind != OpKind::wait && kind != OpKind::hold && kind != OpKind::phase && kind != OpKind::start && kind != OpKind::malloc_trim &&
        kind != OpKind::mallopt) {
      ++s.calls;
      ++result_.summary.calls;
    }
    if (buffered_ > kBufferedOps)
      for (auto& stream : streams_) flush(*stream);
  }

  void flush(Stream& s) {
    if (s.chunk_ops == 0) return;
    out_.chunk(ChunkType::ops, s.index, s.chunk_ops, s.chunk);
    buffered_ -= s.chunk.size();
    s.chunk.clear();
    s.chunk_ops = 0;
  }

  static void put_varint(std::string& out, std::uint64_t value) { trace::put_varint(out, value); }

  Output& out_;
  Conversion& result_;
  std::int64_t origin_ns_ = 0;
  // the merge
  std::unordered_map<std::uint32_t, Source> sources_;
  std::vector<std::uint32_t> listed_;  // sources with events queued
  std::deque<Phase> timeline_queue_;
  std::int64_t pass_ = std::numeric_limits<std::int64_t>::min(), previous_pass_ = std::numeric_limits<std::int64_t>::min();
  std::int64_t released_ = std::numeric_limits<std::int64_t>::min();
  std::uint64_t held_events_ = 0;
  // conversion
  std::vector<std::unique_ptr<Stream>> streams_;
  std::unordered_map<std::uint32_t, Thread> threads_;
  AddressMap<Block> live_;
  AddressMap<char> recent_;
  std::unordered_map<std::uint64_t, std::uint32_t> deferred_at_;  // allocations held in deferred threads, by address
  std::unordered_map<std::uint64_t, std::vector<Thread*>> waiters_;
  std::unordered_map<const Thread*, std::int64_t> since_;  // when each deferral began (the deferred event's time)
  std::unordered_map<std::uint32_t, std::int64_t> held_time_;
  std::vector<Thread*> blocked_;
  std::deque<Thread*> wake_list_;
  bool waking_ = false;
  struct SharedSlot {
    std::uint32_t slot, stream;
    std::uint64_t count, seq;
  };
  std::deque<SharedSlot> shared_slots_;
  std::uint32_t next_slot_ = 0;
  std::uint64_t seq_ = 0, live_bytes_ = 0, buffered_ = 0;
  std::vector<Name> names_;
  std::unordered_map<std::uint32_t, std::uint32_t> trace_names_;  // trace name offset -> id
  std::unordered_map<std::uint32_t, std::string> name_text_;      // trace name offset -> text
  std::string op_bytes_;

  // Names the trace gave by offset, once read (a names block may follow the event that uses it).
  void resolve_names() {
    for (Name& n : names_)
      if (!n.resolved) {
        const auto it = name_text_.find(n.offset);
        if (it != name_text_.end()) {
          n.text = it->second;
          n.resolved = true;
        }
      }
  }
};

std::string header_text(const trace::TraceFile& trace) {
  std::string text = "source " + trace.path() + "\n";
  for (const char* key : {"pid", "parent", "image", "executable"}) text += std::string(key) + " " + trace.header_value(key) + "\n";
  text += "origin_ns " + trace.header_value("start_monotonic_ns") + "\n";
  text += "converter 1\n";
  return text;
}

}  // namespace

Conversion convert_trace(const std::string& trace_path, const std::string& workload_path) {
  const trace::TraceFile trace(trace_path);  // validates every block first: a torn one is an error before anything is written
  Conversion result;
  result.trace = trace_path;
  result.workload = workload_path;
  result.warning = trace.warning();
  Output out(workload_path, header_text(trace));
  Converter converter(trace, out, result);
  trace.read(converter);
  converter.finish();
  result.workload_bytes = out.finish();
  return result;
}

std::vector<Conversion> convert_recording(const std::string& directory, const std::string& output_directory) {
  std::error_code error;
  std::filesystem::create_directories(output_directory, error);
  if (error) throw std::runtime_error("cannot create " + output_directory + ": " + error.message());
  std::vector<Conversion> conversions;
  for (const std::string& path : trace::trace_files(directory)) {
    const std::string name = std::filesystem::path(path).stem().string();  // <pid>.<image>
    conversions.push_back(convert_trace(path, output_directory + "/" + name + ".workload"));
  }
  return conversions;
}

}  // namespace bench::replay
