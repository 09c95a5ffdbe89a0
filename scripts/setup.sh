#!/usr/bin/env bash
# Installs the Debian 12 packages this project needs. Idempotent: when everything is present it
# prints nothing and exits 0. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libbenchmark-dev libgtest-dev googletest
  libssl-dev nlohmann-json3-dev
  libzstd-dev                   # the recorder's trace files (the writer compresses outside the recorded process)
  libboost-container-dev
  # The malloc libraries (each optional for the build: a missing one makes only its rows unavailable).
  libjemalloc-dev libgoogle-perftools-dev libmimalloc-dev
  libclang-rt-14-dev            # LLVM's standalone scudo
  libtbbmalloc2 libtbb-dev      # oneTBB's scalable allocator and its header
  python3 python3-matplotlib python3-numpy
  # The scenarios' programs (benchmarks/scenarios/): Debian's python3 and perl are above or in the
  # base system; Debian's redis-server starts its own service on install, which no scenario uses.
  perl ruby redis-server
  valgrind                      # --exact: callgrind counts (and its client requests, valgrind/callgrind.h)
  heaptrack                     # --compare-recorders: Debian's profiler, the recorder's anchor
  clang-format black            # the format check (ctest -L format)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done" >&2
