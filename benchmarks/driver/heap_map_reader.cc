#include "benchmarks/driver/heap_map_reader.h"

#include <cxxabi.h>
#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <system_error>

namespace bench {
namespace {

struct Symbol {
  std::uint64_t start, end;
  std::string name;
};

struct ObjectSymbols {
  std::uint64_t bias = 0;         // added to an offset from the load address: a non-PIE executable's first vaddr
  std::vector<Symbol> functions;  // sorted by start
  std::string name;               // the object's file name (file_name)
};

// The functions of the ELF file at `path`: .symtab if it has one (not stripped), else .dynsym.
ObjectSymbols load_symbols(const std::string& path) {
  ObjectSymbols out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  auto read_at = [fd](void* buffer, std::size_t size, std::uint64_t offset) {
    return ::pread(fd, buffer, size, static_cast<off_t>(offset)) == static_cast<ssize_t>(size);
  };
  Elf64_Ehdr header{};
  if (read_at(&header, sizeof header, 0) && std::memcmp(header.e_ident, ELFMAG, SELFMAG) == 0 && header.e_ident[EI_CLASS] == ELFCLASS64 &&
      header.e_shentsize == sizeof(Elf64_Shdr) && header.e_shnum < 8192) {
    if (header.e_type == ET_EXEC) {
      std::uint64_t lowest = UINT64_MAX;
      for (unsigned i = 0; i < header.e_phnum; ++i) {
        Elf64_Phdr ph{};
        if (read_at(&ph, sizeof ph, header.e_phoff + i * sizeof ph) && ph.p_type == PT_LOAD) lowest = std::min(lowest, ph.p_vaddr);
      }
      out.bias = lowest == UINT64_MAX ? 0 : lowest & ~std::uint64_t{4095};
    }
    std::vector<Elf64_Shdr> sections(header.e_shnum);
    if (read_at(sections.data(), sections.size() * sizeof(Elf64_Shdr), header.e_shoff)) {
      const bool has_symtab = std::any_of(sections.begin(), sections.end(), [](const Elf64_Shdr& s) { return s.sh_type == SHT_SYMTAB; });
      for (const Elf64_Shdr& table : sections) {
        if (table.sh_type != (has_symtab ? SHT_SYMTAB : SHT_DYNSYM) || table.sh_link >= sections.size()) continue;
        const Elf64_Shdr& names = sections[table.sh_link];
        if (table.sh_size > (256u << 20) || names.sh_size > (256u << 20)) continue;
        std::vector<Elf64_Sym> symbols(table.sh_size / sizeof(Elf64_Sym));
        std::string strings(names.sh_size, '\0');
        if (!read_at(symbols.data(), symbols.size() * sizeof(Elf64_Sym), table.sh_offset) ||
            !read_at(strings.data(), strings.size(), names.sh_offset))
          continue;
        for (const Elf64_Sym& s : symbols)
          if (ELF64_ST_TYPE(s.st_info) == STT_FUNC && s.st_value != 0 && s.st_name < strings.size())
            out.functions.push_back({s.st_value, s.st_value + std::max<std::uint64_t>(s.st_size, 1), strings.c_str() + s.st_name});
      }
    }
  }
  ::close(fd);
  std::sort(out.functions.begin(), out.functions.end(), [](const Symbol& a, const Symbol& b) { return a.start < b.start; });
  return out;
}

std::string demangle(const std::string& name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> text(abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status), std::free);
  return status == 0 && text ? std::string(text.get()) : name;
}

// A frame's object by the name of its file: the heap map reads paths as the loader opened them
// (dladdr: Ruby's libruby-3.1.so.3.1, a link), the recording as the kernel maps them
// (libruby-3.1.so.3.1.2, the file), and both must name one object alike.
std::string file_name(const std::string& path) {
  std::error_code failed;
  std::string real = std::filesystem::canonical(path, failed).string();
  if (failed || real.empty()) real = path;
  return real.substr(real.rfind('/') + 1);
}

}  // namespace

#ifndef BENCH_INTERPOSER_PATH
#error "BENCH_INTERPOSER_PATH must name libbench_interposer.so (CMakeLists.txt)"
#endif
const char* const kInterposer = BENCH_INTERPOSER_PATH;

