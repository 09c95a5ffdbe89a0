"""The report's section "How sure the speeds are": the width of every rate's interval, and the run's
controls (summary.Controls): the pairs of configurations that run the same timed code, whose
differences are the noise rule's false alarms in this run and decide which claims are not shown."""

from .. import mdformat as fmt
from .. import stats, summary
from ..section import TIMED
from ..summary import format_size

RUNS = TIMED


def render(report):
    results, suite = report.results, report.suite
    out = _half_widths(results)
    for workload in summary.workloads(results, suite):
        sizes = summary.sizes(results, workload)
        if not sizes:
            continue
        controls_text = controls_section(summary.select(results, workload, sizes[-1]), workload, sizes[-1])
        if controls_text:
            out += ([""] if out else []) + controls_text
    return out


def _half_widths(results):
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
        fmt.table(
            ("", "median half-width", "largest half-width", "within ±3 %"),
            [
                ("raw", fmt.pct(raw_median), fmt.pct(raw_max), f"{sum(1 for w in raw if w <= 3)} of {len(raw)}"),
                (
                    "speed-scaled",
                    fmt.pct(scaled_median),
                    fmt.pct(scaled_max),
                    f"{sum(1 for w in scaled if w <= 3)} of {len(scaled)}",
                ),
            ],
        )
    )
    return out


TITLES = {
    "insert_rate": "insert",
    "lookup_rate": "lookup",
    "clear_rate": "clear",
    "work_seconds": "insert + lookup + clear time",
    "round1_insert_rate": "round 1 insert",
    "round1_lookup_rate": "round 1 lookup",
    "round1_clear_rate": "round 1 clear",
    "wall_seconds": "wall time",
}


def _range(values):
    """'−4.7 … +3.0 %' (min … max)."""
    return f"{min(values):+.1f} … {max(values):+.1f} %"


def control_sentences(controls):
    """Per rate: the control pairs' differences (min … max), how many "differ" by the noise rule, and
    what that does to the run's claims."""
    out = []
    for quantity in summary.CONTROL_QUANTITIES:
        cs = [c for c in controls.comparisons if c.rate == quantity and c.change_pct is not None]
        if not cs:
            continue
        differing = [c for c in cs if c.verdict in (stats.DIFFERS, stats.NOT_SHOWN)]
        name = TITLES.get(quantity, quantity)
        text = f"- {name}: {_range([c.change_pct for c in cs])} over {len(cs)} pair{'s' if len(cs) != 1 else ''}"
        limit = controls.false_alarm_pct(quantity)
        if differing:
            text += (
                f"; {len(differing)} {'differs' if len(differing) == 1 else 'differ'} by the noise rule ("
                + ", ".join(f"{c.subject.configuration} {c.change_pct:+.1f} %" for c in differing)
                + ")"
            )
        else:
            text += "; none differs by the noise rule"
        if limit is not None:
            why = "" if differing else " (intervals are ranges below 6 repetitions: identical code's own difference is the bar)"
            text += f", so a claimed {name} difference of up to {limit:.1f} % is *not shown* in this run{why}"
        else:
            text += ", so the claims stand"
        out.append(text)
    return out


def controls_section(results, workload, size):
    controls = summary.controls_of(results)
    if not controls.pairs:
        return []
    out = [
        f"### The run's controls (`{workload}`, N = {format_size(size)})",
        "",
        "Each of these configurations runs the same timed code as its reference (the same library and settings; its one "
        "difference, the release step, runs after the timed phases), so any speed difference between them is noise. "
        "Speed-scaled medians, noise rule:",
        "",
    ]
    quantities = [q for q in summary.CONTROL_QUANTITIES if any(c.rate == q for c in controls.comparisons)]
    rows = []
    for control, reference in controls.pairs:
        by_rate = {c.rate: c for c in controls.comparisons if c.subject is control}
        rows.append(
            [control.configuration, reference.configuration]
            + [f"{by_rate[q].change_pct:+.1f} % ({by_rate[q].verdict})" if q in by_rate else "—" for q in quantities]
        )
    header = ["control", "reference"] + [TITLES.get(q, q) for q in quantities]
    out.append(fmt.table(header, rows))
    out += ["", "The control pairs' differences (min … max):", ""] + [line + "." for line in control_sentences(controls)]
    return out
