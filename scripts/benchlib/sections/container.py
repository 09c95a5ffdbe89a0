"""The report's section "A different container": configurations that replace the node-based map with another data
structure, whose rates are not ranked against the maps'.
"""

from .. import mdformat as fmt
from .. import summary
from ..section import WORKLOADS

RUNS = (WORKLOADS,)


def _different_container_section(rs):
    flat = [r for r in rs if r.ok and r.kind == "different container"]
    if not flat:
        return []
    out = [
        "## A different container",
        "",
        "These configurations replace the node-based map with another data structure, so their rates are not "
        "comparable with the others: a flat map is loaded with one range insert of every pair (append, then "
        "sort: a bulk load, not N inserts), and clearing trivially destructible elements takes constant time "
        "(shown as a time, never as a rate). A flat map that grows one entry at a time moves half its vector "
        "on every insert.",
        "",
    ]
    rows = []
    for r in flat:
        clear = r.median("clear_seconds")
        rows.append(
            (
                r.configuration,
                fmt.rate_interval(r, "insert_rate"),
                fmt.rate_interval(r, "lookup_rate"),
                "—" if clear is None else f"{clear * 1e6:.1f} µs",
                fmt.mb(r.median("growth_mb")),
                "—" if r.median("bytes_per_entry") is None else f"{r.median('bytes_per_entry'):.1f}",
                fmt.pct(r.median("kept_pct_final")),
                fmt.ms(summary.release_step_ms(r)),
            )
        )
    out.append(
        fmt.table(
            (
                "configuration",
                "load (M/s)",
                "lookup (M/s)",
                "clear",
                "growth (MB)",
                "bytes per entry",
                "kept after settle",
                "release step (ms)",
            ),
            rows,
        )
    )
    return out


def render(report):
    return _different_container_section(report.primary_results)
