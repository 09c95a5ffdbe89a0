"""`--record`: every allocation call of a program or a workload recorded by the interposer into a ring,
written into traces by a writer process outside it, and free or pinned said from the recording
(benchmarks/trace/). Held against the heap map in the same process; followed across threads, fork,
execve and SIGKILL; bad traces named by offset; a full disk an error row, the program unharmed.

Run by ctest (label `record`) with BENCH_BINARY, BENCH_HEAP_SHAPE, BENCH_TEST_PROGRAM set. No
assertion depends on a duration.
"""

import json
import os
import shutil
import struct
import subprocess
import tempfile
import unittest

from benchrun import BENCH, TEST_PROGRAM, available

HEAP_SHAPE = os.environ.get("BENCH_HEAP_SHAPE", "build/tests/bench_heap_shape")
CLASSES = ("free", "pinned", "used", "outside")


def record(*args, cwd):
    """(process, {name: iteration row}, suite) of ./bench --record ... writing into `cwd`."""
    out = os.path.join(cwd, f"run{len(os.listdir(cwd))}.json")
    proc = subprocess.run(
        [BENCH, "--record", f"--benchmark_out={out}", "--command-output=discard", *args],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=cwd,
    )
    data = None
    if os.path.exists(out):
        with open(out) as f:
            data = json.load(f)
    rows = {b["name"]: b for b in (data or {}).get("benchmarks", []) if b.get("run_type") == "iteration"}
    return proc, rows, (data or {}).get("suite", {})


def trace_info(directory):
    proc = subprocess.run([BENCH, f"--trace-info={directory}"], capture_output=True, text=True, timeout=600)
    return proc, json.loads(proc.stdout) if proc.returncode == 0 else None


def close(a, b, share=0.02, floor=64 * 1024):
    return abs(a - b) <= max(share * max(abs(a), abs(b)), floor)


class Tmp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bench-record-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def folder(self, row_prefix):
        traces = os.path.join(self.tmp, "traces")
        found = [d for d in sorted(os.listdir(traces)) if d.startswith(row_prefix)]
        self.assertTrue(found, f"no trace folder {row_prefix}* in {os.listdir(traces)}")
        return os.path.join(traces, found[0])


