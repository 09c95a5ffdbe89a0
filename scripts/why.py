#!/usr/bin/python3
"""One program, one answer: why its memory stays and what each way out costs it, on one page (WHY.md).

Usage: scripts/why.sh [OPTIONS] [./bench FLAGS] -- PROGRAM [ARGS...]

It records PROGRAM once under the allocator it gets without ./bench (glibc; the one it links, as Debian's
redis-server links jemalloc; or the one LD_PRELOAD names), replays that recording as recorded under every
process-level configuration (the release steps and mallopt rows included) and again `fast` for what each
allocator costs a call, holds the replay of its own configuration against the recorded run, and writes
WHY.md and why.png into a run folder of its own (benchlib/answer.py states the rule the advice follows).

  --out=DIR              the run folder (default results/why-<program>-<UTC time>; never reused)
  --configurations=RE    replay only the configurations whose name matches RE (its own always)
  --fast-repetitions=N   fast replays of each configuration, for the allocator's cost a call (default 3; 0: none)
  --settle=DURATION      how long each replay is watched beyond what the program did after the moment (default 2s)
  --moment=PHASE         the answer is about the program's phase PHASE (default: its last phase; without
                         phases, its exit): the replays' release steps run there
  --again=FOLDER         (alone) write FOLDER's answer.json, WHY.md and why.png again from its runs, by this code

Every other flag before `--` goes to each ./bench it runs (--measure=NAME for a server a launcher starts,
--timeout=…). Bad input (no program, one not found or not executable, a static binary, an LD_PRELOAD the
suite does not know, no pagemap to read): one line on stderr, exit status 2. A ./bench that fails: its
status, and the folder keeps what it wrote.
"""

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from benchlib import answer, atomic, gbjson  # noqa: E402
from benchlib import whypage  # noqa: E402

# The allocator a program gets without ./bench, from a library's file name: (piece of the name, configuration).
LIBRARIES = (
    ("libjemalloc", "jemalloc"),
    ("libtcmalloc", "tcmalloc"),
    ("libmimalloc", "mimalloc"),
    ("scudo", "scudo"),
    ("libtbbmalloc_proxy", "tbbmalloc"),
)
SPAWN_SECONDS = 0.5  # a child's start and end around each replay, for the plan
FAST_TIMEOUT_SECONDS = 30  # a fast replay's limit beyond twice the program's own wall time


class WhyError(Exception):
    pass


def say(text):
    print(f"why: {text}", file=sys.stderr, flush=True)


def parse(argv):
    if "--" not in argv:
        raise WhyError("no program: scripts/why.sh [OPTIONS] -- PROGRAM [ARGS...]")
    cut = argv.index("--")
    options, program = argv[:cut], argv[cut + 1 :]
    if not program:
        raise WhyError("no program after `--`: scripts/why.sh [OPTIONS] -- PROGRAM [ARGS...]")
    settings = {"out": None, "configurations": None, "fast_repetitions": 3, "settle": 2.0, "moment": None, "bench_flags": []}
    for option in options:
        name, _, value = option.partition("=")
        if name == "--out":
            settings["out"] = value
        elif name == "--configurations":
            try:
                re.compile(value)
            except re.error as e:
                raise WhyError(f"--configurations={value}: not a regular expression ({e})")
            settings["configurations"] = value
        elif name == "--fast-repetitions":
            if not value.isdigit():
                raise WhyError(f"--fast-repetitions={value}: not a count")
            settings["fast_repetitions"] = int(value)
        elif name == "--settle":
            settings["settle"] = seconds_of("--settle", value)
        elif name == "--moment":
            if not value:
                raise WhyError("--moment=: a phase the program reports is needed")
            settings["moment"] = value
        elif name.startswith("--benchmark_out") or name in ("--record", "--replay", "--heap-map", "--exact"):
            raise WhyError(f"{option}: why.sh sets this itself")
        elif option.startswith("--"):
            settings["bench_flags"].append(option)
        else:
            raise WhyError(f"{option}: not an option (the program comes after `--`)")
    return settings, program


