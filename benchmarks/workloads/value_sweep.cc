// The value-size sweep: the map workload with values of 64, 256 and 1024 bytes (8 bytes is `map`).
// std::map nodes of 112, 304 and 1072 bytes cross each allocator's size boundaries: glibc's fastbins
// (chunks <= 128 B) and tcache (requests <= 1032 B), jemalloc's, tcmalloc's and mimalloc's size
// classes, and our pool's largest pooled object (1024 B: 1072-byte nodes go to its fallback).
#include "benchmarks/workloads/map_phases.h"

namespace bench {
namespace {

template <std::size_t Bytes>
void map_with_value(WorkloadContext& context) {
  with_map_container<PaddedValue<Bytes>>(context.configuration, [&]<class Adapter>() { run_map<Adapter>(context); });
}

template <std::size_t Bytes>
std::uint64_t map_with_value_peak_estimate(std::uint64_t size, const Configuration& configuration) {
  return node_container_peak_estimate(size, kStdMapNodeBytes<PaddedValue<Bytes>>, configuration);
}

template <std::size_t Bytes>
Workload value_workload(std::string_view name, std::string_view summary, int order) {
  return {.name = name,
          .summary = summary,
          .order = order,
          .headline = kMapHeadline,
          .run = map_with_value<Bytes>,
          .peak_bytes_estimate = map_with_value_peak_estimate<Bytes>};
}

const WorkloadRegistration k64{value_workload<64>("map_value64", "the map workload with 64-byte values (112 B nodes)", 80)};
const WorkloadRegistration k256{value_workload<256>("map_value256", "the map workload with 256-byte values (304 B nodes)", 81)};
const WorkloadRegistration k1024{value_workload<1024>("map_value1024", "the map workload with 1024-byte values (1072 B nodes)", 82)};

}  // namespace
}  // namespace bench
