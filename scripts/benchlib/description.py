"""The run's description: the section "suite" that ./bench writes into its JSON after "benchmarks"
(benchmarks/driver/description.h). Everything the scripts know about configurations, workloads,
counters and timelines comes from here, never from names: a configuration's kind, library,
reference and release step, a workload's headline counters, a counter's unit, a scenario's phases.
"""

from dataclasses import dataclass, field

KINDS = ("allocator", "container allocator", "different container")

# The moment rss_cleared is read, for a workload whose description does not say (benchmarks/driver/description.h).
DEFAULT_CLEARED_MOMENT = "right after clear()"
UNITS = ("bytes", "seconds", "items_per_second", "count", "percent", "nanoseconds", "megabyte_seconds")

# How a run measured (the section's "measurement"): timed, or counted under valgrind (./bench --exact,
# benchmarks/driver/exact.h). A run written before the field was timed.
TIMED, EXACT = "timed", "exact"
MODES = (TIMED, EXACT)
# A counter's "kind" in the section's "counters": "exact" for what callgrind counted in a phase
# (<phase>_instructions, ...), "program" for a figure a program reported itself (Redis's INFO
# memory); a counter without one is measured by bench as usual.
PROGRAM = "program"
COUNTER_KINDS = (EXACT, PROGRAM)


@dataclass(frozen=True)
class Configuration:
    name: str
    summary: str
    kind: str
    library: str
    reference: object  # name of the configuration it is compared with; None for glibc
    release_step: bool
    release_call: object  # str or None
    huge_pages: bool
    environment: dict
    available: bool
    unavailable_reason: str
    command_skip_reason: str

    @property
    def family(self):
        """What timeline and breakdown panels group by: the malloc library for an allocator, the
        kind for the others (the process keeps glibc there, the container decides)."""
        return self.library if self.kind == "allocator" else self.kind


@dataclass(frozen=True)
class Measurement:
    """How the run's counters were obtained. For an exact run: the tool and valgrind's version, the command
    each child ran under, the simulated caches ({"i1", "d1", "ll"}: "size,associativity,line size" as
    callgrind's --I1/--D1/--LL take them), the cycles estimate's formula, and what the run's RSS and times
    are (rss_note: valgrind's, not the program's)."""

    mode: str = TIMED
    tool: str = ""
    valgrind: str = ""
    command: str = ""
    caches: dict = field(default_factory=dict)
    cycles_formula: str = ""
    rss_note: str = ""

    @property
    def exact(self):
        return self.mode == EXACT


@dataclass(frozen=True)
class Activity:
    """What a busy workload does while settling (benchmarks/measure/context.h): one step every period."""

    pattern: str  # "pairs", "batch", "steady"
    spec: str  # as given to --activity: "batch:count=1000:size=64"
    period_seconds: float
    description: str  # a sentence: "every 10 ms, 1,000 blocks of 64 B allocated, all kept, then all freed"
    counted: bool = True  # False for a run written before activity patterns: no activity_* counters


# A run written before activity patterns had one busy workload, "map_active", with no "activity" field:
# it ran what is now the pairs pattern (README of that time: 1,000 malloc/free pairs of 64 B every 10 ms).
LEGACY_ACTIVITY = Activity(
    pattern="pairs",
    spec="pairs:count=1000:size=64",
    period_seconds=0.01,
    description="every 10 ms, 1,000 malloc/free pairs of 64 B (each block freed before the next)",
    counted=False,
)


@dataclass(frozen=True)
class Workload:
    name: str  # as in the results: the registered workload, with ":<pattern>" for a busy one
    summary: str
    process_level_only: bool
    settle: str  # "idle" or "active"
    uses_rounds: bool
    headline: tuple
    cleared_moment: str = DEFAULT_CLEARED_MOMENT  # when rss_cleared is read, as a phrase: "right after clear()"
    workload: str = ""  # the registered workload ("map_active" for "map_active:batch"); the name if not given
    activity: object = None  # Activity while settling; None for an idle settle

    @property
    def mode(self):
        """How the process spends its settle period, as the report names it: "idle" or the pattern."""
        return self.activity.pattern if self.activity is not None else "idle"


