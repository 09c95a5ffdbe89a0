// The configuration table: every allocator configuration the suite measures, one row each.
// Adding a configuration of an existing library is one row here; a new library is its own files
// (allocators/<name>.cc and .h, allocators/<name>.cmake that finds it) and its rows.
#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "allocators/configuration.h"
#include "allocators/glibc.h"
#include "allocators/jemalloc.h"
#include "allocators/mimalloc.h"
#include "allocators/scudo.h"
#include "allocators/tbbmalloc.h"
#include "allocators/tcmalloc.h"

namespace bench {
namespace {

const MallocLibrary* const kGlibc = &glibc::kLibrary;
const MallocLibrary* const kJemalloc = &jemalloc::kLibrary;
const MallocLibrary* const kTcmalloc = &tcmalloc::kLibrary;
const MallocLibrary* const kMimalloc = &mimalloc::kLibrary;
const MallocLibrary* const kScudo = &scudo::kLibrary;
const MallocLibrary* const kTbbmalloc = &tbbmalloc::kLibrary;

const std::vector<Configuration>& table() {
  static const std::vector<Configuration> rows = {
      {.name = "glibc", .summary = "glibc malloc at its defaults", .library = kGlibc, .reference = ""},
      {.name = "glibc-trim",
       .summary = "glibc; malloc_trim(0) after clear",
       .library = kGlibc,
       .release = ReleaseStep{"malloc_trim(0)", glibc::trim}},
      {.name = "glibc-seed-opt1",
       .summary = "the seed's map-opt1: mallopt M_MMAP_THRESHOLD=24, M_TRIM_THRESHOLD=0",
       .library = kGlibc,
       .setup = glibc::seed_options_1,
       .page_per_allocation_limit = 65536},  // M_MMAP_MAX's default
      {.name = "glibc-seed-opt2",
       .summary = "the seed's map-opt2: opt1 plus mallopt M_MMAP_MAX=262144",
       .library = kGlibc,
       .setup = glibc::seed_options_2,
       .page_per_allocation_limit = 256 * 1024},
      // Without tcache and fastbins every free() coalesces with its free neighbours at once, so a cleared
      // map melts into the top chunk, which free() trims; trim threshold and top pad 0 give back the
      // last bytes too (top chunk 1.2 kB after clear against glibc's 125 kB:
      // results/seed-scale-5M-v2/REPORT.md). The cost is glibc's fast paths: see the rates. The loader
      // lists 0 for an unset tunable, so tcache and fastbins are checked by their effect; trim
      // threshold and top pad 0 cannot be told from unset and are checked by nothing but the result.
      {.name = "glibc-tuned",
       .summary = "glibc with GLIBC_TUNABLES: no tcache, no fastbins, trim threshold and top pad 0",
       .library = kGlibc,
       .environment = {{"GLIBC_TUNABLES",
                        "glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0:glibc.malloc.trim_threshold=0:glibc.malloc.top_pad=0"}},
       .expected_options = {{"opt_tcache", 0}, {"opt_fastbins", 0}}},
      // glibc gives every thread that finds the arenas busy an arena of its own, up to 8 x cores, and
      // never destroys one: a finished thread's arena keeps what it holds. arena_max caps their number.
      {.name = "glibc-arena1",
       .summary = "glibc with one arena for all threads (glibc.malloc.arena_max=1)",
       .library = kGlibc,
       .environment = {{"GLIBC_TUNABLES", "glibc.malloc.arena_max=1"}},
       .expected_options = {{"opt_arena_max", 1}}},
      {.name = "glibc-arena2",
       .summary = "glibc with at most two arenas (glibc.malloc.arena_max=2)",
       .library = kGlibc,
       .environment = {{"GLIBC_TUNABLES", "glibc.malloc.arena_max=2"}},
       .expected_options = {{"opt_arena_max", 2}}},
      // glibc >= 2.35: madvise(MADV_HUGEPAGE) on the memory malloc takes from the kernel.
      {.name = "glibc-thp",
       .summary = "glibc asking for transparent huge pages (glibc.malloc.hugetlb=1)",
       .library = kGlibc,
       .environment = {{"GLIBC_TUNABLES", "glibc.malloc.hugetlb=1"}},
       .expected_options = {{"opt_hugetlb", 1}},
       .huge_pages = true},

      {.name = "jemalloc",
       .summary = "jemalloc at its defaults",
       .library = kJemalloc,
       .expected_options = {{"opt_dirty_decay_ms", 10000}, {"opt_muzzy_decay_ms", 0}, {"opt_background_thread", 0}, {"opt_hpa", 0}}},
      {.name = "jemalloc-purge",
       .summary = "jemalloc; tcache flush + purge of all arenas after clear",
       .library = kJemalloc,
       .reference = "jemalloc",
       .release = ReleaseStep{"mallctl thread.tcache.flush + arena.<ALL>.purge", jemalloc::flush_and_purge}},
      {.name = "jemalloc-decay0",
       .summary = "jemalloc with dirty and muzzy decay of 0 ms (purge at once)",
       .library = kJemalloc,
       .reference = "jemalloc",
       .environment = {{"MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0"}},
       .expected_options = {{"opt_dirty_decay_ms", 0}, {"opt_muzzy_decay_ms", 0}}},
      // The decay sweep: dirty pages older than dirty_decay_ms are purged (muzzy 0, the default, purges
      // them at once rather than through MADV_FREE) — but only when an allocator event reaches the
      // arena, which an idle process never makes.
      {.name = "jemalloc-decay100",
       .summary = "jemalloc with dirty decay of 100 ms (muzzy 0)",
       .library = kJemalloc,
       .reference = "jemalloc",
       .environment = {{"MALLOC_CONF", "dirty_decay_ms:100,muzzy_decay_ms:0"}},
       .expected_options = {{"opt_dirty_decay_ms", 100}, {"opt_muzzy_decay_ms", 0}}},
      {.name = "jemalloc-decay1000",
       .summary = "jemalloc with dirty decay of 1,000 ms (muzzy 0)",
       .library = kJemalloc,
       .reference = "jemalloc",
       .environment = {{"MALLOC_CONF", "dirty_decay_ms:1000,muzzy_decay_ms:0"}},
       .expected_options = {{"opt_dirty_decay_ms", 1000}, {"opt_muzzy_decay_ms", 0}}},
      {.name = "jemalloc-hpa",
       .summary = "jemalloc with its huge-page allocator (hpa:true, jemalloc 5.3, experimental)",
       .library = kJemalloc,
       .reference = "jemalloc",
       .environment = {{"MALLOC_CONF", "hpa:true"}},
       .expected_options = {{"opt_hpa", 1}},
       .huge_pages = true},
      {.name = "jemalloc-bgthread",
       .summary = "jemalloc with a background thread doing time-based decay",
       .library = kJemalloc,
       .reference = "jemalloc",
       .environment = {{"MALLOC_CONF", "background_thread:true"}},
       .expected_options = {{"opt_background_thread", 1}}},
      {.name = "jemalloc-thp",
       .summary = "jemalloc asking for transparent huge pages (thp:always)",
       .library = kJemalloc,
       .reference = "jemalloc",
       .environment = {{"MALLOC_CONF", "thp:always"}},
       .expected_options = {{"opt_thp_always", 1}},
       .huge_pages = true},

      {.name = "tcmalloc",
       .summary = "gperftools tcmalloc at its defaults",
       .library = kTcmalloc,
       .expected_options = {{"opt_aggressive_memory_decommit", 0}, {"opt_release_rate", 1}}},
      {.name = "tcmalloc-release",
       .summary = "tcmalloc; thread cache flush + ReleaseFreeMemory after clear",
       .library = kTcmalloc,
       .reference = "tcmalloc",
       .release = ReleaseStep{"MallocExtension_MarkThreadIdle + MallocExtension_ReleaseFreeMemory", tcmalloc::flush_and_release}},
      {.name = "tcmalloc-aggressive",
       .summary = "tcmalloc decommitting freed spans at once",
       .library = kTcmalloc,
       .reference = "tcmalloc",
       .environment = {{"TCMALLOC_AGGRESSIVE_DECOMMIT", "t"}},
       .expected_options = {{"opt_aggressive_memory_decommit", 1}}},
      // The release-rate sweep: how many pages the page heap returns per span it frees (0: never,
      // 1: the default, higher: faster). It counts span frees, not time.
      {.name = "tcmalloc-rate0",
       .summary = "tcmalloc never releasing pages on its own (TCMALLOC_RELEASE_RATE=0)",
       .library = kTcmalloc,
       .reference = "tcmalloc",
       .environment = {{"TCMALLOC_RELEASE_RATE", "0"}},
       .expected_options = {{"opt_release_rate", 0}}},
      {.name = "tcmalloc-rate10",
       .summary = "tcmalloc releasing pages 10 x as fast as its default (TCMALLOC_RELEASE_RATE=10)",
       .library = kTcmalloc,
       .reference = "tcmalloc",
       .environment = {{"TCMALLOC_RELEASE_RATE", "10"}},
       .expected_options = {{"opt_release_rate", 10}}},
      {.name = "tcmalloc-rate100",
       .summary = "tcmalloc releasing pages 100 x as fast as its default (TCMALLOC_RELEASE_RATE=100)",
       .library = kTcmalloc,
       .reference = "tcmalloc",
       .environment = {{"TCMALLOC_RELEASE_RATE", "100"}},
       .expected_options = {{"opt_release_rate", 100}}},

      {.name = "mimalloc",
       .summary = "mimalloc at its defaults",
       .library = kMimalloc,
       .expected_options = {{"opt_decommit_delay_ms", 25}, {"opt_page_reset", 0}, {"opt_large_os_pages", 0}}},
      {.name = "mimalloc-collect",
       .summary = "mimalloc; mi_collect(true) after clear",
       .library = kMimalloc,
       .reference = "mimalloc",
       .release = ReleaseStep{"mi_collect(true)", mimalloc::collect}},
      {.name = "mimalloc-decommit0",
       .summary = "mimalloc decommitting freed pages without delay",
       .library = kMimalloc,
       .reference = "mimalloc",
       .environment = {{"MIMALLOC_DECOMMIT_DELAY", "0"}},
       .expected_options = {{"opt_decommit_delay_ms", 0}}},
      // The decommit-delay sweep (default 25 ms): pending decommits are checked only when mimalloc is
      // called, never by a timer.
      {.name = "mimalloc-decommit100",
       .summary = "mimalloc decommitting freed pages after 100 ms (MIMALLOC_DECOMMIT_DELAY=100)",
       .library = kMimalloc,
       .reference = "mimalloc",
       .environment = {{"MIMALLOC_DECOMMIT_DELAY", "100"}},
       .expected_options = {{"opt_decommit_delay_ms", 100}}},
      {.name = "mimalloc-decommit1000",
       .summary = "mimalloc decommitting freed pages after 1,000 ms (MIMALLOC_DECOMMIT_DELAY=1000)",
       .library = kMimalloc,
       .reference = "mimalloc",
       .environment = {{"MIMALLOC_DECOMMIT_DELAY", "1000"}},
       .expected_options = {{"opt_decommit_delay_ms", 1000}}},
      {.name = "mimalloc-page-reset",
       .summary = "mimalloc resetting (MADV_DONTNEED) the memory of pages that become free (MIMALLOC_PAGE_RESET=1)",
       .library = kMimalloc,
       .reference = "mimalloc",
       .environment = {{"MIMALLOC_PAGE_RESET", "1"}},
       .expected_options = {{"opt_page_reset", 1}}},
      // Large OS pages: MAP_HUGETLB if reserved huge pages exist, else madvise(MADV_HUGEPAGE).
      {.name = "mimalloc-thp",
       .summary = "mimalloc asking for large OS pages (MIMALLOC_LARGE_OS_PAGES=1)",
       .library = kMimalloc,
       .reference = "mimalloc",
       .environment = {{"MIMALLOC_LARGE_OS_PAGES", "1"}},
       .expected_options = {{"opt_large_os_pages", 1}},
       .huge_pages = true},

      {.name = "scudo", .summary = "LLVM's hardened scudo allocator at its defaults", .library = kScudo},
      {.name = "scudo-release",
       .summary = "scudo; mallopt(M_PURGE, 0) after clear",
       .library = kScudo,
       .reference = "scudo",
       .release = ReleaseStep{"mallopt(M_PURGE, 0), scudo's own", scudo::purge}},
      {.name = "scudo-interval0",
       .summary = "scudo releasing free pages to the OS without waiting (release_to_os_interval_ms=0)",
       .library = kScudo,
       .reference = "scudo",
       .environment = {{"SCUDO_OPTIONS", "release_to_os_interval_ms=0"}}},
      // The release-interval sweep (scudo's default on Linux is 5,000 ms). scudo has no call that reads
      // its options back: these rows are checked only by their effect (README, "Busy processes").
      {.name = "scudo-interval100",
       .summary = "scudo releasing free pages at most every 100 ms (release_to_os_interval_ms=100)",
       .library = kScudo,
       .reference = "scudo",
       .environment = {{"SCUDO_OPTIONS", "release_to_os_interval_ms=100"}}},
      {.name = "scudo-interval1000",
       .summary = "scudo releasing free pages at most every 1,000 ms (release_to_os_interval_ms=1000)",
       .library = kScudo,
       .reference = "scudo",
       .environment = {{"SCUDO_OPTIONS", "release_to_os_interval_ms=1000"}}},
      {.name = "scudo-interval5000",
       .summary = "scudo with its Linux default interval named (release_to_os_interval_ms=5000)",
       .library = kScudo,
       .reference = "scudo",
       .environment = {{"SCUDO_OPTIONS", "release_to_os_interval_ms=5000"}}},

      {.name = "tbbmalloc", .summary = "oneTBB's scalable allocator at its defaults (through libtbbmalloc_proxy)", .library = kTbbmalloc},
      {.name = "tbbmalloc-clean",
       .summary = "tbbmalloc; scalable_allocation_command(TBBMALLOC_CLEAN_ALL_BUFFERS) after clear",
       .library = kTbbmalloc,
       .reference = "tbbmalloc",
       .release = ReleaseStep{"scalable_allocation_command(TBBMALLOC_CLEAN_ALL_BUFFERS, 0)", tbbmalloc::clean_all_buffers}},

      // Container-level: the process keeps glibc; the map's own allocator decides what is kept.
      {.name = "pool",
       .summary = "std::map with our node pool: 56 B slots in 2 MiB mmap'ed chunks, each unmapped when empty",
       .library = kGlibc,
       .kind = Kind::container_allocator,
       .container = Container::pool_map},
      {.name = "pool-thp",
       .summary = "the pool with MADV_HUGEPAGE on its chunks (transparent huge pages)",
       .library = kGlibc,
       .kind = Kind::container_allocator,
       .reference = "pool",
       .container = Container::pool_map_huge_pages,
       .huge_pages = true},
      {.name = "boost-adaptive-pool",
       .summary = "boost::container::map with adaptive_pool (frees surplus empty blocks itself)",
       .library = kGlibc,
       .kind = Kind::container_allocator,
       .container = Container::boost_adaptive_pool},
      {.name = "boost-node-allocator",
       .summary = "boost::container::map with node_allocator; its free blocks released after clear",
       .library = kGlibc,
       .kind = Kind::container_allocator,
       .release = ReleaseStep{"node_allocator<node>::deallocate_free_blocks()"},
       .container = Container::boost_node_allocator},
      {.name = "pmr-pool",
       .summary = "std::pmr::map over std::pmr::unsynchronized_pool_resource",
       .library = kGlibc,
       .kind = Kind::container_allocator,
       .release = ReleaseStep{"unsynchronized_pool_resource::release()"},
       .container = Container::pmr_pool},

      // A different data structure: compare it with the others only with its caveats (README).
      {.name = "boost-flat-map",
       .summary = "boost::container::flat_map (one sorted vector) loaded with one range insert",
       .library = kGlibc,
       .kind = Kind::different_container,
       .release = ReleaseStep{"flat_map::shrink_to_fit()"},
       .container = Container::boost_flat_map},
  };
  return rows;
}

}  // namespace

std::string_view unit_name(Unit unit) {
  switch (unit) {
    case Unit::bytes: return "bytes";
    case Unit::seconds: return "seconds";
    case Unit::items_per_second: return "items_per_second";
    case Unit::count: return "count";
    case Unit::percent: return "percent";
    case Unit::nanoseconds: return "nanoseconds";
    case Unit::megabyte_seconds: return "megabyte_seconds";  // MB (10^6 bytes) held for a second
  }
  return "count";
}

std::optional<Unit> unit_from_name(std::string_view name) {
  for (Unit unit :
       {Unit::bytes, Unit::seconds, Unit::items_per_second, Unit::count, Unit::percent, Unit::nanoseconds, Unit::megabyte_seconds})
    if (unit_name(unit) == name) return unit;
  return std::nullopt;
}

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::allocator: return "allocator";
    case Kind::container_allocator: return "container allocator";
    case Kind::different_container: return "different container";
  }
  return "allocator";
}

