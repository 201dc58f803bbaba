/// THE table of config keys: the only place a key, its type, default, unit, doc and checks are
/// declared. Adding a key is adding one line to its section.
///
/// Checks that involve two keys run in `ConfigLoader` after every key is resolved:
/// `norm_num_groups` divides every `block_out_channels` entry, `sample_size` is a multiple of
/// `2^(levels-1)`, `beta_start < beta_end`, and `pretrain.grad_accum` divides `pretrain.batch`
/// (`train.grad_accum` divides `batch`).
public enum ConfigKeys {
    /// Every key, in the order config files, `dde-train config` and the README list them.
    public static let all: [ConfigKey] = general + model + data + diffusion + pretrain + annotators + optimisation + lora + pairs + losses + sampling + evaluation + compare + bench

    static let general = section("general", [
        ConfigKey("seed", .int, "0", affects: [.pretrain, .annotators, .train], "seed of every random stream (init, data order, noise, sampling)", .atLeast(0)),
        ConfigKey("threads", .int, "2", unit: "threads", affects: [.pretrain, .annotators, .pairs, .train, .eval], "threads dde-train uses (OpenBLAS runs single-threaded inside them)", .range(1...Workspace.maxThreads)),
        ConfigKey("ranks", .int, "1", unit: "processes", affects: [], "MPI ranks on this machine: N > 1 starts the command again as mpirun -np N (each rank with `threads` threads; needs Open MPI, which scripts/setup installs); ignored when mpirun started dde-train. Stages are reused across rank counts (they agree to 1e-6 relative, scripts/mpi-check.sh)", .range(1...64)),
        ConfigKey("conv.winograd", .choice(of: Conv2d.WinogradSetting.self), "f4x4", affects: [.pretrain, .annotators, .pairs, .train, .eval], "3x3 stride-1 convolutions with 16+ channels: Winograd F(4x4,3x3) where planes split into 4x4 tiles (1/4 of the multiplies), else F(2x2,3x3) (4/9); f2x2: F(2x2,3x3) only; off: im2col + GEMM"),
        ConfigKey("out", .path, "", affects: [], "run folder; empty = runs/<config name> (config file name without .conf, or default)"),
        ConfigKey("checkpoint", .path, "", affects: [], "model or checkpoint file to load the model from, or diffusers:DIR (a UNet2DConditionModel folder, or a pipeline folder with unet/ and text_encoder/); empty = none", .modelSourceOrEmpty),
        ConfigKey("resume", .string, "", affects: [], "empty = fresh run, auto = latest checkpoint in out, or a checkpoint path", .resumeTarget),
        ConfigKey("base", .path, "", affects: [.pairs, .train], "base (pretrained) model the fine-tune starts from: a model file or diffusers:DIR; empty = none", .modelSourceOrEmpty),
        ConfigKey("inputs", .path, "", affects: [], "dde-train forward: safetensors file of the U-Net's inputs (sample, timestep, encoder_hidden_states)", .existingFileOrEmpty),
        ConfigKey("pairs", .path, "", affects: [.train], "preference pairs file in Pick-a-Pic v2's columns (caption, jpg_0/image_0, jpg_1/image_1, label_0; PNG or JPEG images of any size); empty = none", .existingFileOrEmpty),
    ])

