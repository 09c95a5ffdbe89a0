"""What every figure of scripts/plot.py is drawn with: the style of a configuration, titles, label placement,
panel grids; and render(), which draws a report's plan. The figures themselves belong to the sections that
embed them (benchlib/sections/); each answers one question in its title, so it reads on its own, and renders
what the analysis decided (groups, intervals, Pareto sets, costs); it judges nothing itself.

Medians over repetitions; whiskers are the median's interval (stats.py: the 95 % confidence
interval, or the range below 6 repetitions). A configuration keeps one colour and marker in every
figure of a run. Like-for-like: speed is shown per kind (allocator, container allocator, different
container), each panel with its own scale, so that every bar stays readable.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.text import Text  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from . import mdformat as fmt  # noqa: E402

FORMATS = ("png", "svg")
# What savefig would write about when and by what a figure was drawn: left out, so that a figure drawn again
# from the same run is the same file (scripts/regenerate.py --check compares them). SVG ids come from
# svg.hashsalt below, not from a random seed.
_NO_PROVENANCE = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}

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
        "svg.hashsalt": "benchlib",  # stable SVG ids, so that a figure drawn again is the same file
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


def whiskers(spread, center, scale=1.0):
    """(below, above) distances from center to the ends of the median's interval."""
    if spread is None or spread.n < 2:
        return 0.0, 0.0
    low, high, _ = spread.interval
    return max(center - low * scale, 0.0), max(high * scale - center, 0.0)


def reps_text(results):
    counts = sorted({r.repetitions for r in results if r.ok})
    if not counts:
        return "no successful runs"
    if counts == [1]:
        return "1 run each (no interval)"
    return f"median of {fmt.span(counts)} runs, whiskers: the median's interval"


def plain(text):
    """Text from the run (a command line, a name) as matplotlib prints it: a '$' would start math mode."""
    return str(text).replace("$", r"\$")


def title(fig, question, detail):
    """A bold title that states the question, with what was measured on a smaller second line.
    Returns the top of the area left for the axes, as a figure fraction for tight_layout(rect=...)."""
    height = fig.get_figheight()
    fig.text(0.5, 1 - 0.10 / height, plain(question), ha="center", va="top", fontsize=11.5, fontweight="bold")
    fig.text(0.5, 1 - 0.36 / height, plain(detail), ha="center", va="top", fontsize=8.5, color="0.25")
    return 1 - 0.58 / height


def overlaps(box, others, pad=1.0):
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
            if fits and not overlaps(box, placed) and not overlaps(box, [m for m in markers if m is not marker]):
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


def note_missing(ax, names, what):
    if names:
        ax.text(
            0.99, 0.02, f"{what}: " + ", ".join(names), transform=ax.transAxes, ha="right", va="bottom", fontsize=8, color="0.4"
        )


MODE_LINES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))
MODE_MARKERS = ("o", "s", "^", "D", "v", "P")


def modes(suite, workloads):
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


def grid(n, columns):
    columns = min(columns, n)
    return (n + columns - 1) // columns, columns


def hide_unused(axes, used):
    """Hides the panels of a _grid after its first `used` (a grid is filled row by row)."""
    for ax in list(axes.flat)[used:]:
        ax.set_visible(False)


def render(report):
    """Yield (PlannedPlot, Figure) for every figure of report.plan (section.Report), each drawn by its planned
    function; the caller saves each figure, which is closed when the next one is asked for."""
    style = Style(r.configuration for r in report.results)
    for planned in report.plan:
        fig = planned.draw(report, style, planned)
        try:
            yield planned, fig
        finally:
            plt.close(fig)


def save(fig, fileobj, fmt):
    """Write a figure in one of FORMATS, the same bytes every time it is drawn from the same run."""
    fig.savefig(fileobj, format=fmt, metadata=_NO_PROVENANCE[fmt])
