"""Busy processes: does a process that keeps allocating while it settles give back what an idle one
keeps, how soon, what the activity costs it, and what each library's time knobs trade against the next
round (the cycle workload). The report's section "Busy processes" when the run has an idle settle
workload and at least one busy one (description.Activity), else the plainer "How long until it comes
back"; knobs.png draws the same knob rows (plots.knobs).

Every figure and sentence comes from the rows it speaks of: return_50pct_s / return_90pct_s, kept at the
end, activity_* counters, and summary.costs for the next round (the noise rule and the run's controls);
missing data leaves a cell "—" and a sentence unsaid.
"""

import math
import statistics
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
from matplotlib.transforms import ScaledTranslation

from .. import mdformat as fmt
from .. import plots, summary
from ..gbjson import format_offset
from ..section import RUN, WORKLOADS, PlannedPlot
from ..summary import format_size, time_zero
from . import cost

RUNS = (WORKLOADS,)


@dataclass
class BusyRun:
    """One idle settle workload and the busy ones at the same N, with the cycle figures of the run."""

    size: object
    modes: list  # [(mode, workload name)]: ("idle", "map"), ("batch", "map_active:batch"), ...
    rows: dict  # configuration name -> {mode: ConfigResult}
    activities: dict  # mode -> description.Activity (busy modes only)
    settle: str  # the settle period, "3 s"
    cycle: list = field(default_factory=list)  # ConfigResults of the workload of rounds, at cycle_size
    cycle_size: object = None
    costs: dict = field(default_factory=dict)  # knob name -> summary.Cost against its base in cycle

    @property
    def busy_modes(self):
        return [m for m, _ in self.modes if m != "idle"]


def _settling(results, suite, w):
    info = suite.workloads.get(w)
    return (
        info is not None
        and not info.uses_rounds
        and any(r.median("return_90pct") is not None for r in summary.select(results, w))
    )


def busy_run(results, suite):
    """The BusyRun of `results`, or None without an idle settle workload and a busy one at a common N.
    The idle workload is the first of the description's order (the run's primary one)."""
    settling = [w for w in summary.workloads(results, suite) if _settling(results, suite, w)]
    idle = [w for w in settling if suite.workloads[w].activity is None]
    busy = [w for w in settling if suite.workloads[w].activity is not None]
    if not idle or not busy:
        return None
    common = [s for s in summary.sizes(results, idle[0]) if any(s in summary.sizes(results, w) for w in busy)]
    if not common:
        return None
    size = common[-1]
    modes = [("idle", idle[0])]
    for w in busy:
        if size in summary.sizes(results, w):
            mode = suite.workloads[w].mode
            modes.append((mode if mode not in dict(modes) else w, w))
    rows = {}
    for mode, w in modes:
        for r in summary.select(results, w, size):
            rows.setdefault(r.configuration, {})[mode] = r
    activities = {mode: suite.workloads[w].activity for mode, w in modes if mode != "idle"}
    out = BusyRun(size, modes, rows, activities, summary.settle_label(suite))
    cycle = [r for r in results if r.workload_info is not None and r.workload_info.uses_rounds]
    if cycle:
        out.cycle_size = max((r.size for r in cycle if isinstance(r.size, int)), default=None)
        out.cycle = [r for r in cycle if r.size == out.cycle_size]
        out.costs = {c.knob.configuration: c for c in summary.costs(out.cycle, summary.controls_of(out.cycle))}
    return out


def libraries(busy, suite):
    """[(library, [configuration names])]: for each malloc library with its default configuration in the
    rows, the default first, then each knob on it (description: same library, reference = the default)
    present in the rows, in the description's order."""
    out = []
    for c in suite.configurations.values():
        if c.kind != "allocator" or c.name not in busy.rows:
            continue
        ref = suite.configuration(c.reference) if c.reference else None
        if ref is not None and ref.library == c.library:
            continue  # not a default
        knobs = [
            k.name
            for k in suite.configurations.values()
            if k.reference == c.name and suite.is_knob(k.name) and k.name in busy.rows
        ]
        out.append((c.library, [c.name] + knobs))
    return out


