"""The figure of a heap-map run (./bench --heap-map), drawn from heap_section.py's analysis with the helpers of
plots.py; plots.render dispatches to DRAW below. Its title states the question it answers.

heap_map.png   one panel per workload (its largest N) or scenario: for every configuration, a stacked bar of
               its resident anonymous MB by class (free, pinned, used, outside) at its last moment (a
               workload's after settle, a scenario's last phase), and, for a configuration with a release
               step, a bar right after the free phase beside it
"""

import textwrap

import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from . import heap_section
from . import mdformat as fmt
from .description import HEAP_CLASSES
from .plots import _grid, _hide_unused, _title, plain

CLASS_COLORS = {"free": "#4393c3", "pinned": "#b2182b", "used": "#878787", "outside": "#d9d9d9"}


def _bars(row):
    """[(moment, label)] drawn for a row: right after the free phase beside the end where a release step ran."""
    end = row.end()
    if end is None:
        return []
    after = row.after_free()
    if row.released() and after is not None and after != end:
        return [(after, after), (end, end)]
    return [(end, end)]


def heap_map_figure(run, results, style, planned):
    suite = run.suite
    found = heap_section.plottable(results, suite)
    n_bars = [sum(len(_bars(r)) for r in g.rows) for g in found]
    rows_of, columns = _grid(len(found), 2)
    height = max(n_bars, default=1) * 0.32 + 1.2
    fig, axes = plt.subplots(rows_of, columns, figsize=(6.6 * columns, height * rows_of + 1.8), squeeze=False)
    ends = set()
    for k, group in enumerate(found):
        ax = axes[k // columns][k % columns]
        labels, y = [], 0
        top = max(
            [sum(r.mb(m, c) or 0.0 for c in HEAP_CLASSES) for r in group.rows for m, _ in _bars(r)] + [1.0],
        )
        for row in group.rows:
            for moment, label in _bars(row):
                if moment == row.end():
                    ends.add(moment)
                left = 0.0
                for cls in HEAP_CLASSES:
                    value = row.mb(moment, cls) or 0.0
                    ax.barh(y, value, left=left, height=0.7, color=CLASS_COLORS[cls], linewidth=0)
                    left += value
                ax.text(
                    left + top * 0.02,
                    y,
                    f"{row.mb(moment, 'free') or 0:,.1f} free · {row.mb(moment, 'pinned') or 0:,.1f} pinned",
                    va="center",
                    fontsize=6.5,
                    color="0.2",
                )
                labels.append(f"{row.configuration} · {label}")
                y += 1
        ax.set_yticks(range(len(labels)), [plain(t) for t in labels], fontsize=7.5)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_xlim(0, top * 1.45)
        ax.set_title(plain(group.title.replace("`", "")), fontsize=9.5)
        ax.set_xlabel("resident anonymous MB, by class", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", color="0.92")
        ax.set_axisbelow(True)
    _hide_unused(axes, len(found))
    handles = [
        Patch(color=CLASS_COLORS[c], label=textwrap.fill(f"{c}: {heap_section.class_sentence(suite, c).split(':')[0]}", 70))
        for c in HEAP_CLASSES
    ]
    fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False, fontsize=7.5)
    reps = fmt.span(r.result.repetitions for g in found for r in g.rows) or "no"
    top = _title(
        fig,
        "Why does the memory stay: pages the allocator keeps free, or pages live blocks pin?",
        f"medians of {reps} run{'' if reps == '1' else 's'} at the last moment ({', '.join(sorted(ends))}), and right after the free phase beside it where "
        "a release step ran · behind the heap map's interposer, whose own tables (in RSS) are not drawn",
    )
    fig.tight_layout(rect=(0, 0.75 / fig.get_figheight(), 1, top))
    return fig


DRAW = {"heap_map": heap_map_figure}
