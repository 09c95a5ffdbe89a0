"""The report's section "What recording costs" (./bench --compare-recorders): every program of the run under each
configuration four times — plain, recorded (--record), behind the heap map (--heap-map), under Debian's heaptrack
(description.OBSERVERS) — held side by side, and the recorder's targets judged.

Per program (a scenario, or the program of ./bench -- PROGRAM) and configuration, each observer's row
(summary.ConfigResult with its observer), over its repetitions:

  wall                  wall_seconds: the median and its interval (stats.interval_text)
  against plain         the noise rule on wall_seconds (summary.compare_speed, with the controls of the plain rows of
                        the same program): beyond the noise or not
  CPU                   user_seconds + sys_seconds per repetition (every process of the row: heaptrack's interpreter,
                        a child of its script, included), for the recording + record_writer_cpu_s (the trace writer,
                        a process outside the program); the median
  peak RSS              hwm_peak (the kernel's VmHWM of the measured process; rss_peak where a row lacks it), the
                        median, and its ratio to the plain row's
  calls                 the recording's events (record_events, median): the same program's calls under every observer
  overhead per call     (the observer's median wall - the plain one's) / calls
  its bounds            (the observer's interval low - the plain one's high, high - low): what the noise leaves open
  bytes per event       the trace's (record_bytes_per_event); heaptrack's file (heaptrack_bytes / calls)
  writer's waits        record_waits, record_wait_s (medians)

The targets (PER_CALL_SHARE, SCENARIO_RATIO, TRACE_BYTES, TRACE_TIMES), each MET, MISSED or NOT_SHOWN by the bounds of
what it compares (MET when the worst case meets it, MISSED when the best case does not, NOT_SHOWN otherwise: within the
noise), NOT_APPLICABLE where the target does not speak of the row, NO_VERDICT with a single repetition:

  per call      the recorder's overhead per call at most PER_CALL_SHARE of heaptrack's; applies only where heaptrack's
                own overhead is beyond the noise (its wall against plain shown to differ, and longer)
  scenario      a scenario's wall under recording at most SCENARIO_RATIO x its plain wall, except where the per-call
                target alone allows more (PER_CALL_SHARE of heaptrack's overhead above SCENARIO_RATIO - 1 of the plain
                median): a scenario that does not meet SCENARIO_RATIO there gets that target's verdict, said so; a
                program of ./bench -- PROGRAM is not a scenario
  trace         bytes per event at most max(TRACE_BYTES, TRACE_TIMES x heaptrack's)

Every sentence is computed from the rows it speaks of.
"""

import os
from dataclasses import dataclass

from .. import mdformat as fmt
from .. import stats, summary
from ..description import HEAP_MAP, HEAPTRACK, OBSERVERS, PLAIN, RECORD
from ..section import COMMAND, PROGRAMS
from ..stats import Spread
from ..summary import MB

RUNS = (PROGRAMS, COMMAND)

# The recorder's targets: its overhead per call at most this share of heaptrack's; a scenario recorded at most this
# times its plain wall time; its trace at most max(TRACE_BYTES bytes per event, TRACE_TIMES x heaptrack's file).
PER_CALL_SHARE, PER_CALL_WORDS = 1 / 3, "a third"
SCENARIO_RATIO = 1.25
TRACE_BYTES = 2.0
TRACE_TIMES = 2.0

MET, MISSED, NOT_SHOWN, NOT_APPLICABLE, NO_VERDICT = "met", "not met", "not shown", "does not apply", "no verdict"


@dataclass
class Verdict:
    target: str  # "per call", "scenario", "trace"
    verdict: str  # MET, MISSED, NOT_SHOWN, NOT_APPLICABLE, NO_VERDICT
    why: str  # what decided it, a clause of a sentence


def _bounds(spread):
    low, high, _ = spread.interval
    return low, high


