"""The generated blocks of README.md and docs/ (benchlib/docs.py): each one is what its committed run's report
says, made by the report's own code; and the rule for measured numbers in the prose around them.
"""

import json
import os
import re
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from benchlib import docs  # noqa: E402
from benchlib.gbjson import InputError  # noqa: E402

SEED = "results/seed-scale-5M-v2"


def report_md(run):
    with open(os.path.join(ROOT, run, "REPORT.md"), encoding="utf-8") as f:
        return f.read()


def as_in_report(text, run):
    """A block's text with its figures linked as the run's REPORT.md links them (plots/ beside it)."""
    return text.replace(f"](plots/{os.path.basename(run)}/", "](plots/")


def block(block_id, run=SEED, inline=False):
    body = "" if inline else "\n\n"
    return f"<!-- generated: {block_id} from {run} -->{body}<!-- end -->"


class TestBlocks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.runs = docs.Runs(ROOT)

    def made(self, text, page="README.md"):
        return docs.regenerate(ROOT, page, text, self.runs)

    def body(self, block_id, run=SEED, page="README.md"):
        return docs.blocks(self.made(block(block_id, run), page))[0].body.strip("\n")

    def test_a_section_block_is_its_report_s_text(self):
        for block_id, run in (
            ("section:glibc", SEED),
            ("section:busy/What the knobs trade", "results/busy-1M"),
            ("section:cost", "results/cycle-1M"),
            ("section:heap", "results/heap-map-1M"),
        ):
            with self.subTest(block=block_id):
                text = self.body(block_id, run)
                self.assertGreater(len(text.splitlines()), 3)
                self.assertIn(as_in_report(text, run), report_md(run), "made by the code that writes the run's REPORT.md")
                self.assertFalse(text.startswith("## "), "the page gives the heading")

    def test_a_table_block_is_the_first_table_there(self):
        text = self.body("table:results/`map`")
        lines = text.splitlines()
        self.assertTrue(lines[0].startswith("| configuration | kind | runs | insert (M/s) |"), lines[0])
        self.assertTrue(all(line.startswith("|") for line in lines))
        self.assertEqual(len(lines), 2 + 31, "the header, its rule and one row per configuration")
        self.assertIn(text, report_md(SEED))

    def test_a_heading_s_part_stops_at_the_next_heading_of_its_level(self):
        text = self.body("section:busy/What the knobs trade", "results/busy-1M")
        self.assertTrue(text.startswith("What each library's knobs trade"), text[:80])
        self.assertNotIn("## ", text)

    def test_a_figure_is_linked_from_where_the_page_is(self):
        self.assertEqual(
            self.body("figure:retention"), "![Memory kept after clear, map, N = 5,000,000](plots/seed-scale-5M-v2/retention.png)"
        )
        self.assertEqual(
            self.body("figure:retention", page="docs/page.md"),
            "![Memory kept after clear, map, N = 5,000,000](../plots/seed-scale-5M-v2/retention.png)",
        )
        self.assertTrue(os.path.exists(os.path.join(ROOT, "plots", "seed-scale-5M-v2", "retention.png")))

    def test_an_inline_block_stays_inline_and_the_prose_around_it_is_kept(self):
        text = "The run: " + block("run:command", inline=True) + ". More prose.\n"
        made = self.made(text)
        self.assertTrue(made.startswith("The run: <!-- generated: run:command from results/seed-scale-5M-v2 -->`scripts/run.sh "))
        self.assertTrue(made.endswith("<!-- end -->. More prose.\n"))
        self.assertEqual(self.made(made), made, "made again, a block is the same")

    def test_a_marker_in_fenced_code_is_an_example_not_a_block(self):
        text = "```\n" + block("section:glibc") + "\n```\n\n" + block("figure:retention") + "\n"
        made = self.made(text)
        self.assertTrue(made.startswith("```\n" + block("section:glibc") + "\n```\n"), "the example is left as it is")
        self.assertEqual([b.id for b in docs.blocks(made)], ["figure:retention"])

    def test_an_edited_block_is_named(self):
        made = self.made("# Page\n\n" + block("section:glibc") + "\n")
        edited = made.replace("mallinfo2", "mallinfo", 1)
        self.assertEqual(docs.changed(edited, self.made(edited)), ["section:glibc from results/seed-scale-5M-v2 (line 3)"])

    def test_bad_blocks_name_the_page_and_the_line(self):
        for text, problem in (
            ("\n" + block("section:nothing"), "no section nothing"),
            ("\n" + block("section:glibc/No such heading"), "has no heading 'No such heading'"),
            ("\n" + block("figure:nothing"), "has no figure nothing"),
            ("\n" + block("tables:map"), "unknown block tables:map"),
            ("\n" + block("table:glibc/No such heading"), "has no heading 'No such heading'"),
            ("\n" + block("table:errors"), "the section errors has no table about"),
            ("\n" + block("section:glibc", "results/no-such-run"), "no results/no-such-run/bench.json"),
            ("\n" + block("section:programs"), "the section programs says nothing about"),
            ("\n<!-- generated: section:glibc from results/x -->\nno end\n", "is not a block"),
        ):
            with self.subTest(problem=problem):
                with self.assertRaises(InputError) as caught:
                    self.made(text, page="docs/page.md")
                self.assertIn("docs/page.md:2", str(caught.exception))
                self.assertIn(problem, str(caught.exception))

    def test_a_run_s_duration_comes_from_its_environment(self):
        with tempfile.TemporaryDirectory() as root:
            shutil.copytree(os.path.join(ROOT, "results", "command-perl"), os.path.join(root, "results", "command-perl"))
            runs = docs.Runs(root)
            text = "It took " + block("run:duration", "results/command-perl", inline=True) + ".\n"
            with self.assertRaises(InputError) as caught:
                docs.regenerate(root, "README.md", text, runs)
            self.assertIn("environment.json records no duration", str(caught.exception))
            path = os.path.join(root, "results", "command-perl", "environment.json")
            with open(path) as f:
                env = json.load(f)
            env["duration_seconds"] = 1619.8
            with open(path, "w") as f:
                json.dump(env, f)
            made = docs.regenerate(root, "README.md", text, docs.Runs(root))
            self.assertIn("-->27 min 0 s<!-- end -->", made)


