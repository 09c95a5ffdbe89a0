// Parsing and formatting of the command-line quantities: sizes (entry counts) and durations.
// Every parser returns std::nullopt-free results: it either succeeds or throws UsageError whose
// message names the offending text, so `./bench` can print it and exit non-zero.
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Nanoseconds = std::chrono::nanoseconds;

// "1000000", "1,000,000" is NOT accepted (commas separate list items); suffixes k/K = 1e3, M = 1e6.
// Throws UsageError for empty, zero, negative, non-numeric or > kMaxEntries values.
std::uint64_t parse_size(std::string_view text);

// "N[,N...]": a list of sizes; duplicates are kept in order given (the user asked for them).
// An item "scaling" expands to kScalingSizes (e.g. --sizes=scaling, or --sizes=1000,scaling).
std::vector<std::uint64_t> parse_size_list(std::string_view text);

// --sizes=scaling: roughly three points per decade from 10 thousand to 5 million entries, the
// seed's N, for plots of growth and retention against N.
inline constexpr std::uint64_t kScalingSizes[] = {10'000, 30'000, 100'000, 300'000, 1'000'000, 3'000'000, 5'000'000};

// "15s", "500ms", "2.5s", "100us", "1m", "0" (zero needs no unit). Throws UsageError otherwise.
Nanoseconds parse_duration(std::string_view text);

// The shortest exact spelling of a duration for names: 0 -> "0ms", 10ms -> "10ms", 1s -> "1s",
// 1500ms -> "1500ms". Used in the run's context and in messages.
std::string format_duration(Nanoseconds d);

// Largest N accepted by --sizes: beyond this the keys alone (16 B each) exceed 16 GiB.
inline constexpr std::uint64_t kMaxEntries = 1'000'000'000;

}  // namespace bench
