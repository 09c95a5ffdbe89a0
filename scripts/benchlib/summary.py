"""Per-configuration results of a run: medians and spreads over repetitions, and derived quantities.

Values come from the iteration rows (each repetition), never from Google Benchmark's aggregate rows,
so a run with one repetition or with --benchmark_report_aggregates_only=false/true reads the same way.
Only when an instance has no successful iteration row at all do the aggregate rows stand in (median,
else mean), without a min/max.

Derived quantities, computed per repetition and then summarised like counters:
  growth_mb                     (rss_peak - rss_base) / 1e6: what the map made the process grow
  kept_pct_<stage>              (rss_<stage> - rss_base) / (rss_peak - rss_base) * 100, for stage in
                                STAGES: how much of that growth is still resident
  kept_mb_<stage>               (rss_<stage> - rss_base) / 1e6
  release_ms                    release_seconds * 1000: the cost of the configuration's release step
  above_base_mb:<rss_at_...>    (rss_at_<t> - rss_base) / 1e6: the settle timeline
"""

import math
import re
import statistics
from dataclasses import dataclass, field

from .gbjson import format_offset, rss_at_seconds

MB = 1e6

# The three moments the experiment measures after clear(), in order.
STAGES = ("cleared", "released", "final")
STAGE_TITLES = {"cleared": "right after clear()", "released": "after the release step",
                "final": "after settle"}

# Thresholds the report and plots use to call a configuration's behaviour, in % of peak growth kept
# after settle.
KEEPS_PCT = 80.0
GIVES_BACK_PCT = 15.0

# ./bench times the release step of every configuration; one without a release call still reports
# the timer around its empty step (30-220 ns measured), while the cheapest real call, mi_collect with
# nothing to collect, took about 6 us. Below this, a configuration is treated as having no release step.
RELEASE_STEP_MIN_MS = 0.001


@dataclass
class Spread:
    """A quantity over the successful repetitions of one benchmark instance."""
    values: list

    @property
    def n(self):
        return len(self.values)

    @property
    def median(self):
        return statistics.median(self.values)

    @property
    def mean(self):
        return statistics.fmean(self.values)

    @property
    def sd(self):
        """Sample standard deviation (n - 1), as Google Benchmark's stddev aggregate; None for n < 2."""
        return statistics.stdev(self.values) if self.n >= 2 else None

    @property
    def low(self):
        return min(self.values)

    @property
    def high(self):
        return max(self.values)


@dataclass
class ConfigResult:
    """One benchmark instance (workload, configuration, N) summarised over its repetitions."""
    workload: str
    configuration: str
    size: object
    run_name: str
    quantities: dict = field(default_factory=dict)   # name -> Spread (counters and derived)
    errors: list = field(default_factory=list)       # (repetition, message) of failed repetitions
    from_aggregates: bool = False
    malloc_library: str = ""
    new_library: str = ""
    library_version: str = ""

    @property
    def ok(self):
        return bool(self.quantities)

    @property
    def repetitions(self):
        """Number of successful repetitions summarised."""
        return max((s.n for s in self.quantities.values()), default=0)

    def median(self, name):
        s = self.quantities.get(name)
        return s.median if s else None

    def spread(self, name):
        return self.quantities.get(name)

    def timeline(self):
        """[(seconds after clear, MB above baseline)] from the rss_at_* counters, in time order."""
        points = []
        for name, s in self.quantities.items():
            if name.startswith("above_base_mb:"):
                seconds = rss_at_seconds(name.split(":", 1)[1])
                if seconds is not None:
                    points.append((seconds, s.median))
        return sorted(points)