class AgreesWithTheHeapMap(Tmp):
    """Both on at once: the recording's classes, read from outside, and the heap map's, read inside."""

    def test_a_heap_of_known_shape(self):
        configurations = "glibc|jemalloc" if "jemalloc" in available() else "glibc"
        proc, rows, suite = record(
            "--heap-map", f"--benchmark_filter=^command/({configurations})$", "--", HEAP_SHAPE, "1024", cwd=self.tmp
        )
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        for name, row in rows.items():
            for c in CLASSES:
                self.assertTrue(
                    close(row[f"trace_exit_{c}"], row[f"heap_exit_{c}"]),
                    f"{name} {c}: {row[f'trace_exit_{c}']} vs {row[f'heap_exit_{c}']}",
                )
            self.assertGreater(row["trace_exit_pinned"], 1024 * 4096 * 0.7)  # a live block in each page of region A
            top = suite["trace_maps"][name][0]["moments"][-1]["sites"][0]
            self.assertIn("keep_one_per_page", top["frames"][0])
            self.assertEqual(top["frames"], suite["heap_maps"][name][0]["moments"][-1]["sites"][0]["frames"])
            self.assertEqual(row["record_traces"], 1)
            self.assertIn("recorded into", row["label"])

    def test_one_caller_reached_by_two_chains_is_cached_under_both(self):
        # 20,000 calls from one return address at one stack pointer, the frame above it alternating:
        # a cache of one entry a key would miss on every call; both chains stay cached, and every
        # site the cache gives is the one libgcc unwinds (--check-unwind).
        proc, rows, _ = record(
            "--check-unwind",
            "--benchmark_filter=^command/glibc$",
            "--",
            HEAP_SHAPE,
            "16",
            "--two-chains=20000",
            cwd=self.tmp,
        )
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        row = rows["command/glibc"]
        self.assertGreater(row["record_events"], 40000)
        self.assertLess(row["record_unwind_misses"], 1000, row["record_unwind_misses"])
        self.assertGreater(row["record_unwind_checked"], 20000)
        self.assertEqual(row["record_unwind_disagreed"], 0)

    def test_a_phase_counts_the_measured_processes_only(self):
        # The program (python3, not measured) holds 30 MB and starts a child named `holder` (measured,
        # --measure=holder) holding 2 MB, then reports a phase: the heap map asks only the measured
        # child for its moment, and the recording's classes at that phase must cover the same process
        # (Redis's scenario records its Python client beside redis-server).
        child = (
            "import ctypes, sys\n"
            "ctypes.CDLL(None).prctl(15, b'holder', 0, 0, 0)\n"
            "keep = [bytearray(4096) for _ in range(500)]\n"
            "print('ready', flush=True)\n"
            "sys.stdin.readline()\n"
        )
        parent = (
            "import os, socket, subprocess, sys\n"
            "s = socket.socket(fileno=int(os.environ['BENCH_REPORT_FD']))\n"
            f"c = subprocess.Popen([sys.executable, '-c', {child!r}], stdin=subprocess.PIPE, stdout=subprocess.PIPE)\n"
            "c.stdout.readline()\n"
            "big = [bytearray(100000) for _ in range(300)]\n"
            "s.sendall(b'phase held\\n')\n"
            "s.makefile('rb').readline()\n"
            "c.stdin.close()\n"
            "c.wait()\n"
        )
        proc, rows, _ = record(
            "--heap-map",
            "--measure=holder",
            "--benchmark_filter=^command/glibc$",
            "--",
            "/usr/bin/python3",
            "-c",
            parent,
            cwd=self.tmp,
        )
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        row = rows["command/glibc"]
        self.assertGreater(row["heap_held_live"], 2e6)
        self.assertLess(row["trace_held_live"], 10e6, "the unmeasured parent's 30 MB counted")
        for c in CLASSES + ("live",):
            self.assertTrue(
                close(row[f"trace_held_{c}"], row[f"heap_held_{c}"]), f"{c}: {row[f'trace_held_{c}']} vs {row[f'heap_held_{c}']}"
            )

    def test_a_cleared_map_and_a_fragmented_one(self):
        proc, rows, suite = record(
            "--heap-map", "--benchmark_filter=^(map|fragment)/glibc/", "--sizes=100000", "--settle=200ms", cwd=self.tmp
        )
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        for name, row in rows.items():
            for moment in ("cleared", "final"):
                for c in CLASSES:
                    self.assertTrue(close(row[f"trace_{moment}_{c}"], row[f"heap_{moment}_{c}"]), f"{name} {moment} {c}")
            # A few frees, at exit, of blocks allocated before the interposer's constructor ran (the
            # heap map's count stops at its last snapshot).
            self.assertLess(row["trace_unknown_frees"], 16, name)
        # The cleared map is free, all of it: most of the growth, once the heap map's own tables
        # (which share the process) are taken out, and nearly all of what the trace classified.
        cleared = rows["map/glibc/100000"]
        growth = cleared["rss_peak"] - cleared["rss_base"] - cleared["heap_cleared_own"]
        self.assertGreater(cleared["trace_cleared_free"], 0.8 * growth)
        classified = sum(cleared[f"trace_cleared_{c}"] for c in ("free", "pinned", "used"))
        self.assertGreater(cleared["trace_cleared_free"], 0.95 * classified)
        fragment = rows["fragment/glibc/100000"]
        self.assertGreater(fragment["trace_cleared_pinned"], 10 * fragment["trace_cleared_free"])
        heap_top = suite["heap_maps"]["fragment/glibc/100000"][0]["moments"][0]["sites"][0]["frames"]
        trace_top = suite["trace_maps"]["fragment/glibc/100000"][0]["moments"][0]["sites"][0]["frames"]
        self.assertEqual(trace_top, heap_top)

    def test_blocks_freed_in_another_thread(self):
        proc, rows, _ = record(
            "--heap-map", "--benchmark_filter=^threads_handoff/glibc/", "--sizes=100000", "--settle=200ms", cwd=self.tmp
        )
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        row = rows["threads_handoff/glibc/100000"]
        self.assertLess(row["trace_unknown_frees"], 16)
        for c in CLASSES:
            self.assertTrue(close(row[f"trace_final_{c}"], row[f"heap_final_{c}"]), c)
        _, info = trace_info(self.folder("threads_handoff"))
        self.assertGreaterEqual(info["traces"][0]["threads"], 2)
        self.assertGreater(info["traces"][0]["kinds"].get("thread_start", 0), 1)


