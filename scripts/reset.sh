#!/usr/bin/env bash
# `make reset LAB=NN`: restores lab NN's starter files (the files listed in
# its lab.cmake SOURCES, and its tests) from the course repository as you
# received it: origin/HEAD, else origin/main, else your last commit.
# Asks before overwriting; YES=1 skips the question (needed without a terminal).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
lab=${1:-}
[[ "$lab" =~ ^[0-9]{1,2}$ ]] || { echo "usage: make reset LAB=NN" >&2; exit 2; }
lab=$(printf '%02d' "$((10#$lab))")
dir=$(ls -d labs/"$lab"-* 2>/dev/null | head -1)
[ -n "$dir" ] || { echo "gort: there is no lab $lab" >&2; exit 2; }
git rev-parse --git-dir >/dev/null 2>&1 || { echo "gort: reset needs the course's git history (this is not a git checkout)" >&2; exit 1; }
ref=""
for r in origin/HEAD origin/main HEAD; do
  git rev-parse --verify -q "$r^{commit}" >/dev/null && { ref=$r; break; }
done
[ -n "$ref" ] || { echo "gort: no commit to restore from" >&2; exit 1; }
srcs=$(sed -n '/SOURCES/,/TESTS/p' "$dir/lab.cmake" | tr ' \n' '\n\n' | grep -E '\.(cpp|S|hpp)$' || true)
files=()
for f in $srcs; do files+=("$dir/$f"); done
while IFS= read -r t; do files+=("$t"); done < <(git ls-tree -r --name-only "$ref" -- "$dir/tests")
changed=()
for f in "${files[@]}"; do
  if ! git cat-file -e "$ref:$f" 2>/dev/null; then continue; fi
  if ! git show "$ref:$f" | cmp -s - "$f"; then changed+=("$f"); fi
done
if [ ${#changed[@]} -eq 0 ]; then echo "lab $lab already matches its starter in $ref: nothing to do"; exit 0; fi
echo "These files of lab $lab differ from the starter in $ref and will be overwritten:"
printf '  %s\n' "${changed[@]}"
if [ "${YES:-}" != 1 ]; then
  if [ ! -t 0 ]; then echo "gort: not a terminal; run 'make reset LAB=$lab YES=1' to confirm" >&2; exit 1; fi
  read -r -p "Overwrite them (your changes are lost unless committed)? [y/N] " answer
  [[ "$answer" =~ ^[yY] ]] || { echo "nothing changed"; exit 1; }
fi
for f in "${changed[@]}"; do git show "$ref:$f" > "$f"; done
echo "restored ${#changed[@]} file(s) of lab $lab from $ref"
