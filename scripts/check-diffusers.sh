#!/usr/bin/env bash
# By hand, not in CI: checks that an exported model gives the same epsilon in diffusers
# (torch 2.13.0+cpu) as in dde-train (max abs difference under 1e-4), and that a guided DDIM
# run replayed with diffusers' DDIMScheduler lands on the same images.
#   scripts/check-diffusers.sh CHECKPOINT [--config FILE] [key=value ...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
checkpoint="${1:?usage: scripts/check-diffusers.sh CHECKPOINT [--config FILE] [key=value ...]}"
shift
"$root/scripts/setup"
venv="$root/.venv"
if ! "$venv/bin/python" -c "import torch, diffusers, safetensors" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "torch==2.13.0+cpu" diffusers safetensors
fi
work="$(mktemp -d)"
"$root/.build/release/dde-train" export "$@" checkpoint="$checkpoint" out="$work/export"
"$root/.build/release/dde-train" sample "$@" checkpoint="$checkpoint" out="$work/sample" \
    prompts="a large red circle on a navy background;a small yellow square on a black background" n=3 seed=7 \
    sampler=ddim sample.eta=0 trace="$work/trace.safetensors" >/dev/null
"$venv/bin/python" "$root/scripts/check-diffusers.py" "$work/export" "$work/trace.safetensors"
