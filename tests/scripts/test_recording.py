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

from benchlib import description, gbjson, summary  # noqa: E402
from benchlib import mdformat as fmt  # noqa: E402
from benchlib.sections import command, findings, heap, programs, recording  # noqa: E402

OBSERVED = ("recorders_command.json", "recorders_scenario.json")


def load(name):
    with open(fixture(name)) as f:
        return json.load(f)


def report_text(test, name):
    """REPORT.md of a fixture, written by report.py into the test's folder."""
    out = test.path(name + ".md")
    done = run_script("report.py", fixture(name), "-o", out)
    test.assertEqual(done.returncode, 0, done.stderr)
    with open(out) as f:
        return f.read()


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


def recording_alone(doc):
    """A copy of a --record --heap-map run as --record alone would have it: no heap map, its maps and counters gone."""
    doc = json.loads(json.dumps(doc))
    del doc["suite"]["measurement"]["heap_map"]
    doc["suite"].pop("heap_maps", None)
    doc["suite"]["counters"] = {k: v for k, v in doc["suite"]["counters"].items() if not k.startswith("heap_")}
    for b in doc["benchmarks"]:
        for k in [k for k in b if k.startswith("heap_")]:
            del b[k]
    return doc


def part(text, title):
    start = text.index(f"### {title}")
    end = text.find("\n### ", start + 1)
    return text[start : end if end >= 0 else None]


