// libbench_interposer.so: one forwarding layer in front of the configuration's allocator, preloaded
// ahead of it so that every definition here wins symbol lookup (core.h has the contracts). Each
// allocation call is forwarded to the allocator behind (dlsym(RTLD_NEXT)) and shown to the two
// observers that are on: the heap map (heap_map.h: BENCH_HEAPMAP_DIR) and the recorder
// (trace/ring.h: BENCH_RECORD_DIR). With neither, it only forwards.
#include <dlfcn.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "benchmarks/interposer/core.h"
#include "benchmarks/interposer/heap_map.h"

namespace bench::interposer {

using trace::EventKind;

// ---------------------------------------------------------------------------------------------
// Memory of its own, and the regions it occupies.

namespace {
struct Region {
  std::uintptr_t start, end;
};
constexpr int kMaxRegions = 256;
Region g_regions[kMaxRegions];
std::atomic<int> g_region_count{0};
}  // namespace

void* own_map(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const int i = g_region_count.fetch_add(1);
  if (i < kMaxRegions) g_regions[i] = {reinterpret_cast<std::uintptr_t>(p), reinterpret_cast<std::uintptr_t>(p) + bytes};
  if (g_on.record) recorder_note_region(reinterpret_cast<std::uintptr_t>(p), reinterpret_cast<std::uintptr_t>(p) + bytes);
  return p;
}

void for_each_own_region(void (*visit)(std::uintptr_t, std::uintptr_t)) {
  for (int i = 0; i < g_region_count.load() && i < kMaxRegions; ++i)
    if (g_regions[i].end != 0) visit(g_regions[i].start, g_regions[i].end);
}

void own_unmap(void* p, std::size_t bytes) {
  const auto start = reinterpret_cast<std::uintptr_t>(p);
  for (int i = 0; i < g_region_count.load() && i < kMaxRegions; ++i)
    if (g_regions[i].start == start) g_regions[i] = {0, 0};
  if (g_on.record) recorder_forget_region(start);
  ::munmap(p, bytes);
}

bool is_own(std::uintptr_t address) {
  for (int i = 0; i < g_region_count.load() && i < kMaxRegions; ++i)
    if (address >= g_regions[i].start && address < g_regions[i].end) return true;
  return false;
}

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

// ---------------------------------------------------------------------------------------------
// The allocator behind.

Next g_next;
char g_next_malloc_path[512], g_next_new_path[512];
Observer g_on;
thread_local bool t_busy __attribute__((tls_model("initial-exec"))) = false;
thread_local bool t_forwarding __attribute__((tls_model("initial-exec"))) = false;

namespace {

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
  n.posix_memalign = resolve<decltype(n.posix_memalign)>("posix_memalign");
  n.memalign = resolve<decltype(n.memalign)>("memalign");
  n.aligned_alloc = resolve<decltype(n.aligned_alloc)>("aligned_alloc");
  n.valloc = resolve<decltype(n.valloc)>("valloc");
  n.pvalloc = resolve<decltype(n.pvalloc)>("pvalloc");
  n.usable = resolve<decltype(n.usable)>("malloc_usable_size");
  n.malloc_trim = resolve<decltype(n.malloc_trim)>("malloc_trim");
  n.mallopt = resolve<decltype(n.mallopt)>("mallopt");
  n.fork = resolve<decltype(n.fork)>("fork");
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
// Blocks allocated while a thread was inside the interposer (the unwinder's, dlsym's,
// pthread_create's): no observer sees them, nor their frees. A small lock-free set, looked up only
// while any such block lives.

constexpr std::size_t kInternal = 4096;
std::atomic<std::uintptr_t> g_internal[kInternal];
std::atomic<int> g_internal_live{0};

std::size_t internal_slot(std::uintptr_t address) { return ((address >> 4) * 0x9E3779B97F4A7C15ull) >> 52; }  // 12 bits

void remember_internal(void* p) {
  if (p == nullptr) return;
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  for (std::size_t i = 0, j = internal_slot(address); i < kInternal; ++i, j = (j + 1) % kInternal) {
    std::uintptr_t empty = 0;
    if (g_internal[j].compare_exchange_strong(empty, address)) {
      g_internal_live.fetch_add(1);
      return;
    }
  }
}

bool forget_internal(void* p) {
  if (g_internal_live.load(std::memory_order_relaxed) == 0) return false;
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  for (std::size_t i = 0, j = internal_slot(address); i < kInternal; ++i, j = (j + 1) % kInternal) {
    std::uintptr_t seen = g_internal[j].load(std::memory_order_relaxed);
    if (seen == address && g_internal[j].compare_exchange_strong(seen, 1)) {  // 1: a tombstone
      g_internal_live.fetch_sub(1);
      return true;
    }
    if (seen == 0) return false;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The observers' shared paths.

void added(EventKind kind, void* p, std::size_t size, std::size_t alignment, const Caller& caller) {
  if (p == nullptr || t_forwarding) return;
  if (t_busy) return remember_internal(p);
  if (!g_on.sites()) return;
  Busy busy;
  const std::uint64_t started = g_on.heap_map ? heap_map_clock() : 0;
  const std::size_t usable = g_next.usable != nullptr ? g_next.usable(p) : 0;  // busy: nothing it calls is observed
  const std::uint32_t site = site_of(caller);
  if (g_on.heap_map) heap_map_added(p, usable, site, started);
  if (g_on.record) recorder_added(kind, p, size, usable, alignment, site);
}

void removed(EventKind kind, void* p) {
  if (p == nullptr || t_forwarding) return;
  if (forget_internal(p) || t_busy || !g_on.sites()) return;
  Busy busy;
  const std::uint64_t started = g_on.heap_map ? heap_map_clock() : 0;
  if (g_on.record) recorder_removed(kind, p);  // stamped before it is forwarded
  if (g_on.heap_map) heap_map_removed(p, started);
}

// Calls the allocator behind with this thread marked forwarding: whatever it calls back (libstdc++'s
// operator new calling malloc, an allocator whose realloc calls free through the PLT) is part of the
// one call observed here.
template <class Call>
auto forwarded(Call call) {
  const bool was = t_forwarding;
  t_forwarding = true;
  auto result = call();
  t_forwarding = was;
  return result;
}

// <BENCH_INTERPOSER_DIR>/<pid>.forward: "malloc <path>" and "_Znwm <path>", the objects it
// forwards to (the proof, read from outside, of which allocator serves behind it).
void write_forward_file() {
  const char* directory = std::getenv("BENCH_INTERPOSER_DIR");
  if (directory == nullptr || std::strlen(directory) > 400) return;
  char path[512], body[1100];
  std::snprintf(path, sizeof path, "%s/%d.forward", directory, static_cast<int>(::getpid()));
  const int n = std::snprintf(body, sizeof body, "malloc %s\n_Znwm %s\n", g_next_malloc_path, g_next_new_path);
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  write_all(fd, body, static_cast<std::size_t>(std::min(n, static_cast<int>(sizeof body) - 1)));
  ::close(fd);
}

void after_fork_in_child() {
  write_forward_file();
  if (g_on.record) recorder_after_fork();
  if (g_on.heap_map) heap_map_after_fork();
}

__attribute__((constructor)) void start() {
  ready();
  Busy busy;
  const char* heap_map = std::getenv("BENCH_HEAPMAP_DIR");
  const char* record = std::getenv("BENCH_RECORD_DIR");
  g_on.heap_map = heap_map != nullptr && *heap_map != '\0';
  g_on.record = record != nullptr && *record != '\0';
  write_forward_file();
  if (g_on.record) recorder_start();  // first: it places the site table in its ring
  if (g_on.heap_map) heap_map_start();
  ::pthread_atfork(nullptr, nullptr, after_fork_in_child);
}

__attribute__((destructor)) void finish() {
  if (g_on.heap_map) heap_map_at_exit();
  if (g_on.record) recorder_at_exit();
}

void* new_block(EventKind kind, std::size_t size, void* (*next)(std::size_t), const Caller& caller) {
  if (!ready() || next == nullptr) {
    void* p = ready() ? forwarded([&] { return g_next.malloc(size); }) : bootstrap_alloc(size);
    if (ready()) added(kind, p, size, 0, caller);
    return p;
  }
  void* p = forwarded([&] { return next(size); });
  added(kind, p, size, 0, caller);
  return p;
}

void* new_aligned_block(std::size_t size, std::align_val_t alignment, void* (*next)(std::size_t, std::align_val_t), const Caller& caller) {
  const auto a = static_cast<std::size_t>(alignment);
  void* p = !ready() ? bootstrap_alloc(size, a < 16 ? 16 : a)
            : next != nullptr
                ? forwarded([&] { return next(size, alignment); })
                : forwarded([&] { return g_next.aligned_alloc != nullptr ? g_next.aligned_alloc(a, size) : g_next.memalign(a, size); });
  if (ready()) added(EventKind::new_aligned, p, size, a, caller);
  return p;
}

void delete_block(void* p, void (*next)(void*)) {
  if (p == nullptr || from_bootstrap(p) || !ready()) return;
  removed(EventKind::delete_, p);
  forwarded([&] {
    (next != nullptr ? next : g_next.free)(p);
    return 0;
  });
}

void delete_aligned_block(void* p, std::align_val_t alignment, void (*next)(void*, std::align_val_t)) {
  if (p == nullptr || from_bootstrap(p) || !ready()) return;
  removed(EventKind::delete_, p);
  forwarded([&] {
    if (next != nullptr)
      next(p, alignment);
    else
      g_next.free(p);
    return 0;
  });
}

void* realloc_from(void* old, std::size_t size, const Caller& caller) {
  if (!ready() || from_bootstrap(old)) {
    void* p = ready() ? forwarded([&] { return g_next.malloc(size); }) : bootstrap_alloc(size);
    if (p != nullptr && old != nullptr) std::memcpy(p, old, size);  // a bootstrap block: copy what fits
    if (ready()) added(EventKind::malloc, p, size, 0, caller);
    return p;
  }
  if (old != nullptr) removed(EventKind::realloc_free, old);
  void* p = forwarded([&] { return g_next.realloc(old, size); });
  if (p != nullptr)
    added(EventKind::realloc, p, size, 0, caller);
  else if (size != 0 && old != nullptr)
    added(EventKind::realloc, old, size, 0, caller);  // failed: the old block lives on
  return p;
}

}  // namespace

bool ready() {
  if (g_state.load(std::memory_order_acquire) == 2) return true;
  resolve_next();
  return g_state.load(std::memory_order_acquire) == 2;
}

}  // namespace bench::interposer

// ---------------------------------------------------------------------------------------------
// The entry points. Each takes its caller (BENCH_CALLER) itself: the return address and stack
// pointer of the frame that called it.

using namespace bench::interposer;
using bench::trace::EventKind;

extern "C" {

__attribute__((visibility("default"))) const char* bench_heap_map_next_malloc() { return ready() ? g_next_malloc_path : ""; }
__attribute__((visibility("default"))) const char* bench_heap_map_next_new() { return ready() ? g_next_new_path : ""; }

__attribute__((visibility("default"))) void* malloc(std::size_t size) {
  if (!ready()) return bootstrap_alloc(size);
  void* p = forwarded([&] { return g_next.malloc(size); });
  added(EventKind::malloc, p, size, 0, BENCH_CALLER());
  return p;
}

__attribute__((visibility("default"))) void free(void* p) {
  if (p == nullptr || from_bootstrap(p) || !ready()) return;
  removed(EventKind::free, p);
  forwarded([&] {
    g_next.free(p);
    return 0;
  });
}

__attribute__((visibility("default"))) void* calloc(std::size_t count, std::size_t size) {
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (!ready()) return bootstrap_alloc(bytes);
  void* p = forwarded([&] { return g_next.calloc(count, size); });
  added(EventKind::calloc, p, bytes, 0, BENCH_CALLER());
  return p;
}

__attribute__((visibility("default"))) void* realloc(void* old, std::size_t size) { return realloc_from(old, size, BENCH_CALLER()); }

__attribute__((visibility("default"))) void* reallocarray(void* old, std::size_t count, std::size_t size) {
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc_from(old, bytes, BENCH_CALLER());
}

__attribute__((visibility("default"))) int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  if (!ready()) {
    *out = bootstrap_alloc(size, alignment < 16 ? 16 : alignment);
    return *out != nullptr ? 0 : ENOMEM;
  }
  const int result = forwarded([&] { return g_next.posix_memalign(out, alignment, size); });
  if (result == 0) added(EventKind::memalign, *out, size, alignment, BENCH_CALLER());
  return result;
}

__attribute__((visibility("default"))) void* memalign(std::size_t alignment, std::size_t size) {
  if (!ready()) return bootstrap_alloc(size, alignment < 16 ? 16 : alignment);
  void* p = forwarded([&] { return g_next.memalign(alignment, size); });
  added(EventKind::memalign, p, size, alignment, BENCH_CALLER());
  return p;
}

__attribute__((visibility("default"))) void* aligned_alloc(std::size_t alignment, std::size_t size) {
  if (!ready()) return bootstrap_alloc(size, alignment < 16 ? 16 : alignment);
  void* p =
      forwarded([&] { return g_next.aligned_alloc != nullptr ? g_next.aligned_alloc(alignment, size) : g_next.memalign(alignment, size); });
  added(EventKind::memalign, p, size, alignment, BENCH_CALLER());
  return p;
}

__attribute__((visibility("default"))) void* valloc(std::size_t size) {
  if (!ready()) return bootstrap_alloc(size, 4096);
  void* p = forwarded([&] { return g_next.valloc(size); });
  added(EventKind::memalign, p, size, 4096, BENCH_CALLER());
  return p;
}

__attribute__((visibility("default"))) void* pvalloc(std::size_t size) {
  const std::size_t rounded = (size + 4095) & ~std::size_t{4095};
  if (!ready()) return bootstrap_alloc(rounded, 4096);
  void* p = forwarded([&] { return g_next.pvalloc(size); });
  added(EventKind::memalign, p, rounded, 4096, BENCH_CALLER());
  return p;
}

__attribute__((visibility("default"))) std::size_t malloc_usable_size(void* p) {
  if (p == nullptr || from_bootstrap(p) || !ready()) return 0;
  return g_next.usable != nullptr ? g_next.usable(p) : 0;
}

// The program's own release calls and settings: events of the recording, then forwarded.
__attribute__((visibility("default"))) int malloc_trim(std::size_t pad) {
  if (!ready() || g_next.malloc_trim == nullptr) return 0;
  const int result = forwarded([&] { return g_next.malloc_trim(pad); });
  if (g_on.record && !t_busy) recorder_control(EventKind::malloc_trim, static_cast<std::uint64_t>(result), pad, 0);
  return result;
}

__attribute__((visibility("default"))) int mallopt(int parameter, int value) {
  if (!ready() || g_next.mallopt == nullptr) return 0;
  const int result = forwarded([&] { return g_next.mallopt(parameter, value); });
  if (g_on.record && !t_busy)
    recorder_control(EventKind::mallopt, static_cast<std::uint32_t>(value), static_cast<std::uint32_t>(parameter),
                     static_cast<std::uint32_t>(result));
  return result;
}

__attribute__((visibility("default"))) pid_t fork() {
  if (!ready() || g_next.fork == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  const pid_t pid = g_next.fork();
  if (pid > 0 && g_on.record && !t_busy) recorder_control(EventKind::fork, 0, static_cast<std::uint64_t>(pid), 0);
  return pid;
}

}  // extern "C"

// C++ operators: forwarded to the allocator's own where it has them (jemalloc, tcmalloc, mimalloc
// define operator new), else to malloc/free behind (libstdc++'s would call malloc: observed once).
__attribute__((visibility("default"))) void* operator new(std::size_t size) {
  return new_block(EventKind::new_, size, g_next.new_, BENCH_CALLER());
}
__attribute__((visibility("default"))) void* operator new[](std::size_t size) {
  return new_block(EventKind::new_, size, g_next.new_array, BENCH_CALLER());
}
__attribute__((visibility("default"))) void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return new_block(EventKind::new_, size, g_next.new_, BENCH_CALLER());
}
__attribute__((visibility("default"))) void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return new_block(EventKind::new_, size, g_next.new_array, BENCH_CALLER());
}
__attribute__((visibility("default"))) void* operator new(std::size_t size, std::align_val_t alignment) {
  return new_aligned_block(size, alignment, g_next.new_aligned, BENCH_CALLER());
}
__attribute__((visibility("default"))) void* operator new[](std::size_t size, std::align_val_t alignment) {
  return new_aligned_block(size, alignment, g_next.new_array_aligned, BENCH_CALLER());
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
  delete_aligned_block(p, alignment, g_next.delete_aligned);
}
__attribute__((visibility("default"))) void operator delete[](void* p, std::align_val_t alignment) noexcept {
  delete_aligned_block(p, alignment, g_next.delete_array_aligned);
}
__attribute__((visibility("default"))) void operator delete(void* p, std::size_t, std::align_val_t alignment) noexcept {
  operator delete(p, alignment);
}
__attribute__((visibility("default"))) void operator delete[](void* p, std::size_t, std::align_val_t alignment) noexcept {
  operator delete[](p, alignment);
}
