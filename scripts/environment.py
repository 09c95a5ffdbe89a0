#!/usr/bin/python3
"""Writes the environment of a run as JSON: machine, kernel, glibc and allocator versions, THP, command, and
when ./bench started and ended.

Usage: environment.py --bench build/bench --command "..." [--started T0 --ended T1] -o RUN/environment.json

T0 and T1 are seconds since the epoch (`date +%s.%N`), taken by scripts/run.sh right before ./bench started and
right after it exited: "started" and "ended" (UTC, ISO 8601) and "duration_seconds" are ./bench's alone, not the
report and plots written after it. Bad input (a time that is not a number, or an end before the start):
message on stderr, exit status 2.

Allocator versions come from `bench --list-configs=json`, i.e. from each library itself, loaded and
verified in a probe child exactly as in a measurement.
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def cpu_model():
    for line in (read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def mem_total_bytes():
    for line in (read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None


def command_output(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def allocator_versions(bench):
    """{library: what served a probe of it} from `bench --list-configs=json` (the served_by label:
    malloc=<path> new=<path> version=<text>), one entry per library."""
    try:
        listing = json.loads(command_output([bench, "--list-configs=json"]) or "[]")
    except json.JSONDecodeError:
        return {}
    versions = {}
    for configuration in listing:
        if configuration.get("served_by") and configuration["library"] not in versions:
            versions[configuration["library"]] = configuration["served_by"]
        elif not configuration.get("available", True):
            versions.setdefault(configuration["library"], "unavailable: " + configuration.get("unavailable_reason", ""))
    return versions


def compiler(build_dir):
    cache = read(os.path.join(build_dir, "CMakeCache.txt")) or ""
    match = re.search(r"^CMAKE_CXX_COMPILER:\w+=(.+)$", cache, re.M)
    return command_output([match.group(1), "--version"]).splitlines()[0] if match else None


def timing(started, ended):
    """{"started", "ended", "duration_seconds"} of the run, from two `date +%s.%N` readings; {} without them."""
    if started is None and ended is None:
        return {}
    if started is None or ended is None:
        raise ValueError("--started and --ended go together")
    try:
        t0, t1 = float(started), float(ended)
    except ValueError:
        raise ValueError(f"--started {started!r} and --ended {ended!r} must be seconds since the epoch") from None
    if t1 < t0:
        raise ValueError(f"--ended {ended} is before --started {started}")

    def utc(t):
        return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(timespec="seconds")

    return {"started": utc(t0), "ended": utc(t1), "duration_seconds": round(t1 - t0, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", required=True, help="path of the bench binary")
    parser.add_argument("--command", required=True, help="the exact command of the run")
    parser.add_argument("--started", metavar="T0", help="seconds since the epoch when ./bench started")
    parser.add_argument("--ended", metavar="T1", help="seconds since the epoch when ./bench exited")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    try:
        times = timing(args.started, args.ended)
    except ValueError as e:
        print(f"environment.py: error: {e}", file=sys.stderr)
        return 2
    environment = {
        "command": args.command,
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "memory_bytes": mem_total_bytes(),
        "kernel": " ".join(platform.uname()[0:3:2] + (platform.uname().version, platform.machine())),
        "glibc": platform.libc_ver()[1],
        "os": (re.search(r'PRETTY_NAME="([^"]+)"', read("/etc/os-release") or "") or [None, None])[1],
        "thp_enabled": read("/sys/kernel/mm/transparent_hugepage/enabled"),
        "thp_defrag": read("/sys/kernel/mm/transparent_hugepage/defrag"),
        "allocators": allocator_versions(args.bench),
        "compiler": compiler(os.path.dirname(os.path.abspath(args.bench))),
        "git_commit": command_output(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "HEAD"]).strip()
        or None,
        **times,
    }
    directory = os.path.dirname(os.path.abspath(args.output))
    with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, suffix=".tmp") as tmp:
        json.dump(environment, tmp, indent=2)
        tmp.write("\n")
    os.replace(tmp.name, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
