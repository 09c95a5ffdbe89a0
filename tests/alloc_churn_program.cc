// An allocation-bound program for the replay's speed figures (docs of issue 28, item 4): a window of
// live blocks churned in one thread, as the classic allocator benchmarks do.
//
//   bench_alloc_churn [ITERATIONS] [WINDOW]
//
// It allocates WINDOW blocks (default 10,000), then each of ITERATIONS iterations (default
// 5,000,000) frees one block of the window at random and allocates one in its place, of a size
// between 16 B and 1 KiB drawn log-uniformly (small ones likelier), writing its first byte: two
// calls an iteration, a few frames deep. The same sequence every run (a fixed seed). Frees the window
// and exits.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

std::uint64_t g_state = 0x9E3779B97F4A7C15ull;

std::uint64_t next_random() {  // xorshift64
  g_state ^= g_state << 13;
  g_state ^= g_state >> 7;
  g_state ^= g_state << 17;
  return g_state;
}

std::size_t next_size() {
  const std::uint64_t r = next_random();
  return (std::size_t{16} << (r % 7)) + (r >> 8) % 16 * 8;  // 16..1144 B
}

[[gnu::noinline]] char* allocate(std::size_t size) {
  auto* block = static_cast<char*>(std::malloc(size));
  block[0] = static_cast<char>(size);
  return block;
}

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 5'000'000;
  const long window = argc > 2 ? std::atol(argv[2]) : 10'000;
  auto** live = static_cast<char**>(std::calloc(static_cast<std::size_t>(window), sizeof(char*)));
  for (long i = 0; i < window; ++i) live[i] = allocate(next_size());
  std::uint64_t sum = 0;
  for (long i = 0; i < iterations; ++i) {
    const auto at = static_cast<long>(next_random() % static_cast<std::uint64_t>(window));
    sum += static_cast<unsigned char>(live[at][0]);
    std::free(live[at]);
    live[at] = allocate(next_size());
  }
  for (long i = 0; i < window; ++i) std::free(live[i]);
  std::free(live);
  std::printf("%ld iterations over %ld blocks (%llu)\n", iterations, window, static_cast<unsigned long long>(sum));
  return 0;
}
