"""The report's section "Results": per workload of ours and N, a table of its headline counters (the
description's), sorted by what is kept after settle; and the figures drawn from those rows, each after its
workload's tables (retention, rates, tradeoff, breakdown, cost, scaling), then the run's settle timelines and the
figures other sections place after every table.
"""

import statistics

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from .. import mdformat as fmt
from .. import plots, stats, summary
from ..gbjson import format_offset
from ..section import RUN, TIMED, WORKLOAD, PlannedPlot, safe_stem
from ..summary import GIVES_BACK_PCT, KEEPS_PCT, format_size

RUNS = TIMED

STAGE_COLORS = {"cleared": "#b2182b", "released": "#ef8a62", "final": "#2166ac"}


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
            shares = summary.above_base_values(r, counter, share_of_growth=True)
            if not shares:
                return fmt.bytes_mb(r.median(counter))
            return fmt.pct(statistics.median(shares)) + fmt.disagreement(shares)

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


def _results_table(rs, settle, workload, suite):
    """One row per configuration, the workload's headline counters as columns."""
    headline = [c for c in workload.headline if c != "rss_base"] if workload is not None else []
    columns = [_headline_column(c, suite.unit(c), settle) for c in headline]
    header = ["configuration", "kind", "runs"] + [title for title, _ in columns] + ["served by"]
    rows = []
    for r in rs:
        runs, kind = fmt.runs_and_kind(r)
        if not r.ok:
            rows.append(
                [r.configuration, kind, runs, f"failed: {r.errors[0][1] if r.errors else 'no data'}"]
                + ["—"] * (len(columns) - 1)
                + [fmt.served_by(r)]
            )
            continue
        rows.append([r.configuration, kind, runs] + [cell(r) for _, cell in columns] + [fmt.served_by(r)])
    return fmt.table(header, rows)


_GLIBC_STATS = ("stat_arena", "stat_uordblks", "stat_fordblks", "stat_fsmblks", "stat_keepcost")


def render(report):
    results, suite = report.results, report.suite
    out = ["## Results", ""] if report.tabled else []
    for workload in report.tabled:
        out += [f"### `{workload}`", ""]
        for size in reversed(summary.sizes(results, workload)):
            rs = summary.by_retention(summary.select(results, workload, size))
            reps = fmt.span(r.repetitions for r in rs if r.ok)
            reps_text = f"{reps} repetitions" if reps else "no successful repetition"
            out += [
                f"#### N = {format_size(size)} ({reps_text}; sorted by what is kept after settle)",
                "",
                _results_table(rs, report.settle, suite.workloads.get(workload), suite),
                "",
            ]
        out += [line for p in report.plan if p.place == WORKLOAD and p.workload == workload for line in (report.image(p), "")]
    out += [line for p in report.plan if p.place == RUN for line in (report.image(p), "")]
    return out[:-1]


# ---------------------------------------------------------------------------------------------------
# the figures


