#!/usr/bin/env python3
"""Checks a `dde-train export` folder of a UNet2DConditionModel against diffusers and
transformers themselves (run by scripts/check-diffusers.sh in its Python environment):

  - UNet2DConditionModel.from_pretrained(DIR/unet) on the check batch of
    DIR/dde_train_check.safetensors gives dde-train's epsilon;
  - CLIPTextModel.from_pretrained(DIR/text_encoder) on the batch's token ids gives dde-train's
    last hidden states;
  - or, given FORWARD_IN and FORWARD_OUT (the output of `dde-train forward` on FORWARD_IN)
    instead: diffusers' output on FORWARD_IN (widened to float32) equals dde-train's.

Tolerance: float32 through a few dozen layers, compared relative to the output's scale
(max |a - b| / max |b| <= 1e-4); the time embedding alone differs by up to ~4e-5 absolute
(TimestepEmbeddingTests). Prints one line per check; exits 1 on any mismatch.

    check-diffusers.py DIR [FORWARD_IN FORWARD_OUT]
"""
import sys

import torch
from safetensors.torch import load_file

TOLERANCE = 1e-4


def compare(what, ours, theirs):
    scale = theirs.abs().max().item()
    err = (ours - theirs).abs().max().item() / max(scale, 1e-12)
    ok = err <= TOLERANCE
    print(f"check-diffusers: {what}: max relative difference {err:.2e} ({'ok' if ok else 'MISMATCH'}, tolerance {TOLERANCE:g})")
    return ok


def main(folder, forward_in=None, forward_out=None):
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextModel
    torch.set_grad_enabled(False)
    # In float32 whatever the stored dtype (a BF16 copy's weights are widened exactly, as dde-train widens them).
    unet = UNet2DConditionModel.from_pretrained(f"{folder}/unet").float().eval()
    ok = True
    if not forward_in:
        check = load_file(f"{folder}/dde_train_check.safetensors")
        text = CLIPTextModel.from_pretrained(f"{folder}/text_encoder").eval()
        states = text(input_ids=check["input_ids"]).last_hidden_state
        ok &= compare("text encoder (CLIPTextModel) hidden states", check["encoder_hidden_states"], states)
        eps = unet(check["sample"], check["timestep"], encoder_hidden_states=check["encoder_hidden_states"]).sample
        ok &= compare("U-Net (UNet2DConditionModel) epsilon", check["eps"], eps)
    else:
        inputs = {k: (v.float() if v.is_floating_point() else v) for k, v in load_file(forward_in).items()}
        ours = load_file(forward_out)["sample"]
        theirs = unet(inputs["sample"], inputs["timestep"], encoder_hidden_states=inputs["encoder_hidden_states"]).sample
        ok &= compare(f"dde-train forward on {forward_in}", ours, theirs)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 4):
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    main(*sys.argv[1:])
