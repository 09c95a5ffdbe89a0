"""The report's section "Exact cost per operation", for a run counted under valgrind (./bench --exact,
benchmarks/driver/exact.h): what each configuration executes and misses per operation in each phase,
how far the counts repeat, which differences between configurations (and rounds) are beyond that, and,
with a timed run of the same workload (--timed), where counting and timing agree.

Per phase of a row (the counters the description marks "kind": "exact"), per repetition, divided by
N (the instance's size; a release step by 1: it is one call), then the median over repetitions:

  instructions     <phase>_instructions                 Ir
  data accesses    <phase>_data_reads + _data_writes    Dr + Dw
  L1 misses        <phase>_i1_misses + _d1_misses       I1mr + D1mr + D1mw
  LL misses        <phase>_ll_misses                    ILmr + DLmr + DLmw
  cycles estimate  <phase>_cycles_estimate              the run's measurement.cycles_formula

How far repetitions differ: (largest - smallest) / median, in %. A count difference between two
configurations (or two rounds) is *shown* when it is larger than twice the larger of the two sides'
own difference between repetitions and at least MIN_PCT; with one repetition, larger than the run's
largest control-pair difference of that count (description.is_control: the same timed code), or
MIN_PCT, whichever is larger. There is no noise rule: counts are not times.

The RSS and the times of an exact run are valgrind's (measurement.rss_note): nothing here reads them.
Timed figures come from the other run only, scaled by its machine-speed probe as its own report
compares them (summary.rate_key, summary.compare_speed with its controls).
"""

import math
import os
import re
import statistics
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from .. import mdformat as fmt
from .. import plots, stats, summary
from ..gbjson import InputError, load_run
from ..section import EXACT, PlannedPlot, safe_stem
from ..stats import Spread
from ..summary import format_size

RUNS = (EXACT,)
PLOT_KINDS = ("exact", "exact_vs_timed")

# A count difference smaller than this share is never claimed, however well the repetitions agree.
MIN_PCT = 0.1

COUNTS = ("instructions", "data_accesses", "l1_misses", "ll_misses", "cycles_estimate")
# Each count as the sum of the row's counters <phase>_<part>.
PARTS = {
    "instructions": ("instructions",),
    "data_accesses": ("data_reads", "data_writes"),
    "l1_misses": ("i1_misses", "d1_misses"),
    "ll_misses": ("ll_misses",),
    "cycles_estimate": ("cycles_estimate",),
}
TITLES = {
    "instructions": "instructions",
    "data_accesses": "data accesses",
    "l1_misses": "L1 misses",
    "ll_misses": "LL misses",
    "cycles_estimate": "cycles estimate",
}
# The counts the comparison sentences name (data accesses follow the instructions: in the tables).
SENTENCE_COUNTS = ("instructions", "l1_misses", "ll_misses", "cycles_estimate")
# The counts "fewest" is said of.
RANKED_COUNTS = ("instructions", "l1_misses", "ll_misses", "cycles_estimate")

# The order of a workload's phases (benchmarks/workloads/); a phase not listed comes after these.
PHASE_ORDER = ("insert", "malloc", "touch", "erase", "lookup", "clear", "free", "release")
_PER = {"insert": "per insert", "lookup": "per lookup", "clear": "per entry cleared", "release": "per call"}
_ROUND_PHASE = re.compile(r"^round(\d+)_(.+)$")
_SUFFIX = "_instructions"

# Kinds compared like for like (a different container loads in bulk: its insert is not N inserts).
COMPARED_KINDS = ("allocator", "container allocator")


# ---------------------------------------------------------------------------------------------------
# phases and per-operation counts


@dataclass(frozen=True)
class Phase:
    key: str  # the counters' prefix: "insert", "round2_insert"
    name: str  # "insert"
    round: object  # int for a workload of rounds, else None

    @property
    def per_call(self):
        """A release step is one call: its counts are per call, not per entry."""
        return self.name == "release"

    @property
    def title(self):
        return self.name if self.round is None else f"round {self.round} {self.name}"

    @property
    def per(self):
        return _PER.get(self.name, f"per entry of N ({self.name})")

    @property
    def same_code_in_controls(self):
        """A control pair runs the same code here: before its release step (round 1 of a workload of rounds)."""
        return not self.per_call and self.round in (None, 1)

    def sort_key(self):
        order = PHASE_ORDER.index(self.name) if self.name in PHASE_ORDER else len(PHASE_ORDER)
        return (self.round or 0, order, self.name)


def phase_of(key):
    m = _ROUND_PHASE.match(key)
    return Phase(key, m.group(2), int(m.group(1))) if m else Phase(key, key, None)


def phases_of(results, suite):
    """The counted phases of `results`, in the workload's order (rounds first by round)."""
    keys = {
        name[: -len(_SUFFIX)] for r in results for name in r.quantities if name.endswith(_SUFFIX) and suite.is_exact_counter(name)
    }
    return sorted((phase_of(k) for k in keys), key=Phase.sort_key)


@dataclass
class Counted:
    """One configuration's counted instance: a summary.ConfigResult read per operation."""

    result: object

    @property
    def configuration(self):
        return self.result.configuration

    @property
    def kind(self):
        return self.result.kind

    @property
    def repetitions(self):
        return self.result.repetitions

    def has(self, phase):
        return self.values(phase, "instructions") is not None

    def values(self, phase, count):
        """Per repetition, the count per operation (per call for a release step); None when missing."""
        divisor = 1 if phase.per_call else self.result.size
        if not isinstance(divisor, int) or divisor <= 0:
            return None
        spreads = [self.result.spread(f"{phase.key}_{part}") for part in PARTS[count]]
        if any(s is None for s in spreads) or len({s.n for s in spreads}) != 1:
            return None
        return [sum(vs) / divisor for vs in zip(*(s.values for s in spreads))]

    def spread(self, phase, count):
        values = self.values(phase, count)
        return Spread(values) if values else None

    def per_op(self, phase, count):
        s = self.spread(phase, count)
        return s.median if s else None

    def repeat_pct(self, phase, count):
        """(largest - smallest) / median over the repetitions, in %; None below 2 repetitions."""
        s = self.spread(phase, count)
        if s is None or s.n < 2:
            return None
        if s.high == s.low:
            return 0.0
        return (s.high - s.low) / abs(s.median) * 100 if s.median else math.inf


