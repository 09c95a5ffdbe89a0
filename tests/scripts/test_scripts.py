"""Tests of scripts/ (results_csv.py, plot.py, report.py, compare.py) and their module benchlib,
against the saved JSON in fixtures/ (made by fixtures/make_fixtures.py) and against the committed
real runs under results/ (the contract between ./bench's description and what the scripts read).

Run: /usr/bin/python3 -m unittest discover -s tests/scripts -v     (needs matplotlib and numpy)
The scripts are run as subprocesses with this interpreter, as a user would run them.
"""

import csv
import glob
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPTS = os.path.join(ROOT, "scripts")
FIXTURES = os.path.join(HERE, "fixtures")
sys.path.insert(0, SCRIPTS)

from benchlib import atomic, comparison, csvout, description, gbjson, sections, stats, summary  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def fixture(name):
    return os.path.join(FIXTURES, name)


def run_script(script, *args):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, os.path.join(SCRIPTS, script), *map(str, args)], capture_output=True, text=True, env=env, timeout=600
    )


def results_of(name):
    run = gbjson.load_run(fixture(name))
    return run, {r.run_name: r for r in summary.summarize(run)}


def report_of(run, results, plots_dir="", timed=None):
    """The section.Report every section renders from, its plan made (results: a list or a {run name: result})."""
    results = list(results.values()) if isinstance(results, dict) else list(results)
    return sections.make_report(run, results, plots_dir, timed)


def plan_of(run, results, timed=None):
    return report_of(run, results, timed=timed).plan


class TempDirTestCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def load_doc(self, doc):
        """A changed fixture, written to this test's folder and read back: (run, summarized results)."""
        path = self.path("changed.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        run = gbjson.load_run(path)
        return run, summary.summarize(run)


# ---------------------------------------------------------------------------------------------------
# benchlib.stats: the interval and the noise rule


class TestStats(unittest.TestCase):
    def test_median_interval_ranks_follow_the_binomial(self):
        self.assertIsNone(stats.median_interval_ranks(5), "5 repetitions: even the range covers only 93.75 %")
        j, coverage = stats.median_interval_ranks(6)
        self.assertEqual(j, 1)
        self.assertAlmostEqual(coverage, 1 - 2 / 64)
        j, coverage = stats.median_interval_ranks(10)
        self.assertEqual(j, 2)
        self.assertAlmostEqual(coverage, 1 - 2 * 11 / 1024)
        self.assertEqual(stats.median_interval_ranks(20)[0], 6)

    def test_interval_drops_the_slow_outliers_with_enough_repetitions(self):
        spread = stats.Spread([10, 11, 9, 10.5, 9.5, 10.2, 30, 10.1, 9.9, 10.3])
        low, high, coverage = spread.interval
        self.assertEqual((low, high), (9.5, 11))
        self.assertGreaterEqual(coverage, 0.95)
        self.assertTrue(spread.has_confidence_interval)
        few = stats.Spread([1, 3, 2])
        self.assertEqual(few.interval[:2], (1, 3))
        self.assertAlmostEqual(few.interval[2], 0.75)
        self.assertFalse(few.has_confidence_interval)

    def test_noise_rule(self):
        a = stats.Spread([1.0, 1.01, 0.99, 1.02, 0.98, 1.0])
        self.assertEqual(stats.compare(a, stats.Spread([1.1, 1.11, 1.09, 1.12, 1.08, 1.1])), stats.DIFFERS)
        self.assertEqual(stats.compare(a, stats.Spread([1.015, 1.025, 1.0, 1.03, 0.995, 1.02])), stats.WITHIN_NOISE)
        self.assertEqual(stats.compare(a, stats.Spread([2.0])), stats.NO_VERDICT)
        self.assertIsNone(stats.compare(a, None))

    def test_interval_text(self):
        self.assertEqual(stats.interval_text(stats.Spread([1, 2, 3, 4, 5, 6]), lambda v: f"{v:g}"), "3.5 (1–6)")
        self.assertEqual(stats.interval_text(stats.Spread([1, 2, 3]), lambda v: f"{v:g}"), "2 (1–3) range, 75 %")
        self.assertEqual(stats.interval_text(stats.Spread([7]), lambda v: f"{v:g}"), "7")


# ---------------------------------------------------------------------------------------------------
# benchlib: loading and the description


class TestLoading(TempDirTestCase):
    def test_rows_belong_to_the_described_instances(self):
        run = gbjson.load_run(fixture("run_a.json"))
        row = next(r for r in run.rows if r.name == "map/glibc-trim/1000000")
        self.assertEqual((row.workload, row.configuration, row.size), ("map", "glibc-trim", 1_000_000))
        self.assertEqual(row.label.version, "glibc 2.36")
        self.assertTrue(run.suite.configuration("glibc-trim").release_step)
        self.assertEqual(run.suite.configuration("glibc-trim").release_call, "malloc_trim(0)")
        self.assertEqual(run.suite.unit("rss_peak"), "bytes")
        self.assertEqual(run.suite.unit("insert_rate"), "items_per_second")
        self.assertEqual(run.suite.configuration("pool").family, "container allocator")
        self.assertEqual(run.suite.configuration("jemalloc-bgthread").family, "jemalloc")
        self.assertTrue(run.suite.is_knob("jemalloc-bgthread"))
        self.assertFalse(run.suite.is_knob("jemalloc"), "another library, not a knob")
        self.assertFalse(run.suite.is_knob("pool"))

    def test_a_program_run_has_no_size(self):
        run = gbjson.load_run(fixture("command.json"))
        self.assertEqual({(r.workload, r.size) for r in run.rows}, {("command", None)})
        self.assertEqual(run.suite.command["argv"][0], "bench_test_program")

    def test_malformed_descriptions_are_named(self):
        with open(fixture("run_a.json")) as f:
            doc = json.load(f)
        for change, problem in (
            (lambda d: d["suite"].update(schema=2), "schema 2"),
            (lambda d: d["suite"]["configurations"][0].update(kind="weird"), "unknown kind"),
            (lambda d: d["suite"]["counters"]["rss_peak"].update(unit="furlongs"), "unknown unit"),
            (lambda d: d["suite"]["configurations"][0].pop("reference"), "reference"),
            (lambda d: d["suite"]["instances"].pop("map/glibc/1000000"), "not among the description"),
        ):
            broken = json.loads(json.dumps(doc))
            change(broken)
            path = self.path("broken.json")
            with open(path, "w") as f:
                json.dump(broken, f)
            with self.subTest(problem=problem), self.assertRaises(gbjson.InputError) as caught:
                gbjson.load_run(path)
            self.assertIn(problem, str(caught.exception))


# ---------------------------------------------------------------------------------------------------
# benchlib.summary: the analysis


class TestSummary(unittest.TestCase):
    def test_medians_come_from_iteration_rows_and_errors_are_left_out(self):
        _, results = results_of("run_a.json")
        tc = results["map/tcmalloc/1000000"]
        self.assertEqual(tc.repetitions, 5)
        self.assertEqual(len(tc.errors), 1)
        self.assertIn("signal 9", tc.errors[0][1])
        self.assertAlmostEqual(results["map/glibc/1000000"].median("insert_rate"), 1.90e6, delta=1e3)

    def test_retention_is_share_of_growth(self):
        _, results = results_of("run_a.json")
        trim = results["map/glibc-trim/1000000"]
        self.assertAlmostEqual(trim.median("kept_pct_cleared"), 100.0, places=1)
        self.assertAlmostEqual(trim.median("kept_pct_final"), 1.4, places=1)
        self.assertAlmostEqual(trim.median("growth_mb"), 96.0)
        self.assertAlmostEqual(trim.median("bytes_per_entry"), 96.0)
        self.assertEqual(summary.when_given_back(trim), ("release", None))
        self.assertEqual(summary.when_given_back(results["map/pool/1000000"]), ("clear", None))
        how, seconds = summary.when_given_back(results["map/jemalloc-bgthread/1000000"])
        self.assertEqual(how, "settle")
        self.assertGreater(seconds, 0.5)
        keepers, givers, middle = summary.classify(list(results.values()))
        self.assertEqual({r.configuration for r in keepers}, {"glibc", "tcmalloc"})
        self.assertIn("glibc-trim", {r.configuration for r in givers})

    def test_release_steps_come_from_the_description(self):
        _, results = results_of("run_a.json")
        self.assertIsNone(summary.release_step_ms(results["map/glibc/1000000"]))
        self.assertAlmostEqual(summary.release_step_ms(results["map/glibc-trim/1000000"]), 22.5, places=1)

    def test_never_sorts_after_every_time(self):
        derived = [summary.derive({"return_90pct_s": v}, 1000, None)["return_90pct"] for v in (-1.0, 3.0, 10.0)]
        self.assertEqual(stats.Spread(derived).median, 10.0, "one repetition that never returned does not pull the median down")
        self.assertEqual(stats.Spread([derived[0], derived[0], 3.0]).median, float("inf"))

    def test_no_speed_choice_from_one_repetition(self):
        _, results = results_of("single_rep.json")
        choices = summary.choices(list(results.values()))
        self.assertEqual(set(choices), {"memory"})

    def test_speed_scaled_by_the_probe(self):
        derived = summary.derive({"insert_rate": 1.0e6, "probe_ns": 120.0}, 1000, probe_typical=100.0)
        self.assertAlmostEqual(derived[summary.speed_counter("insert_rate")], 1.2e6)
        self.assertNotIn(summary.speed_counter("insert_rate"), summary.derive({"insert_rate": 1.0e6}, 1000, 100.0))

    def test_against_reference_follows_the_noise_rule(self):
        _, results = results_of("run_a.json")
        versus = summary.against_reference(list(results.values()))
        trim = {c.rate: c for c in versus["glibc-trim"]}
        self.assertEqual(trim["insert_rate"].verdict, stats.WITHIN_NOISE, "same timed code: within noise")
        self.assertEqual(trim["insert_rate"].other.configuration, "glibc")
        tc = {c.rate: c for c in versus["tcmalloc"]}
        self.assertEqual(tc["insert_rate"].verdict, stats.DIFFERS)
        self.assertGreater(tc["insert_rate"].ratio, 1.4)
        self.assertNotIn("glibc", versus, "glibc has no reference")

    def test_rankings_stay_like_for_like(self):
        _, results = results_of("run_a.json")
        groups = summary.by_kind(list(results.values()))
        self.assertEqual(list(groups), ["allocator", "container allocator", "different container"])
        best, tied = summary.fastest(groups["allocator"])
        self.assertEqual(best.configuration, "tcmalloc", "not boost-flat-map's bulk load")
        self.assertEqual(tied, [])
        front = {r.configuration for r in summary.pareto_front(groups["allocator"])}
        self.assertEqual(front, {"glibc-trim", "jemalloc-bgthread", "tcmalloc"})
        choices = summary.choices(groups["allocator"])
        self.assertEqual(choices["memory"].configuration, "glibc-trim")
        self.assertEqual(choices["both"][0].configuration, "jemalloc-bgthread")

    def test_timeline_comes_from_the_series(self):
        _, results = results_of("run_a.json")
        decay = results["map/jemalloc-bgthread/1000000"].timeline
        self.assertEqual(decay[0][0], 0.0)
        self.assertAlmostEqual(decay[-1][0], 15.0)
        self.assertGreater(decay[0][1], 90)
        self.assertAlmostEqual(decay[-1][1], 10.1, delta=0.1)

    def test_costs_of_the_knobs(self):
        _, results = results_of("cycle.json")
        found = {c.knob.configuration: c for c in summary.costs(list(results.values()))}
        self.assertEqual(set(found), {"glibc-trim", "jemalloc-decay0"})
        trim = found["glibc-trim"]
        self.assertEqual(trim.base.configuration, "glibc")
        self.assertEqual(trim.insert[2].verdict, stats.DIFFERS)
        self.assertAlmostEqual(trim.insert[2].ratio, 0.8, places=3)
        self.assertEqual(trim.insert[1].verdict, stats.WITHIN_NOISE)
        self.assertEqual(trim.minflt[2], (15600, 0))
        self.assertAlmostEqual(trim.release_ms, 150)
        self.assertEqual(found["jemalloc-decay0"].insert[2].verdict, stats.WITHIN_NOISE)
        # Each round against round 1 of the same child: knob 1.2M / 1.0M, base 1.5M / 1.0M.
        mine, theirs, verdict = trim.vs_round1[2]
        self.assertAlmostEqual(mine, 1.2, places=3)
        self.assertAlmostEqual(theirs, 1.5, places=3)
        self.assertEqual(verdict, stats.DIFFERS, "1.2 against 1.5 in every repetition")
        self.assertNotIn(1, trim.vs_round1, "round 1 against itself says nothing")

    def test_plot_plan(self):
        for name, stems in (
            ("run_a.json", {"retention", "rates", "tradeoff", "breakdown", "timeline"}),
            ("sizes.json", {"retention", "retention_map_1000000", "retention_fragment", "scaling", "timeline"}),
            ("cycle.json", {"retention", "cost", "timeline"}),
            ("command.json", {"command"}),
            ("exact.json", {"exact", "exact_cycle"}),
        ):
            run, results = results_of(name)
            with self.subTest(fixture=name):
                plan = {p.stem for p in plan_of(run, results)}
                self.assertTrue(stems <= plan, plan)


# ---------------------------------------------------------------------------------------------------
# scripts


class TestResultsCsv(TempDirTestCase):
    def test_rows_columns_and_timeline(self):
        out, timeline = self.path("bench.csv"), self.path("timeline.csv")
        done = run_script("results_csv.py", fixture("run_a.json"), "-o", out, "--timeline", timeline)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(out) as f:
            rows = list(csv.DictReader(f))
        header = list(rows[0])
        self.assertEqual(header[:8], list(csvout.LEADING))
        self.assertEqual(header[8:11], ["insert_rate", "lookup_rate", "clear_rate"], "headline counters first")
        run = gbjson.load_run(fixture("run_a.json"))
        self.assertEqual(len(rows), len(run.rows))
        trim = [r for r in rows if r["configuration"] == "glibc-trim" and r["run_type"] == "iteration"]
        self.assertEqual(len(trim), 6)
        self.assertEqual(trim[0]["kind"], "allocator")
        flat = next(r for r in rows if r["configuration"] == "boost-flat-map")
        self.assertEqual(flat["clear_rate"], "", "a constant-time clear has no rate")
        with open(timeline) as f:
            samples = list(csv.DictReader(f))
        bg = [s for s in samples if s["configuration"] == "jemalloc-bgthread" and s["repetition"] == "0"]
        self.assertEqual(len(bg), len(run.suite.series["map/jemalloc-bgthread/1000000"][0]["seconds"]))
        self.assertEqual(float(bg[-1]["seconds"]), 15.0)


class TestPlot(TempDirTestCase):
    def test_every_planned_figure_in_every_directory(self):
        for name in ("run_a.json", "sizes.json", "single_rep.json", "cycle.json", "command.json"):
            with self.subTest(fixture=name):
                a, b = self.path(name, "a"), self.path(name, "b")
                done = run_script("plot.py", fixture(name), "--out", a, "--out", b)
                self.assertEqual(done.returncode, 0, done.stderr)
                run, results = results_of(name)
                for planned in plan_of(run, results):
                    for directory in (a, b):
                        with open(os.path.join(directory, f"{planned.stem}.png"), "rb") as f:
                            self.assertEqual(f.read(8), PNG_SIGNATURE)
                        ET.parse(os.path.join(directory, f"{planned.stem}.svg"))

    def test_plots_carry_the_data(self):
        out = self.path("plots")
        self.assertEqual(run_script("plot.py", fixture("run_a.json"), "--out", out).returncode, 0)
        with open(os.path.join(out, "tradeoff.svg")) as f:
            tradeoff = f.read()
        self.assertIn("allocator configurations", tradeoff)
        self.assertIn("container allocator configurations", tradeoff)
        self.assertNotIn("boost-flat-map", tradeoff, "a different container is not on the like-for-like axes")
        with open(os.path.join(out, "rates.svg")) as f:
            self.assertIn("constant time", f.read())
        with open(os.path.join(out, "timeline.svg")) as f:
            timeline = f.read()
        self.assertIn("jemalloc-bgthread", timeline)
        self.assertIn("container allocator", timeline, "one panel per family")


class TestReport(TempDirTestCase):
    def report(self, name):
        out = self.path("REPORT.md")
        done = run_script("report.py", fixture(name), "-o", out)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(out) as f:
            return f.read()

    def test_findings_follow_the_noise_rule_and_stay_like_for_like(self):
        text = self.report("run_a.json")
        self.assertIn("**Fastest insert among allocator configurations**: **tcmalloc**", text)
        self.assertIn("**Fastest insert among container allocator configurations**: **pool**", text)
        self.assertNotIn("**Fastest insert among different container", text)
        self.assertRegex(text, r"No difference beyond the noise from their reference[^\n]*glibc-trim \(vs glibc\)")
        self.assertIn("with 5 repetitions an interval is the range", text, "the false-alarm caveat below 6 repetitions")
        self.assertIn("tcmalloc insert +47", text)
        self.assertIn("## A different container", text)
        self.assertIn("constant time", text)
        self.assertIn("## Why glibc keeps the memory", text)
        self.assertIn("94.6 MB of them (94 %) sit in fastbins", text)
        self.assertIn("## How long until it comes back", text)
        self.assertIn("## Where the resident bytes are", text)
        self.assertIn("## How sure the speeds are", text)
        self.assertIn("## Latency of single operations", text)
        self.assertIn("Timing one operation costs at least 17–17 ns", text)
        self.assertIn("child 1234 killed during the measured phases by signal 9", text)

    def test_no_speed_verdict_from_one_repetition(self):
        text = self.report("single_rep.json")
        self.assertIn("no verdict on speed", text)
        self.assertNotIn("Fastest insert", text)
        self.assertIn("**no: the run was interrupted**", text)

    def test_ranges_below_six_repetitions_say_so(self):
        text = self.report("sizes.json")
        self.assertIn("range, 50 %", text)
        self.assertIn("### `fragment`", text)

    def test_cost_section(self):
        text = self.report("cycle.json")
        self.assertIn("## What giving memory back costs", text)
        self.assertIn("| glibc-trim | glibc | 150 / 0.0 / 64.0 | 1 | +0.0 % (within noise)", text)
        self.assertIn("-20.0 % (differs)", text)
        self.assertIn(
            "Pay for the memory again (minor faults more than the base's by at least 10 % of the knob's growth in 4 KiB "
            "pages) in every round after round 1 (rounds 2, 3): **glibc-trim** (round 2: 15,600 against the base's 0, "
            "round 3: 15,600 against the base's 0); **jemalloc-decay0**",
            text,
        )
        self.assertIn(
            "Insert not shown to differ from the base in every round after round 1 (rounds 2, 3): jemalloc-decay0", text
        )
        self.assertIn("do not overlap in some round for 2 of 2 knob/base pairs", text)

    def test_command_section(self):
        text = self.report("command.json")
        self.assertIn("## The program under every allocator", text)
        self.assertIn("`bench_test_program 1000000 1000`", text)
        self.assertIn("failed: program 4321 was killed by signal 11", text)
        self.assertIn("`glibc-trim` (its release step is a call inside the process)", text)
        self.assertIn("jemalloc-decay0 -3.8 %", text)


class TestCompare(unittest.TestCase):
    def compare(self, *args):
        done = run_script("compare.py", fixture("run_a.json"), fixture("run_b.json"), *args)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout

    def test_default_lists_what_changed_and_the_headline(self):
        text = self.compare()
        lines = {tuple(line.split()[:2]): line for line in text.splitlines() if line.startswith("map/")}
        self.assertIn("CHANGED", lines[("map/glibc/1000000", "insert_rate")])
        self.assertIn("within noise", lines[("map/glibc/1000000", "lookup_rate")])
        self.assertIn(
            "within noise", lines[("map/tcmalloc/1000000", "insert_rate")], "scaled by the probe: the machine was slower"
        )
        self.assertIn("CHANGED", lines[("map/jemalloc-bgthread/1000000", "rss_final")])
        self.assertNotIn(("map/glibc/1000000", "stat_arena"), lines, "unchanged and not a headline counter")
        self.assertIn(("map/glibc/1000000", "stat_arena"), {tuple(l.split()[:2]) for l in self.compare("--all").splitlines()})

    def test_one_repetition_gets_no_verdict(self):
        a, b = stats.Spread([1.0]), stats.Spread([2.0, 2.1])
        self.assertEqual(comparison.judge(a, b)[1], stats.NO_VERDICT)

    def test_csv(self):
        rows = list(csv.DictReader(io.StringIO(self.compare("--format", "csv", "--counters", "insert_rate,rss_final"))))
        self.assertEqual({r["counter"] for r in rows}, {"insert_rate", "rss_final"})
        glibc = next(r for r in rows if r["benchmark"] == "map/glibc/1000000" and r["counter"] == "insert_rate")
        self.assertEqual(glibc["verdict"], comparison.CHANGED)
        self.assertLess(float(glibc["ratio_b_over_a"]), 0.9)


BAD_INPUTS = {
    "missing.json": "no such file",
    "empty.json": "empty file",
    "corrupt.json": "invalid JSON",
    "no_benchmarks.json": 'no "benchmarks" array',
    "legacy.json": 'no "suite" section',
}
SENTINEL = "written before: must survive\n"


class TestBadInput(TempDirTestCase):
    def check(self, done, bad_name, problem):
        self.assertEqual(done.returncode, 2, done.stderr)
        lines = done.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, done.stderr)
        self.assertIn(bad_name, lines[0])
        self.assertIn(problem, lines[0])
        self.assertNotIn("Traceback", done.stderr)

    def sentinel(self, *parts):
        path = self.path(*parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(SENTINEL)
        return path

    def assert_untouched(self, path):
        with open(path) as f:
            self.assertEqual(f.read(), SENTINEL)

    def test_every_script(self):
        for name, problem in BAD_INPUTS.items():
            with self.subTest(script="results_csv.py", name=name):
                out = self.sentinel("out.csv")
                self.check(run_script("results_csv.py", fixture(name), "-o", out), name, problem)
                self.assert_untouched(out)
            with self.subTest(script="report.py", name=name):
                out = self.sentinel("REPORT.md")
                self.check(run_script("report.py", fixture(name), "-o", out), name, problem)
                self.assert_untouched(out)
            with self.subTest(script="plot.py", name=name):
                out = self.sentinel("plots", "retention.png")
                self.check(run_script("plot.py", fixture(name), "--out", os.path.dirname(out)), name, problem)
                self.assert_untouched(out)
            with self.subTest(script="compare.py", name=name):
                self.check(run_script("compare.py", fixture("run_a.json"), fixture(name)), name, problem)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["REPORT.md", "out.csv", "plots"])