def refill(busy, name):
    """[(round, minor faults, system seconds)] of `name` in cycle after round 1, or None."""
    found = summary.refill(busy.cycle, name)
    return found[2] if found is not None else None


def refill_faults(busy, name):
    """The median over the rounds after round 1 of `name`'s minor faults in cycle (knobs.png's x), or None."""
    rows = refill(busy, name)
    return statistics.median(f for _, f, _ in rows) if rows else None


def _back_share(busy, name, mode, share):
    """Median seconds until `share` % of the growth was back (inf: never), or None without a row."""
    r = busy.rows.get(name, {}).get(mode)
    return r.median(f"return_{share}pct") if r is not None and r.ok else None


def back_90(busy, name, mode):
    return _back_share(busy, name, mode, 90)


def knobs_plottable(results, suite):
    """True when knobs.png has something to draw: a library with two configurations that have both a
    return time and cycle figures."""
    busy = busy_run(results, suite)
    if busy is None or not busy.cycle:
        return False
    return any(sum(1 for n in names if refill_faults(busy, n) is not None) >= 2 for _, names in libraries(busy, suite))


# ---------------------------------------------------------------------------------------------------
# rendering


def _back(r, share):
    """'never' / 'at once' / '795 ms' / '126 ms (first sample)': when `share` % was back; with the repetitions that
    disagree: 'never (1 of 3: 3.98 s)'."""
    v = r.median(f"return_{share}pct") if r is not None and r.ok else None
    if v is None or math.isinf(v) or v < 1e-3:
        text = fmt.seconds(v)
    else:
        first = r.timeline[0][0] if r.timeline else None
        text = fmt.duration(v) + (" (first sample)" if first is not None and v <= first + 1e-9 else "")
    spread = r.spread(f"return_{share}pct") if v is not None else None
    if spread is not None and summary.disagreeing(spread.values, times=True):
        others = [x for x in spread.values if math.isinf(x) != math.isinf(v)]
        text += f" ({len(others)} of {spread.n}: " + ", ".join(fmt.seconds(x) for x in others) + ")"
    return text


def _kept(r):
    """'74.2 %', and the repetitions' own where they disagree: '74.2 % (repetitions: 23.5, 74.2, 74.2 %)'."""
    if r is None or not r.ok:
        return "—"
    spread = r.spread("kept_pct_final")
    return fmt.pct(r.median("kept_pct_final")) + fmt.disagreement(spread.values if spread else None)


def _first(r):
    """When the first sample after time zero came (median over repetitions), or '—'."""
    if r is None or not r.ok or not r.timeline:
        return "—"
    t = r.timeline[0][0]
    return fmt.duration(t) if t >= 1e-3 else "under 1 ms"


def _per_second(r, counter):
    """A counter of the activity per second of settling, or None."""
    if r is None or not r.ok or r.median(counter) is None or not r.median("settle_seconds"):
        return None
    return r.median(counter) / r.median("settle_seconds")


def _range(values, text):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    low, high = text(values[0]), text(values[-1])
    return low if low == high else f"{low}–{high}"


def _intro(busy, suite):
    idle_w = dict(busy.modes)["idle"]
    out = [
        "## Busy processes",
        "",
        f"The same workload at N = {format_size(busy.size)}, its settle period ({busy.settle}) spent idle (`{idle_w}`) or "
        "busy: "
        + "; ".join(f"**{m}** (`{dict(busy.modes)[m]}`): {busy.activities[m].description}" for m in busy.busy_modes)
        + ".",
        f"Times count from {time_zero(suite)}; *50 %* and *90 %*: until RSS above the baseline first fell to half and to a "
        "tenth of the growth; *never*: not within the settle period; *at once*: within 1 ms; *(first sample)*: already "
        "back at the first sample after time zero, so it may have come back sooner: that sample comes only once the "
        "allocator's statistics are read, and *first sample* gives when it came (median over repetitions). *Kept at end*: "
        "RSS above the baseline at the end, in % of the growth. Where one configuration's repetitions disagree (kept shares "
        f"{summary.DISAGREE_POINTS:g} points of the growth apart or more, or a share back in some and never in others), a "
        "cell gives them beside the median.",
        "",
    ]
    return out


