"""What every integration test does with ./bench: run it into a fresh JSON file, index its rows, and
read the configuration table from `--list-configs=json` (never from the human-readable listing).

Environment (set by tests/CMakeLists.txt): BENCH_BINARY, BENCH_INDEPENDENT, BENCH_TEST_PROGRAM, BENCH_TEST_PROGRAM_STATIC.
"""

import functools
import json
import os
import subprocess
import sys
import tempfile

BENCH = os.environ.get("BENCH_BINARY", "build/bench")
INDEPENDENT = os.environ.get("BENCH_INDEPENDENT", "build/tests/bench_independent_map")
TEST_PROGRAM = os.environ.get("BENCH_TEST_PROGRAM", "build/tests/bench_test_program")
TEST_PROGRAM_STATIC = os.environ.get("BENCH_TEST_PROGRAM_STATIC", "build/tests/bench_test_program_static")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

# What every build-use-free workload reports after its free phase (benchmarks/measure/phases.h).
RETENTION = (
    "rss_base",
    "rss_peak",
    "rss_cleared",
    "rss_released",
    "rss_final",
    "retained_pct",
    "release_seconds",
    "settle_seconds",
    "settle_cpu_s",
    "return_50pct_s",
    "return_90pct_s",
    "probe_ns",
)


def run_bench(*args, check=True, env=None, cwd=None, timeout=1800):
    """Runs ./bench with a fresh --benchmark_out and args (which may end in -- PROGRAM ...), in a fresh
    folder unless cwd is given; returns (process, parsed JSON or None)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        proc = subprocess.run(
            [BENCH, f"--benchmark_out={out}", *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd or tmp
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"bench failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        data = None
        if os.path.exists(out):
            with open(out) as f:
                data = json.load(f)
        return proc, data


def rows(data):
    """{benchmark name: iteration row} (the last repetition of each)."""
    return {b["name"]: b for b in data["benchmarks"] if b.get("run_type") == "iteration"}


def repetitions(data, name):
    return [b for b in data["benchmarks"] if b.get("run_type") == "iteration" and b["name"] == name]


@functools.lru_cache(maxsize=None)
def configurations(binary=BENCH):
    """{name: configuration} from `bench --list-configs=json`, each available one verified."""
    out = subprocess.run([binary, "--list-configs=json"], capture_output=True, text=True)
    listing = json.loads(out.stdout)
    return {c["name"]: c for c in listing}


def available(binary=BENCH):
    return {name: c for name, c in configurations(binary).items() if c["available"] and c.get("verified")}