    /// The U-Net: diffusers' `UNet2DModel` / `UNet2DConditionModel` arguments of the same names
    /// and meanings, and the CLIP-style text encoder of the latter.
    static let model = section("model", [
        ConfigKey("model.class", .choice(of: ModelClass.self), "UNet2DModel", affects: [.pretrain], "the network: UNet2DModel (attention-free, the prompt encoder's vector added to the time embedding) or UNet2DConditionModel (Stable Diffusion's: cross-attention on a CLIP-style text encoder)"),
        ConfigKey("block_out_channels", .intList, "32,64", unit: "channels", affects: [.pretrain], "U-Net channels per resolution level (diffusers block_out_channels)", .eachAtLeast(8), .count(1...4)),
        ConfigKey("layers_per_block", .int, "1", affects: [.pretrain], "resnets per down block (up blocks have one more)", .range(1...4)),
        ConfigKey("norm_num_groups", .int, "8", unit: "groups", affects: [.pretrain], "GroupNorm groups; must divide every block_out_channels entry", .positive),
        ConfigKey("sample_size", .int, "16", unit: "px", affects: [.pretrain, .annotators], "image side; a multiple of 2^(levels-1), levels = block_out_channels entries", .range(8...64)),
        ConfigKey("down_block_types", .stringList, "CrossAttnDownBlock2D,DownBlock2D", affects: [.pretrain], "UNet2DConditionModel: one per level, highest resolution first", .eachOneOf(UNet2DConditionConfig.DownBlock.allCases.map(\.rawValue)), .count(1...4)),
        ConfigKey("up_block_types", .stringList, "UpBlock2D,CrossAttnUpBlock2D", affects: [.pretrain], "UNet2DConditionModel: one per level, lowest resolution first", .eachOneOf(UNet2DConditionConfig.UpBlock.allCases.map(\.rawValue)), .count(1...4)),
        ConfigKey("mid_block_type", .choice(of: MidBlockType.self), "UNetMidBlock2DCrossAttn", affects: [.pretrain], "UNet2DConditionModel: the mid block (resnet, transformer, resnet)"),
        ConfigKey("cross_attention_dim", .int, "64", unit: "floats", affects: [.pretrain], "UNet2DConditionModel: width of encoder_hidden_states, the text encoder's width", .range(4...2048)),
        ConfigKey("attention_head_dim", .intList, "2", affects: [.pretrain], "UNet2DConditionModel: with num_attention_heads empty, the NUMBER of heads per level (diffusers' naming quirk kept); one value = every level", .eachAtLeast(1), .count(1...4)),
        ConfigKey("num_attention_heads", .intList, "", affects: [.pretrain], "UNet2DConditionModel: heads per level when set (then attention_head_dim is ignored); one value = every level", .eachAtLeast(1), .count(0...4)),
        ConfigKey("transformer_layers_per_block", .intList, "1", affects: [.pretrain], "UNet2DConditionModel: BasicTransformerBlocks per attention, per level; one value = every level", .eachAtLeast(1), .count(1...4)),
        ConfigKey("use_linear_projection", .bool, "false", affects: [.pretrain], "UNet2DConditionModel: proj_in/proj_out as linear layers (SD 2.x, SDXL) instead of 1x1 convolutions (SD 1.x)"),
        ConfigKey("flip_sin_to_cos", .bool, "true", affects: [.pretrain], "UNet2DConditionModel: time embedding as [cos, sin] (true) or [sin, cos]"),
        ConfigKey("freq_shift", .int, "0", affects: [.pretrain], "UNet2DConditionModel: time embedding frequencies exp(-ln(10000) i / (C0/2 - freq_shift))", .range(0...8)),
        ConfigKey("norm_eps", .float, "1e-5", affects: [.pretrain], "UNet2DConditionModel: epsilon of the resnets' and conv_norm_out's group norms (the transformers' are 1e-6)", .positive, .range(0.0...0.1)),
        ConfigKey("text_encoder.layers", .int, "2", unit: "layers", affects: [.pretrain], "UNet2DConditionModel's text encoder: pre-norm transformer layers (CLIP num_hidden_layers)", .range(1...24)),
        ConfigKey("text_encoder.heads", .int, "4", unit: "heads", affects: [.pretrain], "text encoder: attention heads; must divide cross_attention_dim", .range(1...64)),
        ConfigKey("text_encoder.intermediate_size", .int, "256", unit: "floats", affects: [.pretrain], "text encoder: MLP hidden width (CLIP intermediate_size)", .range(4...16384)),
        ConfigKey("text_encoder.length", .int, "8", unit: "tokens", affects: [.pretrain], "text encoder: tokens per prompt, padded or cut (CLIP max_position_embeddings)", .range(1...77)),
    ])

    /// The training images and the prompt encoder.
    static let data = section("data", [
        ConfigKey("data", .string, "world", affects: [.pretrain], "training images: world (the built-in shapes world) or folder:PATH (PNG or JPEG files plus captions.jsonl)", .dataSource),
        ConfigKey("world.defect_rate", .float, "0.35", affects: [.pretrain], "share of the world's pretraining images that carry a defect", .range(0.0...1.0)),
        ConfigKey("data.skip_bad", .bool, "false", affects: [.pretrain, .train], "skip (and count) unreadable images and bad caption lines instead of stopping"),
        ConfigKey("encoder.dim", .int, "32", unit: "floats", affects: [.pretrain], "prompt encoder: word embedding width D", .range(4...512)),
        ConfigKey("encoder.max_tokens", .int, "8", unit: "words", affects: [.pretrain], "prompt encoder: words per prompt L (longer prompts are cut)", .range(1...64)),
    ])

