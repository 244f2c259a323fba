#!/usr/bin/env python3
"""Runs graders, scores them, and proves them right.

Every graded test runs in its own process under a wall-clock limit, so a
crash or a hang costs only that test's points. Outcomes:
  PASS   the test case passed: its process sent an authenticated result over a
         private channel (below), not just printed a pass and exited 0
  FAIL   an assertion failed, an exception escaped, the runtime panicked or
         reported a deadlock, a sanitizer reported an error, or the process
         exited without reporting its result
  CRASH  the process died of a signal (named; the log has the fault address
         and a backtrace)
  HANG   the limit was hit: SIGQUIT asks the grader to print its state (the
         goroutines, Ps and Ms once the runtime exists; every thread's kernel
         state and backtrace), then SIGKILL.

Commands:
  grade    --build DIR --lab NN [--out DIR] [--only REGEX]
           score labs 01..NN (make grade); the tests run in a worker process
           this one watches, so a grade that did not finish says so

  verify   --mode starter|mutant --lab NN --exe EXE [--expect-file F]
           prove a grader: the pristine starter fails lab NN's tests and passes
           the earlier labs'; a mutant is caught by the tests its EXPECT names
           (an EXPECT line "every test": no test of the lab may pass)
  selftest --exe EXE --out DIR [--suite harness|chain]
           check the harness on a grader whose tests pass, fail, crash, hang,
           throw and cheat on purpose (chain: under the runtime's own SIGSEGV
           handler)

Environment: GRADE_TIMEOUT_SCALE (time limits, at configure time),
GRADE_RUN_AS=<user> (run the tests as that user; the harness must be root),
GRADE_GDB=1 (add gdb's backtrace of every thread to a hang's log).
"""
import argparse
import hmac
import json
import os
import re
import signal
import secrets
import shutil
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_as():
    """Popen keywords that run code under test as GRADE_RUN_AS (a user name,
    e.g. nobody) when the harness is root; {} otherwise. Use it where the
    grade is official (e.g. an autograder container running as root): a test
    process of another user cannot signal the harness, read or write its
    memory through /proc, or touch the reports (keep the output directory
    writable by root only, and the build readable by that user)."""
    name = os.environ.get("GRADE_RUN_AS")
    if not name:
        return {}
    if os.geteuid() != 0:
        sys.exit("gort: GRADE_RUN_AS needs the grading to run as root")
    import pwd
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        sys.exit(f"gort: GRADE_RUN_AS={name}: no such user")
    return dict(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])


