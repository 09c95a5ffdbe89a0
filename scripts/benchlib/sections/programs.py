"""Real programs (./bench --scenario): the analysis of each scenario's phases and the report's section
"Real programs", one subsection per scenario in the description's order.

A scenario is a program Debian ships that reports phases (description.Scenario); at each phase bench
reads the measured process from outside: rss_<phase>. Per repetition, then the median over repetitions
(like summary.above_base, so that a table and a sentence about one reading agree):

  MB above base at a phase   (rss_<phase> - rss_<first phase>) / 1e6
  growth                     the largest of those over the later phases
  kept at a phase            MB above base at it / growth, in %; only for a growth of at least
                             MIN_GROWTH_MB (below, a share of a few pages says nothing: MB only)

The time of each timed phase (<phase>_seconds, the phases before the first settling one) is compared
with the reference configuration's (the one whose description has no reference: glibc) under the noise
rule (summary.compare_speed, lower is better); minor faults (minflt, the whole run) are named when they
are FAULT_RATIO times the reference's or more and their intervals do not overlap. Counters the program
reported itself (every counter bench does not reserve, see bench_counter) are grouped by their
_<phase> suffix and shown beside RSS at the same phase. Nothing else is claimed: every sentence is
computed from the rows it speaks of, and missing data leaves a cell "—" and a sentence unsaid.
"""

import math
import statistics
import textwrap
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from .. import plots, stats, summary
from .. import mdformat as fmt
from ..section import PROGRAMS, PlannedPlot
from ..summary import GIVES_BACK_PCT, KEEPS_PCT, MB

RUNS = (PROGRAMS,)

# Below this growth (MB above the base phase) shares of it are not computed: kept is given in MB.
MIN_GROWTH_MB = 5.0
# "Gives most of it back": less than this share of the growth kept at the last phase.
MOST_PCT = 50.0
# Minor-fault counts are named beside the reference's when they differ by this factor or more.
FAULT_RATIO = 2.0
# A program figure "does not move" under a configuration when it stays within STEADY_MB over every
# phase, against one that moves by at least MOVES_MB under another.
STEADY_MB = 1.0
MOVES_MB = 5.0

NOT_SERVED = "not served by "

# What a timed phase's time does and does not account for. Other children of the run settle while the next one
# measures (./bench --max-settling), so the time is not that of a quiet machine; nothing in this run's rows records
# the CPU used beside a timed phase, and the text claims no more.
TIMED_PHASES = (
    "*timed* phases are those before the first settling one; other children of the run may have been settling beside "
    "them (up to `--max-settling`, some of them busy), and this run does not record how much CPU was used beside them"
)

# The figures of this section (figures() below), embedded in it rather than after the results.
PLOT_KINDS = ("programs", "programs_timeline")


@dataclass
class ProgramResult:
    """One configuration in one scenario: a summary.ConfigResult read through the scenario's phases."""

    scenario: object  # description.Scenario
    result: object  # summary.ConfigResult

    @property
    def configuration(self):
        return self.result.configuration

    @property
    def ok(self):
        return self.result.ok and self.result.median(self.rss(self.base_phase)) is not None

    @property
    def base_phase(self):
        return self.scenario.phases[0].name

    @property
    def later_phases(self):
        return self.scenario.phase_names[1:]

    @property
    def last_phase(self):
        return self.scenario.phase_names[-1]

    @staticmethod
    def rss(phase):
        return f"rss_{phase}"

    def error(self):
        """(not served, message): the first failed repetition's message, without "not served by X: "."""
        if not self.result.errors:
            return False, "no data"
        message = self.result.errors[0][1]
        if message.startswith(NOT_SERVED):
            return True, message.split(": ", 1)[1] if ": " in message else message
        return False, message

    def above_mb(self, phase):
        """MB above the base phase at `phase`."""
        return summary.per_repetition(self.result, [self.rss(phase), self.rss(self.base_phase)], lambda v, b: (v - b) / MB)

    def absolute(self, counter):
        return self.result.median(counter)

    def _growth(self, *values):
        base, later = values[0], values[1:]
        return (max(later) - base) / MB if later else None

    def growth_mb(self):
        """The largest phase reading minus base, MB."""
        counters = [self.rss(self.base_phase)] + [self.rss(p) for p in self.later_phases]
        return summary.per_repetition(self.result, counters, self._growth)

    def shares(self):
        """True when the growth is large enough for kept shares."""
        growth = self.growth_mb()
        return growth is not None and growth >= MIN_GROWTH_MB

    def kept_pct(self, phase):
        """MB above base at `phase` in % of the growth, None below MIN_GROWTH_MB of growth."""
        if not self.shares():
            return None
        counters = [self.rss(phase), self.rss(self.base_phase)] + [self.rss(p) for p in self.later_phases]

        def share(value, base, *later):
            top = max(later) - base
            return (value - base) / top * 100 if top > 0 else None

        return summary.per_repetition(self.result, counters, share)

    def peak_phase(self):
        """The later phase with the most MB above base (medians; the first of equals)."""
        readings = [(p, self.above_mb(p)) for p in self.later_phases]
        readings = [(p, v) for p, v in readings if v is not None]
        return max(readings, key=lambda pv: pv[1])[0] if readings else None

    def after_peak(self):
        """The phase after the peak phase, None when the peak is the last phase."""
        peak = self.peak_phase()
        names = self.scenario.phase_names
        if peak is None or names.index(peak) + 1 >= len(names):
            return None
        return names[names.index(peak) + 1]

    def first_phase(self, holds):
        """The first phase after the peak whose kept share (%) satisfies `holds`, or None."""
        peak = self.peak_phase()
        if peak is None:
            return None
        names = self.scenario.phase_names
        for p in names[names.index(peak) + 1 :]:
            kept = self.kept_pct(p)
            if kept is not None and holds(kept):
                return p
        return None

    def seconds(self, phase):
        return self.result.spread(f"{phase}_seconds")

    def hwm_mb(self):
        """The kernel's high-water mark of the measured process(es), MB above base."""
        return summary.per_repetition(self.result, ["hwm_peak", self.rss(self.base_phase)], lambda v, b: (v - b) / MB)

    def kept_text(self, phase):
        """'90.4 %' with a growth of MIN_GROWTH_MB or more, else '0.6 MB'; '—' without a phase."""
        if phase is None:
            return "—"
        if self.shares():
            return fmt.pct(self.kept_pct(phase))
        mb = self.above_mb(phase)
        return "—" if mb is None else f"{fmt.mb(mb)} MB"


