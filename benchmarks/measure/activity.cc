#include "benchmarks/measure/activity.h"

#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "allocators/configuration.h"

namespace bench {
namespace {

std::uint64_t parse_number(std::string_view key, std::string_view text, std::uint64_t max) {
  std::uint64_t multiplier = 1;
  if (!text.empty() && (text.back() == 'k' || text.back() == 'K')) multiplier = 1000, text.remove_suffix(1);
  if (!text.empty() && text.back() == 'M') multiplier = 1'000'000, text.remove_suffix(1);
  if (!text.empty() && text.back() == '%') text.remove_suffix(1);
  std::uint64_t value = 0;
  if (text.empty()) throw std::invalid_argument(std::string(key) + " has no value");
  for (char c : text) {
    if (c < '0' || c > '9') throw std::invalid_argument(std::string(key) + "=" + std::string(text) + " is not a whole number");
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
    if (value > max) throw std::invalid_argument(std::string(key) + " is above " + std::to_string(max));
  }
  value *= multiplier;
  if (value == 0 || value > max) throw std::invalid_argument(std::string(key) + " must be from 1 to " + std::to_string(max));
  return value;
}

std::string with_commas(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string bytes_text(std::uint64_t bytes) {
  if (bytes >= (1 << 20) && bytes % (1 << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= 1000000 && bytes % 1000000 == 0) return std::to_string(bytes / 1000000) + " MB";
  return with_commas(bytes) + " B";
}

double thread_cpu_seconds() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The steady pattern's sizes: log-uniform from 16 B to 4 KiB (2^4 .. 2^12), mean about 770 B.
constexpr std::uint32_t kSmallestBlock = 16, kLargestBlockLog2 = 12, kSmallestBlockLog2 = 4;

void* touched(void* block, std::uint32_t size) noexcept {
  asm volatile("" : "+r"(block));
  if (block != nullptr) static_cast<volatile char*>(block)[size - 1] = 1;
  return block;
}

}  // namespace

std::string_view ActivitySpec::name() const {
  switch (pattern) {
    case ActivityPattern::pairs: return "pairs";
    case ActivityPattern::batch: return "batch";
    case ActivityPattern::steady: return "steady";
    case ActivityPattern::none: break;
  }
  return "idle";
}

std::string ActivitySpec::text() const {
  switch (pattern) {
    case ActivityPattern::pairs:
    case ActivityPattern::batch: return std::string(name()) + ":count=" + std::to_string(count) + ":size=" + std::to_string(size);
    case ActivityPattern::steady: return "steady:bytes=" + std::to_string(bytes) + ":replace=" + std::to_string(replace_pct) + "%";
    case ActivityPattern::none: break;
  }
  return "idle";
}

std::string ActivitySpec::description() const {
  const std::string every = "every " + std::to_string(period.count() / 1'000'000) + " ms";
  switch (pattern) {
    case ActivityPattern::pairs:
      return every + ", " + with_commas(count) + " malloc/free pairs of " + std::to_string(size) + " B (each block freed before the next)";
    case ActivityPattern::batch:
      return every + ", " + with_commas(count) + " blocks of " + std::to_string(size) + " B allocated, all kept, then all freed";
    case ActivityPattern::steady:
      return "a working set of " + bytes_text(bytes) + " in blocks of 16 B to 4 KiB (log-uniform, seeded), " + std::to_string(replace_pct) +
             " % of it freed and allocated anew " + every;
    case ActivityPattern::none: break;
  }
  return "idle";
}

ActivitySpec ActivitySpec::parse(std::string_view text) {
  ActivitySpec spec;
  const std::size_t colon = text.find(':');
  const std::string_view name = text.substr(0, colon);
  if (name == "pairs")
    spec.pattern = ActivityPattern::pairs;
  else if (name == "batch")
    spec.pattern = ActivityPattern::batch;
  else if (name == "steady")
    spec.pattern = ActivityPattern::steady;
  else
    throw std::invalid_argument("unknown activity '" + std::string(name) + "' (expected pairs, batch or steady)");
  std::string_view rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  while (!rest.empty()) {
    const std::size_t next = rest.find(':');
    const std::string_view item = rest.substr(0, next);
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    const std::size_t equals = item.find('=');
    if (equals == std::string_view::npos) throw std::invalid_argument("'" + std::string(item) + "' is not key=value");
    const std::string_view key = item.substr(0, equals), value = item.substr(equals + 1);
    const bool counted = spec.pattern != ActivityPattern::steady;
    if (counted && key == "count")
      spec.count = static_cast<std::uint32_t>(parse_number(key, value, 1'000'000));
    else if (counted && key == "size")
      spec.size = static_cast<std::uint32_t>(parse_number(key, value, 1 << 20));
    else if (!counted && key == "bytes")
      spec.bytes = parse_number(key, value, std::uint64_t{1} << 32);
    else if (!counted && key == "replace")
      spec.replace_pct = static_cast<std::uint32_t>(parse_number(key, value, 100));
    else
      throw std::invalid_argument(std::string(name) + " has no parameter '" + std::string(key) + "' (" +
                                  (counted ? "count, size" : "bytes, replace") + ")");
  }
  return spec;
}

Activity::Activity(const ActivitySpec& spec) : spec_(spec) {}

Activity::~Activity() {
  if (blocks_ != nullptr) ::munmap(blocks_, capacity_ * sizeof(Block));
}

std::uint64_t Activity::next_random() noexcept {  // xorshift64: fixed seed, the same sequence in every child
  random_state_ ^= random_state_ << 13;
  random_state_ ^= random_state_ >> 7;
  random_state_ ^= random_state_ << 17;
  return random_state_;
}

std::uint32_t Activity::next_size() noexcept {
  // log2 of the size uniform in [4, 12): the exponent's integer part picks the power of two, a second
  // draw spreads the size within it.
  const std::uint32_t exponent = kSmallestBlockLog2 + static_cast<std::uint32_t>(next_random() % (kLargestBlockLog2 - kSmallestBlockLog2));
  const std::uint32_t low = 1u << exponent;
  return std::max(kSmallestBlock, low + static_cast<std::uint32_t>(next_random() % low));
}

void Activity::prepare() {
  switch (spec_.pattern) {
    case ActivityPattern::none:
    case ActivityPattern::pairs: return;
    case ActivityPattern::batch: capacity_ = spec_.count; break;
    case ActivityPattern::steady: capacity_ = spec_.bytes / kSmallestBlock + 1; break;
  }
  // Sized for the worst case (every steady block 16 B) but touched only where used, here: the pages
  // it faults in belong to the baseline.
  void* table = ::mmap(nullptr, capacity_ * sizeof(Block), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (table == MAP_FAILED) throw std::runtime_error("the activity's block table could not be mapped");
  blocks_ = static_cast<Block*>(table);
  if (spec_.pattern == ActivityPattern::batch) {
    for (std::size_t i = 0; i < capacity_; ++i) blocks_[i] = {nullptr, 0};
    return;
  }
  while (live_bytes_ < spec_.bytes && live_ < capacity_) {
    const std::uint32_t size = next_size();
    blocks_[live_++] = {touched(std::malloc(size), size), size};
    live_bytes_ += size;
  }
}

void Activity::step() noexcept {
  const double cpu_before = thread_cpu_seconds();
  switch (spec_.pattern) {
    case ActivityPattern::none: return;
    case ActivityPattern::pairs:
      for (std::uint32_t i = 0; i < spec_.count; ++i) std::free(touched(std::malloc(spec_.size), spec_.size));
      operations_ += 2ull * spec_.count;
      break;
    case ActivityPattern::batch:
      for (std::uint32_t i = 0; i < spec_.count; ++i) blocks_[i] = {touched(std::malloc(spec_.size), spec_.size), spec_.size};
      for (std::uint32_t i = 0; i < spec_.count; ++i) std::free(blocks_[i].pointer);
      operations_ += 2ull * spec_.count;
      break;
    case ActivityPattern::steady: {
      // Replace blocks picked at random until REPLACE % of the working set's bytes went: a free, then
      // an allocation of a new size, so the set's size stays near BYTES.
      const std::uint64_t target = spec_.bytes * spec_.replace_pct / 100;
      std::uint64_t replaced = 0;
      while (replaced < target && live_ > 0) {
        Block& block = blocks_[next_random() % live_];
        replaced += block.size;
        live_bytes_ -= block.size;
        std::free(block.pointer);
        const std::uint32_t size = next_size();
        block = {touched(std::malloc(size), size), size};
        live_bytes_ += size;
        operations_ += 2;
      }
      break;
    }
  }
  ++periods_;
  cpu_seconds_ += thread_cpu_seconds() - cpu_before;
}

void Activity::report(CounterSink& out) const {
  if (!spec_.busy()) return;
  out.counter("activity_ops", static_cast<double>(operations_), Unit::count);
  out.counter("activity_cpu_s", cpu_seconds_, Unit::seconds);
  out.counter("activity_live_bytes", static_cast<double>(live_bytes_), Unit::bytes);
  out.counter("activity_periods", static_cast<double>(periods_), Unit::count);
}

}  // namespace bench
