#!/usr/bin/env bash
# Proves the Gradescope autograder (`make autograder`) and the GitHub
# Classroom report work, without Gradescope or GitHub. Used by `make test`.
# Builds the zip for lab 01, unpacks it into a fake /autograder tree
# (GORT_AUTOGRADER_ROOT), runs its setup.sh once, then run_autograder on:
#   1. the reference as bare files, plus files that must not be taken (a
#      grader test, lab.cmake, gradelib.py, a symlink): full marks, and the
#      course's own tests unchanged;
#   2. the pristine starter as a labs/01-threads/ tree inside a folder, with
#      a broken bare note.cpp beside it (the tree wins) and one file left
#      out (the starter replaces run 1's): a low score;
#   3. a note.cpp that does not compile: score 0 and the compiler's error,
#      in a valid results.json.
# Then grader/classroom/report.py on those results (what the student copy's
# workflow reports to GitHub Classroom). Lab 01 keeps it short: one course
# build (setup.sh), then each run recompiles only the files it changes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(realpath -m "${1:-$root/build/autograder-check}")
lab=01
labdir=labs/01-threads
rm -rf "$work"
mkdir -p "$work"
status=0
fail() { echo "FAIL: $*"; status=1; }
ok() { echo "ok: $*"; }
# Reruns of make test: the course is built at the same path, so ccache hits.
if command -v ccache >/dev/null; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
fi

# A REFERENCE= that names no lab is refused before anything is built.
if out=$("$root/scripts/autograder.sh" 01 9x "$work/bad.zip" 2>&1); then fail "REFERENCE=9x was accepted"
elif grep -q "'9x' is not a lab number" <<<"$out"; then ok "make autograder REFERENCE=9x is refused: $(tail -1 <<<"$out")"
else fail "REFERENCE=9x: unclear message: $out"; fi

start=$SECONDS
"$root/scripts/autograder.sh" "$lab" "" "$work/lab$lab.zip"
ag=$work/ag
mkdir -p "$ag/source" "$ag/submission" "$ag/results"
unzip -q "$work/lab$lab.zip" -d "$ag/source"
for f in setup.sh run_autograder; do
  [ -x "$ag/source/$f" ] || fail "$f is not an executable at the zip's root"
done
[ ! -e "$ag/source/course/solution" ] || fail "the autograder's course contains solution/"
[ ! -e "$ag/source/course/grader/gradescope" ] || fail "the student copy carries the autograder templates"
[ -f "$ag/source/course/.github/workflows/classroom.yml" ] || fail "the student copy lacks .github/workflows/classroom.yml"
grep -q 'grader/classroom/report.py' "$ag/source/course/.github/workflows/classroom.yml" &&
  [ -f "$ag/source/course/grader/classroom/report.py" ] || fail "the Classroom workflow's report script is not in the student copy"
# The workflow is what GitHub Classroom requires (its names) and calls what the copy has.
python3 - "$ag/source/course" <<'PY' || fail "the Classroom workflow is malformed"
import sys
from pathlib import Path
course = Path(sys.argv[1])
try:
    import yaml
except ImportError:
    print("(python3-yaml absent: the workflow's YAML is not parsed)")
    sys.exit(0)
wf = yaml.safe_load((course / ".github/workflows/classroom.yml").read_text())
assert wf["name"] == "Autograding Tests" and list(wf["jobs"]) == ["run-autograding-tests"], "names Classroom needs"
runs = " ".join(s.get("run", "") for s in wf["jobs"]["run-autograding-tests"]["steps"])
for script in ("scripts/deps.sh", "grader/classroom/report.py"):
    assert script in runs and (course / script).is_file(), script
assert "make --no-print-directory grade" in runs
PY
bash "$ag/source/setup.sh" >"$work/setup.log" 2>&1 || { fail "setup.sh failed (log: $work/setup.log)"; tail -20 "$work/setup.log"; exit 1; }
ok "zip built and setup.sh done in $((SECONDS - start))s ($(du -h "$work/lab$lab.zip" | cut -f1); max score $(cat "$ag/source/max_score" 2>/dev/null || echo '?'))"
# Gradescope runs a copy of run_autograder from /autograder.
cp "$ag/source/run_autograder" "$ag/run_autograder"