def events_blocks(path):
    """The number of events blocks in a trace file (format.h: the file header, then 20-byte block headers)."""
    with open(path, "rb") as f:
        data = f.read()
    _, text_length = struct.unpack_from("<II", data, 8)
    at, count = 20 + text_length, 0
    while at + 20 <= len(data):
        _, kind, _, _, stored, _, _ = struct.unpack_from("<IBBHIII", data, at)
        count += kind == 1
        at += 20 + stored
    return count


class ASlowProgramsTrace(Tmp):
    def test_its_events_are_held_into_few_blocks(self):
        # 40 bursts of about 1,000 calls (blocks above pymalloc's 512 bytes), 10 ms apart: the writer drains about 40 times with events,
        # and holds them to its flush (a second) or a block's worth: a few blocks, not one a drain.
        script = "import time\nfor i in range(40):\n    b = [bytearray(1000) for _ in range(500)]\n    time.sleep(0.01)\n"
        proc, rows, _ = record("--benchmark_filter=^command/glibc$", "--", "/usr/bin/python3", "-c", script, cwd=self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        row = rows["command/glibc"]
        self.assertGreater(row["record_events"], 40 * 1000)
        folder = self.folder("glibc")
        (trace,) = [os.path.join(folder, name) for name in os.listdir(folder)]
        self.assertLessEqual(events_blocks(trace), 10)
        _, info = trace_info(folder)
        self.assertGreaterEqual(info["traces"][0]["kinds"].get("malloc", 0), 40 * 500)


class WhateverAProgramDoes(Tmp):
    def test_fork_gives_each_process_its_own_trace(self):
        script = "import os\nb = [bytes(100) for _ in range(2000)]\np = os.fork()\nif p == 0:\n    c = [bytes(200) for _ in range(3000)]\n    os._exit(0)\nos.waitpid(p, 0)\n"
        proc, rows, _ = record("--benchmark_filter=^command/glibc$", "--", "/usr/bin/python3", "-c", script, cwd=self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        _, info = trace_info(self.folder("glibc"))
        by_pid = {t["pid"]: t for t in info["traces"]}
        self.assertEqual(len(by_pid), 2, [t["path"] for t in info["traces"]])
        parent = min(info["traces"], key=lambda t: t["pid"] if t["kinds"].get("fork") else 1 << 30)
        self.assertEqual(parent["kinds"].get("fork"), 1)
        child = [t for t in info["traces"] if t["pid"] != parent["pid"]][0]
        self.assertEqual(child["parent"], parent["pid"])
        self.assertEqual(rows["command/glibc"]["record_traces"], 2)

    def test_exec_ends_an_image_and_starts_the_next(self):
        proc, rows, _ = record("--benchmark_filter=^command/glibc$", "--", "sh", "-c", "exec /usr/bin/env true", cwd=self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        _, info = trace_info(self.folder("glibc"))
        images = sorted((t["pid"], t["image"], t["end"].get("reason")) for t in info["traces"])
        pids = {pid for pid, _, _ in images}
        self.assertEqual(len(pids), 1, images)
        self.assertGreaterEqual(len(images), 2, images)
        self.assertEqual(images[0][2], "exec")

    def test_a_program_killed_by_sigkill_leaves_its_events(self):
        # The test program holds a million blocks, then is killed: the writer drains its chunks anyway.
        script = f"{TEST_PROGRAM} 1000000 5000 --hold & sleep 1; kill -9 $!; wait"
        proc, rows, _ = record("--benchmark_filter=^command/glibc$", "--", "sh", "-c", script, cwd=self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        _, info = trace_info(self.folder("glibc"))
        killed = [t for t in info["traces"] if "bench_test_prog" in t["executable"]]
        self.assertEqual(len(killed), 1, [t["executable"] for t in info["traces"]])
        self.assertEqual(killed[0]["end"].get("reason"), "gone")
        self.assertGreaterEqual(killed[0]["kinds"].get("malloc", 0) + killed[0]["kinds"].get("new", 0), 1_000_000)
        # The shell ends with _exit, without exit handlers: "gone" too.
        self.assertGreaterEqual(rows["command/glibc"]["record_cut_short"], 1)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("mount"), "a tiny tmpfs needs root")
    def test_a_full_disk_is_an_error_row_and_the_program_runs_on(self):
        disk = os.path.join(self.tmp, "disk")
        os.makedirs(disk)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", disk]).returncode != 0:
            self.skipTest("mount -t tmpfs is not allowed here")
        self.addCleanup(subprocess.run, ["umount", disk])
        output = os.path.join(self.tmp, "out")
        proc = subprocess.run(
            [
                BENCH,
                "--record",
                f"--record-dir={disk}",
                "--benchmark_filter=^command/glibc$",
                f"--benchmark_out={self.tmp}/o.json",
                f"--command-output={output}",
                "--",
                os.path.join(os.path.dirname(BENCH), "bench_alloc_churn"),
                "4000000",
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        self.assertEqual(proc.returncode, 1, proc.stderr[-2000:])
        with open(f"{self.tmp}/o.json") as f:
            row = [b for b in json.load(f)["benchmarks"] if b.get("run_type") == "iteration"][0]
        self.assertIn("could not be written", row["error_message"])
        self.assertIn("No space left on device", row["error_message"])
        with open(os.path.join(output, "glibc.0.stdout")) as f:
            self.assertIn("4000000 calls", f.read(), "the program did not finish")


class BadTraces(Tmp):
    def make(self):
        proc, _, _ = record("--benchmark_filter=^command/glibc$", "--", HEAP_SHAPE, "256", cwd=self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        folder = self.folder("glibc")
        return folder, os.path.join(folder, os.listdir(folder)[0])

    def test_a_trace_cut_short_is_read_to_its_clean_prefix_with_a_warning(self):
        folder, path = self.make()
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            f.truncate(size - 100)  # inside its last block (the end block is longer than that)
        proc, info = trace_info(folder)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("stops at offset", info["traces"][0]["warning"])
        self.assertFalse(info["traces"][0]["ended"])

    def test_a_torn_block_is_an_error_naming_its_offset(self):
        folder, path = self.make()
        with open(path, "r+b") as f:
            data = bytearray(f.read())
            middle = len(data) // 2
            data[middle] ^= 0xFF
            f.seek(0)
            f.write(data)
        proc, info = trace_info(folder)
        self.assertEqual(proc.returncode, 2)
        self.assertIsNone(info)
        self.assertRegex(proc.stderr, r"offset \d+: (the block's checksum does not match|no block starts here)")

    def test_a_foreign_file_is_not_a_trace(self):
        folder = os.path.join(self.tmp, "foreign")
        os.makedirs(folder)
        with open(os.path.join(folder, "1.0.trace"), "wb") as f:
            f.write(b"#!/bin/sh\necho not a trace\n")
        proc, _ = trace_info(folder)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("offset 0: not a trace", proc.stderr)
        proc, _ = trace_info(self.tmp)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("no trace", proc.stderr)


if __name__ == "__main__":
    unittest.main()
