"""The report's section "Latency of single operations": percentiles of single inserts and lookups, and what timing
them costs.
"""

from .. import mdformat as fmt
from ..section import WORKLOADS

RUNS = (WORKLOADS,)


def _latency_section(rs):
    """The latency of single inserts and lookups, and what timing them costs."""
    have = [r for r in rs if r.ok and r.median("lookup_p999_ns") is not None]
    if not have:
        return []
    out = [
        "## Latency of single operations",
        "",
        "Every insert and lookup is timed into a histogram (1.6 % resolution): medians over repetitions of each "
        "percentile, in µs. A bulk load has no per-insert latency.",
        "",
    ]

    def us(r, counter):
        v = r.median(counter)
        return "—" if v is None else f"{v / 1e3:,.2f}"

    rows = [
        (r.configuration,)
        + tuple(us(r, f"{phase}_{p}_ns") for phase in ("insert", "lookup") for p in ("p50", "p99", "p999", "max"))
        for r in have
    ]
    out.append(fmt.table(("configuration", "insert p50", "p99", "p99.9", "max", "lookup p50", "p99", "p99.9", "max"), rows))
    costs = [r.median("latency_cost_ns") for r in have if r.median("latency_cost_ns") is not None]
    shares = [  # of a timed insert: a bulk load (no insert latency) does not count
        r.median("latency_cost_ns") / (r.median("insert_seconds") * 1e9 / r.size) * 100
        for r in have
        if r.median("latency_cost_ns") is not None
        and r.median("insert_p50_ns") is not None
        and r.median("insert_seconds")
        and isinstance(r.size, int)
    ]
    if costs and shares:
        out += [
            "",
            f"Timing one operation costs at least {min(costs):.0f}–{max(costs):.0f} ns (timed in every child before its "
            "baseline, calls back to back, so a lower bound: `latency_cost_ns`), "
            f"{min(shares):.1f}–{max(shares):.1f} % of an insert here: the rates include it, for every configuration alike "
            "(`--latency=off` leaves it out).",
        ]
    return out


def render(report):
    return _latency_section(report.primary_results)
