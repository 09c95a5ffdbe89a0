"""Why memory stays resident, from a heap-map run (./bench --heap-map, benchmarks/interposer/heap_map.h) or a
recorded one (./bench --record, benchmarks/trace/analysis.h): the report's section "Why it stays", its analysis
and its figure.

Every process of such a run ran behind the suite's interposer. Under the heap map, at moments (a workload's
cleared, released, final; a program's phases and exit) the interposer sorted the process's resident anonymous
pages into the description's classes (description.HEAP_CLASSES: free, pinned, used, outside) and ranked the
allocation sites of the blocks on pinned pages; under the recorder, every call went into a trace, bench read
the resident pages from outside at the same moments, and the analysis of the trace (outside the process) sorted
them by the same rules. Each is a Source: its counters are <prefix>_<moment>_<what> (heap_, trace_) and its sites
the description's heap_maps or trace_maps; everything below reads a row through one. A run with both on reads the
heap map, and holds the recording against it in the same process (agreement). Per instance, over its repetitions
(each quantity per repetition first, then the median, like summary.above_base):

  <class> MB at a moment     <prefix>_<moment>_<class> / 1e6, and live (<prefix>_<moment>_live) and, for the heap
                             map, the interposer's own tables (heap_<moment>_own: in RSS, in no class)
  above base                 (rss_<moment> - the baseline) / 1e6, the baseline rss_base (for a scenario, its
                             first phase's reading); none at a moment without an RSS reading (a program's exit)
  <class> share              heap_<moment>_<class> / (rss_<moment> - the baseline), in %; only where at least
                             MIN_ABOVE_MB stays above the baseline. A class counts every resident page, those
                             resident at the baseline too, so a share can exceed 100 %
  what a moment holds        FREE when its free bytes are large (LARGE_MB, and LARGE_PCT of what stays above
                             base where MIN_ABOVE_MB stays) and at least its pinned bytes; PINNED when its pinned
                             bytes are large and more than its free ones; NEITHER otherwise
  sites                      per repetition, the sites of a moment summed by their first SITE_FRAMES frames,
                             then per site the median over repetitions (0 where a repetition lacks it)
  agreement                  for a row with both sources, per moment and repetition: each class's difference
                             (recording - heap map); "within 2 %" when every class of every repetition differs by at
                             most AGREE_PCT of the larger of the two, or by one granule (the description's
                             granule_bytes); the top pinning site the same when the two sources' top sites (those
                             within AGREE_PCT of the moment's largest: ties) share one, their frames compared with
                             the executable's name set aside (the sources may name it differently)

The RSS of a heap-map run includes the interposer's own tables, that of a recorded run the recorder's ring, and the
speed of either the cost of recording, so this section ranks no configuration by either; every sentence is computed
from the rows it speaks of.
"""

import os
import re
import statistics
import textwrap
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from .. import mdformat as fmt
from .. import plots, summary
from ..description import HEAP_CLASSES
from ..section import TIMED, PlannedPlot
from ..summary import MB, STAGES, format_size

RUNS = TIMED

# A class's part of a moment is "large" from this many MB and this share of what stays above the baseline: 1.1 MB free
# beside 98 MB above the baseline is as little to return as 0.4 MB.
LARGE_MB = 1.0
LARGE_PCT = 5.0
# Shares of what stays above the baseline are computed only when at least this much stays (below: MB only).
MIN_ABOVE_MB = 1.0
# A release step "returned" a part when it took at least this share of it away, "left" it when it took less
# than 100 - this.
RETURNED_PCT = 90.0
# The pinning sites shown per configuration, and the frames shown (and merged by) per site.
TOP_SITES = 3
SITE_FRAMES = 3

FREE, PINNED, NEITHER = "free", "pinned", "neither"
PLOT_KINDS = ("heap_map",)
# The moment the interposer takes when a program exits (BENCH_HEAPMAP_AT_EXIT): no RSS reading is taken with it.
EXIT_MOMENT = "exit"
# A pinning site is shown when it holds at least this share of the moment's pinned bytes (the first one always).
MIN_SITE_PCT = 1.0

# Two sources agree on a class when they differ by at most this share of the larger, or by one granule.
AGREE_PCT = 2.0


@dataclass(frozen=True)
class Source:
    """Where a row's classes and pinning sites are read: the heap map (inside the process) or the recording (its trace,
    analysed outside)."""

    prefix: str  # its counters: <prefix>_<moment>_<what>, <prefix>_unknown_frees
    name: str  # as the text names it
    measurement_key: str  # the Description attribute that describes it (HeapMapMeasurement, RecordMeasurement)
    maps_key: str  # the Description attribute holding its pinning sites per instance and repetition
    keeper: str  # who saw the blocks allocated, as the text names it
    own: bool  # it has tables of its own in the process (<prefix>_<moment>_own)

    def counter(self, moment, what):
        return f"{self.prefix}_{moment}_{what}"

    def measurement(self, suite):
        return getattr(suite, self.measurement_key)

    def maps(self, suite, run_name):
        return getattr(suite, self.maps_key).get(run_name, [])

    @property
    def unknown_counter(self):
        return f"{self.prefix}_unknown_frees"

    def moment_of(self, counter):
        """The moment of a counter <prefix>_<moment>_free, None for any other counter."""
        if counter.startswith(self.prefix + "_") and counter.endswith("_free"):
            moment = counter[len(self.prefix) + 1 : -len("_free")]
            return moment or None
        return None


HEAP_MAP = Source("heap", "heap map", "heap_map", "heap_maps", "the interposer", True)
RECORDING = Source("trace", "recording", "record", "trace_maps", "the recording", False)
SOURCES = (HEAP_MAP, RECORDING)


def sources(suite):
    """The sources the run has, the heap map first."""
    return [s for s in SOURCES if s.measurement(suite) is not None]


def source_of(suite):
    """The source the section reads: the heap map where there is one, else the recording; None for neither."""
    found = sources(suite)
    return found[0] if found else None


def has_heap_maps(suite):
    return source_of(suite) is not None


@dataclass(frozen=True)
class Site:
    """A pinning site merged over repetitions: its first frames (as the description names them), the median bytes
    of pinned pages it pins and of its blocks there."""

    frames: tuple
    bytes: float
    blocks: float