def _return_table(busy):
    header = ["configuration"]
    for m, _ in busy.modes:
        header += [f"{m}: 50 %", "90 %", "kept at end", "first sample"]
    rows = []
    for name, per in busy.rows.items():
        row = [name]
        for m, _ in busy.modes:
            r = per.get(m)
            row += [_back(r, 50), _back(r, 90), _kept(r), _first(r)]
        rows.append(row)
    return [fmt.table(header, rows)]


def _disagreements(busy):
    """A sentence naming every row whose repetitions disagree (see _intro), with each repetition's values."""
    items = []
    for name, per in busy.rows.items():
        for m, _ in busy.modes:
            r = per.get(m)
            if r is None or not r.ok:
                continue
            parts = []
            kept = r.spread("kept_pct_final")
            if kept is not None and summary.disagreeing(kept.values):
                parts.append("kept at the end " + ", ".join(f"{v:.1f}" for v in kept.values) + " %")
            for share in (50, 90):
                back = r.spread(f"return_{share}pct")
                if back is not None and summary.disagreeing(back.values, times=True):
                    parts.append(f"{share} % back " + ", ".join(fmt.seconds(v) for v in back.values))
            if parts:
                items.append(f"{name} {_where(m)} ({'; '.join(parts)})")
    if not items:
        return []
    return [
        "- **Repetitions that disagree**, where a median stands for none of them (each repetition's value, in the order "
        "they ran): " + "; ".join(items) + "."
    ]


def _price_table(busy):
    """The activity's CPU time and operations per second of settling, per configuration and pattern."""
    counted = [m for m in busy.busy_modes if busy.activities[m].counted]
    if not counted:
        return []
    header = ["configuration"]
    for m in counted:
        header += [f"{m}: CPU (ms/s)", "operations (k/s)"]
    rows = []
    for name, per in busy.rows.items():
        row = [name]
        for m in counted:
            cpu, ops = _per_second(per.get(m), "activity_cpu_s"), _per_second(per.get(m), "activity_ops")
            row += ["—" if cpu is None else f"{cpu * 1e3:.2f}", "—" if ops is None else f"{ops / 1e3:,.1f}"]
        rows.append(row)
    return [
        "",
        "The price of being busy: the activity's own CPU time (`activity_cpu_s`) and its mallocs plus frees "
        "(`activity_ops`), per second of settling; medians over repetitions.",
        "",
        fmt.table(header, rows),
    ]


def _verdicts(cost, later):
    if cost is None:
        return "—"
    return "; ".join(f"r{k} {fmt.change(cost.insert.get(k), short=True)}" for k in later)


def knob_table(busy, suite):
    """Rows of the knob trade table: [[library, configuration, 90 % back per mode..., faults, sys, insert]]."""
    libs = [(lib, names) for lib, names in libraries(busy, suite) if len(names) > 1]
    if not libs:
        return None, []
    later = sorted({k for c in busy.costs.values() for k in c.later_rounds})
    header = ["library", "configuration"] + [f"90 % back: {m}" for m, _ in busy.modes]
    if busy.cycle:
        rounds = fmt.rounds(later) if later else "later rounds"
        header += [f"minor faults, {rounds}", f"sys (ms), {rounds}", f"insert vs the default, {rounds}"]
    rows = []
    for lib, names in libs:
        for i, name in enumerate(names):
            per = busy.rows[name]
            row = [lib if i == 0 else "", f"{name} (default)" if i == 0 else name] + [
                _back(per.get(m), 90) for m, _ in busy.modes
            ]
            if busy.cycle:
                found = refill(busy, name)
                row += [
                    ", ".join(f"{f:,.0f}" for _, f, _ in found) if found else "—",
                    ", ".join("—" if s is None else f"{s * 1e3:,.0f}" for _, _, s in found) if found else "—",
                    "—" if i == 0 else _verdicts(_cost_against(busy, name, names[0]), later),
                ]
            rows.append(row)
    return header, rows