@dataclass
class Observed:
    """One program under one configuration, as each observer watched it."""

    workload: str  # "command" or a scenario's name
    configuration: str
    rows: dict  # observer -> summary.ConfigResult
    controls: object  # summary.Controls of the plain rows of the program
    scenario: object  # description.Scenario, None for ./bench -- PROGRAM

    def row(self, observer):
        r = self.rows.get(observer)
        return r if r is not None and r.ok else None

    def wall(self, observer):
        r = self.row(observer)
        return r.spread("wall_seconds") if r is not None else None

    @property
    def repetitions(self):
        return min((r.repetitions for r in self.rows.values() if r.ok), default=0)

    def comparison(self, observer):
        """The observer's wall against the plain one's, under the noise rule and the run's controls."""
        mine, plain = self.row(observer), self.row(PLAIN)
        if mine is None or plain is None or observer == PLAIN:
            return None
        return summary.compare_speed(mine, plain, "wall_seconds", self.controls)

    def beyond(self, observer):
        """True when the observer's wall is shown longer than the plain one's."""
        c = self.comparison(observer)
        return summary.shown(c) and c.ratio > 1

    def calls(self):
        r = self.row(RECORD)
        return r.median("record_events") if r is not None else None

    def overhead_s(self, observer):
        mine, plain = self.wall(observer), self.wall(PLAIN)
        if mine is None or plain is None:
            return None
        return mine.median - plain.median

    def overhead_ns(self, observer):
        seconds, calls = self.overhead_s(observer), self.calls()
        return seconds / calls * 1e9 if seconds is not None and calls else None

    def overhead_bounds(self, observer):
        """(least, most) seconds of overhead the intervals allow: the observer's low less the plain high, and so on."""
        mine, plain = self.wall(observer), self.wall(PLAIN)
        if mine is None or plain is None:
            return None
        (a_low, a_high), (p_low, p_high) = _bounds(mine), _bounds(plain)
        return a_low - p_high, a_high - p_low

    def cpu(self, observer):
        """(total, the program's, the writer's or None) CPU seconds, medians over repetitions."""
        r = self.row(observer)
        if r is None:
            return None
        program = summary.per_repetition(r, ["user_seconds", "sys_seconds"], lambda u, s: u + s)
        if program is None:
            return None
        if observer != RECORD or r.spread("record_writer_cpu_s") is None:
            return program, program, None
        total = summary.per_repetition(r, ["user_seconds", "sys_seconds", "record_writer_cpu_s"], lambda u, s, w: u + s + w)
        return total, program, r.median("record_writer_cpu_s")

    def peak_counter(self):
        """hwm_peak when every row has it, else rss_peak."""
        rows = [r for r in self.rows.values() if r.ok]
        return "hwm_peak" if rows and all(r.spread("hwm_peak") is not None for r in rows) else "rss_peak"

    def peak(self, observer):
        r = self.row(observer)
        return r.median(self.peak_counter()) if r is not None else None

    def peak_ratio(self, observer):
        mine, plain = self.peak(observer), self.peak(PLAIN)
        return mine / plain if mine is not None and plain else None

    def trace_bytes(self):
        """Spread of the trace's bytes per event."""
        r = self.row(RECORD)
        return r.spread("record_bytes_per_event") if r is not None else None

    def heaptrack_bytes(self):
        """Spread of heaptrack's file in bytes per call (heaptrack_bytes / calls)."""
        r, calls = self.row(HEAPTRACK), self.calls()
        s = r.spread("heaptrack_bytes") if r is not None else None
        return Spread([v / calls for v in s.values]) if s is not None and calls else None

    def median(self, observer, counter):
        r = self.row(observer)
        return r.median(counter) if r is not None else None

    # the targets

    def per_call(self):
        if self.row(RECORD) is None or self.row(HEAPTRACK) is None or self.row(PLAIN) is None or not self.calls():
            return Verdict("per call", NO_VERDICT, "a row of the plain program, the recording or heaptrack is missing")
        if self.repetitions < 2:
            return Verdict("per call", NO_VERDICT, "one repetition: the noise rule needs at least 2")
        heaptrack = self.comparison(HEAPTRACK)
        if not self.beyond(HEAPTRACK):
            if summary.shown(heaptrack):
                why = f"heaptrack's wall is shorter than the plain one's ({heaptrack.change_pct:+.1f} %): no overhead of its own"
            elif heaptrack.verdict == stats.NOT_SHOWN:
                why = (
                    f"heaptrack's own overhead is not shown beyond the run's controls ({heaptrack.change_pct:+.1f} % against "
                    f"the plain wall, the controls differ by up to {heaptrack.control_pct:.1f} %)"
                )
            else:
                why = f"heaptrack's own overhead is within the noise ({heaptrack.change_pct:+.1f} % against the plain wall)"
            return Verdict("per call", NOT_APPLICABLE, why)
        (r_low, r_high), (h_low, h_high) = self.overhead_bounds(RECORD), self.overhead_bounds(HEAPTRACK)
        calls = self.calls()
        text = (
            f"the recorder's overhead per call is {r_low / calls * 1e9:,.0f}–{r_high / calls * 1e9:,.0f} ns within the "
            f"noise, {PER_CALL_WORDS} of heaptrack's {h_low / calls * 1e9 * PER_CALL_SHARE:,.0f}–"
            f"{h_high / calls * 1e9 * PER_CALL_SHARE:,.0f} ns"
        )
        if r_high <= h_low * PER_CALL_SHARE:
            return Verdict("per call", MET, text)
        if r_low > h_high * PER_CALL_SHARE:
            return Verdict("per call", MISSED, text)
        return Verdict("per call", NOT_SHOWN, text + ": the bounds overlap (within the noise)")

    def scenario_target(self):
        if self.scenario is None:
            return Verdict("scenario", NOT_APPLICABLE, "not a scenario: the target is the scenarios'")
        mine, plain = self.wall(RECORD), self.wall(PLAIN)
        if mine is None or plain is None:
            return Verdict("scenario", NO_VERDICT, "a row of the plain program or the recording is missing")
        if self.repetitions < 2:
            return Verdict("scenario", NO_VERDICT, "one repetition: the noise rule needs at least 2")
        (m_low, m_high), (p_low, p_high) = _bounds(mine), _bounds(plain)
        text = f"{m_low / p_high:.3g}–{m_high / p_low:.3g}× the plain wall time within the noise"
        if m_high <= SCENARIO_RATIO * p_low:
            return Verdict("scenario", MET, text)
        heaptrack = self.overhead_s(HEAPTRACK)
        if self.beyond(HEAPTRACK) and heaptrack * PER_CALL_SHARE > (SCENARIO_RATIO - 1) * plain.median:
            per_call = self.per_call()
            return Verdict(
                "scenario",
                per_call.verdict,
                f"{text}; judged by the per-call target alone, which allows more: {PER_CALL_WORDS} of heaptrack's overhead "
                f"({heaptrack * PER_CALL_SHARE:.3g} s) is more than {SCENARIO_RATIO - 1:g} of the plain wall time "
                f"({(SCENARIO_RATIO - 1) * plain.median:.3g} s, medians)",
            )
        if m_low > SCENARIO_RATIO * p_high:
            return Verdict("scenario", MISSED, text)
        return Verdict("scenario", NOT_SHOWN, text + f": {SCENARIO_RATIO:g}× lies within (within the noise)")

    def trace_limit(self):
        """(least, most) bytes per event the trace may take: max(TRACE_BYTES, TRACE_TIMES x heaptrack's), by the bounds
        of heaptrack's file; (TRACE_BYTES, TRACE_BYTES) without heaptrack's."""
        theirs = self.heaptrack_bytes()
        if theirs is None:
            return TRACE_BYTES, TRACE_BYTES
        low, high = _bounds(theirs)
        return max(TRACE_BYTES, TRACE_TIMES * low), max(TRACE_BYTES, TRACE_TIMES * high)

    def trace_target(self):
        mine = self.trace_bytes()
        if mine is None:
            return Verdict("trace", NO_VERDICT, "no recording")
        low, high = _bounds(mine)
        limit_low, limit_high = self.trace_limit()
        limit = fmt.span([limit_low, limit_high], lambda v: f"{v:.3g}")
        text = f"{fmt.span([low, high], lambda v: f'{v:.3g}')} bytes per event against at most {limit}"
        if self.heaptrack_bytes() is None:
            if high <= TRACE_BYTES:
                return Verdict("trace", MET, text + " (heaptrack's file not measured)")
            return Verdict("trace", NO_VERDICT, text + ": heaptrack's file, which may allow more, is not measured")
        if high <= limit_low:
            return Verdict("trace", MET, text)
        if low > limit_high:
            return Verdict("trace", MISSED, text)
        return Verdict("trace", NOT_SHOWN, text + ": the bounds overlap")

    def targets(self):
        return [self.per_call(), self.scenario_target(), self.trace_target()]

    def unwind_agreed_pct(self):
        """The share of sites checked against libgcc's unwinder that agreed (--check-unwind), per repetition then the
        median; None when none was checked."""
        r = self.row(RECORD)
        if r is None or not r.median("record_unwind_checked"):
            return None
        return summary.per_repetition(
            r,
            ["record_unwind_checked", "record_unwind_disagreed"],
            lambda n, d: (n - d) / n * 100 if n > 0 else None,
        )


