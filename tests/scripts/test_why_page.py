"""The committed why.sh page (docs/why-example) is what this code answers from its runs: scripts/why.py
--again writes its answer.json and WHY.md again from record/, replay/ and replay-fast/ bench.json, and they
must match the committed ones byte for byte (the page's figures are generated, never typed). A folder that
is no why.sh run is one line and exit status 2. And the rule (benchlib/answer.py) on ways made up for it.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WHY = os.path.join(ROOT, "scripts", "why.py")
EXAMPLE = os.path.join(ROOT, "docs", "why-example")


def again(folder):
    return subprocess.run(
        [sys.executable, WHY, f"--again={folder}"],
        capture_output=True,
        text=True,
        env=dict(os.environ, MPLBACKEND="Agg"),
        timeout=300,
    )


class TestWhyPage(unittest.TestCase):
    def test_the_committed_page_is_what_its_runs_answer(self):
        with tempfile.TemporaryDirectory() as tmp:
            copy = os.path.join(tmp, "example")
            for folder, _, files in os.walk(EXAMPLE):
                for name in files:
                    if name.endswith((".json", ".md")):
                        source = os.path.join(folder, name)
                        target = os.path.join(copy, os.path.relpath(source, EXAMPLE))
                        os.makedirs(os.path.dirname(target), exist_ok=True)
                        shutil.copy(source, target)
            process = again(copy)
            self.assertEqual(process.returncode, 0, process.stderr)
            for name in ("answer.json", "WHY.md"):
                with open(os.path.join(EXAMPLE, name)) as f, open(os.path.join(copy, name)) as g:
                    self.assertEqual(f.read(), g.read(), f"docs/why-example/{name} differs from what its runs answer")
            self.assertTrue(os.path.exists(os.path.join(copy, "why.png")))

    def test_a_folder_that_is_no_why_run_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            process = again(tmp)
            self.assertEqual(process.returncode, 2)
            lines = process.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, process.stderr)
            self.assertIn("no answer.json of a why.sh run", lines[0])


sys.path.insert(0, os.path.join(ROOT, "scripts"))
from benchlib import answer  # noqa: E402


def way(name, kind, kept, low, high, repetitions=3, peak=100e6):
    cost = {"ns_per_call": (low + high) / 2, "ns_per_call_range": [low, high], "repetitions": repetitions}
    return {"configuration": name, "kind": kind, "kept_after_idle": kept, "kept_at_end": kept, "peak": peak, "fast": cost}


class TestTheRule(unittest.TestCase):
    """benchlib/answer.py's rule on ways made up for it: the order of kinds, the cost, and the noise."""

    found = {"free": 50e6, "pinned": 1e6}

    def advice(self, *ways):
        own = way("glibc", "own", 60e6, 100, 110)
        ways = [own, *ways]
        answer.weigh(self.found, ways, own)
        return answer.advise(self.found, ways, own)

    def test_a_knob_comes_before_a_cheaper_release_call(self):
        a = self.advice(way("glibc-tuned", "knob", 5e6, 300, 310), way("glibc-trim", "release call", 5e6, 100, 105))
        self.assertEqual((a["configuration"], a["kind"]), ("glibc-tuned", "knob"))

    def test_a_way_that_returns_too_little_or_raises_the_peak_does_not_count(self):
        a = self.advice(
            way("glibc-tuned", "knob", 30e6, 100, 101),
            way("glibc-big", "knob", 5e6, 100, 101, peak=200e6),
            way("jemalloc-decay0", "allocator", 5e6, 200, 210),
        )
        self.assertEqual(a["configuration"], "jemalloc-decay0")

    def test_within_the_kind_the_cheapest_and_those_within_its_noise_named(self):
        a = self.advice(
            way("a", "allocator", 5e6, 200, 230), way("b", "allocator", 5e6, 180, 205), way("c", "allocator", 5e6, 400, 420)
        )
        self.assertEqual(a["configuration"], "b")
        self.assertEqual(a["within_noise"], ["a"], "a's range overlaps b's; c's does not")

    def test_one_repetition_cannot_tell_costs_apart(self):
        a = self.advice(way("a", "allocator", 5e6, 200, 200, 1), way("b", "allocator", 5e6, 400, 400, 1))
        self.assertEqual((a["configuration"], a["within_noise"]), ("a", ["b"]))

    def test_pinned_and_nothing_to_return(self):
        own = way("glibc", "own", 60e6, 100, 110)
        self.assertEqual(answer.advise({"free": 1e6, "pinned": 3e6}, [own], own)["verdict"], "nothing to return")
        self.assertEqual(answer.advise({"free": 10e6, "pinned": 30e6}, [own], own)["verdict"], "pinned")


if __name__ == "__main__":
    unittest.main()