@dataclass
class HeapResult:
    """One instance of a heap-map or recorded run: a summary.ConfigResult read through a Source."""

    result: object  # summary.ConfigResult
    suite: object  # description.Description
    source: Source = HEAP_MAP

    @property
    def configuration(self):
        return self.result.configuration

    @property
    def scenario(self):
        return self.suite.scenario(self.result.workload)

    @property
    def workload_info(self):
        return self.result.workload_info

    def moments(self):
        """The moments with a heap map, in the order they were taken: a workload's stages, a scenario's phases then
        its exit, then the order of the maps themselves."""
        found = {m for name in self.result.quantities if (m := self.source.moment_of(name))}
        order = list(STAGES)
        if self.scenario is not None:
            order = list(self.scenario.phase_names) + [EXIT_MOMENT]
        order += [m.moment for hm in self.maps() for m in hm.moments]
        ranked = list(dict.fromkeys(o for o in order if o in found))
        return ranked + sorted(found - set(ranked))

    def counter(self, moment, what):
        return self.source.counter(moment, what)

    def maps(self):
        """[description.HeapMap] per repetition: the pinning sites of each moment, from the row's source."""
        return self.source.maps(self.suite, self.result.run_name)

    def through(self, source):
        """The same row read through another source."""
        return HeapResult(self.result, self.suite, source)

    def mb(self, moment, what):
        """Median MB of a class (or live, own) at a moment; None without it."""
        v = self.result.median(self.counter(moment, what))
        return None if v is None else v / MB

    def rss_counter(self, moment):
        return f"rss_{moment}"

    def base_counter(self):
        """The baseline RSS reading: rss_base, or a scenario's first phase; None for a run without one."""
        if self.scenario is not None:
            return f"rss_{self.scenario.phase_names[0]}"
        return "rss_base" if self.result.spread("rss_base") is not None else None

    def above_mb(self, moment):
        """MB of RSS above the baseline at a moment (per repetition, then the median)."""
        base = self.base_counter()
        if base is None:
            return None
        return summary.per_repetition(self.result, [self.rss_counter(moment), base], lambda v, b: (v - b) / MB)

    def share_pct(self, moment, what):
        """A class's bytes in % of what stays above the baseline at a moment; None below MIN_ABOVE_MB."""
        above = self.above_mb(moment)
        if above is None or above < MIN_ABOVE_MB:
            return None
        counters = [self.counter(moment, what), self.rss_counter(moment), self.base_counter()]
        return summary.per_repetition(self.result, counters, lambda c, v, b: c / (v - b) * 100 if v - b > 0 else None)

    def large(self, moment, mb):
        if mb is None or mb < LARGE_MB:
            return False
        above = self.above_mb(moment)
        return above is None or above < MIN_ABOVE_MB or mb >= above * LARGE_PCT / 100

    def holds(self, moment):
        """FREE, PINNED or NEITHER: what dominates the moment (see the module docstring)."""
        free, pinned = self.mb(moment, "free"), self.mb(moment, "pinned")
        if free is None or pinned is None:
            return None
        if self.large(moment, free) and free >= pinned:
            return FREE
        if self.large(moment, pinned) and pinned > free:
            return PINNED
        return NEITHER

    def after_free(self):
        """The moment right after the free phase: a workload's cleared; for a program, the moment after the one with
        the most live bytes (the last one when that is the last); the first moment otherwise."""
        moments = self.moments()
        if not moments:
            return None
        if self.scenario is None:
            return "cleared" if "cleared" in moments else moments[0]
        live = [(m, self.mb(m, "live")) for m in moments if self.mb(m, "live") is not None]
        if not live:
            return moments[0]
        peak = max(live, key=lambda ml: ml[1])[0]
        i = moments.index(peak)
        return moments[min(i + 1, len(moments) - 1)]

    def end(self):
        """The last moment while the work is still alive: a workload's last stage; for a scenario, its last phase
        when mapped (its exit comes after the program's own teardown); the last moment otherwise."""
        moments = self.moments()
        if not moments:
            return None
        if self.scenario is not None and self.scenario.phase_names[-1] in moments:
            return self.scenario.phase_names[-1]
        return moments[-1]

    def released(self):
        """True when a heap map was taken after the configuration's release step."""
        return "released" in self.moments()

    def sites(self, moment, frames=SITE_FRAMES):
        """[Site] at a moment, merged over repetitions (module docstring), most bytes first."""
        per_rep = []
        for hm in self.maps():
            m = hm.moment(moment)
            if m is None:
                continue
            sums = {}
            for s in m.sites:
                key = s.frames[:frames]
                b, n = sums.get(key, (0.0, 0.0))
                sums[key] = (b + s.bytes, n + s.blocks)
            per_rep.append(sums)
        keys = dict.fromkeys(k for sums in per_rep for k in sums)
        merged = [
            Site(
                k,
                statistics.median(sums.get(k, (0.0, 0.0))[0] for sums in per_rep),
                statistics.median(sums.get(k, (0.0, 0.0))[1] for sums in per_rep),
            )
            for k in keys
        ]
        return sorted(merged, key=lambda s: (-s.bytes, s.frames))

    def processes(self, moment):
        """The largest number of processes whose snapshots a moment sums, over repetitions (1 for a single process)."""
        counts = [m.processes for hm in self.maps() if (m := hm.moment(moment))]
        return max(counts, default=1)

    def unknown_frees(self):
        """The most frees of blocks the source never saw allocated, over repetitions (0 when none)."""
        s = self.result.spread(self.source.unknown_counter)
        return max(s.values) if s is not None else 0.0

    def record_ns(self):
        return self.result.median("heap_record_ns")

    def recording_seconds(self):
        """The process's calls at the measured cost per call (heap_calls x heap_record_ns), s."""
        return summary.per_repetition(self.result, ["heap_calls", "heap_record_ns"], lambda n, ns: n * ns / 1e9)

    def recording_share_pct(self, phase_counter):
        """heap_calls x heap_record_ns in % of a phase's seconds (per repetition, then the median)."""
        return summary.per_repetition(
            self.result,
            ["heap_calls", "heap_record_ns", phase_counter],
            lambda n, ns, t: n * ns / 1e9 / t * 100 if t > 0 else None,
        )


