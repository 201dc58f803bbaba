"""The PyTorch + diffusers side of issue 5's benchmark (scripts/bench-vs-pytorch.sh runs it).

model.md's reference U-Net as diffusers' UNet2DModel (the config `dde-train export` writes,
Sources/DDECore/IO/DiffusersExport.swift), on two threads, measured the way
`dde-train bench --config configs/bench.conf` measures itself:

- pretrain: 64 images, t ~ U{0..999}, x_t = sqrt(abar) x0 + sqrt(1 - abar) eps (SD1.5's
  scaled_linear schedule), MSE on eps, backward, grad-norm clip 1.0, AdamW (lr 1e-4, wd 1e-2).
- dpo: Diffusion-DPO on 32 pairs = 64 images (a pair shares t, eps and the prompt); the frozen
  reference (a deep copy) runs under no_grad; loss = mean -logsigmoid(-beta/2 D), beta 5000.
- dde: dpo with each pair's term times a fixed weight in [0.5, 1.5] (DDE's estimate stands in).
- sample: DDIM, 50 steps, classifier-free guidance 3 (cond and uncond in one batch of 2 x 64)
  for 64 images (--sample-images), diffusers' DDIMScheduler; images per second.

With --model cond, configs/bench-cond.conf's cross-attention U-Net as diffusers'
UNet2DConditionModel (64,128; CrossAttnDownBlock2D, DownBlock2D / UpBlock2D, CrossAttnUpBlock2D;
a cross-attention mid block; 8 heads as attention_head_dim; cross_attention_dim 64), with fixed
random encoder_hidden_states (N, 8, 64) standing in for the text encoder (dde-train's bench also
trains its one-layer text encoder: a few percent of the step).

Random normal (N, 256) vectors stand in for the prompt encoder (256 = 4 x 64, added to the time
embedding: class_embed_type = "identity"). PyTorch gets its fastest settings: AdamW(fused=True)
(about 2 ms a step against 5 ms for the default loop here) and zero_grad(set_to_none=True)
(backward then takes over the gradient buffers instead of adding into zeroed ones), and for each
measurement the faster of the contiguous and channels_last memory formats.

Every (measurement, memory format) runs in its own child process, so that each peak resident
memory (ru_maxrss) belongs to that one step in that one format; peak_rss_mb is the largest of the
winners' peaks, baseline_rss_mb the resident memory after import + model build. GFLOP/s count
3 x 2 x the multiply-adds of every Conv2d and Linear in one forward at batch 64 (forward hooks),
over the median pretraining step.

    python scripts/bench_pytorch.py [--json] [--only pretrain|dpo|dde|sample]
        [--warmup 2] [--repeats 10] [--sample-warmup 1] [--sample-repeats 3] [--sample-images 64]
        [--memory-format contiguous|channels_last] [--model plain|cond]
"""
import argparse
import copy
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import diffusers
import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, UNet2DConditionModel, UNet2DModel

MODES = ("pretrain", "dpo", "dde", "sample")
METRIC = {"pretrain": "pretrain_step_ms", "dpo": "dpo_step_ms", "dde": "dde_step_ms",
          "sample": "sample_images_per_s"}
FORMATS = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}
THREADS = 2
PARAMETERS = 2_530_371  # model.md's reference size
BATCH = 64              # images per training step (32 pairs for dpo and dde)
COND = 256              # 4 x block_out_channels[0]
T = 1000
DPO_BETA = 5000.0
SAMPLE_STEPS, GUIDANCE = 50, 3.0

# The config `dde-train export` writes (DiffusersExport.swift), model.md's reference size.
UNET_CONFIG = dict(
    sample_size=16, in_channels=3, out_channels=3, center_input_sample=False,
    time_embedding_type="positional", freq_shift=0, flip_sin_to_cos=True,
    down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"),
    mid_block_type="UNetMidBlock2D", block_out_channels=(64, 128), layers_per_block=1,
    mid_block_scale_factor=1, downsample_padding=1, downsample_type="conv", upsample_type="conv",
    dropout=0.0, act_fn="silu", attention_head_dim=None, norm_num_groups=8, attn_norm_num_groups=None,
    norm_eps=1e-5, resnet_time_scale_shift="default", add_attention=False, class_embed_type="identity",
    num_class_embeds=None, num_train_timesteps=None,
)