    /// The noise schedule: diffusers' `DDPMScheduler` arguments (`beta_schedule`, `num_train_timesteps`).
    static let diffusion = section("diffusion", [
        ConfigKey("schedule", .choice(of: NoiseSchedule.Kind.self), "scaled_linear", affects: [.pretrain, .pairs, .train, .eval], "beta schedule (diffusers beta_schedule)"),
        ConfigKey("timesteps", .int, "1000", unit: "steps", affects: [.pretrain, .pairs, .train, .eval], "diffusion steps T (diffusers num_train_timesteps)", .range(2...10000)),
        ConfigKey("beta_start", .float, "0.00085", affects: [.pretrain, .pairs, .train, .eval], "first beta of linear and scaled_linear; below beta_end", .positive, .range(0.0..<1.0)),
        ConfigKey("beta_end", .float, "0.012", affects: [.pretrain, .pairs, .train, .eval], "last beta of linear and scaled_linear", .positive, .range(0.0..<1.0)),
    ])

    /// The pretraining stage (the base model); AdamW settings are shared with the fine-tune.
    static let pretrain = section("pretrain", [
        ConfigKey("pretrain.steps", .int, "2000", unit: "steps", affects: [.pretrain], "pretraining optimizer steps", .atLeast(1)),
        ConfigKey("pretrain.batch", .int, "128", unit: "images", affects: [.pretrain], "images per pretraining step", .atLeast(1)),
        ConfigKey("pretrain.lr", .float, "1e-3", affects: [.pretrain], "pretraining peak learning rate", .positive),
        ConfigKey("pretrain.warmup_steps", .int, "100", unit: "steps", affects: [.pretrain], "pretraining linear warmup", .atLeast(0)),
        ConfigKey("pretrain.prompt_dropout", .float, "0.1", affects: [.pretrain], "share of prompts replaced by the empty prompt (for guidance)", .range(0.0...1.0)),
        ConfigKey("pretrain.grad_accum", .int, "1", affects: [.pretrain], "micro-batches a pretraining batch is split into (the same gradient up to rounding, less memory); divides pretrain.batch", .atLeast(1)),
        ConfigKey("pretrain.ema", .float, "0", affects: [.pretrain], "EMA decay of the weights (the EMA is the saved model); 0 = off", .range(0.0..<1.0)),
        ConfigKey("pretrain.val_every", .int, "250", unit: "steps", affects: [], "validation loss every N steps (and at the end)", .atLeast(1)),
        ConfigKey("pretrain.val_images", .int, "96", unit: "images", affects: [], "validation images (held-out prompts, fixed noise and steps)", .atLeast(1)),
        ConfigKey("pretrain.sample_every", .int, "500", unit: "steps", affects: [], "sample grid every N steps (and at the end); 0 = only at the end", .atLeast(0)),
        ConfigKey("pretrain.checkpoint_every", .int, "500", unit: "steps", affects: [], "checkpoint every N steps (and at the end)", .atLeast(1)),
        ConfigKey("keep_checkpoints", .int, "3", unit: "files", affects: [], "checkpoints kept per stage (older ones are deleted)", .atLeast(1)),
    ])

    /// The annotators stage: the `align` classifier, trained on clean renders (the other two
    /// annotators are formulas and need no key).
    static let annotators = section("annotators", [
        ConfigKey("annotators.steps", .int, "1500", unit: "steps", affects: [.annotators], "align classifier: AdamW steps", .atLeast(1)),
        ConfigKey("annotators.batch", .int, "128", unit: "images", affects: [.annotators], "align classifier: clean renders per step (fresh every step)", .atLeast(1)),
        ConfigKey("annotators.lr", .float, "6e-3", affects: [.annotators], "align classifier: peak learning rate (warmup, then cosine to 0)", .positive),
        ConfigKey("annotators.warmup_steps", .int, "50", unit: "steps", affects: [.annotators], "align classifier: linear learning-rate warmup", .atLeast(0)),
        ConfigKey("annotators.eval_images", .int, "3072", unit: "images", affects: [.annotators], "align classifier: held-out clean renders its accuracy is measured on", .atLeast(1)),
        ConfigKey("annotators.checkpoint_every", .int, "500", unit: "steps", affects: [], "align classifier: checkpoint every N steps (and at the end)", .atLeast(1)),
        ConfigKey("annotators.min_accuracy", .float, "0.95", affects: [], "the stage fails if any attribute's held-out accuracy is below this", .range(0.0...1.0)),
    ])

