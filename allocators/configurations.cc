// The configuration table: every allocator configuration the suite measures, one row each.
// Adding a configuration of an existing library is one row here; a new library is its own files
// (allocators/<name>.cc and .h, allocators/<name>.cmake that finds it) and its rows.
#include <dlfcn.h>

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
      // last 124 KiB too. Measured at N = 1M: tcache_count=0:mxfast=0 alone keeps 124 KiB; either
      // alone keeps 78-100 %. The cost is glibc's fast paths: see the insert and clear rates.
      {.name = "glibc-tuned",
       .summary = "glibc with GLIBC_TUNABLES: no tcache, no fastbins, trim threshold and top pad 0",
       .library = kGlibc,
       .environment = {{"GLIBC_TUNABLES",
                        "glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0:glibc.malloc.trim_threshold=0:glibc.malloc.top_pad=0"}}},
      // glibc gives every thread that finds the arenas busy an arena of its own, up to 8 x cores, and
      // never destroys one: a finished thread's arena keeps what it holds. arena_max caps their number.
      {.name = "glibc-arena1",
       .summary = "glibc with one arena for all threads (glibc.malloc.arena_max=1)",
       .library = kGlibc,
       .environment = {{"GLIBC_TUNABLES", "glibc.malloc.arena_max=1"}}},
      {.name = "glibc-arena2",
       .summary = "glibc with at most two arenas (glibc.malloc.arena_max=2)",
       .library = kGlibc,
       .environment = {{"GLIBC_TUNABLES", "glibc.malloc.arena_max=2"}}},
      // glibc >= 2.35: madvise(MADV_HUGEPAGE) on the memory malloc takes from the kernel.
      {.name = "glibc-thp",
       .summary = "glibc asking for transparent huge pages (glibc.malloc.hugetlb=1)",
       .library = kGlibc,
       .environment = {{"GLIBC_TUNABLES", "glibc.malloc.hugetlb=1"}},
       .huge_pages = true},

      {.name = "jemalloc", .summary = "jemalloc at its defaults", .library = kJemalloc},
      {.name = "jemalloc-purge",
       .summary = "jemalloc; tcache flush + purge of all arenas after clear",
       .library = kJemalloc,
       .reference = "jemalloc",
       .release = ReleaseStep{"mallctl thread.tcache.flush + arena.<ALL>.purge", jemalloc::flush_and_purge}},
      {.name = "jemalloc-decay0",
       .summary = "jemalloc with dirty and muzzy decay of 0 ms (purge at once)",
       .library = kJemalloc,
       .reference = "jemalloc",
       .environment = {{"MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0"}}},
      {.name = "jemalloc-bgthread",
       .summary = "jemalloc with a background thread doing time-based decay",
       .library = kJemalloc,
       .reference = "jemalloc",
       .environment = {{"MALLOC_CONF", "background_thread:true"}}},
      {.name = "jemalloc-thp",
       .summary = "jemalloc asking for transparent huge pages (thp:always)",
       .library = kJemalloc,
       .reference = "jemalloc",
       .environment = {{"MALLOC_CONF", "thp:always"}},
       .huge_pages = true},

      {.name = "tcmalloc", .summary = "gperftools tcmalloc at its defaults", .library = kTcmalloc},
      {.name = "tcmalloc-release",
       .summary = "tcmalloc; thread cache flush + ReleaseFreeMemory after clear",
       .library = kTcmalloc,
       .reference = "tcmalloc",
       .release = ReleaseStep{"MallocExtension_MarkThreadIdle + MallocExtension_ReleaseFreeMemory", tcmalloc::flush_and_release}},
      {.name = "tcmalloc-aggressive",
       .summary = "tcmalloc decommitting freed spans at once",
       .library = kTcmalloc,
       .reference = "tcmalloc",
       .environment = {{"TCMALLOC_AGGRESSIVE_DECOMMIT", "t"}}},

      {.name = "mimalloc", .summary = "mimalloc at its defaults", .library = kMimalloc},
      {.name = "mimalloc-collect",
       .summary = "mimalloc; mi_collect(true) after clear",
       .library = kMimalloc,
       .reference = "mimalloc",
       .release = ReleaseStep{"mi_collect(true)", mimalloc::collect}},
      {.name = "mimalloc-decommit0",
       .summary = "mimalloc decommitting freed pages without delay",
       .library = kMimalloc,
       .reference = "mimalloc",
       .environment = {{"MIMALLOC_DECOMMIT_DELAY", "0"}}},
      // Large OS pages: MAP_HUGETLB if reserved huge pages exist, else madvise(MADV_HUGEPAGE).
      {.name = "mimalloc-thp",
       .summary = "mimalloc asking for large OS pages (MIMALLOC_LARGE_OS_PAGES=1)",
       .library = kMimalloc,
       .reference = "mimalloc",
       .environment = {{"MIMALLOC_LARGE_OS_PAGES", "1"}},
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
