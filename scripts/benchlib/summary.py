"""The analysis of a run, in one place: per-instance results over repetitions, what is kept, what
differs from what (the noise rule of stats.py), what giving memory back costs, which configuration
suits which need. The report's sections (benchlib/sections/) only render what this module decides.

Everything about a configuration (its kind, library, reference, release step) comes from the run's
description (description.py); nothing is inferred from a name.

Quantities derived per repetition, then summarised like counters:
  growth_mb                     (rss_peak - rss_base) / 1e6: what the workload made the process grow
  bytes_per_entry               (rss_peak - rss_base) / N
  kept_pct_<stage>              (rss_<stage> - rss_base) / (rss_peak - rss_base) * 100, for stage in
                                STAGES: how much of that growth is still resident
  kept_mb_<stage>               (rss_<stage> - rss_base) / 1e6
  release_ms                    release_seconds * 1000 (only for a configuration with a release step)
  work_seconds                  insert_seconds + lookup_seconds + clear_seconds: the timed work
  job_seconds                   work_seconds + release_seconds: the whole job, its release step included
  <rate>@speed                  a rate scaled to the run's typical machine speed: rate x probe_ns /
                                (the run's median probe_ns); see speed_counter(); the same for
                                work_seconds and job_seconds, divided instead of multiplied

Speed statements obey one rule: the noise rule of stats.py, checked against the run's controls
(controls()): pairs of configurations whose timed code is the same. When a control pair "differs",
that is a measured false alarm, and a difference no larger than the largest control difference (per
rate) is "not shown" (stats.NOT_SHOWN).
"""

import math
import re
import statistics
from dataclasses import dataclass, field

from . import stats
from .comparison import false_alarm_rate
from .description import HEAP_CLASSES, HEAPTRACK, PLAIN, RECORD, Scenario
from .gbjson import format_offset
from .stats import Spread

MB = 1e6

# The three moments a build-use-free workload measures after its free phase, in order.
STAGES = ("cleared", "released", "final")
STAGE_TITLES = {"cleared": "right after clear()", "released": "after the release step", "final": "after settle"}


def stage_title(stage, workload=None):
    """The moment a stage is read, as a phrase; "cleared" as the workload's description says."""
    if stage == "cleared" and workload is not None:
        return workload.cleared_moment
    return STAGE_TITLES[stage]


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
    workload_info: object = None  # description.Workload, None for a program run
    settle_seconds: float = 0.0  # the run's settle period
    control: bool = False  # description.is_control: its timed code is its reference's
    observer: object = None  # how ./bench --compare-recorders watched it (description.OBSERVERS), None in other runs

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


def per_repetition(result, counters, f):
    """The median over repetitions of f(values of `counters` in that repetition); None when a counter is missing,
    the repetitions do not line up, or f gives None for one of them."""
    spreads = [result.spread(c) for c in counters]
    if any(s is None for s in spreads) or len({s.n for s in spreads}) != 1:
        return None
    values = [f(*vs) for vs in zip(*(s.values for s in spreads))]
    if any(v is None for v in values):
        return None
    return statistics.median(values)


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
    parts = [counters.get(f"{phase}_seconds") for phase in ("insert", "lookup", "clear")]
    if None not in parts:
        out["work_seconds"] = sum(parts)
        out["job_seconds"] = out["work_seconds"] + counters.get("release_seconds", 0.0)
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
        for name in ("work_seconds", "job_seconds"):
            if name in out:
                out[speed_counter(name)] = out[name] * probe_typical / probe
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
        result.workload_info = run.suite.workloads.get(first.workload)
        result.settle_seconds = run.suite.settle_seconds
        result.control = run.suite.is_control(first.configuration)
        result.observer = first.observer
        results.append(result)
    return results


def unobserved(results):
    """The results that ran as any run's do: every one but those of a recorder ./bench --compare-recorders set beside
    the plain run (description.Instance.plain). Every section but the one on what recording costs reads only these."""
    return [r for r in results if r.observer in (None, PLAIN)]


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
    """Workloads of the run, in the description's order (its workloads, then its scenarios)."""
    present = {r.workload for r in results}
    ordered = [w for w in list(suite.workloads) + list(suite.scenarios) if w in present]
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