grade() { # name: runs the autograder on $ag/submission; sets got and max
  rm -rf "$ag/results"
  mkdir -p "$ag/results"
  local t=$SECONDS
  GORT_AUTOGRADER_ROOT=$ag "$ag/run_autograder" >"$work/$1.log" 2>&1 || fail "$1: run_autograder exited $? (log: $work/$1.log)"
  got=x; max=x
  python3 - "$ag/results/results.json" >"$work/$1.score" <<'PY' || { fail "$1: no valid results.json (log: $work/$1.log)"; return; }
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["score"], (int, float)) and d["tests"], "score, tests"
assert all(isinstance(t["output"], str) and {"name", "score", "max_score"} <= t.keys() for t in d["tests"]), "tests[]"
print(d["score"], d.get("max_score", sum(t["max_score"] for t in d["tests"])))
PY
  read -r got max <"$work/$1.score"
  cp "$ag/results/results.json" "$work/$1.results.json"
  echo "   ($1 graded in $((SECONDS - t))s)"
}
reset_submission() { rm -rf "$ag/submission"; mkdir -p "$ag/submission"; }

# 1. The reference, bare, with files that must not reach the course.
reset_submission
cp "$root"/solution/lab$lab/*.cpp "$ag/submission/"
mkdir -p "$ag/submission/$labdir/tests" "$ag/submission/grader"
echo 'TEST_CASE("planted") { this does not compile }' >"$ag/submission/$labdir/tests/test_note.cpp"
echo 'message(FATAL_ERROR "planted")' >"$ag/submission/$labdir/lab.cmake"
echo 'raise SystemExit("planted")' >"$ag/submission/grader/gradelib.py"
ln -s /etc/passwd "$ag/submission/speedup.hpp"
grade reference
if [ "$got" = "$max" ] && [ "$max" = "$(cat "$ag/source/max_score")" ]; then ok "submission = the reference: $got/$max"
else fail "submission = the reference: $got/$max (log: $work/reference.log)"; fi
for f in "$labdir/tests/test_note.cpp" "$labdir/lab.cmake" grader/gradelib.py; do
  git -C "$root" show "HEAD:$f" | cmp -s - "$ag/source/course/$f" || fail "the submission's $f replaced the course's"
done
grep -q "Ignored.*$labdir/tests/test_note.cpp" "$ag/results/results.json" || fail "results.json does not list the ignored files"
if grep -q "tests ran as root" "$work/reference.log"; then fail "the tests ran as root: $(grep 'tests ran as root' "$work/reference.log")"; fi

# 2. The starter as a tree in a folder; a broken bare copy beside it loses.
reset_submission
mkdir -p "$ag/submission/gort/$labdir"
cp "$root"/$labdir/*.cpp "$ag/submission/gort/$labdir/"
rm "$ag/submission/gort/$labdir/speedup.cpp"  # not submitted: the reference of run 1 must go
echo 'this does not compile' >"$ag/submission/note.cpp"
grade starter
git -C "$root" show "HEAD:$labdir/speedup.cpp" | cmp -s - "$ag/source/course/$labdir/speedup.cpp" &&
  grep -q "starter is used): $labdir/speedup.cpp" "$ag/results/results.json" ||
  fail "a lab file missing from the submission is not the starter (the previous submission's stayed?)"
if [ "$got" != x ] && [ "$got" -lt "$max" ] && grep -q "$labdir/note.cpp  <-  gort/$labdir/note.cpp" "$ag/results/results.json"; then
  ok "submission = the starter (labs/ tree): $got/$max"
else fail "submission = the starter: $got/$max (log: $work/starter.log)"; fi

# 3. A file that does not compile.
reset_submission
cp "$root"/solution/lab$lab/*.cpp "$ag/submission/"
printf '\nint broken( { return 0; }\n' >>"$ag/submission/note.cpp"
grade broken
if [ "$got" = 0 ] && grep -q '"name": "Your code does not compile"' "$ag/results/results.json" &&
   grep -q 'note.cpp.*error' "$ag/results/results.json"; then
  ok "submission that does not compile: $got/$max, results.json says so and quotes the error"
else fail "submission that does not compile: $got/$max (log: $work/broken.log)"; fi

# The Classroom report on those results.
cr() { python3 "$root/grader/classroom/report.py" --lab "$lab" "$@"; }
if out=$(GITHUB_STEP_SUMMARY="$work/summary.md" cr "$work/reference.results.json") &&
   grep -qx '::notice title=Autograding complete::Points 100/100' <<<"$out" && grep -q '| 01 | 100 | 100 |' "$work/summary.md"; then
  ok "Classroom report, reference: $(head -1 <<<"$out")"
else fail "Classroom report on the reference: $out"; fi
if ! out=$(cr "$work/starter.results.json") && grep -q 'Points [0-9]*/100$' <<<"$out" && grep -q 'Lost points' <<<"$out"; then
  ok "Classroom report, starter: $(grep 'Autograding complete' <<<"$out"), exit 1"
else fail "Classroom report on the starter: $out"; fi
if ! out=$(cr "$work/missing.json") && grep -q 'Points 0/100$' <<<"$out"; then ok "Classroom report, no results (build failed): 0/100, exit 1"
else fail "Classroom report without results: $out"; fi
exit $status
