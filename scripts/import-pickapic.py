#!/usr/bin/env python3
"""Turns Pick-a-Pic v2 parquet shards into a pairs file dde-train reads.

    scripts/import-pickapic.py SHARD.parquet... out=DIR [limit=N]

Reads the shards' columns as published (yuvalkirstain/pickapic_v2: `caption`, `jpg_0` and `jpg_1`
as JPEG bytes, `label_0`, `label_1`, and `ranking_id`, `model_0`, `model_1`, `best_image_uid` among
the others) and writes DIR/images/<n>_0.jpg, DIR/images/<n>_1.jpg (the JPEG bytes as they are, not
re-encoded) and DIR/pairs.jsonl, one row a line: caption, jpg_0, jpg_1 (paths relative to the
file), label_0, label_1. Ties (label_0 = 0.5) are written too: dde-train counts and skips them,
as the diffusers DPO script does. Rows without both images or without label_0 are left out and
counted. limit=N stops after N rows. Then:

    dde-train train --config configs/sd15.conf pairs=DIR/pairs.jsonl base=runs/sd15/pretrain/model.safetensors

Needs pyarrow (scripts/python-env.sh's environment has it). Writes pairs.jsonl last, under a
temporary name renamed into place, so a stopped import never leaves a pairs file that looks whole.
"""
import json
import os
import sys


def fail(message):
    print(f"import-pickapic: {message}", file=sys.stderr)
    sys.exit(64)


def arguments(argv):
    shards, out, limit = [], None, None
    for arg in argv:
        if arg.startswith("out="):
            out = arg[4:]
        elif arg.startswith("limit="):
            try:
                limit = int(arg[6:])
            except ValueError:
                fail(f"limit= takes a whole number, got '{arg[6:]}'")
            if limit < 1:
                fail("limit= must be at least 1")
        elif "=" in arg and not os.path.exists(arg):
            fail(f"unknown option '{arg}' (expected SHARD.parquet..., out=DIR, limit=N)")
        else:
            shards.append(arg)
    if not shards or not out:
        fail("usage: scripts/import-pickapic.py SHARD.parquet... out=DIR [limit=N]")
    for shard in shards:
        if not os.path.isfile(shard):
            fail(f"{shard}: no such file")
    return shards, out, limit


def jpeg_bytes(value):
    """A shard's image cell: bytes, or a {'bytes': ...} struct as the datasets library writes."""
    if isinstance(value, dict):
        value = value.get("bytes")
    return value if isinstance(value, (bytes, bytearray)) and len(value) > 0 else None


def main():
    shards, out, limit = arguments(sys.argv[1:])
    try:
        import pyarrow.parquet as pq
    except ImportError:
        fail("needs pyarrow: run it with scripts/python-env.sh's python, or pip install pyarrow")
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    rows, left_out, ties, n = [], 0, 0, 0
    for shard in shards:
        try:
            table = pq.read_table(shard)
        except Exception as error:  # pyarrow raises several kinds for a file that is not parquet
            fail(f"{shard}: not a readable parquet file ({error})")
        missing = [c for c in ("caption", "jpg_0", "jpg_1", "label_0") if c not in table.column_names]
        if missing:
            fail(f"{shard}: no column {', '.join(missing)} (Pick-a-Pic v2 shards have caption, jpg_0, jpg_1, label_0)")
        for record in table.to_pylist():
            if limit is not None and n >= limit:
                break
            n += 1
            a, b, label = jpeg_bytes(record["jpg_0"]), jpeg_bytes(record["jpg_1"]), record["label_0"]
            if a is None or b is None or label is None:
                left_out += 1
                continue
            if label == 0.5:
                ties += 1
            names = []
            for side, data in ((0, a), (1, b)):
                name = f"images/{n:07d}_{side}.jpg"
                with open(os.path.join(out, name), "wb") as f:
                    f.write(data)
                names.append(name)
            row = {"caption": record["caption"] or "", "jpg_0": names[0], "jpg_1": names[1], "label_0": float(label)}
            if record.get("label_1") is not None:
                row["label_1"] = float(record["label_1"])
            rows.append(row)
    path = os.path.join(out, "pairs.jsonl")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(path + ".tmp", path)
    print(f"import-pickapic: {len(rows)} rows ({ties} ties, which dde-train skips) -> {path}"
          + (f"; {left_out} rows without both images or a label left out" if left_out else ""))


if __name__ == "__main__":
    main()