def cleared_moment(result):
    """When the result's rss_cleared was read, as its workload's description says."""
    return stage_title("cleared", result.workload_info)


def extra_readings(result, units):
    """[(counter, MB above the baseline)] for the RSS readings (bytes) in the workload's headline
    besides the baseline, the peak and the three stages, in the headline's order: a workload's own
    moments (for one with threads, the reading while they were still alive)."""
    if result.workload_info is None or result.workload_info.uses_rounds or result.median("rss_base") is None:
        return []  # a workload of rounds: its per-round readings are the cost section's
    skip = {"rss_base", "rss_peak"} | {f"rss_{stage}" for stage in STAGES}
    return [
        (c, above_base(result, c) / MB)
        for c in result.workload_info.headline
        if c not in skip and units.get(c) == "bytes" and result.median(c) is not None
    ]


def above_base(result, counter, share_of_growth=False):
    """The median over repetitions of (counter - rss_base), or of that over (rss_peak - rss_base) in %
    with share_of_growth: per repetition first, like the derived kept_* quantities, so that a table
    and a sentence about one reading agree. None when a value is missing."""
    values = above_base_values(result, counter, share_of_growth)
    return statistics.median(values) if values else None


def above_base_values(result, counter, share_of_growth=False):
    """above_base per repetition, in the order they ran; None when a value is missing."""
    values, bases, peaks = (result.spread(c) for c in (counter, "rss_base", "rss_peak"))
    if values is None or bases is None or len(values.values) != len(bases.values):
        return None
    if not share_of_growth:
        return [v - b for v, b in zip(values.values, bases.values)]
    if peaks is None or len(peaks.values) != len(values.values):
        return None
    shares = [(v - b) / (p - b) * 100 for v, b, p in zip(values.values, bases.values, peaks.values) if p - b > 4096]
    return shares if len(shares) == len(values.values) else None


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
    if result.settle_seconds <= 0 or (result.workload_info is not None and result.workload_info.uses_rounds):
        return None, None  # no settle period (rounds report their own release times): nothing settled
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
    verdict: str  # stats.DIFFERS, stats.WITHIN_NOISE, stats.NOT_SHOWN or stats.NO_VERDICT
    control_pct: object = None  # for NOT_SHOWN: the largest difference among the run's controls, in %
    by_round_1: bool = False  # for NOT_SHOWN in a later round: the pair's own round 1 differs as much

    @property
    def change_pct(self):
        return None if self.ratio is None else (self.ratio - 1) * 100


def compare_speed(subject, other, rate, controls=None):
    """The rule every speed statement obeys: the noise rule on the speed-scaled quantity (the raw one
    when there is no probe), then the run's controls (see Controls.judge)."""
    a, b = subject.spread(speed_counter(rate)), other.spread(speed_counter(rate))
    if a is None or b is None:
        a, b = subject.spread(rate), other.spread(rate)
    verdict = stats.compare(a, b)
    if verdict is None:
        return None
    comparison = SpeedComparison(subject, other, rate, stats.ratio(a, b), verdict)
    return controls.judge(comparison) if controls is not None else comparison


# The quantity whose control pairs speak for a compared quantity: a round's rate for round 1's (the only
# round whose timed code a control pair shares: its release step runs after round 1), the job's time
# for the timed work (the release step is the one part a control pair does not share).
_ROUND_QUANTITY = re.compile(r"^round\d+_(.+)$")
_CONTROL_OF = {"job_seconds": "work_seconds"}
CONTROL_QUANTITIES = RATES + ("work_seconds", "round1_insert_rate", "round1_lookup_rate", "round1_clear_rate", "wall_seconds")


def control_quantity(rate):
    m = _ROUND_QUANTITY.match(rate)
    if m:
        return f"round1_{m.group(1)}"
    return _CONTROL_OF.get(rate, rate)


# Below this many repetitions an interval is the range (stats.median_interval_ranks).
RANGE_BELOW = 6


