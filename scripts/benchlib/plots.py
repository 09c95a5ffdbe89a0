"""The figures of scripts/plot.py. Each answers one question in its title, so it reads on its own, and
renders what summary.py decided (groups, intervals, Pareto sets, costs); it judges nothing itself.

Medians over repetitions; whiskers are the median's interval (stats.py: the 95 % confidence
interval, or the range below 6 repetitions). A configuration keeps one colour and marker in every
figure of a run. Like-for-like: speed is shown per kind (allocator, container allocator, different
container), each panel with its own scale, so that every bar stays readable.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.text import Text  # noqa: E402
from matplotlib.transforms import Bbox, ScaledTranslation  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from . import mdformat as fmt  # noqa: E402
from . import stats, summary  # noqa: E402
from .gbjson import format_offset  # noqa: E402
from .summary import GIVES_BACK_PCT, KEEPS_PCT, format_size  # noqa: E402

FORMATS = ("png", "svg")

STAGE_COLORS = {"cleared": "#b2182b", "released": "#ef8a62", "final": "#2166ac"}
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
_LINESTYLES = ("-", "--", "-.", ":")

plt.rcParams.update(
    {
        "figure.dpi": 100,
        "savefig.dpi": 110,
        "font.size": 9,
        "axes.titlesize": 10.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.fonttype": "none",
        "svg.hashsalt": "benchlib",  # stable SVG ids, so regenerated plots diff cleanly
    }
)


class Style:
    """Colour, marker and line style of each configuration, the same in every figure of a run."""

    def __init__(self, configurations):
        cmap = plt.get_cmap("tab20")
        colors = [cmap(i) for i in range(0, 20, 2)] + [cmap(i) for i in range(1, 20, 2)]
        self._style = {}
        for i, name in enumerate(dict.fromkeys(configurations)):
            self._style[name] = (
                colors[i % 20],
                _MARKERS[i % len(_MARKERS)],
                _LINESTYLES[(i // len(_MARKERS)) % len(_LINESTYLES)],
            )

    def color(self, name):
        return self._style.get(name, ("0.3", "o", "-"))[0]

    def marker(self, name):
        return self._style.get(name, ("0.3", "o", "-"))[1]

    def linestyle(self, name):
        return self._style.get(name, ("0.3", "o", "-"))[2]


def family_colors(suite):
    """{family: colour} (description.Configuration.family: the malloc library, or the kind for the others), in
    the description's order of configurations: what figures with many configurations colour by."""
    cmap = plt.get_cmap("tab10")
    families = list(dict.fromkeys(c.family for c in suite.configurations.values()))
    return {f: cmap(i % 10) for i, f in enumerate(families)}


def _whiskers(spread, center, scale=1.0):
    """(below, above) distances from center to the ends of the median's interval."""
    if spread is None or spread.n < 2:
        return 0.0, 0.0
    low, high, _ = spread.interval
    return max(center - low * scale, 0.0), max(high * scale - center, 0.0)


def _reps_text(results):
    counts = sorted({r.repetitions for r in results if r.ok})
    if not counts:
        return "no successful runs"
    if counts == [1]:
        return "1 run each (no interval)"
    return f"median of {fmt.span(counts)} runs, whiskers: the median's interval"


def plain(text):
    """Text from the run (a command line, a name) as matplotlib prints it: a '$' would start math mode."""
    return str(text).replace("$", r"\$")


def _title(fig, question, detail):
    """A bold title that states the question, with what was measured on a smaller second line.
    Returns the top of the area left for the axes, as a figure fraction for tight_layout(rect=...)."""
    height = fig.get_figheight()
    fig.text(0.5, 1 - 0.10 / height, plain(question), ha="center", va="top", fontsize=11.5, fontweight="bold")
    fig.text(0.5, 1 - 0.36 / height, plain(detail), ha="center", va="top", fontsize=8.5, color="0.25")
    return 1 - 0.58 / height


def _overlaps(box, others, pad=1.0):
    return any(box.x0 < o.x1 + pad and o.x0 < box.x1 + pad and box.y0 < o.y1 + pad and o.y0 < box.y1 + pad for o in others)


# Where a label may go relative to its point (points), nearest first: right, left, above, below, then
# the same directions further out; labels that move beyond the first ring get a leader line.
_LABEL_OFFSETS = [
    (dx * ring, dy * ring)
    for ring in (1, 2, 3, 4)
    for dx, dy in ((7, 3), (-7, 3), (7, -10), (-7, -10), (0, 9), (0, -15), (10, 12), (-10, 12), (10, -18), (-10, -18))
] + [(sign * dx, dy) for dx in (40, 70, 100, 130) for dy in (0, 12, -12, 24, -24, 36, -36, 48, -48, 60, -60) for sign in (1, -1)]


