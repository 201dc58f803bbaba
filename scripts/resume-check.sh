#!/usr/bin/env bash
# Exact resume under real SIGKILLs (issue 6). For pretrain, annotators and train with every loss
# (sft, uniform, discounted, dde) on a smoke-sized config:
#   A: every stage run once, uninterrupted;
#   B: every stage started, `kill -KILL`ed at a random moment (seeded), restarted with
#      resume=auto, killed again, ... (KILLS kills per stage), then resumed until it finishes;
# the pairs stage and the main job's evaluation and report run uninterrupted in both. Then A and
# B are compared file by file (scripts/compare-runs.py): weights and checkpoints (tensors and
# metadata), the DDE record, every metrics CSV/JSONL with the wall-clock `seconds` column
# removed, pairs, samples, report.csv and the rest of the report. Prints the kills, the table of
# what matched, and exits non-zero on any mismatch. Then real SIGINT/SIGTERM (one, and two in a
# row, the second mid-step) into pretrain and annotators: exit 130 (at once after the second),
# and resume=auto ends equal to the uninterrupted run.
#
# Usage: scripts/resume-check.sh [CONFIG] [key=value ...]     (default configs/smoke.conf)
# Environment: DDE_TRAIN=path (a built dde-train; default: scripts/setup's release build),
#              SEED (kill times, default 6), KILLS (kills per stage, default 3),
#              KEEP=1 (keep the work folder).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
config="${1:-configs/smoke.conf}"
[ $# -gt 0 ] && shift
seed="${SEED:-6}"
kills="${KILLS:-3}"
if [ -z "${DDE_TRAIN:-}" ]; then
    "$root/scripts/setup"
    DDE_TRAIN="$root/.build/release/dde-train"
fi
work="$(mktemp -d /tmp/resume-check.XXXXXX)"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT

# The smoke config made long enough for kills to land mid-stage, checkpointing often; every
# fine-tune logs its diagnostics (held-out accuracy, record history, credit) so they are checked too.
sizes=(pretrain.steps=240 pretrain.checkpoint_every=7 pretrain.val_every=40 pretrain.sample_every=120
       annotators.steps=500 annotators.checkpoint_every=23
       steps=80 train.checkpoint_every=6 train.log_every=10 train.credit_every=40
       compare.methods=sft,uniform,discounted,dde compare.annotators=aesthetic annotator=aesthetic
       "$@")
stages=(pretrain annotators "train loss=sft" "train loss=uniform" "train loss=discounted" "train loss=dde")

# dde-train's arguments for STAGE ("pretrain", "train loss=dde", ...) into FOLDER.
args() {
    local stage="$1" out="$2"
    local sub="${stage%% *}" extra=()
    [[ "$stage" == *" "* ]] && extra=("${stage#* }")
    cmd=("$DDE_TRAIN" "$sub" --config "$config" out="$out" resume=auto "${sizes[@]}" ${extra[@]+"${extra[@]}"})
}

# run FOLDER STAGE [LOG]: one uninterrupted run (output appended to LOG, default FOLDER.log).
run() {
    local log="${3:-$1.log}"
    args "$2" "$1"
    "${cmd[@]}" >>"$log" 2>&1 || { echo "resume-check: '$2' failed in $1 (log: $log)" >&2; trap - EXIT; exit 1; }
}

# Where an attempt (its LOG) started: the step it resumed from, 0, or "cached" (finished before).
started() {
    if grep -q "reusing" "$1"; then echo cached; return; fi
    local step
    step=$(sed -n 's/^resuming .* at step \([0-9]*\)$/\1/p' "$1" | head -n 1)
    echo "${step:-0}"
}

now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }

declare -A took
start=$(now)
echo "resume-check: $config, seed $seed, $kills kills per stage, binary $DDE_TRAIN, work folder $work"
for stage in "${stages[@]}"; do
    t0=$(now)
    run "$work/A" "$stage"
    took["$stage"]=$(ms "$t0" "$(now)")
    if [ "$stage" = annotators ]; then run "$work/A" pairs; fi
done
run "$work/A" compare

RANDOM=$seed
printf "\n%-22s %8s  %s\n" "stage (B)" "A took" "attempts: resumed from step -> killed at (ms after its start), then the last one"
for stage in "${stages[@]}"; do
    line=""
    window=$(( ${took["$stage"]} > 60 ? ${took["$stage"]} - 30 : 30 ))
    for ((k = 1; k <= kills; k++)); do
        # A moment within the uninterrupted run's time, the window shrinking with each kill as
        # less is left to do (a kill that finds the run finished is counted, not hidden).
        delay=$(( 30 + (RANDOM * 32768 + RANDOM) % (window * (kills - k + 1) / kills + 1) ))
        args "$stage" "$work/B"
        "${cmd[@]}" >"$work/attempt.log" 2>&1 &
        pid=$!
        sleep "$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 1000 }')"
        killed=0
        kill -KILL "$pid" 2>/dev/null && killed=1
        wait "$pid" 2>/dev/null && status=0 || status=$?
        # Where this attempt started: "resuming ... at step N" when it found a checkpoint.
        from=$(started "$work/attempt.log")
        cat "$work/attempt.log" >>"$work/B.log"
        if [ "$killed" = 1 ] && [ "$status" = 137 ]; then
            line+="$from->kill@${delay}ms "
        elif [ "$status" = 0 ]; then
            line+="$from->done(kill@${delay}ms late) "
        else
            echo "resume-check: '$stage' failed in B (log: $work/B.log)" >&2; trap - EXIT; exit 1
        fi
    done
    : >"$work/attempt.log"
    run "$work/B" "$stage" "$work/attempt.log"
    from=$(started "$work/attempt.log")
    cat "$work/attempt.log" >>"$work/B.log" && rm "$work/attempt.log"
    printf "%-22s %5s ms  %s\n" "$stage" "${took["$stage"]}" "$line$from->done"
    if [ "$stage" = annotators ]; then run "$work/B" pairs; fi
