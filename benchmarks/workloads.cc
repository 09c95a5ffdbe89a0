// The workload table: every workload `./bench` registers, in registration order.
#include <cstdint>

#include "benchmarks/map_workload.h"
#include "benchmarks/workload.h"

namespace bench {
namespace {

template <class Value>
void map_workload(WorkloadContext& context) {
  with_container<Value>(context.configuration.container, [&]<class Adapter>() { run_map<Adapter>(context); });
}

// A map node is 56 B (glibc: a 64 B chunk); the seed-opt2 configuration spends a 4 KiB mapping per
// node for the first 256 Ki nodes. Twice the worst observed, plus the keys and a fixed 64 MiB.
std::uint64_t map_peak_estimate(std::uint64_t size, const Configuration& configuration) {
  std::uint64_t bytes = size * (2 * 64 + sizeof(Md5Key)) + (64ull << 20);
  if (configuration.name == "glibc-seed-opt2") bytes += std::min<std::uint64_t>(size, 256 * 1024) * 4096;
  return bytes;
}

const Workload kWorkloads[] = {
    {"map", "insert N MD5 keys into a map, look each up, clear(), release step, settle", true,
     map_workload<std::uint64_t>, map_peak_estimate},
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
