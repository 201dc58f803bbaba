import Foundation

/// `dde-train export` of a `UNet2DConditionModel` checkpoint: a pipeline-style folder
///
///     unet/           config.json + diffusion_pytorch_model.safetensors   UNet2DConditionModel.from_pretrained
///     text_encoder/   config.json + model.safetensors                     transformers' CLIPTextModel.from_pretrained
///     scheduler/      scheduler_config.json                               the sampler (DDIMScheduler or DDPMScheduler)
///     tokenizer/      dde_tokenizer.json                                   the word-level vocabulary (ids as the text encoder reads them)
///     dde_train_check.safetensors   token ids, their hidden states, a batch and dde-train's epsilon for it
///     pytorch_lora_weights.safetensors   a LoRA fine-tune's adapters (`DiffusersExport+LoRA`); the
///                   check's epsilon is then the adapted model's
///
/// so that anyone can check the export against diffusers and transformers (scripts/check-diffusers.sh).
extension DiffusersExport {
    static func writeUNet2DCondition(_ model: TextToImageModel, _ unet: UNet2DConditionModel, _ text: CLIPTextEncoder, to folder: String,
                                     schedule: NoiseSchedule, sampler: SamplerKind, mergeLoRA: Bool) throws {
        for sub in ["", "/unet", "/text_encoder", "/scheduler", "/tokenizer"] { try FileIO.createFolder(folder + sub) }
        try writeJSON(DiffusersUNetConfig.json(unet.config), to: folder + "/unet/config.json")
        let t = text.config
        try writeJSON([
            "architectures": ["CLIPTextModel"], "model_type": "clip_text_model", "vocab_size": t.vocabularySize,
            "hidden_size": t.width, "intermediate_size": t.intermediate, "num_hidden_layers": t.layers,
            "num_attention_heads": t.heads, "max_position_embeddings": t.length, "hidden_act": "quick_gelu",
            // (No float keys whose value is whole: JSONSerialization writes 1.0 as 1, which
            // transformers' strict config refuses; their defaults are these values.)
            "layer_norm_eps": 1e-5, "initializer_range": 0.02,
            "projection_dim": t.width, "pad_token_id": Int(Tokenizer.pad), "bos_token_id": Int(Tokenizer.pad),
            "eos_token_id": Int(Tokenizer.pad), "torch_dtype": "float32",
        ], to: folder + "/text_encoder/config.json")
        // The sampler's scheduler with the schedule's betas (Stable Diffusion's settings, DDIMScheduler's doc).
        let kind = sampler == .ddim ? "DDIMScheduler" : "DDPMScheduler"
        try writeJSON([
            "_class_name": kind, "_diffusers_version": "0.30.0", "num_train_timesteps": schedule.T,
            "beta_start": schedule.beta[1], "beta_end": schedule.beta[schedule.T], "beta_schedule": schedule.kind.rawValue,
            "clip_sample": false, "set_alpha_to_one": false, "steps_offset": 1, "prediction_type": "epsilon",
            "timestep_spacing": "leading",
        ], to: folder + "/scheduler/scheduler_config.json")
        try writeJSON([
            "tokenizer": "lower-case, split on every character that is not a letter or digit; a word's id is its index in words, "
                + "<unk> (1) outside them; padded with <pad> (0) or cut to max_tokens; the empty prompt is all <pad> "
                + "(guidance's unconditional input)",
            "words": model.tokenizer.words, "max_tokens": model.tokenizer.maxTokens,
        ], to: folder + "/tokenizer/dde_tokenizer.json")

        var unetFile = SafeTensorsWriter(metadata: ["format": "pt"]), textFile = SafeTensorsWriter(metadata: ["format": "pt"])
        let textPrefix = "text_encoder."
        let merged = mergeLoRA ? model.lora.map { mergedWeights($0, base: model.store) } ?? [:] : [:]
        for slot in model.store.slots {
            let values = merged[slot.offset].map { UnsafePointer($0.pointer) } ?? UnsafePointer(model.store.parameters(slot))
            if slot.name.hasPrefix(textPrefix) {
                try textFile.add(String(slot.name.dropFirst(textPrefix.count)), shape: slot.shape, from: values)
            } else {
                try unetFile.add(slot.name, shape: slot.shape, from: values)
            }
        }
        try unetFile.write(to: folder + "/unet/diffusion_pytorch_model.safetensors")
        try textFile.write(to: folder + "/text_encoder/model.safetensors")

        // The check batch: prompts and the empty one, their hidden states, fixed noise, steps across the range.
        let words = model.tokenizer.words.dropFirst(2)
        let prompts = [words.prefix(3).joined(separator: " "), "", words.suffix(4).joined(separator: " ")]
        let n = prompts.count, d = model.imageSize, s = model.sampleSize, l = model.tokenizer.maxTokens
        let states = FloatBuffer(count: n * model.conditioningCount)
        model.encode(prompts, into: states.pointer)
        var rng = RandomStream(seed: 20_241_122, stream: 9)
        var x = [Float](repeating: 0, count: n * d)
        x.withUnsafeMutableBufferPointer { rng.fillNormal($0.baseAddress!, count: n * d) }
        let steps: [Float] = [0, Float(schedule.T / 2), Float(schedule.T - 1)]
        let eps = x.withUnsafeBufferPointer { xp in
            Array(UnsafeBufferPointer(start: model.predictNoise(xp.baseAddress!, steps: steps, conditioning: states.pointer, n: n,
                                                                keepActivations: false), count: n * d))
        }
        var check = SafeTensorsWriter(metadata: ["prompts": prompts.joined(separator: "\n")])
        try check.add("input_ids", shape: [n, l], prompts.flatMap { model.tokenizer.encode($0).map(Int64.init) })
        try check.add("encoder_hidden_states", shape: [n, l, model.conditioningCount / l], states.array(n * model.conditioningCount))
        try check.add("sample", shape: [n, unet.config.inChannels, s, s], x)
        try check.add("timestep", shape: [n], steps.map { Int64($0) })
        try check.add("eps", shape: [n, unet.config.outChannels, s, s], eps)
        try check.write(to: folder + "/dde_train_check.safetensors")
    }
}