def place_labels(ax, labels, fontsize=8):
    """Label points without overlaps: labels = [(x, y, text, weight)]. Call after the axes' limits and
    the figure's layout are final. Deterministic: each label, in the given order, takes the first
    offset of _LABEL_OFFSETS whose box overlaps no placed label, no marker and stays inside the axes."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    markers = []
    for x, y, _, _ in labels:
        px, py = ax.transData.transform((x, y))
        markers.append(Bbox.from_extents(px - 5, py - 5, px + 5, py + 5))
    placed = []
    for (x, y, text, weight), marker in zip(labels, markers):
        chosen = None
        for dx, dy in _LABEL_OFFSETS:
            far = abs(dx) > 10 or abs(dy) > 15
            annotation = ax.annotate(
                plain(text),
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha="left" if dx > 0 else ("right" if dx < 0 else "center"),
                fontsize=fontsize,
                fontweight=weight,
                arrowprops={"arrowstyle": "-", "color": "0.6", "linewidth": 0.6, "shrinkA": 0, "shrinkB": 4} if far else None,
            )
            annotation.update_positions(renderer)  # where the text goes; then its box alone, not its leader line
            box = Text.get_window_extent(annotation, renderer)
            fits = box.x0 >= inside.x0 and box.x1 <= inside.x1 and box.y0 >= inside.y0 and box.y1 <= inside.y1
            if fits and not _overlaps(box, placed) and not _overlaps(box, [m for m in markers if m is not marker]):
                chosen = box
                break
            annotation.remove()
        if chosen is None:  # nowhere free: the nearest place, overlapping
            annotation = ax.annotate(
                plain(text), (x, y), xytext=(7, 3), textcoords="offset points", fontsize=fontsize, fontweight=weight
            )
            annotation.update_positions(renderer)
            chosen = Text.get_window_extent(annotation, renderer)
        placed.append(chosen)


def _note_missing(ax, names, what):
    if names:
        ax.text(
            0.99, 0.02, f"{what}: " + ", ".join(names), transform=ax.transAxes, ha="right", va="bottom", fontsize=8, color="0.4"
        )


def retention(run, results, style, planned):
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
            lo, hi = _whiskers(pct, pct.median)
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
    top = _title(
        fig,
        "How much of the freed memory does each configuration keep, and does it come back?",
        f"{planned.workload}, N = {format_size(planned.size)} · sorted by what is kept after settle · {_reps_text(rs)}",
    )
    fig.tight_layout(rect=(0, 0.4 / height, 1, top))
    return fig


def rates(run, results, style, planned):
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
                lo, hi = _whiskers(r.spread(key), v / 1e6, 1e-6)
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
    top = _title(
        fig,
        "What does each configuration cost in speed? (longer bars are faster; compare within a row)",
        f"{planned.workload}, N = {format_size(planned.size)} · raw rates · {_reps_text(everything)}",
    )
    fig.tight_layout(rect=(0, 0.02, 1, top))
    return fig


def tradeoff(run, results, style, planned):
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
            ylo, yhi = _whiskers(r.spread(key), y, 1e-6)
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
    top = _title(
        fig,
        "Which configuration is fast and also gives its memory back? (better: up and to the left)",
        f"{planned.workload}, N = {format_size(planned.size)} · like for like · Pareto set on medians · {_reps_text(everything)}",
    )
    fig.tight_layout(rect=(0, 0, 1, top))
    for ax, items in labels.values():
        place_labels(ax, items)
    return fig


_MODE_LINES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))
_MODE_MARKERS = ("o", "s", "^", "D", "v", "P")


def _modes(suite, workloads):
    """{workload: (mode label, index)}: "idle" or the busy pattern (description), one line style and
    marker per index; a label that repeats gets its workload's name."""
    out, seen = {}, set()
    for w in workloads:
        info = suite.workloads.get(w)
        mode = info.mode if info is not None else w
        if mode in seen:
            mode = w
        seen.add(mode)
        out[w] = (mode, len(out))
    return out


def _grid(n, columns):
    columns = min(columns, n)
    return (n + columns - 1) // columns, columns


def _hide_unused(axes, used):
    """Hides the panels of a _grid after its first `used` (a grid is filled row by row)."""
    for ax in list(axes.flat)[used:]:
        ax.set_visible(False)


