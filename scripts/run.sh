#!/usr/bin/env bash
# The main command: installs what is missing, builds, runs ./bench (default matrix, or the flags
# given) into a new run folder results/<UTC time>/, and writes there the merged JSON, a flat CSV,
# the environment, REPORT.md and the plots (also copied to plots/<run>/).
# An existing run folder is never reused or overwritten.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh"

# The scripts need matplotlib: Debian's interpreter has it (python3 on PATH may be another build).
python=""
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import matplotlib, numpy' 2>/dev/null; then python="$candidate"; break; fi
done
[ -n "$python" ] || { echo "run.sh: no python3 with matplotlib and numpy (install python3-matplotlib python3-numpy)" >&2; exit 2; }

id="$(date -u +%Y%m%d-%H%M%S)"
run="$root/results/$id"
mkdir -p "$root/results"
if ! mkdir "$run" 2>/dev/null; then
  echo "run.sh: $run already exists; not overwriting it (try again in a second)" >&2
  exit 2
fi
echo "run.sh: writing $run" >&2

bench="$root/build/bench"
status=0
"$bench" --benchmark_out="$run/bench.json" --benchmark_out_format=json "$@" | tee "$run/console.txt" || status=${PIPESTATUS[0]}
if [ ! -s "$run/bench.json" ]; then
  echo "run.sh: bench wrote no results (exit status $status)" >&2
  exit $(( status == 0 ? 1 : status ))
fi

"$python" "$root/scripts/environment.py" --bench "$bench" --command "scripts/run.sh $*" -o "$run/environment.json"
"$python" "$root/scripts/results_csv.py" "$run/bench.json" -o "$run/bench.csv"
"$python" "$root/scripts/plot.py" "$run/bench.json" --out "$run/plots" --out "$root/plots/$id"
"$python" "$root/scripts/report.py" "$run/bench.json" --plots-dir plots -o "$run/REPORT.md"
echo "run.sh: results in $run (REPORT.md, bench.json, bench.csv, environment.json, plots/)" >&2
exit "$status"
