"""The replay (benchmarks/replay/) on a real recording: `./bench --record` of a program of known
calls (tests/replay_program.cc: three threads, every block the main thread allocates freed by
another), converted by bench_replay_convert and replayed by bench_replay under glibc and under the
preloaded allocators. A cut recording and a torn one, made from the real trace.

Run by ctest (label `replay`) with BENCH_BINARY, BENCH_REPLAY_PROGRAM, BENCH_REPLAY_CONVERT and
BENCH_REPLAY set. No assertion depends on a duration.
"""

import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from benchrun import available, configurations, rows, run_bench

PROGRAM = os.environ.get("BENCH_REPLAY_PROGRAM", "build/tests/bench_replay_program")
CONVERT = os.environ.get("BENCH_REPLAY_CONVERT", "build/bench_replay_convert")
REPLAY = os.environ.get("BENCH_REPLAY", "build/bench_replay")
BENCH_BINARY = os.environ.get("BENCH_BINARY", "build/bench")
BLOCKS = 20000  # the program's cross-thread blocks
KEPT_BYTES = 10 * 1000  # what it keeps to the end


def convert(source, destination):
    proc = subprocess.run([CONVERT, source, destination], capture_output=True, text=True, timeout=300)
    return proc, json.loads(proc.stdout) if proc.returncode == 0 else None


