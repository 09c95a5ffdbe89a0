// The seed's experiment (map) and the same with the process kept busy while it settles
// (map_active, once per --activity pattern): does the allocator give memory back only while it is
// called, and how fast then?
#include "benchmarks/workloads/map_phases.h"

namespace bench {
namespace {

void map_workload(WorkloadContext& context) {
  with_map_container<std::uint64_t>(context.configuration, [&]<class Adapter>() { run_map<Adapter>(context); });
}

std::uint64_t map_peak_estimate(std::uint64_t size, const Configuration& configuration) {
  return node_container_peak_estimate(size, kStdMapNodeBytes<std::uint64_t>, configuration);
}

const WorkloadRegistration kMap{{
    .name = "map",
    .summary = "insert N MD5 keys into a map, look each up, clear(), release step, settle idle",
    .order = 0,
    .headline = kMapHeadline,
    .run = map_workload,
    .peak_bytes_estimate = map_peak_estimate,
}};

const WorkloadRegistration kMapActive{{
    .name = "map_active",
    .summary = "map, but while settling the process keeps allocating (--activity: pairs, batch, steady)",
    .order = 1,
    .settle_mode = SettleMode::active,
    .headline = kMapHeadline,
    .run = map_workload,
    .peak_bytes_estimate = map_peak_estimate,
}};

}  // namespace
}  // namespace bench
