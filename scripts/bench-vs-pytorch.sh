#!/usr/bin/env bash
# Issue 5's benchmark: dde-train against PyTorch + diffusers (scripts/bench_pytorch.py) on the
# same U-Net, steps and two threads. Each round runs, for each measurement (pretrain, dpo, dde,
# sample), `dde-train bench --config configs/bench.conf --json --only MODE` and then
# `bench_pytorch.py --json --only MODE`, each in its own process so that a peak memory is that
# step's; the table has each metric's median over the rounds. All of it twice: with the
# environment as set, and with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for both commands.
#   scripts/bench-vs-pytorch.sh
#   ROUNDS=5 DDE_TRAIN=path/to/dde-train scripts/bench-vs-pytorch.sh
#   CONFIG=configs/bench-cond.conf scripts/bench-vs-pytorch.sh     (the cross-attention U-Net, issue 15)
# ROUNDS: rounds per setting (default 3). DDE_TRAIN: the binary (default .build/release/dde-train,
# built with scripts/setup when missing). Both sides take warm-up, timed steps and sampling runs
# from the resolved configs/bench.conf (bench.warmup, bench.repeats, bench.sample_repeats,
# bench.sample_images). torch 2.13.0+cpu, diffusers and safetensors come from the Python
# environment scripts/check-diffusers.sh caches (made here when missing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${ROUNDS:-3}"
conf="$root/${CONFIG:-configs/bench.conf}"
modes=(pretrain dpo dde sample)

fail() { echo "bench-vs-pytorch: $*" >&2; exit 1; }
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || fail "ROUNDS must be a positive whole number, not '$rounds'"

