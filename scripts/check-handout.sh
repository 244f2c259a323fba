#!/usr/bin/env bash
# Proves the student copy works without solution/: it builds, `make grade
# LAB=NN` runs every lab's grader on the pristine starters and reports a low
# score with a non-zero exit and valid Gradescope JSON, and REFERENCE= fails
# with a message saying why. Used by `make test`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(realpath -m "${1:-$root/build/handout-check}")
rm -rf "$work"
"$root/scripts/handout.sh" "$work/gort"
cd "$work/gort"
[ ! -e solution ] || { echo "FAIL: the handout contains solution/"; exit 1; }
status=0
for dir in labs/[0-9][0-9]-*/; do
  lab=$(basename "$dir" | cut -c1-2)
  set +e
  make --no-print-directory grade LAB="$lab" >"grade-$lab.log" 2>&1
  rc=$?
  set -e
  tail -3 "grade-$lab.log"
  score=$(sed -nE 's/^Score: ([0-9]+)\/([0-9]+)$/\1 \2/p' "grade-$lab.log")
  if [ $rc -eq 0 ] || [ -z "$score" ]; then
    echo "FAIL: lab $lab in the handout: exit $rc, score line '${score:-missing}' (log: $work/gort/grade-$lab.log)"
    status=1; continue
  fi
  read -r got max <<<"$score"
  if [ "$got" -ge "$max" ]; then echo "FAIL: the pristine starter of lab $lab gets full marks"; status=1; fi
  if ! python3 - "build/grade/lab$lab/results.json" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["score"], (int, float)) and isinstance(d["max_score"], (int, float)), "score fields"
assert d["tests"] and all(isinstance(t["output"], str) and "name" in t and "visibility" in t for t in d["tests"]), "tests[]"
print(f"results.json valid: {d['score']}/{d['max_score']}, {len(d['tests'])} tests")
PY
    echo "FAIL: lab $lab: build/grade/lab$lab/results.json is missing or not Gradescope JSON"; status=1; continue
  fi
  echo "ok: lab $lab grades in the handout ($got/$max on the starter, exit $rc)"
done
set +e
out=$(make --no-print-directory grade LAB=01 REFERENCE=01 2>&1); rc=$?
set -e
if [ $rc -eq 0 ] || ! grep -q "needs the reference implementation in solution/" <<<"$out"; then
  echo "FAIL: REFERENCE= in the handout should fail with a clear message; got exit $rc:"; echo "$out" | tail -5; status=1
else
  echo "ok: REFERENCE= in the handout says the reference is not included"
fi
exit $status
