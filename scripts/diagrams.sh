#!/usr/bin/env bash
# scripts/diagrams.sh [--check] [TRACE_DIAGRAMS_BINARY]
# `make diagrams`: regenerates the committed figures in solution/diagrams/
# from deterministic runs of the finished runtime on one P
# (solution/demo/trace_diagrams.cpp): the timelines are drawn by
# scripts/trace_timeline.py in event order (--logical), the G/M/P queue
# picture and Lab 05's three system-call figures by Graphviz dot from .dot
# files written by the run.
# --check regenerates into a temporary directory and fails if a timeline SVG
# or the .dot differs from the committed one (the dot-rendered SVG is not
# compared: it names the Graphviz version that drew it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -d "$root/solution" ]; then
  echo "diagrams: make diagrams needs solution/ (the instructor's tree); draw your own runs with" \
       "GORT_TRACE=t.json ./prog and scripts/trace_timeline.py t.json" >&2
  exit 1
fi
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
bin=${1:-}
if [ -z "$bin" ]; then
  build=${BUILD:-$root/build}/dev
  "$root/scripts/build.sh" "$build" trace_diagrams >/dev/null
  bin=$(find "$build" -name trace_diagrams -type f -perm -u+x | head -1)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" "$tmp" 2>/dev/null
committed=$root/solution/diagrams
out=$committed
if [ $check = 1 ]; then out=$tmp/out; fi
mkdir -p "$out"
tl="python3 $root/scripts/trace_timeline.py"
$tl "$tmp/lifetime.json" -o "$out/goroutine_lifetime.svg" --logical --tracks m,g \
  --title "One goroutine's lifetime (G2), one P: created, run, waiting (chan, Mutex, sleep), ready, yield, exit" >/dev/null
$tl "$tmp/pingpong.json" -o "$out/pingpong_one_p.svg" --logical --tracks m,p,g \
  --title "Ping-pong over unbuffered channels beside a yielding goroutine, one P (runnext hand-offs)" >/dev/null
cp "$tmp/gmp_queues.dot" "$out/gmp_queues.dot"
syscall_dots="syscall_1.dot syscall_2.dot syscall_3.dot"  # Lab 05: the seed's three figures
for f in $syscall_dots; do cp "$tmp/$f" "$out/$f"; done
if [ $check = 1 ]; then
  bad=0
  for f in goroutine_lifetime.svg pingpong_one_p.svg gmp_queues.dot $syscall_dots; do
    if ! cmp -s "$out/$f" "$committed/$f"; then
      echo "diagrams: solution/diagrams/$f does not regenerate identically (run 'make diagrams' and commit)"
      diff <(head -c 4000 "$committed/$f") <(head -c 4000 "$out/$f") | head -10 || true
      bad=1
    fi
  done
  [ $bad = 0 ] && echo "diagrams: every figure regenerates identically"
  exit $bad
fi
if command -v dot >/dev/null; then
  for f in gmp_queues.dot $syscall_dots; do dot -Tsvg "$out/$f" -o "$out/${f%.dot}.svg"; done
else
  echo "diagrams: Graphviz dot not found: gmp_queues.svg, syscall_*.svg not redrawn (apt-get install graphviz)" >&2
fi
echo "diagrams: written to solution/diagrams/"
