#include "benchmarks/driver/units.h"

#include <cmath>
#include <cstdlib>
#include <iterator>

namespace bench {
namespace {

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

std::uint64_t parse_size(std::string_view text) {
  if (text.empty()) throw UsageError("empty size in --sizes (expected a positive entry count such as 1000000 or 5M)");
  std::uint64_t multiplier = 1;
  std::string_view digits = text;
  switch (text.back()) {
    case 'k':
    case 'K':
      multiplier = 1'000;
      digits.remove_suffix(1);
      break;
    case 'M':
      multiplier = 1'000'000;
      digits.remove_suffix(1);
      break;
    default: break;
  }
  if (digits.empty()) throw UsageError("size " + quoted(text) + " has no digits");
  std::uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') throw UsageError("size " + quoted(text) + " is not a positive whole number (use e.g. 1000000 or 5M)");
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (kMaxEntries - digit) / 10) throw UsageError("size " + quoted(text) + " is too large (the limit is 1000000000 entries)");
    value = value * 10 + digit;
  }
  if (value != 0 && value > kMaxEntries / multiplier)
    throw UsageError("size " + quoted(text) + " is too large (the limit is 1000000000 entries)");
  value *= multiplier;
  if (value == 0) throw UsageError("size " + quoted(text) + " is zero: a run needs at least one entry");
  return value;
}

std::vector<std::uint64_t> parse_size_list(std::string_view text) {
  if (text.empty()) throw UsageError("--sizes is empty (expected N[,N...], e.g. --sizes=1000000,5000000)");
  std::vector<std::uint64_t> sizes;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    if (item == "scaling")
      sizes.insert(sizes.end(), std::begin(kScalingSizes), std::end(kScalingSizes));
    else
      sizes.push_back(parse_size(item));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return sizes;
}

Nanoseconds parse_duration(std::string_view text) {
  if (text == "0") return Nanoseconds{0};
  struct Unit {
    std::string_view suffix;
    double ns;
  };
  // Longest suffixes first so "ms" is not read as "s".
  static constexpr Unit kUnits[] = {{"ms", 1e6}, {"us", 1e3}, {"ns", 1.0}, {"s", 1e9}, {"m", 60e9}};
  for (const Unit& unit : kUnits) {
    if (text.size() <= unit.suffix.size() || text.substr(text.size() - unit.suffix.size()) != unit.suffix) continue;
    const std::string number(text.substr(0, text.size() - unit.suffix.size()));
    bool ok = !number.empty() && number.find_first_not_of("0123456789.") == std::string::npos && number.find('.') == number.rfind('.');
    char* end = nullptr;
    const double value = ok ? std::strtod(number.c_str(), &end) : 0.0;
    ok = ok && end == number.c_str() + number.size();
    const double ns = value * unit.ns;
    if (!ok || !std::isfinite(ns) || ns > 86400e9)
      throw UsageError("duration " + quoted(text) + " is malformed or out of range (expected e.g. 15s, 500ms, 2.5s; at most 24 h)");
    return Nanoseconds{static_cast<std::int64_t>(std::llround(ns))};
  }
  throw UsageError("duration " + quoted(text) + " has no unit (expected e.g. 15s, 500ms, 100us, 1m)");
}

std::string format_duration(Nanoseconds d) {
  const std::int64_t ns = d.count();
  if (ns % 1'000'000'000 == 0 && ns != 0) return std::to_string(ns / 1'000'000'000) + "s";
  if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
  if (ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
  return std::to_string(ns) + "ns";
}

}  // namespace bench
