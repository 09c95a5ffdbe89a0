"""The Markdown report of a run: context, one table per workload and size, plots, errors, and
paragraphs that read the numbers.

Every sentence about results is computed from the run: which configurations keep or give back memory
(summary.KEEPS_PCT / GIVES_BACK_PCT), what each release step costs, the fastest, the Pareto set, and
the recommendation per need. Nothing about a particular allocator's behaviour is written in advance,
except the explanation of glibc's free lists, which quotes the run's own stat_ counters.
"""

import os
import statistics

from . import summary
from .gbjson import display_name, format_offset, library_name
from .summary import GIVES_BACK_PCT, KEEPS_PCT, MB, format_size

# Context keys ./bench (or Google Benchmark) writes that the "The run" table shows by name.
_KNOWN_CONTEXT = ("host_name", "num_cpus", "mhz_per_cpu", "cpu_model", "cpu_scaling_enabled", "kernel",
                  "glibc_version", "thp_enabled", "settle", "sizes", "command", "date", "incomplete",
                  "executable", "library_build_type", "load_avg", "caches")


def _library_keys(context):
    """Context keys naming a preloaded allocator library: `library_<name>` (./bench) or `lib_<name>`.
    `library_build_type` is Google Benchmark's own key (how libbenchmark was built)."""
    return sorted(k for k in context if (k.startswith("library_") or k.startswith("lib_"))
                  and k != "library_build_type")


# ---------------------------------------------------------------------------------------------------
# number formatting


def _rate(v):
    return "—" if v is None else f"{v / 1e6:.2f}"


def _mb(v):
    return "—" if v is None else f"{v:,.1f}"


def _pct(v):
    return "—" if v is None else f"{v:.1f} %"


def _ms(v):
    if v is None:
        return "—"
    if v == 0:
        return "0"
    return f"{v:.2g}" if abs(v) < 1 else (f"{v:.2f}" if abs(v) < 10 else f"{v:,.0f}")


def _bytes_mb(v):
    return "—" if v is None else f"{v / MB:,.1f} MB"


def _change(new, old):
    """'+12.3 %' relative change, or '' when undefined."""
    if new is None or not old:
        return ""
    return f"{(new - old) / old * 100:+.1f} %"


