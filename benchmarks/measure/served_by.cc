#include "benchmarks/measure/served_by.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include <cstdlib>
#include <new>

namespace bench {
namespace {

std::string canonical(const std::string& path) {
  char resolved[PATH_MAX];
  return ::realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : path;
}

std::string object_defining(const char* symbol) {
  void* address = ::dlsym(RTLD_DEFAULT, symbol);
  Dl_info info{};
  if (address == nullptr || ::dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "(unresolved)";
  return canonical(info.dli_fname);
}

}  // namespace

ServedBy find_served_by() {
  ServedBy served{object_defining("malloc"), object_defining("_Znwm")};
  // Behind the heap map's interposer: what serves is what it forwards to.
  using Path = const char* (*)();
  const auto next_malloc = reinterpret_cast<Path>(::dlsym(RTLD_DEFAULT, "bench_heap_map_next_malloc"));
  const auto next_new = reinterpret_cast<Path>(::dlsym(RTLD_DEFAULT, "bench_heap_map_next_new"));
  if (next_malloc != nullptr && next_new != nullptr && served.malloc_library == object_defining("bench_heap_map_next_malloc")) {
    served.interposer = served.malloc_library;
    served.malloc_library = canonical(next_malloc());
    if (served.new_library == served.interposer) served.new_library = canonical(next_new());
  }
  return served;
}

std::string check_served_by(const MallocLibrary& library, const ServedBy& served) {
  std::string expected_malloc, expected_new;
  if (library.preloaded) {
    expected_malloc = expected_new = canonical(std::string(library.preload_path));
  } else {
    expected_malloc = object_defining("gnu_get_libc_version");  // libc itself
    expected_new = object_defining("__cxa_begin_catch");        // libstdc++
  }
  std::string problems;
  if (served.malloc_library != expected_malloc)
    problems += "malloc is served by " + served.malloc_library + ", expected " + expected_malloc + "; ";
  if (served.new_library != expected_new)
    problems += "operator new is served by " + served.new_library + ", expected " + expected_new + "; ";
  if (problems.empty() && library.owns != nullptr) {
    // dladdr names the proxy; ask the allocator behind it whether it made these blocks.
    void* from_malloc = std::malloc(64);
    void* from_new = ::operator new(64);
    if (!library.owns(from_malloc)) problems += "a block from malloc is not " + std::string(library.name) + "'s own; ";
    if (!library.owns(from_new)) problems += "a block from operator new is not " + std::string(library.name) + "'s own; ";
    ::operator delete(from_new);
    std::free(from_malloc);
  }
  if (!problems.empty())
    problems = "configuration's allocator is not the one serving this process: " + problems.substr(0, problems.size() - 2);
  return problems;
}

}  // namespace bench
