#!/usr/bin/env bash
# Proves the student copy (`make handout`) works as the student README says,
# on the student's code, without solution/. Used by `make test`. In the copy:
#   * `make grade LAB=NN` on each pristine starter: a low score, a non-zero
#     exit and valid Gradescope JSON;
#   * the precompiled reference stands in for named labs: `make grade LAB=01
#     REFERENCE=01` gives full marks, `make grade LAB=03 REFERENCE=01,02` full
#     marks on labs 01-02 only;
#   * `make demo` / `make bench` build on the student's runtime and name the
#     first missing task; with REFERENCE=all they run to the end;
#   * a copy made with WITH_REFERENCE=0 refuses REFERENCE= and says why.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(realpath -m "${1:-$root/build/handout-check}")
rm -rf "$work"
"$root/scripts/handout.sh" "$work/gort"
cd "$work/gort"
[ ! -e solution ] || { echo "FAIL: the handout contains solution/"; exit 1; }
status=0
fail() { echo "FAIL: $*"; status=1; }
ok() { echo "ok: $*"; }
score_of() { sed -nE 's/^Score: ([0-9]+)\/([0-9]+)$/\1 \2/p' "$1"; }
run() { # log command... : runs the command, output to the log, returns its exit code
  local log=$1; shift
  set +e; "$@" >"$log" 2>&1; local rc=$?; set -e
  return $rc
}

for dir in labs/[0-9][0-9]-*/; do
  lab=$(basename "$dir" | cut -c1-2)
  rc=0; run "grade-$lab.log" make --no-print-directory grade LAB="$lab" || rc=$?
  tail -3 "grade-$lab.log"
  score=$(score_of "grade-$lab.log")
  if [ $rc -eq 0 ] || [ -z "$score" ]; then
    fail "lab $lab in the handout: exit $rc, score line '${score:-missing}' (log: $work/gort/grade-$lab.log)"; continue
  fi
  read -r got max <<<"$score"
  [ "$got" -lt "$max" ] || { fail "the pristine starter of lab $lab gets full marks"; continue; }
  if ! python3 - "build/grade/lab$lab/results.json" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["score"], (int, float)) and isinstance(d["max_score"], (int, float)), "score fields"
assert d["tests"] and all(isinstance(t["output"], str) and "name" in t and "visibility" in t for t in d["tests"]), "tests[]"
print(f"results.json valid: {d['score']}/{d['max_score']}, {len(d['tests'])} tests")
PY
    fail "lab $lab: build/grade/lab$lab/results.json is missing or not Gradescope JSON"; continue
  fi
  ok "lab $lab grades in the handout ($got/$max on the starter, exit $rc)"
done

# The precompiled reference stands in for the labs a student names.
rc=0; run ref01.log make --no-print-directory grade LAB=01 REFERENCE=01 || rc=$?
read -r got max <<<"$(score_of ref01.log)"
if [ $rc -eq 0 ] && [ -n "${max:-}" ] && [ "$got" -eq "$max" ]; then ok "REFERENCE=01 in the handout: $got/$max"
else fail "REFERENCE=01 in the handout: exit $rc, score ${got:-?}/${max:-?} (log: $work/gort/ref01.log)"; fi
labs=$(ls -d labs/[0-9][0-9]-* | wc -l)
if [ "$labs" -ge 3 ]; then
  rc=0; run ref0102.log make --no-print-directory grade LAB=03 REFERENCE=01,02 || rc=$?
  l1=$(sed -nE 's/^  lab 01: ([0-9]+)\/([0-9]+)$/\1 \2/p' ref0102.log)
  l2=$(sed -nE 's/^  lab 02: ([0-9]+)\/([0-9]+)$/\1 \2/p' ref0102.log)
  l3=$(sed -nE 's/^  lab 03: ([0-9]+)\/([0-9]+)$/\1 \2/p' ref0102.log)
  read -r a1 m1 <<<"${l1:-0 1}"; read -r a2 m2 <<<"${l2:-0 1}"; read -r a3 m3 <<<"${l3:-1 1}"
  if [ $rc -ne 0 ] && [ "$a1" -eq "$m1" ] && [ "$a2" -eq "$m2" ] && [ "$a3" -lt "$m3" ]; then
    ok "REFERENCE=01,02 in the handout: labs 01-02 full ($a1/$m1, $a2/$m2), lab 03 starter $a3/$m3"
  else fail "REFERENCE=01,02 in the handout: lab 01 '$l1', lab 02 '$l2', lab 03 '$l3', exit $rc (log: $work/gort/ref0102.log)"; fi
fi

# Demos and benchmarks on the student's runtime.
rc=0; run demo.log make --no-print-directory demo || rc=$?
if [ $rc -ne 0 ] && grep -qE 'needs lab 01 task [0-9]+' demo.log; then
  ok "make demo in the handout names the missing task: $(grep -oE 'needs lab 01 task [0-9]+: [^ ]+' demo.log | head -1)"
else fail "make demo on the starter should stop naming the missing task (exit $rc, log: $work/gort/demo.log)"; fi
rc=0; run demo-ref.log make --no-print-directory demo REFERENCE=all || rc=$?
if [ $rc -eq 0 ]; then ok "make demo REFERENCE=all in the handout runs every demo"
else fail "make demo REFERENCE=all in the handout: exit $rc (log: $work/gort/demo-ref.log)"; tail -20 demo-ref.log; fi
rc=0; run bench.log make --no-print-directory bench || rc=$?
if [ $rc -ne 0 ] && grep -qE 'needs lab 01 task [0-9]+' bench.log; then ok "make bench in the handout builds and names the missing task"
else fail "make bench on the starter should build and name the missing task (exit $rc, log: $work/gort/bench.log)"; fi
rc=0; run bench-ref.log env BENCH_REPS=1 BENCH_FIGURES=yield_1p,pingpong_1p make --no-print-directory bench REFERENCE=all || rc=$?
if [ $rc -eq 0 ] && grep -q 'yield_1p' bench-ref.log; then ok "make bench REFERENCE=all in the handout runs (two driver figures, one repetition)"
else fail "make bench REFERENCE=all in the handout: exit $rc (log: $work/gort/bench-ref.log)"; tail -20 bench-ref.log; fi

# Without the precompiled reference, REFERENCE= is refused with the reason.
"$root/scripts/handout.sh" "$work/noref" 0 >/dev/null
rc=0; out=$(cd "$work/noref" && make --no-print-directory grade LAB=01 REFERENCE=01 2>&1) || rc=$?
if [ $rc -ne 0 ] && grep -q "needs the reference implementation of lab 01" <<<"$out"; then
  ok "WITH_REFERENCE=0: REFERENCE= is refused and says why"
else fail "WITH_REFERENCE=0: REFERENCE= should fail with a clear message; got exit $rc:"; echo "$out" | tail -5; fi
exit $status
