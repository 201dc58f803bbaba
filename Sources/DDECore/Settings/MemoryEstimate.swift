import Foundation

/// An upper estimate of a run's peak memory from the sizes in its config, checked against the
/// machine's physical memory when the settings are decoded, before any stage starts (issue 14: a
/// batch of 1e12 images used to end in a backtrace after the run folder was made).
///
/// The stages run one after another, so the peak is the largest stage's; each stage's bytes
/// are the parts below, every product and sum saturating at `Int.max` instead of wrapping:
/// - the U-Net's weights: P ≈ 10 (layers_per_block + 1) x 9 Σ_l C_l² + 32 C_0² floats (the
///   3x3 convolutions dominate; 13.7 x 9 Σ C² for the bench net's 2.53 M, 11.6 for sd15's);
///   training keeps 12 copies (weights, gradients, AdamW's two moments, EMA, the reference,
///   the Winograd-transformed weights: 4 each);
/// - activations: A = Σ_l C_l (S / 2^l)² floats per image at each level; a pretraining step
///   keeps 160 A per image, a fine-tune step 200 A per image of its pairs (the policy's kept
///   tensors, Winograd inputs and workspaces, the reference's forward), a forward alone 40 A;
/// - image sets held whole: 3 S² floats per image (validation images and their noise, the
///   classifier's held-out renders, the sampled images and their noise).
/// An estimate above physical memory names the key of the stage's largest part. Against the
/// peak resident memory of real runs (`/usr/bin/time -v`, 3 steps, docs/RELIABILITY.md) it is
/// 1.5 to 1.8 times too high, never too low: sd15 pretrain 0.51 GiB estimated / 349 MiB
/// measured, fine-tune 0.67 GiB / 376 MiB; bench pretrain 1.11 GiB / 726 MiB, fine-tune
/// 1.51 GiB / 845 MiB. `dde-train ... dry_run=true` prints each stage's estimate.
public enum MemoryEstimate {
    /// One stage's estimate and the key that drives its largest part.
    public struct Stage: Sendable {
        public let name: String
        public let bytes: Int
        public let key: String
        public let what: String
    }

    /// Each stage's estimate for `settings`.
    public static func stages(_ settings: RunSettings) -> [Stage] {
        let unet = settings.model.unet
        let channels = unet.blockOutChannels, size = unet.sampleSize, layers = unet.layersPerBlock
        let squares = sum(channels.map { product($0, $0) })
        let weights = sum(product(10, layers + 1, 9, squares), product(32, channels.first ?? 0, channels.first ?? 0))
        let activations = sum(channels.enumerated().map { l, c in product(c, size >> l, size >> l) })
        let image = product(3, size, size)
        func floats(_ n: Int) -> Int { product(4, n) }
        let model = floats(product(12, weights))

        // Each stage's parts (bytes, key, what), the largest naming the key.
        func stage(_ name: String, _ parts: [(Int, String, String)]) -> Stage {
            let top = parts.max { $0.0 < $1.0 }!
            return Stage(name: name, bytes: sum(parts.map(\.0)), key: top.1, what: top.2)
        }
        let pretrain = settings.pretrain, align = settings.annotators.training, tune = settings.fineTune
        let split = prompts
        return [
            stage("pretrain", [(model, "block_out_channels", "the U-Net's weights and training state"),
                               (floats(product(160, activations, pretrain.batch / pretrain.gradAccum)), "pretrain.batch", "the activations of a step's images"),
                               (floats(product(3, pretrain.valImages, image)), "pretrain.val_images", "the validation images and their noise")]),
            stage("annotators", [(floats(product(200, size, size, align.batch)), "annotators.batch", "the classifier's activations"),
                                 (floats(product(align.heldOutImages, image)), "annotators.eval_images", "the held-out renders")]),
            stage("pairs", [(model, "block_out_channels", "the U-Net's weights"),
                            (floats(product(3, split.train, settings.pairs.samplesPerPrompt, image)), "pairs.samples_per_prompt", "the sampled images and their noise")]),
            stage("train", [(product(2, model), "block_out_channels", "the policy's and the reference's weights and training state"),
                            (floats(product(200, activations, 2, tune.batch / tune.gradAccum)), "batch", "the activations of a step's pairs (policy and reference)")]),
            stage("eval", [(model, "block_out_channels", "the U-Net's weights"),
                           (floats(product(3, max(split.test, split.validation), settings.eval.imagesPerPrompt, image)), "eval.images_per_prompt", "the sampled images and their noise"),
                           (floats(product(40, activations, 64)), "block_out_channels", "a sampling batch's activations")]),
        ]
    }

    /// Throws a `ConfigError` located where the key of the largest stage's largest part was set,
    /// when that stage needs more than `physicalBytes`.
    static func check(_ settings: RunSettings, physicalBytes: Int = Int(clamping: ProcessInfo.processInfo.physicalMemory)) throws {
        guard let peak = stages(settings).max(by: { $0.bytes < $1.bytes }), peak.bytes > physicalBytes else { return }
        let setting = settings.config.setting(peak.key)
        let location = setting.origin == .defaultValue ? nil : setting.origin.description
        throw ConfigError(at: location, "key '\(peak.key)' (\(setting.value.text.excerpt)): the \(peak.name) stage would need "
                          + "\(peak.bytes == Int.max ? "more than 8e9" : "about " + gib(peak.bytes)) GiB (mostly \(peak.what)), more than this machine's \(gib(physicalBytes)) GiB of memory; "
                          + "lower \(peak.key)" + (peak.key.hasSuffix("batch") ? " or split the step with grad_accum" : ""))
    }

    /// The split's prompt counts, made once.
    private static let prompts: (train: Int, validation: Int, test: Int) = {
        let split = ShapesWorld.split()
        return (split.train.count, split.validation.count, split.test.count)
    }()

    private static func gib(_ bytes: Int) -> String { String(format: "%.3g", Double(bytes) / Double(1 << 30)) }

    /// Saturating arithmetic on non-negative sizes: past `Int.max` stays `Int.max`.
    static func product(_ factors: Int...) -> Int {
        factors.reduce(1) { a, b in
            let (r, overflow) = a.multipliedReportingOverflow(by: max(b, 0))
            return overflow ? Int.max : r
        }
    }

    static func sum(_ terms: [Int]) -> Int {
        terms.reduce(0) { a, b in
            let (r, overflow) = a.addingReportingOverflow(max(b, 0))
            return overflow ? Int.max : r
        }
    }

    static func sum(_ terms: Int...) -> Int { sum(terms) }
}
