#include "allocators/glibc.h"

#include <gnu/libc-version.h>
#include <malloc.h>

#include <string>

namespace bench::glibc {
namespace {

std::string version() { return std::string("glibc ") + gnu_get_libc_version(); }

// mallinfo2 describes glibc's own arenas: meaningful only because this library is verified to be
// the one serving malloc (under LD_PRELOAD of another allocator it would describe nothing).
void report_stats(CounterSink& out) {
  const struct mallinfo2 info = mallinfo2();
  out.counter("stat_arena", static_cast<double>(info.arena));        // heap bytes obtained with brk/sbrk
  out.counter("stat_ordblks", static_cast<double>(info.ordblks));    // free chunks (not fastbin)
  out.counter("stat_smblks", static_cast<double>(info.smblks));      // fastbin chunks
  out.counter("stat_hblks", static_cast<double>(info.hblks));        // mmapped chunks
  out.counter("stat_hblkhd", static_cast<double>(info.hblkhd));      // bytes in mmapped chunks
  out.counter("stat_fsmblks", static_cast<double>(info.fsmblks));    // bytes in fastbins
  out.counter("stat_uordblks", static_cast<double>(info.uordblks));  // bytes in use (tcache counts as in use)
  out.counter("stat_fordblks", static_cast<double>(info.fordblks));  // free bytes inside the heap
  out.counter("stat_keepcost", static_cast<double>(info.keepcost));  // top chunk: what trimming could return
}

void report_options(CounterSink&) {}  // glibc offers no read-back of tunables; tests use ld.so --list-tunables

}  // namespace

const MallocLibrary kLibrary{
    .name = "glibc",
    .preload_path = {},
    .preloaded = false,
    .missing_reason = {},
    .version = version,
    .report_stats = report_stats,
    .report_options = report_options,
};

void trim() { malloc_trim(0); }

void seed_options_1() {
  mallopt(M_MMAP_THRESHOLD, 24);
  mallopt(M_TRIM_THRESHOLD, 0);
}

void seed_options_2() {
  seed_options_1();
  mallopt(M_MMAP_MAX, 256 * 1024);
}

}  // namespace bench::glibc
