import Foundation

/// The `pretrain` stage: the base text-to-image model, trained with the plain epsilon loss
/// `mean over images of |model(x_t, t, c) - eps|^2 / (3 S S)`, `t ~ U{1..T}`, prompts dropped to
/// "" at `pretrain.prompt_dropout` so classifier-free guidance has an unconditional model.
///
/// Writes into `folder`: `checkpoints/step-N.safetensors` (weights, AdamW moments, EMA, random
/// streams; the last `keep_checkpoints` kept), `model.safetensors` (the final weights, EMA when
/// on), `metrics.jsonl`/`metrics.csv` (per step), `validation.csv`/`.jsonl`, `samples/step-N.png`.
public final class Pretrainer {
    public let config: Config
    public let folder: String
    public let build: BuildInfo
    weak var observer: StageObserver?

    public init(config: Config, folder: String, build: BuildInfo, observer: StageObserver) {
        self.config = config
        self.folder = folder
        self.build = build
        self.observer = observer
    }

    /// The base model a later stage starts from: the `base` key, or this run's pretrain stage.
    public static func basePath(_ config: Config) -> String {
        config.string("base").isEmpty ? config.outDirectory + "/pretrain/model.safetensors" : config.string("base")
    }

    public static func unetConfig(_ config: Config) -> UNetConfig {
        UNetConfig(blockOutChannels: config.intList("block_out_channels"), layersPerBlock: config.int("layers_per_block"),
                   normNumGroups: config.int("norm_num_groups"), sampleSize: config.int("sample_size"))
    }

    public static func schedule(_ config: Config) -> NoiseSchedule {
        NoiseSchedule(kind: NoiseSchedule.Kind(rawValue: config.string("schedule"))!, timesteps: config.int("timesteps"),
                      betaStart: config.double("beta_start"), betaEnd: config.double("beta_end"))
    }

    /// The configured training images.
    public static func images(_ config: Config) throws -> TrainingImages {
        let data = config.string("data"), size = config.int("sample_size")
        if data == "world" { return WorldImages(sampleSize: size, defectRate: config.float("world.defect_rate")) }
        if data.hasPrefix("folder:") {
            return try FolderImages(folder: String(data.dropFirst("folder:".count)), sampleSize: size,
                                    skipBad: config.bool("data.skip_bad"))
        }
        throw DataError("key 'data': '\(data)' is neither 'world' nor 'folder:PATH'")
    }

