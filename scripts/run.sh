#!/usr/bin/env bash
# The main command: installs what is missing, builds, runs ./bench into a new run folder
# results/<UTC time>/, and writes there the JSON (with the run's description), two flat CSVs
# (bench.csv, timeline.csv), the environment (with when ./bench started and ended, and how long it
# took), how the folder is regenerated (regenerate.json, read by scripts/regenerate.py), REPORT.md
# and the plots (also copied to plots/<run>/). An existing run folder is never reused or overwritten.
#
#   scripts/run.sh                     the map workload on every configuration: N = 500,000, 6
#                                      interleaved repetitions (enough for a 95 % interval of each
#                                      median), 15 s settle; some minutes on 2 cores (the run folder's
#                                      environment.json records how long ./bench took)
#   scripts/run.sh FLAGS               the same with ./bench's flags added (later ones win), e.g.
#                                      --sizes=5000000 --benchmark_repetitions=3, or
#                                      --benchmark_filter='^cycle/' for another workload
#   scripts/run.sh [FLAGS] -- PROGRAM [ARGS...]
#                                      your program under every process-level configuration; its
#                                      output goes to the run folder's command-output/
#   scripts/run.sh [FLAGS] --replay=TRACE[,TRACE...]
#                                      recordings (./bench --record) replayed under every
#                                      process-level configuration: 3 interleaved repetitions, 10 s
#                                      of settling after each one's free phase (docs/replay.md)
#   scripts/run.sh [FLAGS] --scenario=NAME[,NAME...]|all
#                                      real programs Debian ships (benchmarks/scenarios/) under every
#                                      process-level configuration: 3 interleaved repetitions, 10 s
#                                      of settling after each one's timed phases
#
# Interrupted (Ctrl-C, or SIGTERM to this script or to bench): bench stops its children and writes
# what finished, marked "incomplete"; the folder is still completed from that partial JSON, and the
# exit status is bench's (130).
#
# Environment (for tests and scripted use):
#   BENCH_RUN_ID       the run folder's name instead of the UTC time (refused if it exists)
#   BENCH_RESULTS_DIR  where run folders go (default results/)
#   BENCH_PLOTS_DIR    where the plots are copied (default plots/)
#   BENCH_BINARY       run this ./bench instead of building build/bench
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -n "${BENCH_BINARY:-}" ]; then
  bench="$BENCH_BINARY"
else
  "$root/scripts/build.sh"
  bench="$root/build/bench"
fi

# The scripts need matplotlib: Debian's interpreter has it (python3 on PATH may be another build).
python=""
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import matplotlib, numpy' 2>/dev/null; then python="$candidate"; break; fi
done
[ -n "$python" ] || { echo "run.sh: no python3 with matplotlib and numpy (install python3-matplotlib python3-numpy)" >&2; exit 2; }

