#!/usr/bin/env python3
"""Reports a `make grade` run to GitHub Actions and GitHub Classroom.

Used by the student copy's .github/workflows/classroom.yml (the template is
grader/classroom/classroom.yml). Reads the grader's Gradescope results.json
and prints:
  * the "Autograding complete" / "Autograding report" notices GitHub
    Classroom reads the points from (the format of Classroom's own
    autograding-grading-reporter action);
  * a table of points per lab and the lost tests, to $GITHUB_STEP_SUMMARY
    when set (the run's summary page), else to stdout.
Exit status: 0 with full marks, 1 otherwise (also when there are no results:
the code did not compile, and every test scores 0).

    python3 grader/classroom/report.py --lab NN build/grade/labNN/results.json
"""
import argparse
import json
import os
import re
import sys
from collections import defaultdict
from pathlib import Path


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lab", required=True, help="the lab graded (labs 01..NN count)")
    p.add_argument("results")
    args = p.parse_args()
    lab = f"{int(args.lab):02d}"
    per_lab = defaultdict(lambda: [0, 0])
    lost = []
    path = Path(args.results)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = None
    if data is not None:
        for t in data.get("tests", []):
            m = re.match(r"lab(\d+): (.*)", t["name"])
            nn = m.group(1) if m else "?"
            per_lab[nn][0] += t.get("score", 0)
            per_lab[nn][1] += t.get("max_score", 0)
            if t.get("score", 0) < t.get("max_score", 0):
                out = t.get("output", "").splitlines() or [""]
                why_lost = out[0] + (": " + out[1] if len(out) > 1 else "")
                lost.append((nn, m.group(2) if m else t["name"], t["max_score"] - t["score"], why_lost))
        total, most = data.get("score", 0), data.get("max_score", sum(v[1] for v in per_lab.values()))
        why = None
    else:
        # No results: the build failed before any test ran (see the Grade step).
        # Each lab is 100 points (the course's rule).
        for nn in (f"{n:02d}" for n in range(1, int(lab) + 1)):
            per_lab[nn] = [0, 100]
        total, most = 0, 100 * int(lab)
        why = (f"No results in {path}: the code does not compile (or the grader did not run), "
               "so every test scores 0. The Grade step's log shows the first error.")
    lines = [f"## gort: {total}/{most} points (labs 01..{lab})", ""]
    if why:
        lines += [why, ""]
    lines += ["| lab | points | of |", "|---|---:|---:|"]
    lines += [f"| {nn} | {s} | {m} |" for nn, (s, m) in sorted(per_lab.items())]
    if lost:
        lines += ["", "Lost points (`make grade LAB=" + lab + "` explains each):", ""]
        lines += [f"- lab {nn}: {name} (-{pts}){': ' + first if first else ''}" for nn, name, pts, first in lost]
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as f:
            f.write("\n".join(lines) + "\n")
    else:
        print("\n".join(lines))
    # What GitHub Classroom reads (workflow "Autograding Tests", job run-autograding-tests).
    print(f"::notice title=Autograding complete::Points {total}/{most}")
    print("::notice title=Autograding report::" + json.dumps({"totalPoints": total, "maxPoints": most}))
    return 0 if data is not None and total == most else 1


if __name__ == "__main__":
    sys.exit(main())
