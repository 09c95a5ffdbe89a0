"""The figures of an exact run (./bench --exact), drawn from exact_section.py's analysis with the helpers of
plots.py; plots.render dispatches to draw(timed) below. Each title states the question it answers.

exact.png           per phase (insert, lookup, clear), per configuration: instructions, L1 misses and LL
                    misses per operation, one bar per round in a workload of rounds; colour: the library family
exact_vs_timed.png  with a timed run (--timed): per phase, the cycles estimate per operation against the timed
                    ns per operation (10^9 / the probe-scaled median rate, whiskers: its interval), one labelled
                    point per configuration both runs have
"""

import functools

import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from . import exact_section
from . import mdformat as fmt
from .plots import _grid, _hide_unused, _title, family_colors, place_labels
from .summary import format_size

# The counts exact.png shows, as (count, axis title).
_SHOWN = (("instructions", "instructions"), ("l1_misses", "L1 misses"), ("ll_misses", "LL misses"))


def _group(results, suite, planned):
    return next(
        (g for g in exact_section.groups(results, suite) if g.workload == planned.workload and g.size == planned.size), None
    )


def _reps_text(group):
    reps = sorted({c.repetitions for c in group.counted})
    if not reps:
        return "no counted configuration"
    return f"medians of {fmt.span(reps)} repetition{'s' if reps != [1] else ''}"


def _color(suite, colors, name):
    config = suite.configuration(name)
    return colors.get(config.family if config is not None else None, "0.4")


def _legend(fig, suite, colors, names, extra=(), raised=0.0):
    """The families' colours (and `extra` handles) at the bottom, `raised` inches above it."""
    used = list(dict.fromkeys(suite.configuration(n).family for n in names if suite.configuration(n) is not None))
    handles = [Patch(color=colors[f], label=f) for f in used] + list(extra)
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, raised / fig.get_figheight()),
        ncol=min(len(handles), 8),
        frameon=False,
        fontsize=8,
    )


def exact_figure(run, results, style, planned):
    """Horizontal bars, one row per configuration, one column per phase and count."""
    suite = run.suite
    g = _group(results, suite, planned)
    names = [c.configuration for c in g.counted]
    by_phase = {}
    for p in g.phases:
        if not p.per_call:
            by_phase.setdefault(p.name, []).append(p)
    colors = family_colors(suite)
    columns = len(by_phase) * len(_SHOWN)
    height = max(3.6, 2.2 + 0.2 * len(names) * max(1, max((len(ps) for ps in by_phase.values()), default=1)) ** 0.5)
    fig, axes = plt.subplots(1, columns, figsize=(2.0 + 1.75 * columns, height), squeeze=False, sharey=True)
    rounds = max((len(ps) for ps in by_phase.values()), default=1)
    bar = 0.8 / rounds
    for j, (name, ps) in enumerate(by_phase.items()):
        for k, (count, title) in enumerate(_SHOWN):
            ax = axes[0][j * len(_SHOWN) + k]
            for i, c in enumerate(g.counted):
                for m, p in enumerate(ps):
                    v = c.per_op(p, count)
                    if v is None:
                        continue
                    y = i + (m - (len(ps) - 1) / 2) * bar
                    ax.barh(
                        y,
                        v,
                        height=bar * 0.92,
                        color=_color(suite, colors, c.configuration),
                        alpha=1.0 - 0.45 * m / max(rounds - 1, 1),
                        linewidth=0,
                    )
            ax.set_title(f"{name}\n{title} {exact_section.phase_of(name).per}", fontsize=8.5)
            ax.tick_params(axis="x", labelsize=7)
            ax.grid(axis="x", color="0.92")
            ax.set_axisbelow(True)
            ax.set_xlim(left=0)
    axes[0][0].set_yticks(range(len(names)), names, fontsize=7.5)
    axes[0][0].set_ylim(len(names) - 0.5, -0.5)
    extra = ()
    if rounds > 1:
        extra = tuple(Patch(color="0.3", alpha=1.0 - 0.45 * m / (rounds - 1), label=f"round {m + 1}") for m in range(rounds))
    raised = 0.25 if g.failed else 0.0
    _legend(fig, suite, colors, names, extra, raised)
    if g.failed:
        fig.text(
            0.5,
            0.05 / fig.get_figheight(),
            "not counted (error rows): " + ", ".join(r.configuration for r in g.failed),
            ha="center",
            va="bottom",
            fontsize=7.5,
            color="0.4",
        )
    top = _title(
        fig,
        "What does each configuration execute, and miss in the simulated caches, per operation?",
        f"{planned.workload}, N = {format_size(planned.size)} · counted under callgrind, not timed · {_reps_text(g)}"
        + (" · one bar per round, round 1 on top" if rounds > 1 else "")
        + " · colour: library family",
    )
    fig.tight_layout(rect=(0, (0.5 + raised) / fig.get_figheight(), 1, top))
    return fig


