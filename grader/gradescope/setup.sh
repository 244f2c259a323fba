#!/usr/bin/env bash
# Gradescope's setup.sh for a gort autograder (scripts/autograder.sh puts it
# at the root of the zip). Gradescope runs it once, as root, when it builds
# the autograder image: it installs exactly what `make grade` needs (the
# `core` profile of scripts/deps.sh) and builds the pristine course once, so
# that run_autograder recompiles only the files a submission changes.
# On Ubuntu 22.04 (g++ 11, CMake 3.22) it adds g++-12 and a newer CMake;
# Ubuntu 24.04 has everything already.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
course=$src/course
lab=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lab"])' "$src/autograder.json" 2>/dev/null) || {
  # python3 itself is one of the packages the grader needs.
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q --no-install-recommends python3
  lab=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lab"])' "$src/autograder.json")
}
ref=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["reference"])' "$src/autograder.json")
"$course/scripts/deps.sh" core

# C++20 needs g++ 12 and the project CMake 3.25: older Ubuntu images get both.
if [ "$(g++ -dumpversion | cut -d. -f1)" -lt 12 ]; then
  echo "setup.sh: g++ $(g++ -dumpversion) is too old for C++20; installing g++-12"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends g++-12
  export CXX=g++-12  # cached by the first configure below: every later build uses it
fi
if ! printf '3.25\n%s\n' "$(cmake --version | head -1 | awk '{print $3}')" | sort -V -C; then
  echo "setup.sh: CMake $(cmake --version | head -1 | awk '{print $3}') is too old; installing a newer one with pip"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-pip
  python3 -m pip install -q 'cmake>=3.25,<4'
  hash -r
fi

# The first build of the pristine course, with the options run_autograder's
# `make grade` uses (so it reuses every object).
(cd "$course" && GORT_GRADE_BUILD_ONLY=1 scripts/grade.sh "$lab" "$ref" "")
# The points of labs 01..NN, from the graders themselves: run_autograder
# gives a submission that does not compile 0 out of these.
python3 - "$course" "$lab" >"$src/max_score.tmp" <<'PY' && mv "$src/max_score.tmp" "$src/max_score" || rm -f "$src/max_score.tmp"
import sys
from pathlib import Path
course, lab = Path(sys.argv[1]), sys.argv[2]
sys.path.insert(0, str(course / "grader"))
import gradelib
total = 0
for line in (course / "build" / "grade" / "grade-manifest.txt").read_text().splitlines():
    nn, _, exe = line.split(" ", 2)
    if nn <= lab:
        total += sum(t["points"] for t in gradelib.manifest(exe))
print(total)
PY
# Tests run as an unprivileged user (GRADE_RUN_AS, see run_autograder): it
# must be able to read the graders.
chmod -R a+rX "$src"
echo "setup.sh: ready to grade lab $lab${ref:+ with REFERENCE=$ref}"
