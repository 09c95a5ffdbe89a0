"""Comparing two runs benchmark by benchmark: is a counter's difference larger than the noise?

For each benchmark (run_name) present in both runs and each counter, the means and sample standard
deviations over the successful iteration rows of A and B are compared:

    differs  when |mean_B - mean_A| > K * sqrt(sd_A^2 + sd_B^2)     (K = threshold_sigmas, default 2)

which is a difference larger than K standard deviations of the difference of two independent
measurements. With a single repetition on either side there is no spread and the verdict is
"n/a (1 rep)". real_time_ms is compared like a counter.
"""

import math
from dataclasses import dataclass

from .gbjson import counter_sort_key, display_name

VERDICT_DIFFERS = "differs"
VERDICT_NOISE = "within noise"
VERDICT_ONE_REP = "n/a (1 rep)"


@dataclass
class Side:
    n: int
    mean: float
    sd: object     # None when n < 2


@dataclass
class Line:
    benchmark: str
    counter: str
    a: object      # Side or None when the counter is missing on that side
    b: object
    ratio: object  # mean_B / mean_A, None when undefined
    sigmas: object  # |diff| / sqrt(sdA^2 + sdB^2), math.inf for a difference with zero spread
    verdict: str


def _samples(run):
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
        values = dict(row.counters)
        if row.real_time_ms is not None:
            values["real_time_ms"] = row.real_time_ms
        for name, value in values.items():
            if not math.isnan(value):
                samples[row.run_name].setdefault(name, []).append(value)
    return samples, errors, order


def _side(values):
    if not values:
        return None
    mean = math.fsum(values) / len(values)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else None
    return Side(len(values), mean, sd)


def judge(a, b, k):
    """(ratio, sigmas, verdict) for two sides of one counter."""
    if a is None or b is None:
        return None, None, f"missing in {'A' if a is None else 'B'}"
    ratio = b.mean / a.mean if a.mean != 0 else None
    if a.n < 2 or b.n < 2:
        return ratio, None, VERDICT_ONE_REP
    diff = abs(b.mean - a.mean)
    spread = math.sqrt(a.sd ** 2 + b.sd ** 2)
    if spread == 0:
        sigmas = 0.0 if diff == 0 else math.inf
    else:
        sigmas = diff / spread
    return ratio, sigmas, VERDICT_DIFFERS if diff > k * spread else VERDICT_NOISE


def compare(run_a, run_b, counters=None, k=2.0):
    """Lines for every benchmark in both runs (A's order), and notes about the rest."""
    samples_a, errors_a, order_a = _samples(run_a)
    samples_b, errors_b, order_b = _samples(run_b)
    lines, notes = [], []
    for name in order_a:
        if name not in samples_b:
            continue
        sa, sb = samples_a[name], samples_b[name]
        if not sa or not sb:
            side = "A" if not sa else "B"
            message = (errors_a if not sa else errors_b)[name]
            notes.append(f"{display_name(name)}: no successful repetition in {side}"
                         + (f" ({message[0]})" if message else ""))
            continue
        names = counters if counters else sorted(set(sa) | set(sb), key=_order)
        for counter in names:
            a, b = _side(sa.get(counter)), _side(sb.get(counter))
            if a is None and b is None:
                continue
            ratio, sigmas, verdict = judge(a, b, k)
            lines.append(Line(display_name(name), counter, a, b, ratio, sigmas, verdict))
    only_a = [n for n in order_a if n not in samples_b]
    only_b = [n for n in order_b if n not in samples_a]
    if only_a:
        notes.append("only in A: " + ", ".join(map(display_name, only_a)))
    if only_b:
        notes.append("only in B: " + ", ".join(map(display_name, only_b)))
    if counters:
        known = {c for s in (samples_a, samples_b) for per in s.values() for c in per}
        unknown = [c for c in counters if c not in known]
        if unknown:
            notes.append("no such counter in either run: " + ", ".join(unknown))
    return lines, notes


def _order(counter):
    return (0, 0, "") if counter == "real_time_ms" else (1,) + counter_sort_key(counter)


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


def verdict_text(line, k):
    if line.sigmas is None:
        return line.verdict
    sigmas = "inf" if math.isinf(line.sigmas) else f"{line.sigmas:.1f}"
    relation = ">" if line.verdict == VERDICT_DIFFERS else "≤"
    label = "DIFFERS" if line.verdict == VERDICT_DIFFERS else line.verdict
    return f"{label} ({sigmas}σ {relation} {k:g}σ)"


TEXT_HEADER = ("benchmark", "counter", "A mean", "± sd", "n", "B mean", "± sd", "n", "B/A", "verdict")


def text_table(lines, k):
    rows = []
    for ln in lines:
        rows.append((ln.benchmark, ln.counter,
                     format_number(ln.a.mean if ln.a else None), format_number(ln.a.sd if ln.a else None),
                     str(ln.a.n) if ln.a else "0",
                     format_number(ln.b.mean if ln.b else None), format_number(ln.b.sd if ln.b else None),
                     str(ln.b.n) if ln.b else "0",
                     "—" if ln.ratio is None else f"{ln.ratio:.3f}", verdict_text(ln, k)))
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(TEXT_HEADER)]
    left = {0, 1, 9}

    def fmt(cells):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([fmt(TEXT_HEADER), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


CSV_HEADER = ("benchmark", "counter", "a_mean", "a_sd", "a_n", "b_mean", "b_sd", "b_n", "ratio_b_over_a",
              "sigmas", "verdict")


def csv_rows(lines):
    def num(v):
        return "" if v is None else repr(v)
    for ln in lines:
        yield (ln.benchmark, ln.counter, num(ln.a.mean if ln.a else None), num(ln.a.sd if ln.a else None),
               ln.a.n if ln.a else 0, num(ln.b.mean if ln.b else None), num(ln.b.sd if ln.b else None),
               ln.b.n if ln.b else 0, num(ln.ratio), num(ln.sigmas), ln.verdict)