def counted_workloads(results, suite):
    """[(workload, size)] with counted phases, in the description's order, every size (largest first)."""
    out = []
    for workload in summary.workloads(results, suite):
        for size in reversed(summary.sizes(results, workload)):
            if phases_of(summary.select(results, workload, size), suite):
                out.append((workload, size))
    return out


@dataclass
class Group:
    """One workload at one N: the configurations counted, those that failed, and the phases."""

    workload: str
    size: object
    counted: list  # [Counted] with a successful repetition, in the results' order
    failed: list  # [summary.ConfigResult] without one
    phases: list  # [Phase]

    @property
    def rounds(self):
        return any(p.round is not None for p in self.phases)

    def by_name(self):
        return {c.configuration: c for c in self.counted}

    def first_round(self, phase):
        """Round 1's phase of the same name, or None (a workload without rounds, or round 1 missing)."""
        if phase.round is None:
            return None
        return next((q for q in self.phases if q.name == phase.name and q.round == 1), None)

    def of_kind(self, kind):
        return [c for c in self.counted if c.kind == kind]


def groups(results, suite):
    out = []
    for workload, size in counted_workloads(results, suite):
        rs = summary.select(results, workload, size)
        phases = phases_of(rs, suite)
        counted = [Counted(r) for r in rs if r.ok and any(Counted(r).has(p) for p in phases)]
        failed = [r for r in rs if not r.ok]
        out.append(Group(workload, size, counted, failed, phases))
    return out


# ---------------------------------------------------------------------------------------------------
# repeatability and the bar


@dataclass
class Difference:
    """One count of one phase of two counted instances (or of one, between its repetitions)."""

    subject: Counted
    other: object  # Counted, or None for a difference between repetitions
    workload: str
    phase: Phase
    count: str
    pct: float
    low: float  # per op: the smaller value (of the repetitions, or of the pair)
    high: float

    @property
    def where(self):
        pair = f"`{self.subject.configuration}`" + (f" vs `{self.other.configuration}`" if self.other is not None else "")
        return f"{pair}, `{self.workload}` {self.phase.title}"


def repetition_differences(group_list):
    """{count: [Difference]} between the repetitions of every counted instance and phase."""
    out = {count: [] for count in COUNTS}
    for g in group_list:
        for c in g.counted:
            for p in g.phases:
                for count in COUNTS:
                    pct = c.repeat_pct(p, count)
                    if pct is not None:
                        s = c.spread(p, count)
                        out[count].append(Difference(c, None, g.workload, p, count, pct, s.low, s.high))
    return out


def control_pairs(group):
    by_name = group.by_name()
    return [
        (c, by_name[c.result.config.reference])
        for c in group.counted
        if c.result.control and c.result.config is not None and c.result.config.reference in by_name
    ]


def control_differences(group_list):
    """{count: [Difference]} between each control pair's medians (description.is_control), in the phases
    whose code the pair shares."""
    out = {count: [] for count in COUNTS}
    for g in group_list:
        for control, reference in control_pairs(g):
            for p in g.phases:
                if not p.same_code_in_controls:
                    continue
                for count in COUNTS:
                    mine, theirs = control.per_op(p, count), reference.per_op(p, count)
                    if mine is None or theirs is None:
                        continue
                    if theirs == 0:
                        pct = 0.0 if mine == 0 else math.inf
                    else:
                        pct = abs(mine / theirs - 1) * 100
                    out[count].append(
                        Difference(control, reference, g.workload, p, count, pct, min(mine, theirs), max(mine, theirs))
                    )
    return out


def largest(differences):
    finite = [d for d in differences if not math.isinf(d.pct)]
    return max(finite, key=lambda d: d.pct) if finite else None


@dataclass
class Bar:
    """What a count difference must exceed to be shown (see the module docstring): twice the larger of the two
    sides' own difference between repetitions, the run's largest control-pair difference of that count in that
    phase (identical code differing: a claim no larger is not shown, as summary.Controls does for speeds), and
    MIN_PCT."""

    controls: dict  # (count, phase name) -> the largest control-pair Difference there
    by_count: dict  # count -> the largest control-pair Difference over every phase

    def control(self, count, phase):
        """The control-pair Difference that speaks for `count` in `phase`: of the same phase (insert, lookup,
        clear: rounds alike), else of any phase; None without control pairs."""
        return self.controls.get((count, phase.name)) or self.by_count.get(count)

    def pct(self, a, pa, b, pb, count):
        own = [x for x in (a.repeat_pct(pa, count), b.repeat_pct(pb, count)) if x is not None]  # a side counted once has none
        repeats = 2 * max(own) if own else 0.0
        d = self.control(count, pa)
        return max(repeats, d.pct if d is not None else 0.0, MIN_PCT)


def bar_of(group_list):
    found = control_differences(group_list)
    per_phase = {}
    for count, ds in found.items():
        for d in ds:
            key = (count, d.phase.name)
            if not math.isinf(d.pct) and (key not in per_phase or d.pct > per_phase[key].pct):
                per_phase[key] = d
    return Bar(per_phase, {count: largest(ds) for count, ds in found.items()})


# ---------------------------------------------------------------------------------------------------
# comparisons


@dataclass
class CountComparison:
    subject: Counted
    other: Counted
    phase: Phase  # the subject's
    other_phase: Phase
    count: str
    mine: float
    theirs: float
    bar_pct: float

    @property
    def change_pct(self):
        if self.theirs == 0:
            return 0.0 if self.mine == 0 else None
        return (self.mine / self.theirs - 1) * 100

    @property
    def shown(self):
        return self.change_pct is not None and abs(self.change_pct) > self.bar_pct


def compare(a, b, phase, count, bar, other_phase=None):
    """`a`'s count in `phase` against `b`'s in `other_phase` (by default the same), or None when missing."""
    other_phase = other_phase or phase
    mine, theirs = a.per_op(phase, count), b.per_op(other_phase, count)
    if mine is None or theirs is None:
        return None
    return CountComparison(a, b, phase, other_phase, count, mine, theirs, bar.pct(a, phase, b, other_phase, count))


def fewest(members, phase, count, bar):
    """(best, ties): the member with the smallest count per op in `phase`, and those not shown to differ."""
    have = [c for c in members if c.per_op(phase, count) is not None]
    if not have:
        return None, []
    best = min(have, key=lambda c: c.per_op(phase, count))
    ties = [c for c in have if c is not best and not compare(c, best, phase, count, bar).shown]
    return best, ties