def manifest(exe, extra_env=None):
    """The graded tests of exe, as its main() reports them over a result
    channel (what it prints could come from a static constructor)."""
    chan = Channel()
    env = dict(os.environ, **(extra_env or {}), GORT_GRADER_CHANNEL=chan.env_value())
    proc = subprocess.Popen([exe, "--gort-manifest"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, pass_fds=chan.child_fds(), env=env,
                            start_new_session=True, **run_as())
    chan.start(proc.pid)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    chan.finish()
    got = [f for ok, f in chan.manifests if ok]
    if len(got) != 1 or chan.reports or len(chan.manifests) != 1 or proc.returncode != 0:
        sys.exit(f"gort: {exe} did not report its list of tests (exit code {proc.returncode}); "
                 "its output:\n" + out.decode("utf-8", "replace")[-3000:])
    return json.loads(got[0])


def signal_name(num):
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


REASON_PATTERNS = ("ERROR:", "values:", "logged:", "threw exception", "panic:", "fatal error:",
                   "not implemented", "TODO", "HANG:", "CRASH:", "fault address", "Sanitizer",
                   "Assertion", "MESSAGE:", "runtime error:")
GOROUTINE_LINE = re.compile(r"^goroutine \d+ \[")
SANITIZER_HEAD = re.compile(r"^(==\d+==)?(WARNING|ERROR): (Thread|Address|Leak|UndefinedBehavior)Sanitizer")


def failure_reason(output, limit=24):
    """The lines of a test's output that say why it lost its points, in order:
    assertions with every `logged:` line (doctest prints the 2nd and later
    INFO/CAPTURE lines indented under the first), a deadlock with its
    goroutine list, the first lines of a sanitizer report, crash evidence."""
    lines = []

    def add(s):
        if s and s not in lines and len(lines) < limit:
            lines.append(s)

    raw = output.splitlines()
    i = 0
    while i < len(raw):
        line = raw[i]
        s = line.strip()
        if SANITIZER_HEAD.match(s):
            add(s)
            # each access and thread with its top three frames in the course's
            # code (not the standard library's)
            frames = 0
            for more in raw[i + 1:i + 60]:
                if more.startswith("SUMMARY"):
                    break
                if not more.strip():
                    continue
                if re.match(r"^\s*#\d+ ", more):
                    foreign = any(x in more for x in ("/usr/include/", "/usr/lib", "<null>",
                                                      "libsanitizer", "grader_main.cpp",
                                                      "libc_start", "../sysdeps/", "../csu/",
                                                      " in _start "))
                    if frames >= 3 or foreign:
                        continue
                    frames += 1
                else:
                    frames = 0
                add(more.rstrip())
            i += 1
            continue
        if s.startswith("logged:"):
            add(s)
            while i + 1 < len(raw) and raw[i + 1].startswith("          ") and raw[i + 1].strip():
                i += 1
                add("        " + raw[i].strip())
            i += 1
            continue
        if "all goroutines are asleep" in s:
            add(s)
            gs = [g.strip() for g in raw[i + 1:] if GOROUTINE_LINE.match(g.strip())]
            for g in gs[:12]:
                add("  " + g)
            if len(gs) > 12:
                add(f"  ... and {len(gs) - 12} more goroutines (full list in the log)")
            i += 1
            continue
        if s and any(p in s for p in REASON_PATTERNS):
            add(s)
        i += 1
    return lines


# --- the result channel ---------------------------------------------------------
#
# What a test process prints and its exit code are not evidence: the code under
# test runs inside it and can print doctest's summary and _exit(0), from a test
# or from a static constructor before main(). So each run gets a fresh random
# secret and two pipes (GORT_GRADER_CHANNEL="<read fd>:<write fd>" in the
# child's environment). The grader's main() says "hello <pid>" first thing and
# only then is sent the secret, so there is no secret anywhere while static
# constructors run; after doctest returns, main() sends
#     result <secret> <pid> <rc> <cases run> <cases failed> <asserts> <asserts failed> <name>
# A test passes only if exactly one such line arrives with the right secret,
# the test process's own pid and this test's name, it says one case ran and
# nothing failed, doctest's printed summary agrees, and the process then
# exits 0. No line: FAIL ("exited before reporting its result").
#
# GRADE_RUN_AS=<user> (with the harness running as root) runs every test
# process as that user, which closes the risks below that come from sharing
# the harness's user; use it for official grading.
#
# Residual risks, stated honestly. The code under test shares the process with
# main(): code written *against this harness* can read the secret from the
# process's memory once main() has it, or speak the protocol itself (the fds
# are in /proc/self/fd, the variable in /proc/self/environ). Nothing inside one
# process can stop that; it takes deliberate code that names the harness's
# pipes or scans memory, which a source review finds at once. The tests run as
# the harness's user, so they can signal it; its memory is out of their reach
# (the harness makes itself non-dumpable, so /proc/<ppid>/mem and ptrace need
# CAP_SYS_PTRACE) unless they run as root — which a grade run as root without
# GRADE_RUN_AS gives them. What the harness does about the rest:
#   * killing the harness: `grade` runs the tests in a worker process and
#     watches it; if the worker dies, the grade says so loudly, scores 0 and
#     exits non-zero (killing the watcher too is the same deliberate attack);
#   * processes left behind (e.g. one that setsid()s, waits and then rewrites
#     results.json): the harness is a child subreaper (PR_SET_CHILD_SUBREAPER),
#     so every orphan of a test is re-parented to it; after each test it kills
#     every process descended from it, and a test that left one behind FAILs;
#   * results.json and junit.xml: removed before the first test, written only
#     after the last one, from the harness's own results, by replacing the
#     file (a planted file or symlink is replaced, not followed);
#   * hanging or sleeping: a HANG of that test only, costing only its points.


def _set_child_subreaper():
    """Makes the harness adopt its tests' orphans, and makes it non-dumpable:
    a process of the same (non-root) user can then neither ptrace it nor
    read or write its memory through /proc/<pid>/mem. A test's own process
    is dumpable again after its execve."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
    except (OSError, AttributeError):
        pass


def _descendants(root_pid):
    """(pid, process group) of every live process descended from root_pid."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append((int(entry), int(fields[2])))
    out, todo = [], [root_pid]
    while todo:
        for pid, pgrp in children.get(todo.pop(), []):
            out.append((pid, pgrp))
            todo.append(pid)
    return out


def _reap_orphans():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_leftovers(test_pgrp=None):
    """Kills every process descended from the harness (none should exist
    between tests); returns how many of them had left the test's process
    group (those in it were already sent SIGKILL with the group)."""
    escaped = set()
    for _ in range(50):
        procs = _descendants(os.getpid())
        if not procs:
            break
        for pid, pgrp in procs:
            if pgrp != test_pgrp:
                escaped.add(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.02)  # let the kernel finish the kills before we look again
        _reap_orphans()
    _reap_orphans()
    return len(escaped)


class Channel:
    """The harness's end of one test run's result channel."""

    def __init__(self):
        self.secret = secrets.token_hex(16)
        self.c2h_r, self.c2h_w = os.pipe()
        self.h2c_r, self.h2c_w = os.pipe()
        self.pid = None
        self.hellos = 0
        self.reports = []  # (authentic, fields)
        self.manifests = []  # (authentic, json text)
        self.bad_lines = 0
        self.thread = None

    def child_fds(self):
        return (self.h2c_r, self.c2h_w)

    def env_value(self):
        return f"{self.h2c_r}:{self.c2h_w}"

    def start(self, pid):
        self.pid = pid
        os.close(self.h2c_r)
        os.close(self.c2h_w)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        buf = b""
        with os.fdopen(self.c2h_r, "rb", buffering=0) as f:
            while True:
                try:
                    chunk = f.read(4096)
                except OSError:
                    break
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    self._line(line.decode("utf-8", "replace"))
        if self.h2c_w is not None:
            os.close(self.h2c_w)
            self.h2c_w = None

    def _is_secret(self, text):
        return hmac.compare_digest(text.encode("utf-8", "replace"), self.secret.encode())

    def _line(self, line):
        parts = line.split(" ", 8)
        if parts[0] == "hello" and len(parts) == 2:
            self.hellos += 1
            if self.hellos == 1 and parts[1] == str(self.pid) and self.h2c_w is not None:
                try:
                    os.write(self.h2c_w, (self.secret + "\n").encode())
                except OSError:
                    pass
                os.close(self.h2c_w)
                self.h2c_w = None
        elif parts[0] == "manifest" and len(parts) >= 4:
            rest = line.split(" ", 3)
            authentic = self._is_secret(rest[1]) and rest[2] == str(self.pid)
            self.manifests.append((authentic, rest[3]))
        elif parts[0] == "result" and len(parts) >= 8:
            authentic = self._is_secret(parts[1]) and parts[2] == str(self.pid)
            try:
                fields = dict(rc=int(parts[3]), run=int(parts[4]), failed=int(parts[5]),
                              asserts=int(parts[6]), asserts_failed=int(parts[7]),
                              name=parts[8] if len(parts) > 8 else "")
            except ValueError:
                self.bad_lines += 1
                return
            self.reports.append((authentic, fields))
        else:
            self.bad_lines += 1

    def finish(self):
        if self.thread is not None:
            self.thread.join(timeout=5)
        if self.h2c_w is not None:
            os.close(self.h2c_w)
            self.h2c_w = None


BT_FRAME = re.compile(r"^([^()\s]+)\(\+(0x[0-9a-f]+)\)\s*\[0x[0-9a-f]+\]$")
HARNESS_FRAME = re.compile(r"gort::grader::|^doctest::|^main at .*grader_main\.cpp|^\?\?")


def symbolize(output):
    """Function and file:line of the frames of each backtrace the grader
    printed on a crash or hang (backtrace_symbols_fd prints module+offset),
    innermost first, without the harness's own frames and libc's. Returns
    [(header, [frame, ...]), ...], the thread that crashed or took SIGQUIT
    first; [] without addr2line."""
    tool = shutil.which("addr2line")
    blocks = []
    for line in output.splitlines():
        if line.startswith("backtrace of thread"):
            blocks.append((line.split(" (")[0], []))
            continue
        m = BT_FRAME.match(line)
        if m and blocks and not m.group(1).startswith(("/lib", "/usr/lib")):
            blocks[-1][1].append((m.group(1), int(m.group(2), 16)))
    frames = {f for _, fs in blocks for f in fs}
    if not tool or not frames:
        return []
    names = {}
    for module in {mod for mod, _ in frames}:
        offs = sorted(off for mod, off in frames if mod == module)
        try:
            p = subprocess.run([tool, "-a", "-C", "-f", "-i", "-p", "-e", module]
                               + [hex(max(o - 1, 0)) for o in offs],
                               capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        current = None
        for line in p.stdout.splitlines():
            m = re.match(r"^0x([0-9a-f]+): (.*)$", line)
            if m:
                current = (module, int(m.group(1), 16) + 1)
                names[current] = [m.group(2)]
            elif current and line.strip().startswith("(inlined by)"):
                names[current].append(line.strip()[len("(inlined by)"):].strip())
    out = []
    for header, fs in blocks:
        shown = []
        for frame in fs:
            chain = names.get(frame) or [""]
            # of a chain of inlined calls, the innermost one in the course's code
            name = next((n for n in chain if str(ROOT) in n), chain[0])
            if (not name or HARNESS_FRAME.search(name) or " at ??:" in name or name.endswith(":?")
                    or " at /usr/" in name):
                continue
            shown.append(name.replace(str(ROOT) + "/", ""))
        out.append((header, shown))
    return out


def gdb_backtraces(pid):
    """With GRADE_GDB=1 and gdb installed: every thread's backtrace of a hung
    test, taken by attaching gdb before the hang dump (slow: off by default)."""
    gdb = shutil.which("gdb")
    if os.environ.get("GRADE_GDB") != "1" or not gdb:
        return ""
    try:
        p = subprocess.run([gdb, "-batch", "-nx", "-p", str(pid), "-ex", "thread apply all bt"],
                           capture_output=True, text=True, timeout=60)
        return "\n=== gdb: thread apply all bt ===\n" + p.stdout + "=== end of gdb ===\n"
    except (OSError, subprocess.TimeoutExpired):
        return "\n(gdb did not finish within 60 s)\n"


def doctest_summary_failed(output):
    """True if doctest's printed summary says something failed."""
    for m in re.finditer(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed", output):
        if int(m.group(3)) > 0:
            return True
    return "Status: FAILURE!" in output


def sanitizer_env():
    """Make a sanitizer report fail the test at once, with a recognisable code."""
    env = {}
    tsan = os.environ.get("TSAN_OPTIONS", "")
    env["TSAN_OPTIONS"] = ("halt_on_error=1 exitcode=66 second_deadlock_stack=1 " + tsan).strip()
    asan = os.environ.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = ("exitcode=66 detect_leaks=0 " + asan).strip()
    ubsan = os.environ.get("UBSAN_OPTIONS", "")
    env["UBSAN_OPTIONS"] = ("halt_on_error=1 exitcode=66 print_stacktrace=1 " + ubsan).strip()
    return env


def run_test(exe, test, timeout, extra_env=None):
    """Runs one doctest case of exe in a fresh process; returns a result dict."""
    cmd = [exe, f"--test-case={test['name']}", "--no-colors", "--no-version"]
    chan = Channel()
    env = dict(os.environ)
    env.update(sanitizer_env())
    env.update(extra_env or {})
    env["GORT_GRADER_CHANNEL"] = chan.env_value()
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, pass_fds=chan.child_fds(), env=env,
                            **run_as())
    chan.start(proc.pid)
    # The output is read by a thread, and the test ends when its *process*
    # ends: a process it left behind may hold the pipe open for ever.
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: proc.stdout.read1(65536), b"")),
                              daemon=True)
    reader.start()
    hung = False
    gdb_out = ""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        hung = True
        gdb_out = gdb_backtraces(proc.pid)
        try:
            os.kill(proc.pid, signal.SIGQUIT)  # the grader prints its state, then exits
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            proc.wait()
    elapsed = time.monotonic() - start
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # threads or children left behind
    except (ProcessLookupError, PermissionError):
        pass
    leftovers = kill_leftovers(proc.pid)
    reader.join(timeout=5)
    chan.finish()
    out = b"".join(chunks)
    proc.stdout.close()
    output = out.decode("utf-8", "replace") + gdb_out
    rc = proc.returncode
    blocks = symbolize(output) if ("=== CRASH:" in output or "=== HANG:" in output) else []
    where = []
    if any(fs for _, fs in blocks):
        output += "\nsymbolized backtraces (innermost first, harness and libc frames left out):\n"
        for header, fs in blocks:
            output += f"{header}:\n" + "".join(f"  {w}\n" for w in fs)
        fs = blocks[0][1]
        if fs:
            where = [f"{blocks[0][0]}: {fs[0]}"] + [f"  called from {w}" for w in fs[1:6]]
    authentic = [f for ok, f in chan.reports if ok]
    forged = len(chan.reports) - len(authentic) + chan.bad_lines
    if hung:
        outcome, reason = "HANG", [f"did not finish within {timeout:g}s (time limit; "
                                   "GRADE_TIMEOUT_SCALE raises it on a slow machine)"]
        if "=== HANG:" in output:
            reason.append("the log starts the hang evidence at '=== HANG' (goroutines, Ps, Ms, "
                          "threads at the limit)")
        else:
            reason.append("no hang evidence: the process did not answer SIGQUIT within 5 s "
                          "(it blocks the signal, or a sanitizer holds it back; GRADE_GDB=1 "
                          "attaches gdb instead)")
        reason += where
    elif rc < 0:
        outcome, reason = "CRASH", [f"killed by {signal_name(-rc)}"] + failure_reason(output) + where
    elif not authentic:
        outcome = "FAIL"
        reason = failure_reason(output)
        if rc == 66 and any(SANITIZER_HEAD.match(s.strip()) or "runtime error:" in s
                            for s in output.splitlines()):
            reason.append("a sanitizer found the error above (the test stops at the first report)")
        elif any(("fatal error:" in r or "panic:" in r) for r in reason):
            reason.append(f"(the process exited with code {rc} before the test finished)")
        else:
            reason.append(f"the test process exited before reporting its result (exit code {rc}) "
                          "— did the code under test call exit()/_exit()?")
    else:
        rep = authentic[0]
        if len(authentic) > 1 or forged or chan.hellos != 1 or chan.manifests:
            outcome, reason = "FAIL", ["the result channel was tampered with (extra or forged "
                                       "reports): the test is not scored"]
        elif rep["run"] == 0:
            outcome, reason = "FAIL", ["grader problem: the test case did not run "
                                       "(is its name unique and free of , * ? [ ]?)"]
        elif rep["name"] != test["name"] or rep["run"] != 1:
            outcome, reason = "FAIL", [f"grader problem: ran '{rep['name']}' "
                                       f"({rep['run']} cases), not '{test['name']}'"]
        elif rep["failed"] or rep["asserts_failed"] or rep["rc"] != 0:
            outcome, reason = "FAIL", failure_reason(output) or [f"exit code {rep['rc']}"]
        elif doctest_summary_failed(output):
            outcome, reason = "FAIL", failure_reason(output) + [
                "doctest's printed summary says a test failed; the result report says it "
                "passed: not scored"]
        elif rc != 0:
            outcome, reason = "FAIL", failure_reason(output) + [
                f"the test passed, but the process then exited with code {rc} "
                "(a static destructor or an atexit handler?)"]
        else:
            outcome, reason = "PASS", []
    if leftovers and outcome == "PASS":
        outcome = "FAIL"
    if leftovers:
        reason = reason + [f"the test left {leftovers} process(es) running outside its process "
                           "group after it ended (killed)"]
    return dict(test, outcome=outcome, reason=reason, time=elapsed, output=output,
                exe=str(exe), score=test["points"] if outcome == "PASS" else 0)


