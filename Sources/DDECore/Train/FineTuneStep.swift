/// One fine-tune step (the `train` stage's `TrainingStep`): `batch` pairs drawn from the set,
/// run in `train.grad_accum` micro-batches whose gradients add up to the batch's (the DDE record
/// is updated once, after the optimizer, from all the step's pairs: losses.md's delay update),
/// one t per pair (both images share it) and one eps per pair (or one per image when
/// `dpo.shared_noise = false`); the frozen reference and the policy each predict the noise of
/// all 2P noised images; `e` is the per-image mean squared error;
/// `D = (e_θ(w) - e_ref(w)) - (e_θ(l) - e_ref(l))`; the loss's dL/dD flows into e_θ(w) and,
/// negated, into e_θ(l). SFT skips the reference and the losers. Then clipping, AdamW, and the
/// DDE record's update from the same D.
///
/// Data parallel (MPI): each rank runs its shard of the pairs; the per-image errors are
/// gathered into the whole batch's, so the loss, the metrics and the record are the whole
/// batch's on every rank, and the gradients are summed over the ranks.
public final class FineTuneStep: TrainingStep {
    public let policy: TextToImageModel
    /// The frozen base; nil for SFT (which needs none). In a LoRA fine-tune, the policy itself,
    /// whose passes through `FrozenErrors` run with its adapters off.
    public let reference: TextToImageModel?
    /// What the optimizer updates: the policy's weights, or its LoRA adapters alone.
    public let trainable: ParameterStore
    public let loss: PreferenceLoss
    public let pairs: PreferencePairs
    public let optimizer: AdamW
    let batch: Int
    /// `train.grad_accum` micro-batches of `microBatch` pairs make a step.
    let microBatches: Int, microBatch: Int
    let baseLR: Double
    let settings: OptimizerSettings
    let lrSchedule: LearningRateSchedule
    let sharedNoise: Bool
    /// LoRA dropout's seed for the run (its steps' seeds derive from it).
    let dropoutSeed: UInt64
    var orderRNG: RandomStream
    var noiseRNG: RandomStream
    let pairBatch: PreferenceBatch
    let dPred: FloatBuffer
    /// The reference's errors, remembered by content (`FrozenErrors`): fine-tunes of the same
    /// pairs and seed that draw the same batches compute them once.
    let frozen: FrozenErrors
    let referenceDigest: ContentDigest?

    /// The step of a run (`settings` resolved for its method, `RunSettings.forMethod`): the loss
    /// and optimisation settings, the order and noise streams of `seed` (streams 4 and 5).
    public init(policy: TextToImageModel, reference: TextToImageModel?, loss: PreferenceLoss, pairs: PreferencePairs,
                settings: RunSettings, frozen: FrozenErrors = FrozenErrors()) throws {
        guard reference != nil || !loss.settings.kind.isPreference else {
            throw TrainingError("the \(loss.settings.kind.rawValue) loss needs a reference model")
        }
        self.policy = policy
        self.reference = reference
        trainable = policy.trainableStore
        referenceDigest = reference?.baseDigest  // a LoRA policy's adapters are off in its reference passes
        self.frozen = frozen
        self.loss = loss
        self.pairs = pairs
        optimizer = settings.optimizer.adamW(trainable)
        self.settings = settings.optimizer
        orderRNG = RandomStream(seed: settings.seed, stream: 4)
        dropoutSeed = settings.seed &* 0xD1B5_4A32_D192_ED03 &+ 7
        noiseRNG = RandomStream(seed: settings.seed, stream: 5)
        let fineTune = settings.fineTune
        batch = fineTune.batch
        microBatches = fineTune.gradAccum
        microBatch = fineTune.batch / fineTune.gradAccum
        lrSchedule = LearningRateSchedule.constantWithWarmup(warmupSteps: fineTune.warmupSteps)
        baseLR = fineTune.lr
        sharedNoise = fineTune.sharedNoise
        try Cluster.current.requireShards(microBatch, key: microBatches > 1 ? "batch / train.grad_accum" : "batch", item: "a pair")
        pairBatch = PreferenceBatch(capacity: batch, sampleSize: policy.sampleSize)
        dPred = FloatBuffer(count: 2 * microBatch * policy.imageSize)
    }

    public func run(step: Int) throws -> [(String, Double)] {
        let kind = loss.settings.kind, store = trainable, cluster = Cluster.current
        let hint = kind.isPreference ? "try a lower lr or beta" : "try a lower lr"
        // Draw the batch: pairs, one t per pair, the whole batch's noise.
        let chosen = (0..<batch).map { _ in pairs.pairs[orderRNG.int(below: pairs.pairs.count)] }
        let t = (0..<batch).map { _ in loss.drawTimestep(&noiseRNG) }
        pairBatch.drawNoise(pairs: batch, preference: kind.isPreference, rng: &noiseRNG)
        // Micro-batch by micro-batch (this rank's shard of each): the reference's errors (no
        // gradient), the policy's, D and dL/dD; the gradients add up over the micro-batches.
        store.zeroGrads()
        if store !== policy.store { policy.store.zeroGrads() }
        // LoRA dropout's masks: drawn from this step's seed (the same after a resume).
        policy.store.lora?.dropoutSeed = (UInt64(truncatingIfNeeded: step) &+ 1) &* 0x9E37_79B9_7F4A_7C15 ^ dropoutSeed
        // The loss is the batch's mean: each micro-batch's mean times its share.
        var D: [Double] = [], z: [Double] = [], correction: [Double] = [], lossSum = 0.0
        var sums = (policyWinner: 0.0, policyLoser: 0.0, referenceWinner: 0.0, referenceLoser: 0.0)
        for m in 0..<microBatches {
            let first = m * microBatch, local = cluster.shard(microBatch)
            pairBatch.fill(chosen, t: t, preference: kind.isPreference, sharedNoise: sharedNoise, schedule: loss.schedule,
                           range: (first + local.lowerBound)..<(first + local.upperBound))
            let eRef = kind.isPreference
                ? pairBatch.gathered(frozen.errors(of: reference!, digest: referenceDigest!, batch: pairBatch), pairs: microBatch) : []
            policy.store.lora?.training = true
            defer { policy.store.lora?.training = false }
            let (prediction, eThetaShard) = pairBatch.errors(of: policy, forBackward: true)
            let eTheta = pairBatch.gathered(eThetaShard, pairs: microBatch)
            sums.policyWinner += eTheta[..<microBatch].reduce(0, +)
            let dLde: [Double]
            if kind.isPreference {
                let d = pairBatch.differences(policy: eTheta, reference: eRef)
                let ev = loss.evaluate(D: d, t: Array(t[first..<(first + microBatch)]))
                // dL/dD of the whole batch's mean: the micro-batch's mean scaled by its share.
                let share = Double(microBatch) / Double(batch)
                let dLdD = ev.dLdD[local].map { $0 * share }
                dLde = dLdD + dLdD.map { -$0 }
                D += d; z += ev.z; correction += ev.correction
                lossSum += ev.loss * share
                sums.policyLoser += eTheta[microBatch...].reduce(0, +)
                sums.referenceWinner += eRef[..<microBatch].reduce(0, +)
                sums.referenceLoser += eRef[microBatch...].reduce(0, +)
            } else {
                dLde = [Double](repeating: 1 / Double(batch), count: local.count)
                lossSum += eTheta.reduce(0, +) / Double(batch)
            }
            pairBatch.backward(policy, prediction: prediction, dLde: dLde, scratch: dPred)
        }
        let p = Double(batch)
        var metrics: [(String, Double)] = [("loss", lossSum)]
        if kind.isPreference {
            metrics += [("implicit_acc", FineTuneDiagnostics.implicitAccuracy(D)), ("z", z.reduce(0, +) / p), ("D", D.reduce(0, +) / p),
                        ("e_policy_w", sums.policyWinner / p), ("e_policy_l", sums.policyLoser / p),
                        ("e_ref_w", sums.referenceWinner / p), ("e_ref_l", sums.referenceLoser / p)]
            if kind.usesRecord { metrics.append(("C", correction.reduce(0, +) / p)) }
        }
        try StepCheck.loss(lossSum, stage: "train \(kind.rawValue)", step: step + 1, hint: hint)
        cluster.sum(store.grads.pointer, count: store.count)
        try StepCheck.gradients(store, stage: "train \(kind.rawValue)", step: step + 1, hint: hint, policy.workspace)
        let norm = settings.clip(store, policy.workspace)
        let lr = lrSchedule.learningRate(base: baseLR, step: step)
        optimizer.update(store, lr: lr, policy.workspace)
        try StepCheck.weights(store, stage: "train \(kind.rawValue)", step: step + 1, hint: hint, policy.workspace)
        // The record (dde, dde-step): once per optimizer step, from all the step's pairs.
        if kind.isPreference { loss.updateRecord(D: D, t: t) }
        return metrics + [("grad_norm", norm), ("lr", lr), ("t_mean", Double(t.reduce(0, +)) / p)]
    }

    /// Weights, AdamW's moments, the DDE record (entries and update counts) and the order and
    /// noise streams.
    public func checkpoint(step: Int, metadata: [String: String]) throws -> SafeTensorsWriter {
        let meta = Checkpoint.stateMetadata(metadata, step: step, optimizer: optimizer, streams: ["order": orderRNG, "noise": noiseRNG])
        var writer = try trainable.safeTensorsWriter(metadata: meta, buffers: ["adam.m": optimizer.m, "adam.v": optimizer.v])
        if let record = loss.record {
            try writer.add("record.entries", shape: [record.buckets], record.entries)
            try writer.add("record.updates", shape: [record.buckets], record.updates.map { Int64($0) })
        }
        return writer
    }

    public func restore(from file: SafeTensorsReader, step: Int) throws {
        let store = trainable
        try store.load(from: file, allowExtra: { ["adam.m", "adam.v", "record.entries", "record.updates"].contains($0) })
        try Checkpoint.restore(optimizer, store: store, from: file, step: step)
        if var record = loss.record {
            let entries: [Double] = try file.values("record.entries")
            let updates: [Int64] = try file.values("record.updates")
            guard entries.count == record.buckets, updates.count == record.buckets else {
                throw TrainingError("\(file.name): the DDE record has \(entries.count) entries, this run \(record.buckets)")
            }
            record.entries = entries
            record.updates = updates.map { Int($0) }
            loss.restoreRecord(record)
        }
        orderRNG = try Checkpoint.stream("order", from: file)
        noiseRNG = try Checkpoint.stream("noise", from: file)
    }
}