    /// The fine-tune stage: AdamW with warmup, clipping and accumulation.
    static let optimisation = section("optimisation", [
        ConfigKey("lr", .float, "2e-5", affects: [.train], "AdamW peak learning rate", .positive),
        ConfigKey("batch", .int, "32", unit: "pairs", affects: [.train], "pairs per step", .atLeast(1)),
        ConfigKey("steps", .int, "200", unit: "steps", affects: [.train], "optimizer steps", .atLeast(1)),
        ConfigKey("train.grad_accum", .int, "1", affects: [.train], "micro-batches a fine-tune step's pairs are split into (the same gradient up to rounding, less memory; the DDE record is updated once per step from all its pairs); divides batch", .atLeast(1)),
        ConfigKey("warmup_steps", .int, "0", unit: "steps", affects: [.train], "linear learning-rate warmup from 0; 0 = none", .atLeast(0)),
        ConfigKey("weight_decay", .float, "0.01", affects: [.pretrain, .train], "AdamW decoupled weight decay", .atLeast(0.0)),
        ConfigKey("adam_beta1", .float, "0.9", affects: [.pretrain, .train], "AdamW first-moment decay", .range(0.0..<1.0)),
        ConfigKey("adam_beta2", .float, "0.999", affects: [.pretrain, .train], "AdamW second-moment decay", .range(0.0..<1.0)),
        ConfigKey("adam_eps", .float, "1e-8", affects: [.pretrain, .train], "AdamW denominator epsilon", .positive),
        ConfigKey("grad_clip", .float, "1.0", affects: [.pretrain, .train], "clip the global gradient norm to this; 0 = off", .atLeast(0.0)),
        ConfigKey("train.checkpoint_every", .int, "100", unit: "steps", affects: [], "fine-tune checkpoint every N steps (and at the end)", .atLeast(1)),
        ConfigKey("train.log_every", .int, "20", unit: "steps", affects: [], "fine-tune: held-out implicit accuracy and the DDE record logged every N steps (and at 0 and the end); 0 = off", .atLeast(0)),
        ConfigKey("train.credit_every", .int, "50", unit: "steps", affects: [], "fine-tune: credit profile (per t-bucket |dL/dD| and gradient norm on a probe batch) every N steps and at the end; 0 = off", .atLeast(0)),
        ConfigKey("train.probe_pairs", .int, "8", unit: "pairs", affects: [], "fine-tune: held-out pairs in the credit-profile probe batch", .atLeast(1)),
    ])

    /// LoRA fine-tuning (PEFT's LoraConfig on the U-Net's linear layers; issue 16).
    static let lora = section("lora", [
        ConfigKey("lora.rank", .int, "0", affects: [.train], "LoRA rank r of the fine-tune's adapters; 0 = full fine-tune (every weight trains)", .atLeast(0)),
        ConfigKey("lora.alpha", .float, "0", affects: [.train], "LoRA alpha: the adapters' path is scaled by alpha / rank; 0 = the rank (scale 1)", .atLeast(0.0)),
        ConfigKey("lora.targets", .stringList, "to_q,to_k,to_v,to_out.0", affects: [.train], "module-name suffixes of the U-Net's linear layers that get adapters (PEFT's target_modules; the diffusers DPO script's choice)", .distinct, .count(1...64)),
        ConfigKey("lora.dropout", .float, "0", affects: [.train], "dropout on the adapters' input while training (PEFT's lora_dropout)", .range(0.0..<1.0)),
        ConfigKey("lora.merge", .bool, "false", affects: [], "export: write merged full weights (W + alpha/r B A) instead of pytorch_lora_weights.safetensors"),
    ])

    /// The preference pairs (docs/TESTBED.md, Pairs).
    static let pairs = section("pairs", [
        ConfigKey("annotator", .string, "pick", affects: [.pairs], "the annotator that labels the pairs: align, aesthetic, pick or the NAME of an annotator.NAME = COMMAND key (README, Your own scorer)"),
        ConfigKey("pairs.samples_per_prompt", .int, "4", unit: "images", affects: [.pairs], "base-model images per training prompt, scored; best paired with worst", .atLeast(2)),
        ConfigKey("pairs.min_gap", .float, "0.05", affects: [.pairs], "more pairs per prompt (2nd best with 2nd worst, ...) while their score gap is at least this", .atLeast(0.0)),
        ConfigKey("pairs.seed", .int, "2000", affects: [.pairs], "seed of the pair images' noise (column j of every prompt starts from seed + j)", .atLeast(0)),
    ])

