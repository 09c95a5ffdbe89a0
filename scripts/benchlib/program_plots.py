"""The figures of a ./bench --scenario run (real programs), drawn from programs.py's analysis with the
helpers of plots.py; plots.render dispatches to DRAW below. Each title states the question it answers.

programs.png           one panel per scenario: for every configuration, the growth (the largest phase
                       reading above base) and what is kept at the last phase, MB above base
programs_timeline.png  one panel per scenario: RSS over the program's life (from execve) for each
                       library's default configuration and the configurations that give most of the
                       growth back, with the phases marked
"""

import math
import statistics
import textwrap

import matplotlib.pyplot as plt
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from . import mdformat as fmt
from . import programs
from .plots import _grid, _hide_unused, _title, family_colors, plain
from .summary import MB

_MAX_COLUMNS = 7


def _medians_text(results):
    counts = sorted({r.repetitions for r in results if r.ok})
    if not counts:
        return "no successful runs"
    return f"medians of {fmt.span(counts)} runs"


def _configurations(suite, found):
    """Every configuration with a row in some scenario, in the description's order."""
    present = {r.configuration for _, rows in found for r in rows}
    ordered = [name for name in suite.configurations if name in present]
    return ordered + sorted(present - set(ordered))


def programs_figure(run, results, style, planned):
    """Per scenario, per configuration: the growth (light bar) and what is kept at the end (solid bar)."""
    suite = run.suite
    found = programs.scenario_results(results, suite)
    names = _configurations(suite, found)
    colors = family_colors(suite)
    rows, columns = _grid(len(found), _MAX_COLUMNS)
    fig, axes = plt.subplots(
        rows, columns, figsize=(2.0 + 2.2 * columns, (0.8 + 0.24 * len(names)) * rows + 1.5), squeeze=False, sharey=True
    )
    for k, (scenario, scenario_rows) in enumerate(found):
        ax = axes[k // columns][k % columns]
        by_name = {r.configuration: r for r in scenario_rows}
        top = max([r.growth_mb() or 0.0 for r in scenario_rows if r.ok] + [1.0])
        for i, name in enumerate(names):
            r = by_name.get(name)
            config = suite.configuration(name)
            color = colors.get(config.family if config is not None else None, "0.4")
            if r is None:
                ax.text(0, i, " not run", va="center", fontsize=6.5, color="0.55")
                continue
            if not r.ok:
                not_served, _ = r.error()
                ax.text(
                    0, i, " not served" if not_served else " failed", va="center", fontsize=6.5, color="#b2182b", style="italic"
                )
                continue
            growth, kept = r.growth_mb() or 0.0, r.above_mb(r.last_phase) or 0.0
            ax.barh(i, growth, height=0.8, color=color, alpha=0.3, linewidth=0)
            ax.barh(i, kept, height=0.45, color=color, linewidth=0)
            ax.text(max(growth, kept, 0.0) + top * 0.03, i, r.kept_text(r.last_phase), va="center", fontsize=6.5, color="0.2")
        ax.set_xlim(min(0.0, ax.get_xlim()[0]), top * 1.5)
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.set_yticks(range(len(names)), names, fontsize=7.5)
        ax.set_title(f"{scenario.name}\nkept at {scenario.phase_names[-1]}", fontsize=9)
        ax.set_xlabel("MB above base", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", color="0.92")
        ax.set_axisbelow(True)
    _hide_unused(axes, len(found))
    used = list(dict.fromkeys(suite.configuration(n).family for n in names if suite.configuration(n) is not None))
    handles = [Patch(color=colors[f], label=f) for f in used] + [
        Patch(color="0.5", alpha=0.3, label="growth: the largest phase reading"),
        Patch(color="0.5", label="kept at the last phase"),
    ]
    height = fig.get_figheight()
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), frameon=False, fontsize=8)
    top = _title(
        fig,
        "What does each real program still hold at its end, of what it grew, under each allocator?",
        f"MB above the program's base phase · label: kept in % of the growth (in MB when it is under {programs.MIN_GROWTH_MB:g} MB) · "
        f"{_medians_text([r.result for _, rs in found for r in rs])}",
    )
    fig.tight_layout(rect=(0, 0.55 / height, 1, top))
    return fig


def _phase_times(suite, row):
    """{phase: median seconds after execve} over the row's repetitions."""
    times = {}
    for entry in suite.phase_times(row.result.run_name):
        for phase, t in entry.items():
            times.setdefault(phase, []).append(t)
    return {p: statistics.median(ts) for p, ts in times.items()}


# At most this many configurations that give most back are drawn beside the defaults (those keeping least).
_MOST_GIVERS = 3


