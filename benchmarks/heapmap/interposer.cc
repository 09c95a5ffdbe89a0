// libbench_heapmap.so: the heap map's interposer (heap_map.h). Preloaded ahead of the allocator it
// forwards to, so every definition here wins symbol lookup; it never allocates from that allocator
// for itself: its tables live in its own mmap'ed memory, and its text output is formatted by hand.
//
// Contracts every entry point keeps:
//  - a call made while this thread is already inside the interposer (the unwinder, dlsym,
//    pthread_create calling malloc) is forwarded without being recorded;
//  - before the next allocator is resolved (dlsym itself may call calloc), requests are served from a
//    static bootstrap arena, whose blocks are never freed;
//  - the table is changed under one lock; a block is removed before it is freed, so a new block at
//    the same address (from another thread) is never lost.
#include "benchmarks/heapmap/heap_map.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <unwind.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace {

using bench::heap_map::kGranuleBytes;
using bench::heap_map::kPinnedShare;
using bench::heap_map::kSiteFrames;

constexpr std::uint64_t kPage = 4096;

// ---------------------------------------------------------------------------------------------
// Memory of its own, and the regions it occupies (left out of every page class).

struct Region {
  std::uintptr_t start, end;
};
constexpr int kMaxRegions = 256;
Region g_regions[kMaxRegions];
std::atomic<int> g_region_count{0};
std::atomic<std::uint64_t> g_own_bytes{0};

void* own_map(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const int i = g_region_count.fetch_add(1);
  if (i < kMaxRegions) g_regions[i] = {reinterpret_cast<std::uintptr_t>(p), reinterpret_cast<std::uintptr_t>(p) + bytes};
  g_own_bytes += bytes;
  return p;
}

void own_unmap(void* p, std::size_t bytes) {
  const auto start = reinterpret_cast<std::uintptr_t>(p);
  for (int i = 0; i < g_region_count.load() && i < kMaxRegions; ++i)
    if (g_regions[i].start == start) g_regions[i] = {0, 0};
  g_own_bytes -= bytes;
  ::munmap(p, bytes);
}

