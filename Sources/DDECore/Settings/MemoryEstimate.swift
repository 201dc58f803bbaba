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
///   classifier's held-out renders, the sampled images and their noise);
/// - the cross-attention U-Net's transformers (`UNet2DConditionModel`): per token of level l,
///   (17 n + 3) C_l floats for a transformer of n blocks while training
///   (`transformerFloatsPerToken`: per block two residuals and the output, self-attention's q,
///   k, v and attended values, cross-attention's query and attended values, the feed-forward's
///   8 C projection; per transformer its normalised input, tokens and output), plus 25 C_l per
///   token of the largest for one block's gradients and the recomputed normalised inputs and
///   gate; a forward alone keeps only each transformer's output (C_l) and shares 23 C_l per
///   token of the largest (`TransformerScratch`) (`transformerFloats`).
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
        let (kept, forwardOnly, backward) = transformerFloats(settings.model)
        let transformers = sum(kept, backward)

        // Each stage's parts (bytes, key, what), the largest naming the key.
        func stage(_ name: String, _ parts: [(Int, String, String)]) -> Stage {
            let top = parts.max { $0.0 < $1.0 }!
            return Stage(name: name, bytes: sum(parts.map(\.0)), key: top.1, what: top.2)
        }
        let pretrain = settings.pretrain, align = settings.annotators.training, tune = settings.fineTune
        // The run's prompt counts (a prompts file or data folder's; a file that cannot be read
        // fails later with its own error, the estimate then takes the world's).
        let split = (try? RunPrompts.resolve(settings.data)).map { (train: $0.train.count, validation: $0.validation.count, test: $0.test.count) } ?? prompts
        return [
            stage("pretrain", [(model, "block_out_channels", "the U-Net's weights and training state"),
                               (floats(product(sum(product(160, activations), transformers), pretrain.batch / pretrain.gradAccum)), "pretrain.batch", "the activations of a step's images"),
                               (floats(product(3, pretrain.valImages, image)), "pretrain.val_images", "the validation images and their noise")]),
            stage("annotators", [(floats(product(200, size, size, align.batch)), "annotators.batch", "the classifier's activations"),
                                 (floats(product(align.heldOutImages, image)), "annotators.eval_images", "the held-out renders")]),
            stage("pairs", [(model, "block_out_channels", "the U-Net's weights"),
                            (floats(product(3, split.train, settings.pairs.samplesPerPrompt, image)), "pairs.samples_per_prompt", "the sampled images and their noise")]),
            stage("train", [(product(2, model), "block_out_channels", "the policy's and the reference's weights and training state"),
                            (floats(product(sum(product(200, activations), transformers, forwardOnly), 2, tune.batch / tune.gradAccum)), "batch", "the activations of a step's pairs (policy and reference)")]),
            stage("eval", [(model, "block_out_channels", "the U-Net's weights"),
                           (floats(product(3, max(split.test, split.validation), settings.eval.imagesPerPrompt, image)), "eval.images_per_prompt", "the sampled images and their noise"),
                           (floats(product(sum(product(40, activations), forwardOnly), 64)), "block_out_channels", "a sampling batch's activations")]),
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

    /// Floats per image of the cross-attention U-Net's transformers: what a training forward
    /// keeps for backward, what a forward alone holds (each transformer's output and the shared
    /// scratch, sized for the largest), and what backward adds for the largest (one block's
    /// gradients and the recomputed normalised inputs and gate); all 0 for `UNet2DModel`.
    static func transformerFloats(_ model: ModelSettings) -> (kept: Int, forwardOnly: Int, backward: Int) {
        guard model.modelClass == .unet2DCondition else { return (0, 0, 0) }
        let c = model.conditionUNet, levels = c.blockOutChannels.count
        guard levels > 0, c.downBlockTypes.count == levels, c.upBlockTypes.count == levels,
              c.transformerLayersPerBlock.count == levels else { return (0, 0, 0) }
        var kept = 0, outputs = 0, largest = 0, scratch = 0
        for level in 0..<levels {
            let tokens = product(c.sampleSize >> level, c.sampleSize >> level), width = c.blockOutChannels[level]
            var transformers = c.downBlockTypes[level] == .crossAttention ? c.layersPerBlock : 0
            if c.upBlockTypes[levels - 1 - level] == .crossAttention { transformers += c.layersPerBlock + 1 }
            if level == levels - 1 { transformers += 1 }  // the mid block's
            guard transformers > 0 else { continue }
            let blocks = c.transformerLayersPerBlock[level]
            kept = sum(kept, product(transformers, tokens, transformerFloatsPerToken(width: width, blocks: blocks)))
            outputs = sum(outputs, product(transformers, tokens, width))
            largest = max(largest, product(25, tokens, width))
            scratch = max(scratch, product(tokens, transformerScratchFloatsPerToken(width: width)))
        }
        return (kept, sum(outputs, scratch), largest)
    }

    /// Floats per token a `Transformer2DModel` of `blocks` blocks on `width` channels keeps
    /// through a forward for backward (TransformerTests checks it against the buffers' real
    /// growth, with the 5 per token of the shared scratch that training also fills).
    public static func transformerFloatsPerToken(width: Int, blocks: Int) -> Int {
        product(sum(product(17, blocks), 3), width)
    }

    /// Floats per token of the `TransformerScratch` a forward alone fills for a transformer on
    /// `width` channels (TransformerTests checks it too).
    public static func transformerScratchFloatsPerToken(width: Int) -> Int { product(23, width) }

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
