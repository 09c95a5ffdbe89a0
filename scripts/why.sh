#!/usr/bin/env bash
# One program, one answer: why its memory stays and what each way out costs it, on one page.
#
#   scripts/why.sh [OPTIONS] [./bench FLAGS] -- PROGRAM [ARGS...]
#
# Builds ./bench (unless BENCH_BINARY names one), then records PROGRAM once under the allocator it
# gets without ./bench, replays the recording under every process-level configuration and writes
# WHY.md into results/why-<program>-<UTC time>/ (scripts/why.py says how; docs/why.md shows a page).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${BENCH_BINARY:-}" ] && [[ "${1:-}" != --again=* ]]; then
  "$root/scripts/build.sh" >&2
  export BENCH_BINARY="$root/build/bench"
fi
# The page's picture needs matplotlib: Debian's interpreter has it (python3 on PATH may be another build).
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import matplotlib, numpy' 2>/dev/null; then exec "$candidate" "$root/scripts/why.py" "$@"; fi
done
echo "why.sh: no python3 with matplotlib and numpy (install python3-matplotlib python3-numpy)" >&2
exit 2