bool is_own(std::uintptr_t address) {
  for (int i = 0; i < g_region_count.load() && i < kMaxRegions; ++i)
    if (address >= g_regions[i].start && address < g_regions[i].end) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// The allocator behind: every function resolved once with dlsym(RTLD_NEXT).

struct Next {
  void* (*malloc)(std::size_t) = nullptr;
  void (*free)(void*) = nullptr;
  void* (*calloc)(std::size_t, std::size_t) = nullptr;
  void* (*realloc)(void*, std::size_t) = nullptr;
  void* (*reallocarray)(void*, std::size_t, std::size_t) = nullptr;
  int (*posix_memalign)(void**, std::size_t, std::size_t) = nullptr;
  void* (*memalign)(std::size_t, std::size_t) = nullptr;
  void* (*aligned_alloc)(std::size_t, std::size_t) = nullptr;
  void* (*valloc)(std::size_t) = nullptr;
  void* (*pvalloc)(std::size_t) = nullptr;
  std::size_t (*usable)(void*) = nullptr;
  void* (*new_)(std::size_t) = nullptr;
  void* (*new_array)(std::size_t) = nullptr;
  void* (*new_aligned)(std::size_t, std::align_val_t) = nullptr;
  void* (*new_array_aligned)(std::size_t, std::align_val_t) = nullptr;
  void (*delete_)(void*) = nullptr;
  void (*delete_array)(void*) = nullptr;
  void (*delete_aligned)(void*, std::align_val_t) = nullptr;
  void (*delete_array_aligned)(void*, std::align_val_t) = nullptr;
};
Next g_next;
char g_next_malloc_path[512], g_next_new_path[512];
std::atomic<int> g_state{0};  // 0: not resolved, 1: resolving, 2: ready

// The bootstrap arena: what dlsym asks for while the allocator behind is being found.
alignas(64) char g_bootstrap[1 << 16];
std::atomic<std::size_t> g_bootstrap_used{0};

void* bootstrap_alloc(std::size_t bytes, std::size_t alignment = 16) {
  std::size_t at = g_bootstrap_used.load();
  std::size_t start, end;
  do {
    start = (at + alignment - 1) & ~(alignment - 1);
    end = start + bytes;
    if (end > sizeof g_bootstrap) return nullptr;
  } while (!g_bootstrap_used.compare_exchange_weak(at, end));
  std::memset(g_bootstrap + start, 0, bytes);
  return g_bootstrap + start;
}

bool from_bootstrap(const void* p) {
  return p >= static_cast<const void*>(g_bootstrap) && p < static_cast<const void*>(g_bootstrap + sizeof g_bootstrap);
}

// This thread is inside the interposer (then calls are forwarded, not recorded).
__attribute__((tls_model("initial-exec"))) thread_local bool t_busy = false;

struct Busy {
  Busy() { t_busy = true; }
  ~Busy() { t_busy = false; }
};

// This thread is inside a call forwarded to the allocator behind (libstdc++'s operator new calling
// malloc, say): what that call does inside is part of the one block the outer call records.
__attribute__((tls_model("initial-exec"))) thread_local bool t_forwarding = false;

template <class F>
F resolve(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

void library_of(void* function, char* out, std::size_t size) {
  Dl_info info{};
  if (function != nullptr && ::dladdr(function, &info) != 0 && info.dli_fname != nullptr) {
    std::strncpy(out, info.dli_fname, size - 1);
    out[size - 1] = '\0';
  }
}

void resolve_next() {
  int expected = 0;
  if (!g_state.compare_exchange_strong(expected, 1)) return;  // resolving (re-entered) or ready
  Busy busy;
  Next n;
  n.malloc = resolve<decltype(n.malloc)>("malloc");
  n.free = resolve<decltype(n.free)>("free");
  n.calloc = resolve<decltype(n.calloc)>("calloc");
  n.realloc = resolve<decltype(n.realloc)>("realloc");
  n.reallocarray = resolve<decltype(n.reallocarray)>("reallocarray");
  n.posix_memalign = resolve<decltype(n.posix_memalign)>("posix_memalign");
  n.memalign = resolve<decltype(n.memalign)>("memalign");
  n.aligned_alloc = resolve<decltype(n.aligned_alloc)>("aligned_alloc");
  n.valloc = resolve<decltype(n.valloc)>("valloc");
  n.pvalloc = resolve<decltype(n.pvalloc)>("pvalloc");
  n.usable = resolve<decltype(n.usable)>("malloc_usable_size");
  n.new_ = resolve<decltype(n.new_)>("_Znwm");
  n.new_array = resolve<decltype(n.new_array)>("_Znam");
  n.new_aligned = resolve<decltype(n.new_aligned)>("_ZnwmSt11align_val_t");
  n.new_array_aligned = resolve<decltype(n.new_array_aligned)>("_ZnamSt11align_val_t");
  n.delete_ = resolve<decltype(n.delete_)>("_ZdlPv");
  n.delete_array = resolve<decltype(n.delete_array)>("_ZdaPv");
  n.delete_aligned = resolve<decltype(n.delete_aligned)>("_ZdlPvSt11align_val_t");
  n.delete_array_aligned = resolve<decltype(n.delete_array_aligned)>("_ZdaPvSt11align_val_t");
  if (n.malloc == nullptr || n.free == nullptr) ::abort();  // nothing to forward to: no process can run
  library_of(reinterpret_cast<void*>(n.malloc), g_next_malloc_path, sizeof g_next_malloc_path);
  library_of(reinterpret_cast<void*>(n.new_), g_next_new_path, sizeof g_next_new_path);
  g_next = n;
  g_state.store(2);
}

// ---------------------------------------------------------------------------------------------
// Allocation sites: up to kSiteFrames return addresses, interned.

struct Site {
  std::uintptr_t frames[kSiteFrames];
  std::uint64_t hash;
  std::uint32_t depth;
};

struct UnwindState {
  std::uintptr_t* frames;
  int skip, depth, max;
};

// Where the interposer's own code is mapped: its frames are left out of every site (how many there
// are depends on what the compiler inlined).
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

_Unwind_Reason_Code unwind_step(_Unwind_Context* context, void* argument) {
  auto* state = static_cast<UnwindState*>(argument);
  const auto ip = static_cast<std::uintptr_t>(_Unwind_GetIP(context));
  if (ip >= g_own_text_start && ip < g_own_text_end) return _URC_NO_REASON;  // the interposer's own frame
  if (state->depth >= state->max) return _URC_END_OF_STACK;
  state->frames[state->depth++] = ip;
  return _URC_NO_REASON;
}

// The caller's stack, without the interposer's frames.
Site capture_site() {
  if (g_own_text_end == 0) ::dl_iterate_phdr(find_own_text, nullptr);
  Site site{};
  UnwindState state{site.frames, 0, 0, kSiteFrames};
  _Unwind_Backtrace(unwind_step, &state);
  site.depth = static_cast<std::uint32_t>(state.depth);
  std::uint64_t h = 1469598103934665603ull;
  for (int i = 0; i < state.depth; ++i) h = (h ^ site.frames[i]) * 1099511628211ull;
  site.hash = h | 1;
  return site;
}

// ---------------------------------------------------------------------------------------------
// The tables, under one lock: live blocks, interned sites, malloc's ground (granules).

pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

struct Block {
  std::uintptr_t address;  // 0: empty, 1: deleted
  std::uint32_t size;      // usable size; UINT32_MAX: the size is in g_huge
  std::uint32_t site;
};
Block* g_blocks = nullptr;
std::size_t g_block_capacity = 0, g_block_used = 0, g_block_live = 0;
std::uint64_t g_live_bytes = 0;

struct Huge {
  std::uintptr_t address;
  std::uint64_t size;
};
constexpr std::size_t kMaxHuge = 4096;
Huge g_huge[kMaxHuge];
std::size_t g_huge_count = 0;

Site* g_sites = nullptr;  // g_sites[0] is "no site"
std::uint32_t* g_site_index = nullptr;
std::size_t g_site_capacity = 0, g_site_count = 1;
constexpr std::size_t kMaxSites = 1 << 20;

std::uint64_t* g_granules = nullptr;  // granule number + 1; 0 empty
std::size_t g_granule_capacity = 0, g_granule_count = 0;

std::uint64_t g_unknown_frees = 0, g_calls = 0, g_record_ns = 0;

// Blocks allocated while a thread was inside the interposer (the unwinder's, dlsym's, the listener
// thread's): kept apart, without the lock (a snapshot holds it while dladdr may allocate), so that
// their frees are known and not counted as unknown.
constexpr std::size_t kInternal = 1024;
std::atomic<std::uintptr_t> g_internal[kInternal];

void remember_internal(void* p) {
  if (p == nullptr) return;
  for (auto& slot : g_internal) {
    std::uintptr_t empty = 0;
    if (slot.compare_exchange_strong(empty, reinterpret_cast<std::uintptr_t>(p))) return;
  }
}

bool forget_internal(void* p) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  for (auto& slot : g_internal) {
    std::uintptr_t expected = address;
    if (slot.load(std::memory_order_relaxed) == address && slot.compare_exchange_strong(expected, 0)) return true;
  }
  return false;
}

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

std::uint64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

void grow_blocks() {
  const std::size_t capacity = g_block_capacity == 0 ? (1u << 16) : g_block_capacity * 2;
  auto* blocks = static_cast<Block*>(own_map(capacity * sizeof(Block)));
  if (blocks == nullptr) ::abort();
  for (std::size_t i = 0; i < g_block_capacity; ++i) {
    const Block& b = g_blocks[i];
    if (b.address <= 1) continue;
    for (std::size_t j = mix(b.address) & (capacity - 1);; j = (j + 1) & (capacity - 1))
      if (blocks[j].address == 0) {
        blocks[j] = b;
        break;
      }
  }
  if (g_blocks != nullptr) own_unmap(g_blocks, g_block_capacity * sizeof(Block));
  g_blocks = blocks;
  g_block_capacity = capacity;
  g_block_used = g_block_live;
}

std::uint32_t intern(const Site& site) {
  if (g_site_capacity == 0) {
    g_site_capacity = 1 << 12;
    g_sites = static_cast<Site*>(own_map(kMaxSites * sizeof(Site)));  // reserved, touched as used
    g_site_index = static_cast<std::uint32_t*>(own_map(2 * kMaxSites * sizeof(std::uint32_t)));
    if (g_sites == nullptr || g_site_index == nullptr) ::abort();
  }
  const std::size_t mask = 2 * kMaxSites - 1;
  for (std::size_t j = site.hash & mask;; j = (j + 1) & mask) {
    const std::uint32_t index = g_site_index[j];
    if (index == 0) {
      if (g_site_count >= kMaxSites) return 0;
      g_sites[g_site_count] = site;
      g_site_index[j] = static_cast<std::uint32_t>(g_site_count);
      return static_cast<std::uint32_t>(g_site_count++);
    }
    const Site& s = g_sites[index];
    if (s.hash == site.hash && s.depth == site.depth && std::memcmp(s.frames, site.frames, sizeof s.frames) == 0) return index;
  }
}

void mark_granules(std::uintptr_t address, std::uint64_t size) {
  if (g_granule_count * 2 >= g_granule_capacity) {
    const std::size_t capacity = g_granule_capacity == 0 ? (1u << 14) : g_granule_capacity * 2;
    auto* granules = static_cast<std::uint64_t*>(own_map(capacity * sizeof(std::uint64_t)));
    if (granules == nullptr) ::abort();
    for (std::size_t i = 0; i < g_granule_capacity; ++i)
      if (g_granules[i] != 0)
        for (std::size_t j = mix(g_granules[i]) & (capacity - 1);; j = (j + 1) & (capacity - 1))
          if (granules[j] == 0) {
            granules[j] = g_granules[i];
            break;
          }
    if (g_granules != nullptr) own_unmap(g_granules, g_granule_capacity * sizeof(std::uint64_t));
    g_granules = granules;
    g_granule_capacity = capacity;
  }
  const std::uint64_t last = (address + (size == 0 ? 1 : size) - 1) / kGranuleBytes;
  for (std::uint64_t g = address / kGranuleBytes; g <= last; ++g) {
    const std::uint64_t key = g + 1;
    for (std::size_t j = mix(key) & (g_granule_capacity - 1);; j = (j + 1) & (g_granule_capacity - 1)) {
      if (g_granules[j] == key) break;
      if (g_granules[j] == 0) {
        g_granules[j] = key;
        ++g_granule_count;
        break;
      }
    }
  }
}

bool in_ground(std::uint64_t page_address) {
  if (g_granule_capacity == 0) return false;
  const std::uint64_t key = page_address / kGranuleBytes + 1;
  for (std::size_t j = mix(key) & (g_granule_capacity - 1);; j = (j + 1) & (g_granule_capacity - 1)) {
    if (g_granules[j] == key) return true;
    if (g_granules[j] == 0) return false;
  }
}

std::uint64_t block_size(const Block& b) {
  if (b.size != UINT32_MAX) return b.size;
  for (std::size_t i = 0; i < g_huge_count; ++i)
    if (g_huge[i].address == b.address) return g_huge[i].size;
  return 0;
}

void insert_block(std::uintptr_t address, std::uint64_t size, std::uint32_t site) {
  if ((g_block_used + 1) * 10 >= g_block_capacity * 7) grow_blocks();
  Block b{address, size >= UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(size), site};
  if (b.size == UINT32_MAX && g_huge_count < kMaxHuge) g_huge[g_huge_count++] = {address, size};
  std::size_t j = mix(address) & (g_block_capacity - 1);
  std::size_t tombstone = SIZE_MAX;
  for (;; j = (j + 1) & (g_block_capacity - 1)) {
    if (g_blocks[j].address == address) {  // a block we thought live came back: replace it
      g_live_bytes -= block_size(g_blocks[j]);
      g_blocks[j] = b;
      g_live_bytes += size;
      return;
    }
    if (g_blocks[j].address == 1 && tombstone == SIZE_MAX) tombstone = j;
    if (g_blocks[j].address == 0) break;
  }
  if (tombstone != SIZE_MAX) {
    j = tombstone;
  } else {
    ++g_block_used;
  }
  g_blocks[j] = b;
  ++g_block_live;
  g_live_bytes += size;
  mark_granules(address, size);
}

// Removes `address`; false if it was not a live block.
bool remove_block(std::uintptr_t address) {
  if (g_block_capacity == 0) return false;
  for (std::size_t j = mix(address) & (g_block_capacity - 1);; j = (j + 1) & (g_block_capacity - 1)) {
    if (g_blocks[j].address == 0) return false;
    if (g_blocks[j].address == address) {
      const std::uint64_t size = block_size(g_blocks[j]);
      if (g_blocks[j].size == UINT32_MAX)
        for (std::size_t i = 0; i < g_huge_count; ++i)
          if (g_huge[i].address == address) g_huge[i] = g_huge[--g_huge_count];
      g_blocks[j].address = 1;
      --g_block_live;
      g_live_bytes -= size;
      return true;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The entry points' shared paths.

bool ready() {
  if (g_state.load(std::memory_order_acquire) == 2) return true;
  resolve_next();
  return g_state.load(std::memory_order_acquire) == 2;
}

void record(void* p) {
  if (p == nullptr || t_forwarding) return;
  if (t_busy) return remember_internal(p);
  Busy busy;
  const std::uint64_t start = now_ns();
  const Site site = capture_site();
  const std::uint64_t size = g_next.usable != nullptr ? g_next.usable(p) : 0;  // busy: nothing it calls is recorded
  pthread_mutex_lock(&g_lock);
  insert_block(reinterpret_cast<std::uintptr_t>(p), size, intern(site));
  ++g_calls;
  g_record_ns += now_ns() - start;
  pthread_mutex_unlock(&g_lock);
}

void forget(void* p) {
  if (p == nullptr || t_forwarding) return;
  if (t_busy) {
    forget_internal(p);
    return;
  }
  Busy busy;
  const std::uint64_t start = now_ns();
  pthread_mutex_lock(&g_lock);
  const bool known = remove_block(reinterpret_cast<std::uintptr_t>(p));
  ++g_calls;
  g_record_ns += now_ns() - start;
  pthread_mutex_unlock(&g_lock);
  if (!known && !forget_internal(p)) {
    pthread_mutex_lock(&g_lock);
    ++g_unknown_frees;
    pthread_mutex_unlock(&g_lock);
  }
}

// Calls the allocator behind with this thread marked forwarding: whatever it calls back (libstdc++'s
// operator new calling malloc, an allocator whose realloc calls free through the PLT) is part of the
// one call recorded here, neither a second record nor one of the interposer's own blocks.
template <class Call>
auto forwarded(Call call) {
  const bool was = t_forwarding;
  t_forwarding = true;
  auto result = call();
  t_forwarding = was;
  return result;
}

// ---------------------------------------------------------------------------------------------
// The snapshot: text formatted by hand into a fixed buffer, written with write(2).

struct Text {
  char data[1 << 16];
  std::size_t length = 0;
  void put(const char* s) {
    while (*s != '\0' && length + 1 < sizeof data) data[length++] = *s++;
  }
  void put(std::uint64_t v) {
    char digits[24];
    int n = 0;
    do digits[n++] = static_cast<char>('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0 && length + 1 < sizeof data) data[length++] = digits[--n];
  }
  void hex(std::uint64_t v) {
    put("0x");
    char digits[20];
    int n = 0;
    do digits[n++] = "0123456789abcdef"[v % 16];
    while ((v /= 16) != 0);
    while (n > 0 && length + 1 < sizeof data) data[length++] = digits[--n];
  }
  void line(const char* key, std::uint64_t v) {
    put(key);
    put(" ");
    put(v);
    put("\n");
  }
};

// A return address as "<object path>+0x<offset from its load address>": the parent names the
// function from the object's own symbol table (heap_map.h), which dladdr cannot read.
// The executable's path and load address, found once: dladdr names the executable by argv[0], whose
// memory a server may have overwritten with its process title (Redis does).
char g_executable[512];
std::uintptr_t g_executable_base = 1;

int find_executable(dl_phdr_info* info, std::size_t, void*) {
  g_executable_base = info->dlpi_addr;  // the first object dl_iterate_phdr reports is the executable
  return 1;
}

void put_frame(Text& out, std::uintptr_t address) {
  if (g_executable_base == 1) {
    ::dl_iterate_phdr(find_executable, nullptr);
    const ssize_t n = ::readlink("/proc/self/exe", g_executable, sizeof g_executable - 1);
    g_executable[n > 0 ? n : 0] = '\0';
  }
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(address - 1), &info) == 0 || info.dli_fname == nullptr) {
    out.put("?+");
    out.hex(address);
    return;
  }
  const bool executable =
      reinterpret_cast<std::uintptr_t>(info.dli_fbase) == g_executable_base || (g_executable_base == 0 && info.dli_fname[0] == '\0');
  out.put(executable && g_executable[0] != '\0' ? g_executable : info.dli_fname[0] != '\0' ? info.dli_fname : "/proc/self/exe");
  out.put("+");
  out.hex(address - reinterpret_cast<std::uintptr_t>(info.dli_fbase));
}

// A page's live bytes and class, for the pages live blocks touch (open addressing, own memory).
struct PageEntry {
  std::uint64_t page;  // page number + 1; 0 empty
  std::uint32_t live;
  std::uint32_t resident;
};

int write_all(int fd, const char* data, std::size_t length) {
  while (length > 0) {
    const ssize_t n = ::write(fd, data, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    data += n;
    length -= static_cast<std::size_t>(n);
  }
  return 0;
}

const char* heap_map_directory() { return std::getenv("BENCH_HEAPMAP_DIR"); }

int take_snapshot(const char* moment) {
  const char* directory = heap_map_directory();
  if (directory == nullptr || *directory == '\0' || !ready()) return -1;
  Busy busy;
  pthread_mutex_lock(&g_lock);

  // 1. Live bytes per page (a block counts on every page it overlaps).
  std::uint64_t spanned = 1024;
  for (std::size_t i = 0; i < g_block_capacity; ++i)
    if (g_blocks[i].address > 1) {
      const std::uint64_t size = block_size(g_blocks[i]);
      spanned += (g_blocks[i].address + (size ? size : 1) - 1) / kPage - g_blocks[i].address / kPage + 1;
    }
  std::size_t capacity = 1 << 12;
  while (capacity < spanned * 2) capacity *= 2;
  auto* pages = static_cast<PageEntry*>(own_map(capacity * sizeof(PageEntry)));
  std::size_t page_count = 0;
  auto find_page = [&](std::uint64_t page, bool insert) -> PageEntry* {
    for (std::size_t j = mix(page + 1) & (capacity - 1);; j = (j + 1) & (capacity - 1)) {
      if (pages[j].page == page + 1) return &pages[j];
      if (pages[j].page == 0) {
        if (!insert || page_count * 10 >= capacity * 7) return nullptr;
        pages[j].page = page + 1;
        ++page_count;
        return &pages[j];
      }
    }
  };
  for (std::size_t i = 0; pages != nullptr && i < g_block_capacity; ++i) {
    const Block& b = g_blocks[i];
    if (b.address <= 1) continue;
    const std::uint64_t size = block_size(b), first = b.address / kPage, last = (b.address + (size ? size : 1) - 1) / kPage;
    for (std::uint64_t page = first; page <= last; ++page) {
      const std::uint64_t from = page == first ? b.address : page * kPage;
      const std::uint64_t to = page == last ? b.address + size : (page + 1) * kPage;
      if (PageEntry* e = find_page(page, true)) e->live = static_cast<std::uint32_t>(std::min<std::uint64_t>(kPage, e->live + (to - from)));
    }
  }

  // 2. Every resident page of the process's anonymous private memory, sorted.
  std::uint64_t free_bytes = 0, pinned_bytes = 0, used_bytes = 0, outside_bytes = 0, own_resident = 0;
  const int maps = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  const int pagemap = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  char buffer[8192];
  std::size_t have = 0;
  bool eof = false;
  static std::uint64_t entries[4096];
  while (maps >= 0 && pagemap >= 0) {
    if (!eof && have < sizeof buffer / 2) {
      const ssize_t n = ::read(maps, buffer + have, sizeof buffer - have);
      if (n <= 0)
        eof = true;
      else
        have += static_cast<std::size_t>(n);
    }
    char* newline = static_cast<char*>(std::memchr(buffer, '\n', have));
    if (newline == nullptr) break;
    *newline = '\0';
    // "start-end perms offset dev inode [path]": anonymous private writable, no path, or [heap].
    char* p = buffer;
    const std::uint64_t start = std::strtoull(p, &p, 16);
    const std::uint64_t end = std::strtoull(p + 1, &p, 16);
    const char* perms = p + 1;
    const char* path = std::strchr(perms, '/');
    const char* bracket = std::strchr(perms, '[');
    // glibc names its arenas "[anon: glibc: malloc arena]" where the kernel allows it.
    const bool anonymous =
        path == nullptr && (bracket == nullptr || std::strncmp(bracket, "[heap]", 6) == 0 || std::strncmp(bracket, "[anon", 5) == 0);
    const bool wanted = anonymous && perms[0] == 'r' && perms[1] == 'w' && perms[3] == 'p';
    const std::size_t consumed = static_cast<std::size_t>(newline - buffer) + 1;
    std::memmove(buffer, buffer + consumed, have - consumed);
    have -= consumed;
    if (!wanted) continue;
    for (std::uint64_t page = start / kPage; page < end / kPage;) {
      const std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(4096, end / kPage - page));
      const ssize_t n = ::pread(pagemap, entries, count * 8, static_cast<off_t>(page * 8));
      if (n <= 0) break;
      for (std::size_t k = 0; k < static_cast<std::size_t>(n) / 8; ++k) {
        if ((entries[k] >> 63) == 0) continue;  // not present
        const std::uint64_t address = (page + k) * kPage;
        if (is_own(address)) {
          own_resident += kPage;
          continue;
        }
        PageEntry* e = pages != nullptr ? find_page(page + k, false) : nullptr;
        if (e != nullptr) {
          e->resident = 1;
          if (e->live >= kPage * kPinnedShare)
            used_bytes += kPage;
          else
            pinned_bytes += kPage;
        } else if (in_ground(address)) {
          free_bytes += kPage;
        } else {
          outside_bytes += kPage;
        }
      }
      page += static_cast<std::uint64_t>(n) / 8;
    }
  }
  if (maps >= 0) ::close(maps);
  if (pagemap >= 0) ::close(pagemap);

  // 3. The pinning sites: each pinned page's bytes shared among its blocks by their live bytes.
  std::uint64_t* site_pinned = g_site_count > 0 ? static_cast<std::uint64_t*>(own_map(g_site_count * 2 * sizeof(std::uint64_t))) : nullptr;
  for (std::size_t i = 0; site_pinned != nullptr && pages != nullptr && i < g_block_capacity; ++i) {
    const Block& b = g_blocks[i];
    if (b.address <= 1) continue;
    const std::uint64_t size = block_size(b), first = b.address / kPage, last = (b.address + (size ? size : 1) - 1) / kPage;
    bool counted = false;
    for (std::uint64_t page = first; page <= last; ++page) {
      const PageEntry* e = find_page(page, false);
      if (e == nullptr || !e->resident || e->live >= kPage * kPinnedShare || e->live == 0) continue;
      const std::uint64_t from = page == first ? b.address : page * kPage;
      const std::uint64_t to = page == last ? b.address + size : (page + 1) * kPage;
      site_pinned[2 * b.site] += kPage * (to - from) / e->live;
      if (!counted) ++site_pinned[2 * b.site + 1];
      counted = true;
    }
  }

  Text* out = static_cast<Text*>(own_map(sizeof(Text)));
  if (out == nullptr) {
    pthread_mutex_unlock(&g_lock);
    return -1;
  }
  out->put("moment ");
  out->put(moment);
  out->put("\n");
  out->line("pid", static_cast<std::uint64_t>(::getpid()));
  out->put("pinned_share 0.25\n");
  out->line("resident_free", free_bytes);
  out->line("resident_pinned", pinned_bytes);
  out->line("resident_used", used_bytes);
  out->line("resident_outside", outside_bytes);
  out->line("live_bytes", g_live_bytes);
  out->line("live_blocks", g_block_live);
  out->line("own_bytes", own_resident);
  out->line("unknown_frees", g_unknown_frees);
  out->line("calls", g_calls);
  out->line("record_ns", g_calls > 0 ? g_record_ns / g_calls : 0);
  // The 20 sites that pin the most, most first (a selection: 20 passes over the sites).
  for (int rank = 0; rank < 20 && site_pinned != nullptr; ++rank) {
    std::size_t best = 0;
    for (std::size_t s = 1; s < g_site_count; ++s)
      if (site_pinned[2 * s] > site_pinned[2 * best]) best = s;
    if (best == 0 || site_pinned[2 * best] == 0) break;
    out->put("site ");
    out->put(site_pinned[2 * best]);
    out->put(" ");
    out->put(site_pinned[2 * best + 1]);
    for (std::uint32_t f = 0; f < g_sites[best].depth && g_sites[best].frames[f] != 0; ++f) {
      out->put(" ");
      put_frame(*out, g_sites[best].frames[f]);
    }
    out->put("\n");
    site_pinned[2 * best] = 0;
  }
  pthread_mutex_unlock(&g_lock);

  char path[600];
  Text name;
  name.put(directory);
  name.put("/");
  name.put(static_cast<std::uint64_t>(::getpid()));
  name.put(".");
  name.put(moment);
  name.put(".heapmap");
  std::memcpy(path, name.data, name.length);
  path[name.length] = '\0';
  int result = -1;
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    result = write_all(fd, out->data, out->length);
    ::close(fd);
  }
  own_unmap(out, sizeof(Text));
  if (site_pinned != nullptr) own_unmap(site_pinned, g_site_count * 2 * sizeof(std::uint64_t));
  if (pages != nullptr) own_unmap(pages, capacity * sizeof(PageEntry));
  return result;
}

// ---------------------------------------------------------------------------------------------
// A program's phases: a listener thread on <dir>/<pid>.sock.

void* listen_loop(void* argument) {
  t_busy = true;  // its own allocations (there should be none) are not the program's
  const int server = static_cast<int>(reinterpret_cast<std::intptr_t>(argument));
  while (true) {
    const int client = ::accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR) continue;
      return nullptr;
    }
    char request[256];
    std::size_t length = 0;
    while (length + 1 < sizeof request) {
      const ssize_t n = ::read(client, request + length, sizeof request - 1 - length);
      if (n <= 0) break;
      length += static_cast<std::size_t>(n);
      if (std::memchr(request, '\n', length) != nullptr) break;
    }
    request[length] = '\0';
    if (char* newline = std::strchr(request, '\n')) *newline = '\0';
    if (std::strncmp(request, "snapshot ", 9) == 0) {
      t_busy = false;  // the snapshot takes the lock like any caller
      const int ok = take_snapshot(request + 9);
      t_busy = true;
      Text answer;
      answer.put(ok == 0 ? "done " : "failed ");
      answer.put(request + 9);
      answer.put("\n");
      write_all(client, answer.data, answer.length);
    }
    ::close(client);
  }
}

