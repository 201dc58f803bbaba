#!/usr/bin/env bash
# Data-parallel training under MPI (issue 7), with two ranks, on the smoke config. Installs Open
# MPI (openmpi-bin, libopenmpi-dev) when missing, as root. Then, each against single-process runs
# with the same seed, global batch and threads=1 per process:
#   pretrain   20 steps on 2 ranks: weights within 1e-4 relative of one process's
#              (||a-b||/||a|| over all weights, scripts/compare-weights.py), and bit-identical
#              between two 2-rank runs;
#   train      every loss (sft, uniform, discounted, dde), 20 steps from the same base and pairs
#              (the single-process run's, copied): weights (and the DDE record) within 1e-4, and
#              bit-identical between two 2-rank runs;
#   smoke      the whole main job with ranks=2 (dde-train starts mpirun itself; pairs, eval and
#              annotator scoring split over the ranks): it finishes, every metrics file has one
#              row per step (only rank 0 writes);
#   kill       rank 1 SIGKILLed mid-pretrain and mid-fine-tune (dde): mpirun fails and names the
#              rank, the checkpoints are whole, and resume=auto on 2 ranks ends bit-identical to
#              an uninterrupted run.
# Usage: scripts/mpi-check.sh      Environment: DDE_TRAIN=path (default: scripts/setup's build),
# KEEP=1 (keep the work folder). mpirun runs with --allow-run-as-root (CI runs as root).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
start=$(date +%s)

if ! command -v mpirun >/dev/null 2>&1 || ! ldconfig -p | grep -q "libmpi.so.40"; then
    if [ "$(id -u)" = 0 ]; then
        echo "mpi-check: installing Open MPI (openmpi-bin libopenmpi-dev)" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq openmpi-bin libopenmpi-dev >&2
    else
        echo "mpi-check: Open MPI is missing; run:  sudo apt-get install -y openmpi-bin libopenmpi-dev" >&2
        exit 1
    fi
fi
if [ -z "${DDE_TRAIN:-}" ]; then
    "$root/scripts/setup"
    DDE_TRAIN="$root/.build/release/dde-train"
fi
work="$(mktemp -d /tmp/mpi-check.XXXXXX)"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
status=0
# vader's single-copy mechanism (CMA) needs ptrace rights containers often lack: plain copies.
mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none --mca btl_vader_single_copy_mechanism none -np 2)
common=(--config configs/smoke.conf threads=1 pretrain.steps=20 pretrain.checkpoint_every=5 pretrain.val_every=10
        steps=20 batch=8 train.checkpoint_every=5 train.log_every=10 train.credit_every=0 compare.annotators=aesthetic annotator=aesthetic)

# run LOG COMMAND...: runs it (5 minutes at most: a hang is a failure), output to LOG; on
# failure prints the log's tail and stops.
run() {
    local log="$1"; shift
    timeout -k 10 300 "$@" >"$log" 2>&1 || { echo "mpi-check: failed or hung (exit $?): $*" >&2; tail -n 20 "$log" >&2; trap - EXIT; exit 1; }
}
result() { printf "%-34s %s\n" "$1" "$2"; }
check() {  # check NAME COMMAND...: prints the command's last line; a failure fails the script
    local name="$1"; shift
    local out code=0
    out=$("$@" 2>&1) || code=$?
    [ $code = 0 ] || status=1
    result "$name" "$([ $code = 0 ] && echo ok || echo FAILED): $(echo "$out" | tail -n 1)"
}

echo "mpi-check: $("${mpi[@]}" --version 2>/dev/null | head -n 1); work folder $work"

# pretrain: one process vs two ranks, twice.
run "$work/A-pretrain.log" "$DDE_TRAIN" pretrain "${common[@]}" out="$work/A"
for m in M1 M2; do run "$work/$m-pretrain.log" "${mpi[@]}" "$DDE_TRAIN" pretrain "${common[@]}" out="$work/$m"; done
check "pretrain: 2 ranks vs 1 process" python3 scripts/compare-weights.py "$work/A/pretrain/model.safetensors" "$work/M1/pretrain/model.safetensors"
check "pretrain: 2 ranks, run 1 vs run 2" python3 scripts/compare-runs.py "$work/M1/pretrain" "$work/M2/pretrain"

# train, every loss, from the single-process run's base model, annotators and pairs (copied).
run "$work/A-annotators.log" "$DDE_TRAIN" annotators "${common[@]}" out="$work/A"
run "$work/A-pairs.log" "$DDE_TRAIN" pairs "${common[@]}" out="$work/A"
for m in M1 M2; do
    mkdir -p "$work/$m-train"
    cp -r "$work/A/pretrain" "$work/A/annotators" "$work/A/pairs-aesthetic" "$work/$m-train/"
done
for loss in sft uniform discounted dde; do
    run "$work/A-$loss.log" "$DDE_TRAIN" train "${common[@]}" loss=$loss out="$work/A"
    for m in M1 M2; do
        run "$work/$m-$loss.log" "${mpi[@]}" "$DDE_TRAIN" train "${common[@]}" loss=$loss out="$work/$m-train"
    done
    folder=train-$loss-aesthetic-s0
    check "train $loss: 2 ranks vs 1 process" python3 scripts/compare-weights.py "$work/A/$folder/model.safetensors" "$work/M1-train/$folder/model.safetensors"
    if [ "$loss" = dde ]; then
        # The DDE record, from the last checkpoint (record.entries), at the same tolerance.
        last=$(ls "$work/A/$folder/checkpoints" | tail -n 1)
        check "train dde: record, 2 ranks vs 1" python3 scripts/compare-weights.py --only record "$work/A/$folder/checkpoints/$last" "$work/M1-train/$folder/checkpoints/$last"
    fi
    check "train $loss: 2 ranks, run 1 vs 2" python3 scripts/compare-runs.py "$work/M1-train/$folder" "$work/M2-train/$folder"