def _cost_against(busy, knob, default):
    c = busy.costs.get(knob)
    return c if c is not None and c.base.configuration == default else None


def _knob_section(busy, suite):
    header, rows = knob_table(busy, suite)
    if not rows:
        return []
    text = (
        "What each library's knobs trade: its default configuration first, then each configuration that changes it "
        "(description: same library, the default as reference), with how soon 90 % of the growth is back idle and busy"
    )
    if busy.cycle:
        text += (
            f", against what it costs the next time the memory is needed: in `cycle` (N = {format_size(busy.cycle_size)}) the "
            "minor page faults and the system time of each round after round 1, and the insert rate against the default's "
            "in the same round (speed-scaled medians, the noise rule and the run's controls, as in *What giving memory back "
            "costs*)"
        )
    out = ["", "### What the knobs trade", "", text + ".", "", fmt.table(header, rows)]
    compared = [
        c.insert[k]
        for _, names in libraries(busy, suite)
        for name in names[1:]
        if (c := _cost_against(busy, name, names[0])) is not None
        for k in c.later_rounds
        if c.insert.get(k) is not None
    ]
    chance = cost.chance_sentence(compared)
    return out + (["", chance] if chance else [])


def _never(busy):
    return f"never within {busy.settle}" if busy.settle else "never"


def _default_sentence(busy, name):
    """'`jemalloc` at its defaults: idle and under pairs and steady 90 % is never back within 3 s (kept at the
    end: 101.0 %, 101.0 %, 102.2 %); under batch 90 % is back after 795 ms (4.8 % kept).'"""
    per = busy.rows[name]
    modes = [m for m, _ in busy.modes if per.get(m) is not None and per[m].ok and per[m].median("return_90pct") is not None]
    if "idle" not in modes or len(modes) < 2:
        return None
    kept = [m for m in modes if math.isinf(per[m].median("return_90pct"))]
    back = [m for m in modes if m not in kept]
    parts = []
    if kept:
        text = (
            _join([_where(m) for m in kept])
            + f" 90 % is never back{' within ' + busy.settle if busy.settle else ''} (kept at the end: "
            + ", ".join(_kept(per[m]) for m in kept)
            + ")"
        )
        half = [m for m in kept if not math.isinf(per[m].median("return_50pct") or math.inf)]
        if half:
            text += ", though half is back " + ", ".join(f"{_when(per[m], 50)} {_where(m)}" for m in half)
        parts.append(text)
    for m in back:
        parts.append(f"{_where(m)} 90 % is back {_when(per[m], 90)} ({_kept(per[m])} kept at the end)")
    busy_back = [m for m in back if m != "idle"]
    lead = f" busy under {_join(busy_back)}, it gives back what it keeps idle:" if "idle" in kept and busy_back else ""
    return f"- **{name}** at its defaults:{lead} " + "; ".join(parts) + "."


def _where(mode):
    return "idle" if mode == "idle" else f"under {mode}"


def _when(r, share):
    """'at once' / 'after 795 ms' / 'after 126 ms (first sample)'."""
    text = _back(r, share)
    return text if text == "at once" else f"after {text}"


def _join(items):
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _cost_clause(busy, knob, default):
    """'; next round in cycle (N = 100,000): 1,486 and 1,439 minor faults against jemalloc's 25 and 0 (rounds 2, 3),
    14 and 12 ms system time against 2 and 0; insert round 2 −7.8 % (within noise), round 3 …'."""
    c = _cost_against(busy, knob, default)
    if c is None or not c.later_rounds:
        return ""
    ks = c.later_rounds
    faults = [c.minflt.get(k, (None, None)) for k in ks]
    sys_s = [c.sys_s.get(k, (None, None)) for k in ks]
    text = f"; what it costs the next round in `cycle` (N = {format_size(busy.cycle_size)}, {fmt.rounds(ks)})"
    pieces = []
    if all(None not in f for f in faults):
        pieces.append(
            _join([f"{f[0]:,.0f}" for f in faults])
            + f" minor faults against {default}'s "
            + _join([f"{f[1]:,.0f}" for f in faults])
        )
    if all(None not in s for s in sys_s):
        pieces.append(
            _join([f"{s[0] * 1e3:,.0f}" for s in sys_s])
            + " ms system time against "
            + _join([f"{s[1] * 1e3:,.0f}" for s in sys_s])
        )
    verdicts = [f"round {k} {fmt.change(c.insert[k], short=True)}" for k in ks if c.insert.get(k) is not None]
    if verdicts:
        pieces.append("insert against the default " + ", ".join(verdicts))
    return text + ": " + "; ".join(pieces) if pieces else ""


