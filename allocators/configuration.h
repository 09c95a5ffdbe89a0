// An allocator configuration: one row of the table in configurations.cc.
//
// Two kinds share this shape (STYLE.md item 2):
//  - process-level: a malloc implementation injected into the whole child process (LD_PRELOAD of
//    `library.preload_path`, plus `environment`), with an optional release step called after clear;
//  - container-level: the process keeps glibc; `container` selects the map type and its allocator
//    (our pool, Boost.Container pools, std::pmr), whose own release step runs after clear.
// The workloads in benchmarks/ see a configuration only through this struct.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// Receives the numbers a child reports. Implementations must not allocate in counter(): it is called
// during the settle period.
class CounterSink {
 public:
  virtual void counter(std::string_view name, double value) = 0;

 protected:
  ~CounterSink() = default;
};

// A malloc implementation that can serve a whole process. One per file in allocators/.
struct MallocLibrary {
  std::string_view name;
  // Absolute path fixed at configure time (CMake), the only thing ever put in LD_PRELOAD.
  // Empty for glibc, which needs no preload, and for a library that was not found.
  std::string_view preload_path;
  bool preloaded;
  // What CMake printed when it looked for the library; empty when available.
  std::string_view missing_reason;
  // The following run in the child, after the library was verified to serve malloc and new.
  std::string (*version)();
  // The allocator's own statistics (stat_<name> counters): where the freed bytes sit.
  void (*report_stats)(CounterSink&);
  // Options read back from the allocator (opt_<name>): proof the environment took effect.
  void (*report_options)(CounterSink&);
};

// Which map (and which in-container allocator) the map workloads build.
enum class Container {
  std_map,               // std::map with std::allocator (operator new -> malloc)
  pool_map,              // std::map with our pool::PoolAllocator
  boost_adaptive_pool,   // boost::container::map with adaptive_pool
  boost_node_allocator,  // boost::container::map with node_allocator
  boost_flat_map,        // boost::container::flat_map (one sorted vector)
  pmr_pool,              // std::pmr::map over unsynchronized_pool_resource
};

struct EnvironmentVariable {
  std::string_view name;
  std::string_view value;
};

struct Configuration {
  std::string_view name;
  std::string_view summary;
  const MallocLibrary* library;
  std::vector<EnvironmentVariable> environment = {};
  // Called in the child before the baseline sample (e.g. mallopt). May be null.
  void (*setup)() = nullptr;
  // The release step after clear, described for --list-configs; empty when there is none.
  // Process-level steps are `release`; container-level steps belong to the container's adapter.
  std::string_view release_summary = {};
  void (*release)() = nullptr;
  Container container = Container::std_map;
  // Allocations glibc serves with a mapping of their own (mallopt M_MMAP_THRESHOLD set below their
  // size, up to M_MMAP_MAX of them): each costs at least a page. For the memory guard's estimate.
  std::uint64_t page_per_allocation_limit = 0;

  bool is_container_level() const { return container != Container::std_map; }
  bool has_release_step() const { return !release_summary.empty(); }
  bool available() const { return library->missing_reason.empty(); }
};

// Every configuration, in the order benchmarks are registered.
std::span<const Configuration> configurations();
const Configuration* find_configuration(std::string_view name);

// Resolves `symbol` in the already-loaded library at `path` (dlopen with RTLD_NOLOAD, so it never
// loads anything). Throws std::runtime_error naming the symbol if it is absent: a release step
// that silently does nothing would publish a wrong number.
void* loaded_library_symbol(std::string_view path, const char* symbol);

}  // namespace bench