# How ./bench --compare-recorders watched a program's instance (its "observer"): run alone, recorded (--record),
# behind the heap map (--heap-map) or under Debian's heaptrack; an instance of any other run has none (None).
PLAIN, RECORD, HEAP_MAP, HEAPTRACK = "plain", "record", "heap-map", "heaptrack"
OBSERVERS = (PLAIN, RECORD, HEAP_MAP, HEAPTRACK)


@dataclass(frozen=True)
class Instance:
    workload: str
    configuration: str
    size: object  # int, or None for a program run
    observer: object = None  # one of OBSERVERS for a run of ./bench --compare-recorders, None otherwise

    @property
    def plain(self):
        """True for an instance that ran as every run's do: no observer, or the plain one of --compare-recorders."""
        return self.observer in (None, PLAIN)


@dataclass(frozen=True)
class ScenarioPhase:
    name: str
    description: str  # what the program has done when it reports the phase
    settling: bool  # True from the first phase in which other programs may run beside it: not timed


@dataclass(frozen=True)
class Need:
    program: str  # "/usr/bin/python3"
    package: str  # the Debian package that ships it


@dataclass(frozen=True)
class Scenario:
    """A real program of ./bench --scenario (benchmarks/scenarios/<name>.*): its header, as the run describes it."""

    name: str
    file: str
    demonstrates: str
    needs: tuple  # (Need, ...)
    measure: object  # the name of the processes measured in its tree, None for the program itself
    environment: dict  # variables the scenario sets (a variant's change)
    variant_of: object  # the scenario this one varies, or None
    variant_change: str
    phases: tuple  # (ScenarioPhase, ...) in the order the program reports them

    @property
    def phase_names(self):
        return [p.name for p in self.phases]

    @property
    def timed_phases(self):
        """The phases before the first settling one, each with <phase>_seconds and <phase>_cpu_s
        (benchmarks/driver/command.cc). Other children may settle beside them (--max-settling)."""
        out = []
        for p in self.phases:
            if p.settling:
                break
            out.append(p.name)
        return out


@dataclass(frozen=True)
class ScenarioSkip:
    configuration: str
    reason: str


# The classes the heap map sorts resident anonymous pages into (benchmarks/interposer/heap_map.h), in its order.
HEAP_CLASSES = ("free", "pinned", "used", "outside")


@dataclass(frozen=True)
class HeapMapMeasurement:
    """How a heap-map run (./bench --heap-map) measured: the interposer preloaded ahead of every configuration's
    allocator, the share of a page below which live blocks only pin it, the granule of malloc's ground, the return
    addresses kept per block, and a sentence per class (HEAP_CLASSES) saying what it means."""

    interposer: str
    pinned_share: float
    granule_bytes: int
    site_frames: int
    classes: dict  # class -> sentence


@dataclass(frozen=True)
class RecordMeasurement:
    """How a recorded run (./bench --record) recorded: the interposer that hands every call to the recorder, the trace
    format's version, the return addresses kept per site, how often the resident pages were read from outside beside
    the moments, the machine's clock source (what the trace's timestamps count), and the rules the analysis of the
    recording sorts pages by: the heap map's share and granule, and a sentence per class (HEAP_CLASSES)."""

    interposer: str
    trace_format: int
    site_frames: int
    residency_every_seconds: float
    clock_source: str
    pinned_share: float
    granule_bytes: int
    classes: dict  # class -> sentence


# The sentence per class of a recorded run whose "measurement"."record" gives none: the analysis of the recording sorts
# pages by the heap map's rules (benchmarks/trace/analysis.cc), whose sentences are these, as
# benchmarks/driver/description.cc writes them for a heap-map run.
RECORD_CLASSES = {
    "free": "resident, in malloc's ground, no live block: kept by the allocator by choice (a release call or a knob can "
    "return it)",
    "pinned": "resident, live blocks fill less than pinned_share of it: the rest cannot be returned while they live",
    "used": "resident, live blocks fill at least pinned_share of it",
    "outside": "resident anonymous memory where malloc never returned a block (stacks, static buffers, memory the program "
    "maps itself)",
}


@dataclass(frozen=True)
class HeapSite:
    """An allocation site whose live blocks sit on pinned pages: the bytes of those pages it pins (a page shared among
    its blocks by their live bytes), its blocks there, its frames ("function (object)"), innermost first."""

    bytes: float
    blocks: float
    frames: tuple


@dataclass(frozen=True)
class HeapMoment:
    moment: str
    processes: int  # the processes whose snapshots were summed
    sites: tuple  # (HeapSite, ...) ranked by the bytes they pin


