// Reading other processes from /proc (benchmarks/driver/process_tree.h): the process table, a tree
// followed across samples, the memory of several processes with shared pages counted once, and the
// ELF check behind "statically linked: not served".
#include "benchmarks/driver/process_tree.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

namespace bench {
namespace {

TEST(ProcessStat, ParsesANameWithSpacesAndParentheses) {
  const std::optional<ProcessEntry> e = parse_process_stat("4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 ...");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->pid, 4242);
  EXPECT_EQ(e->name, "my (odd) name");
  EXPECT_EQ(e->state, 'S');
  EXPECT_EQ(e->parent, 17);
  EXPECT_EQ(e->group, 4242);
  EXPECT_FALSE(parse_process_stat("garbage").has_value());
}

TEST(ProcessTable, ListsThisProcessWithItsParent) {
  const std::vector<ProcessEntry> table = read_process_table();
  bool found = false;
  for (const ProcessEntry& e : table)
    if (e.pid == ::getpid()) {
      found = true;
      EXPECT_EQ(e.parent, ::getppid());
    }
  EXPECT_TRUE(found);
}

ProcessEntry entry(pid_t pid, pid_t parent, pid_t group, const char* name, char state = 'S') {
  return {.pid = pid, .parent = parent, .group = group, .state = state, .name = name};
}

TEST(ProcessStat, ReadsTheTaskFlagsAndTellsAnExitingProcess) {
  // Field 9 is flags; PF_EXITING (0x4) or a zombie's state means its memory is being torn down.
  const std::optional<ProcessEntry> running = parse_process_stat("7 (p) S 1 7 7 0 -1 4194560 0 0");
  ASSERT_TRUE(running.has_value());
  EXPECT_EQ(running->flags, 4194560u);
  EXPECT_FALSE(running->exiting());
  EXPECT_TRUE(parse_process_stat("7 (p) R 1 7 7 0 -1 4194564 0 0")->exiting());
  EXPECT_TRUE(parse_process_stat("7 (p) Z 1 7 7 0 -1 4194560 0 0")->exiting());
  const std::optional<ProcessEntry> self = read_process_entry(::getpid());
  ASSERT_TRUE(self.has_value());
  EXPECT_FALSE(self->exiting());
  EXPECT_FALSE(read_process_entry(-3).has_value());
}

TEST(ProcessTree, IsEveryProcessBelowTheReaperParentsFirst) {
  const pid_t reaper = 1000;
  ProcessTree tree(reaper);
  // reaper -> sh -> server -> worker; a daemon handed to the reaper (setsid, its parent gone); an
  // unrelated process and another row's reaper with its program.
  std::vector<ProcessEntry> table = {entry(2002, 2001, 2000, "worker"),       entry(2000, reaper, 2000, "sh"),
                                     entry(2001, 2000, 2000, "server"),       entry(2003, reaper, 2003, "daemon"),
                                     entry(3000, 1, 3000, "unrelated"),       entry(4000, 1, 4000, "bench"),
                                     entry(4001, 4000, 4001, "other-program")};
  tree.update(table);
  std::vector<pid_t> pids;
  for (const ProcessEntry& e : tree.alive()) pids.push_back(e.pid);
  EXPECT_EQ(pids, (std::vector<pid_t>{2000, 2003, 2001, 2002}));
  // The shell exits: its orphan goes to the reaper, and stays in the row; the reaper is never a member.
  table = {entry(2001, reaper, 2000, "server"), entry(4001, 4000, 4001, "other-program")};
  tree.update(table);
  ASSERT_EQ(tree.alive().size(), 1u);
  EXPECT_EQ(tree.alive()[0].pid, 2001);
  EXPECT_EQ(tree.ever().count(2002), 1u);
  EXPECT_EQ(tree.ever().count(reaper), 0u);
  EXPECT_EQ(tree.ever().count(4001), 0u);
}

TEST(TreeMemory, CountsAPageTwoProcessesShareOnce) {
  // 32 MiB written by this process, then shared copy-on-write with a child that only reads it: the
  // two Rss add up to twice that, the tree holds it once.
  constexpr std::size_t kBytes = 32u << 20;
  auto* block = static_cast<char*>(::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(block, MAP_FAILED);
  std::memset(block, 7, kBytes);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    volatile char sum = 0;
    for (std::size_t i = 0; i < kBytes; i += 4096) sum = static_cast<char>(sum + block[i]);
    [[maybe_unused]] const ssize_t n = ::write(ready[1], "r", 1);
    ::pause();
    ::_exit(0);
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  const TreeMemory alone = read_tree_memory({::getpid()});
  const TreeMemory both = read_tree_memory({::getpid(), child});
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::munmap(block, kBytes);
  EXPECT_STREQ(alone.method, "single");
  EXPECT_EQ(both.processes, 2);
  EXPECT_GT(both.rss_sum, alone.rss + kBytes * 9 / 10);  // each counts the shared block
  if (std::string_view(both.method) == "page frames") {
    // Once: at most what this process holds plus the child's own few pages (a stack, its page tables' worth of private data).
    EXPECT_LT(both.rss, alone.rss + (4u << 20));
    EXPECT_GE(both.rss, alone.rss);
  } else {
    EXPECT_STREQ(both.method, "pss");  // without CAP_SYS_ADMIN the frames are hidden
    EXPECT_LT(both.rss, alone.rss + kBytes / 2);
  }
}

TEST(HighWaterMark, IsAtLeastTheCurrentRss) {
  const std::optional<std::uint64_t> hwm = read_high_water_mark(::getpid());
  ASSERT_TRUE(hwm.has_value());
  EXPECT_GE(*hwm, read_tree_memory({::getpid()}).rss / 2);  // VmHWM counts what statm does; sampled a moment apart
  EXPECT_FALSE(read_high_water_mark(-5).has_value());
}

TEST(Elf, TellsDynamicFromStaticAndNonElf) {
  EXPECT_EQ(elf_is_dynamic("/proc/self/exe"), std::optional<bool>(true));
  const std::string path = ::testing::TempDir() + "not-an-elf";
  std::ofstream(path) << "#!/bin/sh\necho hi\n";
  EXPECT_EQ(elf_is_dynamic(path), std::nullopt);
  EXPECT_EQ(elf_is_dynamic("/nonexistent/file"), std::nullopt);
}

}  // namespace
}  // namespace bench
