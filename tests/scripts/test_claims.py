"""Generated sentences say only what the rows show (issue 30's findings that arise in the report's code): each
test holds a sentence, rule or table to the rows it speaks of, and fails on the code the finding was made on.
"""

import math
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from test_scripts import MAP, ROOT, _config, _result, report_of, results_of  # noqa: E402

from benchlib import gbjson, mdformat, stats, summary  # noqa: E402
from benchlib.sections import busy, cost, findings, heap, programs, reading  # noqa: E402

INF = math.inf


def committed(name):
    run = gbjson.load_run(os.path.join(ROOT, "results", name, "bench.json"))
    return run, summary.summarize(run)


def part(text, title):
    """The subsection `### title` of a section's text."""
    start = text.index(f"### {title}")
    end = text.find("\n### ", start + 1)
    return text[start : end if end >= 0 else len(text)]


class TestRefill(unittest.TestCase):
    """ "Pay for the memory again (more than twice the base's faults)" named jemalloc-bgthread for 69 faults against 2:
    a refill is measured against the memory there is to refill."""

    def cost(self, mine, theirs, growth_mb=64.0):
        knob, base = _result(_config("knob", "jemalloc", "base")), _result(_config("base", "jemalloc"))
        c = summary.Cost(knob, base, None, 0.0, 0.0, {}, {2: (mine, theirs)}, {}, {}, {})
        c.growth_pages = growth_mb * 1e6 / 4096
        return c

    def test_a_few_dozen_faults_are_no_refill(self):
        self.assertFalse(self.cost(69, 2).pays_again(2))
        self.assertTrue(self.cost(15625, 2).pays_again(2))
        self.assertTrue(self.cost(3807 + 11818, 11818).pays_again(2), "24 % of the growth more than the base")
        self.assertTrue(self.cost(69, 2, growth_mb=0.2).pays_again(2), "67 more faults refill a growth of 49 pages")

    def test_the_sentence_gives_the_faults(self):
        text = " ".join(cost.conclusions([self.cost(15625, 2), self.cost(69, 2)], [1, 2]))
        self.assertIn("at least 10 % of the knob's growth in 4 KiB pages", text)
        self.assertIn("**knob** (round 2: 15,625 against the base's 2)", text)
        self.assertEqual(text.count("**knob**"), 1, "69 against 2 is not named")


class TestBusySentences(unittest.TestCase):
    def busy_run(self, per_mode):
        """A BusyRun of one default configuration (jemalloc) from {mode: quantities}."""
        config = _config("jemalloc", "jemalloc")
        rows = {"jemalloc": {m: _result(config, MAP, **q) for m, q in per_mode.items()}}
        modes = [(m, "map" if m == "idle" else f"map_active:{m}") for m in per_mode]
        return busy.BusyRun(100000, modes, rows, {}, "15 s")

    def test_two_busy_patterns_that_give_back_read_as_one_subject(self):
        run = self.busy_run(
            {
                "idle": {"return_90pct": [INF] * 3, "return_50pct": [INF] * 3, "kept_pct_final": [100.0] * 3},
                "batch": {"return_90pct": [7.9] * 3, "return_50pct": [5.0] * 3, "kept_pct_final": [3.4] * 3},
                "steady": {"return_90pct": [7.9] * 3, "return_50pct": [6.3] * 3, "kept_pct_final": [4.9] * 3},
            }
        )
        text = busy._default_sentence(run, "jemalloc")
        self.assertIn("busy under batch and steady, it gives back what it keeps idle:", text)
        self.assertNotIn("steady gives back", text)

    def test_repetitions_that_disagree_are_given_beside_the_median(self):
        run = self.busy_run(
            {
                "idle": {"return_90pct": [INF] * 3, "return_50pct": [INF] * 3, "kept_pct_final": [100.0] * 3},
                "steady": {"return_90pct": [INF] * 3, "return_50pct": [3.98, INF, INF], "kept_pct_final": [23.5, 74.2, 74.2]},
            }
        )
        steady = run.rows["jemalloc"]["steady"]
        self.assertEqual(busy._kept(steady), "74.2 % (repetitions: 23.5, 74.2, 74.2 %)")
        self.assertEqual(busy._back(steady, 50), "never (1 of 3: 3.98 s)")
        self.assertEqual(busy._kept(run.rows["jemalloc"]["idle"]), "100.0 %", "repetitions that agree: the median alone")
        said = " ".join(busy._disagreements(run))
        self.assertIn("jemalloc under steady (kept at the end 23.5, 74.2, 74.2 %; 50 % back 3.98 s, never, never)", said)
        self.assertIn("74.2 % (repetitions: 23.5, 74.2, 74.2 %)", busy._default_sentence(run, "jemalloc"))

    def test_the_findings_and_the_results_table_say_so_too(self):
        r = _result(_config("glibc"), MAP, kept_pct_final=[23.5, 74.2, 74.2], kept_mb_final=[15.0, 47.5, 47.5])
        self.assertEqual(findings._kept(r), "74.2 %, 47.5 MB (repetitions: 23.5, 74.2, 74.2 %)")
        self.assertEqual(mdformat.disagreement([99.0, 99.4, 99.8]), "")

    def test_the_first_sample_is_the_rows_own_not_a_tenth_of_a_second(self):
        run, results = results_of("busy.json")
        text = "\n".join(busy.render(report_of(run, results)))
        self.assertNotIn("about 0.1 s", text)
        header = next(ln for ln in text.splitlines() if ln.startswith("| configuration | idle: 50 %"))
        self.assertIn("| kept at end | first sample |", header)
        glibc = next(r for r in results.values() if r.run_name == "map/glibc/100000")
        row = next(ln for ln in text.splitlines() if ln.startswith("| glibc |"))
        self.assertEqual(row.split(" | ")[4], mdformat.duration(glibc.timeline[0][0]))

    def test_the_knob_comparisons_say_how_many_would_differ_by_chance(self):
        run, results = results_of("busy.json")
        text = "\n".join(busy.render(report_of(run, results)))
        m = re.search(r"Of these (\d+) insert comparisons [^;]*; [^)]*\), about ([\d.]+) would differ by chance alone", text)
        self.assertIsNotNone(m, "the knob table's verdicts come with their false alarms")
        reps = run.suite.repetitions  # below 6 the intervals are ranges: 2 / C(2n, n) false alarms each
        self.assertAlmostEqual(float(m.group(2)), int(m.group(1)) * stats.range_false_alarm(reps, reps), places=1)


