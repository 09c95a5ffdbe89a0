// An allocator configuration: one row of the table in configurations.cc.
//
// Three kinds share this shape, and the kind says what a configuration may be compared with:
//  - allocator: the same std::map code; a malloc implementation injected into the whole child
//    process (LD_PRELOAD of `library.preload_path`, plus `environment`), or glibc tuned, with an
//    optional release step called after clear;
//  - container allocator: the same node-based map, but the process keeps glibc and the map's own
//    allocator (our pool, Boost.Container pools, std::pmr) decides what is kept;
//  - different container: another data structure altogether (boost::container::flat_map).
// The workloads see a configuration only through this struct.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bench {

// The unit of a counter. It travels with every counter from the child to the run's JSON, so that no
// later stage guesses it from the name.
enum class Unit { bytes, seconds, items_per_second, count, percent, nanoseconds, megabyte_seconds };

std::string_view unit_name(Unit unit);  // "bytes", "items_per_second", ...
std::optional<Unit> unit_from_name(std::string_view name);

// Receives the numbers a child reports. Implementations must not allocate in counter(): it is called
// during the settle period, when the heap under test must not be touched.
class CounterSink {
 public:
  virtual void counter(std::string_view name, double value, Unit unit) = 0;

 protected:
  ~CounterSink() = default;
};

// A malloc implementation that can serve a whole process. One file per library in allocators/.
struct MallocLibrary {
  std::string_view name;
  // Absolute path fixed at configure time (allocators/<name>.cmake), the only thing ever put in
  // LD_PRELOAD. Empty for glibc, which needs no preload, and for a library that was not found.
  std::string_view preload_path;
  bool preloaded;
  // Why the library cannot be used in this build; empty when it can.
  std::string_view missing_reason;
  // The following run in the child, after the library was verified to serve malloc and new.
  std::string (*version)();
  // The allocator's own statistics (stat_<name> counters): where the freed bytes sit.
  void (*report_stats)(CounterSink&);
  // Options read back from the allocator (opt_<name>): proof the environment took effect.
  void (*report_options)(CounterSink&);
  // For a library whose preloaded object only forwards to another one (a proxy): whether the real
  // allocator recognises `block` as its own. The child asks it about a block from malloc and one
  // from operator new, because dladdr can only name the proxy. Null for every other library.
  bool (*owns)(const void* block) = nullptr;
  // Called in the child once the library is verified, before the baseline: resolves every function
  // the release step and the statistics call later, and touches every buffer they write. Between
  // clear() and the release step nothing may allocate (a malloc there changes what the release step
  // finds) or fault in a new page (it would count as memory kept). Null when there is nothing to do.
  void (*prepare)() = nullptr;
};

enum class Kind { allocator, container_allocator, different_container };
std::string_view kind_name(Kind kind);  // "allocator", "container allocator", "different container"

// Which map (and which in-container allocator) the map workloads build.
enum class Container {
  std_map,               // std::map with std::allocator (operator new -> malloc)
  pool_map,              // std::map with our pool::PoolAllocator, 4 KiB pages
  pool_map_huge_pages,   // the same with MADV_HUGEPAGE on its 2 MiB chunks
  boost_adaptive_pool,   // boost::container::map with adaptive_pool
  boost_node_allocator,  // boost::container::map with node_allocator
  boost_flat_map,        // boost::container::flat_map (one sorted vector)
  pmr_pool,              // std::pmr::map over unsynchronized_pool_resource
};

struct EnvironmentVariable {
  std::string_view name;
  std::string_view value;
};

// What a configuration does after clear() to hand memory back. `process_call` is the process-level
// call (malloc_trim, a mallctl, ...); container-level steps are done by the container's adapter
// (allocators/containers.h), and the process-level call is then null.
struct ReleaseStep {
  std::string_view description;
  void (*process_call)() = nullptr;
};

// A setting a configuration makes, as its library reports it back (MallocLibrary::report_options'
// opt_<name> counters, read in the child): a row whose setting did not apply is an error row.
struct ExpectedOption {
  std::string_view counter;
  double value;
};

struct Configuration {
  std::string_view name;
  std::string_view summary;
  const MallocLibrary* library;
  Kind kind = Kind::allocator;
  // The configuration this one is measured against: its library's defaults for a knob, glibc for
  // another library or a container. Empty only for glibc itself.
  std::string_view reference = "glibc";
  std::vector<EnvironmentVariable> environment = {};
  // What the library must read back once the environment and setup() took effect.
  std::vector<ExpectedOption> expected_options = {};
  // Called in the child before the baseline sample (e.g. mallopt). May be null.
  void (*setup)() = nullptr;
  std::optional<ReleaseStep> release = {};
  Container container = Container::std_map;
  // True when the configuration asks for transparent huge pages (madvise or a library option).
  bool huge_pages = false;
  // Allocations glibc serves with a mapping of their own (mallopt M_MMAP_THRESHOLD set below their
  // size, up to M_MMAP_MAX of them): each costs at least a page. For the memory guard's estimate.
  std::uint64_t page_per_allocation_limit = 0;

  bool is_container_level() const { return container != Container::std_map; }
  bool has_release_step() const { return release.has_value(); }
  bool available() const { return library->missing_reason.empty(); }
};

// A library's missing_reason when CMake did not find it (allocators/<name>.cmake): `path` is the
// BENCH_<NAME>_PATH it defined, empty then.
#define BENCH_MISSING_REASON(path, soname, package) \
  (std::string_view(path).empty() ? soname " was not found when cmake configured the build (install " package ": scripts/setup.sh)" : "")

// An option as the library reported it (opt_<name>, value).
using ReportedOption = std::pair<std::string, double>;

// Empty when every setting `configuration` expects is among `reported` with its value; otherwise the
// reason its row must be an error row (a setting that did not apply, or one nobody can read back).
std::string setting_mismatch(const Configuration& configuration, std::span<const ReportedOption> reported);

// Every configuration, in the order benchmarks are registered.
std::span<const Configuration> configurations();
const Configuration* find_configuration(std::string_view name);

// Resolves `symbol` in the already-loaded library at `path` (dlopen with RTLD_NOLOAD, so it never
// loads anything). Throws std::runtime_error naming the symbol if it is absent: a release step
// that silently does nothing would publish a wrong number.
void* loaded_library_symbol(std::string_view path, const char* symbol);

template <class Function>
Function loaded_library_function(std::string_view path, const char* symbol) {
  return reinterpret_cast<Function>(loaded_library_symbol(path, symbol));
}

// A function of a preloaded library, looked up once (dlopen and the path's string allocate) and
// then called from its cached address. `prepare` hooks call get() so that the lookup happens before
// the baseline, never between clear() and the release step.
template <class Function>
class LibraryFunction {
 public:
  constexpr LibraryFunction(std::string_view path, const char* name) : path_(path), name_(name) {}
  Function get() {
    if (function_ == nullptr) function_ = loaded_library_function<Function>(path_, name_);
    return function_;
  }

 private:
  std::string_view path_;
  const char* name_;
  Function function_ = nullptr;
};

}  // namespace bench
