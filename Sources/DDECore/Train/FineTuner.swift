// Train: the two stages that train the diffusion model. `Pretrainer` (`pretrain`) runs
// `PretrainStep`, the plain epsilon loss on `TrainingImages`; `FineTuner` (`train`) runs
// `FineTuneStep`, one of the six `PreferenceLoss`es on `PreferencePairs` with the base as frozen
// reference, helped by `PreferenceBatch` and `FineTuneDiagnostics` (held-out accuracy, record
// history, credit profile). Both run in `TrainingRun` (Stages) and split each batch over MPI ranks
// (Cluster); they build on Settings, Data, Pairs and the numeric core.

import Foundation

/// The `train` stage: fine-tunes a copy of the base model on preference pairs with one of the
/// six losses (`PreferenceLoss`); the frozen reference is the base itself. The step is
/// `FineTuneStep`; the frame (reuse, resume, checkpoints, interrupts) is `TrainingRun`.
///
/// Writes into `folder`: `metrics.jsonl`/`.csv` (per step), `checkpoints/`, `record.csv` (the DDE
/// record at the end with update counts and C_t), `model.safetensors`, and the diagnostics of
/// `FineTuneDiagnostics` (`heldout.csv`, `heldout-by-t.csv`, `record-history.csv`, `credit.csv`).
public final class FineTuner {
    public let settings: RunSettings
    /// The context its models compute in (threads, convolution algorithm, profiler, scratch).
    public let workspace: Workspace
    public let folder: String
    public let build: BuildInfo
    weak var observer: StageObserver?
    /// The frozen reference's errors by content, shared with the other fine-tunes of a main job
    /// (`FrozenErrors`); its own by default.
    let frozen: FrozenErrors

    public init(settings: RunSettings, workspace: Workspace, folder: String, build: BuildInfo, observer: StageObserver,
                frozen: FrozenErrors = FrozenErrors()) {
        self.settings = settings
        self.frozen = frozen
        self.workspace = workspace
        self.folder = folder
        self.build = build
        self.observer = observer
    }

    /// A fine-tune's signature: the keys of the `train` stage under `settings` (resolved for its
    /// method, `RunSettings.forMethod`) and the content of the base model and the pairs it trains on.
    public static func signature(_ settings: RunSettings, base: ContentDigest, pairs: ContentDigest) -> StageSignature {
        StageSignature(.train, settings.config, loss: settings.fineTune.loss.kind, inputs: [("base", base), ("pairs", pairs)])
    }

