#include "allocators/tcmalloc.h"

#if __has_include(<gperftools/malloc_extension.h>)
#include <gperftools/malloc_extension.h>
#endif

#include <stdexcept>
#include <string>

namespace bench::tcmalloc {
namespace {

constexpr std::string_view kPath = BENCH_TCMALLOC_PATH;

template <class Function>
Function symbol(const char* name) {
  return loaded_library_function<Function>(kPath, name);
}

LibraryFunction<int (*)(const char*, std::size_t*)> g_numeric_property(kPath, "MallocExtension_GetNumericProperty");
LibraryFunction<void (*)()> g_mark_thread_idle(kPath, "MallocExtension_MarkThreadIdle");
LibraryFunction<void (*)()> g_release_free_memory(kPath, "MallocExtension_ReleaseFreeMemory");

void prepare() {
  g_numeric_property.get();
  g_mark_thread_idle.get();
  g_release_free_memory.get();
}

double property(const char* name) {
  std::size_t value = 0;
  if (!g_numeric_property.get()(name, &value)) throw std::runtime_error(std::string("tcmalloc has no property ") + name);
  return static_cast<double>(value);
}

std::string version() {
  int major = 0, minor = 0;
  const char* patch = nullptr;
  return symbol<const char* (*)(int*, int*, const char**)>("tc_version")(&major, &minor, &patch);
}

void report_stats(CounterSink& out) {
  static constexpr const char* kProperties[][2] = {
      {"generic.current_allocated_bytes", "stat_current_allocated_bytes"},
      {"generic.heap_size", "stat_heap_size"},
      {"tcmalloc.pageheap_free_bytes", "stat_pageheap_free_bytes"},
      {"tcmalloc.pageheap_unmapped_bytes", "stat_pageheap_unmapped_bytes"},
      {"tcmalloc.central_cache_free_bytes", "stat_central_cache_free_bytes"},
      {"tcmalloc.transfer_cache_free_bytes", "stat_transfer_cache_free_bytes"},
      {"tcmalloc.thread_cache_free_bytes", "stat_thread_cache_free_bytes"},
  };
  for (const auto& [property_name, counter_name] : kProperties) out.counter(counter_name, property(property_name), Unit::bytes);
}

// TCMALLOC_RELEASE_RATE has no numeric property; MallocExtension::GetMemoryReleaseRate() returns it
// (gperftools/malloc_extension.h). The instance comes from the preloaded library, and the virtual
// call goes through that object's own table, so nothing here links against tcmalloc (UBSan's vptr
// check would: it needs the class's type information, which only tcmalloc has).
[[gnu::no_sanitize("vptr")]] double release_rate() {
#if __has_include(<gperftools/malloc_extension.h>)
  MallocExtension* extension = symbol<MallocExtension* (*)()>("_ZN15MallocExtension8instanceEv")();
  return extension->GetMemoryReleaseRate();
#else
  return -1;  // no header: the rate cannot be read, and a configuration that sets it fails its check
#endif
}

void report_options(CounterSink& out) {
  out.counter("opt_aggressive_memory_decommit", property("tcmalloc.aggressive_memory_decommit"), Unit::count);
  if (const double rate = release_rate(); rate >= 0) out.counter("opt_release_rate", rate, Unit::count);
}

}  // namespace

const MallocLibrary kLibrary{
    .name = "tcmalloc",
    .preload_path = kPath,
    .preloaded = true,
    .missing_reason = BENCH_MISSING_REASON(BENCH_TCMALLOC_PATH, BENCH_TCMALLOC_SONAME, BENCH_TCMALLOC_PACKAGE),
    .version = version,
    .report_stats = report_stats,
    .report_options = report_options,
    .prepare = prepare,
};

void flush_and_release() {
  g_mark_thread_idle.get()();
  g_release_free_memory.get()();
}

}  // namespace bench::tcmalloc
