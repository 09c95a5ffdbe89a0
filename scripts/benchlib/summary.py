"""The analysis of a run, in one place: per-instance results over repetitions, what is kept, what
differs from what (the noise rule of stats.py), what giving memory back costs, which configuration
suits which need. markdown.py and plots.py only render what this module decides.

Everything about a configuration (its kind, library, reference, release step) comes from the run's
description (description.py); nothing is inferred from a name.

Quantities derived per repetition, then summarised like counters:
  growth_mb                     (rss_peak - rss_base) / 1e6: what the workload made the process grow
  bytes_per_entry               (rss_peak - rss_base) / N
  kept_pct_<stage>              (rss_<stage> - rss_base) / (rss_peak - rss_base) * 100, for stage in
                                STAGES: how much of that growth is still resident
  kept_mb_<stage>               (rss_<stage> - rss_base) / 1e6
  release_ms                    release_seconds * 1000 (only for a configuration with a release step)
  <rate>@speed                  a rate scaled to the run's typical machine speed: rate x probe_ns /
                                (the run's median probe_ns); see speed_counter()
"""

import math
import re
import statistics
from dataclasses import dataclass, field

from . import stats
from .gbjson import format_offset
from .stats import Spread

MB = 1e6

# The three moments a build-use-free workload measures after its free phase, in order.
STAGES = ("cleared", "released", "final")
STAGE_TITLES = {"cleared": "right after clear()", "released": "after the release step", "final": "after settle"}

# What the report calls keeping and giving back, in % of the growth still resident after settle.
KEEPS_PCT = 80.0
GIVES_BACK_PCT = 15.0

RATES = ("insert_rate", "lookup_rate", "clear_rate")

# How speeds are compared: every rate is scaled by the machine-speed probe measured in the same child
# (benchmarks/measure/probe.h) to the run's typical speed; the raw rates stay in the tables.
SPEED_SUFFIX = "@speed"


def speed_counter(rate):
    """The quantity speed comparisons use for `rate`."""
    return rate + SPEED_SUFFIX


@dataclass
class ConfigResult:
    """One benchmark instance (workload, configuration, N) summarised over its repetitions."""

    workload: str
    configuration: str
    config: object  # description.Configuration
    size: object
    run_name: str
    quantities: dict = field(default_factory=dict)  # name -> Spread (counters and derived)
    errors: list = field(default_factory=list)  # (repetition, message) of failed repetitions
    from_aggregates: bool = False
    malloc_library: str = ""
    new_library: str = ""
    library_version: str = ""
    timeline: list = field(default_factory=list)  # [(seconds, MB above base)], medians per sample

    @property
    def ok(self):
        return bool(self.quantities)

    @property
    def kind(self):
        return self.config.kind

    @property
    def repetitions(self):
        return max((s.n for s in self.quantities.values()), default=0)

    def median(self, name):
        s = self.quantities.get(name)
        return s.median if s else None

    def spread(self, name):
        return self.quantities.get(name)


def derive(counters, size, probe_typical):
    """The derived quantities of one repetition (see the module docstring). Missing inputs: omitted."""
    out = {}
    base, peak = counters.get("rss_base"), counters.get("rss_peak")
    growth = peak - base if base is not None and peak is not None else None
    if growth is not None:
        out["growth_mb"] = growth / MB
        if isinstance(size, int) and size > 0:
            out["bytes_per_entry"] = growth / size
    for stage in STAGES:
        rss = counters.get(f"rss_{stage}")
        if rss is None or base is None:
            continue
        out[f"kept_mb_{stage}"] = (rss - base) / MB
        if growth and growth > 0:
            out[f"kept_pct_{stage}"] = (rss - base) / growth * 100.0
    if "release_seconds" in counters:
        out["release_ms"] = counters["release_seconds"] * 1e3
    for share in ("50", "90"):  # -1 (never, within the settle period) sorts after every time
        value = counters.get(f"return_{share}pct_s")
        if value is not None:
            out[f"return_{share}pct"] = math.inf if value < 0 else value
    # cycle: each round's insert rate against round 1 of the same child, which cancels a slow spell
    # that lasts the whole child (this machine's typical noise).
    first = counters.get("round1_insert_rate")
    if first:
        for name, value in counters.items():
            m = _ROUND_INSERT.match(name)
            if m and m.group(1) != "1":
                out[f"round{m.group(1)}_insert_vs_round1"] = value / first
    probe = counters.get("probe_ns")
    if probe and probe_typical:
        for name, value in counters.items():
            if name.endswith("_rate"):
                out[speed_counter(name)] = value * probe / probe_typical
    return out