def slug(text):
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:80]


def replace_file(path, text):
    """Writes path by renaming a fresh file over it: a file or symlink planted
    there is replaced, never followed or appended to."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        tmp.unlink()
    except FileNotFoundError:
        pass
    with open(tmp, "x") as f:
        f.write(text)
    os.replace(tmp, path)


def clear_reports(out_dir):
    """Removes an earlier run's reports before the first test runs, so nothing
    found there afterwards can be mistaken for this run's."""
    for name in ("results.json", "junit.xml"):
        try:
            (out_dir / name).unlink()
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            shutil.rmtree(out_dir / name)


def write_failed_run(out_dir, message):
    """results.json for a grade that did not finish: score 0 and why."""
    out_dir.mkdir(parents=True, exist_ok=True)
    replace_file(out_dir / "results.json", json.dumps({
        "score": 0, "visibility": "visible", "stdout_visibility": "visible",
        "output": message,
        "tests": [{"name": "grading did not finish", "score": 0, "max_score": 0,
                   "status": "failed", "output": message, "visibility": "visible"}],
    }, indent=2) + "\n")


def write_reports(results, out_dir, title):
    out_dir.mkdir(parents=True, exist_ok=True)
    logs = out_dir / "logs"
    if logs.is_symlink() or not logs.is_dir():
        if logs.is_symlink() or logs.exists():
            logs.unlink()
        logs.mkdir()
    for r in results:
        r["log"] = logs / f"lab{r['lab']}-{slug(r['name'])}.log"
        replace_file(r["log"], r["output"])
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
    replace_file(out_dir / "results.json", json.dumps(gradescope, indent=2) + "\n")

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
    tmp = out_dir / f".junit.xml.{os.getpid()}"
    ET.ElementTree(suites).write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, out_dir / "junit.xml")
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
    out_dir = Path(args.out or build / "grade" / f"lab{args.lab}")
    manifest_path = build / "grade-manifest.txt"
    if not manifest_path.is_file():
        sys.exit(f"gort: {manifest_path} is missing: {build} is not a configured grading build "
                 "(make grade builds one; scripts/grade.sh shows how)")
    entries = []
    for line in manifest_path.read_text().splitlines():
        nn, timeout, exe = line.split(" ", 2)
        entries.append((nn, float(timeout), exe))
    wanted = [e for e in entries if e[0] <= args.lab]
    if not any(e[0] == args.lab for e in entries):
        sys.exit(f"There is no lab {args.lab} here (labs: {', '.join(e[0] for e in entries)}).")
    unbuilt = [exe for nn, _, exe in wanted if not Path(exe).is_file()]
    if unbuilt:
        sys.exit(f"gort: the graders are not built: {', '.join(unbuilt)} "
                 f"(cmake --build {build} --target graders)")
    if not args.worker:
        return supervise_grade(args, out_dir)
    _set_child_subreaper()
    only = re.compile(args.only) if args.only else None
    results = []
    for nn, timeout, exe in wanted:
        for test in manifest(exe):
            if only and not only.search(test["name"]):
                continue
            r = run_test(exe, test, timeout)
            results.append(r)
            sys.stdout.write("." if r["outcome"] == "PASS" else r["outcome"][0])
            sys.stdout.flush()
    print()
    score, max_score = write_reports(results, out_dir, f"lab{args.lab}")
    print_results(results, out_dir)
    print(f"\nScore: {score}/{max_score}")
    print(f"(reports: {out_dir}/results.json, {out_dir}/junit.xml)")
    return 0 if score == max_score else 1


