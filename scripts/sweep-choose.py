#!/usr/bin/env python3
"""The choice step of scripts/sweep.sh: from the sweep's sweep*.csv files (one per compare run in
the folder; rows of the same grid point are the same fine-tunes), per method and annotator the grid
point with the largest mean change of that annotator on the validation prompts (mean over
seeds); writes FOLDER/chosen.conf (`<method>.beta.by_annotator = align:...,pick:...` and the same
for lr) and FOLDER/sweep.md, and prints, one per line, each (method, annotator) whose best point is
on an edge of the grid it was tried on, with the best point and its new neighbour past that edge:

    METHOD ANNOTATOR BETAS LRS        (comma-separated; BETAS "-" for a method without beta, sft)

    scripts/sweep-choose.py FOLDER "COMMAND LINE OF THE SWEEP"
"""
import csv
import glob
import os
import sys
from collections import defaultdict

BETA_STEP = 4.0  # the grid's ratio between neighbouring betas when it is extended
LR_STEP = 3.0
MAX_BETA, MIN_BETA, MAX_LR, MIN_LR = 1e9, 1e-6, 1e-3, 1e-7  # MaPO and DSPO betas sit below 1


def setting_values(setting):
    values = {}
    for part in setting.split():
        key, _, value = part.partition("=")
        values[key] = float(value)
    return values


def extended(best, grid, step, lowest, highest, name, edges):
    """`grid` grown by one point (a factor `step`) past each end `best` sits on, within
    [lowest, highest]; each such end named in `edges` ("lowest beta", ...). A one-point grid has
    no edge."""
    grown = list(grid)
    if best is None or len(grid) < 2:
        return grown
    if best == grid[0] and best / step >= lowest:
        edges.append(f"lowest {name}")
        grown.insert(0, best / step)
    if best == grid[-1] and best * step <= highest:
        edges.append(f"highest {name}")
        grown.append(best * step)
    return grown


def short(v):
    return f"{v:g}"


def main(folder, command):
    rows = {}
    for path in sorted(glob.glob(os.path.join(folder, "sweep*.csv"))):
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                rows[(r["method"], r["setting"], r["train_annotator"], r["eval_annotator"])] = r
    if not rows:
        print(f"sweep-choose: no sweep*.csv in {folder}", file=sys.stderr)
        sys.exit(1)
    points = defaultdict(list)  # (method, annotator) -> [(change, beta, lr, row)]
    for (method, setting, train, evaluated), r in rows.items():
        if method == "base" or train != evaluated or not r["change_pct"]:
            continue
        v = setting_values(setting)
        points[(method, train)].append((float(r["change_pct"]), v.get("beta"), v.get("lr"), r))
    chosen = defaultdict(dict)  # method -> key -> {annotator: value}
    table, extensions = [], []
    for (method, annotator), tried in sorted(points.items()):
        change, beta, lr, _ = max(tried, key=lambda p: p[0])
        betas = sorted({p[1] for p in tried if p[1] is not None})
        lrs = sorted({p[2] for p in tried if p[2] is not None})
        if beta is not None:
            chosen[method].setdefault("beta", {})[annotator] = beta
        if lr is not None:
            chosen[method].setdefault("lr", {})[annotator] = lr
        edges = []
        new_betas = extended(beta, betas, BETA_STEP, MIN_BETA, MAX_BETA, "beta", edges)
        new_lrs = extended(lr, lrs, LR_STEP, MIN_LR, MAX_LR, "lr", edges)
        # The extension is local: the best point and its new neighbour along each edge axis (two
        # fine-tunes a seed when one axis is on the edge, four when both), not the whole grid
        # grown by a row (a quarter of the cost with four betas; the rest of the row lies away from
        # the best point).
        new_betas = [b for b in new_betas if b == beta or b not in betas]
        new_lrs = [l for l in new_lrs if l == lr or l not in lrs]
        if edges:
            # "-" stands for an axis the method does not have (sft's beta): the shell's `read`
            # would otherwise shift the learning rates into the empty field.
            extensions.append(f"{method} {annotator} {','.join(map(short, new_betas)) or '-'} {','.join(map(short, new_lrs)) or '-'}")
        for c, b, l, r in sorted(tried, key=lambda p: (p[1] or 0, p[2] or 0)):
            mark = " **chosen**" + (f" (on the {', '.join(edges)} edge)" if edges else "") if (c, b, l) == (change, beta, lr) else ""
            table.append(f"| {method} | {annotator} | {r['setting']} | {float(r['mean']):.4f} | {c:+.2f} | "
                         f"[{float(r['change_ci_low']):+.2f}, {float(r['change_ci_high']):+.2f}] | {float(r['seed_spread']):.4f} | "
                         f"{r['seeds']} |{mark} |")
    conf = [f"# chosen by {command}", "# (validation prompts; per method and annotator the grid point with the largest mean change",
            "# of that annotator, mean over seeds; the whole grid: sweep.md)"]
    for method in sorted(chosen):
        for key in ("beta", "lr"):
            if key in chosen[method]:
                entries = ",".join(f"{a}:{short(v)}" for a, v in sorted(chosen[method][key].items()))
                conf.append(f"{method}.{key}.by_annotator = {entries}")
    with open(os.path.join(folder, "chosen.conf.tmp"), "w", encoding="utf-8") as f:
        f.write("\n".join(conf) + "\n")
    os.replace(os.path.join(folder, "chosen.conf.tmp"), os.path.join(folder, "chosen.conf"))
    md = [f"# Sweep: {command}", "",
          "Validation prompts; change of the labelling annotator's mean vs the base, mean over seeds, with the 95% paired-bootstrap "
          "interval (mean of the seeds' intervals) and the range across seeds. A chosen point on an edge of the grid is marked; "
          "scripts/sweep.sh then tries its neighbour past that edge and chooses again.", "",
          "| method | annotator | setting | mean | change % | interval | seed spread (of the mean) | seeds | |",
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"] + table + ["", "Chosen (chosen.conf):", "", "```"] + conf[3:] + ["```", ""]
    with open(os.path.join(folder, "sweep.md.tmp"), "w", encoding="utf-8") as f:
        f.write("\n".join(md))
    os.replace(os.path.join(folder, "sweep.md.tmp"), os.path.join(folder, "sweep.md"))
    for line in extensions:
        print(line)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    main(sys.argv[1], sys.argv[2])