def against_reference(group, bar, phases=None, knobs_only=False):
    """[(Counted, reference Counted, {Phase: [CountComparison]})] for every compared configuration whose
    reference was counted too, in `phases` (by default every phase but a release step: the reference has
    none); knobs_only: only configurations that change their own library's defaults (description.is_knob)."""
    by_name = group.by_name()
    phases = [p for p in (phases if phases is not None else group.phases) if not p.per_call]
    out = []
    for c in group.counted:
        config = c.result.config
        ref = by_name.get(config.reference) if config is not None and config.reference else None
        if ref is None or c.kind not in COMPARED_KINDS or ref.kind not in COMPARED_KINDS:
            continue
        if knobs_only and (ref.result.config.library != config.library or ref.kind != c.kind):
            continue
        found = {}
        for p in phases:
            cs = [x for x in (compare(c, ref, p, count, bar) for count in SENTENCE_COUNTS) if x is not None]
            if cs:
                found[p] = cs
        if found:
            out.append((c, ref, found))
    return out


# ---------------------------------------------------------------------------------------------------
# formatting


def count_text(v):
    """A count per operation: 4 significant digits at least, thousands separated (865.99 -> '866.0')."""
    if v is None:
        return "—"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 10:
        return f"{v:.2f}"
    if a >= 1:
        return f"{v:.3f}"
    return "0" if v == 0 else f"{v:.4f}"


def pct_text(p, signed=True):
    """A relative difference, precise enough for counts: '+10.8 %', '+0.42 %', '+0.013 %'."""
    if p is None:
        return "—"
    if math.isinf(p):
        return "∞"
    a = abs(p)
    digits = 1 if a >= 1 else (2 if a >= 0.1 else 3)
    text = f"{p:+.{digits}f}" if signed else f"{p:.{digits}f}"
    if float(text) == 0:
        text = "0"
    return text.replace("-", "−") + " %"


def _name(c):
    return f"`{c.configuration}`"


def _names(cs):
    return ", ".join(_name(c) for c in cs)


# ---------------------------------------------------------------------------------------------------
# the timed run (--timed)


@dataclass
class TimedGroup:
    """The timed run's results of one workload at one N (Timed.group), with its controls (for compare_speed)."""

    path: str
    workload: str
    size: object
    results: list
    controls: object

    def result(self, name):
        return next((r for r in self.results if r.configuration == name and r.ok), None)

    def rate_key(self, phase):
        return summary.rate_key(self.results, f"{phase.key}_rate")

    def rate_cell(self, name, phase):
        """'0.555 (0.428–0.577)': the probe-scaled median rate in M/s and its interval; a release step in ms."""
        r = self.result(name)
        if r is None:
            return "—"
        if phase.per_call:
            s = r.spread(f"{phase.key}_seconds")
            return "—" if s is None else stats.interval_text(Spread([v * 1e3 for v in s.values]), fmt.ms)
        return fmt.rate_interval(r, self.rate_key(phase))

    def ns_per_op(self, name, phase):
        """1e9 / the median probe-scaled rate: nanoseconds per operation, as timed."""
        r = self.result(name)
        if r is None or phase.per_call:
            return None
        rate = r.median(self.rate_key(phase))
        return 1e9 / rate if rate else None

    def system_time_text(self, a, b, phase):
        """'; system time in the timed run 120 vs 3.1 ms': the phase's kernel time (page faults, system calls: what
        callgrind does not count) of `a` and `b`, medians; '' without it."""
        ra, rb = self.result(a), self.result(b)
        if ra is None or rb is None:
            return ""
        mine, theirs = ra.median(f"{phase.key}_sys_s"), rb.median(f"{phase.key}_sys_s")
        if mine is None or theirs is None:
            return ""
        return f"; system time in the timed run {fmt.ms(mine * 1e3)} vs {fmt.ms(theirs * 1e3)} ms"

    def compare(self, a, b, phase):
        """The timed run's verdict on `a` against `b` in `phase` (its noise rule and controls)."""
        ra, rb = self.result(a), self.result(b)
        if ra is None or rb is None:
            return None
        return summary.compare_speed(ra, rb, f"{phase.key}_rate", self.controls)


@dataclass
class Timed:
    path: str
    run: object
    results: list

    def group(self, workload, size=None):
        """The timed results of `workload` at `size` when the timed run has it, else at its largest N; None
        without a successful one."""
        sizes = [n for n in summary.sizes(self.results, workload) if any(r.ok for r in summary.select(self.results, workload, n))]
        if not sizes:
            return None
        n = size if size in sizes else sizes[-1]
        rs = summary.select(self.results, workload, n)
        return TimedGroup(self.path, workload, n, rs, summary.controls_of(rs))


def load_timed(path, run, results, base="."):
    """The timed run at `path` (read from the folder `base`; the report names it `path`) for the exact run `run`.
    Raises InputError (one line naming the file and the problem) for anything but a timed run sharing a counted
    workload and configuration with `run`."""
    if not run.suite.exact:
        raise InputError(run.path, "is not an exact run (./bench --exact): --timed sets a timed run beside an exact run's counts")
    timed = load_run(os.path.join(base, path))
    if timed.suite.exact:
        raise InputError(path, "is an exact run (./bench --exact): --timed needs a timed run of the same workload")
    timed_results = summary.summarize(timed)
    ours = list(dict.fromkeys(w for w, _ in counted_workloads(results, run.suite)))
    shared = [w for w in ours if any(r.ok and r.workload == w for r in timed_results)]
    if not shared:
        raise InputError(
            path,
            f"has no result of the counted workloads ({', '.join(ours) or 'none'}): --timed needs a timed run of the same workload",
        )
    counted = {(r.workload, r.configuration) for r in results if r.ok}
    if not any(r.ok and (r.workload, r.configuration) in counted for r in timed_results):
        raise InputError(path, f"shares no configuration with a result with {run.path} in {', '.join(shared)}")
    return Timed(path, timed, timed_results)


