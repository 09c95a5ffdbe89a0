"""The report's section "Where the resident bytes are": smaps_rollup after clear() and at the end, by kind of page.
"""

from .. import mdformat as fmt
from ..section import WORKLOADS

RUNS = (WORKLOADS,)


def _breakdown_section(rs):
    have = [r for r in rs if r.ok and r.median("anonymous_cleared") is not None]
    if not have:
        return []
    out = [
        "## Where the resident bytes are",
        "",
        "From `/proc/self/smaps_rollup` after clear() and at the end of the settle period, in MB above nothing (whole "
        "process): *anonymous* is the process's own memory (heap and mmap'ed blocks; it includes the huge and the "
        "lazily freed pages, not the key table, which is a shared file mapping); *lazy free* pages were released with "
        "`MADV_FREE` and still count in RSS until the kernel needs them; huge pages are transparent huge pages "
        "(AnonHugePages).",
        "",
    ]
    rows = []
    for r in have:
        rows.append(
            (
                r.configuration,
                fmt.bytes_mb(r.median("anonymous_cleared")),
                fmt.bytes_mb(r.median("lazyfree_cleared")),
                fmt.bytes_mb(r.median("anon_huge_cleared")),
                fmt.bytes_mb(r.median("anonymous_final")),
                fmt.bytes_mb(r.median("lazyfree_final")),
                fmt.bytes_mb(r.median("anon_huge_final")),
                fmt.bytes_mb(r.median("anon_huge_peak")),
            )
        )
    out.append(
        fmt.table(
            (
                "configuration",
                "anonymous after clear",
                "lazy free",
                "huge pages",
                "anonymous at end",
                "lazy free",
                "huge pages",
                "huge pages at peak",
            ),
            rows,
        )
    )
    lazy = [r for r in have if (r.median("lazyfree_final") or 0) > 1e6]
    huge = [r for r in have if (r.median("anon_huge_peak") or 0) > 2e6]
    notes = []
    if lazy:
        notes.append(
            "RSS overstates what these keep, by their lazily freed pages: "
            + ", ".join(f"{r.configuration} ({fmt.bytes_mb(r.median('lazyfree_final'))})" for r in lazy)
            + "."
        )
    if huge:
        notes.append(
            "Transparent huge pages at peak: "
            + ", ".join(f"{r.configuration} ({fmt.bytes_mb(r.median('anon_huge_peak'))})" for r in huge)
            + "."
        )
    else:
        notes.append("No configuration had transparent huge pages at peak.")
    return out + [""] + [" ".join(notes)]


def render(report):
    return _breakdown_section(report.primary_results)