def figures(report):
    """retention[_<workload>[_<N>]], rates, tradeoff, breakdown, cost, scaling[_<workload>] per workload of ours, each
    made only when the rows hold what it draws; timeline for the workloads that settle."""
    results, suite = report.results, report.suite
    plans = []
    ws = summary.workloads(results, suite)
    primary = report.primary
    programs = [w for w in ws if w == "command" or w in suite.scenarios]
    settle_workloads = [w for w in ws if any(len(r.timeline) >= 2 for r in summary.select(results, w)) and w not in programs]
    for workload in ws:
        if workload in programs:
            continue
        w_sizes = summary.sizes(results, workload)
        largest = w_sizes[-1] if w_sizes else None
        for size in reversed(w_sizes):
            rs = summary.select(results, workload, size)
            if not any(r.median("kept_pct_final") is not None for r in rs):
                continue
            stem = "retention" if workload == primary else f"retention_{safe_stem(workload)}"
            if size != largest:
                stem = f"retention_{safe_stem(workload)}_{safe_stem(size)}"
            caption = f"Memory kept after clear, {workload}, N = {format_size(size)}"
            plans.append(PlannedPlot(stem, "retention", workload, size, caption, retention_figure, WORKLOAD))
        rs = summary.select(results, workload, largest)
        n = format_size(largest)
        if workload == primary:
            if any(r.median("insert_rate") is not None for r in rs):
                caption = f"Insert, lookup and clear, {workload}, N = {n}"
                plans.append(PlannedPlot("rates", "rates", workload, largest, caption, rates_figure, WORKLOAD))
                caption = f"Insert rate vs memory kept after settle, like for like, {workload}, N = {n}"
                plans.append(PlannedPlot("tradeoff", "tradeoff", workload, largest, caption, tradeoff_figure, WORKLOAD))
            if any(r.median("anonymous_cleared") is not None for r in rs):
                caption = f"Where the resident bytes are, {workload}, N = {n}"
                plans.append(PlannedPlot("breakdown", "breakdown", workload, largest, caption, breakdown_figure, WORKLOAD))
        if any(summary.rounds_of(r) for r in rs) and summary.costs(rs):
            caption = f"What giving memory back costs, {workload}, N = {n}"
            plans.append(PlannedPlot("cost", "cost", workload, largest, caption, cost_figure, WORKLOAD))
        with_data = [
            s for s in w_sizes if any(r.median("kept_mb_final") is not None for r in summary.select(results, workload, s))
        ]
        if len(with_data) >= 2:
            stem = "scaling" if workload == primary else f"scaling_{safe_stem(workload)}"
            caption = f"Rates and bytes per entry vs N, {workload}"
            plans.append(PlannedPlot(stem, "scaling", workload, None, caption, scaling_figure, WORKLOAD))
    if settle_workloads:
        caption = "RSS above baseline after clear, by allocator family: " + ", ".join(settle_workloads)
        plans.append(PlannedPlot("timeline", "timeline", tuple(settle_workloads), None, caption, timeline_figure, RUN))
    return plans


def retention_figure(report, style, planned):
    run, results = report.run, report.results
    """Grouped horizontal bars: % of the peak growth still resident after clear, release and settle."""
    rs = summary.by_retention(summary.select(results, planned.workload, planned.size))
    settle = summary.settle_label(run.suite)
    stages = [(s, summary.STAGE_TITLES[s] + (f" ({settle})" if s == "final" and settle else "")) for s in summary.STAGES]
    n = len(rs)
    fig, ax = plt.subplots(figsize=(10, 2.2 + 0.55 * n))
    bar = 0.27
    max_x = 100.0
    for k, (stage, stage_title) in enumerate(stages):
        labelled = False
        for i, r in enumerate(rs):
            pct = r.spread(f"kept_pct_{stage}")
            y = i + (k - 1) * bar
            if pct is None:
                continue
            lo, hi = plots.whiskers(pct, pct.median)
            ax.barh(y, pct.median, height=bar * 0.92, color=STAGE_COLORS[stage], label=None if labelled else stage_title)
            labelled = True
            if lo or hi:
                ax.errorbar(pct.median, y, xerr=[[lo], [hi]], fmt="none", ecolor="0.15", elinewidth=0.8, capsize=2)
            mb = r.median(f"kept_mb_{stage}")
            end = max(pct.median + hi, 0.0)
            max_x = max(max_x, end)
            if mb is not None:
                ax.text(end + 1.5, y, f"{mb:,.1f} MB", va="center", ha="left", fontsize=7, color="0.2")
    for i, r in enumerate(rs):
        if not r.ok:
            ax.text(
                1.0,
                i,
                f"failed: {r.errors[0][1] if r.errors else 'no data'}"[:120],
                va="center",
                ha="left",
                fontsize=8,
                color="#b2182b",
                style="italic",
            )
    labels = [
        f"{r.configuration}" + (f"\n+{r.median('growth_mb'):,.0f} MB at peak" if r.median("growth_mb") is not None else "")
        for r in rs
    ]
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(
        min(0.0, min((r.median(f"kept_pct_{s}") or 0.0 for r in rs for s in summary.STAGES), default=0.0) - 2), max_x * 1.13 + 6
    )
    for x, text in ((GIVES_BACK_PCT, f"≤ {GIVES_BACK_PCT:g} %: gives back"), (KEEPS_PCT, f"≥ {KEEPS_PCT:g} %: keeps")):
        ax.axvline(x, color="0.55", linestyle=":", linewidth=1)
        ax.text(x, -0.5, text + " ", ha="right" if x == KEEPS_PCT else "left", va="bottom", fontsize=7.5, color="0.4")
    ax.axvline(100, color="0.3", linewidth=0.8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g} %"))
    ax.set_xlabel("RSS above the process baseline, in % of the peak growth; bar labels: the same in MB")
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    height = fig.get_figheight()
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.5, 0.05 / height), ncol=3, frameon=False)
    top = plots.title(
        fig,
        "How much of the freed memory does each configuration keep, and does it come back?",
        f"{planned.workload}, N = {format_size(planned.size)} · sorted by what is kept after settle · {plots.reps_text(rs)}",
    )
    fig.tight_layout(rect=(0, 0.4 / height, 1, top))
    return fig


