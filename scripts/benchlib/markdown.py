"""The Markdown report of a run. It renders what summary.py decides — classes, noise verdicts,
costs, choices — and the run's own numbers; it judges nothing itself. The one text written in
advance is the explanation of glibc's free lists, which quotes the run's stat_ counters.
"""

import math
import os

from . import busy, cost_section, exact_section, heap_section
from . import mdformat as fmt
from . import noise_section, programs, reading, stats, summary
from .gbjson import format_offset, library_name
from .summary import GIVES_BACK_PCT, KEEPS_PCT, MB, format_size

# Context keys ./bench (or Google Benchmark) writes that the "The run" table shows by name.
_KNOWN_CONTEXT = (
    "host_name",
    "num_cpus",
    "mhz_per_cpu",
    "cpu_model",
    "cpu_scaling_enabled",
    "kernel",
    "glibc_version",
    "thp_enabled",
    "settle",
    "sizes",
    "command",
    "date",
    "incomplete",
    "executable",
    "library_build_type",
    "load_avg",
    "caches",
)


def _served_by(r):
    malloc = library_name(r.malloc_library) if r.malloc_library.startswith("/") else r.malloc_library
    new = library_name(r.new_library)
    text = malloc or "?"
    if r.library_version:
        text += f" {r.library_version}"
    if new and new != malloc and not new.startswith("libstdc++"):
        text += f"; operator new: {new}"
    return text if (malloc or r.library_version) else "—"


# ---------------------------------------------------------------------------------------------------
# sections


def _incomplete(context):
    return str(context.get("incomplete", "")).strip().lower() in ("true", "1", "yes")


def _context_section(run):
    c, suite = run.context, run.suite
    rows = []

    def add(name, value):
        if value not in (None, ""):
            rows.append((name, value))

    add("host", c.get("host_name"))
    if c.get("num_cpus"):
        mhz = f" × {c['mhz_per_cpu']} MHz" if c.get("mhz_per_cpu") else ""
        model = f", {c['cpu_model']}" if c.get("cpu_model") else ""
        add("CPUs", f"{c['num_cpus']}{mhz}{model}")
    if isinstance(c.get("load_avg"), list) and c["load_avg"]:
        add("load average at start", ", ".join(f"{v:.2f}" for v in c["load_avg"]))
    add("kernel", c.get("kernel"))
    add("glibc", c.get("glibc_version"))
    served = dict.fromkeys(
        f"{library_name(r.label.malloc_library)} {r.label.version}".strip()
        for r in run.rows
        if r.label.malloc_library.startswith("/") and r.label.version
    )
    add("allocators that served the runs (labels)", "; ".join(served))
    add("transparent huge pages", c.get("thp_enabled"))
    add("sizes (N)", c.get("sizes"))
    add("settle time", c.get("settle"))
    add("repetitions", f"{suite.repetitions}, {'interleaved round by round' if suite.order == 'rounds' else 'in random order'}")
    if suite.exact:
        add(
            "measurement",
            f"**exact: counted under valgrind's {suite.measurement.tool} ({suite.measurement.valgrind}), not timed**; "
            "RSS and times of this run are valgrind's",
        )
    add(
        "cgroup v2 memory accounting",
        "present: " + suite.machine.get("cgroup_note", "")
        if suite.machine.get("cgroup_v2_memory")
        else "absent (" + suite.machine.get("cgroup_note", "") + ")",
    )
    if c.get("command"):
        add("command", f"`{c['command']}`")
    add("date", c.get("date"))
    if "incomplete" in c:
        add("complete", "**no: the run was interrupted**" if _incomplete(c) else "yes")
    build = c.get("library_build_type")
    if build:
        add(
            "Google Benchmark library build",
            build
            + (
                (
                    " (Debian's libbenchmark; every figure here is "
                    + ("counted in" if suite.exact else "timed by")
                    + " the suite's own code in the child process, built as `bench_build_type` says)"
                )
                if build == "debug"
                else ""
            ),
        )
    for key in sorted(c):
        if key in _KNOWN_CONTEXT or key.startswith("library_") or isinstance(c[key], (list, dict)):
            continue
        add(key, c[key])
    text = ["## The run", "", f"From `{os.path.basename(run.path)}`."]
    if rows:
        text += ["", fmt.table(("", ""), rows, numeric=False)]
    return "\n".join(text)


