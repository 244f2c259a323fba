#!/usr/bin/env bash
# Runs each command line of a list file (demos.txt / benches.txt, written by
# CMake), stopping at the first failure.
set -euo pipefail
list=$1
[ -s "$list" ] && grep -q . "$list" || { echo "gort: nothing registered in $list (is solution/ present?)" >&2; exit 1; }
while IFS= read -r line; do
  [ -n "$line" ] || continue
  echo "=== ${line##*/} ==="
  eval "$line" </dev/null
  echo
done < "$list"
