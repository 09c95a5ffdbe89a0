// Unit tests of benchmarks/measure/memory.h: RSS from statm, where the bytes are from smaps_rollup,
// and the cgroup v2 reader on a made-up cgroup tree.
#include "benchmarks/measure/memory.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "benchmarks/measure/clock.h"
#include "benchmarks/measure/probe.h"
#include "benchmarks/measure/timeline.h"

namespace bench {
namespace {

TEST(Statm, GrowsWhenPagesAreTouchedAndShrinksWhenUnmapped) {
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

TEST(SmapsRollup, ParsesTheFieldsInBytes) {
  const char text[] =
      "55d1c0a5b000-7ffc8a1f3000 ---p 00000000 00:00 0                          [rollup]\n"
      "Rss:              412348 kB\n"
      "Pss:              400000 kB\n"
      "Private_Dirty:    320100 kB\n"
      "Anonymous:        320050 kB\n"
      "LazyFree:           2048 kB\n"
      "AnonHugePages:     61440 kB\n"
      "Swap:                 12 kB\n";
  const SmapsRollup s = parse_smaps_rollup(text, sizeof text - 1);
  EXPECT_EQ(s.rss, 412348u * 1024);
  EXPECT_EQ(s.private_dirty, 320100u * 1024);
  EXPECT_EQ(s.anonymous, 320050u * 1024);
  EXPECT_EQ(s.lazy_free, 2048u * 1024);
  EXPECT_EQ(s.anon_huge_pages, 61440u * 1024);
  EXPECT_EQ(s.swap, 12u * 1024);
}

TEST(SmapsRollup, SeesAnonymousMemoryOfThisProcessAndAgreesWithStatm) {
  constexpr std::size_t kBytes = 32 << 20;
  void* block = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(block, MAP_FAILED);
  const SmapsRollup before = *read_smaps_rollup();
  std::memset(block, 1, kBytes);
  const SmapsRollup after = *read_smaps_rollup();
  const std::size_t statm = resident_bytes();
  EXPECT_GE(after.anonymous - before.anonymous, kBytes - (1 << 20));
  EXPECT_GE(after.private_dirty - before.private_dirty, kBytes - (1 << 20));
  EXPECT_LT(std::max(after.rss, statm) - std::min(after.rss, statm), 1u << 20);
  ::madvise(block, kBytes, MADV_FREE);
  const SmapsRollup lazy = *read_smaps_rollup();
  EXPECT_GE(lazy.lazy_free, kBytes - (1 << 20)) << "MADV_FREE pages stay resident, counted as LazyFree";
  munmap(block, kBytes);
  EXPECT_FALSE(read_smaps_rollup(999999999)) << "no such process";
}

class CgroupTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / ("bench-cgroup-" + std::to_string(::getpid()));
    std::filesystem::create_directories(root_ / "user.slice" / "job");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string write(const std::string& name, const std::string& text) {
    const auto path = root_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  std::filesystem::path root_;
};

TEST_F(CgroupTree, ReadsMemoryCurrentAndTheAnonAndFileLines) {
  const std::string membership = write("cgroup", "0::/user.slice/job\n");
  write("user.slice/job/memory.current", "123456789\n");
  write("user.slice/job/memory.stat", "anon 100000000\nfile 20000000\nkernel 3000\nanon_thp 0\n");
  const CgroupMemory cgroup = CgroupMemory::find(membership.c_str(), root_.c_str());
  ASSERT_TRUE(cgroup.present()) << cgroup.absence_reason();
  const auto reading = cgroup.read();
  ASSERT_TRUE(reading);
  EXPECT_EQ(reading->current, 123456789u);
  EXPECT_EQ(reading->anon, 100000000u);
  EXPECT_EQ(reading->file, 20000000u);
}

TEST_F(CgroupTree, SaysWhyWhenThereIsNoCgroupV2MemoryAccounting) {
  const std::string v1 = write("cgroup-v1", "12:memory:/user.slice\n11:cpu:/\n0::/\n");
  const CgroupMemory on_v1 = CgroupMemory::find(v1.c_str(), root_.c_str());
  EXPECT_FALSE(on_v1.present());
  EXPECT_NE(on_v1.absence_reason().find("cgroup v1"), std::string::npos);
  EXPECT_FALSE(on_v1.read());
  const std::string no_controller = write("cgroup-v2", "0::/user.slice\n");
  EXPECT_NE(CgroupMemory::find(no_controller.c_str(), root_.c_str()).absence_reason().find("no memory controller"), std::string::npos);
}

// The speed probe maps 32 MiB while it runs (probe.h); the timeline's thread samples RSS meanwhile
// (timeline.h), and no sample may hold the probe's table: it is no one's memory.
TEST(Timeline, NoSampleIsTakenWhileTheProbesTableIsMapped) {
  const int fd = create_probe_file();
  SpeedProbe probe(fd);
  TimelineSampler timeline;
  const std::size_t before = resident_bytes();
  const std::int64_t zero = monotonic_ns();
  timeline.start(zero, zero + 300'000'000);  // samples at once, then every 10th of a decade from 1 ms
  for (int i = 0; i < 3; ++i) probe.run();
  std::size_t most = 0;
  const auto samples = timeline.finish();
  for (const TimelineSampler::Sample& s : samples) most = std::max<std::size_t>(most, s.rss_bytes);
  EXPECT_GE(samples.size(), 2u);  // the first and the end at least (the probe hides those between)
  EXPECT_LT(most, before + (kProbeTableBytes / 2)) << "a sample held the probe's table";
  EXPECT_EQ(probe_epoch() % 2, 0u);
  ::close(fd);
}

}  // namespace
}  // namespace bench
