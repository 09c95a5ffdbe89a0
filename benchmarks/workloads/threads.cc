// Threads: where do blocks freed by several threads, or by another thread than the one that
// allocated them, end up? glibc gives each thread an arena of its own (up to 8 x cores, never
// destroyed); jemalloc, tcmalloc and mimalloc keep per-thread caches in front of shared arenas.
//   threads          T = cores (the CPUs this process may run on) threads each build, look up and
//                    clear a map of their own slice of the keys (N/T entries each), all at once.
//   threads_x4       the same with T = 4 x cores.
//   threads_handoff  a producer thread builds one map of all N keys; a consumer thread looks it up
//                    and clears it: every free crosses threads.
// The threads start before the baseline sample and meet at a barrier between phases; each phase is
// timed on the wall clock from barrier to barrier (rates: entries of all threads per second). The
// main thread samples rss_peak while the maps are full and rss_cleared_threads_alive once they are
// cleared, then lets the threads exit and joins them before rss_after_thread_exit (= rss_cleared):
// what a thread kept in its cache is handed back to its allocator at exit, so every release step
// (run by the main thread) can reach it — and the difference shows what thread exit alone gives
// back. A finished thread's glibc arena is not destroyed: what it keeps stays until the end, which
// is what glibc.malloc.arena_max (glibc-arena1, glibc-arena2) changes; stat_arenas counts them.
#include <sched.h>

#include <array>
#include <atomic>
#include <barrier>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "benchmarks/workloads/map_phases.h"