def derive(counters):
    """The derived quantities of one repetition (see the module docstring). Missing inputs: omitted."""
    out = {}
    base, peak = counters.get("rss_base"), counters.get("rss_peak")
    growth = peak - base if base is not None and peak is not None else None
    if growth is not None:
        out["growth_mb"] = growth / MB
    for stage in STAGES:
        rss = counters.get(f"rss_{stage}")
        if rss is None or base is None:
            continue
        out[f"kept_mb_{stage}"] = (rss - base) / MB
        if growth and growth > 0:
            out[f"kept_pct_{stage}"] = (rss - base) / growth * 100.0
    if "kept_pct_final" not in out and "retained_pct" in counters:
        out["kept_pct_final"] = counters["retained_pct"]
    if "release_seconds" in counters:
        out["release_ms"] = counters["release_seconds"] * 1e3
    if base is not None:
        for name, value in counters.items():
            if rss_at_seconds(name) is not None:
                out[f"above_base_mb:{name}"] = (value - base) / MB
    return out


def summarize(run):
    """ConfigResults of every instance in the run, in file order."""
    by_run = {}
    for row in run.rows:
        by_run.setdefault(row.run_name, []).append(row)
    results = []
    for run_name, rows in by_run.items():
        first = rows[0]
        result = ConfigResult(first.workload, first.configuration, first.size, run_name)
        labelled = next((r for r in rows if r.raw_label), first)
        result.malloc_library = labelled.label.malloc_library
        result.new_library = labelled.label.new_library
        result.library_version = labelled.label.version
        samples = {}
        oks = [r for r in rows if r.ok_iteration]
        result.errors = [(r.repetition, r.error) for r in rows if r.error]
        if not oks:
            stand_in = _aggregate_stand_in(rows)
            if stand_in is not None:
                oks, result.from_aggregates = [stand_in], True
        for r in oks:
            values = dict(r.counters)
            if r.real_time_ms is not None:
                values["real_time_ms"] = r.real_time_ms
            values.update(derive(r.counters))
            for name, value in values.items():
                if not math.isnan(value):
                    samples.setdefault(name, []).append(value)
        result.quantities = {name: Spread(v) for name, v in samples.items()}
        results.append(result)
    return results


def _aggregate_stand_in(rows):
    aggregates = {r.aggregate_name: r for r in rows if r.run_type == "aggregate" and not r.error}
    return aggregates.get("median") or aggregates.get("mean")


def release_step_ms(result):
    """Median duration of the configuration's release call, None when it has none (see above)."""
    ms = result.median("release_ms")
    return ms if ms is not None and ms >= RELEASE_STEP_MIN_MS else None


def select(results, workload, size=None):
    return [r for r in results if r.workload == workload and (size is None or r.size == size)]


def sizes(results, workload):
    """Sizes of a workload, ascending (numeric sizes first)."""
    found = {r.size for r in results if r.workload == workload}
    return sorted(found, key=_size_key)


def _size_key(size):
    return (0, size, "") if isinstance(size, int) else (1, 0, str(size))


def workloads(results):
    seen = list(dict.fromkeys(r.workload for r in results))
    return sorted(seen, key=lambda w: w != "map")


def primary_workload(results):
    """`map` when present (the suite's question), else the first workload of the run."""
    ws = workloads(results)
    return ws[0] if ws else None


def format_size(size):
    return f"{size:,}" if isinstance(size, int) else str(size if size is not None else "?")


def by_retention(results):
    """Order for tables and retention plots: least kept after settle first; failed ones last."""
    def key(r):
        final = r.median("kept_pct_final")
        cleared = r.median("kept_pct_cleared")
        return (not r.ok, final is None, final if final is not None else 0.0,
                cleared if cleared is not None else 0.0, r.configuration)
    return sorted(results, key=key)


def pareto_front(results, rate="insert_rate", kept="kept_mb_final"):
    """Configurations no other configuration beats on both axes (higher rate, less kept).

    Returns them ordered by memory kept, ascending. Results lacking either value are ignored.
    """
    points = [(r, r.median(rate), r.median(kept)) for r in results]
    points = [p for p in points if p[1] is not None and p[2] is not None]
    front = []
    for r, x_rate, x_kept in points:
        dominated = any(
            o_rate >= x_rate and o_kept <= x_kept and (o_rate > x_rate or o_kept < x_kept)
            for o, o_rate, o_kept in points if o is not r)
        if not dominated:
            front.append(r)
    return sorted(front, key=lambda r: (r.median(kept), -r.median(rate)))