def observed(report):
    """[Observed] of the run: per program, in the run's order of workloads, and configuration, in the results' order."""
    rs = [r for r in report.observed if r.observer is not None]
    out = []
    for workload in summary.workloads(rs, report.suite):
        mine = [r for r in rs if r.workload == workload]
        plain = [r for r in mine if r.observer == PLAIN]
        controls = summary.controls_of(plain)
        for configuration in dict.fromkeys(r.configuration for r in mine):
            rows = {r.observer: r for r in mine if r.configuration == configuration}
            out.append(Observed(workload, configuration, rows, controls, report.suite.scenario(workload)))
    return out


def program_name(suite, workload):
    """A scenario's name, or the program ./bench -- PROGRAM ran (its file's name)."""
    if workload == "command" and suite.command:
        return os.path.basename(suite.command.get("program") or (suite.command.get("argv") or ["command"])[0])
    return workload


# ---------------------------------------------------------------------------------------------------
# text


def _ns(v):
    return "—" if v is None else f"{v:,.0f}"


def _verdict_cell(v):
    return f"**{v.verdict}**" if v.verdict == MISSED else v.verdict


def targets_table(found, suite):
    header = (
        "program",
        "configuration",
        "overhead per call (ns): recorder / heaptrack",
        f"at most {PER_CALL_WORDS} of heaptrack's",
        "wall: recorded / plain",
        f"scenario at most {SCENARIO_RATIO:g}×",
        "bytes per event: trace / heaptrack's file",
        f"at most max({TRACE_BYTES:g}, {TRACE_TIMES:g}× heaptrack's)",
    )
    rows = []
    for o in found:
        per_call, scenario, trace = o.targets()
        rec, ht = o.overhead_ns(RECORD), o.overhead_ns(HEAPTRACK)
        ratio = f" ({rec / ht:.2f})" if rec is not None and ht else ""
        walls = o.wall(RECORD), o.wall(PLAIN)
        theirs = o.heaptrack_bytes()
        mine = o.trace_bytes()
        rows.append(
            (
                f"`{program_name(suite, o.workload)}`",
                o.configuration,
                f"{_ns(rec)} / {_ns(ht)}{ratio}",
                _verdict_cell(per_call),
                f"{walls[0].median / walls[1].median:.3g}×" if None not in walls else "—",
                _verdict_cell(scenario),
                f"{mine.median:.3g} / {theirs.median:.3g}" if mine and theirs else (f"{mine.median:.3g} / —" if mine else "—"),
                _verdict_cell(trace),
            )
        )
    return fmt.table(header, rows)