def timeline(run, results, style, planned):
    """RSS above baseline over the settle period (log time axis): one panel per allocator family, a
    colour per configuration and a line style per settle mode (idle, each busy pattern)."""
    from .busy import time_zero_axis  # busy reads summary at call time; imported with the figure

    suite = run.suite
    modes = _modes(suite, planned.workload)
    lines = []
    for w in planned.workload:
        size = summary.sizes(results, w)[-1]
        lines += [(w, r) for r in summary.select(results, w, size) if len(r.timeline) >= 2]
    families = list(dict.fromkeys(r.config.family for _, r in lines if r.config is not None))
    rows, columns = _grid(len(families), 2)
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
                linestyle=_MODE_LINES[modes[w][1] % len(_MODE_LINES)],
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
            ax.set_xlabel(time_zero_axis(suite) + " (log scale)")
            ax.xaxis.set_tick_params(labelbottom=True)
    _hide_unused(axes, len(families))
    mode_handles = [plt.Line2D([], [], color="0.2", linestyle=_MODE_LINES[k % len(_MODE_LINES)]) for _, k in modes.values()]
    mode_labels = [f"{mode} ({w})" for w, (mode, _) in modes.items()]
    height = fig.get_figheight()
    fig.legend(mode_handles, mode_labels, loc="lower center", ncol=min(len(modes), 4), frameon=False, fontsize=8.5)
    top = _title(
        fig,
        "How long does each allocator hold on to freed memory, idle or kept busy?",
        "RSS above the baseline at the settle period's samples (earlier ones at the left edge) · median over repetitions · "
        "colour: configuration, line style: how the process spends its settle period",
    )
    fig.tight_layout(rect=(0, 0.35 / height, 1, top))
    return fig


