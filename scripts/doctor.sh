#!/usr/bin/env bash
# `make doctor`: checks everything gort needs and says exactly what is wrong.
# Changes nothing. Exit status: 0 when the labs can be built and graded here.
set -u
fail=0
ok()   { printf '  ok    %-22s %s\n' "$1" "$2"; }
bad()  { printf '  FAIL  %-22s %s\n' "$1" "$2"; fail=1; }
warn() { printf '  warn  %-22s %s\n' "$1" "$2"; }

echo "gort doctor"
os=$(uname -s)
if [ "$os" = Linux ]; then ok "operating system" "Linux $(uname -r)"
else bad "operating system" "$os: gort needs Linux (futex, epoll, mmap guard pages)"; fi

arch=$(uname -m)
case "$arch" in
  x86_64) ok "CPU architecture" "x86-64: every lab and the solution are supported" ;;
  aarch64) warn "CPU architecture" "aarch64: the solution runs here; the Lab 02 assembly task is written for x86-64 (do it under qemu-x86_64, or use REFERENCE=02)" ;;
  *) bad "CPU architecture" "$arch is unsupported: the context switch exists for x86-64 and aarch64 only" ;;
esac

if command -v g++ >/dev/null; then
  v=$(g++ -dumpversion | cut -d. -f1)
  if [ "$v" -ge 12 ]; then ok "C++ compiler" "g++ $(g++ -dumpversion)"
  else bad "C++ compiler" "g++ $(g++ -dumpversion) is too old: C++20 needs g++ 12 or newer"; fi
else bad "C++ compiler" "g++ not found: sudo apt-get install g++"; fi

if command -v cmake >/dev/null; then
  v=$(cmake --version | head -1 | awk '{print $3}')
  if printf '3.25\n%s\n' "$v" | sort -V -C; then ok "CMake" "$v"
  else bad "CMake" "$v is too old: need 3.25 or newer (Debian 12 has it)"; fi
else bad "CMake" "cmake not found: sudo apt-get install cmake"; fi

command -v python3 >/dev/null && ok "Python" "$(python3 --version 2>&1) (runs the grader)" || bad "Python" "python3 not found: sudo apt-get install python3"

check_pkg() { # name package required what
  if command -v dpkg-query >/dev/null && dpkg-query -W -f='${db:Status-Abbrev}' "$2" 2>/dev/null | grep -q '^ii'; then
    ok "$1" "$2 installed"
  elif [ "$3" = yes ]; then bad "$1" "$2 missing ($4): sudo apt-get install $2 — or just run make demo / make test, which install it"
  else warn "$1" "$2 missing ($4); make test / make bench install it"; fi
}
check_pkg "doctest" doctest-dev yes "the graders"
check_pkg "Boost.Context" libboost-context-dev yes "the fcontext switch backend"
check_pkg "Doxygen" doxygen no "make docs"
check_pkg "Graphviz" graphviz no "make docs diagrams"
check_pkg "Boost.Fiber" libboost-fiber-dev no "make bench comparison"
check_pkg "Go" golang-go no "make bench comparison"

# Goroutine stack guards: ask the kernel itself (a tiny probe program), as the
# runtime does at startup — a kernel version number says nothing about backports.
guard_mode=unknown
if command -v g++ >/dev/null; then
  probe_dir=$(mktemp -d 2>/dev/null) && {
    cat >"$probe_dir/probe.cpp" <<'PROBE'
#include <sys/mman.h>
#include <unistd.h>
int main() {
  long page = sysconf(_SC_PAGESIZE);
  void* p = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 2;
  return madvise(p, page, 102 /* MADV_GUARD_INSTALL */) == 0 ? 0 : 1;
}
PROBE
    if g++ -O0 -o "$probe_dir/probe" "$probe_dir/probe.cpp" >/dev/null 2>&1; then
      "$probe_dir/probe"
      case $? in 0) guard_mode=installed ;; 1) guard_mode=mapped ;; esac
    fi
    rm -rf "$probe_dir"
  }
