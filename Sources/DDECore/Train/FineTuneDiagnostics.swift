import Foundation

/// What losses.md asks a fine-tune to log besides its per-step metrics, each in its own file of
/// the stage folder (rows keyed by `step`, so a resumed run's files equal an uninterrupted run's):
///
/// - `heldout.csv` (`step,loss,implicit_acc,z,d`): the loss, the implicit accuracy (the share of
///   pairs the policy prefers more than the reference does, D < 0, ties counting half: the sign
///   of z without DDE's record term, so the same measure for every loss), the mean z and the mean
///   D on held-out pairs (the
///   validation prompts' pairs), each pair at a fixed t (drawn as the loss draws) and noise, at
///   step 0, every `train.log_every` steps and at the end. SFT has no z of its own; its row
///   reads the Uniform z, `-(beta/2) D`.
/// - `heldout-by-t.csv` (`step,t_low,t_high,pairs,accuracy,mean_z`): the same per tenth of 1..T,
///   every held-out pair at a t drawn uniformly inside the tenth (fixed per pair and tenth, the
///   same for every loss), at step 0, every `train.credit_every` steps and at the end: which
///   steps a fine-tune has learned, as recent work charts it.
/// - `record-history.csv` (`step,bucket,first_step,value,updates`): the whole DDE record at the
///   same steps (dde and dde-step).
/// - `credit.csv` (`step,bucket,t_low,t_high,density,mean_abs_dLdD,grad_norm`): the credit
///   profile every `train.credit_every` steps and at the end, on `train.probe_pairs` held-out
///   pairs: per tenth of 1..T, every probe pair at the tenth's middle t, the mean per-pair
///   `|dl/dD|` and the parameter-gradient norm of the loss there; `density` is how often the loss
///   draws a t of that tenth relative to uniform. Credit = density x gradient norm: where a loss
///   really puts its weight (`|dl/dD|` alone ignores how `|dD/dtheta|` varies with t).
///
/// None of this touches the training state: the random streams here are their own, the record
/// is only read, and the gradients the probe leaves are cleared, so a run logs the same weights
/// with or without it (tested).
final class FineTuneDiagnostics {
    static let creditBuckets = 10

    let loss: PreferenceLoss
    let heldout: [PreferencePairs.Pair]
    let probe: [PreferencePairs.Pair]
    let heldoutSteps: [Int]
    let batch: PreferenceBatch
    let scratch: FloatBuffer
    let sharedNoise: Bool
    let seed: UInt64
    let heldoutLog: MetricsLog?
    let byTLog: MetricsLog?
    /// Per tenth of 1..T, each held-out pair's t inside it.
    let byTSteps: [[Int]]
    let recordLog: MetricsLog?
    let creditLog: MetricsLog?
    /// The reference's errors (and the policy's at step 0, when it is the reference), computed
    /// once per batch of inputs, shared with the steps and with the other fine-tunes of the run.
    let frozen: FrozenErrors
    /// The content digest of the base model: the reference, and the policy before its first step.
    let baseDigest: ContentDigest

    init(loss: PreferenceLoss, heldout: [PreferencePairs.Pair], settings: FineTuneSettings, seed: UInt64, sampleSize: Int,
         run: TrainingRun, frozen: FrozenErrors, baseDigest: ContentDigest) throws {
        self.loss = loss
        self.frozen = frozen
        self.baseDigest = baseDigest
        self.heldout = heldout
        probe = Array(heldout.prefix(settings.probePairs))
        sharedNoise = settings.sharedNoise
        self.seed = seed
        var rng = RandomStream(seed: seed, stream: 9)
        heldoutSteps = heldout.map { _ in loss.drawTimestep(&rng) }
        let capacity = max(settings.batch, probe.count)
        batch = PreferenceBatch(capacity: capacity, sampleSize: sampleSize)
        scratch = FloatBuffer(count: 2 * capacity * 3 * sampleSize * sampleSize)
        let logHeldout = settings.logEvery > 0 && !heldout.isEmpty
        heldoutLog = logHeldout ? try run.log("heldout") : nil
        let T = loss.schedule.T
        var byTRNG = RandomStream(seed: seed, stream: 10)
        byTSteps = (0..<Self.creditBuckets).map { b in
            let low = b * T / Self.creditBuckets + 1, high = (b + 1) * T / Self.creditBuckets
            return heldout.map { _ in low + byTRNG.int(below: high - low + 1) }
        }
        byTLog = settings.creditEvery > 0 && !heldout.isEmpty
            ? try run.log("heldout-by-t", mirror: .perRow(label: "t", columns: ["t_low", "t_high"])) : nil
        recordLog = settings.logEvery > 0 && loss.record != nil
            ? try run.log("record-history", mirror: .none) : nil
        creditLog = settings.creditEvery > 0 && !probe.isEmpty
            ? try run.log("credit", mirror: .none) : nil
    }

