// Unit tests of benchmarks/driver/flags.h: the suite's flags, Google Benchmark's flags read once,
// and the program after `--`.
#include "benchmarks/driver/flags.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bench {
namespace {

using namespace std::chrono_literals;

Flags parse(std::vector<std::string> args) {
  args.insert(args.begin(), "bench");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parse_flags(static_cast<int>(args.size()), argv.data());
}

TEST(Flags, ReadsSuiteFlagsAndPassesTheRestToGoogleBenchmark) {
  const Flags flags =
      parse({"--sizes=1000,2000", "--benchmark_filter=^map/", "--settle=2s", "--max-settling=0", "--benchmark_repetitions=3",
             "--benchmark_out=x.json", "--rounds=4", "--pause=250ms", "--benchmark_min_warmup_time=0"});
  EXPECT_EQ(flags.sizes, (std::vector<std::uint64_t>{1000, 2000}));
  EXPECT_EQ(flags.settle, Nanoseconds(2s));
  EXPECT_EQ(flags.max_settling, 0);
  EXPECT_EQ(flags.repetitions, 3);
  EXPECT_EQ(flags.rounds, 4);
  EXPECT_EQ(flags.pause, Nanoseconds(250ms));
  EXPECT_EQ(flags.filter, "^map/");
  EXPECT_EQ(flags.out, "x.json");
  EXPECT_NE(flags.out_partial.find("x.json.partial-"), std::string::npos);
  EXPECT_EQ(flags.command_output, "command-output");
  // Google Benchmark gets its own flags, the partial output file, and neither the filter (the
  // suite selects) nor the suite's flags.
  const std::vector<std::string> google = google_benchmark_arguments(flags);
  EXPECT_EQ(google, (std::vector<std::string>{"bench", "--benchmark_repetitions=3", "--benchmark_min_warmup_time=0",
                                              "--benchmark_out=" + flags.out_partial}));
}

TEST(Flags, BooleansFollowGoogleBenchmarksSpelling) {
  EXPECT_TRUE(parse({"--benchmark_enable_random_interleaving"}).random_interleaving);
  EXPECT_TRUE(parse({"--benchmark_enable_random_interleaving=yes"}).random_interleaving);
  EXPECT_FALSE(parse({"--benchmark_enable_random_interleaving=false"}).random_interleaving);
  EXPECT_FALSE(parse({"--benchmark_counters_tabular=0"}).tabular);
  EXPECT_TRUE(parse({"--benchmark_list_tests"}).list_tests);
  EXPECT_FALSE(is_truthy("OFF"));
  EXPECT_FALSE(is_truthy("n"));
  EXPECT_TRUE(is_truthy("1"));
}

TEST(Flags, EverythingAfterTheDoubleDashIsTheProgram) {
  const Flags flags = parse({"--benchmark_out=runs/out.json", "--", "sort", "--settle=1s", "-n"});
  EXPECT_EQ(flags.command, (std::vector<std::string>{"sort", "--settle=1s", "-n"}));
  EXPECT_EQ(flags.settle, Nanoseconds(15s)) << "flags after -- belong to the program";
  EXPECT_EQ(flags.command_output, "runs/command-output");
  EXPECT_EQ(parse({"--command-output=discard", "--", "true"}).command_output, "discard");
}

TEST(Flags, RejectsBadValues) {
  for (const std::string bad : {"--sizes=0", "--sizes=", "--settle=fast", "--max-settling=-1", "--timeout=0", "--sizes", "--rounds=0",
                                "--rounds=10", "--latency=maybe", "--sample-every=10us", "--list-configs=xml", "--benchmark_out_format=xml",
                                "--benchmark_out=", "--", "--replay-free-phase=freed", "--replay-free-phase="})
    EXPECT_THROW(parse({bad}), UsageError) << bad;
}

TEST(Flags, ActivitiesAreParsedNamedCanonicallyAndCheckedOnce) {
  EXPECT_EQ(parse({}).activities, (std::vector<std::string>{"batch"}));
  const Flags flags = parse({"--activity=pairs,steady:bytes=8M:replace=10%,batch:count=500", "--activity-period=20ms"});
  EXPECT_EQ(flags.activities,
            (std::vector<std::string>{"pairs:count=1000:size=64", "steady:bytes=8000000:replace=10%", "batch:count=500:size=64"}));
  EXPECT_EQ(flags.activity_period, Nanoseconds(20ms));
  for (const char* bad : {"--activity=idle", "--activity=batch,batch:count=5", "--activity=batch:bytes=5", "--activity=steady:replace=200%",
                          "--activity=pairs:count=0", "--activity=batch:count", "--activity-period=0"})
    EXPECT_THROW(parse({bad}), UsageError) << bad;
  try {
    parse({"--activity=batch:sise=64"});
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("sise"), std::string::npos) << "the message names the unknown parameter: " << e.what();
  }
}

}  // namespace
}  // namespace bench
