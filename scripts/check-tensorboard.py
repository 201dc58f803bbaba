#!/usr/bin/env python3
"""Reads a run folder's TensorBoard events back with TensorBoard's own reader and checks them
against the stage logs they mirror; exits 1 on any difference.

    python scripts/check-tensorboard.py RUN_FOLDER     (with scripts/python-env.sh's python)

For every stage folder holding events.out.tfevents.dde-train: TensorBoard's EventAccumulator
(which checks each record's CRC-32C) loads it; each scalar `<log>/<column>` must equal the
log's CSV (`<log>.csv`) at every step, in float32, and every CSV column must be there; a
folder with `samples/step-N.png` (pretraining) must hold one `samples` image per file, at the
same step, with the same PNG bytes as the file.
Columns of logs mirrored per row (`heldout-by-t/accuracy/t=1-100`) are checked against their rows.
"""
import csv
import math
import os
import struct
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

MIRRORED = {"metrics": None, "validation": None, "heldout": None, "heldout-by-t": ("t", ["t_low", "t_high"])}


def f32(x):
    """A CSV cell as the float32 TensorBoard holds (the logs write NaN as `null`, infinities as
    `Infinity`); NaN as a string, so that equal logs compare equal."""
    if x in ("null", "NaN", "nan"):
        return "nan"
    value = struct.unpack("<f", struct.pack("<f", float(x)))[0]
    return "nan" if math.isnan(value) else value


def tb(value):
    return "nan" if math.isnan(value) else value


def fmt(v):
    v = float(v)
    return str(int(v)) if v == int(v) else repr(v)


def check_stage(folder):
    problems, checked = [], 0
    acc = EventAccumulator(folder, size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    tags = acc.Tags()
    scalars = set(tags.get("scalars", []))
    for log, per_row in MIRRORED.items():
        path = os.path.join(folder, log + ".csv")
        if not os.path.exists(path):
            continue
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        expected = {}  # tag -> [(step, value)]
        for row in rows:
            label = ""
            if per_row:
                name, keys = per_row
                label = f"/{name}=" + "-".join(fmt(row[k]) for k in keys)
            for column, value in row.items():
                if column == "step" or (per_row and column in per_row[1]) or value in ("", None):
                    continue
                expected.setdefault(f"{log}/{column}{label}", []).append((int(row["step"]), f32(value)))
        for tag, points in expected.items():
            if tag not in scalars:
                problems.append(f"{folder}: no scalar {tag}")
                continue
            got = [(e.step, tb(e.value)) for e in acc.Scalars(tag)]
            if got != points:
                first = next((i for i, (a, b) in enumerate(zip(got, points)) if a != b), min(len(got), len(points)))
                problems.append(f"{folder}: {tag}: {len(got)} events against {len(points)} rows, first difference at {first + 1}")
            checked += 1
    samples = os.path.join(folder, "samples")
    if os.path.isdir(samples):
        files = sorted(n for n in os.listdir(samples) if n.endswith(".png"))
        images = acc.Images("samples") if "samples" in tags.get("images", []) else []
        if [e.step for e in images] != [int(n[5:-4]) for n in files]:
            problems.append(f"{folder}: sample images at steps {[e.step for e in images]}, files {files}")
        for e, name in zip(images, files):
            with open(os.path.join(samples, name), "rb") as f:
                if e.encoded_image_string != f.read():
                    problems.append(f"{folder}: the samples image at step {e.step} is not {name}")
            checked += 1
    return checked, problems


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    run = sys.argv[1]
    stages, checked, problems = 0, 0, []
    for name in sorted(os.listdir(run)):
        folder = os.path.join(run, name)
        if os.path.exists(os.path.join(folder, "events.out.tfevents.dde-train")):
            n, p = check_stage(folder)
            stages, checked, problems = stages + 1, checked + n, problems + p
    if stages == 0:
        problems.append(f"{run}: no stage folder holds TensorBoard events")
    for p in problems:
        print("check-tensorboard: " + p, file=sys.stderr)
    print(f"check-tensorboard: {stages} stages, {checked} scalar series and images read back by TensorBoard's reader"
          + ("" if not problems else f"; {len(problems)} problems"))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
