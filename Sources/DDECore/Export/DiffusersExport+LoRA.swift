import Foundation

/// A LoRA fine-tune in diffusers' form: the base exported as usual, plus
///
///     pytorch_lora_weights.safetensors    unet.<module>.lora_A.weight (r, IN), unet.<module>.lora_B.weight (OUT, r)
///
/// in PEFT's naming, with diffusers' `lora_adapter_metadata` (the LoraConfig keys under the
/// `unet.` prefix: r, lora_alpha, target_modules, lora_dropout), which
/// `UNet2DConditionModel.load_lora_adapter(folder, weight_name=..., prefix="unet")` reads for
/// the scale alpha / r. `lora.merge=true` writes the merged weights W + (alpha / r) B A into
/// `unet/` instead, and no adapter file.
extension DiffusersExport {
    public static let loraWeightsName = "pytorch_lora_weights.safetensors"

    static func writeLoRAWeights(_ lora: LoRAAdapters, to path: String) throws {
        let s = lora.settings
        let config: [String: Any] = ["unet.r": s.rank, "unet.lora_alpha": s.alpha, "unet.target_modules": s.targets,
                                     "unet.lora_dropout": s.dropout, "unet.bias": "none", "unet.use_dora": false]
        let json = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
        var file = SafeTensorsWriter(metadata: ["format": "pt", "lora_adapter_metadata": String(decoding: json, as: UTF8.self)])
        for slot in lora.store.slots {
            try file.add("unet." + slot.name, shape: slot.shape, from: UnsafePointer(lora.store.parameters(slot)))
        }
        try file.write(to: path)
    }

    /// The merged weight of every adapted layer, by the base slot's offset.
    static func mergedWeights(_ lora: LoRAAdapters, base: ParameterStore) -> [Int: FloatBuffer] {
        var merged: [Int: FloatBuffer] = [:]
        for adapter in lora.adapters {
            let buffer = FloatBuffer(count: adapter.base.count)
            lora.merged(adapter, base: base.parameters(adapter.base), into: buffer.pointer)
            merged[adapter.base.offset] = buffer
        }
        return merged
    }
}