@dataclass
class Group:
    """The heap-map results of one workload at one N, or of one scenario (size None), or of a program's run."""

    workload: str
    size: object
    rows: list  # [HeapResult] in the results' order

    @property
    def title(self):
        if self.size is None:
            return f"`{self.workload}`"
        return f"`{self.workload}`, N = {format_size(self.size)}"


def _has_map(result, source):
    return result.ok and any(source.moment_of(name) for name in result.quantities)


def groups(results, suite):
    """[Group] of the run's instances with heap maps (or a recording's, source_of): per workload (each N, largest
    first) or scenario, in the run's order of workloads."""
    source = source_of(suite)
    if source is None:
        return []
    out = []
    for workload in summary.workloads(results, suite):
        for size in reversed(summary.sizes(results, workload)):
            rows = [HeapResult(r, suite, source) for r in summary.select(results, workload, size) if _has_map(r, source)]
            if rows:
                out.append(Group(workload, size, rows))
    return out


def plottable(results, suite):
    """The groups heap_map.png draws: one per workload (its largest N) or scenario."""
    seen, out = set(), []
    for g in groups(results, suite):
        if g.workload not in seen:
            seen.add(g.workload)
            out.append(g)
    return out


def moment_title(row, moment):
    """How a moment reads in the text: a workload's stage as its description says, a program's phase in italics."""
    if row.scenario is None and moment in STAGES and row.workload_info is not None:
        return summary.stage_title(moment, row.workload_info)
    if moment == EXIT_MOMENT:
        return "at *exit*"
    return f"at *{moment}*"


def short_frame(frame):
    """'void ns::f<int, T<U>>(int, char) [clone .isra.0] (bench)' -> 'void ns::f<…>(…) [clone .isra.0] (bench)':
    template arguments and parameter lists elided, the object kept; a frame without a symbol
    ('libc.so.6+0x2724a') or one that does not parse is given as it is."""
    m = re.match(r"^(.*) \(([^()]*)\)$", frame)
    if not m:
        return frame
    name, obj = m.groups()
    out, i = [], 0
    while i < len(name):
        if name.startswith("(anonymous namespace)", i):
            out.append("(anonymous namespace)")
            i += len("(anonymous namespace)")
            continue
        if name.startswith("operator", i):
            j = i + len("operator")
            if name.startswith("()", j):
                j += 2
            else:
                while j < len(name) and name[j] in "<>=!+-*/%^&|~[],":
                    j += 1
            out.append(name[i:j])
            i = j
            continue
        c = name[i]
        if c in "<(":
            close = _closing(name, i)
            if close is None:
                return frame
            if c == "<":
                out.append("<…>")
            else:
                out.append("()" if close == i + 1 else "(…)")
            i = close + 1
            continue
        out.append(c)
        i += 1
    return f"{''.join(out)} ({obj})"


def _closing(text, start):
    """The index of the bracket closing the one at `start` ('<' or '('), counting both kinds; None if unbalanced."""
    pairs = {"<": ">", "(": ")"}
    stack = []
    for k in range(start, len(text)):
        c = text[k]
        if c in pairs:
            stack.append(pairs[c])
        elif c in ")>":
            if not stack or stack[-1] != c:
                return None
            stack.pop()
            if not stack:
                return k
    return None


# ---------------------------------------------------------------------------------------------------
# text helpers


def class_sentence(measurement, cls):
    """The description's sentence for a class (of a HeapMapMeasurement or RecordMeasurement), its pinned_share spelled
    out."""
    text = measurement.classes[cls]
    return text.replace("pinned_share", f"pinned_share ({measurement.pinned_share * 100:g} % of the page)")


# ---------------------------------------------------------------------------------------------------
# sentences


def _holds_text(row, moment):
    free, pinned = row.mb(moment, "free"), row.mb(moment, "pinned")
    text = f"{row.configuration} holds {fmt.mb_unit(free)} free and {fmt.mb_unit(pinned)} pinned"
    above = row.above_mb(moment)
    shares = row.share_pct(moment, "free"), row.share_pct(moment, "pinned")
    if above is not None and None not in shares:
        text += f" ({fmt.pct(shares[0])} and {fmt.pct(shares[1])} of the {fmt.mb_unit(above)} above base)"
    return text


def _free_meaning(group):
    """What free pages are, and what this run shows of returning them: only a release step that ran says it."""
    steps = any(r.result.config is not None and r.result.config.release_step for r in group.rows)
    return "no live block on these pages: the allocator keeps them by choice; " + (
        "*The release steps* below say what a call returned here"
        if steps
        else "no release step ran here, so whether a call or knob returns them is not measured in this run"
    )


def holds_sentences(group):
    """Per class of what the moment after the free phase holds: which configurations, with their MB."""
    by = {FREE: [], PINNED: [], NEITHER: []}
    for row in group.rows:
        moment = row.after_free()
        held = row.holds(moment) if moment is not None else None
        if held is not None:
            by[held].append((row, moment))
    if not any(by.values()):
        return []

    def when(items):
        titles = list(dict.fromkeys(moment_title(r, m) for r, m in items))
        return titles[0] if len(titles) == 1 else None

    def listing(items):
        common = when(items)
        return "; ".join(_holds_text(r, m) + ("" if common else f" {moment_title(r, m)}") for r, m in items)

    out = []
    if by[FREE]:
        common = when(by[FREE])
        out.append(f"**Kept free** ({_free_meaning(group)}){f' {common}' if common else ''}: " + listing(by[FREE]) + ".")
    if by[PINNED]:
        common = when(by[PINNED])
        out.append(
            f"**Pinned** (live blocks hold these pages: no call or knob returns them while those blocks live)"
            f"{f' {common}' if common else ''}: "
            + "; ".join(
                f"{_holds_text(r, m)}, with {fmt.mb_unit(r.mb(m, 'live'))} of live blocks in the process"
                + ("" if common else f" {moment_title(r, m)}")
                for r, m in by[PINNED]
            )
            + "."
        )
    if by[NEITHER]:
        common = when(by[NEITHER])
        out.append(
            f"**Neither free nor pinned beyond {LARGE_MB:g} MB and {LARGE_PCT:g} % of what stays**"
            f"{f' {common}' if common else ''}: " + listing(by[NEITHER]) + "."
        )
    return out