def vs_timed_figure(run, results, style, planned, timed=None):
    """Per phase: the cycles estimate per op (counted) against the timed ns per op, a labelled point per configuration."""
    suite = run.suite
    g = _group(results, suite, planned)
    tg = timed.group(planned.workload, planned.size)
    phases = [p for p in g.phases if not p.per_call]
    rows, columns = _grid(len(phases), 3)
    fig, axes = plt.subplots(rows, columns, figsize=(5.4 * columns, 4.6 * rows + 1.4), squeeze=False)
    colors = family_colors(suite)
    bar = exact_section.bar_of(exact_section.groups(results, suite))
    labels, drawn = [], set()
    for i, p in enumerate(phases):
        ax = axes[i // columns][i % columns]
        items = []
        for c in g.counted:
            if c.kind not in exact_section.COMPARED_KINDS:
                continue  # a different container (a bulk load): not like for like
            x, y = c.per_op(p, "cycles_estimate"), tg.ns_per_op(c.configuration, p)
            if x is None or y is None:
                continue
            r = tg.result(c.configuration)
            spread = r.spread(tg.rate_key(p))
            low, high = y, y
            if spread is not None and spread.n >= 2:  # the median's interval of the rate, in ns
                rate_low, rate_high, _ = spread.interval
                low, high = min(1e9 / rate_high, y), max(1e9 / rate_low, y)
            color = _color(suite, colors, c.configuration)
            ax.errorbar(x, y, yerr=[[y - low], [high - y]], fmt="none", ecolor=color, alpha=0.6, elinewidth=0.9)
            ax.plot(x, y, linestyle="none", marker="o", markersize=6, color=color, markeredgecolor="white", zorder=3)
            items.append((x, y, c.configuration, "normal"))
            drawn.add(c.configuration)
        agreement = exact_section.agreement(g, tg, p, bar)
        rho = exact_section._rho(agreement.rho_cycles)
        ax.set_title(f"{p.title}: Spearman ρ {rho} over {len(agreement.names)}", fontsize=9.5)
        ax.set_xlabel(f"cycles estimate {p.per} (counted, N = {format_size(g.size)})", fontsize=8)
        ax.set_ylabel(f"timed ns {p.per} (N = {format_size(tg.size)})", fontsize=8)
        ax.grid(color="0.92")
        ax.set_axisbelow(True)
        labels.append((ax, items))
    _hide_unused(axes, len(phases))
    _legend(fig, suite, colors, [c.configuration for c in g.counted if c.configuration in drawn])
    top = _title(
        fig,
        "Where do counting and timing agree? (a point per configuration both runs have; ρ: Spearman's rank correlation)",
        f"x: {planned.workload}, counted under callgrind · y: 10⁹ ÷ the probe-scaled median rate of {tg.path}, whiskers: its "
        "interval · like for like (no different container) · colour: library family",
    )
    fig.tight_layout(rect=(0, 0.4 / fig.get_figheight(), 1, top))
    for ax, items in labels:
        place_labels(ax, items, fontsize=7)
    return fig


def draw(timed):
    """The draw functions of plots.render for an exact run (timed: exact_section.Timed or None)."""
    return {"exact": exact_figure, "exact_vs_timed": functools.partial(vs_timed_figure, timed=timed)}