    /// z and the per-pair loss derivative dl/dD (not divided by the pair count) for differences D
    /// at t of `pairs`. KTO, MaPO and DSPO have no logit of D alone: their held-out z is
    /// Diffusion-DPO's, `-(beta/2) D` at the loss's beta (their credit comes from `creditOfErrors`).
    func credit(D: [Double], t: [Int], pairs: [PreferencePairs.Pair]) -> (z: [Double], dldD: [Double]) {
        let kind = loss.settings.kind
        if kind.dependsOnDifferenceOnly {
            let soft = kind.needsSoftLabel ? loss.settings.softLabel.probabilities(pairs) : []
            let ev = loss.evaluate(D: D, t: t, softLabel: soft)
            return (ev.z, ev.dLdD.map { $0 * Double(D.count) })
        }
        let slope = -loss.settings.beta / 2
        return (D.map { slope * $0 }, D.map { _ in 1 })
    }

    /// KTO, MaPO and DSPO on the probe: the loss on the errors themselves (DSPO's d_w taken as 0:
    /// the probe keeps no reference prediction), its gradients per image (of the probe's mean)
    /// and the credit dl/dD, the gradients' antisymmetric part, not divided by the pair count.
    func creditOfErrors(policy e: [Double], reference eRef: [Double], t: [Int]) -> (dLde: [Double], dldD: [Double]) {
        let p = t.count
        let ev = loss.evaluate(PreferenceLoss.Batch(policyWinner: Array(e[..<p]), policyLoser: Array(e[p...]),
                                                    referenceWinner: Array(eRef[..<p]), referenceLoser: Array(eRef[p...]), t: t,
                                                    winnerDistance: [Double](repeating: 0, count: p)))
        return (ev.dLdWinner + ev.dLdLoser, ev.dLdD.map { $0 * Double(p) })
    }

    /// Noises pairs at t with the noise of `stream` into `batch`: all of them, or (`shard`) this
    /// rank's share.
    private func fill(_ pairs: [PreferencePairs.Pair], t: [Int], stream: UInt64, shard: Range<Int>? = nil) {
        var rng = RandomStream(seed: seed, stream: stream)
        batch.fill(pairs, t: t, preference: true, sharedNoise: sharedNoise, schedule: loss.schedule, rng: &rng, shard: shard)
    }

    /// `D` of every held-out pair at `t` (one per pair), in chunks of the batch's capacity with
    /// noise streams from `firstStream` on. The reference's errors come from `frozen` (computed
    /// once for every log and every fine-tune of the seed), and so do the policy's at step 0,
    /// where the policy is the base. Data parallel (MPI), each rank computes its share of a chunk
    /// and the errors are gathered (a chunk smaller than the rank count is computed whole).
    private func heldoutDifferences(step: Int, policy: TextToImageModel, reference: TextToImageModel, t: [Int],
                                    firstStream: UInt64) -> [Double] {
        let chunks = stride(from: 0, to: heldout.count, by: batch.capacity).map { $0..<min($0 + batch.capacity, heldout.count) }
        let cluster = Cluster.current
        return chunks.indices.flatMap { c -> [Double] in
            let pairs = chunks[c].count
            fill(Array(heldout[chunks[c]]), t: Array(t[chunks[c]]), stream: firstStream + UInt64(c),
                 shard: pairs >= cluster.size ? cluster.shard(pairs) : nil)
            let eRef = batch.gathered(frozen.errors(of: reference, digest: baseDigest, batch: batch), pairs: pairs)
            let ePolicy = batch.gathered(step == 0 ? frozen.errors(of: policy, digest: baseDigest, batch: batch)
                                                   : batch.errors(of: policy, forBackward: false).e, pairs: pairs)
            return batch.differences(policy: ePolicy, reference: eRef)
        }
    }

    /// The share of pairs with D < 0 (the policy moved towards the winner more than the
    /// reference), ties counting half.
    static func implicitAccuracy(_ D: [Double]) -> Double {
        D.map { $0 < 0 ? 1 : $0 == 0 ? 0.5 : 0 }.reduce(0, +) / Double(D.count)
    }

