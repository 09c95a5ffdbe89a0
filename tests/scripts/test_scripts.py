"""Tests of scripts/ (results_csv.py, plot.py, report.py, compare.py) and their module benchlib,
against the saved Google Benchmark JSON in fixtures/ (made by fixtures/make_fixtures.py).

Run: /usr/bin/python3 -m unittest discover -s tests/scripts -v     (needs matplotlib and numpy)
The scripts are run as subprocesses with this interpreter, as a user would run them.
"""

import csv
import io
import json
import os
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

from benchlib import atomic, comparison, gbjson, summary  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def fixture(name):
    return os.path.join(FIXTURES, name)


def run_script(script, *args):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, script), *map(str, args)],
                           capture_output=True, text=True, env=env, timeout=300)


def load_fixture_json(name):
    with open(fixture(name), encoding="utf-8") as f:
        return json.load(f)


class TempDirTestCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def write_json(self, name, doc):
        with open(self.path(name), "w", encoding="utf-8") as f:
            json.dump(doc, f)
        return self.path(name)


# ---------------------------------------------------------------------------------------------------
# benchlib: parsing and summaries


class TestParsing(unittest.TestCase):
    def test_name_drops_google_benchmark_suffixes(self):
        self.assertEqual(gbjson.parse_name("map/glibc-trim/5000000/iterations:1/manual_time"),
                         ("map", "glibc-trim", 5000000))
        self.assertEqual(gbjson.parse_name("map/glibc/1000000"), ("map", "glibc", 1000000))
        self.assertEqual(gbjson.parse_name("unordered_map/a/b/42"), ("unordered_map", "a/b", 42))
        self.assertEqual(gbjson.display_name("map/glibc/1000/iterations:1/manual_time"), "map/glibc/1000")

    def test_label_version_keeps_spaces(self):
        label = gbjson.parse_label("malloc=/usr/lib/libtcmalloc.so.4 new=/usr/lib/libtcmalloc.so.4 "
                                   "version=gperftools 2.10 (Debian)")
        self.assertEqual(label.malloc_library, "/usr/lib/libtcmalloc.so.4")
        self.assertEqual(label.new_library, "/usr/lib/libtcmalloc.so.4")
        self.assertEqual(label.version, "gperftools 2.10 (Debian)")
        self.assertEqual(gbjson.parse_label(""), gbjson.Label())

    def test_counter_order_core_then_time_then_alphabetical(self):
        names = ["stat_arena", "rss_at_15s", "rss_at_100ms", "opt_x", "insert_rate", "rss_at_0ms",
                 "rss_at_1s", "retained_pct", "rss_base", "live_nodes"]
        self.assertEqual(sorted(names, key=gbjson.counter_sort_key),
                         ["insert_rate", "rss_base", "retained_pct", "rss_at_0ms", "rss_at_100ms",
                          "rss_at_1s", "rss_at_15s", "live_nodes", "opt_x", "stat_arena"])

    def test_time_units_and_counters(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "r.json")
            with open(path, "w") as f:
                json.dump({"benchmarks": [
                    {"name": "map/glibc/10", "run_type": "iteration", "repetition_index": 0,
                     "iterations": 1, "real_time": 2500.0, "cpu_time": 1.0, "time_unit": "us",
                     "threads": 1, "insert_rate": 5, "error_occurred": False, "label": "x"}]}, f)
            row = gbjson.load_run(path).rows[0]
        self.assertAlmostEqual(row.real_time_ms, 2.5)
        self.assertEqual(row.counters, {"insert_rate": 5.0})  # no GB fields, no bool

    def test_bad_inputs_raise_input_error_naming_the_file(self):
        cases = {"empty.json": "empty file", "corrupt.json": "invalid JSON",
                 "no_benchmarks.json": '"benchmarks"', "does_not_exist.json": "no such file"}
        for name, problem in cases.items():
            with self.subTest(name=name), self.assertRaises(gbjson.InputError) as caught:
                gbjson.load_run(fixture(name))
            self.assertIn(name, str(caught.exception))
            self.assertIn(problem, str(caught.exception))