class TestTimedPhases(unittest.TestCase):
    """ "*timed* phases ran with nothing else beside them": other children settle beside them, and no row records
    the CPU they used."""

    def test_no_quiet_machine_is_claimed(self):
        run, results = results_of("scenarios.json")
        report = report_of(run, results)
        for text in ("\n".join(programs.render(report)), "\n".join(reading.render(report))):
            self.assertNotIn("nothing else", text)
            self.assertIn("this run does not record how much CPU was used beside them", text)


class TestProgramsIntro(unittest.TestCase):
    def test_one_repetition_is_one(self):
        run, results = committed("programs-heap-map")
        text = "\n".join(programs.render(report_of(run, results)))
        self.assertIn("(1 repetition, interleaved;", text)


class TestVariant(unittest.TestCase):
    def test_a_variant_is_not_described_by_what_it_changes(self):
        run, results = results_of("scenarios.json")
        text = "\n".join(programs.render(report_of(run, results)))
        variant = part(text, "`python-small-malloc`").split("\n\n")[1]
        self.assertTrue(variant.startswith("`python-small` with one change: every object from malloc"), variant)
        self.assertNotIn("pymalloc's own arenas serve them", variant)


class TestHeapSentences(unittest.TestCase):
    def test_a_megabyte_beside_a_hundred_is_little_to_return(self):
        run, results = committed("heap-map-1M")
        fragment = part("\n".join(heap.render(report_of(run, results))), "`fragment`")
        self.assertIn("tbbmalloc-clean's release step", fragment)
        self.assertIn("had little free to return (free 1.1 → 1.1 MB)", fragment)
        self.assertNotIn("did not return the free part** (free 1.1", fragment)

    def test_free_pages_are_not_said_to_be_returnable_where_no_release_step_ran(self):
        run, results = committed("programs-heap-map")
        text = "\n".join(heap.render(report_of(run, results)))
        self.assertNotIn("free pages are what a release call or knob can return", text)
        self.assertIn("no release step ran here, so whether a call or knob returns them is not measured in this run", text)

    def test_the_executable_of_another_name_is_said_to_be_the_programs(self):
        run, results = committed("programs-heap-map")
        redis = part("\n".join(heap.render(report_of(run, results))), "`redis`")
        self.assertIn("`redis-check-rdb` is the executable of the measured `redis-server`", redis)


if __name__ == "__main__":
    unittest.main()
