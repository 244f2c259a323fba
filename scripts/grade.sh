#!/usr/bin/env bash
# `make grade LAB=NN [REFERENCE=...] [SANITIZE=thread|address]`: builds the
# student runtime (labs in REFERENCE taken from solution/) and scores lab NN
# plus every earlier lab. With SANITIZE the runtime and graders are built with
# ThreadSanitizer or AddressSanitizer (+UBSan) in their own build directory
# (build/grade-tsan, build/grade-asan), and a sanitizer report fails its test.
set -uo pipefail
lab=$1; ref=$2; san=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
if ! [[ "$lab" =~ ^[0-9]{1,2}$ ]]; then
  echo "usage: make grade LAB=NN [REFERENCE=01,02|all]   e.g. make grade LAB=01" >&2
  exit 2
fi
lab=$(printf '%02d' "$((10#$lab))")
ls -d "$root"/labs/"$lab"-* >/dev/null 2>&1 || { echo "gort: there is no lab $lab (labs: $(cd "$root/labs" && ls -d [0-9]* | tr '\n' ' '))" >&2; exit 2; }
"$root/scripts/deps.sh" core || exit 1
# A sanitized test runs several times slower: unless told otherwise, give it
# three (TSan) or two (ASan) times the usual limit.
case "$san" in
  "") build=${BUILD:-build}/grade ;;
  thread) build=${BUILD:-build}/grade-tsan; export GRADE_TIMEOUT_SCALE=${GRADE_TIMEOUT_SCALE:-3} ;;
  address) build=${BUILD:-build}/grade-asan; export GRADE_TIMEOUT_SCALE=${GRADE_TIMEOUT_SCALE:-2} ;;
  *) echo "usage: make grade LAB=NN SANITIZE=thread|address (got SANITIZE=$san)" >&2; exit 2 ;;
esac
# Only the graders that run (labs 01..NN): grading lab 01 compiles no later lab's tests.
graders=$(cd "$root/labs" && ls -d [0-9][0-9]-* | cut -c1-2 | awk -v l="$lab" '$1 <= l {printf "lab%s_grader ", $1}')
if ! "$root/scripts/build.sh" "$build" "$graders" -DGORT_REFERENCE="$ref" -DGORT_SANITIZE="$san" \
      -DGORT_VERIFY_GRADERS=OFF -DGORT_BUILD_DOCS=OFF; then
  echo >&2
  echo "gort: the lab code does not build, so nothing can be graded: fix the first error above" >&2
  echo "      (or restore a lab's starter with 'make reset LAB=NN', or use REFERENCE= for a lab you are not working on)." >&2
  exit 1
fi
# The Gradescope autograder's setup.sh builds the pristine course once, with
# exactly these options, and grades later (grader/gradescope/).
[ "${GORT_GRADE_BUILD_ONLY:-}" = 1 ] && exit 0
run=(python3 "$root/grader/gradelib.py" grade --build "$build" --lab "$lab" --out "$build/lab$lab")
if [ "$san" = thread ] && [ "$(uname -s)" = Linux ]; then
  # ThreadSanitizer needs its fixed memory layout: with a high
  # vm.mmap_rnd_bits (> 28 on recent kernels) its shadow mapping collides
  # with randomized mappings. Run the tests with ASLR off when possible.
  if setarch "$(uname -m)" -R true 2>/dev/null; then
    run=(setarch "$(uname -m)" -R "${run[@]}")
  fi
fi
exec "${run[@]}"
