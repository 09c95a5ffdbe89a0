// Unit tests of benchmarks/measure/served_by.h: dladdr finds who serves malloc and operator new, a
// mismatch names both paths, and a proxy library is checked by asking the allocator behind it.
#include "benchmarks/measure/served_by.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include "allocators/glibc.h"
#include "allocators/jemalloc.h"
#include "allocators/tbbmalloc.h"

namespace bench {
namespace {

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

// libtbbmalloc loaded beside glibc (not preloaded): the proxy check must say that glibc's blocks
// are not tbbmalloc's, even though dladdr would name the right objects for a preloaded proxy.
TEST(ServedBy, AProxysAllocatorIsAskedWhoseBlocksTheyAre) {
  if (!tbbmalloc::kLibrary.missing_reason.empty()) GTEST_SKIP() << "tbbmalloc unavailable: " << tbbmalloc::kLibrary.missing_reason;
  ASSERT_NE(tbbmalloc::kLibrary.owns, nullptr);
  void* allocator = ::dlopen("libtbbmalloc.so.2", RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(allocator, nullptr) << ::dlerror();
  void* from_glibc = std::malloc(64);
  EXPECT_FALSE(tbbmalloc::kLibrary.owns(from_glibc));
  auto scalable_malloc = reinterpret_cast<void* (*)(std::size_t)>(::dlsym(allocator, "scalable_malloc"));
  auto scalable_free = reinterpret_cast<void (*)(void*)>(::dlsym(allocator, "scalable_free"));
  ASSERT_NE(scalable_malloc, nullptr);
  void* from_tbb = scalable_malloc(64);
  EXPECT_TRUE(tbbmalloc::kLibrary.owns(from_tbb));
  scalable_free(from_tbb);
  std::free(from_glibc);
  // The served-by check names the failure: dladdr says libc, tbbmalloc expects its proxy.
  EXPECT_NE(check_served_by(tbbmalloc::kLibrary, find_served_by()).find("libtbbmalloc_proxy"), std::string::npos);
}

}  // namespace
}  // namespace bench
