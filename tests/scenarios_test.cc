// Scenario files' headers (benchmarks/driver/scenarios.h) and what a program reports
// (benchmarks/protocol/program_protocol.h).
#include "benchmarks/driver/scenarios.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "benchmarks/driver/units.h"
#include "benchmarks/protocol/program_protocol.h"

namespace bench {
namespace {

std::string write_scenario(const std::string& name, const std::string& text, bool executable = true) {
  const std::string directory = ::testing::TempDir() + "scenarios-" + std::to_string(::getpid());
  std::filesystem::create_directories(directory);
  const std::string path = directory + "/" + name;
  std::ofstream(path) << text;
  ::chmod(path.c_str(), executable ? 0755 : 0644);
  return path;
}

const char* const kGood =
    "#!/usr/bin/python3\n"
    "# Scenario: builds and frees\n"
    "# Needs: /usr/bin/python3 (python3)\n"
    "# Measure: redis-server\n"
    "# Phase base: nothing yet\n"
    "# Phase built: a list\n"
    "# Phase idle (settling): waited\n"
    "# Variant demo-malloc: PYTHONMALLOC=malloc X=1 - every object from malloc\n"
    "import os\n"
    "# Phase ignored: after the header\n";

TEST(ScenarioFile, HeaderGivesPhasesNeedsMeasureAndVariants) {
  const std::vector<Scenario> all = parse_scenario_file(write_scenario("demo.py", kGood));
  ASSERT_EQ(all.size(), 2u);
  const Scenario& s = all[0];
  EXPECT_EQ(s.name, "demo");
  EXPECT_EQ(s.demonstrates, "builds and frees");
  ASSERT_EQ(s.needs.size(), 1u);
  EXPECT_EQ(s.needs[0].program, "/usr/bin/python3");
  EXPECT_EQ(s.needs[0].package, "python3");
  EXPECT_EQ(s.measure, "redis-server");
  ASSERT_EQ(s.phases.size(), 3u);
  EXPECT_EQ(s.phases[2].name, "idle");
  EXPECT_TRUE(s.phases[2].settling);
  EXPECT_EQ(s.timed_phase_count(), 2u);
  const Scenario& v = all[1];
  EXPECT_EQ(v.name, "demo-malloc");
  EXPECT_EQ(v.variant_of, "demo");
  EXPECT_EQ(v.variant_change, "every object from malloc");
  ASSERT_EQ(v.environment.size(), 2u);
  EXPECT_EQ(v.environment[0], (std::pair<std::string, std::string>("PYTHONMALLOC", "malloc")));
  EXPECT_EQ(v.file, s.file);
}

TEST(ScenarioFile, MalformedHeadersAreNamed) {
  auto error_of = [](const std::string& name, const std::string& text, bool executable = true) {
    try {
      parse_scenario_file(write_scenario(name, text, executable));
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of("nophase.py", "#!/bin/sh\n# Scenario: x\n").find("lists no '# Phase"), std::string::npos);
  EXPECT_NE(error_of("nodesc.py", "#!/bin/sh\n# Phase a: x\n").find("no '# Scenario:"), std::string::npos);
  EXPECT_NE(error_of("order.py", "#!/bin/sh\n# Scenario: x\n# Phase a (settling): x\n# Phase b: y\n").find("comes after a settling"),
            std::string::npos);
  EXPECT_NE(error_of("twice.py", "#!/bin/sh\n# Scenario: x\n# Phase a: x\n# Phase a: y\n").find("listed twice"), std::string::npos);
  EXPECT_NE(error_of("needs.py", "#!/bin/sh\n# Scenario: x\n# Needs: python3\n# Phase a: x\n").find("line 3"), std::string::npos);
  EXPECT_NE(error_of("noexec.py", "#!/bin/sh\n# Scenario: x\n# Phase a: x\n", false).find("not executable"), std::string::npos);
  EXPECT_NE(error_of("Bad_Name.py", "#!/bin/sh\n# Scenario: x\n# Phase a: x\n").find("its name"), std::string::npos);
}

TEST(ScenarioFile, AMissingProgramNamesItsPackage) {
  std::vector<Scenario> all =
      parse_scenario_file(write_scenario("needy.sh", "#!/bin/sh\n# Scenario: x\n# Needs: /no/such/redis (redis-server)\n# Phase a: x\n"));
  EXPECT_EQ(missing_need(all[0]),
            "scenario needy needs /no/such/redis, which is not installed (Debian package redis-server: scripts/setup.sh installs it)");
}

TEST(Scenarios, TheBuiltInOnesLoadAndSelect) {
  const std::vector<Scenario> all = load_scenarios(default_scenario_directory());
  ASSERT_GE(all.size(), 7u);
  for (const Scenario& s : all) {
    EXPECT_FALSE(s.phases.empty()) << s.name;
    EXPECT_GE(s.timed_phase_count(), 2u) << s.name;  // a base and what it measures
    EXPECT_EQ(s.phases.front().name, "base") << s.name;
  }
  EXPECT_EQ(select_scenarios("all", default_scenario_directory()).size(), all.size());
  EXPECT_EQ(select_scenarios("redis,perl-hash", default_scenario_directory()).front().measure, "redis-server");
  EXPECT_THROW(select_scenarios("no-such-scenario", default_scenario_directory()), UsageError);
  EXPECT_THROW(select_scenarios("redis,redis", default_scenario_directory()), UsageError);
}

TEST(ProgramReport, PhasesCountersAndErrorsAreParsedBadLinesNamed) {
  ProgramReportReader reader;
  std::vector<ProgramMessage> m = reader.consume("phase built\ncounter bytes redis_used_memory_built 12345\nerror the server did not ", 0);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].kind, ProgramMessage::Kind::phase);
  EXPECT_EQ(m[0].text, "built");
  ASSERT_EQ(m[1].kind, ProgramMessage::Kind::counter);
  EXPECT_EQ(m[1].counter->name, "redis_used_memory_built");
  EXPECT_EQ(m[1].counter->value, 12345);
  EXPECT_EQ(m[1].counter->unit, Unit::bytes);
  m = reader.consume("start\n", 0);  // the rest of the error line
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].kind, ProgramMessage::Kind::error);
  EXPECT_EQ(m[0].text, "the server did not start");
  for (const char* bad :
       {"phase Built\n", "phase\n", "counter parsecs x 1\n", "counter bytes x nan\n", "counter bytes x 1 2\n", "hello\n"}) {
    const std::vector<ProgramMessage> r = reader.consume(bad, 0);
    ASSERT_EQ(r.size(), 1u) << bad;
    EXPECT_EQ(r[0].kind, ProgramMessage::Kind::malformed) << bad;
  }
  EXPECT_TRUE(valid_report_name("rss_after_2"));
  EXPECT_FALSE(valid_report_name("2x"));
}

