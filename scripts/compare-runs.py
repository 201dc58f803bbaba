#!/usr/bin/env python3
"""Compares two dde-train run folders file by file; prints a table; exits 1 on any mismatch.

Usage: scripts/compare-runs.py A B [--detail] [--other-build]

What counts as equal (issue 6: "weights, record, metrics (wall-clock fields aside) and report
bit-identical"):
  *.safetensors   every tensor's bytes, and the metadata but `config` (the resolved config names
                  the run folder and `resume`), `train_seconds` (wall clock) and `stage_signature`
                  (which keys and inputs a stage depends on: it changes when that list does), and
                  a LoRA fine-tune's `lora_base` (its base's path as given, under the run folder;
                  `lora_base_relative` and the base's digest `lora_base_digest` are compared)
  *.csv, *.jsonl  every field but the `seconds` column / key (wall clock)
  events.out.tfevents.*  every event's step and summary values but the `*/seconds` scalars,
                  without the events' wall times (TensorBoard's record format, read here)
  everything else the bytes (PNG samples and grids, pairs.jsonl, record.csv, report.csv, ...)
A text file that names its run folder (report.html) is compared with the folder's path taken out.
Left out: config.resolved.conf (names the run folder), artifacts.txt (sizes and hashes of the
logs, seconds included), signature.txt (see stage_signature), hidden files (the run lock,
temporaries: listed if any remain).

--other-build: A and B were made by different builds (before and after a change): the
metadata `git_commit`, `dde_train_version` and the checksum `dde.data_fnv1a64` (which older builds
did not write) are left out too, and the commit a page names.

--detail: for tensors that differ, the number of differing values and the largest absolute
difference (F32), e.g. to measure what changes between thread counts.

Only the Python standard library; the safetensors layout is read directly (8-byte header
length, JSON header, data).
"""
import array
import json
import os
import re
import struct
import sys

# run-info.txt records when and by which build a run ran: it differs between any two runs.
SKIPPED = {"config.resolved.conf", "artifacts.txt", "signature.txt", "run-info.txt"}
IGNORED_META = {"config", "train_seconds", "stage_signature", "lora_base"}
# dde.data_fnv1a64: the tensor bytes' checksum (issue 14), absent in files of older builds; the
# tensors themselves are compared.
BUILD_META = {"git_commit", "dde_train_version", "dde.data_fnv1a64"}


def files(root):
    out = []
    for folder, _, names in os.walk(root):
        for name in names:
            out.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(out)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    start = 8 + n
    tensors = {k: (v["dtype"], v["shape"], data[start + v["data_offsets"][0]:start + v["data_offsets"][1]])
               for k, v in header.items()}
    return meta, tensors


def tensor_detail(name, a, b):
    dtype, _, x = a
    _, _, y = b
    if dtype != "F32" or len(x) != len(y):
        return f"{name} ({dtype}) differs"
    fx, fy = array.array("f", x), array.array("f", y)
    diffs = [abs(p - q) for p, q in zip(fx, fy) if p != q]
    return f"{name}: {len(diffs)}/{len(fx)} values differ, max |diff| {max(diffs):.3g}"


def compare_safetensors(pa, pb, detail):
    ma, ta = read_safetensors(pa)
    mb, tb = read_safetensors(pb)
    problems = []
    if sorted(ta) != sorted(tb):
        problems.append("tensor names differ")
    for name in sorted(set(ta) & set(tb)):
        if ta[name] != tb[name]:
            problems.append(tensor_detail(name, ta[name], tb[name]) if detail else f"tensor {name}")
    ignored = IGNORED_META | (BUILD_META if "--other-build" in sys.argv else set())
    for key in sorted((set(ma) | set(mb)) - ignored):
        if ma.get(key) != mb.get(key):
            problems.append(f"metadata {key}")
    return problems


