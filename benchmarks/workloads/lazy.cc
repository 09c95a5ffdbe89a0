// The seed's experiment 3: memory that is allocated but never touched costs address space, not RSS.
// One malloc of max(64 B x N, 64 MiB) — far above every allocator's threshold for a mapping of its
// own — is left untouched, then written one byte per page, then freed.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "benchmarks/measure/phases.h"
#include "benchmarks/workloads/workload.h"

namespace bench {
namespace {

constexpr std::uint64_t kLazyBytesPerEntry = 64;
constexpr std::uint64_t kLazyMinimumBytes = 64ull << 20;

std::uint64_t lazy_block_bytes(std::uint64_t size) { return std::max(size * kLazyBytesPerEntry, kLazyMinimumBytes); }

void run_lazy(WorkloadContext& context) {
  auto& report = context.report;
  const std::size_t bytes = lazy_block_bytes(context.size);
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

  const MemoryFootprint base = read_memory_footprint();
  char* block = nullptr;
  const double malloc_seconds = timed_phase(report, "malloc", [&] { block = static_cast<char*>(std::malloc(bytes)); });
  if (block == nullptr) throw WorkloadFailure("malloc(" + std::to_string(bytes) + ") returned null");
  const MemoryFootprint untouched = read_memory_footprint();

  // Through a volatile pointer: stores into memory that is freed later may otherwise be elided.
  volatile char* const bytes_of_block = block;
  const std::size_t pages = (bytes + page - 1) / page;
  const double touch_seconds = timed_phase(report, "touch", [&] {
    for (std::size_t offset = 0; offset < bytes; offset += page) bytes_of_block[offset] = 1;
  });
  const MemoryFootprint touched = read_memory_footprint();
  std::size_t written = 0;
  for (std::size_t offset = 0; offset < bytes; offset += page) written += bytes_of_block[offset] == 1 ? 1 : 0;
  if (written != pages) throw WorkloadFailure(std::to_string(pages - written) + " of " + std::to_string(pages) + " pages lost their byte");

  const double free_seconds = timed_phase(report, "free", [&] { std::free(block); });
  const MemoryFootprint freed = read_memory_footprint();

  report.counter("vsize_requested", static_cast<double>(bytes), Unit::bytes);
  report.counter("vsize_base", static_cast<double>(base.virtual_bytes), Unit::bytes);
  report.counter("vsize_after_malloc", static_cast<double>(untouched.virtual_bytes), Unit::bytes);
  report.counter("rss_after_malloc", static_cast<double>(untouched.resident_bytes), Unit::bytes);
  report.counter("vsize_peak", static_cast<double>(touched.virtual_bytes), Unit::bytes);
  report.counter("vsize_cleared", static_cast<double>(freed.virtual_bytes), Unit::bytes);
  report_rate(report, "touch", static_cast<double>(pages), touch_seconds);  // pages per second
  report.time(malloc_seconds + touch_seconds + free_seconds);
  finish_after_free(context, {base.resident_bytes, touched.resident_bytes, freed.resident_bytes});
  report.counter("vsize_final", static_cast<double>(read_memory_footprint().virtual_bytes), Unit::bytes);
}

std::uint64_t lazy_peak_estimate(std::uint64_t size, const Configuration&) {
  return lazy_block_bytes(size) + size * sizeof(Md5Key) + (64ull << 20);
}

const WorkloadRegistration kLazy{{
    .name = "lazy",
    .summary = "one malloc of max(64 x N B, 64 MiB) left untouched (vsize grows, RSS does not), touched page by page, freed",
    .order = 21,
    .process_level_only = true,
    .headline = {"touch_rate", "vsize_after_malloc", "rss_after_malloc", "rss_peak", "rss_final", "vsize_final"},
    .run = run_lazy,
    .peak_bytes_estimate = lazy_peak_estimate,
}};

}  // namespace

}  // namespace bench