void start_listener() {
  const char* directory = heap_map_directory();
  const char* listen = std::getenv("BENCH_HEAPMAP_LISTEN");
  if (directory == nullptr || listen == nullptr || std::strcmp(listen, "1") != 0) return;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  Text path;
  path.put(directory);
  path.put("/");
  path.put(static_cast<std::uint64_t>(::getpid()));
  path.put(".sock");
  if (path.length >= sizeof address.sun_path) return;
  std::memcpy(address.sun_path, path.data, path.length);
  const int server = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (server < 0) return;
  ::unlink(address.sun_path);
  if (::bind(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(server, 4) != 0) {
    ::close(server);
    return;
  }
  pthread_t thread;
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  Busy busy;  // pthread_create's own allocations are not the program's
  if (pthread_create(&thread, &attributes, listen_loop, reinterpret_cast<void*>(static_cast<std::intptr_t>(server))) != 0) ::close(server);
  pthread_attr_destroy(&attributes);
}

void write_forward_file() {
  const char* directory = heap_map_directory();
  if (directory == nullptr) return;
  Text name, body;
  name.put(directory);
  name.put("/");
  name.put(static_cast<std::uint64_t>(::getpid()));
  name.put(".forward");
  char path[600];
  if (name.length >= sizeof path) return;
  std::memcpy(path, name.data, name.length);
  path[name.length] = '\0';
  body.put("malloc ");
  body.put(g_next_malloc_path);
  body.put("\n_Znwm ");
  body.put(g_next_new_path);
  body.put("\n");
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    write_all(fd, body.data, body.length);
    ::close(fd);
  }
}

