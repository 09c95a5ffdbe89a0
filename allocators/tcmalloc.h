// gperftools tcmalloc (libtcmalloc_minimal: the allocator without the heap profiler/checker),
// preloaded. Facts: ../shared/ALLOCATORS.md "tcmalloc"; gperftools/malloc_extension_c.h.
#pragma once

#include "allocators/configuration.h"

namespace bench::tcmalloc {

extern const MallocLibrary kLibrary;

// MarkThreadIdle (flush this thread's cache), then ReleaseFreeMemory (page heap to the OS).
void flush_and_release();

}  // namespace bench::tcmalloc