def supervise_grade(args, out_dir):
    """Runs the grade in a worker process and watches it: code under test that
    kills its parent kills only the worker, and the grade then fails loudly
    (score 0 in results.json, non-zero exit) instead of leaving whatever is
    on disk to be read as a result."""
    _set_child_subreaper()
    out_dir.mkdir(parents=True, exist_ok=True)
    clear_reports(out_dir)
    cmd = [sys.executable, str(Path(__file__).resolve())] + sys.argv[1:] + ["--worker"]
    worker = subprocess.Popen(cmd)
    try:
        rc = worker.wait()
    except KeyboardInterrupt:
        rc = worker.wait()
    kill_leftovers()
    finished = rc in (0, 1) and (out_dir / "results.json").is_file()
    if finished:
        return rc
    how = f"was killed by {signal_name(-rc)}" if rc < 0 else f"stopped with exit code {rc}"
    message = (f"GRADING DID NOT FINISH: the process running the tests {how} before it wrote "
               "the results (a test that kills its parent? Ctrl-C?). No score was given; "
               "the results of this run are not valid.")
    write_failed_run(out_dir, message)
    sys.stdout.flush()
    print(f"\n{'!' * 78}\ngort: {message}\n{'!' * 78}", file=sys.stderr)
    print(f"Score: 0 (grading did not finish; {out_dir}/results.json says so)", file=sys.stderr)
    return 3


