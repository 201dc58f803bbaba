/// LoRA (issue 16): the adapters a fine-tune trains (`lora.rank` > 0, `lora.alpha`,
/// `lora.targets`, `lora.dropout`) and how `export` writes them (`lora.merge`).
public struct LoRASettings: Sendable, Equatable {
    /// A LoRA fine-tune's adapters; nil for a full fine-tune (`lora.rank = 0`).
    public var adapters: LoRAAdapters.Settings?
    /// `dde-train bench --only lora-dpo`'s adapters: the configured ones, else rank 8 (alpha 8,
    /// no dropout) on `lora.targets`.
    public var benchAdapters: LoRAAdapters.Settings
    /// `export`: the merged weights W + (alpha / r) B A instead of pytorch_lora_weights.safetensors.
    public var mergeOnExport: Bool

    init(_ config: Config) {
        let rank = config.int("lora.rank"), alpha = config.double("lora.alpha"), targets = config.stringList("lora.targets")
        adapters = rank == 0 ? nil : LoRAAdapters.Settings(rank: rank, alpha: alpha == 0 ? Double(rank) : alpha, targets: targets,
                                                           dropout: config.double("lora.dropout"))
        benchAdapters = adapters ?? LoRAAdapters.Settings(rank: 8, alpha: 8, targets: targets, dropout: 0)
        mergeOnExport = config.bool("lora.merge")
    }
}