def _cpu_text(o, observer):
    cpu = o.cpu(observer)
    if cpu is None:
        return "—"
    total, program, writer = cpu
    if writer is not None:
        return f"{total:.3f} ({program:.3f} + the writer's {writer:.3f})"
    if observer == HEAPTRACK:
        return f"{total:.3f} (its interpreter's included)"
    return f"{total:.3f}"


def observers_table(o):
    header = (
        "observer",
        "runs",
        "wall (s)",
        "against plain",
        "CPU (s)",
        "peak RSS (MB)",
        "against plain",
        "overhead per call (ns)",
        "against heaptrack's",
        "bytes per event",
        "writer's waits",
    )
    rows = []
    ht = o.overhead_ns(HEAPTRACK)
    for observer in OBSERVERS:
        r = o.rows.get(observer)
        if r is None:
            continue
        if not r.ok:
            rows.append((observer, "0", f"failed: {r.errors[0][1] if r.errors else 'no data'}") + ("—",) * 8)
            continue
        runs, _ = fmt.runs_and_kind(r)
        plain = observer == PLAIN
        mine = o.overhead_ns(observer)
        if observer == RECORD:
            trace = o.trace_bytes()
            per_event = f"{trace.median:.3g}" if trace else "—"
            waits = o.median(RECORD, "record_waits")
            waits = f"{waits:,.0f} ({o.median(RECORD, 'record_wait_s'):.3g} s)" if waits is not None else "—"
        else:
            theirs = o.heaptrack_bytes() if observer == HEAPTRACK else None
            per_event, waits = (f"{theirs.median:.3g} (its file)" if theirs else "—"), "—"
        peak_ratio = o.peak_ratio(observer)
        rows.append(
            (
                observer,
                runs,
                stats.interval_text(r.spread("wall_seconds"), lambda v: f"{v:.3f}"),
                "—" if plain else fmt.change(o.comparison(observer), short=True),
                _cpu_text(o, observer),
                fmt.mb(o.peak(observer) / MB) if o.peak(observer) is not None else "—",
                "—" if plain or peak_ratio is None else f"{peak_ratio:.2f}×",
                "—" if plain else _ns(mine),
                "—" if plain or observer == HEAPTRACK or mine is None or not ht else f"{mine / ht:.2f}",
                per_event,
                waits,
            )
        )
    return fmt.table(header, rows)


