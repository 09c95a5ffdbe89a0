// Unit tests of the configuration table (allocators/configurations.cc): the invariants every row
// must keep, so that the description the scripts read is consistent.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "allocators/configuration.h"

namespace bench {
namespace {

TEST(ConfigurationTable, NamesAreUniqueAndSafeForBenchmarkNames) {
  std::set<std::string_view> names;
  for (const Configuration& c : configurations()) {
    EXPECT_TRUE(names.insert(c.name).second) << c.name;
    for (char ch : c.name) EXPECT_TRUE((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-') << c.name;
    EXPECT_FALSE(c.summary.empty()) << c.name;
    EXPECT_EQ(find_configuration(c.name), &c);
  }
  EXPECT_EQ(find_configuration("no-such-configuration"), nullptr);
}

TEST(ConfigurationTable, EveryReferenceExistsAndOnlyGlibcHasNone) {
  for (const Configuration& c : configurations()) {
    if (c.name == "glibc") {
      EXPECT_TRUE(c.reference.empty());
      continue;
    }
    const Configuration* reference = find_configuration(c.reference);
    ASSERT_NE(reference, nullptr) << c.name << " refers to " << c.reference;
    EXPECT_NE(reference, &c);
    // A knob is measured against its own library's defaults.
    if (reference->library != c.library) {
      EXPECT_EQ(c.reference, "glibc") << c.name;
    }
  }
}

TEST(ConfigurationTable, KindMatchesTheContainer) {
  for (const Configuration& c : configurations()) {
    switch (c.kind) {
      case Kind::allocator: EXPECT_EQ(c.container, Container::std_map) << c.name; break;
      case Kind::container_allocator:
        EXPECT_NE(c.container, Container::std_map) << c.name;
        EXPECT_NE(c.container, Container::boost_flat_map) << c.name;
        break;
      case Kind::different_container: EXPECT_EQ(c.container, Container::boost_flat_map) << c.name; break;
    }
    // Container-level configurations keep the process default: their map decides what is kept.
    if (c.is_container_level()) {
      EXPECT_FALSE(c.library->preloaded) << c.name;
    }
  }
}

TEST(ConfigurationTable, ReleaseStepsHaveSomethingToCall) {
  for (const Configuration& c : configurations()) {
    if (!c.release) continue;
    EXPECT_FALSE(c.release->description.empty()) << c.name;
    // A process-level step is a call; a container-level one is done by the container's adapter.
    if (!c.is_container_level()) {
      EXPECT_NE(c.release->process_call, nullptr) << c.name;
    }
  }
}

TEST(ConfigurationTable, PreloadedLibrariesHaveAPathOrSayWhyNot) {
  for (const Configuration& c : configurations()) {
    const MallocLibrary& library = *c.library;
    if (!library.preloaded) continue;
    EXPECT_NE(library.preload_path.empty(), library.missing_reason.empty()) << c.name;
    if (!library.preload_path.empty()) {
      EXPECT_EQ(library.preload_path.front(), '/') << library.preload_path;
    }
  }
}

TEST(ConfigurationTable, HugePageRowsAreMarked) {
  for (const char* name : {"glibc-thp", "jemalloc-thp", "mimalloc-thp", "pool-thp"}) {
    const Configuration* c = find_configuration(name);
    ASSERT_NE(c, nullptr) << name;
    EXPECT_TRUE(c->huge_pages) << name;
  }
  EXPECT_FALSE(find_configuration("pool")->huge_pages);
}

// A row must never carry a setting that did not apply: the child turns a mismatch into an error row.
TEST(SettingMismatch, NamesASettingThatDidNotApplyOrCannotBeReadBack) {
  const Configuration* decay100 = find_configuration("jemalloc-decay100");
  ASSERT_NE(decay100, nullptr);
  const std::vector<ReportedOption> applied = {{"opt_dirty_decay_ms", 100}, {"opt_muzzy_decay_ms", 0}, {"opt_narenas", 8}};
  EXPECT_EQ(setting_mismatch(*decay100, applied), "");
  const std::vector<ReportedOption> ignored = {{"opt_dirty_decay_ms", 10000}, {"opt_muzzy_decay_ms", 0}};
  EXPECT_EQ(setting_mismatch(*decay100, ignored), "the setting did not apply: opt_dirty_decay_ms reads 10000, the configuration sets 100");
  const std::vector<ReportedOption> silent = {{"opt_muzzy_decay_ms", 0}};
  EXPECT_NE(setting_mismatch(*decay100, silent).find("cannot be read back"), std::string::npos);
}

TEST(SettingMismatch, EveryKnobOfALibraryWithReadBackExpectsItsSetting) {
  // Where the library can read its options back, a configuration that sets one must expect it, so
  // that a misspelt environment variable becomes an error row.
  for (const Configuration& c : configurations()) {
    if (c.environment.empty() || c.library->name == "scudo") continue;  // scudo cannot read its options back
    EXPECT_FALSE(c.expected_options.empty()) << c.name << " sets " << c.environment[0].name << " but expects nothing";
  }
}

}  // namespace
}  // namespace bench