namespace bench {
namespace {

using ThreadMap = StdMapAdapter<Md5Key, std::uint64_t, KeyLess>;

unsigned available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return static_cast<unsigned>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Who does what: map m holds keys [first(m), first(m+1)); thread builder(m) inserts them, thread
// consumer(m) looks them up and clears the map.
struct ThreadPlan {
  unsigned threads;
  unsigned maps;
  bool handoff;
  unsigned builder(unsigned map) const { return handoff ? 0 : map; }
  unsigned consumer(unsigned map) const { return handoff ? 1 : map; }
};

void run_threaded(WorkloadContext& context, const ThreadPlan plan) {
  auto& report = context.report;
  const std::uint64_t n = context.size;
  auto slice = [&](unsigned map) {
    const std::uint64_t first = n * map / plan.maps, last = n * (map + 1) / plan.maps;
    return context.keys.subspan(first, last - first);
  };

  // Everything the threads share is allocated before the baseline sample. Phase boundaries are
  // stamped by the barrier's completion step, which runs once the last thread has arrived and before
  // any is released: the main thread's own scheduling (8 threads on 2 cores) does not blur them.
  std::vector<ThreadMap> maps(plan.maps);
  std::vector<std::exception_ptr> errors(plan.threads);
  std::atomic<std::uint64_t> wrong{0};
  std::array<Clock::time_point, 7> stamps{};
  std::array<ResourceUsage, 7> usages{};
  std::size_t completed = 0;
  auto stamp = [&]() noexcept {
    usages[completed] = process_usage();
    stamps[completed++] = Clock::now();
  };
  std::barrier sync(static_cast<std::ptrdiff_t>(plan.threads) + 1, stamp);
  std::vector<std::thread> threads;
  threads.reserve(plan.threads);

  for (unsigned self = 0; self < plan.threads; ++self) {
    threads.emplace_back([&, self] {
      // A failing phase records its exception and still meets every barrier.
      auto phase = [&](auto&& work) {
        try {
          work();
        } catch (...) {
          errors[self] = std::current_exception();
        }
      };
      sync.arrive_and_wait();  // 0: running; the main thread samples rss_base
      sync.arrive_and_wait();  // 1: insert
      phase([&] {
        for (unsigned m = 0; m < plan.maps; ++m)
          if (plan.builder(m) == self) maps[m].load(slice(m), [] {});
      });
      sync.arrive_and_wait();  // 2: inserted; the main thread samples rss_peak
      sync.arrive_and_wait();  // 3: look up
      phase([&] {
        for (unsigned m = 0; m < plan.maps; ++m)
          if (plan.consumer(m) == self) wrong += wrong_lookups(maps[m], slice(m));
      });
      sync.arrive_and_wait();  // 4: looked up; clear
      phase([&] {
        for (unsigned m = 0; m < plan.maps; ++m)
          if (plan.consumer(m) == self) maps[m].clear();
      });
      sync.arrive_and_wait();  // 5: cleared; the main thread samples rss_cleared_threads_alive
      sync.arrive_and_wait();  // 6: exit
    });
  }

  auto seconds_between = [&](std::size_t from, std::size_t to) { return std::chrono::duration<double>(stamps[to] - stamps[from]).count(); };
  sync.arrive_and_wait();  // 0
  const std::size_t base = resident_bytes();
  sync.arrive_and_wait();  // 1
  sync.arrive_and_wait();  // 2
  const std::size_t peak = resident_bytes();
  sync.arrive_and_wait();  // 3
  sync.arrive_and_wait();  // 4
  sync.arrive_and_wait();  // 5
  const std::size_t cleared_threads_alive = resident_bytes();
  sync.arrive_and_wait();  // 6
  for (std::thread& thread : threads) thread.join();
  const std::size_t cleared = resident_bytes();
  const double insert_seconds = seconds_between(1, 2), lookup_seconds = seconds_between(3, 4), clear_seconds = seconds_between(4, 5);

  for (const std::exception_ptr& error : errors)
    if (error) std::rethrow_exception(error);
  if (wrong != 0) throw WorkloadFailure(std::to_string(wrong.load()) + " of " + std::to_string(n) + " keys were not found after insert");

  report.counter("thread_count", static_cast<double>(plan.threads), Unit::count);
  report.counter("rss_cleared_threads_alive", static_cast<double>(cleared_threads_alive), Unit::bytes);
  report.counter("rss_after_thread_exit", static_cast<double>(cleared), Unit::bytes);
  struct Phase {
    const char* name;
    std::size_t from, to;
  };
  for (const Phase& phase : {Phase{"insert", 1, 2}, Phase{"lookup", 3, 4}, Phase{"clear", 4, 5}}) {
    const double seconds = seconds_between(phase.from, phase.to);
    report.counter(CounterName(phase.name, "seconds"), seconds, Unit::seconds);
    report_rate(report, phase.name, static_cast<double>(n), seconds);
    report_usage(report, phase.name, usages[phase.to] - usages[phase.from]);
  }
  report.time(insert_seconds + lookup_seconds + clear_seconds);
  finish_after_free(context, {base, peak, cleared});
}

// Per thread: a stack (8 MiB reserved, little touched), an arena or cache's slack, at most 16 MiB.
std::uint64_t threaded_peak_estimate(std::uint64_t size, unsigned threads, const Configuration& configuration) {
  return node_container_peak_estimate(size, kStdMapNodeBytes<std::uint64_t>, configuration) + threads * (16ull << 20);
}

void run_threads(WorkloadContext& context) {
  const unsigned cores = available_cores();
  run_threaded(context, {.threads = cores, .maps = cores, .handoff = false});
}

void run_threads_x4(WorkloadContext& context) {
  const unsigned threads = 4 * available_cores();
  run_threaded(context, {.threads = threads, .maps = threads, .handoff = false});
}

void run_threads_handoff(WorkloadContext& context) { run_threaded(context, {.threads = 2, .maps = 1, .handoff = true}); }

std::uint64_t threads_peak_estimate(std::uint64_t size, const Configuration& configuration) {
  return threaded_peak_estimate(size, std::max(2u, available_cores()), configuration);
}

std::uint64_t threads_x4_peak_estimate(std::uint64_t size, const Configuration& configuration) {
  return threaded_peak_estimate(size, 4 * available_cores(), configuration);
}

const std::vector<std::string_view> kThreadsHeadline = {
    "insert_rate", "lookup_rate", "clear_rate", "rss_peak", "rss_cleared_threads_alive", "rss_after_thread_exit", "rss_final"};

// rss_cleared is rss_after_thread_exit; rss_cleared_threads_alive is the reading before the exit.
constexpr std::string_view kThreadsClearedMoment = "after the threads cleared their maps and exited";

const WorkloadRegistration kThreads{{
    .name = "threads",
    .summary = "one map of N/T entries per thread, T = cores, built, looked up and cleared concurrently; threads exit before settle",
    .order = 50,
    .process_level_only = true,
    .cleared_moment = kThreadsClearedMoment,
    .headline = kThreadsHeadline,
    .run = run_threads,
    .peak_bytes_estimate = threads_peak_estimate,
}};

const WorkloadRegistration kThreadsX4{{
    .name = "threads_x4",
    .summary = "as threads with T = 4 x cores",
    .order = 51,
    .process_level_only = true,
    .cleared_moment = kThreadsClearedMoment,
    .headline = kThreadsHeadline,
    .run = run_threads_x4,
    .peak_bytes_estimate = threads_x4_peak_estimate,
}};

const WorkloadRegistration kThreadsHandoff{{
    .name = "threads_handoff",
    .summary = "a producer thread builds the map, a consumer thread looks it up and clears it (cross-thread frees)",
    .order = 52,
    .process_level_only = true,
    .cleared_moment = kThreadsClearedMoment,
    .headline = kThreadsHeadline,
    .run = run_threads_handoff,
    .peak_bytes_estimate = threads_peak_estimate,
}};

}  // namespace

}  // namespace bench