def replay(workload, *options, preload=None):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if preload:
        env["LD_PRELOAD"] = preload
    proc = subprocess.run([REPLAY, workload, *options], capture_output=True, text=True, timeout=300, env=env)
    if proc.returncode != 0:
        raise AssertionError(f"bench_replay failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def record_program(tmp):
    """(its row, its recording folder) of the program of known calls recorded under glibc into `tmp`."""
    traces = os.path.join(tmp, "traces")
    _, data = run_bench(
        "--record",
        f"--record-dir={traces}",
        "--benchmark_filter=^command/glibc$",
        "--command-output=discard",
        "--",
        PROGRAM,
        str(BLOCKS),
        timeout=600,
    )
    folders = glob.glob(os.path.join(traces, "*"))
    assert len(folders) == 1, folders
    return rows(data)["command/glibc"], folders[0]


class RecordedProgram(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bench-replay-")
        cls.row, cls.traces = record_program(cls.tmp)
        proc, cls.conversions = convert(cls.traces, os.path.join(cls.tmp, "workloads"))
        assert proc.returncode == 0, proc.stderr
        assert len(cls.conversions) == 1, cls.conversions
        cls.conversion = cls.conversions[0]
        cls.workload = cls.conversion["workload"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_the_conversion_has_the_programs_calls_and_threads(self):
        s, a = self.conversion["summary"], self.conversion["anomalies"]
        self.assertEqual(self.conversion["warning"], "")
        # Exactly the program's own: no runtime library makes these calls here.
        self.assertEqual((s["news"], s["new_aligneds"], s["deletes"], s["reallocs"], s["memaligns"]), (100, 100, 200, 12, 200))
        # The C library's own allocations (stdio's buffer, each thread's TLS) come on top.
        self.assertGreaterEqual(s["mallocs"], BLOCKS + 1 + 10)
        self.assertGreaterEqual(s["callocs"], 100)
        self.assertGreaterEqual(s["frees"], BLOCKS + 301)
        self.assertGreaterEqual(s["cross_thread"], BLOCKS, "every handed block is freed by the consumer")
        self.assertGreaterEqual(s["syncs"], 1)
        self.assertEqual(s["streams"], 4, "the timeline and three threads")
        self.assertGreaterEqual(s["end_live_bytes"], KEPT_BYTES)
        self.assertEqual(a["unknown_frees"] + a["double_frees"] + a["stale_frees"] + a["reused_live"], 0, a)
        self.assertEqual(a["threads_never_ended"], 1, "the main thread")
        self.assertEqual(
            s["calls"],
            sum(s[k] for k in ("mallocs", "callocs", "memaligns", "news", "new_aligneds", "reallocs", "frees", "deletes")),
        )

    def test_the_blocks_live_at_the_end_are_those_the_analysis_found_at_the_exit(self):
        # Two readers of one trace: the converter's merge by time and the suite's analysis (trace_*).
        self.assertEqual(self.conversion["summary"]["end_live_blocks"], self.row["trace_exit_live_blocks"])

    def test_a_replay_makes_the_recordings_calls_and_leaves_its_live_bytes(self):
        s = self.conversion["summary"]
        allocators = {"glibc": None}
        for name in ("jemalloc", "tcmalloc", "mimalloc"):
            if name in available():
                allocators[name] = available()[name]["library_path"]
        for name, preload in allocators.items():
            for timing in ("fast", "as-recorded"):
                with self.subTest(allocator=name, timing=timing):
                    r = replay(self.workload, f"--timing={timing}", preload=preload)
                    for kind in (
                        "mallocs",
                        "callocs",
                        "memaligns",
                        "news",
                        "new_aligneds",
                        "reallocs",
                        "frees",
                        "deletes",
                        "calls",
                    ):
                        self.assertEqual(r[kind], s[kind], kind)
                    self.assertEqual((r["end_live_bytes"], r["end_live_blocks"]), (s["end_live_bytes"], s["end_live_blocks"]))
                    self.assertEqual((r["failed"], r["bad_ops"], r["threads"]), (0, 0, 3))
                    names = [p["name"] for p in r["phase_list"]]
                    self.assertEqual(names, ["start", "handed", "kept", "exit", "end"])
                    recorded = [p["recorded_s"] for p in r["phase_list"]]
                    self.assertEqual(recorded, sorted(recorded))

    def test_a_recording_cut_short_replays_its_clean_prefix_with_a_warning(self):
        (trace,) = glob.glob(os.path.join(self.traces, "*.trace"))
        cut = os.path.join(self.tmp, "cut.trace")
        shutil.copy(trace, cut)
        os.truncate(cut, os.path.getsize(trace) * 2 // 3)
        proc, converted = convert(cut, os.path.join(self.tmp, "cut.workload"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("warning", proc.stderr)
        self.assertRegex(converted[0]["warning"], r"stops at offset \d+")
        r = replay(os.path.join(self.tmp, "cut.workload"))
        self.assertEqual(r["source_warning"], converted[0]["warning"])
        self.assertEqual(r["calls"], converted[0]["summary"]["calls"])
        self.assertLess(r["calls"], self.conversion["summary"]["calls"])
        self.assertEqual((r["failed"], r["bad_ops"]), (0, 0))

    def test_a_torn_recording_is_an_error_naming_the_offset_and_nothing_is_written(self):
        # A byte flipped in a block's payload breaks its checksum: an error naming the block. Flipped in a
        # block's length, it can make the block run past the file's end, which reads as a recording cut there:
        # a warning naming that block. Either names a block at or before the byte; several bytes are tried, and
        # most of a trace is payload.
        (trace,) = glob.glob(os.path.join(self.traces, "*.trace"))
        size = os.path.getsize(trace)
        errors = 0
        for k, at in enumerate(range(size // 2, size // 2 + 8 * 997, 997)):
            torn = os.path.join(self.tmp, f"torn{k}.trace")
            shutil.copy(trace, torn)
            with open(torn, "r+b") as f:
                f.seek(at)
                byte = f.read(1)
                f.seek(at)
                f.write(bytes([byte[0] ^ 0xFF]))
            output = os.path.join(self.tmp, f"torn{k}.workload")
            proc, _ = convert(torn, output)
            with self.subTest(at=at):
                self.assertIn(proc.returncode, (0, 1), proc.stderr)
                self.assertRegex(proc.stderr, r"offset \d+")
                offset = int(proc.stderr.split("offset ")[1].split(":")[0])
                self.assertLessEqual(offset, at, "the block named holds the torn byte, or the torn byte is its header")
                if proc.returncode == 1:
                    errors += 1
                    self.assertFalse(os.path.exists(output))
                    self.assertFalse(os.path.exists(output + ".partial"))
                else:
                    self.assertIn("cut short", proc.stderr)
        self.assertGreater(errors, 0, "no flipped byte was an error")


class BenchReplays(unittest.TestCase):
    """./bench --replay: the recording's calls made again in ./bench's children, under the
    configurations a live program cannot run too (a release step, mallopt), measured as rows."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bench-replays-")
        _, cls.folder = record_program(cls.tmp)
        cls.name = os.path.basename(cls.folder)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_every_process_level_configuration_is_a_replay_instance(self):
        proc = subprocess.run(
            [BENCH_BINARY, f"--replay={self.folder}", "--benchmark_list_tests"], capture_output=True, text=True, timeout=300
        )
        self.assertEqual(proc.returncode, 0, proc.stderr)
        names = proc.stdout.split()
        configured = {name for name, c in available().items()}
        for configuration in ("glibc", "glibc-trim", "glibc-tuned"):  # a release step and mallopt: no live program runs them
            self.assertIn(f"replay:{self.name}/{configuration}", names)
        self.assertFalse([n for n in names if not n.startswith(f"replay:{self.name}/")], names)
        self.assertFalse([n for n in names if n.split("/")[-1] in ("pool", "pmr-pool", "boost-flat-map")], "container-level")
        self.assertLessEqual({n.split("/")[-1] for n in names}, set(configurations()) | configured)

    def test_a_replay_row_makes_every_recorded_call_and_runs_the_release_step_at_the_free_phase(self):
        chosen = ["glibc", "glibc-trim"] + [c for c in ("jemalloc",) if c in available()]
        filter_ = "^replay:.*/(" + "|".join(chosen) + ")$"
        _, data = run_bench(f"--replay={self.folder}", f"--benchmark_filter={filter_}", "--settle=200ms", timeout=600)
        replays = data["suite"]["replays"]
        summary = replays[self.name]["summary"]
        found = rows(data)
        self.assertEqual(len(found), len(chosen))
        for configuration in chosen:
            with self.subTest(configuration=configuration):
                row = found[f"replay:{self.name}/{configuration}"]
                self.assertEqual(row["replay_calls"], summary["calls"])
                self.assertEqual((row["replay_threads"], row["replay_failed"], row["replay_bad_ops"]), (3, 0, 0))
                self.assertEqual(row["replay_end_live_bytes"], summary["end_live_bytes"])
                # The recording's phases, read as ./bench reads a program's; the free phase is its
                # last (kept: the program's own), not the recorder's exit snapshot.
                for phase in ("start", "handed", "kept"):
                    self.assertIn(f"rss_at_{phase}", row)
                self.assertEqual(row["rss_cleared"], row["rss_at_kept"])
                self.assertGreaterEqual(row["rss_peak"], row["rss_cleared"])
                self.assertIn("malloc=", row["label"])
        trim = found[f"replay:{self.name}/glibc-trim"]
        self.assertGreater(trim["release_seconds"], 0)
        self.assertLessEqual(trim["rss_released"], trim["rss_cleared"])
        self.assertEqual(found[f"replay:{self.name}/glibc"]["release_seconds"], 0)

    def test_the_free_phase_can_be_another_of_the_recordings_phases(self):
        _, data = run_bench(
            f"--replay={self.folder}",
            "--benchmark_filter=^replay:.*/glibc$",
            "--replay-free-phase=handed",
            "--settle=100ms",
            timeout=600,
        )
        self.assertEqual(data["suite"]["replays"][self.name]["free_phase"], "handed")
        row = rows(data)[f"replay:{self.name}/glibc"]
        self.assertEqual(row["rss_cleared"], row["rss_at_handed"])

    def test_bad_sources_are_usage_errors_naming_them(self):
        foreign = os.path.join(self.tmp, "foreign.trace")
        with open(foreign, "w") as f:
            f.write("not a trace\n" * 100)
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty, exist_ok=True)
        for args, words in (
            ([f"--replay={self.tmp}/missing.trace"], "missing.trace: No such file"),
            ([f"--replay={foreign}"], "foreign.trace"),
            ([f"--replay={empty}"], "holds no trace"),
            ([f"--replay={self.folder},{self.folder}"], "two sources are named"),
            ([f"--replay={self.folder}", "--", "/bin/true"], "not with -- PROGRAM"),
            (["--replay-timing=slow", f"--replay={self.folder}"], "--replay-timing=slow"),
            ([f"--replay={self.folder}", "--replay-free-phase=nope"], "has no such phase (its phases: start, handed, kept"),
        ):
            with self.subTest(args=args):
                proc = subprocess.run([BENCH_BINARY, *args], capture_output=True, text=True, timeout=120)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn(words, proc.stderr)


class ReplayOfTheMap(unittest.TestCase):
    """A recording of the suite's own map, replayed as recorded: glibc keeps the cleared map, a
    release step returns it, and the growth is the live row's."""

    def test_the_replay_keeps_what_the_live_row_kept_and_the_release_step_returns_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            traces = os.path.join(tmp, "traces")
            _, live = run_bench(
                "--record", f"--record-dir={traces}", "--benchmark_filter=^map/glibc/", "--sizes=100000", "--settle=200ms"
            )
            live_row = rows(live)["map/glibc/100000"]
            (folder,) = glob.glob(os.path.join(traces, "*"))
            _, data = run_bench(f"--replay={folder}", "--benchmark_filter=/(glibc|glibc-trim)$", "--settle=500ms", timeout=600)
        found = rows(data)
        name = os.path.basename(folder)
        glibc, trim = found[f"replay:{name}/glibc"], found[f"replay:{name}/glibc-trim"]
        live_growth = live_row["rss_peak"] - live_row["rss_base"] - live_row.get("record_ring_bytes", 0)
        growth = glibc["rss_peak"] - glibc["rss_base"]
        self.assertGreater(growth, 0.7 * live_growth)
        self.assertLess(growth, 1.3 * live_growth + 2e6)
        self.assertGreater(glibc["retained_pct"], 80)
        self.assertLess(trim["retained_pct"], 40)
        self.assertIn("rss_at_cleared", glibc)
        self.assertEqual(glibc["rss_cleared"], glibc["rss_at_cleared"])


if __name__ == "__main__":
    unittest.main()