class TestWhyItStaysFromTheRecording(TempDirTestCase):
    def section(self, name=None, doc=None):
        run, results = results_of(name) if doc is None else self.load_doc(doc)
        return "\n".join(heap.render(report_of(run, results)))

    def test_one_interface_reads_either_source(self):
        # The two sources agree in this run: halve the recording's figures so that a row read through the wrong one shows.
        doc = load("record_heapmap_workloads.json")
        for b in doc["benchmarks"]:
            for k in [k for k in b if k.startswith("trace_cleared_")]:
                b[k] /= 2
        for r in doc["suite"]["trace_maps"]["fragment/glibc/100000"]:
            for m in r["moments"]:
                for site in m["sites"]:
                    site["bytes"] /= 2
        run, results = self.load_doc(doc)
        result = next(r for r in results if r.run_name == "fragment/glibc/100000")
        self.assertEqual(heap.sources(run.suite), [heap.HEAP_MAP, heap.RECORDING])
        self.assertIs(heap.source_of(run.suite), heap.HEAP_MAP, "both on: the heap map is read, the recording held against it")
        self.assertIs(heap.source_of(gbjson.load_run(fixture("record_only.json")).suite), heap.RECORDING)
        self.assertIsNone(heap.source_of(gbjson.load_run(fixture("run_a.json")).suite))
        for source, prefix, key in ((heap.HEAP_MAP, "heap", "heap_maps"), (heap.RECORDING, "trace", "trace_maps")):
            with self.subTest(source=source.name):
                row = heap.HeapResult(result, run.suite, source)
                self.assertEqual(row.moments(), ["cleared", "final"])
                for c in description.HEAP_CLASSES + ("live",):
                    expected = median(doc, "fragment/glibc/100000", lambda b: b[f"{prefix}_cleared_{c}"] / 1e6)
                    self.assertEqual(row.mb("cleared", c), expected, c)
                top = doc["suite"][key]["fragment/glibc/100000"][0]["moments"][0]["sites"][0]
                self.assertEqual(row.sites("cleared")[0].frames, tuple(top["frames"][: heap.SITE_FRAMES]))
                self.assertEqual(row.sites("cleared")[0].bytes, top["bytes"])
                self.assertEqual(
                    row.unknown_frees(), median(doc, "fragment/glibc/100000", lambda b: b[f"{prefix}_unknown_frees"])
                )

    def test_a_recording_alone_gets_the_same_analysis(self):
        doc = recording_alone(load("record_heapmap_workloads.json"))
        text = self.section(doc=doc)
        self.assertIn("Every process of this run was recorded (`./bench --record`)", text)
        self.assertIn("this section reads the recording, `trace_<moment>_*`", text)
        self.assertIn(f"clock source `{doc['suite']['measurement']['record']['clock_source']}`", text)
        self.assertNotIn("interposer's own", text, "the recorder keeps no tables in the process")
        self.assertNotIn("held against the heap map's", text)
        for cls, sentence in description.RECORD_CLASSES.items():
            self.assertIn(f"- **{cls}**: {sentence.split('pinned_share')[0]}", text)
        fragment = part(text, "`fragment`, N = 100,000")
        mb = lambda c: median(doc, "fragment/glibc/100000", lambda b: b[f"trace_cleared_{c}"] / 1e6)  # noqa: E731
        self.assertIn(
            "| glibc | after the erase (1 entry in 64 still live) | "
            + " | ".join(f"{mb(c):.1f}" for c in description.HEAP_CLASSES + ("live",))
            + " |",
            fragment,
        )
        pinned = next(line for line in fragment.splitlines() if line.startswith("- **Pinned**"))
        self.assertIn(f"glibc holds {mb('free'):.1f} MB free and {mb('pinned'):.1f} MB pinned", pinned)
        top = doc["suite"]["trace_maps"]["fragment/glibc/100000"][0]["moments"][0]["sites"][0]
        self.assertIn(f"  1. {top['bytes'] / 1e6:.1f} MB in {top['blocks']:,.0f}", fragment)
        self.assertIn("`void bench::(anonymous namespace)::fragment<…>(…) (bench)`", fragment, "the site from trace_maps")
        events = median(doc, "fragment/glibc/100000", lambda b: b["record_events"])
        self.assertIn(f"{events:,.0f}", text.split("**What the recording holds**")[1].split("\n")[0])
        unknown = next(line for line in fragment.splitlines() if "never saw allocated" in line)
        self.assertIn("(`trace_unknown_frees`, the most in a repetition)", unknown)
        self.assertIn(f"glibc {median(doc, 'fragment/glibc/100000', lambda b: b['trace_unknown_frees']):,.0f}", unknown)

    def test_the_report_says_what_its_figures_are_not(self):
        for name, note in (
            ("record_only.json", "> **Recorded run** (`./bench --record`)"),
            ("record_heapmap_scenarios.json", "> **Heap-map and recorded run** (`./bench --heap-map --record`)"),
        ):
            with self.subTest(fixture=name):
                text = report_text(self, name)
                self.assertIn(note, text)
                self.assertEqual(text.count("## Why it stays"), 1)
        run, results = results_of("record_heapmap_workloads.json")
        self.assertEqual(findings.render(report_of(run, results)), [], "no findings from an RSS the recorder inflates")

    def test_the_figure_names_its_source(self):
        from benchlib import plots

        for name, caption in (
            ("record_only.json", "per configuration, from the recording"),
            ("record_heapmap_scenarios.json", "by heap-map class"),
        ):
            with self.subTest(fixture=name):
                run, results = results_of(name)
                report = report_of(run, results)
                report.plan = [p for p in report.plan if p.kind == "heap_map"]
                self.assertEqual(len(report.plan), 1)
                self.assertIn(caption, report.plan[0].caption)
                for planned, fig in plots.render(report):
                    self.assertIn("whose ring" if "recording" in caption else "interposer", fig.texts[-1].get_text())

    def test_contract_of_a_recorded_run(self):
        doc = load("record_only.json")
        del doc["suite"]["counters"]["trace_freed_pinned"]
        doc["suite"]["counters"]["record_wait_s"]["unit"] = "count"
        run, _ = self.load_doc(doc)
        problems = summary.contract_violations(run)
        self.assertIn("recording: no counter trace_freed_pinned", problems)
        self.assertIn("recording: record_wait_s is in count, the scripts read seconds", problems)
        self.assertEqual(summary.contract_violations(gbjson.load_run(fixture("record_only.json"))), [])


