#!/usr/bin/env python3
"""Draws a gort execution trace (GORT_TRACE=path.json) as an SVG timeline.

Usage: scripts/trace_timeline.py TRACE.json [-o OUT.svg] [--tracks m,p,g]
                                  [--from US] [--to US] [--logical] [--width PX]

One lane per M (OS thread), per P and per goroutine, as in Perfetto: a
goroutine's runs are boxes coloured by its id (the same colour on every lane),
a spinning M is a grey hatched box, an idle M a pale one; a goroutine lane
shows its states (running, runnable, waiting with the reason). Instants
(go, park, ready, yield, steal, exit) are ticks under the lane, and each
ready is joined to the run it caused by an arrow when the picture is small
enough to read them.

--logical spaces the events evenly in the order they happened instead of by
time: on one P the order is deterministic, so the picture is the same on
every run (`make diagrams` uses it). Python 3 standard library only.
"""
import argparse
import colorsys
import json
import sys
from xml.sax.saxutils import escape

LANE_H = 22
GAP = 6
LEFT = 92
TOP = 34


def colour(g):
    h = (int(g) * 0.6180339887) % 1.0
    r, gg, b = colorsys.hls_to_rgb(h, 0.62, 0.55)
    return "#%02x%02x%02x" % (int(r * 255), int(gg * 255), int(b * 255))


STATE_FILL = {"runnable": "#f2d16b", "waiting": "#c9c9c9", "syscall": "#e08a6f"}