def reference_of(rows):
    """The ProgramResult of the configuration without a reference (glibc), or None."""
    return next((r for r in rows if r.result.config is not None and not r.result.config.reference), None)


def scenario_results(results, suite):
    """[(Scenario, [ProgramResult])] in the description's order of scenarios, rows in the results' order."""
    out = []
    for name, scenario in suite.scenarios.items():
        rows = [ProgramResult(scenario, r) for r in results if r.workload == name]
        if rows:
            out.append((scenario, rows))
    return out


def is_default(suite, name):
    """True for a library's default configuration: no reference, or one of another library (busy.libraries)."""
    c = suite.configuration(name)
    if c is None:
        return False
    ref = suite.configuration(c.reference) if c.reference else None
    return ref is None or ref.library != c.library


def returns_most(row):
    """True when less than MOST_PCT % of a growth of at least MIN_GROWTH_MB is kept at the last phase."""
    kept = row.kept_pct(row.last_phase) if row.ok else None
    return kept is not None and kept < MOST_PCT


def plottable(results, suite):
    """True when programs.png has a configuration with phase readings to draw."""
    return any(r.ok for _, rows in scenario_results(results, suite) for r in rows)


def timeline_plottable(results, suite):
    """True when programs_timeline.png has a series with samples to draw."""
    return any(
        r.ok and any(entry.get("seconds") for entry in suite.series.get(r.result.run_name, []))
        for _, rows in scenario_results(results, suite)
        for r in rows
    )


# ---------------------------------------------------------------------------------------------------
# program figures: the counters the program reported, by their _<phase> suffix


def program_figures(rows, suite):
    """({figure: {phase: counter}}, [counters with no phase suffix]) of what the rows' program reported
    (the counters the description marks as the program's own)."""
    scenario = rows[0].scenario
    # The longest phase name first, so that "x_re_used" belongs to a phase "re_used" rather than to "used".
    phases = sorted(scenario.phase_names, key=len, reverse=True)
    present = sorted({name for r in rows for name in r.result.quantities if suite.is_program_counter(name)})
    figures, others = {}, []
    for name in present:
        phase = next((p for p in phases if name.endswith("_" + p) and len(name) > len(p) + 1), None)
        if phase is None:
            others.append(name)
            continue
        figures.setdefault(name[: -len(phase) - 1], {})[phase] = name
    ordered = {}
    for figure in sorted(figures):
        ordered[figure] = {p: figures[figure][p] for p in scenario.phase_names if p in figures[figure]}
    return ordered, others


def used_memory_like(figure, unit):
    """A byte figure named *used_memory: what the program counts as its own memory in use."""
    return unit == "bytes" and (figure == "used_memory" or figure.endswith("_used_memory"))


def _value_text(value, unit):
    if value is None:
        return "—"
    if unit == "bytes":  # two decimals under 0.1 MB, where one would read as nothing
        return fmt.mb(value / MB) if abs(value) >= 0.1 * MB else f"{value / MB:.2f}"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.4g}"


# ---------------------------------------------------------------------------------------------------
# sentences


def _names(rows):
    return ", ".join(r.configuration for r in rows)


def _kept_phrase(row, phase):
    """'19.7 MB above base (90.4 %)' or '0.6 MB above base'."""
    mb = row.above_mb(phase)
    if mb is None:
        return "no reading"
    pct = row.kept_pct(phase)
    return f"{fmt.mb_unit(mb)} above base" + (f" ({fmt.pct(pct)} of the growth)" if pct is not None else "")


def reference_sentence(ref):
    """What the reference keeps after its peak and at the end."""
    growth, peak, after, last = ref.growth_mb(), ref.peak_phase(), ref.after_peak(), ref.last_phase
    if growth is None or peak is None:
        return None
    text = f"**{ref.configuration}** (the reference) grows {fmt.mb_unit(growth)} above base, most at *{peak}*"
    if growth < MIN_GROWTH_MB:
        text += f" (under {MIN_GROWTH_MB:g} MB: kept is given in MB only)"
    if after is None:
        return text + f", its last phase: it gives nothing back within the run ({_kept_phrase(ref, peak)})."
    text += f"; after that peak, at *{after}*, it still holds {_kept_phrase(ref, after)}"
    if after != last:
        text += f", and at *{last}*, the end, {_kept_phrase(ref, last)}"
    else:
        text += ", the end"
    return text + "."


