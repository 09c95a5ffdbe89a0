"""Tests of what the scripts make of recorded runs (./bench --record, --compare-recorders): observers parsed and kept
out of every section but "What recording costs", "Why it stays" read from the recording as from the heap map, the
two held against each other in the same process, and the cost of recording against the plain program and heaptrack.

The fixtures are real runs trimmed by fixtures/trim_recorders.py (its docstring names the commands):
recorders_command.json (--compare-recorders, bench_alloc_churn under glibc, 2 repetitions), recorders_scenario.json
(--compare-recorders, python-small at scale 0.2 under glibc, 2 repetitions), record_heapmap_scenarios.json and
record_heapmap_workloads.json (--record --heap-map: python-small and perl-hash; map and fragment at N = 100,000;
glibc and jemalloc, 1 repetition), record_only.json (--record alone: python-small under glibc and jemalloc).
"""

import csv
import json
import os
import statistics
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from test_scripts import TempDirTestCase, _iterations, changed_copy, fixture, report_of, results_of, run_script  # noqa: E402

from benchlib import description, gbjson, sections, summary  # noqa: E402
from benchlib.sections import command, programs  # noqa: E402

OBSERVED = ("recorders_command.json", "recorders_scenario.json")


def load(name):
    with open(fixture(name)) as f:
        return json.load(f)


def median(doc, run_name, f):
    """The median over a benchmark's repetitions of f(entry), from the JSON."""
    return statistics.median(f(b) for b in _iterations(doc, run_name))


class TestObservers(TempDirTestCase):
    def test_the_description_carries_the_observer_and_the_recorder(self):
        run = gbjson.load_run(fixture("recorders_scenario.json"))
        observers = {name: i.observer for name, i in run.suite.instances.items()}
        self.assertEqual(
            observers,
            {f"python-small/glibc@{o}": o for o in ("plain", "record", "heap-map", "heaptrack")},
        )
        self.assertTrue(run.suite.observed)
        self.assertEqual({r.observer for r in summary.summarize(run)}, set(description.OBSERVERS))
        self.assertEqual(len(run.suite.trace_maps["python-small/glibc@record"]), 2, "a map per repetition")
        self.assertIsNone(run.suite.record, "a --compare-recorders run has no measurement.record")
        recorded = gbjson.load_run(fixture("record_only.json")).suite
        self.assertFalse(recorded.observed)
        self.assertEqual(recorded.record.clock_source, load("record_only.json")["suite"]["measurement"]["record"]["clock_source"])
        self.assertEqual(
            (recorded.record.pinned_share, recorded.record.granule_bytes, recorded.record.site_frames), (0.25, 65536, 6)
        )
        self.assertEqual(recorded.record.classes, description.RECORD_CLASSES, "no classes given: the heap map's sentences")
        self.assertEqual(
            gbjson.load_run(fixture("record_heapmap_scenarios.json")).suite.heap_map.classes,
            description.RECORD_CLASSES,
            "the fallback is what ./bench writes for the heap map",
        )
        old = gbjson.load_run(fixture("run_a.json")).suite
        self.assertEqual((old.record, old.trace_maps, old.observed), (None, {}, False))

    def test_an_unknown_observer_is_refused(self):
        doc = load("recorders_command.json")
        doc["suite"]["instances"]["command/glibc@record"]["observer"] = "valgrind"
        path = self.path("bad.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        with self.assertRaises(gbjson.InputError) as caught:
            gbjson.load_run(path)
        self.assertIn("unknown observer 'valgrind'", str(caught.exception))

    def test_other_sections_read_the_plain_rows_only(self):
        for name in OBSERVED:
            with self.subTest(fixture=name):
                run, results = results_of(name)
                report = report_of(run, results)
                self.assertEqual({r.observer for r in report.results}, {"plain"})
                self.assertEqual(len(report.observed), 4)
        doc = load("recorders_scenario.json")
        run, results = results_of("recorders_scenario.json")
        text = "\n".join(programs.render(report_of(run, results)))
        rows = [line for line in text.splitlines() if line.startswith("| glibc |")]
        self.assertEqual(len(rows), 1, "one row for glibc, not one per observer")
        built = median(doc, "python-small/glibc@plain", lambda b: (b["rss_built"] - b["rss_base"]) / 1e6)
        self.assertTrue(rows[0].startswith(f"| glibc | 2 | {built:.1f} |"), rows[0])
        self.assertNotIn("longer under glibc", text, "no observer's row timed against the plain one as another configuration")
        self.assertNotIn("Minor page faults", text, "one configuration: no other to set its faults beside")
        doc = load("recorders_command.json")
        run, results = results_of("recorders_command.json")
        text = "\n".join(command.render(report_of(run, results)))
        rows = [line for line in text.splitlines() if line.startswith("| glibc |")]
        self.assertEqual(len(rows), 1)
        wall = median(doc, "command/glibc@plain", lambda b: b["wall_seconds"])
        self.assertTrue(rows[0].startswith(f"| glibc | {wall:.3f} "), rows[0])

    def test_a_run_without_observers_keeps_every_result(self):
        run, results = results_of("scenarios.json")
        report = report_of(run, results)
        self.assertEqual(len(report.results), len(results))
        self.assertEqual(report.observed, report.results)

    def test_the_csv_names_the_observer(self):
        out = self.path("bench.csv")
        done = run_script("results_csv.py", fixture("recorders_command.json"), "-o", out)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(out) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(list(rows[0])[:3], ["workload", "configuration", "observer"])
        self.assertEqual([r["observer"] for r in rows if r["run_type"] == "iteration"][::2], list(description.OBSERVERS))
        done = run_script("results_csv.py", fixture("record_only.json"), "-o", out)
        with open(out) as f:
            self.assertNotIn("observer", next(csv.reader(f)), "no column where no instance has an observer")


if __name__ == "__main__":
    unittest.main()
