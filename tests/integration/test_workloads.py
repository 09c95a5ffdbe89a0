"""Integration tests of the workloads beyond `map`: each run end to end by ./bench at a small N.

Run by ctest with BENCH_BINARY set (tests/workloads.cmake). One ./bench run covers every workload
under glibc, glibc-trim and jemalloc (plus pool and boost-flat-map where the workload takes a
container) and the thread workloads under every process-level configuration; each test then checks a
workload's defining observation. Thresholds are findings, never timings.
"""
import os
import subprocess
import unittest

from benchlib import gbjson
from benchrun import BENCH, RETENTION, available, rows, run_bench

N = 100000
PROCESS_ONLY = ["malloc_free", "lazy", "threads", "threads_x4", "threads_handoff", "unordered_map"]
WITH_CONTAINERS = [
    "map",
    "map_active",
    "cycle",
    "fragment",
    "fragment_random",
    "churn",
    "map_value64",
    "map_value256",
    "map_value1024",
]
THREADS = ["threads", "threads_x4", "threads_handoff"]


def available_configurations():
    """{name: "process" or "container"} for every available configuration (./bench --list-configs=json)."""
    return {name: "container" if c["container_level"] else "process" for name, c in available().items()}


def growth(row):
    return row["rss_peak"] - row["rss_base"]