def typical_probe_ns(run):
    """The median machine-speed probe of every successful repetition of the run."""
    values = [r.counters["probe_ns"] for r in run.rows if r.ok_iteration and "probe_ns" in r.counters]
    return statistics.median(values) if values else None


def summarize(run):
    """ConfigResults of every instance in the run, in file order."""
    probe_typical = typical_probe_ns(run)
    by_run, order = {}, []
    for row in run.rows:
        if row.run_name not in by_run:
            by_run[row.run_name] = []
            order.append(row.run_name)
        by_run[row.run_name].append(row)
    results = []
    for run_name in order:
        rows = by_run[run_name]
        first = rows[0]
        config = run.suite.configuration(first.configuration)
        result = ConfigResult(first.workload, first.configuration, config, first.size, run_name)
        iterations = [r for r in rows if r.run_type == "iteration"]
        result.errors = [(r.repetition_index, r.error) for r in iterations if r.error]
        good = [r for r in iterations if not r.error]
        samples = {}
        for r in good:
            values = dict(r.counters)
            values.update(derive(r.counters, r.size, probe_typical))
            for name, value in values.items():
                samples.setdefault(name, []).append(value)
        if not good:
            stand_in = _aggregate_stand_in(rows)
            if stand_in is not None:
                result.from_aggregates = True
                values = dict(stand_in.counters)
                values.update(derive(stand_in.counters, stand_in.size, probe_typical))
                samples = {k: [v] for k, v in values.items()}
        result.quantities = {name: Spread(v) for name, v in samples.items()}
        labelled = next((r for r in good if r.label.malloc_library or r.label.version), None)
        if labelled is not None:
            result.malloc_library = labelled.label.malloc_library
            result.new_library = labelled.label.new_library
            result.library_version = labelled.label.version
        result.timeline = _timeline(run.suite.series.get(run_name, []), result.median("rss_base"))
        results.append(result)
    return results


def _timeline(series, base):
    """[(seconds, MB above base)]: per sample index, the median over repetitions (every repetition
    samples at the same offsets). Without a baseline (a program's run), MB of RSS."""
    entries = [s for s in series if s.get("seconds")]
    if not entries:
        return []
    length = min(len(s["seconds"]) for s in entries)
    points = []
    for i in range(length):
        t = statistics.median(s["seconds"][i] for s in entries)
        rss = statistics.median(s["rss_bytes"][i] for s in entries)
        points.append((t, (rss - (base or 0)) / MB))
    return points


def _aggregate_stand_in(rows):
    aggregates = {r.aggregate_name: r for r in rows if r.run_type == "aggregate" and not r.error}
    return aggregates.get("median") or aggregates.get("mean")


# ---------------------------------------------------------------------------------------------------
# selections


def select(results, workload, size=None):
    return [r for r in results if r.workload == workload and (size is None or r.size == size)]


def sizes(results, workload):
    """Sizes of a workload, ascending."""
    return sorted({r.size for r in results if r.workload == workload}, key=lambda s: (s is None, s or 0))


def workloads(results, suite):
    """Workloads of the run, in the description's order."""
    present = {r.workload for r in results}
    ordered = [w for w in suite.workloads if w in present]
    return ordered + sorted(present - set(ordered))


def primary_workload(results, suite):
    ws = workloads(results, suite)
    return ws[0] if ws else None


