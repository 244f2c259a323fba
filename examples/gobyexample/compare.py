#!/usr/bin/env python3
"""Runs one Go by Example chapter on gort and in Go, and compares what they print.

Used by the `gobyexample/<chapter>` ctest tests (examples/gobyexample/CMakeLists.txt).
The Go program is built here, offline (GOPATH mode, caches inside the build
directory), then both programs run with a time limit and must exit 0. Their
outputs are compared line by line after masking (--mask), segment by segment
(--segments): an exact segment must match line for line, an unordered one
(`N*`) as a multiset, because Go's own output there depends on scheduling.
--ordered REGEX adds that the lines matching REGEX appear in the same order in
both (what one goroutine prints in sequence). --squeeze REGEX collapses each run
of consecutive (masked) lines matching REGEX into one, for output whose line
count depends on timing (the ticks of a ticker). The gort program runs twice: on
the default number of Ps and on one (GORT_PROCS=1).

Without Go, the gort program still runs (and must exit 0), then the test is
skipped with exit code 77 (ctest SKIP_RETURN_CODE) and says how to install Go.
"""
import argparse
import collections
import os
import re
import subprocess
import sys

SKIP = 77


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def run(cmd, env, timeout):
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail(f"{' '.join(cmd)} did not finish within {timeout} s")
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} exited with {p.returncode}\n--- stdout\n{p.stdout}--- stderr\n{p.stderr}")
    return p.stdout.splitlines()


def go_build(go, src, out):
    """Builds src into out unless out is newer; never touches the network."""
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return
    gocache = os.path.join(os.path.dirname(out), "go-cache")
    env = dict(os.environ, GO111MODULE="off", GOFLAGS="", GOCACHE=gocache,
               GOPATH=os.path.join(os.path.dirname(out), "go-path"), GOTOOLCHAIN="local",
               GOPROXY="off")
    p = subprocess.run([go, "build", "-o", out, src], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"go build {src} failed:\n{p.stdout}{p.stderr}")


def parse_segments(spec, n):
    """'3,4*,1' -> [(0,3,exact), (3,7,unordered), (7,8,exact)]; '*' = all unordered."""
    if spec in ("", "exact"):
        return [(0, n, False)]
    if spec == "*":
        return [(0, n, True)]
    out, at = [], 0
    for part in spec.split(","):
        unordered = part.endswith("*")
        k = int(part.rstrip("*"))
        out.append((at, at + k, unordered))
        at += k
    if at != n:
        fail(f"the chapter's output has {n} lines, the segments '{spec}' describe {at}")
    return out


def compare(label, want, got, segments, ordered):
    if len(want) != len(got):
        fail(f"{label}: Go printed {len(want)} lines, gort {len(got)}\n--- Go\n" + "\n".join(want) +
             "\n--- gort\n" + "\n".join(got))
    for lo, hi, unordered in parse_segments(segments, len(want)):
        w, g = want[lo:hi], got[lo:hi]
        if unordered:
            if collections.Counter(w) != collections.Counter(g):
                missing = collections.Counter(w) - collections.Counter(g)
                extra = collections.Counter(g) - collections.Counter(w)
                fail(f"{label}: lines {lo + 1}-{hi} differ as multisets: Go has {dict(missing)} "
                     f"that gort lacks, gort has {dict(extra)} that Go lacks")
        else:
            for i, (a, b) in enumerate(zip(w, g), lo + 1):
                if a != b:
                    fail(f"{label}: line {i} differs: Go {a!r}, gort {b!r}")
    for rx in ordered:
        r = re.compile(rx)
        w = [x for x in want if r.search(x)]
        g = [x for x in got if r.search(x)]
        if w != g:
            fail(f"{label}: the lines matching /{rx}/ come in another order: Go {w}, gort {g}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--gort", required=True, help="the gort program")
    ap.add_argument("--go", required=True, help="the go tool, or - when not found")
    ap.add_argument("--src", required=True, help="the chapter's .go file")
    ap.add_argument("--out", required=True, help="where to build the Go program")
    ap.add_argument("--segments", default="exact")
    ap.add_argument("--mask", action="append", default=[], help="REGEX=>REPLACEMENT")
    ap.add_argument("--ordered", action="append", default=[])
    ap.add_argument("--squeeze", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()

    masks = []
    for m in a.mask:
        rx, _, repl = m.partition("=>")
        masks.append((re.compile(rx), repl))

    squeezes = [re.compile(rx) for rx in a.squeeze]

    def masked(lines):
        for rx, repl in masks:
            lines = [rx.sub(repl, x) for x in lines]
        for rx in squeezes:
            lines = [x for i, x in enumerate(lines)
                     if not (i > 0 and rx.search(x) and rx.search(lines[i - 1]) and x == lines[i - 1])]
        return lines

    env = dict(os.environ)
    env.pop("GORT_PROCS", None)
    gort_out = masked(run([a.gort], env, a.timeout))
    gort_out1 = masked(run([a.gort], dict(env, GORT_PROCS="1"), a.timeout))
    if a.go == "-" or not a.go:
        print("\n".join(gort_out))
        print(f"SKIP: {a.name}: Go is not installed, so there is nothing to compare gort's output "
              "with (sudo apt-get install golang-go, or `make test`, which installs it)")
        sys.exit(SKIP)
    go_build(a.go, a.src, a.out)
    go_out = masked(run([a.out], env, a.timeout))
    compare("default Ps", go_out, gort_out, a.segments, a.ordered)
    compare("GORT_PROCS=1", go_out, gort_out1, a.segments, a.ordered)
    print("\n".join(gort_out))
    print(f"ok: {a.name}: gort prints what Go prints ({len(go_out)} lines, segments "
          f"'{a.segments}', {len(masks)} mask(s), {len(a.ordered)} order check(s))")


if __name__ == "__main__":
    main()
