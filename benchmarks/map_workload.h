// The seed's experiment: insert N MD5 keys into a map, look every key up, clear the map, release,
// settle. Templated on the container adapter (allocators/containers.h, or any type with the same
// interface), whose value type varies in the value-size sweep.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "allocators/containers.h"
#include "benchmarks/phases.h"
#include "benchmarks/workload.h"

namespace bench {

// The index an entry's value was built from: the map workloads store i under keys[i].
template <class Value>
std::uint64_t value_id(const Value& v) { return static_cast<std::uint64_t>(v); }

// A value of `Bytes` bytes for the value-size sweep: its index followed by zeroed payload (written,
// as a real value would be, so its pages are touched).
template <std::size_t Bytes>
struct PaddedValue {
  static_assert(Bytes > sizeof(std::uint64_t));
  std::uint64_t id;
  unsigned char payload[Bytes - sizeof(std::uint64_t)] = {};
  explicit PaddedValue(std::uint64_t index) : id(index) {}
};
static_assert(sizeof(PaddedValue<64>) == 64 && std::is_trivially_copyable_v<PaddedValue<64>>);

template <std::size_t Bytes>
std::uint64_t value_id(const PaddedValue<Bytes>& v) { return v.id; }

// Looks every key up; returns how many are missing or map to a value other than their index.
template <class Adapter>
std::uint64_t wrong_lookups(const Adapter& container, std::span<const Md5Key> keys) {
  std::uint64_t wrong = 0;
  for (std::uint64_t i = 0; i < keys.size(); ++i) {
    const auto* value = container.find(keys[i]);
    wrong += (value == nullptr || value_id(*value) != i) ? 1 : 0;
  }
  return wrong;
}

template <class Adapter>
void run_map(WorkloadContext& context) {
  auto& report = context.report;
  const double n = static_cast<double>(context.size);
  Adapter container;  // constructed (empty) before the baseline: its own bookkeeping is not growth

  const std::size_t base = resident_bytes();
  const double insert_seconds = timed_seconds([&] { container.load(context.keys); });
  const std::size_t peak = resident_bytes();

  std::uint64_t wrong = 0;
  const double lookup_seconds = timed_seconds([&] { wrong = wrong_lookups(container, context.keys); });
  if (wrong != 0) throw WorkloadFailure(std::to_string(wrong) + " of " + std::to_string(context.size) + " keys were not found after insert");

  const double clear_seconds = timed_seconds([&] { container.clear(); });
  const std::size_t cleared = resident_bytes();

  report.counter("insert_rate", n / insert_seconds);
  report.counter("lookup_rate", n / lookup_seconds);
  report.counter("clear_rate", n / clear_seconds);
  report.time(insert_seconds + lookup_seconds + clear_seconds);

  finish_after_free(context, container, base, peak, cleared);
}

}  // namespace bench
