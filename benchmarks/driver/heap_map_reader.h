// The parent's side of --heap-map (benchmarks/heapmap/heap_map.h): what the interposer wrote in a
// child's or a program's folder, as counters and ranked pinning sites, each frame named from the
// object's own symbol table (.symtab where it has one, else .dynsym), C++ names demangled.
//
// Counters, per moment m (a workload's cleared / released / final, a program's phases and exit),
// summed over the processes that wrote one:
//   heap_<m>_free, heap_<m>_pinned, heap_<m>_used, heap_<m>_outside   resident bytes in each class
//   heap_<m>_live, heap_<m>_own                                       live block bytes; the
//                                                                     interposer's own resident tables
//   heap_<m>_live_blocks                                              live blocks
// and for the whole row: heap_unknown_frees (frees and resizes of blocks it never saw allocated),
// heap_calls (the calls it recorded) and heap_record_ns (what recording one cost, measured inside).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "benchmarks/protocol/child_protocol.h"

namespace bench {

struct HeapMapSite {
  double bytes = 0;                 // resident bytes it pins
  double blocks = 0;                // its live blocks on pinned pages
  std::vector<std::string> frames;  // "function (object)", innermost first
};

struct HeapMapMoment {
  std::string moment;
  int processes = 0;
  std::vector<HeapMapSite> sites;  // most bytes first
};

struct HeapMapReading {
  std::vector<CounterValue> counters;
  std::vector<HeapMapMoment> moments;
  std::map<pid_t, std::string> forwards;  // pid -> the malloc library it forwarded to
};

// The interposer this build made (libbench_interposer.so, next to ./bench): the heap map and the recorder.
extern const char* const kInterposer;

HeapMapReading read_heap_maps(const std::string& directory);

// "function (object)" for a frame written as "<object path>+0x<offset>".
std::string symbolize_frame(const std::string& frame);

// The malloc library the interposer of process `pid` forwards to ("" if it wrote none).
std::string heap_map_forward(const std::string& directory, pid_t pid);

}  // namespace bench