def balance_score(result, fastest_rate):
    """(insert rate / fastest insert rate) * (1 - fraction kept after settle), both clamped to [0, 1].

    1 would be the fastest configuration giving everything back; the report names the highest.
    """
    rate, kept = result.median("insert_rate"), result.median("kept_pct_final")
    if rate is None or kept is None or not fastest_rate:
        return None
    return min(max(rate / fastest_rate, 0.0), 1.0) * (1.0 - min(max(kept / 100.0, 0.0), 1.0))


def reference_for(configuration, configurations):
    """The configuration a variant is measured against: its family's default (`jemalloc` for
    `jemalloc-decay0`), else `glibc`; None for the reference itself or when neither exists."""
    family = configuration.split("-")[0]
    for candidate in (family, "glibc"):
        if candidate != configuration and candidate in configurations:
            return candidate
    return None


def settle_label(context, results):
    """How long the settle phase lasted, for legends: the context's `settle`, else the last rss_at."""
    settle = context.get("settle")
    if isinstance(settle, str) and settle.strip():
        return settle.strip()
    last = max((t for r in results for t, _ in r.timeline()), default=None)
    return format_offset(last) if last is not None else ""


@dataclass(frozen=True)
class PlannedPlot:
    """One figure plot.py makes; report.py embeds the same list, so both agree on file names."""
    stem: str          # file name without extension
    kind: str          # retention | timeline | tradeoff | rates | scaling
    workload: str
    size: object       # None for scaling (all sizes)
    caption: str


def _safe(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text))


def plan_plots(results):
    """The figures this run supports, with their file stems.

    retention: every workload and size with retention data. The primary workload's largest size is
    `retention`; another workload's largest size is `retention_<workload>`; smaller sizes append `_<N>`.
    timeline, tradeoff, rates: primary workload, largest size. scaling: each workload with >= 2 sizes.
    """
    plans = []
    primary = primary_workload(results)
    for workload in workloads(results):
        ws = sizes(results, workload)
        largest = ws[-1] if ws else None
        for size in reversed(ws):
            rs = select(results, workload, size)
            if not any(r.median("kept_pct_final") is not None for r in rs):
                continue
            stem = "retention" if workload == primary else f"retention_{_safe(workload)}"
            if size != largest:
                stem = f"retention_{_safe(workload)}_{_safe(size)}"
            plans.append(PlannedPlot(stem, "retention", workload, size,
                                     f"Memory kept after clear, {workload}, N = {format_size(size)}"))
        if workload == primary and largest is not None:
            rs = select(results, workload, largest)
            n = format_size(largest)
            if any(len(r.timeline()) >= 2 for r in rs):
                plans.append(PlannedPlot("timeline", "timeline", workload, largest,
                                         f"RSS above baseline over time after clear, {workload}, N = {n}"))
            if any(r.median("insert_rate") is not None and r.median("kept_mb_final") is not None
                   for r in rs):
                plans.append(PlannedPlot("tradeoff", "tradeoff", workload, largest,
                                         f"Insert rate vs memory kept after settle, {workload}, N = {n}"))
            if any(r.median(k) is not None for r in rs
                   for k in ("insert_rate", "lookup_rate", "clear_rate")):
                plans.append(PlannedPlot("rates", "rates", workload, largest,
                                         f"Insert, lookup and clear rates, {workload}, N = {n}"))
        with_data = [s for s in ws
                     if any(r.median("kept_mb_final") is not None for r in select(results, workload, s))]
        if len(with_data) >= 2:
            stem = "scaling" if workload == primary else f"scaling_{_safe(workload)}"
            plans.append(PlannedPlot(stem, "scaling", workload, None,
                                     f"Memory kept after settle vs N, {workload}"))
    return plans
