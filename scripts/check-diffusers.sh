#!/usr/bin/env bash
# The diffusers checks. First the attention-free model (model.md): a smoke-size UNet2DModel is
# pretrained briefly and exported; diffusers' UNet2DModel gives the same epsilon on the export's
# check batch, and a guided DDIM run replayed with diffusers' DDIMScheduler from dde-train's
# sampling trace lands on the same images (scripts/check-diffusers-unet2d.py).
# Then the Stable Diffusion network (issue 15): a small UNet2DConditionModel (the smoke config's size, with the
# SDXL-like options: linear projections, two transformer layers at the lower level, heads per
# level through num_attention_heads) is pretrained briefly, exported, and loaded by diffusers'
# UNet2DConditionModel and transformers' CLIPTextModel themselves:
#   1. the export's check batch: hidden states and epsilon equal dde-train's (scripts/check-diffusers.py),
#      and a guided DDIM run of `dde-train sample` replayed with diffusers (the export's scheduler
#      config, the text encoder on the trace's token ids) lands on dde-train's images;
#   2. dde-train forward checkpoint=diffusers:EXPORT on an input file of F16/I64/BF16 tensors
#      equals diffusers on the same file, and so does the import of a BF16 copy of the weights
#      against diffusers on that copy;
#   3. a random UNet2DConditionModel made by diffusers (fp16 variant, a shape the tests do not
#      use) imported with diffusers:DIR gives diffusers' output through dde-train forward;
#   4. an export whose config sets SDXL's addition_embed_type = text_time is refused with one
#      line naming the key, exit 64, and no output file.
#   5. a LoRA fine-tune of that network (issue 16: rank 4, alpha 8, the default targets) exported as
#      the base plus pytorch_lora_weights.safetensors: diffusers' load_lora_adapter(prefix="unet")
#      on the exported base gives dde-train's epsilon on the check batch and through dde-train
#      forward; with lora.merge=true the merged weights give the same.
# The Python environment (torch==2.13.0+cpu, diffusers, transformers, peft) is scripts/python-env.sh's,
# made once in ${DDE_PYENV:-$HOME/.cache/dde-train/venv-diffusers} and reused.
#   scripts/check-diffusers.sh            (DDE_TRAIN=PATH: that binary; otherwise this checkout's release build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py="$(scripts/python-env.sh)"
"$py" -c "import torch, diffusers, transformers; print('check-diffusers: torch', torch.__version__, 'diffusers', diffusers.__version__, 'transformers', transformers.__version__)"
bin="${DDE_TRAIN:-$root/.build/release/dde-train}"
work="$(mktemp -d "${TMPDIR:-/tmp}/check-diffusers.XXXXXX")"
trap 'rm -rf "$work"' EXIT
"$bin" pretrain --config configs/smoke.conf out="$work/plain" > "$work/plain.log" 2>&1 || { cat "$work/plain.log" >&2; exit 1; }
"$bin" export checkpoint="$work/plain/pretrain/model.safetensors" out="$work/plain-export" > /dev/null
"$bin" sample --config configs/smoke.conf checkpoint="$work/plain/pretrain/model.safetensors" out="$work/plain-sample" \
    sample.prompts="a large red circle on a navy background;a small yellow square on a black background" n=3 seed=7 \
    sampler=ddim sample.eta=0 trace="$work/trace.safetensors" > /dev/null
"$py" scripts/check-diffusers-unet2d.py "$work/plain-export" "$work/trace.safetensors" 2> "$work/py.log" || { cat "$work/py.log" >&2; exit 1; }

model=(model.class=UNet2DConditionModel use_linear_projection=true transformer_layers_per_block=1,2
       down_block_types=CrossAttnDownBlock2D,CrossAttnDownBlock2D up_block_types=CrossAttnUpBlock2D,CrossAttnUpBlock2D
       num_attention_heads=2,4 norm_eps=1e-4)
"$bin" pretrain --config configs/smoke.conf "${model[@]}" out="$work/run" > "$work/pretrain.log" 2>&1 \
    || { cat "$work/pretrain.log" >&2; exit 1; }
