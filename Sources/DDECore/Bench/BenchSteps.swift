/// The units of work `TrainingBench` times, built from the same parts as the trainers and the
/// sampler, on synthetic data (random images and ShapesWorld captions): the figures depend on
/// the shapes, not on what the images show.

/// One pretraining step, as `Pretrainer` runs it (without logging and checkpoints).
final class PretrainBenchStep {
    let model: TextToImageModel
    let optimizer: AdamW
    let schedule: NoiseSchedule
    let batch: Int
    let clip: Double
    let lr: Double
    let x0: FloatBuffer, noise: FloatBuffer, xt: FloatBuffer, steps: FloatBuffer
    let errors: FloatBuffer, dErrors: FloatBuffer, dPrediction: FloatBuffer
    let prompts: [String]
    var rng = RandomStream(seed: 2)

    init(model: TextToImageModel, config: Config) {
        self.model = model
        optimizer = AdamW(model.store, weightDecay: config.double("weight_decay"))
        schedule = Pretrainer.schedule(config)
        batch = config.int("pretrain.batch")
        clip = config.double("grad_clip")
        lr = config.double("pretrain.lr")
        let n = batch * model.imageSize
        x0 = FloatBuffer(count: n); noise = FloatBuffer(count: n); xt = FloatBuffer(count: n)
        steps = FloatBuffer(count: batch); errors = FloatBuffer(count: batch); dErrors = FloatBuffer(count: batch)
        dPrediction = FloatBuffer(count: n)
        rng.fillNormal(x0.pointer, count: n)
        prompts = (0..<batch).map { ShapesWorld.prompts[$0 % ShapesWorld.prompts.count].text }
    }

    /// Nominal FLOPs of one forward pass at this batch.
    func forwardFLOPs() -> Double {
        Profiler.reset()
        Profiler.enabled = true
        model.predictNoise(xt.pointer, steps: steps.pointer, prompts: prompts)
        Profiler.enabled = false
        let flops = Profiler.flops
        Profiler.reset()
        return flops
    }

    func run() throws {
        let d = model.imageSize, s = model.config.sampleSize
        model.store.zeroGrads()
        rng.fillNormal(noise.pointer, count: batch * d)
        for i in 0..<batch {
            let t = 1 + rng.int(below: schedule.T)
            steps.pointer[i] = Float(t - 1)
            let (a, b) = schedule.noisingCoefficients(t)
            let x = x0.pointer + i * d, e = noise.pointer + i * d, out = xt.pointer + i * d
            for j in 0..<d { out[j] = a * x[j] + b * e[j] }
        }
        // Data parallel (MPI): this rank's shard of the batch, the gradients summed over the ranks.
        let cluster = Cluster.current, shard = cluster.shard(batch), m = shard.count, o = shard.lowerBound
        let prediction = model.predictNoise(xt.pointer + o * d, steps: steps.pointer + o, prompts: Array(prompts[shard]))
        PerImageMSE.forward(pred: prediction, target: noise.pointer + o * d, errors.pointer, n: m, c: 3, h: s, w: s)
        dErrors.pointer.update(repeating: 1 / Float(batch), count: m)
        dPrediction.zero(m * d)
        PerImageMSE.backward(dE: dErrors.pointer, pred: prediction, target: noise.pointer + o * d, dPred: dPrediction.pointer,
                             dTarget: nil, n: m, c: 3, h: s, w: s)
        model.backward(dPrediction.pointer)
        cluster.sum(model.store.grads.pointer, count: model.store.count)
        if let bad = FiniteCheck.firstNonFiniteGradient(model.store) { throw TrainingError("bench: non-finite gradient \(bad)") }
        _ = clipGradNorm(model.store, maxNorm: clip)
        optimizer.update(model.store, lr: lr)
    }
}

/// One fine-tune step with a preference loss, as `FineTuner` runs it: reference errors, policy
/// errors, the loss and its gradient, backward, clipping, AdamW, the record update.
final class PreferenceBenchStep {
    let policy: TextToImageModel
    let reference: TextToImageModel
    let loss: PreferenceLoss
    let optimizer: AdamW
    let pairs: [PreferencePairs.Pair]
    let batch: PreferenceBatch
    let dPrediction: FloatBuffer
    let clip: Double
    let lr: Double
    var rng = RandomStream(seed: 3)

