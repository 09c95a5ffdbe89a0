// The configuration table: every allocator configuration the suite measures, one row each.
// Adding a configuration of an existing library is one row here; a new library is one file
// (like jemalloc.cc) and its rows.
#include <dlfcn.h>

#include <stdexcept>
#include <string>

#include "allocators/configuration.h"
#include "allocators/glibc.h"
#include "allocators/jemalloc.h"
#include "allocators/mimalloc.h"
#include "allocators/tcmalloc.h"

namespace bench {
namespace {

const MallocLibrary* const kGlibc = &glibc::kLibrary;
const MallocLibrary* const kJemalloc = &jemalloc::kLibrary;
const MallocLibrary* const kTcmalloc = &tcmalloc::kLibrary;
const MallocLibrary* const kMimalloc = &mimalloc::kLibrary;

const std::vector<Configuration>& table() {
  static const std::vector<Configuration> rows = {
      {.name = "glibc", .summary = "glibc malloc at its defaults", .library = kGlibc},
      {.name = "glibc-trim", .summary = "glibc; malloc_trim(0) after clear", .library = kGlibc,
       .release_summary = "malloc_trim(0)", .release = glibc::trim},
      {.name = "glibc-seed-opt1", .summary = "the seed's map-opt1: mallopt M_MMAP_THRESHOLD=24, M_TRIM_THRESHOLD=0",
       .library = kGlibc, .setup = glibc::seed_options_1,
       .page_per_allocation_limit = 65536},  // M_MMAP_MAX's default
      {.name = "glibc-seed-opt2", .summary = "the seed's map-opt2: opt1 plus mallopt M_MMAP_MAX=262144",
       .library = kGlibc, .setup = glibc::seed_options_2, .page_per_allocation_limit = 256 * 1024},
      // Without tcache and fastbins every free() coalesces with its free neighbours at once, so a cleared
      // map melts into the top chunk, which free() trims; trim threshold and top pad 0 give back the
      // last 124 KiB too. Measured at N = 1M: tcache_count=0:mxfast=0 alone keeps 124 KiB; either
      // alone keeps 78-100 %. The cost is glibc's fast paths: see the insert and clear rates.
      {.name = "glibc-tuned", .summary = "glibc with GLIBC_TUNABLES: no tcache, no fastbins, trim threshold and top pad 0",
       .library = kGlibc,
       .environment = {{"GLIBC_TUNABLES",
                        "glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0:glibc.malloc.trim_threshold=0:glibc.malloc.top_pad=0"}}},

      {.name = "jemalloc", .summary = "jemalloc at its defaults", .library = kJemalloc},
      {.name = "jemalloc-purge", .summary = "jemalloc; tcache flush + purge of all arenas after clear", .library = kJemalloc,
       .release_summary = "mallctl thread.tcache.flush + arena.<ALL>.purge", .release = jemalloc::flush_and_purge},
      {.name = "jemalloc-decay0", .summary = "jemalloc with dirty and muzzy decay of 0 ms (purge at once)", .library = kJemalloc,
       .environment = {{"MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0"}}},
      {.name = "jemalloc-bgthread", .summary = "jemalloc with a background thread doing time-based decay", .library = kJemalloc,
       .environment = {{"MALLOC_CONF", "background_thread:true"}}},

      {.name = "tcmalloc", .summary = "gperftools tcmalloc at its defaults", .library = kTcmalloc},
      {.name = "tcmalloc-release", .summary = "tcmalloc; thread cache flush + ReleaseFreeMemory after clear", .library = kTcmalloc,
       .release_summary = "MallocExtension_MarkThreadIdle + MallocExtension_ReleaseFreeMemory", .release = tcmalloc::flush_and_release},
      {.name = "tcmalloc-aggressive", .summary = "tcmalloc decommitting freed spans at once", .library = kTcmalloc,
       .environment = {{"TCMALLOC_AGGRESSIVE_DECOMMIT", "t"}}},

      {.name = "mimalloc", .summary = "mimalloc at its defaults", .library = kMimalloc},
      {.name = "mimalloc-collect", .summary = "mimalloc; mi_collect(true) after clear", .library = kMimalloc,
       .release_summary = "mi_collect(true)", .release = mimalloc::collect},
      {.name = "mimalloc-decommit0", .summary = "mimalloc decommitting freed pages without delay", .library = kMimalloc,
       .environment = {{"MIMALLOC_DECOMMIT_DELAY", "0"}}},

      // Container-level: the process keeps glibc; the map's own allocator decides what is kept.
      {.name = "pool", .summary = "std::map with our node pool: 56 B slots in mmap'ed chunks, each unmapped when empty",
       .library = kGlibc, .container = Container::pool_map},
      {.name = "boost-adaptive-pool", .summary = "boost::container::map with adaptive_pool (frees surplus empty blocks itself)",
       .library = kGlibc, .container = Container::boost_adaptive_pool},
      {.name = "boost-node-allocator", .summary = "boost::container::map with node_allocator; its free blocks released after clear",
       .library = kGlibc, .release_summary = "node_allocator<node>::deallocate_free_blocks()",
       .container = Container::boost_node_allocator},
      {.name = "boost-flat-map", .summary = "boost::container::flat_map (one sorted vector) loaded with one range insert",
       .library = kGlibc, .release_summary = "flat_map::shrink_to_fit()", .container = Container::boost_flat_map},
      {.name = "pmr-pool", .summary = "std::pmr::map over std::pmr::unsynchronized_pool_resource",
       .library = kGlibc, .release_summary = "unsynchronized_pool_resource::release()", .container = Container::pmr_pool},
  };
  return rows;
}

}  // namespace

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