def _class_item(r, holds):
    by = r.first_phase(holds)
    return (
        f"{r.configuration} ({fmt.pct(r.kept_pct(r.last_phase))}, {fmt.mb_unit(r.above_mb(r.last_phase))}"
        + (f"; by *{by}*" if by else "")
        + ")"
    )


def retention_sentences(rows):
    """Who gives back, who gives most back, who keeps part, who keeps it all, at the last phase."""
    ok = [r for r in rows if r.ok]
    shared = [r for r in ok if r.kept_pct(r.last_phase) is not None]
    out = []
    small = [r for r in ok if r not in shared]
    if shared:
        last = shared[0].last_phase
        kept = {r.configuration: r.kept_pct(last) for r in shared}
        back = [r for r in shared if kept[r.configuration] <= GIVES_BACK_PCT]
        most = [r for r in shared if GIVES_BACK_PCT < kept[r.configuration] < MOST_PCT]
        part = [r for r in shared if MOST_PCT <= kept[r.configuration] < KEEPS_PCT]
        keep = [r for r in shared if kept[r.configuration] >= KEEPS_PCT]
        if back:
            out.append(
                f"**Give it back** (≤ {GIVES_BACK_PCT:g} % of the growth kept at *{last}*; *by*: the first phase after the "
                "peak where it was so): " + "; ".join(_class_item(r, lambda k: k <= GIVES_BACK_PCT) for r in back) + "."
            )
        if most:
            out.append(
                f"**Give most of it back** ({GIVES_BACK_PCT:g}–{MOST_PCT:g} % kept at *{last}*; *by*: the first phase under "
                f"{MOST_PCT:g} %): " + "; ".join(_class_item(r, lambda k: k < MOST_PCT) for r in most) + "."
            )
        if part:
            out.append(
                f"**Keep part** ({MOST_PCT:g}–{KEEPS_PCT:g} % kept at *{last}*): "
                + "; ".join(f"{r.configuration} ({fmt.pct(kept[r.configuration])})" for r in part)
                + "."
            )
        if keep:
            out.append(
                f"**Keep it** (≥ {KEEPS_PCT:g} % kept at *{last}*): "
                + ", ".join(f"{r.configuration} ({fmt.pct(kept[r.configuration])})" for r in keep)
                + "."
            )
    if small:
        values = [(r, r.above_mb(r.last_phase)) for r in small if r.above_mb(r.last_phase) is not None]
        if values:
            low, high = min(values, key=lambda rv: rv[1]), max(values, key=lambda rv: rv[1])
            out.append(
                f"Growth under {MIN_GROWTH_MB:g} MB ({_names(small)}): no share computed; at *{small[0].last_phase}* "
                + (
                    f"{fmt.mb_unit(low[1])} above base"
                    if low is high
                    else f"from {fmt.mb_unit(low[1])} ({low[0].configuration}) to {fmt.mb_unit(high[1])} ({high[0].configuration}) above base"
                )
                + "."
            )
    failed = [r for r in rows if not r.ok]
    if failed:
        parts = []
        for r in failed:
            not_served, message = r.error()
            parts.append(f"{r.configuration} ({'not served: ' if not_served else 'failed: '}{message})")
        out.append("**No result**: " + "; ".join(parts) + ".")
    return out


def trust_clause(comparisons):
    """How far to trust "differs" among `comparisons` (judged ones): the range rule below 6 repetitions
    and how many false *differs* the rule gives by chance among them."""
    if not comparisons:
        return ""
    n = min(min(c.subject.spread(c.rate).n, c.other.spread(c.rate).n) for c in comparisons)
    text = ""
    if n < summary.RANGE_BELOW:
        text = (
            f"with {n} repetitions an interval is the range (min–max), and two equally fast configurations have ranges "
            f"that do not overlap {stats.range_false_alarm(n, n) * 100:.0f} % of the time"
        )
    else:
        text = "95 % intervals of the median"
    if len(comparisons) > 1:
        text += (
            f"; among these {len(comparisons)} comparisons about {summary.expected_false_alarms(comparisons):.1f} would *differ* by chance "
            "alone"
        )
    return text


def compared_phases(scenario):
    """The timed phases whose times are compared: all but the first, which also times the program's start (exec,
    the loader, the interpreter) right after another program's run; in a run interleaved by rounds the reference
    always starts first in its round, after the same other program."""
    return scenario.timed_phases[1:]


def time_comparisons(rows, ref, controls=None):
    """[(ProgramResult, phase, SpeedComparison)] of every other row's compared phases against the reference."""
    out = []
    for r in rows:
        if r is ref or not r.ok:
            continue
        for phase in compared_phases(r.scenario):
            c = summary.compare_speed(r.result, ref.result, f"{phase}_seconds", controls)
            if c is not None:
                out.append((r, phase, c))
    return out


