#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages a make target needs, and only those that
# are missing. A no-op (one dpkg-query call, well under a second) when all are
# present. Uses apt-get as root, through sudo otherwise; when neither is
# possible it names the packages to install and fails.
#
#   scripts/deps.sh PROFILE...   PROFILE: core docs bench test cross autograder editor
set -euo pipefail

declare -A PROFILE=(
  [core]="g++ cmake make python3 patch doctest-dev libboost-context-dev"
  [docs]="doxygen graphviz"
  [bench]="libboost-fiber-dev golang-go wrk"
  [cross]="g++-aarch64-linux-gnu qemu-user"
  [autograder]="zip unzip"  # make autograder, and its check in make test
  [editor]="clangd gdb"     # the devcontainer: clangd reads build/dev/compile_commands.json (.clangd)
)
wanted=()
for p in "$@"; do
  case "$p" in
    test) wanted+=(${PROFILE[core]} ${PROFILE[docs]} ${PROFILE[bench]} ${PROFILE[cross]} ${PROFILE[autograder]} clang-format) ;;
    demo) wanted+=(${PROFILE[core]}) ;;
    *) [ -n "${PROFILE[$p]:-}" ] || { echo "deps.sh: unknown profile '$p'" >&2; exit 2; }
       wanted+=(${PROFILE[$p]}) ;;
  esac
done
[ ${#wanted[@]} -gt 0 ] || exit 0

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "gort: this is not a Debian/Ubuntu system, so missing packages cannot be installed for you." >&2
  echo "      Install the equivalents of: ${wanted[*]} (see 'make doctor')." >&2
  for c in g++ cmake python3; do command -v "$c" >/dev/null || exit 1; done
  exit 0
fi

installed=" $(dpkg-query -W -f='${Package}:${db:Status-Abbrev}\n' "${wanted[@]}" 2>/dev/null |
  awk -F: '$2 ~ /^ii/ {print $1}' | tr '\n' ' ' || true) "
missing=()
for pkg in "${wanted[@]}"; do
  [[ "$installed" == *" $pkg "* || " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "gort: installing missing packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
elif command -v sudo >/dev/null 2>&1 && [ -t 0 ]; then
  SUDO=(sudo)
else
  echo "gort: cannot install packages (not root, and no usable sudo). Please run:" >&2
  echo "      sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/gort-apt.log 2>&1; then
  "${SUDO[@]}" apt-get update -q >>/tmp/gort-apt.log 2>&1 || true
  if ! "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/gort-apt.log 2>&1; then
    echo "gort: apt-get could not install: ${missing[*]} (log: /tmp/gort-apt.log)" >&2
    tail -5 /tmp/gort-apt.log >&2
    exit 1
  fi
fi
echo "gort: installed ${missing[*]}"
