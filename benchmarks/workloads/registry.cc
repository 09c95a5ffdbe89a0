// The workload table, filled by the registrations in the files of this folder.
#include <algorithm>
#include <vector>

#include "benchmarks/workloads/workload.h"

namespace bench {
namespace {

// Function-local: registrations run during static initialisation, in no fixed order across files.
std::vector<Workload>& table() {
  static std::vector<Workload> rows;
  return rows;
}

}  // namespace

WorkloadRegistration::WorkloadRegistration(Workload workload) {
  std::vector<Workload>& rows = table();
  const auto at = std::upper_bound(rows.begin(), rows.end(), workload, [](const Workload& a, const Workload& b) {
    return a.order != b.order ? a.order < b.order : a.name < b.name;
  });
  rows.insert(at, std::move(workload));
}

std::span<const Workload> workloads() { return table(); }

const Workload* find_workload(std::string_view name) {
  for (const Workload& w : table())
    if (w.name == name) return &w;
  return nullptr;
}

bool applies(const Workload& workload, const Configuration& configuration) {
  return !workload.process_level_only || !configuration.is_container_level();
}

std::uint64_t node_container_peak_estimate(std::uint64_t size, std::uint64_t node_bytes, const Configuration& configuration) {
  const std::uint64_t block = (node_bytes + 8 + 15) / 16 * 16;
  std::uint64_t bytes = size * (2 * block + sizeof(Md5Key)) + (64ull << 20);
  const std::uint64_t mapping = (node_bytes + 16 + 4095) / 4096 * 4096;
  bytes += std::min(size, configuration.page_per_allocation_limit) * mapping;
  return bytes;
}

}  // namespace bench