def by_kind(results):
    """{kind: results} in description.KINDS order, each list as given."""
    groups = {}
    for kind in ("allocator", "container allocator", "different container"):
        members = [r for r in results if r.config is not None and r.kind == kind]
        if members:
            groups[kind] = members
    return groups


def format_size(size):
    return f"{size:,}" if isinstance(size, int) else str(size if size is not None else "—")


def by_retention(results):
    """Order for tables and retention plots: least kept after settle first; failed ones last."""

    def key(r):
        final = r.median("kept_pct_final")
        cleared = r.median("kept_pct_cleared")
        return (
            not r.ok,
            final is None,
            final if final is not None else 0.0,
            cleared if cleared is not None else 0.0,
            r.configuration,
        )

    return sorted(results, key=key)


# ---------------------------------------------------------------------------------------------------
# retention


def classify(results):
    """(keepers, givers, middle) by what is kept after settle."""
    ok = [r for r in results if r.median("kept_pct_final") is not None]
    keepers = [r for r in ok if r.median("kept_pct_final") >= KEEPS_PCT]
    givers = [r for r in ok if r.median("kept_pct_final") <= GIVES_BACK_PCT]
    middle = [r for r in ok if r not in keepers and r not in givers]
    return keepers, givers, middle


def release_step_ms(result):
    """Median duration of the configuration's release step; None when it has none (description)."""
    if result.config is None or not result.config.release_step:
        return None
    return result.median("release_ms")


def when_given_back(result):
    """('clear' | 'release' | 'settle' | None, seconds into the settle period or None)."""
    cleared, released = result.median("kept_pct_cleared"), result.median("kept_pct_released")
    if cleared is not None and cleared <= GIVES_BACK_PCT:
        return "clear", None
    if release_step_ms(result) is not None and released is not None and released <= GIVES_BACK_PCT:
        return "release", None
    r90 = result.median("return_90pct")
    if r90 is not None and not math.isinf(r90):
        return "settle", r90
    growth = result.median("growth_mb")
    if growth:
        for t, mb in result.timeline:
            if mb / growth * 100 <= GIVES_BACK_PCT:
                return "settle", t
    return None, None


def peak_outliers(ok, factor=2.0):
    """[(result, median growth of all)] for configurations whose growth is over factor x the median
    configuration's: a small percentage of a huge peak can still be many MB."""
    growths = [r.median("growth_mb") for r in ok if r.median("growth_mb")]
    if len(growths) < 3:
        return []
    typical = statistics.median(growths)
    return [(r, typical) for r in ok if r.median("growth_mb") and typical > 0 and r.median("growth_mb") > factor * typical]


# ---------------------------------------------------------------------------------------------------
# speed


@dataclass
class SpeedComparison:
    """One rate of one configuration against another (its reference, or a rival)."""

    subject: object  # ConfigResult
    other: object  # ConfigResult
    rate: str  # "insert_rate", ...
    ratio: object  # median(subject) / median(other) of the speed-scaled rate
    verdict: str  # stats.DIFFERS or stats.WITHIN_NOISE

    @property
    def change_pct(self):
        return None if self.ratio is None else (self.ratio - 1) * 100


def compare_speed(subject, other, rate):
    a, b = subject.spread(speed_counter(rate)), other.spread(speed_counter(rate))
    if a is None or b is None:
        a, b = subject.spread(rate), other.spread(rate)
    verdict = stats.compare(a, b)
    if verdict is None:
        return None
    return SpeedComparison(subject, other, rate, stats.ratio(a, b), verdict)


def against_reference(results):
    """{configuration name: [SpeedComparison per rate]} of each result against its reference
    configuration (description), when both are in `results`."""
    by_name = {r.configuration: r for r in results if r.ok}
    out = {}
    for r in by_name.values():
        ref_name = r.config.reference if r.config is not None else None
        ref = by_name.get(ref_name)
        if ref is None:
            continue
        comparisons = [c for c in (compare_speed(r, ref, rate) for rate in RATES) if c is not None]
        if comparisons:
            out[r.configuration] = comparisons
    return out


