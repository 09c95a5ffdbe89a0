"""Number and table formatting shared by the report's sections (benchlib/sections/)."""

import math

from . import stats, summary
from .gbjson import library_name
from .summary import MB


def rate(v):
    return "—" if v is None else f"{v / 1e6:.3f}"


def mb(v):
    return "—" if v is None else f"{no_negative_zero(v, 0.05):,.1f}"


def pct(v):
    return "—" if v is None else f"{no_negative_zero(v, 0.05):.1f} %"


def no_negative_zero(v, rounding):
    """0.0 for a value that rounds to zero (no '-0.0' from a few bytes below the baseline)."""
    return 0.0 if abs(v) < rounding else v


def ms(v):
    if v is None:
        return "—"
    if v == 0:
        return "0"
    return f"{v:.2g}" if abs(v) < 1 else (f"{v:.2f}" if abs(v) < 10 else f"{v:,.0f}")


def duration(seconds):
    """3 significant digits: 0.501187 -> '501 ms', 12.6 -> '12.6 s'."""
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def elapsed(seconds):
    """How long a run took, to the second: 42.4 -> '42 s', 1619.8 -> '27 min 0 s', 5400 -> '1 h 30 min'."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def seconds(v):
    if v is None:
        return "—"
    if v < 0 or math.isinf(v):
        return "never"
    return duration(v) if v >= 1e-3 else "at once"  # before the first offset (1 ms): the first sample


def disagreement(values):
    """' (repetitions: 23.5, 74.2, 74.2 %)' for shares of the growth whose repetitions disagree
    (summary.disagreeing), in the order they ran; '' otherwise."""
    if not values or not summary.disagreeing(values):
        return ""
    return " (repetitions: " + ", ".join(f"{no_negative_zero(v, 0.05):.1f}" for v in values) + " %)"


def bytes_mb(v):
    return "—" if v is None else f"{v / MB:,.1f} MB"


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(header, rows, numeric=True):
    """A Markdown table; with numeric, every column but the first is right-aligned."""
    lines = [
        "| " + " | ".join(cell(h) for h in header) + " |",
        "|" + "|".join("---" if i == 0 or not numeric else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def rate_interval(result, rate):
    """'0.512 (0.49–0.53)': the median rate in M/s with its interval."""
    spread = result.spread(rate)
    if spread is None:
        return "—"
    return stats.interval_text(spread, lambda v: f"{v / 1e6:.3f}")


def verdict(comparison):
    """'differs' / 'within noise' / 'not shown: the run's controls differ by up to 16.7 %'."""
    if comparison.verdict == stats.NOT_SHOWN and comparison.control_pct is not None:
        return f"{stats.NOT_SHOWN}: the run's controls differ by up to {comparison.control_pct:.1f} %"
    return comparison.verdict


def change(comparison, short=False):
    """'+4.1 % (differs)' / '−0.8 % (within noise)' / '+3.0 % (not shown: the run's controls ...)';
    short: the verdict alone, for a table whose notes give the reason."""
    if comparison is None or comparison.change_pct is None:
        return "—"
    return f"{comparison.change_pct:+.1f} % ({comparison.verdict if short else verdict(comparison)})"


def rounds(ks):
    """'round 2' / 'rounds 2, 3'."""
    return ("round " if len(ks) == 1 else "rounds ") + ", ".join(str(k) for k in ks)


def span(values, f=str):
    """The range of `values`, each end written by f: "3" when both ends read the same, "2–3" (smallest–largest)
    when they do not, "" for none (how many repetitions a set of results had, with f=str)."""
    vs = list(values)
    if not vs:
        return ""
    low, high = f(min(vs)), f(max(vs))
    return low if low == high else f"{low}–{high}"


def mb_unit(v):
    """'2.7 MB'."""
    return f"{mb(v)} MB"


def small_mb(v):
    """'2.7 MB', or '33 kB' under 0.1 MB, where one decimal of a MB would read as nothing."""
    return f"{mb(v)} MB" if abs(v) >= 0.1 else f"{v * 1e3:,.0f} kB"


def names(results):
    return ", ".join(f"`{r.configuration}`" for r in results)


def served_by(r):
    """The "served by" cell of a result (summary.ConfigResult): the allocator its label names, and operator new's
    library where it is another."""
    malloc = library_name(r.malloc_library) if r.malloc_library.startswith("/") else r.malloc_library
    new = library_name(r.new_library)
    text = malloc or "?"
    if r.library_version:
        text += f" {r.library_version}"
    if new and new != malloc and not new.startswith("libstdc++"):
        text += f"; operator new: {new}"
    return text if (malloc or r.library_version) else "—"


def runs_and_kind(r):
    """The "runs" cell ("3", or "2 of 3" when a repetition failed) and the "kind" cell of a result's row."""
    runs = f"{r.repetitions}" if not r.errors else f"{r.repetitions} of {r.repetitions + len(r.errors)}"
    return runs, (r.kind if r.config is not None else "?")
