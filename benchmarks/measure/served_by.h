// Which library really serves malloc and operator new in this process — found with dladdr on the
// addresses the dynamic linker resolves, never assumed from what was asked for. A name that
// resolves (mallctl, say) proves nothing: a library can pull an allocator in for operator new while
// malloc stays glibc's.
#pragma once

#include <string>

#include "allocators/configuration.h"

namespace bench {

struct ServedBy {
  std::string malloc_library;  // canonical path of the object defining the resolved `malloc`
  std::string new_library;     // ... of `operator new(size_t)` (_Znwm)
  // Under --heap-map: the interposer that `malloc` and `_Znwm` resolve to; the two libraries above
  // are then the ones it forwards to (what it found with dlsym(RTLD_NEXT), dladdr'ed).
  std::string interposer = {};
};

ServedBy find_served_by();

// Empty when `served` is what `library` promises: for glibc, malloc from libc and operator new from
// libstdc++ (whose operator new calls malloc); for a preloaded library, both from that library; for
// a proxy (library.owns set), also that the allocator behind it recognises a block from malloc and
// one from operator new as its own. Otherwise a message naming what was expected and what was found.
std::string check_served_by(const MallocLibrary& library, const ServedBy& served);

}  // namespace bench
