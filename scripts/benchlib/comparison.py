"""Comparing two runs benchmark by benchmark, with the noise rule of stats.py: a counter changed
only when the intervals of its medians in A and in B do not overlap.

Rates (counters in items per second, per the description) are compared scaled by the machine-speed
probe each child measured (probe_ns), to the median probe of both runs together: a run made while
the machine was slower as a whole does not show as a slower allocator. Every other counter is
compared as measured.

By default only what changed is listed, plus the headline counters of each benchmark's workload
(description; for a scenario, its reading at each phase and each timed phase's time); all=True lists
every counter.
"""

import math
import statistics
from dataclasses import dataclass

from . import stats
from .stats import Spread

CHANGED = "changed"
UNCHANGED = "within noise"
BELOW_MINIMUM = "below the minimum effect"

# Counters that are nearly deterministic (RSS in bytes, page faults): their intervals can be so narrow
# that a few KiB "change". A change counts only when it is at least this large: (share of A's median,
# absolute amount in the counter's unit), the larger of the two.
MINIMUM_EFFECT = {"bytes": (0.01, 256 * 1024), "count": (0.01, 16)}

# Above this many comparisons, say how many false CHANGED to expect among them.
MANY_COMPARISONS = 20


@dataclass
class Line:
    benchmark: str
    counter: str
    a: object  # Spread or None when the counter is missing on that side
    b: object
    ratio: object  # median B / median A, None when undefined
    verdict: str  # CHANGED, UNCHANGED, or "missing in A" / "missing in B"
    headline: bool


def _probe_reference(runs):
    values = [r.counters["probe_ns"] for run in runs for r in run.rows if r.ok_iteration and "probe_ns" in r.counters]
    return statistics.median(values) if values else None


def _samples(run, probe_reference):
    """run_name -> {counter: [values]} over successful iteration rows; error messages per run_name."""
    samples, errors, order = {}, {}, []
    for row in run.rows:
        if row.run_name not in samples:
            samples[row.run_name], errors[row.run_name] = {}, []
            order.append(row.run_name)
        if row.error:
            errors[row.run_name].append(row.error)
        if not row.ok_iteration:
            continue
        probe = row.counters.get("probe_ns")
        for name, value in row.counters.items():
            if math.isnan(value):
                continue
            if run.suite.unit(name) == "items_per_second" and probe and probe_reference:
                value = value * probe / probe_reference
            samples[row.run_name].setdefault(name, []).append(value)
    return samples, errors, order


def judge(a, b, unit=None):
    """(ratio, verdict) for two Spreads of one counter; a counter of a near-deterministic unit
    (MINIMUM_EFFECT) changes only by at least its minimum effect."""
    if a is None or b is None:
        return None, f"missing in {'A' if a is None else 'B'}"
    ratio = b.median / a.median if a.median else None
    verdict = stats.compare(a, b)
    if verdict == stats.NO_VERDICT:
        return ratio, stats.NO_VERDICT
    if verdict == stats.DIFFERS and unit in MINIMUM_EFFECT:
        share, amount = MINIMUM_EFFECT[unit]
        if abs(b.median - a.median) < max(share * abs(a.median), amount):
            return ratio, BELOW_MINIMUM
    return ratio, CHANGED if verdict == stats.DIFFERS else UNCHANGED


def false_alarm_rate(n_a, n_b):
    """The chance that one counter of two equally distributed runs shows as CHANGED: the ranges' 2 /
    C(2n, n) below 6 repetitions; at most 5 % (two 95 % intervals) from 6 on."""
    if min(n_a, n_b) < 6:
        return stats.range_false_alarm(n_a, n_b)
    return 1 - stats.CONFIDENCE


def warnings(lines):
    """What the reader must know before trusting the CHANGED lines: few repetitions (the range rule's
    false-alarm rate), many comparisons (how many false CHANGED to expect among them)."""
    judged = [ln for ln in lines if ln.a is not None and ln.b is not None and ln.a.n >= 2 and ln.b.n >= 2]
    if not judged:
        return []
    out = []
    few = min(min(ln.a.n, ln.b.n) for ln in judged)
    if few < 6:
        out.append(
            f"with {few} repetitions an interval is the range (min–max), and a counter that did not change shows as "
            f"CHANGED {stats.range_false_alarm(few, few) * 100:.0f} % of the time: use >= 6 repetitions to judge a change"
        )
    if len(judged) >= MANY_COMPARISONS:
        expected = sum(false_alarm_rate(ln.a.n, ln.b.n) for ln in judged)
        out.append(
            f"{len(judged)} comparisons: even with nothing changed, expect about {expected:.1f} of them to show as CHANGED "
            "by chance; trust a change that is large, or repeats in another pair of runs"
        )
    return out