# An EXPECT line meaning "every graded test of the lab must not pass".
EVERY_TEST = "every test"


def read_expect(path):
    names = []
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.append(line)
    return names


def cmd_verify(args):
    _set_child_subreaper()
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
    if EVERY_TEST in expect:
        # a dishonest submission (e.g. one that forges its results): no test of
        # the lab may pass, so it scores 0 whatever it claims
        expect = [n for n in expect if n != EVERY_TEST]
        expect += [t["name"] for t in tests if t["lab"] == args.lab and t["name"] not in expect]
    missing = [n for n in expect if n not in by_name]
    if not expect or missing:
        print(f"EXPECT names no test of this grader: {missing or '(empty)'}")
        return 1
    survived = []
    for n in expect:
        r = run_test(args.exe, by_name[n], args.timeout)
        print(f"  {n}: {r['outcome']}" + ("" if r["outcome"] == "PASS" else " -- caught: " + "; ".join(r["reason"][-2:])))
        if r["outcome"] == "PASS":
            survived.append(n)
    if survived:
        print(f"FAILED: the mutant survived {survived}: the grader does not catch this bug")
        return 1
    print("OK: the mutant is caught")
    return 0


KILLER_TEST = "selftest kills the harness"


def cmd_selftest_chain(args):
    """The grader's crash handler under the runtime's stack-overflow handler."""
    _set_child_subreaper()
    tests = manifest(args.exe)
    results = [run_test(args.exe, t, 10) for t in tests]
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_reports(results, out_dir, "selftest-chain")
    print_results(results, out_dir)
    got = {r["name"]: r for r in results}
    errors = []
    overflow = got.get("chain: a guard-page fault is still named a stack overflow")
    other = got.get("chain: another fault still crashes with the runtime's handler installed")
    if overflow is None or other is None:
        errors.append("a chain test is missing from the manifest")
    else:
        if overflow["outcome"] != "CRASH" or "stack overflow in goroutine 42" not in overflow["output"]:
            errors.append(f"stack overflow: {overflow['outcome']}, and the log must name the "
                          f"overflow:\n{overflow['output'][-3000:]}")
        if other["outcome"] != "CRASH" or "SIGSEGV" not in "\n".join(other["reason"]):
            errors.append(f"other fault: {other['outcome']} {other['reason']}, expected a CRASH by SIGSEGV")
        if "=== CRASH: SIGSEGV at fault address 0x20" not in other["output"]:
            errors.append("the runtime's fault handler does not forward other faults to the "
                          "previous (grader's) handler: no fault address or backtrace for them")
    if errors:
        print("HARNESS SELFTEST FAILED:\n  " + "\n  ".join(errors))
        return 1
    print("OK: the runtime still names stack overflows under the grader's crash handler, and forwards other faults to it")
    return 0