class TestAtomicWrite(TempDirTestCase):
    def test_failure_keeps_the_old_file_and_leaves_no_temporary(self):
        path = self.path("out.txt")
        atomic.write_text(path, "old\n")

        def fail_halfway(f):
            f.write("half of the new")
            raise RuntimeError("disk full")

        with self.assertRaises(RuntimeError):
            atomic.write_file(path, fail_halfway)
        with open(path) as f:
            self.assertEqual(f.read(), "old\n")
        self.assertEqual(os.listdir(self.tmp), ["out.txt"])

    def test_success_replaces_with_usual_permissions(self):
        path = self.path("out.txt")
        atomic.write_text(path, "new\n")
        with open(path) as f:
            self.assertEqual(f.read(), "new\n")
        umask = os.umask(0)
        os.umask(umask)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o666 & ~umask)


# ---------------------------------------------------------------------------------------------------
# the contract with ./bench, on the committed real runs


def committed_runs():
    """Every results/<run>/bench.json written by this ./bench (with a description)."""
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, "results", "*", "bench.json"))):
        with open(path, encoding="utf-8") as f:
            if '"suite": {' in f.read():
                found.append(path)
    return found


class TestCommittedRuns(TempDirTestCase):
    """The scripts read real ./bench output: every counter the analysis reads has the unit it assumes,
    and every stage runs on it. A counter renamed in C++ (and a run re-published) fails here; the
    integration test `contract` checks the same on a fresh ./bench run."""

    def test_there_are_committed_runs(self):
        self.assertTrue(committed_runs(), "no results/<run>/bench.json with a description")

    def test_counters_read_exist_with_their_units(self):
        for path in committed_runs():
            run = gbjson.load_run(path)
            with self.subTest(run=os.path.relpath(path, ROOT)):
                self.assertEqual(summary.contract_violations(run), [])

    def test_compare_reads_every_run(self):
        """(The ctest test "regenerate" runs results_csv.py, plot.py and report.py on every committed run and
        compares what they make with the committed files.)"""
        for path in committed_runs():
            with self.subTest(run=os.path.relpath(path, ROOT)):
                done = run_script("compare.py", path, path)
                self.assertEqual(done.returncode, 0, f"compare.py: {done.stderr}")


