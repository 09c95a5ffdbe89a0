#include "allocators/mimalloc.h"

#include <string>

#if __has_include(<mimalloc.h>)
#include <mimalloc.h>
#endif

namespace bench::mimalloc {
namespace {

constexpr std::string_view kPath = BENCH_MIMALLOC_PATH;

// Positions in mimalloc 2.0.9's mi_option_t (mimalloc.h); checked where the header exists.
constexpr int kOptionLargeOsPages = 6;
constexpr int kOptionPageReset = 11;
constexpr int kOptionDecommitDelay = 15;
#if __has_include(<mimalloc.h>)
static_assert(mi_option_large_os_pages == kOptionLargeOsPages);
static_assert(mi_option_page_reset == kOptionPageReset);
static_assert(mi_option_decommit_delay == kOptionDecommitDelay);
#endif

template <class Function>
Function symbol(const char* name) {
  return loaded_library_function<Function>(kPath, name);
}

using ProcessInfo = void (*)(std::size_t*, std::size_t*, std::size_t*, std::size_t*, std::size_t*, std::size_t*, std::size_t*,
                             std::size_t*);
LibraryFunction<ProcessInfo> g_process_info(kPath, "mi_process_info");
LibraryFunction<void (*)(bool)> g_collect(kPath, "mi_collect");

void prepare() {
  g_process_info.get();
  g_collect.get();
}

std::string version() {
  const int v = symbol<int (*)()>("mi_version")();  // MI_MALLOC_VERSION: major*100 + minor*10 + patch
  return "mimalloc " + std::to_string(v / 100) + "." + std::to_string(v / 10 % 10) + "." + std::to_string(v % 10);
}

void report_stats(CounterSink& out) {
  // mi_process_info's current_rss is the commit counter on Linux, not RSS: we keep the commit
  // figures, which are what mimalloc itself believes it holds.
  std::size_t elapsed, user, system, rss, peak_rss, commit = 0, peak_commit = 0, faults;
  g_process_info.get()(&elapsed, &user, &system, &rss, &peak_rss, &commit, &peak_commit, &faults);
  out.counter("stat_current_commit", static_cast<double>(commit), Unit::bytes);
  out.counter("stat_peak_commit", static_cast<double>(peak_commit), Unit::bytes);
}

void report_options(CounterSink& out) {
  const auto get = symbol<long (*)(int)>("mi_option_get");
  out.counter("opt_decommit_delay_ms", static_cast<double>(get(kOptionDecommitDelay)), Unit::count);
  out.counter("opt_large_os_pages", static_cast<double>(get(kOptionLargeOsPages)), Unit::count);
  out.counter("opt_page_reset", static_cast<double>(get(kOptionPageReset)), Unit::count);
}

}  // namespace

const MallocLibrary kLibrary{
    .name = "mimalloc",
    .preload_path = kPath,
    .preloaded = true,
    .missing_reason = BENCH_MISSING_REASON(BENCH_MIMALLOC_PATH, BENCH_MIMALLOC_SONAME, BENCH_MIMALLOC_PACKAGE),
    .version = version,
    .report_stats = report_stats,
    .report_options = report_options,
    .prepare = prepare,
};

void collect() { g_collect.get()(true); }

}  // namespace bench::mimalloc