def _drawn(suite, rows):
    """(drawn, left out): each library's default with a timeline, and the configurations that give most of
    the growth back, the _MOST_GIVERS keeping least drawn, the others named."""
    timed = [r for r in rows if r.ok and any(e.get("seconds") for e in suite.series.get(r.result.run_name, []))]
    defaults = [r for r in timed if programs.is_default(suite, r.configuration)]
    givers = sorted((r for r in timed if r not in defaults and programs.returns_most(r)), key=lambda r: r.kept_pct(r.last_phase))
    chosen = {id(r) for r in defaults + givers[:_MOST_GIVERS]}
    return [r for r in timed if id(r) in chosen], givers[_MOST_GIVERS:]


def timeline_figure(run, results, style, planned):
    """Per scenario: RSS over the program's life of each library's default and of the configurations that
    give most of the growth back; markers at each phase's reading, dotted lines at the phases."""
    suite = run.suite
    found = [(s, rows) for s, rows in programs.scenario_results(results, suite)]
    rows_of, columns = _grid(len(found), 2)
    fig, axes = plt.subplots(rows_of, columns, figsize=(7.2 * columns, 3.6 * rows_of + 1.4), squeeze=False)
    for k, (scenario, scenario_rows) in enumerate(found):
        ax = axes[k // columns][k % columns]
        drawn, left_out = _drawn(suite, scenario_rows)
        left, right = math.inf, 0.0
        marks = {}
        for r in drawn:
            name = r.configuration
            role = "default" if programs.is_default(suite, name) else "gives most back"
            labelled = False
            for entry in suite.series.get(r.result.run_name, []):
                ts = [max(t, 1e-3) for t in entry.get("seconds", [])]
                if not ts:
                    continue
                left, right = min(left, ts[0]), max(right, ts[-1])
                ax.plot(
                    ts,
                    [v / MB for v in entry.get("rss_bytes", [])][: len(ts)],
                    color=style.color(name),
                    linestyle=style.linestyle(name),
                    linewidth=1.1,
                    alpha=0.85,
                    label=None if labelled else f"{name} ({role})",
                )
                labelled = True
            times = _phase_times(suite, r)
            for phase in scenario.phase_names:
                value = r.absolute(r.rss(phase))
                if phase in times and value is not None:
                    ax.plot(
                        max(times[phase], 1e-3),
                        value / MB,
                        linestyle="none",
                        marker=style.marker(name),
                        markersize=4.5,
                        color=style.color(name),
                        zorder=3,
                    )
                    marks.setdefault(phase, []).append(times[phase])
        if not drawn:
            ax.text(0.5, 0.5, "no configuration with a timeline", transform=ax.transAxes, ha="center", color="0.4")
        along = blended_transform_factory(ax.transData, ax.transAxes)
        previous, lower = None, False
        for phase in scenario.phase_names:
            if phase in marks:
                t = max(statistics.median(marks[phase]), 1e-3)
                # Phases closer than 15 % in time (one log step of the axis) alternate their labels' heights.
                lower = not lower if previous is not None and t < previous * 1.15 else False
                previous = t
                ax.axvline(t, color="0.6", linestyle=":", linewidth=0.9)
                ax.text(
                    t,
                    0.72 if lower else 0.98,
                    f" {phase}",
                    transform=along,
                    rotation=90,
                    va="top",
                    ha="right",
                    fontsize=7,
                    color="0.35",
                )
        ax.set_xscale("log")
        if right > 0:
            ax.set_xlim(left / 1.3, right * 1.3)
        ax.set_ylim(bottom=0)
        title = plain(scenario.name)
        if left_out:  # named, so that the figure does not suggest they keep it
            title += "\n" + textwrap.fill(
                "also giving most back, not drawn: " + ", ".join(r.configuration for r in left_out), 110
            )
        ax.set_title(title, fontsize=10 if not left_out else 8)
        ax.set_xlabel("seconds since the program started (log scale)", fontsize=8.5)
        ax.set_ylabel("RSS (MB)", fontsize=8.5)
        ax.grid(color="0.93")
        ax.set_axisbelow(True)
        if drawn:
            ax.legend(loc="best", fontsize=7, frameon=False)
    _hide_unused(axes, len(found))
    top = _title(
        fig,
        "How does each real program's RSS move through its phases, and which allocators give the freed memory back?",
        "RSS sampled from outside, every repetition drawn · markers: the reading at each phase · dotted: the phases (median "
        f"time) · each library's default and (up to {_MOST_GIVERS}) those keeping least, under {programs.MOST_PCT:g} % of "
        "the growth, at the end",
    )
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig


DRAW = {"programs": programs_figure, "programs_timeline": timeline_figure}
