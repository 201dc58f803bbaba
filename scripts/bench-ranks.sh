#!/usr/bin/env bash
# Two single-threaded MPI ranks against one process with two threads (why configs/sd15.conf sets
# ranks = 2, threads = 1): `dde-train bench` (pretrain, DPO and DDE steps, sampling) both ways,
# alternated for ROUNDS rounds in one run. Prints every round, then the medians and the ratios
# (one process / two ranks for step times, two ranks / one process for images per second: above
# 1 means the two ranks are faster).
#
# Usage: scripts/bench-ranks.sh [CONFIG] [key=value ...]     (default configs/sd15.conf)
# Environment: ROUNDS (default 5), DDE_TRAIN=path (default: scripts/setup's release build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
config="${1:-configs/sd15.conf}"
[ $# -gt 0 ] && shift
rounds="${ROUNDS:-5}"
if [ -z "${DDE_TRAIN:-}" ]; then
    "$root/scripts/setup"
    DDE_TRAIN="$root/.build/release/dde-train"
fi
echo "bench-ranks: $config $*; $rounds rounds alternated; commit $(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo -dirty); $(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) cores"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-(unset)}"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for round in $(seq 1 "$rounds"); do
    for setting in "ranks=1 threads=2" "ranks=2 threads=1"; do
        # shellcheck disable=SC2086
        line="$("$DDE_TRAIN" bench --config "$config" "$@" $setting --json 2>/dev/null)"
        echo "$round ${setting// /,} $line" >> "$results"
    done
done
python3 - "$results" <<'PY'
import json, statistics, sys
fields = [("pretrain_step_ms", "pretrain step ms"), ("dpo_step_ms", "DPO step ms"), ("dde_step_ms", "DDE step ms"),
          ("sample_images_per_s", "sampling images/s")]
rows = {}
for line in open(sys.argv[1]):
    round_, setting, text = line.split(" ", 2)
    d = json.loads(text)
    rows.setdefault(setting, []).append(d)
    print(f"round {round_}  {setting:17s} " + "  ".join(f"{label} {d[key]:8.2f}" for key, label in fields))
one, two = rows["ranks=1,threads=2"], rows["ranks=2,threads=1"]
for setting, ds in rows.items():
    print(f"median    {setting:17s} " + "  ".join(f"{label} {statistics.median(d[key] for d in ds):8.2f}" for key, label in fields))
for key, label in fields:
    a, b = statistics.median(d[key] for d in one), statistics.median(d[key] for d in two)
    speedup = b / a if key.endswith("per_s") else a / b
    print(f"speed-up of 2 ranks x 1 thread over 1 process x 2 threads, {label}: {speedup:.2f}")
PY