def csv_rows(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    header = lines[0].split(",")
    keep = [i for i, h in enumerate(header) if h != "seconds"]
    return [[fields[i] for i in keep if i < len(fields)] for fields in (line.split(",") for line in lines)]


def jsonl_rows(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            row.pop("seconds", None)
            rows.append(row)
    return rows


def varint(data, at):
    value, shift = 0, 0
    while True:
        b = data[at]
        at += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, at
        shift += 7


def proto_fields(data):
    """(field, wire type, value) of a protocol buffer: an int, or the bytes of wire types 1, 2, 5."""
    at, out = 0, []
    while at < len(data):
        key, at = varint(data, at)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, at = varint(data, at)
        elif wire == 1:
            value, at = data[at:at + 8], at + 8
        elif wire == 2:
            n, at = varint(data, at)
            value, at = data[at:at + n], at + n
        elif wire == 5:
            value, at = data[at:at + 4], at + 4
        else:
            raise ValueError(f"wire type {wire}")
        out.append((field, wire, value))
    return out


def tensorboard_events(path):
    """A TensorBoard event file's events as (step, [summary values]) without wall times (field 1)
    and without the `*/seconds` scalars; the records' framing is checked by length only."""
    with open(path, "rb") as f:
        data = f.read()
    at, events = 0, []
    while at + 12 <= len(data):
        (n,) = struct.unpack("<Q", data[at:at + 8])
        record = data[at + 12:at + 12 + n]
        at += 16 + n
        step, values, version = 0, [], None
        for field, _, value in proto_fields(record):
            if field == 2:
                step = value
            elif field == 3:
                version = value
            elif field == 5:
                for _, _, v in proto_fields(value):
                    tag = dict((f, x) for f, _, x in proto_fields(v)).get(1, b"")
                    if not tag.endswith(b"/seconds"):
                        values.append(v)
        events.append((step, version, values))
    return events


def compare_file(pa, pb, detail, roots):
    if os.path.basename(pa).startswith("events.out.tfevents"):
        ea, eb = tensorboard_events(pa), tensorboard_events(pb)
        if ea == eb:
            return []
        first = next((i for i, (x, y) in enumerate(zip(ea, eb)) if x != y), min(len(ea), len(eb)))
        return [f"{len(ea)} vs {len(eb)} events, first difference at event {first + 1}"]
    if pa.endswith(".safetensors"):
        return compare_safetensors(pa, pb, detail)
    if pa.endswith(".csv"):
        ra, rb = csv_rows(pa), csv_rows(pb)
        if ra == rb:
            return []
        first = next((i for i, (x, y) in enumerate(zip(ra, rb)) if x != y), min(len(ra), len(rb)))
        return [f"{len(ra)} vs {len(rb)} lines, first difference at line {first + 1}"]
    if pa.endswith(".jsonl"):
        return [] if jsonl_rows(pa) == jsonl_rows(pb) else ["rows differ"]
    with open(pa, "rb") as fa, open(pb, "rb") as fb:
        x, y = fa.read(), fb.read()
    # A page that names its run folder (report.html) names A's or B's: the same page.
    x, y = x.replace(roots[0].encode(), b"<run>"), y.replace(roots[1].encode(), b"<run>")
    if "--other-build" in sys.argv:  # the page's footer names the build's commit
        x, y = (re.sub(rb"commit ([0-9a-f]{12}|unknown)", b"commit <build>", t) for t in (x, y))
    return [] if x == y else ["bytes differ"]


def kind(path):
    name = os.path.basename(path)
    if path.startswith("pairs-"):
        return "pairs"
    if name.startswith("report") or path.startswith("report/"):
        return "report"
    if name.endswith(".safetensors"):
        return "checkpoints" if "/checkpoints/" in "/" + path else "weights"
    if name.startswith("record"):
        return "DDE record"
    if name.endswith((".csv", ".jsonl")) or name.startswith("events.out.tfevents"):
        return "metrics"
    return "other files"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    detail = "--detail" in sys.argv
    if len(args) != 2:
        sys.exit(__doc__)
    a, b = args
    fa, fb = files(a), files(b)
    rows = {}  # (stage, kind) -> [compared, matched, problems]
    leftovers = [p for p in fb if os.path.basename(p).startswith(".") and ".tmp-" in p]
    for path in sorted(set(fa) | set(fb)):
        name = os.path.basename(path)
        if name in SKIPPED or name.startswith("."):
            continue
        stage = path.split("/")[0] if "/" in path else "(run folder)"
        if stage == "report":
            stage = "(run folder)"
        row = rows.setdefault((stage, kind(path)), [0, 0, []])
        row[0] += 1
        if path not in fa or path not in fb:
            row[2].append(f"{path}: only in {'A' if path in fa else 'B'}")
            continue
        problems = compare_file(os.path.join(a, path), os.path.join(b, path), detail, (a.rstrip("/"), b.rstrip("/")))
        if problems:
            row[2].append(f"{path}: " + "; ".join(problems[:6]) + (f" (+{len(problems) - 6} more)" if len(problems) > 6 else ""))
        else:
            row[1] += 1
    width = max([len(s) for s, _ in rows] + [5])
    print(f"{'stage':<{width}}  {'what':<12} {'files':>5} {'equal':>5}  result")
    bad = False
    for (stage, what), (n, ok, problems) in sorted(rows.items()):
        print(f"{stage:<{width}}  {what:<12} {n:>5} {ok:>5}  {'match' if not problems else 'MISMATCH'}")
        for p in problems:
            print(f"{'':<{width}}    {p}")
        bad |= bool(problems)
    if leftovers:
        print("temporary files left in B: " + ", ".join(leftovers))
        bad = True
    print("A and B " + ("differ" if bad else "match") + f" ({sum(r[0] for r in rows.values())} files compared)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