def _lazy_note(results):
    """Pages released with MADV_FREE are given back but still counted in RSS: say so where there are."""
    lazy = [r for r in results if (r.median("lazyfree_final") or 0) > 1e6]
    if not lazy:
        return ""
    return (
        " (but for the lazily freed pages that RSS still counts: "
        + ", ".join(f"{r.configuration} {fmt.bytes_mb(r.median('lazyfree_final'))}" for r in lazy)
        + ")"
    )


def _kept(r):
    return f"{fmt.pct(r.median('kept_pct_final'))}, {fmt.mb(r.median('kept_mb_final'))} MB"


def _insert_speed(r, results):
    """The insert rate a speed statement about `results` rests on: speed-scaled when the run has the
    probe (summary.rate_key), so that the figure shown is the one compared."""
    key = summary.rate_key(results, "insert_rate")
    scaled = key != "insert_rate"
    return f"{fmt.rate(r.median(key))} M/s{' speed-scaled' if scaled else ''}"


def _stats_moment(r):
    """When the allocator statistics were read: after the free phase, or for a workload of rounds after
    its last round's release step and pause (benchmarks/workloads/cycle.cc)."""
    if r.workload_info is not None and r.workload_info.uses_rounds:
        return "after the last round's release step and pause"
    return summary.cleared_moment(r)


def _given_back_text(r):
    how, seconds = summary.when_given_back(r)
    if how == "clear":
        return f"already {summary.cleared_moment(r)}"
    if how == "release":
        return f"by its release step ({fmt.ms(summary.release_step_ms(r))} ms)"
    if how == "settle":
        return f"while settling, 90 % within {fmt.duration(seconds)}" if seconds else "while settling"
    if r.workload_info is not None and r.workload_info.uses_rounds:
        return "by the end of its last round (release step and pause)"
    if r.settle_seconds <= 0:
        return "by the end of the run"
    return "by the end of the settle period"


def _readings_text(r, units):
    """'; 66.0 MB kept at `rss_cleared_threads_alive`': the workload's own earlier readings."""
    readings = summary.extra_readings(r, units)
    return "".join(f"; {fmt.mb(mb)} MB kept at `{counter}`" for counter, mb in readings)


def _retention_findings(rs, settle, units):
    keepers, givers, middle = summary.classify(rs)
    ok = [r for r in rs if r.ok]
    after = f"after {settle} of settle" if settle else "after settle"
    out = []
    if keepers:
        out.append(
            f"- **RSS does not go down.** {len(keepers)} of {len(ok)} configurations keep ≥ {KEEPS_PCT:g} % {after}: "
            + ", ".join(f"**{r.configuration}** ({_kept(r)})" for r in keepers)
            + ". The memory was freed to the allocator, not to the operating system"
            + _lazy_note(keepers)
            + "."
        )
    if givers:
        out.append(
            f"- **Given back** (≤ {GIVES_BACK_PCT:g} % kept {after}): "
            + "; ".join(f"**{r.configuration}** ({_kept(r)}, {_given_back_text(r)}{_readings_text(r, units)})" for r in givers)
            + "."
        )
    if middle:
        out.append(
            "- **Partly given back**: "
            + ", ".join(f"**{r.configuration}** ({_kept(r)}{_readings_text(r, units)})" for r in middle)
            + "."
        )
    outliers = summary.peak_outliers(ok)
    if outliers:
        out.append(
            "- **Mind the peak**: "
            + ", ".join(
                f"{r.configuration} grew {r.median('growth_mb') / typical:.0f}× the typical configuration "
                f"(+{fmt.mb(r.median('growth_mb'))} MB against +{fmt.mb(typical)} MB)"
                for r, typical in outliers
            )
            + "; their percentages are of that larger peak, so compare them in MB."
        )
    failed = [r for r in rs if not r.ok]
    if failed:
        out.append(
            "- **No result** (every repetition failed): "
            + "; ".join(f"{r.configuration} ({r.errors[0][1] if r.errors else 'no data'})" for r in failed)
            + "."
        )
    return out


