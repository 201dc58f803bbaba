#!/usr/bin/env bash
# The estimation ablation (the paper's Table 2, lower block): DDE, DDE-Single (rho = 0, the
# single-shot estimate alone) and DDE-Step (stepwise estimation over the whole trajectory),
# each trained on every annotator's pairs at its own beta and learning rate (dde-single.beta,
# dde-step.beta, ...; where unset, DDE's), from the main job's base and pairs. Writes report.md / report.csv / report.html into its own folder.
#   scripts/ablate-estimation.sh [CONFIG] [key=value ...]     (default folder runs/ablate-estimation-<config>)
source "$(dirname "${BASH_SOURCE[0]}")/experiment-common.sh"
run_compare compare.methods=dde,dde-single,dde-step
