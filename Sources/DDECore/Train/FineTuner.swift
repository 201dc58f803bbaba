import Foundation

/// The `train` stage: fine-tunes a copy of the base model on preference pairs with one of the
/// six losses (`PreferenceLoss`); the frozen reference is the base itself.
///
/// Per step: `batch` pairs drawn from the set, one t per pair (both images share it) and one
/// eps per pair (or one per image when `dpo.shared_noise = false`); the reference and the policy
/// each predict the noise of all 2P noised images; `e` is the per-image mean squared error;
/// `D = (e_θ(w) - e_ref(w)) - (e_θ(l) - e_ref(l))`; the loss's dL/dD flows into e_θ(w) and,
/// negated, into e_θ(l). SFT skips the reference and the losers. The DDE record is updated after
/// the step from the same D.
///
/// Writes into `folder`: `metrics.jsonl`/`.csv` (per step), `checkpoints/`, `record.csv` (the DDE
/// record at the end with update counts and C_t), `model.safetensors`, and the diagnostics of
/// `FineTuneDiagnostics` (`heldout.csv`, `record-history.csv`, `credit.csv`).
public final class FineTuner {
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

    public static func lossSettings(_ config: Config) throws -> PreferenceLoss.Settings {
        let T = config.int("timesteps")
        var s = PreferenceLoss.Settings(kind: PreferenceLoss.Kind(rawValue: config.string("loss"))!, beta: config.double("beta"),
                                        range: try TimestepRange.parse(config.string("t_range"), T: T))
        s.kappa = config.double("dde.kappa")
        s.correctionScale = config.string("loss") == "dde-single" ? 0 : config.double("dde.correction_scale")
        s.lambdaForm = NoiseSchedule.LambdaForm(rawValue: config.string("dde.lambda"))!
        s.recordDecay = config.double("dde.ema")
        s.recordBuckets = config.int("dde.record_buckets")
        s.recordBiasCorrection = config.bool("dde.ema_bias_correction")
        s.discGamma = config.double("disc.gamma")
        s.discSteps = config.int("disc.steps")
        s.discWeightMode = config.string("disc.mode") == "weight"
        return s
    }

    /// A fine-tune's signature: the keys of the `train` stage under `config` (resolved for its
    /// method, `Config.forMethod`) and the content of the base model and the pairs it trains on.
    public static func signature(_ config: Config, base: ContentDigest, pairs: ContentDigest) -> StageSignature {
        StageSignature(.train, config, inputs: [("base", base), ("pairs", pairs)])
    }