    /// Runs the stage from `base` (a model file) on `pairs`; returns the path of the tuned model.
    /// `heldout` (pairs of the validation prompts) feeds the held-out implicit accuracy and the
    /// credit probe (`FineTuneDiagnostics`); without it those logs are skipped.
    @discardableResult
    public func run(base: String, pairs: PreferencePairs, heldout: PreferencePairs? = nil) throws -> String {
        let settings = try self.settings.forMethod(self.settings.fineTune.loss.kind.rawValue)
        let fineTune = settings.fineTune, kind = fineTune.loss.kind
        if kind.needsSoftLabel && (!pairs.hasScores || heldout.map({ !$0.hasScores }) == true) {
            throw TrainingError("loss = smpo needs score_0 and score_1 on every pair (its soft label comes from them); "
                                + "these pairs have rows without them: add the two scores, or choose another loss")
        }
        let policy = try Checkpoint.loadModel(base, workspace: workspace).model
        let baseDigest = policy.contentDigest
        if let lora = settings.lora.adapters {
            // LoRA: adapters on the policy (A from the seed's stream 6, B zero), the base frozen.
            var rng = RandomStream(seed: settings.seed, stream: 6)
            // The config's network was checked when the config loaded; a base of another shape
            // (base=diffusers:DIR) is checked here, a usage error too (exit 64).
            do { try policy.attachLoRA(lora, rng: &rng) } catch let error as LoRATargetError { throw ConfigError(at: nil, "\(error)") }
        }
        let signature = Self.signature(settings, base: baseDigest, pairs: pairs.contentDigest)
        let frame = StageFrame("train \(kind.rawValue)", folder: StageFolder(folder, primary: "model.safetensors"),
                               signature: signature, resume: settings.resume, mayGrow: ["steps"])
        let run = TrainingRun(frame, checkpointStage: "train", checkpointEvery: fineTune.checkpointEvery,
                              keep: settings.keepCheckpoints, observer: observer)
        let path = folder + "/model.safetensors"
        if try run.isFinished() { return path }
        let heldoutPairs = heldout?.pairs ?? []
        let logEvery = fineTune.logEvery, creditEvery = fineTune.creditEvery
        let needsReference = kind.needsReference || (!heldoutPairs.isEmpty && logEvery + creditEvery > 0)
        // The reference is the frozen base: a copy of it, or with LoRA the policy with its adapters off.
        let reference = !needsReference ? nil : policy.lora != nil ? policy : try Checkpoint.loadModel(base, workspace: workspace).model
        if reference !== policy { reference?.store.freeze() }
        let loss = PreferenceLoss(fineTune.loss, schedule: settings.schedule)
        let step = try FineTuneStep(policy: policy, reference: kind.needsReference ? reference : nil, loss: loss, pairs: pairs,
                                    settings: settings, frozen: frozen)
        var meta = Checkpoint.modelMetadata(policy, config: settings.config, build: build, stage: "train")
        meta["loss"] = kind.rawValue
        if policy.lora != nil { meta.merge(Checkpoint.loraMetadata(policy, base: base, baseDigest: baseDigest, in: folder)) { $1 } }
        meta["stage_signature"] = signature.text
        // Resume: weights, moments, the DDE record, streams and the step from the checkpoint of
        // this run (only `steps` may grow).
        let start = try run.resume(step, describing: "the \(kind.rawValue) fine-tune", steps: fineTune.steps, stepsKey: "steps")
        // The folder is made only now: a refused resume leaves nothing behind.
        try run.prepare(config: settings.config)
        let log = try run.log()
        let diagnostics = try FineTuneDiagnostics(loss: loss, heldout: heldoutPairs, settings: fineTune, seed: settings.seed,
                                                  sampleSize: policy.sampleSize, run: run, frozen: frozen, baseDigest: baseDigest)
        let steps = fineTune.steps
        func logDiagnostics(_ done: Int) throws {
            guard let reference else { return }
            if logEvery > 0 && (done % logEvery == 0 || done == steps) {
                try diagnostics.logHeldout(step: done, policy: policy, reference: reference)
                try diagnostics.logRecord(step: done)
            }
            if creditEvery > 0 && (done % creditEvery == 0 || done == steps) {
                try diagnostics.logCredit(step: done, policy: policy, reference: reference, store: policy.trainableStore)
                try diagnostics.logHeldoutByT(step: done, policy: policy, reference: reference)
            }
        }
        if start == 0 { try logDiagnostics(0) }
        try run.loop(step, steps: steps, name: "train \(kind.rawValue)", log: log, metadata: meta,
                     shown: ["step", "loss", "implicit_acc", "grad_norm"], after: logDiagnostics)
        if let record = loss.record {
            let suffix = record.suffixSums()
            var csv = "bucket,first_step,value,updates,C\n"
            for b in 0..<record.buckets {
                let first = b * record.T / record.buckets + 1
                csv += "\(b),\(first),\(MetricsLog.format(record.value(bucket: b))),\(record.updates[b]),\(MetricsLog.format(suffix[first]))\n"
            }
            try FileIO.writeAtomically(Array(csv.utf8), to: folder + "/record.csv")
        }
        try Checkpoint.save(policy, to: path, metadata: meta)
        try run.finish()
        observer?.stageEnded("train \(kind.rawValue)")
        return path
    }
}
