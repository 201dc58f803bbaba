#!/usr/bin/env python3
"""Checks a `dde-train export` folder of a UNet2DConditionModel against diffusers and
transformers themselves (run by scripts/check-diffusers.sh in its Python environment):

  - UNet2DConditionModel.from_pretrained(DIR/unet) on the check batch of
    DIR/dde_train_check.safetensors gives dde-train's epsilon;
  - CLIPTextModel.from_pretrained(DIR/text_encoder) on the batch's token ids gives dde-train's
    last hidden states;
  - or, given FORWARD_IN and FORWARD_OUT (the output of `dde-train forward` on FORWARD_IN)
    instead: diffusers' output on FORWARD_IN (widened to float32) equals dde-train's (DIR may be
    a pipeline folder or a UNet2DConditionModel folder, weights plain or the fp16 variant);
  - with DIR/pytorch_lora_weights.safetensors (a LoRA fine-tune's export), the adapters are
    loaded onto the U-Net first (`load_lora_adapter(DIR, prefix="unet")`, peft), so every check
    above is of the fine-tuned model;
  - or, given `replay TRACE` (`dde-train sample ... trace=TRACE` of the exported model): the
    text encoder's hidden states for the trace's input_ids and uncond_input_ids equal the trace's,
    and the guided DDIM run replayed with DIR/scheduler (DDIMScheduler.from_pretrained) from the
    trace's noise lands on dde-train's images.

Tolerance: float32 through a few dozen layers, compared relative to the output's scale
(max |a - b| / max |b| <= 1e-4); the time embedding alone differs by up to ~4e-5 absolute
(TimestepEmbeddingTests). Prints one line per check; exits 1 on any mismatch.

    check-diffusers.py DIR [FORWARD_IN FORWARD_OUT | replay TRACE]
"""
import os
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


def replay(folder, unet, text, trace_path):
    from diffusers import DDIMScheduler
    from safetensors import safe_open
    trace = load_file(trace_path)
    with safe_open(trace_path, "pt") as f:
        meta = f.metadata()
    ok = compare("trace: conditional hidden states", trace["encoder_hidden_states"],
                 text(input_ids=trace["input_ids"]).last_hidden_state)
    ok &= compare("trace: unconditional (empty prompt) hidden states", trace["uncond_encoder_hidden_states"],
                  text(input_ids=trace["uncond_input_ids"]).last_hidden_state)
    sched = DDIMScheduler.from_pretrained(f"{folder}/scheduler")
    sched.set_timesteps(int(meta["steps"]))
    if sched.timesteps.tolist() != trace["timesteps"].tolist():
        print(f"check-diffusers: timesteps differ: diffusers {sched.timesteps.tolist()[:4]}..., dde-train {trace['timesteps'].tolist()[:4]}...")
        return False
    g = float(meta["guidance"])
    x = trace["noise"]
    c = torch.cat([trace["encoder_hidden_states"], trace["uncond_encoder_hidden_states"]])
    for t in sched.timesteps:
        e = unet(torch.cat([x, x]), t, encoder_hidden_states=c).sample
        ec, eu = e.chunk(2)
        x = sched.step(eu + g * (ec - eu), t, x).prev_sample
    ok &= compare(f"guided DDIM replay ({meta['steps']} steps, guidance {g}) final images", trace["images"], x)
    return ok


def main(folder, forward_in=None, forward_out=None):
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextModel
    torch.set_grad_enabled(False)
    # In float32 whatever the stored dtype (a BF16 copy's weights are widened exactly, as dde-train widens them).
    unet_dir = folder if os.path.exists(f"{folder}/config.json") else f"{folder}/unet"
    variant = "fp16" if os.path.exists(f"{unet_dir}/diffusion_pytorch_model.fp16.safetensors") else None
    unet = UNet2DConditionModel.from_pretrained(unet_dir, variant=variant).float().eval()
    if os.path.exists(f"{folder}/pytorch_lora_weights.safetensors"):
        # A LoRA fine-tune's export: the adapters on the exported base, as diffusers loads them.
        unet.load_lora_adapter(folder, weight_name="pytorch_lora_weights.safetensors", prefix="unet")
        print("check-diffusers: LoRA adapters loaded with load_lora_adapter(prefix='unet')")
    ok = True
    if not forward_in:
        check = load_file(f"{folder}/dde_train_check.safetensors")
        text = CLIPTextModel.from_pretrained(f"{folder}/text_encoder").eval()
        states = text(input_ids=check["input_ids"]).last_hidden_state
        ok &= compare("text encoder (CLIPTextModel) hidden states", check["encoder_hidden_states"], states)
        eps = unet(check["sample"], check["timestep"], encoder_hidden_states=check["encoder_hidden_states"]).sample
        ok &= compare("U-Net (UNet2DConditionModel) epsilon", check["eps"], eps)
    elif forward_in == "replay":
        ok &= replay(folder, unet, CLIPTextModel.from_pretrained(f"{folder}/text_encoder").eval(), forward_out)
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
