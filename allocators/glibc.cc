#include "allocators/glibc.h"

#include <gnu/libc-version.h>
#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace bench::glibc {
namespace {

std::string version() { return std::string("glibc ") + gnu_get_libc_version(); }

// How many arenas glibc has made: one <heap nr="..."> element per arena in malloc_info(3)'s XML.
// The stream writes into a fixed buffer and is given a fixed stdio buffer before its first write:
// a buffer allocated by stdio (8 KiB, a large request) would make malloc consolidate every fastbin
// chunk first (malloc.c, _int_malloc), and a release step measured after this would look free.
// What is left on the heap is the FILE and fmemopen's cookie: two small requests served from
// the top chunk or the bins, which never consolidate.
double arena_count() {
  static char xml[1 << 16];
  static char stdio_buffer[1 << 12];
  std::FILE* stream = ::fmemopen(xml, sizeof xml - 1, "w");
  if (stream == nullptr) return -1;
  std::setvbuf(stream, stdio_buffer, _IOFBF, sizeof stdio_buffer);
  const int status = ::malloc_info(0, stream);
  std::fclose(stream);
  if (status != 0) return -1;
  xml[sizeof xml - 1] = '\0';
  double arenas = 0;
  for (const char* p = xml; (p = std::strstr(p, "<heap nr=")) != nullptr; ++p) ++arenas;
  return arenas;
}

// mallinfo2 describes glibc's own arenas: meaningful only because this library is verified to be
// the one serving malloc (under LD_PRELOAD of another allocator it would describe nothing).
void report_stats(CounterSink& out) {
  const struct mallinfo2 info = mallinfo2();
  out.counter("stat_arena", static_cast<double>(info.arena), Unit::bytes);        // heap bytes obtained with brk/sbrk
  out.counter("stat_ordblks", static_cast<double>(info.ordblks), Unit::count);    // free chunks (not fastbin)
  out.counter("stat_smblks", static_cast<double>(info.smblks), Unit::count);      // fastbin chunks
  out.counter("stat_hblks", static_cast<double>(info.hblks), Unit::count);        // mmapped chunks
  out.counter("stat_hblkhd", static_cast<double>(info.hblkhd), Unit::bytes);      // bytes in mmapped chunks
  out.counter("stat_fsmblks", static_cast<double>(info.fsmblks), Unit::bytes);    // bytes in fastbins
  out.counter("stat_uordblks", static_cast<double>(info.uordblks), Unit::bytes);  // bytes in use (tcache counts as in use)
  out.counter("stat_fordblks", static_cast<double>(info.fordblks), Unit::bytes);  // free bytes inside the heap
  out.counter("stat_keepcost", static_cast<double>(info.keepcost), Unit::bytes);  // top chunk: what trimming could return
  out.counter("stat_arenas", arena_count(), Unit::count);
}

// glibc offers no read-back of its tunables; their effect is checked instead (stat_fsmblks for
// mxfast=0, stat_arenas for arena_max, anon_huge_peak for hugetlb).
void report_options(CounterSink&) {}

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