void after_fork_in_child() {
  // Only the forking thread survives: the lock may be held by a thread that is gone.
  g_lock = PTHREAD_MUTEX_INITIALIZER;
  write_forward_file();
  start_listener();
}

__attribute__((constructor)) void start() {
  ready();
  write_forward_file();
  pthread_atfork(nullptr, nullptr, after_fork_in_child);
  start_listener();
}

__attribute__((destructor)) void finish() {
  const char* at_exit = std::getenv("BENCH_HEAPMAP_AT_EXIT");
  if (at_exit != nullptr && std::strcmp(at_exit, "1") == 0) take_snapshot("exit");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The entry points.

extern "C" {

__attribute__((visibility("default"))) int bench_heap_map_snapshot(const char* moment) { return take_snapshot(moment); }
__attribute__((visibility("default"))) const char* bench_heap_map_next_malloc() { return ready() ? g_next_malloc_path : ""; }
__attribute__((visibility("default"))) const char* bench_heap_map_next_new() { return ready() ? g_next_new_path : ""; }

__attribute__((visibility("default"))) void* malloc(std::size_t size) {
  if (!ready()) return bootstrap_alloc(size);
  void* p = forwarded([&] { return g_next.malloc(size); });
  record(p);
  return p;
}

__attribute__((visibility("default"))) void free(void* p) {
  if (p == nullptr || from_bootstrap(p)) return;
  if (!ready()) return;
  forget(p);
  forwarded([&] {
    g_next.free(p);
    return 0;
  });
}

__attribute__((visibility("default"))) void* calloc(std::size_t count, std::size_t size) {
  if (!ready()) return bootstrap_alloc(count * size);
  void* p = forwarded([&] { return g_next.calloc(count, size); });
  record(p);
  return p;
}

__attribute__((visibility("default"))) void* realloc(void* old, std::size_t size) {
  if (!ready() || from_bootstrap(old)) {
    void* p = ready() ? g_next.malloc(size) : bootstrap_alloc(size);
    if (p != nullptr && old != nullptr) std::memcpy(p, old, size);  // a bootstrap block: copy what fits
    if (ready()) record(p);
    return p;
  }
  if (old != nullptr) forget(old);
  void* p = forwarded([&] { return g_next.realloc(old, size); });
  if (p != nullptr)
    record(p);
  else if (size != 0 && old != nullptr)
    record(old);  // failed: the old block lives on
  return p;
}

__attribute__((visibility("default"))) void* reallocarray(void* old, std::size_t count, std::size_t size) {
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(old, bytes);
}

__attribute__((visibility("default"))) int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  if (!ready()) {
    *out = bootstrap_alloc(size, alignment < 16 ? 16 : alignment);
    return *out != nullptr ? 0 : ENOMEM;
  }
  const int result = forwarded([&] { return g_next.posix_memalign(out, alignment, size); });
  if (result == 0) record(*out);
  return result;
}

__attribute__((visibility("default"))) void* memalign(std::size_t alignment, std::size_t size) {
  if (!ready()) return bootstrap_alloc(size, alignment < 16 ? 16 : alignment);
  void* p = forwarded([&] { return g_next.memalign(alignment, size); });
  record(p);
  return p;
}

__attribute__((visibility("default"))) void* aligned_alloc(std::size_t alignment, std::size_t size) {
  if (!ready()) return bootstrap_alloc(size, alignment < 16 ? 16 : alignment);
  void* p =
      forwarded([&] { return g_next.aligned_alloc != nullptr ? g_next.aligned_alloc(alignment, size) : g_next.memalign(alignment, size); });
  record(p);
  return p;
}

__attribute__((visibility("default"))) void* valloc(std::size_t size) {
  if (!ready()) return bootstrap_alloc(size, kPage);
  void* p = forwarded([&] { return g_next.valloc(size); });
  record(p);
  return p;
}

__attribute__((visibility("default"))) void* pvalloc(std::size_t size) {
  if (!ready()) return bootstrap_alloc((size + kPage - 1) & ~(kPage - 1), kPage);
  void* p = forwarded([&] { return g_next.pvalloc(size); });
  record(p);
  return p;
}

__attribute__((visibility("default"))) std::size_t malloc_usable_size(void* p) {
  if (p == nullptr || from_bootstrap(p) || !ready()) return 0;
  return g_next.usable != nullptr ? g_next.usable(p) : 0;
}

}  // extern "C"