class TestSummary(TempDirTestCase):
    def results(self, name="run_a.json"):
        return {r.configuration: r for r in summary.summarize(gbjson.load_run(fixture(name)))}

    def test_medians_come_from_iteration_rows_not_aggregates(self):
        doc = load_fixture_json("run_a.json")
        for row in doc["benchmarks"]:
            if row["run_type"] == "aggregate":
                row["insert_rate"] = 1.0  # would be visible if aggregates were used
        rs = {r.configuration: r for r in summary.summarize(gbjson.load_run(self.write_json("a.json", doc)))}
        self.assertEqual(rs["glibc"].median("insert_rate"), 1.91e6)
        self.assertEqual(rs["glibc"].spread("insert_rate").low, 1.89e6)
        self.assertEqual(rs["glibc"].spread("insert_rate").high, 1.93e6)

    def test_error_rows_are_left_out_of_the_spread(self):
        tcmalloc = self.results()["tcmalloc"]
        self.assertEqual(tcmalloc.repetitions, 2)
        self.assertEqual(tcmalloc.errors, [(0, "child killed by signal 9 (Killed)")])
        self.assertAlmostEqual(tcmalloc.median("insert_rate"), 2.79e6)

    def test_retention_is_share_of_peak_growth(self):
        trim = self.results()["glibc-trim"]
        self.assertAlmostEqual(trim.median("kept_pct_cleared"), 100.0, delta=0.01)
        self.assertAlmostEqual(trim.median("kept_pct_final"), 1.4, delta=0.01)
        self.assertAlmostEqual(trim.median("release_ms"), 21.2)
        self.assertAlmostEqual(trim.median("growth_mb"), 96.0)
        timeline = self.results()["jemalloc-bgthread"].timeline()
        self.assertEqual([t for t, _ in timeline], [0.0, 0.01, 0.1, 1.0, 5.0, 15.0])
        self.assertAlmostEqual(timeline[-1][1], 10.1, delta=0.05)

    def test_pareto_front(self):
        front = summary.pareto_front(list(self.results().values()))
        self.assertEqual([r.configuration for r in front], ["glibc-trim", "jemalloc-bgthread", "tcmalloc"])

    def test_aggregates_stand_in_when_no_iteration_rows(self):
        doc = load_fixture_json("run_a.json")
        doc["benchmarks"] = [r for r in doc["benchmarks"] if r["run_type"] == "aggregate"]
        rs = {r.configuration: r for r in summary.summarize(gbjson.load_run(self.write_json("agg.json", doc)))}
        self.assertTrue(rs["glibc"].from_aggregates)
        self.assertEqual(rs["glibc"].median("insert_rate"), 1.91e6)

    def test_plot_plan(self):
        stems = [p.stem for p in summary.plan_plots(summary.summarize(gbjson.load_run(fixture("run_a.json"))))]
        self.assertEqual(stems, ["retention", "timeline", "tradeoff", "rates"])
        stems = [p.stem for p in summary.plan_plots(summary.summarize(gbjson.load_run(fixture("sizes.json"))))]
        self.assertEqual(sorted(stems), sorted(["retention", "retention_map_1000000", "timeline", "tradeoff",
                                                "rates", "scaling", "retention_fragment"]))


# ---------------------------------------------------------------------------------------------------
# results_csv.py


