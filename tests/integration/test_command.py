"""`./bench -- PROGRAM`: the user's own program under every process-level configuration, watched from
outside. The program is tests/test_program.cc, whose memory behaviour is known: it mallocs and frees
a million 56-byte blocks, then sleeps.

Run by ctest (label `command`) with BENCH_BINARY and BENCH_TEST_PROGRAM set. No assertion depends on
a duration.
"""
import json
import os
import re
import subprocess
import tempfile
import unittest

from benchrun import BENCH, TEST_PROGRAM, TEST_PROGRAM_STATIC, available, rows, run_bench

BLOCKS = 1_000_000  # 56-byte blocks: about 64 MB under glibc
SLEEP_MS = 600


def run_program(filter_, *program_args, extra=(), env=None):
    """(process, data, output folder listing) of ./bench -- TEST_PROGRAM ... in a fresh folder."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        proc = subprocess.run(
            [
                BENCH,
                f"--benchmark_filter={filter_}",
                f"--benchmark_out={out}",
                *extra,
                "--",
                TEST_PROGRAM,
                *map(str, program_args),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
            cwd=tmp,
        )
        data = None
        if os.path.exists(out):
            with open(out) as f:
                data = json.load(f)
        outputs = {}
        folder = os.path.join(tmp, "command-output")
        if os.path.isdir(folder):
            for name in os.listdir(folder):
                with open(os.path.join(folder, name)) as f:
                    outputs[name] = f.read()
        return proc, data, outputs


class KnownProgram(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        hostile = {**os.environ, "MALLOC_CONF": "background_thread:true", "GLIBC_TUNABLES": "glibc.malloc.mxfast=0"}
        cls.proc, cls.data, cls.outputs = run_program(
            "^command/(glibc|jemalloc|jemalloc-decay0)$",
            BLOCKS,
            SLEEP_MS,
            "--die-if-preloaded=libjemalloc.so",
            extra=("--benchmark_repetitions=2",),
            env=hostile,
        )
        cls.rows = {}
        for b in cls.data["benchmarks"]:
            if b["run_type"] == "iteration":
                cls.rows.setdefault(b["name"], []).append(b)

    def test_glibc_keeps_the_freed_blocks_to_the_end(self):
        for row in self.rows["command/glibc"]:
            self.assertFalse(row.get("error_occurred"), row.get("error_message"))
            self.assertGreater(row["rss_peak"], BLOCKS * 48)
            self.assertGreater(row["rss_end"], 0.8 * row["rss_peak"], "glibc keeps the freed blocks until exit")
            self.assertGreaterEqual(row["max_rss"], 0.95 * row["rss_peak"])
            self.assertEqual(row["exit_status"], 0)
            self.assertLessEqual(row["rss_mean"], row["rss_peak"])
            self.assertGreater(row["rss_integral_mb_s"], 0)
            self.assertGreater(row["minflt"], BLOCKS * 56 / 4096 * 0.9)
            self.assertIn("malloc=/", row["label"])
            self.assertIn("libc.so.6 (verified in 1 measured process", row["label"])

    def test_a_program_killed_by_a_signal_is_an_error_row_and_the_others_are_kept(self):
        if "jemalloc" not in available():
            self.skipTest("jemalloc is unavailable")
        for name in ("command/jemalloc", "command/jemalloc-decay0"):
            for row in self.rows[name]:
                self.assertTrue(row.get("error_occurred"), name)
                self.assertIn("killed by signal 11", row["error_message"])
                self.assertIn("standard error", row["error_message"])
        self.assertEqual(self.proc.returncode, 1, self.proc.stderr)
        self.assertFalse(self.rows["command/glibc"][0].get("error_occurred"))

    def test_the_callers_allocator_variables_never_reach_the_program(self):
        # glibc.malloc.mxfast=0 from the caller would have returned the blocks at once.
        self.assertGreater(self.rows["command/glibc"][0]["rss_end"], 0.8 * self.rows["command/glibc"][0]["rss_peak"])

    def test_output_goes_to_files_next_to_the_results(self):
        self.assertEqual(self.outputs.get("glibc.0.stdout"), f"freed {BLOCKS} blocks of 56 bytes\n")
        self.assertIn("glibc.1.stdout", self.outputs)
        self.assertEqual(self.outputs.get("glibc.0.stderr"), "")

    def test_samples_and_description(self):
        suite = self.data["suite"]
        self.assertEqual(suite["instances"]["command/glibc"], {"workload": "command", "configuration": "glibc", "size": None})
        self.assertEqual(suite["command"]["argv"][1:], [str(BLOCKS), str(SLEEP_MS), "--die-if-preloaded=libjemalloc.so"])
        series = suite["series"]["command/glibc"]
        self.assertEqual(len(series), 2)
        seconds = series[0]["seconds"]
        self.assertEqual(seconds, sorted(seconds))
        self.assertLess(seconds[0], 0.01, "sampled from the first milliseconds")
        self.assertGreater(seconds[-1], SLEEP_MS / 1000 * 0.8)
        self.assertEqual(self.rows["command/glibc"][0]["sample_count"], len(seconds))
        skipped = {s["configuration"]: s["reason"] for s in suite["command"]["skipped"]}
        self.assertIn("release step", skipped["glibc-trim"])
        self.assertIn("container-level", skipped["pool"])
        self.assertIn("mallopt", skipped["glibc-seed-opt1"])


class ReleasingAllocator(unittest.TestCase):
    def test_jemalloc_decay0_gives_the_blocks_back_before_the_end(self):
        if "jemalloc-decay0" not in available():
            self.skipTest("jemalloc is unavailable")
        proc, data, _ = run_program("^command/(glibc|jemalloc-decay0)$", BLOCKS, SLEEP_MS, extra=("--command-output=discard",))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rows = {b["name"]: b for b in data["benchmarks"] if b["run_type"] == "iteration"}
        decay0, glibc = rows["command/jemalloc-decay0"], rows["command/glibc"]
        self.assertLess(decay0["rss_end"] - (decay0["rss_peak"] - BLOCKS * 56), 0.2 * BLOCKS * 56)
        self.assertLess(decay0["rss_end"], glibc["rss_end"] - 0.5 * BLOCKS * 56)
        self.assertIn("libjemalloc", decay0["label"])
        self.assertIn("calls to malloc resolve to it", decay0["label"])


class ProcessTree(unittest.TestCase):
    """The program and what it starts, followed from outside."""

    def run_command(self, filter_, *command, extra=()):
        proc, data = run_bench(
            f"--benchmark_filter={filter_}",
            "--command-output=discard",
            *extra,
            "--",
            *map(str, command),
            check=False,
            timeout=600,
        )
        self.assertIsNotNone(data, proc.stderr)
        return proc, rows(data), data["suite"]

    def test_descendants_that_outlive_the_program_are_stopped_and_counted(self):
        configurations = "glibc|jemalloc" if "jemalloc" in available() else "glibc"
        proc, rows, _ = self.run_command(f"^command/({configurations})$", "sh", "-c", "sleep 30 & echo started")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        for name, row in rows.items():
            self.assertFalse(row.get("error_occurred"), row.get("error_message"))  # a short program is a result
            self.assertEqual(row["descendants_stopped"], 1, name)
            # The shell's child is stopped as "sleep", or as "sh" if the shell exited before it called execve.
            stopped = re.search(r"stopped when the row ended: (sleep|sh) \((\d+)\)", row["label"])
            self.assertIsNotNone(stopped, row["label"])
            pid = int(stopped.group(2))
            self.assertFalse(os.path.exists(f"/proc/{pid}"), f"the shell's child {pid} still runs")

    def test_the_first_sample_is_of_the_program_not_of_benchs_fork(self):
        _, rows, suite = self.run_command("^command/glibc$", "sleep", "0.5")
        rss = suite["series"]["command/glibc"][0]["rss_bytes"]
        self.assertGreater(len(rss), 10)
        self.assertLess(rss[0], 3 * sorted(rss)[len(rss) // 2], "the first sample read bench's own copy before execve")

    def test_the_peak_comes_from_the_kernels_high_water_mark(self):
        _, rows, _ = self.run_command("^command/glibc$", TEST_PROGRAM, str(BLOCKS), "200")
        row = rows["command/glibc"]
        self.assertGreaterEqual(row["hwm_peak"], 0.95 * row["max_rss"])
        self.assertGreaterEqual(row["rss_peak"], row["hwm_peak"])
        self.assertGreater(row["hwm_peak"], BLOCKS * 56)

    def test_measure_names_the_process_that_counts(self):
        # The shell waits for the test program; only the program (comm is its name's first 15 bytes) counts.
        name = os.path.basename(TEST_PROGRAM)[:15]
        _, rows, suite = self.run_command(
            "^command/glibc$", "sh", "-c", f"{TEST_PROGRAM} {BLOCKS} 300; sleep 0.2", extra=(f"--measure={name}",)
        )
        row = rows["command/glibc"]
        self.assertFalse(row.get("error_occurred"), row.get("error_message"))
        self.assertEqual(row["processes_measured"], 1)
        self.assertIn(f"verified in 1 measured process: {name}", row["label"])
        self.assertGreater(row["rss_peak"], BLOCKS * 56)
        self.assertEqual(suite["command"]["measure"], name)
        _, rows, _ = self.run_command("^command/glibc$", "true", extra=("--measure=no-such-name",))
        self.assertIn("no process named no-such-name ran", rows["command/glibc"]["error_message"])

    def test_a_statically_linked_program_is_not_served(self):
        configurations = "glibc|jemalloc" if "jemalloc" in available() else "glibc"
        proc, rows, _ = self.run_command(f"^command/({configurations})$", TEST_PROGRAM_STATIC, 1000, 300)
        self.assertEqual(proc.returncode, 1)
        for name, row in rows.items():
            self.assertTrue(row.get("error_occurred"), name)
            self.assertIn("not served by", row["error_message"])
            self.assertIn("statically linked (no PT_INTERP)", row["error_message"])


class SealedRows(unittest.TestCase):
    """Each row's processes stay in that row and end with it (driver/row_reaper.h); its end figures
    are of the program, never of a wrapper or of a process being torn down."""

    user = None  # a test of this class run again as an unprivileged user (NonRoot below)

    def run_command(self, filter_, *command, extra=()):
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o777)
            out = os.path.join(tmp, "out.json")
            prefix = ["setpriv", f"--reuid={self.user}", f"--regid={self.user}", "--clear-groups"] if self.user else []
            proc = subprocess.run(
                [
                    *prefix,
                    BENCH,
                    f"--benchmark_filter={filter_}",
                    f"--benchmark_out={out}",
                    "--command-output=discard",
                    *extra,
                    "--",
                ]
                + [str(c) for c in command],
                capture_output=True,
                text=True,
                timeout=900,
                cwd=tmp,
            )
            data = None
            if os.path.exists(out):
                with open(out) as f:
                    data = json.load(f)
            self.assertIsNotNone(data, proc.stderr[-3000:])
            return proc, rows(data)

    def test_a_daemon_that_leaves_its_session_stays_in_its_row_and_ends_with_it(self):
        configurations = "glibc|jemalloc" if "jemalloc" in available() else "glibc|glibc-arena1"
        proc, found = self.run_command(f"^command/({configurations})$", "sh", "-c", 'setsid sh -c "sleep 41.5 &"; echo ok')
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        self.assertEqual(len(found), 2)
        for name, row in found.items():
            self.assertFalse(row.get("error_occurred"), f"{name}: {row.get('error_message')}")  # the next row is untouched
            self.assertGreaterEqual(row["descendants_stopped"], 1, name)
            stopped = re.findall(r"(sleep|sh) \((\d+)\)", row["label"].partition("stopped when the row ended: ")[2])
            self.assertTrue(stopped, row["label"])
            for _, pid in stopped:
                self.assertFalse(os.path.exists(f"/proc/{pid}"), f"{name}: {pid} still runs after ./bench returned")
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        self.assertNotIn(b"41.5", f.read(), f"pid {pid} outlived ./bench")
                except OSError:
                    pass

    def test_the_end_of_a_program_run_through_a_shell_is_the_programs(self):
        # The program holds its blocks for 600 ms (six sample steps), exits, and the shell sleeps on:
        # the end is the program's last sample under every configuration, not the shell's.
        proc, found = self.run_command("^command/", "sh", "-c", f"{TEST_PROGRAM} {BLOCKS} 600 --hold; sleep 0.4")
        self.assertGreater(len(found), 5)
        for name, row in found.items():
            if row.get("error_occurred"):
                self.assertIn("unavailable", row.get("error_message", ""), name)
                continue
            self.assertGreater(row["rss_peak"], BLOCKS * 48, name)
            self.assertGreater(row["rss_end"], 0.9 * row["rss_peak"], f"{name}: the end read the shell, not the program")
            self.assertGreaterEqual(row["end_sample_age_seconds"], 0, name)
            self.assertIn(f"the end is {os.path.basename(TEST_PROGRAM)[:15]}", row["label"], name)

    def test_with_measure_the_row_follows_a_daemonized_server_until_it_exits(self):
        # The launcher exits at once; the row lasts until the measured process, a daemon, has exited.
        proc, found = self.run_command(
            "^command/glibc$", "sh", "-c", 'setsid sh -c "sleep 1.5 &"; echo ok', extra=("--measure=sleep",)
        )
        row = found["command/glibc"]
        self.assertFalse(row.get("error_occurred"), row.get("error_message"))
        self.assertEqual(row["processes_measured"], 1)
        self.assertEqual(row["descendants_stopped"], 0, "the row ended before the server did")

    def test_a_program_over_a_bound_of_the_report_protocol_gets_an_error_row(self):
        script = 'i=0; while [ $i -lt 40 ]; do echo "phase p$i" >&3; i=$((i+1)); done; sleep 0.2'
        proc, found = self.run_command("^command/glibc$", "sh", "-c", script)
        self.assertEqual(proc.returncode, 1)
        row = found["command/glibc"]
        self.assertTrue(row.get("error_occurred"))
        self.assertIn("more than 32 phases, the protocol's bound", row["error_message"])


@unittest.skipUnless(os.geteuid() == 0, "only root can run ./bench as another user here")
class SealedRowsNonRoot(SealedRows):
    """The same, run by an unprivileged user (no CAP_SYS_ADMIN: page frames hidden, RSS of several
    processes by PSS)."""

    user = 65534  # nobody


class RunScript(unittest.TestCase):
    def test_run_sh_makes_a_run_folder_for_a_program(self):
        script = os.environ.get("BENCH_RUN_SCRIPT", os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "run.sh"))
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                "BENCH_BINARY": BENCH,
                "BENCH_RESULTS_DIR": os.path.join(tmp, "results"),
                "BENCH_PLOTS_DIR": os.path.join(tmp, "plots"),
                "BENCH_RUN_ID": "program",
            }
            proc = subprocess.run(
                [
                    "bash",
                    script,
                    "--benchmark_repetitions=2",
                    "--benchmark_filter=^command/(glibc|jemalloc-decay0)$",
                    "--",
                    TEST_PROGRAM,
                    "200000",
                    "200",
                ],
                capture_output=True,
                text=True,
                env=env,
                timeout=600,
            )
            self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
            folder = os.path.join(tmp, "results", "program")
            for name in (
                "bench.json",
                "bench.csv",
                "timeline.csv",
                "environment.json",
                "REPORT.md",
                "plots/command.png",
                "command-output/glibc.0.stdout",
                "command-output/jemalloc-decay0.1.stderr",
            ):
                self.assertTrue(os.path.exists(os.path.join(folder, name)), name)
            with open(os.path.join(folder, "REPORT.md")) as f:
                report = f.read()
            self.assertIn("## The program under every allocator", report)
            self.assertIn("| jemalloc-decay0 |", report)
            self.assertTrue(os.path.exists(os.path.join(tmp, "plots", "program", "command.png")))


class Failures(unittest.TestCase):
    def test_a_missing_program_is_a_usage_error_and_nothing_is_written(self):
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.run(
                [BENCH, f"--benchmark_out={tmp}/out.json", "--", "no-such-program-anywhere"],
                capture_output=True,
                text=True,
                cwd=tmp,
            )
            self.assertEqual(proc.returncode, 2)
            self.assertIn("program no-such-program-anywhere was not found in PATH", proc.stderr)
            self.assertEqual(os.listdir(tmp), [])
            proc = subprocess.run([BENCH, "--", f"{tmp}/not-there"], capture_output=True, text=True, cwd=tmp)
            self.assertEqual(proc.returncode, 2)
            self.assertIn("does not exist or is not an executable file", proc.stderr)

    def test_a_program_is_found_in_path_as_execvp_would(self):
        proc, data, _ = run_program("^command/glibc$", 1000, 50)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "PATH": os.path.dirname(TEST_PROGRAM) + ":" + os.environ.get("PATH", "")}
            out = os.path.join(tmp, "out.json")
            found = subprocess.run(
                [
                    BENCH,
                    "--benchmark_filter=^command/glibc$",
                    f"--benchmark_out={out}",
                    "--command-output=discard",
                    "--",
                    os.path.basename(TEST_PROGRAM),
                    "1000",
                    "50",
                ],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp,
            )
            self.assertEqual(found.returncode, 0, found.stderr)
            with open(out) as f:
                self.assertEqual(json.load(f)["suite"]["command"]["program"], TEST_PROGRAM)

    def test_a_program_past_the_timeout_is_stopped(self):
        proc, data, _ = run_program("^command/glibc$", 1000, 60000, extra=("--timeout=300ms",))
        self.assertEqual(proc.returncode, 1)
        row = data["benchmarks"][0]
        self.assertTrue(row["error_occurred"])
        self.assertIn("ran past the per-instance time limit of 300ms", row["error_message"])

    def test_existing_output_files_are_never_replaced(self):
        with tempfile.TemporaryDirectory() as tmp:
            os.makedirs(os.path.join(tmp, "command-output"))
            kept = os.path.join(tmp, "command-output", "glibc.0.stdout")
            with open(kept, "w") as f:
                f.write("earlier\n")
            given = subprocess.run(
                [
                    BENCH,
                    "--benchmark_filter=^command/glibc$",
                    f"--benchmark_out={tmp}/out.json",
                    f"--command-output={tmp}/command-output",
                    "--",
                    TEST_PROGRAM,
                    "10",
                    "1",
                ],
                capture_output=True,
                text=True,
                cwd=tmp,
            )
            self.assertEqual(given.returncode, 2)
            self.assertIn("glibc.0.stdout already exists", given.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "out.json")))
            # By default a run takes a folder of its own: the next free name, the earlier one untouched.
            for n, name in ((1, "out1.json"), (2, "out2.json")):
                default = subprocess.run(
                    [BENCH, "--benchmark_filter=^command/glibc$", f"--benchmark_out={tmp}/{name}", "--", TEST_PROGRAM, "10", "1"],
                    capture_output=True,
                    text=True,
                    cwd=tmp,
                )
                self.assertEqual(default.returncode, 0, default.stderr)
                folder = os.path.join(tmp, f"command-output-{n + 1}")
                self.assertIn(f"go to {folder}/", default.stderr)
                with open(os.path.join(folder, "glibc.0.stdout")) as f:
                    self.assertEqual(f.read(), "freed 10 blocks of 56 bytes\n")
                with open(os.path.join(tmp, name)) as f:
                    self.assertEqual(json.load(f)["suite"]["command"]["output_directory"], folder)
            with open(kept) as f:
                self.assertEqual(f.read(), "earlier\n")


if __name__ == "__main__":
    unittest.main()