def _change(before, after):
    return f"{fmt.mb(before)} → {fmt.mb(after)} MB"


def release_sentences(group):
    """For every configuration with a release step: what it did to the free and the pinned part (cleared →
    released), or that no heap map was taken after it."""
    out, spans = [], []
    for row in group.rows:
        config = row.result.config
        if config is None or not config.release_step:
            continue
        spans.append(f"{moment_title(row, 'cleared')} → {moment_title(row, 'released')}")
        call = f" (`{config.release_call}`)" if config.release_call else ""
        if not row.released() or "cleared" not in row.moments():
            out.append(f"{row.configuration}'s release step{call}: no heap map was taken after it.")
            continue
        free = row.mb("cleared", "free"), row.mb("released", "free")
        pinned = row.mb("cleared", "pinned"), row.mb("released", "pinned")
        if None in free or None in pinned:
            continue
        if not row.large("cleared", free[0]):
            did = f"had little free to return (free {_change(*free)})"
        elif free[1] <= free[0] * (1 - RETURNED_PCT / 100):
            did = f"returned the free part (free {_change(*free)})"
        elif free[1] < free[0] * RETURNED_PCT / 100:
            did = f"returned part of the free part (free {_change(*free)})"
        else:
            did = f"**did not return the free part** (free {_change(*free)})"
        if not row.large("cleared", pinned[0]):
            kept = f"; pinned {_change(*pinned)}"
        elif pinned[1] >= pinned[0] * RETURNED_PCT / 100:
            kept = f" and left the pinned part (pinned {_change(*pinned)})"
        else:
            kept = f" and took pinned down too (pinned {_change(*pinned)})"
        above = row.above_mb("cleared"), row.above_mb("released")
        rss = f"; RSS above base {_change(*above)}" if None not in above else ""
        out.append(f"{row.configuration}'s release step{call} {did}{kept}{rss}.")
    if not out:
        return []
    when = f" ({spans[0]})" if len(set(spans)) == 1 else ""
    return [f"**The release steps**{when}: " + " ".join(out)]


def settle_sentence(group):
    """Configurations whose free or pinned part changed by LARGE_MB or more from the last moment of their own doing
    (the release step's, else the one after the free phase) to the end; or that none did."""
    changed, compared, span = [], [], set()
    for row in group.rows:
        start = "released" if row.released() else row.after_free()
        end = row.end()
        if start is None or end is None or start == end:
            continue
        moments = row.moments()
        if moments.index(end) < moments.index(start):
            continue
        compared.append(row)
        span.add((moment_title(row, start), moment_title(row, end)))
        parts = []
        for cls in (FREE, PINNED):
            a, b = row.mb(start, cls), row.mb(end, cls)
            if a is not None and b is not None and abs(b - a) >= LARGE_MB:
                parts.append(f"{cls} {_change(a, b)}")
        if parts:
            changed.append(
                f"{row.configuration} {', '.join(parts)}"
                + (f" ({moment_title(row, start)} → {moment_title(row, end)})" if len(span) > 1 else "")
            )
    if not compared:
        return None
    when = f" ({next(iter(span))[0]} → {next(iter(span))[1]})" if len(span) == 1 else ""
    if not changed:
        return f"**Afterwards**{when}: no configuration's free or pinned part changed by {LARGE_MB:g} MB or more."
    return f"**Afterwards**{when}, changed by {LARGE_MB:g} MB or more: " + "; ".join(changed) + "."


def _site_text(k, items):
    """The k-th site of configurations that share their sites' frames: bytes, blocks and share as spans over them."""
    sites = [(pinned, shown[k]) for _, pinned, shown in items]
    blocks = [s.blocks for _, s in sites]
    text = (
        f"{fmt.span([s.bytes / MB for _, s in sites], fmt.small_mb)} in {fmt.span(blocks, lambda v: f'{v:,.0f}')} "
        f"block{'' if all(round(b) == 1 for b in blocks) else 's'}, "
        f"{fmt.span([s.bytes / MB / p * 100 for p, s in sites], lambda v: f'{v:.0f}')} % of the pinned bytes: "
    )
    return text + " ← ".join(f"`{short_frame(f)}`" for f in sites[0][1].frames)


def site_lines(group):
    """For every configuration whose pinned part is large after the free phase: its top pinning sites; configurations
    whose sites have the same frames at the same moment are listed together, their figures as spans."""
    together = {}
    for row in group.rows:
        moment = row.after_free()
        pinned = row.mb(moment, "pinned") if moment is not None else None
        if pinned is None or not row.large(moment, pinned):
            continue
        shown = row.sites(moment)[:TOP_SITES]
        shown = shown[:1] + [s for s in shown[1:] if s.bytes / MB >= pinned * MIN_SITE_PCT / 100]
        key = (moment_title(row, moment), tuple(s.frames for s in shown))
        together.setdefault(key, []).append((row, pinned, shown))
    if not together:
        return []
    lines = []
    for (title, frames), items in together.items():
        head = f"- {', '.join(r.configuration for r, _, _ in items)} ({fmt.span([p for _, p, _ in items], fmt.mb)} MB pinned {title})"
        if not frames:
            lines.append(head + ": no site recorded.")
            continue
        lines.append(head + ":")
        lines += [f"  {k + 1}. {_site_text(k, items)}" for k in range(len(frames))]
    note = _executable_note(group, [f for (_, frames) in together for site in frames for f in site])
    return (
        [
            f"**Where the pinning blocks were allocated** (configurations with {LARGE_MB:g} MB or more pinned, and "
            f"{LARGE_PCT:g} % of what stays; up to {TOP_SITES} sites by the pinned page bytes they hold, those with "
            f"{MIN_SITE_PCT:g} % of them or more, a page's bytes shared among its blocks by their live bytes; each site's "
            f"first {SITE_FRAMES} frames, innermost first, template arguments and parameters elided; medians over "
            "repetitions; configurations with the same sites together, their figures as ranges):",
            "",
        ]
        + lines
        + ([""] + note if note else [])
    )


