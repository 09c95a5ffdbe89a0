#include "benchmarks/measure/heap_map_moment.h"

#include <dlfcn.h>

namespace bench {
namespace {

int (*g_snapshot)(const char*) = nullptr;
int (*g_record_phase)(const char*) = nullptr;

}  // namespace

void prepare_heap_map() noexcept {
  g_snapshot = reinterpret_cast<int (*)(const char*)>(::dlsym(RTLD_DEFAULT, "bench_heap_map_snapshot"));
  g_record_phase = reinterpret_cast<int (*)(const char*)>(::dlsym(RTLD_DEFAULT, "bench_record_phase"));
}

bool heap_map_active() noexcept { return g_snapshot != nullptr; }

void heap_map_moment(const char* moment) noexcept {
  if (g_snapshot != nullptr) g_snapshot(moment);
  if (g_record_phase != nullptr) g_record_phase(moment);
}

}  // namespace bench