class TestMeasuredNumbers(unittest.TestCase):
    def flagged(self, text):
        return [number for _, number, _ in docs.measured_numbers(text)]

    def test_numbers_with_units_in_prose_are_measured(self):
        self.assertEqual(
            self.flagged("glibc keeps 97.8 % of 320.0 MB; the trim takes 1,418 ms and runs 1.20× faster, at 3.2 M/s.\n"),
            ["97.8 %", "320.0 MB", "1,418 ms", "1.20×", "3.2 M/s"],
        )
        self.assertEqual(self.flagged("| glibc | 97.8 % |\n"), ["97.8 %"], "a table typed by hand is prose too")
        self.assertEqual(self.flagged("It ran in 42 min 3 s.\n"), ["42 min", "3 s"])

    def test_what_is_not_a_measured_number(self):
        for text in (
            "glibc 2.36, Python 3.11, 43 configurations, 3 repetitions, N = 1,000,000 and 5M nodes.\n",
            "The flag `--settle=15s` and `jemalloc-decay0`, the knob `dirty_decay_ms:0`.\n",
            "```sh\nscripts/run.sh --sizes=5000000  # 58 min\n```\n",
            "See [the rule](docs/noise.md#5-%) and <!-- 12 MB -->.\n",
            "A 56-byte node, x86_64, 10⁶ bytes.\n",
        ):
            with self.subTest(text=text):
                self.assertEqual(self.flagged(text), [])

    def test_a_number_from_a_block_of_the_page_may_be_quoted(self):
        text = "<!-- generated: section:x from results/r -->\n| glibc | 320.0 | 97.8 % |\n<!-- end -->\n\nglibc keeps 97.8 % of 320.0 MB, not 12 MB.\n"
        self.assertEqual(self.flagged(text), ["12 MB"])

    def test_a_sentence_that_names_its_command_may_give_its_numbers(self):
        text = "`scripts/compare.py a.json b.json` says insert +4.1 % (differs). Another sentence says 5 %.\n"
        self.assertEqual(self.flagged(text), ["5 %"])

    def test_each_finding_names_its_line_and_sentence(self):
        line, number, sentence = docs.measured_numbers("# Title\n\nFirst line,\nthen 12 MB kept.\n")[0]
        self.assertEqual((line, number, sentence), (4, "12 MB", "First line, then 12 MB kept."))


class TestPages(unittest.TestCase):
    """README.md and docs/*.md as committed: what they say is what the runs say."""

    def test_no_measured_number_is_typed_by_hand(self):
        found = [
            f"{page}:{line}: {number} in: {sentence}"
            for page, text in docs.documents(ROOT)
            for line, number, sentence in docs.measured_numbers(text)
        ]
        self.assertEqual(found, [], "a measured number outside a block, or quoted from none:\n" + "\n".join(found))

    def test_every_page_has_blocks_and_every_block_a_run(self):
        pages = dict(docs.documents(ROOT))
        self.assertIn("README.md", pages)
        self.assertGreater(len(pages), 5, "the README's sections are pages of docs/")
        for page in ("README.md", "docs/seed.md", "docs/busy.md", "docs/programs.md", "docs/why-it-stays.md"):
            self.assertTrue(docs.blocks(pages[page]), f"{page} has no generated block")

    def test_the_readme_reads_in_five_minutes(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            lines = f.read().splitlines()
        self.assertLess(len(lines), 300)

    def test_every_local_link_leads_somewhere(self):
        broken = []
        for page, text in docs.documents(ROOT):
            for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
                if "://" in target:
                    continue
                if not os.path.exists(os.path.join(ROOT, os.path.dirname(page), target)):
                    broken.append(f"{page}: {target}")
        self.assertEqual(broken, [])


if __name__ == "__main__":
    unittest.main()