def measured_program(scenario):
    """The name of what a scenario measures: its processes' name, or its program's."""
    if scenario.measure:
        return scenario.measure
    return os.path.basename(scenario.needs[0].program) if scenario.needs else None


def _executable_note(group, frames):
    """A frame's object is the file it lies in; the interposer names a process's executable as /proc/self/exe does, so
    for a program installed under another file's name (Debian's redis-server is redis-check-rdb) the frames name a
    program the reader did not run: say whose they are."""
    scenario = group.rows[0].scenario if group.rows else None
    program = measured_program(scenario) if scenario is not None else None
    objects = dict.fromkeys(m.group(1) for f in frames if (m := re.search(r"\(([^()]+)\)$", f)))
    others = [o for o in objects if ".so" not in o and o != program]
    if program is None or not others:
        return []
    return [
        ", ".join(f"`{o}`" for o in others)
        + f" is the executable of the measured `{program}`: the file its frames lie in, as `/proc/self/exe` names it."
    ]


# Why a source saw a block freed that it never saw allocated.
_UNKNOWN_WHY = {
    HEAP_MAP: "An allocation function it does not cover served those blocks",
    RECORDING: "A function it does not cover, or a call before it began, allocated those blocks",
}


def unknown_sentence(group):
    rows = [r for r in group.rows if r.unknown_frees() > 0]
    if not rows:
        return None
    source = rows[0].source
    return (
        f"**Frees of blocks {source.keeper} never saw allocated** (`{source.unknown_counter}`, the most in a repetition): "
        + ", ".join(f"{r.configuration} {r.unknown_frees():,.0f}" for r in rows)
        + f". {_UNKNOWN_WHY[source]}: the pages they were on may be misclassified."
    )


def contrast_sentence(group, against):
    """`group`'s workload against another's at the same N: under which configurations what the moment after the
    free phase holds differs (free in one, pinned in the other), and under which it does not."""
    theirs = {r.configuration: r for r in against.rows}
    pairs = [(theirs[r.configuration], r) for r in group.rows if r.configuration in theirs]
    pairs = [
        (a, b) for a, b in pairs if a.after_free() and b.after_free() and a.holds(a.after_free()) and b.holds(b.after_free())
    ]
    if not pairs:
        return None
    by = {}
    for a, b in pairs:
        by.setdefault((a.holds(a.after_free()), b.holds(b.after_free())), []).append((a, b))
    flipped = {k: v for k, v in by.items() if k[0] != k[1] and NEITHER not in k}
    if not flipped:
        return None
    first_a, first_b = pairs[0]
    a_when, b_when = moment_title(first_a, first_a.after_free()), moment_title(first_b, first_b.after_free())

    def figures(rows):
        """'12.8–12.9 MB free, 0.0 MB pinned, 0.1 MB of live blocks' over `rows` at their moment after the free phase."""
        spans = [
            fmt.span([r.mb(r.after_free(), what) for r in rows], fmt.mb) + f" MB {label}"
            for what, label in ((FREE, "free"), (PINNED, "pinned"), ("live", "of live blocks"))
        ]
        return ", ".join(spans)

    parts = []
    for (ha, hb), items in flipped.items():
        parts.append(
            f"under {', '.join(a.configuration for a, _ in items)}, `{against.workload}` {a_when} holds mostly {ha} pages "
            f"({figures([a for a, _ in items])}) and `{group.workload}` {b_when} mostly {hb} ones "
            f"({figures([b for _, b in items])})"
        )
    rest = [(k, v) for k, v in by.items() if k not in flipped]
    text = f"**`{group.workload}` against `{against.workload}`** (the same configurations): " + "; ".join(parts)
    if rest:
        text += "; not so under " + "; ".join(
            f"{', '.join(a.configuration for a, _ in items)} ({ha} in `{against.workload}`, {hb} in `{group.workload}`)"
            for (ha, hb), items in rest
        )
    return text + "."


# ---------------------------------------------------------------------------------------------------
# the recording against the heap map, in the same process

EXECUTABLE = "<executable>"


def _object(frame):
    """The object a frame lies in: 'f (python3)' -> 'python3', 'perl+0x589e3' -> 'perl'; None when it names none."""
    m = re.search(r"\(([^()]+)\)$", frame) or re.match(r"^([^\s()]+)\+0x[0-9a-f]+$", frame)
    return m.group(1) if m else None


def _is_executable(obj):
    return obj is not None and ".so" not in obj


def without_executable(frames):
    """Frames with the executable's own name set aside (EXECUTABLE): the heap map and the recording may name the same
    file differently (Debian's python3 is python3.11), while every shared object is named by its file in both."""
    out = []
    for f in frames:
        obj = _object(f)
        if _is_executable(obj):
            f = f[: -len(obj) - 2] + f"({EXECUTABLE})" if f.endswith(f"({obj})") else EXECUTABLE + f[len(obj) :]
        out.append(f)
    return tuple(out)


def top_sites(sites):
    """The sites tied for the top: those within AGREE_PCT of the largest's bytes (none without a site or a byte)."""
    top = max((s.bytes for s in sites), default=0.0)
    return [s for s in sites if top > 0 and s.bytes >= top * (1 - AGREE_PCT / 100)]


@dataclass
class Agreement:
    """One moment of a row read through both sources."""

    moment: str
    heap: dict  # class (and live) -> median MB of the heap map
    recording: dict  # class (and live) -> median MB of the recording
    difference: dict  # class (and live) -> median over repetitions of (recording - heap map), bytes
    apart: list  # the classes that differ by more than AGREE_PCT (or a granule) in some repetition
    top_same: object  # True, False, or None when neither source has a pinning site at the moment
    tops: tuple  # (heap map's top sites, recording's)

    @property
    def within(self):
        return not self.apart


_AGREE_WHAT = HEAP_CLASSES + ("live",)


