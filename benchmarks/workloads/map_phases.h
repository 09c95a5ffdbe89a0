// The seed's experiment, shared by every map workload: insert N MD5 keys into a map, look every key
// up, clear the map. Templated on the container adapter (allocators/containers.h, or any type with
// the same interface), whose value type varies in the value-size sweep.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "allocators/containers.h"
#include "benchmarks/measure/latency.h"
#include "benchmarks/measure/phases.h"
#include "benchmarks/workloads/workload.h"

namespace bench {

// The index an entry's value was built from: the map workloads store i under keys[i].
template <class Value>
std::uint64_t value_id(const Value& v) {
  return static_cast<std::uint64_t>(v);
}

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
std::uint64_t value_id(const PaddedValue<Bytes>& v) {
  return v.id;
}

// The adapter of `configuration`'s container for the suite's keys.
template <class Value, class Function>
decltype(auto) with_map_container(const Configuration& configuration, Function&& function) {
  return with_container<Md5Key, Value, KeyLess>(configuration.container, std::forward<Function>(function));
}

// Looks every key up, calling after_each() after each lookup; returns how many are missing or map to
// a value other than their index.
template <class Adapter, class AfterEach>
std::uint64_t wrong_lookups(const Adapter& container, std::span<const Md5Key> keys, AfterEach&& after_each) {
  std::uint64_t wrong = 0;
  for (std::uint64_t i = 0; i < keys.size(); ++i) {
    const auto* value = container.find(keys[i]);
    wrong += (value == nullptr || value_id(*value) != i) ? 1 : 0;
    after_each();
  }
  return wrong;
}

template <class Adapter>
std::uint64_t wrong_lookups(const Adapter& container, std::span<const Md5Key> keys) {
  return wrong_lookups(container, keys, [] {});
}

// What one insert / look up / clear pass measured.
struct MapPass {
  double insert_seconds = 0, lookup_seconds = 0, clear_seconds = 0;
  ResourceUsage insert_usage, lookup_usage, clear_usage;
  std::size_t peak = 0, cleared = 0;  // RSS after insert, after clear
  double insert_ns_per_tick = 1, lookup_ns_per_tick = 1;

  double seconds() const { return insert_seconds + lookup_seconds + clear_seconds; }
  ResourceUsage usage() const { return insert_usage + lookup_usage + clear_usage; }
};

// One pass: insert every key, look every key up, clear. Each operation's latency goes into the
// histograms (an adapter that loads in bulk records no insert latency). With `snapshots`, RSS at
// peak and after clear comes with memory_at()'s breakdown ("peak", "cleared"); without, statm only.
// The phases are named <prefix>_insert, ... (insert, ... without a prefix) where they are counted.
// Throws WorkloadFailure if a lookup is wrong.
template <class Adapter>
MapPass insert_lookup_clear(WorkloadContext& context, Adapter& container, LatencyHistogram& insert_latency,
                            LatencyHistogram& lookup_latency, bool snapshots, std::string_view prefix = {}) {
  MapPass pass;
  auto measured = [prefix](const char* phase, ResourceUsage& usage, auto&& body) {
    const ResourceUsage before = process_usage();
    const CounterName prefixed(prefix, phase);
    const double seconds = timed_seconds(prefix.empty() ? std::string_view(phase) : std::string_view(prefixed), body);
    usage = process_usage() - before;
    return seconds;
  };
  LatencyRecorder insert_recorder(insert_latency), lookup_recorder(lookup_latency);
  const auto nothing = [] {};
  pass.insert_seconds = measured("insert", pass.insert_usage, [&] {
    if (!context.time_operations) return container.load(context.keys, nothing);
    insert_recorder.start();
    container.load(context.keys, insert_recorder);
    pass.insert_ns_per_tick = insert_recorder.nanoseconds_per_tick();
  });
  pass.peak = snapshots ? memory_at(context, "peak") : resident_bytes();

  std::uint64_t wrong = 0;
  pass.lookup_seconds = measured("lookup", pass.lookup_usage, [&] {
    if (!context.time_operations) return void(wrong = wrong_lookups(container, context.keys, nothing));
    lookup_recorder.start();
    wrong = wrong_lookups(container, context.keys, lookup_recorder);
    pass.lookup_ns_per_tick = lookup_recorder.nanoseconds_per_tick();
  });
  if (wrong != 0)
    throw WorkloadFailure(std::to_string(wrong) + " of " + std::to_string(context.size) + " keys were not found after insert");

  pass.clear_seconds = measured("clear", pass.clear_usage, [&] { container.clear(); });
  pass.cleared = snapshots ? memory_at(context, "cleared") : resident_bytes();
  return pass;
}

// The counters of one pass: per phase its seconds, rate, CPU time, faults and latency percentiles
// (none when operations are not timed). An O(1) clear has a time, not a rate.
template <class Adapter>
void report_pass(CounterSink& out, const MapPass& pass, const LatencyHistogram& insert_latency, const LatencyHistogram& lookup_latency,
                 std::uint64_t size) {
  const auto n = static_cast<double>(size);
  struct Phase {
    const char* name;
    double seconds;
    const ResourceUsage& usage;
    bool has_rate;
  };
  for (const Phase& phase :
       {Phase{"insert", pass.insert_seconds, pass.insert_usage, true}, Phase{"lookup", pass.lookup_seconds, pass.lookup_usage, true},
        Phase{"clear", pass.clear_seconds, pass.clear_usage, !Adapter::kClearIsConstantTime}}) {
    out.counter(CounterName(phase.name, "seconds"), phase.seconds, Unit::seconds);
    if (phase.has_rate) report_rate(out, phase.name, n, phase.seconds);
    report_usage(out, phase.name, phase.usage);
  }
  report_latency(out, "insert", insert_latency, pass.insert_ns_per_tick);
  report_latency(out, "lookup", lookup_latency, pass.lookup_ns_per_tick);
}

// The map workload: a fresh process builds, uses and clears one map, then releases and settles.
template <class Adapter>
void run_map(WorkloadContext& context) {
  static LatencyHistogram insert_latency, lookup_latency;  // 30 KB each: static, touched before the baseline
  insert_latency.clear();
  lookup_latency.clear();
  // What timing one operation costs, measured here, before the baseline: latency_cost_ns x N over a
  // phase's seconds is the share of the phase the latency histogram takes.
  if (context.time_operations) context.report.counter("latency_cost_ns", LatencyRecorder::cost_per_call_ns(), Unit::nanoseconds);
  Adapter container;  // constructed (empty) before the baseline: its own bookkeeping is not growth

  const std::size_t base = resident_bytes();
  const MapPass pass = insert_lookup_clear(context, container, insert_latency, lookup_latency, /*snapshots=*/true);
  report_pass<Adapter>(context.report, pass, insert_latency, lookup_latency, context.size);
  context.report.time(pass.seconds());
  finish_after_free(context, container, {base, pass.peak, pass.cleared});
}

}  // namespace bench
