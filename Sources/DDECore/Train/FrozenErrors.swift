import DDENumerics

/// The per-image errors a frozen model gave on a noised batch, remembered by content: the key is
/// the model's content digest, the workspace's thread count and convolution algorithm, and a
/// digest of everything the errors depend on (the noised images, the noise they are measured
/// against, the network's timesteps, the prompts). The same model on the same inputs in the same
/// workspace computes the same errors bit for bit, so a remembered value is the value.
///
/// Why: the main job fine-tunes Uniform, Discounted and DDE on the same pairs with the same seed,
/// and they draw the same pairs and noise at every step, and the same t where they draw t
/// uniformly (Uniform and DDE; Discounted samples t from gamma^n unless `disc.mode = weight`), so
/// the frozen reference's forward pass on a step's batch is the same for Uniform and DDE; likewise
/// the held-out and probe batches of the diagnostics, at every log and in every fine-tune of an
/// annotator and seed. Remembered, those passes run once. Keyed by content, not by settings, so
/// nothing can be reused where one input differs.
///
/// At most `capacity` errors are kept (afterwards nothing new is remembered: correct, only slower).
public final class FrozenErrors {
    public let capacity: Int
    public private(set) var hits = 0
    public private(set) var misses = 0
    private var entries: [Key: [Double]] = [:]
    private var stored = 0

    struct Key: Hashable {
        let model: UInt64
        let threads: Int
        let convolution: String
        let inputs: UInt64
        let images: Int
    }

    /// Room for `capacity` per-image errors (8 bytes each); the default, 4M, is 32 MiB.
    public init(capacity: Int = 1 << 22) {
        self.capacity = capacity
    }

    /// The errors of `model` (whose content digest is `digest`) on `batch`, from memory when it
    /// computed them before, else computed (no activations kept) and remembered.
    public func errors(of model: TextToImageModel, digest: ContentDigest, batch: PreferenceBatch) -> [Double] {
        let key = Key(model: digest.value, threads: model.workspace.threads, convolution: model.workspace.convolution.rawValue,
                      inputs: Self.inputDigest(batch), images: batch.images)
        if let known = entries[key] {
            hits += 1
            return known
        }
        misses += 1
        // The frozen base: a LoRA policy with its adapters off (a no-op for any other model).
        let e = model.withAdaptersOff { batch.errors(of: model, forBackward: false).e }
        if stored + e.count <= capacity {
            entries[key] = e
            stored += e.count
        }
        return e
    }

    /// A digest of the batch's network inputs and targets (`ContentDigest`, as the stage
    /// signatures use).
    static func inputDigest(_ batch: PreferenceBatch) -> UInt64 {
        let count = batch.images * batch.imageSize
        var d = ContentDigest()
        d.add(batch.xt.pointer, count: count)
        d.add(batch.eps.pointer, count: count)
        d.add(batch.networkSteps.pointer, count: batch.images)
        for prompt in batch.prompts { d.add(prompt) }
        return d.value
    }
}