    /// The fine-tuning losses (docs/LOSSES.md): which one, and every constant it names.
    static let losses = section("losses", [
        ConfigKey("loss", .choice(of: PreferenceLoss.Kind.self), "dde", affects: [.train], "fine-tuning loss (docs/LOSSES.md)"),
        ConfigKey("beta", .float, "5000", affects: [.train], "DPO beta (Diffusion-DPO's beta_dpo; e is a mean over C*H*W)", .positive),
        ConfigKey("sft.lr", .float, "0", affects: [.train], losses: [], "SFT's learning rate in compare and train; 0 = lr", .atLeast(0.0)),
        ConfigKey("uniform.beta", .float, "0", affects: [.train], losses: [], "Uniform's beta in compare and train; 0 = beta", .atLeast(0.0)),
        ConfigKey("uniform.lr", .float, "0", affects: [.train], losses: [], "Uniform's learning rate; 0 = lr", .atLeast(0.0)),
        ConfigKey("discounted.beta", .float, "0", affects: [.train], losses: [], "Discounted's beta; 0 = beta", .atLeast(0.0)),
        ConfigKey("discounted.lr", .float, "0", affects: [.train], losses: [], "Discounted's learning rate; 0 = lr", .atLeast(0.0)),
        ConfigKey("dde.beta", .float, "0", affects: [.train], losses: [], "beta of DDE (and of its ablations where theirs is 0); 0 = beta", .atLeast(0.0)),
        ConfigKey("dde.lr", .float, "0", affects: [.train], losses: [], "learning rate of DDE (and of its ablations where theirs is 0); 0 = lr", .atLeast(0.0)),
        ConfigKey("dde-single.beta", .float, "0", affects: [.train], losses: [], "DDE-Single's beta; 0 = dde.beta, then beta", .atLeast(0.0)),
        ConfigKey("dde-single.lr", .float, "0", affects: [.train], losses: [], "DDE-Single's learning rate; 0 = dde.lr, then lr", .atLeast(0.0)),
        ConfigKey("dde-step.beta", .float, "0", affects: [.train], losses: [], "DDE-Step's beta (DDE's kappa b2_t is about 1e-3 times its slope lambda_t at t = 1 and 2e4 times at t = T: docs/LOSSES.md); 0 = dde.beta, then beta", .atLeast(0.0)),
        ConfigKey("dde-step.lr", .float, "0", affects: [.train], losses: [], "DDE-Step's learning rate; 0 = dde.lr, then lr", .atLeast(0.0)),
        ConfigKey("ipo.beta", .float, "2500", affects: [.train], losses: [], "IPO's beta in the diffusers DPO script's convention (its beta_dpo): L = (D + 1/(2 beta))^2, a target margin of 1/(2 beta); a beta set in the config or on the command line wins over this default; 0 = beta", .atLeast(0.0)),
        ConfigKey("ipo.lr", .float, "0", affects: [.train], losses: [], "IPO's learning rate; 0 = lr", .atLeast(0.0)),
        ConfigKey("hinge.beta", .float, "2500", affects: [.train], losses: [], "hinge's beta in the diffusers DPO script's convention: L = max(0, 1 + beta D); a beta set in the config or on the command line wins over this default; 0 = beta", .atLeast(0.0)),
        ConfigKey("hinge.lr", .float, "0", affects: [.train], losses: [], "hinge's learning rate; 0 = lr", .atLeast(0.0)),
        ConfigKey("kto.beta", .float, "1000", affects: [.train], losses: [], "Diffusion-KTO's beta (its --beta_dpo): u = +-beta (e_ref - e_theta - kl) per image; a beta set in the config or on the command line wins over this default; 0 = beta", .atLeast(0.0)),
        ConfigKey("kto.lr", .float, "0", affects: [.train], losses: [], "Diffusion-KTO's learning rate; 0 = lr", .atLeast(0.0)),
        ConfigKey("mapo.beta", .float, "0.1", affects: [.train], losses: [], "MaPO's beta_mapo: the weight of the margin term beside the winner MSE; a beta set in the config or on the command line wins over this default; 0 = beta", .atLeast(0.0)),
        ConfigKey("mapo.lr", .float, "0", affects: [.train], losses: [], "MaPO's learning rate; 0 = lr", .atLeast(0.0)),
        ConfigKey("dspo.beta", .float, "0.001", affects: [.train], losses: [], "DSPO's beta (the authors' SD 1.5 launcher; their SDXL one uses 5000 with dspo.form = sdxl); a beta set in the config or on the command line wins over this default; 0 = beta", .atLeast(0.0)),
        ConfigKey("dspo.lr", .float, "0", affects: [.train], losses: [], "DSPO's learning rate; 0 = lr", .atLeast(0.0)),
        ConfigKey("inpo.beta", .float, "2000", affects: [.train], losses: [], "InPO's beta (the authors' SD 1.5 example; 5000 for SDXL); a beta set in the config or on the command line wins over this default; 0 = beta", .atLeast(0.0)),
        ConfigKey("inpo.lr", .float, "0", affects: [.train], losses: [], "InPO's learning rate; 0 = lr", .atLeast(0.0)),
        ConfigKey("smpo.beta", .float, "2000", affects: [.train], losses: [], "SmPO's beta before its soft-label factor smpo.scale (2p - 1) (the authors' SD 1.5 example); a beta set in the config or on the command line wins over this default; 0 = beta", .atLeast(0.0)),
        ConfigKey("smpo.lr", .float, "0", affects: [.train], losses: [], "SmPO's learning rate; 0 = lr", .atLeast(0.0)),
    ] + methodKeysByAnnotator + [
        ConfigKey("t_range", .string, "", affects: [.train], "segment training: lo:hi as fractions of T (0.2:0.7) or steps (200:700); empty = all"),
        ConfigKey("dpo.shared_noise", .bool, "true", affects: [.train], "winner and loser of a pair share eps (the Diffusion-DPO convention); they always share t"),
        ConfigKey("disc.gamma", .float, "0.9", affects: [.train], losses: [.discounted], "Discounted: credit gamma^n for the n-th step of a disc.steps-step sampler", .range(0.0...1.0)),
        ConfigKey("disc.steps", .int, "50", unit: "steps", affects: [.train], losses: [.discounted], "Discounted: sampler steps that index n(t) = floor((T - t) * disc.steps / T)", .atLeast(1)),
        ConfigKey("disc.mode", .choice(of: DiscountMode.self), "sample", affects: [.train], losses: [.discounted], "Discounted: draw t ∝ gamma^n (the authors' code) or weight z by gamma^n"),
        ConfigKey("dde.kappa", .float, "0.5", affects: [.train], losses: [.dde, .ddeSingle, .ddeStep], "DDE: the single-shot estimate's 1/(2 sigma^2) factor kappa", .positive),
        ConfigKey("dde.correction_scale", .float, "1", affects: [.train], losses: [.dde, .ddeSingle, .ddeStep], "DDE: rho, the weight of the stepwise correction C_t (0 = DDE-Single)", .atLeast(0.0)),
        ConfigKey("dde.lambda", .choice(of: NoiseSchedule.LambdaForm.self), "posterior", affects: [.train], losses: [.dde, .ddeSingle, .ddeStep], "DDE: the stepwise weight lambda_s (docs/LOSSES.md)"),
        ConfigKey("dde.ema", .float, "0.95", affects: [.train], losses: [.dde, .ddeSingle, .ddeStep], "DDE: the record's decay g", .range(0.0..<1.0)),
        ConfigKey("dde.record_buckets", .int, "0", unit: "entries", affects: [.train], losses: [.dde, .ddeSingle, .ddeStep], "DDE: record entries; 0 = T (one per step, the paper's reading)", .atLeast(0)),
        ConfigKey("dde.ema_bias_correction", .bool, "false", affects: [.train], losses: [.dde, .ddeSingle, .ddeStep], "DDE: read each record entry as A/(1 - g^n), n its update count"),
        ConfigKey("kto.lambda_d", .float, "1", affects: [.train], losses: [.kto], "Diffusion-KTO: the weight of desirable images", .atLeast(0.0)),
        ConfigKey("kto.lambda_u", .float, "1", affects: [.train], losses: [.kto], "Diffusion-KTO: the weight of undesirable images", .atLeast(0.0)),
        ConfigKey("kto.labels", .choice(of: KTOLoss.Labels.self), "pair", affects: [.train], losses: [.kto], "Diffusion-KTO: pair (winners desirable, losers not), or per image over the whole pair set: aggregate_wi_l (ever chosen = desirable, the authors' default) or aggregate_w_il (ever rejected = undesirable)"),
        ConfigKey("kto.positive_ratio", .float, "0", affects: [.train], losses: [.kto], "Diffusion-KTO: 0 = the batch is pairs as drawn, each giving its two images (half desirable under kto.labels = pair); r in (0, 1): the authors' class-balanced draws, each image of the batch desirable with probability r, drawn from the desirable or the undesirable images (their argparse default 0.5, their example.sh 0.8)", .range(0.0..<1.0)),
        ConfigKey("mapo.snr", .float, "0.5", affects: [.train], losses: [.mapo], "MaPO: s in the bounded score f(e) = s e / (exp(s e) - 1)", .positive),
        ConfigKey("mapo.margin_scale", .float, "0", affects: [.train], losses: [.mapo], "MaPO: the margin's multiplier T_m in m = T_m (f(e_w) - f(e_l)); 0 = T", .atLeast(0.0)),
        ConfigKey("dspo.form", .choice(of: DSPOLoss.Form.self), "sd15", affects: [.train], losses: [.dspo], "DSPO: the authors' SD 1.5 form (the winner regressed away from the reference) or their SDXL form ((1 - sigmoid(z))^2, times d_w when the batch's mean d_w reaches dspo.sdxl_threshold)"),
        ConfigKey("dspo.detach_weight", .bool, "false", affects: [.train], losses: [.dspo], "DSPO: hold sigmoid(z) constant (the authors' code lets gradient through it)"),
        ConfigKey("dspo.sdxl_threshold", .float, "0.1", affects: [.train], losses: [.dspo], "DSPO, sdxl form: the batch mean of d_w from which the loss is scaled by d_w", .atLeast(0.0)),
        ConfigKey("inpo.inv_steps", .int, "10", unit: "steps", affects: [.train], losses: [.inpo], "InPO: DDIM inversion grid steps (the authors' 10)", .range(1...1000)),
        ConfigKey("inpo.inv_eta", .float, "0.1", affects: [.train], losses: [.inpo], "InPO: the stochastic kick after each inverse step, times DDIM's eta = 1 standard deviation", .range(0.0...1.0)),
        ConfigKey("inpo.inverse_semantics", .choice(of: DDIMInversion.Semantics.self), "diffusers020", affects: [.train], losses: [.inpo, .smpo], "InPO and SmPO: the inversion grid of the authors' pinned diffusers 0.20.0 (ends up to a stride from t) or exact (ends at t)"),
        ConfigKey("smpo.scale", .float, "10", affects: [.train], losses: [.smpo], "SmPO: the soft-label factor's scale, beta x scale (2p - 1)", .positive),
        ConfigKey("smpo.score_min", .float, "0", affects: [.train], losses: [.smpo], "SmPO: the annotator score mapped to 0 before p = sigmoid(n_w - n_l) (our annotators score in 0..1; the authors' PickScore constants are 0.1154)"),
        ConfigKey("smpo.score_max", .float, "1", affects: [.train], losses: [.smpo], "SmPO: the annotator score mapped to 1 (the authors' PickScore constant is 0.2820)"),
        ConfigKey("smpo.inv_steps", .int, "5", unit: "steps", affects: [.train], losses: [.smpo], "SmPO: ReNoise inversion grid steps (the authors' 5 for SD 1.5, 10 for SDXL); no kick", .range(1...1000)),
    ])