fi
m=$(cat /proc/sys/vm/max_map_count 2>/dev/null || echo 65530)
case $guard_mode in
  installed) ok "stack guard pages" "MADV_GUARD_INSTALL works: every goroutine stack gets a guard page, even at 1M goroutines (no mapping per guard)" ;;
  mapped) warn "stack guard pages" "no MADV_GUARD_INSTALL (needs Linux >= 6.13): guarded stacks up to ~$(( (m - 8192) / 2 )) live goroutines (vm.max_map_count $m), canary-checked stacks beyond; overflows there are caught late or not at all" ;;
  *) warn "stack guard pages" "could not compile or run the probe; gort decides at startup" ;;
esac
if [ "${GORT_STACK_GUARDS:-}" = mapped ]; then
  warn "GORT_STACK_GUARDS" "=mapped in the environment: gort uses the older-kernel scheme (mmap guards, then canaries) even here"
fi
if command -v g++ >/dev/null; then
  if echo 'int main(){}' | g++ -fstack-clash-protection -x c++ -o /dev/null - >/dev/null 2>&1; then
    ok "stack-clash probing" "g++ accepts -fstack-clash-protection (a big frame cannot jump over a guard page)"
  else
    warn "stack-clash probing" "g++ lacks -fstack-clash-protection: a frame larger than a page can skip a stack's guard page"
  fi
fi
cores=$(nproc)
ok "hardware threads" "$cores (default number of Ps)"
[ -d solution ] && ok "solution/" "present: REFERENCE= and make test's grader checks are available" \
                || warn "solution/" "absent (a student copy): REFERENCE= is unavailable"

# Course platforms and editors (all optional: the labs build and grade without them).
root=$(cd "$(dirname "$0")/.." && pwd)
command -v git >/dev/null && ok "git" "$(git --version | awk '{print $3}') (make reset, make handout, GitHub Classroom)" \
  || warn "git" "git missing: make reset and make handout need it (sudo apt-get install git)"
if [ -d "$root/solution" ]; then
  command -v zip >/dev/null && ok "zip" "make autograder can package the Gradescope autograder" \
    || warn "zip" "zip missing (make autograder, the Gradescope zip); make autograder installs it"
fi
if [ -f "$root/CMakePresets.json" ] && command -v cmake >/dev/null; then
  if presets=$(cd "$root" && cmake --list-presets 2>&1); then
    ok "CMake presets" "$(sed -nE 's/^ +"([a-z]+)".*/\1/p' <<<"$presets" | tr '\n' ' ')(cmake --preset dev; VS Code and CLion read CMakePresets.json)"
  else
    warn "CMake presets" "cmake --list-presets fails (presets version 4 needs CMake 3.23+): $(head -1 <<<"$presets")"
  fi
fi
if command -v clangd >/dev/null; then
  if [ -f "$root/build/dev/compile_commands.json" ]; then
    ok "clangd" "$(clangd --version | head -1 | grep -oE '[0-9]+\.[0-9.]+' | head -1); .clangd reads build/dev/compile_commands.json"
  else
    warn "clangd" "installed, but build/dev/compile_commands.json is missing: run make demo (or cmake --preset dev) once, then editors understand the code"
  fi
else
  warn "clangd" "not installed (optional: editor completion and diagnostics): sudo apt-get install clangd, or scripts/deps.sh editor"
fi
if command -v docker >/dev/null; then
  if timeout 5 docker info >/dev/null 2>&1; then ok "Docker" "daemon reachable: the .devcontainer (Debian 12) can be built here"
  else warn "Docker" "installed but its daemon is not reachable: the .devcontainer needs it (or open the repo in GitHub Codespaces)"; fi
elif [ ! -f /.dockerenv ] && [ -z "${CODESPACES:-}${REMOTE_CONTAINERS:-}" ]; then
  warn "Docker" "not installed (optional: the .devcontainer needs Docker or GitHub Codespaces)"
else
  ok "container" "running inside a container: the .devcontainer needs nothing more"
fi

echo
if [ $fail -eq 0 ]; then echo "Everything needed is here."; else echo "Fix the FAIL lines above, then run make doctor again."; fi
exit $fail
