// Allocation sites: the return addresses of the (up to) trace::kSiteFrames frames above the
// interposer's entry point, interned into one table, so an event carries a 32-bit site.
//
// Debian's programs are built without frame pointers, so a correct unwinder reads DWARF CFI, and
// libgcc's _Unwind_Backtrace costs about 700 ns for seven frames here: the heap map's cost. Three
// unwinders, chosen by BENCH_RECORD_UNWIND (measured side by side: docs/recording.md):
//
//   libgcc  _Unwind_Backtrace on every call
//   fp      the frame-pointer chain (rbp): a few loads a frame, wrong wherever code omits it
//   cache   (the default) a per-thread cache of unwound stacks in front of libgcc. A stack is keyed by
//           the caller's return address and its stack pointer at the call; an entry holds, for each
//           frame above the first, where on the stack its return address was found and what it was
//           (the slot is the canonical frame address of the frame below it - 8, x86-64's ABI). A hit is taken only
//           when every slot still holds its return address, so a different call chain at the same
//           depth misses. A miss unwinds with libgcc and refills the entry. Two ways a set: one caller
//           reached by two call chains at the same depth (Redis's Lua interpreter, its commands) would
//           evict each other from one entry on every call (458,709 misses in 3.46M calls on the Redis
//           scenario with one way, 7,093 with two: measured with `./bench --compare-recorders`).
//
// With BENCH_RECORD_VALIDATE=1 every site the chosen unwinder gives is also unwound by libgcc and the
// two compared (counted: how often they agree is the cache's evidence).
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <unistd.h>
#include <unwind.h>

#include <cstdlib>
#include <cstring>

#include "benchmarks/interposer/core.h"

namespace bench::interposer {
namespace {

using trace::kMaxSites;
using trace::kSiteFrames;
using trace::Site;

enum class Unwinder { cache, libgcc, fp };

Unwinder g_unwinder = Unwinder::cache;
bool g_validate = false;
std::atomic<bool> g_configured{false};

Site* g_sites = nullptr;                            // g_sites[0] is "no site"
std::atomic<std::uint32_t>* g_published = nullptr;  // how many sites are complete
std::atomic<std::uint32_t> g_own_published{1};
std::uint32_t* g_index = nullptr;  // open addressing over 2 * kMaxSites: site index, 0 empty
std::atomic_flag g_site_lock = ATOMIC_FLAG_INIT;
std::atomic<std::uint64_t> g_misses{0}, g_checked{0}, g_disagreed{0}, g_one_frame{0};

// Where the interposer's own code is mapped: its frames are left out of every site.
std::uintptr_t g_own_text_start = 0, g_own_text_end = 0;

int find_own_text(dl_phdr_info* info, std::size_t, void*) {
  const auto here = reinterpret_cast<std::uintptr_t>(&find_own_text);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const std::uintptr_t start = info->dlpi_addr + ph.p_vaddr, end = start + ph.p_memsz;
    if (here >= start && here < end) {
      g_own_text_start = start;
      g_own_text_end = end;
      return 1;
    }
  }
  return 0;
}

bool own_code(std::uintptr_t ip) { return ip >= g_own_text_start && ip < g_own_text_end; }

void configure() {
  if (g_configured.load(std::memory_order_acquire)) return;
  ::dl_iterate_phdr(find_own_text, nullptr);
  const char* unwind = std::getenv("BENCH_RECORD_UNWIND");
  if (unwind != nullptr && std::strcmp(unwind, "libgcc") == 0) g_unwinder = Unwinder::libgcc;
  if (unwind != nullptr && std::strcmp(unwind, "fp") == 0) g_unwinder = Unwinder::fp;
  const char* validate = std::getenv("BENCH_RECORD_VALIDATE");
  g_validate = validate != nullptr && std::strcmp(validate, "1") == 0;
  if (g_sites == nullptr) {
    g_sites = static_cast<Site*>(own_map(sizeof(Site) * kMaxSites));
    g_published = &g_own_published;
  }
  g_index = static_cast<std::uint32_t*>(own_map(sizeof(std::uint32_t) * 2 * kMaxSites));
  if (g_sites == nullptr || g_index == nullptr) ::abort();
  g_configured.store(true, std::memory_order_release);
}

// A stack as an unwinder found it: frames[0] is the caller's return address; cfa[k] what
// _Unwind_GetCFA gives for frame k: the stack pointer in frame k at its call (the canonical frame
// address of the frame it called), so frame k's return address into frame k + 1 — frames[k + 1] —
// sits at cfa[k + 1] - 8 (x86-64's ABI), and cfa[0] is the caller's stack pointer at the call.
struct Stack {
  std::uintptr_t frames[kSiteFrames];
  std::uintptr_t cfa[kSiteFrames];
  std::uint32_t depth;
};

struct UnwindState {
  Stack* stack;
};

_Unwind_Reason_Code unwind_step(_Unwind_Context* context, void* argument) {
  Stack& stack = *static_cast<UnwindState*>(argument)->stack;
  const auto ip = static_cast<std::uintptr_t>(_Unwind_GetIP(context));
  if (ip == 0) return _URC_END_OF_STACK;  // the outermost frame's marker, no frame
  if (own_code(ip)) return _URC_NO_REASON;
  if (stack.depth >= kSiteFrames) return _URC_END_OF_STACK;
  stack.frames[stack.depth] = ip;
  stack.cfa[stack.depth] = static_cast<std::uintptr_t>(_Unwind_GetCFA(context));
  ++stack.depth;
  return _URC_NO_REASON;
}

Stack unwind_libgcc() {
  Stack stack{};
  UnwindState state{&stack};
  _Unwind_Backtrace(unwind_step, &state);
  return stack;
}

// The rbp chain from the caller: the entry point's frame (rbp = caller.sp - 16) saved the caller's
// rbp. A frame pointer outside [sp, sp + 64 MiB), misaligned or not above the last ends the walk.
Stack unwind_fp(const Caller& caller) {
  Stack stack{};
  stack.frames[0] = caller.ip;
  stack.cfa[0] = caller.sp;
  stack.depth = 1;
  std::uintptr_t rbp = *reinterpret_cast<const std::uintptr_t*>(caller.sp - 16);
  std::uintptr_t floor = caller.sp;
  while (stack.depth < kSiteFrames) {
    if (rbp < floor || rbp >= caller.sp + (64u << 20) || (rbp & 7) != 0) break;
    const std::uintptr_t ip = reinterpret_cast<const std::uintptr_t*>(rbp)[1];
    if (ip < 4096) break;
    stack.frames[stack.depth] = ip;
    stack.cfa[stack.depth] = rbp + 16;
    ++stack.depth;
    floor = rbp + 16;
    rbp = reinterpret_cast<const std::uintptr_t*>(rbp)[0];
  }
  return stack;
}

std::uint64_t hash_frames(const std::uintptr_t* frames, std::uint32_t depth) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::uint32_t i = 0; i < depth; ++i) h = (h ^ frames[i]) * 1099511628211ull;
  return h ^ depth;
}

