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
        self.assertGreaterEqual(self.row("mimalloc-decommit0")["return_90pct_s"], 0)
        self.assertLessEqual(self.row("mimalloc-decommit0")["return_90pct_s"], 0.1)


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
    def test_a_finished_threads_arena_keeps_its_memory_unless_arenas_are_capped(self):
        _, data = run_bench("--benchmark_filter=^threads_x4/(glibc-trim|glibc-arena1)/", f"--sizes={N}", "--settle=100ms")
        r = rows(data)
        # Default: each thread's arena keeps its freed nodes after the thread exits; malloc_trim
        # trims only the main arena's top. With one arena, ... measured below.
        self.assertGreaterEqual(r[f"threads_x4/glibc-trim/{N}"]["retained_pct"], 80)
        self.assertEqual(r[f"threads_x4/glibc-arena1/{N}"]["stat_arenas"], 1)


if __name__ == "__main__":
    unittest.main()
