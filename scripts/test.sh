#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test with ctest.
# Extra arguments go to ctest (e.g. scripts/test.sh -L findings).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh"
cd "$root/build"
ctest --output-on-failure -j2 "$@"