std::uint32_t intern(const Stack& stack) {
  if (stack.depth == 0) return 0;
  const std::uint64_t h = hash_frames(stack.frames, stack.depth);
  const std::size_t mask = 2 * kMaxSites - 1;
  while (g_site_lock.test_and_set(std::memory_order_acquire)) {
  }
  std::uint32_t found = 0;
  for (std::size_t j = h & mask;; j = (j + 1) & mask) {
    const std::uint32_t index = g_index[j];
    if (index == 0) {
      const std::uint32_t next = g_published->load(std::memory_order_relaxed);
      if (next < kMaxSites) {
        Site& site = g_sites[next];
        std::memset(&site, 0, sizeof site);
        std::memcpy(site.frames, stack.frames, sizeof(std::uintptr_t) * stack.depth);
        site.depth = stack.depth;
        g_index[j] = next;
        g_published->store(next + 1, std::memory_order_release);
        if (stack.depth == 1) g_one_frame.fetch_add(1, std::memory_order_relaxed);
        found = next;
      }
      break;
    }
    const Site& s = g_sites[index];
    if (s.depth == stack.depth && std::memcmp(s.frames, stack.frames, sizeof(std::uintptr_t) * stack.depth) == 0) {
      found = index;
      break;
    }
  }
  g_site_lock.clear(std::memory_order_release);
  return found;
}

// ---- the stack cache, one a thread (memory of its own, given back when the thread exits)

constexpr int kSetBits = 10;  // 1024 sets of two ways
constexpr std::size_t kWays = 2;
constexpr std::size_t kCacheEntries = (std::size_t{1} << kSetBits) * kWays;

struct CacheEntry {
  std::uintptr_t ip, sp;
  std::uintptr_t slot[kSiteFrames - 1];   // where frame k + 1's return address was found
  std::uintptr_t value[kSiteFrames - 1];  // ... and what it was
  std::uint32_t depth, site;
};

