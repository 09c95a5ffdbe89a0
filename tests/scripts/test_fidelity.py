"""Tests of the fidelity table (benchlib/fidelity.py, scripts/fidelity.py, the report's section "Does the replay stand
for the program") on the committed runs: results/replay-churn-live (bench_alloc_churn live, 3 repetitions under every
configuration), results/replay-churn-recorded (recorded once under glibc) and results/replay-churn (its replays, with
the table fidelity.py wrote).
"""

import copy
import json
import os
import shutil
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from test_scripts import TempDirTestCase, run_script  # noqa: E402

from benchlib import fidelity, gbjson  # noqa: E402
from benchlib import section as section_module  # noqa: E402
from benchlib.sections import fidelity as fidelity_section  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
LIVE = os.path.join(ROOT, "results", "replay-churn-live", "bench.json")
RECORDED = os.path.join(ROOT, "results", "replay-churn-recorded", "bench.json")
REPLAY = os.path.join(ROOT, "results", "replay-churn", "bench.json")


def runs():
    return gbjson.load_run(LIVE), gbjson.load_run(REPLAY), gbjson.load_run(RECORDED)


def entry(table, configuration):
    (t,) = table.values()
    return next(e for e in t["configurations"] if e["configuration"] == configuration)


def move(run, configuration, counters, by):
    """The replay rows of `configuration` with `counters` moved by `by` bytes."""
    for row in run.rows:
        if row.name.startswith("replay:") and row.configuration == configuration:
            for c in counters:
                row.counters[c] += by


class TestTable(unittest.TestCase):
    def test_the_committed_table_is_what_the_runs_give(self):
        live, replay, recorded = runs()
        self.assertTrue(replay.suite.fidelity, "results/replay-churn holds the table scripts/fidelity.py writes")
        fresh = json.loads(json.dumps(fidelity.table(live, replay, recorded)))
        committed = copy.deepcopy(replay.suite.fidelity)
        for t in (fresh, committed):
            for name in t:
                t[name]["live_run"] = os.path.relpath(os.path.join(ROOT, t[name]["live_run"]), ROOT)
        self.assertEqual(fresh, committed)

    def test_every_configuration_run_both_ways_is_held_and_no_other(self):
        live, replay, recorded = runs()
        (t,) = fidelity.table(live, replay, recorded).values()
        both = {r.configuration for r in live.rows if r.ok_iteration} & {r.configuration for r in replay.rows if r.ok_iteration}
        self.assertEqual({e["configuration"] for e in t["configurations"]}, both)
        self.assertNotIn("glibc-trim", both, "a release step has no live counterpart")
        self.assertEqual(t["free_phase"], "freed")  # bench_alloc_churn's last phase: its own

    def test_a_replay_figure_moved_beyond_the_tolerance_misses_and_only_it(self):
        live, replay, recorded = runs()
        before = entry(fidelity.table(live, replay, recorded), "glibc")
        self.assertEqual(before["misses"], [], before)
        move(replay, "glibc", ["rss_cleared"], -(before["returned_free"]["tolerance"] + 1e6))
        after = entry(fidelity.table(live, replay, recorded), "glibc")
        self.assertEqual(after["misses"], ["returned_free"])
        self.assertFalse(after["returned_free"]["within"])
        self.assertTrue(after["growth"] is None or after["growth"]["within"])

    def test_the_tolerance_is_the_live_spread_plus_a_tenth_or_5_mb(self):
        self.assertEqual(fidelity.tolerance([10e6, 12e6, 11e6]), 2e6 + 5e6)
        self.assertEqual(fidelity.tolerance([100e6, 100e6, 104e6]), 4e6 + 10e6)

    def test_a_replay_that_orders_two_configurations_the_other_way_is_named(self):
        live, replay, recorded = runs()
        (t,) = fidelity.table(live, replay, recorded).values()
        self.assertGreater(t["order"]["pairs"], 0, "jemalloc-decay0 returns what the others keep, live")
        # Replayed, glibc now returns more than jemalloc-decay0 does.
        decay0 = entry({"x": t}, "jemalloc-decay0")
        move(replay, "glibc", ["rss_cleared", "rss_at_freed"], -(decay0["returned_end"]["replay"] + 20e6))
        (t,) = fidelity.table(live, replay, recorded).values()
        self.assertIn(["glibc", "jemalloc-decay0"], [sorted(pair) for pair in t["order"]["reversed"]])
        self.assertLess(t["order"]["same"], t["order"]["pairs"])

    def test_runs_of_the_wrong_kind_are_refused(self):
        live, replay, recorded = runs()
        with self.assertRaisesRegex(ValueError, "replays no recording"):
            fidelity.table(live, live)
        with self.assertRaisesRegex(ValueError, "no run of a program"):
            fidelity.table(replay, replay)


class TestScriptAndSection(TempDirTestCase):
    def test_the_script_writes_the_table_into_the_replay_run_and_the_report_shows_it(self):
        path = self.path("replay.json")
        with open(REPLAY) as f:
            doc = json.load(f)
        del doc["suite"]["fidelity"]
        with open(path, "w") as f:
            json.dump(doc, f)
        report = section_module.Report(gbjson.load_run(path), [])
        self.assertIn("holds no fidelity table", "\n".join(fidelity_section.render(report)))
        done = run_script("fidelity.py", LIVE, path, "--recording", RECORDED)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("pairs that differ live ordered the same way", done.stdout)
        with open(path) as f:
            written = json.load(f)["suite"]["fidelity"]
        with open(REPLAY) as f:
            committed = json.load(f)["suite"]["fidelity"]
        for name in committed:
            self.assertEqual(written[name]["configurations"], committed[name]["configurations"])
            self.assertEqual(written[name]["order"], committed[name]["order"])
        text = "\n".join(fidelity_section.render(section_module.Report(gbjson.load_run(path), [])))
        self.assertIn("| jemalloc-decay0 |", text)
        self.assertIn("configurations within on every figure", text)

    def test_a_miss_is_marked_in_the_report(self):
        path = self.path("replay.json")
        with open(REPLAY) as f:
            doc = json.load(f)
        t = copy.deepcopy(doc["suite"]["fidelity"])
        (name,) = t
        e = t[name]["configurations"][0]
        e["returned_free"]["within"] = False
        e["misses"] = ["returned_free"]
        doc["suite"]["fidelity"] = t
        with open(path, "w") as f:
            json.dump(doc, f)
        text = "\n".join(fidelity_section.render(section_module.Report(gbjson.load_run(path), [])))
        self.assertIn("✗", text)
        self.assertIn(f"| {e['configuration']} |", text)
        self.assertIn("misses returned by the free phase", text)

    def test_bad_input_is_exit_2_and_the_replay_run_untouched(self):
        path = self.path("replay.json")
        shutil.copy(REPLAY, path)
        with open(path, "rb") as f:
            before = f.read()
        for live in (self.path("missing.json"), REPLAY):
            done = run_script("fidelity.py", live, path)
            self.assertEqual(done.returncode, 2, done.stderr)
            self.assertIn("fidelity.py: error:", done.stderr)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), before)


if __name__ == "__main__":
    unittest.main()
