"""Loading a ./bench JSON run: Google Benchmark 1.7.1's layout plus the run's description.

Each entry of "benchmarks" becomes a Row; which workload, configuration and N it belongs to is read
from the description's "instances" (keyed by the benchmark's name), not parsed from the name. Which
allocator served it is the label `malloc=<path> new=<path> version=<text>`. Pure parsing: no
statistics.
"""

import json
import os
from dataclasses import dataclass, field

from . import description as suite_description

# Numeric keys Google Benchmark writes for every run; every other numeric key is a user counter
# (src/json_reporter.cc, PrintRunData). bool is excluded separately (error_occurred).
GB_STANDARD_KEYS = frozenset(
    {
        "family_index",
        "per_family_instance_index",
        "repetitions",
        "repetition_index",
        "threads",
        "iterations",
        "real_time",
        "cpu_time",
        "cpu_coefficient",
        "real_coefficient",
        "rms",
    }
)

_TIME_UNIT_TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


class InputError(Exception):
    """The input file cannot be used. str() is one line naming the file and the problem."""

    def __init__(self, path, problem):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class Label:
    """Which allocator served a benchmark, as ./bench found it (dladdr in the child, or the program's
    /proc/<pid>/maps)."""

    malloc_library: str = ""
    new_library: str = ""
    version: str = ""


@dataclass
class Row:
    """One entry of the "benchmarks" array."""

    index: int  # position in the file
    name: str
    run_name: str  # same for an instance's repetitions and its aggregates
    workload: str
    configuration: str
    size: object  # int N, or None for a program run
    run_type: str  # "iteration" or "aggregate"
    repetition_index: object  # int for iterations, None for aggregates
    aggregate_name: str  # "mean", "median", "stddev", "cv", ... ("" for iterations)
    aggregate_unit: str  # "time" or "percentage" ("" for iterations)
    repetitions: object
    error: str  # error_message, "" when the run succeeded
    real_time_ms: object  # float; for a "percentage" aggregate (cv) the raw ratio
    counters: dict = field(default_factory=dict)
    label: Label = Label()
    raw_label: str = ""
    observer: object = None  # how ./bench --compare-recorders watched it (description.OBSERVERS), None in other runs

    @property
    def ok_iteration(self):
        return self.run_type == "iteration" and not self.error

    @property
    def repetition(self):
        """The CSV's repetition column: the index, or the aggregate's name."""
        return self.aggregate_name if self.run_type == "aggregate" else self.repetition_index


@dataclass
class Run:
    path: str
    context: dict
    rows: list
    suite: object  # description.Description

    def counter_names(self):
        names = set()
        for r in self.rows:
            names.update(r.counters)
        return sorted(names)


def parse_label(text):
    """Parse `malloc=<path> new=<path> version=<text>`; version is everything after `version=`."""
    text = text or ""
    head, sep, version = text.partition("version=")
    values = {}
    for token in head.split():
        key, eq, value = token.partition("=")
        if eq:
            values[key] = value
    return Label(values.get("malloc", ""), values.get("new", ""), version.strip() if sep else "")


def load_run(path):
    """Read and validate a run. Raises InputError (never a traceback) for anything unusable."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, expected the JSON of a ./bench run") from None
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror}") from None
    if not data.strip():
        raise InputError(path, "empty file, expected the JSON of a ./bench run (did the run write anything?)")
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text, expected the JSON of a ./bench run") from None
    except json.JSONDecodeError as e:
        raise InputError(path, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg} (truncated run?)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise InputError(path, 'no "benchmarks" array: not a Google Benchmark JSON file')
    if not doc["benchmarks"]:
        raise InputError(path, '"benchmarks" is empty: the run recorded no results')
    try:
        suite = suite_description.parse(doc.get("suite"))
    except suite_description.DescriptionError as e:
        raise InputError(path, str(e)) from None
    context = doc.get("context")
    rows = [_parse_row(path, i, entry, suite) for i, entry in enumerate(doc["benchmarks"])]
    return Run(path, context if isinstance(context, dict) else {}, rows, suite)


def _parse_row(path, index, entry, suite):
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise InputError(path, f"benchmarks[{index}] has no name: not a Google Benchmark entry")
    name = entry["name"]
    run_name = entry.get("run_name") if isinstance(entry.get("run_name"), str) else name
    instance = suite.instances.get(run_name)
    if instance is None:
        raise InputError(path, f'benchmark {run_name!r} is not among the description\'s "instances"')
    run_type = entry.get("run_type", "iteration")
    error = ""
    if entry.get("error_occurred"):
        error = str(entry.get("error_message") or "error (no message)")
    counters = {k: float(v) for k, v in entry.items() if k not in GB_STANDARD_KEYS and _is_number(v)}
    aggregate_unit = entry.get("aggregate_unit", "") if run_type == "aggregate" else ""
    real_time_ms = None
    if _is_number(entry.get("real_time")):
        real_time_ms = float(entry["real_time"])
        if aggregate_unit != "percentage":
            real_time_ms *= _TIME_UNIT_TO_MS.get(entry.get("time_unit", "ns"), 1e-6)
    raw_label = entry.get("label", "") if isinstance(entry.get("label"), str) else ""
    return Row(
        index=index,
        name=name,
        run_name=run_name,
        workload=instance.workload,
        configuration=instance.configuration,
        size=instance.size,
        run_type=run_type,
        repetition_index=entry.get("repetition_index", 0) if run_type != "aggregate" else None,
        aggregate_name=entry.get("aggregate_name", "") if run_type == "aggregate" else "",
        aggregate_unit=aggregate_unit,
        repetitions=entry.get("repetitions"),
        error=error,
        real_time_ms=real_time_ms,
        counters=counters,
        label=parse_label(raw_label),
        raw_label=raw_label,
        observer=instance.observer,
    )


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def library_name(path):
    """'/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' -> 'libjemalloc.so.2'."""
    return os.path.basename(path) if path else ""


def format_offset(seconds):
    """0.1 -> '100 ms', 15.0 -> '15 s', 0 -> '0'."""
    if seconds == 0:
        return "0"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:g} {unit}"
    return f"{seconds:g} s"