def agreement(row, granule):
    """[Agreement] of a row with both sources (row: read through the heap map), per moment both have, in its order."""
    other = row.through(RECORDING)
    theirs = other.moments()
    out = []
    for moment in [m for m in row.moments() if m in theirs]:
        heap_mb, rec_mb, difference, apart = {}, {}, {}, []
        for what in _AGREE_WHAT:
            a, b = row.result.spread(row.counter(moment, what)), row.result.spread(other.counter(moment, what))
            if a is None or b is None or a.n != b.n:
                continue
            heap_mb[what], rec_mb[what] = a.median / MB, b.median / MB
            difference[what] = statistics.median(y - x for x, y in zip(a.values, b.values))
            close = all(abs(y - x) <= max(AGREE_PCT / 100 * max(abs(x), abs(y)), granule) for x, y in zip(a.values, b.values))
            if what in HEAP_CLASSES and not close:
                apart.append(what)
        mine, yours = top_sites(row.sites(moment)), top_sites(other.sites(moment))
        if not mine and not yours:
            same = None
        else:
            same = any(without_executable(x.frames) == without_executable(y.frames) for x in mine for y in yours)
        out.append(Agreement(moment, heap_mb, rec_mb, difference, apart, same, (tuple(mine), tuple(yours))))
    return out


def _difference_text(v):
    """A difference in bytes as the table gives it: '0', '+4 kB', '−51 kB', '+1.2 MB'."""
    if abs(v) < 500:
        return "0"
    sign = "+" if v > 0 else "−"
    return f"{sign}{abs(v) / 1e3:,.0f} kB" if abs(v) < 1e6 else f"{sign}{abs(v) / MB:,.1f} MB"


def _top_text(a):
    if a.top_same is None:
        return "none in either"
    if not a.tops[0]:
        return "none in the heap map"
    if not a.tops[1]:
        return "none in the recording"
    return "the same" if a.top_same else "**differs**"


def _executables(rows, moments_of):
    """{source name: the executables its frames name} over the rows' moments (agreement's sites)."""
    out = {}
    for name, sites in (("heap map", 0), ("recording", 1)):
        out[name] = sorted(
            {
                o
                for r in rows
                for a in moments_of(r)
                for site in a.tops[sites]
                for f in site.frames
                if _is_executable(o := _object(f))
            }
        )
    return out


def agreement_lines(group, suite):
    """For the rows of a group read through both sources: the table of one against the other per moment, and what it
    shows; [] for a group without such rows."""
    rows = [r for r in group.rows if r.source is HEAP_MAP and _has_map(r.result, RECORDING)]
    if not rows:
        return []
    granule = suite.heap_map.granule_bytes
    found = {r.configuration: agreement(r, granule) for r in rows}
    header = ["configuration", "moment"] + [f"{w} (MB)" for w in _AGREE_WHAT] + [f"within {AGREE_PCT:g} %", "top pinning site"]
    table_rows = []
    for r in rows:
        for k, a in enumerate(found[r.configuration]):
            cells = [
                f"{a.heap[w]:,.2f} / {a.recording[w]:,.2f} ({_difference_text(a.difference[w])})" if w in a.heap else "—"
                for w in _AGREE_WHAT
            ]
            verdict = "yes" if a.within else "**no**: " + ", ".join(a.apart)
            table_rows.append([r.configuration if k == 0 else "", moment_title(r, a.moment)] + cells + [verdict, _top_text(a)])
    names = _executables(rows, lambda r: found[r.configuration])
    named = ""
    if names["heap map"] and names["recording"] and names["heap map"] != names["recording"]:
        named = (
            f" (the heap map names it {', '.join(f'`{o}`' for o in names['heap map'])}, the recording "
            f"{', '.join(f'`{o}`' for o in names['recording'])})"
        )
    moments = [a for per in found.values() for a in per]
    within = [a for a in moments if a.within]
    compared = [a for a in moments if a.top_same is not None]
    same = [a for a in compared if a.top_same]
    text = (
        f"**The recording against the heap map, in the same process**: each cell the heap map's MB / the recording's (their "
        f"difference, recording − heap map, median over repetitions; live is not a class, shown for the join); *within "
        f"{AGREE_PCT:g} %*: every class differs by at most {AGREE_PCT:g} % of the larger of the two, or by one "
        f"{granule / 1024:g} KiB granule, in every repetition; *top pinning site*: the site pinning the most page bytes "
        f"(those within {AGREE_PCT:g} % of it tied), by its first {SITE_FRAMES} frames, the executable's own name set "
        f"aside{named}. Within {AGREE_PCT:g} % at {len(within)} of the {len(moments)} moments of {len(rows)} "
        f"configuration{'' if len(rows) == 1 else 's'}"
    )
    if compared:
        text += f"; the top pinning site the same at {len(same)} of the {len(compared)} with a pinning site in either"
    return ["", text + ".", "", fmt.table(header, table_rows)]


# ---------------------------------------------------------------------------------------------------
# tables


def table(group):
    """One row per configuration and moment: MB per class, live, the interposer's own (under the heap map), RSS above
    base, and the free and pinned shares of it."""
    own = bool(group.rows) and group.rows[0].source.own
    header = ["configuration", "moment"] + [f"{c} (MB)" for c in HEAP_CLASSES]
    header += ["live (MB)"] + (["interposer's own (MB)"] if own else []) + ["RSS above base (MB)", "free share", "pinned share"]
    rows = []
    for row in group.rows:
        for k, moment in enumerate(row.moments()):
            title = moment_title(row, moment)
            processes = row.processes(moment)
            if processes > 1:
                title += f" ({processes} processes)"
            rows.append(
                [row.configuration if k == 0 else "", title]
                + [fmt.mb(row.mb(moment, c)) for c in HEAP_CLASSES]
                + [fmt.mb(row.mb(moment, "live"))]
                + ([fmt.mb(row.mb(moment, "own"))] if own else [])
                + [fmt.mb(row.above_mb(moment))]
                + [fmt.pct(row.share_pct(moment, FREE)), fmt.pct(row.share_pct(moment, PINNED))]
            )
    return fmt.table(header, rows)


# ---------------------------------------------------------------------------------------------------
# the section


