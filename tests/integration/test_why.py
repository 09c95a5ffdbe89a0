"""scripts/why.sh: one program, one page. On the suite's own program whose answer is known
(benchmarks/programs/keeps.cc), each case expects different advice: memory kept free under glibc
(a release call at the moment), the same under jemalloc (a knob of its own), and memory pinned at
keep_one (no way out; the site named). Bad input is one line and exit status 2.

A few configurations each, one fast repetition: the rule, not the allocators, is under test here.
"""

import json
import os
import subprocess
import tempfile
import unittest

from benchlib.sections import heap
from benchrun import BENCH, ROOT, TEST_PROGRAM_STATIC, available

WHY = os.path.join(ROOT, "scripts", "why.sh")
KEEPS = os.environ.get("BENCH_KEEPS", os.path.join(os.path.dirname(BENCH), "bench_keeps"))
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def why(*args, env=None, out=None):
    environment = dict(os.environ, BENCH_BINARY=BENCH, **(env or {}))
    folder = out or tempfile.mkdtemp(prefix="why-test-")
    target = os.path.join(folder, "page")
    process = subprocess.run([WHY, f"--out={target}", *args], capture_output=True, text=True, env=environment, timeout=900)
    return process, target


def page(target):
    with open(os.path.join(target, "answer.json")) as f:
        return json.load(f)


class Answers(unittest.TestCase):
    def answered(self, configurations, program, env=None):
        needed = [c for c in configurations.split("|")]
        missing = [c for c in needed if c not in available()]
        if missing:
            self.skipTest(f"{', '.join(missing)} unavailable")
        process, target = why(f"--configurations=^({configurations})$", "--fast-repetitions=1", "--", KEEPS, *program, env=env)
        self.assertEqual(process.returncode, 0, process.stderr)
        for name in ("WHY.md", "why.png", "record/REPORT.md", "replay/REPORT.md", "replay/bench.json"):
            self.assertTrue(os.path.exists(os.path.join(target, name)), name)
        self.assertIn("planned", process.stderr, "the plan is stated")
        with open(os.path.join(target, "WHY.md")) as f:
            return page(target), f.read()

    def test_free_under_glibc_is_a_release_call(self):
        a, text = self.answered("glibc-trim|glibc-tuned|jemalloc", ["free", "48", "1"])
        self.assertEqual(a["own"], "glibc")
        self.assertEqual(a["moment"], "freed")
        self.assertGreater(a["classes"]["free"], 0.8 * 48e6, "the recording sees the freed blocks as free pages")
        self.assertEqual(a["advice"]["verdict"], "free")
        self.assertEqual(a["advice"]["kind"], "release call")
        self.assertEqual(a["advice"]["configuration"], "glibc-trim")
        self.assertIn("malloc_trim(0)", text.split("## The moment")[0])
        self.assertIsNotNone(a["fidelity"]["within"])

    def test_free_under_jemalloc_is_a_knob_of_its_own(self):
        a, text = self.answered(
            "jemalloc|jemalloc-decay0|jemalloc-purge|glibc-trim", ["free", "48", "1"], env={"LD_PRELOAD": JEMALLOC}
        )
        self.assertEqual(a["own"], "jemalloc", "the allocator LD_PRELOAD names is the program's own")
        self.assertIn("jemalloc", a["own_label"])
        self.assertEqual(a["advice"]["verdict"], "free")
        self.assertEqual(a["advice"]["kind"], "knob")
        self.assertTrue(a["advice"]["configuration"].startswith("jemalloc-"))
        self.assertIn("MALLOC_CONF", text.split("## The moment")[0])

    def test_pinned_names_the_site_and_no_way_out(self):
        a, text = self.answered("glibc-trim|jemalloc", ["pinned", "48", "1"])
        self.assertEqual(a["advice"]["verdict"], "pinned")
        self.assertIsNone(a["advice"]["configuration"])
        self.assertGreater(a["classes"]["pinned"], 0.8 * 48e6)
        self.assertIn("keep_one", a["sites"][0]["frames"][0])
        self.assertIn("keep_one", text.split("## The moment")[0])
        trim = next(w for w in a["ways"] if w["configuration"] == "glibc-trim")
        self.assertLess(trim["returned"], 0.2 * a["classes"]["pinned"], "malloc_trim cannot return pinned pages")
        # The idle time ends at the program's next call (its frees of the kept blocks), and every replay
        # reads what it keeps just before it — never after those frees, wherever a sample fell.
        self.assertTrue(a["idle_ends_at_a_call"])
        self.assertGreaterEqual(a["idle_seconds"], 1.0)
        for way in a["ways"]:
            self.assertGreater(way["kept_after_idle"], 0.8 * a["classes"]["pinned"], way["configuration"])

    def test_redis_after_nine_keys_in_ten_are_deleted_is_pinned_at_sdsnewlen(self):
        # Debian's redis-server (it links jemalloc) under the suite's Redis scenario at a tenth of its
        # keys, asked about `freed`: pinned by the values' strings, as the committed heap-map run says.
        if not os.path.exists("/usr/bin/redis-server") or "jemalloc" not in available():
            self.skipTest("redis-server or jemalloc unavailable")
        scenario = os.path.join(ROOT, "benchmarks", "scenarios", "redis.py")
        process, target = why(
            "--moment=freed",
            "--measure=redis-server",
            "--configurations=^(jemalloc|jemalloc-decay0|glibc-trim)$",
            "--fast-repetitions=1",
            "--",
            "/usr/bin/env",
            "BENCH_SCALE=0.1",
            "BENCH_SETTLE_SECONDS=1",
            "/usr/bin/python3",
            scenario,
        )
        self.assertEqual(process.returncode, 0, process.stderr)
        a = page(target)
        self.assertEqual(a["own"], "jemalloc", "redis-server links jemalloc")
        self.assertEqual(a["moment"], "freed")
        self.assertEqual(a["advice"]["verdict"], "pinned")
        self.assertGreater(a["classes"]["pinned"], 0.5 * (a["classes"]["pinned"] + a["classes"]["free"] + a["classes"]["used"]))
        top = heap.without_executable(a["sites"][0]["frames"][:3])
        self.assertIn("_sdsnewlen", " ".join(top))
        with open(os.path.join(ROOT, "results", "record-heap-map-programs", "bench.json")) as f:
            committed = json.load(f)["suite"]["heap_maps"]["redis/jemalloc"][0]["moments"]
        freed = next(m for m in committed if m["moment"] == "freed")
        self.assertEqual(top, heap.without_executable(freed["sites"][0]["frames"][:3]), "the committed heap map's top site")
        for way in a["ways"]:
            self.assertLess(way["returned"], 0.2 * a["classes"]["pinned"], way["configuration"])