def compare(run_a, run_b, counters=None, show_all=False):
    """Lines for every benchmark in both runs (A's order) and notes about the rest. With `counters`,
    only those; otherwise what changed plus the headline counters, or everything with show_all."""
    reference = _probe_reference((run_a, run_b))
    samples_a, errors_a, order_a = _samples(run_a, reference)
    samples_b, errors_b, order_b = _samples(run_b, reference)
    lines, notes = [], []
    for name in order_a:
        if name not in samples_b:
            continue
        sa, sb = samples_a[name], samples_b[name]
        if not sa or not sb:
            side = "A" if not sa else "B"
            message = (errors_a if not sa else errors_b)[name]
            notes.append(f"{name}: no successful repetition in {side}" + (f" ({message[0]})" if message else ""))
            continue
        instance = run_a.suite.instances.get(name)
        workload = run_a.suite.workloads.get(instance.workload) if instance else None
        scenario = run_a.suite.scenario(instance.workload) if instance else None
        headline = set(workload.headline) if workload else set()
        if scenario is not None:  # a real program: its reading at each phase and each timed phase's time
            headline = {f"rss_{p}" for p in scenario.phase_names} | {f"{p}_seconds" for p in scenario.timed_phases}
        names = counters if counters else sorted(set(sa) | set(sb), key=lambda c: (c not in headline, c))
        for counter in names:
            a = Spread(sa[counter]) if counter in sa else None
            b = Spread(sb[counter]) if counter in sb else None
            if a is None and b is None:
                continue
            ratio, verdict = judge(a, b, run_a.suite.unit(counter) or run_b.suite.unit(counter))
            line = Line(name, counter, a, b, ratio, verdict, counter in headline)
            if counters or show_all or line.headline or verdict == CHANGED:
                lines.append(line)
    only_a = [n for n in order_a if n not in samples_b]
    only_b = [n for n in order_b if n not in samples_a]
    if only_a:
        notes.append("only in A: " + ", ".join(only_a))
    if only_b:
        notes.append("only in B: " + ", ".join(only_b))
    if counters:
        known = {c for s in (samples_a, samples_b) for per in s.values() for c in per}
        unknown = [c for c in counters if c not in known]
        if unknown:
            notes.append("no such counter in either run: " + ", ".join(unknown))
    return lines, notes


def format_number(value):
    """4 significant digits with k/M/G suffixes: 1910000 -> '1.910M'."""
    if value is None:
        return "—"
    if math.isinf(value):
        return "inf"
    magnitude = abs(value)
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if magnitude >= scale:
            return f"{value / scale:.4g}{suffix}"
    return f"{value:.4g}"


def _interval(spread):
    if spread is None:
        return "—"
    low, high, _ = spread.interval
    return f"{format_number(low)}–{format_number(high)}"


TEXT_HEADER = ("benchmark", "counter", "A median", "interval", "n", "B median", "interval", "n", "B/A", "verdict")


def text_table(lines):
    rows = []
    for ln in lines:
        rows.append(
            (
                ln.benchmark,
                ln.counter + (" *" if ln.headline else ""),
                format_number(ln.a.median if ln.a else None),
                _interval(ln.a),
                str(ln.a.n) if ln.a else "0",
                format_number(ln.b.median if ln.b else None),
                _interval(ln.b),
                str(ln.b.n) if ln.b else "0",
                "—" if ln.ratio is None else f"{ln.ratio:.3f}",
                ln.verdict.upper() if ln.verdict == CHANGED else ln.verdict,
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(TEXT_HEADER)]
    left = {0, 1, 9}

    def fmt(cells):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([fmt(TEXT_HEADER), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


CSV_HEADER = (
    "benchmark",
    "counter",
    "headline",
    "a_median",
    "a_low",
    "a_high",
    "a_n",
    "b_median",
    "b_low",
    "b_high",
    "b_n",
    "ratio_b_over_a",
    "verdict",
)


def csv_rows(lines):
    def num(v):
        return "" if v is None else repr(v)

    def side(s):
        if s is None:
            return ["", "", "", 0]
        low, high, _ = s.interval
        return [num(s.median), num(low), num(high), s.n]

    for ln in lines:
        yield [ln.benchmark, ln.counter, int(ln.headline)] + side(ln.a) + side(ln.b) + [num(ln.ratio), ln.verdict]
