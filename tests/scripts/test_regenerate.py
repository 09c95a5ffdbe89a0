"""scripts/run.sh records a run's times and how its folder is regenerated; scripts/regenerate.py --check finds every
file of a run folder that differs from what its run produces, and regenerate.py remakes them.

A run folder made by run.sh with a stand-in for ./bench (BENCH_BINARY: a script that writes a fixture as its
JSON), in a tree of its own (--root), so that nothing committed is touched. The committed runs themselves are
checked by the ctest test "regenerate" (tests/scripts.cmake).
"""

import datetime
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPTS = os.path.join(ROOT, "scripts")

FAKE_BENCH = """#!/bin/sh
# Stands in for ./bench: the fixture as the run's JSON; no configuration to list.
for a in "$@"; do
  case "$a" in
    --benchmark_out=*) cp "{fixture}" "${{a#--benchmark_out=}}" ;;
    --list-configs=json) echo '[]' ;;
  esac
done
"""


class TestRegenerate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory()
        cls.tree = os.path.join(cls._tmp.name, "tree")
        bench = os.path.join(cls._tmp.name, "bench")
        with open(bench, "w") as f:
            f.write(FAKE_BENCH.format(fixture=os.path.join(HERE, "fixtures", "command.json")))
        os.chmod(bench, 0o755)
        env = dict(
            os.environ,
            BENCH_BINARY=bench,
            BENCH_RUN_ID="fresh",
            BENCH_RESULTS_DIR=os.path.join(cls.tree, "results"),
            BENCH_PLOTS_DIR=os.path.join(cls.tree, "plots"),
            MPLBACKEND="Agg",
            PYTHONDONTWRITEBYTECODE="1",
        )
        cls.done = subprocess.run(
            [os.path.join(SCRIPTS, "run.sh"), "--", "true"], capture_output=True, text=True, env=env, timeout=600
        )
        cls.folder = os.path.join(cls.tree, "results", "fresh")

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def setUp(self):
        self.assertEqual(self.done.returncode, 0, self.done.stderr)
        # Each test works on a copy of the fresh tree.
        self._work = tempfile.TemporaryDirectory()
        self.root = os.path.join(self._work.name, "tree")
        shutil.copytree(self.tree, self.root)

    def tearDown(self):
        self._work.cleanup()

    def regenerate(self, *args):
        return subprocess.run(
            [sys.executable, os.path.join(SCRIPTS, "regenerate.py"), "--root", self.root, *args],
            capture_output=True,
            text=True,
            env=dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1"),
            timeout=600,
        )

    def at(self, *parts):
        return os.path.join(self.root, *parts)

    def test_run_sh_records_when_bench_ran(self):
        with open(os.path.join(self.folder, "environment.json")) as f:
            env = json.load(f)
        started, ended = (datetime.datetime.fromisoformat(env[k]) for k in ("started", "ended"))
        self.assertLessEqual(started, ended)
        self.assertAlmostEqual(env["duration_seconds"], (ended - started).total_seconds(), delta=1.0)
        with open(os.path.join(self.folder, "regenerate.json")) as f:
            self.assertEqual(json.load(f), {"arguments": []})
        with open(os.path.join(self.folder, "REPORT.md")) as f:
            self.assertIn(
                f"| ./bench ran | {round(env['duration_seconds'])} s, from {env['started']} to {env['ended']}", f.read()
            )

    def test_a_fresh_run_regenerates_as_it_is(self):
        done = self.regenerate("--check")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("1 runs checked, 0 file(s) differ", done.stderr)

    def test_every_changed_or_stale_file_is_named_and_regenerated(self):
        with open(self.at("results", "fresh", "REPORT.md"), "a") as f:
            f.write("A sentence typed by hand.\n")
        svg = self.at("plots", "fresh", "command.svg")
        with open(svg) as f:
            text = f.read()
        with open(svg, "w") as f:
            f.write(text.replace("RSS", "rss", 1))
        os.unlink(self.at("results", "fresh", "plots", "command.png"))
        with open(self.at("results", "fresh", "plots", "old_figure.svg"), "w") as f:
            f.write("<svg/>")
        os.makedirs(self.at("plots", "retired-run"))
        done = self.regenerate("--check")
        self.assertEqual(done.returncode, 1)
        for expected in (
            "results/fresh/REPORT.md: differs from what its run produces",
            "plots/fresh/command.svg: differs from what its run produces",
            "results/fresh/plots/command.png: missing or not a PNG",
            "results/fresh/plots/old_figure.svg: stale: no figure of the run's plan",
            "plots/retired-run: stale: no results/retired-run",
        ):
            self.assertIn(expected, done.stdout)
        shutil.rmtree(self.at("plots", "retired-run"))
        self.assertEqual(self.regenerate().returncode, 0)
        done = self.regenerate("--check")
        self.assertEqual(done.returncode, 0, done.stdout)

    def test_a_block_edited_by_hand_is_named_and_regenerated(self):
        os.makedirs(self.at("docs"))
        page = "# Your program\n\n<!-- generated: section:command from results/fresh -->\n<!-- end -->\n"
        with open(self.at("docs", "program.md"), "w") as f:
            f.write(page)
        done = self.regenerate("--check")
        self.assertEqual(done.returncode, 1)
        self.assertIn("docs/program.md: block section:command from results/fresh (line 3) differs", done.stdout)
        self.assertEqual(self.regenerate().returncode, 0)
        with open(self.at("docs", "program.md")) as f:
            made = f.read()
        self.assertIn("| configuration | wall (s) |", made)
        with open(self.at("docs", "program.md"), "w") as f:
            f.write(made.replace("| configuration | wall (s) |", "| configuration | wall time (s) |"))
        done = self.regenerate("--check")
        self.assertEqual(done.returncode, 1)
        self.assertIn("docs/program.md: block section:command from results/fresh (line 3) differs", done.stdout)

    def test_a_png_of_another_figure_is_found(self):
        with open(self.at("plots", "fresh", "command.png"), "wb") as f:  # the PNG header of a 10 x 10 image
            f.write(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + struct.pack(">II", 10, 10))
        done = self.regenerate("--check")
        self.assertEqual(done.returncode, 1)
        self.assertIn("plots/fresh/command.png: ", done.stdout)
        self.assertIn("not the size of its figure", done.stdout)

    def test_a_folder_that_does_not_say_how_it_is_regenerated_is_bad_input(self):
        os.unlink(self.at("results", "fresh", "regenerate.json"))
        done = self.regenerate("--check")
        self.assertEqual(done.returncode, 2)
        self.assertIn("results/fresh/regenerate.json: missing", done.stderr)

    def test_an_argument_the_scripts_refuse_is_bad_input(self):
        with open(self.at("results", "fresh", "regenerate.json"), "w") as f:
            json.dump({"arguments": ["--no-such-option"]}, f)
        done = self.regenerate("--check")
        self.assertEqual(done.returncode, 2)
        self.assertIn("results/fresh/regenerate.json: ", done.stderr)
        self.assertIn("--no-such-option", done.stderr)


if __name__ == "__main__":
    unittest.main()
