"""The Markdown report of a run. It renders what summary.py decides — classes, noise verdicts,
costs, choices — and the run's own numbers; it judges nothing itself. The one text written in
advance is the explanation of glibc's free lists, which quotes the run's stat_ counters.
"""

import math
import os

from . import stats, summary
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


# ---------------------------------------------------------------------------------------------------
# number formatting


def _rate(v):
    return "—" if v is None else f"{v / 1e6:.3f}"


def _mb(v):
    return "—" if v is None else f"{_no_negative_zero(v, 0.05):,.1f}"


def _pct(v):
    return "—" if v is None else f"{_no_negative_zero(v, 0.05):.1f} %"


def _no_negative_zero(v, rounding):
    """0.0 for a value that rounds to zero (no '-0.0' from a few bytes below the baseline)."""
    return 0.0 if abs(v) < rounding else v


def _ms(v):
    if v is None:
        return "—"
    if v == 0:
        return "0"
    return f"{v:.2g}" if abs(v) < 1 else (f"{v:.2f}" if abs(v) < 10 else f"{v:,.0f}")


def _duration(seconds):
    """3 significant digits: 0.501187 -> '501 ms', 12.6 -> '12.6 s'."""
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _seconds(v):
    if v is None:
        return "—"
    if v < 0 or math.isinf(v):
        return "never"
    return _duration(v) if v >= 1e-3 else "at once"  # before the first offset (1 ms): the first sample