def fastest(results, rate="insert_rate"):
    """(best, tied): the configuration with the highest median speed-scaled rate, and the others
    that are within noise of it (stats.compare)."""
    have = [r for r in results if r.ok and r.spread(speed_counter(rate)) is not None]
    if not have:
        have = [r for r in results if r.ok and r.spread(rate) is not None]
        key = rate
    else:
        key = speed_counter(rate)
    if not have:
        return None, []
    best = max(have, key=lambda r: r.median(key))
    # Within noise, or not judged at all (one repetition): either way not shown to be slower.
    tied = [r for r in have if r is not best and stats.compare(r.spread(key), best.spread(key)) != stats.DIFFERS]
    return best, tied


def rate_key(results, rate):
    """The quantity name speed statements about `results` use for `rate`."""
    return speed_counter(rate) if any(r.spread(speed_counter(rate)) is not None for r in results) else rate


def pareto_front(results, rate="insert_rate", kept="kept_mb_final"):
    """Configurations no other configuration beats on both axes (a faster median rate AND less kept),
    among `results` (callers pass one like-for-like group). Ordered by memory kept."""
    key = rate_key(results, rate)
    points = [(r, r.median(key), r.median(kept)) for r in results]
    points = [p for p in points if p[1] is not None and p[2] is not None]
    front = []
    for r, x_rate, x_kept in points:
        dominated = any(
            o_rate >= x_rate and o_kept <= x_kept and (o_rate > x_rate or o_kept < x_kept)
            for o, o_rate, o_kept in points
            if o is not r
        )
        if not dominated:
            front.append(r)
    return sorted(front, key=lambda r: (r.median(kept), -r.median(key)))


def noise_summary(results, rates=("insert_rate", "lookup_rate")):
    """[(result, rate, half width % raw, half width % speed-scaled)] for every result and rate."""
    rows = []
    for r in results:
        for rate in rates:
            raw, scaled = r.spread(rate), r.spread(speed_counter(rate))
            if raw is None:
                continue
            rows.append((r, rate, raw.half_width_pct, scaled.half_width_pct if scaled else None))
    return rows


# ---------------------------------------------------------------------------------------------------
# what giving memory back costs (the cycle workload)

_ROUND = re.compile(r"^round(\d+)_")
_ROUND_INSERT = re.compile(r"^round(\d+)_insert_rate$")


def rounds_of(result):
    """Round numbers present in a cycle result, ascending."""
    return sorted({int(m.group(1)) for name in result.quantities if (m := _ROUND.match(name))})


@dataclass
class Cost:
    """A knob (a release step or a tuned configuration) against its base configuration in `cycle`."""

    knob: object  # ConfigResult
    base: object  # ConfigResult
    release_ms: object
    kept_final_mb: object
    base_kept_final_mb: object
    insert: dict  # round -> SpeedComparison (knob vs base, same round)
    minflt: dict  # round -> (knob median, base median)
    sys_s: dict  # round -> (knob median, base median)
    insert_p999_ns: dict  # round -> (knob median, base median)
    vs_round1: dict  # round -> (knob median, base median, noise verdict)


def costs(results):
    """A Cost per knob of the cycle results whose base is present (description: reference of the
    same library)."""
    by_name = {r.configuration: r for r in results if r.ok}
    out = []
    for r in by_name.values():
        if r.config is None or not r.config.reference:
            continue
        base = by_name.get(r.config.reference)
        if base is None or base.config.library != r.config.library or base.kind != r.kind:
            continue
        rounds = rounds_of(r)
        insert, minflt, sys_s, p999, vs_round1 = {}, {}, {}, {}, {}
        for k in rounds:
            c = compare_speed(r, base, f"round{k}_insert_rate")
            if c is not None:
                insert[k] = c
            minflt[k] = (r.median(f"round{k}_minflt"), base.median(f"round{k}_minflt"))
            sys_s[k] = (r.median(f"round{k}_sys_s"), base.median(f"round{k}_sys_s"))
            p999[k] = (r.median(f"round{k}_insert_p999_ns"), base.median(f"round{k}_insert_p999_ns"))
            mine, theirs = r.spread(f"round{k}_insert_vs_round1"), base.spread(f"round{k}_insert_vs_round1")
            if mine is not None and theirs is not None:
                vs_round1[k] = (mine.median, theirs.median, stats.compare(mine, theirs))
        release = None
        if r.config.release_step:
            values = [r.median(f"round{k}_release_seconds") for k in rounds if r.median(f"round{k}_release_seconds") is not None]
            release = statistics.median(values) * 1e3 if values else None
        out.append(
            Cost(
                r, base, release, r.median("kept_mb_final"), base.median("kept_mb_final"), insert, minflt, sys_s, p999, vs_round1
            )
        )
    return out


