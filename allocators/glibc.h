// glibc's malloc (ptmalloc2): the process default, and its release step and tunings.
// Facts: mallopt(3), malloc_trim(3), mallinfo2(3), malloc_info(3), and the tunables of
// glibc's manual ("Memory Allocation Tunables").
#pragma once

#include "allocators/configuration.h"

namespace bench::glibc {

extern const MallocLibrary kLibrary;

void trim();            // malloc_trim(0)
void seed_options_1();  // the seed's map-opt1
void seed_options_2();  // the seed's map-opt2

}  // namespace bench::glibc
