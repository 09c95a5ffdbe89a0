"""`./bench --scenario=...`: every scenario of benchmarks/scenarios/ at a small size, under a few
configurations, each scenario's defining observation checked where it is beyond doubt — shares of
growth far from the thresholds, and counts (faults), never a duration.

Run by ctest (label `scenarios`) with BENCH_BINARY set.
"""

import json
import os
import subprocess
import tempfile
import unittest

from benchrun import BENCH, available, rows, run_bench

CONFIGURATIONS = ("glibc", "glibc-arena2", "glibc-tuned", "jemalloc", "tcmalloc", "mimalloc")
SCALE = 0.2  # python-bytes: 40,000 objects; redis: 200,000 keys; ...


def run_scenarios(names, configurations, *extra, env=None):
    """(process, {name: row}, suite) of ./bench --scenario=names at SCALE in a fresh folder."""
    proc, data = run_bench(
        f"--scenario={names}",
        f"--benchmark_filter=/({'|'.join(configurations)})$",
        f"--scenario-scale={SCALE}",
        "--settle=500ms",
        "--command-output=discard",
        *extra,
        check=False,
        env=env,
        timeout=900,
    )
    return proc, rows(data) if data else {}, (data or {}).get("suite", {})


class EveryScenario(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.configurations = [c for c in CONFIGURATIONS if c in available()]
        cls.proc, cls.rows, cls.suite = run_scenarios("all", cls.configurations)
        cls.scenarios = {s["name"]: s for s in cls.suite["scenarios"]["list"]}

    def row(self, scenario, configuration):
        row = self.rows.get(f"{scenario}/{configuration}")
        if row is None:
            self.skipTest(f"{configuration} is unavailable")
        self.assertFalse(row.get("error_occurred"), row.get("error_message"))
        return row

    def kept(self, scenario, configuration, phase):
        """RSS above the base phase at `phase`, as a share of the largest phase's."""
        row = self.row(scenario, configuration)
        phases = [p["name"] for p in self.scenarios[scenario]["phases"]]
        growth = max(row[f"rss_{p}"] for p in phases) - row["rss_base"]
        self.assertGreater(growth, 5e6, f"{scenario}/{configuration} grew too little to judge")
        return (row[f"rss_{phase}"] - row["rss_base"]) / growth

    def test_every_row_is_served_and_has_every_phase(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr[-3000:])
        self.assertGreaterEqual(len(self.scenarios), 7)
        for name, scenario in self.scenarios.items():
            for configuration in self.configurations:
                row = self.row(name, configuration)
                for phase in scenario["phases"]:
                    self.assertIn(f"rss_{phase['name']}", row, f"{name}/{configuration}")
                    self.assertEqual(
                        f"{phase['name']}_seconds" in row, not phase["settling"], f"{name}: only timed phases have a time"
                    )
                self.assertIn("verified in", row["label"])
                self.assertGreaterEqual(row["hwm_peak"], row[f"rss_{scenario['phases'][1]['name']}"] * 0.99)
        skipped = {s["configuration"] for s in self.suite["scenarios"]["skipped"]}
        self.assertIn("glibc-trim", skipped)
        self.assertNotIn("python-bytes/glibc-trim", self.rows)

    def test_python_glibc_returns_1000_byte_objects_mimalloc_keeps_them(self):
        self.assertLess(self.kept("python-bytes", "glibc", "freed"), 0.25)
        self.assertGreater(self.kept("python-bytes", "mimalloc", "freed"), 0.75)

    def test_pymalloc_returns_its_arenas_under_glibc_but_malloc_served_objects_stay(self):
        self.assertLess(self.kept("python-small", "glibc", "freed"), 0.4)
        self.assertGreater(self.kept("python-small-malloc", "glibc", "freed"), 0.7)
        self.assertEqual(self.scenarios["python-small-malloc"]["environment"], {"PYTHONMALLOC": "malloc"})

    def test_perl_keeps_its_freed_hash_under_glibc(self):
        self.assertGreater(self.kept("perl-hash", "glibc", "idle"), 0.7)

    def test_ruby_threads_grow_less_with_two_arenas(self):
        full = self.row("ruby-threads", "glibc")
        capped = self.row("ruby-threads", "glibc-arena2")
        self.assertLess(capped["rss_built"] - capped["rss_base"], 0.8 * (full["rss_built"] - full["rss_base"]))

    def test_redis_keeps_deleted_keys_and_jemalloc_returns_a_flush(self):
        self.assertGreater(self.kept("redis", "glibc", "freed"), 0.7)
        self.assertGreater(self.kept("redis", "glibc", "flushed"), 0.7)
        self.assertLess(self.kept("redis", "jemalloc", "flushed"), 0.4)
        for configuration in ("glibc", "jemalloc"):
            row = self.row("redis", configuration)
            self.assertLess(row["redis_used_memory_freed"], 0.3 * row["redis_used_memory_built"], "Redis's own count falls")

    def test_redis_is_served_by_the_preloaded_malloc_not_by_the_jemalloc_it_links(self):
        # Redis's INFO reports jemalloc's own statistics: jemalloc allocates what Redis holds only when
        # it serves malloc.
        jemalloc = self.row("redis", "jemalloc")
        self.assertGreater(jemalloc["redis_allocator_allocated_built"], 0.5 * jemalloc["redis_used_memory_built"])
        for configuration in ("glibc", "tcmalloc"):
            row = self.row("redis", configuration)
            self.assertLess(row["redis_allocator_allocated_built"], 0.05 * row["redis_used_memory_built"], configuration)
            self.assertIn("also mapped: libjemalloc.so.2", row["label"])
        self.assertEqual(self.scenarios["redis"]["measure"], "redis-server")

    def test_glibc_without_tcache_and_fastbins_faults_far_more_in_a_churning_program(self):
        self.assertGreater(self.row("python-churn", "glibc-tuned")["minflt"], 2 * self.row("python-churn", "glibc")["minflt"])


class Failures(unittest.TestCase):
    def test_a_server_that_does_not_start_is_an_error_row_and_nothing_is_left_running(self):
        before = set(redis_servers())
        env = {**os.environ, "SCENARIO_REDIS_ARGS": "--no-such-option-anywhere yes"}
        proc, rows, _ = run_scenarios("redis", ["glibc"], env=env)
        self.assertEqual(proc.returncode, 1)
        row = rows["redis/glibc"]
        self.assertTrue(row["error_occurred"])
        self.assertIn("redis-server did not start", row["error_message"])
        self.assertEqual(set(redis_servers()) - before, set(), "a redis-server of the run is still running")

    def test_a_scenario_whose_program_is_missing_is_a_usage_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "needs-more.sh")
            with open(path, "w") as f:
                f.write("#!/bin/sh\n# Scenario: x\n# Needs: /no/such/program (some-package)\n# Phase base: x\n")
            os.chmod(path, 0o755)
            proc = subprocess.run(
                [BENCH, f"--scenario={path}", f"--benchmark_out={tmp}/out.json"], capture_output=True, text=True
            )
            self.assertEqual(proc.returncode, 2)
            self.assertIn("needs /no/such/program, which is not installed (Debian package some-package", proc.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "out.json")))
            proc = subprocess.run([BENCH, "--scenario=no-such-scenario"], capture_output=True, text=True)
            self.assertEqual(proc.returncode, 2)
            self.assertIn("no scenario named 'no-such-scenario'", proc.stderr)

    def test_a_phase_the_scenario_does_not_list_is_an_error_row(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "wrong-phase.py")
            with open(path, "w") as f:
                f.write(
                    "#!/usr/bin/python3\n# Scenario: x\n# Phase base: x\n# Phase built: y\nimport os, socket\n"
                    "s = socket.socket(fileno=int(os.environ['BENCH_REPORT_FD']))\n"
                    "for p in ('base', 'freed'):\n    s.sendall(f'phase {p}\\n'.encode()); s.recv(100)\n"
                )
            os.chmod(path, 0o755)
            proc, rows, _ = run_scenarios(path, ["glibc"])
            self.assertEqual(proc.returncode, 1)
            self.assertIn("phase freed came where phase built was expected", rows["wrong-phase/glibc"]["error_message"])


def redis_servers():
    """pids of the redis-server processes started from one of bench's scratch folders."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            if b"redis-server" in cmdline or b"bench-program-" in cmdline:
                pids.append(int(entry))
    return pids


if __name__ == "__main__":
    unittest.main()
