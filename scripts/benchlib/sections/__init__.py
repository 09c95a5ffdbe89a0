"""The sections of a run's report, in the report's order: the one registry (the interface: benchlib/section.py).

Adding a section is a module here and one line in REPORT. A section speaks only of the runs its RUNS name, so the
order below serves every kind of run: a program's section comes before "Why it stays", which comes before the
findings of a run of workloads.
"""

from .. import section, summary
from . import breakdown, busy, command, container, context, cost, errors, exact, findings, glibc, heap, latency
from . import fidelity, noise, programs, reading, recording, results

REPORT = (
    context,  # The run
    programs,  # Real programs
    command,  # The program under every allocator
    heap,  # Why it stays
    findings,  # What the numbers say; Which configuration for which need
    container,  # A different container
    cost,  # What giving memory back costs
    busy,  # Busy processes / How long until it comes back
    latency,  # Latency of single operations
    breakdown,  # Where the resident bytes are
    glibc,  # Why glibc keeps the memory
    exact,  # Exact cost per operation, and an exact run's results
    results,  # Results: a table per workload and N, the figures after them
    fidelity,  # Does the replay stand for the program (a replay run)
    recording,  # What recording costs (after the results, whose figures close the program's sections above)
    noise,  # How sure the speeds are
    errors,  # Errors
    reading,  # How to read the numbers
)


def applicable(report, sections=REPORT):
    """The sections that speak of this kind of run, in order."""
    return [s for s in sections if report.kind in s.RUNS]


def make_report(run, results, plots_dir="", timed=None, sections=REPORT):
    """The section.Report of a run, its plan made: every figure of every section that speaks of the run. Its results
    are the plain rows; the rows a recorder watched beside them (./bench --compare-recorders) are its `observed`."""
    out = section.Report(run, summary.unobserved(results), plots_dir, timed, observed=list(results))
    out.plan = [p for s in applicable(out, sections) if hasattr(s, "figures") for p in s.figures(out)]
    return out


def render(report, sections=REPORT):
    """The sections' Markdown, each followed by an empty line; a section with nothing to say leaves no trace."""
    out = []
    for s in applicable(report, sections):
        lines = s.render(report)
        if lines:
            out += lines + [""]
    return out
