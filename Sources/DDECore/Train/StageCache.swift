/// Which config keys a stage's artifact depends on, and whether an artifact on disk was made
/// with the same values (testbed.md: "each stage declares the keys it depends on; its artifact
/// is reused when those keys are unchanged"). The signature goes into the artifact's metadata.
public enum StageCache {
    /// Keys the pretrained base model depends on. Logging, validation and sampling intervals
    /// do not change the weights and are left out; `threads` is in, since the thread count
    /// changes floating-point summation order.
    public static let pretrainKeys = [
        "seed", "threads", "block_out_channels", "layers_per_block", "norm_num_groups", "sample_size",
        "data", "world.defect_rate", "data.skip_bad", "encoder.dim", "encoder.max_tokens",
        "schedule", "timesteps", "beta_start", "beta_end",
        "pretrain.steps", "pretrain.batch", "pretrain.lr", "pretrain.warmup_steps", "pretrain.prompt_dropout",
        "pretrain.ema", "weight_decay", "adam_beta1", "adam_beta2", "adam_eps", "grad_clip", "grad_accum",
    ]

    /// Keys the `align` classifier depends on (`annotators.min_accuracy` only accepts or
    /// rejects it; the image side is the run's `sample_size`).
    public static let annotatorKeys = [
        "seed", "threads", "sample_size", "annotators.steps", "annotators.batch", "annotators.lr",
        "annotators.warmup_steps", "annotators.eval_images",
    ]

    /// `key=value` lines of the given keys, in order: equal signatures, equal artifacts.
    public static func signature(_ config: Config, keys: [String]) -> String {
        keys.map { "\($0)=\(config.value($0).text)" }.joined(separator: "\n")
    }

    /// The keys whose values differ between two signatures ("seed: 0 -> 1"), for messages.
    public static func differences(_ old: String, _ new: String) -> [String] {
        func pairs(_ s: String) -> [String: String] {
            Dictionary(s.split(separator: "\n").compactMap { line -> (String, String)? in
                guard let eq = line.firstIndex(of: "=") else { return nil }
                return (String(line[..<eq]), String(line[line.index(after: eq)...]))
            }, uniquingKeysWith: { a, _ in a })
        }
        let a = pairs(old), b = pairs(new)
        return Set(a.keys).union(b.keys).sorted().compactMap { k in
            a[k] == b[k] ? nil : "\(k): \(a[k] ?? "(none)") -> \(b[k] ?? "(none)")"
        }
    }

    /// The signature recorded in an artifact, or nil when the file is missing or unreadable.
    public static func recordedSignature(_ path: String) -> String? {
        (try? SafeTensorsReader(contentsOf: path))?.metadata["stage_signature"]
    }

    /// True when `path` is a complete artifact (it parses) whose recorded signature matches.
    public static func isReusable(_ path: String, signature: String) -> Bool {
        guard let file = try? SafeTensorsReader(contentsOf: path) else { return false }
        return file.metadata["stage_signature"] == signature
    }
}
