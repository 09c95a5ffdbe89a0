// Unit tests of benchmarks/protocol/child_protocol.h: what the child writes, the parent reads back
// exactly, and the child's arguments survive their encoding.
#include "benchmarks/protocol/child_protocol.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <string>

namespace bench {
namespace {

using namespace std::chrono_literals;

// Everything `write` writes through a ChildReport, read back by a ChildReportReader in small pieces.
template <class Write>
ChildMessages round_trip(Write write, std::size_t piece = 7) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  {
    ChildReport report(fds[1]);
    write(report);
  }
  ::close(fds[1]);
  ChildReportReader reader;
  char buffer[64];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, std::min(piece, sizeof buffer))) > 0)
    reader.consume(std::string_view(buffer, static_cast<std::size_t>(n)));
  ::close(fds[0]);
  return reader.messages();
}

TEST(ChildProtocol, EveryVerbRoundTrips) {
  const ChildMessages m = round_trip([](ChildReport& r) {
    r.ready(1234567890123);
    r.label("malloc=/lib/libc.so.6 new=/lib/libstdc++.so version=glibc 2.36");
    r.counter("insert_rate", 123456.789, Unit::items_per_second);
    r.counter("rss_peak", 3.0e8, Unit::bytes);
    r.time(1.25);
    r.settling();
    r.sample(0.0012589254117941673, 412345678);
    r.sample(15.0, 412349999);
    r.done();
  });
  ASSERT_TRUE(m.ready_ns);
  EXPECT_EQ(*m.ready_ns, 1234567890123);
  EXPECT_EQ(m.label, "malloc=/lib/libc.so.6 new=/lib/libstdc++.so version=glibc 2.36");
  ASSERT_EQ(m.counters.size(), 2u);
  EXPECT_EQ(m.counters[0].name, "insert_rate");
  EXPECT_EQ(m.counters[0].value, 123456.789) << "17 significant digits: exact";
  EXPECT_EQ(m.counters[0].unit, Unit::items_per_second);
  EXPECT_EQ(m.counters[1].unit, Unit::bytes);
  EXPECT_EQ(m.time, 1.25);
  EXPECT_TRUE(m.settling);
  ASSERT_EQ(m.samples.size(), 2u);
  EXPECT_EQ(m.samples[0].seconds, 0.0012589254117941673);
  EXPECT_EQ(m.samples[1].rss_bytes, 412349999);
  EXPECT_TRUE(m.done);
  EXPECT_TRUE(m.malformed.empty());
}

TEST(ChildProtocol, ErrorsStayOnOneLine) {
  const ChildMessages m = round_trip([](ChildReport& r) { r.error("first line\nsecond line"); });
  EXPECT_EQ(m.error, "first line second line");
  EXPECT_FALSE(m.done);
}

TEST(ChildProtocol, UnitsHaveWordsBothWays) {
  for (Unit unit :
       {Unit::bytes, Unit::seconds, Unit::items_per_second, Unit::count, Unit::percent, Unit::nanoseconds, Unit::megabyte_seconds})
    EXPECT_EQ(unit_from_name(unit_name(unit)), unit);
  EXPECT_FALSE(unit_from_name("furlongs"));
}

TEST(ChildProtocol, LinesThatBreakTheContractAreKept) {
  ChildReportReader reader;
  reader.consume("counter bytes\ncounter parsecs x 1\nsample 1\nwhatever\ncounter count ok 2\n");
  EXPECT_EQ(reader.messages().malformed.size(), 4u);
  ASSERT_EQ(reader.messages().counters.size(), 1u);
  EXPECT_EQ(reader.messages().counters[0].name, "ok");
}

TEST(ChildArguments, EncodeDecodeRoundTrip) {
  const ChildArguments in{.workload = "cycle",
                          .configuration = "jemalloc-decay0",
                          .size = 5'000'000,
                          .settle = 15s,
                          .rounds = 3,
                          .pause = 1500ms,
                          .time_operations = false,
                          .activity = "steady:bytes=4194304:replace=5%",
                          .activity_period = 20ms};
  std::vector<std::string> encoded = {"bench"};
  for (const std::string& a : in.encode()) encoded.push_back(a);
  std::vector<char*> argv;
  for (auto& a : encoded) argv.push_back(a.data());
  ASSERT_TRUE(is_child_invocation(static_cast<int>(argv.size()), argv.data()));
  EXPECT_EQ(std::string(argv[3]), "jemalloc-decay0") << "the configuration is argv[3]: tests and ps find it there";
  const ChildArguments out = ChildArguments::decode(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(out.workload, in.workload);
  EXPECT_EQ(out.activity, in.activity);
  EXPECT_EQ(out.activity_period, in.activity_period);
  EXPECT_EQ(out.configuration, in.configuration);
  EXPECT_EQ(out.size, in.size);
  EXPECT_EQ(out.settle, in.settle);
  EXPECT_EQ(out.rounds, in.rounds);
  EXPECT_EQ(out.pause, in.pause);
  EXPECT_EQ(out.time_operations, in.time_operations);
}

TEST(ChildArguments, MissingOrMalformedArgumentsAreErrors) {
  std::vector<std::string> args = {"bench", "--child", "map", "glibc", "--size=12x", "--settle-ns=0"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  EXPECT_THROW(ChildArguments::decode(static_cast<int>(argv.size()), argv.data()), std::runtime_error);
  EXPECT_THROW(ChildArguments::decode(4, argv.data()), std::runtime_error);
}

}  // namespace
}  // namespace bench