def _targets_sentence(o):
    v = {t.target: t for t in o.targets()}
    parts = [
        f"overhead per call at most {PER_CALL_WORDS} of heaptrack's: **{v['per call'].verdict}** ({v['per call'].why})",
        f"at most {SCENARIO_RATIO:g}× the plain wall time: **{v['scenario'].verdict}** ({v['scenario'].why})",
        f"trace at most max({TRACE_BYTES:g} bytes per event, {TRACE_TIMES:g}× heaptrack's file): **{v['trace'].verdict}** "
        f"({v['trace'].why})",
    ]
    return "**The targets**: " + "; ".join(parts) + "."


def _wall_sentence(o):
    n = o.repetitions
    if n < 2:
        return "One repetition: no verdict on wall time (the noise rule needs at least 2)."
    caveat = (
        f" (with {n} repetitions an interval is the range: {stats.range_false_alarm(n, n) * 100:.0f} % false alarms)"
        if n < summary.RANGE_BELOW
        else ""
    )
    longer, within = [], []
    for observer in OBSERVERS[1:]:
        c = o.comparison(observer)
        if c is None:
            continue
        (longer if summary.shown(c) else within).append(f"{observer} {c.change_pct:+.1f} %")
    text = f"**Wall time against the plain program**{caveat}: "
    if longer:
        text += "beyond the noise under " + ", ".join(longer)
    if within:
        text += ("; " if longer else "") + "not shown to differ under " + ", ".join(within)
    return text + "."


