#include "allocators/scudo.h"

#include <malloc.h>

#include <stdexcept>
#include <string>

namespace bench::scudo {
namespace {

constexpr std::string_view kPath = BENCH_SCUDO_PATH;

// M_PURGE in scudo's wrappers_c.inc (not in glibc's malloc.h): release all free memory to the OS.
constexpr int kMallocPurge = -101;

LibraryFunction<struct mallinfo2 (*)()> g_mallinfo2(kPath, "mallinfo2");
LibraryFunction<int (*)(int, int)> g_mallopt(kPath, "mallopt");

void prepare() {
  g_mallinfo2.get();
  g_mallopt.get();
}

// scudo reports no version of its own: the library ships inside one LLVM release's tree, whose
// version is in its path (/usr/lib/llvm-14/lib/clang/14.0.6/...).
std::string version() {
  const std::string path(kPath);
  const std::string marker = "/lib/clang/";
  const std::size_t at = path.find(marker);
  if (at == std::string::npos) return "scudo (LLVM, version unknown)";
  const std::size_t start = at + marker.size();
  return "scudo (LLVM " + path.substr(start, path.find('/', start) - start) + ")";
}

// scudo's mallinfo2 (wrappers_c.inc): hblkhd = bytes mapped, uordblks = allocated, fordblks = free
// inside its regions. Read from scudo itself: under LD_PRELOAD, the name resolves to scudo's copy.
void report_stats(CounterSink& out) {
  const struct mallinfo2 info = g_mallinfo2.get()();
  out.counter("stat_mapped", static_cast<double>(info.hblkhd), Unit::bytes);
  out.counter("stat_allocated", static_cast<double>(info.uordblks), Unit::bytes);
  out.counter("stat_free", static_cast<double>(info.fordblks), Unit::bytes);
}

void report_options(CounterSink&) {}  // scudo offers no read-back of SCUDO_OPTIONS

}  // namespace

const MallocLibrary kLibrary{
    .name = "scudo",
    .preload_path = kPath,
    .preloaded = true,
    .missing_reason = BENCH_MISSING_REASON(BENCH_SCUDO_PATH, BENCH_SCUDO_SONAME, BENCH_SCUDO_PACKAGE),
    .version = version,
    .report_stats = report_stats,
    .report_options = report_options,
    .prepare = prepare,
};

void purge() {
  if (g_mallopt.get()(kMallocPurge, 0) != 1) throw std::runtime_error("scudo's mallopt(M_PURGE, 0) did not return 1");
}

}  // namespace bench::scudo