@dataclass(frozen=True)
class HeapMap:
    """One repetition's heap maps of one instance: its moments in the order they were taken."""

    repetition: int
    moments: tuple  # (HeapMoment, ...)

    def moment(self, name):
        return next((m for m in self.moments if m.moment == name), None)


@dataclass
class Description:
    configurations: dict
    workloads: dict
    units: dict  # counter -> unit
    instances: dict  # benchmark name -> Instance
    series: dict  # benchmark name -> [{"repetition", "seconds", "rss_bytes", "phases"}] ("phases" for a program's run)
    order: str = "rounds"
    repetitions: int = 1
    settle_seconds: float = 0.0
    rounds: int = 1
    pause_seconds: float = 0.0
    latency: bool = True
    machine: dict = field(default_factory=dict)
    command: object = None  # dict for ./bench -- PROGRAM runs
    scenarios: dict = field(default_factory=dict)  # name -> Scenario, for ./bench --scenario runs (their order)
    scenario_skipped: list = field(default_factory=list)  # [ScenarioSkip]: configurations a scenario run left out
    scenario_scale: object = None  # --scenario-scale (1: each scenario's full size), None without scenarios
    # True when return times and timeline offsets count from the end of clear() (or of the release
    # step): every run whose workloads say what rss_cleared means (cleared_moment) was written by a
    # ./bench that counts so; earlier runs counted from the start of the settle period.
    times_from_clear: bool = False
    measurement: Measurement = field(default_factory=Measurement)
    counter_kinds: dict = field(default_factory=dict)  # counter -> kind, for the counters that have one ("exact")
    heap_map: object = None  # HeapMapMeasurement of a heap-map run (./bench --heap-map), None otherwise
    heap_maps: dict = field(default_factory=dict)  # benchmark name -> [HeapMap] per repetition, for a heap-map run
    record: object = None  # RecordMeasurement of a recorded run (./bench --record), None otherwise
    trace_maps: dict = field(default_factory=dict)  # benchmark name -> [HeapMap] per repetition, from the recording
    # A replay run's (./bench --replay): recording name -> what ./bench wrote of it (given, trace, free_phase, phases,
    # summary, anomalies); and the fidelity table scripts/fidelity.py wrote beside it (benchlib/fidelity.py).
    replays: dict = field(default_factory=dict)
    fidelity: dict = field(default_factory=dict)

    @property
    def exact(self):
        """True for a run counted under valgrind (./bench --exact): its RSS and times are valgrind's."""
        return self.measurement.exact

    def is_exact_counter(self, counter):
        return self.counter_kinds.get(counter) == EXACT

    def is_program_counter(self, counter):
        """True for a figure the program reported itself (benchmarks/protocol/program_protocol.h)."""
        return self.counter_kinds.get(counter) == PROGRAM

    @property
    def observed(self):
        """True for a run of ./bench --compare-recorders: its instances carry an observer."""
        return any(i.observer is not None for i in self.instances.values())

    def configuration(self, name):
        return self.configurations.get(name)

    def reference_of(self, name):
        """The Configuration `name` is measured against, or None."""
        c = self.configurations.get(name)
        return self.configurations.get(c.reference) if c is not None and c.reference else None

    def is_knob(self, name):
        """True for a configuration that changes its own library's defaults (a release step, an
        option): its reference has the same library and kind."""
        c, ref = self.configurations.get(name), self.reference_of(name)
        return c is not None and ref is not None and ref.library == c.library and ref.kind == c.kind

    def is_control(self, name):
        """True for a configuration whose timed code is its reference's: same library and kind, the same
        environment and huge-page setting, and only a release step of its own, which runs after the
        timed phases. Any speed difference between the two is noise: the run's false-alarm evidence."""
        c, ref = self.configurations.get(name), self.reference_of(name)
        return (
            self.is_knob(name)
            and c.release_step
            and not ref.release_step
            and c.environment == ref.environment
            and c.huge_pages == ref.huge_pages
        )

    def unit(self, counter):
        return self.units.get(counter)

    def scenario(self, workload):
        """The Scenario a workload name stands for, or None for a workload of ours or a program run."""
        return self.scenarios.get(workload)

    def phase_times(self, benchmark):
        """[{phase: seconds after execve}] per repetition of a benchmark's series (empty without phases)."""
        return [dict(entry.get("phases") or {}) for entry in self.series.get(benchmark, [])]