@dataclass
class Controls:
    """The run's control pairs (description.is_control: the same timed code as the reference) and their
    speed comparisons: the false alarms the noise rule raises in this very run."""

    pairs: list  # [(control ConfigResult, reference ConfigResult)]
    comparisons: list  # [SpeedComparison] of each pair, per quantity in CONTROL_QUANTITIES it has

    def of(self, rate):
        """The control comparisons that speak for `rate`."""
        quantity = control_quantity(rate)
        return [c for c in self.comparisons if c.rate == quantity]

    def false_alarm_pct(self, rate):
        """The largest difference, in %, that identical code shows on `rate` in this run, when it
        speaks against the noise rule: always below 6 repetitions (intervals are ranges, which two
        equal configurations fail to overlap 10 % of the time at 3), and at 6 or more when a control
        pair "differs" (a measured false alarm). None when there are no controls, or they all agree
        under real intervals: then the noise rule's verdicts stand."""
        cs = [c for c in self.of(rate) if c.change_pct is not None]
        if not cs:
            return None
        ranged = any(min(c.subject.repetitions, c.other.repetitions) < RANGE_BELOW for c in cs)
        if not ranged and not any(c.verdict in (stats.DIFFERS, stats.NOT_SHOWN) for c in cs):
            return None
        return max(abs(c.change_pct) for c in cs)

    def judge(self, comparison):
        """A difference no larger than the run's largest control difference is not shown."""
        limit = self.false_alarm_pct(comparison.rate)
        if (
            comparison.verdict == stats.DIFFERS
            and limit is not None
            and comparison.change_pct is not None
            and abs(comparison.change_pct) <= limit
        ):
            comparison.verdict = stats.NOT_SHOWN
            comparison.control_pct = limit
        return comparison


def controls_of(results):
    """Controls of one like-for-like run group (one workload at one N): every pair in `results`."""
    by_name = {r.configuration: r for r in results if r.ok}
    pairs = [
        (r, by_name[r.config.reference])
        for r in by_name.values()
        if r.control and r.config is not None and r.config.reference in by_name
    ]
    comparisons = [c for r, ref in pairs for q in CONTROL_QUANTITIES if (c := compare_speed(r, ref, q)) is not None]
    return Controls(pairs, comparisons)


def shown(comparison):
    """True for a difference the report may claim: beyond the noise and beyond the run's controls."""
    return comparison is not None and comparison.verdict == stats.DIFFERS


def against_reference(results, controls=None):
    """{configuration name: [SpeedComparison per rate]} of each result against its reference
    configuration (description), when both are in `results`; judged with `controls` (by default the
    controls among `results`)."""
    by_name = {r.configuration: r for r in results if r.ok}
    judge = controls if controls is not None else controls_of(results)
    out = {}
    for r in by_name.values():
        ref_name = r.config.reference if r.config is not None else None
        ref = by_name.get(ref_name)
        if ref is None:
            continue
        comparisons = [c for c in (compare_speed(r, ref, rate, judge) for rate in RATES) if c is not None]
        if comparisons:
            out[r.configuration] = comparisons
    return out


def fastest(results, rate="insert_rate", controls=None, lower_is_better=False):
    """(best, tied): the configuration with the best median speed-scaled `rate` (highest; lowest for a
    time), and the others not shown to be worse than it (compare_speed with `controls`, by default
    the controls among `results`)."""
    key = rate_key(results, rate)
    have = [r for r in results if r.ok and r.spread(key) is not None]
    if not have:
        return None, []
    judge = controls if controls is not None else controls_of(results)
    pick = min if lower_is_better else max
    best = pick(have, key=lambda r: r.median(key))
    # Within noise, not shown beyond the controls, or not judged at all (one repetition): not shown worse.
    tied = [r for r in have if r is not best and not shown(compare_speed(r, best, rate, judge))]
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


# One configuration's repetitions disagree when the shares of the growth they keep are this many percentage points
# apart, or when a share comes back in some of them and never in others: their median stands for none of them.
DISAGREE_POINTS = 10.0


def disagreeing(values, times=False):
    """True when repetitions' values disagree (DISAGREE_POINTS apart for shares; for return times, inf in some and
    finite in others)."""
    if len(values) < 2:
        return False
    if times:
        never = sum(1 for v in values if math.isinf(v))
        return 0 < never < len(values)
    return max(values) - min(values) >= DISAGREE_POINTS


