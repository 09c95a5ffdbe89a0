#include "benchmarks/driver/process_tree.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <map>
#include <unordered_map>

#include "allocators/glibc.h"
#include "benchmarks/driver/heap_map_reader.h"
#include "benchmarks/measure/memory.h"

namespace bench {
namespace {

constexpr std::uint64_t kPage = 4096;

// The whole of a /proc file (they report a size of 0, so read until EOF). Empty if unreadable.
std::string read_proc_file(const std::string& path) {
  std::string text;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buffer[16384];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  return text;
}

std::string proc_path(pid_t pid, const char* file) { return "/proc/" + std::to_string(pid) + "/" + file; }

std::string canonical(const std::string& path) {
  char resolved[PATH_MAX];
  return ::realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : path;
}

std::string file_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// "Key:   1234 kB" anywhere in `text`, in bytes (smaps and status report kB = KiB).
std::optional<std::uint64_t> kilobyte_field(std::string_view text, std::string_view key) {
  for (std::size_t at = text.find(key); at != std::string_view::npos; at = text.find(key, at + 1)) {
    if (at != 0 && text[at - 1] != '\n') continue;
    std::uint64_t kib = 0;
    std::size_t i = at + key.size();
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') kib = kib * 10 + static_cast<std::uint64_t>(text[i++] - '0');
    return kib * 1024;
  }
  return std::nullopt;
}

// The page frame the shared zero page occupies: a never-written anonymous page maps it, pagemap
// shows it present, and Rss does not count it (it is no page of the process). 0 if unreadable.
std::uint64_t zero_page_frame() {
  static const std::uint64_t frame = [] {
    void* page = ::mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return std::uint64_t{0};
    [[maybe_unused]] volatile char touch = *static_cast<volatile char*>(page);
    std::uint64_t entry = 0, result = 0;
    const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 &&
        ::pread(fd, &entry, sizeof entry, static_cast<off_t>(reinterpret_cast<std::uintptr_t>(page) / kPage * 8)) == sizeof entry &&
        (entry >> 63) != 0)
      result = entry & ((1ull << 55) - 1);
    if (fd >= 0) ::close(fd);
    ::munmap(page, kPage);
    return result;
  }();
  return frame;
}

struct SharedRange {
  std::uint64_t start, end, rss;
};

// The mappings of /proc/<pid>/smaps that hold a page some other process maps too (Shared_Clean or
// Shared_Dirty above 0): the only places where two processes of a tree can hold the same frame.
std::vector<SharedRange> shared_ranges(pid_t pid) {
  std::vector<SharedRange> ranges;
  const std::string smaps = read_proc_file(proc_path(pid, "smaps"));
  std::size_t at = 0;
  SharedRange current{0, 0, 0};
  std::uint64_t shared = 0;
  bool open = false;
  auto close_range = [&] {
    if (open && shared > 0) ranges.push_back(current);
    open = false;
    shared = 0;
  };
  while (at < smaps.size()) {
    const std::size_t end = smaps.find('\n', at);
    const std::string_view line(smaps.data() + at, (end == std::string::npos ? smaps.size() : end) - at);
    at = end == std::string::npos ? smaps.size() : end + 1;
    const std::size_t dash = line.find('-');
    const bool header =
        dash != std::string_view::npos && dash > 0 && line.find(' ') > dash &&
        std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(dash), [](char c) { return std::isxdigit(c); });
    if (header) {
      close_range();
      current = {std::strtoull(std::string(line.substr(0, dash)).c_str(), nullptr, 16),
                 std::strtoull(std::string(line.substr(dash + 1, line.find(' ') - dash - 1)).c_str(), nullptr, 16), 0};
      open = true;
    } else if (open) {
      if (line.starts_with("Rss:"))
        current.rss = kilobyte_field(line, "Rss:").value_or(0);
      else if (line.starts_with("Shared_Clean:"))
        shared += kilobyte_field(line, "Shared_Clean:").value_or(0);
      else if (line.starts_with("Shared_Dirty:"))
        shared += kilobyte_field(line, "Shared_Dirty:").value_or(0);
    }
  }
  close_range();
  return ranges;
}