    /// Sampling (`dde-train sample`, and the grids of every stage).
    static let sampling = section("sampling", [
        ConfigKey("sampler", .choice(of: SamplerKind.self), "ddim", affects: [.pairs, .eval], "reverse process: DDIM (diffusers DDIMScheduler, leading spacing) or ancestral DDPM"),
        ConfigKey("sample.steps", .int, "25", unit: "steps", affects: [.pairs], "sampler steps", .range(1...1000)),
        ConfigKey("sample.guidance", .float, "3", affects: [.pairs], "classifier-free guidance scale g (1 = no guidance)", .atLeast(0.0)),
        ConfigKey("sample.eta", .float, "0", affects: [.pairs, .eval], "DDIM eta (0 = deterministic)", .range(0.0...1.0)),
        ConfigKey("prompts", .path, "", affects: [.pairs, .eval], "a file of captions, one a line: pairs, eval, sample and the main job use them instead of the world's (split: README, Your own prompts)", .existingFileOrEmpty),
        ConfigKey("sample.prompts", .string, "", affects: [], "dde-train sample: prompts separated by ';' (empty = the prompts file's, else 8 validation prompts)"),
        ConfigKey("n", .int, "8", unit: "images", affects: [], "dde-train sample: images per prompt (grid columns, one seed each)", .range(1...256)),
        ConfigKey("trace", .path, "", affects: [], "dde-train sample: also write noise, conditioning, timesteps and images to this safetensors file"),
    ])

