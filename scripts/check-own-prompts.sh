#!/usr/bin/env bash
# Users' own prompts and scorer (issue 18): the main job with prompts = FILE (30 captions, some
# outside the shapes world) and an external annotator (scripts/example-scorer.py, standard-library
# Python, as `annotator.bright`) labels its pairs with that scorer, fine-tunes, evaluates on the
# file's test lines and writes report.md with a `bright` column. The same file with a built-in
# annotator stops before any stage, naming the line it cannot read; a scorer that fails stops
# the run with its stderr and leaves no finished pairs stage.
#   scripts/check-own-prompts.sh SMOKE_RUN   (a finished run of configs/smoke.conf: its pretrain and annotators are reused)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
smoke="${1:?usage: scripts/check-own-prompts.sh SMOKE_RUN}"
bin="${DDE_TRAIN:-$root/.build/release/dde-train}"
work="$(mktemp -d "${TMPDIR:-/tmp}/check-own-prompts.XXXXXX")"
trap 'rm -rf "$work"' EXIT
fail() { echo "scripts/check-own-prompts.sh: $*" >&2; exit 1; }

prompts="$work/prompts.txt"
for i in $(seq 1 30); do
    case $((i % 3)) in
        0) echo "a photo of a cat number $i" ;;
        1) echo "a large red circle on a navy background, take $i" ;;
        2) echo "a watercolour of a lighthouse at dusk $i" ;;
    esac
done > "$prompts"
common=(--config configs/smoke.conf reuse="$smoke" prompts="$prompts" compare.methods=uniform,dde
        "annotator.bright=python3 $root/scripts/example-scorer.py")

# A built-in annotator cannot read these captions: refused before any stage, naming line 1.
if "$bin" "${common[@]}" out="$work/refused" compare.annotators=pick > "$work/refused.log" 2>&1; then
    fail "compare.annotators=pick on captions outside the shapes world did not fail"
fi
grep -q "$prompts:1: 'a large red circle on a navy background, take 1' is not a shapes-world caption" "$work/refused.log" \
    || { cat "$work/refused.log" >&2; fail "the refusal does not name the prompts file's line 1"; }
[ ! -e "$work/refused/pretrain" ] || fail "the refused run started a stage"

# A scorer that fails stops the run with its stderr; no pairs stage is left finished.
if "$bin" "${common[@]}" out="$work/broken" compare.annotators=broken \
    "annotator.broken=python3 -c 'import sys; sys.exit(\"scorer: CUDA is not available\")'" > "$work/broken.log" 2>&1; then
    fail "a failing scorer did not stop the run"
fi
grep -q "annotator broken: .* exited with status 1" "$work/broken.log" && grep -q "scorer: CUDA is not available" "$work/broken.log" \
    || { cat "$work/broken.log" >&2; fail "the failure does not show the scorer's stderr"; }
[ ! -e "$work/broken/pairs-broken/signature.txt" ] || fail "the failed pairs stage was marked finished"

# The run itself.
"$bin" "${common[@]}" out="$work/own" compare.annotators=bright > "$work/own.log" 2>&1 \
    || { tail -n 20 "$work/own.log" >&2; fail "the main job with prompts=FILE and annotator.bright failed"; }
grep -q "prompts: 24 train, 3 validation, 3 test prompts from $prompts" "$work/own.log" || fail "the run did not state its prompts' split"
grep -q "left out of the evaluation" "$work/own.log" || fail "the run did not say the built-in annotators were left out"
grep -q "^method  *bright" "$work/own/report.md" || { head -n 8 "$work/own/report.md" >&2; fail "report.md's table has no bright column"; }
for method in uniform dde; do
    grep -q "^$method " "$work/own/report.md" || fail "report.md has no $method row"
done
grep -q '"annotator":"bright"' "$work/own/pairs-bright/pairs.jsonl" || fail "the pairs were not labelled by bright"
grep -q "a watercolour of a lighthouse" "$work/own/pairs-bright/pairs.jsonl" || fail "the pairs do not use the file's captions"

# Under MPI each rank runs the scorer on its own share, in its own folder (9 eval images: 5 and 4).
if command -v mpirun > /dev/null; then
    "$bin" "${common[@]}" out="$work/mpi" compare.annotators=bright ranks=2 threads=1 eval.images_per_prompt=3 > "$work/mpi.log" 2>&1 \
        || { tail -n 20 "$work/mpi.log" >&2; fail "the same run on two MPI ranks failed"; }
    grep -q "^method  *bright" "$work/mpi/report.md" || fail "the MPI run's report.md has no bright column"
fi
echo "check-own-prompts: prompts=FILE and annotator.bright: pairs, 2 fine-tunes and report.md with the bright column (one process and two MPI ranks); refusals named"