def cmd_selftest(args):
    if args.suite == "chain":
        return cmd_selftest_chain(args)
    _set_child_subreaper()
    tests = manifest(args.exe)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    clear_reports(out_dir)
    env = {"GORT_SELFTEST_OUT": str(out_dir.resolve())}
    results = [run_test(args.exe, t, 3, env) for t in tests if t["name"] != KILLER_TEST]
    score, max_score = write_reports(results, out_dir, "selftest")
    print_results(results, out_dir)
    got = {r["name"]: r for r in results}
    exited_early = "exited before reporting its result"
    # name: (outcome, [text that must be in the summary's reason lines],
    #        [text that must be in the log])
    expected = {
        "selftest passes": ("PASS", [], []),
        "selftest fails an assertion": ("FAIL", ["off by one"], []),
        "selftest crashes": ("CRASH", ["SIGSEGV", "fault address 0x10", "selftest.cpp:"],
                             ["=== CRASH: SIGSEGV at fault address 0x10", "backtrace of thread"]),
        "selftest hangs": ("HANG", ["HANG"], ["HANG: the time limit was hit",
                                              "threads (from /proc/self/task",
                                              "backtrace of thread", "hang_main_spins"]),
        "selftest throws": ("FAIL", ["boom"], []),
        "selftest passes after the others": ("PASS", [], []),
        "selftest logs several lines": ("FAIL", ["first logged line", "second logged line",
                                                 "round := 3"], []),
        "selftest reports a deadlock": ("FAIL", ["all goroutines are asleep", "before the test finished",
                                                 "goroutine 1 [chan receive]",
                                                 "goroutine 7 [WaitGroup.wait]"], []),
        "selftest reports a sanitizer error": ("FAIL", ["WARNING: ThreadSanitizer: data race",
                                                        "racy_increment"], []),
        "selftest forges a pass by printing and exiting": ("FAIL", [exited_early], []),
        "selftest forges a pass from a static constructor": ("FAIL", [exited_early], []),
        "selftest forges a pass from an atexit handler": ("FAIL", ["claims a pass"], []),
        "selftest forges a result report": ("FAIL", [exited_early], []),
        "selftest plants results.json": ("PASS", [], []),
        "selftest leaves a process behind": ("FAIL", ["process(es) running outside"], []),
    }
    errors = []
    for name, (outcome, in_reason, in_log) in expected.items():
        r = got.get(name)
        if r is None:
            errors.append(f"{name}: missing from the manifest")
            continue
        if r["outcome"] != outcome:
            errors.append(f"{name}: {r['outcome']}, expected {outcome}")
        reason = "\n".join(r["reason"])
        for needle in in_reason:
            if needle not in reason:
                errors.append(f"{name}: '{needle}' not in the summary: {r['reason']}")
        for needle in in_log:
            if needle not in r["output"]:
                errors.append(f"{name}: '{needle}' not in the log")
    hang_log = got.get("selftest hangs", {}).get("output", "")
    if hang_log.count("backtrace of thread") + hang_log.count(": no backtrace (") < 3:
        # the two threads' raw backtraces and the main thread's symbolized one
        errors.append("selftest hangs: the log does not account for both threads' backtraces")
    if set(got) != set(expected):
        errors.append(f"tests not checked by the self-test: {sorted(set(got) - set(expected))}")
    want = sum(t["points"] for t in tests if expected.get(t["name"], ("",))[0] == "PASS")
    want_max = sum(t["points"] for t in tests if t["name"] != KILLER_TEST)
    if score != want or max_score != want_max:
        errors.append(f"score {score}/{max_score}, expected {want}/{want_max}")
    data = json.loads((out_dir / "results.json").read_text())
    if data.get("score") != score:
        errors.append(f"results.json says score {data.get('score')}, the harness counted {score} "
                      "(a planted or rewritten file?)")
    for key in ("score", "max_score", "tests"):
        if key not in data:
            errors.append(f"results.json lacks '{key}'")
    for t in data.get("tests", []):
        if not isinstance(t.get("output"), str) or {"name", "score", "max_score", "visibility"} - t.keys():
            errors.append(f"results.json test entry malformed: {t}")
    junit = ET.parse(out_dir / "junit.xml").getroot()
    if len(junit.findall(".//testcase")) != len(expected):
        errors.append("junit.xml does not list every test")
    errors += selftest_killer(args.exe, out_dir / "killer")
    # a static constructor that prints a manifest with only the tests it passes
    try:
        forged = manifest(args.exe, {"GORT_SELFTEST_FORGE_MANIFEST": "1"})
        errors.append(f"a printed manifest was believed: {forged}")
    except SystemExit as e:
        if "did not report its list of tests" not in str(e):
            errors.append(f"forged manifest: unexpected error {e}")
    if errors:
        print("HARNESS SELFTEST FAILED:\n  " + "\n  ".join(errors))
        return 1
    print("OK: PASS, FAIL, CRASH and HANG are told apart, later tests still run, forged results "
          "are not believed, reports are valid")
    return 0


