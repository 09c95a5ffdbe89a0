#include "allocators/jemalloc.h"

#include <sys/types.h>

#include <stdexcept>
#include <string>

namespace bench::jemalloc {
namespace {

constexpr std::string_view kPath = BENCH_JEMALLOC_PATH;

// int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen) — jemalloc(3).
using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);

LibraryFunction<Mallctl> g_mallctl(kPath, "mallctl");

Mallctl mallctl() { return g_mallctl.get(); }

template <class T>
T read(const char* name) {
  T value{};
  std::size_t length = sizeof value;
  if (mallctl()(name, &value, &length, nullptr, 0) != 0) throw std::runtime_error(std::string("mallctl(\"") + name + "\") failed");
  return value;
}

void command(const char* name) {
  if (mallctl()(name, nullptr, nullptr, nullptr, 0) != 0) throw std::runtime_error(std::string("mallctl(\"") + name + "\") failed");
}

std::string version() { return std::string("jemalloc ") + read<const char*>("version"); }

void prepare() { g_mallctl.get(); }

void report_stats(CounterSink& out) {
  std::uint64_t epoch = 1;  // stats are snapshots refreshed by writing "epoch"
  std::size_t length = sizeof epoch;
  mallctl()("epoch", &epoch, &length, &epoch, length);
  static constexpr const char* kStats[][2] = {
      {"stats.allocated", "stat_allocated"}, {"stats.active", "stat_active"},     {"stats.resident", "stat_resident"},
      {"stats.mapped", "stat_mapped"},       {"stats.retained", "stat_retained"}, {"stats.metadata", "stat_metadata"},
  };
  for (const auto& [name, counter] : kStats) out.counter(counter, static_cast<double>(read<std::size_t>(name)), Unit::bytes);
}

void report_options(CounterSink& out) {
  out.counter("opt_background_thread", read<bool>("opt.background_thread") ? 1 : 0, Unit::count);
  out.counter("opt_dirty_decay_ms", static_cast<double>(read<ssize_t>("opt.dirty_decay_ms")), Unit::count);
  out.counter("opt_muzzy_decay_ms", static_cast<double>(read<ssize_t>("opt.muzzy_decay_ms")), Unit::count);
  out.counter("opt_narenas", read<unsigned>("opt.narenas"), Unit::count);
  // opt.thp: "default", "always" or "never" (jemalloc(3)); reported as 1 for "always".
  out.counter("opt_thp_always", std::string_view(read<const char*>("opt.thp")) == "always" ? 1 : 0, Unit::count);
  out.counter("opt_hpa", read<bool>("opt.hpa") ? 1 : 0, Unit::count);  // jemalloc 5.3's huge-page allocator
}

}  // namespace

const MallocLibrary kLibrary{
    .name = "jemalloc",
    .preload_path = kPath,
    .preloaded = true,
    .missing_reason = BENCH_MISSING_REASON(BENCH_JEMALLOC_PATH, BENCH_JEMALLOC_SONAME, BENCH_JEMALLOC_PACKAGE),
    .version = version,
    .report_stats = report_stats,
    .report_options = report_options,
    .prepare = prepare,
};

void flush_and_purge() {
  command("thread.tcache.flush");
  command("arena.4096.purge");  // 4096 = MALLCTL_ARENAS_ALL
}

}  // namespace bench::jemalloc