class BadInput(unittest.TestCase):
    def refused(self, *args, env=None):
        process, target = why(*args, env=env)
        self.assertEqual(process.returncode, 2, process.stderr)
        lines = process.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, process.stderr)
        self.assertTrue(lines[0].startswith("why.sh: "), lines[0])
        self.assertFalse(os.path.exists(target), "nothing is written for bad input")
        return lines[0]

    def test_no_program(self):
        self.assertIn("no program", self.refused())
        self.assertIn("no program", self.refused("--"))

    def test_a_program_that_is_not_there(self):
        self.assertIn("not found", self.refused("--", "no-such-program-here"))

    def test_a_file_that_is_not_executable(self):
        with tempfile.NamedTemporaryFile(suffix=".txt") as f:
            self.assertIn("not an executable", self.refused("--", f.name))

    def test_a_static_binary(self):
        self.assertIn("statically linked", self.refused("--", TEST_PROGRAM_STATIC))

    def test_an_unknown_preload(self):
        line = self.refused("--", KEEPS, "free", "1", env={"LD_PRELOAD": "libm.so.6"})
        self.assertIn("libm.so.6", line)

    def test_a_flag_it_sets_itself(self):
        self.assertIn("sets this itself", self.refused("--record", "--", KEEPS, "free", "1"))


if __name__ == "__main__":
    unittest.main()