def rates_figure(report, style, planned):
    results = report.results
    """Insert, lookup, clear per configuration: one row of panels per kind, each with its own scale."""
    everything = summary.select(results, planned.workload, planned.size)
    groups = summary.by_kind([r for r in everything if r.ok])
    phases = [("insert_rate", "insert"), ("lookup_rate", "lookup"), ("clear_rate", "clear")]
    heights = [max(len(m), 1) for m in groups.values()]
    fig, axes = plt.subplots(
        len(groups),
        3,
        figsize=(12, 1.6 + 0.36 * sum(heights) + 0.5 * len(groups)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for row, (kind, members) in enumerate(groups.items()):
        members = sorted(members, key=lambda r: -(r.median("insert_rate") or 0.0))
        for col, (key, title) in enumerate(phases):
            ax = axes[row][col]
            values = [r.median(key) for r in members]
            top = max((v for v in values if v is not None), default=1.0) / 1e6
            for i, r in enumerate(members):
                v = r.median(key)
                if v is None:
                    seconds = r.median(key.replace("_rate", "_seconds"))
                    ax.text(
                        0,
                        i,
                        f" constant time: {seconds * 1e6:.1f} µs" if seconds is not None else " no data",
                        va="center",
                        fontsize=7.5,
                        color="0.35",
                    )
                    continue
                lo, hi = plots.whiskers(r.spread(key), v / 1e6, 1e-6)
                ax.barh(i, v / 1e6, color=style.color(r.configuration), height=0.7)
                if lo or hi:
                    ax.errorbar(v / 1e6, i, xerr=[[lo], [hi]], fmt="none", ecolor="0.15", elinewidth=0.8, capsize=2)
                ax.text(v / 1e6 + hi + top * 0.02, i, f"{v / 1e6:.2f}", va="center", fontsize=7)
            ax.set_xlim(0, top * 1.3)
            ax.set_yticks(
                range(len(members)), [r.configuration for r in members] if col == 0 else [""] * len(members), fontsize=8
            )
            ax.set_ylim(len(members) - 0.5, -0.5)
            if row == 0:
                ax.set_title(f"{title} rate (million items/s)", fontsize=10)
            if col == 0:
                ax.set_ylabel(kind, fontsize=9, fontweight="bold")
            ax.grid(axis="x", color="0.9")
            ax.set_axisbelow(True)
    failed = [r.configuration for r in everything if not r.ok]
    if failed:
        fig.text(0.99, 0.005, "not shown (failed): " + ", ".join(failed), ha="right", va="bottom", fontsize=8, color="0.4")
    top = plots.title(
        fig,
        "What does each configuration cost in speed? (longer bars are faster; compare within a row)",
        f"{planned.workload}, N = {format_size(planned.size)} · raw rates · {plots.reps_text(everything)}",
    )
    fig.tight_layout(rect=(0, 0.02, 1, top))
    return fig


def tradeoff_figure(report, style, planned):
    run, results = report.run, report.results
    """Insert rate vs MB kept after settle, one panel per like-for-like group; Pareto set marked."""
    everything = summary.select(results, planned.workload, planned.size)
    groups = {k: v for k, v in summary.by_kind([r for r in everything if r.ok]).items() if k != "different container"}
    settle = summary.settle_label(run.suite)
    fig, axes = plt.subplots(1, len(groups), figsize=(6.5 * len(groups), 6.2), squeeze=False)
    labels = {}
    for ax, (kind, members) in zip(axes[0], groups.items()):
        rs = [r for r in members if r.median("insert_rate") is not None and r.median("kept_mb_final") is not None]
        key = summary.rate_key(rs, "insert_rate")  # the rate the Pareto set is judged on, and drawn at
        front = summary.pareto_front(rs)
        for r in rs:
            x, y = r.median("kept_mb_final"), r.median(key) / 1e6
            ylo, yhi = plots.whiskers(r.spread(key), y, 1e-6)
            on_front = r in front
            ax.errorbar(x, y, yerr=[[ylo], [yhi]], fmt="none", ecolor=style.color(r.configuration), alpha=0.6, elinewidth=0.9)
            ax.plot(
                x,
                y,
                linestyle="none",
                marker=style.marker(r.configuration),
                markersize=9 if on_front else 7,
                color=style.color(r.configuration),
                markeredgecolor="0.1" if on_front else "white",
                zorder=3,
            )
            labels.setdefault(id(ax), (ax, []))[1].append((x, y, r.configuration, "bold" if on_front else "normal"))
        if len(front) > 1:
            ax.plot(
                [r.median("kept_mb_final") for r in front],
                [r.median(key) / 1e6 for r in front],
                color="0.2",
                linestyle="--",
                linewidth=1,
                zorder=2,
                label="Pareto set: none both faster and keeping less",
            )
            ax.legend(loc="lower right", frameon=False, fontsize=8)
        xs = [r.median("kept_mb_final") for r in rs] or [0.0]
        pad = (max(xs) - min(min(xs), 0.0)) * 0.08 + 1
        ax.set_xlim(min(min(xs), 0.0) - pad, max(xs) + pad * 3)
        ax.set_title(kind + " configurations", fontsize=10)
        ax.set_xlabel(f"RSS kept above baseline after settle{f' ({settle})' if settle else ''} (MB) — lower is better")
        ax.set_ylabel(
            "insert rate (million items/s" + (", speed-scaled" if key != "insert_rate" else "") + ") — higher is better"
        )
        ax.grid(color="0.9")
        ax.set_axisbelow(True)
    top = plots.title(
        fig,
        "Which configuration is fast and also gives its memory back? (better: up and to the left)",
        f"{planned.workload}, N = {format_size(planned.size)} · like for like · Pareto set on medians · {plots.reps_text(everything)}",
    )
    fig.tight_layout(rect=(0, 0, 1, top))
    for ax, items in labels.values():
        plots.place_labels(ax, items)
    return fig


def timeline_figure(report, style, planned):
    run, results = report.run, report.results
    """RSS above baseline over the settle period (log time axis): one panel per allocator family, a
    colour per configuration and a line style per settle mode (idle, each busy pattern)."""
    suite = run.suite
    modes = plots.modes(suite, planned.workload)
    lines = []
    for w in planned.workload:
        size = summary.sizes(results, w)[-1]
        lines += [(w, r) for r in summary.select(results, w, size) if len(r.timeline) >= 2]
    families = list(dict.fromkeys(r.config.family for _, r in lines if r.config is not None))
    rows, columns = plots.grid(len(families), 2)
    fig, axes = plt.subplots(rows, columns, figsize=(14 if columns > 1 else 10, 3.3 * rows + 1.4), squeeze=False, sharex=True)
    right = max((t for _, r in lines for t, _ in r.timeline), default=1.0) * 1.2
    for i, family in enumerate(families):
        ax = axes[i // columns][i % columns]
        members = [(w, r) for w, r in lines if r.config is not None and r.config.family == family]
        for w, r in members:
            ts = [max(t, 5e-4) for t, _ in r.timeline]  # t = 0 drawn at the axis' left edge
            ax.plot(
                ts,
                [mb for _, mb in r.timeline],
                color=style.color(r.configuration),
                linestyle=plots.MODE_LINES[modes[w][1] % len(plots.MODE_LINES)],
                linewidth=1.4,
            )
        ax.set_xscale("log")
        ax.set_xlim(5e-4, right)
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
        ax.grid(color="0.92")
        ax.set_axisbelow(True)
        ax.set_title(family, fontsize=10)
        ax.set_ylabel("MB above baseline", fontsize=9)
        names = list(dict.fromkeys(r.configuration for _, r in members))
        handles = [plt.Line2D([], [], color=style.color(n), linewidth=2) for n in names]
        ax.legend(handles, names, loc="best", fontsize=7, frameon=False)
        if i // columns == rows - 1 or i + columns >= len(families):
            ax.set_xlabel(summary.time_zero_axis(suite) + " (log scale)")
            ax.xaxis.set_tick_params(labelbottom=True)
    plots.hide_unused(axes, len(families))
    mode_handles = [
        plt.Line2D([], [], color="0.2", linestyle=plots.MODE_LINES[k % len(plots.MODE_LINES)]) for _, k in modes.values()
    ]
    mode_labels = [f"{mode} ({w})" for w, (mode, _) in modes.items()]
    height = fig.get_figheight()
    fig.legend(mode_handles, mode_labels, loc="lower center", ncol=min(len(modes), 4), frameon=False, fontsize=8.5)
    top = plots.title(
        fig,
        "How long does each allocator hold on to freed memory, idle or kept busy?",
        "RSS above the baseline at the settle period's samples (earlier ones at the left edge) · median over repetitions · "
        "colour: configuration, line style: how the process spends its settle period",
    )
    fig.tight_layout(rect=(0, 0.35 / height, 1, top))
    return fig


def breakdown_figure(report, style, planned):
    results = report.results
    """Per configuration, stacked: the process's anonymous memory in 4 KiB pages, in huge pages,
    lazily freed, other resident bytes — after clear and at the end. Anonymous, not private dirty:
    the shared key table counts as private dirty whenever the child happens to be its only mapper."""
    rs = [
        r
        for r in summary.by_retention(summary.select(results, planned.workload, planned.size))
        if r.ok and r.median("anonymous_cleared") is not None
    ]
    parts = [
        ("anonymous memory in 4 KiB pages", "#b2182b"),
        ("transparent huge pages", "#762a83"),
        ("lazily freed (MADV_FREE), still counted", "#f4a582"),
        ("other resident (binary, libraries, key table)", "#bababa"),
    ]
    n = len(rs)
    fig, ax = plt.subplots(figsize=(10, 2.0 + 0.55 * n))
    for i, r in enumerate(rs):
        for k, point in enumerate(("cleared", "final")):
            y = i + (k - 0.5) * 0.38
            total = r.median(f"smaps_rss_{point}") or 0.0
            huge = r.median(f"anon_huge_{point}") or 0.0
            lazy = r.median(f"lazyfree_{point}") or 0.0
            # LazyFree and AnonHugePages are parts of Anonymous.
            dirty = max((r.median(f"anonymous_{point}") or 0.0) - huge - lazy, 0.0)
            other = max(total - dirty - huge - lazy, 0.0)
            left = 0.0
            for (label, color), value in zip(parts, (dirty, huge, lazy, other)):
                ax.barh(y, value / 1e6, left=left, height=0.34, color=color, label=label if i == 0 and k == 0 else None)
                left += value / 1e6
            ax.text(
                left + 2,
                y,
                f"{'after clear' if point == 'cleared' else 'at the end'}: {total / 1e6:,.0f} MB",
                va="center",
                fontsize=7,
            )
    ax.set_yticks(range(n), [r.configuration for r in rs], fontsize=8)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlabel("resident MB of the whole process (smaps_rollup)")
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    top = plots.title(
        fig,
        "Where are the resident bytes after clear() and at the end?",
        f"{planned.workload}, N = {format_size(planned.size)} · upper bar: right after clear(), lower: end of settle · medians",
    )
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig


def cost_figure(report, style, planned):
    run, results = report.run, report.results
    """Each knob: memory kept at the end against its round-2 insert rate relative to its base."""
    rs = summary.select(results, planned.workload, planned.size)
    found = [c for c in summary.costs(rs) if 2 in c.insert]
    fig, ax = plt.subplots(figsize=(10, 6.2))
    labels = []
    for c in found:
        comparison = c.insert[2]
        x, y = comparison.change_pct, c.kept_final_mb
        differs = comparison.verdict == stats.DIFFERS
        judged = comparison.verdict != stats.NO_VERDICT
        ax.plot(
            x,
            y,
            linestyle="none",
            marker=style.marker(c.knob.configuration),
            markersize=9,
            color=style.color(c.knob.configuration) if judged else "0.6",
            markerfacecolor=style.color(c.knob.configuration) if differs else "white",
            markeredgewidth=1.6,
        )
        labels.append((x, y, f"{c.knob.configuration} (vs {c.base.configuration})", "normal"))
    ax.axvline(0, color="0.4", linewidth=0.8)
    ax.set_xlabel(
        "round-2 insert rate against the base configuration (%, speed-scaled); filled: beyond the noise and the run's controls, "
        "hollow: not shown, grey: one run"
    )
    ax.set_ylabel("RSS kept above baseline at the end (MB)")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+g} %"))
    ax.grid(color="0.9")
    ax.set_axisbelow(True)
    top = plots.title(
        fig,
        "What does giving memory back cost the next round? (better: down and to the right)",
        f"cycle, N = {format_size(planned.size)} · {run.suite.rounds} rounds, {format_offset(run.suite.pause_seconds)} pause · "
        "each knob against its own library's defaults",
    )
    fig.tight_layout(rect=(0, 0, 1, top))
    plots.place_labels(ax, labels)
    return fig


def scaling_figure(report, style, planned):
    results = report.results
    """Insert rate, bytes per entry and MB kept after settle against N, per configuration."""
    rs = [r for r in summary.select(results, planned.workload) if r.ok and isinstance(r.size, int)]
    configurations = list(dict.fromkeys(r.configuration for r in rs))
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.6))
    panels = [
        ("insert_rate", "insert rate (million items/s)", 1e-6),
        ("bytes_per_entry", "RSS growth per entry (bytes)", 1.0),
        ("kept_mb_final", "RSS kept above baseline after settle (MB)", 1.0),
    ]
    for ax, (key, label, scale) in zip(axes, panels):
        for name in configurations:
            points = sorted(((r.size, r.median(key)) for r in rs if r.configuration == name and r.median(key) is not None))
            if not points:
                continue
            ax.plot(
                [n for n, _ in points],
                [v * scale for _, v in points],
                color=style.color(name),
                marker=style.marker(name),
                linestyle=style.linestyle(name),
                linewidth=1.4,
                markersize=5,
                label=name,
            )
        sizes_seen = sorted({r.size for r in rs})
        ax.set_xscale("log")
        ax.set_xticks(sizes_seen, [format_size(s) for s in sizes_seen], rotation=30, fontsize=7)
        ax.minorticks_off()
        ax.set_xlabel("N, entries (log scale)")
        ax.set_ylabel(label)
        ax.grid(color="0.9")
        ax.set_axisbelow(True)
    axes[2].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=7.5)
    top = plots.title(
        fig,
        "How do speed and bytes per entry change with the size of the map?",
        f"{planned.workload} · medians per N · {plots.reps_text(rs)}",
    )
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig
