/// One pretraining step (the `pretrain` stage's `TrainingStep`): a batch of `batch` images
/// with their prompts (dropped to "" at `promptDropout`), one t and one eps per image, the
/// epsilon loss `mean over images of |model(x_t, t, c) - eps|^2 / (3 S S)`, backward in
/// micro-batches of `micro` images, the gradients summed over MPI ranks, clipping, AdamW and
/// the EMA.
///
/// Data parallel (MPI): every rank draws the whole batch (the same random numbers in the same
/// order as one process), then runs its shard of it in micro-batches; the gradients and the
/// loss are summed over the ranks.
public final class PretrainStep: TrainingStep {
    public let model: TextToImageModel
    public let images: TrainingImages
    public let schedule: NoiseSchedule
    public let optimizer: AdamW
    /// The EMA of the weights (the saved model), or nil when `pretrain.ema` is 0.
    public let ema: EMA?
    let emaDecay: Double
    let batch: Int, micro: Int
    let baseLR: Double
    let settings: OptimizerSettings
    let lrSchedule: LearningRateSchedule
    let promptDropout: Float
    var dataRNG: RandomStream
    var noiseRNG: RandomStream
    let x0: FloatBuffer, noise: FloatBuffer, xt: FloatBuffer
    let kBuffer: FloatBuffer, e: FloatBuffer, dE: FloatBuffer, dPred: FloatBuffer
    var prompts: [String] = [], chunkPrompts: [String] = []

    /// The step of a run: the `pretrain.*` keys, the AdamW keys shared with the fine-tune, and
    /// the data and noise streams of `seed` (streams 2 and 3; 1 initialised the model).
    public init(model: TextToImageModel, images: TrainingImages, settings: RunSettings) throws {
        self.model = model
        self.images = images
        let pretrain = settings.pretrain
        schedule = settings.schedule
        optimizer = settings.optimizer.adamW(model.store)
        self.settings = settings.optimizer
        emaDecay = pretrain.ema
        ema = emaDecay > 0 ? EMA(model.store, decay: emaDecay) : nil
        dataRNG = RandomStream(seed: settings.seed, stream: 2)
        noiseRNG = RandomStream(seed: settings.seed, stream: 3)
        batch = pretrain.batch
        micro = pretrain.microBatch
        lrSchedule = LearningRateSchedule.constantWithWarmup(warmupSteps: pretrain.warmupSteps)
        baseLR = pretrain.lr
        promptDropout = pretrain.promptDropout
        try Cluster.current.requireShards(batch, key: "pretrain.batch", item: "an image")
        let d = model.imageSize
        x0 = FloatBuffer(count: batch * d); noise = FloatBuffer(count: batch * d); xt = FloatBuffer(count: micro * d)
        kBuffer = FloatBuffer(count: batch); e = FloatBuffer(count: micro); dE = FloatBuffer(count: micro)
        dPred = FloatBuffer(count: micro * d)
        prompts.reserveCapacity(batch)
    }

    public func run(step: Int) throws -> [(String, Double)] {
        let store = model.store, d = model.imageSize, s = model.sampleSize
        store.zeroGrads()
        // The batch, drawn in micro-batches as one process draws it.
        prompts.removeAll(keepingCapacity: true)
        var drawn = 0
        while drawn < batch {
            let m = min(micro, batch - drawn)
            images.fillBatch(x0.pointer + drawn * d, count: m, rng: &dataRNG, prompts: &chunkPrompts)
            for i in 0..<m where noiseRNG.uniform() < promptDropout { chunkPrompts[i] = "" }
            prompts += chunkPrompts
            noiseRNG.fillNormal(noise.pointer + drawn * d, count: m * d)
            for i in 0..<m { kBuffer.pointer[drawn + i] = Float(noiseRNG.int(below: schedule.T)) }
            drawn += m
        }
        // This rank's shard (all of it when alone), in micro-batches.
        var lossSum = 0.0
        let cluster = Cluster.current, shard = cluster.shard(batch)
        var done = shard.lowerBound
        while done < shard.upperBound {
            let m = min(micro, shard.upperBound - done)
            let x0m = x0.pointer + done * d, noisem = noise.pointer + done * d, km = kBuffer.pointer + done
            for i in 0..<m {
                let (a, sigma) = schedule.noisingCoefficients(Int(km[i]) + 1)
                let xi = x0m + i * d, ni = noisem + i * d, ti = xt.pointer + i * d
                for j in 0..<d { ti[j] = a * xi[j] + sigma * ni[j] }
            }
            let pred = model.predictNoise(xt.pointer, steps: km, prompts: Array(prompts[done..<(done + m)]))
            PerImageMSE.forward(pred: pred, target: noisem, e.pointer, n: m, c: 3, h: s, w: s, model.workspace)
            for i in 0..<m { lossSum += Double(e.pointer[i]); dE.pointer[i] = 1 / Float(batch) }
            dPred.zero(m * d)
            PerImageMSE.backward(dE: dE.pointer, pred: pred, target: noisem, dPred: dPred.pointer, dTarget: nil, n: m, c: 3, h: s, w: s, model.workspace)
            model.backward(dPred.pointer)
            done += m
        }
        if cluster.isParallel {
            cluster.sum(store.grads.pointer, count: store.count)
            lossSum = cluster.sum([lossSum])[0]
        }
        let loss = lossSum / Double(batch)
        let hint = "try a lower pretrain.lr"
        try StepCheck.loss(loss, stage: "pretrain", step: step + 1, hint: hint)
        try StepCheck.gradients(store, stage: "pretrain", step: step + 1, hint: hint, model.workspace)
        let norm = settings.clip(store, model.workspace)
        let lr = lrSchedule.learningRate(base: baseLR, step: step)
        optimizer.update(store, lr: lr, model.workspace)
        // diffusers' EMAModel warm-up: decay min(d, (1 + t)/(10 + t)), so the random initial
        // weights do not linger in the average (0.999^2500 would still be 8% of them).
        let t = Double(step + 1)
        ema?.update(store, decay: min(emaDecay, (1 + t) / (10 + t)), model.workspace)
        try StepCheck.weights(store, ema: ema, stage: "pretrain", step: step + 1, hint: hint, model.workspace)
        return [("loss", loss), ("grad_norm", norm), ("lr", lr)]
    }

    /// Weights, AdamW's moments, the EMA and the data and noise streams.
    public func checkpoint(step: Int, metadata: [String: String]) throws -> SafeTensorsWriter {
        let meta = Checkpoint.stateMetadata(metadata, step: step, optimizer: optimizer, streams: ["data": dataRNG, "noise": noiseRNG])
        var writer = try model.store.safeTensorsWriter(metadata: meta, buffers: ["adam.m": optimizer.m, "adam.v": optimizer.v])
        if let ema { try writer.add("ema", shape: [model.store.count], from: ema.weights.pointer) }
        return writer
    }

    public func restore(from file: SafeTensorsReader, step: Int) throws {
        try model.store.load(from: file, allowExtra: { ["adam.m", "adam.v", "ema"].contains($0) })
        try Checkpoint.restore(optimizer, store: model.store, from: file, step: step)
        if let ema { try model.store.readBuffer("ema", from: file, into: ema.weights) }
        dataRNG = try Checkpoint.stream("data", from: file)
        noiseRNG = try Checkpoint.stream("noise", from: file)
    }
}
