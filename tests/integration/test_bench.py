"""Integration tests: ./bench run end to end, its JSON checked.

Run by ctest with BENCH_BINARY and BENCH_INDEPENDENT set (tests/CMakeLists.txt). Each test class
runs the binary once and checks what a user would rely on. Sizes are small; thresholds are the
suite's defining findings, not timings (no wall-clock threshold anywhere).
"""
import json
import os
import re
import subprocess
import tempfile
import unittest

BENCH = os.environ.get("BENCH_BINARY", "build/bench")
INDEPENDENT = os.environ.get("BENCH_INDEPENDENT", "build/tests/bench_independent_map")
CORE_COUNTERS = ["insert_rate", "lookup_rate", "clear_rate", "release_seconds", "spawn_seconds",
                 "rss_base", "rss_peak", "rss_cleared", "rss_released", "rss_final", "retained_pct",
                 "rss_at_0ms", "rss_at_10ms", "rss_at_100ms"]


def run_bench(*args, check=True):
    """Runs ./bench with args plus a fresh --benchmark_out; returns (process, parsed JSON or None)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        proc = subprocess.run([BENCH, *args, f"--benchmark_out={out}"], capture_output=True, text=True, timeout=1800)
        if check and proc.returncode != 0:
            raise AssertionError(f"bench failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        data = json.load(open(out)) if os.path.exists(out) else None
        return proc, data


def rows(data):
    return {b["name"]: b for b in data["benchmarks"] if b.get("run_type") == "iteration"}


def available_configurations():
    out = subprocess.run([BENCH, "--list-configs"], capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines() if not line.startswith(" ") and line.split()[2] == "available"]


class ListingAndNaming(unittest.TestCase):
    def test_list_tests_names_every_configuration(self):
        out = subprocess.run([BENCH, "--benchmark_list_tests", "--sizes=1000,2000"], capture_output=True, text=True, check=True).stdout.split()
        self.assertIn("map/glibc/1000", out)
        self.assertIn("map/jemalloc/2000", out)
        for name in out:
            self.assertRegex(name, r"^[a-z_0-9]+/[a-z0-9-]+/\d+$")

    def test_list_configs_verifies_each_available_library(self):
        out = subprocess.run([BENCH, "--list-configs"], capture_output=True, text=True, check=True).stdout
        blocks = re.split(r"\n(?=\S)", out.strip())
        self.assertGreaterEqual(len(blocks), 15)
        library = {"glibc": "libc.so", "jemalloc": "libjemalloc", "tcmalloc": "libtcmalloc", "mimalloc": "libmimalloc"}
        for block in blocks:
            name, kind, status = block.split()[:3]
            self.assertIn(kind, ("process-level", "container-level"))
            self.assertIn(status, ("available", "UNAVAILABLE:"), block)
            if status != "available":
                continue
            for family, soname in library.items():
                if name.startswith(family):
                    self.assertRegex(block, "served by: +malloc=[^ ]*" + re.escape(soname), block)


class MapAcrossTheMatrix(unittest.TestCase):
    """Every available configuration at a small N: verified, counters present and consistent."""

    @classmethod
    def setUpClass(cls):
        cls.n = 100000
        cls.proc, cls.data = run_bench("--benchmark_filter=^map/", f"--sizes={cls.n}", "--settle=150ms")
        cls.rows = rows(cls.data)

    def test_every_available_configuration_has_a_row(self):
        for name in available_configurations():
            self.assertIn(f"map/{name}/{self.n}", self.rows)

    def test_rows_are_verified_and_labelled(self):
        expect = {"glibc": ("libc.so", "libstdc++"), "jemalloc": ("libjemalloc",) * 2,
                  "tcmalloc": ("libtcmalloc",) * 2, "mimalloc": ("libmimalloc",) * 2}
        for name, row in self.rows.items():
            self.assertFalse(row.get("error_occurred"), f"{name}: {row.get('error_message')}")
            label = row["label"]
            family = name.split("/")[1].split("-")[0]
            if family in expect:
                self.assertRegex(label, "malloc=[^ ]*" + re.escape(expect[family][0]), name)
                self.assertRegex(label, "new=[^ ]*" + re.escape(expect[family][1]), name)
            self.assertIn("version=", label)

    def test_counters_present_and_consistent(self):
        for name, row in self.rows.items():
            for counter in CORE_COUNTERS:
                self.assertIn(counter, row, f"{name} lacks {counter}")
            self.assertNotIn("rss_at_1s", row, "offsets beyond --settle are not sampled")
            self.assertGreater(row["rss_peak"], row["rss_base"], name)
            self.assertGreater(row["insert_rate"], 0)
            self.assertGreater(row["lookup_rate"], 0)
            self.assertGreater(row["clear_rate"], 0)
            self.assertAlmostEqual(row["settle_seconds"], 0.15)
            growth = row["rss_peak"] - row["rss_base"]
            self.assertAlmostEqual(row["retained_pct"], 100 * (row["rss_final"] - row["rss_base"]) / growth, places=6)
            # A map of n 56-byte nodes grows RSS by at least n * 40 bytes (a flat_map's 24-byte
            # elements by n * 20), and by at most n * 200 but for the seed's mallopt settings,
            # which spend a 4 KiB mapping on each node.
            self.assertGreater(growth, self.n * (20 if "flat-map" in name else 40), name)
            if "seed-opt" not in name:
                self.assertLess(growth, self.n * 200, name)
            self.assertEqual(row["real_time"] > 0, True)

    def test_where_the_bytes_sit_comes_from_the_serving_allocator(self):
        glibc = self.rows[f"map/glibc/{self.n}"]
        # Freed 64-byte chunks sit in glibc's fastbins, free but inside the heap.
        self.assertGreater(glibc["stat_fsmblks"], 0.8 * (glibc["rss_peak"] - glibc["rss_base"]))
        jemalloc = self.rows.get(f"map/jemalloc/{self.n}")
        if jemalloc:
            self.assertIn("stat_resident", jemalloc)
            self.assertNotIn("stat_fsmblks", jemalloc, "mallinfo2 describes nothing under LD_PRELOAD")

    def test_environment_really_applied(self):
        r = self.rows
        if f"map/jemalloc-bgthread/{self.n}" in r:
            self.assertEqual(r[f"map/jemalloc-bgthread/{self.n}"]["opt_background_thread"], 1)
            self.assertEqual(r[f"map/jemalloc/{self.n}"]["opt_background_thread"], 0)
            self.assertEqual(r[f"map/jemalloc-decay0/{self.n}"]["opt_dirty_decay_ms"], 0)
            self.assertEqual(r[f"map/jemalloc/{self.n}"]["opt_dirty_decay_ms"], 10000)
        if f"map/tcmalloc-aggressive/{self.n}" in r:
            self.assertEqual(r[f"map/tcmalloc-aggressive/{self.n}"]["opt_aggressive_memory_decommit"], 1)
            self.assertEqual(r[f"map/tcmalloc/{self.n}"]["opt_aggressive_memory_decommit"], 0)
        if f"map/mimalloc-decommit0/{self.n}" in r:
            self.assertEqual(r[f"map/mimalloc-decommit0/{self.n}"]["opt_decommit_delay_ms"], 0)
            self.assertGreater(r[f"map/mimalloc/{self.n}"]["opt_decommit_delay_ms"], 0)
        # glibc-tuned's mxfast=0 leaves no fastbin chunks at all; the default keeps them all.
        self.assertEqual(r[f"map/glibc-tuned/{self.n}"]["stat_fsmblks"], 0)

    def test_release_step_is_timed_only_where_there_is_one(self):
        for name, row in self.rows.items():
            config = name.split("/")[1]
            if config in ("glibc", "jemalloc", "tcmalloc", "mimalloc"):
                self.assertEqual(row["release_seconds"], 0, name)
                self.assertEqual(row["rss_released"], row["rss_cleared"], name)
            elif config in ("glibc-trim", "jemalloc-purge", "tcmalloc-release", "mimalloc-collect"):
                self.assertGreater(row["release_seconds"], 0, name)


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