done
run "$work/B" compare

echo
status=0
python3 "$root/scripts/compare-runs.py" "$work/A" "$work/B" || status=$?

# Signals: SIGINT or SIGTERM into a running stage must finish the step, write its checkpoint and
# exit with 130; a second signal must exit at once (130) leaving the last checkpoint good; either
# way resume=auto must end equal to A's stage.
echo
printf "%-11s %-9s %5s  %-48s %s\n" "signals" "sent" "exit" "said" "resumed to A's files"
for stage in pretrain annotators; do
    for sigs in INT TERM; do
        out="$work/S-$stage-${sigs// /-}"
        args "$stage" "$out"
        "${cmd[@]}" >"$out.log" 2>&1 &
        pid=$!
        sleep "$(awk -v d="${took[$stage]}" 'BEGIN { printf "%.3f", 0.35 * d / 1000 }')"
        for sig in $sigs; do kill -"$sig" "$pid" 2>/dev/null || true; done
        code=0
        wait "$pid" || code=$?
        said=$(grep -o "interrupted: $stage stopped after step [0-9]*" "$out.log" || true)
        run "$out" "$stage"
        if python3 "$root/scripts/compare-runs.py" "$work/A/$stage" "$out/$stage" >"$out.compare" 2>&1; then equal=match; else equal=MISMATCH; fi
        expected="interrupted: $stage stopped after step"
        if [ "$code" != 130 ] || [ "$equal" != match ] || [[ "$said" != "$expected"* ]]; then
            status=1
            equal+=" (see $out.log, $out.compare)"
        fi
        printf "%-11s %-9s %5s  %-48s %s\n" "$stage" "$sigs" "$code" "$said" "$equal"
    done
done
# A second signal: with steps of ~0.7 s (4096 images) it lands mid-step; the run must exit at
# once (well before the step could end) with 130, its checkpoints whole, and resume=auto must end
# equal to an uninterrupted run of the same settings (D). The first signal is sent as soon as the
# log shows step 3 done, the second 0.2 step later. Should the run have ended in between (a slow
# machine), the attempt proves nothing and is made again (up to 3 times).
saved=("${sizes[@]}")
sizes=()
for kv in "${saved[@]}"; do
    case "${kv%%=*}" in pretrain.batch|pretrain.steps|pretrain.checkpoint_every|pretrain.val_every|pretrain.sample_every) ;; *) sizes+=("$kv") ;; esac
done
sizes+=(pretrain.batch=4096 pretrain.steps=8 pretrain.checkpoint_every=2 pretrain.val_every=4 pretrain.sample_every=0)
t0=$(now)
run "$work/D" pretrain
step_ms=$(( $(ms "$t0" "$(now)") / 8 ))
code=none
for attempt in 1 2 3; do
    out="$work/S-pretrain-INT-INT-$attempt"
    args pretrain "$out"
    "${cmd[@]}" >"$out.log" 2>&1 &
    pid=$!
    for _ in $(seq 6000); do
        grep -q "^pretrain 3/8" "$out.log" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.01
    done
    kill -INT "$pid" 2>/dev/null || { wait "$pid" || true; continue; }
    sleep "$(awk -v d="$step_ms" 'BEGIN { printf "%.3f", 0.2 * d / 1000 }')"
    t2=$(now)
    if ! kill -INT "$pid" 2>/dev/null; then
        wait "$pid" || true
        echo "resume-check: attempt $attempt: the run ended before the second signal; trying again"
        continue
    fi
    code=0
    wait "$pid" || code=$?
    exit_ms=$(ms "$t2" "$(now)")
    break
done
if [ "$code" = none ]; then
    status=1
    printf "%-11s %-9s %5s  %-48s %s\n" "pretrain" "INT INT" "-" "the run always ended before the second signal" "FAILED (see $out.log)"
else
    last=$(ls "$out/pretrain/checkpoints" | grep '^step-' | tail -n 1)
    run "$out" pretrain
    if python3 "$root/scripts/compare-runs.py" "$work/D/pretrain" "$out/pretrain" >"$out.compare" 2>&1; then equal=match; else equal=MISMATCH; fi
    said="exit ${exit_ms} ms after the 2nd (a step: ${step_ms} ms); last: $last"
    if [ "$code" != 130 ] || [ "$equal" != match ] || [ "$exit_ms" -ge "$step_ms" ] || grep -q "stopped after step" "$out.log"; then
        status=1
        equal+=" (see $out.log, $out.compare)"
    fi
    printf "%-11s %-9s %5s  %-48s %s\n" "pretrain" "INT INT" "$code" "$said" "$equal (D)"
fi
sizes=("${saved[@]}")

echo "resume-check: $(( $(ms "$start" "$(now)") / 1000 )) s; $([ $status = 0 ] && echo "B (killed and resumed) equals A (uninterrupted)" || echo "MISMATCH (logs: $work/A.log, $work/B.log)")"
[ $status = 0 ] || trap - EXIT
exit $status
