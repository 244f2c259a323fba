#!/usr/bin/env python3
"""Runs graders, scores them, and proves them right.

Every graded test runs in its own process under a wall-clock limit, so a
crash or a hang costs only that test's points. Outcomes:
  PASS   the test case passed
  FAIL   an assertion failed, an exception escaped, or the runtime panicked
  CRASH  the process died of a signal (named)
  HANG   the limit was hit: SIGQUIT asks the grader to print its state (the
         goroutines, Ps and Ms once the runtime exists), then SIGKILL.

Commands:
  grade    --build DIR --lab NN [--out DIR]   score labs 01..NN (make grade)
  verify   --mode starter|mutant --lab NN --exe EXE [--expect-file F]
           prove a grader: the pristine starter fails lab NN's tests and passes
           the earlier labs'; a mutant is caught by the tests its EXPECT names
  selftest --exe EXE --out DIR                check the harness on a grader whose
           tests pass, fail, crash, hang and throw on purpose
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manifest(exe):
    out = subprocess.run([exe, "--gort-manifest"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def scaled(seconds):
    return float(seconds) * float(os.environ.get("GRADE_TIMEOUT_SCALE", "1") or 1)


def signal_name(num):
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


REASON_PATTERNS = ("ERROR:", "values:", "logged:", "threw exception", "panic:", "fatal error:",
                   "not implemented", "TODO", "HANG:", "Sanitizer", "Assertion")


def failure_reason(output, limit=6):
    lines = []
    for line in output.splitlines():
        s = line.strip()
        if s and any(p in s for p in REASON_PATTERNS) and s not in lines:
            lines.append(s)
        if len(lines) >= limit:
            break
    return lines


def run_test(exe, test, timeout):
    """Runs one doctest case of exe in a fresh process; returns a result dict."""
    cmd = [exe, f"--test-case={test['name']}", "--no-colors", "--no-version"]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    hung = False
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        hung = True
        try:
            os.kill(proc.pid, signal.SIGQUIT)  # the grader prints its state, then exits
            out, _ = proc.communicate(timeout=3)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        except ProcessLookupError:
            out, _ = proc.communicate()
    elapsed = time.monotonic() - start
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # threads or children left behind
    except (ProcessLookupError, PermissionError):
        pass
    output = out.decode("utf-8", "replace")
    rc = proc.returncode
    if hung:
        outcome, reason = "HANG", [f"did not finish within {timeout:g}s (time limit; "
                                   "GRADE_TIMEOUT_SCALE raises it on a slow machine)"]
        if "=== HANG:" in out.decode("utf-8", "replace"):
            reason.append("the log starts the hang evidence at '=== HANG' (goroutines, Ps, Ms at the limit)")
    elif rc < 0:
        outcome, reason = "CRASH", [f"killed by {signal_name(-rc)}"] + failure_reason(output)
    elif rc == 0:
        m = re.search(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed", output)
        if m and int(m.group(1)) == 1 and int(m.group(2)) == 1:
            outcome, reason = "PASS", []
        else:
            outcome, reason = "FAIL", ["grader problem: the test case did not run "
                                       "(is its name unique and free of , * ? [ ]?)"]
    else:
        outcome, reason = "FAIL", failure_reason(output) or [f"exit code {rc}"]
    return dict(test, outcome=outcome, reason=reason, time=elapsed, output=output,
                exe=str(exe), score=test["points"] if outcome == "PASS" else 0)


def slug(text):
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:80]


def write_reports(results, out_dir, title):
    out_dir.mkdir(parents=True, exist_ok=True)
    logs = out_dir / "logs"
    logs.mkdir(exist_ok=True)
    for r in results:
        r["log"] = logs / f"lab{r['lab']}-{slug(r['name'])}.log"
        r["log"].write_text(r["output"])
    score = sum(r["score"] for r in results)
    max_score = sum(r["points"] for r in results)
    gradescope = {
        "score": score,
        "max_score": max_score,
        "visibility": "visible",
        "stdout_visibility": "visible",
        "execution_time": round(sum(r["time"] for r in results), 3),
        "tests": [{
            "name": f"lab{r['lab']}: {r['name']}",
            "score": r["score"],
            "max_score": r["points"],
            "status": "passed" if r["outcome"] == "PASS" else "failed",
            "output": r["outcome"] + ("" if not r["reason"] else "\n" + "\n".join(r["reason"]))
                      + (f"\nRead {r['handout']}, section \"{r['section']}\"." if r["outcome"] != "PASS" else ""),
            "visibility": "visible",
        } for r in results],
    }
    (out_dir / "results.json").write_text(json.dumps(gradescope, indent=2) + "\n")

    suites = ET.Element("testsuites", name=title, tests=str(len(results)),
                        failures=str(sum(r["outcome"] == "FAIL" for r in results)),
                        errors=str(sum(r["outcome"] in ("CRASH", "HANG") for r in results)))
    for lab in sorted({r["lab"] for r in results}):
        rs = [r for r in results if r["lab"] == lab]
        suite = ET.SubElement(suites, "testsuite", name=f"lab{lab}", tests=str(len(rs)),
                              failures=str(sum(r["outcome"] == "FAIL" for r in rs)),
                              errors=str(sum(r["outcome"] in ("CRASH", "HANG") for r in rs)),
                              time=f"{sum(r['time'] for r in rs):.3f}")
        for r in rs:
            case = ET.SubElement(suite, "testcase", classname=f"lab{lab}", name=r["name"],
                                 time=f"{r['time']:.3f}")
            if r["outcome"] != "PASS":
                tag = "failure" if r["outcome"] == "FAIL" else "error"
                el = ET.SubElement(case, tag, type=r["outcome"],
                                   message="; ".join(r["reason"])[:500])
                el.text = r["output"][-20000:]
            ET.SubElement(case, "system-out").text = r["output"][-20000:]
    ET.ElementTree(suites).write(out_dir / "junit.xml", encoding="utf-8", xml_declaration=True)
    return score, max_score


def print_results(results, out_dir):
    width = max((len(r["name"]) for r in results), default=20)
    current = None
    for r in results:
        if r["lab"] != current:
            current = r["lab"]
            print(f"\n== lab {current} ==")
        print(f"  {r['name']:<{width}}  {r['score']:>3}/{r['points']:<3} {r['time']:6.2f}s  {r['outcome']}")
        if r["outcome"] != "PASS":
            for line in r["reason"]:
                print(f"      {line}")
            print(f"      -> read {r['handout']}, section \"{r['section']}\"; full log: {r['log']}")
    print()
    labs = sorted({r["lab"] for r in results})
    for lab in labs:
        rs = [r for r in results if r["lab"] == lab]
        print(f"  lab {lab}: {sum(r['score'] for r in rs)}/{sum(r['points'] for r in rs)}")


def cmd_grade(args):
    build = Path(args.build)
    entries = []
    for line in (build / "grade-manifest.txt").read_text().splitlines():
        nn, timeout, exe = line.split(" ", 2)
        entries.append((nn, float(timeout), exe))
    wanted = [e for e in entries if e[0] <= args.lab]
    if not any(e[0] == args.lab for e in entries):
        sys.exit(f"There is no lab {args.lab} here (labs: {', '.join(e[0] for e in entries)}).")
    results = []
    for nn, timeout, exe in wanted:
        for test in manifest(exe):
            r = run_test(exe, test, timeout)
            results.append(r)
            sys.stdout.write("." if r["outcome"] == "PASS" else r["outcome"][0])
            sys.stdout.flush()
    print()
    out_dir = Path(args.out or build / "grade" / f"lab{args.lab}")
    score, max_score = write_reports(results, out_dir, f"lab{args.lab}")
    print_results(results, out_dir)
    print(f"\nScore: {score}/{max_score}")
    print(f"(reports: {out_dir}/results.json, {out_dir}/junit.xml)")
    return 0 if score == max_score else 1


def read_expect(path):
    names = []
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.append(line)
    return names


def cmd_verify(args):
    tests = manifest(args.exe)
    if args.mode == "starter":
        bad = []
        for t in tests:
            r = run_test(args.exe, t, args.timeout)
            mine = t["lab"] == args.lab
            ok = (r["outcome"] != "PASS") if mine else (r["outcome"] == "PASS")
            print(f"  lab{t['lab']}: {t['name']}: {r['outcome']}"
                  f" ({'expected' if ok else 'WRONG'}: {'must fail on the starter' if mine else 'earlier lab, must pass'})")
            if not ok:
                bad.append(r)
        mine = [t for t in tests if t["lab"] == args.lab]
        if not mine:
            print(f"lab {args.lab} has no graded tests")
            return 1
        if bad:
            for r in bad:
                print(f"\n--- output of {r['name']} ---\n{r['output'][-4000:]}")
            print(f"\nFAILED: {len(bad)} test(s) did not behave as the starter requires")
            return 1
        print(f"OK: the pristine starter fails all {len(mine)} lab {args.lab} tests; earlier labs pass")
        return 0
    # mutant
    expect = read_expect(args.expect_file)
    by_name = {t["name"]: t for t in tests}
    missing = [n for n in expect if n not in by_name]
    if not expect or missing:
        print(f"EXPECT names no test of this grader: {missing or '(empty)'}")
        return 1
    survived = []
    for n in expect:
        r = run_test(args.exe, by_name[n], args.timeout)
        print(f"  {n}: {r['outcome']}" + ("" if r["outcome"] == "PASS" else " -- caught: " + "; ".join(r["reason"][:2])))
        if r["outcome"] == "PASS":
            survived.append(n)
    if survived:
        print(f"FAILED: the mutant survived {survived}: the grader does not catch this bug")
        return 1
    print("OK: the mutant is caught")
    return 0


def cmd_selftest(args):
    tests = manifest(args.exe)
    results = [run_test(args.exe, t, 3) for t in tests]
    out_dir = Path(args.out)
    score, max_score = write_reports(results, out_dir, "selftest")
    print_results(results, out_dir)
    got = {r["name"]: r for r in results}
    expected = {
        "selftest passes": ("PASS", None),
        "selftest fails an assertion": ("FAIL", "off by one"),
        "selftest crashes": ("CRASH", "SIGSEGV"),
        "selftest hangs": ("HANG", "HANG: the time limit was hit"),
        "selftest throws": ("FAIL", "boom"),
        "selftest passes after the others": ("PASS", None),
    }
    errors = []
    for name, (outcome, needle) in expected.items():
        r = got.get(name)
        if r is None:
            errors.append(f"{name}: missing from the manifest")
            continue
        if r["outcome"] != outcome:
            errors.append(f"{name}: {r['outcome']}, expected {outcome}")
        if needle and needle not in ("\n".join(r["reason"]) + r["output"]):
            errors.append(f"{name}: '{needle}' not in the reason or output")
    if score != 20 or max_score != 56:
        errors.append(f"score {score}/{max_score}, expected 20/56")
    data = json.loads((out_dir / "results.json").read_text())
    for key in ("score", "max_score", "tests"):
        if key not in data:
            errors.append(f"results.json lacks '{key}'")
    for t in data.get("tests", []):
        if not isinstance(t.get("output"), str) or {"name", "score", "max_score", "visibility"} - t.keys():
            errors.append(f"results.json test entry malformed: {t}")
    junit = ET.parse(out_dir / "junit.xml").getroot()
    if len(junit.findall(".//testcase")) != len(expected):
        errors.append("junit.xml does not list every test")
    if errors:
        print("HARNESS SELFTEST FAILED:\n  " + "\n  ".join(errors))
        return 1
    print("OK: PASS, FAIL, CRASH and HANG are told apart, later tests still run, reports are valid")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("grade")
    g.add_argument("--build", required=True)
    g.add_argument("--lab", required=True)
    g.add_argument("--out")
    v = sub.add_parser("verify")
    v.add_argument("--mode", choices=["starter", "mutant"], required=True)
    v.add_argument("--lab", required=True)
    v.add_argument("--exe", required=True)
    v.add_argument("--timeout", type=float, default=10)
    v.add_argument("--expect-file")
    s = sub.add_parser("selftest")
    s.add_argument("--exe", required=True)
    s.add_argument("--out", required=True)
    args = p.parse_args()
    if getattr(args, "lab", None):
        args.lab = f"{int(args.lab):02d}"
    return {"grade": cmd_grade, "verify": cmd_verify, "selftest": cmd_selftest}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
