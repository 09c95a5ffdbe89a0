"""Integration tests: ./bench run end to end, its JSON and description checked.

Run by ctest (tests/CMakeLists.txt). Each test class runs the binary once and checks what a user
would rely on. Sizes are small; thresholds are the suite's defining facts, never timings.
"""
import json
import os
import subprocess
import tempfile
import unittest

from benchlib import gbjson, summary
from benchrun import BENCH, INDEPENDENT, RETENTION, available, configurations, repetitions, rows, run_bench

PHASES = ("insert", "lookup", "clear")


class ListingAndNaming(unittest.TestCase):
    def test_list_tests_names_every_configuration(self):
        out = subprocess.run(
            [BENCH, "--benchmark_list_tests", "--sizes=1000,2000"], capture_output=True, text=True, check=True
        ).stdout.split()
        self.assertIn("map/glibc/1000", out)
        self.assertIn("cycle/jemalloc-decay0/2000", out)
        self.assertIn("map_active:batch/scudo/1000", out, "an active settle is named by its activity pattern")
        for name in out:
            self.assertRegex(name, r"^[a-z_0-9]+(:[a-z]+)?/[a-z0-9-]+/\d+$")

    def test_list_configs_json_verifies_each_available_library(self):
        listing = configurations()
        self.assertGreaterEqual(len(listing), 30)
        for name, c in listing.items():
            self.assertIn(c["kind"], ("allocator", "container allocator", "different container"))
            if not c["available"]:
                self.assertTrue(c["unavailable_reason"], name)
                continue
            self.assertTrue(c["verified"], f"{name}: {c.get('error')}")
            served = gbjson.parse_label(c["served_by"])
            if c["library_path"]:
                self.assertEqual(served.malloc_library, c["library_path"], name)
                self.assertEqual(served.new_library, c["library_path"], name)
            else:
                self.assertRegex(served.malloc_library, r"/libc\.so", name)
        self.assertEqual(listing["tbbmalloc"]["library"], "tbbmalloc")
        self.assertRegex(listing["scudo"]["library_path"], r"libclang_rt\.scudo_standalone")

    def test_text_listing_names_kind_and_reference(self):
        out = subprocess.run([BENCH, "--list-configs"], capture_output=True, text=True).stdout
        self.assertRegex(
            out, r"(?m)^jemalloc-decay0  process-level  available\n .*\n    kind: +allocator, compared with jemalloc"
        )