# The Python environment scripts/check-diffusers.sh makes and caches (torch 2.13.0+cpu, diffusers).
venv="${DDE_PYENV:-$HOME/.cache/dde-train/venv-diffusers}"
ready="import diffusers, safetensors, torch; assert torch.__version__ == '2.13.0+cpu'"
if ! "$venv/bin/python" -c "$ready" 2>/dev/null; then
    echo "bench-vs-pytorch: installing torch 2.13.0+cpu, diffusers and safetensors into $venv" >&2
    python3 -m venv "$venv" || fail "python3 -m venv $venv failed"
    # Pinned (an unpinned torch pulls the CUDA packages): the machine's wheels, else PyTorch's CPU index.
    { "$venv/bin/pip" install -q "torch==2.13.0+cpu" 2>/dev/null \
        || "$venv/bin/pip" install -q --extra-index-url https://download.pytorch.org/whl/cpu "torch==2.13.0+cpu"; } >&2 \
        && "$venv/bin/pip" install -q diffusers transformers safetensors >&2 || fail "pip install into $venv failed"
fi

dde="${DDE_TRAIN:-$root/.build/release/dde-train}"
if [ -z "${DDE_TRAIN:-}" ] && [ ! -x "$dde" ]; then
    "$root/scripts/setup" || fail "scripts/setup could not build dde-train"
fi
[ -x "$dde" ] || fail "no dde-train binary at $dde"

# Both sides measure what the resolved configs/bench.conf says (sampling: 1 untimed run).
resolved="$("$dde" config --config "$conf")" || fail "dde-train config --config $conf failed"
setting() { awk -v key="$1" '$1 == key { print $3 }' <<<"$resolved"; }
warmup="$(setting bench.warmup)"
repeats="$(setting bench.repeats)"
sample_repeats="$(setting bench.sample_repeats)"
sample_images="$(setting bench.sample_images)"
[ -n "$warmup" ] && [ -n "$repeats" ] && [ -n "$sample_repeats" ] && [ -n "$sample_images" ] ||
    fail "$conf resolves without bench.warmup, bench.repeats, bench.sample_repeats or bench.sample_images"

# The network the config names: PyTorch builds the same class (bench_pytorch.py --model).
model=plain
[ "$(setting model.class)" = UNet2DConditionModel ] && model=cond

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# measure NAME OUT COMMAND...: COMMAND's stdout into OUT; on failure one line and exit 1.
measure() {
    local name="$1" out="$2" status=0
    shift 2
    "$@" >"$out" 2>"$out.err" || status=$?
    ((status == 0)) || fail "$name failed (exit status $status): $(tail -n 1 "$out.err")"
}

# summarise FOLDER TITLE: the table of one setting from FOLDER/{dde,pytorch}-MODE-ROUND.json.
summarise() {
    "$venv/bin/python" - "$1" "$2" "$rounds" "$warmup" "$repeats" <<'EOF'
import collections, json, statistics, sys
from pathlib import Path

folder, title, rounds, warmup, repeats = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
modes = ("pretrain", "dpo", "dde", "sample")
sides = {"dde": "dde-train bench", "pytorch": "bench_pytorch.py"}


def runs(side, mode):
    for r in range(1, rounds + 1):
        text = (folder / f"{side}-{mode}-{r}.json").read_text()
        try:
            yield json.loads(text)
        except json.JSONDecodeError:
            sys.exit(f"bench-vs-pytorch: {sides[side]} --only {mode} did not print one JSON object: {text[:80]!r}")


def median(side, mode, key):
    values = [run.get(key) for run in runs(side, mode)]
    if None in values:
        sys.exit(f"bench-vs-pytorch: {sides[side]} --only {mode} printed no {key}")
    return statistics.median(values)


# (label, mode, key, lower is better, PyTorch's memory format shown): the ratio is
# dde-train/PyTorch when lower is better, PyTorch/dde-train for rates, so that below 1 always
# means dde-train is better.
rows = [("pretrain step ms", "pretrain", "pretrain_step_ms", True, True),
        ("DPO step ms", "dpo", "dpo_step_ms", True, True),
        ("DDE step ms", "dde", "dde_step_ms", True, True),
        ("sampling images/s", "sample", "sample_images_per_s", False, True),
        ("GFLOP/s (pretrain)", "pretrain", "gflops_per_s", False, False)]
rows += [(f"peak RSS MB {mode}", mode, "peak_rss_mb", True, False) for mode in modes]
values = {(side, mode, key): median(side, mode, key) for _, mode, key, _, _ in rows for side in sides}
largest = {side: max(values[side, mode, "peak_rss_mb"] for mode in modes) for side in sides}

pytorch = next(runs("pytorch", "pretrain"))
sampling = next(runs("pytorch", "sample"))
print(title)
print(f"PyTorch: torch {pytorch['torch']}, diffusers {pytorch['diffusers']}, {pytorch['threads']} threads, "
      f"{pytorch['baseline_rss_mb']:.0f} MB resident after import + model build")
print(f"median of {rounds} rounds of: median of {repeats} steps after {warmup} warm-up; "
      f"sampling {sampling['sample_images']} images: median of {sampling['sample_repeats']} runs "
      f"after {sampling['sample_warmup']}")
print("ratio below 1 = dde-train better: dde-train/PyTorch for times and memory, "
      "PyTorch/dde-train for images/s and GFLOP/s")
print(f"{'metric':<24}{'dde-train':>11}{'PyTorch':>11}{'ratio':>8}  PyTorch memory format")
for label, mode, key, lower, show_format in rows + [("peak RSS MB (largest)", None, None, True, False)]:
    d, p = (largest[s] if mode is None else values[s, mode, key] for s in sides)
    chosen = ""
    if show_format:
        formats = collections.Counter(run[mode + "_memory_format"] for run in runs("pytorch", mode))
        chosen = ", ".join(f"{f} {n}/{rounds}" for f, n in formats.most_common())
    print(f"{label:<24}{d:>11.1f}{p:>11.1f}{(d / p if lower else p / d):>8.2f}  {chosen}".rstrip())
print()
EOF
}

for setting in "as set" "unset"; do
    if [ "$setting" = "unset" ]; then
        prefix=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
        values="OPENBLAS_CORETYPE=(unset) OPENBLAS_L2_SIZE=(unset)"
    else
        prefix=()
        values="OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-(unset)} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-(unset)}"
    fi
    folder="$work/${setting// /-}"
    mkdir -p "$folder"
    for ((r = 1; r <= rounds; r++)); do
        for mode in "${modes[@]}"; do
            echo "bench-vs-pytorch: environment $setting, round $r/$rounds, $mode" >&2
            measure "dde-train bench --only $mode" "$folder/dde-$mode-$r.json" \
                "${prefix[@]}" "$dde" bench --config "$conf" --json --only "$mode"
            measure "bench_pytorch.py --only $mode" "$folder/pytorch-$mode-$r.json" \
                "${prefix[@]}" "$venv/bin/python" "$root/scripts/bench_pytorch.py" --json --only "$mode" \
                --warmup "$warmup" --repeats "$repeats" \
                --sample-repeats "$sample_repeats" --sample-images "$sample_images" --model "$model"
        done
    done
    summarise "$folder" "environment $setting: $values"
done