std::string symbolize_frame(const std::string& frame) {
  static std::map<std::string, ObjectSymbols> cache;
  const std::size_t plus = frame.rfind("+0x");
  if (plus == std::string::npos) return frame;
  const std::string path = frame.substr(0, plus);
  const std::uint64_t offset = std::strtoull(frame.c_str() + plus + 3, nullptr, 16);
  auto it = cache.find(path);
  if (it == cache.end()) {
    it = cache.emplace(path, load_symbols(path)).first;
    it->second.name = file_name(path);
  }
  const ObjectSymbols& object = it->second;
  const std::uint64_t address = offset + object.bias - 1;  // a return address: the call is just before it
  const auto found = std::upper_bound(object.functions.begin(), object.functions.end(), address,
                                      [](std::uint64_t a, const Symbol& s) { return a < s.start; });
  if (found != object.functions.begin() && address < std::prev(found)->end)
    return demangle(std::prev(found)->name) + " (" + object.name + ")";
  char hex[32];
  std::snprintf(hex, sizeof hex, "+0x%llx", static_cast<unsigned long long>(offset));
  return object.name + hex;
}

std::string heap_map_forward(const std::string& directory, pid_t pid) {
  std::ifstream in(directory + "/" + std::to_string(pid) + ".forward");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("malloc ")) return line.substr(7);
  return {};
}

HeapMapReading read_heap_maps(const std::string& directory) {
  HeapMapReading reading;
  std::map<std::string, std::map<std::string, double>> totals;  // moment -> field -> sum
  std::map<std::string, std::map<std::vector<std::string>, HeapMapSite>> sites;
  std::map<std::string, int> processes;
  std::vector<std::string> order;
  std::map<std::string, double> unknown, calls;  // per pid: the last count
  std::map<std::string, double> record_ns;
  std::error_code error;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) files.push_back(entry.path());
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return std::filesystem::last_write_time(a) < std::filesystem::last_write_time(b);  // moments in the order taken
  });
  for (const std::filesystem::path& path : files) {
    const std::string name = path.filename().string();
    if (name.ends_with(".forward")) {
      reading.forwards[static_cast<pid_t>(std::atoi(name.c_str()))] = heap_map_forward(directory, std::atoi(name.c_str()));
      continue;
    }
    if (!name.ends_with(".heapmap")) continue;
    std::ifstream in(path);
    std::string moment, pid;
    std::map<std::string, double> fields;
    std::vector<HeapMapSite> found;
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line);
      std::string key;
      words >> key;
      if (key == "moment") {
        words >> moment;
      } else if (key == "pid") {
        words >> pid;
      } else if (key == "site") {
        HeapMapSite site;
        words >> site.bytes >> site.blocks;
        for (std::string frame; words >> frame;) site.frames.push_back(symbolize_frame(frame));
        found.push_back(std::move(site));
      } else {
        double value = 0;
        if (words >> value) fields[key] = value;
      }
    }
    if (moment.empty()) continue;
    if (std::find(order.begin(), order.end(), moment) == order.end()) order.push_back(moment);
    ++processes[moment];
    for (const auto& [key, value] : fields) totals[moment][key] += value;
    for (HeapMapSite& site : found) {
      HeapMapSite& merged = sites[moment][site.frames];
      merged.frames = site.frames;
      merged.bytes += site.bytes;
      merged.blocks += site.blocks;
    }
    unknown[pid] = std::max(unknown[pid], fields["unknown_frees"]);
    calls[pid] = std::max(calls[pid], fields["calls"]);
    record_ns[pid] = fields["record_ns"];
  }
  static constexpr std::pair<const char*, const char*> kFields[] = {{"resident_free", "free"}, {"resident_pinned", "pinned"},
                                                                    {"resident_used", "used"}, {"resident_outside", "outside"},
                                                                    {"live_bytes", "live"},    {"own_bytes", "own"}};
  for (const std::string& moment : order) {
    for (const auto& [field, suffix] : kFields)
      reading.counters.push_back({"heap_" + moment + "_" + suffix, totals[moment][field], Unit::bytes});
    reading.counters.push_back({"heap_" + moment + "_live_blocks", totals[moment]["live_blocks"], Unit::count});
    HeapMapMoment m{moment, processes[moment], {}};
    for (auto& [frames, site] : sites[moment]) m.sites.push_back(site);
    std::sort(m.sites.begin(), m.sites.end(), [](const HeapMapSite& a, const HeapMapSite& b) { return a.bytes > b.bytes; });
    if (m.sites.size() > 20) m.sites.resize(20);
    reading.moments.push_back(std::move(m));
  }
  if (!order.empty()) {
    double total_unknown = 0, total_calls = 0, weighted = 0;
    for (const auto& [pid, n] : unknown) total_unknown += n;
    for (const auto& [pid, n] : calls) {
      total_calls += n;
      weighted += n * record_ns[pid];
    }
    reading.counters.push_back({"heap_unknown_frees", total_unknown, Unit::count});
    reading.counters.push_back({"heap_calls", total_calls, Unit::count});
    reading.counters.push_back({"heap_record_ns", total_calls > 0 ? weighted / total_calls : 0, Unit::nanoseconds});
  }
  return reading;
}

}  // namespace bench