# RSS is sampled at 10 offsets per decade (each 1.26 x the last): two return times on the same offset
# differ only by when the sample was taken, so "sooner" needs at least one offset between them.
SAMPLE_STEP = 10**0.1


def sooner(mine, theirs):
    """True when return time `mine` is at least one sample offset before `theirs` (never: infinite)."""
    return math.isinf(theirs) or mine * SAMPLE_STEP <= theirs * 1.001


def _gains(busy, knob, default, share):
    """'under batch after 795 ms (jemalloc: 7.94 s)' for every mode where `knob` brings `share` % back
    at least one sample offset sooner than `default`."""
    gains = []
    for m, _ in busy.modes:
        mine, theirs = _back_share(busy, knob, m, share), _back_share(busy, default, m, share)
        if mine is None or theirs is None or math.isinf(mine) or not sooner(mine, theirs):
            continue
        gains.append(
            f"{_where(m)} {_when(busy.rows[knob][m], share)} ({default}: "
            + (_never(busy) if math.isinf(theirs) else _back(busy.rows[default][m], share))
            + ")"
        )
    return gains


def _modes_phrase(busy, names):
    """'idle', 'busy' or 'idle or busy': the modes in which `names` have rows."""
    modes = {m for n in names for m, _ in busy.modes if back_90(busy, n, m) is not None}
    idle, active = "idle" in modes, bool(modes - {"idle"})
    return "idle or busy" if idle and active else ("idle" if idle else "busy")


def _knob_sentences(busy, suite, lib, names):
    default = names[0]
    out = []
    shortened = []
    for knob in names[1:]:
        gains = _gains(busy, knob, default, 90)
        if gains:
            shortened.append(knob)
            out.append(f"  - **{knob}** brings 90 % back sooner: " + ", ".join(gains) + _cost_clause(busy, knob, default) + ".")
            continue
        halves = _gains(busy, knob, default, 50)
        if halves:
            shortened.append(knob)
            out.append(
                f"  - **{knob}** brings half back sooner, though never 90 % within the period: "
                + ", ".join(halves)
                + _cost_clause(busy, knob, default)
                + "."
            )
    compared = [k for k in names[1:] if any(back_90(busy, k, m) is not None for m, _ in busy.modes)]
    unchanged = [k for k in compared if k not in shortened]
    if unchanged:
        subject = f"{unchanged[0]} does not" if len(unchanged) == 1 else f"None of {_join(unchanged)}"
        out.append(
            f"  - {subject} bring{'s' if len(unchanged) > 1 else ''} half or 90 % back sooner than {default}, "
            f"{_modes_phrase(busy, unchanged)}."
        )
    return out