def _phase_time_text(ref, phase, found):
    """'*freed* (glibc 133 ms): shorter under jemalloc 102 ms (-23.5 %); longer under ...; the others not shown
    to differ' for one timed phase."""
    rate = f"{phase}_seconds"
    here = [(r, c) for r, p, c in found if p == phase]
    if not here:
        return None
    shorter = [(r, c) for r, c in here if summary.shown(c) and c.ratio < 1]
    longer = [(r, c) for r, c in here if summary.shown(c) and c.ratio > 1]
    unjudged = [r for r, c in here if c.verdict == stats.NO_VERDICT]
    rest = len(here) - len(shorter) - len(longer) - len(unjudged)

    def items(pairs):
        return ", ".join(f"{r.configuration} {fmt.duration(c.subject.median(rate))} ({c.change_pct:+.1f} %)" for r, c in pairs)

    parts = []
    if shorter:
        parts.append("shorter under " + items(shorter))
    if longer:
        parts.append("longer under " + items(longer))
    if unjudged:
        parts.append("no verdict (one repetition) for " + _names(unjudged))
    if rest:
        parts.append("not shown to differ under " + ("any other" if rest == len(here) else "the others"))
    return f"*{phase}* ({ref.configuration} {fmt.duration(ref.result.median(rate))}): " + "; ".join(parts)


def time_sentence(rows, ref):
    """The timed phases against the reference, under the noise rule (lower is better)."""
    found = time_comparisons(rows, ref, summary.controls_of([r.result for r in rows]))
    if not found:
        return None
    judged = [c for _, _, c in found if c.verdict != stats.NO_VERDICT]
    if not judged:
        return (
            f"**Time of the timed phases**: one repetition, so no verdict against {ref.configuration} (the noise rule "
            "needs at least 2)."
        )
    phases = [t for t in (_phase_time_text(ref, p, found) for p in compared_phases(ref.scenario)) if t]
    first = ref.scenario.timed_phases[0]
    text = (
        f"**Time of the timed phases against {ref.configuration}** (lower is better; medians and the noise rule: "
        + trust_clause(judged)
        + "): "
        + "; ".join(phases)
        + f". *{first}* is not compared: it also times the program's start, which depends on what ran just before it "
        f"(interleaved by rounds, {ref.configuration} always starts right after another scenario's last configuration)."
    )
    claimed = sum(1 for c in judged if summary.shown(c))
    expected = summary.expected_false_alarms(judged)
    if claimed and claimed <= expected:
        text += (
            f" {claimed} of the {len(judged)} differ, where about {expected:.1f} would by chance alone: as many as noise "
            "gives, so trust only a large difference, or one that repeats in a run with more repetitions."
        )
    return text


def faults_sentence(rows, ref):
    """Minor page faults over the whole run against the reference's, where FAULT_RATIO apart."""
    theirs = ref.result.spread("minflt")
    if theirs is None or not theirs.median:
        return None
    if not any(r is not ref and r.ok and r.result.spread("minflt") is not None for r in rows):
        return None  # no other configuration to set beside it (a run of one configuration)
    more, fewer, overlap, unjudged = [], [], [], []
    for r in rows:
        mine = r.result.spread("minflt") if r is not ref and r.ok else None
        if mine is None:
            continue
        ratio = mine.median / theirs.median
        if 1 / FAULT_RATIO < ratio < FAULT_RATIO:
            continue
        verdict = stats.compare(mine, theirs)
        item = f"{r.configuration} {mine.median:,.0f} ({ratio:.2g}×)"
        if verdict == stats.DIFFERS:
            (more if ratio > 1 else fewer).append(item)
        else:
            (unjudged if verdict == stats.NO_VERDICT else overlap).append(item)
    text = f"**Minor page faults** over the whole run, against {ref.configuration}'s {theirs.median:,.0f}: "
    parts = []
    if more:
        parts.append(f"{FAULT_RATIO:g}× or more under " + ", ".join(more))
    if fewer:
        parts.append(f"1/{FAULT_RATIO:g} or fewer under " + ", ".join(fewer))
    if overlap:
        parts.append("not shown (the intervals overlap) under " + ", ".join(overlap))
    if unjudged:
        parts.append("no verdict (one repetition) under " + ", ".join(unjudged))
    if not parts:
        return text + f"every other configuration within {FAULT_RATIO:g}× of it."
    return text + "; ".join(parts) + f"; the others within {FAULT_RATIO:g}×."


def variant_sentence(rows, by_scenario):
    """Against the scenario this one varies: what each configuration keeps at the end, in both."""
    scenario = rows[0].scenario
    if not scenario.variant_of or scenario.variant_of not in by_scenario:
        return None
    theirs = {r.configuration: r for r in by_scenario[scenario.variant_of] if r.ok}
    pairs = [(r, theirs[r.configuration]) for r in rows if r.ok and r.configuration in theirs]
    pairs = [(a, b) for a, b in pairs if a.above_mb(a.last_phase) is not None and b.above_mb(b.last_phase) is not None]
    if not pairs:
        return None
    delta = [(a, a.above_mb(a.last_phase) - b.above_mb(b.last_phase)) for a, b in pairs]
    more = [a for a, d in delta if d >= STEADY_MB]
    less = [a for a, d in delta if d <= -STEADY_MB]
    same = [a for a, d in delta if -STEADY_MB < d < STEADY_MB]
    ref = reference_of([a for a, _ in pairs])
    text = f"**Against `{scenario.variant_of}`** (the same program without the change), at the end: "
    if ref is not None:
        other = theirs[ref.configuration]
        text += (
            f"{ref.configuration} keeps {fmt.mb_unit(ref.above_mb(ref.last_phase))} above base at *{ref.last_phase}* instead of "
            f"{fmt.mb_unit(other.above_mb(other.last_phase))}; "
        )
    counts = [
        (more, f"at least {STEADY_MB:g} MB more"),
        (less, f"at least {STEADY_MB:g} MB less"),
        (same, f"within {STEADY_MB:g} MB"),
    ]
    text += (
        f"of {len(pairs)} configurations, "
        + ", ".join(f"{len(g)} keep{'s' if len(g) == 1 else ''} {what} ({_names(g)})" for g, what in counts if g)
        + "."
    )
    return text