class DescriptionError(ValueError):
    """The section is missing or does not have the documented shape."""


def _activity(w):
    """The workload's Activity: its "activity" field, or for a run written before that field, the pairs
    pattern every active settle then ran."""
    if "activity" not in w:
        return LEGACY_ACTIVITY if w["settle"] == "active" else None
    a = w["activity"]
    if a is None:
        return None
    return Activity(
        pattern=str(a["pattern"]),
        spec=str(a["spec"]),
        period_seconds=float(a["period_seconds"]),
        description=str(a["description"]),
    )


def _scenarios(section):
    """(scenarios, skipped, scale) from the section "scenarios" of a ./bench --scenario run; empty without it."""
    block = section.get("scenarios")
    if block is None:
        return {}, [], None
    scenarios = {}
    for s in block["list"]:
        scenarios[s["name"]] = Scenario(
            name=str(s["name"]),
            file=str(s["file"]),
            demonstrates=str(s["demonstrates"]),
            needs=tuple(Need(str(n["program"]), str(n["package"])) for n in s.get("needs", [])),
            measure=s.get("measure"),
            environment=dict(s.get("environment") or {}),
            variant_of=s.get("variant_of"),
            variant_change=str(s.get("variant_change") or ""),
            phases=tuple(ScenarioPhase(str(p["name"]), str(p["description"]), bool(p["settling"])) for p in s["phases"]),
        )
        if not scenarios[s["name"]].phases:
            raise DescriptionError(f"scenario {s['name']} lists no phases")
    skipped = [ScenarioSkip(str(k["configuration"]), str(k["reason"])) for k in block.get("skipped", [])]
    return scenarios, skipped, float(block["scale"])


def _measurement(section):
    """The run's Measurement: its "measurement" field, or timed for a run written before the field."""
    m = section.get("measurement")
    if m is None:
        return Measurement()
    mode = m["mode"]
    if mode not in MODES:
        raise DescriptionError(f'"measurement" has an unknown mode {mode!r} (these scripts read {" or ".join(MODES)})')
    if mode == TIMED:
        return Measurement()
    caches = m["caches"]
    return Measurement(
        mode=EXACT,
        tool=str(m["tool"]),
        valgrind=str(m["valgrind"]),
        command=str(m["command"]),
        caches={level: str(caches[level]) for level in ("i1", "d1", "ll")},
        cycles_formula=str(m["cycles_formula"]),
        rss_note=str(m["rss_note"]),
    )


def _maps(section, key):
    """{benchmark: [HeapMap]} of the section's "heap_maps" or "trace_maps" (the same layout); {} without it."""
    maps = {}
    for name, repetitions in (section.get(key) or {}).items():
        maps[name] = [
            HeapMap(
                repetition=int(r["repetition"]),
                moments=tuple(
                    HeapMoment(
                        moment=str(k["moment"]),
                        processes=int(k["processes"]),
                        sites=tuple(
                            HeapSite(float(x["bytes"]), float(x["blocks"]), tuple(str(f) for f in x["frames"]))
                            for x in k["sites"]
                        ),
                    )
                    for k in r["moments"]
                ),
            )
            for r in repetitions
        ]
    return maps


def _heap_map(section):
    """(HeapMapMeasurement or None, {benchmark: [HeapMap]}): a heap-map run's "measurement"."heap_map" and its
    "heap_maps"; (None, {}) for a run without them."""
    m = (section.get("measurement") or {}).get("heap_map")
    if m is None:
        return None, {}
    classes = {c: str(m["classes"][c]) for c in HEAP_CLASSES}
    measurement = HeapMapMeasurement(
        interposer=str(m["interposer"]),
        pinned_share=float(m["pinned_share"]),
        granule_bytes=int(m["granule_bytes"]),
        site_frames=int(m["site_frames"]),
        classes=classes,
    )
    return measurement, _maps(section, "heap_maps")


def _record(section):
    """RecordMeasurement or None: a recorded run's "measurement"."record" (its classes, when it gives none, the heap
    map's: RECORD_CLASSES)."""
    m = (section.get("measurement") or {}).get("record")
    if m is None:
        return None
    classes = m.get("classes") or RECORD_CLASSES
    return RecordMeasurement(
        interposer=str(m["interposer"]),
        trace_format=int(m["trace_format"]),
        site_frames=int(m["site_frames"]),
        residency_every_seconds=float(m["residency_every_seconds"]),
        clock_source=str(m["clock_source"]),
        pinned_share=float(m["pinned_share"]),
        granule_bytes=int(m["granule_bytes"]),
        classes={c: str(classes[c]) for c in HEAP_CLASSES},
    )