if __name__ == "__main__":
    unittest.main()


# ---------------------------------------------------------------------------------------------------
# issue 22: every generated sentence is computed from the rows it speaks of


def _config(name, library="glibc", reference=None, release_call=None, environment=None, kind="allocator"):
    return description.Configuration(
        name, name, kind, library, reference, release_call is not None, release_call, False, environment or {}, True, "", ""
    )


def _result(config, workload=None, control=False, settle=15.0, **quantities):
    r = summary.ConfigResult("map", config.name, config, 1000, f"map/{config.name}/1000")
    r.quantities = {k: stats.Spread(list(v)) for k, v in quantities.items()}
    r.workload_info, r.control, r.settle_seconds = workload, control, settle
    return r


MAP = description.Workload("map", "", False, "idle", False, ("insert_rate", "rss_base", "rss_peak", "rss_cleared", "rss_final"))


class TestControls(unittest.TestCase):
    def group(self, trim_insert):
        glibc = _result(_config("glibc"), MAP, insert_rate=[1.00, 1.01, 0.99])
        trim = _result(
            _config("glibc-trim", reference="glibc", release_call="malloc_trim(0)"), MAP, True, insert_rate=trim_insert
        )
        arena = _result(
            _config("glibc-arena1", reference="glibc", environment={"GLIBC_TUNABLES": "x"}), MAP, insert_rate=[1.08, 1.09, 1.085]
        )
        return glibc, trim, arena

    def test_is_control_needs_the_same_timed_code(self):
        suite = gbjson.load_run(fixture("run_a.json")).suite
        self.assertTrue(suite.is_control("glibc-trim"), "a release step and nothing else")
        self.assertFalse(suite.is_control("jemalloc-decay0"), "an environment of its own")
        self.assertFalse(suite.is_control("jemalloc"), "another library")

    def test_a_difference_no_larger_than_a_false_alarm_is_not_shown(self):
        group = self.group([1.10, 1.11, 1.105])  # the control "differs" by +10.5 %
        controls = summary.controls_of(group)
        self.assertAlmostEqual(controls.false_alarm_pct("insert_rate"), 10.5, places=3)
        arena = summary.against_reference(group, controls)["glibc-arena1"][0]
        self.assertEqual(arena.verdict, stats.NOT_SHOWN, "+8.5 % is smaller than the control's +10.5 %")
        self.assertAlmostEqual(arena.control_pct, 10.5, places=3)
        best, tied = summary.fastest(group, controls=controls)
        self.assertEqual(best.configuration, "glibc-trim")
        self.assertIn("glibc-arena1", [r.configuration for r in tied], "not shown to be slower")

    def test_claims_stand_when_the_controls_agree(self):
        group = self.group([0.995, 1.015, 1.0])
        controls = summary.controls_of(group)
        self.assertAlmostEqual(controls.false_alarm_pct("insert_rate"), 0.0, places=6, msg="ranges: the controls' own size")
        self.assertEqual(summary.against_reference(group, controls)["glibc-arena1"][0].verdict, stats.DIFFERS)

    def test_below_6_repetitions_a_claim_must_exceed_the_controls_even_when_they_overlap(self):
        glibc = _result(_config("glibc"), MAP, insert_rate=[1.00, 1.10, 0.90])
        trim = _result(_config("glibc-trim", reference="glibc", release_call="x"), MAP, True, insert_rate=[1.12, 1.02, 1.20])
        arena = _result(
            _config("glibc-arena1", reference="glibc", environment={"GLIBC_TUNABLES": "x"}), MAP, insert_rate=[1.11, 1.12, 1.115]
        )
        controls = summary.controls_of([glibc, trim, arena])
        self.assertEqual(controls.of("insert_rate")[0].verdict, stats.WITHIN_NOISE)
        self.assertAlmostEqual(controls.false_alarm_pct("insert_rate"), 12.0, places=3)
        verdict = summary.against_reference([glibc, trim, arena], controls)["glibc-arena1"][0]
        self.assertEqual(verdict.verdict, stats.NOT_SHOWN, "+11.5 % with ranges, where identical code differs by +12 %")

    def test_with_real_intervals_agreeing_controls_leave_the_rule_alone(self):
        six = [0.99, 1.0, 1.01, 0.995, 1.005, 1.0]
        glibc = _result(_config("glibc"), MAP, insert_rate=six)
        trim = _result(
            _config("glibc-trim", reference="glibc", release_call="x"), MAP, True, insert_rate=[v * 1.004 for v in six]
        )
        controls = summary.controls_of([glibc, trim])
        self.assertIsNone(controls.false_alarm_pct("insert_rate"))

    def test_rounds_are_judged_by_round_1_of_the_controls(self):
        self.assertEqual(summary.control_quantity("round3_insert_rate"), "round1_insert_rate")
        self.assertEqual(summary.control_quantity("job_seconds"), "work_seconds")

    def test_noise_section_reports_the_controls(self):
        from benchlib.sections import noise

        text = "\n".join(noise.controls_section(list(self.group([1.10, 1.11, 1.105])), "map", 1000))
        self.assertIn("| glibc-trim | glibc | +10.5 % (differs)", text)
        self.assertIn("- insert: +10.5 … +10.5 % over 1 pair; 1 differs by the noise rule (glibc-trim +10.5 %)", text)
        self.assertIn("up to 10.5 % is *not shown*", text)


class TestChoices(unittest.TestCase):
    def test_both_counts_the_release_step(self):
        slow_release = _result(
            _config("boost-node-allocator", reference="glibc", release_call="x", kind="container allocator"),
            MAP,
            insert_rate=[2.0, 2.01, 1.99],
            job_seconds=[60.0, 61.0, 59.0],
            kept_mb_final=[0.0] * 3,
            kept_pct_final=[0.0] * 3,
        )
        pool = _result(
            _config("pool", reference="glibc", kind="container allocator"),
            MAP,
            insert_rate=[1.8, 1.81, 1.79],
            job_seconds=[2.0, 2.01, 1.99],
            kept_mb_final=[0.0] * 3,
            kept_pct_final=[0.0] * 3,
        )
        picked = summary.choices([slow_release, pool])
        self.assertEqual(picked["speed"][0].configuration, "boost-node-allocator")
        self.assertEqual(picked["both"][0].configuration, "pool", "53 s of release step is part of the job")
        self.assertEqual(picked["both_by"], "job_seconds")


class TestAboveBase(unittest.TestCase):
    def test_readings_above_the_baseline_are_per_repetition_medians(self):
        mb = 1e6
        r = _result(
            _config("tbbmalloc", "tbbmalloc"),
            rss_base=[0, 20 * mb, 0],
            rss_peak=[100 * mb, 120 * mb, 100 * mb],
            rss_x=[10 * mb, 40 * mb, 50 * mb],
        )
        self.assertEqual(summary.above_base(r, "rss_x"), 20 * mb, "10, 20, 50 MB above their own baselines, not 40 - 0")
        self.assertEqual(summary.above_base(r, "rss_x", share_of_growth=True), 20)


class TestRoundOne(unittest.TestCase):
    def cost(self, knob_vs_round1):
        knob_config = _config("mimalloc-decommit100", "mimalloc", "mimalloc", environment={"MIMALLOC_DECOMMIT_DELAY": "100"})
        knob = _result(
            knob_config,
            round1_insert_rate=[1.15, 1.16, 1.155],
            round2_insert_rate=[1.21, 1.22, 1.215],
            round2_insert_vs_round1=knob_vs_round1,
        )
        base = _result(
            _config("mimalloc", "mimalloc"),
            round1_insert_rate=[1.0, 1.01, 0.99],
            round2_insert_rate=[1.0, 1.01, 0.99],
            round2_insert_vs_round1=[0.96, 0.98, 0.97],
        )
        (cost,) = summary.costs([knob, base], summary.Controls([], []))
        return cost

    def test_when_round_1_already_differs_a_later_round_needs_its_own_round_1_ratio_to_differ(self):
        cost = self.cost([0.97, 1.04, 1.0])  # each child's round 2 over its round 1: within noise of the base's
        self.assertEqual(cost.insert[1].verdict, stats.DIFFERS, "the children already differ before any refill")
        self.assertEqual(cost.insert[2].verdict, stats.NOT_SHOWN)
        self.assertTrue(cost.insert[2].by_round_1)
        cost = self.cost([1.10, 1.12, 1.11])  # the refill round does move against round 1
        self.assertEqual(cost.insert[2].verdict, stats.DIFFERS)


class TestRounds(unittest.TestCase):
    def cost(self, minflt, base_minflt):
        knob, base = _result(_config("jemalloc-purge", "jemalloc", "jemalloc", "x")), _result(_config("jemalloc", "jemalloc"))
        rounds = sorted(minflt)
        minflt = {k: (minflt[k], base_minflt[k]) for k in rounds}
        return summary.Cost(knob, base, 1.0, 0.0, 90.0, {}, minflt, {}, {}, {}, {}, growth_pages=64e6 / summary.PAGE_BYTES)

    def test_conclusions_hold_over_every_later_round_and_name_the_exceptions(self):
        c = self.cost({1: 16000, 2: 15625, 3: 15625}, {1: 16000, 2: 3, 3: 15000})
        pays = summary.over_rounds([c], summary.Cost.pays_again)
        self.assertEqual(pays.every, [], "round 3: the base faults 15,000 times too")
        self.assertEqual([(x.knob.configuration, yes, no) for x, yes, no in pays.some], [("jemalloc-purge", [2], [3])])
        from benchlib.sections import cost

        text = " ".join(cost.conclusions([c], [1, 2, 3]))
        self.assertIn(
            "only in some rounds: **jemalloc-purge** (round 2: 15,625 against the base's 3; not round 3: 15,625 against the "
            "base's 15,000)",
            text,
        )
        self.assertNotIn("in every round after round 1 (rounds 2, 3): **jemalloc-purge**", text)

    def test_p999_pairs_over_all_rounds(self):
        c = self.cost({1: 1, 2: 1}, {1: 1, 2: 1})
        c.insert_p999_range = {1: ((40, 41), (40.5, 42)), 2: ((40, 41), (50, 51))}
        c.insert_p999_ns = {1: (40.5, 41), 2: (40.5, 50.5)}
        self.assertEqual(summary.p999_apart_pairs([c]), [(c, [2])])


