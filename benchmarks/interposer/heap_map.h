// The heap map (`./bench --heap-map`): why resident memory stays. libbench_interposer.so
// (interposer.cc, core.h) is preloaded ahead of the configuration's allocator and forwards every
// allocation call to it (dlsym(RTLD_NEXT)); this observer of it (heap_map.cc) keeps every live block —
// address, usable size, allocation site as a few return addresses (sites.cc) — in memory of its own
// (mmap), never in the allocator under test.
//
// At a moment (a workload's "cleared", "released", "final"; a program's phases and its exit) it
// reads /proc/self/pagemap for the process's anonymous memory and sorts every resident page:
//
//   free       in malloc's ground (a 64 KiB granule where malloc has ever returned a block), and no
//              live block on it: memory the allocator keeps by choice; a release call or a knob can
//              return it
//   pinned     live blocks fill less than kPinnedShare of it: the rest of the page is free but cannot
//              be returned while those blocks live; no call or knob helps, only freeing or moving them
//   used       live blocks fill at least kPinnedShare of it
//   outside    resident anonymous memory where malloc never returned a block: thread stacks, static
//              buffers, memory the program maps itself (Python's pymalloc arenas, say)
//
// and ranks the allocation sites of the blocks on pinned pages by the bytes they pin (a page's 4 KiB
// shared among its blocks by their live bytes). The interposer's own memory is left out of every
// class and reported apart.
//
// The snapshot is a text file <BENCH_HEAPMAP_DIR>/<pid>.<moment>.heapmap, one fact per line:
//
//   moment <name>            pid <pid>              pinned_share <fraction>
//   resident_free <bytes>    resident_pinned <bytes>    resident_used <bytes>    resident_outside <bytes>
//   live_bytes <bytes>       live_blocks <n>        own_bytes <resident bytes of its own tables>
//   unknown_frees <n>        calls that freed or resized a block it never saw allocated (an
//                            allocation function it does not cover served it)
//   calls <n>                record_ns <ns per call>   the cost of keeping the table, measured inside
//   site <pinned bytes> <blocks> <frame> <frame> ...   the pinning sites, most first (20 at most);
//                            a frame is <object path>+0x<offset from its load address>, named by
//                            the parent from the object's symbol table
//
// and <pid>.forward, written when the process starts: "malloc <path>" and "_Znwm <path>", the
// objects the interposer forwards to (the proof of which allocator serves behind it).
//
// Environment: BENCH_HEAPMAP_DIR (nothing is written without it); BENCH_HEAPMAP_LISTEN=1 also
// listens on <dir>/<pid>.sock, where "snapshot <moment>\n" takes one and answers "done <moment>\n";
// BENCH_HEAPMAP_AT_EXIT=1 takes the moment "exit" when the process exits normally.
#pragma once

#include "benchmarks/trace/ring.h"

namespace bench::heap_map {

inline constexpr double kPinnedShare = 0.25;
inline constexpr unsigned long kGranuleBytes = 64 * 1024;
inline constexpr int kSiteFrames = static_cast<int>(trace::kSiteFrames);  // return addresses kept per block, the interposer's own left out

}  // namespace bench::heap_map

// Exported by libbench_interposer.so (found with dlsym): takes the snapshot `moment` now. Returns 0,
// or -1 when BENCH_HEAPMAP_DIR is unset or the file cannot be written. Allocates nothing.
extern "C" int bench_heap_map_snapshot(const char* moment);
// The path of the object that serves malloc behind the interposer ("" until it has been resolved).
extern "C" const char* bench_heap_map_next_malloc();
extern "C" const char* bench_heap_map_next_new();