def _bytes_mb(v):
    return "—" if v is None else f"{v / MB:,.1f} MB"


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header, rows, numeric=True):
    """A Markdown table; with numeric, every column but the first is right-aligned."""
    lines = [
        "| " + " | ".join(_cell(h) for h in header) + " |",
        "|" + "|".join("---" if i == 0 or not numeric else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _rate_interval(result, rate):
    """'0.512 (0.49–0.53)': the median rate in M/s with its interval."""
    spread = result.spread(rate)
    if spread is None:
        return "—"
    return stats.interval_text(spread, lambda v: f"{v / 1e6:.3f}")


def _served_by(r):
    malloc = library_name(r.malloc_library) if r.malloc_library.startswith("/") else r.malloc_library
    new = library_name(r.new_library)
    text = malloc or "?"
    if r.library_version:
        text += f" {r.library_version}"
    if new and new != malloc and not new.startswith("libstdc++"):
        text += f"; operator new: {new}"
    return text if (malloc or r.library_version) else "—"


def _change(comparison):
    """'+4.1 % (differs)' / '−0.8 % (within noise)'."""
    if comparison is None or comparison.change_pct is None:
        return "—"
    return f"{comparison.change_pct:+.1f} % ({comparison.verdict})"


def _names(results):
    return ", ".join(f"`{r.configuration}`" for r in results)


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
                " (Debian's libbenchmark; every figure here is timed by the suite's own code in the child process, "
                "built as `bench_build_type` says)"
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
        text += ["", _table(("", ""), rows, numeric=False)]
    return "\n".join(text)


def _lazy_note(results):
    """Pages released with MADV_FREE are given back but still counted in RSS: say so where there are."""
    lazy = [r for r in results if (r.median("lazyfree_final") or 0) > 1e6]
    if not lazy:
        return ""
    return (
        " (but for the lazily freed pages that RSS still counts: "
        + ", ".join(f"{r.configuration} {_bytes_mb(r.median('lazyfree_final'))}" for r in lazy)
        + ")"
    )


def _kept(r):
    return f"{_pct(r.median('kept_pct_final'))}, {_mb(r.median('kept_mb_final'))} MB"


def _insert_speed(r, results):
    """The insert rate a speed statement about `results` rests on: speed-scaled when the run has the
    probe (summary.rate_key), so that the figure shown is the one compared."""
    key = summary.rate_key(results, "insert_rate")
    scaled = key != "insert_rate"
    return f"{_rate(r.median(key))} M/s{' speed-scaled' if scaled else ''}"


def _given_back_text(r):
    how, seconds = summary.when_given_back(r)
    if how == "clear":
        return "already on clear()"
    if how == "release":
        return f"by its release step ({_ms(summary.release_step_ms(r))} ms)"
    if how == "settle":
        return f"while settling, 90 % within {_duration(seconds)}" if seconds else "while settling"
    return "by the end of the settle period"


def _retention_findings(rs, settle):
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
            + "; ".join(f"**{r.configuration}** ({_kept(r)}, {_given_back_text(r)})" for r in givers)
            + "."
        )
    if middle:
        out.append("- **Partly given back**: " + ", ".join(f"**{r.configuration}** ({_kept(r)})" for r in middle) + ".")
    outliers = summary.peak_outliers(ok)
    if outliers:
        out.append(
            "- **Mind the peak**: "
            + ", ".join(
                f"{r.configuration} grew {r.median('growth_mb') / typical:.0f}× the typical configuration "
                f"(+{_mb(r.median('growth_mb'))} MB against +{_mb(typical)} MB)"
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


def _speed_findings(rs):
    """Per like-for-like group: the fastest (with its ties) and each knob against its reference."""
    out = []
    if any(r.ok and r.repetitions < 2 for r in rs):
        return [
            "- **Speed**: a single repetition per configuration, so no interval and no verdict on speed (the noise "
            "rule needs at least 2; the report's speed statements need a run with --benchmark_repetitions)."
        ]
    groups = summary.by_kind(rs)
    versus = summary.against_reference(rs)
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
        best, tied = summary.fastest(members)
        if best is not None:
            text = f"- **Fastest insert among {kind} configurations**: **{best.configuration}** ({_insert_speed(best, members)})"
            text += (f"; within noise of it: {_names(tied)}" if tied else "; every other is slower beyond the noise") + "."
            out.append(text)
        knobs = [r for r in members if r.configuration in versus]
        differing = [(r, c) for r in knobs for c in versus[r.configuration] if c.verdict == stats.DIFFERS]
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
                    f"**{r.configuration}** ({_insert_speed(r, members)}, {_mb(r.median('kept_mb_final'))} MB)" for r in front
                )
                + "."
            )
    return out


def _choices(rs, settle):
    out = []
    after = f"after settle ({settle})" if settle else "after settle"
    for kind, members in summary.by_kind(rs).items():
        if kind == "different container":
            continue
        picked = summary.choices(members)
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
                + (f", or within noise of it {_names(tied)}" if tied else "")
                + f"; keeps {_kept(best)}"
            )
        if "both" in picked:
            best, tied = picked["both"]
            lines.append(
                f"  - both: **{best.configuration}**, the fastest of those that give memory back"
                + (f" (within noise: {_names(tied)})" if tied else "")
                + f"; keeps {_kept(best)}"
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
                _rate_interval(r, "insert_rate"),
                _rate_interval(r, "lookup_rate"),
                "—" if clear is None else f"{clear * 1e6:.1f} µs",
                _mb(r.median("growth_mb")),
                "—" if r.median("bytes_per_entry") is None else f"{r.median('bytes_per_entry'):.1f}",
                _pct(r.median("kept_pct_final")),
                _ms(summary.release_step_ms(r)),
            )
        )
    out.append(
        _table(
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
        return "growth (MB)", lambda r: _mb(r.median("growth_mb"))
    if counter.startswith("rss_") and unit == "bytes":
        stage = counter[4:]
        title = {
            "cleared": "kept after clear",
            "released": "after release step",
            "final": f"after settle{f' ({settle})' if settle else ''}",
        }.get(stage, f"kept {stage.replace('_', ' ')}")

        def kept(r, counter=counter):
            base, peak, value = r.median("rss_base"), r.median("rss_peak"), r.median(counter)
            if None in (base, peak, value) or peak - base <= 4096:
                return _bytes_mb(value)
            return _pct((value - base) / (peak - base) * 100)

        return title, kept
    if unit == "items_per_second":

        def rate(r, counter=counter):
            cell = _rate_interval(r, counter)
            seconds = r.median(counter.replace("_rate", "_seconds"))
            if cell == "—" and seconds is not None:
                return f"{seconds * 1e6:.1f} µs (constant time)"
            return cell

        return counter.replace("_rate", "").replace("_", " ") + " (M/s)", rate
    if counter == "release_seconds":
        return "release step (ms)", lambda r: _ms(summary.release_step_ms(r))
    if unit == "seconds":
        return counter.replace("_", " ") + " (ms)", lambda r, c=counter: _ms(None if r.median(c) is None else r.median(c) * 1e3)
    if unit == "bytes":
        return counter.replace("_", " ") + " (MB)", lambda r, c=counter: _bytes_mb(r.median(c))
    if unit == "nanoseconds":
        return (
            counter.replace("_", " ").replace(" ns", "") + " (µs)",
            lambda r, c=counter: "—" if r.median(c) is None else f"{r.median(c) / 1e3:,.1f}",
        )
    if unit == "count":
        return counter.replace("_", " "), lambda r, c=counter: "—" if r.median(c) is None else f"{r.median(c):,.0f}"
    return counter.replace("_", " "), lambda r, c=counter: "—" if r.median(c) is None else f"{r.median(c):,.4g}"


def _results_table(rs, settle, workload, suite):
    """One row per configuration, the workload's headline counters as columns."""
    headline = [c for c in workload.headline if c != "rss_base"] if workload is not None else []
    columns = [_headline_column(c, suite.unit(c), settle) for c in headline]
    header = ["configuration", "kind", "runs"] + [title for title, _ in columns] + ["served by"]
    rows = []
    for r in rs:
        total = r.repetitions + len(r.errors)
        runs = f"{r.repetitions}" if not r.errors else f"{r.repetitions} of {total}"
        kind = r.kind if r.config is not None else "?"
        if not r.ok:
            rows.append(
                [r.configuration, kind, runs, f"failed: {r.errors[0][1] if r.errors else 'no data'}"]
                + ["—"] * (len(columns) - 1)
                + [_served_by(r)]
            )
            continue
        rows.append([r.configuration, kind, runs] + [cell(r) for _, cell in columns] + [_served_by(r)])
    return _table(header, rows)


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
        f"glibc's own statistics after clear() (`mallinfo2()`, `{workload}`, N = {format_size(size)}), next to the RSS it kept:",
        "",
    ]
    rows = []
    for r in gl:
        rows.append(
            (
                r.configuration,
                _bytes_mb(r.median("stat_arena")),
                _bytes_mb(r.median("stat_uordblks")),
                _bytes_mb(r.median("stat_fordblks")),
                _bytes_mb(r.median("stat_fsmblks")),
                "—" if r.median("stat_keepcost") is None else f"{r.median('stat_keepcost') / 1e3:,.1f} kB",
                _mb(r.median("kept_mb_cleared")),
                _mb(r.median("kept_mb_final")),
            )
        )
    out.append(
        _table(
            (
                "configuration",
                "heap from the OS (arena)",
                "in use (uordblks)",
                "free inside the heap (fordblks)",
                "of it in fastbins (fsmblks)",
                "top chunk (keepcost)",
                "RSS kept after clear (MB)",
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
            f"In **{plain.configuration}**, after clear() glibc's heap still spans {_bytes_mb(g('stat_arena'))} taken from "
            "the kernel (arena, all arenas together)"
        )
        if g("stat_uordblks") is not None:
            text += f", of which only {_bytes_mb(g('stat_uordblks'))} is in use (uordblks, tcache included)"
        text += f" and {_bytes_mb(g('stat_fordblks'))} is free chunks inside the heap (fordblks): the freed nodes, now in glibc's free lists."
        if g("stat_fsmblks") is not None and g("stat_fordblks"):
            text += (
                f" {_bytes_mb(g('stat_fsmblks'))} of them ({g('stat_fsmblks') / g('stat_fordblks') * 100:.0f} %) sit in "
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
    with_release = [r for r in gl if summary.release_step_ms(r) is not None and r.median("kept_pct_released") is not None]
    if with_release:
        sentences.append(
            "`malloc_trim(0)` does what free() cannot: it consolidates the fastbins and returns every whole free page inside "
            "the heap with `madvise(MADV_DONTNEED)`: "
            + "; ".join(
                f"**{r.configuration}** {_ms(summary.release_step_ms(r))} ms, then {_pct(r.median('kept_pct_released'))} kept"
                for r in with_release
            )
            + "."
        )
    out += [
        "",
        " ".join(sentences),
        "",
        "Source of the mechanism: glibc's `malloc/malloc.c` (`_int_free`, `malloc_consolidate`, `systrim`, `mtrim`, "
        "`int_mallinfo`) and the mallopt(3), malloc_trim(3) and mallinfo2(3) manual pages.",
    ]
    return out


def _timeline_section(results, suite):
    """How long until memory comes back, idle and active: return_50pct_s / return_90pct_s."""
    settle_ws = [
        w
        for w in summary.workloads(results, suite)
        if w in suite.workloads
        and not suite.workloads[w].uses_rounds
        and any(r.median("return_90pct") is not None for r in summary.select(results, w))
    ]
    if not settle_ws:
        return []
    out = [
        "## How long until it comes back",
        "",
        "Seconds after the release step (or after clear(), without one) until the RSS above the baseline first fell to "
        "50 % and to 10 % of the growth; *never*: not within the settle period; *at once*: already at the first sample. "
        "RSS is sampled at 10 offsets per decade from 1 ms (the timeline plot)."
        + (
            " In an *active* settle the process makes 1,000 malloc/free pairs of 64 B every 10 ms."
            if any(suite.workloads[w].settle == "active" for w in settle_ws)
            else ""
        ),
        "",
    ]
    by_config = {}
    for w in settle_ws:
        size = summary.sizes(results, w)[-1]
        for r in summary.select(results, w, size):
            by_config.setdefault(r.configuration, {})[w] = r
    header = ["configuration"]
    for w in settle_ws:
        mode = suite.workloads[w].settle
        header += [f"{w} ({mode}): 50 %", "90 %", "kept at end"]
    rows = []
    for name, per in by_config.items():
        row = [name]
        for w in settle_ws:
            r = per.get(w)
            row += (
                [_seconds(r.median("return_50pct")), _seconds(r.median("return_90pct")), _pct(r.median("kept_pct_final"))]
                if r is not None and r.ok
                else ["—"] * 3
            )
        rows.append(row)
    out.append(_table(header, rows))
    return out


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
                _bytes_mb(r.median("anonymous_cleared")),
                _bytes_mb(r.median("lazyfree_cleared")),
                _bytes_mb(r.median("anon_huge_cleared")),
                _bytes_mb(r.median("anonymous_final")),
                _bytes_mb(r.median("lazyfree_final")),
                _bytes_mb(r.median("anon_huge_final")),
                _bytes_mb(r.median("anon_huge_peak")),
            )
        )
    out.append(
        _table(
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
            + ", ".join(f"{r.configuration} ({_bytes_mb(r.median('lazyfree_final'))})" for r in lazy)
            + "."
        )
    if huge:
        notes.append(
            "Transparent huge pages at peak: "
            + ", ".join(f"{r.configuration} ({_bytes_mb(r.median('anon_huge_peak'))})" for r in huge)
            + "."
        )
    else:
        notes.append("No configuration had transparent huge pages at peak.")
    return out + [""] + [" ".join(notes)]


def _versus_round1(entry):
    """'0.95 / 1.43 (differs)': a round's insert rate over round 1 of the same child, knob / base."""
    if entry is None:
        return "—"
    mine, theirs, verdict = entry
    return f"{mine:.2f} / {theirs:.2f}" + (f" ({verdict})" if verdict else "")


def _cost_section(results, suite):
    cycle = [r for r in results if r.workload in suite.workloads and suite.workloads[r.workload].uses_rounds]
    if not cycle:
        return []
    size = max((r.size for r in cycle if isinstance(r.size, int)), default=None)
    cycle = [r for r in cycle if r.size == size]
    found = summary.costs(cycle)
    if not found:
        return []
    rounds = sorted({k for c in found for k in c.insert})
    out = [
        "## What giving memory back costs",
        "",
        f"`cycle` runs insert N, look up, clear, the release step and a pause of {format_offset(suite.pause_seconds)} "
        f"{suite.rounds} times in one process (N = {format_size(size)}). Memory an allocator keeps is reused by the next "
        "round; memory a knob gave back faults in again. Each knob against its base configuration, round by round: the "
        "insert rate (speed-scaled medians, with the noise rule), then knob / base for minor page faults, system time and "
        "the 99.9th percentile of a single insert's latency. Round 1 starts from a fresh process for both: the control. "
        "Where the control already differs, a slow spell hit one side's children; the column *vs round 1* compares each "
        "child's round with its own round 1, which cancels that (knob / base, medians, noise rule).",
        "",
    ]
    rows = []
    for c in found:
        for k in rounds:
            mf, ms, p = c.minflt.get(k, (None, None)), c.sys_s.get(k, (None, None)), c.insert_p999_ns.get(k, (None, None))
            rows.append(
                [
                    c.knob.configuration if k == rounds[0] else "",
                    c.base.configuration if k == rounds[0] else "",
                    (_ms(c.release_ms) + f" / {_mb(c.kept_final_mb)} / {_mb(c.base_kept_final_mb)}") if k == rounds[0] else "",
                    str(k),
                    _change(c.insert.get(k)),
                    _versus_round1(c.vs_round1.get(k)),
                    f"{mf[0]:,.0f} / {mf[1]:,.0f}" if None not in mf else "—",
                    f"{ms[0] * 1e3:,.0f} / {ms[1] * 1e3:,.0f}" if None not in ms else "—",
                    f"{p[0] / 1e3:,.1f} / {p[1] / 1e3:,.1f}" if None not in p else "—",
                ]
            )
    out.append(
        _table(
            (
                "knob",
                "base",
                "release step (ms) / kept at end (MB), knob / base",
                "round",
                "insert vs base",
                "insert vs round 1",
                "minor faults",
                "sys (ms)",
                "insert p99.9 (µs)",
            ),
            rows,
        )
    )
    later = [k for k in rounds if k > 1]
    paying = [
        c
        for c in found
        if any(
            c.minflt.get(k, (0, 0))[0] and c.minflt[k][1] is not None and c.minflt[k][0] > 2 * max(c.minflt[k][1], 1)
            for k in later
        )
    ]
    slower = [
        (c, k)
        for c in found
        for k in later
        if c.insert.get(k) is not None and c.insert[k].verdict == stats.DIFFERS and c.insert[k].ratio < 1
    ]
    faster = [
        (c, k)
        for c in found
        for k in later
        if c.insert.get(k) is not None and c.insert[k].verdict == stats.DIFFERS and c.insert[k].ratio > 1
    ]
    notes = []
    if paying:
        notes.append(
            "Pay for the memory again in every round (more than twice the base's minor faults after round 1): "
            + ", ".join(f"**{c.knob.configuration}**" for c in paying)
            + "."
        )
    if slower:
        notes.append(
            "Insert slower than the base beyond the noise: "
            + "; ".join(f"{c.knob.configuration} round {k} {c.insert[k].change_pct:+.1f} %" for c, k in slower)
            + "."
        )
    if faster:
        notes.append(
            "Faster than the base beyond the noise: "
            + "; ".join(f"{c.knob.configuration} round {k} {c.insert[k].change_pct:+.1f} %" for c, k in faster)
            + "."
        )
    level = [
        c
        for c in found
        if later and all(c.insert.get(k) is not None and c.insert[k].verdict == stats.WITHIN_NOISE for k in later)
    ]
    if level:
        notes.append(
            "Insert within noise of the base in every later round: " + ", ".join(c.knob.configuration for c in level) + "."
        )
    if any(c.insert.get(k) is not None and c.insert[k].verdict == stats.NO_VERDICT for c in found for k in rounds):
        notes.append("With one repetition there is no verdict on speed.")
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
                _bytes_mb(r.median("rss_peak")),
                _bytes_mb(r.median("rss_mean")),
                _bytes_mb(r.median("rss_end")),
                f"{r.median('rss_integral_mb_s'):,.1f}",
            )
        )
    out.append(
        _table(
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
        notes = []
        for r in rs:
            if r is base or not r.ok:
                continue
            verdict = stats.compare(r.spread("wall_seconds"), base.spread("wall_seconds"))
            if verdict == stats.DIFFERS:
                notes.append(f"{r.configuration} {(r.median('wall_seconds') / base.median('wall_seconds') - 1) * 100:+.1f} %")
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
    out.append(_table(("configuration", "insert p50", "p99", "p99.9", "max", "lookup p50", "p99", "p99.9", "max"), rows))
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


def _noise_section(results):
    rows = summary.noise_summary([r for r in results if r.ok and r.repetitions >= 2])
    if not rows:
        return []
    raw = [w for _, _, w, _ in rows if w is not None]
    scaled = [w for _, _, _, w in rows if w is not None]
    n = max(r.repetitions for r, _, _, _ in rows)
    out = [
        "## How sure the speeds are",
        "",
        f"Half the width of each rate's interval, in % of its median, over {len(rows)} rate figures (up to {n} repetitions; "
        f"the interval is the 95 % confidence interval of the median for ≥ 6 repetitions, the range below). Raw rates, "
        "and rates scaled by the machine-speed probe measured in the same child (what the comparisons use):",
        "",
    ]

    def quartiles(values):
        vs = sorted(values)
        return (vs[len(vs) // 2], vs[-1]) if vs else (None, None)

    raw_median, raw_max = quartiles(raw)
    scaled_median, scaled_max = quartiles(scaled)
    out.append(
        _table(
            ("", "median half-width", "largest half-width", "within ±3 %"),
            [
                ("raw", _pct(raw_median), _pct(raw_max), f"{sum(1 for w in raw if w <= 3)} of {len(raw)}"),
                ("speed-scaled", _pct(scaled_median), _pct(scaled_max), f"{sum(1 for w in scaled if w <= 3)} of {len(scaled)}"),
            ],
        )
    )
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


def _how_to_read(settle, order):
    after = f" ({settle})" if settle else ""
    return [
        "## How to read the numbers",
        "",
        "- Each repetition runs in a fresh process; repetitions are interleaved (repetition 1 of every configuration, "
        "then repetition 2, ...), so that a slow spell of the machine falls on every configuration alike.",
        "- **rss_base** is RSS before the map is built, **rss_peak** with the map full; *growth* = peak − base. *Kept* at a "
        "step = (RSS at that step − base) / growth: **after clear**, **after release step** (the configuration's call, if "
        f"any), **after settle** at the end of the idle wait{after}.",
        f"- ≥ {KEEPS_PCT:g} % kept counts as *keeps*, ≤ {GIVES_BACK_PCT:g} % as *gives back*.",
        "- Rates are items per second (M = 10⁶); MB = 10⁶ bytes. Values are medians over the successful repetitions; in "
        "parentheses the distribution-free 95 % confidence interval of the median (order statistics; ≥ 6 repetitions) or, "
        "marked *range*, the min–max with its lower coverage.",
        "- **The noise rule**: two rates differ only when their intervals do not overlap; otherwise the report says "
        "*within noise*. Speed comparisons use each rate scaled by the machine-speed probe timed in the same process "
        "(`probe_ns`: a fixed walk through memory), which takes the machine's slow spells out of the comparison; the "
        "tables show the raw rates.",
        "- Configurations are compared like for like: *allocator* (the same `std::map` code, another malloc or knob), "
        "*container allocator* (the same node-based map with another allocator) and *different container*.",
    ]


def render(run, results, plots_dir=None):
    """The whole report as Markdown text. plots_dir: path of the plots relative to the report."""
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
    out += [_context_section(run), ""]
    if primary == "command":
        out += _command_section(results, suite) + [""]
    else:
        primary_results = summary.select(results, primary, largest)
        findings = _retention_findings(primary_results, settle) + _speed_findings(primary_results)
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
            choices = _choices(primary_results, settle)
            if choices:
                out += ["### Which configuration for which need", ""] + choices + [""]
        for section in (
            _different_container_section(primary_results, primary, largest),
            _cost_section(results, suite),
            _timeline_section(results, suite),
            _latency_section(primary_results),
            _breakdown_section(primary_results, settle),
            _glibc_section(primary_results, primary, largest),
        ):
            if section:
                out += section + [""]
    out += ["## Results", ""]
    for workload in summary.workloads(results, suite):
        if workload == "command":
            continue
        out += [f"### `{workload}`", ""]
        for size in reversed(summary.sizes(results, workload)):
            rs = summary.by_retention(summary.select(results, workload, size))
            reps = sorted({r.repetitions for r in rs if r.ok})
            reps_text = (
                (f"{reps[-1]} repetitions" if len(reps) == 1 else f"{reps[0]}–{reps[-1]} repetitions")
                if reps
                else "no successful repetition"
            )
            out += [
                f"#### N = {format_size(size)} ({reps_text}; sorted by what is kept after settle)",
                "",
                _results_table(rs, settle, suite.workloads.get(workload), suite),
                "",
            ]
        for planned in plan:
            if planned.workload == workload:
                out += [_plot_markdown(planned, plots_dir), ""]
    for planned in plan:
        if not isinstance(planned.workload, str) or planned.workload == "command":
            out += [_plot_markdown(planned, plots_dir), ""]
    noise = _noise_section(results)
    if noise:
        out += noise + [""]
    out += _errors_section(run) + [""] + _how_to_read(settle, suite.order) + [""]
    return "\n".join(out)