"$bin" export checkpoint="$work/run/pretrain/model.safetensors" out="$work/export" > /dev/null
"$py" scripts/check-diffusers.py "$work/export" 2> "$work/py.log" || { cat "$work/py.log" >&2; exit 1; }
"$bin" sample --config configs/smoke.conf "${model[@]}" checkpoint="$work/run/pretrain/model.safetensors" out="$work/sample" \
    sample.prompts="a large red circle on a navy background;a small yellow square on a black background" n=3 seed=7 \
    sampler=ddim sample.eta=0 trace="$work/cond-trace.safetensors" > /dev/null
"$py" scripts/check-diffusers.py "$work/export" replay "$work/cond-trace.safetensors" 2> "$work/py.log" || { cat "$work/py.log" >&2; exit 1; }

"$py" scripts/check-diffusers-inputs.py inputs "$work/export" "$work/inputs.safetensors"
"$bin" forward checkpoint="diffusers:$work/export" inputs="$work/inputs.safetensors" out="$work/out.safetensors"
"$py" scripts/check-diffusers.py "$work/export" "$work/inputs.safetensors" "$work/out.safetensors" 2> "$work/py.log" || { cat "$work/py.log" >&2; exit 1; }
"$py" scripts/check-diffusers-inputs.py bf16 "$work/export" "$work/export-bf16"
"$bin" forward checkpoint="diffusers:$work/export-bf16" inputs="$work/inputs.safetensors" out="$work/out-bf16.safetensors"
"$py" scripts/check-diffusers.py "$work/export-bf16" "$work/inputs.safetensors" "$work/out-bf16.safetensors" 2> "$work/py.log" || { cat "$work/py.log" >&2; exit 1; }

"$py" scripts/check-diffusers-inputs.py random "$work/random" "$work/random-inputs.safetensors" 2> "$work/py.log" || { cat "$work/py.log" >&2; exit 1; }
"$bin" forward checkpoint="diffusers:$work/random" inputs="$work/random-inputs.safetensors" out="$work/random-out.safetensors"
"$py" scripts/check-diffusers.py "$work/random" "$work/random-inputs.safetensors" "$work/random-out.safetensors" 2> "$work/py.log" || { cat "$work/py.log" >&2; exit 1; }

"$py" scripts/check-diffusers-inputs.py foreign "$work/export" "$work/export-sdxl" addition_embed_type '"text_time"'
status=0
"$bin" forward checkpoint="diffusers:$work/export-sdxl" inputs="$work/inputs.safetensors" out="$work/out-sdxl.safetensors" \
    2> "$work/refused.txt" > /dev/null || status=$?
if [ "$status" != 64 ] || [ "$(wc -l < "$work/refused.txt")" != 1 ] || ! grep -q "addition_embed_type = text_time" "$work/refused.txt" \
    || [ -e "$work/out-sdxl.safetensors" ]; then
    echo "check-diffusers: an unsupported config should exit 64 with one line naming addition_embed_type; got status $status:" >&2
    cat "$work/refused.txt" >&2
    exit 1
fi
echo "check-diffusers: refused as it should: $(cat "$work/refused.txt")"

"$bin" compare --config configs/smoke.conf "${model[@]}" out="$work/run" compare.methods=uniform compare.annotators=aesthetic \
    compare.seeds=0 lora.rank=4 lora.alpha=8 steps=20 lr=1e-3 > "$work/lora.log" 2>&1 || { cat "$work/lora.log" >&2; exit 1; }
tuned="$work/run/train-uniform-aesthetic-s0/model.safetensors"
"$bin" export checkpoint="$tuned" out="$work/lora-export" > /dev/null
"$py" scripts/check-diffusers.py "$work/lora-export" 2> "$work/py.log" || { cat "$work/py.log" >&2; exit 1; }
"$bin" forward checkpoint="$tuned" inputs="$work/inputs.safetensors" out="$work/lora-out.safetensors"
"$py" scripts/check-diffusers.py "$work/lora-export" "$work/inputs.safetensors" "$work/lora-out.safetensors" 2> "$work/py.log" || { cat "$work/py.log" >&2; exit 1; }
"$bin" export checkpoint="$tuned" out="$work/lora-merged" lora.merge=true > /dev/null
"$py" scripts/check-diffusers.py "$work/lora-merged" "$work/inputs.safetensors" "$work/lora-out.safetensors" 2> "$work/py.log" || { cat "$work/py.log" >&2; exit 1; }
echo "check-diffusers: all checks passed"
