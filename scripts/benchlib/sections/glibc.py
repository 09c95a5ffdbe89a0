"""The report's section "Why glibc keeps the memory": glibc's own statistics (mallinfo2) beside the RSS it kept, and
what each release step did, in the run's numbers (facts: glibc's malloc/malloc.c and its manual pages).
"""

from .. import mdformat as fmt
from .. import summary
from ..section import WORKLOADS
from ..summary import format_size

RUNS = (WORKLOADS,)

_GLIBC_STATS = ("stat_arena", "stat_uordblks", "stat_fordblks", "stat_fsmblks", "stat_keepcost")


def _stats_moment(r):
    """When the allocator statistics were read: after the free phase, or for a workload of rounds after
    its last round's release step and pause (benchmarks/workloads/cycle.cc)."""
    if r.workload_info is not None and r.workload_info.uses_rounds:
        return "after the last round's release step and pause"
    return summary.cleared_moment(r)


def _glibc_section(rs, workload, size):
    """Why glibc keeps the memory, in this run's numbers (facts: glibc's malloc/malloc.c and its
    manual pages)."""
    gl = [
        r
        for r in rs
        if r.ok
        and r.config is not None
        and r.config.library == "glibc"
        and r.kind == "allocator"
        and any(r.median(k) is not None for k in _GLIBC_STATS)
    ]
    if not gl:
        return []
    out = [
        "## Why glibc keeps the memory",
        "",
        f"glibc's own statistics {_stats_moment(gl[0])} (`mallinfo2()`, `{workload}`, N = {format_size(size)}), "
        "next to the RSS it kept:",
        "",
    ]
    rows = []
    for r in gl:
        rows.append(
            (
                r.configuration,
                fmt.bytes_mb(r.median("stat_arena")),
                fmt.bytes_mb(r.median("stat_uordblks")),
                fmt.bytes_mb(r.median("stat_fordblks")),
                fmt.bytes_mb(r.median("stat_fsmblks")),
                "—" if r.median("stat_keepcost") is None else f"{r.median('stat_keepcost') / 1e3:,.1f} kB",
                fmt.mb(r.median("kept_mb_cleared")),
                fmt.mb(r.median("kept_mb_final")),
            )
        )
    out.append(
        fmt.table(
            (
                "configuration",
                "heap from the OS (arena)",
                "in use (uordblks)",
                "free inside the heap (fordblks)",
                "of it in fastbins (fsmblks)",
                "top chunk (keepcost)",
                f"RSS kept {summary.cleared_moment(gl[0])} (MB)",
                "after settle (MB)",
            ),
            rows,
        )
    )
    plain = next((r for r in gl if not r.config.reference), gl[0])
    g = plain.median
    sentences = []
    if g("stat_arena") is not None and g("stat_fordblks") is not None:
        text = (
            f"In **{plain.configuration}**, {summary.cleared_moment(plain)} glibc's heap still spans {fmt.bytes_mb(g('stat_arena'))} taken from "
            "the kernel (arena, all arenas together)"
        )
        if g("stat_uordblks") is not None:
            text += f", of which only {fmt.bytes_mb(g('stat_uordblks'))} is in use (uordblks, tcache included)"
        text += f" and {fmt.bytes_mb(g('stat_fordblks'))} is free chunks inside the heap (fordblks): the freed nodes, now in glibc's free lists."
        if g("stat_fsmblks") is not None and g("stat_fordblks"):
            text += (
                f" {fmt.bytes_mb(g('stat_fsmblks'))} of them ({g('stat_fsmblks') / g('stat_fordblks') * 100:.0f} %) sit in "
                "fastbins (fsmblks), which are not even merged with their neighbours until `malloc_consolidate` runs."
            )
        sentences.append(text)
    in_fastbins = g("stat_fsmblks") is not None and g("stat_fordblks") and g("stat_fsmblks") >= 0.5 * g("stat_fordblks")
    if g("stat_keepcost") is not None:
        text = (
            "free() hands memory back to the kernel only from the top of the heap, and only when a freed chunk of ≥ 64 KiB "
            "triggers consolidation and the top chunk then exceeds `M_TRIM_THRESHOLD`."
        )
        if in_fastbins:  # true of small blocks (≤ 128 B chunks); larger ones coalesce as they are freed
            text += (
                " These blocks are fastbin-sized: freeing them never triggers consolidation, so they stay in tcache and "
                "fastbins, unmerged, and never join the top chunk."
            )
        text += f" The top chunk, all that free() could trim, is {g('stat_keepcost') / 1e3:,.1f} kB here (keepcost)."
        sentences.append(text)
    with_release = [r for r in gl if summary.release_step_ms(r) is not None and r.median("kept_mb_released") is not None]
    sentences += [_release_step_sentence(r) for r in with_release]
    out += [
        "",
        " ".join(sentences),
        "",
        "Source of the mechanism: glibc's `malloc/malloc.c` (`_int_free`, `malloc_consolidate`, `systrim`, `mtrim`, "
        "`int_mallinfo`) and the mallopt(3), malloc_trim(3) and mallinfo2(3) manual pages.",
    ]
    return out


def _release_step_sentence(r):
    """What this row's release step did, from its own readings: returned X of the Y MB, or nothing."""
    before, after = r.median("kept_mb_cleared"), r.median("kept_mb_released")
    text = f"**{r.configuration}**'s release step (`{r.config.release_call}`, {fmt.ms(summary.release_step_ms(r))} ms) "
    if before is None or before - after < 0.05:
        return text + f"returned nothing: {fmt.mb(after)} MB were kept before and after it."
    return (
        text + f"returned {fmt.mb(before - after)} of the {fmt.mb(before)} MB kept {summary.cleared_moment(r)}, "
        f"leaving {fmt.mb(after)} MB ({fmt.pct(r.median('kept_pct_released'))} of the growth)."
    )


def render(report):
    return _glibc_section(report.primary_results, report.primary, report.largest)
