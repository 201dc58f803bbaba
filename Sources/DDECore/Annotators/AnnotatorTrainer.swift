import Foundation

/// The `annotators` stage: trains the `align` classifier (the other two annotators are
/// formulas) and writes into `folder` (the run's `annotators/`): `align.safetensors` (weights;
/// metadata: architecture, held-out accuracy per attribute, steps, batch, lr, seed, image side,
/// training seconds, the stage signature, the resolved config, version and commit) and
/// `metrics.jsonl`/`metrics.csv` (per step), and `checkpoints/step-N.safetensors` every
/// `annotators.checkpoint_every` steps (weights, AdamW moments, the data stream, the recent
/// losses; the last `keep_checkpoints` kept), from which `resume=auto` continues bit-identically.
///
/// Throws when any attribute's held-out accuracy is below `annotators.min_accuracy`: an
/// annotator that cannot read the prompts would label pairs at random.
public final class AnnotatorTrainer {
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

    /// Where the stage writes the classifier.
    public static func classifierPath(_ folder: String) -> String { folder + "/align.safetensors" }

    /// The stage's frame: its folder (the classifier carries the signature), signature and loop.
    var trainingRun: TrainingRun {
        let frame = StageFrame("annotators", folder: StageFolder(folder, primary: "align.safetensors"),
                               signature: StageSignature(.annotators, settings.config), resume: settings.resume)
        return TrainingRun(frame, checkpointStage: "annotators", checkpointEvery: settings.annotators.checkpointEvery,
                           keep: settings.keepCheckpoints, observer: observer)
    }

    /// The classifier file, if the stage finished here with the same settings, its files are
    /// whole and it is accurate enough; throws when the folder holds one made with other settings.
    public func cachedClassifier() throws -> String? {
        try trainingRun.isFinished() ? accurateClassifier() : nil
    }

    /// The finished classifier, if its held-out accuracy meets `annotators.min_accuracy` (a key
    /// that changes no weights, so a finished stage is held to the bar of the run that reads it).
    private func accurateClassifier() -> String? {
        let path = Self.classifierPath(folder)
        guard let meta = try? SafeTensorsReader(contentsOf: path).metadata else { return nil }
        let accuracies = AlignClassifier.attributeNames.compactMap { meta["accuracy.\($0)"].flatMap(Double.init) }
        return accuracies.count == 4 && accuracies.allSatisfy({ $0 >= settings.annotators.minAccuracy }) ? path : nil
    }

    /// Trains (or, with `resume`, continues) and writes the classifier; returns its path. A
    /// classifier finished here with the same settings is reused (trained again, and refused,
    /// when below the accuracy bar).
    @discardableResult
    public func run() throws -> String {
        let run = trainingRun
        if try run.isFinished() {
            if let path = accurateClassifier() { return path }
            observer?.note("annotators: the finished classifier is below annotators.min_accuracy = \(settings.annotators.minAccuracy); trained again")
        }
        let training = settings.annotators.training
        let stageMeta = ["stage": "annotators", "stage_signature": run.frame.signature.text, "config": settings.config.rendered(),
                         "dde_train_version": build.version, "git_commit": build.commit]
        let step = AlignTrainingStep(training, workspace: workspace)
        try run.resume(step, describing: "the align classifier's training", steps: training.steps, stepsKey: "annotators.steps")
        // The folder is made only now: a refused resume leaves nothing behind.
        try run.prepare(config: settings.config)
        let started = Stopwatch.now()
        try run.loop(step, steps: training.steps, name: "annotators", log: try run.log(), metadata: stageMeta)
        let result = step.result(seconds: Stopwatch.now() - started)
        observer?.stageEnded("annotators")

        var meta: [String: String] = [
            "steps": String(training.steps), "batch": String(training.batch), "lr": String(training.lr),
            "seed": String(training.seed), "sample_size": String(training.size),
            "held_out_images": String(training.heldOutImages),
            "train_seconds": String(format: "%.2f", result.seconds),
            "final_loss": String(format: "%.6g", result.finalLoss),
        ].merging(stageMeta) { a, _ in a }
        for (name, a) in zip(AlignClassifier.attributeNames, result.heldOutAccuracy) { meta["accuracy.\(name)"] = String(a) }
        let path = Self.classifierPath(folder)
        try result.classifier.write(to: path, metadata: meta)
        let summary = zip(AlignClassifier.attributeNames, result.heldOutAccuracy)
            .map { String(format: "%@ %.2f%%", $0, 100 * $1) }.joined(separator: ", ")
        observer?.note(String(format: "annotators: align classifier trained in %.1f s (%d steps x %d images); held-out accuracy on %d clean renders: %@; %@",
                              result.seconds, training.steps, training.batch, training.heldOutImages, summary, path))
        let minimum = settings.annotators.minAccuracy
        if let worst = zip(AlignClassifier.attributeNames, result.heldOutAccuracy).min(by: { $0.1 < $1.1 }), worst.1 < minimum {
            throw TrainingError(String(format: "annotators: the align classifier's held-out %@ accuracy is %.2f%%, below annotators.min_accuracy = %.2f%% (%@ was written for inspection); train longer (annotators.steps) or lower annotators.lr",
                                       worst.0, 100 * worst.1, 100 * minimum, path))
        }
        try run.finish()
        return path
    }
}
