/// The main job's evaluation: every model on the same prompts and noise (`ModelEvaluation`),
/// the base first; per model its scores (`scores.csv` in its stage folder, and the run's
/// `ScoreTable`), per model and annotator a report row (a fine-tune's paired against the base,
/// image by image), the distribution metrics against clean renders, and the images the
/// report's grids show. Scored by every annotator that can read the prompts
/// (`AnnotatorSet.able(toScore:)`); the distribution metrics, which render the prompts, only on
/// shapes-world prompts.
final class MainJobEvaluation {
    let annotators: [any Annotator]
    let prompts: [Caption]
    let settings: RunSettings
    let observer: StageObserver
    let baseEval: ModelEvaluation
    /// The align classifier and the clean renders' moments the distribution metrics compare
    /// against; nil when a prompt is outside the shapes world.
    let reference: (classifier: AlignClassifier, moments: FrechetDistance.Moments, prompts: [ShapesPrompt])?
    private(set) var rows: [ReportRow] = []
    private(set) var distribution: [(method: String, trainAnnotator: String, seed: Int?, report: DistributionReport)] = []
    private(set) var samples = ReportSamples()
    private(set) var scores: ScoreTable

    /// Evaluates the base model; its scores go to `baseFolder/scores.csv`.
    init(base: TextToImageModel, baseFolder: String, annotators set: AnnotatorSet, prompts: [Caption], settings: RunSettings,
         observer: StageObserver) throws {
        annotators = set.able(toScore: prompts)
        self.prompts = prompts
        self.settings = settings
        self.observer = observer
        observer.note("evaluating the base model on \(prompts.count) \(settings.eval.prompts.phrase) with \(annotators.map(\.name).joined(separator: ", "))")
        if let outside = Caption.firstOutsideShapesWorld(prompts) {
            observer.note("\(outside.place): '\(outside.text.excerpt)' is not a shapes-world caption: align, aesthetic, pick "
                          + "and the distribution metrics are left out of the evaluation")
        }
        let shapes = prompts.compactMap { ShapesPrompt(text: $0.text) }
        reference = shapes.count == prompts.count
            ? (set.align.classifier, DistributionMetrics.reference(prompts: shapes, size: base.sampleSize, classifier: set.align.classifier,
                                                                   seed: settings.eval.seed), shapes)
            : nil
        baseEval = try ModelEvaluation.run(base, annotators: annotators, prompts: prompts, settings: settings)
        scores = ScoreTable(prompts: prompts.count, perPrompt: baseEval.perPrompt, annotators: baseEval.annotators, base: baseEval.scores)
        if let d = try distributionReport(baseEval, size: base.sampleSize) { distribution = [("base", "", nil, d)] }
        samples.add("base", baseEval)
        try FileIO.createFolder(baseFolder)
        try FileIO.writeAtomically(Array(scores.csv(baseEval.scores).utf8), to: baseFolder + "/scores.csv")
        for name in baseEval.annotators {
            let s = baseEval.summary(name, resamples: settings.eval.bootstrap, seed: settings.eval.seed)
            rows.append(ReportRow(method: "base", trainAnnotator: "", evalAnnotator: name, seed: nil, setting: "", mean: s.mean,
                                  low: s.low, high: s.high, comparison: nil))
        }
    }

    /// Evaluates the fine-tune of `run`; its scores go to `folder/scores.csv`.
    func add(_ run: Comparison.Run, model: TextToImageModel, folder: String) throws {
        observer.note("eval-\(run.name): \(prompts.count) \(settings.eval.prompts.phrase) x \(settings.eval.imagesPerPrompt) images")
        let e = try ModelEvaluation.run(model, annotators: annotators, prompts: prompts, settings: settings)
        if let d = try distributionReport(e, size: model.sampleSize) { distribution.append((run.methodLabel, run.annotator, run.seed, d)) }
        samples.add(run.name, e)
        scores.add(ScoreTable.Model(method: run.method, trainAnnotator: run.annotator, seed: run.seed, setting: run.setting, scores: e.scores))
        try FileIO.writeAtomically(Array(scores.csv(e.scores).utf8), to: folder + "/scores.csv")
        for name in e.annotators {
            let cmp = PairedComparison(tuned: e.scores[name]!, base: baseEval.scores[name]!, perPrompt: e.perPrompt,
                                       resamples: settings.eval.bootstrap, seed: settings.eval.seed)
            rows.append(ReportRow(method: run.method, trainAnnotator: run.annotator, evalAnnotator: name, seed: run.seed,
                                  setting: run.setting, mean: cmp.mean, low: cmp.meanInterval.low, high: cmp.meanInterval.high, comparison: cmp))
        }
    }

    private func distributionReport(_ e: ModelEvaluation, size: Int) throws -> DistributionReport? {
        guard let reference else { return nil }
        let prompts = reference.prompts.flatMap { [ShapesPrompt](repeating: $0, count: e.perPrompt) }
        return try DistributionMetrics.report(images: e.images.flatMap { $0 }, prompts: prompts, size: size,
                                              classifier: reference.classifier, reference: reference.moments)
    }
}
