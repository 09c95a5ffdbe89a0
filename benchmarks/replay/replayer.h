// The replayer: a workload (workload.h) run in this process, every call through the process's own
// malloc, free, realloc, calloc, posix_memalign (for every aligned form the trace lumps together),
// operator new (its nothrow forms, so that a failure is counted, not thrown) and operator delete
// (unsized; aligned for a block from aligned new), malloc_trim and mallopt — so whatever allocator
// is preloaded serves them. One replay thread per recorded thread, each running its stream's ops in
// order, waiting at their syncs: the recorded process's main thread runs in the caller's thread (glibc
// serves a main thread from its main arena) and the recording's timeline in a thread of its own; a
// recording without its main thread's calls runs its timeline in the caller's thread.
//
// Its own memory is in mappings of its own, never from the allocator under test: the workload file,
// read whole into one anonymous mapping, and one more for the live-block table (a pointer and a
// size per slot), the streams' chunk lists, the progress words and each thread's counts. Both are
// written through when the workload is loaded (pre-faulted), so a caller that loads before it takes
// its baseline sees them there and nowhere after; regions() says where they are, own_bytes() how
// large. What it cannot keep out: the thread stacks (glibc's, as the program's threads had) and the
// few bytes glibc's pthread_create takes from malloc for each thread's TLS.
//
// Usage, in the child process that measures:
//   bench::replay::Workload workload(path);        // throws ReplayError
//   ... baseline (workload.regions() left out) ...
//   ReplayResult r = workload.replay({.timing = Timing::as_recorded, .on_phase = report});
// A workload is replayed once per process: its blocks live on at the end, as the recording left them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "benchmarks/replay/workload.h"

namespace bench::replay {

namespace detail {
struct Layout;  // the arena's tables (replayer.cc)
}  // namespace detail

struct ReplayError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Timing {
  fast,         // no gaps: each op as soon as its syncs allow (the allocator's own speed)
  as_recorded,  // an op that came 1 ms or more after its stream's previous one waits for its time on the
                // recording's clock (replay start = the recording's origin): decay timers and background
                // threads see the program's idle periods; phases are delivered at their recorded time
};

// How a new block is written, as the program would have it resident.
enum class Fill {
  all_bytes,         // every byte it asked for (realloc: the bytes beyond the old size)
  one_write_a_page,  // one byte in each page the block spans: the same pages resident, a fraction of the stores
  none,              // nothing: only what the allocator itself touches
};

enum class Calls {
  allocator,  // every call made
  none,       // no call made (a null allocator: each block a distinct fake address): the replayer's own cost
};

// A phase delivered to the caller, in the timeline's thread (above; the end in the caller's), in order, once every thread has run its
// ops stamped before it. The threads that report a moment wait until the callback returns, as the
// program waited for its snapshot, and the others run on; at a program phase every thread waits
// (ReplayOptions::hold_at_program_phases).
struct PhaseEvent {
  enum class Kind {
    moment,         // a workload's moment (the program reported it: PhaseKind::moment)
    program_phase,  // one of ./bench's phases of a program, marked from outside while it ran
    end,            // every stream has run its last op (threads the recording never saw end are still alive)
  };
  Kind kind;
  std::string_view name;  // valid while the Workload lives; "end" for the end
  std::uint32_t index;    // 0, 1, ... in delivery order
  double recorded_s;      // its time on the recording's clock, from the origin
  double replay_s;        // when it was delivered, from the replay's start
};

struct ReplayOptions {
  Timing timing = Timing::fast;
  Fill fill = Fill::all_bytes;
  Calls calls = Calls::allocator;
  // At a program phase (./bench's, which the program waited for), every thread not ended waits at
  // its place in the recording until the callback returns, so that release steps run there see the
  // heap as it was at that moment. The recording does not say which thread waited: off, only the
  // timeline waits (for every thread's ops before the phase) and the threads run on.
  bool hold_at_program_phases = true;
  // May be empty. An exception it throws does not stop the replay: replay() rethrows the first
  // once every replay thread has been joined.
  std::function<void(const PhaseEvent&)> on_phase = nullptr;
  // As recorded only: once on_phase has returned for the first phase named `resume_after`, the
  // replay thread that makes the next allocator call calls on_resume first, once, with that call's
  // time on the recording's clock — the end of the program's quiet period after that phase, read
  // at the call rather than at whichever sample fell nearest. May be empty.
  std::string_view resume_after = {};
  std::function<void(double recorded_s)> on_resume = nullptr;
};

struct ReplayResult {
  std::uint64_t calls = 0;  // allocation and free calls made (or, with Calls::none, skipped)
  CallCounts kinds;
  std::uint64_t phases = 0;   // delivered, the end included
  std::uint64_t failed = 0;   // allocations that returned null (their blocks are then absent)
  std::uint64_t threads = 0;  // replay threads started
  double seconds = 0;         // wall time from the replay's start until every stream ran its last op
  double ns_per_call = 0;     // seconds / calls
  // The replay threads' wall time running ops (not sleeping, not waiting at syncs), summed: time
  // the scheduler gave other threads meanwhile counts.
  double thread_seconds = 0;
  double ns_per_call_in_thread = 0;  // thread_seconds / calls: the replayer's and the allocator's cost a call
  std::uint64_t sync_waits = 0;      // syncs a replay thread reached before they were met (the timeline's own not counted)
  double sync_wait_seconds = 0;      // time spent waiting at them, summed over threads
  std::uint64_t sleeps = 0;          // gaps waited for (as_recorded)
  double max_lag_s = 0;              // the most an op with a gap started after its recorded time (as_recorded)
  std::uint64_t end_live_bytes = 0, end_live_blocks = 0;  // blocks live at the end, sizes as asked
  std::uint64_t bad_ops = 0;  // ops refused: a slot or a sync out of the workload's range (none in a converter's output)
  Anomalies anomalies;        // the recording's, as the converter counted them
};

struct Region {
  std::uintptr_t start, end;
};

class Workload {
 public:
  // Reads `path` whole into a mapping of its own and checks it: the header, every chunk's magic and
  // checksum, the summary. A foreign file, another version, a torn or short chunk, a missing summary
  // is a ReplayError naming the file and the offset.
  explicit Workload(const std::string& path);
  ~Workload();
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  const std::string& path() const { return path_; }
  std::string header_value(const std::string& key) const;
  const Summary& summary() const { return summary_; }
  const Anomalies& anomalies() const { return anomalies_; }
  // Empty, or where the recording was cut short (the workload is its clean prefix).
  const std::string& source_warning() const { return source_warning_; }
  std::string_view name(std::uint32_t id) const;
  std::size_t name_count() const { return names_.size(); }  // the phases' names, ids 0 ...

  // The replayer's own mappings (left out of every class) and their size.
  std::vector<Region> regions() const;
  std::uint64_t own_bytes() const;

  // Runs the workload (once; see above). Returns when every stream has run its last op, the end was
  // delivered and every replay thread has exited.
  ReplayResult replay(const ReplayOptions& options);

 private:
  std::uint32_t main_stream() const;
  std::string path_;
  std::map<std::string, std::string> header_;
  Summary summary_;
  Anomalies anomalies_;
  std::string source_warning_;
  std::vector<std::string> names_;
  void* file_ = nullptr;
  std::size_t file_bytes_ = 0;
  void* arena_ = nullptr;
  std::size_t arena_bytes_ = 0;
  detail::Layout* layout_ = nullptr;
  bool replayed_ = false;
};

}  // namespace bench::replay
