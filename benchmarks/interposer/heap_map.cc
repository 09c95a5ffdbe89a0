// The heap map (heap_map.h), one observer of the interposer's forwarding layer (core.h): every live
// block, its usable size and site, in tables of its own under one lock; at a moment, the process's
// resident anonymous pages sorted into free / pinned / used / outside, and the pinning sites ranked.
#include "benchmarks/interposer/heap_map.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "benchmarks/interposer/core.h"

namespace bench::interposer {
namespace {

using bench::heap_map::kGranuleBytes;
using bench::heap_map::kPinnedShare;

constexpr std::uint64_t kPage = 4096;

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

std::uint64_t* g_granules = nullptr;  // granule number + 1; 0 empty
std::size_t g_granule_capacity = 0, g_granule_count = 0;

std::uint64_t g_unknown_frees = 0, g_calls = 0, g_record_ns = 0;

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
  const std::size_t g_site_count = site_count();
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
    for (std::uint32_t f = 0;
         f < site_at(static_cast<std::uint32_t>(best)).depth && site_at(static_cast<std::uint32_t>(best)).frames[f] != 0; ++f) {
      out->put(" ");
      put_frame(*out, site_at(static_cast<std::uint32_t>(best)).frames[f]);
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

}  // namespace

void heap_map_start() { start_listener(); }

void heap_map_after_fork() {
  // Only the forking thread survives: the lock may be held by a thread that is gone.
  g_lock = PTHREAD_MUTEX_INITIALIZER;
  start_listener();
}

void heap_map_added(void* p, std::size_t usable, std::uint32_t site, std::uint64_t started_ns) {
  pthread_mutex_lock(&g_lock);
  insert_block(reinterpret_cast<std::uintptr_t>(p), usable, site);
  ++g_calls;
  g_record_ns += now_ns() - started_ns;
  pthread_mutex_unlock(&g_lock);
}

void heap_map_removed(void* p, std::uint64_t started_ns) {
  pthread_mutex_lock(&g_lock);
  if (!remove_block(reinterpret_cast<std::uintptr_t>(p))) ++g_unknown_frees;
  ++g_calls;
  g_record_ns += now_ns() - started_ns;
  pthread_mutex_unlock(&g_lock);
}

std::uint64_t heap_map_clock() { return now_ns(); }

void heap_map_at_exit() {
  const char* at_exit = std::getenv("BENCH_HEAPMAP_AT_EXIT");
  if (at_exit != nullptr && std::strcmp(at_exit, "1") == 0) take_snapshot("exit");
}

}  // namespace bench::interposer

extern "C" __attribute__((visibility("default"))) int bench_heap_map_snapshot(const char* moment) {
  return bench::interposer::take_snapshot(moment);
}
