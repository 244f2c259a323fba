#!/usr/bin/env bash
# `make handout [OUT=dir] [WITH_REFERENCE=0]`: the copy an instructor hands to
# students — every tracked file except solution/ (and this repo's CI and the
# Gradescope autograder templates), as a
# fresh git repository whose first commit is the pristine starter (what
# `make reset` restores). It also carries:
#   * README.md for students (docs/STUDENT_README.md), in place of this one;
#   * .github/workflows/classroom.yml (from grader/classroom/): GitHub
#     Classroom's autograding on every push;
#   * reference/labNN/<file>.o: each lab's reference compiled, without its
#     source (as CS:APP ships tshref), so `make grade LAB=03 REFERENCE=01,02`
#     works for a student stuck on an earlier lab. WITH_REFERENCE=0 leaves
#     them out (REFERENCE= is then refused with a message saying why).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-}
with_ref=${2:-1}
[ -n "$out" ] || out="$root/build/handout/gort"
[ -e "$out" ] && { echo "gort: $out exists; remove it or choose OUT=" >&2; exit 1; }
[ -d "$root/solution" ] || { echo "gort: make handout needs solution/ (this is already a student copy)" >&2; exit 1; }
mkdir -p "$out"
(cd "$root" && git ls-files -z | grep -zv -e '^solution/' -e '^\.ci/' -e '^grader/gradescope/' \
   -e '^grader/classroom/classroom\.yml$' | xargs -0 cp --parents -t "$out")
cp "$root/docs/STUDENT_README.md" "$out/README.md"
# GitHub Classroom grades the copy on every push; the instructor's repository
# keeps the workflow where it does not run (grader/classroom/).
mkdir -p "$out/.github/workflows"
cp "$root/grader/classroom/classroom.yml" "$out/.github/workflows/classroom.yml"
if [ "$with_ref" != 0 ]; then
  build=${BUILD:-$root/build}/dev
  "$root/scripts/deps.sh" core
  "$root/scripts/build.sh" "$build" help >/dev/null  # configured (when new)
  cmake "$build" >/dev/null                           # and current
  "$root/scripts/build.sh" "$build" reference-objects >/dev/null
  while read -r nn src obj; do
    [ -n "$nn" ] || continue
    mkdir -p "$out/reference/lab$nn"
    # Debug info would carry line tables and local names; the code is enough.
    strip --strip-debug -o "$out/reference/lab$nn/$src.o" "$obj"
  done <"$build/reference-objects.txt"
  cat >"$out/reference/README.md" <<'TXT'
# The reference, precompiled

Each `labNN/<file>.o` is the course's finished version of that lab file,
compiled without its source. `make grade LAB=03 REFERENCE=01,02` links them in
place of your labs 01 and 02, so a lab you are stuck on never blocks the next.
Your own files are never replaced unless you name their lab in `REFERENCE=`.
TXT
fi
git -C "$out" init -q -b main
git -C "$out" add -A
git -C "$out" -c user.name=gort -c user.email=gort@localhost commit -q -m "gort course handout"
echo "handout written to $out ($(git -C "$out" ls-files | wc -l) files, no solution/$([ "$with_ref" != 0 ] && echo ', precompiled reference/'))"
