// Export: the model for other tools. `DiffusersExport` writes a folder that diffusers'
// `UNet2DModel.from_pretrained` loads (`config.json` and the U-Net's safetensors), the prompt
// encoder beside it, and a check file with a fixed input batch and dde-train's epsilon for it.
// Used by `dde-train export`; builds on the numeric core's model and IO's `SafeTensorsWriter`.

import Foundation

/// `dde-train export`: a folder that `diffusers.UNet2DModel.from_pretrained(folder)` loads
/// (model.md): `config.json` + `diffusion_pytorch_model.safetensors` with the U-Net's tensors
/// under diffusers' names, plus the prompt encoder beside them (`prompt_encoder.safetensors`,
/// `prompt_encoder.json` with the vocabulary and the architecture) and `dde_train_check.safetensors`:
/// a fixed input batch and dde-train's epsilon for it, so anyone can verify the export.
public enum DiffusersExport {
    /// A model with LoRA adapters: its base, and the adapters as `pytorch_lora_weights.safetensors`
    /// (`mergeLoRA`: the merged weights W + s B A instead), `DiffusersExport+LoRA`.
    public static func write(_ model: TextToImageModel, to folder: String, schedule: NoiseSchedule, sampler: SamplerKind,
                             metadata: [String: String], mergeLoRA: Bool = false) throws {
        switch model.networks {
        case .unet2D(let unet, let encoder):
            guard model.lora == nil else {
                throw TrainingError("export: LoRA adapters on a UNet2DModel have no diffusers form here; export the base, or a UNet2DConditionModel fine-tune")
            }
            try writeUNet2D(model, unet, encoder, to: folder, schedule: schedule, metadata: metadata)
        case .unet2DCondition(let unet, let text):
            try writeUNet2DCondition(model, unet, text, to: folder, schedule: schedule, sampler: sampler, mergeLoRA: mergeLoRA)
            if let lora = model.lora, !mergeLoRA { try writeLoRAWeights(lora, to: folder + "/" + loraWeightsName) }
        }
    }

    static func writeUNet2D(_ model: TextToImageModel, _ unetModel: UNet2DModel, _ promptEncoder: PromptEncoder, to folder: String,
                            schedule: NoiseSchedule, metadata: [String: String]) throws {
        let c = unetModel.config
        try FileIO.createFolder(folder)
        let levels = c.blockOutChannels.count
        let config: [String: Any] = [
            "_class_name": "UNet2DModel",
            "_diffusers_version": "0.30.0",
            "sample_size": c.sampleSize,
            "in_channels": c.inChannels,
            "out_channels": c.outChannels,
            "center_input_sample": false,
            "time_embedding_type": "positional",
            "freq_shift": 0,
            "flip_sin_to_cos": true,
            "down_block_types": [String](repeating: "DownBlock2D", count: levels),
            "up_block_types": [String](repeating: "UpBlock2D", count: levels),
            "mid_block_type": "UNetMidBlock2D",
            "block_out_channels": c.blockOutChannels,
            "layers_per_block": c.layersPerBlock,
            "mid_block_scale_factor": 1,
            "downsample_padding": 1,
            "downsample_type": "conv",
            "upsample_type": "conv",
            "dropout": 0.0,
            "act_fn": "silu",
            "attention_head_dim": NSNull(),
            "norm_num_groups": c.normNumGroups,
            "attn_norm_num_groups": NSNull(),
            "norm_eps": 1e-5,
            "resnet_time_scale_shift": "default",
            "add_attention": false,
            "class_embed_type": "identity",
            "num_class_embeds": NSNull(),
            "num_train_timesteps": NSNull(),
        ]
        try writeJSON(config, to: folder + "/config.json")

        var unet = SafeTensorsWriter(metadata: ["format": "pt"])
        var encoder = SafeTensorsWriter(metadata: metadata)
        for slot in model.store.slots {
            if slot.name.hasPrefix("prompt_encoder.") {
                try encoder.add(slot.name, shape: slot.shape, from: UnsafePointer(model.store.parameters(slot)))
            } else {
                try unet.add(slot.name, shape: slot.shape, from: UnsafePointer(model.store.parameters(slot)))
            }
        }
        try unet.write(to: folder + "/diffusion_pytorch_model.safetensors")
        try encoder.write(to: folder + "/prompt_encoder.safetensors")

        let encoderInfo: [String: Any] = [
            "architecture": "ids = tokenizer(prompt) padded with <pad> (id 0) to max_tokens, unknown words <unk> (id 1); "
                + "tok = token_embedding.weight[ids] (max_tokens, dim); h = silu(linear_1(flatten(tok))); "
                + "cond = linear_2(h); an empty prompt (no words) gives null_embedding instead. "
                + "cond is UNet2DModel's class_labels (class_embed_type = identity).",
            "tokenizer": "lower-case, split on every character that is not a letter or digit",
            "words": model.tokenizer.words,
            "max_tokens": model.tokenizer.maxTokens,
            "dim": promptEncoder.dimension,
            "output_dim": promptEncoder.outputDimension,
        ]
        try writeJSON(encoderInfo, to: folder + "/prompt_encoder.json")

        // The check batch: fixed noise images, steps across the range, prompts and the empty one.
        let n = 4, d = model.imageSize, e = c.embeddingDimension
        var rng = RandomStream(seed: 20_241_122, stream: 9)
        var x = [Float](repeating: 0, count: n * d)
        x.withUnsafeMutableBufferPointer { rng.fillNormal($0.baseAddress!, count: n * d) }
        let steps: [Float] = [0, Float(schedule.T / 3), Float(2 * schedule.T / 3), Float(schedule.T - 1)]
        let words = model.tokenizer.words.dropFirst(2)
        let prompts = [words.prefix(8).joined(separator: " "), "", words.suffix(5).joined(separator: " "), words.prefix(3).joined(separator: " ")]
        let cond = FloatBuffer(count: n * e)
        promptEncoder.forward(prompts, cond.pointer, model.workspace)
        let eps = x.withUnsafeBufferPointer { xp in
            steps.withUnsafeBufferPointer { sp in
                Array(UnsafeBufferPointer(start: unetModel.forward(xp.baseAddress!, steps: sp.baseAddress!, cond: cond.pointer, n: n, keepActivations: false),
                                          count: n * d))
            }
        }
        var check = SafeTensorsWriter(metadata: ["prompts": prompts.joined(separator: "\n")])
        try check.add("sample", shape: [n, 3, c.sampleSize, c.sampleSize], x)
        try check.add("timesteps", shape: [n], steps.map { Int64($0) })
        try check.add("class_labels", shape: [n, e], cond.array(n * e))
        try check.add("eps", shape: [n, 3, c.sampleSize, c.sampleSize], eps)
        try check.write(to: folder + "/dde_train_check.safetensors")
    }

    /// A JSON object, pretty-printed with sorted keys, written crash-safely.
    static func writeJSON(_ object: [String: Any], to path: String) throws {
        let json = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try FileIO.writeAtomically([UInt8](json), to: path)
    }
}
