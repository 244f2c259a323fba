#!/usr/bin/env bash
# `make test`: everything CI runs, in one command.
#
#   1. dev       the finished runtime + every grader variant (reference,
#                pristine starter, mutants) + harness self-test + solution tests
#   2. docs      Doxygen: undocumented public API fails the build
#   3. handout   a copy without solution/ builds and grades (low score, exit ≠ 0)
#   4. consumer  cmake --install + find_package(gort) from an outside project
#   5. fcontext  the reference tests on the Boost.Context switch backend
#   6. asan      ASan+UBSan build of the reference and solution tests
#   7. tsan      TSan build (fiber-annotated switches) of the same
#   8. aarch64   the aarch64 switch under qemu (when the cross tools exist)
#   9. format    every C++ file is clang-format'ed (.clang-format)
#  10. fresh     the README's commands in the README's order on a fresh
#                machine: a build dir configured before the docs and bench
#                tools existed (as `make demo` leaves it) still builds docs
#                and finds Go once they are installed
#  11. autograder the Gradescope zip of lab 01 on a fake /autograder tree
#                (reference: full marks; starter: low; no compile: 0, said
#                so) and the GitHub Classroom report (check-autograder.sh)
#  12. editor    CMakePresets.json lists and configures; clangd reads
#                build/dev's compile commands (.clangd); the devcontainer
#                installs through scripts/deps.sh profiles that exist
# GORT_TEST_ONLY="dev docs" runs a subset (for local iteration; CI runs all).
# Long stress runs are not here: `ctest -L stress` in build/dev runs them.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
B=${BUILD:-build}
only=" ${GORT_TEST_ONLY:-dev docs handout consumer fcontext asan tsan aarch64 format fresh autograder editor} "
if [ ! -d solution ]; then
  # A student copy: the graders on your own code (make grade LAB=NN explains each point).
  only=" ${GORT_TEST_ONLY:-dev} "
fi

scripts/deps.sh test || exit 1

