// The replay's converter and replayer (benchmarks/replay/) on traces of known content, written here
// block by block as benchmarks/trace/format.h describes them: the cases a live recording makes
// rarely or never on demand (a free that arrives late, a trace cut short, a torn block, frees of
// blocks never seen) made exactly. Each replay runs in this process under its malloc; none is timed.
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "benchmarks/replay/converter.h"
#include "benchmarks/replay/replayer.h"
#include "benchmarks/trace/analysis.h"
#include "benchmarks/trace/format.h"
#include "benchmarks/trace/reader.h"
#include "benchmarks/trace/ring.h"

namespace bench::replay {
namespace {

using trace::EventKind;

constexpr std::uint64_t kStartTsc = std::uint64_t{1} << 40;
constexpr std::int64_t kOriginNs = 5'000'000'000;

struct Ev {
  EventKind kind;
  std::int64_t time_us;  // from the origin
  std::uint64_t address = 0, size = 0;
  std::uint8_t align_log2 = 0;
  std::uint32_t site = 0;
};

// A trace file as the writer makes it: the header, a clock block (one TSC tick a nanosecond), then
// whatever blocks a test adds, uncompressed.
class TraceBuilder {
 public:
  TraceBuilder() {
    const std::string text = "pid 100\nparent 1\nimage 0\nexecutable /bin/test\nunwinder cache\nsite_frames 6\nstart_tsc " +
                             std::to_string(kStartTsc) + "\nstart_monotonic_ns " + std::to_string(kOriginNs) +
                             "\nclock_source tsc\ntick_shift " + std::to_string(trace::kTickShift) + "\n";
    bytes_.assign(trace::kFileMagic, sizeof trace::kFileMagic);
    u32(bytes_, trace::kFileVersion);
    u32(bytes_, static_cast<std::uint32_t>(text.size()));
    u32(bytes_, trace::crc32(text.data(), text.size()));
    bytes_ += text;
    std::string clock;
    for (std::uint64_t i = 1; i <= 3; ++i) {
      trace::put_u64(clock, kStartTsc + 16 * i);
      trace::put_u64(clock, static_cast<std::uint64_t>(kOriginNs) + 16 * i);
    }
    block(trace::BlockType::clock, clock);
  }

  // One thread's events, drained in the pass that began at `pass_us`.
  TraceBuilder& events(std::uint32_t thread, std::int64_t pass_us, const std::vector<Ev>& events) {
    std::string raw;
    trace::put_varint(raw, thread);
    trace::put_varint(raw, seq_[thread]++);
    trace::put_varint(raw, 0);
    trace::put_varint(raw, events.size());
    trace::put_varint(raw, static_cast<std::uint64_t>(kOriginNs + pass_us * 1000));
    // Encoded as the writer encodes them (EventCodec, one state for the image's blocks in file order).
    std::vector<trace::RawEvent> encoded;
    for (const Ev& e : events)
      encoded.push_back({.tsc = kStartTsc + static_cast<std::uint64_t>(e.time_us) * 1000,
                         .address = e.address,
                         .size = e.size,
                         .site = e.site,
                         .kind = static_cast<std::uint8_t>(e.kind),
                         .align_log2 = e.align_log2,
                         .slack = 0});
    codec_.encode_block(encoded.data(), encoded.size(), kStartTsc, raw);
    return block(trace::BlockType::events, raw);
  }
  TraceBuilder& names(const std::string& name) {
    std::string raw;
    trace::put_varint(raw, 0);
    raw += name;
    raw.push_back('\0');
    return block(trace::BlockType::names, raw);
  }
  TraceBuilder& phase(std::int64_t time_us, const std::string& name) {
    std::string raw;
    trace::put_u64(raw, static_cast<std::uint64_t>(kOriginNs + time_us * 1000));
    raw += name;
    return block(trace::BlockType::phase, raw);
  }
  // A residency snapshot named `moment` at `time_us` (no resident pages: only the live blocks are read).
  TraceBuilder& residency(std::int64_t time_us, const std::string& moment) {
    std::string raw;
    trace::put_u64(raw, static_cast<std::uint64_t>(kOriginNs + time_us * 1000));
    trace::put_varint(raw, moment.size());
    raw += moment;
    trace::put_varint(raw, 0);
    return block(trace::BlockType::residency, raw);
  }
  TraceBuilder& end() { return block(trace::BlockType::end, "reason exit\ndropped 0\n"); }

  TraceBuilder& block(trace::BlockType type, const std::string& raw) {
    offsets_.push_back(bytes_.size());
    trace::BlockHeader header{trace::kBlockMagic,
                              static_cast<std::uint8_t>(type),
                              0,
                              0,
                              static_cast<std::uint32_t>(raw.size()),
                              static_cast<std::uint32_t>(raw.size()),
                              0};
    header.crc = trace::block_crc(header, raw.data(), raw.size());
    bytes_.append(reinterpret_cast<const char*>(&header), sizeof header);
    bytes_ += raw;
    return *this;
  }

  std::string& bytes() { return bytes_; }
  // Where each block begins (the clock block first).
  const std::vector<std::uint64_t>& offsets() const { return offsets_; }
  void write(const std::string& path) const { std::ofstream(path, std::ios::binary) << bytes_; }