def figure_sentences(rows, figures, units):
    """For a used_memory-like figure: RSS beside it under the reference after its peak and at the end, and
    the gap over the configurations; for any byte figure that does not move under some configurations
    while it moves under others: which."""
    ok = [r for r in rows if r.ok]
    ref = reference_of(ok)
    unit = {figure: units.get(next(iter(by_phase.values()))) for figure, by_phase in figures.items()}
    used = [
        _used_memory_sentence(ok, ref, figure, by_phase)
        for figure, by_phase in figures.items()
        if ref is not None and used_memory_like(figure, unit[figure])
    ]
    steady = [_steady_sentence(ok, figure, by_phase) for figure, by_phase in figures.items() if unit[figure] == "bytes"]
    return [s for s in used + steady if s]


def _gap(row, phase, counter):
    """Median over repetitions of RSS at `phase` minus the program's `counter`, MB."""
    return summary.per_repetition(row.result, [row.rss(phase), counter], lambda rss, own: (rss - own) / MB)


def _used_memory_sentence(ok, ref, figure, by_phase):
    readings = [(p, ref.absolute(c)) for p, c in by_phase.items() if ref.absolute(c) is not None]
    if not readings:
        return None
    peak = max(readings, key=lambda pv: pv[1])[0]
    names = list(by_phase)
    after = names[names.index(peak) + 1] if names.index(peak) + 1 < len(names) else None
    last = names[-1]

    def pair(phase):
        rss, own = ref.absolute(ref.rss(phase)), ref.absolute(by_phase[phase])
        return None if rss is None or own is None else (rss, own)

    moments = [p for p in dict.fromkeys([after, last]) if p is not None and pair(p) is not None]
    if not moments:
        return None
    text = f"**RSS beside the program's own `{figure}`**, under {ref.configuration}: " + "; ".join(
        f"{'after' if p == after else 'at'} *{p}*{', the end,' if p == last and p != after else ''} RSS is "
        f"{fmt.mb_unit(pair(p)[0] / MB)} while `{figure}` is {fmt.mb_unit(pair(p)[1] / MB)}"
        for p in moments
    )
    gaps = [(r, _gap(r, last, by_phase[last])) for r in ok]
    gaps = [(r, g) for r, g in gaps if g is not None]
    if len(gaps) > 1:
        low, high = min(gaps, key=lambda rg: rg[1]), max(gaps, key=lambda rg: rg[1])
        text += (
            f". At *{last}* RSS exceeds `{figure}` by {fmt.mb_unit(low[1])} ({low[0].configuration}) to {fmt.mb_unit(high[1])} "
            f"({high[0].configuration})"
        )
    return text + "."


def _span(low, high):
    a, b = fmt.small_mb(low), fmt.small_mb(high)
    if a == b:
        return a
    return f"{fmt.mb(low)}–{b}" if a.endswith(" MB") and b.endswith(" MB") else f"{a}–{b}"


def _steady_sentence(ok, figure, by_phase):
    spans = []
    for r in ok:
        values = [r.absolute(c) for c in by_phase.values()]
        values = [v for v in values if v is not None]
        if values:
            spans.append((r, min(values) / MB, max(values) / MB))
    steady = [(r, lo, hi) for r, lo, hi in spans if hi - lo < STEADY_MB]
    moving = [(r, lo, hi) for r, lo, hi in spans if hi - lo >= MOVES_MB]
    if not steady or not moving:
        return None
    return (
        f"`{figure}` stays within {STEADY_MB:g} MB over every phase under {_names(r for r, _, _ in steady)} "
        f"({_span(min(lo for _, lo, _ in steady), max(hi for _, _, hi in steady))}), while it moves by "
        f"{_span(min(hi - lo for _, lo, hi in moving), max(hi - lo for _, lo, hi in moving))} under "
        f"{_names(r for r, _, _ in moving)}."
    )


# ---------------------------------------------------------------------------------------------------
# tables


def _runs(r):
    total = r.result.repetitions + len(r.result.errors)
    return f"{r.result.repetitions}" if not r.result.errors else f"{r.result.repetitions} of {total}"


def phases_table(rows):
    """One row per configuration: MB above base at each later phase, growth, kept after the peak and at the
    end, each timed phase's time, the high-water mark."""
    scenario = rows[0].scenario
    later, timed = scenario.phase_names[1:], scenario.timed_phases
    ok = [r for r in rows if r.ok]
    afters = {r.after_peak() for r in ok}
    common_after = afters.pop() if len(afters) == 1 else None
    after_title = f"kept at {common_after} (after the peak)" if common_after else "kept after the peak (at)"
    header = (
        ["configuration", "runs"]
        + [f"{p} (MB)" for p in later]
        + ["growth (MB)", after_title, f"kept at {scenario.phase_names[-1]} (end)"]
        + [f"{p} (time)" for p in timed]
        + ["high-water mark (MB)"]
    )
    table = []
    for r in rows:
        if not r.ok:
            not_served, message = r.error()
            table.append(
                [r.configuration, _runs(r), ("not served: " if not_served else "failed: ") + message] + ["—"] * (len(header) - 3)
            )
            continue
        after = r.after_peak()
        after_cell = r.kept_text(after)
        if common_after is None and after is not None:
            after_cell += f" ({after})"
        table.append(
            [r.configuration, _runs(r)]
            + [fmt.mb(r.above_mb(p)) for p in later]
            + [fmt.mb(r.growth_mb()), after_cell, r.kept_text(r.last_phase)]
            + ["—" if r.seconds(p) is None else fmt.duration(r.seconds(p).median) for p in timed]
            + [fmt.mb(r.hwm_mb())]
        )
    return fmt.table(header, table)


