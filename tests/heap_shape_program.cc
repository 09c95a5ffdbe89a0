// The program the heap map's tests run (tests/integration/test_heap_map.py): a heap of known shape.
//
//   bench_heap_shape [PAGES] [--uncovered=N] [--two-chains=N]
//
// Region A: PAGES pages' worth of 48-byte blocks (64-byte chunks under glibc), every block written;
// then all but the first block of every 64 freed: one live block pins each page. Region B: as many
// blocks, all freed: free pages the allocator keeps. Region C: one 1 MiB block, written and kept:
// used. A guard block after B keeps glibc from trimming B off the top of its heap. With
// --uncovered=N it also allocates N blocks through glibc's __libc_malloc, which an interposer of
// malloc does not see, and frees them with free(): frees of blocks it never saw. With --two-chains=N
// it also makes N calls from one caller at one stack depth, reached by two call chains in turn (the
// recorder's stack cache must keep both). Then it exits.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" void* __libc_malloc(std::size_t);

// The pinning site the test looks for (not inlined: it must be a frame of its own).
[[gnu::noinline]] void* keep_one_per_page(std::size_t bytes) {
  void* p = std::malloc(bytes);
  std::memset(p, 1, bytes);
  return p;
}

[[gnu::noinline]] void* fill_and_free(std::size_t bytes) {
  void* p = std::malloc(bytes);
  std::memset(p, 2, bytes);
  return p;
}

// One caller of malloc at one depth under two chains: the same return address and stack pointer at
// the call, a different frame above it. noipa: neither folded into the other nor inlined.
[[gnu::noipa]] void* shared_caller(std::size_t bytes) {
  void* p = std::malloc(bytes);
  asm volatile("" : : "r"(p) : "memory");  // not a tail call
  return p;
}
[[gnu::noipa]] void* chain_a(std::size_t bytes) {
  void* p = shared_caller(bytes);
  asm volatile("" : : "r"(p) : "memory");
  return p;
}
[[gnu::noipa]] void* chain_b(std::size_t bytes) {
  void* p = shared_caller(bytes + 1);
  asm volatile("" : : "r"(p) : "memory");
  return p;
}

int main(int argc, char** argv) {
  long pages = 1024, uncovered = 0, two_chains = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    if (argument.rfind("--uncovered=", 0) == 0)
      uncovered = std::atol(argument.c_str() + 12);
    else if (argument.rfind("--two-chains=", 0) == 0)
      two_chains = std::atol(argument.c_str() + 13);
    else
      pages = std::atol(argv[i]);
  }
  const std::size_t blocks = static_cast<std::size_t>(pages) * 64;
  // The pointer arrays live to the end (never destroyed): used memory, not freed before the exit.
  std::vector<void*>& a = *new std::vector<void*>(blocks);
  std::vector<void*>& b = *new std::vector<void*>(blocks);
  for (void*& p : a) p = keep_one_per_page(48);
  for (void*& p : b) p = fill_and_free(48);
  void* guard = fill_and_free(48);
  void* c = std::malloc(1 << 20);
  std::memset(c, 3, 1 << 20);
  for (std::size_t i = 0; i < blocks; ++i)
    if (i % 64 != 0) std::free(a[i]);
  for (void* p : b) std::free(p);
  for (long i = 0; i < uncovered; ++i) std::free(__libc_malloc(32));
  for (long i = 0; i < two_chains; ++i) std::free(i % 2 == 0 ? chain_a(24) : chain_b(24));
  std::printf("pinned %zu pages, freed %zu blocks, kept %p %p\n", blocks / 64, blocks, guard, c);
  return 0;
}