    /// The evaluation protocol (docs/TESTBED.md): test prompts x images, DDIM, guidance.
    static let evaluation = section("evaluation", [
        ConfigKey("eval.images_per_prompt", .int, "8", unit: "images", affects: [.eval], "images per test prompt (image j starts from the same noise for every model)", .atLeast(1)),
        ConfigKey("eval.steps", .int, "25", unit: "steps", affects: [.eval], "DDIM steps when evaluating", .range(1...1000)),
        ConfigKey("eval.guidance", .float, "3", affects: [.eval], "classifier-free guidance when evaluating", .atLeast(0.0)),
        ConfigKey("eval.seed", .int, "1000", affects: [.eval], "seed of the evaluation noise (shared by every model)", .atLeast(0)),
        ConfigKey("eval.bootstrap", .int, "2000", unit: "resamples", affects: [.report], "bootstrap resamples for the 95% intervals (more than a million would run for hours and move no printed digit)", .range(100...1_000_000)),
        ConfigKey("eval.prompts", .choice(of: PromptSplit.self), "test", affects: [.eval], "prompt split evaluated: test (reports), validation (tuning: scripts/sweep.sh) or all (every caption, training ones included: a benchmark file scored whole)"),
    ])

    /// The main job: which fine-tunes to run and compare.
    static let compare = section("compare", [
        ConfigKey("compare.methods", .stringList, "sft,uniform,discounted,dde", affects: [], "losses the main job fine-tunes and compares", .eachOneOf(PreferenceLoss.Kind.allCases.map(\.rawValue)), .distinct, .count(1...16)),
        ConfigKey("compare.annotators", .stringList, "align,aesthetic,pick", affects: [], "annotators whose pairs each method is trained on (built-in or annotator.NAME)", .distinct, .count(1...16)),
        ConfigKey("compare.seeds", .intList, "0", affects: [], "fine-tune seeds per method and annotator (the base and the pairs are shared)", .eachAtLeast(0), .distinct, .count(1...1000)),
        ConfigKey("compare.beta", .floatList, "", affects: [], "a grid: every DPO-style method is also run at each of these betas (empty = each method's own)", .eachPositive, .distinct),
        ConfigKey("compare.lr", .floatList, "", affects: [], "a grid: every method is also run at each of these learning rates (empty = each method's own)", .eachPositive, .distinct),
        ConfigKey("compare.t_range", .stringList, "", affects: [], "a grid of segments (Fig. 3): every method is also run on each t_range (0:1 = all)", .distinct),
        ConfigKey("reuse", .path, "", affects: [], "a run folder whose base, annotators, pairs and fine-tunes are copied when made with the same settings", .existingFolderOrEmpty),
        ConfigKey("dry_run", .bool, "false", affects: [], "print the plan, which stages are cached, and a time estimated from this machine's rates (the bench's steps at the run's sizes, a few seconds); run nothing"),
    ])

