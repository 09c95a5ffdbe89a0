// The program the tests run with `./bench -- PROGRAM`: a memory behaviour known in advance. It
// allocates many small blocks (malloc(56), a std::map node's size), writes each, frees them all,
// then sleeps, doing nothing, and exits 0:
//
//   bench_test_program [BLOCKS [SLEEP_MS]] [--die-if-preloaded=TEXT] [--hold]
//
// BLOCKS defaults to 1,000,000 and SLEEP_MS to 1000. With --hold the blocks are never freed: the
// program holds them to its exit under every allocator. With --die-if-preloaded=TEXT it kills itself
// with SIGSEGV right after the frees when LD_PRELOAD contains TEXT: a program that crashes under one
// configuration only. Under glibc the freed blocks stay resident until the end; under an allocator
// that returns freed memory at once (jemalloc with dirty_decay_ms:0), they do not.
#include <signal.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  long blocks = 1'000'000, sleep_ms = 1000;
  std::string die_if_preloaded;
  bool hold = false;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    if (argument.rfind("--die-if-preloaded=", 0) == 0)
      die_if_preloaded = argument.substr(19);
    else if (argument == "--hold")
      hold = true;
    else if (positional++ == 0)
      blocks = std::atol(argv[i]);
    else
      sleep_ms = std::atol(argv[i]);
  }
  std::vector<void*> pointers(static_cast<std::size_t>(blocks));
  for (void*& p : pointers) {
    p = std::malloc(56);
    if (p == nullptr) return 2;
    std::memset(p, 1, 56);
  }
  if (!hold)
    for (void* p : pointers) std::free(p);
  std::printf("%s %ld blocks of 56 bytes\n", hold ? "holding" : "freed", blocks);
  std::fflush(stdout);
  const char* preload = std::getenv("LD_PRELOAD");
  if (!die_if_preloaded.empty() && preload != nullptr && std::strstr(preload, die_if_preloaded.c_str()) != nullptr) ::raise(SIGSEGV);
  const timespec pause{sleep_ms / 1000, (sleep_ms % 1000) * 1'000'000};
  ::nanosleep(&pause, nullptr);
  return 0;
}
