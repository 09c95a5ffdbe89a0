// mimalloc 2.0.x, preloaded. Facts: mimalloc.h and its documented options (MIMALLOC_<NAME>).
#pragma once

#include "allocators/configuration.h"

namespace bench::mimalloc {

extern const MallocLibrary kLibrary;

void collect();  // mi_collect(true): this thread's heap plus abandoned segments

}  // namespace bench::mimalloc