def figures_table(rows, figures, units):
    """Per configuration, RSS read from outside at each phase, then each figure the program reported at
    the same phase (MB for bytes)."""
    scenario = rows[0].scenario
    header = ["configuration", "figure"] + scenario.phase_names
    table = []
    for r in rows:
        if not r.ok:
            continue
        table.append(
            [r.configuration, "RSS (read from outside, MB)"]
            + [_value_text(r.absolute(r.rss(p)), "bytes") for p in scenario.phase_names]
        )
        for figure, by_phase in figures.items():
            unit = units.get(next(iter(by_phase.values())))
            table.append(
                ["", f"`{figure}`" + (" (MB)" if unit == "bytes" else "")]
                + [_value_text(r.absolute(by_phase[p]), unit) if p in by_phase else "—" for p in scenario.phase_names]
            )
    return fmt.table(header, table)


# ---------------------------------------------------------------------------------------------------
# the section


def _intro(suite, results, n_scenarios):
    references = list(dict.fromkeys(r.configuration for r in results if r.config is not None and not r.config.reference))
    reference = (
        f"The reference, against which times and faults are compared, is {', '.join(references)} (no reference of its own)."
        if references
        else "No configuration without a reference ran: times and faults are not compared."
    )
    order = "interleaved" if suite.order.startswith("rounds") else "in random order"
    reps_text = fmt.span(r.repetitions for r in results if r.ok) or "no successful"
    scale = f"at {suite.scenario_scale:g} of its full size (--scenario-scale)" if suite.scenario_scale is not None else ""
    settle = summary.settle_label(suite)
    return [
        "## Real programs",
        "",
        f"{n_scenarios} program{'s' if n_scenarios != 1 else ''} Debian ships, each a scenario file in "
        f"`benchmarks/scenarios/`, run {scale} in a fresh process under every process-level configuration "
        f"({reps_text} repetition{'' if reps_text == '1' else 's'}, {order}{f'; settle period {settle}' if settle else ''}). "
        "The program reports "
        "its *phases*; at each one bench reads the measured process's RSS from outside (`/proc/<pid>/smaps_rollup`). "
        "Tables give medians over repetitions, in MB (10⁶ bytes) above the first phase (*base*); *growth* is the largest "
        f"phase reading above base; *kept* is what is above base at a phase in % of the growth (in MB when the growth is "
        f"under {MIN_GROWTH_MB:g} MB); {TIMED_PHASES}; a timed phase's time is since the previous phase (the first: since "
        "the program started); *high-water mark*: the kernel's peak RSS (VmHWM) above "
        "base, which sees what sampling between phases misses. " + reference,
        "",
    ]


def _skipped_text(suite):
    """The configurations the run left out, grouped by their reason."""
    by_reason = {}
    for s in suite.scenario_skipped:
        by_reason.setdefault(s.reason, []).append(f"`{s.configuration}`")
    if not by_reason:
        return []
    return [
        "Not run (a program cannot be given them from outside): "
        + "; ".join(f"{', '.join(names)}: {reason}" for reason, names in by_reason.items())
        + ".",
        "",
    ]


def _scenario_header(scenario, by_scenario):
    """The scenario's heading, what it does, its program and its phases. A variant's description is its base's (the
    scenario file's header), so it is given as the base's, after the one change the variant makes; not at all when the
    base has its own subsection in the report."""
    if scenario.variant_of:
        env = ", ".join(f"`{k}={v}`" for k, v in scenario.environment.items())
        text = f"`{scenario.variant_of}` with one change: {scenario.variant_change or 'another environment'}" + (
            f" ({env})." if env else "."
        )
        if scenario.variant_of in by_scenario:
            text += f" `{scenario.variant_of}`'s own subsection says what it does."
        else:
            text += f" What `{scenario.variant_of}` does: {scenario.demonstrates}."
    else:
        text = scenario.demonstrates[:1].upper() + scenario.demonstrates[1:] + "."
        if scenario.environment:
            text += " Environment: " + ", ".join(f"`{k}={v}`" for k, v in scenario.environment.items()) + "."
    if scenario.needs:
        text += " Program: " + ", ".join(f"`{n.program}` (Debian package `{n.package}`)" for n in scenario.needs) + "."
    if scenario.measure:
        text += f" Measured: the processes named `{scenario.measure}` in its tree."
    out = [f"### `{scenario.name}`", "", text]
    timed = set(scenario.timed_phases)
    out += [""] + [
        f"- *{p.name}* ({'timed' if p.name in timed else 'settling, not timed'}): {p.description}" for p in scenario.phases
    ]
    return out


