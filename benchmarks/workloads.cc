// The workload table: every workload `./bench` registers, in registration order. A workload with
// uses_container = false calls malloc itself (or builds a container type of its own) and runs under
// the process-level configurations only.
#include <algorithm>
#include <cstdint>

#include "benchmarks/map_workload.h"
#include "benchmarks/workload.h"
#include "benchmarks/workloads/entry_points.h"

namespace bench {

std::uint64_t node_container_peak_estimate(std::uint64_t size, std::uint64_t node_bytes, const Configuration& configuration) {
  const std::uint64_t block = (node_bytes + 8 + 15) / 16 * 16;
  std::uint64_t bytes = size * (2 * block + sizeof(Md5Key)) + (64ull << 20);
  const std::uint64_t mapping = (node_bytes + 16 + 4095) / 4096 * 4096;
  bytes += std::min(size, configuration.page_per_allocation_limit) * mapping;
  return bytes;
}

namespace {

template <class Value>
void map_workload(WorkloadContext& context) {
  with_container<Value>(context.configuration.container, [&]<class Adapter>() { run_map<Adapter>(context); });
}

std::uint64_t map_peak_estimate(std::uint64_t size, const Configuration& configuration) {
  return node_container_peak_estimate(size, kStdMapNodeBytes<std::uint64_t>, configuration);
}

const Workload kWorkloads[] = {
    {"map", "insert N MD5 keys into a map, look each up, clear(), release step, settle", true,
     map_workload<std::uint64_t>, map_peak_estimate},
    {"malloc_free", "N raw malloc(56) (a map node's size), each written, then all freed", false,
     run_malloc_free, malloc_free_peak_estimate},
    {"lazy", "one malloc of max(64 x N B, 64 MiB) left untouched (vsize grows, RSS does not), touched page by page, freed",
     false, run_lazy, lazy_peak_estimate},
    {"fragment", "insert N, erase all but every 64th entry (by insertion index): pages keep live nodes", true,
     run_fragment, map_peak_estimate},
    {"fragment_random", "insert N, erase a random 63/64 of the entries (fixed seed): live nodes spread unevenly", true,
     run_fragment_random, map_peak_estimate},
    {"churn", "5 rounds of insert N / look up / clear in the same map: does the peak grow round to round?", true,
     run_churn, map_peak_estimate},
    {"threads", "one map of N/T entries per thread, T = cores, built, looked up and cleared concurrently", false,
     run_threads, threads_peak_estimate},
    {"threads_x4", "as threads with T = 4 x cores", false, run_threads_x4, threads_x4_peak_estimate},
    {"threads_handoff", "a producer thread builds the map, a consumer thread looks it up and clears it (cross-thread frees)",
     false, run_threads_handoff, threads_peak_estimate},
    {"unordered_map", "the map workload on std::unordered_map (48 B nodes plus one large bucket array)", false,
     run_unordered_map, unordered_map_peak_estimate},
    {"map_value64", "the map workload with 64-byte values (112 B nodes)", true, run_map_value64, map_value64_peak_estimate},
    {"map_value256", "the map workload with 256-byte values (304 B nodes)", true, run_map_value256, map_value256_peak_estimate},
    {"map_value1024", "the map workload with 1024-byte values (1072 B nodes)", true, run_map_value1024,
     map_value1024_peak_estimate},
};

}  // namespace

std::span<const Workload> workloads() { return kWorkloads; }

const Workload* find_workload(std::string_view name) {
  for (const Workload& w : kWorkloads)
    if (w.name == name) return &w;
  return nullptr;
}

bool applies(const Workload& workload, const Configuration& configuration) {
  return workload.uses_container || !configuration.is_container_level();
}

}  // namespace bench