// Each bound, one message past it: an over_limit message naming the bound, and nothing after.
void expect_over_limit(ProgramReportReader& reader, const std::string& line, std::int64_t now_ns, const char* names) {
  std::vector<ProgramMessage> m = reader.consume(line, now_ns);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].kind, ProgramMessage::Kind::over_limit);
  EXPECT_NE(m[0].text.find(names), std::string::npos) << m[0].text;
  EXPECT_TRUE(reader.consume("phase later\n", now_ns + kProgramMessageWindowNs * 10).empty());
}

TEST(ProgramReport, EveryBoundIsAnErrorNamingIt) {
  const std::int64_t second = kProgramMessageWindowNs;
  {
    ProgramReportReader reader;
    for (std::size_t i = 0; i < kMaxProgramPhases; ++i)
      ASSERT_EQ(reader.consume("phase p" + std::to_string(i) + "\n", static_cast<std::int64_t>(i) * second).size(), 1u);
    expect_over_limit(reader, "phase one_more\n", 100 * second, "phases");
  }
  {
    ProgramReportReader reader;
    for (std::size_t i = 0; i < kMaxProgramCounters; ++i)  // spread out: the rate bound is not what breaks
      ASSERT_EQ(reader.consume("counter count c" + std::to_string(i) + " 1\n", static_cast<std::int64_t>(i) * second).size(), 1u);
    // The same counter again is no new one.
    EXPECT_EQ(reader.consume("counter count c0 2\n", 1000 * second)[0].kind, ProgramMessage::Kind::counter);
    expect_over_limit(reader, "counter count one_more 1\n", 1001 * second, "distinct counters");
  }
  {
    ProgramReportReader reader;
    std::string burst;
    for (std::size_t i = 0; i < kMaxProgramMessagesPerWindow; ++i) burst += "counter count same " + std::to_string(i) + "\n";
    EXPECT_EQ(reader.consume(burst, 0).size(), kMaxProgramMessagesPerWindow);
    // As many again a full window later are fine; one more within that window is not.
    EXPECT_EQ(reader.consume(burst, second).size(), kMaxProgramMessagesPerWindow);
    expect_over_limit(reader, "counter count same 0\n", second + second / 2, "within one second");
  }
  {
    // A line over kMaxLine is an error whether it arrives in pieces or whole in one read.
    const std::string long_line = "counter bytes x " + std::string(kMaxLine, '1') + "\n";
    ProgramReportReader reader;
    std::vector<ProgramMessage> m = reader.consume(long_line, 0);
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].kind, ProgramMessage::Kind::malformed);
    EXPECT_NE(m[0].text.find("longer than 4096 bytes"), std::string::npos) << m[0].text;
    m = reader.consume(long_line.substr(0, kMaxLine + 1), 0);
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].kind, ProgramMessage::Kind::malformed);
    EXPECT_EQ(reader.consume("phase after\n", 0).size(), 1u);  // the stream goes on after it
  }
}

}  // namespace
}  // namespace bench
