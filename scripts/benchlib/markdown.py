"""The Markdown report of a run (scripts/report.py): its title and what kind of measurement it is, then every
section of sections.REPORT that speaks of the run. The sections render what the analysis decides — classes,
noise verdicts, costs, choices — and the run's own numbers; this frame judges nothing.
"""

from . import sections


def _heap_map_note(suite):
    """What a heap-map or recorded run's figures are not (./bench --heap-map, --record): said before anything is
    read."""
    if suite.heap_map is None and suite.record is None:
        return []
    if suite.record is None:
        return [
            "> **Heap-map run** (`./bench --heap-map`): every process ran behind the suite's interposer "
            f"(`{suite.heap_map.interposer}`), so its RSS includes the interposer's own tables and its speeds include the "
            "cost of recording every call: retention and speed figures here are not those of a plain run, and "
            "configurations are not to be ranked by them; the section *Why it stays* reads the heap maps.",
            "",
        ]
    if suite.heap_map is None:
        return [
            "> **Recorded run** (`./bench --record`): every process ran behind the suite's interposer "
            f"(`{suite.record.interposer}`), which hands every call to the recorder, so its RSS includes the recorder's ring "
            "and its speeds include the cost of recording every call: retention and speed figures here are not those of a "
            "plain run, and configurations are not to be ranked by them; the section *Why it stays* reads the recording.",
            "",
        ]
    return [
        "> **Heap-map and recorded run** (`./bench --heap-map --record`): every process ran behind the suite's interposer "
        f"(`{suite.heap_map.interposer}`) with both observers on at once, so its RSS includes the interposer's own tables "
        "and the recorder's ring, and its speeds include the cost of both: retention and speed figures here are not those "
        "of a plain run, and configurations are not to be ranked by them; the section *Why it stays* reads the heap maps "
        "and holds the recording against them.",
        "",
    ]


def _heading(report):
    date = report.run.context.get("date", "")
    if report.suite.exact:
        return [
            f"# Why doesn't RSS go down after freeing memory? Exact counts{f' of {date}' if date else ''}",
            "",
            "Each configuration runs the workload in a fresh process under valgrind, which counts what the timed phases "
            "execute and how they use a simulated cache: instructions, data accesses and misses per operation, whatever the "
            "machine's load or speed. This report is generated from the run's JSON by `scripts/report.py`; it shows counts, "
            "not memory or times.",
            "",
        ]
    return [
        f"# Why doesn't RSS go down after freeing memory?{f' Results of {date}' if date else ''}",
        "",
        "Each configuration runs the workload in a fresh process, frees what it built, optionally calls its allocator's "
        "release function, then waits; RSS is sampled at every step. This report is generated from the run's JSON by "
        "`scripts/report.py`.",
        "",
    ]


def render(report):
    """The whole report of a section.Report (sections.make_report) as Markdown text."""
    out = _heading(report)
    if report.incomplete:
        out += ["> **Incomplete run**: the benchmark was interrupted; some configurations or sizes are missing.", ""]
    out += _heap_map_note(report.suite)
    out += sections.render(report)
    return "\n".join(out)
