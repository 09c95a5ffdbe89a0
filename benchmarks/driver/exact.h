// `./bench --exact`: counting instead of timing. Every child runs under valgrind's callgrind with
// collection off except inside its timed phases (benchmarks/measure/exact.h) and a cache simulator
// of a fixed, stated geometry, so that the counts depend on neither the host's caches nor its load:
// the same binary, inputs and environment give the same counts on any x86_64 machine.
//
// Per phase (insert, lookup, clear, release; round<k>_... in cycle) the row gets, all counts:
//   <phase>_instructions     Ir: instructions executed
//   <phase>_data_reads       Dr, <phase>_data_writes Dw: memory reads and writes
//   <phase>_i1_misses        I1mr: instruction fetches that missed the first-level cache
//   <phase>_d1_misses        D1mr + D1mw: data accesses that missed the first-level cache
//   <phase>_ll_misses        ILmr + DLmr + DLmw: accesses that missed the last-level cache too
//   <phase>_cycles_estimate  Ir + 10 x (I1mr + D1mr + D1mw) + 100 x (ILmr + DLmr + DLmw): callgrind's
//                            usual estimate (KCachegrind's "Cycle Estimation" without branch events)
// Under valgrind the process's RSS includes valgrind's own memory and its timings are not the
// program's: an exact run's rss_* and *_seconds are not comparable with a timed run's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "benchmarks/protocol/child_protocol.h"

namespace bench {

// The simulated caches (callgrind's --I1, --D1, --LL: size, associativity, line size).
inline constexpr const char* kExactI1 = "32768,8,64";
inline constexpr const char* kExactD1 = "32768,8,64";
inline constexpr const char* kExactLL = "8388608,16,64";
inline constexpr const char* kCyclesFormula = "Ir + 10 x (I1mr + D1mr + D1mw) + 100 x (ILmr + DLmr + DLmw)";

struct ExactMode {
  std::string valgrind;  // resolved path of valgrind
  std::string version;   // what `valgrind --version` prints, e.g. valgrind-3.19.0
};

// valgrind as PATH finds it, and its version. Throws UsageError naming the Debian package when it is
// not installed.
ExactMode find_valgrind();

// argv[0...] that runs `client` under callgrind with its dumps and log in `directory`; the client's
// own arguments follow.
std::vector<std::string> callgrind_command(const ExactMode& mode, const std::string& directory, const std::string& client);

// The counters of every phase dumped in `directory` (callgrind.out.<n>, "Trigger: Client Request:
// <phase>"). Sets `problem` when the dumps cannot be read.
std::vector<CounterValue> read_callgrind_dumps(const std::string& directory, std::string* problem);

// True for a counter read_callgrind_dumps makes (<phase>_instructions, ...).
bool is_exact_counter(std::string_view name);

// What valgrind and the child printed in `directory` (its file "output") and valgrind's warnings and
// errors from its log, without its banner and summary: why a child failed under valgrind.
std::string valgrind_messages(const std::string& directory, std::size_t lines = 4);

}  // namespace bench
