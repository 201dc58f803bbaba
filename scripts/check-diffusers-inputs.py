#!/usr/bin/env python3
"""Helpers of scripts/check-diffusers.sh (run in its Python environment):

  check-diffusers-inputs.py inputs EXPORT_DIR OUT.safetensors
      a forward input file for EXPORT_DIR's U-Net: sample F16 [3, C, S, S], timestep I64 [3],
      encoder_hidden_states BF16 [3, L, D] (the reduced dtypes exercise dde-train's widening)
  check-diffusers-inputs.py bf16 EXPORT_DIR COPY_DIR
      a copy of the export whose U-Net weights are BF16 (as many published models are stored)
  check-diffusers-inputs.py random DIR INPUTS.safetensors
      a UNet2DConditionModel made and saved by diffusers itself (the fp16 variant), of a shape
      the Swift tests do not use (three levels, 4 latent channels, 8x8, heads 1,2,4 given as
      attention_head_dim, linear projections, two transformer layers in the middle level,
      flip_sin_to_cos false, freq_shift 1), its weights perturbed so no layer is at its init;
      and an input file for it
  check-diffusers-inputs.py foreign EXPORT_DIR COPY_DIR KEY JSON_VALUE
      a copy whose unet/config.json sets KEY (e.g. addition_embed_type "text_time", SDXL's)
"""
import json
import shutil
import sys

import torch
from safetensors.torch import load_file, save_file


def main(mode, src, dst, *rest):
    if mode == "inputs":
        config = json.load(open(f"{src}/unet/config.json"))
        text = json.load(open(f"{src}/text_encoder/config.json"))
        g = torch.Generator().manual_seed(7)
        c, s = config["in_channels"], config["sample_size"]
        save_file({
            "sample": torch.randn(3, c, s, s, generator=g).half(),
            "timestep": torch.tensor([1, 333, 998], dtype=torch.int64),
            "encoder_hidden_states": torch.randn(3, text["max_position_embeddings"], config["cross_attention_dim"], generator=g).bfloat16(),
        }, dst)
    elif mode == "bf16":
        shutil.copytree(src, dst, dirs_exist_ok=True)
        weights = load_file(f"{src}/unet/diffusion_pytorch_model.safetensors")
        save_file({k: v.bfloat16() for k, v in weights.items()}, f"{dst}/unet/diffusion_pytorch_model.safetensors")
    elif mode == "random":
        from diffusers import UNet2DConditionModel
        torch.manual_seed(11)
        unet = UNet2DConditionModel(
            sample_size=8, in_channels=4, out_channels=4, block_out_channels=(16, 32, 32), layers_per_block=1,
            down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
            attention_head_dim=(1, 2, 4), cross_attention_dim=24, norm_num_groups=8, use_linear_projection=True,
            transformer_layers_per_block=(1, 2, 1), flip_sin_to_cos=False, freq_shift=1)
        with torch.no_grad():
            for p in unet.parameters():
                p.add_(0.05 * torch.randn_like(p))
        unet.half().save_pretrained(src, variant="fp16")
        g = torch.Generator().manual_seed(5)
        save_file({"sample": torch.randn(2, 4, 8, 8, generator=g), "timestep": torch.tensor([17.0, 640.0]),
                   "encoder_hidden_states": torch.randn(2, 5, 24, generator=g)}, dst)
    elif mode == "foreign":
        shutil.copytree(src, dst, dirs_exist_ok=True)
        config = json.load(open(f"{src}/unet/config.json"))
        config[rest[0]] = json.loads(rest[1])
        json.dump(config, open(f"{dst}/unet/config.json", "w"), indent=2)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(64)


if __name__ == "__main__":
    main(*sys.argv[1:])