class TestGeneratedSentences(TempDirTestCase):
    def test_no_settle_statement_without_a_settle_period(self):
        r = _result(
            _config("jemalloc-bgthread", "jemalloc"), MAP, settle=0.0, kept_pct_cleared=[90.0] * 2, return_90pct=[0.5] * 2
        )
        self.assertEqual(summary.when_given_back(r), (None, None))
        rounds = description.Workload("cycle", "", False, "idle", True, ("round1_insert_rate",))
        r = _result(_config("glibc-trim"), rounds, kept_pct_cleared=[90.0] * 2, return_90pct=[0.0] * 2)
        self.assertEqual(summary.when_given_back(r), (None, None), "rounds report their own release times")

    def test_the_moment_of_cleared_comes_from_the_description(self):
        section = json.load(open(fixture("run_a.json")))["suite"]
        self.assertEqual(description.parse(section).workloads["map"].cleared_moment, "right after clear()")
        section["workloads"][0]["cleared_moment"] = "after the threads cleared their maps and exited"
        suite = description.parse(section)
        workload = suite.workloads[section["workloads"][0]["name"]]
        self.assertEqual(workload.cleared_moment, "after the threads cleared their maps and exited")
        from benchlib.sections import findings

        threads = description.Workload(
            "threads", "", True, "idle", False, ("rss_peak", "rss_cleared_threads_alive", "rss_final"), workload.cleared_moment
        )
        r = _result(
            _config("jemalloc", "jemalloc"),
            threads,
            rss_base=[0.0] * 2,
            rss_peak=[66e6] * 2,
            rss_cleared_threads_alive=[66e6] * 2,
            kept_pct_cleared=[3.0] * 2,
        )
        self.assertEqual(findings._given_back_text(r), "already after the threads cleared their maps and exited")
        self.assertEqual(
            findings._readings_text(r, {"rss_cleared_threads_alive": "bytes"}), "; 66.0 MB kept at `rss_cleared_threads_alive`"
        )

    def test_release_step_sentence_is_the_rows_own(self):
        from benchlib.sections import glibc

        config = _config("glibc-trim", reference="glibc", release_call="malloc_trim(0)")
        nothing = _result(config, MAP, kept_mb_cleared=[64.1] * 2, kept_mb_released=[64.1] * 2, release_ms=[158.0] * 2)
        self.assertIn("returned nothing: 64.1 MB were kept before and after it", glibc._release_step_sentence(nothing))
        everything = _result(
            config,
            MAP,
            kept_mb_cleared=[320.0] * 2,
            kept_mb_released=[0.0] * 2,
            release_ms=[1418.0] * 2,
            kept_pct_released=[0.0] * 2,
        )
        self.assertIn("returned 320.0 of the 320.0 MB kept right after clear()", glibc._release_step_sentence(everything))

    def test_how_to_read_describes_the_run_it_sits_in(self):
        from benchlib.sections import reading

        run, results = results_of("command.json")
        text = "\n".join(reading.render(report_of(run, results)))
        self.assertNotIn("rss_base", text)
        self.assertNotIn("items per second", text)
        self.assertIn("wall times", text)
        self.assertNotIn("controls", text, "a program run has no configuration with the same timed code as its reference")
        run, results = results_of("cycle.json")
        text = "\n".join(reading.render(report_of(run, results)))
        self.assertIn("`cycle` repeats its work 3 times", text)
        self.assertIn("*not shown*", text, "this run has controls (a release step and nothing else)")

    def test_dollar_signs_are_printed(self):
        from benchlib import plots

        self.assertEqual(plots.plain("perl -e '$h{$_} = 1'"), "perl -e '\\$h{\\$_} = 1'")

    def test_labels_do_not_overlap(self):
        import matplotlib.pyplot as plt
        from benchlib import plots

        fig, ax = plt.subplots(figsize=(6, 4))
        points = [(0.0, 1.0 + i * 0.001, f"configuration-{i}", "normal") for i in range(6)] + [(50.0, 0.5, "far", "normal")]
        ax.plot([p[0] for p in points], [p[1] for p in points], "o")
        ax.set_xlim(-10, 100)
        ax.set_ylim(0.4, 1.1)
        plots.place_labels(ax, points)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        boxes = [plots.Text.get_window_extent(t, renderer) for t in ax.texts]
        self.assertEqual(len(boxes), len(points))
        for i, a in enumerate(boxes):
            self.assertFalse(plots.overlaps(a, boxes[i + 1 :], pad=0), f"label {i} overlaps another")
        plt.close(fig)

    def test_run_tests_reports_skips_as_skipped(self):
        with open(self.path("test_skips.py"), "w") as f:
            f.write(
                "import unittest\nclass T(unittest.TestCase):\n    def test_a(self):\n        with self.subTest(x=1):\n            self.skipTest('no data')\n"
            )
        done = subprocess.run([sys.executable, os.path.join(HERE, "run_tests.py"), self.tmp], capture_output=True, text=True)
        self.assertEqual(done.returncode, 77, done.stderr)
        self.assertIn("skipped", done.stderr)


class TestCompareWarnings(unittest.TestCase):
    def test_near_deterministic_counters_need_a_minimum_effect(self):
        a, b = stats.Spread([100e6, 100e6 + 1, 100e6 + 2]), stats.Spread([100e6 + 8192, 100e6 + 8193, 100e6 + 8194])
        self.assertEqual(comparison.judge(a, b)[1], comparison.CHANGED, "without a unit: the noise rule alone")
        self.assertEqual(comparison.judge(a, b, "bytes")[1], comparison.BELOW_MINIMUM, "8 KiB of 100 MB")
        c = stats.Spread([120e6, 120e6 + 1, 120e6 + 2])
        self.assertEqual(comparison.judge(a, c, "bytes")[1], comparison.CHANGED)

    def test_few_repetitions_and_many_comparisons_are_warned_of(self):
        line = comparison.Line("b", "c", stats.Spread([1, 2, 3]), stats.Spread([1, 2, 3]), 1.0, comparison.UNCHANGED, True)
        warnings = comparison.warnings([line])
        self.assertEqual(len(warnings), 1)
        self.assertIn("with 3 repetitions an interval is the range", warnings[0])
        self.assertIn("10 %", warnings[0])
        many = comparison.warnings([line] * 300)
        self.assertIn("300 comparisons: even with nothing changed, expect about 30.0 of them", many[1])


# ---------------------------------------------------------------------------------------------------
# issue 18: busy processes (fixtures/busy.json: a real run trimmed by fixtures/trim_busy.py)


class TestBusy(TempDirTestCase):
    def setUp(self):
        super().setUp()
        from benchlib.sections import busy

        self.busy_module = busy
        self.run_, results = results_of("busy.json")
        self.results = list(results.values())
        self.busy = busy.busy_run(self.results, self.run_.suite)

    def section(self):
        return "\n".join(self.busy_module.render(report_of(self.run_, self.results)))

    def test_description_carries_the_activity(self):
        w = self.run_.suite.workloads
        self.assertIsNone(w["map"].activity)
        self.assertEqual(w["map"].mode, "idle")
        batch = w["map_active:batch"]
        self.assertEqual((batch.workload, batch.mode, batch.activity.period_seconds), ("map_active", "batch", 0.01))
        self.assertEqual(batch.activity.description, "every 10 ms, 1,000 blocks of 64 B allocated, all kept, then all freed")
        self.assertEqual(summary.contract_violations(self.run_), [])

    def test_contract_asks_for_the_activity_counters(self):
        needed = summary.counters_read(self.run_.suite.workloads["map_active:steady"])
        self.assertEqual(needed["activity_live_bytes"], "bytes")
        self.assertNotIn("activity_ops", summary.counters_read(self.run_.suite.workloads["map"]))

    def test_modes_and_rows(self):
        self.assertEqual(self.busy.size, 100000)
        self.assertEqual(
            self.busy.modes,
            [("idle", "map"), ("pairs", "map_active:pairs"), ("batch", "map_active:batch"), ("steady", "map_active:steady")],
        )
        self.assertAlmostEqual(self.busy.rows["jemalloc-decay1000"]["batch"].median("return_90pct"), 0.795, places=3)
        self.assertEqual(self.busy.rows["jemalloc"]["batch"].median("return_90pct"), float("inf"))

    def test_knob_table_rows(self):
        header, rows = self.busy_module.knob_table(self.busy, self.run_.suite)
        self.assertEqual(
            [r[1] for r in rows],
            [
                "glibc (default)",
                "glibc-trim",
                "jemalloc (default)",
                "jemalloc-purge",
                "jemalloc-decay0",
                "jemalloc-decay1000",
                "tcmalloc (default)",
                "tcmalloc-rate10",
            ],
        )
        self.assertEqual(header[2:6], ["90 % back: idle", "90 % back: pairs", "90 % back: batch", "90 % back: steady"])
        decay1000 = rows[5]
        self.assertEqual(decay1000[2:6], ["never", "never", "795 ms", "never"])
        self.assertEqual(decay1000[6:8], ["25, 0", "0, 0"])
        self.assertEqual(decay1000[8], "r2 +3.9 % (within noise); r3 +11.8 % (not shown)")
        self.assertEqual(rows[1][8], "r2 +36.9 % (differs); r3 +30.6 % (within noise)")
        self.assertEqual(rows[4][2], "139 ms (first sample)")

    def test_generated_sentences(self):
        text = self.section()
        self.assertIn("## Busy processes", text)
        self.assertNotIn("## How long until it comes back", text, "the return table is folded into the busy section")
        self.assertIn("**steady** holds a working set of its own: 4.3 MB at the end", text)
        self.assertIn("pairs 1.64–2.92 ms of CPU and 189–199 thousand operations", text)
        self.assertIn(
            "- **glibc** at its defaults: idle, under pairs, under batch and under steady 90 % is never back within 3 s "
            "(kept at the end: 100.0 %, 100.0 %, 101.3 %, 28.0 %), though half is back after 2.51 s under steady.",
            text,
        )
        self.assertIn(
            "  - **jemalloc-decay1000** brings 90 % back sooner: under batch after 795 ms (jemalloc: never within 3 s); "
            "what it costs the next round in `cycle` (N = 100,000, rounds 2, 3): 25 and 0 minor faults against jemalloc's "
            "25 and 0; 0 and 0 ms system time against 2 and 0; insert against the default round 2 +3.9 % (within noise), "
            "round 3 +11.8 % (not shown).",
            text,
        )
        self.assertIn("  - tcmalloc-rate10 does not bring half or 90 % back sooner than tcmalloc, idle or busy.", text)
        self.assertIn("| jemalloc-decay1000 | 2.20 | 191.3 | 8.14 | 191.3 | 11.36 | 53.3 |", text)

    def test_a_busy_pattern_that_gives_back_what_idle_keeps_is_named(self):
        # jemalloc-decay1000 as if it were a default: batch returns what idle keeps.
        self.assertIn(
            "busy under batch, it gives back what it keeps idle:",
            self.busy_module._default_sentence(self.busy, "jemalloc-decay1000"),
        )

    def test_no_busy_section_without_an_idle_and_a_busy_workload(self):
        run, results = results_of("run_a.json")
        text = "\n".join(self.busy_module.render(report_of(run, results)))
        self.assertNotIn("Busy processes", text)

    def test_knobs_plot_planned_and_drawn(self):
        plan = {p.stem: p for p in plan_of(self.run_, self.results)}
        self.assertIn("knobs", plan)
        out = self.path("plots")
        done = run_script("plot.py", fixture("busy.json"), "--out", out)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(os.path.join(out, "knobs.png"), "rb") as f:
            self.assertEqual(f.read(8), PNG_SIGNATURE)
        with open(os.path.join(out, "knobs.svg")) as f:
            svg = f.read()
        for text in ("jemalloc-decay1000", "tcmalloc (default)", "never", "steady (map_active:steady)"):
            self.assertIn(text, svg)
        with open(os.path.join(out, "timeline.svg")) as f:
            timeline = f.read()
        self.assertIn("batch (map_active:batch)", timeline)
        self.assertIn("seconds after clear() (or after the release step)", timeline)
        run, results = results_of("run_a.json")
        self.assertNotIn("knobs", {p.stem for p in plan_of(run, results)})

    def test_sooner_needs_a_whole_sample_offset(self):
        sooner = self.busy_module.sooner
        self.assertFalse(sooner(7.9432, 7.9437), "the same offset, sampled microseconds apart")
        self.assertTrue(sooner(6.3096, 7.9433), "one offset earlier")
        self.assertTrue(sooner(12.6, float("inf")))
        self.assertFalse(sooner(15.0, 12.6))

    def test_times_count_from_clear_in_every_new_run_busy_or_not(self):
        with open(fixture("busy.json")) as f:
            section = json.load(f)["suite"]
        self.assertTrue(description.parse(section).times_from_clear)
        section["workloads"] = [w for w in section["workloads"] if w["settle"] == "idle"]
        idle_only = description.parse(section)
        self.assertTrue(idle_only.times_from_clear, "a new run without a busy workload still counts from clear()")
        self.assertIn("the end of clear()", summary.time_zero(idle_only))
        old = gbjson.load_run(os.path.join(ROOT, "results", "seed-scale-5M-v2", "bench.json")).suite
        self.assertFalse(old.times_from_clear)

    def test_old_runs_read_map_active_as_the_pairs_pattern(self):
        path = os.path.join(ROOT, "results", "seed-scale-5M-v2", "bench.json")
        run = gbjson.load_run(path)
        active = run.suite.workloads["map_active"]
        self.assertEqual((active.workload, active.mode, active.activity.counted), ("map_active", "pairs", False))
        self.assertEqual(summary.contract_violations(run), [])
        results = summary.summarize(run)
        text = "\n".join(self.busy_module.render(report_of(run, results)))
        self.assertIn("**pairs** (`map_active`): every 10 ms, 1,000 malloc/free pairs of 64 B", text)
        self.assertIn("Times count from the start of the settle period", text)
        self.assertNotIn("The price of being busy", text, "an old run has no activity counters")
        self.assertIn("- **jemalloc** at its defaults: idle and under pairs 90 % is never back within 15 s", text)
        self.assertIn("  - tbbmalloc-clean does not bring half or 90 % back sooner than tbbmalloc, idle.", text, "no busy row")
        self.assertIn("  - **scudo-release** brings half back sooner, though never 90 % within the period: idle at once", text)


