#!/usr/bin/env bash
# The LoRA DPO step against the full one (issue 16): `dde-train bench --only dpo` and
# `--only lora-dpo` (rank 8 on to_q, to_k, to_v, to_out.0 unless the config sets lora.*), each in
# its own process so that each peak resident size is its own, alternated for ROUNDS rounds in one
# run. Prints every round, then the medians and the ratios (LoRA / full).
#
# Usage: scripts/bench-lora.sh [CONFIG] [key=value ...]     (default configs/bench-cond.conf)
# Environment: ROUNDS (default 5), DDE_TRAIN=path (default: scripts/setup's release build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
config="${1:-configs/bench-cond.conf}"
[ $# -gt 0 ] && shift
rounds="${ROUNDS:-5}"
if [ -z "${DDE_TRAIN:-}" ]; then
    "$root/scripts/setup"
    DDE_TRAIN="$root/.build/release/dde-train"
fi
echo "bench-lora: $config $*; $rounds rounds alternated; commit $(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo -dirty); $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-(unset)}"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for round in $(seq 1 "$rounds"); do
    for part in dpo lora-dpo; do
        line="$("$DDE_TRAIN" bench --config "$config" "$@" --only "$part" --json)"
        echo "$round $part $line" >> "$results"
    done
done
python3 - "$results" <<'PY'
import json, statistics, sys
rows = {"dpo": [], "lora-dpo": []}
for line in open(sys.argv[1]):
    round_, part, text = line.split(" ", 2)
    d = json.loads(text)
    ms = d["dpo_step_ms" if part == "dpo" else "lora_dpo_step_ms"]
    rows[part].append((ms, d["peak_rss_mb"]))
    print(f"round {round_}  {part:9s} step {ms:8.1f} ms  peak {d['peak_rss_mb']:7.1f} MB")
med = {p: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for p, v in rows.items()}
for p, (ms, mb) in med.items():
    print(f"median    {p:9s} step {ms:8.1f} ms  peak {mb:7.1f} MB")
(fm, fp), (lm, lp) = med["dpo"], med["lora-dpo"]
print(f"LoRA / full: step time {lm / fm:.3f}, peak memory {lp / fp:.3f} ({100 * (1 - lp / fp):.1f}% lower)")
PY
