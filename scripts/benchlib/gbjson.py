"""Loading a Google Benchmark 1.7.1 JSON run and reading ./bench's conventions out of it.

./bench names every benchmark `<workload>/<configuration>/<N>`, puts its measurements in user counters
(bytes, items/s, seconds, percent) and says which allocator served it in the label
`malloc=<path> new=<path> version=<text>`. Everything here is pure parsing: no statistics.
"""

import json
import math
import os
import re
from dataclasses import dataclass, field

# Numeric keys Google Benchmark writes for every run; every other numeric key is a user counter
# (src/json_reporter.cc, PrintRunData). bool is excluded separately (error_occurred).
GB_STANDARD_KEYS = frozenset({
    "family_index", "per_family_instance_index", "repetitions", "repetition_index", "threads",
    "iterations", "real_time", "cpu_time", "cpu_coefficient", "real_coefficient", "rms",
})

# Name components Google Benchmark appends after the arguments (src/benchmark_register.cc).
_GB_NAME_SUFFIX = re.compile(
    r"^(?:iterations|repeats|threads|min_time|min_warmup_time):.*$|^(?:real_time|manual_time|process_time)$")

# The counters ./bench always writes, in the order a reader wants them: rates, the release cost,
# then RSS at each step of the experiment, then the retention summary.
CORE_COUNTERS = (
    "insert_rate", "lookup_rate", "clear_rate", "release_seconds",
    "rss_base", "rss_peak", "rss_cleared", "rss_released", "rss_final", "retained_pct",
)

_TIME_UNIT_TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
_OFFSET_UNIT_TO_S = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0}
_RSS_AT = re.compile(r"^rss_at_(\d+(?:\.\d+)?)(ns|us|ms|s|m|min)$")


class InputError(Exception):
    """The input file cannot be used. str() is one line naming the file and the problem."""

    def __init__(self, path, problem):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class Label:
    """Which allocator served a benchmark, as ./bench found it with dladdr (see ALLOCATORS.md)."""
    malloc_library: str = ""
    new_library: str = ""
    version: str = ""


@dataclass
class Row:
    """One entry of the "benchmarks" array."""
    index: int                    # position in the file
    name: str
    run_name: str                 # same for an instance's repetitions and its aggregates
    workload: str
    configuration: str
    size: object                  # int N when the last name component is a number, else that text
    run_type: str                 # "iteration" or "aggregate"
    repetition_index: object      # int for iterations, None for aggregates
    aggregate_name: str           # "mean", "median", "stddev", "cv", ... ("" for iterations)
    aggregate_unit: str           # "time" or "percentage" ("" for iterations)
    repetitions: object
    error: str                    # error_message, "" when the run succeeded
    real_time_ms: object          # float; for a "percentage" aggregate (cv) the raw ratio
    counters: dict = field(default_factory=dict)
    label: Label = Label()
    raw_label: str = ""

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

    def workloads(self):
        """Workloads in file order, `map` (the question this suite asks) first."""
        seen = list(dict.fromkeys(r.workload for r in self.rows))
        return sorted(seen, key=lambda w: w != "map")

    def counter_names(self):
        names = set()
        for r in self.rows:
            names.update(r.counters)
        return sorted(names, key=counter_sort_key)


def parse_name(name):
    """Split `<workload>/<configuration>/<N>` into (workload, configuration, size).

    Components Google Benchmark appends (`/threads:2`, `/real_time`, `/repeats:3`) are dropped. The
    configuration is everything between the first and the last component. size is an int when the last
    component is a number; otherwise it is kept as text, or None when there are fewer than 3 parts.
    """
    parts = [p for p in name.split("/") if not _GB_NAME_SUFFIX.match(p)]
    if len(parts) >= 3:
        workload, configuration, last = parts[0], "/".join(parts[1:-1]), parts[-1]
        return workload, configuration, _int_or_text(last)
    if len(parts) == 2:
        return parts[0], parts[1], None
    return name, "", None