# ---------------------------------------------------------------------------------------------------
# real programs: ./bench --scenario (fixtures/scenarios.json: a real run, 5 configurations, 2 repetitions,
# scale 0.1, settle 1 s)


def _iterations(doc, run_name):
    """The successful iteration entries of one benchmark in a fixture's JSON."""
    return [
        b for b in doc["benchmarks"] if b["run_name"] == run_name and b["run_type"] == "iteration" and not b.get("error_occurred")
    ]


def changed_copy(doc, run_names, change, failed=False):
    """A copy of a fixture's JSON with change(entry) applied to every iteration entry of each of `run_names`;
    failed: without their aggregates, as Google Benchmark writes none below 2 successful repetitions."""
    doc = json.loads(json.dumps(doc))
    for run_name in run_names:
        for entry in _iterations(doc, run_name):
            change(entry)
    if failed:
        doc["benchmarks"] = [b for b in doc["benchmarks"] if b["run_name"] not in run_names or b["run_type"] == "iteration"]
    return doc


def _median_of(doc, run_name, f):
    """The median over a benchmark's repetitions of f(entry): computed from the JSON, not by benchlib."""
    import statistics

    return statistics.median(f(b) for b in _iterations(doc, run_name))


class TestScenarios(TempDirTestCase):
    def setUp(self):
        super().setUp()
        from benchlib.sections import programs

        self.programs = programs
        with open(fixture("scenarios.json")) as f:
            self.doc = json.load(f)
        self.run_, results = results_of("scenarios.json")
        self.results = list(results.values())

    def section(self, doc=None):
        """The section "Real programs" of the fixture, or of a changed copy of it."""
        run, results = (self.run_, self.results) if doc is None else self.load_doc(doc)
        return "\n".join(self.programs.render(report_of(run, results)))

    def changed(self, run_name, change, failed=False):
        return changed_copy(self.doc, [run_name], change, failed)

    def scenario_text(self, text, name):
        start = text.index(f"### `{name}`")
        end = text.find("\n### ", start + 1)
        return text[start : end if end >= 0 else None]

    def test_description_carries_the_scenarios(self):
        suite = self.run_.suite
        self.assertEqual(
            list(suite.scenarios),
            ["perl-hash", "python-bytes", "python-churn", "python-small", "python-small-malloc", "redis", "ruby-threads"],
        )
        redis = suite.scenarios["redis"]
        self.assertEqual(redis.phase_names, ["base", "built", "freed", "idle", "used", "flushed", "purged"])
        self.assertEqual(redis.timed_phases, ["base", "built", "freed"], "the phases before the first settling one")
        self.assertEqual(redis.measure, "redis-server")
        self.assertEqual(redis.needs[0].package, "redis-server")
        variant = suite.scenarios["python-small-malloc"]
        self.assertEqual((variant.variant_of, variant.environment), ("python-small", {"PYTHONMALLOC": "malloc"}))
        self.assertEqual(suite.scenario_scale, 0.1)
        self.assertIn("glibc-trim", [s.configuration for s in suite.scenario_skipped])
        self.assertEqual(len(suite.phase_times("redis/glibc")), 2)
        self.assertIn("purged", suite.phase_times("redis/glibc")[0])
        self.assertEqual(gbjson.load_run(fixture("command.json")).suite.scenarios, {}, "an older run has none")
        self.assertEqual(summary.contract_violations(self.run_), [])

    def test_malformed_scenarios_are_named(self):
        for change, problem in (
            (lambda d: d["suite"]["scenarios"]["list"][0].pop("phases"), "phases"),
            (lambda d: d["suite"]["scenarios"].update(scale="half"), "wrong type"),
        ):
            doc = json.loads(json.dumps(self.doc))
            change(doc)
            path = self.path("broken.json")
            with open(path, "w") as f:
                json.dump(doc, f)
            with self.subTest(problem=problem), self.assertRaises(gbjson.InputError) as caught:
                gbjson.load_run(path)
            self.assertIn(problem, str(caught.exception))

    def test_contract_names_a_missing_phase_reading(self):
        doc = json.loads(json.dumps(self.doc))
        del doc["suite"]["counters"]["rss_purged"]
        path = self.path("contract.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        self.assertIn("redis: no counter rss_purged", summary.contract_violations(gbjson.load_run(path)))

    def test_phase_readings_are_the_rows_medians(self):
        found = {s.name: rows for s, rows in self.programs.scenario_results(self.results, self.run_.suite)}
        rows = {r.configuration: r for r in found["perl-hash"]}
        glibc = rows["glibc"]

        def above(phase):
            return _median_of(self.doc, "perl-hash/glibc", lambda b: (b[f"rss_{phase}"] - b["rss_base"]) / 1e6)

        self.assertAlmostEqual(glibc.above_mb("freed"), above("freed"))
        growth = _median_of(
            self.doc, "perl-hash/glibc", lambda b: (max(b["rss_built"], b["rss_freed"], b["rss_idle"]) - b["rss_base"]) / 1e6
        )
        self.assertAlmostEqual(glibc.growth_mb(), growth)
        self.assertEqual((glibc.peak_phase(), glibc.after_peak(), glibc.last_phase), ("built", "freed", "idle"))
        churn = {r.configuration: r for r in found["python-churn"]}
        self.assertLess(churn["glibc"].growth_mb(), self.programs.MIN_GROWTH_MB)
        self.assertIsNone(churn["glibc"].kept_pct("idle"), "a growth under 5 MB gets no share")
        self.assertTrue(churn["glibc"].kept_text("idle").endswith(" MB"))

    def test_program_figures_are_grouped_by_phase(self):
        found = {s.name: rows for s, rows in self.programs.scenario_results(self.results, self.run_.suite)}
        figures, others = self.programs.program_figures(found["redis"], self.run_.suite)
        self.assertEqual(
            set(figures),
            {
                "redis_allocator_active",
                "redis_allocator_allocated",
                "redis_allocator_resident",
                "redis_used_memory",
                "redis_used_memory_rss",
            },
        )
        self.assertEqual(figures["redis_used_memory"]["used"], "redis_used_memory_used")
        self.assertEqual(figures["redis_used_memory_rss"]["used"], "redis_used_memory_rss_used")
        self.assertEqual(others, [])
        self.assertTrue(all(self.run_.suite.is_program_counter(c) for by in figures.values() for c in by.values()))
        self.assertFalse(self.run_.suite.is_program_counter("hwm_peak") or self.run_.suite.is_program_counter("built_cpu_s"))
        perl, _ = self.programs.program_figures(found["perl-hash"], self.run_.suite)
        self.assertEqual(perl, {}, "perl reports nothing of its own")

    def test_section_renders_every_scenario_in_order(self):
        text = self.section()
        self.assertTrue(text.startswith("## Real programs"))
        positions = [text.index(f"### `{name}`") for name in self.run_.suite.scenarios]
        self.assertEqual(positions, sorted(positions))
        perl = self.scenario_text(text, "perl-hash")
        self.assertIn("- *freed* (timed): undef %h: every key and value freed", perl)
        self.assertIn("- *idle* (settling, not timed)", perl)
        self.assertIn(
            "| configuration | runs | built (MB) | freed (MB) | idle (MB) | growth (MB) | kept at freed (after the peak) | "
            "kept at idle (end) | base (time) | built (time) | freed (time) | high-water mark (MB) |",
            perl,
        )
        self.assertIn(
            "`python-small` with one change: every object from malloc instead of pymalloc's arenas (`PYTHONMALLOC=malloc`). "
            "`python-small`'s own subsection says what it does.",
            text,
        )
        self.assertIn("Measured: the processes named `redis-server` in its tree.", text)
        self.assertIn("`pool`, `pool-thp`, `boost-adaptive-pool`", text, "the skipped configurations, grouped by reason")
        self.assertEqual(text.count("Not run ("), 1, "once for the section")
        redis = self.scenario_text(text, "redis")
        self.assertIn("| configuration | figure | base | built | freed | idle | used | flushed | purged |", redis)
        self.assertIn("|  | `redis_used_memory` (MB) |", redis)
        self.assertIn("under 5 MB: kept is given in MB only", self.scenario_text(text, "python-churn"))

    def test_reference_sentence_is_the_fixtures_medians(self):
        perl = self.scenario_text(self.section(), "perl-hash")
        name = "perl-hash/glibc"
        growth = _median_of(self.doc, name, lambda b: (max(b["rss_built"], b["rss_freed"], b["rss_idle"]) - b["rss_base"]) / 1e6)
        freed = _median_of(self.doc, name, lambda b: (b["rss_freed"] - b["rss_base"]) / 1e6)
        share = _median_of(
            self.doc,
            name,
            lambda b: (b["rss_freed"] - b["rss_base"])
            / (max(b["rss_built"], b["rss_freed"], b["rss_idle"]) - b["rss_base"])
            * 100,
        )
        self.assertIn(
            f"**glibc** (the reference) grows {growth:.1f} MB above base, most at *built*; after that peak, at *freed*, it "
            f"still holds {freed:.1f} MB above base ({share:.1f} % of the growth)",
            perl,
        )
        self.assertRegex(perl, r"\*\*Keep it\*\* \(≥ 80 % kept at \*idle\*\): glibc \(")
        self.assertIn("**Give most of it back**", perl)
        decay0 = "perl-hash/jemalloc-decay0"
        kept = _median_of(
            self.doc,
            decay0,
            lambda b: (b["rss_idle"] - b["rss_base"])
            / (max(b["rss_built"], b["rss_freed"], b["rss_idle"]) - b["rss_base"])
            * 100,
        )
        kept_mb = _median_of(self.doc, decay0, lambda b: (b["rss_idle"] - b["rss_base"]) / 1e6)
        self.assertIn(f"jemalloc-decay0 ({kept:.1f} %, {kept_mb:.1f} MB; by *freed*)", perl)

    def test_the_sentence_follows_the_data_when_glibc_returns(self):
        def returns(entry):
            entry["rss_freed"] = entry["rss_idle"] = entry["rss_base"] + 100_000

        perl = self.scenario_text(self.section(self.changed("perl-hash/glibc", returns)), "perl-hash")
        self.assertIn("at *freed*, it still holds 0.1 MB above base (0.5 % of the growth)", perl)
        self.assertRegex(perl, r"\*\*Give it back\*\* [^\n]*: glibc \(0\.5 %, 0\.1 MB; by \*freed\*\)")
        self.assertNotRegex(perl, r"\*\*Keep it\*\* [^\n]*: glibc \(")

    def test_a_doubled_phase_time_is_claimed_and_the_false_alarms_are_stated(self):
        before = self.scenario_text(self.section(), "python-small")
        self.assertIn("with 2 repetitions an interval is the range (min–max)", before)
        # Every configuration but glibc, in every timed phase but the first (the program's start).
        others = len(self.run_.suite.scenarios["python-small"].timed_phases[1:]) * 4
        self.assertIn(
            f"do not overlap 33 % of the time; among these {others} comparisons about {others / 3:.1f} would *differ* by chance alone",
            before,
        )
        self.assertIn("*base* is not compared", before)
        self.assertNotRegex(before, r"\*built\* \([^)]*\): [^*]*longer under [^*;]*jemalloc ")

        def doubles(entry):
            entry["built_seconds"] *= 2

        after = self.scenario_text(self.section(self.changed("python-small/jemalloc", doubles)), "python-small")
        glibc = _median_of(self.doc, "python-small/glibc", lambda b: b["built_seconds"])
        jemalloc = _median_of(self.doc, "python-small/jemalloc", lambda b: 2 * b["built_seconds"])
        change = (jemalloc / glibc - 1) * 100
        expected = re.escape(f"*built* (glibc {glibc * 1e3:.3g} ms): ") + "[^*]*"
        expected += re.escape(f"longer under jemalloc {jemalloc * 1e3:.3g} ms ({change:+.1f} %)")
        self.assertRegex(after, expected)

    def test_minor_faults_are_named_when_far_apart(self):
        churn = self.scenario_text(self.section(), "python-churn")
        glibc = _median_of(self.doc, "python-churn/glibc", lambda b: b["minflt"])
        tuned = _median_of(self.doc, "python-churn/glibc-tuned", lambda b: b["minflt"])
        self.assertIn(f"against glibc's {glibc:,.0f}: 2× or more under glibc-tuned {tuned:,.0f} ({tuned / glibc:.2g}×)", churn)
        self.assertIn("every other configuration within 2× of it", self.scenario_text(self.section(), "perl-hash"))

    def test_used_memory_beside_rss(self):
        redis = self.scenario_text(self.section(), "redis")
        rss = _median_of(self.doc, "redis/glibc", lambda b: b["rss_freed"]) / 1e6
        used = _median_of(self.doc, "redis/glibc", lambda b: b["redis_used_memory_freed"]) / 1e6
        self.assertIn(f"after *freed* RSS is {rss:.1f} MB while `redis_used_memory` is {used:.1f} MB", redis)
        self.assertIn("`redis_allocator_active` stays within 1 MB over every phase under glibc, glibc-tuned, mimalloc", redis)

    def test_rows_that_failed_or_were_not_served_are_named(self):
        def not_served(entry):
            entry["error_occurred"] = True
            entry["error_message"] = "not served by mimalloc: redis-server (pid 7) calls malloc in libjemalloc.so.2"

        redis = self.scenario_text(self.section(self.changed("redis/mimalloc", not_served, failed=True)), "redis")
        self.assertIn("| mimalloc | 0 of 2 | not served: redis-server (pid 7) calls malloc in libjemalloc.so.2 |", redis)
        self.assertIn("**No result**: mimalloc (not served: redis-server (pid 7)", redis)

    def test_report_plots_and_csv_as_scripts(self):
        out, plots_dir = self.path("REPORT.md"), self.path("plots")
        done = run_script("plot.py", fixture("scenarios.json"), "--out", plots_dir)
        self.assertEqual(done.returncode, 0, done.stderr)
        stems = [p.stem for p in plan_of(self.run_, self.results)]
        self.assertEqual(stems, ["programs", "programs_timeline"], "no settle timeline for programs")
        for stem in stems:
            with open(os.path.join(plots_dir, f"{stem}.png"), "rb") as f:
                self.assertEqual(f.read(8), PNG_SIGNATURE)
            ET.parse(os.path.join(plots_dir, f"{stem}.svg"))
        with open(os.path.join(plots_dir, "programs.svg")) as f:
            self.assertIn("ruby-threads", f.read())
        done = run_script("report.py", fixture("scenarios.json"), "-o", out, "--plots-dir", "plots")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stderr, "", "every embedded plot exists")
        with open(out) as f:
            text = f.read()
        self.assertIn("## Real programs", text)
        self.assertIn("](plots/programs.png)", text)
        self.assertNotIn("## What the numbers say", text, "the programs' section replaces the workload findings")
        self.assertNotIn("## Results", text, "scenarios are not workloads")
        self.assertEqual(text.count("### `perl-hash`"), 1)
        self.assertIn("Each scenario is a real program", text, "How to read describes this run")
        self.assertNotIn("rates differ", text)
        csv_out, timeline = self.path("bench.csv"), self.path("timeline.csv")
        done = run_script("results_csv.py", fixture("scenarios.json"), "-o", csv_out, "--timeline", timeline)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(csv_out) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), len(self.run_.rows))
        self.assertEqual({r["workload"] for r in rows}, set(self.run_.suite.scenarios))
        with open(timeline) as f:
            samples = list(csv.DictReader(f))
        self.assertEqual(
            len([s for s in samples if s["benchmark"] == "redis/glibc" and s["repetition"] == "0"]),
            len(self.run_.suite.series["redis/glibc"][0]["seconds"]),
        )

    def test_compare_lists_the_phase_readings(self):
        done = run_script("compare.py", fixture("scenarios.json"), fixture("scenarios.json"))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn(
            "redis_used_memory_rss_freed",
            run_script("compare.py", fixture("scenarios.json"), fixture("scenarios.json"), "--all").stdout,
        )
        self.assertRegex(done.stdout, r"redis/glibc +rss_purged \*")
        self.assertRegex(done.stdout, r"perl-hash/glibc +built_seconds \*")

    def test_a_program_run_still_renders_its_own_section(self):
        out = self.path("REPORT.md")
        done = run_script("report.py", fixture("command.json"), "-o", out)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(out) as f:
            text = f.read()
        self.assertIn("## The program under every allocator", text)
        self.assertNotIn("## Real programs", text)


