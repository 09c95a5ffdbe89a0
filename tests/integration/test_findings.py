"""The findings that define the suite, reproduced at a small N (ctest label `findings`).

One run of the map workload across the configurations named below; each assertion is a finding the
README states at seed scale. They are about retention (RSS), never about time.
"""
import os
import unittest

from test_bench import available_configurations, rows, run_bench

N = 300000


class Findings(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.available = set(available_configurations())
        _, data = run_bench("--benchmark_filter=^map/(glibc|glibc-trim|jemalloc-purge|jemalloc-decay0|"
                            "mimalloc-decommit0|tcmalloc|tcmalloc-release|pool)/", f"--sizes={N}", "--settle=200ms")
        cls.rows = rows(data)

    def kept(self, configuration):
        if configuration not in self.available:
            self.skipTest(f"{configuration} is unavailable on this machine")
        row = self.rows[f"map/{configuration}/{N}"]
        self.assertFalse(row.get("error_occurred"), row.get("error_message"))
        return row["retained_pct"]

    def test_glibc_keeps_at_least_80_percent(self):
        self.assertGreaterEqual(self.kept("glibc"), 80)

    def test_release_knobs_keep_at_most_15_percent(self):
        for configuration in ("glibc-trim", "jemalloc-purge", "jemalloc-decay0", "mimalloc-decommit0"):
            with self.subTest(configuration=configuration):
                self.assertLessEqual(self.kept(configuration), 15)

    def test_tcmalloc_release_keeps_less_than_tcmalloc(self):
        self.assertLess(self.kept("tcmalloc-release"), self.kept("tcmalloc"))

    def test_pool_gives_everything_back_without_a_call(self):
        row = self.rows[f"map/pool/{N}"]
        self.assertEqual(row["release_seconds"], 0)
        self.assertLessEqual(row["rss_final"] - row["rss_base"], 1 << 20)
        self.assertLessEqual(row["rss_peak"] - row["rss_base"], 1.03 * N * 56 + (2 << 20))  # one partly used 2 MiB chunk


if __name__ == "__main__":
    unittest.main()