struct Cache {
  CacheEntry entries[kCacheEntries];
};

pthread_key_t g_cache_key;
pthread_once_t g_cache_once = PTHREAD_ONCE_INIT;
thread_local Cache* t_cache __attribute__((tls_model("initial-exec"))) = nullptr;

void release_cache(void* cache) {
  if (cache != nullptr) own_unmap(cache, sizeof(Cache));
  t_cache = nullptr;
}

void make_cache_key() { ::pthread_key_create(&g_cache_key, release_cache); }

Cache* thread_cache() {
  if (t_cache != nullptr) return t_cache;
  ::pthread_once(&g_cache_once, make_cache_key);
  t_cache = static_cast<Cache*>(own_map(sizeof(Cache)));
  if (t_cache != nullptr) ::pthread_setspecific(g_cache_key, t_cache);
  return t_cache;
}

bool same_frames(const Stack& a, const Site& b) {
  return a.depth == b.depth && std::memcmp(a.frames, b.frames, sizeof(std::uintptr_t) * a.depth) == 0;
}

void check(std::uint32_t site) {
  const Stack truth = unwind_libgcc();
  g_checked.fetch_add(1, std::memory_order_relaxed);
  if (!same_frames(truth, g_sites[site])) g_disagreed.fetch_add(1, std::memory_order_relaxed);
}

bool holds(const CacheEntry& e, const Caller& caller) {
  if (e.ip != caller.ip || e.sp != caller.sp || e.depth == 0) return false;
  for (std::uint32_t k = 0; k + 1 < e.depth; ++k)
    if (*reinterpret_cast<const std::uintptr_t*>(e.slot[k]) != e.value[k]) return false;
  return true;
}

std::uint32_t cached_site(const Caller& caller) {
  Cache* cache = thread_cache();
  if (cache == nullptr) return intern(unwind_libgcc());
  CacheEntry* set = &cache->entries[(((caller.ip ^ (caller.sp >> 4)) * 0x9E3779B97F4A7C15ull) >> (64 - kSetBits)) * kWays];
  if (holds(set[0], caller)) return set[0].site;
  if (holds(set[1], caller)) {  // the set's other way: made the first, the one a miss keeps
    const CacheEntry hit = set[1];
    set[1] = set[0];
    set[0] = hit;
    return hit.site;
  }
  g_misses.fetch_add(1, std::memory_order_relaxed);
  const Stack stack = unwind_libgcc();
  const std::uint32_t site = intern(stack);
  // Cached only when libgcc's first frame is this caller at this stack pointer: the slots above follow
  // from it. The new entry takes the first way; the first moves to the second, whose entry goes.
  if (stack.depth > 0 && stack.frames[0] == caller.ip && stack.cfa[0] == caller.sp) {
    set[1] = set[0];
    CacheEntry& e = set[0];
    e.ip = caller.ip;
    e.sp = caller.sp;
    e.depth = stack.depth;
    e.site = site;
    for (std::uint32_t k = 0; k + 1 < stack.depth; ++k) {
      e.slot[k] = stack.cfa[k + 1] - 8;
      e.value[k] = stack.frames[k + 1];
    }
  }
  return site;
}

}  // namespace

void place_sites(trace::Site* table, std::atomic<std::uint32_t>* published) {
  g_sites = table;
  g_published = published;
  if (published->load() == 0) published->store(1);  // site 0: none
}

std::uint32_t site_of(const Caller& caller) {
  configure();
  if (own_code(caller.ip)) return intern(unwind_libgcc());  // called from inside the interposer: unwind past it
  std::uint32_t site = 0;
  switch (g_unwinder) {
    case Unwinder::cache: site = cached_site(caller); break;
    case Unwinder::libgcc: site = intern(unwind_libgcc()); break;
    case Unwinder::fp: site = intern(unwind_fp(caller)); break;
  }
  if (g_validate) check(site);
  return site;
}

const trace::Site& site_at(std::uint32_t index) { return g_sites[index]; }

std::uint32_t site_count() { return g_published != nullptr ? g_published->load(std::memory_order_acquire) : 1; }

const char* unwinder_name() {
  configure();
  return g_unwinder == Unwinder::cache ? "cache" : g_unwinder == Unwinder::libgcc ? "libgcc" : "fp";
}

UnwindCounts unwind_counts() { return {g_misses.load(), g_checked.load(), g_disagreed.load(), g_one_frame.load()}; }

}  // namespace bench::interposer