def spearman(xs, ys):
    """Spearman's rank correlation (average ranks for ties); None below 3 pairs or for a constant side."""
    if len(xs) < 3:
        return None

    def ranks(vs):
        order = sorted(range(len(vs)), key=lambda i: vs[i])
        out = [0.0] * len(vs)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and vs[order[j + 1]] == vs[order[i]]:
                j += 1
            for k in range(i, j + 1):
                out[order[k]] = (i + j) / 2 + 1
            i = j + 1
        return out

    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx, syy = sum((a - mx) ** 2 for a in rx), sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else None


@dataclass
class Agreement:
    """One phase: counts beside times over the configurations both runs have."""

    phase: Phase
    names: list  # compared configurations (not a different container) with both a count and a timed rate
    rho_cycles: object
    rho_instructions: object
    agree: list  # [(CountComparison, SpeedComparison)]: both beyond their bars, the same order
    opposite: list  # ... the opposite order
    undecided: int  # pairs beyond the count bar whose timed difference is not shown


def agreement(group, timed_group, phase, bar):
    """How the counted order (cycles estimate) of the configurations both runs have matches the timed
    order (probe-scaled rate, the timed run's noise rule and controls)."""
    both = [c for c in group.counted if c.kind in COMPARED_KINDS and c.per_op(phase, "cycles_estimate") is not None]
    both = [c for c in both if timed_group.ns_per_op(c.configuration, phase) is not None]
    xs = [c.per_op(phase, "cycles_estimate") for c in both]
    ys = [timed_group.ns_per_op(c.configuration, phase) for c in both]
    rho_cycles = spearman(xs, ys)
    rho_instructions = spearman([c.per_op(phase, "instructions") for c in both], ys)
    agree, opposite, undecided = [], [], 0
    for i, first in enumerate(both):
        for second in both[i + 1 :]:
            # the one counting fewer cycles as the subject
            cheap, dear = (
                (first, second)
                if first.per_op(phase, "cycles_estimate") <= second.per_op(phase, "cycles_estimate")
                else (second, first)
            )
            counted = compare(cheap, dear, phase, "cycles_estimate", bar)
            if counted is None or not counted.shown:
                continue
            timing = timed_group.compare(cheap.configuration, dear.configuration, phase)
            if not summary.shown(timing):
                undecided += 1
            elif timing.ratio > 1:  # the one counting fewer cycles is faster
                agree.append((counted, timing))
            else:
                opposite.append((counted, timing))
    return Agreement(phase, [c.configuration for c in both], rho_cycles, rho_instructions, agree, opposite, undecided)


# ---------------------------------------------------------------------------------------------------
# text


def _how_counted(suite):
    m = suite.measurement
    caches = "; ".join(
        f"{title} {_cache_text(m.caches.get(level, ''))}"
        for level, title in (("i1", "L1 instructions"), ("d1", "L1 data"), ("ll", "last level (LL)"))
    )
    branches = "" if "--branch-sim=yes" in m.command else " Branches are not simulated (no `--branch-sim`)."
    return [
        f"Every child ran under valgrind's {m.tool} ({m.valgrind}) with collection off except inside each timed phase, "
        "which switches it on for its body alone (`--collect-atstart=no`, `benchmarks/measure/exact.h`): what is counted "
        "is the phases' own work in user space, not the process's start-up, the key table, the RSS readings or the "
        f"settle period. The simulated caches have a fixed geometry, the same on every machine: {caches}. The *cycles "
        f"estimate* is `{m.cycles_formula}`: one cycle per instruction, 10 per L1 miss, 100 per LL miss.{branches} "
        "*Per operation*: the phase's count ÷ N, the entries inserted, looked up or cleared (a release step: per call). "
        f"Each child's command: `{m.command}`.",
        "",
        f"**This run's RSS and times are valgrind's, not the program's** ({m.rss_note}): the report shows none of "
        "them; a timed run measures those.",
    ]


def _cache_text(spec):
    """'32768,8,64' -> '32 KiB, 8-way, 64 B lines'."""
    try:
        size, ways, line = (int(v) for v in spec.split(","))
    except ValueError:
        return f"`{spec}`"
    unit = f"{size // 1048576} MiB" if size % 1048576 == 0 else f"{size // 1024} KiB"
    return f"{unit}, {ways}-way, {line} B lines"


def _pairs_text(pairs):
    return ", ".join(f"`{a}` and `{b}`" for a, b in pairs)


def span_text(low, high):
    """'511.81 – 511.99': two counts per op with as many decimals as it takes for them to read apart."""
    a, b = count_text(low), count_text(high)
    digits = 0
    while a == b and low != high and digits < 8:
        digits += 1
        a, b = f"{low:,.{digits}f}", f"{high:,.{digits}f}"
    return f"{a} – {b}"


def _difference_cells(big):
    if big is None:
        return ["—", "—"]
    return [pct_text(big.pct, signed=False), f"{big.where}: {span_text(big.low, big.high)}"]