    func logHeldout(step: Int, policy: TextToImageModel, reference: TextToImageModel) throws {
        guard let heldoutLog else { return }
        let D = heldoutDifferences(step: step, policy: policy, reference: reference, t: heldoutSteps, firstStream: 100)
        let z = credit(D: D, t: heldoutSteps, pairs: heldout).z
        let n = Double(z.count)
        let lossValue = z.map(PreferenceLoss.negativeLogSigmoid).reduce(0, +) / n
        try heldoutLog.append([("step", Double(step)), ("loss", lossValue), ("implicit_acc", Self.implicitAccuracy(D)),
                               ("z", z.reduce(0, +) / n), ("d", D.reduce(0, +) / n)])
    }

    /// `heldout-by-t.csv`: per tenth of 1..T, every held-out pair at its t inside the tenth.
    func logHeldoutByT(step: Int, policy: TextToImageModel, reference: TextToImageModel) throws {
        guard let byTLog else { return }
        let T = loss.schedule.T
        var rows: [[(String, Double)]] = []
        for (b, t) in byTSteps.enumerated() {
            let D = heldoutDifferences(step: step, policy: policy, reference: reference, t: t, firstStream: 1000 * UInt64(b + 1))
            let z = credit(D: D, t: t, pairs: heldout).z
            rows.append([("step", Double(step)), ("t_low", Double(b * T / Self.creditBuckets + 1)),
                         ("t_high", Double((b + 1) * T / Self.creditBuckets)), ("pairs", Double(z.count)),
                         ("accuracy", Self.implicitAccuracy(D)), ("mean_z", z.reduce(0, +) / Double(z.count))])
        }
        try byTLog.append(rows: rows)
    }

    func logRecord(step: Int) throws {
        guard let recordLog, let record = loss.record else { return }
        try recordLog.append(rows: (0..<record.buckets).map { b in
            [("step", Double(step)), ("bucket", Double(b)), ("first_step", Double(b * record.T / record.buckets + 1)),
             ("value", record.value(bucket: b)), ("updates", Double(record.updates[b]))]
        })
    }

    /// The probe: per tenth of 1..T, the probe pairs at its middle t, the loss's per-pair weight
    /// and the gradient norm it puts on the parameters. Data parallel (MPI), each rank runs its
    /// share of the probe and the gradients are summed before the norm.
    func logCredit(step: Int, policy: TextToImageModel, reference: TextToImageModel, store: ParameterStore) throws {
        guard let creditLog else { return }
        let T = loss.schedule.T, p = probe.count
        let cluster = Cluster.current, split = cluster.isParallel && p >= cluster.size
        let mine = split ? cluster.shard(p) : 0..<p
        var rows: [[(String, Double)]] = []
        for b in 0..<Self.creditBuckets {
            let low = b * T / Self.creditBuckets + 1, high = (b + 1) * T / Self.creditBuckets
            let t = [Int](repeating: (low + high) / 2, count: p)
            fill(probe, t: t, stream: 200 + UInt64(b), shard: mine)
            let eRef = batch.gathered(frozen.errors(of: reference, digest: baseDigest, batch: batch), pairs: p)
            let (prediction, eShard) = batch.errors(of: policy, forBackward: true)  // the same noised images
            let e = batch.gathered(eShard, pairs: p)
            let D = batch.differences(policy: e, reference: eRef)
            // The mean loss over the probe: SFT's is the winners' error, a loss of D alone flows
            // through D, the others through each image's error.
            let kind = loss.settings.kind
            let dldD: [Double], dLde: [Double]
            if kind.isPreference && !kind.dependsOnDifferenceOnly {
                (dLde, dldD) = creditOfErrors(policy: e, reference: eRef, t: t)
            } else {
                dldD = credit(D: D, t: t, pairs: probe).dldD
                dLde = kind.isPreference
                    ? dldD.map { $0 / Double(p) } + dldD.map { -$0 / Double(p) }
                    : [Double](repeating: 1 / Double(p), count: p) + [Double](repeating: 0, count: p)
            }
            store.zeroGrads()
            let shardLde = Array(dLde[mine]) + Array(dLde[(p + mine.lowerBound)..<(p + mine.upperBound)])
            batch.backward(policy, prediction: prediction, dLde: shardLde, scratch: scratch)
            if split { cluster.sum(store.grads.pointer, count: store.count) }
            let norm = gradientNorm(store, policy.workspace)
            store.zeroGrads()
            let density = (low...high).map(loss.drawProbability).reduce(0, +) * Double(T) / Double(high - low + 1)
            rows.append([("step", Double(step)), ("bucket", Double(b)), ("t_low", Double(low)), ("t_high", Double(high)),
                         ("density", density), ("mean_abs_dLdD", dldD.map(abs).reduce(0, +) / Double(p)), ("grad_norm", norm)])
        }
        try creditLog.append(rows: rows)
    }
}