def load(path):
    with open(path) as f:
        t = json.load(f)
    return t["traceEvents"] if isinstance(t, dict) else t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("-o", "--output", default=None, help="SVG file (default: TRACE.svg)")
    ap.add_argument("--tracks", default="m,p,g", help="lanes to draw: m, p, g (comma-separated)")
    ap.add_argument("--from", dest="t_from", type=float, default=None, help="start, µs")
    ap.add_argument("--to", dest="t_to", type=float, default=None, help="end, µs")
    ap.add_argument("--logical", action="store_true", help="events evenly spaced, in order")
    ap.add_argument("--width", type=int, default=1100)
    ap.add_argument("--max-goroutines", type=int, default=24, help="goroutine lanes at most")
    ap.add_argument("--title", default=None)
    a = ap.parse_args()
    events = load(a.trace)
    want = set(a.tracks.split(","))

    names = {}  # (pid, tid) -> lane name
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            names[(e["pid"], e["tid"])] = e["args"]["name"]
    slices = [e for e in events if e.get("ph") == "X"]
    instants = [e for e in events if e.get("ph") == "i"]
    # The range covers the instants too: a goroutine's exit can come after the
    # last slice ends (main's, as the run stops), and must not be cut off.
    t_lo = a.t_from if a.t_from is not None else min(
        [e["ts"] for e in slices] + [e["ts"] for e in instants], default=0)
    t_hi = a.t_to if a.t_to is not None else max(
        [e["ts"] + e["dur"] for e in slices] + [e["ts"] for e in instants], default=1)
    if t_hi <= t_lo:
        t_hi = t_lo + 1

    def visible(b, e):
        return e >= t_lo and b <= t_hi

    # Lanes, in order: Ms, Ps, goroutines.
    lanes = []
    pid_of = {"m": 1, "p": 2, "g": 3}
    for key in ("m", "p", "g"):
        if key not in want:
            continue
        tids = sorted({e["tid"] for e in slices + instants
                       if e["pid"] == pid_of[key] and visible(e["ts"], e["ts"] + e.get("dur", 0))}
                      | {t for (p, t) in names if p == pid_of[key] and key != "g"})
        if key == "g":
            tids = tids[: a.max_goroutines]
        lanes += [(pid_of[key], t) for t in tids]
    lane_y = {lane: TOP + i * (LANE_H + GAP) for i, lane in enumerate(lanes)}

    # Time → x: linear, or by the rank of each distinct timestamp (--logical).
    plot_w = a.width - LEFT - 20
    if a.logical:
        stamps = sorted({round(v, 3) for e in slices + instants
                         for v in (e["ts"], e["ts"] + e.get("dur", 0)) if t_lo <= v <= t_hi})
        rank = {v: i for i, v in enumerate(stamps)}
        n = max(len(stamps) - 1, 1)

        def x(t):
            t = min(max(round(t, 3), t_lo), t_hi)
            if t not in rank:  # clamp to the nearest known stamp
                t = min(stamps, key=lambda s: abs(s - t))
            return LEFT + plot_w * rank[t] / n
    else:
        def x(t):
            t = min(max(t, t_lo), t_hi)
            return LEFT + plot_w * (t - t_lo) / (t_hi - t_lo)

    height = TOP + len(lanes) * (LANE_H + GAP) + 40
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="11">' % (a.width, height),
           '<defs><pattern id="spin" width="6" height="6" patternUnits="userSpaceOnUse" '
           'patternTransform="rotate(45)"><rect width="6" height="6" fill="#eee"/>'
           '<line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern>'
           '<marker id="arr" markerWidth="6" markerHeight="6" refX="5" refY="3" orient="auto">'
           '<path d="M0,0 L6,3 L0,6 z" fill="#555"/></marker></defs>',
           '<rect width="100%" height="100%" fill="white"/>']
    title = a.title or "gort trace: " + a.trace.split("/")[-1]
    out.append('<text x="%d" y="18" font-size="13" font-weight="bold">%s</text>'
               % (LEFT, escape(title)))
    for lane, y in lane_y.items():
        label = names.get(lane, ("M%d" if lane[0] == 1 else "P%d" if lane[0] == 2 else "G%d")
                          % lane[1])
        out.append('<text x="%d" y="%d" text-anchor="end">%s</text>'
                   % (LEFT - 8, y + LANE_H * 0.7, escape(label)))
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#ddd"/>'
                   % (LEFT, y + LANE_H, a.width - 20, y + LANE_H))

    run_at = {}  # bind_id -> (x, y) of the run it ends at
    src_at = {}
    for e in sorted(slices, key=lambda e: (e["ts"], -e["dur"])):
        lane = (e["pid"], e["tid"])
        if lane not in lane_y or not visible(e["ts"], e["ts"] + e["dur"]):
            continue
        y = lane_y[lane]
        x0, x1 = x(e["ts"]), x(e["ts"] + e["dur"])
        cat, name = e.get("cat"), e.get("name", "")
        # Times in the tooltips, but not in --logical pictures (they must not vary).
        tip = ("<title>%s</title>" % escape(name) if a.logical else
               "<title>%s %.3f µs +%.3f</title>" % (escape(name), e["ts"], e["dur"]))
        if cat == "run":
            g = e["args"]["g"]
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" stroke="#333" '
                       'stroke-width="0.5">%s</rect>' % (x0, y, max(x1 - x0, 1), LANE_H,
                                                          colour(g), tip))
            if x1 - x0 > 24:
                out.append('<text x="%.1f" y="%d">%s</text>' % (x0 + 3, y + 15, escape(name)))
            if e.get("flow_in"):
                run_at[e["bind_id"]] = (x0, y + LANE_H / 2)
        elif cat == "spin":
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="url(#spin)">%s'
                       '</rect>' % (x0, y + 4, max(x1 - x0, 1), LANE_H - 8, tip))
        elif cat == "idle":
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#f4f4f4">%s</rect>'
                       % (x0, y + 6, max(x1 - x0, 1), LANE_H - 12, tip))
            if x1 - x0 > 40:
                out.append('<text x="%.1f" y="%d" fill="#999">idle</text>' % (x0 + 3, y + 15))
        elif cat == "syscall":
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="6" fill="#e08a6f">%s</rect>'
                       % (x0, y + LANE_H - 6, max(x1 - x0, 1), tip))
        elif cat == "state":
            st = name.split(" ")[0]
            fill = colour(e["args"]["g"]) if st == "running" else STATE_FILL.get(st, "#ddd")
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s">%s</rect>'
                       % (x0, y + 3, max(x1 - x0, 1), LANE_H - 6, fill, tip))
            if x1 - x0 > 6 * len(name):
                out.append('<text x="%.1f" y="%d">%s</text>' % (x0 + 3, y + 15, escape(name)))
        elif cat == "flow":
            src_at[e["bind_id"]] = (x0, y + LANE_H)
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#222">%s</line>'
                       % (x0, y + LANE_H - 5, x0, y + LANE_H + 3, tip))
    tick = {"park": "#c0392b", "yield": "#2471a3", "exit": "#333", "steal": "#8e44ad",
            "preempt": "#d35400", "handoff": "#d35400", "p": "#aaa"}
    for e in instants:
        lane = (e["pid"], e["tid"])
        if lane not in lane_y or not visible(e["ts"], e["ts"]):
            continue
        y, x0 = lane_y[lane], x(e["ts"])
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1.5">'
                   '<title>%s</title></line>' % (x0, y + LANE_H - 4, x0, y + LANE_H + 4,
                                                 tick.get(e.get("cat"), "#666"),
                                                 escape(e.get("name", ""))))
    arrows = [(src_at[k], run_at[k]) for k in run_at if k in src_at]
    if len(arrows) <= 400:
        for (sx, sy), (rx, ry) in arrows:
            out.append('<path d="M%.1f,%.1f L%.1f,%.1f" stroke="#555" stroke-width="0.7" '
                       'fill="none" marker-end="url(#arr)" opacity="0.6"/>' % (sx, sy, rx, ry))
    # Time axis.
    ya = TOP + len(lanes) * (LANE_H + GAP) + 12
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>'
               % (LEFT, ya, a.width - 20, ya))
    if a.logical:
        out.append('<text x="%d" y="%d" fill="#555">events in order (not to time scale)</text>'
                   % (LEFT, ya + 16))
    else:
        for k in range(6):
            t = t_lo + (t_hi - t_lo) * k / 5
            out.append('<text x="%.1f" y="%d" text-anchor="middle">%.1f µs</text>'
                       % (x(t), ya + 16, t))
    out.append("</svg>")
    path = a.output or (a.trace.rsplit(".", 1)[0] + ".svg")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"{path}: {len(lanes)} lanes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