def render_scenario(rows, suite, by_scenario):
    scenario = rows[0].scenario
    out = _scenario_header(scenario, by_scenario) + ["", phases_table(rows), ""]
    ref = reference_of([r for r in rows if r.ok])
    sentences = []
    if ref is not None:
        sentences.append(reference_sentence(ref))
    sentences += retention_sentences(rows)
    if ref is not None:
        sentences += [time_sentence(rows, ref), faults_sentence(rows, ref)]
    else:
        failed = reference_of(rows)
        sentences.append(
            f"The reference ({failed.configuration}) has no result: no time or fault comparison."
            if failed is not None
            else "No configuration without a reference ran: no time or fault comparison."
        )
    sentences.append(variant_sentence(rows, by_scenario))
    figures, others = program_figures(rows, suite)
    sentences += figure_sentences(rows, figures, suite.units)
    out += ["- " + s for s in sentences if s]
    if figures:
        out += [
            "",
            "The program's own figures (its counters `<figure>_<phase>`), beside RSS at the same phase (medians; bytes in MB):",
            "",
            figures_table(rows, figures, suite.units),
        ]
    if others:
        out += ["", "Also reported by the program, not per phase: " + ", ".join(f"`{c}`" for c in others) + "."]
    return out


def render(report):
    """The section "Real programs", or [] for a run without scenarios."""
    results, suite, figures = report.results, report.suite, report.images(PLOT_KINDS)
    found = scenario_results(results, suite)
    if not found:
        return []
    by_scenario = {s.name: rows for s, rows in found}
    out = _intro(suite, [r.result for _, rows in found for r in rows], len(found)) + _skipped_text(suite)
    for line in figures:
        out += [line, ""]
    for _, rows in found:
        out += render_scenario(rows, suite, by_scenario) + [""]
    return out[:-1]


# ---------------------------------------------------------------------------------------------------
# the figures (drawn with plots' helpers): each title states the question it answers
#
# programs.png           one panel per scenario: for every configuration, the growth (the largest phase
#                        reading above base) and what is kept at the last phase, MB above base
# programs_timeline.png  one panel per scenario: RSS over the program's life (from execve) for each
#                        library's default configuration and the configurations that give most of the
#                        growth back, with the phases marked


def figures(report):
    results, suite = report.results, report.suite
    scenarios = tuple(w for w in summary.workloads(results, suite) if w in suite.scenarios)
    out = []
    if scenarios and plottable(results, suite):
        out.append(
            PlannedPlot(
                "programs",
                "programs",
                scenarios,
                None,
                "What each real program keeps at the end of what it grew, per configuration",
                programs_figure,
            )
        )
    if scenarios and timeline_plottable(results, suite):
        out.append(
            PlannedPlot(
                "programs_timeline",
                "programs_timeline",
                scenarios,
                None,
                "Each real program's RSS over its life and phases: each library's default and the configurations that give "
                "most back",
                timeline_figure,
            )
        )
    return out


_MAX_COLUMNS = 7


def _medians_text(results):
    counts = sorted({r.repetitions for r in results if r.ok})
    if not counts:
        return "no successful runs"
    return f"medians of {fmt.span(counts)} runs"


def _configurations(suite, found):
    """Every configuration with a row in some scenario, in the description's order."""
    present = {r.configuration for _, rows in found for r in rows}
    ordered = [name for name in suite.configurations if name in present]
    return ordered + sorted(present - set(ordered))


def programs_figure(report, style, planned):
    """Per scenario, per configuration: the growth (light bar) and what is kept at the end (solid bar)."""
    suite = report.suite
    found = scenario_results(report.results, suite)
    names = _configurations(suite, found)
    colors = plots.family_colors(suite)
    rows, columns = plots.grid(len(found), _MAX_COLUMNS)
    fig, axes = plt.subplots(
        rows, columns, figsize=(2.0 + 2.2 * columns, (0.8 + 0.24 * len(names)) * rows + 1.5), squeeze=False, sharey=True
    )
    for k, (scenario, scenario_rows) in enumerate(found):
        ax = axes[k // columns][k % columns]
        by_name = {r.configuration: r for r in scenario_rows}
        top = max([r.growth_mb() or 0.0 for r in scenario_rows if r.ok] + [1.0])
        for i, name in enumerate(names):
            r = by_name.get(name)
            config = suite.configuration(name)
            color = colors.get(config.family if config is not None else None, "0.4")
            if r is None:
                ax.text(0, i, " not run", va="center", fontsize=6.5, color="0.55")
                continue
            if not r.ok:
                not_served, _ = r.error()
                ax.text(
                    0, i, " not served" if not_served else " failed", va="center", fontsize=6.5, color="#b2182b", style="italic"
                )
                continue
            growth, kept = r.growth_mb() or 0.0, r.above_mb(r.last_phase) or 0.0
            ax.barh(i, growth, height=0.8, color=color, alpha=0.3, linewidth=0)
            ax.barh(i, kept, height=0.45, color=color, linewidth=0)
            ax.text(max(growth, kept, 0.0) + top * 0.03, i, r.kept_text(r.last_phase), va="center", fontsize=6.5, color="0.2")
        ax.set_xlim(min(0.0, ax.get_xlim()[0]), top * 1.5)
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.set_yticks(range(len(names)), names, fontsize=7.5)
        ax.set_title(f"{scenario.name}\nkept at {scenario.phase_names[-1]}", fontsize=9)
        ax.set_xlabel("MB above base", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", color="0.92")
        ax.set_axisbelow(True)
    plots.hide_unused(axes, len(found))
    used = list(dict.fromkeys(suite.configuration(n).family for n in names if suite.configuration(n) is not None))
    handles = [Patch(color=colors[f], label=f) for f in used] + [
        Patch(color="0.5", alpha=0.3, label="growth: the largest phase reading"),
        Patch(color="0.5", label="kept at the last phase"),
    ]
    height = fig.get_figheight()
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), frameon=False, fontsize=8)
    top = plots.title(
        fig,
        "What does each real program still hold at its end, of what it grew, under each allocator?",
        f"MB above the program's base phase · label: kept in % of the growth (in MB when it is under {MIN_GROWTH_MB:g} MB) · "
        f"{_medians_text([r.result for _, rs in found for r in rs])}",
    )
    fig.tight_layout(rect=(0, 0.55 / height, 1, top))
    return fig


