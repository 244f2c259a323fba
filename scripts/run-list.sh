#!/usr/bin/env bash
# Runs each command line of a list file (demos.txt / benches.txt, written by
# CMake) in order. A program that fails does not stop the others; at the end
# each failure is listed, with the lab task it needs when it stopped on a stub
# ("not implemented yet: lab NN task K: ..."), and the exit code is non-zero.
set -uo pipefail
list=$1
[ -s "$list" ] && grep -q . "$list" || { echo "gort: nothing registered in $list" >&2; exit 1; }
failed=()
while IFS= read -r line; do
  [ -n "$line" ] || continue
  first=${line%% *}; name=${first##*/}
  echo "=== $name ==="
  log=$(mktemp)
  eval "$line" </dev/null 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then
    need=$(grep -oE 'not implemented yet: lab [0-9]+ task [0-9]+: [^ ]+' "$log" | head -1 | sed 's/^not implemented yet: //')
    if [ -n "$need" ]; then
      failed+=("$name: needs $need (a TODO in your lab folder)")
    else
      failed+=("$name: exit code $rc")
    fi
  fi
  rm -f "$log"
  echo
done < "$list"
if [ ${#failed[@]} -gt 0 ]; then
  echo "gort: ${#failed[@]} of $(grep -c . "$list") did not finish:"
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
