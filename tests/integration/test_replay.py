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

from benchrun import available, rows, run_bench

PROGRAM = os.environ.get("BENCH_REPLAY_PROGRAM", "build/tests/bench_replay_program")
CONVERT = os.environ.get("BENCH_REPLAY_CONVERT", "build/bench_replay_convert")
REPLAY = os.environ.get("BENCH_REPLAY", "build/bench_replay")
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


class RecordedProgram(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bench-replay-")
        traces = os.path.join(cls.tmp, "traces")
        proc, data = run_bench(
            "--record",
            f"--record-dir={traces}",
            "--benchmark_filter=^command/glibc$",
            "--command-output=discard",
            "--",
            PROGRAM,
            str(BLOCKS),
            timeout=600,
        )
        cls.row = rows(data)["command/glibc"]
        folders = glob.glob(os.path.join(traces, "*"))
        assert len(folders) == 1, folders
        cls.traces = folders[0]
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
        (trace,) = glob.glob(os.path.join(self.traces, "*.trace"))
        torn = os.path.join(self.tmp, "torn.trace")
        shutil.copy(trace, torn)
        at = os.path.getsize(trace) // 2
        with open(torn, "r+b") as f:
            f.seek(at)
            byte = f.read(1)
            f.seek(at)
            f.write(bytes([byte[0] ^ 0xFF]))
        output = os.path.join(self.tmp, "torn.workload")
        proc, _ = convert(torn, output)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertRegex(proc.stderr, r"offset \d+: ")
        offset = int(proc.stderr.split("offset ")[1].split(":")[0])
        self.assertLessEqual(offset, at, "the block named holds the torn byte, or the torn byte is its header")
        self.assertFalse(os.path.exists(output))
        self.assertFalse(os.path.exists(output + ".partial"))


if __name__ == "__main__":
    unittest.main()
