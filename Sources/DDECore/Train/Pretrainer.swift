import Foundation

/// The `pretrain` stage: the base text-to-image model, trained with the plain epsilon loss
/// `mean over images of |model(x_t, t, c) - eps|^2 / (3 S S)`, `t ~ U{1..T}`, prompts dropped to
/// "" at `pretrain.prompt_dropout` so classifier-free guidance has an unconditional model.
///
/// Writes into `folder`: `checkpoints/step-N.safetensors` (weights, AdamW moments, EMA, random
/// streams; the last `keep_checkpoints` kept), `model.safetensors` (the final weights, EMA when
/// on), `metrics.jsonl`/`metrics.csv` (per step), `validation.csv`/`.jsonl`, `samples/step-N.png`,
/// and the same as TensorBoard events (`TensorBoardLog`).
public final class Pretrainer {
    public let settings: RunSettings
    /// The context its models compute in (threads, convolution algorithm, profiler, scratch).
    public let workspace: Workspace
    public let folder: String
    public let build: BuildInfo
    weak var observer: StageObserver?

    public init(settings: RunSettings, workspace: Workspace, folder: String, build: BuildInfo, observer: StageObserver) {
        self.settings = settings
        self.workspace = workspace
        self.folder = folder
        self.build = build
        self.observer = observer
    }

    /// The stage's signature: its keys and, for `data = folder:PATH`, the folder's content.
    public static func signature(_ settings: RunSettings) throws -> StageSignature {
        StageSignature(.pretrain, settings.config, inputs: try settings.data.contentDigest().map { [("data", $0)] } ?? [])
    }

    /// Runs (or resumes) the stage; returns the path of the final model. A finished model made
    /// with the same settings is reused; one made with other settings is never overwritten.
    @discardableResult
    public func run() throws -> String {
        let pretrain = settings.pretrain
        let frame = StageFrame("pretrain", folder: StageFolder(folder, primary: "model.safetensors"),
                               signature: try Self.signature(settings), resume: settings.resume,
                               mayGrow: ["pretrain.steps"])
        let run = TrainingRun(frame, checkpointStage: "pretrain", checkpointEvery: pretrain.checkpointEvery,
                              keep: settings.keepCheckpoints, observer: observer)
        let modelPath = folder + "/model.safetensors"
        if try run.isFinished() { return modelPath }

        let images = try settings.data.images(sampleSize: settings.model.unet.sampleSize)
        let model = settings.model.makeModel(captions: images.vocabularyCaptions, workspace: workspace)
        var initRNG = RandomStream(seed: settings.seed, stream: 1)
        model.initialize(&initRNG)
        let step = try PretrainStep(model: model, images: images, settings: settings)
        try run.resume(step, describing: "pretraining", steps: pretrain.steps, stepsKey: "pretrain.steps")
        // The folder is made only now: a refused resume leaves nothing behind.
        try run.prepare(config: settings.config, folders: ["samples"])
        if let skipped = (images as? FolderImages)?.skipped, !skipped.isEmpty {
            // data.skip_bad: counted and listed, never dropped silently.
            try FileIO.writeAtomically(Array((skipped.joined(separator: "\n") + "\n").utf8), to: folder + "/skipped.txt")
            observer?.note("pretrain: data.skip_bad skipped \(skipped.count) bad caption lines or images (listed in \(folder)/skipped.txt); first: \(skipped[0].excerpt)")
        }
        let log = try run.log()
        // Cut back on resume like the metrics, so a step validated before a kill is not listed twice.
        let validationLog = try run.log("validation")
        let validation = images.validationSet(count: pretrain.valImages, seed: settings.seed)
        var metadata = Checkpoint.modelMetadata(model, config: settings.config, build: build, stage: "pretrain")
        metadata["stage_signature"] = frame.signature.text

        let steps = pretrain.steps, started = Stopwatch.now()
        try run.loop(step, steps: steps, name: "pretrain", log: log, metadata: metadata) { done in
            let last = done == steps
            if done % pretrain.valEvery == 0 || last {
                let v = validationLoss(model, ema: step.ema, validation, batch: step.micro)
                try validationLog.append([("step", Double(done)), ("val_loss", v)])
                observer?.note(String(format: "pretrain step %d: validation loss %.5f", done, v))
            }
            if (pretrain.sampleEvery > 0 && done % pretrain.sampleEvery == 0) || last {
                let path = folder + String(format: "/samples/step-%07d.png", done)
                try withWeights(model, step.ema) {
                    let grid = sampleGrid(model, prompts: images.samplePrompts)
                    try PNGFile.write(grid, to: path)
                    try run.events?.image(grid, tag: "samples", step: done)
                }
                observer?.note("pretrain step \(done): samples \(path)")
            }
        }
        var meta = metadata
        meta["step"] = String(steps)
        try withWeights(model, step.ema) { try Checkpoint.save(model, to: modelPath, metadata: meta) }
        try run.finish()
        observer?.note(String(format: "pretrain: %d steps in %.1f s; model %@", steps - run.start, Stopwatch.now() - started, modelPath))
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
    func validationLoss(_ model: TextToImageModel, ema: EMA?, _ set: (images: [Float], prompts: [String]), batch: Int) -> Double {
        let schedule = settings.schedule, seed = settings.seed
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
                PerImageMSE.forward(pred: pred, target: eps.pointer, e.pointer, n: m, c: 3, h: model.sampleSize,
                                    w: model.sampleSize, model.workspace)
                for i in 0..<m { total += Double(e.pointer[i]) }
                i0 += m
            }
            result = total / Double(count)
        }
        return result
    }

    /// A grid: rows the prompts, columns 4 fixed seeds; DDIM with the `sample.*` keys.
    func sampleGrid(_ model: TextToImageModel, prompts: [String]) -> RGBImage {
        let images = Sampling.generate(model, prompts: prompts, perPrompt: 4, sampler: settings.sampler, schedule: settings.schedule,
                                       seed: settings.seed)
        return ImageGrid.make(images.images.map { $0.map(\.image) }, scale: 4)
    }
}
