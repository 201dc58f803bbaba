import Foundation

/// How the `align` classifier is trained: the `annotators.*` keys plus the run's seed and image
/// side.
public struct AlignTraining: Sendable, Equatable {
    /// AdamW updates.
    public var steps: Int
    /// Freshly rendered clean images per update.
    public var batch: Int
    /// Peak learning rate (linear warm-up, then a cosine to 0 at `steps`).
    public var lr: Double
    public var warmupSteps: Int
    /// Held-out renders the accuracy is measured on.
    public var heldOutImages: Int
    public var seed: UInt64
    /// The image side S (the run's `sample_size`).
    public var size: Int
    public var channels: [Int]
    public var strides: [Int]
    public var featureCount: Int
    public var channelsPerGroup: Int

    /// The defaults are the config table's and `AlignClassifier`'s.
    public init(steps: Int = 1500, batch: Int = 128, lr: Double = 6e-3, warmupSteps: Int = 50,
                heldOutImages: Int = 3072, seed: UInt64 = 0, size: Int = 16,
                channels: [Int] = AlignClassifier.defaultChannels, strides: [Int] = AlignClassifier.defaultStrides,
                featureCount: Int = 64, channelsPerGroup: Int = 4) {
        self.steps = steps
        self.batch = batch
        self.lr = lr
        self.warmupSteps = warmupSteps
        self.heldOutImages = heldOutImages
        self.seed = seed
        self.size = size
        self.channels = channels
        self.strides = strides
        self.featureCount = featureCount
        self.channelsPerGroup = channelsPerGroup
    }

    // The classifier's own random streams ("ALIGN" + 0, 1, 2): it shares no stream with the
    // diffusion model's stages, so changing one never changes the other.
    static let initStream: UInt64 = 0x41_4C49_474E_00
    static let dataStream: UInt64 = 0x41_4C49_474E_01
    static let heldOutStream: UInt64 = 0x41_4C49_474E_02
}

/// A trained classifier and what its training measured.
public struct AlignTrainingResult: Sendable {
    public let classifier: AlignClassifier
    /// Held-out accuracy per attribute (shape, colour, background, size), in [0, 1].
    public let heldOutAccuracy: [Double]
    /// The mean of the four cross-entropies over the last `min(50, steps)` steps.
    public let finalLoss: Double
    /// Wall-clock seconds of the training loop (held-out evaluation excluded; on resume, of
    /// the resumed part).
    public let seconds: Double
}

/// One step of the classifier's training (the `annotators` stage's `TrainingStep`) and
/// everything it carries to the next: the weights (in `classifier.store`), the AdamW moments and
/// step, the data stream, the window of recent losses `finalLoss` averages, and the steps done.
/// A checkpoint is this state; training resumed from it continues bit-identically.
///
/// Every batch is freshly rendered from prompts drawn uniformly from all 384 world prompts (it
/// recognises attributes; it never sees a preference or a defect), so the renderer's jitter
/// (position, size, rotation, hue, brightness, texture) is the data augmentation and there is
/// no epoch to overfit. Loss `Σ_a mean_n CE(head_a, label_a)`; AdamW (0.9, 0.999, eps 1e-8,
/// weight decay 0.01), gradient norm clipped to 1, learning rate `lr` with a linear warm-up of
/// `warmupSteps` and a cosine to 0 at `steps`.
public final class AlignTrainingStep: TrainingStep {
    public let settings: AlignTraining
    public let classifier: AlignClassifier
    public let optimizer: AdamW
    public var dataRNG: RandomStream
    /// The losses of the last `min(50, step)` steps.
    public var recentLosses: [Double] = []
    /// Completed steps.
    public var step = 0
    let renderer: ShapesRenderer
    let schedule: LearningRateSchedule
    let images: FloatBuffer
    var labels: [Int]

    /// Step 0: freshly initialised weights, zero moments, the data stream at its start; the
    /// classifier computes in `workspace`.
    public init(_ settings: AlignTraining, workspace: Workspace) {
        self.settings = settings
        classifier = AlignClassifier(channels: settings.channels, strides: settings.strides,
                                     featureCount: settings.featureCount, channelsPerGroup: settings.channelsPerGroup,
                                     workspace: workspace)
        var initRNG = RandomStream(seed: settings.seed, stream: AlignTraining.initStream)
        classifier.initialize(&initRNG)
        dataRNG = RandomStream(seed: settings.seed, stream: AlignTraining.dataStream)
        optimizer = AdamW(classifier.store, weightDecay: 0.01)
        renderer = ShapesRenderer(size: settings.size)
        schedule = LearningRateSchedule.cosineWithWarmup(warmupSteps: settings.warmupSteps, totalSteps: settings.steps)
        images = FloatBuffer(count: settings.batch * 3 * settings.size * settings.size)
        labels = [Int](repeating: 0, count: settings.batch * 4)
    }

