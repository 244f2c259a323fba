#!/usr/bin/env bash
# Cross-compiles the Lab 02 solution's context switch for aarch64 and runs a
# self-checking program (solution/lab02/aarch64_check.cpp) under qemu-aarch64:
# callee-saved x19-x29 and d8-d15, FPCR per context, entry alignment, a
# million switches, and the N:1 scheduler. Exits non-zero on any failure.
# Needs: g++-aarch64-linux-gnu and qemu-user (apt-get install -y g++-aarch64-linux-gnu qemu-user).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CXX="${CXX_AARCH64:-aarch64-linux-gnu-g++}"
QEMU="${QEMU_AARCH64:-qemu-aarch64}"
for tool in "$CXX" "$QEMU"; do
  if ! command -v "$tool" >/dev/null; then
    echo "check-aarch64: '$tool' not found: apt-get install -y g++-aarch64-linux-gnu qemu-user" >&2
    exit 2
  fi
done
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
SRC=(
  "$ROOT/solution/lab02/switch_context.S"
  "$ROOT/solution/lab02/context.cpp"
  "$ROOT/solution/lab02/stack.cpp"
  "$ROOT/solution/lab02/coro.cpp"
  "$ROOT/runtime/os/sys.cpp"
  "$ROOT/runtime/ctx/context_switch.cpp"
  "$ROOT/runtime/ctx/stack_guard.cpp"
  "$ROOT/runtime/ctx/stack_pool.cpp"
  "$ROOT/labs/02-context-switch/tests/lab02_probe.cpp"
  "$ROOT/solution/lab02/aarch64_check.cpp"
)
echo "check-aarch64: building with $CXX"
"$CXX" -std=c++20 -O2 -Wall -Wextra -Werror -static -pthread \
  -I"$ROOT/runtime/include" -I"$ROOT/runtime" -I"$ROOT/labs/02-context-switch/tests" \
  "${SRC[@]}" -o "$OUT/aarch64_check"
echo "check-aarch64: running under $QEMU"
"$QEMU" "$OUT/aarch64_check"
