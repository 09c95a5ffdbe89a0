"""The README's and docs/'s generated blocks, and the rule for the numbers in the prose around them.

A block is text between two markers, written by scripts/regenerate.py from a committed run with the code that
writes that run's REPORT.md; a block edited by hand differs from what its run produces, which
`regenerate.py --check` (ctest "regenerate") reports:

    <!-- generated: BLOCK from results/RUN -->
    ...
    <!-- end -->

A block whose opening marker ends its line is a paragraph of its own (written between blank lines); one written
inside a line stays inline.
BLOCK is one of

    section:NAME            a section of the run's report (a module of benchlib/sections/, by its name), as its
                            REPORT.md has it, without its "## " heading: the page gives its own
    section:NAME/HEADING    the part of that section under the heading "### HEADING" (or ####), without it
    table:NAME[/HEADING]    the first table of that section (or of the part under HEADING)
    figure:STEM             the figure STEM of the run's plan, linked from the page to plots/RUN/STEM.png
    run:command             the command of the run, as its environment.json records it, in a code span
    run:duration            how long ./bench ran, as scripts/run.sh recorded it in environment.json

Numbers in the prose (measured_numbers): a number followed by a unit (UNITS: %, MB, ms, s, ×, M/s, ...) is
measured, and may stand outside a block only when it appears, as written, in a generated block of the same page
(a sentence may quote its table), or when its sentence names the command that measures it in a code span
(`scripts/...`, `./bench ...`). Not counted: numbers in code spans and fenced code (configuration names, flags,
commands), in link targets and HTML comments, numbers without a unit (versions, counts of configurations,
repetitions, N).
"""

import json
import os
import re
from dataclasses import dataclass

from . import gbjson, sections, summary
from . import mdformat as fmt
from .gbjson import InputError
from .sections import exact

BLOCK = re.compile(r"<!-- generated: (?P<id>[^\n]+?) from (?P<run>results/[^\s/]+) -->(?P<body>.*?)<!-- end -->", re.S)
_OPENING = re.compile(r"<!-- generated:[^>]*-->")


def documents(root):
    """[(path relative to root, text)] of README.md and every docs/*.md."""
    paths = ["README.md"] if os.path.exists(os.path.join(root, "README.md")) else []
    folder = os.path.join(root, "docs")
    if os.path.isdir(folder):
        paths += sorted(os.path.join("docs", f) for f in os.listdir(folder) if f.endswith(".md"))
    out = []
    for path in paths:
        with open(os.path.join(root, path), encoding="utf-8") as f:
            out.append((path, f.read()))
    return out


@dataclass
class Block:
    id: str
    run: str  # "results/busy-1M"
    body: str
    start: int  # offset of the opening marker in the document
    end: int
    line: int  # of the opening marker

    @property
    def inline(self):
        return not self.body.startswith("\n")


_FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _in_fences(text):
    """The spans of the fenced code blocks of a page: markers shown there as examples are not blocks."""
    return [m.span() for m in _FENCE.finditer(text)]


def _fenced(offset, fences):
    return any(start <= offset < end for start, end in fences)


def blocks(text):
    fences = _in_fences(text)
    return [
        Block(m["id"], m["run"], m["body"], m.start(), m.end(), line_of(text, m.start()))
        for m in BLOCK.finditer(text)
        if not _fenced(m.start(), fences)
    ]


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


class Runs:
    """Each committed run loaded once, with its section.Report made as the page links its figures."""

    def __init__(self, root):
        self.root = root
        self._loaded = {}

    def report(self, run_dir, page):
        plots_dir = os.path.relpath(
            os.path.join(self.root, "plots", os.path.basename(run_dir)), os.path.dirname(os.path.join(self.root, page))
        )
        key = (run_dir, plots_dir)
        if key not in self._loaded:
            run = gbjson.load_run(os.path.join(self.root, run_dir, "bench.json"))
            results = summary.summarize(run)
            timed = self._timed(run_dir, run, results)
            self._loaded[key] = sections.make_report(run, results, plots_dir, timed)
        return self._loaded[key]

    def _timed(self, run_dir, run, results):
        """The timed run an exact run's report is set beside (its regenerate.json's --timed, relative to the root,
        where the report names it), as report.py has it."""
        with open(os.path.join(self.root, run_dir, "regenerate.json"), encoding="utf-8") as f:
            arguments = json.load(f).get("arguments", [])
        if "--timed" not in arguments:
            return None
        return exact.load_timed(arguments[arguments.index("--timed") + 1], run, results, base=self.root)

    def environment(self, run_dir):
        path = os.path.join(self.root, run_dir, "environment.json")
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return {}


def _section_module(name):
    found = [s for s in sections.REPORT if s.__name__.rsplit(".", 1)[-1] == name]
    return found[0] if found else None


def _heading_level(line):
    m = re.match(r"^(#{1,6}) ", line)
    return len(m.group(1)) if m else None


def _under(lines, heading):
    """The lines under the heading `heading` (level 3 or more), up to the next heading of its level or above."""
    for i, line in enumerate(lines):
        level = _heading_level(line)
        if level and level >= 3 and line[level + 1 :] == heading:
            out = []
            for rest in lines[i + 1 :]:
                other = _heading_level(rest)
                if other and other <= level:
                    break
                out.append(rest)
            return out
    return None