// C++ operators: forwarded to the allocator's own where it has them (jemalloc, tcmalloc, mimalloc
// define operator new), else to libstdc++'s, which calls malloc (then recorded once, here).
namespace {
// libstdc++'s operator new calls malloc, and its delete free: forwarded busy, recorded once here.
void* new_block(std::size_t size, void* (*next)(std::size_t)) {
  if (!ready() || next == nullptr) return malloc(size);
  void* p = forwarded([&] { return next(size); });
  record(p);
  return p;
}
void delete_block(void* p, void (*next)(void*)) {
  if (p == nullptr || from_bootstrap(p)) return;
  if (!ready() || next == nullptr) return free(p);
  forget(p);
  forwarded([&] {
    next(p);
    return 0;
  });
}
}  // namespace

__attribute__((visibility("default"))) void* operator new(std::size_t size) { return new_block(size, g_next.new_); }
__attribute__((visibility("default"))) void* operator new[](std::size_t size) { return new_block(size, g_next.new_array); }
__attribute__((visibility("default"))) void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return new_block(size, g_next.new_);
}
__attribute__((visibility("default"))) void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return new_block(size, g_next.new_array);
}
__attribute__((visibility("default"))) void* operator new(std::size_t size, std::align_val_t alignment) {
  if (!ready() || g_next.new_aligned == nullptr) return aligned_alloc(static_cast<std::size_t>(alignment), size);
  void* p = forwarded([&] { return g_next.new_aligned(size, alignment); });
  record(p);
  return p;
}
__attribute__((visibility("default"))) void* operator new[](std::size_t size, std::align_val_t alignment) {
  if (!ready() || g_next.new_array_aligned == nullptr) return aligned_alloc(static_cast<std::size_t>(alignment), size);
  void* p = forwarded([&] { return g_next.new_array_aligned(size, alignment); });
  record(p);
  return p;
}
__attribute__((visibility("default"))) void operator delete(void* p) noexcept { delete_block(p, g_next.delete_); }
__attribute__((visibility("default"))) void operator delete[](void* p) noexcept { delete_block(p, g_next.delete_array); }
__attribute__((visibility("default"))) void operator delete(void* p, std::size_t) noexcept { delete_block(p, g_next.delete_); }
__attribute__((visibility("default"))) void operator delete[](void* p, std::size_t) noexcept { delete_block(p, g_next.delete_array); }
__attribute__((visibility("default"))) void operator delete(void* p, const std::nothrow_t&) noexcept { delete_block(p, g_next.delete_); }
__attribute__((visibility("default"))) void operator delete[](void* p, const std::nothrow_t&) noexcept {
  delete_block(p, g_next.delete_array);
}
__attribute__((visibility("default"))) void operator delete(void* p, std::align_val_t alignment) noexcept {
  if (p == nullptr) return;
  if (!ready() || g_next.delete_aligned == nullptr) return free(p);
  forget(p);
  forwarded([&] {
    g_next.delete_aligned(p, alignment);
    return 0;
  });
}
__attribute__((visibility("default"))) void operator delete[](void* p, std::align_val_t alignment) noexcept {
  if (p == nullptr) return;
  if (!ready() || g_next.delete_array_aligned == nullptr) return free(p);
  forget(p);
  forwarded([&] {
    g_next.delete_array_aligned(p, alignment);
    return 0;
  });
}
__attribute__((visibility("default"))) void operator delete(void* p, std::size_t, std::align_val_t alignment) noexcept {
  operator delete(p, alignment);
}
__attribute__((visibility("default"))) void operator delete[](void* p, std::size_t, std::align_val_t alignment) noexcept {
  operator delete[](p, alignment);
}