def expected_false_alarms(comparisons):
    """How many of `comparisons` (SpeedComparison, judged) the noise rule calls different by chance alone, were the
    configurations equally fast: the ranges' false-alarm rate below 6 repetitions, the intervals' above."""
    return sum(false_alarm_rate(c.subject.spread(c.rate).n, c.other.spread(c.rate).n) for c in comparisons)


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

# A knob "pays for the memory again" in a round when it faults in at least this share of its growth, counted in
# 4 KiB pages, more than its base does (Cost.pays_again).
REFILL_PCT = 10.0
PAGE_BYTES = 4096

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
    insert_p999_range: dict = field(default_factory=dict)  # round -> ((knob min, max), (base min, max)), ns
    growth_pages: object = None  # the knob's growth (rss_peak - rss_base) in 4 KiB pages: what a whole refill faults

    @property
    def later_rounds(self):
        """The rounds after round 1 (the control round, from a fresh process for both)."""
        return sorted(k for k in set(self.insert) | set(self.minflt) if k > 1)

    def pays_again(self, k):
        """Round k faults in at least REFILL_PCT % of the knob's growth (in 4 KiB pages) more than the base: memory
        given back comes back as page faults. A few dozen faults more than a base that faults none is not a refill."""
        mine, theirs = self.minflt.get(k, (None, None))
        if mine is None or theirs is None or not self.growth_pages:
            return False
        return mine - theirs >= self.growth_pages * REFILL_PCT / 100

    def slower(self, k):
        return shown(self.insert.get(k)) and self.insert[k].ratio < 1

    def faster(self, k):
        return shown(self.insert.get(k)) and self.insert[k].ratio > 1

    def level(self, k):
        """Insert within noise of the base in round k (or a difference the run's controls do not show)."""
        c = self.insert.get(k)
        return c is not None and c.verdict in (stats.WITHIN_NOISE, stats.NOT_SHOWN)

    def p999_apart(self, k):
        """The insert p99.9 ranges (min..max over repetitions) of knob and base do not overlap in round k."""
        ranges = self.insert_p999_range.get(k)
        if ranges is None:
            return False
        (a_low, a_high), (b_low, b_high) = ranges
        return a_high < b_low or b_high < a_low


@dataclass
class RoundConclusion:
    """Knobs for which a property of Cost holds in every later round, and those for which it holds in
    some only (with the rounds where it does and where it does not)."""

    every: list  # [Cost]
    some: list  # [(Cost, rounds where it holds, rounds where it does not)]


def over_rounds(found, holds):
    """RoundConclusion of `holds(cost, round)` over every round after round 1 of each cost."""
    every, some = [], []
    for c in found:
        later = c.later_rounds
        yes = [k for k in later if holds(c, k)]
        if yes and len(yes) == len(later):
            every.append(c)
        elif yes:
            some.append((c, yes, [k for k in later if k not in yes]))
    return RoundConclusion(every, some)


def p999_apart_pairs(found):
    """[(Cost, rounds)] of the knob/base pairs whose insert p99.9 ranges do not overlap in some round,
    any round (round 1 included)."""
    out = []
    for c in found:
        rounds = [k for k in sorted(c.insert_p999_range) if c.p999_apart(k)]
        if rounds:
            out.append((c, rounds))
    return out


def _judge_by_round_1(insert, vs_round1):
    """Round 1 runs before anything was given back, so a knob and its base that already differ there
    differ by their children, not (only) by the refill. Then a later round's difference stands only when
    each child's round against its own round 1 differs too (vs_round1: that ratio cancels the children's
    offset); otherwise it is not shown (SpeedComparison.control_pct holds round 1's difference)."""
    first = insert.get(1)
    if first is None or first.change_pct is None or first.verdict not in (stats.DIFFERS, stats.NOT_SHOWN):
        return
    for k, c in insert.items():
        own = vs_round1.get(k)
        if k > 1 and c.verdict == stats.DIFFERS and (own is None or own[2] != stats.DIFFERS):
            c.verdict = stats.NOT_SHOWN
            c.control_pct = abs(first.change_pct)
            c.by_round_1 = True


