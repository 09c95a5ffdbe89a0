// Unit tests of the harness's pieces: parsing of sizes and durations, the suite's flags, RSS
// reading, and the served-by verification.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>
#include <string>
#include <vector>

#include "allocators/glibc.h"
#include "allocators/jemalloc.h"
#include "benchmarks/keys.h"
#include "benchmarks/options.h"
#include "benchmarks/rss.h"
#include "benchmarks/served_by.h"
#include "benchmarks/units.h"

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

TEST(FormatDuration, IsStableForCounterNames) {
  EXPECT_EQ(format_duration(0ms), "0ms");
  EXPECT_EQ(format_duration(10ms), "10ms");
  EXPECT_EQ(format_duration(1s), "1s");
  EXPECT_EQ(format_duration(15s), "15s");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(parse_duration(format_duration(1500ms)), Nanoseconds(1500ms));
}

std::vector<char*> argv_of(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

TEST(RunOptions, ConsumesSuiteFlagsAndKeepsTheRest) {
  std::vector<std::string> args = {"bench", "--sizes=1000,2000", "--benchmark_filter=^map/", "--settle=2s",
                                   "--max-settling=0", "--benchmark_repetitions=3", "--benchmark_out=x.json"};
  auto argv = argv_of(args);
  int argc = static_cast<int>(args.size());
  const RunOptions options = parse_run_options(argc, argv.data());
  EXPECT_EQ(options.sizes, (std::vector<std::uint64_t>{1000, 2000}));
  EXPECT_EQ(options.settle, Nanoseconds(2s));
  EXPECT_EQ(options.max_settling, 0);
  EXPECT_EQ(options.repetitions, 3);
  EXPECT_EQ(options.benchmark_out, "x.json");
  EXPECT_NE(options.benchmark_out_partial.find("x.json.partial-"), std::string::npos);
  ASSERT_EQ(argc, 4);
  EXPECT_STREQ(argv[1], "--benchmark_filter=^map/");
  EXPECT_STREQ(argv[2], "--benchmark_repetitions=3");
  EXPECT_STREQ(argv[3], "--benchmark_out=x.json");
}

TEST(RunOptions, RejectsBadValues) {
  for (std::string bad : {"--sizes=0", "--sizes=", "--settle=fast", "--max-settling=-1", "--timeout=0", "--sizes"}) {
    std::vector<std::string> args = {"bench", bad};
    auto argv = argv_of(args);
    int argc = 2;
    EXPECT_THROW(parse_run_options(argc, argv.data()), UsageError) << bad;
  }
}

TEST(Rss, GrowsWhenPagesAreTouchedAndShrinksWhenUnmapped) {
  constexpr std::size_t kBytes = 64 << 20;
  const std::size_t before = resident_bytes();
  ASSERT_GT(before, 0u);
  void* block = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(block, MAP_FAILED);
  const MemoryFootprint untouched = read_memory_footprint();
  EXPECT_LT(untouched.resident_bytes, before + kBytes / 20) << "untouched pages must not be resident";
  EXPECT_GE(untouched.virtual_bytes, kBytes);
  std::memset(block, 1, kBytes);
  const std::size_t touched = resident_bytes();
  EXPECT_GE(touched, before + kBytes - (1 << 20));
  munmap(block, kBytes);
  EXPECT_LT(resident_bytes(), touched - kBytes + (1 << 20));
}

TEST(Keys, AreMd5OfLittleEndianIndex) {
  // MD5 of eight zero bytes, and of 01 00 00 00 00 00 00 00 (computed with `printf ... | md5sum`).
  const Md5Key zero = md5_of_index(0);
  const unsigned char expected_zero[16] = {0x7d, 0xea, 0x36, 0x2b, 0x3f, 0xac, 0x8e, 0x00,
                                           0x95, 0x6a, 0x49, 0x52, 0xa3, 0xd4, 0xf4, 0x74};
  EXPECT_EQ(std::memcmp(zero.bytes, expected_zero, 16), 0);
  const int fd = create_key_file(1000);
  const auto keys = map_key_file(fd, 1000);
  ASSERT_EQ(keys.size(), 1000u);
  EXPECT_EQ(std::memcmp(keys[0].bytes, zero.bytes, 16), 0);
  const Md5Key k999 = md5_of_index(999);
  EXPECT_EQ(std::memcmp(keys[999].bytes, k999.bytes, 16), 0);
  EXPECT_THROW(map_key_file(fd, 1001), std::runtime_error);
}

TEST(ServedBy, GlibcServesThisTestProcess) {
  const ServedBy served = find_served_by();
  EXPECT_NE(served.malloc_library.find("libc.so"), std::string::npos) << served.malloc_library;
  EXPECT_NE(served.new_library.find("libstdc++"), std::string::npos) << served.new_library;
  EXPECT_EQ(check_served_by(glibc::kLibrary, served), "");
}

TEST(ServedBy, MismatchIsReportedWithBothPaths) {
  const ServedBy served = find_served_by();
  if (jemalloc::kLibrary.missing_reason.empty()) {
    const std::string problem = check_served_by(jemalloc::kLibrary, served);
    EXPECT_NE(problem.find("malloc is served by"), std::string::npos) << problem;
    EXPECT_NE(problem.find("libjemalloc"), std::string::npos) << problem;
  }
  const std::string problem = check_served_by(glibc::kLibrary, {"/x/libfake.so", served.new_library});
  EXPECT_NE(problem.find("/x/libfake.so"), std::string::npos) << problem;
}

}  // namespace
}  // namespace bench