 private:
  static void u32(std::string& out, std::uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
  std::string bytes_;
  std::vector<std::uint64_t> offsets_;
  std::map<std::uint32_t, std::uint64_t> seq_;
  trace::EventCodec codec_;
};

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/bench-replay-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    directory_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string path(const std::string& name) const { return directory_ + "/" + name; }

  // Converts `trace`, then replays the workload in this process.
  Conversion convert(TraceBuilder& trace) {
    trace.write(path("100.0.trace"));
    return convert_trace(path("100.0.trace"), path("100.0.workload"));
  }
  ReplayResult replay(ReplayOptions options = {}) {
    Workload workload(path("100.0.workload"));
    return workload.replay(options);
  }

  std::string directory_;
};

TEST_F(ReplayTest, EveryKindOfCallReplaysWithTheRecordingsCountsAndLiveBytes) {
  TraceBuilder trace;
  trace.events(7, 100,
               {{EventKind::thread_start, 1},
                {EventKind::malloc, 2, 0x1000, 100},
                {EventKind::calloc, 3, 0x2000, 50},
                {EventKind::memalign, 4, 0x3000, 256, 6},
                {EventKind::new_, 5, 0x4000, 40},
                {EventKind::new_aligned, 6, 0x5000, 64, 7},
                {EventKind::realloc_free, 7, 0x1000},
                {EventKind::realloc, 7, 0x6000, 200},
                {EventKind::free, 8, 0x2000},
                {EventKind::delete_, 9, 0x4000},
                {EventKind::delete_, 10, 0x5000},
                {EventKind::realloc, 11, 0x7000, 30},  // realloc(NULL, 30)
                {EventKind::malloc_trim, 12, 0, 0},
                {EventKind::thread_exit, 13}});
  trace.events(8, 100, {{EventKind::thread_start, 20}, {EventKind::malloc, 21, 0x8000, 10}});
  trace.end();
  const Conversion c = convert(trace);
  EXPECT_TRUE(c.warning.empty());
  const CallCounts expected{
      .mallocs = 2, .callocs = 1, .memaligns = 1, .news = 1, .new_aligneds = 1, .reallocs = 2, .frees = 1, .deletes = 2, .controls = 1};
  EXPECT_EQ(c.summary.kinds, expected);
  EXPECT_EQ(c.summary.calls, 11u);
  EXPECT_EQ(c.summary.end_live_bytes, 256u + 200 + 30 + 10);
  EXPECT_EQ(c.summary.end_live_blocks, 4u);
  EXPECT_EQ(c.summary.streams, 3u);
  EXPECT_EQ(c.anomalies.threads_never_ended, 1u);  // thread 8 has no thread_exit
  for (Fill fill : {Fill::all_bytes, Fill::one_write_a_page}) {
    Workload workload(path("100.0.workload"));
    const ReplayResult r = workload.replay({.fill = fill});
    EXPECT_EQ(r.kinds, expected);
    EXPECT_EQ(r.calls, c.summary.calls);
    EXPECT_EQ(r.end_live_bytes, c.summary.end_live_bytes);
    EXPECT_EQ(r.end_live_blocks, c.summary.end_live_blocks);
    EXPECT_EQ(r.threads, 2u);
    EXPECT_EQ(r.failed, 0u);
    EXPECT_EQ(r.bad_ops, 0u);
  }
  // The null allocator makes no call but replays every op.
  const ReplayResult skipped = replay({.calls = Calls::none});
  EXPECT_EQ(skipped.kinds, expected);
  EXPECT_EQ(skipped.end_live_bytes, c.summary.end_live_bytes);
}

// Thread 1 allocates, thread 2 frees every block. Without a sync on each allocation, thread 2's
// frees would run ahead of them: each would free nothing and its block would stay live.
TEST_F(ReplayTest, BlocksFreedInAnotherThreadWaitForTheirAllocation) {
  constexpr int kBlocks = 2000;
  std::vector<Ev> producer{{EventKind::thread_start, 1}}, consumer{{EventKind::thread_start, 2}};
  for (int i = 0; i < kBlocks; ++i) {
    producer.push_back({EventKind::malloc, 10 + 2 * i, 0x100000 + 64 * std::uint64_t(i), 48});
    consumer.push_back({EventKind::free, 11 + 2 * i, 0x100000 + 64 * std::uint64_t(i)});
  }
  TraceBuilder trace;
  trace.events(2, 10'000, consumer).events(1, 10'000, producer).end();  // the consumer's block first in the file
  const Conversion c = convert(trace);
  EXPECT_EQ(c.summary.cross_thread, std::uint64_t{kBlocks});
  EXPECT_GE(c.summary.syncs, 1u);
  EXPECT_EQ(c.summary.end_live_blocks, 0u);
  for (int repeat = 0; repeat < 5; ++repeat) {
    Workload workload(path("100.0.workload"));
    const ReplayResult r = workload.replay({.fill = Fill::none});
    EXPECT_EQ(r.kinds.frees, std::uint64_t{kBlocks});
    EXPECT_EQ(r.end_live_blocks, 0u);
    EXPECT_EQ(r.end_live_bytes, 0u);
    EXPECT_EQ(r.bad_ops, 0u);
  }
}

// The free of 0x1000 (thread 2, stamped at 20 us) arrives two passes after thread 1 allocated
// 0x1000 again at 30 us: the allocation waits for it instead of ending the block.
TEST_F(ReplayTest, AnAllocationSeenBeforeTheFreeThatMadeRoomIsDeferred) {
  TraceBuilder trace;
  trace.events(1, 100, {{EventKind::thread_start, 1}, {EventKind::malloc, 10, 0x1000, 64}, {EventKind::malloc, 30, 0x1000, 64}});
  trace.events(2, 100, {{EventKind::thread_start, 5}});
  trace.events(3, 200, {{EventKind::thread_start, 150}});
  trace.events(3, 300, {{EventKind::malloc, 250, 0x9000, 8}});
  trace.events(2, 400, {{EventKind::free, 20, 0x1000}});
  trace.end();
  const Conversion c = convert(trace);
  EXPECT_EQ(c.anomalies.deferred_allocations, 1u);
  EXPECT_GE(c.anomalies.late_events, 1u);
  EXPECT_EQ(c.anomalies.reused_live, 0u);
  EXPECT_EQ(c.summary.kinds.frees, 1u);
  EXPECT_EQ(c.summary.end_live_blocks, 2u);
  const ReplayResult r = replay();
  EXPECT_EQ(r.end_live_blocks, 2u);
  EXPECT_EQ(r.end_live_bytes, 72u);
}

TEST_F(ReplayTest, UnknownDoubleAndStaleFreesAreCountedAndDropped) {
  TraceBuilder trace;
  trace.events(1, 100,
               {{EventKind::thread_start, 1},
                {EventKind::free, 2, 0xdead0},  // never allocated
                {EventKind::malloc, 3, 0x1000, 16},
                {EventKind::free, 4, 0x1000},
                {EventKind::free, 5, 0x1000},  // again
                {EventKind::malloc, 6, 0x2000, 16},
                {EventKind::malloc, 7, 0x2000, 16},    // its free never comes: the first block ends here
                {EventKind::realloc_free, 8, 0x3000},  // of a block never seen: realloc(NULL, 24)
                {EventKind::realloc, 8, 0x3100, 24},
                {EventKind::malloc, 9, 0x4000, 32},
                {EventKind::realloc_free, 10, 0x4000},  // realloc(p, 0) freed it: no realloc follows
                {EventKind::thread_exit, 11}});
  trace.end();
  const Conversion c = convert(trace);
  EXPECT_EQ(c.anomalies.unknown_frees, 2u);  // 0xdead0, and the realloc's old block
  EXPECT_EQ(c.anomalies.double_frees, 1u);
  EXPECT_EQ(c.anomalies.reused_live, 1u);
  EXPECT_EQ(c.summary.kinds.frees, 3u);  // 0x1000, 0x2000 where it was allocated again, 0x4000 by realloc(p, 0)
  EXPECT_EQ(c.summary.kinds.reallocs, 1u);
  EXPECT_EQ(c.summary.end_live_bytes, 16u + 24);
  const ReplayResult r = replay();
  EXPECT_EQ(r.anomalies.unknown_frees, 2u);
  EXPECT_EQ(r.anomalies.double_frees, 1u);
  EXPECT_EQ(r.end_live_bytes, 40u);
  EXPECT_EQ(r.failed, 0u);
}

TEST_F(ReplayTest, ATraceCutShortReplaysItsCleanPrefixWithAWarning) {
  TraceBuilder trace;
  trace.events(1, 100, {{EventKind::thread_start, 1}, {EventKind::malloc, 2, 0x1000, 100}, {EventKind::malloc, 3, 0x2000, 100}});
  trace.events(1, 200, {{EventKind::free, 150, 0x1000}, {EventKind::malloc, 160, 0x3000, 100}});
  const std::uint64_t last = trace.bytes().size();
  trace.events(1, 300, {{EventKind::free, 250, 0x2000}});
  trace.bytes().resize(last + 11);  // inside the last block's header: the writer was killed while writing it
  const Conversion c = convert(trace);
  EXPECT_NE(c.warning.find("offset " + std::to_string(last)), std::string::npos) << c.warning;
  EXPECT_EQ(c.summary.kinds.mallocs, 3u);
  EXPECT_EQ(c.summary.kinds.frees, 1u);
  Workload workload(path("100.0.workload"));
  EXPECT_EQ(workload.source_warning(), c.warning);
  const ReplayResult r = workload.replay({});
  EXPECT_EQ(r.calls, 4u);
  EXPECT_EQ(r.end_live_bytes, 200u);
}

TEST_F(ReplayTest, ATornBlockIsAnErrorNamingItsOffsetAndWritesNothing) {
  TraceBuilder trace;
  trace.events(1, 100, {{EventKind::thread_start, 1}, {EventKind::malloc, 2, 0x1000, 100}});
  trace.events(1, 200, {{EventKind::free, 150, 0x1000}});
  trace.end();
  const std::uint64_t torn = trace.offsets()[2];
  trace.bytes()[torn + sizeof(trace::BlockHeader) + 3] ^= 0x40;
  try {
    convert(trace);
    FAIL() << "a torn block converted";
  } catch (const trace::TraceError& e) {
    EXPECT_NE(std::string(e.what()).find("offset " + std::to_string(torn) + ": the block's checksum does not match"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path("100.0.workload")));
  EXPECT_FALSE(std::filesystem::exists(path("100.0.workload.partial")));
}

TEST_F(ReplayTest, AForeignFileAndAnotherVersionAreErrorsNamingTheOffset) {
  TraceBuilder other;
  other.bytes()[8] = 9;  // the version
  other.write(path("other.trace"));
  EXPECT_THROW(
      {
        try {
          convert_trace(path("other.trace"), path("other.workload"));
        } catch (const trace::TraceError& e) {
          EXPECT_NE(std::string(e.what()).find("offset 8: trace format version 9"), std::string::npos) << e.what();
          throw;
        }
      },
      trace::TraceError);
  std::ofstream(path("foreign.trace")) << "#!/bin/sh\necho not a trace\n";
  EXPECT_THROW(convert_trace(path("foreign.trace"), path("foreign.workload")), trace::TraceError);
  EXPECT_FALSE(std::filesystem::exists(path("other.workload")));
  EXPECT_FALSE(std::filesystem::exists(path("foreign.workload")));
}

// Thread 2 never ends (no thread_exit): it is counted, stays alive until the end is delivered, and
// the replay returns.
TEST_F(ReplayTest, AThreadThatNeverEndsIsCountedAndTheReplayEnds) {
  TraceBuilder trace;
  trace.events(1, 100, {{EventKind::thread_start, 1}, {EventKind::malloc, 2, 0x1000, 8}, {EventKind::thread_exit, 3}});
  trace.events(2, 100, {{EventKind::thread_start, 4}, {EventKind::malloc, 5, 0x2000, 8}});
  trace.events(1, 200, {{EventKind::thread_start, 150}, {EventKind::free, 151, 0x2000}});  // a new thread with a reused id
  trace.end();
  const Conversion c = convert(trace);
  EXPECT_EQ(c.summary.streams, 4u);
  EXPECT_EQ(c.anomalies.threads_never_ended, 2u);
  std::vector<std::string> seen;
  const ReplayResult r = replay({.on_phase = [&](const PhaseEvent& p) { seen.emplace_back(p.name); }});
  EXPECT_EQ(r.threads, 3u);
  EXPECT_EQ(r.end_live_bytes, 8u);
  EXPECT_EQ(seen, std::vector<std::string>{"end"});
}

// Thread 2 starts after thread 1's first five ops: its start waits for them (what its creator did
// before creating it is among them), and the phase at 20 us for all seven and thread 2's one; then
// each thread (neither has ended) gets its hold on the phase.
TEST_F(ReplayTest, AThreadStartAndAPhaseWaitForWhatEveryThreadDidBeforeThem) {
  TraceBuilder trace;
  std::vector<Ev> first{{EventKind::thread_start, 1}};
  for (int i = 0; i < 5; ++i) first.push_back({EventKind::malloc, 2 + i, 0x1000 + 64 * std::uint64_t(i), 8});
  first.push_back({EventKind::malloc, 11, 0x2000, 8});
  first.push_back({EventKind::malloc, 12, 0x2100, 8});
  trace.events(1, 100, first);
  trace.events(2, 100, {{EventKind::thread_start, 10}, {EventKind::malloc, 10, 0x3000, 8}});
  trace.phase(20, "built");
  trace.end();
  const Conversion c = convert(trace);
  // The start: (1, 5). The phase: (1, 7) and (2, 1). The holds: (0, 2) in each. Nothing else
  // passes between the threads.
  EXPECT_EQ(c.summary.syncs, 5u);
  EXPECT_EQ(c.summary.cross_thread, 0u);
  EXPECT_EQ(replay().end_live_blocks, 8u);
}

// A program phase (marked from outside) and a moment the program reported (a phase event naming
// "kept" in the trace's names), delivered in time order, then the end.
TEST_F(ReplayTest, PhasesAreDeliveredInOrderWithTheirNamesAndRecordedTimes) {
  TraceBuilder trace;
  trace.events(1, 100, {{EventKind::thread_start, 1}, {EventKind::malloc, 2, 0x1000, 100}});
  trace.phase(50, "built");
  trace.names("kept");
  trace.events(1, 3000, {{EventKind::phase, 2500, 0, 0, 0, 0}, {EventKind::free, 2600, 0x1000}});
  trace.end();
  const Conversion c = convert(trace);
  EXPECT_EQ(c.summary.phases, 2u);
  for (Timing timing : {Timing::fast, Timing::as_recorded}) {
    std::vector<std::pair<std::string, PhaseEvent::Kind>> seen;
    std::vector<double> recorded;
    Workload workload(path("100.0.workload"));
    const ReplayResult r = workload.replay({.timing = timing, .on_phase = [&](const PhaseEvent& p) {
                                              seen.emplace_back(std::string(p.name), p.kind);
                                              recorded.push_back(p.recorded_s);
                                            }});
    const std::vector<std::pair<std::string, PhaseEvent::Kind>> expected{
        {"built", PhaseEvent::Kind::program_phase}, {"kept", PhaseEvent::Kind::moment}, {"end", PhaseEvent::Kind::end}};
    EXPECT_EQ(seen, expected);
    ASSERT_EQ(recorded.size(), 3u);
    EXPECT_DOUBLE_EQ(recorded[0], 50e-6);
    EXPECT_NEAR(recorded[1], 2500e-6, 2e-6);  // an event's time: to a tick of 2^kTickShift TSC cycles, then to a us
    EXPECT_EQ(r.phases, 3u);
    EXPECT_EQ(r.end_live_bytes, 0u);
  }
}

// Thread 1 allocates 64 MiB before ./bench's phase "built" and frees it after. Held at the phase,
// the block stays allocated however long the callback runs: glibc (this test's allocator) counts it
// among its mmapped bytes. The callback watches for 200 ms: a thread not held frees it in
// microseconds. (A bound on the watching, not a measured time: the test never fails for slowness.)
TEST_F(ReplayTest, AProgramPhaseHoldsEveryThreadUntilTheCallbackReturns) {
  constexpr std::uint64_t kBig = std::uint64_t{64} << 20;
  TraceBuilder trace;
  trace.events(1, 100, {{EventKind::thread_start, 1}, {EventKind::malloc, 2, 0x100000, kBig}});
  trace.phase(50, "built");
  trace.events(1, 3000, {{EventKind::free, 2600, 0x100000}, {EventKind::malloc, 2700, 0x2000, 8}});
  trace.end();
  const Conversion c = convert(trace);
  Workload workload(path("100.0.workload"));
  std::size_t least_mapped = SIZE_MAX;
  const ReplayResult r = workload.replay({.fill = Fill::none, .on_phase = [&](const PhaseEvent& p) {
                                            if (p.kind != PhaseEvent::Kind::program_phase) return;
                                            for (int i = 0; i < 200; ++i) {
                                              least_mapped = std::min(least_mapped, ::mallinfo2().hblkhd);
                                              ::usleep(1000);
                                            }
                                          }});
  EXPECT_GE(least_mapped, kBig);
  EXPECT_EQ(r.end_live_bytes, 8u);
  EXPECT_EQ(r.kinds.frees, 1u);
}

// The end of the quiet period after a phase is read at the next call, not at a sample: on_resume is
// called once, as recorded only, before the free 20 ms after "built" (the 64 MiB block still
// allocated then), after the phase's callback returned however long it ran, and with the call's
// recorded time. Fast: no quiet period, no call.
TEST_F(ReplayTest, TheCallAfterTheQuietPeriodIsReportedOnceBeforeItRuns) {
  constexpr std::uint64_t kBig = std::uint64_t{64} << 20;
  TraceBuilder trace;
  trace.events(1, 100, {{EventKind::thread_start, 1}, {EventKind::malloc, 2, 0x100000, kBig}});
  trace.phase(50, "built");
  trace.events(1, 30000, {{EventKind::free, 20000, 0x100000}, {EventKind::malloc, 25000, 0x2000, 8}});
  trace.end();
  convert(trace);
  for (Timing timing : {Timing::as_recorded, Timing::fast}) {
    std::vector<double> resumed;
    std::size_t mapped = 0;
    bool phase_over = false, after_phase = false;
    Workload workload(path("100.0.workload"));
    workload.replay({.timing = timing,
                     .fill = Fill::none,
                     .on_phase =
                         [&](const PhaseEvent& p) {
                           if (p.name != "built") return;
                           ::usleep(40'000);  // a release step longer than the quiet period
                           phase_over = true;
                         },
                     .resume_after = "built",
                     .on_resume =
                         [&](double recorded_s) {
                           resumed.push_back(recorded_s);
                           mapped = ::mallinfo2().hblkhd;
                           after_phase = phase_over;
                         }});
    if (timing == Timing::fast) {
      EXPECT_TRUE(resumed.empty());
      continue;
    }
    ASSERT_EQ(resumed.size(), 1u);
    EXPECT_DOUBLE_EQ(resumed[0], 20000e-6);
    EXPECT_GE(mapped, kBig) << "read before the free it precedes";
    EXPECT_TRUE(after_phase);
  }
}

// The callback's exception leaves replay() only once the threads are joined; the replay ran to its end.
TEST_F(ReplayTest, AnExceptionFromThePhaseCallbackIsRethrownAfterTheThreadsEnd) {
  TraceBuilder trace;
  trace.events(1, 100, {{EventKind::thread_start, 1}, {EventKind::malloc, 2, 0x1000, 100}});
  trace.phase(50, "built");
  trace.events(2, 3000, {{EventKind::thread_start, 2500}, {EventKind::free, 2600, 0x1000}});
  trace.end();
  convert(trace);
  std::vector<std::string> seen;
  Workload workload(path("100.0.workload"));
  EXPECT_THROW(workload.replay({.on_phase =
                                    [&](const PhaseEvent& p) {
                                      seen.emplace_back(p.name);
                                      if (p.name == "built") throw std::runtime_error("the caller's report failed");
                                    }}),
               std::runtime_error);
  EXPECT_EQ(seen, (std::vector<std::string>{"built", "end"}));
}

// 400 drain passes of 1,000 events each: the merge holds a few passes' events, not the trace.
// The writer holds each thread's events until a flush, so one thread's free can be read before the
// allocation another thread made, or after a third thread's reuse of the address: the analysis ends
// each block at its free's time either way.
TEST_F(ReplayTest, TheAnalysisEndsABlockAtItsFreeWhateverOrderTheThreadsBlocksCome) {
  TraceBuilder trace;
  trace.events(2, 1, {{EventKind::free, 20, 0x10000}});  // X freed by thread 2 ...
  trace.events(1, 1,
               {{EventKind::malloc, 10, 0x10000, 32},          // ... allocated by thread 1
                {EventKind::malloc, 30, 0x20000, 32},          // Z: never freed
                {EventKind::malloc, 40, 0x30000, 32}});        // Y
  trace.events(3, 1, {{EventKind::malloc, 70, 0x30000, 32}});  // Y's address taken again ...
  trace.events(2, 1, {{EventKind::free, 60, 0x30000}});        // ... after thread 2 freed Y
  trace.residency(65, "moment").end();
  trace.write(path("100.0.trace"));
  const trace::TraceAnalysis analysis = trace::analyse_recording(directory_);
  std::map<std::string, double> counters;
  for (const CounterValue& c : analysis.counters) counters[c.name] = c.value;
  EXPECT_EQ(counters["trace_moment_live_blocks"], 1);  // Z alone
  EXPECT_EQ(counters["trace_moment_live"], 32);
  EXPECT_EQ(counters["trace_unknown_frees"], 0);
}

// An event's time is a tick of 2^kTickShift TSC cycles (format.h): two threads' events can share
// one. A block thread 2 allocates and thread 1 frees within a tick is freed after its allocation
// (whichever thread's block comes first, whichever thread id is lower); an address thread 1 frees and
// thread 2 takes again within a tick is the new block's, and neither is an anomaly.
TEST_F(ReplayTest, TheAnalysisOrdersTwoThreadsEventsInOneTickByWhatTheyDo) {
  TraceBuilder trace;
  trace.events(1, 1, {{EventKind::free, 10, 0x10000}});                                        // X, handed over and freed ...
  trace.events(2, 1, {{EventKind::malloc, 10, 0x10000, 32}});                                  // ... in the tick of its allocation
  trace.events(1, 1, {{EventKind::malloc, 20, 0x20000, 48}, {EventKind::free, 30, 0x20000}});  // Y freed ...
  trace.events(2, 1, {{EventKind::malloc, 30, 0x20000, 64}});                                  // ... and its address taken again
  trace.residency(40, "moment").end();
  trace.write(path("100.0.trace"));
  const trace::TraceAnalysis analysis = trace::analyse_recording(directory_);
  std::map<std::string, double> counters;
  for (const CounterValue& c : analysis.counters) counters[c.name] = c.value;
  EXPECT_EQ(counters["trace_moment_live_blocks"], 1);  // the new block at Y's address
  EXPECT_EQ(counters["trace_moment_live"], 64);
  EXPECT_EQ(counters["trace_unknown_frees"], 0);
  EXPECT_EQ(counters["trace_reused_live"], 0);
}

TEST_F(ReplayTest, TheConverterOrdersTwoThreadsEventsInOneTickByWhatTheyDo) {
  TraceBuilder trace;
  trace.events(1, 100, {{EventKind::thread_start, 1}, {EventKind::free, 10, 0x10000}});
  trace.events(2, 100, {{EventKind::thread_start, 2}, {EventKind::malloc, 10, 0x10000, 32}});
  trace.events(1, 200, {{EventKind::malloc, 120, 0x20000, 48}, {EventKind::free, 130, 0x20000}});
  trace.events(2, 200, {{EventKind::malloc, 130, 0x20000, 64}});
  trace.end();
  const Conversion c = convert(trace);
  EXPECT_EQ(c.anomalies.unknown_frees, 0u);
  EXPECT_EQ(c.anomalies.stale_frees, 0u);
  EXPECT_EQ(c.anomalies.reused_live, 0u);
  EXPECT_EQ(c.summary.kinds.frees, 2u);
  EXPECT_EQ(c.summary.end_live_blocks, 1u);
  const ReplayResult r = replay();
  EXPECT_EQ(r.end_live_blocks, 1u);
  EXPECT_EQ(r.end_live_bytes, 64u);
  EXPECT_EQ(r.bad_ops, 0u);
}

// glibc's main arena (heap 0 in malloc_info): the bytes it has taken from the system.
std::uint64_t main_arena_bytes() {
  char* text = nullptr;
  std::size_t length = 0;
  FILE* out = ::open_memstream(&text, &length);
  ::malloc_info(0, out);
  std::fclose(out);
  const std::string info(text, length);
  std::free(text);
  const std::size_t heap = info.find("<heap nr=\"0\">");
  const std::string key = "<system type=\"current\" size=\"";
  const std::size_t at = info.find(key, heap);
  return heap == std::string::npos || at == std::string::npos ? 0 : std::stoull(info.substr(at + key.size()));
}

// The recorded process's main thread (its thread id is the process's, 100 here) is replayed on the
// caller's thread, so that glibc serves it from its main arena as it served the program: a thread
// of its own got an arena of its own, which kept two thirds of python-bytes' freed memory (glibc
// trims the main arena by itself).
TEST_F(ReplayTest, TheRecordedMainThreadIsReplayedOnTheCallersThread) {
  TraceBuilder trace;
  std::vector<Ev> events{{EventKind::thread_start, 1}};
  for (std::uint64_t i = 0; i < 200; ++i)
    events.push_back({EventKind::malloc, static_cast<std::int64_t>(2 + i), 0x1000000 + i * 0x20000, 100'000});
  trace.events(100, 300, events);
  trace.end();
  convert(trace);
  const std::uint64_t before = main_arena_bytes();
  const ReplayResult r = replay({.timing = Timing::fast, .fill = Fill::none});
  EXPECT_EQ(r.end_live_blocks, 200u);  // kept: they stay in this process's main arena
  EXPECT_GE(main_arena_bytes(), before + 15'000'000);
}

TEST_F(ReplayTest, TheConverterHoldsAFewPassesOfEventsNotTheTrace) {
  TraceBuilder trace;
  std::int64_t t = 1;
  trace.events(1, 1, {{EventKind::thread_start, t}});
  for (int pass = 1; pass <= 400; ++pass) {
    std::vector<Ev> events;
    for (int i = 0; i < 500; ++i, t += 2) {
      events.push_back({EventKind::malloc, t, 0x1000, 32});
      events.push_back({EventKind::free, t + 1, 0x1000});
    }
    trace.events(1, t, events);
  }
  trace.end();
  const Conversion c = convert(trace);
  EXPECT_EQ(c.summary.events, 400'001u);
  EXPECT_LE(c.most_events_held, 3'001u);
  EXPECT_EQ(c.summary.end_live_blocks, 0u);
}

TEST_F(ReplayTest, ATornOrTruncatedWorkloadIsAnErrorNamingTheOffset) {
  TraceBuilder trace;
  trace.events(1, 100, {{EventKind::thread_start, 1}, {EventKind::malloc, 2, 0x1000, 100}});
  trace.end();
  convert(trace);
  std::string bytes;
  {
    std::ifstream in(path("100.0.workload"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::uint32_t header_length = 0;
  std::memcpy(&header_length, bytes.data() + 12, 4);
  const std::uint64_t first_chunk = 20 + header_length;
  std::string torn = bytes;
  torn[first_chunk + sizeof(ChunkHeader)] ^= 1;
  std::ofstream(path("torn.workload"), std::ios::binary) << torn;
  try {
    Workload workload(path("torn.workload"));
    FAIL() << "a torn workload loaded";
  } catch (const ReplayError& e) {
    EXPECT_NE(std::string(e.what()).find("offset " + std::to_string(first_chunk) + ": the chunk's checksum"), std::string::npos)
        << e.what();
  }
  std::ofstream(path("short.workload"), std::ios::binary) << bytes.substr(0, bytes.size() - 5);
  EXPECT_THROW(Workload(path("short.workload")), ReplayError);
  std::ofstream(path("foreign.workload"), std::ios::binary) << "BNCHTRC\nsomething else entirely";
  EXPECT_THROW(Workload(path("foreign.workload")), ReplayError);
}

TEST_F(ReplayTest, ARecordingFolderConvertsOneWorkloadPerImage) {
  TraceBuilder first, second;
  first.events(1, 100, {{EventKind::thread_start, 1}, {EventKind::malloc, 2, 0x1000, 100}}).end();
  second.events(1, 100, {{EventKind::thread_start, 1}, {EventKind::fork, 2, 0, 321}, {EventKind::exec, 3}}).end();
  std::filesystem::create_directories(path("traces"));
  first.write(path("traces/100.0.trace"));
  second.write(path("traces/100.1.trace"));
  const std::vector<Conversion> all = convert_recording(path("traces"), path("workloads"));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(std::filesystem::exists(path("workloads/100.0.workload")));
  EXPECT_TRUE(std::filesystem::exists(path("workloads/100.1.workload")));
  EXPECT_EQ(all[1].anomalies.forks, 1u);
  EXPECT_EQ(all[1].anomalies.execs, 1u);
}

TEST_F(ReplayTest, TheReplayersOwnMemoryIsReportedAndReplayRunsOnce) {
  TraceBuilder trace;
  trace.events(1, 100, {{EventKind::thread_start, 1}, {EventKind::malloc, 2, 0x1000, 100}}).end();
  convert(trace);
  Workload workload(path("100.0.workload"));
  std::uint64_t total = 0;
  for (const Region& r : workload.regions()) {
    EXPECT_LT(r.start, r.end);
    total += r.end - r.start;
  }
  EXPECT_EQ(total, workload.own_bytes());
  workload.replay({});
  EXPECT_THROW(workload.replay({}), ReplayError);
}

}  // namespace
}  // namespace bench::replay

namespace bench::trace {
namespace {

// Events like a program's: blocks of a few sizes, freed in another order, addresses reused, a
// control call between them; times increasing.
std::vector<RawEvent> program_like_events(std::size_t count) {
  std::vector<RawEvent> events;
  std::vector<std::uint64_t> live;
  std::uint64_t tsc = std::uint64_t{1} << 40, next_address = 0x7f0000000000, seed = 12345;
  auto random = [&] { return seed = seed * 6364136223846793005ull + 1442695040888963407ull, seed >> 33; };
  while (events.size() < count) {
    tsc += 16 * (1 + random() % 50);
    const std::uint64_t r = random() % 100;
    if (r < 2) {
      events.push_back({tsc, 0, 1, 0, static_cast<std::uint8_t>(EventKind::malloc_trim), 0, 0});
    } else if (r < 45 && !live.empty()) {
      const std::size_t i = random() % live.size();
      events.push_back({tsc, live[i], 0, 0, static_cast<std::uint8_t>(EventKind::free), 0, 0});
      live[i] = live.back();
      live.pop_back();
    } else {
      const std::uint64_t size = 16 << (random() % 6);
      const std::uint64_t address = r < 70 && !events.empty() && events.back().kind == static_cast<std::uint8_t>(EventKind::free)
                                        ? events.back().address  // the block just freed, again
                                        : (next_address += 4096);
      events.push_back({tsc, address, size, static_cast<std::uint32_t>(1 + random() % 7), static_cast<std::uint8_t>(EventKind::malloc), 0,
                        static_cast<std::uint16_t>(8)});
      live.push_back(address);
    }
  }
  return events;
}

TEST(TraceCodec, ABlockOfSeveralSpansIsTheBlockOfTheirEventsAndDecodesToThem) {
  const std::vector<RawEvent> events = program_like_events(3 * kEventsPerChunk);
  const std::uint64_t start = std::uint64_t{1} << 40;
  std::string whole, split;
  EventCodec one, three;
  one.encode_block(events.data(), events.size(), start, whole);
  const Span spans[] = {{events.data(), kEventsPerChunk},
                        {events.data() + kEventsPerChunk, 7},
                        {events.data() + kEventsPerChunk + 7, events.size() - kEventsPerChunk - 7}};
  three.encode_block(spans, 3, start, split);
  EXPECT_EQ(whole, split);

  EventCodec reader;
  Cursor in{whole};
  std::vector<Event> decoded;
  ASSERT_TRUE(reader.decode_block(in, events.size(), start, decoded));
  ASSERT_EQ(decoded.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(static_cast<std::uint8_t>(decoded[i].kind), events[i].kind) << "event " << i;
    ASSERT_EQ(decoded[i].address, events[i].address) << "event " << i;
    ASSERT_EQ(decoded[i].size, events[i].size) << "event " << i;
    ASSERT_EQ(static_cast<std::uint64_t>(decoded[i].time_ns), events[i].tsc >> kTickShift << kTickShift) << "event " << i;
    if (is_allocation(static_cast<EventKind>(events[i].kind))) {
      ASSERT_EQ(decoded[i].site, events[i].site) << "event " << i;
      ASSERT_EQ(decoded[i].slack, events[i].slack) << "event " << i;
    }
  }
}

TEST(TraceCodec, TheMapsFindOrPutAndTakeAsTheyPutFindAndErase) {
  FlatMap map;
  for (std::uint64_t k = 0; k < 5000; ++k) map.put(k * 7919, k);  // grows several times
  bool found = true;
  EXPECT_EQ(map.find_or_put(3 * 7919, 99, found), 3u);
  EXPECT_TRUE(found);
  EXPECT_EQ(map.find_or_put(1, 99, found), 99u);
  EXPECT_FALSE(found);
  for (std::uint64_t k = 0; k < 5000; k += 2) {
    std::uint64_t value = 0;
    ASSERT_TRUE(map.take(k * 7919, value));
    ASSERT_EQ(value, k);
  }
  std::uint64_t value = 0;
  EXPECT_FALSE(map.take(0, value));
  for (std::uint64_t k = 0; k < 5000; ++k) {
    const std::uint64_t* v = map.find(k * 7919);
    if (k % 2 == 0)
      ASSERT_EQ(v, nullptr) << k;
    else
      ASSERT_TRUE(v != nullptr && *v == k) << k;  // every entry after a backward shift still found
  }
}

// The heap map reads a frame's object as the loader opened it (a link: libruby-3.1.so.3.1), the
// recording as the kernel maps it (the file: libruby-3.1.so.3.1.2); both must name it by its file,
// or the report finds their top pinning sites different where they are one.
TEST(Symbols, AFrameNamesItsObjectByItsFileNotByTheLinkTheLoaderOpened) {
  const std::filesystem::path directory = std::filesystem::temp_directory_path() / ("bench-symbols-" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  const std::filesystem::path file = std::filesystem::read_symlink("/proc/self/exe");
  const std::filesystem::path link = directory / "libshared.so.1";
  std::filesystem::create_symlink(file, link);
  const std::string through_link = symbolize_frame(link.string() + "+0x1");
  const std::string direct = symbolize_frame(file.string() + "+0x1");
  std::filesystem::remove_all(directory);
  EXPECT_EQ(through_link, direct);
  EXPECT_EQ(through_link.find("libshared"), std::string::npos) << through_link;
  EXPECT_NE(through_link.find(file.filename().string()), std::string::npos) << through_link;
}

}  // namespace
}  // namespace bench::trace
