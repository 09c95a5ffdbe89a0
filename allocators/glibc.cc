#include "allocators/glibc.h"

#include <gnu/libc-version.h>
#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace bench::glibc {
namespace {

std::string version() { return std::string("glibc ") + gnu_get_libc_version(); }

// How many arenas glibc has made: one <heap nr="..."> element per arena in malloc_info(3)'s XML.
// The XML goes into a fixed buffer through a stream that prepare() opens before the baseline, with
// a fixed stdio buffer, both touched then: counting allocates nothing and faults in no page between
// clear() and the release step. (A stdio buffer that stdio allocated itself, 8 KiB, is a large
// request, which makes malloc consolidate every fastbin chunk first (malloc.c, _int_malloc): the
// work of malloc_trim would happen here, untimed.)
struct ArenaCounter {
  char xml[1 << 16];
  char stdio_buffer[1 << 12];
  std::FILE* stream = nullptr;
};
ArenaCounter g_arena_counter;

void prepare() {
  ArenaCounter& c = g_arena_counter;
  if (c.stream != nullptr) return;
  std::memset(c.xml, 0, sizeof c.xml);
  std::memset(c.stdio_buffer, 0, sizeof c.stdio_buffer);
  c.stream = ::fmemopen(c.xml, sizeof c.xml - 1, "w");
  if (c.stream != nullptr) std::setvbuf(c.stream, c.stdio_buffer, _IOFBF, sizeof c.stdio_buffer);
}

double arena_count() {
  ArenaCounter& c = g_arena_counter;
  if (c.stream == nullptr) return -1;  // prepare() did not run, or fmemopen failed
  std::rewind(c.stream);
  if (::malloc_info(0, c.stream) != 0 || std::fflush(c.stream) != 0) return -1;
  const long length = std::ftell(c.stream);
  if (length <= 0) return -1;
  const std::string_view xml(c.xml, static_cast<std::size_t>(length));
  double arenas = 0;
  for (std::size_t at = xml.find("<heap nr="); at != std::string_view::npos; at = xml.find("<heap nr=", at + 1)) ++arenas;
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
    .prepare = prepare,
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