class TestAgreement(TempDirTestCase):
    """--record --heap-map: the recording's classes and top pinning site held against the heap map's in one process."""

    def agreement_part(self, name, title, doc=None):
        run, results = results_of(name) if doc is None else self.load_doc(doc)
        text = part("\n".join(heap.render(report_of(run, results))), title)
        return text[text.index("**The recording against the heap map") :]

    @staticmethod
    def row_of(text, configuration, moment):
        """The table row of a configuration's moment (its first row names the configuration, the others leave it blank)."""
        lines = [line for line in text.splitlines() if line.startswith("| ")]
        start = next(i for i, line in enumerate(lines) if line.startswith(f"| {configuration} |"))
        return next(line for line in lines[start:] if f"| {moment} |" in line)

    def test_cells_are_both_sources_and_their_difference(self):
        doc = load("record_heapmap_scenarios.json")
        text = self.agreement_part("record_heapmap_scenarios.json", "`perl-hash`")
        row = self.row_of(text, "glibc", "at *freed*")
        for c in description.HEAP_CLASSES:
            h = median(doc, "perl-hash/glibc", lambda b: b[f"heap_freed_{c}"] / 1e6)
            t = median(doc, "perl-hash/glibc", lambda b: b[f"trace_freed_{c}"] / 1e6)
            self.assertIn(f"| {h:,.2f} / {t:,.2f} (0) |", row, c)
        self.assertTrue(row.endswith("| yes | the same |"), row)
        jemalloc = self.row_of(self.agreement_part("record_heapmap_scenarios.json", "`python-small`"), "jemalloc", "at *built*")
        live = median(doc, "python-small/jemalloc", lambda b: (b["trace_built_live"] - b["heap_built_live"]) / 1e3)
        self.assertLess(live, -1)
        self.assertIn(f"(−{-live:,.0f} kB) | yes |", jemalloc, "live differs, but it is not a class")
        self.assertIn("Within 2 % at 10 of the 10 moments of 2 configurations", text)
        self.assertIn("the top pinning site the same at 9 of the 9 with a pinning site in either", text)

    def test_a_class_beyond_two_percent_is_named(self):
        def pinned_more(entry):
            entry["trace_freed_pinned"] = entry["heap_freed_pinned"] * 1.05  # 4.7 MB: 5 %, far more than a granule

        doc = changed_copy(load("record_heapmap_scenarios.json"), ["perl-hash/glibc"], pinned_more)
        text = self.agreement_part("record_heapmap_scenarios.json", "`perl-hash`", doc)
        self.assertIn("| **no**: pinned | the same |", self.row_of(text, "glibc", "at *freed*"))
        self.assertIn("Within 2 % at 9 of the 10 moments", text)

        def one_granule(entry):  # a class of a few pages: a granule apart is within, a granule and a page is not
            more = 65536 if "glibc" in entry["name"] else 65536 + 4096
            entry["trace_base_pinned"] = entry["heap_base_pinned"] + more

        doc = changed_copy(load("record_heapmap_scenarios.json"), ["perl-hash/glibc", "perl-hash/jemalloc"], one_granule)
        text = self.agreement_part("record_heapmap_scenarios.json", "`perl-hash`", doc)
        self.assertIn("(+66 kB) | 1.69 / 1.69 (0) |", self.row_of(text, "glibc", "at *base*"))
        self.assertIn("| yes |", self.row_of(text, "glibc", "at *base*"))
        self.assertIn("(+70 kB) |", self.row_of(text, "jemalloc", "at *base*"))
        self.assertIn("| **no**: pinned |", self.row_of(text, "jemalloc", "at *base*"))

    def test_the_top_site_compared_with_the_executable_set_aside(self):
        text = self.agreement_part("record_heapmap_scenarios.json", "`python-small`")
        self.assertIn("(the heap map names it `python3`, the recording `python3.11`)", text)
        self.assertTrue(self.row_of(text, "glibc", "at *freed*").endswith("| the same |"))
        self.assertEqual(
            heap.without_executable(("PyMem_Malloc (python3)", "python3+0x248bb5", "_dl_catch_exception (libc.so.6)")),
            heap.without_executable(("PyMem_Malloc (python3.11)", "python3.11+0x248bb5", "_dl_catch_exception (libc.so.6)")),
        )
        self.assertNotEqual(
            heap.without_executable(("f (libc.so.6)",)), heap.without_executable(("f (libm.so.6)",)), "shared objects stay"
        )
        doc = load("record_heapmap_workloads.json")
        for r in doc["suite"]["trace_maps"]["fragment/glibc/100000"]:
            for m in r["moments"]:
                m["sites"][0]["frames"] = ["operator new(unsigned long) (libstdc++.so.6)"] + m["sites"][0]["frames"][1:]
        text = self.agreement_part("record_heapmap_workloads.json", "`fragment`, N = 100,000", doc)
        self.assertTrue(self.row_of(text, "glibc", "after settle").endswith("| yes | **differs** |"))
        self.assertIn("the top pinning site the same at 2 of the 4", text)
        ties = [heap.Site(("a",), 4096.0, 1.0), heap.Site(("b",), 4096.0 * 0.99, 1.0), heap.Site(("c",), 2048.0, 1.0)]
        self.assertEqual([s.frames for s in heap.top_sites(ties)], [("a",), ("b",)], "within 2 % of the top: tied")

    def test_no_table_without_both_sources(self):
        for name, doc in (
            ("record_only.json", None),
            ("heapmap_scenarios.json", None),
            ("record_heapmap_workloads.json", recording_alone(load("record_heapmap_workloads.json"))),
        ):
            with self.subTest(fixture=name, changed=doc is not None):
                run, results = results_of(name) if doc is None else self.load_doc(doc)
                self.assertNotIn("The recording against the heap map", "\n".join(heap.render(report_of(run, results))))