passed=0; failed=0; summary=()
count_ctest() { # parse ctest's closing line from a log
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -1)
  if [ -n "$line" ]; then
    local total fails
    total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
    fails=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
    passed=$((passed + total - fails)); failed=$((failed + fails))
    return 0
  fi
  return 1
}
run_step() { # name command...
  local name=$1; shift
  [[ "$only" == *" $name "* ]] || return 0
  local log="$B/test-logs/$name.log" start=$SECONDS rc
  mkdir -p "$B/test-logs"
  echo "=== make test: $name ==="
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  if ! count_ctest "$log"; then
    if [ $rc -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  elif [ $rc -ne 0 ] && ! grep -qE ', [1-9][0-9]* tests? failed' "$log"; then
    failed=$((failed + 1))  # the build or a script failed outside ctest
  fi
  summary+=("$(printf '%-9s %-6s %4ss  (log: %s)' "$name" "$([ $rc -eq 0 ] && echo ok || echo FAILED)" $((SECONDS - start)) "$log")")
}

ctest_in() { local dir=$1; shift; ctest --test-dir "$dir" -j"$JOBS" --output-on-failure --timeout 300 "$@"; }

step_dev() {
  scripts/build.sh "$B/dev" all && ctest_in "$B/dev" -LE stress
}
step_docs() { scripts/build.sh "$B/dev" docs; }
step_handout() { scripts/check-handout.sh "$B/handout-check"; }
step_consumer() { scripts/check-consumer.sh "$B/dev"; }
variant() { # dir label-regex cmake-options...
  local dir=$1 labels=$2; shift 2
  scripts/build.sh "$dir" all -DGORT_VERIFY_MUTANTS=OFF -DGORT_BUILD_DOCS=OFF -DGORT_BUILD_EXAMPLES=OFF "$@" &&
    ctest_in "$dir" -L "$labels" -LE stress
}
step_fcontext() { variant "$B/fcontext" 'reference|solution|harness' -DGORT_SWITCH_BACKEND=fcontext; }
step_asan() { variant "$B/asan" 'reference|solution' -DGORT_SANITIZE=address -DCMAKE_BUILD_TYPE=Debug; }
step_tsan() { variant "$B/tsan" 'reference|solution' -DGORT_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo; }
step_aarch64() { scripts/check-aarch64.sh "$B/aarch64"; }

step_format() {
  git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror &&
    echo "all C++ files are clang-format'ed"
}

# A fresh machine runs `make demo` first: it configures build/dev with only the
# core packages, so CMake caches Doxygen, Graphviz and Go as missing. Recreate
# exactly that cache (the tools are installed by now), then build the docs
# check the way `make test`/`make docs` do: the cached misses must not outlive
# the installation.
step_fresh() {
  local dir=$B/fresh-check
  rm -rf "$dir"
  scripts/build.sh "$dir" help -DGORT_VERIFY_GRADERS=OFF >/dev/null || return 1
  sed -i -E 's/^(DOXYGEN_EXECUTABLE|DOXYGEN_DOT_EXECUTABLE|GORT_GO_EXECUTABLE):([A-Z]+)=.*/\1:\2=\1-NOTFOUND/' "$dir/CMakeCache.txt"
  grep -cE '^(DOXYGEN_EXECUTABLE|DOXYGEN_DOT_EXECUTABLE|GORT_GO_EXECUTABLE):[A-Z]+=.*-NOTFOUND$' "$dir/CMakeCache.txt" |
    grep -qx 3 || { echo "could not fake the fresh-machine cache"; return 1; }
  scripts/build.sh "$dir" docs-api-check || { echo "FAIL: docs after a fresh-machine make demo"; return 1; }
  grep -qE '^GORT_GO_EXECUTABLE:[A-Z]+=/' "$dir/CMakeCache.txt" || { echo "FAIL: Go stays 'not found' after its installation"; return 1; }
  echo "ok: a cache made before the docs and bench tools were installed finds them afterwards"
}

step_autograder() { scripts/check-autograder.sh "$B/autograder-check"; }

# Editors: the presets parse and configure (in a scratch directory: the
# dev build stays as it is), build/dev has compile_commands.json, and clangd
# finds it through .clangd and compiles a lab file without errors.
step_editor() {
  local dir=$B/preset-check presets
  presets=$(cmake --list-presets) || return 1
  for p in dev asan tsan release; do
    grep -q "\"$p\"" <<<"$presets" || { echo "FAIL: CMakePresets.json lacks '$p'"; return 1; }
  done
  rm -rf "$dir"
  cmake --preset dev -B "$dir" -DGORT_VERIFY_GRADERS=OFF -DGORT_BUILD_DOCS=OFF >"$dir.log" 2>&1 &&
    [ -f "$dir/compile_commands.json" ] || { echo "FAIL: cmake --preset dev (log: $dir.log)"; return 1; }
  echo "ok: cmake --list-presets: $(sed -nE 's/^ +"([a-z]+)".*/\1/p' <<<"$presets" | tr '\n' ' ')and --preset dev configures"
  [ -f "$B/dev/compile_commands.json" ] || scripts/build.sh "$B/dev" help >/dev/null || return 1
  [ -f "$B/dev/compile_commands.json" ] || { echo "FAIL: $B/dev has no compile_commands.json"; return 1; }
  if command -v clangd >/dev/null && [ "$B" = build ]; then
    clangd --check=labs/01-threads/note.cpp >"$dir-clangd.log" 2>&1 &&
      grep -q "Compile command from CDB" "$dir-clangd.log" ||
      { echo "FAIL: clangd did not use build/dev's compile commands without errors (log: $dir-clangd.log)"; return 1; }
    echo "ok: clangd reads build/dev/compile_commands.json (.clangd) and checks labs/01-threads/note.cpp: 0 errors"
  fi
  python3 - <<'PY' || return 1
import json, re
d = json.load(open(".devcontainer/devcontainer.json"))
assert d["build"]["dockerfile"] == "Dockerfile", d
known = set(re.findall(r"^\s+\[([a-z]+)\]=", open("scripts/deps.sh").read(), re.M)) | {"test", "demo"}
used = re.findall(r"^RUN\s+\S*deps\.sh\s+([a-z ]+?)\s*(?:&&|$)", open(".devcontainer/Dockerfile").read(), re.M)
assert used and set(used[0].split()) <= known, f"Dockerfile profiles {used} not in deps.sh {known}"
print(f"ok: .devcontainer parses; its Dockerfile installs deps.sh profiles {used[0].split()}")
PY
}

run_step dev step_dev
run_step docs step_docs
run_step handout step_handout
run_step consumer step_consumer
run_step fcontext step_fcontext
run_step asan step_asan
run_step tsan step_tsan
run_step aarch64 step_aarch64
run_step format step_format
run_step fresh step_fresh
run_step autograder step_autograder
run_step editor step_editor

echo
echo "=== make test summary ==="
printf '  %s\n' "${summary[@]}"
echo "tests: $passed passed, $failed failed"
[ $failed -eq 0 ]