# configs/bench-cond.conf's network: the config `dde-train export` writes for it.
COND_CONFIG = dict(
    sample_size=16, in_channels=3, out_channels=3, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), mid_block_type="UNetMidBlock2DCrossAttn",
    block_out_channels=(64, 128), layers_per_block=1, norm_num_groups=8, norm_eps=1e-5, cross_attention_dim=64,
    attention_head_dim=8, flip_sin_to_cos=True, freq_shift=0, use_linear_projection=False,
)
TOKENS = 8
MODEL = {"kind": "plain"}  # --model, set in main()

# SD1.5's scaled_linear schedule: betas linear in sqrt from 0.00085 to 0.012.
ALPHA_BAR = torch.cumprod(1 - torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, T) ** 2, dim=0)


def rss_mb():
    """Current resident memory (VmRSS) in MB."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def build_unet(memory_format):
    if MODEL["kind"] == "cond":
        return UNet2DConditionModel(**COND_CONFIG).to(memory_format=memory_format)
    unet = UNet2DModel(**UNET_CONFIG)
    count = sum(p.numel() for p in unet.parameters())
    if count != PARAMETERS:
        sys.exit(f"bench_pytorch: the U-Net has {count:,} parameters, model.md's reference has {PARAMETERS:,}")
    return unet.to(memory_format=memory_format)


def forward_flops(unet, x, t, cond):
    """2 x the multiply-adds of every Conv2d and Linear in one forward."""
    macs = []

    def count(module, inputs, out):
        per_output = module.in_features if isinstance(module, torch.nn.Linear) else \
            module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        macs.append(out.numel() * per_output)

    hooks = [m.register_forward_hook(count) for m in unet.modules()
             if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        call(unet, x, t, cond)
    for h in hooks:
        h.remove()
    return 2 * sum(macs)


def call(unet, x, t, cond):
    """The U-Net on its conditioning: class_labels (N, 256) or encoder_hidden_states (N, 8, 64)."""
    if MODEL["kind"] == "cond":
        return unet(x, t, encoder_hidden_states=cond)
    return unet(x, t, class_labels=cond)


def conditioning(n):
    return torch.randn(n, TOKENS, COND_CONFIG["cross_attention_dim"]) if MODEL["kind"] == "cond" else torch.randn(n, COND)


def noisy(x0, t, eps):
    abar = ALPHA_BAR[t].view(-1, 1, 1, 1)
    return abar.sqrt() * x0 + (1 - abar).sqrt() * eps


def per_image_mse(pred, eps):
    return ((pred - eps) ** 2).mean(dim=(1, 2, 3))


def optimizer_step(unet, opt):
    torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)


def pretrain_step(unet, opt, x0, cond):
    # x0: (N, 3, 16, 16)  cond: (N, 256)
    t = torch.randint(0, T, (x0.shape[0],))
    eps = torch.randn_like(x0)
    F.mse_loss(call(unet, noisy(x0, t, eps), t, cond).sample, eps).backward()
    optimizer_step(unet, opt)


def preference_step(unet, reference, opt, x0, cond, weights=None):
    """Diffusion-DPO, or DDE's form with `weights` (P,): winners x0[:P], losers x0[P:]."""
    # x0: (2P, 3, 16, 16)  cond: (2P, 256), cond[:P] == cond[P:]
    pairs = x0.shape[0] // 2
    t = torch.randint(0, T, (pairs,)).repeat(2)
    eps = torch.randn_like(x0[:pairs])
    eps = torch.cat([eps, eps])
    x_t = noisy(x0, t, eps)
    with torch.no_grad():
        e_ref = per_image_mse(call(reference, x_t, t, cond).sample, eps)
    d = per_image_mse(call(unet, x_t, t, cond).sample, eps) - e_ref
    terms = -F.logsigmoid(-DPO_BETA / 2 * (d[:pairs] - d[pairs:]))
    (terms if weights is None else weights * terms).mean().backward()
    optimizer_step(unet, opt)


