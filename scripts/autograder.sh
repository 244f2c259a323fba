#!/usr/bin/env bash
# `make autograder LAB=NN [REFERENCE=01,02|all] [OUT=file.zip]`: the zip an
# instructor uploads to Gradescope as a programming assignment's autograder.
# It holds, at its root (Gradescope unpacks it into /autograder/source):
#   setup.sh         run once when Gradescope builds the image: installs what
#                    the grader needs (scripts/deps.sh core) and builds the
#                    pristine course once, so a submission recompiles only
#                    the files it changes;
#   run_autograder   run per submission: copies the student's lab files (and
#                    nothing else) into the course, runs `make grade`, and
#                    writes /autograder/results/results.json;
#   autograder.json  LAB, REFERENCE, and the lab files each lab owns;
#   course/          the student copy (`make handout`), with the precompiled
#                    reference when REFERENCE= is given;
#   pristine/        the starter of every lab file (restored before each run).
# The templates live in grader/gradescope/; scripts/check-autograder.sh runs
# the zip against a fake /autograder tree (make test).
set -euo pipefail
lab=${1:-}; ref=${2:-}; out=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
if ! [[ "$lab" =~ ^[0-9]{1,2}$ ]]; then
  echo "usage: make autograder LAB=NN [REFERENCE=01,02|all] [OUT=file.zip]   e.g. make autograder LAB=01" >&2
  exit 2
fi
lab=$(printf '%02d' "$((10#$lab))")
ls -d "$root"/labs/"$lab"-* >/dev/null 2>&1 || { echo "gort: there is no lab $lab (labs: $(cd "$root/labs" && ls -d [0-9]* | tr '\n' ' '))" >&2; exit 2; }
[ -d "$root/solution" ] || { echo "gort: make autograder needs solution/ (this is a student copy; the instructor's repository builds the autograder)" >&2; exit 1; }
"$root/scripts/deps.sh" core autograder
[ -n "$out" ] || out="$root/build/autograder/lab$lab.zip"
out=$(realpath -m "$out")
work=$(mktemp -d "${TMPDIR:-/tmp}/gort-autograder.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/source

# The table of lab files and the normalized REFERENCE (the rules of
# cmake/Gort.cmake's _gort_parse_reference), checked now rather than on
# Gradescope's image build.
mkdir -p "$src"
python3 - "$root" "$lab" "$ref" "$src/autograder.json" <<'PY'
import json, pathlib, re, sys
root, lab, ref, out = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
labs = {}
for d in sorted((root / "labs").glob("[0-9][0-9]-*")):
    text = (d / "lab.cmake").read_text()
    m = re.search(r"SOURCES(.*?)(TESTS|TIMEOUT|\))", text, re.S)
    labs[d.name[:2]] = {"dir": f"labs/{d.name}", "sources": m.group(1).split() if m else []}
refs = []
for r in (x.strip() for x in ref.split(",")):
    if not r:
        continue
    if r == "all":
        refs += list(labs)
    elif re.fullmatch(r"[0-9]{1,2}", r):
        refs.append(f"{int(r):02d}")
    else:
        sys.exit(f"gort: REFERENCE={ref}: '{r}' is not a lab number (write e.g. REFERENCE=01,02 or REFERENCE=all)")
for r in refs:
    if r not in labs:
        sys.exit(f"gort: REFERENCE={ref}: there is no lab {r} (labs here: {' '.join(labs)})")
json.dump({"lab": lab, "reference": ref, "reference_labs": sorted(set(refs)), "labs": labs},
          open(out, "w"), indent=2)
PY

echo "gort: building the student copy for the autograder (lab $lab${ref:+, REFERENCE=$ref})"
with_ref=0; [ -z "$ref" ] || with_ref=1
"$root/scripts/handout.sh" "$src/course" "$with_ref" >/dev/null
rm -rf "$src/course/.git"
python3 - "$src" <<'PY'
import json, pathlib, shutil, sys
src = pathlib.Path(sys.argv[1])
conf = json.loads((src / "autograder.json").read_text())
for info in conf["labs"].values():
    for f in info["sources"]:
        dst = src / "pristine" / info["dir"] / f
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / "course" / info["dir"] / f, dst)
PY
install -m 755 "$root/grader/gradescope/setup.sh" "$root/grader/gradescope/run_autograder" "$src/"
mkdir -p "$(dirname "$out")"
rm -f "$out"
(cd "$src" && zip -q -r -X "$out" .)
echo "autograder written to $out ($(du -h "$out" | cut -f1)): upload it in Gradescope's Configure Autograder page (Ubuntu 22.04 or 24.04 base image)"
echo "  it grades labs 01..$lab as 'make grade LAB=$lab${ref:+ REFERENCE=$ref}' does: the assignment's points are what results.json's max_score says"
