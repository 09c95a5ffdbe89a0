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
from benchlib.sections import heap  # noqa: E402

INF = math.inf


def committed(name):
    run = gbjson.load_run(os.path.join(ROOT, "results", name, "bench.json"))
    return run, summary.summarize(run)


def part(text, title):
    """The subsection `### title` of a section's text."""
    start = text.index(f"### {title}")
    end = text.find("\n### ", start + 1)
    return text[start : end if end >= 0 else len(text)]


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
