#!/usr/bin/env python3
"""Checks an execution trace written by gort (GORT_TRACE=path.json).

Usage: scripts/trace_check.py TRACE.json [--goroutines N]

Two layers of checks, each printed as a numbered failure:
  1. The Chrome trace-event format that Perfetto and chrome://tracing read:
     a JSON object with a "traceEvents" list; every event has a name, a known
     phase, integer pid/tid and a timestamp; complete slices ("X") have a
     non-negative duration and nest properly on their track (no partial
     overlap); every flow arrow that ends somewhere ("flow_in") starts at one
     "flow_out" with the same bind_id, no later.
  2. What gort's scheduler promises (docs/TRACING.md): a goroutine never runs
     on two Ms at once; its first run comes after its creation; a run after a
     park comes after a ready; nothing runs after its exit; each run's
     incoming arrow comes from an event about the same goroutine. With
     --goroutines N, exactly N goroutines were created.

Exit status 0 when every check passes, 1 otherwise. Python 3 standard library only.
"""
import argparse
import collections
import json
import sys

PHASES = {"X", "B", "E", "i", "I", "M", "s", "t", "f", "C", "b", "e", "n"}
EPS = 0.0005  # µs: timestamps carry nanoseconds as three decimals


def check(trace, goroutines=None):
    errors = []

    def fail(msg):
        errors.append(msg)

    if not isinstance(trace, dict) or not isinstance(trace.get("traceEvents"), list):
        return ["the top level must be an object with a 'traceEvents' list"]
    events = trace["traceEvents"]

    # ---- 1. the format ---------------------------------------------------------------------------
    tracks = collections.defaultdict(list)
    flow_out, flow_in = {}, []
    for i, e in enumerate(events):
        where = f"event {i} ({e.get('name') if isinstance(e, dict) else e!r})"
        if not isinstance(e, dict):
            fail(f"{where}: not an object")
            continue
        if not isinstance(e.get("name"), str):
            fail(f"{where}: no string 'name'")
        ph = e.get("ph")
        if ph not in PHASES:
            fail(f"{where}: unknown phase {ph!r}")
            continue
        for k in ("pid", "tid"):
            if not isinstance(e.get(k), int):
                fail(f"{where}: '{k}' must be an integer")
        if "args" in e and not isinstance(e["args"], dict):
            fail(f"{where}: 'args' must be an object")
        if ph == "M":
            continue
        ts = e.get("ts")
        if not isinstance(ts, (int, float)) or ts < 0:
            fail(f"{where}: 'ts' must be a non-negative number")
            continue
        if ph == "X":
            dur = e.get("dur")
            if not isinstance(dur, (int, float)) or dur < 0:
                fail(f"{where}: a complete event needs a non-negative 'dur'")
                continue
            tracks[(e["pid"], e["tid"])].append((ts, ts + dur, e))
        if ph in ("i", "I") and e.get("s", "t") not in ("t", "p", "g"):
            fail(f"{where}: instant scope must be t, p or g")
        if "bind_id" in e:
            if e.get("flow_out"):
                if e["bind_id"] in flow_out:
                    fail(f"{where}: flow {e['bind_id']} starts twice")
                flow_out[e["bind_id"]] = e
            if e.get("flow_in"):
                flow_in.append(e)
    for (pid, tid), slices in tracks.items():
        slices.sort(key=lambda s: (s[0], -s[1]))
        stack = []  # ends of the open slices, innermost last
        for b, end, e in slices:
            while stack and stack[-1] <= b + EPS:
                stack.pop()
            if stack and end > stack[-1] + EPS:
                fail(f"track {pid}/{tid}: slice '{e['name']}' [{b}, {end}] overlaps the end "
                     f"of the slice it starts in (ends {stack[-1]})")
            stack.append(end)
    for e in flow_in:
        src = flow_out.get(e["bind_id"])
        if src is None:
            fail(f"flow {e['bind_id']} into '{e['name']}' at {e['ts']} has no start")
        elif src["ts"] > e["ts"] + EPS:
            fail(f"flow {e['bind_id']} into '{e['name']}' starts after it ends")

    # ---- 2. gort's invariants ------------------------------------------------------------------
    if trace.get("otherData", {}).get("generator") != "gort":
        return errors
    runs = collections.defaultdict(list)  # g -> [(begin, end, event)]
    marks = collections.defaultdict(list)  # g -> [(ts, kind)]
    for e in events:
        if e.get("pid") != 1 or e.get("ph") not in ("X", "i"):
            continue
        g = e.get("args", {}).get("g")
        if g is None:
            continue
        cat = e.get("cat")
        if cat == "run":
            runs[g].append((e["ts"], e["ts"] + e["dur"], e))
            marks[g].append((e["ts"], "run"))
        elif cat == "flow":
            marks[g].append((e["ts"], "go" if e["name"].startswith("go ") else "ready"))
        elif cat in ("park", "yield", "preempt", "exit"):
            marks[g].append((e["ts"], cat))
    created = sum(1 for g in marks for _, k in marks[g] if k == "go")
    if goroutines is not None and created != goroutines:
        fail(f"{created} goroutines created in the trace, expected {goroutines}")
    order = {"go": 0, "ready": 1, "yield": 1, "preempt": 1, "park": 1, "exit": 1, "run": 2}
    for g, rs in runs.items():
        rs.sort(key=lambda r: r[0])
        for (b1, e1, x1), (b2, e2, x2) in zip(rs, rs[1:]):
            if b2 < e1 - EPS:
                fail(f"G{g} runs on two Ms at once: tid {x1['tid']} [{b1}, {e1}] and "
                     f"tid {x2['tid']} from {b2}")
    for g, ms in marks.items():
        ms.sort(key=lambda m: (m[0], order[m[1]]))
        state = "none"  # none, runnable, running, waiting, dead
        for ts, k in ms:
            if k == "go":
                if state not in ("none", "dead"):
                    fail(f"G{g} created at {ts} while {state}")
                state = "runnable"
            elif k == "ready":
                if state == "none" or state == "dead":
                    fail(f"G{g} readied at {ts} but never created (or dead)")
                state = "runnable"
            elif k == "run":
                if state == "none":
                    fail(f"G{g} runs at {ts} before it was created")
                elif state == "waiting":
                    fail(f"G{g} runs at {ts} after a park with no ready in between")
                elif state == "dead":
                    fail(f"G{g} runs at {ts} after its exit")
                state = "running"
            elif k in ("yield", "preempt"):
                state = "runnable"
            elif k == "park":
                state = "waiting"
            elif k == "exit":
                state = "dead"
    for g, rs in runs.items():
        for _, _, e in rs:
            if e.get("flow_in"):
                src = flow_out.get(e.get("bind_id"))
                if src is not None and src.get("args", {}).get("g") != g:
                    fail(f"the arrow into G{g}'s run at {e['ts']} comes from an event about "
                         f"G{src.get('args', {}).get('g')}")
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("--goroutines", type=int, default=None,
                    help="the number of goroutines the run created (main included)")
    a = ap.parse_args()
    try:
        with open(a.trace) as f:
            trace = json.load(f)
    except (OSError, ValueError) as ex:
        print(f"{a.trace}: not readable JSON: {ex}")
        return 1
    errors = check(trace, a.goroutines)
    for i, msg in enumerate(errors[:50], 1):
        print(f"{i}. {msg}")
    if len(errors) > 50:
        print(f"... and {len(errors) - 50} more")
    n = len(trace["traceEvents"]) if isinstance(trace, dict) and "traceEvents" in trace else 0
    print(f"{a.trace}: {n} events, {'OK' if not errors else f'{len(errors)} problems'}")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