class MapAcrossTheMatrix(unittest.TestCase):
    """Every available configuration at a small N, twice: verified, counters present and consistent."""

    @classmethod
    def setUpClass(cls):
        cls.n = 100000
        cls.proc, cls.data = run_bench(
            "--benchmark_filter=^map/", f"--sizes={cls.n}", "--settle=150ms", "--benchmark_repetitions=2"
        )
        cls.rows = rows(cls.data)
        cls.suite = cls.data["suite"]
        cls.configurations = {c["name"]: c for c in cls.suite["configurations"]}

    def row(self, configuration):
        """The configuration's row; a configuration whose library is missing skips (the subtest) loudly."""
        if configuration not in available():
            self.skipTest(f"{configuration} is unavailable: {configurations()[configuration]['unavailable_reason']}")
        return self.rows[f"map/{configuration}/{self.n}"]

    def test_every_available_configuration_has_a_verified_row(self):
        for name, c in available().items():
            row = self.row(name)
            self.assertFalse(row.get("error_occurred"), f"{name}: {row.get('error_message')}")
            label = gbjson.parse_label(row["label"])
            if c["library_path"]:
                self.assertEqual(label.malloc_library, c["library_path"], name)
            self.assertTrue(label.version, name)

    def test_repetitions_are_interleaved_round_by_round(self):
        self.assertEqual(self.suite["order"], "rounds")
        self.assertEqual(self.data["context"]["order"], "rounds: repetition r of every instance before r + 1")
        for name in self.rows:
            self.assertEqual([r["repetition_index"] for r in repetitions(self.data, name)], [0, 1])

    def test_counters_present_consistent_and_with_units(self):
        units = {name: info["unit"] for name, info in self.suite["counters"].items()}
        for name, row in self.rows.items():
            for phase in PHASES:
                for suffix in ("seconds", "user_s", "sys_s", "minflt", "majflt"):
                    self.assertIn(f"{phase}_{suffix}", row, name)
            for counter in RETENTION + (
                "spawn_seconds",
                "anon_huge_peak",
                "private_dirty_final",
                "lazyfree_final",
                "smaps_rss_cleared",
            ):
                self.assertIn(counter, row, f"{name} lacks {counter}")
            self.assertGreater(row["rss_peak"], row["rss_base"], name)
            self.assertAlmostEqual(row["settle_seconds"], 0.15)
            growth = row["rss_peak"] - row["rss_base"]
            self.assertAlmostEqual(row["retained_pct"], 100 * (row["rss_final"] - row["rss_base"]) / growth, places=6)
            configuration = self.suite["instances"][name]["configuration"]
            different = configurations()[configuration]["kind"] == "different container"
            # 56-byte nodes or more (flat_map: 24-byte elements), at most 200 B an entry but for the seed's
            # mallopt settings (a 4 KiB mapping a node) and the hardened scudo (guarded size classes).
            self.assertGreater(growth, self.n * (20 if different else 40), name)
            self.assertEqual("clear_rate" in row, not different, f"{name}: a constant-time clear has no rate")
            # smaps_rollup's exact count agrees with statm's.
            self.assertLess(abs(row["smaps_rss_final"] - row["rss_final"]), 1 << 20, name)
        self.assertEqual(units["rss_peak"], "bytes")
        self.assertEqual(units["insert_rate"], "items_per_second")
        self.assertEqual(units["insert_p999_ns"], "nanoseconds")
        self.assertEqual(units["insert_minflt"], "count")
        self.assertEqual(units["retained_pct"], "percent")

    def test_latency_percentiles_are_ordered(self):
        for name, row in self.rows.items():
            for phase in ("insert", "lookup"):
                if f"{phase}_p50_ns" not in row:
                    self.assertEqual(phase, "insert", f"{name}: only a bulk load has no insert latency")
                    continue
                values = [row[f"{phase}_{p}_ns"] for p in ("p50", "p99", "p999", "max")]
                self.assertEqual(values, sorted(values), f"{name} {phase}")
                self.assertGreater(values[0], 0)

    def test_the_timeline_is_dense_and_counts_from_clear_or_the_release_step(self):
        for name in self.rows:
            series = self.suite["series"][name]
            self.assertEqual(len(series), 2, name)
            configuration = self.suite["instances"][name]["configuration"]
            release_step = self.configurations[configuration]["release_step"]
            for entry in series:
                seconds = entry["seconds"]
                self.assertEqual(seconds, sorted(seconds))
                # Time zero is the release step's end, or the end of clear(): the timeline's own thread
                # samples at once, while the probe walk and the statistics run (measure/timeline.h).
                self.assertLess(seconds[0], 0.01, f"{name} (release step: {release_step})")
                self.assertIn(seconds[0], [r["first_sample_s"] for r in repetitions(self.data, name)])
                self.assertGreaterEqual(seconds[-1], 0.15)
                # The first sample, every offset of 10 per decade from 1 ms still ahead of it, the last (an
                # offset within 2 ms after the first sample may pass while that sample is being sent).
                ahead = [10 ** (k / 10) / 1e3 for k in range(40) if seconds[0] + 0.002 < 10 ** (k / 10) / 1e3 < 0.15]
                self.assertGreaterEqual(len(seconds), 2 + len(ahead), name)
                self.assertEqual(len(entry["rss_bytes"]), len(seconds))
            last = series[-1]["rss_bytes"][-1]
            self.assertLess(abs(last - self.rows[name]["rss_final"]), 1 << 20, name)

    def test_where_the_bytes_sit_comes_from_the_serving_allocator(self):
        glibc = self.row("glibc")
        self.assertGreater(glibc["stat_fsmblks"], 0.8 * (glibc["rss_peak"] - glibc["rss_base"]))
        with self.subTest(library="jemalloc"):
            self.assertIn("stat_resident", self.row("jemalloc"))
            self.assertNotIn("stat_fsmblks", self.row("jemalloc"), "mallinfo2 describes nothing under LD_PRELOAD")
        with self.subTest(library="scudo"):
            self.assertGreater(self.row("scudo")["stat_mapped"], 0)

    def test_environment_really_applied(self):
        with self.subTest(library="jemalloc"):
            self.assertEqual(self.row("jemalloc-bgthread")["opt_background_thread"], 1)
            self.assertEqual(self.row("jemalloc")["opt_background_thread"], 0)
            self.assertEqual(self.row("jemalloc-decay0")["opt_dirty_decay_ms"], 0)
            self.assertEqual(self.row("jemalloc")["opt_dirty_decay_ms"], 10000)
            self.assertEqual(self.row("jemalloc-thp")["opt_thp_always"], 1)
            self.assertEqual(self.row("jemalloc")["opt_thp_always"], 0)
        with self.subTest(library="tcmalloc"):
            self.assertEqual(self.row("tcmalloc-aggressive")["opt_aggressive_memory_decommit"], 1)
            self.assertEqual(self.row("tcmalloc")["opt_aggressive_memory_decommit"], 0)
        with self.subTest(library="mimalloc"):
            self.assertEqual(self.row("mimalloc-decommit0")["opt_decommit_delay_ms"], 0)
            self.assertGreater(self.row("mimalloc")["opt_decommit_delay_ms"], 0)
            self.assertEqual(self.row("mimalloc-thp")["opt_large_os_pages"], 1)
        # glibc-tuned's mxfast=0 leaves no fastbin chunks at all; the default keeps them all.
        self.assertEqual(self.row("glibc-tuned")["stat_fsmblks"], 0)

    def test_release_step_is_timed_only_where_the_description_has_one(self):
        for c in self.suite["configurations"]:
            with self.subTest(configuration=c["name"]):
                row, name = self.row(c["name"]), c["name"]
                if c["release_step"]:
                    self.assertGreater(row["release_seconds"], 0, name)
                    self.assertIn("release_minflt", row, name)
                else:
                    self.assertEqual(row["release_seconds"], 0, name)
                    self.assertEqual(row["rss_released"], row["rss_cleared"], name)

    def test_the_scripts_contract_holds_on_a_fresh_run(self):
        """Every counter the scripts read exists with the unit they assume: a counter renamed in C++
        fails here (tests/scripts checks the same on the committed runs)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "run.json")
            with open(path, "w") as f:
                json.dump(self.data, f)
            run = gbjson.load_run(path)
        self.assertEqual(summary.contract_violations(run), [])
        results = summary.summarize(run)
        self.assertEqual(len(results), len(self.rows))


class ConsoleHeadline(unittest.TestCase):
    def test_console_shows_the_headline_columns_and_the_median(self):
        proc, _ = run_bench("--benchmark_filter=^map/(glibc|pool)/", "--sizes=20000", "--settle=0", "--benchmark_repetitions=2")
        header = next(line for line in proc.stdout.splitlines() if line.startswith("benchmark"))
        self.assertEqual(
            header.split(),
            [
                "benchmark",
                "insert_rate",
                "lookup_rate",
                "clear_rate",
                "growth",
                "kept_cleared",
                "kept_released",
                "kept_final",
                "release_seconds",
            ],
        )
        self.assertRegex(proc.stdout, r"(?m)^map/glibc/20000_median +[0-9.]+M/s")
        self.assertNotIn("stat_arena", proc.stdout, "everything else stays in the JSON")

    def test_tabular_shows_every_counter(self):
        proc, _ = run_bench("--benchmark_filter=^map/glibc/", "--sizes=20000", "--settle=0", "--benchmark_counters_tabular=true")
        self.assertIn("stat_arena", proc.stdout)


class SeedPhenomenon(unittest.TestCase):
    def test_glibc_keeps_the_memory_and_agrees_with_an_independent_measurement(self):
        n = 300000
        _, data = run_bench("--benchmark_filter=^map/glibc/", f"--sizes={n}", "--settle=100ms")
        row = rows(data)[f"map/glibc/{n}"]
        self.assertGreaterEqual(row["retained_pct"], 80)
        out = subprocess.run([INDEPENDENT, str(n)], capture_output=True, text=True, check=True).stdout
        fields = dict(kv.split("=") for kv in out.split())
        growth, retained = int(fields["growth_bytes"]), int(fields["retained_bytes"])
        bench_growth = row["rss_peak"] - row["rss_base"]
        self.assertLess(abs(bench_growth - growth) / growth, 0.05, (bench_growth, growth))
        self.assertLess(abs(row["retained_pct"] - 100 * retained / growth), 5, (row["retained_pct"], retained / growth))


if __name__ == "__main__":
    unittest.main()