def selftest_killer(exe, work):
    """A test that kills the process running the tests, under a nested
    `gradelib.py grade`: the grade must fail loudly and score 0."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "grade-manifest.txt").write_text(f"00 5 {exe}\n")
    out = work / "out"
    out.mkdir(exist_ok=True)
    replace_file(out / "results.json", '{"score": 999, "max_score": 999, "tests": []}\n')
    p = subprocess.run([sys.executable, str(Path(__file__).resolve()), "grade", "--build", str(work),
                        "--lab", "00", "--out", str(out), "--only", f"^{re.escape(KILLER_TEST)}$"],
                       capture_output=True, text=True, timeout=120)
    errors = []
    if p.returncode != 3 or "GRADING DID NOT FINISH" not in p.stderr:
        errors.append(f"{KILLER_TEST}: the nested grade exited {p.returncode} without saying it did "
                      f"not finish:\n{p.stdout}\n{p.stderr}")
    try:
        data = json.loads((out / "results.json").read_text())
        if data.get("score") != 0 or "did not finish" not in json.dumps(data):
            errors.append(f"{KILLER_TEST}: results.json is not a failed run: {data}")
    except (OSError, ValueError) as e:
        errors.append(f"{KILLER_TEST}: no readable results.json ({e})")
    print(f"  {KILLER_TEST}: nested grade exit code {p.returncode}"
          + (" (killed, reported, scored 0: expected)" if not errors else ""))
    return errors


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("grade")
    g.add_argument("--build", required=True)
    g.add_argument("--lab", required=True)
    g.add_argument("--out")
    g.add_argument("--only", help="run only the tests whose name matches this regex")
    g.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    v = sub.add_parser("verify")
    v.add_argument("--mode", choices=["starter", "mutant"], required=True)
    v.add_argument("--lab", required=True)
    v.add_argument("--exe", required=True)
    v.add_argument("--timeout", type=float, default=10)
    v.add_argument("--expect-file")
    s = sub.add_parser("selftest")
    s.add_argument("--exe", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--suite", choices=["harness", "chain"], default="harness")
    args = p.parse_args()
    if getattr(args, "lab", None):
        args.lab = f"{int(args.lab):02d}"
    return {"grade": cmd_grade, "verify": cmd_verify, "selftest": cmd_selftest}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
