"""The report's section "The run": where and how it ran, from the JSON's context and the run's description."""

import json
import os

from .. import mdformat as fmt
from ..gbjson import library_name
from ..section import EVERY_RUN

RUNS = EVERY_RUN

# Context keys ./bench (or Google Benchmark) writes that the "The run" table shows by name.
_KNOWN_CONTEXT = (
    "host_name",
    "num_cpus",
    "mhz_per_cpu",
    "cpu_model",
    "cpu_scaling_enabled",
    "kernel",
    "glibc_version",
    "thp_enabled",
    "settle",
    "sizes",
    "command",
    "date",
    "incomplete",
    "executable",
    "library_build_type",
    "load_avg",
    "caches",
)


def _bench_ran(path):
    """'27 min 3 s, from 2026-12-06T10:00:00+00:00 to ...' from the environment.json beside the run's JSON, where
    scripts/run.sh records when ./bench started and ended; None without it."""
    try:
        with open(os.path.join(os.path.dirname(os.path.abspath(path)), "environment.json"), encoding="utf-8") as f:
            env = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(env, dict) or env.get("duration_seconds") is None:
        return None
    return f"{fmt.elapsed(env['duration_seconds'])}, from {env.get('started')} to {env.get('ended')} (environment.json)"


def render(report):
    run = report.run
    c, suite = run.context, run.suite
    rows = []

    def add(name, value):
        if value not in (None, ""):
            rows.append((name, value))

    add("host", c.get("host_name"))
    if c.get("num_cpus"):
        mhz = f" × {c['mhz_per_cpu']} MHz" if c.get("mhz_per_cpu") else ""
        model = f", {c['cpu_model']}" if c.get("cpu_model") else ""
        add("CPUs", f"{c['num_cpus']}{mhz}{model}")
    if isinstance(c.get("load_avg"), list) and c["load_avg"]:
        add("load average at start", ", ".join(f"{v:.2f}" for v in c["load_avg"]))
    add("kernel", c.get("kernel"))
    add("glibc", c.get("glibc_version"))
    served = dict.fromkeys(
        f"{library_name(r.label.malloc_library)} {r.label.version}".strip()
        for r in run.rows
        if r.label.malloc_library.startswith("/") and r.label.version
    )
    add("allocators that served the runs (labels)", "; ".join(served))
    add("transparent huge pages", c.get("thp_enabled"))
    add("sizes (N)", c.get("sizes"))
    add("settle time", c.get("settle"))
    add("repetitions", f"{suite.repetitions}, {'interleaved round by round' if suite.order == 'rounds' else 'in random order'}")
    if suite.exact:
        add(
            "measurement",
            f"**exact: counted under valgrind's {suite.measurement.tool} ({suite.measurement.valgrind}), not timed**; "
            "RSS and times of this run are valgrind's",
        )
    add(
        "cgroup v2 memory accounting",
        "present: " + suite.machine.get("cgroup_note", "")
        if suite.machine.get("cgroup_v2_memory")
        else "absent (" + suite.machine.get("cgroup_note", "") + ")",
    )
    if c.get("command"):
        add("command", f"`{c['command']}`")
    add("date", c.get("date"))
    ran = _bench_ran(run.path)
    if ran:
        add("./bench ran", ran)
    if "incomplete" in c:
        add("complete", "**no: the run was interrupted**" if report.incomplete else "yes")
    build = c.get("library_build_type")
    if build:
        add(
            "Google Benchmark library build",
            build
            + (
                (
                    " (Debian's libbenchmark; every figure here is "
                    + ("counted in" if suite.exact else "timed by")
                    + " the suite's own code in the child process, built as `bench_build_type` says)"
                )
                if build == "debug"
                else ""
            ),
        )
    for key in sorted(c):
        if key in _KNOWN_CONTEXT or key.startswith("library_") or isinstance(c[key], (list, dict)):
            continue
        add(key, c[key])
    text = ["## The run", "", f"From `{os.path.basename(run.path)}`."]
    if rows:
        text += ["", fmt.table(("", ""), rows, numeric=False)]
    return ["\n".join(text)]