class TestResultsCsv(TempDirTestCase):
    def read_csv(self, fixture_name):
        out = self.path("out.csv")
        done = run_script("results_csv.py", fixture(fixture_name), "-o", out)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(out, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f))
            f.seek(0)
            return list(csv.DictReader(f)), header

    def test_columns(self):
        rows, header = self.read_csv("run_a.json")
        self.assertEqual(header[:7], ["workload", "configuration", "size", "repetition", "run_type", "error",
                                      "real_time_ms"])
        self.assertEqual(header[7:23], [
            "insert_rate", "lookup_rate", "clear_rate", "release_seconds", "rss_base", "rss_peak",
            "rss_cleared", "rss_released", "rss_final", "retained_pct", "rss_at_0ms", "rss_at_10ms",
            "rss_at_100ms", "rss_at_1s", "rss_at_5s", "rss_at_15s"])
        rest = header[23:-3]
        self.assertEqual(rest, sorted(rest))
        self.assertIn("stat_fordblks", rest)
        self.assertIn("stat_pageheap_free_bytes", rest)  # union over allocators
        self.assertEqual(header[-3:], ["malloc_library", "new_library", "library_version"])

    def test_one_row_per_repetition_and_aggregate(self):
        rows, _ = self.read_csv("run_a.json")
        self.assertEqual(len(rows), len(load_fixture_json("run_a.json")["benchmarks"]))
        glibc = [r for r in rows if r["configuration"] == "glibc"]
        self.assertEqual([r["repetition"] for r in glibc], ["0", "1", "2", "mean", "median", "stddev", "cv"])
        self.assertEqual({r["run_type"] for r in glibc}, {"iteration", "aggregate"})
        self.assertEqual(glibc[0]["workload"], "map")
        self.assertEqual(glibc[0]["size"], "1000000")
        self.assertEqual(float(glibc[0]["insert_rate"]), 1.91e6)
        self.assertAlmostEqual(float(glibc[0]["real_time_ms"]), 969.586)

    def test_labels_and_errors(self):
        rows, _ = self.read_csv("run_a.json")
        glibc = next(r for r in rows if r["configuration"] == "glibc")
        self.assertEqual(glibc["malloc_library"], "/lib/x86_64-linux-gnu/libc.so.6")
        self.assertEqual(glibc["new_library"], "/usr/lib/x86_64-linux-gnu/libstdc++.so.6")
        self.assertEqual(glibc["library_version"], "2.36")
        tc = [r for r in rows if r["configuration"] == "tcmalloc"]
        self.assertEqual(tc[0]["error"], "child killed by signal 9 (Killed)")
        self.assertEqual(tc[0]["insert_rate"], "")
        self.assertEqual(tc[1]["library_version"], "gperftools 2.10")
        self.assertEqual(tc[1]["error"], "")

    def test_single_repetition_run(self):
        rows, header = self.read_csv("single_rep.json")
        self.assertEqual(len(rows), 3)
        self.assertEqual({r["run_type"] for r in rows}, {"iteration"})
        self.assertNotIn("rss_at_15s", header)
        glibc = next(r for r in rows if r["configuration"] == "glibc")
        self.assertEqual(glibc["rss_released"], "")


# ---------------------------------------------------------------------------------------------------
# plot.py


class TestPlot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory()
        cls.out_a = [os.path.join(cls._tmp.name, "a1"), os.path.join(cls._tmp.name, "nested", "a2")]
        cls.done_a = run_script("plot.py", fixture("run_a.json"), "--out", cls.out_a[0], "--out", cls.out_a[1])
        cls.out_sizes = os.path.join(cls._tmp.name, "sizes")
        cls.done_sizes = run_script("plot.py", fixture("sizes.json"), "--out", cls.out_sizes)
        cls.out_single = os.path.join(cls._tmp.name, "single")
        cls.done_single = run_script("plot.py", fixture("single_rep.json"), "--out", cls.out_single)

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def assert_valid_png(self, path):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.image
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), PNG_SIGNATURE, path)
        image = matplotlib.image.imread(path)
        self.assertEqual(image.ndim, 3, path)
        self.assertGreater(image.shape[0], 300, path)
        self.assertGreater(image.shape[1], 600, path)
        self.assertGreater(float(image.std()), 0.01, f"{path} is blank")

    def assert_valid_svg(self, path):
        root = ET.parse(path).getroot()
        self.assertEqual(root.tag, "{http://www.w3.org/2000/svg}svg", path)
        return root

    def assert_plots(self, directory, stems):
        self.assertEqual(sorted(os.listdir(directory)),
                         sorted(f"{s}.{ext}" for s in stems for ext in ("png", "svg")))
        for stem in stems:
            self.assert_valid_png(os.path.join(directory, f"{stem}.png"))
            self.assert_valid_svg(os.path.join(directory, f"{stem}.svg"))

    def svg_text(self, directory, stem):
        root = self.assert_valid_svg(os.path.join(directory, f"{stem}.svg"))
        return " ".join(t for t in root.itertext())

    def test_every_plot_in_every_directory(self):
        self.assertEqual(self.done_a.returncode, 0, self.done_a.stderr)
        for directory in self.out_a:  # nothing else: no scaling with one size, no temp files
            self.assert_plots(directory, ["retention", "timeline", "tradeoff", "rates"])

    def test_sizes_and_workloads(self):
        self.assertEqual(self.done_sizes.returncode, 0, self.done_sizes.stderr)
        self.assert_plots(self.out_sizes, ["retention", "retention_map_1000000", "retention_fragment",
                                           "timeline", "tradeoff", "rates", "scaling"])
        self.assertIn("fragment", self.svg_text(self.out_sizes, "retention_fragment"))
        self.assertIn("1,000,000", self.svg_text(self.out_sizes, "retention_map_1000000"))
        self.assertIn("4,000,000", self.svg_text(self.out_sizes, "retention"))
        self.assertIn("failed: child killed by signal 9", self.svg_text(self.out_sizes, "retention"))

    def test_single_repetition(self):
        self.assertEqual(self.done_single.returncode, 0, self.done_single.stderr)
        self.assert_plots(self.out_single, ["retention", "timeline", "tradeoff", "rates"])
        self.assertIn("no spread", self.svg_text(self.out_single, "retention"))

    def test_plots_carry_the_data(self):
        retention = self.svg_text(self.out_a[0], "retention")
        self.assertIn("N = 1,000,000", retention)
        for configuration in ("glibc", "glibc-trim", "jemalloc-bgthread", "tcmalloc"):
            self.assertIn(configuration, retention)
        self.assertIn("10.1 MB", retention)  # jemalloc-bgthread after settle
        self.assertIn("after settle (15s)", retention)
        timeline = self.svg_text(self.out_a[0], "timeline")
        self.assertIn("jemalloc-bgthread: 10.1 MB at 15 s", timeline)
        self.assertIn("Pareto frontier", self.svg_text(self.out_a[0], "tradeoff"))
        self.assertIn("2.79", self.svg_text(self.out_a[0], "rates"))  # tcmalloc's median insert rate