def _instance(i):
    observer = i.get("observer")
    if observer is not None and observer not in OBSERVERS:
        raise DescriptionError(f"an instance has an unknown observer {observer!r} (these scripts read {', '.join(OBSERVERS)})")
    return Instance(i["workload"], i["configuration"], i["size"], observer)


def parse(section):
    """Description from the JSON section "suite". Raises DescriptionError naming what is wrong."""
    if not isinstance(section, dict):
        raise DescriptionError(
            'no "suite" section (the description ./bench writes after "benchmarks"): '
            "the file was written by an older ./bench, or by another program"
        )
    if section.get("schema") != 1:
        raise DescriptionError(f'"suite" has schema {section.get("schema")!r}, these scripts read schema 1')
    try:
        configurations = {}
        for c in section["configurations"]:
            if c["kind"] not in KINDS:
                raise DescriptionError(f"configuration {c['name']} has an unknown kind {c['kind']!r}")
            configurations[c["name"]] = Configuration(
                name=c["name"],
                summary=c["summary"],
                kind=c["kind"],
                library=c["library"],
                reference=c["reference"],
                release_step=bool(c["release_step"]),
                release_call=c["release_call"],
                huge_pages=bool(c["huge_pages"]),
                environment=dict(c["environment"]),
                available=bool(c["available"]),
                unavailable_reason=c["unavailable_reason"],
                command_skip_reason=c["command_skip_reason"],
            )
        workloads = {
            w["name"]: Workload(
                name=w["name"],
                summary=w["summary"],
                process_level_only=bool(w["process_level_only"]),
                settle=w["settle"],
                uses_rounds=bool(w["uses_rounds"]),
                headline=tuple(w["headline"]),
                cleared_moment=str(w.get("cleared_moment") or DEFAULT_CLEARED_MOMENT),
                workload=str(w.get("workload") or w["name"].split(":")[0]),
                activity=_activity(w),
            )
            for w in section["workloads"]
        }
        units, kinds = {}, {}
        for name, info in section["counters"].items():
            if info["unit"] not in UNITS:
                raise DescriptionError(f"counter {name} has an unknown unit {info['unit']!r}")
            units[name] = info["unit"]
            if "kind" in info:
                if info["kind"] not in COUNTER_KINDS:
                    raise DescriptionError(f"counter {name} has an unknown kind {info['kind']!r}")
                kinds[name] = info["kind"]
        scenarios, scenario_skipped, scenario_scale = _scenarios(section)
        heap_map, heap_maps = _heap_map(section)
        instances = {name: _instance(i) for name, i in section["instances"].items()}
        return Description(
            configurations=configurations,
            workloads=workloads,
            units=units,
            instances=instances,
            series=dict(section.get("series", {})),
            order=section.get("order", "rounds"),
            repetitions=int(section.get("repetitions", 1)),
            settle_seconds=float(section.get("settle_seconds", 0.0)),
            rounds=int(section.get("rounds", 1)),
            pause_seconds=float(section.get("pause_seconds", 0.0)),
            latency=bool(section.get("latency", True)),
            machine=dict(section.get("machine", {})),
            command=section.get("command"),
            scenarios=scenarios,
            scenario_skipped=scenario_skipped,
            scenario_scale=scenario_scale,
            times_from_clear=any("cleared_moment" in w for w in section["workloads"]),
            measurement=_measurement(section),
            counter_kinds=kinds,
            heap_map=heap_map,
            heap_maps=heap_maps,
            record=_record(section),
            trace_maps=_maps(section, "trace_maps"),
            replays=dict(section.get("replays") or {}),
            fidelity=dict(section.get("fidelity") or {}),
        )
    except DescriptionError:
        raise
    except ValueError as e:  # a number that is not one
        raise DescriptionError(f'"suite" has a value of the wrong type: {e}') from None
    except (KeyError, TypeError) as e:
        raise DescriptionError(f'"suite" lacks or misspells {e}: not the layout of benchmarks/driver/description.h') from None
