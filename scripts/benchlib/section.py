"""The interface of a report section, and what every section is given.

A section is one module of benchlib/sections/ (its analysis of the run, its Markdown, its figures), listed
once in sections.REPORT, whose order is the report's. It defines

  RUNS            the kinds of run it speaks of: a tuple of WORKLOADS, PROGRAMS, COMMAND, EXACT (Report.kind)
  render(report)  its Markdown lines, [] when the run holds nothing for it
  figures(report) (only a section with figures) [PlannedPlot] the run supports, each naming the function that
                  draws it; called before report.plan exists, so it must not read it

render() reads report.plan to embed figures: report.images(kinds) for its own (place SECTION); the results
section embeds every figure placed after a workload's tables (WORKLOAD) or after all of them (RUN). The core
(description, gbjson, stats, summary, mdformat, plots) imports no section; sections import the core and, where
one reads another's analysis, that section.
"""

import functools
import re
from dataclasses import dataclass, field

from . import summary

# What a run measured, as the report tells them apart: workloads of ours, real programs (./bench --scenario),
# one program (./bench -- PROGRAM), or counts under valgrind (./bench --exact).
WORKLOADS, PROGRAMS, COMMAND, EXACT = "workloads", "programs", "command", "exact"
TIMED = (WORKLOADS, PROGRAMS, COMMAND)
EVERY_RUN = TIMED + (EXACT,)

# Where a figure is embedded: by the section that plans it, after the tables of its workload, or after every
# table of the run (the results section does the last two).
SECTION, WORKLOAD, RUN = "section", "workload", "run"


@dataclass(frozen=True)
class PlannedPlot:
    """One figure plot.py draws; report.py embeds the same plan, so both agree on file names."""

    stem: str
    kind: str
    workload: object
    size: object
    caption: str
    draw: object = None  # draw(report, style, planned) -> matplotlib Figure
    place: str = SECTION


def safe_stem(text):
    """A workload name or a size as part of a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text))


@dataclass
class Report:
    """A run as every section reads it: the run, its summarized results, and how the report is laid out."""

    run: object  # gbjson.Run
    results: list  # [summary.ConfigResult] of the plain rows (summary.unobserved): what every section but one reads
    plots_dir: str = ""  # where the figures are, relative to the report
    timed: object = None  # for an exact run, the timed run set beside its counts (sections.exact.Timed), or None
    plan: list = field(default_factory=list)  # [PlannedPlot] of every section, in the report's order
    # Every result, those a recorder watched too (./bench --compare-recorders: instances with an observer), for the
    # section on what recording costs; the same as `results` in any other run.
    observed: list = field(default_factory=list)

    @property
    def suite(self):
        return self.run.suite

    @property
    def kind(self):
        if self.suite.exact:
            return EXACT
        if self.suite.scenarios:
            return PROGRAMS
        if self.primary == "command":
            return COMMAND
        return WORKLOADS

    @property
    def incomplete(self):
        return str(self.run.context.get("incomplete", "")).strip().lower() in ("true", "1", "yes")

    @property
    def settle(self):
        return summary.settle_label(self.suite)

    @functools.cached_property
    def primary(self):
        return summary.primary_workload(self.results, self.suite)

    @functools.cached_property
    def largest(self):
        """The primary workload's largest N."""
        sizes = summary.sizes(self.results, self.primary)
        return sizes[-1] if sizes else None

    @functools.cached_property
    def primary_results(self):
        """The primary workload at its largest N: the group the findings speak of."""
        return summary.select(self.results, self.primary, self.largest)

    @functools.cached_property
    def controls(self):
        return summary.controls_of(self.primary_results)

    @property
    def tabled(self):
        """The workloads with a results table: every workload of ours (not a program's run)."""
        return [w for w in summary.workloads(self.results, self.suite) if w != "command" and w not in self.suite.scenarios]

    def image(self, planned):
        path = f"{self.plots_dir.rstrip('/')}/{planned.stem}.png" if self.plots_dir else f"{planned.stem}.png"
        return f"![{planned.caption}]({path})"

    def images(self, kinds):
        """The Markdown image lines of the planned figures of these kinds, in the plan's order."""
        return [self.image(p) for p in self.plan if p.kind in kinds]