def _repeatability(group_list, bar):
    counted = [c for g in group_list for c in g.counted]
    if not counted:
        return []
    most_reps = max(c.repetitions for c in counted)
    controls = control_differences(group_list)
    pairs = list(dict.fromkeys((d.subject.configuration, d.other.configuration) for ds in controls.values() for d in ds))
    out = ["### How far the counts repeat", ""]
    repeated = [c for c in counted if c.repetitions >= 2]
    if repeated:
        repeats = repetition_differences(group_list)
        least = min(c.repetitions for c in repeated)
        reps = fmt.span((least, most_reps))
        out += [
            f"Each configuration was counted {reps} times, each time in a fresh process. How far its repetitions differ, "
            "(largest − smallest) / median, over every counted configuration and phase"
            + (
                f", and how far the medians of the control pairs differ (the same timed code: {_pairs_text(pairs)}; in the "
                "phases before their release step)"
                if pairs
                else " (the run has no control pair: no two configurations with the same timed code)"
            )
            + ":",
            "",
        ]
        header = ["count", "repetitions: largest difference", "where (per op: smallest – largest)", "repetitions identical"]
        if pairs:
            header += ["control pairs: largest difference", "where (per op)"]
        rows = []
        for count in COUNTS:
            ds = repeats[count]
            big = largest(ds)
            row = [TITLES[count]] + _difference_cells(big) + [f"{sum(1 for d in ds if d.pct == 0)} of {len(ds)}" if ds else "—"]
            if pairs:
                row += _difference_cells(largest(controls[count]))
            rows.append(row)
        out.append(fmt.table(header, rows))
        once = [(c, g.workload) for g in group_list for c in g.counted if c.repetitions < 2]
        if once:
            out += [
                "",
                "Counted once, and so judged by the control pairs and the minimum alone: "
                + ", ".join(f"{_name(c)} (`{w}`)" for c, w in once)
                + ".",
            ]
        rule = (
            "A count difference between two configurations (or two rounds) is *shown* when it is larger than twice the "
            "larger of the two sides' own difference between repetitions (in that count and phase)"
        )
    else:
        out.append(
            "Each configuration was counted once (1 repetition): how far a configuration's counts repeat is not measured in "
            "this run"
            + (
                f"; the control pairs (the same timed code: {_pairs_text(pairs)}) are the evidence."
                if pairs
                else ", and it has no control pair (no two configurations with the same timed code)."
            )
        )
        rule = "A count difference between two configurations (or two rounds) is *shown* when it is larger than"
    phase_names = list(dict.fromkeys(name for count, name in bar.controls))
    if phase_names:
        out += [
            "",
            "The control pairs' largest difference per count and phase, which a claim must exceed too (identical code "
            "differs by that much):",
            "",
            fmt.table(
                ["count"] + phase_names,
                [[TITLES[count]] + [_bar_cell(bar.controls.get((count, name))) for name in phase_names] for count in COUNTS],
            ),
        ]
        rule += (
            (", than" if repeated else "")
            + " the control pairs' largest difference in that count and phase (the table above; another phase's largest "
            "where a phase has none)"
        )
    out += [
        "",
        rule
        + f", and at least {MIN_PCT:g} %. Counts have no noise rule: the tables and sentences below use this bar"
        + (" (one repetition: the control pairs' differences and the minimum are the bar)." if not repeated else "."),
    ]
    return out


def _bar_cell(d):
    return "—" if d is None else f"{pct_text(d.pct, signed=False)} ({d.subject.configuration} vs {d.other.configuration})"


def _signed_count(v):
    text = count_text(abs(v))
    return ("+" if v > 0 else "−" if v < 0 else "") + text


def _phase_table(group, phases, timed_group):
    """One row per counted configuration (a workload of rounds: per configuration and round), the counts per op."""
    rounds = any(p.round is not None for p in phases)
    release = phases[0].per_call  # the phases of one table share their name
    header = ["configuration"] + (["round"] if rounds else []) + [TITLES[c] for c in COUNTS]
    if rounds:
        header += ["cycles estimate vs round 1"]
    if timed_group is not None:
        header += ["timed release step (ms)"] if release else ["timed (M/s, probe-scaled)", "timed ns per op"]
    rows = []
    for c in group.counted:
        first = True
        for p in phases:
            if not c.has(p):
                continue
            row = [c.configuration if first else ""] + ([str(p.round)] if rounds else [])
            first = False
            row += [count_text(c.per_op(p, count)) for count in COUNTS]
            if rounds:
                one = group.first_round(p)
                if p.round == 1 or one is None or not c.has(one):
                    row.append("—")
                else:
                    mine, theirs = c.per_op(p, "cycles_estimate"), c.per_op(one, "cycles_estimate")
                    change = (mine / theirs - 1) * 100 if theirs else None
                    row.append(f"{_signed_count(mine - theirs)} ({pct_text(change)})")
            if timed_group is not None:
                row.append(timed_group.rate_cell(c.configuration, p))
                if not release:
                    ns = timed_group.ns_per_op(c.configuration, p)
                    row.append("—" if ns is None else f"{ns:,.0f}")
            rows.append(row)
    return fmt.table(header, rows)


def _versus(comparisons):
    """'`pool` executes 720.0 instructions per insert, `tcmalloc` 737.9 (−2.4 %); L1 misses 6.1 vs 9.3 (−34.4 %)'
    for the comparisons of one pair in one phase: the instructions always, the other counts when shown."""
    by = {c.count: c for c in comparisons}
    first = comparisons[0]
    a, b, phase = first.subject, first.other, first.phase
    ins = by.get("instructions")
    if ins is None:
        text = f"{_name(a)} against {_name(b)} {phase.per}"
    elif ins.shown:
        text = (
            f"{_name(a)} executes {count_text(ins.mine)} instructions {phase.per}, {_name(b)} {count_text(ins.theirs)} "
            f"({pct_text(ins.change_pct)})"
        )
    else:
        text = (
            f"{_name(a)} and {_name(b)} execute as many instructions {phase.per} ({count_text(ins.mine)} vs "
            f"{count_text(ins.theirs)}, within the bar)"
        )
    others = [c for c in comparisons if c.count != "instructions" and c.shown]
    if others:
        text += "; " + "; ".join(
            f"{TITLES[c.count]} {count_text(c.mine)} vs {count_text(c.theirs)} ({pct_text(c.change_pct)})" for c in others
        )
    elif ins is not None:
        text += "; no other count differs beyond the bar"
    return text


def _phase_name_list(phases):
    names = [p.title for p in phases]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _reference_sentences(found_list):
    out = []
    for c, ref, found in found_list:
        shown = {p: cs for p, cs in found.items() if any(x.shown for x in cs)}
        if not shown:
            judged = [x for cs in found.values() for x in cs if x.change_pct is not None]
            text = f"{_name(c)} against {_name(ref)} (its reference): no count differs beyond the bar in {_phase_name_list(list(found))}"
            if judged:
                big = max(judged, key=lambda x: abs(x.change_pct) - x.bar_pct)
                text += (
                    f" (the closest: {TITLES[big.count]} {big.phase.per} in {big.phase.title}, {pct_text(big.change_pct)} "
                    f"against a bar of {pct_text(big.bar_pct, signed=False)})"
                )
            out.append(text + ".")
            continue
        text = f"{_name(c)} against {_name(ref)} (its reference): " + "; ".join(
            f"{p.title}: " + _versus(cs) for p, cs in shown.items()
        )
        quiet = [p for p in found if p not in shown]
        if quiet:
            text += f"; in {_phase_name_list(quiet)} no count differs beyond the bar"
        out.append(text + ".")
    return out