    /// Metrics: the loss, the four per-attribute losses, the gradient norm and the learning rate.
    public func run(step: Int) throws -> [(String, Double)] {
        let s = settings.size, n = settings.batch, d = 3 * s * s
        for i in 0..<n {
            let prompt = ShapesWorld.prompts[dataRNG.int(below: ShapesPrompt.count)]
            renderer.render(prompt, rng: &dataRNG, into: images.pointer + i * d)
            for (a, v) in prompt.attributes.enumerated() { labels[i * 4 + a] = v }
        }
        // Data parallel (MPI): every rank renders the whole batch (the same data stream), runs
        // its shard, and the shards' gradients and losses (each a share of the batch's mean) add up.
        // (A batch smaller than the rank count runs whole on every rank.)
        let cluster = Cluster.current, split = cluster.isParallel && n >= cluster.size
        let shard = split ? cluster.shard(n) : 0..<n
        classifier.store.zeroGrads()
        classifier.forward(images.pointer + shard.lowerBound * d, n: shard.count, size: s)
        var losses = labels.withUnsafeBufferPointer { classifier.backward(labels: $0.baseAddress! + shard.lowerBound * 4, meanOver: n) }
        if split {
            cluster.sum(classifier.store.grads.pointer, count: classifier.store.count)
            losses = cluster.sum(losses)
        }
        let loss = losses.reduce(0, +)
        let hint = "try a lower annotators.lr"
        try StepCheck.loss(loss, stage: "annotators", step: step + 1, hint: hint)
        try StepCheck.gradients(classifier.store, stage: "annotators", step: step + 1, hint: hint, classifier.workspace)
        let norm = Double(clipGradNorm(classifier.store, maxNorm: 1, classifier.workspace))
        let lr = schedule.learningRate(base: settings.lr, step: step)
        optimizer.update(classifier.store, lr: lr, classifier.workspace)
        try StepCheck.weights(classifier.store, stage: "annotators", step: step + 1, hint: hint, classifier.workspace)
        self.step = step + 1
        recentLosses.append(loss)
        if recentLosses.count > 50 { recentLosses.removeFirst() }
        var metrics: [(String, Double)] = [("loss", loss)]
        for (name, l) in zip(AlignClassifier.attributeNames, losses) { metrics.append(("loss_\(name)", l)) }
        return metrics + [("grad_norm", norm), ("lr", lr)]
    }

    /// Weights, AdamW's moments, the data stream and the recent losses.
    public func checkpoint(step: Int, metadata: [String: String]) throws -> SafeTensorsWriter {
        let meta = Checkpoint.stateMetadata(metadata, step: step, optimizer: optimizer, streams: ["data": dataRNG])
        var writer = try classifier.store.safeTensorsWriter(metadata: meta, buffers: ["adam.m": optimizer.m, "adam.v": optimizer.v])
        try writer.add("loss.recent", shape: [recentLosses.count], recentLosses)
        return writer
    }

    public func restore(from file: SafeTensorsReader, step: Int) throws {
        try classifier.store.load(from: file, allowExtra: { ["adam.m", "adam.v", "loss.recent"].contains($0) })
        try Checkpoint.restore(optimizer, store: classifier.store, from: file, step: step)
        dataRNG = try Checkpoint.stream("data", from: file)
        recentLosses = try file.values("loss.recent")
        self.step = step
    }

    /// What the training measured, after its last step: the held-out accuracy per attribute
    /// (on renders no batch used) and the mean loss of the last steps.
    public func result(seconds: Double) -> AlignTrainingResult {
        let heldOut = AlignClassifier.heldOutSet(count: settings.heldOutImages, size: settings.size, seed: settings.seed)
        let accuracy = heldOut.images.withUnsafeBufferPointer {
            classifier.accuracy($0.baseAddress!, prompts: heldOut.prompts, size: settings.size)
        }
        return AlignTrainingResult(classifier: classifier, heldOutAccuracy: accuracy,
                                   finalLoss: recentLosses.reduce(0, +) / Double(max(recentLosses.count, 1)), seconds: seconds)
    }
}

extension AlignClassifier {
    /// Trains a classifier from scratch (`AlignTrainingStep`), in memory: no log, no
    /// checkpoint (the `annotators` stage runs the same step in `TrainingRun`). Reports
    /// `stepDone("annotators", ...)` with the step's metrics. Throws at the step where the
    /// loss, a gradient or a weight is NaN or Inf.
    public static func train(_ settings: AlignTraining, workspace: Workspace,
                             observer: StageObserver? = nil) throws -> AlignTrainingResult {
        let step = AlignTrainingStep(settings, workspace: workspace)
        observer?.stageBegan("annotators", total: settings.steps, completed: 0)
        let started = Stopwatch.now()
        for index in 0..<settings.steps {
            let metrics = try step.run(step: index)
            observer?.stepDone("annotators", step: index + 1, total: settings.steps, metrics: [("step", Double(index + 1))] + metrics)
        }
        let result = step.result(seconds: Stopwatch.now() - started)
        observer?.stageEnded("annotators")
        return result
    }

    /// `count` clean renders for measuring accuracy, from a stream no training batch uses:
    /// image i shows prompt `i mod 384` (every prompt equally often).
    public static func heldOutSet(count: Int, size: Int, seed: UInt64) -> (images: [Float], prompts: [ShapesPrompt]) {
        let renderer = ShapesRenderer(size: size), d = renderer.imageCount
        var rng = RandomStream(seed: seed, stream: AlignTraining.heldOutStream)
        let prompts = (0..<count).map { ShapesWorld.prompts[$0 % ShapesPrompt.count] }
        let images = [Float](unsafeUninitializedCapacity: count * d) { buffer, filled in
            for (i, p) in prompts.enumerated() { renderer.render(p, rng: &rng, into: buffer.baseAddress! + i * d) }
            filled = count * d
        }
        return (images, prompts)
    }
}
