// The value-size sweep: the map workload with values of 64, 256 and 1024 bytes (8 bytes is `map`).
// std::map nodes of 112, 304 and 1072 bytes cross each allocator's size boundaries: glibc's fastbins
// (chunks <= 128 B) and tcache (requests <= 1032 B), jemalloc's, tcmalloc's and mimalloc's size
// classes, and our pool's largest pooled object (1024 B: 1072-byte nodes go to its fallback).
#include "benchmarks/map_workload.h"
#include "benchmarks/workloads/entry_points.h"

namespace bench {
namespace {

template <std::size_t Bytes>
void map_with_value(WorkloadContext& context) {
  with_container<PaddedValue<Bytes>>(context.configuration.container, [&]<class Adapter>() { run_map<Adapter>(context); });
}

template <std::size_t Bytes>
std::uint64_t map_with_value_peak_estimate(std::uint64_t size, const Configuration& configuration) {
  return node_container_peak_estimate(size, kStdMapNodeBytes<PaddedValue<Bytes>>, configuration);
}

}  // namespace

void run_map_value64(WorkloadContext& context) { map_with_value<64>(context); }
void run_map_value256(WorkloadContext& context) { map_with_value<256>(context); }
void run_map_value1024(WorkloadContext& context) { map_with_value<1024>(context); }

std::uint64_t map_value64_peak_estimate(std::uint64_t size, const Configuration& c) { return map_with_value_peak_estimate<64>(size, c); }
std::uint64_t map_value256_peak_estimate(std::uint64_t size, const Configuration& c) { return map_with_value_peak_estimate<256>(size, c); }
std::uint64_t map_value1024_peak_estimate(std::uint64_t size, const Configuration& c) {
  return map_with_value_peak_estimate<1024>(size, c);
}

}  // namespace bench