def _phase_times(suite, row):
    """{phase: median seconds after execve} over the row's repetitions."""
    times = {}
    for entry in suite.phase_times(row.result.run_name):
        for phase, t in entry.items():
            times.setdefault(phase, []).append(t)
    return {p: statistics.median(ts) for p, ts in times.items()}


# At most this many configurations that give most back are drawn beside the defaults (those keeping least).
_MOST_GIVERS = 3


def _drawn(suite, rows):
    """(drawn, left out): each library's default with a timeline, and the configurations that give most of
    the growth back, the _MOST_GIVERS keeping least drawn, the others named."""
    timed = [r for r in rows if r.ok and any(e.get("seconds") for e in suite.series.get(r.result.run_name, []))]
    defaults = [r for r in timed if is_default(suite, r.configuration)]
    givers = sorted((r for r in timed if r not in defaults and returns_most(r)), key=lambda r: r.kept_pct(r.last_phase))
    chosen = {id(r) for r in defaults + givers[:_MOST_GIVERS]}
    return [r for r in timed if id(r) in chosen], givers[_MOST_GIVERS:]


def timeline_figure(report, style, planned):
    """Per scenario: RSS over the program's life of each library's default and of the configurations that
    give most of the growth back; markers at each phase's reading, dotted lines at the phases."""
    suite = report.suite
    found = [(s, rows) for s, rows in scenario_results(report.results, suite)]
    rows_of, columns = plots.grid(len(found), 2)
    fig, axes = plt.subplots(rows_of, columns, figsize=(7.2 * columns, 3.6 * rows_of + 1.4), squeeze=False)
    for k, (scenario, scenario_rows) in enumerate(found):
        ax = axes[k // columns][k % columns]
        drawn, left_out = _drawn(suite, scenario_rows)
        left, right = math.inf, 0.0
        marks = {}
        for r in drawn:
            name = r.configuration
            role = "default" if is_default(suite, name) else "gives most back"
            labelled = False
            for entry in suite.series.get(r.result.run_name, []):
                ts = [max(t, 1e-3) for t in entry.get("seconds", [])]
                if not ts:
                    continue
                left, right = min(left, ts[0]), max(right, ts[-1])
                ax.plot(
                    ts,
                    [v / MB for v in entry.get("rss_bytes", [])][: len(ts)],
                    color=style.color(name),
                    linestyle=style.linestyle(name),
                    linewidth=1.1,
                    alpha=0.85,
                    label=None if labelled else f"{name} ({role})",
                )
                labelled = True
            times = _phase_times(suite, r)
            for phase in scenario.phase_names:
                value = r.absolute(r.rss(phase))
                if phase in times and value is not None:
                    ax.plot(
                        max(times[phase], 1e-3),
                        value / MB,
                        linestyle="none",
                        marker=style.marker(name),
                        markersize=4.5,
                        color=style.color(name),
                        zorder=3,
                    )
                    marks.setdefault(phase, []).append(times[phase])
        if not drawn:
            ax.text(0.5, 0.5, "no configuration with a timeline", transform=ax.transAxes, ha="center", color="0.4")
        along = blended_transform_factory(ax.transData, ax.transAxes)
        previous, lower = None, False
        for phase in scenario.phase_names:
            if phase in marks:
                t = max(statistics.median(marks[phase]), 1e-3)
                # Phases closer than 15 % in time (one log step of the axis) alternate their labels' heights.
                lower = not lower if previous is not None and t < previous * 1.15 else False
                previous = t
                ax.axvline(t, color="0.6", linestyle=":", linewidth=0.9)
                ax.text(
                    t,
                    0.72 if lower else 0.98,
                    f" {phase}",
                    transform=along,
                    rotation=90,
                    va="top",
                    ha="right",
                    fontsize=7,
                    color="0.35",
                )
        ax.set_xscale("log")
        if right > 0:
            ax.set_xlim(left / 1.3, right * 1.3)
        ax.set_ylim(bottom=0)
        title = plots.plain(scenario.name)
        if left_out:  # named, so that the figure does not suggest they keep it
            title += "\n" + textwrap.fill(
                "also giving most back, not drawn: " + ", ".join(r.configuration for r in left_out), 110
            )
        ax.set_title(title, fontsize=10 if not left_out else 8)
        ax.set_xlabel("seconds since the program started (log scale)", fontsize=8.5)
        ax.set_ylabel("RSS (MB)", fontsize=8.5)
        ax.grid(color="0.93")
        ax.set_axisbelow(True)
        if drawn:
            ax.legend(loc="best", fontsize=7, frameon=False)
    plots.hide_unused(axes, len(found))
    top = plots.title(
        fig,
        "How does each real program's RSS move through its phases, and which allocators give the freed memory back?",
        "RSS sampled from outside, every repetition drawn · markers: the reading at each phase · dotted: the phases (median "
        f"time) · each library's default and (up to {_MOST_GIVERS}) those keeping least, under {MOST_PCT:g} % of "
        "the growth, at the end",
    )
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig
