// What a busy process does while it settles: the allocator activity of a service that keeps serving
// after it freed a large structure. The clocks by which jemalloc, mimalloc, tcmalloc and scudo give
// memory back advance only on allocator events that reach their arenas (shared/ALLOCATORS.md), so the
// answer to "when does RSS fall" depends on which pattern the process makes:
//
//   pairs   COUNT x (malloc SIZE, write, free): every block is the one just freed, served from the
//           thread cache; nothing reaches an arena (the suite's first busy pattern).
//   batch   COUNT blocks of SIZE allocated and all kept, then all freed, every period. 1,000 blocks
//           of one size outnumber what glibc's tcache (7 a size), jemalloc's tcache (at most 200 a
//           small size), scudo's per-thread cache and mimalloc's thread-free lists hold, so each
//           period refills from and flushes to the arenas. The default.
//   steady  a working set of BYTES in blocks whose sizes come from a fixed, seeded distribution
//           (log-uniform, 16 B to 4 KiB: small and medium), of which REPLACE % is freed and
//           allocated anew, at random, every period — a service's steady state, as WebKit's
//           MallocBench `balloon` keeps one while it waits for RSS to fall. Built before the
//           baseline sample, so its bytes are part of the baseline and never count as kept.
//
// Spelling (--activity): NAME or NAME:key=value:key=value, e.g. batch:count=1000:size=64,
// steady:bytes=4M:replace=5%. The period (--activity-period) is separate, 10 ms by default.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bench {

class CounterSink;

enum class ActivityPattern { none, pairs, batch, steady };

struct ActivitySpec {
  ActivityPattern pattern = ActivityPattern::none;
  std::uint32_t count = 1000;     // pairs, batch: blocks per period
  std::uint32_t size = 64;        // pairs, batch: bytes per block
  std::uint64_t bytes = 4 << 20;  // steady: the working set
  std::uint32_t replace_pct = 5;  // steady: share of the working set replaced per period
  std::chrono::nanoseconds period = std::chrono::milliseconds{10};

  bool busy() const { return pattern != ActivityPattern::none; }
  std::string_view name() const;  // "pairs", "batch", "steady", "idle"
  // The canonical spelling, every parameter named: "batch:count=1000:size=64".
  std::string text() const;
  // One sentence for reports: "every 10 ms, 1,000 blocks of 64 B allocated, all kept, then all freed".
  std::string description() const;

  // Parses NAME[:key=value...]; the period is left as it is. Throws std::invalid_argument naming
  // the offending part.
  static ActivitySpec parse(std::string_view text);
};

// The default busy pattern (batch:count=1000:size=64 every 10 ms).
inline constexpr std::string_view kDefaultActivity = "batch";

// Runs an ActivitySpec in the child. prepare() allocates everything it needs before the baseline
// sample (the pointer table, the steady working set); step() does one period's work and must be
// called from the thread that settles. Neither reports anything until report().
class Activity {
 public:
  explicit Activity(const ActivitySpec& spec);
  ~Activity();
  Activity(const Activity&) = delete;
  Activity& operator=(const Activity&) = delete;

  const ActivitySpec& spec() const { return spec_; }
  void prepare();
  void step() noexcept;
  // activity_ops (mallocs and frees while settling), activity_cpu_s (the thread's CPU time spent in
  // step()), activity_live_bytes (bytes the activity holds at the end: the steady working set),
  // activity_periods.
  void report(CounterSink& out) const;

 private:
  struct Block {
    void* pointer;
    std::uint32_t size;
  };
  ActivitySpec spec_;
  Block* blocks_ = nullptr;  // mmap'ed: the activity's own bookkeeping never touches the heap under test
  std::size_t capacity_ = 0, live_ = 0;
  std::uint64_t live_bytes_ = 0, operations_ = 0, periods_ = 0, random_state_ = 0x9E3779B97F4A7C15ull;
  double cpu_seconds_ = 0;
  std::uint32_t next_size() noexcept;
  std::uint64_t next_random() noexcept;
};

}  // namespace bench
