// The seed's experiment 2: the map's memory behaviour without the map. N blocks of a map node's size
// (56 B) are malloc'ed and written, then freed in allocation order. If RSS stays after this, the
// memory is kept by the allocator, not by std::map.
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "benchmarks/measure/phases.h"
#include "benchmarks/workloads/workload.h"

namespace bench {
namespace {

constexpr std::size_t kBlockBytes = kStdMapNodeBytes<std::uint64_t>;
static_assert(kBlockBytes == 56);

// `count` pointers in an anonymous mapping of their own, pre-faulted: the experiment's bookkeeping
// stays off the heap under test and is resident before the baseline sample, like the keys.
class MappedPointers {
 public:
  explicit MappedPointers(std::size_t count) : bytes_(std::max<std::size_t>(count, 1) * sizeof(void*)) {
    void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap of " + std::to_string(bytes_) + " bytes failed: " + std::strerror(errno));
    data_ = static_cast<std::uint64_t**>(p);
  }
  ~MappedPointers() { ::munmap(data_, bytes_); }
  MappedPointers(const MappedPointers&) = delete;
  MappedPointers& operator=(const MappedPointers&) = delete;
  std::uint64_t*& operator[](std::size_t i) { return data_[i]; }

 private:
  std::size_t bytes_;
  std::uint64_t** data_;
};

void run_malloc_free(WorkloadContext& context) {
  auto& report = context.report;
  const std::uint64_t n = context.size;
  MappedPointers blocks(n);

  const std::size_t base = resident_bytes();
  const double malloc_seconds = timed_phase(report, "malloc", [&] {
    for (std::uint64_t i = 0; i < n; ++i) {
      auto* block = static_cast<std::uint64_t*>(std::malloc(kBlockBytes));
      if (block == nullptr)
        throw WorkloadFailure("malloc(" + std::to_string(kBlockBytes) + ") returned null at block " + std::to_string(i));
      std::fill_n(block, kBlockBytes / sizeof(std::uint64_t), i);  // written, as a node is
      blocks[i] = block;
    }
  });
  const std::size_t peak = resident_bytes();

  std::uint64_t wrong = 0;
  for (std::uint64_t i = 0; i < n; ++i) wrong += (blocks[i][0] != i || blocks[i][kBlockBytes / sizeof(std::uint64_t) - 1] != i) ? 1 : 0;
  if (wrong != 0) throw WorkloadFailure(std::to_string(wrong) + " of " + std::to_string(n) + " blocks did not hold what was written");

  const double free_seconds = timed_phase(report, "free", [&] {
    for (std::uint64_t i = 0; i < n; ++i) std::free(blocks[i]);
  });
  const std::size_t cleared = resident_bytes();

  report_rate(report, "malloc", static_cast<double>(n), malloc_seconds);
  report_rate(report, "free", static_cast<double>(n), free_seconds);
  report.time(malloc_seconds + free_seconds);
  finish_after_free(context, {base, peak, cleared});
}

std::uint64_t malloc_free_peak_estimate(std::uint64_t size, const Configuration& configuration) {
  return node_container_peak_estimate(size, kBlockBytes, configuration) + size * sizeof(void*);
}

const WorkloadRegistration kMallocFree{{
    .name = "malloc_free",
    .summary = "N raw malloc(56) (a map node's size), each written, then all freed",
    .order = 20,
    .process_level_only = true,
    .headline = {"malloc_rate", "free_rate", "rss_base", "rss_peak", "rss_cleared", "rss_final", "release_seconds"},
    .run = run_malloc_free,
    .peak_bytes_estimate = malloc_free_peak_estimate,
}};

}  // namespace

}  // namespace bench