    /// Runs (or resumes) the stage; returns the path of the final model. A finished model made
    /// with the same settings is reused; one made with other settings is never overwritten.
    @discardableResult
    public func run() throws -> String {
        let signature = StageSignature(.pretrain, config)
        let frame = StageFrame("pretrain", folder: StageFolder(folder, primary: "model.safetensors"), signature: signature,
                               resume: config.string("resume"), mayGrow: ["pretrain.steps"])
        if try frame.isFinished(observer: observer) { return folder + "/model.safetensors" }
        let checkpoints = folder + "/checkpoints", samples = folder + "/samples"
        for f in [folder, checkpoints, samples] {
            try FileIO.createFolder(f)
            FileIO.removeStaleTemporaries(in: f)
        }
        try config.writeResolved(to: folder)

        let images = try Pretrainer.images(config)
        let schedule = Pretrainer.schedule(config)
        let seed = UInt64(config.int("seed"))
        let tokenizer = Tokenizer(captions: images.vocabularyCaptions, maxTokens: config.int("encoder.max_tokens"))
        let model = TextToImageModel(Pretrainer.unetConfig(config), tokenizer: tokenizer,
                                     encoderDimension: config.int("encoder.dim"))
        var initRNG = RandomStream(seed: seed, stream: 1)
        model.initialize(&initRNG)
        let store = model.store
        let optimizer = AdamW(store, beta1: config.double("adam_beta1"), beta2: config.double("adam_beta2"),
                              eps: config.double("adam_eps"), weightDecay: config.double("weight_decay"))
        let emaDecay = config.double("pretrain.ema")
        let ema = emaDecay > 0 ? EMA(store, decay: emaDecay) : nil
        var dataRNG = RandomStream(seed: seed, stream: 2)
        var noiseRNG = RandomStream(seed: seed, stream: 3)

        let steps = config.int("pretrain.steps"), batch = config.int("pretrain.batch")
        let accum = config.int("pretrain.grad_accum"), micro = (batch + accum - 1) / accum
        let lrSchedule = LearningRateSchedule.constantWithWarmup(warmupSteps: config.int("pretrain.warmup_steps"))
        let baseLR = config.double("pretrain.lr"), clip = config.double("grad_clip")
        let dropout = config.float("pretrain.prompt_dropout")

        // Resume: weights, moments, EMA, streams and the step from the checkpoint.
        var start = 0
        if let path = try Checkpoint.resumePath(config.string("resume"), checkpoints: checkpoints) {
            // A checkpoint continues only the run it came from; only the step count may grow.
            let (file, step) = try Checkpoint.openForResume(path, stage: "pretrain", signature: signature, mayGrow: frame.mayGrow)
            try store.load(from: file, allowExtra: { ["adam.m", "adam.v", "ema"].contains($0) })
            try Checkpoint.restore(optimizer, store: store, from: file, step: step)
            if let ema { try store.readBuffer("ema", from: file, into: ema.weights) }
            start = step
            dataRNG = try Checkpoint.stream("data", from: file)
            noiseRNG = try Checkpoint.stream("noise", from: file)
            observer?.note("resuming pretraining from \(path) at step \(start)")
        }
        let log = try MetricsLog(folder: folder, resumeAfterStep: start > 0 ? start : nil)
        // Cut back on resume like the metrics, so a step validated before a kill is not listed twice.
        let validationLog = try MetricsLog(folder: folder, name: "validation", resumeAfterStep: start > 0 ? start : nil)

        // Data parallel (MPI): every rank draws the whole batch (the same random numbers in the
        // same order as one process), then runs its shard of it in micro-batches; the gradients
        // and the loss are summed over the ranks.
        let cluster = Cluster.current
        if batch < cluster.size {
            throw TrainingError("pretrain.batch = \(batch) is smaller than the \(cluster.size) MPI ranks: every rank needs an image; raise pretrain.batch or use fewer ranks")
        }
        let d = model.imageSize
        let x0 = FloatBuffer(count: batch * d), noise = FloatBuffer(count: batch * d), xt = FloatBuffer(count: micro * d)
        let kBuffer = FloatBuffer(count: batch), e = FloatBuffer(count: micro), dE = FloatBuffer(count: micro)
        let dPred = FloatBuffer(count: micro * d)
        var prompts: [String] = [], chunkPrompts: [String] = []
        prompts.reserveCapacity(batch)
        let validation = images.validationSet(count: config.int("pretrain.val_images"), seed: seed)
        var metadata = Checkpoint.modelMetadata(model, config: config, build: build, stage: "pretrain")
        metadata["stage_signature"] = signature.text

        func saveCheckpoint(_ step: Int) throws {
            let meta = Checkpoint.stateMetadata(metadata, step: step, optimizer: optimizer,
                                                streams: ["data": dataRNG, "noise": noiseRNG])
            var writer = try store.safeTensorsWriter(metadata: meta, buffers: ["adam.m": optimizer.m, "adam.v": optimizer.v])
            if let ema { try writer.add("ema", shape: [store.count], from: ema.weights.pointer) }
            try Checkpoint.write(writer, folder: checkpoints, step: step, keep: config.int("keep_checkpoints"))
        }

        observer?.stageBegan("pretrain", total: steps, completed: start)
        let started = Stopwatch.now()
        for step in start..<steps {
            let t0 = Stopwatch.now()
            store.zeroGrads()
            // The batch, drawn in micro-batches as one process draws it.
            prompts.removeAll(keepingCapacity: true)
            var drawn = 0
            while drawn < batch {
                let m = min(micro, batch - drawn)
                images.fillBatch(x0.pointer + drawn * d, count: m, rng: &dataRNG, prompts: &chunkPrompts)
                for i in 0..<m where noiseRNG.uniform() < dropout { chunkPrompts[i] = "" }
                prompts += chunkPrompts
                noiseRNG.fillNormal(noise.pointer + drawn * d, count: m * d)
                for i in 0..<m { kBuffer.pointer[drawn + i] = Float(noiseRNG.int(below: schedule.T)) }
                drawn += m
            }
            // This rank's shard (all of it when alone), in micro-batches.
            var lossSum = 0.0
            let shard = cluster.shard(batch)
            var done = shard.lowerBound
            while done < shard.upperBound {
                let m = min(micro, shard.upperBound - done)
                let x0m = x0.pointer + done * d, noisem = noise.pointer + done * d, km = kBuffer.pointer + done
                for i in 0..<m {
                    let (a, s) = schedule.noisingCoefficients(Int(km[i]) + 1)
                    let xi = x0m + i * d, ni = noisem + i * d, ti = xt.pointer + i * d
                    for j in 0..<d { ti[j] = a * xi[j] + s * ni[j] }
                }
                let pred = model.predictNoise(xt.pointer, steps: km, prompts: Array(prompts[done..<(done + m)]))
                PerImageMSE.forward(pred: pred, target: noisem, e.pointer, n: m, c: 3, h: model.config.sampleSize,
                                    w: model.config.sampleSize)
                for i in 0..<m { lossSum += Double(e.pointer[i]); dE.pointer[i] = 1 / Float(batch) }
                dPred.zero(m * d)
                PerImageMSE.backward(dE: dE.pointer, pred: pred, target: noisem, dPred: dPred.pointer, dTarget: nil,
                                     n: m, c: 3, h: model.config.sampleSize, w: model.config.sampleSize)
                model.backward(dPred.pointer)
                done += m
            }
            if cluster.isParallel {
                cluster.sum(store.grads.pointer, count: store.count)
                lossSum = cluster.sum([lossSum])[0]
            }
            let loss = lossSum / Double(batch)
            try StepCheck.loss(loss, stage: "pretrain", step: step + 1, hint: "try a lower pretrain.lr")
            try StepCheck.gradients(store, stage: "pretrain", step: step + 1, hint: "try a lower pretrain.lr")
            let norm = clip > 0 ? Double(clipGradNorm(store, maxNorm: clip)) : gradientNorm(store)
            let lr = lrSchedule.learningRate(base: baseLR, step: step)
            let stepNumber = step + 1
            optimizer.update(store, lr: lr)
            // diffusers' EMAModel warm-up: decay min(d, (1 + t)/(10 + t)), so the random initial
            // weights do not linger in the average (0.999^2500 would still be 8% of them).
            ema?.update(store, decay: min(emaDecay, Double(1 + stepNumber) / Double(10 + stepNumber)))
            try StepCheck.weights(store, ema: ema, stage: "pretrain", step: stepNumber, hint: "try a lower pretrain.lr")
            let metrics: [(String, Double)] = [("step", Double(stepNumber)), ("loss", loss), ("grad_norm", norm), ("lr", lr),
                                               ("seconds", Stopwatch.now() - t0)]
            try log.append(metrics)
            observer?.stepDone("pretrain", step: stepNumber, total: steps, metrics: metrics)

            let last = stepNumber == steps
            if stepNumber % config.int("pretrain.val_every") == 0 || last {
                let v = validationLoss(model, ema: ema, validation, schedule: schedule, seed: seed, batch: micro)
                try validationLog.append([("step", Double(stepNumber)), ("val_loss", v)])
                observer?.note(String(format: "pretrain step %d: validation loss %.5f", stepNumber, v))
            }
            let every = config.int("pretrain.sample_every")
            if (every > 0 && stepNumber % every == 0) || last {
                let path = samples + String(format: "/step-%07d.png", stepNumber)
                try withWeights(model, ema) { try sampleGrid(model, prompts: images.samplePrompts, to: path) }
                observer?.note("pretrain step \(stepNumber): samples \(path)")
            }
            let stopping = Interruption.isRequestedByAnyRank
            if stepNumber % config.int("pretrain.checkpoint_every") == 0 || last || stopping {
                try saveCheckpoint(stepNumber)
            }
            if stopping && !last {
                throw Interrupted(stage: "pretrain", step: stepNumber, checkpoint: checkpoints + "/" + Checkpoint.fileName(step: stepNumber))
            }
        }
        let modelPath = folder + "/model.safetensors"
        var meta = metadata
        meta["step"] = String(steps)
        try withWeights(model, ema) { try Checkpoint.save(model, to: modelPath, metadata: meta) }
        try frame.finish()
        observer?.note(String(format: "pretrain: %d steps in %.1f s; model %@", steps - start, Stopwatch.now() - started, modelPath))
        observer?.stageEnded("pretrain")
        return modelPath
    }

