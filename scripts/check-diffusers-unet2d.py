#!/usr/bin/env python3
"""Checks a `dde-train export` folder of a UNet2DModel against diffusers (run by scripts/check-diffusers.sh).

1. UNet2DModel.from_pretrained(folder) predicts epsilon for the export's check batch
   (dde_train_check.safetensors: sample, timesteps, class_labels) and is compared with the
   epsilon dde-train computed for the same input.
2. With a sampling trace (`dde-train sample ... trace=PATH`): the prompt encoder is re-implemented
   here in numpy from prompt_encoder.json + prompt_encoder.safetensors (checked against the trace's
   `cond`/`uncond`), and the whole guided DDIM run is replayed with diffusers' DDIMScheduler from the
   trace's initial noise; the final images are compared with dde-train's.
"""
import json
import sys

import numpy as np
import torch
from diffusers import DDIMScheduler, UNet2DModel
from safetensors.numpy import load_file, safe_open

folder = sys.argv[1]
trace_path = sys.argv[2] if len(sys.argv) > 2 else None
torch.set_num_threads(2)

unet = UNet2DModel.from_pretrained(folder).eval()
check = load_file(f"{folder}/dde_train_check.safetensors")
with torch.no_grad():
    eps = unet(torch.from_numpy(check["sample"]), torch.from_numpy(check["timesteps"]),
               class_labels=torch.from_numpy(check["class_labels"])).sample.numpy()
diff = np.abs(eps - check["eps"]).max()
print(f"epsilon: max |diffusers - dde-train| = {diff:.3e} over {eps.size} values (max |eps| {np.abs(eps).max():.3f})")
ok = diff < 1e-4

if trace_path:
    enc = json.load(open(f"{folder}/prompt_encoder.json"))
    w = load_file(f"{folder}/prompt_encoder.safetensors")
    ids_of = {word: i for i, word in enumerate(enc["words"])}

    def encode(prompt):
        words = [x for x in "".join(c if c.isalnum() else " " for c in prompt.lower()).split()]
        if not words:
            return w["prompt_encoder.null_embedding"]
        ids = [ids_of.get(x, 1) for x in words[: enc["max_tokens"]]]
        ids += [0] * (enc["max_tokens"] - len(ids))
        tok = w["prompt_encoder.token_embedding.weight"][ids].reshape(-1)
        h = tok @ w["prompt_encoder.linear_1.weight"].T + w["prompt_encoder.linear_1.bias"]
        h = h / (1 + np.exp(-h))
        return h @ w["prompt_encoder.linear_2.weight"].T + w["prompt_encoder.linear_2.bias"]

    trace = load_file(trace_path)
    with safe_open(trace_path, "np") as f:
        meta = f.metadata()
    prompts = meta["prompts"].split(";")
    n = int(meta["n"])
    cond = np.stack([encode(p) for p in prompts for _ in range(n)]).astype(np.float32)
    uncond = np.stack([encode("") for _ in range(len(prompts) * n)]).astype(np.float32)
    cdiff = max(np.abs(cond - trace["cond"]).max(), np.abs(uncond - trace["uncond"]).max())
    print(f"prompt encoder: max |numpy - dde-train| = {cdiff:.3e}")
    assert meta["sampler"] == "ddim", "the replay covers DDIM traces"
    sched = DDIMScheduler(num_train_timesteps=int(meta["timesteps_T"]), beta_start=float(meta["beta_start"]),
                          beta_end=float(meta["beta_end"]), beta_schedule=meta["schedule"], clip_sample=False,
                          set_alpha_to_one=False, steps_offset=1, timestep_spacing="leading")
    sched.set_timesteps(int(meta["steps"]))
    tdiff = np.abs(sched.timesteps.numpy() - trace["timesteps"]).max()
    print(f"timesteps: diffusers {sched.timesteps[:3].tolist()}... dde-train {trace['timesteps'][:3].tolist()}... max diff {tdiff}")
    g, eta = float(meta["guidance"]), float(meta["eta"])
    assert eta == 0, "the replay covers deterministic DDIM (eta = 0)"
    x = torch.from_numpy(trace["noise"])
    c = torch.from_numpy(np.concatenate([trace["cond"], trace["uncond"]]))
    with torch.no_grad():
        for t in sched.timesteps:
            e = unet(torch.cat([x, x]), t, class_labels=c).sample
            ec, eu = e.chunk(2)
            x = sched.step(eu + g * (ec - eu), t, x).prev_sample
    idiff = np.abs(x.numpy() - trace["images"]).max()
    print(f"DDIM replay ({meta['steps']} steps, guidance {g}): max |diffusers - dde-train| over the final images = {idiff:.3e}")
    ok = ok and cdiff < 1e-4 and tdiff == 0 and idiff < 1e-3

print("OK" if ok else "MISMATCH")
sys.exit(0 if ok else 1)