def _cost_text(all_rows):
    ns = [r.record_ns() for r in all_rows if r.record_ns() is not None]
    if not ns:
        return None
    text = (
        f"**What the interposer costs**: recording one call took a median {statistics.median(ns):,.0f} ns "
        f"(`heap_record_ns`, measured inside; {fmt.span(ns, lambda v: f'{v:,.0f}')} ns over the instances)"
    )
    insert = [s for r in all_rows if (s := r.recording_share_pct("insert_seconds")) is not None]
    wall = [
        s
        for r in all_rows
        if r.result.spread("insert_seconds") is None and (s := r.recording_share_pct("wall_seconds")) is not None
    ]
    seconds = [s for r in all_rows if (s := r.recording_seconds()) is not None]
    if insert:
        text += (
            f"; at that cost a process's calls (`heap_calls`) come to {fmt.span(insert, lambda v: f'{v:.1f}')} % of its insert "
            "phase's time (calls × ns ÷ `insert_seconds`, per repetition: the calls of the whole process set beside the "
            "insert phase alone)"
        )
    elif wall and seconds:
        text += (
            f"; at that cost a program's calls (`heap_calls`) come to {fmt.span([s * 1e3 for s in seconds], lambda v: f'{v:,.0f}')} ms, "
            f"{fmt.span(wall, lambda v: f'{v:.1f}')} % of its wall time (`wall_seconds`)"
        )
    own = [r.mb(m, "own") for r in all_rows for m in r.moments() if r.mb(m, "own") is not None]
    if own:
        text += (
            f". Its own tables are resident too: {fmt.span(own, lambda v: f'{v:,.1f}')} MB per moment (`heap_<moment>_own`, "
            f"median {statistics.median(own):,.1f} MB), in no class but **in every RSS figure of this run**, which is why "
            "its retention figures are not those of a plain run and why no configuration is ranked here by RSS or speed"
        )
    return text + "."


_MOMENTS = (
    "at moments (for a workload: right after its free phase, after the release step where there is one, after settle; "
    "for a program: its phases and its exit)"
)


def _recording_text(all_rows):
    """What the recording of the rows holds, what it made the programs wait, and what it adds to their RSS."""

    def spread(counter, f):
        values = [v for r in all_rows if (v := r.result.median(counter)) is not None]
        return fmt.span(values, f) if values else None

    events = spread("record_events", lambda v: f"{v:,.0f}")
    if events is None:
        return None
    text = (
        f"**What the recording holds**: {events} events per instance (`record_events`, medians over repetitions), "
        f"{spread('record_bytes_per_event', lambda v: f'{v:.3g}')} bytes each in the trace (`record_bytes_per_event`)"
    )
    waits = spread("record_waits", lambda v: f"{v:,.0f}")
    if waits == "0":
        text += "; no program waited for the writer (`record_waits`)"
    elif waits:
        text += (
            f"; the programs waited for the writer {waits} times, {spread('record_wait_s', lambda v: f'{v:.3g}')} s in all "
            "(`record_waits`, `record_wait_s`: the writer had fallen behind)"
        )
    for counter, what in (("record_dropped", "events lost"), ("record_cut_short", "traces cut short")):
        lost = [(r, v) for r in all_rows if (v := r.result.median(counter))]
        if lost:
            text += f"; **{what}** (`{counter}`): " + ", ".join(f"{r.configuration} {v:,.0f}" for r, v in lost)
    ring = spread("record_ring_bytes", lambda v: f"{v / MB:,.1f}")
    return text + (
        ". The recorder's ring, a file the process shares with the writer, is resident in the process"
        + (f" ({ring} MB, `record_ring_bytes`)" if ring else "")
        + ": in no class but **in every RSS figure of this run**, as the cost of recording every call is in its speeds, "
        "which is why its retention figures are not those of a plain run and why no configuration is ranked here by RSS "
        "or speed."
    )


def _held_against(all_groups):
    """The rows of the groups read through both sources (a run with --record --heap-map)."""
    return [r for g in all_groups for r in g.rows if r.source is HEAP_MAP and _has_map(r.result, RECORDING)]


def _intro(suite, all_groups, figures):
    rows = [r for g in all_groups for r in g.rows]
    source = rows[0].source
    measurement = source.measurement(suite)
    out = ["## Why it stays", ""]
    if source is HEAP_MAP:
        out += [
            f"Every process of this run ran behind the heap map's interposer (`{measurement.interposer}`), preloaded ahead "
            f"of the configuration's allocator: it records every block malloc returns and, {_MOMENTS}, sorts the "
            "process's resident anonymous pages into the run's classes:",
            "",
        ]
    else:
        out += [
            f"Every process of this run was recorded (`./bench --record`) behind the suite's interposer "
            f"(`{measurement.interposer}`), preloaded ahead of the configuration's allocator: each call an event in a trace "
            f"(format {measurement.trace_format}, its times on the machine's clock source `{measurement.clock_source}`) "
            f"that a writer outside the process drains and compresses. {_MOMENTS[0].upper()}{_MOMENTS[1:]} and every "
            f"{fmt.duration(measurement.residency_every_seconds)}, bench read the process's resident anonymous pages from "
            "outside (`/proc/<pid>/pagemap`); the analysis of the trace, outside the process too, joins the blocks live at "
            "each moment with those pages and sorts them into the run's classes (this section reads the recording, "
            "`trace_<moment>_*`):",
            "",
        ]
    out += [f"- **{c}**: {class_sentence(measurement, c)}" for c in HEAP_CLASSES]
    out += [
        "",
        f"*malloc's ground* is every {measurement.granule_bytes / 1024:g} KiB granule in which malloc has ever returned a "
        + (
            f"block; each block keeps {measurement.site_frames} return addresses, its allocation site. The interposer's own "
            "tables are left out of every class."
            if source is HEAP_MAP
            else f"block; each call's allocation site is its first {measurement.site_frames} return addresses."
        ),
        "",
    ]
    if _held_against(all_groups):
        out += [
            "Every process was recorded too (`./bench --record`, both on at once): after each group's sites, the "
            "recording's classes and top pinning site are held against the heap map's, moment by moment, in the same "
            "process.",
            "",
        ]
    cost = _cost_text(rows) if source is HEAP_MAP else _recording_text(rows)
    if cost:
        out += [cost, ""]
    out += [
        "Tables: medians over repetitions in MB (10⁶ bytes); *live*: the bytes of live blocks; "
        + ("*interposer's own*: its tables, in RSS but in no class; " if source.own else "")
        + "*RSS above base*: RSS at the moment minus the baseline (`rss_base`; for a "
        "program, its first phase), per repetition then the median (none at *exit*, where no RSS is read); "
        f"*free share* and *pinned share*: those classes in % of it (only where {MIN_ABOVE_MB:g} MB or more stays above "
        "base). A class counts every resident page, those already resident at the baseline too, so a share can exceed "
        "100 %; and RSS holds more than the four classes: "
        + ("the interposer's own tables" if source.own else "the recorder's ring")
        + " and what is not anonymous.",
        "",
    ]
    for line in figures:
        out += [line, ""]
    return out


