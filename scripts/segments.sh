#!/usr/bin/env bash
# The segment experiment (the paper's Fig. 3): the Uniform loss trained only on t in one
# segment of the trajectory, for the paper's segments and the full range, against the base.
# Writes the table, sweep.csv (one row per segment) and segments.svg (each segment a bar over
# the t it trained on, at its change vs the base) into its own folder.
#   scripts/segments.sh [CONFIG] [key=value ...]     (default folder runs/segments-<config>)
# The annotator is align (the paper's Fig. 3 scores CLIP score; align is its analog) unless
# compare.annotators=... is given; the seeds are the config's compare.seeds (three in sd15.conf).
# Writes claims.csv: 0.2:0.7 beats 0:1; 0:0.1 and 0.3:0.4 above the base, 0.9:1.0 below.
source "$(dirname "${BASH_SOURCE[0]}")/experiment-common.sh"
run_compare compare.methods=uniform compare.annotators=align \
    compare.t_range=0:0.1,0.3:0.4,0.5:0.6,0.7:0.8,0.9:1.0,0.2:0.7,0:1
