#include "benchmarks/measure/timeline.h"

#include <time.h>

#include <cstring>
#include <stdexcept>

#include "benchmarks/measure/clock.h"
#include "benchmarks/measure/memory.h"
#include "benchmarks/measure/probe.h"

namespace bench {
namespace {

void sleep_until(std::int64_t deadline_ns) noexcept {
  timespec ts{};
  ts.tv_sec = deadline_ns / 1'000'000'000;
  ts.tv_nsec = deadline_ns % 1'000'000'000;
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
  }
}

}  // namespace

// Integer arithmetic from a table on purpose: the first call of libm's pow() during the settle
// period would fault in its code pages, and RSS would grow by the pages mapped around them (about
// 128 KiB measured) while nothing else happens.
std::int64_t sample_offset_ns(int k) {
  static constexpr std::int64_t kDecadeMicroseconds[10] = {1000, 1259, 1585, 1995, 2512, 3162, 3981, 5012, 6310, 7943};
  std::int64_t scale = 1;
  for (int decade = k / 10; decade > 0; --decade) scale *= 10;
  return kDecadeMicroseconds[k % 10] * scale * 1000;
}

TimelineSampler::TimelineSampler() {
  if (::sem_init(&go_, 0, 0) != 0 || ::sem_init(&done_, 0, 0) != 0) throw std::runtime_error("sem_init failed");
  pthread_attr_t attributes;
  ::pthread_attr_init(&attributes);
  ::pthread_attr_setstacksize(&attributes, 64 * 1024);
  ::pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  const int error = ::pthread_create(&thread_, &attributes, run, this);
  ::pthread_attr_destroy(&attributes);
  if (error != 0) throw std::runtime_error(std::string("pthread_create (the timeline's sampler): ") + std::strerror(error));
}

void TimelineSampler::start(std::int64_t time_zero_ns, std::int64_t end_ns) {
  if (started_) return;
  started_ = true;
  time_zero_.store(time_zero_ns, std::memory_order_relaxed);
  end_.store(end_ns, std::memory_order_relaxed);
  ::sem_post(&go_);  // a release: the thread sees both
  // Returns once the first sample is taken: whatever the caller does next (the speed probe maps its
  // table, which no sample may see) comes after time zero's reading.
  while (!first_taken_.load(std::memory_order_acquire)) {
    const timespec pause{0, 20'000};
    ::nanosleep(&pause, nullptr);
  }
}

std::span<const TimelineSampler::Sample> TimelineSampler::finish() {
  if (!started_) return {};
  while (::sem_wait(&done_) != 0) {
  }
  return {samples_, static_cast<std::size_t>(count_)};
}

void* TimelineSampler::run(void* argument) {
  auto* self = static_cast<TimelineSampler*>(argument);
  while (::sem_wait(&self->go_) != 0) {
  }
  const std::int64_t zero = self->time_zero_.load(std::memory_order_relaxed), end = self->end_.load(std::memory_order_relaxed);
  int count = 0;
  // Never while the speed probe's table is mapped (probe.h): its 32 MiB are no one's RSS; the
  // reading waits for the probe's end (first_sample_s says when the first came).
  auto sample = [&] {
    if (count >= kCapacity) return;
    while (true) {
      const std::uint32_t before = probe_epoch();
      if ((before & 1) == 0) {
        const std::int64_t at = monotonic_ns();
        const std::size_t rss = resident_bytes();
        if (probe_epoch() == before) {
          self->samples_[count++] = {at, rss};
          return;
        }
      }
      sleep_until(monotonic_ns() + 1'000'000);
    }
  };
  sample();
  self->first_taken_.store(true, std::memory_order_release);
  int k = 0;
  while (zero + sample_offset_ns(k) <= monotonic_ns()) ++k;  // offsets already passed are skipped
  for (std::int64_t next; (next = zero + sample_offset_ns(k)) < end; ++k) {
    sleep_until(next);
    sample();
  }
  sleep_until(end);
  sample();
  self->count_ = count;
  ::sem_post(&self->done_);  // a release: finish() sees the samples
  while (true) ::pause();    // never exits (see the header)
}

}  // namespace bench