def _strip_blank(lines):
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def generate(runs, page, block):
    """The text of `block` on `page`, from its run. Raises InputError naming the page, the line and the problem."""
    where = f"{page}:{block.line}"
    run_dir = block.run
    if not os.path.exists(os.path.join(runs.root, run_dir, "bench.json")):
        raise InputError(where, f"block {block.id}: no {run_dir}/bench.json")
    kind, _, what = block.id.partition(":")
    if kind == "run":
        env = runs.environment(run_dir)
        if what == "command" and env.get("command"):
            return f"`{env['command']}`"
        if what == "duration" and env.get("duration_seconds") is not None:
            return fmt.elapsed(env["duration_seconds"])
        raise InputError(where, f"block {block.id}: {run_dir}/environment.json records no {what}")
    report = runs.report(run_dir, page)
    if kind == "figure":
        planned = next((p for p in report.plan if p.stem == what), None)
        if planned is None:
            raise InputError(
                where, f"block {block.id}: {run_dir} has no figure {what} (its plan: {', '.join(p.stem for p in report.plan)})"
            )
        return report.image(planned)
    if kind in ("section", "table"):
        name, _, heading = what.partition("/")
        module = _section_module(name)
        if module is None:
            raise InputError(where, f"block {block.id}: no section {name} in benchlib/sections")
        rendered = module.render(report) if report.kind in module.RUNS else []
        lines = "\n".join(rendered).split("\n") if rendered else []
        if lines and lines[0].startswith("## "):
            lines = lines[1:]
        if heading:
            lines = _under(lines, heading)
            if lines is None:
                raise InputError(where, f"block {block.id}: the section {name} of {run_dir} has no heading {heading!r}")
        lines = _strip_blank(lines)
        if kind == "table":
            lines = _first_table(lines)
        if not lines:
            what_is = "has no table" if kind == "table" else "says nothing"
            raise InputError(where, f"block {block.id}: the section {name} {what_is} about {run_dir}")
        return "\n".join(lines)
    raise InputError(
        where, f"unknown block {block.id} (section:NAME[/HEADING], table:NAME[/HEADING], figure:STEM, run:command, run:duration)"
    )


def _first_table(lines):
    start = next((i for i, line in enumerate(lines) if line.startswith("|")), None)
    if start is None:
        return []
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


def regenerate(root, page, text, runs=None):
    """`text` with every block of it generated anew from its run (runs: a Runs shared by the pages, or None)."""
    runs = runs or Runs(root)
    out, last = [], 0
    for block in blocks(text):
        fresh = generate(runs, page, block)
        body = fresh if block.inline else f"\n\n{fresh}\n\n"  # blank lines: Markdown reads the text as blocks of its own
        out += [text[last : block.start], f"<!-- generated: {block.id} from {block.run} -->{body}<!-- end -->"]
        last = block.end
    _check_markers(page, text)
    return "".join(out) + text[last:]


def _check_markers(page, text):
    """An opening marker that no block matched (a misspelled id, a missing end) would leave text unchecked."""
    matched, fences = {b.start for b in blocks(text)}, _in_fences(text)
    for m in _OPENING.finditer(text):
        if m.start() not in matched and not _fenced(m.start(), fences):
            raise InputError(
                f"{page}:{line_of(text, m.start())}",
                f"{m.group(0)} is not a block (want '<!-- generated: BLOCK from results/RUN -->' ... '<!-- end -->')",
            )


def changed(old, new):
    """The ids of the blocks whose bodies differ between two versions of a page ('BLOCK from results/RUN')."""
    a, b = blocks(old), blocks(new)
    return [f"{x.id} from {x.run} (line {line_of(old, x.start)})" for x, y in zip(a, b) if x.body != y.body]


# ---------------------------------------------------------------------------------------------------
# numbers in the prose

UNITS = (
    "%",
    "MB·s",
    "MB",
    "MiB",
    "GB",
    "GiB",
    "kB",
    "KiB",
    "B",
    "ms",
    "µs",
    "ns",
    "s",
    "min",
    "h",
    "×",
    "M/s",
    "k/s",
    "MHz",
    "GHz",
)
_NUMBER = r"[+−-]?\d[\d,]*(?:\.\d+)?"
_MEASURED = re.compile(
    rf"(?<![\w.,/-])(?P<number>{_NUMBER})\s?(?P<unit>{'|'.join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))})(?![\w/])"
)
_NOT_PROSE = re.compile(r"```.*?```|`[^`\n]*`|<!--.*?-->|\]\([^)]*\)", re.S)
_COMMAND_SPAN = re.compile(r"`(?:scripts/|\./bench|build/bench)[^`]*`")
_SENTENCE_END = re.compile(r"(?<=[.;:!?])\s+(?=[A-Z*_(\[`\-])")


def _blank(text, spans):
    """`text` with the given (start, end) spans replaced by spaces (offsets and lines stay where they were)."""
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def measured_numbers(text):
    """[(line, number with its unit, sentence)] of every measured number in the prose of a page that neither
    appears in a generated block of the page nor stands in a sentence that names its command (module docstring)."""
    found = blocks(text)
    in_blocks = set()
    for b in found:
        in_blocks |= set(re.findall(_NUMBER, b.body))
    prose = _blank(text, [(b.start, b.end) for b in found])
    commands = prose  # command spans are looked for before code spans are blanked out
    prose = _blank(prose, [m.span() for m in _NOT_PROSE.finditer(prose)])
    out = []
    for paragraph in re.finditer(r"(?:[^\n]+\n?)+", prose):
        start = paragraph.start()
        pieces = _SENTENCE_END.split(paragraph.group(0))
        offset = start
        for piece in pieces:
            at = prose.index(piece, offset)
            offset = at + len(piece)
            named = _COMMAND_SPAN.search(commands[at : at + len(piece)])
            for m in _MEASURED.finditer(piece):
                if named or m["number"] in in_blocks:
                    continue
                out.append((line_of(text, at + m.start()), m.group(0), " ".join(piece.split())))
    return out