def _findings(busy, suite):
    out = []
    for m in busy.busy_modes:
        lives = [busy.rows[n][m].median("activity_live_bytes") for n in busy.rows if m in busy.rows[n] and busy.rows[n][m].ok]
        lives = [v for v in lives if v]
        if lives:
            out.append(
                f"- **{m}** holds a working set of its own: {_range(lives, fmt.bytes_mb)} at the end (`activity_live_bytes`, "
                "over the configurations). It is built before the baseline is read, so it is part of `rss_base`, not of the "
                "growth."
            )
    counted = [m for m in busy.busy_modes if busy.activities[m].counted]
    prices = []
    for m in counted:
        rs = [per[m] for per in busy.rows.values() if m in per]
        cpu = _range([_per_second(r, "activity_cpu_s") for r in rs], lambda v: f"{v * 1e3:.2f}")
        ops = _range([_per_second(r, "activity_ops") for r in rs], lambda v: f"{v / 1e3:,.0f}")
        if cpu and ops:
            prices.append(f"{m} {cpu} ms of CPU and {ops} thousand operations")
    if prices:
        out.append("- **The price of being busy**, per second of settling over the configurations: " + "; ".join(prices) + ".")
    for lib, names in libraries(busy, suite):
        sentence = _default_sentence(busy, names[0])
        if sentence is None:
            continue
        out.append(sentence)
        out += _knob_sentences(busy, suite, lib, names)
    return out + _disagreements(busy)


def render_busy(busy, suite):
    findings = _findings(busy, suite)
    return (
        _intro(busy, suite)
        + (findings + [""] if findings else [])
        + _return_table(busy)
        + _price_table(busy)
        + _knob_section(busy, suite)
    )


def render(report):
    """The section "Busy processes", or "How long until it comes back" for a run without a busy settle
    workload next to an idle one, or [] when nothing settled."""
    results, suite = report.results, report.suite
    busy = busy_run(results, suite)
    if busy is not None:
        return render_busy(busy, suite)
    return _return_times(results, suite)


def _return_times(results, suite):
    """How long until memory comes back, per settle workload: return_50pct_s / return_90pct_s."""
    settle_ws = [w for w in summary.workloads(results, suite) if _settling(results, suite, w)]
    if not settle_ws:
        return []
    busy_text = " ".join(
        f"In `{w}` the process keeps working while settling: {suite.workloads[w].activity.description}."
        for w in settle_ws
        if suite.workloads[w].activity is not None
    )
    out = [
        "## How long until it comes back",
        "",
        f"Seconds after {time_zero(suite)} until the RSS above the baseline first fell to 50 % and to 10 % of the growth; "
        "*never*: not within the settle period; *at once*: within 1 ms; *(first sample)*: already back at the first sample "
        "after time zero (*first sample*: when it came, median over repetitions; a run made before the timeline had a "
        "thread of its own took it only once the allocator's statistics were read), then at 10 offsets per decade from 1 ms (the timeline plot). Where one configuration's "
        f"repetitions disagree (kept shares {summary.DISAGREE_POINTS:g} points of the growth apart or more, or a share back "
        "in some and never in others), a cell gives them beside the median." + (" " + busy_text if busy_text else ""),
        "",
    ]
    by_config = {}
    for w in settle_ws:
        size = summary.sizes(results, w)[-1]
        for r in summary.select(results, w, size):
            by_config.setdefault(r.configuration, {})[w] = r
    header = ["configuration"]
    for w in settle_ws:
        header += [f"{w} ({suite.workloads[w].mode}): 50 %", "90 %", "kept at end", "first sample"]
    rows = []
    for name, per in by_config.items():
        row = [name]
        for w in settle_ws:
            r = per.get(w)
            row += [_back(r, 50), _back(r, 90), _kept(r), _first(r)] if r is not None and r.ok else ["—"] * 4
        rows.append(row)
    out.append(fmt.table(header, rows))
    return out


# ---------------------------------------------------------------------------------------------------
# the figure


def figures(report):
    if not knobs_plottable(report.results, report.suite):
        return []
    return [
        PlannedPlot(
            "knobs",
            "knobs",
            None,
            None,
            "Each library's knobs: how soon 90 % comes back, idle and busy, against the next round's page faults",
            knobs_figure,
            RUN,
        )
    ]