def display_name(run_name):
    """run_name without the suffixes Google Benchmark adds for run settings (`/iterations:1`,
    `/manual_time`, ...); `/threads:N` stays, it tells runs apart."""
    return "/".join(p for p in run_name.split("/")
                    if not _GB_NAME_SUFFIX.match(p) or p.startswith("threads:"))


def _int_or_text(text):
    try:
        return int(text)
    except ValueError:
        return text


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


def rss_at_seconds(counter):
    """Seconds after clear of an `rss_at_<offset>` counter (`rss_at_100ms` -> 0.1), else None."""
    m = _RSS_AT.match(counter)
    return float(m.group(1)) * _OFFSET_UNIT_TO_S[m.group(2)] if m else None


def counter_sort_key(counter):
    """Core counters in CORE_COUNTERS order, then rss_at_* by time, then the rest alphabetically."""
    if counter in CORE_COUNTERS:
        return (0, CORE_COUNTERS.index(counter), "")
    seconds = rss_at_seconds(counter)
    if seconds is not None:
        return (1, seconds, counter)
    if counter.startswith("rss_at_"):
        return (1, math.inf, counter)
    return (2, 0, counter)


def format_offset(seconds):
    """0.1 -> '100 ms', 15.0 -> '15 s', 0 -> '0'."""
    if seconds == 0:
        return "0"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:g} {unit}"
    return f"{seconds:g} s"


def load_run(path):
    """Read and validate a run. Raises InputError (never a traceback) for anything unusable."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, expected a Google Benchmark JSON file") from None
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror}") from None
    if not data.strip():
        raise InputError(path, "empty file, expected Google Benchmark JSON (did the run write anything?)")
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text, expected Google Benchmark JSON") from None
    except json.JSONDecodeError as e:
        raise InputError(path, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg} "
                               "(truncated run?)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise InputError(path, 'no "benchmarks" array: not a Google Benchmark JSON file')
    if not doc["benchmarks"]:
        raise InputError(path, '"benchmarks" is empty: the run recorded no results')
    context = doc.get("context")
    rows = [_parse_row(path, i, entry) for i, entry in enumerate(doc["benchmarks"])]
    return Run(path, context if isinstance(context, dict) else {}, rows)


def _parse_row(path, index, entry):
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise InputError(path, f"benchmarks[{index}] has no name: not a Google Benchmark entry")
    name = entry["name"]
    run_name = entry.get("run_name") if isinstance(entry.get("run_name"), str) else name
    workload, configuration, size = parse_name(run_name)
    run_type = entry.get("run_type", "iteration")
    error = ""
    if entry.get("error_occurred"):
        error = str(entry.get("error_message") or "error (no message)")
    counters = {k: float(v) for k, v in entry.items()
                if k not in GB_STANDARD_KEYS and _is_number(v)}
    aggregate_unit = entry.get("aggregate_unit", "") if run_type == "aggregate" else ""
    real_time_ms = None
    if _is_number(entry.get("real_time")):
        real_time_ms = float(entry["real_time"])
        if aggregate_unit != "percentage":
            real_time_ms *= _TIME_UNIT_TO_MS.get(entry.get("time_unit", "ns"), 1e-6)
    raw_label = entry.get("label", "") if isinstance(entry.get("label"), str) else ""
    return Row(
        index=index, name=name, run_name=run_name, workload=workload,
        configuration=configuration, size=size, run_type=run_type,
        repetition_index=entry.get("repetition_index", 0) if run_type != "aggregate" else None,
        aggregate_name=entry.get("aggregate_name", "") if run_type == "aggregate" else "",
        aggregate_unit=aggregate_unit, repetitions=entry.get("repetitions"), error=error,
        real_time_ms=real_time_ms, counters=counters, label=parse_label(raw_label),
        raw_label=raw_label)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def library_name(path):
    """'/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' -> 'libjemalloc.so.2'."""
    return os.path.basename(path) if path else ""