def _best_malloc_sentences(group, bar, phases):
    """Each container allocator against the allocator configuration with the lowest cycles estimate, per phase."""
    containers, mallocs = group.of_kind("container allocator"), group.of_kind("allocator")
    if not containers or not mallocs:
        return []
    out = []
    for p in phases:
        if p.per_call:
            continue
        best, _ = fewest(mallocs, p, "cycles_estimate", bar)
        if best is None:
            continue
        items = []
        for c in containers:
            cs = [x for x in (compare(c, best, p, count, bar) for count in SENTENCE_COUNTS) if x is not None]
            if cs:
                items.append(_versus(cs))
        if items:
            out.append(
                f"**{p.title}: container allocators against the best malloc library** (the allocator configuration with the "
                f"lowest cycles estimate {p.per}, {_name(best)}): " + "; ".join(items) + "."
            )
    return out


def _fewest_sentences(group, bar, phases):
    out = []
    for p in phases:
        if p.per_call:
            continue
        parts = []
        for kind in COMPARED_KINDS:
            members = [c for c in group.of_kind(kind) if c.has(p)]
            if len(members) < 2:
                continue
            items = []
            for count in RANKED_COUNTS:
                best, ties = fewest(members, p, count, bar)
                what = "the lowest cycles estimate" if count == "cycles_estimate" else f"the fewest {TITLES[count]}"
                item = f"{what}: {_name(best)} {count_text(best.per_op(p, count))}"
                item += f" (not shown to differ: {_names(ties)})" if ties else ""
                items.append(item)
            parts.append(f"of the {len(members)} {kind} configurations, " + "; ".join(items))
        if parts:
            out.append(f"**{p.title}, {p.per}**: " + "; ".join(parts) + ".")
    return out


def _release_sentence(group):
    items = []
    for p in group.phases:
        if not p.per_call:
            continue
        have = sorted(((c, c.per_op(p, "instructions")) for c in group.counted if c.has(p)), key=lambda cv: cv[1])
        if have:
            items.append(
                (f"{p.title}: " if p.round is not None else "")
                + ", ".join(
                    f"{_name(c)} {count_text(v)} instructions ({count_text(c.per_op(p, 'cycles_estimate'))} cycles estimated)"
                    for c, v in have
                )
            )
    if not items:
        return []
    return ["**Release steps**, one call each, fewest instructions first: " + "; ".join(items) + "."]


def _rounds_sentences(group, bar):
    """Each later round against round 1 of the same configuration: the refill, in user space."""
    out = []
    for p in group.phases:
        one = group.first_round(p)
        if p.round is None or p.round == 1 or one is None:
            continue
        parts, quiet = [], []
        for c in group.counted:
            if not (c.has(p) and c.has(one)):
                continue
            shown = [x for x in (compare(c, c, p, count, bar, one) for count in SENTENCE_COUNTS) if x is not None and x.shown]
            if not shown:
                quiet.append(c)
                continue
            parts.append(
                f"{_name(c)} "
                + ", ".join(
                    f"{TITLES[x.count]} {count_text(x.mine)} vs {count_text(x.theirs)} ({pct_text(x.change_pct)})" for x in shown
                )
            )
        if not parts and not quiet:
            continue
        text = f"**{p.title} against round 1 of the same process** ({p.per}): "
        text += "; ".join(parts) if parts else "no configuration's count differs beyond the bar"
        if parts and quiet:
            text += f"; no count beyond the bar: {_names(quiet)}"
        out.append(text + ".")
    if out:
        out.append(
            "A later round's difference from round 1 is what the process's user-space code and the simulated caches do "
            "differently once memory was used and freed before (reused, or given back and refilled); the page faults and the system time of "
            "refilling memory that was given back are the kernel's, which callgrind does not count: a timed run has them "
            "(`round<k>_minflt`, `round<k>_sys_s`, e.g. `results/cycle-1M`)."
        )
    return out


def _timed_lines(group, timed_group, bar):
    if timed_group is None:
        return []
    n_note = (
        f"N = {format_size(timed_group.size)} there, {format_size(group.size)} here: per-operation costs need not be the "
        "same at another N, so compare orders, not values"
        if timed_group.size != group.size
        else f"the same N, {format_size(group.size)}"
    )
    items = []
    for p in group.phases:
        if p.per_call:
            continue
        a = agreement(group, timed_group, p, bar)
        if len(a.names) < 3:
            if a.names:
                items.append(f"  - {p.title}: only {len(a.names)} configurations in both runs, too few for a rank correlation.")
            continue
        decided = len(a.agree) + len(a.opposite)
        text = (
            f"  - {p.title}: Spearman's rank correlation of the cycles estimate {p.per} with the timed ns {p.per} is "
            f"{_rho(a.rho_cycles)} over the {len(a.names)} compared configurations both runs have (of the instructions alone: "
            f"{_rho(a.rho_instructions)}). "
        )
        pairs = decided + a.undecided
        if not pairs:
            text += "No two compared configurations' cycles estimates differ beyond the bar"
        elif not decided:
            text += (
                f"Of the {pairs} pairs of compared configurations whose cycles estimates differ beyond the bar, none differs "
                "in time beyond the timed run's noise rule and controls"
            )
        else:
            text += (
                f"Of the {pairs} pairs of compared configurations whose cycles estimates differ beyond the bar, {decided} "
                f"also differ in time beyond the timed run's noise rule and controls: {len(a.agree)} in the counted order, "
                f"{len(a.opposite)} in the opposite"
            )
        if a.opposite:
            by_subject = {}
            for c, t in a.opposite:
                by_subject.setdefault(c.subject.configuration, (c.subject, []))[1].append((c, t))
            parts = []
            for subject, pairs in by_subject.values():
                c, t = min(pairs, key=lambda ct: ct[1].change_pct)  # the largest timed difference, as the example
                others = [x.other for x, _ in sorted(pairs, key=lambda ct: ct[0].change_pct)]
                parts.append(
                    f"{_name(subject)} counts fewer cycles {p.per} than {_names(others)}"
                    + (f" ({len(others)})" if len(others) > 3 else "")
                    + f", yet is timed slower than {'each' if len(others) > 1 else 'it'} (against {_name(c.other)}: "
                    f"{count_text(c.mine)} vs {count_text(c.theirs)} cycles estimated, {pct_text(c.change_pct)}; timed rate "
                    f"{pct_text(t.change_pct)}{timed_group.system_time_text(subject.configuration, c.other.configuration, p)})"
                )
            text += (
                ". Opposite: "
                + "; ".join(parts)
                + ". For these the counted model (instructions and the simulated caches"
                + (", at another N" if timed_group.size != group.size else "")
                + ") does not give the timed order"
            )
        items.append(text + ".")
    if not items:
        return []
    return [
        f"**Beside the timed run** `{timed_group.path}` ({n_note}; its rates scaled by its machine-speed probe, its noise "
        "rule and its controls):"
    ] + items