id="${BENCH_RUN_ID:-$(date -u +%Y%m%d-%H%M%S)}"
case "$id" in
  "" | . | .. | */* | -*) echo "run.sh: BENCH_RUN_ID='$id' is not a usable folder name" >&2; exit 2 ;;
esac
results="${BENCH_RESULTS_DIR:-$root/results}"
plots="${BENCH_PLOTS_DIR:-$root/plots}"
run="$results/$id"
mkdir -p "$results"
if ! mkdir "$run" 2>/dev/null; then
  if [ -e "$run" ]; then
    echo "run.sh: $run already exists; not overwriting it (pick another BENCH_RUN_ID, or try again in a second)" >&2
  else
    echo "run.sh: cannot create $run" >&2
  fi
  exit 2
fi
echo "run.sh: writing $run" >&2

# The default matrix is the seed's experiment at a size that fits in minutes: the map workload on
# every configuration. Flags given come after the defaults and win; any --benchmark_filter (or
# BENCHMARK_FILTER) replaces the workload, e.g. '^fragment/' or '.' for everything. A program after
# `--` is run instead of the workloads.
defaults=(--sizes=500000 --benchmark_repetitions=6 --settle=15s --benchmark_display_aggregates_only=true)
default_filter=(--benchmark_filter='^map/')
for argument in "$@"; do
  case "$argument" in
    --benchmark_filter=*) default_filter=() ;;
    --scenario=*) default_filter=(); defaults=(--benchmark_repetitions=3 --settle=10s --benchmark_display_aggregates_only=true) ;;
    --replay=*) default_filter=(); defaults=(--benchmark_repetitions=3 --settle=10s --benchmark_display_aggregates_only=true) ;;
    --) default_filter=(); defaults=(--benchmark_repetitions=6 --benchmark_display_aggregates_only=true); break ;;
  esac
done
[ -z "${BENCHMARK_FILTER:-}" ] || default_filter=()

# bench runs in the background so that a SIGINT or SIGTERM to this script reaches it at once (a trap
# waits for a foreground command to finish). tee ignores both: Ctrl-C signals the whole foreground
# process group, and bench's last lines must still reach console.txt.
exec 3> >(trap '' INT TERM; exec tee "$run/console.txt")
tee_pid=$!
started=$(date +%s.%N)
"$bench" --benchmark_out="$run/bench.json" --benchmark_out_format=json "${defaults[@]}" "${default_filter[@]}" "$@" >&3 &
bench_pid=$!
exec 3>&-
trap 'kill -INT "$bench_pid" 2>/dev/null || true' INT
trap 'kill -TERM "$bench_pid" 2>/dev/null || true' TERM
# `wait` returns early (status > 128) when a trapped signal arrives; wait again until bench is gone.
status=0
while :; do
  wait "$bench_pid" && status=0 || status=$?
  kill -0 "$bench_pid" 2>/dev/null || break
done
if [ "$status" -gt 128 ]; then  # the last wait may have been cut short: bench's own status may be pending
  wait "$bench_pid" 2>/dev/null && status=0 || { rc=$?; [ "$rc" -eq 127 ] || status=$rc; }
fi
ended=$(date +%s.%N)
trap - INT TERM
wait "$tee_pid" 2>/dev/null || true

# A bench killed by SIGKILL leaves its journal of finished rows (benchmarks/driver/journal.h): the
# folder is completed from those, marked incomplete; the journal and Google Benchmark's unfinished
# file are removed once bench.json holds every row they held.
if [ ! -s "$run/bench.json" ]; then
  for journal in "$run"/bench.json.rows-*.jsonl; do
    [ -e "$journal" ] || continue
    if "$python" "$root/scripts/recover.py" "$journal" -o "$run/bench.json"; then
      pid="${journal##*.rows-}"
      rm -f "$journal" "$run/bench.json.partial-${pid%.jsonl}"
    fi
    break
  done
fi
if [ ! -s "$run/bench.json" ]; then
  echo "run.sh: bench wrote no results (exit status $status); $run holds only what bench printed" >&2
  exit $(( status == 0 ? 1 : status ))
fi
if [ "$status" -ne 0 ]; then
  echo "run.sh: bench exited with status $status; completing $run from the rows it wrote" >&2
fi

"$python" "$root/scripts/environment.py" --bench "$bench" --command "scripts/run.sh $*" --started "$started" --ended "$ended" \
  -o "$run/environment.json"
# How scripts/regenerate.py remakes this folder's report, CSVs and plots: arguments given to report.py and
# plot.py beside bench.json (none for a run of its own; an exact run set beside a timed one adds its --timed).
printf '{\n  "arguments": []\n}\n' > "$run/regenerate.json"
"$python" "$root/scripts/results_csv.py" "$run/bench.json" -o "$run/bench.csv" --timeline "$run/timeline.csv"
"$python" "$root/scripts/plot.py" "$run/bench.json" --out "$run/plots" --out "$plots/$id"
"$python" "$root/scripts/report.py" "$run/bench.json" --plots-dir plots -o "$run/REPORT.md"
echo "run.sh: results in $run (REPORT.md, bench.json, bench.csv, timeline.csv, environment.json, regenerate.json, plots/)" >&2
exit "$status"
