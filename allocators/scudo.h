// LLVM's standalone scudo (the hardened allocator Android uses), preloaded. Debian ships it only as
// part of LLVM's compiler runtime (libclang-rt-14-dev). Facts: LLVM's compiler-rt/lib/scudo/standalone
// (wrappers_c.inc: mallopt, mallinfo2; flags.inc: SCUDO_OPTIONS) and the LLVM Scudo documentation.
#pragma once

#include "allocators/configuration.h"

namespace bench::scudo {

extern const MallocLibrary kLibrary;

// scudo's own mallopt(M_PURGE, 0): release every free page of every size class to the OS now.
void purge();

}  // namespace bench::scudo