def _rho(v):
    return "—" if v is None else f"{v:+.2f}".replace("-", "−")


def reason_of(message):
    """An error row's message without what names its process: 'child 18799 killed ... (under valgrind: --18799:0:
    aspacem Valgrind: FATAL: ...)' -> 'killed ... (under valgrind: Valgrind: FATAL: ...)', so that rows that failed
    alike group together."""
    reason = re.sub(r"\bchild \d+ ", "", message)
    reason = re.sub(r"(--|==)\d+(:\d+:|==)\s*(aspacem\s+)?", "", reason)
    reason = re.sub(r"\bpid \d+\b", "pid …", reason)
    return re.sub(r"\s{2,}", " ", reason).strip()


def _failed_lines(results_list):
    """Configurations with error rows, grouped by their reason (a child's pid left out): "(map, cycle)" when
    every repetition failed, "(map: 1 of 2 repetitions)" when the others were counted."""
    by_reason = {}
    for r in results_list:
        total = r.repetitions + len(r.errors)
        for _, message in r.errors:
            reason = reason_of(message)
            where = r.workload if not r.ok else f"{r.workload}: {len(r.errors)} of {total} repetitions"
            by_reason.setdefault(reason, {}).setdefault(r.configuration, {})[where] = True
    out = []
    for reason, configurations in by_reason.items():
        names = ", ".join(f"`{name}` ({', '.join(ws)})" for name, ws in configurations.items())
        out.append(f"- {names}: {reason}")
    return out


def _workload_part(g, suite, bar, timed, figures):
    timed_group = timed.group(g.workload, g.size) if timed is not None else None
    reps = sorted({c.repetitions for c in g.counted})
    reps_text = fmt.span(reps) or "no"
    intro = (
        f"{len(g.counted)} configuration{'s' if len(g.counted) != 1 else ''} counted ({reps_text} "
        f"repetition{'s; medians' if reps != [1] else ''}), per operation: the phase's count ÷ N = {format_size(g.size)}, "
        "a release step per call."
    )
    if timed is not None and timed_group is None:
        intro += f" The timed run `{timed.path}` has no result of `{g.workload}`: counts only."
    elif timed_group is not None:
        intro += (
            f" *Timed*: the timed run `{timed_group.path}` at N = {format_size(timed_group.size)}, its rate scaled by its "
            "machine-speed probe, median (interval), and 10⁹ ÷ that median in ns per op."
        )
    out = [f"### `{g.workload}`, N = {format_size(g.size)}", "", intro, ""]
    for line in figures:
        out += [line, ""]
    tables = {}
    for p in g.phases:
        tables.setdefault(p.name, []).append(p)
    for name, ps in tables.items():
        out += [f"#### {name} ({ps[0].per}{', every round' if ps[0].round is not None else ''})", ""]
        out += [_phase_table(g, ps, timed_group), ""]
    if g.rounds:
        last = [p for p in g.phases if p.round == max(q.round for q in g.phases)]
        later = [p for p in g.phases if p.round > 1]
        sentences = (
            _rounds_sentences(g, bar)
            + _reference_sentences(against_reference(g, bar, later, knobs_only=True))
            + _fewest_sentences(g, bar, last)
            + _best_malloc_sentences(g, bar, last)
            + _release_sentence(g)
        )
    else:
        sentences = (
            _fewest_sentences(g, bar, g.phases)
            + _reference_sentences(against_reference(g, bar))
            + _best_malloc_sentences(g, bar, g.phases)
            + _release_sentence(g)
        )
    flat = [c for c in g.counted if c.kind not in COMPARED_KINDS]
    if flat:
        sentences.append(f"{_names(flat)} (a different container: a bulk load, not N inserts) is in the tables, not compared.")
    out += ["- " + s for s in sentences]
    timed_lines = _timed_lines(g, timed_group, bar)
    if timed_lines:
        out += ["- " + timed_lines[0]] + timed_lines[1:]
    return out


def counts_section(results, suite, timed=None, figures=None):
    """The section "Exact cost per operation", or [] for a run that was not counted. timed: a Timed run;
    figures: {workload: [Markdown image lines]} to embed in each workload's part."""
    if not suite.exact:
        return []
    group_list = groups(results, suite)
    bar = bar_of(group_list)
    figures = figures or {}
    out = ["## Exact cost per operation", ""] + _how_counted(suite) + [""]
    if not group_list:
        return out + ["No configuration was counted: every row is an error row (see *Errors*)."]
    out += _repeatability(group_list, bar) + [""]
    for g in group_list:
        out += _workload_part(g, suite, bar, timed, figures.get(g.workload, [])) + [""]
    counted_workloads_ = {g.workload for g in group_list}
    with_errors = [r for r in results if r.errors and (r.workload in counted_workloads_ or not r.ok)]
    lines = _failed_lines(with_errors)
    if lines:
        out += (
            [
                "### Not counted",
                "",
                "Error rows, by reason (in parentheses the workloads; the repetitions, where the others were counted):",
                "",
            ]
            + lines
            + [""]
        )
    return out[:-1]


# ---------------------------------------------------------------------------------------------------
# the report of an exact run: the counts, then the results (the report shows nothing of RSS or time)


def _exact_results_table(rs, suite):
    """One row per configuration of an exact run: the cycles estimate per operation of each counted phase. Not
    the RSS or the rates: under valgrind they are valgrind's (measurement.rss_note)."""
    phases = phases_of(rs, suite)
    header = ["configuration", "kind", "runs"] + [f"{p.title}: cycles estimate {p.per}" for p in phases] + ["served by"]
    rows = []
    for r in rs:
        runs, kind = fmt.runs_and_kind(r)
        if not r.ok:
            cells = [f"not counted: {r.errors[0][1] if r.errors else 'no data'}"] + ["—"] * (len(phases) - 1)
        else:
            counted = Counted(r)
            cells = [count_text(counted.per_op(p, "cycles_estimate")) for p in phases]
        rows.append([r.configuration, kind, runs] + cells + [fmt.served_by(r)])
    return fmt.table(header, rows)


