// oneTBB's scalable allocator (libtbbmalloc), which replaces malloc for a whole process through the
// proxy library libtbbmalloc_proxy: the proxy defines malloc and operator new and forwards them.
// Facts: oneTBB's include/oneapi/tbb/scalable_allocator.h and its documentation ("Automatically
// Replacing malloc and Other C/C++ Functions for Dynamic Memory Allocation").
#pragma once

#include "allocators/configuration.h"

namespace bench::tbbmalloc {

extern const MallocLibrary kLibrary;

// scalable_allocation_command(TBBMALLOC_CLEAN_ALL_BUFFERS, 0): return the internal buffers of all
// threads (free blocks cached in front of the backend) and what the backend holds to the OS.
void clean_all_buffers();

}  // namespace bench::tbbmalloc