def costs(results, controls=None):
    """A Cost per knob of the cycle results whose base is present (description: reference of the
    same library); insert comparisons judged with `controls` (by default those among `results`)."""
    by_name = {r.configuration: r for r in results if r.ok}
    judge = controls if controls is not None else controls_of(results)
    out = []
    for r in by_name.values():
        if r.config is None or not r.config.reference:
            continue
        base = by_name.get(r.config.reference)
        if base is None or base.config.library != r.config.library or base.kind != r.kind:
            continue
        rounds = rounds_of(r)
        insert, minflt, sys_s, p999, vs_round1, p999_range = {}, {}, {}, {}, {}, {}
        for k in rounds:
            c = compare_speed(r, base, f"round{k}_insert_rate", judge)
            if c is not None:
                insert[k] = c
            minflt[k] = (r.median(f"round{k}_minflt"), base.median(f"round{k}_minflt"))
            sys_s[k] = (r.median(f"round{k}_sys_s"), base.median(f"round{k}_sys_s"))
            p999[k] = (r.median(f"round{k}_insert_p999_ns"), base.median(f"round{k}_insert_p999_ns"))
            mine, theirs = r.spread(f"round{k}_insert_p999_ns"), base.spread(f"round{k}_insert_p999_ns")
            if mine is not None and theirs is not None:
                p999_range[k] = ((mine.low, mine.high), (theirs.low, theirs.high))
            mine, theirs = r.spread(f"round{k}_insert_vs_round1"), base.spread(f"round{k}_insert_vs_round1")
            if mine is not None and theirs is not None:
                vs_round1[k] = (mine.median, theirs.median, stats.compare(mine, theirs))
        _judge_by_round_1(insert, vs_round1)
        release = None
        if r.config.release_step:
            values = [r.median(f"round{k}_release_seconds") for k in rounds if r.median(f"round{k}_release_seconds") is not None]
            release = statistics.median(values) * 1e3 if values else None
        growth = r.median("growth_mb")
        out.append(
            Cost(
                r,
                base,
                release,
                r.median("kept_mb_final"),
                base.median("kept_mb_final"),
                insert,
                minflt,
                sys_s,
                p999,
                vs_round1,
                p999_range,
                None if growth is None else growth * MB / PAGE_BYTES,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------------
# choices


def choices(results, controls=None):
    """{need: result or (result, ties)} within one like-for-like group of the map workload: memory
    must go back, speed only, both. Speed choices honour the noise rule and the run's controls
    (fastest's ties) and need at least 2 repetitions. "both" is the shortest whole job (job_seconds:
    the timed work and the release step) among those that give memory back, "both_by" the quantity it
    was ranked by (the insert rate when the workload does not time every phase)."""
    ok = [r for r in results if r.ok]
    out = {}
    with_kept = [r for r in ok if r.median("kept_mb_final") is not None]
    key = rate_key(ok, "insert_rate")
    if with_kept:
        least = min(with_kept, key=lambda r: (r.median("kept_mb_final"), -(r.median(key) or 0)))
        out["memory"] = least
    if any(r.repetitions < 2 for r in ok):
        return out  # no verdict on speed from a single repetition: only the memory choice
    best, tied = fastest(ok, controls=controls)
    if best is not None:
        out["speed"] = (best, tied)
        givers = [r for r in ok if r.median("kept_pct_final") is not None and r.median("kept_pct_final") <= GIVES_BACK_PCT]
        if givers:
            # Among all that give memory back, the quickest job (its release step included), and who is
            # not shown to be slower.
            if all(r.median("job_seconds") is not None for r in givers):
                out["both"] = fastest(givers, "job_seconds", controls, lower_is_better=True)
                out["both_by"] = "job_seconds"
            else:
                out["both"] = fastest(givers, controls=controls)
                out["both_by"] = "insert_rate"
    return out


def refill(results, configuration):
    """(workload, size, [(round, minor faults, sys seconds)]) of `configuration` in a workload of
    rounds in `results`, medians of the rounds after round 1: what refilling the memory costs it the
    next time; None when the run has no such data."""
    for r in results:
        if r.ok and r.configuration == configuration and r.workload_info is not None and r.workload_info.uses_rounds:
            rows = [(k, r.median(f"round{k}_minflt"), r.median(f"round{k}_sys_s")) for k in rounds_of(r) if k > 1]
            rows = [row for row in rows if row[1] is not None]
            if rows:
                return r.workload, r.size, rows
    return None


# ---------------------------------------------------------------------------------------------------
# time


def time_zero(suite):
    """What return times and timeline offsets count from, as a phrase (description.times_from_clear): the
    end of clear() or of the release step; in an earlier run, the start of the settle period, which came after the
    statistics read after clear() or the release step (how long after, the run does not record)."""
    if suite.times_from_clear:
        return "the end of clear() (or of the release step, when there is one)"
    return (
        "the start of the settle period, which came after the statistics read after clear() or the release step (how "
        "long after, this run does not record)"
    )


def time_zero_axis(suite):
    """time_zero as an axis label."""
    if suite.times_from_clear:
        return "seconds after clear() (or after the release step)"
    return "seconds after the settle period starts"


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
# A busy settle (description.Activity, in a run that counts it): what the activity did and holds.
_BUSY = {
    "activity_ops": "count",
    "activity_cpu_s": "seconds",
    "activity_live_bytes": "bytes",
    "activity_periods": "count",
    "settle_seconds": "seconds",
}
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
    """{counter: unit} the analysis reads for a workload (description.Workload, or None for a program; for a
    scenario, description.Scenario)."""
    if workload is None:
        return dict(_PROGRAM)
    if isinstance(workload, Scenario):  # a real program: its counters, each phase's reading and time
        needed = dict(_PROGRAM)
        needed.update({"hwm_peak": "bytes", "majflt": "count"})
        needed.update({f"rss_{p}": "bytes" for p in workload.phase_names})
        needed.update({f"{p}_seconds": "seconds" for p in workload.timed_phases})
        return needed
    needed = dict(_EVERY_WORKLOAD)
    if workload.uses_rounds:
        needed.update(_ROUNDS_WORKLOAD)
        return needed
    needed.update(_ONE_PASS)
    if workload.activity is not None and workload.activity.counted:
        needed.update(_BUSY)
    if "insert_rate" in workload.headline:
        needed.update(_MAP_WORKLOAD)
    return needed


# The counts of each phase of an exact run (./bench --exact, benchmarks/driver/exact.h): each of kind "exact".
EXACT_COUNTERS = ("instructions", "data_reads", "data_writes", "i1_misses", "d1_misses", "ll_misses", "cycles_estimate")
_EXACT_PHASES = ("insert", "lookup", "clear")


def exact_counters_read(workload, rounds):
    """{counter: unit} the exact section reads for a workload of an exact run: every count of insert, lookup and
    clear (of each of `rounds` rounds in a workload of rounds); {} for a workload without those phases."""
    if workload is None or isinstance(workload, Scenario):
        return {}
    if workload.uses_rounds:
        prefixes = [f"round{k}_{p}" for k in range(1, max(rounds, 1) + 1) for p in _EXACT_PHASES]
    elif "insert_rate" in workload.headline:
        prefixes = list(_EXACT_PHASES)
    else:
        return {}
    return {f"{p}_{c}": "count" for p in prefixes for c in EXACT_COUNTERS}


def _measured_workloads(run, problems):
    """(name, description) of every workload with a successful repetition in `run`; one missing from the
    description (other than command mode's, which has none) is added to `problems` instead."""
    for name in sorted({r.workload for r in run.rows if r.ok_iteration}):
        workload = run.suite.workloads.get(name) or run.suite.scenario(name)
        if workload is None and name != "command":
            problems.append(f"workload {name} is not in the description")
            continue
        yield name, workload


def counter_problems(suite, name, needed, exact=False):
    """Sentences for workload `name`: each counter of `needed` ({counter: unit}) it lacks or reports in another
    unit, and with `exact`, each that is not of kind "exact"."""
    problems = []
    for counter, unit in needed.items():
        have = suite.unit(counter)
        if have is None:
            problems.append(f"{name}: no counter {counter}")
        elif have != unit:
            problems.append(f"{name}: {counter} is in {have}, the scripts read {unit}")
        elif exact and not suite.is_exact_counter(counter):
            problems.append(f'{name}: {counter} is not of kind "exact" in the description')
    return problems


def _exact_violations(run):
    """The contract of an exact run: the counts of every phase the exact section reads, in unit count and of kind
    exact; nothing of what valgrind's RSS and times are (the report reads none of them)."""
    problems = []
    for name, workload in _measured_workloads(run, problems):
        problems += counter_problems(run.suite, name, exact_counters_read(workload, run.suite.rounds), exact=True)
    return problems


def contract_violations(run):
    """Sentences naming every counter the analysis reads that a workload of `run` (with at least one
    successful repetition) lacks, or reports in another unit; empty when the contract holds."""
    if run.suite.exact:
        return _exact_violations(run)
    problems = []
    for name, workload in _measured_workloads(run, problems):
        needed = counters_read(workload)
        for group in _GROUPS:
            if any(run.suite.unit(counter) is not None for counter in group):
                needed.update(group)
        problems += counter_problems(run.suite, name, needed)
    problems += counter_problems(run.suite, "heap map", heap_map_counters_read(run.suite))
    problems += counter_problems(run.suite, "recording", record_counters_read(run.suite))
    return problems + counter_problems(run.suite, "recorders", recorders_counters_read(run.suite))


def heap_map_counters_read(suite):
    """{counter: unit} the heap-map section reads in a heap-map run (./bench --heap-map): per row heap_record_ns,
    heap_calls, heap_unknown_frees; per moment of the heap maps, each class, live and own in bytes, live_blocks a
    count. {} for a run without heap maps."""
    if suite.heap_map is None:
        return {}
    needed = {"heap_record_ns": "nanoseconds", "heap_calls": "count", "heap_unknown_frees": "count"}
    needed.update(_moment_counters("heap", suite.heap_maps, own=True))
    return needed


def _moment_counters(prefix, maps, own):
    """{counter: unit} of every moment of `maps` ({benchmark: [HeapMap]}): each class, live (and own) in bytes, live_blocks
    a count."""
    needed = {}
    moments = dict.fromkeys(m.moment for per in maps.values() for hm in per for m in hm.moments)
    for m in moments:
        needed.update({f"{prefix}_{m}_{c}": "bytes" for c in HEAP_CLASSES + ("live",) + (("own",) if own else ())})
        needed[f"{prefix}_{m}_live_blocks"] = "count"
    return needed


def record_counters_read(suite):
    """{counter: unit} the section "Why it stays" reads in a recorded run (./bench --record): per row what the recording
    holds (record_events, record_bytes_per_event, record_waits, record_wait_s, record_dropped, record_cut_short) and
    trace_unknown_frees; per moment of the recording's maps, each class and live in bytes, live_blocks a count. {} for a
    run without a recording."""
    if suite.record is None:
        return {}
    needed = {
        "record_events": "count",
        "record_bytes_per_event": "count",
        "record_waits": "count",
        "record_wait_s": "seconds",
        "record_dropped": "count",
        "record_cut_short": "count",
        "trace_unknown_frees": "count",
    }
    needed.update(_moment_counters("trace", suite.trace_maps, own=False))
    return needed


def recorders_counters_read(suite):
    """{counter: unit} the section "What recording costs" reads in a run of ./bench --compare-recorders, beside every
    program's: of the recorded rows what the recording holds, cost and checked (record_*), of heaptrack's its file.
    {} for a run without observers."""
    observers = {i.observer for i in suite.instances.values()}
    needed = {}
    if RECORD in observers:
        needed.update({f"record_{c}": "count" for c in ("events", "bytes_per_event", "waits", "unwind_checked")})
        needed.update({"record_unwind_disagreed": "count", "record_wait_s": "seconds", "record_writer_cpu_s": "seconds"})
    if HEAPTRACK in observers:
        needed["heaptrack_bytes"] = "bytes"
    return needed
