// A workload: what a child does between its baseline sample and the end of its settle period. Each
// file in this folder defines and registers its own workloads:
//
//   const WorkloadRegistration kRegistration{{.name = "map", .summary = "...", ...}};
//
// Workloads see the configuration only through allocators/configuration.h; the map workloads reach
// the container type through allocators/containers.h.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "allocators/configuration.h"
#include "benchmarks/measure/context.h"

namespace bench {

struct Workload {
  std::string_view name;
  std::string_view summary;
  // Listing order (./bench --benchmark_list_tests, a run without filter): lower first.
  int order = 100;
  // True: the workload calls malloc itself (or builds a container of its own) and is meaningful
  // only for configurations that replace malloc for the process.
  bool process_level_only = false;
  // True: the workload replays a recording (./bench --replay=TRACE): it runs only in such a run,
  // once per trace, and nothing else runs there.
  bool replay = false;
  SettleMode settle_mode = SettleMode::idle;
  // When rss_cleared is read, as reports say it ("right after clear()"): the moment the free phase
  // ends, which for some workloads is not a clear().
  std::string_view cleared_moment = "right after clear()";
  // True: the workload repeats its phases --rounds times with --pause between them (cycle).
  bool uses_rounds = false;
  // The counters the console and scripts/compare.py show first for this workload.
  std::vector<std::string_view> headline = {};
  void (*run)(WorkloadContext&) = nullptr;
  // Upper estimate of the child's peak RSS in bytes, for the memory guard.
  std::uint64_t (*peak_bytes_estimate)(std::uint64_t size, const Configuration&) = nullptr;
};

// Adds a workload to the table; used only for static objects of the files in this folder.
struct WorkloadRegistration {
  explicit WorkloadRegistration(Workload workload);
};

// Every registered workload, by `order`, then name.
std::span<const Workload> workloads();
const Workload* find_workload(std::string_view name);
bool applies(const Workload& workload, const Configuration& configuration);

// Upper estimate of a child's peak RSS when it holds `size` entries in a container whose node (or
// element) is `node_bytes`, for the memory guard. Per entry: twice glibc's chunk (8 B header, 16 B
// granule) — the worst measured is 1.4 x, pmr-pool's 1537 B per 1072-byte node — plus the mapped
// key. glibc-seed-opt1 and -opt2 serve the first 65536 and 262144 blocks with a mapping of their
// own, at least one page each (M_MMAP_MAX). Plus 64 MiB for the process itself.
std::uint64_t node_container_peak_estimate(std::uint64_t size, std::uint64_t node_bytes, const Configuration& configuration);

// The bytes of a std::map<Md5Key, Value> node: libstdc++'s _Rb_tree_node_base (colour and three
// pointers, 32 B) followed by the stored pair.
template <class Value>
inline constexpr std::uint64_t kStdMapNodeBytes = 32 + sizeof(std::pair<const Md5Key, Value>);

// The headline counters of the workloads built on the map phases (map_phases.h).
inline const std::vector<std::string_view> kMapHeadline = {"insert_rate", "lookup_rate",  "clear_rate", "rss_base",       "rss_peak",
                                                           "rss_cleared", "rss_released", "rss_final",  "release_seconds"};

}  // namespace bench