def render_group(group, primary, suite):
    """A group's subsection; `primary`: the run's first group at the same N, for a contrast (or None)."""
    out = [f"### {group.title}", "", table(group), ""]
    sentences = holds_sentences(group) + release_sentences(group)
    sentences += [s for s in (settle_sentence(group), unknown_sentence(group)) if s]
    if primary is not None:
        contrast = contrast_sentence(group, primary)
        if contrast:
            sentences.append(contrast)
    out += ["- " + s for s in sentences]
    sites = site_lines(group)
    if sites:
        out += [""] + sites
    return out + agreement_lines(group, suite)


def render(report):
    """The section "Why it stays", or [] for a run without heap maps."""
    suite, figures = report.suite, report.images(PLOT_KINDS)
    found = groups(report.results, suite)
    if not found:
        return []
    out = _intro(suite, found, figures)
    for i, g in enumerate(found):
        # Each pair of workloads at one N once: the later against the run's first.
        primary = next((p for p in found[:i] if p.size is not None and p.size == g.size and p.workload != g.workload), None)
        out += render_group(g, primary, suite) + [""]
    return out[:-1]


# ---------------------------------------------------------------------------------------------------
# the figure (drawn with plots' helpers); its title states the question it answers
#
# heap_map.png   one panel per workload (its largest N) or scenario: for every configuration, a stacked bar of
#                its resident anonymous MB by class (free, pinned, used, outside) at its last moment (a
#                workload's after settle, a scenario's last phase), and, for a configuration with a release
#                step, a bar right after the free phase beside it


# The figure's caption and what its subtitle says of the source, per source.
_CAPTION = {
    HEAP_MAP: "Why it stays: resident anonymous MB by heap-map class (free, pinned, used, outside), per configuration",
    RECORDING: "Why it stays: resident anonymous MB by class (free, pinned, used, outside), per configuration, from the "
    "recording",
}
_SOURCE_NOTE = {
    HEAP_MAP: "behind the heap map's interposer, whose own tables (in RSS) are not drawn",
    RECORDING: "from the recording, whose ring (in RSS) is not drawn",
}


def figures(report):
    found = plottable(report.results, report.suite)
    if not found:
        return []
    return [
        PlannedPlot(
            "heap_map",
            "heap_map",
            tuple(g.workload for g in found),
            None,
            _CAPTION[found[0].rows[0].source],
            heap_map_figure,
        )
    ]


CLASS_COLORS = {"free": "#4393c3", "pinned": "#b2182b", "used": "#878787", "outside": "#d9d9d9"}


def _bars(row):
    """[(moment, label)] drawn for a row: right after the free phase beside the end where a release step ran."""
    end = row.end()
    if end is None:
        return []
    after = row.after_free()
    if row.released() and after is not None and after != end:
        return [(after, after), (end, end)]
    return [(end, end)]


def heap_map_figure(report, style, planned):
    suite = report.suite
    found = plottable(report.results, suite)
    source = found[0].rows[0].source
    n_bars = [sum(len(_bars(r)) for r in g.rows) for g in found]
    rows_of, columns = plots.grid(len(found), 2)
    height = max(n_bars, default=1) * 0.32 + 1.2
    # One panel is as wide as the title and the legend need.
    fig, axes = plt.subplots(rows_of, columns, figsize=(max(6.6 * columns, 11.0), height * rows_of + 1.8), squeeze=False)
    ends = set()
    for k, group in enumerate(found):
        ax = axes[k // columns][k % columns]
        labels, y = [], 0
        top = max(
            [sum(r.mb(m, c) or 0.0 for c in HEAP_CLASSES) for r in group.rows for m, _ in _bars(r)] + [1.0],
        )
        for row in group.rows:
            for moment, label in _bars(row):
                if moment == row.end():
                    ends.add(moment)
                left = 0.0
                for cls in HEAP_CLASSES:
                    value = row.mb(moment, cls) or 0.0
                    ax.barh(y, value, left=left, height=0.7, color=CLASS_COLORS[cls], linewidth=0)
                    left += value
                ax.text(
                    left + top * 0.02,
                    y,
                    f"{row.mb(moment, 'free') or 0:,.1f} free · {row.mb(moment, 'pinned') or 0:,.1f} pinned",
                    va="center",
                    fontsize=6.5,
                    color="0.2",
                )
                labels.append(f"{row.configuration} · {label}")
                y += 1
        ax.set_yticks(range(len(labels)), [plots.plain(t) for t in labels], fontsize=7.5)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_xlim(0, top * 1.45)
        ax.set_title(plots.plain(group.title.replace("`", "")), fontsize=9.5)
        ax.set_xlabel("resident anonymous MB, by class", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", color="0.92")
        ax.set_axisbelow(True)
    plots.hide_unused(axes, len(found))
    handles = [
        Patch(
            color=CLASS_COLORS[c],
            label=textwrap.fill(f"{c}: {class_sentence(source.measurement(suite), c).split(':')[0]}", 70),
        )
        for c in HEAP_CLASSES
    ]
    fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False, fontsize=7.5)
    reps = fmt.span(r.result.repetitions for g in found for r in g.rows) or "no"
    top = plots.title(
        fig,
        "Why does the memory stay: pages the allocator keeps free, or pages live blocks pin?",
        f"medians of {reps} run{'' if reps == '1' else 's'} at the last moment ({', '.join(sorted(ends))}), and right after the free phase beside it where "
        f"a release step ran · {_SOURCE_NOTE[source]}",
    )
    fig.tight_layout(rect=(0, 0.75 / fig.get_figheight(), 1, top))
    return fig