done

# For scale: one process on 2 threads against 1 thread, the same dde fine-tune (not a check:
# float rounding differs between thread counts as it does between rank counts).
mkdir -p "$work/T2"
cp -r "$work/A/pretrain" "$work/A/annotators" "$work/A/pairs-aesthetic" "$work/T2/"
run "$work/T2-dde.log" "$DDE_TRAIN" train "${common[@]}" threads=2 loss=dde out="$work/T2"
result "(train dde: 1 process, 2 vs 1 threads)" "$(python3 scripts/compare-weights.py "$work/A/train-dde-aesthetic-s0/model.safetensors" "$work/T2/train-dde-aesthetic-s0/model.safetensors" | tail -n 1)"

# The whole smoke job on two ranks that dde-train starts itself (ranks=2, no mpirun typed):
# pairs, eval and scoring split; only rank 0 writes.
t0=$(date +%s)
run "$work/S.log" "$DDE_TRAIN" --config configs/smoke.conf ranks=2 threads=1 out="$work/S"
rows_ok=1
grep -q "running as 2 MPI ranks" "$work/S.log" || { rows_ok=0; echo "mpi-check: ranks=2 did not start two ranks" >&2; }
while IFS= read -r csv; do
    [ "$(basename "$csv")" = metrics.csv ] || continue
    steps=$(tail -n +2 "$csv" | cut -d, -f1 | sort -n | uniq -d | wc -l)
    [ "$steps" = 0 ] || { rows_ok=0; echo "mpi-check: $csv lists a step twice" >&2; }
done < <(find "$work/S" -name "*.csv")
[ -f "$work/S/report.csv" ] || rows_ok=0
[ $rows_ok = 1 ] || status=1
result "smoke job on 2 ranks" "$([ $rows_ok = 1 ] && echo ok || echo FAILED): $(( $(date +%s) - t0 )) s, report.csv $(wc -l <"$work/S/report.csv" 2>/dev/null || echo 0) lines, no step logged twice"

# A rank that dies: SIGKILL rank 1 mid-run (pretrain, then a dde fine-tune); the job must fail
# naming it, and resume=auto on two ranks must end equal to an uninterrupted two-rank run.
# kill_and_resume NAME PROGRESS STAGE_FOLDER SETUP COMMAND...: SETUP (a folder to copy the base,
# annotators and pairs from, or "") seeds both run folders; PROGRESS is the log line to kill at.
kill_and_resume() {
    local name="$1" progress="$2" stage="$3" setup="$4"; shift 4
    local u="$work/U-$name" k="$work/K-$name" victim="" code=0 launcher pid said last
    for f in "$u" "$k"; do
        mkdir -p "$f"
        [ -z "$setup" ] || cp -r "$setup/pretrain" "$setup/annotators" "$setup/pairs-aesthetic" "$f/"
    done
    run "$u.log" "${mpi[@]}" "$DDE_TRAIN" "$@" out="$u"
    timeout -k 10 300 "${mpi[@]}" "$DDE_TRAIN" "$@" out="$k" >"$k.log" 2>&1 &
    launcher=$!
    for _ in $(seq 3000); do
        if grep -q "$progress" "$k.log" 2>/dev/null; then
            for pid in $(pgrep -f "$DDE_TRAIN $1" || true); do
                if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1"; then victim=$pid; fi
            done
            break
        fi
        kill -0 "$launcher" 2>/dev/null || break
        sleep 0.01
    done
    if [ -n "$victim" ]; then kill -KILL "$victim"; fi
    wait "$launcher" || code=$?
    said=$(grep -o "process rank 1 .*exited on signal 9[^.]*" "$k.log" | head -n 1 || true)
    last=$(ls "$k/$stage/checkpoints" 2>/dev/null | grep '^step-' | tail -n 1 || true)
    run "$k-resume.log" "${mpi[@]}" "$DDE_TRAIN" "$@" out="$k" resume=auto
    if [ -n "$victim" ] && [ "$code" != 0 ] && [ -n "$said" ] && python3 scripts/compare-runs.py "$u/$stage" "$k/$stage" >"$k.compare" 2>&1; then
        result "$name: rank 1 killed, resumed" "ok: mpirun exit $code, \"$said\"; last checkpoint $last; resumed = uninterrupted"
    else
        status=1
        result "$name: rank 1 killed, resumed" "FAILED: victim '${victim}', mpirun exit $code, said '$said' (see $k.log, $k.compare)"
    fi
}
kill_and_resume pretrain "^pretrain 3[0-9]/80" pretrain "" \
    pretrain "${common[@]}" pretrain.steps=80 pretrain.checkpoint_every=10 pretrain.val_every=40
kill_and_resume "train dde" "^train dde 3[0-9]/80" train-dde-aesthetic-s0 "$work/A" \
    train "${common[@]}" loss=dde steps=80 train.checkpoint_every=10 train.log_every=20

echo "mpi-check: $(( $(date +%s) - start )) s; $([ $status = 0 ] && echo "all passed" || echo "FAILED (work folder $work)")"
[ $status = 0 ] || trap - EXIT
exit $status