def seconds_of(flag, text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", text)
    if not m:
        raise WhyError(f"{flag}={text}: not a duration (2s, 500ms, 1m)")
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[m.group(2)]


def find_program(name):
    path = name if "/" in name else shutil.which(name)
    if path is None or not os.path.exists(path):
        raise WhyError(f"{name}: not found" + ("" if "/" in name else " on PATH"))
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise WhyError(f"{name}: not an executable file")
    return os.path.abspath(path)


def interpreter_of(path):
    """The binary that runs `path`: itself, or a script's interpreter (`#!/usr/bin/env python3` included)."""
    with open(path, "rb") as f:
        head = f.read(256)
    if not head.startswith(b"#!"):
        return path
    words = head[2:].split(b"\n", 1)[0].decode(errors="replace").split()
    if not words:
        raise WhyError(f"{path}: its #! line names no interpreter")
    if os.path.basename(words[0]) == "env" and len(words) > 1:
        return find_program(words[1])
    return find_program(words[0])


def is_dynamic(path):
    """True when the ELF file has an interpreter (PT_INTERP): only then can a library be preloaded."""
    with open(path, "rb") as f:
        header = f.read(64)
        if header[:4] != b"\x7fELF":
            raise WhyError(f"{path}: neither an ELF executable nor a #! script")
        if header[4] != 2:
            raise WhyError(f"{path}: a 32-bit executable (the suite's allocators are 64-bit)")
        (phoff,) = struct.unpack_from("<Q", header, 32)
        phentsize, phnum = struct.unpack_from("<HH", header, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            if struct.unpack("<I", f.read(4))[0] == 3:  # PT_INTERP
                return True
    return False


def own_allocator(binary, environment):
    """(configuration, why) for the allocator the program gets without ./bench."""
    preload = environment.get("LD_PRELOAD", "").replace(":", " ").split()
    for library in preload:
        for piece, configuration in LIBRARIES:
            if piece in os.path.basename(library):
                return configuration, f"LD_PRELOAD names {library}"
        raise WhyError(
            f"LD_PRELOAD names {library}, which is no allocator the suite knows "
            f"({', '.join(c for _, c in LIBRARIES)} or glibc); unset it, or preload one of those"
        )
    linked = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    for line in linked.splitlines():
        for piece, configuration in LIBRARIES:
            if piece in line.split("=>")[0]:
                return configuration, f"{os.path.basename(binary)} links {line.split()[0]}"
    return "glibc", f"{os.path.basename(binary)} links no other allocator"


def check_pagemap():
    try:
        with open("/proc/self/pagemap", "rb") as f:
            f.read(8)
    except OSError as e:
        raise WhyError(f"cannot read /proc/self/pagemap ({e.strerror}): the recording could not tell free pages from pinned ones")


def run_bench(bench, arguments, folder, environment, label):
    """./bench with `arguments` into folder/bench.json; its output to folder/console.txt, its progress lines
    ("[3/37] … about 1m10s left") to the terminal. Returns the exit status."""
    os.makedirs(folder, exist_ok=False)
    command = [bench, f"--benchmark_out={folder}/bench.json", "--benchmark_out_format=json", *arguments]
    with open(os.path.join(folder, "command.txt"), "w") as f:
        f.write(" ".join(command) + "\n")
    with open(os.path.join(folder, "console.txt"), "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.PIPE, text=True, env=environment)
        for line in process.stderr:
            log.write(line)
            if line.startswith("["):
                say(f"{label}: {line.strip()}")
            elif "error" in line.lower() or "bench:" in line:
                print(line.rstrip(), file=sys.stderr)
        status = process.wait()
    if not os.path.exists(os.path.join(folder, "bench.json")):
        raise WhyError(f"{label}: ./bench wrote no results (exit status {status}; {folder}/console.txt)")
    return status


def report(python, folder):
    """The run's plots and REPORT.md, as scripts/run.sh writes them: the page's evidence."""
    for script, arguments in (("plot.py", ["--out", folder]), ("report.py", ["-o", f"{folder}/REPORT.md"])):
        subprocess.run(
            [python, os.path.join(HERE, script), f"{folder}/bench.json", *arguments],
            check=False,
            stdout=subprocess.DEVNULL,
        )


def main(argv):
    if len(argv) == 1 and argv[0].startswith("--again="):
        return again(argv[0].split("=", 1)[1])
    bench = os.environ.get("BENCH_BINARY") or os.path.join(os.path.dirname(HERE), "build", "bench")
    started = time.time()
    try:
        settings, program = parse(argv)
        path = find_program(program[0])
        measure = next((f.split("=", 1)[1] for f in settings["bench_flags"] if f.startswith("--measure=")), None)
        measured = find_program(measure) if measure else path
        binary = interpreter_of(measured)
        if not is_dynamic(binary):
            raise WhyError(
                f"{binary} is statically linked: no allocator can be preloaded into it, so none can be recorded or replaced"
            )
        check_pagemap()
        own, why_own = own_allocator(binary, os.environ)
    except WhyError as e:
        print(f"why.sh: {e}", file=sys.stderr)
        return 2
    environment = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.basename(measure or program[0]))
    out = settings["out"] or os.path.join(
        os.environ.get("BENCH_RESULTS_DIR", os.path.join(os.path.dirname(HERE), "results")),
        f"why-{stem}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}",
    )
    out = os.path.abspath(out)
    try:
        os.makedirs(out)
    except FileExistsError:
        print(f"why.sh: {out} already exists; not overwriting it (give another --out)", file=sys.stderr)
        return 2
    python = sys.executable
    say(f"{program[0]} gets {own} without ./bench ({why_own}); writing {out}")

    # 1. Record it once, under its own allocator.
    say(f"[1/3] recording {' '.join(program)} under {own}")
    took = {}
    phase_began = time.time()
    status = run_bench(
        bench,
        [
            "--record",
            f"--benchmark_filter=^command/{re.escape(own)}$",
            "--benchmark_repetitions=1",
            *settings["bench_flags"],
            "--",
            *program,
        ],
        os.path.join(out, "record"),
        environment,
        "record",
    )
    took["record"] = time.time() - phase_began
    record = gbjson.load_run(os.path.join(out, "record", "bench.json"))
    try:
        row = answer.recording_row(record)
    except answer.AnswerError as e:
        print(f"why.sh: {e} (exit status {status}; {out}/record/console.txt)", file=sys.stderr)
        return 1
    traces = os.path.join(out, "record", "traces", f"{own}.0")
    try:
        moment, _, at, idle = answer.moment_of(record, row, settings["moment"])
    except answer.AnswerError as e:
        print(f"why.sh: {e} ({out}/record/REPORT.md)", file=sys.stderr)
        return 2
    settle = idle + settings["settle"]
    wall = row.counters.get("wall_seconds", (row.real_time_ms or 0) / 1000)
    events = row.counters.get("record_events", 0)

    # 2. The plan, before any replay runs.
    names = [c.name for c in record.suite.configurations.values() if c.available and c.kind == "allocator"]
    if settings["configurations"]:
        names = [n for n in names if n == own or re.search(settings["configurations"], n)]
    # Each row costs what the recording's row cost beyond the program's own time (./bench's start, the
    # child's baseline, the quiet wait, the trace's conversion: measured in this run), plus the replay: as
    # recorded, the program's time or the watch from the moment, whichever ends later; fast, its calls.
    row_cost = max(SPAWN_SECONDS, took["record"] - wall)
    as_recorded = len(names) * (max(wall, at + settle) + row_cost)
    fast = len(names) * settings["fast_repetitions"] * (row_cost + events * 2e-7)
    plan = {
        "configurations": names,
        "as_recorded_replays": len(names),
        "fast_replays": len(names) * settings["fast_repetitions"],
        "settle_seconds": settle,
        "estimate_seconds": as_recorded + fast,
        "estimates": {"record": took["record"], "as_recorded": as_recorded, "fast": fast},
        "took": took,
        "recorded_seconds": wall,
        "moment": moment,
        "moment_asked": settings["moment"],
        "idle_seconds": idle,
    }
    say(
        f"plan: {len(names)} replays as recorded (the program ran {wall:.1f} s; each watched {settle:.1f} s from "
        f"`{moment}`), {plan['fast_replays']} fast ones: about {round((as_recorded + fast) / 60, 1)} min"
    )
    filter_ = "^replay:[^/]*/(" + "|".join(re.escape(n) for n in names) + ")$"
    replay_flags = [f for f in settings["bench_flags"] if not f.startswith("--measure")]
    if settings["moment"]:
        replay_flags.append(f"--replay-free-phase={moment}")

    def replay(folder, label, *arguments):
        run_bench(
            bench,
            [f"--replay={traces}", f"--benchmark_filter={filter_}", *arguments, *replay_flags],
            os.path.join(out, folder),
            environment,
            label,
        )
        return gbjson.load_run(os.path.join(out, folder, "bench.json"))

    say(f"[2/3] replaying under {len(names)} configurations as recorded")
    phase_began = time.time()
    as_recorded_run = replay("replay", "replay", "--benchmark_repetitions=1", f"--settle={settle}s")
    took["as_recorded"] = time.time() - phase_began
    fast_run = None
    if settings["fast_repetitions"]:
        say(f"[3/3] replaying fast, {settings['fast_repetitions']} repetitions each, for each allocator's cost")
        phase_began = time.time()
        fast_run = replay(
            "replay-fast",
            "fast",
            f"--benchmark_repetitions={settings['fast_repetitions']}",
            "--replay-timing=fast",
            "--settle=0s",
            # A fast replay makes the calls without the recording's gaps: one that takes far longer than
            # the program did (scudo-interval0 releasing on every free) is an error row, not a stall.
            f"--timeout={round(FAST_TIMEOUT_SECONDS + 2 * wall)}s",
        )
        took["fast"] = time.time() - phase_began
    for folder in ("record", "replay", "replay-fast"):
        if os.path.exists(os.path.join(out, folder, "bench.json")):
            report(python, os.path.join(out, folder))
    run = {"plan": plan, "own_why": why_own, "seconds": time.time() - started, "command": "scripts/why.sh " + " ".join(argv)}
    try:
        result = write_answer(out, record, as_recorded_run, fast_run, run)
    except answer.AnswerError as e:
        print(f"why.sh: {e}", file=sys.stderr)
        return 1
    say(f"answered in {result['seconds'] / 60:.1f} min (planned {plan['estimate_seconds'] / 60:.1f}): {out}/WHY.md")
    return 0


# What the analysis cannot recompute from the runs: how the run went.
RUN_KEYS = ("plan", "own_why", "seconds", "command")


def write_answer(out, record, as_recorded_run, fast_run, run):
    """answer.json, why.png and WHY.md in `out`, from the three runs and the run's own facts (RUN_KEYS)."""
    result = answer.answer(record, as_recorded_run, fast_run, run["plan"].get("moment_asked"))
    result.update({k: run[k] for k in RUN_KEYS})
    atomic.write_text(os.path.join(out, "answer.json"), json.dumps(result, indent=1, default=str) + "\n")
    whypage.plot(result, os.path.join(out, "why.png"))
    atomic.write_text(os.path.join(out, "WHY.md"), whypage.render(result))
    return result


def again(folder):
    """--again=FOLDER: the answer of a why.sh run folder written again from its runs (record/, replay/,
    replay-fast/ bench.json) by this code, as regenerate.py rewrites a run's report: a committed page is
    checked against its evidence that way (tests/integration/test_why.py)."""
    try:
        with open(os.path.join(folder, "answer.json")) as f:
            written = json.load(f)
        run = {k: written[k] for k in RUN_KEYS}
    except (OSError, ValueError, KeyError) as e:
        print(f"why.sh: --again={folder}: no answer.json of a why.sh run there ({e})", file=sys.stderr)
        return 2
    runs = []
    for name in ("record", "replay", "replay-fast"):
        path = os.path.join(folder, name, "bench.json")
        if not os.path.exists(path) and name != "replay-fast":
            print(f"why.sh: --again={folder}: {path} is missing", file=sys.stderr)
            return 2
        runs.append(gbjson.load_run(path) if os.path.exists(path) else None)
    try:
        write_answer(folder, *runs, run)
    except answer.AnswerError as e:
        print(f"why.sh: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
