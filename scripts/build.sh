#!/usr/bin/env bash
# scripts/build.sh BUILD_DIR TARGET [cmake -D options...]
# Configures BUILD_DIR (when new, or when options are given) and builds TARGET.
# Configure output goes to BUILD_DIR/configure.log and is shown only on error.
set -euo pipefail
dir=$1; target=$2; shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
mkdir -p "$dir"
if [ ! -f "$dir/CMakeCache.txt" ] || [ $# -gt 0 ]; then
  if ! cmake -S "$root" -B "$dir" "$@" >"$dir/configure.log" 2>&1; then
    grep -v '^--' "$dir/configure.log" >&2 || cat "$dir/configure.log" >&2
    echo "gort: configuring $dir failed (full log: $dir/configure.log; 'make doctor' checks the setup)" >&2
    exit 1
  fi
fi
cmake --build "$dir" -j"$jobs" --target "$target"
