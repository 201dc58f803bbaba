import Foundation

/// The `annotators` stage: trains the `align` classifier (the other two annotators are
/// formulas) and writes into `folder` (the run's `annotators/`): `align.safetensors` (weights;
/// metadata: architecture, held-out accuracy per attribute, steps, batch, lr, seed, image side,
/// training seconds, the stage signature, the resolved config, version and commit) and
/// `metrics.jsonl`/`metrics.csv` (per step). A short stage (well under a minute): no
/// checkpoints; an interrupted run starts over.
///
/// Throws when any attribute's held-out accuracy is below `annotators.min_accuracy`: an
/// annotator that cannot read the prompts would label pairs at random.
public final class AnnotatorTrainer {
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

    /// Where the stage writes the classifier.
    public static func classifierPath(_ folder: String) -> String { folder + "/align.safetensors" }

    /// The classifier file, if one made with the same settings and accurate enough is there.
    public var cachedClassifier: String? {
        let path = Self.classifierPath(folder)
        guard StageCache.isReusable(path, signature: StageCache.signature(config, keys: StageCache.annotatorKeys)),
              let meta = try? SafeTensorsReader(contentsOf: path).metadata else { return nil }
        let accuracies = AlignClassifier.attributeNames.compactMap { meta["accuracy.\($0)"].flatMap(Double.init) }
        return accuracies.count == 4 && accuracies.allSatisfy({ $0 >= config.double("annotators.min_accuracy") }) ? path : nil
    }

    /// Trains and writes the classifier; returns its path.
    @discardableResult
    public func run() throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try config.writeResolved(to: folder)
        let settings = AlignTraining(config: config)
        let log = try MetricsLog(folder: folder, resumeAfterStep: nil)
        let logging = LoggingObserver(log: log, next: observer)
        let result = AlignClassifier.train(settings, observer: logging)
        if let error = logging.error { throw error }

        var meta: [String: String] = [
            "stage": "annotators",
            "stage_signature": StageCache.signature(config, keys: StageCache.annotatorKeys),
            "steps": String(settings.steps), "batch": String(settings.batch), "lr": String(settings.lr),
            "seed": String(settings.seed), "sample_size": String(settings.size),
            "held_out_images": String(settings.heldOutImages),
            "train_seconds": String(format: "%.2f", result.seconds),
            "final_loss": String(format: "%.6g", result.finalLoss),
            "config": config.rendered(), "dde_train_version": build.version, "git_commit": build.commit,
        ]
        for (name, a) in zip(AlignClassifier.attributeNames, result.heldOutAccuracy) { meta["accuracy.\(name)"] = String(a) }
        let path = Self.classifierPath(folder)
        try result.classifier.write(to: path, metadata: meta)
        let summary = zip(AlignClassifier.attributeNames, result.heldOutAccuracy)
            .map { String(format: "%@ %.2f%%", $0, 100 * $1) }.joined(separator: ", ")
        observer?.note(String(format: "annotators: align classifier trained in %.1f s (%d steps x %d images); held-out accuracy on %d clean renders: %@; %@",
                              result.seconds, settings.steps, settings.batch, settings.heldOutImages, summary, path))
        let minimum = config.double("annotators.min_accuracy")
        if let worst = zip(AlignClassifier.attributeNames, result.heldOutAccuracy).min(by: { $0.1 < $1.1 }), worst.1 < minimum {
            throw TrainingError(String(format: "annotators: the align classifier's held-out %@ accuracy is %.2f%%, below annotators.min_accuracy = %.2f%% (%@ was written for inspection); train longer (annotators.steps) or lower annotators.lr",
                                       worst.0, 100 * worst.1, 100 * minimum, path))
        }
        return path
    }
}

/// Appends every step's metrics to a `MetricsLog` and passes everything on; keeps the first
/// write error for the stage to throw after training (an observer cannot throw).
private final class LoggingObserver: StageObserver {
    let log: MetricsLog
    weak var next: StageObserver?
    var error: Error?

    init(log: MetricsLog, next: StageObserver?) {
        self.log = log
        self.next = next
    }

    func stageBegan(_ stage: String, total: Int, completed: Int) { next?.stageBegan(stage, total: total, completed: completed) }
    func stepDone(_ stage: String, step: Int, total: Int, metrics: [(String, Double)]) {
        if error == nil {
            do { try log.append(metrics) } catch { self.error = error }
        }
        next?.stepDone(stage, step: step, total: total, metrics: metrics)
    }
    func note(_ text: String) { next?.note(text) }
    func stageEnded(_ stage: String) { next?.stageEnded(stage) }
}
