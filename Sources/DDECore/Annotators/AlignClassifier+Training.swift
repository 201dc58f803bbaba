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

    /// The settings of a run: `annotators.steps`, `annotators.batch`, `annotators.lr`,
    /// `annotators.warmup_steps`, `annotators.eval_images`, `seed`, `sample_size`.
    public init(config: Config) {
        self.init(steps: config.int("annotators.steps"), batch: config.int("annotators.batch"),
                  lr: config.double("annotators.lr"), warmupSteps: config.int("annotators.warmup_steps"),
                  heldOutImages: config.int("annotators.eval_images"), seed: UInt64(config.int("seed")),
                  size: config.int("sample_size"))
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

/// Everything the classifier's training carries from one step to the next: the weights (in
/// `classifier.store`), the AdamW moments and step, the data stream, the window of recent
/// losses `finalLoss` averages, and the steps done. A checkpoint is this state; training resumed
/// from it continues bit-identically.
public final class AlignTrainingState {
    public let classifier: AlignClassifier
    public let optimizer: AdamW
    public var dataRNG: RandomStream
    /// The losses of the last `min(50, step)` steps.
    public var recentLosses: [Double] = []
    /// Completed steps.
    public var step = 0

    /// Step 0: freshly initialised weights, zero moments, the data stream at its start.
    public init(_ settings: AlignTraining) {
        classifier = AlignClassifier(channels: settings.channels, strides: settings.strides,
                                     featureCount: settings.featureCount, channelsPerGroup: settings.channelsPerGroup)
        var initRNG = RandomStream(seed: settings.seed, stream: AlignTraining.initStream)
        classifier.initialize(&initRNG)
        dataRNG = RandomStream(seed: settings.seed, stream: AlignTraining.dataStream)
        optimizer = AdamW(classifier.store, weightDecay: 0.01)
    }
}

extension AlignClassifier {
    /// Trains a classifier from scratch on clean renders of prompts drawn uniformly from all 384
    /// world prompts (it recognises attributes; it never sees a preference or a defect). Every
    /// batch is freshly rendered, so the renderer's jitter (position, size, rotation, hue,
    /// brightness, texture) is the data augmentation and there is no epoch to overfit.
    ///
    /// Loss `Σ_a mean_n CE(head_a, label_a)`; AdamW (0.9, 0.999, eps 1e-8, weight decay 0.01),
    /// gradient norm clipped to 1, learning rate `lr` with a linear warm-up of `warmupSteps`
    /// and a cosine to 0 at `steps`. Reports `stepDone("annotators", ...)` with the loss,
    /// the four per-attribute losses and the learning rate, and then calls `afterStep` with the
    /// same metrics (where the stage logs and checkpoints; it may throw to stop).
    ///
    /// `state` (from a checkpoint) continues a run where it stopped. Throws at the step where
    /// the loss, a gradient or a weight is NaN or Inf, before `afterStep` sees that step.
    public static func train(_ settings: AlignTraining, from state: AlignTrainingState? = nil, observer: StageObserver? = nil,
                             afterStep: (AlignTrainingState, [(String, Double)]) throws -> Void = { _, _ in }) throws -> AlignTrainingResult {
        let s = settings.size, n = settings.batch, d = 3 * s * s
        let state = state ?? AlignTrainingState(settings)
        let classifier = state.classifier, optimizer = state.optimizer
        let renderer = ShapesRenderer(size: s)
        let schedule = LearningRateSchedule.cosineWithWarmup(warmupSteps: settings.warmupSteps, totalSteps: settings.steps)
        let images = FloatBuffer(count: n * d)
        var labels = [Int](repeating: 0, count: n * 4)

        observer?.stageBegan("annotators", total: settings.steps, completed: state.step)
        let started = Stopwatch.now()
        for step in state.step..<settings.steps {
            let t0 = Stopwatch.now()
            for i in 0..<n {
                let prompt = ShapesWorld.prompts[state.dataRNG.int(below: ShapesPrompt.count)]
                renderer.render(prompt, rng: &state.dataRNG, into: images.pointer + i * d)
                for (a, v) in prompt.attributes.enumerated() { labels[i * 4 + a] = v }
            }
            classifier.store.zeroGrads()
            classifier.forward(images.pointer, n: n, size: s)
            let losses = labels.withUnsafeBufferPointer { classifier.backward(labels: $0.baseAddress!) }
            let loss = losses.reduce(0, +)
            try StepCheck.loss(loss, stage: "annotators", step: step + 1, hint: "try a lower annotators.lr")
            try StepCheck.gradients(classifier.store, stage: "annotators", step: step + 1, hint: "try a lower annotators.lr")
            let norm = Double(clipGradNorm(classifier.store, maxNorm: 1))
            let lr = schedule.learningRate(base: settings.lr, step: step)
            optimizer.update(classifier.store, lr: lr)
            try StepCheck.weights(classifier.store, stage: "annotators", step: step + 1, hint: "try a lower annotators.lr")
            state.step = step + 1
            state.recentLosses.append(loss)
            if state.recentLosses.count > 50 { state.recentLosses.removeFirst() }
            var metrics: [(String, Double)] = [("step", Double(step + 1)), ("loss", loss)]
            for (name, l) in zip(AlignClassifier.attributeNames, losses) { metrics.append(("loss_\(name)", l)) }
            metrics += [("grad_norm", norm), ("lr", lr), ("seconds", Stopwatch.now() - t0)]
            observer?.stepDone("annotators", step: step + 1, total: settings.steps, metrics: metrics)
            try afterStep(state, metrics)
        }
        let seconds = Stopwatch.now() - started
        let heldOut = heldOutSet(count: settings.heldOutImages, size: s, seed: settings.seed)
        let accuracy = heldOut.images.withUnsafeBufferPointer {
            classifier.accuracy($0.baseAddress!, prompts: heldOut.prompts, size: s)
        }
        observer?.stageEnded("annotators")
        let recent = state.recentLosses
        return AlignTrainingResult(classifier: classifier, heldOutAccuracy: accuracy,
                                   finalLoss: recent.reduce(0, +) / Double(max(recent.count, 1)), seconds: seconds)
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