def walls(doc, run_name):
    return [b["wall_seconds"] for b in _iterations(doc, run_name)]


class TestWhatRecordingCosts(TempDirTestCase):
    """The section "What recording costs": the four observers of a program side by side, and the recorder's targets."""

    def section(self, name, doc=None):
        run, results = results_of(name) if doc is None else self.load_doc(doc)
        return "\n".join(recording.render(report_of(run, results)))

    def observed(self, name, doc=None):
        run, results = results_of(name) if doc is None else self.load_doc(doc)
        (found,) = recording.observed(report_of(run, results))
        return found

    @staticmethod
    def line(text, start):
        return next(line for line in text.splitlines() if line.startswith(start))

    def test_the_cost_table_is_the_rows(self):
        for name, program in (("recorders_command.json", "command"), ("recorders_scenario.json", "python-small")):
            with self.subTest(fixture=name):
                doc, text = load(name), self.section(name)
                calls = median(doc, f"{program}/glibc@record", lambda b: b["record_events"])
                plain = median(doc, f"{program}/glibc@plain", lambda b: b["wall_seconds"])
                over = {
                    o: (median(doc, f"{program}/glibc@{o}", lambda b: b["wall_seconds"]) - plain) / calls * 1e9
                    for o in ("record", "heap-map", "heaptrack")
                }
                record = self.line(text, "| record |")
                cpu = median(
                    doc, f"{program}/glibc@record", lambda b: b["user_seconds"] + b["sys_seconds"] + b["record_writer_cpu_s"]
                )
                writer = median(doc, f"{program}/glibc@record", lambda b: b["record_writer_cpu_s"])
                self.assertIn(f"| {cpu:.3f} (", record)
                self.assertIn(f" + the writer's {writer:.3f}) |", record)
                peak = {o: median(doc, f"{program}/glibc@{o}", lambda b: b["hwm_peak"]) for o in ("plain", "record")}
                self.assertIn(f"| {peak['record'] / 1e6:.1f} | {peak['record'] / peak['plain']:.2f}× |", record)
                self.assertIn(f"| {over['record']:,.0f} | {over['record'] / over['heaptrack']:.2f} |", record)
                bpe = median(doc, f"{program}/glibc@record", lambda b: b["record_bytes_per_event"])
                waits = median(doc, f"{program}/glibc@record", lambda b: b["record_waits"])
                self.assertIn(f"| {bpe:.3g} | {waits:,.0f} (", record)
                heaptrack = self.line(text, "| heaptrack |")
                theirs = median(doc, f"{program}/glibc@heaptrack", lambda b: b["heaptrack_bytes"]) / calls
                self.assertIn(f"| {theirs:.3g} (its file) |", heaptrack)
                self.assertIn("(its interpreter's included)", heaptrack)
                self.assertIn(f"| {over['heaptrack']:,.0f} | — |", heaptrack)
                self.assertIn(
                    f"| {over['heap-map']:,.0f} | {over['heap-map'] / over['heaptrack']:.2f} |", self.line(text, "| heap-map |")
                )
                low, high = min(walls(doc, f"{program}/glibc@plain")), max(walls(doc, f"{program}/glibc@plain"))
                self.assertIn(f"| plain | 2 | {plain:.3f} ({low:.3f}–{high:.3f}) range, 50 % | — |", text)
                summary_row = self.line(text, f"| `{'bench_alloc_churn' if program == 'command' else program}` | glibc |")
                self.assertIn(
                    f"| {over['record']:,.0f} / {over['heaptrack']:,.0f} ({over['record'] / over['heaptrack']:.2f}) |",
                    summary_row,
                )
        self.assertIn("this run's description names no clock source", self.section("recorders_command.json"))

    def test_the_targets_met_and_missed(self):
        churn = self.observed("recorders_command.json")
        self.assertEqual([v.verdict for v in churn.targets()], [recording.MISSED, recording.NOT_APPLICABLE, recording.MET])
        doc = load("recorders_command.json")
        calls = median(doc, "command/glibc@record", lambda b: b["record_events"])
        least = (min(walls(doc, "command/glibc@record")) - max(walls(doc, "command/glibc@plain"))) / calls * 1e9
        self.assertIn(f"the recorder's overhead per call is {least:,.0f}–", churn.per_call().why)
        text = self.section("recorders_command.json")
        self.assertIn("overhead per call at most a third of heaptrack's: **not met**", text)
        self.assertIn("| **not met** |", self.line(text, "| `bench_alloc_churn` |"))
        self.assertIn("not a scenario", churn.scenario_target().why)
        limit = 2 * median(doc, "command/glibc@heaptrack", lambda b: b["heaptrack_bytes"]) / calls
        files = [b["heaptrack_bytes"] for b in _iterations(doc, "command/glibc@heaptrack")]
        self.assertIn(
            f"against at most {fmt.span([2 * v / calls for v in files], lambda v: f'{v:.3g}')}", churn.trace_target().why
        )
        self.assertGreater(limit, 2, "twice heaptrack's file is the larger limit here")
        python = self.observed("recorders_scenario.json")
        self.assertEqual([v.verdict for v in python.targets()], [recording.MET, recording.MET, recording.MET])

        def bigger(entry):
            entry["record_bytes_per_event"] = 30.0

        self.assertEqual(
            self.observed("", changed_copy(load("recorders_scenario.json"), ["python-small/glibc@record"], bigger))
            .trace_target()
            .verdict,
            recording.MISSED,
        )

    def test_heaptrack_within_the_noise_leaves_the_per_call_target_aside(self):
        doc = load("recorders_scenario.json")
        plain = walls(doc, "python-small/glibc@plain")
        heaptrack = iter([plain[1] * 1.001, plain[0] * 0.999])

        def like_plain(entry):
            entry["wall_seconds"] = next(heaptrack)

        changed = changed_copy(doc, ["python-small/glibc@heaptrack"], like_plain)
        found = self.observed("", changed)
        self.assertEqual(found.per_call().verdict, recording.NOT_APPLICABLE)
        self.assertIn("heaptrack's own overhead is within the noise", found.per_call().why)
        text = self.section("", changed)
        self.assertIn(
            "overhead per call at most a third of heaptrack's: **does not apply** (heaptrack's own overhead is within the noise",
            text,
        )
        self.assertIn("not shown to differ under heaptrack", text)
        self.assertEqual(found.scenario_target().verdict, recording.MET, "1.25× judged alone")

    def test_a_scenario_beyond_its_wall_target(self):
        doc = load("recorders_scenario.json")
        plain = walls(doc, "python-small/glibc@plain")
        slow = iter([v * 1.6 for v in plain])

        def slower(entry):
            entry["wall_seconds"] = next(slow)

        changed = changed_copy(doc, ["python-small/glibc@record"], slower)
        found = self.observed("", changed)
        self.assertEqual(found.scenario_target().verdict, recording.MISSED, "judged by the per-call target, not met either")
        self.assertIn("judged by the per-call target alone, which allows more", found.scenario_target().why)
        heaptrack_near = iter([v * 1.2 for v in plain])

        def nearer(entry):
            entry["wall_seconds"] = next(heaptrack_near)

        changed = changed_copy(changed, ["python-small/glibc@heaptrack"], nearer)
        found = self.observed("", changed)
        self.assertEqual(found.scenario_target().verdict, recording.MISSED)
        self.assertNotIn("per-call target", found.scenario_target().why, "a third of heaptrack's 20 % allows less than 25 %")
        boundary = iter([plain[1] * 1.2, plain[0] * 1.3])

        def across(entry):
            entry["wall_seconds"] = next(boundary)

        found = self.observed("", changed_copy(changed, ["python-small/glibc@record"], across))
        self.assertEqual(found.scenario_target().verdict, recording.NOT_SHOWN)

    def test_one_repetition_gives_no_verdict_on_time(self):
        doc = load("recorders_scenario.json")
        doc["benchmarks"] = [b for b in doc["benchmarks"] if b.get("repetition_index", 0) == 0 and b["run_type"] == "iteration"]
        found = self.observed("", doc)
        self.assertEqual([v.verdict for v in found.targets()], [recording.NO_VERDICT, recording.NO_VERDICT, recording.MET])
        self.assertIn("One repetition: no verdict on wall time", self.section("", doc))

    def test_sites_checked_against_libgcc(self):
        self.assertNotIn("libgcc", self.section("recorders_scenario.json"), "nothing checked")

        def checked(entry):
            entry["record_unwind_checked"], entry["record_unwind_disagreed"] = 891.0, 9.0

        text = self.section("", changed_copy(load("recorders_scenario.json"), ["python-small/glibc@record"], checked))
        self.assertIn(f"{(891 - 9) / 891 * 100:.2f} % of the 891 sites checked", text)

    def test_a_failed_observer_is_said(self):
        def failed(entry):
            entry["error_occurred"], entry["error_message"] = (
                True,
                "/usr/bin/heaptrack is not installed (Debian package heaptrack)",
            )

        doc = changed_copy(load("recorders_command.json"), ["command/glibc@heaptrack"], failed, failed=True)
        text = self.section("", doc)
        self.assertIn("| heaptrack | 0 | failed: /usr/bin/heaptrack is not installed", text)
        self.assertIn("**no verdict** (a row of the plain program, the recording or heaptrack is missing)", text)
        self.assertIn("heaptrack's file, which may allow more, is not measured", text)

    def test_only_runs_with_observers(self):
        for name in ("scenarios.json", "command.json", "record_only.json"):
            with self.subTest(fixture=name):
                run, results = results_of(name)
                self.assertEqual(recording.render(report_of(run, results)), [])
        for name in OBSERVED:
            with self.subTest(fixture=name):
                text = report_text(self, name)
                self.assertEqual(text.count("## What recording costs"), 1)
                self.assertLess(text.index("## The run"), text.index("## What recording costs"))
                self.assertLess(text.index("## What recording costs"), text.index("## Errors"))
                self.assertEqual(summary.contract_violations(gbjson.load_run(fixture(name))), [])
        doc = load("recorders_command.json")
        del doc["suite"]["counters"]["heaptrack_bytes"]
        run, _ = self.load_doc(doc)
        self.assertIn("recorders: no counter heaptrack_bytes", summary.contract_violations(run))
