#!/usr/bin/env bash
# Users' pairs from outside (issue 18): a small Pick-a-Pic-v2-style parquet shard made here with
# pyarrow (the published columns; JPEG bytes of several sizes, neither square nor at sample_size;
# one tie) goes through scripts/import-pickapic.py and `dde-train train pairs=...` to a finished
# fine-tune, whose notes must count the tie. The Python side runs in scripts/python-env.sh's
# environment (pyarrow, pillow).
#   scripts/check-pickapic.sh BASE_MODEL   (a base model at configs/smoke.conf's sizes, e.g. the smoke run's pretrain/model.safetensors)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
base="${1:?usage: scripts/check-pickapic.sh BASE_MODEL}"
bin="${DDE_TRAIN:-$root/.build/release/dde-train}"
py="$(scripts/python-env.sh)"
work="$(mktemp -d "${TMPDIR:-/tmp}/check-pickapic.XXXXXX")"
trap 'rm -rf "$work"' EXIT

"$py" - "$work/shard.parquet" <<'PY'
import io, sys
import pyarrow as pa, pyarrow.parquet as pq
from PIL import Image

def jpeg(colour, size):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()

rows = []
colours = [((220, 30, 30), (30, 30, 220)), ((30, 200, 30), (240, 240, 240)), ((250, 250, 0), (20, 20, 20))]
for i in range(9):
    good, bad = colours[i % 3]
    label = 0.5 if i == 4 else float(i % 2)  # row 4 is a tie
    first, second = (good, bad) if label != 0 else (bad, good)
    rows.append({
        "are_different": True, "best_image_uid": f"uid-{i}-{0 if label == 1 else 1}", "caption": f"a picture number {i}",
        "created_at": "2023-05-01 00:00:00", "has_label": True, "image_0_uid": f"uid-{i}-0", "image_0_url": "", "image_1_uid": f"uid-{i}-1",
        "image_1_url": "", "jpg_0": jpeg(first, (48 + 8 * i, 32)), "jpg_1": jpeg(second, (32, 40 + 4 * i)), "label_0": label,
        "label_1": 1 - label, "model_0": "sd-1.5", "model_1": "sdxl", "ranking_id": 1000 + i, "user_id": 7, "num_example_per_prompt": 1,
    })
pq.write_table(pa.Table.from_pylist(rows), sys.argv[1])
PY
"$py" scripts/import-pickapic.py "$work/shard.parquet" out="$work/pickapic"
[ "$(wc -l < "$work/pickapic/pairs.jsonl")" -eq 9 ] || { echo "check-pickapic: pairs.jsonl does not have the shard's 9 rows" >&2; exit 1; }
"$bin" train --config configs/smoke.conf loss=dde base="$base" pairs="$work/pickapic/pairs.jsonl" out="$work/run" steps=4 \
    2> "$work/train.log" > "$work/train.out" || { cat "$work/train.log" >&2; echo "check-pickapic: the fine-tune failed" >&2; exit 1; }
model="$(tail -n 1 "$work/train.out")"
[ -f "$model" ] || { echo "check-pickapic: no fine-tuned model at '$model'" >&2; exit 1; }
grep -q "pairs: 8 pairs from .*, 1 ties" "$work/train.log" \
    || { cat "$work/train.log" >&2; echo "check-pickapic: the fine-tune did not count 8 pairs and 1 tie" >&2; exit 1; }
echo "check-pickapic: a Pick-a-Pic-style shard (9 rows of JPEGs, 1 tie) imported and fine-tuned on: $model"
