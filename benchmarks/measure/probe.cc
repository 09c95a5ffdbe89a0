#include "benchmarks/measure/probe.h"
#include "benchmarks/measure/clock.h"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace bench {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

std::atomic<std::uint32_t> g_probe_epoch{0};

}  // namespace

std::uint32_t probe_epoch() noexcept { return g_probe_epoch.load(std::memory_order_acquire); }

int create_probe_file() {
  const int fd = ::memfd_create("bench-probe", MFD_CLOEXEC);
  if (fd < 0) fail("memfd_create");
  if (::ftruncate(fd, static_cast<off_t>(kProbeTableBytes)) != 0) fail("ftruncate of the probe table");
  void* map = ::mmap(nullptr, kProbeTableBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) fail("mmap of the probe table");
  auto* next = static_cast<std::uint32_t*>(map);
  const std::uint32_t n = kProbeTableBytes / sizeof(std::uint32_t);
  for (std::uint32_t i = 0; i < n; ++i) next[i] = i;
  // Sattolo's shuffle gives a single cycle through all n entries, so the walk never repeats early.
  std::uint64_t state = 0x2545f4914f6cdd1dull;
  for (std::uint32_t i = n - 1; i > 0; --i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;  // Knuth's MMIX LCG
    const auto j = static_cast<std::uint32_t>((state >> 33) % i);
    const std::uint32_t t = next[i];
    next[i] = next[j];
    next[j] = t;
  }
  ::munmap(map, kProbeTableBytes);
  return fd;
}

double SpeedProbe::run() {
  g_probe_epoch.fetch_add(1, std::memory_order_acq_rel);  // odd: the table is (being) mapped
  void* map = ::mmap(nullptr, kProbeTableBytes, PROT_READ, MAP_SHARED | MAP_POPULATE, fd_, 0);
  if (map == MAP_FAILED) {
    g_probe_epoch.fetch_add(1, std::memory_order_acq_rel);
    fail("mmap of the probe table");
  }
  const auto* next = static_cast<const std::uint32_t*>(map);
  std::uint32_t at = 0;
  for (std::uint32_t i = 0; i < 20'000; ++i) at = next[at];  // warm the TLB and the page-table walk
  const std::int64_t start = monotonic_ns();
  for (std::uint32_t i = 0; i < kProbeSteps; ++i) at = next[at];
  const std::int64_t elapsed = monotonic_ns() - start;
  asm volatile("" ::"r"(at));  // the walk's result is used: the loop cannot be dropped
  ::munmap(map, kProbeTableBytes);
  g_probe_epoch.fetch_add(1, std::memory_order_acq_rel);  // even: gone from RSS
  const double ns_per_load = static_cast<double>(elapsed) / kProbeSteps;
  total_ns_per_load_ += ns_per_load;
  ++runs_;
  return ns_per_load;
}

void SpeedProbe::report(CounterSink& out) const {
  if (runs_ > 0) out.counter("probe_ns", total_ns_per_load_ / runs_, Unit::nanoseconds);
}

}  // namespace bench