# ---------------------------------------------------------------------------------------------------
# choices


def choices(results):
    """{need: result or (result, ties)} within one like-for-like group of the map workload: memory
    must go back, speed only, both. Speed choices honour the noise rule (fastest's ties) and need at
    least 2 repetitions."""
    ok = [r for r in results if r.ok]
    out = {}
    with_kept = [r for r in ok if r.median("kept_mb_final") is not None]
    key = rate_key(ok, "insert_rate")
    if with_kept:
        least = min(with_kept, key=lambda r: (r.median("kept_mb_final"), -(r.median(key) or 0)))
        out["memory"] = least
    if any(r.repetitions < 2 for r in ok):
        return out  # no verdict on speed from a single repetition: only the memory choice
    best, tied = fastest(ok)
    if best is not None:
        out["speed"] = (best, tied)
        givers = [r for r in ok if r.median("kept_pct_final") is not None and r.median("kept_pct_final") <= GIVES_BACK_PCT]
        if givers:
            # Among all that give memory back, the fastest, and who is within noise of it.
            out["both"] = fastest(givers)
    return out


# ---------------------------------------------------------------------------------------------------
# plots


@dataclass(frozen=True)
class PlannedPlot:
    """One figure plot.py makes; report.py embeds the same list, so both agree on file names."""

    stem: str
    kind: str
    workload: object
    size: object
    caption: str


def _safe(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text))


def plan_plots(results, suite):
    """The figures this run supports, with their file stems (see plots.DRAW for what each shows)."""
    plans = []
    ws = workloads(results, suite)
    primary = ws[0] if ws else None
    settle_workloads = [w for w in ws if any(len(r.timeline) >= 2 for r in select(results, w)) and w != "command"]
    for workload in ws:
        if workload == "command":
            continue
        w_sizes = sizes(results, workload)
        largest = w_sizes[-1] if w_sizes else None
        for size in reversed(w_sizes):
            rs = select(results, workload, size)
            if not any(r.median("kept_pct_final") is not None for r in rs):
                continue
            stem = "retention" if workload == primary else f"retention_{_safe(workload)}"
            if size != largest:
                stem = f"retention_{_safe(workload)}_{_safe(size)}"
            plans.append(
                PlannedPlot(stem, "retention", workload, size, f"Memory kept after clear, {workload}, N = {format_size(size)}")
            )
        rs = select(results, workload, largest)
        n = format_size(largest)
        if workload == primary:
            if any(r.median("insert_rate") is not None for r in rs):
                plans.append(PlannedPlot("rates", "rates", workload, largest, f"Insert, lookup and clear, {workload}, N = {n}"))
                plans.append(
                    PlannedPlot(
                        "tradeoff",
                        "tradeoff",
                        workload,
                        largest,
                        f"Insert rate vs memory kept after settle, like for like, {workload}, N = {n}",
                    )
                )
            if any(r.median("anonymous_cleared") is not None for r in rs):
                plans.append(
                    PlannedPlot("breakdown", "breakdown", workload, largest, f"Where the resident bytes are, {workload}, N = {n}")
                )
        if any(rounds_of(r) for r in rs) and costs(rs):
            plans.append(PlannedPlot("cost", "cost", workload, largest, f"What giving memory back costs, {workload}, N = {n}"))
        with_data = [s for s in w_sizes if any(r.median("kept_mb_final") is not None for r in select(results, workload, s))]
        if len(with_data) >= 2:
            stem = "scaling" if workload == primary else f"scaling_{_safe(workload)}"
            plans.append(PlannedPlot(stem, "scaling", workload, None, f"Rates and bytes per entry vs N, {workload}"))
    if settle_workloads:
        plans.append(
            PlannedPlot(
                "timeline",
                "timeline",
                tuple(settle_workloads),
                None,
                "RSS above baseline after clear, by allocator family: " + ", ".join(settle_workloads),
            )
        )
    if "command" in ws:
        plans.append(PlannedPlot("command", "command", "command", None, "The program's RSS over its life, per configuration"))
    return plans