def _results(report):
    """## Results: a table per workload and N of the cycles estimates; [] without a workload of ours."""
    results, suite = report.results, report.suite
    out = []
    if report.tabled:
        out += [
            "## Results",
            "",
            "The cycles estimate per operation of every counted phase (the section above has every count). Not shown: the "
            "rows' RSS and times, which under valgrind are valgrind's; `scripts/results_csv.py` has every counter.",
            "",
        ]
    for workload in report.tabled:
        out += [f"### `{workload}`", ""]
        for size in reversed(summary.sizes(results, workload)):
            rs = summary.select(results, workload, size)
            reps = fmt.span(r.repetitions for r in rs if r.ok)
            reps_text = f"{reps} repetitions" if reps else "no successful repetition"
            out += [f"#### N = {format_size(size)} ({reps_text})", "", _exact_results_table(rs, suite), ""]
    return out[:-1]


def render(report):
    """The section "Exact cost per operation", each workload's part with its figures, then the results."""
    figures = {}
    for planned in report.plan:
        if planned.kind in PLOT_KINDS:
            figures.setdefault(planned.workload, []).append(report.image(planned))
    out = counts_section(report.results, report.suite, report.timed, figures)
    results = _results(report)
    return out + [""] + results if out and results else out + results


# ---------------------------------------------------------------------------------------------------
# the figures (drawn with plots' helpers): each title states the question it answers
#
# exact.png           per phase (insert, lookup, clear), per configuration: instructions, L1 misses and LL
#                     misses per operation, one bar per round in a workload of rounds; colour: the library family
# exact_vs_timed.png  with a timed run (--timed): per phase, the cycles estimate per operation against the timed
#                     ns per operation (10^9 / the probe-scaled median rate, whiskers: its interval), one labelled
#                     point per configuration both runs have


def figures(report):
    """exact[_<workload>] per counted workload (its largest N), and exact_vs_timed[_<workload>] beside a timed run
    that has it."""
    results, suite, timed = report.results, report.suite, report.timed
    plans, first = [], None
    for workload, size in counted_workloads(results, suite):
        if not any(r.ok for r in summary.select(results, workload, size)):
            continue
        if first is None:
            first = workload
        elif any(p.workload == workload for p in plans):
            continue  # one figure per workload: its largest N
        suffix = "" if workload == first else f"_{safe_stem(workload)}"
        n = format_size(size)
        plans.append(
            PlannedPlot(
                f"exact{suffix}",
                "exact",
                workload,
                size,
                f"Instructions, L1 and LL misses per operation, counted, {workload}, N = {n}",
                exact_figure,
            )
        )
        if timed is not None and timed.group(workload, size) is not None:
            plans.append(
                PlannedPlot(
                    f"exact_vs_timed{suffix}",
                    "exact_vs_timed",
                    workload,
                    size,
                    f"Cycles estimate per operation against the timed run's ns per operation, {workload}",
                    vs_timed_figure,
                )
            )
    return plans


# The counts exact.png shows, as (count, axis title).
_SHOWN = (("instructions", "instructions"), ("l1_misses", "L1 misses"), ("ll_misses", "LL misses"))


def _group(results, suite, planned):
    return next((g for g in groups(results, suite) if g.workload == planned.workload and g.size == planned.size), None)


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


def exact_figure(report, style, planned):
    """Horizontal bars, one row per configuration, one column per phase and count."""
    suite = report.suite
    g = _group(report.results, suite, planned)
    names = [c.configuration for c in g.counted]
    by_phase = {}
    for p in g.phases:
        if not p.per_call:
            by_phase.setdefault(p.name, []).append(p)
    colors = plots.family_colors(suite)
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
            ax.set_title(f"{name}\n{title} {phase_of(name).per}", fontsize=8.5)
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
    top = plots.title(
        fig,
        "What does each configuration execute, and miss in the simulated caches, per operation?",
        f"{planned.workload}, N = {format_size(planned.size)} · counted under callgrind, not timed · {_reps_text(g)}"
        + (" · one bar per round, round 1 on top" if rounds > 1 else "")
        + " · colour: library family",
    )
    fig.tight_layout(rect=(0, (0.5 + raised) / fig.get_figheight(), 1, top))
    return fig


def vs_timed_figure(report, style, planned):
    """Per phase: the cycles estimate per op (counted) against the timed ns per op, a labelled point per configuration."""
    suite, results = report.suite, report.results
    g = _group(results, suite, planned)
    tg = report.timed.group(planned.workload, planned.size)
    phases = [p for p in g.phases if not p.per_call]
    rows, columns = plots.grid(len(phases), 3)
    fig, axes = plt.subplots(rows, columns, figsize=(5.4 * columns, 4.6 * rows + 1.4), squeeze=False)
    colors = plots.family_colors(suite)
    bar = bar_of(groups(results, suite))
    labels, drawn = [], set()
    for i, p in enumerate(phases):
        ax = axes[i // columns][i % columns]
        items = []
        for c in g.counted:
            if c.kind not in COMPARED_KINDS:
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
        found = agreement(g, tg, p, bar)
        rho = _rho(found.rho_cycles)
        ax.set_title(f"{p.title}: Spearman ρ {rho} over {len(found.names)}", fontsize=9.5)
        ax.set_xlabel(f"cycles estimate {p.per} (counted, N = {format_size(g.size)})", fontsize=8)
        ax.set_ylabel(f"timed ns {p.per} (N = {format_size(tg.size)})", fontsize=8)
        ax.grid(color="0.92")
        ax.set_axisbelow(True)
        labels.append((ax, items))
    plots.hide_unused(axes, len(phases))
    _legend(fig, suite, colors, [c.configuration for c in g.counted if c.configuration in drawn])
    top = plots.title(
        fig,
        "Where do counting and timing agree? (a point per configuration both runs have; ρ: Spearman's rank correlation)",
        f"x: {planned.workload}, counted under callgrind · y: 10⁹ ÷ the probe-scaled median rate of {tg.path}, whiskers: its "
        "interval · like for like (no different container) · colour: library family",
    )
    fig.tight_layout(rect=(0, 0.4 / fig.get_figheight(), 1, top))
    for ax, items in labels:
        plots.place_labels(ax, items, fontsize=7)
    return fig
