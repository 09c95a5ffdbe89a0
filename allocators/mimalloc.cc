#include "allocators/mimalloc.h"

#include <string>

#if __has_include(<mimalloc.h>)
#include <mimalloc.h>
#endif

namespace bench::mimalloc {
namespace {

constexpr std::string_view kPath = BENCH_MIMALLOC_PATH;

// mi_option_decommit_delay in mimalloc 2.0.9's mi_option_t (mimalloc.h); checked where the header exists.
constexpr int kOptionDecommitDelay = 15;
#if __has_include(<mimalloc.h>)
static_assert(mi_option_decommit_delay == kOptionDecommitDelay);
#endif

template <class Function>
Function symbol(const char* name) { return reinterpret_cast<Function>(loaded_library_symbol(kPath, name)); }

std::string version() {
  const int v = symbol<int (*)()>("mi_version")();  // MI_MALLOC_VERSION: major*100 + minor*10 + patch
  return "mimalloc " + std::to_string(v / 100) + "." + std::to_string(v / 10 % 10) + "." + std::to_string(v % 10);
}

void report_stats(CounterSink& out) {
  // mi_process_info's current_rss is the commit counter on Linux, not RSS (ALLOCATORS.md): we keep the
  // commit figures, which are what mimalloc itself believes it holds.
  std::size_t elapsed, user, system, rss, peak_rss, commit = 0, peak_commit = 0, faults;
  symbol<void (*)(std::size_t*, std::size_t*, std::size_t*, std::size_t*, std::size_t*, std::size_t*, std::size_t*, std::size_t*)>(
      "mi_process_info")(&elapsed, &user, &system, &rss, &peak_rss, &commit, &peak_commit, &faults);
  out.counter("stat_current_commit", static_cast<double>(commit));
  out.counter("stat_peak_commit", static_cast<double>(peak_commit));
}

void report_options(CounterSink& out) {
  out.counter("opt_decommit_delay_ms", static_cast<double>(symbol<long (*)(int)>("mi_option_get")(kOptionDecommitDelay)));
}

}  // namespace

const MallocLibrary kLibrary{
    .name = "mimalloc",
    .preload_path = kPath,
    .preloaded = true,
    .missing_reason = kPath.empty() ? "libmimalloc.so.2 was not found when cmake configured the build (install libmimalloc-dev: scripts/setup.sh)" : "",
    .version = version,
    .report_stats = report_stats,
    .report_options = report_options,
};

void collect() { symbol<void (*)(bool)>("mi_collect")(true); }

}  // namespace bench::mimalloc