    init(policy: TextToImageModel, reference: TextToImageModel, config: Config, kind: PreferenceLoss.Kind) throws {
        self.policy = policy
        self.reference = reference
        reference.store.freeze()
        var settings = try FineTuner.lossSettings(config.overriding(["loss": kind.rawValue]))
        settings.kind = kind
        loss = PreferenceLoss(settings, schedule: Pretrainer.schedule(config))
        optimizer = AdamW(policy.store, weightDecay: config.double("weight_decay"))
        clip = config.double("grad_clip")
        lr = config.double("lr")
        let count = config.int("batch"), d = policy.imageSize
        var data = RandomStream(seed: 4)
        pairs = (0..<count).map { i in
            var winner = [Float](repeating: 0, count: d), loser = winner
            winner.withUnsafeMutableBufferPointer { data.fillNormal($0.baseAddress!, count: d) }
            loser.withUnsafeMutableBufferPointer { data.fillNormal($0.baseAddress!, count: d) }
            return PreferencePairs.Pair(caption: ShapesWorld.prompts[i % ShapesWorld.prompts.count].text, winner: winner,
                                        loser: loser, winnerScore: 1, loserScore: 0)
        }
        batch = PreferenceBatch(capacity: count, sampleSize: policy.config.sampleSize)
        dPrediction = FloatBuffer(count: 2 * count * d)
    }

    func run() throws {
        let t = pairs.map { _ in loss.drawTimestep(&rng) }
        // Data parallel (MPI): this rank's shard of the pairs, as `FineTuner` runs it.
        let cluster = Cluster.current, shard = cluster.shard(pairs.count)
        batch.fill(pairs, t: t, preference: true, sharedNoise: true, schedule: loss.schedule, rng: &rng, shard: shard)
        let eReference = batch.gathered(batch.errors(of: reference, forBackward: false).e, pairs: pairs.count)
        let (prediction, ePolicyShard) = batch.errors(of: policy, forBackward: true)
        let ePolicy = batch.gathered(ePolicyShard, pairs: pairs.count)
        let D = batch.differences(policy: ePolicy, reference: eReference)
        let evaluation = loss.evaluate(D: D, t: t)
        guard evaluation.loss.isFinite else { throw TrainingError("bench: the loss is \(evaluation.loss)") }
        policy.store.zeroGrads()
        let dLdD = Array(evaluation.dLdD[shard])
        batch.backward(policy, prediction: prediction, dLde: dLdD + dLdD.map { -$0 }, scratch: dPrediction)
        cluster.sum(policy.store.grads.pointer, count: policy.store.count)
        if let bad = FiniteCheck.firstNonFiniteGradient(policy.store) { throw TrainingError("bench: non-finite gradient \(bad)") }
        _ = clipGradNorm(policy.store, maxNorm: clip)
        optimizer.update(policy.store, lr: lr)
        loss.updateRecord(D: D, t: t)
    }
}

/// One guided DDIM run from fresh noise, as `Sampling.generate` runs it.
final class SamplingBenchRun {
    let sampler: GuidedSampler
    let scheduler: DenoisingScheduler
    let guidance: Float
    let images: Int
    let prompts: [String]
    let x: FloatBuffer
    var rngs: [RandomStream]
    var noise = RandomStream(seed: 5)

    init(model: TextToImageModel, config: Config) {
        sampler = GuidedSampler(model: model)
        scheduler = Sampling.scheduler(config, schedule: Pretrainer.schedule(config))
        guidance = Float(config.double("sample.guidance"))
        images = config.int("bench.sample_images")
        // Data parallel (MPI): this rank's shard of the images, as `Sampling.generate` splits them.
        let mine = Cluster.current.shard(images)
        prompts = mine.map { ShapesWorld.prompts[$0 % ShapesWorld.prompts.count].text }
        x = FloatBuffer(count: mine.count * model.imageSize)
        rngs = mine.map { RandomStream(seed: 100 + UInt64($0)) }
    }

    func run() throws {
        noise.fillNormal(x.pointer, count: prompts.count * sampler.model.imageSize)
        sampler.sample(x.pointer, prompts: prompts, scheduler: scheduler, guidance: guidance, rngs: &rngs)
        Cluster.current.barrier()  // the run ends when the slowest rank's shard does
    }
}