// Adds the frame numbers of the present pages of `ranges` to `frames`. False when the kernel hides
// frame numbers (a present page reads as frame 0: no CAP_SYS_ADMIN).
bool collect_frames(pid_t pid, const std::vector<SharedRange>& ranges, std::unordered_set<std::uint64_t>& frames) {
  const int fd = ::open(proc_path(pid, "pagemap").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const std::uint64_t zero = zero_page_frame();
  std::vector<std::uint64_t> entries(8192);
  bool visible = true;
  for (const SharedRange& range : ranges) {
    for (std::uint64_t page = range.start / kPage; page < range.end / kPage && visible;) {
      const std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(entries.size(), range.end / kPage - page));
      const ssize_t n = ::pread(fd, entries.data(), count * 8, static_cast<off_t>(page * 8));
      if (n <= 0) break;
      for (std::size_t i = 0; i < static_cast<std::size_t>(n) / 8; ++i) {
        if ((entries[i] >> 63) == 0) continue;  // not present (or swapped: bit 62)
        const std::uint64_t frame = entries[i] & ((1ull << 55) - 1);
        if (frame == 0) visible = false;
        if (frame != zero) frames.insert(frame);
      }
      page += static_cast<std::uint64_t>(n) / 8;
    }
  }
  ::close(fd);
  return visible;
}

// The GOT slots (relocation offsets, relative to the object's load address) through which the
// 64-bit ELF object at `path` calls `symbol`: its R_X86_64_JUMP_SLOT and R_X86_64_GLOB_DAT
// relocations against that dynamic symbol. Cached per path: the same objects recur in every row.
const std::vector<std::uint64_t>& got_slots(const std::string& path, const std::string& symbol) {
  static std::map<std::pair<std::string, std::string>, std::vector<std::uint64_t>> cache;
  const auto key = std::make_pair(path, symbol);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  std::vector<std::uint64_t>& slots = cache[key];
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return slots;
  auto read_at = [fd](void* buffer, std::size_t size, std::uint64_t offset) {
    return ::pread(fd, buffer, size, static_cast<off_t>(offset)) == static_cast<ssize_t>(size);
  };
  Elf64_Ehdr header{};
  if (read_at(&header, sizeof header, 0) && std::memcmp(header.e_ident, ELFMAG, SELFMAG) == 0 && header.e_ident[EI_CLASS] == ELFCLASS64 &&
      header.e_shentsize == sizeof(Elf64_Shdr) && header.e_shnum > 0 && header.e_shnum < 4096) {
    std::vector<Elf64_Shdr> sections(header.e_shnum);
    if (read_at(sections.data(), sections.size() * sizeof(Elf64_Shdr), header.e_shoff)) {
      for (const Elf64_Shdr& rela : sections) {
        if (rela.sh_type != SHT_RELA || rela.sh_link >= sections.size()) continue;
        const Elf64_Shdr& symbols = sections[rela.sh_link];
        if (symbols.sh_type != SHT_DYNSYM || symbols.sh_link >= sections.size() || symbols.sh_size > (64u << 20)) continue;
        const Elf64_Shdr& names = sections[symbols.sh_link];
        std::vector<Elf64_Rela> relocations(rela.sh_size / sizeof(Elf64_Rela));
        std::vector<Elf64_Sym> table(symbols.sh_size / sizeof(Elf64_Sym));
        std::string strings(names.sh_size, '\0');
        if (!read_at(relocations.data(), relocations.size() * sizeof(Elf64_Rela), rela.sh_offset) ||
            !read_at(table.data(), table.size() * sizeof(Elf64_Sym), symbols.sh_offset) ||
            !read_at(strings.data(), strings.size(), names.sh_offset))
          continue;
        for (const Elf64_Rela& r : relocations) {
          const std::uint64_t type = ELF64_R_TYPE(r.r_info), index = ELF64_R_SYM(r.r_info);
          if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) || index >= table.size()) continue;
          if (table[index].st_name < strings.size() && std::strcmp(strings.c_str() + table[index].st_name, symbol.c_str()) == 0)
            slots.push_back(r.r_offset);
        }
      }
    }
  }
  ::close(fd);
  return slots;
}

struct Mapping {
  std::uint64_t start, end, offset;
  std::string path;
};

std::vector<Mapping> parse_maps(const std::string& maps) {
  std::vector<Mapping> mappings;
  for (std::size_t at = 0; at < maps.size();) {
    const std::size_t end = maps.find('\n', at);
    const std::string line = maps.substr(at, (end == std::string::npos ? maps.size() : end) - at);
    at = end == std::string::npos ? maps.size() : end + 1;
    unsigned long long start = 0, stop = 0, offset = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx %*s %llx", &start, &stop, &offset) != 3) continue;
    const std::size_t slash = line.find('/');
    mappings.push_back({start, stop, offset, slash == std::string::npos ? std::string() : line.substr(slash)});
  }
  return mappings;
}

