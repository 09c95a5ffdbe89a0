// bench_alloc_churn: an allocation-bound program of the suite's own, for what recording costs
// (docs/recording.md): tens of millions of allocation calls a second, a few frames deep.
//
//   bench_alloc_churn [CALLS [LIVE]]
//
// Keeps LIVE blocks (default 4,096) of 16 to 512 bytes alive and replaces one at random, chosen by a
// fixed-seed generator, CALLS / 2 times (default 40,000,000 calls: malloc plus free), writing each new
// block's first bytes; then frees every block. Under ./bench it reports the phases `churned` (the
// replacements done, every block still live) and `freed` (protocol/program_protocol.h), and waits for
// each answer, so that its memory is read exactly there.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "benchmarks/programs/report_phase.h"

namespace {

using bench_program::phase;

[[gnu::noinline]] void* take(std::size_t bytes) {
  void* p = std::malloc(bytes);
  if (p == nullptr) std::abort();
  std::memset(p, 1, 16);
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  const long calls = argc > 1 ? std::atol(argv[1]) : 40'000'000;
  const long live = argc > 2 ? std::atol(argv[2]) : 4096;
  if (calls < 0 || live <= 0) {
    std::fprintf(stderr, "usage: %s [CALLS [LIVE]]\n", argv[0]);
    return 2;
  }
  std::vector<void*> blocks(static_cast<std::size_t>(live));
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  for (void*& b : blocks) b = take(16 + next() % 497);
  for (long i = 0; i < calls / 2; ++i) {
    void*& b = blocks[next() % static_cast<std::uint64_t>(live)];
    std::free(b);
    b = take(16 + next() % 497);
  }
  phase("churned");
  for (void* b : blocks) std::free(b);
  phase("freed");
  std::printf("%ld calls, %ld blocks live at most\n", calls, live);
  return 0;
}
