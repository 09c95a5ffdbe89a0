// mimalloc 2.0.x, preloaded. Facts: ../shared/ALLOCATORS.md "mimalloc"; mimalloc.h.
#pragma once

#include "allocators/configuration.h"

namespace bench::mimalloc {

extern const MallocLibrary kLibrary;

void collect();  // mi_collect(true): this thread's heap plus abandoned segments

}  // namespace bench::mimalloc
