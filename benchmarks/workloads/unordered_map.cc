// The map workload on std::unordered_map<Md5Key, uint64_t, KeyHash, KeyEqual>: smaller nodes
// (libstdc++ stores a next pointer and the pair, 32 B, and caches no hash for a noexcept hash) plus
// one bucket array of 8 B per bucket, reallocated as the table grows. That array is large enough
// for glibc to serve it with a mapping of its own, which free() returns at once (and which raises
// glibc's mmap threshold as it does: malloc.c, "dynamic threshold").
// The clear phase frees everything: libstdc++'s clear() frees the nodes but keeps the bucket array,
// so the workload swaps the table with an empty one; stat_bucket_bytes reports the array's size.
#include <unordered_map>

#include "benchmarks/workloads/map_phases.h"

namespace bench {
namespace {

constexpr std::uint64_t kUnorderedNodeBytes = sizeof(void*) + sizeof(std::pair<const Md5Key, std::uint64_t>);

// The container adapter interface of allocators/containers.h, so that run_map drives it.
struct UnorderedMapAdapter {
  using Map = std::unordered_map<Md5Key, std::uint64_t, KeyHash, KeyEqual>;
  static constexpr bool kInsertsOneByOne = true;
  static constexpr bool kClearIsConstantTime = false;
  Map map;
  std::size_t bucket_bytes = 0;  // of the table just before clear()

  template <class AfterEach>
  void load(std::span<const Md5Key> keys, AfterEach&& after_each) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      map.try_emplace(keys[i], i);
      after_each();
    }
  }
  const std::uint64_t* find(const Md5Key& key) const {
    const auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
  }
  void clear() {
    bucket_bytes = map.bucket_count() * sizeof(void*);
    Map().swap(map);
  }
  void release() {}
  void report_stats(CounterSink& out) const { out.counter("stat_bucket_bytes", static_cast<double>(bucket_bytes), Unit::bytes); }
};

void run_unordered_map(WorkloadContext& context) { run_map<UnorderedMapAdapter>(context); }

// Buckets: libstdc++ grows to the next prime >= twice the size, so up to ~2N + N (the old array
// while rehashing) pointers.
std::uint64_t unordered_map_peak_estimate(std::uint64_t size, const Configuration& configuration) {
  return node_container_peak_estimate(size, kUnorderedNodeBytes, configuration) + size * 3 * sizeof(void*);
}

const WorkloadRegistration kUnorderedMap{{
    .name = "unordered_map",
    .summary = "the map workload on std::unordered_map (48 B nodes plus one large bucket array)",
    .order = 70,
    .process_level_only = true,
    .headline = kMapHeadline,
    .run = run_unordered_map,
    .peak_bytes_estimate = unordered_map_peak_estimate,
}};

}  // namespace

}  // namespace bench
