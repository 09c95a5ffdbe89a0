#include "allocators/glibc.h"

#include <gnu/libc-version.h>
#include <malloc.h>

#include <dlfcn.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
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

// The malloc tunables as glibc's own loader parses this process's environment: `ld.so
// --list-tunables` (glibc >= 2.33), run with the same environment by the same loader. It lists an
// unset tunable as 0, so a value of 0 is told from "not set" by its effect (report_effects).
void report_loader_tunables(CounterSink& out) {
  Dl_info loader{};
  if (::dladdr(reinterpret_cast<void*>(::getauxval(AT_BASE)), &loader) == 0 || loader.dli_fname == nullptr) return;
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return;
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  char* const argv[] = {const_cast<char*>(loader.dli_fname), const_cast<char*>("--list-tunables"), nullptr};
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, loader.dli_fname, &actions, nullptr, argv, environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  // Into a fixed buffer, not a growing string: how the pipe's reads split the output must not change
  // what this process allocates before its baseline (--exact counts depend on the heap's layout).
  static char text[1 << 16];
  std::size_t length = 0;
  for (ssize_t n; spawned == 0 && length < sizeof text && (n = ::read(pipe_fds[0], text + length, sizeof text - length)) > 0;)
    length += static_cast<std::size_t>(n);
  ::close(pipe_fds[0]);
  const std::string_view listing(text, length);
  if (spawned == 0) ::waitpid(pid, nullptr, 0);
  // "glibc.malloc.arena_max: 0x1 (min: 0x1, max: ...)": the value in hex or decimal.
  static constexpr std::string_view kPrefix = "glibc.malloc.";
  for (std::size_t at = listing.find(kPrefix); at != std::string_view::npos; at = listing.find(kPrefix, at + 1)) {
    const std::size_t colon = listing.find(':', at), end = listing.find('\n', at);
    if (colon == std::string_view::npos || colon > end) continue;
    const std::string name(listing.substr(at + kPrefix.size(), colon - at - kPrefix.size()));
    const std::string value_text(listing.substr(colon + 1, std::min(end, listing.size()) - colon - 1));
    const double value = static_cast<double>(std::strtoull(value_text.c_str(), nullptr, 0));
    out.counter(std::string("opt_") + name, value, Unit::count);
  }
}

// Whether tcache and fastbins are on, from what one free does to mallinfo2 (malloc/malloc.c): a chunk
// in tcache still counts as in use (uordblks), a chunk in a fastbin counts in smblks. 16 blocks of a
// 48-byte chunk are taken first, which empties tcache's and the fastbin's entries of that size; the
// first free then goes to tcache if there is one, and after tcache's 7 the rest to the fastbin.
void report_effects(CounterSink& out) {
  constexpr std::size_t kSize = 40, kBlocks = 16;
  void* blocks[kBlocks];
  for (void*& block : blocks) block = std::malloc(kSize);
  void* guard = std::malloc(kSize);  // keeps the blocks off the top chunk
  const struct mallinfo2 before = mallinfo2();
  std::free(blocks[0]);
  const struct mallinfo2 one = mallinfo2();
  for (std::size_t i = 1; i < kBlocks; ++i) std::free(blocks[i]);
  const struct mallinfo2 all = mallinfo2();
  std::free(guard);
  out.counter("opt_tcache", one.uordblks == before.uordblks ? 1 : 0, Unit::count);
  out.counter("opt_fastbins", all.smblks > before.smblks ? 1 : 0, Unit::count);
}

void report_options(CounterSink& out) {
  report_loader_tunables(out);
  report_effects(out);
}

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

const std::string& libc_path() {
  static const std::string path = [] {
    Dl_info info{};
    char resolved[PATH_MAX];
    if (::dladdr(reinterpret_cast<void*>(&gnu_get_libc_version), &info) == 0 || info.dli_fname == nullptr) return std::string();
    return ::realpath(info.dli_fname, resolved) != nullptr ? std::string(resolved) : std::string(info.dli_fname);
  }();
  return path;
}

void seed_options_1() {
  mallopt(M_MMAP_THRESHOLD, 24);
  mallopt(M_TRIM_THRESHOLD, 0);
}

void seed_options_2() {
  seed_options_1();
  mallopt(M_MMAP_MAX, 256 * 1024);
}

}  // namespace bench::glibc
