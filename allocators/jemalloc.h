// jemalloc 5.x, preloaded. Facts: jemalloc(3), "MALLCTL NAMESPACE" and "TUNING".
#pragma once

#include "allocators/configuration.h"

namespace bench::jemalloc {

extern const MallocLibrary kLibrary;

// thread.tcache.flush, then arena.<MALLCTL_ARENAS_ALL>.purge: give back every dirty page now.
void flush_and_purge();

}  // namespace bench::jemalloc