std::span<const Configuration> configurations() { return table(); }

std::string setting_mismatch(const Configuration& configuration, std::span<const ReportedOption> reported) {
  for (const ExpectedOption& expected : configuration.expected_options) {
    const auto it = std::find_if(reported.begin(), reported.end(), [&](const ReportedOption& o) { return o.first == expected.counter; });
    if (it == reported.end())
      return "the setting " + std::string(expected.counter) + " cannot be read back from " + std::string(configuration.library->name) +
             ": the row would carry a setting nobody verified";
    if (it->second != expected.value) {
      char text[160];
      std::snprintf(text, sizeof text, "%s reads %g, the configuration sets %g", std::string(expected.counter).c_str(), it->second,
                    expected.value);
      return std::string("the setting did not apply: ") + text;
    }
  }
  return {};
}

const Configuration* find_configuration(std::string_view name) {
  for (const Configuration& c : table())
    if (c.name == name) return &c;
  return nullptr;
}

void* loaded_library_symbol(std::string_view path, const char* symbol) {
  void* handle = ::dlopen(std::string(path).c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) throw std::runtime_error(std::string(path) + " is not loaded in this process");
  void* address = ::dlsym(handle, symbol);
  ::dlclose(handle);  // drops the reference RTLD_NOLOAD took; the preloaded library stays
  if (address == nullptr) throw std::runtime_error(std::string(path) + " has no symbol " + symbol);
  return address;
}

}  // namespace bench
