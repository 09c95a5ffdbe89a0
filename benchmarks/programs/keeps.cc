// bench_keeps: a program of the suite's own whose answer is known, for scripts/why.sh's tests
// (docs/why.md): it builds MB of small blocks, frees them in one of two ways, then idles.
//
//   bench_keeps free|pinned MB [IDLE_SECONDS]
//
// Blocks of 64 to 256 bytes (a fixed-seed generator), every byte written. `free` frees every block
// but the last one built, which sits below glibc's top and keeps it from trimming by itself: the
// memory is free, kept by the allocator's choice. `pinned` keeps one block in 16, each allocated by
// keep_one() (the pinning site), and frees the rest: every page still holds a live block. It reports
// the phases `built` and `freed` (protocol/program_protocol.h) and waits for each answer, idles
// IDLE_SECONDS (default 0) making no call, then frees what is left and exits.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "benchmarks/programs/report_phase.h"

namespace {

using bench_program::phase;

[[gnu::noinline]] void* take(std::size_t bytes) {
  void* p = std::malloc(bytes);
  if (p == nullptr) std::abort();
  std::memset(p, 1, bytes);
  return p;
}

[[gnu::noinline]] void* keep_one(std::size_t bytes) {
  void* p = std::malloc(bytes);
  if (p == nullptr) std::abort();
  std::memset(p, 2, bytes);
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const long megabytes = argc > 2 ? std::atol(argv[2]) : 0;
  const double idle = argc > 3 ? std::atof(argv[3]) : 0;
  if ((mode != "free" && mode != "pinned") || megabytes <= 0 || idle < 0) {
    std::fprintf(stderr, "usage: %s free|pinned MB [IDLE_SECONDS]\n", argv[0]);
    return 2;
  }
  const bool pinned = mode == "pinned";
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  std::vector<void*> blocks;
  std::vector<bool> kept;
  for (std::size_t built = 0; built < static_cast<std::size_t>(megabytes) << 20;) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const std::size_t bytes = 64 + (state >> 33) % 193;
    const bool keep = pinned && blocks.size() % 16 == 0;
    blocks.push_back(keep ? keep_one(bytes) : take(bytes));
    kept.push_back(keep);
    built += bytes;
  }
  if (!pinned) kept.back() = true;
  phase("built");
  for (std::size_t i = 0; i < blocks.size(); ++i)
    if (!kept[i]) std::free(blocks[i]);
  phase("freed");
  std::this_thread::sleep_for(std::chrono::duration<double>(idle));
  for (std::size_t i = 0; i < blocks.size(); ++i)
    if (kept[i]) std::free(blocks[i]);
  std::printf("%s: %ld MB in %zu blocks, idle %.1f s\n", mode.c_str(), megabytes, blocks.size(), idle);
  return 0;
}