def knobs(run, results, style, planned):
    """Per library: each configuration's seconds until 90 % is back (idle and each busy pattern)
    against the minor faults a round after round 1 pays in cycle."""
    from . import busy as busy_analysis

    suite = run.suite
    busy = busy_analysis.busy_run(results, suite)
    libs = []
    for lib, names in busy_analysis.libraries(busy, suite):
        drawn = [n for n in names if busy_analysis.refill_faults(busy, n) is not None]
        if len(drawn) >= 2:
            libs.append((lib, drawn, [n for n in names if n not in drawn]))
    rows, columns = _grid(len(libs), 3)
    fig, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 4.4 * rows + 1.5), squeeze=False)
    settle = suite.settle_seconds or max(
        (v for per in busy.rows.values() for r in per.values() if (v := r.median("return_90pct")) and v != float("inf")),
        default=1.0,
    )
    never_y, floor = settle * 3, 1e-3
    mode_index = {m: k for k, (m, _) in enumerate(busy.modes)}
    for i, (lib, names, missing) in enumerate(libs):
        ax = axes[i // columns][i % columns]
        for name in names:
            x = busy_analysis.refill_faults(busy, name)
            for m, _ in busy.modes:
                v = busy_analysis.back_90(busy, name, m)
                if v is None:
                    continue
                k = mode_index[m]
                # Side by side, 5 points apart, so that modes with the same time stay visible.
                shift = ScaledTranslation((k - (len(busy.modes) - 1) / 2) * 5 / 72, 0, fig.dpi_scale_trans)
                ax.plot(
                    x,
                    never_y if v == float("inf") else max(v, floor),
                    linestyle="none",
                    marker=_MODE_MARKERS[k % len(_MODE_MARKERS)],
                    markersize=7,
                    color=style.color(name),
                    markerfacecolor="none" if m == "idle" else style.color(name),
                    markeredgewidth=1.5,
                    zorder=3,
                    transform=ax.transData + shift,
                )
        xs = [busy_analysis.refill_faults(busy, n) for n in names]
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(-1, max(max(xs) * 3, 100))
        ax.set_yscale("log")
        ax.set_ylim(floor / 2, never_y * 2.5)
        ax.axhline(never_y, color="0.6", linestyle=":", linewidth=1)
        ax.axhline(settle, color="0.8", linewidth=0.8)
        ticks = [t for t in (1e-3, 1e-2, 0.1, 1, 10, 100) if floor <= t < settle * 0.7] + [settle, never_y]
        names_of = [("≤ 1 ms" if t == floor else format_offset(t)) for t in ticks[:-2]] + [f"{busy.settle}: end", "never"]
        ax.set_yticks(ticks, names_of)
        ax.minorticks_off()
        ax.set_title(lib, fontsize=10)
        ax.set_xlabel("cycle: minor page faults per round after round 1 (median)")
        ax.set_ylabel("time until 90 % is back (log scale)")
        ax.grid(color="0.92")
        ax.set_axisbelow(True)
        _note_missing(ax, missing, "not in cycle")
    _hide_unused(axes, len(libs))
    handles = [
        plt.Line2D(
            [],
            [],
            linestyle="none",
            marker=_MODE_MARKERS[k % len(_MODE_MARKERS)],
            color="0.3",
            markerfacecolor="none" if m == "idle" else "0.3",
        )
        for m, k in mode_index.items()
    ]
    height = fig.get_figheight()
    fig.legend(handles, [f"{m} ({w})" for m, w in busy.modes], loc="lower center", ncol=len(handles), frameon=False, fontsize=8.5)
    top = _title(
        fig,
        "What does each knob trade: memory back sooner, idle or busy, against faults in the next round?",
        f"{dict(busy.modes)['idle']} and its busy variants, N = {format_size(busy.size)}; cycle, N = {format_size(busy.cycle_size)} "
        "· medians · markers side by side · better: down and to the left",
    )
    fig.tight_layout(rect=(0, 0.35 / height, 1, top))
    for i, (lib, names, _) in enumerate(libs):
        ax = axes[i // columns][i % columns]
        items = []
        for name in names:
            ys = [busy_analysis.back_90(busy, name, m) for m, _ in busy.modes]
            ys = [never_y if v == float("inf") else max(v, floor) for v in ys if v is not None]
            if ys:
                items.append(
                    (
                        busy_analysis.refill_faults(busy, name),
                        min(ys),
                        name + (" (default)" if name == names[0] else ""),
                        "bold" if name == names[0] else "normal",
                    )
                )
        place_labels(ax, items)
    return fig


def breakdown(run, results, style, planned):
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
    top = _title(
        fig,
        "Where are the resident bytes after clear() and at the end?",
        f"{planned.workload}, N = {format_size(planned.size)} · upper bar: right after clear(), lower: end of settle · medians",
    )
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig


def cost(run, results, style, planned):
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
    top = _title(
        fig,
        "What does giving memory back cost the next round? (better: down and to the right)",
        f"cycle, N = {format_size(planned.size)} · {run.suite.rounds} rounds, {format_offset(run.suite.pause_seconds)} pause · "
        "each knob against its own library's defaults",
    )
    fig.tight_layout(rect=(0, 0, 1, top))
    place_labels(ax, labels)
    return fig


def scaling(run, results, style, planned):
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
    top = _title(
        fig,
        "How do speed and bytes per entry change with the size of the map?",
        f"{planned.workload} · medians per N · {_reps_text(rs)}",
    )
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig


def command(run, results, style, planned):
    """The program's RSS over its life under each configuration."""
    rs = [r for r in summary.select(results, "command") if r.ok and r.timeline]
    fig, ax = plt.subplots(figsize=(11, 6))
    for r in rs:
        ax.plot(
            [t for t, _ in r.timeline],
            [mb for _, mb in r.timeline],
            color=style.color(r.configuration),
            linestyle=style.linestyle(r.configuration),
            linewidth=1.5,
            label=f"{r.configuration}: peak {r.median('rss_peak') / 1e6:,.0f} MB, end {r.median('rss_end') / 1e6:,.0f} MB",
        )
    ax.set_xlabel("seconds since the program started")
    ax.set_ylabel("RSS (MB)")
    ax.grid(color="0.9")
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    argv = " ".join((run.suite.command or {}).get("argv", []))
    top = _title(
        fig,
        "How much memory does the program hold over its life, under each allocator?",
        f"{argv[:90]} · RSS sampled from outside (/proc/<pid>/smaps_rollup) · median over repetitions per sample",
    )
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig


DRAW = {
    "retention": retention,
    "rates": rates,
    "tradeoff": tradeoff,
    "timeline": timeline,
    "breakdown": breakdown,
    "cost": cost,
    "knobs": knobs,
    "scaling": scaling,
    "command": command,
}


def render(run, results, plan, timed=None):
    """Yield (PlannedPlot, Figure) for every planned plot; the caller saves and closes each figure. timed: the
    timed run an exact run's figures set beside its counts (exact_section.Timed), or None."""
    from . import exact_plots, heap_plots, program_plots  # they draw with this module's helpers: imported once loaded

    draw = {**DRAW, **program_plots.DRAW, **exact_plots.draw(timed), **heap_plots.DRAW}
    style = Style(r.configuration for r in results)
    for planned in plan:
        fig = draw[planned.kind](run, results, style, planned)
        try:
            yield planned, fig
        finally:
            plt.close(fig)