class Listing(unittest.TestCase):
    def test_every_workload_is_listed_where_it_applies(self):
        out = subprocess.run(
            [BENCH, "--benchmark_list_tests", "--sizes=1000"], capture_output=True, text=True, check=True
        ).stdout.split()
        by_workload = {}
        for name in out:
            self.assertRegex(name, r"^[a-z0-9_]+(:[a-z]+)?/[a-z0-9-]+/\d+$")
            workload, configuration, _ = name.split("/")
            by_workload.setdefault(workload.split(":")[0], set()).add(configuration)  # map_active:batch is map_active
        self.assertEqual(set(by_workload), set(PROCESS_ONLY + WITH_CONTAINERS))
        for workload in PROCESS_ONLY:
            self.assertIn("jemalloc", by_workload[workload])
            self.assertNotIn("pool", by_workload[workload], "process-level configurations only")
        for workload in WITH_CONTAINERS:
            self.assertTrue({"glibc", "jemalloc", "pool", "boost-flat-map", "pmr-pool"} <= by_workload[workload], workload)

    def test_scaling_sizes(self):
        out = subprocess.run(
            [BENCH, "--benchmark_list_tests", "--sizes=scaling", "--benchmark_filter=^lazy/glibc/"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        self.assertEqual(out, [f"lazy/glibc/{n}" for n in (10000, 30000, 100000, 300000, 1000000, 3000000, 5000000)])


class Workloads(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.available = available_configurations()
        workloads = "|".join(w for w in PROCESS_ONLY + WITH_CONTAINERS if w not in THREADS and w not in ("map_active", "cycle"))
        threads = "|".join(THREADS)
        cls.proc, data = run_bench(
            f"--benchmark_filter=^(({workloads})/(glibc|glibc-trim|jemalloc|pool|boost-flat-map)|({threads})/[a-z0-9-]+)/",
            f"--sizes={N}",
            "--settle=100ms",
        )
        cls.rows = rows(data)

    def row(self, workload, configuration):
        name = f"{workload}/{configuration}/{N}"
        if configuration not in self.available:
            self.skipTest(f"{configuration} is unavailable")
        self.assertIn(name, self.rows)
        return self.rows[name]

    def test_every_row_is_verified_and_has_the_retention_counters(self):
        self.assertGreaterEqual(len(self.rows), 100)
        for name, row in self.rows.items():
            configuration = name.split("/")[1]
            if configuration not in self.available:
                continue
            self.assertFalse(row.get("error_occurred"), f"{name}: {row.get('error_message')}")
            path = available()[configuration]["library_path"]
            if path:
                self.assertEqual(gbjson.parse_label(row["label"]).malloc_library, path, name)
            else:
                self.assertRegex(gbjson.parse_label(row["label"]).malloc_library, r"/libc\.so", name)
            for counter in RETENTION:
                self.assertIn(counter, row, f"{name} lacks {counter}")
            # 56-byte nodes or more; flat_map's 24-byte elements sit in one vector.
            self.assertGreater(growth(row), N * (20 if configuration == "boost-flat-map" else 40), name)
            self.assertAlmostEqual(
                row["retained_pct"], 100 * (row["rss_final"] - row["rss_base"]) / growth(row), places=6, msg=name
            )

    def test_malloc_free_glibc_keeps_the_blocks_and_trim_returns_them(self):
        glibc, trim = self.row("malloc_free", "glibc"), self.row("malloc_free", "glibc-trim")
        for row in (glibc, trim):
            self.assertGreater(row["malloc_rate"], 0)
            self.assertGreater(row["free_rate"], 0)
            self.assertGreater(growth(row), N * 48, "56-byte blocks, each written")
        self.assertGreaterEqual(glibc["retained_pct"], 80)
        self.assertLessEqual(trim["retained_pct"], 15)
        self.assertGreaterEqual(self.row("malloc_free", "jemalloc")["retained_pct"], 80)

    def test_lazy_untouched_memory_costs_address_space_not_rss(self):
        for configuration in ("glibc", "jemalloc"):
            row = self.row("lazy", configuration)
            size = row["vsize_requested"]
            self.assertGreaterEqual(size, 64 << 20)
            self.assertLess(row["rss_after_malloc"] - row["rss_base"], 0.05 * size, configuration)
            self.assertGreaterEqual(row["vsize_after_malloc"] - row["vsize_base"], size, configuration)
            self.assertGreaterEqual(row["rss_peak"] - row["rss_base"], 0.95 * size, "touching every page makes it resident")
            self.assertGreater(row["touch_rate"], 0)
        glibc = self.row("lazy", "glibc")
        # glibc served the block with a mapping of its own: free() unmaps it, RSS and vsize fall at once.
        self.assertLess(glibc["rss_cleared"] - glibc["rss_base"], 0.05 * glibc["vsize_requested"])
        self.assertLess(glibc["vsize_cleared"], glibc["vsize_peak"] - 0.95 * glibc["vsize_requested"])

    def test_fragment_pages_with_a_live_node_stay_resident(self):
        for configuration in ("glibc", "glibc-trim", "jemalloc", "pool"):
            row = self.row("fragment", configuration)
            self.assertEqual(row["live_entries"], (N + 63) // 64)
            self.assertEqual(row["rss_after_erase"], row["rss_cleared"])
            self.assertGreater(row["erase_rate"], 0)
            self.assertGreaterEqual(row["retained_pct"], 80, f"{configuration}: one live node in every page")
        # flat_map compacts its vector on erase and shrink_to_fit hands the surplus back.
        self.assertLessEqual(self.row("fragment", "boost-flat-map")["retained_pct"], 15)

    def test_fragment_random_lets_trim_return_the_pages_that_emptied(self):
        stride, random = self.row("fragment", "glibc-trim"), self.row("fragment_random", "glibc-trim")
        self.assertLess(abs(random["live_entries"] - N / 64), N / 64 * 0.2)
        # (63/64)^64: about a third of the pages lose every node when survivors fall at random.
        self.assertLess(random["retained_pct"], stride["retained_pct"] - 15)
        self.assertGreaterEqual(self.row("fragment_random", "pool")["retained_pct"], 80)

    def test_churn_reuses_what_the_previous_round_freed(self):
        for configuration in ("glibc", "jemalloc", "pool", "boost-flat-map"):
            row = self.row("churn", configuration)
            base, first = row["rss_base"], row["rss_peak_round1"] - row["rss_base"]
            for i in range(1, 6):
                self.assertIn(f"rss_cleared_round{i}", row)
                self.assertLessEqual(row[f"rss_peak_round{i}"] - base, 1.1 * first, f"{configuration} round {i}")
            self.assertEqual(row["rss_peak"], row["rss_peak_round5"])
            self.assertEqual(row["rss_cleared"], row["rss_cleared_round5"])
        pool = self.row("churn", "pool")
        for i in range(1, 6):  # the pool unmaps every chunk at each clear
            self.assertLess(pool[f"rss_cleared_round{i}"] - pool["rss_base"], 0.1 * (pool["rss_peak_round1"] - pool["rss_base"]))

    def test_threads_run_under_every_process_level_configuration(self):
        cores = len(os.sched_getaffinity(0))
        expected_threads = {"threads": cores, "threads_x4": 4 * cores, "threads_handoff": 2}
        process_level = [name for name, kind in self.available.items() if kind == "process"]
        self.assertGreaterEqual(len(process_level), 5)
        for workload, count in expected_threads.items():
            for configuration in process_level:
                row = self.row(workload, configuration)
                self.assertEqual(row["thread_count"], count, f"{workload}/{configuration}")
                for counter in ("insert_rate", "lookup_rate", "clear_rate", "rss_cleared_threads_alive"):
                    self.assertGreater(row[counter], 0, f"{workload}/{configuration} {counter}")
            self.assertNotIn(f"{workload}/pool/{N}", self.rows)
        # malloc_trim shrinks only the main arena's top (malloc.c, mtrim): thread arenas keep theirs.
        self.assertGreaterEqual(self.row("threads", "glibc-trim")["retained_pct"], 80)
        # Without tcache and fastbins, with trim threshold 0, each thread arena's heap shrinks on free.
        self.assertLessEqual(self.row("threads", "glibc-tuned")["retained_pct"], 15)

    def test_threads_exit_before_the_settle_period_and_glibc_arenas_stay(self):
        for configuration in ("glibc", "glibc-arena1", "glibc-arena2"):
            row = self.row("threads_x4", configuration)
            self.assertEqual(row["rss_after_thread_exit"], row["rss_cleared"])
            self.assertIn("rss_cleared_threads_alive", row)
        # One arena per thread that found the others busy, never destroyed; arena_max caps them.
        self.assertEqual(self.row("threads_x4", "glibc-arena1")["stat_arenas"], 1)
        self.assertLessEqual(self.row("threads_x4", "glibc-arena2")["stat_arenas"], 2)
        self.assertGreater(self.row("threads_x4", "glibc")["stat_arenas"], 2)

    def test_unordered_map_returns_its_bucket_array_under_glibc(self):
        for configuration in ("glibc", "jemalloc"):
            row = self.row("unordered_map", configuration)
            self.assertGreaterEqual(row["stat_bucket_bytes"], N * 8)
            self.assertGreater(row["lookup_rate"], 0)
        glibc = self.row("unordered_map", "glibc")
        # The array is a mapping of its own, unmapped by free(); the 48-byte nodes stay.
        self.assertGreaterEqual(glibc["rss_peak"] - glibc["rss_cleared"], 0.5 * glibc["stat_bucket_bytes"])
        self.assertGreaterEqual(glibc["retained_pct"], 50)

    def test_value_sweep_growth_per_entry_follows_the_value_size(self):
        for configuration in ("glibc", "jemalloc", "pool"):
            per_entry = [growth(self.row(w, configuration)) / N for w in ("map", "map_value64", "map_value256", "map_value1024")]
            self.assertEqual(per_entry, sorted(per_entry), configuration)
            for value, measured in zip((8, 64, 256, 1024), per_entry):
                self.assertGreaterEqual(measured, 0.9 * (48 + value), f"{configuration}: {value}-byte values")


if __name__ == "__main__":
    unittest.main()