    /// Runs `body` with the EMA weights in the store (when EMA is on), then puts the training
    /// weights back.
    func withWeights(_ model: TextToImageModel, _ ema: EMA?, _ body: () throws -> Void) rethrows {
        guard let ema else { return try body() }
        let saved = FloatBuffer(count: model.store.count)
        saved.pointer.update(from: model.store.params.pointer, count: model.store.count)
        ema.copyTo(model.store)
        defer { model.store.params.pointer.update(from: saved.pointer, count: model.store.count) }
        try body()
    }

    /// Mean epsilon loss on the fixed held-out set: fixed noise, and t spread evenly over 1...T.
    func validationLoss(_ model: TextToImageModel, ema: EMA?, _ set: (images: [Float], prompts: [String]),
                        schedule: NoiseSchedule, seed: UInt64, batch: Int) -> Double {
        var result = 0.0
        withWeights(model, ema) {
            let d = model.imageSize, count = set.prompts.count
            var rng = RandomStream(seed: seed, stream: 0x76_6E6F_6973)
            var total = 0.0
            var i0 = 0
            let xt = FloatBuffer(count: batch * d), eps = FloatBuffer(count: batch * d), k = FloatBuffer(count: batch)
            let e = FloatBuffer(count: batch)
            while i0 < count {
                let m = min(batch, count - i0)
                rng.fillNormal(eps.pointer, count: m * d)
                for i in 0..<m {
                    let t = 1 + ((i0 + i) * schedule.T) / count
                    k.pointer[i] = Float(t - 1)
                    let (a, s) = schedule.noisingCoefficients(t)
                    for j in 0..<d { xt.pointer[i * d + j] = a * set.images[(i0 + i) * d + j] + s * eps.pointer[i * d + j] }
                }
                let pred = model.predictNoise(xt.pointer, steps: k.pointer, prompts: Array(set.prompts[i0..<(i0 + m)]), keepActivations: false)
                PerImageMSE.forward(pred: pred, target: eps.pointer, e.pointer, n: m, c: 3, h: model.config.sampleSize,
                                    w: model.config.sampleSize)
                for i in 0..<m { total += Double(e.pointer[i]) }
                i0 += m
            }
            result = total / Double(count)
        }
        return result
    }

    /// A grid: rows the prompts, columns 4 fixed seeds; DDIM with the `sample.*` keys.
    func sampleGrid(_ model: TextToImageModel, prompts: [String], to path: String) throws {
        let images = Sampling.generate(model, prompts: prompts, perPrompt: 4, config: config)
        try PNGFile.write(ImageGrid.make(images.images.map { $0.map(\.image) }, scale: 4), to: path)
    }
}