    /// Runs the stage from `base` (a model file) on `pairs`; returns the path of the tuned model.
    /// `heldout` (pairs of the validation prompts) feeds the held-out implicit accuracy and the
    /// credit probe (`FineTuneDiagnostics`); without it those logs are skipped.
    @discardableResult
    public func run(base: String, pairs: PreferencePairs, heldout: PreferencePairs? = nil) throws -> String {
        let config = try self.config.forMethod(self.config.string("loss"))
        let policy = try Checkpoint.loadModel(base).model
        let signature = Self.signature(config, base: policy.contentDigest, pairs: pairs.contentDigest)
        let frame = StageFrame("train \(config.string("loss"))", folder: StageFolder(folder, primary: "model.safetensors"),
                               signature: signature, resume: config.string("resume"), mayGrow: ["steps"])
        if try frame.isFinished(observer: observer) { return folder + "/model.safetensors" }
        let checkpoints = folder + "/checkpoints"
        for f in [folder, checkpoints] {
            try FileIO.createFolder(f)
            FileIO.removeStaleTemporaries(in: f)
        }
        try config.writeResolved(to: folder)
        let settings = try FineTuner.lossSettings(config)
        let kind = settings.kind
        let heldoutPairs = heldout?.pairs ?? []
        let needsReference = kind.isPreference || (!heldoutPairs.isEmpty && config.int("train.log_every") + config.int("train.credit_every") > 0)
        let reference = needsReference ? try Checkpoint.loadModel(base).model : nil
        reference?.store.freeze()
        let schedule = Pretrainer.schedule(config)
        let loss = PreferenceLoss(settings, schedule: schedule)
        let store = policy.store
        let optimizer = AdamW(store, beta1: config.double("adam_beta1"), beta2: config.double("adam_beta2"),
                              eps: config.double("adam_eps"), weightDecay: config.double("weight_decay"))
        let seed = UInt64(config.int("seed"))
        var orderRNG = RandomStream(seed: seed, stream: 4)
        var noiseRNG = RandomStream(seed: seed, stream: 5)
        let steps = config.int("steps"), batch = config.int("batch")
        let lrSchedule = LearningRateSchedule.constantWithWarmup(warmupSteps: config.int("warmup_steps"))
        let baseLR = config.double("lr"), clip = config.double("grad_clip")
        let shared = config.bool("dpo.shared_noise")
        let logEvery = config.int("train.log_every"), creditEvery = config.int("train.credit_every")
        var meta = Checkpoint.modelMetadata(policy, config: config, build: build, stage: "train")
        meta["loss"] = kind.rawValue
        meta["stage_signature"] = signature.text
        // Resume: weights, moments, the DDE record, streams and the step from the checkpoint of
        // this run (only `steps` may grow).
        var start = 0
        if let path = try Checkpoint.resumePath(config.string("resume"), checkpoints: checkpoints) {
            let (file, step) = try Checkpoint.openForResume(path, stage: "train", signature: signature, mayGrow: frame.mayGrow)
            try store.load(from: file, allowExtra: { ["adam.m", "adam.v", "record.entries", "record.updates"].contains($0) })
            try Checkpoint.restore(optimizer, store: store, from: file, step: step)
            if var record = loss.record {
                let entries: [Double] = try file.values("record.entries")
                let updates: [Int64] = try file.values("record.updates")
                guard entries.count == record.buckets, updates.count == record.buckets else {
                    throw TrainingError("\(path): the DDE record has \(entries.count) entries, this run \(record.buckets)")
                }
                record.entries = entries
                record.updates = updates.map { Int($0) }
                loss.restoreRecord(record)
            }
            orderRNG = try Checkpoint.stream("order", from: file)
            noiseRNG = try Checkpoint.stream("noise", from: file)
            start = step
            observer?.note("resuming the \(kind.rawValue) fine-tune from \(path) at step \(start)")
        }
        let log = try MetricsLog(folder: folder, resumeAfterStep: start > 0 ? start : nil)
        let diagnostics = try FineTuneDiagnostics(loss: loss, heldout: heldoutPairs, config: config, sampleSize: policy.config.sampleSize,
                                                  folder: folder, resumeAfterStep: start > 0 ? start : nil)
        func saveCheckpoint(_ step: Int) throws {
            let m = Checkpoint.stateMetadata(meta, step: step, optimizer: optimizer, streams: ["order": orderRNG, "noise": noiseRNG])
            var writer = try store.safeTensorsWriter(metadata: m, buffers: ["adam.m": optimizer.m, "adam.v": optimizer.v])
            if let record = loss.record {
                try writer.add("record.entries", shape: [record.buckets], record.entries)
                try writer.add("record.updates", shape: [record.buckets], record.updates.map { Int64($0) })
            }
            try Checkpoint.write(writer, folder: checkpoints, step: step, keep: config.int("keep_checkpoints"))
        }
        func logDiagnostics(_ step: Int) throws {
            guard let reference else { return }
            if logEvery > 0 && (step % logEvery == 0 || step == steps) {
                try diagnostics.logHeldout(step: step, policy: policy, reference: reference)
                try diagnostics.logRecord(step: step)
            }
            if creditEvery > 0 && (step % creditEvery == 0 || step == steps) {
                try diagnostics.logCredit(step: step, policy: policy, reference: reference, store: store)
            }
        }
        let hint = kind.isPreference ? "try a lower lr or beta" : "try a lower lr"
        let cluster = Cluster.current
        if batch < cluster.size {
            throw TrainingError("batch = \(batch) is smaller than the \(cluster.size) MPI ranks: every rank needs a pair; raise batch or use fewer ranks")
        }
        let pairBatch = PreferenceBatch(capacity: batch, sampleSize: policy.config.sampleSize)
        let dPred = FloatBuffer(count: 2 * batch * policy.imageSize)
        if start == 0 { try logDiagnostics(0) }
        observer?.stageBegan("train \(kind.rawValue)", total: steps, completed: start)
        for step in start..<steps {
            let t0 = Stopwatch.now()
            // Draw the batch: pairs, one t per pair, noise.
            let chosen = (0..<batch).map { _ in pairs.pairs[orderRNG.int(below: pairs.pairs.count)] }
            let t = (0..<batch).map { _ in loss.drawTimestep(&noiseRNG) }
            // Data parallel (MPI): each rank runs its shard of the pairs; the per-image errors are
            // gathered into the whole batch's, so the loss, the metrics and the record are the
            // whole batch's on every rank, and the gradients are summed over the ranks.
            let shard = cluster.shard(batch)
            pairBatch.fill(chosen, t: t, preference: kind.isPreference, sharedNoise: shared, schedule: schedule, rng: &noiseRNG,
                           shard: shard)
            // Reference errors (no gradient), then the policy's.
            let eRef = kind.isPreference ? pairBatch.gathered(pairBatch.errors(of: reference!, forBackward: false).e, pairs: batch) : []
            let (prediction, eThetaShard) = pairBatch.errors(of: policy, forBackward: true)
            let eTheta = pairBatch.gathered(eThetaShard, pairs: batch)
            var metrics: [(String, Double)] = [("step", Double(step + 1))]
            var D: [Double] = []
            var dLde: [Double]
            if kind.isPreference {
                D = pairBatch.differences(policy: eTheta, reference: eRef)
                let ev = loss.evaluate(D: D, t: t)
                let dLdD = Array(ev.dLdD[shard])
                dLde = dLdD + dLdD.map { -$0 }
                let p = Double(batch)
                metrics += [("loss", ev.loss), ("implicit_acc", Double(ev.z.filter { $0 > 0 }.count) / p),
                            ("z", ev.z.reduce(0, +) / p), ("D", D.reduce(0, +) / p),
                            ("e_policy_w", eTheta[..<batch].reduce(0, +) / p), ("e_policy_l", eTheta[batch...].reduce(0, +) / p),
                            ("e_ref_w", eRef[..<batch].reduce(0, +) / p), ("e_ref_l", eRef[batch...].reduce(0, +) / p)]
                if kind.usesRecord { metrics.append(("C", ev.correction.reduce(0, +) / p)) }
                try StepCheck.loss(ev.loss, stage: "train \(kind.rawValue)", step: step + 1, hint: hint)
            } else {
                dLde = [Double](repeating: 1 / Double(batch), count: shard.count)
                metrics.append(("loss", eTheta.reduce(0, +) / Double(batch)))
            }
            store.zeroGrads()
            pairBatch.backward(policy, prediction: prediction, dLde: dLde, scratch: dPred)
            cluster.sum(store.grads.pointer, count: store.count)
            try StepCheck.gradients(store, stage: "train \(kind.rawValue)", step: step + 1, hint: hint)
            let norm = clip > 0 ? Double(clipGradNorm(store, maxNorm: clip)) : gradientNorm(store)
            let lr = lrSchedule.learningRate(base: baseLR, step: step)
            optimizer.update(store, lr: lr)
            try StepCheck.weights(store, stage: "train \(kind.rawValue)", step: step + 1, hint: hint)
            if kind.isPreference { loss.updateRecord(D: D, t: t) }
            metrics += [("grad_norm", norm), ("lr", lr), ("t_mean", Double(t.reduce(0, +)) / Double(batch)),
                        ("seconds", Stopwatch.now() - t0)]
            try log.append(metrics)
            try logDiagnostics(step + 1)
            observer?.stepDone("train \(kind.rawValue)", step: step + 1, total: steps, metrics: metrics.filter {
                ["step", "loss", "implicit_acc", "grad_norm"].contains($0.0)
            })
            let stopping = Interruption.isRequestedByAnyRank
            if (step + 1) % config.int("train.checkpoint_every") == 0 || step + 1 == steps || stopping {
                try saveCheckpoint(step + 1)
            }
            if stopping && step + 1 < steps {
                throw Interrupted(stage: "train \(kind.rawValue)", step: step + 1, checkpoint: checkpoints + "/" + Checkpoint.fileName(step: step + 1))
            }
        }
        if let record = loss.record {
            let suffix = record.suffixSums()
            var csv = "bucket,first_step,value,updates,C\n"
            for b in 0..<record.buckets {
                let first = b * record.T / record.buckets + 1
                csv += "\(b),\(first),\(MetricsLog.format(record.value(bucket: b))),\(record.updates[b]),\(MetricsLog.format(suffix[first]))\n"
            }
            try FileIO.writeAtomically(Array(csv.utf8), to: folder + "/record.csv")
        }
        let path = folder + "/model.safetensors"
        try Checkpoint.save(policy, to: path, metadata: meta)
        try frame.finish()
        observer?.stageEnded("train \(kind.rawValue)")
        return path
    }
}
