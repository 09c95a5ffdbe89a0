// Unit tests of benchmarks/driver/instances.h: which instances exist, which the filter selects, and
// the order their children run in.
#include "benchmarks/driver/instances.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace bench {
namespace {

Flags flags_with_sizes(std::vector<std::uint64_t> sizes) {
  Flags flags;
  flags.sizes = std::move(sizes);
  return flags;
}

TEST(Instances, EveryWorkloadOnTheConfigurationsItAppliesTo) {
  const auto all = all_instances(flags_with_sizes({1000}));
  auto has = [&](const std::string& name) {
    return std::any_of(all.begin(), all.end(), [&](const InstanceSpec& s) { return s.name == name; });
  };
  EXPECT_TRUE(has("map/glibc/1000"));
  EXPECT_TRUE(has("map/pool/1000"));
  EXPECT_TRUE(has("cycle/jemalloc-decay0/1000"));
  EXPECT_TRUE(has("map_active:batch/jemalloc/1000")) << "an active settle runs the default busy pattern";
  EXPECT_FALSE(has("map_active/jemalloc/1000"));
  EXPECT_TRUE(has("threads/glibc-arena1/1000"));
  EXPECT_FALSE(has("threads/pool/1000")) << "threads calls malloc itself: process-level configurations only";
}

TEST(Instances, AnActiveWorkloadRunsOncePerActivityAndCarriesItsSpec) {
  Flags flags = flags_with_sizes({1000});
  flags.activities = {"pairs:count=1000:size=64", "steady:bytes=4194304:replace=5%"};
  const auto all = all_instances(flags);
  auto find = [&](const std::string& name) {
    const auto it = std::find_if(all.begin(), all.end(), [&](const InstanceSpec& s) { return s.name == name; });
    return it == all.end() ? nullptr : &*it;
  };
  ASSERT_NE(find("map_active:pairs/glibc/1000"), nullptr);
  ASSERT_NE(find("map_active:steady/glibc/1000"), nullptr);
  EXPECT_EQ(find("map_active:batch/glibc/1000"), nullptr);
  EXPECT_EQ(find("map_active:steady/glibc/1000")->activity, "steady:bytes=4194304:replace=5%");
  EXPECT_EQ(find("map/glibc/1000")->activity, "") << "an idle settle has no activity";
}

TEST(Instances, AProgramRunsUnderTheConfigurationsThatNeedNoCallInside) {
  Flags flags;
  flags.command = {"true"};
  const auto all = all_instances(flags);
  for (const InstanceSpec& spec : all) {
    EXPECT_TRUE(spec.command);
    EXPECT_EQ(spec.name, "command/" + std::string(spec.configuration->name));
    EXPECT_EQ(command_skip_reason(*spec.configuration), "");
  }
  EXPECT_NE(command_skip_reason(*find_configuration("glibc-trim")).find("release step"), std::string::npos);
  EXPECT_NE(command_skip_reason(*find_configuration("pool")).find("container-level"), std::string::npos);
  EXPECT_NE(command_skip_reason(*find_configuration("glibc-seed-opt1")).find("mallopt"), std::string::npos);
  EXPECT_EQ(command_skip_reason(*find_configuration("jemalloc-decay0")), "");
}

TEST(Instances, FilterFollowsGoogleBenchmarksRulesOnTheSuitesNames) {
  const auto all = all_instances(flags_with_sizes({1000, 2000}));
  const auto exact = select_instances(all, "^map/glibc/1000$");
  ASSERT_EQ(exact.size(), 1u);
  EXPECT_EQ(exact[0].name, "map/glibc/1000");
  const auto negated = select_instances(all, "-/1000$");
  EXPECT_TRUE(std::all_of(negated.begin(), negated.end(), [](const InstanceSpec& s) { return s.size == 2000; }));
  EXPECT_EQ(select_instances(all, "").size(), all.size());
  EXPECT_EQ(select_instances(all, "all").size(), all.size());
  EXPECT_THROW(select_instances(all, "^nomatch/"), UsageError);
  EXPECT_THROW(select_instances(all, "map/(glibc"), UsageError);
}

TEST(Instances, RepetitionsAreInterleavedRoundByRound) {
  const auto selected = select_instances(all_instances(flags_with_sizes({1000})), "^map/(glibc|jemalloc|pool)/");
  const auto order = measurement_order(selected, 3, /*random=*/false, 0);
  ASSERT_EQ(order.size(), 9u);
  for (std::size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], &selected[i % 3]) << "round " << i / 3;
}

TEST(Instances, RandomInterleavingShufflesButKeepsEveryRepetition) {
  const auto selected = select_instances(all_instances(flags_with_sizes({1000})), "^map/");
  const auto ordered = measurement_order(selected, 4, false, 0);
  const auto shuffled = measurement_order(selected, 4, true, 42);
  EXPECT_NE(ordered, shuffled);
  std::map<const InstanceSpec*, int> counts;
  for (const InstanceSpec* spec : shuffled) ++counts[spec];
  EXPECT_EQ(counts.size(), selected.size());
  for (const auto& [spec, count] : counts) EXPECT_EQ(count, 4) << spec->name;
  EXPECT_EQ(shuffled, measurement_order(selected, 4, true, 42)) << "the seed fixes the order";
}

}  // namespace
}  // namespace bench
