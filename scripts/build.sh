#!/usr/bin/env bash
# scripts/build.sh BUILD_DIR TARGET [cmake -D options...]
# Configures BUILD_DIR (when new, or when options are given) and builds TARGET
# (several targets: one argument, space-separated).
# Configure output goes to BUILD_DIR/configure.log and is shown only on error.
set -euo pipefail
dir=$1; target=$2; shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
mkdir -p "$dir"
# Reconfigure when new, when options are given, or when the cache remembers an
# optional tool as missing (it may have been installed since: CMakeLists.txt
# forgets such misses at every configure).
if [ ! -f "$dir/CMakeCache.txt" ] || [ $# -gt 0 ] ||
   grep -qE '^(DOXYGEN_|GORT_|Boost_|boost_)[A-Za-z0-9_]*:[A-Z]+=.*-NOTFOUND$' "$dir/CMakeCache.txt"; then
  if ! cmake -S "$root" -B "$dir" "$@" >"$dir/configure.log" 2>&1; then
    grep -v '^--' "$dir/configure.log" >&2 || cat "$dir/configure.log" >&2
    echo "gort: configuring $dir failed (full log: $dir/configure.log; 'make doctor' checks the setup)" >&2
    exit 1
  fi
fi
# Progress lines only: no make "Entering directory" bookkeeping.
MAKEFLAGS="${MAKEFLAGS:-} --no-print-directory" cmake --build "$dir" -j"$jobs" --target $target
