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

}  // namespace
}  // namespace bench
