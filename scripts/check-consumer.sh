#!/usr/bin/env bash
# scripts/check-consumer.sh BUILD_DIR
# Proves the installed package works for an outside project: builds the
# `gort` library in BUILD_DIR, installs it into a temporary prefix
# (`cmake --install BUILD_DIR --prefix TMP`), then configures, builds and
# runs tests/consumer/ against that prefix with find_package(gort) only.
# Exit status: 0 when the consumer builds and its checks pass.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: scripts/check-consumer.sh BUILD_DIR (a configured gort build)}
jobs=${JOBS:-2}
[ -f "$build/CMakeCache.txt" ] || { echo "check-consumer: $build is not a configured build directory" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gort-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cmake --build "$build" -j"$jobs" --target gort
cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
for f in include/gort/gort.hpp lib/libgort.a lib/cmake/gort/gortConfig.cmake; do
  [ -e "$tmp/prefix/$f" ] || [ -e "$tmp/prefix/${f/lib\//lib64/}" ] ||
    { echo "check-consumer: $f was not installed (log: see below)" >&2; cat "$tmp/install.log" >&2; exit 1; }
done
# A fresh project that knows only the prefix (no gort source or build paths).
cmake -S "$root/tests/consumer" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log" >&2; echo "check-consumer: configuring the consumer failed" >&2; exit 1; }
cmake --build "$tmp/build" -j"$jobs"
"$tmp/build/gort_consumer"