def knobs_figure(report, style, planned):
    """Per library: each configuration's seconds until 90 % is back (idle and each busy pattern)
    against the minor faults a round after round 1 pays in cycle."""
    suite = report.suite
    busy = busy_run(report.results, suite)
    libs = []
    for lib, names in libraries(busy, suite):
        drawn = [n for n in names if refill_faults(busy, n) is not None]
        if len(drawn) >= 2:
            libs.append((lib, drawn, [n for n in names if n not in drawn]))
    rows, columns = plots.grid(len(libs), 3)
    fig, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 4.4 * rows + 1.5), squeeze=False)
    settle = suite.settle_seconds or max(
        (v for per in busy.rows.values() for r in per.values() if (v := r.median("return_90pct")) and v != float("inf")),
        default=1.0,
    )
    never_y, floor = settle * 3, 1e-3
    mode_index = {m: k for k, (m, _) in enumerate(busy.modes)}
    for i, (lib, names, missing) in enumerate(libs):
        ax = axes[i // columns][i % columns]
        for name in names:
            x = refill_faults(busy, name)
            for m, _ in busy.modes:
                v = back_90(busy, name, m)
                if v is None:
                    continue
                k = mode_index[m]
                # Side by side, 5 points apart, so that modes with the same time stay visible.
                shift = ScaledTranslation((k - (len(busy.modes) - 1) / 2) * 5 / 72, 0, fig.dpi_scale_trans)
                ax.plot(
                    x,
                    never_y if v == float("inf") else max(v, floor),
                    linestyle="none",
                    marker=plots.MODE_MARKERS[k % len(plots.MODE_MARKERS)],
                    markersize=7,
                    color=style.color(name),
                    markerfacecolor="none" if m == "idle" else style.color(name),
                    markeredgewidth=1.5,
                    zorder=3,
                    transform=ax.transData + shift,
                )
        xs = [refill_faults(busy, n) for n in names]
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(-1, max(max(xs) * 3, 100))
        ax.set_yscale("log")
        ax.set_ylim(floor / 2, never_y * 2.5)
        ax.axhline(never_y, color="0.6", linestyle=":", linewidth=1)
        ax.axhline(settle, color="0.8", linewidth=0.8)
        ticks = [t for t in (1e-3, 1e-2, 0.1, 1, 10, 100) if floor <= t < settle * 0.7] + [settle, never_y]
        names_of = [("≤ 1 ms" if t == floor else format_offset(t)) for t in ticks[:-2]] + [f"{busy.settle}: end", "never"]
        ax.set_yticks(ticks, names_of)
        ax.minorticks_off()
        ax.set_title(lib, fontsize=10)
        ax.set_xlabel("cycle: minor page faults per round after round 1 (median)")
        ax.set_ylabel("time until 90 % is back (log scale)")
        ax.grid(color="0.92")
        ax.set_axisbelow(True)
        plots.note_missing(ax, missing, "not in cycle")
    plots.hide_unused(axes, len(libs))
    handles = [
        plt.Line2D(
            [],
            [],
            linestyle="none",
            marker=plots.MODE_MARKERS[k % len(plots.MODE_MARKERS)],
            color="0.3",
            markerfacecolor="none" if m == "idle" else "0.3",
        )
        for m, k in mode_index.items()
    ]
    height = fig.get_figheight()
    fig.legend(handles, [f"{m} ({w})" for m, w in busy.modes], loc="lower center", ncol=len(handles), frameon=False, fontsize=8.5)
    top = plots.title(
        fig,
        "What does each knob trade: memory back sooner, idle or busy, against faults in the next round?",
        f"{dict(busy.modes)['idle']} and its busy variants, N = {format_size(busy.size)}; cycle, N = {format_size(busy.cycle_size)} "
        "· medians · markers side by side · better: down and to the left",
    )
    fig.tight_layout(rect=(0, 0.35 / height, 1, top))
    for i, (lib, names, _) in enumerate(libs):
        ax = axes[i // columns][i % columns]
        items = []
        for name in names:
            ys = [back_90(busy, name, m) for m, _ in busy.modes]
            ys = [never_y if v == float("inf") else max(v, floor) for v in ys if v is not None]
            if ys:
                items.append(
                    (
                        refill_faults(busy, name),
                        min(ys),
                        name + (" (default)" if name == names[0] else ""),
                        "bold" if name == names[0] else "normal",
                    )
                )
        plots.place_labels(ax, items)
    return fig
