// Fragmentation: insert N, then erase all entries but one in every 64. No allocator returns a page
// (or slab, span, chunk) that still holds a live block, so what each configuration gives back here
// depends on where the survivors sit:
//   fragment         keeps entry i when i % 64 == 0. Nodes are allocated in index order, so with
//                    64-byte blocks every 4 KiB page keeps exactly one live node.
//   fragment_random  keeps each entry with probability 1/64, decided by a seeded hash of its index:
//                    survivors spread unevenly, so some pages (and fewer chunks) empty completely.
// The retention counters describe the erase: rss_peak is sampled after insert, rss_cleared (also
// reported as rss_after_erase) after the erase, and retained_pct = how much of the insert's growth
// is still resident after the release step and settle although 63/64 of the entries are gone.
// An allocator that packed the survivors perfectly would retain about 100/64 = 1.6 %.
#include <string>

#include "benchmarks/workloads/map_phases.h"

namespace bench {
namespace {

constexpr std::uint64_t kKeepOneIn = 64;

struct KeepEveryKth {
  bool operator()(std::uint64_t index) const { return index % kKeepOneIn == 0; }
};

// splitmix64's finalizer (Steele, Lea, Flood 2014) over the index plus a fixed seed: a stateless,
// reproducible coin per entry, so that the selection needs no memory on the heap under test.
struct KeepRandomKth {
  static constexpr std::uint64_t kSeed = 0x9e3779b97f4a7c15ull;
  bool operator()(std::uint64_t index) const {
    std::uint64_t z = index + kSeed;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return z % kKeepOneIn == 0;
  }
};

template <class Adapter, class Keep>
void fragment(WorkloadContext& context, Keep keep) {
  auto& report = context.report;
  const std::uint64_t n = context.size;
  Adapter container;

  const std::size_t base = resident_bytes();
  const double insert_seconds = timed_phase(report, "insert", [&] { container.load(context.keys, [] {}); });
  const std::size_t peak = resident_bytes();

  std::size_t erased = 0;
  const double erase_seconds = timed_phase(
      report, "erase", [&] { erased = container.erase_if([&](const Md5Key&, const auto& value) { return !keep(value_id(value)); }); });
  const std::size_t after_erase = resident_bytes();

  // Every survivor is found with its value, every erased key is gone.
  std::uint64_t wrong = 0, live = 0;
  const double lookup_seconds = timed_seconds("lookup", [&] {
    for (std::uint64_t i = 0; i < n; ++i) {
      const auto* value = container.find(context.keys[i]);
      if (keep(i)) {
        ++live;
        wrong += (value == nullptr || value_id(*value) != i) ? 1 : 0;
      } else {
        wrong += value != nullptr ? 1 : 0;
      }
    }
  });
  if (wrong != 0 || live + erased != n)
    throw WorkloadFailure(std::to_string(wrong) + " of " + std::to_string(n) + " lookups were wrong after erasing " +
                          std::to_string(erased) + " (expected " + std::to_string(n - live) + ")");

  report_rate(report, "insert", static_cast<double>(n), insert_seconds);
  report_rate(report, "erase", static_cast<double>(erased), erase_seconds);
  report_rate(report, "lookup", static_cast<double>(n), lookup_seconds);
  report.counter("live_entries", static_cast<double>(live), Unit::count);
  report.counter("rss_after_erase", static_cast<double>(after_erase), Unit::bytes);
  report.time(insert_seconds + erase_seconds);
  finish_after_free(context, container, {base, peak, after_erase});
}

void run_fragment(WorkloadContext& context) {
  with_map_container<std::uint64_t>(context.configuration, [&]<class Adapter>() { fragment<Adapter>(context, KeepEveryKth{}); });
}

void run_fragment_random(WorkloadContext& context) {
  with_map_container<std::uint64_t>(context.configuration, [&]<class Adapter>() { fragment<Adapter>(context, KeepRandomKth{}); });
}

std::uint64_t fragment_peak_estimate(std::uint64_t size, const Configuration& configuration) {
  return node_container_peak_estimate(size, kStdMapNodeBytes<std::uint64_t>, configuration);
}

const std::vector<std::string_view> kFragmentHeadline = {"insert_rate", "erase_rate",      "rss_base",
                                                         "rss_peak",    "rss_after_erase", "rss_final"};

const WorkloadRegistration kFragment{{
    .name = "fragment",
    .summary = "insert N, erase all but every 64th entry (by insertion index): pages keep live nodes",
    .order = 30,
    .cleared_moment = "after the erase (1 entry in 64 still live)",
    .headline = kFragmentHeadline,
    .run = run_fragment,
    .peak_bytes_estimate = fragment_peak_estimate,
}};

const WorkloadRegistration kFragmentRandom{{
    .name = "fragment_random",
    .summary = "insert N, erase a random 63/64 of the entries (fixed seed): live nodes spread unevenly",
    .order = 31,
    .cleared_moment = "after the erase (1 entry in 64 still live)",
    .headline = kFragmentHeadline,
    .run = run_fragment_random,
    .peak_bytes_estimate = fragment_peak_estimate,
}};

}  // namespace

}  // namespace bench
