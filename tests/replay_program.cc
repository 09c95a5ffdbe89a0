// The program the replay's integration test records (tests/integration/test_replay.py): allocation
// calls of known counts, in three threads, with blocks that pass between them.
//
//   bench_replay_program [BLOCKS]
//
// The main thread reports the moment "start", then allocates BLOCKS 64-byte blocks, hands them to a
// consumer thread that frees them all (BLOCKS cross-thread frees) and reports "handed"; a second
// worker grows one block by realloc from 16 bytes to 64 KiB (12 reallocs) and frees it, then makes
// 100 of each of calloc(1, 100), posix_memalign(64, 200), aligned_alloc(4096, 4096), operator new
// (80 bytes), operator new (96 bytes, 64-aligned), each freed by its matching call. The main thread
// then keeps KEPT = 10 blocks of 1000 bytes, sleeps 50 ms (an idle gap), reports "kept" and exits:
// the kept blocks (10,000 bytes) live at the end. Moments are reported through the recorder's
// bench_record_phase when it is there (looked up at run time: the program runs without it).
#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace {

int (*g_record_phase)(const char*) = nullptr;

// Every block passes through here, so that the compiler cannot drop an allocation and its free.
void* volatile g_sink = nullptr;
void* kept_alive(void* block) {
  g_sink = block;
  return g_sink;
}

void moment(const char* name) {
  if (g_record_phase != nullptr) g_record_phase(name);
}

// A one-slot handoff between the main thread and the consumer, with no allocation of its own.
pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t g_changed = PTHREAD_COND_INITIALIZER;
void* g_slot = nullptr;
bool g_done = false;

void* consume(void*) {
  for (;;) {
    pthread_mutex_lock(&g_lock);
    while (g_slot == nullptr && !g_done) pthread_cond_wait(&g_changed, &g_lock);
    void* block = g_slot;
    g_slot = nullptr;
    const bool done = g_done;
    pthread_cond_broadcast(&g_changed);
    pthread_mutex_unlock(&g_lock);
    if (block != nullptr) std::free(block);
    if (block == nullptr && done) return nullptr;
  }
}

void* forms(void*) {
  void* grown = std::malloc(16);
  for (std::size_t size = 32; size <= 64 * 1024; size *= 2) {
    grown = std::realloc(grown, size);
    std::memset(grown, 1, size);
  }
  std::free(grown);
  for (int i = 0; i < 100; ++i) {
    std::free(kept_alive(std::calloc(1, 100)));
    void* aligned = nullptr;
    if (posix_memalign(&aligned, 64, 200) == 0) std::free(kept_alive(aligned));
    std::free(kept_alive(std::aligned_alloc(4096, 4096)));
    ::operator delete(kept_alive(::operator new(80)));
    ::operator delete(kept_alive(::operator new(96, std::align_val_t(64))), std::align_val_t(64));
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  g_record_phase = reinterpret_cast<int (*)(const char*)>(::dlsym(RTLD_DEFAULT, "bench_record_phase"));
  const long blocks = argc > 1 ? std::atol(argv[1]) : 10000;
  moment("start");
  pthread_t consumer, worker;
  pthread_create(&consumer, nullptr, consume, nullptr);
  pthread_create(&worker, nullptr, forms, nullptr);
  for (long i = 0; i < blocks; ++i) {
    void* block = std::malloc(64);
    std::memset(block, 2, 64);
    pthread_mutex_lock(&g_lock);
    while (g_slot != nullptr) pthread_cond_wait(&g_changed, &g_lock);
    g_slot = block;
    pthread_cond_broadcast(&g_changed);
    pthread_mutex_unlock(&g_lock);
  }
  pthread_mutex_lock(&g_lock);
  g_done = true;
  pthread_cond_broadcast(&g_changed);
  pthread_mutex_unlock(&g_lock);
  pthread_join(consumer, nullptr);
  pthread_join(worker, nullptr);
  moment("handed");
  constexpr int kKept = 10;
  static void* kept[kKept];
  for (void*& block : kept) {
    block = std::malloc(1000);
    std::memset(block, 3, 1000);
  }
  ::usleep(50'000);
  moment("kept");
  std::printf("handed %ld blocks, kept %d of 1000 bytes at %p\n", blocks, kKept, kept[0]);
  return 0;
}