def _within_noise(a, b, k=2.0):
    """True when two Spreads differ by no more than k standard deviations of their difference
    (the rule of scripts/compare.py); False when they differ or there is no spread to judge by."""
    if a is None or b is None or a.sd is None or b.sd is None:
        return False
    return abs(b.mean - a.mean) <= k * (a.sd ** 2 + b.sd ** 2) ** 0.5


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header, rows, numeric=True):
    """A Markdown table; with numeric, every column but the first is right-aligned."""
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
             "|" + "|".join("---" if i == 0 or not numeric else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _names(rs, detail):
    return ", ".join(f"**{r.configuration}** ({detail(r)})" for r in rs)


def _served_by(r):
    malloc = library_name(r.malloc_library)
    new = library_name(r.new_library)
    text = malloc or "?"
    if r.library_version:
        text += f" {r.library_version}"
    if new and new != malloc and not new.startswith("libstdc++"):
        text += f"; operator new: {new}"
    return text if (malloc or r.library_version) else "—"


# ---------------------------------------------------------------------------------------------------
# sections


def _context_section(run):
    c = run.context
    rows = []

    def add(name, value):
        if value not in (None, ""):
            rows.append((name, value))

    add("host", c.get("host_name"))
    if c.get("num_cpus"):
        mhz = f" × {c['mhz_per_cpu']} MHz" if c.get("mhz_per_cpu") else ""
        model = f", {c['cpu_model']}" if c.get("cpu_model") else ""
        add("CPUs", f"{c['num_cpus']}{mhz}{model}")
    if "cpu_scaling_enabled" in c:
        add("CPU frequency scaling", "enabled: timings vary more" if c["cpu_scaling_enabled"] else "disabled")
    if isinstance(c.get("load_avg"), list) and c["load_avg"]:
        add("load average at start", ", ".join(f"{v:.2f}" for v in c["load_avg"]))
    add("kernel", c.get("kernel"))
    add("glibc", c.get("glibc_version"))
    for key in _library_keys(c):
        add(f"{key.split('_', 1)[1]} library", c[key])
    served = dict.fromkeys(f"{library_name(r.label.malloc_library)} {r.label.version}".strip()
                           for r in run.rows if r.label.malloc_library or r.label.version)
    add("allocators that served the runs (labels)", "; ".join(served))
    add("transparent huge pages", c.get("thp_enabled"))
    add("sizes (N)", c.get("sizes"))
    add("settle time", c.get("settle"))
    if c.get("command"):
        add("command", f"`{c['command']}`")
    add("date", c.get("date"))
    if "incomplete" in c:
        add("complete", "**no: the run was interrupted**" if _incomplete(c) else "yes")
    build = c.get("library_build_type")
    if build:
        add("Google Benchmark library build", build + (
            " (Debian's libbenchmark; every figure here is timed by the suite's own code in the child"
            " process, which is built as `bench_build_type` says)" if build == "debug" else ""))
    for key in sorted(c):
        if key in _KNOWN_CONTEXT or key in _library_keys(c) or isinstance(c[key], (list, dict)):
            continue
        add(key, c[key])
    text = ["## The run", "", f"From `{os.path.basename(run.path)}`."]
    if rows:
        text += ["", _table(("", ""), rows, numeric=False)]
    return "\n".join(text)


def _incomplete(context):
    return str(context.get("incomplete", "")).strip().lower() in ("true", "1", "yes")


def _failed_note(r):
    return r.errors[0][1] if r.errors else "no data"


def _results_table(rs, settle):
    header = ("configuration", "runs", "insert (M items/s)", "lookup (M items/s)",
              "clear (M items/s)", "growth (MB)", "kept after clear", "after release step",
              f"after settle{f' ({settle})' if settle else ''}", "release step (ms)", "served by")
    rows = []
    for r in rs:
        total = r.repetitions + sum(1 for _ in r.errors)
        runs = f"{r.repetitions}" if not r.errors else f"{r.repetitions} of {total}"
        if not r.ok:
            rows.append((r.configuration, runs, f"failed: {_failed_note(r)}") + ("—",) * 7
                        + (_served_by(r),))
            continue
        rows.append((r.configuration, runs, _rate(r.median("insert_rate")),
                     _rate(r.median("lookup_rate")), _rate(r.median("clear_rate")),
                     _mb(r.median("growth_mb")), _pct(r.median("kept_pct_cleared")),
                     _pct(r.median("kept_pct_released")), _pct(r.median("kept_pct_final")),
                     _ms(summary.release_step_ms(r)), _served_by(r)))
    return _table(header, rows)


def _classify(rs):
    ok = [r for r in rs if r.median("kept_pct_final") is not None]
    keepers = [r for r in ok if r.median("kept_pct_final") >= KEEPS_PCT]
    givers = [r for r in ok if r.median("kept_pct_final") <= GIVES_BACK_PCT]
    middle = [r for r in ok if r not in keepers and r not in givers]
    return keepers, givers, middle


def _kept(r):
    return f"{r.median('kept_pct_final'):.1f} %, {r.median('kept_mb_final'):,.1f} MB"


def _when_given_back(r):
    """How a configuration got to <= GIVES_BACK_PCT: at clear, by its release step, or while idle."""
    cleared = r.median("kept_pct_cleared")
    if cleared is not None and cleared <= GIVES_BACK_PCT:
        return "already on clear()"
    released = r.median("kept_pct_released")
    if released is not None and released <= GIVES_BACK_PCT:
        ms = summary.release_step_ms(r)
        return f"after its release step ({_ms(ms)} ms)" if ms else "by the end of the release step"
    growth = r.median("growth_mb")
    if growth:
        for t, mb in r.timeline():
            if mb / growth * 100 <= GIVES_BACK_PCT:
                return f"while idle, within {format_offset(t)}"
    return "while idle, by the end of settle"


def _per_size_summary(rs, settle):
    keepers, givers, middle = _classify(rs)
    failed = [r for r in rs if not r.ok]
    lines = []
    after = f"after settle ({settle})" if settle else "after settle"
    if keepers:
        lines.append(f"Keep ≥ {KEEPS_PCT:g} % of the peak growth {after}: "
                     + ", ".join(r.configuration for r in keepers) + ".")
    if givers:
        lines.append(f"Give it back (≤ {GIVES_BACK_PCT:g} % kept): "
                     + ", ".join(r.configuration for r in givers) + ".")
    if middle:
        lines.append("In between: " + ", ".join(f"{r.configuration} ({r.median('kept_pct_final'):.0f} %)"
                                                for r in middle) + ".")
    if failed:
        lines.append("No successful run: " + ", ".join(r.configuration for r in failed) + ".")
    return " ".join(lines)


def _findings(rs, workload, size, settle):
    """Paragraphs that read the table of the primary workload at its largest size."""
    ok = [r for r in rs if r.ok]
    if not ok:
        return []
    keepers, givers, middle = _classify(rs)
    names = {r.configuration: r for r in ok}
    after = f"after {settle} of settle" if settle else "after settle"
    out = [f"For `{workload}` at N = {format_size(size)} (medians over repetitions; "
           f"kept = RSS above the baseline as a share of what the map made the process grow):", ""]
    if keepers:
        out.append(f"- **RSS does not go down.** {len(keepers)} of {len(ok)} configurations keep "
                   f"≥ {KEEPS_PCT:g} % {after}: {_names(keepers, _kept)}. The memory was freed to "
                   "the allocator, not to the operating system.")
    if givers:
        out.append(f"- **Given back** (≤ {GIVES_BACK_PCT:g} % kept {after}): "
                   + "; ".join(f"**{r.configuration}** ({_kept(r)}, {_when_given_back(r)})"
                               for r in givers) + ".")
    if middle:
        out.append(f"- **Partly given back**: {_names(middle, _kept)}.")
    outliers = _peak_outliers(ok)
    if outliers:
        out.append("- **Mind the peak**: " + ", ".join(
            f"{r.configuration} grew {r.median('growth_mb') / typical:.0f}× the typical configuration "
            f"(+{_mb(r.median('growth_mb'))} MB against +{_mb(typical)} MB)" for r, typical in outliers)
            + "; their percentages are of that larger peak, so compare them in MB.")
    costs = _release_costs(ok, names)
    if costs:
        out.append("- **What giving back costs**: " + "; ".join(costs) + ".")
    fastest = max((r for r in ok if r.median("insert_rate") is not None),
                  key=lambda r: r.median("insert_rate"), default=None)
    if fastest is not None:
        text = (f"- **Fastest inserter**: **{fastest.configuration}** at "
                f"{_rate(fastest.median('insert_rate'))} M items/s")
        reference = names.get("glibc")
        if reference is not None and reference is not fastest and reference.median("insert_rate"):
            text += (f", {fastest.median('insert_rate') / reference.median('insert_rate'):.2f}× "
                     f"glibc's {_rate(reference.median('insert_rate'))} M items/s")
        if fastest.median("kept_pct_final") is not None:
            text += f"; it keeps {_kept(fastest)} {after}"
        tied = _tied_with(fastest, ok, "insert_rate")
        if tied:
            text += (f". Within the run-to-run spread of: {', '.join(r.configuration for r in tied)}")
        out.append(text + ".")
    failed = [r for r in rs if not r.ok]
    if failed:
        out.append("- **No result** (every repetition failed): "
                   + "; ".join(f"{r.configuration} ({_failed_note(r)})" for r in failed) + ".")
    front = summary.pareto_front(ok)
    if front:
        out.append("- **Pareto set** (no other configuration both inserts faster and keeps less "
                   f"{after}): " + ", ".join(
                       f"**{r.configuration}** ({_rate(r.median('insert_rate'))} M/s, "
                       f"{_mb(r.median('kept_mb_final'))} MB)" for r in front) + "."
                   + _dominated_text(ok, front))
    out += ["", "### Which configuration for which need", ""] + _choices(ok, settle)
    if any(r.configuration == "boost-flat-map" for r in ok):
        # A property of the configuration, not a result: its insert rate is a bulk load.
        out += ["", "Read boost-flat-map's rates with care: it is loaded with one range insert of all pairs "
                "(append, then sort: a bulk load), not with N single inserts; a flat_map that grows one "
                "entry at a time moves half its vector on every insert."]
    return out


def _peak_outliers(ok, factor=2.0):
    """[(result, median growth of all)] for configurations whose peak growth is over factor× the
    median configuration's: a small percentage of a huge peak can still be many MB."""
    growths = [r.median("growth_mb") for r in ok if r.median("growth_mb")]
    if len(growths) < 3:
        return []
    typical = statistics.median(growths)
    return [(r, typical) for r in ok if r.median("growth_mb") and typical > 0
            and r.median("growth_mb") > factor * typical]


def _release_costs(ok, names):
    """One phrase per configuration that gives back more than its reference or has a release step."""
    phrases = []
    for r in ok:
        ms = summary.release_step_ms(r)
        kept_final = r.median("kept_pct_final")
        ref_name = summary.reference_for(r.configuration, names)
        ref = names.get(ref_name) if ref_name else None
        gives_more = (ref is not None and kept_final is not None and ref.median("kept_pct_final") is not None
                      and kept_final < ref.median("kept_pct_final") - 5)
        if not ms and not gives_more:
            continue
        parts = []
        if ms:
            before, after = r.median("kept_pct_cleared"), r.median("kept_pct_released")
            spread = r.spread("release_ms")
            span = f" ({_ms(spread.low)}–{_ms(spread.high)})" if spread and spread.n > 1 else ""
            step = f"release step {_ms(ms)} ms{span}"
            if before is not None and after is not None:
                step += f", {before:.1f} % → {after:.1f} % kept"
            parts.append(step)
        elif kept_final is not None:
            parts.append(f"no release call, {kept_final:.1f} % kept after settle")
        if ref is not None:
            change = _change(r.median("insert_rate"), ref.median("insert_rate"))
            if change:
                noise = (" (within noise)" if _within_noise(r.spread("insert_rate"), ref.spread("insert_rate"))
                         else "")
                parts.append(f"insert rate {change} vs {ref.configuration}{noise}")
        phrases.append(f"{r.configuration}: " + ", ".join(parts))
    return phrases


def _tied_with(best, ok, key):
    """Configurations whose max reaches best's min: not distinguishable from `best` in this run."""
    b = best.spread(key)
    if b is None or b.n < 2:
        return []
    return [r for r in ok if r is not best and r.spread(key) is not None and r.spread(key).n >= 2
            and r.spread(key).high >= b.low]


def _dominated_text(ok, front):
    dominated = [r for r in ok if r not in front and r.median("insert_rate") is not None
                 and r.median("kept_mb_final") is not None]
    if not dominated:
        return ""
    parts = []
    for r in dominated:
        better = [f for f in front if f.median("insert_rate") >= r.median("insert_rate")
                  and f.median("kept_mb_final") <= r.median("kept_mb_final")]
        if better:
            parts.append(f"{r.configuration} (by {', '.join(f.configuration for f in better)})")
    return (" Beaten on both counts: " + "; ".join(parts) + ".") if parts else ""


def _choices(ok, settle):
    out = []
    after = f"after settle ({settle})" if settle else "after settle"
    with_kept = [r for r in ok if r.median("kept_mb_final") is not None]
    with_rate = [r for r in ok if r.median("insert_rate") is not None]
    if with_kept:
        least = min(with_kept, key=lambda r: (r.median("kept_mb_final"), -(r.median("insert_rate") or 0)))
        out.append(f"- **Memory must go back to the OS** (long-running services, memory limits): "
                   f"**{least.configuration}**: least kept {after}, {_kept(least)}; inserts at "
                   f"{_rate(least.median('insert_rate'))} M items/s.")
    if with_rate:
        fastest = max(with_rate, key=lambda r: r.median("insert_rate"))
        kept = f"; keeps {_kept(fastest)} {after}" if fastest.median("kept_mb_final") is not None else ""
        out.append(f"- **Speed only** (short-lived or batch processes): **{fastest.configuration}**: "
                   f"{_rate(fastest.median('insert_rate'))} M items/s{kept}.")
        top = fastest.median("insert_rate")
        scored = [(summary.balance_score(r, top), r) for r in summary.pareto_front(ok)]
        scored = [(s, r) for s, r in scored if s is not None]
        if scored:
            score, best = max(scored, key=lambda p: p[0])
            out.append(f"- **Both** (fast and gives back): **{best.configuration}**: "
                       f"{_rate(best.median('insert_rate'))} M items/s "
                       f"({best.median('insert_rate') / top * 100:.0f} % of the fastest) with "
                       f"{best.median('kept_pct_final'):.1f} % kept; the highest score among the "
                       f"Pareto set for (insert rate / fastest) × (1 − share kept) = {score:.2f}.")
    peaks = [r for r in ok if r.median("growth_mb") is not None]
    if len(peaks) >= 2:
        low = min(peaks, key=lambda r: r.median("growth_mb"))
        high = max(peaks, key=lambda r: r.median("growth_mb"))
        if high.median("growth_mb") > low.median("growth_mb") * 1.05:
            out.append(f"- **Smallest peak** (memory while the map is full): **{low.configuration}**, "
                       f"+{_mb(low.median('growth_mb'))} MB, against +{_mb(high.median('growth_mb'))} MB "
                       f"for {high.configuration}.")
    return out


_GLIBC_STATS = ("stat_arena", "stat_uordblks", "stat_fordblks", "stat_fsmblks", "stat_keepcost")


def _is_glibc(r):
    return (r.configuration.split("-")[0] == "glibc"
            or library_name(r.malloc_library).startswith("libc.so"))


def _glibc_section(rs, workload, size):
    """Why glibc keeps the memory, in this run's numbers (facts: ALLOCATORS.md, glibc (ptmalloc2))."""
    gl = [r for r in rs if r.ok and _is_glibc(r) and any(r.median(k) is not None for k in _GLIBC_STATS)]
    if not gl:
        return []
    out = ["## Why glibc keeps the memory", "",
           f"glibc's own statistics after clear() (`mallinfo2()`, `{workload}`, N = {format_size(size)}), "
           "next to the RSS it kept:", ""]
    rows = []
    for r in gl:
        rows.append((r.configuration, _bytes_mb(r.median("stat_arena")), _bytes_mb(r.median("stat_uordblks")),
                     _bytes_mb(r.median("stat_fordblks")), _bytes_mb(r.median("stat_fsmblks")),
                     "—" if r.median("stat_keepcost") is None else f"{r.median('stat_keepcost') / 1e3:,.1f} kB",
                     _mb(r.median("kept_mb_cleared")), _mb(r.median("kept_mb_final"))))
    out.append(_table(("configuration", "heap from the OS (arena)", "in use (uordblks)",
                       "free inside the heap (fordblks)", "of it in fastbins (fsmblks)",
                       "top chunk (keepcost)", "RSS kept after clear (MB)", "after settle (MB)"), rows))
    plain = next((r for r in gl if r.configuration == "glibc"), gl[0])
    g = plain.median
    sentences = []
    if g("stat_arena") is not None and g("stat_fordblks") is not None:
        text = (f"In **{plain.configuration}**, after clear() the main heap still spans "
                f"{_bytes_mb(g('stat_arena'))} taken from the kernel (arena)")
        if g("stat_uordblks") is not None:
            text += f", of which only {_bytes_mb(g('stat_uordblks'))} is in use (uordblks, tcache included)"
        text += (f" and {_bytes_mb(g('stat_fordblks'))} is free chunks inside the heap (fordblks): "
                 "the freed map nodes, now in glibc's free lists.")
        if g("stat_fsmblks") is not None and g("stat_fordblks"):
            text += (f" {_bytes_mb(g('stat_fsmblks'))} of them "
                     f"({g('stat_fsmblks') / g('stat_fordblks') * 100:.0f} %) sit in fastbins (fsmblks), "
                     "which are not even merged with their neighbours until `malloc_consolidate` runs.")
        sentences.append(text)
    if g("stat_keepcost") is not None:
        sentences.append(
            "free() hands memory back to the kernel only from the top of the heap, and only when a "
            "freed chunk of ≥ 64 KiB triggers consolidation and the top chunk then exceeds "
            f"`M_TRIM_THRESHOLD`. {'Map nodes' if 'map' in workload else 'Small blocks'} are a few dozen "
            "bytes: freeing them never triggers consolidation, so they stay in tcache and fastbins, "
            "unmerged, and never join the top chunk. "
            f"The top chunk, all that free() could trim, is {g('stat_keepcost') / 1e3:,.1f} kB here "
            "(keepcost).")
    kept = g("kept_mb_cleared")
    if kept is not None and kept > 0 and g("stat_fordblks"):
        share = g("stat_fordblks") / MB / kept * 100
        sentences.append(
            f"RSS stayed {_mb(kept)} MB above the baseline after clear() and "
            f"{_mb(g('kept_mb_final'))} MB after settle; the free chunks ({_bytes_mb(g('stat_fordblks'))}) "
            + ("cover all of what was kept after clear()." if share >= 100 else
               f"are {share:.0f} % of what was kept after clear()."))
    with_release = [r for r in gl if summary.release_step_ms(r) and r.median("kept_pct_released") is not None]
    if with_release:
        sentences.append(
            "`malloc_trim(0)` does what free() cannot: it consolidates the fastbins and returns every "
            "whole free page inside the heap with `madvise(MADV_DONTNEED)`. glibc configurations of "
            "this run with a release step: " + "; ".join(
                f"**{r.configuration}** {_ms(summary.release_step_ms(r))} ms, then "
                f"{_pct(r.median('kept_pct_released'))} kept ({_mb(r.median('kept_mb_released'))} MB)"
                for r in with_release) + ".")
    out += ["", " ".join(s for s in sentences if s), "",
            "Source of the mechanism: glibc's `malloc/malloc.c` (`_int_free`, `malloc_consolidate`, "
            "`systrim`, `mtrim`, `int_mallinfo`) and the mallopt(3), malloc_trim(3) and mallinfo2(3) "
            "manual pages."]
    return out


def _errors_section(run):
    failed = [r for r in run.rows if r.error]
    out = ["## Errors", ""]
    if not failed:
        return out + ["No benchmark reported an error."]
    for r in failed:
        rep = "" if r.repetition in (None, "") else f" repetition {r.repetition}"
        out.append(f"- `{display_name(r.run_name)}`{rep}: {r.error}")
    return out


def _plot_markdown(planned, plots_dir):
    path = f"{plots_dir.rstrip('/')}/{planned.stem}.png" if plots_dir else f"{planned.stem}.png"
    return f"![{planned.caption}]({path})"


def _how_to_read(settle):
    after = f" ({settle})" if settle else ""
    return ["## How to read the numbers", "",
            "- Each benchmark runs the workload in a fresh process; **rss_base** is its RSS before "
            "the map is built, **rss_peak** with the map full. *Growth* = rss_peak − rss_base.",
            "- *Kept* at a step = (RSS at that step − rss_base) / growth: **after clear** right after "
            "the map is cleared, **after release step** once the configuration's release call (if any) "
            f"returned, **after settle** at the end of the idle wait{after}.",
            f"- ≥ {KEEPS_PCT:g} % kept counts as *keeps*, ≤ {GIVES_BACK_PCT:g} % as *gives back*.",
            "- Rates are items per second (M = 10⁶); MB = 10⁶ bytes. Values are medians over the "
            "successful repetitions, computed from the iteration rows (the CSV has every repetition).",
            "- *Release step (ms)* is the time the configuration's explicit release call took "
            f"(—: it has none; below {summary.RELEASE_STEP_MIN_MS * 1e3:g} µs counts as none)."]


def render(run, results, plots_dir=None):
    """The whole report as Markdown text. plots_dir: path of the plots relative to the report."""
    settle = summary.settle_label(run.context, results)
    plan = summary.plan_plots(results)
    primary = summary.primary_workload(results)
    psizes = summary.sizes(results, primary)
    largest = psizes[-1] if psizes else None
    date = run.context.get("date", "")
    out = [f"# Why doesn't RSS go down after freeing a std::map?{f' Results of {date}' if date else ''}", "",
           "Each configuration builds a `std::map` of MD5-keyed entries, clears it, optionally calls "
           "its allocator's release function, then waits; RSS is sampled at every step. This report "
           "is generated from the benchmark JSON by `scripts/report.py`.", ""]
    if _incomplete(run.context):
        out += ["> **Incomplete run**: the benchmark was interrupted; some configurations or sizes "
                "are missing.", ""]
    out += [_context_section(run), ""]
    primary_results = summary.select(results, primary, largest)
    findings = _findings(primary_results, primary, largest, settle)
    if findings:
        out += ["## What the numbers say", ""] + findings + [""]
    glibc = _glibc_section(primary_results, primary, largest)
    if glibc:
        out += glibc + [""]
    out += ["## Results", ""]
    for workload in summary.workloads(results):
        out += [f"### `{workload}`", ""]
        for size in reversed(summary.sizes(results, workload)):
            rs = summary.by_retention(summary.select(results, workload, size))
            reps = sorted({r.repetitions for r in rs if r.ok})
            reps_text = (f"{reps[-1]} repetitions" if len(reps) == 1 else
                         f"{reps[0]}–{reps[-1]} repetitions") if reps else "no successful repetition"
            out += [f"#### N = {format_size(size)} ({reps_text}; sorted by what is kept after settle)", "",
                    _results_table(rs, settle), "", _per_size_summary(rs, settle), ""]
        for planned in plan:
            if planned.workload == workload:
                out += [_plot_markdown(planned, plots_dir), ""]
    out += _errors_section(run) + [""] + _how_to_read(settle) + [""]
    return "\n".join(out)
