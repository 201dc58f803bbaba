#!/usr/bin/env bash
# The cached Python environment of the outside checks (diffusers in and out, TensorBoard's reader,
# the Pick-a-Pic import):
# torch==2.13.0+cpu, diffusers, transformers, safetensors, numpy, peft, tensorboard, pyarrow, pillow. Made once in
# ${DDE_PYENV:-$HOME/.cache/dde-train/venv-diffusers} (completed when a package is missing) and
# reused; prints its python's path on stdout, what it does on stderr.
#   py="$(scripts/python-env.sh)"
set -euo pipefail
venv="${DDE_PYENV:-$HOME/.cache/dde-train/venv-diffusers}"
if ! "$venv/bin/python" -c "import torch, diffusers, transformers, safetensors, peft, tensorboard, pyarrow, PIL" 2>/dev/null; then
    echo "python-env: making the Python environment in $venv (torch 2.13.0+cpu, diffusers, transformers, peft, tensorboard, pyarrow; once)" >&2
    python3 -m venv "$venv"
    # The +cpu build: from the machine's own wheels or index when it has it (this one: pip's
    # find-links), else from PyTorch's CPU index, which users' machines need (PyPI has no +cpu
    # builds, and an unpinned torch pulls the GPU packages).
    "$venv/bin/pip" install -q "torch==2.13.0+cpu" >&2 2>/dev/null \
        || "$venv/bin/pip" install -q "torch==2.13.0+cpu" --extra-index-url https://download.pytorch.org/whl/cpu >&2
    "$venv/bin/pip" install -q diffusers transformers safetensors numpy peft tensorboard pyarrow pillow >&2
fi
echo "$venv/bin/python"
