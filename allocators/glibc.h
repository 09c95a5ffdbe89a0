// glibc's malloc (ptmalloc2): the process default, and its release step and tunings.
// Facts: mallopt(3), malloc_trim(3), mallinfo2(3), malloc_info(3), and the tunables of
// glibc's manual ("Memory Allocation Tunables").
#pragma once

#include <string>

#include "allocators/configuration.h"

namespace bench::glibc {

extern const MallocLibrary kLibrary;

void trim();            // malloc_trim(0)
void seed_options_1();  // the seed's map-opt1
void seed_options_2();  // the seed's map-opt2

// The canonical path of the libc.so.6 this process runs on (dladdr of one of its functions): what
// LD_PRELOAD names to put glibc's malloc first for a program that links another malloc library.
const std::string& libc_path();

}  // namespace bench::glibc