# ---------------------------------------------------------------------------------------------------
# report.py


class TestReport(TempDirTestCase):
    def report(self, json_path, *extra):
        out = self.path("REPORT.md")
        done = run_script("report.py", json_path, "-o", out, *extra)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(out, encoding="utf-8") as f:
            return f.read(), done

    def test_tables_and_numbers(self):
        text, done = self.report(fixture("run_a.json"), "--plots-dir", "plots")
        self.assertIn("| glibc-trim | 3 | 1.86 | 2.50 | 20.50 | 96.0 | 100.0 % | 1.4 % | 1.4 % | 21 | "
                      "libc.so.6 2.36 |", text)
        self.assertIn("| jemalloc-bgthread | 3 | 2.42 | 2.90 | 31.00 | 92.0 | 99.5 % | 99.5 % | 11.0 % | — |",
                      text)
        self.assertIn("| tcmalloc | 2 of 3 | 2.79 |", text)
        order = [line.split("|")[1].strip() for line in text.splitlines()
                 if line.startswith("| ") and line.count("|") == 12 and "%" in line]
        self.assertEqual(order, ["glibc-trim", "jemalloc-bgthread", "tcmalloc", "glibc"])  # by retention
        self.assertIn("![Memory kept after clear, map, N = 1,000,000](plots/retention.png)", text)
        self.assertIn("(plots/tradeoff.png)", text)
        self.assertIn("not found", done.stderr)  # plots were not made: the user is told

    def test_context(self):
        text, _ = self.report(fixture("run_a.json"))
        for expected in ("| host | bench-host |", "| glibc | 2.36 |", "| transparent huge pages | madvise |",
                         "| kernel | Linux 6.1.0-27-amd64 x86_64 |", "--benchmark_repetitions=3",
                         "| date | 2025-11-25T17:02:11+00:00 |", "| complete | yes |",
                         "| jemalloc library | /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 |",
                         "libtcmalloc.so.4 gperftools 2.10"):
            self.assertIn(expected, text)
        self.assertNotIn("Incomplete run", text)

    def test_findings_are_computed(self):
        text, _ = self.report(fixture("run_a.json"))
        keep = next(line for line in text.splitlines() if line.startswith("- **RSS does not go down.**"))
        self.assertIn("2 of 4", keep)
        self.assertIn("**glibc** (99.8 %, 95.8 MB)", keep)
        self.assertIn("**tcmalloc**", keep)
        self.assertNotIn("glibc-trim", keep)
        given = next(line for line in text.splitlines() if line.startswith("- **Given back**"))
        self.assertIn("**glibc-trim** (1.4 %, 1.3 MB, after its release step (21 ms))", given)
        self.assertIn("**jemalloc-bgthread** (11.0 %, 10.1 MB, while idle, within 15 s)", given)
        self.assertIn("glibc-trim: release step 21 ms (20–23), 100.0 % → 1.4 % kept, insert rate -2.6 % vs glibc",
                      text)
        self.assertIn("**Fastest inserter**: **tcmalloc** at 2.79 M items/s, 1.46× glibc's 1.91", text)
        self.assertIn("**Pareto set**", text)
        self.assertIn("**glibc-trim** (1.86 M/s, 1.3 MB), **jemalloc-bgthread** (2.42 M/s, 10.1 MB), "
                      "**tcmalloc** (2.79 M/s, 97.9 MB)", text)
        self.assertIn("Beaten on both counts: glibc (by jemalloc-bgthread).", text)
        self.assertIn("**Memory must go back to the OS** (long-running services, memory limits): **glibc-trim**",
                      text)
        self.assertIn("**Speed only** (short-lived or batch processes): **tcmalloc**", text)
        self.assertIn("**Both** (fast and gives back): **jemalloc-bgthread**", text)

    def test_findings_follow_the_data(self):
        doc = load_fixture_json("run_a.json")
        for row in doc["benchmarks"]:
            if "/tcmalloc/" in row["name"] and "insert_rate" in row:
                row["insert_rate"] /= 2  # now jemalloc-bgthread is fastest, tcmalloc is dominated
        text, _ = self.report(self.write_json("changed.json", doc))
        self.assertIn("**Fastest inserter**: **jemalloc-bgthread**", text)
        self.assertIn("**Speed only** (short-lived or batch processes): **jemalloc-bgthread**", text)
        self.assertIn("tcmalloc (by glibc-trim, jemalloc-bgthread)", text)

    def test_peak_outlier_is_pointed_out(self):
        doc = load_fixture_json("run_a.json")
        for row in doc["benchmarks"]:
            if "/glibc-trim/" in row["name"] and "rss_peak" in row:
                row["rss_peak"] = row["rss_base"] + 480e6
        text, _ = self.report(self.write_json("peak.json", doc))
        self.assertIn("- **Mind the peak**: glibc-trim grew 5× the typical configuration "
                      "(+480.0 MB against +97.0 MB)", text)
        text, _ = self.report(fixture("run_a.json"))
        self.assertNotIn("Mind the peak", text)

    def test_glibc_explanation_quotes_the_stats(self):
        text, _ = self.report(fixture("run_a.json"))
        section = text.split("## Why glibc keeps the memory", 1)[1].split("\n## ", 1)[0]
        self.assertIn("| glibc | 100.5 MB | 0.3 MB | 100.2 MB | 94.6 MB | 134.5 kB | 96.0 | 95.8 |", section)
        self.assertIn("100.2 MB is free chunks inside the heap (fordblks)", section)
        self.assertIn("94.6 MB of them (94 %) sit in fastbins", section)
        self.assertIn("The top chunk, all that free() could trim, is 134.5 kB", section)
        self.assertIn("**glibc-trim** 21 ms, then 1.4 % kept (1.3 MB)", section)

    def test_no_glibc_section_without_stats(self):
        doc = load_fixture_json("run_a.json")
        for row in doc["benchmarks"]:
            for key in [k for k in row if k.startswith("stat_")]:
                del row[key]
        text, _ = self.report(self.write_json("nostats.json", doc))
        self.assertNotIn("## Why glibc keeps the memory", text)

    def test_errors_listed(self):
        text, _ = self.report(fixture("sizes.json"))
        errors = text.split("## Errors", 1)[1].split("\n## ", 1)[0]
        self.assertIn("- `map/mimalloc-collect/4000000` repetition 0: child killed by signal 9 (Killed)", errors)
        self.assertIn("- `map/mimalloc-collect/4000000` repetition 1: child killed by signal 9 (Killed)", errors)
        self.assertIn("| mimalloc-collect | 0 of 2 | failed: child killed by signal 9 (Killed) |", text)
        self.assertIn("- **No result** (every repetition failed): mimalloc-collect "
                      "(child killed by signal 9 (Killed)).", text)
        self.assertIn("### `fragment`", text)
        self.assertIn("#### N = 4,000,000", text)
        self.assertLess(text.index("#### N = 4,000,000"), text.index("#### N = 1,000,000"))

    def test_single_repetition_and_incomplete(self):
        text, _ = self.report(fixture("single_rep.json"))
        self.assertIn("**Incomplete run**", text)
        self.assertIn("| complete | **no: the run was interrupted** |", text)
        self.assertIn("| glibc | 1 | 2.00 | 2.60 | 22.00 | 48.0 | 100.0 % | — | 99.9 % |", text)
        self.assertIn("No benchmark reported an error.", text)


