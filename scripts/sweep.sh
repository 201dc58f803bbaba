#!/usr/bin/env bash
# Fair tuning (docs/TESTBED.md): every method gets the same grid of beta x learning rate and the same
# step budget, scored on the VALIDATION prompts (never the test prompts), with two fine-tune
# seeds per point so the seed-to-seed spread shows next to the bootstrap interval, on every
# annotator's pairs. Per method and annotator the point with the largest mean change of that
# annotator (mean over seeds) is chosen (scripts/sweep-choose.py) and written as config keys to
# <folder>/chosen.conf (uniform.beta.by_annotator = align:...,aesthetic:...,pick:..., ...), with
# the whole grid in sweep-*.csv / sweep.md; a best point on the grid's edge makes the script
# try its neighbour past that edge (beside the best point's other value: a local step, not a
# whole new row of the grid) and choose again (at most SWEEP_MAX_ROUNDS=3 rounds).
#   scripts/sweep.sh [CONFIG] [key=value ...]     (default folder runs/sweep-<config>)
# The grid and its scope are keys like any other, e.g. compare.beta=500,5000 compare.annotators=align.
# Defaults: methods sft,uniform,discounted,dde (compare.methods=... picks others, e.g. dde-single,
# dde-step for the ablation); beta 250,1000,5000,20000 (DDE's z scales with kappa b2_t, whose median
# over t is 2.6 and mean 20 for scaled_linear, so its useful betas sit below Uniform's: the grid
# spans both; DDE-Step's a thousand times higher) x lr 1e-5,3e-5; every annotator's pairs; seeds 0,1; 48 validation prompts x 12 images. About an
# hour per annotator on two cores for configs/sd15.conf, plus the extensions.
source "$(dirname "${BASH_SOURCE[0]}")/experiment-common.sh"
start=$(date +%s)
command_line="scripts/sweep.sh $config ${overrides[*]+${overrides[*]}}"
# The grid's scope from the overrides (the script's own loop uses them, so they are not passed on):
# compare.methods, compare.annotators, and compare.beta / compare.lr (one grid for every method).
methods="sft,uniform,discounted,dde" annotators="align,aesthetic,pick" beta_grid="" lr_grid="1e-5,3e-5"
passed=()
for o in ${overrides[@]+"${overrides[@]}"}; do
    case "$o" in
        compare.methods=*) methods="${o#*=}" ;;
        compare.annotators=*) annotators="${o#*=}" ;;
        compare.beta=*) beta_grid="${o#*=}" ;;
        compare.lr=*) lr_grid="${o#*=}" ;;
        *) passed+=("$o") ;;
    esac
done
# Each method's default betas: DDE-Step's slope lambda_t is about a thousandth of the others'
# (docs/LOSSES.md), so its grid sits a thousand times higher.
# The newer losses' grids (issue 17) sit around their authors' defaults in their own conventions:
# IPO's and hinge's beta set a margin 1/(2 beta) or 1/beta on D (ours is of order 1e-3); MaPO's
# weighs a margin term, DSPO's SD 1.5 form the pull away from the reference (the authors searched
# 0.001..0.05).
betas_for() {
    if [ -n "$beta_grid" ]; then echo "$beta_grid"
    else case "$1" in
        dde-step) echo "250000,1000000,5000000,20000000" ;;
        ipo|hinge) echo "100,500,2500,10000" ;;
        mapo) echo "0.03,0.1,0.3,1" ;;
        dspo) echo "0.001,0.01,0.05,0.2" ;;
        *) echo "250,1000,5000,20000" ;;
    esac; fi
}
# One method on one annotator's pairs (all annotators: "$annotators") at a grid, the user's other
# overrides first and the grid last; its sweep.csv kept as sweep-<tag>.csv for the choice.
sweep_run() {  # method annotators betas lrs tag
    "$dde_train" compare --config "$config" out="$out" ${reuse[@]+"${reuse[@]}"} ${passed[@]+"${passed[@]}"} \
        compare.methods="$1" compare.annotators="$2" compare.seeds=0,1 compare.beta="$3" compare.lr="$4" \
        eval.prompts=validation eval.images_per_prompt=12
    [ -f "$out/sweep.csv" ] || { echo "sweep: $out/sweep.csv was not written" >&2; exit 1; }
    cp "$out/sweep.csv" "$out/sweep-$5.csv"
}
for method in ${methods//,/ }; do
    sweep_run "$method" "$annotators" "$(betas_for "$method")" "$lr_grid" "$method"
done

# A best point on an edge of its grid: that method and annotator again at the best point and its
# neighbour past the edge (the best point is reused), until no best point is on an edge or after
# SWEEP_MAX_ROUNDS rounds (default 3; sweep.md then marks the edges left).
for round in $(seq 1 "${SWEEP_MAX_ROUNDS:-3}"); do
    extensions="$(python3 "$root/scripts/sweep-choose.py" "$out" "$command_line")"
    [ -n "$extensions" ] || break
    while read -r method annotator betas lrs; do
        # "-": an axis the method does not have (sft's beta); its compare run takes the usual grid.
        [ "$betas" = - ] && betas="$(betas_for "$method")"
        [ "$lrs" = - ] && lrs="$lr_grid"
        echo "sweep: round $round: $method on $annotator's pairs: the best point is on the grid's edge; beta {$betas} x lr {$lrs}"
        sweep_run "$method" "$annotator" "$betas" "$lrs" "round$round-$method-$annotator"
    done <<< "$extensions"
done
python3 "$root/scripts/sweep-choose.py" "$out" "$command_line" > /dev/null
echo "Took $(( $(date +%s) - start )) s." >> "$out/sweep.md"
cat "$out/sweep.md"