def _speed_findings(rs, controls):
    """Per like-for-like group: the fastest (with its ties) and each knob against its reference, every
    verdict judged with the run's controls."""
    out = []
    if any(r.ok and r.repetitions < 2 for r in rs):
        return [
            "- **Speed**: a single repetition per configuration, so no interval and no verdict on speed (the noise "
            "rule needs at least 2; the report's speed statements need a run with --benchmark_repetitions)."
        ]
    groups = summary.by_kind(rs)
    versus = summary.against_reference(rs, controls)
    n = min(r.repetitions for r in rs if r.ok)
    if n < 6:
        out.append(
            f"- **How far to trust these speed verdicts**: with {n} repetitions an interval is the range (min–max), and two "
            f"configurations that are in truth equally fast have ranges that do not overlap {stats.range_false_alarm(n, n) * 100:.0f} % "
            "of the time: among many comparisons, expect a few false *differs*. The run with 10 repetitions "
            "(95 % intervals) is the one to judge speed by."
        )
    for kind, members in groups.items():
        if kind == "different container":
            continue
        best, tied = summary.fastest(members, controls=controls)
        if best is not None:
            text = f"- **Fastest insert among {kind} configurations**: **{best.configuration}** ({_insert_speed(best, members)})"
            text += (f"; not shown to be slower: {fmt.names(tied)}" if tied else "; every other is slower beyond the noise") + "."
            out.append(text)
        knobs = [r for r in members if r.configuration in versus]
        differing = [(r, c) for r in knobs for c in versus[r.configuration] if summary.shown(c)]
        if differing:
            out.append(
                f"- **Speed against the reference ({kind})**, only the differences beyond the noise: "
                + "; ".join(
                    f"{r.configuration} {c.rate.replace('_rate', '')} {c.change_pct:+.1f} % vs {c.other.configuration}"
                    for r, c in differing
                )
                + "."
            )
        same = [r for r in knobs if all(c.verdict == stats.WITHIN_NOISE for c in versus[r.configuration])]
        not_shown = [(r, c) for r in knobs for c in versus[r.configuration] if c.verdict == stats.NOT_SHOWN]
        if not_shown:
            out.append(
                f"- **Not shown ({kind})**: beyond the noise rule, but no larger than the run's controls differ by "
                "(configurations with the same timed code as their reference: see the noise section): "
                + "; ".join(
                    f"{r.configuration} {c.rate.replace('_rate', '')} {c.change_pct:+.1f} % vs {c.other.configuration} "
                    f"(the controls differ by up to {c.control_pct:.1f} %)"
                    for r, c in not_shown
                )
                + "."
            )
        if same:
            out.append(
                f"- **No difference beyond the noise from their reference** (every rate, {kind}): "
                + ", ".join(f"{r.configuration} (vs {versus[r.configuration][0].other.configuration})" for r in same)
                + "."
            )
        front = summary.pareto_front(members)
        if len(front) > 1 or (front and len(members) > 1):
            out.append(
                f"- **Pareto set ({kind}, on medians)**: no other {kind} configuration has both a higher median insert rate "
                "and less kept: "
                + ", ".join(
                    f"**{r.configuration}** ({_insert_speed(r, members)}, {fmt.mb(r.median('kept_mb_final'))} MB)" for r in front
                )
                + "."
            )
    return out


def _refill_text(results, r):
    """', and refilling it costs 15,618 minor faults and 106 ms of system time per round in `cycle`'."""
    found = summary.refill(results, r.configuration)
    if found is None:
        return ""
    workload, size, rows = found
    return f"; giving it back costs a refill the next time: in `{workload}` (N = {format_size(size)}) " + ", ".join(
        f"round {k} {faults:,.0f} minor faults" + (f", {sys_s * 1e3:,.0f} ms system time" if sys_s is not None else "")
        for k, faults, sys_s in rows
    )


def _choices(rs, settle, controls, results):
    out = []
    after = f"after settle ({settle})" if settle else "after settle"
    for kind, members in summary.by_kind(rs).items():
        if kind == "different container":
            continue
        picked = summary.choices(members, controls)
        lines = []
        if "memory" in picked:
            r = picked["memory"]
            lines.append(
                f"  - memory must go back (long-running services, memory limits): **{r.configuration}**, least kept {after} ({_kept(r)})"
            )
        if "speed" in picked:
            best, tied = picked["speed"]
            lines.append(
                f"  - speed only (short-lived or batch processes): **{best.configuration}**"
                + (f", or not shown to be slower {fmt.names(tied)}" if tied else "")
                + f"; keeps {_kept(best)}"
            )
        if "both" in picked:
            best, tied = picked["both"]
            if picked["both_by"] == "job_seconds":
                key = summary.rate_key(members, "job_seconds")
                how = (
                    "the shortest whole job (insert, lookup, clear and the release step"
                    + (", speed-scaled" if key != "job_seconds" else "")
                    + f": {best.median(key):.3g} s"
                    + (
                        f", of it release step {fmt.ms(summary.release_step_ms(best))} ms"
                        if summary.release_step_ms(best)
                        else ""
                    )
                    + ") of those that give memory back"
                )
                others = ", ".join(f"`{r.configuration}` {r.median(key):.3g} s" for r in tied)
            else:
                how = "the fastest insert of those that give memory back"
                others = fmt.names(tied)
            lines.append(
                f"  - both: **{best.configuration}**, {how}"
                + (f" (not shown to be slower: {others})" if tied else "")
                + f"; keeps {_kept(best)}"
                + _refill_text(results, best)
            )
        if lines:
            out += [f"- Among {kind} configurations:"] + lines
    return out