# ---------------------------------------------------------------------------------------------------
# compare.py


class TestCompare(unittest.TestCase):
    def compare(self, *args):
        done = run_script("compare.py", *args)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout

    def line(self, output, benchmark, counter):
        return next(ln for ln in output.splitlines() if ln.startswith(benchmark + " ") and f" {counter} " in ln)

    def test_verdicts(self):
        out = self.compare(fixture("run_a.json"), fixture("run_b.json"))
        insert = self.line(out, "map/glibc/1000000", "insert_rate")
        self.assertIn("0.838", insert)  # 1.60M / 1.91M
        self.assertIn("DIFFERS", insert)
        lookup = self.line(out, "map/glibc/1000000", "lookup_rate")
        self.assertIn("0.995", lookup)
        self.assertIn("within noise", lookup)
        self.assertIn(" 2  ", self.line(out, "map/tcmalloc/1000000", "insert_rate"))  # A's 2 good reps
        self.assertIn("real_time_ms", out)

    def test_threshold_and_counter_selection(self):
        out = self.compare(fixture("run_a.json"), fixture("run_b.json"), "--counters", "insert_rate",
                           "--threshold-sigmas", "20")
        self.assertIn("within noise (13.9σ ≤ 20σ)", self.line(out, "map/glibc/1000000", "insert_rate"))
        self.assertNotIn("lookup_rate", out)

    def test_csv_format(self):
        out = self.compare(fixture("run_a.json"), fixture("run_b.json"), "--format", "csv",
                           "--counters", "insert_rate,lookup_rate")
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual(len(rows), 8)
        glibc = {r["counter"]: r for r in rows if r["benchmark"] == "map/glibc/1000000"}
        self.assertEqual(glibc["insert_rate"]["verdict"], "differs")
        self.assertAlmostEqual(float(glibc["insert_rate"]["ratio_b_over_a"]), 1.6e6 / 1.91e6)
        self.assertAlmostEqual(float(glibc["insert_rate"]["a_sd"]), 20000.0)
        self.assertEqual(glibc["lookup_rate"]["verdict"], "within noise")

    def test_single_repetition_has_no_verdict(self):
        out = self.compare(fixture("single_rep.json"), fixture("single_rep.json"), "--counters", "insert_rate")
        self.assertIn("n/a (1 rep)", self.line(out, "map/glibc/500000", "insert_rate"))

    def test_disjoint_runs(self):
        out = self.compare(fixture("run_a.json"), fixture("single_rep.json"))
        self.assertIn("no benchmark with results in both runs", out)
        self.assertIn("only in A: map/glibc/1000000", out)

    def test_judge(self):
        a, b = comparison.Side(3, 100.0, 1.0), comparison.Side(3, 103.0, 1.0)
        self.assertEqual(comparison.judge(a, b, 2.0)[2], comparison.VERDICT_DIFFERS)  # 3 > 2*sqrt(2)
        self.assertEqual(comparison.judge(a, b, 2.2)[2], comparison.VERDICT_NOISE)    # 3 < 2.2*sqrt(2)


