// The workloads beyond `map`, one file each under benchmarks/workloads/: what the workload table in
// benchmarks/workloads.cc lists. Each workload is a run function and a peak estimate (workload.h);
// each ends with the shared release step, settle period and retention counters (phases.h).
#pragma once

#include <cstdint>
#include <utility>

#include "benchmarks/workload.h"

namespace bench {

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

// malloc_free.cc — the seed's experiment 2: N raw 56-byte mallocs, written, then freed.
void run_malloc_free(WorkloadContext& context);
std::uint64_t malloc_free_peak_estimate(std::uint64_t size, const Configuration& configuration);

// lazy.cc — the seed's experiment 3: one large malloc, untouched, then touched page by page, freed.
void run_lazy(WorkloadContext& context);
std::uint64_t lazy_peak_estimate(std::uint64_t size, const Configuration& configuration);

// fragment.cc — insert N, erase all but one entry in every 64 (by index, or at random).
void run_fragment(WorkloadContext& context);
void run_fragment_random(WorkloadContext& context);

// churn.cc — five rounds of insert N / look up / clear in the same map.
void run_churn(WorkloadContext& context);

// threads.cc — one map per thread (T = cores, 4 x cores), and a producer/consumer handoff.
void run_threads(WorkloadContext& context);
void run_threads_x4(WorkloadContext& context);
void run_threads_handoff(WorkloadContext& context);
std::uint64_t threads_peak_estimate(std::uint64_t size, const Configuration& configuration);
std::uint64_t threads_x4_peak_estimate(std::uint64_t size, const Configuration& configuration);

// unordered_map.cc — the map workload on std::unordered_map (nodes plus one large bucket array).
void run_unordered_map(WorkloadContext& context);
std::uint64_t unordered_map_peak_estimate(std::uint64_t size, const Configuration& configuration);

// value_sweep.cc — the map workload with 64, 256 and 1024-byte values (8 bytes is `map`).
void run_map_value64(WorkloadContext& context);
void run_map_value256(WorkloadContext& context);
void run_map_value1024(WorkloadContext& context);
std::uint64_t map_value64_peak_estimate(std::uint64_t size, const Configuration& configuration);
std::uint64_t map_value256_peak_estimate(std::uint64_t size, const Configuration& configuration);
std::uint64_t map_value1024_peak_estimate(std::uint64_t size, const Configuration& configuration);

}  // namespace bench