def _recording_sentences(o):
    """What the recording's own counters say beyond the tables: its sites against libgcc's, what it lost."""
    out = []
    agreed = o.unwind_agreed_pct()
    if agreed is not None:
        checked = o.median(RECORD, "record_unwind_checked")
        out.append(
            f"**Sites against libgcc's unwinder** (`--check-unwind`): {agreed:.2f} % of the {checked:,.0f} sites checked "
            "(`record_unwind_checked`) agreed with `_Unwind_Backtrace`'s (`record_unwind_disagreed` the others)."
        )
    lost = [
        (counter, what, v)
        for counter, what in (
            ("record_dropped", "events lost"),
            ("record_cut_short", "traces cut short"),
            ("record_one_frame_sites", "sites of one frame only (no site)"),
        )
        if (v := o.median(RECORD, counter))
    ]
    if lost:
        out.append("**The recording**: " + "; ".join(f"{v:,.0f} {what} (`{counter}`)" for counter, what, v in lost) + ".")
    return out


def _intro(report, found):
    suite = report.suite
    reps = fmt.span(o.repetitions for o in found)
    command = " ".join((suite.command or {}).get("argv", []))
    what = f"`{command}`" if command else "every program of this run"
    clock = (
        f"the trace's times count on the machine's clock source `{suite.record.clock_source}`"
        if suite.record is not None
        else "this run's description names no clock source for the trace's times (it has no `measurement.record`)"
    )
    return [
        "## What recording costs",
        "",
        f"{what[0].upper()}{what[1:]} ran under each configuration four times, interleaved (`./bench --compare-recorders`, "
        f"{reps} repetition{'' if reps == '1' else 's'} each): *plain*, alone, as every other section of this report reads "
        "it; *record*, behind the suite's interposer, every call an event that a trace writer outside the process drains, "
        "encodes and compresses; *heap-map*, behind the same interposer, the heap map's tables in the process; "
        "*heaptrack*, under Debian's heaptrack, whose script runs the program with heaptrack's library first in "
        f"`LD_PRELOAD` and its interpreter beside it, a child of the script. The clock: {clock}.",
        "",
        "*calls*: the program's allocation calls as the recording counts them (`record_events`, median over repetitions), "
        "the same program's under every observer; *overhead per call*: (the observer's median wall time − the plain "
        "one's) ÷ calls, which spreads an observer's fixed costs (its start, its end) over the calls: a program of few calls "
        "shows mostly those; *CPU*: user + sys of the row's processes (heaptrack's interpreter among them), for the recording "
        "with the trace writer's (`record_writer_cpu_s`, a process outside the program), medians of the sums; *peak RSS*: "
        "the kernel's high-water mark of the measured process (`hwm_peak`; `rss_peak`, the largest sample, where a row "
        "lacks it); *bytes per event*: the trace's (`record_bytes_per_event`), heaptrack's file (`heaptrack_bytes`) ÷ "
        "the same calls; *writer's waits*: how often and how long the program waited for the trace writer "
        "(`record_waits`, `record_wait_s`). Wall times are judged by the noise rule (two medians differ only when their "
        "intervals do not overlap).",
        "",
        f"The recorder's targets: an overhead per call at most {PER_CALL_WORDS} of heaptrack's, on every program where "
        "heaptrack's "
        f"own overhead is beyond the noise; a scenario under recording at most {SCENARIO_RATIO:g}× its plain wall time, "
        f"except where the per-call target alone allows more ({PER_CALL_WORDS} of heaptrack's overhead above "
        f"{SCENARIO_RATIO - 1:g} of the plain time: said per scenario); a trace at most {TRACE_BYTES:g} bytes per event "
        f"or {TRACE_TIMES:g}× heaptrack's file, whichever is larger. Each is *met* when the least favourable end of the "
        "intervals meets it (an overhead's bounds: the observer's interval less the plain one's), *not met* when the most "
        "favourable end does not, and *not shown* when the intervals leave it open (within the noise).",
        "",
    ]


def render(report):
    found = observed(report)
    if not found:
        return []
    out = _intro(report, found) + [targets_table(found, report.suite), ""]
    for o in found:
        out += [f"### `{program_name(report.suite, o.workload)}` under {o.configuration}", "", observers_table(o), ""]
        sentences = [_wall_sentence(o), _targets_sentence(o)] + _recording_sentences(o)
        out += ["- " + s for s in sentences] + [""]
    return out[:-1]