    /// `dde-train bench`.
    static let bench = section("bench", [
        ConfigKey("bench.repeats", .int, "10", unit: "runs", affects: [], "timed runs per benchmark", .atLeast(3)),
        ConfigKey("bench.warmup", .int, "2", unit: "runs", affects: [], "untimed runs before timing", .atLeast(0)),
        ConfigKey("bench.sample_images", .int, "32", unit: "images", affects: [], "images per sampling run in `bench` (guided: twice as many network rows)", .atLeast(1)),
        ConfigKey("bench.sample_repeats", .int, "3", unit: "runs", affects: [], "timed sampling runs in `bench`, after one untimed", .atLeast(1)),
    ])

    /// The key named `name`, or nil.
    public static func key(_ name: String) -> ConfigKey? { index[name].map { all[$0] } }

    /// Position of each key in `all`.
    /// The sections, in table order.
    public static let sectionNames: [String] = all.reduce(into: []) { names, key in
        if names.last != key.section { names.append(key.section) }
    }

    static let index: [String: Int] = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($1.name, $0) })

    /// Fair tuning per annotator (issue 13): each method key's value per annotator whose pairs the
    /// method trains on, `annotator:value` entries (`uniform.beta.by_annotator = pick:1000,align:5000`);
    /// an annotator listed wins over the plain key (`Config.methodSettings`).
    static let methodKeysByAnnotator: [ConfigKey] = Config.byAnnotator.map { key, name in
        ConfigKey(name, .stringList, "", affects: [.train], losses: [],
                  "\(key) per annotator of the pairs, annotator:value entries (scripts/sweep.sh writes them); an annotator not listed takes \(key)",
                  .annotatorValues)
    }

    private static func section(_ name: String, _ keys: [ConfigKey]) -> [ConfigKey] {
        keys.map { var key = $0; key.section = name; return key }
    }
}
