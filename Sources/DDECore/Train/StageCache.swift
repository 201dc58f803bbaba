import Foundation

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

    /// Keys a fine-tune depends on besides its base model and pairs (which the main job's
    /// signature adds); a fine-tune's checkpoints record them with `threads`, and a resume must match.
    public static let fineTuneKeys = [
        "loss", "beta", "t_range", "dpo.shared_noise", "disc.gamma", "disc.steps", "disc.mode", "dde.kappa",
        "dde.correction_scale", "dde.lambda", "dde.ema", "dde.record_buckets", "dde.ema_bias_correction",
        "lr", "batch", "steps", "warmup_steps", "weight_decay", "adam_beta1", "adam_beta2", "adam_eps",
        "grad_clip", "grad_accum", "seed",
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

    /// Why the artifact at `path`, which exists, cannot be read (`path: ... (truncated file?)`);
    /// nil when it reads or is not there.
    public static func damage(_ path: String) -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            _ = try SafeTensorsReader(contentsOf: path)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// True when `path` is a complete artifact (it parses) whose recorded signature matches.
    public static func isReusable(_ path: String, signature: String) -> Bool {
        guard let file = try? SafeTensorsReader(contentsOf: path) else { return false }
        return file.metadata["stage_signature"] == signature
    }

    // MARK: - Finished stage folders

    /// The manifest a finished stage folder keeps beside `signature.txt`.
    public static let manifestFile = "artifacts.txt"

    /// Every file below `folder` but the checkpoints, hidden files (the lock, temporaries) and
    /// the signature and manifest themselves, as `size fnv1a64 path` lines (sorted): what a
    /// finished stage wrote, so a later run can tell it from a truncated or damaged copy.
    public static func manifest(of folder: String) throws -> String {
        let skip: Set<String> = ["signature.txt", manifestFile]
        let files = (FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? []).filter { path in
            !skip.contains(path) && !path.hasPrefix("checkpoints") && !path.split(separator: "/").contains { $0.hasPrefix(".") }
                && !isFolder(folder + "/" + path)
        }.sorted()
        return try files.map { path in
            let bytes = try FileIO.read(folder + "/" + path)
            return "\(bytes.count) \(String(fnv1a(bytes), radix: 16)) \(path)"
        }.joined(separator: "\n") + "\n"
    }

    /// Why the finished stage in `folder` cannot be reused, or nil: a file its manifest lists is
    /// missing or differs in size or content; without a manifest (folders from before it),
    /// a `required` file is missing or, for safetensors, does not read.
    public static func incompleteness(of folder: String, required: [String]) -> String? {
        guard let manifest = try? String(contentsOfFile: folder + "/" + manifestFile, encoding: .utf8) else {
            for name in required {
                let path = folder + "/" + name
                guard FileManager.default.fileExists(atPath: path) else { return "\(path) is missing" }
                if name.hasSuffix(".safetensors"), let damage = damage(path) { return damage }
            }
            return nil
        }
        for line in manifest.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 2)
            guard parts.count == 3, let size = Int(parts[0]) else { return "\(folder)/\(manifestFile) is damaged" }
            let path = folder + "/" + parts[2]
            guard let bytes = try? FileIO.read(path) else { return "\(path) is missing" }
            if bytes.count != size { return "\(path) has \(bytes.count) bytes, \(size) when the stage finished (truncated or damaged)" }
            if String(fnv1a(bytes), radix: 16) != parts[1] { return "\(path) changed since the stage finished (damaged)" }
        }
        return nil
    }

    /// 64-bit FNV-1a: a cheap fingerprint to notice damage (not a defence against tampering).
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    private static func isFolder(_ path: String) -> Bool {
        var folder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &folder) && folder.boolValue
    }
}
