// Unit tests of benchmarks/driver/units.h: sizes and durations as the command line spells them.
#include "benchmarks/driver/units.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bench {
namespace {

using namespace std::chrono_literals;

TEST(ParseSize, AcceptsPlainNumbersAndSuffixes) {
  EXPECT_EQ(parse_size("1"), 1u);
  EXPECT_EQ(parse_size("5000000"), 5'000'000u);
  EXPECT_EQ(parse_size("500k"), 500'000u);
  EXPECT_EQ(parse_size("5M"), 5'000'000u);
  EXPECT_EQ(parse_size("1000000000"), kMaxEntries);
}

TEST(ParseSize, RejectsZeroGarbageAndOverflow) {
  for (const char* bad : {"", "0", "0k", "-5", "5x", "k", "1.5M", "1000000001", "18446744073709551617", "99999999999999999999M", " 5"})
    EXPECT_THROW(parse_size(bad), UsageError) << bad;
}

TEST(ParseSize, MessageNamesTheValue) {
  try {
    parse_size("12abc");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("'12abc'"), std::string::npos) << e.what();
  }
}

TEST(ParseSizeList, SplitsOnCommas) {
  EXPECT_EQ(parse_size_list("10000,1M,5000000"), (std::vector<std::uint64_t>{10'000, 1'000'000, 5'000'000}));
  EXPECT_THROW(parse_size_list(""), UsageError);
  EXPECT_THROW(parse_size_list("1000,"), UsageError);
  EXPECT_THROW(parse_size_list(",1000"), UsageError);
}

TEST(ParseSizeList, ScalingExpandsToTheDocumentedList) {
  const std::vector<std::uint64_t> scaling = {10'000, 30'000, 100'000, 300'000, 1'000'000, 3'000'000, 5'000'000};
  EXPECT_EQ(parse_size_list("scaling"), scaling);
  std::vector<std::uint64_t> mixed = {1'000};
  mixed.insert(mixed.end(), scaling.begin(), scaling.end());
  mixed.push_back(10'000'000);
  EXPECT_EQ(parse_size_list("1000,scaling,10M"), mixed);
  EXPECT_THROW(parse_size_list("Scaling"), UsageError);
  EXPECT_THROW(parse_size_list("scaling,"), UsageError);
}

TEST(ParseDuration, AcceptsUnits) {
  EXPECT_EQ(parse_duration("15s"), Nanoseconds(15s));
  EXPECT_EQ(parse_duration("500ms"), Nanoseconds(500ms));
  EXPECT_EQ(parse_duration("2.5s"), Nanoseconds(2500ms));
  EXPECT_EQ(parse_duration("100us"), Nanoseconds(100us));
  EXPECT_EQ(parse_duration("1m"), Nanoseconds(60s));
  EXPECT_EQ(parse_duration("0"), Nanoseconds(0));
}

TEST(ParseDuration, RejectsMalformed) {
  for (const char* bad : {"", "15", "s", "ms", "1.2.3s", "-1s", "abc", "15 s", "1h", "100000000s"})
    EXPECT_THROW(parse_duration(bad), UsageError) << bad;
}

TEST(FormatDuration, IsTheShortestExactSpelling) {
  EXPECT_EQ(format_duration(0ms), "0ms");
  EXPECT_EQ(format_duration(10ms), "10ms");
  EXPECT_EQ(format_duration(1s), "1s");
  EXPECT_EQ(format_duration(15s), "15s");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(parse_duration(format_duration(1500ms)), Nanoseconds(1500ms));
}

}  // namespace
}  // namespace bench
