// gperftools tcmalloc (libtcmalloc_minimal: the allocator without the heap profiler and checker),
// preloaded. Facts: gperftools' malloc_extension_c.h and its docs/tcmalloc.html.
#pragma once

#include "allocators/configuration.h"

namespace bench::tcmalloc {

extern const MallocLibrary kLibrary;

// MarkThreadIdle (flush this thread's cache), then ReleaseFreeMemory (page heap to the OS).
void flush_and_release();

}  // namespace bench::tcmalloc