def sample(unet, scheduler, noise, cond, uncond):
    # noise: (B, 3, 16, 16)  cond, uncond: (B, 256); the model sees (2B, 3, 16, 16) per step
    x, c = noise, torch.cat([cond, uncond])
    with torch.no_grad():
        for t in scheduler.timesteps:
            e_cond, e_uncond = call(unet, torch.cat([x, x]), t, c).sample.chunk(2)
            x = scheduler.step(e_uncond + GUIDANCE * (e_cond - e_uncond), t, x).prev_sample
    return x


def timed(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return seconds


def summary(metric, values):
    return {metric: statistics.median(values), metric + "_min": min(values), metric + "_max": max(values)}


def measure(mode, format_name, args):
    """One measurement in this process: the metric with its _min and _max, baseline_rss_mb, and
    for pretrain the GFLOP/s."""
    memory_format = FORMATS[format_name]
    torch.manual_seed(args.seed)
    unet = build_unet(memory_format)
    out = {"baseline_rss_mb": rss_mb()}
    metric = METRIC[mode]

    if mode == "sample":
        scheduler = DDIMScheduler(num_train_timesteps=T, beta_start=0.00085, beta_end=0.012,
                                  beta_schedule="scaled_linear", clip_sample=False, set_alpha_to_one=False,
                                  steps_offset=1, timestep_spacing="leading")
        scheduler.set_timesteps(SAMPLE_STEPS)
        n = args.sample_images
        cond = conditioning(n)
        uncond = conditioning(1).expand(n, *cond.shape[1:])  # the empty prompt's embedding
        noise = lambda: torch.randn(n, 3, 16, 16).to(memory_format=memory_format)
        seconds = timed(lambda: sample(unet, scheduler, noise(), cond, uncond), args.sample_warmup, args.sample_repeats)
        return out | summary(metric, [n / s for s in seconds])

    x0 = torch.randn(BATCH, 3, 16, 16).to(memory_format=memory_format)
    prompts = conditioning(BATCH // 2)
    cond = torch.cat([prompts, prompts])  # a pair's winner and loser share the prompt
    opt = torch.optim.AdamW(unet.parameters(), lr=1e-4, weight_decay=1e-2, fused=True)
    if mode == "pretrain":
        flops = 3 * forward_flops(unet, x0, torch.randint(0, T, (BATCH,)), cond)
        step = lambda: pretrain_step(unet, opt, x0, cond)
    else:
        reference = copy.deepcopy(unet).requires_grad_(False)
        weights = 0.5 + torch.rand(BATCH // 2) if mode == "dde" else None
        step = lambda: preference_step(unet, reference, opt, x0, cond, weights)
    out |= summary(metric, [1000 * s for s in timed(step, args.warmup, args.repeats)])
    if mode == "pretrain":
        out |= {"pretrain_gflop": flops / 1e9, "gflops_per_s": flops / 1e9 / (out[metric] / 1000)}
    return out


def measure_in_child(mode, format_name, args):
    """`measure` in a fresh process (--in-process), so that its peak memory is this step's."""
    command = [sys.executable, os.path.abspath(__file__), "--in-process", "--only", mode,
               "--memory-format", format_name, "--warmup", str(args.warmup), "--repeats", str(args.repeats),
               "--sample-warmup", str(args.sample_warmup), "--sample-repeats", str(args.sample_repeats),
               "--sample-images", str(args.sample_images), "--seed", str(args.seed), "--model", args.model]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"bench_pytorch: the {mode} measurement ({format_name}) failed with status {done.returncode}")
    return json.loads(done.stdout)


def run(args):
    """Every requested measurement, each in the faster memory format, as one flat dict."""
    modes = [args.only] if args.only else list(MODES)
    formats = [args.memory_format] if args.memory_format else list(FORMATS)
    result = {key: None for key in ("pretrain_step_ms", "dpo_step_ms", "dde_step_ms",
                                    "sample_images_per_s", "peak_rss_mb", "gflops_per_s")}
    baselines = []
    for mode in modes:
        metric = METRIC[mode]
        trials = {f: measure_in_child(mode, f, args) for f in formats}
        better = max if mode == "sample" else min
        winner = better(trials, key=lambda f: trials[f][metric])
        result |= {k: v for k, v in trials[winner].items() if k not in ("peak_rss_mb", "baseline_rss_mb")}
        result |= {f"{metric}_{f}": trials[f][metric] for f in formats}
        result |= {mode + "_memory_format": winner, mode + "_peak_rss_mb": trials[winner]["peak_rss_mb"]}
        baselines += [t["baseline_rss_mb"] for t in trials.values()]
    result["peak_rss_mb"] = max(result[m + "_peak_rss_mb"] for m in modes)
    result |= {"baseline_rss_mb": min(baselines), "parameters": sum(p.numel() for p in build_unet(torch.contiguous_format).parameters()),
               "model": "UNet2DConditionModel" if args.model == "cond" else "UNet2DModel", "batch": BATCH,
               "threads": THREADS, "warmup": args.warmup, "repeats": args.repeats,
               "sample_warmup": args.sample_warmup, "sample_repeats": args.sample_repeats,
               "sample_images": args.sample_images, "torch": torch.__version__, "diffusers": diffusers.__version__,
               "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
               "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE")}
    return result


def print_table(r):
    print(f"diffusers {r['diffusers']} {r['model']}, {r['parameters']:,} parameters; torch {r['torch']}, "
          f"{r['threads']} threads; batch {r['batch']}; OPENBLAS_CORETYPE={r['OPENBLAS_CORETYPE'] or '(unset)'} "
          f"OPENBLAS_L2_SIZE={r['OPENBLAS_L2_SIZE'] or '(unset)'}")
    print(f"training steps: median (min-max) of {r['repeats']} after {r['warmup']} warm-up; "
          f"sampling {r['sample_images']} images: of {r['sample_repeats']} runs after {r['sample_warmup']}")
    print(f"{'measurement':<22}{'median':>10}{'min':>10}{'max':>10}  {'peak RSS MB':>11}  memory format")
    for mode in MODES:
        metric = METRIC[mode]
        if r[metric] is not None:
            print(f"{metric:<22}{r[metric]:>10.1f}{r[metric + '_min']:>10.1f}{r[metric + '_max']:>10.1f}  "
                  f"{r[mode + '_peak_rss_mb']:>11.0f}  {r[mode + '_memory_format']}")
    print(f"peak RSS {r['peak_rss_mb']:.0f} MB; after import + model build {r['baseline_rss_mb']:.0f} MB")
    if r["gflops_per_s"] is not None:
        print(f"{r['gflops_per_s']:.1f} GFLOP/s counted ({r['pretrain_gflop']:.1f} GFLOP per pretraining step)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--only", choices=MODES, help="measure one step (its own peak memory)")
    parser.add_argument("--memory-format", choices=FORMATS, help="measure in this format only (default: both)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed training steps (default 2)")
    parser.add_argument("--repeats", type=int, default=10, help="timed training steps (default 10)")
    parser.add_argument("--sample-warmup", type=int, default=1, help="untimed sampling runs (default 1)")
    parser.add_argument("--sample-repeats", type=int, default=3, help="timed sampling runs (default 3)")
    parser.add_argument("--sample-images", type=int, default=64, help="images per sampling run (default 64)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", choices=("plain", "cond"), default="plain",
                        help="plain: configs/bench.conf's UNet2DModel; cond: configs/bench-cond.conf's UNet2DConditionModel")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)  # measure_in_child's child
    args = parser.parse_args()
    if args.repeats < 10 or args.sample_repeats < 3:
        parser.error("at least 10 timed training steps and 3 timed sampling runs")
    torch.set_num_threads(THREADS)
    MODEL["kind"] = args.model
    if args.in_process:
        print(json.dumps(measure(args.only, args.memory_format, args) | {"peak_rss_mb": peak_rss_mb()}))
        return
    result = run(args)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
