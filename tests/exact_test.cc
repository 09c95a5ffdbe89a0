// Reading callgrind's dumps back (benchmarks/driver/exact.h): one phase per dump, named by the
// client request that made it, events in the order the file gives, trailing zeros left out.
#include "benchmarks/driver/exact.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace bench {
namespace {

std::map<std::string, double> by_name(const std::vector<CounterValue>& counters) {
  std::map<std::string, double> out;
  for (const CounterValue& c : counters) out[c.name] = c.value;
  return out;
}

TEST(CallgrindDumps, EachPhaseDumpBecomesItsCounters) {
  const std::string directory = ::testing::TempDir() + "dumps-" + std::to_string(::getpid());
  std::filesystem::create_directories(directory);
  std::ofstream(directory + "/callgrind.out")
      << "desc: Trigger: Program termination\nevents: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\nsummary: 0\n";
  std::ofstream(directory + "/callgrind.out.1")
      << "desc: Trigger: Client Request: insert\nevents: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\nsummary: 1000 300 200 4 30 20 2 5\n";
  std::ofstream(directory + "/callgrind.out.2")
      << "desc: Trigger: Client Request: round2_release\nevents: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\nsummary: 11 0 7 1\n";
  std::string problem;
  const std::map<std::string, double> c = by_name(read_callgrind_dumps(directory, &problem));
  EXPECT_EQ(problem, "");
  EXPECT_EQ(c.at("insert_instructions"), 1000);
  EXPECT_EQ(c.at("insert_data_reads"), 300);
  EXPECT_EQ(c.at("insert_data_writes"), 200);
  EXPECT_EQ(c.at("insert_i1_misses"), 4);
  EXPECT_EQ(c.at("insert_d1_misses"), 50);
  EXPECT_EQ(c.at("insert_ll_misses"), 7);  // DLmw left out: 0
  EXPECT_EQ(c.at("insert_cycles_estimate"), 1000 + 10 * 54 + 100 * 7);
  EXPECT_EQ(c.at("round2_release_d1_misses"), 0);
  EXPECT_EQ(c.count("termination_instructions"), 0u);  // the program's end is no phase
  EXPECT_TRUE(is_exact_counter("round2_release_cycles_estimate"));
  EXPECT_FALSE(is_exact_counter("insert_seconds"));

  std::ofstream(directory + "/callgrind.out.3") << "desc: Trigger: Client Request: lookup\nevents: Ir\nsummary: 5\n";
  read_callgrind_dumps(directory, &problem);
  EXPECT_NE(problem.find("no cache events"), std::string::npos);
}

}  // namespace
}  // namespace bench