// Where the process's calls to malloc really go, read from outside as dladdr would read them inside:
// for every mapped object that calls malloc through a GOT slot (the malloc libraries themselves
// left out), the slot's value, read from /proc/<pid>/mem, and the mapped file that contains it. A
// slot that still points into its own object is not bound yet (lazy binding: that object has not
// called malloc) and is left out too. Returns {object, target} for each bound slot.
std::vector<std::pair<std::string, std::string>> malloc_bindings(pid_t pid, const std::vector<Mapping>& mappings,
                                                                 const std::vector<std::string>& skip) {
  std::vector<std::pair<std::string, std::string>> bindings;
  const int memory = ::open(proc_path(pid, "mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (memory < 0) return bindings;
  std::vector<std::string> objects;
  for (const Mapping& m : mappings)
    if (!m.path.empty() && m.offset == 0 && std::find(objects.begin(), objects.end(), m.path) == objects.end()) objects.push_back(m.path);
  for (const std::string& object : objects) {
    if (std::find(skip.begin(), skip.end(), object) != skip.end() || object.find("/ld-linux") != std::string::npos) continue;
    const std::vector<std::uint64_t>& slots = got_slots(object, "malloc");
    if (slots.empty()) continue;
    // The load address: where the object's first page (file offset 0) is mapped, added to the
    // relocation's offset for a position-independent object; a non-PIE executable's is absolute.
    std::uint64_t base = 0;
    for (const Mapping& m : mappings)
      if (m.path == object && m.offset == 0) {
        base = m.start;
        break;
      }
    Elf64_Ehdr header{};
    const int file = ::open(object.c_str(), O_RDONLY | O_CLOEXEC);
    const bool fixed = file >= 0 && ::pread(file, &header, sizeof header, 0) == sizeof header && header.e_type == ET_EXEC;
    if (file >= 0) ::close(file);
    std::uint64_t pointer = 0;
    if (::pread(memory, &pointer, sizeof pointer, static_cast<off_t>((fixed ? 0 : base) + slots.front())) != sizeof pointer) continue;
    for (const Mapping& m : mappings)
      if (pointer >= m.start && pointer < m.end) {
        if (m.path != object && !m.path.empty()) bindings.emplace_back(object, m.path);
        break;
      }
  }
  ::close(memory);
  // A non-PIE executable that takes malloc's address defines malloc as its own PLT entry (the
  // canonical address), and every library's slot points there; that entry jumps through the
  // executable's own slot. Follow such hops to where the calls end up.
  // A hop into an object whose own slot is not bound yet leads nowhere known yet: left out.
  std::map<std::string, std::string> direct(bindings.begin(), bindings.end());
  for (auto& [object, target] : bindings)
    for (int hop = 0; hop < 4 && direct.count(target) != 0 && direct[target] != target; ++hop) target = direct[target];
  std::erase_if(bindings, [&](const auto& binding) {
    const std::string& target = binding.second;
    return std::find(skip.begin(), skip.end(), target) == skip.end() && direct.count(target) == 0 && !got_slots(target, "malloc").empty();
  });
  return bindings;
}

}  // namespace

std::optional<ProcessEntry> parse_process_stat(std::string_view text) {
  // "pid (comm) state ppid pgrp ...": comm is everything between the first '(' and the last ')'.
  const std::size_t open = text.find('('), close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;
  ProcessEntry entry;
  entry.pid = static_cast<pid_t>(std::strtol(std::string(text.substr(0, open)).c_str(), nullptr, 10));
  entry.name = std::string(text.substr(open + 1, close - open - 1));
  const std::string rest(text.substr(close + 1));
  char state = 0;
  int parent = 0, group = 0;
  unsigned flags = 0;
  // state ppid pgrp session tty_nr tpgid flags (proc(5)); a short line keeps flags 0.
  const int fields = std::sscanf(rest.c_str(), " %c %d %d %*d %*d %*d %u", &state, &parent, &group, &flags);
  if (fields < 3 || entry.pid <= 0) return std::nullopt;
  entry.state = state;
  entry.parent = parent;
  entry.group = group;
  entry.flags = fields >= 4 ? flags : 0;
  return entry;
}

std::optional<ProcessEntry> read_process_entry(pid_t pid) {
  char path[64], text[1024];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  return parse_process_stat(std::string_view(text, static_cast<std::size_t>(n)));
}

std::vector<ProcessEntry> read_process_table() {
  std::vector<ProcessEntry> table;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return table;
  while (const dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0') continue;
    if (std::optional<ProcessEntry> parsed = read_process_entry(static_cast<pid_t>(pid))) table.push_back(std::move(*parsed));
  }
  ::closedir(proc);
  return table;
}

std::vector<ProcessEntry> descendants(const std::vector<ProcessEntry>& table, pid_t ancestor) {
  std::unordered_map<pid_t, std::vector<const ProcessEntry*>> children;
  for (const ProcessEntry& e : table) children[e.parent].push_back(&e);
  std::vector<ProcessEntry> found;
  std::vector<pid_t> queue{ancestor};
  std::unordered_set<pid_t> seen{ancestor};
  for (std::size_t i = 0; i < queue.size(); ++i)
    for (const ProcessEntry* child : children[queue[i]])
      if (seen.insert(child->pid).second) {
        found.push_back(*child);
        queue.push_back(child->pid);
      }
  return found;
}

void ProcessTree::update(const std::vector<ProcessEntry>& table) {
  alive_ = descendants(table, root_);
  for (const ProcessEntry& e : alive_) members_.insert(e.pid);
}

TreeMemory read_tree_memory(const std::vector<pid_t>& pids) {
  TreeMemory memory;
  std::vector<std::pair<pid_t, std::uint64_t>> read;  // pid, Rss
  for (pid_t pid : pids) {
    const std::optional<SmapsRollup> rollup = read_smaps_rollup(pid);
    if (!rollup || rollup->rss == 0) continue;  // gone, or a zombie
    memory.rss_sum += rollup->rss;
    memory.pss_sum += rollup->pss;
    memory.anonymous += rollup->anonymous;
    memory.private_dirty += rollup->private_dirty;
    memory.lazy_free += rollup->lazy_free;
    memory.swap += rollup->swap;
    read.emplace_back(pid, rollup->rss);
  }
  memory.processes = static_cast<int>(read.size());
  if (read.size() <= 1) {
    memory.rss = memory.rss_sum;
    memory.method = "single";
    return memory;
  }
  // Private pages are each process's own; a page two of them hold can only sit in a mapping that
  // smaps counts as shared. So: every process's Rss outside its shared mappings, plus the frames of
  // all shared mappings, each counted once.
  std::unordered_set<std::uint64_t> frames;
  std::uint64_t outside_shared = 0;
  bool visible = true;
  for (const auto& [pid, rss] : read) {
    const std::vector<SharedRange> ranges = shared_ranges(pid);
    std::uint64_t in_shared = 0;
    for (const SharedRange& r : ranges) in_shared += r.rss;
    outside_shared += rss - std::min(rss, in_shared);
    if (!collect_frames(pid, ranges, frames)) visible = false;
  }
  if (visible) {
    memory.rss = outside_shared + frames.size() * kPage;
    memory.method = "page frames";
  } else {
    memory.rss = memory.pss_sum;
    memory.method = "pss";
  }
  return memory;
}

std::optional<std::uint64_t> read_high_water_mark(pid_t pid) { return kilobyte_field(read_proc_file(proc_path(pid, "status")), "VmHWM:"); }

std::optional<double> read_cpu_seconds(pid_t pid) {
  const std::string text = read_proc_file(proc_path(pid, "stat"));
  const std::size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  // After comm: state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(text.c_str() + close + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
    return std::nullopt;
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return static_cast<double>(utime + stime) / ticks;
}

std::optional<bool> elf_is_dynamic(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  unsigned char ident[EI_NIDENT] = {};
  std::optional<bool> result;
  if (::pread(fd, ident, sizeof ident, 0) == sizeof ident && std::memcmp(ident, ELFMAG, SELFMAG) == 0) {
    auto scan = [&](auto header, auto program_header) -> std::optional<bool> {
      if (::pread(fd, &header, sizeof header, 0) != sizeof header) return std::nullopt;
      for (unsigned i = 0; i < header.e_phnum; ++i) {
        const off_t at = static_cast<off_t>(header.e_phoff + i * sizeof program_header);
        if (::pread(fd, &program_header, sizeof program_header, at) != sizeof program_header) return std::nullopt;
        if (program_header.p_type == PT_INTERP) return true;
      }
      return false;
    };
    result = ident[EI_CLASS] == ELFCLASS64 ? scan(Elf64_Ehdr{}, Elf64_Phdr{}) : scan(Elf32_Ehdr{}, Elf32_Phdr{});
  }
  ::close(fd);
  return result;
}

ProcessVerdict verify_process(pid_t pid, const Configuration& configuration, const std::string& preload,
                              const std::vector<std::string>& malloc_libraries, const std::string& interposer,
                              const std::string& heap_map_directory) {
  ProcessVerdict verdict;
  const std::string maps = read_proc_file(proc_path(pid, "maps"));
  if (maps.empty()) return verdict;  // gone, or not ours to read
  const std::optional<bool> dynamic = elf_is_dynamic(proc_path(pid, "exe"));
  if (dynamic.has_value() && !*dynamic) {
    verdict.conclusive = true;
    verdict.reason = "it is statically linked (no PT_INTERP): LD_PRELOAD does not reach it, and its malloc is the one linked into it";
    return verdict;
  }
  // What it was started with, when its environment block still holds that (a server may overwrite
  // it with its process title): the variable the parent gives every program marks it intact.
  const std::string environ_text = read_proc_file(proc_path(pid, "environ"));
  // glibc's loader parses GLIBC_TUNABLES in place, writing a NUL over each ':' of the original block
  // (the process itself and its children get an intact copy): the tunables after the first show up
  // as entries of their own, and are joined back here.
  std::vector<std::string> environment;
  for (std::size_t at = 0; at < environ_text.size();) {
    const std::size_t end = environ_text.find('\0', at);
    std::string entry = environ_text.substr(at, (end == std::string::npos ? environ_text.size() : end) - at);
    at = end == std::string::npos ? environ_text.size() : end + 1;
    if (entry.starts_with("glibc.") && !environment.empty() && environment.back().starts_with("GLIBC_TUNABLES="))
      environment.back() += ":" + entry;
    else
      environment.push_back(std::move(entry));
  }
  auto value_of = [&](std::string_view name) -> std::optional<std::string_view> {
    for (std::string_view entry : environment)
      if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=') return entry.substr(name.size() + 1);
    return std::nullopt;
  };
  if (value_of("BENCH_REPORT_FD")) {
    const std::optional<std::string_view> ld_preload = value_of("LD_PRELOAD");
    // ld.so preloads in the order given: the configuration's library must come first.
    const std::string expected = interposer.empty() ? preload : interposer + ":" + preload;
    if (!ld_preload || !ld_preload->starts_with(expected)) {
      verdict.conclusive = true;
      verdict.reason = ld_preload ? "it was started with LD_PRELOAD=" + std::string(*ld_preload) + ", not " + expected + " first"
                                  : "it was started without LD_PRELOAD=" + expected + " (a process between it and the program removed it)";
      return verdict;
    }
    for (const EnvironmentVariable& variable : configuration.environment)
      if (value_of(variable.name) != variable.value) {
        verdict.conclusive = true;
        verdict.reason = "it was started without " + std::string(variable.name) + "=" + std::string(variable.value);
        return verdict;
      }
  }

  const std::vector<Mapping> mappings = parse_maps(maps);
  std::unordered_set<std::string> mapped;
  for (const Mapping& m : mappings)
    if (!m.path.empty()) mapped.insert(m.path);
  // The loader maps the preloaded objects before the program's own libraries: once libc is mapped,
  // what is not mapped will not be.
  const std::string& libc = glibc::libc_path();
  if (mapped.count(libc) == 0) return verdict;
  const std::string own = canonical(preload);
  std::vector<std::string> skip = malloc_libraries;
  skip.push_back(libc);
  if (!interposer.empty()) skip.push_back(canonical(interposer));
  for (const std::string& library : malloc_libraries)
    if (library != own && mapped.count(library) != 0) verdict.other_malloc_libraries.push_back(file_name(library));
  std::vector<std::pair<std::string, std::string>> bindings = malloc_bindings(pid, mappings, skip);
  if (bindings.empty()) return verdict;  // nothing has called malloc yet: ask again at a later sample
  if (!interposer.empty()) {
    // Through the interposer to what it forwards to, as it recorded when the process started; a
    // library of another's that says nothing (heaptrack's preload) forwards with RTLD_NEXT to what
    // follows it in LD_PRELOAD: the configuration's.
    const std::string forward = heap_map_directory.empty() ? own : heap_map_forward(heap_map_directory, pid);
    if (forward.empty()) return verdict;
    for (auto& binding : bindings)
      if (canonical(binding.second) == canonical(interposer)) binding.second = forward;
  }
  verdict.conclusive = true;
  for (const auto& [object, target] : bindings)
    if (canonical(target) != own) {
      verdict.reason = file_name(object) + "'s calls to malloc resolve to " + target + ", not to " + own + " (read from its GOT)";
      return verdict;
    }
  verdict.served = true;
  return verdict;
}

}  // namespace bench
