#!/usr/bin/env bash
# `make handout [OUT=dir]`: the copy an instructor hands to students — every
# tracked file except solution/ (and this repo's CI), as a fresh git repository
# whose first commit is the pristine starter (what `make reset` restores).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-}
[ -n "$out" ] || out="$root/build/handout/gort"
[ -e "$out" ] && { echo "gort: $out exists; remove it or choose OUT=" >&2; exit 1; }
mkdir -p "$out"
(cd "$root" && git ls-files -z | grep -zv -e '^solution/' -e '^\.ci/' | xargs -0 cp --parents -t "$out")
git -C "$out" init -q -b main
git -C "$out" add -A
git -C "$out" -c user.name=gort -c user.email=gort@localhost commit -q -m "gort course handout"
echo "handout written to $out ($(git -C "$out" ls-files | wc -l) files, no solution/)"