# ---------------------------------------------------------------------------------------------------
# exact runs: ./bench --exact (fixtures/exact.json: a real run, N = 10,000, map and cycle with 2 rounds, 9
# configurations, scudo's rows error rows, 2 repetitions); results/noise-1M is the committed timed run beside it

NOISE_1M = os.path.join(ROOT, "results", "noise-1M", "bench.json")


def _per_op(doc, run_name, counters, divisor=10_000):
    """Per repetition, the sum of `counters` of a benchmark's successful repetitions, divided by N: from the JSON."""
    return [sum(b[c] for c in counters) / divisor for b in _iterations(doc, run_name)]


def _relative_spread(values):
    """(largest - smallest) / median in %, computed here, not by benchlib."""
    import statistics

    m = statistics.median(values)
    return 0.0 if max(values) == min(values) else (max(values) - min(values)) / m * 100


class TestExact(TempDirTestCase):
    def setUp(self):
        super().setUp()
        from benchlib.sections import exact

        self.exact = exact
        with open(fixture("exact.json")) as f:
            self.doc = json.load(f)
        self.run_, results = results_of("exact.json")
        self.results = list(results.values())

    def section(self, doc=None, timed=None):
        run, results = (self.run_, self.results) if doc is None else self.load_doc(doc)
        return "\n".join(self.exact.counts_section(results, run.suite, timed))

    def changed(self, run_name, change, failed=False):
        return changed_copy(self.doc, [run_name], change, failed)

    def median_per_op(self, run_name, *counters):
        import statistics

        return statistics.median(_per_op(self.doc, run_name, counters))

    def test_description_carries_the_measurement(self):
        suite = self.run_.suite
        self.assertTrue(suite.exact)
        m = suite.measurement
        self.assertEqual((m.mode, m.tool, m.valgrind), ("exact", "callgrind", "valgrind-3.19.0"))
        self.assertEqual(m.caches, {"i1": "32768,8,64", "d1": "32768,8,64", "ll": "8388608,16,64"})
        self.assertIn("valgrind's own memory", m.rss_note)
        self.assertTrue(suite.is_exact_counter("round2_clear_ll_misses"))
        self.assertFalse(suite.is_exact_counter("insert_rate"))
        self.assertFalse(gbjson.load_run(fixture("run_a.json")).suite.exact, "a run without the field was timed")
        self.assertEqual(summary.contract_violations(self.run_), [], "latency counters are absent and not asked for")
        for change, problem in (
            (lambda d: d["suite"]["measurement"].update(mode="guessed"), "unknown mode 'guessed'"),
            (lambda d: d["suite"]["counters"]["insert_instructions"].update(kind="approximate"), "unknown kind 'approximate'"),
            (lambda d: d["suite"]["measurement"].pop("caches"), "caches"),
        ):
            doc = json.loads(json.dumps(self.doc))
            change(doc)
            with self.subTest(problem=problem), self.assertRaises(gbjson.InputError) as caught:
                self.load_doc(doc)
            self.assertIn(problem, str(caught.exception))
        doc = json.loads(json.dumps(self.doc))
        del doc["suite"]["counters"]["round2_lookup_d1_misses"]["kind"]
        run, _ = self.load_doc(doc)
        self.assertIn(
            'cycle: round2_lookup_d1_misses is not of kind "exact" in the description', summary.contract_violations(run)
        )

    def test_section_says_how_it_was_counted(self):
        text = self.section()
        self.assertTrue(text.startswith("## Exact cost per operation"))
        self.assertIn("valgrind's callgrind (valgrind-3.19.0)", text)
        self.assertIn("L1 data 32 KiB, 8-way, 64 B lines; last level (LL) 8 MiB, 16-way, 64 B lines", text)
        self.assertIn("`Ir + 10 x (I1mr + D1mr + D1mw) + 100 x (ILmr + DLmr + DLmw)`", text)
        self.assertIn("**This run's RSS and times are valgrind's, not the program's** (RSS under valgrind includes", text)
        self.assertIn("### `map`, N = 10,000", text)
        self.assertIn("### `cycle`, N = 10,000", text)
        self.assertIn("| configuration | instructions | data accesses | L1 misses | LL misses | cycles estimate |", text)
        self.assertIn("#### release (per call, every round)", text)
        self.assertLess(text.index("### `map`"), text.index("### `cycle`"), "the description's order")

    def test_table_rows_and_sentences_are_the_rows_per_op_values(self):
        text = self.section()
        ct = self.exact.count_text
        glibc = [self.median_per_op("map/glibc/10000", f"insert_{c}") for c in ("instructions",)]
        row = "| glibc | " + " | ".join(
            ct(self.median_per_op("map/glibc/10000", *(f"insert_{p}" for p in parts)))
            for parts in (
                ("instructions",),
                ("data_reads", "data_writes"),
                ("i1_misses", "d1_misses"),
                ("ll_misses",),
                ("cycles_estimate",),
            )
        )
        self.assertIn(row + " |", text)
        # the container allocator against the allocator configuration with the lowest cycles estimate per insert
        allocators = [c["name"] for c in self.doc["suite"]["configurations"] if c["kind"] == "allocator"]
        counted = [n for n in allocators if _iterations(self.doc, f"map/{n}/10000")]
        best = min(counted, key=lambda n: self.median_per_op(f"map/{n}/10000", "insert_cycles_estimate"))
        pool = self.median_per_op("map/pool/10000", "insert_instructions")
        theirs = self.median_per_op(f"map/{best}/10000", "insert_instructions")
        self.assertIn(
            f"`pool` executes {ct(pool)} instructions per insert, `{best}` {ct(theirs)} "
            f"({self.exact.pct_text((pool / theirs - 1) * 100)})",
            text,
        )
        mine = self.median_per_op("map/jemalloc/10000", "insert_instructions")
        self.assertIn(
            f"`jemalloc` against `glibc` (its reference): insert: `jemalloc` executes {ct(mine)} instructions per insert, "
            f"`glibc` {ct(glibc[0])} ({self.exact.pct_text((mine / glibc[0] - 1) * 100)})",
            text,
        )
        later = self.median_per_op("cycle/tcmalloc/10000", "round2_clear_instructions")
        first = self.median_per_op("cycle/tcmalloc/10000", "round1_clear_instructions")
        self.assertIn(
            f"`tcmalloc` instructions {ct(later)} vs {ct(first)} ({self.exact.pct_text((later / first - 1) * 100)})", text
        )

    def test_repeatability_is_the_largest_difference_between_repetitions(self):
        text = self.section()
        pct = self.exact.pct_text
        for title, parts in (("instructions", ("instructions",)), ("L1 misses", ("i1_misses", "d1_misses"))):
            spreads = []
            for run_name in dict.fromkeys(b["run_name"] for b in self.doc["benchmarks"]):
                entries = _iterations(self.doc, run_name)
                if len(entries) < 2:
                    continue
                for phase in sorted({k[: -len("_instructions")] for k in entries[0] if k.endswith("_instructions")}):
                    spreads.append((_relative_spread(_per_op(self.doc, run_name, [f"{phase}_{p}" for p in parts])), run_name))
            top, where = max(spreads)
            configuration = where.split("/")[1]
            with self.subTest(count=title):
                self.assertRegex(text, re.escape(f"| {title} | {pct(top, signed=False)} | `{configuration}`, `"))
        # the control pairs: the largest relative difference of their medians, in the phases before the release step
        import statistics

        diffs = []
        for control, base in (("glibc-trim", "glibc"), ("mimalloc-collect", "mimalloc")):
            for workload, phases in (
                ("map", ("insert", "lookup", "clear")),
                ("cycle", ("round1_insert", "round1_lookup", "round1_clear")),
            ):
                for phase in phases:
                    a = statistics.median(_per_op(self.doc, f"{workload}/{control}/10000", [f"{phase}_instructions"]))
                    b = statistics.median(_per_op(self.doc, f"{workload}/{base}/10000", [f"{phase}_instructions"]))
                    diffs.append(abs(a / b - 1) * 100)
        self.assertRegex(
            text, r"\| instructions \| [^|]+ \| [^|]+ \| [^|]+ \| " + re.escape(pct(max(diffs), signed=False)) + r" \|"
        )
        self.assertNotIn("counted once", text)
        one = json.loads(json.dumps(self.doc))
        one["benchmarks"] = [b for b in one["benchmarks"] if b.get("run_type") == "iteration" and b.get("repetition_index") == 0]
        self.assertIn("Each configuration was counted once (1 repetition)", self.section(one))

    def test_errors_are_listed_with_their_reasons(self):
        text = self.section()
        self.assertIn(
            "- `scudo` (map, cycle): killed during the measured phases by signal 6 (Aborted) (under valgrind: Scudo ERROR: "
            "internal map or unmap failure)",
            text,
        )
        self.assertNotRegex(text[text.index("### Not counted") :], r"child \d+", "the pid is not part of the reason")

        def fails(entry):
            entry["error_occurred"] = True
            entry["error_message"] = (
                f"child {entry['repetition_index'] + 7} exited with status 1 during the measured phases (under valgrind: "
                f"--{entry['repetition_index'] + 7}:0: aspacem Valgrind: FATAL: VG_N_SEGMENTS is too low.)"
            )

        doc = self.changed("map/pool/10000", fails, failed=True)
        doc["benchmarks"] = [
            b for b in doc["benchmarks"] if not (b["run_name"] == "map/mimalloc/10000" and b.get("repetition_index") == 1)
        ]
        for b in doc["benchmarks"]:
            if b["run_name"] == "map/tcmalloc/10000" and b.get("repetition_index") == 1:
                fails(b)
        text = self.section(doc)
        self.assertIn(
            "- `tcmalloc` (map: 1 of 2 repetitions), `pool` (map): exited with status 1 during the measured phases (under "
            "valgrind: Valgrind: FATAL: VG_N_SEGMENTS is too low.)",
            text,
        )
        self.assertIn("judged by the control pairs and the minimum alone: `tcmalloc` (`map`), `mimalloc` (`map`).", text)

    def test_raised_insert_instructions_flip_the_comparison(self):
        text = self.section()
        sentence = next(line for line in text.splitlines() if line.startswith("- `jemalloc-decay0` against `jemalloc`"))
        self.assertIn("in insert or lookup no count differs beyond the bar", sentence)

        def raised(entry):
            entry["insert_instructions"] *= 1.2

        after = self.section(self.changed("map/jemalloc-decay0/10000", raised))
        sentence = next(line for line in after.splitlines() if line.startswith("- `jemalloc-decay0` against `jemalloc`"))
        import statistics

        mine = statistics.median(1.2 * v for v in _per_op(self.doc, "map/jemalloc-decay0/10000", ["insert_instructions"]))
        theirs = self.median_per_op("map/jemalloc/10000", "insert_instructions")
        ct = self.exact.count_text
        self.assertIn(
            f"insert: `jemalloc-decay0` executes {ct(mine)} instructions per insert, `jemalloc` {ct(theirs)} (+20.0 %)", sentence
        )
        self.assertIn("in lookup no count differs beyond the bar", sentence)
        self.assertIn("the fewest instructions: `mimalloc` ", after)

    def test_the_usual_rss_findings_are_absent(self):
        from benchlib import markdown

        text = markdown.render(report_of(self.run_, self.results, "plots"))
        for absent in (
            "## What the numbers say",
            "RSS does not go down",
            "Given back",
            "kept after settle",
            "## What giving memory back costs",
            "## How sure the speeds are",
            "## Why glibc keeps the memory",
            "## Where the resident bytes are",
            "growth (MB)",
            "M/s",
            "The noise rule",
        ):
            with self.subTest(absent=absent):
                self.assertNotIn(absent, text)
        for present in (
            "## The run",
            "## Exact cost per operation",
            "## Results",
            "## Errors",
            "## How to read the numbers",
            "**Counts, not times.**",
            "no noise rule",
            "It does not model the TLB, DRAM's real latency",
            "page faults and system calls are not counted",
            "](plots/exact.png)",
            "](plots/exact_cycle.png)",
        ):
            with self.subTest(present=present):
                self.assertIn(present, text)
        plan = [p.stem for p in plan_of(self.run_, self.results)]
        self.assertEqual(plan, ["exact", "exact_cycle"], "no figure of valgrind's RSS or rates")

    def test_spearman(self):
        self.assertAlmostEqual(self.exact.spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1.0)
        self.assertAlmostEqual(self.exact.spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1.0)
        self.assertAlmostEqual(self.exact.spearman([1, 2, 2, 3], [1, 2, 3, 4]), 0.9486832980505138)
        self.assertIsNone(self.exact.spearman([1, 2], [2, 1]), "too few")

    def test_timed_run_beside_the_counts(self):
        timed = self.exact.load_timed(NOISE_1M, self.run_, self.results)
        text = self.section(timed=timed)
        self.assertIn(
            "| configuration | instructions | data accesses | L1 misses | LL misses | cycles estimate | timed (M/s, probe-scaled) | timed ns per op |",
            text,
        )
        from benchlib import mdformat

        noise = {r.configuration: r for r in timed.results}
        glibc = noise["glibc"]
        self.assertIn(
            f"| {mdformat.rate_interval(glibc, 'insert_rate@speed')} | {1e9 / glibc.median('insert_rate@speed'):,.0f} |", text
        )
        self.assertIn("N = 1,000,000 there, 10,000 here", text)
        self.assertIn("The timed run `" + NOISE_1M + "` has no result of `cycle`: counts only.", text)
        names = [n for n in ("glibc", "glibc-trim", "jemalloc", "jemalloc-decay0", "tcmalloc", "mimalloc", "mimalloc-collect")]
        xs = [self.median_per_op(f"map/{n}/10000", "clear_cycles_estimate") for n in names]
        ys = [1e9 / noise[n].median("clear_rate@speed") for n in names]
        rho = self.exact.spearman(xs, ys)
        self.assertIn(
            f"clear: Spearman's rank correlation of the cycles estimate per entry cleared with the timed ns per entry cleared is {rho:+.2f} over the 7 compared configurations",
            text,
        )

    def test_scripts_on_an_exact_run(self):
        out, plots_dir = self.path("REPORT.md"), self.path("plots")
        done = run_script("plot.py", fixture("exact.json"), "--out", plots_dir, "--timed", NOISE_1M)
        self.assertEqual(done.returncode, 0, done.stderr)
        for stem in ("exact", "exact_cycle", "exact_vs_timed"):
            with open(os.path.join(plots_dir, f"{stem}.png"), "rb") as f:
                self.assertEqual(f.read(8), PNG_SIGNATURE)
            ET.parse(os.path.join(plots_dir, f"{stem}.svg"))
        self.assertFalse(os.path.exists(os.path.join(plots_dir, "exact_vs_timed_cycle.png")), "no timed cycle")
        with open(os.path.join(plots_dir, "exact_vs_timed.svg")) as f:
            self.assertIn("mimalloc-collect", f.read())
        done = run_script("report.py", fixture("exact.json"), "-o", out, "--plots-dir", "plots", "--timed", NOISE_1M)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stderr, "", "every embedded plot exists")
        with open(out) as f:
            text = f.read()
        self.assertIn("](plots/exact_vs_timed.png)", text)
        self.assertIn("timed (M/s, probe-scaled)", text)
        csv_out = self.path("bench.csv")
        done = run_script("results_csv.py", fixture("exact.json"), "-o", csv_out)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(csv_out) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), len(self.run_.rows))
        glibc = next(r for r in rows if r["configuration"] == "glibc" and r["workload"] == "map" and r["repetition"] == "0")
        self.assertEqual(float(glibc["insert_instructions"]), _iterations(self.doc, "map/glibc/10000")[0]["insert_instructions"])

    def test_bad_timed_input_is_one_line_and_writes_nothing(self):
        bad = TestBadInput("test_every_script")
        for main, timed_path, named, problem in (
            (fixture("exact.json"), fixture("exact.json"), "exact.json", "is an exact run"),
            (fixture("exact.json"), fixture("corrupt.json"), "corrupt.json", "invalid JSON"),
            (
                fixture("exact.json"),
                fixture("command.json"),
                "command.json",
                "has no result of the counted workloads (map, cycle)",
            ),
            (fixture("run_a.json"), NOISE_1M, "run_a.json", "is not an exact run"),
        ):
            for script, out_args, out in (
                ("report.py", ("-o",), self.path("REPORT.md")),
                ("plot.py", ("--out",), self.path("plots")),
            ):
                with self.subTest(script=script, timed=os.path.basename(timed_path), main=os.path.basename(main)):
                    target = out if script == "report.py" else os.path.join(out, "exact.png")
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, "w") as f:
                        f.write(SENTINEL)
                    done = run_script(script, main, *out_args, out, "--timed", timed_path)
                    bad.check(done, named, problem)
                    with open(target) as f:
                        self.assertEqual(f.read(), SENTINEL)
                    if script == "plot.py":
                        self.assertEqual(os.listdir(out), ["exact.png"])
        done = run_script("compare.py", fixture("exact.json"), NOISE_1M)
        bad.check(done, "exact.json", "is an exact run (./bench --exact) and")
        self.assertEqual(run_script("compare.py", fixture("exact.json"), fixture("exact.json")).returncode, 0)


