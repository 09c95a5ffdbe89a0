"""The report's section "The program under every allocator" (./bench -- PROGRAM): the program's wall time, CPU,
faults and RSS over its life under each configuration, wall time judged by the noise rule, and its figure."""

import matplotlib.pyplot as plt

from .. import mdformat as fmt
from .. import plots, stats, summary
from ..section import COMMAND, RUN, PlannedPlot

RUNS = (COMMAND,)


def render(report):
    results, suite = report.results, report.suite
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


def figures(report):
    if "command" not in summary.workloads(report.results, report.suite):
        return []
    return [
        PlannedPlot(
            "command", "command", "command", None, "The program's RSS over its life, per configuration", command_figure, RUN
        )
    ]


def command_figure(report, style, planned):
    """The program's RSS over its life under each configuration."""
    rs = [r for r in summary.select(report.results, "command") if r.ok and r.timeline]
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
    argv = " ".join((report.suite.command or {}).get("argv", []))
    top = plots.title(
        fig,
        "How much memory does the program hold over its life, under each allocator?",
        f"{argv[:90]} · RSS sampled from outside (/proc/<pid>/smaps_rollup) · median over repetitions per sample",
    )
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig
