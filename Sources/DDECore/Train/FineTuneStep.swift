/// One fine-tune step (the `train` stage's `TrainingStep`): `batch` pairs drawn from the set,
/// run in `train.grad_accum` micro-batches whose gradients add up to the batch's (the DDE record
/// is updated once, after the optimizer, from all the step's pairs: losses.md's delay update),
/// one t per pair (both images share it; KTO draws one per image) and one eps per pair (or one
/// per image when `dpo.shared_noise = false`, and always for KTO); InPO and SmPO then invert
/// x0 to x_t with the policy; the frozen reference and the policy each predict the noise of
/// all 2P noised images; `e` is the per-image mean squared error;
/// `D = (e_θ(w) - e_ref(w)) - (e_θ(l) - e_ref(l))`; the loss's gradients flow into e_θ(w) and
/// e_θ(l) (for a loss of D alone, dL/dD and its negation; DSPO also through the winner's
/// distance to the reference's prediction). SFT skips the reference and the losers, MaPO the
/// reference. Then clipping, AdamW, and the DDE record's update from the same D.
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
    /// InPO and SmPO: the inversion that finds x_t, and the seed of its kicks' streams.
    let inversion: DDIMInversion?
    let inversionSeed: UInt64
    /// KTO: each pair's (winner, loser) desirability under `kto.labels`; nil for other losses.
    let ktoLabels: [(winner: Bool, loser: Bool)]?
    /// KTO with `kto.positive_ratio` > 0: the class-balanced draws of single images.
    let ktoDraws: KTODraws?

    /// The step of a run (`settings` resolved for its method, `RunSettings.forMethod`): the loss
    /// and optimisation settings, the order and noise streams of `seed` (streams 4 and 5).
    public init(policy: TextToImageModel, reference: TextToImageModel?, loss: PreferenceLoss, pairs: PreferencePairs,
                settings: RunSettings, frozen: FrozenErrors = FrozenErrors()) throws {
        guard reference != nil || !loss.settings.kind.needsReference else {
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
        inversion = fineTune.inversion
        ktoLabels = loss.settings.kind == .kto ? pairs.ktoLabels(fineTune.ktoLabels) : nil
        ktoDraws = try ktoLabels.flatMap { labels in
            fineTune.ktoPositiveRatio > 0 ? try KTODraws(labels: labels, ratio: fineTune.ktoPositiveRatio) : nil
        }
        inversionSeed = settings.seed &* 0xA24B_AED4_963E_E407 &+ 13
        try Cluster.current.requireShards(microBatch, key: microBatches > 1 ? "batch / train.grad_accum" : "batch", item: "a pair")
        pairBatch = PreferenceBatch(capacity: batch, sampleSize: policy.sampleSize)
        dPred = FloatBuffer(count: 2 * microBatch * policy.imageSize)
    }

    public func run(step: Int) throws -> [(String, Double)] {
        let kind = loss.settings.kind, store = trainable, cluster = Cluster.current
        let hint = kind.isPreference ? "try a lower lr or beta" : "try a lower lr"
        // Draw the batch: pairs, one t per pair (KTO: per image), the whole batch's noise. KTO
        // with kto.positive_ratio draws 2 x batch single images instead, class first; the first
        // batch of them take the winners' places, the rest the losers'.
        var chosenIndices: [Int] = [], chosen: [PreferencePairs.Pair] = []
        var desirable: (winner: [Bool], loser: [Bool])?
        if let ktoDraws {
            let images = ktoDraws.draw(2 * batch, rng: &orderRNG)
            func image(_ d: (pair: Int, winner: Bool, desirable: Bool)) -> (pixels: [Float], caption: String) {
                let p = pairs.pairs[d.pair]
                return (d.winner ? p.winner : p.loser, p.caption)
            }
            chosen = (0..<batch).map { i in
                let a = image(images[i]), b = image(images[batch + i])
                return PreferencePairs.Pair(caption: a.caption, winner: a.pixels, loser: b.pixels, winnerScore: .nan, loserScore: .nan,
                                            loserCaption: b.caption)
            }
            desirable = (images[..<batch].map(\.desirable), images[batch...].map(\.desirable))
        } else {
            chosenIndices = (0..<batch).map { _ in orderRNG.int(below: pairs.pairs.count) }
            chosen = chosenIndices.map { pairs.pairs[$0] }
        }
        let t = (0..<(kind.drawsPerImage ? 2 * batch : batch)).map { _ in loss.drawTimestep(&noiseRNG) }
        pairBatch.drawNoise(pairs: batch, preference: kind.isPreference, rng: &noiseRNG)
        // Micro-batch by micro-batch (this rank's shard of each): the reference's errors (no
        // gradient), the policy's, the loss and its gradients; they add up over the micro-batches.
        store.zeroGrads()
        if store !== policy.store { policy.store.zeroGrads() }
        // LoRA dropout's masks: drawn from this step's seed (the same after a resume).
        policy.store.lora?.dropoutSeed = (UInt64(truncatingIfNeeded: step) &+ 1) &* 0x9E37_79B9_7F4A_7C15 ^ dropoutSeed
        // The loss is the batch's mean: each micro-batch's mean times its share.
        var D: [Double] = [], z: [Double] = [], correction: [Double] = [], lossSum = 0.0
        var sums = (policyWinner: 0.0, policyLoser: 0.0, referenceWinner: 0.0, referenceLoser: 0.0)
        for m in 0..<microBatches {
            let first = m * microBatch, local = cluster.shard(microBatch)
            let range = (first + local.lowerBound)..<(first + local.upperBound)
            pairBatch.fill(chosen, t: t, preference: kind.isPreference, sharedNoise: sharedNoise, schedule: loss.schedule, range: range)
            if let inversion { invert(inversion, step: step, range: range) }
            // The reference: its errors (remembered by content), or for DSPO also its winners' predictions.
            var referenceWinners: [Float] = []
            let eRef: [Double]
            if kind.needsWinnerDistance {
                let (prediction, e) = reference!.withAdaptersOff { () -> ([Float], [Double]) in
                    let r = pairBatch.errors(of: reference!, forBackward: false)
                    return (pairBatch.winnerPredictions(r.prediction), r.e)
                }
                referenceWinners = prediction
                eRef = pairBatch.gathered(e, pairs: microBatch)
            } else {
                eRef = kind.needsReference
                    ? pairBatch.gathered(frozen.errors(of: reference!, digest: referenceDigest!, batch: pairBatch), pairs: microBatch) : []
            }
            policy.store.lora?.training = true
            defer { policy.store.lora?.training = false }
            let (prediction, eThetaShard) = pairBatch.errors(of: policy, forBackward: true)
            let eTheta = pairBatch.gathered(eThetaShard, pairs: microBatch)
            sums.policyWinner += eTheta[..<microBatch].reduce(0, +)
            let dLde: [Double]
            var distance: (dLdd: [Double], reference: [Float])?
            if kind.isPreference {
                let tPairs = Array(t[first..<(first + microBatch)])
                let distances = kind.needsWinnerDistance
                    ? cluster.gather(count: microBatch) { _ in pairBatch.winnerDistances(prediction: prediction, reference: referenceWinners, policy.workspace) } : []
                let softLabels = kind.needsSoftLabel ? loss.settings.softLabel.probabilities(chosen[first..<(first + microBatch)]) : []
                var input = PreferenceLoss.Batch(policyWinner: Array(eTheta[..<microBatch]), policyLoser: Array(eTheta[microBatch...]),
                                                 referenceWinner: Array(eRef.prefix(microBatch)), referenceLoser: Array(eRef.dropFirst(microBatch)),
                                                 t: tPairs, winnerDistance: distances, softLabel: softLabels)
                if let desirable {
                    input.winnerDesirable = Array(desirable.winner[first..<(first + microBatch)])
                    input.loserDesirable = Array(desirable.loser[first..<(first + microBatch)])
                } else if let labels = ktoLabels {
                    input.winnerDesirable = chosenIndices[first..<(first + microBatch)].map { labels[$0].winner }
                    input.loserDesirable = chosenIndices[first..<(first + microBatch)].map { labels[$0].loser }
                }
                let ev = loss.evaluate(input)
                // The gradients of the whole batch's mean: the micro-batch's mean scaled by its share.
                let share = Double(microBatch) / Double(batch)
                dLde = ev.dLdWinner[local].map { $0 * share } + ev.dLdLoser[local].map { $0 * share }
                if kind.needsWinnerDistance { distance = (ev.dLdDistance[local].map { $0 * share }, referenceWinners) }
                D += kind.needsReference ? input.differences : []
                z += ev.z; correction += ev.correction
                lossSum += ev.loss * share
                sums.policyLoser += eTheta[microBatch...].reduce(0, +)
                sums.referenceWinner += eRef.prefix(microBatch).reduce(0, +)
                sums.referenceLoser += eRef.dropFirst(microBatch).reduce(0, +)
            } else {
                dLde = [Double](repeating: 1 / Double(batch), count: local.count)
                lossSum += eTheta.reduce(0, +) / Double(batch)
            }
            pairBatch.backward(policy, prediction: prediction, dLde: dLde, scratch: dPred, distance: distance)
        }
        let p = Double(batch)
        var metrics: [(String, Double)] = [("loss", lossSum)]
        if kind.isPreference {
            metrics += [("z", z.reduce(0, +) / p), ("e_policy_w", sums.policyWinner / p), ("e_policy_l", sums.policyLoser / p)]
            if kind.needsReference {
                metrics += [("implicit_acc", FineTuneDiagnostics.implicitAccuracy(D)), ("D", D.reduce(0, +) / p),
                            ("e_ref_w", sums.referenceWinner / p), ("e_ref_l", sums.referenceLoser / p)]
            }
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
        if kind.usesRecord { loss.updateRecord(D: D, t: t) }
        return metrics + [("grad_norm", norm), ("lr", lr), ("t_mean", Double(t.reduce(0, +)) / Double(t.count))]
    }

    /// Replaces the micro-batch's x_t and targets by the inversion's, with the policy as it is
    /// now (adapters on, no dropout, no gradient). Each image's kicks come from its own stream,
    /// seeded by the step, its pair's place in the batch and its role, so that every rank and
    /// every micro-batch split draws the same kicks for it.
    private func invert(_ inversion: DDIMInversion, step: Int, range: Range<Int>) {
        let base = inversionSeed ^ (UInt64(truncatingIfNeeded: step) &+ 1) &* 0x9E37_79B9_7F4A_7C15
        var kicks = [0, 1].flatMap { role in
            range.map { RandomStream(seed: base ^ (UInt64($0) &* 2 &+ UInt64(role)) &* 0xBF58_476D_1CE4_E5B9, stream: 8) }
        }
        pairBatch.invert(with: policy, inversion, schedule: loss.schedule, kicks: &kicks)
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
