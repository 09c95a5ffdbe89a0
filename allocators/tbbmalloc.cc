#include "allocators/tbbmalloc.h"

#include <cstdint>
#include <stdexcept>
#include <string>

#if __has_include(<oneapi/tbb/scalable_allocator.h>)
#include <oneapi/tbb/scalable_allocator.h>
#endif

namespace bench::tbbmalloc {
namespace {

constexpr std::string_view kProxyPath = BENCH_TBBMALLOC_PROXY_PATH;
constexpr std::string_view kAllocatorPath = BENCH_TBBMALLOC_PATH;
constexpr std::string_view kMissing =
    std::string_view(kProxyPath).empty()
        ? BENCH_MISSING_REASON(BENCH_TBBMALLOC_PROXY_PATH, BENCH_TBBMALLOC_PROXY_SONAME, BENCH_TBBMALLOC_PROXY_PACKAGE)
        : BENCH_MISSING_REASON(BENCH_TBBMALLOC_PATH, BENCH_TBBMALLOC_SONAME, BENCH_TBBMALLOC_PACKAGE);

// Values of oneTBB's ScalableAllocationCmd and of its TBBMALLOC_OK / TBBMALLOC_NO_EFFECT results;
// checked where the header (libtbb-dev) exists.
constexpr int kCleanAllBuffers = 0;
constexpr int kOk = 0;
constexpr int kNoEffect = 4;
#if __has_include(<oneapi/tbb/scalable_allocator.h>)
static_assert(TBBMALLOC_CLEAN_ALL_BUFFERS == kCleanAllBuffers && TBBMALLOC_OK == kOk && TBBMALLOC_NO_EFFECT == kNoEffect);
#endif

LibraryFunction<int (*)(int, void*)> g_allocation_command(kAllocatorPath, "scalable_allocation_command");
LibraryFunction<std::size_t (*)(void*, std::size_t (*)(void*))> g_safer_msize(kAllocatorPath, "__TBB_malloc_safer_msize");

void prepare() { g_allocation_command.get(); }

// TBB_runtime_version() lives in libtbb, which a malloc replacement does not load; the allocator's
// own version is its soname's, fixed by the path CMake resolved (libtbbmalloc.so.2.8 -> 2.8).
std::string version() {
  const std::string path(kAllocatorPath);
  const std::size_t at = path.rfind(".so.");
  return "tbbmalloc " + (at == std::string::npos ? std::string("(version unknown)") : path.substr(at + 4)) + " (oneTBB)";
}

void report_stats(CounterSink&) {}    // tbbmalloc exposes no statistics
void report_options(CounterSink&) {}  // nor a read-back of its modes

// __TBB_malloc_safer_msize(p, nullptr): the block's size if tbbmalloc recognises it as its own,
// otherwise 0 (oneTBB's src/tbbmalloc/frontend.cpp); never touches a block it does not know.
bool owns(const void* block) { return g_safer_msize.get()(const_cast<void*>(block), nullptr) > 0; }

}  // namespace

const MallocLibrary kLibrary{
    .name = "tbbmalloc",
    .preload_path = kProxyPath,
    .preloaded = true,
    .missing_reason = kMissing,
    .version = version,
    .report_stats = report_stats,
    .report_options = report_options,
    .owns = owns,
    .prepare = prepare,
};

void clean_all_buffers() {
  const int result = g_allocation_command.get()(kCleanAllBuffers, nullptr);
  if (result != kOk && result != kNoEffect)
    throw std::runtime_error("scalable_allocation_command(TBBMALLOC_CLEAN_ALL_BUFFERS) failed with " + std::to_string(result));
}

}  // namespace bench::tbbmalloc