# ---------------------------------------------------------------------------------------------------
# bad input and atomic output


BAD_INPUTS = {"empty.json": "empty file", "corrupt.json": "invalid JSON",
              "no_benchmarks.json": '"benchmarks"', "missing.json": "no such file"}
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

    def test_results_csv(self):
        for name, problem in BAD_INPUTS.items():
            with self.subTest(name=name):
                out = self.sentinel("out.csv")
                self.check(run_script("results_csv.py", fixture(name), "-o", out), name, problem)
                self.assert_untouched(out)
                self.assertEqual(os.listdir(self.tmp), ["out.csv"])

    def test_report(self):
        for name, problem in BAD_INPUTS.items():
            with self.subTest(name=name):
                out = self.sentinel("REPORT.md")
                self.check(run_script("report.py", fixture(name), "-o", out), name, problem)
                self.assert_untouched(out)
                self.assertEqual(os.listdir(self.tmp), ["REPORT.md"])

    def test_plot(self):
        for name, problem in BAD_INPUTS.items():
            with self.subTest(name=name):
                out = self.sentinel("plots", "retention.png")
                self.check(run_script("plot.py", fixture(name), "--out", os.path.dirname(out)), name, problem)
                self.assert_untouched(out)
                self.assertEqual(os.listdir(os.path.dirname(out)), ["retention.png"])

    def test_compare(self):
        for name, problem in BAD_INPUTS.items():
            with self.subTest(name=name, side="B"):
                self.check(run_script("compare.py", fixture("run_a.json"), fixture(name)), name, problem)
            with self.subTest(name=name, side="A"):
                self.check(run_script("compare.py", fixture(name), fixture("run_a.json")), name, problem)


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


if __name__ == "__main__":
    unittest.main()
