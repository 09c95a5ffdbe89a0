#!/usr/bin/env bash
# Installs what is missing (scripts/setup.sh), then configures and builds into build/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo --log-level=WARNING >/dev/null
cmake --build "$root/build" -j"$(nproc)" -- --no-print-directory >/dev/null
