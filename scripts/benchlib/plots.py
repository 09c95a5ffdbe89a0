"""The figures of scripts/plot.py. Each answers one question in its title, so it reads on its own.

Every figure is drawn from summary.ConfigResult medians over repetitions, with whiskers min-max where
a configuration has more than one repetition. A configuration keeps one colour and marker in every
figure of a run. summary.plan_plots decides which figures a run supports and their file names.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.ticker import FuncFormatter  # noqa: E402

from . import summary  # noqa: E402
from .gbjson import format_offset  # noqa: E402
from .summary import GIVES_BACK_PCT, KEEPS_PCT, format_size  # noqa: E402

FORMATS = ("png", "svg")

STAGE_COLORS = {"cleared": "#b2182b", "released": "#ef8a62", "final": "#2166ac"}
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
_LINESTYLES = ("-", "--", "-.", ":")

plt.rcParams.update({
    "figure.dpi": 100, "savefig.dpi": 120, "font.size": 9, "axes.titlesize": 10.5,
    "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "none",
    "svg.hashsalt": "benchlib",  # stable SVG ids, so regenerated plots diff cleanly
})


class Style:
    """Colour, marker and line style of each configuration, the same in every figure of a run."""

    def __init__(self, configurations):
        cmap = plt.get_cmap("tab20")
        # tab20 comes in dark/light pairs: all dark shades first keeps neighbours distinguishable.
        colors = [cmap(i) for i in range(0, 20, 2)] + [cmap(i) for i in range(1, 20, 2)]
        self._style = {}
        for i, name in enumerate(dict.fromkeys(configurations)):
            self._style[name] = (colors[i % 20], _MARKERS[i % len(_MARKERS)],
                                 _LINESTYLES[(i // len(_MARKERS)) % len(_LINESTYLES)])

    def color(self, name):
        return self._style.get(name, ("0.3", "o", "-"))[0]

    def marker(self, name):
        return self._style.get(name, ("0.3", "o", "-"))[1]

    def linestyle(self, name):
        return self._style.get(name, ("0.3", "o", "-"))[2]


def _whiskers(spread, center):
    """(below, above) distances for an errorbar from center to the min and max of the repetitions."""
    if spread is None or spread.n < 2:
        return 0.0, 0.0
    return max(center - spread.low, 0.0), max(spread.high - center, 0.0)


def _reps_text(results, whiskers=True):
    counts = sorted({r.repetitions for r in results if r.ok})
    if not counts:
        return "no successful runs"
    if counts == [1]:
        return "1 run each (no spread)"
    reps = str(counts[-1]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    return f"median of {reps} runs" + (", whiskers min–max" if whiskers else "")


def _title(fig, question, detail):
    """A bold title that states the question, with what was measured on a smaller second line.

    Returns the top of the area left for the axes, as a figure fraction for tight_layout(rect=...).
    Positions are fixed in inches so short and tall figures look alike.
    """
    height = fig.get_figheight()
    fig.text(0.5, 1 - 0.10 / height, question, ha="center", va="top", fontsize=11.5, fontweight="bold")
    fig.text(0.5, 1 - 0.36 / height, detail, ha="center", va="top", fontsize=8.5, color="0.25")
    return 1 - 0.58 / height


def _note_missing(ax, names, what):
    """Say in the corner which configurations a figure leaves out, so absence is not misread."""
    if names:
        ax.text(0.99, 0.02, f"{what}: " + ", ".join(names), transform=ax.transAxes, ha="right",
                va="bottom", fontsize=8, color="0.4")


def retention(results, context, style, workload, size):
    """Grouped horizontal bars: % of the peak growth still resident after clear, release and settle."""
    rs = summary.by_retention(summary.select(results, workload, size))
    settle = summary.settle_label(context, rs)
    stages = [(s, summary.STAGE_TITLES[s] + (f" ({settle})" if s == "final" and settle else ""))
              for s in summary.STAGES]
    n = len(rs)
    fig, ax = plt.subplots(figsize=(10, 2.2 + 0.62 * n))
    bar = 0.27  # bar thickness, in rows
    max_x = 100.0
    for k, (stage, stage_title) in enumerate(stages):
        labelled = False
        for i, r in enumerate(rs):
            pct = r.spread(f"kept_pct_{stage}")
            y = i + (k - 1) * bar
            if pct is None:
                if r.ok:
                    ax.text(1.0, y, "not measured", va="center", fontsize=7, color="0.5")
                continue
            lo, hi = _whiskers(pct, pct.median)
            ax.barh(y, pct.median, height=bar * 0.92, color=STAGE_COLORS[stage],
                    label=None if labelled else stage_title)
            labelled = True
            if lo or hi:
                ax.errorbar(pct.median, y, xerr=[[lo], [hi]], fmt="none", ecolor="0.15", elinewidth=0.8,
                            capsize=2)
            mb = r.median(f"kept_mb_{stage}")
            end = max(pct.median + hi, 0.0)
            max_x = max(max_x, end)
            if mb is not None:
                ax.text(end + 1.5, y, f"{mb:,.1f} MB", va="center", ha="left", fontsize=7.5, color="0.2")
    for i, r in enumerate(rs):
        if not r.ok:
            message = r.errors[0][1] if r.errors else "no data"
            ax.text(1.0, i, f"failed: {message}", va="center", ha="left", fontsize=8, color="#b2182b",
                    style="italic")
    labels = []
    for r in rs:
        growth = r.median("growth_mb")
        extra = f"\npeak +{growth:,.0f} MB" if growth is not None else ""
        if r.ok and r.errors:
            extra += f", {len(r.errors)} run{'s' if len(r.errors) > 1 else ''} failed"
        labels.append(f"{r.configuration}{extra}")
    ax.set_yticks(range(n), labels)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(min(0.0, min((r.median(f"kept_pct_{s}") or 0.0 for r in rs for s in summary.STAGES),
                             default=0.0) - 2), max_x * 1.13 + 6)
    for x, text in ((GIVES_BACK_PCT, f"≤ {GIVES_BACK_PCT:g} %: gives back"),
                    (KEEPS_PCT, f"≥ {KEEPS_PCT:g} %: keeps")):
        ax.axvline(x, color="0.55", linestyle=":", linewidth=1)
        ax.text(x, -0.5, text + " ", rotation=0, ha="right" if x == KEEPS_PCT else "left",
                va="bottom", fontsize=7.5, color="0.4")
    ax.axvline(100, color="0.3", linewidth=0.8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g} %"))
    ax.set_xlabel("RSS above the process baseline, in % of the peak growth: "
                  "(rss − rss_base) / (rss_peak − rss_base); bar labels: the same in MB")
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    height = fig.get_figheight()
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.5, 0.08 / height),
               ncol=3, frameon=False)
    top = _title(fig, "How much of the freed memory does each allocator keep, and does it come back?",
                 f"{workload}, N = {format_size(size)} entries · sorted by what is kept after settle · "
                 f"{_reps_text(rs)}")
    fig.tight_layout(rect=(0, 0.4 / height, 1, top))
    return fig


def timeline(results, context, style, workload, size):
    """RSS above baseline at each rss_at_* offset, one line per configuration."""
    everything = summary.select(results, workload, size)
    rs = [r for r in everything if len(r.timeline()) >= 1]
    rs.sort(key=lambda r: (-(r.timeline()[-1][1]), r.configuration))
    unsampled = [r.configuration for r in everything if not r.timeline()]
    fig, ax = plt.subplots(figsize=(11, 6))
    offsets = sorted({t for r in rs for t, _ in r.timeline()})
    for r in rs:
        points = r.timeline()
        xs, ys = [t for t, _ in points], [v for _, v in points]
        last_t, last_v = points[-1]
        ax.plot(xs, ys, color=style.color(r.configuration), marker=style.marker(r.configuration),
                linestyle=style.linestyle(r.configuration), linewidth=1.6, markersize=5.5,
                label=f"{r.configuration}: {last_v:,.1f} MB at {format_offset(last_t)}")
    ax.set_xscale("symlog", linthresh=0.01, linscale=0.5)
    ax.set_xticks(offsets, [format_offset(t) for t in offsets])
    ax.set_xlim(-0.001, max(offsets) * 1.15 if offsets else 1)
    ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    _note_missing(ax, unsampled, "no RSS samples")
    ax.set_xlabel("time after clear() (and after the release step, if any); "
                  "linear below 10 ms, logarithmic above")
    ax.set_ylabel("RSS above the process baseline (MB)")
    ax.grid(color="0.9")
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8,
              title="configuration: kept at the end\n(ordered by what is kept)", title_fontsize=8)
    top = _title(fig, "How long does each allocator hold on to the freed memory?",
                 f"{workload}, N = {format_size(size)} entries · RSS above baseline sampled after clear() · "
                 f"{_reps_text(rs, whiskers=False)}")
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig


def tradeoff(results, context, style, workload, size):
    """Insert rate vs MB kept after settle; the Pareto frontier marked."""
    everything = summary.select(results, workload, size)
    rs = [r for r in everything if r.median("insert_rate") is not None and r.median("kept_mb_final") is not None]
    front = summary.pareto_front(rs)
    settle = summary.settle_label(context, rs)
    fig, ax = plt.subplots(figsize=(10, 6.5))
    for r in rs:
        x, y = r.median("kept_mb_final"), r.median("insert_rate") / 1e6
        xlo, xhi = _whiskers(r.spread("kept_mb_final"), x)
        rate = r.spread("insert_rate")
        ylo, yhi = [v / 1e6 for v in _whiskers(rate, r.median("insert_rate"))]
        if xlo or xhi or ylo or yhi:
            ax.errorbar(x, y, xerr=[[xlo], [xhi]], yerr=[[ylo], [yhi]], fmt="none",
                        ecolor=style.color(r.configuration), alpha=0.6, elinewidth=0.9)
        ax.plot(x, y, linestyle="none", marker=style.marker(r.configuration), markersize=8,
                color=style.color(r.configuration), markeredgecolor="white", zorder=3)
    if front:
        fx = [r.median("kept_mb_final") for r in front]
        fy = [r.median("insert_rate") / 1e6 for r in front]
        ax.plot(fx, fy, color="0.2", linestyle="--", linewidth=1, zorder=2,
                label="Pareto frontier: no configuration is both faster and keeps less")
        ax.plot(fx, fy, linestyle="none", marker="o", markersize=15, markerfacecolor="none",
                markeredgecolor="0.1", markeredgewidth=1.4, zorder=4, label="on the frontier")
    on_front = {r.run_name for r in front}
    labels = []
    for r in rs:
        x, y = r.median("kept_mb_final"), r.median("insert_rate") / 1e6
        text = r.configuration
        labels.append(ax.annotate(
            text, (x, y), xytext=(9, 0), textcoords="offset points", va="center", fontsize=8.5,
            fontweight="bold" if r.run_name in on_front else "normal", zorder=5,
            bbox=dict(boxstyle="round,pad=0.12", facecolor="white", edgecolor="none", alpha=0.85),
            arrowprops=dict(arrowstyle="-", color="0.6", linewidth=0.6, shrinkA=0, shrinkB=5)))
    xs = [r.median("kept_mb_final") for r in rs] or [0.0]
    ys = [r.median("insert_rate") / 1e6 for r in rs] or [0.0]
    xpad = (max(xs) - min(min(xs), 0.0)) * 0.08 + 1
    ax.set_xlim(min(min(xs), 0.0) - xpad, max(xs) + xpad * 3.5)
    ypad = (max(ys) - min(ys)) * 0.15 + 0.05 * max(ys) + 1e-9
    ax.set_ylim(max(min(ys) - ypad, 0.0), max(ys) + ypad)
    _spread_labels(fig, ax, labels)
    _note_missing(ax, [r.configuration for r in everything if r not in rs], "not shown (no result)")
    ax.set_xlabel(f"RSS kept above baseline after settle{f' ({settle})' if settle else ''} (MB) — lower is better")
    ax.set_ylabel("insert rate (million items/s) — higher is better")
    ax.grid(color="0.9")
    ax.set_axisbelow(True)
    height = fig.get_figheight()
    if front:
        fig.legend(*ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.5, 0.06 / height),
                   ncol=2, frameon=False, fontsize=8.5)
    top = _title(fig, "Which allocator is fast and also gives its memory back? (better: up and to the left)",
                 f"{workload}, N = {format_size(size)} entries · insert rate vs memory kept after settle · "
                 f"{_reps_text(rs)}")
    fig.tight_layout(rect=(0, 0.4 / height if front else 0, 1, top))
    return fig


def _spread_labels(fig, ax, annotations, max_rounds=60):
    """Nudge point labels vertically until no two overlap (greedy, in display coordinates)."""
    if len(annotations) < 2:
        return
    renderer = fig.canvas.get_renderer()
    to_points = 72.0 / fig.dpi
    for _ in range(max_rounds):
        moved = False
        boxes = [a.get_window_extent(renderer) for a in annotations]
        order = sorted(range(len(annotations)), key=lambda i: -boxes[i].y0)
        for a_pos, i in enumerate(order):
            for j in order[a_pos + 1:]:
                bi, bj = boxes[i], boxes[j]
                if bi.x1 <= bj.x0 or bj.x1 <= bi.x0 or bi.y1 <= bj.y0 or bj.y1 <= bi.y0:
                    continue
                shift = (bj.y1 - bi.y0 + 1.5) * to_points / 2
                for idx, sign in ((i, 1), (j, -1)):
                    dx, dy = annotations[idx].xyann
                    annotations[idx].xyann = (dx, dy + sign * shift)
                moved = True
                break
            if moved:
                break
        if not moved:
            return


def rates(results, context, style, workload, size):
    """Three panels: insert, lookup, clear rate per configuration, whiskers min-max."""
    everything = summary.select(results, workload, size)
    rs = [r for r in everything if r.ok]
    rs.sort(key=lambda r: (-(r.median("insert_rate") or 0.0), r.configuration))
    panels = [(k, t) for k, t in (("insert_rate", "insert"), ("lookup_rate", "lookup"),
                                  ("clear_rate", "clear"))
              if any(r.median(k) is not None for r in rs)]
    n = len(rs)
    fig, axes = plt.subplots(1, len(panels), figsize=(11, 1.8 + 0.42 * n), sharey=True, squeeze=False)
    for ax, (key, title) in zip(axes[0], panels):
        values = [r.median(key) for r in rs]
        top = max((v for v in values if v is not None), default=1.0) / 1e6
        for i, r in enumerate(rs):
            v = r.median(key)
            if v is None:
                ax.text(0, i, " no data", va="center", fontsize=7.5, color="0.5")
                continue
            lo, hi = [w / 1e6 for w in _whiskers(r.spread(key), v)]
            ax.barh(i, v / 1e6, color=style.color(r.configuration), height=0.7)
            if lo or hi:
                ax.errorbar(v / 1e6, i, xerr=[[lo], [hi]], fmt="none", ecolor="0.15", elinewidth=0.8,
                            capsize=2)
            ax.text(v / 1e6 + hi + top * 0.02, i, f"{v / 1e6:.2f}", va="center", fontsize=7.5)
        ax.set_xlim(0, top * 1.25)
        ax.set_title(f"{title} rate", fontsize=10)
        ax.set_xlabel("million items/s")
        ax.grid(axis="x", color="0.9")
        ax.set_axisbelow(True)
    failed = [r.configuration for r in everything if not r.ok]
    if failed:
        fig.text(0.99, 0.01, "not shown (failed): " + ", ".join(failed), ha="right", va="bottom",
                 fontsize=8, color="0.4")
    axes[0][0].set_yticks(range(n), [r.configuration for r in rs])
    axes[0][0].set_ylim(n - 0.5, -0.5)
    top = _title(fig, "What does each configuration cost in speed? (longer bars are faster)",
                 f"{workload}, N = {format_size(size)} entries · sorted by insert rate · {_reps_text(rs)}")
    fig.tight_layout(rect=(0, 0.2 / fig.get_figheight() if failed else 0, 1, top))
    return fig


def scaling(results, context, style, workload, size=None):
    """MB kept after settle vs N (log x), and the same as % of peak growth, per configuration."""
    rs = [r for r in summary.select(results, workload) if r.median("kept_mb_final") is not None]
    configurations = list(dict.fromkeys(r.configuration for r in rs))
    settle = summary.settle_label(context, rs)
    fig, (ax_mb, ax_pct) = plt.subplots(1, 2, figsize=(12, 5.5))
    for name in configurations:
        points = sorted(((r.size, r) for r in rs if r.configuration == name and isinstance(r.size, int)),
                        key=lambda p: p[0])
        if not points:
            continue
        kw = dict(color=style.color(name), marker=style.marker(name), linestyle=style.linestyle(name),
                  linewidth=1.6, markersize=6)
        ax_mb.plot([n for n, _ in points], [r.median("kept_mb_final") for _, r in points], label=name, **kw)
        pct = [(n, r.median("kept_pct_final")) for n, r in points if r.median("kept_pct_final") is not None]
        ax_pct.plot([n for n, _ in pct], [v for _, v in pct], **kw)
    sizes_seen = sorted({r.size for r in rs if isinstance(r.size, int)})
    for ax in (ax_mb, ax_pct):
        ax.set_xscale("log")
        ax.set_xticks(sizes_seen, [format_size(s) for s in sizes_seen])
        ax.minorticks_off()
        ax.set_xlabel("N, entries in the map (log scale)")
        ax.grid(color="0.9")
        ax.set_axisbelow(True)
    ax_mb.set_ylabel(f"RSS kept above baseline after settle{f' ({settle})' if settle else ''} (MB)")
    ax_pct.set_ylabel("the same, % of the peak growth")
    ax_pct.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g} %"))
    ax_pct.set_ylim(min(0.0, ax_pct.get_ylim()[0]), max(105.0, ax_pct.get_ylim()[1]))
    fig.legend(loc="center left", bbox_to_anchor=(0.86, 0.5), frameon=False, fontsize=8)
    top = _title(fig, "Does the memory kept grow with the map?",
                 f"{workload} · kept after settle for each N · {_reps_text(rs, whiskers=False)}; "
                 "failed runs missing")
    fig.tight_layout(rect=(0, 0, 0.86, top))
    return fig


DRAW = {"retention": retention, "timeline": timeline, "tradeoff": tradeoff, "rates": rates,
        "scaling": scaling}


def render(run, results, plan):
    """Yield (PlannedPlot, Figure) for every planned plot; the caller saves and closes each figure."""
    style = Style(r.configuration for r in results)
    for planned in plan:
        fig = DRAW[planned.kind](results, run.context, style, planned.workload, planned.size)
        try:
            yield planned, fig
        finally:
            plt.close(fig)