def _different_container_section(rs, primary, size):
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


def _headline_column(counter, unit, settle):
    """(header, cell(result)) for one headline counter of a workload (description)."""
    if counter == "rss_peak":
        return "growth (MB)", lambda r: fmt.mb(r.median("growth_mb"))
    if counter.startswith("rss_") and unit == "bytes":
        stage = counter[4:]
        title = {
            "cleared": "kept after clear",
            "released": "after release step",
            "final": f"after settle{f' ({settle})' if settle else ''}",
        }.get(stage, f"kept {stage.replace('_', ' ')}")

        def kept(r, counter=counter):
            share = summary.above_base(r, counter, share_of_growth=True)
            return fmt.bytes_mb(r.median(counter)) if share is None else fmt.pct(share)

        return title, kept
    if unit == "items_per_second":

        def rate(r, counter=counter):
            cell = fmt.rate_interval(r, counter)
            seconds = r.median(counter.replace("_rate", "_seconds"))
            if cell == "—" and seconds is not None:
                return f"{seconds * 1e6:.1f} µs (constant time)"
            return cell

        return counter.replace("_rate", "").replace("_", " ") + " (M/s)", rate
    if counter == "release_seconds":
        return "release step (ms)", lambda r: fmt.ms(summary.release_step_ms(r))
    if unit == "seconds":
        return counter.replace("_", " ") + " (ms)", lambda r, c=counter: fmt.ms(
            None if r.median(c) is None else r.median(c) * 1e3
        )
    if unit == "bytes":
        return counter.replace("_", " ") + " (MB)", lambda r, c=counter: fmt.bytes_mb(r.median(c))
    if unit == "nanoseconds":
        return (
            counter.replace("_", " ").replace(" ns", "") + " (µs)",
            lambda r, c=counter: "—" if r.median(c) is None else f"{r.median(c) / 1e3:,.1f}",
        )
    if unit == "count":
        return counter.replace("_", " "), lambda r, c=counter: "—" if r.median(c) is None else f"{r.median(c):,.0f}"
    return counter.replace("_", " "), lambda r, c=counter: "—" if r.median(c) is None else f"{r.median(c):,.4g}"


def _runs_and_kind(r):
    """The "runs" cell ("3", or "2 of 3" when a repetition failed) and the "kind" cell of a result's row."""
    runs = f"{r.repetitions}" if not r.errors else f"{r.repetitions} of {r.repetitions + len(r.errors)}"
    return runs, (r.kind if r.config is not None else "?")


def _results_table(rs, settle, workload, suite):
    """One row per configuration, the workload's headline counters as columns."""
    headline = [c for c in workload.headline if c != "rss_base"] if workload is not None else []
    columns = [_headline_column(c, suite.unit(c), settle) for c in headline]
    header = ["configuration", "kind", "runs"] + [title for title, _ in columns] + ["served by"]
    rows = []
    for r in rs:
        runs, kind = _runs_and_kind(r)
        if not r.ok:
            rows.append(
                [r.configuration, kind, runs, f"failed: {r.errors[0][1] if r.errors else 'no data'}"]
                + ["—"] * (len(columns) - 1)
                + [_served_by(r)]
            )
            continue
        rows.append([r.configuration, kind, runs] + [cell(r) for _, cell in columns] + [_served_by(r)])
    return fmt.table(header, rows)


_GLIBC_STATS = ("stat_arena", "stat_uordblks", "stat_fordblks", "stat_fsmblks", "stat_keepcost")


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


def _breakdown_section(rs, settle):
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


def _command_section(results, suite):
    rs = [r for r in results if r.workload == "command"]
    if not rs:
        return []
    command = suite.command or {}
    out = [
        "## The program under every allocator",
        "",
        f"`{' '.join(command.get('argv', []))}`, run {suite.repetitions} time(s) under each process-level configuration "
        "(the caller's allocator variables removed, the configuration's set), its memory sampled from outside "
        "(`/proc/<pid>/smaps_rollup`). Medians with their intervals; *integral* is the RSS over the program's life "
        "(MB·s).",
        "",
    ]
    rows = []
    for r in sorted(rs, key=lambda r: (not r.ok, r.median("rss_integral_mb_s") or 0)):
        if not r.ok:
            rows.append((r.configuration, f"failed: {r.errors[0][1] if r.errors else 'no data'}") + ("—",) * 7)
            continue
        spread = r.spread("wall_seconds")
        rows.append(
            (
                r.configuration,
                stats.interval_text(spread, lambda v: f"{v:.3f}"),
                f"{r.median('user_seconds'):.3f} / {r.median('sys_seconds'):.3f}",
                f"{r.median('minflt'):,.0f}",
                fmt.bytes_mb(r.median("rss_peak")),
                fmt.bytes_mb(r.median("rss_mean")),
                fmt.bytes_mb(r.median("rss_end")),
                f"{r.median('rss_integral_mb_s'):,.1f}",
            )
        )
    out.append(
        fmt.table(
            (
                "configuration",
                "wall (s)",
                "user / sys (s)",
                "minor faults",
                "peak RSS",
                "mean RSS",
                "RSS at the end",
                "integral (MB·s)",
            ),
            rows,
        )
    )
    base = next((r for r in rs if r.ok and r.config is not None and not r.config.reference), None)
    if base is not None and base.repetitions < 2:
        out += ["", "One repetition: no verdict on wall time (the noise rule needs at least 2)."]
    elif base is not None:
        notes, withheld = [], []
        controls = summary.controls_of(rs)
        for r in rs:
            if r is base or not r.ok:
                continue
            comparison = summary.compare_speed(r, base, "wall_seconds", controls)
            if summary.shown(comparison):
                notes.append(f"{r.configuration} {comparison.change_pct:+.1f} %")
            elif comparison is not None and comparison.verdict == stats.NOT_SHOWN:
                withheld.append(comparison)
        n = base.repetitions
        caveat = (
            f" (with {n} repetitions an interval is the range: {stats.range_false_alarm(n, n) * 100:.0f} % false alarms)"
            if n < 6
            else ""
        )
        out += [
            "",
            ("Wall time against " + base.configuration + ", beyond the noise" + caveat + ": " + "; ".join(notes) + ".")
            if notes
            else f"No wall time differs from {base.configuration}'s beyond the noise{caveat}.",
        ]
        if withheld:
            out[-1] += (
                " Not shown (beyond the noise rule, but no larger than the run's controls differ by, up to "
                f"{withheld[0].control_pct:.1f} %): "
                + "; ".join(f"{c.subject.configuration} {c.change_pct:+.1f} %" for c in withheld)
                + "."
            )
    skipped = command.get("skipped", [])
    if skipped:
        out += [
            "",
            "Not run (they need a call inside the program): "
            + "; ".join(f"`{s['configuration']}` ({s['reason']})" for s in skipped)
            + ".",
        ]
    return out


def _latency_section(rs):
    """The latency of single inserts and lookups, and what timing them costs."""
    have = [r for r in rs if r.ok and r.median("lookup_p999_ns") is not None]
    if not have:
        return []
    out = [
        "## Latency of single operations",
        "",
        "Every insert and lookup is timed into a histogram (1.6 % resolution): medians over repetitions of each "
        "percentile, in µs. A bulk load has no per-insert latency.",
        "",
    ]

    def us(r, counter):
        v = r.median(counter)
        return "—" if v is None else f"{v / 1e3:,.2f}"

    rows = [
        (r.configuration,)
        + tuple(us(r, f"{phase}_{p}_ns") for phase in ("insert", "lookup") for p in ("p50", "p99", "p999", "max"))
        for r in have
    ]
    out.append(fmt.table(("configuration", "insert p50", "p99", "p99.9", "max", "lookup p50", "p99", "p99.9", "max"), rows))
    costs = [r.median("latency_cost_ns") for r in have if r.median("latency_cost_ns") is not None]
    shares = [  # of a timed insert: a bulk load (no insert latency) does not count
        r.median("latency_cost_ns") / (r.median("insert_seconds") * 1e9 / r.size) * 100
        for r in have
        if r.median("latency_cost_ns") is not None
        and r.median("insert_p50_ns") is not None
        and r.median("insert_seconds")
        and isinstance(r.size, int)
    ]
    if costs and shares:
        out += [
            "",
            f"Timing one operation costs at least {min(costs):.0f}–{max(costs):.0f} ns (timed in every child before its "
            "baseline, calls back to back, so a lower bound: `latency_cost_ns`), "
            f"{min(shares):.1f}–{max(shares):.1f} % of an insert here: the rates include it, for every configuration alike "
            "(`--latency=off` leaves it out).",
        ]
    return out


def _errors_section(run):
    failed = [r for r in run.rows if r.error]
    out = ["## Errors", ""]
    if not failed:
        return out + ["No benchmark reported an error."]
    for r in failed:
        rep = "" if r.repetition in (None, "") else f" repetition {r.repetition}"
        out.append(f"- `{r.run_name}`{rep}: {r.error}")
    return out


def _plot_markdown(planned, plots_dir):
    path = f"{plots_dir.rstrip('/')}/{planned.stem}.png" if plots_dir else f"{planned.stem}.png"
    return f"![{planned.caption}]({path})"


def _exact_results_table(rs, suite):
    """One row per configuration of an exact run: the cycles estimate per operation of each counted phase. Not
    the RSS or the rates: under valgrind they are valgrind's (measurement.rss_note)."""
    phases = exact_section.phases_of(rs, suite)
    header = ["configuration", "kind", "runs"] + [f"{p.title}: cycles estimate {p.per}" for p in phases] + ["served by"]
    rows = []
    for r in rs:
        runs, kind = _runs_and_kind(r)
        if not r.ok:
            cells = [f"not counted: {r.errors[0][1] if r.errors else 'no data'}"] + ["—"] * (len(phases) - 1)
        else:
            counted = exact_section.Counted(r)
            cells = [exact_section.count_text(counted.per_op(p, "cycles_estimate")) for p in phases]
        rows.append([r.configuration, kind, runs] + cells + [_served_by(r)])
    return fmt.table(header, rows)


def _render_exact(run, results, plots_dir, timed):
    """The report of an exact run: the run, the counts (exact_section), a table per workload, errors, how to read.
    None of the sections that speak of RSS or time: under valgrind those are valgrind's."""
    suite = run.suite
    plan = summary.plan_plots(results, suite, timed)
    date = run.context.get("date", "")
    out = [
        f"# Why doesn't RSS go down after freeing memory? Exact counts{f' of {date}' if date else ''}",
        "",
        "Each configuration runs the workload in a fresh process under valgrind, which counts what the timed phases "
        "execute and how they use a simulated cache: instructions, data accesses and misses per operation, whatever the "
        "machine's load or speed. This report is generated from the run's JSON by `scripts/report.py`; it shows counts, "
        "not memory or times.",
        "",
    ]
    if _incomplete(run.context):
        out += ["> **Incomplete run**: the benchmark was interrupted; some configurations or sizes are missing.", ""]
    out += [_context_section(run), ""]
    figures = {}
    for planned in plan:
        figures.setdefault(planned.workload, []).append(_plot_markdown(planned, plots_dir))
    section = exact_section.render(results, suite, timed, figures)
    if section:
        out += section + [""]
    tabled = [w for w in summary.workloads(results, suite) if w != "command" and w not in suite.scenarios]
    if tabled:
        out += [
            "## Results",
            "",
            "The cycles estimate per operation of every counted phase (the section above has every count). Not shown: the "
            "rows' RSS and times, which under valgrind are valgrind's; `scripts/results_csv.py` has every counter.",
            "",
        ]
    for workload in tabled:
        out += [f"### `{workload}`", ""]
        for size in reversed(summary.sizes(results, workload)):
            rs = summary.select(results, workload, size)
            reps = fmt.span(r.repetitions for r in rs if r.ok)
            reps_text = f"{reps} repetitions" if reps else "no successful repetition"
            out += [f"#### N = {format_size(size)} ({reps_text})", "", _exact_results_table(rs, suite), ""]
    out += _errors_section(run) + [""] + reading.how_to_read(results, suite) + [""]
    return "\n".join(out)


def render(run, results, plots_dir=None, timed=None):
    """The whole report as Markdown text. plots_dir: path of the plots relative to the report. timed: for an
    exact run, the timed run set beside its counts (exact_section.Timed), or None."""
    if run.suite.exact:
        return _render_exact(run, results, plots_dir, timed)
    suite = run.suite
    settle = summary.settle_label(suite)
    plan = summary.plan_plots(results, suite)
    primary = summary.primary_workload(results, suite)
    psizes = summary.sizes(results, primary)
    largest = psizes[-1] if psizes else None
    date = run.context.get("date", "")
    out = [
        f"# Why doesn't RSS go down after freeing memory?{f' Results of {date}' if date else ''}",
        "",
        "Each configuration runs the workload in a fresh process, frees what it built, optionally calls its allocator's "
        "release function, then waits; RSS is sampled at every step. This report is generated from the run's JSON by "
        "`scripts/report.py`.",
        "",
    ]
    if _incomplete(run.context):
        out += ["> **Incomplete run**: the benchmark was interrupted; some configurations or sizes are missing.", ""]
    if heap_section.run_note(suite):
        out += [heap_section.run_note(suite), ""]
    out += [_context_section(run), ""]
    shown_later = [p for p in plan if p.kind not in programs.PLOT_KINDS + heap_section.PLOT_KINDS]
    # A heap-map run's section "Why it stays": first for workloads, after a program's own section.
    heap = heap_section.render(results, suite, [_plot_markdown(p, plots_dir) for p in plan if p.kind in heap_section.PLOT_KINDS])
    programs_run = bool(suite.scenarios) or primary == "command"
    if heap and not programs_run:
        out += heap + [""]
    if suite.scenarios:  # the programs' section replaces the workload findings
        out += programs.render(results, suite, [_plot_markdown(p, plots_dir) for p in plan if p.kind in programs.PLOT_KINDS])
        out += [""]
    elif primary == "command":
        out += _command_section(results, suite) + [""]
    else:
        primary_results = summary.select(results, primary, largest)
        controls = summary.controls_of(primary_results)
        findings = []
        if not heap_section.has_heap_maps(suite):  # its RSS and speeds include the interposer's: no findings from them
            findings = _retention_findings(primary_results, settle, suite.units) + _speed_findings(primary_results, controls)
        if findings:
            out += (
                [
                    "## What the numbers say",
                    "",
                    f"For `{primary}` at N = {format_size(largest)} (medians over repetitions; kept = RSS above the baseline as a "
                    "share of what the workload made the process grow):",
                    "",
                ]
                + findings
                + [""]
            )
            choices = _choices(primary_results, settle, controls, results)
            if choices:
                out += ["### Which configuration for which need", ""] + choices + [""]
        for section in (
            _different_container_section(primary_results, primary, largest),
            cost_section.render(results, suite),
            busy.render(results, suite),
            _latency_section(primary_results),
            _breakdown_section(primary_results, settle),
            _glibc_section(primary_results, primary, largest),
        ):
            if section:
                out += section + [""]
    if heap and programs_run:
        out += heap + [""]
    tabled = [w for w in summary.workloads(results, suite) if w != "command" and w not in suite.scenarios]
    out += ["## Results", ""] if tabled else []
    for workload in tabled:
        out += [f"### `{workload}`", ""]
        for size in reversed(summary.sizes(results, workload)):
            rs = summary.by_retention(summary.select(results, workload, size))
            reps = fmt.span(r.repetitions for r in rs if r.ok)
            reps_text = f"{reps} repetitions" if reps else "no successful repetition"
            out += [
                f"#### N = {format_size(size)} ({reps_text}; sorted by what is kept after settle)",
                "",
                _results_table(rs, settle, suite.workloads.get(workload), suite),
                "",
            ]
        for planned in plan:
            if planned.workload == workload:
                out += [_plot_markdown(planned, plots_dir), ""]
    for planned in shown_later:
        if not isinstance(planned.workload, str) or planned.workload == "command":
            out += [_plot_markdown(planned, plots_dir), ""]
    noise = noise_section.render(results, suite)
    if noise:
        out += noise + [""]
    out += _errors_section(run) + [""] + reading.how_to_read(results, suite) + [""]
    return "\n".join(out)