def settle_label(suite):
    return format_offset(suite.settle_seconds) if suite.settle_seconds else ""


# ---------------------------------------------------------------------------------------------------
# the contract with ./bench: what this module and the renderers read, with the unit they assume

_EVERY_WORKLOAD = {
    "rss_base": "bytes",
    "rss_peak": "bytes",
    "rss_cleared": "bytes",
    "rss_released": "bytes",
    "rss_final": "bytes",
    "probe_ns": "nanoseconds",
    "return_50pct_s": "seconds",
    "return_90pct_s": "seconds",
    "smaps_rss_final": "bytes",
    "anonymous_final": "bytes",
    "lazyfree_final": "bytes",
    "anon_huge_final": "bytes",
}
# A workload of one pass (not rounds) also has its release step.
_ONE_PASS = {
    "release_seconds": "seconds",
}
_MAP_WORKLOAD = {
    "insert_rate": "items_per_second",
    "lookup_rate": "items_per_second",
    "clear_seconds": "seconds",
}
# Read where a workload reports them (the breakdown, the latency table): all of a group or none.
_GROUPS = (
    {"anonymous_cleared": "bytes", "lazyfree_cleared": "bytes", "anon_huge_peak": "bytes"},
    {"insert_p999_ns": "nanoseconds", "lookup_p999_ns": "nanoseconds", "insert_p50_ns": "nanoseconds"},
)
_ROUNDS_WORKLOAD = {
    "round1_insert_rate": "items_per_second",
    "round2_insert_rate": "items_per_second",
    "round2_minflt": "count",
    "round2_sys_s": "seconds",
    "round2_insert_p999_ns": "nanoseconds",
    "round2_release_seconds": "seconds",
}
_PROGRAM = {
    "wall_seconds": "seconds",
    "user_seconds": "seconds",
    "sys_seconds": "seconds",
    "minflt": "count",
    "rss_peak": "bytes",
    "rss_mean": "bytes",
    "rss_end": "bytes",
    "rss_integral_mb_s": "megabyte_seconds",
}


def counters_read(workload):
    """{counter: unit} the analysis reads for a workload (description.Workload, or None for a program)."""
    if workload is None:
        return dict(_PROGRAM)
    needed = dict(_EVERY_WORKLOAD)
    if workload.uses_rounds:
        needed.update(_ROUNDS_WORKLOAD)
        return needed
    needed.update(_ONE_PASS)
    if "insert_rate" in workload.headline:
        needed.update(_MAP_WORKLOAD)
    return needed


def contract_violations(run):
    """Sentences naming every counter the analysis reads that a workload of `run` (with at least one
    successful repetition) lacks, or reports in another unit; empty when the contract holds."""
    problems = []
    for name in sorted({r.workload for r in run.rows if r.ok_iteration}):
        workload = run.suite.workloads.get(name)
        if workload is None and name != "command":
            problems.append(f"workload {name} is not in the description")
            continue
        needed = counters_read(workload)
        for group in _GROUPS:
            if any(run.suite.unit(counter) is not None for counter in group):
                needed.update(group)
        for counter, unit in needed.items():
            have = run.suite.unit(counter)
            if have is None:
                problems.append(f"{name}: no counter {counter}")
            elif have != unit:
                problems.append(f"{name}: {counter} is in {have}, the scripts read {unit}")
    return problems