# ---------------------------------------------------------------------------------------------------
# heap-map runs: ./bench --heap-map (fixtures/heapmap.json: a real run, map and fragment at N = 200,000 under 8
# configurations, 2 repetitions, settle 0.5 s; fixtures/heapmap_scenarios.json: perl-hash and python-bytes at scale
# 0.1 under glibc, jemalloc, mimalloc, 1 repetition)


def _heap_mb(doc, run_name, moment, what):
    return _median_of(doc, run_name, lambda b: b[f"heap_{moment}_{what}"] / 1e6)


class TestHeapMap(TempDirTestCase):
    def setUp(self):
        super().setUp()
        from benchlib.sections import heap

        self.heap = heap
        self.docs = {}
        for name in ("heapmap.json", "heapmap_scenarios.json"):
            with open(fixture(name)) as f:
                self.docs[name] = json.load(f)

    def section(self, name, doc=None):
        """The section "Why it stays" of a fixture, or of a changed copy of it."""
        if doc is None:
            run = gbjson.load_run(fixture(name))
            results = summary.summarize(run)
        else:
            run, results = self.load_doc(doc)
        return "\n".join(self.heap.render(report_of(run, results)))

    def changed(self, name, run_names, change):
        return changed_copy(self.docs[name], run_names, change)

    @staticmethod
    def part(text, title):
        start = text.index(f"### {title}")
        end = text.find("\n### ", start + 1)
        return text[start : end if end >= 0 else None]

    @staticmethod
    def bullet(text, head):
        """The bullet of a section that starts with `head` ('**Kept free**'), '' when there is none."""
        return next((line for line in text.splitlines() if line.startswith(f"- {head}")), "")

    def test_description_carries_the_heap_maps(self):
        for name, instances, moments in (
            ("heapmap.json", 16, ["cleared", "released", "final"]),
            ("heapmap_scenarios.json", 6, ["base", "built", "freed", "idle", "exit"]),
        ):
            with self.subTest(fixture=name):
                run = gbjson.load_run(fixture(name))
                m = run.suite.heap_map
                self.assertEqual((m.pinned_share, m.granule_bytes, m.site_frames), (0.25, 65536, 6))
                self.assertEqual(set(m.classes), set(description.HEAP_CLASSES))
                self.assertEqual(len(run.suite.heap_maps), instances)
                maps = run.suite.heap_maps["fragment/glibc-trim/200000" if name == "heapmap.json" else "perl-hash/glibc"]
                self.assertEqual(len(maps), run.suite.repetitions)
                self.assertEqual([k.moment for k in maps[0].moments], moments)
                self.assertEqual(summary.contract_violations(run), [])
        old = gbjson.load_run(fixture("run_a.json")).suite
        self.assertEqual((old.heap_map, old.heap_maps), (None, {}), "a run without heap maps still parses")

    def test_contract_names_a_missing_heap_counter(self):
        doc = json.loads(json.dumps(self.docs["heapmap.json"]))
        del doc["suite"]["counters"]["heap_released_pinned"]
        doc["suite"]["counters"]["heap_record_ns"]["unit"] = "seconds"
        path = self.path("contract.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        problems = summary.contract_violations(gbjson.load_run(path))
        self.assertIn("heap map: no counter heap_released_pinned", problems)
        self.assertIn("heap map: heap_record_ns is in seconds, the scripts read nanoseconds", problems)

    def test_section_says_what_the_classes_mean_and_what_the_interposer_costs(self):
        for name in self.docs:
            with self.subTest(fixture=name):
                text = self.section(name)
                self.assertTrue(text.startswith("## Why it stays"))
                classes = self.docs[name]["suite"]["measurement"]["heap_map"]["classes"]
                for cls, sentence in classes.items():
                    self.assertIn(f"- **{cls}**: {sentence.split('pinned_share')[0]}", text)
                self.assertIn("pinned_share (25 % of the page)", text)
                per_instance = sorted(
                    _median_of(self.docs[name], b, lambda e: e["heap_record_ns"])
                    for b in dict.fromkeys(e["run_name"] for e in self.docs[name]["benchmarks"])
                )
                import statistics

                self.assertIn(f"recording one call took a median {statistics.median(per_instance):,.0f} ns", text)
                self.assertIn("**in every RSS figure of this run**", text)
        shares = [
            _median_of(
                self.docs["heapmap.json"],
                f"map/{c}/200000",
                lambda b: b["heap_calls"] * b["heap_record_ns"] / 1e9 / b["insert_seconds"] * 100,
            )
            for c in ("glibc", "pool")
        ]
        self.assertIn(f"{min(shares):.1f}–", self.section("heapmap.json"), "the pool's few calls: the smallest share")
        self.assertIn("% of its wall time (`wall_seconds`)", self.section("heapmap_scenarios.json"), "no insert phase")

    def test_table_rows_are_the_fixtures_medians(self):
        for name, run_name, title, config, moment, cell in (
            ("heapmap.json", "map/glibc/200000", "`map`, N = 200,000", "glibc", "cleared", "right after clear()"),
            ("heapmap.json", "fragment/glibc-trim/200000", "`fragment`, N = 200,000", "", "released", "after the release step"),
            ("heapmap_scenarios.json", "perl-hash/glibc", "`perl-hash`", "", "freed", "at *freed*"),
        ):
            with self.subTest(run_name=run_name, moment=moment):
                doc = self.docs[name]
                values = [_heap_mb(doc, run_name, moment, c) for c in ("free", "pinned", "used", "outside", "live", "own")]
                above = _median_of(doc, run_name, lambda b: (b[f"rss_{moment}"] - b["rss_base"]) / 1e6)
                free = _median_of(doc, run_name, lambda b: b[f"heap_{moment}_free"] / (b[f"rss_{moment}"] - b["rss_base"]) * 100)
                pinned = _median_of(
                    doc, run_name, lambda b: b[f"heap_{moment}_pinned"] / (b[f"rss_{moment}"] - b["rss_base"]) * 100
                )
                row = (
                    f"| {config} | {cell} | "
                    + " | ".join(f"{v:.1f}" for v in values + [above])
                    + f" | {free:.1f} % | {pinned:.1f} % |"
                )
                self.assertIn(row, self.part(self.section(name), title))
        exit_row = self.part(self.section("heapmap_scenarios.json"), "`python-bytes`")
        self.assertRegex(exit_row, r"\|  \| at \*exit\* \|[^\n]*\| — \| — \| — \|", "no RSS is read at exit")

    def test_after_clear_glibc_holds_free_and_after_the_erase_pinned(self):
        def holds(doc, run_name, moment):
            return f"glibc holds {_heap_mb(doc, run_name, moment, 'free'):.1f} MB free and {_heap_mb(doc, run_name, moment, 'pinned'):.1f} MB pinned"

        doc = self.docs["heapmap.json"]
        text = self.section("heapmap.json")
        kept = self.bullet(self.part(text, "`map`"), "**Kept free**")
        self.assertIn("right after clear(): " + holds(doc, "map/glibc/200000", "cleared"), kept)
        self.assertNotIn("glibc holds", self.bullet(self.part(text, "`map`"), "**Pinned**"))
        pinned = self.bullet(self.part(text, "`fragment`"), "**Pinned**")
        self.assertIn("after the erase (1 entry in 64 still live): " + holds(doc, "fragment/glibc/200000", "cleared"), pinned)
        self.assertNotIn("glibc holds", self.bullet(self.part(text, "`fragment`"), "**Kept free**"))
        against = self.bullet(self.part(text, "`fragment`"), "**`fragment` against `map`**")
        self.assertRegex(against, r"under glibc, glibc-trim, [^`]*`map` right after clear\(\) holds mostly free pages")
        self.assertIn("and `fragment` after the erase (1 entry in 64 still live) mostly pinned ones", against)

        def swap(entry):
            entry["heap_cleared_free"], entry["heap_cleared_pinned"] = entry["heap_cleared_pinned"], entry["heap_cleared_free"]

        flipped = self.changed("heapmap.json", ["map/glibc/200000", "fragment/glibc/200000"], swap)
        text = self.section("heapmap.json", flipped)
        self.assertIn(holds(flipped, "map/glibc/200000", "cleared"), self.bullet(self.part(text, "`map`"), "**Pinned**"))
        self.assertNotIn("glibc holds", self.bullet(self.part(text, "`map`"), "**Kept free**"))
        self.assertIn(
            holds(flipped, "fragment/glibc/200000", "cleared"), self.bullet(self.part(text, "`fragment`"), "**Kept free**")
        )
        against = self.bullet(self.part(text, "`fragment`"), "**`fragment` against `map`**")
        self.assertRegex(against, r"under glibc, `map` right after clear\(\) holds mostly pinned pages")

    def test_release_step_sentences(self):
        doc = self.docs["heapmap.json"]

        def change(run_name, what):
            return f"{_heap_mb(doc, run_name, 'cleared', what):.1f} → {_heap_mb(doc, run_name, 'released', what):.1f} MB"

        text = self.section("heapmap.json")
        steps = self.bullet(self.part(text, "`map`"), "**The release steps**")
        self.assertIn(
            f"glibc-trim's release step (`malloc_trim(0)`) returned the free part (free {change('map/glibc-trim/200000', 'free')})",
            steps,
        )
        collect = "map/mimalloc-collect/200000"
        returned = _heap_mb(doc, collect, "released", "free") <= 0.1 * _heap_mb(doc, collect, "cleared", "free")
        self.assertEqual(f"did not return the free part** (free {change(collect, 'free')})" in steps, not returned)
        steps = self.bullet(self.part(text, "`fragment`"), "**The release steps**")
        self.assertIn(
            f"glibc-trim's release step (`malloc_trim(0)`) had little free to return (free {change('fragment/glibc-trim/200000', 'free')}) "
            f"and left the pinned part (pinned {change('fragment/glibc-trim/200000', 'pinned')})",
            steps,
        )
        self.assertNotIn("glibc's release step", steps, "glibc has none")
        self.assertEqual(self.bullet(self.section("heapmap_scenarios.json"), "**The release steps**"), "", "no release step")

    def test_top_pinning_site_of_fragment_names_its_function(self):
        text = self.part(self.section("heapmap.json"), "`fragment`")
        lines = text.splitlines()
        head = next(i for i, line in enumerate(lines) if line.startswith("- ") and re.match(r"- (glibc, |glibc \()", line))
        top = lines[head + 1]
        self.assertTrue(top.startswith("  1. "), top)
        self.assertIn("`void bench::(anonymous namespace)::fragment<…>(…) (bench)`", top)
        first = [r["moments"][0]["sites"][0] for r in self.docs["heapmap.json"]["suite"]["heap_maps"]["fragment/glibc/200000"]]
        import statistics

        self.assertIn(f"{statistics.median(s['bytes'] for s in first) / 1e6:.1f} MB in ", top)
        self.assertIn(f"{statistics.median(s['blocks'] for s in first):,.0f}", top)
        self.assertNotIn("- pool", text[text.index("**Where the pinning") :], "pool pins nothing")
        perl = self.part(self.section("heapmap_scenarios.json"), "`perl-hash`")
        self.assertRegex(perl, r"- glibc \([\d.]+ MB pinned at \*freed\*\):\n  1\. [^\n]*`Perl_safesysmalloc \(perl\)`")

    def test_short_frames(self):
        short = self.heap.short_frame
        self.assertEqual(
            short("void ns::f<int, std::pair<a, b> >(int, char) [clone .isra.0] (bench)"),
            "void ns::f<…>(…) [clone .isra.0] (bench)",
        )
        self.assertEqual(short("bench::(anonymous namespace)::table() (bench)"), "bench::(anonymous namespace)::table() (bench)")
        self.assertEqual(short("operator new(unsigned long) (libstdc++.so.6)"), "operator new(…) (libstdc++.so.6)")
        self.assertEqual(short("libc.so.6+0x2724a"), "libc.so.6+0x2724a")
        self.assertEqual(short("broken<(x (bench)"), "broken<(x (bench)", "unbalanced: as given")

    def test_unknown_frees_are_reported(self):
        for name in self.docs:
            self.assertNotIn("never saw allocated", self.section(name))

        def unknown(entry):
            entry["heap_unknown_frees"] = 7.0

        text = self.section("heapmap.json", self.changed("heapmap.json", ["map/mimalloc/200000"], unknown))
        line = self.bullet(self.part(text, "`map`"), "**Frees of blocks the interposer never saw allocated**")
        self.assertIn(": mimalloc 7.", line)
        self.assertIn("An allocation function it does not cover served those blocks", line)
        self.assertNotIn("never saw allocated", self.part(text, "`fragment`"))
        text = self.section("heapmap_scenarios.json", self.changed("heapmap_scenarios.json", ["perl-hash/jemalloc"], unknown))
        self.assertIn(": jemalloc 7.", self.bullet(self.part(text, "`perl-hash`"), "**Frees of blocks"))

    def test_no_section_or_figure_without_heap_maps(self):
        run, results = results_of("run_a.json")
        self.assertEqual(self.heap.render(report_of(run, results)), [])
        self.assertNotIn("heap_map", [p.stem for p in plan_of(run, results)])

    def test_plot_is_drawn(self):
        from benchlib import plots

        run = gbjson.load_run(fixture("heapmap_scenarios.json"))
        results = summary.summarize(run)
        report = report_of(run, results)
        report.plan = [p for p in report.plan if p.kind == "heap_map"]
        self.assertEqual([(p.stem, p.workload) for p in report.plan], [("heap_map", ("perl-hash", "python-bytes"))])
        for planned, fig in plots.render(report):
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png")
            self.assertEqual(buffer.getvalue()[:8], PNG_SIGNATURE)

    def test_scripts_on_heap_map_runs(self):
        for name, present in (("heapmap.json", "### `fragment`, N = 200,000"), ("heapmap_scenarios.json", "### `python-bytes`")):
            with self.subTest(fixture=name):
                out, plots_dir = self.path(name, "REPORT.md"), self.path(name, "plots")
                done = run_script("plot.py", fixture(name), "--out", plots_dir)
                self.assertEqual(done.returncode, 0, done.stderr)
                with open(os.path.join(plots_dir, "heap_map.png"), "rb") as f:
                    self.assertEqual(f.read(8), PNG_SIGNATURE)
                with open(os.path.join(plots_dir, "heap_map.svg")) as f:
                    self.assertIn("mimalloc", f.read())
                done = run_script("report.py", fixture(name), "-o", out, "--plots-dir", "plots")
                self.assertEqual(done.returncode, 0, done.stderr)
                self.assertEqual(done.stderr, "", "every embedded plot exists")
                with open(out) as f:
                    text = f.read()
                self.assertIn("> **Heap-map run**", text)
                self.assertEqual(text.count("## Why it stays"), 1)
                self.assertIn(present, text)
                self.assertEqual(text.count("](plots/heap_map.png)"), 1)
                self.assertNotIn("## What the numbers say", text, "no findings from an RSS and speed the interposer inflates")
                self.assertNotIn("### Which configuration for which need", text)
                csv_out = self.path(name, "bench.csv")
                done = run_script("results_csv.py", fixture(name), "-o", csv_out)
                self.assertEqual(done.returncode, 0, done.stderr)
                with open(csv_out) as f:
                    rows = list(csv.DictReader(f))
                self.assertEqual(len(rows), len(self.docs[name]["benchmarks"]))
                self.assertIn("heap_record_ns", rows[0])
