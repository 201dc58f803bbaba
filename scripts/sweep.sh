#!/usr/bin/env bash
# Fair tuning (testbed.md): every method gets the same grid of beta x learning rate and the same
# step budget, scored on the VALIDATION prompts (never the test prompts), with two fine-tune
# seeds per point so the seed-to-seed spread shows next to the bootstrap interval. Per method
# the point with the largest mean change of the labelling annotator (mean over seeds) is chosen
# and written as config keys to <folder>/chosen.conf (sft.lr, uniform.beta, uniform.lr, ...),
# with the whole grid in sweep.csv / sweep.md.
#   scripts/sweep.sh [CONFIG] [key=value ...]     (default folder runs/sweep-<config>)
# The grid and its scope are keys like any other, e.g. compare.beta=500,5000 compare.annotators=align.
# Defaults: beta 250,1000,5000,20000 x lr 1e-5,3e-5 (DDE's z scales with kappa b2_t, whose median
# over t is 2.6 and mean 20 for scaled_linear, so its useful betas sit below Uniform's: the grid
# spans both); the pick annotator's pairs; seeds 0,1; 48 validation prompts x 12 images. About an
# hour on two cores for configs/sd15.conf.
source "$(dirname "${BASH_SOURCE[0]}")/experiment-common.sh"
start=$(date +%s)
run_compare compare.methods=sft,uniform,discounted,dde compare.annotators=pick compare.seeds=0,1 \
    compare.beta=250,1000,5000,20000 compare.lr=1e-5,3e-5 eval.prompts=validation eval.images_per_prompt=12

csv="$out/sweep.csv"
[ -f "$csv" ] || { echo "sweep: $csv was not written" >&2; exit 1; }
{
    echo "# chosen by scripts/sweep.sh $config ${overrides[*]+${overrides[*]}} on $(date -u +%Y-%m-%d)"
    echo "# (validation prompts; per method the grid point with the largest mean change of the"
    echo "# annotator that labelled its pairs, mean over seeds; the whole grid: $out/sweep.md)"
    awk -F, 'NR > 1 && $1 != "base" && $3 == $4 {
        if (!($1 in best) || $8 + 0 > best[$1] + 0) { best[$1] = $8; setting[$1] = $2 }
    }
    END {
        for (m in best) {
            prefix = m
            n = split(setting[m], parts, " ")
            for (i = 1; i <= n; i++) {
                split(parts[i], kv, "=")
                printf "%s.%s = %s    # %+.2f%% on validation\n", prefix, kv[1], kv[2], best[m]
            }
        }
    }' "$csv" | sort
} > "$out/chosen.conf.tmp"
mv "$out/chosen.conf.tmp" "$out/chosen.conf"

{
    echo "# Sweep: $config ${overrides[*]+${overrides[*]}}"
    echo
    echo "Validation prompts; change of the labelling annotator's mean vs the base, mean over seeds, with the"
    echo "95% paired-bootstrap interval (mean of the seeds' intervals) and the range across seeds."
    echo
    echo "| method | setting | annotator | mean | change % | interval | seed spread (of the mean) | seeds |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
    awk -F, 'NR > 1 && $1 != "base" && $3 == $4 {
        printf "| %s | %s | %s | %.4f | %+.2f | [%+.2f, %+.2f] | %.4f | %s |\n", $1, $2, $3, $5, $8, $9, $10, $12, $13
    }' "$csv"
    echo
    echo "Chosen (written to $out/chosen.conf):"
    echo
    echo '```'
    grep -v '^#' "$out/chosen.conf"
    echo '```'
    echo
    echo "Took $(( $(date +%s) - start )) s."
} > "$out/sweep.md.tmp"
mv "$out/sweep.md.tmp" "$out/sweep.md"
cat "$out/sweep.md"
