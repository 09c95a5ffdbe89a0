"""The findings that define the suite, reproduced at a small N (ctest label `findings`).

Each assertion is a finding the README states at seed scale, about memory (RSS, page faults, the
timeline), never about time. Configurations are told apart by the run's description, not by name
patterns; one whose library is missing is skipped loudly.
"""
import unittest

from benchrun import available, rows, run_bench

N = 300000


class Retention(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        _, data = run_bench(
            "--benchmark_filter=^map/(glibc|glibc-trim|jemalloc-purge|jemalloc-decay0|mimalloc|mimalloc-decommit0|"
            "tcmalloc|tcmalloc-release|scudo|scudo-release|tbbmalloc|tbbmalloc-clean|pool|pool-thp|glibc-thp|"
            "jemalloc-thp|mimalloc-thp)/",
            f"--sizes={N}",
            "--settle=300ms",
        )
        cls.rows = rows(data)

    def row(self, configuration):
        if configuration not in available():
            self.skipTest(f"{configuration} is unavailable on this machine: {configuration}'s library was not found")
        row = self.rows[f"map/{configuration}/{N}"]
        self.assertFalse(row.get("error_occurred"), row.get("error_message"))
        return row

    def kept(self, configuration):
        return self.row(configuration)["retained_pct"]

    def test_glibc_keeps_at_least_80_percent(self):
        self.assertGreaterEqual(self.kept("glibc"), 80)

    def test_release_knobs_keep_at_most_15_percent(self):
        for configuration in (
            "glibc-trim",
            "jemalloc-purge",
            "jemalloc-decay0",
            "mimalloc-decommit0",
            "scudo-release",
            "tbbmalloc-clean",
        ):
            with self.subTest(configuration=configuration):
                self.assertLessEqual(self.kept(configuration), 15)

    def test_tcmalloc_release_keeps_less_than_tcmalloc(self):
        self.assertLess(self.kept("tcmalloc-release"), self.kept("tcmalloc"))

    def test_scudo_keeps_more_right_after_clear_than_at_peak(self):
        scudo = self.row("scudo")
        self.assertGreater(scudo["rss_cleared"], scudo["rss_peak"])

    def test_pool_gives_everything_back_without_a_call(self):
        for configuration in ("pool", "pool-thp"):
            row = self.row(configuration)
            self.assertEqual(row["release_seconds"], 0)
            self.assertLessEqual(row["rss_final"] - row["rss_base"], 1 << 20)
            self.assertLessEqual(row["rss_peak"] - row["rss_base"], 1.03 * N * 56 + (2 << 20))  # one partly used 2 MiB chunk

    def test_huge_page_configurations_get_huge_pages_and_the_others_none(self):
        for configuration in ("pool-thp", "glibc-thp", "jemalloc-thp", "mimalloc-thp"):
            with self.subTest(configuration=configuration):
                self.assertGreaterEqual(self.row(configuration)["anon_huge_peak"], 2 << 20)
        for configuration in ("pool", "glibc", "mimalloc"):
            with self.subTest(configuration=configuration):
                self.assertEqual(self.row(configuration)["anon_huge_peak"], 0)

    def test_when_memory_comes_back(self):
        self.assertEqual(self.row("glibc")["return_90pct_s"], -1, "glibc never returns it while idle")
        # Times count from the end of clear(); the first sample follows the probe walk (about 0.1 s):
        # back by then is back "at once".
        self.assertGreaterEqual(self.row("mimalloc-decommit0")["return_90pct_s"], 0)
        self.assertLessEqual(self.row("mimalloc-decommit0")["return_90pct_s"], 0.5)


class TheNextRoundPays(unittest.TestCase):
    """cycle: memory a knob gave back faults in again in the next round; memory kept is reused."""

    @classmethod
    def setUpClass(cls):
        _, data = run_bench(
            "--benchmark_filter=^cycle/(glibc|glibc-trim|jemalloc|jemalloc-decay0)/",
            f"--sizes={N}",
            "--settle=0",
            "--rounds=3",
            "--pause=100ms",
        )
        cls.rows = rows(data)

    def row(self, configuration):
        if configuration not in available():
            self.skipTest(f"{configuration} is unavailable on this machine")
        return self.rows[f"cycle/{configuration}/{N}"]

    def test_glibc_trims_round_2_faults_exceed_glibcs(self):
        glibc, trim = self.row("glibc"), self.row("glibc-trim")
        pages = N * 64 / 4096
        for k in (2, 3):
            self.assertLess(glibc[f"round{k}_minflt"], 0.1 * pages, "glibc reuses what it kept")
            self.assertGreater(trim[f"round{k}_minflt"], 0.8 * pages, "glibc-trim faults the map in again")
            self.assertLess(trim[f"round{k}_rss_after"] - trim["rss_base"], 0.1 * N * 64)
        self.assertGreater(glibc["round1_minflt"], 0.8 * pages, "round 1 faults for both")

    def test_jemalloc_decay0_pays_again_too(self):
        jemalloc, decay0 = self.row("jemalloc"), self.row("jemalloc-decay0")
        self.assertGreater(decay0["round2_minflt"], 10 * max(jemalloc["round2_minflt"], 1))


class ThreadArenas(unittest.TestCase):
    def test_a_finished_threads_arena_keeps_its_memory_capped_or_not(self):
        # results/threads-1M-v2: a finished thread's glibc arena is never destroyed; malloc_trim trims
        # only the main arena's top; one arena for every thread keeps the same memory.
        _, data = run_bench("--benchmark_filter=^threads_x4/(glibc-trim|glibc-arena1)/", f"--sizes={N}", "--settle=100ms")
        r = rows(data)
        trim, capped = r[f"threads_x4/glibc-trim/{N}"], r[f"threads_x4/glibc-arena1/{N}"]
        self.assertGreater(trim["stat_arenas"], 1, "threads got arenas of their own")
        self.assertGreaterEqual(trim["retained_pct"], 80)
        self.assertEqual(capped["stat_arenas"], 1)
        self.assertGreaterEqual(capped["retained_pct"], 80, "one arena for all threads keeps the memory too")


class BigNodes(unittest.TestCase):
    def test_glibc_returns_1072_byte_nodes_at_free(self):
        # A 1,072-byte node's chunk (1,088 B) is above tcache's largest (1,032 B requests) and the
        # fastbins': every free() coalesces, the cleared map melts into the top chunk, free() trims it.
        _, data = run_bench("--benchmark_filter=^map_value(64|1024)/glibc/", "--sizes=100000", "--settle=100ms")
        r = rows(data)
        self.assertLessEqual(r["map_value1024/glibc/100000"]["retained_pct"], 5)
        self.assertGreaterEqual(r["map_value64/glibc/100000"]["retained_pct"], 80, "small nodes stay in tcache and fastbins")


class BusyProcesses(unittest.TestCase):
    """map_active under two activity patterns: what jemalloc at its defaults gives back while the process
    keeps allocating depends on whether the activity reaches its arenas (results/busy-1M)."""

    @classmethod
    def setUpClass(cls):
        if "jemalloc" not in available():
            raise unittest.SkipTest("jemalloc is unavailable on this machine")
        # dirty_decay_ms is 10 s at jemalloc's defaults: the settle period must outlast it.
        _, data = run_bench(
            "--benchmark_filter=^map_active:(pairs|batch)/jemalloc(-decay100)?/",
            "--activity=pairs,batch",
            f"--sizes={N}",
            "--settle=12s",
        )
        cls.rows = rows(data)

    def test_pairs_never_reach_jemallocs_arena(self):
        row = self.rows[f"map_active:pairs/jemalloc/{N}"]
        self.assertEqual(row["return_90pct_s"], -1, "the thread cache serves every pair: decay never advances")
        self.assertGreaterEqual(row["retained_pct"], 80)

    def test_batches_let_jemalloc_decay(self):
        row = self.rows[f"map_active:batch/jemalloc/{N}"]
        self.assertGreater(row["return_90pct_s"], 0)
        self.assertLessEqual(row["retained_pct"], 15)
        self.assertGreater(row["activity_ops"], 0)

    def test_a_shorter_decay_returns_sooner(self):
        fast, default = self.rows[f"map_active:batch/jemalloc-decay100/{N}"], self.rows[f"map_active:batch/jemalloc/{N}"]
        self.assertGreaterEqual(fast["return_90pct_s"], 0)
        self.assertLess(fast["return_90pct_s"], default["return_90pct_s"])
        self.assertEqual(fast["opt_dirty_decay_ms"], 100)


if __name__ == "__main__":
    unittest.main()
